//! Wire types: what the API sends and accepts, converted from and into core types.
//!
//! Localised fields are sent as [`Text`]: the text in the reader's language, the
//! language it is in, and whether that is a fallback. Inputs refuse unknown fields.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use imi_core::catalogue::Right;
use imi_core::{
    Language, LanguagePreferences, LocalisedText, authority::Authority, authority::AuthorityUpdate,
    authority::Competence, authority::ContactDetails, authority::CoordinatorRole,
    authority::NewAuthority, user::Grant, user::GrantScope, user::NewUser, user::User,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::extract::parse;
use crate::problem::Problem;

/// A text resolved for the reader.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Text {
    /// The text.
    pub text: String,
    /// Its language (ISO 639-1).
    pub language: String,
    /// True when it is not in a language the reader asked for.
    pub fallback: bool,
}

impl Text {
    /// Resolves `t` for `reader`.
    pub fn of(t: &LocalisedText, reader: &LanguagePreferences) -> Self {
        let r = t.resolve_for(reader);
        Self {
            text: r.text.to_owned(),
            language: r.language.code().to_owned(),
            fallback: r.fallback,
        }
    }
}

/// A text with all its translations, as sent and received.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Translations {
    /// The language it was written in.
    pub source: String,
    /// The text per language code.
    pub texts: BTreeMap<String, String>,
}

impl Translations {
    /// Converts to the core type, refusing bad tags and empty texts.
    pub fn into_core(self, at: &str) -> Result<LocalisedText, Problem> {
        let bad = |d: String| {
            Problem::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-input",
                "Invalid input",
                format!("{at}: {d}"),
            )
        };
        let source: Language = self
            .source
            .parse()
            .map_err(|e: imi_core::LanguageError| bad(e.to_string()))?;
        let mut pairs = Vec::new();
        for (tag, text) in self.texts {
            let l: Language = tag
                .parse()
                .map_err(|e: imi_core::LanguageError| bad(e.to_string()))?;
            pairs.push((l, text));
        }
        let Some(pos) = pairs.iter().position(|(l, _)| *l == source) else {
            return Err(bad(format!(
                "there is no text in the source language {source}"
            )));
        };
        let first = pairs.remove(pos);
        LocalisedText::from_pairs(std::iter::once(first).chain(pairs))
            .map_err(|e| bad(e.to_string()))
    }

    /// All translations of a core text.
    pub fn of(t: &LocalisedText) -> Self {
        Self {
            source: t.source_language().code().to_owned(),
            texts: t
                .iter()
                .map(|(l, s)| (l.code().to_owned(), s.to_owned()))
                .collect(),
        }
    }
}

/// How to reach an authority.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// A functional mailbox.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// A telephone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// The postal address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// The website.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
}

impl Contact {
    fn of(c: &ContactDetails) -> Self {
        Self {
            email: c.email.as_ref().map(|e| e.to_string()),
            phone: c.phone.clone(),
            address: c.address.clone(),
            website: c.website.clone(),
        }
    }

    /// Converts to the core type.
    pub fn into_core(self) -> Result<ContactDetails, Problem> {
        let email = match self.email {
            Some(e) => Some(
                e.parse()
                    .map_err(|e: imi_core::authority::AuthorityInputError| {
                        Problem::from(imi_core::EngineError::InvalidAuthority(e))
                    })?,
            ),
            None => None,
        };
        Ok(ContactDetails {
            email,
            phone: self.phone,
            address: self.address,
            website: self.website,
        })
    }
}

/// Competences in one area.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompetenceDto {
    /// The area's id.
    pub area: String,
    /// Keywords, activities or professions.
    #[serde(default)]
    pub keywords: Vec<String>,
}

fn competences_into_core(list: Vec<CompetenceDto>) -> Result<Vec<Competence>, Problem> {
    list.into_iter()
        .map(|c| {
            Ok(Competence {
                area: parse("area id", &c.area)?,
                keywords: c.keywords,
            })
        })
        .collect()
}

fn languages_into_core(list: &[String]) -> Result<Vec<Language>, Problem> {
    list.iter().map(|l| parse("language", l)).collect()
}

/// A coordinator role.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CoordinatorDto {
    /// `national` or `scoped`.
    pub kind: String,
    /// For `scoped`: the areas (empty: all).
    #[serde(default)]
    pub areas: Vec<String>,
    /// For `scoped`: the regions (empty: the whole country).
    #[serde(default)]
    pub regions: Vec<String>,
}

impl CoordinatorDto {
    fn of(r: &CoordinatorRole) -> Self {
        match r {
            CoordinatorRole::National => Self {
                kind: "national".into(),
                areas: vec![],
                regions: vec![],
            },
            CoordinatorRole::Scoped { areas, regions } => Self {
                kind: "scoped".into(),
                areas: areas.iter().map(ToString::to_string).collect(),
                regions: regions.iter().map(ToString::to_string).collect(),
            },
        }
    }

