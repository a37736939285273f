//! Engine scenarios: the audit chain, retention (blocking, deletion) and data subjects.

#[allow(unused_imports)]
use super::*;

/// The audit log: reads of personal data and changes are recorded with actor and
/// purpose, sealed into a hash chain in batches by `tick`, verified, and any change,
/// removal, reordering or truncation of one entry in the store is detected and named.
/// Identical on every backend.
pub async fn engine_audit_chain(store: Arc<dyn Store>) {
    use crate::audit::{AuditAction, AuditBreak, Purpose, SealedEntry};
    use crate::request::RequestCommand as C;
    use crate::{EngineError, access::Actor};
    let (engine, a, _, id) = request_world(Arc::clone(&store)).await;
    engine
        .act_on_request(&a[1], id, C::Accept { days: 5 }, None)
        .await
        .unwrap();
    engine.request(&a[1], id).await.unwrap();
    engine.request(&a[4], id).await.unwrap();
    assert!(
        matches!(
            engine.verify_audit(&a[0]).await,
            Err(EngineError::Denied(_))
        ),
        "operators only"
    );
    let before = engine.verify_audit(&Actor::System).await.unwrap().unwrap();
    assert_eq!(before.entries, 0, "nothing sealed yet");
    let now = "2026-11-22T10:00:00Z".parse().unwrap();
    let report = engine.tick(now, 3).await.unwrap();
    assert_eq!(report.audit_sealed, 3, "a bounded batch");
    engine.tick(now, 100).await.unwrap();
    assert_eq!(
        engine.seal_audit(&Actor::System, 100).await.unwrap(),
        0,
        "all sealed"
    );
    let report = engine.verify_audit(&Actor::System).await.unwrap().unwrap();
    // save-draft, send (set-up), accept: changes; the FR read: personal data. The DK
    // coordinator's read shows progress only and is not a read of personal data.
    let chain = store
        .scan(&Scan::prefix(&crate::keys::audit_chain(None), 100))
        .await
        .unwrap();
    let entries: Vec<SealedEntry> = chain
        .entries
        .iter()
        .map(|e| serde_json::from_slice(&e.value).unwrap())
        .collect();
    assert_eq!(report.entries as usize, entries.len());
    let case_actions: Vec<(&str, Purpose)> = entries
        .iter()
        .filter_map(|e| match &e.record.action {
            AuditAction::ChangeCase { command, .. } => Some((command.as_str(), e.record.purpose)),
            AuditAction::ReadCase { .. } => Some(("read", e.record.purpose)),
            _ => None,
        })
        .collect();
    assert_eq!(
        case_actions,
        [
            ("save-draft", Purpose::HandleCase),
            ("send", Purpose::HandleCase),
            ("accept", Purpose::HandleCase),
            ("read", Purpose::HandleCase)
        ]
    );
    // The directory and users set up by the operator are in the log too.
    let admin = |want: &str| {
        entries
            .iter()
            .filter(|e| match &e.record.action {
                AuditAction::ChangeAuthority { change, .. }
                | AuditAction::ChangeUser { change, .. } => {
                    change == want && e.record.purpose == Purpose::Operate
                }
                _ => false,
            })
            .count()
    };
    assert_eq!(
        (
            admin("register"),
            admin("create"),
            admin("grant-rights"),
            admin("appoint-coordinator")
        ),
        (5, 7, 7, 1)
    );
    assert!(
        !serde_json::to_string(&entries).unwrap().contains("Marie"),
        "no personal data in the log"
    );

    // Tampering with the stored chain is detected and the entry named.
    let key = |seq: u64| crate::keys::audit_chain(Some(seq));
    let put = |k: Vec<u8>, v: Vec<u8>| {
        let store = Arc::clone(&store);
        async move {
            let mut b = WriteBatch::new();
            b.put(k, v);
            store.commit(b).await.unwrap();
        }
    };
    let original: Vec<Vec<u8>> = chain.entries.iter().map(|e| e.value.clone()).collect();
    let restore = || async {
        for (i, v) in original.iter().enumerate() {
            put(key(i as u64 + 1), v.clone()).await;
        }
    };
    // 1. A changed record.
    let mut forged = entries[1].clone();
    forged.record.at += chrono::Duration::seconds(1);
    put(key(2), serde_json::to_vec(&forged).unwrap()).await;
    assert_eq!(
        engine.verify_audit(&Actor::System).await.unwrap(),
        Err(AuditBreak::Altered {
            seq: 2,
            reason: "its hash does not match its content"
        })
    );
    restore().await;
    // 2. A record rewritten with a fresh hash: the next entry's link breaks.
    forged.hash = crate::audit::entry_hash(forged.seq, &forged.prev, &forged.record);
    put(key(2), serde_json::to_vec(&forged).unwrap()).await;
    assert_eq!(
        engine.verify_audit(&Actor::System).await.unwrap(),
        Err(AuditBreak::Altered {
            seq: 3,
            reason: "it does not link to the previous entry"
        })
    );
    restore().await;
    // 3. Two entries swapped.
    put(key(2), original[2].clone()).await;
    put(key(3), original[1].clone()).await;
    assert!(matches!(
        engine.verify_audit(&Actor::System).await.unwrap(),
        Err(AuditBreak::Gap { expected: 2, .. })
    ));
    restore().await;
    // 4. A deleted entry in the middle, and the last one.
    let delete = |k: Vec<u8>| {
        let store = Arc::clone(&store);
        async move {
            let mut b = WriteBatch::new();
            b.delete(k);
            store.commit(b).await.unwrap();
        }
    };
    delete(key(3)).await;
    assert_eq!(
        engine.verify_audit(&Actor::System).await.unwrap(),
        Err(AuditBreak::Gap {
            expected: 3,
            found: 4
        })
    );
    restore().await;
    let last = entries.len() as u64;
    delete(key(last)).await;
    assert_eq!(
        engine.verify_audit(&Actor::System).await.unwrap(),
        Err(AuditBreak::Truncated {
            head: last,
            found: last - 1
        })
    );
    restore().await;
    assert!(
        engine.verify_audit(&Actor::System).await.unwrap().is_ok(),
        "restored"
    );
}

