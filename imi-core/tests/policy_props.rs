//! Property test: in random worlds of countries, coordinators, authorities and users, no
//! actor performs an action outside its scope and rights. The engine's outcome for every
//! random operation is compared with an oracle written from the rules, not from the code.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should panic

use std::collections::BTreeSet;
use std::sync::Arc;

use imi_core::catalogue::{Catalogue, CatalogueSource, Right};
use imi_core::{
    AuthorityId, Country, Engine, EngineError, Language, LocalisedText, ManualClock, access::Actor,
    authority::AuthorityUpdate, authority::Competence, authority::CoordinatorRole,
    authority::NewAuthority, store::MemoryStore, user::Grant, user::GrantScope, user::NewUser,
};
use proptest::prelude::*;

const COUNTRIES: [Country; 3] = [Country::Denmark, Country::Germany, Country::France];
const AREAS: [&str; 2] = ["health", "transport"];
const PROCEDURES: [&str; 2] = ["health-request", "transport-request"];

#[derive(Debug, Clone)]
struct Facts {
    country: usize,
    region: Option<usize>,
    areas: [bool; 2],
}

#[derive(Debug, Clone)]
struct Scope {
    national: bool,
    areas: [bool; 2],
    regions: [bool; 2],
}

#[derive(Debug, Clone)]
struct AuthoritySpec {
    facts: Facts,
    coordinator: Option<Scope>,
}

#[derive(Debug, Clone)]
enum Op {
    Register(Facts),
    Update(usize),
    Grant(usize, usize),
    CreateUser(usize),
    /// Mint an API token for the n-th user of the world (possibly oneself).
    IssueToken(usize),
}

#[derive(Debug, Clone)]
struct WorldSpec {
    authorities: Vec<AuthoritySpec>,
    users: Vec<(usize, bool)>,
    ops: Vec<(usize, Op)>,
}

fn facts() -> impl Strategy<Value = Facts> {
    (
        0..3usize,
        proptest::option::of(0..2usize),
        any::<[bool; 2]>(),
    )
        .prop_map(|(country, region, areas)| Facts {
            country,
            region,
            areas,
        })
}

fn world() -> impl Strategy<Value = WorldSpec> {
    let scoped = (any::<[bool; 2]>(), any::<[bool; 2]>()).prop_map(|(areas, regions)| Scope {
        national: false,
        areas,
        regions,
    });
    let authority = (facts(), proptest::option::weighted(0.4, scoped))
        .prop_map(|(facts, coordinator)| AuthoritySpec { facts, coordinator });
    proptest::collection::vec(authority, 1..7).prop_flat_map(|mut authorities| {
        // Authorities 0..3 are the national coordinators of the three countries.
        for (i, _) in COUNTRIES.iter().enumerate() {
            authorities.insert(
                i,
                AuthoritySpec {
                    facts: Facts {
                        country: i,
                        region: None,
                        areas: [true, true],
                    },
                    coordinator: Some(Scope {
                        national: true,
                        areas: [false; 2],
                        regions: [false; 2],
                    }),
                },
            );
        }
        let n = authorities.len();
        let users = proptest::collection::vec((0..n, any::<bool>()), 1..8);
        let op = prop_oneof![
            facts().prop_map(Op::Register),
            (0..n).prop_map(Op::Update),
            (0..n, 0..2usize).prop_map(|(t, p)| Op::Grant(t, p)),
            (0..n).prop_map(Op::CreateUser),
        ];
        (Just(authorities), users).prop_flat_map(move |(authorities, users)| {
            let u = users.len();
            let op = prop_oneof![4 => op.clone(), 1 => (0..u).prop_map(Op::IssueToken)];
            let ops = proptest::collection::vec((0..u, op), 1..12);
            (Just(authorities), Just(users), ops).prop_map(|(authorities, users, ops)| WorldSpec {
                authorities,
                users,
                ops,
            })
        })
    })
}

fn region_code(country: usize, region: usize) -> String {
    format!("{}{}", COUNTRIES[country].code(), region + 1)
}

fn areas_of(f: &Facts) -> BTreeSet<&'static str> {
    AREAS
        .iter()
        .zip(f.areas)
        .filter(|(_, on)| *on)
        .map(|(a, _)| *a)
        .collect()
}

/// The rules, stated over the specification: does `scope` of a coordinator in `country`
/// cover an authority with `target` facts?
fn covers(scope: &Scope, country: usize, target: &Facts) -> bool {
    if country != target.country {
        return false;
    }
    if scope.national {
        return true;
    }
    let regions_ok = scope.regions == [false; 2] || target.region.is_some_and(|r| scope.regions[r]);
    let target_areas = areas_of(target);
    let scope_areas: BTreeSet<_> = AREAS
        .iter()
        .zip(scope.areas)
        .filter(|(_, on)| *on)
        .map(|(a, _)| *a)
        .collect();
    let areas_ok = scope_areas.is_empty()
        || (!target_areas.is_empty() && target_areas.is_subset(&scope_areas));
    regions_ok && areas_ok
}

fn oracle(spec: &WorldSpec, user: usize, op: &Op) -> bool {
    let (home, admin) = spec.users[user];
    let me = &spec.authorities[home];
    let scope = me.coordinator.as_ref();
    let coordinates = |t: &Facts| scope.is_some_and(|s| covers(s, me.facts.country, t));
    match op {
        Op::Register(f) => admin && coordinates(f),
        Op::Update(t) | Op::CreateUser(t) => {
            admin && (*t == home || coordinates(&spec.authorities[*t].facts))
        }
        // Nobody mints a token that acts as another person, whatever their rights and
        // scope: that would be impersonation. For oneself it takes the api-user right
        // (held by the users of even index here).
        Op::IssueToken(target) => *target == user && user.is_multiple_of(2),
        Op::Grant(t, p) => {
            let area_ok = scope.is_some_and(|s| s.national || s.areas == [false; 2] || s.areas[*p]);
            admin && coordinates(&spec.authorities[*t].facts) && area_ok
        }
    }
}

