//! # imi-store-sqlite
//!
//! The SQLite backend of the imi [`Store`] contract: one embedded database file, opened in
//! WAL mode with `synchronous=FULL` by default, so a commit that returned `Ok` survives a
//! power cut.
//!
//! Design: one writer connection behind a mutex serialises commits (SQLite allows one
//! writer at a time anyway), with group commit: commits that arrive while the writer is
//! busy queue up, and the next holder of the writer runs the whole queue in one
//! transaction, one savepoint per commit, so one fsync makes many commits durable. Each
//! caller gets its own version and result, and only after the shared transaction is on
//! disk ([`SqliteConfig::max_group`]). Reads use a small pool of read-only connections,
//! which WAL lets run beside the writer. Every call runs on Tokio's blocking pool when a Tokio
//! runtime is present, so async worker threads never wait on the disk.
//!
//! All data live in one table, `imi_kv(key BLOB PRIMARY KEY, version, value) WITHOUT
//! ROWID`, whose BLOB ordering (memcmp, shorter first) is exactly the contract's key order.
//! `PRAGMA secure_delete` is on, so deleted values are overwritten in the file; after
//! [`SqliteStore::checkpoint`] they are gone from the write-ahead log too.
//! The file is marked with `PRAGMA application_id` and carries its layout version in
//! `PRAGMA user_version`; foreign files and newer layouts are refused with an error.
//!
//! ```no_run
//! # async fn demo() -> Result<(), imi_core::store::StoreError> {
//! use imi_store_sqlite::{SqliteConfig, SqliteStore};
//! let store = SqliteStore::open("imi.db", SqliteConfig::default()).await?;
//! # Ok(()) }
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use imi_core::store::{
    Direction, Entry, KeyDisplay, Mutation, Scan, ScanPage, StoreError, Version, Versioned,
    WriteBatch,
};
use imi_store_blocking::blocking;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

/// `PRAGMA application_id` of imi stores: "IMI1" in ASCII.
pub const APPLICATION_ID: i32 = 0x494D_4931;
/// The layout version this build writes and the newest it reads. Older files are
/// upgraded on open, one [`MIGRATIONS`] step at a time, each in its own transaction.
pub const SCHEMA_VERSION: u32 = 2;

/// The first layout (version 1): the data, and the version counter.
const V1_LAYOUT: &str = "CREATE TABLE imi_kv (key BLOB PRIMARY KEY, version INTEGER NOT NULL, value BLOB NOT NULL) WITHOUT ROWID;
     CREATE TABLE imi_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
     INSERT INTO imi_meta (name, value) VALUES ('last_version', 0);";

/// One step of the file layout: from `to - 1` to `to`.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// The layout version it produces.
    pub to: u32,
    /// What it changes, for the operator.
    pub description: &'static str,
    sql: &'static str,
}

/// Every layout change since version 1, in order. A step runs in one transaction with
/// its `user_version` update and its line in `imi_migrations`, so a crash during an
/// upgrade leaves the file at the previous version, to be upgraded again on next open.
pub const MIGRATIONS: &[Migration] = &[Migration {
    to: 2,
    description: "keep a history of layout upgrades (imi_migrations)",
    sql: "CREATE TABLE imi_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, \
          applied_at_unix INTEGER NOT NULL, build TEXT NOT NULL);",
}];

/// A layout upgrade recorded in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedMigration {
    /// The layout version it produced.
    pub version: u32,
    /// What it changed.
    pub description: String,
    /// When, in seconds since 1970 (UTC).
    pub applied_at_unix: i64,
    /// The version of this crate that applied it.
    pub build: String,
}

/// Runs every migration after layout `from`, each in its own transaction.
fn migrate(conn: &Connection, from: u32) -> Result<(), StoreError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    for m in MIGRATIONS.iter().filter(|m| m.to > from) {
        let step = || -> Result<(), rusqlite::Error> {
            conn.execute_batch("BEGIN IMMEDIATE;")?;
            let applied = (|| {
                conn.execute_batch(m.sql)?;
                conn.execute(
                    "INSERT INTO imi_migrations (version, description, applied_at_unix, build)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![m.to, m.description, now, env!("CARGO_PKG_VERSION")],
                )?;
                conn.pragma_update(None, "user_version", m.to)?;
                conn.execute_batch("COMMIT;")
            })();
            if applied.is_err() {
                let _ = conn.execute_batch("ROLLBACK;");
            }
            applied
        };
        step().map_err(|e| StoreError::Backend {
            message: format!(
                "upgrading the layout to version {}: {}",
                m.to, m.description
            ),
            source: Some(Box::new(e)),
        })?;
    }
    Ok(())
}

