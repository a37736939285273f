//! Engine scenarios: notifications and the archive of exchanges.

#[allow(unused_imports)]
use super::*;

/// A notification from Denmark to the Commission, France and Germany: the draft is the
/// sender's alone; once sent, each recipient's notification handlers read it and comment,
/// Italy (not a recipient) and users without the right see nothing; the sender closes it
/// and comments stop. Boxes, timeline, If-Match and audit along the way.
pub async fn engine_notifications(store: Arc<dyn Store>) {
    use crate::catalogue::{AnswerValue, Answers};
    use crate::notification::{NotificationCommand as C, NotificationEvent, NotificationStage};
    use crate::{Country, EngineError, NotificationBox, PageRequest, Participant, access::Actor};
    let NotificationWorld {
        engine,
        sender: dk,
        recipients,
        outsider: it,
        without_right: fr_viewer,
    } = notification_world(Arc::clone(&store)).await;
    let [fr, de, ec] = [&recipients[0].1, &recipients[1].1, &recipients[2].1].map(Clone::clone);
    let procedure = "diplomas".parse().unwrap();
    assert!(matches!(
        engine.create_notification(&fr_viewer, &procedure).await,
        Err(EngineError::Denied(_))
    ));
    assert!(matches!(
        engine
            .create_notification(&dk, &"no-such".parse().unwrap())
            .await,
        Err(EngineError::NotFound { .. })
    ));
    let id = engine
        .create_notification(&dk, &procedure)
        .await
        .unwrap()
        .id;
    let page = || PageRequest::first(10).unwrap();

    // The draft is the sender's alone.
    for other in [&fr, &ec, &it] {
        assert!(matches!(
            engine.notification(other, id).await,
            Err(EngineError::NotFound { .. })
        ));
    }
    let mut answers = Answers::new();
    answers.set(
        "title".parse().unwrap(),
        AnswerValue::Text("Sygeplejerske (professionsbachelor)".into()),
    );
    answers.set(
        "contact".parse().unwrap(),
        AnswerValue::Text("Karen Holm".into()),
    );
    let (_, v) = engine
        .act_on_notification(&dk, id, C::SaveDraft { answers }, None)
        .await
        .unwrap();
    // Refusals change nothing: the sender's own country, a stale version.
    assert!(matches!(
        engine
            .act_on_notification(
                &dk,
                id,
                C::Send {
                    countries: [Country::Denmark].into_iter().collect()
                },
                None
            )
            .await,
        Err(EngineError::Transition(_))
    ));
    let send = C::Send {
        countries: [Country::France, Country::Germany].into_iter().collect(),
    };
    let (sent, v2) = engine
        .act_on_notification(&dk, id, send.clone(), Some(v))
        .await
        .unwrap();
    assert_eq!(sent.notification.state().stage(), NotificationStage::Sent);
    assert_eq!(
        sent.notification
            .recipients()
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        {
            let mut r: Vec<Participant> = vec![
                Participant::Commission,
                Country::France.into(),
                Country::Germany.into(),
            ];
            r.sort();
            r
        }
    );
    assert!(matches!(
        engine.act_on_notification(&dk, id, send, Some(v)).await,
        Err(EngineError::VersionMismatch { .. })
    ));
    assert!(v2 > v);

    // Recipients read it and comment; outsiders see nothing, in reads, timelines and boxes.
    for r in [&fr, &de, &ec] {
        let (n, _) = engine.notification(r, id).await.unwrap();
        assert_eq!(n.notification.answers().len(), 2);
        let got = engine
            .notifications(r, NotificationBox::Received, None, page())
            .await
            .unwrap();
        assert_eq!(got.items.len(), 1);
    }
    for outsider in [&it, &fr_viewer] {
        assert!(matches!(
            engine.notification(outsider, id).await,
            Err(EngineError::NotFound { .. })
        ));
        assert!(matches!(
            engine.notification_timeline(outsider, id).await,
            Err(EngineError::NotFound { .. })
        ));
        assert!(matches!(
            engine
                .act_on_notification(outsider, id, C::Comment { text: "x".into() }, None)
                .await,
            Err(EngineError::NotFound { .. })
        ));
        assert!(
            engine
                .notifications(outsider, NotificationBox::Received, None, page())
                .await
                .unwrap()
                .items
                .is_empty()
        );
    }
    engine
        .act_on_notification(
            &fr,
            id,
            C::Comment {
                text: "Added to our list".into(),
            },
            None,
        )
        .await
        .unwrap();
    engine
        .act_on_notification(
            &ec,
            id,
            C::Comment {
                text: "Please give the ISCED level".into(),
            },
            None,
        )
        .await
        .unwrap();
    engine
        .act_on_notification(
            &dk,
            id,
            C::Comment {
                text: "ISCED 6".into(),
            },
            None,
        )
        .await
        .unwrap();
    assert!(matches!(
        engine
            .act_on_notification(&fr, id, C::Close { reason: "x".into() }, None)
            .await,
        Err(EngineError::Transition(_))
    ));
    let (closed, _) = engine
        .act_on_notification(
            &dk,
            id,
            C::Close {
                reason: "Listed".into(),
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        closed.notification.state().stage(),
        NotificationStage::Closed
    );
    assert_eq!(closed.notification.comments(), 3);
    assert!(matches!(
        engine
            .act_on_notification(
                &de,
                id,
                C::Comment {
                    text: "late".into()
                },
                None
            )
            .await,
        Err(EngineError::Transition(_))
    ));
    let timeline = engine.notification_timeline(&de, id).await.unwrap();
    let kinds: Vec<&str> = timeline
        .iter()
        .map(|e| match &e.event {
            NotificationEvent::DraftSaved { .. } => "draft-saved",
            NotificationEvent::Sent { .. } => "sent",
            NotificationEvent::Commented { .. } => "commented",
            NotificationEvent::Closed { .. } => "closed",
            NotificationEvent::PersonalDataBlocked => "blocked",
            NotificationEvent::PersonalDataDeleted => "deleted",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "draft-saved",
            "sent",
            "commented",
            "commented",
            "commented",
            "closed"
        ]
    );
    assert_eq!(
        timeline.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=6).collect::<Vec<_>>()
    );
    let sent_box = engine
        .notifications(
            &dk,
            NotificationBox::Sent,
            Some(NotificationStage::Closed),
            page(),
        )
        .await
        .unwrap();
    assert_eq!(sent_box.items.len(), 1);
    assert!(
        engine
            .notifications(
                &dk,
                NotificationBox::Sent,
                Some(NotificationStage::Draft),
                page()
            )
            .await
            .unwrap()
            .items
            .is_empty()
    );
    // Every change and every read by a user is in the audit log.
    assert!(engine.tick(engine.now(), 1_000).await.unwrap().audit_sealed >= 12);
    assert!(engine.verify_audit(&Actor::System).await.unwrap().is_ok());

    // Retention: blocked 6 months after closure, deleted 3 years after, each once.
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
    let (n, _) = engine.notification(&fr, id).await.unwrap();
    assert!(n.notification.is_blocked());
    assert_eq!(
        n.notification.answers().len(),
        1,
        "the contact person is hidden"
    );
    let shown = format!("{:?}", engine.notification_timeline(&fr, id).await.unwrap());
    assert!(!shown.contains("Karen") && !shown.contains("ISCED level"));
    let (proof, _) = engine.notification(&Actor::System, id).await.unwrap();
    assert_eq!(proof.notification.answers().len(), 2);
    assert_eq!(
        engine.tick(day("2029-11-21"), 100).await.unwrap().blocked,
        0
    );
    assert_eq!(
        engine.tick(day("2029-11-22"), 100).await.unwrap().blocked,
        1
    );
    assert_eq!(
        engine.tick(day("2029-11-22"), 100).await.unwrap().blocked,
        0
    );
    let everything = store.scan(&Scan::all(100_000)).await.unwrap();
    for e in &everything.entries {
        for marker in [&b"Karen Holm"[..], b"ISCED level"] {
            assert!(
                !e.value.windows(marker.len()).any(|x| x == marker),
                "a value still holds personal data at {:?}",
                crate::store::KeyDisplay::from(e.key.as_slice())
            );
        }
    }
    // The non-personal skeleton stays: the title, the recipients, the timeline.
    let (kept, _) = engine.notification(&de, id).await.unwrap();
    assert_eq!(kept.notification.recipients().len(), 3);
    assert_eq!(kept.notification.answers().len(), 1);
    assert_eq!(
        engine.notification_timeline(&de, id).await.unwrap().len(),
        8
    );
}

