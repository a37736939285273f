//! Webhooks against a real receiver on loopback: deliveries are signed as documented,
//! a failed delivery is retried with the same `webhook-id` (marked as a possible
//! duplicate), and the documented check detects forged and replayed deliveries.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should panic

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use imi_core::outbox::Topic;
use imi_core::webhook::{WebhookError, verify};
use imi_core::{
    Actor, CoordinatorRole, Country, Engine, EngineError, Invitation, Language, LocalisedText,
    ManualClock, MemoryStore, NewAuthority,
};
use imi_examples::webhook::WebhookNotifier;

#[derive(Default)]
struct Receiver {
    /// Answer 500 to this many deliveries first.
    fail_first: AtomicUsize,
    got: Mutex<Vec<(HeaderMap, Bytes)>>,
}

async fn hook(State(r): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    r.got.lock().unwrap().push((headers, body));
    let failing = r.fail_first.load(Ordering::SeqCst);
    if failing > 0 {
        r.fail_first.store(failing - 1, Ordering::SeqCst);
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::NO_CONTENT
    }
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).unwrap().to_str().unwrap()
}

#[tokio::test]
async fn signed_deliveries_to_a_real_receiver_retried_and_checked() {
    let receiver = Arc::new(Receiver {
        fail_first: AtomicUsize::new(1),
        ..Default::default()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/imi-hook", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/imi-hook", axum::routing::post(hook))
        .with_state(Arc::clone(&receiver));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let engine = Engine::new(Arc::new(MemoryStore::new()), clock.clone());
    let mut n = NewAuthority::new(
        Country::Denmark,
        LocalisedText::new(Language::Danish, "Erhvervsstyrelsen").unwrap(),
    );
    n.confirmed_not_duplicate = true;
    let nimic = engine.register_authority(&Actor::System, n).await.unwrap();
    engine
        .appoint_coordinator(&Actor::System, nimic.id(), Some(CoordinatorRole::National))
        .await
        .unwrap();

    // Registration: https, or http to this machine only; administrators only.
    assert!(matches!(
        engine
            .register_webhook(
                &Actor::System,
                nimic.id(),
                "http://backoffice.example.eu/",
                Default::default()
            )
            .await,
        Err(EngineError::InvalidWebhook(WebhookError::BadUrl))
    ));
    assert!(matches!(
        engine
            .register_webhook(&Actor::Public, nimic.id(), &url, Default::default())
            .await,
        Err(EngineError::Denied(_))
    ));
    let hook = engine
        .register_webhook(
            &Actor::System,
            nimic.id(),
            &url,
            [Topic::RegistrationAwaitingValidation].into(),
        )
        .await
        .unwrap();
    let secret = hook.secret.clone();

    // Something to announce: an authority registers and awaits validation.
    let invitation = engine
        .invite_authority(
            &Actor::System,
            Invitation {
                participant: Country::Denmark.into(),
                region: None,
                areas: Default::default(),
            },
        )
        .await
        .unwrap();
    let mut new = NewAuthority::new(
        Country::Denmark,
        LocalisedText::new(Language::Danish, "Sikkerhedsstyrelsen").unwrap(),
    );
    new.confirmed_not_duplicate = true;
    let pending = engine.self_register(&invitation, new).await.unwrap();

    let notifier = WebhookNotifier::default();
    let lease = chrono::Duration::minutes(5);
    let first = engine.dispatch(&notifier, 10, lease).await.unwrap();
    assert_eq!(
        (first.delivered, first.failed),
        (0, 1),
        "the receiver said 500"
    );
    clock.advance(chrono::Duration::seconds(31));
    let second = engine.dispatch(&notifier, 10, lease).await.unwrap();
    assert_eq!((second.delivered, second.completed), (1, 1));

    let got = receiver.got.lock().unwrap().clone();
    assert_eq!(got.len(), 2);
    let now = chrono::Utc::now();
    for (headers, body) in &got {
        assert_eq!(header(headers, "content-type"), "application/json");
        verify(
            &secret,
            header(headers, "webhook-id"),
            header(headers, "webhook-timestamp"),
            header(headers, "webhook-signature"),
            body,
            now,
        )
        .unwrap();
    }
    // The retry carries the same id (a receiver that took the first drops it) and says
    // it may be a duplicate.
    assert_eq!(
        header(&got[0].0, "webhook-id"),
        header(&got[1].0, "webhook-id")
    );
    let payload: serde_json::Value = serde_json::from_slice(&got[1].1).unwrap();
    assert_eq!(payload["type"], "registration-awaiting-validation");
    assert_eq!(payload["attempt"], 2);
    assert_eq!(payload["possible_duplicate"], true);
    assert_eq!(payload["link"], format!("/v1/authorities/{}", pending.id()));
    assert!(!String::from_utf8_lossy(&got[1].1).contains("Sikkerhedsstyrelsen"));

    // The documented check catches a forged body, a forged signature and a replay.
    let (headers, body) = &got[1];
    let check = |body: &[u8], signature: &str, at| {
        verify(
            &secret,
            header(headers, "webhook-id"),
            header(headers, "webhook-timestamp"),
            signature,
            body,
            at,
        )
    };
    let signature = header(headers, "webhook-signature");
    let forged = String::from_utf8_lossy(body).replace("\"attempt\":2", "\"attempt\":1");
    assert_eq!(
        check(forged.as_bytes(), signature, now),
        Err(WebhookError::BadSignature)
    );
    assert_eq!(
        check(body, "v1,bm90IGEgc2lnbmF0dXJl", now),
        Err(WebhookError::BadSignature)
    );
    assert!(matches!(
        check(body, signature, now + chrono::Duration::minutes(10)),
        Err(WebhookError::OutsideTolerance { .. })
    ));

    // Removed, it receives nothing more.
    engine
        .delete_webhook(&Actor::System, hook.id)
        .await
        .unwrap();
    assert!(
        engine
            .webhooks(&Actor::System, nimic.id())
            .await
            .unwrap()
            .is_empty()
    );
}
