//! Administration: what coordinators and authorities' administrators do in the browser.
//! The authorities of their country (with a form to register one), an authority's
//! procedure access and users, a user's rights, access tokens and disabling. Every page
//! asks the engine as the signed-in actor: the access policy decides, the pages only
//! offer.

use axum::Form;
use axum::extract::{Path, Query};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use imi_core::access::Actor;
use imi_core::authority::{AuthorityStatus, ContactDetails, NewAuthority};
use imi_core::catalogue::Right;
use imi_core::user::{Grant, GrantScope, NewUser, UserStatus};
use imi_core::{AuthorityId, Language, LocalisedText, Participant, UserId};
use maud::{Markup, html};
use serde::Deserialize;

use crate::forms::Posted;
use crate::pages::{Body, autonym, html_response, missing, next_link, page_request, same};
use crate::{Ctx, WebError};

/// The signed-in user's country.
fn my_country(actor: &Actor) -> Result<Participant, WebError> {
    match actor {
        Actor::User(p) => Ok(p.participant()),
        _ => Err(WebError::SignIn),
    }
}

/// A checked form: the signed-in actor, when the anti-forgery value is this session's.
fn checked<'a>(ctx: &'a Ctx, posted: &Posted<'_>) -> Result<&'a Actor, WebError> {
    let actor = ctx.user()?;
    if !same(posted.value("csrf").unwrap_or_default(), &ctx.csrf()) {
        return Err(WebError::Forged);
    }
    Ok(actor)
}

/// A right's name as the API spells it (`request-handler`).
fn right_name(r: Right) -> String {
    serde_json::to_value(r)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// An authority's status as a text id.
fn status_text(s: &AuthorityStatus) -> &'static str {
    match s {
        AuthorityStatus::Active => "authority-active",
        AuthorityStatus::PendingValidation => "authority-pending",
        _ => "authority-inactive",
    }
}

#[derive(Deserialize)]
pub(crate) struct ListParams {
    cursor: Option<String>,
}

/// `/admin`: the authorities of the reader's country, and a form to register one.
pub(crate) async fn authorities(ctx: Ctx, Query(p): Query<ListParams>) -> Response {
    let outcome = authorities_body(&ctx, &p).await;
    ctx.render(outcome)
}

async fn authorities_body(ctx: &Ctx, p: &ListParams) -> Result<Body, WebError> {
    let actor = ctx.user()?;
    let country = my_country(actor)?;
    let page = ctx
        .web
        .engine
        .authorities_of(actor, country, page_request(p.cursor.as_deref())?)
        .await?;
    let title = ctx.s("admin-title");
    let body = html! {
        h1 { (title) }
        h2 { (ctx.t("admin-authorities")) " (" (country.code()) ")" }
        table {
            thead { tr {
                th scope="col" { (ctx.t("name")) }
                th scope="col" { (ctx.t("status")) }
            } }
            tbody {
                @for a in &page.items {
                    tr {
                        td { a href=(format!("/admin/authorities/{}", a.id())) { (ctx.lt(a.name())) } }
                        td { (ctx.t(status_text(a.status()))) }
                    }
                }
            }
        }
        (next_link(ctx, &page, "/admin", &[]))
        h2 { (ctx.t("admin-register")) }
        form method="post" action="/admin/authorities" {
            input type="hidden" name="csrf" value=(ctx.csrf());
            div.field {
                label for="register-name" { (ctx.t("name")) }
                input #register-name type="text" name="name" required maxlength="300";
            }
            div.field {
                label for="register-language" { (ctx.t("admin-name-language")) }
                (language_select(ctx, "register-language", ctx.lang))
            }
            div.field {
                label for="register-email" { (ctx.t("email")) }
                input #register-email type="email" name="email" required;
            }
            button type="submit" { (ctx.t("admin-register")) }
        }
    };
    Ok((title, body))
}

/// A language picker (autonyms).
fn language_select(_ctx: &Ctx, id: &str, chosen: Language) -> Markup {
    html! {
        select id=(id) name="language" {
            @for l in Language::ALL {
                option value=(l.code()) lang=(l.code()) selected[l == chosen] { (autonym(l)) }
            }
        }
    }
}

