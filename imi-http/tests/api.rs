//! Router tests: every endpoint through `tower::ServiceExt::oneshot`, authentication,
//! languages, conflicts, and malformed inputs (each a 4xx problem, none a 500, nothing
//! changed).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should panic

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use imi_core::catalogue::{Catalogue, CatalogueSource, Right};
use imi_core::store::{Scan, Store};
use imi_core::{
    Country, Engine, Language, LocalisedText, ManualClock, access::Actor,
    authority::CoordinatorRole, authority::NewAuthority, store::MemoryStore, user::Grant,
    user::GrantScope, user::NewUser,
};
use serde_json::{Value, json};
use tower::ServiceExt;

struct Api {
    app: axum::Router,
    engine: Arc<Engine>,
    store: Arc<MemoryStore>,
    /// Administrator of Denmark's national coordinator.
    nimic: String,
    /// A clerk of a French authority, without rights.
    clerk: String,
    french: String,
}

const CATALOGUE: &[(&str, &str)] = &[
    (
        "areas/health.toml",
        "id = \"health\"\n[name]\nen = \"Health\"\nda = \"Sundhed\"\n[[procedure]]\nid = \"health-request\"\nkind = \"request\"\nquestion_set = \"qs\"\n[procedure.name]\nen = \"Health request\"\n",
    ),
    (
        "question-sets/qs.toml",
        "id = \"qs\"\nversion = 1\n[title]\nen = \"Questions\"\nfr = \"Questions (fr)\"\n[[group]]\nid = \"g\"\n[group.title]\nen = \"G\"\n[[group.question]]\nid = \"licensed\"\ntype = \"yes-no\"\nrequired = \"to-send\"\n[group.question.label]\nen = \"Licensed?\"\nfr = \"Autorisé ?\"\n",
    ),
];

async fn api() -> Api {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new("2026-11-22T09:00:00Z".parse().unwrap()));
    let engine = Arc::new(Engine::new(store.clone(), clock));
    let sources: Vec<_> = CATALOGUE
        .iter()
        .map(|(p, t)| CatalogueSource::new(*p, *t))
        .collect();
    engine
        .publish_catalogue(&Actor::System, Catalogue::load(&sources).unwrap())
        .unwrap();
    let sys = Actor::System;
    let mut dk = NewAuthority::new(
        Country::Denmark,
        LocalisedText::from_pairs([
            (Language::Danish, "Erhvervsstyrelsen"),
            (Language::English, "Danish Business Authority"),
        ])
        .unwrap(),
    );
    dk.competences = vec![imi_core::authority::Competence {
        area: "health".parse().unwrap(),
        keywords: vec![],
    }];
    let dk = engine.register_authority(&sys, dk).await.unwrap();
    engine
        .appoint_coordinator(&sys, dk.id(), Some(CoordinatorRole::National))
        .await
        .unwrap();
    let admin = engine
        .create_user(
            &sys,
            dk.id(),
            NewUser {
                name: "Mette".into(),
                email: "mette@erst.dk".parse().unwrap(),
                language: Language::Danish,
            },
        )
        .await
        .unwrap();
    engine
        .set_grants(
            &sys,
            admin.id(),
            vec![Grant::new(Right::Administrator, GrantScope::Everything)],
        )
        .await
        .unwrap();
    let nimic = engine
        .issue_token(&sys, admin.id())
        .await
        .unwrap()
        .expose()
        .to_owned();
    let fr = engine
        .register_authority(
            &sys,
            NewAuthority::new(
                Country::France,
                LocalisedText::new(Language::French, "Ordre national des infirmiers").unwrap(),
            ),
        )
        .await
        .unwrap();
    let clerk = engine
        .create_user(
            &sys,
            fr.id(),
            NewUser {
                name: "Jean".into(),
                email: "jean@oni.fr".parse().unwrap(),
                language: Language::French,
            },
        )
        .await
        .unwrap();
    let clerk = engine
        .issue_token(&sys, clerk.id())
        .await
        .unwrap()
        .expose()
        .to_owned();
    let app = imi_http::router(Arc::clone(&engine), imi_http::HttpConfig::default());
    Api {
        app,
        engine,
        store,
        nimic,
        clerk,
        french: fr.id().to_string(),
    }
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    json: Value,
}

