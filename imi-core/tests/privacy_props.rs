//! Property: for random worlds (requests in two procedures, driven through random
//! commands by random actors, with blocking after closure) no read returns personal data
//! that the reader is not entitled to, and blocked data never appear in normal reads.
//! Reads checked: the request, its timeline, the inbox, data-subject search and export.
//! Every draft first names another person by mistake and is corrected before sending:
//! that drafting history must never reach anyone but the requesting authority's entitled
//! handlers (the other side sees what was sent, not how it was drafted).
//!
//! Entitlement is written here from the rules, independently of the engine: a handler of
//! the requesting authority for the request's procedure; a handler or allocator of the
//! current recipient for that procedure once it accepted (until withdrawal); nobody once
//! the data are blocked. Coordinators, strangers, former recipients and users whose
//! rights cover another procedure only (purpose limitation) never. The converse is
//! checked too (the entitled do see the data), so the property cannot pass vacuously.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should panic

use std::sync::Arc;

use imi_core::catalogue::{AnswerValue, Answers, Catalogue, CatalogueSource, Right};
use imi_core::request::{RequestCommand as C, RequestState};
use imi_core::{
    AuthorityId, CaseId, Clock, Country, Engine, InboxQuery, Language, LocalisedText, ManualClock,
    PageRequest, access::Actor, authority::Competence, authority::CoordinatorRole,
    authority::NewAuthority, store::MemoryStore, user::Grant, user::GrantScope, user::NewUser,
};
use proptest::prelude::*;

const AREA: &str = "id = \"health\"\n[name]\nen = \"Health\"\n[[procedure]]\nid = \"nurse\"\nkind = \"request\"\nquestion_set = \"check\"\n[procedure.name]\nen = \"Nurse\"\n[[procedure]]\nid = \"doctor\"\nkind = \"request\"\nquestion_set = \"check\"\n[procedure.name]\nen = \"Doctor\"\n";
const SET: &str = "id = \"check\"\nversion = 1\n[title]\nen = \"Check\"\n[[group]]\nid = \"g\"\n[group.title]\nen = \"G\"\n[[group.question]]\nid = \"holder\"\ntype = \"free-text\"\nrequired = \"to-send\"\npersonal_data = true\n[group.question.label]\nen = \"Name\"\n[[group.question]]\nid = \"authentic\"\ntype = \"yes-no\"\nrequired = \"to-send\"\nanswered_by = \"responder\"\n[group.question.label]\nen = \"Authentic?\"\n[[group.question]]\nid = \"remark\"\ntype = \"free-text\"\npersonal_data = true\nanswered_by = \"responder\"\n[group.question.label]\nen = \"Remark\"\n";

/// Who each test user is: authority index, right, scope (None: every procedure).
const USERS: [(usize, Right, Option<&str>); 8] = [
    (0, Right::RequestHandler, None),           // 0 DK handler
    (1, Right::RequestHandler, None),           // 1 FR handler
    (1, Right::Allocator, None),                // 2 FR allocator
    (1, Right::RequestHandler, Some("doctor")), // 3 FR handler, doctors only
    (2, Right::RequestHandler, None),           // 4 BE handler
    (3, Right::ReferralHandler, None),          // 5 DK national coordinator
    (0, Right::RequestHandler, Some("doctor")), // 6 DK handler, doctors only
    (4, Right::RequestHandler, None),           // 7 IT handler (stranger)
];
const COUNTRIES: [Country; 5] = [
    Country::Denmark,
    Country::France,
    Country::Belgium,
    Country::Denmark,
    Country::Italy,
];

