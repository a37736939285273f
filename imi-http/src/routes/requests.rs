//! One-to-one requests: create, read (with `ETag`), act (with `If-Match`), timeline,
//! inbox. Answers are shown with their question labels in the reader's language.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use imi_core::case::{RequestView, TimelineEntry};
use imi_core::catalogue::{AnswerValue, Answers, QuestionSet, Side};
use imi_core::request::{RequestCommand, Stage};
use imi_core::store::Version;
use imi_core::{CaseId, Engine, EngineError, InboxQuery, access::Actor};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::cases::{CaseApi, case_routes};
use super::localised;
use crate::AppState;
use crate::dto::{Page, PageParams, Text};
use crate::extract::{Body, Caller, Params, Reader, parse};
use crate::problem::Problem;

/// One answer, with its question's label for the reader.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AnswerDto {
    question: String,
    label: Option<Text>,
    personal_data: bool,
    /// The answer: `{ "type": "yes-no" | "choice" | ..., "value": ... }`.
    #[schema(value_type = Object)]
    value: serde_json::Value,
    /// For choices: the chosen options' labels for the reader.
    options: Vec<Text>,
}

pub(crate) fn answers_dto(
    answers: &Answers,
    set: Option<&QuestionSet>,
    reader: &Reader,
) -> Vec<AnswerDto> {
    answers
        .iter()
        .map(|(q, v)| {
            let question = set.and_then(|s| s.question(q));
            let chosen: Vec<&imi_core::catalogue::OptionId> = match v {
                AnswerValue::Choice(o) => vec![o],
                AnswerValue::Choices(os) => os.iter().collect(),
                _ => vec![],
            };
            let options = question
                .map(|q| {
                    q.answer
                        .options()
                        .iter()
                        .filter(|o| chosen.contains(&&o.id))
                        .map(|o| Text::of(&o.label, &reader.0))
                        .collect()
                })
                .unwrap_or_default();
            AnswerDto {
                question: q.to_string(),
                label: question.map(|q| Text::of(&q.label, &reader.0)),
                personal_data: question.is_some_and(|q| q.personal_data),
                value: serde_json::to_value(v).unwrap_or_default(),
                options,
            }
        })
        .collect()
}

/// A request as the reader may see it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RequestDto {
    id: String,
    reference: String,
    procedure: String,
    question_set: String,
    question_set_version: u32,
    requester: String,
    recipient: Option<String>,
    parent: Option<String>,
    /// `draft`, `awaiting-acceptance`, `accepted`, `answered`, `clarification-requested`,
    /// `closed` or `withdrawn`.
    stage: &'static str,
    /// The full state, with dates.
    #[schema(value_type = Object)]
    state: serde_json::Value,
    needed_by: Option<NaiveDate>,
    handler: Option<String>,
    /// `full`, `without-personal-data` or `progress-only`.
    visibility: &'static str,
    request_answers: Vec<AnswerDto>,
    reply_answers: Vec<AnswerDto>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

pub(crate) fn request_dto(state: &AppState, view: &RequestView, reader: &Reader) -> RequestDto {
    let c = &view.case;
    let catalogue = state.engine.catalogue();
    let set = catalogue.question_set(&c.question_set.id, c.question_set.version);
    RequestDto {
        id: c.id.to_string(),
        reference: c.reference.to_string(),
        procedure: c.procedure.to_string(),
        question_set: c.question_set.id.to_string(),
        question_set_version: c.question_set.version,
        requester: c.requester.to_string(),
        recipient: c.request.state().recipient().map(|r| r.to_string()),
        parent: c.parent.map(|p| p.to_string()),
        stage: c.request.state().stage().name(),
        state: serde_json::to_value(c.request.state()).unwrap_or_default(),
        needed_by: c.request.needed_by(),
        handler: c.request.handler().map(|h| h.to_string()),
        visibility: match view.visibility {
            imi_core::case::Visibility::Full => "full",
            imi_core::case::Visibility::WithoutPersonalData => "without-personal-data",
            imi_core::case::Visibility::ProgressOnly => "progress-only",
        },
        request_answers: answers_dto(c.request.request_answers(), set, reader),
        reply_answers: answers_dto(c.request.reply_answers(), set, reader),
        created_at: c.created_at,
        updated_at: c.updated_at,
    }
}

