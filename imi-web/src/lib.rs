//! # imi-web
//!
//! The web application of the imi engine: server-rendered HTML pages for the officials of
//! competent authorities, mounted beside the JSON API. It depends on `imi-core` only, and
//! every page goes through the same [`Engine`] methods, actor and access policy as the API,
//! so a page never shows what the API would hide.
//!
//! ```no_run
//! # use std::sync::Arc;
//! # fn demo(engine: Arc<imi_core::Engine>) {
//! let app: axum::Router = imi_web::router(engine, imi_web::WebConfig::default());
//! # }
//! ```
//!
//! - **Templates**: [maud](https://maud.lambda.xyz): HTML written as Rust expressions,
//!   checked by the compiler, escaped by default; no template files to ship or load.
//! - **Texts**: Fluent files under `locales/` (English, Danish, German, French complete);
//!   the page's language comes from the language picker, else `Accept-Language`; a text
//!   shown in English on a page in another language is marked `lang="en"`.
//! - **Sessions**: [`Engine::open_session`]: a secret in an `HttpOnly`, `SameSite=Lax`
//!   cookie, a fresh one at every sign-in, ended at sign-out or expiry. Every form post
//!   carries an anti-forgery value bound to the session (the sign-in form one bound to a
//!   short-lived cookie).
//! - **Security headers** on every page: a Content-Security-Policy with no inline script
//!   and `frame-ancestors 'none'`, `nosniff`, no referrer, no caching of pages.
//! - **Limits**: a 30-second timeout (408), form bodies up to 256 KiB, a request id and a
//!   trace span per request, as on the API.
//! - **No JavaScript needed**: every page and form works without it; the page loads
//!   nothing from any other host.

mod admin;
mod cases;
mod forms;
mod i18n;
mod pages;
mod public;
mod repositories;
mod throttle;
mod uploads;

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use imi_core::access::Actor;
use imi_core::session::SessionSecret;
use imi_core::{Engine, EngineError, Language, LanguagePreferences};

/// How the web application behaves.
#[derive(Clone)]
pub struct WebConfig {
    /// Mark cookies `Secure`, so browsers send them over HTTPS only (default: true). Set
    /// it to false only to serve plain `http://localhost`, as the demo server does.
    pub secure_cookies: bool,
    /// How long a sign-in lasts, in minutes (default 480: a working day).
    pub session_minutes: u32,
    /// A single sign-on service (OpenID Connect, authorization code with PKCE), offered
    /// on the sign-in page beside access tokens; its callback is `/sign-in/callback`
    /// (e.g. `imi_http::oidc::OidcSignOn`). Default: none.
    pub sign_on: Option<Arc<dyn imi_core::session::SignOn>>,
    /// Take the client address for throttling from the last entry of `X-Forwarded-For`
    /// (only behind one trusted reverse proxy that appends it; never when clients reach
    /// the server directly, or they choose their own address). Default: false.
    pub trust_forwarded_for: bool,
}

impl std::fmt::Debug for WebConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebConfig")
            .field("secure_cookies", &self.secure_cookies)
            .field("session_minutes", &self.session_minutes)
            .field(
                "sign_on",
                &self.sign_on.as_ref().map(|s| s.name().to_owned()),
            )
            .finish()
    }
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            secure_cookies: true,
            session_minutes: imi_core::session::DEFAULT_SESSION_MINUTES,
            sign_on: None,
            trust_forwarded_for: false,
        }
    }
}

/// The session cookie's name.
const SESSION_COOKIE: &str = "imi_session";
/// The language cookie's name.
const LANGUAGE_COOKIE: &str = "imi_lang";
/// The sign-in form's anti-forgery cookie.
const SIGN_IN_COOKIE: &str = "imi_signin";
/// A single sign-on attempt's state, nonce and verifier, until the provider sends the
/// browser back.
const SIGN_ON_COOKIE: &str = "imi_sso";