/// How hard SQLite works to make each commit durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Synchronous {
    /// `synchronous=FULL`: every commit is on disk before it returns (the default).
    #[default]
    Full,
    /// `synchronous=NORMAL`: in WAL mode, commits are atomic and consistent but the last
    /// ones before a power cut (not a process crash) may be lost. Much faster.
    Normal,
}

/// Options for [`SqliteStore::open`].
#[derive(Debug, Clone)]
pub struct SqliteConfig {
    /// Durability of commits.
    pub synchronous: Synchronous,
    /// How many read connections may be open at once; more concurrent readers wait
    /// for one to come back.
    pub max_readers: usize,
    /// Page cache per connection, in KiB.
    pub cache_kib: u32,
    /// Group commit: the most queued commits one SQLite transaction (and one fsync)
    /// may carry. Concurrent committers share the durable commit; each is answered
    /// only once it is on disk, so durability is unchanged. `1` turns grouping off.
    pub max_group: usize,
}

impl Default for SqliteConfig {
    fn default() -> Self {
        Self {
            synchronous: Synchronous::Full,
            max_readers: 8,
            cache_kib: 16 * 1024,
            max_group: 64,
        }
    }
}

struct Writer {
    conn: Connection,
    last_version: u64,
}

struct Inner {
    path: PathBuf,
    config: SqliteConfig,
    writer: Mutex<Writer>,
    queue: Mutex<VecDeque<Arc<Slot>>>,
    stats: CommitCounters,
    readers: Mutex<ReaderPool>,
    reader_returned: Condvar,
}

/// Read connections: the idle ones, and how many exist in all.
#[derive(Default)]
struct ReaderPool {
    idle: Vec<Connection>,
    open: usize,
}

/// How many commits the store has made and how many durable transactions carried them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CommitStats {
    /// Batches committed or refused (each caller's `commit`).
    pub commits: u64,
    /// SQLite transactions (each one fsync with `synchronous=FULL`) that carried them.
    pub transactions: u64,
    /// The most batches one transaction carried.
    pub largest_group: u64,
}

#[derive(Default)]
struct CommitCounters {
    commits: AtomicU64,
    transactions: AtomicU64,
    largest_group: AtomicU64,
}

impl CommitCounters {
    fn record(&self, group: usize) {
        let group = u64::try_from(group).unwrap_or(u64::MAX);
        self.commits.fetch_add(group, Ordering::Relaxed);
        self.transactions.fetch_add(1, Ordering::Relaxed);
        self.largest_group.fetch_max(group, Ordering::Relaxed);
    }

    fn snapshot(&self) -> CommitStats {
        CommitStats {
            commits: self.commits.load(Ordering::Relaxed),
            transactions: self.transactions.load(Ordering::Relaxed),
            largest_group: self.largest_group.load(Ordering::Relaxed),
        }
    }
}

/// A [`Store`] in one SQLite database file. Cheap to clone: clones share connections.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
    /// The same `inner`, as the async store every operation goes through.
    offloaded: imi_store_blocking::Offloaded<Inner>,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .field("synchronous", &self.inner.config.synchronous)
            .finish()
    }
}

fn backend(context: &str) -> impl FnOnce(rusqlite::Error) -> StoreError + '_ {
    move |e| match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt) => {
            StoreError::Corrupt {
                detail: format!("{context}: {e}"),
            }
        }
        _ => StoreError::backend(context.to_owned(), e),
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic on another thread while holding the lock leaves no half-done state: an
    // unfinished SQLite transaction is rolled back when its guard is dropped.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn version_from_sql(raw: i64) -> Result<Version, StoreError> {
    u64::try_from(raw)
        .map(Version::from_raw)
        .map_err(|_| StoreError::Corrupt {
            detail: format!("negative version {raw}"),
        })
}

