//! # imi-store-sled
//!
//! The [sled](https://docs.rs/sled/0.34) backend of the imi [`Store`] contract: a pure-Rust
//! embedded log-structured store in one directory.
//!
//! Design: data live in the tree `imi_kv`, each value prefixed by the 8-byte big-endian
//! [`Version`] of the commit that wrote it. Commits are serialised by a mutex: checks are
//! read, then all mutations go in as one atomic `apply_batch`, then (by default) the
//! commit waits until a flush that began after it is on disk before it returns. Flushes
//! are shared (group commit): while one runs, the commits that arrive queue for the
//! next, and one fsync then makes them all durable. Versions come from sled's
//! crash-safe monotonic id generator. Every call runs on Tokio's blocking pool when a
//! Tokio runtime is present.
//!
//! The default tree holds the markers `imi.application` and `imi.schema_version`; a
//! directory of another sled application or a newer layout is refused with an error.
//!
//! ```no_run
//! # async fn demo() -> Result<(), imi_core::store::StoreError> {
//! use imi_store_sled::{SledConfig, SledStore};
//! let store = SledStore::open("imi-sled", SledConfig::default()).await?;
//! # Ok(()) }
//! ```

use std::fmt;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use imi_core::store::{
    Direction, Entry, KeyDisplay, Mutation, Scan, ScanPage, StoreError, Version, Versioned,
    WriteBatch,
};
use imi_store_blocking::blocking;

/// The layout version this build writes and the newest it reads. Older directories are
/// upgraded on open, one [`MIGRATIONS`] step at a time, each as one atomic batch.
pub const SCHEMA_VERSION: u32 = 2;

/// One step of the layout: from `to - 1` to `to`.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// The layout version it produces.
    pub to: u32,
    /// What it changes, for the operator.
    pub description: &'static str,
}

/// Every layout change since version 1, in order. A step's changes to the markers tree,
/// its history entry and the new version marker are one atomic batch, flushed before
/// the store is used.
pub const MIGRATIONS: &[Migration] = &[Migration {
    to: 2,
    description: "keep a history of layout upgrades (imi.migration/<version>)",
}];

/// A layout upgrade recorded in the store.
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

const KEY_MIGRATION: &[u8] = b"imi.migration/";

/// Runs every migration after layout `from`.
fn migrate(db: &sled::Db, from: u32) -> Result<(), StoreError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    for m in MIGRATIONS.iter().filter(|m| m.to > from) {
        let mut batch = sled::Batch::default();
        // Version 2 only adds the history itself; later steps put their changes here.
        let mut key = KEY_MIGRATION.to_vec();
        key.extend_from_slice(&m.to.to_be_bytes());
        let record = format!("{now} {} {}", env!("CARGO_PKG_VERSION"), m.description);
        batch.insert(key, record.as_bytes());
        batch.insert(KEY_SCHEMA, &m.to.to_be_bytes());
        db.apply_batch(batch)
            .and_then(|()| db.flush().map(drop))
            .map_err(|e| StoreError::Backend {
                message: format!(
                    "upgrading the layout to version {}: {}",
                    m.to, m.description
                ),
                source: Some(Box::new(e)),
            })?;
    }
    Ok(())
}
const APPLICATION_MARK: &[u8] = b"imi";
const KEY_APPLICATION: &[u8] = b"imi.application";
const KEY_SCHEMA: &[u8] = b"imi.schema_version";
/// Added to sled's id generator to make versions; raised by [`SledStore::compact`] so
/// versions keep growing in the rewritten database.
const KEY_VERSION_BASE: &[u8] = b"imi.version_base";
const DATA_TREE: &[u8] = b"imi_kv";

/// When a commit reaches the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Flush (and fsync) before a commit returns (the default).
    #[default]
    Flush,
    /// Leave flushing to sled's background thread (every few hundred ms): commits are
    /// atomic, but the last ones before a crash may be lost. Much faster.
    Relaxed,
}

/// Options for [`SledStore::open`].
#[derive(Debug, Clone)]
pub struct SledConfig {
    /// When commits reach the disk.
    pub durability: Durability,
    /// sled's page cache, in bytes.
    pub cache_bytes: u64,
    /// Group commit (with [`Durability::Flush`]): concurrent commits share one flush.
    /// `false` flushes each commit on its own while holding the commit lock, as one
    /// fsync per commit; only useful to measure what grouping gains.
    pub group_commit: bool,
}

