//! Sign-in sessions of people using a browser: a secret the browser keeps in a cookie, and
//! the record the store keeps under the secret's hash (who, since when, until when).
//!
//! Sessions are the engine's, not the web layer's, so every server instance over one store
//! sees the same sessions, signing out ends a session everywhere, and expiry follows the
//! engine's [`Clock`](crate::Clock). A session always ends: at its expiry, at sign-out,
//! when its user is disabled (the actor is checked at every use; disabling is final), and,
//! for a session opened with an access token, when that token is revoked or expires.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ids::UserId;

/// The prefix of every session secret, so a leaked one is easy to recognise.
pub const SESSION_PREFIX: &str = "imis_";

/// How long a session lasts when the caller names no lifetime: 8 hours (a working day).
pub const DEFAULT_SESSION_MINUTES: u32 = 8 * 60;

/// The longest a session may last: 24 hours.
pub const MAX_SESSION_MINUTES: u32 = 24 * 60;

/// A session secret in clear: handed to the browser once (in a cookie), never stored.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionSecret(String);

impl SessionSecret {
    pub(crate) fn from_bytes(bytes: &[u8; 32]) -> Self {
        let mut s = String::with_capacity(SESSION_PREFIX.len() + 64);
        s.push_str(SESSION_PREFIX);
        for b in bytes {
            s.push_str(&format!("{b:02x}"));
        }
        Self(s)
    }

    /// The secret's text, for the cookie.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The SHA-256 hash the session is stored under.
    pub(crate) fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.0.as_bytes()).into()
    }

    /// A value bound to this session and `purpose` that nobody without the secret can
    /// compute: the web layer's anti-forgery token for forms.
    pub fn derive(&self, purpose: &str) -> String {
        let mut h = Sha256::new();
        h.update(purpose.as_bytes());
        h.update([0]);
        h.update(self.0.as_bytes());
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Text that is not a session secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a session secret (`{SESSION_PREFIX}` and 64 hexadecimal digits)")]
pub struct BadSessionSecret;

impl FromStr for SessionSecret {
    type Err = BadSessionSecret;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok = s.len() == SESSION_PREFIX.len() + 64
            && s.starts_with(SESSION_PREFIX)
            && s[SESSION_PREFIX.len()..]
                .bytes()
                .all(|b| b.is_ascii_hexdigit());
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(BadSessionSecret)
        }
    }
}

impl fmt::Debug for SessionSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionSecret(…)")
    }
}

/// A session as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Whose session it is.
    pub user: UserId,
    /// When it began.
    pub created_at: DateTime<Utc>,
    /// When it ends.
    pub expires_at: DateTime<Utc>,
    /// The SHA-256 of the access token the user signed in with (hexadecimal), if any:
    /// the session lasts no longer than the token.
    #[serde(default)]
    pub token: Option<String>,
}
