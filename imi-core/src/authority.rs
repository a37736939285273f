//! Competent authorities: who they are and how to reach them.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use std::collections::BTreeSet;

use crate::catalogue::{AreaId, ProcedureId};
use crate::country::Participant;
use crate::ids::AuthorityId;
use crate::language::Language;
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
    /// A region code is malformed.
    #[error(
        "`{value}` is not a region code (2-16 characters A-Z, 0-9, '-', starting with two letters)"
    )]
    BadRegion {
        /// The offending text.
        value: String,
    },
    /// A link is not an http(s) URL.
    #[error("`{value}` is not an http(s) link")]
    BadLink {
        /// The offending text.
        value: String,
    },
    /// A bearer token is malformed.
    #[error("the token is malformed")]
    BadToken,
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

impl EmailAddress {
    /// The address shown in place of a blocked or deleted one.
    pub(crate) fn placeholder() -> Self {
        Self("withheld@imi.invalid".to_owned())
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
    /// The authority's website: an absolute `http` or `https` link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
}

impl ContactDetails {
    /// Checks the free-text fields' lengths and blankness, and that the website is an
    /// `http`/`https` link.
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
        if let Some(website) = &self.website {
            // Published through the public export that other sites embed: a link must be
            // a web page, never script.
            check_link(website)?;
        }
        Ok(())
    }
}

/// A region inside a country, e.g. a NUTS code (`DK01`) or a national code (`DE-BY`):
/// 2 to 16 characters of `A-Z`, `0-9` and `-`, starting with two letters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Region(String);

impl Region {
    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Region {
    type Err = AuthorityInputError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let code = s.trim().to_ascii_uppercase();
        let ok = (2..=16).contains(&code.len())
            && code.bytes().take(2).all(|b| b.is_ascii_uppercase())
            && code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(code))
        } else {
            Err(AuthorityInputError::BadRegion {
                value: s.to_owned(),
            })
        }
    }
}

impl<'de> Deserialize<'de> for Region {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an authority is competent for in one legislative area: free keywords in any
/// language (activities, professions, subjects), searched in the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Competence {
    /// The legislative area.
    pub area: AreaId,
    /// Keywords, activities or professions, in any of the IMI languages.
    #[serde(default)]
    pub keywords: Vec<String>,
}

/// The part of the national structure a coordinator looks after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum CoordinatorRole {
    /// The one national IMI coordinator (NIMIC) of the country: every area and region.
    National,
    /// A further coordinator, limited to some areas and/or regions (empty: all).
    Scoped {
        /// The legislative areas it coordinates; empty means every area.
        #[serde(default)]
        areas: BTreeSet<AreaId>,
        /// The regions it coordinates; empty means the whole country.
        #[serde(default)]
        regions: BTreeSet<Region>,
    },
}

/// Where an authority stands in the registration life cycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum AuthorityStatus {
    /// Registered and working.
    Active,
    /// Self-registered; waits for the coordinator whose scope covers it.
    PendingValidation,
    /// The coordinator refused the self-registration.
    Rejected {
        /// Why.
        reason: String,
    },
    /// No longer registered. Its history and open cases stay reachable.
    Deregistered {
        /// When.
        at: DateTime<Utc>,
        /// Why.
        reason: String,
    },
}

impl AuthorityStatus {
    /// The status's name, for messages and listings.
    pub fn name(&self) -> &'static str {
        match self {
            AuthorityStatus::Active => "active",
            AuthorityStatus::PendingValidation => "pending-validation",
            AuthorityStatus::Rejected { .. } => "rejected",
            AuthorityStatus::Deregistered { .. } => "deregistered",
        }
    }
}

fn active() -> AuthorityStatus {
    AuthorityStatus::Active
}

