//! Text that exists in several languages, resolved for a reader with a fallback chain.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::language::{Language, LanguagePreferences};

/// Why localised text could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocalisedTextError {
    /// A translation is empty or only white space.
    #[error("the {language} text is empty")]
    Empty {
        /// The language whose text is empty.
        language: Language,
    },
    /// The source language has no text.
    #[error("there is no text in the source language {source_language}")]
    MissingSource {
        /// The declared source language.
        source_language: Language,
    },
}

/// A text in one source language plus any number of translations.
///
/// Invariant: the source language always has a non-empty text, and no translation is
/// empty. Resolving for a reader never fails: it falls back along the reader's
/// preferences, then to the source language, and says which language it used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawLocalisedText", into = "RawLocalisedText")]
pub struct LocalisedText {
    source: Language,
    texts: BTreeMap<Language, String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLocalisedText {
    source: Language,
    texts: BTreeMap<Language, String>,
}

impl TryFrom<RawLocalisedText> for LocalisedText {
    type Error = LocalisedTextError;

    fn try_from(raw: RawLocalisedText) -> Result<Self, Self::Error> {
        for (language, text) in &raw.texts {
            if text.trim().is_empty() {
                return Err(LocalisedTextError::Empty {
                    language: *language,
                });
            }
        }
        if !raw.texts.contains_key(&raw.source) {
            return Err(LocalisedTextError::MissingSource {
                source_language: raw.source,
            });
        }
        Ok(Self {
            source: raw.source,
            texts: raw.texts,
        })
    }
}

impl From<LocalisedText> for RawLocalisedText {
    fn from(t: LocalisedText) -> Self {
        Self {
            source: t.source,
            texts: t.texts,
        }
    }
}

/// The outcome of resolving a [`LocalisedText`] for a reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolved<'a> {
    /// The text.
    pub text: &'a str,
    /// The language the text is in.
    pub language: Language,
    /// True when the text is not in any language the reader asked for, so a user
    /// interface should label it.
    pub fallback: bool,
}

impl LocalisedText {
    /// A text written in `source`.
    pub fn new(source: Language, text: impl Into<String>) -> Result<Self, LocalisedTextError> {
        let text = text.into();
        if text.trim().is_empty() {
            return Err(LocalisedTextError::Empty { language: source });
        }
        Ok(Self {
            source,
            texts: BTreeMap::from([(source, text)]),
        })
    }

    /// Builds a text from `(language, text)` pairs; the first pair's language is the source.
    pub fn from_pairs<S: Into<String>>(
        pairs: impl IntoIterator<Item = (Language, S)>,
    ) -> Result<Self, LocalisedTextError> {
        let mut pairs = pairs.into_iter();
        let Some((source, text)) = pairs.next() else {
            return Err(LocalisedTextError::MissingSource {
                source_language: Language::English,
            });
        };
        let mut out = Self::new(source, text)?;
        for (language, text) in pairs {
            out.set(language, text)?;
        }
        Ok(out)
    }

    /// Adds or replaces the translation into `language`.
    pub fn set(
        &mut self,
        language: Language,
        text: impl Into<String>,
    ) -> Result<(), LocalisedTextError> {
        let text = text.into();
        if text.trim().is_empty() {
            return Err(LocalisedTextError::Empty { language });
        }
        self.texts.insert(language, text);
        Ok(())
    }

    /// Builder-style [`set`](Self::set).
    pub fn with(
        mut self,
        language: Language,
        text: impl Into<String>,
    ) -> Result<Self, LocalisedTextError> {
        self.set(language, text)?;
        Ok(self)
    }

    /// The same text without its translations.
    pub fn source_only(&self) -> LocalisedText {
        Self {
            source: self.source,
            texts: self
                .texts
                .iter()
                .filter(|(l, _)| **l == self.source)
                .map(|(l, t)| (*l, t.clone()))
                .collect(),
        }
    }

    /// The language the text was written in.
    pub fn source_language(&self) -> Language {
        self.source
    }

    /// The text in the source language.
    pub fn source_text(&self) -> &str {
        self.texts.get(&self.source).map_or("", String::as_str)
    }

    /// The text in exactly `language`, without fallback.
    pub fn get(&self, language: Language) -> Option<&str> {
        self.texts.get(&language).map(String::as_str)
    }

