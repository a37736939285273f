//! Surveys over HTTP: the Commission asks the authorities of Denmark and France; one
//! answers, edits its answer with If-Match; Germany sees nothing; the results come as
//! JSON and CSV without personal data; the OpenAPI document describes the routes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should panic

mod common;

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use imi_core::conformance::survey_world;
use imi_core::store::MemoryStore;
use serde_json::json;

use common::{Api, token};

#[tokio::test]
async fn a_survey_over_http() {
    let w = survey_world(Arc::new(MemoryStore::new())).await;
    let engine = Arc::new(w.engine);
    let ec = token(&engine, &w.commission).await;
    let dk = token(&engine, &w.authorities[0].0).await;
    let de = token(&engine, &w.authorities[3].0).await;
    let api = Api::over(Arc::clone(&engine));
    let (s, _, v) = api
        .post("/v1/surveys", &dk, json!({"procedure": "practice-survey"}))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, _, v) = api
        .post("/v1/surveys", &ec, json!({"procedure": "practice-survey"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    let (s, _, v) = api
        .post(
            format!("/v1/surveys/{id}/commands"),
            &ec,
            json!({"command": "send", "deadline": "2026-12-20",
            "targeting": {"countries": ["DK", "FR"], "procedures": ["pq-check"]}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["stage"], "open");
    assert_eq!(v["recipients"].as_array().unwrap().len(), 3);
    // A recipient sees the survey, not who else received it.
    let (s, _, v) = api.get(format!("/v1/surveys/{id}"), &dk).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["recipients"].as_array().unwrap().is_empty());
    let (s, _, v) = api.get("/v1/surveys?box=received", &dk).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    for path in [
        format!("/v1/surveys/{id}"),
        format!("/v1/surveys/{id}/response"),
    ] {
        let (s, _, _) = api.get(path, &de).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
    // No answer yet; a missing required answer is 422; then an answer and an edit.
    let (s, _, _) = api.get(format!("/v1/surveys/{id}/response"), &dk).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let response = format!("/v1/surveys/{id}/response");
    let (s, _, v) = api.put(response.clone(), &dk, json!({"answers": {}})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, etag, v) = api
        .put(
            response.clone(),
            &dk,
            json!({"answers": {
                "works": {"type": "yes-no", "value": false},
                "contact": {"type": "text", "value": "Karen Holm"}
            }}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["revision"], 1);
    assert_eq!(v["answers"][0]["label"]["text"], "Contact person");
    let edit = json!({"answers": {"works": {"type": "yes-no", "value": true}}});
    let (s, _, v) = api
        .en(
            Method::PUT,
            response.clone(),
            &dk,
            Some(edit.clone()),
            etag.as_deref(),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["revision"], 2);
    let (s, _, _) = api
        .en(
            Method::PUT,
            response.clone(),
            &dk,
            Some(edit),
            etag.as_deref(),
        )
        .await;
    assert_eq!(s, StatusCode::PRECONDITION_FAILED);

    // Results for the author only, as JSON and CSV.
    let (s, _, v) = api.get(format!("/v1/surveys/{id}/results"), &dk).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    let (s, _, v) = api.get(format!("/v1/surveys/{id}/results"), &ec).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["rows"][0]["question"], "works");
    assert_eq!(v["rows"][0]["value"], "yes");
    let csv = api
        .raw(Method::GET, &format!("/v1/surveys/{id}/results.csv"), &ec)
        .await;
    assert_eq!(csv.0, StatusCode::OK);
    assert!(csv.1.starts_with("text/csv"), "{}", csv.1);
    assert_eq!(csv.2, "country,question,value,count\nDK,works,yes,1\n");

    let doc = serde_json::to_value(imi_http::openapi()).unwrap();
    for p in [
        "/v1/surveys",
        "/v1/surveys/{id}",
        "/v1/surveys/{id}/commands",
        "/v1/surveys/{id}/timeline",
        "/v1/surveys/{id}/response",
        "/v1/surveys/{id}/results",
        "/v1/surveys/{id}/results.csv",
    ] {
        assert!(doc["paths"][p].is_object(), "{p} missing");
    }
}
