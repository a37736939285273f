//! Files in the browser: a request form's files, stored as the request's attachments as
//! they arrive, and attachments streamed back to those who may see them.

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Path};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use imi_core::attachment::{AttachmentError, ByteSource, NewAttachment};
use imi_core::{AttachmentId, CaseId};

use crate::pages::{missing, same};
use crate::{Ctx, WebError};

/// The most a form's text (or one text field of a form with files) may hold: 256 KiB.
const FORM_LIMIT: usize = 256 * 1024;

/// A multipart field's bytes, chunk by chunk.
struct FieldSource<'a, 'b>(&'a mut axum::extract::multipart::Field<'b>);

#[async_trait::async_trait]
impl ByteSource for FieldSource<'_, '_> {
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, AttachmentError> {
        self.0
            .chunk()
            .await
            .map(|c| c.map(|b| b.to_vec()))
            .map_err(|e| AttachmentError::Source(e.to_string()))
    }
}

/// The fields of a posted form, urlencoded or multipart. In a multipart form each file
/// field `files.<question>` is uploaded to request `case` and becomes the pair
/// `answers.<question>` = its attachment id; files are taken only after the form's
/// anti-forgery value (its first field) was found valid.
pub(crate) async fn read_form(
    ctx: &Ctx,
    case: CaseId,
    request: axum::extract::Request,
    files: bool,
) -> Result<Vec<(String, String)>, WebError> {
    let actor = ctx.user()?;
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart {
        // A form without files is small, whatever the route allows for files.
        let bytes = axum::body::to_bytes(request.into_body(), FORM_LIMIT)
            .await
            .map_err(|_| WebError::BadInput("the form is too large".into()))?;
        return serde_urlencoded::from_bytes(&bytes).map_err(|e| WebError::BadInput(e.to_string()));
    }
    if !files {
        return Err(WebError::BadInput("this form takes no files".into()));
    }
    let mut form = Multipart::from_request(request, &())
        .await
        .map_err(|e| WebError::BadInput(e.body_text()))?;
    let mut pairs = Vec::new();
    let mut trusted = false;
    while let Some(mut field) = form
        .next_field()
        .await
        .map_err(|e| WebError::BadInput(e.body_text()))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        if let Some(question) = name.strip_prefix("files.") {
            let file = field.file_name().unwrap_or_default().to_owned();
            if file.is_empty() {
                continue; // no file chosen
            }
            if !trusted {
                return Err(WebError::Forged);
            }
            let media_type = field
                .content_type()
                .unwrap_or("application/octet-stream")
                .to_owned();
            let meta = NewAttachment {
                name: file,
                media_type,
            };
            let stored = ctx
                .web
                .engine
                .upload_attachment(actor, case, meta, &mut FieldSource(&mut field))
                .await?;
            pairs.push((format!("answers.{question}"), stored.id.to_string()));
        } else {
            let mut bytes = Vec::new();
            while let Some(chunk) = field
                .chunk()
                .await
                .map_err(|e| WebError::BadInput(e.body_text()))?
            {
                bytes.extend_from_slice(&chunk);
                if bytes.len() > FORM_LIMIT {
                    return Err(WebError::BadInput("a field is too long".into()));
                }
            }
            let value = String::from_utf8(bytes)
                .map_err(|_| WebError::BadInput("a field is not text".into()))?;
            if name == "csrf" {
                trusted = same(&value, &ctx.csrf());
            }
            pairs.push((name, value));
        }
    }
    Ok(pairs)
}

/// `/attachments/{id}`: an attachment, streamed, for those who may see it.
pub(crate) async fn download(ctx: Ctx, Path(id): Path<String>) -> Response {
    let outcome = async {
        let actor = ctx.user()?;
        let id: AttachmentId = id.parse().map_err(|_| missing())?;
        Ok::<_, WebError>(ctx.web.engine.open_attachment(actor, id).await?)
    }
    .await;
    let (meta, reader) = match outcome {
        Ok(found) => found,
        Err(e) => return ctx.failed(&e),
    };
    let stream = chunks(reader);
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    let safe_name: String = meta
        .name
        .chars()
        .filter(|c| c.is_ascii_graphic() && *c != '"' || *c == ' ')
        .collect();
    for (name, value) in [
        (
            header::CONTENT_TYPE,
            imi_core::attachment::media_essence(&meta.media_type),
        ),
        (header::CONTENT_LENGTH, meta.size.to_string()),
        (
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{safe_name}\""),
        ),
        (header::CACHE_CONTROL, "private, no-store".to_owned()),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    response
}

/// The reader's chunks as a body stream.
fn chunks(
    reader: imi_core::AttachmentReader,
) -> impl futures::Stream<Item = Result<axum::body::Bytes, std::io::Error>> {
    futures::stream::unfold(reader, |mut reader| async move {
        match reader.next_chunk().await {
            Ok(Some(chunk)) => Some((Ok(axum::body::Bytes::from(chunk)), reader)),
            Ok(None) => None,
            Err(_) => Some((Err(std::io::Error::other("attachment read failed")), reader)),
        }
    })
}
