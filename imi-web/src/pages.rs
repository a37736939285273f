//! The pages: each a handler that asks the engine as the signed-in actor and renders the
//! answer with maud. A refusal renders as an error page in the reader's language.

use axum::Form;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fluent_bundle::FluentArgs;
use imi_core::case::{RequestView, Visibility};
use imi_core::catalogue::Side;
use imi_core::request::{RequestCommand, Stage};
use imi_core::user::SecretToken;
use imi_core::workflow::{CommandSpec, FieldKind};
use imi_core::{
    AuthorityId, CaseId, Country, Cursor, DirectoryQuery, InboxQuery, Language, LocalisedText,
    Page, PageRequest, Participant,
};
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;

use crate::forms::{Posted, Subject, answers_list, command_forms};
use crate::{
    Ctx, LANGUAGE_COOKIE, SESSION_COOKIE, SIGN_IN_COOKIE, SIGN_ON_COOKIE, WebError, cookie,
    error_kind, see_other, set_cookie,
};

/// How many entries a list page shows.
const PAGE_SIZE: usize = 20;

/// A page's title and content.
pub(crate) type Body = (String, Markup);

impl Ctx {
    /// Interface text `id`, marked with its language when it is not the page's.
    pub(crate) fn t(&self, id: &str) -> Markup {
        self.ta(id, None)
    }

    /// Interface text `id` with arguments.
    pub(crate) fn ta(&self, id: &str, args: Option<&FluentArgs<'_>>) -> Markup {
        let t = self.web.texts.get(self.lang, id, args);
        if t.language == self.lang {
            html! { (t.text) }
        } else {
            html! { span lang=(t.language.code()) { (t.text) } }
        }
    }

    /// Interface text `id` as plain text (for attributes and titles).
    pub(crate) fn s(&self, id: &str) -> String {
        self.web.texts.get(self.lang, id, None).text
    }

    /// Content in several languages, in the reader's, marked when it is another.
    pub(crate) fn lt(&self, text: &LocalisedText) -> Markup {
        let r = text.resolve_for(&self.prefs);
        if r.language == self.lang {
            html! { (r.text) }
        } else {
            html! { span lang=(r.language.code()) { (r.text) } }
        }
    }

    /// The whole page around `body`.
    pub(crate) fn layout(&self, title: &str, body: &Markup) -> Markup {
        html! {
            (DOCTYPE)
            html lang=(self.lang.code()) {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) " — IMI" }
                    link rel="stylesheet" href="/assets/imi.css";
                }
                body {
                    a.skip href="#main" { (self.t("skip-to-content")) }
                    header {
                        p.brand { a href="/" { (self.t("app-name")) } }
                        @if self.actor.is_some() {
                            nav aria-label=(self.s("app-name")) {
                                ul {
                                    li { a href="/" { (self.t("nav-home")) } }
                                    li { a href="/requests" { (self.t("nav-requests")) } }
                                    li { a href="/requests/deadlines" { (self.t("nav-deadlines")) } }
                                    li { a href="/alerts" { (self.t("nav-alerts")) } }
                                    li { a href="/notifications" { (self.t("nav-notifications")) } }
                                    li { a href="/submissions" { (self.t("nav-submissions")) } }
                                    li { a href="/solvit" { (self.t("nav-solvit")) } }
                                    li { a href="/surveys" { (self.t("nav-surveys")) } }
                                    li { a href="/repositories" { (self.t("nav-repositories")) } }
                                    li { a href="/directory" { (self.t("nav-directory")) } }
                                    li { a href="/me" { (self.t("nav-me")) } }
                                    @if matches!(&self.actor, Some(imi_core::access::Actor::User(p)) if p.has_right(imi_core::catalogue::Right::Administrator)) {
                                        li { a href="/admin" { (self.t("nav-admin")) } }
                                    }
                                }
                            }
                        }
                        @if self.actor.is_none() {
                            nav aria-label=(self.s("app-name")) {
                                ul {
                                    li { a href="/public" { (self.t("nav-public")) } }
                                    li { a href="/sign-in" { (self.t("sign-in")) } }
                                }
                            }
                        }
                        form.language method="get" action="/language" {
                            label for="language-picker" { (self.t("language")) }
                            select #language-picker name="to" {
                                @for l in Language::ALL {
                                    option value=(l.code()) lang=(l.code()) selected[l == self.lang] { (autonym(l)) }
                                }
                            }
                            input type="hidden" name="back" value=(self.here);
                            button type="submit" { (self.t("change")) }
                        }
                        @if self.actor.is_some() {
                            form.sign-out method="post" action="/sign-out" {
                                input type="hidden" name="csrf" value=(self.csrf());
                                button type="submit" { (self.t("sign-out")) }
                            }
                        }
                    }
                    main #main { (body) }
                }
            }
        }
    }

    /// The response for a page's outcome: the page, the sign-in page, or an error page.
    pub(crate) fn render(&self, outcome: Result<Body, WebError>) -> Response {
        match outcome {
            Ok((title, body)) => html_response(StatusCode::OK, self.layout(&title, &body)),
            Err(e) => self.failed(&e),
        }
    }

    /// The response to a form post: on to `Ok`'s address (303), or what failed.
    pub(crate) fn after_post(&self, outcome: Result<String, WebError>) -> Response {
        match outcome {
            Ok(to) => see_other(&to),
            Err(e) => self.failed(&e),
        }
    }

    /// The sign-in page for a missing session, an error page for anything else.
    pub(crate) fn failed(&self, e: &WebError) -> Response {
        match e {
            WebError::SignIn => see_other("/sign-in"),
            e => self.error_page(e),
        }
    }

    /// An error page in the reader's language.
    pub(crate) fn error_page(&self, e: &WebError) -> Response {
        let (status, id) = error_kind(e);
        let mut args = FluentArgs::new();
        if let WebError::BadInput(detail) = e {
            args.set("detail", detail.clone());
        } else if let WebError::Engine(e) = e {
            args.set("detail", e.to_string());
        }
        let body = html! {
            h1 { (self.t("error-title")) }
            p role="alert" { (self.ta(id, Some(&args))) }
            p { a href="/" { (self.t("back-home")) } }
        };
        html_response(status, self.layout(&self.s("error-title"), &body))
    }
}

pub(crate) fn html_response(status: StatusCode, page: Markup) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        page.into_string(),
    )
        .into_response()
}

