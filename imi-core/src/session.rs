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
        derive_from(&self.0, purpose)
    }
}

/// SHA-256 of `purpose`, a zero byte and `secret`, in hexadecimal: a value bound to both
/// that reveals neither.
pub(crate) fn derive_from(secret: &str, purpose: &str) -> String {
    let mut h = Sha256::new();
    h.update(purpose.as_bytes());
    h.update([0]);
    h.update(secret.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
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

/// One attempt to sign in through a single sign-on service (OpenID Connect's authorization
/// code flow with PKCE, RFC 7636): values made fresh for the attempt, kept by the browser
/// until the service sends it back, and checked then. `state` ties the answer to the
/// attempt, `nonce` ties the identity token to it, and `verifier` proves to the service
/// that the code is redeemed by whoever asked for it.
#[derive(Clone, PartialEq, Eq)]
pub struct SignOnAttempt {
    /// Sent to the service and compared with what it sends back.
    pub state: String,
    /// Sent to the service; its identity token must carry it.
    pub nonce: String,
    /// Kept here; its hash (the challenge) is sent, it is shown when redeeming.
    pub verifier: String,
}

impl fmt::Debug for SignOnAttempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SignOnAttempt(…)")
    }
}

impl SignOnAttempt {
    /// An attempt from 96 random bytes (from [`crate::IdGenerator::secret`], three
    /// times): state, nonce and verifier as 64 hexadecimal digits each (a verifier of 64
    /// unreserved characters, as RFC 7636 asks).
    pub fn from_random(state: &[u8; 32], nonce: &[u8; 32], verifier: &[u8; 32]) -> Self {
        let hex = |b: &[u8; 32]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        Self {
            state: hex(state),
            nonce: hex(nonce),
            verifier: hex(verifier),
        }
    }

    /// The PKCE challenge (method `S256`): the verifier's SHA-256, base64url without
    /// padding.
    pub fn challenge(&self) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(Sha256::digest(self.verifier.as_bytes()))
    }

    /// The attempt as one cookie value (`state.nonce.verifier`).
    pub fn to_cookie(&self) -> String {
        format!("{}.{}.{}", self.state, self.nonce, self.verifier)
    }

    /// The attempt back from [`SignOnAttempt::to_cookie`]'s value; `None` for anything
    /// else.
    pub fn from_cookie(value: &str) -> Option<Self> {
        let mut parts = value.split('.');
        let (Some(state), Some(nonce), Some(verifier), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let hex64 = |s: &str| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit());
        (hex64(state) && hex64(nonce) && hex64(verifier)).then(|| Self {
            state: state.to_owned(),
            nonce: nonce.to_owned(),
            verifier: verifier.to_owned(),
        })
    }
}

/// Why a single sign-on failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignOnError {
    /// The service could not be reached or failed.
    #[error("the sign-on service is unavailable: {0}")]
    Unavailable(String),
    /// The service's answer does not prove who signed in (a bad or expired code, an
    /// identity token that is not valid for this attempt, no imi user named).
    #[error("the sign-on was refused: {0}")]
    Refused(String),
}

/// A single sign-on service the web application sends people to, such as the
/// Commission's EU Login: OpenID Connect's authorization code flow with PKCE. The edge
/// implements it (addresses, HTTP, keys and tokens: `imi_http::oidc::OidcSignOn`); the
/// engine then opens a session for the user it names, as for any other sign-in.
#[async_trait::async_trait]
pub trait SignOn: Send + Sync {
    /// The service's name, for the sign-in page ("EU Login").
    fn name(&self) -> &str;

    /// Where to send the browser for `attempt`: the service's authorization address with
    /// the attempt's state, nonce and challenge.
    async fn authorization_url(&self, attempt: &SignOnAttempt) -> Result<String, SignOnError>;

    /// Redeems the `code` the service sent back for `attempt`: the imi user the signed-in
    /// person is.
    async fn redeem(&self, code: &str, attempt: &SignOnAttempt) -> Result<UserId, SignOnError>;
}

#[cfg(test)]
mod sign_on_tests {
    use super::*;

    #[test]
    fn the_challenge_is_rfc_7636s() {
        // RFC 7636 appendix B.
        let a = SignOnAttempt {
            state: String::new(),
            nonce: String::new(),
            verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into(),
        };
        assert_eq!(a.challenge(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn an_attempt_survives_its_cookie_and_nothing_else_passes() {
        let a = SignOnAttempt::from_random(&[1; 32], &[2; 32], &[3; 32]);
        assert_eq!(SignOnAttempt::from_cookie(&a.to_cookie()), Some(a.clone()));
        assert_eq!(a.verifier.len(), 64);
        for bad in [
            "",
            "a.b.c",
            &format!("{}.x", a.to_cookie()),
            &a.to_cookie()[1..],
        ] {
            assert_eq!(SignOnAttempt::from_cookie(bad), None, "{bad}");
        }
    }
}