/// What to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewRequestDto {
    procedure: String,
}

/// Creates a draft request of a procedure for the caller's authority.
#[utoipa::path(post, path = "/v1/requests", tag = "requests", operation_id = "create_request", request_body = NewRequestDto, responses((status = 201, body = RequestDto), (status = 403, body = Problem)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Body(req): Body<NewRequestDto>,
) -> Result<Response, Problem> {
    let view = state
        .engine
        .create_request(&actor, &parse("procedure id", &req.procedure)?)
        .await?;
    Ok((
        StatusCode::CREATED,
        localised(&reader, request_dto(&state, &view, &reader)),
    )
        .into_response())
}

/// The request case routes.
pub(crate) struct Api;

impl CaseApi for Api {
    const ID: &'static str = "case id";
    const COMMAND: &'static str = "request command";
    type Case = RequestView;
    type Command = RequestCommand;
    type Event = imi_core::request::RequestEvent;
    type Dto = RequestDto;

    async fn read(
        engine: &Engine,
        actor: &Actor,
        id: CaseId,
    ) -> Result<(RequestView, Version), EngineError> {
        engine.request(actor, id).await
    }

    async fn act(
        engine: &Engine,
        actor: &Actor,
        id: CaseId,
        command: RequestCommand,
        if_match: Option<Version>,
    ) -> Result<(RequestView, Version), EngineError> {
        engine.act_on_request(actor, id, command, if_match).await
    }

    async fn timeline(
        engine: &Engine,
        actor: &Actor,
        id: CaseId,
    ) -> Result<Vec<TimelineEntry>, EngineError> {
        engine.request_timeline(actor, id).await
    }

    fn dto(state: &AppState, view: &RequestView, reader: &Reader) -> RequestDto {
        request_dto(state, view, reader)
    }

    /// A split child's id is minted by the engine; callers may leave it out.
    fn complete_body(body: &mut serde_json::Value) {
        if body["command"] == "split"
            && let Some(fields) = body.as_object_mut()
        {
            fields
                .entry("child")
                .or_insert_with(|| serde_json::Value::String(uuid::Uuid::now_v7().to_string()));
        }
    }
}

case_routes!(
    Api,
    tag = "requests",
    dto = RequestDto,
    get = (
        "/v1/requests/{id}",
        "get_request",
        "Reads a request as the caller may see it (need to know): parties and their coordinators; anyone else gets 404. The `ETag` is for `If-Match`."
    ),
    act = (
        "/v1/requests/{id}/commands",
        "act_on_request",
        "Acts on a request. The body is a command, e.g. `{\"command\": \"accept\", \"days\": 10}`, `{\"command\": \"send\", \"recipient\": \"<id>\", \"needed_by\": \"2026-12-31\"}`, `{\"command\": \"save-draft\", \"answers\": {\"<question>\": {\"type\": \"text\", \"value\": \"…\"}}}` (replaces the saved answers). With `If-Match`, a stale version is refused with 412; a concurrent change gives 409."
    )
);

/// One step of a request's timeline.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TimelineDto {
    seq: u64,
    at: DateTime<Utc>,
    /// Who: `{ "kind": "user", "user": …, "authority": … }` or `{ "kind": "system" }`.
    #[schema(value_type = Object)]
    actor: serde_json::Value,
    /// What happened: `{ "event": "sent" | "accepted" | ..., ... }`.
    #[schema(value_type = Object)]
    event: serde_json::Value,
    /// Answers in the event, with labels in the reader's language.
    answers: Vec<AnswerDto>,
}

