//! OpenID Connect against a real provider: `oidc-provider` (the certified Node.js
//! implementation, from npm), started by the test on a free loopback port
//! (`testkit/oidc/provider.mjs`, started through `imi-testkit`). Valid, expired, forged, unsigned, wrong-audience and
//! wrong-issuer tokens, an unknown user, and key rotation (new keys picked up at once,
//! dropped keys refused once the cached set expires).
//!
//! Needs Node.js and npm: the test installs the provider's pinned packages once under
//! Cargo's target directory (`npm ci`). Without Node.js it prints one line saying so and
//! passes, unless `IMI_REQUIRE_OIDC=1` (set by `.ci/run`), where it fails.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should panic

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use imi_core::{
    Country, Engine, Language, LocalisedText, access::Actor, authority::NewAuthority,
    store::MemoryStore, user::NewUser,
};
use imi_http::oidc::{OidcAuthenticator, OidcConfig};
use imi_testkit::oidc::{Provider, provider_dir};
use serde_json::Value;
use tower::ServiceExt;

const AUDIENCE: &str = "https://imi.test/api";

/// A token from `provider` for `client`, for `resource`, acting as `user`.
async fn token(provider: &Provider, client: &str, resource: &str, user: &str) -> String {
    let body = format!(
        "grant_type=client_credentials&scope=imi&resource={}&imi_user={user}",
        resource.replace(':', "%3A").replace('/', "%2F")
    );
    let reply = post(&provider.issuer, "/token", Some((client, body))).await;
    reply["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token: {reply}"))
        .to_owned()
}

/// A POST to the provider (form body with basic client authentication, or none).
async fn post(issuer: &str, path: &str, form: Option<(&str, String)>) -> Value {
    let issuer = issuer.to_owned();
    let path = path.to_owned();
    let form = form.map(|(client, body)| (client.to_owned(), body));
    tokio::task::spawn_blocking(move || {
        let mut args = vec!["-s".to_owned(), "-X".to_owned(), "POST".to_owned()];
        if let Some((client, body)) = form {
            args.extend([
                "-u".to_owned(),
                format!("{client}:imi-secret"),
                "-d".to_owned(),
                body,
            ]);
        }
        args.push(format!("{issuer}{path}"));
        let out = Command::new("curl").args(&args).output().unwrap();
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
    })
    .await
    .unwrap()
}

struct World {
    app: axum::Router,
    julie: String,
}

async fn world(config: OidcConfig) -> World {
    let engine = Arc::new(Engine::new(
        Arc::new(MemoryStore::new()),
        Arc::new(chrono::Utc::now),
    ));
    let a = engine
        .register_authority(
            &Actor::System,
            NewAuthority::new(
                Country::France,
                LocalisedText::new(Language::French, "Ordre national des infirmiers").unwrap(),
            ),
        )
        .await
        .unwrap();
    let julie = engine
        .create_user(
            &Actor::System,
            a.id(),
            NewUser {
                name: "Julie".into(),
                email: "j@x.eu".parse().unwrap(),
                language: Language::French,
            },
        )
        .await
        .unwrap();
    let config = imi_http::HttpConfig {
        authenticator: OidcAuthenticator::new(config).unwrap(),
        ..imi_http::HttpConfig::default()
    };
    World {
        app: imi_http::router(engine, config),
        julie: julie.id().to_string(),
    }
}

/// `GET /v1/me` with `token`: the status and the user id it answered with.
async fn me(w: &World, token: &str) -> (StatusCode, Option<String>) {
    let req = Request::get("/v1/me")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let response = w.app.clone().oneshot(req).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, v["id"].as_str().map(str::to_owned))
}

fn config(issuer: &str) -> OidcConfig {
    let mut c = OidcConfig::new(issuer, AUDIENCE);
    c.allow_http = true;
    c.leeway = Duration::ZERO;
    c.keys_ttl = Duration::from_secs(2);
    c.refetch_interval = Duration::ZERO;
    c
}

