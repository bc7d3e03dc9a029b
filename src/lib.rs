//! ctxls: a language server that gives editors LLM help grounded in the right context.
//!
//! Layers, in reading order (each depends only on those above it):
//! `base` (ranges, line indexes) -> `lang` (grammars, parsing) -> `index` (per-file facts
//! and the workspace view) -> `config` (settings) -> `reqs` (requirement comments) ->
//! `retrieve` (context for a position) -> `knowledge` (documents, mentions, prompt files)
//! -> `ide` (prompts) -> `io` (the file system, the cache, git, models) ->
//! `lsp` (the server) and `cli` (the commands).

pub mod base;
pub mod lang;
pub mod index;
pub mod llm;
pub mod config;
pub mod reqs;
pub mod retrieve;
pub mod knowledge;
pub mod ide;
pub mod io;
pub mod workflows;
pub mod cli;
pub mod lsp;
