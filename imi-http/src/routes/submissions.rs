//! The public interface and the authorities' side of it.
//!
//! Public, without an account, under `/v1/public/` (rate-limited per client, see
//! [`crate::limit`]): submit a case, then, with the secret in the `X-Submission-Secret`
//! header (never in the address, so it stays out of logs), follow it, reply, withdraw,
//! and ask for one's data. A secret that opens nothing, whether malformed, unknown or
//! deleted, always gets the same 404.
//!
//! Authorities, signed in, under `/v1/submissions`: the box of submissions made to the
//! caller's authority, each submission (with `ETag`), commands (with `If-Match`) and the
//! timeline.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use imi_core::case::TimelineEntry;
use imi_core::catalogue::Answers;
use imi_core::store::Version;
use imi_core::submission::{SubmissionCommand, SubmissionEvent, SubmissionSecret, SubmissionStage};
use imi_core::{
    CaseId, Engine, EngineError, Language, NewSubmission, SubmissionCase, SubmissionStatus,
    access::Actor,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::cases::{CaseApi, case_routes};
use super::localised;
use super::requests::{AnswerDto, answers_dto};
use crate::AppState;
use crate::dto::{Page, PageParams};
use crate::extract::{Body, Caller, Params, Reader, etag, if_match, parse};
use crate::problem::Problem;

/// The header that carries a submission's secret.
pub(crate) const SECRET_HEADER: &str = "x-submission-secret";

/// The one answer to a secret that opens nothing.
fn no_such_secret() -> Problem {
    Problem::not_found("no submission opens with this secret")
}

/// The secret of the request: 401 when absent, the common 404 when malformed.
fn secret(headers: &HeaderMap) -> Result<SubmissionSecret, Problem> {
    let Some(v) = headers.get(SECRET_HEADER) else {
        return Err(Problem::unauthenticated(
            "this needs the submission's secret in the `X-Submission-Secret` header",
        ));
    };
    v.to_str()
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(no_such_secret)
}

/// Maps engine errors of the public operations: every `NotFound` (the secret opens
/// nothing) becomes the one common 404.
fn public_error(e: imi_core::EngineError) -> Problem {
    match e {
        imi_core::EngineError::NotFound { .. } => no_such_secret(),
        other => other.into(),
    }
}

/// Public answers must not be cached by anything between the submitter and us.
fn private(mut r: Response, language: Language) -> Response {
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(language.code()) {
        h.insert(header::CONTENT_LANGUAGE, v);
    }
    r
}

/// What a citizen or business submits.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewSubmissionDto {
    /// A request procedure open to public submissions.
    procedure: String,
    /// The competent authority's id (from the public directory).
    authority: String,
    /// The language to follow the submission in (`da`, `de`, …).
    language: String,
    /// Answers to the procedure's requester-side questions, by question id.
    #[schema(value_type = Object)]
    answers: Answers,
}

/// The receipt of a submission: keep the secret, it is shown once and is the only way
/// back in.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ReceiptDto {
    reference: String,
    /// `imis_` and 64 hexadecimal digits.
    secret: String,
    #[schema(value_type = Object)]
    status: SubmissionStatus,
}

/// Submits a case to a competent authority, without an account, through a procedure open
/// to public submissions. Returns the reference and the secret, once.
#[utoipa::path(post, path = "/v1/public/submissions", tag = "public", request_body = NewSubmissionDto, responses((status = 201, body = ReceiptDto), (status = 404, body = Problem), (status = 422, body = Problem), (status = 429, body = Problem)))]
pub(crate) async fn submit(
    State(state): State<AppState>,
    Body(req): Body<NewSubmissionDto>,
) -> Result<Response, Problem> {
    let language: Language = parse("language", &req.language)?;
    let new = NewSubmission {
        procedure: parse("procedure id", &req.procedure)?,
        authority: parse("authority id", &req.authority)?,
        language,
        answers: req.answers,
    };
    let receipt = state.engine.submit(new).await?;
    let body = ReceiptDto {
        reference: receipt.reference.to_string(),
        secret: receipt.secret.expose().to_owned(),
        status: receipt.status,
    };
    Ok(private(
        (StatusCode::CREATED, axum::Json(body)).into_response(),
        language,
    ))
}

