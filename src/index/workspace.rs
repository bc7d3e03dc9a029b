//! `WorkspaceIndex`: the mutable host of every indexed file of one workspace root, and the
//! immutable `IndexSnapshot`s that requests read. Replacing a file touches only that
//! file's entry; taking a snapshot after a change costs a copy of the slot table.
//! A workspace-wide table maps each defined name to the files defining it, in shards
//! shared between snapshots: an edit that does not change a file's defined names (most
//! keystrokes) leaves it alone, and one that does copies only the shards of those names.
//! A second table of the same kind maps each chunk's content hash to the files holding
//! it (the vector store's hits are chunk hashes).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, Weak};

use super::resolve::{ModuleResolver, ResolvedImport, TsConfig};
use super::terms::TermTable;
use super::{Chunk, FileIndex, Import, Posting};
use crate::lang::Lang;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// One indexed file: its facts in memory, or (loaded lazily from the cache) its summary
/// in memory and the rest decoded on first use. A lazy entry's decoded facts can be
/// dropped again (`WorkspaceIndex::set_detail_budget`): the index then holds a copy of
/// the entry that shares its summary and decodes them again when next asked.
pub struct FileEntry {
    /// Relative to the workspace root, `/`-separated.
    pub path: String,
    /// `content_hash` of the file's bytes (of the editor's text for open documents).
    pub hash: u64,
    facts: OnceLock<FileIndex>,
    lazy: Option<Arc<Lazy>>,
    /// When a lazy entry's facts were last asked for (a tick of `CLOCK`).
    used: AtomicU64,
    /// The heap bytes of a lazy entry's decoded facts, counted once when decoded:
    /// trimming looks at every decoded entry after each request that decoded one.
    decoded_bytes: AtomicUsize,
}

struct Lazy {
    summary: FileSummary,
    source: Arc<dyn FactSource>,
}

/// Ticks at every use of a lazy entry's facts: their recency, for trimming.
static CLOCK: AtomicU64 = AtomicU64::new(1);
/// Lazy entries' facts decoded so far (by any index): trimming looks only after a change.
static DECODED: AtomicU64 = AtomicU64::new(0);

/// The facts an entry holds, recognized across the copies that share them (see
/// `FileEntry::version`): what the term table remembers of each file.
pub struct FactsVersion(Version);

enum Version {
    /// Weak: a replaced version is freed, and its address never reused while held.
    Whole(Weak<FileEntry>),
    Lazy(Weak<Lazy>),
}

/// What retrieval reads of every file: its facts without the details (`Details`:
/// symbols' signatures and docs, identifier occurrences) that it reads of a few files
/// only, with the names the file defines and its counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileSummary {
    /// The facts without their details (`FileIndex::split_details`). The names the file
    /// defines (`defined_names`) are computed from them when the entry is inserted or
    /// removed, not kept.
    pub light: FileIndex,
    pub stats: IndexStats,
    /// How often each referenced name occurs (`ReferenceCounts::of` the facts).
    pub references: ReferenceCounts,
}

/// A file's identifier occurrences counted by name: what a hover's count of uses reads
/// of every file using the name, without decoding their occurrences.
#[derive(Clone, Debug, Default, PartialEq, Eq, bitcode::Encode, bitcode::Decode)]
pub struct ReferenceCounts {
    /// `name_key`s of the referenced names, sorted; `counts[i]` occurrences of `keys[i]`.
    keys: Vec<u64>,
    counts: Vec<u32>,
}

impl ReferenceCounts {
    pub fn of(index: &FileIndex) -> ReferenceCounts {
        let mut per_name = vec![0u32; index.names.len()];
        for reference in &index.references {
            if let Some(count) = per_name.get_mut(reference.name as usize) {
                *count += 1;
            }
        }
        let mut pairs: Vec<(u64, u32)> =
            index.names.iter().zip(per_name).filter(|(_, c)| *c > 0).map(|(n, c)| (name_key(n), c)).collect();
        pairs.sort_unstable();
        // Two names with one key (a hash collision) are counted together.
        pairs.dedup_by(|b, a| {
            let same = a.0 == b.0;
            if same {
                a.1 += b.1;
            }
            same
        });
        ReferenceCounts { keys: pairs.iter().map(|p| p.0).collect(), counts: pairs.iter().map(|p| p.1).collect() }
    }

    /// Occurrences of `name`.
    pub fn get(&self, name: &str) -> usize {
        self.get_key(ReferenceCounts::key(name))
    }

    /// Occurrences of the name whose key (`ReferenceCounts::key`) is `key`.
    pub fn get_key(&self, key: u64) -> usize {
        self.keys.binary_search(&key).map_or(0, |i| self.counts[i] as usize)
    }

