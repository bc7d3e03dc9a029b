//! `WorkspaceIndex`: the mutable host of every indexed file of one workspace root, and the
//! immutable `IndexSnapshot`s that requests read. Replacing a file touches only that
//! file's entry; taking a snapshot after a change costs a copy of the slot table.
//! A workspace-wide table maps each defined name to the files defining it, in shards
//! shared between snapshots: an edit that does not change a file's defined names (most
//! keystrokes) leaves it alone, and one that does copies only the shards of those names.

use std::collections::HashMap;
use std::sync::Arc;

use super::resolve::{ModuleResolver, ResolvedImport, TsConfig};
use super::terms::TermTable;
use super::{FileIndex, Import};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// One indexed file.
#[derive(Debug, PartialEq, Eq)]
pub struct FileEntry {
    /// Relative to the workspace root, `/`-separated.
    pub path: String,
    /// `content_hash` of the file's bytes (of the editor's text for open documents).
    pub hash: u64,
    pub index: FileIndex,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct IndexStats {
    pub files: u64,
    pub symbols: u64,
    pub references: u64,
    pub chunks: u64,
    pub bytes: u64,
}

impl IndexStats {
    pub fn add(&mut self, index: &FileIndex) {
        self.files += 1;
        self.symbols += index.symbols.len() as u64;
        self.references += index.references.len() as u64;
        self.chunks += index.chunks.len() as u64;
        self.bytes += u64::from(index.line_index.len());
    }
}

const NAME_SHARDS: usize = 64;
/// The table key under which files defining macros are listed.
const MACROS_KEY: &str = "\0macros";

/// Keyed by the name's 64-bit hash: no string is stored, and a collision only means a
/// caller looks at a file that turns out not to define the name.
type NameShard = rustc_hash::FxHashMap<u64, Vec<FileId>>;

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
        self.shards[(key % NAME_SHARDS as u64) as usize].get(&key).map_or(&[], Vec::as_slice)
    }

    fn add(&mut self, key: u64, file: FileId) {
        let shard = Arc::make_mut(&mut self.shards[(key % NAME_SHARDS as u64) as usize]);
        let files = shard.entry(key).or_default();
        if let Err(at) = files.binary_search(&file) {
            files.insert(at, file);
        }
    }

    fn remove(&mut self, key: u64, file: FileId) {
        let shard = Arc::make_mut(&mut self.shards[(key % NAME_SHARDS as u64) as usize]);
        if let Some(files) = shard.get_mut(&key) {
            if let Ok(at) = files.binary_search(&file) {
                files.remove(at);
            }
            if files.is_empty() {
                shard.remove(&key);
            }
        }
    }
}

fn name_key(name: &str) -> u64 {
    crate::base::content_hash(name.as_bytes())
}

/// The keys of the distinct names a file defines (and the macros marker), sorted.
fn defined_names(index: &FileIndex) -> Vec<u64> {
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
    fn of(index: &FileIndex) -> ChunkStats {
        ChunkStats {
            chunks: index.chunks.len() as u64,
            lines: index.chunks.iter().map(|c| u64::from(c.end_line - c.start_line + 1)).sum(),
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
        let new_names = defined_names(&entry.index);
        let old_entry = self.slots[id.0 as usize].clone();
        if let Some(old) = &old_entry {
            self.chunks.sub(ChunkStats::of(&old.index));
        }
        self.chunks.add(ChunkStats::of(&entry.index));
        let old_names = old_entry.as_ref().map(|e| defined_names(&e.index)).unwrap_or_default();
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
            self.chunks.sub(ChunkStats::of(&old.index));
            for key in defined_names(&old.index) {
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
            stats.add(&entry.index);
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
