//! A full request lifecycle per backend: create, save the draft, send, accept, answer,
//! accept the answer (six durable commits with their timeline and inbox entries).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)] // bench harness

use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use imi_benches::lifecycle::RequestWorld;
use imi_core::ManualClock;

fn lifecycle(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let backends = rt.block_on(imi_benches::backends()).unwrap();
    for backend in &backends {
        let clock = Arc::new(ManualClock::new("2026-11-22T09:00:00Z".parse().unwrap()));
        let world = rt
            .block_on(RequestWorld::new(Arc::clone(&backend.store), clock))
            .unwrap();
        let mut group = c.benchmark_group(format!("request_lifecycle/{}", backend.name));
        group
            .measurement_time(Duration::from_secs(5))
            .sample_size(20);
        let mut latencies = Vec::new();
        group.bench_function("six_durable_steps", |b| {
            b.iter(|| {
                latencies.clear();
                rt.block_on(world.lifecycle(&mut latencies, |_, _| {}))
                    .unwrap();
            });
        });
        group.finish();
    }
}

criterion_group!(benches, lifecycle);
criterion_main!(benches);
