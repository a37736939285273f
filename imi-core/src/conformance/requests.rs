//! Engine scenarios: one-to-one requests (workflow, deadlines, attachments, branches,
//! concurrency, question-set versions, the load tool's copies).

#[allow(unused_imports)]
use super::*;

/// A request between two countries, through the engine: draft, send, need to know
/// before acceptance, allocation, acceptance, forward and split, answer in the other
/// language, clarification, closure, timelines, inboxes, coordinators' progress view,
/// strangers kept out, and a stale write refused. Identical on every backend.
pub async fn engine_request_workflow(store: Arc<dyn Store>) {
    use crate::case::Visibility;
    use crate::catalogue::{AnswerValue, Answers, Catalogue, CatalogueSource, Right, Side};
    use crate::request::{RequestCommand as C, Stage};
    use crate::{
        Country, EngineError, InboxQuery, Language, LocalisedText, PageRequest, access::Actor,
        authority::AuthorityUpdate, authority::Competence, authority::CoordinatorRole,
        authority::NewAuthority, user::Grant, user::GrantScope, user::NewUser,
    };
    let engine = engine_on(Arc::clone(&store));
    let sources = [
        CatalogueSource::new("areas/h.toml", REQUEST_AREA),
        CatalogueSource::new("question-sets/q.toml", REQUEST_QS),
    ];
    engine
        .publish_catalogue(&Actor::System, Catalogue::load(&sources).unwrap())
        .unwrap();
    let sys = Actor::System;
    let proc_ = "nurse-check".parse().unwrap();
    let authority = |country: Country, name: &str| {
        let mut n = NewAuthority::new(
            country,
            LocalisedText::new(Language::English, name).unwrap(),
        );
        n.competences = vec![Competence {
            area: "health".parse().unwrap(),
            keywords: vec![],
        }];
        let engine = &engine;
        async move {
            let a = engine.register_authority(&Actor::System, n).await.unwrap();
            engine
                .grant_procedure(&Actor::System, a.id(), &"nurse-check".parse().unwrap())
                .await
                .unwrap();
            a
        }
    };
    let user = |a: crate::AuthorityId, name: &str, language: Language, rights: Vec<Right>| {
        let engine = &engine;
        let name = name.to_owned();
        async move {
            let u = engine
                .create_user(
                    &Actor::System,
                    a,
                    NewUser {
                        name,
                        email: "u@x.eu".parse().unwrap(),
                        language,
                    },
                )
                .await
                .unwrap();
            let grants = rights
                .into_iter()
                .map(|r| Grant::new(r, GrantScope::Everything))
                .collect();
            engine
                .set_grants(&Actor::System, u.id(), grants)
                .await
                .unwrap();
            engine.actor_for(u.id()).await.unwrap()
        }
    };
    let dk = authority(Country::Denmark, "Styrelsen for Patientsikkerhed").await;
    let fr = authority(Country::France, "Ordre national des infirmiers").await;
    let fr2 = authority(Country::France, "Agence régionale de santé").await;
    let be = authority(Country::Belgium, "SPF Santé publique").await;
    let dk2 = authority(Country::Denmark, "Sundhedsstyrelsen").await;
    engine
        .update_authority(
            &sys,
            fr.id(),
            AuthorityUpdate {
                uses_allocation: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let nimic_dk = authority(Country::Denmark, "Erhvervsstyrelsen").await;
    engine
        .appoint_coordinator(&sys, nimic_dk.id(), Some(CoordinatorRole::National))
        .await
        .unwrap();
    let lars = user(
        dk.id(),
        "Lars",
        Language::Danish,
        vec![Right::RequestHandler],
    )
    .await;
    let julie = user(
        fr.id(),
        "Julie",
        Language::French,
        vec![Right::RequestHandler],
    )
    .await;
    let paul = user(
        fr.id(),
        "Paul",
        Language::French,
        vec![Right::RequestHandler],
    )
    .await;
    let allocator = user(fr.id(), "Anne", Language::French, vec![Right::Allocator]).await;
    let coordinator = user(
        nimic_dk.id(),
        "Mette",
        Language::Danish,
        vec![Right::ReferralHandler],
    )
    .await;
    let stranger = user(
        fr2.id(),
        "Eve",
        Language::French,
        vec![Right::RequestHandler],
    )
    .await;

    // Draft and send, in Danish.
    let draft = engine.create_request(&lars, &proc_).await.unwrap();
    assert_eq!(draft.case.question_set.version, 1);
    let id = draft.case.id;
    assert!(draft.case.reference.to_string().starts_with("2026-"));
    let mut answers = Answers::new();
    answers.set(
        "holder".parse().unwrap(),
        AnswerValue::Text("Marie Dubois".into()),
    );
    answers.set(
        "profession".parse().unwrap(),
        AnswerValue::Choice("nurse".parse().unwrap()),
    );
    let today = "2026-11-22".parse::<chrono::NaiveDate>().unwrap();
    engine
        .act_on_request(&lars, id, C::SaveDraft { answers }, None)
        .await
        .unwrap();
    let national = engine
        .act_on_request(
            &lars,
            id,
            C::Send {
                recipient: dk2.id(),
                needed_by: today + chrono::Duration::days(20),
            },
            None,
        )
        .await;
    assert!(
        matches!(national, Err(EngineError::Transition(_))),
        "cross-border procedure: same-country recipient refused"
    );
    assert!(
        engine
            .act_on_request(&julie, id, C::Accept { days: 3 }, None)
            .await
            .is_err(),
        "not sent to France yet: no access"
    );
    let (sent, v_sent) = engine
        .act_on_request(
            &lars,
            id,
            C::Send {
                recipient: fr.id(),
                needed_by: today + chrono::Duration::days(20),
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(sent.case.request.state().stage(), Stage::AwaitingAcceptance);

    // Need to know: the French handler sees no personal data before acceptance.
    let (before, _) = engine.request(&julie, id).await.unwrap();
    assert_eq!(before.visibility, Visibility::WithoutPersonalData);
    assert!(
        before
            .case
            .request
            .request_answers()
            .get(&"holder".parse().unwrap())
            .is_none()
    );
    assert!(
        before
            .case
            .request
            .request_answers()
            .get(&"profession".parse().unwrap())
            .is_some()
    );
    let timeline = engine.request_timeline(&julie, id).await.unwrap();
    assert!(
        !format!("{timeline:?}").contains("Marie Dubois"),
        "not in the timeline either"
    );
    // The Danish coordinator monitors progress without any answers; strangers see nothing.
    let (monitor, _) = engine.request(&coordinator, id).await.unwrap();
    assert_eq!(monitor.visibility, Visibility::ProgressOnly);
    assert!(monitor.case.request.request_answers().is_empty());
    assert!(matches!(
        engine.request(&stranger, id).await,
        Err(EngineError::NotFound { .. })
    ));
    assert!(matches!(
        engine
            .act_on_request(&stranger, id, C::Accept { days: 3 }, None)
            .await,
        Err(EngineError::NotFound { .. })
    ));

    // Concurrency: two French users accept from the same version; one wins.
    let first = engine
        .act_on_request(
            &julie,
            id,
            C::Allocate {
                handler: paul_id(&paul),
            },
            Some(v_sent),
        )
        .await;
    assert!(
        matches!(first, Err(EngineError::Transition(_))),
        "only allocators allocate"
    );
    let (allocated, _) = engine
        .act_on_request(
            &allocator,
            id,
            C::Allocate {
                handler: paul_id(&paul),
            },
            Some(v_sent),
        )
        .await
        .unwrap();
    assert_eq!(allocated.case.request.handler(), Some(paul_id(&paul)));
    let stale = engine
        .act_on_request(&paul, id, C::Accept { days: 10 }, Some(v_sent))
        .await;
    assert!(
        matches!(stale, Err(EngineError::VersionMismatch { .. })),
        "stale If-Match"
    );
    let (accepted, _) = engine
        .act_on_request(&paul, id, C::Accept { days: 10 }, None)
        .await
        .unwrap();
    assert_eq!(accepted.visibility, Visibility::Full);
    assert_eq!(
        accepted
            .case
            .request
            .request_answers()
            .get(&"holder".parse().unwrap()),
        Some(&AnswerValue::Text("Marie Dubois".into()))
    );

    // Split one question to Belgium: a linked child request awaits acceptance there. The
    // engine mints the child's id, whatever the caller proposed (here: the request's own).
    let split = C::Split {
        to: be.id(),
        questions: ["registered".parse().unwrap()].into(),
        child: id,
    };
    engine.act_on_request(&paul, id, split, None).await.unwrap();
    let child_id = engine
        .request_timeline(&sys, id)
        .await
        .unwrap()
        .iter()
        .find_map(|e| match &e.event {
            crate::request::RequestEvent::SplitOff { child, .. } => Some(*child),
            _ => None,
        })
        .unwrap();
    assert_ne!(child_id, id);
    let (child, _) = engine.request(&sys, child_id).await.unwrap();
    assert_eq!(child.case.parent, Some(id));
    assert_eq!(child.case.request.state().recipient(), Some(be.id()));
    assert_ne!(child.case.reference, accepted.case.reference);
    // Belgium hears of it like of any request it receives (it has no users yet: the
    // announcement is in its feed).
    let feed = store
        .scan(&Scan::prefix(&crate::keys::feed(be.id(), None), 10))
        .await
        .unwrap();
    let mut announced = Vec::new();
    for e in &feed.entries {
        let id = crate::keys::trailing_id(&e.key).unwrap();
        let key = crate::keys::outbox(crate::outbox::AnnouncementId(uuid::Uuid::from_bytes(id)));
        let v = store.get(&key).await.unwrap().unwrap();
        let item: crate::outbox::OutboxItem = serde_json::from_slice(&v.value).unwrap();
        announced.push((item.announcement.topic, item.announcement.subject.link()));
    }
    assert!(announced.contains(&(
        crate::outbox::Topic::RequestReceived,
        format!("/v1/requests/{child_id}")
    )));

    // Answer (in French), clarification loop, closure with a rating.
    let mut reply = Answers::new();
    reply.set("authentic".parse().unwrap(), AnswerValue::YesNo(true));
    engine
        .act_on_request(&julie, id, C::Answer { answers: reply }, None)
        .await
        .unwrap();
    engine
        .act_on_request(
            &lars,
            id,
            C::AskClarification {
                text: "Er autorisationen gyldig?".into(),
            },
            None,
        )
        .await
        .unwrap();
    engine
        .act_on_request(
            &julie,
            id,
            C::ReplyClarification {
                text: "Oui, elle est valide.".into(),
            },
            None,
        )
        .await
        .unwrap();
    let rating = Some(crate::request::Rating {
        timeliness: 5,
        effort: 5,
    });
    let (closed, _) = engine
        .act_on_request(&lars, id, C::AcceptAnswer { rating }, None)
        .await
        .unwrap();
    assert_eq!(closed.case.request.state().stage(), Stage::Closed);
    assert!(matches!(
        engine
            .act_on_request(&lars, id, C::Comment { text: "x".into() }, None)
            .await,
        Err(EngineError::Transition(_))
    ));

    // The timeline is complete and ordered, each step with its actor.
    let timeline = engine.request_timeline(&lars, id).await.unwrap();
    let seqs: Vec<u64> = timeline.iter().map(|t| t.seq).collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());
    assert_eq!(
        timeline.len(),
        9,
        "saved, sent, allocated, accepted, split, answered, asked, replied, closed: {timeline:#?}"
    );
    assert!(
        format!("{timeline:?}").contains("Marie Dubois"),
        "the requester sees everything"
    );

    // Inboxes: per authority and party, by stage.
    let dk_sent = engine
        .inbox(
            &lars,
            &InboxQuery {
                side: Some(Side::Requester),
                stage: None,
                ..Default::default()
            },
            PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        dk_sent.items.len(),
        2,
        "the request and its split-off child, both Denmark's"
    );
    let fr_closed = engine
        .inbox(
            &julie,
            &InboxQuery {
                side: Some(Side::Responder),
                stage: Some(Stage::Closed),
                ..Default::default()
            },
            PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(fr_closed.items.len(), 1);
    let fr_open = engine
        .inbox(
            &julie,
            &InboxQuery {
                side: Some(Side::Responder),
                stage: Some(Stage::Accepted),
                ..Default::default()
            },
            PageRequest::default(),
        )
        .await
        .unwrap();
    assert!(fr_open.items.is_empty());
    let be_user = user(
        be.id(),
        "Bert",
        Language::Dutch,
        vec![Right::RequestHandler],
    )
    .await;
    let be_waiting = engine
        .inbox(
            &be_user,
            &InboxQuery {
                side: Some(Side::Responder),
                stage: Some(Stage::AwaitingAcceptance),
                ..Default::default()
            },
            PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        be_waiting.items.len(),
        1,
        "the split-off child waits in Belgium"
    );
    assert_eq!(
        be_waiting.items[0].visibility,
        Visibility::WithoutPersonalData
    );

    // Forward before acceptance moves the request and its inbox entry.
    let second = engine.create_request(&lars, &proc_).await.unwrap().case.id;
    let mut answers = Answers::new();
    answers.set(
        "holder".parse().unwrap(),
        AnswerValue::Text("Jens Hansen".into()),
    );
    answers.set(
        "profession".parse().unwrap(),
        AnswerValue::Choice("doctor".parse().unwrap()),
    );
    engine
        .act_on_request(&lars, second, C::SaveDraft { answers }, None)
        .await
        .unwrap();
    engine
        .act_on_request(
            &lars,
            second,
            C::Send {
                recipient: fr.id(),
                needed_by: today + chrono::Duration::days(9),
            },
            None,
        )
        .await
        .unwrap();
    engine
        .act_on_request(&julie, second, C::Forward { to: be.id() }, None)
        .await
        .unwrap();
    let be_waiting = engine
        .inbox(
            &be_user,
            &InboxQuery {
                side: Some(Side::Responder),
                stage: Some(Stage::AwaitingAcceptance),
                ..Default::default()
            },
            PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(be_waiting.items.len(), 2);
    assert!(
        matches!(
            engine.request(&julie, second).await,
            Err(EngineError::NotFound { .. })
        ),
        "France is no longer a party"
    );
}

/// Deadlines: `tick` records a reminder when a request is not accepted in time, a
/// reminder the day after the committed date, and an escalation later; each once, at
/// the right time, as a system entry on the timeline. Identical on every backend.
pub async fn engine_request_deadlines(store: Arc<dyn Store>) {
    use crate::Country;
    use crate::catalogue::{AnswerValue, Answers};
    use crate::request::{DeadlineKind, RequestCommand as C, RequestEvent};
    let area = REQUEST_AREA.replace("question_set = \"nurse-check\"\n", "question_set = \"nurse-check\"\nremind_unaccepted_after_days = 7\nescalate_overdue_after_days = 5\n");
    let w = request_world_with(store, &area, REQUEST_QS, true).await;
    let (engine, clock, ids, id) = (&w.engine, &w.clock, &w.ids, w.case);
    let (dk, fr, be) = (&w.actors[0], &w.actors[1], &w.actors[2]);
    let start: chrono::DateTime<chrono::Utc> = "2026-11-22T09:00:00Z".parse().unwrap();
    let day = |n: i64| start + chrono::Duration::days(n);
    let tick = |n: i64| {
        let engine = &engine;
        async move { engine.tick(day(n), 100).await.unwrap().deadlines }
    };
    assert_eq!(tick(6).await, 0, "not yet");
    assert_eq!(tick(7).await, 1, "not accepted within 7 days");
    assert_eq!(tick(7).await, 0, "once");
    assert_eq!(tick(12).await, 0);
    // Forwarding restarts the acceptance clock at the new recipient.
    clock.set(day(12));
    engine
        .act_on_request(fr, id, C::Forward { to: ids[2] }, None)
        .await
        .unwrap();
    assert_eq!(tick(18).await, 0);
    assert_eq!(tick(19).await, 1, "the new recipient is reminded too");
    clock.set(day(20));
    engine
        .act_on_request(be, id, C::Accept { days: 3 }, None)
        .await
        .unwrap();
    assert_eq!(tick(23).await, 0, "due on day 23: not late yet");
    assert_eq!(tick(24).await, 1, "overdue");
    assert_eq!(tick(27).await, 0);
    assert_eq!(
        tick(28).await,
        1,
        "escalated 5 days after the committed date"
    );
    assert_eq!(tick(60).await, 0, "nothing more");
    let reached: Vec<DeadlineKind> = engine
        .request_timeline(dk, id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.actor == crate::case::ActorRef::System)
        .filter_map(|e| match e.event {
            RequestEvent::DeadlineReached { kind, .. } => Some(kind),
            _ => None,
        })
        .collect();
    assert_eq!(
        reached,
        [
            DeadlineKind::NotAccepted,
            DeadlineKind::NotAccepted,
            DeadlineKind::Overdue,
            DeadlineKind::Escalated
        ]
    );
    // Answering ends the deadlines.
    clock.set(day(61));
    let mut reply = Answers::new();
    reply.set("authentic".parse().unwrap(), AnswerValue::YesNo(true));
    let (answered, _) = engine
        .act_on_request(be, id, C::Answer { answers: reply }, None)
        .await
        .unwrap();
    assert_eq!(answered.case.request.answered_on_time(), Some(false));
    assert_eq!(tick(400).await, 0);

    // A second request, accepted at once and answered on time, to France.
    clock.set(day(62));
    let quick = nurse_draft(engine, dk, "nurse-check", "B", "doctor").await;
    engine
        .act_on_request(
            dk,
            quick,
            C::Send {
                recipient: ids[1],
                needed_by: "2027-03-31".parse().unwrap(),
            },
            None,
        )
        .await
        .unwrap();
    clock.set(day(64));
    engine
        .act_on_request(fr, quick, C::Accept { days: 10 }, None)
        .await
        .unwrap();
    clock.set(day(66));
    let mut reply = Answers::new();
    reply.set("authentic".parse().unwrap(), AnswerValue::YesNo(true));
    engine
        .act_on_request(fr, quick, C::Answer { answers: reply }, None)
        .await
        .unwrap();

    // The Scoreboard indicators per responding country, from the milestones.
    let all = engine
        .indicators(
            dk,
            "2026-11-01".parse().unwrap(),
            "2027-12-31".parse().unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(all.len(), 2, "{all:?}");
    let belgium = all
        .iter()
        .find(|i| i.country == Country::Belgium.into())
        .unwrap();
    assert_eq!((belgium.requests, belgium.accepted_within_7_days), (1, 0.0));
    assert_eq!(belgium.answered_by_agreed_date, Some(0.0));
    assert!((belgium.average_days_to_answer.unwrap() - 61.0).abs() < 1e-9);
    let france = all
        .iter()
        .find(|i| i.country == Country::France.into())
        .unwrap();
    assert_eq!(
        (
            france.requests,
            france.accepted_within_7_days,
            france.answered_by_agreed_date
        ),
        (1, 1.0, Some(1.0))
    );
    assert!((france.average_days_to_answer.unwrap() - 4.0).abs() < 1e-9);
    assert!(
        format!("{all:?}").chars().all(|c| c != '@'),
        "no personal data"
    );
    let none = engine
        .indicators(
            dk,
            "2025-01-01".parse().unwrap(),
            "2025-12-31".parse().unwrap(),
        )
        .await
        .unwrap();
    assert!(none.is_empty(), "the period filters by sending date");
}

/// Attachments: uploaded in 256 KiB chunks through the store, read back byte for byte
/// with the digest, referred to by answers only from their own case and party, hidden
/// from the recipient until it accepts, refused when too large or of the wrong type
/// (leaving no chunk behind). Identical on every backend.
pub async fn engine_request_attachments(store: Arc<dyn Store>) {
    use crate::EngineError;
    use crate::attachment::{AttachmentError, InMemory, NewAttachment};
    use crate::catalogue::{AnswerValue, Answers};
    use crate::request::RequestCommand as C;
    let qs = REQUEST_QS.replace("[[group.question]]\nid = \"authentic\"", "[[group.question]]\nid = \"copy\"\ntype = \"attachment\"\nmax_files = 2\n[group.question.label]\nen = \"Copy\"\n[[group.question]]\nid = \"authentic\"");
    let w = request_world_with(Arc::clone(&store), REQUEST_AREA, &qs, false).await;
    let (engine, ids, id) = (&w.engine, &w.ids, w.case);
    let (dk, fr, it) = (&w.actors[0], &w.actors[1], &w.actors[6]);
    let pdf = |name: &str| NewAttachment {
        name: name.into(),
        media_type: "application/pdf".into(),
    };
    let content: Vec<u8> = (0..600 * 1024u32).map(|i| (i % 253) as u8).collect();
    let attached = engine
        .upload_attachment(
            dk,
            id,
            pdf("diploma.pdf"),
            &mut InMemory::new(content.clone()),
        )
        .await
        .unwrap();
    assert_eq!((attached.size, attached.chunks), (600 * 1024, 3));
    let (meta, mut reader) = engine.open_attachment(dk, attached.id).await.unwrap();
    let mut read = Vec::new();
    let mut pieces = 0;
    while let Some(chunk) = reader.next_chunk().await.unwrap() {
        assert!(chunk.len() <= crate::attachment::CHUNK_SIZE);
        read.extend(chunk);
        pieces += 1;
    }
    assert_eq!((read == content, pieces), (true, 3));
    assert_eq!(meta.sha256.len(), 64);

    // Refused files leave nothing behind.
    let chunk_keys = || {
        let store = Arc::clone(&store);
        async move {
            store
                .scan(&Scan::prefix(&[0x57], 1_000))
                .await
                .unwrap()
                .entries
                .len()
        }
    };
    let before = chunk_keys().await;
    let exe = NewAttachment {
        name: "run.exe".into(),
        media_type: "application/x-msdownload".into(),
    };
    assert!(matches!(
        engine
            .upload_attachment(dk, id, exe, &mut InMemory::new(vec![1]))
            .await,
        Err(EngineError::Attachment(AttachmentError::MediaType(_)))
    ));
    let bad_name = NewAttachment {
        name: "../etc/passwd".into(),
        media_type: "text/plain".into(),
    };
    assert!(matches!(
        engine
            .upload_attachment(dk, id, bad_name, &mut InMemory::new(vec![1]))
            .await,
        Err(EngineError::Attachment(AttachmentError::FileName(_)))
    ));
    struct Endless(usize);
    #[async_trait::async_trait]
    impl crate::attachment::ByteSource for Endless {
        async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, AttachmentError> {
            self.0 += 1;
            Ok(Some(vec![7u8; 1024 * 1024]))
        }
    }
    let too_big = engine
        .upload_attachment(dk, id, pdf("huge.pdf"), &mut Endless(0))
        .await;
    assert!(
        matches!(
            too_big,
            Err(EngineError::Attachment(AttachmentError::TooLarge { .. }))
        ),
        "{too_big:?}"
    );
    assert!(matches!(
        engine
            .upload_attachment(dk, id, pdf("empty.pdf"), &mut InMemory::new(vec![]))
            .await,
        Err(EngineError::Attachment(AttachmentError::Empty))
    ));
    assert_eq!(
        chunk_keys().await,
        before,
        "no chunk of a refused file stays"
    );

    // Answers refer to the case's own files only.
    let mut answers = Answers::new();
    answers.set("holder".parse().unwrap(), AnswerValue::Text("Marie".into()));
    answers.set(
        "profession".parse().unwrap(),
        AnswerValue::Choice("nurse".parse().unwrap()),
    );
    let mut forged = answers.clone();
    forged.set(
        "copy".parse().unwrap(),
        AnswerValue::Attachments(vec![
            crate::IdGenerator::seeded(5).attachment("2026-11-22T09:00:00Z".parse().unwrap()),
        ]),
    );
    assert!(matches!(
        engine
            .act_on_request(dk, id, C::SaveDraft { answers: forged }, None)
            .await,
        Err(EngineError::Transition(_))
    ));
    answers.set(
        "copy".parse().unwrap(),
        AnswerValue::Attachments(vec![attached.id]),
    );
    engine
        .act_on_request(dk, id, C::SaveDraft { answers }, None)
        .await
        .unwrap();
    engine
        .act_on_request(
            dk,
            id,
            C::Send {
                recipient: ids[1],
                needed_by: "2027-01-31".parse().unwrap(),
            },
            None,
        )
        .await
        .unwrap();

    // Need to know: no attachments for the recipient before it accepts; none for others.
    assert!(matches!(
        engine.open_attachment(fr, attached.id).await,
        Err(EngineError::NotFound { .. })
    ));
    assert!(matches!(
        engine
            .upload_attachment(fr, id, pdf("reply.pdf"), &mut InMemory::new(vec![1; 10]))
            .await,
        Err(EngineError::Denied(_))
    ));
    let (seen, _) = engine.request(fr, id).await.unwrap();
    assert!(
        seen.case
            .request
            .request_answers()
            .get(&"copy".parse().unwrap())
            .is_none(),
        "attachment answers are hidden too"
    );
    engine
        .act_on_request(fr, id, C::Accept { days: 5 }, None)
        .await
        .unwrap();
    assert_eq!(
        engine
            .open_attachment(fr, attached.id)
            .await
            .unwrap()
            .0
            .name,
        "diploma.pdf"
    );
    assert!(matches!(
        engine.open_attachment(it, attached.id).await,
        Err(EngineError::NotFound { .. })
    ));
    assert!(matches!(
        engine
            .upload_attachment(it, id, pdf("x.pdf"), &mut InMemory::new(vec![1]))
            .await,
        Err(EngineError::NotFound { .. })
    ));
    let reply = engine
        .upload_attachment(
            fr,
            id,
            pdf("register-extract.pdf"),
            &mut InMemory::new(vec![9; 1000]),
        )
        .await
        .unwrap();
    assert_eq!(reply.side, crate::catalogue::Side::Responder);
}

/// The remaining branches through the engine: forward after acceptance, date change
/// accepted and refused, referral and coordinator intervention (comment, remind,
/// reassign, close), withdrawal; and a per-user inbox of allocated requests.
pub async fn engine_request_branches(store: Arc<dyn Store>) {
    use crate::catalogue::Side;
    use crate::request::{Intervention, RequestCommand as C, RequestEvent, RequestState, Stage};
    use crate::{EngineError, InboxQuery, PageRequest};
    let (engine, a, ids, id) = request_world(store).await;
    let (dk, fr, be, alloc, coord, fr2) = (&a[0], &a[1], &a[2], &a[3], &a[4], &a[5]);
    let uid = |actor: &crate::access::Actor| match actor {
        crate::access::Actor::User(p) => p.user(),
        _ => panic!("a user"),
    };
    engine
        .act_on_request(alloc, id, C::Allocate { handler: uid(fr2) }, None)
        .await
        .unwrap();
    let mine = InboxQuery {
        side: Some(Side::Responder),
        stage: None,
        allocated_to_me: true,
    };
    assert_eq!(
        engine
            .inbox(fr2, &mine, PageRequest::default())
            .await
            .unwrap()
            .items
            .len(),
        1,
        "allocated to this user"
    );
    assert!(
        engine
            .inbox(fr, &mine, PageRequest::default())
            .await
            .unwrap()
            .items
            .is_empty(),
        "not allocated to that one"
    );
    engine
        .act_on_request(fr2, id, C::Accept { days: 10 }, None)
        .await
        .unwrap();
    // Date change: refused, then accepted.
    let later: chrono::NaiveDate = "2026-12-20".parse().unwrap();
    engine
        .act_on_request(fr2, id, C::ProposeDate { date: later }, None)
        .await
        .unwrap();
    engine
        .act_on_request(dk, id, C::RefuseDate, None)
        .await
        .unwrap();
    engine
        .act_on_request(fr2, id, C::ProposeDate { date: later }, None)
        .await
        .unwrap();
    let (v, _) = engine
        .act_on_request(dk, id, C::AcceptDate, None)
        .await
        .unwrap();
    assert!(
        matches!(v.case.request.state(), RequestState::Accepted { answer_by, proposed: None, .. } if *answer_by == later)
    );
    // Referral and intervention by the requester's coordinator.
    engine
        .act_on_request(
            dk,
            id,
            C::Refer {
                comment: "No progress".into(),
            },
            None,
        )
        .await
        .unwrap();
    assert!(
        matches!(
            engine
                .act_on_request(fr, id, C::Intervene(Intervention::Remind), None)
                .await,
            Err(EngineError::Transition(_))
        ),
        "not a coordinator"
    );
    engine
        .act_on_request(
            coord,
            id,
            C::Intervene(Intervention::Comment {
                text: "Please answer".into(),
            }),
            None,
        )
        .await
        .unwrap();
    engine
        .act_on_request(coord, id, C::Intervene(Intervention::Remind), None)
        .await
        .unwrap();
    // Forward after acceptance, then a coordinator's reassignment back.
    let (v, _) = engine
        .act_on_request(fr2, id, C::Forward { to: ids[2] }, None)
        .await
        .unwrap();
    assert_eq!(
        v.case.request.state(),
        &RequestState::AwaitingAcceptance { recipient: ids[2] }
    );
    engine
        .act_on_request(be, id, C::Accept { days: 3 }, None)
        .await
        .unwrap();
    engine
        .act_on_request(
            coord,
            id,
            C::Intervene(Intervention::Reassign { to: ids[1] }),
            None,
        )
        .await
        .unwrap();
    assert!(
        matches!(
            engine.request(be, id).await,
            Err(EngineError::NotFound { .. })
        ),
        "Belgium no longer sees it"
    );
    // Withdrawal.
    let (v, _) = engine
        .act_on_request(
            dk,
            id,
            C::Withdraw {
                reason: "Solved locally".into(),
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(v.case.request.state().stage(), Stage::Withdrawn);
    let events: Vec<&'static str> = engine
        .request_timeline(dk, id)
        .await
        .unwrap()
        .iter()
        .map(|e| match &e.event {
            RequestEvent::Forwarded {
                by_coordinator: true,
                ..
            } => "reassigned",
            RequestEvent::Forwarded { .. } => "forwarded",
            RequestEvent::DateProposed { .. } => "proposed",
            RequestEvent::DateRefused { .. } => "refused",
            RequestEvent::DateAccepted { .. } => "date-accepted",
            RequestEvent::Referred { .. } => "referred",
            RequestEvent::CoordinatorCommented { .. } => "coordinator-comment",
            RequestEvent::Reminded => "reminded",
            RequestEvent::Withdrawn { .. } => "withdrawn",
            _ => "other",
        })
        .filter(|e| *e != "other")
        .collect();
    assert_eq!(
        events,
        [
            "proposed",
            "refused",
            "proposed",
            "date-accepted",
            "referred",
            "coordinator-comment",
            "reminded",
            "forwarded",
            "reassigned",
            "withdrawn"
        ]
    );
}

/// Two users acting on one request at the same moment: every attempt either commits or
/// fails with a conflict, retries succeed, and no update is lost.
pub async fn engine_request_concurrency(store: Arc<dyn Store>) {
    use crate::EngineError;
    use crate::request::RequestCommand as C;
    let (engine, a, _, id) = request_world(Arc::clone(&store)).await;
    let engine = Arc::new(engine);
    let tasks = (0..8).map(|i| {
        let engine = Arc::clone(&engine);
        let actor = if i % 2 == 0 {
            a[0].clone()
        } else {
            a[1].clone()
        };
        async move {
            let mut conflicts = 0;
            loop {
                match engine
                    .act_on_request(
                        &actor,
                        id,
                        C::Comment {
                            text: format!("note {i}"),
                        },
                        None,
                    )
                    .await
                {
                    Ok(_) => return conflicts,
                    Err(EngineError::Conflict(_)) => conflicts += 1,
                    Err(e) => panic!("unexpected {e}"),
                }
            }
        }
    });
    join_all(tasks).await;
    let timeline = engine.request_timeline(&a[0], id).await.unwrap();
    let comments = timeline
        .iter()
        .filter(|e| matches!(e.event, crate::request::RequestEvent::Commented { .. }))
        .count();
    assert_eq!(comments, 8, "no lost update");
    let seqs: Vec<u64> = timeline.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=timeline.len() as u64).collect::<Vec<_>>());

    // 48 requests created at once, across two engines on the same store (as two server
    // processes would): every creation succeeds at once, with its own reference number.
    let second = Arc::new(crate::Engine::new(
        Arc::clone(&store),
        Arc::new(crate::ManualClock::new(
            "2026-11-22T09:00:00Z".parse().unwrap(),
        )),
    ));
    second
        .publish_catalogue(&crate::access::Actor::System, (*engine.catalogue()).clone())
        .unwrap();
    let procedure: crate::catalogue::ProcedureId = "nurse-check".parse().unwrap();
    let creators = (0..48).map(|i| {
        let engine = if i % 2 == 0 {
            Arc::clone(&engine)
        } else {
            Arc::clone(&second)
        };
        let actor = a[0].clone();
        let procedure = procedure.clone();
        async move { engine.create_request(&actor, &procedure).await }
    });
    let mut references = std::collections::BTreeSet::new();
    for created in join_all(creators).await {
        let view = created.expect("no creation fails under contention");
        assert!(references.insert(view.case.reference.to_string()));
    }
    assert_eq!(references.len(), 48);
}

/// Published question-set versions survive a restart on the same store even when the
/// catalogue files no longer contain them: open cases keep validating against their
/// pinned version, new cases take the newest, and a changed published version is
/// refused.
pub async fn engine_question_sets_persist(store: Arc<dyn Store>) {
    use crate::catalogue::{AnswerValue, Answers, Catalogue, CatalogueSource};
    use crate::request::RequestCommand as C;
    use crate::{EngineError, access::Actor};
    let (engine, a, ids, id) = request_world(Arc::clone(&store)).await;
    assert_eq!(
        engine.persist_question_sets(&Actor::System).await.unwrap(),
        1
    );
    assert_eq!(
        engine.persist_question_sets(&Actor::System).await.unwrap(),
        0,
        "idempotent"
    );
    drop(engine);

    // "Restart": a new engine on the same store, whose files hold only version 2.
    let engine = engine_on(Arc::clone(&store));
    let v2 = REQUEST_QS
        .replacen("version = 1", "version = 2", 1)
        .replacen(
            "required = \"to-send\"\npersonal_data = true",
            "required = \"to-save\"\npersonal_data = true",
            1,
        );
    let files = [
        CatalogueSource::new("areas/h.toml", REQUEST_AREA),
        CatalogueSource::new("question-sets/q.toml", v2.clone()),
    ];
    assert_eq!(
        engine.restore_question_sets(&Actor::System).await.unwrap(),
        1
    );
    engine
        .publish_catalogue(&Actor::System, Catalogue::load(&files).unwrap())
        .unwrap();
    engine.persist_question_sets(&Actor::System).await.unwrap();
    let (view, _) = engine.request(&a[0], id).await.unwrap();
    assert_eq!(
        view.case.question_set.version, 1,
        "the open case keeps version 1"
    );
    engine
        .act_on_request(&a[1], id, C::Accept { days: 5 }, None)
        .await
        .unwrap();
    let mut reply = Answers::new();
    reply.set("authentic".parse().unwrap(), AnswerValue::YesNo(true));
    engine
        .act_on_request(&a[1], id, C::Answer { answers: reply }, None)
        .await
        .unwrap();
    let fresh = engine
        .create_request(&a[0], &"nurse-check".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(
        fresh.case.question_set.version, 2,
        "new cases take the newest"
    );
    let _ = ids;

    // A file that changes published version 1 is refused after the restore.
    let engine = engine_on(Arc::clone(&store));
    engine.restore_question_sets(&Actor::System).await.unwrap();
    let changed = REQUEST_QS.replacen("id = \"registered\"", "id = \"registered-elsewhere\"", 1);
    let files = [
        CatalogueSource::new("areas/h.toml", REQUEST_AREA),
        CatalogueSource::new("question-sets/q.toml", changed),
    ];
    assert!(matches!(
        engine.publish_catalogue(&Actor::System, Catalogue::load(&files).unwrap()),
        Err(EngineError::Catalogue(_))
    ));
}

/// Synthetic load: copies of a closed request behave like the original (references,
/// inboxes, data-subject index, retention); retention over many cases goes in grouped
/// commits and happens once per case. Identical on every backend.
pub async fn engine_replicated_load(store: Arc<dyn Store>) {
    use crate::catalogue::{AnswerValue, Answers};
    use crate::request::{RequestCommand as C, Stage};
    use crate::{EngineError, InboxQuery, PageRequest, access::Actor};
    let day =
        |d: &str| -> chrono::DateTime<chrono::Utc> { format!("{d}T09:00:00Z").parse().unwrap() };
    let w = request_world_with(Arc::clone(&store), REQUEST_AREA, REQUEST_QS, true).await;
    let (engine, dk, fr, id) = (&w.engine, &w.actors[0], &w.actors[1], w.case);
    engine
        .act_on_request(fr, id, C::Accept { days: 5 }, None)
        .await
        .unwrap();
    let mut reply = Answers::new();
    reply.set("authentic".parse().unwrap(), AnswerValue::YesNo(true));
    engine
        .act_on_request(fr, id, C::Answer { answers: reply }, None)
        .await
        .unwrap();
    engine
        .act_on_request(dk, id, C::AcceptAnswer { rating: None }, None)
        .await
        .unwrap();
    assert!(matches!(
        engine.replicate_request(dk, id, 10, |_| {}).await,
        Err(EngineError::Denied(_))
    ));
    let mut heard = Vec::new();
    let copies = engine
        .replicate_request(&Actor::System, id, 1_100, |n| heard.push(n))
        .await
        .unwrap();
    assert_eq!(heard, vec![500, 1_000, 1_100], "progress after each commit");
    assert_eq!(copies.len(), 1_100);
    let first = engine.request(dk, copies[0]).await.unwrap().0;
    let last = engine.request(dk, copies[1_099]).await.unwrap().0;
    let original = engine.request(dk, id).await.unwrap().0;
    assert_eq!(first.case.request, original.case.request);
    // The copies take one contiguous range of reference numbers after the original's.
    assert!(first.case.reference.number() > original.case.reference.number());
    assert_eq!(
        last.case.reference.number(),
        first.case.reference.number() + 1_099
    );
    assert_eq!(
        engine.request_timeline(fr, copies[7]).await.unwrap().len(),
        engine.request_timeline(fr, id).await.unwrap().len()
    );
    let query = InboxQuery {
        stage: Some(Stage::Closed),
        ..InboxQuery::default()
    };
    let mut page = PageRequest::first(100).unwrap();
    let mut closed = 0;
    loop {
        let got = engine.inbox(dk, &query, page.clone()).await.unwrap();
        closed += got.items.len();
        match got.next {
            Some(cursor) => page = PageRequest::first(100).unwrap().after(cursor),
            None => break,
        }
    }
    assert_eq!(closed, 1_101);

    // Documents and indexes agree; a lost index entry and a stray one are both found.
    let report = engine
        .check_request_integrity(&Actor::System)
        .await
        .unwrap();
    assert!(report.is_consistent(), "{report:?}");
    assert_eq!(report.cases, 1_101);
    assert!(report.index_entries >= 2 * 1_101, "{report:?}");
    assert!(matches!(
        engine.check_request_integrity(dk).await,
        Err(EngineError::Denied(_))
    ));
    let inbox_entry = engine
        .store()
        .scan(&Scan::prefix(&[crate::keys::Space::Inbox as u8], 1))
        .await
        .unwrap()
        .entries
        .remove(0)
        .key;
    let stray = crate::keys::due(
        day("2027-01-01").date_naive(),
        Some(crate::IdGenerator::seeded(7).case(day("2026-01-01"))),
    );
    let mut tamper = WriteBatch::new();
    tamper
        .delete(inbox_entry.clone())
        .put(stray.clone(), Vec::new());
    store.commit(tamper).await.unwrap();
    let report = engine
        .check_request_integrity(&Actor::System)
        .await
        .unwrap();
    assert_eq!(report.problem_count, 2, "{report:?}");
    assert!(report.problems[0].contains("missing"), "{report:?}");
    assert!(
        report.problems[1].contains("belongs to no request"),
        "{report:?}"
    );
    let mut repair = WriteBatch::new();
    repair.put(inbox_entry, Vec::new()).delete(stray);
    store.commit(repair).await.unwrap();
    assert!(
        engine
            .check_request_integrity(&Actor::System)
            .await
            .unwrap()
            .is_consistent()
    );
    assert_eq!(
        engine
            .find_data_subject(dk, &["marie".into()])
            .await
            .unwrap()
            .len(),
        1_101
    );

    // Six months after closure every copy is blocked, in bounded, grouped steps, once.
    let mut blocked = 0;
    loop {
        let n = engine.tick(day("2027-05-22"), 400).await.unwrap().blocked;
        if n == 0 {
            break;
        }
        assert!(n <= 400);
        blocked += n;
    }
    assert_eq!(blocked, 1_101);
    for c in [id, copies[0], copies[600], copies[1_099]] {
        assert!(
            engine
                .request(&Actor::System, c)
                .await
                .unwrap()
                .0
                .case
                .request
                .is_blocked()
        );
    }
    assert!(
        engine
            .find_data_subject(dk, &["marie".into()])
            .await
            .unwrap()
            .is_empty()
    );
}

/// Every id a listing gives, following its cursors one entry at a time.
async fn walk<F, Fut>(list: F) -> Vec<crate::CaseId>
where
    F: Fn(crate::PageRequest) -> Fut,
    Fut: std::future::Future<
            Output = Result<crate::Page<crate::case::RequestView>, crate::EngineError>,
        >,
{
    let mut ids = Vec::new();
    let mut page = crate::PageRequest::first(1).unwrap();
    loop {
        let got = list(page.clone()).await.unwrap();
        ids.extend(got.items.iter().map(|v| v.case.id));
        match got.next {
            Some(cursor) => page = crate::PageRequest::first(1).unwrap().after(cursor),
            None => return ids,
        }
    }
}

/// The listings the upgrade must keep: DK's whole inbox, DK as requester, FR's accepted
/// ones, FR's by deadline, DK's by deadline up to 2026-12-20, and DK's waiting for it.
async fn inbox_listings(
    e: &crate::Engine,
    dk: &crate::access::Actor,
    fr: &crate::access::Actor,
) -> [Vec<crate::CaseId>; 6] {
    use crate::InboxQuery;
    use crate::catalogue::Side;
    let requester = InboxQuery {
        side: Some(Side::Requester),
        ..Default::default()
    };
    let accepted = InboxQuery {
        side: Some(Side::Responder),
        stage: Some(crate::request::Stage::Accepted),
        ..Default::default()
    };
    let all = &InboxQuery::default();
    let (requester, accepted) = (&requester, &accepted);
    let until = Some("2026-12-20".parse().unwrap());
    [
        walk(|p| async move { e.inbox(dk, all, p).await }).await,
        walk(|p| async move { e.inbox(dk, requester, p).await }).await,
        walk(|p| async move { e.inbox(fr, accepted, p).await }).await,
        walk(|p| async move {
            e.inbox_by_deadline(fr, Side::Responder, None, false, p)
                .await
        })
        .await,
        walk(|p| async move {
            e.inbox_by_deadline(dk, Side::Requester, until, false, p)
                .await
        })
        .await,
        walk(|p| async move {
            e.inbox_by_deadline(dk, Side::Requester, None, true, p)
                .await
        })
        .await,
    ]
}

/// The inbox and the by-deadline inbox share one entry per request and party (layout 2):
/// listings by stage and by deadline, paged one entry at a time across stages, come from
/// it. A store written with layout 1's separate entries is upgraded the first time an
/// inbox is read, gives the same listings, and keeps nothing of layout 1.
pub async fn engine_inbox_upgrade(store: Arc<dyn Store>) {
    use crate::Engine;
    use crate::catalogue::{AnswerValue, Answers};
    use crate::request::RequestCommand as C;
    use crate::store::StoreExt;
    let w = request_world_with(Arc::clone(&store), REQUEST_AREA, REQUEST_QS, true).await;
    let (dk, fr) = (&w.actors[0], &w.actors[1]);
    let mut made = vec![w.case];
    for needed_by in ["2026-12-31", "2026-12-05", "2027-01-15", "2026-12-20", ""] {
        let id = nurse_draft(&w.engine, dk, "nurse-check", "Marie", "nurse").await;
        if !needed_by.is_empty() {
            let send = C::Send {
                recipient: w.ids[1],
                needed_by: needed_by.parse().unwrap(),
            };
            w.engine.act_on_request(dk, id, send, None).await.unwrap();
        }
        made.push(id);
    }
    // One accepted (committed date 2026-11-24), one answered: three open stages.
    w.engine
        .act_on_request(fr, made[4], C::Accept { days: 2 }, None)
        .await
        .unwrap();
    w.engine
        .act_on_request(fr, made[2], C::Accept { days: 2 }, None)
        .await
        .unwrap();
    let mut reply = Answers::new();
    reply.set("authentic".parse().unwrap(), AnswerValue::YesNo(true));
    w.engine
        .act_on_request(fr, made[2], C::Answer { answers: reply }, None)
        .await
        .unwrap();
    let before = inbox_listings(&w.engine, dk, fr).await;
    // The world's first request asks for an answer by 2027-01-31.
    assert_eq!(
        before[3],
        vec![made[4], made[2], made[1], made[3], made[0]],
        "the responder's open requests, soonest first, across three stages"
    );
    assert_eq!(before[4], vec![made[4], made[2]], "up to a date");
    assert_eq!(
        before[5],
        vec![made[2]],
        "only the answered one waits for DK"
    );
    assert_eq!(before[0].len(), 6, "DK's inbox lists all six");
    assert_eq!(before[2], vec![made[4]], "one accepted");

    // The same store as layout 1 wrote it.
    let inbox = store
        .pages(Scan::prefix(&crate::keys::inbox_all_prefix(), 500))
        .all()
        .await
        .unwrap();
    let mut batch = WriteBatch::new();
    for e in &inbox {
        assert_eq!(
            e.key.len(),
            crate::keys::INBOX_V1_LEN + 8,
            "one layout at a time"
        );
        batch.delete(e.key.clone());
        let (head, rest) = e.key.split_at(19);
        let (date, case) = rest.split_at(8);
        batch.put([head, case].concat(), Vec::new());
        let stage = head[18];
        if (1..=4).contains(&stage) && date != crate::keys::INBOX_UNDATED {
            let due = [
                &crate::keys::inbox_due_v1_prefix()[..],
                &head[1..18],
                date,
                case,
            ]
            .concat();
            batch.put(due, Vec::new());
        }
    }
    batch.delete(crate::keys::meta("dated-inbox"));
    store.commit(batch).await.unwrap();

    // A new engine on it upgrades it on the first read of an inbox.
    let again = Engine::new(Arc::clone(&store), w.clock.clone());
    again
        .publish_catalogue(
            &crate::access::Actor::System,
            (*w.engine.catalogue()).clone(),
        )
        .unwrap();
    assert_eq!(
        inbox_listings(&again, dk, fr).await,
        before,
        "the same listings after the upgrade"
    );
    let left = |prefix: Vec<u8>| {
        let store = Arc::clone(&store);
        async move { store.pages(Scan::prefix(&prefix, 500)).all().await.unwrap() }
    };
    assert!(
        left(crate::keys::inbox_due_v1_prefix()).await.is_empty(),
        "no by-deadline entries left"
    );
    let entries = left(crate::keys::inbox_all_prefix()).await;
    assert_eq!(
        entries.len(),
        inbox.len(),
        "one entry per request and party"
    );
    assert!(
        entries
            .iter()
            .all(|e| e.key.len() == crate::keys::INBOX_V1_LEN + 8)
    );
    assert!(
        store
            .get(&crate::keys::meta("dated-inbox"))
            .await
            .unwrap()
            .is_some()
    );
}
