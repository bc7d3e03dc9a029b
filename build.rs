//! Builds `src/lang/flatten.c` (see there) against the headers of the tree-sitter crate
//! this package links: its build script exports their directory (`links = "tree-sitter"`).
//! Only with the `flatten-c` feature (on by default).

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=src/lang/flatten.c");
    // Without the `flatten-c` feature, `lang::flat` walks a TreeCursor instead.
    if std::env::var_os("CARGO_FEATURE_FLATTEN_C").is_none() {
        return;
    }
    let include = PathBuf::from(std::env::var("DEP_TREE_SITTER_INCLUDE").expect("the tree-sitter crate exports its include directory"));
    let internal = include.parent().expect("include/ sits in the tree-sitter crate").join("src");
    cc::Build::new()
        .std("c11")
        .include(&include)
        .include(&internal)
        .file("src/lang/flatten.c")
        .warnings(true)
        .flag_if_supported("-Wno-unused-parameter")
        .compile("ctxls_flatten");
}
