//! The model workflows, written once for the CLI and the server, which adapt them (the CLI
//! prints and writes files, the server answers requests and proposes `workspace/applyEdit`).
//! edit.rs: a model's SEARCH/REPLACE answer checked against the write rules and the files,
//! and repaired once when it adds syntax errors. prompt_file.rs: a prompt file's target,
//! requirement and request at a site. requirements.rs: generate, implement and the diff
//! summary (what the working tree holds, scopes, requests).

pub mod edit;
pub mod prompt_file;
pub mod requirements;
