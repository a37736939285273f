//! SOLVIT over HTTP: a Danish home centre submits a case to the French lead centre,
//! which accepts it and proposes a solution; the case closes resolved; the German centre
//! sees nothing; the figures count it. The OpenAPI document describes the routes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should panic

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use imi_core::conformance::solvit_world;
use imi_core::store::MemoryStore;
use serde_json::json;

use common::{Api, token};

#[tokio::test]
async fn a_solvit_case_over_http() {
    let w = solvit_world(Arc::new(MemoryStore::new())).await;
    let lead_centre = w.lead_centre.to_string();
    let engine = Arc::new(w.engine);
    let dk = token(&engine, &w.home).await;
    let fr = token(&engine, &w.lead).await;
    let de = token(&engine, &w.outsider).await;
    let api = Api::over(Arc::clone(&engine));

    let (s, _, v) = api
        .post("/v1/solvit-cases", &dk, json!({"procedure": "solvit-case"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["stage"], "draft");
    let id = v["id"].as_str().unwrap().to_owned();
    let commands = format!("/v1/solvit-cases/{id}/commands");
    let (s, _, v) = api
        .post(
            commands.clone(),
            &dk,
            json!({"command": "save-draft", "problem_area": "social-security", "answers": {
                "problem": {"type": "text", "value": "Pension periods not counted"},
                "complainant": {"type": "text", "value": "Jens Hansen"}
            }}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // The draft is invisible to the lead centre: 404, as for a case that does not exist.
    let (s, _, _) = api.get(format!("/v1/solvit-cases/{id}"), &fr).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // A command the stage does not allow: 409, naming what was expected.
    let (s, _, v) = api
        .post(
            commands.clone(),
            &dk,
            json!({"command": "close", "outcome": "resolved", "reason": "x"}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    // An unknown command: 400, nothing changes.
    let (s, _, v) = api
        .post(
            commands.clone(),
            &dk,
            json!({"command": "solve-everything"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, headers, v) = api
        .post(
            commands.clone(),
            &dk,
            json!({"command": "submit", "lead": lead_centre}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["stage"], "submitted");
    assert_eq!(v["lead_country"], "FR");
    assert!(v["due"].is_string());
    let etag = headers.unwrap();
    // The lead centre accepts (its own right), with If-Match.
    let (s, _, v) = api
        .post(commands.clone(), &dk, json!({"command": "accept"}))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, _, v) = api
        .post_if(commands.clone(), &fr, json!({"command": "accept"}), &etag)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, _, v) = api
        .post_if(commands.clone(), &fr, json!({"command": "accept"}), &etag)
        .await;
    assert_eq!(s, StatusCode::PRECONDITION_FAILED, "{v}");
    let (s, _, _) = api
        .post(
            commands.clone(),
            &fr,
            json!({"command": "propose-solution", "text": "The fund counts the periods"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, v) = api
        .post(
            commands.clone(),
            &dk,
            json!({"command": "close", "outcome": "resolved", "reason": "Paid"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["stage"], "closed");
    assert_eq!(v["on_time"], true);

    // Boxes and timelines: the lead centre lists it and sees one draft, the home centre two
    // of its own entries more; the German centre nothing.
    let (s, _, v) = api.get("/v1/solvit-cases?box=lead", &fr).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    let (s, _, v) = api.get("/v1/solvit-cases?box=lead", &de).await;
    assert_eq!(s, StatusCode::OK);
    assert!(v["items"].as_array().unwrap().is_empty());
    let (s, _, v) = api.get("/v1/solvit-cases?box=elsewhere", &dk).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, _, v) = api
        .get(format!("/v1/solvit-cases/{id}/timeline"), &fr)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let events: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"]["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        [
            "draft-saved",
            "submitted",
            "accepted",
            "solution-proposed",
            "closed"
        ]
    );
    for path in [
        format!("/v1/solvit-cases/{id}"),
        format!("/v1/solvit-cases/{id}/timeline"),
    ] {
        let (s, _, _) = api.get(path, &de).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
    let (s, _, v) = api.get("/v1/solvit-figures", &de).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v[0]["resolved"], 1);
    assert_eq!(v[0]["problem_area"], "social-security");

    // The document describes them, under their tag, with their query parameters.
    let doc = imi_http::openapi();
    let json = serde_json::to_value(&doc).unwrap();
    let paths = &json["paths"];
    for p in [
        "/v1/solvit-cases",
        "/v1/solvit-cases/{id}",
        "/v1/solvit-cases/{id}/commands",
        "/v1/solvit-cases/{id}/timeline",
        "/v1/solvit-figures",
    ] {
        assert!(paths[p].is_object(), "{p} missing");
    }
    let act = &paths["/v1/solvit-cases/{id}/commands"]["post"];
    assert_eq!(act["tags"][0], "solvit");
    let described = act["description"].as_str().unwrap_or_default().to_owned()
        + act["summary"].as_str().unwrap_or_default();
    assert!(described.contains("propose-solution"), "{act}");
    let params = paths["/v1/solvit-cases"]["get"]["parameters"]
        .as_array()
        .unwrap();
    assert!(params.iter().all(|p| p["in"] == "query"), "{params:?}");
    assert!(
        json["tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "solvit")
    );
}

/// No operation declares a query parameter as a path parameter: every parameter named
/// `in: path` appears in its path (issue 21's integrator found 69 that did not).
#[test]
fn path_parameters_are_in_their_paths() {
    let doc = serde_json::to_value(imi_http::openapi()).unwrap();
    let mut checked = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            for p in op["parameters"].as_array().into_iter().flatten() {
                if p["in"] == "path" {
                    let name = p["name"].as_str().unwrap();
                    assert!(
                        path.contains(&format!("{{{name}}}")),
                        "{method} {path}: `{name}` is declared in the path"
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 20);
}
