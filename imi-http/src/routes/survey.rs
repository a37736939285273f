//! Surveys of competent authorities: create, read, act, timeline (the shared case
//! routes), the authored and received boxes, each authority's answer, and the results
//! as JSON or CSV.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use imi_core::case::TimelineEntry;
use imi_core::catalogue::Answers;
use imi_core::store::Version;
use imi_core::survey::{
    SurveyBox, SurveyCase, SurveyCommand, SurveyEvent, SurveyResponse, SurveyResults,
};
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
use crate::extract::{Body, Caller, Params, Reader, etag, if_match, parse};
use crate::problem::Problem;

/// A survey.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SurveyDto {
    id: String,
    reference: String,
    procedure: String,
    question_set: String,
    question_set_version: u32,
    /// The authoring authority.
    author: String,
    author_country: String,
    /// `draft`, `open` or `closed`.
    stage: &'static str,
    /// The full state: deadline, reminder day, dates.
    #[schema(value_type = Object)]
    state: serde_json::Value,
    /// Which authorities it asks: `{ "countries": [...], "areas": [...], "procedures": [...] }`.
    #[schema(value_type = Object)]
    targeting: serde_json::Value,
    /// The authorities it was sent to (for its author; empty for everyone else).
    recipients: Vec<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// The survey case routes.
pub(crate) struct Api;

impl CaseApi for Api {
    const ID: &'static str = "survey id";
    const COMMAND: &'static str = "survey command";
    type Case = (SurveyCase, bool);
    type Command = SurveyCommand;
    type Event = SurveyEvent;
    type Dto = SurveyDto;

    async fn read(
        engine: &Engine,
        actor: &Actor,
        id: CaseId,
    ) -> Result<((SurveyCase, bool), Version), EngineError> {
        let (case, version) = engine.survey(actor, id).await?;
        let author = is_author(actor, &case);
        Ok(((case, author), version))
    }

    async fn act(
        engine: &Engine,
        actor: &Actor,
        id: CaseId,
        command: SurveyCommand,
        if_match: Option<Version>,
    ) -> Result<((SurveyCase, bool), Version), EngineError> {
        let (case, version) = engine.act_on_survey(actor, id, command, if_match).await?;
        Ok(((case, true), version))
    }

    async fn timeline(
        engine: &Engine,
        actor: &Actor,
        id: CaseId,
    ) -> Result<Vec<TimelineEntry<SurveyEvent>>, EngineError> {
        engine.survey_timeline(actor, id).await
    }

