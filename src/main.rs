//! The `ctxls` binary: parses the command line, sets up logging to stderr and runs a
//! subcommand. Everything else lives in the library.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc for Rust allocations; tree-sitter's C allocations are routed to it too
/// (`ctxls::lang::use_mimalloc`): parsing allocates heavily and the system allocator
/// contends when both cores parse.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Before any tree-sitter allocation.
    ctxls::lang::use_mimalloc();
    let cli = ctxls::cli::Cli::parse();
    ctxls::cli::init_logging(&cli);
    match ctxls::cli::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("ctxls: {err:#}");
            ExitCode::FAILURE
        }
    }
}
