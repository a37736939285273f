//! Users, their rights and their tokens.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use imi_core::{Actor, AuthorityId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::dto::{GrantDto, NewUserDto, Page, PageParams, UserDto};
use crate::extract::{Body, Caller, Params, parse};
use crate::problem::Problem;

/// Creates a user of an authority.
#[utoipa::path(post, path = "/v1/authorities/{id}/users", tag = "users", params(("id" = String, Path)), request_body = NewUserDto, responses((status = 201, body = UserDto), (status = 403, body = Problem)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Body(new): Body<NewUserDto>,
) -> Result<Response, Problem> {
    let id: AuthorityId = parse("authority id", &id)?;
    let u = state
        .engine
        .create_user(&actor, id, new.into_core()?)
        .await?;
    Ok((StatusCode::CREATED, Json(UserDto::of(&u))).into_response())
}

/// Lists an authority's users.
#[utoipa::path(get, path = "/v1/authorities/{id}/users", tag = "users", params(("id" = String, Path), PageParams), responses((status = 200, body = Page<UserDto>), (status = 403, body = Problem)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Params(p): Params<PageParams>,
) -> Result<Json<Page<UserDto>>, Problem> {
    let id: AuthorityId = parse("authority id", &id)?;
    let found = state.engine.users_of(&actor, id, p.into_core()?).await?;
    Ok(Json(Page::of(found, UserDto::of)))
}

/// Reads a user.
#[utoipa::path(get, path = "/v1/users/{id}", tag = "users", params(("id" = String, Path)), responses((status = 200, body = UserDto), (status = 403, body = Problem)))]
pub(crate) async fn get(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<UserDto>, Problem> {
    let id: UserId = parse("user id", &id)?;
    Ok(Json(UserDto::of(&state.engine.user(&actor, id).await?)))
}

/// The signed-in user.
#[utoipa::path(get, path = "/v1/me", tag = "users", responses((status = 200, body = UserDto), (status = 401, body = Problem)))]
pub(crate) async fn me(
    State(state): State<AppState>,
    Caller(actor): Caller,
) -> Result<Json<UserDto>, Problem> {
    let Actor::User(p) = &actor else {
        return Err(Problem::bad_request(
            "not-a-user",
            "the caller is not a user",
        ));
    };
    Ok(Json(UserDto::of(
        &state.engine.user(&actor, p.user()).await?,
    )))
}

/// A user's complete set of rights.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GrantsRequest {
    grants: Vec<GrantDto>,
}

/// Replaces a user's rights.
#[utoipa::path(put, path = "/v1/users/{id}/grants", tag = "users", params(("id" = String, Path)), request_body = GrantsRequest, responses((status = 200, body = UserDto), (status = 422, body = Problem)))]
pub(crate) async fn set_grants(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Body(req): Body<GrantsRequest>,
) -> Result<Json<UserDto>, Problem> {
    let id: UserId = parse("user id", &id)?;
    let grants = req
        .grants
        .into_iter()
        .map(GrantDto::into_core)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(UserDto::of(
        &state.engine.set_grants(&actor, id, grants).await?,
    )))
}

/// Disables a user (their tokens stop working; their history stays).
#[utoipa::path(post, path = "/v1/users/{id}/disable", tag = "users", params(("id" = String, Path)), responses((status = 200, body = UserDto), (status = 409, body = Problem)))]
pub(crate) async fn disable(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<UserDto>, Problem> {
    let id: UserId = parse("user id", &id)?;
    Ok(Json(UserDto::of(
        &state.engine.disable_user(&actor, id).await?,
    )))
}

/// A new API token, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TokenResponse {
    token: String,
}

/// Issues an API token for a user.
#[utoipa::path(post, path = "/v1/users/{id}/tokens", tag = "users", params(("id" = String, Path)), responses((status = 201, body = TokenResponse), (status = 403, body = Problem)))]
pub(crate) async fn issue_token(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id: UserId = parse("user id", &id)?;
    let token = state.engine.issue_token(&actor, id).await?;
    Ok((
        StatusCode::CREATED,
        Json(TokenResponse {
            token: token.expose().to_owned(),
        }),
    )
        .into_response())
}
