//! The public portal: pages for citizens and businesses, without an account. The public
//! directory; a submission through a procedure open to the public, which answers once with
//! the reference and the secret; and the submitter's own pages, opened with the secret:
//! the status in their language, the authority's questions and their replies, withdrawal,
//! and a copy of their data.
//!
//! The secret never travels in an address. Opening a submission puts it in an HttpOnly,
//! `SameSite=Strict` cookie scoped to `/public`; the submitter's forms carry an
//! anti-forgery value derived from it; "forget" removes the cookie.

use axum::Form;
use axum::extract::Query;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use imi_core::catalogue::{AnswerValue, ProcedureId, Side, Workflow};
use imi_core::submission::{SubmissionCommand, SubmissionSecret};
use imi_core::workflow::Command as _;
use imi_core::{
    AuthorityId, DirectoryQuery, EngineError, LabelledAnswer, Language, MessageFrom, MessageKind,
    NewSubmission, PublicAuthority, SubmissionStatus,
};
use maud::{Markup, html};
use serde::Deserialize;

use crate::forms::{Posted, answer_inputs};
use crate::pages::{Body, autonym, html_response, missing, next_link, page_request, same};
use crate::{Ctx, WebError, cookie, see_other, set_cookie};

/// The cookie that holds an opened submission's secret.
const SUBMISSION_COOKIE: &str = "imi_submission";
/// How long an opened submission stays open in the browser: one hour.
const SUBMISSION_SECONDS: i64 = 3600;

/// The cookie that holds the nonce of the portal's session-less forms.
const FORM_COOKIE: &str = "imi_form";

/// What the submitter's anti-forgery values are derived for.
const FORM_PURPOSE: &str = "imi-web public form";

/// Procedures open to public submission.
fn public_procedures(ctx: &Ctx) -> Vec<imi_core::catalogue::Procedure> {
    ctx.web
        .engine
        .catalogue()
        .procedures()
        .filter(|p| {
            matches!(
                p.workflow,
                Workflow::Request {
                    public_submission: true,
                    ..
                }
            )
        })
        .cloned()
        .collect()
}

/// `/public`: what a citizen can do here.
pub(crate) async fn portal(ctx: Ctx) -> Response {
    let nonce = match fresh_nonce(&ctx) {
        Ok(n) => n,
        Err(e) => return ctx.error_page(&e),
    };
    let procedures = public_procedures(&ctx);
    let body = html! {
        h1 { (ctx.t("public-title")) }
        p { (ctx.t("public-intro")) }
        h2 { (ctx.t("public-submit-heading")) }
        @if procedures.is_empty() {
            p { (ctx.t("nothing-here")) }
        } @else {
            ul {
                @for p in &procedures {
                    li { a href=(format!("/public/submit?procedure={}", p.id)) { (ctx.lt(&p.name)) } }
                }
            }
        }
        h2 { (ctx.t("public-follow-heading")) }
        (open_form(&ctx, &nonce, None))
        h2 { (ctx.t("public-directory-heading")) }
        p { a href="/public/directory" { (ctx.t("public-directory-link")) } }
    };
    with_nonce(&ctx, &nonce, ctx.render(Ok((ctx.s("public-title"), body))))
}

