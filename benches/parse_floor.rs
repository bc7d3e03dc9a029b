//! The floor under `ctxls index`: only reading and parsing every indexed file of a tree
//! with tree-sitter on all cores, biggest files first, nothing extracted or stored.
//! Usage: `cargo bench --bench parse_floor -- DIR`.

use std::time::Instant;

use rayon::prelude::*;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    ctxls::lang::use_mimalloc();
    let Some(root) = std::env::args().skip(1).find(|a| !a.starts_with('-')) else {
        eprintln!("usage: cargo bench --bench parse_floor -- DIR");
        return;
    };
    let config = ctxls::config::IndexConfig::default();
    let mut runs = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        let mut files = ctxls::io::vfs::walk(std::path::Path::new(&root), &config).files;
        files.sort_by_key(|f| std::cmp::Reverse(f.size));
        let nodes: usize = files
            .par_iter()
            .map(|file| match ctxls::io::vfs::read_source(&file.abs_path, &config) {
                Ok((_, text)) => ctxls::lang::parse(file.lang, &text, None).root_node().descendant_count(),
                Err(_) => 0,
            })
            .sum();
        runs.push(started.elapsed().as_secs_f64());
        assert!(nodes > 0);
    }
    runs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!("{:.3}", runs[1]);
}
