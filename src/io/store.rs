//! The persistent cache: one SQLite file per workspace holding each indexed file's
//! extracted facts (`FileIndex`, bitcode-encoded) keyed by path and content hash: its
//! summary (`FileSummary`: what retrieval reads of every file) and the rest apart, so
//! that a one-shot command reads the summaries and decodes the rest of the few files it
//! uses (`CacheReader`).
//! A cache that is corrupt, truncated, of another version, another program's database or
//! unreadable is set aside and rebuilt with one log line, whether that shows when it is
//! opened or only when a query reaches a damaged page (`Store::recover`); one locked by
//! another process is replaced by an in-memory cache for this run. Writes are
//! transactional, so a killed process leaves a usable file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{params, Connection, ErrorCode, OpenFlags};

use crate::index::{Details, FactSource, FileIndex, FileSummary, IndexStats, ReferenceCounts, FactStrings};

/// Bump when the schema or the encoding of `FileIndex` changes.
const SCHEMA_VERSION: i64 = 9;
const DB_FILE: &str = "index.sqlite";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cache database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cache directory: {0}")]
    Io(#[from] std::io::Error),
    #[error("cache was written by another version of ctxls")]
    Version,
    #[error("the file is another program's database, not a ctxls cache")]
    Foreign,
}

/// What the cache knows of a file without decoding its facts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CachedFile {
    pub hash: u64,
    pub size: u64,
    pub mtime: i64,
    pub stats: IndexStats,
}

/// A row to write.
pub struct FileRow {
    pub path: String,
    pub hash: u64,
    pub size: u64,
    pub mtime: i64,
    pub stats: IndexStats,
    /// The encoded `FileSummary`.
    pub summary: Vec<u8>,
    /// The encoded `Details`.
    pub data: Vec<u8>,
}

impl FileRow {
    pub fn new(path: String, hash: u64, size: u64, mtime: i64, index: &mut FileIndex) -> FileRow {
        let stats = IndexStats::of(index);
        let references = ReferenceCounts::of(index);
        // The details are moved out of `index` for the encoding and back: no copy.
        let details = index.split_details();
        let summary = encode_summary(index, stats, references);
        let data = bitcode::encode(&details);
        index.join_details(details);
        FileRow { path, hash, size, mtime, stats, summary, data }
    }
}

pub struct Store {
    conn: Connection,
    /// `None` for an in-memory cache.
    path: Option<PathBuf>,
}

