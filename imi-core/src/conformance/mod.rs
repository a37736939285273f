//! The store conformance suite: every backend runs it, with one macro call.
//!
//! Each check is a plain `pub async fn` over `&dyn Store` (or a way to open one) that
//! panics with a message when the backend breaks the contract. A backend's test file runs
//! all of them with
//!
//! ```text
//! imi_core::store_conformance_tests!(fresh_store().await, |dir| reopen(dir));
//! ```
//!
//! where the first expression gives a [`TestStore`] on empty storage and the optional
//! second one opens durable storage in a directory (for the persistence check). The
//! calling crate needs `tokio` (macros, multi-thread runtime) as a dev-dependency.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod solvit;
mod survey;
pub use solvit::{SolvitWorld, engine_solvit, solvit_world};
pub use survey::{SurveyWorld, engine_surveys, survey_world};

use std::any::Any;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

use futures::future::join_all;

use crate::store::{
    Direction, MAX_KEY_LEN, MAX_VALUE_LEN, Precondition, Scan, Store, StoreError, Version,
    WriteBatch,
};

/// A store under test plus whatever must live as long as it (a temporary directory).
pub struct TestStore {
    /// The store.
    pub store: Arc<dyn Store>,
    /// Dropped after the store; keeps e.g. a temporary directory alive.
    pub guard: Box<dyn Any + Send>,
}

impl TestStore {
    /// A store that needs nothing kept alive.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            guard: Box::new(()),
        }
    }
}

async fn put(store: &dyn Store, key: &[u8], value: &[u8]) -> Version {
    let mut b = WriteBatch::new();
    b.put(key, value);
    store.commit(b).await.expect("plain put commits")
}

async fn value(store: &dyn Store, key: &[u8]) -> Option<Vec<u8>> {
    store.get(key).await.expect("get works").map(|v| v.value)
}

async fn keys(store: &dyn Store, scan: &Scan) -> Vec<Vec<u8>> {
    let page = store.scan(scan).await.expect("scan works");
    page.entries.into_iter().map(|e| e.key).collect()
}

fn k(i: usize) -> Vec<u8> {
    format!("key/{i:05}").into_bytes()
}

/// A missing key reads as `None`; a put key reads back with its commit's version.
pub async fn get_and_put(store: &dyn Store) {
    assert_eq!(store.get(b"missing").await.unwrap(), None);
    let v = put(store, b"a", b"1").await;
    let got = store.get(b"a").await.unwrap().expect("a was put");
    assert_eq!(got.value, b"1");
    assert_eq!(got.version, v);
    assert_eq!(
        store.get(b"b").await.unwrap(),
        None,
        "only the put key exists"
    );
}

/// Every commit gets a new, larger version; rewriting a key changes its version.
pub async fn versions_increase(store: &dyn Store) {
    let v1 = put(store, b"x", b"1").await;
    let v2 = put(store, b"x", b"2").await;
    let v3 = put(store, b"y", b"1").await;
    assert!(v1 < v2 && v2 < v3, "{v1} < {v2} < {v3}");
    assert_eq!(store.get(b"x").await.unwrap().unwrap().version, v2);
    let empty = store.commit(WriteBatch::new()).await.unwrap();
    assert!(empty > v3, "an empty commit still gets a new version");
}

/// A multi-key commit applies all its mutations under one version.
pub async fn multi_key_commit_is_atomic(store: &dyn Store) {
    let mut b = WriteBatch::new();
    b.put(b"m1", b"1").put(b"m2", b"2").put(b"m3", b"3");
    let v = store.commit(b).await.unwrap();
    for key in [b"m1", b"m2", b"m3"] {
        assert_eq!(store.get(key).await.unwrap().unwrap().version, v);
    }
}

