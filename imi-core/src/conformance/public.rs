//! Engine scenarios: the public interface.

#[allow(unused_imports)]
use super::*;

/// A public submission followed to its answer: a Portuguese nurse, without an account,
/// submits to the French authority in Danish and keeps the secret; the authority's
/// handler takes it and asks a question; the submitter sees the stage in Danish, replies;
/// the authority answers; the submitter reads the answer and asks for their data. Only
/// the secret opens it (wrong, unknown and other secrets get the same answer); other
/// authorities never see it; the viewer reads but cannot act. Retention blocks and then
/// deletes its personal data (no bytes left). Identical on every backend.
pub async fn engine_public_submission(store: Arc<dyn Store>) {
    use crate::catalogue::{AnswerValue, Answers};
    use crate::submission::{
        PublicEvent, SubmissionCommand as C, SubmissionSecret, SubmissionStage,
    };
    use crate::{EngineError, Language, MessageFrom, NewSubmission, PageRequest, access::Actor};
    let SubmissionWorld {
        engine,
        authority,
        handler,
        viewer,
        other_handler,
        other_authority,
    } = submission_world(Arc::clone(&store)).await;
    let mut answers = Answers::new();
    answers.set(
        "applicant".parse().unwrap(),
        AnswerValue::Text("Ana Pereira Sousa".into()),
    );
    answers.set(
        "profession".parse().unwrap(),
        AnswerValue::Text("Nurse".into()),
    );
    let new = |procedure: &str, to, answers: Answers| NewSubmission {
        procedure: procedure.parse().unwrap(),
        authority: to,
        language: Language::Danish,
        answers,
    };
    // Refused, and nothing written: a procedure not open to the public, an authority
    // without the procedure, incomplete answers.
    let mut mairie = crate::authority::NewAuthority::new(
        crate::Participant::from(crate::Country::France),
        crate::LocalisedText::new(Language::French, "Mairie").unwrap(),
    );
    mairie.confirmed_not_duplicate = true;
    let elsewhere = engine
        .register_authority(&Actor::System, mairie)
        .await
        .unwrap()
        .id();
    let before = store.scan(&Scan::all(100_000)).await.unwrap().entries.len();
    assert!(matches!(
        engine
            .submit(new("internal", authority, answers.clone()))
            .await,
        Err(EngineError::NotFound { .. })
    ));
    assert!(matches!(
        engine
            .submit(new("recognition", elsewhere, answers.clone()))
            .await,
        Err(EngineError::Transition(_))
    ));
    assert!(matches!(
        engine
            .submit(new("recognition", authority, Answers::new()))
            .await,
        Err(EngineError::Transition(
            crate::workflow::TransitionError::Answers(_)
        ))
    ));
    assert_eq!(
        store.scan(&Scan::all(100_000)).await.unwrap().entries.len(),
        before
    );

    let receipt = engine
        .submit(new("recognition", authority, answers.clone()))
        .await
        .unwrap();
    let secret = receipt.secret.clone();
    assert_eq!(receipt.status.stage, SubmissionStage::Received);
    assert_eq!(receipt.status.stage_label, "Modtaget af myndigheden");
    assert_eq!(
        receipt.status.procedure_name,
        "Anerkendelse af en kvalifikation"
    );
    assert_eq!(receipt.status.authority_name, "Centre ENIC-NARIC France");
    assert_eq!(receipt.status.answers[0].label, "Dit fulde navn");
    // The secret is stored only as its hash.
    let everything = store.scan(&Scan::all(100_000)).await.unwrap();
    let exposed = secret.expose().as_bytes();
    assert!(everything.entries.iter().all(|e| {
        !e.value.windows(exposed.len()).any(|w| w == exposed)
            && !e.key.windows(exposed.len()).any(|w| w == exposed)
    }));

    // Only the secret opens it.
    let other = engine
        .submit(new("recognition", other_authority, answers.clone()))
        .await
        .unwrap();
    let unknown: SubmissionSecret = format!("imis_{}", "ab".repeat(32)).parse().unwrap();
    let refused = format!(
        "{:?}",
        engine.submission_status(&unknown, None).await.unwrap_err()
    );
    assert!(refused.contains("NotFound"));
    let (seen, _) = engine.submission_status(&other.secret, None).await.unwrap();
    assert_eq!(seen.reference, other.reference);
    assert!(matches!(
        engine
            .act_as_submitter(&unknown, C::Withdraw, None)
            .await
            .unwrap_err(),
        EngineError::NotFound { .. }
    ));
    assert!(matches!(
        engine.submission_data(&unknown).await.unwrap_err(),
        EngineError::NotFound { .. }
    ));
    assert_eq!(
        format!(
            "{:?}",
            engine
                .act_as_submitter(&unknown, C::Withdraw, None)
                .await
                .unwrap_err()
        ),
        refused
    );

    // The authority's side: its handler and viewer see it; the other authority does not.
    let page = || PageRequest::first(10).unwrap();
    let inbox = engine.submissions(&handler, None, page()).await.unwrap();
    assert_eq!(inbox.items.len(), 1);
    let id = inbox.items[0].id;
    assert_eq!(inbox.items[0].reference, receipt.reference);
    // Each authority's request handlers were told, in the submission's commit; viewers
    // were not; no personal data in the message.
    let recorder = RecordingNotifier::default();
    engine
        .dispatch(&recorder, 100, chrono::Duration::minutes(5))
        .await
        .unwrap();
    let told = recorder.take();
    assert_eq!(told.len(), 2);
    assert!(told.iter().all(|m| m.topic == crate::outbox::Topic::SubmissionReceived
        && !m.body.contains("Ana")));
    assert!(
        told.iter()
            .any(|m| m.link == format!("/v1/submissions/{id}"))
    );
    assert!(matches!(
        engine.submission(&other_handler, id).await,
        Err(EngineError::NotFound { .. })
    ));
    assert_eq!(
        engine
            .submissions(&other_handler, None, page())
            .await
            .unwrap()
            .items
            .iter()
            .map(|s| s.reference)
            .collect::<Vec<_>>(),
        [other.reference]
    );
    assert!(engine.submission(&viewer, id).await.is_ok());
    assert!(matches!(
        engine.act_on_submission(&viewer, id, C::Take, None).await,
        Err(EngineError::Denied(_))
    ));
    // The submitter cannot act for the authority, nor the authority for the submitter.
    assert!(matches!(
        engine
            .act_as_submitter(
                &secret,
                C::Answer {
                    answers: Answers::new()
                },
                None
            )
            .await,
        Err(EngineError::Transition(
            crate::workflow::TransitionError::WrongParty { .. }
        ))
    ));
    let (_, v) = engine
        .act_on_submission(&handler, id, C::Take, None)
        .await
        .unwrap();
    assert!(matches!(
        engine
            .act_on_submission(&handler, id, C::Withdraw, None)
            .await,
        Err(EngineError::Transition(_))
    ));
    // A stale version changes nothing.
    engine
        .act_on_submission(
            &handler,
            id,
            C::AskSubmitter {
                text: "In which year did you qualify?".into(),
            },
            Some(v),
        )
        .await
        .unwrap();
    assert!(matches!(
        engine
            .act_on_submission(&handler, id, C::Close { reason: "x".into() }, Some(v))
            .await,
        Err(EngineError::VersionMismatch { .. })
    ));

    // The submitter follows it in Danish (or another language on request) and replies.
    let (status, v) = engine.submission_status(&secret, None).await.unwrap();
    assert_eq!(status.stage, SubmissionStage::AwaitingSubmitter);
    assert_eq!(status.stage_label, "Afventer dit svar");
    assert!(status.your_turn);
    assert_eq!(status.messages.len(), 1);
    assert_eq!(status.messages[0].from, MessageFrom::Authority);
    let (german, _) = engine
        .submission_status(&secret, Some(Language::German))
        .await
        .unwrap();
    assert_eq!(german.stage_label, "Wartet auf Ihre Antwort");
    let (finnish, _) = engine
        .submission_status(&secret, Some(Language::Finnish))
        .await
        .unwrap();
    assert_eq!(
        (finnish.stage_label.as_str(), finnish.label_language),
        ("Waiting for your reply", Language::English)
    );
    let (status, _) = engine
        .act_as_submitter(
            &secret,
            C::Reply {
                text: "2019, Escola Superior de Enfermagem".into(),
            },
            Some(v),
        )
        .await
        .unwrap();
    assert_eq!(status.stage, SubmissionStage::InHandling);
    assert_eq!(status.messages.len(), 2);
    assert_eq!(status.messages[1].from, MessageFrom::You);

    // The authority answers; the submitter reads the answer with its label.
    let mut decision = Answers::new();
    decision.set(
        "decision".parse().unwrap(),
        AnswerValue::Text("Recognised without compensation measures".into()),
    );
    let (answered, _) = engine
        .act_on_submission(&handler, id, C::Answer { answers: decision }, None)
        .await
        .unwrap();
    assert_eq!(
        answered.submission.state().stage(),
        SubmissionStage::Answered
    );
    let (status, _) = engine.submission_status(&secret, None).await.unwrap();
    assert_eq!(status.stage_label, "Besvaret");
    assert_eq!(status.reply.len(), 1);
    assert_eq!(status.reply[0].label, "Afgørelse");
    assert!(!status.your_turn);
    assert!(matches!(
        engine.act_as_submitter(&secret, C::Withdraw, None).await,
        Err(EngineError::Transition(_))
    ));

    // Access to their data: everything, staff names removed; the authority sees that it
    // was asked.
    let export = engine.submission_data(&secret).await.unwrap();
    let kinds: Vec<_> = export
        .timeline
        .iter()
        .map(|e| match e.event {
            PublicEvent::Submitted { .. } => "submitted",
            PublicEvent::Taken => "taken",
            PublicEvent::QuestionAsked { .. } => "asked",
            PublicEvent::Replied { .. } => "replied",
            PublicEvent::Answered { .. } => "answered",
            PublicEvent::Closed { .. } => "closed",
            PublicEvent::Withdrawn => "withdrawn",
            PublicEvent::DataAccessGiven => "data-access",
            PublicEvent::PersonalDataBlocked => "blocked",
            PublicEvent::PersonalDataDeleted => "deleted",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "submitted",
            "taken",
            "asked",
            "replied",
            "answered",
            "data-access"
        ]
    );
    let json = serde_json::to_string(&export).unwrap();
    assert!(json.contains("Ana Pereira Sousa"));
    let handler_id = match &handler {
        Actor::User(p) => p.user().to_string(),
        _ => unreachable!(),
    };
    assert!(!json.contains(&handler_id), "staff are not named");
    let timeline = engine.submission_timeline(&handler, id).await.unwrap();
    assert_eq!(timeline.len(), 6);
    assert_eq!(timeline[5].actor, crate::case::ActorRef::Submitter);

    // Every act is audited, the submitter's too.
    assert!(engine.tick(engine.now(), 1_000).await.unwrap().audit_sealed >= 10);
    assert!(engine.verify_audit(&Actor::System).await.unwrap().is_ok());

    // Retention: blocked 6 months after the answer, deleted 3 years after, each once.
    let day =
        |d: &str| -> chrono::DateTime<chrono::Utc> { format!("{d}T09:00:00Z").parse().unwrap() };
    assert_eq!(
        engine.tick(day("2027-05-21"), 100).await.unwrap().blocked,
        0
    );
    assert_eq!(
        engine.tick(day("2027-05-22"), 100).await.unwrap().blocked,
        1
    );
    assert_eq!(
        engine.tick(day("2027-05-22"), 100).await.unwrap().blocked,
        0
    );
    let (blocked, _) = engine.submission(&handler, id).await.unwrap();
    assert!(blocked.submission.is_blocked());
    assert_eq!(blocked.submission.answers().len(), 1, "the name is hidden");
    let shown = format!(
        "{:?}",
        engine.submission_timeline(&handler, id).await.unwrap()
    );
    assert!(!shown.contains("Ana Pereira") && !shown.contains("Escola Superior"));
    let (status, _) = engine.submission_status(&secret, None).await.unwrap();
    assert!(status.personal_data_removed);
    assert!(!format!("{status:?}").contains("Ana Pereira"));
    assert_eq!(
        engine.tick(day("2029-11-22"), 100).await.unwrap().blocked,
        1
    );
    assert_eq!(
        engine.tick(day("2029-11-22"), 100).await.unwrap().blocked,
        0
    );
    let everything = store.scan(&Scan::all(100_000)).await.unwrap();
    let other_id = engine
        .submissions(&other_handler, None, page())
        .await
        .unwrap()
        .items[0]
        .id;
    for e in &everything.entries {
        if e.key.windows(16).any(|w| w == other_id.as_bytes()) {
            continue; // the other submission is still open
        }
        for marker in [&b"Ana Pereira"[..], b"In which year", b"Escola Superior"] {
            assert!(
                !e.value.windows(marker.len()).any(|x| x == marker),
                "a value still holds personal data at {:?}",
                crate::store::KeyDisplay::from(e.key.as_slice())
            );
        }
    }
    // The skeleton stays, and the submitter still sees where it stands.
    let (status, _) = engine.submission_status(&secret, None).await.unwrap();
    assert_eq!(status.stage, SubmissionStage::Answered);
    assert_eq!(status.answers.len(), 1);
}