/// Which language to follow in.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct LanguageParams {
    /// A language code; default: the one chosen when submitting.
    language: Option<String>,
}

fn status_response(status: SubmissionStatus, version: Version) -> Response {
    let language = status.language;
    let mut r = axum::Json(status).into_response();
    r.headers_mut().insert(header::ETAG, etag(version));
    private(r, language)
}

/// The submission the secret opens, in the submitter's language: the stage in words,
/// their answers and the authority's with labels, the exchange of questions and replies.
#[utoipa::path(get, path = "/v1/public/submission", tag = "public", params(LanguageParams, ("X-Submission-Secret" = String, Header)), responses((status = 200, body = Object, headers(("ETag" = String))), (status = 401, body = Problem), (status = 404, body = Problem), (status = 429, body = Problem)))]
pub(crate) async fn status(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(p): Params<LanguageParams>,
) -> Result<Response, Problem> {
    let secret = secret(&headers)?;
    let language = match p.language.as_deref() {
        Some(l) => Some(parse::<Language>("language", l)?),
        None => None,
    };
    let (status, version) = state
        .engine
        .submission_status(&secret, language)
        .await
        .map_err(public_error)?;
    Ok(status_response(status, version))
}

/// The submitter acts: `{"command": "reply", "text": "…"}` to the authority's question,
/// or `{"command": "withdraw"}`. With `If-Match`, a stale version gives 412.
#[utoipa::path(post, path = "/v1/public/submission/commands", tag = "public", params(("X-Submission-Secret" = String, Header), ("If-Match" = Option<String>, Header)), request_body = Object, responses((status = 200, body = Object), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 412, body = Problem), (status = 429, body = Problem)))]
pub(crate) async fn act_public(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(command): Body<serde_json::Value>,
) -> Result<Response, Problem> {
    let secret = secret(&headers)?;
    let expected = if_match(&headers)?;
    let command: SubmissionCommand = serde_json::from_value(command)
        .map_err(|e| Problem::bad_request("bad-body", format!("not a submission command: {e}")))?;
    let (status, version) = state
        .engine
        .act_as_submitter(&secret, command, expected)
        .await
        .map_err(public_error)?;
    Ok(status_response(status, version))
}

/// The submitter asks for their data (Art. 15 GDPR): everything the submission holds and
/// its whole timeline, as JSON to keep. The authority sees that it was asked.
#[utoipa::path(post, path = "/v1/public/submission/data-requests", tag = "public", params(("X-Submission-Secret" = String, Header)), responses((status = 200, body = Object), (status = 401, body = Problem), (status = 404, body = Problem), (status = 429, body = Problem)))]
pub(crate) async fn data(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let secret = secret(&headers)?;
    let export = state
        .engine
        .submission_data(&secret)
        .await
        .map_err(public_error)?;
    let language = export.status.language;
    let mut r = axum::Json(export).into_response();
    r.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"my-submission.json\""),
    );
    Ok(private(r, language))
}

/// Machine translations, into the submitter's language (or `language`), of the
/// authority's questions, closing reason and free-text answers. Made on demand, not
/// stored, each labelled as a machine translation; 503 when no translator is configured.
#[utoipa::path(get, path = "/v1/public/submission/translations", tag = "public", params(LanguageParams, ("X-Submission-Secret" = String, Header)), responses((status = 200, body = Object), (status = 401, body = Problem), (status = 404, body = Problem), (status = 429, body = Problem), (status = 503, body = Problem)))]
pub(crate) async fn translations(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(p): Params<LanguageParams>,
) -> Result<Response, Problem> {
    let secret = secret(&headers)?;
    let language = match p.language.as_deref() {
        Some(l) => Some(parse::<Language>("language", l)?),
        None => None,
    };
    let out = state
        .engine
        .translate_submission(&secret, language)
        .await
        .map_err(public_error)?;
    let language = out.first().map_or(Language::English, |t| t.to);
    Ok(private(axum::Json(out).into_response(), language))
}

