//! Typed identifiers (UUID v7) and human reference numbers for cases.
//!
//! Every kind of entity has its own id type, so an [`AuthorityId`] can never be passed
//! where a [`UserId`] is expected. Ids are UUID version 7: time-ordered, so records created
//! together sit together in ordered stores. They are minted by an [`IdGenerator`] from the
//! engine's [`Clock`](crate::clock::Clock) time, with random bits either from the operating
//! system or, for reproducible tests, from a seed.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Why an id or reference number could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Not a UUID at all.
    #[error("`{text}` is not a valid {kind} id (expected a UUID)")]
    Malformed {
        /// Which kind of id was expected.
        kind: &'static str,
        /// The offending text.
        text: String,
    },
    /// A UUID, but not version 7.
    #[error("`{text}` is not a valid {kind} id (expected UUID version 7, found version {version})")]
    WrongVersion {
        /// Which kind of id was expected.
        kind: &'static str,
        /// The offending text.
        text: String,
        /// The version found.
        version: usize,
    },
    /// Not a reference number of the form `YYYY-NNNNNN`.
    #[error("`{text}` is not a case reference (expected YEAR-NUMBER, e.g. 2026-000042)")]
    BadReference {
        /// The offending text.
        text: String,
    },
}

macro_rules! define_id {
    ($(#[$meta:meta])* $name:ident, $kind:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// What this id names, for messages.
            pub const KIND: &'static str = $kind;

            /// Wraps a UUID; fails unless it is version 7.
            pub fn from_uuid(uuid: Uuid) -> Result<Self, IdError> {
                match uuid.get_version_num() {
                    7 => Ok(Self(uuid)),
                    version => Err(IdError::WrongVersion {
                        kind: $kind,
                        text: uuid.to_string(),
                        version,
                    }),
                }
            }

            /// The underlying UUID.
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }

            /// The 16 bytes of the UUID, which sort in creation order.
            pub const fn as_bytes(&self) -> &[u8; 16] {
                self.0.as_bytes()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl FromStr for $name {
            type Err = IdError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let uuid = Uuid::try_parse(s.trim()).map_err(|_| IdError::Malformed {
                    kind: $kind,
                    text: s.to_owned(),
                })?;
                Self::from_uuid(uuid)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Self::from_uuid(Uuid::deserialize(d)?).map_err(serde::de::Error::custom)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }
    };
}

define_id!(
    /// Identifies a competent authority (or coordinator, which is an authority too).
    AuthorityId,
    "authority"
);
define_id!(
    /// Identifies a user, a person working for one authority.
    UserId,
    "user"
);
define_id!(
    /// Identifies a case: a request, an alert, a notification or a public submission.
    CaseId,
    "case"
);

define_id!(
    /// Identifies an attachment (a file stored in chunks).
    AttachmentId,
    "attachment"
);

define_id!(
    /// Identifies an entry of the directory of national registers.
    RegisterId,
    "register"
);

define_id!(
    /// Identifies a record of a repository.
    RecordId,
    "record"
);

define_id!(
    /// Identifies an API token (never its secret: listing and revoking use this).
    TokenId,
    "token"
);

define_id!(
    /// Identifies a webhook an authority registered.
    WebhookId,
    "webhook"
);

/// Mints UUID v7 ids from a time given by the caller.
///
/// The 48-bit timestamp comes from the engine's clock; the 74 other free bits are random.
/// [`IdGenerator::random`] draws them from the operating system, [`IdGenerator::seeded`]
/// from a deterministic sequence, so test runs can compare worlds id for id.
///
/// Ids from one generator strictly increase (RFC 9562 §6.2, monotonic random): when the
/// clock stands still or steps back, the next id is the last one plus a random step, so
/// a burst of ids within one millisecond still lands at the end of every index (B-tree
/// appends, not random inserts).
#[derive(Debug)]
pub struct IdGenerator {
    source: RandomSource,
    /// The last id issued, as its 122 free bits (timestamp, then random bits).
    last: std::sync::Mutex<u128>,
}

#[derive(Debug)]
enum RandomSource {
    Os,
    Seeded(AtomicU64),
}

impl IdGenerator {
    /// Random bits from the operating system's generator (the default for real use).
    pub fn random() -> Self {
        Self {
            source: RandomSource::Os,
            last: std::sync::Mutex::new(0),
        }
    }

    /// Deterministic bits from `seed`: the same seed and the same times give the same ids.
    pub fn seeded(seed: u64) -> Self {
        Self {
            source: RandomSource::Seeded(AtomicU64::new(seed)),
            last: std::sync::Mutex::new(0),
        }
    }

    fn random_bytes(&self) -> [u8; 10] {
        match &self.source {
            RandomSource::Os => {
                let v4 = Uuid::new_v4();
                let mut out = [0; 10];
                out.copy_from_slice(&v4.as_bytes()[..10]);
                out
            }
            RandomSource::Seeded(state) => {
                let a = splitmix64(state.fetch_add(GOLDEN_GAMMA, Ordering::Relaxed));
                let b = splitmix64(a);
                let mut out = [0; 10];
                out[..8].copy_from_slice(&a.to_le_bytes());
                out[8..].copy_from_slice(&b.to_le_bytes()[..2]);
                out
            }
        }
    }

    fn uuid(&self, at: DateTime<Utc>) -> Uuid {
        // Times before 1970 clamp to 0: ids stay valid, only their order is approximate.
        let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0) & ((1 << 48) - 1);
        let random = self.random_bytes();
        let mut r = [0u8; 16];
        r[6..].copy_from_slice(&random);
        let random = u128::from_be_bytes(r) & ((1 << 74) - 1);
        let candidate = (u128::from(millis) << 74) | random;
        let mut last = self
            .last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let next = if candidate > *last {
            candidate
        } else {
            // Same millisecond (or the clock stepped back): a random step of up to 2^32
            // keeps ids increasing and still hard to guess.
            last.saturating_add(1 + (random & 0xFFFF_FFFF))
        };
        *last = next;
        drop(last);
        let ts = (next >> 74) as u64;
        let rand_a = ((next >> 62) & 0xFFF) as u16;
        let rand_b = (next & ((1 << 62) - 1)) as u64;
        let mut bytes = [0u8; 16];
        bytes[..6].copy_from_slice(&ts.to_be_bytes()[2..]);
        bytes[6..8].copy_from_slice(&(0x7000 | rand_a).to_be_bytes());
        bytes[8..].copy_from_slice(&((2u64 << 62) | rand_b).to_be_bytes());
        Uuid::from_bytes(bytes)
    }

    /// 32 bytes for a secret (token, invitation, webhook secret): straight from the
    /// operating system's cryptographic generator, or, for a seeded generator,
    /// predictable (seeded generators are for tests only). Fails only when the operating
    /// system cannot give random bytes.
    pub fn secret(&self) -> Result<[u8; 32], SecretError> {
        let mut out = [0u8; 32];
        match &self.source {
            RandomSource::Os => {
                getrandom::fill(&mut out).map_err(|e| SecretError(e.to_string()))?;
            }
            RandomSource::Seeded(state) => {
                for chunk in out.chunks_mut(8) {
                    let bytes =
                        splitmix64(state.fetch_add(GOLDEN_GAMMA, Ordering::Relaxed)).to_le_bytes();
                    chunk.copy_from_slice(&bytes);
                }
            }
        }
        Ok(out)
    }

    /// A new token id.
    pub fn token(&self, at: DateTime<Utc>) -> TokenId {
        TokenId(self.uuid(at))
    }

    /// A new authority id.
    pub fn authority(&self, at: DateTime<Utc>) -> AuthorityId {
        AuthorityId(self.uuid(at))
    }

    /// A new user id.
    pub fn user(&self, at: DateTime<Utc>) -> UserId {
        UserId(self.uuid(at))
    }

    /// A new attachment id.
    pub fn attachment(&self, at: DateTime<Utc>) -> AttachmentId {
        AttachmentId(self.uuid(at))
    }

    /// A new register id.
    pub fn register(&self, at: DateTime<Utc>) -> RegisterId {
        RegisterId(self.uuid(at))
    }

    /// A new case id.
    pub fn case(&self, at: DateTime<Utc>) -> CaseId {
        CaseId(self.uuid(at))
    }

    /// A new webhook id.
    pub fn webhook(&self, at: DateTime<Utc>) -> WebhookId {
        WebhookId(self.uuid(at))
    }

    /// A new repository record id.
    pub fn record(&self, at: DateTime<Utc>) -> RecordId {
        RecordId(self.uuid(at))
    }
}

