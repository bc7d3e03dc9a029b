//! The `ctxls` binary: parses the command line, sets up logging to stderr and runs a
//! subcommand. Everything else lives in the library.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc for Rust allocations; tree-sitter's C allocations are routed to it too
/// (`ctxls::lang::use_mimalloc`): parsing allocates heavily and the system allocator
/// contends when both cores parse. With the `system-alloc` feature (heap profiling) the
/// system allocator serves both.
#[cfg(not(feature = "system-alloc"))]
#[global_allocator]
static GLOBAL: ctxls::lang::Allocator = ctxls::lang::Allocator;

fn main() -> ExitCode {
    no_huge_pages();
    // Before any tree-sitter allocation.
    ctxls::lang::use_mimalloc();
    ctxls::lang::purge_freed_memory_sooner();
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

/// Transparent huge pages off for the process. mimalloc asks for them on its arenas (built
/// without that request: the `no_thp` feature), and so does a system whose THP mode is
/// `always`; a 2 MiB page stays resident whole while any 4 KiB of it is in use, and cannot
/// be purged in part: with them the server held 190 MiB of huge pages, 110 MiB more
/// resident memory after the benchmark's requests (1.17M-line corpus: 362 against 250 MiB).
#[cfg(target_os = "linux")]
fn no_huge_pages() {
    // SAFETY: PR_SET_THP_DISABLE takes integer arguments only and changes a flag of this
    // process's memory map; a kernel without it answers EINVAL, which changes nothing.
    unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
}

#[cfg(not(target_os = "linux"))]
fn no_huge_pages() {}
