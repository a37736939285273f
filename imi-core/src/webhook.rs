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

/// The key that seals recoverable secrets (webhook signing secrets) at rest: 32 bytes
/// from the operator's configuration, never stored beside the data. Written as 64 hex
/// digits.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey([u8; 32]);

impl SecretKey {
    /// A key from its bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
}

impl std::str::FromStr for SecretKey {
    type Err = WebhookError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(WebhookError::BadKey);
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte =
                u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| WebhookError::BadKey)?;
        }
        Ok(Self(out))
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(…)")
    }
}

/// A webhook secret sealed with a [`SecretKey`]: ChaCha20-Poly1305 with a random nonce,
/// bound to the webhook's id, authority and address (a sealed secret copied to another
/// webhook, or a stored address changed, does not open).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedSecret {
    /// The nonce, Base64.
    nonce: String,
    /// The ciphertext and tag, Base64.
    ciphertext: String,
}

impl WebhookSecret {
    /// Seals the secret with `key`, bound to `binding` (what it belongs to: the engine
    /// binds the webhook's id, authority and address), under a `nonce` that must never
    /// be used twice with the same key (take it from the operating system's generator).
    pub fn seal(&self, key: &SecretKey, binding: &[u8], nonce: [u8; 12]) -> SealedSecret {
        use chacha20poly1305::aead::{Aead, KeyInit, Payload};
        let cipher = chacha20poly1305::ChaCha20Poly1305::new(&key.0.into());
        let payload = Payload {
            msg: &self.0,
            aad: binding,
        };
        // Encryption fails only for inputs far beyond a secret's size.
        let ciphertext = cipher.encrypt(&nonce.into(), payload).unwrap_or_default();
        SealedSecret {
            nonce: BASE64.encode(nonce),
            ciphertext: BASE64.encode(ciphertext),
        }
    }

    /// Opens a secret sealed by [`WebhookSecret::seal`] with the same `binding`.
    pub fn unseal(
        sealed: &SealedSecret,
        key: &SecretKey,
        binding: &[u8],
    ) -> Result<Self, WebhookError> {
        use chacha20poly1305::aead::{Aead, KeyInit, Payload};
        let nonce: [u8; 12] = BASE64
            .decode(&sealed.nonce)
            .ok()
            .and_then(|n| n.try_into().ok())
            .ok_or(WebhookError::Unseal)?;
        let ciphertext = BASE64
            .decode(&sealed.ciphertext)
            .map_err(|_| WebhookError::Unseal)?;
        let cipher = chacha20poly1305::ChaCha20Poly1305::new(&key.0.into());
        let secret = cipher
            .decrypt(
                &nonce.into(),
                Payload {
                    msg: &ciphertext,
                    aad: binding,
                },
            )
            .map_err(|_| WebhookError::Unseal)?;
        Ok(Self(secret))
    }
}

/// Which endpoints webhooks may call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UrlPolicy {
    /// Also `http://` to this machine (a local bridge to a back-office system, tests).
    /// Never other private networks. Default `false`.
    pub allow_loopback: bool,
}

/// Whether `ip` is an address of the public internet: not loopback, private,
/// shared (carrier-grade NAT), link-local (cloud metadata services live at
/// 169.254.169.254), unique-local, multicast, broadcast, documentation, benchmarking,
/// reserved or unspecified; IPv4 addresses inside IPv6 (mapped, NAT64) are judged as
/// IPv4.
pub fn is_public_ip(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_unspecified()
                || v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 198 && (18..20).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_ip(IpAddr::V4(v4));
            }
            let s = v6.segments();
            if s[0] == 0x64 && s[1] == 0xff9b {
                let [a, b] = s[6].to_be_bytes();
                let [c, d] = s[7].to_be_bytes();
                return is_public_ip(IpAddr::V4(std::net::Ipv4Addr::new(a, b, c, d)));
            }
            !(v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || s[0] == 0x0100
                || (s[0] == 0 && s[1] == 0 && s[2] == 0 && s[3] == 0 && s[4] == 0 && s[5] == 0))
        }
    }
}

