//! The 26 working languages of IMI and language preference negotiation.
//!
//! IMI works in the 24 official EU languages plus Icelandic and Norwegian. Every tag that
//! reaches the engine is parsed as a BCP 47 language identifier (through `unic-langid`) and
//! mapped to one of these languages by its primary language subtag, so `de-AT` is German
//! and `nb`/`nn` are Norwegian. Anything else is refused with a [`LanguageError`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use unic_langid::LanguageIdentifier;

/// Why a language tag or an `Accept-Language` header was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LanguageError {
    /// The text is not a well-formed BCP 47 language tag.
    #[error("`{tag}` is not a well-formed language tag")]
    Malformed {
        /// The offending text.
        tag: String,
    },
    /// The tag is well formed but names a language IMI does not work in.
    #[error(
        "`{tag}` is not one of the 26 IMI languages (the 24 official EU languages, `is`, `no`)"
    )]
    Unsupported {
        /// The offending tag.
        tag: String,
    },
    /// A quality value in an `Accept-Language` header is not a number between 0 and 1
    /// with at most three decimals.
    #[error("`{value}` is not a valid quality value (expected 0 to 1, at most 3 decimals)")]
    BadQuality {
        /// The offending quality value.
        value: String,
    },
}

macro_rules! languages {
    ($( $variant:ident => $code:literal, $english:literal; )+) => {
        /// One of the 26 languages IMI works in.
        ///
        /// Serialised as its lower-case ISO 639-1 code (`"da"`, `"no"`, ...).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Language {
            $(
                #[doc = $english]
                $variant,
            )+
        }

        impl Language {
            /// All 26 languages, in alphabetical order of their codes.
            pub const ALL: [Language; 26] = [$(Language::$variant),+];

            /// The ISO 639-1 code (`"da"`, `"no"`, ...).
            pub const fn code(self) -> &'static str {
                match self {
                    $(Language::$variant => $code,)+
                }
            }

            /// The language's English name.
            pub const fn english_name(self) -> &'static str {
                match self {
                    $(Language::$variant => $english,)+
                }
            }

            fn from_primary_subtag(subtag: &str) -> Option<Language> {
                match subtag {
                    $($code => Some(Language::$variant),)+
                    "nb" | "nn" => Some(Language::Norwegian),
                    _ => None,
                }
            }
        }
    };
}

languages! {
    Bulgarian => "bg", "Bulgarian";
    Czech => "cs", "Czech";
    Danish => "da", "Danish";
    German => "de", "German";
    Greek => "el", "Greek";
    English => "en", "English";
    Spanish => "es", "Spanish";
    Estonian => "et", "Estonian";
    Finnish => "fi", "Finnish";
    French => "fr", "French";
    Irish => "ga", "Irish";
    Croatian => "hr", "Croatian";
    Hungarian => "hu", "Hungarian";
    Icelandic => "is", "Icelandic";
    Italian => "it", "Italian";
    Lithuanian => "lt", "Lithuanian";
    Latvian => "lv", "Latvian";
    Maltese => "mt", "Maltese";
    Dutch => "nl", "Dutch";
    Norwegian => "no", "Norwegian";
    Polish => "pl", "Polish";
    Portuguese => "pt", "Portuguese";
    Romanian => "ro", "Romanian";
    Slovak => "sk", "Slovak";
    Slovenian => "sl", "Slovenian";
    Swedish => "sv", "Swedish";
}

impl Language {
    /// Maps a parsed language identifier to its IMI language by the primary subtag
    /// (`de-AT` → German, `nb` → Norwegian).
    pub fn from_langid(id: &LanguageIdentifier) -> Result<Language, LanguageError> {
        Language::from_primary_subtag(id.language.as_str()).ok_or_else(|| {
            LanguageError::Unsupported {
                tag: id.to_string(),
            }
        })
    }

    /// This language as a plain language identifier (`da`, `no`, ...).
    pub fn to_langid(self) -> LanguageIdentifier {
        // The codes are fixed, well-formed two-letter subtags, so parsing cannot fail; the
        // fallback keeps this function total all the same.
        self.code().parse().unwrap_or_default()
    }
}

/// Parses a BCP 47 tag into a language identifier, mapping syntax errors to
/// [`LanguageError::Malformed`].
pub fn parse_tag(tag: &str) -> Result<LanguageIdentifier, LanguageError> {
    let trimmed = tag.trim();
    if trimmed.is_empty() || trimmed == "*" {
        return Err(LanguageError::Malformed {
            tag: tag.to_owned(),
        });
    }
    trimmed.parse().map_err(|_| LanguageError::Malformed {
        tag: tag.to_owned(),
    })
}

impl FromStr for Language {
    type Err = LanguageError;

