//! Repositories: records with typed fields, per repository procedure. Create and search
//! under `/v1/repositories/{procedure}/records`; read (with `ETag`), change (with
//! `If-Match`), delete and read the history under `/v1/records/{id}`.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use imi_core::catalogue::{Answers, ProcedureId};
use imi_core::repository::{Audience, RecordCommand, RepositoryRecord};
use imi_core::store::Version;
use imi_core::{RecordId, RecordQuery};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::localised;
use super::requests::{AnswerDto, answers_dto};
use crate::AppState;
use crate::dto::{Page, PageParams};
use crate::extract::{Body, Caller, Params, Reader, etag, if_match, parse};
use crate::problem::Problem;

/// A repository record at one revision.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RecordDto {
    id: String,
    procedure: String,
    question_set: String,
    question_set_version: u32,
    /// The authority that keeps it.
    owner: String,
    owner_country: String,
    revision: u32,
    /// `active` or `retired`.
    status: &'static str,
    /// `{ "audience": "area" }` or `{ "audience": "group", "authorities": [...] }`.
    #[schema(value_type = Object)]
    audience: serde_json::Value,
    fields: Vec<AnswerDto>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn dto(state: &AppState, r: &RepositoryRecord, reader: &Reader) -> RecordDto {
    let catalogue = state.engine.catalogue();
    let set = catalogue.question_set(&r.question_set.id, r.question_set.version);
    RecordDto {
        id: r.id.to_string(),
        procedure: r.procedure.to_string(),
        question_set: r.question_set.id.to_string(),
        question_set_version: r.question_set.version,
        owner: r.owner.to_string(),
        owner_country: r.owner_country.to_string(),
        revision: r.revision,
        status: r.status.name(),
        audience: serde_json::to_value(&r.audience).unwrap_or_default(),
        fields: answers_dto(&r.fields, set, reader),
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

fn respond(state: &AppState, reader: &Reader, r: &RepositoryRecord, version: Version) -> Response {
    let mut out = localised(reader, dto(state, r, reader));
    out.headers_mut().insert(header::ETAG, etag(version));
    out
}

/// A new record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewRecordDto {
    /// `{"<question>": {"type": "text", "value": "…"}, …}`.
    #[schema(value_type = Object)]
    fields: Answers,
    /// Who may read it besides the keeping authority; every user of the procedure when
    /// left out.
    #[schema(value_type = Option<Object>)]
    #[serde(default)]
    audience: Option<Audience>,
}

/// Adds a record to a repository (repository editors of an authority with access).
#[utoipa::path(post, path = "/v1/repositories/{procedure}/records", tag = "repositories", params(("procedure" = String, Path)), request_body = NewRecordDto, responses((status = 201, body = RecordDto, headers(("ETag" = String))), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Path(procedure): Path<String>,
    Body(req): Body<NewRecordDto>,
) -> Result<Response, Problem> {
    let procedure: ProcedureId = parse("procedure id", &procedure)?;
    let (record, version) = state
        .engine
        .create_record(
            &actor,
            &procedure,
            req.fields,
            req.audience.unwrap_or(Audience::Area),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        respond(&state, &reader, &record, version),
    )
        .into_response())
}

/// Search parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct SearchParams {
    /// Words every record must hold (case and accents ignored); all records when empty.
    q: Option<String>,
    /// Include retired records.
    include_retired: Option<bool>,
    /// Page size.
    limit: Option<usize>,
    /// Where to continue.
    cursor: Option<String>,
}

/// Searches a repository: the records the caller may see that hold every word.
#[utoipa::path(get, path = "/v1/repositories/{procedure}/records", tag = "repositories", params(("procedure" = String, Path), SearchParams), responses((status = 200, body = Page<RecordDto>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn search(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Path(procedure): Path<String>,
    Params(p): Params<SearchParams>,
) -> Result<Response, Problem> {
    let procedure: ProcedureId = parse("procedure id", &procedure)?;
    let page = PageParams {
        limit: p.limit,
        cursor: p.cursor,
    }
    .into_core()?;
    let query = RecordQuery {
        text: p.q.unwrap_or_default(),
        include_retired: p.include_retired.unwrap_or(false),
    };
    let found = state
        .engine
        .search_records(&actor, &procedure, &query, page)
        .await?;
    Ok(localised(
        &reader,
        Page::of(found, |r| dto(&state, r, &reader)),
    ))
}

/// Reads a record's current revision; the `ETag` is for `If-Match`.
#[utoipa::path(get, path = "/v1/records/{id}", tag = "repositories", params(("id" = String, Path)), responses((status = 200, body = RecordDto, headers(("ETag" = String))), (status = 404, body = Problem)))]
pub(crate) async fn get(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id: RecordId = parse("record id", &id)?;
    let (record, version) = state.engine.record(&actor, id).await?;
    Ok(respond(&state, &reader, &record, version))
}

/// Changes a record: `{"command": "update", "fields": {...}, "audience": {...}}` (a new
/// revision) or `{"command": "retire"}`. With `If-Match`, a stale version gives 412.
#[utoipa::path(post, path = "/v1/records/{id}/commands", tag = "repositories", params(("id" = String, Path), ("If-Match" = Option<String>, Header)), request_body = Object, responses((status = 200, body = RecordDto), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn act(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Path(id): Path<String>,
    headers: HeaderMap,
    Body(command): Body<serde_json::Value>,
) -> Result<Response, Problem> {
    let id: RecordId = parse("record id", &id)?;
    let expected = if_match(&headers)?;
    let command: RecordCommand = serde_json::from_value(command)
        .map_err(|e| Problem::bad_request("bad-body", format!("not a record command: {e}")))?;
    let (record, version) = state
        .engine
        .act_on_record(&actor, id, command, expected)
        .await?;
    Ok(respond(&state, &reader, &record, version))
}

/// Deletes a record with every revision (its keeping authority's editors).
#[utoipa::path(delete, path = "/v1/records/{id}", tag = "repositories", params(("id" = String, Path)), responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    let id: RecordId = parse("record id", &id)?;
    state.engine.delete_record(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every revision of a record, oldest first.
#[utoipa::path(get, path = "/v1/records/{id}/history", tag = "repositories", params(("id" = String, Path)), responses((status = 200, body = Vec<RecordDto>), (status = 404, body = Problem)))]
pub(crate) async fn history(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id: RecordId = parse("record id", &id)?;
    let revisions = state.engine.record_history(&actor, id).await?;
    let out: Vec<RecordDto> = revisions.iter().map(|r| dto(&state, r, &reader)).collect();
    Ok(localised(&reader, out))
}
