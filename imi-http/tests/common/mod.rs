//! Test fixtures shared by the HTTP tests: a Danish and a French authority, one
//! request handler each, over an in-memory engine, built with the one world builder
//! (`imi_core::conformance::WorldBuilder`).

#![allow(dead_code)] // each test file uses its own part of the fixtures

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use imi_core::catalogue::Right;
use imi_core::conformance::{Member, WorldBuilder};
use imi_core::{Country, Engine, Language, ManualClock, access::Actor, store::MemoryStore};
use serde_json::Value;
use tower::ServiceExt;

pub(crate) const AREA: &str = "id = \"pq\"\n[name]\nen = \"Qualifications\"\n[[procedure]]\nid = \"diploma\"\nkind = \"request\"\nquestion_set = \"diploma\"\n[procedure.name]\nen = \"Diploma check\"\n";
pub(crate) const SET: &str = r#"
id = "diploma"
version = 1
[title]
en = "Diploma check"
da = "Kontrol af eksamensbevis"
fr = "Vérification d'un diplôme"
[[group]]
id = "g"
[group.title]
en = "Holder"
[[group.question]]
id = "holder"
type = "free-text"
required = "to-send"
personal_data = true
[group.question.label]
en = "Name of the holder"
da = "Indehaverens navn"
fr = "Nom du titulaire"
[[group.question]]
id = "profession"
type = "single-choice"
required = "to-send"
[group.question.label]
en = "Profession"
da = "Erhverv"
fr = "Profession"
[[group.question.option]]
id = "nurse"
[group.question.option.label]
en = "Nurse"
da = "Sygeplejerske"
fr = "Infirmier"
[[group.question.option]]
id = "doctor"
[group.question.option.label]
en = "Doctor"
da = "Læge"
fr = "Médecin"
[[group.question]]
id = "authentic"
type = "yes-no"
required = "to-send"
answered_by = "responder"
[group.question.label]
en = "Is the diploma authentic?"
da = "Er eksamensbeviset ægte?"
fr = "Le diplôme est-il authentique ?"
"#;

pub(crate) struct Api {
    pub(crate) app: axum::Router,
    pub(crate) engine: Arc<Engine>,
    /// The engine's clock (absent for [`Api::over`]).
    pub(crate) clock: Option<Arc<ManualClock>>,
    pub(crate) dk: String,
    pub(crate) fr: String,
    pub(crate) fr_authority: String,
}

pub(crate) async fn setup() -> Api {
    let w = WorldBuilder::new(Arc::new(MemoryStore::new()))
        .with_secret_key([7; 32])
        .catalogue(&[("areas/pq.toml", AREA), ("question-sets/diploma.toml", SET)]);
    let mut tokens = Vec::new();
    let mut ids = Vec::new();
    for (country, name, user, language) in [
        (
            Country::Denmark,
            "Styrelsen for Patientsikkerhed",
            "Lars",
            Language::Danish,
        ),
        (
            Country::France,
            "Ordre national des infirmiers",
            "Julie",
            Language::French,
        ),
    ] {
        let (actor, authority) = w
            .member(
                Member::new(country.into(), name, "pq", "diploma", Right::RequestHandler)
                    .user(user, language),
            )
            .await;
        tokens.push(token(&w.engine, &actor).await);
        ids.push(authority.to_string());
    }
    let WorldBuilder { engine, clock } = w;
    let engine = Arc::new(engine);
    Api {
        app: imi_http::router(Arc::clone(&engine), imi_http::HttpConfig::default()),
        engine,
        clock: Some(clock),
        dk: tokens[0].clone(),
        fr: tokens[1].clone(),
        fr_authority: ids[1].clone(),
    }
}

impl Api {
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        language: &str,
        body: Option<Value>,
        if_match: Option<&str>,
    ) -> (StatusCode, Option<String>, Value) {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::ACCEPT_LANGUAGE, language);
        if let Some(m) = if_match {
            req = req.header(header::IF_MATCH, m);
        }
        let req = match body {
            Some(b) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        }
        .unwrap();
        let response = self.app.clone().oneshot(req).await.unwrap();
        let status = response.status();
        let etag = response
            .headers()
            .get(header::ETAG)
            .map(|v| v.to_str().unwrap().to_owned());
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            etag,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }
}

/// A bearer token for a user actor.
pub(crate) async fn token(engine: &Engine, actor: &Actor) -> String {
    let Actor::User(p) = actor else {
        panic!("a user");
    };
    engine
        .issue_token(&Actor::System, p.user())
        .await
        .unwrap()
        .expose()
        .to_owned()
}

impl Api {
    /// An API over `engine`; the fixture's own tokens are left empty.
    pub(crate) fn over(engine: Arc<Engine>) -> Self {
        Self {
            app: imi_http::router(Arc::clone(&engine), imi_http::HttpConfig::default()),
            engine,
            clock: None,
            dk: String::new(),
            fr: String::new(),
            fr_authority: String::new(),
        }
    }
}

impl Api {
    /// [`Api::call`] in English, with owned arguments, for tests that call it often.
    pub(crate) fn en(
        &self,
        method: Method,
        path: String,
        token: &str,
        body: Option<Value>,
        if_match: Option<&str>,
    ) -> impl Future<Output = (StatusCode, Option<String>, Value)> + '_ {
        let token = token.to_owned();
        let if_match = if_match.map(str::to_owned);
        async move {
            self.call(method, &path, &token, "en", body, if_match.as_deref())
                .await
        }
    }

    /// GET in English: status, ETag and JSON body.
    pub(crate) async fn get(
        &self,
        path: impl AsRef<str>,
        token: &str,
    ) -> (StatusCode, Option<String>, Value) {
        self.call(Method::GET, path.as_ref(), token, "en", None, None)
            .await
    }

    /// DELETE in English.
    pub(crate) async fn delete(
        &self,
        path: impl AsRef<str>,
        token: &str,
    ) -> (StatusCode, Option<String>, Value) {
        self.call(Method::DELETE, path.as_ref(), token, "en", None, None)
            .await
    }

    /// POST of a JSON body in English.
    pub(crate) async fn post(
        &self,
        path: impl AsRef<str>,
        token: &str,
        body: Value,
    ) -> (StatusCode, Option<String>, Value) {
        self.call(Method::POST, path.as_ref(), token, "en", Some(body), None)
            .await
    }

    /// POST of a JSON body in English, `If-Match: etag`.
    pub(crate) async fn post_if(
        &self,
        path: impl AsRef<str>,
        token: &str,
        body: Value,
        etag: &str,
    ) -> (StatusCode, Option<String>, Value) {
        self.call(
            Method::POST,
            path.as_ref(),
            token,
            "en",
            Some(body),
            Some(etag),
        )
        .await
    }

    /// PUT of a JSON body in English.
    pub(crate) async fn put(
        &self,
        path: impl AsRef<str>,
        token: &str,
        body: Value,
    ) -> (StatusCode, Option<String>, Value) {
        self.call(Method::PUT, path.as_ref(), token, "en", Some(body), None)
            .await
    }

    /// A signed-in GET whose body is not JSON: status, content type and text.
    pub(crate) async fn raw(
        &self,
        method: Method,
        path: &str,
        token: &str,
    ) -> (StatusCode, String, String) {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let response = self.app.clone().oneshot(req).await.unwrap();
        let status = response.status();
        let kind = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, kind, String::from_utf8_lossy(&bytes).into_owned())
    }
}
