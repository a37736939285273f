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
use imi_core::webhook::{UrlPolicy, WebhookError, verify};
use imi_core::{
    Country, Engine, EngineError, Invitation, Language, LocalisedText, ManualClock, access::Actor,
    authority::CoordinatorRole, authority::NewAuthority, store::MemoryStore,
};
use imi_examples::webhook::WebhookNotifier;

/// The key that seals webhook secrets in these tests.
const KEY: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

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

/// A Danish national coordinator with a webhook at `url` (for registrations), and a
/// self-registered authority whose registration is announced to it.
async fn registration_announced_to(
    url: &str,
) -> (
    Engine,
    Arc<ManualClock>,
    imi_core::webhook::Webhook,
    imi_core::authority::Authority,
) {
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let engine = Engine::new(Arc::new(MemoryStore::new()), clock.clone())
        .with_secret_key(KEY.parse().unwrap())
        .with_webhook_policy(UrlPolicy {
            allow_loopback: true,
        });
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
            .register_webhook(&Actor::Public, nimic.id(), url, Default::default())
            .await,
        Err(EngineError::Denied(_))
    ));
    let hook = engine
        .register_webhook(
            &Actor::System,
            nimic.id(),
            url,
            [Topic::RegistrationAwaitingValidation].into(),
        )
        .await
        .unwrap();

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
    (engine, clock, hook, pending)
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

    let (engine, clock, hook, pending) = registration_announced_to(&url).await;
    let secret = hook.secret.clone().unwrap();

    let notifier = WebhookNotifier::new(std::time::Duration::from_secs(10))
        .unwrap()
        .allowing_loopback();
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
            .webhooks(&Actor::System, hook.authority)
            .await
            .unwrap()
            .is_empty()
    );
}

/// A TLS endpoint on loopback with a self-signed certificate for `localhost`: it answers
/// 204 to every request and keeps what it received.
async fn tls_receiver() -> (String, rustls::RootCertStore, Arc<Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rcgen::CertifiedKey { cert, key_pair } =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(key_pair.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert.der().clone()], key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let keep = Arc::clone(&got);
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let Ok(mut tls) = acceptor.accept(tcp).await else {
                continue; // a client that does not trust us
            };
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                let n = tls.read(&mut buf).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&request);
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if request.len() >= end + 4 + length {
                        break;
                    }
                }
            }
            keep.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&request).into_owned());
            let _ = tls
                .write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")
                .await;
            let _ = tls.shutdown().await;
        }
    });
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.der().clone()).unwrap();
    (format!("https://localhost:{port}/imi-hook"), roots, got)
}

#[tokio::test]
async fn https_endpoints_are_reached_over_tls_and_their_certificate_is_checked() {
    let (url, roots, got) = tls_receiver().await;
    let (engine, _clock, _hook, _) = registration_announced_to(&url).await;
    let lease = chrono::Duration::minutes(5);
    // A client that does not trust the endpoint's certificate does not deliver.
    let public_roots = WebhookNotifier::new(std::time::Duration::from_secs(5))
        .unwrap()
        .allowing_loopback();
    let report = engine.dispatch(&public_roots, 10, lease).await.unwrap();
    assert_eq!((report.delivered, report.failed), (0, 1));
    assert!(got.lock().unwrap().is_empty());
    // One that does, delivers over TLS.
    let (engine, _clock, hook, pending) = registration_announced_to(&url).await;
    let trusting = WebhookNotifier::with_roots(roots, std::time::Duration::from_secs(5))
        .unwrap()
        .allowing_loopback();
    let report = engine.dispatch(&trusting, 10, lease).await.unwrap();
    assert_eq!((report.delivered, report.completed), (1, 1));
    let received = got.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    let request = &received[0];
    assert!(request.starts_with("POST /imi-hook HTTP/1.1"), "{request}");
    let (head, body) = request.split_once("\r\n\r\n").unwrap();
    let header = |name: &str| {
        head.lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
            })
            .unwrap()
    };
    verify(
        hook.secret.as_ref().unwrap(),
        &header("webhook-id"),
        &header("webhook-timestamp"),
        &header("webhook-signature"),
        body.as_bytes(),
        chrono::Utc::now(),
    )
    .unwrap();
    assert!(body.contains(&pending.id().to_string()));
}