    /// The key a name is counted under.
    pub fn key(name: &str) -> u64 {
        name_key(name)
    }

    /// The keys of the names referenced, sorted (one per name, but for hash collisions).
    pub fn keys(&self) -> &[u64] {
        &self.keys
    }

    fn heap_bytes(&self) -> usize {
        self.keys.capacity() * 8 + self.counts.capacity() * 4
    }
}

impl FileSummary {
    /// The summary of whole facts (their details dropped).
    pub fn of(mut index: FileIndex) -> FileSummary {
        let stats = IndexStats::of(&index);
        let references = ReferenceCounts::of(&index);
        drop(index.split_details());
        // Kept for the session: without the slack extraction's growing vectors left.
        index.symbols.shrink_to_fit();
        index.imports.shrink_to_fit();
        index.chunks.shrink_to_fit();
        index.terms.shrink_to_fit();
        index.by_name.shrink_to_fit();
        index.line_index.shrink_to_fit();
        FileSummary { light: index, stats, references }
    }
}

/// Where a lazily loaded entry's facts come from (the cache).
pub trait FactSource: Send + Sync {
    /// The facts of `path` at content `hash` (`summary` with its details); `None` when
    /// the source no longer has that version.
    fn load(&self, path: &str, hash: u64, summary: &FileSummary) -> Option<FileIndex>;
}

impl FileEntry {
    pub fn new(path: String, hash: u64, index: FileIndex) -> FileEntry {
        FileEntry { path, hash, facts: OnceLock::from(index), lazy: None, used: AtomicU64::new(0), decoded_bytes: AtomicUsize::new(0) }
    }

    /// An entry whose facts `source` decodes when first asked for.
    pub fn lazy(path: String, hash: u64, summary: FileSummary, source: Arc<dyn FactSource>) -> FileEntry {
        FileEntry { path, hash, facts: OnceLock::new(), lazy: Some(Arc::new(Lazy { summary, source })), used: AtomicU64::new(0), decoded_bytes: AtomicUsize::new(0) }
    }

    /// The file's facts (decoded now if the entry is lazy and this is the first use).
    pub fn index(&self) -> &FileIndex {
        let Some(lazy) = &self.lazy else {
            return self.facts.get().expect("an entry that is not lazy has its facts");
        };
        self.used.store(CLOCK.fetch_add(1, Ordering::Relaxed), Ordering::Relaxed);
        self.facts.get_or_init(|| {
            DECODED.fetch_add(1, Ordering::Relaxed);
            // Kept for later requests, until trimmed (see `base::memory`).
            let facts = crate::base::long_lived(|| lazy.source.load(&self.path, self.hash, &lazy.summary)).unwrap_or_else(|| {
                tracing::warn!("{}: cached details unavailable; using the facts without them", self.path);
                lazy.summary.light.clone()
            });
            self.decoded_bytes.store(facts.heap_bytes(), Ordering::Relaxed);
            facts
        })
    }

    /// The facts, owned (decoded first if the entry is lazy).
    pub fn into_index(mut self) -> FileIndex {
        self.index();
        self.facts.take().expect("decoded above")
    }

    /// True when the facts are in memory (always, for an entry that is not lazy).
    pub fn is_loaded(&self) -> bool {
        self.facts.get().is_some()
    }

    /// True for an entry whose facts are decoded from the cache on demand.
    pub fn is_lazy(&self) -> bool {
        self.lazy.is_some()
    }

    /// The facts without their details (signatures, docs, references): all that
    /// workspace-wide lookups read, without decoding a lazy entry's details.
    pub fn light(&self) -> &FileIndex {
        match &self.lazy {
            Some(lazy) => &lazy.summary.light,
            None => self.index(),
        }
    }

    pub fn lang(&self) -> Lang {
        self.light().lang
    }

    pub fn chunks(&self) -> &[Chunk] {
        &self.light().chunks
    }

    pub fn terms(&self) -> &[Posting] {
        &self.light().terms
    }

    /// Occurrences of exactly `name` as an identifier in the file, without decoding a lazy
    /// entry's details.
    pub fn reference_count(&self, name: &str) -> usize {
        if let Some(lazy) = &self.lazy {
            return lazy.summary.references.get(name);
        }
        let index = self.index();
        let Some(id) = index.names.iter().position(|n| n == name) else { return 0 };
        index.references.iter().filter(|r| r.name as usize == id).count()
    }