/// What is wrong with a webhook or a delivery.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// The endpoint is not acceptable.
    #[error(
        "the endpoint must be an https:// address of a public host (not a loopback, private, link-local or metadata address, nor a local name; http:// only to this machine where the server allows it), without user or password, at most 2000 characters"
    )]
    BadUrl,
    /// The server has no key to seal webhook secrets with.
    #[error(
        "the server has no key to protect webhook secrets at rest; its operator must configure one"
    )]
    NoKey,
    /// A key is not 64 hex digits.
    #[error("a secret key is 64 hex digits (32 bytes)")]
    BadKey,
    /// A sealed secret does not open with the configured key.
    #[error(
        "the webhook's secret does not open with the configured key (a different key, or damage)"
    )]
    Unseal,
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

/// Checks an endpoint address under the default policy: `https://` to a public host
/// only ([`check_url_with`]).
pub fn check_url(url: &str) -> Result<(), WebhookError> {
    check_url_with(url, UrlPolicy::default())
}

/// Checks an endpoint address: `https://` with a host that is neither an address outside
/// the public internet ([`is_public_ip`]) nor a local name (`localhost`, `*.local`,
/// `*.internal`, ...); `http://` only to this machine and only when `policy` allows it;
/// no credentials in it. A name may still resolve to a private address: deliveries
/// check the resolved addresses too.
pub fn check_url_with(url: &str, policy: UrlPolicy) -> Result<(), WebhookError> {
    if url.len() > 2000 || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(WebhookError::BadUrl);
    }
    let lower = url.to_ascii_lowercase();
    let (https, rest) = if let Some(r) = lower.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = lower.strip_prefix("http://") {
        (false, r)
    } else {
        return Err(WebhookError::BadUrl);
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') {
        return Err(WebhookError::BadUrl);
    }
    // The host without its port; IPv6 literals keep their brackets off.
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => h,
            _ => authority,
        }
    };
    if host.is_empty() {
        return Err(WebhookError::BadUrl);
    }
    let ip = host.parse::<std::net::IpAddr>().ok();
    let loopback = host == "localhost" || ip.is_some_and(|ip| ip.is_loopback());
    if !https {
        return if policy.allow_loopback && loopback {
            Ok(())
        } else {
            Err(WebhookError::BadUrl)
        };
    }
    if loopback {
        return if policy.allow_loopback {
            Ok(())
        } else {
            Err(WebhookError::BadUrl)
        };
    }
    match ip {
        Some(ip) if !is_public_ip(ip) => return Err(WebhookError::BadUrl),
        Some(_) => {}
        None => {
            let name = host.trim_end_matches('.');
            // Numeric hosts in forms other than the strict dotted quad (`127.1`,
            // `0177.0.0.1`, `127.0.0.1.`) are addresses to some resolvers: refused.
            if name.chars().all(|c| c.is_ascii_digit() || c == '.')
                || name.parse::<std::net::IpAddr>().is_ok()
            {
                return Err(WebhookError::BadUrl);
            }
            let local = !name.contains('.')
                || [
                    ".localhost",
                    ".local",
                    ".internal",
                    ".home.arpa",
                    ".lan",
                    ".intranet",
                ]
                .iter()
                .any(|suffix| name.ends_with(suffix))
                || name.parse::<u32>().is_ok()
                || name.starts_with("0x");
            if local {
                return Err(WebhookError::BadUrl);
            }
        }
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
    /// The signing secret: only in the answer to its registration (it is stored sealed,
    /// and listings never show it).
    pub secret: Option<WebhookSecret>,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
}

/// A webhook as stored: its secret sealed with the server's [`SecretKey`] (or, in stores
/// from before sealing, in clear).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StoredWebhook {
    pub(crate) id: WebhookId,
    pub(crate) authority: AuthorityId,
    pub(crate) url: String,
    pub(crate) topics: BTreeSet<Topic>,
    pub(crate) created_at: DateTime<Utc>,
    /// Stores from before sealing kept the secret in clear.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) secret: Option<WebhookSecret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) sealed_secret: Option<SealedSecret>,
}

impl StoredWebhook {
    /// The webhook as listed: without its secret.
    pub(crate) fn listed(&self) -> Webhook {
        Webhook {
            id: self.id,
            authority: self.authority,
            url: self.url.clone(),
            topics: self.topics.clone(),
            secret: None,
            created_at: self.created_at,
        }
    }