struct World {
    engine: Engine,
    clock: Arc<ManualClock>,
    actors: Vec<Actor>,
    authorities: Vec<AuthorityId>,
    /// Each case, its procedure, the unique personal value in it, and the value its
    /// draft held by mistake before it was corrected (drafting history).
    cases: Vec<(CaseId, &'static str, String, String)>,
}

async fn world(procedures: &[bool]) -> World {
    let clock = Arc::new(ManualClock::new("2026-11-22T09:00:00Z".parse().unwrap()));
    let engine = Engine::new(Arc::new(MemoryStore::new()), clock.clone());
    let sources = [
        CatalogueSource::new("areas/health.toml", AREA),
        CatalogueSource::new("question-sets/check.toml", SET),
    ];
    engine
        .publish_catalogue(&Actor::System, Catalogue::load(&sources).unwrap())
        .unwrap();
    let mut authorities = Vec::new();
    for (i, country) in COUNTRIES.into_iter().enumerate() {
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
        for p in ["nurse", "doctor"] {
            engine
                .grant_procedure(&Actor::System, a.id(), &p.parse().unwrap())
                .await
                .unwrap();
        }
        if i == 3 {
            engine
                .appoint_coordinator(&Actor::System, a.id(), Some(CoordinatorRole::National))
                .await
                .unwrap();
        }
        authorities.push(a.id());
    }
    let mut actors = Vec::new();
    for (i, (authority, right, scope)) in USERS.into_iter().enumerate() {
        let u = engine
            .create_user(
                &Actor::System,
                authorities[authority],
                NewUser {
                    name: format!("User {i}"),
                    email: "u@example.eu".parse().unwrap(),
                    language: Language::English,
                },
            )
            .await
            .unwrap();
        let scope = match scope {
            Some(p) => GrantScope::Procedure(p.parse().unwrap()),
            None => GrantScope::Everything,
        };
        engine
            .set_grants(&Actor::System, u.id(), vec![Grant::new(right, scope)])
            .await
            .unwrap();
        actors.push(engine.actor_for(u.id()).await.unwrap());
    }
    let mut cases = Vec::new();
    for (k, doctor) in procedures.iter().enumerate() {
        let procedure = if *doctor { "doctor" } else { "nurse" };
        let id = engine
            .create_request(&actors[0], &procedure.parse().unwrap())
            .await
            .unwrap()
            .case
            .id;
        // The draft first names another person by mistake, then is corrected.
        let secret = format!("Secretperson{k}x");
        let mistake = format!("Mistakenperson{k}x");
        for name in [&mistake, &secret] {
            let mut answers = Answers::new();
            answers.set("holder".parse().unwrap(), AnswerValue::Text(name.clone()));
            engine
                .act_on_request(&actors[0], id, C::SaveDraft { answers }, None)
                .await
                .unwrap();
        }
        cases.push((id, procedure, secret, mistake));
    }
    World {
        engine,
        clock,
        actors,
        authorities,
        cases,
    }
}

#[derive(Debug, Clone)]
enum Op {
    Send {
        to: usize,
    },
    Accept,
    Forward {
        to: usize,
    },
    Answer,
    Clarify,
    Reply,
    AcceptAnswer,
    Withdraw,
    Comment,
    Allocate {
        handler: usize,
    },
    /// Time passes by this many days, then `tick` runs.
    Later {
        days: u16,
    },
    /// The whole happy path at once, to the recipient's handler: send, accept, answer,
    /// accept the answer (formal closure).
    Close {
        to: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (1usize..5).prop_map(|to| Op::Send { to }),
        3 => Just(Op::Accept),
        1 => (1usize..5).prop_map(|to| Op::Forward { to }),
        2 => Just(Op::Answer),
        1 => Just(Op::Clarify),
        1 => Just(Op::Reply),
        2 => Just(Op::AcceptAnswer),
        1 => Just(Op::Withdraw),
        1 => Just(Op::Comment),
        1 => (0usize..8).prop_map(|handler| Op::Allocate { handler }),
        2 => (1u16..400).prop_map(|days| Op::Later { days }),
        2 => prop_oneof![Just(1usize), Just(2), Just(4)].prop_map(|to| Op::Close { to }),
    ]
}

/// Mostly the two handlers who drive a request, sometimes anyone.
fn actor() -> impl Strategy<Value = usize> {
    prop_oneof![3 => Just(0usize), 3 => Just(1usize), 2 => 0usize..8]
}

fn user_id(a: &Actor) -> imi_core::UserId {
    match a {
        Actor::User(p) => p.user(),
        _ => unreachable!(),
    }
}

async fn apply(w: &World, case: usize, actor: usize, op: &Op) {
    let (id, _, secret, _) = &w.cases[case];
    let now = w.clock.now();
    let command = match op {
        Op::Send { to } => C::Send {
            recipient: w.authorities[*to],
            needed_by: (now + chrono::Duration::days(30)).date_naive(),
        },
        Op::Accept => C::Accept { days: 10 },
        Op::Forward { to } => C::Forward {
            to: w.authorities[*to],
        },
        Op::Answer => {
            let mut answers = Answers::new();
            answers.set("authentic".parse().unwrap(), AnswerValue::YesNo(true));
            answers.set(
                "remark".parse().unwrap(),
                AnswerValue::Text(format!("{secret} is known")),
            );
            C::Answer { answers }
        }
        Op::Clarify => C::AskClarification {
            text: "which diploma?".into(),
        },
        Op::Reply => C::ReplyClarification {
            text: "the first one".into(),
        },
        Op::AcceptAnswer => C::AcceptAnswer { rating: None },
        Op::Withdraw => C::Withdraw {
            reason: "no longer needed".into(),
        },
        Op::Comment => C::Comment {
            text: "a note".into(),
        },
        Op::Allocate { handler } => C::Allocate {
            handler: user_id(&w.actors[*handler]),
        },
        Op::Close { to } => {
            let handler = match to {
                1 => 1,
                2 => 4,
                _ => 7,
            };
            let steps = [
                (0, Op::Send { to: *to }),
                (handler, Op::Accept),
                (handler, Op::Answer),
                (0, Op::AcceptAnswer),
            ];
            for (actor, op) in steps {
                Box::pin(apply(w, case, actor, &op)).await;
            }
            return;
        }
        Op::Later { days } => {
            let later = now + chrono::Duration::days(i64::from(*days));
            w.clock.set(later);
            w.engine.tick(later, 1_000).await.unwrap();
            return;
        }
    };
    // Refusals (wrong party, wrong state) are part of the game.
    let _ = w
        .engine
        .act_on_request(&w.actors[actor], *id, command, None)
        .await;
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Entitled {
    Must,
    MustNot,
}

/// The rules, from the reference: who may see a case's personal data now.
fn entitled(
    w: &World,
    user: usize,
    state: &RequestState,
    blocked: bool,
    procedure: &str,
) -> Entitled {
    let (authority, right, scope) = USERS[user];
    let covers = scope.is_none_or(|p| p == procedure);
    let me = w.authorities[authority];
    if blocked || !covers {
        return Entitled::MustNot;
    }
    if me == w.authorities[0] && right == Right::RequestHandler {
        return Entitled::Must;
    }
    let accepted_recipient = match state {
        RequestState::Accepted { recipient, .. }
        | RequestState::Answered { recipient }
        | RequestState::ClarificationRequested { recipient } => Some(*recipient),
        RequestState::Closed { recipient, .. } => *recipient,
        _ => None,
    };
    if accepted_recipient == Some(me) && matches!(right, Right::RequestHandler | Right::Allocator) {
        Entitled::Must
    } else {
        Entitled::MustNot
    }
}

async fn check(w: &World) -> Result<(), TestCaseError> {
    for (user, actor) in w.actors.iter().enumerate() {
        let mut inbox = String::new();
        let mut page = PageRequest::first(100).unwrap();
        loop {
            let got = w
                .engine
                .inbox(actor, &InboxQuery::default(), page.clone())
                .await
                .unwrap();
            inbox.push_str(&format!("{:?}", got.items));
            match got.next {
                Some(c) => page = PageRequest::first(100).unwrap().after(c),
                None => break,
            }
        }
        for (id, procedure, secret, mistake) in &w.cases {
            let (truth, _) = w.engine.request(&Actor::System, *id).await.unwrap();
            let request = &truth.case.request;
            let rule = entitled(w, user, request.state(), request.is_blocked(), procedure);
            let read = w.engine.request(actor, *id).await;
            let shown = read
                .as_ref()
                .map(|(v, _)| format!("{:?}", v.case).contains(secret.as_str()))
                .unwrap_or(false);
            let timeline = match w.engine.request_timeline(actor, *id).await {
                Ok(t) => format!("{t:?}"),
                Err(_) => String::new(),
            };
            let found = w
                .engine
                .find_data_subject(actor, std::slice::from_ref(secret))
                .await
                .unwrap();
            let export = w
                .engine
                .export_data_subject(actor, std::slice::from_ref(secret))
                .await
                .unwrap()
                .to_string();
            let context = format!(
                "user {user}, procedure {procedure}, state {:?}, blocked {}",
                request.state(),
                request.is_blocked()
            );
            // The drafting history belongs to the requesting side: nobody else ever
            // sees what the draft held before it was corrected, whatever else they may see.
            let drafter = rule == Entitled::Must && USERS[user].0 == 0;
            if drafter {
                prop_assert!(
                    timeline.contains(mistake.as_str()),
                    "the requester does not see its own drafting history: {context}"
                );
            } else {
                for (read, what) in [
                    (&timeline, "timeline"),
                    (&inbox, "inbox"),
                    (&export, "export"),
                ] {
                    prop_assert!(
                        !read.contains(mistake.as_str()),
                        "{what} shows the drafting history: {context}"
                    );
                }
                prop_assert!(
                    !read
                        .as_ref()
                        .map(|(v, _)| format!("{:?}", v.case).contains(mistake.as_str()))
                        .unwrap_or(false),
                    "request read shows the drafting history: {context}"
                );
            }
            match rule {
                Entitled::MustNot => {
                    prop_assert!(!shown, "request read leaks: {context}");
                    prop_assert!(
                        !timeline.contains(secret.as_str()),
                        "timeline leaks: {context}"
                    );
                    prop_assert!(!inbox.contains(secret.as_str()), "inbox leaks: {context}");
                    prop_assert!(
                        found.iter().all(|v| v.case.id != *id),
                        "search finds: {context}"
                    );
                    prop_assert!(!export.contains(secret.as_str()), "export leaks: {context}");
                }
                Entitled::Must => {
                    prop_assert!(shown, "entitled reader does not see: {context}");
                    prop_assert!(
                        found.iter().any(|v| v.case.id == *id),
                        "search misses: {context}"
                    );
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn no_read_returns_personal_data_the_reader_may_not_see(
        procedures in prop::collection::vec(any::<bool>(), 1..4),
        steps in prop::collection::vec((0usize..3, actor(), op()), 0..24),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let w = world(&procedures).await;
            for (case, actor, op) in &steps {
                apply(&w, case % w.cases.len(), *actor, op).await;
            }
            check(&w).await
        })?;
    }
}
