//! Webhooks for system-to-system integration: an authority registers an endpoint, and
//! every announcement to it is POSTed there as JSON, signed.
//!
//! The signature follows the Standard Webhooks specification, so existing verifier
//! libraries work:
//!
//! - `webhook-id`: the message's idempotency key (the same on every retry);
//! - `webhook-timestamp`: seconds since the Unix epoch when it was sent;
//! - `webhook-signature`: `v1,` and the Base64 of HMAC-SHA256 over
//!   `{webhook-id}.{webhook-timestamp}.{body}`, keyed with the secret's bytes (the
//!   secret is shown as `whsec_` and their Base64).
//!
//! **The check a receiver does** ([`verify`]): recompute the signature and compare it in
//! constant time (a forged body, id or timestamp fails); refuse timestamps more than
//! [`TOLERANCE_SECONDS`] away from its clock (an old capture replayed later fails); and
//! drop a `webhook-id` it has already processed (a replay within the tolerance, or a
//! retry of a delivery it already took).

use std::collections::BTreeSet;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::ids::{AuthorityId, WebhookId};
use crate::outbox::{Message, Topic};

/// How far a webhook's timestamp may be from the receiver's clock, in seconds.
pub const TOLERANCE_SECONDS: i64 = 300;

/// The prefix of a shown secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// A webhook's signing secret: 32 random bytes. Its `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Vec<u8>);

impl WebhookSecret {
    pub(crate) fn from_bytes(bytes: &[u8; 32]) -> Self {
        Self(bytes.to_vec())
    }

    /// The secret as shown to the authority once: `whsec_` and Base64.
    pub fn expose(&self) -> String {
        format!("{SECRET_PREFIX}{}", BASE64.encode(&self.0))
    }
}

impl std::str::FromStr for WebhookSecret {
    type Err = WebhookError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let b64 = s.strip_prefix(SECRET_PREFIX).unwrap_or(s);
        let bytes = BASE64.decode(b64).map_err(|_| WebhookError::BadSecret)?;
        if bytes.len() < 16 {
            return Err(WebhookError::BadSecret);
        }
        Ok(Self(bytes))
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(…)")
    }
}

impl Serialize for WebhookSecret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.expose())
    }
}

impl<'de> Deserialize<'de> for WebhookSecret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// What is wrong with a webhook or a delivery.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// The endpoint is not acceptable.
    #[error(
        "the endpoint must be an https:// address (http:// only to this machine), without user or password, at most 2000 characters"
    )]
    BadUrl,
    /// The secret is not `whsec_` and Base64 of at least 16 bytes.
    #[error("not a webhook secret")]
    BadSecret,
    /// The `webhook-timestamp` is not a number.
    #[error("the webhook-timestamp header is not a Unix time")]
    BadTimestamp,
    /// The timestamp is too far from now: an old (replayed) or a forged delivery.
    #[error("the delivery's timestamp is {seconds} s away from now (at most {TOLERANCE_SECONDS})")]
    OutsideTolerance {
        /// How far it is.
        seconds: i64,
    },
    /// No signature matches: the body, id or timestamp was changed, or the secret is
    /// another.
    #[error("no signature matches")]
    BadSignature,
    /// The authority has as many webhooks as it may.
    #[error("an authority may register at most {most} webhooks")]
    TooMany {
        /// The limit.
        most: usize,
    },
}

/// Checks an endpoint address: `https://` with a host, or `http://` to this machine only
/// (for tests and local bridges); no credentials in it.
pub fn check_url(url: &str) -> Result<(), WebhookError> {
    let rest = if let Some(r) = url.strip_prefix("https://") {
        r
    } else if let Some(r) = url.strip_prefix("http://") {
        let host = r.split(['/', '?', '#']).next().unwrap_or("");
        let host = host.rsplit_once(':').map_or(host, |(h, p)| {
            if p.chars().all(|c| c.is_ascii_digit()) {
                h
            } else {
                host
            }
        });
        if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
            return Err(WebhookError::BadUrl);
        }
        r
    } else {
        return Err(WebhookError::BadUrl);
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty()
        || authority.contains('@')
        || url.len() > 2000
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(WebhookError::BadUrl);
    }
    Ok(())
}

