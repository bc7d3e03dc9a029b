//! Everything that touches the world besides the server and the CLI: the file system
//! (`vfs`), the persistent cache (`store`) and the indexing driver that combines them
//! with the pure index (`workspace`).

pub mod embedding;
pub mod git;
pub mod instructions;
pub mod knowledge;
pub mod llm;
pub mod requirements;
pub mod store;
pub mod vectors;
pub mod vfs;
pub mod workspace;
pub mod writes;
