//! The language server: LSP over stdio with tower-lsp-server. `server` implements the
//! protocol with one-line delegations to `handlers`; `state` holds documents and indexes
//! behind a lock that is never held across an `.await`; `to_proto`/`from_proto` convert
//! positions and types at the edge.

mod from_proto;
mod handlers;
mod indexing;
mod server;
mod state;
mod to_proto;
mod transport;

use std::path::PathBuf;
use std::process::ExitCode;

use tower_lsp_server::{LspService, Server};

pub use server::Backend;

/// Serves LSP on stdin/stdout until the client sends `exit` or closes stdin.
pub fn run_stdio(cache_dir: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        // Frames pass through a filter that drops malformed ones (see `transport`).
        let (filtered_reader, filtered_writer) = tokio::io::duplex(1 << 20);
        tokio::spawn(transport::filter_frames(tokio::io::stdin(), filtered_writer));
        let stdout = tokio::io::stdout();
        let (service, socket) = LspService::new(|client| Backend::new(client, cache_dir));
        Server::new(filtered_reader, stdout, socket).serve(service).await;
    });
    // Background indexing threads must not keep the process alive after `exit`.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    Ok(ExitCode::SUCCESS)
}
