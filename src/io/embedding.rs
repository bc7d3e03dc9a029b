//! Keeps the vector store in step with the index: chunks without a vector are embedded in
//! batches (the built-in embedder, or a provider's), vectors of chunks gone from the
//! workspace are dropped, and the store is saved. Queries embed the query text the same
//! way. The store opens lazily, once the embedder's dimension is known.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::llm::{Embedder, LlmError};
use super::vectors::VectorStore;
use crate::base::content_hash;
use crate::index::{FileId, IndexSnapshot};

/// Texts per embedding call: the built-in embedder's, and a provider's (kept well under
/// the providers' per-request input limits).
const BATCH_BUILTIN: usize = 256;
const BATCH_PROVIDER: usize = 32;
/// A chunk's text is cut to this many bytes for the embedder (providers limit inputs).
const MAX_TEXT_BYTES: usize = 6_000;
/// The built-in embedder's new vectors are written once there are this many.
const SAVE_AFTER: usize = 64;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EmbedReport {
    pub embedded: usize,
    pub removed: usize,
    /// Chunks whose file changed on disk since it was indexed (embedded next time).
    pub stale: usize,
    pub total: usize,
}

pub struct Vectors {
    embedder: Box<dyn Embedder>,
    dir: Option<PathBuf>,
    store: Mutex<Option<VectorStore>>,
    /// Vectors are cheap to compute again (the built-in embedder).
    cheap: bool,
}

impl Vectors {
    /// Vectors of `embedder`'s space, persisted in `dir` (`None`: in memory).
    pub fn new(embedder: Box<dyn Embedder>, dir: Option<&Path>) -> Vectors {
        let cheap = embedder.space() == crate::retrieve::embed::SPACE;
        Vectors { embedder, dir: dir.map(Path::to_path_buf), store: Mutex::new(None), cheap }
    }

    pub fn space(&self) -> String {
        self.embedder.space()
    }

    /// How many vectors the store holds (0 before it is opened).
    pub fn len(&self) -> usize {
        self.lock().as_ref().map_or(0, VectorStore::len)
    }

