//! The store contract: what every backend must do (atomic commits, preconditions,
//! ordered scans, pagination, sizes, concurrency, a model check, persistence).

#[allow(unused_imports)]
use super::*;

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
