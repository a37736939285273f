//! The store contract: an ordered, transactional key-value store with atomic multi-key
//! commits and per-key version checks.
//!
//! Everything the engine persists (documents, secondary indexes, event logs, counters) is
//! encoded by the core as keys and values in one ordered key space (see
//! `keys.rs` and ARCHITECTURE.md). A backend therefore implements only three primitives, [`Store::get`],
//! [`Store::scan`] and [`Store::commit`], and every later feature (requests, alerts,
//! retention, directory search, audit) needs no new code in any backend.
//!
//! Concurrency is optimistic: every stored value carries the [`Version`] of the commit that
//! wrote it. A commit may carry [`Precondition`]s on any keys, written or merely read; if
//! one does not hold, the whole commit fails with [`StoreError::Conflict`] and nothing is
//! applied.

mod memory;

use std::fmt;
use std::ops::Bound;

use async_trait::async_trait;

pub use memory::MemoryStore;

/// The largest key a store accepts, in bytes.
pub const MAX_KEY_LEN: usize = 4 * 1024;
/// The largest value a store accepts, in bytes. Bigger content (attachments) is split
/// into chunks by the core.
pub const MAX_VALUE_LEN: usize = 8 * 1024 * 1024;
/// The most entries one scan page may ask for.
pub const MAX_SCAN_LIMIT: usize = 100_000;

/// The version of a stored value: the sequence number of the commit that wrote it.
///
/// Versions are unique per store and grow with every commit, so a key that is written
/// again always gets a new version, also after it was deleted and recreated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(u64);

impl Version {
    /// Wraps a raw commit sequence number (for backends decoding their storage).
    pub const fn from_raw(raw: u64) -> Self {
        Self(raw)
    }

    /// The raw commit sequence number (for backends encoding their storage).
    pub const fn raw(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

/// A stored value with its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned {
    /// The value's bytes.
    pub value: Vec<u8>,
    /// The version of the commit that wrote it.
    pub version: Version,
}

/// One key-value pair returned by a scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The key.
    pub key: Vec<u8>,
    /// The value's bytes.
    pub value: Vec<u8>,
    /// The version of the commit that wrote it.
    pub version: Version,
}

/// What a commit requires of one key's current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// The key must not exist.
    Absent,
    /// The key must exist, at any version.
    Present,
    /// The key must exist at exactly this version (it was not changed since it was read).
    AtVersion(Version),
    /// The key must be absent or at exactly this version: the state observed by a read
    /// that returned `None` or this version.
    Unchanged(Option<Version>),
}

impl Precondition {
    /// Whether a key whose current version is `current` satisfies this precondition.
    pub fn holds(self, current: Option<Version>) -> bool {
        match (self, current) {
            (Precondition::Absent, None) | (Precondition::Present, Some(_)) => true,
            (Precondition::Absent, Some(_)) | (Precondition::Present, None) => false,
            (Precondition::AtVersion(want), Some(have)) => want == have,
            (Precondition::AtVersion(_), None) => false,
            (Precondition::Unchanged(want), have) => want == have,
        }
    }
}

impl fmt::Display for Precondition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Precondition::Absent => f.write_str("absent"),
            Precondition::Present => f.write_str("present"),
            Precondition::AtVersion(v) => write!(f, "at {v}"),
            Precondition::Unchanged(None) => f.write_str("still absent"),
            Precondition::Unchanged(Some(v)) => write!(f, "still at {v}"),
        }
    }
}

/// A change to one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mutation {
    /// Set the key to this value (creating it if absent).
    Put {
        /// The key.
        key: Vec<u8>,
        /// The new value.
        value: Vec<u8>,
    },
    /// Remove the key (nothing happens if it is absent).
    Delete {
        /// The key.
        key: Vec<u8>,
    },
}

impl Mutation {
    /// The key this mutation changes.
    pub fn key(&self) -> &[u8] {
        match self {
            Mutation::Put { key, .. } | Mutation::Delete { key } => key,
        }
    }
}

/// A check of one key, part of a [`WriteBatch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// The key checked.
    pub key: Vec<u8>,
    /// What its state must be.
    pub precondition: Precondition,
}

/// The unit of [`Store::commit`]: preconditions and mutations applied atomically.
///
/// All checks are evaluated against the state before the commit. Mutations apply in
/// order, so when a batch changes a key twice, the last change wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteBatch {
    checks: Vec<Check>,
    mutations: Vec<Mutation>,
}

