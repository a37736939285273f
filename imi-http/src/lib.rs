//! # imi-http
//!
//! The thin, optional HTTP layer of the imi engine. [`router`] returns an axum
//! [`Router`](axum::Router) an embedder can serve as is or nest in its own app. Handlers
//! parse, call the [`imi_core::Engine`], and map results; no business rule lives
//! here, and the access policy stays in the core.
//!
//! Conventions, written once:
//! - JSON everywhere; errors are RFC 9457 `application/problem+json` documents with a
//!   stable `code` ([`problem`]). Malformed bodies, unknown fields, wrong types,
//!   oversized payloads and bad ids are 4xx problems and change nothing; internal
//!   failures are a generic 500 that shows no internals.
//! - Authentication through a pluggable [`Authenticator`] (default: bearer API tokens,
//!   stored hashed by the engine).
//! - `Accept-Language` negotiation with q-values; localised fields carry their language
//!   and a fallback flag, and responses say `Content-Language`.
//! - `ETag` on authorities, `If-Match` on their changes (412 when stale; 409 when a
//!   concurrent change wins).
//! - Cursor pagination (`limit`, `cursor` → `next_cursor`); `x-request-id` on every
//!   response; `tracing` spans; a request timeout; a body size limit.
//! - Security headers on every response (`X-Content-Type-Options: nosniff`,
//!   `X-Frame-Options: DENY`, a `Content-Security-Policy` that loads nothing,
//!   `Referrer-Policy: no-referrer`; `Cache-Control: no-store` for signed-in callers), and
//!   every error as a problem document, including those raised before a handler runs.
//! - An OpenAPI 3.1 document at `/openapi.json`, generated from the handlers ([`openapi`]);
//!   `/healthz` and `/readyz`.
//! - The public interface under `/v1/public/` needs no account: a submission's secret in
//!   the `X-Submission-Secret` header opens it, and each client address is rate-limited
//!   ([`limit`]; serve with `into_make_service_with_connect_info::<SocketAddr>()`).

pub mod dto;
pub mod extract;
mod harden;
pub mod limit;
#[cfg(feature = "oidc")]
pub mod oidc;
pub mod problem;
mod routes;
pub mod serve;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use imi_core::Engine;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use extract::{Authenticator, BearerTokens};
pub use limit::RateLimit;
pub use problem::Problem;
pub use serve::{ServeConfig, serve};

use routes::{
    alerts, attachments, authorities, catalogue, directory, exchanges, meta, notifications, outbox,
    privacy, repositories, requests, submissions, users,
};

/// Settings of the HTTP layer.
#[derive(Clone)]
pub struct HttpConfig {
    /// The largest request body accepted, in bytes (default 1 MiB).
    pub body_limit: usize,
    /// How long a request may take before it is answered with 408 (default 30 s).
    pub timeout: Duration,
    /// How callers are authenticated (default: [`BearerTokens`]).
    pub authenticator: Arc<dyn Authenticator>,
    /// The rate limit of the public interface, per client address ([`limit`]).
    pub public_rate_limit: RateLimit,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            body_limit: 1024 * 1024,
            timeout: Duration::from_secs(30),
            authenticator: Arc::new(BearerTokens),
            public_rate_limit: RateLimit::default(),
        }
    }
}

/// What every handler gets.
#[derive(Clone)]
pub struct AppState {
    /// The engine.
    pub engine: Arc<Engine>,
    /// The authenticator.
    pub auth: Arc<dyn Authenticator>,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "imi", description = "Cross-border administrative cooperation between public authorities."),
    modifiers(&BearerAuth),
    components(schemas(Problem)),
    tags(
        (name = "meta", description = "Health and vocabularies"),
        (name = "catalogue", description = "Areas, procedures and question sets"),
        (name = "authorities", description = "Registration, coordinators, procedure access"),
        (name = "users", description = "Users, rights and tokens"),
        (name = "directory", description = "Finding the right authority"),
        (name = "registers", description = "The directory of national registers"),
        (name = "syndication", description = "The public directory and its change feed"),
        (name = "requests", description = "One-to-one requests between authorities"),
        (name = "privacy", description = "Data-subject requests and the audit log"),
        (name = "alerts", description = "One-to-many alerts and each country's alert network"),
        (name = "notifications", description = "One-to-many notifications to the Commission and member states"),
        (name = "repositories", description = "Shared, versioned records of an area"),
        (name = "outbox", description = "How authorities and users are told of what concerns them, and undeliverable announcements"),
        (name = "exchanges", description = "The archive of exchanged information, without personal or confidential data"),
        (name = "public", description = "The public interface: citizens and businesses submit without an account and follow their case with its secret; authorities handle the submissions"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        openapi.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
    }
}

fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(meta::healthz))
        .routes(routes!(meta::readyz))
        .routes(routes!(meta::languages))
        .routes(routes!(meta::countries))
        .routes(routes!(catalogue::areas))
        .routes(routes!(catalogue::procedures))
        .routes(routes!(catalogue::question_set))
        .routes(routes!(catalogue::question_set_version))
        .routes(routes!(catalogue::coverage))
        .routes(routes!(authorities::register, authorities::list))
        .routes(routes!(authorities::get, authorities::update))
        .routes(routes!(authorities::coordinator))
        .routes(routes!(authorities::grant_procedure))
        .routes(routes!(authorities::deregister))
        .routes(routes!(authorities::validate))
        .routes(routes!(authorities::invite))
        .routes(routes!(authorities::self_register))
        .routes(routes!(authorities::pending))
        .routes(routes!(users::create, users::list))
        .routes(routes!(users::get))
        .routes(routes!(users::me))
        .routes(routes!(users::set_grants))
        .routes(routes!(users::disable))
        .routes(routes!(users::issue_token, users::list_tokens))
        .routes(routes!(users::revoke_token))
        .routes(routes!(users::create_service_account))
        .routes(routes!(directory::search))
        .routes(routes!(directory::recipients))
        .routes(routes!(
            directory::create_register,
            directory::search_registers
        ))
        .routes(routes!(
            directory::get_register,
            directory::update_register,
            directory::delete_register
        ))
        .routes(routes!(directory::public_authorities))
        .routes(routes!(directory::public_changes))
        .routes(routes!(requests::create))
        .routes(routes!(requests::get))
        .routes(routes!(requests::act))
        .routes(routes!(requests::timeline))
        .routes(routes!(requests::inbox))
        .routes(routes!(requests::inbox_deadlines))
        .routes(routes!(requests::indicators))
        .routes(routes!(requests::translate))
        .routes(routes!(requests::unblock))
        .routes(routes!(privacy::search))
        .routes(routes!(privacy::export))
        .routes(routes!(privacy::verify_audit))
        .routes(routes!(alerts::create, alerts::list))
        .routes(routes!(alerts::get))
        .routes(routes!(alerts::act))
        .routes(routes!(alerts::timeline))
        .routes(routes!(alerts::get_network, alerts::set_network))
        .routes(routes!(notifications::create, notifications::list))
        .routes(routes!(notifications::get))
        .routes(routes!(notifications::act))
        .routes(routes!(notifications::timeline))
        .routes(routes!(repositories::create, repositories::search))
        .routes(routes!(repositories::get, repositories::delete))
        .routes(routes!(repositories::act))
        .routes(routes!(repositories::history))
        .routes(routes!(exchanges::search))
        .routes(routes!(outbox::get_settings, outbox::set_settings))
        .routes(routes!(outbox::get_preferences, outbox::set_preferences))
        .routes(routes!(outbox::dead_letters))
        .routes(routes!(outbox::retry))
        .routes(routes!(outbox::register_webhook, outbox::webhooks))
        .routes(routes!(outbox::delete_webhook))
        .routes(routes!(outbox::feed))
        .routes(routes!(submissions::submit))
        .routes(routes!(submissions::status))
        .routes(routes!(submissions::act_public))
        .routes(routes!(submissions::data))
        .routes(routes!(submissions::translations))
        .routes(routes!(submissions::list))
        .routes(routes!(submissions::get))
        .routes(routes!(submissions::act))
        .routes(routes!(submissions::timeline))
        .routes(routes!(attachments::upload))
        .routes(routes!(attachments::download))
        .merge(routes::workflows())
}

