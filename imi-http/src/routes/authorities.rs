//! Authorities: registration paths, updates with optimistic concurrency, coordinators,
//! procedure access, deregistration.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use imi_core::store::Version;
use imi_core::{AuthorityId, Invitation, Participant, Verdict};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::localised;
use crate::AppState;
use crate::dto::{
    AuthorityDto, AuthorityUpdateDto, CoordinatorDto, NewAuthorityDto, Page, PageParams,
};
use crate::extract::{Body, Caller, Params, Reader, etag, if_match, parse};
use crate::problem::Problem;

fn with_etag(mut r: Response, v: Version) -> Response {
    r.headers_mut().insert(header::ETAG, etag(v));
    r
}

fn created(r: Response) -> Response {
    (StatusCode::CREATED, r).into_response()
}

/// Filter of the authority listing.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListParams {
    /// Country code or `EC`.
    country: String,
    /// Page size.
    limit: Option<usize>,
    /// Where to continue.
    cursor: Option<String>,
}

/// Registers an authority directly (a coordinator covering it, or the system).
#[utoipa::path(post, path = "/v1/authorities", tag = "authorities", request_body = NewAuthorityDto, responses((status = 201, body = AuthorityDto), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn register(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Body(new): Body<NewAuthorityDto>,
) -> Result<Response, Problem> {
    let a = state
        .engine
        .register_authority(&actor, new.into_core()?)
        .await?;
    Ok(created(localised(&reader, AuthorityDto::of(&a, &reader.0))))
}

/// Lists the authorities of a country (every status), in registration order.
#[utoipa::path(get, path = "/v1/authorities", tag = "authorities", params(ListParams), responses((status = 200, body = Page<AuthorityDto>)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Params(p): Params<ListParams>,
) -> Result<Response, Problem> {
    let participant: Participant = parse("country", &p.country)?;
    let page = PageParams {
        limit: p.limit,
        cursor: p.cursor,
    }
    .into_core()?;
    let found = state
        .engine
        .authorities_of(&actor, participant, page)
        .await?;
    Ok(localised(
        &reader,
        Page::of(found, |a| AuthorityDto::of(a, &reader.0)),
    ))
}

/// Reads one authority; the `ETag` names its version for `If-Match`.
#[utoipa::path(get, path = "/v1/authorities/{id}", tag = "authorities", params(("id" = String, Path)), responses((status = 200, body = AuthorityDto, headers(("ETag" = String))), (status = 404, body = Problem)))]
pub(crate) async fn get(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id: AuthorityId = parse("authority id", &id)?;
    let (a, v) = state.engine.authority_versioned(&actor, id).await?;
    Ok(with_etag(
        localised(&reader, AuthorityDto::of(&a, &reader.0)),
        v,
    ))
}

/// Changes an authority's directory data. Send `If-Match` with the `ETag` you read to
/// refuse the change (412) when someone changed it since.
#[utoipa::path(patch, path = "/v1/authorities/{id}", tag = "authorities", params(("id" = String, Path), ("If-Match" = Option<String>, Header)), request_body = AuthorityUpdateDto, responses((status = 200, body = AuthorityDto), (status = 412, body = Problem)))]
pub(crate) async fn update(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Path(id): Path<String>,
    headers: HeaderMap,
    Body(update): Body<AuthorityUpdateDto>,
) -> Result<Response, Problem> {
    let id: AuthorityId = parse("authority id", &id)?;
    let expected = if_match(&headers)?;
    let (a, v) = state
        .engine
        .update_authority_if(&actor, id, update.into_core()?, expected)
        .await?;
    Ok(with_etag(
        localised(&reader, AuthorityDto::of(&a, &reader.0)),
        v,
    ))
}

/// A coordinator role to give (or `null` to remove).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CoordinatorRequest {
    role: Option<CoordinatorDto>,
}

/// Appoints (or removes) a coordinator.
#[utoipa::path(put, path = "/v1/authorities/{id}/coordinator", tag = "authorities", params(("id" = String, Path)), request_body = CoordinatorRequest, responses((status = 200, body = AuthorityDto), (status = 409, body = Problem)))]
pub(crate) async fn coordinator(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Path(id): Path<String>,
    Body(req): Body<CoordinatorRequest>,
) -> Result<Response, Problem> {
    let id: AuthorityId = parse("authority id", &id)?;
    let role = req.role.map(CoordinatorDto::into_core).transpose()?;
    let a = state.engine.appoint_coordinator(&actor, id, role).await?;
    Ok(localised(&reader, AuthorityDto::of(&a, &reader.0)))
}

/// A procedure to give access to.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProcedureRequest {
    procedure: String,
}