    /// Parses any well-formed tag whose primary subtag is an IMI language.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Language::from_langid(&parse_tag(s)?)
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Language {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Language {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// What one entry of a preference list asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LanguageRange {
    /// A specific tag, which may or may not be an IMI language (`de-AT`, `zh`).
    Tag(LanguageIdentifier),
    /// `*`: any language will do.
    Any,
}

/// One weighted entry of a preference list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preference {
    range: LanguageRange,
    /// Quality in thousandths: 1000 is `q=1`, 0 is "not acceptable".
    quality: u16,
}

impl Preference {
    /// What the entry asks for.
    pub fn range(&self) -> &LanguageRange {
        &self.range
    }

    /// Quality in thousandths (`q=0.8` is 800).
    pub fn quality(&self) -> u16 {
        self.quality
    }

    /// The IMI language this entry names, if it names one.
    pub fn language(&self) -> Option<Language> {
        match &self.range {
            LanguageRange::Tag(id) => Language::from_langid(id).ok(),
            LanguageRange::Any => None,
        }
    }
}

/// An ordered list of language preferences, most wanted first: the user's profile
/// languages, or a parsed `Accept-Language` header.
///
/// Entries with `q=0` are kept out; the rest are sorted by quality, keeping the order of
/// equal qualities as given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LanguagePreferences {
    entries: Vec<Preference>,
}

impl LanguagePreferences {
    /// A preference for exactly one language.
    pub fn only(language: Language) -> Self {
        Self::from_languages([language])
    }

    /// Preferences in the given order, all with full quality.
    pub fn from_languages(languages: impl IntoIterator<Item = Language>) -> Self {
        Self {
            entries: languages
                .into_iter()
                .map(|l| Preference {
                    range: LanguageRange::Tag(l.to_langid()),
                    quality: 1000,
                })
                .collect(),
        }
    }

    /// Parses an HTTP `Accept-Language` header (RFC 9110 §12.5.4), e.g.
    /// `da, en-GB;q=0.8, *;q=0.1`.
    ///
    /// Well-formed tags of languages IMI does not work in are kept (they simply never
    /// match); malformed tags and quality values are refused. An empty header gives an
    /// empty list.
    pub fn parse_accept_language(header: &str) -> Result<Self, LanguageError> {
        let mut entries = Vec::new();
        for item in header.split(',') {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or_default().trim();
            let range = if tag == "*" {
                LanguageRange::Any
            } else {
                LanguageRange::Tag(parse_tag(tag)?)
            };
            let mut quality = 1000;
            for param in parts {
                let param = param.trim();
                let Some(value) = param
                    .strip_prefix("q=")
                    .or_else(|| param.strip_prefix("Q="))
                else {
                    return Err(LanguageError::BadQuality {
                        value: param.to_owned(),
                    });
                };
                quality = parse_quality(value)?;
            }
            if quality > 0 {
                entries.push(Preference { range, quality });
            }
        }
        // A stable sort keeps the header's order among equal qualities.
        entries.sort_by_key(|p| std::cmp::Reverse(p.quality));
        Ok(Self { entries })
    }

    /// As [`LanguagePreferences::parse_accept_language`], but an element that does not
    /// parse is skipped instead of refusing the whole header (what RFC 9110 practice
    /// expects of a server): `"xx-!!, da;q=0.9"` reads as `da`.
    pub fn parse_accept_language_lenient(header: &str) -> Self {
        let mut entries: Vec<Preference> = header
            .split(',')
            .filter_map(|item| Self::parse_accept_language(item).ok())
            .flat_map(|one| one.entries)
            .collect();
        entries.sort_by_key(|p| std::cmp::Reverse(p.quality));
        Self { entries }
    }

    /// The entries, most wanted first.
    pub fn entries(&self) -> &[Preference] {
        &self.entries
    }

    /// Whether there are no preferences at all.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The first IMI language in the list, if any.
    pub fn first_language(&self) -> Option<Language> {
        self.entries.iter().find_map(Preference::language)
    }

    /// Picks the most wanted of the `available` languages. `*` picks `default` when it is
    /// available. Returns `None` when nothing asked for is available.
    pub fn negotiate(
        &self,
        available: impl Fn(Language) -> bool,
        default: Language,
    ) -> Option<Language> {
        self.entries.iter().find_map(|p| match &p.range {
            LanguageRange::Tag(id) => Language::from_langid(id).ok().filter(|l| available(*l)),
            LanguageRange::Any => Some(default).filter(|l| available(*l)),
        })
    }
}

