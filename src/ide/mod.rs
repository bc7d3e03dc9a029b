//! Editor-facing features in plain structs: prompts from retrieved context (completion
//! with fill-in-the-middle, chat) and post-processing of a model's completion before it is
//! shown at the cursor; SEARCH/REPLACE answers parsed, matched and planned as edits
//! (`search_replace`). Pure: no IO, no LSP types.

pub mod actions;
pub mod edit_history;
pub mod edit_rewrite;
pub mod generate;
pub mod hover;
pub mod instructions;
pub mod knowledge;
pub mod next_edit;
pub mod prompt;
pub mod prompt_files;
pub mod postprocess;
pub mod search_replace;
