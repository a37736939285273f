//! Alerts never vanish (issue 18, finding 3): a broadcast to a country where nobody can
//! receive it, a distribution to an authority without an incoming-alert handler, and an
//! alert waiting for a validation nobody can give are refused with the countries or
//! authorities named, and nothing is written; once someone can receive it, it goes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should panic

use std::collections::BTreeSet;
use std::sync::Arc;

use imi_core::alert::{AlertCommand as C, AlertStage};
use imi_core::catalogue::{AnswerValue, Answers, Right};
use imi_core::conformance::alert_world_with;
use imi_core::{
    AlertNetwork, CaseId, Country, EngineError, Language, LocalisedText, Participant,
    access::Actor, authority::Competence, authority::NewAuthority, store::MemoryStore, user::Grant,
    user::GrantScope, user::NewUser,
};

fn user(a: &Actor) -> imi_core::UserId {
    match a {
        Actor::User(p) => p.user(),
        _ => unreachable!(),
    }
}

fn answers() -> Answers {
    let mut a = Answers::new();
    a.set(
        "professional".parse().unwrap(),
        AnswerValue::Text("Dr Jens Hansen".into()),
    );
    a.set(
        "scope".parse().unwrap(),
        AnswerValue::Choice("prohibition".parse().unwrap()),
    );
    a
}

fn to(countries: &[Country]) -> C {
    C::Submit {
        recipients: countries.iter().map(|c| Participant::from(*c)).collect(),
    }
}

fn refused(r: Result<impl std::fmt::Debug, EngineError>, names: &[&str]) {
    match r {
        Err(EngineError::NobodyToReceive { missing, .. }) => assert_eq!(missing, names),
        other => panic!("expected nobody-to-receive for {names:?}, got {other:?}"),
    }
}

#[tokio::test]
async fn alerts_go_only_where_someone_can_receive_them() {
    let w = alert_world_with(
        Arc::new(MemoryStore::new()),
        &[Country::France, Country::Germany],
        1,
    )
    .await;
    let e = &w.engine;
    let procedure = "pq-alert".parse().unwrap();
    let draft = || async {
        let id: CaseId = e.create_alert(&w.sender, &procedure).await.unwrap().case.id;
        e.act_on_alert(&w.sender, id, C::SaveDraft { answers: answers() }, None)
            .await
            .unwrap();
        id
    };

    // Germany's only incoming alert coordinator leaves, and Germany has no standing
    // handlers: an alert to France and Germany would reach nobody in Germany.
    e.disable_user(&Actor::System, user(&w.countries[1].coordinator))
        .await
        .unwrap();
    let id = draft().await;
    refused(
        e.act_on_alert(
            &w.sender,
            id,
            to(&[Country::France, Country::Germany]),
            None,
        )
        .await,
        &["DE"],
    );
    let (view, _) = e.alert(&w.sender, id).await.unwrap();
    assert_eq!(
        view.case.alert.state().stage(),
        AlertStage::Draft,
        "nothing written"
    );

    // Germany designates a standing handler: the alert reaches it at broadcast.
    let de_handler = w.countries[1].handlers[0].1;
    e.set_alert_network(
        &Actor::System,
        Country::Germany.into(),
        &procedure,
        AlertNetwork {
            validates_outgoing: false,
            handlers: BTreeSet::from([de_handler]),
        },
    )
    .await
    .unwrap();
    let (view, _) = e
        .act_on_alert(
            &w.sender,
            id,
            to(&[Country::France, Country::Germany]),
            None,
        )
        .await
        .unwrap();
    assert_eq!(view.case.alert.state().stage(), AlertStage::Broadcast);
    assert!(view.case.alert.is_handler(de_handler));

    // France's coordinator distributes to an authority none of whose users handles
    // incoming alerts: refused, naming it; to the French handler: fine.
    let mut n = NewAuthority::new(
        Country::France,
        LocalisedText::new(Language::French, "Autorité sans gestionnaire").unwrap(),
    );
    n.competences = vec![Competence {
        area: "pq".parse().unwrap(),
        keywords: vec![],
    }];
    let empty = e.register_authority(&Actor::System, n).await.unwrap();
    e.grant_procedure(&Actor::System, empty.id(), &procedure)
        .await
        .unwrap();
    let clerk = e
        .create_user(
            &Actor::System,
            empty.id(),
            NewUser {
                name: "Clerk".into(),
                email: "c@x.fr".parse().unwrap(),
                language: Language::French,
            },
        )
        .await
        .unwrap();
    e.set_grants(
        &Actor::System,
        clerk.id(),
        vec![Grant::new(Right::Viewer, GrantScope::Everything)],
    )
    .await
    .unwrap();
    let fr = &w.countries[0];
    refused(
        e.act_on_alert(
            &fr.coordinator,
            id,
            C::Distribute {
                to: BTreeSet::from([empty.id()]),
            },
            None,
        )
        .await,
        &[empty.id().to_string().as_str()],
    );
    e.act_on_alert(
        &fr.coordinator,
        id,
        C::Distribute {
            to: BTreeSet::from([fr.handlers[0].1]),
        },
        None,
    )
    .await
    .unwrap();

    // Denmark asks for validation, but its only outgoing coordinator leaves: a submitted
    // alert would wait for nobody.
    e.set_alert_network(
        &Actor::System,
        Country::Denmark.into(),
        &procedure,
        AlertNetwork {
            validates_outgoing: true,
            handlers: BTreeSet::new(),
        },
    )
    .await
    .unwrap();
    e.disable_user(&Actor::System, user(&w.outgoing))
        .await
        .unwrap();
    let second = draft().await;
    refused(
        e.act_on_alert(&w.sender, second, to(&[Country::France]), None)
            .await,
        &["DK"],
    );
    // A new outgoing coordinator is appointed: the alert waits for them.
    let coordinator = e
        .create_user(
            &Actor::System,
            e.actor_for(user(&w.sender))
                .await
                .ok()
                .and_then(|a| match a {
                    Actor::User(p) => Some(p.authority()),
                    _ => None,
                })
                .unwrap(),
            NewUser {
                name: "New coordinator".into(),
                email: "n@x.dk".parse().unwrap(),
                language: Language::Danish,
            },
        )
        .await
        .unwrap();
    e.set_grants(
        &Actor::System,
        coordinator.id(),
        vec![Grant::new(
            Right::OutgoingAlertCoordinator,
            GrantScope::Everything,
        )],
    )
    .await
    .unwrap();
    let (view, _) = e
        .act_on_alert(&w.sender, second, to(&[Country::France]), None)
        .await
        .unwrap();
    assert_eq!(
        view.case.alert.state().stage(),
        AlertStage::PendingValidation
    );
}