impl Default for SledConfig {
    fn default() -> Self {
        Self {
            durability: Durability::Flush,
            cache_bytes: 256 * 1024 * 1024,
            group_commit: true,
        }
    }
}

struct Inner {
    path: PathBuf,
    config: SledConfig,
    db: sled::Db,
    kv: sled::Tree,
    version_base: u64,
    commit_lock: Mutex<()>,
    flusher: Flusher,
    stats: CommitCounters,
}

/// A [`Store`] in a sled database directory. Cheap to clone: clones share the database.
#[derive(Clone)]
pub struct SledStore {
    inner: Arc<Inner>,
    /// The same `inner`, as the async store every operation goes through.
    offloaded: imi_store_blocking::Offloaded<Inner>,
}

impl fmt::Debug for SledStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SledStore")
            .field("path", &self.inner.path)
            .field("durability", &self.inner.config.durability)
            .finish()
    }
}

fn backend(context: &'static str) -> impl FnOnce(sled::Error) -> StoreError {
    move |e| match e {
        sled::Error::Corruption { .. } | sled::Error::Unsupported(_) => StoreError::Corrupt {
            detail: format!("{context}: {e}"),
        },
        other => StoreError::backend(context, other),
    }
}

fn encode(version: u64, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + value.len());
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(value);
    out
}

fn decode(key: &[u8], stored: &[u8]) -> Result<(Version, Vec<u8>), StoreError> {
    match stored.split_first_chunk::<8>() {
        Some((version, value)) => Ok((
            Version::from_raw(u64::from_be_bytes(*version)),
            value.to_vec(),
        )),
        None => Err(StoreError::Corrupt {
            detail: format!(
                "the value of key {} has no version header",
                KeyDisplay::from(key)
            ),
        }),
    }
}

fn stored_version(key: &[u8], stored: &[u8]) -> Result<Version, StoreError> {
    match stored.first_chunk::<8>() {
        Some(v) => Ok(Version::from_raw(u64::from_be_bytes(*v))),
        None => Err(StoreError::Corrupt {
            detail: format!(
                "the value of key {} has no version header",
                KeyDisplay::from(key)
            ),
        }),
    }
}

