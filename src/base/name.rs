//! `Name`: a string interned for the life of the process, held as a 4-byte id. Symbols'
//! names and containers repeat across a workspace (`new`, `fmt`, `Error`, `impl Foo`):
//! a million symbols hold a few hundred thousand distinct strings, each stored once, and
//! two names compare by id. Interned strings are never freed: what the process keeps is
//! the distinct names it has seen (the workspace's, and those typed during the session).
//! Reading a name takes no lock: ids index an append-only table of pointers.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::{Mutex, OnceLock};

/// An interned string (see the module doc). `Default` is the empty string.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Name(NonZeroU32);

/// The id of the empty string, reserved (ids start at 1 so that `Option<Name>` is 4 bytes).
const EMPTY: u32 = 1;

impl Name {
    /// The name of `text`, interned now if it was not yet.
    pub fn new(text: &str) -> Name {
        if text.is_empty() {
            return Name::default();
        }
        Name(NonZeroU32::new(interner().intern(text)).expect("ids start at 2"))
    }

    pub fn as_str(&self) -> &'static str {
        let id = self.0.get();
        if id == EMPTY {
            return "";
        }
        // Written before the id was handed out; whoever holds the id got it after.
        let (chunk, slot) = locate(id);
        let start = SLOTS[chunk].load(Ordering::Acquire);
        debug_assert!(!start.is_null());
        // SAFETY: a chunk, once published, is never freed or moved; `id` was handed out
        // by `intern` after its slot was written.
        let stored = unsafe { (*start.add(slot)).load(Ordering::Acquire) };
        // SAFETY: the slot points to a length and the bytes of a `str`, leaked by `intern`.
        unsafe {
            let len = std::ptr::read_unaligned(stored as *const u32) as usize;
            std::str::from_utf8_unchecked(std::slice::from_raw_parts(stored.add(4), len))
        }
    }
}

