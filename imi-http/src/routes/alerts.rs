//! One-to-many alerts: create, read (with `ETag`), act (with `If-Match`), timeline, boxes,
//! and each country's alert network per procedure. Incoming alert coordinators read the
//! restricted summary; the engine decides, these handlers only translate.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use imi_core::alert::{AlertCommand, AlertEvent, AlertStage, AlertVisibility};
use imi_core::case::TimelineEntry;
use imi_core::catalogue::ProcedureId;
use imi_core::store::Version;
use imi_core::{
    AlertBox, AlertNetwork, AlertView, AuthorityId, CaseId, Engine, EngineError, Participant,
    access::Actor,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::cases::{CaseApi, case_routes};
use super::localised;
use super::requests::{AnswerDto, answers_dto};
use crate::AppState;
use crate::dto::{Page, PageParams};
use crate::extract::{Body, Caller, Params, Reader, parse};
use crate::problem::Problem;

/// An alert as the reader may see it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AlertDto {
    id: String,
    reference: String,
    procedure: String,
    question_set: String,
    question_set_version: u32,
    sender: String,
    sender_country: String,
    /// `draft`, `pending-validation`, `broadcast`, `closed`, `withdrawn` or `rejected`.
    stage: &'static str,
    /// The full state, with dates.
    #[schema(value_type = Object)]
    state: serde_json::Value,
    /// Recipient countries (`EC` is the Commission).
    recipients: Vec<String>,
    /// Handling authorities per recipient country.
    #[schema(value_type = Object)]
    distributed: serde_json::Value,
    acknowledged: Vec<String>,
    closure_proposed: bool,
    validated: bool,
    /// `full` or `summary` (incoming coordinators: the restricted summary only).
    visibility: &'static str,
    answers: Vec<AnswerDto>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

pub(crate) fn alert_dto(state: &AppState, view: &AlertView, reader: &Reader) -> AlertDto {
    let c = &view.case;
    let catalogue = state.engine.catalogue();
    let set = catalogue.question_set(&c.question_set.id, c.question_set.version);
    AlertDto {
        id: c.id.to_string(),
        reference: c.reference.to_string(),
        procedure: c.procedure.to_string(),
        question_set: c.question_set.id.to_string(),
        question_set_version: c.question_set.version,
        sender: c.sender.to_string(),
        sender_country: c.sender_country.to_string(),
        stage: c.alert.state().stage().name(),
        state: serde_json::to_value(c.alert.state()).unwrap_or_default(),
        recipients: c.alert.recipients().iter().map(|p| p.to_string()).collect(),
        distributed: serde_json::to_value(
            c.alert
                .distributed()
                .iter()
                .map(|(p, a)| (p.to_string(), a.iter().map(|a| a.to_string()).collect()))
                .collect::<std::collections::BTreeMap<String, Vec<String>>>(),
        )
        .unwrap_or_default(),
        acknowledged: c
            .alert
            .acknowledged()
            .iter()
            .map(|a| a.to_string())
            .collect(),
        closure_proposed: c.alert.closure_proposed(),
        validated: c.alert.validated(),
        visibility: match view.visibility {
            AlertVisibility::Full => "full",
            AlertVisibility::Summary => "summary",
        },
        answers: answers_dto(c.alert.answers(), set, reader),
        created_at: c.created_at,
        updated_at: c.updated_at,
    }
}

/// The alert case routes.
pub(crate) struct Api;

impl CaseApi for Api {
    const ID: &'static str = "alert id";
    const COMMAND: &'static str = "alert command";
    type Case = AlertView;
    type Command = AlertCommand;
    type Event = AlertEvent;
    type Dto = AlertDto;

    async fn read(
        engine: &Engine,
        actor: &Actor,
        id: CaseId,
    ) -> Result<(AlertView, Version), EngineError> {
        engine.alert(actor, id).await
    }

    async fn act(
        engine: &Engine,
        actor: &Actor,
        id: CaseId,
        command: AlertCommand,
        if_match: Option<Version>,
    ) -> Result<(AlertView, Version), EngineError> {
        engine.act_on_alert(actor, id, command, if_match).await
    }

    async fn timeline(
        engine: &Engine,
        actor: &Actor,
        id: CaseId,
    ) -> Result<Vec<TimelineEntry<AlertEvent>>, EngineError> {
        engine.alert_timeline(actor, id).await
    }

    fn dto(state: &AppState, view: &AlertView, reader: &Reader) -> AlertDto {
        alert_dto(state, view, reader)
    }
}

case_routes!(
    Api,
    tag = "alerts",
    dto = AlertDto,
    get = (
        "/v1/alerts/{id}",
        "get_alert",
        "Reads an alert as the caller may see it: in full for the sender, its validating coordinator and handling authorities; the restricted summary for incoming coordinators; 404 for anyone else. The `ETag` is for `If-Match`."
    ),
    act = (
        "/v1/alerts/{id}/commands",
        "act_on_alert",
        "Acts on an alert. The body is a command, e.g. `{\"command\": \"save-draft\", \"answers\": {...}}`, `{\"command\": \"submit\", \"recipients\": [\"FR\", \"DE\", \"EC\"]}`, `{\"command\": \"approve\"}`, `{\"command\": \"distribute\", \"to\": [\"<authority id>\"]}`, `{\"command\": \"acknowledge\"}`, `{\"command\": \"add-information\", \"text\": \"…\"}`, `{\"command\": \"close\", \"reason\": \"…\"}`. With `If-Match`, a stale version is refused with 412."
    )
);

/// What to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewAlertDto {
    procedure: String,
}