/// How long opening waits for the lock of a database that was just closed.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Opens the sled database, waiting up to [`LOCK_WAIT`] for its file lock: sled releases
/// the lock from a background thread some time after the last handle is dropped, so a
/// store reopened at once (in the same process) would otherwise fail.
fn open_locked(path: &Path, config: &SledConfig) -> Result<sled::Db, StoreError> {
    let started = std::time::Instant::now();
    loop {
        match sled::Config::new()
            .path(path)
            .cache_capacity(config.cache_bytes)
            .open()
        {
            Ok(db) => return Ok(db),
            Err(sled::Error::Io(e))
                if e.to_string().contains("could not acquire lock")
                    && started.elapsed() < LOCK_WAIT =>
            {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => return Err(backend("opening the database")(e)),
        }
    }
}

fn open_db(path: &Path, config: &SledConfig) -> Result<Inner, StoreError> {
    if path.is_file() {
        return Err(StoreError::Corrupt {
            detail: format!(
                "{} is a file, not a sled database directory",
                path.display()
            ),
        });
    }
    let db = open_locked(path, config)?;
    let mark = db
        .get(KEY_APPLICATION)
        .map_err(backend("reading the markers"))?;
    let layout = match mark {
        Some(m) if m.as_ref() == APPLICATION_MARK => {
            let schema = db
                .get(KEY_SCHEMA)
                .map_err(backend("reading the markers"))?
                .and_then(|v| v.as_ref().try_into().ok().map(u32::from_be_bytes))
                .ok_or_else(|| StoreError::Corrupt {
                    detail: "the schema version marker is missing or damaged".to_owned(),
                })?;
            if schema > SCHEMA_VERSION {
                return Err(StoreError::UnsupportedSchema {
                    found: schema,
                    supported: SCHEMA_VERSION,
                });
            }
            schema
        }
        Some(_) => {
            return Err(StoreError::Corrupt {
                detail: format!("{} belongs to another application", path.display()),
            });
        }
        None => {
            let foreign_trees = db
                .tree_names()
                .iter()
                .any(|n| n.as_ref() != DATA_TREE && n.as_ref() != b"__sled__default");
            if !db.is_empty() || foreign_trees {
                return Err(StoreError::Corrupt {
                    detail: format!(
                        "{} is a sled database of another application",
                        path.display()
                    ),
                });
            }
            // A new store gets the first layout, then every migration, like an old one.
            let mut batch = sled::Batch::default();
            batch.insert(KEY_SCHEMA, &1u32.to_be_bytes());
            batch.insert(KEY_APPLICATION, APPLICATION_MARK);
            db.apply_batch(batch)
                .map_err(backend("writing the markers"))?;
            db.flush().map_err(backend("writing the markers"))?;
            1
        }
    };
    migrate(&db, layout)?;
    let kv = db
        .open_tree(DATA_TREE)
        .map_err(backend("opening the data tree"))?;
    let version_base = db
        .get(KEY_VERSION_BASE)
        .map_err(backend("reading the markers"))?
        .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
        .map_or(0, u64::from_be_bytes);
    Ok(Inner {
        path: path.to_path_buf(),
        config: config.clone(),
        db,
        kv,
        version_base,
        commit_lock: Mutex::new(()),
        flusher: Flusher::default(),
        stats: CommitCounters::default(),
    })
}

impl SledStore {
    fn over(inner: Arc<Inner>) -> Self {
        Self {
            offloaded: imi_store_blocking::Offloaded::from_arc(Arc::clone(&inner)),
            inner,
        }
    }

    /// Opens (creating if needed) the store in the directory at `path`.
    ///
    /// Refuses files, directories of other sled applications and newer layouts with a
    /// [`StoreError`]; never panics on bad storage.
    pub async fn open(path: impl AsRef<Path>, config: SledConfig) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        blocking(move || {
            // sled may panic on some kinds of damage while it recovers its log; a bad
            // directory must give an error, not take the embedding program down.
            let opened =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| open_db(&path, &config)))
                    .map_err(|_| StoreError::Corrupt {
                        detail: format!(
                            "sled could not recover the database in {}",
                            path.display()
                        ),
                    })??;
            Ok(SledStore::over(Arc::new(opened)))
        })
        .await
    }

    /// The database directory.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Rewrites the closed database at `path` with only its live data, then puts the new
    /// copy in its place. sled keeps overwritten and deleted values in its log segments
    /// until they are reused; this removes them, so deleted personal data leave no bytes
    /// in the files. Run it while no store is open on `path` (it takes sled's lock and
    /// fails otherwise). Returns how many keys were copied.
    pub async fn compact(path: impl AsRef<Path>) -> Result<u64, StoreError> {
        let path = path.as_ref().to_path_buf();
        blocking(move || compact_now(&path)).await
    }

    /// The layout upgrades this store has been through, oldest first: every step after
    /// the layout it was created with (new stores start at version 1 too).
    pub fn migrations(&self) -> Result<Vec<AppliedMigration>, StoreError> {
        let mut out = Vec::new();
        for item in self.inner.db.scan_prefix(KEY_MIGRATION) {
            let (key, value) = item.map_err(backend("reading the layout history"))?;
            let damaged = || StoreError::Corrupt {
                detail: format!(
                    "the layout history entry {} is damaged",
                    KeyDisplay::from(key.as_ref())
                ),
            };
            let version = key
                .get(KEY_MIGRATION.len()..)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map(u32::from_be_bytes)
                .ok_or_else(damaged)?;
            let text = std::str::from_utf8(&value).map_err(|_| damaged())?;
            let mut parts = text.splitn(3, ' ');
            let (Some(at), Some(build), Some(description)) =
                (parts.next(), parts.next(), parts.next())
            else {
                return Err(damaged());
            };
            out.push(AppliedMigration {
                version,
                description: description.to_owned(),
                applied_at_unix: at.parse().map_err(|_| damaged())?,
                build: build.to_owned(),
            });
        }
        Ok(out)
    }

    /// Commits made since the store was opened, and the flushes that made them durable:
    /// with concurrent writers, `flushes < commits` shows group commit at work.
    pub fn commit_stats(&self) -> CommitStats {
        self.inner.stats.snapshot()
    }

    /// Flushes everything to disk (useful before a backup in relaxed mode).
    pub async fn flush(&self) -> Result<(), StoreError> {
        let inner = Arc::clone(&self.inner);
        blocking(move || inner.db.flush().map(drop).map_err(backend("flushing"))).await
    }
}

