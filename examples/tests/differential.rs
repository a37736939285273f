//! Differential property test: the same random request commands from random actors,
//! each followed by the scheduler's tick, run on the memory, SQLite and sled backends,
//! give identical outcomes, views, timelines, inboxes (by stage and by deadline) and
//! search results (data subjects, directory); every backend's documents and indexes
//! agree after every step; along the way no recipient sees personal data before accepting,
//! and timelines stay ordered and complete.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should panic

use std::sync::Arc;

use imi_core::catalogue::{AnswerValue, Answers, Catalogue, CatalogueSource, Right, Side};
use imi_core::request::{Intervention, Rating, RequestCommand as C, Stage};
use imi_core::{
    AuthorityId, CaseId, Country, DirectoryQuery, Engine, IdGenerator, InboxQuery, Language,
    LanguagePreferences, LocalisedText, ManualClock, PageRequest, access::Actor,
    authority::AuthorityUpdate, authority::Competence, authority::CoordinatorRole,
    authority::NewAuthority, store::MemoryStore, store::Store, user::Grant, user::GrantScope,
    user::NewUser,
};
use imi_store_sled::{Durability, SledConfig, SledStore};
use imi_store_sqlite::{SqliteConfig, SqliteStore, Synchronous};
use proptest::prelude::*;

const AREA: &str = "id = \"pq\"\n[name]\nen = \"PQ\"\n[[procedure]]\nid = \"check\"\nkind = \"request\"\nquestion_set = \"q\"\n[procedure.name]\nen = \"Check\"\n";
const SET: &str = "id = \"q\"\nversion = 1\n[title]\nen = \"Q\"\n[[group]]\nid = \"g\"\n[group.title]\nen = \"G\"\n[[group.question]]\nid = \"name\"\ntype = \"free-text\"\nrequired = \"to-send\"\npersonal_data = true\n[group.question.label]\nen = \"Name\"\n[[group.question]]\nid = \"ok\"\ntype = \"yes-no\"\nrequired = \"to-send\"\nanswered_by = \"responder\"\n[group.question.label]\nen = \"OK?\"\n[[group.question]]\nid = \"extra\"\ntype = \"yes-no\"\nanswered_by = \"responder\"\n[group.question.label]\nen = \"Extra?\"\n";

/// One world on one backend: DK requester, FR and BE responders, a FR allocator, the DK
/// national coordinator, and an Italian stranger.
struct World {
    engine: Engine,
    clock: Arc<ManualClock>,
    actors: Vec<Actor>,
    authorities: Vec<AuthorityId>,
    case: CaseId,
    _dir: Option<tempfile::TempDir>,
}