impl Store {
    /// The cache directory of a workspace root: `$CTXLS_CACHE_DIR` or `override_dir`
    /// when given, else `$XDG_CACHE_HOME/ctxls` (or `~/.cache/ctxls`), then a directory
    /// named after a hash of the root.
    pub fn default_dir(root: &Path, override_dir: Option<&Path>) -> PathBuf {
        let base = override_dir
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("CTXLS_CACHE_DIR").map(PathBuf::from))
            .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("ctxls")))
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache").join("ctxls")))
            .unwrap_or_else(|| std::env::temp_dir().join("ctxls"));
        let key = crate::base::content_hash(root.to_string_lossy().as_bytes());
        let name = root.file_name().map_or_else(|| "root".to_string(), |n| n.to_string_lossy().into_owned());
        base.join(format!("{name}-{key:016x}"))
    }

    /// Opens the cache in `dir`, repairing what needs repairing. Never fails: the worst
    /// case is an in-memory cache, with the reason logged.
    pub fn open(dir: &Path) -> Store {
        match Store::try_open(dir) {
            Ok(store) => store,
            Err(err) if is_busy(&err) => {
                tracing::warn!("cache {} is locked by another process; indexing without it this time", dir.display());
                Store::in_memory()
            }
            Err(err) => {
                let path = dir.join(DB_FILE);
                tracing::warn!("cache {} set aside and rebuilt: {err}", path.display());
                set_aside(&path);
                Store::try_open(dir).unwrap_or_else(|err| {
                    tracing::warn!("cache {} cannot be created ({err}); indexing without it", dir.display());
                    Store::in_memory()
                })
            }
        }
    }

    /// After a failed query: when the database turned out corrupt (a damaged page that
    /// opening it did not touch), it is set aside and an empty cache takes its place, so
    /// that this run rebuilds it and the next one is warm. True when it did.
    pub fn recover(&mut self, err: &StoreError) -> bool {
        let Some(path) = self.path.clone().filter(|_| is_corrupt(err)) else { return false };
        tracing::warn!("cache {} set aside and rebuilt: {err}", path.display());
        // The old connection is closed before its files are moved.
        drop(std::mem::replace(self, Store::in_memory()));
        set_aside(&path);
        if let Some(dir) = path.parent() {
            match Store::try_open(dir) {
                Ok(store) => *self = store,
                Err(err) => tracing::warn!("cache {} cannot be created ({err}); indexing without it", dir.display()),
            }
        }
        true
    }

    pub fn in_memory() -> Store {
        let conn = Connection::open_in_memory().expect("in-memory SQLite opens");
        init_schema(&conn).expect("in-memory schema");
        Store { conn, path: None }
    }

    fn try_open(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(DB_FILE);
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_millis(1500))?;
        // Checked before anything is written (the journal mode is written to the file).
        let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
        if version == 0 {
            // A ctxls cache sets its version in the transaction that creates its table: a
            // database with tables and no version is not one.
            let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get(0))?;
            if tables > 0 {
                return Err(StoreError::Foreign);
            }
        } else if version != SCHEMA_VERSION {
            return Err(StoreError::Version);
        }
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        if version == 0 {
            init_schema(&conn)?;
        }
        // Caches of this schema written before the settings table had none.
        conn.execute_batch(SETTINGS_TABLE)?;
        // Touch the table so that a truncated or corrupt file fails here, not later.
        conn.query_row("SELECT count(*) FROM files", [], |row| row.get::<_, i64>(0))?;
        Ok(Store { conn, path: Some(path) })
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Every cached file, without decoding.
    pub fn manifest(&self) -> Result<HashMap<String, CachedFile>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT path, hash, size, mtime, symbols, refs, chunks, bytes, generated FROM files")?;
        let rows = stmt.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                CachedFile {
                    hash: row.get::<_, i64>(1)? as u64,
                    size: row.get::<_, i64>(2)? as u64,
                    mtime: row.get(3)?,
                    stats: IndexStats {
                        files: 1,
                        symbols: row.get::<_, i64>(4)? as u64,
                        references: row.get::<_, i64>(5)? as u64,
                        chunks: row.get::<_, i64>(6)? as u64,
                        bytes: row.get::<_, i64>(7)? as u64,
                        generated: row.get::<_, i64>(8)? as u64,
                    },
                },
            ))
        })?;
        let mut manifest = HashMap::new();
        for row in rows {
            let (path, file) = row?;
            manifest.insert(path, file);
        }
        Ok(manifest)
    }

    /// Every row (path, hash, encoded summary, and with `with_data` the rest of the
    /// facts), handed to `each` as it is read; `each` returns false to stop.
    pub fn for_each_row(&self, with_data: bool, mut each: impl FnMut(RawRow) -> bool) -> Result<(), StoreError> {
        let sql = if with_data { "SELECT path, hash, summary, data FROM files" } else { "SELECT path, hash, summary FROM files" };
        let mut stmt = self.conn.prepare(sql)?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let raw = RawRow {
                path: row.get(0)?,
                hash: row.get::<_, i64>(1)? as u64,
                summary: row.get(2)?,
                data: if with_data { Some(row.get(3)?) } else { None },
            };
            if !each(raw) {
                break;
            }
        }
        Ok(())
    }

    /// Caps the database at `pages` pages: writes beyond fail as on a full disk.
    #[cfg(test)]
    pub fn limit_pages_for_test(&mut self, pages: u32) {
        self.conn.pragma_update(None, "max_page_count", pages).expect("pragma");
    }

    /// One row, whole.
    pub fn row(&self, path: &str) -> Result<Option<RawRow>, StoreError> {
        read_row(&self.conn, path)
    }

    /// A reader of this cache's rows for entries loaded lazily (`None` for an in-memory
    /// cache). It has a connection of its own, so it outlives the store and sees what
    /// the store has committed.
    pub fn reader(&self) -> Option<CacheReader> {
        let path = self.path.as_ref()?;
        let open = || -> Option<Mutex<Connection>> {
            let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX).ok()?;
            conn.busy_timeout(std::time::Duration::from_millis(1500)).ok()?;
            Some(Mutex::new(conn))
        };
        // Generators run in parallel: one connection per core reads without waiting.
        let conns: Vec<Mutex<Connection>> = (0..READERS).filter_map(|_| open()).collect();
        (!conns.is_empty()).then_some(CacheReader { conns })
    }

    /// Writes rows and removes paths in one transaction (into a fresh cache when this one
    /// turns out corrupt).
    pub fn write(&mut self, rows: &[FileRow], removed: &[String]) -> Result<(), StoreError> {
        match self.try_write(rows, removed) {
            Err(err) if self.recover(&err) => self.try_write(rows, removed),
            result => result,
        }
    }

    fn try_write(&mut self, rows: &[FileRow], removed: &[String]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR REPLACE INTO files (path, hash, size, mtime, symbols, refs, chunks, bytes, generated, summary, data)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?;
            for row in rows {
                insert.execute(params![
                    row.path,
                    row.hash as i64,
                    row.size as i64,
                    row.mtime,
                    row.stats.symbols as i64,
                    row.stats.references as i64,
                    row.stats.chunks as i64,
                    row.stats.bytes as i64,
                    row.stats.generated as i64,
                    row.summary,
                    row.data,
                ])?;
            }
            let mut delete = tx.prepare_cached("DELETE FROM files WHERE path = ?1")?;
            for path in removed {
                delete.execute(params![path])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The value of a setting the cached rows depend on, as last recorded
    /// (`set_setting`); `None` when never recorded.
    pub fn setting(&self, name: &str) -> Result<Option<String>, StoreError> {
        let mut stmt = self.conn.prepare_cached("SELECT value FROM settings WHERE name = ?1")?;
        let mut rows = stmt.query(params![name])?;
        Ok(match rows.next()? {
            Some(row) => Some(row.get(0)?),
            None => None,
        })
    }

    /// Records the value of a setting the cached rows depend on.
    pub fn set_setting(&mut self, name: &str, value: &str) -> Result<(), StoreError> {
        let write = |conn: &Connection| conn.execute("INSERT OR REPLACE INTO settings (name, value) VALUES (?1, ?2)", params![name, value]);
        match write(&self.conn).map_err(StoreError::from) {
            Err(err) if self.recover(&err) => Ok(write(&self.conn).map(drop)?),
            result => result.map(drop),
        }
    }

    /// Updates the modification time of unchanged files (a `touch` must not cost a
    /// reparse on every start).
    pub fn update_mtimes(&mut self, updates: &[(String, i64)]) -> Result<(), StoreError> {
        let result = self.try_update_mtimes(updates);
        if let Err(err) = &result {
            // The rows are gone with the corrupt file; nothing to update in the new one.
            if self.recover(err) {
                return Ok(());
            }
        }
        result
    }

    fn try_update_mtimes(&mut self, updates: &[(String, i64)]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached("UPDATE files SET mtime = ?2 WHERE path = ?1")?;
            for (path, mtime) in updates {
                stmt.execute(params![path, mtime])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}

/// A row as stored: path, content hash, encoded summary and (when read) the rest.
pub struct RawRow {
    pub path: String,
    pub hash: u64,
    pub summary: Vec<u8>,
    pub data: Option<Vec<u8>>,
}

fn read_row(conn: &Connection, path: &str) -> Result<Option<RawRow>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT hash, summary, data FROM files WHERE path = ?1")?;
    let mut rows = stmt.query(params![path])?;
    match rows.next()? {
        Some(row) => Ok(Some(RawRow {
            path: path.to_string(),
            hash: row.get::<_, i64>(0)? as u64,
            summary: row.get(1)?,
            data: Some(row.get(2)?),
        })),
        None => Ok(None),
    }
}

/// A summary as stored: `[light length: u32 LE][(light facts, their symbols' strings)][(stats,
/// reference counts)]`.
fn encode_summary(light: &FileIndex, stats: IndexStats, references: ReferenceCounts) -> Vec<u8> {
    let facts = bitcode::encode(&(light.clone(), light.fact_strings()));
    let rest = bitcode::encode(&(stats, references));
    let mut out = Vec::with_capacity(4 + facts.len() + rest.len());
    out.extend_from_slice(&(facts.len() as u32).to_le_bytes());
    out.extend_from_slice(&facts);
    out.extend_from_slice(&rest);
    out
}

/// A row's summary.
pub fn decode_summary(summary: &[u8]) -> Option<FileSummary> {
    let (facts, rest) = split_summary(summary)?;
    let light = decode_light(facts)?;
    let (stats, references): (IndexStats, ReferenceCounts) = bitcode::decode(rest).ok()?;
    Some(FileSummary { light, stats, references })
}

fn split_summary(summary: &[u8]) -> Option<(&[u8], &[u8])> {
    let length = u32::from_le_bytes(summary.get(..4)?.try_into().ok()?) as usize;
    Some((summary.get(4..4 + length)?, &summary[4 + length..]))
}

/// The light facts of a summary, their symbols' names and containers interned.
fn decode_light(facts: &[u8]) -> Option<FileIndex> {
    let (mut light, strings): (FileIndex, FactStrings) = bitcode::decode(facts).ok()?;
    light.set_fact_strings(&strings).then_some(light)
}

/// A row's facts, whole.
pub fn decode(summary: &[u8], data: &[u8]) -> Option<FileIndex> {
    with_details(decode_light(split_summary(summary)?.0)?, data)
}

/// `light` facts with the encoded `Details` of the same row joined in.
fn with_details(mut light: FileIndex, data: &[u8]) -> Option<FileIndex> {
    let details: Details = bitcode::decode(data).ok()?;
    light.join_details(details).then_some(light)
}

/// Decodes the facts of lazily loaded entries (`FileEntry::lazy`) from the cache.
pub struct CacheReader {
    conns: Vec<Mutex<Connection>>,
}

/// Connections of a `CacheReader`.
const READERS: usize = 2;

impl FactSource for CacheReader {
    fn load(&self, path: &str, hash: u64, summary: &FileSummary) -> Option<FileIndex> {
        let conn = self
            .conns
            .iter()
            .find_map(|conn| conn.try_lock().ok())
            .unwrap_or_else(|| self.conns[0].lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        let row = match read_row(&conn, path) {
            Ok(row) => row?,
            Err(err) => {
                tracing::warn!("{err}");
                return None;
            }
        };
        // Another process may have cached a newer version since.
        if row.hash != hash {
            return None;
        }
        drop(conn);
        with_details(summary.light.clone(), row.data.as_deref()?)
    }
}

fn init_schema(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(&format!(
        "BEGIN;
         CREATE TABLE IF NOT EXISTS files (
             path TEXT PRIMARY KEY,
             hash INTEGER NOT NULL,
             size INTEGER NOT NULL,
             mtime INTEGER NOT NULL,
             symbols INTEGER NOT NULL,
             refs INTEGER NOT NULL,
             chunks INTEGER NOT NULL,
             bytes INTEGER NOT NULL,
             generated INTEGER NOT NULL,
             summary BLOB NOT NULL,
             data BLOB NOT NULL
         );
         {SETTINGS_TABLE}
         PRAGMA user_version = {SCHEMA_VERSION};
         COMMIT;"
    ))
}

/// Settings the rows depend on (`Store::setting`), by name.
const SETTINGS_TABLE: &str = "CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);";

fn is_corrupt(err: &StoreError) -> bool {
    matches!(err, StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _))
        if matches!(e.code, ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase))
}

fn is_busy(err: &StoreError) -> bool {
    matches!(err, StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _))
        if matches!(e.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked))
}