/// Whether two anti-forgery values are equal, in time that does not depend on where they
/// differ.
pub(crate) fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Each language's name in itself, for the language picker.
pub(crate) fn autonym(l: Language) -> &'static str {
    match l.code() {
        "bg" => "български",
        "cs" => "čeština",
        "da" => "dansk",
        "de" => "Deutsch",
        "el" => "ελληνικά",
        "en" => "English",
        "es" => "español",
        "et" => "eesti",
        "fi" => "suomi",
        "fr" => "français",
        "ga" => "Gaeilge",
        "hr" => "hrvatski",
        "hu" => "magyar",
        "it" => "italiano",
        "lt" => "lietuvių",
        "lv" => "latviešu",
        "mt" => "Malti",
        "nl" => "Nederlands",
        "pl" => "polski",
        "pt" => "português",
        "ro" => "română",
        "sk" => "slovenčina",
        "sl" => "slovenščina",
        "sv" => "svenska",
        "is" => "íslenska",
        "no" => "norsk",
        _ => l.english_name(),
    }
}

/// The continuation of a list from the address, if any.
pub(crate) fn page_request(cursor: Option<&str>) -> Result<PageRequest, WebError> {
    let first = PageRequest::first(PAGE_SIZE).map_err(|e| WebError::BadInput(e.to_string()))?;
    match cursor.filter(|c| !c.is_empty()) {
        None => Ok(first),
        Some(c) => {
            let cursor: Cursor = c.parse().map_err(|_| WebError::BadInput("cursor".into()))?;
            Ok(first.after(cursor))
        }
    }
}

/// A link to the next page of a list, keeping the other query parameters.
pub(crate) fn next_link<T>(
    ctx: &Ctx,
    page: &Page<T>,
    base: &str,
    params: &[(&str, &str)],
) -> Markup {
    let Some(next) = &page.next else {
        return html! {};
    };
    let mut query: Vec<String> = params
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    query.push(format!("cursor={next}"));
    html! { p { a rel="next" href=(format!("{base}?{}", query.join("&"))) { (ctx.t("next-page")) } } }
}

/// Percent-encoding of a query value.
fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

// ---- Sign-in and language ----

/// The sign-in form. A short-lived cookie holds the form's anti-forgery value.
pub(crate) async fn sign_in_form(ctx: Ctx) -> Response {
    sign_in_page(&ctx, None)
}

fn sign_in_page(ctx: &Ctx, failed: Option<&str>) -> Response {
    let nonce = match ctx.web.ids.secret() {
        Ok(b) => b.iter().map(|x| format!("{x:02x}")).collect::<String>(),
        Err(e) => return ctx.error_page(&WebError::Engine(e.into())),
    };
    let body = html! {
        h1 { (ctx.t("sign-in-title")) }
        @if let Some(sso) = &ctx.web.config.sign_on {
            p { a.button href="/sign-in/sso" { (ctx.t("sign-in-with")) " " span lang="en" { (sso.name()) } } }
            h2 { (ctx.t("sign-in-token-heading")) }
        }
        p { (ctx.t("sign-in-intro")) }
        form method="post" action="/sign-in" {
            input type="hidden" name="csrf" value=(nonce);
            div.field {
                label for="token" { (ctx.t("token")) }
                @if let Some(id) = failed {
                    p #token-error .error role="alert" { (ctx.t(id)) }
                    input #token type="password" name="token" autocomplete="off" required aria-invalid="true" aria-describedby="token-error";
                } @else {
                    input #token type="password" name="token" autocomplete="off" required;
                }
            }
            button type="submit" { (ctx.t("sign-in")) }
        }
    };
    let status = match failed {
        Some("sign-in-sso-unavailable") => StatusCode::SERVICE_UNAVAILABLE,
        Some(_) => StatusCode::UNAUTHORIZED,
        None => StatusCode::OK,
    };
    let mut response = html_response(status, ctx.layout(&ctx.s("sign-in-title"), &body));
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&ctx.web, SIGN_IN_COOKIE, &nonce, 900, "Strict"),
    );
    response
}

/// The answer to a client that failed to sign in too often: 429, with when to come back.
pub(crate) fn too_many(ctx: &Ctx) -> Response {
    too_many_saying(ctx, "sign-in-too-many")
}

/// 429 with text `id`, and when to come back.
pub(crate) fn too_many_saying(ctx: &Ctx, id: &str) -> Response {
    let body = html! {
        h1 { (ctx.t("error-title")) }
        p role="alert" { (ctx.t(id)) }
    };
    let mut response = html_response(
        StatusCode::TOO_MANY_REQUESTS,
        ctx.layout(&ctx.s("error-title"), &body),
    );
    response.headers_mut().insert(
        header::RETRY_AFTER,
        axum::http::HeaderValue::from(crate::throttle::WINDOW.as_secs()),
    );
    response
}

#[derive(Deserialize)]
pub(crate) struct SignInForm {
    token: String,
    csrf: String,
}

/// Signs in with an access token: a fresh session, its secret in an HttpOnly cookie.
pub(crate) async fn sign_in(
    ctx: Ctx,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let expected = cookie(&headers, SIGN_IN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !same(expected, &form.csrf) {
        return ctx.error_page(&WebError::Forged);
    }
    if !ctx.web.throttle.allows(ctx.client) {
        return too_many(&ctx);
    }
    let Ok(token) = form.token.trim().parse::<SecretToken>() else {
        ctx.web.throttle.failed(ctx.client);
        return sign_in_page(&ctx, Some("sign-in-failed"));
    };
    // A session that lasts no longer than the token it was opened with.
    let secret = match ctx
        .web
        .engine
        .sign_in_with_token(&token, ctx.web.config.session_minutes)
        .await
    {
        Ok((_, s)) => s,
        Err(imi_core::EngineError::Unauthenticated) => {
            ctx.web.throttle.failed(ctx.client);
            return sign_in_page(&ctx, Some("sign-in-failed"));
        }
        Err(e) => return ctx.error_page(&WebError::from(e)),
    };
    let mut response = see_other("/");
    let h = response.headers_mut();
    let max_age = i64::from(ctx.web.config.session_minutes) * 60;
    h.append(
        header::SET_COOKIE,
        set_cookie(&ctx.web, SESSION_COOKIE, secret.expose(), max_age, "Lax"),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(&ctx.web, SIGN_IN_COOKIE, "", 0, "Strict"),
    );
    response
}

/// Starts a single sign-on: a fresh attempt (state, nonce, PKCE verifier) in a
/// short-lived cookie, and the browser on to the provider.
pub(crate) async fn sign_on(ctx: Ctx) -> Response {
    let Some(sso) = ctx.web.config.sign_on.clone() else {
        return ctx.error_page(&WebError::Engine(imi_core::EngineError::NotFound {
            kind: "page",
            id: "/sign-in/sso".into(),
        }));
    };
    let random = || ctx.web.ids.secret();
    let attempt = match (random(), random(), random()) {
        (Ok(a), Ok(b), Ok(c)) => imi_core::session::SignOnAttempt::from_random(&a, &b, &c),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
            return ctx.error_page(&WebError::Engine(e.into()));
        }
    };
    match sso.authorization_url(&attempt).await {
        Ok(url) => {
            let mut response = see_other(&url);
            // Lax: the provider sends the browser back with a top-level GET.
            response.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(&ctx.web, SIGN_ON_COOKIE, &attempt.to_cookie(), 600, "Lax"),
            );
            response
        }
        Err(_) => sign_in_page(&ctx, Some("sign-in-sso-unavailable")),
    }
}

