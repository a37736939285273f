//! The case routes every workflow shares, written once: read a case (with its `ETag`),
//! act on it (with `If-Match`), read its timeline. A workflow implements [`CaseApi`]
//! (which engine calls, and its wire form) and gets its documented handlers from
//! [`case_routes!`]; the OpenAPI document names each workflow's own paths, tag and body.

use axum::http::{HeaderMap, header};
use axum::response::Response;
use chrono::{DateTime, Utc};
use imi_core::case::TimelineEntry;
use imi_core::store::Version;
use imi_core::{CaseId, Engine, EngineError, access::Actor};
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;

use super::localised;
use crate::AppState;
use crate::extract::{Reader, etag, if_match, parse};
use crate::problem::Problem;

/// A workflow's case as the HTTP API serves it.
pub(crate) trait CaseApi: 'static {
    /// What a case id is called in problems (`"SOLVIT case id"`).
    const ID: &'static str;
    /// What a command is called in problems (`"SOLVIT command"`).
    const COMMAND: &'static str;
    /// The case as the engine gives it.
    type Case: Send;
    /// Its commands.
    type Command: DeserializeOwned + Send;
    /// Its timeline's events.
    type Event: Serialize + Send;
    /// Its wire form.
    type Dto: Serialize;

    /// Reads a case as `actor` may see it.
    fn read(
        engine: &Engine,
        actor: &Actor,
        id: CaseId,
    ) -> impl Future<Output = Result<(Self::Case, Version), EngineError>> + Send;

    /// One command.
    fn act(
        engine: &Engine,
        actor: &Actor,
        id: CaseId,
        command: Self::Command,
        if_match: Option<Version>,
    ) -> impl Future<Output = Result<(Self::Case, Version), EngineError>> + Send;

    /// The timeline as `actor` may see it.
    fn timeline(
        engine: &Engine,
        actor: &Actor,
        id: CaseId,
    ) -> impl Future<Output = Result<Vec<TimelineEntry<Self::Event>>, EngineError>> + Send;

    /// The wire form of a case.
    fn dto(state: &AppState, case: &Self::Case, reader: &Reader) -> Self::Dto;

    /// Fills in what a caller may leave out of a command's body, before it is read.
    fn complete_body(_body: &mut serde_json::Value) {}
}

/// One step of a case's timeline, for every workflow.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TimelineDto {
    /// Its position, from 1.
    seq: u64,
    /// When.
    at: DateTime<Utc>,
    /// Who: `{ "kind": "user", "user": …, "authority": … }`, `{ "kind": "system" }` or
    /// `{ "kind": "submitter" }`.
    #[schema(value_type = Object)]
    actor: serde_json::Value,
    /// What happened: `{ "event": "<name>", … }`, the workflow's event.
    #[schema(value_type = Object)]
    event: serde_json::Value,
}

impl<E: Serialize> From<&TimelineEntry<E>> for TimelineDto {
    fn from(e: &TimelineEntry<E>) -> Self {
        TimelineDto {
            seq: e.seq,
            at: e.at,
            actor: serde_json::to_value(e.actor).unwrap_or_default(),
            event: serde_json::to_value(&e.event).unwrap_or_default(),
        }
    }
}

/// A case with its `ETag`.
pub(crate) fn respond<A: CaseApi>(
    state: &AppState,
    reader: &Reader,
    case: &A::Case,
    version: Version,
) -> Response {
    let mut r = localised(reader, A::dto(state, case, reader));
    r.headers_mut().insert(header::ETAG, etag(version));
    r
}

/// `GET …/{id}`.
pub(crate) async fn get<A: CaseApi>(
    state: AppState,
    actor: Actor,
    reader: Reader,
    id: String,
) -> Result<Response, Problem> {
    let id: CaseId = parse(A::ID, &id)?;
    let (case, version) = A::read(&state.engine, &actor, id).await?;
    Ok(respond::<A>(&state, &reader, &case, version))
}

/// `POST …/{id}/commands`.
pub(crate) async fn act<A: CaseApi>(
    state: AppState,
    actor: Actor,
    reader: Reader,
    id: String,
    headers: HeaderMap,
    command: serde_json::Value,
) -> Result<Response, Problem> {
    let id: CaseId = parse(A::ID, &id)?;
    let expected = if_match(&headers)?;
    let mut command = command;
    A::complete_body(&mut command);
    let command: A::Command = serde_json::from_value(command)
        .map_err(|e| Problem::bad_request("bad-body", format!("not a {}: {e}", A::COMMAND)))?;
    let (case, version) = A::act(&state.engine, &actor, id, command, expected).await?;
    Ok(respond::<A>(&state, &reader, &case, version))
}

