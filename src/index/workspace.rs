//! `WorkspaceIndex`: the mutable host of every indexed file of one workspace root, and the
//! immutable `IndexSnapshot`s that requests read. Replacing a file touches only that
//! file's entry; taking a snapshot after a change costs a copy of the slot table.

use std::collections::HashMap;
use std::sync::Arc;

use super::resolve::{ModuleResolver, ResolvedImport, TsConfig};
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

#[derive(Default)]
pub struct WorkspaceIndex {
    slots: Arc<Vec<Option<Arc<FileEntry>>>>,
    ids: Arc<HashMap<String, FileId>>,
    ts_configs: Arc<Vec<TsConfig>>,
    revision: u64,
    snapshot: Option<Arc<IndexSnapshot>>,
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
        Arc::make_mut(&mut self.slots)[id.0 as usize] = Some(entry);
        self.changed();
        id
    }

    pub fn remove(&mut self, path: &str) -> bool {
        let Some(id) = Arc::make_mut(&mut self.ids).remove(path) else { return false };
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
            revision: self.revision,
        });
        self.snapshot = Some(snapshot.clone());
        snapshot
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
    revision: u64,
}

impl IndexSnapshot {
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
