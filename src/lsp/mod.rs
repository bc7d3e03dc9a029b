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
mod panics;
mod server;
mod state;
mod status;
mod to_proto;
mod transport;

use std::path::PathBuf;
use std::process::ExitCode;

use tower_lsp_server::{LspService, Server};

pub use server::Backend;

/// Messages handled at once (waiting requests included).
const MAX_CONCURRENT_MESSAGES: usize = 256;

/// Serves LSP on stdin/stdout until the client sends `exit` or closes stdin.
pub fn run_stdio(cache_dir: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        // Frames pass through a filter that drops malformed ones (see `transport`).
        let (filtered_reader, filtered_writer) = tokio::io::duplex(1 << 20);
        tokio::spawn(transport::filter_frames(tokio::io::stdin(), filtered_writer));
        let stdout = tokio::io::stdout();
        let (service, socket) = LspService::build(|client| Backend::new(client, cache_dir))
            .custom_method("textDocument/inlineCompletion", Backend::inline_completion)
            .finish();
        // Requests that wait on a model hold a slot each; edits must never queue behind
        // them (tower-lsp-server's default is 4).
        Server::new(filtered_reader, stdout, socket)
            .concurrency_level(MAX_CONCURRENT_MESSAGES)
            .serve(panics::CatchPanics(service))
            .await;
    });
    // Background indexing threads must not keep the process alive after `exit`.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    Ok(ExitCode::SUCCESS)
}
