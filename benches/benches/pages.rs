//! The web application's pages against the JSON API for the same data, in the same run on
//! the same store: the inbox (20 requests) and one request, rendered per second. Reads of
//! requests are audited (one durable commit each), on both sides.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr
)] // bench harness (the page sizes go to the terminal)

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, header};
use criterion::{Criterion, criterion_group, criterion_main};
use http_body_util::BodyExt;
use imi_core::access::Actor;
use imi_core::catalogue::Right;
use imi_core::conformance::{Member, REQUEST_AREA, REQUEST_QS, WorldBuilder, nurse_draft};
use imi_core::request::RequestCommand as C;
use imi_core::{CaseId, Country};
use tower::ServiceExt;

struct Site {
    api: axum::Router,
    web: axum::Router,
    token: String,
    cookie: String,
    case: CaseId,
}

async fn site(store: Arc<dyn imi_core::store::Store>) -> Site {
    let w = WorldBuilder::new(store).catalogue(&[
        ("areas/h.toml", REQUEST_AREA),
        ("question-sets/q.toml", REQUEST_QS),
    ]);
    let mut actors = Vec::new();
    let mut ids = Vec::new();
    for (country, name) in [(Country::Denmark, "Styrelsen"), (Country::France, "Ordre")] {
        let member = Member::new(
            country.into(),
            name,
            "health",
            "nurse-check",
            Right::RequestHandler,
        );
        let (a, id) = w.member(member).await;
        actors.push(a);
        ids.push(id);
    }
    let mut case = None;
    for _ in 0..20 {
        let id = nurse_draft(&w.engine, &actors[0], "nurse-check", "Marie", "nurse").await;
        let send = C::Send {
            recipient: ids[1],
            needed_by: "2027-01-31".parse().unwrap(),
        };
        w.engine
            .act_on_request(&actors[0], id, send, None)
            .await
            .unwrap();
        case = Some(id);
    }
    let Actor::User(p) = &actors[0] else {
        panic!("a user")
    };
    let token = w
        .engine
        .issue_token(&Actor::System, p.user())
        .await
        .unwrap()
        .expose()
        .to_owned();
    let session = w.engine.open_session(&actors[0], 60).await.unwrap();
    let engine = Arc::new(w.engine);
    let config = imi_web::WebConfig {
        secure_cookies: false,
        ..imi_web::WebConfig::default()
    };
    Site {
        api: imi_http::router(Arc::clone(&engine), imi_http::HttpConfig::default()),
        web: imi_web::router(engine, config),
        token,
        cookie: format!("imi_session={}", session.expose()),
        case: case.unwrap(),
    }
}

/// One GET through a router; the body's length.
async fn get(app: &axum::Router, path: &str, header: (header::HeaderName, &str)) -> usize {
    let req = Request::get(path)
        .header(header.0, header.1)
        .header(header::ACCEPT_LANGUAGE, "da")
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(req).await.unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .len()
}

fn pages(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let backends = rt.block_on(imi_benches::backends()).unwrap();
    for backend in backends.iter().filter(|b| b.name != "sled") {
        let s = rt.block_on(site(Arc::clone(&backend.store)));
        let bearer = format!("Bearer {}", s.token);
        let request = format!("/requests/{}", s.case);
        let api_request = format!("/v1/requests/{}", s.case);
        let mut group = c.benchmark_group(format!("pages/{}", backend.name));
        group
            .measurement_time(Duration::from_secs(5))
            .sample_size(20);
        for (name, app, path, auth) in [
            (
                "inbox_html",
                &s.web,
                "/requests",
                (header::COOKIE, s.cookie.as_str()),
            ),
            (
                "inbox_json",
                &s.api,
                "/v1/inbox",
                (header::AUTHORIZATION, bearer.as_str()),
            ),
            (
                "request_html",
                &s.web,
                request.as_str(),
                (header::COOKIE, s.cookie.as_str()),
            ),
            (
                "request_json",
                &s.api,
                api_request.as_str(),
                (header::AUTHORIZATION, bearer.as_str()),
            ),
        ] {
            let bytes = rt.block_on(get(app, path, auth.clone()));
            eprintln!("pages/{}/{name}: {bytes} bytes", backend.name);
            group.bench_function(name, |b| {
                b.iter(|| rt.block_on(get(app, path, auth.clone())));
            });
        }
        group.finish();
    }
}

criterion_group!(benches, pages);
criterion_main!(benches);
