//! The web application's own texts, from Fluent files (`locales/*.ftl`) that translators
//! edit; no interface text is written in Rust. English is the reference and the fallback;
//! a text shown in English on a page in another language carries `lang="en"`.

use std::collections::HashMap;

use fluent_bundle::{FluentArgs, FluentResource, concurrent::FluentBundle};
use imi_core::Language;

/// The languages with a complete translation of the interface, and their files.
pub(crate) const TRANSLATED: [(Language, &str); 4] = [
    (Language::English, include_str!("../locales/en.ftl")),
    (Language::Danish, include_str!("../locales/da.ftl")),
    (Language::German, include_str!("../locales/de.ftl")),
    (Language::French, include_str!("../locales/fr.ftl")),
];

/// A Fluent file that does not parse, or says something twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TextsError {
    /// The file's language.
    pub(crate) language: Language,
    /// What is wrong.
    pub(crate) problems: Vec<String>,
}

impl std::fmt::Display for TextsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the {} interface texts: {}",
            self.language.code(),
            self.problems.join("; ")
        )
    }
}

impl std::error::Error for TextsError {}

/// Every translation of the interface.
pub(crate) struct Texts {
    bundles: HashMap<Language, FluentBundle<FluentResource>>,
}

/// One interface text, and the language it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Text {
    pub(crate) text: String,
    pub(crate) language: Language,
}

impl Texts {
    /// Parses every file; a problem in any of them is an error (the tests load them).
    pub(crate) fn load() -> Result<Self, TextsError> {
        let mut bundles = HashMap::new();
        for (language, source) in TRANSLATED {
            let fail = |problems: Vec<String>| TextsError { language, problems };
            let resource = FluentResource::try_new(source.to_owned())
                .map_err(|(_, errors)| fail(errors.iter().map(|e| format!("{e:?}")).collect()))?;
            let mut bundle = FluentBundle::new_concurrent(vec![language.to_langid()]);
            // Our pages set `lang` and `dir` themselves; no invisible isolation marks.
            bundle.set_use_isolating(false);
            bundle
                .add_resource(resource)
                .map_err(|errors| fail(errors.iter().map(|e| format!("{e:?}")).collect()))?;
            bundles.insert(language, bundle);
        }
        Ok(Self { bundles })
    }

    /// The ids of every English message (the reference).
    #[cfg(test)]
    pub(crate) fn ids(language: Language) -> Vec<String> {
        TRANSLATED
            .iter()
            .filter(|(l, _)| *l == language)
            .flat_map(|(_, source)| source.lines())
            .filter_map(|line| line.split_once(" = ").map(|(id, _)| id.trim().to_owned()))
            .filter(|id| !id.starts_with('#'))
            .collect()
    }

    /// The text `id` in `language`, else in English; the id itself if English lacks it
    /// (a bug the tests catch).
    pub(crate) fn get(&self, language: Language, id: &str, args: Option<&FluentArgs<'_>>) -> Text {
        for lang in [language, Language::English] {
            let Some(bundle) = self.bundles.get(&lang) else {
                continue;
            };
            if let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) {
                let mut errors = Vec::new();
                let text = bundle.format_pattern(pattern, args, &mut errors);
                return Text {
                    text: text.into_owned(),
                    language: lang,
                };
            }
        }
        Text {
            text: id.to_owned(),
            language: Language::English,
        }
    }

    /// Whether the interface is translated into `language`.
    #[cfg(test)]
    pub(crate) fn has(&self, language: Language) -> bool {
        self.bundles.contains_key(&language)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_parses_and_has_every_english_text() {
        let texts = Texts::load().unwrap();
        let english = Texts::ids(Language::English);
        assert!(english.len() > 50);
        for (language, _) in TRANSLATED {
            assert!(texts.has(language));
            let ids = Texts::ids(language);
            for id in &english {
                assert!(ids.contains(id), "{} lacks `{id}`", language.code());
                assert_eq!(texts.get(language, id, None).language, language);
            }
            assert_eq!(
                ids.len(),
                english.len(),
                "{} has extra texts",
                language.code()
            );
        }
    }

    #[test]
    fn missing_languages_fall_back_to_english_and_say_so() {
        let texts = Texts::load().unwrap();
        let t = texts.get(Language::Polish, "sign-in", None);
        assert_eq!(t.language, Language::English);
        assert_eq!(t.text, "Sign in");
        let mut args = FluentArgs::new();
        args.set("reference", "IMI-2026-000001");
        let t = texts.get(Language::Danish, "request-title", Some(&args));
        assert!(t.text.contains("IMI-2026-000001"), "{}", t.text);
    }
}