/// The operating system could not give random bytes for a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the operating system's random generator failed: {0}")]
pub struct SecretError(String);

const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(GOLDEN_GAMMA);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A case's human reference number, e.g. `2026-000042`: the year the case was created and
/// a number counted per year. People quote it on the phone; the [`CaseId`] stays the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CaseReference {
    year: u16,
    number: u32,
}

impl CaseReference {
    /// A reference from its parts. Years before 2008 (when IMI started) or after 9999, and
    /// number 0, are refused.
    pub fn new(year: u16, number: u32) -> Result<Self, IdError> {
        if !(2008..=9999).contains(&year) || number == 0 {
            return Err(IdError::BadReference {
                text: format!("{year}-{number}"),
            });
        }
        Ok(Self { year, number })
    }

    /// The year of creation.
    pub fn year(self) -> u16 {
        self.year
    }

    /// The number within the year, from 1.
    pub fn number(self) -> u32 {
        self.number
    }
}

impl fmt::Display for CaseReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:06}", self.year, self.number)
    }
}

impl FromStr for CaseReference {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || IdError::BadReference { text: s.to_owned() };
        let (year, number) = s.trim().split_once('-').ok_or_else(bad)?;
        let all_digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if year.len() != 4 || !all_digits(year) || !all_digits(number) {
            return Err(bad());
        }
        let year = year.parse().map_err(|_| bad())?;
        let number = number.parse().map_err(|_| bad())?;
        CaseReference::new(year, number).map_err(|_| bad())
    }
}

