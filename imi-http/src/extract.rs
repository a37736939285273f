//! Extractors: who calls, in which language they read, and bodies and queries whose
//! rejections are problem documents.

use std::sync::Arc;

use async_trait::async_trait;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::header;
use axum::http::request::Parts;
use imi_core::{
    Engine, EngineError, Language, LanguagePreferences, access::Actor, user::SecretToken,
};
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::problem::Problem;

/// Turns a request's credentials into an [`Actor`]. Plug in your own (e.g. an EU Login /
/// OIDC verifier that maps a person to a user with [`Engine::actor_for`]).
#[async_trait]
pub trait Authenticator: Send + Sync {
    /// The actor for these request parts: `Ok(None)` when the request carries no
    /// credentials, an error when it carries bad ones.
    async fn authenticate(&self, engine: &Engine, parts: &Parts) -> Result<Option<Actor>, Problem>;
}

/// The default: `Authorization: Bearer imi_…` API tokens, stored hashed by the engine.
#[derive(Debug, Clone, Copy, Default)]
pub struct BearerTokens;

#[async_trait]
impl Authenticator for BearerTokens {
    async fn authenticate(&self, engine: &Engine, parts: &Parts) -> Result<Option<Actor>, Problem> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Ok(None);
        };
        let bad = || {
            Problem::unauthenticated("expected `Authorization: Bearer <token>` with a valid token")
        };
        let text = value.to_str().map_err(|_| bad())?;
        let token = text.strip_prefix("Bearer ").ok_or_else(bad)?;
        let token: SecretToken = token.trim().parse().map_err(|_| bad())?;
        match engine.authenticate(&token).await {
            Ok(actor) => Ok(Some(actor)),
            Err(EngineError::Unauthenticated) => Err(bad()),
            Err(e) => Err(e.into()),
        }
    }
}

/// A caller that must be signed in.
pub struct Caller(pub Actor);

/// A caller who may be anonymous ([`Actor::Public`]).
pub struct MaybeCaller(pub Actor);

/// The signed-in user's profile language, left in the request by [`Caller`] for
/// [`Reader`] (the default when `Accept-Language` names none).
#[derive(Clone, Copy)]
struct ProfileLanguage(Language);

/// Remembers `actor`'s profile language in the request.
fn remember_language(parts: &mut Parts, actor: &Actor) {
    if let Actor::User(p) = actor {
        parts.extensions.insert(ProfileLanguage(p.language()));
    }
}

impl FromRequestParts<AppState> for MaybeCaller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let actor = state.auth.authenticate(&state.engine, parts).await?;
        let actor = actor.unwrap_or(Actor::Public);
        remember_language(parts, &actor);
        Ok(Self(actor))
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        match state.auth.authenticate(&state.engine, parts).await? {
            Some(actor) => {
                remember_language(parts, &actor);
                Ok(Self(actor))
            }
            None => Err(Problem::unauthenticated(
                "this needs `Authorization: Bearer <token>`",
            )),
        }
    }
}

/// The reader's language preferences from `Accept-Language`; when it names none, the
/// signed-in user's profile language (when the handler takes the caller first), else
/// English.
pub struct Reader(pub LanguagePreferences);

impl Reader {
    /// The language responses are labelled with: the first IMI language asked for.
    pub fn language(&self) -> Language {
        self.0.first_language().unwrap_or(Language::English)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Reader {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        // Elements that do not parse are skipped (RFC 9110 practice), not refused.
        let prefs = parts
            .headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map(LanguagePreferences::parse_accept_language_lenient)
            .unwrap_or_default();
        let fallback = parts
            .extensions
            .get::<ProfileLanguage>()
            .map_or(Language::English, |p| p.0);
        Ok(Self(if prefs.is_empty() {
            LanguagePreferences::only(fallback)
        } else {
            prefs
        }))
    }
}

/// A JSON body; every rejection (syntax, unknown field, wrong type, wrong content type,
/// too large) is a 4xx problem document.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(rejection) => {
                let status = rejection.status();
                let code = match status.as_u16() {
                    413 => "too-large",
                    415 => "unsupported-media-type",
                    _ => "bad-body",
                };
                Err(Problem::new(
                    status,
                    code,
                    "Bad request body",
                    rejection.body_text(),
                ))
            }
        }
    }
}

/// An optional JSON body: none when the request has no body at all.
impl<T: DeserializeOwned, S: Send + Sync> axum::extract::OptionalFromRequest<S> for Body<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, Problem> {
        let empty = http_body::Body::size_hint(req.body()).exact() == Some(0)
            || req
                .headers()
                .get(axum::http::header::CONTENT_LENGTH)
                .is_some_and(|v| v.as_bytes() == b"0");
        if empty {
            return Ok(None);
        }
        <Self as FromRequest<S>>::from_request(req, state)
            .await
            .map(Some)
    }
}

/// Query parameters whose rejections are problem documents.
pub struct Params<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| Self(v))
            .map_err(|e| Problem::bad_request("bad-query", e.body_text()))
    }
}

/// Parses a path segment into an id or code, as a 400 problem when it does not parse.
pub fn parse<T: std::str::FromStr>(what: &'static str, text: &str) -> Result<T, Problem>
where
    T::Err: std::fmt::Display,
{
    text.parse()
        .map_err(|e: T::Err| Problem::bad_request("bad-id", format!("bad {what}: {e}")))
}

/// The `ETag` value of a record version: `"v42"`.
pub fn etag(v: imi_core::store::Version) -> axum::http::HeaderValue {
    axum::http::HeaderValue::from_str(&format!("\"{v}\""))
        .unwrap_or(axum::http::HeaderValue::from_static("\"\""))
}

/// The version an `If-Match` header asks for (RFC 9110 §13.1.1): `None` without the
/// header or with `*` (any current version); otherwise the newest of the strong entity
/// tags this API issued (`"v42"`). Versions only grow, so a list holds the current
/// version exactly when its newest tag is it. Tags that can never match (weak tags, which
/// `If-Match` compares strongly, and tags of another form) are skipped; when nothing
/// is left the request fails with 412, as a stale tag does.
pub fn if_match(
    headers: &axum::http::HeaderMap,
) -> Result<Option<imi_core::store::Version>, Problem> {
    let values: Vec<&axum::http::HeaderValue> = headers.get_all(header::IF_MATCH).iter().collect();
    if values.is_empty() {
        return Ok(None);
    }
    let mut newest: Option<u64> = None;
    for value in values {
        let Ok(text) = value.to_str() else {
            continue;
        };
        for tag in text.split(',').map(str::trim) {
            if tag == "*" {
                return Ok(None);
            }
            let version = tag
                .strip_prefix("\"v")
                .and_then(|t| t.strip_suffix('"'))
                .and_then(|n| n.parse::<u64>().ok());
            if let Some(v) = version {
                newest = Some(newest.map_or(v, |n| n.max(v)));
            }
        }
    }
    match newest {
        Some(n) => Ok(Some(imi_core::store::Version::from_raw(n))),
        None => Err(Problem::new(
            axum::http::StatusCode::PRECONDITION_FAILED,
            "precondition-failed",
            "Precondition failed",
            "If-Match names no current version: use the ETag this API sent (like \"v42\"), or *",
        )),
    }
}

/// Shared handle types.
pub type SharedEngine = Arc<Engine>;
