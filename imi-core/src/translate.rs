//! Machine translation of free text, through a pluggable service.
//!
//! The core defines the [`Translator`] trait and never ships a translator of its own: an
//! embedder plugs in a real service (e.g. the Commission's eTranslation) at the edge.
//! Translations are made on demand, stored beside the original (never replacing it), and
//! always labelled as machine translations with the engine that made them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::language::Language;

/// Why a translation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("machine translation failed: {message}")]
pub struct TranslatorError {
    /// What the service said.
    pub message: String,
}

/// A machine-translation service.
#[async_trait]
pub trait Translator: Send + Sync {
    /// Translates `text`, written in `from` when known, into `to`.
    async fn translate(
        &self,
        text: &str,
        from: Option<Language>,
        to: Language,
    ) -> Result<String, TranslatorError>;

    /// The service's name, shown with every translation it made.
    fn name(&self) -> &str;
}

/// A machine translation, kept beside its original.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MachineTranslation {
    /// Where the text is: `comment`, `clarification`, `reason` or `answer:<question>`.
    pub field: String,
    /// The original text.
    pub original: String,
    /// The translation.
    pub text: String,
    /// The original's language, when known.
    pub from: Option<Language>,
    /// The translation's language.
    pub to: Language,
    /// The service that made it.
    pub engine: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Always true: this is a machine translation, to be shown as such.
    pub machine_translation: bool,
}