/// Starts a draft alert of an alert procedure (outgoing alert handlers).
#[utoipa::path(post, path = "/v1/alerts", tag = "alerts", operation_id = "create_alert", request_body = NewAlertDto, responses((status = 201, body = AlertDto), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Body(req): Body<NewAlertDto>,
) -> Result<Response, Problem> {
    let view = state
        .engine
        .create_alert(&actor, &parse("procedure id", &req.procedure)?)
        .await?;
    Ok((
        StatusCode::CREATED,
        localised(&reader, alert_dto(&state, &view, &reader)),
    )
        .into_response())
}

/// One step of an alert's timeline.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AlertTimelineDto {
    seq: u64,
    at: DateTime<Utc>,
    /// Who: `{ "kind": "user", ... }` or `{ "kind": "system" }`.
    #[schema(value_type = Object)]
    actor: serde_json::Value,
    /// What happened: `{ "event": "broadcast" | "distributed" | ..., ... }`.
    #[schema(value_type = Object)]
    event: serde_json::Value,
    /// Answers in the event, with labels in the reader's language.
    answers: Vec<AnswerDto>,
}

/// An alert's timeline, as the caller may see it (summary readers see no free text).
#[utoipa::path(get, path = "/v1/alerts/{id}/timeline", tag = "alerts", operation_id = "alert_timeline", params(("id" = String, Path)), responses((status = 200, body = Vec<AlertTimelineDto>), (status = 404, body = Problem)))]
pub(crate) async fn timeline(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    use imi_core::alert::AlertEvent as E;
    let id: CaseId = parse("alert id", &id)?;
    let (view, _) = state.engine.alert(&actor, id).await?;
    let entries = state.engine.alert_timeline(&actor, id).await?;
    let catalogue = state.engine.catalogue();
    let set = catalogue.question_set(&view.case.question_set.id, view.case.question_set.version);
    let out: Vec<AlertTimelineDto> = entries
        .iter()
        .map(|e| AlertTimelineDto {
            seq: e.seq,
            at: e.at,
            actor: serde_json::to_value(e.actor).unwrap_or_default(),
            event: serde_json::to_value(&e.event).unwrap_or_default(),
            answers: match &e.event {
                E::DraftSaved { answers } | E::Rectified { answers, .. } => {
                    answers_dto(answers, set, &reader)
                }
                _ => vec![],
            },
        })
        .collect();
    Ok(localised(&reader, out))
}

