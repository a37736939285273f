//! Alerts over HTTP: a Danish alert to France and Germany (not Italy), with France's
//! standing handler reached at broadcast, German distribution, acknowledgement with
//! `If-Match`, added information and closure; the restricted summary for incoming
//! coordinators; nothing for a country outside the broadcast.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should panic

mod common;

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use imi_core::conformance::alert_world_with;
use imi_core::{Country, store::MemoryStore};
use serde_json::{Value, json};

use common::{Api, token};

fn answers(v: &Value) -> Vec<String> {
    v["answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["question"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn an_alert_from_denmark_reaches_france_and_germany_but_not_italy() {
    let w = alert_world_with(
        Arc::new(MemoryStore::new()),
        &[Country::France, Country::Germany, Country::Italy],
        1,
    )
    .await;
    let engine = Arc::new(w.engine);
    let e = &*engine;
    let sender = token(e, &w.sender).await;
    let fr_coord = token(e, &w.countries[0].coordinator).await;
    let fr_handler = token(e, &w.countries[0].handlers[0].0).await;
    let fr_authority = w.countries[0].handlers[0].1.to_string();
    let de_coord = token(e, &w.countries[1].coordinator).await;
    let de_handler = token(e, &w.countries[1].handlers[0].0).await;
    let de_authority = w.countries[1].handlers[0].1.to_string();
    let it_coord = token(e, &w.countries[2].coordinator).await;
    let api = Api {
        app: imi_http::router(Arc::clone(&engine), imi_http::HttpConfig::default()),
        engine: Arc::clone(&engine),
        clock: None,
        dk: sender.clone(),
        fr: fr_handler.clone(),
        fr_authority: fr_authority.clone(),
    };
    let call = |m: Method, path: String, tok: String, body: Option<Value>, im: Option<String>| {
        let api = &api;
        async move { api.call(m, &path, &tok, "en", body, im.as_deref()).await }
    };

    // France's coordinator names its standing handler; it cannot do so for Germany.
    let (s, _, v) = call(
        Method::PUT,
        "/v1/alert-networks/FR/pq-alert".into(),
        fr_coord.clone(),
        Some(json!({"validates_outgoing": false, "handlers": [fr_authority]})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, _, _) = call(
        Method::PUT,
        "/v1/alert-networks/DE/pq-alert".into(),
        fr_coord.clone(),
        Some(json!({"validates_outgoing": false, "handlers": []})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, v) = call(
        Method::GET,
        "/v1/alert-networks/FR/pq-alert".into(),
        de_coord.clone(),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["handlers"], json!([fr_authority]));

    // The Danish sender drafts and sends it.
    let (s, _, v) = call(
        Method::POST,
        "/v1/alerts".into(),
        sender.clone(),
        Some(json!({"procedure": "pq-alert"})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["stage"], "draft");
    let id = v["id"].as_str().unwrap().to_owned();
    let commands = format!("/v1/alerts/{id}/commands");
    // A first draft names the wrong person; it is corrected before sending.
    let (s, _, v) = call(
        Method::POST,
        commands.clone(),
        sender.clone(),
        Some(json!({"command": "save-draft", "answers": {
            "professional": {"type": "text", "value": "Dr Wrong Person"}
        }})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, _, v) = call(
        Method::POST,
        commands.clone(),
        sender.clone(),
        Some(json!({"command": "save-draft", "answers": {
            "professional": {"type": "text", "value": "Dr Jens Hansen"},
            "scope": {"type": "choice", "value": "prohibition"}
        }})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, _, v) = call(
        Method::POST,
        commands.clone(),
        sender.clone(),
        Some(json!({"command": "submit", "recipients": ["FR", "DE"]})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["stage"], "broadcast");
    assert_eq!(v["recipients"], json!(["DE", "FR"]));
    assert_eq!(v["distributed"]["FR"], json!([fr_authority]));

    // France's standing handler has it in full; Germany's coordinator sees the summary;
    // Italy's nothing, and no command of a stranger gets through.
    let (s, _, v) = call(
        Method::GET,
        format!("/v1/alerts/{id}"),
        fr_handler.clone(),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["visibility"], "full");
    assert_eq!(answers(&v), ["professional", "scope"]);
    let (s, _, v) = call(
        Method::GET,
        format!("/v1/alerts/{id}"),
        de_coord.clone(),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["visibility"], "summary");
    assert_eq!(answers(&v), ["scope"]);
    assert!(!v.to_string().contains("Hansen"));
    for path in [
        format!("/v1/alerts/{id}"),
        format!("/v1/alerts/{id}/timeline"),
    ] {
        let (s, _, v) = call(Method::GET, path, it_coord.clone(), None, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert!(!v.to_string().contains("Hansen"));
    }
    let (s, _, _) = call(
        Method::POST,
        commands.clone(),
        it_coord.clone(),
        Some(json!({"command": "acknowledge"})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, v) = call(
        Method::GET,
        "/v1/alerts?box=incoming".into(),
        it_coord.clone(),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["items"], json!([]));

    // Germany distributes; its handler acknowledges (a stale If-Match is refused).
    let (s, _, v) = call(
        Method::GET,
        "/v1/alerts?box=incoming".into(),
        de_coord.clone(),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["items"][0]["id"], id.as_str());
    assert_eq!(v["items"][0]["visibility"], "summary");
    let (s, _, v) = call(
        Method::POST,
        commands.clone(),
        de_coord.clone(),
        Some(json!({"command": "distribute", "to": [de_authority]})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, etag, v) = call(
        Method::GET,
        "/v1/alerts?box=handling".into(),
        de_handler.clone(),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(etag, None);
    assert_eq!(v["items"][0]["visibility"], "full");
    let (_, etag, _) = call(
        Method::GET,
        format!("/v1/alerts/{id}"),
        de_handler.clone(),
        None,
        None,
    )
    .await;
    let etag = etag.unwrap();
    let (s, _, _) = call(
        Method::POST,
        commands.clone(),
        de_handler.clone(),
        Some(json!({"command": "acknowledge"})),
        Some("\"v1\"".into()),
    )
    .await;
    assert_eq!(s, StatusCode::PRECONDITION_FAILED);
    let (s, _, v) = call(
        Method::POST,
        commands.clone(),
        de_handler.clone(),
        Some(json!({"command": "acknowledge"})),
        Some(etag),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["acknowledged"], json!([de_authority]));
    let (s, _, _) = call(
        Method::POST,
        commands.clone(),
        de_handler.clone(),
        Some(json!({"command": "add-information", "text": "Also registered in Hamburg"})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);

    // The coordinator's timeline hides free texts; the handler's shows them.
    let (_, _, v) = call(
        Method::GET,
        format!("/v1/alerts/{id}/timeline"),
        de_coord.clone(),
        None,
        None,
    )
    .await;
    assert!(!v.to_string().contains("Hamburg") && !v.to_string().contains("Hansen"));
    let (_, _, v) = call(
        Method::GET,
        format!("/v1/alerts/{id}/timeline"),
        fr_handler.clone(),
        None,
        None,
    )
    .await;
    assert!(v.to_string().contains("Hamburg"));
    // Recipients see what was sent, not how the sender drafted it.
    assert!(!v.to_string().contains("Wrong Person"), "{v}");

    // A handler cannot close; the sender can. Bad input gives a typed problem.
    let (s, _, _) = call(
        Method::POST,
        commands.clone(),
        de_handler.clone(),
        Some(json!({"command": "close", "reason": "done"})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, v) = call(
        Method::POST,
        commands.clone(),
        sender.clone(),
        Some(json!({"command": "close", "reason": "licence restored"})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["stage"], "closed");
    let (s, _, v) = call(
        Method::POST,
        commands.clone(),
        sender.clone(),
        Some(json!({"command": "close", "reason": "again"})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(
        v["type"].as_str().map(|t| t.ends_with("invalid-state")),
        Some(true),
        "{v}"
    );
    let (s, _, _) = call(
        Method::POST,
        commands,
        sender.clone(),
        Some(json!({"command": "teleport"})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _, _) = call(
        Method::GET,
        "/v1/alerts?box=everything".into(),
        sender,
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}
