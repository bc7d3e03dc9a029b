//! What retrieval computes from the index alone and keeps between requests (one `Cache`
//! per workspace root, held by the server): the definitions of names defined in many
//! files (`new`, `fmt`, `from`), found through the name table and every defining file's
//! symbols, and the path tests of those files. A kept list is used only when the
//! snapshot at hand still holds the same defining files with the same facts (the
//! entries, or copies of them sharing their facts: `FileEntry::version`); otherwise it
//! is computed again and replaces the old one. So the answer is the one computed from
//! scratch, whatever changed (edits, files added or removed, a new index).

use std::sync::{Arc, Mutex, Weak};

use rustc_hash::FxHashMap as HashMap;

use crate::index::{FactsVersion, FileEntry, FileId, IndexSnapshot};

/// A definition of a name, with what the symbol graph's filters ask of its file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Definition {
    pub file: FileId,
    pub symbol: u32,
    /// The file is a test, benchmark or example (`symbol::is_test_path`).
    pub test: bool,
    /// The file is a TypeScript declaration file (`.d.ts`).
    pub declaration: bool,
    /// The hash of the last segment of the symbol's container (`symbol::segment_hash`),
    /// 0 for none.
    pub container: u64,
}

/// Names defined in fewer files are looked up each time (cheap, and most names).
const MIN_FILES: usize = 16;
/// Definitions kept in all, at most (about 40 bytes each with their files' versions);
/// beyond, the cache starts over.
const MAX_DEFINITIONS: usize = 1 << 18;

/// Retrieval's cache between requests (see the module's doc).
#[derive(Default)]
pub struct Cache {
    names: Mutex<Names>,
}

#[derive(Default)]
struct Names {
    by_name: HashMap<String, Arc<Kept>>,
    /// Definitions kept, summed over `by_name`.
    definitions: usize,
    hits: u64,
    misses: u64,
}

/// A name's definitions and the facts they were computed from.
struct Kept {
    /// The name table's files for the name when computed, and their entries: the entry
    /// itself (compared by address, kept from reuse by the weak reference) and the
    /// version of its facts (for copies of it that share them).
    files: Vec<FileId>,
    entries: Vec<Weak<FileEntry>>,
    versions: Vec<FactsVersion>,
    definitions: Arc<[Definition]>,
}

impl Kept {
    fn holds(&self, snapshot: &IndexSnapshot, files: &[FileId]) -> bool {
        self.files == files
            && files.iter().zip(&self.entries).zip(&self.versions).all(|((&id, held), version)| {
                snapshot.entry(id).is_some_and(|entry| std::ptr::eq(Arc::as_ptr(entry), held.as_ptr()) || entry.is_version(version))
            })
    }
}

/// Hits and misses of the cache so far (for tests and logs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    /// Names and definitions kept now.
    pub names: usize,
    pub definitions: usize,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Cache").field(&self.stats()).finish()
    }
}

impl Cache {
    pub fn new() -> Cache {
        Cache::default()
    }

    pub fn stats(&self) -> CacheStats {
        let names = self.lock();
        CacheStats { hits: names.hits, misses: names.misses, names: names.by_name.len(), definitions: names.definitions }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Names> {
        self.names.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The definitions of `name` in `snapshot`, as `compute` finds them: kept ones when
    /// they still hold, else computed (and kept, for a name defined in many files).
    pub(super) fn definitions(
        &self,
        snapshot: &IndexSnapshot,
        name: &str,
        compute: impl FnOnce() -> Vec<Definition>,
    ) -> Arc<[Definition]> {
        let files = snapshot.files_defining(name);
        if files.len() < MIN_FILES {
            return compute().into();
        }
        let kept = self.lock().by_name.get(name).cloned();
        if let Some(kept) = kept.filter(|k| k.holds(snapshot, files)) {
            self.lock().hits += 1;
            return Arc::clone(&kept.definitions);
        }
        let definitions: Arc<[Definition]> = compute().into();
        let Some((entries, versions)) = files
            .iter()
            .map(|&id| snapshot.entry(id).map(|entry| (Arc::downgrade(entry), entry.version())))
            .collect::<Option<(Vec<_>, Vec<_>)>>()
        else {
            return definitions;
        };
        let kept = Kept { files: files.to_vec(), entries, versions, definitions: Arc::clone(&definitions) };
        let mut names = self.lock();
        names.misses += 1;
        if names.definitions + definitions.len() > MAX_DEFINITIONS {
            names.by_name.clear();
            names.definitions = 0;
        }
        names.definitions += definitions.len();
        if let Some(old) = names.by_name.insert(name.to_string(), Arc::new(kept)) {
            names.definitions -= old.definitions.len();
        }
        definitions
    }
}
