//! The 30 EEA countries and the European Commission as participants in IMI.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::language::Language;

/// Why a country or participant code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{code}` is not an EEA country code (ISO 3166-1 alpha-2, Greece as `EL`) nor `EC`")]
pub struct CountryError {
    /// The offending code.
    pub code: String,
}

macro_rules! countries {
    ($( $variant:ident => $code:literal, $english:literal, [$($lang:ident),+]; )+) => {
        /// One of the 30 EEA states (27 EU members plus Iceland, Liechtenstein and Norway).
        ///
        /// Codes are ISO 3166-1 alpha-2 except Greece, which is `EL` as in EU usage
        /// (`GR` is accepted as input). Serialised as the code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Country {
            $(
                #[doc = $english]
                $variant,
            )+
        }

        impl Country {
            /// All 30 countries, in order of their codes.
            pub const ALL: [Country; 30] = [$(Country::$variant),+];

            /// The two-letter code (`"DK"`, `"EL"`, ...).
            pub const fn code(self) -> &'static str {
                match self {
                    $(Country::$variant => $code,)+
                }
            }

            /// The country's English short name.
            pub const fn english_name(self) -> &'static str {
                match self {
                    $(Country::$variant => $english,)+
                }
            }

            /// The IMI languages that are official in the country, most used first.
            pub fn official_languages(self) -> &'static [Language] {
                match self {
                    $(Country::$variant => &[$(Language::$lang),+],)+
                }
            }

            fn from_code(code: &str) -> Option<Country> {
                match code {
                    $($code => Some(Country::$variant),)+
                    "GR" => Some(Country::Greece),
                    _ => None,
                }
            }
        }
    };
}

countries! {
    Austria => "AT", "Austria", [German];
    Belgium => "BE", "Belgium", [Dutch, French, German];
    Bulgaria => "BG", "Bulgaria", [Bulgarian];
    Cyprus => "CY", "Cyprus", [Greek];
    Czechia => "CZ", "Czechia", [Czech];
    Germany => "DE", "Germany", [German];
    Denmark => "DK", "Denmark", [Danish];
    Estonia => "EE", "Estonia", [Estonian];
    Greece => "EL", "Greece", [Greek];
    Spain => "ES", "Spain", [Spanish];
    Finland => "FI", "Finland", [Finnish, Swedish];
    France => "FR", "France", [French];
    Croatia => "HR", "Croatia", [Croatian];
    Hungary => "HU", "Hungary", [Hungarian];
    Ireland => "IE", "Ireland", [English, Irish];
    Iceland => "IS", "Iceland", [Icelandic];
    Italy => "IT", "Italy", [Italian];
    Liechtenstein => "LI", "Liechtenstein", [German];
    Lithuania => "LT", "Lithuania", [Lithuanian];
    Luxembourg => "LU", "Luxembourg", [French, German];
    Latvia => "LV", "Latvia", [Latvian];
    Malta => "MT", "Malta", [Maltese, English];
    Netherlands => "NL", "Netherlands", [Dutch];
    Norway => "NO", "Norway", [Norwegian];
    Poland => "PL", "Poland", [Polish];
    Portugal => "PT", "Portugal", [Portuguese];
    Romania => "RO", "Romania", [Romanian];
    Sweden => "SE", "Sweden", [Swedish];
    Slovenia => "SI", "Slovenia", [Slovenian];
    Slovakia => "SK", "Slovakia", [Slovak];
}

impl Country {
    /// Whether the country is one of the 27 EU member states (false for IS, LI, NO).
    pub fn is_eu_member(self) -> bool {
        !matches!(
            self,
            Country::Iceland | Country::Liechtenstein | Country::Norway
        )
    }
}

impl FromStr for Country {
    type Err = CountryError;

    /// Parses a two-letter code, case-insensitively; `GR` is read as Greece (`EL`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Country::from_code(&s.trim().to_ascii_uppercase())
            .ok_or_else(|| CountryError { code: s.to_owned() })
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A party to IMI: an EEA country, or the European Commission, which takes part as its
/// own participant (it receives alerts and notifications and runs the helpdesk).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Participant {
    /// An EEA state.
    Country(Country),
    /// The European Commission, code `EC`.
    Commission,
}

impl Participant {
    /// Every participant: the 30 countries, then the Commission.
    pub fn all() -> impl Iterator<Item = Participant> {
        Country::ALL
            .into_iter()
            .map(Participant::Country)
            .chain(std::iter::once(Participant::Commission))
    }

    /// The code: the country code, or `EC`.
    pub const fn code(self) -> &'static str {
        match self {
            Participant::Country(c) => c.code(),
            Participant::Commission => "EC",
        }
    }

    /// The country, unless this is the Commission.
    pub const fn country(self) -> Option<Country> {
        match self {
            Participant::Country(c) => Some(c),
            Participant::Commission => None,
        }
    }
}

impl From<Country> for Participant {
    fn from(c: Country) -> Self {
        Participant::Country(c)
    }
}

impl FromStr for Participant {
    type Err = CountryError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim().eq_ignore_ascii_case("EC") {
            return Ok(Participant::Commission);
        }
        s.parse().map(Participant::Country)
    }
}

impl fmt::Display for Participant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

macro_rules! serde_as_code {
    ($t:ty) => {
        impl Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.code())
            }
        }

        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

serde_as_code!(Country);
serde_as_code!(Participant);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thirty_countries_with_unique_codes() {
        let mut codes: Vec<_> = Country::ALL.iter().map(|c| c.code()).collect();
        assert_eq!(codes.len(), 30);
        codes.dedup();
        assert_eq!(codes.len(), 30, "codes are sorted and unique");
        assert_eq!(Country::ALL.iter().filter(|c| c.is_eu_member()).count(), 27);
        for c in Country::ALL {
            assert_eq!(c.code().parse::<Country>(), Ok(c));
            assert!(!c.official_languages().is_empty());
        }
    }

    #[test]
    fn greece_is_el_and_gr_is_accepted() {
        assert_eq!("EL".parse::<Country>(), Ok(Country::Greece));
        assert_eq!("gr".parse::<Country>(), Ok(Country::Greece));
        assert_eq!(Country::Greece.to_string(), "EL");
        assert_eq!(serde_json::to_string(&Country::Greece).unwrap(), "\"EL\"");
    }

    #[test]
    fn non_eea_codes_are_refused() {
        for bad in ["UK", "GB", "CH", "TR", "", "DKK", "XX"] {
            assert_eq!(
                bad.parse::<Country>(),
                Err(CountryError { code: bad.into() })
            );
        }
    }

    #[test]
    fn the_commission_is_a_participant() {
        assert_eq!(Participant::all().count(), 31);
        assert_eq!("EC".parse::<Participant>(), Ok(Participant::Commission));
        assert_eq!(
            "dk".parse::<Participant>(),
            Ok(Participant::Country(Country::Denmark))
        );
        assert_eq!(Participant::Commission.country(), None);
        let json = serde_json::to_string(&Participant::Commission).unwrap();
        assert_eq!(json, "\"EC\"");
        assert_eq!(
            serde_json::from_str::<Participant>("\"NO\"").unwrap(),
            Country::Norway.into()
        );
        assert!("EC".parse::<Country>().is_err());
    }
}
