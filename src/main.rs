//! The `ctxls` binary: parses the command line, sets up logging to stderr and runs a
//! subcommand. Everything else lives in the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
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