/// Moves a bad cache file (and its WAL files) out of the way, keeping one copy for
/// inspection.
fn set_aside(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let file = PathBuf::from(format!("{}{suffix}", path.display()));
        if file.exists() {
            let aside = PathBuf::from(format!("{}.bad{suffix}", path.display()));
            if std::fs::rename(&file, &aside).is_err() {
                let _ = std::fs::remove_file(&file);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::Lang;

    #[test]
    fn a_row_decodes_whole_and_its_summary_alone() {
        let text = "use std::fmt;\nfn area(w: f64, h: f64) -> f64 { w * h }\nfn main() { area(1.0, 2.0); }\n";
        let mut index = crate::index::extract(Lang::Rust, text, &crate::lang::parse(Lang::Rust, text, None));
        let original = index.clone();
        let mut store = Store::in_memory();
        store.write(&[FileRow::new("a.rs".into(), 7, text.len() as u64, 0, &mut index)], &[]).unwrap();
        assert_eq!(index, original, "encoding leaves the index as it was");
        let row = store.row("a.rs").unwrap().unwrap();
        assert_eq!(row.hash, 7);
        let data = row.data.unwrap();
        assert_eq!(decode(&row.summary, &data).unwrap(), original);
        let summary = decode_summary(&row.summary).unwrap();
        assert_eq!((&summary.light.chunks, &summary.light.terms), (&original.chunks, &original.terms));
        assert!(summary.light.references.is_empty() && summary.light.symbols.iter().all(|s| s.signature().is_empty() && s.doc().is_none()));
        assert_eq!(summary.stats.symbols, original.symbols.len() as u64);
        assert!(!original.references.is_empty());
        // A truncated or foreign row decodes to nothing (the file is parsed again).
        assert_eq!(decode(&row.summary, &data[..data.len() / 2]), None);
        assert_eq!(decode(&row.summary[..row.summary.len() / 2], &data), None);
        assert_eq!(decode(&[1, 2], &[1, 2]), None);
        assert!(store.row("missing.rs").unwrap().is_none());
    }

    /// Symbols' names and containers and imports' strings (interned, not encoded with
    /// the facts) are stored beside the facts, each distinct string once, and read back
    /// into the same names; a summary whose strings do not fit its facts does not decode.
    #[test]
    fn symbol_names_and_containers_survive_the_cache() {
        let text = "use crate::shapes::{Square as Sq, area};\nuse std::fmt;\nmod shapes {\n    pub struct Square;\n    impl Square {\n        pub fn area(&self) -> f64 { 1.0 }\n        pub fn new() -> Self { Square }\n    }\n}\nfn new() {}\n";
        let mut index = crate::index::extract(Lang::Rust, text, &crate::lang::parse(Lang::Rust, text, None));
        let named: Vec<(String, Option<String>)> = index.symbols.iter().map(|s| (s.name.to_string(), s.container.map(String::from))).collect();
        assert!(named.contains(&("area".to_string(), Some("shapes::Square".to_string()))), "{named:?}");
        assert!(named.contains(&("new".to_string(), None)) && named.contains(&("new".to_string(), Some("shapes::Square".to_string()))));
        type Imported = Vec<(String, Vec<(String, Option<String>)>)>;
        let imports = |f: &FileIndex| -> Imported {
            f.imports.iter().map(|i| (i.source.to_string(), i.names.iter().map(|n| (n.name.to_string(), n.alias.map(String::from))).collect())).collect()
        };
        let imported = imports(&index);
        assert!(imported.contains(&("crate::shapes".to_string(), vec![("Square".to_string(), Some("Sq".to_string()))])), "{imported:?}");
        let strings = index.fact_strings();
        let mut distinct = strings.strings.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), strings.strings.len(), "each string once: {:?}", strings.strings);
        let mut store = Store::in_memory();
        store.write(&[FileRow::new("a.rs".into(), 7, text.len() as u64, 0, &mut index)], &[]).unwrap();
        let row = store.row("a.rs").unwrap().unwrap();
        let summary = decode_summary(&row.summary).unwrap();
        let read: Vec<(String, Option<String>)> = summary.light.symbols.iter().map(|s| (s.name.to_string(), s.container.map(String::from))).collect();
        assert_eq!(read, named);
        assert_eq!(imports(&summary.light), imported);
        assert_eq!(decode(&row.summary, &row.data.unwrap()).unwrap(), index);

        let mut light = summary.light.clone();
        let mut short = strings.clone();
        short.names.pop();
        assert!(!light.set_fact_strings(&short), "one name missing");
        let mut outside = strings.clone();
        outside.containers[0] = strings.strings.len() as u32 + 1;
        assert!(!light.set_fact_strings(&outside), "a container past the strings");
        let mut no_alias = strings.clone();
        no_alias.aliases.pop();
        assert!(!light.set_fact_strings(&no_alias), "an imported name without its alias");
        let mut far_source = strings.clone();
        far_source.sources[0] = strings.strings.len() as u32;
        assert!(!light.set_fact_strings(&far_source), "a source past the strings");
        assert_eq!(light, summary.light, "nothing changed");
        let facts = bitcode::encode(&(light.clone(), short));
        assert_eq!(decode_light(&facts), None);
    }

    /// Settings the rows depend on: recorded and read back, also in a cache of this
    /// schema written before the settings table existed (it is added on open).
    #[test]
    fn settings_are_recorded_in_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path());
        assert!(store.path().is_some());
        assert_eq!(store.setting("index.generated_files").unwrap(), None);
        store.set_setting("index.generated_files", "full").unwrap();
        store.set_setting("index.generated_files", "symbols").unwrap();
        store.set_setting("other", "1").unwrap();
        assert_eq!(store.setting("index.generated_files").unwrap().as_deref(), Some("symbols"));
        store.conn.execute_batch("DROP TABLE settings").unwrap();
        drop(store);
        let mut store = Store::open(dir.path());
        assert!(store.path().is_some(), "the cache is kept, not set aside");
        assert_eq!(store.setting("index.generated_files").unwrap(), None);
        store.set_setting("index.generated_files", "full").unwrap();
        drop(store);
        assert_eq!(Store::open(dir.path()).setting("index.generated_files").unwrap().as_deref(), Some("full"));
        let mut memory = Store::in_memory();
        memory.set_setting("index.generated_files", "full").unwrap();
        assert_eq!(memory.setting("index.generated_files").unwrap().as_deref(), Some("full"));
    }

    /// A generated declaration file's row: the flag in the summary and as a column of the
    /// manifest, which `ctxls index` counts without decoding.
    #[test]
    fn a_generated_file_is_counted_from_the_manifest() {
        let text: String = (0..600).map(|i| format!("pub const C{i}: u32 = {i};\n")).collect();
        let mut index = crate::index::extract(Lang::Rust, &text, &crate::lang::parse(Lang::Rust, &text, None));
        assert!(index.generated);
        let mut store = Store::in_memory();
        store.write(&[FileRow::new("gen.rs".into(), 7, text.len() as u64, 0, &mut index)], &[]).unwrap();
        let row = store.row("gen.rs").unwrap().unwrap();
        assert_eq!(decode(&row.summary, &row.data.unwrap()).unwrap(), index);
        let summary = decode_summary(&row.summary).unwrap();
        assert!(summary.light.generated);
        assert_eq!(summary.stats.generated, 1);
        let manifest = store.manifest().unwrap();
        assert_eq!(manifest["gen.rs"].stats, IndexStats { files: 1, symbols: 600, references: 0, chunks: 0, bytes: text.len() as u64, generated: 1 });
    }

    /// A cache of schema 6 (before generated files were counted) is set aside and rebuilt
    /// empty, so every file is parsed again under the new rule.
    #[test]
    fn a_cache_of_the_previous_schema_is_rebuilt() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join(DB_FILE);
        {
            let conn = Connection::open(&db).unwrap();
            conn.execute_batch(
                "CREATE TABLE files (path TEXT PRIMARY KEY, hash INTEGER NOT NULL, size INTEGER NOT NULL,
                     mtime INTEGER NOT NULL, symbols INTEGER NOT NULL, refs INTEGER NOT NULL,
                     chunks INTEGER NOT NULL, bytes INTEGER NOT NULL, summary BLOB NOT NULL, data BLOB NOT NULL);
                 INSERT INTO files VALUES ('a.rs', 1, 2, 3, 4, 5, 6, 7, x'00', x'00');
                 PRAGMA user_version = 6;",
            )
            .unwrap();
        }
        let store = Store::open(dir.path());
        assert_eq!(store.path(), Some(db.as_path()));
        assert!(store.manifest().unwrap().is_empty(), "the old rows are not read");
        assert!(dir.path().join(format!("{DB_FILE}.bad")).exists(), "the old file is set aside");
        let version: i64 = store.conn.pragma_query_value(None, "user_version", |row| row.get(0)).unwrap();
        assert_eq!(version, SCHEMA_VERSION);
    }

    #[test]
    fn a_cache_of_the_last_schema_is_set_aside_and_rebuilt() {
        let dir = tempfile::tempdir().unwrap();
        let text = "pub fn a() {}\n";
        let mut index = crate::index::extract(Lang::Rust, text, &crate::lang::parse(Lang::Rust, text, None));
        let mut store = Store::open(dir.path());
        store.write(&[FileRow::new("a.rs".into(), 7, text.len() as u64, 0, &mut index)], &[]).unwrap();
        // The rows stay, their encoding is the previous version's.
        store.conn.pragma_update(None, "user_version", SCHEMA_VERSION - 1).unwrap();
        drop(store);
        assert!(matches!(Store::try_open(dir.path()), Err(StoreError::Version)));
        let store = Store::open(dir.path());
        assert!(store.manifest().unwrap().is_empty(), "nothing of the old rows is read");
        assert!(store.row("a.rs").unwrap().is_none());
        let version: i64 = store.conn.pragma_query_value(None, "user_version", |row| row.get(0)).unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        assert!(dir.path().join("index.sqlite.bad").exists(), "the old cache is set aside");
    }
}