/// An endpoint an authority registered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Webhook {
    /// Its id.
    pub id: WebhookId,
    /// The authority whose announcements it receives.
    pub authority: AuthorityId,
    /// Where deliveries are POSTed.
    pub url: String,
    /// The topics it receives; empty: every topic.
    pub topics: BTreeSet<Topic>,
    /// The signing secret.
    pub secret: WebhookSecret,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
}

impl Webhook {
    /// Whether it receives announcements of `topic`.
    pub fn wants(&self, topic: Topic) -> bool {
        self.topics.is_empty() || self.topics.contains(&topic)
    }
}

/// The JSON body POSTed for a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    /// The topic, e.g. `request-received`.
    #[serde(rename = "type")]
    pub kind: Topic,
    /// The idempotency key (also the `webhook-id` header).
    pub id: String,
    /// The announcement.
    pub announcement: String,
    /// Which attempt, from 1.
    pub attempt: u32,
    /// Whether an earlier attempt may have arrived.
    pub possible_duplicate: bool,
    /// The subject line, in the authority's language.
    pub subject: String,
    /// The path of the thing in the HTTP API.
    pub link: String,
}

/// The body of `message` as a webhook delivery.
pub fn payload(message: &Message) -> Vec<u8> {
    let p = Payload {
        kind: message.topic,
        id: message.idempotency_key.clone(),
        announcement: message.announcement.to_string(),
        attempt: message.attempt,
        possible_duplicate: message.possible_duplicate,
        subject: message.subject.clone(),
        link: message.link.clone(),
    };
    serde_json::to_vec(&p).unwrap_or_default()
}

/// HMAC-SHA-256 (RFC 2104) of the concatenated `parts`, by the `hmac` crate.
fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    use hmac::{KeyInit, Mac};
    // HMAC takes keys of any length; `new_from_slice` never fails for it.
    let Ok(mut mac) = hmac::Hmac::<Sha256>::new_from_slice(key) else {
        return [0; 32];
    };
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// The `webhook-signature` value for a delivery: `v1,` and the Base64 HMAC.
pub fn sign(secret: &WebhookSecret, id: &str, timestamp: i64, body: &[u8]) -> String {
    let ts = timestamp.to_string();
    let mac = hmac_sha256(&secret.0, &[id.as_bytes(), b".", ts.as_bytes(), b".", body]);
    format!("v1,{}", BASE64.encode(mac))
}

