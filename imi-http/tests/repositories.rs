//! A repository over HTTP: a French editor adds a licence holder for a German group, a
//! German viewer finds it by words, an Italian viewer does not; an update makes a second
//! revision; retire; delete.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should panic

mod common;

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use imi_core::conformance::repository_world;
use imi_core::store::MemoryStore;
use serde_json::{Value, json};

use common::{Api, token};

#[tokio::test]
async fn a_repository_record_over_http() {
    let w = repository_world(Arc::new(MemoryStore::new())).await;
    let engine = Arc::new(w.engine);
    let fr = token(&engine, &w.editor).await;
    let de = token(&engine, &w.viewer).await;
    let it = token(&engine, &w.outsider).await;
    let dk = token(&engine, &w.without_right).await;
    let api = Api::over(Arc::clone(&engine));
    let call = |m: Method, path: &str, tok: &str, body: Option<Value>, im: Option<&str>| {
        let api = &api;
        let (path, tok, im) = (path.to_owned(), tok.to_owned(), im.map(str::to_owned));
        async move { api.call(m, &path, &tok, "en", body, im.as_deref()).await }
    };
    let records = "/v1/repositories/cash-licences/records";
    let fields = |licence: &str| {
        json!({
            "holder": {"type": "text", "value": "Loomis Sécurité"},
            "licence": {"type": "text", "value": licence},
            "valid-until": {"type": "date", "value": "2028-06-30"}
        })
    };

    let (s, _, _) = call(
        Method::POST,
        records,
        &de,
        Some(json!({"fields": fields("FR-1")})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "viewers do not add records");
    let (s, _, v) = call(
        Method::POST,
        records,
        &fr,
        Some(json!({"fields": {"licence": {"type": "text", "value": "x"}}})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, etag, v) = call(
        Method::POST,
        records,
        &fr,
        Some(json!({
            "fields": fields("FR-2023-009"),
            "audience": {"audience": "group", "authorities": [w.viewer_authority.to_string()]}
        })),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["revision"], 1);
    let id = v["id"].as_str().unwrap().to_owned();

    let (s, _, v) = call(
        Method::GET,
        &format!("{records}?q=loomis%20securite"),
        &de,
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["items"][0]["id"], id.as_str());
    assert_eq!(v["items"][0]["fields"][0]["label"]["text"], "Holder", "{v}");
    let (_, _, v) = call(Method::GET, &format!("{records}?q=loomis"), &it, None, None).await;
    assert_eq!(v["items"], json!([]));
    let (s, _, _) = call(Method::GET, &format!("/v1/records/{id}"), &it, None, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, _) = call(Method::GET, records, &dk, None, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    let commands = format!("/v1/records/{id}/commands");
    let (s, _, _) = call(
        Method::POST,
        &commands,
        &fr,
        Some(json!({"command": "update", "fields": fields("FR-2025-001")})),
        Some("\"v1\""),
    )
    .await;
    assert_eq!(s, StatusCode::PRECONDITION_FAILED);
    let (s, _, v) = call(
        Method::POST,
        &commands,
        &fr,
        Some(json!({"command": "update", "fields": fields("FR-2025-001")})),
        etag.as_deref(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["revision"], 2);
    let (_, _, v) = call(
        Method::GET,
        &format!("/v1/records/{id}/history"),
        &de,
        None,
        None,
    )
    .await;
    assert_eq!(v.as_array().unwrap().len(), 2);
    let (s, _, v) = call(
        Method::POST,
        &commands,
        &fr,
        Some(json!({"command": "retire"})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["status"], "retired");
    let (s, _, _) = call(
        Method::POST,
        &commands,
        &fr,
        Some(json!({"command": "retire"})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (_, _, v) = call(
        Method::GET,
        &format!("{records}?include_retired=true"),
        &de,
        None,
        None,
    )
    .await;
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    let (s, _, _) = call(
        Method::DELETE,
        &format!("/v1/records/{id}"),
        &de,
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = call(
        Method::DELETE,
        &format!("/v1/records/{id}"),
        &fr,
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _, _) = call(Method::GET, &format!("/v1/records/{id}"), &fr, None, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