#[derive(Deserialize)]
pub(crate) struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
}

/// The provider's answer: the code redeemed for the attempt in the cookie, and a fresh
/// session for the imi user it names. The attempt is spent either way.
pub(crate) async fn sign_on_callback(
    ctx: Ctx,
    headers: HeaderMap,
    Query(p): Query<CallbackParams>,
) -> Response {
    let mut response = sign_on_answer(&ctx, &headers, p).await;
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&ctx.web, SIGN_ON_COOKIE, "", 0, "Lax"),
    );
    response
}

async fn sign_on_answer(ctx: &Ctx, headers: &HeaderMap, p: CallbackParams) -> Response {
    let Some(sso) = ctx.web.config.sign_on.clone() else {
        return ctx.error_page(&WebError::Engine(imi_core::EngineError::NotFound {
            kind: "page",
            id: "/sign-in/callback".into(),
        }));
    };
    if !ctx.web.throttle.allows(ctx.client) {
        return too_many(ctx);
    }
    let attempt =
        cookie(headers, SIGN_ON_COOKIE).and_then(imi_core::session::SignOnAttempt::from_cookie);
    let (Some(attempt), Some(state), Some(code)) = (attempt, p.state, p.code) else {
        // Refused at the provider, or a forged or stale answer.
        return sign_in_page(ctx, Some("sign-in-sso-failed"));
    };
    if !same(&state, &attempt.state) {
        ctx.web.throttle.failed(ctx.client);
        return sign_in_page(ctx, Some("sign-in-sso-failed"));
    }
    let user = match sso.redeem(&code, &attempt).await {
        Ok(u) => u,
        Err(imi_core::session::SignOnError::Refused(_)) => {
            ctx.web.throttle.failed(ctx.client);
            return sign_in_page(ctx, Some("sign-in-sso-failed"));
        }
        Err(_) => return sign_in_page(ctx, Some("sign-in-sso-unavailable")),
    };
    let engine = &ctx.web.engine;
    let opened = async {
        let actor = engine.actor_for(user).await?;
        engine
            .open_session(&actor, ctx.web.config.session_minutes)
            .await
    }
    .await;
    let secret = match opened {
        Ok(s) => s,
        Err(imi_core::EngineError::Unauthenticated | imi_core::EngineError::NotFound { .. }) => {
            return sign_in_page(ctx, Some("sign-in-sso-no-user"));
        }
        Err(e) => return ctx.error_page(&WebError::from(e)),
    };
    let mut response = see_other("/");
    let h = response.headers_mut();
    let max_age = i64::from(ctx.web.config.session_minutes) * 60;
    h.append(
        header::SET_COOKIE,
        set_cookie(&ctx.web, SESSION_COOKIE, secret.expose(), max_age, "Lax"),
    );
    response
}

#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    csrf: String,
}

/// Signs out: the session ends in the store, and the cookie is removed.
pub(crate) async fn sign_out(ctx: Ctx, Form(form): Form<CsrfForm>) -> Response {
    let Some(session) = &ctx.session else {
        return see_other("/sign-in");
    };
    if !same(&form.csrf, &ctx.csrf()) {
        return ctx.error_page(&WebError::Forged);
    }
    if let Err(e) = ctx.web.engine.close_session(session).await {
        return ctx.error_page(&WebError::from(e));
    }
    let mut response = see_other("/sign-in");
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&ctx.web, SESSION_COOKIE, "", 0, "Lax"),
    );
    response
}

#[derive(Deserialize)]
pub(crate) struct LanguageQuery {
    to: String,
    back: Option<String>,
}

/// The language picker: remembers the choice in a cookie and goes back.
pub(crate) async fn language(ctx: Ctx, Query(q): Query<LanguageQuery>) -> Response {
    let Ok(language) = q.to.parse::<Language>() else {
        return ctx.error_page(&WebError::BadInput("language".into()));
    };
    // Only a path on this site: never an address elsewhere.
    let back = q
        .back
        .filter(|b| {
            // A path on this site, in visible ASCII only: no scheme, no `//host`, no
            // backslash, and no control character a browser would drop (`/\t/host`).
            b.starts_with('/')
                && !b.starts_with("//")
                && b.bytes().all(|c| c.is_ascii_graphic() && c != b'\\')
        })
        .unwrap_or_else(|| "/".to_owned());
    let mut response = see_other(&back);
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            &ctx.web,
            LANGUAGE_COOKIE,
            language.code(),
            365 * 24 * 3600,
            "Lax",
        ),
    );
    response
}

/// Anything else: a "not found" page.
pub(crate) async fn not_found(ctx: Ctx) -> Response {
    // Mounted behind the API, an unknown API address still gets the API's kind of answer.
    if ctx.here.starts_with("/v1/") || ctx.here == "/v1" {
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "application/problem+json")],
            r#"{"type":"urn:imi:problem:not-found","title":"Not found","status":404,"detail":"there is nothing at this address"}"#,
        )
            .into_response();
    }
    ctx.error_page(&missing())
}

// ---- Home ----

/// What waits for the signed-in user.
pub(crate) async fn home(ctx: Ctx) -> Response {
    let outcome = home_body(&ctx).await;
    ctx.render(outcome)
}

