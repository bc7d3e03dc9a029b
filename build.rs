//! Builds `src/lang/flatten.c` (see there) against the headers of the tree-sitter crate
//! this package links: its build script exports their directory (`links = "tree-sitter"`).

use std::path::PathBuf;

fn main() {
    let include = PathBuf::from(std::env::var("DEP_TREE_SITTER_INCLUDE").expect("the tree-sitter crate exports its include directory"));
    let internal = include.parent().expect("include/ sits in the tree-sitter crate").join("src");
    println!("cargo:rerun-if-changed=src/lang/flatten.c");
    cc::Build::new()
        .std("c11")
        .include(&include)
        .include(&internal)
        .file("src/lang/flatten.c")
        .warnings(true)
        .flag_if_supported("-Wno-unused-parameter")
        .compile("ctxls_flatten");
}
