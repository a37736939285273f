//! Notifications over HTTP: a Danish notification of a new diploma title to France,
//! Germany and the Commission, with comments and closure; Italy sees nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should panic

mod common;

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use imi_core::conformance::notification_world;
use imi_core::store::MemoryStore;
use serde_json::json;

use common::{Api, token};

#[tokio::test]
async fn a_notification_with_comments_over_http() {
    let w = notification_world(Arc::new(MemoryStore::new())).await;
    let engine = Arc::new(w.engine);
    let dk = token(&engine, &w.sender).await;
    let fr = token(&engine, &w.recipients[0].1).await;
    let ec = token(&engine, &w.recipients[2].1).await;
    let it = token(&engine, &w.outsider).await;
    let api = Api::over(Arc::clone(&engine));

    let (s, _, v) = api
        .post("/v1/notifications", &dk, json!({"procedure": "diplomas"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    let commands = format!("/v1/notifications/{id}/commands");
    let (s, _, v) = api
        .post(
            commands.clone(),
            &dk,
            json!({"command": "save-draft", "answers": {
                "title": {"type": "text", "value": "Sygeplejerske (professionsbachelor)"}
            }}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, _, _) = api.get(format!("/v1/notifications/{id}"), &fr).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "recipients do not see drafts");
    let (_, etag, _) = api.get(format!("/v1/notifications/{id}"), &dk).await;
    let (s, _, v) = api
        .en(
            Method::POST,
            commands.clone(),
            &dk,
            Some(json!({"command": "send", "countries": ["FR", "DE"]})),
            etag.as_deref(),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["stage"], "sent");
    assert_eq!(v["recipients"], json!(["DE", "FR", "EC"]));
    let (s, _, _) = api
        .en(
            Method::POST,
            commands.clone(),
            &dk,
            Some(json!({"command": "save-draft", "answers": {}})),
            etag.as_deref(),
        )
        .await;
    assert_eq!(s, StatusCode::PRECONDITION_FAILED);

    // Recipients read, list and comment; Italy gets 404 everywhere.
    let (s, _, v) = api.get("/v1/notifications?box=received", &ec).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["items"][0]["id"], id.as_str());
    assert_eq!(
        v["items"][0]["answers"][0]["label"]["text"], "Diploma title",
        "{v}"
    );
    let (s, _, v) = api
        .post(
            commands.clone(),
            &fr,
            json!({"command": "comment", "text": "Added to our list"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["comments"], 1);
    for path in [
        format!("/v1/notifications/{id}"),
        format!("/v1/notifications/{id}/timeline"),
    ] {
        let (s, _, _) = api.get(path, &it).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
    let (_, _, v) = api.get("/v1/notifications?box=received", &it).await;
    assert_eq!(v["items"], json!([]));

    // Only the sender closes; afterwards comments are refused.
    let (s, _, _) = api
        .post(
            commands.clone(),
            &fr,
            json!({"command": "close", "reason": "x"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, v) = api
        .post(
            commands.clone(),
            &dk,
            json!({"command": "close", "reason": "Listed in Annex V"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["stage"], "closed");
    let (s, _, _) = api
        .post(commands, &ec, json!({"command": "comment", "text": "late"}))
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, _, v) = api
        .get(format!("/v1/notifications/{id}/timeline"), &fr)
        .await;
    assert_eq!(s, StatusCode::OK);
    let events: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"]["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["draft-saved", "sent", "commented", "closed"]);
    let (s, _, _) = api.get("/v1/notifications?box=all", &dk).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // Closed, it is in the archive of exchanges that every signed-in user searches.
    let (s, _, v) = api
        .get("/v1/exchanges?text=sygeplejerske&country=DE", &it)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    assert_eq!(v["items"][0]["kind"], "notification");
    assert_eq!(v["items"][0]["from"], "DK");
    assert_eq!(v["items"][0]["answers"][0]["question"], "title");
    let (s, _, v) = api.get("/v1/exchanges?country=IT", &it).await;
    assert_eq!(s, StatusCode::OK);
    assert!(v["items"].as_array().unwrap().is_empty());
    let (s, _, _) = api.get("/v1/exchanges?country=XX", &it).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}
