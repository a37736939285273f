//! Directory search over 100 000 authorities (memory and SQLite), and access-policy
//! decisions.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stderr,
    clippy::semicolon_if_nothing_returned
)] // bench harness

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use imi_core::access::{Action, Target, decide};
use imi_core::catalogue::Right;
use imi_core::{
    Country, DirectoryQuery, Engine, Language, LanguagePreferences, ManualClock, PageRequest,
    access::Actor, authority::CoordinatorRole, store::MemoryStore, store::Store, user::Grant,
    user::GrantScope, user::NewUser,
};
use imi_store_sqlite::{SqliteConfig, SqliteStore, Synchronous};

const N: usize = 100_000;

fn engine_on(store: Arc<dyn Store>) -> Engine {
    let clock = Arc::new(ManualClock::new("2026-11-22T09:00:00Z".parse().unwrap()));
    let engine = Engine::new(store, clock);
    engine
        .publish_catalogue(&Actor::System, imi_benches::bench_catalogue().unwrap())
        .unwrap();
    engine
}

fn search(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = rt
        .block_on(SqliteStore::open(
            dir.path().join("dir.db"),
            SqliteConfig {
                synchronous: Synchronous::Normal,
                ..SqliteConfig::default()
            },
        ))
        .unwrap();
    let stores: Vec<(&str, Arc<dyn Store>)> = vec![
        ("memory", Arc::new(MemoryStore::new())),
        ("sqlite", Arc::new(sqlite)),
    ];
    for (name, store) in stores {
        let engine = engine_on(store);
        eprintln!("building {N} authorities on {name}");
        rt.block_on(imi_benches::directory_world(&engine, N))
            .unwrap();
        let reader = LanguagePreferences::only(Language::English);
        let mut group = c.benchmark_group(format!("directory_100k/{name}"));
        group
            .measurement_time(Duration::from_secs(5))
            .sample_size(30);
        let cases: Vec<(&str, DirectoryQuery)> = vec![
            (
                "rare_words",
                DirectoryQuery {
                    text: Some("arztekammer hafen 273".into()),
                    ..Default::default()
                },
            ),
            (
                "common_word_page20",
                DirectoryQuery {
                    text: Some("gesundheitsamt".into()),
                    ..Default::default()
                },
            ),
            (
                "prefix_and_country",
                DirectoryQuery {
                    text: Some("verkehrs".into()),
                    participant: Some(Country::Austria.into()),
                    ..Default::default()
                },
            ),
            (
                "country_area_no_text",
                DirectoryQuery {
                    participant: Some(Country::Austria.into()),
                    area: Some("health".parse().unwrap()),
                    ..Default::default()
                },
            ),
            (
                "recipients_by_procedure",
                DirectoryQuery {
                    procedure: Some("health-request".parse().unwrap()),
                    participant: Some(Country::Austria.into()),
                    ..Default::default()
                },
            ),
        ];
        for (label, query) in cases {
            let found = rt
                .block_on(engine.search_directory(
                    &Actor::System,
                    &query,
                    &reader,
                    PageRequest::first(20).unwrap(),
                ))
                .unwrap();
            assert!(!found.items.is_empty(), "{label} finds something");
            group.bench_function(label, |b| {
                b.iter(|| {
                    rt.block_on(engine.search_directory(
                        &Actor::System,
                        black_box(&query),
                        &reader,
                        PageRequest::first(20).unwrap(),
                    ))
                    .unwrap()
                });
            });
        }
        group.finish();
    }
}

fn policy(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let engine = engine_on(Arc::new(MemoryStore::new()));
    rt.block_on(imi_benches::directory_world(&engine, 60))
        .unwrap();
    let page = rt
        .block_on(engine.authorities_of(
            &Actor::System,
            Country::Germany.into(),
            PageRequest::default(),
        ))
        .unwrap();
    let coordinator = &page.items[0];
    let other = &page.items[1];
    rt.block_on(engine.appoint_coordinator(
        &Actor::System,
        coordinator.id(),
        Some(CoordinatorRole::Scoped {
            areas: ["health".parse().unwrap()].into(),
            regions: ["DE0".parse().unwrap(), "DE1".parse().unwrap()].into(),
        }),
    ))
    .unwrap();
    let user = rt
        .block_on(engine.create_user(
            &Actor::System,
            coordinator.id(),
            NewUser {
                name: "Bench".into(),
                email: "b@x.de".parse().unwrap(),
                language: Language::German,
            },
        ))
        .unwrap();
    let grants = vec![
        Grant::new(Right::Administrator, GrantScope::Everything),
        Grant::new(Right::Viewer, GrantScope::Everything),
        Grant::new(Right::RequestHandler, GrantScope::Everything),
    ];
    rt.block_on(engine.set_grants(&Actor::System, user.id(), grants))
        .unwrap();
    let actor = rt.block_on(engine.actor_for(user.id())).unwrap();
    let areas = other.areas();
    let target = Target {
        id: Some(other.id()),
        participant: other.participant(),
        region: other.region(),
        areas: &areas,
    };
    let mut group = c.benchmark_group("policy");
    group.bench_function("decide_register_in_scope", |b| {
        b.iter(|| {
            decide(
                black_box(&actor),
                black_box(&Action::RegisterAuthority(target)),
            )
        })
    });
    group.bench_function("decide_manage_users", |b| {
        b.iter(|| decide(black_box(&actor), black_box(&Action::ManageUsers(target))))
    });
    group.bench_function("decide_read_directory", |b| {
        b.iter(|| decide(black_box(&actor), black_box(&Action::ReadDirectory)))
    });
    group.finish();
}

criterion_group!(benches, policy, search);
criterion_main!(benches);