/// Blocking (Art. 14(1)): the personal data of a formally closed request become
/// invisible through normal reads exactly when the procedure's blocking period after
/// closure ends (6 months by default, 18 where the procedure says so), once, with a
/// system entry on the timeline. Identical on every backend.
pub async fn engine_retention_blocking(store: Arc<dyn Store>) {
    use crate::case::Visibility;
    use crate::catalogue::{AnswerValue, Answers};
    use crate::request::{RequestCommand as C, RequestEvent};
    let day =
        |d: &str| -> chrono::DateTime<chrono::Utc> { format!("{d}T09:00:00Z").parse().unwrap() };
    let area = format!(
        "{REQUEST_AREA}[[procedure]]\nid = \"nurse-check-long\"\nkind = \"request\"\nquestion_set = \"nurse-check\"\nblocking_months = 18\n[procedure.name]\nen = \"Nurse check (long)\"\n"
    );
    let w = request_world_with(Arc::clone(&store), &area, REQUEST_QS, true).await;
    let (engine, dk, fr) = (&w.engine, &w.actors[0], &w.actors[1]);
    for a in [w.ids[0], w.ids[1]] {
        engine
            .grant_procedure(
                &crate::access::Actor::System,
                a,
                &"nurse-check-long".parse().unwrap(),
            )
            .await
            .unwrap();
    }
    let dk = engine
        .actor_for(match dk {
            crate::access::Actor::User(p) => p.user(),
            _ => unreachable!(),
        })
        .await
        .unwrap();
    let fr = engine
        .actor_for(match fr {
            crate::access::Actor::User(p) => p.user(),
            _ => unreachable!(),
        })
        .await
        .unwrap();
    let long = nurse_draft(engine, &dk, "nurse-check-long", "Marie", "nurse").await;
    engine
        .act_on_request(
            &dk,
            long,
            C::Send {
                recipient: w.ids[1],
                needed_by: "2027-01-31".parse().unwrap(),
            },
            None,
        )
        .await
        .unwrap();
    for id in [w.case, long] {
        engine
            .act_on_request(&fr, id, C::Accept { days: 5 }, None)
            .await
            .unwrap();
        let mut reply = Answers::new();
        reply.set("authentic".parse().unwrap(), AnswerValue::YesNo(true));
        engine
            .act_on_request(&fr, id, C::Answer { answers: reply }, None)
            .await
            .unwrap();
        engine
            .act_on_request(&dk, id, C::AcceptAnswer { rating: None }, None)
            .await
            .unwrap();
    }
    let name = "holder".parse().unwrap();
    for (id, block_day) in [(w.case, "2027-05-22"), (long, "2028-05-22")] {
        let due: chrono::NaiveDate = block_day.parse().unwrap();
        let eve = (due - chrono::Duration::days(1)).to_string();
        engine.tick(day(&eve), 100).await.unwrap();
        let (view, _) = engine.request(&dk, id).await.unwrap();
        assert!(
            view.case.request.request_answers().get(&name).is_some(),
            "not before {block_day}"
        );
        assert_eq!(
            engine.tick(day(block_day), 100).await.unwrap().blocked,
            1,
            "blocked on {block_day}"
        );
        assert_eq!(
            engine.tick(day(block_day), 100).await.unwrap().blocked,
            0,
            "once"
        );
        for reader in [&dk, &fr] {
            let (view, _) = engine.request(reader, id).await.unwrap();
            assert_eq!(view.visibility, Visibility::WithoutPersonalData);
            assert!(
                view.case.request.request_answers().get(&name).is_none(),
                "blocked data never appear in normal reads"
            );
            let timeline = engine.request_timeline(reader, id).await.unwrap();
            assert!(!format!("{timeline:?}").contains("Marie"));
            assert!(matches!(
                timeline.last().map(|e| (&e.event, e.actor)),
                Some((
                    RequestEvent::PersonalDataBlocked,
                    crate::case::ActorRef::System
                ))
            ));
        }
        // The operator still holds the data until deletion (proof of the exchange).
        let (all, _) = engine
            .request(&crate::access::Actor::System, id)
            .await
            .unwrap();
        assert!(all.case.request.request_answers().get(&name).is_some());
    }

    // A justified, time-limited, audited unblock by an administrator of a party.
    use crate::audit::{AuditAction, SealedEntry, UnblockReason};
    use crate::catalogue::Right;
    use crate::{EngineError, Language, user::Grant, user::GrantScope, user::NewUser};
    let admin = engine
        .create_user(
            &crate::access::Actor::System,
            w.ids[0],
            NewUser {
                name: "Admin".into(),
                email: "a@x.dk".parse().unwrap(),
                language: Language::Danish,
            },
        )
        .await
        .unwrap();
    let grants = vec![
        Grant::new(Right::Administrator, GrantScope::Everything),
        Grant::new(Right::RequestHandler, GrantScope::Everything),
    ];
    engine
        .set_grants(&crate::access::Actor::System, admin.id(), grants)
        .await
        .unwrap();
    let admin = engine.actor_for(admin.id()).await.unwrap();
    let id = w.case;
    assert!(
        matches!(
            engine
                .unblock_request(
                    &dk,
                    id,
                    UnblockReason::ProofOfExchange,
                    "Court case 12/2028",
                    7
                )
                .await,
            Err(EngineError::Denied(_))
        ),
        "administrators only"
    );
    assert!(matches!(
        engine
            .unblock_request(&w.actors[6], id, UnblockReason::ProofOfExchange, "x", 7)
            .await,
        Err(EngineError::NotFound { .. } | EngineError::Denied(_))
    ));
    for (text, days) in [("  ", 7), ("ok", 0), ("ok", 31)] {
        assert!(
            matches!(
                engine
                    .unblock_request(&admin, id, UnblockReason::ProofOfExchange, text, days)
                    .await,
                Err(EngineError::Transition(_))
            ),
            "{text:?} {days}"
        );
    }
    w.clock.set(day("2028-06-01"));
    let access = engine
        .unblock_request(
            &admin,
            id,
            UnblockReason::DataSubjectConsent,
            "The nurse asked for a copy",
            7,
        )
        .await
        .unwrap();
    assert_eq!(access.until, day("2028-06-08"));
    let (seen, _) = engine.request(&admin, id).await.unwrap();
    assert_eq!(seen.visibility, Visibility::Full);
    assert!(
        seen.case.request.request_answers().get(&name).is_some(),
        "readable during the access"
    );
    let (other, _) = engine.request(&dk, id).await.unwrap();
    assert!(
        other.case.request.request_answers().get(&name).is_none(),
        "only for the justified user"
    );
    w.clock.set(day("2028-06-09"));
    let (after, _) = engine.request(&admin, id).await.unwrap();
    assert!(
        after.case.request.request_answers().get(&name).is_none(),
        "the access ended"
    );
    engine.tick(day("2028-06-09"), 10_000).await.unwrap();
    let chain = store
        .scan(&Scan::prefix(&crate::keys::audit_chain(None), 10_000))
        .await
        .unwrap();
    let unblocks = chain
        .entries
        .iter()
        .map(|e| serde_json::from_slice::<SealedEntry>(&e.value).unwrap())
        .filter(|e| {
            matches!(
                e.record.action,
                AuditAction::Unblock {
                    reason: UnblockReason::DataSubjectConsent,
                    ..
                }
            )
        })
        .count();
    assert_eq!(unblocks, 1, "the unblock is in the audit log");
}

