//! Beyond cross-border: requests between two authorities of one country where the
//! procedure allows national use, and a general procedure for horizontal questions that
//! is nothing but a catalogue entry.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should panic

use std::sync::Arc;

use imi_core::catalogue::{AnswerValue, Answers, Catalogue, CatalogueSource, Right};
use imi_core::request::{RequestCommand as C, Stage};
use imi_core::{
    Country, Engine, EngineError, Language, LocalisedText, ManualClock, access::Actor,
    authority::Competence, authority::NewAuthority, store::MemoryStore, user::Grant,
    user::GrantScope, user::NewUser,
};

const HORIZONTAL: &str = r#"
id = "horizontal"
[name]
en = "Horizontal questions"
[[procedure]]
id = "general-question"
kind = "request"
question_set = "general-question"
national_use = true
[procedure.name]
en = "General question not tied to one legal act"
[[procedure]]
id = "cross-border-only"
kind = "request"
question_set = "general-question"
[procedure.name]
en = "Cross-border only"
"#;

const SET: &str = r#"
id = "general-question"
version = 1
[title]
en = "General question"
[[group]]
id = "q"
[group.title]
en = "Question"
[[group.question]]
id = "question"
type = "free-text"
required = "to-send"
[group.question.label]
en = "Your question"
[[group.question]]
id = "reply"
type = "free-text"
required = "to-send"
answered_by = "responder"
[group.question.label]
en = "Reply"
"#;

async fn setup() -> (Engine, Vec<Actor>, Vec<imi_core::AuthorityId>) {
    let clock = Arc::new(ManualClock::new("2026-11-22T09:00:00Z".parse().unwrap()));
    let engine = Engine::new(Arc::new(MemoryStore::new()), clock);
    let sources = [
        CatalogueSource::new("areas/horizontal.toml", HORIZONTAL),
        CatalogueSource::new("question-sets/general-question.toml", SET),
    ];
    engine
        .publish_catalogue(&Actor::System, Catalogue::load(&sources).unwrap())
        .unwrap();
    let mut actors = Vec::new();
    let mut ids = Vec::new();
    for name in ["Bundesnetzagentur", "Bundeskartellamt"] {
        let mut n = NewAuthority::new(
            Country::Germany,
            LocalisedText::new(Language::German, name).unwrap(),
        );
        n.competences = vec![Competence {
            area: "horizontal".parse().unwrap(),
            keywords: vec![],
        }];
        let a = engine.register_authority(&Actor::System, n).await.unwrap();
        for p in ["general-question", "cross-border-only"] {
            engine
                .grant_procedure(&Actor::System, a.id(), &p.parse().unwrap())
                .await
                .unwrap();
        }
        let u = engine
            .create_user(
                &Actor::System,
                a.id(),
                NewUser {
                    name: "U".into(),
                    email: "u@x.de".parse().unwrap(),
                    language: Language::German,
                },
            )
            .await
            .unwrap();
        engine
            .set_grants(
                &Actor::System,
                u.id(),
                vec![Grant::new(Right::RequestHandler, GrantScope::Everything)],
            )
            .await
            .unwrap();
        actors.push(engine.actor_for(u.id()).await.unwrap());
        ids.push(a.id());
    }
    (engine, actors, ids)
}

#[tokio::test]
async fn national_use_where_the_procedure_allows_it() {
    let (engine, actors, ids) = setup().await;
    let mut question = Answers::new();
    question.set(
        "question".parse().unwrap(),
        AnswerValue::Text("Wer ist zuständig?".into()),
    );
    for (procedure, allowed) in [("general-question", true), ("cross-border-only", false)] {
        let id = engine
            .create_request(&actors[0], &procedure.parse().unwrap())
            .await
            .unwrap()
            .case
            .id;
        engine
            .act_on_request(
                &actors[0],
                id,
                C::SaveDraft {
                    answers: question.clone(),
                },
                None,
            )
            .await
            .unwrap();
        let sent = engine
            .act_on_request(
                &actors[0],
                id,
                C::Send {
                    recipient: ids[1],
                    needed_by: "2026-12-31".parse().unwrap(),
                },
                None,
            )
            .await;
        if allowed {
            let (view, _) = sent.unwrap();
            assert_eq!(view.case.request.state().stage(), Stage::AwaitingAcceptance);
            engine
                .act_on_request(&actors[1], id, C::Accept { days: 5 }, None)
                .await
                .unwrap();
            let mut reply = Answers::new();
            reply.set("reply".parse().unwrap(), AnswerValue::Text("Wir.".into()));
            let (view, _) = engine
                .act_on_request(&actors[1], id, C::Answer { answers: reply }, None)
                .await
                .unwrap();
            assert_eq!(view.case.request.state().stage(), Stage::Answered);
        } else {
            assert!(
                matches!(sent, Err(EngineError::Transition(_))),
                "{procedure}: national use refused"
            );
        }
    }
}

