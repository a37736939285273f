//! The sled backend passes the store conformance suite, and refuses storage it must not
//! open.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should panic

use std::path::PathBuf;
use std::sync::Arc;

use imi_core::conformance::TestStore;
use imi_core::store::{Store, StoreError, WriteBatch};
use imi_store_sled::{Durability, SCHEMA_VERSION, SledConfig, SledStore};

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
                supported: SCHEMA_VERSION
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_personal_data_leave_no_bytes_after_compaction() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("imi");
    let last = {
        let store = SledStore::open(&path, small()).await.unwrap();
        imi_core::conformance::engine_retention_deletion(Arc::new(store.clone())).await;
        let mut b = WriteBatch::new();
        b.put(b"probe", b"1");
        store.commit(b).await.unwrap()
    };
    let copied = SledStore::compact(&path).await.unwrap();
    assert!(copied > 100);
    fn files(d: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(files(&p));
            } else {
                out.push(p);
            }
        }
        out
    }
    for file in files(dir.path()) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !bytes.windows(13).any(|w| w == b"Zyxw-Erasable"),
            "{} still holds deleted personal data",
            file.display()
        );
    }
    // The data survive the compaction, and versions keep growing.
    let store = SledStore::open(&path, small()).await.unwrap();
    assert_eq!(store.get(b"probe").await.unwrap().unwrap().version, last);
    let mut b = WriteBatch::new();
    b.put(b"after", b"1");
    assert!(store.commit(b).await.unwrap() > last);
}

/// 32 writers committing at once share flushes: fewer fsyncs than commits, and every
/// commit returned only after a flush that covered it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_commits_share_flushes() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        SledStore::open(dir.path().join("group"), small())
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
    let stats = store.commit_stats();
    assert_eq!(stats.commits, 32 * 30);
    assert!(
        stats.flushes < stats.commits && stats.largest_group > 1,
        "{stats:?}"
    );
}

/// Writes a store directory exactly as the build with layout version `v` wrote it,
/// holding two keys written at versions 1 and 3.
fn write_layout(v: u32, path: &std::path::Path) {
    let db = sled::Config::new().path(path).open().unwrap();
    match v {
        1 => {
            db.insert(b"imi.schema_version", &1u32.to_be_bytes())
                .unwrap();
            db.insert(b"imi.application", b"imi").unwrap();
            let kv = db.open_tree(b"imi_kv").unwrap();
            for (key, version, value) in [(b"k1", 1u64, b"v1"), (b"k2", 3, b"v2")] {
                // Versions came from sled's id generator (plus one), a value carried its
                // version in front.
                db.generate_id().unwrap();
                let mut stored = version.to_be_bytes().to_vec();
                stored.extend_from_slice(value);
                kv.insert(key, stored).unwrap();
            }
            db.generate_id().unwrap();
        }
        other => panic!("add a fixture for layout version {other}"),
    }
    db.flush().unwrap();
}

#[tokio::test]
async fn upgrades_every_earlier_layout() {
    use imi_store_sled::{MIGRATIONS, SCHEMA_VERSION};
    assert_eq!(MIGRATIONS.last().map(|m| m.to), Some(SCHEMA_VERSION));
    for v in 1..SCHEMA_VERSION {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old");
        write_layout(v, &path);
        let store = SledStore::open(&path, small()).await.unwrap();
        let k1 = store.get(b"k1").await.unwrap().unwrap();
        let k2 = store.get(b"k2").await.unwrap().unwrap();
        assert_eq!((k1.value.as_slice(), k1.version.raw()), (&b"v1"[..], 1));
        assert_eq!((k2.value.as_slice(), k2.version.raw()), (&b"v2"[..], 3));
        let mut b = WriteBatch::new();
        b.put(b"k3", b"v3");
        assert!(store.commit(b).await.unwrap().raw() > 3, "versions go on");
        let history = store.migrations().unwrap();
        let steps: Vec<u32> = history.iter().map(|m| m.version).collect();
        assert_eq!(steps, ((v + 1)..=SCHEMA_VERSION).collect::<Vec<_>>());
        drop(store);
        // Opening again changes nothing.
        let store = SledStore::open(&path, small()).await.unwrap();
        assert_eq!(store.migrations().unwrap(), history);
        assert!(store.get(b"k3").await.unwrap().is_some());
    }
}

#[tokio::test]
async fn a_new_store_goes_through_every_migration() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path().join("new"), small())
        .await
        .unwrap();
    let steps: Vec<u32> = store
        .migrations()
        .unwrap()
        .iter()
        .map(|m| m.version)
        .collect();
    assert_eq!(
        steps,
        (2..=imi_store_sled::SCHEMA_VERSION).collect::<Vec<_>>()
    );
}

/// A store whose files are damaged inside gives an error on open or on reading, or (when
/// sled takes the damage for the torn tail of a crash and cuts its log there) reads back
/// fewer keys; never a panic, and never a wrong value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_store_gives_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("imi");
    {
        let store = SledStore::open(&path, small()).await.unwrap();
        for i in 0..2_000u32 {
            let mut b = WriteBatch::new();
            b.put(format!("key/{i:05}"), vec![b'x'; 300]);
            store.commit(b).await.unwrap();
        }
    }
    let file = path.join("db");
    let mut bytes = std::fs::read(&file).unwrap();
    assert!(bytes.len() > 64 * 1024, "{}", bytes.len());
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid - 32 * 1024..mid + 32 * 1024] {
        *b = 0xA5;
    }
    std::fs::write(&file, &bytes).unwrap();
    let outcome = async {
        let store = SledStore::open(&path, small()).await?;
        store
            .scan(&imi_core::store::Scan::prefix(b"key/", 10_000))
            .await
    }
    .await;
    match outcome {
        Err(err) => assert!(
            matches!(err, StoreError::Corrupt { .. } | StoreError::Backend { .. }),
            "{err}"
        ),
        Ok(page) => {
            assert!(page.entries.len() <= 2_000);
            for e in &page.entries {
                assert_eq!(e.value, vec![b'x'; 300], "a wrong value for {:?}", e.key);
            }
        }
    }
}