async fn home_body(ctx: &Ctx) -> Result<Body, WebError> {
    let actor = ctx.user()?;
    let engine = &ctx.web.engine;
    let first = PageRequest::first(100).map_err(|e| WebError::BadInput(e.to_string()))?;
    let mut sides = Vec::new();
    for side in [Side::Requester, Side::Responder] {
        let waiting = engine
            .inbox_by_deadline(actor, side, None, true, first.clone())
            .await?;
        sides.push((side, waiting.items.len(), waiting.next.is_some()));
    }
    let yesterday = engine_today(ctx) - chrono::Duration::days(1);
    let mut overdue = 0;
    for side in [Side::Requester, Side::Responder] {
        overdue += engine
            .inbox_by_deadline(actor, side, Some(yesterday), false, first.clone())
            .await?
            .items
            .len();
    }
    let registrations = engine
        .pending_registrations(actor, my_participant(ctx).await?, first.clone())
        .await?;
    let others = crate::cases::waiting(ctx).await;
    let count = |n: usize, more: bool| if more { format!("{n}+") } else { n.to_string() };
    let body = html! {
        h1 { (ctx.t("home-title")) }
        h2 { (ctx.t("home-requests-waiting")) }
        ul.counts {
            @for (side, n, more) in &sides {
                li {
                    a href=(format!("/requests/deadlines?side={}&waiting=true", side_code(*side))) {
                        (ctx.t(match side { Side::Requester => "home-as-requester", Side::Responder => "home-as-responder" }))
                    }
                    ": " strong { (count(*n, *more)) }
                }
            }
            li {
                a href=(format!("/requests/deadlines?until={yesterday}")) { (ctx.t("home-overdue")) }
                ": " strong { (overdue) }
            }
        }
        @if !others.is_empty() {
            h2 { (ctx.t("home-other-cases")) }
            ul.counts {
                @for (text, href, n, more) in &others {
                    li { a href=(href) { (text) } ": " strong { (count(*n, *more)) } }
                }
            }
        }
        @if !registrations.items.is_empty() {
            h2 { (ctx.t("registrations-title")) }
            p {
                a href="/registrations" { (ctx.t("home-registrations")) }
                ": " strong { (count(registrations.items.len(), registrations.next.is_some())) }
            }
        }
    };
    Ok((ctx.s("home-title"), body))
}

/// Today by the engine's clock (the page is about the engine's deadlines).
fn engine_today(ctx: &Ctx) -> chrono::NaiveDate {
    ctx.web.engine.now().date_naive()
}

fn side_code(side: Side) -> &'static str {
    match side {
        Side::Requester => "requester",
        Side::Responder => "responder",
    }
}

// ---- Coordinators ----

/// The reader's authority's country (or the Commission).
async fn my_participant(ctx: &Ctx) -> Result<Participant, WebError> {
    let actor = ctx.user()?;
    let imi_core::access::Actor::User(p) = actor else {
        return Err(WebError::SignIn);
    };
    Ok(ctx
        .web
        .engine
        .authority(actor, p.authority())
        .await?
        .participant())
}

/// Self-registrations the reader may validate (a coordinator's administrator).
pub(crate) async fn registrations(ctx: Ctx, Query(p): Query<DirectoryParams>) -> Response {
    let outcome = registrations_body(&ctx, p.cursor.as_deref()).await;
    ctx.render(outcome)
}

async fn registrations_body(ctx: &Ctx, cursor: Option<&str>) -> Result<Body, WebError> {
    let actor = ctx.user()?;
    let participant = my_participant(ctx).await?;
    let page = ctx
        .web
        .engine
        .pending_registrations(actor, participant, page_request(cursor)?)
        .await?;
    let catalogue = ctx.web.engine.catalogue();
    let body = html! {
        h1 { (ctx.t("registrations-title")) }
        @if page.items.is_empty() {
            p { (ctx.t("no-registrations")) }
        }
        @for a in &page.items {
            @let name = a.name().resolve_for(&ctx.prefs);
            section.registration {
                h2 lang=(name.language.code()) { (name.text) }
                dl {
                    dt { (ctx.t("country")) } dd lang="en" { (a.participant().code()) }
                    dt { (ctx.t("registered-at")) } dd { (a.registered_at().format("%Y-%m-%d")) }
                    dt { (ctx.t("competences")) }
                    dd {
                        @for (i, c) in a.competences().iter().enumerate() {
                            @if i > 0 { ", " }
                            @match catalogue.area(&c.area) {
                                Some(area) => (ctx.lt(&area.name)),
                                None => (c.area.to_string()),
                            }
                        }
                    }
                }
                form method="post" action=(format!("/registrations/{}", a.id())) {
                    input type="hidden" name="csrf" value=(ctx.csrf());
                    input type="hidden" name="verdict" value="approve";
                    button type="submit" { (ctx.t("approve")) }
                }
                form method="post" action=(format!("/registrations/{}", a.id())) {
                    input type="hidden" name="csrf" value=(ctx.csrf());
                    input type="hidden" name="verdict" value="reject";
                    @let rid = format!("reason-{}", a.id());
                    div.field {
                        label for=(rid) { (ctx.t("field-reason")) }
                        textarea id=(rid) name="reason" rows="2" required {}
                    }
                    button type="submit" { (ctx.t("reject")) }
                }
            }
        }
        (next_link(ctx, &page, "/registrations", &[]))
    };
    Ok((ctx.s("registrations-title"), body))
}

#[derive(Deserialize)]
pub(crate) struct VerdictForm {
    csrf: String,
    verdict: String,
    reason: Option<String>,
}

/// Approves or rejects a self-registration.
pub(crate) async fn validate_registration(
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<VerdictForm>,
) -> Response {
    let outcome = async {
        let actor = ctx.user()?;
        if !same(&form.csrf, &ctx.csrf()) {
            return Err(WebError::Forged);
        }
        let id: AuthorityId = id.parse().map_err(|_| missing())?;
        let verdict = match form.verdict.as_str() {
            "approve" => imi_core::Verdict::Approve,
            "reject" => imi_core::Verdict::Reject {
                reason: form.reason.clone().unwrap_or_default(),
            },
            _ => return Err(WebError::BadInput("verdict".into())),
        };
        ctx.web
            .engine
            .validate_registration(actor, id, verdict)
            .await?;
        Ok("/registrations".to_owned())
    }
    .await;
    ctx.after_post(outcome)
}

// ---- Directory ----