/// What it takes to register an authority. Build it with [`NewAuthority::new`] and set
/// the optional fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAuthority {
    /// The country (or the Commission) the authority belongs to.
    pub participant: Participant,
    /// Its name, in its own language(s) and any translations.
    pub name: LocalisedText,
    /// A short name or acronym.
    #[serde(default)]
    pub acronym: Option<String>,
    /// How to reach it.
    #[serde(default)]
    pub contact: ContactDetails,
    /// The languages it works in, most used first.
    #[serde(default)]
    pub languages: Vec<Language>,
    /// Its region, for regional structures and search.
    #[serde(default)]
    pub region: Option<Region>,
    /// What it is competent for, per area.
    #[serde(default)]
    pub competences: Vec<Competence>,
    /// Whether incoming requests are assigned to handlers by an allocator.
    #[serde(default)]
    pub uses_allocation: bool,
    /// Register even though an authority with a similar name exists in the country.
    #[serde(default)]
    pub confirmed_not_duplicate: bool,
}

impl NewAuthority {
    /// An authority with a name and country; everything else empty.
    pub fn new(participant: impl Into<Participant>, name: LocalisedText) -> Self {
        Self {
            participant: participant.into(),
            name,
            acronym: None,
            contact: ContactDetails::default(),
            languages: Vec::new(),
            region: None,
            competences: Vec::new(),
            uses_allocation: false,
            confirmed_not_duplicate: false,
        }
    }

    /// The legislative areas it declares competences in.
    pub fn areas(&self) -> BTreeSet<AreaId> {
        self.competences.iter().map(|c| c.area.clone()).collect()
    }

    /// Checks the input (lengths, links, blank fields) before anything is read or built.
    pub(crate) fn validate(&self) -> Result<(), AuthorityInputError> {
        check_name(&self.name)?;
        self.contact.validate()?;
        if let Some(a) = &self.acronym {
            check_text("acronym", a, 50)?;
        }
        for c in &self.competences {
            for k in &c.keywords {
                check_text("competence keyword", k, 200)?;
            }
        }
        Ok(())
    }
}

/// The longest name of an authority in any language, in characters.
pub const MAX_NAME_LEN: usize = 300;

fn check_name(name: &LocalisedText) -> Result<(), AuthorityInputError> {
    for (_, text) in name.iter() {
        check_text("name", text, MAX_NAME_LEN)?;
    }
    Ok(())
}

/// Checks that `value` is an absolute `http`/`https` link with a host, and nothing a
/// browser could run (`javascript:`, `data:`) or misread (spaces, control characters).
pub(crate) fn check_link(value: &str) -> Result<(), AuthorityInputError> {
    let bad = || AuthorityInputError::BadLink {
        value: value.to_owned(),
    };
    let lower = value.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or_else(bad)?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit('@').next().unwrap_or_default();
    if host.is_empty()
        || host.starts_with(':')
        || value.chars().any(|c| c.is_whitespace() || c.is_control())
        || value.contains(['<', '>', '"', '\\', '`'])
    {
        return Err(bad());
    }
    Ok(())
}

fn check_text(field: &'static str, value: &str, max: usize) -> Result<(), AuthorityInputError> {
    if value.trim().is_empty() {
        return Err(AuthorityInputError::Blank { field });
    }
    let len = value.chars().count();
    if len > max {
        return Err(AuthorityInputError::TooLong { field, len, max });
    }
    Ok(())
}

/// A change to an authority's directory data; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorityUpdate {
    /// A new name (all translations).
    #[serde(default)]
    pub name: Option<LocalisedText>,
    /// New contact details.
    #[serde(default)]
    pub contact: Option<ContactDetails>,
    /// New working languages.
    #[serde(default)]
    pub languages: Option<Vec<Language>>,
    /// New competences.
    #[serde(default)]
    pub competences: Option<Vec<Competence>>,
    /// Whether to use allocation.
    #[serde(default)]
    pub uses_allocation: Option<bool>,
}