/// Deletion (Art. 14(4)): 3 years after formal closure a request's personal data are
/// deleted from the case, every timeline entry, its files, translations and accesses,
/// once, keeping the non-personal skeleton. Identical on every backend; backends' own
/// tests check the bytes are gone from their files. The personal values all contain
/// `Zyxw-Erasable`.
pub async fn engine_retention_deletion(store: Arc<dyn Store>) {
    use crate::attachment::{InMemory, NewAttachment};
    use crate::catalogue::{AnswerValue, Answers};
    use crate::request::{RequestCommand as C, RequestEvent};
    use crate::{EngineError, access::Actor};
    let day =
        |d: &str| -> chrono::DateTime<chrono::Utc> { format!("{d}T09:00:00Z").parse().unwrap() };
    let qs = REQUEST_QS.replace("[[group.question]]\nid = \"authentic\"", "[[group.question]]\nid = \"copy\"\ntype = \"attachment\"\nmax_files = 2\npersonal_data = true\n[group.question.label]\nen = \"Copy\"\n[[group.question]]\nid = \"authentic\"");
    let w = request_world_with(Arc::clone(&store), REQUEST_AREA, &qs, false).await;
    let (engine, dk, fr, id) = (&w.engine, &w.actors[0], &w.actors[1], w.case);
    let file = engine
        .upload_attachment(
            dk,
            id,
            NewAttachment {
                name: "diploma.pdf".into(),
                media_type: "application/pdf".into(),
            },
            &mut InMemory::new(b"%PDF Zyxw-Erasable-File-Content".repeat(20_000)),
        )
        .await
        .unwrap();
    let mut answers = Answers::new();
    answers.set(
        "holder".parse().unwrap(),
        AnswerValue::Text("Zyxw-Erasable-Name".into()),
    );
    answers.set(
        "profession".parse().unwrap(),
        AnswerValue::Choice("nurse".parse().unwrap()),
    );
    answers.set(
        "copy".parse().unwrap(),
        AnswerValue::Attachments(vec![file.id]),
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
                recipient: w.ids[1],
                needed_by: "2027-01-31".parse().unwrap(),
            },
            None,
        )
        .await
        .unwrap();
    engine
        .act_on_request(fr, id, C::Accept { days: 5 }, None)
        .await
        .unwrap();
    engine
        .act_on_request(
            fr,
            id,
            C::Comment {
                text: "Zyxw-Erasable-Comment about her".into(),
            },
            None,
        )
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

    engine.tick(day("2029-11-21"), 100).await.unwrap();
    let (kept, _) = engine.request(&Actor::System, id).await.unwrap();
    assert!(
        kept.case.request.is_blocked() && !kept.case.request.is_erased(),
        "blocked, not yet deleted, on the eve"
    );
    assert_eq!(
        engine.tick(day("2029-11-22"), 100).await.unwrap().blocked,
        1,
        "deleted 3 years after closure"
    );
    assert_eq!(
        engine.tick(day("2029-11-22"), 100).await.unwrap().blocked,
        0,
        "once"
    );
    let (gone, _) = engine.request(&Actor::System, id).await.unwrap();
    assert!(gone.case.request.is_erased());
    let answers = gone.case.request.request_answers();
    assert!(
        answers.get(&"holder".parse().unwrap()).is_none()
            && answers.get(&"copy".parse().unwrap()).is_none()
    );
    assert!(
        answers.get(&"profession".parse().unwrap()).is_some(),
        "the non-personal skeleton stays"
    );
    let timeline = engine.request_timeline(&Actor::System, id).await.unwrap();
    assert!(
        !format!("{timeline:?}").contains("Zyxw-Erasable"),
        "{timeline:?}"
    );
    assert!(matches!(
        timeline.last().map(|e| &e.event),
        Some(RequestEvent::PersonalDataDeleted)
    ));
    assert!(matches!(
        engine.open_attachment(&Actor::System, file.id).await,
        Err(EngineError::NotFound { .. })
    ));
    let everything = store.scan(&Scan::all(100_000)).await.unwrap();
    for e in &everything.entries {
        assert!(
            !e.value.windows(13).any(|x| x == b"Zyxw-Erasable"),
            "a value still holds personal data at {:?}",
            crate::store::KeyDisplay::from(e.key.as_slice())
        );
    }
}

