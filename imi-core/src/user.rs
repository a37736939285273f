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
    #[serde(default)]
    kind: UserKind,
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
            kind: UserKind::Person,
        })
    }

    /// A service account: a system of the authority rather than a person.
    pub(crate) fn into_service(mut self) -> Self {
        self.kind = UserKind::Service;
        self
    }

    /// Whether it is a person or a service account.
    pub fn kind(&self) -> UserKind {
        self.kind
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

/// How long a token lives when its request names no lifetime: 90 days.
pub const DEFAULT_TOKEN_DAYS: u16 = 90;
/// The longest a token may live: one year. Tokens always end.
pub const MAX_TOKEN_DAYS: u16 = 365;
/// How many unexpired tokens one user may hold at once.
pub const MAX_TOKENS_PER_USER: usize = 20;

/// What a new token should be: a label its owner recognises it by, and its lifetime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRequest {
    /// What it is for ("case-management system", "laptop"); 1-100 characters.
    pub label: String,
    /// Days until it expires, 1 to [`MAX_TOKEN_DAYS`].
    pub days: u16,
}

impl Default for TokenRequest {
    fn default() -> Self {
        Self {
            label: "api".to_owned(),
            days: DEFAULT_TOKEN_DAYS,
        }
    }
}

/// A token cannot be issued as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The label is blank or longer than 100 characters.
    #[error("a token's label must have 1 to 100 characters (it has {len})")]
    BadLabel {
        /// Its length in characters.
        len: usize,
    },
    /// The lifetime is outside 1 day to [`MAX_TOKEN_DAYS`].
    #[error("a token lives 1 to {max} days, not {days}")]
    BadLifetime {
        /// The days asked for.
        days: u16,
        /// The most allowed.
        max: u16,
    },
    /// The user holds as many unexpired tokens as allowed.
    #[error("the user holds {max} unexpired tokens already; revoke one first")]
    TooMany {
        /// The most allowed.
        max: usize,
    },
}

impl TokenRequest {
    /// Checks the label and lifetime.
    pub fn validate(&self) -> Result<(), TokenError> {
        let len = self.label.trim().chars().count();
        if len == 0 || len > 100 {
            return Err(TokenError::BadLabel { len });
        }
        if self.days == 0 || self.days > MAX_TOKEN_DAYS {
            return Err(TokenError::BadLifetime {
                days: self.days,
                max: MAX_TOKEN_DAYS,
            });
        }
        Ok(())
    }
}

/// An API token as stored (under the hash of its secret) and as listed to its owner and
/// administrators: never the secret itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    /// Its id, for listing and revoking.
    pub id: crate::ids::TokenId,
    /// The user it acts as.
    pub user: UserId,
    /// What it is for.
    pub label: String,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// Who issued it: the user themselves, an administrator of a service account's
    /// authority, or `None` for the system operator.
    pub issued_by: Option<UserId>,
}

impl TokenInfo {
    /// Whether it no longer works at `now`.
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        now >= self.expires_at
    }
}

/// What kind of account a user is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UserKind {
    /// A person, who signs in and mints their own tokens.
    #[default]
    Person,
    /// A system of the authority (machine to machine): its tokens are issued by the
    /// authority's administrators, and everything it does is audited as the account.
    Service,
}

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
