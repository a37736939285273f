//! Repositories: the shared records of an area (licence holders, registered operators),
//! searched by their readers and kept by their editors. A record's form is generated from
//! the repository's question set; its update and retire forms come from the record's
//! machine ([`imi_core::workflow::offered`]), its history from its revisions.

use axum::Form;
use axum::extract::{Path, Query};
use axum::response::Response;
use imi_core::access::Actor;
use imi_core::catalogue::{ProcedureId, Right, Side, WorkflowKind};
use imi_core::repository::{Audience, RecordCommand, RecordStatus, RepositoryRecord};
use imi_core::workflow::Command as _;
use imi_core::{RecordId, RecordQuery};
use maud::html;
use serde::Deserialize;

use crate::forms::{Posted, Subject, answer_inputs, answers_list, command_forms};
use crate::pages::{Body, authority_name, missing, next_link, not_offered, page_request, same};
use crate::{Ctx, WebError};

/// `/repositories`: the repositories of the catalogue.
pub(crate) async fn list(ctx: Ctx) -> Response {
    let outcome = async {
        ctx.user()?;
        let catalogue = ctx.web.engine.catalogue();
        let body = html! {
            h1 { (ctx.t("nav-repositories")) }
            ul {
                @for p in catalogue.procedures().filter(|p| p.workflow.kind() == WorkflowKind::Repository) {
                    li { a href=(format!("/repositories/{}", p.id)) { (ctx.lt(&p.name)) } }
                }
            }
        };
        Ok((ctx.s("nav-repositories"), body))
    }
    .await;
    ctx.render(outcome)
}

#[derive(Deserialize)]
pub(crate) struct SearchParams {
    q: Option<String>,
    retired: Option<String>,
    cursor: Option<String>,
}

/// The repository procedure `id`, or not found.
fn repository(ctx: &Ctx, id: &str) -> Result<imi_core::catalogue::Procedure, WebError> {
    let id: ProcedureId = id.parse().map_err(|_| missing())?;
    ctx.web
        .engine
        .catalogue()
        .procedure(&id)
        .filter(|p| p.workflow.kind() == WorkflowKind::Repository)
        .cloned()
        .ok_or_else(missing)
}

/// `/repositories/{procedure}`: a repository's records, searched.
pub(crate) async fn search(
    ctx: Ctx,
    Path(procedure): Path<String>,
    Query(p): Query<SearchParams>,
) -> Response {
    let outcome = search_body(&ctx, &procedure, &p).await;
    ctx.render(outcome)
}

async fn search_body(ctx: &Ctx, procedure: &str, p: &SearchParams) -> Result<Body, WebError> {
    let actor = ctx.user()?;
    let proc_ = repository(ctx, procedure)?;
    let q = p.q.clone().unwrap_or_default();
    let retired = p.retired.as_deref() == Some("on");
    let query = RecordQuery {
        text: q.clone(),
        include_retired: retired,
    };
    let page = ctx
        .web
        .engine
        .search_records(actor, &proc_.id, &query, page_request(p.cursor.as_deref())?)
        .await?;
    let catalogue = ctx.web.engine.catalogue();
    let base = format!("/repositories/{}", proc_.id);
    let mut owners = Vec::new();
    for r in &page.items {
        owners.push(authority_name(ctx, r.owner).await);
    }
    let title = ctx.lt(&proc_.name).into_string();
    let body = html! {
        h1 { (ctx.lt(&proc_.name)) }
        p { a href=(format!("{base}/new")) { (ctx.t("new-record")) } }
        form.search method="get" action=(base) role="search" {
            div.field {
                label for="q" { (ctx.t("search-text")) }
                input #q type="search" name="q" value=(q);
            }
            div {
                input #retired type="checkbox" name="retired" checked[retired];
                label for="retired" { (ctx.t("include-retired")) }
            }
            button type="submit" { (ctx.t("search")) }
        }
        @if page.items.is_empty() {
            p { (ctx.t("nothing-here")) }
        } @else {
            @for (r, owner) in page.items.iter().zip(&owners) {
                @let set = catalogue.question_set(&r.question_set.id, r.question_set.version);
                section.record {
                    h2 { a href=(format!("/records/{}", r.id)) { (ctx.t("record")) " " (r.revision) } " — " (owner) }
                    (answers_list(ctx, &r.fields, set))
                }
            }
        }
        (next_link(ctx, &page, &base, &[("q", &q), ("retired", if retired { "on" } else { "" })]))
    };
    Ok((title, body))
}

/// `/repositories/{procedure}/new`: the form of a new record.
pub(crate) async fn new_form(ctx: Ctx, Path(procedure): Path<String>) -> Response {
    let outcome = async {
        ctx.user()?;
        let proc_ = repository(&ctx, &procedure)?;
        let catalogue = ctx.web.engine.catalogue();
        let set = catalogue
            .latest_question_set(&proc_.question_set)
            .ok_or_else(missing)?;
        let body = html! {
            h1 { (ctx.t("new-record")) ": " (ctx.lt(&proc_.name)) }
            form method="post" action=(format!("/repositories/{}/new", proc_.id)) {
                input type="hidden" name="csrf" value=(ctx.csrf());
                (answer_inputs(&ctx, &crate::forms::AnswerForm { prefix: "new-fields", member: "fields", set, side: Side::Requester, current: None, enforce: true, files: false, rectifying: false }))
                div.field {
                    label for="new-audience" { (ctx.t("field-audience")) }
                    select #new-audience name="audience" {
                        option value="area" { (ctx.t("audience-area")) }
                        option value="own" { (ctx.t("audience-own")) }
                    }
                }
                button type="submit" { (ctx.t("create-record")) }
            }
        };
        Ok((ctx.s("new-record"), body))
    }
    .await;
    ctx.render(outcome)
}