impl WriteBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Requires `key` to be in the state `precondition` describes.
    pub fn check(&mut self, key: impl Into<Vec<u8>>, precondition: Precondition) -> &mut Self {
        self.checks.push(Check {
            key: key.into(),
            precondition,
        });
        self
    }

    /// Sets `key` to `value`.
    pub fn put(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> &mut Self {
        self.mutations.push(Mutation::Put {
            key: key.into(),
            value: value.into(),
        });
        self
    }

    /// Removes `key`.
    pub fn delete(&mut self, key: impl Into<Vec<u8>>) -> &mut Self {
        self.mutations.push(Mutation::Delete { key: key.into() });
        self
    }

    /// The checks, in the order added.
    pub fn checks(&self) -> &[Check] {
        &self.checks
    }

    /// The mutations, in the order added.
    pub fn mutations(&self) -> &[Mutation] {
        &self.mutations
    }

    /// Whether the batch has neither checks nor mutations.
    pub fn is_empty(&self) -> bool {
        self.checks.is_empty() && self.mutations.is_empty()
    }

    /// Checks the contract's size limits. Backends call this before touching storage, so
    /// every backend refuses the same batches.
    pub fn validate(&self) -> Result<(), StoreError> {
        let keys = self
            .checks
            .iter()
            .map(|c| c.key.as_slice())
            .chain(self.mutations.iter().map(Mutation::key));
        for key in keys {
            check_key(key)?;
        }
        for m in &self.mutations {
            if let Mutation::Put { key, value } = m
                && value.len() > MAX_VALUE_LEN
            {
                return Err(StoreError::ValueTooLarge {
                    key: KeyDisplay::from(key.as_slice()),
                    len: value.len(),
                    max: MAX_VALUE_LEN,
                });
            }
        }
        Ok(())
    }

    /// Splits the batch into its checks and mutations.
    pub fn into_parts(self) -> (Vec<Check>, Vec<Mutation>) {
        (self.checks, self.mutations)
    }
}

/// Refuses keys longer than [`MAX_KEY_LEN`].
pub fn check_key(key: &[u8]) -> Result<(), StoreError> {
    if key.len() > MAX_KEY_LEN {
        return Err(StoreError::KeyTooLarge {
            len: key.len(),
            max: MAX_KEY_LEN,
        });
    }
    Ok(())
}

/// The order in which a scan visits keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// Ascending byte order.
    #[default]
    Forward,
    /// Descending byte order.
    Reverse,
}

/// A request for one page of keys in a range, in byte order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    /// Lower bound of the range.
    pub start: Bound<Vec<u8>>,
    /// Upper bound of the range.
    pub end: Bound<Vec<u8>>,
    /// Which end to start from.
    pub direction: Direction,
    /// The most entries to return, 1 to [`MAX_SCAN_LIMIT`].
    pub limit: usize,
}

impl Scan {
    /// A forward scan of `[start, end)` returning at most `limit` entries.
    pub fn range(start: impl Into<Vec<u8>>, end: impl Into<Vec<u8>>, limit: usize) -> Self {
        Self {
            start: Bound::Included(start.into()),
            end: Bound::Excluded(end.into()),
            direction: Direction::Forward,
            limit,
        }
    }

    /// A forward scan of every key starting with `prefix`.
    pub fn prefix(prefix: &[u8], limit: usize) -> Self {
        Self {
            start: Bound::Included(prefix.to_vec()),
            end: prefix_end(prefix).map_or(Bound::Unbounded, Bound::Excluded),
            direction: Direction::Forward,
            limit,
        }
    }

    /// A forward scan of every key.
    pub fn all(limit: usize) -> Self {
        Self {
            start: Bound::Unbounded,
            end: Bound::Unbounded,
            direction: Direction::Forward,
            limit,
        }
    }

    /// The same scan in reverse order.
    #[must_use]
    pub fn reversed(mut self) -> Self {
        self.direction = match self.direction {
            Direction::Forward => Direction::Reverse,
            Direction::Reverse => Direction::Forward,
        };
        self
    }

    /// The scan that continues after a page whose [`ScanPage::continuation`] was
    /// `continuation`: it excludes every key up to and including it (forward) or from it
    /// onwards (reverse).
    #[must_use]
    pub fn resume(mut self, continuation: Vec<u8>) -> Self {
        match self.direction {
            Direction::Forward => self.start = Bound::Excluded(continuation),
            Direction::Reverse => self.end = Bound::Excluded(continuation),
        }
        self
    }