/// `POST /admin/authorities`: registers an authority of the reader's country.
pub(crate) async fn register(ctx: Ctx, Form(pairs): Form<Vec<(String, String)>>) -> Response {
    let posted = Posted(&pairs);
    let outcome = async {
        let actor = checked(&ctx, &posted)?;
        let language: Language = posted
            .value("language")
            .and_then(|l| l.parse().ok())
            .ok_or_else(|| WebError::BadInput("language".into()))?;
        let name = LocalisedText::new(language, posted.value("name").unwrap_or_default())
            .map_err(|e| WebError::BadInput(e.to_string()))?;
        let email = posted
            .value("email")
            .unwrap_or_default()
            .parse()
            .map_err(|_| WebError::BadInput("email".into()))?;
        let mut new = NewAuthority::new(my_country(actor)?, name);
        new.contact = ContactDetails {
            email: Some(email),
            ..ContactDetails::default()
        };
        new.languages = vec![language];
        let a = ctx.web.engine.register_authority(actor, new).await?;
        Ok(format!("/admin/authorities/{}", a.id()))
    }
    .await;
    ctx.after_post(outcome)
}

/// `/admin/authorities/{id}`: an authority's procedure access and users.
pub(crate) async fn authority(
    ctx: Ctx,
    Path(id): Path<String>,
    Query(p): Query<ListParams>,
) -> Response {
    let outcome = authority_body(&ctx, &id, &p).await;
    ctx.render(outcome)
}

