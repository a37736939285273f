//! Administration in the browser, through the router: a national coordinator's
//! administrator registers an authority, gives it a procedure and a user, sets the user's
//! rights, issues a token (shown once) that then signs in, revokes it and disables the
//! user; others are refused by the engine's policy, and forms need their anti-forgery value.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should panic

mod common;

use std::sync::Arc;

use axum::http::{StatusCode, header};
use common::Client;

#[tokio::test]
async fn a_coordinator_administers_authorities_users_rights_and_tokens() {
    let w = common::world(
        [
            "Styrelsen for Patientsikkerhed",
            "Ordre national des infirmiers",
            "Ministero della Salute",
        ],
        "Marie",
    )
    .await;
    let (admin_token, _) = common::coordinator(&w.engine, w.ids[0]).await;
    let c = Client {
        app: imi_web::router(
            Arc::clone(&w.engine),
            imi_web::WebConfig {
                secure_cookies: false,
                ..imi_web::WebConfig::default()
            },
        ),
    };
    let admin = c.sign_in_with(&admin_token).await;
    let handler = c.sign_in_with(&w.tokens[0]).await;

    // Only administrators see the way in; the list shows Denmark's authorities.
    let home = c.get("/", &[&handler], "en").await;
    assert!(!home.body.contains("href=\"/admin\""));
    let home = c.get("/", &[&admin], "en").await;
    assert!(home.body.contains("href=\"/admin\""));
    let list = c.get("/admin", &[&admin], "en").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(list.body.contains("Styrelsen for Patientsikkerhed"));
    assert!(!list.body.contains("Ordre national"), "Denmark's only");

    // It registers an authority (markup in the name stays text).
    let csrf = list.csrf();
    let form = [
        ("csrf", csrf.as_str()),
        ("name", "Sikkerhedsstyrelsen <b>DK</b>"),
        ("language", "da"),
        ("email", "imi@sik.dk"),
    ];
    let forged = c.post("/admin/authorities", &[&admin], &form[1..]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    // A handler is refused by the policy, not by the page.
    let handler_csrf = home_csrf(&c, &handler).await;
    let mut theirs = form;
    theirs[0] = ("csrf", &handler_csrf);
    let refused = c.post("/admin/authorities", &[&handler], &theirs).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let done = c.post("/admin/authorities", &[&admin], &form).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = done.location().to_owned();
    let authority = c.get(&page, &[&admin], "en").await;
    assert!(
        authority
            .body
            .contains("Sikkerhedsstyrelsen &lt;b&gt;DK&lt;/b&gt;")
    );

    // Procedure access.
    let granted = c
        .post(
            &format!("{page}/procedures"),
            &[&admin],
            &[
                ("csrf", &csrf),
                ("procedure", "nurse-check"),
                ("access", "grant"),
            ],
        )
        .await;
    assert_eq!(granted.status, StatusCode::SEE_OTHER, "{}", granted.body);
    let authority = c.get(&page, &[&admin], "en").await;
    assert!(authority.body.contains("Has access."), "{}", authority.body);

    // A user, with rights.
    let added = c
        .post(
            &format!("{page}/users"),
            &[&admin],
            &[
                ("csrf", &csrf),
                ("name", "Søren Kjær"),
                ("email", "soren@sik.dk"),
                ("language", "da"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let user_page = added.location().to_owned();
    assert!(user_page.starts_with("/admin/users/"));
    let saved = c
        .post(
            &format!("{user_page}/grants"),
            &[&admin],
            &[
                ("csrf", &csrf),
                ("rights", "request-handler"),
                ("rights", "api-user"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let user = c.get(&user_page, &[&admin], "en").await;
    assert!(user.body.contains("value=\"request-handler\" checked"));
    assert!(!user.body.contains("value=\"administrator\" checked"));

    // An administrator issues no token for a person: people mint their own.
    assert!(
        !user
            .body
            .contains(&format!("action=\"{user_page}/tokens\""))
    );
    let refused = c
        .post(
            &format!("{user_page}/tokens"),
            &[&admin],
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);

    // The new user signs in (with the first token the operator hands out, as the demo
    // server prints them) and mints a token on their own page, shown once.
    let id: imi_core::UserId = user_page.rsplit('/').next().unwrap().parse().unwrap();
    let first = w
        .engine
        .issue_token(&imi_core::access::Actor::System, id)
        .await
        .unwrap();
    let soren = c.sign_in_with(first.expose()).await;
    let me = c.get("/me", &[&soren], "en").await;
    assert_eq!(me.location(), user_page);
    let own = c.get(&user_page, &[&soren], "en").await;
    assert!(
        own.body.contains(&format!("action=\"{user_page}/tokens\"")),
        "{}",
        own.body
    );
    assert!(
        !own.body.contains("/grants\""),
        "no rights form for oneself"
    );
    let issued = c
        .post(
            &format!("{user_page}/tokens"),
            &[&soren],
            &[("csrf", &own.csrf())],
        )
        .await;
    assert_eq!(issued.status, StatusCode::OK, "{}", issued.body);
    assert_eq!(
        issued.headers.get(header::CACHE_CONTROL).unwrap(),
        "no-store"
    );
    let at = issued.body.find("imi_").expect("the token");
    let token: String = issued.body[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    assert_ne!(token, first.expose());
    c.sign_in_with(&token).await;

    // The administrator revokes every token; the sessions opened with them end.
    loop {
        let user = c.get(&user_page, &[&admin], "en").await;
        let Some(revoke_at) = user.body.find("/revoke\"") else {
            break;
        };
        let action_start = user.body[..revoke_at].rfind("action=\"").unwrap() + 8;
        let action = format!("{}/revoke", &user.body[action_start..revoke_at]);
        let revoked = c.post(&action, &[&admin], &[("csrf", &csrf)]).await;
        assert_eq!(revoked.status, StatusCode::SEE_OTHER, "{}", revoked.body);
    }
    let ended = c.get("/requests", &[&soren], "en").await;
    assert_eq!(
        ended.status,
        StatusCode::SEE_OTHER,
        "the session ended with its token"
    );
    let user = c.get(&user_page, &[&admin], "en").await;

    // Disabled: final.
    let disable = format!("{user_page}/disable");
    let csrf_now = common::hidden_in(&user.body, &disable, "csrf");
    let disabled = c.post(&disable, &[&admin], &[("csrf", &csrf_now)]).await;
    assert_eq!(disabled.status, StatusCode::SEE_OTHER, "{}", disabled.body);
    let user = c.get(&user_page, &[&admin], "en").await;
    assert!(user.body.contains("(disabled)"), "{}", user.body);
    assert!(!user.body.contains(&disable));
}

/// The anti-forgery value of `session`'s forms.
async fn home_csrf(c: &Client, session: &str) -> String {
    c.get("/", &[session], "en").await.csrf()
}
