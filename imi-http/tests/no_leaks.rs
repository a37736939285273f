//! No leaks: statistics, syndication, directory search and logs (at the most verbose
//! level, with failures) carry no personal data. In a file of its own so that it owns the
//! process's log subscriber.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should panic

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use common::setup;
use serde_json::json;

/// A writer that keeps everything logged, for the leak check.
#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Statistics, syndication, directory search and logs (at the most verbose level, with
/// failures) carry no personal data of a case or of a user.
#[tokio::test(flavor = "current_thread")]
async fn no_personal_data_in_statistics_syndication_search_or_logs() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();
    let api = setup().await;
    let secret = "Zorglub Personne";
    let (_, _, draft) = api
        .post("/v1/requests", &api.dk, json!({ "procedure": "diploma" }))
        .await;
    let id = draft["id"].as_str().unwrap().to_owned();
    let commands = format!("/v1/requests/{id}/commands");
    let steps = [
        (
            &api.dk,
            json!({ "command": "save-draft", "answers": {
            "holder": { "type": "text", "value": secret },
            "profession": { "type": "choice", "value": "nurse" } } }),
        ),
        (
            &api.dk,
            json!({ "command": "send", "recipient": api.fr_authority, "needed_by": "2026-12-15" }),
        ),
        (&api.fr, json!({ "command": "accept", "days": 3 })),
        // A refused command whose body holds personal data: the problem must not echo it.
        (
            &api.fr,
            json!({ "command": "answer", "answers": { "holder": { "type": "text", "value": secret } } }),
        ),
        (
            &api.fr,
            json!({ "command": "answer", "answers": { "authentic": { "type": "yes-no", "value": true } } }),
        ),
        (&api.dk, json!({ "command": "accept-answer" })),
    ];
    let mut bodies = String::new();
    for (token, body) in steps {
        let (_, _, answer) = api.post(&commands, token, body).await;
        bodies.push_str(&answer.to_string());
    }
    assert!(
        bodies.contains(secret),
        "the parties do see it: the check below can fail"
    );
    let (status, _, problem) = api
        .post(
            &commands,
            &api.fr,
            json!({ "command": "rectify", "reason": "x",
            "answers": { "holder": { "type": "text", "value": secret } } }),
        )
        .await;
    assert!(
        status.is_client_error() && !problem.to_string().contains(secret),
        "{problem}"
    );
    api.post(
        "/v1/data-subjects/search",
        &api.dk,
        json!({ "identifiers": [secret] }),
    )
    .await;

    let mut public = String::new();
    for path in [
        "/v1/indicators?from=2026-01-01&to=2027-01-01".to_owned(),
        "/v1/directory?q=infirmiers".to_owned(),
        "/v1/public/authorities".to_owned(),
        "/v1/public/changes?since=2020-01-01T00:00:00Z".to_owned(),
    ] {
        let (status, _, body) = api.get(&path, &api.dk).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        public.push_str(&body.to_string());
    }
    assert!(public.contains("Ordre national des infirmiers"), "{public}");
    for personal in [secret, "Julie", "Lars", "u@x.eu"] {
        assert!(!public.contains(personal), "{personal} in {public}");
    }
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains("/v1/data-subjects/search"),
        "the requests were logged"
    );
    assert!(
        !logged.contains("Zorglub") && !logged.contains("u@x.eu"),
        "{logged}"
    );
}