/// The form that opens a submission with its secret. Its anti-forgery value is the
/// session-less kind: a nonce in a short-lived cookie, as on the sign-in page.
fn open_form(ctx: &Ctx, nonce: &str, failed: Option<&str>) -> Markup {
    html! {
        form method="post" action="/public/open" {
            input type="hidden" name="csrf" value=(nonce);
            div.field {
                label for="secret" { (ctx.t("public-secret")) }
                @if let Some(id) = failed {
                    p #secret-error .error role="alert" { (ctx.t(id)) }
                    input #secret type="password" name="secret" autocomplete="off" required aria-invalid="true" aria-describedby="secret-error";
                } @else {
                    input #secret type="password" name="secret" autocomplete="off" required;
                }
            }
            button type="submit" { (ctx.t("public-open")) }
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct DirectoryParams {
    text: Option<String>,
    country: Option<String>,
    procedure: Option<String>,
    cursor: Option<String>,
}

/// `/public/directory`: the public directory, searchable.
pub(crate) async fn directory(ctx: Ctx, Query(p): Query<DirectoryParams>) -> Response {
    let outcome = directory_body(&ctx, &p).await;
    ctx.render(outcome)
}

async fn directory_body(ctx: &Ctx, p: &DirectoryParams) -> Result<Body, WebError> {
    let blank = |v: &Option<String>| v.clone().filter(|v| !v.trim().is_empty());
    let participant = crate::pages::participant_param(p.country.as_deref().unwrap_or_default())?;
    let procedure: Option<ProcedureId> = blank(&p.procedure)
        .map(|c| {
            c.parse()
                .map_err(|_| WebError::BadInput("procedure".into()))
        })
        .transpose()?;
    let query = DirectoryQuery {
        text: blank(&p.text),
        participant,
        procedure,
        ..Default::default()
    };
    let page = ctx
        .web
        .engine
        .search_public_directory(&query, &ctx.prefs, page_request(p.cursor.as_deref())?)
        .await?;
    let catalogue = ctx.web.engine.catalogue();
    let text = p.text.clone().unwrap_or_default();
    let country = p.country.clone().unwrap_or_default();
    let body = html! {
        h1 { (ctx.t("public-directory-heading")) }
        form.search method="get" action="/public/directory" {
            div.field {
                label for="text" { (ctx.t("search-text")) }
                input #text type="search" name="text" value=(text);
            }
            div.field {
                label for="country" { (ctx.t("country")) }
                select #country name="country" {
                    option value="" { (ctx.t("country-any")) }
                    @for c in imi_core::Country::ALL {
                        option value=(c.code()) selected[country == c.code()] { (c.english_name()) }
                    }
                }
            }
            button type="submit" { (ctx.t("search")) }
        }
        @if page.items.is_empty() {
            p { (ctx.t("no-authorities")) }
        } @else {
            ul.results {
                @for a in &page.items {
                    li {
                        h2 { (ctx.lt(&a.name)) " (" (a.participant.code()) ")" }
                        (contact(ctx, a))
                        @let offered: Vec<_> = a.procedures.iter().filter_map(|id| catalogue.procedure(id)).filter(|p| matches!(p.workflow, Workflow::Request { public_submission: true, .. })).collect();
                        @if !offered.is_empty() {
                            p { (ctx.t("public-takes")) }
                            ul {
                                @for p in offered {
                                    li { a href=(format!("/public/submit?procedure={}&authority={}", p.id, a.id)) { (ctx.lt(&p.name)) } }
                                }
                            }
                        }
                    }
                }
            }
        }
        (next_link(ctx, &page, "/public/directory", &[("text", &text), ("country", &country), ("procedure", p.procedure.as_deref().unwrap_or_default())]))
    };
    Ok((ctx.s("public-directory-heading"), body))
}

/// An authority's public contact data.
fn contact(ctx: &Ctx, a: &PublicAuthority) -> Markup {
    let c = &a.contact;
    html! {
        dl.summary {
            @if let Some(v) = &c.email { dt { (ctx.t("email")) } dd { (v.to_string()) } }
            @if let Some(v) = &c.phone { dt { (ctx.t("phone")) } dd { (v) } }
            @if let Some(v) = &c.website { dt { (ctx.t("website")) } dd { (v) } }
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct SubmitParams {
    procedure: Option<String>,
    authority: Option<String>,
}

/// `/public/submit?procedure=…`: the form of a procedure open to the public.
pub(crate) async fn submit_form(ctx: Ctx, Query(p): Query<SubmitParams>) -> Response {
    let nonce = match fresh_nonce(&ctx) {
        Ok(n) => n,
        Err(e) => return ctx.error_page(&e),
    };
    let outcome = submit_body(&ctx, &p, &nonce).await;
    with_nonce(&ctx, &nonce, ctx.render(outcome))
}

/// The public procedure `id`, or not found.
fn public_procedure(ctx: &Ctx, id: &str) -> Result<imi_core::catalogue::Procedure, WebError> {
    public_procedures(ctx)
        .into_iter()
        .find(|p| p.id.as_str() == id)
        .ok_or_else(missing)
}

async fn submit_body(ctx: &Ctx, p: &SubmitParams, nonce: &str) -> Result<Body, WebError> {
    let procedure = public_procedure(ctx, p.procedure.as_deref().unwrap_or_default())?;
    let query = DirectoryQuery {
        procedure: Some(procedure.id.clone()),
        ..Default::default()
    };
    let first = imi_core::PageRequest::first(100).map_err(|e| WebError::BadInput(e.to_string()))?;
    let authorities = ctx
        .web
        .engine
        .search_public_directory(&query, &ctx.prefs, first)
        .await?;
    let catalogue = ctx.web.engine.catalogue();
    let set = catalogue
        .latest_question_set(&procedure.question_set)
        .ok_or_else(missing)?;
    let chosen = p.authority.clone().unwrap_or_default();
    let title = ctx.s("public-submit-heading");
    let body = html! {
        h1 { (ctx.lt(&procedure.name)) }
        p { (ctx.t("public-submit-intro")) }
        form method="post" action="/public/submit" {
            input type="hidden" name="csrf" value=(nonce);
            input type="hidden" name="procedure" value=(procedure.id.to_string());
            div.field {
                label for="authority" { (ctx.t("public-authority")) }
                select #authority name="authority" required {
                    @for a in &authorities.items {
                        option value=(a.id.to_string()) selected[chosen == a.id.to_string()] {
                            (ctx.lt(&a.name)) " (" (a.participant.code()) ")"
                        }
                    }
                }
            }
            div.field {
                label for="language" { (ctx.t("public-language")) }
                select #language name="language" {
                    @for l in Language::ALL {
                        option value=(l.code()) lang=(l.code()) selected[l == ctx.lang] { (autonym(l)) }
                    }
                }
            }
            (answer_inputs(ctx, &crate::forms::AnswerForm { prefix: "submit-answers", member: "answers", set, side: Side::Requester, current: None, enforce: true, files: false, rectifying: false }))
            button type="submit" { (ctx.t("public-send")) }
        }
    };
    Ok((title, body))
}

/// A fresh nonce for the session-less forms (submit, open): put in the form, and in a
/// short-lived cookie by [`with_nonce`]; a post must bring both, equal.
fn fresh_nonce(ctx: &Ctx) -> Result<String, WebError> {
    let bytes = ctx
        .web
        .ids
        .secret()
        .map_err(|e| WebError::Engine(e.into()))?;
    Ok(bytes.iter().map(|x| format!("{x:02x}")).collect())
}

/// `response` with the nonce cookie set.
fn with_nonce(ctx: &Ctx, nonce: &str, mut response: Response) -> Response {
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&ctx.web, FORM_COOKIE, nonce, 3600, "Strict"),
    );
    response
}

/// Whether a session-less form's value matches its cookie.
fn nonce_ok(headers: &HeaderMap, given: &str) -> bool {
    let expected = cookie(headers, FORM_COOKIE).unwrap_or_default();
    !expected.is_empty() && same(expected, given)
}

/// `POST /public/submit`: the submission; answers once with the reference and the secret.
pub(crate) async fn submit(
    ctx: Ctx,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let posted = Posted(&pairs);
    if !nonce_ok(&headers, posted.value("csrf").unwrap_or_default()) {
        return ctx.error_page(&WebError::Forged);
    }
    if !ctx.web.public_posts.take(ctx.client) {
        return crate::pages::too_many_saying(&ctx, "public-too-many");
    }
    let outcome = async {
        let procedure = public_procedure(&ctx, posted.value("procedure").unwrap_or_default())?;
        let authority: AuthorityId = posted
            .value("authority")
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| WebError::BadInput("authority".into()))?;
        let language: Language = posted
            .value("language")
            .and_then(|l| l.parse().ok())
            .unwrap_or(ctx.lang);
        let catalogue = ctx.web.engine.catalogue();
        let set = catalogue.latest_question_set(&procedure.question_set);
        let answers = serde_json::from_value(posted.answers("answers", set))
            .map_err(|e| WebError::BadInput(e.to_string()))?;
        let receipt = ctx
            .web
            .engine
            .submit(NewSubmission {
                procedure: procedure.id.clone(),
                authority,
                language,
                answers,
            })
            .await?;
        Ok(receipt)
    }
    .await;
    let receipt = match outcome {
        Ok(r) => r,
        Err(e) => return ctx.error_page(&e),
    };
    let secret = receipt.secret.expose();
    let body = html! {
        h1 { (ctx.t("public-received")) }
        dl.summary {
            dt { (ctx.t("reference")) } dd { strong { (receipt.reference.to_string()) } }
            dt { (ctx.t("public-secret")) } dd { code.secret { (secret) } }
        }
        p.notice role="alert" { strong { (ctx.t("public-keep-this")) } }
        p { a href="/public/status" { (ctx.t("public-follow-link")) } }
    };
    let mut response = html_response(StatusCode::OK, ctx.layout(&ctx.s("public-received"), &body));
    let h = response.headers_mut();
    // The secret is on this page: never keep it in a cache.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.append(
        header::SET_COOKIE,
        submission_cookie(&ctx, secret, SUBMISSION_SECONDS),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(&ctx.web, FORM_COOKIE, "", 0, "Strict"),
    );
    response
}