    fn dto(_: &AppState, (c, author): &(SurveyCase, bool), _: &Reader) -> SurveyDto {
        let s = &c.survey;
        SurveyDto {
            id: c.id.to_string(),
            reference: c.reference.to_string(),
            procedure: c.procedure.to_string(),
            question_set: c.question_set.id.to_string(),
            question_set_version: c.question_set.version,
            author: c.author.to_string(),
            author_country: c.author_country.to_string(),
            stage: s.state().stage().name(),
            state: serde_json::to_value(s.state()).unwrap_or_default(),
            targeting: serde_json::to_value(s.targeting()).unwrap_or_default(),
            recipients: if *author {
                s.recipients().iter().map(|a| a.to_string()).collect()
            } else {
                Vec::new()
            },
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// Whether `actor` is of the authoring authority (it sees the recipients).
fn is_author(actor: &Actor, case: &SurveyCase) -> bool {
    match actor {
        Actor::System => true,
        Actor::User(p) => p.authority() == case.author,
        Actor::Public => false,
    }
}

case_routes!(
    Api,
    tag = "surveys",
    dto = SurveyDto,
    get = (
        "/v1/surveys/{id}",
        "get_survey",
        "Reads a survey: its author's administrators, and the users of authorities it was sent to; anyone else gets 404. The questions are the survey procedure's question set (`GET /v1/question-sets/{id}/versions/{version}`), in every language. The `ETag` is for `If-Match`."
    ),
    act = (
        "/v1/surveys/{id}/commands",
        "act_on_survey",
        "The author's administrators act: `{\"command\": \"send\", \"targeting\": {\"countries\": [\"DK\", \"FR\"], \"areas\": [...], \"procedures\": [\"pq-check\"]}, \"deadline\": \"2027-01-31\"}` (to the active authorities of those countries, every country when empty, competent in one of the areas or with access to one of the procedures; a national coordinator's survey asks its own country only; refused when nobody matches), `{\"command\": \"extend-deadline\", \"deadline\": \"…\"}`, `{\"command\": \"close\"}`. Authorities that have not answered are reminded a few days before the deadline (the procedure's `remind_days_before`) and the survey closes the day after it."
    ),
    timeline = (
        "/v1/surveys/{id}/timeline",
        "survey_timeline",
        "A survey's timeline (its author's administrators): sent, deadline extended, reminded, closed."
    )
);

/// What to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewSurveyDto {
    /// A survey procedure.
    procedure: String,
}

/// Starts a draft survey of a survey procedure (administrators of the Commission, or of
/// a national coordinator for its own country).
#[utoipa::path(post, path = "/v1/surveys", tag = "surveys", operation_id = "create_survey", request_body = NewSurveyDto, responses((status = 201, body = SurveyDto), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Body(req): Body<NewSurveyDto>,
) -> Result<Response, Problem> {
    let case = state
        .engine
        .create_survey(&actor, &parse("procedure id", &req.procedure)?)
        .await?;
    Ok((
        StatusCode::CREATED,
        localised(&reader, Api::dto(&state, &(case, true), &reader)),
    )
        .into_response())
}

/// Which surveys to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct SurveyBoxParams {
    /// `authored` (the caller's authority's, drafts included) or `received` (sent to it).
    #[serde(rename = "box")]
    which: String,
    /// Page size.
    limit: Option<usize>,
    /// Where to continue.
    cursor: Option<String>,
}

/// A box of surveys.
#[utoipa::path(get, path = "/v1/surveys", tag = "surveys", operation_id = "list_surveys", params(SurveyBoxParams), responses((status = 200, body = Page<SurveyDto>), (status = 400, body = Problem), (status = 401, body = Problem)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Params(p): Params<SurveyBoxParams>,
) -> Result<Response, Problem> {
    let which = super::pick_box(
        &p.which,
        &[
            ("authored", SurveyBox::Authored),
            ("received", SurveyBox::Received),
        ],
    )?;
    let page = PageParams {
        limit: p.limit,
        cursor: p.cursor,
    }
    .into_core()?;
    let found = state.engine.surveys(&actor, which, page).await?;
    Ok(localised(
        &reader,
        Page::of(found, |c| {
            let author = is_author(&actor, c);
            Api::dto(&state, &(c.clone(), author), &reader)
        }),
    ))
}

/// An authority's answer to a survey.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SurveyResponseDto {
    survey: String,
    authority: String,
    country: String,
    answers: Vec<AnswerDto>,
    /// How many times it was saved.
    revision: u32,
    updated_at: DateTime<Utc>,
}

/// An answer, labelled from the survey's question set in the reader's language.
async fn response_dto(
    state: &AppState,
    actor: &Actor,
    r: &SurveyResponse,
    reader: &Reader,
) -> Result<SurveyResponseDto, Problem> {
    let (case, _) = state.engine.survey(actor, r.survey).await?;
    let catalogue = state.engine.catalogue();
    let set = catalogue.question_set(&case.question_set.id, case.question_set.version);
    Ok(SurveyResponseDto {
        survey: r.survey.to_string(),
        authority: r.authority.to_string(),
        country: r.country.to_string(),
        answers: answers_dto(&r.answers, set, reader),
        revision: r.revision,
        updated_at: r.updated_at,
    })
}

/// The answers to give.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SurveyAnswersDto {
    /// The answers, as for requests: `{"<question>": {"type": "yes-no", "value": true}}`.
    #[schema(value_type = Object)]
    answers: Answers,
}