fn version_to_sql(v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::Corrupt {
        detail: format!("version {v} overflows"),
    })
}

fn configure(conn: &Connection, config: &SqliteConfig) -> Result<(), StoreError> {
    let sync = match config.synchronous {
        Synchronous::Full => "FULL",
        Synchronous::Normal => "NORMAL",
    };
    conn.execute_batch(&format!(
        "PRAGMA synchronous={sync}; PRAGMA cache_size=-{}; PRAGMA temp_store=MEMORY; PRAGMA secure_delete=ON;",
        config.cache_kib
    ))
    .map_err(backend("configuring the connection"))?;
    conn.busy_timeout(std::time::Duration::from_secs(30))
        .map_err(backend("setting the busy timeout"))?;
    // Scans come in a few dozen shapes (bounds × direction); keep them all prepared.
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

fn open_reader(path: &Path, config: &SqliteConfig) -> Result<Connection, StoreError> {
    let c = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(backend("opening a read connection"))?;
    configure(&c, config)?;
    Ok(c)
}

fn open_writer(path: &Path, config: &SqliteConfig) -> Result<Writer, StoreError> {
    let conn = Connection::open(path).map_err(backend("opening the database"))?;
    // Reading the header first makes a foreign or damaged file fail here, cleanly.
    let app_id: i32 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .map_err(backend("reading the file header"))?;
    let user_version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(backend("reading the file header"))?;
    let table_count: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
        .map_err(backend("reading the schema"))?;
    if app_id != APPLICATION_ID && (app_id != 0 || table_count != 0) {
        return Err(StoreError::Corrupt {
            detail: format!(
                "{} is an SQLite database of another application (application_id {app_id:#x})",
                path.display()
            ),
        });
    }
    let found = u32::try_from(user_version).unwrap_or(u32::MAX);
    if found > SCHEMA_VERSION {
        return Err(StoreError::UnsupportedSchema {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(backend("enabling WAL"))?;
    configure(&conn, config)?;
    if app_id == 0 {
        // A new file gets the first layout, then every migration, like an old file would.
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE;
             {V1_LAYOUT}
             PRAGMA application_id = {APPLICATION_ID};
             PRAGMA user_version = 1;
             COMMIT;"
        ))
        .map_err(backend("creating the schema"))?;
    } else if found == 0 {
        return Err(StoreError::Corrupt {
            detail: format!(
                "{} is marked as imi's but has no layout version",
                path.display()
            ),
        });
    }
    migrate(&conn, if app_id == 0 { 1 } else { found })?;
    let last: i64 = conn
        .query_row(
            "SELECT value FROM imi_meta WHERE name = 'last_version'",
            [],
            |r| r.get(0),
        )
        .map_err(|e| StoreError::Corrupt {
            detail: format!("the version counter is missing: {e}"),
        })?;
    Ok(Writer {
        conn,
        last_version: version_from_sql(last)?.raw(),
    })
}

impl SqliteStore {
    fn over(inner: Arc<Inner>) -> Self {
        Self {
            offloaded: imi_store_blocking::Offloaded::from_arc(Arc::clone(&inner)),
            inner,
        }
    }

    /// Opens (creating if needed) the store in the database file at `path`.
    ///
    /// Refuses files of other applications and files written by a newer schema with a
    /// [`StoreError`]; never panics on a bad file.
    pub async fn open(path: impl AsRef<Path>, config: SqliteConfig) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        blocking(move || {
            let writer = open_writer(&path, &config)?;
            Ok(SqliteStore::over(Arc::new(Inner {
                path,
                config,
                writer: Mutex::new(writer),
                queue: Mutex::new(VecDeque::new()),
                stats: CommitCounters::default(),
                readers: Mutex::new(ReaderPool::default()),
                reader_returned: Condvar::new(),
            })))
        })
        .await
    }

    /// The database file's path.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The layout upgrades this file has been through, oldest first: every step after
    /// the layout the file was created with (new files start at version 1 too).
    pub async fn migrations(&self) -> Result<Vec<AppliedMigration>, StoreError> {
        let inner = Arc::clone(&self.inner);
        blocking(move || {
            inner.with_reader(|conn| {
                let mut stmt = conn
                    .prepare(
                        "SELECT version, description, applied_at_unix, build FROM imi_migrations ORDER BY version",
                    )
                    .map_err(backend("reading the layout history"))?;
                let rows = stmt
                    .query_map([], |r| {
                        Ok(AppliedMigration {
                            version: r.get(0)?,
                            description: r.get(1)?,
                            applied_at_unix: r.get(2)?,
                            build: r.get(3)?,
                        })
                    })
                    .map_err(backend("reading the layout history"))?;
                rows.collect::<Result<Vec<_>, _>>()
                    .map_err(backend("reading the layout history"))
            })
        })
        .await
    }

    /// Commits made since the store was opened, and the transactions that carried them:
    /// with concurrent writers, `transactions < commits` shows group commit at work.
    pub fn commit_stats(&self) -> CommitStats {
        self.inner.stats.snapshot()
    }

    /// Copies the write-ahead log into the database file and empties it. With
    /// `secure_delete` (always on), deleted values are then gone from both files.
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        let inner = Arc::clone(&self.inner);
        blocking(move || {
            let writer = lock(&inner.writer);
            writer
                .conn
                .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
                .map_err(backend("checkpointing"))
        })
        .await
    }
}