impl Api {
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        extra: &[(&str, &str)],
    ) -> Reply {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        let req = match body {
            Some(b) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        }
        .unwrap();
        self.raw(req).await
    }

    async fn raw(&self, req: Request<Body>) -> Reply {
        let response = self.app.clone().oneshot(req).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let json = serde_json::from_slice(&bytes)
            .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Reply {
            status,
            headers,
            json,
        }
    }

    async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None, &[]).await
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(token), Some(body), &[])
            .await
    }

    async fn keys(&self) -> usize {
        self.store
            .scan(&Scan::all(100_000))
            .await
            .unwrap()
            .entries
            .len()
    }
}

fn new_authority(name: &str) -> Value {
    json!({ "participant": "DK", "name": { "source": "da", "texts": { "da": name } }, "competences": [{ "area": "health", "keywords": ["sygepleje"] }] })
}

#[tokio::test]
async fn meta_endpoints() {
    let api = api().await;
    let r = api.call(Method::GET, "/healthz", None, None, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers.contains_key("x-request-id"));
    assert_eq!(
        api.call(Method::GET, "/readyz", None, None, &[])
            .await
            .status,
        StatusCode::OK
    );
    let langs = api
        .call(Method::GET, "/v1/languages", None, None, &[])
        .await
        .json;
    assert_eq!(langs.as_array().unwrap().len(), 26);
    let countries = api
        .call(Method::GET, "/v1/countries", None, None, &[])
        .await
        .json;
    assert_eq!(countries.as_array().unwrap().len(), 31);
    assert!(
        countries
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["code"] == "EL")
    );
}