/// The caller's authority answers a survey sent to it, or replaces its answer, until the
/// deadline (its administrators). With `If-Match` (the `ETag` of the earlier answer), a
/// stale answer gives 412.
#[utoipa::path(put, path = "/v1/surveys/{id}/response", tag = "surveys", operation_id = "answer_survey", params(("id" = String, Path), ("If-Match" = Option<String>, Header)), request_body = SurveyAnswersDto, responses((status = 200, body = SurveyResponseDto, headers(("ETag" = String))), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn answer(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Path(id): Path<String>,
    headers: HeaderMap,
    Body(req): Body<SurveyAnswersDto>,
) -> Result<Response, Problem> {
    let id: CaseId = parse("survey id", &id)?;
    let expected = if_match(&headers)?;
    let (r, version) = state
        .engine
        .answer_survey(&actor, id, req.answers, expected)
        .await?;
    let mut out = localised(&reader, response_dto(&state, &actor, &r, &reader).await?);
    out.headers_mut().insert(header::ETAG, etag(version));
    Ok(out)
}

/// The caller's authority's answer to a survey (404 when it has not answered).
#[utoipa::path(get, path = "/v1/surveys/{id}/response", tag = "surveys", operation_id = "get_survey_response", params(("id" = String, Path)), responses((status = 200, body = SurveyResponseDto, headers(("ETag" = String))), (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn response(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id: CaseId = parse("survey id", &id)?;
    let Some((r, version)) = state.engine.survey_response(&actor, id).await? else {
        return Err(EngineError::NotFound {
            kind: "survey response",
            id: id.to_string(),
        }
        .into());
    };
    let mut out = localised(&reader, response_dto(&state, &actor, &r, &reader).await?);
    out.headers_mut().insert(header::ETAG, etag(version));
    Ok(out)
}

/// Recipients and answers of one country.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TurnoutDto {
    country: String,
    recipients: u64,
    responses: u64,
}

/// How many authorities of a country gave one value to one question.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ResultRowDto {
    country: String,
    question: String,
    /// `yes`/`no`, an option id, a number, a date, or `(answered)` for free text.
    value: String,
    count: u64,
}

/// A survey's results per question and country, without personal data.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SurveyResultsDto {
    survey: String,
    stage: &'static str,
    turnout: Vec<TurnoutDto>,
    rows: Vec<ResultRowDto>,
}

impl From<SurveyResults> for SurveyResultsDto {
    fn from(r: SurveyResults) -> Self {
        SurveyResultsDto {
            survey: r.survey.to_string(),
            stage: r.stage.name(),
            turnout: r
                .turnout
                .into_iter()
                .map(|t| TurnoutDto {
                    country: t.country,
                    recipients: t.recipients,
                    responses: t.responses,
                })
                .collect(),
            rows: r
                .rows
                .into_iter()
                .map(|x| ResultRowDto {
                    country: x.country,
                    question: x.question,
                    value: x.value,
                    count: x.count,
                })
                .collect(),
        }
    }
}

/// A survey's results per question and country (its author's administrators): counts of
/// each value; never who answered, never free text, nothing of personal-data questions.
#[utoipa::path(get, path = "/v1/surveys/{id}/results", tag = "surveys", operation_id = "survey_results", params(("id" = String, Path)), responses((status = 200, body = SurveyResultsDto), (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn results(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id: CaseId = parse("survey id", &id)?;
    let r = state.engine.survey_results(&actor, id).await?;
    Ok(localised(&reader, SurveyResultsDto::from(r)))
}

/// The same results as CSV (`country,question,value,count`).
#[utoipa::path(get, path = "/v1/surveys/{id}/results.csv", tag = "surveys", operation_id = "survey_results_csv", params(("id" = String, Path)), responses((status = 200, content_type = "text/csv", body = String), (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn results_csv(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id: CaseId = parse("survey id", &id)?;
    let r = state.engine.survey_results(&actor, id).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        r.to_csv(),
    )
        .into_response())
}

#[derive(OpenApi)]
#[openapi(tags((name = "surveys", description = "Surveys of competent authorities: the Commission or a national coordinator asks the authorities found through the directory, each answers once (editable until the deadline), reminders and closing come with time, results per question and country without personal data")))]
struct Doc;

/// The survey routes, with their part of the OpenAPI document.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(Doc::openapi())
        .routes(routes!(create, list))
        .routes(routes!(get))
        .routes(routes!(act))
        .routes(routes!(timeline))
        .routes(routes!(answer, response))
        .routes(routes!(results))
        .routes(routes!(results_csv))
}