/// By the string, as `str` hashes (`Borrow<str>`).
impl std::hash::Hash for Name {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl Default for Name {
    fn default() -> Name {
        Name(NonZeroU32::new(EMPTY).expect("non-zero"))
    }
}

impl std::ops::Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::borrow::Borrow<str> for Name {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for Name {
    fn from(text: &str) -> Name {
        Name::new(text)
    }
}

impl From<String> for Name {
    fn from(text: String) -> Name {
        Name::new(&text)
    }
}

impl From<&String> for Name {
    fn from(text: &String) -> Name {
        Name::new(text)
    }
}

impl From<Name> for String {
    fn from(name: Name) -> String {
        name.as_str().to_string()
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<Name> for str {
    fn eq(&self, other: &Name) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Name> for &str {
    fn eq(&self, other: &Name) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<Name> for String {
    fn eq(&self, other: &Name) -> bool {
        self == other.as_str()
    }
}

/// By the strings (ids are in order of first use).
impl Ord for Name {
    fn cmp(&self, other: &Name) -> std::cmp::Ordering {
        if self.0 == other.0 {
            return std::cmp::Ordering::Equal;
        }
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for Name {
    fn partial_cmp(&self, other: &Name) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl serde::Serialize for Name {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl std::fmt::Debug for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How many distinct strings are interned, and the bytes the interner holds (strings,
/// slots, the lookup table): for the server's memory accounting.
pub fn interned() -> (usize, usize) {
    let Some(interner) = INTERNER.get() else { return (0, 0) };
    let state = interner.state.lock().unwrap_or_else(|e| e.into_inner());
    let count = state.next as usize - 2;
    let slots: usize = (0..CHUNKS).filter(|&c| !SLOTS[c].load(Ordering::Relaxed).is_null()).map(|c| chunk_len(c) * 8).sum();
    let table = state.ids.capacity() * (std::mem::size_of::<Key>() + 1);
    (count, state.arena_bytes + slots + table)
}

/// Chunk `c` holds `FIRST_CHUNK << c` slots: 22 chunks hold every u32 id.
const FIRST_CHUNK: usize = 1024;
const CHUNKS: usize = 23;
static SLOTS: [AtomicPtr<AtomicPtr<u8>>; CHUNKS] = [const { AtomicPtr::new(std::ptr::null_mut()) }; CHUNKS];

fn chunk_len(chunk: usize) -> usize {
    FIRST_CHUNK << chunk
}

/// The chunk and slot of an id: ids `0..1024` in chunk 0, `1024..3072` in chunk 1, ...
fn locate(id: u32) -> (usize, usize) {
    let n = id as usize / FIRST_CHUNK + 1;
    let chunk = (usize::BITS - 1 - n.leading_zeros()) as usize;
    (chunk, id as usize - (chunk_len(chunk) - FIRST_CHUNK))
}

struct Interner {
    state: Mutex<State>,
}

/// An interned id in the lookup table: 4 bytes a string, hashed and found by its string.
#[derive(PartialEq, Eq)]
struct Key(u32);

impl std::hash::Hash for Key {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl std::borrow::Borrow<str> for Key {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl Key {
    fn as_str(&self) -> &'static str {
        Name(NonZeroU32::new(self.0).expect("ids start at 2")).as_str()
    }
}

struct State {
    ids: rustc_hash::FxHashSet<Key>,
    next: u32,
    /// The free tail of the current arena block: strings are kept as their length (4
    /// bytes, unaligned) followed by their bytes.
    block: &'static mut [u8],
    arena_bytes: usize,
}

const BLOCK: usize = 64 * 1024;

fn interner() -> &'static Interner {
    INTERNER.get_or_init(|| Interner { state: Mutex::new(State { ids: Default::default(), next: EMPTY + 1, block: &mut [], arena_bytes: 0 }) })
}

static INTERNER: OnceLock<Interner> = OnceLock::new();

impl Interner {
    fn intern(&self, text: &str) -> u32 {
        // Interned strings stay: their blocks, slots and table with the other long-lived
        // allocations (`base::memory`).
        super::long_lived(|| self.intern_here(text))
    }

    fn intern_here(&self, text: &str) -> u32 {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let state = &mut *state;
        if let Some(key) = state.ids.get(text) {
            return key.0;
        }
        let id = state.next;
        assert!(id < u32::MAX, "interned names exhausted the 32-bit ids");
        let len = u32::try_from(text.len()).expect("a name under 4 GiB");
        // The length and bytes, in the current block (or a new one; a long string gets
        // its own).
        let needed = 4 + text.len();
        let record: &'static mut [u8] = if needed > BLOCK / 8 {
            state.arena_bytes += needed;
            Box::leak(vec![0u8; needed].into_boxed_slice())
        } else {
            if state.block.len() < needed {
                state.block = Box::leak(vec![0u8; BLOCK].into_boxed_slice());
                state.arena_bytes += BLOCK;
            }
            let block = std::mem::take(&mut state.block);
            let (head, tail) = block.split_at_mut(needed);
            state.block = tail;
            head
        };
        record[..4].copy_from_slice(&len.to_ne_bytes());
        record[4..].copy_from_slice(text.as_bytes());
        let record: &'static [u8] = record;
        // The slot, in its chunk (allocated on first use).
        let (chunk, slot) = locate(id);
        let mut start = SLOTS[chunk].load(Ordering::Acquire);
        if start.is_null() {
            let slots: Box<[AtomicPtr<u8>]> = (0..chunk_len(chunk)).map(|_| AtomicPtr::new(std::ptr::null_mut())).collect();
            start = Box::leak(slots).as_mut_ptr();
            SLOTS[chunk].store(start, Ordering::Release);
        }
        // SAFETY: `slot < chunk_len(chunk)`, and the chunk lives for the process.
        unsafe { (*start.add(slot)).store(record.as_ptr() as *mut u8, Ordering::Release) };
        state.ids.insert(Key(id));
        state.next = id + 1;
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Equal strings get one id, distinct ones distinct ids; every name reads back its
    /// string, across the chunk boundaries of the slot table and from other threads.
    #[test]
    fn names_intern_each_string_once_and_read_back() {
        let texts: Vec<String> = (0..5000).map(|i| format!("name_{i}_{}", "x".repeat(i % 50))).collect();
        let names: Vec<Name> = texts.iter().map(|t| Name::new(t)).collect();
        for (text, name) in texts.iter().zip(&names) {
            assert_eq!(name.as_str(), text);
            assert_eq!(Name::new(text), *name);
            assert_eq!(*name, text.as_str());
        }
        let mut ids: Vec<u32> = names.iter().map(|n| n.0.get()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), texts.len());
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let texts = texts.clone();
                std::thread::spawn(move || {
                    texts.iter().skip(t).step_by(4).map(|s| (Name::new(s), s.clone())).collect::<Vec<_>>()
                })
            })
            .collect();
        for thread in threads {
            for (name, text) in thread.join().unwrap() {
                assert_eq!(name.as_str(), text);
                assert!(names.contains(&name));
            }
        }
        let long = "y".repeat(BLOCK);
        assert_eq!(Name::new(&long).as_str(), long);
        assert_eq!(Name::new(""), Name::default());
        assert_eq!(Name::default().as_str(), "");
        assert_eq!(std::mem::size_of::<Option<Name>>(), 4);
    }

    /// Names order as their strings do, whatever their ids.
    #[test]
    fn names_order_by_their_strings() {
        let (b, a) = (Name::new("order_b"), Name::new("order_a"));
        assert!(a < b);
        assert!(b > a, "the order is the same both ways");
        let mut names = [b, a, Name::new("order_c")];
        names.sort();
        assert_eq!(names.iter().map(|n| n.as_str()).collect::<Vec<_>>(), ["order_a", "order_b", "order_c"]);
        for id in [2u32, 1023, 1024, 1025, 3071, 3072, 1 << 20, u32::MAX - 1] {
            let (chunk, slot) = locate(id);
            assert!(chunk < CHUNKS && slot < chunk_len(chunk), "{id}");
            assert_eq!(chunk_len(chunk) - FIRST_CHUNK + slot, id as usize);
        }
    }
}