    /// The heap bytes of the store (0 before it is opened; see `VectorStore::heap_bytes`).
    pub fn heap_bytes(&self) -> usize {
        self.lock().as_ref().map_or(0, VectorStore::heap_bytes)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The store, opened from its file on first use when there is one.
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<VectorStore>> {
        let mut guard = self.store.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if guard.is_none() {
            if let Some(dir) = &self.dir {
                *guard = VectorStore::open_existing(dir, &self.embedder.space());
            }
        }
        guard
    }

    fn with_store<T>(&self, dimensions: usize, f: impl FnOnce(&mut VectorStore) -> T) -> T {
        let mut guard = self.lock();
        let reopen = guard.as_ref().is_none_or(|s| s.dimensions() != dimensions);
        if reopen {
            *guard = Some(VectorStore::open(self.dir.as_deref(), &self.embedder.space(), dimensions));
        }
        f(guard.as_mut().expect("opened above"))
    }

    /// Chunks of the snapshot that have no vector yet, one per distinct content.
    pub fn missing(&self, snapshot: &IndexSnapshot) -> Vec<(FileId, u32)> {
        let guard = self.lock();
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        let mut files: Vec<_> = snapshot.files().collect();
        files.sort_by(|a, b| a.1.path.cmp(&b.1.path));
        for (id, entry) in files {
            for (i, chunk) in entry.chunks().iter().enumerate() {
                let known = guard.as_ref().is_some_and(|s| s.contains(chunk.hash));
                if !known && seen.insert(chunk.hash) {
                    out.push((id, i as u32));
                }
            }
        }
        out
    }

    /// Embeds every chunk without a vector, drops vectors of chunks no longer in the
    /// snapshot, and saves. `text_of` gives a file's current text (an open document's
    /// or the disk's); chunks whose text no longer has their hash are left for later.
    pub async fn update(
        &self,
        snapshot: &IndexSnapshot,
        text_of: &(dyn Fn(FileId) -> Option<String> + Sync),
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<EmbedReport, LlmError> {
        let started = std::time::Instant::now();
        self.convert();
        let todo = self.missing(snapshot);
        tracing::debug!("missing vectors found in {:.1} ms", started.elapsed().as_secs_f64() * 1000.0);
        let mut report = EmbedReport { total: todo.len(), ..EmbedReport::default() };
        let mut current: Option<(FileId, Option<String>)> = None;
        let mut done = 0;
        let batch_size = if self.cheap { BATCH_BUILTIN } else { BATCH_PROVIDER };
        for batch in todo.chunks(batch_size) {
            let mut keys = Vec::with_capacity(batch.len());
            let mut texts = Vec::with_capacity(batch.len());
            for &(file, chunk) in batch {
                if current.as_ref().is_none_or(|(f, _)| *f != file) {
                    current = Some((file, text_of(file)));
                }
                let Some(entry) = snapshot.file(file) else { continue };
                let chunk = &entry.chunks()[chunk as usize];
                let text = current.as_ref().and_then(|(_, t)| t.as_deref());
                let slice = text.and_then(|t| t.get(chunk.range.start as usize..chunk.range.end as usize));
                match slice {
                    Some(slice) if content_hash(slice.as_bytes()) == chunk.hash => {
                        let cut = crate::lang::floor_char_boundary(slice, MAX_TEXT_BYTES.min(slice.len()));
                        keys.push(chunk.hash);
                        texts.push(slice[..cut].to_string());
                    }
                    _ => report.stale += 1,
                }
            }
            if !texts.is_empty() {
                let vectors = self.embedder.embed(&texts).await?;
                let dimensions = vectors.first().map_or(0, Vec::len);
                self.with_store(dimensions, |store| {
                    for (key, vector) in keys.iter().zip(&vectors) {
                        if let Err(err) = store.insert(*key, vector) {
                            tracing::warn!("{err}");
                        }
                    }
                });
                report.embedded += texts.len();
            }
            done += batch.len();
            progress(done, report.total);
        }
        let live: HashSet<u64> = snapshot.files().flat_map(|(_, e)| e.chunks().iter().map(|c| c.hash)).collect();
        tracing::debug!("vectors updated in {:.1} ms", started.elapsed().as_secs_f64() * 1000.0);
        let mut guard = self.lock();
        if let Some(store) = guard.as_mut() {
            report.removed = store.retain(&live);
            // A few vectors of the built-in embedder cost less to compute again than to
            // write the whole store; a provider's are always kept.
            let worth_saving = !self.cheap || store.unsaved() >= SAVE_AFTER || store.unsaved() * 10 > store.len();
            if worth_saving {
                if let Err(err) = store.save() {
                    tracing::warn!("{err}; vectors are kept in memory for this run");
                }
            }
        }
        Ok(report)
    }

    /// Converts a store of an older scalar kind, the store unlocked meanwhile: searches
    /// go on in the old file, and take the new one once it is written.
    fn convert(&self) {
        let Some(conversion) = self.lock().as_ref().and_then(VectorStore::conversion) else { return };
        let finished = conversion.run().and_then(|converted| self.lock().as_mut().map_or(Ok(()), |store| store.finish(converted)));
        if let Err(err) = finished {
            tracing::warn!("vectors not converted ({err}); the next save converts them");
        }
    }

    /// The `count` chunks nearest to `text`: (chunk hash, cosine similarity).
    pub async fn query(&self, text: &str, count: usize) -> Result<Vec<(u64, f32)>, LlmError> {
        let vectors = self.embedder.embed(std::slice::from_ref(&text.to_string())).await?;
        let Some(vector) = vectors.into_iter().next() else { return Ok(Vec::new()) };
        Ok(self.with_store(vector.len(), |store| store.search(&vector, count)))
    }
}