#[derive(Deserialize, Default)]
pub(crate) struct DirectoryParams {
    q: Option<String>,
    country: Option<String>,
    area: Option<String>,
    procedure: Option<String>,
    region: Option<String>,
    cursor: Option<String>,
}

/// The directory of authorities: search by words, country and area.
pub(crate) async fn directory(ctx: Ctx, Query(p): Query<DirectoryParams>) -> Response {
    let outcome = directory_body(&ctx, &p).await;
    ctx.render(outcome)
}

async fn directory_body(ctx: &Ctx, p: &DirectoryParams) -> Result<Body, WebError> {
    let actor = ctx.user()?;
    let q = p.q.as_deref().unwrap_or_default().trim();
    let country = p.country.as_deref().unwrap_or_default();
    let area = p.area.as_deref().unwrap_or_default();
    let participant = participant_param(country)?;
    let area_id = match area {
        "" => None,
        a => Some(a.parse().map_err(|_| WebError::BadInput("area".into()))?),
    };
    let procedure = p.procedure.as_deref().unwrap_or_default();
    let procedure_id = match procedure {
        "" => None,
        a => Some(
            a.parse()
                .map_err(|_| WebError::BadInput("procedure".into()))?,
        ),
    };
    let region = p.region.as_deref().unwrap_or_default().trim();
    let region_code = match region {
        "" => None,
        r => Some(r.parse().map_err(|_| WebError::BadInput("region".into()))?),
    };
    let searched = !q.is_empty()
        || participant.is_some()
        || area_id.is_some()
        || procedure_id.is_some()
        || region_code.is_some();
    let catalogue = ctx.web.engine.catalogue();
    let hits = if searched {
        let query = DirectoryQuery {
            text: (!q.is_empty()).then(|| q.to_owned()),
            participant,
            area: area_id,
            procedure: procedure_id,
            region: region_code,
            ..Default::default()
        };
        Some(
            ctx.web
                .engine
                .search_directory(
                    actor,
                    &query,
                    &ctx.prefs,
                    page_request(p.cursor.as_deref())?,
                )
                .await?,
        )
    } else {
        None
    };
    let body = html! {
        h1 { (ctx.t("directory-title")) }
        form.search method="get" action="/directory" role="search" {
            div.field {
                label for="q" { (ctx.t("search-text")) }
                input #q type="search" name="q" value=(q);
            }
            div.field {
                label for="country" { (ctx.t("country")) }
                select #country name="country" {
                    option value="" { (ctx.t("country-any")) }
                    @for c in Country::ALL {
                        option value=(c.code()) selected[c.code() == country] lang="en" { (c.code()) " — " (c.english_name()) }
                    }
                    option value="EC" selected[country == "EC"] lang="en" { "EC — European Commission" }
                }
            }
            div.field {
                label for="area" { (ctx.t("area")) }
                select #area name="area" {
                    option value="" { (ctx.t("area-any")) }
                    @for a in catalogue.areas() {
                        option value=(a.id.to_string()) selected[a.id.to_string() == area] { (ctx.lt(&a.name)) }
                    }
                }
            }
            div.field {
                label for="procedure" { (ctx.t("procedure")) }
                select #procedure name="procedure" {
                    option value="" { (ctx.t("procedure-any")) }
                    @for x in catalogue.procedures() {
                        option value=(x.id.to_string()) selected[x.id.to_string() == procedure] { (ctx.lt(&x.name)) }
                    }
                }
            }
            div.field {
                label for="region" { (ctx.t("region")) }
                input #region type="text" name="region" value=(region) aria-describedby="region-hint";
                p.hint #region-hint { (ctx.t("region-hint")) }
            }
            button type="submit" { (ctx.t("search")) }
        }
        p { a href="/registers" { (ctx.t("registers-link")) } }
        @if let Some(hits) = &hits {
            @if hits.items.is_empty() {
                p { (ctx.t("no-authorities")) }
            } @else {
                ul.results {
                    @for h in &hits.items {
                        li {
                            a href=(format!("/directory/{}", h.authority.id())) lang=(h.name_language.code()) { (h.name) }
                            " (" (h.authority.participant().code()) ")"
                            @if h.fallback { " " span.note { (ctx.t("name-in-other-language")) } }
                        }
                    }
                }
                (next_link(ctx, hits, "/directory", &[("q", q), ("country", country), ("area", area), ("procedure", procedure), ("region", region)]))
            }
        }
    };
    Ok((ctx.s("directory-title"), body))
}

/// One authority's page: names, competences, contact data.
pub(crate) async fn authority(ctx: Ctx, Path(id): Path<String>) -> Response {
    let outcome = authority_body(&ctx, &id).await;
    ctx.render(outcome)
}

async fn authority_body(ctx: &Ctx, id: &str) -> Result<Body, WebError> {
    let actor = ctx.user()?;
    let id: AuthorityId = id.parse().map_err(|_| missing())?;
    let a = ctx.web.engine.authority(actor, id).await?;
    let catalogue = ctx.web.engine.catalogue();
    let name = a.name().resolve_for(&ctx.prefs);
    let contact = a.contact();
    let body = html! {
        h1 lang=(name.language.code()) { (name.text) }
        dl {
            dt { (ctx.t("country")) } dd lang="en" { (a.participant().code()) }
            dt { (ctx.t("status")) } dd { (format!("{:?}", a.status()).to_lowercase()) }
        }
        h2 { (ctx.t("competences")) }
        ul {
            @for c in a.competences() {
                li {
                    @match catalogue.area(&c.area) {
                        Some(area) => (ctx.lt(&area.name)),
                        None => (c.area.to_string()),
                    }
                    @if !c.keywords.is_empty() { ": " (c.keywords.join(", ")) }
                }
            }
        }
        h2 { (ctx.t("contact")) }
        dl {
            @if let Some(v) = &contact.address { dt { (ctx.t("address")) } dd { (v) } }
            @if let Some(v) = &contact.email { dt { (ctx.t("email")) } dd { (v.as_str()) } }
            @if let Some(v) = &contact.phone { dt { (ctx.t("phone")) } dd { (v) } }
            @if let Some(v) = &contact.website { dt { (ctx.t("website")) } dd { (v) } }
        }
    };
    Ok((name.text.to_owned(), body))
}

pub(crate) fn missing() -> WebError {
    WebError::Engine(imi_core::EngineError::NotFound {
        kind: "page",
        id: String::new(),
    })
}

// ---- Requests ----

