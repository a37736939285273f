//! Regression tests for what was found by probing the server from outside (issue 18):
//! each test fails on the code before its fix.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should panic

mod common;

use axum::http::{Method, StatusCode};
use common::setup;
use imi_core::catalogue::Right;
use imi_core::{
    Clock, Country, Language, LocalisedText, access::Actor, authority::CoordinatorRole,
    authority::NewAuthority, user::Grant, user::GrantScope, user::NewUser,
};
use serde_json::{Value, json};

/// Grants `user` the api-user right beside what they hold (as the operator).
async fn grant_api_user(api: &common::Api, user: &str) {
    let id = user.parse().unwrap();
    let mut grants = api
        .engine
        .user(&Actor::System, id)
        .await
        .unwrap()
        .grants()
        .to_vec();
    grants.push(Grant::new(Right::ApiUser, GrantScope::Everything));
    api.engine
        .set_grants(&Actor::System, id, grants)
        .await
        .unwrap();
}

/// Publishes version 2 of the fixture's question set: version 1 and `questions` (TOML of
/// `[[group.question]]` tables) added to its one group.
fn publish_version_2(api: &common::Api, questions: &str) {
    let v2 = common::SET.replace("version = 1", "version = 2") + questions;
    api.engine
        .publish_catalogue(
            &Actor::System,
            imi_core::catalogue::Catalogue::load(&[
                imi_core::catalogue::CatalogueSource::new("areas/pq.toml", common::AREA),
                imi_core::catalogue::CatalogueSource::new("question-sets/diploma.toml", &v2),
            ])
            .unwrap(),
        )
        .unwrap();
}

/// The id of the user a token acts as.
async fn me(api: &common::Api, token: &str) -> String {
    let (_, _, me) = api.get("/v1/me", token).await;
    me["id"].as_str().unwrap().to_owned()
}

/// The French national coordinator: an authority appointed as such, and a user of it with
/// the administrator and referral-handler rights. Returns its token.
async fn french_coordinator(api: &common::Api) -> String {
    let engine = &api.engine;
    let a = engine
        .register_authority(
            &Actor::System,
            NewAuthority::new(
                Country::France,
                LocalisedText::new(Language::French, "Coordination nationale IMI").unwrap(),
            ),
        )
        .await
        .unwrap();
    engine
        .appoint_coordinator(&Actor::System, a.id(), Some(CoordinatorRole::National))
        .await
        .unwrap();
    let u = engine
        .create_user(
            &Actor::System,
            a.id(),
            NewUser {
                name: "Claire".into(),
                email: "c@x.eu".parse().unwrap(),
                language: Language::French,
            },
        )
        .await
        .unwrap();
    engine
        .set_grants(
            &Actor::System,
            u.id(),
            vec![
                Grant::new(Right::Administrator, GrantScope::Everything),
                Grant::new(Right::ReferralHandler, GrantScope::Everything),
            ],
        )
        .await
        .unwrap();
    let actor = engine.actor_for(u.id()).await.unwrap();
    common::token(engine, &actor).await
}

