//! SOLVIT cases: open one at a home centre, read, act, timeline (the shared case routes),
//! the home and lead boxes, and the figures per country and problem area.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use imi_core::case::TimelineEntry;
use imi_core::solvit::{
    ProblemArea, SolvitBox, SolvitCase, SolvitCommand, SolvitEvent, SolvitFigures, SolvitStage,
};
use imi_core::store::Version;
use imi_core::{CaseId, Engine, EngineError, access::Actor};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::cases::{CaseApi, case_routes};
use super::localised;
use super::requests::{AnswerDto, answers_dto};
use crate::AppState;
use crate::dto::{Page, PageParams};
use crate::extract::{Body, Caller, Params, Reader, parse};
use crate::problem::Problem;

/// A SOLVIT case.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SolvitCaseDto {
    id: String,
    reference: String,
    procedure: String,
    question_set: String,
    question_set_version: u32,
    /// The home centre (an authority id).
    home: String,
    home_country: String,
    /// The lead centre, once submitted.
    lead: Option<String>,
    lead_country: Option<String>,
    /// The public submission the complaint came in by, if any.
    submission: Option<String>,
    /// `draft`, `submitted`, `in-handling`, `solution-proposed`, `closed`, `rejected` or
    /// `withdrawn`.
    stage: &'static str,
    /// The full state, with its dates and, once closed, the outcome.
    #[schema(value_type = Object)]
    state: serde_json::Value,
    /// The deadline running now: acceptance, then the solution.
    due: Option<NaiveDate>,
    /// `social-security`, `professional-qualifications`, `residence`, `taxation`,
    /// `vehicles`, `goods`, `services`, `employment`, `education` or `other`.
    problem_area: Option<String>,
    /// Whether a closed case was solved by its deadline.
    on_time: Option<bool>,
    /// The complainant's feedback: `{ "satisfied": …, "rating": 1-5 }`.
    #[schema(value_type = Option<Object>)]
    feedback: Option<serde_json::Value>,
    answers: Vec<AnswerDto>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// The SOLVIT case routes.
pub(crate) struct Api;

impl CaseApi for Api {
    const ID: &'static str = "SOLVIT case id";
    const COMMAND: &'static str = "SOLVIT command";
    type Case = SolvitCase;
    type Command = SolvitCommand;
    type Event = SolvitEvent;
    type Dto = SolvitCaseDto;

    async fn read(
        engine: &Engine,
        actor: &Actor,
        id: CaseId,
    ) -> Result<(SolvitCase, Version), EngineError> {
        engine.solvit_case(actor, id).await
    }

    async fn act(
        engine: &Engine,
        actor: &Actor,
        id: CaseId,
        command: SolvitCommand,
        if_match: Option<Version>,
    ) -> Result<(SolvitCase, Version), EngineError> {
        engine
            .act_on_solvit_case(actor, id, command, if_match)
            .await
    }

    async fn timeline(
        engine: &Engine,
        actor: &Actor,
        id: CaseId,
    ) -> Result<Vec<TimelineEntry<SolvitEvent>>, EngineError> {
        engine.solvit_timeline(actor, id).await
    }

    fn dto(state: &AppState, c: &SolvitCase, reader: &Reader) -> SolvitCaseDto {
        let catalogue = state.engine.catalogue();
        let set = catalogue.question_set(&c.question_set.id, c.question_set.version);
        let s = &c.solvit;
        SolvitCaseDto {
            id: c.id.to_string(),
            reference: c.reference.to_string(),
            procedure: c.procedure.to_string(),
            question_set: c.question_set.id.to_string(),
            question_set_version: c.question_set.version,
            home: c.home.to_string(),
            home_country: c.home_country.to_string(),
            lead: s.state().lead().map(|l| l.to_string()),
            lead_country: c.lead_country.map(|p| p.to_string()),
            submission: c.submission.map(|s| s.to_string()),
            stage: s.state().stage().name(),
            state: serde_json::to_value(s.state()).unwrap_or_default(),
            due: c.due(),
            problem_area: s.problem_area().map(|a| a.name().to_owned()),
            on_time: s.on_time(),
            feedback: s.feedback().map(
                |(satisfied, rating)| serde_json::json!({"satisfied": satisfied, "rating": rating}),
            ),
            answers: answers_dto(s.answers(), set, reader),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

case_routes!(
    Api,
    tag = "solvit",
    dto = SolvitCaseDto,
    get = (
        "/v1/solvit-cases/{id}",
        "get_solvit_case",
        "Reads a SOLVIT case: its home centre's handlers, and its lead centre's once submitted; anyone else gets 404. The `ETag` is for `If-Match`. The read is audited."
    ),
    act = (
        "/v1/solvit-cases/{id}/commands",
        "act_on_solvit_case",
        "Acts on a SOLVIT case. Home centre: `{\"command\": \"save-draft\", \"answers\": {...}, \"problem_area\": \"social-security\"}` (replaces the saved answers), `{\"command\": \"submit\", \"lead\": \"<authority id of the other country's SOLVIT centre>\"}`, `{\"command\": \"contest\", \"reason\": \"…\"}`, `{\"command\": \"close\", \"outcome\": \"resolved\" | \"unresolved\", \"reason\": \"…\"}` (resolved only after a proposed solution), `{\"command\": \"withdraw\", \"reason\": \"…\"}`, `{\"command\": \"record-feedback\", \"satisfied\": true, \"rating\": 1-5}` (once, when closed). Lead centre: `{\"command\": \"accept\"}`, `{\"command\": \"reject\", \"reason\": \"…\"}`, `{\"command\": \"propose-solution\", \"text\": \"…\"}`. Either: `{\"command\": \"comment\", \"text\": \"…\"}`. A command the stage does not allow is 409, the wrong centre 403; with `If-Match`, a stale version gives 412; a refused command changes nothing."
    ),
    timeline = (
        "/v1/solvit-cases/{id}/timeline",
        "solvit_case_timeline",
        "A SOLVIT case's timeline, oldest first. The lead centre sees what was submitted, not how the home centre drafted it; once blocked, free texts read `(blocked)`."
    )
);

/// What to open.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewSolvitCaseDto {
    /// A SOLVIT procedure.
    procedure: String,
    /// The public submission the complaint came in by (made to the caller's centre):
    /// its answers to the case's questions become the first draft.
    submission: Option<String>,
    /// The problem area, when known: `social-security`, `professional-qualifications`,
    /// `residence`, `taxation`, `vehicles`, `goods`, `services`, `employment`,
    /// `education` or `other`.
    #[schema(value_type = Option<String>)]
    problem_area: Option<ProblemArea>,
}

/// Opens a SOLVIT case at the caller's centre, the home centre (request handlers of a
/// SOLVIT centre).
#[utoipa::path(post, path = "/v1/solvit-cases", tag = "solvit", operation_id = "create_solvit_case", request_body = NewSolvitCaseDto, responses((status = 201, body = SolvitCaseDto), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Body(req): Body<NewSolvitCaseDto>,
) -> Result<Response, Problem> {
    let submission = match &req.submission {
        Some(s) => Some(parse("submission id", s)?),
        None => None,
    };
    let case = state
        .engine
        .create_solvit_case(
            &actor,
            &parse("procedure id", &req.procedure)?,
            submission,
            req.problem_area,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        localised(&reader, Api::dto(&state, &case, &reader)),
    )
        .into_response())
}

