//! Engine scenarios: alerts.

#[allow(unused_imports)]
use super::*;

/// An alert from Denmark to five countries: validation (returned once, then approved),
/// broadcast with one country's standing handler reached in the same commit, manual
/// distribution, acknowledgement, added information, rectification, a proposed and a
/// real closure; incoming coordinators see the restricted summary only, countries outside
/// the broadcast nothing. A second alert is withdrawn. Identical on every backend.
pub async fn engine_alerts(store: Arc<dyn Store>) {
    use crate::alert::{AlertCommand as C, AlertEvent, AlertStage, AlertVisibility};
    use crate::catalogue::{AnswerValue, Answers};
    use crate::{
        AlertBox, AlertNetwork, Country, EngineError, PageRequest, Participant, access::Actor,
    };
    let countries = [
        Country::France,
        Country::Germany,
        Country::Belgium,
        Country::Italy,
        Country::Sweden,
        Country::Austria,
    ];
    let (engine, sender, outgoing, r) = alert_world(Arc::clone(&store), &countries).await;
    let proc_ = "pq-alert".parse().unwrap();
    let dk: Participant = Country::Denmark.into();
    // Denmark validates outgoing alerts; France has a standing handler.
    assert!(matches!(
        engine
            .set_alert_network(&r[0].0, dk, &proc_, AlertNetwork::default())
            .await,
        Err(EngineError::Denied(_))
    ));
    engine
        .set_alert_network(
            &Actor::System,
            dk,
            &proc_,
            AlertNetwork {
                validates_outgoing: true,
                handlers: Default::default(),
            },
        )
        .await
        .unwrap();
    assert!(
        engine
            .set_alert_network(
                &r[0].0,
                Country::France.into(),
                &proc_,
                AlertNetwork {
                    validates_outgoing: false,
                    handlers: [r[1].2].into_iter().collect(),
                },
            )
            .await
            .is_err(),
        "a German authority cannot handle French alerts"
    );
    engine
        .set_alert_network(
            &r[0].0,
            Country::France.into(),
            &proc_,
            AlertNetwork {
                validates_outgoing: false,
                handlers: [r[0].2].into_iter().collect(),
            },
        )
        .await
        .unwrap();

    let id = engine.create_alert(&sender, &proc_).await.unwrap().case.id;
    assert!(matches!(
        engine.create_alert(&r[1].1, &proc_).await,
        Err(EngineError::Denied(_))
    ));
    let mut answers = Answers::new();
    answers.set(
        "professional".parse().unwrap(),
        AnswerValue::Text("Dr Qzx Example".into()),
    );
    answers.set(
        "scope".parse().unwrap(),
        AnswerValue::Choice("prohibition".parse().unwrap()),
    );
    engine
        .act_on_alert(&sender, id, C::SaveDraft { answers }, None)
        .await
        .unwrap();
    let five: std::collections::BTreeSet<Participant> = countries[..5]
        .iter()
        .map(|c| Participant::from(*c))
        .collect();
    let submit = || C::Submit {
        recipients: five.clone(),
    };
    assert!(
        engine
            .act_on_alert(
                &sender,
                id,
                C::Submit {
                    recipients: [dk].into_iter().collect()
                },
                None
            )
            .await
            .is_err(),
        "not to its own country"
    );
    let (view, _) = engine
        .act_on_alert(&sender, id, submit(), None)
        .await
        .unwrap();
    assert_eq!(
        view.case.alert.state().stage(),
        AlertStage::PendingValidation
    );
    assert!(matches!(
        engine.alert(&r[0].0, id).await,
        Err(EngineError::NotFound { .. })
    ));
    let queue = engine
        .alerts(
            &outgoing,
            AlertBox::Validation,
            None,
            PageRequest::first(10).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(queue.items.len(), 1);
    assert_eq!(queue.items[0].visibility, AlertVisibility::Full);
    assert!(
        engine
            .act_on_alert(&sender, id, C::Approve, None)
            .await
            .is_err()
    );
    engine
        .act_on_alert(
            &outgoing,
            id,
            C::Return {
                comment: "name the decision".into(),
            },
            None,
        )
        .await
        .unwrap();
    engine
        .act_on_alert(&sender, id, submit(), None)
        .await
        .unwrap();
    let (view, _) = engine
        .act_on_alert(&outgoing, id, C::Approve, None)
        .await
        .unwrap();
    assert_eq!(view.case.alert.state().stage(), AlertStage::Broadcast);
    assert!(view.case.alert.validated());
    // France's standing handler got it in the broadcast's own commit.
    let fr_handling = engine
        .alerts(
            &r[0].1,
            AlertBox::Handling,
            None,
            PageRequest::first(10).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(fr_handling.items.len(), 1);
    let timeline = engine.alert_timeline(&sender, id).await.unwrap();
    assert!(matches!(
        timeline.last().map(|e| &e.event),
        Some(AlertEvent::Distributed {
            automatic: true,
            ..
        })
    ));

    // Incoming coordinators: the restricted summary; outside the broadcast: nothing.
    for (coord, _, _) in &r[..5] {
        let incoming = engine
            .alerts(
                coord,
                AlertBox::Incoming,
                None,
                PageRequest::first(10).unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(incoming.items.len(), 1);
        let (seen, _) = engine.alert(coord, id).await.unwrap();
        assert_eq!(seen.visibility, AlertVisibility::Summary);
        assert!(
            seen.case
                .alert
                .answers()
                .get(&"professional".parse().unwrap())
                .is_none()
        );
        assert!(
            seen.case
                .alert
                .answers()
                .get(&"scope".parse().unwrap())
                .is_some()
        );
    }
    for actor in [&r[5].0, &r[5].1, &r[1].1] {
        assert!(matches!(
            engine.alert(actor, id).await,
            Err(EngineError::NotFound { .. })
        ));
    }
    // Germany distributes by hand; its handler sees all, acknowledges, adds information.
    assert!(
        engine
            .act_on_alert(
                &r[0].0,
                id,
                C::Distribute {
                    to: [r[1].2].into_iter().collect()
                },
                None
            )
            .await
            .is_err(),
        "France cannot give it to a German authority"
    );
    engine
        .act_on_alert(
            &r[1].0,
            id,
            C::Distribute {
                to: [r[1].2].into_iter().collect(),
            },
            None,
        )
        .await
        .unwrap();
    let (seen, _) = engine.alert(&r[1].1, id).await.unwrap();
    assert_eq!(seen.visibility, AlertVisibility::Full);
    assert!(
        seen.case
            .alert
            .answers()
            .get(&"professional".parse().unwrap())
            .is_some()
    );
    engine
        .act_on_alert(&r[1].1, id, C::Acknowledge, None)
        .await
        .unwrap();
    assert!(
        engine
            .act_on_alert(&r[1].1, id, C::Acknowledge, None)
            .await
            .is_err()
    );
    engine
        .act_on_alert(&r[0].1, id, C::Acknowledge, None)
        .await
        .unwrap();
    engine
        .act_on_alert(
            &r[1].1,
            id,
            C::AddInformation {
                text: "Qzx also practised in Munich".into(),
            },
            None,
        )
        .await
        .unwrap();
    let summary = format!("{:?}", engine.alert_timeline(&r[2].0, id).await.unwrap());
    assert!(!summary.contains("Qzx"), "{summary}");
    assert!(format!("{:?}", engine.alert_timeline(&r[1].1, id).await.unwrap()).contains("Munich"));
    let mut fix = Answers::new();
    fix.set(
        "scope".parse().unwrap(),
        AnswerValue::Choice("restriction".parse().unwrap()),
    );
    assert!(
        engine
            .act_on_alert(
                &r[1].1,
                id,
                C::Rectify {
                    answers: fix.clone(),
                    reason: "x".into()
                },
                None
            )
            .await
            .is_err()
    );
    engine
        .act_on_alert(
            &sender,
            id,
            C::Rectify {
                answers: fix,
                reason: "the decision changed".into(),
            },
            None,
        )
        .await
        .unwrap();
    let (view, _) = engine
        .act_on_alert(
            &r[1].1,
            id,
            C::ProposeClosure {
                reason: "the prohibition expired".into(),
            },
            None,
        )
        .await
        .unwrap();
    assert!(view.case.alert.closure_proposed());
    assert!(
        engine
            .act_on_alert(
                &r[1].1,
                id,
                C::Close {
                    reason: "over".into()
                },
                None
            )
            .await
            .is_err()
    );
    let (view, _) = engine
        .act_on_alert(
            &sender,
            id,
            C::Close {
                reason: "the risk is over".into(),
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(view.case.alert.state().stage(), AlertStage::Closed);
    assert_eq!(view.case.alert.acknowledged().len(), 2);
    assert!(
        engine
            .act_on_alert(
                &sender,
                id,
                C::AddInformation {
                    text: "late".into()
                },
                None
            )
            .await
            .is_err()
    );
    let closed = engine
        .alerts(
            &sender,
            AlertBox::Sent,
            Some(AlertStage::Closed),
            PageRequest::first(10).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(closed.items.len(), 1);

    // A second alert is withdrawn after broadcast.
    let second = engine.create_alert(&sender, &proc_).await.unwrap().case.id;
    let mut answers = Answers::new();
    answers.set(
        "professional".parse().unwrap(),
        AnswerValue::Text("Someone".into()),
    );
    answers.set(
        "scope".parse().unwrap(),
        AnswerValue::Choice("restriction".parse().unwrap()),
    );
    engine
        .act_on_alert(&sender, second, C::SaveDraft { answers }, None)
        .await
        .unwrap();
    engine
        .act_on_alert(
            &sender,
            second,
            C::Submit {
                recipients: [Participant::from(Country::France)].into_iter().collect(),
            },
            None,
        )
        .await
        .unwrap();
    engine
        .act_on_alert(&outgoing, second, C::Approve, None)
        .await
        .unwrap();
    let (view, _) = engine
        .act_on_alert(
            &sender,
            second,
            C::Withdraw {
                reason: "sent in error".into(),
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(view.case.alert.state().stage(), AlertStage::Withdrawn);
    let (seen, _) = engine.alert(&r[0].1, second).await.unwrap();
    assert_eq!(
        seen.case.alert.state().stage(),
        AlertStage::Withdrawn,
        "handlers learn it was withdrawn"
    );
    // A third is rejected by the coordinator and never reaches anyone.
    let third = engine.create_alert(&sender, &proc_).await.unwrap().case.id;
    let mut answers = Answers::new();
    answers.set(
        "professional".parse().unwrap(),
        AnswerValue::Text("Other".into()),
    );
    answers.set(
        "scope".parse().unwrap(),
        AnswerValue::Choice("restriction".parse().unwrap()),
    );
    engine
        .act_on_alert(&sender, third, C::SaveDraft { answers }, None)
        .await
        .unwrap();
    engine
        .act_on_alert(&sender, third, submit(), None)
        .await
        .unwrap();
    engine
        .act_on_alert(
            &outgoing,
            third,
            C::Reject {
                reason: "not serious enough".into(),
            },
            None,
        )
        .await
        .unwrap();
    assert!(matches!(
        engine.alert(&r[0].1, third).await,
        Err(EngineError::NotFound { .. })
    ));

    // Retention, as for requests: the three ended alerts are blocked 6 months after they
    // ended and deleted 3 years after, each once; blocked data leave normal reads (the
    // operator keeps them as proof); deleted data leave the store.
    let day =
        |d: &str| -> chrono::DateTime<chrono::Utc> { format!("{d}T09:00:00Z").parse().unwrap() };
    assert_eq!(
        engine.tick(day("2027-05-21"), 100).await.unwrap().blocked,
        0
    );
    assert_eq!(
        engine.tick(day("2027-05-22"), 100).await.unwrap().blocked,
        3
    );
    assert_eq!(
        engine.tick(day("2027-05-22"), 100).await.unwrap().blocked,
        0
    );
    let (view, _) = engine.alert(&r[0].1, id).await.unwrap();
    assert!(view.case.alert.is_blocked());
    assert_eq!(
        view.case
            .alert
            .answers()
            .iter()
            .map(|(q, _)| q.as_str())
            .collect::<Vec<_>>(),
        ["scope"],
        "no personal data once blocked"
    );
    let shown = format!("{:?}", engine.alert_timeline(&r[0].1, id).await.unwrap());
    assert!(!shown.contains("Qzx") && shown.contains("(blocked)"));
    let (proof, _) = engine.alert(&Actor::System, id).await.unwrap();
    assert_eq!(
        proof.case.alert.answers().len(),
        2,
        "the operator keeps the proof"
    );
    assert_eq!(
        engine.tick(day("2029-11-21"), 100).await.unwrap().blocked,
        0
    );
    assert_eq!(
        engine.tick(day("2029-11-22"), 100).await.unwrap().blocked,
        3
    );
    assert_eq!(
        engine.tick(day("2029-11-22"), 100).await.unwrap().blocked,
        0
    );
    let (proof, _) = engine.alert(&Actor::System, id).await.unwrap();
    assert!(proof.case.alert.is_erased());
    assert_eq!(proof.case.alert.answers().len(), 1);
    let timeline = engine.alert_timeline(&Actor::System, id).await.unwrap();
    assert!(matches!(
        timeline.last().map(|e| &e.event),
        Some(AlertEvent::PersonalDataDeleted)
    ));
    let everything = store.scan(&Scan::all(100_000)).await.unwrap();
    for e in &everything.entries {
        for marker in [&b"Qzx"[..], b"Someone", b"Other"] {
            assert!(
                !e.value.windows(marker.len()).any(|x| x == marker),
                "a value still holds personal data at {:?}",
                crate::store::KeyDisplay::from(e.key.as_slice())
            );
        }
    }

    // Distributions were announced to the handling authorities, in the same commits.
    let recorder = RecordingNotifier::default();
    engine
        .dispatch(&recorder, 1_000, chrono::Duration::minutes(5))
        .await
        .unwrap();
    let told = recorder.take();
    let count = |topic| told.iter().filter(|m| m.topic == topic).count();
    assert!(count(crate::outbox::Topic::AlertDistributed) >= 2);
    // Each broadcast told the incoming coordinators of its recipient countries: five
    // for the first alert, and those of the withdrawn one.
    assert!(count(crate::outbox::Topic::AlertReceived) >= 5);
}
