//! Notifications: create, read (with `ETag`), act (with `If-Match`), timeline, sent and
//! received boxes. Sender and recipients see the whole notification; anyone else 404.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use imi_core::notification::{NotificationCommand, NotificationStage};
use imi_core::store::Version;
use imi_core::{CaseId, NotificationBox, NotificationCase};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::localised;
use super::requests::{AnswerDto, answers_dto};
use crate::AppState;
use crate::dto::{Page, PageParams};
use crate::extract::{Body, Caller, Params, Reader, etag, if_match, parse};
use crate::problem::Problem;

/// A notification.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct NotificationDto {
    id: String,
    reference: String,
    procedure: String,
    question_set: String,
    question_set_version: u32,
    sender: String,
    sender_country: String,
    /// `draft`, `sent` or `closed`.
    stage: &'static str,
    /// The full state, with dates.
    #[schema(value_type = Object)]
    state: serde_json::Value,
    /// Recipient countries (`EC` is the Commission).
    recipients: Vec<String>,
    comments: u32,
    answers: Vec<AnswerDto>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn dto(state: &AppState, c: &NotificationCase, reader: &Reader) -> NotificationDto {
    let catalogue = state.engine.catalogue();
    let set = catalogue.question_set(&c.question_set.id, c.question_set.version);
    let n = &c.notification;
    NotificationDto {
        id: c.id.to_string(),
        reference: c.reference.to_string(),
        procedure: c.procedure.to_string(),
        question_set: c.question_set.id.to_string(),
        question_set_version: c.question_set.version,
        sender: c.sender.to_string(),
        sender_country: c.sender_country.to_string(),
        stage: n.state().stage().name(),
        state: serde_json::to_value(n.state()).unwrap_or_default(),
        recipients: n.recipients().iter().map(|p| p.to_string()).collect(),
        comments: n.comments(),
        answers: answers_dto(n.answers(), set, reader),
        created_at: c.created_at,
        updated_at: c.updated_at,
    }
}

fn respond(state: &AppState, reader: &Reader, c: &NotificationCase, version: Version) -> Response {
    let mut r = localised(reader, dto(state, c, reader));
    r.headers_mut().insert(header::ETAG, etag(version));
    r
}

/// What to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewNotificationDto {
    procedure: String,
}

/// Starts a draft notification of a notification procedure (notification handlers).
#[utoipa::path(post, path = "/v1/notifications", tag = "notifications", request_body = NewNotificationDto, responses((status = 201, body = NotificationDto), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Body(req): Body<NewNotificationDto>,
) -> Result<Response, Problem> {
    let case = state
        .engine
        .create_notification(&actor, &parse("procedure id", &req.procedure)?)
        .await?;
    Ok((
        StatusCode::CREATED,
        localised(&reader, dto(&state, &case, &reader)),
    )
        .into_response())
}

/// Reads a notification (its sender, and its recipients once sent); the `ETag` is for
/// `If-Match`.
#[utoipa::path(get, path = "/v1/notifications/{id}", tag = "notifications", params(("id" = String, Path)), responses((status = 200, body = NotificationDto, headers(("ETag" = String))), (status = 404, body = Problem)))]
pub(crate) async fn get(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id: CaseId = parse("notification id", &id)?;
    let (case, version) = state.engine.notification(&actor, id).await?;
    Ok(respond(&state, &reader, &case, version))
}

/// Acts on a notification: `{"command": "save-draft", "answers": {...}}`,
/// `{"command": "send", "countries": ["FR", "DE"]}` (the Commission is added when the
/// procedure notifies it), `{"command": "comment", "text": "…"}`,
/// `{"command": "close", "reason": "…"}`. With `If-Match`, a stale version gives 412.
#[utoipa::path(post, path = "/v1/notifications/{id}/commands", tag = "notifications", params(("id" = String, Path), ("If-Match" = Option<String>, Header)), request_body = Object, responses((status = 200, body = NotificationDto), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn act(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Path(id): Path<String>,
    headers: HeaderMap,
    Body(command): Body<serde_json::Value>,
) -> Result<Response, Problem> {
    let id: CaseId = parse("notification id", &id)?;
    let expected = if_match(&headers)?;
    let command: NotificationCommand = serde_json::from_value(command).map_err(|e| {
        Problem::bad_request("bad-body", format!("not a notification command: {e}"))
    })?;
    let (case, version) = state
        .engine
        .act_on_notification(&actor, id, command, expected)
        .await?;
    Ok(respond(&state, &reader, &case, version))
}

/// One step of a notification's timeline.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct NotificationTimelineDto {
    seq: u64,
    at: DateTime<Utc>,
    /// Who: `{ "kind": "user", ... }` or `{ "kind": "system" }`.
    #[schema(value_type = Object)]
    actor: serde_json::Value,
    /// What happened: `{ "event": "sent" | "commented" | ..., ... }`.
    #[schema(value_type = Object)]
    event: serde_json::Value,
}

/// A notification's timeline.
#[utoipa::path(get, path = "/v1/notifications/{id}/timeline", tag = "notifications", params(("id" = String, Path)), responses((status = 200, body = Vec<NotificationTimelineDto>), (status = 404, body = Problem)))]
pub(crate) async fn timeline(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id: CaseId = parse("notification id", &id)?;
    let entries = state.engine.notification_timeline(&actor, id).await?;
    let out: Vec<NotificationTimelineDto> = entries
        .iter()
        .map(|e| NotificationTimelineDto {
            seq: e.seq,
            at: e.at,
            actor: serde_json::to_value(e.actor).unwrap_or_default(),
            event: serde_json::to_value(&e.event).unwrap_or_default(),
        })
        .collect();
    Ok(localised(&reader, out))
}

/// Which notifications to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct NotificationBoxParams {
    /// `sent` (the caller's authority's, drafts included) or `received` (sent to the
    /// caller's country, or to the Commission for its users).
    #[serde(rename = "box")]
    which: String,
    /// A stage name (for `sent`).
    stage: Option<String>,
    /// Page size.
    limit: Option<usize>,
    /// Where to continue.
    cursor: Option<String>,
}

/// A box of notifications.
#[utoipa::path(get, path = "/v1/notifications", tag = "notifications", params(NotificationBoxParams), responses((status = 200, body = Page<NotificationDto>), (status = 400, body = Problem)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Params(p): Params<NotificationBoxParams>,
) -> Result<Response, Problem> {
    let which = match p.which.as_str() {
        "sent" => NotificationBox::Sent,
        "received" => NotificationBox::Received,
        other => {
            return Err(Problem::bad_request(
                "bad-query",
                format!("`{other}` is not a box: use sent or received"),
            ));
        }
    };
    let stage = match p.stage.as_deref() {
        None => None,
        Some(name) => Some(
            NotificationStage::ALL
                .into_iter()
                .find(|s| s.name() == name)
                .ok_or_else(|| {
                    Problem::bad_request(
                        "bad-query",
                        format!("`{name}` is not a notification stage"),
                    )
                })?,
        ),
    };
    let page = PageParams {
        limit: p.limit,
        cursor: p.cursor,
    }
    .into_core()?;
    let found = state
        .engine
        .notifications(&actor, which, stage, page)
        .await?;
    Ok(localised(
        &reader,
        Page::of(found, |c| dto(&state, c, &reader)),
    ))
}