    /// Converts to the core type.
    pub fn into_core(self) -> Result<CoordinatorRole, Problem> {
        match self.kind.as_str() {
            "national" if self.areas.is_empty() && self.regions.is_empty() => {
                Ok(CoordinatorRole::National)
            }
            "scoped" => Ok(CoordinatorRole::Scoped {
                areas: self
                    .areas
                    .iter()
                    .map(|a| parse("area id", a))
                    .collect::<Result<BTreeSet<_>, _>>()?,
                regions: self
                    .regions
                    .iter()
                    .map(|r| parse("region", r))
                    .collect::<Result<BTreeSet<_>, _>>()?,
            }),
            _ => Err(Problem::bad_request(
                "bad-body",
                "kind must be `national` (no areas, no regions) or `scoped`",
            )),
        }
    }
}

/// A directory entry, localised for the reader.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuthorityDto {
    /// The id.
    pub id: String,
    /// Country code (`EL` for Greece) or `EC`.
    pub participant: String,
    /// `active`, `pending-validation`, `rejected` or `deregistered`.
    pub status: String,
    /// The name for the reader.
    pub name: Text,
    /// Every translation of the name.
    pub names: Translations,
    /// Short name.
    pub acronym: Option<String>,
    /// Contact details.
    pub contact: Contact,
    /// Working languages.
    pub languages: Vec<String>,
    /// Region code.
    pub region: Option<String>,
    /// Competences per area.
    pub competences: Vec<CompetenceDto>,
    /// Procedures it has access to.
    pub procedures: Vec<String>,
    /// Its coordinator role, if any.
    pub coordinator: Option<CoordinatorDto>,
    /// Whether incoming requests are allocated to handlers.
    pub uses_allocation: bool,
    /// When it was registered.
    pub registered_at: DateTime<Utc>,
}

impl AuthorityDto {
    /// The entry of `a` for `reader`.
    pub fn of(a: &Authority, reader: &LanguagePreferences) -> Self {
        Self {
            id: a.id().to_string(),
            participant: a.participant().code().to_owned(),
            status: a.status().name().to_owned(),
            name: Text::of(a.name(), reader),
            names: Translations::of(a.name()),
            acronym: a.acronym().map(str::to_owned),
            contact: Contact::of(a.contact()),
            languages: a.languages().iter().map(|l| l.code().to_owned()).collect(),
            region: a.region().map(ToString::to_string),
            competences: a
                .competences()
                .iter()
                .map(|c| CompetenceDto {
                    area: c.area.to_string(),
                    keywords: c.keywords.clone(),
                })
                .collect(),
            procedures: a.procedures().iter().map(ToString::to_string).collect(),
            coordinator: a.coordinator().map(CoordinatorDto::of),
            uses_allocation: a.uses_allocation(),
            registered_at: a.registered_at(),
        }
    }
}

/// What it takes to register an authority.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAuthorityDto {
    /// Country code or `EC`.
    pub participant: String,
    /// Its name.
    pub name: Translations,
    /// Short name.
    #[serde(default)]
    pub acronym: Option<String>,
    /// Contact details.
    #[serde(default)]
    pub contact: Contact,
    /// Working languages.
    #[serde(default)]
    pub languages: Vec<String>,
    /// Region code.
    #[serde(default)]
    pub region: Option<String>,
    /// Competences per area.
    #[serde(default)]
    pub competences: Vec<CompetenceDto>,
    /// Whether incoming requests are allocated to handlers.
    #[serde(default)]
    pub uses_allocation: bool,
    /// Register despite an authority with the same name in the country.
    #[serde(default)]
    pub confirmed_not_duplicate: bool,
}

impl NewAuthorityDto {
    /// Converts to the core type.
    pub fn into_core(self) -> Result<NewAuthority, Problem> {
        let mut n = NewAuthority::new(
            parse::<imi_core::Participant>("participant", &self.participant)?,
            self.name.into_core("name")?,
        );
        n.acronym = self.acronym;
        n.contact = self.contact.into_core()?;
        n.languages = languages_into_core(&self.languages)?;
        n.region = self.region.map(|r| parse("region", &r)).transpose()?;
        n.competences = competences_into_core(self.competences)?;
        n.uses_allocation = self.uses_allocation;
        n.confirmed_not_duplicate = self.confirmed_not_duplicate;
        Ok(n)
    }
}

/// A change to an authority; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorityUpdateDto {
    /// A new name.
    #[serde(default)]
    pub name: Option<Translations>,
    /// New contact details.
    #[serde(default)]
    pub contact: Option<Contact>,
    /// New working languages.
    #[serde(default)]
    pub languages: Option<Vec<String>>,
    /// New competences.
    #[serde(default)]
    pub competences: Option<Vec<CompetenceDto>>,
    /// Whether to allocate incoming requests.
    #[serde(default)]
    pub uses_allocation: Option<bool>,
}

