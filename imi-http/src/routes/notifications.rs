//! Notifications: create, read (with `ETag`), act (with `If-Match`), timeline, sent and
//! received boxes. Sender and recipients see the whole notification; anyone else 404.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use imi_core::case::TimelineEntry;
use imi_core::notification::{NotificationCommand, NotificationEvent, NotificationStage};
use imi_core::store::Version;
use imi_core::{CaseId, Engine, EngineError, NotificationBox, NotificationCase, access::Actor};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::cases::{CaseApi, case_routes};
use super::localised;
use super::requests::{AnswerDto, answers_dto};
use crate::AppState;
use crate::dto::{Page, PageParams};
use crate::extract::{Body, Caller, Params, Reader, parse};
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

/// The notification case routes.
pub(crate) struct Api;

impl CaseApi for Api {
    const ID: &'static str = "notification id";
    const COMMAND: &'static str = "notification command";
    type Case = NotificationCase;
    type Command = NotificationCommand;
    type Event = NotificationEvent;
    type Dto = NotificationDto;

    async fn read(
        engine: &Engine,
        actor: &Actor,
        id: CaseId,
    ) -> Result<(NotificationCase, Version), EngineError> {
        engine.notification(actor, id).await
    }

    async fn act(
        engine: &Engine,
        actor: &Actor,
        id: CaseId,
        command: NotificationCommand,
        if_match: Option<Version>,
    ) -> Result<(NotificationCase, Version), EngineError> {
        engine
            .act_on_notification(actor, id, command, if_match)
            .await
    }

    async fn timeline(
        engine: &Engine,
        actor: &Actor,
        id: CaseId,
    ) -> Result<Vec<TimelineEntry<NotificationEvent>>, EngineError> {
        engine.notification_timeline(actor, id).await
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
}

case_routes!(
    Api,
    tag = "notifications",
    dto = NotificationDto,
    get = (
        "/v1/notifications/{id}",
        "get_notification",
        "Reads a notification: its sender, and its recipients once sent; anyone else gets 404. The `ETag` is for `If-Match`."
    ),
    act = (
        "/v1/notifications/{id}/commands",
        "act_on_notification",
        "Acts on a notification: `{\"command\": \"save-draft\", \"answers\": {...}}` (replaces the saved answers), `{\"command\": \"send\", \"countries\": [\"FR\", \"DE\"]}` (the Commission is added when the procedure notifies it), `{\"command\": \"comment\", \"text\": \"…\"}`, `{\"command\": \"close\", \"reason\": \"…\"}`. With `If-Match`, a stale version gives 412."
    ),
    timeline = (
        "/v1/notifications/{id}/timeline",
        "notification_timeline",
        "A notification's timeline, oldest first: recipients see what was sent, not how it was drafted."
    )
);

/// What to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewNotificationDto {
    procedure: String,
}

/// Starts a draft notification of a notification procedure (notification handlers).
#[utoipa::path(post, path = "/v1/notifications", tag = "notifications", operation_id = "create_notification", request_body = NewNotificationDto, responses((status = 201, body = NotificationDto), (status = 403, body = Problem), (status = 404, body = Problem)))]
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
        localised(&reader, Api::dto(&state, &case, &reader)),
    )
        .into_response())
}

/// Which notifications to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
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
#[utoipa::path(get, path = "/v1/notifications", tag = "notifications", operation_id = "list_notifications", params(NotificationBoxParams), responses((status = 200, body = Page<NotificationDto>), (status = 400, body = Problem)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Params(p): Params<NotificationBoxParams>,
) -> Result<Response, Problem> {
    let which = super::pick_box(
        &p.which,
        &[
            ("sent", NotificationBox::Sent),
            ("received", NotificationBox::Received),
        ],
    )?;
    let stage = super::pick_stage(p.stage.as_deref(), &NotificationStage::ALL)?;
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
        Page::of(found, |c| Api::dto(&state, c, &reader)),
    ))
}