/// Replaces the payload of a JWT, keeping its header and signature.
fn with_payload(token: &str, edit: impl FnOnce(&mut Value)) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = token.split('.').collect();
    let mut payload: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    edit(&mut payload);
    format!(
        "{}.{}.{}",
        parts[0],
        b64.encode(serde_json::to_vec(&payload).unwrap()),
        parts[2]
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_access_tokens_from_a_real_openid_provider() {
    let Some(dir) = provider_dir(
        Path::new(env!("CARGO_TARGET_TMPDIR")),
        "imi-http oidc tests",
    ) else {
        return;
    };
    let provider = Provider::start(&dir, &[]);
    let w = world(config(&provider.issuer)).await;

    // Valid: the token acts as the user its claim names.
    let valid = token(&provider, "imi-api-client", AUDIENCE, &w.julie).await;
    assert_eq!(
        me(&w, &valid).await,
        (StatusCode::OK, Some(w.julie.clone()))
    );

    // Forged: the payload changed after signing (another user, a later expiry).
    let forged = with_payload(&valid, |p| p["exp"] = Value::from(4_000_000_000u64));
    assert_eq!(me(&w, &forged).await.0, StatusCode::UNAUTHORIZED);
    // Unsigned (`alg: none`), and garbage.
    let unsigned = {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let parts: Vec<&str> = valid.split('.').collect();
        format!(
            "{}.{}.",
            b64.encode(br#"{"alg":"none","typ":"at+jwt"}"#),
            parts[1]
        )
    };
    assert_eq!(me(&w, &unsigned).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&w, "not.a.token").await.0, StatusCode::UNAUTHORIZED);

    // Wrong audience.
    let other = token(
        &provider,
        "imi-api-client",
        "https://other.test/api",
        &w.julie,
    )
    .await;
    assert_eq!(me(&w, &other).await.0, StatusCode::UNAUTHORIZED);

    // Wrong issuer: a second, real provider whose tokens are otherwise fine.
    let stranger = Provider::start(&dir, &[]);
    let foreign = token(&stranger, "imi-api-client", AUDIENCE, &w.julie).await;
    assert_eq!(me(&w, &foreign).await.0, StatusCode::UNAUTHORIZED);
    drop(stranger);

    // A valid token naming no imi user, or an unknown one.
    let nobody = token(&provider, "imi-api-client", AUDIENCE, "lars").await;
    assert_eq!(me(&w, &nobody).await.0, StatusCode::UNAUTHORIZED);
    let unknown = token(
        &provider,
        "imi-api-client",
        AUDIENCE,
        "0192f5a0-0000-7000-8000-000000000000",
    )
    .await;
    assert_eq!(me(&w, &unknown).await.0, StatusCode::UNAUTHORIZED);

    // Expired: the short client's tokens live 2 seconds.
    let short = token(&provider, "imi-short-client", AUDIENCE, &w.julie).await;
    assert_eq!(me(&w, &short).await.0, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(3_100)).await;
    assert_eq!(me(&w, &short).await.0, StatusCode::UNAUTHORIZED);

    // Key rotation: a new key signs new tokens and is fetched at once; the old key stays
    // published, so older tokens still work.
    let before = token(&provider, "imi-api-client", AUDIENCE, &w.julie).await;
    post(&provider.issuer, "/__rotate", None).await;
    let after = token(&provider, "imi-api-client", AUDIENCE, &w.julie).await;
    assert_ne!(kid(&before), kid(&after));
    assert_eq!(me(&w, &after).await.0, StatusCode::OK);
    assert_eq!(me(&w, &before).await.0, StatusCode::OK);
    // Dropped keys: once the cached set expires, tokens signed with them are refused.
    post(&provider.issuer, "/__rotate?drop_old=1", None).await;
    let newest = token(&provider, "imi-api-client", AUDIENCE, &w.julie).await;
    assert_eq!(me(&w, &newest).await.0, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    assert_eq!(me(&w, &after).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&w, &newest).await.0, StatusCode::OK);
    // The provider goes away: its keys serve until twice their time to live, then no
    // token is taken (a provider that cannot be reached cannot keep dropped keys alive).
    drop(provider);
    tokio::time::sleep(Duration::from_millis(4_200)).await;
    assert_eq!(me(&w, &newest).await.0, StatusCode::SERVICE_UNAVAILABLE);
}

fn kid(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}