async fn authority_body(ctx: &Ctx, id: &str, p: &ListParams) -> Result<Body, WebError> {
    let actor = ctx.user()?;
    let id: AuthorityId = id.parse().map_err(|_| missing())?;
    let engine = &ctx.web.engine;
    let a = engine.authority(actor, id).await?;
    let users = engine
        .users_of(actor, id, page_request(p.cursor.as_deref())?)
        .await?;
    let catalogue = engine.catalogue();
    let name = a.name().resolve_for(&ctx.prefs);
    let base = format!("/admin/authorities/{id}");
    let body = html! {
        h1 lang=(name.language.code()) { (name.text) }
        p { a href=(format!("/directory/{id}")) { (ctx.t("admin-directory-entry")) } }
        h2 { (ctx.t("admin-procedures")) }
        table {
            thead { tr {
                th scope="col" { (ctx.t("procedure")) }
                th scope="col" { (ctx.t("admin-access")) }
            } }
            tbody {
                @for proc in catalogue.procedures() {
                    @let has = a.procedures().contains(&proc.id);
                    tr {
                        td { (ctx.lt(&proc.name)) }
                        td {
                            form.inline method="post" action=(format!("{base}/procedures")) {
                                input type="hidden" name="csrf" value=(ctx.csrf());
                                input type="hidden" name="procedure" value=(proc.id.to_string());
                                @if has {
                                    input type="hidden" name="access" value="revoke";
                                    (ctx.t("admin-has-access")) " "
                                    button type="submit" { (ctx.t("admin-revoke")) }
                                } @else {
                                    input type="hidden" name="access" value="grant";
                                    button type="submit" { (ctx.t("admin-grant")) }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { (ctx.t("admin-users")) }
        @if users.items.is_empty() {
            p { (ctx.t("nothing-here")) }
        } @else {
            ul {
                @for u in &users.items {
                    li {
                        a href=(format!("/admin/users/{}", u.id())) { (u.name()) }
                        @if matches!(u.status(), UserStatus::Disabled { .. }) { " " span.note { (ctx.t("admin-disabled")) } }
                    }
                }
            }
        }
        (next_link(ctx, &users, &base, &[]))
        h2 { (ctx.t("admin-add-user")) }
        form method="post" action=(format!("{base}/users")) {
            input type="hidden" name="csrf" value=(ctx.csrf());
            div.field {
                label for="user-name" { (ctx.t("name")) }
                input #user-name type="text" name="name" required maxlength="200";
            }
            div.field {
                label for="user-email" { (ctx.t("email")) }
                input #user-email type="email" name="email" required;
            }
            div.field {
                label for="user-language" { (ctx.t("language")) }
                (language_select(ctx, "user-language", ctx.lang))
            }
            button type="submit" { (ctx.t("admin-add-user")) }
        }
    };
    Ok((name.text.to_owned(), body))
}

/// `POST /admin/authorities/{id}/procedures`: grants or revokes one procedure.
pub(crate) async fn procedure_access(
    ctx: Ctx,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let posted = Posted(&pairs);
    let outcome = async {
        let actor = checked(&ctx, &posted)?;
        let id: AuthorityId = id.parse().map_err(|_| missing())?;
        let procedure = posted
            .value("procedure")
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| WebError::BadInput("procedure".into()))?;
        let engine = &ctx.web.engine;
        match posted.value("access") {
            Some("grant") => engine.grant_procedure(actor, id, &procedure).await?,
            Some("revoke") => engine.revoke_procedure(actor, id, &procedure).await?,
            _ => return Err(WebError::BadInput("access".into())),
        };
        Ok(format!("/admin/authorities/{id}"))
    }
    .await;
    ctx.after_post(outcome)
}

/// `POST /admin/authorities/{id}/users`: a new user of the authority.
pub(crate) async fn add_user(
    ctx: Ctx,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let posted = Posted(&pairs);
    let outcome = async {
        let actor = checked(&ctx, &posted)?;
        let id: AuthorityId = id.parse().map_err(|_| missing())?;
        let new = NewUser {
            name: posted.value("name").unwrap_or_default().to_owned(),
            email: posted
                .value("email")
                .unwrap_or_default()
                .parse()
                .map_err(|_| WebError::BadInput("email".into()))?,
            language: posted
                .value("language")
                .and_then(|l| l.parse().ok())
                .unwrap_or(ctx.lang),
        };
        let user = ctx.web.engine.create_user(actor, id, new).await?;
        Ok(format!("/admin/users/{}", user.id()))
    }
    .await;
    ctx.after_post(outcome)
}

/// `/admin/users/{id}`: a user's rights, tokens and status.
pub(crate) async fn user(ctx: Ctx, Path(id): Path<String>) -> Response {
    let outcome = user_body(&ctx, &id).await;
    ctx.render(outcome)
}

async fn user_body(ctx: &Ctx, id: &str) -> Result<Body, WebError> {
    let actor = ctx.user()?;
    let id: UserId = id.parse().map_err(|_| missing())?;
    let engine = &ctx.web.engine;
    let u = engine.user(actor, id).await?;
    let tokens = engine.tokens_of(actor, id).await.unwrap_or_default();
    let everywhere = |r: Right| {
        u.grants()
            .iter()
            .any(|g| g.right == r && g.scope == GrantScope::Everything)
    };
    let base = format!("/admin/users/{id}");
    let active = matches!(u.status(), UserStatus::Active);
    let (own, administrator, api_user) = match actor {
        Actor::User(p) => (
            p.user() == id,
            p.has_right(Right::Administrator),
            p.has_right(Right::ApiUser),
        ),
        _ => (false, false, false),
    };
    // People mint their own tokens (with the api-user right); a service account's are
    // issued by its authority's administrators.
    let may_issue =
        (own && api_user) || (administrator && u.kind() == imi_core::user::UserKind::Service);
    let body = html! {
        h1 { (u.name()) }
        dl.summary {
            dt { (ctx.t("email")) } dd { (u.email().as_str()) }
            dt { (ctx.t("language")) } dd lang=(u.language().code()) { (autonym(u.language())) }
            dt { (ctx.t("status")) } dd { (ctx.t(if active { "authority-active" } else { "admin-disabled" })) }
        }
        p { a href=(format!("/admin/authorities/{}", u.authority())) { (ctx.t("admin-back-to-authority")) } }
        @if active && administrator {
            h2 { (ctx.t("admin-rights")) }
            form method="post" action=(format!("{base}/grants")) {
                input type="hidden" name="csrf" value=(ctx.csrf());
                fieldset.choices {
                    legend { (ctx.t("admin-rights-everywhere")) }
                    @for r in Right::ALL {
                        @let name = right_name(r);
                        @let cid = format!("right-{name}");
                        div {
                            input id=(cid) type="checkbox" name="rights" value=(name) checked[everywhere(r)];
                            label for=(cid) { (ctx.t(&format!("right-{name}"))) }
                        }
                    }
                }
                button type="submit" { (ctx.t("admin-save-rights")) }
            }
        }
        @if active {
            h2 { (ctx.t("admin-tokens")) }
            @if tokens.is_empty() {
                p { (ctx.t("nothing-here")) }
            } @else {
                table {
                    thead { tr {
                        th scope="col" { (ctx.t("admin-token-label")) }
                        th scope="col" { (ctx.t("admin-token-expires")) }
                        th scope="col" { span.visually-hidden { (ctx.t("actions")) } }
                    } }
                    tbody {
                        @for t in &tokens {
                            tr {
                                td { (t.label) }
                                td { time datetime=(t.expires_at.to_rfc3339()) { (t.expires_at.format("%Y-%m-%d")) } }
                                td {
                                    form.inline method="post" action=(format!("{base}/tokens/{}/revoke", t.id)) {
                                        input type="hidden" name="csrf" value=(ctx.csrf());
                                        button type="submit" { (ctx.t("admin-revoke")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if may_issue {
                form method="post" action=(format!("{base}/tokens")) {
                    input type="hidden" name="csrf" value=(ctx.csrf());
                    button type="submit" { (ctx.t("admin-issue-token")) }
                }
            }
        }
        @if active && administrator && !own {
            h2 { (ctx.t("admin-disable")) }
            form method="post" action=(format!("{base}/disable")) {
                input type="hidden" name="csrf" value=(ctx.csrf());
                p { (ctx.t("admin-disable-note")) }
                button type="submit" { (ctx.t("admin-disable")) }
            }
        }
    };
    Ok((u.name().to_owned(), body))
}

/// `POST /admin/users/{id}/grants`: the rights checked, everywhere; grants limited to an
/// area or a procedure (given over the API) are kept.
pub(crate) async fn grants(
    ctx: Ctx,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let posted = Posted(&pairs);
    let outcome = async {
        let actor = checked(&ctx, &posted)?;
        let id: UserId = id.parse().map_err(|_| missing())?;
        let engine = &ctx.web.engine;
        let u = engine.user(actor, id).await?;
        let chosen = posted.values("rights");
        let mut grants: Vec<Grant> = u
            .grants()
            .iter()
            .filter(|g| g.scope != GrantScope::Everything)
            .cloned()
            .collect();
        for r in Right::ALL {
            if chosen.contains(&right_name(r).as_str()) {
                grants.push(Grant::new(r, GrantScope::Everything));
            }
        }
        engine.set_grants(actor, id, grants).await?;
        Ok(format!("/admin/users/{id}"))
    }
    .await;
    ctx.after_post(outcome)
}

/// `POST /admin/users/{id}/tokens`: a new access token, shown once.
pub(crate) async fn issue_token(
    ctx: Ctx,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let posted = Posted(&pairs);
    let outcome = async {
        let actor = checked(&ctx, &posted)?;
        let id: UserId = id.parse().map_err(|_| missing())?;
        let token = ctx.web.engine.issue_token(actor, id).await?;
        Ok((id, token))
    }
    .await;
    let (id, token) = match outcome {
        Ok(t) => t,
        Err(e) => return ctx.failed(&e),
    };
    let body = html! {
        h1 { (ctx.t("admin-token-issued")) }
        p { code.secret { (token.expose()) } }
        p.notice role="alert" { strong { (ctx.t("admin-token-once")) } }
        p { a href=(format!("/admin/users/{id}")) { (ctx.t("admin-back-to-user")) } }
    };
    let mut response = html_response(
        StatusCode::OK,
        ctx.layout(&ctx.s("admin-token-issued"), &body),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `POST /admin/users/{id}/tokens/{token}/revoke`.
pub(crate) async fn revoke_token(
    ctx: Ctx,
    Path((id, token)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let posted = Posted(&pairs);
    let outcome = async {
        let actor = checked(&ctx, &posted)?;
        let id: UserId = id.parse().map_err(|_| missing())?;
        let token = token.parse().map_err(|_| missing())?;
        ctx.web.engine.revoke_token(actor, id, token).await?;
        Ok(format!("/admin/users/{id}"))
    }
    .await;
    ctx.after_post(outcome)
}

/// `POST /admin/users/{id}/disable`: the user stops being one (final).
pub(crate) async fn disable(
    ctx: Ctx,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let posted = Posted(&pairs);
    let outcome = async {
        let actor = checked(&ctx, &posted)?;
        let id: UserId = id.parse().map_err(|_| missing())?;
        ctx.web.engine.disable_user(actor, id).await?;
        Ok(format!("/admin/users/{id}"))
    }
    .await;
    ctx.after_post(outcome)
}

/// `/me`: the signed-in user's own page (tokens).
pub(crate) async fn me(ctx: Ctx) -> Response {
    match ctx.user() {
        Ok(Actor::User(p)) => crate::see_other(&format!("/admin/users/{}", p.user())),
        Ok(_) | Err(_) => crate::see_other("/sign-in"),
    }
}