fn compact_now(path: &Path) -> Result<u64, StoreError> {
    let io = |what: &'static str| move |e: std::io::Error| StoreError::backend(what, e);
    let fresh = path.with_extension("compacting");
    let old = path.with_extension("compacted-old");
    for leftover in [&fresh, &old] {
        if leftover.exists() {
            std::fs::remove_dir_all(leftover)
                .map_err(io("removing a leftover of an earlier compaction"))?;
        }
    }
    let mut copied = 0u64;
    {
        let src = sled::Config::new()
            .path(path)
            .open()
            .map_err(backend("opening the database to compact"))?;
        if src
            .get(KEY_APPLICATION)
            .map_err(backend("reading the markers"))?
            .as_deref()
            != Some(APPLICATION_MARK)
        {
            return Err(StoreError::Corrupt {
                detail: format!("{} is not an imi sled store", path.display()),
            });
        }
        let dst = sled::Config::new()
            .path(&fresh)
            .open()
            .map_err(backend("creating the compacted copy"))?;
        let mut max_version = 0u64;
        for item in src.iter() {
            let (k, v) = item.map_err(backend("copying"))?;
            dst.insert(k, v).map_err(backend("copying"))?;
            copied += 1;
        }
        for name in src.tree_names() {
            if name.as_ref() == b"__sled__default" {
                continue;
            }
            let from = src.open_tree(&name).map_err(backend("copying"))?;
            let to = dst.open_tree(&name).map_err(backend("copying"))?;
            for item in from.iter() {
                let (k, v) = item.map_err(backend("copying"))?;
                if name.as_ref() == DATA_TREE {
                    max_version = max_version.max(stored_version(&k, &v)?.raw());
                }
                to.insert(k, v).map_err(backend("copying"))?;
                copied += 1;
            }
        }
        // Every version ever handed out stays below the new base.
        let old_base = src
            .get(KEY_VERSION_BASE)
            .map_err(backend("reading the markers"))?
            .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
            .map_or(0, u64::from_be_bytes);
        let issued = old_base
            + src
                .generate_id()
                .map_err(backend("reading the version counter"))?
            + 1;
        let base = max_version.max(issued) + 1;
        dst.insert(KEY_VERSION_BASE, &base.to_be_bytes())
            .map_err(backend("writing the markers"))?;
        dst.flush()
            .map_err(backend("flushing the compacted copy"))?;
    }
    std::fs::rename(path, &old).map_err(io("moving the old database aside"))?;
    std::fs::rename(&fresh, path).map_err(io("putting the compacted database in place"))?;
    std::fs::remove_dir_all(&old).map_err(io("removing the old database"))?;
    Ok(copied)
}

impl Inner {
    fn get(&self, key: &[u8]) -> Result<Option<Versioned>, StoreError> {
        let Some(stored) = self.kv.get(key).map_err(backend("reading"))? else {
            return Ok(None);
        };
        let (version, value) = decode(key, &stored)?;
        Ok(Some(Versioned { value, version }))
    }

    fn scan(&self, scan: &Scan) -> Result<ScanPage, StoreError> {
        let range = (scan.start.clone(), scan.end.clone());
        let iter = self
            .kv
            .range::<Vec<u8>, (Bound<Vec<u8>>, Bound<Vec<u8>>)>(range);
        let iter: Box<dyn Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>> =
            match scan.direction {
                Direction::Forward => Box::new(iter),
                Direction::Reverse => Box::new(iter.rev()),
            };
        let mut entries = Vec::new();
        for item in iter.take(scan.limit + 1) {
            let (key, stored) = item.map_err(backend("scanning"))?;
            let (version, value) = decode(&key, &stored)?;
            entries.push(Entry {
                key: key.to_vec(),
                value,
                version,
            });
        }
        Ok(ScanPage::from_overfetch(entries, scan.limit))
    }

