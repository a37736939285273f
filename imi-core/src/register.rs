//! The directory of national registers: what a register holds, who may consult it and
//! how, kept by coordinators.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::authority::{AuthorityInputError, ContactDetails};
use crate::catalogue::AreaId;
use crate::country::Participant;
use crate::ids::RegisterId;
use crate::localised::LocalisedText;

/// The content of a register entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterData {
    /// The country keeping the register.
    pub participant: Participant,
    /// The legislative area it serves, if any.
    #[serde(default)]
    pub area: Option<AreaId>,
    /// The register's name.
    pub name: LocalisedText,
    /// What it contains.
    pub content: LocalisedText,
    /// Who may consult it, and how.
    pub access_conditions: LocalisedText,
    /// Whom to contact.
    #[serde(default)]
    pub contact: ContactDetails,
    /// Where it is published (`https://…`).
    #[serde(default)]
    pub link: Option<String>,
}

impl RegisterData {
    pub(crate) fn validate(&self) -> Result<(), AuthorityInputError> {
        self.contact.validate()?;
        if let Some(link) = &self.link {
            if link.len() > 2_000 {
                return Err(AuthorityInputError::BadLink {
                    value: link.clone(),
                });
            }
            crate::authority::check_link(link)?;
        }
        Ok(())
    }
}

/// An entry of the directory of national registers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Register {
    /// Its id.
    pub id: RegisterId,
    /// Its content.
    #[serde(flatten)]
    pub data: RegisterData,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}
