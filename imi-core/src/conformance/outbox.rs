//! Engine scenarios: the outbox, and the notifiers the tests use.

#[allow(unused_imports)]
use super::*;

/// A notifier that records what it is given, and fails for the addresses it is told to
/// (a test double of a delivery channel; the real channels are tested at the edge).
#[derive(Default)]
pub struct RecordingNotifier {
    /// Every message it took, in order.
    pub delivered: std::sync::Mutex<Vec<crate::outbox::Message>>,
    /// Addresses whose deliveries fail.
    pub failing: std::sync::Mutex<std::collections::BTreeSet<String>>,
}

#[async_trait::async_trait]
impl crate::outbox::Notifier for RecordingNotifier {
    async fn deliver(
        &self,
        message: &crate::outbox::Message,
    ) -> Result<(), crate::outbox::DeliveryError> {
        let address = match &message.to {
            crate::outbox::Address::Email { address } => address.as_str().to_owned(),
            crate::outbox::Address::Webhook { url, .. } => url.clone(),
        };
        if self.failing.lock().unwrap().contains(&address) {
            return Err(crate::outbox::DeliveryError {
                message: format!("{address}: mailbox unavailable"),
            });
        }
        self.delivered.lock().unwrap().push(message.clone());
        Ok(())
    }
}