    /// The file's identifier occurrences counted by name: a lazy entry's from its
    /// summary, others' counted now.
    pub fn reference_counts(&self) -> Cow<'_, ReferenceCounts> {
        match &self.lazy {
            Some(lazy) => Cow::Borrowed(&lazy.summary.references),
            None => Cow::Owned(ReferenceCounts::of(self.index())),
        }
    }

    /// The version of the facts this entry holds: the same for a lazy entry and the
    /// copies trimming makes of it.
    pub fn version(self: &Arc<Self>) -> FactsVersion {
        FactsVersion(match &self.lazy {
            Some(lazy) => Version::Lazy(Arc::downgrade(lazy)),
            None => Version::Whole(Arc::downgrade(self)),
        })
    }

    /// Whether this entry holds the facts of `version`.
    pub fn is_version(self: &Arc<Self>, version: &FactsVersion) -> bool {
        match (&version.0, &self.lazy) {
            (Version::Lazy(held), Some(lazy)) => std::ptr::eq(held.as_ptr(), Arc::as_ptr(lazy)),
            (Version::Whole(held), None) => std::ptr::eq(held.as_ptr(), Arc::as_ptr(self)),
            _ => false,
        }
    }

    /// A copy of a lazy entry without its decoded facts.
    fn unloaded(&self) -> Option<FileEntry> {
        let lazy = self.lazy.as_ref()?;
        Some(FileEntry { path: self.path.clone(), hash: self.hash, facts: OnceLock::new(), lazy: Some(Arc::clone(lazy)), used: AtomicU64::new(0), decoded_bytes: AtomicUsize::new(0) })
    }

    /// The heap bytes of the summary (lazy entries), and of the facts in memory: whole,
    /// or a lazy entry's decoded ones.
    pub fn heap_bytes(&self) -> (usize, usize) {
        let summary = self
            .lazy
            .as_ref()
            .map_or(0, |l| l.summary.light.heap_bytes() + l.summary.references.heap_bytes());
        (summary, self.facts.get().map_or(0, FileIndex::heap_bytes))
    }

    fn defined_names(&self) -> Vec<u64> {
        defined_names(self.light())
    }

    fn chunk_stats(&self) -> ChunkStats {
        ChunkStats::of(self.chunks())
    }

    fn stats(&self) -> IndexStats {
        match &self.lazy {
            Some(lazy) => lazy.summary.stats,
            None => IndexStats::of(self.index()),
        }
    }
}

impl PartialEq for FileEntry {
    fn eq(&self, other: &FileEntry) -> bool {
        self.path == other.path && self.hash == other.hash && self.index() == other.index()
    }
}

impl Eq for FileEntry {}

impl std::fmt::Debug for FileEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileEntry")
            .field("path", &self.path)
            .field("hash", &self.hash)
            .field("lazy", &self.lazy.is_some())
            .field("facts", &self.facts.get())
            .finish()
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, bitcode::Encode, bitcode::Decode)]
pub struct IndexStats {
    pub files: u64,
    pub symbols: u64,
    pub references: u64,
    pub chunks: u64,
    pub bytes: u64,
    /// Files indexed as generated declaration files (`index::is_generated`).
    pub generated: u64,
}

impl IndexStats {
    /// The counts of one file.
    pub fn of(index: &FileIndex) -> IndexStats {
        IndexStats {
            files: 1,
            symbols: index.symbols.len() as u64,
            references: index.references.len() as u64,
            chunks: index.chunks.len() as u64,
            bytes: u64::from(index.line_index.len()),
            generated: u64::from(index.generated),
        }
    }

    pub fn add(&mut self, other: &IndexStats) {
        self.files += other.files;
        self.symbols += other.symbols;
        self.references += other.references;
        self.chunks += other.chunks;
        self.bytes += other.bytes;
        self.generated += other.generated;
    }
}

const NAME_SHARDS: usize = 64;
/// The table key under which files defining macros are listed.
const MACROS_KEY: &str = "\0macros";

/// Keyed by the name's 64-bit hash: no string is stored, and a collision only means a
/// caller looks at a file that turns out not to define the name.
type NameShard = rustc_hash::FxHashMap<u64, FileList>;

/// Files in id order; most names are defined in one file, which needs no allocation.
#[derive(Clone)]
enum FileList {
    One(FileId),
    Many(Vec<FileId>),
}

impl FileList {
    fn as_slice(&self) -> &[FileId] {
        match self {
            FileList::One(file) => std::slice::from_ref(file),
            FileList::Many(files) => files,
        }
    }

    fn add(&mut self, file: FileId) {
        match self {
            FileList::One(one) if *one == file => {}
            FileList::One(one) => {
                let mut files = vec![*one, file];
                files.sort_unstable();
                *self = FileList::Many(files);
            }
            FileList::Many(files) => {
                if let Err(at) = files.binary_search(&file) {
                    files.insert(at, file);
                }
            }
        }
    }

    /// Removes `file`; false when the list is left empty.
    fn remove(&mut self, file: FileId) -> bool {
        match self {
            FileList::One(one) => *one != file,
            FileList::Many(files) => {
                if let Ok(at) = files.binary_search(&file) {
                    files.remove(at);
                }
                !files.is_empty()
            }
        }
    }
}

