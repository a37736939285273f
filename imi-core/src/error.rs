//! The engine's error type: one `#[non_exhaustive]` enum built from documented categories.

use crate::access::Denial;
use crate::authority::AuthorityInputError;
use crate::catalogue::{AnswerErrors, CatalogueErrors};
use crate::country::Country;
use crate::ids::AuthorityId;
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
    /// A webhook cannot be registered as asked.
    #[error(transparent)]
    InvalidWebhook(#[from] crate::webhook::WebhookError),
    /// Answers do not fit their question set; each problem names its question.
    #[error(transparent)]
    InvalidAnswers(#[from] AnswerErrors),
    /// A catalogue could not be published.
    #[error(transparent)]
    Catalogue(#[from] CatalogueErrors),
    /// A page request was invalid.
    #[error(transparent)]
    Page(#[from] PageError),
    /// A request command was refused by the workflow.
    #[error(transparent)]
    Transition(#[from] crate::workflow::TransitionError),
    /// The operation does not fit the current state of what it acts on.
    #[error(transparent)]
    InvalidState(#[from] StateError),
    /// An authority with the same name is already registered (or waiting) in the country.
    #[error("an authority with this name is already registered in the country ({} candidate(s)); confirm it is not a duplicate to register it anyway", candidates.len())]
    LikelyDuplicate {
        /// The existing authorities with the same folded name.
        candidates: Vec<AuthorityId>,
    },
    /// The invitation secret is unknown or was used already.
    #[error("the invitation is unknown or was used already")]
    InvitationInvalid,
    /// The self-registration does not fit its invitation.
    #[error("the registration does not fit the invitation: {reason}")]
    InvitationMismatch {
        /// What does not fit.
        reason: &'static str,
    },
    /// The country has a national coordinator already.
    #[error("{country} has a national coordinator already; remove its role first")]
    NationalCoordinatorExists {
        /// The country.
        country: Country,
    },
    /// A search word matches too many authorities to list.
    #[error("the word `{word}` matches too many authorities; add more words or filters")]
    QueryTooBroad {
        /// The word.
        word: String,
    },
    /// A right cannot be granted like this.
    #[error("the right `{right}` cannot be granted: {reason}")]
    BadGrant {
        /// The right.
        right: &'static str,
        /// Why not.
        reason: &'static str,
    },
    /// Coordinator roles exist only in countries, not for the Commission.
    #[error("only authorities of a country can be coordinators")]
    NotACountry,
    /// The credentials are unknown, revoked, or belong to a disabled user or an
    /// authority that is not active.
    #[error("not authenticated")]
    Unauthenticated,
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
    /// An attachment was refused.
    #[error(transparent)]
    Attachment(#[from] crate::attachment::AttachmentError),
    /// No machine-translation service is configured.
    #[error("no machine-translation service is configured")]
    TranslationUnavailable,
    /// The machine-translation service failed.
    #[error(transparent)]
    Translation(#[from] crate::translate::TranslatorError),
    /// The caller's copy is stale: the record changed since it was read (`If-Match`).
    #[error("the record is at {current}, not at {expected} as expected; re-read it")]
    VersionMismatch {
        /// The version the caller expected.
        expected: crate::store::Version,
        /// The current version.
        current: crate::store::Version,
    },
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
    /// What was sent would reach nobody, so it was not sent (nothing changed).
    #[error("nobody can receive this {what} in {}: {why}", missing.join(", "))]
    NobodyToReceive {
        /// What was to be sent.
        what: &'static str,
        /// The countries or authorities that cannot receive it.
        missing: Vec<String>,
        /// Why, and what to do.
        why: &'static str,
    },
    /// A token cannot be issued as asked.
    #[error(transparent)]
    Token(#[from] crate::user::TokenError),
    /// The operating system gave no random bytes for a secret; nothing was written.
    #[error(transparent)]
    Randomness(#[from] crate::ids::SecretError),
    /// A bug: an invariant the engine relies on did not hold.
    #[error("internal error: {detail}")]
    Internal {
        /// What went wrong.
        detail: String,
    },
}

/// An operation that does not fit the current state, naming both.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action} in state `{state}` (needs `{expected}`)")]
pub struct StateError {
    /// What was attempted.
    pub action: &'static str,
    /// The state found.
    pub state: &'static str,
    /// The state needed.
    pub expected: &'static str,
}

impl StateError {
    /// A state error.
    pub fn new(action: &'static str, state: &'static str, expected: &'static str) -> Self {
        Self {
            action,
            state,
            expected,
        }
    }
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
