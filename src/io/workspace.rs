//! `Indexer`: one root folder, its configuration and its cache. `refresh` brings an index
//! (any `IndexSink`: a plain `WorkspaceIndex`, or the server's state) up to date with the
//! disk: files whose size and mtime match the cache are taken as they are; others are read
//! and hashed, and only those whose content changed are parsed (on all cores), extracted
//! and written back. The sink is fed update by update, so a server never waits for a whole
//! refresh to serve requests or apply edits.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc};
use std::time::Instant;

use rayon::prelude::*;

use super::store::{self, CachedFile, FileRow, RawRow, Store, StoreError};
use super::vfs::{self, SkipReason, WalkedFile};
use crate::config::{Config, ConfigIssue};
use crate::index::{self, FactSource, FileEntry, GeneratedFiles, IndexStats, TsConfig, WorkspaceIndex};
use crate::lang::{self, Lang};

pub const CONFIG_FILE: &str = ".ctxls.toml";

/// Rows are written in transactions of this many files.
const WRITE_BATCH: usize = 256;

/// The cache's record of `[index] generated_files` (`Store::setting`): "full" once rows
/// may have been extracted with it, "symbols" once a refresh with "symbols" re-extracted
/// them. Never recorded: "symbols" (what caches of this schema were written with).
const GENERATED_FILES_SETTING: &str = "index.generated_files";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefreshMode {
    /// Keep every file's facts in memory (the server, `ctxls symbols`).
    Load,
    /// Every file's facts available, the unchanged ones loaded lazily: their summaries
    /// in memory, the rest decoded from the cache when first used (one-shot retrieval:
    /// `ctxls context`, which reads a few files whole). `Load` without a cache file.
    Lazy,
    /// Only bring the cache up to date and count (`ctxls index`): lean on memory.
    CacheOnly,
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct RefreshReport {
    pub stats: IndexStats,
    pub skipped: BTreeMap<SkipReason, u64>,
    /// Files parsed in this refresh.
    pub reparsed: u64,
    /// Files dropped from the index because they are gone or now ignored.
    pub removed: u64,
    pub seconds: f64,
    /// Per-file problems (unreadable files, walk errors), as messages.
    pub errors: Vec<String>,
}

impl RefreshReport {
    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }
}

/// Progress of a refresh: files processed so far out of those to process.
pub type ProgressFn<'a> = &'a (dyn Fn(u64, u64) + Sync);

/// A change for the in-memory index.
pub enum IndexUpdate {
    Insert(Box<FileEntry>),
    Remove(String),
    TsConfigs(Vec<TsConfig>),
}

/// Where a refresh delivers its results.
pub trait IndexSink {
    /// The content hash of the file as the sink holds it, if it does.
    fn known_hash(&self, path: &str) -> Option<u64>;
    /// Every path the sink holds.
    fn known_paths(&self) -> Vec<String>;
    /// Whether the sink holds the file's facts whole (not a summary read from the cache).
    fn holds_whole(&self, _path: &str) -> bool {
        false
    }
    fn apply(&mut self, update: IndexUpdate);
}

impl IndexSink for WorkspaceIndex {
    fn known_hash(&self, path: &str) -> Option<u64> {
        self.get(path).map(|e| e.hash)
    }

    fn known_paths(&self) -> Vec<String> {
        self.paths().map(str::to_string).collect()
    }

    fn holds_whole(&self, path: &str) -> bool {
        self.get(path).is_some_and(|e| !e.is_lazy())
    }

    fn apply(&mut self, update: IndexUpdate) {
        match update {
            IndexUpdate::Insert(entry) => {
                self.insert(*entry);
            }
            IndexUpdate::Remove(path) => {
                self.remove(&path);
            }
            IndexUpdate::TsConfigs(configs) => self.set_ts_configs(configs),
        }
    }
}

pub struct Indexer {
    pub root: PathBuf,
    pub config: Config,
    store: Store,
    /// The cache reader of lazy entries, once a `Lazy` refresh opened it.
    lazy_source: Option<Arc<dyn FactSource>>,
    /// Files parsed by a `Lazy` refresh or `update_paths` enter the index lazily too,
    /// once their rows are written (see `summarize_parsed`).
    summarize_parsed: bool,
    /// Whether a refresh keeps the cached facts of the files it parses again
    /// (`keep_replaced`), and those it kept, by path: content hash and facts.
    keep_replaced: bool,
    replaced: HashMap<String, (u64, index::FileIndex)>,
}

impl Indexer {
    /// Opens a workspace rooted at `root` with `config`, and its cache in `cache_dir`
    /// (`None`: no persistent cache).
    pub fn open(root: &Path, config: Config, cache_dir: Option<&Path>) -> Indexer {
        let store = match cache_dir {
            Some(dir) => Store::open(dir),
            None => Store::in_memory(),
        };
        Indexer { root: root.to_path_buf(), config, store, lazy_source: None, summarize_parsed: false, keep_replaced: false, replaced: HashMap::new() }
    }

    /// From now on, a refresh keeps the facts the cache held for each file it parses
    /// again (its version before the change), for `take_replaced`: `next-edit` compares
    /// the text before the edits with the new one, and the cache often holds exactly
    /// that text's facts, which are decoded in a fraction of a parse's time.
    pub fn keep_replaced(&mut self) {
        self.keep_replaced = true;
    }

    /// The facts kept by `keep_replaced` since the last call, by path: the content hash
    /// they were extracted from, and the facts.
    pub fn take_replaced(&mut self) -> HashMap<String, (u64, index::FileIndex)> {
        std::mem::take(&mut self.replaced)
    }