#[tokio::test]
async fn catalogue_in_the_readers_language() {
    let api = api().await;
    let r = api
        .call(
            Method::GET,
            "/v1/catalogue/question-sets/qs",
            Some(&api.clerk),
            None,
            &[("accept-language", "fr-BE, en;q=0.5")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers[header::CONTENT_LANGUAGE], "fr");
    assert_eq!(
        r.json["groups"][0]["questions"][0]["label"],
        json!({"text": "Autorisé ?", "language": "fr", "fallback": false})
    );
    assert_eq!(
        r.json["groups"][0]["title"],
        json!({"text": "G", "language": "en", "fallback": false}),
        "English was accepted too"
    );
    let r = api
        .call(
            Method::GET,
            "/v1/catalogue/question-sets/qs",
            Some(&api.clerk),
            None,
            &[("accept-language", "fr")],
        )
        .await;
    assert_eq!(
        r.json["groups"][0]["title"]["fallback"], true,
        "untranslated text is labelled"
    );
    let r = api
        .call(
            Method::GET,
            "/v1/catalogue/areas",
            Some(&api.clerk),
            None,
            &[("accept-language", "da")],
        )
        .await;
    assert_eq!(r.json[0]["name"]["text"], "Sundhed");
    assert_eq!(
        api.get("/v1/catalogue/procedures", &api.clerk).await.json[0]["kind"],
        "request"
    );
    assert_eq!(
        api.get("/v1/catalogue/question-sets/qs/versions/1", &api.clerk)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        api.get("/v1/catalogue/question-sets/qs/versions/2", &api.clerk)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let coverage = api.get("/v1/catalogue/coverage", &api.clerk).await.json;
    assert_eq!(coverage.as_array().unwrap().len(), 26);
}

#[tokio::test]
async fn authorities_users_tokens_end_to_end() {
    let api = api().await;
    // Register, read with an ETag, update with If-Match.
    let r = api
        .post(
            "/v1/authorities",
            &api.nimic,
            new_authority("Styrelsen for Patientsikkerhed"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let id = r.json["id"].as_str().unwrap().to_owned();
    let r = api.get(&format!("/v1/authorities/{id}"), &api.nimic).await;
    let etag = r.headers[header::ETAG].to_str().unwrap().to_owned();
    let patch = json!({ "languages": ["da", "en"] });
    let r = api
        .call(
            Method::PATCH,
            &format!("/v1/authorities/{id}"),
            Some(&api.nimic),
            Some(patch.clone()),
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_ne!(r.headers[header::ETAG].to_str().unwrap(), etag);
    let stale = api
        .call(
            Method::PATCH,
            &format!("/v1/authorities/{id}"),
            Some(&api.nimic),
            Some(patch),
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(
        (stale.status, stale.json["code"].as_str()),
        (StatusCode::PRECONDITION_FAILED, Some("precondition-failed"))
    );
    // Duplicate names conflict.
    let dup = api
        .post(
            "/v1/authorities",
            &api.nimic,
            new_authority("STYRELSEN FOR PATIENTSIKKERHED"),
        )
        .await;
    assert_eq!(
        (dup.status, dup.json["code"].as_str()),
        (StatusCode::CONFLICT, Some("likely-duplicate"))
    );
    // Procedure access and recipients.
    let r = api
        .post(
            &format!("/v1/authorities/{id}/procedures"),
            &api.nimic,
            json!({ "procedure": "health-request" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let r = api
        .get(
            "/v1/recipients?procedure=health-request&country=DK",
            &api.clerk,
        )
        .await;
    assert_eq!(r.json["items"].as_array().unwrap().len(), 1);
    // Users, grants, tokens, me.
    let r = api
        .post(
            &format!("/v1/authorities/{id}/users"),
            &api.nimic,
            json!({ "name": "Lars", "email": "lars@stps.dk", "language": "da" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let user = r.json["id"].as_str().unwrap().to_owned();
    let grants = json!({ "grants": [{ "right": "request-handler", "scope": "procedure", "id": "health-request" }] });
    let r = api
        .call(
            Method::PUT,
            &format!("/v1/users/{user}/grants"),
            Some(&api.nimic),
            Some(grants),
            &[],
        )
        .await;
    assert_eq!(r.json["grants"][0]["right"], "request-handler");
    // The coordinator cannot mint Lars's token (that would be acting as him); the
    // operator gives Lars his first one.
    assert_eq!(
        api.post(&format!("/v1/users/{user}/tokens"), &api.nimic, json!(null))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let token = api
        .engine
        .issue_token(&Actor::System, user.parse().unwrap())
        .await
        .unwrap()
        .expose()
        .to_owned();
    assert_eq!(api.get("/v1/me", &token).await.json["name"], "Lars");
    assert_eq!(
        api.get(&format!("/v1/authorities/{id}/users"), &api.nimic)
            .await
            .json["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        api.get(&format!("/v1/users/{user}"), &api.nimic).await.json["email"],
        "lars@stps.dk"
    );
    assert_eq!(
        api.post(
            &format!("/v1/users/{user}/disable"),
            &api.nimic,
            json!(null)
        )
        .await
        .json["active"],
        false
    );
    assert_eq!(
        api.get("/v1/me", &token).await.status,
        StatusCode::UNAUTHORIZED,
        "disabled users are signed out"
    );
    // Coordinators: a second national coordinator conflicts.
    let r = api
        .call(
            Method::PUT,
            &format!("/v1/authorities/{id}/coordinator"),
            Some(&api.nimic),
            Some(json!({ "role": { "kind": "scoped", "regions": ["DK01"] } })),
            &[],
        )
        .await;
    assert_eq!(r.json["coordinator"]["kind"], "scoped", "{}", r.json);
    // Search, listing, deregistration.
    let r = api
        .call(
            Method::GET,
            "/v1/directory?q=patientsikker&country=DK",
            Some(&api.clerk),
            None,
            &[("accept-language", "en")],
        )
        .await;
    assert_eq!(
        r.json["items"][0]["name"],
        json!({"text": "Styrelsen for Patientsikkerhed", "language": "da", "fallback": true})
    );
    assert!(
        api.get("/v1/authorities?country=DK&limit=1", &api.clerk)
            .await
            .json["next_cursor"]
            .is_string()
    );
    let r = api
        .post(
            &format!("/v1/authorities/{id}/deregistration"),
            &api.nimic,
            json!({ "reason": "merged" }),
        )
        .await;
    assert_eq!(r.json["status"], "deregistered");
}

#[tokio::test]
async fn invitation_and_validation_over_http() {
    let api = api().await;
    let secret = api
        .post(
            "/v1/invitations",
            &api.nimic,
            json!({ "participant": "DK", "areas": ["health"] }),
        )
        .await
        .json["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = api
        .call(
            Method::POST,
            "/v1/self-registrations",
            None,
            Some(json!({ "secret": secret, "authority": new_authority("Lægeforeningen") })),
            &[],
        )
        .await;
    assert_eq!(
        (r.status, r.json["status"].as_str()),
        (StatusCode::CREATED, Some("pending-validation")),
        "{}",
        r.json
    );
    let id = r.json["id"].as_str().unwrap().to_owned();
    let again = api
        .call(
            Method::POST,
            "/v1/self-registrations",
            None,
            Some(json!({ "secret": secret, "authority": new_authority("Other") })),
            &[],
        )
        .await;
    assert_eq!(again.status, StatusCode::FORBIDDEN);
    assert_eq!(
        api.get("/v1/pending-registrations?country=DK", &api.nimic)
            .await
            .json["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let r = api
        .post(
            &format!("/v1/authorities/{id}/validation"),
            &api.nimic,
            json!({ "decision": "approve" }),
        )
        .await;
    assert_eq!(r.json["status"], "active");
}

#[tokio::test]
async fn registers_and_public_syndication() {
    let api = api().await;
    let tx = |t: &str| json!({ "source": "en", "texts": { "en": t } });
    let body = json!({ "participant": "DK", "name": tx("Register of nurses"), "content": tx("Authorised nurses"), "access_conditions": tx("Public"), "link": "https://example.dk" });
    let r = api.post("/v1/registers", &api.nimic, body.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let id = r.json["id"].as_str().unwrap().to_owned();
    assert_eq!(
        api.get("/v1/registers?q=nurses", &api.clerk).await.json["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        api.get(&format!("/v1/registers/{id}"), &api.clerk)
            .await
            .json["name"]["text"],
        "Register of nurses"
    );
    assert_eq!(
        api.post("/v1/registers", &api.clerk, body.clone())
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let r = api
        .call(
            Method::PUT,
            &format!("/v1/registers/{id}"),
            Some(&api.nimic),
            Some(body),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        api.call(
            Method::DELETE,
            &format!("/v1/registers/{id}"),
            Some(&api.nimic),
            None,
            &[]
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    // The public directory needs no account and shows no user data.
    let r = api
        .call(Method::GET, "/v1/public/authorities", None, None, &[])
        .await;
    assert_eq!(r.json["items"].as_array().unwrap().len(), 2);
    assert!(!r.json.to_string().contains("mette@"));
    let r = api
        .call(
            Method::GET,
            "/v1/public/changes?since=2026-01-01T00:00:00Z",
            None,
            None,
            &[],
        )
        .await;
    assert!(!r.json["items"].as_array().unwrap().is_empty());
    assert_eq!(
        api.call(Method::GET, "/v1/directory?q=x", None, None, &[])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn authentication_failures() {
    let api = api().await;
    let r = api.call(Method::GET, "/v1/me", None, None, &[]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.headers[header::WWW_AUTHENTICATE], "Bearer");
    assert_eq!(r.headers[header::CONTENT_TYPE], "application/problem+json");
    for bad in [
        "Basic abc",
        "Bearer",
        "Bearer nope",
        &format!("Bearer imi_{}", "0".repeat(64)),
    ] {
        let r = api
            .call(Method::GET, "/v1/me", None, None, &[("authorization", bad)])
            .await;
        assert_eq!(
            (r.status, r.json["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("unauthenticated")),
            "{bad}"
        );
    }
    let r = api
        .post("/v1/authorities", &api.clerk, new_authority("Forbidden"))
        .await;
    assert_eq!(
        (r.status, r.json["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
}

#[tokio::test]
async fn malformed_inputs_are_4xx_problems_and_change_nothing() {
    let api = api().await;
    let before = api.keys().await;
    let id = &api.french;
    let long = "x".repeat(2 * 1024 * 1024);
    let cases: Vec<Case> = vec![
        (
            Method::POST,
            "/v1/authorities".into(),
            Some(
                json!({ "participant": "XX", "name": { "source": "da", "texts": { "da": "A" } } }),
            ),
            vec![],
        ),
        (
            Method::POST,
            "/v1/authorities".into(),
            Some(
                json!({ "participant": "DK", "name": { "source": "xx", "texts": { "xx": "A" } } }),
            ),
            vec![],
        ),
        (
            Method::POST,
            "/v1/authorities".into(),
            Some(
                json!({ "participant": "DK", "name": { "source": "da", "texts": { "en": "A" } } }),
            ),
            vec![],
        ),
        (
            Method::POST,
            "/v1/authorities".into(),
            Some(
                json!({ "participant": "DK", "name": { "source": "da", "texts": { "da": "  " } } }),
            ),
            vec![],
        ),
        (
            Method::POST,
            "/v1/authorities".into(),
            Some(
                json!({ "participant": "DK", "name": { "source": "da", "texts": { "da": "A" } }, "colour": "red" }),
            ),
            vec![],
        ),
        (
            Method::POST,
            "/v1/authorities".into(),
            Some(json!({ "participant": 45, "name": "A" })),
            vec![],
        ),
        (
            Method::POST,
            "/v1/authorities".into(),
            Some(
                json!({ "participant": "DK", "name": { "source": "da", "texts": { "da": "A" } }, "region": "!!" }),
            ),
            vec![],
        ),
        (
            Method::POST,
            "/v1/authorities".into(),
            Some(
                json!({ "participant": "DK", "name": { "source": "da", "texts": { "da": "A" } }, "contact": { "email": "not-an-email" } }),
            ),
            vec![],
        ),
        (
            Method::POST,
            "/v1/authorities".into(),
            Some(
                json!({ "participant": "DK", "name": { "source": "da", "texts": { "da": "A" } }, "competences": [{ "area": "Bad Area" }] }),
            ),
            vec![],
        ),
        (
            Method::POST,
            "/v1/authorities".into(),
            Some(json!([1, 2, 3])),
            vec![],
        ),
        (
            Method::POST,
            "/v1/authorities".into(),
            None,
            vec![("content-type", "application/json")],
        ),
        (
            Method::POST,
            "/v1/authorities".into(),
            Some(
                json!({ "participant": "DK", "name": { "source": "da", "texts": { "da": long } } }),
            ),
            vec![],
        ),
        (
            Method::GET,
            "/v1/authorities/not-a-uuid".into(),
            None,
            vec![],
        ),
        (
            Method::GET,
            format!("/v1/authorities/{}", uuid_v4()),
            None,
            vec![],
        ),
        (
            Method::GET,
            "/v1/authorities?country=XX".into(),
            None,
            vec![],
        ),
        (
            Method::GET,
            "/v1/authorities?country=DK&limit=0".into(),
            None,
            vec![],
        ),
        (
            Method::GET,
            "/v1/authorities?country=DK&cursor=zz".into(),
            None,
            vec![],
        ),
        (
            Method::GET,
            "/v1/authorities?country=DK&unknown=1".into(),
            None,
            vec![],
        ),
        (
            Method::GET,
            "/v1/directory?country=DK&limit=abc".into(),
            None,
            vec![],
        ),
        (
            Method::PATCH,
            format!("/v1/authorities/{id}"),
            Some(json!({ "languages": ["klingon"] })),
            vec![],
        ),
        (
            Method::PATCH,
            format!("/v1/authorities/{id}"),
            Some(json!({ "languages": ["fr"] })),
            vec![("if-match", "garbage")],
        ),
        (
            Method::PUT,
            format!("/v1/authorities/{id}/coordinator"),
            Some(json!({ "role": { "kind": "emperor" } })),
            vec![],
        ),
        (
            Method::POST,
            format!("/v1/authorities/{id}/procedures"),
            Some(json!({ "procedure": "no-such-procedure" })),
            vec![],
        ),
        (
            Method::POST,
            format!("/v1/authorities/{id}/users"),
            Some(json!({ "name": "X", "email": "x@y.fr", "language": "xx" })),
            vec![],
        ),
        (
            Method::PUT,
            format!("/v1/users/{}/grants", uuid_v4()),
            Some(json!({ "grants": [{ "right": "king", "scope": "everything" }] })),
            vec![],
        ),
        (
            Method::POST,
            format!("/v1/authorities/{id}/validation"),
            Some(json!({ "decision": "maybe" })),
            vec![],
        ),
        (
            Method::GET,
            "/v1/public/changes?since=yesterday".into(),
            None,
            vec![],
        ),
        (
            Method::GET,
            "/v1/catalogue/question-sets/Not_A_Slug".into(),
            None,
            vec![],
        ),
        (Method::DELETE, "/v1/authorities".into(), None, vec![]),
        (Method::GET, "/v1/no-such-thing".into(), None, vec![]),
    ];
    assert!(cases.len() >= 20);
    for (method, path, body, extra) in cases {
        let with_body = body.is_some();
        let mut r = api
            .call(method.clone(), &path, Some(&api.nimic), body, &extra)
            .await;
        if !with_body && method == Method::POST {
            r = api
                .raw(
                    Request::builder()
                        .method(Method::POST)
                        .uri(&path)
                        .header("authorization", format!("Bearer {}", api.nimic))
                        .header("content-type", "application/json")
                        .body(Body::from("{not json"))
                        .unwrap(),
                )
                .await;
        }
        assert!(
            r.status.is_client_error(),
            "{method} {path}: expected 4xx, got {} {}",
            r.status,
            r.json
        );
        assert_eq!(
            r.headers[header::CONTENT_TYPE],
            "application/problem+json",
            "{method} {path}"
        );
        assert!(
            r.json["code"].is_string() && r.json["detail"].is_string(),
            "{method} {path}: {}",
            r.json
        );
    }
    assert_eq!(api.keys().await, before, "nothing was written");
    // A wrong content type is refused too.
    let r = api
        .raw(
            Request::builder()
                .method(Method::POST)
                .uri("/v1/authorities")
                .header("authorization", format!("Bearer {}", api.nimic))
                .header("content-type", "text/plain")
                .body(Body::from("hello"))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

/// A request: method, path, JSON body, extra headers.
type Case = (
    Method,
    String,
    Option<Value>,
    Vec<(&'static str, &'static str)>,
);

fn uuid_v4() -> String {
    // A UUID of the wrong version, and an unknown v7 one, are both refused as ids.
    format!("01a20302-431e-7627-b02f-{:012x}", 0x9b84_4ed8_83ccu64)
}

#[tokio::test]
async fn a_malformed_language_element_is_skipped_and_caches_vary_by_language() {
    let api = api().await;
    for header in ["??, da", "en;q=7, da;q=0.5", "da"] {
        let r = api
            .call(
                Method::GET,
                "/v1/catalogue/areas",
                Some(&api.clerk),
                None,
                &[("accept-language", header)],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{header}: {}", r.json);
        assert_eq!(r.headers[header::CONTENT_LANGUAGE], "da", "{header}");
        assert_eq!(r.headers[header::VARY], "Accept-Language");
    }
}

#[tokio::test]
async fn without_accept_language_a_user_reads_in_their_profile_language() {
    let api = api().await;
    // Jean's profile is French; Mette's (the administrator) Danish.
    let r = api
        .call(
            Method::GET,
            "/v1/catalogue/areas",
            Some(&api.clerk),
            None,
            &[],
        )
        .await;
    assert_eq!(r.headers[header::CONTENT_LANGUAGE], "fr");
    let asked = api
        .call(
            Method::GET,
            "/v1/catalogue/areas",
            Some(&api.clerk),
            None,
            &[("accept-language", "da")],
        )
        .await;
    assert_eq!(
        asked.headers[header::CONTENT_LANGUAGE],
        "da",
        "the header wins"
    );
}

#[tokio::test]
async fn answers_are_compressed_for_clients_that_accept_it() {
    let api = api().await;
    let gzip = api
        .raw(
            Request::builder()
                .uri("/openapi.json")
                .header("accept-encoding", "gzip")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(gzip.status, StatusCode::OK);
    assert_eq!(gzip.headers[header::CONTENT_ENCODING], "gzip");
    let plain = api
        .raw(
            Request::builder()
                .uri("/openapi.json")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(plain.headers.get(header::CONTENT_ENCODING).is_none());
    assert!(plain.json["openapi"].is_string());
}

#[tokio::test]
async fn a_conditional_read_of_an_unchanged_authority_is_304() {
    let api = api().await;
    let list = api
        .call(
            Method::GET,
            "/v1/authorities?country=DK",
            Some(&api.clerk),
            None,
            &[],
        )
        .await;
    let id = list.json["items"][0]["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/authorities/{id}");
    let first = api
        .call(Method::GET, &path, Some(&api.clerk), None, &[])
        .await;
    assert_eq!(first.status, StatusCode::OK);
    let etag = first.headers[header::ETAG].to_str().unwrap().to_owned();
    let again = api
        .call(
            Method::GET,
            &path,
            Some(&api.clerk),
            None,
            &[("if-none-match", &etag)],
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers[header::ETAG], etag.as_str());
    let other = api
        .call(
            Method::GET,
            &path,
            Some(&api.clerk),
            None,
            &[("if-none-match", "\"1\"")],
        )
        .await;
    assert_eq!(other.status, StatusCode::OK);
}

#[test]
fn the_openapi_document_is_fit_for_client_generators() {
    let doc = serde_json::to_value(imi_http::openapi()).unwrap();
    let mut ids = std::collections::HashSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap_or_default().to_owned();
            assert!(!id.is_empty(), "{method} {path} has no operation id");
            assert!(
                ids.insert(id.clone()),
                "operation id {id} repeats ({method} {path})"
            );
            // Problems are documented as what the server sends.
            for (status, response) in op["responses"].as_object().unwrap() {
                if let Some(content) = response["content"].as_object() {
                    for (media, c) in content {
                        if c.pointer("/schema/$ref")
                            .and_then(Value::as_str)
                            .is_some_and(|r| r.ends_with("/Problem"))
                        {
                            assert_eq!(
                                media, "application/problem+json",
                                "{method} {path} {status}"
                            );
                        }
                    }
                }
            }
            let public = path.starts_with("/v1/public/") || path == "/healthz" || path == "/readyz";
            assert_eq!(
                op.get("security") == Some(&json!([])),
                public,
                "{method} {path}: public operations need no token, others do"
            );
        }
    }
}

#[tokio::test]
async fn every_route_is_in_the_openapi_document() {
    let api = api().await;
    let doc = api
        .call(Method::GET, "/openapi.json", None, None, &[])
        .await
        .json;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 25, "{} paths", paths.len());
    let generated = imi_http::openapi();
    assert_eq!(generated.paths.paths.len(), paths.len());
    // Every documented operation is routed (never 404/405 from the router itself).
    for (path, item) in paths {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_none() {
                continue;
            }
            let concrete = path
                .replace("{id}", "01a20302-431e-7627-b02f-9b844ed883cc")
                .replace("{version}", "1");
            let r = api
                .call(
                    method.to_uppercase().parse().unwrap(),
                    &concrete,
                    Some(&api.nimic),
                    Some(json!({})),
                    &[],
                )
                .await;
            let routed = !(r.json["code"] == "method-not-allowed"
                || (r.status == StatusCode::NOT_FOUND
                    && r.json["detail"] == "there is nothing at this address"));
            assert!(routed, "{method} {path} is documented but not routed");
        }
    }
}
