//! Editor-facing features in plain structs: prompts from retrieved context (completion
//! with fill-in-the-middle, chat). Pure: no IO, no LSP types.

pub mod prompt;