    /// From now on, files parsed by a `Lazy` refresh or by `update_paths` enter the index
    /// as summaries once their rows are written, their details read back from the cache
    /// on demand, as unchanged files do (the server: its memory then does not grow with
    /// what it parsed). Without it they enter whole, at once. Entries stay whole when
    /// their rows could not be written, or with an in-memory cache.
    pub fn summarize_parsed(&mut self) {
        self.summarize_parsed = true;
    }

    pub fn cache_path(&self) -> Option<&Path> {
        self.store.path()
    }

    /// Reads `.ctxls.toml` at `root` on top of `config`.
    pub fn read_config_file(root: &Path, config: &mut Config) -> Vec<ConfigIssue> {
        let path = root.join(CONFIG_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => config.apply_toml(&path.display().to_string(), &text),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(err) => vec![ConfigIssue { source: path.display().to_string(), key: String::new(), message: err.to_string() }],
        }
    }

    pub fn refresh(&mut self, mode: RefreshMode, progress: ProgressFn, sink: &mut dyn IndexSink) -> RefreshReport {
        let started = Instant::now();
        let mut report = RefreshReport::default();
        if mode == RefreshMode::Lazy && self.lazy_source.is_none() {
            self.lazy_source = self.store.reader().map(|reader| Arc::new(reader) as Arc<dyn FactSource>);
        }
        let lazy_source = if mode == RefreshMode::Lazy { self.lazy_source.clone() } else { None };
        let mode = if mode == RefreshMode::Lazy && lazy_source.is_none() { RefreshMode::Load } else { mode };
        // A first load (the sink holds nothing yet): the cache's rows are read and decoded
        // while the walk runs; rows of files that turn out changed are dropped.
        let prefetch = mode != RefreshMode::CacheOnly && sink.known_paths().is_empty();
        let (walk, mut prefetched) = std::thread::scope(|scope| {
            let walker = scope.spawn(|| {
                let walk = vfs::walk(&self.root, &self.config.index);
                tracing::debug!("walked in {:.1} ms", started.elapsed().as_secs_f64() * 1000.0);
                walk
            });
            let prefetched = prefetch.then(|| self.read_rows(&|_| true, lazy_source.is_some()));
            tracing::debug!("rows read in {:.1} ms", started.elapsed().as_secs_f64() * 1000.0);
            (walker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)), prefetched)
        });
        report.errors.extend(walk.errors.iter().cloned());
        for (_, reason) in &walk.skipped {
            *report.skipped.entry(*reason).or_default() += 1;
        }
        sink.apply(IndexUpdate::TsConfigs(read_ts_configs(&walk.ts_configs)));

        let manifest = self.store.manifest().unwrap_or_else(|err| {
            // A corrupt cache is replaced by an empty one; either way everything is read.
            if !self.store.recover(&err) {
                tracing::warn!("{err}; re-indexing everything");
            }
            HashMap::new()
        });

        // Files whose size and mtime match the cache are unchanged, unless the setting for
        // generated files changes their facts; the rest are read.
        let extract_again = self.extracted_otherwise(&manifest);
        if !extract_again.is_empty() {
            tracing::info!(
                "{} generated declaration files extracted again: [index] generated_files = \"{}\"",
                extract_again.len(),
                self.config.index.generated_files.as_str()
            );
        }
        let mut unchanged: Vec<&WalkedFile> = Vec::new();
        let mut to_read: Vec<&WalkedFile> = Vec::new();
        for file in &walk.files {
            match manifest.get(&file.rel_path) {
                Some(cached)
                    if cached.size == file.size
                        && cached.mtime == file.mtime
                        && file.mtime != 0
                        && !extract_again.contains(&file.rel_path) =>
                {
                    unchanged.push(file)
                }
                _ => to_read.push(file),
            }
        }
        // Big files first, so that both cores finish together.
        to_read.sort_by_key(|f| std::cmp::Reverse(f.size));

        tracing::debug!("manifest in {:.1} ms", started.elapsed().as_secs_f64() * 1000.0);
        if self.config.index.generated_files == GeneratedFiles::Full {
            self.record_generated_files();
        }
        let outcome = self.process(&to_read, &manifest, &extract_again, mode, progress, &mut report, sink);
        if self.config.index.generated_files == GeneratedFiles::Symbols && !outcome.write_failed {
            self.record_generated_files();
        }
        tracing::debug!("processed in {:.1} ms", started.elapsed().as_secs_f64() * 1000.0);

        // Everything the cache holds that the walk no longer finds goes away.
        let walked: HashSet<&str> = walk.files.iter().map(|f| f.rel_path.as_str()).collect();
        let skipped_now: HashSet<&str> = outcome.skipped.iter().map(String::as_str).collect();
        let removed: Vec<String> = manifest
            .keys()
            .filter(|p| !walked.contains(p.as_str()) || skipped_now.contains(p.as_str()))
            .cloned()
            .collect();
        if let Err(err) = self.store.write(&[], &removed) {
            tracing::warn!("{err}");
        }
        if !outcome.touched.is_empty() {
            if let Err(err) = self.store.update_mtimes(&outcome.touched) {
                tracing::warn!("{err}");
            }
        }
        let stale: Vec<String> = sink
            .known_paths()
            .into_iter()
            .filter(|p| !walked.contains(p.as_str()) || skipped_now.contains(p.as_str()))
            .collect();
        for path in &stale {
            sink.apply(IndexUpdate::Remove(path.clone()));
        }
        report.removed = removed.len().max(stale.len()) as u64;

        // Facts of unchanged files: counted from the manifest, or decoded from the cache.
        let kept: Vec<&str> = unchanged
            .iter()
            .map(|f| f.rel_path.as_str())
            .chain(outcome.same_content.iter().map(String::as_str))
            .collect();
        match mode {
            RefreshMode::CacheOnly => {
                for path in &kept {
                    if let Some(cached) = manifest.get(*path) {
                        report.stats.add(&cached.stats);
                    }
                }
            }
            RefreshMode::Load | RefreshMode::Lazy => {
                let missing = self.load_from_cache(&kept, &manifest, sink, prefetched.take(), lazy_source.as_ref());
                if !missing.is_empty() {
                    // Rows that could not be decoded are parsed again.
                    let files: Vec<&WalkedFile> = walk.files.iter().filter(|f| missing.contains(&f.rel_path)).collect();
                    let again = self.process(&files, &HashMap::new(), &HashSet::new(), mode, progress, &mut report, sink);
                    report.stats.add(&again.stats);
                }
                report.stats.add(&outcome.stats);
                for path in &kept {
                    if let Some(cached) = manifest.get(*path).filter(|_| !missing.contains(*path)) {
                        report.stats.add(&cached.stats);
                    }
                }
            }
        }
        if mode == RefreshMode::CacheOnly {
            report.stats.add(&outcome.stats);
        }
        report.stats.files = walk.files.len() as u64 - outcome.skipped.len() as u64;
        report.seconds = started.elapsed().as_secs_f64();
        report
    }

    /// The files whose cached facts `[index] generated_files` would change: with "full",
    /// those indexed by their declarations only; with "symbols", once the cache recorded
    /// "full", those meeting `index::is_generated` that were indexed whole. Their content
    /// did not change: they are extracted again, and no other file is.
    fn extracted_otherwise(&self, manifest: &HashMap<String, CachedFile>) -> HashSet<String> {
        match self.config.index.generated_files {
            GeneratedFiles::Full => manifest.iter().filter(|(_, cached)| cached.stats.generated > 0).map(|(path, _)| path.clone()).collect(),
            GeneratedFiles::Symbols => {
                let recorded = self.store.setting(GENERATED_FILES_SETTING).ok().flatten();
                if recorded.as_deref().and_then(GeneratedFiles::from_name).unwrap_or_default() == GeneratedFiles::Symbols {
                    return HashSet::new();
                }
                // Only files with enough symbols can meet the rule; their line counts
                // are read from their summaries (a row that cannot be read is extracted
                // again, to be sure).
                let min_symbols = u64::from(index::GENERATED_MIN_LINES.div_ceil(index::GENERATED_LINES_PER_SYMBOL));
                manifest
                    .iter()
                    .filter(|(_, cached)| cached.stats.generated == 0 && cached.stats.symbols >= min_symbols)
                    .filter(|(path, cached)| {
                        let summary = self.store.row(path).ok().flatten().and_then(|row| store::decode_summary(&row.summary));
                        summary.is_none_or(|s| index::is_generated(s.light.line_index.line_count(), cached.stats.symbols as usize))
                    })
                    .map(|(path, _)| path.clone())
                    .collect()
            }
        }
    }

    /// Records the configuration's `generated_files` in the cache, when it differs from
    /// what the cache recorded.
    fn record_generated_files(&mut self) {
        let value = self.config.index.generated_files.as_str();
        let recorded = self.store.setting(GENERATED_FILES_SETTING).ok().flatten();
        if recorded.as_deref().unwrap_or(GeneratedFiles::Symbols.as_str()) != value {
            if let Err(err) = self.store.set_setting(GENERATED_FILES_SETTING, value) {
                tracing::warn!("{err}");
            }
        }
    }

    /// Brings single files up to date (watcher events, a document closed or saved):
    /// gone, ignored or skipped files leave the index; changed ones are parsed again.
    pub fn update_paths(&mut self, paths: &[PathBuf], sink: &mut dyn IndexSink) {
        if self.config.index.generated_files == GeneratedFiles::Full {
            self.record_generated_files();
        }
        let generated = self.config.index.generated_files;
        let mut rules = vfs::IgnoreRules::new(&self.root, &self.config.index);
        let mut rows = Vec::new();
        let mut removed = Vec::new();
        let mut parsed = Vec::new();
        for path in paths {
            let Ok(rel) = path.strip_prefix(&self.root) else { continue };
            let rel_path = vfs::relative_path(&self.root, path);
            let Some(lang) = Lang::from_path(rel) else { continue };
            let meta = std::fs::symlink_metadata(path);
            let indexable = meta.as_ref().is_ok_and(|m| m.is_file()) && !rules.is_ignored(path);
            let read = if indexable { vfs::read_source(path, &self.config.index).ok() } else { None };
            let Some((hash, text)) = read else {
                removed.push(rel_path.clone());
                sink.apply(IndexUpdate::Remove(rel_path));
                continue;
            };
            if sink.known_hash(&rel_path) == Some(hash) {
                // A document closed unchanged: its whole facts give way to the cached summary.
                if let Some(entry) = self.cached_summary(&rel_path, hash).filter(|_| sink.holds_whole(&rel_path)) {
                    sink.apply(IndexUpdate::Insert(Box::new(entry)));
                }
                continue;
            }
            let meta = meta.expect("checked above");
            let mut file_index = extract_text(lang, &text, generated);
            rows.push(FileRow::new(rel_path.clone(), hash, meta.len(), vfs::mtime_nanos(&meta), &mut file_index));
            parsed.push(FileEntry::new(rel_path, hash, file_index));
        }
        let written = self.store.write(&rows, &removed);
        if let Err(err) = &written {
            tracing::warn!("{err}");
        }
        let source = self.lazy_source.as_ref().filter(|_| written.is_ok() && self.summarize_parsed);
        for entry in parsed {
            sink.apply(IndexUpdate::Insert(Box::new(lazy_once_written(entry, source))));
        }
    }

    /// A lazy entry of the cached row of `path` at content `hash`, with `summarize_parsed`
    /// and a lazy source.
    fn cached_summary(&self, path: &str, hash: u64) -> Option<FileEntry> {
        let source = self.lazy_source.as_ref().filter(|_| self.summarize_parsed)?;
        let row = self.store.row(path).ok()??;
        let summary = store::decode_summary(&row.summary).filter(|_| row.hash == hash)?;
        Some(FileEntry::lazy(path.to_string(), hash, summary, Arc::clone(source)))
    }

    /// Reads, hashes, parses and extracts `files` on all cores, writing results to the
    /// cache in batches from this thread. Files in `extract_again` are extracted even when
    /// their content is the one cached.
    #[allow(clippy::too_many_arguments)]
    fn process(
        &mut self,
        files: &[&WalkedFile],
        manifest: &HashMap<String, CachedFile>,
        extract_again: &HashSet<String>,
        mode: RefreshMode,
        progress: ProgressFn,
        report: &mut RefreshReport,
        sink: &mut dyn IndexSink,
    ) -> ProcessOutcome {
        enum Message {
            Parsed(Box<(FileRow, Option<index::FileIndex>)>),
            SameContent(String, i64),
            Skipped(String, SkipReason),
        }
        let mut outcome = ProcessOutcome::default();
        let total = files.len() as u64;
        if total == 0 {
            return outcome;
        }
        let config = &self.config.index;
        let (tx, rx) = mpsc::sync_channel::<Message>(64);
        let store = &mut self.store;
        let replaced = self.keep_replaced.then_some(&mut self.replaced);
        let lazy_source = self.lazy_source.as_ref().filter(|_| mode == RefreshMode::Lazy && self.summarize_parsed);
        let mut write_failed: Option<String> = None;
        std::thread::scope(|scope| {
            scope.spawn(move || {
                files.par_iter().for_each_with(tx, |tx, file| {
                    let message = match vfs::read_source(&file.abs_path, config) {
                        Err(reason) => Message::Skipped(file.rel_path.clone(), reason),
                        Ok((hash, _))
                            if manifest.get(&file.rel_path).is_some_and(|c| c.hash == hash) && !extract_again.contains(&file.rel_path) =>
                        {
                            Message::SameContent(file.rel_path.clone(), file.mtime)
                        }
                        Ok((hash, text)) => {
                            let mut file_index = extract_text(file.lang, &text, config.generated_files);
                            let row = FileRow::new(file.rel_path.clone(), hash, file.size, file.mtime, &mut file_index);
                            let keep = (mode != RefreshMode::CacheOnly).then_some(file_index);
                            Message::Parsed(Box::new((row, keep)))
                        }
                    };
                    // The receiver only goes away if this thread panicked.
                    let _ = tx.send(message);
                });
            });
            let mut batch: Vec<FileRow> = Vec::with_capacity(WRITE_BATCH);
            // With a lazy source, parsed files enter the index once their rows are written
            // (as summaries, their details read back on demand).
            let mut waiting: Vec<FileEntry> = Vec::new();
            let mut replaced = replaced;
            let mut flush = |batch: &mut Vec<FileRow>, waiting: &mut Vec<FileEntry>, sink: &mut dyn IndexSink| {
                // The rows about to be replaced, read while they are still there.
                if let Some(replaced) = replaced.as_deref_mut() {
                    for row in batch.iter().filter(|row| manifest.get(&row.path).is_some_and(|cached| cached.hash != row.hash)) {
                        let old = store.row(&row.path).ok().flatten();
                        if let Some(facts) = old.as_ref().and_then(|old| store::decode(&old.summary, old.data.as_deref()?).map(|facts| (old.hash, facts))) {
                            replaced.insert(row.path.clone(), facts);
                        }
                    }
                }
                let written = store.write(batch, &[]);
                if let Err(err) = &written {
                    tracing::warn!("{err}");
                    write_failed.get_or_insert(err.to_string());
                }
                batch.clear();
                let source = lazy_source.filter(|_| written.is_ok());
                for entry in waiting.drain(..) {
                    sink.apply(IndexUpdate::Insert(Box::new(lazy_once_written(entry, source))));
                }
            };
            let mut done = 0u64;
            for message in rx {
                done += 1;
                match message {
                    Message::Parsed(parsed) => {
                        let (row, keep) = *parsed;
                        report.reparsed += 1;
                        outcome.stats.add(&row.stats);
                        if let Some(file_index) = keep {
                            let entry = FileEntry::new(row.path.clone(), row.hash, file_index);
                            match lazy_source {
                                Some(_) => waiting.push(entry),
                                None => sink.apply(IndexUpdate::Insert(Box::new(entry))),
                            }
                        }
                        batch.push(row);
                        if batch.len() >= WRITE_BATCH {
                            flush(&mut batch, &mut waiting, sink);
                        }
                    }
                    Message::SameContent(path, mtime) => {
                        outcome.touched.push((path.clone(), mtime));
                        outcome.same_content.push(path);
                    }
                    Message::Skipped(path, reason) => {
                        *report.skipped.entry(reason).or_default() += 1;
                        outcome.skipped.push(path);
                    }
                }
                progress(done, total);
            }
            flush(&mut batch, &mut waiting, sink);
        });
        // The index is complete in memory; the rows not written are parsed again next time.
        outcome.write_failed = write_failed.is_some();
        if let Some(err) = write_failed {
            report.errors.push(format!("the cache could not be written ({err}); the index is complete in memory and the files are parsed again next time"));
        }
        outcome
    }

    /// Decodes the cached facts of `paths` into the index, skipping files already in
    /// memory with the same content. Returns the paths whose rows could not be used.
    fn load_from_cache(
        &mut self,
        paths: &[&str],
        manifest: &HashMap<String, CachedFile>,
        sink: &mut dyn IndexSink,
        prefetched: Option<Result<Vec<DecodedRow>, StoreError>>,
        lazy_source: Option<&Arc<dyn FactSource>>,
    ) -> HashSet<String> {
        let wanted: HashSet<&str> = paths
            .iter()
            .copied()
            .filter(|p| {
                let cached_hash = manifest.get(*p).map(|c| c.hash);
                sink.known_hash(p) != cached_hash
            })
            .collect();
        if wanted.is_empty() {
            return HashSet::new();
        }
        let rows = match prefetched {
            Some(rows) => rows,
            None => self.read_rows(&|path| wanted.contains(path), lazy_source.is_some()),
        };
        let decoded = match rows {
            Ok(rows) => rows,
            Err(err) => {
                if !self.store.recover(&err) {
                    tracing::warn!("{err}; re-indexing");
                }
                return wanted.into_iter().map(str::to_string).collect();
            }
        };
        let mut missing: HashSet<String> = wanted.iter().map(|p| p.to_string()).collect();
        // Only rows of files unchanged since they were cached, and only if the cache
        // still has the content the manifest named.
        for (path, hash, decoded) in decoded.into_iter().filter(|(path, _, _)| wanted.contains(path.as_str())) {
            if manifest.get(&path).is_some_and(|c| c.hash != hash) {
                continue;
            }
            let entry = match (decoded, lazy_source) {
                (Some(Decoded::Whole(file_index)), _) => FileEntry::new(path.clone(), hash, file_index),
                (Some(Decoded::Summary(summary)), Some(source)) => FileEntry::lazy(path.clone(), hash, summary, source.clone()),
                _ => {
                    tracing::warn!("cache entry for {path} is unreadable; parsing it again");
                    continue;
                }
            };
            missing.remove(&path);
            sink.apply(IndexUpdate::Insert(Box::new(entry)));
        }
        missing
    }

    /// The cache's rows whose path is `wanted`, decoded on the pool while this thread
    /// reads the next ones; in path order.
    /// With `summaries_only`, only their summaries.
    fn read_rows(&self, wanted: &(dyn Fn(&str) -> bool + Sync), summaries_only: bool) -> Result<Vec<DecodedRow>, StoreError> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<RawRow>(64);
        let (read, decoded) = std::thread::scope(|scope| {
            let decoder = scope.spawn(move || {
                rx.into_iter()
                    .par_bridge()
                    .filter(|row| wanted(&row.path))
                    .map(|row| {
                        let decoded = match &row.data {
                            Some(data) => store::decode(&row.summary, data).map(Decoded::Whole),
                            None => store::decode_summary(&row.summary).map(Decoded::Summary),
                        };
                        (row.path, row.hash, decoded)
                    })
                    .collect::<Vec<DecodedRow>>()
            });
            let read = self.store.for_each_row(!summaries_only, |row| tx.send(row).is_ok());
            drop(tx);
            (read, decoder.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
        });
        read?;
        let mut decoded = decoded;
        decoded.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Ok(decoded)
    }
}