/// Which SOLVIT cases to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct SolvitBoxParams {
    /// `home` (the caller's centre's own cases, drafts included) or `lead` (submitted to
    /// it).
    #[serde(rename = "box")]
    which: String,
    /// A stage name.
    stage: Option<String>,
    /// Page size.
    limit: Option<usize>,
    /// Where to continue.
    cursor: Option<String>,
}

/// A box of SOLVIT cases.
#[utoipa::path(get, path = "/v1/solvit-cases", tag = "solvit", operation_id = "list_solvit_cases", params(SolvitBoxParams), responses((status = 200, body = Page<SolvitCaseDto>), (status = 400, body = Problem), (status = 401, body = Problem)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Params(p): Params<SolvitBoxParams>,
) -> Result<Response, Problem> {
    let which = super::pick_box(
        &p.which,
        &[("home", SolvitBox::Home), ("lead", SolvitBox::Lead)],
    )?;
    let stage = super::pick_stage(p.stage.as_deref(), &SolvitStage::ALL)?;
    let page = PageParams {
        limit: p.limit,
        cursor: p.cursor,
    }
    .into_core()?;
    let found = state
        .engine
        .solvit_cases(&actor, which, stage, page)
        .await?;
    Ok(localised(
        &reader,
        Page::of(found, |c| Api::dto(&state, c, &reader)),
    ))
}

/// SOLVIT figures for one home country, lead country and problem area. No personal data.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SolvitFiguresDto {
    home_country: String,
    lead_country: String,
    problem_area: Option<String>,
    submitted: u64,
    accepted: u64,
    rejected: u64,
    withdrawn: u64,
    resolved: u64,
    unresolved: u64,
    closed_on_time: u64,
}

impl From<SolvitFigures> for SolvitFiguresDto {
    fn from(f: SolvitFigures) -> Self {
        SolvitFiguresDto {
            home_country: f.home_country,
            lead_country: f.lead_country,
            problem_area: f.problem_area.map(|a| a.name().to_owned()),
            submitted: f.submitted,
            accepted: f.accepted,
            rejected: f.rejected,
            withdrawn: f.withdrawn,
            resolved: f.resolved,
            unresolved: f.unresolved,
            closed_on_time: f.closed_on_time,
        }
    }
}

/// SOLVIT figures per home country, lead country and problem area (every signed-in
/// user; computed from an index without personal data).
#[utoipa::path(get, path = "/v1/solvit-figures", tag = "solvit", operation_id = "solvit_figures", responses((status = 200, body = Vec<SolvitFiguresDto>), (status = 401, body = Problem)))]
pub(crate) async fn figures(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
) -> Result<Response, Problem> {
    let rows: Vec<SolvitFiguresDto> = state
        .engine
        .solvit_figures(&actor)
        .await?
        .into_iter()
        .map(SolvitFiguresDto::from)
        .collect();
    Ok(localised(&reader, rows))
}

#[derive(OpenApi)]
#[openapi(tags((name = "solvit", description = "SOLVIT cases between the SOLVIT centres: a complaint prepared by the home centre, accepted and solved by the lead centre, closed resolved or unresolved; figures by country and problem area")))]
struct Doc;

/// The SOLVIT routes, with their part of the OpenAPI document.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(Doc::openapi())
        .routes(routes!(create, list))
        .routes(routes!(get))
        .routes(routes!(act))
        .routes(routes!(timeline))
        .routes(routes!(figures))
}
