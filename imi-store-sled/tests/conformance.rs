//! The sled backend passes the store conformance suite, and refuses storage it must not
//! open.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed step should panic

use std::path::PathBuf;
use std::sync::Arc;

use imi_core::conformance::TestStore;
use imi_core::store::{Store, StoreError, WriteBatch};
use imi_store_sled::{Durability, SledConfig, SledStore};

fn small() -> SledConfig {
    SledConfig {
        cache_bytes: 16 * 1024 * 1024,
        ..SledConfig::default()
    }
}

async fn fresh() -> TestStore {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = SledStore::open(dir.path().join("imi"), small())
        .await
        .expect("open");
    TestStore {
        store: Arc::new(store),
        guard: Box::new(dir),
    }
}

async fn open_in(dir: PathBuf) -> Arc<dyn Store> {
    Arc::new(
        SledStore::open(dir.join("imi"), small())
            .await
            .expect("reopen"),
    )
}

imi_core::store_conformance_tests!(fresh().await, open_in);

#[tokio::test]
async fn refuses_a_plain_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("file");
    std::fs::write(&path, b"not a directory").unwrap();
    let err = SledStore::open(&path, small()).await.unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
}

#[tokio::test]
async fn refuses_a_database_of_another_application() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other");
    {
        let db = sled::open(&path).unwrap();
        db.insert(b"their-key", b"their-value").unwrap();
        db.flush().unwrap();
    }
    let err = SledStore::open(&path, small()).await.unwrap_err();
    assert!(err.to_string().contains("another application"), "{err}");
}

#[tokio::test]
async fn refuses_a_newer_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("imi");
    drop(SledStore::open(&path, small()).await.unwrap());
    {
        let db = sled::open(&path).unwrap();
        db.insert(b"imi.schema_version", &99u32.to_be_bytes())
            .unwrap();
        db.flush().unwrap();
    }
    let err = SledStore::open(&path, small()).await.unwrap_err();
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
async fn relaxed_durability_works_and_flushes_on_demand() {
    let dir = tempfile::tempdir().unwrap();
    let config = SledConfig {
        durability: Durability::Relaxed,
        ..small()
    };
    let store = SledStore::open(dir.path().join("fast"), config)
        .await
        .unwrap();
    let mut b = WriteBatch::new();
    b.put(b"k", b"v");
    store.commit(b).await.unwrap();
    store.flush().await.unwrap();
    assert_eq!(store.get(b"k").await.unwrap().unwrap().value, b"v");
}

#[test]
fn works_without_a_tokio_runtime() {
    let dir = tempfile::tempdir().unwrap();
    futures::executor::block_on(async {
        let store = SledStore::open(dir.path().join("sync"), small())
            .await
            .unwrap();
        let mut b = WriteBatch::new();
        b.put(b"k", b"v");
        store.commit(b).await.unwrap();
        assert!(store.get(b"k").await.unwrap().is_some());
    });
}
