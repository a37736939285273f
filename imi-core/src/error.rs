//! The engine's error type: one `#[non_exhaustive]` enum built from documented categories.

use crate::access::Denial;
use crate::authority::AuthorityInputError;
use crate::catalogue::{AnswerErrors, CatalogueErrors};
use crate::page::PageError;
use crate::store::{KeyDisplay, StoreError};

/// Everything an engine operation can fail with.
///
/// No variant means "something was half done": an operation that returns an error has
/// changed nothing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The access policy refused the action; the denial says why.
    #[error("access denied: {0}")]
    Denied(#[from] Denial),
    /// The caller's input was invalid.
    #[error(transparent)]
    InvalidAuthority(#[from] AuthorityInputError),
    /// Answers do not fit their question set; each problem names its question.
    #[error(transparent)]
    InvalidAnswers(#[from] AnswerErrors),
    /// A catalogue could not be published.
    #[error(transparent)]
    Catalogue(#[from] CatalogueErrors),
    /// A page request was invalid.
    #[error(transparent)]
    Page(#[from] PageError),
    /// The thing asked for does not exist (or the caller may not know it exists).
    #[error("{kind} {id} was not found")]
    NotFound {
        /// What kind of thing.
        kind: &'static str,
        /// Its id as given.
        id: String,
    },
    /// Someone else changed the data first; re-read and retry.
    #[error("the data changed while the operation ran; re-read and retry ({0})")]
    Conflict(StoreError),
    /// The store failed.
    #[error("storage failed: {0}")]
    Store(StoreError),
    /// A stored record could not be decoded.
    #[error("the stored record at {key} is unreadable: {detail}")]
    Corrupt {
        /// The key of the record.
        key: KeyDisplay,
        /// What was wrong.
        detail: String,
    },
    /// A bug: an invariant the engine relies on did not hold.
    #[error("internal error: {detail}")]
    Internal {
        /// What went wrong.
        detail: String,
    },
}

impl From<StoreError> for EngineError {
    fn from(e: StoreError) -> Self {
        if e.is_conflict() {
            EngineError::Conflict(e)
        } else {
            EngineError::Store(e)
        }
    }
}