/// Gives an authority access to a procedure.
#[utoipa::path(post, path = "/v1/authorities/{id}/procedures", tag = "authorities", params(("id" = String, Path)), request_body = ProcedureRequest, responses((status = 200, body = AuthorityDto), (status = 403, body = Problem)))]
pub(crate) async fn grant_procedure(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Path(id): Path<String>,
    Body(req): Body<ProcedureRequest>,
) -> Result<Response, Problem> {
    let id: AuthorityId = parse("authority id", &id)?;
    let a = state
        .engine
        .grant_procedure(&actor, id, &parse("procedure id", &req.procedure)?)
        .await?;
    Ok(localised(&reader, AuthorityDto::of(&a, &reader.0)))
}

/// Why an authority is deregistered.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeregistrationRequest {
    reason: String,
}

/// Deregisters an authority (history and records stay).
#[utoipa::path(post, path = "/v1/authorities/{id}/deregistration", tag = "authorities", params(("id" = String, Path)), request_body = DeregistrationRequest, responses((status = 200, body = AuthorityDto), (status = 409, body = Problem)))]
pub(crate) async fn deregister(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Path(id): Path<String>,
    Body(req): Body<DeregistrationRequest>,
) -> Result<Response, Problem> {
    let id: AuthorityId = parse("authority id", &id)?;
    let a = state
        .engine
        .deregister_authority(&actor, id, &req.reason)
        .await?;
    Ok(localised(&reader, AuthorityDto::of(&a, &reader.0)))
}

/// An invitation to self-register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct InvitationRequest {
    participant: String,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    areas: Vec<String>,
}

/// The secret to hand to the invited authority (shown once).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SecretResponse {
    secret: String,
}

/// Invites an authority to register itself.
#[utoipa::path(post, path = "/v1/invitations", tag = "authorities", request_body = InvitationRequest, responses((status = 201, body = SecretResponse), (status = 403, body = Problem)))]
pub(crate) async fn invite(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Body(req): Body<InvitationRequest>,
) -> Result<Response, Problem> {
    let invitation = Invitation {
        participant: parse("participant", &req.participant)?,
        region: req.region.map(|r| parse("region", &r)).transpose()?,
        areas: req
            .areas
            .iter()
            .map(|a| parse("area id", a))
            .collect::<Result<_, _>>()?,
    };
    let secret = state.engine.invite_authority(&actor, invitation).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(SecretResponse {
            secret: secret.expose().to_owned(),
        }),
    )
        .into_response())
}

/// A self-registration with its invitation secret (no account needed).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SelfRegistrationRequest {
    secret: String,
    authority: NewAuthorityDto,
}

/// Registers an authority with an invitation; it waits for validation.
#[utoipa::path(post, path = "/v1/self-registrations", tag = "authorities", request_body = SelfRegistrationRequest, responses((status = 201, body = AuthorityDto), (status = 403, body = Problem)))]
pub(crate) async fn self_register(
    State(state): State<AppState>,
    reader: Reader,
    Body(req): Body<SelfRegistrationRequest>,
) -> Result<Response, Problem> {
    let secret = req
        .secret
        .parse()
        .map_err(|_| Problem::from(imi_core::EngineError::InvitationInvalid))?;
    let a = state
        .engine
        .self_register(&secret, req.authority.into_core()?)
        .await?;
    Ok(created(localised(&reader, AuthorityDto::of(&a, &reader.0))))
}

/// Self-registrations waiting in a country that the caller may validate.
#[utoipa::path(get, path = "/v1/pending-registrations", tag = "authorities", params(ListParams), responses((status = 200, body = Page<AuthorityDto>)))]
pub(crate) async fn pending(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Params(p): Params<ListParams>,
) -> Result<Response, Problem> {
    let participant: Participant = parse("country", &p.country)?;
    let page = PageParams {
        limit: p.limit,
        cursor: p.cursor,
    }
    .into_core()?;
    let found = state
        .engine
        .pending_registrations(&actor, participant, page)
        .await?;
    Ok(localised(
        &reader,
        Page::of(found, |a| AuthorityDto::of(a, &reader.0)),
    ))
}

/// A coordinator's decision on a self-registration.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ValidationRequest {
    /// `approve` or `reject`.
    decision: String,
    /// Why, for `reject`.
    #[serde(default)]
    reason: Option<String>,
}

/// Approves or rejects a self-registration.
#[utoipa::path(post, path = "/v1/authorities/{id}/validation", tag = "authorities", params(("id" = String, Path)), request_body = ValidationRequest, responses((status = 200, body = AuthorityDto), (status = 409, body = Problem)))]
pub(crate) async fn validate(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Path(id): Path<String>,
    Body(req): Body<ValidationRequest>,
) -> Result<Response, Problem> {
    let id: AuthorityId = parse("authority id", &id)?;
    let verdict = match (req.decision.as_str(), req.reason) {
        ("approve", None) => Verdict::Approve,
        ("reject", Some(reason)) => Verdict::Reject { reason },
        _ => {
            return Err(Problem::bad_request(
                "bad-body",
                "decision must be `approve`, or `reject` with a reason",
            ));
        }
    };
    let a = state
        .engine
        .validate_registration(&actor, id, verdict)
        .await?;
    Ok(localised(&reader, AuthorityDto::of(&a, &reader.0)))
}
