//! Finding authorities, choosing recipients, the directory of registers, and the public
//! syndication feed.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use imi_core::register::{Register, RegisterData};
use imi_core::{DirectoryQuery, RegisterId, RegisterQuery};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::localised;
use crate::AppState;
use crate::dto::{AuthorityDto, Contact, Page, PageParams, Text, Translations};
use crate::extract::{Body, Caller, MaybeCaller, Params, Reader, parse};
use crate::problem::Problem;

/// Directory search parameters; every one given must match.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct SearchParams {
    /// Free text in any language (word prefixes, case and accents ignored).
    q: Option<String>,
    /// Country code or `EC`.
    country: Option<String>,
    /// Region code.
    region: Option<String>,
    /// Area id.
    area: Option<String>,
    /// Procedure id: only authorities with access to it.
    procedure: Option<String>,
    /// Competence keywords.
    competence: Option<String>,
    /// Page size.
    limit: Option<usize>,
    /// Where to continue.
    cursor: Option<String>,
}

/// Searches the directory of competent authorities.
#[utoipa::path(get, path = "/v1/directory", tag = "directory", params(SearchParams), responses((status = 200, body = Page<AuthorityDto>), (status = 400, body = Problem)))]
pub(crate) async fn search(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Params(p): Params<SearchParams>,
) -> Result<Response, Problem> {
    let query = DirectoryQuery {
        text: p.q,
        participant: p.country.map(|c| parse("country", &c)).transpose()?,
        region: p.region.map(|r| parse("region", &r)).transpose()?,
        area: p.area.map(|a| parse("area id", &a)).transpose()?,
        procedure: p.procedure.map(|x| parse("procedure id", &x)).transpose()?,
        competence: p.competence,
    };
    let page = PageParams {
        limit: p.limit,
        cursor: p.cursor,
    }
    .into_core()?;
    let found = state
        .engine
        .search_directory(&actor, &query, &reader.0, page)
        .await?;
    Ok(localised(
        &reader,
        Page::of(found, |h| AuthorityDto::of(&h.authority, &reader.0)),
    ))
}

/// Recipient choice parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct RecipientParams {
    /// The procedure.
    procedure: String,
    /// Country code or `EC`.
    country: Option<String>,
    /// Page size.
    limit: Option<usize>,
    /// Where to continue.
    cursor: Option<String>,
}

/// The authorities that can receive a case of a procedure.
#[utoipa::path(get, path = "/v1/recipients", tag = "directory", params(RecipientParams), responses((status = 200, body = Page<AuthorityDto>)))]
pub(crate) async fn recipients(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Params(p): Params<RecipientParams>,
) -> Result<Response, Problem> {
    let procedure = parse("procedure id", &p.procedure)?;
    let country = p.country.map(|c| parse("country", &c)).transpose()?;
    let page = PageParams {
        limit: p.limit,
        cursor: p.cursor,
    }
    .into_core()?;
    let found = state
        .engine
        .recipients(&actor, &procedure, country, page)
        .await?;
    Ok(localised(
        &reader,
        Page::of(found, |a| AuthorityDto::of(a, &reader.0)),
    ))
}

/// A register entry, localised.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RegisterDto {
    id: String,
    participant: String,
    area: Option<String>,
    name: Text,
    content: Text,
    access_conditions: Text,
    contact: Contact,
    link: Option<String>,
    updated_at: DateTime<Utc>,
}

impl RegisterDto {
    fn of(r: &Register, reader: &Reader) -> Self {
        let d = &r.data;
        Self {
            id: r.id.to_string(),
            participant: d.participant.code().to_owned(),
            area: d.area.as_ref().map(ToString::to_string),
            name: Text::of(&d.name, &reader.0),
            content: Text::of(&d.content, &reader.0),
            access_conditions: Text::of(&d.access_conditions, &reader.0),
            contact: Contact {
                email: d.contact.email.as_ref().map(ToString::to_string),
                phone: d.contact.phone.clone(),
                address: d.contact.address.clone(),
                website: d.contact.website.clone(),
            },
            link: d.link.clone(),
            updated_at: r.updated_at,
        }
    }
}

/// A register entry as written.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegisterInput {
    participant: String,
    #[serde(default)]
    area: Option<String>,
    name: Translations,
    content: Translations,
    access_conditions: Translations,
    #[serde(default)]
    contact: Contact,
    #[serde(default)]
    link: Option<String>,
}

impl RegisterInput {
    fn into_core(self) -> Result<RegisterData, Problem> {
        Ok(RegisterData {
            participant: parse("participant", &self.participant)?,
            area: self.area.map(|a| parse("area id", &a)).transpose()?,
            name: self.name.into_core("name")?,
            content: self.content.into_core("content")?,
            access_conditions: self.access_conditions.into_core("access_conditions")?,
            contact: self.contact.into_core()?,
            link: self.link,
        })
    }
}