impl Serialize for CaseReference {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CaseReference {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_790_000_000 + secs, 0).single().unwrap()
    }

    #[test]
    fn ids_are_v7_and_round_trip() {
        let ids = IdGenerator::random();
        let a = ids.authority(t(0));
        assert_eq!(a.as_uuid().get_version_num(), 7);
        assert_eq!(a.to_string().parse::<AuthorityId>(), Ok(a));
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<AuthorityId>(&json).unwrap(), a);
    }

    #[test]
    fn ids_increase_within_one_millisecond_and_when_the_clock_steps_back() {
        for ids in [IdGenerator::random(), IdGenerator::seeded(7)] {
            let mut last = ids.case(t(5));
            for i in 0..10_000 {
                let at = if i % 100 == 0 { t(4) } else { t(5) };
                let next = ids.case(at);
                assert!(next.as_bytes() > last.as_bytes(), "{last} then {next}");
                assert_eq!(next.as_uuid().get_version_num(), 7);
                assert_eq!(next.as_uuid().get_variant(), uuid::Variant::RFC4122);
                let (secs, _) = next.as_uuid().get_timestamp().unwrap().to_unix();
                assert_eq!(secs, 1_790_000_005, "the timestamp stays the clock's");
                last = next;
            }
        }
    }

    #[test]
    fn ids_sort_by_creation_time() {
        let ids = IdGenerator::random();
        let earlier = ids.case(t(0));
        let later = ids.case(t(1));
        assert!(earlier < later);
        assert!(earlier.as_bytes() < later.as_bytes());
    }

    #[test]
    fn seeded_ids_are_reproducible_and_distinct() {
        let a = IdGenerator::seeded(7);
        let b = IdGenerator::seeded(7);
        let from_a: Vec<_> = (0..100).map(|_| a.user(t(0))).collect();
        let from_b: Vec<_> = (0..100).map(|_| b.user(t(0))).collect();
        assert_eq!(from_a, from_b);
        let mut unique = from_a.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 100);
        assert_ne!(IdGenerator::seeded(8).user(t(0)), from_a[0]);
    }

    #[test]
    fn malformed_and_non_v7_ids_are_refused() {
        assert!(matches!(
            "nope".parse::<UserId>(),
            Err(IdError::Malformed { kind: "user", .. })
        ));
        let v4 = Uuid::new_v4().to_string();
        assert!(matches!(
            v4.parse::<CaseId>(),
            Err(IdError::WrongVersion { version: 4, .. })
        ));
        let json = format!("\"{v4}\"");
        assert!(serde_json::from_str::<CaseId>(&json).is_err());
    }

    #[test]
    fn case_references_format_and_parse() {
        let r = CaseReference::new(2026, 42).unwrap();
        assert_eq!(r.to_string(), "2026-000042");
        assert_eq!("2026-000042".parse::<CaseReference>(), Ok(r));
        assert_eq!(
            "2026-1234567".parse::<CaseReference>().unwrap().number(),
            1_234_567
        );
        for bad in [
            "", "2026", "2026-", "26-1", "2026-0", "1999-5", "2026-x1", "+026-1", "2026--1",
        ] {
            assert!(bad.parse::<CaseReference>().is_err(), "{bad:?}");
        }
        assert_eq!(serde_json::to_string(&r).unwrap(), "\"2026-000042\"");
    }
}