impl Inner {
    fn with_reader<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        // Take an idle connection, or open one while fewer than `max_readers` exist, or
        // wait for one to come back: opening and closing connections under load costs
        // far more than a short wait.
        let pooled = {
            let mut pool = lock(&self.readers);
            loop {
                if let Some(c) = pool.idle.pop() {
                    break Some(c);
                }
                if pool.open < self.config.max_readers.max(1) {
                    pool.open += 1;
                    break None;
                }
                pool = self
                    .reader_returned
                    .wait(pool)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        };
        let mut conn = match pooled {
            Some(c) => c,
            None => match open_reader(&self.path, &self.config) {
                Ok(c) => c,
                Err(e) => {
                    lock(&self.readers).open -= 1;
                    self.reader_returned.notify_one();
                    return Err(e);
                }
            },
        };
        let out = f(&mut conn);
        lock(&self.readers).idle.push(conn);
        self.reader_returned.notify_one();
        out
    }

    fn get(&self, key: &[u8]) -> Result<Option<Versioned>, StoreError> {
        self.with_reader(|conn| read_one(conn, key))
    }

    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Versioned>>, StoreError> {
        self.with_reader(|conn| {
            if let [key] = keys {
                return Ok(vec![read_one(conn, key)?]);
            }
            // One read transaction: every key from the same snapshot.
            control(conn, "BEGIN DEFERRED", "starting a read")?;
            let out = keys
                .iter()
                .map(|k| read_one(conn, k))
                .collect::<Result<Vec<_>, _>>();
            match out {
                Ok(out) => {
                    control(conn, "COMMIT", "ending a read")?;
                    Ok(out)
                }
                Err(e) => {
                    rollback(conn);
                    Err(e)
                }
            }
        })
    }