/// Key (a defined name's hash, or a chunk's content hash) -> the files with it (sorted),
/// in shards by key.
#[derive(Clone)]
struct NameTable {
    shards: Vec<Arc<NameShard>>,
}

impl Default for NameTable {
    fn default() -> NameTable {
        NameTable::with_shards(NAME_SHARDS)
    }
}

/// Shards of the chunk table: every keystroke changes a chunk's hash, and a change
/// copies the shards of its old and new keys when a snapshot shares them; with 1,024
/// shards a workspace of 150,000 chunks copies about 150 entries, not 2,300.
const CHUNK_SHARDS: usize = 1024;

/// Chunk content hash -> the files with such a chunk (`NameTable` with more shards).
#[derive(Clone)]
struct ChunkTable(NameTable);

impl Default for ChunkTable {
    fn default() -> ChunkTable {
        ChunkTable(NameTable::with_shards(CHUNK_SHARDS))
    }
}

impl NameTable {
    fn with_shards(shards: usize) -> NameTable {
        NameTable { shards: (0..shards).map(|_| Arc::default()).collect() }
    }

    fn shard(&self, key: u64) -> usize {
        (key % self.shards.len() as u64) as usize
    }

    fn files(&self, name: &str) -> &[FileId] {
        self.files_with_key(name_key(name))
    }

    fn files_with_key(&self, key: u64) -> &[FileId] {
        self.shards[self.shard(key)].get(&key).map_or(&[], FileList::as_slice)
    }

    /// Moves `file` from the keys of `old` to those of `new` (both sorted, distinct).
    fn replace(&mut self, file: FileId, old: &[u64], new: &[u64]) {
        if old == new {
            return;
        }
        for &key in old.iter().filter(|k| new.binary_search(k).is_err()) {
            self.remove(key, file);
        }
        for &key in new.iter().filter(|k| old.binary_search(k).is_err()) {
            self.add(key, file);
        }
    }

    fn heap_bytes(&self) -> usize {
        let mut bytes = 0;
        for shard in &self.shards {
            bytes += shard.capacity() * (std::mem::size_of::<(u64, FileList)>() + 1);
            bytes += shard.values().map(|f| f.as_slice().len() * 4 * usize::from(f.as_slice().len() > 1)).sum::<usize>();
        }
        bytes
    }

    fn add(&mut self, key: u64, file: FileId) {
        let at = self.shard(key);
        let shard = Arc::make_mut(&mut self.shards[at]);
        match shard.get_mut(&key) {
            Some(files) => files.add(file),
            None => {
                shard.insert(key, FileList::One(file));
            }
        }
    }

    fn remove(&mut self, key: u64, file: FileId) {
        let at = self.shard(key);
        let shard = Arc::make_mut(&mut self.shards[at]);
        if let Some(files) = shard.get_mut(&key) {
            if !files.remove(file) {
                shard.remove(&key);
            }
        }
    }
}

fn name_key(name: &str) -> u64 {
    crate::base::content_hash(name.as_bytes())
}

/// The keys of the distinct names a file defines (and the macros marker), sorted.
pub fn defined_names(index: &FileIndex) -> Vec<u64> {
    let mut names: Vec<u64> = index.symbols.iter().map(|s| name_key(&s.name)).collect();
    if index.symbols.iter().any(|s| s.kind == super::SymbolKind::Macro) {
        names.push(name_key(MACROS_KEY));
    }
    names.sort_unstable();
    names.dedup();
    names
}

/// The distinct content hashes of a file's chunks, sorted.
fn chunk_hashes(chunks: &[Chunk]) -> Vec<u64> {
    let mut hashes: Vec<u64> = chunks.iter().map(|c| c.hash).collect();
    hashes.sort_unstable();
    hashes.dedup();
    hashes
}

#[derive(Default)]
pub struct WorkspaceIndex {
    slots: Arc<Vec<Option<Arc<FileEntry>>>>,
    ids: Arc<HashMap<String, FileId>>,
    ts_configs: Arc<Vec<TsConfig>>,
    names: NameTable,
    /// Chunk content hash -> the files with such a chunk.
    chunk_files: ChunkTable,
    chunks: ChunkStats,
    terms: Option<Arc<TermTable>>,
    revision: u64,
    snapshot: Option<Arc<IndexSnapshot>>,
    /// At most this many heap bytes of lazy entries' decoded facts are kept (`None`: no
    /// bound); see `set_detail_budget`.
    detail_budget: Option<usize>,
    /// `DECODED` when the decoded facts were last counted.
    counted_at: u64,
}

/// How many chunks the workspace has and their total length in lines (BM25's corpus
/// statistics), kept up to date as files change.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChunkStats {
    pub chunks: u64,
    pub lines: u64,
}

