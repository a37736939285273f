//! Notification settings, preferences and dead letters over HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should panic

mod common;

use axum::http::{Method, StatusCode};
use imi_core::access::Actor;
use imi_core::catalogue::Right;
use imi_core::{user::Grant, user::GrantScope, user::NewUser};
use serde_json::json;

use common::{setup, token};

#[tokio::test]
async fn settings_preferences_and_dead_letters_over_http() {
    let api = setup().await;
    // Preferences: the user's own.
    let (s, _, v) = api.get("/v1/me/notification-preferences", &api.dk).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["muted"], json!([]));
    let (s, _, v) = api
        .put(
            "/v1/me/notification-preferences",
            &api.dk,
            json!({"muted": ["reminder", "request-answered"]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["muted"], json!(["request-answered", "reminder"]));
    let (s, _, _) = api
        .put(
            "/v1/me/notification-preferences",
            &api.dk,
            json!({"muted": ["gossip"]}),
        )
        .await;
    assert!(s.is_client_error());

    // Settings: the authority's administrators only.
    let path = format!("/v1/authorities/{}/notification-settings", api.fr_authority);
    let body = json!({"functional_mailbox": "imi@example.fr", "notify_users": false});
    let (s, _, _) = api.put(&path, &api.fr, body.clone()).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let admin = api
        .engine
        .create_user(
            &Actor::System,
            api.fr_authority.parse().unwrap(),
            NewUser {
                name: "Admin".into(),
                email: "admin@example.fr".parse().unwrap(),
                language: imi_core::Language::French,
            },
        )
        .await
        .unwrap();
    api.engine
        .set_grants(
            &Actor::System,
            admin.id(),
            vec![Grant::new(Right::Administrator, GrantScope::Everything)],
        )
        .await
        .unwrap();
    let admin = token(
        &api.engine,
        &api.engine.actor_for(admin.id()).await.unwrap(),
    )
    .await;
    let (s, _, v) = api.put(&path, &admin, body).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, _, v) = api.get(&path, &admin).await;
    assert_eq!(v["functional_mailbox"], "imi@example.fr");
    assert_eq!(v["notify_users"], false);
    let (s, _, _) = api
        .put(
            &path,
            &admin,
            json!({"functional_mailbox": "not an address", "notify_users": true}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // Webhooks: registered by administrators, the secret shown once.
    let hooks = format!("/v1/authorities/{}/webhooks", api.fr_authority);
    let (s, _, v) = api
        .post(
            &hooks,
            &admin,
            json!({"url": "https://backoffice.example.fr/imi", "topics": ["request-received"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert!(v["secret"].as_str().unwrap().starts_with("whsec_"));
    let hook = v["id"].as_str().unwrap().to_owned();
    let (s, _, v) = api.get(&hooks, &admin).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert!(v[0].get("secret").is_none());
    let (s, _, _) = api
        .post(
            &hooks,
            &admin,
            json!({"url": "http://backoffice.example.fr/imi"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _, _) = api
        .post(&hooks, &api.fr, json!({"url": "https://x.fr/"}))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = api.delete(&format!("/v1/webhooks/{hook}"), &admin).await;
    assert_eq!(s, StatusCode::NO_CONTENT);

    // The feed: a request sent from Denmark to France shows in the French feed, and a
    // poller resumes from the cursor.
    let (s, _, v) = api
        .post("/v1/requests", &api.dk, json!({"procedure": "diploma"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let case = v["id"].as_str().unwrap().to_owned();
    let commands = format!("/v1/requests/{case}/commands");
    for command in [
        json!({"command": "save-draft", "answers": {
            "holder": {"type": "text", "value": "Marie Dubois"},
            "profession": {"type": "choice", "value": "nurse"}}}),
        json!({"command": "send", "recipient": api.fr_authority, "needed_by": "2027-01-31"}),
    ] {
        let (s, _, v) = api.post(&commands, &api.dk, command).await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    let (s, _, v) = api.get("/v1/feed", &api.fr).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    assert_eq!(v["items"][0]["topic"], "request-received");
    assert_eq!(v["items"][0]["link"], format!("/v1/requests/{case}"));
    assert!(!v.to_string().contains("Marie"));
    let cursor = v["cursor"].as_str().unwrap().to_owned();
    let (_, _, v) = api.get(&format!("/v1/feed?cursor={cursor}"), &api.fr).await;
    assert_eq!(v["items"], json!([]));
    assert_eq!(v["cursor"], cursor);
    let (s, _, _) = api.get(&format!("/v1/feed?cursor={cursor}"), &api.dk).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "another authority's cursor");

    // Dead letters: administrators see theirs (none yet); others may not look.
    let (s, _, v) = api.get("/v1/dead-letters", &admin).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["items"], json!([]));
    let (s, _, _) = api.get("/v1/dead-letters", &api.fr).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = api
        .call(
            Method::POST,
            &format!("/v1/dead-letters/{}/retry", uuid::Uuid::nil()),
            &admin,
            "en",
            None,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
