//! The SQLite backend passes the store conformance suite, and refuses files it must not
//! open.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed step should panic

use std::path::PathBuf;
use std::sync::Arc;

use imi_core::conformance::TestStore;
use imi_core::store::{Store, StoreError, WriteBatch};
use imi_store_sqlite::{SqliteConfig, SqliteStore, Synchronous};

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
                supported: 1
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
