//! The engine's cache of authenticated users and authority documents never answers
//! differently from the store.
//!
//! Property: for random sequences of changes to users, rights, tokens and authorities,
//! made through an engine that caches (the default), with its clock moving on at random,
//! authenticating every token and every user, reading every authority and searching the
//! directory through that engine gives exactly what an engine without a cache, on the
//! same store, gives. The only staleness allowed is
//! bounded: a change made through *another* engine is seen once the time to live has
//! passed (a separate test), and at once by an engine that does not cache.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should panic

use std::sync::Arc;
use std::time::Duration;

use imi_core::catalogue::{Catalogue, CatalogueSource, ProcedureId, Right};
use imi_core::{
    AuthorityId, Country, DEFAULT_PRINCIPAL_TTL, DirectoryQuery, Engine, EngineError, Language,
    LanguagePreferences, LocalisedText, ManualClock, PageRequest, UserId, access::Actor,
    authority::AuthorityUpdate, authority::Competence, authority::CoordinatorRole,
    authority::NewAuthority, store::MemoryStore, user::Grant, user::GrantScope, user::NewUser,
    user::SecretToken,
};
use proptest::prelude::*;

const AREA: &str = "id = \"health\"\n[name]\nen = \"Health\"\n[[procedure]]\nid = \"nurse\"\nkind = \"request\"\nquestion_set = \"qs\"\n[procedure.name]\nen = \"Nurse\"\n";
const SET: &str = "id = \"qs\"\nversion = 1\n[title]\nen = \"Q\"\n[[group]]\nid = \"g\"\n[group.title]\nen = \"G\"\n[[group.question]]\nid = \"q\"\ntype = \"yes-no\"\n[group.question.label]\nen = \"Q?\"\n";

const AUTHORITIES: usize = 3;
const USERS: usize = 4;

struct World {
    clock: Arc<ManualClock>,
    /// Caches (the default time to live).
    cached: Engine,
    /// Reads the store every time.
    fresh: Engine,
    authorities: Vec<AuthorityId>,
    users: Vec<UserId>,
    tokens: Vec<SecretToken>,
}

fn engine(store: &Arc<MemoryStore>, clock: &Arc<ManualClock>, ttl: Duration) -> Engine {
    let e = Engine::new(
        Arc::clone(store) as Arc<dyn imi_core::store::Store>,
        Arc::clone(clock) as Arc<dyn imi_core::Clock>,
    )
    .with_principal_ttl(ttl);
    let sources = [
        CatalogueSource::new("areas/health.toml", AREA),
        CatalogueSource::new("question-sets/qs.toml", SET),
    ];
    e.publish_catalogue(&Actor::System, Catalogue::load(&sources).unwrap())
        .unwrap();
    e
}

fn nurse() -> ProcedureId {
    "nurse".parse().unwrap()
}

async fn world() -> World {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new("2026-11-23T09:00:00Z".parse().unwrap()));
    let cached = engine(&store, &clock, DEFAULT_PRINCIPAL_TTL);
    let fresh = engine(&store, &clock, Duration::ZERO);
    let mut authorities = Vec::new();
    for i in 0..AUTHORITIES {
        let mut n = NewAuthority::new(
            Country::Denmark,
            LocalisedText::new(Language::English, format!("Authority {i}")).unwrap(),
        );
        n.competences = vec![Competence {
            area: "health".parse().unwrap(),
            keywords: vec![],
        }];
        n.confirmed_not_duplicate = true;
        let a = cached.register_authority(&Actor::System, n).await.unwrap();
        authorities.push(a.id());
    }
    let mut users = Vec::new();
    let mut tokens = Vec::new();
    for i in 0..USERS {
        let u = cached
            .create_user(
                &Actor::System,
                authorities[i % AUTHORITIES],
                NewUser {
                    name: format!("User {i}"),
                    email: "u@example.dk".parse().unwrap(),
                    language: Language::Danish,
                },
            )
            .await
            .unwrap();
        tokens.push(cached.issue_token(&Actor::System, u.id()).await.unwrap());
        users.push(u.id());
    }
    World {
        clock,
        cached,
        fresh,
        authorities,
        users,
        tokens,
    }
}