/// The cookie holding an opened submission's secret, for `/public` only.
fn submission_cookie(ctx: &Ctx, secret: &str, max_age: i64) -> HeaderValue {
    let secure = if ctx.web.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let text = format!(
        "{SUBMISSION_COOKIE}={secret}; Path=/public; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[derive(Deserialize)]
pub(crate) struct OpenForm {
    csrf: String,
    secret: String,
}

/// `POST /public/open`: opens a submission with its secret (kept in a cookie).
pub(crate) async fn open(ctx: Ctx, headers: HeaderMap, Form(form): Form<OpenForm>) -> Response {
    if !nonce_ok(&headers, &form.csrf) {
        return ctx.error_page(&WebError::Forged);
    }
    if !ctx.web.public_posts.take(ctx.client) {
        return crate::pages::too_many_saying(&ctx, "public-too-many");
    }
    let Ok(secret) = form.secret.trim().parse::<SubmissionSecret>() else {
        return not_opened(&ctx);
    };
    match ctx
        .web
        .engine
        .submission_status(&secret, Some(ctx.lang))
        .await
    {
        Ok(_) => {
            let mut response = see_other("/public/status");
            response.headers_mut().append(
                header::SET_COOKIE,
                submission_cookie(&ctx, secret.expose(), SUBMISSION_SECONDS),
            );
            response
        }
        Err(EngineError::NotFound { .. } | EngineError::Unauthenticated) => not_opened(&ctx),
        Err(e) => ctx.error_page(&WebError::from(e)),
    }
}

/// The portal again, saying the secret opened nothing.
fn not_opened(ctx: &Ctx) -> Response {
    let nonce = match fresh_nonce(ctx) {
        Ok(n) => n,
        Err(e) => return ctx.error_page(&e),
    };
    let body = html! {
        h1 { (ctx.t("public-follow-heading")) }
        (open_form(ctx, &nonce, Some("public-not-opened")))
    };
    let page = html_response(
        StatusCode::UNAUTHORIZED,
        ctx.layout(&ctx.s("public-follow-heading"), &body),
    );
    with_nonce(ctx, &nonce, page)
}

/// The opened submission's secret, from its cookie.
fn opened(headers: &HeaderMap) -> Option<SubmissionSecret> {
    cookie(headers, SUBMISSION_COOKIE).and_then(|c| c.parse().ok())
}

/// `/public/status`: the opened submission as its submitter sees it.
pub(crate) async fn status(ctx: Ctx, headers: HeaderMap) -> Response {
    let Some(secret) = opened(&headers) else {
        return see_other("/public");
    };
    match ctx
        .web
        .engine
        .submission_status(&secret, Some(ctx.lang))
        .await
    {
        Ok((status, version)) => {
            let body = status_body(&ctx, &secret, &status, version);
            let mut response = html_response(
                StatusCode::OK,
                ctx.layout(&ctx.s("public-status-title"), &body),
            );
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(EngineError::NotFound { .. }) => not_opened(&ctx),
        Err(e) => ctx.error_page(&WebError::from(e)),
    }
}

fn status_body(
    ctx: &Ctx,
    secret: &SubmissionSecret,
    s: &SubmissionStatus,
    version: imi_core::store::Version,
) -> Markup {
    let csrf = secret.derive(FORM_PURPOSE);
    let offered: Vec<&str> = submitter_commands(s);
    html! {
        h1 { (ctx.t("public-status-title")) }
        dl.summary {
            dt { (ctx.t("reference")) } dd { (s.reference.to_string()) }
            dt { (ctx.t("procedure")) } dd { (s.procedure_name) }
            dt { (ctx.t("public-authority")) } dd { (s.authority_name) }
            dt { (ctx.t("stage")) } dd lang=(s.label_language.code()) { (s.stage_label) }
            dt { (ctx.t("updated")) } dd { time datetime=(s.updated_at.to_rfc3339()) { (s.updated_at.format("%Y-%m-%d %H:%M")) } }
        }
        @if s.your_turn { p.notice role="status" { (ctx.t("public-your-turn")) } }
        h2 { (ctx.t("answers-submission")) }
        (labelled(ctx, &s.answers))
        @if !s.reply.is_empty() {
            h2 { (ctx.t("answers-reply")) }
            (labelled(ctx, &s.reply))
        }
        @if !s.messages.is_empty() {
            h2 { (ctx.t("public-messages")) }
            ol.messages {
                @for m in &s.messages {
                    li {
                        p.note {
                            time datetime=(m.at.to_rfc3339()) { (m.at.format("%Y-%m-%d %H:%M")) } " — "
                            (ctx.t(match m.from { MessageFrom::Authority => "public-from-authority", MessageFrom::You => "public-from-you" }))
                            " — "
                            (ctx.t(match m.kind { MessageKind::Question => "public-question", MessageKind::Reply => "public-reply", MessageKind::ClosingReason => "public-closing-reason" }))
                        }
                        p { (m.text) }
                    }
                }
            }
        }
        @if !offered.is_empty() { h2 { (ctx.t("actions")) } }
        @for id in offered {
            form.command method="post" action=(format!("/public/status/commands/{id}")) {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="version" value=(version.raw());
                @if id == "reply" {
                    fieldset {
                        legend { (ctx.t("command-reply")) }
                        div.field {
                            label for="reply-text" { (ctx.t("field-text")) }
                            textarea #reply-text name="text" rows="4" required {}
                        }
                        button type="submit" { (ctx.t("command-reply")) }
                    }
                } @else {
                    button type="submit" { (ctx.t(&format!("command-{id}"))) }
                }
            }
        }
        form.command method="post" action="/public/status/data" {
            input type="hidden" name="csrf" value=(csrf);
            button type="submit" { (ctx.t("public-my-data")) }
        }
        form.command method="post" action="/public/forget" {
            input type="hidden" name="csrf" value=(csrf);
            button type="submit" { (ctx.t("public-forget")) }
        }
    }
}

/// What the submitter may do now: reply when it is their turn, withdraw while the
/// authority has not answered or closed.
fn submitter_commands(s: &SubmissionStatus) -> Vec<&'static str> {
    use imi_core::submission::SubmissionStage as S;
    let mut out = Vec::new();
    if s.your_turn {
        out.push("reply");
    }
    if matches!(s.stage, S::Received | S::InHandling | S::AwaitingSubmitter) {
        out.push("withdraw");
    }
    out
}

/// Labelled answers (labels already in the submitter's language, marked where not).
fn labelled(ctx: &Ctx, answers: &[LabelledAnswer]) -> Markup {
    html! {
        dl.answers {
            @for a in answers {
                @if a.language == ctx.lang { dt { (a.label) } } @else { dt lang=(a.language.code()) { (a.label) } }
                dd {
                    @match &a.value {
                        AnswerValue::Text(t) => (t),
                        AnswerValue::YesNo(b) => (ctx.t(if *b { "yes" } else { "no" })),
                        AnswerValue::Date(d) => (d.to_string()),
                        AnswerValue::Number(n) => (n),
                        AnswerValue::Choice(o) => (o.to_string()),
                        AnswerValue::Choices(os) => (os.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")),
                        AnswerValue::Attachments(ids) => { (ids.len()) " 📎" },
                    }
                }
            }
        }
    }
}

/// Why a submitter's form is refused.
enum Refused {
    /// No submission is open in this browser.
    NotOpened,
    /// The anti-forgery value is not the one derived from the open submission's secret.
    Forged,
}

impl Refused {
    fn response(&self, ctx: &Ctx) -> Response {
        match self {
            Refused::NotOpened => see_other("/public"),
            Refused::Forged => ctx.error_page(&WebError::Forged),
        }
    }
}

/// The opened secret, when the form's anti-forgery value is the one derived from it.
fn submitter(headers: &HeaderMap, posted: &Posted<'_>) -> Result<SubmissionSecret, Refused> {
    let secret = opened(headers).ok_or(Refused::NotOpened)?;
    if !same(
        posted.value("csrf").unwrap_or_default(),
        &secret.derive(FORM_PURPOSE),
    ) {
        return Err(Refused::Forged);
    }
    Ok(secret)
}

/// `POST /public/status/commands/{reply|withdraw}`.
pub(crate) async fn command(
    ctx: Ctx,
    headers: HeaderMap,
    axum::extract::Path(form): axum::extract::Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let posted = Posted(&pairs);
    let secret = match submitter(&headers, &posted) {
        Ok(s) => s,
        Err(r) => return r.response(&ctx),
    };
    if !ctx.web.public_posts.take(ctx.client) {
        return crate::pages::too_many_saying(&ctx, "public-too-many");
    }
    let outcome = async {
        if !matches!(form.as_str(), "reply" | "withdraw") {
            return Err(missing());
        }
        let spec = SubmissionCommand::SPECS
            .iter()
            .find(|s| s.id == form)
            .ok_or_else(missing)?;
        let version = posted.version()?;
        let command: SubmissionCommand = posted.command(spec, None, None)?;
        ctx.web
            .engine
            .act_as_submitter(&secret, command, Some(version))
            .await?;
        Ok("/public/status".to_owned())
    }
    .await;
    ctx.after_post(outcome)
}

/// `POST /public/status/data`: everything the submission holds about the submitter.
pub(crate) async fn data(
    ctx: Ctx,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let posted = Posted(&pairs);
    let secret = match submitter(&headers, &posted) {
        Ok(s) => s,
        Err(r) => return r.response(&ctx),
    };
    if !ctx.web.public_posts.take(ctx.client) {
        return crate::pages::too_many_saying(&ctx, "public-too-many");
    }
    let export = match ctx.web.engine.submission_data(&secret).await {
        Ok(e) => e,
        Err(e) => return ctx.error_page(&WebError::from(e)),
    };
    let s = &export.status;
    let body = html! {
        h1 { (ctx.t("public-my-data")) }
        p { (ctx.t("public-data-intro")) }
        dl.summary {
            dt { (ctx.t("reference")) } dd { (s.reference.to_string()) }
            dt { (ctx.t("procedure")) } dd { (s.procedure_name) }
            dt { (ctx.t("public-authority")) } dd { (s.authority_name) }
            dt { (ctx.t("public-submitted-at")) } dd { (s.submitted_at.format("%Y-%m-%d %H:%M")) }
            dt { (ctx.t("public-exported-at")) } dd { (export.exported_at.format("%Y-%m-%d %H:%M")) }
        }
        h2 { (ctx.t("answers-submission")) }
        (labelled(&ctx, &s.answers))
        h2 { (ctx.t("timeline")) }
        table.timeline {
            thead { tr { th scope="col" { (ctx.t("when")) } th scope="col" { (ctx.t("what")) } } }
            tbody {
                @for e in &export.timeline {
                    tr {
                        td { (e.at.format("%Y-%m-%d %H:%M")) }
                        td { (ctx.t(&format!("event-{}", crate::forms::event_name(&e.event)))) }
                    }
                }
            }
        }
        p { a href="/public/status" { (ctx.t("public-back-to-status")) } }
    };
    let mut response = html_response(StatusCode::OK, ctx.layout(&ctx.s("public-my-data"), &body));
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `POST /public/forget`: closes the opened submission in this browser.
pub(crate) async fn forget(
    ctx: Ctx,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let posted = Posted(&pairs);
    if let Err(r) = submitter(&headers, &posted) {
        return r.response(&ctx);
    }
    let mut response = see_other("/public");
    response
        .headers_mut()
        .append(header::SET_COOKIE, submission_cookie(&ctx, "", 0));
    response
}
