//! The routes, grouped by concern. Each handler parses, calls the engine and maps the
//! result; no business rule lives here.

pub(crate) mod alerts;
pub(crate) mod attachments;
pub(crate) mod authorities;
pub(crate) mod cases;
pub(crate) mod catalogue;
pub(crate) mod directory;
pub(crate) mod exchanges;
pub(crate) mod meta;
pub(crate) mod notifications;
pub(crate) mod outbox;
pub(crate) mod privacy;
pub(crate) mod repositories;
pub(crate) mod requests;
pub(crate) mod solvit;
pub(crate) mod submissions;
pub(crate) mod survey;
pub(crate) mod users;

use axum::Json;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::AppState;
use crate::extract::Reader;

/// The routes of the workflows that bring their own router (shared case routes, own
/// tag); each adds one line here.
pub(crate) fn workflows() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new()
        .merge(solvit::routes())
        .merge(survey::routes())
}

/// The box named `given` among `boxes`, or a 400 that names the choices.
pub(crate) fn pick_box<T: Copy>(given: &str, boxes: &[(&str, T)]) -> Result<T, crate::Problem> {
    boxes
        .iter()
        .find(|(name, _)| *name == given)
        .map(|(_, b)| *b)
        .ok_or_else(|| {
            let names: Vec<&str> = boxes.iter().map(|(n, _)| *n).collect();
            crate::Problem::bad_request(
                "bad-query",
                format!("`{given}` is not a box: use {}", names.join(", ")),
            )
        })
}

/// The stage named `given` (if any) among a workflow's `stages`, or a 400.
pub(crate) fn pick_stage<S: imi_core::workflow::Stage>(
    given: Option<&str>,
    stages: &[S],
) -> Result<Option<S>, crate::Problem> {
    let Some(name) = given else {
        return Ok(None);
    };
    stages
        .iter()
        .copied()
        .find(|s| s.name() == name)
        .map(Some)
        .ok_or_else(|| {
            let names: Vec<&str> = stages.iter().map(|s| s.name()).collect();
            crate::Problem::bad_request(
                "bad-query",
                format!("`{name}` is not a stage: use {}", names.join(", ")),
            )
        })
}

/// A JSON response labelled with the reader's language.
pub(crate) fn localised<T: Serialize>(reader: &Reader, body: T) -> Response {
    let mut response = Json(body).into_response();
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(reader.language().code()) {
        h.insert(header::CONTENT_LANGUAGE, v);
    }
    // Caches must keep one copy per language asked for.
    h.insert(header::VARY, HeaderValue::from_static("Accept-Language"));
    response
}