    /// Checks the limit and key sizes. Backends call this before touching storage.
    pub fn validate(&self) -> Result<(), StoreError> {
        if self.limit == 0 || self.limit > MAX_SCAN_LIMIT {
            return Err(StoreError::BadScanLimit {
                limit: self.limit,
                max: MAX_SCAN_LIMIT,
            });
        }
        for bound in [&self.start, &self.end] {
            if let Bound::Included(k) | Bound::Excluded(k) = bound {
                check_key(k)?;
            }
        }
        Ok(())
    }

    /// Whether the range can hold no key at all (start after end, or an empty exclusive
    /// range). Backends return an empty page for such scans.
    pub fn is_empty_range(&self) -> bool {
        match (&self.start, &self.end) {
            (Bound::Included(s), Bound::Included(e)) => s > e,
            (Bound::Included(s) | Bound::Excluded(s), Bound::Excluded(e))
            | (Bound::Excluded(s), Bound::Included(e)) => s >= e,
            _ => false,
        }
    }
}

/// The smallest key greater than every key starting with `prefix`, or `None` when no
/// such key exists (the prefix is empty or all `0xFF`).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xFF {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// One page of scan results.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanPage {
    /// The entries, in the scan's direction.
    pub entries: Vec<Entry>,
    /// Present when more entries may follow: pass it to [`Scan::resume`].
    pub continuation: Option<Vec<u8>>,
}

impl ScanPage {
    /// Builds a page from up to `limit + 1` entries read in the scan's direction: backends
    /// read one entry more than asked, so that a continuation is only given when more
    /// entries really follow.
    pub fn from_overfetch(mut entries: Vec<Entry>, limit: usize) -> Self {
        let continuation = if entries.len() > limit {
            entries.truncate(limit);
            entries.last().map(|e| e.key.clone())
        } else {
            None
        };
        Self {
            entries,
            continuation,
        }
    }
}

/// A key shown in errors: printable ASCII as text, other bytes as `\xNN`.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyDisplay(Vec<u8>);

impl KeyDisplay {
    /// The raw key bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl From<&[u8]> for KeyDisplay {
    fn from(key: &[u8]) -> Self {
        Self(key.to_vec())
    }
}