/// Finding 11: webhook secrets are sealed at rest with the configured key (a copy of the
/// store reveals none; another key cannot open them, and such a webhook fails visibly
/// rather than silently), and endpoints must be public: private, link-local, metadata
/// and loopback addresses are refused at registration by default, and at delivery names
/// resolving to them are refused too.
#[tokio::test]
async fn secrets_are_sealed_and_endpoints_public() {
    use imi_core::store::Store;
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let strict = Engine::new(store.clone(), clock.clone()).with_secret_key(KEY.parse().unwrap());
    let mut n = NewAuthority::new(
        Country::Denmark,
        LocalisedText::new(Language::Danish, "Erhvervsstyrelsen").unwrap(),
    );
    n.confirmed_not_duplicate = true;
    let nimic = strict.register_authority(&Actor::System, n).await.unwrap();
    strict
        .appoint_coordinator(&Actor::System, nimic.id(), Some(CoordinatorRole::National))
        .await
        .unwrap();
    for url in [
        "http://127.0.0.1:9/hook",
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[fd12::1]/hook",
        "https://metadata.google.internal/",
        "https://localhost/hook",
    ] {
        assert!(
            matches!(
                strict
                    .register_webhook(&Actor::System, nimic.id(), url, Default::default())
                    .await,
                Err(EngineError::InvalidWebhook(WebhookError::BadUrl))
            ),
            "{url}"
        );
    }
    // Without a key, no webhook can be registered.
    let keyless = Engine::new(store.clone(), clock.clone());
    assert!(matches!(
        keyless
            .register_webhook(
                &Actor::System,
                nimic.id(),
                "https://hooks.example.eu/imi",
                Default::default()
            )
            .await,
        Err(EngineError::InvalidWebhook(WebhookError::NoKey))
    ));
    let hook = strict
        .register_webhook(
            &Actor::System,
            nimic.id(),
            "https://hooks.example.eu/imi",
            Default::default(),
        )
        .await
        .unwrap();
    let shown = hook.secret.clone().unwrap().expose();
    let b64 = shown.trim_start_matches("whsec_");
    let all = store
        .scan(&imi_core::store::Scan::all(10_000))
        .await
        .unwrap();
    assert!(
        all.entries
            .iter()
            .all(|e| !String::from_utf8_lossy(&e.value).contains(b64)),
        "the secret is never stored in clear"
    );
    assert!(
        strict.webhooks(&Actor::System, nimic.id()).await.unwrap()[0]
            .secret
            .is_none(),
        "listings never show the secret"
    );
    // Another server with another key: the webhook cannot be signed for, and each
    // delivery attempt fails visibly (it ends as a dead letter, never silently skipped).
    let other_key = "1".repeat(64);
    let other =
        Engine::new(store.clone(), clock.clone()).with_secret_key(other_key.parse().unwrap());
    let invitation = other
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
    other.self_register(&invitation, new).await.unwrap();
    let notifier = WebhookNotifier::new(std::time::Duration::from_secs(2)).unwrap();
    let report = other
        .dispatch(&notifier, 10, chrono::Duration::minutes(5))
        .await
        .unwrap();
    assert_eq!((report.delivered, report.failed), (0, 1), "{report:?}");
}

/// At delivery, a host name that resolves to a loopback or private address is refused
/// even though the URL looked public when it was registered.
#[tokio::test]
async fn deliveries_never_reach_private_addresses() {
    use imi_core::outbox::{Address, Message, Notifier};
    // `localhost.` style names are refused by the URL check already; a name that
    // resolves to loopback through the system resolver is `localhost` itself, so check
    // the resolver directly with it and the delivery path with a literal.
    let mut resolver = imi_examples::webhook::PublicOnly::strict();
    let name: hyper_util::client::legacy::connect::dns::Name = "localhost".parse().unwrap();
    let refused = tower::Service::call(&mut resolver, name).await;
    assert!(refused.is_err(), "localhost resolves to loopback only");
    let notifier = WebhookNotifier::new(std::time::Duration::from_secs(2)).unwrap();
    let message = Message {
        to: Address::Webhook {
            webhook: imi_core::IdGenerator::seeded(1).webhook(chrono::Utc::now()),
            url: "https://10.0.0.1/hook".into(),
            secret: "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
                .parse()
                .unwrap(),
        },
        idempotency_key: "k".into(),
        announcement: imi_core::outbox::AnnouncementId(uuid::Uuid::nil()),
        topic: Topic::RequestReceived,
        attempt: 1,
        possible_duplicate: false,
        language: Language::English,
        subject: "s".into(),
        body: "b".into(),
        link: "/v1".into(),
    };
    let e = notifier.deliver(&message).await.unwrap_err();
    assert!(e.message.contains("10.0.0.1"), "{}", e.message);
}
