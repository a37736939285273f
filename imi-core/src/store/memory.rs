//! The in-memory backend: a `BTreeMap` behind a lock. For tests and for embedders that
//! keep state elsewhere.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use async_trait::async_trait;

use super::{
    Direction, Entry, KeyDisplay, Mutation, Scan, ScanPage, Store, StoreError, Version, Versioned,
    WriteBatch,
};

#[derive(Debug, Default)]
struct Inner {
    map: BTreeMap<Vec<u8>, (Version, Arc<[u8]>)>,
    last_version: u64,
}

/// A [`Store`] held in memory. Cheap to clone: clones share the same data.
///
/// Commits are atomic and isolated (one writer at a time); nothing survives the process.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    inner: Arc<RwLock<Inner>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of keys held.
    pub fn len(&self) -> usize {
        self.read().map.len()
    }

    /// Whether the store holds no keys.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    // A panic while holding the lock cannot leave the map half-changed: commits check
    // everything before the first mutation, and mutations are plain inserts and removes.
    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn as_ref_bound(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match b {
        Bound::Included(k) => Bound::Included(k.as_slice()),
        Bound::Excluded(k) => Bound::Excluded(k.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn get(&self, key: &[u8]) -> Result<Option<Versioned>, StoreError> {
        super::check_key(key)?;
        Ok(self.read().map.get(key).map(|(version, value)| Versioned {
            value: value.to_vec(),
            version: *version,
        }))
    }

    async fn scan(&self, scan: &Scan) -> Result<ScanPage, StoreError> {
        scan.validate()?;
        if scan.is_empty_range() {
            return Ok(ScanPage::default());
        }
        let inner = self.read();
        let range = inner
            .map
            .range::<[u8], _>((as_ref_bound(&scan.start), as_ref_bound(&scan.end)));
        let to_entry = |(k, (version, value)): (&Vec<u8>, &(Version, Arc<[u8]>))| Entry {
            key: k.clone(),
            value: value.to_vec(),
            version: *version,
        };
        let entries: Vec<Entry> = match scan.direction {
            Direction::Forward => range.take(scan.limit + 1).map(to_entry).collect(),
            Direction::Reverse => range.rev().take(scan.limit + 1).map(to_entry).collect(),
        };
        Ok(ScanPage::from_overfetch(entries, scan.limit))
    }

    async fn commit(&self, batch: WriteBatch) -> Result<Version, StoreError> {
        batch.validate()?;
        let mut inner = self.write();
        for check in batch.checks() {
            let found = inner.map.get(&check.key).map(|(v, _)| *v);
            if !check.precondition.holds(found) {
                return Err(StoreError::Conflict {
                    key: KeyDisplay::from(check.key.as_slice()),
                    expected: check.precondition,
                    found,
                });
            }
        }
        inner.last_version += 1;
        let version = Version::from_raw(inner.last_version);
        let (_, mutations) = batch.into_parts();
        for m in mutations {
            match m {
                Mutation::Put { key, value } => {
                    inner.map.insert(key, (version, value.into()));
                }
                Mutation::Delete { key } => {
                    inner.map.remove(&key);
                }
            }
        }
        Ok(version)
    }
}