impl ChunkStats {
    fn of(chunks: &[Chunk]) -> ChunkStats {
        ChunkStats {
            chunks: chunks.len() as u64,
            lines: chunks.iter().map(|c| u64::from(c.end_line - c.start_line + 1)).sum(),
        }
    }

    fn add(&mut self, other: ChunkStats) {
        self.chunks += other.chunks;
        self.lines += other.lines;
    }

    fn sub(&mut self, other: ChunkStats) {
        self.chunks -= other.chunks;
        self.lines -= other.lines;
    }
}

impl WorkspaceIndex {
    pub fn new() -> WorkspaceIndex {
        WorkspaceIndex::default()
    }

    pub fn revision(&self) -> u64 {
        self.revision
    }

    fn changed(&mut self) {
        self.revision += 1;
        self.snapshot = None;
    }

    /// Adds or replaces the entry for `entry.path`.
    pub fn insert(&mut self, entry: FileEntry) -> FileId {
        let entry = Arc::new(entry);
        let id = match self.ids.get(&entry.path) {
            Some(&id) => id,
            None => {
                let id = FileId(self.slots.len() as u32);
                Arc::make_mut(&mut self.ids).insert(entry.path.clone(), id);
                Arc::make_mut(&mut self.slots).push(None);
                id
            }
        };
        let new_names = entry.defined_names();
        let old_entry = self.slots[id.0 as usize].clone();
        if let Some(old) = &old_entry {
            self.chunks.sub(old.chunk_stats());
        }
        self.chunks.add(entry.chunk_stats());
        let old_names = old_entry.as_ref().map(|e| e.defined_names()).unwrap_or_default();
        self.names.replace(id, &old_names, &new_names);
        let old_chunks = old_entry.as_ref().map(|e| chunk_hashes(e.chunks())).unwrap_or_default();
        self.chunk_files.0.replace(id, &old_chunks, &chunk_hashes(entry.chunks()));
        Arc::make_mut(&mut self.slots)[id.0 as usize] = Some(entry);
        self.changed();
        id
    }

    pub fn remove(&mut self, path: &str) -> bool {
        let Some(id) = Arc::make_mut(&mut self.ids).remove(path) else { return false };
        if let Some(old) = self.slots[id.0 as usize].clone() {
            self.chunks.sub(old.chunk_stats());
            for &key in old.defined_names().iter() {
                self.names.remove(key, id);
            }
            for key in chunk_hashes(old.chunks()) {
                self.chunk_files.0.remove(key, id);
            }
        }
        Arc::make_mut(&mut self.slots)[id.0 as usize] = None;
        self.changed();
        true
    }

    pub fn get(&self, path: &str) -> Option<&Arc<FileEntry>> {
        let id = self.ids.get(path)?;
        self.slots[id.0 as usize].as_ref()
    }

    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.ids.keys().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn set_ts_configs(&mut self, mut configs: Vec<TsConfig>) {
        configs.sort_by(|a, b| a.dir.cmp(&b.dir));
        if *self.ts_configs != configs {
            self.ts_configs = Arc::new(configs);
            self.changed();
        }
    }

    /// Bounds the memory that lazy entries' decoded facts (signatures, docs, references
    /// of the files requests read whole) hold: from then on, taking a snapshot drops the
    /// least recently used ones beyond `bytes` (down to three quarters of it; the most
    /// recent is always kept). Dropped facts are decoded again when next asked for.
    pub fn set_detail_budget(&mut self, bytes: Option<usize>) {
        self.detail_budget = bytes;
        self.counted_at = u64::MAX;
    }

