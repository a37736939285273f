//! Exchanging translations with translators as XLIFF 2.0.
//!
//! EU translation services work in XLIFF. [`Catalogue::export_xliff`] writes the texts of
//! a catalogue for one target language (by default only those still missing), each unit
//! named by the text's stable key. A translator fills in the `<target>`s; the file goes
//! back into the catalogue directory as `translations/<lang>.xlf`, and loading the
//! catalogue applies it, reporting unknown keys and texts whose source changed since the
//! export.

use std::fmt::Write as _;

use super::load::{CatalogueIssue, CatalogueProblem, CatalogueSource};
use super::model::Catalogue;
use crate::language::Language;

const NS: &str = "urn:oasis:names:tc:xliff:document:2.0";

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML turns a raw carriage return into a line feed; a reference keeps it.
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

/// Which texts an export contains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportScope {
    /// Only texts not yet translated into the target language.
    Missing,
    /// Every text (for revising existing translations).
    All,
}

impl Catalogue {
    /// Writes an XLIFF 2.0 document with the texts to translate from `source` into
    /// `target`. Texts that do not exist in `source` are left out.
    pub fn export_xliff(&self, source: Language, target: Language, scope: ExportScope) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
        let _ = writeln!(
            out,
            r#"<xliff xmlns="{NS}" version="2.0" srcLang="{source}" trgLang="{target}">"#
        );
        let _ = writeln!(out, r#"  <file id="imi-catalogue">"#);
        for (key, text) in self.texts() {
            let Some(src) = text.get(source) else {
                continue;
            };
            let existing = text.get(target);
            if scope == ExportScope::Missing && existing.is_some() {
                continue;
            }
            let _ = writeln!(out, r#"    <unit id="{}">"#, escape(&key));
            let _ = writeln!(
                out,
                r#"      <segment state="{}">"#,
                if existing.is_some() {
                    "translated"
                } else {
                    "initial"
                }
            );
            let _ = writeln!(out, "        <source>{}</source>", escape(src));
            if let Some(t) = existing {
                let _ = writeln!(out, "        <target>{}</target>", escape(t));
            }
            let _ = writeln!(out, "      </segment>");
            let _ = writeln!(out, "    </unit>");
        }
        let _ = writeln!(out, "  </file>");
        let _ = writeln!(out, "</xliff>");
        out
    }
}

/// Applies one translation file to `catalogue`, reporting problems into `problems`.
pub(crate) fn apply(
    catalogue: &mut Catalogue,
    source: &CatalogueSource,
    problems: &mut Vec<CatalogueProblem>,
) {
    let mut report = |path: String, issue: CatalogueIssue| {
        problems.push(CatalogueProblem {
            file: source.path.clone(),
            line: None,
            path,
            issue,
        });
    };
    let doc = match roxmltree::Document::parse(&source.text) {
        Ok(d) => d,
        Err(e) => {
            report(
                String::new(),
                CatalogueIssue::Syntax {
                    message: e.to_string(),
                },
            );
            return;
        }
    };
    let root = doc.root_element();
    if root.tag_name().name() != "xliff"
        || root.tag_name().namespace() != Some(NS)
        || root.attribute("version") != Some("2.0")
    {
        report(
            "xliff".into(),
            CatalogueIssue::Syntax {
                message: format!(
                    "expected an XLIFF 2.0 document (<xliff xmlns=\"{NS}\" version=\"2.0\">)"
                ),
            },
        );
        return;
    }
    let lang = |attr: &str| -> Result<Language, CatalogueIssue> {
        let raw = root.attribute(attr).unwrap_or_default();
        raw.parse().map_err(CatalogueIssue::BadLanguage)
    };
    let (src_lang, trg_lang) = match (lang("srcLang"), lang("trgLang")) {
        (Ok(s), Ok(t)) if s == t => {
            report(
                "xliff".into(),
                CatalogueIssue::Syntax {
                    message: format!(
                        "srcLang and trgLang are both `{s}`: a translation goes into another language"
                    ),
                },
            );
            return;
        }
        (Ok(s), Ok(t)) => (s, t),
        (Err(e), _) | (_, Err(e)) => {
            report("xliff".into(), e);
            return;
        }
    };
    // key -> (expected source text, translation)
    let mut units = std::collections::BTreeMap::new();
    for unit in root.descendants().filter(|n| n.has_tag_name((NS, "unit"))) {
        let id = unit.attribute("id").unwrap_or_default().to_owned();
        let text_of = |name: &str| {
            unit.descendants()
                .find(|n| n.has_tag_name((NS, name)))
                .map(|n| {
                    n.descendants()
                        .filter(|d| d.is_text())
                        .filter_map(|d| d.text())
                        .collect::<String>()
                })
        };
        if let Some(target) = text_of("target").filter(|t| !t.trim().is_empty()) {
            units.insert(id, (text_of("source").unwrap_or_default(), target));
        }
    }
    catalogue.for_each_text_mut(&mut |key, text| {
        let Some((expected_source, target)) = units.remove(&key) else { return };
        if text.source_language() == trg_lang {
            report(
                format!("unit[{key}]"),
                CatalogueIssue::Syntax { message: format!("the text is written in {trg_lang}; a translation cannot replace its source") },
            );
            return;
        }
        if text.get(src_lang) != Some(expected_source.as_str()) {
            report(
                format!("unit[{key}]"),
                CatalogueIssue::Syntax { message: format!("the {src_lang} source text changed since the export; translate the new text") },
            );
            return;
        }
        // `target` is not blank, so setting it cannot fail.
        let _ = text.set(trg_lang, target);
    });
    for key in units.into_keys() {
        report(
            format!("unit[{key}]"),
            CatalogueIssue::UnknownReference {
                kind: "text",
                id: key,
            },
        );
    }
}
