//! Attachments, streamed both ways: uploads are read frame by frame into the engine's
//! chunked storage; downloads are written chunk by chunk.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use imi_core::attachment::{AttachmentError, ByteSource, NewAttachment};
use imi_core::{AttachmentId, CaseId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::extract::{Caller, Params, parse};
use crate::problem::Problem;

/// An upload's bytes, frame by frame from the request body.
struct BodySource(Body);

#[async_trait::async_trait]
impl ByteSource for BodySource {
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, AttachmentError> {
        loop {
            match self.0.frame().await {
                None => return Ok(None),
                Some(Err(e)) => return Err(AttachmentError::Source(e.to_string())),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        return Ok(Some(data.to_vec()));
                    }
                }
            }
        }
    }
}

/// The file's name.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct UploadParams {
    /// The file name.
    name: String,
}

/// A stored attachment.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AttachmentDto {
    id: String,
    case: String,
    /// `requester` or `responder`.
    side: &'static str,
    name: String,
    media_type: String,
    size: u64,
    sha256: String,
}

/// Attaches a file to a request: the body is the file, `Content-Type` its media type.
/// Refer to it in answers by its id.
#[utoipa::path(post, path = "/v1/requests/{id}/attachments", tag = "requests", params(("id" = String, Path), UploadParams), request_body(content = Vec<u8>, content_type = "application/octet-stream"), responses((status = 201, body = AttachmentDto), (status = 413, body = Problem), (status = 415, body = Problem)))]
pub(crate) async fn upload(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Params(p): Params<UploadParams>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let id: CaseId = parse("case id", &id)?;
    let media_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let meta = NewAttachment {
        name: p.name,
        media_type,
    };
    let a = state
        .engine
        .upload_attachment(&actor, id, meta, &mut BodySource(body))
        .await?;
    let dto = AttachmentDto {
        id: a.id.to_string(),
        case: a.case.to_string(),
        side: match a.side {
            imi_core::catalogue::Side::Requester => "requester",
            imi_core::catalogue::Side::Responder => "responder",
        },
        name: a.name,
        media_type: a.media_type,
        size: a.size,
        sha256: a.sha256,
    };
    Ok((StatusCode::CREATED, axum::Json(dto)).into_response())
}

/// Downloads an attachment (the requester; the responder once it accepted), streamed.
#[utoipa::path(get, path = "/v1/attachments/{id}", tag = "requests", params(("id" = String, Path)), responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), (status = 404, body = Problem)))]
pub(crate) async fn download(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id: AttachmentId = parse("attachment id", &id)?;
    let (meta, reader) = state.engine.open_attachment(&actor, id).await?;
    let stream = futures::stream::unfold(reader, |mut reader| async move {
        match reader.next_chunk().await {
            Ok(Some(chunk)) => Some((
                Ok::<_, std::io::Error>(axum::body::Bytes::from(chunk)),
                reader,
            )),
            Ok(None) => None,
            Err(e) => {
                tracing::error!(error = %e, "attachment read failed");
                Some((Err(std::io::Error::other("attachment read failed")), reader))
            }
        }
    });
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    let safe_name: String = meta
        .name
        .chars()
        .filter(|c| c.is_ascii_graphic() && *c != '"' || *c == ' ')
        .collect();
    for (name, value) in [
        // The essence only: files stored before parameters were dropped keep theirs.
        (
            header::CONTENT_TYPE,
            imi_core::attachment::media_essence(&meta.media_type),
        ),
        (header::CONTENT_LENGTH, meta.size.to_string()),
        (
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{safe_name}\""),
        ),
        (header::ETAG, format!("\"{}\"", meta.sha256)),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    Ok(response)
}
