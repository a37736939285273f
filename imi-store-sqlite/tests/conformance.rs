//! The SQLite backend passes the store conformance suite, and refuses files it must not
//! open.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should panic

use std::path::PathBuf;
use std::sync::Arc;

use imi_core::conformance::TestStore;
use imi_core::store::{Store, StoreError, WriteBatch};
use imi_store_sqlite::{SCHEMA_VERSION, SqliteConfig, SqliteStore, Synchronous};

async fn fresh() -> TestStore {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = SqliteStore::open(dir.path().join("imi.db"), SqliteConfig::default())
        .await
        .expect("open");
    TestStore {
        store: Arc::new(store),
        guard: Box::new(dir),
    }
}

async fn open_in(dir: PathBuf) -> Arc<dyn Store> {
    Arc::new(
        SqliteStore::open(dir.join("imi.db"), SqliteConfig::default())
            .await
            .expect("reopen"),
    )
}

imi_core::store_conformance_tests!(fresh().await, open_in);

#[tokio::test]
async fn refuses_a_file_that_is_not_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junk.db");
    std::fs::write(
        &path,
        b"this is not an SQLite file, just some text padding it out......",
    )
    .unwrap();
    let err = SqliteStore::open(&path, SqliteConfig::default())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
}

#[tokio::test]
async fn refuses_a_database_of_another_application() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    drop(conn);
    let err = SqliteStore::open(&path, SqliteConfig::default())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("another application"), "{err}");
}