/// The OpenAPI 3.1 document of every route [`router`] serves (besides `/openapi.json`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    finish(api().into_openapi())
}

/// Addresses anyone may call without a token: health, readiness and the public interface.
fn is_public(path: &str) -> bool {
    path == "/healthz" || path == "/readyz" || path.starts_with(limit::PUBLIC_PREFIX)
}

/// What the handlers' annotations cannot say once for all: every operation id unique
/// (handlers named alike in several modules get one made of their method and path),
/// problems served as `application/problem+json`, and the public operations marked as
/// needing no token (`security: []`).
fn finish(doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    use serde_json::Value;
    let Ok(mut json) = serde_json::to_value(&doc) else {
        return doc;
    };
    let methods = ["get", "put", "post", "delete", "patch"];
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    if let Some(paths) = json.get("paths").and_then(Value::as_object) {
        for item in paths.values() {
            for m in methods {
                if let Some(id) = item
                    .get(m)
                    .and_then(|op| op.get("operationId"))
                    .and_then(Value::as_str)
                {
                    *seen.entry(id.to_owned()).or_default() += 1;
                }
            }
        }
    }
    if let Some(paths) = json.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            for m in methods {
                let Some(op) = item.get_mut(m).and_then(Value::as_object_mut) else {
                    continue;
                };
                let shared = op
                    .get("operationId")
                    .and_then(Value::as_str)
                    .is_some_and(|id| seen.get(id).copied().unwrap_or(0) > 1);
                if shared {
                    op.insert("operationId".into(), Value::from(operation_id(m, path)));
                }
                if is_public(path) {
                    op.insert("security".into(), Value::Array(Vec::new()));
                }
                if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
                    for response in responses.values_mut() {
                        let Some(content) =
                            response.get_mut("content").and_then(Value::as_object_mut)
                        else {
                            continue;
                        };
                        let problem = content
                            .get("application/json")
                            .and_then(|c| c.pointer("/schema/$ref"))
                            .and_then(Value::as_str)
                            .is_some_and(|r| r.ends_with("/Problem"));
                        if problem && let Some(c) = content.remove("application/json") {
                            content.insert("application/problem+json".into(), c);
                        }
                    }
                }
            }
        }
    }
    serde_json::from_value(json).unwrap_or(doc)
}

/// An operation id from a method and a path: `get` and `/v1/authorities/{id}/users` give
/// `get_authorities_by_id_users`.
fn operation_id(method: &str, path: &str) -> String {
    let mut out = method.to_owned();
    for segment in path.split('/').filter(|s| !s.is_empty() && *s != "v1") {
        out.push('_');
        match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(param) => {
                out.push_str("by_");
                out.push_str(param);
            }
            None => out.push_str(&segment.replace('-', "_")),
        }
    }
    out
}

/// The HTTP API over `engine`, ready to serve or to nest in another router.
pub fn router(engine: Arc<Engine>, config: HttpConfig) -> axum::Router {
    let HttpConfig {
        body_limit,
        timeout,
        authenticator,
        public_rate_limit,
    } = config;
    let limiter = Arc::new(limit::Limiter::new(public_rate_limit));
    let state = AppState {
        engine,
        auth: authenticator,
    };
    let (router, doc) = api().split_for_parts();
    let doc = Arc::new(finish(doc));
    router
        .route(
            "/openapi.json",
            axum::routing::get(move || {
                let doc = Arc::clone(&doc);
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .fallback(|| async { Problem::not_found("there is nothing at this address") })
        .method_not_allowed_fallback(|| async {
            Problem::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
                "this address does not accept that method",
            )
        })
        .with_state(state)
        .layer(axum::middleware::from_fn_with_state(
            limiter,
            limit::limit_public,
        ))
        .layer(axum::middleware::from_fn(limit::public_cors))
        .layer(DefaultBodyLimit::max(body_limit))
        // gzip when the client accepts it (the API's callers authenticate with a header,
        // not a cookie, so compression leaks nothing across sites).
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(axum::middleware::from_fn(harden::harden))
        .layer(TraceLayer::new_for_http())
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}