    fn scan(&self, scan: &Scan) -> Result<ScanPage, StoreError> {
        let mut sql = String::from("SELECT key, version, value FROM imi_kv WHERE 1");
        let mut args: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(3);
        match &scan.start {
            Bound::Included(k) => {
                sql.push_str(" AND key >= ?");
                args.push(k);
            }
            Bound::Excluded(k) => {
                sql.push_str(" AND key > ?");
                args.push(k);
            }
            Bound::Unbounded => {}
        }
        match &scan.end {
            Bound::Included(k) => {
                sql.push_str(" AND key <= ?");
                args.push(k);
            }
            Bound::Excluded(k) => {
                sql.push_str(" AND key < ?");
                args.push(k);
            }
            Bound::Unbounded => {}
        }
        sql.push_str(match scan.direction {
            Direction::Forward => " ORDER BY key ASC",
            Direction::Reverse => " ORDER BY key DESC",
        });
        // The limit is bound too, so each scan shape is one cached statement.
        sql.push_str(" LIMIT ?");
        let limit = i64::try_from(scan.limit + 1).unwrap_or(i64::MAX);
        args.push(&limit);
        self.with_reader(|conn| {
            let mut stmt = conn
                .prepare_cached(&sql)
                .map_err(backend("preparing a scan"))?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                    Ok((
                        r.get::<_, Vec<u8>>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, Vec<u8>>(2)?,
                    ))
                })
                .map_err(backend("scanning"))?;
            let mut entries = Vec::new();
            for row in rows {
                let (key, version, value) = row.map_err(backend("scanning"))?;
                entries.push(Entry {
                    key,
                    value,
                    version: version_from_sql(version)?,
                });
            }
            Ok(ScanPage::from_overfetch(entries, scan.limit))
        })
    }

    /// Commits `batch` as part of a group: the batch joins the queue, and whichever
    /// committer holds the writer runs every queued batch (up to the group limit) in one
    /// SQLite transaction, one savepoint each, and makes them durable with one fsync.
    /// Each batch gets its own version and its own result; a batch whose checks fail is
    /// rolled back to its savepoint and leaves the others alone. Nobody is answered
    /// before the shared transaction has committed.
    fn commit(&self, batch: WriteBatch) -> Result<Version, StoreError> {
        let slot = Arc::new(Slot {
            batch: Mutex::new(Some(batch)),
            result: Mutex::new(None),
        });
        lock(&self.queue).push_back(Arc::clone(&slot));
        let mut writer = lock(&self.writer);
        loop {
            if let Some(result) = lock(&slot.result).take() {
                return result;
            }
            let group: Vec<Arc<Slot>> = {
                let mut queue = lock(&self.queue);
                let n = queue.len().min(self.config.max_group.max(1));
                queue.drain(..n).collect()
            };
            if group.is_empty() {
                // Unreachable while our slot is unanswered, but never spin on it.
                return Err(StoreError::backend(
                    "group commit",
                    std::io::Error::other("a queued commit was lost"),
                ));
            }
            let results = run_group(&mut writer, &group);
            self.stats.record(group.len());
            for (slot, result) in group.iter().zip(results) {
                *lock(&slot.result) = Some(result);
            }
        }
    }
}

/// One queued commit: its batch until the group takes it, then its result.
struct Slot {
    batch: Mutex<Option<WriteBatch>>,
    result: Mutex<Option<Result<Version, StoreError>>>,
}

/// Runs one transaction-control statement (`BEGIN`, `SAVEPOINT`, `COMMIT`...) as a cached
/// statement: parsing them anew for every commit and read cost more than the rest of a
/// small commit's CPU.
fn control(conn: &Connection, sql: &str, what: &'static str) -> Result<(), StoreError> {
    conn.prepare_cached(sql)
        .and_then(|mut s| s.execute([]))
        .map(drop)
        .map_err(backend(what))
}

/// Runs a group of queued batches in one transaction; returns one result per slot. A
/// batch that is alone in its group needs no savepoint: if its checks fail, the whole
/// transaction rolls back.
fn run_group(writer: &mut Writer, group: &[Arc<Slot>]) -> Vec<Result<Version, StoreError>> {
    let batches: Vec<Option<WriteBatch>> = group.iter().map(|s| lock(&s.batch).take()).collect();
    let start = writer.last_version;
    let mut next = start;
    let conn = &writer.conn;
    let alone = batches.len() == 1;
    let outcome = (|| {
        control(conn, "BEGIN IMMEDIATE", "starting a commit")?;
        let mut results = Vec::with_capacity(batches.len());
        for batch in batches {
            let Some(batch) = batch else {
                results.push(Err(StoreError::backend(
                    "group commit",
                    std::io::Error::other("a batch was taken twice"),
                )));
                continue;
            };
            if !alone {
                control(conn, "SAVEPOINT batch", "starting a savepoint")?;
            }
            match apply_one(conn, batch, next + 1) {
                Ok(version) => {
                    if !alone {
                        control(conn, "RELEASE batch", "releasing a savepoint")?;
                    }
                    next += 1;
                    results.push(Ok(version));
                }
                Err(e) if alone => return Ok(Err(e)),
                Err(e) => {
                    control(conn, "ROLLBACK TO batch", "rolling back a savepoint")?;
                    control(conn, "RELEASE batch", "releasing a savepoint")?;
                    results.push(Err(e));
                }
            }
        }
        if next != start {
            let last = version_to_sql(next)?;
            conn.prepare_cached("UPDATE imi_meta SET value = ?1 WHERE name = 'last_version'")
                .and_then(|mut s| s.execute(params![last]))
                .map_err(backend("advancing the version counter"))?;
        }
        control(conn, "COMMIT", "committing")?;
        Ok::<_, StoreError>(Ok(results))
    })();
    match outcome {
        Ok(Ok(results)) => {
            writer.last_version = next;
            results
        }
        Ok(Err(refused)) => {
            // The group's only batch was refused: nothing was written.
            rollback(conn);
            vec![Err(refused)]
        }
        Err(e) => {
            // The shared transaction rolled back: nothing of the group was applied.
            rollback(conn);
            let message = e.to_string();
            (0..group.len())
                .map(|_| {
                    Err(StoreError::backend(
                        "group commit",
                        std::io::Error::other(message.clone()),
                    ))
                })
                .collect()
        }
    }
}