/// The timeline of a request, as the caller may see it, labelled in its language.
#[utoipa::path(get, path = "/v1/requests/{id}/timeline", tag = "requests", operation_id = "request_timeline", params(("id" = String, Path)), responses((status = 200, body = Vec<TimelineDto>), (status = 404, body = Problem)))]
pub(crate) async fn timeline(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id: CaseId = parse("case id", &id)?;
    let (view, _) = state.engine.request(&actor, id).await?;
    let entries: Vec<TimelineEntry> = state.engine.request_timeline(&actor, id).await?;
    let catalogue = state.engine.catalogue();
    let set = catalogue.question_set(&view.case.question_set.id, view.case.question_set.version);
    let out: Vec<TimelineDto> = entries
        .iter()
        .map(|e| TimelineDto {
            seq: e.seq,
            at: e.at,
            actor: serde_json::to_value(e.actor).unwrap_or_default(),
            event: serde_json::to_value(&e.event).unwrap_or_default(),
            answers: match &e.event {
                imi_core::request::RequestEvent::DraftSaved { answers }
                | imi_core::request::RequestEvent::Answered { answers, .. }
                | imi_core::request::RequestEvent::Rectified { answers, .. } => {
                    answers_dto(answers, set, &reader)
                }
                _ => vec![],
            },
        })
        .collect();
    Ok(localised(&reader, out))
}

/// Inbox filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct InboxParams {
    /// `requester` or `responder`.
    side: Option<String>,
    /// A stage name.
    stage: Option<String>,
    /// Only requests allocated to the caller.
    allocated_to_me: Option<bool>,
    /// Page size.
    limit: Option<usize>,
    /// Where to continue.
    cursor: Option<String>,
}

/// The caller's authority's requests, by party and stage.
#[utoipa::path(get, path = "/v1/inbox", tag = "requests", params(InboxParams), responses((status = 200, body = Page<RequestDto>)))]
pub(crate) async fn inbox(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Params(p): Params<InboxParams>,
) -> Result<Response, Problem> {
    let side = match p.side.as_deref() {
        None => None,
        Some("requester") => Some(Side::Requester),
        Some("responder") => Some(Side::Responder),
        Some(_) => {
            return Err(Problem::bad_request(
                "bad-query",
                "side must be `requester` or `responder`",
            ));
        }
    };
    let stages = [
        Stage::Draft,
        Stage::AwaitingAcceptance,
        Stage::Accepted,
        Stage::Answered,
        Stage::ClarificationRequested,
        Stage::Closed,
        Stage::Withdrawn,
    ];
    let stage = match p.stage.as_deref() {
        None => None,
        Some(name) => Some(
            stages
                .into_iter()
                .find(|s| s.name() == name)
                .ok_or_else(|| {
                    Problem::bad_request("bad-query", format!("`{name}` is not a stage"))
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
        .inbox(
            &actor,
            &InboxQuery {
                side,
                stage,
                allocated_to_me: p.allocated_to_me.unwrap_or(false),
            },
            page,
        )
        .await?;
    Ok(localised(
        &reader,
        Page::of(found, |v| request_dto(&state, v, &reader)),
    ))
}

/// The period of the indicators.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct IndicatorParams {
    /// First day (inclusive) of the sending dates.
    from: NaiveDate,
    /// Last day (exclusive).
    to: NaiveDate,
}

/// Scoreboard indicators of one responding country and area.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct IndicatorDto {
    country: String,
    area: String,
    requests: usize,
    accepted_within_7_days: f64,
    average_days_to_answer: Option<f64>,
    answered_by_agreed_date: Option<f64>,
}

/// The Scoreboard indicators per responding country and area (no personal data).
#[utoipa::path(get, path = "/v1/indicators", tag = "requests", params(IndicatorParams), responses((status = 200, body = Vec<IndicatorDto>)))]
pub(crate) async fn indicators(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Params(p): Params<IndicatorParams>,
) -> Result<axum::Json<Vec<IndicatorDto>>, Problem> {
    let found = state.engine.indicators(&actor, p.from, p.to).await?;
    Ok(axum::Json(
        found
            .into_iter()
            .map(|i| IndicatorDto {
                country: i.country.code().to_owned(),
                area: i.area.to_string(),
                requests: i.requests,
                accepted_within_7_days: i.accepted_within_7_days,
                average_days_to_answer: i.average_days_to_answer,
                answered_by_agreed_date: i.answered_by_agreed_date,
            })
            .collect(),
    ))
}

/// Which language to translate into.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TranslateRequest {
    /// The target language code.
    to: String,
}

/// A machine translation, always labelled as such, beside its original.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TranslationDto {
    field: String,
    original: String,
    text: String,
    from: Option<String>,
    to: String,
    engine: String,
    machine_translation: bool,
}