#[tokio::test]
async fn refuses_a_newer_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("imi.db");
    drop(
        SqliteStore::open(&path, SqliteConfig::default())
            .await
            .unwrap(),
    );
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let err = SqliteStore::open(&path, SqliteConfig::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::UnsupportedSchema {
                found: 99,
                supported: SCHEMA_VERSION
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn normal_synchronous_mode_works_too() {
    let dir = tempfile::tempdir().unwrap();
    let config = SqliteConfig {
        synchronous: Synchronous::Normal,
        ..SqliteConfig::default()
    };
    let store = SqliteStore::open(dir.path().join("fast.db"), config)
        .await
        .unwrap();
    let mut b = WriteBatch::new();
    b.put(b"k", b"v");
    store.commit(b).await.unwrap();
    assert_eq!(store.get(b"k").await.unwrap().unwrap().value, b"v");
}

#[test]
fn works_without_a_tokio_runtime() {
    let dir = tempfile::tempdir().unwrap();
    futures::executor::block_on(async {
        let store = SqliteStore::open(dir.path().join("sync.db"), SqliteConfig::default())
            .await
            .unwrap();
        let mut b = WriteBatch::new();
        b.put(b"k", b"v");
        store.commit(b).await.unwrap();
        assert!(store.get(b"k").await.unwrap().is_some());
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_personal_data_leave_no_bytes_in_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("imi.db"), SqliteConfig::default())
        .await
        .unwrap();
    imi_core::conformance::engine_retention_deletion(Arc::new(store.clone())).await;
    store.checkpoint().await.unwrap();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            !bytes.windows(13).any(|w| w == b"Zyxw-Erasable"),
            "{} still holds deleted personal data",
            path.display()
        );
    }
}

/// 32 writers committing at once: with group commit they share SQLite transactions
/// (fewer fsyncs than commits); with `max_group = 1` each commit is its own transaction.
async fn commit_concurrently(max_group: usize) -> imi_store_sqlite::CommitStats {
    let dir = tempfile::tempdir().unwrap();
    let config = SqliteConfig {
        max_group,
        ..SqliteConfig::default()
    };
    let store = Arc::new(
        SqliteStore::open(dir.path().join("group.db"), config)
            .await
            .unwrap(),
    );
    let tasks = (0..32).map(|w| {
        let store = Arc::clone(&store);
        tokio::spawn(async move {
            for i in 0..30 {
                let mut b = WriteBatch::new();
                b.put(format!("w{w}/{i}"), b"x");
                store.commit(b).await.unwrap();
            }
        })
    });
    for t in futures::future::join_all(tasks).await {
        t.unwrap();
    }
    assert_eq!(store.get(b"w31/29").await.unwrap().unwrap().value, b"x");
    store.commit_stats()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_commits_share_durable_transactions() {
    let grouped = commit_concurrently(64).await;
    assert_eq!(grouped.commits, 32 * 30);
    assert!(
        grouped.transactions < grouped.commits && grouped.largest_group > 1,
        "{grouped:?}"
    );
    assert!(grouped.largest_group <= 64, "{grouped:?}");
    let single = commit_concurrently(1).await;
    assert_eq!(single.commits, 32 * 30);
    assert_eq!(single.transactions, single.commits, "{single:?}");
}

/// Writes a store file exactly as the build with layout version `v` wrote it, holding
/// two keys written at versions 1 and 3.
fn write_layout(v: u32, path: &std::path::Path) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    match v {
        1 => conn
            .execute_batch(
                "BEGIN IMMEDIATE;
                 CREATE TABLE imi_kv (key BLOB PRIMARY KEY, version INTEGER NOT NULL, value BLOB NOT NULL) WITHOUT ROWID;
                 CREATE TABLE imi_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
                 INSERT INTO imi_meta (name, value) VALUES ('last_version', 3);
                 INSERT INTO imi_kv VALUES (x'6b31', 1, x'7631'), (x'6b32', 3, x'7632');
                 PRAGMA application_id = 1229801777;
                 PRAGMA user_version = 1;
                 COMMIT;",
            )
            .unwrap(),
        other => panic!("add a fixture for layout version {other}"),
    }
}

#[tokio::test]
async fn upgrades_every_earlier_layout() {
    use imi_store_sqlite::{MIGRATIONS, SCHEMA_VERSION};
    assert_eq!(MIGRATIONS.last().map(|m| m.to), Some(SCHEMA_VERSION));
    for v in 1..SCHEMA_VERSION {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        write_layout(v, &path);
        let store = SqliteStore::open(&path, SqliteConfig::default())
            .await
            .unwrap();
        let k1 = store.get(b"k1").await.unwrap().unwrap();
        let k2 = store.get(b"k2").await.unwrap().unwrap();
        assert_eq!((k1.value.as_slice(), k1.version.raw()), (&b"v1"[..], 1));
        assert_eq!((k2.value.as_slice(), k2.version.raw()), (&b"v2"[..], 3));
        let mut b = WriteBatch::new();
        b.put(b"k3", b"v3");
        assert_eq!(store.commit(b).await.unwrap().raw(), 4, "versions go on");
        let history = store.migrations().await.unwrap();
        let steps: Vec<u32> = history.iter().map(|m| m.version).collect();
        assert_eq!(steps, ((v + 1)..=SCHEMA_VERSION).collect::<Vec<_>>());
        drop(store);
        let conn = rusqlite::Connection::open(&path).unwrap();
        let found: u32 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(found, SCHEMA_VERSION);
        drop(conn);
        // Opening again changes nothing.
        let store = SqliteStore::open(&path, SqliteConfig::default())
            .await
            .unwrap();
        assert_eq!(store.migrations().await.unwrap(), history);
        assert!(store.get(b"k3").await.unwrap().is_some());
    }
}

#[tokio::test]
async fn a_new_file_goes_through_every_migration() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("new.db"), SqliteConfig::default())
        .await
        .unwrap();
    let steps: Vec<u32> = store
        .migrations()
        .await
        .unwrap()
        .iter()
        .map(|m| m.version)
        .collect();
    assert_eq!(
        steps,
        (2..=imi_store_sqlite::SCHEMA_VERSION).collect::<Vec<_>>()
    );
}

/// A store file damaged inside (not in its header) is refused or reported with a
/// `Corrupt` error on open or on the first read, never with a panic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_file_gives_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("imi.db");
    {
        let store = SqliteStore::open(&path, SqliteConfig::default())
            .await
            .unwrap();
        for i in 0..2_000u32 {
            let mut b = WriteBatch::new();
            b.put(format!("key/{i:05}"), vec![b'x'; 300]);
            store.commit(b).await.unwrap();
        }
        store.checkpoint().await.unwrap();
    }
    let mut bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 64 * 1024);
    // Overwrite pages in the middle of the file (the header stays intact).
    for b in &mut bytes[8 * 4096..40 * 4096] {
        *b = 0xA5;
    }
    std::fs::write(&path, &bytes).unwrap();
    let outcome = async {
        let store = SqliteStore::open(&path, SqliteConfig::default()).await?;
        store
            .scan(&imi_core::store::Scan::prefix(b"key/", 10_000))
            .await
            .map(drop)
    }
    .await;
    let err = outcome.expect_err("reading a damaged file must fail");
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
}