#[derive(Deserialize, Default)]
pub(crate) struct InboxParams {
    side: Option<String>,
    stage: Option<String>,
    until: Option<String>,
    waiting: Option<bool>,
    cursor: Option<String>,
}

const STAGES: [Stage; 7] = [
    Stage::Draft,
    Stage::AwaitingAcceptance,
    Stage::Accepted,
    Stage::Answered,
    Stage::ClarificationRequested,
    Stage::Closed,
    Stage::Withdrawn,
];

fn parse_side(s: Option<&str>) -> Result<Option<Side>, WebError> {
    match s.unwrap_or_default() {
        "" => Ok(None),
        "requester" => Ok(Some(Side::Requester)),
        "responder" => Ok(Some(Side::Responder)),
        _ => Err(WebError::BadInput("side".into())),
    }
}

/// The inbox: the authority's requests by side and stage.
pub(crate) async fn requests(ctx: Ctx, Query(p): Query<InboxParams>) -> Response {
    let outcome = requests_body(&ctx, &p).await;
    ctx.render(outcome)
}

async fn requests_body(ctx: &Ctx, p: &InboxParams) -> Result<Body, WebError> {
    let actor = ctx.user()?;
    let side = parse_side(p.side.as_deref())?;
    let stage_name = p.stage.as_deref().unwrap_or_default();
    let stage = match stage_name {
        "" => None,
        s => Some(
            STAGES
                .into_iter()
                .find(|x| x.name() == s)
                .ok_or_else(|| WebError::BadInput("stage".into()))?,
        ),
    };
    let query = InboxQuery {
        side,
        stage,
        allocated_to_me: false,
    };
    let page = ctx
        .web
        .engine
        .inbox(actor, &query, page_request(p.cursor.as_deref())?)
        .await?;
    let side_name = side.map(side_code).unwrap_or_default();
    let body = html! {
        h1 { (ctx.t("requests-title")) }
        p { a href="/requests/new" { (ctx.t("new-request")) } }
        form.filters method="get" action="/requests" {
            div.field {
                label for="side" { (ctx.t("side")) }
                select #side name="side" {
                    option value="" { (ctx.t("side-any")) }
                    option value="requester" selected[side_name == "requester"] { (ctx.t("side-requester")) }
                    option value="responder" selected[side_name == "responder"] { (ctx.t("side-responder")) }
                }
            }
            div.field {
                label for="stage" { (ctx.t("stage")) }
                select #stage name="stage" {
                    option value="" { (ctx.t("stage-any")) }
                    @for s in STAGES {
                        option value=(s.name()) selected[s.name() == stage_name] { (ctx.t(&format!("stage-{}", s.name()))) }
                    }
                }
            }
            button type="submit" { (ctx.t("filter")) }
        }
        (request_table(ctx, &page))
        (next_link(ctx, &page, "/requests", &[("side", side_name), ("stage", stage_name)]))
    };
    Ok((ctx.s("requests-title"), body))
}

/// The open requests by deadline, soonest first.
pub(crate) async fn deadlines(ctx: Ctx, Query(p): Query<InboxParams>) -> Response {
    let outcome = deadlines_body(&ctx, &p).await;
    ctx.render(outcome)
}

async fn deadlines_body(ctx: &Ctx, p: &InboxParams) -> Result<Body, WebError> {
    let actor = ctx.user()?;
    let until = match p.until.as_deref().unwrap_or_default() {
        "" => None,
        d => Some(
            d.parse::<chrono::NaiveDate>()
                .map_err(|_| WebError::BadInput("until".into()))?,
        ),
    };
    let waiting = p.waiting.unwrap_or(false);
    let sides = match parse_side(p.side.as_deref())? {
        Some(s) => vec![s],
        None => vec![Side::Requester, Side::Responder],
    };
    let mut sections = Vec::new();
    for side in sides {
        let page = ctx
            .web
            .engine
            .inbox_by_deadline(
                actor,
                side,
                until,
                waiting,
                page_request(p.cursor.as_deref())?,
            )
            .await?;
        sections.push((side, page));
    }
    let until_text = until.map(|d| d.to_string()).unwrap_or_default();
    let body = html! {
        h1 { (ctx.t("deadlines-title")) }
        @for (side, page) in &sections {
            h2 { (ctx.t(match side { Side::Requester => "side-requester", Side::Responder => "side-responder" })) }
            (request_table(ctx, page))
            (next_link(ctx, page, "/requests/deadlines", &[("side", side_code(*side)), ("until", &until_text), ("waiting", if waiting { "true" } else { "" })]))
        }
    };
    Ok((ctx.s("deadlines-title"), body))
}

fn request_table(ctx: &Ctx, page: &Page<RequestView>) -> Markup {
    if page.items.is_empty() {
        return html! { p { (ctx.t("no-requests")) } };
    }
    let catalogue = ctx.web.engine.catalogue();
    html! {
        table {
            thead {
                tr {
                    th scope="col" { (ctx.t("reference")) }
                    th scope="col" { (ctx.t("procedure")) }
                    th scope="col" { (ctx.t("stage")) }
                    th scope="col" { (ctx.t("needed-by")) }
                    th scope="col" { (ctx.t("updated")) }
                }
            }
            tbody {
                @for v in &page.items {
                    tr {
                        td { a href=(format!("/requests/{}", v.case.id)) { (v.case.reference.to_string()) } }
                        td {
                            @match catalogue.procedure(&v.case.procedure) {
                                Some(p) => (ctx.lt(&p.name)),
                                None => (v.case.procedure.to_string()),
                            }
                        }
                        td { (ctx.t(&format!("stage-{}", v.case.request.state().stage().name()))) }
                        td { (v.case.request.needed_by().map(|d| d.to_string()).unwrap_or_default()) }
                        td { time datetime=(v.case.updated_at.to_rfc3339()) { (v.case.updated_at.format("%Y-%m-%d %H:%M")) } }
                    }
                }
            }
        }
    }
}

/// Starting a request: the procedures the reader's authority may use.
pub(crate) async fn new_request_form(ctx: Ctx) -> Response {
    let outcome = new_request_body(&ctx).await;
    ctx.render(outcome)
}

