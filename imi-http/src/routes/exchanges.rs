//! The archive of exchanged information: closed notifications without personal or
//! confidential data, searchable by every signed-in user.

use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};
use imi_core::{ArchivedExchange, ExchangeQuery, Participant};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::localised;
use super::requests::{AnswerDto, answers_dto};
use crate::AppState;
use crate::dto::{Page, PageParams};
use crate::extract::{Caller, Params, Reader, parse};
use crate::problem::Problem;

/// An archived exchange.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ExchangeDto {
    case: String,
    reference: String,
    /// `notification`.
    kind: &'static str,
    procedure: String,
    area: String,
    /// The sending country (`EC`: the Commission).
    from: String,
    /// The recipients.
    to: Vec<String>,
    sent_at: DateTime<Utc>,
    closed_at: DateTime<Utc>,
    /// Answers to questions that are neither personal data nor special category.
    answers: Vec<AnswerDto>,
}

fn dto(state: &AppState, e: &ArchivedExchange, reader: &Reader) -> ExchangeDto {
    let catalogue = state.engine.catalogue();
    let set = catalogue
        .procedure(&e.procedure)
        .and_then(|p| catalogue.latest_question_set(&p.question_set));
    ExchangeDto {
        case: e.case.to_string(),
        reference: e.reference.to_string(),
        kind: match e.kind {
            imi_core::ExchangeKind::Notification => "notification",
        },
        procedure: e.procedure.to_string(),
        area: e.area.to_string(),
        from: e.from.to_string(),
        to: e.to.iter().map(ToString::to_string).collect(),
        sent_at: e.sent_at,
        closed_at: e.closed_at,
        answers: answers_dto(&e.answers, set, reader),
    }
}

/// What to look for.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExchangeParams {
    /// Words every entry must hold (case and accents ignored).
    text: Option<String>,
    /// Only this procedure.
    procedure: Option<String>,
    /// Only exchanges sent by or to this country (`EC`: the Commission).
    country: Option<String>,
    /// Page size.
    limit: Option<usize>,
    /// Where to continue.
    cursor: Option<String>,
}

/// Searches the archive of exchanged information (every signed-in user).
#[utoipa::path(get, path = "/v1/exchanges", tag = "exchanges", params(ExchangeParams), responses((status = 200, body = Page<ExchangeDto>), (status = 400, body = Problem), (status = 401, body = Problem)))]
pub(crate) async fn search(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Params(p): Params<ExchangeParams>,
) -> Result<Response, Problem> {
    let query = ExchangeQuery {
        text: p.text.unwrap_or_default(),
        procedure: match p.procedure.as_deref() {
            Some(s) => Some(parse("procedure id", s)?),
            None => None,
        },
        participant: match p.country.as_deref() {
            Some(s) => Some(parse::<Participant>("country", s)?),
            None => None,
        },
    };
    let page = PageParams {
        limit: p.limit,
        cursor: p.cursor,
    }
    .into_core()?;
    let found = state.engine.search_exchanges(&actor, &query, page).await?;
    Ok(localised(
        &reader,
        Page::of(found, |e| dto(&state, e, &reader)),
    ))
}
