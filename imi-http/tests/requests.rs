//! A Danish authority asks a French one to verify a nurse's diploma, over HTTP: each side
//! reads questions, answers and timeline in its own language; need to know before
//! acceptance; ETag/If-Match; illegal commands.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should panic

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use imi_core::catalogue::Right;
use imi_core::{
    Country, Language, LocalisedText, access::Actor, authority::NewAuthority, user::Grant,
    user::GrantScope, user::NewUser,
};
use serde_json::{Value, json};
use tower::ServiceExt;

mod common;

use common::setup;

fn answer<'a>(answers: &'a Value, question: &str) -> Option<&'a Value> {
    answers
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["question"] == question)
}

#[tokio::test]
async fn a_danish_authority_asks_a_french_one_each_in_its_language() {
    let api = setup().await;
    let (status, _, draft) = api
        .call(
            Method::POST,
            "/v1/requests",
            &api.dk,
            "da",
            Some(json!({ "procedure": "diploma" })),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{draft}");
    let id = draft["id"].as_str().unwrap().to_owned();
    let commands = format!("/v1/requests/{id}/commands");
    let save = json!({ "command": "save-draft", "answers": {
        "holder": { "type": "text", "value": "Marie Dubois" },
        "profession": { "type": "choice", "value": "nurse" } } });
    let (status, _, saved) = api
        .call(Method::POST, &commands, &api.dk, "da", Some(save), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(
        answer(&saved["request_answers"], "profession").unwrap()["options"][0]["text"],
        "Sygeplejerske"
    );
    assert_eq!(
        answer(&saved["request_answers"], "holder").unwrap()["label"]["text"],
        "Indehaverens navn"
    );
    let send =
        json!({ "command": "send", "recipient": api.fr_authority, "needed_by": "2026-12-15" });
    let (status, _, sent) = api
        .call(Method::POST, &commands, &api.dk, "da", Some(send), None)
        .await;
    assert_eq!(
        (status, sent["stage"].as_str()),
        (StatusCode::OK, Some("awaiting-acceptance")),
        "{sent}"
    );

    // The French side reads it in French, without personal data before accepting.
    let (status, etag, seen) = api
        .call(
            Method::GET,
            &format!("/v1/requests/{id}"),
            &api.fr,
            "fr",
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(seen["visibility"], "without-personal-data");
    assert!(
        answer(&seen["request_answers"], "holder").is_none(),
        "{seen}"
    );
    assert_eq!(
        answer(&seen["request_answers"], "profession").unwrap()["options"][0]["text"],
        "Infirmier"
    );
    let etag = etag.unwrap();

    // Accept with If-Match; the same version again is stale.
    let accept = json!({ "command": "accept", "days": 10 });
    let (status, _, accepted) = api
        .call(
            Method::POST,
            &commands,
            &api.fr,
            "fr",
            Some(accept.clone()),
            Some(&etag),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    assert_eq!(
        answer(&accepted["request_answers"], "holder").unwrap()["value"]["value"],
        "Marie Dubois"
    );
    let (status, _, stale) = api
        .call(
            Method::POST,
            &commands,
            &api.fr,
            "fr",
            Some(accept),
            Some(&etag),
        )
        .await;
    assert_eq!(
        (status, stale["code"].as_str()),
        (StatusCode::PRECONDITION_FAILED, Some("precondition-failed"))
    );

    // Illegal commands and malformed ones are refused with problems.
    let (status, _, p) = api
        .call(
            Method::POST,
            &commands,
            &api.dk,
            "da",
            Some(json!({ "command": "accept", "days": 3 })),
            None,
        )
        .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::CONFLICT, Some("invalid-state")),
        "{p}"
    );
    let (status, _, _) = api
        .call(
            Method::POST,
            &commands,
            &api.dk,
            "da",
            Some(json!({ "command": "dance" })),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, p) = api
        .call(
            Method::POST,
            &commands,
            &api.fr,
            "fr",
            Some(json!({ "command": "answer", "answers": {} })),
            None,
        )
        .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid-answers"))
    );
    assert_eq!(p["errors"][0]["at"], "authentic");

    // The French answer; the Danish side reads the timeline in Danish.
    let reply = json!({ "command": "answer", "answers": { "authentic": { "type": "yes-no", "value": true } } });
    let (status, _, answered) = api
        .call(Method::POST, &commands, &api.fr, "fr", Some(reply), None)
        .await;
    assert_eq!(
        (status, answered["stage"].as_str()),
        (StatusCode::OK, Some("answered")),
        "{answered}"
    );
    let (_, _, timeline) = api
        .call(
            Method::GET,
            &format!("/v1/requests/{id}/timeline"),
            &api.dk,
            "da",
            None,
            None,
        )
        .await;
    let events: Vec<&str> = timeline
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"]["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["draft-saved", "sent", "accepted", "answered"]);
    assert_eq!(
        timeline[3]["answers"][0]["label"]["text"],
        "Er eksamensbeviset ægte?"
    );
    let (_, _, timeline_fr) = api
        .call(
            Method::GET,
            &format!("/v1/requests/{id}/timeline"),
            &api.fr,
            "fr",
            None,
            None,
        )
        .await;
    assert_eq!(
        timeline_fr[3]["answers"][0]["label"]["text"],
        "Le diplôme est-il authentique ?"
    );

    // No translation service on this server: a clear 503, never a fake translation.
    let (status, _, p) = api
        .call(
            Method::POST,
            &format!("/v1/requests/{id}/timeline/1/translations"),
            &api.dk,
            "da",
            Some(json!({ "to": "fr" })),
            None,
        )
        .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Some("translation-unavailable")
        ),
        "{p}"
    );

    // Close with a rating; inboxes on both sides.
    let close = json!({ "command": "accept-answer", "rating": { "timeliness": 5, "effort": 4 } });
    let (status, _, closed) = api
        .call(Method::POST, &commands, &api.dk, "da", Some(close), None)
        .await;
    assert_eq!(
        (status, closed["stage"].as_str()),
        (StatusCode::OK, Some("closed"))
    );
    let (_, _, inbox) = api
        .call(
            Method::GET,
            "/v1/inbox?side=responder&stage=closed",
            &api.fr,
            "fr",
            None,
            None,
        )
        .await;
    assert_eq!(inbox["items"].as_array().unwrap().len(), 1);
    let (status, _, _) = api
        .call(
            Method::GET,
            "/v1/inbox?stage=sleeping",
            &api.fr,
            "fr",
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn attachments_stream_in_and_out_on_a_need_to_know_basis() {
    let api = setup().await;
    let (_, _, draft) = api
        .call(
            Method::POST,
            "/v1/requests",
            &api.dk,
            "da",
            Some(json!({ "procedure": "diploma" })),
            None,
        )
        .await;
    let id = draft["id"].as_str().unwrap().to_owned();
    let upload = |token: &str, media: &str, bytes: Vec<u8>| {
        Request::builder()
            .method(Method::POST)
            .uri(format!("/v1/requests/{id}/attachments?name=diploma.pdf"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, media)
            .body(Body::from(bytes))
            .unwrap()
    };
    let content: Vec<u8> = (0..700_000u32).map(|i| (i % 251) as u8).collect();
    let response = api
        .app
        .clone()
        .oneshot(upload(&api.dk, "application/pdf", content.clone()))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value =
        serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(body["size"], 700_000);
    let attachment = body["id"].as_str().unwrap().to_owned();
    let refused = api
        .app
        .clone()
        .oneshot(upload(&api.dk, "text/html", vec![1, 2, 3]))
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let commands = format!("/v1/requests/{id}/commands");
    let save = json!({ "command": "save-draft", "answers": {
        "holder": { "type": "text", "value": "Marie Dubois" },
        "profession": { "type": "choice", "value": "nurse" } } });
    api.call(Method::POST, &commands, &api.dk, "da", Some(save), None)
        .await;
    let send =
        json!({ "command": "send", "recipient": api.fr_authority, "needed_by": "2026-12-15" });
    api.call(Method::POST, &commands, &api.dk, "da", Some(send), None)
        .await;

    let download = |token: &str| {
        Request::builder()
            .uri(format!("/v1/attachments/{attachment}"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap()
    };
    let hidden = api.app.clone().oneshot(download(&api.fr)).await.unwrap();
    assert_eq!(
        hidden.status(),
        StatusCode::NOT_FOUND,
        "no attachments before acceptance"
    );
    api.call(
        Method::POST,
        &commands,
        &api.fr,
        "fr",
        Some(json!({ "command": "accept", "days": 5 })),
        None,
    )
    .await;
    // The file is referred to by no answer, so it was not sent: the responder does not
    // get it even after accepting (security.rs checks a referred file); its uploader does.
    let stray = api.app.clone().oneshot(download(&api.fr)).await.unwrap();
    assert_eq!(stray.status(), StatusCode::NOT_FOUND);
    let response = api.app.clone().oneshot(download(&api.dk)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/pdf");
    assert_eq!(response.headers()[header::CONTENT_LENGTH], "700000");
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(bytes.as_ref(), content.as_slice(), "byte for byte");
}

#[tokio::test]
async fn data_subject_requests_and_audit_verification_over_http() {
    let api = setup().await;
    let (_, _, draft) = api
        .post("/v1/requests", &api.dk, json!({ "procedure": "diploma" }))
        .await;
    let id = draft["id"].as_str().unwrap().to_owned();
    let commands = format!("/v1/requests/{id}/commands");
    let save = json!({ "command": "save-draft", "answers": {
        "holder": { "type": "text", "value": "Marie Dubois" },
        "profession": { "type": "choice", "value": "nurse" } } });
    api.post(&commands, &api.dk, save).await;
    let send =
        json!({ "command": "send", "recipient": api.fr_authority, "needed_by": "2026-12-15" });
    let (status, _, _) = api.post(&commands, &api.dk, send).await;
    assert_eq!(status, StatusCode::OK);

    let who = json!({ "identifiers": ["MARIE dubois"] });
    let (status, _, found) = api
        .post("/v1/data-subjects/search", &api.dk, who.clone())
        .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert_eq!(found[0]["id"], id.as_str());
    let (status, _, none) = api
        .post("/v1/data-subjects/search", &api.fr, who.clone())
        .await;
    assert_eq!(
        (status, none.as_array().map(Vec::len)),
        (StatusCode::OK, Some(0)),
        "not accepted yet"
    );
    let (status, _, problem) = api
        .post(
            "/v1/data-subjects/search",
            &api.dk,
            json!({ "identifiers": [] }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let (status, _, export) = api.post("/v1/data-subjects/export", &api.dk, who).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(export["format"], "imi-data-subject-export/1");
    assert_eq!(
        export["cases"][0]["timeline"].as_array().map(Vec::len),
        Some(2)
    );

    let rectify = json!({ "command": "rectify", "reason": "the data subject asked",
        "answers": { "holder": { "type": "text", "value": "Marie Dubost" } } });
    let (status, _, fixed) = api.post(&commands, &api.dk, rectify).await;
    assert_eq!(status, StatusCode::OK, "{fixed}");
    assert_eq!(
        answer(&fixed["request_answers"], "holder").unwrap()["value"]["value"],
        "Marie Dubost"
    );
    let erase =
        json!({ "command": "erase-unlawful", "reason": "no legal basis", "questions": ["holder"] });
    let (status, _, erased) = api.post(&commands, &api.dk, erase).await;
    assert_eq!(status, StatusCode::OK, "{erased}");
    assert!(answer(&erased["request_answers"], "holder").is_none());
    let (_, _, timeline) = api
        .get(&format!("/v1/requests/{id}/timeline"), &api.dk)
        .await;
    assert!(!timeline.to_string().contains("Marie"), "{timeline}");

    // Verification: not for a handler; for an administrator of the national coordinator.
    let (status, _, _) = api.get("/v1/audit/verify", &api.dk).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let engine = &api.engine;
    let mut n = NewAuthority::new(
        Country::Denmark,
        LocalisedText::new(Language::English, "NIMIC DK").unwrap(),
    );
    n.confirmed_not_duplicate = true;
    let nimic = engine.register_authority(&Actor::System, n).await.unwrap();
    engine
        .appoint_coordinator(
            &Actor::System,
            nimic.id(),
            Some(imi_core::authority::CoordinatorRole::National),
        )
        .await
        .unwrap();
    let admin = engine
        .create_user(
            &Actor::System,
            nimic.id(),
            NewUser {
                name: "Admin".into(),
                email: "a@x.eu".parse().unwrap(),
                language: Language::Danish,
            },
        )
        .await
        .unwrap();
    engine
        .set_grants(
            &Actor::System,
            admin.id(),
            vec![Grant::new(Right::Administrator, GrantScope::Everything)],
        )
        .await
        .unwrap();
    let token = engine
        .issue_token(&Actor::System, admin.id())
        .await
        .unwrap()
        .expose()
        .to_owned();
    let sealed = engine.seal_audit(&Actor::System, 10_000).await.unwrap();
    assert!(sealed >= 6, "sealed {sealed}");
    let (status, _, report) = api.get("/v1/audit/verify", &token).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["ok"], true);
    assert_eq!(report["entries"].as_u64(), Some(sealed as u64));
}