/// A registered competent authority, as stored in the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authority {
    id: AuthorityId,
    participant: Participant,
    name: LocalisedText,
    contact: ContactDetails,
    registered_at: DateTime<Utc>,
    #[serde(default)]
    acronym: Option<String>,
    #[serde(default)]
    languages: Vec<Language>,
    #[serde(default)]
    region: Option<Region>,
    #[serde(default)]
    competences: Vec<Competence>,
    #[serde(default)]
    procedures: BTreeSet<ProcedureId>,
    #[serde(default)]
    coordinator: Option<CoordinatorRole>,
    #[serde(default = "active")]
    status: AuthorityStatus,
    #[serde(default)]
    uses_allocation: bool,
}

impl Authority {
    /// Builds the stored record of a newly registered authority.
    pub(crate) fn register(
        id: AuthorityId,
        new: NewAuthority,
        status: AuthorityStatus,
        at: DateTime<Utc>,
    ) -> Result<Self, AuthorityInputError> {
        new.validate()?;
        Ok(Self {
            id,
            participant: new.participant,
            name: new.name,
            contact: new.contact,
            registered_at: at,
            acronym: new.acronym,
            languages: new.languages,
            region: new.region,
            competences: new.competences,
            procedures: BTreeSet::new(),
            coordinator: None,
            status,
            uses_allocation: new.uses_allocation,
        })
    }

    /// Applies an update after checking it.
    pub(crate) fn apply(&mut self, update: AuthorityUpdate) -> Result<(), AuthorityInputError> {
        if let Some(name) = &update.name {
            check_name(name)?;
        }
        if let Some(contact) = &update.contact {
            contact.validate()?;
        }
        for c in update.competences.iter().flatten() {
            for k in &c.keywords {
                check_text("competence keyword", k, 200)?;
            }
        }
        if let Some(v) = update.name {
            self.name = v;
        }
        if let Some(v) = update.contact {
            self.contact = v;
        }
        if let Some(v) = update.languages {
            self.languages = v;
        }
        if let Some(v) = update.competences {
            self.competences = v;
        }
        if let Some(v) = update.uses_allocation {
            self.uses_allocation = v;
        }
        Ok(())
    }

    pub(crate) fn set_status(&mut self, status: AuthorityStatus) {
        self.status = status;
    }

    pub(crate) fn set_coordinator(&mut self, role: Option<CoordinatorRole>) {
        self.coordinator = role;
    }

    pub(crate) fn grant_procedure(&mut self, procedure: ProcedureId) -> bool {
        self.procedures.insert(procedure)
    }

    pub(crate) fn revoke_procedure(&mut self, procedure: &ProcedureId) -> bool {
        self.procedures.remove(procedure)
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

    /// Its short name, if any.
    pub fn acronym(&self) -> Option<&str> {
        self.acronym.as_deref()
    }

    /// How to reach it.
    pub fn contact(&self) -> &ContactDetails {
        &self.contact
    }

    /// When it was registered.
    pub fn registered_at(&self) -> DateTime<Utc> {
        self.registered_at
    }

    /// The languages it works in.
    pub fn languages(&self) -> &[Language] {
        &self.languages
    }

    /// Its region, if any.
    pub fn region(&self) -> Option<&Region> {
        self.region.as_ref()
    }

    /// Its competences per area.
    pub fn competences(&self) -> &[Competence] {
        &self.competences
    }

    /// The legislative areas it declares competences in.
    pub fn areas(&self) -> BTreeSet<AreaId> {
        self.competences.iter().map(|c| c.area.clone()).collect()
    }

    /// The procedures it has access to (granted by a coordinator).
    pub fn procedures(&self) -> &BTreeSet<ProcedureId> {
        &self.procedures
    }

    /// Its coordinator role, if it is a coordinator.
    pub fn coordinator(&self) -> Option<&CoordinatorRole> {
        self.coordinator.as_ref()
    }

    /// Where it stands in the registration life cycle.
    pub fn status(&self) -> &AuthorityStatus {
        &self.status
    }

    /// Whether it is registered and working.
    pub fn is_active(&self) -> bool {
        self.status == AuthorityStatus::Active
    }

    /// Whether incoming requests are allocated to handlers.
    pub fn uses_allocation(&self) -> bool {
        self.uses_allocation
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
