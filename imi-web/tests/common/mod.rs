//! The world the web application's tests share: Danish, French and Italian authorities
//! with one request handler each, and a request from Denmark to France about a nurse.

#![allow(dead_code)] // each test file uses its own part

use std::sync::Arc;

use imi_core::access::Actor;
use imi_core::catalogue::Right;
use imi_core::conformance::{Member, REQUEST_AREA, REQUEST_QS, WorldBuilder, nurse_draft};
use imi_core::request::RequestCommand as C;
use imi_core::store::MemoryStore;
use imi_core::{CaseId, Country, Engine, ManualClock};

/// The world, signed-in tokens and the sent request.
pub(crate) struct World {
    pub(crate) engine: Arc<Engine>,
    pub(crate) clock: Arc<ManualClock>,
    /// Tokens of the DK requester, the FR responder and the IT stranger.
    pub(crate) tokens: Vec<String>,
    /// The request, sent from DK to FR, asking for an answer by 2027-01-31.
    pub(crate) case: CaseId,
    /// The DK, FR and IT authorities.
    pub(crate) ids: Vec<imi_core::AuthorityId>,
}

pub(crate) async fn token(engine: &Engine, actor: &Actor) -> String {
    let Actor::User(p) = actor else {
        panic!("a user")
    };
    engine
        .issue_token(&Actor::System, p.user())
        .await
        .unwrap()
        .expose()
        .to_owned()
}

/// Builds the world; `names` are the three authorities' names, `holder` the name in the
/// request (both may hold markup a page must show as text).
pub(crate) async fn world(names: [&str; 3], holder: &str) -> World {
    world_with(names, holder, REQUEST_QS, None).await
}

/// [`world`] with the nurse-check question set `qs` and, if given, a translator.
pub(crate) async fn world_with(
    names: [&str; 3],
    holder: &str,
    qs: &str,
    translator: Option<Arc<dyn imi_core::translate::Translator>>,
) -> World {
    let w = WorldBuilder::new(Arc::new(MemoryStore::new()))
        .catalogue(&[("areas/h.toml", REQUEST_AREA), ("question-sets/q.toml", qs)]);
    let mut actors = Vec::new();
    let mut ids = Vec::new();
    for (country, name) in [Country::Denmark, Country::France, Country::Italy]
        .into_iter()
        .zip(names)
    {
        let member = Member::new(
            country.into(),
            name,
            "health",
            "nurse-check",
            Right::RequestHandler,
        );
        let (actor, id) = w.member(member).await;
        actors.push(actor);
        ids.push(id);
    }
    let case = nurse_draft(&w.engine, &actors[0], "nurse-check", holder, "nurse").await;
    let send = C::Send {
        recipient: ids[1],
        needed_by: "2027-01-31".parse().unwrap(),
    };
    w.engine
        .act_on_request(&actors[0], case, send, None)
        .await
        .unwrap();
    let mut tokens = Vec::new();
    for a in &actors {
        tokens.push(token(&w.engine, a).await);
    }
    let WorldBuilder { engine, clock } = w;
    let engine = match translator {
        Some(t) => engine.with_translator(t),
        None => engine,
    };
    World {
        engine: Arc::new(engine),
        clock,
        tokens,
        case,
        ids,
    }
}

/// Makes Denmark's authority its national coordinator with an administrator, and has an
/// invited authority (Sundhedsstyrelsen) register itself: the administrator's token and
/// the waiting authority.
pub(crate) async fn coordinator(
    engine: &Engine,
    dk: imi_core::AuthorityId,
) -> (String, imi_core::AuthorityId) {
    use imi_core::user::{Grant, GrantScope, NewUser};
    let sys = Actor::System;
    engine
        .appoint_coordinator(
            &sys,
            dk,
            Some(imi_core::authority::CoordinatorRole::National),
        )
        .await
        .unwrap();
    let new_user = NewUser {
        name: "Hanne".into(),
        email: "hanne@example.dk".parse().unwrap(),
        language: imi_core::Language::Danish,
    };
    let admin = engine.create_user(&sys, dk, new_user).await.unwrap();
    engine
        .set_grants(
            &sys,
            admin.id(),
            vec![Grant::new(Right::Administrator, GrantScope::Everything)],
        )
        .await
        .unwrap();
    let admin_actor = engine.actor_for(admin.id()).await.unwrap();
    let invitation = imi_core::Invitation {
        participant: Country::Denmark.into(),
        region: None,
        areas: ["health".parse().unwrap()].into_iter().collect(),
    };
    let secret = engine
        .invite_authority(&admin_actor, invitation)
        .await
        .unwrap();
    let mut new = imi_core::authority::NewAuthority::new(
        Country::Denmark,
        imi_core::LocalisedText::new(imi_core::Language::Danish, "Sundhedsstyrelsen").unwrap(),
    );
    new.competences = vec![imi_core::authority::Competence {
        area: "health".parse().unwrap(),
        keywords: vec![],
    }];
    new.confirmed_not_duplicate = true;
    let pending = engine.self_register(&secret, new).await.unwrap();
    (token(engine, &admin_actor).await, pending.id())
}

