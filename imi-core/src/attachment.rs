//! Attachments: files stored in fixed-size chunks through the store contract, never as
//! one value, with size and type limits, a SHA-256 digest, and need-to-know on reads.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::catalogue::Side;
use crate::ids::{AttachmentId, CaseId, UserId};

/// Bytes per stored chunk.
pub const CHUNK_SIZE: usize = 256 * 1024;
/// The largest attachment accepted by default, in bytes.
pub const DEFAULT_MAX_ATTACHMENT: u64 = 25 * 1024 * 1024;
/// The media types accepted: documents and images authorities exchange.
pub const ALLOWED_MEDIA_TYPES: &[&str] = &[
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/tiff",
    "text/plain",
    "application/xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.oasis.opendocument.text",
];

/// A media type without its parameters, in lower case (`Text/Plain; charset=utf-7` →
/// `text/plain`): what is stored and served, so an uploader cannot choose how a reader's
/// browser decodes a file.
pub fn media_essence(media_type: &str) -> String {
    media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Why an attachment was refused or could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttachmentError {
    /// The media type is not accepted.
    #[error("the media type `{0}` is not accepted")]
    MediaType(String),
    /// The file name is empty, too long or contains path separators or control characters.
    #[error("`{0}` is not an acceptable file name")]
    FileName(String),
    /// The file is larger than the limit.
    #[error("the file is larger than {max} bytes")]
    TooLarge {
        /// The limit.
        max: u64,
    },
    /// The file is empty.
    #[error("the file is empty")]
    Empty,
    /// The upload stream failed.
    #[error("the upload failed: {0}")]
    Source(String),
}

/// Where an upload's bytes come from, one chunk at a time (any size; the engine
/// re-chunks). Implemented by the edge, e.g. over an HTTP request body.
#[async_trait]
pub trait ByteSource: Send {
    /// The next chunk, or `None` at the end.
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, AttachmentError>;
}

/// A [`ByteSource`] over bytes already in memory (tests, small files).
#[derive(Debug)]
pub struct InMemory(Option<Vec<u8>>);

impl InMemory {
    /// A source yielding `bytes` once.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Some(bytes))
    }
}

#[async_trait]
impl ByteSource for InMemory {
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, AttachmentError> {
        Ok(self.0.take())
    }
}

/// What describes a file to upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAttachment {
    /// The file name, without a path.
    pub name: String,
    /// The media type, e.g. `application/pdf`.
    pub media_type: String,
}

impl NewAttachment {
    /// Checks the name and media type.
    pub fn validate(&self) -> Result<(), AttachmentError> {
        let name = self.name.trim();
        let bad_name = name.is_empty()
            || name.chars().count() > 200
            || name
                .chars()
                .any(|c| c.is_control() || c == '/' || c == '\\')
            || name == "."
            || name == "..";
        if bad_name {
            return Err(AttachmentError::FileName(self.name.clone()));
        }
        let media = media_essence(&self.media_type);
        if !ALLOWED_MEDIA_TYPES.contains(&media.as_str()) {
            return Err(AttachmentError::MediaType(self.media_type.clone()));
        }
        Ok(())
    }
}

/// A stored attachment's description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// Its id, which answers refer to.
    pub id: AttachmentId,
    /// The case it belongs to.
    pub case: CaseId,
    /// Which party attached it.
    pub side: Side,
    /// Who uploaded it.
    pub uploaded_by: UserId,
    /// When.
    pub uploaded_at: DateTime<Utc>,
    /// The file name.
    pub name: String,
    /// The media type.
    pub media_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// How many chunks hold it.
    pub chunks: u32,
    /// SHA-256 of the content, hex.
    pub sha256: String,
}