/// The archive of exchanged information: closing a notification archives its
/// non-personal answers in the same commit (not the personal-data contact, not the
/// comments); open notifications are never archived; every signed-in user, whatever
/// their country or rights, searches it by words, procedure and country; anonymous
/// callers may not. No archive byte holds personal data, and the entry outlives the
/// deletion of the notification's personal data. Identical on every backend.
pub async fn engine_exchange_archive(store: Arc<dyn Store>) {
    use crate::catalogue::{AnswerValue, Answers};
    use crate::notification::NotificationCommand as C;
    use crate::{
        Country, EngineError, ExchangeKind, ExchangeQuery, PageRequest, Participant, access::Actor,
    };
    let NotificationWorld {
        engine,
        sender: dk,
        recipients,
        outsider: it,
        without_right,
    } = notification_world(Arc::clone(&store)).await;
    let fr = recipients[0].1.clone();
    let procedure: crate::catalogue::ProcedureId = "diplomas".parse().unwrap();
    let page = || PageRequest::first(10).unwrap();
    let send = |title: &str| {
        let engine = &engine;
        let dk = &dk;
        let procedure = &procedure;
        let title = title.to_owned();
        async move {
            let id = engine.create_notification(dk, procedure).await.unwrap().id;
            let mut answers = Answers::new();
            answers.set("title".parse().unwrap(), AnswerValue::Text(title));
            answers.set(
                "contact".parse().unwrap(),
                AnswerValue::Text("Karen Holm".into()),
            );
            engine
                .act_on_notification(dk, id, C::SaveDraft { answers }, None)
                .await
                .unwrap();
            let to = C::Send {
                countries: [Country::France, Country::Germany].into_iter().collect(),
            };
            engine.act_on_notification(dk, id, to, None).await.unwrap();
            id
        }
    };
    let closed = send("Sygeplejerske (professionsbachelor), Københavns Professionshøjskole").await;
    let open = send("Jordemoder (professionsbachelor)").await;
    engine
        .act_on_notification(
            &fr,
            closed,
            C::Comment {
                text: "Karen Holm confirmed the ISCED level by phone".into(),
            },
            None,
        )
        .await
        .unwrap();
    let everything = ExchangeQuery::default();
    assert!(
        engine
            .search_exchanges(&it, &everything, page())
            .await
            .unwrap()
            .items
            .is_empty(),
        "nothing is archived before closure"
    );
    engine
        .act_on_notification(
            &dk,
            closed,
            C::Close {
                reason: "Karen Holm retired".into(),
            },
            None,
        )
        .await
        .unwrap();

    // Anyone signed in finds it: another country, a user without notification rights.
    for reader in [&it, &without_right, &fr] {
        let found = engine
            .search_exchanges(reader, &everything, page())
            .await
            .unwrap();
        assert_eq!(found.items.len(), 1);
        let entry = &found.items[0];
        assert_eq!(entry.case, closed);
        assert_eq!(entry.kind, ExchangeKind::Notification);
        assert_eq!(entry.from, Participant::from(Country::Denmark));
        assert_eq!(entry.to.len(), 3, "France, Germany and the Commission");
        assert_eq!(entry.answers.len(), 1, "the title only, not the contact");
    }
    let search = |text: &str, procedure: Option<&str>, participant: Option<Participant>| {
        let engine = &engine;
        let it = &it;
        let q = ExchangeQuery {
            text: text.to_owned(),
            procedure: procedure.map(|p| p.parse().unwrap()),
            participant,
        };
        async move {
            engine
                .search_exchanges(it, &q, page())
                .await
                .unwrap()
                .items
                .len()
        }
    };
    assert_eq!(search("sygeplejerske", None, None).await, 1);
    assert_eq!(search("KOBENHAVNS sygeplejerske", None, None).await, 1);
    assert_eq!(search("jordemoder", None, None).await, 0, "still open");
    assert_eq!(search("karen", None, None).await, 0);
    assert_eq!(search("isced", None, None).await, 0);
    assert_eq!(search("", Some("diplomas"), None).await, 1);
    assert_eq!(search("", Some("other"), None).await, 0);
    assert_eq!(search("", None, Some(Country::Germany.into())).await, 1);
    assert_eq!(search("", None, Some(Participant::Commission)).await, 1);
    assert_eq!(search("", None, Some(Country::Italy.into())).await, 0);
    assert!(matches!(
        engine
            .search_exchanges(&Actor::Public, &everything, page())
            .await,
        Err(EngineError::Denied(_))
    ));
    let archived = |store: &Arc<dyn Store>| {
        let store = Arc::clone(store);
        async move {
            let mut out = Vec::new();
            for prefix in [
                crate::keys::archive(None),
                crate::keys::Key::new(crate::keys::Space::ArchiveTerm).into_bytes(),
            ] {
                out.extend(
                    store
                        .scan(&Scan::prefix(&prefix, 10_000))
                        .await
                        .unwrap()
                        .entries,
                );
            }
            out
        }
    };
    let entries = archived(&store).await;
    assert!(entries.len() > 1);
    for e in &entries {
        for marker in [&b"Karen"[..], b"ISCED", b"retired"] {
            assert!(!e.value.windows(marker.len()).any(|w| w == marker));
            assert!(!e.key.windows(marker.len()).any(|w| w == marker));
        }
    }
    // Retention deletes the notification's personal data; the archive stays as it was.
    let day =
        |d: &str| -> chrono::DateTime<chrono::Utc> { format!("{d}T09:00:00Z").parse().unwrap() };
    engine.tick(day("2029-11-22"), 100).await.unwrap();
    engine.tick(day("2029-11-22"), 100).await.unwrap();
    assert!(
        engine
            .notification(&dk, closed)
            .await
            .unwrap()
            .0
            .notification
            .is_erased()
    );
    assert_eq!(search("sygeplejerske", None, None).await, 1);
    let _ = open;
}