impl fmt::Display for KeyDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &b in &self.0 {
            if b.is_ascii_graphic() && b != b'\\' {
                write!(f, "{}", char::from(b))?;
            } else {
                write!(f, "\\x{b:02x}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for KeyDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

/// The one error type of the store contract. Backends map their own errors into it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A precondition of a commit did not hold; nothing was applied. Re-read and retry.
    #[error("conflict on key {key}: expected {expected}, found {}", found.map_or_else(|| "absent".to_owned(), |v| v.to_string()))]
    Conflict {
        /// The first key whose check failed.
        key: KeyDisplay,
        /// What the commit required.
        expected: Precondition,
        /// The key's actual version (`None`: absent).
        found: Option<Version>,
    },
    /// A key is longer than [`MAX_KEY_LEN`].
    #[error("key of {len} bytes exceeds the limit of {max} bytes")]
    KeyTooLarge {
        /// The key's length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A value is larger than [`MAX_VALUE_LEN`].
    #[error("value of {len} bytes for key {key} exceeds the limit of {max} bytes")]
    ValueTooLarge {
        /// The key.
        key: KeyDisplay,
        /// The value's length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A scan asked for 0 entries or more than [`MAX_SCAN_LIMIT`].
    #[error("scan limit {limit} is outside 1..={max}")]
    BadScanLimit {
        /// The requested limit.
        limit: usize,
        /// The largest allowed limit.
        max: usize,
    },
    /// The storage holds data this backend cannot read: not a store of ours, or damaged.
    #[error("the storage is not a readable imi store: {detail}")]
    Corrupt {
        /// What was found.
        detail: String,
    },
    /// The storage was written by a newer version of the software.
    #[error("the storage has schema version {found}; this build reads up to {supported}")]
    UnsupportedSchema {
        /// The version found in the storage.
        found: u32,
        /// The newest version this build reads.
        supported: u32,
    },
    /// The backend failed (I/O error, lock poisoned by a crash, ...). The commit may be
    /// retried; for commits, nothing was applied.
    #[error("storage backend failed: {message}")]
    Backend {
        /// What failed, for operators.
        message: String,
        /// The backend's own error, if any.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

impl StoreError {
    /// A backend failure with a message and its cause.
    pub fn backend(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        StoreError::Backend {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }

    /// Whether this is an optimistic-concurrency conflict (safe to re-read and retry).
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::Conflict { .. })
    }
}

/// An ordered, transactional key-value store: the contract every backend implements.
///
/// Keys are byte strings ordered by unsigned byte-wise comparison (shorter first when one
/// is a prefix of the other); the empty key is a valid key. Implementations must be safe
/// to share between tasks and must not block an async runtime's worker threads.
#[async_trait]
pub trait Store: Send + Sync + fmt::Debug {
    /// Reads one key. Returns `None` when it is absent.
    ///
    /// Sees every commit that completed before the call started.
    async fn get(&self, key: &[u8]) -> Result<Option<Versioned>, StoreError>;

    /// Reads several keys; the result has one slot per key, in order.
    ///
    /// The default reads them one by one; backends may answer in one round trip. The
    /// reads need not come from one snapshot.
    async fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Versioned>>, StoreError> {
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            out.push(self.get(key).await?);
        }
        Ok(out)
    }

    /// Returns up to `scan.limit` entries of the range in the scan's direction, from one
    /// consistent snapshot. When more entries may follow, the page's `continuation` is the
    /// last key returned; [`Scan::resume`] continues from there. Pages taken at different
    /// times may reflect different commits.
    ///
    /// Fails with [`StoreError::BadScanLimit`] or [`StoreError::KeyTooLarge`] for a scan
    /// that [`Scan::validate`] refuses.
    async fn scan(&self, scan: &Scan) -> Result<ScanPage, StoreError>;

    /// Applies a batch atomically and durably: either every check holds and every mutation
    /// is applied under one new [`Version`], which is returned, or nothing is applied.
    ///
    /// Fails with [`StoreError::Conflict`] naming the first failing check, or with a size
    /// error for a batch that [`WriteBatch::validate`] refuses. An empty batch succeeds and
    /// still returns a new version. When the call returns `Ok`, the commit survives a crash
    /// (unless the backend was configured for relaxed durability).
    async fn commit(&self, batch: WriteBatch) -> Result<Version, StoreError>;
}

/// A scan read one page at a time, each page when asked for, so a caller never writes the
/// resume loop itself: `while let Some(entries) = pages.next().await? { … }`.
pub struct Pages<'s, S: ?Sized> {
    store: &'s S,
    next: Option<Scan>,
}

impl<S: Store + ?Sized> Pages<'_, S> {
    /// The next page's entries, or `None` once the range is done.
    pub async fn next(&mut self) -> Result<Option<Vec<Entry>>, StoreError> {
        let Some(scan) = self.next.take() else {
            return Ok(None);
        };
        let page = self.store.scan(&scan).await?;
        self.next = page.continuation.map(|c| scan.resume(c));
        Ok(Some(page.entries))
    }

    /// Every remaining entry of the range, page by page.
    pub async fn all(mut self) -> Result<Vec<Entry>, StoreError> {
        let mut out = Vec::new();
        while let Some(entries) = self.next().await? {
            out.extend(entries);
        }
        Ok(out)
    }
}

/// Several forward scans read as one sequence, ordered by what follows a fixed number of
/// leading bytes in each scan's keys: an index laid out as `prefix, part, rest` read across
/// several `part`s in the order of `rest` (one authority's open requests of every stage,
/// soonest deadline first). Each scan reads a page when its next entry is needed.
pub struct Merged<'s, S: ?Sized> {
    streams: Vec<Stream<'s, S>>,
}

struct Stream<'s, S: ?Sized> {
    /// Leading bytes that order nothing (the scan's own prefix).
    skip: usize,
    pages: Pages<'s, S>,
    buffered: std::collections::VecDeque<Entry>,
    done: bool,
}

impl<S: Store + ?Sized> Merged<'_, S> {
    /// The next entry in merged order, or `None` once every scan is done. Entries whose
    /// ordering parts are equal come in the order of the scans given.
    pub async fn next(&mut self) -> Result<Option<Entry>, StoreError> {
        for s in &mut self.streams {
            while s.buffered.is_empty() && !s.done {
                match s.pages.next().await? {
                    Some(entries) => s.buffered.extend(entries),
                    None => s.done = true,
                }
            }
        }
        let first = self
            .streams
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                s.buffered
                    .front()
                    .map(|e| (i, e.key.get(s.skip..).unwrap_or_default()))
            })
            .min_by(|a, b| a.1.cmp(b.1))
            .map(|(i, _)| i);
        Ok(first
            .and_then(|i| self.streams.get_mut(i))
            .and_then(|s| s.buffered.pop_front()))
    }
}