#[tokio::test]
async fn inbox_by_deadline_sorted_with_waiting_for_me() {
    let (engine, actors, ids) = setup().await;
    let mut question = Answers::new();
    question.set("question".parse().unwrap(), AnswerValue::Text("?".into()));
    let mut made = Vec::new();
    for needed_by in ["2026-12-31", "2026-12-05", "2027-01-15", "2026-12-20"] {
        let id = engine
            .create_request(&actors[0], &"general-question".parse().unwrap())
            .await
            .unwrap()
            .case
            .id;
        engine
            .act_on_request(
                &actors[0],
                id,
                C::SaveDraft {
                    answers: question.clone(),
                },
                None,
            )
            .await
            .unwrap();
        engine
            .act_on_request(
                &actors[0],
                id,
                C::Send {
                    recipient: ids[1],
                    needed_by: needed_by.parse().unwrap(),
                },
                None,
            )
            .await
            .unwrap();
        made.push(id);
    }
    // The fourth is accepted with a committed date of 2026-11-24, then answered.
    engine
        .act_on_request(&actors[1], made[3], C::Accept { days: 2 }, None)
        .await
        .unwrap();
    let order = |page: imi_core::Page<imi_core::case::RequestView>| {
        page.items.iter().map(|v| v.case.id).collect::<Vec<_>>()
    };
    let all = engine
        .inbox_by_deadline(
            &actors[1],
            imi_core::catalogue::Side::Responder,
            None,
            false,
            imi_core::PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        order(all),
        vec![made[3], made[1], made[0], made[2]],
        "soonest deadline first"
    );
    let soon = engine
        .inbox_by_deadline(
            &actors[1],
            imi_core::catalogue::Side::Responder,
            Some("2026-12-10".parse().unwrap()),
            false,
            imi_core::PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(order(soon), vec![made[3], made[1]]);
    let mut reply = Answers::new();
    reply.set("reply".parse().unwrap(), AnswerValue::Text("!".into()));
    engine
        .act_on_request(&actors[1], made[3], C::Answer { answers: reply }, None)
        .await
        .unwrap();
    let mine = engine
        .inbox_by_deadline(
            &actors[0],
            imi_core::catalogue::Side::Requester,
            None,
            true,
            imi_core::PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        order(mine),
        vec![made[3]],
        "only the answered one waits for the requester"
    );
    let theirs = engine
        .inbox_by_deadline(
            &actors[1],
            imi_core::catalogue::Side::Responder,
            None,
            true,
            imi_core::PageRequest::first(2).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        order(theirs),
        vec![made[1], made[0]],
        "paged, waiting for the responder"
    );
}

/// A recipient that is also the requester's coordinator (a national request to the
/// national coordinator, whose handler also holds the referral-handler right) reads what
/// was sent, never the requester's earlier drafts.
#[tokio::test]
async fn a_coordinating_recipient_does_not_read_the_drafting_history() {
    let (engine, actors, ids) = setup().await;
    // The second authority is Germany's national coordinator; its user handles requests
    // and referrals.
    engine
        .appoint_coordinator(
            &Actor::System,
            ids[1],
            Some(imi_core::authority::CoordinatorRole::National),
        )
        .await
        .unwrap();
    let Actor::User(p) = &actors[1] else {
        unreachable!()
    };
    engine
        .set_grants(
            &Actor::System,
            p.user(),
            vec![
                Grant::new(Right::RequestHandler, GrantScope::Everything),
                Grant::new(Right::ReferralHandler, GrantScope::Everything),
            ],
        )
        .await
        .unwrap();
    let coordinator = engine.actor_for(p.user()).await.unwrap();
    let id = engine
        .create_request(&actors[0], &"general-question".parse().unwrap())
        .await
        .unwrap()
        .case
        .id;
    for text in ["Mistakenly about Herr Falschname", "Wer ist zuständig?"] {
        let mut a = Answers::new();
        a.set("question".parse().unwrap(), AnswerValue::Text(text.into()));
        engine
            .act_on_request(&actors[0], id, C::SaveDraft { answers: a }, None)
            .await
            .unwrap();
    }
    engine
        .act_on_request(
            &actors[0],
            id,
            C::Send {
                recipient: ids[1],
                needed_by: "2026-12-20".parse().unwrap(),
            },
            None,
        )
        .await
        .unwrap();
    engine
        .act_on_request(&coordinator, id, C::Accept { days: 5 }, None)
        .await
        .unwrap();
    let theirs = format!(
        "{:?}",
        engine.request_timeline(&coordinator, id).await.unwrap()
    );
    assert!(!theirs.contains("Falschname"), "{theirs}");
    assert!(theirs.contains("Wer ist zuständig?"), "{theirs}");
    let ours = format!(
        "{:?}",
        engine.request_timeline(&actors[0], id).await.unwrap()
    );
    assert!(ours.contains("Falschname"));
}
