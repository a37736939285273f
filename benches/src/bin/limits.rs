//! `imi-limits`: durable request transitions per second on each on-disk backend, against
//! the physical limit for one durable commit per command, measured in the same run.
//!
//! ```text
//! imi-limits [--seconds S] [--clients N] [--backend sqlite|sled|all] [--only TEXT]
//! ```
//!
//! `--only` runs just the engine runs whose label contains TEXT (the raw limits always
//! run: every ratio needs them).
//!
//! For each backend it measures, on fresh files under the system's temporary directory:
//! 1. the raw limit: single-row durable commits per second from one thread, straight to
//!    rusqlite (WAL, `synchronous=FULL`, `secure_delete`, the same table layout) or sled
//!    (insert and flush), with no engine;
//! 2. engine request transitions per second (each lifecycle is 6 durable commands:
//!    create, save, send, accept, answer, accept the answer) with one client and no group
//!    commit, with N concurrent clients without group commit, and with N clients with
//!    group commit; and the faster (non-durable) mode with N clients;
//! 3. each as a ratio of the raw limit, with p50/p99 transition latency and how many
//!    commits one fsync carried;
//! 4. the writes themselves: the one-client run records every batch it commits (keys,
//!    values, deletions; up to 50 000), and they are replayed straight into rusqlite or
//!    sled, one durable commit each, from one thread, with no engine. That replay is the
//!    limit for *these* commits, and the one-client run's share of it is what the
//!    engine itself costs.
//!
//! Defaults: 10 seconds per measurement, 32 clients, both backends. Progress goes to
//! standard error, the table to standard output.

#![allow(clippy::print_stdout, clippy::print_stderr)] // a command-line program talks on its terminal

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use imi_benches::lifecycle::{LIFECYCLE_STEPS, RequestWorld};
use imi_core::store::{Mutation, Scan, ScanPage, Version, Versioned, WriteBatch};
use imi_core::{ManualClock, store::Store, store::StoreError};
use imi_store_sled::{Durability, SledConfig, SledStore};
use imi_store_sqlite::{SqliteConfig, SqliteStore, Synchronous};

struct Args {
    seconds: f64,
    clients: usize,
    backends: Vec<&'static str>,
    only: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        seconds: 10.0,
        clients: 32,
        backends: vec!["sqlite", "sled"],
        only: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--seconds" => {
                args.seconds = value()?.parse().map_err(|e| format!("--seconds: {e}"))?;
            }
            "--clients" => {
                args.clients = value()?.parse().map_err(|e| format!("--clients: {e}"))?;
            }
            "--backend" => {
                args.backends = match value()?.as_str() {
                    "sqlite" => vec!["sqlite"],
                    "sled" => vec!["sled"],
                    "all" => vec!["sqlite", "sled"],
                    other => return Err(format!("--backend: unknown backend `{other}`")),
                };
            }
            "--only" => args.only = Some(value()?),
            "-h" | "--help" => {
                return Err(
                    "usage: imi-limits [--seconds S] [--clients N] [--backend sqlite|sled|all] [--only TEXT]"
                        .into(),
                );
            }
            other => return Err(format!("unknown argument `{other}` (try --help)")),
        }
    }
    if args.seconds.is_nan() || args.seconds <= 0.0 || args.clients == 0 {
        return Err("--seconds and --clients must be positive".into());
    }
    Ok(args)
}

type Failure = Box<dyn std::error::Error + Send + Sync>;