fn parse_quality(value: &str) -> Result<u16, LanguageError> {
    let bad = || LanguageError::BadQuality {
        value: value.to_owned(),
    };
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let thousandths = {
        let mut digits = fraction.to_owned();
        while digits.len() < 3 {
            digits.push('0');
        }
        digits.parse::<u16>().map_err(|_| bad())?
    };
    match whole {
        "0" => Ok(thousandths),
        "1" if thousandths == 0 => Ok(1000),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_malformed_element_is_skipped_not_fatal() {
        let p = LanguagePreferences::parse_accept_language_lenient(
            "xx-!!, da;q=0.9, fr;q=nope, de;q=0.5",
        );
        assert_eq!(p.first_language(), Some(Language::Danish));
        assert_eq!(p.entries().len(), 2);
        assert!(LanguagePreferences::parse_accept_language("xx-!!, da").is_err());
        assert!(LanguagePreferences::parse_accept_language_lenient(",,;").is_empty());
    }

    use super::*;

    #[test]
    fn parses_all_26_codes() {
        for l in Language::ALL {
            assert_eq!(l.code().parse::<Language>(), Ok(l));
            assert_eq!(l.to_string(), l.code());
        }
        assert_eq!(Language::ALL.len(), 26);
    }

    #[test]
    fn regional_and_norwegian_variants_map_to_base_language() {
        assert_eq!("de-AT".parse::<Language>(), Ok(Language::German));
        assert_eq!("fr-BE".parse::<Language>(), Ok(Language::French));
        assert_eq!("nb".parse::<Language>(), Ok(Language::Norwegian));
        assert_eq!("nn-NO".parse::<Language>(), Ok(Language::Norwegian));
        assert_eq!("EN".parse::<Language>(), Ok(Language::English));
        assert_eq!(
            "sr-Latn-RS"
                .parse::<Language>()
                .map_err(|e| matches!(e, LanguageError::Unsupported { .. })),
            Err(true)
        );
    }

    #[test]
    fn unknown_and_malformed_tags_are_refused() {
        assert_eq!(
            "tr".parse::<Language>(),
            Err(LanguageError::Unsupported { tag: "tr".into() })
        );
        assert_eq!(
            "lb".parse::<Language>(),
            Err(LanguageError::Unsupported { tag: "lb".into() })
        );
        for bad in ["", "*", "d", "123", "en_GB_x!", "toolonglanguage"] {
            assert!(
                matches!(
                    bad.parse::<Language>(),
                    Err(LanguageError::Malformed { .. })
                ),
                "{bad:?} should be malformed"
            );
        }
    }

    #[test]
    fn serde_round_trip_uses_codes() {
        let json = serde_json::to_string(&Language::Greek).unwrap();
        assert_eq!(json, "\"el\"");
        assert_eq!(
            serde_json::from_str::<Language>("\"nb\"").unwrap(),
            Language::Norwegian
        );
        assert!(serde_json::from_str::<Language>("\"xx\"").is_err());
    }

    #[test]
    fn accept_language_orders_by_quality_and_keeps_ties_stable() {
        let p = LanguagePreferences::parse_accept_language("fr;q=0.5, da, en-GB;q=0.8, de;q=0.8")
            .unwrap();
        let codes: Vec<_> = p.entries().iter().map(|e| e.language().unwrap()).collect();
        assert_eq!(
            codes,
            [
                Language::Danish,
                Language::English,
                Language::German,
                Language::French
            ]
        );
        assert_eq!(p.entries()[1].quality(), 800);
    }

    #[test]
    fn accept_language_drops_q_zero_and_keeps_unknown_tags() {
        let p = LanguagePreferences::parse_accept_language("zh-CN, da;q=0, *;q=0.1").unwrap();
        assert_eq!(p.entries().len(), 2);
        assert_eq!(p.entries()[0].language(), None);
        assert_eq!(p.entries()[1].range(), &LanguageRange::Any);
        // zh never matches, da was refused, so * picks the default.
        let chosen = p.negotiate(|_| true, Language::English);
        assert_eq!(chosen, Some(Language::English));
    }

    #[test]
    fn accept_language_negotiates_first_available() {
        let p = LanguagePreferences::parse_accept_language("sv, de-AT;q=0.9, en;q=0.2").unwrap();
        let available = [Language::English, Language::German];
        assert_eq!(
            p.negotiate(|l| available.contains(&l), Language::English),
            Some(Language::German)
        );
        assert_eq!(
            p.negotiate(|l| l == Language::Finnish, Language::English),
            None
        );
    }

    #[test]
    fn accept_language_rejects_bad_quality_and_tags() {
        for bad in [
            "da;q=2",
            "da;q=1.5",
            "da;q=0.1234",
            "da;q=abc",
            "da;level=1",
            "da;q=",
            "??",
        ] {
            assert!(
                LanguagePreferences::parse_accept_language(bad).is_err(),
                "{bad:?} should be refused"
            );
        }
        assert!(
            LanguagePreferences::parse_accept_language("")
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            LanguagePreferences::parse_accept_language("da;q=1.000")
                .unwrap()
                .entries()[0]
                .quality(),
            1000
        );
    }
}
