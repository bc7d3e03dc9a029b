//! The model workflows, written once for the CLI and the server: each is one async
//! function over a [`host::Host`] (read what the rules allow, gather context, ask the
//! model with streaming and cancellation, report progress, propose the result) that orders
//! all its steps; the CLI's host prints and writes files, the server's answers requests
//! and proposes `workspace/applyEdit`. host.rs: the interface, cancellation, stops.
//! edit.rs: a model's SEARCH/REPLACE answer checked against the write rules and the files,
//! and repaired once when it adds syntax errors. prompt_file.rs: a prompt file's target,
//! requirement and request at a site. requirements.rs: generate, implement and the diff
//! summary (what the working tree holds, scopes, requests). actions.rs: the code actions
//! (explain, document, tests, fix, refactor, answer): the comment at a position, targets,
//! requests.

pub mod actions;
pub mod edit;
pub mod host;
pub mod prompt_file;
pub mod requirements;

#[cfg(test)]
mod tests;