/// Ends whatever transaction is open after a failure; without one this is a no-op.
fn rollback(conn: &Connection) {
    if !conn.is_autocommit() {
        // If even this fails the connection is unusable, and the next BEGIN says so.
        let _ = control(conn, "ROLLBACK", "rolling back");
    }
}

/// Checks and writes one batch at `version` inside the open transaction.
fn apply_one(conn: &Connection, batch: WriteBatch, version: u64) -> Result<Version, StoreError> {
    let (checks, mutations) = batch.into_parts();
    for check in &checks {
        let found = current_version(conn, &check.key)?;
        if !check.precondition.holds(found) {
            return Err(StoreError::Conflict {
                key: KeyDisplay::from(check.key.as_slice()),
                expected: check.precondition,
                found,
            });
        }
    }
    let sql_version = version_to_sql(version)?;
    let mut put = conn
        .prepare_cached(
            "INSERT INTO imi_kv (key, version, value) VALUES (?1, ?2, ?3)
             ON CONFLICT(key) DO UPDATE SET version = excluded.version, value = excluded.value",
        )
        .map_err(backend("preparing a put"))?;
    let mut del = conn
        .prepare_cached("DELETE FROM imi_kv WHERE key = ?1")
        .map_err(backend("preparing a delete"))?;
    for m in &mutations {
        match m {
            Mutation::Put { key, value } => put.execute(params![key, sql_version, value]),
            Mutation::Delete { key } => del.execute(params![key]),
        }
        .map_err(backend("writing"))?;
    }
    Ok(Version::from_raw(version))
}

fn current_version(conn: &Connection, key: &[u8]) -> Result<Option<Version>, StoreError> {
    conn.prepare_cached("SELECT version FROM imi_kv WHERE key = ?1")
        .and_then(|mut s| s.query_row(params![key], |r| r.get::<_, i64>(0)).optional())
        .map_err(backend("checking a precondition"))?
        .map(version_from_sql)
        .transpose()
}

fn read_one(conn: &Connection, key: &[u8]) -> Result<Option<Versioned>, StoreError> {
    let row = conn
        .prepare_cached("SELECT version, value FROM imi_kv WHERE key = ?1")
        .and_then(|mut s| {
            s.query_row(params![key], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
            })
            .optional()
        })
        .map_err(backend("reading"))?;
    row.map(|(version, value)| {
        Ok(Versioned {
            value,
            version: version_from_sql(version)?,
        })
    })
    .transpose()
}

imi_store_blocking::offloaded_store!(SqliteStore, offloaded);

impl imi_store_blocking::BlockingStore for Inner {
    fn get(&self, key: &[u8]) -> Result<Option<Versioned>, StoreError> {
        Inner::get(self, key)
    }

    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Versioned>>, StoreError> {
        Inner::get_many(self, keys)
    }

    fn scan(&self, scan: &Scan) -> Result<ScanPage, StoreError> {
        Inner::scan(self, scan)
    }

    fn commit(&self, batch: WriteBatch) -> Result<Version, StoreError> {
        Inner::commit(self, batch)
    }
}