async fn new_request_body(ctx: &Ctx) -> Result<Body, WebError> {
    let actor = ctx.user()?;
    let imi_core::access::Actor::User(p) = actor else {
        return Err(WebError::SignIn);
    };
    let mine = ctx.web.engine.authority(actor, p.authority()).await?;
    let catalogue = ctx.web.engine.catalogue();
    let procedures: Vec<_> = catalogue
        .procedures()
        .filter(|p| matches!(p.workflow, imi_core::catalogue::Workflow::Request { .. }))
        .filter(|p| mine.procedures().contains(&p.id))
        .collect();
    let body = html! {
        h1 { (ctx.t("new-request")) }
        form method="post" action="/requests/new" {
            input type="hidden" name="csrf" value=(ctx.csrf());
            div.field {
                label for="procedure" { (ctx.t("procedure")) }
                select #procedure name="procedure" required {
                    @for p in &procedures {
                        option value=(p.id.to_string()) { (ctx.lt(&p.name)) }
                    }
                }
            }
            button type="submit" { (ctx.t("create-draft")) }
        }
    };
    Ok((ctx.s("new-request"), body))
}

#[derive(Deserialize)]
pub(crate) struct NewRequestForm {
    csrf: String,
    procedure: String,
}

/// Creates a draft of the chosen procedure and shows it for filling in.
pub(crate) async fn new_request(ctx: Ctx, Form(form): Form<NewRequestForm>) -> Response {
    let outcome = async {
        let actor = ctx.user()?;
        if !same(&form.csrf, &ctx.csrf()) {
            return Err(WebError::Forged);
        }
        let procedure = form
            .procedure
            .parse()
            .map_err(|_| WebError::BadInput("procedure".into()))?;
        let view = ctx.web.engine.create_request(actor, &procedure).await?;
        Ok(format!("/requests/{}", view.case.id))
    }
    .await;
    ctx.after_post(outcome)
}

/// One request: who, what stage, the answers the reader may see, the timeline.
pub(crate) async fn request(
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<crate::cases::CaseParams>,
) -> Response {
    let outcome = request_body(&ctx, &id, q.find.as_deref(), None).await;
    ctx.render(outcome)
}

/// Under a timeline entry with free text: its machine translation into the page's
/// language when just asked for (labelled as such, with the engine's name), else the
/// button that asks for it (where a translator is configured).
fn translation<E: serde::Serialize>(
    ctx: &Ctx,
    case: CaseId,
    e: &imi_core::case::TimelineEntry<E>,
    translated: Option<&(u64, Vec<imi_core::translate::MachineTranslation>)>,
) -> Markup {
    if crate::forms::event_texts(&e.event).is_empty() || !ctx.web.engine.translates() {
        return html! {};
    }
    match translated {
        Some((seq, done)) if *seq == e.seq => html! {
            @for t in done {
                div.translation {
                    p lang=(t.to.code()) { (t.text) }
                    p.note { (ctx.t("machine-translation")) " (" (t.engine) ")" }
                }
            }
        },
        _ => html! {
            form.inline method="post" action=(format!("/requests/{case}/timeline/{}/translate", e.seq)) {
                input type="hidden" name="csrf" value=(ctx.csrf());
                button type="submit" { (ctx.t("translate")) }
            }
        },
    }
}

#[derive(Deserialize)]
pub(crate) struct TranslateForm {
    csrf: String,
}

/// Machine-translates one timeline entry into the page's language and shows the request
/// with it (the answer to the post itself: a plain visit never sends text to the
/// translator).
pub(crate) async fn translate(
    ctx: Ctx,
    Path((id, seq)): Path<(String, u64)>,
    Form(form): Form<TranslateForm>,
) -> Response {
    let outcome = async {
        let actor = ctx.user()?;
        if !same(&form.csrf, &ctx.csrf()) {
            return Err(WebError::Forged);
        }
        let case: CaseId = id.parse().map_err(|_| missing())?;
        let done = ctx
            .web
            .engine
            .translate_timeline_entry(actor, case, seq, ctx.lang)
            .await?;
        request_body(&ctx, &id, None, Some((seq, done))).await
    }
    .await;
    ctx.render(outcome)
}

async fn request_body(
    ctx: &Ctx,
    id: &str,
    find: Option<&str>,
    translated: Option<(u64, Vec<imi_core::translate::MachineTranslation>)>,
) -> Result<Body, WebError> {
    let actor = ctx.user()?;
    let id: CaseId = id.parse().map_err(|_| missing())?;
    let engine = &ctx.web.engine;
    let (view, version, timeline) = engine.request_with_timeline(actor, id).await?;
    let offered = engine.request_commands(actor, id).await?;
    let c = &view.case;
    let catalogue = engine.catalogue();
    let set = catalogue.question_set(&c.question_set.id, c.question_set.version);
    let subject = Subject {
        path: format!("/requests/{}", c.id),
        version,
        procedure: &c.procedure,
        own: Some(c.requester),
        draft: Some(c.request.request_answers()),
        set,
        find,
        uploads: true,
        mine: if view.roles.requester {
            Some((Side::Requester, c.request.request_answers()))
        } else if view.roles.responder {
            Some((Side::Responder, c.request.reply_answers()))
        } else {
            None
        },
    };
    let forms = command_forms(ctx, &subject, &offered).await;
    let mut args = FluentArgs::new();
    args.set("reference", c.reference.to_string());
    let title = ctx
        .web
        .texts
        .get(ctx.lang, "request-title", Some(&args))
        .text;
    let requester = authority_name(ctx, c.requester).await;
    let recipient = match c.request.state().recipient() {
        Some(r) => Some(authority_name(ctx, r).await),
        None => None,
    };
    let actors = crate::cases::timeline_actors(ctx, &timeline).await;
    let body = html! {
        h1 { (title) }
        dl.summary {
            dt { (ctx.t("procedure")) }
            dd {
                @match catalogue.procedure(&c.procedure) {
                    Some(p) => (ctx.lt(&p.name)),
                    None => (c.procedure.to_string()),
                }
            }
            dt { (ctx.t("request-from")) } dd { (requester) }
            @if let Some(r) = &recipient { dt { (ctx.t("request-to")) } dd { (r) } }
            dt { (ctx.t("stage")) } dd { (ctx.t(&format!("stage-{}", c.request.state().stage().name()))) }
            @if let Some(d) = c.request.needed_by() { dt { (ctx.t("needed-by")) } dd { (d.to_string()) } }
        }
        @match view.visibility {
            Visibility::Full => {},
            Visibility::WithoutPersonalData => p.notice { (ctx.t("hidden-personal-data")) },
            Visibility::ProgressOnly => p.notice { (ctx.t("progress-only")) },
        }
        @if view.visibility != Visibility::ProgressOnly {
            h2 { (ctx.t("request-answers")) }
            (answers_list(ctx, c.request.request_answers(), set))
            @if !c.request.reply_answers().is_empty() {
                h2 { (ctx.t("reply-answers")) }
                (answers_list(ctx, c.request.reply_answers(), set))
            }
        }
        @if !forms.is_empty() {
            h2 { (ctx.t("actions")) }
            @for form in &forms { (form) }
        }
        (crate::cases::timeline_table(ctx, &timeline, &actors, &|e| translation(ctx, c.id, e, translated.as_ref())))
    };
    Ok((title, body))
}

