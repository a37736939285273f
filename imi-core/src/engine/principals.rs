//! The engine's cache of directory facts: who a token belongs to, what a user may do,
//! authority documents and lookups in the directory's term index, kept so that
//! authenticating a request, reading a directory entry or searching costs few store reads
//! (and no decoding) when nothing changed.
//!
//! Correctness comes from the store, not from timing:
//! - the engine's store is wrapped in [`Watched`], which counts every commit that puts
//!   or deletes an authority, a user, a token or a directory term-index entry, whatever
//!   the engine method (commits made straight through
//!   [`Engine::store`](super::Engine::store) too);
//! - an entry remembers the count *before* its documents were read, and is used only
//!   while the count is unchanged, so a change committed while an entry was being made
//!   invalidates it too;
//! - entries also expire after a time to live (by the engine's clock), which bounds how
//!   long a change made by *another* engine on the same store (another process) goes
//!   unseen. `Duration::ZERO` turns the cache off.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::access::Actor;
use crate::authority::Authority;
use crate::ids::{AuthorityId, UserId};
use crate::keys::Space;
use crate::store::{Mutation, Scan, ScanPage, Store, StoreError, Version, Versioned, WriteBatch};

/// How long a cached entry (an acting user, an authority, a directory-index lookup) stays
/// valid when nothing changed it through this engine: the longest time a change made
/// through another engine on the same store can go unseen.
pub const DEFAULT_PRINCIPAL_TTL: std::time::Duration = std::time::Duration::from_secs(2);

/// At most this many entries are cached; a full cache drops an arbitrary eighth of them.
const CAPACITY: usize = 16_384;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Subject {
    /// A token, by the SHA-256 of its secret.
    Token([u8; 32]),
    /// A user, by id.
    User(UserId),
    /// An authority document, by id.
    Authority(AuthorityId),
    /// A lookup in the directory's term index: the ids under the terms starting with
    /// `word` (up to `cap`), or with `distinct`, the distinct such terms (up to `cap`).
    Term {
        distinct: bool,
        word: String,
        cap: usize,
    },
}

#[derive(Debug, Clone)]
pub(crate) enum Cached {
    /// The user a token belongs to, and when it expires.
    TokenOf(UserId, chrono::DateTime<chrono::Utc>),
    /// The acting user (`Unauthenticated` is not cached).
    Actor(Actor),
    /// An authority document and its version (a missing one is not cached).
    Authority(Box<(Authority, Version)>),
    /// The ids of a [`Subject::Term`] lookup (`None`: more than its cap).
    TermIds(Option<Arc<BTreeSet<[u8; 16]>>>),
    /// The distinct terms of a [`Subject::Term`] lookup (`None`: more than its cap).
    Terms(Option<Arc<Vec<Vec<u8>>>>),
}

#[derive(Debug)]
struct Entry {
    value: Cached,
    generation: u64,
    at: DateTime<Utc>,
}

/// The cache and its change counter; shared by the engine and its [`Watched`] store.
pub(crate) struct Principals {
    generation: AtomicU64,
    /// The time to live in milliseconds; 0 turns the cache off.
    ttl_ms: AtomicU64,
    entries: Mutex<HashMap<Subject, Entry>>,
}

impl fmt::Debug for Principals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Principals")
            .field("generation", &self.generation.load(Ordering::Acquire))
            .field("ttl_ms", &self.ttl_ms.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Principals {
    pub(crate) fn new(ttl: std::time::Duration) -> Self {
        let p = Self {
            generation: AtomicU64::new(0),
            ttl_ms: AtomicU64::new(0),
            entries: Mutex::new(HashMap::new()),
        };
        p.set_ttl(ttl);
        p
    }

    pub(crate) fn set_ttl(&self, ttl: std::time::Duration) {
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        self.ttl_ms.store(ms, Ordering::Relaxed);
        self.changed();
    }

    fn ttl(&self) -> Option<chrono::Duration> {
        match self.ttl_ms.load(Ordering::Relaxed) {
            0 => None,
            ms => Some(
                i64::try_from(ms)
                    .ok()
                    .and_then(chrono::Duration::try_milliseconds)
                    .unwrap_or(chrono::Duration::MAX),
            ),
        }
    }

    /// The change count to remember for an entry about to be made: read it *before*
    /// reading the documents.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// A valid entry for `subject` at `now`.
    pub(crate) fn get(&self, subject: &Subject, now: DateTime<Utc>) -> Option<Cached> {
        let ttl = self.ttl()?;
        let current = self.generation();
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let e = entries.get(subject)?;
        // A clock that went back is no reason to trust an entry longer.
        let fresh = now >= e.at && now - e.at < ttl;
        (e.generation == current && fresh).then(|| e.value.clone())
    }

    /// Remembers `value`, read after the change count was `generation`.
    pub(crate) fn put(&self, subject: Subject, value: Cached, generation: u64, now: DateTime<Utc>) {
        if self.ttl().is_none() || generation != self.generation() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= CAPACITY {
            let mut n = 0usize;
            entries.retain(|_, _| {
                n += 1;
                !n.is_multiple_of(8)
            });
        }
        entries.insert(
            subject,
            Entry {
                value,
                generation,
                at: now,
            },
        );
    }

    /// Invalidates every entry (after a change to authorities, users or tokens).
    fn changed(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

/// Whether a commit of `batch` can change who a token belongs to, what a user may do, an
/// authority document or the directory's term index.
fn touches_principals(batch: &WriteBatch) -> bool {
    batch.mutations().iter().any(|m| {
        let key = match m {
            Mutation::Put { key, .. } | Mutation::Delete { key } => key,
        };
        matches!(
            key.first(),
            Some(&b) if [Space::Authority, Space::User, Space::Token, Space::DirectoryTerm]
                .iter()
                .any(|s| b == *s as u8)
        )
    })
}

/// The engine's store: the embedder's store, whose commits are watched for changes to
/// authorities, users and tokens.
pub(crate) struct Watched {
    pub(crate) inner: Arc<dyn Store>,
    pub(crate) principals: Arc<Principals>,
}

impl fmt::Debug for Watched {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

#[async_trait]
impl Store for Watched {
    async fn get(&self, key: &[u8]) -> Result<Option<Versioned>, StoreError> {
        self.inner.get(key).await
    }

    async fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Versioned>>, StoreError> {
        self.inner.get_many(keys).await
    }

    async fn scan(&self, scan: &Scan) -> Result<ScanPage, StoreError> {
        self.inner.scan(scan).await
    }

    async fn commit(&self, batch: WriteBatch) -> Result<Version, StoreError> {
        let touches = touches_principals(&batch);
        let result = self.inner.commit(batch).await;
        // Counted whatever the outcome: a commit whose acknowledgement was lost may still
        // have been applied.
        if touches {
            self.principals.changed();
        }
        result
    }
}