    /// Drops decoded facts beyond the budget (see `set_detail_budget`); how many files'.
    /// Looks at the entries only when facts were decoded since it last did.
    pub fn trim_details(&mut self) -> usize {
        let Some(budget) = self.detail_budget else { return 0 };
        let decoded = DECODED.load(Ordering::Relaxed);
        if decoded == self.counted_at {
            return 0;
        }
        self.counted_at = decoded;
        // (last use, bytes, slot) of every lazy entry whose facts are decoded.
        let mut loaded: Vec<(u64, usize, usize)> = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, slot)| {
                let entry = slot.as_ref().filter(|e| e.is_lazy())?;
                entry.facts.get()?;
                Some((entry.used.load(Ordering::Relaxed), entry.decoded_bytes.load(Ordering::Relaxed), i))
            })
            .collect();
        if loaded.iter().map(|l| l.1).sum::<usize>() <= budget {
            return 0;
        }
        loaded.sort_unstable_by(|a, b| b.0.cmp(&a.0));
        let mut kept = loaded[0].1;
        let mut dropped = 0;
        let slots = Arc::make_mut(&mut self.slots);
        for &(_, bytes, i) in &loaded[1..] {
            if kept + bytes <= budget / 4 * 3 {
                kept += bytes;
                continue;
            }
            if let Some(copy) = slots[i].as_ref().and_then(|e| e.unloaded()) {
                slots[i] = Some(Arc::new(copy));
                dropped += 1;
            }
        }
        // The same facts at the same revision: only the slot table changed.
        self.snapshot = None;
        dropped
    }

    /// Heap bytes of what the index holds, by part.
    pub fn memory(&self) -> IndexMemory {
        let mut memory = IndexMemory::default();
        for entry in self.slots.iter().flatten() {
            match &entry.lazy {
                Some(lazy) => {
                    memory.summary_parts.add(&lazy.summary.light.heap_parts());
                    memory.reference_counts += lazy.summary.references.heap_bytes();
                }
                None => memory.whole_parts.add(&entry.index().heap_parts()),
            }
            let (summary, facts) = entry.heap_bytes();
            memory.summaries += summary;
            if entry.is_lazy() {
                memory.decoded += facts;
                memory.decoded_files += usize::from(facts > 0);
            } else {
                memory.whole += facts;
                memory.whole_files += 1;
            }
            memory.entries += std::mem::size_of::<FileEntry>() + entry.path.capacity();
        }
        memory.entries += self.slots.capacity() * 8 + self.ids.capacity() * (std::mem::size_of::<(String, FileId)>() + 8);
        memory.entries += self.ids.keys().map(String::capacity).sum::<usize>();
        memory.names = self.names.heap_bytes();
        memory.chunk_files = self.chunk_files.0.heap_bytes();
        memory.terms = self.terms.as_ref().map_or(0, |t| t.heap_bytes());
        memory
    }

    pub fn snapshot(&mut self) -> Arc<IndexSnapshot> {
        self.trim_details();
        if let Some(snapshot) = &self.snapshot {
            return snapshot.clone();
        }
        let snapshot = Arc::new(IndexSnapshot {
            slots: self.slots.clone(),
            ids: self.ids.clone(),
            ts_configs: self.ts_configs.clone(),
            names: self.names.clone(),
            chunk_files: self.chunk_files.clone(),
            chunks: self.chunks,
            terms: self.terms.clone(),
            revision: self.revision,
        });
        self.snapshot = Some(snapshot.clone());
        snapshot
    }

    /// Installs a term table (built from any snapshot of this index; see `TermTable`).
    /// Snapshots taken from now on carry it.
    pub fn set_term_table(&mut self, table: Arc<TermTable>) {
        self.terms = Some(table);
        self.snapshot = None;
    }

    pub fn stats(&self) -> IndexStats {
        let mut stats = IndexStats::default();
        for entry in self.slots.iter().flatten() {
            stats.add(&entry.stats());
        }
        stats
    }
}

/// Heap bytes of a `WorkspaceIndex`, by part (capacities; allocator overhead aside).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IndexMemory {
    /// Lazy entries' summaries (facts without details, defined names).
    pub summaries: usize,
    /// The summaries' facts by part.
    pub summary_parts: super::FactsMemory,
    /// The summaries' reference counts.
    pub reference_counts: usize,
    /// Lazy entries' decoded facts, and how many files have them.
    pub decoded: usize,
    pub decoded_files: usize,
    /// Entries held whole (open documents, files parsed without a cache to read from).
    pub whole: usize,
    /// The whole entries' facts by part.
    pub whole_parts: super::FactsMemory,
    pub whole_files: usize,
    /// The entries themselves, paths and the path table.
    pub entries: usize,
    /// The name table (defined name -> files).
    pub names: usize,
    /// The chunk table (chunk content hash -> files).
    pub chunk_files: usize,
    /// The term table (term -> files).
    pub terms: usize,
}

impl IndexMemory {
    pub fn total(&self) -> usize {
        self.summaries + self.decoded + self.whole + self.entries + self.names + self.chunk_files + self.terms
    }
}

/// An immutable view of the index at one revision.
pub struct IndexSnapshot {
    slots: Arc<Vec<Option<Arc<FileEntry>>>>,
    ids: Arc<HashMap<String, FileId>>,
    ts_configs: Arc<Vec<TsConfig>>,
    names: NameTable,
    chunk_files: ChunkTable,
    chunks: ChunkStats,
    terms: Option<Arc<TermTable>>,
    revision: u64,
}

impl IndexSnapshot {
    /// The workspace's term table, when one was installed (it may predate some files:
    /// see `TermTable::is_current`).
    pub fn term_table(&self) -> Option<&TermTable> {
        self.terms.as_deref()
    }