/// Single-row durable commits per second straight to rusqlite, with the settings the
/// SQLite backend uses.
fn raw_sqlite(dir: &std::path::Path, sync: &str, seconds: f64) -> Result<f64, Failure> {
    let conn = rusqlite::Connection::open(dir.join("raw.db"))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.execute_batch(&format!(
        "PRAGMA synchronous={sync}; PRAGMA cache_size=-16384; PRAGMA temp_store=MEMORY; PRAGMA secure_delete=ON;
         CREATE TABLE imi_kv (key BLOB PRIMARY KEY, version INTEGER NOT NULL, value BLOB NOT NULL) WITHOUT ROWID;"
    ))?;
    let value = vec![7u8; 200];
    let started = Instant::now();
    let mut n: u64 = 0;
    while started.elapsed().as_secs_f64() < seconds {
        let tx = conn.unchecked_transaction()?;
        tx.execute(
            "INSERT INTO imi_kv (key, version, value) VALUES (?1, ?2, ?3)
             ON CONFLICT(key) DO UPDATE SET version = excluded.version, value = excluded.value",
            rusqlite::params![(n % 100_000).to_be_bytes(), i64::try_from(n)?, value],
        )?;
        tx.commit()?;
        n += 1;
    }
    #[allow(clippy::cast_precision_loss)] // a rate for a report
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

/// Single-key durable commits per second straight to sled: insert, then flush.
fn raw_sled(dir: &std::path::Path, seconds: f64) -> Result<f64, Failure> {
    let db = sled::Config::new()
        .path(dir.join("raw-sled"))
        .cache_capacity(256 * 1024 * 1024)
        .open()?;
    let tree = db.open_tree("imi_kv")?;
    let value = vec![7u8; 208];
    let started = Instant::now();
    let mut n: u64 = 0;
    while started.elapsed().as_secs_f64() < seconds {
        tree.insert((n % 100_000).to_be_bytes(), value.as_slice())?;
        db.flush()?;
        n += 1;
    }
    #[allow(clippy::cast_precision_loss)] // a rate for a report
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

/// One recorded commit: puts (key, value) and deletions (key, `None`).
type Recorded = Vec<(Vec<u8>, Option<Vec<u8>>)>;

/// At most this many commits are recorded for the replay.
const RECORD_AT_MOST: usize = 50_000;

/// A store that records the batches committed through it.
#[derive(Debug)]
struct Recording {
    inner: Arc<dyn Store>,
    batches: std::sync::Mutex<Vec<Recorded>>,
    /// Reads (`get`, `get_many`, `scan`), each one call into the store.
    reads: std::sync::atomic::AtomicU64,
}

#[async_trait]
impl Store for Recording {
    async fn get(&self, key: &[u8]) -> Result<Option<Versioned>, StoreError> {
        self.reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.inner.get(key).await
    }
    async fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Versioned>>, StoreError> {
        self.reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.inner.get_many(keys).await
    }
    async fn scan(&self, scan: &Scan) -> Result<ScanPage, StoreError> {
        self.reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.inner.scan(scan).await
    }
    async fn commit(&self, batch: WriteBatch) -> Result<Version, StoreError> {
        let recorded: Recorded = batch
            .mutations()
            .iter()
            .map(|m| match m {
                Mutation::Put { key, value } => (key.clone(), Some(value.clone())),
                Mutation::Delete { key } => (key.clone(), None),
            })
            .collect();
        let version = self.inner.commit(batch).await?;
        let mut batches = self
            .batches
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if batches.len() < RECORD_AT_MOST {
            batches.push(recorded);
        }
        Ok(version)
    }
}

/// Keys and key-plus-value bytes per recorded commit, on average.
fn shape(batches: &[Recorded]) -> (f64, f64) {
    let keys: usize = batches.iter().map(Vec::len).sum();
    let bytes: usize = batches
        .iter()
        .flatten()
        .map(|(k, v)| k.len() + v.as_ref().map_or(0, Vec::len))
        .sum();
    #[allow(clippy::cast_precision_loss)] // averages for a report
    let n = batches.len().max(1) as f64;
    #[allow(clippy::cast_precision_loss)] // averages for a report
    (keys as f64 / n, bytes as f64 / n)
}

/// Per key space (the first byte of a key): puts and deletions per recorded commit, and
/// key-plus-value bytes per commit, most keys first; printed to standard error so that a
/// layout change can be judged by where its keys go.
fn shape_by_space(batches: &[Recorded]) -> Vec<(u8, f64, f64, f64)> {
    let mut by: std::collections::BTreeMap<u8, (usize, usize, usize)> = Default::default();
    for (k, v) in batches.iter().flatten() {
        let e = by.entry(k.first().copied().unwrap_or(0)).or_default();
        match v {
            Some(v) => {
                e.0 += 1;
                e.2 += k.len() + v.len();
            }
            None => {
                e.1 += 1;
                e.2 += k.len();
            }
        }
    }
    #[allow(clippy::cast_precision_loss)] // averages for a report
    let n = batches.len().max(1) as f64;
    #[allow(clippy::cast_precision_loss)] // averages for a report
    let mut rows: Vec<_> = by
        .into_iter()
        .map(|(s, (p, d, b))| (s, p as f64 / n, d as f64 / n, b as f64 / n))
        .collect();
    rows.sort_by(|a, b| (b.1 + b.2).total_cmp(&(a.1 + a.2)));
    rows
}

/// The recorded commits replayed straight into rusqlite (same settings and table, one
/// transaction each, from one thread): commits per second.
fn replay_sqlite(dir: &std::path::Path, batches: &[Recorded]) -> Result<f64, Failure> {
    let conn = rusqlite::Connection::open(dir.join("replay.db"))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.execute_batch(
        "PRAGMA synchronous=FULL; PRAGMA cache_size=-16384; PRAGMA temp_store=MEMORY; PRAGMA secure_delete=ON;
         CREATE TABLE imi_kv (key BLOB PRIMARY KEY, version INTEGER NOT NULL, value BLOB NOT NULL) WITHOUT ROWID;",
    )?;
    let started = Instant::now();
    for (n, batch) in batches.iter().enumerate() {
        let tx = conn.unchecked_transaction()?;
        {
            let mut put = tx.prepare_cached(
                "INSERT INTO imi_kv (key, version, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT(key) DO UPDATE SET version = excluded.version, value = excluded.value",
            )?;
            let mut del = tx.prepare_cached("DELETE FROM imi_kv WHERE key = ?1")?;
            for (key, value) in batch {
                match value {
                    Some(v) => put.execute(rusqlite::params![key, i64::try_from(n)?, v])?,
                    None => del.execute(rusqlite::params![key])?,
                };
            }
        }
        tx.commit()?;
    }
    #[allow(clippy::cast_precision_loss)] // a rate for a report
    Ok(batches.len() as f64 / started.elapsed().as_secs_f64())
}

/// The recorded commits replayed straight into sled (one atomic batch and one flush
/// each, from one thread): commits per second.
fn replay_sled(dir: &std::path::Path, batches: &[Recorded]) -> Result<f64, Failure> {
    let db = sled::Config::new()
        .path(dir.join("replay-sled"))
        .cache_capacity(256 * 1024 * 1024)
        .open()?;
    let tree = db.open_tree("imi_kv")?;
    let started = Instant::now();
    for batch in batches {
        let mut b = sled::Batch::default();
        for (key, value) in batch {
            match value {
                Some(v) => b.insert(key.as_slice(), v.as_slice()),
                None => b.remove(key.as_slice()),
            }
        }
        tree.apply_batch(b)?;
        db.flush()?;
    }
    #[allow(clippy::cast_precision_loss)] // a rate for a report
    Ok(batches.len() as f64 / started.elapsed().as_secs_f64())
}

struct Measured {
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

/// Request transitions per second with `clients` concurrent clients, each running
/// lifecycles on its own requests until the time is up.
async fn engine_run(
    store: Arc<dyn Store>,
    clients: usize,
    seconds: f64,
    record: Option<(&mut Vec<Recorded>, &mut u64)>,
) -> Result<Measured, Failure> {
    let clock = Arc::new(ManualClock::new("2026-11-22T09:00:00Z".parse()?));
    let recording = record.is_some().then(|| {
        Arc::new(Recording {
            inner: Arc::clone(&store),
            batches: std::sync::Mutex::new(Vec::new()),
            reads: std::sync::atomic::AtomicU64::new(0),
        })
    });
    let store = match &recording {
        Some(r) => Arc::clone(r) as Arc<dyn Store>,
        None => store,
    };
    let world = Arc::new(RequestWorld::new(store, clock).await?);
    if let Some(r) = &recording {
        // Only the transitions' commits and reads, not the world's set-up.
        r.batches
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
        r.reads.store(0, std::sync::atomic::Ordering::Relaxed);
    }
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let world = Arc::clone(&world);
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    world.lifecycle(&mut latencies, |_, _| {}).await?;
                }
                Ok::<_, imi_core::EngineError>(latencies)
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    if let (Some((out, reads)), Some(r)) = (record, recording) {
        *reads = r.reads.load(std::sync::atomic::Ordering::Relaxed);
        *out = std::mem::take(
            &mut *r
                .batches
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
    }
    all.sort_unstable();
    debug_assert_eq!(all.len() % LIFECYCLE_STEPS, 0);
    #[allow(clippy::cast_precision_loss)] // a rate for a report
    Ok(Measured {
        per_second: all.len() as f64 / elapsed,
        p50: imi_benches::quantile(&all, 0.5),
        p99: imi_benches::quantile(&all, 0.99),
    })
}

fn row(label: &str, m: &Measured, limit: f64, group: &str) {
    println!(
        "| {label} | {:.0} | {:.2} | {:.2} ms | {:.2} ms | {group} |",
        m.per_second,
        m.per_second / limit,
        m.p50.as_secs_f64() * 1e3,
        m.p99.as_secs_f64() * 1e3,
    );
}

async fn run(args: Args) -> Result<(), Failure> {
    let n = args.clients;
    for backend in args.backends {
        let dir = tempfile::tempdir()?;
        eprintln!(
            "{backend}: raw single-row durable commits for {} s",
            args.seconds
        );
        let (limit, fast_limit) = match backend {
            "sqlite" => (
                raw_sqlite(
                    &tempfile::tempdir_in(dir.path())?.keep(),
                    "FULL",
                    args.seconds,
                )?,
                raw_sqlite(
                    &tempfile::tempdir_in(dir.path())?.keep(),
                    "NORMAL",
                    args.seconds,
                )?,
            ),
            _ => (
                raw_sled(&tempfile::tempdir_in(dir.path())?.keep(), args.seconds)?,
                f64::NAN,
            ),
        };
        println!();
        println!("### {backend}: raw limit {limit:.0} durable single-row commits/s");
        println!();
        let mut replay = None;
        println!("| engine run | transitions/s | × raw limit | p50 | p99 | commits per fsync |");
        println!("|---|---|---|---|---|---|");
        let configs: Vec<(String, usize, bool, bool)> = vec![
            ("1 client, no group commit".into(), 1, false, true),
            (format!("{n} clients, no group commit"), n, false, true),
            (format!("{n} clients, group commit"), n, true, true),
            (
                format!("{n} clients, group commit, faster mode"),
                n,
                true,
                false,
            ),
        ];
        for (label, clients, grouped, durable) in configs {
            if args
                .only
                .as_ref()
                .is_some_and(|o| !label.contains(o.as_str()))
            {
                continue;
            }
            eprintln!("{backend}: {label} for {} s", args.seconds);
            let mut recorded = Vec::new();
            let mut reads = 0u64;
            let path = tempfile::tempdir_in(dir.path())?.keep();
            let (m, group) = match backend {
                "sqlite" => {
                    let config = SqliteConfig {
                        max_group: if grouped { 64 } else { 1 },
                        synchronous: if durable {
                            Synchronous::Full
                        } else {
                            Synchronous::Normal
                        },
                        ..SqliteConfig::default()
                    };
                    let store = SqliteStore::open(path.join("imi.db"), config).await?;
                    let m = engine_run(
                        Arc::new(store.clone()),
                        clients,
                        args.seconds,
                        (clients == 1).then_some((&mut recorded, &mut reads)),
                    )
                    .await?;
                    let s = store.commit_stats();
                    #[allow(clippy::cast_precision_loss)] // a ratio for a report
                    let per = s.commits as f64 / s.transactions.max(1) as f64;
                    (m, format!("{per:.1} (largest {})", s.largest_group))
                }
                _ => {
                    let config = SledConfig {
                        group_commit: grouped,
                        durability: if durable {
                            Durability::Flush
                        } else {
                            Durability::Relaxed
                        },
                        ..SledConfig::default()
                    };
                    let store = SledStore::open(path.join("imi"), config).await?;
                    let m = engine_run(
                        Arc::new(store.clone()),
                        clients,
                        args.seconds,
                        (clients == 1).then_some((&mut recorded, &mut reads)),
                    )
                    .await?;
                    let s = store.commit_stats();
                    #[allow(clippy::cast_precision_loss)] // a ratio for a report
                    let per = s.commits as f64 / s.flushes.max(1) as f64;
                    let group = if durable {
                        format!("{per:.1} (largest {})", s.largest_group)
                    } else {
                        "no fsync per commit".to_owned()
                    };
                    (m, group)
                }
            };
            let against = if durable || fast_limit.is_nan() {
                limit
            } else {
                fast_limit
            };
            row(&label, &m, against, &group);
            if !recorded.is_empty() {
                eprintln!(
                    "{backend}: replaying the {} recorded commits without the engine",
                    recorded.len()
                );
                let dir = tempfile::tempdir_in(dir.path())?.keep();
                let rate = match backend {
                    "sqlite" => replay_sqlite(&dir, &recorded)?,
                    _ => replay_sled(&dir, &recorded)?,
                };
                let (keys, bytes) = shape(&recorded);
                eprintln!("{backend}: keys per commit by space (puts + deletions, bytes):");
                for (space, puts, dels, b) in shape_by_space(&recorded) {
                    eprintln!("  0x{space:02X}: {puts:.2} + {dels:.2} ({b:.0} B)");
                }
                #[allow(clippy::cast_precision_loss)] // an average for a report
                let reads_per = reads as f64 / recorded.len() as f64;
                replay = Some((recorded.len(), keys, bytes, reads_per, rate, m.per_second));
            }
        }
        if let Some((commits, keys, bytes, reads, rate, engine)) = replay {
            println!();
            println!(
                "(the one-client run's {commits} commits wrote {keys:.1} keys and {bytes:.0} bytes each on average, after {reads:.1} store reads each; replayed without the engine, one durable commit each from one thread: {rate:.0} commits/s = {:.2} × the raw single-row limit; the engine ran at {:.2} of that replay)",
                rate / limit,
                engine / rate
            );
        }
        if !fast_limit.is_nan() {
            println!();
            println!(
                "(faster mode: `synchronous=NORMAL`, compared with raw NORMAL commits: {fast_limit:.0}/s)"
            );
        } else {
            println!();
            println!("(faster mode: `Durability::Relaxed`, compared with the durable raw limit)");
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("imi-limits failed: {e}");
            ExitCode::FAILURE
        }
    }
}