/// A parsed file's entry as the index takes it: with `source` (its row is written), lazy:
/// its summary, the details decoded from the cache on demand; else whole.
fn lazy_once_written(entry: FileEntry, source: Option<&Arc<dyn FactSource>>) -> FileEntry {
    match source {
        Some(source) => {
            let FileEntry { path, hash, .. } = &entry;
            let (path, hash) = (path.clone(), *hash);
            let summary = index::FileSummary::of(entry.into_index());
            FileEntry::lazy(path, hash, summary, Arc::clone(source))
        }
        None => entry,
    }
}

/// A cache row: path, content hash, and the facts (or the summary) when they decode.
type DecodedRow = (String, u64, Option<Decoded>);

enum Decoded {
    Whole(index::FileIndex),
    Summary(index::FileSummary),
}

#[derive(Default)]
struct ProcessOutcome {
    stats: IndexStats,
    /// Files read again whose content had not changed (only their mtime).
    same_content: Vec<String>,
    touched: Vec<(String, i64)>,
    skipped: Vec<String>,
    /// Some rows could not be written.
    write_failed: bool,
}

/// Parses and extracts a file's text. A file the grammar fails on as a whole (most of it
/// one ERROR node: syntax newer than the grammar, or an early unclosed construct) is
/// parsed again in top-level segments so that errors stay local. The decision depends
/// only on the text (and `generated`), so the same file always gives the same index.
pub fn extract_text(lang: Lang, text: &str, generated: GeneratedFiles) -> index::FileIndex {
    // Big files are parsed in top-level segments first: on valid code this gives the same
    // symbols, references and imports as one parse (chunks may split at segment edges),
    // and errors spread over many segments mean a grammar gap that a whole-file parse
    // would only make worse, and slower (error recovery on one huge tree can take seconds).
    if text.len() >= SEGMENT_FIRST_BYTES {
        let (segmented, error_segments) = index::extract_segmented_counting(lang, text, generated);
        if error_segments == 0 || error_segments >= WIDESPREAD_ERROR_SEGMENTS {
            return segmented;
        }
    }
    let tree = lang::parse(lang, text, None);
    if index::mostly_error(&tree, text.len()) {
        index::extract_segmented(lang, text, generated)
    } else {
        index::extract_with(lang, text, &tree, generated)
    }
}