// ---- A browser's view of the router ----

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: axum::http::HeaderMap,
    pub(crate) body: String,
}

impl Answer {
    pub(crate) fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap())
            .unwrap_or_default()
    }

    /// The `name=value` of a cookie the answer sets.
    pub(crate) fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(|v| v.split(';').next().unwrap().to_owned())
    }

    pub(crate) fn set_cookie_line(&self, name: &str) -> String {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|v| v.starts_with(&format!("{name}=")))
            .unwrap_or_default()
    }

    /// The value of the first hidden `csrf` field.
    pub(crate) fn csrf(&self) -> String {
        let at = self.body.find("name=\"csrf\" value=\"").expect("a form") + 19;
        self.body[at..].split('"').next().unwrap().to_owned()
    }
}

/// The web application's router, used as a browser would.
pub(crate) struct Client {
    pub(crate) app: axum::Router,
}

impl Client {
    pub(crate) async fn send(&self, req: Request<Body>) -> Answer {
        let response = self.app.clone().oneshot(req).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub(crate) async fn get(&self, path: &str, cookies: &[&str], language: &str) -> Answer {
        let mut req = Request::get(path).header(header::ACCEPT_LANGUAGE, language);
        if !cookies.is_empty() {
            req = req.header(header::COOKIE, cookies.join("; "));
        }
        self.send(req.body(Body::empty()).unwrap()).await
    }

    pub(crate) async fn post(&self, path: &str, cookies: &[&str], form: &[(&str, &str)]) -> Answer {
        let body = form
            .iter()
            .map(|(k, v)| format!("{k}={}", v.replace('+', "%2B")))
            .collect::<Vec<_>>()
            .join("&");
        let mut req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT_LANGUAGE, "en");
        if !cookies.is_empty() {
            req = req.header(header::COOKIE, cookies.join("; "));
        }
        self.send(req.body(Body::from(body)).unwrap()).await
    }

    /// An empty form post with the reader's `language`.
    pub(crate) async fn post_as(&self, path: &str, language: &str) -> Answer {
        let req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT_LANGUAGE, language);
        self.send(req.body(Body::empty()).unwrap()).await
    }

    /// A `multipart/form-data` post: `fields`, then `files` as (field, file name, media
    /// type, content).
    pub(crate) async fn post_multipart(
        &self,
        path: &str,
        cookies: &[&str],
        fields: &[(&str, &str)],
        files: &[(&str, &str, &str, &[u8])],
    ) -> Answer {
        const BOUNDARY: &str = "imi-test-boundary-7d1f";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend(
                format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        for (name, file, media, content) in files {
            body.extend(
                format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: {media}\r\n\r\n")
                    .as_bytes(),
            );
            body.extend(*content);
            body.extend(b"\r\n");
        }
        body.extend(format!("--{BOUNDARY}--\r\n").as_bytes());
        let mut req = Request::post(path)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .header(header::ACCEPT_LANGUAGE, "en");
        if !cookies.is_empty() {
            req = req.header(header::COOKIE, cookies.join("; "));
        }
        self.send(req.body(Body::from(body)).unwrap()).await
    }

    /// Signs in with `token`: the session cookie.
    pub(crate) async fn sign_in_with(&self, token: &str) -> String {
        let form = self.get("/sign-in", &[], "en").await;
        let nonce = form.cookie("imi_signin").unwrap();
        let done = self
            .post(
                "/sign-in",
                &[&nonce],
                &[("token", token), ("csrf", &form.csrf())],
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        assert_eq!(done.location(), "/");
        done.cookie("imi_session").unwrap()
    }
}

pub(crate) fn version_in(body: &str, action: &str) -> String {
    hidden_in(body, action, "version")
}

pub(crate) fn first_option(body: &str, name: &str) -> String {
    let at = body
        .find(&format!("name=\"{name}\""))
        .unwrap_or_else(|| panic!("no {name}"));
    let rest = &body[at..];
    let v = rest.find("<option value=\"").unwrap() + 15;
    rest[v..].split('"').next().unwrap().to_owned()
}

/// The value of the hidden field `name` in the form posting to `action`.
pub(crate) fn hidden_in(body: &str, action: &str, name: &str) -> String {
    let at = body
        .find(&format!("action=\"{action}\""))
        .unwrap_or_else(|| panic!("no form for {action}"));
    let rest = &body[at..];
    let v = rest.find(&format!("name=\"{name}\" value=\"")).unwrap() + name.len() + 15;
    rest[v..].split('"').next().unwrap().to_owned()
}
