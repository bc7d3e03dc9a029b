//! `WorkspaceIndex`: the mutable host of every indexed file of one workspace root, and the
//! immutable `IndexSnapshot`s that requests read. Replacing a file touches only that
//! file's entry; taking a snapshot after a change costs a copy of the slot table.
//! A workspace-wide table maps each defined name to the files defining it, in shards
//! shared between snapshots: an edit that does not change a file's defined names (most
//! keystrokes) leaves it alone, and one that does copies only the shards of those names.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use super::resolve::{ModuleResolver, ResolvedImport, TsConfig};
use super::terms::TermTable;
use super::{Chunk, FileIndex, Import, Posting};
use crate::lang::Lang;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// One indexed file: its facts in memory, or (loaded lazily from the cache) its summary
/// in memory and the rest decoded on first use.
pub struct FileEntry {
    /// Relative to the workspace root, `/`-separated.
    pub path: String,
    /// `content_hash` of the file's bytes (of the editor's text for open documents).
    pub hash: u64,
    facts: OnceLock<FileIndex>,
    lazy: Option<Box<Lazy>>,
}

struct Lazy {
    summary: FileSummary,
    source: Arc<dyn FactSource>,
}

/// What retrieval reads of every file: its facts without the details (`Details`:
/// symbols' signatures and docs, identifier occurrences) that it reads of a few files
/// only, with the names the file defines and its counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileSummary {
    /// The facts without their details (`FileIndex::split_details`).
    pub light: FileIndex,
    /// `defined_names` of the facts.
    pub names: Vec<u64>,
    pub stats: IndexStats,
}

/// Where a lazily loaded entry's facts come from (the cache).
pub trait FactSource: Send + Sync {
    /// The facts of `path` at content `hash` (`summary` with its details); `None` when
    /// the source no longer has that version.
    fn load(&self, path: &str, hash: u64, summary: &FileSummary) -> Option<FileIndex>;
}

impl FileEntry {
    pub fn new(path: String, hash: u64, index: FileIndex) -> FileEntry {
        FileEntry { path, hash, facts: OnceLock::from(index), lazy: None }
    }

    /// An entry whose facts `source` decodes when first asked for.
    pub fn lazy(path: String, hash: u64, summary: FileSummary, source: Arc<dyn FactSource>) -> FileEntry {
        FileEntry { path, hash, facts: OnceLock::new(), lazy: Some(Box::new(Lazy { summary, source })) }
    }

    /// The file's facts (decoded now if the entry is lazy and this is the first use).
    pub fn index(&self) -> &FileIndex {
        self.facts.get_or_init(|| {
            let lazy = self.lazy.as_ref().expect("an entry without facts is lazy");
            lazy.source.load(&self.path, self.hash, &lazy.summary).unwrap_or_else(|| {
                tracing::warn!("{}: cached details unavailable; using the facts without them", self.path);
                lazy.summary.light.clone()
            })
        })
    }

    /// True when the facts are in memory (always, for an entry that is not lazy).
    pub fn is_loaded(&self) -> bool {
        self.facts.get().is_some()
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

    fn defined_names(&self) -> Cow<'_, [u64]> {
        match &self.lazy {
            Some(lazy) => Cow::Borrowed(&lazy.summary.names),
            None => Cow::Owned(defined_names(self.index())),
        }
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
        }
    }

    pub fn add(&mut self, other: &IndexStats) {
        self.files += other.files;
        self.symbols += other.symbols;
        self.references += other.references;
        self.chunks += other.chunks;
        self.bytes += other.bytes;
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

/// Defined name -> files defining it (sorted), in shards by name hash.
#[derive(Clone)]
struct NameTable {
    shards: Vec<Arc<NameShard>>,
}

impl Default for NameTable {
    fn default() -> NameTable {
        NameTable { shards: (0..NAME_SHARDS).map(|_| Arc::default()).collect() }
    }
}

impl NameTable {
    fn files(&self, name: &str) -> &[FileId] {
        let key = name_key(name);
        self.shards[(key % NAME_SHARDS as u64) as usize].get(&key).map_or(&[], FileList::as_slice)
    }

    fn add(&mut self, key: u64, file: FileId) {
        let shard = Arc::make_mut(&mut self.shards[(key % NAME_SHARDS as u64) as usize]);
        match shard.get_mut(&key) {
            Some(files) => files.add(file),
            None => {
                shard.insert(key, FileList::One(file));
            }
        }
    }

    fn remove(&mut self, key: u64, file: FileId) {
        let shard = Arc::make_mut(&mut self.shards[(key % NAME_SHARDS as u64) as usize]);
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

#[derive(Default)]
pub struct WorkspaceIndex {
    slots: Arc<Vec<Option<Arc<FileEntry>>>>,
    ids: Arc<HashMap<String, FileId>>,
    ts_configs: Arc<Vec<TsConfig>>,
    names: NameTable,
    chunks: ChunkStats,
    terms: Option<Arc<TermTable>>,
    revision: u64,
    snapshot: Option<Arc<IndexSnapshot>>,
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
        if old_names != new_names {
            for &key in old_names.iter().filter(|n| new_names.binary_search(n).is_err()) {
                self.names.remove(key, id);
            }
            for &key in new_names.iter().filter(|n| old_names.binary_search(n).is_err()) {
                self.names.add(key, id);
            }
        }
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

    pub fn snapshot(&mut self) -> Arc<IndexSnapshot> {
        if let Some(snapshot) = &self.snapshot {
            return snapshot.clone();
        }
        let snapshot = Arc::new(IndexSnapshot {
            slots: self.slots.clone(),
            ids: self.ids.clone(),
            ts_configs: self.ts_configs.clone(),
            names: self.names.clone(),
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

/// An immutable view of the index at one revision.
pub struct IndexSnapshot {
    slots: Arc<Vec<Option<Arc<FileEntry>>>>,
    ids: Arc<HashMap<String, FileId>>,
    ts_configs: Arc<Vec<TsConfig>>,
    names: NameTable,
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