/// The shared state of every page.
pub(crate) struct Web {
    pub(crate) engine: Arc<Engine>,
    pub(crate) config: WebConfig,
    pub(crate) texts: i18n::Texts,
    /// Random values for the sign-in form's anti-forgery cookie.
    pub(crate) ids: imi_core::IdGenerator,
    /// Failed sign-ins per client address.
    pub(crate) throttle: throttle::Throttle,
    /// Posts to the public portal per client address.
    pub(crate) public_posts: throttle::Throttle,
}

#[derive(Clone)]
pub(crate) struct WebState(pub(crate) Arc<Web>);

impl FromRef<WebState> for Arc<Web> {
    fn from_ref(s: &WebState) -> Self {
        Arc::clone(&s.0)
    }
}

/// The web application's routes, to mount at `/` beside the API (whose paths start with
/// `/v1`, `/openapi.json`, `/healthz`, `/readyz`). Answers HTML; its fallback is an HTML
/// "not found" page.
pub fn router(engine: Arc<Engine>, config: WebConfig) -> Router {
    let texts = match i18n::Texts::load() {
        Ok(t) => t,
        // The files are compiled in and checked by the tests; should one still fail to
        // load, every page says so instead of the server failing to start.
        Err(e) => {
            let message = e.to_string();
            return Router::new().fallback(move || {
                let message = message.clone();
                async move { (StatusCode::INTERNAL_SERVER_ERROR, message) }
            });
        }
    };
    let web = Arc::new(Web {
        engine,
        config,
        texts,
        ids: imi_core::IdGenerator::random(),
        throttle: throttle::Throttle::default(),
        public_posts: throttle::Throttle::new(throttle::PUBLIC_POSTS),
    });
    let pages = Router::new()
        .route("/", get(pages::home))
        .route("/sign-in", get(pages::sign_in_form).post(pages::sign_in))
        .route("/sign-out", post(pages::sign_out))
        .route("/sign-in/sso", get(pages::sign_on))
        .route("/sign-in/callback", get(pages::sign_on_callback))
        .route("/language", get(pages::language))
        .route("/registrations", get(pages::registrations))
        .route("/registrations/{id}", post(pages::validate_registration))
        .route("/directory", get(pages::directory))
        .route("/directory/{id}", get(pages::authority))
        .route("/registers", get(pages::registers))
        .route("/repositories", get(repositories::list))
        .route("/repositories/{procedure}", get(repositories::search))
        .route(
            "/repositories/{procedure}/new",
            get(repositories::new_form).post(repositories::create),
        )
        .route("/records/{id}", get(repositories::record))
        .route("/records/{id}/commands/{form}", post(repositories::command))
        .route("/requests", get(pages::requests))
        .route("/requests/deadlines", get(pages::deadlines))
        .route(
            "/requests/new",
            get(pages::new_request_form).post(pages::new_request),
        )
        .route("/requests/{id}", get(pages::request))
        .route(
            "/requests/{id}/commands/{command}",
            // Forms with files: up to four attachments of the largest size.
            post(pages::request_command).layer(axum::extract::DefaultBodyLimit::max(
                4 * imi_core::attachment::DEFAULT_MAX_ATTACHMENT as usize + 64 * 1024,
            )),
        )
        .route("/attachments/{id}", get(uploads::download))
        .route(
            "/requests/{id}/timeline/{seq}/translate",
            post(pages::translate),
        )
        .route("/me", get(admin::me))
        .route("/admin", get(admin::authorities))
        .route("/admin/authorities", post(admin::register))
        .route("/admin/authorities/{id}", get(admin::authority))
        .route(
            "/admin/authorities/{id}/procedures",
            post(admin::procedure_access),
        )
        .route("/admin/authorities/{id}/users", post(admin::add_user))
        .route("/admin/users/{id}", get(admin::user))
        .route("/admin/users/{id}/grants", post(admin::grants))
        .route("/admin/users/{id}/tokens", post(admin::issue_token))
        .route(
            "/admin/users/{id}/tokens/{token}/revoke",
            post(admin::revoke_token),
        )
        .route("/admin/users/{id}/disable", post(admin::disable))
        .route("/public", get(public::portal))
        .route("/public/directory", get(public::directory))
        .route(
            "/public/submit",
            get(public::submit_form).post(public::submit),
        )
        .route("/public/open", post(public::open))
        .route("/public/status", get(public::status))
        .route("/public/status/commands/{form}", post(public::command))
        .route("/public/status/data", post(public::data))
        .route("/public/forget", post(public::forget))
        .route("/assets/imi.css", get(stylesheet));
    let pages = cases::routes::<cases::Alerts>(pages);
    let pages = cases::routes::<cases::Notifications>(pages);
    let pages = cases::routes::<cases::Submissions>(pages);
    let pages = cases::routes::<cases::Solvit>(pages);
    let pages = cases::routes::<cases::Surveys>(pages)
        .route("/surveys/{id}/response", post(cases::survey_response));
    // `/requests/new` would otherwise be taken for a request id by the generic routes'
    // neighbours; requests keep their own pages (inbox by stage and by deadline).
    pages
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn_with_state(
            WebState(Arc::clone(&web)),
            html_rejections,
        ))
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(WebState(web))
        // Forms are small: 256 KiB is plenty (attachments are not posted here yet).
        .layer(axum::extract::DefaultBodyLimit::max(256 * 1024))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            std::time::Duration::from_secs(30),
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .layer(tower_http::request_id::PropagateRequestIdLayer::x_request_id())
        .layer(tower_http::request_id::SetRequestIdLayer::x_request_id(
            tower_http::request_id::MakeRequestUuid,
        ))
}

