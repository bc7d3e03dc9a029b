//! The persistent cache: one SQLite file per workspace holding each indexed file's
//! extracted facts (`FileIndex`, bitcode-encoded) keyed by path and content hash.
//! A cache that is corrupt, truncated, of another version or unreadable is set aside and
//! rebuilt with one log line; one locked by another process is replaced by an in-memory
//! cache for this run. Writes are transactional, so a killed process leaves a usable file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, ErrorCode, OpenFlags};

use crate::index::{FileIndex, IndexStats, Reference};

/// Bump when the schema or the encoding of `FileIndex` changes.
const SCHEMA_VERSION: i64 = 4;
const DB_FILE: &str = "index.sqlite";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cache database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cache directory: {0}")]
    Io(#[from] std::io::Error),
    #[error("cache was written by another version of ctxls")]
    Version,
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
    pub data: Vec<u8>,
}

impl FileRow {
    pub fn new(path: String, hash: u64, size: u64, mtime: i64, index: &mut FileIndex) -> FileRow {
        let mut stats = IndexStats::default();
        stats.add(index);
        FileRow { path, hash, size, mtime, stats, data: encode(index) }
    }
}

/// A file's identifier occurrences, encoded apart from the rest (see `encode`).
#[derive(bitcode::Encode, bitcode::Decode)]
struct References {
    names: Vec<String>,
    references: Vec<Reference>,
}

/// A row's facts: `[core length: u32 LE][core][references]`, the core being the
/// `FileIndex` without its names and references. Retrieval needs the references of the
/// file at hand only, so a load can skip decoding them for every other file
/// (`decode_core`): they are half of what a large workspace allocates.
/// (The two parts are moved out of `index` for the encoding and back: no copy.)
fn encode(index: &mut FileIndex) -> Vec<u8> {
    let part = References { names: std::mem::take(&mut index.names), references: std::mem::take(&mut index.references) };
    let core = bitcode::encode(&*index);
    let references = bitcode::encode(&part);
    index.names = part.names;
    index.references = part.references;
    let mut out = Vec::with_capacity(4 + core.len() + references.len());
    out.extend_from_slice(&(core.len() as u32).to_le_bytes());
    out.extend_from_slice(&core);
    out.extend_from_slice(&references);
    out
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
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
        if version == 0 {
            init_schema(&conn)?;
        } else if version != SCHEMA_VERSION {
            return Err(StoreError::Version);
        }
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
            .prepare("SELECT path, hash, size, mtime, symbols, refs, chunks, bytes FROM files")?;
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

    /// The encoded facts of every cached file: (path, hash, bytes).
    /// Every row (path, hash, encoded facts), handed to `each` as it is read; `each`
    /// returns false to stop.
    pub fn for_each_row(&self, mut each: impl FnMut(String, u64, Vec<u8>) -> bool) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare("SELECT path, hash, data FROM files")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            if !each(row.get(0)?, row.get::<_, i64>(1)? as u64, row.get(2)?) {
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

    /// One row: (hash, encoded facts).
    pub fn row(&self, path: &str) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT hash, data FROM files WHERE path = ?1")?;
        let mut rows = stmt.query(params![path])?;
        match rows.next()? {
            Some(row) => Ok(Some((row.get::<_, i64>(0)? as u64, row.get(1)?))),
            None => Ok(None),
        }
    }

    /// Writes rows and removes paths in one transaction.
    pub fn write(&mut self, rows: &[FileRow], removed: &[String]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR REPLACE INTO files (path, hash, size, mtime, symbols, refs, chunks, bytes, data)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
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

    /// Updates the modification time of unchanged files (a `touch` must not cost a
    /// reparse on every start).
    pub fn update_mtimes(&mut self, updates: &[(String, i64)]) -> Result<(), StoreError> {
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

/// A row's facts, whole.
pub fn decode(data: &[u8]) -> Option<FileIndex> {
    let (core, references) = split_row(data)?;
    let mut index: FileIndex = bitcode::decode(core).ok()?;
    let References { names, references } = bitcode::decode(references).ok()?;
    index.names = names;
    index.references = references;
    Some(index)
}

/// A row's facts without the identifier occurrences (`names` and `references` empty).
pub fn decode_core(data: &[u8]) -> Option<FileIndex> {
    bitcode::decode(split_row(data)?.0).ok()
}

fn split_row(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let length = u32::from_le_bytes(data.get(..4)?.try_into().ok()?) as usize;
    let core = data.get(4..4 + length)?;
    Some((core, &data[4 + length..]))
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
             data BLOB NOT NULL
         );
         PRAGMA user_version = {SCHEMA_VERSION};
         COMMIT;"
    ))
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
    fn a_row_decodes_whole_or_without_its_references() {
        let text = "use std::fmt;\nfn area(w: f64, h: f64) -> f64 { w * h }\nfn main() { area(1.0, 2.0); }\n";
        let mut index = crate::index::extract(Lang::Rust, text, &crate::lang::parse(Lang::Rust, text, None));
        let original = index.clone();
        let mut store = Store::in_memory();
        store.write(&[FileRow::new("a.rs".into(), 7, text.len() as u64, 0, &mut index)], &[]).unwrap();
        assert_eq!(index, original, "encoding leaves the index as it was");
        let (hash, data) = store.row("a.rs").unwrap().unwrap();
        assert_eq!(hash, 7);
        assert_eq!(decode(&data).unwrap(), original);
        let core = decode_core(&data).unwrap();
        assert!(core.references.is_empty() && core.names.is_empty());
        assert_eq!((core.symbols, core.chunks, core.terms), (original.symbols, original.chunks, original.terms));
        assert!(!original.references.is_empty());
        // A truncated or foreign row decodes to nothing (the file is parsed again).
        assert_eq!(decode(&data[..data.len() / 2]), None);
        assert_eq!(decode(&[1, 2]), None);
        assert_eq!(store.row("missing.rs").unwrap(), None);
    }
}
