//! The persistent cache: one SQLite file per workspace holding each indexed file's
//! extracted facts (`FileIndex`, bitcode-encoded) keyed by path and content hash.
//! A cache that is corrupt, truncated, of another version or unreadable is set aside and
//! rebuilt with one log line; one locked by another process is replaced by an in-memory
//! cache for this run. Writes are transactional, so a killed process leaves a usable file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, ErrorCode, OpenFlags};

use crate::index::{FileIndex, IndexStats};

/// Bump when the schema or the encoding of `FileIndex` changes.
const SCHEMA_VERSION: i64 = 3;
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
    pub fn new(path: String, hash: u64, size: u64, mtime: i64, index: &FileIndex) -> FileRow {
        let mut stats = IndexStats::default();
        stats.add(index);
        FileRow { path, hash, size, mtime, stats, data: bitcode::encode(index) }
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

pub fn decode(data: &[u8]) -> Option<FileIndex> {
    bitcode::decode(data).ok()
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