/// Which alerts to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct AlertBoxParams {
    /// `sent` (the caller's authority's, drafts included), `validation` (waiting for the
    /// caller's country's outgoing coordinators), `incoming` (sent to the caller's
    /// country) or `handling` (distributed to the caller's authority).
    #[serde(rename = "box")]
    which: String,
    /// A stage name (for `sent`).
    stage: Option<String>,
    /// Page size.
    limit: Option<usize>,
    /// Where to continue.
    cursor: Option<String>,
}

/// A box of alerts, each as the caller may see it.
#[utoipa::path(get, path = "/v1/alerts", tag = "alerts", operation_id = "list_alerts", params(AlertBoxParams), responses((status = 200, body = Page<AlertDto>), (status = 400, body = Problem)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Params(p): Params<AlertBoxParams>,
) -> Result<Response, Problem> {
    let which = super::pick_box(
        &p.which,
        &[
            ("sent", AlertBox::Sent),
            ("validation", AlertBox::Validation),
            ("incoming", AlertBox::Incoming),
            ("handling", AlertBox::Handling),
        ],
    )?;
    let stage = super::pick_stage(p.stage.as_deref(), &AlertStage::ALL)?;
    let page = PageParams {
        limit: p.limit,
        cursor: p.cursor,
    }
    .into_core()?;
    let found = state.engine.alerts(&actor, which, stage, page).await?;
    Ok(localised(
        &reader,
        Page::of(found, |v| alert_dto(&state, v, &reader)),
    ))
}

/// A country's standing alert arrangements for one procedure.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AlertNetworkDto {
    /// Outgoing alerts of the country wait for an outgoing alert coordinator (where the
    /// procedure allows validation).
    validates_outgoing: bool,
    /// Authorities of the country that receive incoming alerts at broadcast.
    handlers: Vec<String>,
}

fn network_dto(n: &AlertNetwork) -> AlertNetworkDto {
    AlertNetworkDto {
        validates_outgoing: n.validates_outgoing,
        handlers: n.handlers.iter().map(|a| a.to_string()).collect(),
    }
}

/// A country's alert network for a procedure (empty when none was set).
#[utoipa::path(get, path = "/v1/alert-networks/{country}/{procedure}", tag = "alerts", operation_id = "get_alert_network", params(("country" = String, Path), ("procedure" = String, Path)), responses((status = 200, body = AlertNetworkDto), (status = 404, body = Problem)))]
pub(crate) async fn get_network(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path((country, procedure)): Path<(String, String)>,
) -> Result<axum::Json<AlertNetworkDto>, Problem> {
    let country: Participant = parse("country", &country)?;
    let procedure: ProcedureId = parse("procedure id", &procedure)?;
    let n = state
        .engine
        .alert_network(&actor, country, &procedure)
        .await?;
    Ok(axum::Json(network_dto(&n)))
}

/// Sets the caller's country's alert network for a procedure (its national coordinator's
/// administrators or incoming alert coordinators). Handlers must be active authorities of
/// the country with access to the procedure.
#[utoipa::path(put, path = "/v1/alert-networks/{country}/{procedure}", tag = "alerts", operation_id = "set_alert_network", params(("country" = String, Path), ("procedure" = String, Path)), request_body = AlertNetworkDto, responses((status = 200, body = AlertNetworkDto), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn set_network(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path((country, procedure)): Path<(String, String)>,
    Body(dto): Body<AlertNetworkDto>,
) -> Result<axum::Json<AlertNetworkDto>, Problem> {
    let country: Participant = parse("country", &country)?;
    let procedure: ProcedureId = parse("procedure id", &procedure)?;
    let handlers = dto
        .handlers
        .iter()
        .map(|h| parse::<AuthorityId>("authority id", h))
        .collect::<Result<_, _>>()?;
    let n = state
        .engine
        .set_alert_network(
            &actor,
            country,
            &procedure,
            AlertNetwork {
                validates_outgoing: dto.validates_outgoing,
                handlers,
            },
        )
        .await?;
    Ok(axum::Json(network_dto(&n)))
}