/// Machine-translates the free text of one timeline entry (made once, then served from
/// storage). 503 when the server has no translation service.
#[utoipa::path(post, path = "/v1/requests/{id}/timeline/{seq}/translations", tag = "requests", params(("id" = String, Path), ("seq" = u64, Path)), request_body = TranslateRequest, responses((status = 200, body = Vec<TranslationDto>), (status = 503, body = Problem)))]
pub(crate) async fn translate(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path((id, seq)): Path<(String, String)>,
    Body(req): Body<TranslateRequest>,
) -> Result<axum::Json<Vec<TranslationDto>>, Problem> {
    let id: CaseId = parse("case id", &id)?;
    let seq: u64 = parse("timeline position", &seq)?;
    let to = parse("language", &req.to)?;
    let out = state
        .engine
        .translate_timeline_entry(&actor, id, seq, to)
        .await?;
    Ok(axum::Json(
        out.into_iter()
            .map(|t| TranslationDto {
                field: t.field,
                original: t.original,
                text: t.text,
                from: t.from.map(|l| l.code().to_owned()),
                to: t.to.code().to_owned(),
                engine: t.engine,
                machine_translation: t.machine_translation,
            })
            .collect(),
    ))
}

/// Deadline inbox filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeadlineParams {
    /// `requester` or `responder` (default `responder`).
    side: Option<String>,
    /// Only deadlines up to this date.
    until: Option<NaiveDate>,
    /// Only requests where it is this side's turn.
    waiting_for_me: Option<bool>,
    /// Page size.
    limit: Option<usize>,
    /// Where to continue.
    cursor: Option<String>,
}

/// The caller's authority's open requests, soonest deadline first (approaching and
/// past deadlines).
#[utoipa::path(get, path = "/v1/inbox/deadlines", tag = "requests", params(DeadlineParams), responses((status = 200, body = Page<RequestDto>)))]
pub(crate) async fn inbox_deadlines(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Params(p): Params<DeadlineParams>,
) -> Result<Response, Problem> {
    let side = match p.side.as_deref() {
        None | Some("responder") => Side::Responder,
        Some("requester") => Side::Requester,
        Some(_) => {
            return Err(Problem::bad_request(
                "bad-query",
                "side must be `requester` or `responder`",
            ));
        }
    };
    let page = PageParams {
        limit: p.limit,
        cursor: p.cursor,
    }
    .into_core()?;
    let found = state
        .engine
        .inbox_by_deadline(
            &actor,
            side,
            p.until,
            p.waiting_for_me.unwrap_or(false),
            page,
        )
        .await?;
    Ok(localised(
        &reader,
        Page::of(found, |v| request_dto(&state, v, &reader)),
    ))
}

/// A justified request for temporary access to a blocked request's personal data.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UnblockRequest {
    /// `proof-of-exchange` or `data-subject-consent`.
    reason: String,
    /// Why.
    justification: String,
    /// For how many days (1 to 30).
    days: u16,
}

/// The access granted.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UnblockDto {
    reason: String,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
}

/// Makes a blocked request's personal data readable again for the caller (an
/// administrator of a party), for a few days, on a legal ground; audited.
#[utoipa::path(post, path = "/v1/requests/{id}/unblock", tag = "requests", params(("id" = String, Path)), request_body = UnblockRequest, responses((status = 200, body = UnblockDto), (status = 403, body = Problem), (status = 409, body = Problem)))]
pub(crate) async fn unblock(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Body(req): Body<UnblockRequest>,
) -> Result<axum::Json<UnblockDto>, Problem> {
    use imi_core::audit::UnblockReason;
    let id: CaseId = parse("case id", &id)?;
    let reason = match req.reason.as_str() {
        "proof-of-exchange" => UnblockReason::ProofOfExchange,
        "data-subject-consent" => UnblockReason::DataSubjectConsent,
        _ => {
            return Err(Problem::bad_request(
                "bad-body",
                "reason must be `proof-of-exchange` or `data-subject-consent`",
            ));
        }
    };
    let access = state
        .engine
        .unblock_request(&actor, id, reason, &req.justification, req.days)
        .await?;
    Ok(axum::Json(UnblockDto {
        reason: req.reason,
        from: access.from,
        until: access.until,
    }))
}