#[derive(Debug, Clone)]
enum Op {
    /// Replaces user `u`'s rights by those whose bits are set.
    SetGrants(usize, u16),
    Disable(usize),
    IssueToken(usize),
    GrantProcedure(usize),
    RevokeProcedure(usize),
    Appoint(usize, bool),
    Deregister(usize),
    /// Renames authority `a` to "Authority `n`" (searchable by its new name only).
    Rename(usize, u8),
    /// Moves the clock on by this many milliseconds.
    Wait(u32),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..USERS, any::<u16>()).prop_map(|(u, b)| Op::SetGrants(u, b)),
        1 => (0..USERS).prop_map(Op::Disable),
        1 => (0..USERS).prop_map(Op::IssueToken),
        2 => (0..AUTHORITIES).prop_map(Op::GrantProcedure),
        1 => (0..AUTHORITIES).prop_map(Op::RevokeProcedure),
        1 => (0..AUTHORITIES, any::<bool>()).prop_map(|(a, n)| Op::Appoint(a, n)),
        1 => (0..AUTHORITIES).prop_map(Op::Deregister),
        2 => (0..AUTHORITIES, 0u8..6).prop_map(|(a, n)| Op::Rename(a, n)),
        3 => (0u32..5_000).prop_map(Op::Wait),
    ]
}

/// Applies `op` through the caching engine; refusals (a second national coordinator, a
/// change to a deregistered authority) are part of the sequence, not failures.
async fn apply(w: &mut World, op: &Op) {
    let e = &w.cached;
    let _ = match op {
        Op::SetGrants(u, bits) => {
            let grants = Right::ALL
                .into_iter()
                .enumerate()
                .filter(|(i, _)| bits & (1 << i) != 0)
                .map(|(_, r)| Grant::new(r, GrantScope::Everything))
                .collect();
            e.set_grants(&Actor::System, w.users[*u], grants)
                .await
                .map(drop)
        }
        Op::Disable(u) => e.disable_user(&Actor::System, w.users[*u]).await.map(drop),
        Op::IssueToken(u) => match e.issue_token(&Actor::System, w.users[*u]).await {
            Ok(t) => {
                w.tokens.push(t);
                Ok(())
            }
            Err(err) => Err(err),
        },
        Op::GrantProcedure(a) => e
            .grant_procedure(&Actor::System, w.authorities[*a], &nurse())
            .await
            .map(drop),
        Op::RevokeProcedure(a) => e
            .revoke_procedure(&Actor::System, w.authorities[*a], &nurse())
            .await
            .map(drop),
        Op::Appoint(a, national) => e
            .appoint_coordinator(
                &Actor::System,
                w.authorities[*a],
                national.then_some(CoordinatorRole::National),
            )
            .await
            .map(drop),
        Op::Deregister(a) => e
            .deregister_authority(&Actor::System, w.authorities[*a], "merged")
            .await
            .map(drop),
        Op::Rename(a, n) => e
            .update_authority(
                &Actor::System,
                w.authorities[*a],
                AuthorityUpdate {
                    name: Some(
                        LocalisedText::new(Language::English, format!("Authority {n}")).unwrap(),
                    ),
                    ..AuthorityUpdate::default()
                },
            )
            .await
            .map(drop),
        Op::Wait(ms) => {
            w.clock
                .advance(chrono::Duration::milliseconds(i64::from(*ms)));
            Ok(())
        }
    };
}

fn outcome(r: Result<Actor, EngineError>) -> Result<Actor, String> {
    r.map_err(|e| e.to_string())
}