/// `GET …/{id}/timeline`.
pub(crate) async fn timeline<A: CaseApi>(
    state: AppState,
    actor: Actor,
    reader: Reader,
    id: String,
) -> Result<Response, Problem> {
    let id: CaseId = parse(A::ID, &id)?;
    let entries = A::timeline(&state.engine, &actor, id).await?;
    let out: Vec<TimelineDto> = entries.iter().map(TimelineDto::from).collect();
    Ok(localised(&reader, out))
}

/// The documented `get`, `act` and `timeline` handlers of one workflow, delegating to
/// the generic ones above. Each takes its path, a unique operation id and its
/// description: `case_routes!(Api, tag = "…", dto = Dto, get = (path, id, text),
/// act = (path, id, text), timeline = (path, id, text))`; without `timeline`, the
/// workflow serves its own.
macro_rules! case_routes {
    ($api:ty, tag = $tag:literal, dto = $dto:ty,
     get = ($one:literal, $get_id:literal, $get_doc:literal),
     act = ($commands:literal, $act_id:literal, $act_doc:literal),
     timeline = ($timeline:literal, $timeline_id:literal, $timeline_doc:literal)) => {
        $crate::routes::cases::case_routes!(
            $api,
            tag = $tag,
            dto = $dto,
            get = ($one, $get_id, $get_doc),
            act = ($commands, $act_id, $act_doc)
        );

        #[utoipa::path(get, path = $timeline, tag = $tag, operation_id = $timeline_id,
                    description = $timeline_doc, params(("id" = String, Path)),
                    responses((status = 200, body = Vec<$crate::routes::cases::TimelineDto>),
                        (status = 400, body = Problem), (status = 401, body = Problem),
                        (status = 404, body = Problem)))]
        pub(crate) async fn timeline(
            axum::extract::State(state): axum::extract::State<$crate::AppState>,
            $crate::extract::Caller(actor): $crate::extract::Caller,
            reader: $crate::extract::Reader,
            axum::extract::Path(id): axum::extract::Path<String>,
        ) -> Result<axum::response::Response, $crate::problem::Problem> {
            $crate::routes::cases::timeline::<$api>(state, actor, reader, id).await
        }
    };
    // Without the timeline, for a workflow whose timeline says more than the shared one.
    ($api:ty, tag = $tag:literal, dto = $dto:ty,
     get = ($one:literal, $get_id:literal, $get_doc:literal),
     act = ($commands:literal, $act_id:literal, $act_doc:literal)) => {
        #[utoipa::path(get, path = $one, tag = $tag, operation_id = $get_id,
                    description = $get_doc, params(("id" = String, Path)),
                    responses((status = 200, body = $dto, headers(("ETag" = String))),
                        (status = 400, body = Problem), (status = 401, body = Problem),
                        (status = 404, body = Problem)))]
        pub(crate) async fn get(
            axum::extract::State(state): axum::extract::State<$crate::AppState>,
            $crate::extract::Caller(actor): $crate::extract::Caller,
            reader: $crate::extract::Reader,
            axum::extract::Path(id): axum::extract::Path<String>,
        ) -> Result<axum::response::Response, $crate::problem::Problem> {
            $crate::routes::cases::get::<$api>(state, actor, reader, id).await
        }

        #[utoipa::path(post, path = $commands, tag = $tag, operation_id = $act_id,
                    description = $act_doc,
                    params(("id" = String, Path), ("If-Match" = Option<String>, Header)),
                    request_body = Object,
                    responses((status = 200, body = $dto, headers(("ETag" = String))),
                        (status = 400, body = Problem), (status = 401, body = Problem),
                        (status = 403, body = Problem), (status = 404, body = Problem),
                        (status = 409, body = Problem), (status = 412, body = Problem),
                        (status = 422, body = Problem)))]
        pub(crate) async fn act(
            axum::extract::State(state): axum::extract::State<$crate::AppState>,
            $crate::extract::Caller(actor): $crate::extract::Caller,
            reader: $crate::extract::Reader,
            axum::extract::Path(id): axum::extract::Path<String>,
            headers: axum::http::HeaderMap,
            $crate::extract::Body(command): $crate::extract::Body<serde_json::Value>,
        ) -> Result<axum::response::Response, $crate::problem::Problem> {
            $crate::routes::cases::act::<$api>(state, actor, reader, id, headers, command).await
        }
    };
}
pub(crate) use case_routes;
