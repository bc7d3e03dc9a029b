//! Plain value types shared by every layer: text ranges, line indexes and content hashes.
//! No dependencies on other modules, no IO.

mod line_index;
mod memory;
mod name;

pub use line_index::{LineCol, LineIndex, PositionEncoding};
pub use memory::{allocating_long_lived, long_lived};
pub use name::{interned, Name};

use serde::{Deserialize, Serialize};

/// A half-open byte range `[start, end)` into a file's UTF-8 text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[derive(bitcode::Encode, bitcode::Decode)]
pub struct TextRange {
    pub start: u32,
    pub end: u32,
}

impl TextRange {
    pub fn new(start: u32, end: u32) -> TextRange {
        debug_assert!(start <= end, "{start} > {end}");
        TextRange { start, end }
    }

    pub fn from_usize(range: std::ops::Range<usize>) -> TextRange {
        TextRange::new(range.start as u32, range.end as u32)
    }

    pub fn len(self) -> u32 {
        self.end - self.start
    }

    pub fn is_empty(self) -> bool {
        self.start == self.end
    }

    /// True when `offset` lies inside the range; the end counts as inside, so that a cursor
    /// placed right after a name is still "on" it.
    pub fn contains_inclusive(self, offset: u32) -> bool {
        self.start <= offset && offset <= self.end
    }

    pub fn contains_range(self, other: TextRange) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    pub fn as_usize(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// The content hash used everywhere a stable identity of some text is needed
/// (cache keys, chunk identities for embeddings).
pub fn content_hash(bytes: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(bytes)
}