/// Every token and every user, through both engines.
async fn agree(w: &World) {
    for (i, t) in w.tokens.iter().enumerate() {
        let cached = outcome(w.cached.authenticate(t).await);
        let fresh = outcome(w.fresh.authenticate(t).await);
        assert_eq!(cached, fresh, "token {i}");
    }
    for (i, u) in w.users.iter().enumerate() {
        let cached = outcome(w.cached.actor_for(*u).await);
        let fresh = outcome(w.fresh.actor_for(*u).await);
        assert_eq!(cached, fresh, "user {i}");
    }
    for (i, a) in w.authorities.iter().enumerate() {
        let cached = w
            .cached
            .authority_versioned(&Actor::System, *a)
            .await
            .unwrap();
        let fresh = w
            .fresh
            .authority_versioned(&Actor::System, *a)
            .await
            .unwrap();
        assert_eq!(cached, fresh, "authority {i} and its version");
    }
    let english = LanguagePreferences::only(Language::English);
    for n in 0..6 {
        let query = DirectoryQuery {
            text: Some(format!("authority {n}")),
            ..DirectoryQuery::default()
        };
        let page = PageRequest::first(10).unwrap();
        let ids = |hits: imi_core::Page<imi_core::DirectoryHit>| {
            hits.items
                .into_iter()
                .map(|h| h.authority)
                .collect::<Vec<_>>()
        };
        let cached = w
            .cached
            .search_directory(&Actor::System, &query, &english, page.clone())
            .await
            .unwrap();
        let fresh = w
            .fresh
            .search_directory(&Actor::System, &query, &english, page)
            .await
            .unwrap();
        assert_eq!(ids(cached), ids(fresh), "search {n}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn the_cache_answers_like_the_store(ops in prop::collection::vec(op(), 0..24)) {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let mut w = world().await;
            agree(&w).await;
            for op in &ops {
                apply(&mut w, op).await;
                agree(&w).await;
            }
        });
    }
}

#[tokio::test]
async fn changes_through_another_engine_are_seen_within_the_time_to_live() {
    let w = world().await;
    let token = &w.tokens[0];
    let Actor::User(before) = w.cached.authenticate(token).await.unwrap() else {
        panic!("a user")
    };
    assert!(!before.has_right(Right::RequestHandler));
    // Through the engine that does not cache (standing for another process).
    w.fresh
        .set_grants(
            &Actor::System,
            w.users[0],
            vec![Grant::new(Right::RequestHandler, GrantScope::Everything)],
        )
        .await
        .unwrap();
    let Actor::User(p) = w.fresh.authenticate(token).await.unwrap() else {
        panic!("a user")
    };
    assert!(p.has_right(Right::RequestHandler), "no cache: seen at once");
    // The caching engine did not see the commit: it may answer from its cache until
    // the time to live has passed, and not a moment longer.
    w.clock.advance(chrono::Duration::milliseconds(1_000));
    let Actor::User(stale) = w.cached.authenticate(token).await.unwrap() else {
        panic!("a user")
    };
    assert!(
        !stale.has_right(Right::RequestHandler),
        "within the time to live"
    );
    w.clock
        .advance(chrono::Duration::from_std(DEFAULT_PRINCIPAL_TTL).unwrap());
    let Actor::User(now) = w.cached.authenticate(token).await.unwrap() else {
        panic!("a user")
    };
    assert!(
        now.has_right(Right::RequestHandler),
        "after the time to live"
    );

    // Disabling through the other engine: refused once the time to live has passed.
    w.fresh
        .disable_user(&Actor::System, w.users[0])
        .await
        .unwrap();
    w.clock
        .advance(chrono::Duration::from_std(DEFAULT_PRINCIPAL_TTL).unwrap());
    assert!(matches!(
        w.cached.authenticate(token).await,
        Err(EngineError::Unauthenticated)
    ));
}

#[tokio::test]
async fn a_clock_that_goes_back_does_not_extend_an_entry() {
    let w = world().await;
    w.cached.authenticate(&w.tokens[1]).await.unwrap();
    w.fresh
        .disable_user(&Actor::System, w.users[1])
        .await
        .unwrap();
    w.clock.advance(chrono::Duration::milliseconds(-60_000));
    assert!(matches!(
        w.cached.authenticate(&w.tokens[1]).await,
        Err(EngineError::Unauthenticated)
    ));
}