/// Sends a diploma check from Denmark to France whose draft first held a mistaken name
/// (another person's), corrected before sending; France accepts. Returns the request id.
async fn corrected_request(api: &common::Api, mistake: &str, name: &str) -> String {
    let (_, _, draft) = api
        .post("/v1/requests", &api.dk, json!({ "procedure": "diploma" }))
        .await;
    let id = draft["id"].as_str().unwrap().to_owned();
    let commands = format!("/v1/requests/{id}/commands");
    let steps = [
        (
            &api.dk,
            json!({ "command": "save-draft", "answers": {
                "holder": { "type": "text", "value": mistake },
                "profession": { "type": "choice", "value": "nurse" } } }),
        ),
        (
            &api.dk,
            json!({ "command": "save-draft", "answers": {
                "holder": { "type": "text", "value": name },
                "profession": { "type": "choice", "value": "nurse" } } }),
        ),
        (
            &api.dk,
            json!({ "command": "send", "recipient": api.fr_authority, "needed_by": "2026-12-15" }),
        ),
        (&api.fr, json!({ "command": "accept", "days": 3 })),
    ];
    for (token, body) in steps {
        let (status, _, answer) = api.post(&commands, token, body).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    id
}

fn events(timeline: &Value) -> Vec<String> {
    timeline
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"]["event"].as_str().unwrap().to_owned())
        .collect()
}

/// Finding 1: the responder reads what was sent, never the requester's drafting history
/// (here: another person's name typed by mistake and corrected before sending).
#[tokio::test]
async fn the_other_side_never_reads_the_drafting_history() {
    let api = setup().await;
    let mistake = "Mistaken Otherperson";
    let id = corrected_request(&api, mistake, "Right Holder").await;
    let path = format!("/v1/requests/{id}/timeline");

    let (status, _, theirs) = api
        .call(Method::GET, &path, &api.fr, "fr", None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!theirs.to_string().contains(mistake), "{theirs}");
    // Of the drafts, only the last one (what was sent) is shown.
    assert_eq!(events(&theirs), ["draft-saved", "sent", "accepted"]);
    assert!(theirs.to_string().contains("Right Holder"), "{theirs}");
    // The request itself shows the sent answers in full to the accepting responder.
    let (_, _, request) = api
        .call(
            Method::GET,
            &format!("/v1/requests/{id}"),
            &api.fr,
            "fr",
            None,
            None,
        )
        .await;
    assert!(request.to_string().contains("Right Holder"), "{request}");
    // A translation of a drafting entry is refused like a missing one.
    let (status, _, _) = api
        .call(
            Method::POST,
            &format!("/v1/requests/{id}/timeline/1/translations"),
            &api.fr,
            "fr",
            Some(json!({ "to": "fr" })),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The requesting side keeps its whole history.
    let (_, _, ours) = api.get(&path, &api.dk).await;
    assert!(ours.to_string().contains(mistake));
    assert_eq!(
        events(&ours),
        ["draft-saved", "draft-saved", "sent", "accepted"]
    );
}

/// Finding 2: a coordinator cannot mint a token for a user of an authority in its scope
/// (impersonation), nor for a user it creates there; a user can for themselves.
#[tokio::test]
async fn nobody_mints_a_token_that_acts_as_somebody_else() {
    let api = setup().await;
    let coordinator = french_coordinator(&api).await;
    let (_, _, julie) = api
        .call(Method::GET, "/v1/me", &api.fr, "fr", None, None)
        .await;
    let julie = julie["id"].as_str().unwrap().to_owned();

    let (status, _, problem) = api
        .call(
            Method::POST,
            &format!("/v1/users/{julie}/tokens"),
            &coordinator,
            "fr",
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");

    // A user the coordinator creates in an authority it covers: no token either.
    let (status, _, created) = api
        .call(
            Method::POST,
            &format!("/v1/authorities/{}/users", api.fr_authority),
            &coordinator,
            "fr",
            Some(json!({ "name": "Sock Puppet", "email": "p@x.eu", "language": "fr" })),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let puppet = created["id"].as_str().unwrap();
    let (status, _, _) = api
        .call(
            Method::POST,
            &format!("/v1/users/{puppet}/tokens"),
            &coordinator,
            "fr",
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The same answer whether or not the user exists.
    let (status, _, _) = api
        .call(
            Method::POST,
            "/v1/users/0192f5a0-0000-7000-8000-000000000000/tokens",
            &coordinator,
            "fr",
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Julie mints her own once she holds the api-user right, and it acts as her.
    let mint_own = json!({ "label": "my script", "expires_in_days": 7 });
    let (status, _, problem) = api
        .call(
            Method::POST,
            &format!("/v1/users/{julie}/tokens"),
            &api.fr,
            "fr",
            Some(mint_own.clone()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    grant_api_user(&api, &julie).await;
    let (status, _, minted) = api
        .call(
            Method::POST,
            &format!("/v1/users/{julie}/tokens"),
            &api.fr,
            "fr",
            Some(mint_own),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{minted}");
    assert_eq!(minted["label"], "my script");
    assert_eq!(minted["expires_at"], "2026-11-29T09:00:00Z");
    let (_, _, me) = api
        .call(
            Method::GET,
            "/v1/me",
            minted["token"].as_str().unwrap(),
            "fr",
            None,
            None,
        )
        .await;
    assert_eq!(me["id"].as_str(), Some(julie.as_str()));
}

/// Finding 7: tokens expire, are listed without their secrets, are revoked one by one by
/// their owner or the administrators of their authority, and a user holds at most 20.
/// Tokens from before expiry existed are refused.
#[tokio::test]
async fn tokens_end_and_are_revoked_one_by_one() {
    let api = setup().await;
    let julie = me(&api, &api.fr).await;
    grant_api_user(&api, &julie).await;
    let tokens = format!("/v1/users/{julie}/tokens");
    let (status, _, short) = api
        .call(
            Method::POST,
            &tokens,
            &api.fr,
            "fr",
            Some(json!({ "label": "short", "expires_in_days": 1 })),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{short}");
    let short_token = short["token"].as_str().unwrap().to_owned();
    let (status, _, long) = api
        .call(Method::POST, &tokens, &api.fr, "fr", None, None)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{long}");
    assert_eq!(
        long["expires_at"], "2027-02-20T09:00:00Z",
        "90 days by default"
    );
    let long_token = long["token"].as_str().unwrap().to_owned();

    // Bad lifetimes and labels are refused.
    for bad in [
        json!({ "expires_in_days": 0 }),
        json!({ "expires_in_days": 366 }),
        json!({ "label": "" }),
        json!({ "label": "x".repeat(101) }),
    ] {
        let (status, _, p) = api
            .call(Method::POST, &tokens, &api.fr, "fr", Some(bad), None)
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    }

    // Listed without secrets: the fixture's token and the two new ones.
    let (status, _, listed) = api
        .call(Method::GET, &tokens, &api.fr, "fr", None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed.as_array().unwrap().len(), 3, "{listed}");
    assert!(!listed.to_string().contains(&short_token[4..]));
    // The Danish handler cannot list or revoke them: not found, like a missing user.
    let (status, _, _) = api
        .call(Method::GET, &tokens, &api.dk, "da", None, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // One day later the short token no longer works; the long one does.
    let clock = api.clock.as_ref().unwrap();
    clock.set(clock.now() + chrono::Duration::days(1));
    let (status, _, _) = api
        .call(Method::GET, "/v1/me", &short_token, "fr", None, None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&api, &long_token).await, julie);

    // Revoked one by one: the long token stops at once; the others still work.
    let long_id = long["id"].as_str().unwrap();
    let (status, _, _) = api
        .call(
            Method::DELETE,
            &format!("{tokens}/{long_id}"),
            &api.dk,
            "da",
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a stranger cannot revoke");
    let (status, _, _) = api
        .call(
            Method::DELETE,
            &format!("{tokens}/{long_id}"),
            &api.fr,
            "fr",
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = api
        .call(Method::GET, "/v1/me", &long_token, "fr", None, None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&api, &api.fr).await, julie);

    // At most 20 unexpired tokens (the expired one no longer counts).
    let mut made = 1;
    loop {
        let (status, _, p) = api
            .call(Method::POST, &tokens, &api.fr, "fr", None, None)
            .await;
        if status != StatusCode::CREATED {
            assert_eq!(status, StatusCode::CONFLICT, "{p}");
            assert_eq!(p["code"], "too-many-tokens");
            break;
        }
        made += 1;
        assert!(made <= 20, "more than 20 tokens");
    }
    assert_eq!(made, 20);
}

/// Service accounts: created by their authority's own administrator (not by a coordinator
/// covering it), given tokens by that administrator only, acting with their own rights.
#[tokio::test]
async fn service_accounts_have_their_own_rights_and_tokens() {
    let api = setup().await;
    let coordinator = french_coordinator(&api).await;
    // An administrator of the French authority.
    let fr_authority = api.fr_authority.parse().unwrap();
    let admin = api
        .engine
        .create_user(
            &Actor::System,
            fr_authority,
            NewUser {
                name: "Admin".into(),
                email: "a@x.eu".parse().unwrap(),
                language: Language::French,
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
    let admin = common::token(
        &api.engine,
        &api.engine.actor_for(admin.id()).await.unwrap(),
    )
    .await;
    let path = format!("/v1/authorities/{}/service-accounts", api.fr_authority);
    let new = json!({ "name": "Case system", "email": "it@oni.fr", "language": "fr" });

    let (status, _, _) = api
        .call(
            Method::POST,
            &path,
            &coordinator,
            "fr",
            Some(new.clone()),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a coordinator would act as the authority"
    );
    let (status, _, account) = api
        .call(Method::POST, &path, &admin, "fr", Some(new), None)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{account}");
    assert_eq!(account["kind"], "service");
    let id = account["id"].as_str().unwrap();
    let tokens = format!("/v1/users/{id}/tokens");

    for stranger in [&coordinator, &api.fr, &api.dk] {
        let (status, _, _) = api
            .call(Method::POST, &tokens, stranger, "fr", None, None)
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let (status, _, minted) = api
        .call(Method::POST, &tokens, &admin, "fr", None, None)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{minted}");
    let service = minted["token"].as_str().unwrap().to_owned();
    assert_eq!(me(&api, &service).await, id);
    // It has no rights yet: it sees no request, and cannot mint tokens for itself.
    let (status, _, _) = api
        .call(Method::POST, &tokens, &service, "fr", None, None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, inbox) = api
        .call(Method::GET, "/v1/inbox", &service, "fr", None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(inbox["items"], json!([]));
    // Even as an administrator, a service account cannot plant further service accounts
    // or tokens (a leaked token must not outlive its revocation).
    api.engine
        .set_grants(
            &Actor::System,
            id.parse().unwrap(),
            vec![Grant::new(Right::Administrator, GrantScope::Everything)],
        )
        .await
        .unwrap();
    let new = json!({ "name": "Another system", "email": "it@oni.fr", "language": "fr" });
    let (status, _, _) = api
        .call(Method::POST, &path, &service, "fr", Some(new), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = api
        .call(Method::POST, &tokens, &service, "fr", None, None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// Finding 4: a search word of any length is an answer, never a 500; names have a length
/// limit; an authority or register named with one enormous word is a valid key.
#[tokio::test]
async fn long_words_never_break_search_or_registration() {
    let api = setup().await;
    let coordinator = french_coordinator(&api).await;
    let word = "a".repeat(5_000);
    for path in [
        format!("/v1/directory?q={word}"),
        format!("/v1/directory?q=infirmiers%20{word}"),
        format!("/v1/registers?q={word}"),
    ] {
        let (status, _, body) = api.get(&path, &api.dk).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }
    let named = |name: &str| json!({ "participant": "FR", "name": { "source": "fr", "texts": { "fr": name } } });
    // Too long a name: refused with a problem naming the field.
    let (status, _, p) = api
        .post("/v1/authorities", &coordinator, named(&word))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("name"), "{p}");
    // The longest allowed name, one word of 300 non-ASCII letters, registers and is found.
    let long = "é".repeat(300);
    let (status, _, created) = api
        .post("/v1/authorities", &coordinator, named(&long))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (status, _, found) = api
        .get(&format!("/v1/directory?q={}", "e".repeat(400)), &api.dk)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found["items"][0]["id"], created["id"], "{found}");
    // A register whose name is one enormous word.
    let tx = |t: &str| json!({ "source": "fr", "texts": { "fr": t } });
    let register = json!({ "participant": "FR", "name": tx(&word), "content": tx("c"), "access_conditions": tx("Public") });
    let (status, _, p) = api.post("/v1/registers", &coordinator, register).await;
    assert!(
        status.is_success() || status.is_client_error(),
        "{status}: {p}"
    );
    // Self-registration with too long a name: refused, not a server error.
    let (status, _, p) = api
        .post(
            "/v1/self-registrations",
            &api.dk,
            json!({ "invitation": "imi_".to_owned() + &"0".repeat(64), "authority": named(&word) }),
        )
        .await;
    assert!(status.is_client_error(), "{status}: {p}");
}

/// Finding 6: an authority's website must be a web link; `javascript:` and the like never
/// reach the public export.
#[tokio::test]
async fn websites_are_web_links_only() {
    let api = setup().await;
    let coordinator = french_coordinator(&api).await;
    let with_site = |site: &str| json!({ "participant": "FR", "name": { "source": "fr", "texts": { "fr": format!("Autorité {site}") } }, "contact": { "website": site } });
    for bad in [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "//evil.example",
        "https://",
        "https://exa mple.fr",
        "https://example.fr/\"onmouseover=\"x",
        "vbscript:msgbox",
    ] {
        let (status, _, p) = api
            .post("/v1/authorities", &coordinator, with_site(bad))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {p}");
    }
    let (status, _, created) = api
        .post(
            "/v1/authorities",
            &coordinator,
            with_site("https://www.ordre-infirmiers.fr/"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    // Changing it to script is refused too.
    let id = created["id"].as_str().unwrap();
    let (status, _, p) = api
        .call(
            Method::PATCH,
            &format!("/v1/authorities/{id}"),
            &coordinator,
            "en",
            Some(json!({ "contact": { "website": "javascript:alert(1)" } })),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    let (_, _, public) = api.get("/v1/public/authorities", "").await;
    assert!(!public.to_string().contains("javascript:"), "{public}");
}

/// Finding 8: users and requests the caller may not know of answer 404, exactly as ids
/// that name nothing, on every route (here: reading a user, unblocking a request).
#[tokio::test]
async fn hidden_objects_and_missing_ones_answer_alike() {
    let api = setup().await;
    let coordinator = french_coordinator(&api).await;
    let julie = me(&api, &api.fr).await;
    let nobody = "0192f5a0-0000-7000-8000-000000000000";
    // The Danish handler may not read the French handler's record.
    for id in [julie.as_str(), nobody] {
        let (status, _, p) = api.get(&format!("/v1/users/{id}"), &api.dk).await;
        assert_eq!(
            (status, p["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("not-found"))
        );
    }
    // An unblock asked by someone who is no party to the request.
    let id = corrected_request(&api, "X Y", "A B").await;
    let unblock =
        json!({ "reason": "proof-of-exchange", "justification": "court case", "days": 7 });
    for case in [id.as_str(), nobody] {
        let (status, _, p) = api
            .post(
                &format!("/v1/requests/{case}/unblock"),
                &coordinator,
                unblock.clone(),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{p}");
    }
}

/// Finding 9: the engine mints a split child's id; an id the client chose (here: another
/// existing request's) is ignored, so no case can be overwritten or confused with another.
#[tokio::test]
async fn the_server_mints_split_children_ids() {
    let api = setup().await;
    // A second French authority with the procedure, to take part of the request.
    let mut n = NewAuthority::new(
        Country::France,
        LocalisedText::new(Language::French, "Agence régionale de santé").unwrap(),
    );
    n.competences = vec![imi_core::authority::Competence {
        area: "pq".parse().unwrap(),
        keywords: vec![],
    }];
    let other = api
        .engine
        .register_authority(&Actor::System, n)
        .await
        .unwrap();
    api.engine
        .grant_procedure(&Actor::System, other.id(), &"diploma".parse().unwrap())
        .await
        .unwrap();
    // Version 2 of the question set asks the responder two things, so one can be split off.
    publish_version_2(
        &api,
        "[[group.question]]\nid = \"registered\"\ntype = \"yes-no\"\nanswered_by = \"responder\"\n[group.question.label]\nen = \"Registered?\"\n",
    );
    let id = corrected_request(&api, "X Y", "A B").await;
    let existing = corrected_request(&api, "P Q", "R S").await;
    let (status, _, view) = api
        .call(
            Method::POST,
            &format!("/v1/requests/{id}/commands"),
            &api.fr,
            "fr",
            Some(json!({ "command": "split", "to": other.id().to_string(), "questions": ["registered"], "child": existing })),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    let (_, _, timeline) = api
        .call(
            Method::GET,
            &format!("/v1/requests/{id}/timeline"),
            &api.fr,
            "fr",
            None,
            None,
        )
        .await;
    let child = timeline
        .as_array()
        .unwrap()
        .iter()
        .find_map(|e| (e["event"]["event"] == "split-off").then(|| e["event"]["child"].clone()))
        .unwrap();
    assert_ne!(child.as_str(), Some(existing.as_str()));
    // The other request is untouched, and the child is a request of its own.
    let (_, _, untouched) = api.get(&format!("/v1/requests/{existing}"), &api.dk).await;
    assert_eq!(untouched["id"].as_str(), Some(existing.as_str()));
    assert_eq!(untouched["stage"], "accepted", "{untouched}");
    // Leaving the id out works as well.
    let (status, _, _) = api
        .call(
            Method::POST,
            &format!("/v1/requests/{existing}/commands"),
            &api.fr,
            "fr",
            Some(json!({ "command": "split", "to": other.id().to_string(), "questions": ["registered"] })),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

/// A raw call: status, headers and body bytes.
async fn raw(
    api: &common::Api,
    method: Method,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let mut req = axum::http::Request::builder().method(method).uri(path);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    for (n, v) in headers {
        req = req.header(*n, *v);
    }
    let response = api
        .app
        .clone()
        .oneshot(req.body(axum::body::Body::from(body)).unwrap())
        .await
        .unwrap();
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes().to_vec();
    (parts.status, parts.headers, bytes)
}

/// Finding 10: every error is a problem document (also a path that does not decode),
/// every response carries `nosniff` and the other security headers, attachments are
/// served with their bare media type, and `If-Match: *` and weak tags are understood.
#[tokio::test]
async fn errors_headers_media_types_and_preconditions() {
    let api = setup().await;
    for (path, token) in [
        ("/v1/requests/%ZZ", Some(api.dk.as_str())),
        ("/v1/users/%C3%28", Some(api.dk.as_str())),
        ("/v1/nothing-here", Some(api.dk.as_str())),
        ("/v1/me", None),
        ("/healthz", None),
    ] {
        let (status, headers, body) = raw(&api, Method::GET, path, token, &[], vec![]).await;
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert!(headers.contains_key("content-security-policy"), "{path}");
        if !status.is_success() {
            assert_eq!(
                headers["content-type"],
                "application/problem+json",
                "{path}: {status} {}",
                String::from_utf8_lossy(&body)
            );
            let p: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(p["status"], status.as_u16());
        }
    }
    let (status, headers, _) = raw(&api, Method::DELETE, "/healthz", None, &[], vec![]).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(headers["content-type"], "application/problem+json");
    let (_, headers, _) = raw(&api, Method::GET, "/v1/me", Some(&api.dk), &[], vec![]).await;
    assert_eq!(headers["cache-control"], "no-store");

    // An attachment uploaded as `text/plain; charset=utf-7` is served as `text/plain`.
    let (_, _, draft) = api
        .post("/v1/requests", &api.dk, json!({ "procedure": "diploma" }))
        .await;
    let id = draft["id"].as_str().unwrap();
    let (status, _, body) = raw(
        &api,
        Method::POST,
        &format!("/v1/requests/{id}/attachments?name=note.txt"),
        Some(&api.dk),
        &[("content-type", "text/plain; charset=utf-7")],
        b"+ADw-script+AD4-alert(1)+ADw-/script+AD4-".to_vec(),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&body)
    );
    let attachment: Value = serde_json::from_slice(&body).unwrap();
    let (status, headers, _) = raw(
        &api,
        Method::GET,
        &format!("/v1/attachments/{}", attachment["id"].as_str().unwrap()),
        Some(&api.dk),
        &[],
        vec![],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "text/plain");
    assert_eq!(headers["x-content-type-options"], "nosniff");

    // If-Match: `*` matches any version; weak and foreign tags never match (412, not 400).
    let commands = format!("/v1/requests/{id}/commands");
    let save = json!({ "command": "save-draft", "answers": { "holder": { "type": "text", "value": "A" } } });
    for (tag, expected) in [
        ("*", StatusCode::OK),
        ("W/\"v1\"", StatusCode::PRECONDITION_FAILED),
        ("\"abc\"", StatusCode::PRECONDITION_FAILED),
        ("\"v1\", \"v2\"", StatusCode::PRECONDITION_FAILED),
    ] {
        let (status, _, p) = api.post_if(&commands, &api.dk, save.clone(), tag).await;
        assert_eq!(status, expected, "{tag}: {p}");
    }
    // A list holding the current version matches.
    let (_, etag, _) = api.get(&format!("/v1/requests/{id}"), &api.dk).await;
    let list = format!("\"v1\", {}", etag.unwrap());
    let (status, _, p) = api.post_if(&commands, &api.dk, save, &list).await;
    assert_eq!(status, StatusCode::OK, "{p}");
}

/// A store whose disk is gone: every call fails as a backend does.
#[derive(Debug)]
struct DeadStore;

#[async_trait::async_trait]
impl imi_core::store::Store for DeadStore {
    async fn get(
        &self,
        _: &[u8],
    ) -> Result<Option<imi_core::store::Versioned>, imi_core::store::StoreError> {
        Err(dead())
    }
    async fn scan(
        &self,
        _: &imi_core::store::Scan,
    ) -> Result<imi_core::store::ScanPage, imi_core::store::StoreError> {
        Err(dead())
    }
    async fn commit(
        &self,
        _: imi_core::store::WriteBatch,
    ) -> Result<imi_core::store::Version, imi_core::store::StoreError> {
        Err(dead())
    }
}

fn dead() -> imi_core::store::StoreError {
    imi_core::store::StoreError::Backend {
        message: "disk unplugged".into(),
        source: None,
    }
}

/// Finding 12: `/readyz` says 503 (not ready, try later) when the store fails, never 500,
/// and shows no internals.
#[tokio::test]
async fn readiness_is_503_when_the_store_fails() {
    let engine = std::sync::Arc::new(imi_core::Engine::new(
        std::sync::Arc::new(DeadStore),
        std::sync::Arc::new(imi_core::ManualClock::new(
            "2026-11-22T09:00:00Z".parse().unwrap(),
        )),
    ));
    let api = common::Api::over(engine);
    let (status, headers, body) = raw(&api, Method::GET, "/readyz", None, &[], vec![]).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(headers["content-type"], "application/problem+json");
    assert!(!String::from_utf8_lossy(&body).contains("disk"));
    let (status, _, _) = raw(&api, Method::GET, "/healthz", None, &[], vec![]).await;
    assert_eq!(status, StatusCode::OK, "alive, though not ready");
}

/// Need-to-know for files: the responder opens the files the sent request refers to,
/// never one the requester uploaded while drafting and dropped before sending.
#[tokio::test]
async fn the_other_side_opens_only_the_files_that_were_sent() {
    let api = setup().await;
    publish_version_2(
        &api,
        "[[group.question]]\nid = \"copy\"\ntype = \"attachment\"\nmax_files = 2\npersonal_data = true\n[group.question.label]\nen = \"Copy of the diploma\"\n",
    );
    let (_, _, draft) = api
        .post("/v1/requests", &api.dk, json!({ "procedure": "diploma" }))
        .await;
    let id = draft["id"].as_str().unwrap().to_owned();
    let upload = |name: &'static str| {
        let api = &api;
        let id = id.clone();
        async move {
            let (status, _, body) = raw(
                api,
                Method::POST,
                &format!("/v1/requests/{id}/attachments?name={name}"),
                Some(&api.dk),
                &[("content-type", "text/plain")],
                name.as_bytes().to_vec(),
            )
            .await;
            assert_eq!(status, StatusCode::CREATED);
            let v: Value = serde_json::from_slice(&body).unwrap();
            v["id"].as_str().unwrap().to_owned()
        }
    };
    let wrong = upload("another-persons-diploma.txt").await;
    let right = upload("diploma.txt").await;
    let commands = format!("/v1/requests/{id}/commands");
    for body in [
        json!({ "command": "save-draft", "answers": {
            "holder": { "type": "text", "value": "A B" },
            "profession": { "type": "choice", "value": "nurse" },
            "copy": { "type": "attachments", "value": [wrong] } } }),
        json!({ "command": "save-draft", "answers": {
            "holder": { "type": "text", "value": "A B" },
            "profession": { "type": "choice", "value": "nurse" },
            "copy": { "type": "attachments", "value": [right] } } }),
        json!({ "command": "send", "recipient": api.fr_authority, "needed_by": "2026-12-15" }),
    ] {
        let (status, _, v) = api.post(&commands, &api.dk, body).await;
        assert_eq!(status, StatusCode::OK, "{v}");
    }
    let (status, _, v) = api
        .call(
            Method::POST,
            &commands,
            &api.fr,
            "fr",
            Some(json!({ "command": "accept", "days": 3 })),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let open = |file: &str, token: &str| {
        let path = format!("/v1/attachments/{file}");
        let token = token.to_owned();
        let api = &api;
        async move {
            raw(api, Method::GET, &path, Some(&token), &[], vec![])
                .await
                .0
        }
    };
    assert_eq!(open(&right, &api.fr).await, StatusCode::OK);
    assert_eq!(open(&wrong, &api.fr).await, StatusCode::NOT_FOUND);
    assert_eq!(
        open(&wrong, &api.dk).await,
        StatusCode::OK,
        "the requester keeps its files"
    );
}