/// The documented check of a delivery (see the module documentation): the signature,
/// then the timestamp's distance from `now`. Dropping ids already seen is the
/// receiver's part.
pub fn verify(
    secret: &WebhookSecret,
    id: &str,
    timestamp: &str,
    signatures: &str,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<(), WebhookError> {
    let ts: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| WebhookError::BadTimestamp)?;
    // Several space-separated signatures may be sent (during a secret's rotation); each
    // is compared in constant time by the `hmac` crate.
    let ts_text = ts.to_string();
    let matches = signatures.split_whitespace().any(|s| {
        use hmac::{KeyInit, Mac};
        let Some(mac) = s.strip_prefix("v1,").and_then(|b| BASE64.decode(b).ok()) else {
            return false;
        };
        let Ok(mut check) = hmac::Hmac::<Sha256>::new_from_slice(&secret.0) else {
            return false;
        };
        for part in [id.as_bytes(), b".", ts_text.as_bytes(), b".", body] {
            check.update(part);
        }
        check.verify_slice(&mac).is_ok()
    });
    if !matches {
        return Err(WebhookError::BadSignature);
    }
    let seconds = (now.timestamp() - ts).abs();
    if seconds > TOLERANCE_SECONDS {
        return Err(WebhookError::OutsideTolerance { seconds });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 1.
        assert_eq!(
            hex(&hmac_sha256(&[0x0b; 20], &[b"Hi There"])),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        // Test case 2 (a short key), in two parts.
        assert_eq!(
            hex(&hmac_sha256(
                b"Jefe",
                &[b"what do ya want ", b"for nothing?"]
            )),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6 (a key longer than a block).
        assert_eq!(
            hex(&hmac_sha256(
                &[0xaa; 131],
                &[b"Test Using Larger Than Block-Size Key - Hash Key First"]
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn the_standard_webhooks_example_verifies() {
        // The example of the Standard Webhooks specification.
        let secret: WebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse().unwrap();
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = br#"{"test": 2432232314}"#;
        let sig = sign(&secret, id, 1_614_265_330, body);
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        let now = DateTime::from_timestamp(1_614_265_330 + 10, 0).unwrap();
        assert_eq!(verify(&secret, id, "1614265330", &sig, body, now), Ok(()));
    }

    #[test]
    fn forged_and_replayed_deliveries_are_detected() {
        let secret = WebhookSecret::from_bytes(&[7; 32]);
        let other = WebhookSecret::from_bytes(&[8; 32]);
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let ts = now.timestamp();
        let body = b"{\"type\":\"request-received\"}";
        let sig = sign(&secret, "a:b", ts, body);
        assert_eq!(
            verify(&secret, "a:b", &ts.to_string(), &sig, body, now),
            Ok(())
        );
        // Forged: another body, id, timestamp or key.
        let bad = |r| assert_eq!(r, Err(WebhookError::BadSignature));
        bad(verify(&secret, "a:b", &ts.to_string(), &sig, b"{}", now));
        bad(verify(&secret, "a:c", &ts.to_string(), &sig, body, now));
        bad(verify(
            &secret,
            "a:b",
            &(ts + 1).to_string(),
            &sig,
            body,
            now,
        ));
        bad(verify(&other, "a:b", &ts.to_string(), &sig, body, now));
        bad(verify(
            &secret,
            "a:b",
            &ts.to_string(),
            "v1,AAAA",
            body,
            now,
        ));
        // Replayed later: the signature holds, the timestamp does not.
        let later = now + chrono::Duration::seconds(TOLERANCE_SECONDS + 1);
        assert!(matches!(
            verify(&secret, "a:b", &ts.to_string(), &sig, body, later),
            Err(WebhookError::OutsideTolerance { .. })
        ));
        assert_eq!(
            verify(&secret, "a:b", "soon", &sig, body, now),
            Err(WebhookError::BadTimestamp)
        );
        // Rotation: any of several signatures may match.
        let both = format!("{} {sig}", sign(&other, "a:b", ts, body));
        assert_eq!(
            verify(&secret, "a:b", &ts.to_string(), &both, body, now),
            Ok(())
        );
    }

    #[test]
    fn endpoints_are_https_or_this_machine() {
        for ok in [
            "https://backoffice.example.eu/imi/hooks",
            "https://10.0.0.7:8443/x",
            "http://127.0.0.1:9000/hook",
            "http://localhost/hook",
            "http://[::1]:80/",
        ] {
            assert_eq!(check_url(ok), Ok(()), "{ok}");
        }
        for bad in [
            "http://backoffice.example.eu/hook",
            "ftp://x.eu/",
            "https://",
            "https://user:pw@x.eu/",
            "https://x.eu/a b",
            "http://127.0.0.1.evil.eu/",
            "127.0.0.1:80",
        ] {
            assert_eq!(check_url(bad), Err(WebhookError::BadUrl), "{bad}");
        }
    }

    #[test]
    fn secrets_round_trip_and_hide() {
        let s = WebhookSecret::from_bytes(&[1; 32]);
        assert!(s.expose().starts_with("whsec_"));
        assert_eq!(s.expose().parse::<WebhookSecret>().unwrap(), s);
        assert_eq!(format!("{s:?}"), "WebhookSecret(…)");
        assert!("whsec_!!".parse::<WebhookSecret>().is_err());
        assert!("whsec_AAAA".parse::<WebhookSecret>().is_err());
    }
}
