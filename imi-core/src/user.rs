//! Users: people working for one authority, with rights per area or procedure, and the
//! API tokens they authenticate with.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::authority::{AuthorityInputError, EmailAddress};
use crate::catalogue::{AreaId, ProcedureId, Right};
use crate::ids::{AuthorityId, UserId};
use crate::language::Language;

/// What a grant of a right covers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "scope", content = "id", rename_all = "kebab-case")]
pub enum GrantScope {
    /// Every area and procedure the authority has access to.
    Everything,
    /// Every procedure of one area.
    Area(AreaId),
    /// One procedure.
    Procedure(ProcedureId),
}

/// One right granted to a user, within a scope.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Grant {
    /// The right.
    pub right: Right,
    /// Where it applies.
    pub scope: GrantScope,
}

impl Grant {
    /// A grant of `right` over `scope`.
    pub fn new(right: Right, scope: GrantScope) -> Self {
        Self { right, scope }
    }
}

/// Whether a user may log in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum UserStatus {
    /// May work.
    Active,
    /// Stopped being a user; past actions stay attributed to them.
    Disabled {
        /// Since when.
        at: DateTime<Utc>,
    },
}

/// What it takes to create a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// The person's name (personal data).
    pub name: String,
    /// Their work e-mail address.
    pub email: EmailAddress,
    /// The language they read IMI in.
    pub language: Language,
}

/// A person working for one authority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    id: UserId,
    authority: AuthorityId,
    name: String,
    email: EmailAddress,
    language: Language,
    grants: Vec<Grant>,
    status: UserStatus,
    created_at: DateTime<Utc>,
}

impl User {
    pub(crate) fn create(
        id: UserId,
        authority: AuthorityId,
        new: NewUser,
        at: DateTime<Utc>,
    ) -> Result<Self, AuthorityInputError> {
        let name = new.name.trim();
        if name.is_empty() {
            return Err(AuthorityInputError::Blank { field: "user name" });
        }
        let len = name.chars().count();
        if len > 200 {
            return Err(AuthorityInputError::TooLong {
                field: "user name",
                len,
                max: 200,
            });
        }
        Ok(Self {
            id,
            authority,
            name: name.to_owned(),
            email: new.email,
            language: new.language,
            grants: Vec::new(),
            status: UserStatus::Active,
            created_at: at,
        })
    }

    pub(crate) fn set_grants(&mut self, mut grants: Vec<Grant>) {
        grants.sort();
        grants.dedup();
        self.grants = grants;
    }

    /// The record as normal reads show it: once the person stopped being a user, their
    /// name and e-mail address are blocked (kept only as proof of past exchanges).
    pub(crate) fn as_shown(&self) -> User {
        match self.status {
            UserStatus::Active => self.clone(),
            UserStatus::Disabled { .. } => self.with_identity_replaced("(blocked former user)"),
        }
    }

    /// Deletes the name and e-mail address, keeping the id so past actions stay
    /// attributable (3 years after the person stopped being a user).
    pub(crate) fn erase(&mut self) {
        *self = self.with_identity_replaced("(deleted former user)");
    }

    fn with_identity_replaced(&self, name: &str) -> User {
        User {
            name: name.to_owned(),
            email: EmailAddress::placeholder(),
            grants: Vec::new(),
            ..self.clone()
        }
    }

    /// When the person stopped being a user.
    pub fn disabled_at(&self) -> Option<DateTime<Utc>> {
        match self.status {
            UserStatus::Active => None,
            UserStatus::Disabled { at } => Some(at),
        }
    }

    pub(crate) fn disable(&mut self, at: DateTime<Utc>) {
        self.status = UserStatus::Disabled { at };
    }

    /// The user's id.
    pub fn id(&self) -> UserId {
        self.id
    }

    /// The authority they work for.
    pub fn authority(&self) -> AuthorityId {
        self.authority
    }

    /// Their name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Their e-mail address.
    pub fn email(&self) -> &EmailAddress {
        &self.email
    }

    /// The language they read IMI in.
    pub fn language(&self) -> Language {
        self.language
    }

    /// The rights granted to them.
    pub fn grants(&self) -> &[Grant] {
        &self.grants
    }

    /// Whether they may log in.
    pub fn status(&self) -> &UserStatus {
        &self.status
    }

    /// Whether they are active.
    pub fn is_active(&self) -> bool {
        self.status == UserStatus::Active
    }

    /// When the user was created.
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
}

/// A bearer token in clear: shown once when issued, never stored. The store keeps only
/// its SHA-256 hash (the token carries 256 random bits, so a fast hash suffices).
#[derive(Clone, PartialEq, Eq)]
pub struct SecretToken(String);

/// The prefix of every token, so leaked tokens are easy to recognise.
pub const TOKEN_PREFIX: &str = "imi_";

impl SecretToken {
    pub(crate) fn from_bytes(bytes: &[u8; 32]) -> Self {
        let mut s = String::with_capacity(TOKEN_PREFIX.len() + 64);
        s.push_str(TOKEN_PREFIX);
        for b in bytes {
            s.push_str(&format!("{b:02x}"));
        }
        Self(s)
    }

    /// The token text, to hand to its owner.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The hash under which the token is stored.
    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.0.as_bytes()).into())
    }
}

impl FromStr for SecretToken {
    type Err = AuthorityInputError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok = s.len() == TOKEN_PREFIX.len() + 64
            && s.starts_with(TOKEN_PREFIX)
            && s[TOKEN_PREFIX.len()..]
                .bytes()
                .all(|b| b.is_ascii_hexdigit());
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(AuthorityInputError::BadToken)
        }
    }
}

impl fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretToken(…)")
    }
}

/// The stored form of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash(pub(crate) [u8; 32]);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_hide() {
        let t = SecretToken::from_bytes(&[0xab; 32]);
        assert!(t.expose().starts_with("imi_abab"));
        assert_eq!(t.expose().parse::<SecretToken>().unwrap().hash(), t.hash());
        assert_eq!(format!("{t:?}"), "SecretToken(…)");
        for bad in [
            "",
            "imi_",
            "imi_zz",
            "abc",
            &format!("imi_{}", "g".repeat(64)),
        ] {
            assert!(bad.parse::<SecretToken>().is_err());
        }
        assert_ne!(SecretToken::from_bytes(&[1; 32]).hash(), t.hash());
    }
}
