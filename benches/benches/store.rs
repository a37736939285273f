//! Store primitives per backend: a durable single-key commit, a point read, a 100-key
//! page scan, and registering an authority through the engine.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)] // bench harness

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use imi_core::store::{Scan, WriteBatch};
use imi_core::{
    Country, Engine, Language, LocalisedText, ManualClock, access::Actor, authority::NewAuthority,
};

fn store_ops(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let backends = rt.block_on(imi_benches::backends()).expect("backends");
    for backend in &backends {
        let store = &backend.store;
        let mut group = c.benchmark_group(format!("store/{}", backend.name));
        group
            .measurement_time(Duration::from_secs(4))
            .sample_size(20);

        rt.block_on(async {
            let mut b = WriteBatch::new();
            for i in 0..10_000u32 {
                b.put(format!("seed/{i:06}"), vec![7u8; 200]);
            }
            store.commit(b).await.unwrap();
        });

        let mut n = 0u64;
        group.bench_function("commit_1_key_durable", |b| {
            b.iter(|| {
                n += 1;
                let mut batch = WriteBatch::new();
                batch.put(format!("w/{n}"), vec![1u8; 200]);
                rt.block_on(store.commit(batch)).unwrap()
            });
        });
        group.bench_function("get", |b| {
            b.iter(|| rt.block_on(store.get(black_box(b"seed/004242"))).unwrap());
        });
        group.bench_function("scan_100", |b| {
            b.iter(|| {
                rt.block_on(store.scan(&Scan::prefix(b"seed/0042", 100)))
                    .unwrap()
            });
        });

        let clock = Arc::new(ManualClock::new("2026-11-22T09:00:00Z".parse().unwrap()));
        let engine = Engine::new(Arc::clone(store), clock);
        group.bench_function("engine_register_authority", |b| {
            b.iter(|| {
                let mut new = NewAuthority::new(
                    Country::Belgium,
                    LocalisedText::from_pairs([
                        (Language::Dutch, "FOD Economie"),
                        (Language::French, "SPF Economie"),
                    ])
                    .unwrap(),
                );
                new.confirmed_not_duplicate = true;
                rt.block_on(engine.register_authority(&Actor::System, new))
                    .unwrap()
            });
        });
        group.finish();
    }
}

criterion_group!(benches, store_ops);
criterion_main!(benches);