/// A notifier that never finishes a delivery: a dispatcher stuck or dead mid-delivery.
#[derive(Default)]
struct StuckNotifier {
    entered: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl crate::outbox::Notifier for StuckNotifier {
    async fn deliver(
        &self,
        _: &crate::outbox::Message,
    ) -> Result<(), crate::outbox::DeliveryError> {
        self.entered
            .store(true, std::sync::atomic::Ordering::SeqCst);
        futures::future::pending().await
    }
}

/// Gives the executor a turn (so store work on other threads can finish).
struct YieldNow(bool);

impl std::future::Future for YieldNow {
    type Output = ();

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.0 {
            std::task::Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    }
}

impl RecordingNotifier {
    /// Takes what was delivered so far.
    pub fn take(&self) -> Vec<crate::outbox::Message> {
        std::mem::take(&mut *self.delivered.lock().unwrap())
    }
}

/// The outbox: a request's lifecycle announces exactly the expected events, each in the
/// same commit as the event, to the right people in their language (users with the
/// right, minus one who muted the topic; a functional mailbox instead of users where the
/// authority says so), with no personal data; dispatch is at least once with stable
/// idempotency keys: a dispatcher that stops after its lease leaves the announcement to
/// the next, marked as a possible duplicate; two dispatchers never hold one announcement
/// at once; a failing mailbox is retried with backoff and ends in the dead letters after
/// `MAX_ATTEMPTS`, from where an administrator can retry it. Identical on every backend.
pub async fn engine_outbox(store: Arc<dyn Store>) {
    use crate::catalogue::{AnswerValue, Answers, Right};
    use crate::outbox::{DeliveryState, NotificationPreferences, NotificationSettings, Topic};
    use crate::request::RequestCommand as C;
    use crate::{
        EngineError, Language, PageRequest, access::Actor, user::Grant, user::GrantScope,
        user::NewUser,
    };
    let w = request_world_with(Arc::clone(&store), REQUEST_AREA, REQUEST_QS, false).await;
    let (engine, clock, a, ids, id) = (&w.engine, &w.clock, &w.actors, &w.ids, w.case);
    let (dk, alloc, fr2) = (&a[0], &a[3], &a[5]);
    let lease = chrono::Duration::minutes(5);
    let notifier = RecordingNotifier::default();
    // A French-speaking handler at the French authority; the second French handler
    // mutes new requests; Denmark is told through its functional mailbox only.
    let julie = engine
        .create_user(
            &Actor::System,
            ids[1],
            NewUser {
                name: "Julie".into(),
                email: "julie@fr.example".parse().unwrap(),
                language: Language::French,
            },
        )
        .await
        .unwrap();
    engine
        .set_grants(
            &Actor::System,
            julie.id(),
            vec![Grant::new(Right::RequestHandler, GrantScope::Everything)],
        )
        .await
        .unwrap();
    let julie_actor = engine.actor_for(julie.id()).await.unwrap();
    engine
        .set_notification_preferences(
            fr2,
            NotificationPreferences {
                muted: [Topic::RequestReceived].into(),
            },
        )
        .await
        .unwrap();
    assert!(matches!(
        engine
            .set_notification_settings(dk, ids[0], NotificationSettings::default())
            .await,
        Err(EngineError::Denied(_))
    ));
    engine
        .set_notification_settings(
            &Actor::System,
            ids[0],
            NotificationSettings {
                functional_mailbox: Some("imi@dk.example".parse().unwrap()),
                notify_users: false,
            },
        )
        .await
        .unwrap();
    // Saving a draft announces nothing, and neither does a refused command: the
    // announcement commits with its event or not at all.
    assert!(
        engine
            .act_on_request(
                dk,
                id,
                C::Send {
                    recipient: ids[0],
                    needed_by: "2027-01-31".parse().unwrap(),
                },
                None,
            )
            .await
            .is_err(),
        "not to the requester itself"
    );
    assert_eq!(
        engine.dispatch(&notifier, 100, lease).await.unwrap(),
        crate::DispatchReport::default()
    );

    // Sent: the French allocator and handlers hear of it, each in their language.
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
    let report = engine.dispatch(&notifier, 100, lease).await.unwrap();
    assert_eq!((report.delivered, report.completed), (3, 1));
    let got = notifier.take();
    let reference = engine
        .request(&Actor::System, id)
        .await
        .unwrap()
        .0
        .case
        .reference;
    let uid = |actor: &Actor| match actor {
        Actor::User(p) => p.user(),
        _ => unreachable!(),
    };
    let to: std::collections::BTreeSet<String> =
        got.iter().map(|m| m.idempotency_key.clone()).collect();
    assert_eq!(to.len(), 3);
    for (actor, muted) in [
        (&a[1], false),
        (alloc, false),
        (&julie_actor, false),
        (fr2, true),
    ] {
        let key = format!("user:{}", uid(actor));
        assert_eq!(
            got.iter().any(|m| m.idempotency_key.ends_with(&key)),
            !muted
        );
    }
    for m in &got {
        assert_eq!(m.topic, Topic::RequestReceived);
        assert_eq!((m.attempt, m.possible_duplicate), (1, false));
        assert!(m.subject.contains(&reference.to_string()));
        assert_eq!(m.link, format!("/v1/requests/{id}"));
        assert!(!m.body.contains("Marie"), "no personal data");
        let french = m.idempotency_key.ends_with(&julie.id().to_string());
        assert_eq!(
            m.language,
            if french {
                Language::French
            } else {
                Language::English
            }
        );
        if french {
            assert!(m.subject.starts_with("IMI : nouvelle demande"));
        }
    }
    assert_eq!(
        engine
            .dispatch(&notifier, 100, lease)
            .await
            .unwrap()
            .delivered,
        0,
        "delivered once"
    );

    // Accepted, answered: Denmark's functional mailbox hears of it, its users do not.
    engine
        .act_on_request(
            alloc,
            id,
            C::Allocate {
                handler: uid(&a[1]),
            },
            None,
        )
        .await
        .unwrap();
    engine
        .act_on_request(&a[1], id, C::Accept { days: 10 }, None)
        .await
        .unwrap();
    let mut reply = Answers::new();
    reply.set("authentic".parse().unwrap(), AnswerValue::YesNo(true));
    engine
        .act_on_request(&a[1], id, C::Answer { answers: reply }, None)
        .await
        .unwrap();
    // A dispatcher that takes the announcements and stops (here: its notifier fails
    // for everyone, as if it died before recording) ...
    notifier
        .failing
        .lock()
        .unwrap()
        .insert("imi@dk.example".into());
    let report = engine.dispatch(&notifier, 100, lease).await.unwrap();
    assert_eq!((report.delivered, report.failed), (0, 2));
    // ... and another dispatcher does not take them while they wait for their retry.
    assert_eq!(
        engine.dispatch(&notifier, 100, lease).await.unwrap().failed,
        0
    );
    notifier.failing.lock().unwrap().clear();
    clock.advance(chrono::Duration::minutes(1));
    let report = engine.dispatch(&notifier, 100, lease).await.unwrap();
    assert_eq!((report.delivered, report.completed), (2, 2));
    let got = notifier.take();
    let topics: Vec<Topic> = got.iter().map(|m| m.topic).collect();
    assert_eq!(topics, [Topic::RequestAccepted, Topic::RequestAnswered]);
    for m in &got {
        assert!(m.idempotency_key.ends_with(&format!("mailbox:{}", ids[0])));
        assert_eq!((m.attempt, m.possible_duplicate), (2, true));
    }

    // Two dispatchers on one store: a leased announcement is not handed out again until
    // its lease ends; a lease that ran out (the dispatcher died) goes to the next one.
    engine
        .act_on_request(
            dk,
            id,
            C::AskClarification {
                text: "Marie Dubois?".into(),
            },
            None,
        )
        .await
        .unwrap();
    // The first dispatcher leases it and is stuck inside delivery ...
    let stuck = StuckNotifier::default();
    let mut first = Box::pin(engine.dispatch(&stuck, 100, lease));
    while !stuck.entered.load(std::sync::atomic::Ordering::SeqCst) {
        if let Some(r) = futures::FutureExt::now_or_never(first.as_mut()) {
            panic!("the first dispatcher should hang in delivery: {r:?}");
        }
        YieldNow(false).await;
    }
    // ... so the second finds nothing to deliver ...
    let second = engine.dispatch(&notifier, 100, lease).await.unwrap();
    assert_eq!((second.delivered, second.failed), (0, 0));
    // ... and when the first dies, its lease runs out and the next dispatcher delivers,
    // marking the messages as possible duplicates (same idempotency keys).
    drop(first);
    clock.advance(lease + chrono::Duration::seconds(1));
    let third = engine.dispatch(&notifier, 100, lease).await.unwrap();
    assert_eq!((third.delivered, third.completed), (3, 1));
    let got = notifier.take();
    assert!(got.iter().all(|m| m.topic == Topic::ClarificationAsked
        && m.possible_duplicate
        && !m.body.contains("Marie")));

    // A mailbox that keeps failing ends in the dead letters after MAX_ATTEMPTS; the
    // operator (or an administrator of the authority) sees it and can retry it.
    engine
        .set_notification_settings(
            &Actor::System,
            ids[1],
            NotificationSettings {
                functional_mailbox: Some("imi@fr.example".parse().unwrap()),
                notify_users: false,
            },
        )
        .await
        .unwrap();
    notifier
        .failing
        .lock()
        .unwrap()
        .insert("imi@fr.example".into());
    let second = nurse_draft(engine, dk, "nurse-check", "Marie", "nurse").await;
    engine
        .act_on_request(
            dk,
            second,
            C::Send {
                recipient: ids[1],
                needed_by: "2027-03-31".parse().unwrap(),
            },
            None,
        )
        .await
        .unwrap();
    let mut dead = 0;
    for _ in 0..crate::MAX_ATTEMPTS {
        let r = engine.dispatch(&notifier, 100, lease).await.unwrap();
        dead += r.dead;
        clock.advance(chrono::Duration::hours(7));
    }
    assert_eq!(dead, 1);
    let letters = engine
        .dead_letters(&Actor::System, PageRequest::first(10).unwrap())
        .await
        .unwrap();
    assert_eq!(letters.items.len(), 1);
    let letter = &letters.items[0];
    assert_eq!(letter.announcement.topic, Topic::RequestReceived);
    assert!(matches!(
        letter.state,
        DeliveryState::Dead { attempts, .. } if attempts == crate::MAX_ATTEMPTS
    ));
    assert!(letter.last_errors[0].1.contains("mailbox unavailable"));
    assert!(matches!(
        engine
            .dead_letters(dk, PageRequest::first(10).unwrap())
            .await,
        Err(EngineError::Denied(_))
    ));
    notifier.failing.lock().unwrap().clear();
    engine
        .retry_dead_letter(&Actor::System, letter.announcement.id)
        .await
        .unwrap();
    assert_eq!(
        engine
            .dispatch(&notifier, 100, lease)
            .await
            .unwrap()
            .delivered,
        1
    );
    assert!(
        engine
            .dead_letters(&Actor::System, PageRequest::first(10).unwrap())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(notifier.take().len(), 1);

    // A deadline passes: `tick` announces the reminder in the commit that records it.
    clock.advance(chrono::Duration::days(8));
    assert!(engine.tick(engine.now(), 100).await.unwrap().deadlines >= 1);
    assert_eq!(
        engine
            .dispatch(&notifier, 100, lease)
            .await
            .unwrap()
            .delivered,
        1
    );
    let got = notifier.take();
    assert_eq!(got[0].topic, Topic::Reminder);
    assert!(got[0].subject.contains("reminder"));

    // The event feed: what was addressed to the caller's authority and concerns them,
    // oldest first, resumable from where a poller stopped.
    let first_page = engine.feed(&a[1], None, 1).await.unwrap();
    assert_eq!(first_page.items.len(), 1);
    assert_eq!(first_page.items[0].topic, Topic::RequestReceived);
    let rest = engine
        .feed(&a[1], first_page.cursor.as_ref(), 100)
        .await
        .unwrap();
    let topics: Vec<Topic> = rest.items.iter().map(|e| e.topic).collect();
    assert_eq!(
        topics,
        [
            Topic::ClarificationAsked,
            Topic::RequestReceived,
            Topic::Reminder
        ]
    );
    let tail = engine.feed(&a[1], rest.cursor.as_ref(), 100).await.unwrap();
    assert!(tail.items.is_empty());
    assert_eq!(tail.cursor, rest.cursor, "a poller resumes from the end");
    let dk_topics: Vec<Topic> = engine
        .feed(dk, None, 100)
        .await
        .unwrap()
        .items
        .iter()
        .map(|e| e.topic)
        .collect();
    assert_eq!(dk_topics, [Topic::RequestAccepted, Topic::RequestAnswered]);
    assert!(
        engine
            .feed(&a[6], None, 100)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(matches!(
        engine.feed(dk, rest.cursor.as_ref(), 10).await,
        Err(EngineError::Page(_))
    ));
    assert!(engine.feed(&Actor::Public, None, 10).await.is_err());
}