/// A submission as the receiving authority sees it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SubmissionDto {
    id: String,
    reference: String,
    procedure: String,
    question_set: String,
    question_set_version: u32,
    authority: String,
    /// `received`, `in-handling`, `awaiting-submitter`, `answered`, `closed`, `withdrawn`.
    stage: &'static str,
    /// The full state, with the handler and dates.
    #[schema(value_type = Object)]
    state: serde_json::Value,
    /// The language the submitter follows it in.
    submitter_language: String,
    questions_asked: u32,
    answers: Vec<AnswerDto>,
    reply: Vec<AnswerDto>,
    blocked: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// The case routes of submissions, for the authority they were made to.
pub(crate) struct Api;

impl CaseApi for Api {
    const ID: &'static str = "submission id";
    const COMMAND: &'static str = "submission command";
    type Case = SubmissionCase;
    type Command = SubmissionCommand;
    type Event = SubmissionEvent;
    type Dto = SubmissionDto;

    async fn read(
        engine: &Engine,
        actor: &Actor,
        id: CaseId,
    ) -> Result<(SubmissionCase, Version), EngineError> {
        engine.submission(actor, id).await
    }

    async fn act(
        engine: &Engine,
        actor: &Actor,
        id: CaseId,
        command: SubmissionCommand,
        if_match: Option<Version>,
    ) -> Result<(SubmissionCase, Version), EngineError> {
        engine.act_on_submission(actor, id, command, if_match).await
    }

    async fn timeline(
        engine: &Engine,
        actor: &Actor,
        id: CaseId,
    ) -> Result<Vec<TimelineEntry<SubmissionEvent>>, EngineError> {
        engine.submission_timeline(actor, id).await
    }

    fn dto(state: &AppState, c: &SubmissionCase, reader: &Reader) -> SubmissionDto {
        let catalogue = state.engine.catalogue();
        let set = catalogue.question_set(&c.question_set.id, c.question_set.version);
        let s = &c.submission;
        SubmissionDto {
            id: c.id.to_string(),
            reference: c.reference.to_string(),
            procedure: c.procedure.to_string(),
            question_set: c.question_set.id.to_string(),
            question_set_version: c.question_set.version,
            authority: c.authority.to_string(),
            stage: s.state().stage().name(),
            state: serde_json::to_value(s.state()).unwrap_or_default(),
            submitter_language: s.language().code().to_owned(),
            questions_asked: s.questions_asked(),
            answers: answers_dto(s.answers(), set, reader),
            reply: answers_dto(s.reply(), set, reader),
            blocked: s.is_blocked(),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

case_routes!(
    Api,
    tag = "public",
    dto = SubmissionDto,
    get = (
        "/v1/submissions/{id}",
        "get_submission",
        "Reads a submission made to the caller's authority (its request handlers and viewers for the procedure); anyone else gets 404. The `ETag` is for `If-Match`."
    ),
    act = (
        "/v1/submissions/{id}/commands",
        "act_on_submission",
        "The authority acts: `{\"command\": \"take\"}`, `{\"command\": \"ask-submitter\", \"text\": \"…\"}`, `{\"command\": \"answer\", \"answers\": {...}}`, `{\"command\": \"close\", \"reason\": \"…\"}` (request handlers; viewers get 403). With `If-Match`, a stale version gives 412."
    ),
    timeline = (
        "/v1/submissions/{id}/timeline",
        "submission_timeline",
        "A submission's timeline, oldest first, for the authority it was made to."
    )
);

/// Which submissions to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct SubmissionBoxParams {
    /// A stage name.
    stage: Option<String>,
    /// Page size.
    limit: Option<usize>,
    /// Where to continue.
    cursor: Option<String>,
}

/// The submissions made to the caller's authority, optionally of one stage.
#[utoipa::path(get, path = "/v1/submissions", tag = "public", params(SubmissionBoxParams), responses((status = 200, body = Page<SubmissionDto>), (status = 400, body = Problem)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Params(p): Params<SubmissionBoxParams>,
) -> Result<Response, Problem> {
    let stage = super::pick_stage(p.stage.as_deref(), &SubmissionStage::ALL)?;
    let page = PageParams {
        limit: p.limit,
        cursor: p.cursor,
    }
    .into_core()?;
    let found = state.engine.submissions(&actor, stage, page).await?;
    Ok(localised(
        &reader,
        Page::of(found, |c| Api::dto(&state, c, &reader)),
    ))
}
