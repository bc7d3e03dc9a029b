//! The model workflows, written once for the CLI and the server, which adapt them (the CLI
//! prints and writes files, the server answers requests and proposes `workspace/applyEdit`).
//! edit.rs: a model's SEARCH/REPLACE answer checked against the write rules and the files,
//! and repaired once when it adds syntax errors. prompt_file.rs: a prompt file's target,
//! requirement and request at a site. requirements.rs: generate, implement and the diff
//! summary (what the working tree holds, scopes, requests). actions.rs: the code actions
//! (explain, document, tests, fix, refactor, answer): the comment at a position, targets,
//! requests.

pub mod actions;
pub mod edit;
pub mod prompt_file;
pub mod requirements;
