//! The public interface over HTTP: a submitter without an account submits, follows the
//! case in Danish with the secret, replies, reads the answer and asks for their data,
//! while the authority handles it under `/v1/submissions`; wrong and malformed secrets
//! get one common 404; each client address is rate-limited.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should panic

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use imi_core::conformance::submission_world;
use imi_core::store::MemoryStore;
use serde_json::{Value, json};
use tower::ServiceExt;

use common::{Api, token};

/// A call without an account: optional secret, optional `If-Match`, from `client`.
async fn public(
    app: &axum::Router,
    method: Method,
    path: &str,
    secret: Option<&str>,
    body: Option<Value>,
    client: &str,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(s) = secret {
        req = req.header("x-submission-secret", s);
    }
    let mut req = match body {
        Some(b) => req
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    }
    .unwrap();
    let addr: SocketAddr = client.parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(addr));
    let response = app.clone().oneshot(req).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        headers,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn a_public_submission_followed_to_its_answer_over_http() {
    let w = submission_world(Arc::new(MemoryStore::new())).await;
    let engine = Arc::new(w.engine);
    let handler = token(&engine, &w.handler).await;
    let other = token(&engine, &w.other_handler).await;
    let api = Api::over(Arc::clone(&engine));
    let app = &api.app;
    let me = "203.0.113.5:40000";

    // Refusals: a procedure not open to the public, bad input.
    let (s, _, p) = public(
        app,
        Method::POST,
        "/v1/public/submissions",
        None,
        Some(json!({"procedure": "internal", "authority": w.authority.to_string(), "language": "da", "answers": {"applicant": {"type": "text", "value": "Ana Pereira Sousa"}, "profession": {"type": "text", "value": "Nurse"}}})),
        me,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{p}");
    let (s, _, p) = public(
        app,
        Method::POST,
        "/v1/public/submissions",
        None,
        Some(json!({"procedure": "recognition", "authority": w.authority.to_string(), "language": "da", "answers": {"profession": {"type": "text", "value": "Nurse"}}})),
        me,
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert!(p["errors"].to_string().contains("applicant"));

    let (s, h, receipt) = public(
        app,
        Method::POST,
        "/v1/public/submissions",
        None,
        Some(json!({"procedure": "recognition", "authority": w.authority.to_string(), "language": "da", "answers": {"applicant": {"type": "text", "value": "Ana Pereira Sousa"}, "profession": {"type": "text", "value": "Nurse"}}})),
        me,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{receipt}");
    assert_eq!(h[header::CACHE_CONTROL], "no-store");
    let secret = receipt["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("imis_"));
    assert_eq!(receipt["status"]["stage_label"], "Modtaget af myndigheden");

    // Only the secret opens it; every wrong one gets the same answer.
    let (s, _, _) = public(app, Method::GET, "/v1/public/submission", None, None, me).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let mut refusals = Vec::new();
    for wrong in [
        format!("imis_{}", "0".repeat(64)),
        "imis_short".to_owned(),
        "not-a-secret".to_owned(),
        secret.replace("imis_", "imi_"),
    ] {
        let (s, _, p) = public(
            app,
            Method::GET,
            "/v1/public/submission",
            Some(&wrong),
            None,
            me,
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        refusals.push(p);
    }
    assert!(refusals.windows(2).all(|w| w[0] == w[1]), "{refusals:?}");
    // A user token is no way in either.
    let (s, _, _) = public(
        app,
        Method::GET,
        "/v1/public/submission",
        Some(&handler),
        None,
        me,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // The authority's side.
    let (s, _, inbox) = api.get("/v1/submissions", &handler).await;
    assert_eq!(s, StatusCode::OK, "{inbox}");
    assert_eq!(inbox["items"].as_array().unwrap().len(), 1);
    let id = inbox["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(inbox["items"][0]["submitter_language"], "da");
    let (s, _, _) = api.get(&format!("/v1/submissions/{id}"), &other).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    for command in [
        json!({"command": "take"}),
        json!({"command": "ask-submitter", "text": "In which year did you qualify?"}),
    ] {
        let (s, _, v) = api
            .post(&format!("/v1/submissions/{id}/commands"), &handler, command)
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }

    // The submitter follows in Danish, or German on request, and replies with If-Match.
    let (s, h, status) = public(
        app,
        Method::GET,
        "/v1/public/submission",
        Some(&secret),
        None,
        me,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(status["stage_label"], "Afventer dit svar");
    assert_eq!(status["your_turn"], true);
    assert_eq!(status["messages"][0]["from"], "authority");
    assert_eq!(h[header::CONTENT_LANGUAGE], "da");
    let etag = h[header::ETAG].to_str().unwrap().to_owned();
    // This server has no machine translator: asking for one is a clear 503.
    let (s, _, p) = public(
        app,
        Method::GET,
        "/v1/public/submission/translations",
        Some(&secret),
        None,
        me,
    )
    .await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{p}");
    let (_, _, german) = public(
        app,
        Method::GET,
        "/v1/public/submission?language=de",
        Some(&secret),
        None,
        me,
    )
    .await;
    assert_eq!(german["stage_label"], "Wartet auf Ihre Antwort");
    // The submitter cannot answer for the authority.
    let (s, _, _) = public(
        app,
        Method::POST,
        "/v1/public/submission/commands",
        Some(&secret),
        Some(
            json!({"command": "answer", "answers": {"decision": {"type": "text", "value": "yes"}}}),
        ),
        me,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let reply = Request::builder()
        .method(Method::POST)
        .uri("/v1/public/submission/commands")
        .header("x-submission-secret", &secret)
        .header(header::IF_MATCH, &etag)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"command": "reply", "text": "2019"}).to_string(),
        ))
        .unwrap();
    let r = app.clone().oneshot(reply).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    let (s, _, v) = api
        .post(&format!("/v1/submissions/{id}/commands"), &handler, json!({"command": "answer", "answers": {"decision": {"type": "text", "value": "Recognised"}}}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["stage"], "answered");

    let (_, _, status) = public(
        app,
        Method::GET,
        "/v1/public/submission",
        Some(&secret),
        None,
        me,
    )
    .await;
    assert_eq!(status["stage_label"], "Besvaret");
    assert_eq!(status["reply"][0]["label"], "Afgørelse");
    assert_eq!(
        status["reply"][0]["value"],
        json!({"type": "text", "value": "Recognised"})
    );

    // Their data, to keep; the authority's timeline shows the request.
    let (s, h, export) = public(
        app,
        Method::POST,
        "/v1/public/submission/data-requests",
        Some(&secret),
        None,
        me,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        h[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    assert_eq!(export["timeline"].as_array().unwrap().len(), 6);
    assert_eq!(export["timeline"][1]["by"], "authority");
    assert_eq!(export["timeline"][1]["event"], json!({"event": "taken"}));
    let (_, _, timeline) = api
        .get(&format!("/v1/submissions/{id}/timeline"), &handler)
        .await;
    assert_eq!(timeline[5]["event"]["event"], "data-access-given");
    assert_eq!(timeline[5]["actor"]["kind"], "submitter");
}

#[tokio::test]
async fn the_public_interface_is_rate_limited_per_client() {
    let w = submission_world(Arc::new(MemoryStore::new())).await;
    let engine = Arc::new(w.engine);
    let config = imi_http::HttpConfig {
        public_rate_limit: imi_http::RateLimit {
            burst: 3,
            per_minute: 1,
            trust_forwarded_for: false,
        },
        ..imi_http::HttpConfig::default()
    };
    let app = imi_http::router(Arc::clone(&engine), config);
    let guess = format!("imis_{}", "1".repeat(64));
    for _ in 0..3 {
        let (s, _, _) = public(
            &app,
            Method::GET,
            "/v1/public/submission",
            Some(&guess),
            None,
            "198.51.100.1:1000",
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
    let (s, h, p) = public(
        &app,
        Method::GET,
        "/v1/public/submission",
        Some(&guess),
        None,
        "198.51.100.1:1001",
    )
    .await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(p["code"], "rate-limited");
    let wait: u64 = h[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((1..=61).contains(&wait));
    // Submissions count too; another address has its own bucket; signed-in routes are
    // not limited here.
    let (s, _, _) = public(
        &app,
        Method::POST,
        "/v1/public/submissions",
        None,
        Some(json!({})),
        "198.51.100.1:1002",
    )
    .await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    let (s, _, _) = public(
        &app,
        Method::GET,
        "/v1/public/submission",
        Some(&guess),
        None,
        "198.51.100.2:1000",
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    for _ in 0..5 {
        let (s, _, _) = public(
            &app,
            Method::GET,
            "/v1/languages",
            None,
            None,
            "198.51.100.1:1000",
        )
        .await;
        assert_eq!(s, StatusCode::OK);
    }
}

#[tokio::test]
async fn other_sites_may_use_the_public_interface_and_nothing_else() {
    let w = submission_world(Arc::new(MemoryStore::new())).await;
    let app = imi_http::router(Arc::new(w.engine), imi_http::HttpConfig::default());
    let preflight = Request::builder()
        .method(Method::OPTIONS)
        .uri("/v1/public/submission")
        .header(header::ORIGIN, "https://portal.example.eu")
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
        .header(
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            "x-submission-secret",
        )
        .body(Body::empty())
        .unwrap();
    let r = app.clone().oneshot(preflight).await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(r.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    assert!(
        r.headers()[header::ACCESS_CONTROL_ALLOW_HEADERS]
            .to_str()
            .unwrap()
            .contains("x-submission-secret")
    );
    let (status, headers, _) = public(
        &app,
        Method::GET,
        "/v1/public/authorities",
        None,
        None,
        "192.0.2.9:4000",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    // The signed-in API is not open to other sites' pages.
    let (_, headers, _) = public(
        &app,
        Method::GET,
        "/v1/directory",
        None,
        None,
        "192.0.2.9:4000",
    )
    .await;
    assert!(headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
}
