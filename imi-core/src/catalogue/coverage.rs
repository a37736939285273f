//! Which texts exist in which languages.

use std::fmt;

use super::model::Catalogue;
use crate::language::Language;

/// How far one language is translated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LanguageCoverage {
    /// The language.
    pub language: Language,
    /// Texts present in it.
    pub translated: usize,
    /// Keys of the texts missing in it (they fall back to their source language).
    pub missing: Vec<String>,
}

impl LanguageCoverage {
    /// Share translated, in percent (100 for an empty catalogue).
    pub fn percent(&self) -> f64 {
        let total = self.translated + self.missing.len();
        if total == 0 {
            100.0
        } else {
            100.0 * self.translated as f64 / total as f64
        }
    }
}

/// Coverage of every IMI language over every text of a catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverageReport {
    /// How many texts the catalogue has.
    pub total: usize,
    /// One entry per IMI language, in code order.
    pub languages: Vec<LanguageCoverage>,
}

impl CoverageReport {
    /// The entry of one language.
    pub fn language(&self, language: Language) -> Option<&LanguageCoverage> {
        self.languages.iter().find(|c| c.language == language)
    }
}

impl Catalogue {
    /// Which texts are missing in which of the 26 languages.
    pub fn coverage(&self) -> CoverageReport {
        let texts = self.texts();
        let languages = Language::ALL
            .into_iter()
            .map(|language| {
                let missing: Vec<String> = texts
                    .iter()
                    .filter(|(_, t)| t.get(language).is_none())
                    .map(|(k, _)| k.clone())
                    .collect();
                LanguageCoverage {
                    language,
                    translated: texts.len() - missing.len(),
                    missing,
                }
            })
            .collect();
        CoverageReport {
            total: texts.len(),
            languages,
        }
    }
}

impl fmt::Display for CoverageReport {
    /// A table: one line per language with counts and percentage; with the alternate
    /// flag (`{:#}`), the missing keys too.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} texts in the catalogue", self.total)?;
        writeln!(f, "lang  language      translated  missing  coverage")?;
        for c in &self.languages {
            writeln!(
                f,
                "{:<4}  {:<12}  {:>10}  {:>7}  {:>7.1}%",
                c.language.code(),
                c.language.english_name(),
                c.translated,
                c.missing.len(),
                c.percent()
            )?;
            if f.alternate() {
                for key in &c.missing {
                    writeln!(f, "        missing: {key}")?;
                }
            }
        }
        Ok(())
    }
}