/// A store made before the right-holder index existed (no index entries, no marker) gets
/// the index built the first time it is needed, so nothing is refused wrongly.
#[tokio::test]
async fn stores_from_before_the_index_get_it_built() {
    use imi_core::store::Store;
    use imi_core::store::{Scan, WriteBatch};
    let store = Arc::new(MemoryStore::new());
    let w = alert_world_with(store.clone(), &[Country::France], 1).await;
    // Remove the index and its marker (spaces 0x24 and the `right-holders` meta entry).
    let mut batch = WriteBatch::new();
    for e in store
        .scan(&Scan::prefix(&[0x24], 10_000))
        .await
        .unwrap()
        .entries
    {
        batch.delete(e.key);
    }
    for e in store
        .scan(&Scan::prefix(&[0x00], 10_000))
        .await
        .unwrap()
        .entries
    {
        batch.delete(e.key);
    }
    store.commit(batch).await.unwrap();
    assert!(
        store
            .scan(&Scan::prefix(&[0x24], 10))
            .await
            .unwrap()
            .entries
            .is_empty()
    );
    // A fresh engine on the old store.
    let clock = Arc::new(imi_core::ManualClock::new(
        "2026-11-22T10:00:00Z".parse().unwrap(),
    ));
    let engine = imi_core::Engine::new(store.clone(), clock);
    engine
        .publish_catalogue(&Actor::System, w.engine.catalogue().as_ref().clone())
        .unwrap();
    let procedure = "pq-alert".parse().unwrap();
    let id = engine
        .create_alert(&w.sender, &procedure)
        .await
        .unwrap()
        .case
        .id;
    engine
        .act_on_alert(&w.sender, id, C::SaveDraft { answers: answers() }, None)
        .await
        .unwrap();
    let (view, _) = engine
        .act_on_alert(&w.sender, id, to(&[Country::France]), None)
        .await
        .unwrap();
    assert_eq!(view.case.alert.state().stage(), AlertStage::Broadcast);
    assert!(
        !store
            .scan(&Scan::prefix(&[0x24], 10))
            .await
            .unwrap()
            .entries
            .is_empty(),
        "the index was built"
    );
}