/// Data subjects: an authority finds its cases on a person by name and date of birth
/// (case and accents ignored), exports them as JSON, rectifies (an event; the history
/// keeps the earlier value) and erases what was processed unlawfully (gone from the case,
/// its history, its files and every stored value). Others find nothing; each step is
/// audited with its purpose. Identical on every backend.
pub async fn engine_data_subjects(store: Arc<dyn Store>) {
    use crate::attachment::{InMemory, NewAttachment};
    use crate::audit::{AuditAction, Purpose, SealedEntry};
    use crate::catalogue::{AnswerValue, Answers};
    use crate::request::{RequestCommand as C, RequestEvent};
    use crate::{EngineError, access::Actor};
    let qs = REQUEST_QS.replace(
        "[[group.question]]\nid = \"authentic\"",
        "[[group.question]]\nid = \"born\"\ntype = \"date\"\npersonal_data = true\n[group.question.label]\nen = \"Born\"\n[[group.question]]\nid = \"copy\"\ntype = \"attachment\"\nmax_files = 2\npersonal_data = true\n[group.question.label]\nen = \"Copy\"\n[[group.question]]\nid = \"authentic\"",
    );
    let w = request_world_with(Arc::clone(&store), REQUEST_AREA, &qs, false).await;
    let (engine, dk, fr, it, coord) = (
        &w.engine,
        &w.actors[0],
        &w.actors[1],
        &w.actors[6],
        &w.actors[4],
    );
    let id = w.case;
    let file = engine
        .upload_attachment(
            dk,
            id,
            NewAttachment {
                name: "passport.pdf".into(),
                media_type: "application/pdf".into(),
            },
            &mut InMemory::new(b"%PDF Qwvx-Unlawful-Scan".repeat(100)),
        )
        .await
        .unwrap();
    let answers = |name: &str, born: &str, copy: Option<crate::AttachmentId>| {
        let mut a = Answers::new();
        a.set("holder".parse().unwrap(), AnswerValue::Text(name.into()));
        a.set(
            "born".parse().unwrap(),
            AnswerValue::Date(born.parse().unwrap()),
        );
        a.set(
            "profession".parse().unwrap(),
            AnswerValue::Choice("nurse".parse().unwrap()),
        );
        if let Some(f) = copy {
            a.set("copy".parse().unwrap(), AnswerValue::Attachments(vec![f]));
        }
        a
    };
    let send = || C::Send {
        recipient: w.ids[1],
        needed_by: "2027-01-31".parse().unwrap(),
    };
    engine
        .act_on_request(
            dk,
            id,
            C::SaveDraft {
                answers: answers("Marie Dupont", "1913-05-17", Some(file.id)),
            },
            None,
        )
        .await
        .unwrap();
    engine.act_on_request(dk, id, send(), None).await.unwrap();
    // Another person, same birthday; and the same person in another of DK's requests.
    let other = engine
        .create_request(dk, &"nurse-check".parse().unwrap())
        .await
        .unwrap()
        .case
        .id;
    engine
        .act_on_request(
            dk,
            other,
            C::SaveDraft {
                answers: answers("Jean Martin", "1913-05-17", None),
            },
            None,
        )
        .await
        .unwrap();
    let again = engine
        .create_request(dk, &"nurse-check".parse().unwrap())
        .await
        .unwrap()
        .case
        .id;
    engine
        .act_on_request(
            dk,
            again,
            C::SaveDraft {
                answers: answers("MARIE DUPONT", "1913-05-17", None),
            },
            None,
        )
        .await
        .unwrap();
    let ids = |views: Vec<crate::case::RequestView>| {
        let mut v: Vec<crate::CaseId> = views.into_iter().map(|v| v.case.id).collect();
        v.sort();
        v
    };
    let who = |x: &str| vec![x.to_owned()];
    let person = vec!["marie dupónt".to_owned(), "1913-05-17".to_owned()];
    let mut both = vec![id, again];
    both.sort();
    assert_eq!(
        ids(engine.find_data_subject(dk, &person).await.unwrap()),
        both
    );
    assert_eq!(
        engine
            .find_data_subject(dk, &who("1913-05-17"))
            .await
            .unwrap()
            .len(),
        3
    );
    assert!(
        engine
            .find_data_subject(dk, &["Marie Dupont".into(), "1913-05-18".into()])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        engine.find_data_subject(dk, &["  ".into()]).await,
        Err(EngineError::Transition(_))
    ));
    // The recipient before acceptance, a stranger and a coordinator learn nothing.
    for (actor, what) in [
        (fr, "recipient before acceptance"),
        (it, "stranger"),
        (coord, "coordinator"),
    ] {
        assert!(
            engine
                .find_data_subject(actor, &person)
                .await
                .unwrap()
                .is_empty(),
            "{what}"
        );
    }
    engine
        .act_on_request(fr, id, C::Accept { days: 5 }, None)
        .await
        .unwrap();
    assert_eq!(
        ids(engine.find_data_subject(fr, &person).await.unwrap()),
        vec![id]
    );

    let export = engine.export_data_subject(dk, &person).await.unwrap();
    assert_eq!(export["format"], "imi-data-subject-export/1");
    assert_eq!(export["cases"].as_array().map(Vec::len), Some(2));
    let text = export.to_string();
    assert!(
        text.contains("Marie Dupont") && text.contains("timeline") && !text.contains("Jean Martin")
    );

    // Rectification: only personal data the party supplied, with a valid value.
    let mut fix = Answers::new();
    fix.set(
        "holder".parse().unwrap(),
        AnswerValue::Text("Marie Dupond".into()),
    );
    let rectify = |answers: Answers| C::Rectify {
        answers,
        reason: "the data subject asked".into(),
    };
    assert!(
        engine
            .act_on_request(fr, id, rectify(fix.clone()), None)
            .await
            .is_err(),
        "not the responder's data"
    );
    let mut bad = Answers::new();
    bad.set(
        "profession".parse().unwrap(),
        AnswerValue::Choice("doctor".parse().unwrap()),
    );
    assert!(
        engine
            .act_on_request(dk, id, rectify(bad), None)
            .await
            .is_err(),
        "not personal data"
    );
    let mut bad = Answers::new();
    bad.set("holder".parse().unwrap(), AnswerValue::YesNo(true));
    assert!(
        engine
            .act_on_request(dk, id, rectify(bad), None)
            .await
            .is_err(),
        "wrong type"
    );
    let (view, _) = engine
        .act_on_request(dk, id, rectify(fix), None)
        .await
        .unwrap();
    assert_eq!(
        view.case
            .request
            .request_answers()
            .get(&"holder".parse().unwrap()),
        Some(&AnswerValue::Text("Marie Dupond".into()))
    );
    let timeline = engine.request_timeline(fr, id).await.unwrap();
    assert!(matches!(
        timeline.last().map(|e| &e.event),
        Some(RequestEvent::Rectified { .. })
    ));
    assert!(
        format!("{timeline:?}").contains("Marie Dupont"),
        "the history keeps the earlier value"
    );
    assert_eq!(
        ids(engine
            .find_data_subject(dk, &who("Marie Dupond"))
            .await
            .unwrap()),
        vec![id]
    );
    assert_eq!(
        ids(engine.find_data_subject(dk, &person).await.unwrap()),
        vec![again]
    );

    // Erasure of unlawfully processed data: the date of birth and the scan.
    let erase = C::EraseUnlawful {
        questions: ["born".parse().unwrap(), "copy".parse().unwrap()]
            .into_iter()
            .collect(),
        reason: "collected without a legal basis".into(),
    };
    assert!(
        engine
            .act_on_request(fr, id, erase.clone(), None)
            .await
            .is_err()
    );
    let (view, _) = engine
        .act_on_request(dk, id, erase.clone(), None)
        .await
        .unwrap();
    let left = view.case.request.request_answers();
    assert!(
        left.get(&"born".parse().unwrap()).is_none()
            && left.get(&"copy".parse().unwrap()).is_none()
    );
    assert!(
        left.get(&"holder".parse().unwrap()).is_some(),
        "only what was named"
    );
    assert!(
        engine.act_on_request(dk, id, erase, None).await.is_err(),
        "nothing left to erase"
    );
    let timeline = engine.request_timeline(&Actor::System, id).await.unwrap();
    assert!(
        !format!("{timeline:?}").contains("1913-05-17"),
        "{timeline:?}"
    );
    assert!(matches!(
        engine.open_attachment(&Actor::System, file.id).await,
        Err(EngineError::NotFound { .. })
    ));
    assert_eq!(
        ids(engine
            .find_data_subject(dk, &who("1913-05-17"))
            .await
            .unwrap()),
        {
            let mut v = vec![other, again];
            v.sort();
            v
        }
    );
    let everything = store.scan(&Scan::all(100_000)).await.unwrap();
    for e in &everything.entries {
        let mentions_case = e.key.windows(16).any(|x| x == id.as_bytes());
        assert!(
            !(e.value.windows(16).any(|x| x == b"Qwvx-Unlawful-Sc")
                || mentions_case && e.value.windows(10).any(|x| x == b"1913-05-17")),
            "erased data still stored at {:?}",
            crate::store::KeyDisplay::from(e.key.as_slice())
        );
    }

    // Every step is in the audit log with its purpose, and the log holds no names.
    engine.seal_audit(&Actor::System, 10_000).await.unwrap();
    let chain = store
        .scan(&Scan::prefix(&crate::keys::audit_chain(None), 10_000))
        .await
        .unwrap();
    let entries: Vec<SealedEntry> = chain
        .entries
        .iter()
        .map(|e| serde_json::from_slice(&e.value).unwrap())
        .collect();
    let subject = |e: &&SealedEntry| e.record.purpose == Purpose::DataSubjectRequest;
    assert!(
        entries
            .iter()
            .filter(subject)
            .any(|e| matches!(e.record.action, AuditAction::ReadCase { case } if case == id))
    );
    assert!(entries
        .iter()
        .filter(subject)
        .any(|e| matches!(&e.record.action, AuditAction::ChangeCase { command, .. } if command == "erase-unlawful")));
    assert!(
        !chain
            .entries
            .iter()
            .any(|e| e.value.windows(6).any(|x| x == b"Dupont" || x == b"Dupond"))
    );
    assert!(engine.verify_audit(&Actor::System).await.unwrap().is_ok());
}