    /// Every language this text exists in, in code order.
    pub fn languages(&self) -> impl Iterator<Item = Language> + '_ {
        self.texts.keys().copied()
    }

    /// All `(language, text)` pairs, in code order.
    pub fn iter(&self) -> impl Iterator<Item = (Language, &str)> + '_ {
        self.texts.iter().map(|(l, t)| (*l, t.as_str()))
    }

    /// The languages of `wanted` this text lacks.
    pub fn missing<'a>(
        &'a self,
        wanted: impl IntoIterator<Item = Language> + 'a,
    ) -> impl Iterator<Item = Language> + 'a {
        wanted.into_iter().filter(|l| !self.texts.contains_key(l))
    }

    /// Resolves for a reader who wants exactly one language: that language, else the
    /// source language (marked as a fallback).
    pub fn resolve(&self, language: Language) -> Resolved<'_> {
        self.resolve_for(&LanguagePreferences::only(language))
    }

    /// Resolves for a reader's ordered preferences: the first preferred language the text
    /// exists in (a regional tag such as `de-AT` matches German), else the source language,
    /// marked as a fallback. `*` in the preferences accepts the source language.
    pub fn resolve_for(&self, preferences: &LanguagePreferences) -> Resolved<'_> {
        match preferences.negotiate(|l| self.texts.contains_key(&l), self.source) {
            Some(language) => Resolved {
                text: self.get(language).unwrap_or_default(),
                language,
                fallback: false,
            },
            None => Resolved {
                text: self.source_text(),
                language: self.source,
                fallback: true,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Language::*;

    fn sample() -> LocalisedText {
        LocalisedText::from_pairs([
            (Danish, "Sundhedsstyrelsen"),
            (English, "Danish Health Authority"),
            (German, "Dänische Gesundheitsbehörde"),
        ])
        .unwrap()
    }

    #[test]
    fn exact_language_is_not_a_fallback() {
        let s = sample();
        let r = s.resolve(English);
        assert_eq!(r.text, "Danish Health Authority");
        assert_eq!(r.language, English);
        assert!(!r.fallback);
    }

    #[test]
    fn regional_tag_falls_back_to_base_language() {
        let prefs = LanguagePreferences::parse_accept_language("de-AT").unwrap();
        let s = sample();
        let r = s.resolve_for(&prefs);
        assert_eq!((r.language, r.fallback), (German, false));
    }

    #[test]
    fn missing_language_falls_back_to_source_and_says_so() {
        let s = sample();
        let r = s.resolve(Finnish);
        assert_eq!(r.text, "Sundhedsstyrelsen");
        assert_eq!(r.language, Danish);
        assert!(r.fallback);
    }

    #[test]
    fn preference_chain_is_walked_in_order() {
        let prefs = LanguagePreferences::parse_accept_language("fi, sv;q=0.9, en;q=0.5").unwrap();
        let s = sample();
        let r = s.resolve_for(&prefs);
        assert_eq!((r.language, r.fallback), (English, false));
        let wildcard = LanguagePreferences::parse_accept_language("fi, *;q=0.1").unwrap();
        let s = sample();
        let r = s.resolve_for(&wildcard);
        assert_eq!((r.language, r.fallback), (Danish, false));
    }

    #[test]
    fn empty_text_and_missing_source_are_refused() {
        assert_eq!(
            LocalisedText::new(French, "  "),
            Err(LocalisedTextError::Empty { language: French })
        );
        let json = r#"{"source":"fr","texts":{"en":"x"}}"#;
        assert!(serde_json::from_str::<LocalisedText>(json).is_err());
        let json = r#"{"source":"en","texts":{"en":"x","fr":""}}"#;
        assert!(serde_json::from_str::<LocalisedText>(json).is_err());
    }

    #[test]
    fn missing_lists_untranslated_languages() {
        let missing: Vec<_> = sample()
            .missing([Danish, Finnish, German, Swedish])
            .collect();
        assert_eq!(missing, [Finnish, Swedish]);
    }

    #[test]
    fn serde_round_trip() {
        let t = sample();
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(serde_json::from_str::<LocalisedText>(&json).unwrap(), t);
    }
}