/// What every [`Store`] can do on top of the contract.
pub trait StoreExt: Store {
    /// `scan` as pages that continue by themselves ([`Pages`]); each page holds up to
    /// `scan.limit` entries.
    fn pages(&self, scan: Scan) -> Pages<'_, Self> {
        Pages {
            store: self,
            next: Some(scan),
        }
    }

    /// Forward scans read as one sequence ([`Merged`]): each `(skip, scan)` is ordered by
    /// its keys without their first `skip` bytes.
    fn merged(&self, scans: Vec<(usize, Scan)>) -> Merged<'_, Self> {
        Merged {
            streams: scans
                .into_iter()
                .map(|(skip, scan)| Stream {
                    skip,
                    pages: self.pages(scan),
                    buffered: std::collections::VecDeque::new(),
                    done: false,
                })
                .collect(),
        }
    }
}

impl<S: Store + ?Sized> StoreExt for S {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_scans_interleave_by_what_follows_their_prefixes() {
        futures::executor::block_on(async {
            let store = MemoryStore::new();
            let mut batch = WriteBatch::new();
            // Two streams `a` and `b`, ordered by the byte after the stream's letter.
            for (stream, rest) in [(b'a', 1u8), (b'a', 4), (b'a', 5), (b'b', 2), (b'b', 3)] {
                batch.put(vec![stream, rest], vec![rest]);
            }
            batch.put(vec![b'c', 0], vec![0]);
            store.commit(batch).await.unwrap();
            let mut merged =
                store.merged(vec![(1, Scan::prefix(b"a", 2)), (1, Scan::prefix(b"b", 1))]);
            let mut seen = Vec::new();
            while let Some(e) = merged.next().await.unwrap() {
                seen.push(e.value[0]);
            }
            assert_eq!(seen, vec![1, 2, 3, 4, 5]);
            let mut none = store.merged(vec![(1, Scan::prefix(b"d", 3))]);
            assert!(none.next().await.unwrap().is_none());
        });
    }

    #[test]
    fn pages_visit_every_key_once_in_both_directions() {
        futures::executor::block_on(async {
            let store = MemoryStore::new();
            let mut batch = WriteBatch::new();
            for i in 0..25u8 {
                batch.put(vec![b'k', i], vec![i]);
            }
            batch.put(b"other".to_vec(), vec![]);
            store.commit(batch).await.unwrap();
            let mut pages = store.pages(Scan::prefix(b"k", 4));
            let mut seen = Vec::new();
            let mut count = 0;
            while let Some(entries) = pages.next().await.unwrap() {
                assert!(entries.len() <= 4);
                seen.extend(entries.into_iter().map(|e| e.value[0]));
                count += 1;
            }
            assert_eq!(seen, (0..25).collect::<Vec<_>>());
            assert_eq!(count, 7);
            let mut reverse = Scan::prefix(b"k", 3);
            reverse.direction = Direction::Reverse;
            let all = store.pages(reverse).all().await.unwrap();
            assert_eq!(
                all.iter().map(|e| e.value[0]).collect::<Vec<_>>(),
                (0..25).rev().collect::<Vec<_>>()
            );
        });
    }

    #[test]
    fn prefix_end_handles_ff_and_empty() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(&[0x01, 0xFF]), Some(vec![0x02]));
        assert_eq!(prefix_end(&[0xFF, 0xFF]), None);
        assert_eq!(prefix_end(b""), None);
    }

    #[test]
    fn preconditions() {
        let v1 = Version::from_raw(1);
        let v2 = Version::from_raw(2);
        assert!(Precondition::Absent.holds(None));
        assert!(!Precondition::Absent.holds(Some(v1)));
        assert!(Precondition::Present.holds(Some(v1)));
        assert!(Precondition::AtVersion(v1).holds(Some(v1)));
        assert!(!Precondition::AtVersion(v1).holds(Some(v2)));
        assert!(!Precondition::AtVersion(v1).holds(None));
        assert!(Precondition::Unchanged(None).holds(None));
        assert!(!Precondition::Unchanged(None).holds(Some(v1)));
    }

    #[test]
    fn key_display_escapes_binary() {
        let k = KeyDisplay::from(&b"a\x00\xff\\"[..]);
        assert_eq!(k.to_string(), "a\\x00\\xff\\x5c");
    }
}
