//! The language server: LSP over stdio with tower-lsp-server. `server` implements the
//! protocol with one-line delegations to `handlers`; `state` holds documents and indexes
//! behind a lock that is never held across an `.await`; `to_proto`/`from_proto` convert
//! positions and types at the edge.

mod actions;
mod assist;
mod context;
mod diagnostics;
mod from_proto;
mod handlers;
mod hover;
mod indexing;
mod next_edit;
mod panics;
mod server;
mod state;
mod status;
mod to_proto;
mod transport;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use tower_lsp_server::{LspService, Server};

pub use server::Backend;

/// Messages handled at once (waiting requests included).
const MAX_CONCURRENT_MESSAGES: usize = 256;

/// After `exit` or the end of stdin, how long the serving loop may take to finish
/// writing before it is dropped (it never finishes while a request to the client waits
/// for an answer that will not come).
const END_GRACE: std::time::Duration = std::time::Duration::from_millis(200);

/// Serves LSP on stdin/stdout until the client sends `exit` or closes stdin. The exit
/// status is 0 when `shutdown` came first, else 1 (as LSP asks).
pub fn run_stdio(cache_dir: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let lifecycle = Arc::new(transport::Lifecycle::default());
    runtime.block_on(async {
        // Frames pass through a filter that answers or drops malformed ones (see
        // `transport`); its answers reach stdout through the server's own writer.
        let (filtered_reader, filtered_writer) = tokio::io::duplex(1 << 20);
        tokio::spawn(transport::filter_frames(tokio::io::stdin(), filtered_writer, lifecycle.clone()));
        let stdout = tokio::io::stdout();
        let (service, socket) = LspService::build(|client| Backend::new(client, cache_dir))
            .custom_method("textDocument/inlineCompletion", Backend::inline_completion)
            .custom_method("ctxls/nextEdit", Backend::next_edit)
            .custom_method("textDocument/copilotInlineEdit", Backend::copilot_inline_edit)
            .finish();
        let service = transport::Guard { inner: panics::CatchPanics(service), lifecycle: lifecycle.clone() };
        // Requests that wait on a model hold a slot each; edits must never queue behind
        // them (tower-lsp-server's default is 4).
        let serve = Server::new(filtered_reader, stdout, socket).concurrency_level(MAX_CONCURRENT_MESSAGES).serve(service);
        tokio::pin!(serve);
        tokio::select! {
            () = &mut serve => {}
            () = lifecycle.ended() => {
                let _ = tokio::time::timeout(END_GRACE, &mut serve).await;
            }
        }
    });
    // Background indexing threads must not keep the process alive after `exit`.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    Ok(if lifecycle.shutdown_requested() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