fn new_authority(f: &Facts, name: String) -> NewAuthority {
    let mut n = NewAuthority::new(
        COUNTRIES[f.country],
        LocalisedText::new(Language::English, name).unwrap(),
    );
    n.region = f.region.map(|r| region_code(f.country, r).parse().unwrap());
    n.competences = areas_of(f)
        .into_iter()
        .map(|a| Competence {
            area: a.parse().unwrap(),
            keywords: vec![],
        })
        .collect();
    n.confirmed_not_duplicate = true;
    n
}

fn catalogue() -> Catalogue {
    let mut sources = vec![CatalogueSource::new(
        "question-sets/qs.toml",
        "id = \"qs\"\nversion = 1\n[title]\nen = \"Q\"\n[[group]]\nid = \"g\"\n[group.title]\nen = \"G\"\n[[group.question]]\nid = \"q\"\ntype = \"yes-no\"\n[group.question.label]\nen = \"Q?\"\n",
    )];
    for (a, p) in AREAS.iter().zip(PROCEDURES) {
        sources.push(CatalogueSource::new(format!("areas/{a}.toml"), format!("id = \"{a}\"\n[name]\nen = \"{a}\"\n[[procedure]]\nid = \"{p}\"\nkind = \"request\"\nquestion_set = \"qs\"\n[procedure.name]\nen = \"{p}\"\n")));
    }
    Catalogue::load(&sources).unwrap()
}

async fn run(spec: WorldSpec) -> Result<(), TestCaseError> {
    let clock = Arc::new(ManualClock::new("2026-11-22T09:00:00Z".parse().unwrap()));
    let engine =
        Engine::new(Arc::new(MemoryStore::new()), clock).with_ids(imi_core::IdGenerator::seeded(1));
    engine
        .publish_catalogue(&Actor::System, catalogue())
        .unwrap();
    let sys = Actor::System;
    let mut ids: Vec<AuthorityId> = Vec::new();
    for (i, a) in spec.authorities.iter().enumerate() {
        let created = engine
            .register_authority(&sys, new_authority(&a.facts, format!("Authority {i}")))
            .await
            .unwrap();
        if let Some(s) = &a.coordinator {
            let role = if s.national {
                CoordinatorRole::National
            } else {
                CoordinatorRole::Scoped {
                    areas: AREAS
                        .iter()
                        .zip(s.areas)
                        .filter(|(_, on)| *on)
                        .map(|(a, _)| a.parse().unwrap())
                        .collect(),
                    regions: (0..2)
                        .filter(|r| s.regions[*r])
                        .map(|r| region_code(a.facts.country, r).parse().unwrap())
                        .collect(),
                }
            };
            engine
                .appoint_coordinator(&sys, created.id(), Some(role))
                .await
                .unwrap();
        }
        ids.push(created.id());
    }
    let mut actors = Vec::new();
    for (i, (home, admin)) in spec.users.iter().enumerate() {
        let u = engine
            .create_user(
                &sys,
                ids[*home],
                NewUser {
                    name: format!("User {i}"),
                    email: "u@x.eu".parse().unwrap(),
                    language: Language::English,
                },
            )
            .await
            .unwrap();
        let mut grants = if *admin {
            vec![Grant::new(Right::Administrator, GrantScope::Everything)]
        } else {
            vec![Grant::new(Right::Viewer, GrantScope::Everything)]
        };
        if i % 2 == 0 {
            grants.push(Grant::new(Right::ApiUser, GrantScope::Everything));
        }
        engine.set_grants(&sys, u.id(), grants).await.unwrap();
        actors.push(engine.actor_for(u.id()).await.unwrap());
    }
    for (n, (user, op)) in spec.ops.iter().enumerate() {
        let actor = &actors[*user];
        let outcome: Result<(), EngineError> = match op {
            Op::Register(f) => engine
                .register_authority(actor, new_authority(f, format!("New {n}")))
                .await
                .map(drop),
            Op::Update(t) => engine
                .update_authority(
                    actor,
                    ids[*t],
                    AuthorityUpdate {
                        languages: Some(vec![Language::English]),
                        ..Default::default()
                    },
                )
                .await
                .map(drop),
            Op::Grant(t, p) => engine
                .grant_procedure(actor, ids[*t], &PROCEDURES[*p].parse().unwrap())
                .await
                .map(drop),
            Op::IssueToken(target) => {
                let Actor::User(p) = &actors[*target] else {
                    unreachable!()
                };
                engine.issue_token(actor, p.user()).await.map(drop)
            }
            Op::CreateUser(t) => engine
                .create_user(
                    actor,
                    ids[*t],
                    NewUser {
                        name: format!("Extra {n}"),
                        email: "e@x.eu".parse().unwrap(),
                        language: Language::English,
                    },
                )
                .await
                .map(drop),
        };
        let allowed = oracle(&spec, *user, op);
        match (&outcome, allowed) {
            (Ok(()), true) | (Err(EngineError::Denied(_)), false) => {}
            (other, allowed) => {
                return Err(TestCaseError::fail(format!(
                    "op {op:?} by user {user} ({:?}): oracle says allowed={allowed}, engine said {other:?}",
                    spec.users[*user]
                )));
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn no_actor_acts_outside_its_scope_and_rights(spec in world()) {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(run(spec))?;
    }
}