    /// Every file with its shared entry, in id order.
    pub fn entries(&self) -> impl Iterator<Item = (FileId, &Arc<FileEntry>)> {
        self.slots.iter().enumerate().filter_map(|(i, slot)| slot.as_ref().map(|entry| (FileId(i as u32), entry)))
    }

    /// The shared entry of a file.
    pub fn entry(&self, id: FileId) -> Option<&Arc<FileEntry>> {
        self.slots.get(id.0 as usize)?.as_ref()
    }

    /// How many files the snapshot holds.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The workspace's chunk count and total chunk length in lines.
    pub fn chunk_stats(&self) -> ChunkStats {
        self.chunks
    }

    /// The files that define a symbol named `name`, in id order (rarely, through a hash
    /// collision, one more that does not: callers compare names).
    pub fn files_defining(&self, name: &str) -> &[FileId] {
        self.names.files(name)
    }

    /// The files with a chunk of content hash `hash` (`Chunk::hash`), in id order.
    pub fn files_with_chunk(&self, hash: u64) -> &[FileId] {
        self.chunk_files.0.files_with_key(hash)
    }

    /// The files that define macros, in id order.
    pub fn files_with_macros(&self) -> &[FileId] {
        self.names.files(MACROS_KEY)
    }

    pub fn revision(&self) -> u64 {
        self.revision
    }

    pub fn file(&self, id: FileId) -> Option<&FileEntry> {
        self.slots.get(id.0 as usize)?.as_deref()
    }

    pub fn file_id(&self, path: &str) -> Option<FileId> {
        self.ids.get(path).copied()
    }

