//! Privacy: data-subject requests (find, export) and audit-chain verification.
//! Rectification and erasure of unlawfully processed data are request commands
//! (`rectify`, `erase-unlawful`) on `POST /v1/requests/{id}/commands`. Identifiers travel in
//! request bodies, never in URLs, so that they stay out of access logs.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::localised;
use super::requests::{RequestDto, request_dto};
use crate::AppState;
use crate::extract::{Body, Caller, Reader};
use crate::problem::Problem;

/// Who the data subject is: identifiers that all must match personal data of a case
/// (e.g. a name and a date of birth as `YYYY-MM-DD`, or a national id). Case and
/// accents are ignored.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DataSubjectQuery {
    identifiers: Vec<String>,
}

/// Every request of the caller's authority holding personal data of the data subject
/// that the caller may see; each is an audited read with the purpose
/// `data-subject-request`.
#[utoipa::path(post, path = "/v1/data-subjects/search", tag = "privacy", request_body = DataSubjectQuery, responses((status = 200, body = Vec<RequestDto>), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn search(
    State(state): State<AppState>,
    Caller(actor): Caller,
    reader: Reader,
    Body(q): Body<DataSubjectQuery>,
) -> Result<axum::response::Response, Problem> {
    let views = state
        .engine
        .find_data_subject(&actor, &q.identifiers)
        .await?;
    let body: Vec<RequestDto> = views
        .iter()
        .map(|v| request_dto(&state, v, &reader))
        .collect();
    Ok(localised(&reader, body))
}

/// A machine-readable export (JSON, format `imi-data-subject-export/1`) of every such
/// request with its timeline.
#[utoipa::path(post, path = "/v1/data-subjects/export", tag = "privacy", request_body = DataSubjectQuery, responses((status = 200, description = "the export", content_type = "application/json"), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn export(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Body(q): Body<DataSubjectQuery>,
) -> Result<Json<serde_json::Value>, Problem> {
    Ok(Json(
        state
            .engine
            .export_data_subject(&actor, &q.identifiers)
            .await?,
    ))
}

/// The outcome of verifying the audit chain.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AuditVerification {
    /// Whether the whole chain verified.
    ok: bool,
    /// Entries verified (when it did).
    entries: Option<u64>,
    /// The last entry's hash (when it did).
    head: Option<String>,
    /// The first broken entry and what is wrong (when it did not).
    broken: Option<String>,
    /// Its sequence number.
    broken_seq: Option<u64>,
}

/// Verifies the audit log's hash chain and names the first broken entry. For the
/// operator and administrators of a national coordinator.
#[utoipa::path(get, path = "/v1/audit/verify", tag = "privacy", responses((status = 200, body = AuditVerification), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub(crate) async fn verify_audit(
    State(state): State<AppState>,
    Caller(actor): Caller,
) -> Result<Json<AuditVerification>, Problem> {
    use imi_core::audit::AuditBreak;
    Ok(Json(match state.engine.verify_audit(&actor).await? {
        Ok(report) => AuditVerification {
            ok: true,
            entries: Some(report.entries),
            head: Some(report.head),
            broken: None,
            broken_seq: None,
        },
        Err(b) => {
            let seq = match &b {
                AuditBreak::Altered { seq, .. } => *seq,
                AuditBreak::Gap { expected, .. } => *expected,
                AuditBreak::Truncated { found, .. } => found + 1,
            };
            AuditVerification {
                ok: false,
                entries: None,
                head: None,
                broken: Some(b.to_string()),
                broken_seq: Some(seq),
            }
        }
    }))
}