/// Runs a command from a request page's form, then shows the request again. A form with
/// files comes as `multipart/form-data`: each file is stored as the request's attachment
/// as it arrives (after the anti-forgery value, which comes first, was checked), and its
/// id joins the answers of its question.
pub(crate) async fn request_command(
    ctx: Ctx,
    Path((id, form_id)): Path<(String, String)>,
    request: axum::extract::Request,
) -> Response {
    let outcome = async {
        let actor = ctx.user()?;
        let case: CaseId = id.parse().map_err(|_| missing())?;
        // Only a command the page offered (one the machine allows this reader now), and
        // known before a byte of the form is read: files come only with answers.
        let spec = ctx
            .web
            .engine
            .request_commands(actor, case)
            .await?
            .into_iter()
            .find(|s| s.id == form_id)
            .ok_or_else(|| not_offered(actor))?;
        let files = spec.fields.iter().any(|f| f.kind == FieldKind::Answers);
        let pairs = crate::uploads::read_form(&ctx, case, request, files).await?;
        run_request_command(&ctx, case, spec, &pairs).await
    }
    .await;
    ctx.after_post(outcome.map(|id| format!("/requests/{id}")))
}

async fn run_request_command(
    ctx: &Ctx,
    id: CaseId,
    spec: &CommandSpec,
    pairs: &[(String, String)],
) -> Result<CaseId, WebError> {
    let actor = ctx.user()?;
    let posted = Posted(pairs);
    if !same(posted.value("csrf").unwrap_or_default(), &ctx.csrf()) {
        return Err(WebError::Forged);
    }
    let version = posted.version()?;
    let engine = &ctx.web.engine;
    // The question set and the saved answers, only for a command that carries answers
    // (reading the request is an audited read of its personal data).
    let view = if spec.fields.iter().any(|f| f.kind == FieldKind::Answers) {
        Some(engine.request(actor, id).await?.0)
    } else {
        None
    };
    let catalogue = engine.catalogue();
    let set = view
        .as_ref()
        .and_then(|v| catalogue.question_set(&v.case.question_set.id, v.case.question_set.version));
    let command: RequestCommand = posted.command(
        spec,
        set,
        view.as_ref().map(|v| v.case.request.request_answers()),
    )?;
    engine
        .act_on_request(actor, id, command, Some(version))
        .await?;
    Ok(id)
}

/// An authority's name in the reader's language, marked with its language.
pub(crate) async fn authority_name(ctx: &Ctx, id: AuthorityId) -> Markup {
    match ctx
        .web
        .engine
        .authority(&imi_core::access::Actor::System, id)
        .await
    {
        Ok(a) => ctx.lt(a.name()),
        Err(_) => html! { (id.to_string()) },
    }
}

/// The refusal of a command the page did not offer (the case's stage or the reader's part
/// in it does not allow it now).
pub(crate) fn not_offered(actor: &imi_core::access::Actor) -> WebError {
    WebError::Engine(imi_core::EngineError::Denied(imi_core::access::Denial {
        actor: actor.to_string(),
        action: "use this command",
        reason: "the case's stage or your part in it does not allow it",
    }))
}

/// `/registers`: the directory of national registers, searchable like the authorities'.
pub(crate) async fn registers(ctx: Ctx, Query(p): Query<DirectoryParams>) -> Response {
    let outcome = registers_body(&ctx, &p).await;
    ctx.render(outcome)
}

async fn registers_body(ctx: &Ctx, p: &DirectoryParams) -> Result<Body, WebError> {
    let actor = ctx.user()?;
    let q = p.q.as_deref().unwrap_or_default().trim();
    let country = p.country.as_deref().unwrap_or_default();
    let participant = participant_param(country)?;
    let query = imi_core::RegisterQuery {
        text: (!q.is_empty()).then(|| q.to_owned()),
        participant,
        area: None,
    };
    let hits = ctx
        .web
        .engine
        .search_registers(
            actor,
            &query,
            &ctx.prefs,
            page_request(p.cursor.as_deref())?,
        )
        .await?;
    let body = html! {
        h1 { (ctx.t("registers-title")) }
        form.search method="get" action="/registers" role="search" {
            div.field {
                label for="q" { (ctx.t("search-text")) }
                input #q type="search" name="q" value=(q);
            }
            div.field {
                label for="country" { (ctx.t("country")) }
                select #country name="country" {
                    option value="" { (ctx.t("country-any")) }
                    @for c in Country::ALL {
                        option value=(c.code()) selected[c.code() == country] lang="en" { (c.code()) " — " (c.english_name()) }
                    }
                }
            }
            button type="submit" { (ctx.t("search")) }
        }
        @if hits.items.is_empty() {
            p { (ctx.t("nothing-here")) }
        } @else {
            ul.results {
                @for h in &hits.items {
                    @let d = &h.register.data;
                    li {
                        h2 lang=(h.name_language.code()) { (h.name) " (" (d.participant.code()) ")" }
                        p { (ctx.lt(&d.content)) }
                        dl.summary {
                            dt { (ctx.t("register-access")) } dd { (ctx.lt(&d.access_conditions)) }
                            @if let Some(link) = &d.link { dt { (ctx.t("website")) } dd { (link) } }
                            @if let Some(v) = &d.contact.email { dt { (ctx.t("email")) } dd { (v.as_str()) } }
                        }
                    }
                }
            }
            (next_link(ctx, &hits, "/registers", &[("q", q), ("country", country)]))
        }
    };
    Ok((ctx.s("registers-title"), body))
}

/// A country filter from the address: none when empty, else a participant code.
pub(crate) fn participant_param(country: &str) -> Result<Option<Participant>, WebError> {
    match country.trim() {
        "" => Ok(None),
        c => c
            .parse::<Participant>()
            .map(Some)
            .map_err(|e| WebError::BadInput(e.to_string())),
    }
}