    fn commit(&self, batch: WriteBatch) -> Result<Version, StoreError> {
        // Only commits take this lock, so nothing changes between the checks and the
        // batch. A poisoned lock guards no data.
        let _guard = self
            .commit_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for check in batch.checks() {
            let found = self
                .kv
                .get(&check.key)
                .map_err(backend("checking a precondition"))?
                .map(|stored| stored_version(&check.key, &stored))
                .transpose()?;
            if !check.precondition.holds(found) {
                return Err(StoreError::Conflict {
                    key: KeyDisplay::from(check.key.as_slice()),
                    expected: check.precondition,
                    found,
                });
            }
        }
        // sled's id generator is monotonic across restarts and crashes; the base keeps
        // versions growing across compactions.
        let next = self.version_base
            + self
                .db
                .generate_id()
                .map_err(backend("allocating a version"))?
            + 1;
        let mut sled_batch = sled::Batch::default();
        let (_, mutations) = batch.into_parts();
        for m in mutations {
            match m {
                Mutation::Put { key, value } => sled_batch.insert(key, encode(next, &value)),
                Mutation::Delete { key } => sled_batch.remove(key),
            }
        }
        self.kv
            .apply_batch(sled_batch)
            .map_err(backend("writing"))?;
        match (self.config.durability, self.config.group_commit) {
            (Durability::Flush, true) => {
                drop(_guard);
                self.flusher.make_durable(&self.db, &self.stats)?;
            }
            (Durability::Flush, false) => {
                self.db.flush().map_err(backend("flushing the commit"))?;
                self.stats.commits.fetch_add(1, Ordering::Relaxed);
                self.stats.record_flush(1);
            }
            (Durability::Relaxed, _) => {
                self.stats.commits.fetch_add(1, Ordering::Relaxed);
            }
        }
        Ok(Version::from_raw(next))
    }
}

/// Group commit for sled: a commit is applied under the commit lock, then waits until a
/// flush that started after it has finished. One committer at a time flushes, for
/// everything applied so far; those that arrive meanwhile wait for the next flush, so
/// one fsync serves every commit that queued behind the running one.
#[derive(Default)]
struct Flusher {
    state: Mutex<FlushState>,
    flushed: Condvar,
}

#[derive(Default)]
struct FlushState {
    /// Tickets handed out: one per applied commit.
    applied: u64,
    /// Every ticket up to this one is on disk.
    durable: u64,
    /// A flush is running.
    running: bool,
}

impl Flusher {
    fn lock(&self) -> std::sync::MutexGuard<'_, FlushState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn make_durable(&self, db: &sled::Db, stats: &CommitCounters) -> Result<(), StoreError> {
        let mut state = self.lock();
        state.applied += 1;
        let ticket = state.applied;
        stats.commits.fetch_add(1, Ordering::Relaxed);
        loop {
            if state.durable >= ticket {
                return Ok(());
            }
            if state.running {
                state = self
                    .flushed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            state.running = true;
            let target = state.applied;
            let covers = target - state.durable;
            drop(state);
            let flushed = db.flush();
            state = self.lock();
            state.running = false;
            if flushed.is_ok() {
                state.durable = state.durable.max(target);
                stats.record_flush(covers);
            }
            self.flushed.notify_all();
            // On failure the others retry the flush themselves.
            flushed.map_err(backend("flushing the commit"))?;
        }
    }
}

/// How many commits the store has made and how many flushes made them durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CommitStats {
    /// Commits applied.
    pub commits: u64,
    /// Flushes (each one fsync) that made them durable; 0 in relaxed mode.
    pub flushes: u64,
    /// The most commits one flush made durable.
    pub largest_group: u64,
}

#[derive(Default)]
struct CommitCounters {
    commits: AtomicU64,
    flushes: AtomicU64,
    largest_group: AtomicU64,
}

impl CommitCounters {
    fn record_flush(&self, covers: u64) {
        self.flushes.fetch_add(1, Ordering::Relaxed);
        self.largest_group.fetch_max(covers, Ordering::Relaxed);
    }

    fn snapshot(&self) -> CommitStats {
        CommitStats {
            commits: self.commits.load(Ordering::Relaxed),
            flushes: self.flushes.load(Ordering::Relaxed),
            largest_group: self.largest_group.load(Ordering::Relaxed),
        }
    }
}

imi_store_blocking::offloaded_store!(SledStore, offloaded);

impl imi_store_blocking::BlockingStore for Inner {
    fn get(&self, key: &[u8]) -> Result<Option<Versioned>, StoreError> {
        Inner::get(self, key)
    }

    fn scan(&self, scan: &Scan) -> Result<ScanPage, StoreError> {
        Inner::scan(self, scan)
    }

    fn commit(&self, batch: WriteBatch) -> Result<Version, StoreError> {
        Inner::commit(self, batch)
    }
}