/// The style sheet, served by us (no other host is ever asked for anything).
async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../assets/imi.css"),
    )
        .into_response()
}

/// Headers every answer carries.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// One cookie's value from the request's `Cookie` headers.
fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: HttpOnly, `SameSite`, path `/`, `Secure` when configured;
/// `max_age` 0 removes it.
fn set_cookie(web: &Web, name: &str, value: &str, max_age: i64, same_site: &str) -> HeaderValue {
    let secure = if web.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let text = format!(
        "{name}={value}; Path=/; HttpOnly; SameSite={same_site}; Max-Age={max_age}{secure}"
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// What every page knows about its request: the reader's language, and who is signed in.
pub(crate) struct Ctx {
    pub(crate) web: Arc<Web>,
    /// The page's language.
    pub(crate) lang: Language,
    /// The reader's language preferences, for content (names, labels).
    pub(crate) prefs: LanguagePreferences,
    /// The signed-in user, if any.
    pub(crate) actor: Option<Actor>,
    /// Their session.
    pub(crate) session: Option<SessionSecret>,
    /// The path and query of this page (for the language picker's way back).
    pub(crate) here: String,
    /// The client's address, when the server passes the connection's on.
    pub(crate) client: Option<std::net::IpAddr>,
}

impl Ctx {
    /// The signed-in actor, or the answer that sends the browser to the sign-in page.
    pub(crate) fn user(&self) -> Result<&Actor, WebError> {
        self.actor.as_ref().ok_or(WebError::SignIn)
    }

    /// The anti-forgery value for this session's forms.
    pub(crate) fn csrf(&self) -> String {
        self.session
            .as_ref()
            .map(|s| s.derive("imi-web form"))
            .unwrap_or_default()
    }
}

/// The page's language and the reader's preferences: the language picked (cookie), else
/// `Accept-Language`, else English.
fn languages(headers: &HeaderMap) -> (Language, LanguagePreferences) {
    let picked = cookie(headers, LANGUAGE_COOKIE).and_then(|c| c.parse::<Language>().ok());
    let accepted = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(LanguagePreferences::parse_accept_language_lenient)
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| LanguagePreferences::only(Language::English));
    match picked {
        Some(l) => (l, LanguagePreferences::only(l)),
        None => (
            accepted.first_language().unwrap_or(Language::English),
            accepted,
        ),
    }
}

/// Bad input the extractors refuse before a page runs (a malformed address or form, a
/// body too large) answers as an error page in the reader's language, like every other
/// refusal, instead of the extractors' plain text.
async fn html_rejections(
    axum::extract::State(state): axum::extract::State<WebState>,
    request: Request,
    next: Next,
) -> Response {
    let headers = request.headers().clone();
    let response = next.run(request).await;
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/plain"));
    let status = response.status();
    if !(status.is_client_error() && plain) {
        return response;
    }
    let detail = axum::body::to_bytes(response.into_body(), 2048)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let (lang, prefs) = languages(&headers);
    let ctx = Ctx {
        web: Arc::clone(&state.0),
        lang,
        prefs,
        actor: None,
        session: None,
        here: "/".to_owned(),
        client: None,
    };
    let mut page = ctx.error_page(&WebError::BadInput(detail));
    *page.status_mut() = status;
    page
}

impl FromRequestParts<WebState> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Response> {
        let web = Arc::clone(&state.0);
        let (lang, prefs) = languages(&parts.headers);
        let session =
            cookie(&parts.headers, SESSION_COOKIE).and_then(|c| c.parse::<SessionSecret>().ok());
        let actor = match &session {
            Some(s) => web.engine.session_actor(s).await.ok(),
            None => None,
        };
        let here = parts
            .uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
        let forwarded = || {
            parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .and_then(|a| a.trim().parse::<std::net::IpAddr>().ok())
        };
        let client = if web.config.trust_forwarded_for {
            forwarded()
        } else {
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip())
        };
        Ok(Ctx {
            client,
            web,
            lang,
            prefs,
            session: if actor.is_some() { session } else { None },
            actor,
            here,
        })
    }
}

