//! Users, their rights and their tokens.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use imi_core::{AuthorityId, UserId, access::Actor};
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

/// What a new token should be. Both fields are optional.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenRequestDto {
    /// What it is for, 1-100 characters (default `api`).
    #[schema(example = "case-management system")]
    label: Option<String>,
    /// Days until it expires, 1-365 (default 90).
    #[schema(minimum = 1, maximum = 365, example = 90)]
    expires_in_days: Option<u16>,
}

/// A token as listed: never its secret.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TokenDto {
    /// Its id, for revoking it.
    id: String,
    /// What it is for.
    label: String,
    /// When it was issued.
    created_at: chrono::DateTime<chrono::Utc>,
    /// When it stops working.
    expires_at: chrono::DateTime<chrono::Utc>,
    /// Who issued it (absent: the system operator).
    issued_by: Option<String>,
}

impl TokenDto {
    fn of(t: &imi_core::user::TokenInfo) -> Self {
        Self {
            id: t.id.to_string(),
            label: t.label.clone(),
            created_at: t.created_at,
            expires_at: t.expires_at,
            issued_by: t.issued_by.map(|u| u.to_string()),
        }
    }
}

/// A new API token: the secret is shown once, here.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TokenResponse {
    /// The bearer token (`imi_` and 64 hex digits). Shown once; keep it secret.
    token: String,
    /// The token as it will be listed.
    #[serde(flatten)]
    info: TokenDto,
}

/// Issues an API token that acts as a user: a user for themselves (with the `api-user`
/// right), or an authority's administrator for one of its service accounts. Nobody can
/// issue a token for another person (403, whether or not that user exists). Tokens
/// expire (default 90 days, at most 365); a user holds at most 20.
#[utoipa::path(post, path = "/v1/users/{id}/tokens", tag = "users", params(("id" = String, Path)), request_body(content = Option<TokenRequestDto>, content_type = "application/json"), responses((status = 201, body = TokenResponse), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn issue_token(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    body: Option<Body<Option<TokenRequestDto>>>,
) -> Result<Response, Problem> {
    let id: UserId = parse("user id", &id)?;
    let req = body.and_then(|Body(b)| b).unwrap_or_default();
    let mut request = imi_core::user::TokenRequest::default();
    if let Some(label) = req.label {
        request.label = label;
    }
    if let Some(days) = req.expires_in_days {
        request.days = days;
    }
    let (token, info) = state.engine.issue_token_with(&actor, id, request).await?;
    Ok((
        StatusCode::CREATED,
        Json(TokenResponse {
            token: token.expose().to_owned(),
            info: TokenDto::of(&info),
        }),
    )
        .into_response())
}

/// A user's unexpired tokens (never their secrets): for the user, the administrators of
/// their authority and coordinators covering it.
#[utoipa::path(get, path = "/v1/users/{id}/tokens", tag = "users", params(("id" = String, Path)), responses((status = 200, body = Vec<TokenDto>), (status = 404, body = Problem)))]
pub(crate) async fn list_tokens(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<TokenDto>>, Problem> {
    let id: UserId = parse("user id", &id)?;
    let tokens = state.engine.tokens_of(&actor, id).await?;
    Ok(Json(tokens.iter().map(TokenDto::of).collect()))
}

/// Revokes one token at once (the same people as listing).
#[utoipa::path(delete, path = "/v1/users/{id}/tokens/{token}", tag = "users", params(("id" = String, Path), ("token" = String, Path)), responses((status = 204), (status = 404, body = Problem)))]
pub(crate) async fn revoke_token(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path((id, token)): Path<(String, String)>,
) -> Result<StatusCode, Problem> {
    let id: UserId = parse("user id", &id)?;
    let token: imi_core::TokenId = parse("token id", &token)?;
    state.engine.revoke_token(&actor, id, token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Creates a service account: a system of the authority (machine to machine) with its own
/// rights, tokens and audit trail. Only the authority's own administrators create service
/// accounts and issue their tokens.
#[utoipa::path(post, path = "/v1/authorities/{id}/service-accounts", tag = "users", params(("id" = String, Path)), request_body = NewUserDto, responses((status = 201, body = UserDto), (status = 403, body = Problem)))]
pub(crate) async fn create_service_account(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Body(new): Body<NewUserDto>,
) -> Result<Response, Problem> {
    let id: AuthorityId = parse("authority id", &id)?;
    let u = state
        .engine
        .create_service_account(&actor, id, new.into_core()?)
        .await?;
    Ok((StatusCode::CREATED, Json(UserDto::of(&u))).into_response())
}