    /// What its sealed secret is bound to: its id, authority and address.
    pub(crate) fn binding(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(32 + self.url.len());
        out.extend_from_slice(self.id.as_bytes());
        out.extend_from_slice(self.authority.as_bytes());
        out.extend_from_slice(self.url.as_bytes());
        out
    }

    /// Its signing secret, opened with `key`.
    pub(crate) fn open(&self, key: Option<&SecretKey>) -> Result<WebhookSecret, WebhookError> {
        match (&self.sealed_secret, &self.secret, key) {
            (Some(sealed), _, Some(key)) => WebhookSecret::unseal(sealed, key, &self.binding()),
            (Some(_), _, None) => Err(WebhookError::NoKey),
            (None, Some(clear), _) => Ok(clear.clone()),
            (None, None, _) => Err(WebhookError::Unseal),
        }
    }
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
    // No overflow for any timestamp a sender may write.
    let distance = now.timestamp().abs_diff(ts);
    if distance > TOLERANCE_SECONDS.unsigned_abs() {
        let seconds = i64::try_from(distance).unwrap_or(i64::MAX);
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
        let local = UrlPolicy {
            allow_loopback: true,
        };
        for ok in [
            "https://backoffice.example.eu/imi/hooks",
            "https://93.184.216.34:8443/x",
            "https://[2a00:1450:4001::1]/x",
        ] {
            assert_eq!(check_url(ok), Ok(()), "{ok}");
        }
        for ok in [
            "http://127.0.0.1:9000/hook",
            "http://localhost/hook",
            "http://[::1]:80/",
        ] {
            assert_eq!(check_url_with(ok, local), Ok(()), "{ok}");
            assert_eq!(check_url(ok), Err(WebhookError::BadUrl), "{ok}");
        }
        for bad in [
            "http://backoffice.example.eu/hook",
            "ftp://x.eu/",
            "https://",
            "https://user:pw@x.eu/",
            "https://x.eu/a b",
            "http://127.0.0.1.evil.eu/",
            "127.0.0.1:80",
            // Private, link-local, metadata and local names, even over https.
            "https://10.0.0.7:8443/x",
            "https://192.168.1.1/",
            "https://172.16.5.4/",
            "https://169.254.169.254/latest/meta-data/",
            "https://100.64.0.1/",
            "https://[fd00::1]/",
            "https://[fe80::1]/",
            "https://[::ffff:10.0.0.1]/",
            "https://[64:ff9b::a00:1]/",
            "https://0.0.0.0/",
            "https://metadata.google.internal/",
            "https://printer.local/",
            "https://intranet/",
            "https://2130706433/",
            "https://0x7f000001/",
            "https://127.1/",
            "https://0177.0.0.1/",
            "https://127.0.0.1./",
            "https://8.8.8.8./",
        ] {
            assert_eq!(
                check_url_with(bad, local),
                Err(WebhookError::BadUrl),
                "{bad}"
            );
        }
        assert_eq!(check_url("https://127.0.0.1/"), Err(WebhookError::BadUrl));
        assert_eq!(check_url_with("https://127.0.0.1/", local), Ok(()));
    }

    #[test]
    fn sealed_secrets_open_only_with_their_key_and_webhook() {
        let key: SecretKey = "11".repeat(32).parse().unwrap();
        let other: SecretKey = "22".repeat(32).parse().unwrap();
        let id = crate::IdGenerator::seeded(1).webhook("2026-11-22T09:00:00Z".parse().unwrap());
        let elsewhere =
            crate::IdGenerator::seeded(2).webhook("2026-11-22T09:00:00Z".parse().unwrap());
        let secret = WebhookSecret::from_bytes(&[7; 32]);
        let sealed = secret.seal(&key, id.as_bytes(), [3; 12]);
        assert!(!format!("{sealed:?}").contains(&BASE64.encode([7u8; 32])));
        assert_eq!(
            WebhookSecret::unseal(&sealed, &key, id.as_bytes()),
            Ok(secret)
        );
        assert_eq!(
            WebhookSecret::unseal(&sealed, &other, id.as_bytes()),
            Err(WebhookError::Unseal)
        );
        assert_eq!(
            WebhookSecret::unseal(&sealed, &key, elsewhere.as_bytes()),
            Err(WebhookError::Unseal)
        );
        assert!("xyz".parse::<SecretKey>().is_err());
        assert_eq!(format!("{key:?}"), "SecretKey(…)");
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