impl AuthorityUpdateDto {
    /// Converts to the core type.
    pub fn into_core(self) -> Result<AuthorityUpdate, Problem> {
        Ok(AuthorityUpdate {
            name: self.name.map(|n| n.into_core("name")).transpose()?,
            contact: self.contact.map(Contact::into_core).transpose()?,
            languages: self
                .languages
                .as_deref()
                .map(languages_into_core)
                .transpose()?,
            competences: self.competences.map(competences_into_core).transpose()?,
            uses_allocation: self.uses_allocation,
        })
    }
}

/// A user, as their administrators see them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserDto {
    /// The id.
    pub id: String,
    /// Their authority.
    pub authority: String,
    /// Their name.
    pub name: String,
    /// Their e-mail address.
    pub email: String,
    /// Their language.
    pub language: String,
    /// Their rights.
    pub grants: Vec<GrantDto>,
    /// Whether they may sign in.
    pub active: bool,
    /// When they were created.
    pub created_at: DateTime<Utc>,
    /// `person`, or `service` for a service account (a system of the authority).
    #[schema(example = "person")]
    pub kind: &'static str,
}

impl UserDto {
    /// The wire form of `u`.
    pub fn of(u: &User) -> Self {
        Self {
            id: u.id().to_string(),
            authority: u.authority().to_string(),
            name: u.name().to_owned(),
            email: u.email().to_string(),
            language: u.language().code().to_owned(),
            grants: u.grants().iter().map(GrantDto::of).collect(),
            active: u.is_active(),
            created_at: u.created_at(),
            kind: match u.kind() {
                imi_core::user::UserKind::Person => "person",
                imi_core::user::UserKind::Service => "service",
            },
        }
    }
}

/// What it takes to create a user.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserDto {
    /// Their name.
    pub name: String,
    /// Their e-mail address.
    pub email: String,
    /// Their language.
    pub language: String,
}

impl NewUserDto {
    /// Converts to the core type.
    pub fn into_core(self) -> Result<NewUser, Problem> {
        Ok(NewUser {
            name: self.name,
            email: self
                .email
                .parse()
                .map_err(|e: imi_core::authority::AuthorityInputError| {
                    Problem::from(imi_core::EngineError::InvalidAuthority(e))
                })?,
            language: parse("language", &self.language)?,
        })
    }
}

/// One right within a scope.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantDto {
    /// The right (`request-handler`, `administrator`, ...).
    pub right: String,
    /// `everything`, `area` or `procedure`.
    pub scope: String,
    /// The area or procedure id, for those scopes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

impl GrantDto {
    fn of(g: &Grant) -> Self {
        let (scope, id) = match &g.scope {
            GrantScope::Everything => ("everything", None),
            GrantScope::Area(a) => ("area", Some(a.to_string())),
            GrantScope::Procedure(p) => ("procedure", Some(p.to_string())),
        };
        Self {
            right: g.right.name().to_owned(),
            scope: scope.to_owned(),
            id,
        }
    }

    /// Converts to the core type.
    pub fn into_core(self) -> Result<Grant, Problem> {
        let right = Right::ALL
            .into_iter()
            .find(|r| r.name() == self.right)
            .ok_or_else(|| {
                Problem::bad_request("bad-body", format!("`{}` is not a right", self.right))
            })?;
        let id = || {
            self.id.clone().ok_or_else(|| {
                Problem::bad_request("bad-body", format!("scope `{}` needs an id", self.scope))
            })
        };
        let scope = match self.scope.as_str() {
            "everything" => GrantScope::Everything,
            "area" => GrantScope::Area(parse("area id", &id()?)?),
            "procedure" => GrantScope::Procedure(parse("procedure id", &id()?)?),
            _ => {
                return Err(Problem::bad_request(
                    "bad-body",
                    "scope must be `everything`, `area` or `procedure`",
                ));
            }
        };
        Ok(Grant::new(right, scope))
    }
}

/// A page of results.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Converts a core page.
    pub fn of<U>(p: imi_core::Page<U>, f: impl Fn(&U) -> T) -> Self {
        Self {
            items: p.items.iter().map(f).collect(),
            next_cursor: p.next.map(|c| c.to_string()),
        }
    }
}

/// Paging parameters.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<usize>,
    /// Where to continue.
    pub cursor: Option<String>,
}

impl PageParams {
    /// Converts to a core page request.
    pub fn into_core(self) -> Result<imi_core::PageRequest, Problem> {
        let mut p = imi_core::PageRequest::first(self.limit.unwrap_or(imi_core::DEFAULT_PAGE_SIZE))
            .map_err(|e| Problem::bad_request("bad-page", e.to_string()))?;
        if let Some(c) = self.cursor {
            p = p.after(c.parse().map_err(|e: imi_core::PageError| {
                Problem::bad_request("bad-page", e.to_string())
            })?);
        }
        Ok(p)
    }
}