/// `POST /repositories/{procedure}/new`.
pub(crate) async fn create(
    ctx: Ctx,
    Path(procedure): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let posted = Posted(&pairs);
    let outcome = async {
        let actor = ctx.user()?;
        if !same(posted.value("csrf").unwrap_or_default(), &ctx.csrf()) {
            return Err(WebError::Forged);
        }
        let proc_ = repository(&ctx, &procedure)?;
        let catalogue = ctx.web.engine.catalogue();
        let set = catalogue.latest_question_set(&proc_.question_set);
        let fields = serde_json::from_value(posted.answers("fields", set))
            .map_err(|e| WebError::BadInput(e.to_string()))?;
        let audience = match posted.value("audience") {
            Some("own") => Audience::Group {
                authorities: Default::default(),
            },
            _ => Audience::Area,
        };
        let (r, _) = ctx
            .web
            .engine
            .create_record(actor, &proc_.id, fields, audience)
            .await?;
        Ok(format!("/records/{}", r.id))
    }
    .await;
    ctx.after_post(outcome)
}

/// Whether `actor` is an editor of the authority keeping `r` (the engine decides; this
/// only chooses the forms to offer).
fn editor(actor: &Actor, r: &RepositoryRecord) -> bool {
    matches!(actor, Actor::User(p) if p.authority() == r.owner && p.has_right(Right::RepositoryEditor))
}

/// `/records/{id}`: a record, its history and what the reader may do with it.
pub(crate) async fn record(ctx: Ctx, Path(id): Path<String>) -> Response {
    let outcome = record_body(&ctx, &id).await;
    ctx.render(outcome)
}

async fn record_body(ctx: &Ctx, id: &str) -> Result<Body, WebError> {
    let actor = ctx.user()?;
    let id: RecordId = id.parse().map_err(|_| missing())?;
    let engine = &ctx.web.engine;
    let (r, version) = engine.record(actor, id).await?;
    let history = engine.record_history(actor, id).await?;
    let catalogue = engine.catalogue();
    let set = catalogue.question_set(&r.question_set.id, r.question_set.version);
    let offered = match set {
        Some(set) => imi_core::workflow::offered(&r, editor(actor, &r), &set),
        None => Vec::new(),
    };
    let subject = Subject {
        path: format!("/records/{id}"),
        version,
        procedure: &r.procedure,
        own: Some(r.owner),
        draft: Some(&r.fields),
        set,
        find: None,
        uploads: false,
        mine: None,
    };
    let forms = command_forms(ctx, &subject, &offered).await;
    let owner = authority_name(ctx, r.owner).await;
    let mut authors = Vec::new();
    for h in &history {
        authors.push(match h.updated_by {
            imi_core::case::ActorRef::User { authority, .. } => {
                authority_name(ctx, authority).await
            }
            _ => ctx.t("system"),
        });
    }
    let title = format!("{} {}", ctx.s("record"), r.revision);
    let body = html! {
        h1 { (title) }
        dl.summary {
            dt { (ctx.t("procedure")) }
            dd { @match catalogue.procedure(&r.procedure) { Some(p) => (ctx.lt(&p.name)), None => (r.procedure.to_string()) } }
            dt { (ctx.t("party-owner")) } dd { (owner) }
            dt { (ctx.t("field-audience")) }
            dd { (ctx.t(match r.audience { Audience::Area => "audience-area", Audience::Group { .. } => "audience-group" })) }
            dt { (ctx.t("status")) }
            dd { (ctx.t(match r.status { RecordStatus::Active => "record-active", RecordStatus::Retired { .. } => "record-retired" })) }
        }
        (answers_list(ctx, &r.fields, set))
        @if !forms.is_empty() {
            h2 { (ctx.t("actions")) }
            @for form in &forms { (form) }
        }
        h2 { (ctx.t("record-history")) }
        table {
            thead { tr {
                th scope="col" { (ctx.t("record")) }
                th scope="col" { (ctx.t("when")) }
                th scope="col" { (ctx.t("who")) }
            } }
            tbody {
                @for (h, who) in history.iter().zip(&authors) {
                    tr {
                        td { (h.revision) }
                        td { time datetime=(h.updated_at.to_rfc3339()) { (h.updated_at.format("%Y-%m-%d %H:%M")) } }
                        td { (who) }
                    }
                }
            }
        }
    };
    Ok((title, body))
}

/// `POST /records/{id}/commands/{form}`: update or retire.
pub(crate) async fn command(
    ctx: Ctx,
    Path((id, form)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let posted = Posted(&pairs);
    let outcome = async {
        let actor = ctx.user()?;
        if !same(posted.value("csrf").unwrap_or_default(), &ctx.csrf()) {
            return Err(WebError::Forged);
        }
        let id: RecordId = id.parse().map_err(|_| missing())?;
        let version = posted.version()?;
        let engine = &ctx.web.engine;
        let (r, _) = engine.record(actor, id).await?;
        let catalogue = engine.catalogue();
        let set = catalogue.question_set(&r.question_set.id, r.question_set.version);
        let spec = RecordCommand::SPECS
            .iter()
            .find(|s| s.id == form)
            .ok_or_else(|| not_offered(actor))?;
        let command: RecordCommand = posted.command(spec, set, None)?;
        engine
            .act_on_record(actor, id, command, Some(version))
            .await?;
        Ok(format!("/records/{id}"))
    }
    .await;
    ctx.after_post(outcome)
}