/// Register search parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegisterSearchParams {
    /// Free text in any language.
    q: Option<String>,
    /// Country code.
    country: Option<String>,
    /// Area id.
    area: Option<String>,
    /// Page size.
    limit: Option<usize>,
    /// Where to continue.
    cursor: Option<String>,
}

/// Adds a register to the directory of national registers.
#[utoipa::path(post, path = "/v1/registers", tag = "registers", request_body = RegisterInput, responses((status = 201, body = RegisterDto), (status = 403, body = Problem)))]
pub(crate) async fn create_register(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Body(input): Body<RegisterInput>,
) -> Result<Response, Problem> {
    let r = state
        .engine
        .create_register(&actor, input.into_core()?)
        .await?;
    Ok((
        StatusCode::CREATED,
        localised(&reader, RegisterDto::of(&r, &reader)),
    )
        .into_response())
}

/// Searches the directory of national registers.
#[utoipa::path(get, path = "/v1/registers", tag = "registers", params(RegisterSearchParams), responses((status = 200, body = Page<RegisterDto>)))]
pub(crate) async fn search_registers(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Params(p): Params<RegisterSearchParams>,
) -> Result<Response, Problem> {
    let query = RegisterQuery {
        text: p.q,
        participant: p.country.map(|c| parse("country", &c)).transpose()?,
        area: p.area.map(|a| parse("area id", &a)).transpose()?,
    };
    let page = PageParams {
        limit: p.limit,
        cursor: p.cursor,
    }
    .into_core()?;
    let found = state
        .engine
        .search_registers(&actor, &query, &reader.0, page)
        .await?;
    Ok(localised(
        &reader,
        Page::of(found, |h| RegisterDto::of(&h.register, &reader)),
    ))
}

/// Reads a register entry.
#[utoipa::path(get, path = "/v1/registers/{id}", tag = "registers", params(("id" = String, Path)), responses((status = 200, body = RegisterDto), (status = 404, body = Problem)))]
pub(crate) async fn get_register(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id: RegisterId = parse("register id", &id)?;
    let r = state.engine.register(&actor, id).await?;
    Ok(localised(&reader, RegisterDto::of(&r, &reader)))
}

/// Replaces a register entry.
#[utoipa::path(put, path = "/v1/registers/{id}", tag = "registers", params(("id" = String, Path)), request_body = RegisterInput, responses((status = 200, body = RegisterDto), (status = 403, body = Problem)))]
pub(crate) async fn update_register(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Path(id): Path<String>,
    Body(input): Body<RegisterInput>,
) -> Result<Response, Problem> {
    let id: RegisterId = parse("register id", &id)?;
    let r = state
        .engine
        .update_register(&actor, id, input.into_core()?)
        .await?;
    Ok(localised(&reader, RegisterDto::of(&r, &reader)))
}

/// Removes a register entry.
#[utoipa::path(delete, path = "/v1/registers/{id}", tag = "registers", params(("id" = String, Path)), responses((status = 204), (status = 403, body = Problem)))]
pub(crate) async fn delete_register(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    let id: RegisterId = parse("register id", &id)?;
    state.engine.delete_register(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A page of the public directory (syndication), open to everyone.
#[utoipa::path(get, path = "/v1/public/authorities", tag = "syndication", params(PageParams), responses((status = 200, description = "public entries: see imi_core::PublicAuthority for the schema", body = Object)))]
pub(crate) async fn public_authorities(
    State(state): State<AppState>,
    MaybeCaller(actor): MaybeCaller,
    Params(p): Params<PageParams>,
) -> Result<Json<serde_json::Value>, Problem> {
    let found = state
        .engine
        .syndication_export(&actor, p.into_core()?)
        .await?;
    Ok(Json(
        serde_json::json!({ "items": found.items, "next_cursor": found.next.map(|c| c.to_string()) }),
    ))
}

/// Change feed parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChangesParams {
    /// RFC 3339 time: changes at or after it.
    since: DateTime<Utc>,
    /// Page size.
    limit: Option<usize>,
    /// Where to continue.
    cursor: Option<String>,
}

/// Changes of the public directory since a time, open to everyone.
#[utoipa::path(get, path = "/v1/public/changes", tag = "syndication", params(ChangesParams), responses((status = 200, description = "changes: see imi_core::DirectoryChange for the schema", body = Object)))]
pub(crate) async fn public_changes(
    State(state): State<AppState>,
    MaybeCaller(actor): MaybeCaller,
    Params(p): Params<ChangesParams>,
) -> Result<Json<serde_json::Value>, Problem> {
    let page = PageParams {
        limit: p.limit,
        cursor: p.cursor,
    }
    .into_core()?;
    let found = state
        .engine
        .directory_changes(&actor, p.since, page)
        .await?;
    Ok(Json(
        serde_json::json!({ "items": found.items, "next_cursor": found.next.map(|c| c.to_string()) }),
    ))
}