/// Files at least this big are parsed in segments first (see `extract_text`).
const SEGMENT_FIRST_BYTES: usize = 64 * 1024;
/// This many segments with errors means a grammar gap across the file.
const WIDESPREAD_ERROR_SEGMENTS: usize = 3;

fn read_ts_configs(files: &[(String, PathBuf)]) -> Vec<TsConfig> {
    files
        .iter()
        .filter_map(|(dir, path)| {
            let text = std::fs::read_to_string(path).ok()?;
            TsConfig::parse(dir, &text)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::IndexSnapshot;

    fn lazy_workspace() -> (tempfile::TempDir, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("src")).unwrap();
        std::fs::write(
            dir.path().join("src/lib.rs"),
            "mod shapes;\nuse shapes::Point;\n/// Twice the x.\npub fn double(p: &Point) -> f64 { p.x * 2.0 }\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("src/shapes.rs"),
            "/// A point.\npub struct Point { pub x: f64 }\nimpl Point {\n    /// Makes one.\n    pub fn new(x: f64) -> Point { Point { x } }\n}\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("src/app.ts"), "/** Greets. */\nexport function greet(name: string): string { return `hi ${name}`; }\n").unwrap();
        (dir, tempfile::tempdir().unwrap())
    }

    fn refreshed(root: &Path, cache: &Path, mode: RefreshMode) -> WorkspaceIndex {
        let mut indexer = Indexer::open(root, Config::default(), Some(cache));
        let mut index = WorkspaceIndex::new();
        indexer.refresh(mode, &|_, _| {}, &mut index);
        index
    }

    /// A lazy load holds every unchanged file's summary and decodes the rest of a file's
    /// facts when first asked: the same facts, names table and counts as a whole load.
    #[test]
    fn a_lazy_load_gives_the_facts_of_a_whole_load() {
        let (dir, cache) = lazy_workspace();
        let mut whole = refreshed(dir.path(), cache.path(), RefreshMode::Load);
        let mut lazy = refreshed(dir.path(), cache.path(), RefreshMode::Lazy);
        let (whole, lazy) = (whole.snapshot(), lazy.snapshot());
        assert_eq!(lazy.len(), 3);
        for (id, entry) in lazy.files() {
            assert!(!entry.is_loaded(), "{} decoded before use", entry.path);
            let expected = whole.file(whole.file_id(&entry.path).unwrap()).unwrap();
            assert_eq!(entry.lang(), expected.lang());
            assert_eq!(entry.chunks(), expected.chunks());
            assert_eq!(entry.terms(), expected.terms());
            assert!(entry.light().symbols.iter().all(|s| s.signature().is_empty() && s.doc().is_none()));
            assert!(entry.light().references.is_empty());
            assert!(!entry.is_loaded(), "{}: the summary is enough for chunks and terms", entry.path);
            assert_eq!(entry.index(), expected.index());
            assert!(entry.is_loaded());
            assert_eq!(lazy.file_id(&entry.path), Some(id));
        }
        assert_eq!(lazy.chunk_stats(), whole.chunk_stats());
        for name in ["Point", "new", "double", "greet"] {
            let paths = |s: &IndexSnapshot| s.files_defining(name).iter().map(|&f| s.file(f).unwrap().path.clone()).collect::<Vec<_>>();
            assert_eq!(paths(&lazy), paths(&whole), "{name}");
        }
        let doc = |s: &IndexSnapshot| {
            let file = s.file(s.file_id("src/shapes.rs").unwrap()).unwrap().index();
            file.symbols.iter().find(|s| s.name == "new").and_then(|s| s.doc().map(str::to_string))
        };
        assert_eq!(doc(&lazy), Some("Makes one.".to_string()));
    }

    /// A changed file is parsed (its entry whole), and a file whose cached row changed
    /// under a lazy entry (another process re-indexed it) gives the facts it summarized,
    /// without the details, rather than another version's.
    #[test]
    fn a_lazy_entry_whose_row_changed_keeps_its_summary() {
        let (dir, cache) = lazy_workspace();
        refreshed(dir.path(), cache.path(), RefreshMode::Load);
        std::fs::write(dir.path().join("src/app.ts"), "export const greet = (n: string) => n;\n").unwrap();
        let mut lazy = refreshed(dir.path(), cache.path(), RefreshMode::Lazy);
        let lazy = lazy.snapshot();
        let app = lazy.file(lazy.file_id("src/app.ts").unwrap()).unwrap();
        assert!(app.is_loaded(), "parsed in this refresh");
        assert_eq!(app.index().symbols[0].signature(), "export const greet = (n: string) => n");

        std::fs::write(dir.path().join("src/shapes.rs"), "pub struct Point { pub x: f64, pub y: f64 }\n").unwrap();
        refreshed(dir.path(), cache.path(), RefreshMode::CacheOnly);
        let shapes = lazy.file(lazy.file_id("src/shapes.rs").unwrap()).unwrap();
        let facts = shapes.index();
        assert!(facts.symbols.iter().any(|s| s.name == "new"), "the version the snapshot holds");
        assert!(facts.symbols.iter().all(|s| s.signature().is_empty()));
        assert_eq!(facts.chunks, shapes.chunks());
    }

    /// With `summarize_parsed` (the server), files parsed in a lazy refresh and by
    /// `update_paths` enter the index as summaries once their rows are written, and decode
    /// to the facts a whole load gives.
    #[test]
    fn parsed_files_enter_lazily_once_their_rows_are_written() {
        let (dir, cache) = lazy_workspace();
        let whole_cache = tempfile::tempdir().unwrap();
        let mut indexer = Indexer::open(dir.path(), Config::default(), Some(cache.path()));
        indexer.summarize_parsed();
        let mut lazy = WorkspaceIndex::new();
        let report = indexer.refresh(RefreshMode::Lazy, &|_, _| {}, &mut lazy);
        assert_eq!(report.reparsed, 3, "a cold cache: every file parsed");
        let mut whole = refreshed(dir.path(), whole_cache.path(), RefreshMode::Load);
        // `fresh`: the files whose entries no request has read yet.
        let check = |lazy: &mut WorkspaceIndex, whole: &mut WorkspaceIndex, fresh: &[&str]| {
            let (lazy, whole) = (lazy.snapshot(), whole.snapshot());
            assert_eq!(lazy.len(), whole.len());
            for (_, entry) in lazy.files() {
                assert!(entry.is_lazy(), "{}", entry.path);
                assert_eq!(entry.is_loaded(), !fresh.contains(&entry.path.as_str()), "{}: a summary until used", entry.path);
                let expected = whole.file(whole.file_id(&entry.path).unwrap()).unwrap();
                for name in ["Point", "x", "p", "shapes", "name", "missing"] {
                    assert_eq!(entry.reference_count(name), expected.reference_count(name), "{}: {name}", entry.path);
                }
                assert_eq!(entry.index(), expected.index(), "{}", entry.path);
            }
            assert_eq!(lazy.chunk_stats(), whole.chunk_stats());
            assert_eq!(lazy.files_defining("Point").len(), 1);
        };
        check(&mut lazy, &mut whole, &["src/lib.rs", "src/shapes.rs", "src/app.ts"]);
        assert_eq!(lazy.get("src/lib.rs").unwrap().reference_count("Point"), 2, "the import and the parameter's type");

        let shapes = dir.path().join("src/shapes.rs");
        std::fs::write(&shapes, "/// A point.\npub struct Point { pub x: f64, pub y: f64 }\n").unwrap();
        indexer.update_paths(std::slice::from_ref(&shapes), &mut lazy);
        Indexer::open(dir.path(), Config::default(), Some(whole_cache.path())).update_paths(&[shapes], &mut whole);
        check(&mut lazy, &mut whole, &["src/shapes.rs"]);
        assert_eq!(lazy.snapshot().files_defining("new").len(), 0);

        // A document closed unchanged (held whole from the editor's text): the cached
        // summary takes its place.
        let lib = dir.path().join("src/lib.rs");
        let text = std::fs::read_to_string(&lib).unwrap();
        let hash = crate::base::content_hash(text.as_bytes());
        lazy.insert(FileEntry::new("src/lib.rs".into(), hash, extract_text(Lang::Rust, &text, GeneratedFiles::Symbols)));
        indexer.update_paths(std::slice::from_ref(&lib), &mut lazy);
        let entry = lazy.get("src/lib.rs").unwrap().clone();
        assert!(entry.is_lazy() && !entry.is_loaded());
        assert_eq!(entry.index(), &extract_text(Lang::Rust, &text, GeneratedFiles::Symbols));

        // Without a cache file to read back from, parsed files stay whole.
        let mut indexer = Indexer::open(dir.path(), Config::default(), None);
        indexer.summarize_parsed();
        let mut index = WorkspaceIndex::new();
        indexer.refresh(RefreshMode::Lazy, &|_, _| {}, &mut index);
        assert!(index.snapshot().files().all(|(_, e)| !e.is_lazy() && e.is_loaded()));
    }

    /// Without a cache file (an in-memory cache), a lazy load is a whole load.
    #[test]
    fn a_lazy_load_without_a_cache_file_loads_whole() {
        let (dir, _cache) = lazy_workspace();
        let mut indexer = Indexer::open(dir.path(), Config::default(), None);
        let mut index = WorkspaceIndex::new();
        indexer.refresh(RefreshMode::Lazy, &|_, _| {}, &mut index);
        let snapshot = index.snapshot();
        assert_eq!(snapshot.len(), 3);
        assert!(snapshot.files().all(|(_, e)| e.is_loaded()));
    }

    /// A file deleted after the walk listed it and before it was read (an editor saving
    /// by rename, a branch switch): skipped as unreadable, the others indexed.
    #[test]
    fn a_file_gone_between_the_walk_and_its_read_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.rs"), "pub fn a() {}\n").unwrap();
        std::fs::write(dir.path().join("b.rs"), "pub fn b() {}\n").unwrap();
        let mut indexer = Indexer::open(dir.path(), Config::default(), None);
        let walk = vfs::walk(dir.path(), &indexer.config.index);
        std::fs::remove_file(dir.path().join("b.rs")).unwrap();
        let files: Vec<&vfs::WalkedFile> = walk.files.iter().collect();
        let mut report = RefreshReport::default();
        let mut index = index::WorkspaceIndex::new();
        let outcome = indexer.process(&files, &HashMap::new(), &HashSet::new(), RefreshMode::Load, &|_, _| {}, &mut report, &mut index);
        assert_eq!(index.paths().collect::<Vec<_>>(), ["a.rs"]);
        assert_eq!(outcome.skipped, ["b.rs"]);
        assert_eq!(report.skipped.get(&SkipReason::Unreadable), Some(&1));
    }

    /// A full disk while the cache is written (SQLite's `SQLITE_FULL`, here from a page
    /// limit): the index is still built in memory and complete; the next run, with room
    /// again, writes what was missing.
    #[test]
    fn a_full_disk_loses_the_cache_rows_not_the_index() {
        let dir = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        for i in 0..60 {
            std::fs::write(dir.path().join(format!("m{i}.rs")), format!("pub fn f{i}(x: u32) -> u32 {{ x + {i} }}\n").repeat(40)).unwrap();
        }
        let mut indexer = Indexer::open(dir.path(), Config::default(), Some(cache.path()));
        indexer.store.limit_pages_for_test(8);
        let mut index = index::WorkspaceIndex::new();
        let report = indexer.refresh(RefreshMode::Load, &|_, _| {}, &mut index);
        assert_eq!(index.len(), 60, "every file indexed: {report:?}");
        assert!(report.errors.iter().any(|e| e.contains("full")), "the failed write is reported: {:?}", report.errors);
        drop(indexer);
        let mut indexer = Indexer::open(dir.path(), Config::default(), Some(cache.path()));
        let mut index = index::WorkspaceIndex::new();
        let report = indexer.refresh(RefreshMode::Load, &|_, _| {}, &mut index);
        assert_eq!(index.len(), 60);
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        let mut index = index::WorkspaceIndex::new();
        let warm = Indexer::open(dir.path(), Config::default(), Some(cache.path())).refresh(RefreshMode::Load, &|_, _| {}, &mut index);
        assert_eq!((warm.reparsed, index.len()), (0, 60), "all rows were written the second time");
    }

    #[test]
    fn big_valid_files_give_the_same_facts_as_one_parse() {
        let mut text = String::new();
        for i in 0..1500 {
            text.push_str(&format!("/// Item {i}.\n#[inline]\npub fn item_{i}(a: u32) -> u32\nwhere\n    u32: Copy,\n{{\n    helper(a, {i})\n}}\n\n"));
        }
        assert!(text.len() >= SEGMENT_FIRST_BYTES);
        let tree = lang::parse(Lang::Rust, &text, None);
        let whole = index::extract(Lang::Rust, &text, &tree);
        let fast = extract_text(Lang::Rust, &text, GeneratedFiles::Symbols);
        assert_eq!(fast.symbols, whole.symbols);
        assert_eq!(fast.imports, whole.imports);
        assert_eq!(fast.references.len(), whole.references.len());
        assert_eq!(fast.error_count, 0);
    }

    #[test]
    fn big_files_with_widespread_grammar_gaps_stay_segmented() {
        // Variance annotations (`out A`) are newer than the TypeScript grammar.
        let mut text = String::new();
        for i in 0..1500 {
            text.push_str(&format!("/** Doc {i}. */\nexport interface Box{i}<out A> {{ readonly value: A }}\n\nexport const make{i} = <A>(value: A): Box{i}<A> => ({{ value }})\n\n"));
        }
        let index = extract_text(Lang::TypeScript, &text, GeneratedFiles::Symbols);
        let names: Vec<&str> = index.symbols.iter().map(|s| s.name.as_str()).collect();
        assert!(names.contains(&"make1499") && names.contains(&"Box0"), "{} symbols", names.len());
    }

    /// `[index] generated_files` changed on a cache: only the generated declaration files
    /// are extracted again (their content unchanged), both ways and in every refresh
    /// mode; a big file that is not generated is left alone, and a file updated alone
    /// honours the setting too.
    #[test]
    fn changing_generated_files_extracts_only_those_files_again() {
        let dir = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        std::fs::create_dir(&src).unwrap();
        std::fs::write(src.join("lib.rs"), "pub mod sys;\npub const BASE: u32 = 1;\npub fn close() -> u32 { sys::WM_16 + BASE }\n").unwrap();
        let bindings: String = (0..600).map(|i| format!("pub const WM_{i}: u32 = BASE + {i};\n")).collect();
        std::fs::write(src.join("sys.rs"), &bindings).unwrap();
        // 300 symbols in 900 lines: enough symbols to be looked at, too few for its lines.
        let code: String = (0..300).map(|i| format!("pub fn f{i}(a: u32) -> u32 {{\n    a + BASE\n}}\n")).collect();
        std::fs::write(src.join("big.rs"), &code).unwrap();
        let run = |setting: GeneratedFiles, mode: RefreshMode| {
            let mut config = Config::default();
            config.index.generated_files = setting;
            let mut indexer = Indexer::open(dir.path(), config, Some(cache.path()));
            let mut index = WorkspaceIndex::new();
            let report = indexer.refresh(mode, &|_, _| {}, &mut index);
            (report, index)
        };
        let base_uses = |index: &WorkspaceIndex| index.get("src/sys.rs").unwrap().index().references.iter().filter(|r| r.name == 0).count();

        let (cold, _) = run(GeneratedFiles::Symbols, RefreshMode::CacheOnly);
        assert_eq!((cold.reparsed, cold.stats.generated, cold.stats.files), (3, 1, 3));
        let (warm, index) = run(GeneratedFiles::Symbols, RefreshMode::Load);
        assert_eq!(warm.reparsed, 0);
        assert!(index.get("src/sys.rs").unwrap().index().generated);

        let (full, index) = run(GeneratedFiles::Full, RefreshMode::Load);
        assert_eq!((full.reparsed, full.stats.generated), (1, 0), "sys.rs only");
        let sys = index.get("src/sys.rs").unwrap().index();
        assert!(!sys.generated && !sys.chunks.is_empty());
        assert_eq!(sys.names[0], "BASE");
        assert_eq!(base_uses(&index), 600);
        assert_eq!(full.stats.references, cold.stats.references + sys.references.len() as u64);
        let (again, _) = run(GeneratedFiles::Full, RefreshMode::CacheOnly);
        assert_eq!(again.reparsed, 0);
        assert_eq!(again.stats, full.stats);

        let (back, index) = run(GeneratedFiles::Symbols, RefreshMode::Lazy);
        assert_eq!((back.reparsed, back.stats.generated), (1, 1), "sys.rs only");
        let sys = index.get("src/sys.rs").unwrap().index();
        assert!(sys.generated && sys.references.is_empty() && sys.chunks.is_empty());
        assert_eq!(back.stats, cold.stats);
        let (again, _) = run(GeneratedFiles::Symbols, RefreshMode::CacheOnly);
        assert_eq!(again.reparsed, 0);

        // A file updated alone (unchanged on disk: a document closed) with "full" is
        // recorded so: the next "symbols" refresh extracts it again.
        let mut config = Config::default();
        config.index.generated_files = GeneratedFiles::Full;
        let mut indexer = Indexer::open(dir.path(), config, Some(cache.path()));
        let mut index = WorkspaceIndex::new();
        indexer.update_paths(&[src.join("sys.rs")], &mut index);
        assert_eq!(base_uses(&index), 600);
        drop(indexer);
        let (after, index) = run(GeneratedFiles::Symbols, RefreshMode::Load);
        assert_eq!((after.reparsed, after.stats.generated), (1, 1));
        assert!(index.get("src/sys.rs").unwrap().index().generated);
    }
}