async fn world(store: Arc<dyn Store>, dir: Option<tempfile::TempDir>) -> World {
    let clock = Arc::new(ManualClock::new("2026-11-22T09:00:00Z".parse().unwrap()));
    let engine = Engine::new(store, clock.clone()).with_ids(IdGenerator::seeded(42));
    let sources = [
        CatalogueSource::new("areas/pq.toml", AREA),
        CatalogueSource::new("question-sets/q.toml", SET),
    ];
    engine
        .publish_catalogue(&Actor::System, Catalogue::load(&sources).unwrap())
        .unwrap();
    let mut actors = Vec::new();
    let mut authorities = Vec::new();
    let specs = [
        (Country::Denmark, vec![Right::RequestHandler]),
        (Country::France, vec![Right::RequestHandler]),
        (Country::Belgium, vec![Right::RequestHandler]),
        (Country::France, vec![Right::Allocator]),
        (Country::Denmark, vec![Right::ReferralHandler]),
        (Country::Italy, vec![Right::RequestHandler]),
    ];
    for (i, (country, rights)) in specs.into_iter().enumerate() {
        let authority = match i {
            3 => authorities[1],
            _ => {
                let mut n = NewAuthority::new(
                    country,
                    LocalisedText::new(Language::English, format!("Authority {i}")).unwrap(),
                );
                n.competences = vec![Competence {
                    area: "pq".parse().unwrap(),
                    keywords: vec![],
                }];
                let a = engine.register_authority(&Actor::System, n).await.unwrap();
                engine
                    .grant_procedure(&Actor::System, a.id(), &"check".parse().unwrap())
                    .await
                    .unwrap();
                a.id()
            }
        };
        if i == 4 {
            engine
                .appoint_coordinator(&Actor::System, authority, Some(CoordinatorRole::National))
                .await
                .unwrap();
        }
        let u = engine
            .create_user(
                &Actor::System,
                authority,
                NewUser {
                    name: format!("User {i}"),
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
                rights
                    .into_iter()
                    .map(|r| Grant::new(r, GrantScope::Everything))
                    .collect(),
            )
            .await
            .unwrap();
        actors.push(engine.actor_for(u.id()).await.unwrap());
        authorities.push(authority);
    }
    engine
        .update_authority(
            &Actor::System,
            authorities[1],
            AuthorityUpdate {
                uses_allocation: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let case = engine
        .create_request(&actors[0], &"check".parse().unwrap())
        .await
        .unwrap()
        .case
        .id;
    World {
        engine,
        clock,
        actors,
        authorities,
        case,
        _dir: dir,
    }
}

async fn worlds() -> Vec<(&'static str, World)> {
    let sqlite_dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(
        sqlite_dir.path().join("d.db"),
        SqliteConfig {
            synchronous: Synchronous::Normal,
            ..SqliteConfig::default()
        },
    )
    .await
    .unwrap();
    let sled_dir = tempfile::tempdir().unwrap();
    let sled = SledStore::open(
        sled_dir.path().join("d"),
        SledConfig {
            durability: Durability::Relaxed,
            cache_bytes: 8 << 20,
            ..SledConfig::default()
        },
    )
    .await
    .unwrap();
    vec![
        ("memory", world(Arc::new(MemoryStore::new()), None).await),
        ("sqlite", world(Arc::new(sqlite), Some(sqlite_dir)).await),
        ("sled", world(Arc::new(sled), Some(sled_dir)).await),
    ]
}

fn command(pick: usize, w: &World) -> C {
    let a = &w.authorities;
    let today = w.clock_today();
    let mut answers = Answers::new();
    answers.set(
        "name".parse().unwrap(),
        AnswerValue::Text("Marie Dubois".into()),
    );
    let mut reply = Answers::new();
    reply.set("ok".parse().unwrap(), AnswerValue::YesNo(true));
    let child = IdGenerator::seeded(pick as u64).case("2026-11-22T09:00:00Z".parse().unwrap());
    match pick % 20 {
        0 => C::SaveDraft { answers },
        1 => C::Send {
            recipient: a[1],
            needed_by: today + chrono::Duration::days(30),
        },
        2 => C::Accept { days: 10 },
        3 => C::Answer { answers: reply },
        4 => C::AcceptAnswer {
            rating: Some(Rating {
                timeliness: 4,
                effort: 5,
            }),
        },
        5 => C::AskClarification {
            text: "Which?".into(),
        },
        6 => C::ReplyClarification {
            text: "That one.".into(),
        },
        7 => C::Forward { to: a[2] },
        8 => C::Forward { to: a[5] },
        9 => C::ProposeDate {
            date: today + chrono::Duration::days(45),
        },
        10 => C::AcceptDate,
        11 => C::RefuseDate,
        12 => C::Withdraw {
            reason: "No longer needed".into(),
        },
        13 => C::Comment {
            text: "A note".into(),
        },
        14 => C::Refer {
            comment: "Please look".into(),
        },
        15 => C::Intervene(Intervention::Remind),
        16 => C::Intervene(Intervention::Close {
            reason: "Settled".into(),
        }),
        17 => C::Split {
            to: a[2],
            questions: ["extra".parse().unwrap()].into(),
            child,
        },
        18 => C::Send {
            recipient: a[0],
            needed_by: today,
        },
        _ => C::SaveDraft {
            answers: Answers::new(),
        },
    }
}

impl World {
    fn clock_today(&self) -> chrono::NaiveDate {
        imi_core::Clock::now(self.clock.as_ref()).date_naive()
    }

    /// Everything observable after a step, as text.
    async fn observe(&self) -> String {
        let mut out = String::new();
        for actor in &self.actors {
            match self.engine.request(actor, self.case).await {
                Ok((view, _)) => out.push_str(&serde_json::to_string(&view).unwrap()),
                Err(e) => out.push_str(&format!("err:{e}")),
            }
            if let Ok(timeline) = self.engine.request_timeline(actor, self.case).await {
                out.push_str(&serde_json::to_string(&timeline).unwrap());
            }
            for side in [Side::Requester, Side::Responder] {
                let inbox = self
                    .engine
                    .inbox(
                        actor,
                        &InboxQuery {
                            side: Some(side),
                            stage: None,
                            ..Default::default()
                        },
                        PageRequest::default(),
                    )
                    .await;
                let ids: Vec<String> = inbox
                    .map(|p| {
                        p.items
                            .iter()
                            .map(|v| format!("{}:{}", v.case.id, v.case.request.state().stage()))
                            .collect()
                    })
                    .unwrap_or_default();
                out.push_str(&ids.join(","));
                let by_deadline = self
                    .engine
                    .inbox_by_deadline(actor, side, None, false, PageRequest::default())
                    .await;
                out.push_str(&match by_deadline {
                    Ok(p) => p
                        .items
                        .iter()
                        .map(|v| v.case.id.to_string())
                        .collect::<Vec<_>>()
                        .join(","),
                    Err(e) => format!("err:{e}"),
                });
            }
            // Search: data subjects by name, and the directory's recipients for the
            // procedure.
            match self
                .engine
                .find_data_subject(actor, &["marie".to_owned()])
                .await
            {
                Ok(found) => {
                    for v in found {
                        out.push_str(&format!("subject:{}:{}", v.case.id, v.case.events));
                    }
                }
                Err(e) => out.push_str(&format!("subject-err:{e}")),
            }
            let query = DirectoryQuery {
                text: Some("authority".into()),
                procedure: Some("check".parse().unwrap()),
                ..DirectoryQuery::default()
            };
            let hits = self
                .engine
                .search_directory(
                    actor,
                    &query,
                    &LanguagePreferences::only(Language::English),
                    PageRequest::default(),
                )
                .await
                .map(|p| {
                    p.items
                        .iter()
                        .map(|h| format!("{}={}", h.authority.id(), h.name))
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_else(|e| format!("err:{e}"));
            out.push_str(&hits);
        }
        out
    }
}

async fn run(steps: Vec<(usize, usize, i64)>) -> Result<(), TestCaseError> {
    let worlds = worlds().await;
    for (actor, pick, days) in steps {
        let mut outcomes = Vec::new();
        for (name, w) in &worlds {
            w.clock.advance(chrono::Duration::days(days));
            let cmd = command(pick, w);
            let result = w
                .engine
                .act_on_request(&w.actors[actor % w.actors.len()], w.case, cmd, None)
                .await;
            // The scheduler runs after every step: reminders, escalations, retention.
            let now = imi_core::Clock::now(w.clock.as_ref());
            let ticked = w
                .engine
                .tick(now, 100)
                .await
                .map(|r| format!("{r:?}"))
                .map_err(|e| e.to_string());
            outcomes.push((
                name,
                result
                    .map(|(v, _)| serde_json::to_string(&v).unwrap())
                    .map_err(|e| e.to_string())
                    .and_then(|v| ticked.map(|t| format!("{v}{t}"))),
                w.observe().await,
            ));
            // Invariants on each backend.
            let (view, _) = w.engine.request(&Actor::System, w.case).await.unwrap();
            let stage = view.case.request.state().stage();
            let fr = &w.actors[1];
            if let Ok((seen, _)) = w.engine.request(fr, w.case).await {
                let accepted = view.case.request.state().recipient_may_see_personal_data();
                let has_name = seen
                    .case
                    .request
                    .request_answers()
                    .get(&"name".parse().unwrap())
                    .is_some();
                prop_assert!(
                    accepted || !has_name,
                    "personal data before acceptance on {name} in {stage}"
                );
            }
            let timeline = w
                .engine
                .request_timeline(&Actor::System, w.case)
                .await
                .unwrap_or_default();
            let seqs: Vec<u64> = timeline.iter().map(|t| t.seq).collect();
            prop_assert_eq!(seqs, (1..=timeline.len() as u64).collect::<Vec<_>>());
            prop_assert!(matches!(
                stage,
                Stage::Draft
                    | Stage::AwaitingAcceptance
                    | Stage::Accepted
                    | Stage::Answered
                    | Stage::ClarificationRequested
                    | Stage::Closed
                    | Stage::Withdrawn
            ));
        }
        for (name, w) in &worlds {
            let report = w
                .engine
                .check_request_integrity(&Actor::System)
                .await
                .unwrap();
            prop_assert!(
                report.is_consistent(),
                "{} is inconsistent: {:?}",
                name,
                report
            );
        }
        let (_, first_result, first_obs) = &outcomes[0];
        for (name, result, obs) in &outcomes[1..] {
            prop_assert_eq!(result, first_result, "{} differs from memory", name);
            prop_assert_eq!(obs, first_obs, "{} observes differently from memory", name);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn memory_sqlite_and_sled_behave_identically(steps in proptest::collection::vec((0..6usize, 0..20usize, 0..4i64), 1..40)) {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(run(steps))?;
    }
}
