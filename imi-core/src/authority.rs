//! Competent authorities: who they are and how to reach them.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::country::Participant;
use crate::ids::AuthorityId;
use crate::localised::LocalisedText;

/// The longest contact field (address, phone, website) accepted, in characters.
pub const MAX_CONTACT_FIELD_LEN: usize = 500;

/// Why authority data were refused. Each variant names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorityInputError {
    /// An e-mail address is not of the form `local@domain.tld`.
    #[error("`{value}` is not a valid e-mail address")]
    BadEmail {
        /// The offending text.
        value: String,
    },
    /// A contact field is longer than [`MAX_CONTACT_FIELD_LEN`].
    #[error("the {field} is {len} characters long; at most {max} are allowed")]
    TooLong {
        /// Which field.
        field: &'static str,
        /// Its length in characters.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A contact field holds only white space; leave it out instead.
    #[error("the {field} is blank")]
    Blank {
        /// Which field.
        field: &'static str,
    },
}

/// A syntactically valid e-mail address (`local@domain.tld`, no white space, at most 254
/// characters). It is not proof the mailbox exists.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for EmailAddress {
    type Err = AuthorityInputError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || AuthorityInputError::BadEmail {
            value: s.to_owned(),
        };
        let s = s.trim();
        if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = s.rsplit_once('@').ok_or_else(bad)?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && !domain.contains('@');
        if local.is_empty() || !domain_ok {
            return Err(bad());
        }
        Ok(Self(s.to_owned()))
    }
}

impl<'de> Deserialize<'de> for EmailAddress {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How to reach an authority. Every field is optional; what is given is checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactDetails {
    /// A functional mailbox.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailAddress>,
    /// A telephone number as it should be dialled from abroad.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// The postal address, lines separated by newlines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// The authority's website.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
}

impl ContactDetails {
    /// Checks the free-text fields' lengths and blankness.
    pub fn validate(&self) -> Result<(), AuthorityInputError> {
        let fields = [
            ("phone number", &self.phone),
            ("address", &self.address),
            ("website", &self.website),
        ];
        for (field, value) in fields {
            let Some(value) = value else { continue };
            if value.trim().is_empty() {
                return Err(AuthorityInputError::Blank { field });
            }
            let len = value.chars().count();
            if len > MAX_CONTACT_FIELD_LEN {
                return Err(AuthorityInputError::TooLong {
                    field,
                    len,
                    max: MAX_CONTACT_FIELD_LEN,
                });
            }
        }
        Ok(())
    }
}

/// What it takes to register an authority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAuthority {
    /// The country (or the Commission) the authority belongs to.
    pub participant: Participant,
    /// Its name, in its own language(s) and any translations.
    pub name: LocalisedText,
    /// How to reach it.
    #[serde(default)]
    pub contact: ContactDetails,
}

/// A registered competent authority, as stored in the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authority {
    id: AuthorityId,
    participant: Participant,
    name: LocalisedText,
    contact: ContactDetails,
    registered_at: DateTime<Utc>,
}

impl Authority {
    /// Builds the stored record of a newly registered authority.
    pub(crate) fn register(
        id: AuthorityId,
        new: NewAuthority,
        at: DateTime<Utc>,
    ) -> Result<Self, AuthorityInputError> {
        new.contact.validate()?;
        Ok(Self {
            id,
            participant: new.participant,
            name: new.name,
            contact: new.contact,
            registered_at: at,
        })
    }

    /// The authority's id.
    pub fn id(&self) -> AuthorityId {
        self.id
    }

    /// The country (or the Commission) it belongs to.
    pub fn participant(&self) -> Participant {
        self.participant
    }

    /// Its multilingual name.
    pub fn name(&self) -> &LocalisedText {
        &self.name
    }

    /// How to reach it.
    pub fn contact(&self) -> &ContactDetails {
        &self.contact
    }

    /// When it was registered.
    pub fn registered_at(&self) -> DateTime<Utc> {
        self.registered_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_addresses() {
        for ok in ["info@sst.dk", "a.b+c@x.europa.eu", " nimic@gov.fr "] {
            assert!(ok.parse::<EmailAddress>().is_ok(), "{ok}");
        }
        for bad in [
            "", "x", "@sst.dk", "a@", "a@dk", "a@.dk", "a@dk.", "a b@c.dk", "a@b..dk",
        ] {
            assert!(bad.parse::<EmailAddress>().is_err(), "{bad}");
        }
    }

    #[test]
    fn contact_fields_are_checked() {
        let blank = ContactDetails {
            phone: Some("  ".into()),
            ..Default::default()
        };
        assert_eq!(
            blank.validate(),
            Err(AuthorityInputError::Blank {
                field: "phone number"
            })
        );
        let long = ContactDetails {
            address: Some("x".repeat(MAX_CONTACT_FIELD_LEN + 1)),
            ..Default::default()
        };
        assert!(matches!(
            long.validate(),
            Err(AuthorityInputError::TooLong {
                field: "address",
                ..
            })
        ));
    }
}