/// Why a page could not be shown.
#[derive(Debug)]
pub(crate) enum WebError {
    /// Not signed in (or the session ended): go to the sign-in page.
    SignIn,
    /// The engine refused or failed.
    Engine(EngineError),
    /// A form without a valid anti-forgery value.
    Forged,
    /// Bad input in the address or form.
    BadInput(String),
}

impl From<EngineError> for WebError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Unauthenticated => WebError::SignIn,
            e => WebError::Engine(e),
        }
    }
}

/// The status and text id of an error page.
pub(crate) fn error_kind(e: &WebError) -> (StatusCode, &'static str) {
    match e {
        WebError::SignIn => (StatusCode::UNAUTHORIZED, "sign-in-failed"),
        WebError::Forged => (StatusCode::FORBIDDEN, "error-expired-form"),
        WebError::BadInput(_) => (StatusCode::BAD_REQUEST, "error-bad-input"),
        WebError::Engine(e) => match e {
            EngineError::Denied(_) => (StatusCode::FORBIDDEN, "error-forbidden"),
            EngineError::NotFound { .. } => (StatusCode::NOT_FOUND, "error-not-found"),
            EngineError::VersionMismatch { .. } | EngineError::Conflict(_) => {
                (StatusCode::CONFLICT, "error-changed")
            }
            EngineError::Transition(_) | EngineError::InvalidState(_) => {
                (StatusCode::CONFLICT, "error-bad-input")
            }
            EngineError::Page(_)
            | EngineError::InvalidAuthority(_)
            | EngineError::QueryTooBroad { .. }
            | EngineError::InvalidAnswers(_) => (StatusCode::BAD_REQUEST, "error-bad-input"),
            EngineError::Token(_)
            | EngineError::InvalidWebhook(_)
            | EngineError::BadGrant { .. } => (StatusCode::BAD_REQUEST, "error-bad-input"),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "error-server"),
        },
    }
}

/// A redirect after a form post (303, so the browser follows with GET).
pub(crate) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}