/// A batch with one failing check applies nothing, and the error names the key.
pub async fn failed_check_applies_nothing(store: &dyn Store) {
    put(store, b"taken", b"old").await;
    let mut b = WriteBatch::new();
    b.put(b"n1", b"1")
        .put(b"taken", b"new")
        .delete(b"n1")
        .put(b"n2", b"2")
        .check(b"free", Precondition::Absent)
        .check(b"taken", Precondition::Absent);
    match store.commit(b).await {
        Err(StoreError::Conflict {
            key,
            expected,
            found,
        }) => {
            assert_eq!(key.as_bytes(), b"taken");
            assert_eq!(expected, Precondition::Absent);
            assert!(found.is_some());
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(value(store, b"taken").await.as_deref(), Some(&b"old"[..]));
    assert_eq!(value(store, b"n1").await, None);
    assert_eq!(value(store, b"n2").await, None);
}

/// A commit based on a stale version fails with `Conflict`; one on the current version
/// succeeds.
pub async fn stale_version_conflicts(store: &dyn Store) {
    let v1 = put(store, b"doc", b"1").await;
    let v2 = {
        let mut b = WriteBatch::new();
        b.check(b"doc", Precondition::AtVersion(v1))
            .put(b"doc", b"2");
        store.commit(b).await.expect("current version commits")
    };
    let mut stale = WriteBatch::new();
    stale
        .check(b"doc", Precondition::AtVersion(v1))
        .put(b"doc", b"3");
    let err = store
        .commit(stale)
        .await
        .expect_err("stale version must conflict");
    assert!(err.is_conflict(), "{err}");
    let got = store.get(b"doc").await.unwrap().unwrap();
    assert_eq!((got.value.as_slice(), got.version), (&b"2"[..], v2));
}

/// `Absent` creates only once; `Present` and `Unchanged` behave as documented, also for
/// keys the batch does not write.
pub async fn preconditions_on_any_key(store: &dyn Store) {
    let mut create = WriteBatch::new();
    create
        .check(b"once", Precondition::Absent)
        .put(b"once", b"1");
    store.commit(create.clone()).await.unwrap();
    assert!(store.commit(create).await.unwrap_err().is_conflict());

    let mut needs = WriteBatch::new();
    needs
        .check(b"ghost", Precondition::Present)
        .put(b"other", b"1");
    assert!(store.commit(needs).await.unwrap_err().is_conflict());
    assert_eq!(value(store, b"other").await, None);

    let seen = store.get(b"guard").await.unwrap().map(|v| v.version);
    let mut read_set = WriteBatch::new();
    read_set
        .check(b"guard", Precondition::Unchanged(seen))
        .put(b"out", b"1");
    store.commit(read_set.clone()).await.unwrap();
    put(store, b"guard", b"changed").await;
    assert!(
        store.commit(read_set).await.unwrap_err().is_conflict(),
        "a read key changed since: conflict"
    );
}

/// Delete removes a key; deleting an absent key is fine; delete can be guarded.
pub async fn delete(store: &dyn Store) {
    let v = put(store, b"gone", b"1").await;
    let mut guarded = WriteBatch::new();
    guarded
        .check(
            b"gone",
            Precondition::AtVersion(Version::from_raw(v.raw() + 1000)),
        )
        .delete(b"gone");
    assert!(store.commit(guarded).await.unwrap_err().is_conflict());
    assert!(value(store, b"gone").await.is_some());
    let mut b = WriteBatch::new();
    b.check(b"gone", Precondition::AtVersion(v))
        .delete(b"gone")
        .delete(b"never-there");
    store.commit(b).await.unwrap();
    assert_eq!(store.get(b"gone").await.unwrap(), None);
    let mut recreate = WriteBatch::new();
    recreate
        .check(b"gone", Precondition::Absent)
        .put(b"gone", b"2");
    let v2 = store.commit(recreate).await.unwrap();
    assert!(v2 > v, "a recreated key gets a new version");
}

/// Within a batch, the last change to a key wins.
pub async fn last_write_in_batch_wins(store: &dyn Store) {
    let mut b = WriteBatch::new();
    b.put(b"w", b"1")
        .put(b"w", b"2")
        .put(b"d", b"1")
        .delete(b"d");
    store.commit(b).await.unwrap();
    assert_eq!(value(store, b"w").await.as_deref(), Some(&b"2"[..]));
    assert_eq!(value(store, b"d").await, None);
}

async fn fill(store: &dyn Store, n: usize) {
    let mut b = WriteBatch::new();
    for i in 0..n {
        b.put(k(i), i.to_string());
    }
    store.commit(b).await.unwrap();
}

/// Scans return keys in byte order, forwards and backwards, within their bounds.
pub async fn ordered_scans_both_directions(store: &dyn Store) {
    fill(store, 20).await;
    put(store, b"kex", b"outside").await;
    put(store, b"kez", b"outside").await;
    let all = Scan::prefix(b"key/", 100);
    let forward = keys(store, &all).await;
    assert_eq!(forward, (0..20).map(k).collect::<Vec<_>>());
    let reverse = keys(store, &all.clone().reversed()).await;
    assert_eq!(reverse, (0..20).rev().map(k).collect::<Vec<_>>());

    let bounded = Scan {
        start: Bound::Excluded(k(3)),
        end: Bound::Included(k(7)),
        direction: Direction::Forward,
        limit: 100,
    };
    assert_eq!(
        keys(store, &bounded).await,
        (4..=7).map(k).collect::<Vec<_>>()
    );
    assert_eq!(
        keys(store, &bounded.clone().reversed()).await,
        (4..=7).rev().map(k).collect::<Vec<_>>()
    );
    let half_open = Scan::range(k(18), b"key0".to_vec(), 100);
    assert_eq!(keys(store, &half_open).await, vec![k(18), k(19)]);
    let upside_down = Scan::range(k(9), k(2), 100);
    assert!(keys(store, &upside_down).await.is_empty());
    let page = store.scan(&Scan::prefix(b"key/", 3)).await.unwrap();
    assert_eq!(page.entries[2].value, b"2");
}

/// Prefix scans include exactly the keys with the prefix, also around `0xFF` bytes.
pub async fn prefix_scans(store: &dyn Store) {
    for key in [
        &b"p\xfe"[..],
        b"p\xff",
        b"p\xff\x00",
        b"p\xff\xff",
        b"q",
        b"p",
    ] {
        put(store, key, b"v").await;
    }
    let got = keys(store, &Scan::prefix(b"p\xff", 10)).await;
    assert_eq!(
        got,
        vec![
            b"p\xff".to_vec(),
            b"p\xff\x00".to_vec(),
            b"p\xff\xff".to_vec()
        ]
    );
    let got = keys(store, &Scan::prefix(b"p", 10)).await;
    assert_eq!(got.len(), 5);
    assert!(keys(store, &Scan::prefix(b"none", 10)).await.is_empty());
}

/// Paging with the continuation key visits every key exactly once, in both directions.
pub async fn pagination(store: &dyn Store) {
    fill(store, 95).await;
    for direction in [Direction::Forward, Direction::Reverse] {
        let mut scan = Scan::prefix(b"key/", 10);
        scan.direction = direction;
        let mut seen = Vec::new();
        let mut pages = 0;
        loop {
            let page = store.scan(&scan).await.unwrap();
            pages += 1;
            assert!(page.entries.len() <= 10);
            seen.extend(page.entries.into_iter().map(|e| e.key));
            match page.continuation {
                Some(c) => scan = scan.resume(c),
                None => break,
            }
            assert!(pages < 100, "pagination does not end");
        }
        let mut expected: Vec<_> = (0..95).map(k).collect();
        if direction == Direction::Reverse {
            expected.reverse();
        }
        assert_eq!(seen, expected, "{direction:?}");
        assert_eq!(pages, 10, "9 full pages and a last one of 5");
    }
    let exact = store.scan(&Scan::range(k(0), k(10), 10)).await.unwrap();
    assert_eq!(exact.entries.len(), 10);
    assert_eq!(
        exact.continuation, None,
        "no continuation when nothing follows"
    );
}

/// Values of 1 MiB (and up to the limit) round-trip byte for byte; larger ones are
/// refused with nothing applied.
pub async fn large_values(store: &dyn Store) {
    let big: Vec<u8> = (0..1024 * 1024).map(|i: u32| (i * 7 % 251) as u8).collect();
    put(store, b"big", &big).await;
    assert_eq!(value(store, b"big").await.unwrap(), big);
    let page = store.scan(&Scan::prefix(b"big", 1)).await.unwrap();
    assert_eq!(page.entries[0].value.len(), big.len());

    let max = vec![1u8; MAX_VALUE_LEN];
    put(store, b"max", &max).await;
    assert_eq!(
        value(store, b"max").await.map(|v| v.len()),
        Some(MAX_VALUE_LEN)
    );

    let mut too_big = WriteBatch::new();
    too_big
        .put(b"small", b"1")
        .put(b"huge", vec![0u8; MAX_VALUE_LEN + 1]);
    assert!(matches!(
        store.commit(too_big).await,
        Err(StoreError::ValueTooLarge { .. })
    ));
    assert_eq!(value(store, b"small").await, None);
}

/// The empty key and keys with any bytes (0x00, 0xFF, invalid UTF-8) work and sort
/// byte-wise; over-long keys are refused.
pub async fn empty_and_binary_keys(store: &dyn Store) {
    let ks: Vec<Vec<u8>> = vec![
        vec![],
        vec![0x00],
        vec![0x00, 0x00],
        vec![0x00, 0xFF],
        vec![0x01],
        vec![0x7F],
        vec![0x80],
        vec![0xC3, 0x28],
        vec![0xFF],
        vec![0xFF, 0x00],
        vec![0xFF, 0xFF, 0xFF],
    ];
    for (i, key) in ks.iter().enumerate().rev() {
        put(store, key, &i.to_le_bytes()).await;
    }
    for (i, key) in ks.iter().enumerate() {
        assert_eq!(
            value(store, key).await,
            Some(i.to_le_bytes().to_vec()),
            "{key:?}"
        );
    }
    assert_eq!(keys(store, &Scan::all(100)).await, ks);
    let mut rev = ks.clone();
    rev.reverse();
    assert_eq!(keys(store, &Scan::all(100).reversed()).await, rev);

    let long = vec![b'x'; MAX_KEY_LEN + 1];
    assert!(matches!(
        store.get(&long).await,
        Err(StoreError::KeyTooLarge { .. })
    ));
    let mut b = WriteBatch::new();
    b.put(long, b"v");
    assert!(matches!(
        store.commit(b).await,
        Err(StoreError::KeyTooLarge { .. })
    ));
    let ok_long = vec![b'y'; MAX_KEY_LEN];
    put(store, &ok_long, b"edge").await;
    assert!(value(store, &ok_long).await.is_some());
}

/// Bad scan limits are refused.
pub async fn bad_scan_limits(store: &dyn Store) {
    for limit in [0, crate::store::MAX_SCAN_LIMIT + 1] {
        assert!(matches!(
            store.scan(&Scan::all(limit)).await,
            Err(StoreError::BadScanLimit { .. })
        ));
    }
}

/// 10 000 keys in one commit, and 1 000 more one commit each, all read back in order.
pub async fn many_keys(store: &dyn Store) {
    fill(store, 10_000).await;
    for i in 10_000..11_000 {
        put(store, &k(i), b"single").await;
    }
    let mut scan = Scan::prefix(b"key/", 4_096);
    let mut count = 0;
    let mut last: Option<Vec<u8>> = None;
    loop {
        let page = store.scan(&scan).await.unwrap();
        for e in &page.entries {
            if let Some(prev) = &last {
                assert!(prev < &e.key, "keys in order");
            }
            last = Some(e.key.clone());
            count += 1;
        }
        match page.continuation {
            Some(c) => scan = scan.resume(c),
            None => break,
        }
    }
    assert_eq!(count, 11_000);
    let got = store
        .get_many(&[k(0), k(9_999), b"nope".to_vec(), k(10_999)])
        .await
        .unwrap();
    assert_eq!(
        got[1].as_ref().map(|v| v.value.clone()),
        Some(b"9999".to_vec())
    );
    assert!(got[2].is_none());
    assert_eq!(
        got[3].as_ref().map(|v| v.value.clone()),
        Some(b"single".to_vec())
    );
}

/// Concurrent compare-and-set increments of one counter: every attempt either commits or
/// conflicts, and with retries the counter ends at exactly the number of increments (no
/// lost update).
pub async fn concurrent_writers_same_key(store: Arc<dyn Store>) {
    put(&*store, b"counter", b"0").await;
    let workers = 8;
    let per_worker = 25;
    let tasks = (0..workers).map(|_| {
        let store = Arc::clone(&store);
        async move {
            let mut conflicts = 0u32;
            for _ in 0..per_worker {
                loop {
                    let cur = store.get(b"counter").await.unwrap().unwrap();
                    let n: u64 = String::from_utf8(cur.value).unwrap().parse().unwrap();
                    let mut b = WriteBatch::new();
                    b.check(b"counter", Precondition::AtVersion(cur.version))
                        .put(b"counter", (n + 1).to_string());
                    match store.commit(b).await {
                        Ok(_) => break,
                        Err(e) if e.is_conflict() => conflicts += 1,
                        Err(e) => panic!("unexpected error {e}"),
                    }
                }
            }
            conflicts
        }
    });
    join_all(tasks).await;
    let n = value(&*store, b"counter").await.unwrap();
    assert_eq!(
        String::from_utf8(n).unwrap(),
        (workers * per_worker).to_string()
    );
}

/// Concurrent writers on different keys all succeed, and each key holds its writer's
/// last value.
pub async fn concurrent_writers_different_keys(store: Arc<dyn Store>) {
    let tasks = (0..8).map(|w| {
        let store = Arc::clone(&store);
        async move {
            for i in 0..50 {
                let mut b = WriteBatch::new();
                let pre = if i == 0 {
                    Precondition::Absent
                } else {
                    Precondition::Present
                };
                b.check(format!("w{w}"), pre)
                    .put(format!("w{w}"), i.to_string())
                    .put(format!("w{w}/{i:03}"), b"x");
                store.commit(b).await.unwrap();
            }
        }
    });
    join_all(tasks).await;
    for w in 0..8 {
        assert_eq!(
            value(&*store, format!("w{w}").as_bytes()).await.unwrap(),
            b"49"
        );
        let page = store
            .scan(&Scan::prefix(format!("w{w}/").as_bytes(), 100))
            .await
            .unwrap();
        assert_eq!(page.entries.len(), 50);
    }
}

/// 32 concurrent committers, enough to form groups on backends that share one durable
/// commit among several: each batch keeps its own outcome. A refused batch writes
/// nothing even when it shares a transaction with accepted ones, accepted batches get
/// distinct versions, and each accepted write reads back at its version.
pub async fn concurrent_commits_keep_their_own_outcome(store: Arc<dyn Store>) {
    let tasks = (0..32u32).map(|w| {
        let store = Arc::clone(&store);
        async move {
            let mut out = Vec::new();
            for i in 0..20u32 {
                let key = format!("g/{w:02}/{i:02}");
                let refused = (w + i) % 3 == 0;
                let mut b = WriteBatch::new();
                if refused {
                    b.check(b"never-written", Precondition::Present);
                }
                b.check(key.as_bytes(), Precondition::Absent)
                    .put(key.as_bytes(), format!("{w}:{i}"));
                out.push((key, refused, store.commit(b).await));
            }
            out
        }
    });
    let results: Vec<_> = join_all(tasks).await.into_iter().flatten().collect();
    let mut versions = std::collections::BTreeSet::new();
    for (key, refused, result) in &results {
        let stored = store.get(key.as_bytes()).await.unwrap();
        if *refused {
            assert!(
                result.as_ref().is_err_and(StoreError::is_conflict),
                "{key}: {result:?}"
            );
            assert!(stored.is_none(), "refused batch {key} left a value");
        } else {
            let version = *result.as_ref().unwrap();
            assert!(versions.insert(version), "version {version} given twice");
            let stored = stored.unwrap();
            assert_eq!(stored.version, version, "{key}");
        }
    }
    assert_eq!(versions.len(), results.iter().filter(|r| !r.1).count());
}

/// Exactly one of several racing creators of the same key wins.
pub async fn racing_creators_one_wins(store: Arc<dyn Store>) {
    let tasks = (0..8).map(|w| {
        let store = Arc::clone(&store);
        async move {
            let mut b = WriteBatch::new();
            b.check(b"unique", Precondition::Absent)
                .put(b"unique", format!("{w}"));
            store.commit(b).await
        }
    });
    let results = join_all(tasks).await;
    let wins = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(wins, 1, "{results:?}");
    assert!(
        results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(StoreError::is_conflict)
    );
}

/// A random sequence of batches leaves the store equal to a model map.
pub async fn matches_a_model(store: &dyn Store) {
    let mut model: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for round in 0..200 {
        let mut b = WriteBatch::new();
        let mut staged = model.clone();
        for _ in 0..(next() % 5 + 1) {
            let key = vec![b'r', (next() % 16) as u8];
            if next() % 3 == 0 {
                b.delete(key.clone());
                staged.remove(&key);
            } else {
                let v = format!("{round}").into_bytes();
                b.put(key.clone(), v.clone());
                staged.insert(key, v);
            }
        }
        store.commit(b).await.unwrap();
        model = staged;
    }
    let page = store.scan(&Scan::prefix(b"r", 100)).await.unwrap();
    let got: BTreeMap<_, _> = page.entries.into_iter().map(|e| (e.key, e.value)).collect();
    assert_eq!(got, model);
}

/// Commits survive closing and reopening the storage (for durable backends). `open` opens
/// the same storage each time it is called.
pub async fn persists_across_reopen<F, Fut>(mut open: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Arc<dyn Store>>,
{
    let (v_kept, v_last) = {
        let store = open().await;
        let v = put(&*store, b"kept", b"yes").await;
        put(&*store, b"deleted", b"no").await;
        let mut b = WriteBatch::new();
        b.delete(b"deleted")
            .put(&b"bin\x00\xff"[..], vec![7u8; 300_000]);
        let last = store.commit(b).await.unwrap();
        (v, last)
    };
    let store = open().await;
    let kept = store
        .get(b"kept")
        .await
        .unwrap()
        .expect("kept survives reopen");
    assert_eq!((kept.value.as_slice(), kept.version), (&b"yes"[..], v_kept));
    assert_eq!(store.get(b"deleted").await.unwrap(), None);
    assert_eq!(
        value(&*store, b"bin\x00\xff").await.map(|v| v.len()),
        Some(300_000)
    );
    let v_next = put(&*store, b"after", b"1").await;
    assert!(v_next > v_last, "versions keep growing after reopen");
    let mut stale = WriteBatch::new();
    stale
        .check(b"kept", Precondition::AtVersion(v_last))
        .put(b"kept", b"no");
    assert!(store.commit(stale).await.unwrap_err().is_conflict());
}

fn engine_on(store: Arc<dyn Store>) -> crate::Engine {
    let start = "2026-11-22T09:00:00Z".parse().expect("a valid time");
    crate::Engine::new(store, Arc::new(crate::ManualClock::new(start)))
}

/// The engine registers an authority with a multilingual name and contact details, and
/// reads it back unchanged through the backend.
pub async fn engine_registers_and_reads_an_authority(store: Arc<dyn Store>) {
    use crate::{Actor, Country, Language, LocalisedText, NewAuthority};
    let engine = engine_on(store);
    let name = LocalisedText::from_pairs([
        (Language::French, "Ordre national des infirmiers"),
        (Language::English, "National Order of Nurses"),
    ])
    .unwrap();
    let contact = crate::ContactDetails {
        email: Some("imi@ordre-infirmiers.fr".parse().unwrap()),
        phone: Some("+33 1 71 93 84 50".into()),
        address: Some("228 rue du Faubourg Saint-Martin\n75010 Paris".into()),
        website: None,
    };
    let mut new = NewAuthority::new(Country::France, name);
    new.contact = contact;
    let registered = engine
        .register_authority(&Actor::System, new.clone())
        .await
        .unwrap();
    let read = engine
        .authority(&Actor::System, registered.id())
        .await
        .unwrap();
    assert_eq!(read, registered);
    assert_eq!(read.name(), &new.name);
    assert_eq!(read.contact(), &new.contact);
    assert_eq!(
        read.name().resolve(Language::German).text,
        "Ordre national des infirmiers"
    );

    let unknown = crate::IdGenerator::seeded(1).authority(read.registered_at());
    assert!(matches!(
        engine.authority(&Actor::System, unknown).await,
        Err(crate::EngineError::NotFound { .. })
    ));
}

/// Authorities are listed per country, in registration order, page by page, and a cursor
/// from another listing is refused.
pub async fn engine_lists_authorities_by_country(store: Arc<dyn Store>) {
    use crate::{Actor, Country, Language, LocalisedText, NewAuthority, PageRequest};
    let engine = engine_on(store);
    let mut danish = Vec::new();
    for i in 0..7 {
        for country in [Country::Denmark, Country::Germany] {
            let name = LocalisedText::new(Language::English, format!("{country} authority {i}"));
            let new = NewAuthority::new(country, name.unwrap());
            let a = engine
                .register_authority(&Actor::System, new)
                .await
                .unwrap();
            if country == Country::Denmark {
                danish.push(a.id());
            }
        }
    }
    let mut seen = Vec::new();
    let mut request = PageRequest::first(3).unwrap();
    loop {
        let page = engine
            .authorities_of(&Actor::System, Country::Denmark.into(), request.clone())
            .await
            .unwrap();
        seen.extend(page.items.iter().map(|a| a.id()));
        assert!(
            page.items
                .iter()
                .all(|a| a.participant() == Country::Denmark.into())
        );
        match page.next {
            Some(cursor) => request = request.after(cursor),
            None => break,
        }
    }
    let mut expected = danish.clone();
    expected.sort();
    assert_eq!(seen.len(), 7);
    let mut sorted_seen = seen.clone();
    sorted_seen.sort();
    assert_eq!(sorted_seen, expected);

    let german_first = engine
        .authorities_of(
            &Actor::System,
            Country::Germany.into(),
            PageRequest::first(2).unwrap(),
        )
        .await
        .unwrap();
    let foreign_cursor = german_first.next.unwrap();
    let err = engine
        .authorities_of(
            &Actor::System,
            Country::Denmark.into(),
            PageRequest::first(2).unwrap().after(foreign_cursor),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, crate::EngineError::Page(_)), "{err}");
}

/// Directory search finds authorities by free text in several languages with case and
/// accent folding, filters by country, region, area, procedure and competence, resolves
/// names for the reader, pages without gaps or repeats, and leaves out deregistered
/// authorities. Identical on every backend.
pub async fn engine_directory_search(store: Arc<dyn Store>) {
    use crate::catalogue::{Catalogue, CatalogueSource};
    use crate::{
        Actor, Competence, Country, DirectoryQuery, Language, LanguagePreferences, LocalisedText,
        NewAuthority, PageRequest,
    };
    let engine = engine_on(store);
    let sources = [
        CatalogueSource::new(
            "areas/h.toml",
            "id = \"health\"\n[name]\nen = \"Health\"\n[[procedure]]\nid = \"health-request\"\nkind = \"request\"\nquestion_set = \"qs\"\n[procedure.name]\nen = \"R\"\n",
        ),
        CatalogueSource::new(
            "question-sets/qs.toml",
            "id = \"qs\"\nversion = 1\n[title]\nen = \"Q\"\n[[group]]\nid = \"g\"\n[group.title]\nen = \"G\"\n[[group.question]]\nid = \"q\"\ntype = \"yes-no\"\n[group.question.label]\nen = \"Q?\"\n",
        ),
    ];
    engine
        .publish_catalogue(&Actor::System, Catalogue::load(&sources).unwrap())
        .unwrap();
    let sys = Actor::System;
    let register =
        |country: Country, names: &[(Language, &str)], region: Option<&str>, keywords: &[&str]| {
            let mut n = NewAuthority::new(
                country,
                LocalisedText::from_pairs(names.iter().copied()).unwrap(),
            );
            n.region = region.map(|r| r.parse().unwrap());
            n.competences = vec![Competence {
                area: "health".parse().unwrap(),
                keywords: keywords.iter().map(|k| k.to_string()).collect(),
            }];
            n.confirmed_not_duplicate = true;
            let engine = &engine;
            async move { engine.register_authority(&Actor::System, n).await.unwrap() }
        };
    let berlin = register(
        Country::Germany,
        &[
            (Language::German, "Ärztekammer Berlin"),
            (Language::English, "Berlin Medical Association"),
        ],
        Some("DE-BE"),
        &["Krankenpflege", "Ärzte"],
    )
    .await;
    let paris = register(
        Country::France,
        &[(Language::French, "Ordre national des infirmiers")],
        None,
        &["soins infirmiers"],
    )
    .await;
    let athens = register(
        Country::Greece,
        &[
            (Language::Greek, "Ιατρικός Σύλλογος Αθηνών"),
            (Language::English, "Athens Medical Association"),
        ],
        None,
        &[],
    )
    .await;
    let lodz = register(
        Country::Poland,
        &[(Language::Polish, "Okręgowa Izba Lekarska w Łodzi")],
        None,
        &[],
    )
    .await;
    let copenhagen = register(
        Country::Denmark,
        &[
            (Language::Danish, "Styrelsen for Patientsikkerhed"),
            (Language::English, "Danish Patient Safety Authority"),
        ],
        None,
        &["sygeplejersker"],
    )
    .await;
    let helsinki = register(
        Country::Finland,
        &[
            (
                Language::Finnish,
                "Sosiaali- ja terveysalan lupa- ja valvontavirasto",
            ),
            (
                Language::Swedish,
                "Tillstånds- och tillsynsverket för social- och hälsovården",
            ),
        ],
        None,
        &[],
    )
    .await;
    engine
        .grant_procedure(&sys, copenhagen.id(), &"health-request".parse().unwrap())
        .await
        .unwrap();

    let english = LanguagePreferences::only(Language::English);
    let search = |q: DirectoryQuery, page: PageRequest| {
        let engine = &engine;
        let english = english.clone();
        async move {
            engine
                .search_directory(&Actor::System, &q, &english, page)
                .await
                .unwrap()
        }
    };
    let text = |t: &str| DirectoryQuery {
        text: Some(t.to_owned()),
        ..Default::default()
    };
    let ids = |p: &crate::Page<crate::DirectoryHit>| {
        p.items.iter().map(|h| h.authority.id()).collect::<Vec<_>>()
    };
    let first = || PageRequest::first(50).unwrap();

    assert_eq!(
        ids(&search(text("arztekammer"), first()).await),
        [berlin.id()],
        "German, folded"
    );
    assert_eq!(
        ids(&search(text("ÄRZTEKAMMER berl"), first()).await),
        [berlin.id()],
        "every word, as prefixes"
    );
    assert_eq!(
        ids(&search(text("ordre infirm"), first()).await),
        [paris.id()],
        "French prefixes"
    );
    assert_eq!(
        ids(&search(text("ιατρικος"), first()).await),
        [athens.id()],
        "Greek without tonos"
    );
    assert_eq!(
        ids(&search(text("lodzi izba"), first()).await),
        [lodz.id()],
        "Polish ł and ę"
    );
    assert_eq!(
        ids(&search(text("patientsikkerhed"), first()).await),
        [copenhagen.id()],
        "Danish"
    );
    assert_eq!(
        ids(&search(text("halsovarden"), first()).await),
        [helsinki.id()],
        "Swedish translation, å and ä"
    );
    assert_eq!(
        ids(&search(text("medical"), first()).await).len(),
        2,
        "English translations"
    );
    assert!(search(text("zzz"), first()).await.items.is_empty());
    assert_eq!(
        ids(&search(text("krankenpflege"), first()).await),
        [berlin.id()],
        "competence keywords"
    );

    let hit = &search(text("athens"), first()).await.items[0];
    assert_eq!(
        (hit.name.as_str(), hit.name_language, hit.fallback),
        ("Athens Medical Association", Language::English, false)
    );
    let hit = &search(text("lodz"), first()).await.items[0];
    assert_eq!(
        (hit.name_language, hit.fallback),
        (Language::Polish, true),
        "labelled fallback"
    );

    let filtered = |q: DirectoryQuery| async { ids(&search(q, first()).await) };
    assert_eq!(
        filtered(DirectoryQuery {
            participant: Some(Country::Germany.into()),
            ..Default::default()
        })
        .await,
        [berlin.id()]
    );
    assert_eq!(
        filtered(DirectoryQuery {
            region: Some("DE-BE".parse().unwrap()),
            ..Default::default()
        })
        .await,
        [berlin.id()]
    );
    assert_eq!(
        filtered(DirectoryQuery {
            procedure: Some("health-request".parse().unwrap()),
            ..Default::default()
        })
        .await,
        [copenhagen.id()]
    );
    assert_eq!(
        filtered(DirectoryQuery {
            competence: Some("sygepleje".into()),
            area: Some("health".parse().unwrap()),
            ..Default::default()
        })
        .await,
        [copenhagen.id()]
    );
    assert_eq!(
        filtered(DirectoryQuery {
            text: Some("medical".into()),
            participant: Some(Country::Greece.into()),
            ..Default::default()
        })
        .await,
        [athens.id()]
    );
    assert_eq!(filtered(DirectoryQuery::default()).await.len(), 6);

    // Pagination: 25 more, pages of 10, no gaps, no repeats, stable order.
    for i in 0..25 {
        register(
            Country::Austria,
            &[(Language::German, &format!("Gesundheitsamt Bezirk {i}"))],
            None,
            &[],
        )
        .await;
    }
    let mut seen = Vec::new();
    let mut page = PageRequest::first(10).unwrap();
    loop {
        let p = search(text("gesundheitsamt"), page.clone()).await;
        assert!(p.items.len() <= 10);
        seen.extend(ids(&p));
        match p.next {
            Some(c) => page = page.after(c),
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(seen.len(), 25);
    assert_eq!(sorted, seen, "stable id order without repeats");

    // Deregistered authorities leave the search.
    engine
        .deregister_authority(&sys, berlin.id(), "test")
        .await
        .unwrap();
    assert!(search(text("arztekammer"), first()).await.items.is_empty());
}

const REQUEST_QS: &str = "id = \"nurse-check\"\nversion = 1\n[title]\nen = \"Nurse\"\nda = \"Sygeplejerske\"\nfr = \"Infirmier\"\n[[group]]\nid = \"g\"\n[group.title]\nen = \"G\"\n[[group.question]]\nid = \"holder\"\ntype = \"free-text\"\nrequired = \"to-send\"\npersonal_data = true\n[group.question.label]\nen = \"Name\"\nda = \"Navn\"\nfr = \"Nom\"\n[[group.question]]\nid = \"profession\"\ntype = \"single-choice\"\nrequired = \"to-send\"\n[group.question.label]\nen = \"Profession\"\n[[group.question.option]]\nid = \"nurse\"\n[group.question.option.label]\nen = \"Nurse\"\nda = \"Sygeplejerske\"\nfr = \"Infirmier\"\n[[group.question.option]]\nid = \"doctor\"\n[group.question.option.label]\nen = \"Doctor\"\n[[group.question]]\nid = \"authentic\"\ntype = \"yes-no\"\nrequired = \"to-send\"\nanswered_by = \"responder\"\n[group.question.label]\nen = \"Authentic?\"\nda = \"Ægte?\"\nfr = \"Authentique ?\"\n[[group.question]]\nid = \"registered\"\ntype = \"yes-no\"\nanswered_by = \"responder\"\n[group.question.label]\nen = \"Registered?\"\n";
const REQUEST_AREA: &str = "id = \"health\"\n[name]\nen = \"Health\"\n[[procedure]]\nid = \"nurse-check\"\nkind = \"request\"\nquestion_set = \"nurse-check\"\n[procedure.name]\nen = \"Nurse check\"\n";

/// A request between two countries, through the engine: draft, send, need to know
/// before acceptance, allocation, acceptance, forward and split, answer in the other
/// language, clarification, closure, timelines, inboxes, coordinators' progress view,
/// strangers kept out, and a stale write refused. Identical on every backend.
pub async fn engine_request_workflow(store: Arc<dyn Store>) {
    use crate::case::Visibility;
    use crate::catalogue::{AnswerValue, Answers, Catalogue, CatalogueSource, Right, Side};
    use crate::request::{RequestCommand as C, Stage};
    use crate::{
        Actor, AuthorityUpdate, Competence, CoordinatorRole, Country, EngineError, Grant,
        GrantScope, InboxQuery, Language, LocalisedText, NewAuthority, NewUser, PageRequest,
    };
    let engine = engine_on(Arc::clone(&store));
    let sources = [
        CatalogueSource::new("areas/h.toml", REQUEST_AREA),
        CatalogueSource::new("question-sets/q.toml", REQUEST_QS),
    ];
    engine
        .publish_catalogue(&Actor::System, Catalogue::load(&sources).unwrap())
        .unwrap();
    let sys = Actor::System;
    let proc_ = "nurse-check".parse().unwrap();
    let authority = |country: Country, name: &str| {
        let mut n = NewAuthority::new(
            country,
            LocalisedText::new(Language::English, name).unwrap(),
        );
        n.competences = vec![Competence {
            area: "health".parse().unwrap(),
            keywords: vec![],
        }];
        let engine = &engine;
        async move {
            let a = engine.register_authority(&Actor::System, n).await.unwrap();
            engine
                .grant_procedure(&Actor::System, a.id(), &"nurse-check".parse().unwrap())
                .await
                .unwrap();
            a
        }
    };
    let user = |a: crate::AuthorityId, name: &str, language: Language, rights: Vec<Right>| {
        let engine = &engine;
        let name = name.to_owned();
        async move {
            let u = engine
                .create_user(
                    &Actor::System,
                    a,
                    NewUser {
                        name,
                        email: "u@x.eu".parse().unwrap(),
                        language,
                    },
                )
                .await
                .unwrap();
            let grants = rights
                .into_iter()
                .map(|r| Grant::new(r, GrantScope::Everything))
                .collect();
            engine
                .set_grants(&Actor::System, u.id(), grants)
                .await
                .unwrap();
            engine.actor_for(u.id()).await.unwrap()
        }
    };
    let dk = authority(Country::Denmark, "Styrelsen for Patientsikkerhed").await;
    let fr = authority(Country::France, "Ordre national des infirmiers").await;
    let fr2 = authority(Country::France, "Agence régionale de santé").await;
    let be = authority(Country::Belgium, "SPF Santé publique").await;
    let dk2 = authority(Country::Denmark, "Sundhedsstyrelsen").await;
    engine
        .update_authority(
            &sys,
            fr.id(),
            AuthorityUpdate {
                uses_allocation: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let nimic_dk = authority(Country::Denmark, "Erhvervsstyrelsen").await;
    engine
        .appoint_coordinator(&sys, nimic_dk.id(), Some(CoordinatorRole::National))
        .await
        .unwrap();
    let lars = user(
        dk.id(),
        "Lars",
        Language::Danish,
        vec![Right::RequestHandler],
    )
    .await;
    let julie = user(
        fr.id(),
        "Julie",
        Language::French,
        vec![Right::RequestHandler],
    )
    .await;
    let paul = user(
        fr.id(),
        "Paul",
        Language::French,
        vec![Right::RequestHandler],
    )
    .await;
    let allocator = user(fr.id(), "Anne", Language::French, vec![Right::Allocator]).await;
    let coordinator = user(
        nimic_dk.id(),
        "Mette",
        Language::Danish,
        vec![Right::ReferralHandler],
    )
    .await;
    let stranger = user(
        fr2.id(),
        "Eve",
        Language::French,
        vec![Right::RequestHandler],
    )
    .await;

    // Draft and send, in Danish.
    let draft = engine.create_request(&lars, &proc_).await.unwrap();
    assert_eq!(draft.case.question_set.version, 1);
    let id = draft.case.id;
    assert!(draft.case.reference.to_string().starts_with("2026-"));
    let mut answers = Answers::new();
    answers.set(
        "holder".parse().unwrap(),
        AnswerValue::Text("Marie Dubois".into()),
    );
    answers.set(
        "profession".parse().unwrap(),
        AnswerValue::Choice("nurse".parse().unwrap()),
    );
    let today = "2026-11-22".parse::<chrono::NaiveDate>().unwrap();
    engine
        .act_on_request(&lars, id, C::SaveDraft { answers }, None)
        .await
        .unwrap();
    let national = engine
        .act_on_request(
            &lars,
            id,
            C::Send {
                recipient: dk2.id(),
                needed_by: today + chrono::Duration::days(20),
            },
            None,
        )
        .await;
    assert!(
        matches!(national, Err(EngineError::Transition(_))),
        "cross-border procedure: same-country recipient refused"
    );
    assert!(
        engine
            .act_on_request(&julie, id, C::Accept { days: 3 }, None)
            .await
            .is_err(),
        "not sent to France yet: no access"
    );
    let (sent, v_sent) = engine
        .act_on_request(
            &lars,
            id,
            C::Send {
                recipient: fr.id(),
                needed_by: today + chrono::Duration::days(20),
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(sent.case.request.state().stage(), Stage::AwaitingAcceptance);

    // Need to know: the French handler sees no personal data before acceptance.
    let (before, _) = engine.request(&julie, id).await.unwrap();
    assert_eq!(before.visibility, Visibility::WithoutPersonalData);
    assert!(
        before
            .case
            .request
            .request_answers()
            .get(&"holder".parse().unwrap())
            .is_none()
    );
    assert!(
        before
            .case
            .request
            .request_answers()
            .get(&"profession".parse().unwrap())
            .is_some()
    );
    let timeline = engine.request_timeline(&julie, id).await.unwrap();
    assert!(
        !format!("{timeline:?}").contains("Marie Dubois"),
        "not in the timeline either"
    );
    // The Danish coordinator monitors progress without any answers; strangers see nothing.
    let (monitor, _) = engine.request(&coordinator, id).await.unwrap();
    assert_eq!(monitor.visibility, Visibility::ProgressOnly);
    assert!(monitor.case.request.request_answers().is_empty());
    assert!(matches!(
        engine.request(&stranger, id).await,
        Err(EngineError::NotFound { .. })
    ));
    assert!(matches!(
        engine
            .act_on_request(&stranger, id, C::Accept { days: 3 }, None)
            .await,
        Err(EngineError::NotFound { .. })
    ));

    // Concurrency: two French users accept from the same version; one wins.
    let first = engine
        .act_on_request(
            &julie,
            id,
            C::Allocate {
                handler: paul_id(&paul),
            },
            Some(v_sent),
        )
        .await;
    assert!(
        matches!(first, Err(EngineError::Transition(_))),
        "only allocators allocate"
    );
    let (allocated, _) = engine
        .act_on_request(
            &allocator,
            id,
            C::Allocate {
                handler: paul_id(&paul),
            },
            Some(v_sent),
        )
        .await
        .unwrap();
    assert_eq!(allocated.case.request.handler(), Some(paul_id(&paul)));
    let stale = engine
        .act_on_request(&paul, id, C::Accept { days: 10 }, Some(v_sent))
        .await;
    assert!(
        matches!(stale, Err(EngineError::VersionMismatch { .. })),
        "stale If-Match"
    );
    let (accepted, _) = engine
        .act_on_request(&paul, id, C::Accept { days: 10 }, None)
        .await
        .unwrap();
    assert_eq!(accepted.visibility, Visibility::Full);
    assert_eq!(
        accepted
            .case
            .request
            .request_answers()
            .get(&"holder".parse().unwrap()),
        Some(&AnswerValue::Text("Marie Dubois".into()))
    );

    // Split one question to Belgium: a linked child request awaits acceptance there. The
    // engine mints the child's id, whatever the caller proposed (here: the request's own).
    let split = C::Split {
        to: be.id(),
        questions: ["registered".parse().unwrap()].into(),
        child: id,
    };
    engine.act_on_request(&paul, id, split, None).await.unwrap();
    let child_id = engine
        .request_timeline(&sys, id)
        .await
        .unwrap()
        .iter()
        .find_map(|e| match &e.event {
            crate::request::RequestEvent::SplitOff { child, .. } => Some(*child),
            _ => None,
        })
        .unwrap();
    assert_ne!(child_id, id);
    let (child, _) = engine.request(&sys, child_id).await.unwrap();
    assert_eq!(child.case.parent, Some(id));
    assert_eq!(child.case.request.state().recipient(), Some(be.id()));
    assert_ne!(child.case.reference, accepted.case.reference);
    // Belgium hears of it like of any request it receives (it has no users yet: the
    // announcement is in its feed).
    let feed = store
        .scan(&Scan::prefix(&crate::keys::feed(be.id(), None), 10))
        .await
        .unwrap();
    let mut announced = Vec::new();
    for e in &feed.entries {
        let id = crate::keys::trailing_id(&e.key).unwrap();
        let key = crate::keys::outbox(crate::outbox::AnnouncementId(uuid::Uuid::from_bytes(id)));
        let v = store.get(&key).await.unwrap().unwrap();
        let item: crate::outbox::OutboxItem = serde_json::from_slice(&v.value).unwrap();
        announced.push((item.announcement.topic, item.announcement.subject.link()));
    }
    assert!(announced.contains(&(
        crate::outbox::Topic::RequestReceived,
        format!("/v1/requests/{child_id}")
    )));

    // Answer (in French), clarification loop, closure with a rating.
    let mut reply = Answers::new();
    reply.set("authentic".parse().unwrap(), AnswerValue::YesNo(true));
    engine
        .act_on_request(&julie, id, C::Answer { answers: reply }, None)
        .await
        .unwrap();
    engine
        .act_on_request(
            &lars,
            id,
            C::AskClarification {
                text: "Er autorisationen gyldig?".into(),
            },
            None,
        )
        .await
        .unwrap();
    engine
        .act_on_request(
            &julie,
            id,
            C::ReplyClarification {
                text: "Oui, elle est valide.".into(),
            },
            None,
        )
        .await
        .unwrap();
    let rating = Some(crate::request::Rating {
        timeliness: 5,
        effort: 5,
    });
    let (closed, _) = engine
        .act_on_request(&lars, id, C::AcceptAnswer { rating }, None)
        .await
        .unwrap();
    assert_eq!(closed.case.request.state().stage(), Stage::Closed);
    assert!(matches!(
        engine
            .act_on_request(&lars, id, C::Comment { text: "x".into() }, None)
            .await,
        Err(EngineError::Transition(_))
    ));

    // The timeline is complete and ordered, each step with its actor.
    let timeline = engine.request_timeline(&lars, id).await.unwrap();
    let seqs: Vec<u64> = timeline.iter().map(|t| t.seq).collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());
    assert_eq!(
        timeline.len(),
        9,
        "saved, sent, allocated, accepted, split, answered, asked, replied, closed: {timeline:#?}"
    );
    assert!(
        format!("{timeline:?}").contains("Marie Dubois"),
        "the requester sees everything"
    );

    // Inboxes: per authority and party, by stage.
    let dk_sent = engine
        .inbox(
            &lars,
            &InboxQuery {
                side: Some(Side::Requester),
                stage: None,
                ..Default::default()
            },
            PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        dk_sent.items.len(),
        2,
        "the request and its split-off child, both Denmark's"
    );
    let fr_closed = engine
        .inbox(
            &julie,
            &InboxQuery {
                side: Some(Side::Responder),
                stage: Some(Stage::Closed),
                ..Default::default()
            },
            PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(fr_closed.items.len(), 1);
    let fr_open = engine
        .inbox(
            &julie,
            &InboxQuery {
                side: Some(Side::Responder),
                stage: Some(Stage::Accepted),
                ..Default::default()
            },
            PageRequest::default(),
        )
        .await
        .unwrap();
    assert!(fr_open.items.is_empty());
    let be_user = user(
        be.id(),
        "Bert",
        Language::Dutch,
        vec![Right::RequestHandler],
    )
    .await;
    let be_waiting = engine
        .inbox(
            &be_user,
            &InboxQuery {
                side: Some(Side::Responder),
                stage: Some(Stage::AwaitingAcceptance),
                ..Default::default()
            },
            PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        be_waiting.items.len(),
        1,
        "the split-off child waits in Belgium"
    );
    assert_eq!(
        be_waiting.items[0].visibility,
        Visibility::WithoutPersonalData
    );

    // Forward before acceptance moves the request and its inbox entry.
    let second = engine.create_request(&lars, &proc_).await.unwrap().case.id;
    let mut answers = Answers::new();
    answers.set(
        "holder".parse().unwrap(),
        AnswerValue::Text("Jens Hansen".into()),
    );
    answers.set(
        "profession".parse().unwrap(),
        AnswerValue::Choice("doctor".parse().unwrap()),
    );
    engine
        .act_on_request(&lars, second, C::SaveDraft { answers }, None)
        .await
        .unwrap();
    engine
        .act_on_request(
            &lars,
            second,
            C::Send {
                recipient: fr.id(),
                needed_by: today + chrono::Duration::days(9),
            },
            None,
        )
        .await
        .unwrap();
    engine
        .act_on_request(&julie, second, C::Forward { to: be.id() }, None)
        .await
        .unwrap();
    let be_waiting = engine
        .inbox(
            &be_user,
            &InboxQuery {
                side: Some(Side::Responder),
                stage: Some(Stage::AwaitingAcceptance),
                ..Default::default()
            },
            PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(be_waiting.items.len(), 2);
    assert!(
        matches!(
            engine.request(&julie, second).await,
            Err(EngineError::NotFound { .. })
        ),
        "France is no longer a party"
    );
}

fn paul_id(actor: &crate::Actor) -> crate::UserId {
    match actor {
        crate::Actor::User(p) => p.user(),
        _ => panic!("a user"),
    }
}

/// Deadlines: `tick` records a reminder when a request is not accepted in time, a
/// reminder the day after the committed date, and an escalation later; each once, at
/// the right time, as a system entry on the timeline. Identical on every backend.
pub async fn engine_request_deadlines(store: Arc<dyn Store>) {
    use crate::Country;
    use crate::catalogue::{AnswerValue, Answers};
    use crate::request::{DeadlineKind, RequestCommand as C, RequestEvent};
    let area = REQUEST_AREA.replace("question_set = \"nurse-check\"\n", "question_set = \"nurse-check\"\nremind_unaccepted_after_days = 7\nescalate_overdue_after_days = 5\n");
    let w = request_world_with(store, &area, REQUEST_QS, true).await;
    let (engine, clock, ids, id) = (&w.engine, &w.clock, &w.ids, w.case);
    let (dk, fr, be) = (&w.actors[0], &w.actors[1], &w.actors[2]);
    let start: chrono::DateTime<chrono::Utc> = "2026-11-22T09:00:00Z".parse().unwrap();
    let day = |n: i64| start + chrono::Duration::days(n);
    let tick = |n: i64| {
        let engine = &engine;
        async move { engine.tick(day(n), 100).await.unwrap().deadlines }
    };
    assert_eq!(tick(6).await, 0, "not yet");
    assert_eq!(tick(7).await, 1, "not accepted within 7 days");
    assert_eq!(tick(7).await, 0, "once");
    assert_eq!(tick(12).await, 0);
    // Forwarding restarts the acceptance clock at the new recipient.
    clock.set(day(12));
    engine
        .act_on_request(fr, id, C::Forward { to: ids[2] }, None)
        .await
        .unwrap();
    assert_eq!(tick(18).await, 0);
    assert_eq!(tick(19).await, 1, "the new recipient is reminded too");
    clock.set(day(20));
    engine
        .act_on_request(be, id, C::Accept { days: 3 }, None)
        .await
        .unwrap();
    assert_eq!(tick(23).await, 0, "due on day 23: not late yet");
    assert_eq!(tick(24).await, 1, "overdue");
    assert_eq!(tick(27).await, 0);
    assert_eq!(
        tick(28).await,
        1,
        "escalated 5 days after the committed date"
    );
    assert_eq!(tick(60).await, 0, "nothing more");
    let reached: Vec<DeadlineKind> = engine
        .request_timeline(dk, id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.actor == crate::case::ActorRef::System)
        .filter_map(|e| match e.event {
            RequestEvent::DeadlineReached { kind, .. } => Some(kind),
            _ => None,
        })
        .collect();
    assert_eq!(
        reached,
        [
            DeadlineKind::NotAccepted,
            DeadlineKind::NotAccepted,
            DeadlineKind::Overdue,
            DeadlineKind::Escalated
        ]
    );
    // Answering ends the deadlines.
    clock.set(day(61));
    let mut reply = Answers::new();
    reply.set("authentic".parse().unwrap(), AnswerValue::YesNo(true));
    let (answered, _) = engine
        .act_on_request(be, id, C::Answer { answers: reply }, None)
        .await
        .unwrap();
    assert_eq!(answered.case.request.answered_on_time(), Some(false));
    assert_eq!(tick(400).await, 0);

    // A second request, accepted at once and answered on time, to France.
    clock.set(day(62));
    let quick = engine
        .create_request(dk, &"nurse-check".parse().unwrap())
        .await
        .unwrap()
        .case
        .id;
    let mut answers = Answers::new();
    answers.set("holder".parse().unwrap(), AnswerValue::Text("B".into()));
    answers.set(
        "profession".parse().unwrap(),
        AnswerValue::Choice("doctor".parse().unwrap()),
    );
    engine
        .act_on_request(dk, quick, C::SaveDraft { answers }, None)
        .await
        .unwrap();
    engine
        .act_on_request(
            dk,
            quick,
            C::Send {
                recipient: ids[1],
                needed_by: "2027-03-31".parse().unwrap(),
            },
            None,
        )
        .await
        .unwrap();
    clock.set(day(64));
    engine
        .act_on_request(fr, quick, C::Accept { days: 10 }, None)
        .await
        .unwrap();
    clock.set(day(66));
    let mut reply = Answers::new();
    reply.set("authentic".parse().unwrap(), AnswerValue::YesNo(true));
    engine
        .act_on_request(fr, quick, C::Answer { answers: reply }, None)
        .await
        .unwrap();

    // The Scoreboard indicators per responding country, from the milestones.
    let all = engine
        .indicators(
            dk,
            "2026-11-01".parse().unwrap(),
            "2027-12-31".parse().unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(all.len(), 2, "{all:?}");
    let belgium = all
        .iter()
        .find(|i| i.country == Country::Belgium.into())
        .unwrap();
    assert_eq!((belgium.requests, belgium.accepted_within_7_days), (1, 0.0));
    assert_eq!(belgium.answered_by_agreed_date, Some(0.0));
    assert!((belgium.average_days_to_answer.unwrap() - 61.0).abs() < 1e-9);
    let france = all
        .iter()
        .find(|i| i.country == Country::France.into())
        .unwrap();
    assert_eq!(
        (
            france.requests,
            france.accepted_within_7_days,
            france.answered_by_agreed_date
        ),
        (1, 1.0, Some(1.0))
    );
    assert!((france.average_days_to_answer.unwrap() - 4.0).abs() < 1e-9);
    assert!(
        format!("{all:?}").chars().all(|c| c != '@'),
        "no personal data"
    );
    let none = engine
        .indicators(
            dk,
            "2025-01-01".parse().unwrap(),
            "2025-12-31".parse().unwrap(),
        )
        .await
        .unwrap();
    assert!(none.is_empty(), "the period filters by sending date");
}

/// Attachments: uploaded in 256 KiB chunks through the store, read back byte for byte
/// with the digest, referred to by answers only from their own case and party, hidden
/// from the recipient until it accepts, refused when too large or of the wrong type
/// (leaving no chunk behind). Identical on every backend.
pub async fn engine_request_attachments(store: Arc<dyn Store>) {
    use crate::EngineError;
    use crate::attachment::{AttachmentError, InMemory, NewAttachment};
    use crate::catalogue::{AnswerValue, Answers};
    use crate::request::RequestCommand as C;
    let qs = REQUEST_QS.replace("[[group.question]]\nid = \"authentic\"", "[[group.question]]\nid = \"copy\"\ntype = \"attachment\"\nmax_files = 2\n[group.question.label]\nen = \"Copy\"\n[[group.question]]\nid = \"authentic\"");
    let w = request_world_with(Arc::clone(&store), REQUEST_AREA, &qs, false).await;
    let (engine, ids, id) = (&w.engine, &w.ids, w.case);
    let (dk, fr, it) = (&w.actors[0], &w.actors[1], &w.actors[6]);
    let pdf = |name: &str| NewAttachment {
        name: name.into(),
        media_type: "application/pdf".into(),
    };
    let content: Vec<u8> = (0..600 * 1024u32).map(|i| (i % 253) as u8).collect();
    let attached = engine
        .upload_attachment(
            dk,
            id,
            pdf("diploma.pdf"),
            &mut InMemory::new(content.clone()),
        )
        .await
        .unwrap();
    assert_eq!((attached.size, attached.chunks), (600 * 1024, 3));
    let (meta, mut reader) = engine.open_attachment(dk, attached.id).await.unwrap();
    let mut read = Vec::new();
    let mut pieces = 0;
    while let Some(chunk) = reader.next_chunk().await.unwrap() {
        assert!(chunk.len() <= crate::attachment::CHUNK_SIZE);
        read.extend(chunk);
        pieces += 1;
    }
    assert_eq!((read == content, pieces), (true, 3));
    assert_eq!(meta.sha256.len(), 64);

    // Refused files leave nothing behind.
    let chunk_keys = || {
        let store = Arc::clone(&store);
        async move {
            store
                .scan(&Scan::prefix(&[0x57], 1_000))
                .await
                .unwrap()
                .entries
                .len()
        }
    };
    let before = chunk_keys().await;
    let exe = NewAttachment {
        name: "run.exe".into(),
        media_type: "application/x-msdownload".into(),
    };
    assert!(matches!(
        engine
            .upload_attachment(dk, id, exe, &mut InMemory::new(vec![1]))
            .await,
        Err(EngineError::Attachment(AttachmentError::MediaType(_)))
    ));
    let bad_name = NewAttachment {
        name: "../etc/passwd".into(),
        media_type: "text/plain".into(),
    };
    assert!(matches!(
        engine
            .upload_attachment(dk, id, bad_name, &mut InMemory::new(vec![1]))
            .await,
        Err(EngineError::Attachment(AttachmentError::FileName(_)))
    ));
    struct Endless(usize);
    #[async_trait::async_trait]
    impl crate::attachment::ByteSource for Endless {
        async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, AttachmentError> {
            self.0 += 1;
            Ok(Some(vec![7u8; 1024 * 1024]))
        }
    }
    let too_big = engine
        .upload_attachment(dk, id, pdf("huge.pdf"), &mut Endless(0))
        .await;
    assert!(
        matches!(
            too_big,
            Err(EngineError::Attachment(AttachmentError::TooLarge { .. }))
        ),
        "{too_big:?}"
    );
    assert!(matches!(
        engine
            .upload_attachment(dk, id, pdf("empty.pdf"), &mut InMemory::new(vec![]))
            .await,
        Err(EngineError::Attachment(AttachmentError::Empty))
    ));
    assert_eq!(
        chunk_keys().await,
        before,
        "no chunk of a refused file stays"
    );

    // Answers refer to the case's own files only.
    let mut answers = Answers::new();
    answers.set("holder".parse().unwrap(), AnswerValue::Text("Marie".into()));
    answers.set(
        "profession".parse().unwrap(),
        AnswerValue::Choice("nurse".parse().unwrap()),
    );
    let mut forged = answers.clone();
    forged.set(
        "copy".parse().unwrap(),
        AnswerValue::Attachments(vec![
            crate::IdGenerator::seeded(5).attachment("2026-11-22T09:00:00Z".parse().unwrap()),
        ]),
    );
    assert!(matches!(
        engine
            .act_on_request(dk, id, C::SaveDraft { answers: forged }, None)
            .await,
        Err(EngineError::Transition(_))
    ));
    answers.set(
        "copy".parse().unwrap(),
        AnswerValue::Attachments(vec![attached.id]),
    );
    engine
        .act_on_request(dk, id, C::SaveDraft { answers }, None)
        .await
        .unwrap();
    engine
        .act_on_request(
            dk,
            id,
            C::Send {
                recipient: ids[1],
                needed_by: "2027-01-31".parse().unwrap(),
            },
            None,
        )
        .await
        .unwrap();

    // Need to know: no attachments for the recipient before it accepts; none for others.
    assert!(matches!(
        engine.open_attachment(fr, attached.id).await,
        Err(EngineError::NotFound { .. })
    ));
    assert!(matches!(
        engine
            .upload_attachment(fr, id, pdf("reply.pdf"), &mut InMemory::new(vec![1; 10]))
            .await,
        Err(EngineError::Denied(_))
    ));
    let (seen, _) = engine.request(fr, id).await.unwrap();
    assert!(
        seen.case
            .request
            .request_answers()
            .get(&"copy".parse().unwrap())
            .is_none(),
        "attachment answers are hidden too"
    );
    engine
        .act_on_request(fr, id, C::Accept { days: 5 }, None)
        .await
        .unwrap();
    assert_eq!(
        engine
            .open_attachment(fr, attached.id)
            .await
            .unwrap()
            .0
            .name,
        "diploma.pdf"
    );
    assert!(matches!(
        engine.open_attachment(it, attached.id).await,
        Err(EngineError::NotFound { .. })
    ));
    assert!(matches!(
        engine
            .upload_attachment(it, id, pdf("x.pdf"), &mut InMemory::new(vec![1]))
            .await,
        Err(EngineError::NotFound { .. })
    ));
    let reply = engine
        .upload_attachment(
            fr,
            id,
            pdf("register-extract.pdf"),
            &mut InMemory::new(vec![9; 1000]),
        )
        .await
        .unwrap();
    assert_eq!(reply.side, crate::catalogue::Side::Responder);
}

/// Shared set-up of the request scenarios: DK (requester), FR and BE (responders) with
/// request handlers, a FR allocator, the DK national coordinator with the referral
/// right.
/// The shared world of the request scenarios, on one backend.
struct RequestWorld {
    engine: crate::Engine,
    clock: Arc<crate::ManualClock>,
    /// DK handler, FR handler, BE handler, FR allocator, DK coordinator (referral
    /// right), second FR handler, IT handler (a stranger to the case).
    actors: Vec<crate::Actor>,
    /// The authority of each actor.
    ids: Vec<crate::AuthorityId>,
    /// A request drafted by DK with a name and a profession, and (if asked) sent to FR.
    case: crate::CaseId,
}

async fn request_world_with(
    store: Arc<dyn Store>,
    area: &str,
    questions: &str,
    send: bool,
) -> RequestWorld {
    use crate::catalogue::{AnswerValue, Answers, Catalogue, CatalogueSource, Right};
    use crate::request::RequestCommand as C;
    use crate::{
        Actor, AuthorityUpdate, Competence, CoordinatorRole, Country, Grant, GrantScope, Language,
        LocalisedText, NewAuthority, NewUser,
    };
    let clock = Arc::new(crate::ManualClock::new(
        "2026-11-22T09:00:00Z".parse().unwrap(),
    ));
    let engine = crate::Engine::new(store, clock.clone());
    let sources = [
        CatalogueSource::new("areas/h.toml", area),
        CatalogueSource::new("question-sets/q.toml", questions),
    ];
    engine
        .publish_catalogue(&Actor::System, Catalogue::load(&sources).unwrap())
        .unwrap();
    let mut actors = Vec::new();
    let mut ids: Vec<crate::AuthorityId> = Vec::new();
    let specs = [
        (Country::Denmark, Right::RequestHandler),
        (Country::France, Right::RequestHandler),
        (Country::Belgium, Right::RequestHandler),
        (Country::France, Right::Allocator),
        (Country::Denmark, Right::ReferralHandler),
        (Country::France, Right::RequestHandler),
        (Country::Italy, Right::RequestHandler),
    ];
    for (i, (country, right)) in specs.into_iter().enumerate() {
        let authority = if i == 3 || i == 5 {
            ids[1]
        } else {
            let mut n = NewAuthority::new(
                country,
                LocalisedText::new(Language::English, format!("Authority {i}")).unwrap(),
            );
            n.competences = vec![Competence {
                area: "health".parse().unwrap(),
                keywords: vec![],
            }];
            n.confirmed_not_duplicate = true;
            let a = engine.register_authority(&Actor::System, n).await.unwrap();
            engine
                .grant_procedure(&Actor::System, a.id(), &"nurse-check".parse().unwrap())
                .await
                .unwrap();
            if i == 4 {
                engine
                    .appoint_coordinator(&Actor::System, a.id(), Some(CoordinatorRole::National))
                    .await
                    .unwrap();
            }
            a.id()
        };
        let u = engine
            .create_user(
                &Actor::System,
                authority,
                NewUser {
                    name: format!("U{i}"),
                    email: "u@x.eu".parse().unwrap(),
                    language: Language::English,
                },
            )
            .await
            .unwrap();
        engine
            .set_grants(
                &Actor::System,
                u.id(),
                vec![Grant::new(right, GrantScope::Everything)],
            )
            .await
            .unwrap();
        actors.push(engine.actor_for(u.id()).await.unwrap());
        ids.push(authority);
    }
    engine
        .update_authority(
            &Actor::System,
            ids[1],
            AuthorityUpdate {
                uses_allocation: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let case = engine
        .create_request(&actors[0], &"nurse-check".parse().unwrap())
        .await
        .unwrap()
        .case
        .id;
    let mut answers = Answers::new();
    answers.set("holder".parse().unwrap(), AnswerValue::Text("Marie".into()));
    answers.set(
        "profession".parse().unwrap(),
        AnswerValue::Choice("nurse".parse().unwrap()),
    );
    engine
        .act_on_request(&actors[0], case, C::SaveDraft { answers }, None)
        .await
        .unwrap();
    if send {
        engine
            .act_on_request(
                &actors[0],
                case,
                C::Send {
                    recipient: ids[1],
                    needed_by: "2027-01-31".parse().unwrap(),
                },
                None,
            )
            .await
            .unwrap();
    }
    RequestWorld {
        engine,
        clock,
        actors,
        ids,
        case,
    }
}

/// The standard request world, with the request sent to France.
async fn request_world(
    store: Arc<dyn Store>,
) -> (
    crate::Engine,
    Vec<crate::Actor>,
    Vec<crate::AuthorityId>,
    crate::CaseId,
) {
    let w = request_world_with(store, REQUEST_AREA, REQUEST_QS, true).await;
    (w.engine, w.actors, w.ids, w.case)
}

/// The remaining branches through the engine: forward after acceptance, date change
/// accepted and refused, referral and coordinator intervention (comment, remind,
/// reassign, close), withdrawal; and a per-user inbox of allocated requests.
pub async fn engine_request_branches(store: Arc<dyn Store>) {
    use crate::catalogue::Side;
    use crate::request::{Intervention, RequestCommand as C, RequestEvent, RequestState, Stage};
    use crate::{EngineError, InboxQuery, PageRequest};
    let (engine, a, ids, id) = request_world(store).await;
    let (dk, fr, be, alloc, coord, fr2) = (&a[0], &a[1], &a[2], &a[3], &a[4], &a[5]);
    let uid = |actor: &crate::Actor| match actor {
        crate::Actor::User(p) => p.user(),
        _ => panic!("a user"),
    };
    engine
        .act_on_request(alloc, id, C::Allocate { handler: uid(fr2) }, None)
        .await
        .unwrap();
    let mine = InboxQuery {
        side: Some(Side::Responder),
        stage: None,
        allocated_to_me: true,
    };
    assert_eq!(
        engine
            .inbox(fr2, &mine, PageRequest::default())
            .await
            .unwrap()
            .items
            .len(),
        1,
        "allocated to this user"
    );
    assert!(
        engine
            .inbox(fr, &mine, PageRequest::default())
            .await
            .unwrap()
            .items
            .is_empty(),
        "not allocated to that one"
    );
    engine
        .act_on_request(fr2, id, C::Accept { days: 10 }, None)
        .await
        .unwrap();
    // Date change: refused, then accepted.
    let later: chrono::NaiveDate = "2026-12-20".parse().unwrap();
    engine
        .act_on_request(fr2, id, C::ProposeDate { date: later }, None)
        .await
        .unwrap();
    engine
        .act_on_request(dk, id, C::RefuseDate, None)
        .await
        .unwrap();
    engine
        .act_on_request(fr2, id, C::ProposeDate { date: later }, None)
        .await
        .unwrap();
    let (v, _) = engine
        .act_on_request(dk, id, C::AcceptDate, None)
        .await
        .unwrap();
    assert!(
        matches!(v.case.request.state(), RequestState::Accepted { answer_by, proposed: None, .. } if *answer_by == later)
    );
    // Referral and intervention by the requester's coordinator.
    engine
        .act_on_request(
            dk,
            id,
            C::Refer {
                comment: "No progress".into(),
            },
            None,
        )
        .await
        .unwrap();
    assert!(
        matches!(
            engine
                .act_on_request(fr, id, C::Intervene(Intervention::Remind), None)
                .await,
            Err(EngineError::Transition(_))
        ),
        "not a coordinator"
    );
    engine
        .act_on_request(
            coord,
            id,
            C::Intervene(Intervention::Comment {
                text: "Please answer".into(),
            }),
            None,
        )
        .await
        .unwrap();
    engine
        .act_on_request(coord, id, C::Intervene(Intervention::Remind), None)
        .await
        .unwrap();
    // Forward after acceptance, then a coordinator's reassignment back.
    let (v, _) = engine
        .act_on_request(fr2, id, C::Forward { to: ids[2] }, None)
        .await
        .unwrap();
    assert_eq!(
        v.case.request.state(),
        &RequestState::AwaitingAcceptance { recipient: ids[2] }
    );
    engine
        .act_on_request(be, id, C::Accept { days: 3 }, None)
        .await
        .unwrap();
    engine
        .act_on_request(
            coord,
            id,
            C::Intervene(Intervention::Reassign { to: ids[1] }),
            None,
        )
        .await
        .unwrap();
    assert!(
        matches!(
            engine.request(be, id).await,
            Err(EngineError::NotFound { .. })
        ),
        "Belgium no longer sees it"
    );
    // Withdrawal.
    let (v, _) = engine
        .act_on_request(
            dk,
            id,
            C::Withdraw {
                reason: "Solved locally".into(),
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(v.case.request.state().stage(), Stage::Withdrawn);
    let events: Vec<&'static str> = engine
        .request_timeline(dk, id)
        .await
        .unwrap()
        .iter()
        .map(|e| match &e.event {
            RequestEvent::Forwarded {
                by_coordinator: true,
                ..
            } => "reassigned",
            RequestEvent::Forwarded { .. } => "forwarded",
            RequestEvent::DateProposed { .. } => "proposed",
            RequestEvent::DateRefused { .. } => "refused",
            RequestEvent::DateAccepted { .. } => "date-accepted",
            RequestEvent::Referred { .. } => "referred",
            RequestEvent::CoordinatorCommented { .. } => "coordinator-comment",
            RequestEvent::Reminded => "reminded",
            RequestEvent::Withdrawn { .. } => "withdrawn",
            _ => "other",
        })
        .filter(|e| *e != "other")
        .collect();
    assert_eq!(
        events,
        [
            "proposed",
            "refused",
            "proposed",
            "date-accepted",
            "referred",
            "coordinator-comment",
            "reminded",
            "forwarded",
            "reassigned",
            "withdrawn"
        ]
    );
}

/// Two users acting on one request at the same moment: every attempt either commits or
/// fails with a conflict, retries succeed, and no update is lost.
pub async fn engine_request_concurrency(store: Arc<dyn Store>) {
    use crate::EngineError;
    use crate::request::RequestCommand as C;
    let (engine, a, _, id) = request_world(Arc::clone(&store)).await;
    let engine = Arc::new(engine);
    let tasks = (0..8).map(|i| {
        let engine = Arc::clone(&engine);
        let actor = if i % 2 == 0 {
            a[0].clone()
        } else {
            a[1].clone()
        };
        async move {
            let mut conflicts = 0;
            loop {
                match engine
                    .act_on_request(
                        &actor,
                        id,
                        C::Comment {
                            text: format!("note {i}"),
                        },
                        None,
                    )
                    .await
                {
                    Ok(_) => return conflicts,
                    Err(EngineError::Conflict(_)) => conflicts += 1,
                    Err(e) => panic!("unexpected {e}"),
                }
            }
        }
    });
    join_all(tasks).await;
    let timeline = engine.request_timeline(&a[0], id).await.unwrap();
    let comments = timeline
        .iter()
        .filter(|e| matches!(e.event, crate::request::RequestEvent::Commented { .. }))
        .count();
    assert_eq!(comments, 8, "no lost update");
    let seqs: Vec<u64> = timeline.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=timeline.len() as u64).collect::<Vec<_>>());

    // 48 requests created at once, across two engines on the same store (as two server
    // processes would): every creation succeeds at once, with its own reference number.
    let second = Arc::new(crate::Engine::new(
        Arc::clone(&store),
        Arc::new(crate::ManualClock::new(
            "2026-11-22T09:00:00Z".parse().unwrap(),
        )),
    ));
    second
        .publish_catalogue(&crate::Actor::System, (*engine.catalogue()).clone())
        .unwrap();
    let procedure: crate::catalogue::ProcedureId = "nurse-check".parse().unwrap();
    let creators = (0..48).map(|i| {
        let engine = if i % 2 == 0 {
            Arc::clone(&engine)
        } else {
            Arc::clone(&second)
        };
        let actor = a[0].clone();
        let procedure = procedure.clone();
        async move { engine.create_request(&actor, &procedure).await }
    });
    let mut references = std::collections::BTreeSet::new();
    for created in join_all(creators).await {
        let view = created.expect("no creation fails under contention");
        assert!(references.insert(view.case.reference.to_string()));
    }
    assert_eq!(references.len(), 48);
}

/// Published question-set versions survive a restart on the same store even when the
/// catalogue files no longer contain them: open cases keep validating against their
/// pinned version, new cases take the newest, and a changed published version is
/// refused.
pub async fn engine_question_sets_persist(store: Arc<dyn Store>) {
    use crate::catalogue::{AnswerValue, Answers, Catalogue, CatalogueSource};
    use crate::request::RequestCommand as C;
    use crate::{Actor, EngineError};
    let (engine, a, ids, id) = request_world(Arc::clone(&store)).await;
    assert_eq!(
        engine.persist_question_sets(&Actor::System).await.unwrap(),
        1
    );
    assert_eq!(
        engine.persist_question_sets(&Actor::System).await.unwrap(),
        0,
        "idempotent"
    );
    drop(engine);

    // "Restart": a new engine on the same store, whose files hold only version 2.
    let engine = engine_on(Arc::clone(&store));
    let v2 = REQUEST_QS
        .replacen("version = 1", "version = 2", 1)
        .replacen(
            "required = \"to-send\"\npersonal_data = true",
            "required = \"to-save\"\npersonal_data = true",
            1,
        );
    let files = [
        CatalogueSource::new("areas/h.toml", REQUEST_AREA),
        CatalogueSource::new("question-sets/q.toml", v2.clone()),
    ];
    assert_eq!(
        engine.restore_question_sets(&Actor::System).await.unwrap(),
        1
    );
    engine
        .publish_catalogue(&Actor::System, Catalogue::load(&files).unwrap())
        .unwrap();
    engine.persist_question_sets(&Actor::System).await.unwrap();
    let (view, _) = engine.request(&a[0], id).await.unwrap();
    assert_eq!(
        view.case.question_set.version, 1,
        "the open case keeps version 1"
    );
    engine
        .act_on_request(&a[1], id, C::Accept { days: 5 }, None)
        .await
        .unwrap();
    let mut reply = Answers::new();
    reply.set("authentic".parse().unwrap(), AnswerValue::YesNo(true));
    engine
        .act_on_request(&a[1], id, C::Answer { answers: reply }, None)
        .await
        .unwrap();
    let fresh = engine
        .create_request(&a[0], &"nurse-check".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(
        fresh.case.question_set.version, 2,
        "new cases take the newest"
    );
    let _ = ids;

    // A file that changes published version 1 is refused after the restore.
    let engine = engine_on(Arc::clone(&store));
    engine.restore_question_sets(&Actor::System).await.unwrap();
    let changed = REQUEST_QS.replacen("id = \"registered\"", "id = \"registered-elsewhere\"", 1);
    let files = [
        CatalogueSource::new("areas/h.toml", REQUEST_AREA),
        CatalogueSource::new("question-sets/q.toml", changed),
    ];
    assert!(matches!(
        engine.publish_catalogue(&Actor::System, Catalogue::load(&files).unwrap()),
        Err(EngineError::Catalogue(_))
    ));
}

/// The audit log: reads of personal data and changes are recorded with actor and
/// purpose, sealed into a hash chain in batches by `tick`, verified, and any change,
/// removal, reordering or truncation of one entry in the store is detected and named.
/// Identical on every backend.
pub async fn engine_audit_chain(store: Arc<dyn Store>) {
    use crate::audit::{AuditAction, AuditBreak, Purpose, SealedEntry};
    use crate::request::RequestCommand as C;
    use crate::{Actor, EngineError};
    let (engine, a, _, id) = request_world(Arc::clone(&store)).await;
    engine
        .act_on_request(&a[1], id, C::Accept { days: 5 }, None)
        .await
        .unwrap();
    engine.request(&a[1], id).await.unwrap();
    engine.request(&a[4], id).await.unwrap();
    assert!(
        matches!(
            engine.verify_audit(&a[0]).await,
            Err(EngineError::Denied(_))
        ),
        "operators only"
    );
    let before = engine.verify_audit(&Actor::System).await.unwrap().unwrap();
    assert_eq!(before.entries, 0, "nothing sealed yet");
    let now = "2026-11-22T10:00:00Z".parse().unwrap();
    let report = engine.tick(now, 3).await.unwrap();
    assert_eq!(report.audit_sealed, 3, "a bounded batch");
    engine.tick(now, 100).await.unwrap();
    assert_eq!(
        engine.seal_audit(&Actor::System, 100).await.unwrap(),
        0,
        "all sealed"
    );
    let report = engine.verify_audit(&Actor::System).await.unwrap().unwrap();
    // save-draft, send (set-up), accept: changes; the FR read: personal data. The DK
    // coordinator's read shows progress only and is not a read of personal data.
    let chain = store
        .scan(&Scan::prefix(&crate::keys::audit_chain(None), 100))
        .await
        .unwrap();
    let entries: Vec<SealedEntry> = chain
        .entries
        .iter()
        .map(|e| serde_json::from_slice(&e.value).unwrap())
        .collect();
    assert_eq!(report.entries as usize, entries.len());
    let case_actions: Vec<(&str, Purpose)> = entries
        .iter()
        .filter_map(|e| match &e.record.action {
            AuditAction::ChangeCase { command, .. } => Some((command.as_str(), e.record.purpose)),
            AuditAction::ReadCase { .. } => Some(("read", e.record.purpose)),
            _ => None,
        })
        .collect();
    assert_eq!(
        case_actions,
        [
            ("save-draft", Purpose::HandleCase),
            ("send", Purpose::HandleCase),
            ("accept", Purpose::HandleCase),
            ("read", Purpose::HandleCase)
        ]
    );
    // The directory and users set up by the operator are in the log too.
    let admin = |want: &str| {
        entries
            .iter()
            .filter(|e| match &e.record.action {
                AuditAction::ChangeAuthority { change, .. }
                | AuditAction::ChangeUser { change, .. } => {
                    change == want && e.record.purpose == Purpose::Operate
                }
                _ => false,
            })
            .count()
    };
    assert_eq!(
        (
            admin("register"),
            admin("create"),
            admin("grant-rights"),
            admin("appoint-coordinator")
        ),
        (5, 7, 7, 1)
    );
    assert!(
        !serde_json::to_string(&entries).unwrap().contains("Marie"),
        "no personal data in the log"
    );

    // Tampering with the stored chain is detected and the entry named.
    let key = |seq: u64| crate::keys::audit_chain(Some(seq));
    let put = |k: Vec<u8>, v: Vec<u8>| {
        let store = Arc::clone(&store);
        async move {
            let mut b = WriteBatch::new();
            b.put(k, v);
            store.commit(b).await.unwrap();
        }
    };
    let original: Vec<Vec<u8>> = chain.entries.iter().map(|e| e.value.clone()).collect();
    let restore = || async {
        for (i, v) in original.iter().enumerate() {
            put(key(i as u64 + 1), v.clone()).await;
        }
    };
    // 1. A changed record.
    let mut forged = entries[1].clone();
    forged.record.at += chrono::Duration::seconds(1);
    put(key(2), serde_json::to_vec(&forged).unwrap()).await;
    assert_eq!(
        engine.verify_audit(&Actor::System).await.unwrap(),
        Err(AuditBreak::Altered {
            seq: 2,
            reason: "its hash does not match its content"
        })
    );
    restore().await;
    // 2. A record rewritten with a fresh hash: the next entry's link breaks.
    forged.hash = crate::audit::entry_hash(forged.seq, &forged.prev, &forged.record);
    put(key(2), serde_json::to_vec(&forged).unwrap()).await;
    assert_eq!(
        engine.verify_audit(&Actor::System).await.unwrap(),
        Err(AuditBreak::Altered {
            seq: 3,
            reason: "it does not link to the previous entry"
        })
    );
    restore().await;
    // 3. Two entries swapped.
    put(key(2), original[2].clone()).await;
    put(key(3), original[1].clone()).await;
    assert!(matches!(
        engine.verify_audit(&Actor::System).await.unwrap(),
        Err(AuditBreak::Gap { expected: 2, .. })
    ));
    restore().await;
    // 4. A deleted entry in the middle, and the last one.
    let delete = |k: Vec<u8>| {
        let store = Arc::clone(&store);
        async move {
            let mut b = WriteBatch::new();
            b.delete(k);
            store.commit(b).await.unwrap();
        }
    };
    delete(key(3)).await;
    assert_eq!(
        engine.verify_audit(&Actor::System).await.unwrap(),
        Err(AuditBreak::Gap {
            expected: 3,
            found: 4
        })
    );
    restore().await;
    let last = entries.len() as u64;
    delete(key(last)).await;
    assert_eq!(
        engine.verify_audit(&Actor::System).await.unwrap(),
        Err(AuditBreak::Truncated {
            head: last,
            found: last - 1
        })
    );
    restore().await;
    assert!(
        engine.verify_audit(&Actor::System).await.unwrap().is_ok(),
        "restored"
    );
}

/// Blocking (Art. 14(1)): the personal data of a formally closed request become
/// invisible through normal reads exactly when the procedure's blocking period after
/// closure ends (6 months by default, 18 where the procedure says so), once, with a
/// system entry on the timeline. Identical on every backend.
pub async fn engine_retention_blocking(store: Arc<dyn Store>) {
    use crate::case::Visibility;
    use crate::catalogue::{AnswerValue, Answers};
    use crate::request::{RequestCommand as C, RequestEvent};
    let day =
        |d: &str| -> chrono::DateTime<chrono::Utc> { format!("{d}T09:00:00Z").parse().unwrap() };
    let area = format!(
        "{REQUEST_AREA}[[procedure]]\nid = \"nurse-check-long\"\nkind = \"request\"\nquestion_set = \"nurse-check\"\nblocking_months = 18\n[procedure.name]\nen = \"Nurse check (long)\"\n"
    );
    let w = request_world_with(Arc::clone(&store), &area, REQUEST_QS, true).await;
    let (engine, dk, fr) = (&w.engine, &w.actors[0], &w.actors[1]);
    for a in [w.ids[0], w.ids[1]] {
        engine
            .grant_procedure(
                &crate::Actor::System,
                a,
                &"nurse-check-long".parse().unwrap(),
            )
            .await
            .unwrap();
    }
    let dk = engine
        .actor_for(match dk {
            crate::Actor::User(p) => p.user(),
            _ => unreachable!(),
        })
        .await
        .unwrap();
    let fr = engine
        .actor_for(match fr {
            crate::Actor::User(p) => p.user(),
            _ => unreachable!(),
        })
        .await
        .unwrap();
    let long = engine
        .create_request(&dk, &"nurse-check-long".parse().unwrap())
        .await
        .unwrap()
        .case
        .id;
    let mut answers = Answers::new();
    answers.set("holder".parse().unwrap(), AnswerValue::Text("Marie".into()));
    answers.set(
        "profession".parse().unwrap(),
        AnswerValue::Choice("nurse".parse().unwrap()),
    );
    engine
        .act_on_request(&dk, long, C::SaveDraft { answers }, None)
        .await
        .unwrap();
    engine
        .act_on_request(
            &dk,
            long,
            C::Send {
                recipient: w.ids[1],
                needed_by: "2027-01-31".parse().unwrap(),
            },
            None,
        )
        .await
        .unwrap();
    for id in [w.case, long] {
        engine
            .act_on_request(&fr, id, C::Accept { days: 5 }, None)
            .await
            .unwrap();
        let mut reply = Answers::new();
        reply.set("authentic".parse().unwrap(), AnswerValue::YesNo(true));
        engine
            .act_on_request(&fr, id, C::Answer { answers: reply }, None)
            .await
            .unwrap();
        engine
            .act_on_request(&dk, id, C::AcceptAnswer { rating: None }, None)
            .await
            .unwrap();
    }
    let name = "holder".parse().unwrap();
    for (id, block_day) in [(w.case, "2027-05-22"), (long, "2028-05-22")] {
        let due: chrono::NaiveDate = block_day.parse().unwrap();
        let eve = (due - chrono::Duration::days(1)).to_string();
        engine.tick(day(&eve), 100).await.unwrap();
        let (view, _) = engine.request(&dk, id).await.unwrap();
        assert!(
            view.case.request.request_answers().get(&name).is_some(),
            "not before {block_day}"
        );
        assert_eq!(
            engine.tick(day(block_day), 100).await.unwrap().blocked,
            1,
            "blocked on {block_day}"
        );
        assert_eq!(
            engine.tick(day(block_day), 100).await.unwrap().blocked,
            0,
            "once"
        );
        for reader in [&dk, &fr] {
            let (view, _) = engine.request(reader, id).await.unwrap();
            assert_eq!(view.visibility, Visibility::WithoutPersonalData);
            assert!(
                view.case.request.request_answers().get(&name).is_none(),
                "blocked data never appear in normal reads"
            );
            let timeline = engine.request_timeline(reader, id).await.unwrap();
            assert!(!format!("{timeline:?}").contains("Marie"));
            assert!(matches!(
                timeline.last().map(|e| (&e.event, e.actor)),
                Some((
                    RequestEvent::PersonalDataBlocked,
                    crate::case::ActorRef::System
                ))
            ));
        }
        // The operator still holds the data until deletion (proof of the exchange).
        let (all, _) = engine.request(&crate::Actor::System, id).await.unwrap();
        assert!(all.case.request.request_answers().get(&name).is_some());
    }

    // A justified, time-limited, audited unblock by an administrator of a party.
    use crate::audit::{AuditAction, SealedEntry, UnblockReason};
    use crate::catalogue::Right;
    use crate::{EngineError, Grant, GrantScope, Language, NewUser};
    let admin = engine
        .create_user(
            &crate::Actor::System,
            w.ids[0],
            NewUser {
                name: "Admin".into(),
                email: "a@x.dk".parse().unwrap(),
                language: Language::Danish,
            },
        )
        .await
        .unwrap();
    let grants = vec![
        Grant::new(Right::Administrator, GrantScope::Everything),
        Grant::new(Right::RequestHandler, GrantScope::Everything),
    ];
    engine
        .set_grants(&crate::Actor::System, admin.id(), grants)
        .await
        .unwrap();
    let admin = engine.actor_for(admin.id()).await.unwrap();
    let id = w.case;
    assert!(
        matches!(
            engine
                .unblock_request(
                    &dk,
                    id,
                    UnblockReason::ProofOfExchange,
                    "Court case 12/2028",
                    7
                )
                .await,
            Err(EngineError::Denied(_))
        ),
        "administrators only"
    );
    assert!(matches!(
        engine
            .unblock_request(&w.actors[6], id, UnblockReason::ProofOfExchange, "x", 7)
            .await,
        Err(EngineError::NotFound { .. } | EngineError::Denied(_))
    ));
    for (text, days) in [("  ", 7), ("ok", 0), ("ok", 31)] {
        assert!(
            matches!(
                engine
                    .unblock_request(&admin, id, UnblockReason::ProofOfExchange, text, days)
                    .await,
                Err(EngineError::Transition(_))
            ),
            "{text:?} {days}"
        );
    }
    w.clock.set(day("2028-06-01"));
    let access = engine
        .unblock_request(
            &admin,
            id,
            UnblockReason::DataSubjectConsent,
            "The nurse asked for a copy",
            7,
        )
        .await
        .unwrap();
    assert_eq!(access.until, day("2028-06-08"));
    let (seen, _) = engine.request(&admin, id).await.unwrap();
    assert_eq!(seen.visibility, Visibility::Full);
    assert!(
        seen.case.request.request_answers().get(&name).is_some(),
        "readable during the access"
    );
    let (other, _) = engine.request(&dk, id).await.unwrap();
    assert!(
        other.case.request.request_answers().get(&name).is_none(),
        "only for the justified user"
    );
    w.clock.set(day("2028-06-09"));
    let (after, _) = engine.request(&admin, id).await.unwrap();
    assert!(
        after.case.request.request_answers().get(&name).is_none(),
        "the access ended"
    );
    engine.tick(day("2028-06-09"), 10_000).await.unwrap();
    let chain = store
        .scan(&Scan::prefix(&crate::keys::audit_chain(None), 10_000))
        .await
        .unwrap();
    let unblocks = chain
        .entries
        .iter()
        .map(|e| serde_json::from_slice::<SealedEntry>(&e.value).unwrap())
        .filter(|e| {
            matches!(
                e.record.action,
                AuditAction::Unblock {
                    reason: UnblockReason::DataSubjectConsent,
                    ..
                }
            )
        })
        .count();
    assert_eq!(unblocks, 1, "the unblock is in the audit log");
}

/// Deletion (Art. 14(4)): 3 years after formal closure a request's personal data are
/// deleted from the case, every timeline entry, its files, translations and accesses,
/// once, keeping the non-personal skeleton. Identical on every backend; backends' own
/// tests check the bytes are gone from their files. The personal values all contain
/// `Zyxw-Erasable`.
pub async fn engine_retention_deletion(store: Arc<dyn Store>) {
    use crate::attachment::{InMemory, NewAttachment};
    use crate::catalogue::{AnswerValue, Answers};
    use crate::request::{RequestCommand as C, RequestEvent};
    use crate::{Actor, EngineError};
    let day =
        |d: &str| -> chrono::DateTime<chrono::Utc> { format!("{d}T09:00:00Z").parse().unwrap() };
    let qs = REQUEST_QS.replace("[[group.question]]\nid = \"authentic\"", "[[group.question]]\nid = \"copy\"\ntype = \"attachment\"\nmax_files = 2\npersonal_data = true\n[group.question.label]\nen = \"Copy\"\n[[group.question]]\nid = \"authentic\"");
    let w = request_world_with(Arc::clone(&store), REQUEST_AREA, &qs, false).await;
    let (engine, dk, fr, id) = (&w.engine, &w.actors[0], &w.actors[1], w.case);
    let file = engine
        .upload_attachment(
            dk,
            id,
            NewAttachment {
                name: "diploma.pdf".into(),
                media_type: "application/pdf".into(),
            },
            &mut InMemory::new(b"%PDF Zyxw-Erasable-File-Content".repeat(20_000)),
        )
        .await
        .unwrap();
    let mut answers = Answers::new();
    answers.set(
        "holder".parse().unwrap(),
        AnswerValue::Text("Zyxw-Erasable-Name".into()),
    );
    answers.set(
        "profession".parse().unwrap(),
        AnswerValue::Choice("nurse".parse().unwrap()),
    );
    answers.set(
        "copy".parse().unwrap(),
        AnswerValue::Attachments(vec![file.id]),
    );
    engine
        .act_on_request(dk, id, C::SaveDraft { answers }, None)
        .await
        .unwrap();
    engine
        .act_on_request(
            dk,
            id,
            C::Send {
                recipient: w.ids[1],
                needed_by: "2027-01-31".parse().unwrap(),
            },
            None,
        )
        .await
        .unwrap();
    engine
        .act_on_request(fr, id, C::Accept { days: 5 }, None)
        .await
        .unwrap();
    engine
        .act_on_request(
            fr,
            id,
            C::Comment {
                text: "Zyxw-Erasable-Comment about her".into(),
            },
            None,
        )
        .await
        .unwrap();
    let mut reply = Answers::new();
    reply.set("authentic".parse().unwrap(), AnswerValue::YesNo(true));
    engine
        .act_on_request(fr, id, C::Answer { answers: reply }, None)
        .await
        .unwrap();
    engine
        .act_on_request(dk, id, C::AcceptAnswer { rating: None }, None)
        .await
        .unwrap();

    engine.tick(day("2029-11-21"), 100).await.unwrap();
    let (kept, _) = engine.request(&Actor::System, id).await.unwrap();
    assert!(
        kept.case.request.is_blocked() && !kept.case.request.is_erased(),
        "blocked, not yet deleted, on the eve"
    );
    assert_eq!(
        engine.tick(day("2029-11-22"), 100).await.unwrap().blocked,
        1,
        "deleted 3 years after closure"
    );
    assert_eq!(
        engine.tick(day("2029-11-22"), 100).await.unwrap().blocked,
        0,
        "once"
    );
    let (gone, _) = engine.request(&Actor::System, id).await.unwrap();
    assert!(gone.case.request.is_erased());
    let answers = gone.case.request.request_answers();
    assert!(
        answers.get(&"holder".parse().unwrap()).is_none()
            && answers.get(&"copy".parse().unwrap()).is_none()
    );
    assert!(
        answers.get(&"profession".parse().unwrap()).is_some(),
        "the non-personal skeleton stays"
    );
    let timeline = engine.request_timeline(&Actor::System, id).await.unwrap();
    assert!(
        !format!("{timeline:?}").contains("Zyxw-Erasable"),
        "{timeline:?}"
    );
    assert!(matches!(
        timeline.last().map(|e| &e.event),
        Some(RequestEvent::PersonalDataDeleted)
    ));
    assert!(matches!(
        engine.open_attachment(&Actor::System, file.id).await,
        Err(EngineError::NotFound { .. })
    ));
    let everything = store.scan(&Scan::all(100_000)).await.unwrap();
    for e in &everything.entries {
        assert!(
            !e.value.windows(13).any(|x| x == b"Zyxw-Erasable"),
            "a value still holds personal data at {:?}",
            crate::store::KeyDisplay::from(e.key.as_slice())
        );
    }
}

/// Data subjects: an authority finds its cases on a person by name and date of birth
/// (case and accents ignored), exports them as JSON, rectifies (an event; the history
/// keeps the earlier value) and erases what was processed unlawfully (gone from the case,
/// its history, its files and every stored value). Others find nothing; each step is
/// audited with its purpose. Identical on every backend.
pub async fn engine_data_subjects(store: Arc<dyn Store>) {
    use crate::attachment::{InMemory, NewAttachment};
    use crate::audit::{AuditAction, Purpose, SealedEntry};
    use crate::catalogue::{AnswerValue, Answers};
    use crate::request::{RequestCommand as C, RequestEvent};
    use crate::{Actor, EngineError};
    let qs = REQUEST_QS.replace(
        "[[group.question]]\nid = \"authentic\"",
        "[[group.question]]\nid = \"born\"\ntype = \"date\"\npersonal_data = true\n[group.question.label]\nen = \"Born\"\n[[group.question]]\nid = \"copy\"\ntype = \"attachment\"\nmax_files = 2\npersonal_data = true\n[group.question.label]\nen = \"Copy\"\n[[group.question]]\nid = \"authentic\"",
    );
    let w = request_world_with(Arc::clone(&store), REQUEST_AREA, &qs, false).await;
    let (engine, dk, fr, it, coord) = (
        &w.engine,
        &w.actors[0],
        &w.actors[1],
        &w.actors[6],
        &w.actors[4],
    );
    let id = w.case;
    let file = engine
        .upload_attachment(
            dk,
            id,
            NewAttachment {
                name: "passport.pdf".into(),
                media_type: "application/pdf".into(),
            },
            &mut InMemory::new(b"%PDF Qwvx-Unlawful-Scan".repeat(100)),
        )
        .await
        .unwrap();
    let answers = |name: &str, born: &str, copy: Option<crate::AttachmentId>| {
        let mut a = Answers::new();
        a.set("holder".parse().unwrap(), AnswerValue::Text(name.into()));
        a.set(
            "born".parse().unwrap(),
            AnswerValue::Date(born.parse().unwrap()),
        );
        a.set(
            "profession".parse().unwrap(),
            AnswerValue::Choice("nurse".parse().unwrap()),
        );
        if let Some(f) = copy {
            a.set("copy".parse().unwrap(), AnswerValue::Attachments(vec![f]));
        }
        a
    };
    let send = || C::Send {
        recipient: w.ids[1],
        needed_by: "2027-01-31".parse().unwrap(),
    };
    engine
        .act_on_request(
            dk,
            id,
            C::SaveDraft {
                answers: answers("Marie Dupont", "1913-05-17", Some(file.id)),
            },
            None,
        )
        .await
        .unwrap();
    engine.act_on_request(dk, id, send(), None).await.unwrap();
    // Another person, same birthday; and the same person in another of DK's requests.
    let other = engine
        .create_request(dk, &"nurse-check".parse().unwrap())
        .await
        .unwrap()
        .case
        .id;
    engine
        .act_on_request(
            dk,
            other,
            C::SaveDraft {
                answers: answers("Jean Martin", "1913-05-17", None),
            },
            None,
        )
        .await
        .unwrap();
    let again = engine
        .create_request(dk, &"nurse-check".parse().unwrap())
        .await
        .unwrap()
        .case
        .id;
    engine
        .act_on_request(
            dk,
            again,
            C::SaveDraft {
                answers: answers("MARIE DUPONT", "1913-05-17", None),
            },
            None,
        )
        .await
        .unwrap();
    let ids = |views: Vec<crate::case::RequestView>| {
        let mut v: Vec<crate::CaseId> = views.into_iter().map(|v| v.case.id).collect();
        v.sort();
        v
    };
    let who = |x: &str| vec![x.to_owned()];
    let person = vec!["marie dupónt".to_owned(), "1913-05-17".to_owned()];
    let mut both = vec![id, again];
    both.sort();
    assert_eq!(
        ids(engine.find_data_subject(dk, &person).await.unwrap()),
        both
    );
    assert_eq!(
        engine
            .find_data_subject(dk, &who("1913-05-17"))
            .await
            .unwrap()
            .len(),
        3
    );
    assert!(
        engine
            .find_data_subject(dk, &["Marie Dupont".into(), "1913-05-18".into()])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        engine.find_data_subject(dk, &["  ".into()]).await,
        Err(EngineError::Transition(_))
    ));
    // The recipient before acceptance, a stranger and a coordinator learn nothing.
    for (actor, what) in [
        (fr, "recipient before acceptance"),
        (it, "stranger"),
        (coord, "coordinator"),
    ] {
        assert!(
            engine
                .find_data_subject(actor, &person)
                .await
                .unwrap()
                .is_empty(),
            "{what}"
        );
    }
    engine
        .act_on_request(fr, id, C::Accept { days: 5 }, None)
        .await
        .unwrap();
    assert_eq!(
        ids(engine.find_data_subject(fr, &person).await.unwrap()),
        vec![id]
    );

    let export = engine.export_data_subject(dk, &person).await.unwrap();
    assert_eq!(export["format"], "imi-data-subject-export/1");
    assert_eq!(export["cases"].as_array().map(Vec::len), Some(2));
    let text = export.to_string();
    assert!(
        text.contains("Marie Dupont") && text.contains("timeline") && !text.contains("Jean Martin")
    );

    // Rectification: only personal data the party supplied, with a valid value.
    let mut fix = Answers::new();
    fix.set(
        "holder".parse().unwrap(),
        AnswerValue::Text("Marie Dupond".into()),
    );
    let rectify = |answers: Answers| C::Rectify {
        answers,
        reason: "the data subject asked".into(),
    };
    assert!(
        engine
            .act_on_request(fr, id, rectify(fix.clone()), None)
            .await
            .is_err(),
        "not the responder's data"
    );
    let mut bad = Answers::new();
    bad.set(
        "profession".parse().unwrap(),
        AnswerValue::Choice("doctor".parse().unwrap()),
    );
    assert!(
        engine
            .act_on_request(dk, id, rectify(bad), None)
            .await
            .is_err(),
        "not personal data"
    );
    let mut bad = Answers::new();
    bad.set("holder".parse().unwrap(), AnswerValue::YesNo(true));
    assert!(
        engine
            .act_on_request(dk, id, rectify(bad), None)
            .await
            .is_err(),
        "wrong type"
    );
    let (view, _) = engine
        .act_on_request(dk, id, rectify(fix), None)
        .await
        .unwrap();
    assert_eq!(
        view.case
            .request
            .request_answers()
            .get(&"holder".parse().unwrap()),
        Some(&AnswerValue::Text("Marie Dupond".into()))
    );
    let timeline = engine.request_timeline(fr, id).await.unwrap();
    assert!(matches!(
        timeline.last().map(|e| &e.event),
        Some(RequestEvent::Rectified { .. })
    ));
    assert!(
        format!("{timeline:?}").contains("Marie Dupont"),
        "the history keeps the earlier value"
    );
    assert_eq!(
        ids(engine
            .find_data_subject(dk, &who("Marie Dupond"))
            .await
            .unwrap()),
        vec![id]
    );
    assert_eq!(
        ids(engine.find_data_subject(dk, &person).await.unwrap()),
        vec![again]
    );

    // Erasure of unlawfully processed data: the date of birth and the scan.
    let erase = C::EraseUnlawful {
        questions: ["born".parse().unwrap(), "copy".parse().unwrap()]
            .into_iter()
            .collect(),
        reason: "collected without a legal basis".into(),
    };
    assert!(
        engine
            .act_on_request(fr, id, erase.clone(), None)
            .await
            .is_err()
    );
    let (view, _) = engine
        .act_on_request(dk, id, erase.clone(), None)
        .await
        .unwrap();
    let left = view.case.request.request_answers();
    assert!(
        left.get(&"born".parse().unwrap()).is_none()
            && left.get(&"copy".parse().unwrap()).is_none()
    );
    assert!(
        left.get(&"holder".parse().unwrap()).is_some(),
        "only what was named"
    );
    assert!(
        engine.act_on_request(dk, id, erase, None).await.is_err(),
        "nothing left to erase"
    );
    let timeline = engine.request_timeline(&Actor::System, id).await.unwrap();
    assert!(
        !format!("{timeline:?}").contains("1913-05-17"),
        "{timeline:?}"
    );
    assert!(matches!(
        engine.open_attachment(&Actor::System, file.id).await,
        Err(EngineError::NotFound { .. })
    ));
    assert_eq!(
        ids(engine
            .find_data_subject(dk, &who("1913-05-17"))
            .await
            .unwrap()),
        {
            let mut v = vec![other, again];
            v.sort();
            v
        }
    );
    let everything = store.scan(&Scan::all(100_000)).await.unwrap();
    for e in &everything.entries {
        let mentions_case = e.key.windows(16).any(|x| x == id.as_bytes());
        assert!(
            !(e.value.windows(16).any(|x| x == b"Qwvx-Unlawful-Sc")
                || mentions_case && e.value.windows(10).any(|x| x == b"1913-05-17")),
            "erased data still stored at {:?}",
            crate::store::KeyDisplay::from(e.key.as_slice())
        );
    }

    // Every step is in the audit log with its purpose, and the log holds no names.
    engine.seal_audit(&Actor::System, 10_000).await.unwrap();
    let chain = store
        .scan(&Scan::prefix(&crate::keys::audit_chain(None), 10_000))
        .await
        .unwrap();
    let entries: Vec<SealedEntry> = chain
        .entries
        .iter()
        .map(|e| serde_json::from_slice(&e.value).unwrap())
        .collect();
    let subject = |e: &&SealedEntry| e.record.purpose == Purpose::DataSubjectRequest;
    assert!(
        entries
            .iter()
            .filter(subject)
            .any(|e| matches!(e.record.action, AuditAction::ReadCase { case } if case == id))
    );
    assert!(entries
        .iter()
        .filter(subject)
        .any(|e| matches!(&e.record.action, AuditAction::ChangeCase { command, .. } if command == "erase-unlawful")));
    assert!(
        !chain
            .entries
            .iter()
            .any(|e| e.value.windows(6).any(|x| x == b"Dupont" || x == b"Dupond"))
    );
    assert!(engine.verify_audit(&Actor::System).await.unwrap().is_ok());
}

/// Synthetic load: copies of a closed request behave like the original (references,
/// inboxes, data-subject index, retention); retention over many cases goes in grouped
/// commits and happens once per case. Identical on every backend.
pub async fn engine_replicated_load(store: Arc<dyn Store>) {
    use crate::catalogue::{AnswerValue, Answers};
    use crate::request::{RequestCommand as C, Stage};
    use crate::{Actor, EngineError, InboxQuery, PageRequest};
    let day =
        |d: &str| -> chrono::DateTime<chrono::Utc> { format!("{d}T09:00:00Z").parse().unwrap() };
    let w = request_world_with(Arc::clone(&store), REQUEST_AREA, REQUEST_QS, true).await;
    let (engine, dk, fr, id) = (&w.engine, &w.actors[0], &w.actors[1], w.case);
    engine
        .act_on_request(fr, id, C::Accept { days: 5 }, None)
        .await
        .unwrap();
    let mut reply = Answers::new();
    reply.set("authentic".parse().unwrap(), AnswerValue::YesNo(true));
    engine
        .act_on_request(fr, id, C::Answer { answers: reply }, None)
        .await
        .unwrap();
    engine
        .act_on_request(dk, id, C::AcceptAnswer { rating: None }, None)
        .await
        .unwrap();
    assert!(matches!(
        engine.replicate_request(dk, id, 10, |_| {}).await,
        Err(EngineError::Denied(_))
    ));
    let mut heard = Vec::new();
    let copies = engine
        .replicate_request(&Actor::System, id, 1_100, |n| heard.push(n))
        .await
        .unwrap();
    assert_eq!(heard, vec![500, 1_000, 1_100], "progress after each commit");
    assert_eq!(copies.len(), 1_100);
    let first = engine.request(dk, copies[0]).await.unwrap().0;
    let last = engine.request(dk, copies[1_099]).await.unwrap().0;
    let original = engine.request(dk, id).await.unwrap().0;
    assert_eq!(first.case.request, original.case.request);
    // The copies take one contiguous range of reference numbers after the original's.
    assert!(first.case.reference.number() > original.case.reference.number());
    assert_eq!(
        last.case.reference.number(),
        first.case.reference.number() + 1_099
    );
    assert_eq!(
        engine.request_timeline(fr, copies[7]).await.unwrap().len(),
        engine.request_timeline(fr, id).await.unwrap().len()
    );
    let query = InboxQuery {
        stage: Some(Stage::Closed),
        ..InboxQuery::default()
    };
    let mut page = PageRequest::first(100).unwrap();
    let mut closed = 0;
    loop {
        let got = engine.inbox(dk, &query, page.clone()).await.unwrap();
        closed += got.items.len();
        match got.next {
            Some(cursor) => page = PageRequest::first(100).unwrap().after(cursor),
            None => break,
        }
    }
    assert_eq!(closed, 1_101);

    // Documents and indexes agree; a lost index entry and a stray one are both found.
    let report = engine
        .check_request_integrity(&Actor::System)
        .await
        .unwrap();
    assert!(report.is_consistent(), "{report:?}");
    assert_eq!(report.cases, 1_101);
    assert!(report.index_entries >= 2 * 1_101, "{report:?}");
    assert!(matches!(
        engine.check_request_integrity(dk).await,
        Err(EngineError::Denied(_))
    ));
    let inbox_entry = engine
        .store()
        .scan(&Scan::prefix(&[crate::keys::Space::Inbox as u8], 1))
        .await
        .unwrap()
        .entries
        .remove(0)
        .key;
    let stray = crate::keys::due(
        day("2027-01-01").date_naive(),
        Some(crate::IdGenerator::seeded(7).case(day("2026-01-01"))),
    );
    let mut tamper = WriteBatch::new();
    tamper
        .delete(inbox_entry.clone())
        .put(stray.clone(), Vec::new());
    store.commit(tamper).await.unwrap();
    let report = engine
        .check_request_integrity(&Actor::System)
        .await
        .unwrap();
    assert_eq!(report.problem_count, 2, "{report:?}");
    assert!(report.problems[0].contains("missing"), "{report:?}");
    assert!(
        report.problems[1].contains("belongs to no request"),
        "{report:?}"
    );
    let mut repair = WriteBatch::new();
    repair.put(inbox_entry, Vec::new()).delete(stray);
    store.commit(repair).await.unwrap();
    assert!(
        engine
            .check_request_integrity(&Actor::System)
            .await
            .unwrap()
            .is_consistent()
    );
    assert_eq!(
        engine
            .find_data_subject(dk, &["marie".into()])
            .await
            .unwrap()
            .len(),
        1_101
    );

    // Six months after closure every copy is blocked, in bounded, grouped steps, once.
    let mut blocked = 0;
    loop {
        let n = engine.tick(day("2027-05-22"), 400).await.unwrap().blocked;
        if n == 0 {
            break;
        }
        assert!(n <= 400);
        blocked += n;
    }
    assert_eq!(blocked, 1_101);
    for c in [id, copies[0], copies[600], copies[1_099]] {
        assert!(
            engine
                .request(&Actor::System, c)
                .await
                .unwrap()
                .0
                .case
                .request
                .is_blocked()
        );
    }
    assert!(
        engine
            .find_data_subject(dk, &["marie".into()])
            .await
            .unwrap()
            .is_empty()
    );
}

const ALERT_AREA: &str = "id = \"pq\"\n[name]\nen = \"Qualifications\"\n[[procedure]]\nid = \"pq-alert\"\nkind = \"alert\"\nquestion_set = \"pq-alert\"\noutgoing_validation = true\n[procedure.name]\nen = \"Restriction alert\"\n";
const ALERT_QS: &str = "id = \"pq-alert\"\nversion = 1\n[title]\nen = \"Alert\"\n[[group]]\nid = \"g\"\n[group.title]\nen = \"G\"\n[[group.question]]\nid = \"professional\"\ntype = \"free-text\"\nrequired = \"to-send\"\npersonal_data = true\n[group.question.label]\nen = \"Name\"\n[[group.question]]\nid = \"scope\"\ntype = \"single-choice\"\nrequired = \"to-send\"\nsummary = true\n[group.question.label]\nen = \"Scope\"\n[[group.question.option]]\nid = \"prohibition\"\n[group.question.option.label]\nen = \"Prohibition\"\n[[group.question.option]]\nid = \"restriction\"\n[group.question.option.label]\nen = \"Restriction\"\n";

/// Registers an authority of `participant` competent in `area` with access to
/// `procedure`, and one user of it holding `right` everywhere; returns the user as an actor
/// and the authority's id.
async fn member(
    engine: &crate::Engine,
    participant: crate::Participant,
    name: String,
    area: &str,
    procedure: &str,
    right: crate::catalogue::Right,
) -> (crate::Actor, crate::AuthorityId) {
    use crate::{
        Actor, Competence, Grant, GrantScope, Language, LocalisedText, NewAuthority, NewUser,
    };
    let mut n = NewAuthority::new(
        participant,
        LocalisedText::new(Language::English, name).unwrap(),
    );
    n.competences = vec![Competence {
        area: area.parse().unwrap(),
        keywords: vec![],
    }];
    n.confirmed_not_duplicate = true;
    let a = engine.register_authority(&Actor::System, n).await.unwrap();
    engine
        .grant_procedure(&Actor::System, a.id(), &procedure.parse().unwrap())
        .await
        .unwrap();
    let u = engine
        .create_user(
            &Actor::System,
            a.id(),
            NewUser {
                name: "User".into(),
                email: "u@x.eu".parse().unwrap(),
                language: Language::English,
            },
        )
        .await
        .unwrap();
    engine
        .set_grants(
            &Actor::System,
            u.id(),
            vec![Grant::new(right, GrantScope::Everything)],
        )
        .await
        .unwrap();
    (engine.actor_for(u.id()).await.unwrap(), a.id())
}

/// One recipient country of an [`AlertWorld`].
pub struct AlertCountry {
    /// The user of its incoming-alert-coordinator authority.
    pub coordinator: crate::Actor,
    /// Its handling authorities, one user each (incoming alert handler).
    pub handlers: Vec<(crate::Actor, crate::AuthorityId)>,
}

/// A world for alerts, built by [`alert_world_with`].
pub struct AlertWorld {
    /// The engine, with the `pq-alert` procedure published.
    pub engine: crate::Engine,
    /// A Danish outgoing alert handler.
    pub sender: crate::Actor,
    /// A Danish outgoing alert coordinator.
    pub outgoing: crate::Actor,
    /// The recipient countries, in the order given.
    pub countries: Vec<AlertCountry>,
}

/// A world for alerts on `store`: the `pq-alert` procedure (with outgoing validation, a
/// personal-data `professional` question and a `summary` `scope` choice), a Danish sender
/// and outgoing coordinator, and in each of `countries` an incoming-coordinator authority
/// and `handlers` handling authorities, each with one user. For scenarios, property tests
/// and benches.
pub async fn alert_world_with(
    store: Arc<dyn Store>,
    countries: &[crate::Country],
    handlers: usize,
) -> AlertWorld {
    use crate::catalogue::{Catalogue, CatalogueSource, Right};
    use crate::{Actor, Country};
    let engine = engine_on(store);
    let sources = [
        CatalogueSource::new("areas/pq.toml", ALERT_AREA),
        CatalogueSource::new("question-sets/pq-alert.toml", ALERT_QS),
    ];
    engine
        .publish_catalogue(&Actor::System, Catalogue::load(&sources).unwrap())
        .unwrap();
    let make = |country: Country, name: String, right: Right| {
        member(&engine, country.into(), name, "pq", "pq-alert", right)
    };
    let (sender, _) = make(
        Country::Denmark,
        "DK sender".into(),
        Right::OutgoingAlertHandler,
    )
    .await;
    let (outgoing, _) = make(
        Country::Denmark,
        "DK coordinator".into(),
        Right::OutgoingAlertCoordinator,
    )
    .await;
    let mut recipients = Vec::new();
    for c in countries {
        let (coordinator, coordinator_authority) = make(
            *c,
            format!("{c} coordinator"),
            Right::IncomingAlertCoordinator,
        )
        .await;
        // The country's national coordinator, whose users coordinate incoming alerts.
        engine
            .appoint_coordinator(
                &Actor::System,
                coordinator_authority,
                Some(crate::CoordinatorRole::National),
            )
            .await
            .unwrap();
        let mut hs = Vec::new();
        for i in 0..handlers {
            hs.push(make(*c, format!("{c} handler {i}"), Right::IncomingAlertHandler).await);
        }
        recipients.push(AlertCountry {
            coordinator,
            handlers: hs,
        });
    }
    AlertWorld {
        engine,
        sender,
        outgoing,
        countries: recipients,
    }
}

/// [`alert_world_with`] with one handler per country, as (engine, sender, outgoing
/// coordinator, per country (coordinator, handler, handler's authority)).
#[allow(clippy::type_complexity)]
async fn alert_world(
    store: Arc<dyn Store>,
    countries: &[crate::Country],
) -> (
    crate::Engine,
    crate::Actor,
    crate::Actor,
    Vec<(crate::Actor, crate::Actor, crate::AuthorityId)>,
) {
    let w = alert_world_with(store, countries, 1).await;
    let mut out = Vec::new();
    for c in w.countries {
        let mut hs = c.handlers.into_iter();
        if let Some((handler, authority)) = hs.next() {
            out.push((c.coordinator, handler, authority));
        }
    }
    (w.engine, w.sender, w.outgoing, out)
}

/// An alert from Denmark to five countries: validation (returned once, then approved),
/// broadcast with one country's standing handler reached in the same commit, manual
/// distribution, acknowledgement, added information, rectification, a proposed and a
/// real closure; incoming coordinators see the restricted summary only, countries outside
/// the broadcast nothing. A second alert is withdrawn. Identical on every backend.
pub async fn engine_alerts(store: Arc<dyn Store>) {
    use crate::alert::{AlertCommand as C, AlertEvent, AlertStage, AlertVisibility};
    use crate::catalogue::{AnswerValue, Answers};
    use crate::{Actor, AlertBox, AlertNetwork, Country, EngineError, PageRequest, Participant};
    let countries = [
        Country::France,
        Country::Germany,
        Country::Belgium,
        Country::Italy,
        Country::Sweden,
        Country::Austria,
    ];
    let (engine, sender, outgoing, r) = alert_world(Arc::clone(&store), &countries).await;
    let proc_ = "pq-alert".parse().unwrap();
    let dk: Participant = Country::Denmark.into();
    // Denmark validates outgoing alerts; France has a standing handler.
    assert!(matches!(
        engine
            .set_alert_network(&r[0].0, dk, &proc_, AlertNetwork::default())
            .await,
        Err(EngineError::Denied(_))
    ));
    engine
        .set_alert_network(
            &Actor::System,
            dk,
            &proc_,
            AlertNetwork {
                validates_outgoing: true,
                handlers: Default::default(),
            },
        )
        .await
        .unwrap();
    assert!(
        engine
            .set_alert_network(
                &r[0].0,
                Country::France.into(),
                &proc_,
                AlertNetwork {
                    validates_outgoing: false,
                    handlers: [r[1].2].into_iter().collect(),
                },
            )
            .await
            .is_err(),
        "a German authority cannot handle French alerts"
    );
    engine
        .set_alert_network(
            &r[0].0,
            Country::France.into(),
            &proc_,
            AlertNetwork {
                validates_outgoing: false,
                handlers: [r[0].2].into_iter().collect(),
            },
        )
        .await
        .unwrap();

    let id = engine.create_alert(&sender, &proc_).await.unwrap().case.id;
    assert!(matches!(
        engine.create_alert(&r[1].1, &proc_).await,
        Err(EngineError::Denied(_))
    ));
    let mut answers = Answers::new();
    answers.set(
        "professional".parse().unwrap(),
        AnswerValue::Text("Dr Qzx Example".into()),
    );
    answers.set(
        "scope".parse().unwrap(),
        AnswerValue::Choice("prohibition".parse().unwrap()),
    );
    engine
        .act_on_alert(&sender, id, C::SaveDraft { answers }, None)
        .await
        .unwrap();
    let five: std::collections::BTreeSet<Participant> = countries[..5]
        .iter()
        .map(|c| Participant::from(*c))
        .collect();
    let submit = || C::Submit {
        recipients: five.clone(),
    };
    assert!(
        engine
            .act_on_alert(
                &sender,
                id,
                C::Submit {
                    recipients: [dk].into_iter().collect()
                },
                None
            )
            .await
            .is_err(),
        "not to its own country"
    );
    let (view, _) = engine
        .act_on_alert(&sender, id, submit(), None)
        .await
        .unwrap();
    assert_eq!(
        view.case.alert.state().stage(),
        AlertStage::PendingValidation
    );
    assert!(matches!(
        engine.alert(&r[0].0, id).await,
        Err(EngineError::NotFound { .. })
    ));
    let queue = engine
        .alerts(
            &outgoing,
            AlertBox::Validation,
            None,
            PageRequest::first(10).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(queue.items.len(), 1);
    assert_eq!(queue.items[0].visibility, AlertVisibility::Full);
    assert!(
        engine
            .act_on_alert(&sender, id, C::Approve, None)
            .await
            .is_err()
    );
    engine
        .act_on_alert(
            &outgoing,
            id,
            C::Return {
                comment: "name the decision".into(),
            },
            None,
        )
        .await
        .unwrap();
    engine
        .act_on_alert(&sender, id, submit(), None)
        .await
        .unwrap();
    let (view, _) = engine
        .act_on_alert(&outgoing, id, C::Approve, None)
        .await
        .unwrap();
    assert_eq!(view.case.alert.state().stage(), AlertStage::Broadcast);
    assert!(view.case.alert.validated());
    // France's standing handler got it in the broadcast's own commit.
    let fr_handling = engine
        .alerts(
            &r[0].1,
            AlertBox::Handling,
            None,
            PageRequest::first(10).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(fr_handling.items.len(), 1);
    let timeline = engine.alert_timeline(&sender, id).await.unwrap();
    assert!(matches!(
        timeline.last().map(|e| &e.event),
        Some(AlertEvent::Distributed {
            automatic: true,
            ..
        })
    ));

    // Incoming coordinators: the restricted summary; outside the broadcast: nothing.
    for (coord, _, _) in &r[..5] {
        let incoming = engine
            .alerts(
                coord,
                AlertBox::Incoming,
                None,
                PageRequest::first(10).unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(incoming.items.len(), 1);
        let (seen, _) = engine.alert(coord, id).await.unwrap();
        assert_eq!(seen.visibility, AlertVisibility::Summary);
        assert!(
            seen.case
                .alert
                .answers()
                .get(&"professional".parse().unwrap())
                .is_none()
        );
        assert!(
            seen.case
                .alert
                .answers()
                .get(&"scope".parse().unwrap())
                .is_some()
        );
    }
    for actor in [&r[5].0, &r[5].1, &r[1].1] {
        assert!(matches!(
            engine.alert(actor, id).await,
            Err(EngineError::NotFound { .. })
        ));
    }
    // Germany distributes by hand; its handler sees all, acknowledges, adds information.
    assert!(
        engine
            .act_on_alert(
                &r[0].0,
                id,
                C::Distribute {
                    to: [r[1].2].into_iter().collect()
                },
                None
            )
            .await
            .is_err(),
        "France cannot give it to a German authority"
    );
    engine
        .act_on_alert(
            &r[1].0,
            id,
            C::Distribute {
                to: [r[1].2].into_iter().collect(),
            },
            None,
        )
        .await
        .unwrap();
    let (seen, _) = engine.alert(&r[1].1, id).await.unwrap();
    assert_eq!(seen.visibility, AlertVisibility::Full);
    assert!(
        seen.case
            .alert
            .answers()
            .get(&"professional".parse().unwrap())
            .is_some()
    );
    engine
        .act_on_alert(&r[1].1, id, C::Acknowledge, None)
        .await
        .unwrap();
    assert!(
        engine
            .act_on_alert(&r[1].1, id, C::Acknowledge, None)
            .await
            .is_err()
    );
    engine
        .act_on_alert(&r[0].1, id, C::Acknowledge, None)
        .await
        .unwrap();
    engine
        .act_on_alert(
            &r[1].1,
            id,
            C::AddInformation {
                text: "Qzx also practised in Munich".into(),
            },
            None,
        )
        .await
        .unwrap();
    let summary = format!("{:?}", engine.alert_timeline(&r[2].0, id).await.unwrap());
    assert!(!summary.contains("Qzx"), "{summary}");
    assert!(format!("{:?}", engine.alert_timeline(&r[1].1, id).await.unwrap()).contains("Munich"));
    let mut fix = Answers::new();
    fix.set(
        "scope".parse().unwrap(),
        AnswerValue::Choice("restriction".parse().unwrap()),
    );
    assert!(
        engine
            .act_on_alert(
                &r[1].1,
                id,
                C::Rectify {
                    answers: fix.clone(),
                    reason: "x".into()
                },
                None
            )
            .await
            .is_err()
    );
    engine
        .act_on_alert(
            &sender,
            id,
            C::Rectify {
                answers: fix,
                reason: "the decision changed".into(),
            },
            None,
        )
        .await
        .unwrap();
    let (view, _) = engine
        .act_on_alert(
            &r[1].1,
            id,
            C::ProposeClosure {
                reason: "the prohibition expired".into(),
            },
            None,
        )
        .await
        .unwrap();
    assert!(view.case.alert.closure_proposed());
    assert!(
        engine
            .act_on_alert(
                &r[1].1,
                id,
                C::Close {
                    reason: "over".into()
                },
                None
            )
            .await
            .is_err()
    );
    let (view, _) = engine
        .act_on_alert(
            &sender,
            id,
            C::Close {
                reason: "the risk is over".into(),
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(view.case.alert.state().stage(), AlertStage::Closed);
    assert_eq!(view.case.alert.acknowledged().len(), 2);
    assert!(
        engine
            .act_on_alert(
                &sender,
                id,
                C::AddInformation {
                    text: "late".into()
                },
                None
            )
            .await
            .is_err()
    );
    let closed = engine
        .alerts(
            &sender,
            AlertBox::Sent,
            Some(AlertStage::Closed),
            PageRequest::first(10).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(closed.items.len(), 1);

    // A second alert is withdrawn after broadcast.
    let second = engine.create_alert(&sender, &proc_).await.unwrap().case.id;
    let mut answers = Answers::new();
    answers.set(
        "professional".parse().unwrap(),
        AnswerValue::Text("Someone".into()),
    );
    answers.set(
        "scope".parse().unwrap(),
        AnswerValue::Choice("restriction".parse().unwrap()),
    );
    engine
        .act_on_alert(&sender, second, C::SaveDraft { answers }, None)
        .await
        .unwrap();
    engine
        .act_on_alert(
            &sender,
            second,
            C::Submit {
                recipients: [Participant::from(Country::France)].into_iter().collect(),
            },
            None,
        )
        .await
        .unwrap();
    engine
        .act_on_alert(&outgoing, second, C::Approve, None)
        .await
        .unwrap();
    let (view, _) = engine
        .act_on_alert(
            &sender,
            second,
            C::Withdraw {
                reason: "sent in error".into(),
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(view.case.alert.state().stage(), AlertStage::Withdrawn);
    let (seen, _) = engine.alert(&r[0].1, second).await.unwrap();
    assert_eq!(
        seen.case.alert.state().stage(),
        AlertStage::Withdrawn,
        "handlers learn it was withdrawn"
    );
    // A third is rejected by the coordinator and never reaches anyone.
    let third = engine.create_alert(&sender, &proc_).await.unwrap().case.id;
    let mut answers = Answers::new();
    answers.set(
        "professional".parse().unwrap(),
        AnswerValue::Text("Other".into()),
    );
    answers.set(
        "scope".parse().unwrap(),
        AnswerValue::Choice("restriction".parse().unwrap()),
    );
    engine
        .act_on_alert(&sender, third, C::SaveDraft { answers }, None)
        .await
        .unwrap();
    engine
        .act_on_alert(&sender, third, submit(), None)
        .await
        .unwrap();
    engine
        .act_on_alert(
            &outgoing,
            third,
            C::Reject {
                reason: "not serious enough".into(),
            },
            None,
        )
        .await
        .unwrap();
    assert!(matches!(
        engine.alert(&r[0].1, third).await,
        Err(EngineError::NotFound { .. })
    ));

    // Retention, as for requests: the three ended alerts are blocked 6 months after they
    // ended and deleted 3 years after, each once; blocked data leave normal reads (the
    // operator keeps them as proof); deleted data leave the store.
    let day =
        |d: &str| -> chrono::DateTime<chrono::Utc> { format!("{d}T09:00:00Z").parse().unwrap() };
    assert_eq!(
        engine.tick(day("2027-05-21"), 100).await.unwrap().blocked,
        0
    );
    assert_eq!(
        engine.tick(day("2027-05-22"), 100).await.unwrap().blocked,
        3
    );
    assert_eq!(
        engine.tick(day("2027-05-22"), 100).await.unwrap().blocked,
        0
    );
    let (view, _) = engine.alert(&r[0].1, id).await.unwrap();
    assert!(view.case.alert.is_blocked());
    assert_eq!(
        view.case
            .alert
            .answers()
            .iter()
            .map(|(q, _)| q.as_str())
            .collect::<Vec<_>>(),
        ["scope"],
        "no personal data once blocked"
    );
    let shown = format!("{:?}", engine.alert_timeline(&r[0].1, id).await.unwrap());
    assert!(!shown.contains("Qzx") && shown.contains("(blocked)"));
    let (proof, _) = engine.alert(&Actor::System, id).await.unwrap();
    assert_eq!(
        proof.case.alert.answers().len(),
        2,
        "the operator keeps the proof"
    );
    assert_eq!(
        engine.tick(day("2029-11-21"), 100).await.unwrap().blocked,
        0
    );
    assert_eq!(
        engine.tick(day("2029-11-22"), 100).await.unwrap().blocked,
        3
    );
    assert_eq!(
        engine.tick(day("2029-11-22"), 100).await.unwrap().blocked,
        0
    );
    let (proof, _) = engine.alert(&Actor::System, id).await.unwrap();
    assert!(proof.case.alert.is_erased());
    assert_eq!(proof.case.alert.answers().len(), 1);
    let timeline = engine.alert_timeline(&Actor::System, id).await.unwrap();
    assert!(matches!(
        timeline.last().map(|e| &e.event),
        Some(AlertEvent::PersonalDataDeleted)
    ));
    let everything = store.scan(&Scan::all(100_000)).await.unwrap();
    for e in &everything.entries {
        for marker in [&b"Qzx"[..], b"Someone", b"Other"] {
            assert!(
                !e.value.windows(marker.len()).any(|x| x == marker),
                "a value still holds personal data at {:?}",
                crate::store::KeyDisplay::from(e.key.as_slice())
            );
        }
    }

    // Distributions were announced to the handling authorities, in the same commits.
    let recorder = RecordingNotifier::default();
    engine
        .dispatch(&recorder, 1_000, chrono::Duration::minutes(5))
        .await
        .unwrap();
    let told = recorder.take();
    let count = |topic| told.iter().filter(|m| m.topic == topic).count();
    assert!(count(crate::outbox::Topic::AlertDistributed) >= 2);
    // Each broadcast told the incoming coordinators of its recipient countries: five
    // for the first alert, and those of the withdrawn one.
    assert!(count(crate::outbox::Topic::AlertReceived) >= 5);
}

/// Former users' own data: blocked in normal reads from the day they stop being users,
/// deleted 3 years later, once; their id stays so past actions remain attributable.
/// Identical on every backend.
pub async fn engine_former_users(store: Arc<dyn Store>) {
    use crate::catalogue::Right;
    use crate::{Actor, Grant, GrantScope, Language, NewUser};
    let day =
        |d: &str| -> chrono::DateTime<chrono::Utc> { format!("{d}T09:00:00Z").parse().unwrap() };
    let w = request_world_with(Arc::clone(&store), REQUEST_AREA, REQUEST_QS, false).await;
    let engine = &w.engine;
    let fr = w.ids[1];
    let admin = engine
        .create_user(
            &Actor::System,
            fr,
            NewUser {
                name: "Admin".into(),
                email: "admin@x.fr".parse().unwrap(),
                language: Language::French,
            },
        )
        .await
        .unwrap();
    engine
        .set_grants(
            &Actor::System,
            admin.id(),
            vec![Grant::new(Right::Administrator, GrantScope::Everything)],
        )
        .await
        .unwrap();
    let admin = engine.actor_for(admin.id()).await.unwrap();
    let leaver = engine
        .create_user(
            &admin,
            fr,
            NewUser {
                name: "Zyxw-Former-User".into(),
                email: "zyxw.former@x.fr".parse().unwrap(),
                language: Language::French,
            },
        )
        .await
        .unwrap();
    engine.disable_user(&admin, leaver.id()).await.unwrap();
    let shown = engine.user(&admin, leaver.id()).await.unwrap();
    assert_eq!(shown.name(), "(blocked former user)");
    assert!(!shown.email().as_str().contains("zyxw"));
    let listed = engine
        .users_of(&admin, fr, crate::PageRequest::default())
        .await
        .unwrap();
    assert!(
        !format!("{listed:?}").contains("Zyxw-Former-User"),
        "blocked in listings too"
    );
    assert_eq!(
        engine
            .user(&Actor::System, leaver.id())
            .await
            .unwrap()
            .name(),
        "Zyxw-Former-User",
        "kept as proof"
    );
    assert_eq!(
        engine
            .tick(day("2029-11-21"), 100)
            .await
            .unwrap()
            .former_users_erased,
        0
    );
    assert_eq!(
        engine
            .tick(day("2029-11-22"), 100)
            .await
            .unwrap()
            .former_users_erased,
        1,
        "deleted 3 years later"
    );
    assert_eq!(
        engine
            .tick(day("2029-11-22"), 100)
            .await
            .unwrap()
            .former_users_erased,
        0,
        "once"
    );
    let erased = engine.user(&Actor::System, leaver.id()).await.unwrap();
    assert_eq!(
        (erased.id(), erased.name()),
        (leaver.id(), "(deleted former user)")
    );
    let everything = store.scan(&Scan::all(100_000)).await.unwrap();
    assert!(
        everything
            .entries
            .iter()
            .all(|e| !e.value.windows(16).any(|x| x == b"Zyxw-Former-User"))
    );
    assert!(
        everything
            .entries
            .iter()
            .all(|e| !e.value.windows(11).any(|x| x == b"zyxw.former"))
    );
}

const NOTIFY_AREA: &str = "id = \"pq\"\n[name]\nen = \"Qualifications\"\n[[procedure]]\nid = \"diplomas\"\nkind = \"notification\"\nquestion_set = \"diplomas\"\nto_commission = true\nto_member_states = true\n[procedure.name]\nen = \"New diploma titles\"\n";
const NOTIFY_QS: &str = "id = \"diplomas\"\nversion = 1\n[title]\nen = \"New diploma\"\n[[group]]\nid = \"g\"\n[group.title]\nen = \"G\"\n[[group.question]]\nid = \"title\"\ntype = \"free-text\"\nrequired = \"to-send\"\n[group.question.label]\nen = \"Diploma title\"\n[[group.question]]\nid = \"contact\"\ntype = \"free-text\"\npersonal_data = true\n[group.question.label]\nen = \"Contact person\"\n";

/// A world for notifications, built by [`notification_world`].
pub struct NotificationWorld {
    /// The engine, with the `diplomas` procedure (to the Commission and member states;
    /// a `title` and a personal-data `contact` question) published.
    pub engine: crate::Engine,
    /// A Danish notification handler.
    pub sender: crate::Actor,
    /// Notification handlers of France, Germany and the Commission, in that order.
    pub recipients: Vec<(crate::Participant, crate::Actor)>,
    /// An Italian notification handler.
    pub outsider: crate::Actor,
    /// A French user without the notification-handler right.
    pub without_right: crate::Actor,
}

/// Builds a [`NotificationWorld`] on `store`.
pub async fn notification_world(store: Arc<dyn Store>) -> NotificationWorld {
    use crate::catalogue::{Catalogue, CatalogueSource, Right};
    use crate::{Actor, Country, Participant};
    let engine = engine_on(store);
    let sources = [
        CatalogueSource::new("areas/pq.toml", NOTIFY_AREA),
        CatalogueSource::new("question-sets/diplomas.toml", NOTIFY_QS),
    ];
    engine
        .publish_catalogue(&Actor::System, Catalogue::load(&sources).unwrap())
        .unwrap();
    let who = |p: Participant, name: &str, right| {
        member(&engine, p, name.into(), "pq", "diplomas", right)
    };
    let h = Right::NotificationHandler;
    let (sender, _) = who(Country::Denmark.into(), "DK ministry", h).await;
    let mut recipients = Vec::new();
    for (p, name) in [
        (Participant::from(Country::France), "FR ministry"),
        (Country::Germany.into(), "DE ministry"),
        (Participant::Commission, "DG GROW"),
    ] {
        recipients.push((p, who(p, name, h).await.0));
    }
    let (outsider, _) = who(Country::Italy.into(), "IT ministry", h).await;
    let (without_right, _) = who(Country::France.into(), "FR office", Right::RequestHandler).await;
    NotificationWorld {
        engine,
        sender,
        recipients,
        outsider,
        without_right,
    }
}

/// A notification from Denmark to the Commission, France and Germany: the draft is the
/// sender's alone; once sent, each recipient's notification handlers read it and comment,
/// Italy (not a recipient) and users without the right see nothing; the sender closes it
/// and comments stop. Boxes, timeline, If-Match and audit along the way.
pub async fn engine_notifications(store: Arc<dyn Store>) {
    use crate::catalogue::{AnswerValue, Answers};
    use crate::notification::{NotificationCommand as C, NotificationEvent, NotificationStage};
    use crate::{Actor, Country, EngineError, NotificationBox, PageRequest, Participant};
    let NotificationWorld {
        engine,
        sender: dk,
        recipients,
        outsider: it,
        without_right: fr_viewer,
    } = notification_world(Arc::clone(&store)).await;
    let [fr, de, ec] = [&recipients[0].1, &recipients[1].1, &recipients[2].1].map(Clone::clone);
    let procedure = "diplomas".parse().unwrap();
    assert!(matches!(
        engine.create_notification(&fr_viewer, &procedure).await,
        Err(EngineError::Denied(_))
    ));
    assert!(matches!(
        engine
            .create_notification(&dk, &"no-such".parse().unwrap())
            .await,
        Err(EngineError::NotFound { .. })
    ));
    let id = engine
        .create_notification(&dk, &procedure)
        .await
        .unwrap()
        .id;
    let page = || PageRequest::first(10).unwrap();

    // The draft is the sender's alone.
    for other in [&fr, &ec, &it] {
        assert!(matches!(
            engine.notification(other, id).await,
            Err(EngineError::NotFound { .. })
        ));
    }
    let mut answers = Answers::new();
    answers.set(
        "title".parse().unwrap(),
        AnswerValue::Text("Sygeplejerske (professionsbachelor)".into()),
    );
    answers.set(
        "contact".parse().unwrap(),
        AnswerValue::Text("Karen Holm".into()),
    );
    let (_, v) = engine
        .act_on_notification(&dk, id, C::SaveDraft { answers }, None)
        .await
        .unwrap();
    // Refusals change nothing: the sender's own country, a stale version.
    assert!(matches!(
        engine
            .act_on_notification(
                &dk,
                id,
                C::Send {
                    countries: [Country::Denmark].into_iter().collect()
                },
                None
            )
            .await,
        Err(EngineError::Transition(_))
    ));
    let send = C::Send {
        countries: [Country::France, Country::Germany].into_iter().collect(),
    };
    let (sent, v2) = engine
        .act_on_notification(&dk, id, send.clone(), Some(v))
        .await
        .unwrap();
    assert_eq!(sent.notification.state().stage(), NotificationStage::Sent);
    assert_eq!(
        sent.notification
            .recipients()
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        {
            let mut r: Vec<Participant> = vec![
                Participant::Commission,
                Country::France.into(),
                Country::Germany.into(),
            ];
            r.sort();
            r
        }
    );
    assert!(matches!(
        engine.act_on_notification(&dk, id, send, Some(v)).await,
        Err(EngineError::VersionMismatch { .. })
    ));
    assert!(v2 > v);

    // Recipients read it and comment; outsiders see nothing, in reads, timelines and boxes.
    for r in [&fr, &de, &ec] {
        let (n, _) = engine.notification(r, id).await.unwrap();
        assert_eq!(n.notification.answers().len(), 2);
        let got = engine
            .notifications(r, NotificationBox::Received, None, page())
            .await
            .unwrap();
        assert_eq!(got.items.len(), 1);
    }
    for outsider in [&it, &fr_viewer] {
        assert!(matches!(
            engine.notification(outsider, id).await,
            Err(EngineError::NotFound { .. })
        ));
        assert!(matches!(
            engine.notification_timeline(outsider, id).await,
            Err(EngineError::NotFound { .. })
        ));
        assert!(matches!(
            engine
                .act_on_notification(outsider, id, C::Comment { text: "x".into() }, None)
                .await,
            Err(EngineError::NotFound { .. })
        ));
        assert!(
            engine
                .notifications(outsider, NotificationBox::Received, None, page())
                .await
                .unwrap()
                .items
                .is_empty()
        );
    }
    engine
        .act_on_notification(
            &fr,
            id,
            C::Comment {
                text: "Added to our list".into(),
            },
            None,
        )
        .await
        .unwrap();
    engine
        .act_on_notification(
            &ec,
            id,
            C::Comment {
                text: "Please give the ISCED level".into(),
            },
            None,
        )
        .await
        .unwrap();
    engine
        .act_on_notification(
            &dk,
            id,
            C::Comment {
                text: "ISCED 6".into(),
            },
            None,
        )
        .await
        .unwrap();
    assert!(matches!(
        engine
            .act_on_notification(&fr, id, C::Close { reason: "x".into() }, None)
            .await,
        Err(EngineError::Transition(_))
    ));
    let (closed, _) = engine
        .act_on_notification(
            &dk,
            id,
            C::Close {
                reason: "Listed".into(),
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        closed.notification.state().stage(),
        NotificationStage::Closed
    );
    assert_eq!(closed.notification.comments(), 3);
    assert!(matches!(
        engine
            .act_on_notification(
                &de,
                id,
                C::Comment {
                    text: "late".into()
                },
                None
            )
            .await,
        Err(EngineError::Transition(_))
    ));
    let timeline = engine.notification_timeline(&de, id).await.unwrap();
    let kinds: Vec<&str> = timeline
        .iter()
        .map(|e| match &e.event {
            NotificationEvent::DraftSaved { .. } => "draft-saved",
            NotificationEvent::Sent { .. } => "sent",
            NotificationEvent::Commented { .. } => "commented",
            NotificationEvent::Closed { .. } => "closed",
            NotificationEvent::PersonalDataBlocked => "blocked",
            NotificationEvent::PersonalDataDeleted => "deleted",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "draft-saved",
            "sent",
            "commented",
            "commented",
            "commented",
            "closed"
        ]
    );
    assert_eq!(
        timeline.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=6).collect::<Vec<_>>()
    );
    let sent_box = engine
        .notifications(
            &dk,
            NotificationBox::Sent,
            Some(NotificationStage::Closed),
            page(),
        )
        .await
        .unwrap();
    assert_eq!(sent_box.items.len(), 1);
    assert!(
        engine
            .notifications(
                &dk,
                NotificationBox::Sent,
                Some(NotificationStage::Draft),
                page()
            )
            .await
            .unwrap()
            .items
            .is_empty()
    );
    // Every change and every read by a user is in the audit log.
    assert!(engine.tick(engine.now(), 1_000).await.unwrap().audit_sealed >= 12);
    assert!(engine.verify_audit(&Actor::System).await.unwrap().is_ok());

    // Retention: blocked 6 months after closure, deleted 3 years after, each once.
    let day =
        |d: &str| -> chrono::DateTime<chrono::Utc> { format!("{d}T09:00:00Z").parse().unwrap() };
    assert_eq!(
        engine.tick(day("2027-05-21"), 100).await.unwrap().blocked,
        0
    );
    assert_eq!(
        engine.tick(day("2027-05-22"), 100).await.unwrap().blocked,
        1
    );
    assert_eq!(
        engine.tick(day("2027-05-22"), 100).await.unwrap().blocked,
        0
    );
    let (n, _) = engine.notification(&fr, id).await.unwrap();
    assert!(n.notification.is_blocked());
    assert_eq!(
        n.notification.answers().len(),
        1,
        "the contact person is hidden"
    );
    let shown = format!("{:?}", engine.notification_timeline(&fr, id).await.unwrap());
    assert!(!shown.contains("Karen") && !shown.contains("ISCED level"));
    let (proof, _) = engine.notification(&Actor::System, id).await.unwrap();
    assert_eq!(proof.notification.answers().len(), 2);
    assert_eq!(
        engine.tick(day("2029-11-21"), 100).await.unwrap().blocked,
        0
    );
    assert_eq!(
        engine.tick(day("2029-11-22"), 100).await.unwrap().blocked,
        1
    );
    assert_eq!(
        engine.tick(day("2029-11-22"), 100).await.unwrap().blocked,
        0
    );
    let everything = store.scan(&Scan::all(100_000)).await.unwrap();
    for e in &everything.entries {
        for marker in [&b"Karen Holm"[..], b"ISCED level"] {
            assert!(
                !e.value.windows(marker.len()).any(|x| x == marker),
                "a value still holds personal data at {:?}",
                crate::store::KeyDisplay::from(e.key.as_slice())
            );
        }
    }
    // The non-personal skeleton stays: the title, the recipients, the timeline.
    let (kept, _) = engine.notification(&de, id).await.unwrap();
    assert_eq!(kept.notification.recipients().len(), 3);
    assert_eq!(kept.notification.answers().len(), 1);
    assert_eq!(
        engine.notification_timeline(&de, id).await.unwrap().len(),
        8
    );
}

const PUBLIC_AREA: &str = "id = \"pq\"\n[name]\nen = \"Qualifications\"\n[[procedure]]\nid = \"recognition\"\nkind = \"request\"\nquestion_set = \"recognition\"\nanswer_days = 30\nremind_unaccepted_after_days = 7\nescalate_overdue_after_days = 7\npublic_submission = true\n[procedure.name]\nen = \"Recognition of a qualification\"\nda = \"Anerkendelse af en kvalifikation\"\n[[procedure]]\nid = \"internal\"\nkind = \"request\"\nquestion_set = \"recognition\"\nanswer_days = 30\nremind_unaccepted_after_days = 7\nescalate_overdue_after_days = 7\n[procedure.name]\nen = \"Between authorities only\"\n";
const PUBLIC_QS: &str = "id = \"recognition\"\nversion = 1\n[title]\nen = \"Recognition\"\n[[group]]\nid = \"g\"\n[group.title]\nen = \"G\"\n[[group.question]]\nid = \"applicant\"\ntype = \"free-text\"\nrequired = \"to-send\"\npersonal_data = true\n[group.question.label]\nen = \"Your full name\"\nda = \"Dit fulde navn\"\n[[group.question]]\nid = \"profession\"\ntype = \"free-text\"\nrequired = \"to-send\"\n[group.question.label]\nen = \"Profession\"\nda = \"Erhverv\"\n[[group.question]]\nid = \"decision\"\nanswered_by = \"responder\"\ntype = \"free-text\"\nrequired = \"to-send\"\n[group.question.label]\nen = \"Decision\"\nda = \"Afgørelse\"\n";

/// A world for the public interface, built by [`submission_world`].
pub struct SubmissionWorld {
    /// The engine, with the `recognition` request procedure (open to public submissions;
    /// a personal-data `applicant`, a `profession`, and the authority's `decision`) and
    /// the `internal` one (not open) published.
    pub engine: crate::Engine,
    /// The French competent authority, with access to both procedures.
    pub authority: crate::AuthorityId,
    /// A request handler of it.
    pub handler: crate::Actor,
    /// A viewer of it.
    pub viewer: crate::Actor,
    /// A request handler of another French authority with the same procedure.
    pub other_handler: crate::Actor,
    /// The other authority.
    pub other_authority: crate::AuthorityId,
}

/// Builds a [`SubmissionWorld`] on `store`.
pub async fn submission_world(store: Arc<dyn Store>) -> SubmissionWorld {
    use crate::catalogue::{Catalogue, CatalogueSource, Right};
    use crate::{Actor, Country, Grant, GrantScope, Language, NewUser};
    let engine = engine_on(store);
    let sources = [
        CatalogueSource::new("areas/pq.toml", PUBLIC_AREA),
        CatalogueSource::new("question-sets/recognition.toml", PUBLIC_QS),
    ];
    engine
        .publish_catalogue(&Actor::System, Catalogue::load(&sources).unwrap())
        .unwrap();
    let (handler, authority) = member(
        &engine,
        Country::France.into(),
        "Centre ENIC-NARIC France".into(),
        "pq",
        "recognition",
        Right::RequestHandler,
    )
    .await;
    engine
        .grant_procedure(&Actor::System, authority, &"internal".parse().unwrap())
        .await
        .unwrap();
    let u = engine
        .create_user(
            &Actor::System,
            authority,
            NewUser {
                name: "Viewer".into(),
                email: "v@x.eu".parse().unwrap(),
                language: Language::French,
            },
        )
        .await
        .unwrap();
    engine
        .set_grants(
            &Actor::System,
            u.id(),
            vec![Grant::new(Right::Viewer, GrantScope::Everything)],
        )
        .await
        .unwrap();
    let viewer = engine.actor_for(u.id()).await.unwrap();
    let (other_handler, other_authority) = member(
        &engine,
        Country::France.into(),
        "Ordre des architectes".into(),
        "pq",
        "recognition",
        Right::RequestHandler,
    )
    .await;
    SubmissionWorld {
        engine,
        authority,
        handler,
        viewer,
        other_handler,
        other_authority,
    }
}

/// A public submission followed to its answer: a Portuguese nurse, without an account,
/// submits to the French authority in Danish and keeps the secret; the authority's
/// handler takes it and asks a question; the submitter sees the stage in Danish, replies;
/// the authority answers; the submitter reads the answer and asks for their data. Only
/// the secret opens it (wrong, unknown and other secrets get the same answer); other
/// authorities never see it; the viewer reads but cannot act. Retention blocks and then
/// deletes its personal data (no bytes left). Identical on every backend.
pub async fn engine_public_submission(store: Arc<dyn Store>) {
    use crate::catalogue::{AnswerValue, Answers};
    use crate::submission::{
        PublicEvent, SubmissionCommand as C, SubmissionSecret, SubmissionStage,
    };
    use crate::{Actor, EngineError, Language, MessageFrom, NewSubmission, PageRequest};
    let SubmissionWorld {
        engine,
        authority,
        handler,
        viewer,
        other_handler,
        other_authority,
    } = submission_world(Arc::clone(&store)).await;
    let mut answers = Answers::new();
    answers.set(
        "applicant".parse().unwrap(),
        AnswerValue::Text("Ana Pereira Sousa".into()),
    );
    answers.set(
        "profession".parse().unwrap(),
        AnswerValue::Text("Nurse".into()),
    );
    let new = |procedure: &str, to, answers: Answers| NewSubmission {
        procedure: procedure.parse().unwrap(),
        authority: to,
        language: Language::Danish,
        answers,
    };
    // Refused, and nothing written: a procedure not open to the public, an authority
    // without the procedure, incomplete answers.
    let mut mairie = crate::NewAuthority::new(
        crate::Participant::from(crate::Country::France),
        crate::LocalisedText::new(Language::French, "Mairie").unwrap(),
    );
    mairie.confirmed_not_duplicate = true;
    let elsewhere = engine
        .register_authority(&Actor::System, mairie)
        .await
        .unwrap()
        .id();
    let before = store.scan(&Scan::all(100_000)).await.unwrap().entries.len();
    assert!(matches!(
        engine
            .submit(new("internal", authority, answers.clone()))
            .await,
        Err(EngineError::NotFound { .. })
    ));
    assert!(matches!(
        engine
            .submit(new("recognition", elsewhere, answers.clone()))
            .await,
        Err(EngineError::Transition(_))
    ));
    assert!(matches!(
        engine
            .submit(new("recognition", authority, Answers::new()))
            .await,
        Err(EngineError::Transition(
            crate::workflow::TransitionError::Answers(_)
        ))
    ));
    assert_eq!(
        store.scan(&Scan::all(100_000)).await.unwrap().entries.len(),
        before
    );

    let receipt = engine
        .submit(new("recognition", authority, answers.clone()))
        .await
        .unwrap();
    let secret = receipt.secret.clone();
    assert_eq!(receipt.status.stage, SubmissionStage::Received);
    assert_eq!(receipt.status.stage_label, "Modtaget af myndigheden");
    assert_eq!(
        receipt.status.procedure_name,
        "Anerkendelse af en kvalifikation"
    );
    assert_eq!(receipt.status.authority_name, "Centre ENIC-NARIC France");
    assert_eq!(receipt.status.answers[0].label, "Dit fulde navn");
    // The secret is stored only as its hash.
    let everything = store.scan(&Scan::all(100_000)).await.unwrap();
    let exposed = secret.expose().as_bytes();
    assert!(everything.entries.iter().all(|e| {
        !e.value.windows(exposed.len()).any(|w| w == exposed)
            && !e.key.windows(exposed.len()).any(|w| w == exposed)
    }));

    // Only the secret opens it.
    let other = engine
        .submit(new("recognition", other_authority, answers.clone()))
        .await
        .unwrap();
    let unknown: SubmissionSecret = format!("imis_{}", "ab".repeat(32)).parse().unwrap();
    let refused = format!(
        "{:?}",
        engine.submission_status(&unknown, None).await.unwrap_err()
    );
    assert!(refused.contains("NotFound"));
    let (seen, _) = engine.submission_status(&other.secret, None).await.unwrap();
    assert_eq!(seen.reference, other.reference);
    assert!(matches!(
        engine
            .act_as_submitter(&unknown, C::Withdraw, None)
            .await
            .unwrap_err(),
        EngineError::NotFound { .. }
    ));
    assert!(matches!(
        engine.submission_data(&unknown).await.unwrap_err(),
        EngineError::NotFound { .. }
    ));
    assert_eq!(
        format!(
            "{:?}",
            engine
                .act_as_submitter(&unknown, C::Withdraw, None)
                .await
                .unwrap_err()
        ),
        refused
    );

    // The authority's side: its handler and viewer see it; the other authority does not.
    let page = || PageRequest::first(10).unwrap();
    let inbox = engine.submissions(&handler, None, page()).await.unwrap();
    assert_eq!(inbox.items.len(), 1);
    let id = inbox.items[0].id;
    assert_eq!(inbox.items[0].reference, receipt.reference);
    // Each authority's request handlers were told, in the submission's commit; viewers
    // were not; no personal data in the message.
    let recorder = RecordingNotifier::default();
    engine
        .dispatch(&recorder, 100, chrono::Duration::minutes(5))
        .await
        .unwrap();
    let told = recorder.take();
    assert_eq!(told.len(), 2);
    assert!(told.iter().all(|m| m.topic == crate::outbox::Topic::SubmissionReceived
        && !m.body.contains("Ana")));
    assert!(
        told.iter()
            .any(|m| m.link == format!("/v1/submissions/{id}"))
    );
    assert!(matches!(
        engine.submission(&other_handler, id).await,
        Err(EngineError::NotFound { .. })
    ));
    assert_eq!(
        engine
            .submissions(&other_handler, None, page())
            .await
            .unwrap()
            .items
            .iter()
            .map(|s| s.reference)
            .collect::<Vec<_>>(),
        [other.reference]
    );
    assert!(engine.submission(&viewer, id).await.is_ok());
    assert!(matches!(
        engine.act_on_submission(&viewer, id, C::Take, None).await,
        Err(EngineError::Denied(_))
    ));
    // The submitter cannot act for the authority, nor the authority for the submitter.
    assert!(matches!(
        engine
            .act_as_submitter(
                &secret,
                C::Answer {
                    answers: Answers::new()
                },
                None
            )
            .await,
        Err(EngineError::Transition(
            crate::workflow::TransitionError::WrongParty { .. }
        ))
    ));
    let (_, v) = engine
        .act_on_submission(&handler, id, C::Take, None)
        .await
        .unwrap();
    assert!(matches!(
        engine
            .act_on_submission(&handler, id, C::Withdraw, None)
            .await,
        Err(EngineError::Transition(_))
    ));
    // A stale version changes nothing.
    engine
        .act_on_submission(
            &handler,
            id,
            C::AskSubmitter {
                text: "In which year did you qualify?".into(),
            },
            Some(v),
        )
        .await
        .unwrap();
    assert!(matches!(
        engine
            .act_on_submission(&handler, id, C::Close { reason: "x".into() }, Some(v))
            .await,
        Err(EngineError::VersionMismatch { .. })
    ));

    // The submitter follows it in Danish (or another language on request) and replies.
    let (status, v) = engine.submission_status(&secret, None).await.unwrap();
    assert_eq!(status.stage, SubmissionStage::AwaitingSubmitter);
    assert_eq!(status.stage_label, "Afventer dit svar");
    assert!(status.your_turn);
    assert_eq!(status.messages.len(), 1);
    assert_eq!(status.messages[0].from, MessageFrom::Authority);
    let (german, _) = engine
        .submission_status(&secret, Some(Language::German))
        .await
        .unwrap();
    assert_eq!(german.stage_label, "Wartet auf Ihre Antwort");
    let (finnish, _) = engine
        .submission_status(&secret, Some(Language::Finnish))
        .await
        .unwrap();
    assert_eq!(
        (finnish.stage_label.as_str(), finnish.label_language),
        ("Waiting for your reply", Language::English)
    );
    let (status, _) = engine
        .act_as_submitter(
            &secret,
            C::Reply {
                text: "2019, Escola Superior de Enfermagem".into(),
            },
            Some(v),
        )
        .await
        .unwrap();
    assert_eq!(status.stage, SubmissionStage::InHandling);
    assert_eq!(status.messages.len(), 2);
    assert_eq!(status.messages[1].from, MessageFrom::You);

    // The authority answers; the submitter reads the answer with its label.
    let mut decision = Answers::new();
    decision.set(
        "decision".parse().unwrap(),
        AnswerValue::Text("Recognised without compensation measures".into()),
    );
    let (answered, _) = engine
        .act_on_submission(&handler, id, C::Answer { answers: decision }, None)
        .await
        .unwrap();
    assert_eq!(
        answered.submission.state().stage(),
        SubmissionStage::Answered
    );
    let (status, _) = engine.submission_status(&secret, None).await.unwrap();
    assert_eq!(status.stage_label, "Besvaret");
    assert_eq!(status.reply.len(), 1);
    assert_eq!(status.reply[0].label, "Afgørelse");
    assert!(!status.your_turn);
    assert!(matches!(
        engine.act_as_submitter(&secret, C::Withdraw, None).await,
        Err(EngineError::Transition(_))
    ));

    // Access to their data: everything, staff names removed; the authority sees that it
    // was asked.
    let export = engine.submission_data(&secret).await.unwrap();
    let kinds: Vec<_> = export
        .timeline
        .iter()
        .map(|e| match e.event {
            PublicEvent::Submitted { .. } => "submitted",
            PublicEvent::Taken => "taken",
            PublicEvent::QuestionAsked { .. } => "asked",
            PublicEvent::Replied { .. } => "replied",
            PublicEvent::Answered { .. } => "answered",
            PublicEvent::Closed { .. } => "closed",
            PublicEvent::Withdrawn => "withdrawn",
            PublicEvent::DataAccessGiven => "data-access",
            PublicEvent::PersonalDataBlocked => "blocked",
            PublicEvent::PersonalDataDeleted => "deleted",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "submitted",
            "taken",
            "asked",
            "replied",
            "answered",
            "data-access"
        ]
    );
    let json = serde_json::to_string(&export).unwrap();
    assert!(json.contains("Ana Pereira Sousa"));
    let handler_id = match &handler {
        Actor::User(p) => p.user().to_string(),
        _ => unreachable!(),
    };
    assert!(!json.contains(&handler_id), "staff are not named");
    let timeline = engine.submission_timeline(&handler, id).await.unwrap();
    assert_eq!(timeline.len(), 6);
    assert_eq!(timeline[5].actor, crate::case::ActorRef::Submitter);

    // Every act is audited, the submitter's too.
    assert!(engine.tick(engine.now(), 1_000).await.unwrap().audit_sealed >= 10);
    assert!(engine.verify_audit(&Actor::System).await.unwrap().is_ok());

    // Retention: blocked 6 months after the answer, deleted 3 years after, each once.
    let day =
        |d: &str| -> chrono::DateTime<chrono::Utc> { format!("{d}T09:00:00Z").parse().unwrap() };
    assert_eq!(
        engine.tick(day("2027-05-21"), 100).await.unwrap().blocked,
        0
    );
    assert_eq!(
        engine.tick(day("2027-05-22"), 100).await.unwrap().blocked,
        1
    );
    assert_eq!(
        engine.tick(day("2027-05-22"), 100).await.unwrap().blocked,
        0
    );
    let (blocked, _) = engine.submission(&handler, id).await.unwrap();
    assert!(blocked.submission.is_blocked());
    assert_eq!(blocked.submission.answers().len(), 1, "the name is hidden");
    let shown = format!(
        "{:?}",
        engine.submission_timeline(&handler, id).await.unwrap()
    );
    assert!(!shown.contains("Ana Pereira") && !shown.contains("Escola Superior"));
    let (status, _) = engine.submission_status(&secret, None).await.unwrap();
    assert!(status.personal_data_removed);
    assert!(!format!("{status:?}").contains("Ana Pereira"));
    assert_eq!(
        engine.tick(day("2029-11-22"), 100).await.unwrap().blocked,
        1
    );
    assert_eq!(
        engine.tick(day("2029-11-22"), 100).await.unwrap().blocked,
        0
    );
    let everything = store.scan(&Scan::all(100_000)).await.unwrap();
    let other_id = engine
        .submissions(&other_handler, None, page())
        .await
        .unwrap()
        .items[0]
        .id;
    for e in &everything.entries {
        if e.key.windows(16).any(|w| w == other_id.as_bytes()) {
            continue; // the other submission is still open
        }
        for marker in [&b"Ana Pereira"[..], b"In which year", b"Escola Superior"] {
            assert!(
                !e.value.windows(marker.len()).any(|x| x == marker),
                "a value still holds personal data at {:?}",
                crate::store::KeyDisplay::from(e.key.as_slice())
            );
        }
    }
    // The skeleton stays, and the submitter still sees where it stands.
    let (status, _) = engine.submission_status(&secret, None).await.unwrap();
    assert_eq!(status.stage, SubmissionStage::Answered);
    assert_eq!(status.answers.len(), 1);
}

/// The archive of exchanged information: closing a notification archives its
/// non-personal answers in the same commit (not the personal-data contact, not the
/// comments); open notifications are never archived; every signed-in user, whatever
/// their country or rights, searches it by words, procedure and country; anonymous
/// callers may not. No archive byte holds personal data, and the entry outlives the
/// deletion of the notification's personal data. Identical on every backend.
pub async fn engine_exchange_archive(store: Arc<dyn Store>) {
    use crate::catalogue::{AnswerValue, Answers};
    use crate::notification::NotificationCommand as C;
    use crate::{
        Actor, Country, EngineError, ExchangeKind, ExchangeQuery, PageRequest, Participant,
    };
    let NotificationWorld {
        engine,
        sender: dk,
        recipients,
        outsider: it,
        without_right,
    } = notification_world(Arc::clone(&store)).await;
    let fr = recipients[0].1.clone();
    let procedure: crate::catalogue::ProcedureId = "diplomas".parse().unwrap();
    let page = || PageRequest::first(10).unwrap();
    let send = |title: &str| {
        let engine = &engine;
        let dk = &dk;
        let procedure = &procedure;
        let title = title.to_owned();
        async move {
            let id = engine.create_notification(dk, procedure).await.unwrap().id;
            let mut answers = Answers::new();
            answers.set("title".parse().unwrap(), AnswerValue::Text(title));
            answers.set(
                "contact".parse().unwrap(),
                AnswerValue::Text("Karen Holm".into()),
            );
            engine
                .act_on_notification(dk, id, C::SaveDraft { answers }, None)
                .await
                .unwrap();
            let to = C::Send {
                countries: [Country::France, Country::Germany].into_iter().collect(),
            };
            engine.act_on_notification(dk, id, to, None).await.unwrap();
            id
        }
    };
    let closed = send("Sygeplejerske (professionsbachelor), Københavns Professionshøjskole").await;
    let open = send("Jordemoder (professionsbachelor)").await;
    engine
        .act_on_notification(
            &fr,
            closed,
            C::Comment {
                text: "Karen Holm confirmed the ISCED level by phone".into(),
            },
            None,
        )
        .await
        .unwrap();
    let everything = ExchangeQuery::default();
    assert!(
        engine
            .search_exchanges(&it, &everything, page())
            .await
            .unwrap()
            .items
            .is_empty(),
        "nothing is archived before closure"
    );
    engine
        .act_on_notification(
            &dk,
            closed,
            C::Close {
                reason: "Karen Holm retired".into(),
            },
            None,
        )
        .await
        .unwrap();

    // Anyone signed in finds it: another country, a user without notification rights.
    for reader in [&it, &without_right, &fr] {
        let found = engine
            .search_exchanges(reader, &everything, page())
            .await
            .unwrap();
        assert_eq!(found.items.len(), 1);
        let entry = &found.items[0];
        assert_eq!(entry.case, closed);
        assert_eq!(entry.kind, ExchangeKind::Notification);
        assert_eq!(entry.from, Participant::from(Country::Denmark));
        assert_eq!(entry.to.len(), 3, "France, Germany and the Commission");
        assert_eq!(entry.answers.len(), 1, "the title only, not the contact");
    }
    let search = |text: &str, procedure: Option<&str>, participant: Option<Participant>| {
        let engine = &engine;
        let it = &it;
        let q = ExchangeQuery {
            text: text.to_owned(),
            procedure: procedure.map(|p| p.parse().unwrap()),
            participant,
        };
        async move {
            engine
                .search_exchanges(it, &q, page())
                .await
                .unwrap()
                .items
                .len()
        }
    };
    assert_eq!(search("sygeplejerske", None, None).await, 1);
    assert_eq!(search("KOBENHAVNS sygeplejerske", None, None).await, 1);
    assert_eq!(search("jordemoder", None, None).await, 0, "still open");
    assert_eq!(search("karen", None, None).await, 0);
    assert_eq!(search("isced", None, None).await, 0);
    assert_eq!(search("", Some("diplomas"), None).await, 1);
    assert_eq!(search("", Some("other"), None).await, 0);
    assert_eq!(search("", None, Some(Country::Germany.into())).await, 1);
    assert_eq!(search("", None, Some(Participant::Commission)).await, 1);
    assert_eq!(search("", None, Some(Country::Italy.into())).await, 0);
    assert!(matches!(
        engine
            .search_exchanges(&Actor::Public, &everything, page())
            .await,
        Err(EngineError::Denied(_))
    ));
    let archived = |store: &Arc<dyn Store>| {
        let store = Arc::clone(store);
        async move {
            let mut out = Vec::new();
            for prefix in [
                crate::keys::archive(None),
                crate::keys::Key::new(crate::keys::Space::ArchiveTerm).into_bytes(),
            ] {
                out.extend(
                    store
                        .scan(&Scan::prefix(&prefix, 10_000))
                        .await
                        .unwrap()
                        .entries,
                );
            }
            out
        }
    };
    let entries = archived(&store).await;
    assert!(entries.len() > 1);
    for e in &entries {
        for marker in [&b"Karen"[..], b"ISCED", b"retired"] {
            assert!(!e.value.windows(marker.len()).any(|w| w == marker));
            assert!(!e.key.windows(marker.len()).any(|w| w == marker));
        }
    }
    // Retention deletes the notification's personal data; the archive stays as it was.
    let day =
        |d: &str| -> chrono::DateTime<chrono::Utc> { format!("{d}T09:00:00Z").parse().unwrap() };
    engine.tick(day("2029-11-22"), 100).await.unwrap();
    engine.tick(day("2029-11-22"), 100).await.unwrap();
    assert!(
        engine
            .notification(&dk, closed)
            .await
            .unwrap()
            .0
            .notification
            .is_erased()
    );
    assert_eq!(search("sygeplejerske", None, None).await, 1);
    let _ = open;
}

/// A notifier that records what it is given, and fails for the addresses it is told to
/// (a test double of a delivery channel; the real channels are tested at the edge).
#[derive(Default)]
pub struct RecordingNotifier {
    /// Every message it took, in order.
    pub delivered: std::sync::Mutex<Vec<crate::outbox::Message>>,
    /// Addresses whose deliveries fail.
    pub failing: std::sync::Mutex<std::collections::BTreeSet<String>>,
}

#[async_trait::async_trait]
impl crate::outbox::Notifier for RecordingNotifier {
    async fn deliver(
        &self,
        message: &crate::outbox::Message,
    ) -> Result<(), crate::outbox::DeliveryError> {
        let address = match &message.to {
            crate::outbox::Address::Email { address } => address.as_str().to_owned(),
            crate::outbox::Address::Webhook { url, .. } => url.clone(),
        };
        if self.failing.lock().unwrap().contains(&address) {
            return Err(crate::outbox::DeliveryError {
                message: format!("{address}: mailbox unavailable"),
            });
        }
        self.delivered.lock().unwrap().push(message.clone());
        Ok(())
    }
}

/// A notifier that never finishes a delivery: a dispatcher stuck or dead mid-delivery.
#[derive(Default)]
struct StuckNotifier {
    entered: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl crate::outbox::Notifier for StuckNotifier {
    async fn deliver(
        &self,
        _: &crate::outbox::Message,
    ) -> Result<(), crate::outbox::DeliveryError> {
        self.entered
            .store(true, std::sync::atomic::Ordering::SeqCst);
        futures::future::pending().await
    }
}

/// Gives the executor a turn (so store work on other threads can finish).
struct YieldNow(bool);

impl std::future::Future for YieldNow {
    type Output = ();

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.0 {
            std::task::Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    }
}

impl RecordingNotifier {
    /// Takes what was delivered so far.
    pub fn take(&self) -> Vec<crate::outbox::Message> {
        std::mem::take(&mut *self.delivered.lock().unwrap())
    }
}

/// The outbox: a request's lifecycle announces exactly the expected events, each in the
/// same commit as the event, to the right people in their language (users with the
/// right, minus one who muted the topic; a functional mailbox instead of users where the
/// authority says so), with no personal data; dispatch is at least once with stable
/// idempotency keys: a dispatcher that stops after its lease leaves the announcement to
/// the next, marked as a possible duplicate; two dispatchers never hold one announcement
/// at once; a failing mailbox is retried with backoff and ends in the dead letters after
/// `MAX_ATTEMPTS`, from where an administrator can retry it. Identical on every backend.
pub async fn engine_outbox(store: Arc<dyn Store>) {
    use crate::catalogue::{AnswerValue, Answers, Right};
    use crate::outbox::{DeliveryState, NotificationPreferences, NotificationSettings, Topic};
    use crate::request::RequestCommand as C;
    use crate::{Actor, EngineError, Grant, GrantScope, Language, NewUser, PageRequest};
    let w = request_world_with(Arc::clone(&store), REQUEST_AREA, REQUEST_QS, false).await;
    let (engine, clock, a, ids, id) = (&w.engine, &w.clock, &w.actors, &w.ids, w.case);
    let (dk, alloc, fr2) = (&a[0], &a[3], &a[5]);
    let lease = chrono::Duration::minutes(5);
    let notifier = RecordingNotifier::default();
    // A French-speaking handler at the French authority; the second French handler
    // mutes new requests; Denmark is told through its functional mailbox only.
    let julie = engine
        .create_user(
            &Actor::System,
            ids[1],
            NewUser {
                name: "Julie".into(),
                email: "julie@fr.example".parse().unwrap(),
                language: Language::French,
            },
        )
        .await
        .unwrap();
    engine
        .set_grants(
            &Actor::System,
            julie.id(),
            vec![Grant::new(Right::RequestHandler, GrantScope::Everything)],
        )
        .await
        .unwrap();
    let julie_actor = engine.actor_for(julie.id()).await.unwrap();
    engine
        .set_notification_preferences(
            fr2,
            NotificationPreferences {
                muted: [Topic::RequestReceived].into(),
            },
        )
        .await
        .unwrap();
    assert!(matches!(
        engine
            .set_notification_settings(dk, ids[0], NotificationSettings::default())
            .await,
        Err(EngineError::Denied(_))
    ));
    engine
        .set_notification_settings(
            &Actor::System,
            ids[0],
            NotificationSettings {
                functional_mailbox: Some("imi@dk.example".parse().unwrap()),
                notify_users: false,
            },
        )
        .await
        .unwrap();
    // Saving a draft announces nothing, and neither does a refused command: the
    // announcement commits with its event or not at all.
    assert!(
        engine
            .act_on_request(
                dk,
                id,
                C::Send {
                    recipient: ids[0],
                    needed_by: "2027-01-31".parse().unwrap(),
                },
                None,
            )
            .await
            .is_err(),
        "not to the requester itself"
    );
    assert_eq!(
        engine.dispatch(&notifier, 100, lease).await.unwrap(),
        crate::DispatchReport::default()
    );

    // Sent: the French allocator and handlers hear of it, each in their language.
    engine
        .act_on_request(
            dk,
            id,
            C::Send {
                recipient: ids[1],
                needed_by: "2027-01-31".parse().unwrap(),
            },
            None,
        )
        .await
        .unwrap();
    let report = engine.dispatch(&notifier, 100, lease).await.unwrap();
    assert_eq!((report.delivered, report.completed), (3, 1));
    let got = notifier.take();
    let reference = engine
        .request(&Actor::System, id)
        .await
        .unwrap()
        .0
        .case
        .reference;
    let uid = |actor: &Actor| match actor {
        Actor::User(p) => p.user(),
        _ => unreachable!(),
    };
    let to: std::collections::BTreeSet<String> =
        got.iter().map(|m| m.idempotency_key.clone()).collect();
    assert_eq!(to.len(), 3);
    for (actor, muted) in [
        (&a[1], false),
        (alloc, false),
        (&julie_actor, false),
        (fr2, true),
    ] {
        let key = format!("user:{}", uid(actor));
        assert_eq!(
            got.iter().any(|m| m.idempotency_key.ends_with(&key)),
            !muted
        );
    }
    for m in &got {
        assert_eq!(m.topic, Topic::RequestReceived);
        assert_eq!((m.attempt, m.possible_duplicate), (1, false));
        assert!(m.subject.contains(&reference.to_string()));
        assert_eq!(m.link, format!("/v1/requests/{id}"));
        assert!(!m.body.contains("Marie"), "no personal data");
        let french = m.idempotency_key.ends_with(&julie.id().to_string());
        assert_eq!(
            m.language,
            if french {
                Language::French
            } else {
                Language::English
            }
        );
        if french {
            assert!(m.subject.starts_with("IMI : nouvelle demande"));
        }
    }
    assert_eq!(
        engine
            .dispatch(&notifier, 100, lease)
            .await
            .unwrap()
            .delivered,
        0,
        "delivered once"
    );

    // Accepted, answered: Denmark's functional mailbox hears of it, its users do not.
    engine
        .act_on_request(
            alloc,
            id,
            C::Allocate {
                handler: uid(&a[1]),
            },
            None,
        )
        .await
        .unwrap();
    engine
        .act_on_request(&a[1], id, C::Accept { days: 10 }, None)
        .await
        .unwrap();
    let mut reply = Answers::new();
    reply.set("authentic".parse().unwrap(), AnswerValue::YesNo(true));
    engine
        .act_on_request(&a[1], id, C::Answer { answers: reply }, None)
        .await
        .unwrap();
    // A dispatcher that takes the announcements and stops (here: its notifier fails
    // for everyone, as if it died before recording) ...
    notifier
        .failing
        .lock()
        .unwrap()
        .insert("imi@dk.example".into());
    let report = engine.dispatch(&notifier, 100, lease).await.unwrap();
    assert_eq!((report.delivered, report.failed), (0, 2));
    // ... and another dispatcher does not take them while they wait for their retry.
    assert_eq!(
        engine.dispatch(&notifier, 100, lease).await.unwrap().failed,
        0
    );
    notifier.failing.lock().unwrap().clear();
    clock.advance(chrono::Duration::minutes(1));
    let report = engine.dispatch(&notifier, 100, lease).await.unwrap();
    assert_eq!((report.delivered, report.completed), (2, 2));
    let got = notifier.take();
    let topics: Vec<Topic> = got.iter().map(|m| m.topic).collect();
    assert_eq!(topics, [Topic::RequestAccepted, Topic::RequestAnswered]);
    for m in &got {
        assert!(m.idempotency_key.ends_with(&format!("mailbox:{}", ids[0])));
        assert_eq!((m.attempt, m.possible_duplicate), (2, true));
    }

    // Two dispatchers on one store: a leased announcement is not handed out again until
    // its lease ends; a lease that ran out (the dispatcher died) goes to the next one.
    engine
        .act_on_request(
            dk,
            id,
            C::AskClarification {
                text: "Marie Dubois?".into(),
            },
            None,
        )
        .await
        .unwrap();
    // The first dispatcher leases it and is stuck inside delivery ...
    let stuck = StuckNotifier::default();
    let mut first = Box::pin(engine.dispatch(&stuck, 100, lease));
    while !stuck.entered.load(std::sync::atomic::Ordering::SeqCst) {
        if let Some(r) = futures::FutureExt::now_or_never(first.as_mut()) {
            panic!("the first dispatcher should hang in delivery: {r:?}");
        }
        YieldNow(false).await;
    }
    // ... so the second finds nothing to deliver ...
    let second = engine.dispatch(&notifier, 100, lease).await.unwrap();
    assert_eq!((second.delivered, second.failed), (0, 0));
    // ... and when the first dies, its lease runs out and the next dispatcher delivers,
    // marking the messages as possible duplicates (same idempotency keys).
    drop(first);
    clock.advance(lease + chrono::Duration::seconds(1));
    let third = engine.dispatch(&notifier, 100, lease).await.unwrap();
    assert_eq!((third.delivered, third.completed), (3, 1));
    let got = notifier.take();
    assert!(got.iter().all(|m| m.topic == Topic::ClarificationAsked
        && m.possible_duplicate
        && !m.body.contains("Marie")));

    // A mailbox that keeps failing ends in the dead letters after MAX_ATTEMPTS; the
    // operator (or an administrator of the authority) sees it and can retry it.
    engine
        .set_notification_settings(
            &Actor::System,
            ids[1],
            NotificationSettings {
                functional_mailbox: Some("imi@fr.example".parse().unwrap()),
                notify_users: false,
            },
        )
        .await
        .unwrap();
    notifier
        .failing
        .lock()
        .unwrap()
        .insert("imi@fr.example".into());
    let second = engine
        .create_request(dk, &"nurse-check".parse().unwrap())
        .await
        .unwrap()
        .case
        .id;
    let mut answers = Answers::new();
    answers.set("holder".parse().unwrap(), AnswerValue::Text("Marie".into()));
    answers.set(
        "profession".parse().unwrap(),
        AnswerValue::Choice("nurse".parse().unwrap()),
    );
    engine
        .act_on_request(dk, second, C::SaveDraft { answers }, None)
        .await
        .unwrap();
    engine
        .act_on_request(
            dk,
            second,
            C::Send {
                recipient: ids[1],
                needed_by: "2027-03-31".parse().unwrap(),
            },
            None,
        )
        .await
        .unwrap();
    let mut dead = 0;
    for _ in 0..crate::MAX_ATTEMPTS {
        let r = engine.dispatch(&notifier, 100, lease).await.unwrap();
        dead += r.dead;
        clock.advance(chrono::Duration::hours(7));
    }
    assert_eq!(dead, 1);
    let letters = engine
        .dead_letters(&Actor::System, PageRequest::first(10).unwrap())
        .await
        .unwrap();
    assert_eq!(letters.items.len(), 1);
    let letter = &letters.items[0];
    assert_eq!(letter.announcement.topic, Topic::RequestReceived);
    assert!(matches!(
        letter.state,
        DeliveryState::Dead { attempts, .. } if attempts == crate::MAX_ATTEMPTS
    ));
    assert!(letter.last_errors[0].1.contains("mailbox unavailable"));
    assert!(matches!(
        engine
            .dead_letters(dk, PageRequest::first(10).unwrap())
            .await,
        Err(EngineError::Denied(_))
    ));
    notifier.failing.lock().unwrap().clear();
    engine
        .retry_dead_letter(&Actor::System, letter.announcement.id)
        .await
        .unwrap();
    assert_eq!(
        engine
            .dispatch(&notifier, 100, lease)
            .await
            .unwrap()
            .delivered,
        1
    );
    assert!(
        engine
            .dead_letters(&Actor::System, PageRequest::first(10).unwrap())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(notifier.take().len(), 1);

    // A deadline passes: `tick` announces the reminder in the commit that records it.
    clock.advance(chrono::Duration::days(8));
    assert!(engine.tick(engine.now(), 100).await.unwrap().deadlines >= 1);
    assert_eq!(
        engine
            .dispatch(&notifier, 100, lease)
            .await
            .unwrap()
            .delivered,
        1
    );
    let got = notifier.take();
    assert_eq!(got[0].topic, Topic::Reminder);
    assert!(got[0].subject.contains("reminder"));

    // The event feed: what was addressed to the caller's authority and concerns them,
    // oldest first, resumable from where a poller stopped.
    let first_page = engine.feed(&a[1], None, 1).await.unwrap();
    assert_eq!(first_page.items.len(), 1);
    assert_eq!(first_page.items[0].topic, Topic::RequestReceived);
    let rest = engine
        .feed(&a[1], first_page.cursor.as_ref(), 100)
        .await
        .unwrap();
    let topics: Vec<Topic> = rest.items.iter().map(|e| e.topic).collect();
    assert_eq!(
        topics,
        [
            Topic::ClarificationAsked,
            Topic::RequestReceived,
            Topic::Reminder
        ]
    );
    let tail = engine.feed(&a[1], rest.cursor.as_ref(), 100).await.unwrap();
    assert!(tail.items.is_empty());
    assert_eq!(tail.cursor, rest.cursor, "a poller resumes from the end");
    let dk_topics: Vec<Topic> = engine
        .feed(dk, None, 100)
        .await
        .unwrap()
        .items
        .iter()
        .map(|e| e.topic)
        .collect();
    assert_eq!(dk_topics, [Topic::RequestAccepted, Topic::RequestAnswered]);
    assert!(
        engine
            .feed(&a[6], None, 100)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(matches!(
        engine.feed(dk, rest.cursor.as_ref(), 10).await,
        Err(EngineError::Page(_))
    ));
    assert!(engine.feed(&Actor::Public, None, 10).await.is_err());
}

const REPO_AREA: &str = "id = \"euro-cash\"\n[name]\nen = \"Road transport of euro cash\"\n[[procedure]]\nid = \"cash-licences\"\nkind = \"repository\"\nquestion_set = \"cash-licences\"\nretention_months = 12\n[procedure.name]\nen = \"Licence holders\"\n";
const REPO_QS: &str = "id = \"cash-licences\"\nversion = 1\n[title]\nen = \"Licence holder\"\n[[group]]\nid = \"g\"\n[group.title]\nen = \"G\"\n[[group.question]]\nid = \"holder\"\ntype = \"free-text\"\nrequired = \"to-send\"\npersonal_data = true\n[group.question.label]\nen = \"Holder\"\n[[group.question]]\nid = \"licence\"\ntype = \"free-text\"\nrequired = \"to-send\"\n[group.question.label]\nen = \"Licence number\"\n[[group.question]]\nid = \"valid-until\"\ntype = \"date\"\n[group.question.label]\nen = \"Valid until\"\n";

/// A world for repositories, built by [`repository_world`].
pub struct RepositoryWorld {
    /// The engine, with the `cash-licences` repository (12 months' retention; a
    /// personal-data `holder`, a `licence` number and a `valid-until` date) published.
    pub engine: crate::Engine,
    /// A French repository editor.
    pub editor: crate::Actor,
    /// A German viewer.
    pub viewer: crate::Actor,
    /// The German viewer's authority.
    pub viewer_authority: crate::AuthorityId,
    /// An Italian viewer.
    pub outsider: crate::Actor,
    /// A Danish user without a repository right.
    pub without_right: crate::Actor,
}

/// Builds a [`RepositoryWorld`] on `store`.
pub async fn repository_world(store: Arc<dyn Store>) -> RepositoryWorld {
    use crate::catalogue::{Catalogue, CatalogueSource, Right};
    use crate::{Actor, Country};
    let engine = engine_on(store);
    let sources = [
        CatalogueSource::new("areas/euro-cash.toml", REPO_AREA),
        CatalogueSource::new("question-sets/cash-licences.toml", REPO_QS),
    ];
    engine
        .publish_catalogue(&Actor::System, Catalogue::load(&sources).unwrap())
        .unwrap();
    let who = |c: Country, name: &str, right| {
        member(
            &engine,
            c.into(),
            name.into(),
            "euro-cash",
            "cash-licences",
            right,
        )
    };
    let (editor, _) = who(Country::France, "Banque de France", Right::RepositoryEditor).await;
    let (viewer, viewer_authority) = who(Country::Germany, "Bundesbank", Right::Viewer).await;
    let (outsider, _) = who(Country::Italy, "Banca d'Italia", Right::Viewer).await;
    let (without_right, _) = who(Country::Denmark, "Finanstilsynet", Right::RequestHandler).await;
    RepositoryWorld {
        engine,
        editor,
        viewer,
        viewer_authority,
        outsider,
        without_right,
    }
}

/// A repository's lifecycle: a French editor adds two licence holders, one for every
/// user of the procedure and one for a German group only; viewers search and read what
/// their audience allows; an update is a new revision (the history keeps both, the search
/// follows); a retired record leaves the default search, cannot change, and `tick` removes
/// it with every revision 12 months later (no bytes left); another is deleted by its
/// editor. Identical on every backend.
pub async fn engine_repositories(store: Arc<dyn Store>) {
    use crate::catalogue::{AnswerValue, Answers};
    use crate::repository::{Audience, RecordCommand, RecordStatus};
    use crate::{Actor, EngineError, PageRequest, RecordQuery};
    let RepositoryWorld {
        engine,
        editor: fr,
        viewer: de,
        viewer_authority: de_authority,
        outsider: it,
        without_right: dk,
    } = repository_world(Arc::clone(&store)).await;
    let procedure = "cash-licences".parse().unwrap();
    let fields = |holder: &str, licence: &str| {
        let mut a = Answers::new();
        a.set("holder".parse().unwrap(), AnswerValue::Text(holder.into()));
        a.set(
            "licence".parse().unwrap(),
            AnswerValue::Text(licence.into()),
        );
        a
    };
    let search = |actor: &Actor, text: &str, include_retired: bool| {
        let engine = &engine;
        let actor = actor.clone();
        let query = RecordQuery {
            text: text.into(),
            include_retired,
        };
        async move {
            engine
                .search_records(
                    &actor,
                    &"cash-licences".parse().unwrap(),
                    &query,
                    PageRequest::first(50).unwrap(),
                )
                .await
                .map(|p| p.items.into_iter().map(|r| r.id).collect::<Vec<_>>())
        }
    };

    // Only editors add records, with valid fields.
    assert!(matches!(
        engine
            .create_record(&de, &procedure, fields("X", "1"), Audience::Area)
            .await,
        Err(EngineError::Denied(_))
    ));
    assert!(matches!(
        engine
            .create_record(&fr, &procedure, Answers::new(), Audience::Area)
            .await,
        Err(EngineError::Transition(_))
    ));
    let (a, va) = engine
        .create_record(
            &fr,
            &procedure,
            fields("Brinks France SAS", "FR-2024-117"),
            Audience::Area,
        )
        .await
        .unwrap();
    let group = Audience::Group {
        authorities: [de_authority].into_iter().collect(),
    };
    let (b, _) = engine
        .create_record(
            &fr,
            &procedure,
            fields("Loomis Sécurité", "FR-2023-009"),
            group,
        )
        .await
        .unwrap();
    assert_eq!(a.revision, 1);

    // Reading and searching follow the audience; users without a right see nothing.
    assert_eq!(search(&de, "loomis", false).await.unwrap(), vec![b.id]);
    assert_eq!(
        search(&de, "LOOMIS securite", false).await.unwrap(),
        vec![b.id]
    );
    assert_eq!(search(&it, "loomis", false).await.unwrap(), vec![]);
    assert_eq!(search(&de, "", false).await.unwrap(), vec![a.id, b.id]);
    assert_eq!(search(&it, "", false).await.unwrap(), vec![a.id]);
    assert_eq!(search(&it, "brinks loomis", false).await.unwrap(), vec![]);
    assert!(matches!(
        engine.record(&it, b.id).await,
        Err(EngineError::NotFound { .. })
    ));
    assert!(matches!(
        search(&dk, "", false).await,
        Err(EngineError::Denied(_))
    ));
    assert!(matches!(
        engine.record(&dk, a.id).await,
        Err(EngineError::NotFound { .. })
    ));
    assert_eq!(engine.record(&de, b.id).await.unwrap().0, b);

    // An update is a new revision; only the keeping authority's editors make one.
    let update = |licence: &str| RecordCommand::Update {
        fields: fields("Brinks France SAS", licence),
        audience: None,
    };
    assert!(matches!(
        engine
            .act_on_record(&de, a.id, update("FR-2025-001"), None)
            .await,
        Err(EngineError::Transition(_))
    ));
    let (a2, va2) = engine
        .act_on_record(&fr, a.id, update("FR-2025-001"), Some(va))
        .await
        .unwrap();
    assert_eq!(a2.revision, 2);
    assert!(matches!(
        engine
            .act_on_record(&fr, a.id, update("FR-2025-002"), Some(va))
            .await,
        Err(EngineError::VersionMismatch { .. })
    ));
    let history = engine.record_history(&it, a.id).await.unwrap();
    assert_eq!(
        history.iter().map(|r| r.revision).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(
        history[0].fields, a.fields,
        "the history keeps the earlier value"
    );
    assert_eq!(search(&it, "fr-2024-117", false).await.unwrap(), vec![]);
    assert_eq!(search(&it, "FR-2025-001", false).await.unwrap(), vec![a.id]);

    // Retired: out of the default search, frozen, removed 12 months later by tick.
    let (a3, _) = engine
        .act_on_record(&fr, a.id, RecordCommand::Retire, Some(va2))
        .await
        .unwrap();
    assert!(matches!(a3.status, RecordStatus::Retired { .. }));
    assert_eq!(search(&it, "brinks", false).await.unwrap(), vec![]);
    assert_eq!(search(&it, "brinks", true).await.unwrap(), vec![a.id]);
    assert!(matches!(
        engine
            .act_on_record(&fr, a.id, update("FR-2026-1"), None)
            .await,
        Err(EngineError::Transition(
            crate::workflow::TransitionError::IllegalInStage {
                workflow: "record",
                ..
            }
        ))
    ));
    let day =
        |d: &str| -> chrono::DateTime<chrono::Utc> { format!("{d}T09:00:00Z").parse().unwrap() };
    assert_eq!(
        engine.tick(day("2027-11-21"), 100).await.unwrap().blocked,
        0
    );
    assert!(engine.record(&it, a.id).await.is_ok());
    assert_eq!(
        engine.tick(day("2027-11-22"), 100).await.unwrap().blocked,
        1
    );
    assert_eq!(
        engine.tick(day("2027-11-22"), 100).await.unwrap().blocked,
        0
    );
    assert!(matches!(
        engine.record(&Actor::System, a.id).await,
        Err(EngineError::NotFound { .. })
    ));
    assert_eq!(search(&de, "", true).await.unwrap(), vec![b.id]);

    // The other is deleted by its editor (not by a viewer).
    assert!(engine.delete_record(&de, b.id).await.is_err());
    engine.delete_record(&fr, b.id).await.unwrap();
    assert!(search(&de, "", true).await.unwrap().is_empty());
    let everything = store.scan(&Scan::all(100_000)).await.unwrap();
    for e in &everything.entries {
        for marker in [&b"Brinks"[..], b"Loomis", b"FR-2025"] {
            assert!(
                !e.value.windows(marker.len()).any(|x| x == marker),
                "a value still holds a removed record at {:?}",
                crate::store::KeyDisplay::from(e.key.as_slice())
            );
        }
    }
    assert!(engine.verify_audit(&Actor::System).await.unwrap().is_ok());
}

/// Runs the whole suite as separate `#[tokio::test]`s in the calling crate.
///
/// `$fresh` is an expression (it may `.await`) giving a [`TestStore`] on empty storage;
/// `$open_in` (optional) is a closure `|dir: &std::path::Path| -> impl Future<Output =
/// Arc<dyn Store>>` that opens durable storage in `dir`.
#[macro_export]
macro_rules! store_conformance_tests {
    ($fresh:expr $(, $open_in:expr)? $(,)?) => {
        $crate::store_conformance_tests!(@by_ref $fresh;
            get_and_put, versions_increase, multi_key_commit_is_atomic,
            failed_check_applies_nothing, stale_version_conflicts, preconditions_on_any_key,
            delete, last_write_in_batch_wins, ordered_scans_both_directions, prefix_scans,
            pagination, large_values, empty_and_binary_keys, bad_scan_limits, many_keys,
            matches_a_model);
        $crate::store_conformance_tests!(@by_arc $fresh;
            concurrent_writers_same_key, concurrent_writers_different_keys,
            racing_creators_one_wins, concurrent_commits_keep_their_own_outcome, engine_registers_and_reads_an_authority,
            engine_lists_authorities_by_country, engine_directory_search,
            engine_request_workflow, engine_request_deadlines, engine_request_attachments,
            engine_request_branches, engine_request_concurrency, engine_question_sets_persist,
            engine_audit_chain, engine_retention_blocking, engine_retention_deletion,
            engine_former_users, engine_data_subjects, engine_replicated_load, engine_alerts,
            engine_notifications, engine_repositories, engine_public_submission,
            engine_exchange_archive, engine_outbox, engine_solvit, engine_surveys);
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn conformance_persists_across_reopen() {
                let dir = ::tempfile::tempdir().expect("temporary directory");
                let open_in = $open_in;
                let path = dir.path().to_path_buf();
                $crate::conformance::persists_across_reopen(|| open_in(path.clone())).await;
            }
        )?
    };
    (@by_ref $fresh:expr; $($name:ident),+) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let test_store: $crate::conformance::TestStore = $fresh;
                $crate::conformance::$name(&*test_store.store).await;
                drop(test_store);
            }
        )+
    };
    (@by_arc $fresh:expr; $($name:ident),+) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let test_store: $crate::conformance::TestStore = $fresh;
                $crate::conformance::$name(::std::sync::Arc::clone(&test_store.store)).await;
                drop(test_store);
            }
        )+
    };
}