    /// Every file, in no particular order.
    pub fn files(&self) -> impl Iterator<Item = (FileId, &FileEntry)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, slot)| slot.as_deref().map(|entry| (FileId(i as u32), entry)))
    }

    pub fn ts_configs(&self) -> &[TsConfig] {
        &self.ts_configs
    }

    pub fn resolve_import(&self, from: FileId, import: &Import) -> Option<ResolvedImport> {
        ModuleResolver::new(self).resolve(from, import)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use super::*;
    use crate::lang::parse;

    /// Whole facts by path, counting how often each was asked for.
    #[derive(Default)]
    struct Source {
        facts: HashMap<String, FileIndex>,
        loads: Mutex<HashMap<String, usize>>,
    }

    impl FactSource for Source {
        fn load(&self, path: &str, _hash: u64, _summary: &FileSummary) -> Option<FileIndex> {
            *self.loads.lock().unwrap().entry(path.to_string()).or_default() += 1;
            self.facts.get(path).cloned()
        }
    }

    fn lazy_index(files: usize) -> (WorkspaceIndex, Arc<Source>) {
        let mut source = Source::default();
        for i in 0..files {
            let text = format!("/// Doc {i}.\npub fn f{i}(x: u32) -> u32 {{ g{i}(x) + shared(x) }}\npub fn shared(x: u32) -> u32 {{ x }}\n");
            source.facts.insert(format!("f{i}.rs"), crate::index::extract(Lang::Rust, &text, &parse(Lang::Rust, &text, None)));
        }
        let source = Arc::new(source);
        let mut index = WorkspaceIndex::new();
        for (path, facts) in &source.facts {
            let summary = FileSummary::of(facts.clone());
            index.insert(FileEntry::lazy(path.clone(), 1, summary, Arc::clone(&source) as Arc<dyn FactSource>));
        }
        (index, source)
    }

    /// With a budget, taking a snapshot drops the decoded facts of the files used least
    /// recently beyond it; they decode again, the same, when asked for; snapshots taken
    /// before keep theirs; names, chunks and the term table are untouched.
    #[test]
    fn decoded_facts_beyond_the_budget_are_dropped_least_recent_first() {
        let (mut index, source) = lazy_index(8);
        let one = source.facts["f0.rs"].heap_bytes();
        index.set_detail_budget(Some(one * 3));
        let table = Arc::new(TermTable::build(&index.snapshot()));
        index.set_term_table(Arc::clone(&table));
        let before = index.snapshot();
        let order = ["f3.rs", "f1.rs", "f7.rs", "f0.rs", "f5.rs", "f2.rs"];
        for path in order {
            assert_eq!(before.file(before.file_id(path).unwrap()).unwrap().index(), &source.facts[path]);
        }
        let revision = index.revision();
        let after = index.snapshot();
        assert_eq!(after.revision(), revision, "the same facts: the revision stays");
        let loaded: Vec<&str> = order.iter().copied().filter(|p| after.file(after.file_id(p).unwrap()).unwrap().is_loaded()).collect();
        // Kept: the most recent ones within three quarters of the budget (two files).
        assert_eq!(loaded, ["f0.rs", "f5.rs", "f2.rs"][1..]);
        assert!(index.memory().decoded <= one * 3);
        for path in order {
            let (id, entry) = (before.file_id(path).unwrap(), before.file(before.file_id(path).unwrap()).unwrap());
            assert!(entry.is_loaded(), "{path}: an earlier snapshot keeps what it decoded");
            assert!(table.is_current(id, after.entry(id).unwrap()), "{path}: the term table still holds this version");
            assert_eq!(after.file(id).unwrap().index(), &source.facts[path], "{path}: decoded again, the same");
        }
        assert_eq!(source.loads.lock().unwrap()["f3.rs"], 2, "dropped, then decoded again");
        assert_eq!(source.loads.lock().unwrap()["f2.rs"], 1, "kept");
        assert_eq!(after.files_defining("shared").len(), 8);
        assert_eq!(after.chunk_stats(), before.chunk_stats());
        assert_eq!(table.stale_files(&after), 0);

        // A replaced file is a new version for the table; without a budget nothing is dropped.
        let text = "pub fn other() {}\n";
        index.insert(FileEntry::new("f4.rs".into(), 2, crate::index::extract(Lang::Rust, text, &parse(Lang::Rust, text, None))));
        assert_eq!(table.stale_files(&index.snapshot()), 1);
        index.set_detail_budget(None);
        let all = index.snapshot();
        for (_, entry) in all.files() {
            entry.index();
        }
        assert_eq!(index.trim_details(), 0);
        assert!(index.snapshot().files().all(|(_, e)| e.is_loaded()));
    }

    /// The memory accounting counts summaries, decoded and whole facts apart.
    #[test]
    fn memory_counts_summaries_decoded_and_whole_facts() {
        let (mut index, source) = lazy_index(3);
        let empty = index.memory();
        assert!(empty.summaries > 0 && empty.decoded == 0 && empty.whole == 0 && empty.names > 0 && empty.entries > 0);
        let snapshot = index.snapshot();
        snapshot.file(snapshot.file_id("f1.rs").unwrap()).unwrap().index();
        let decoded = index.memory();
        assert_eq!((decoded.decoded, decoded.decoded_files), (source.facts["f1.rs"].clone().heap_bytes(), 1), "a clone, as the source gives");
        let text = "pub fn whole() {}\n";
        let facts = crate::index::extract(Lang::Rust, text, &parse(Lang::Rust, text, None));
        let bytes = facts.heap_bytes();
        index.insert(FileEntry::new("w.rs".into(), 1, facts));
        assert_eq!((index.memory().whole, index.memory().whole_files), (bytes, 1));
    }

    /// The chunk table holds, for every chunk hash, exactly the files with such a chunk,
    /// through inserts, replacements and removals; a snapshot keeps the table of its
    /// revision.
    #[test]
    fn the_chunk_table_lists_the_files_with_each_chunk() {
        let pieces = ["pub fn a() -> u8 { 1 }\n", "pub fn b() -> u8 { 2 }\n", "pub struct C;\n", "pub fn d(x: u8) -> u8 { x }\n"];
        let facts = |mask: usize| {
            let text: String = (0..8).filter(|bit| mask & (1 << bit) != 0).map(|bit| pieces[bit % 4]).collect();
            crate::index::extract(Lang::Rust, &text, &parse(Lang::Rust, &text, None))
        };
        let mut index = WorkspaceIndex::new();
        let mut seen: Vec<u64> = Vec::new();
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut snapshots = Vec::new();
        for step in 0..200 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let path = format!("f{}.rs", state % 7);
            if state.is_multiple_of(5) {
                index.remove(&path);
            } else {
                let file = facts((state >> 8) as usize % 256);
                seen.extend(file.chunks.iter().map(|c| c.hash));
                index.insert(FileEntry::new(path, step, file));
            }
            let snapshot = index.snapshot();
            let scan = |snapshot: &IndexSnapshot, hash: u64| {
                let mut files: Vec<FileId> = snapshot.files().filter(|(_, e)| e.chunks().iter().any(|c| c.hash == hash)).map(|(id, _)| id).collect();
                files.sort();
                files
            };
            seen.sort_unstable();
            seen.dedup();
            for &hash in &seen {
                assert_eq!(snapshot.files_with_chunk(hash), scan(&snapshot, hash).as_slice(), "step {step}");
            }
            if step % 50 == 0 {
                snapshots.push(snapshot);
            }
        }
        assert!(seen.len() >= 4 && snapshots.len() == 4);
        for snapshot in &snapshots {
            for &hash in &seen {
                let mut files: Vec<FileId> = snapshot.files().filter(|(_, e)| e.chunks().iter().any(|c| c.hash == hash)).map(|(id, _)| id).collect();
                files.sort();
                assert_eq!(snapshot.files_with_chunk(hash), files.as_slice());
            }
        }
        assert!(index.memory().chunk_files > 0);
    }
}
