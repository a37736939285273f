//! The record layer: typed documents and indexes over the store contract.
//!
//! A [`Txn`] reads through the store, remembers the version of everything it read, and
//! buffers its writes. On commit, every read becomes a [`Precondition::Unchanged`] check,
//! so a transaction whose inputs changed in the meantime fails with a conflict and applies
//! nothing (optimistic, serializable for the keys it touched).

use std::collections::BTreeMap;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::EngineError;
use crate::store::{KeyDisplay, Precondition, Store, Version, WriteBatch};

/// Decodes a stored JSON document, naming the key when it cannot.
pub(crate) fn decode<T: DeserializeOwned>(key: &[u8], bytes: &[u8]) -> Result<T, EngineError> {
    serde_json::from_slice(bytes).map_err(|e| EngineError::Corrupt {
        key: KeyDisplay::from(key),
        detail: e.to_string(),
    })
}

/// Encodes a document as JSON.
pub(crate) fn encode<T: Serialize>(doc: &T) -> Result<Vec<u8>, EngineError> {
    serde_json::to_vec(doc).map_err(|e| EngineError::Internal {
        detail: format!("a document could not be encoded: {e}"),
    })
}

/// One optimistic transaction over a store.
pub(crate) struct Txn<'s> {
    store: &'s dyn Store,
    reads: BTreeMap<Vec<u8>, Option<Version>>,
    batch: WriteBatch,
}

impl<'s> Txn<'s> {
    pub(crate) fn new(store: &'s dyn Store) -> Self {
        Self {
            store,
            reads: BTreeMap::new(),
            batch: WriteBatch::new(),
        }
    }

    /// Reads and decodes a document, recording the version read.
    pub(crate) async fn get<T: DeserializeOwned>(
        &mut self,
        key: &[u8],
    ) -> Result<Option<(T, Version)>, EngineError> {
        let got = self.store.get(key).await?;
        self.reads
            .entry(key.to_vec())
            .or_insert(got.as_ref().map(|v| v.version));
        got.map(|v| Ok((decode(key, &v.value)?, v.version)))
            .transpose()
    }

    /// Reads raw bytes, recording the version read.
    pub(crate) async fn get_raw(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, EngineError> {
        let got = self.store.get(key).await?;
        self.reads
            .entry(key.to_vec())
            .or_insert(got.as_ref().map(|v| v.version));
        Ok(got.map(|v| v.value))
    }

    /// Writes a new document; the commit fails if the key exists by then.
    pub(crate) fn create<T: Serialize>(
        &mut self,
        key: Vec<u8>,
        doc: &T,
    ) -> Result<(), EngineError> {
        let bytes = encode(doc)?;
        self.batch.check(key.clone(), Precondition::Absent);
        self.batch.put(key, bytes);
        Ok(())
    }

    /// Writes a document over whatever is there (combine with a read for safety).
    pub(crate) fn put<T: Serialize>(&mut self, key: Vec<u8>, doc: &T) -> Result<(), EngineError> {
        let bytes = encode(doc)?;
        self.batch.put(key, bytes);
        Ok(())
    }

    /// Requires `key` to be unchanged at commit since it was read at `version` (by a scan).
    pub(crate) fn expect_version(&mut self, key: Vec<u8>, version: Version) {
        self.reads.entry(key).or_insert(Some(version));
    }

    /// Requires `key` to be present at commit.
    pub(crate) fn expect_present(&mut self, key: Vec<u8>) {
        self.batch.check(key, Precondition::Present);
    }

    /// Requires `key` to be absent at commit.
    pub(crate) fn expect_absent(&mut self, key: Vec<u8>) {
        self.batch.check(key, Precondition::Absent);
    }

    /// Writes raw bytes.
    pub(crate) fn put_raw(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.batch.put(key, value);
    }

    /// Writes an index entry (an empty value).
    pub(crate) fn put_index(&mut self, key: Vec<u8>) {
        self.batch.put(key, Vec::new());
    }

    /// Removes a key.
    pub(crate) fn delete(&mut self, key: Vec<u8>) {
        self.batch.delete(key);
    }

    /// Commits: all reads must be unchanged, all writes apply together.
    pub(crate) async fn commit(mut self) -> Result<Version, EngineError> {
        for (key, seen) in std::mem::take(&mut self.reads) {
            self.batch.check(key, Precondition::Unchanged(seen));
        }
        Ok(self.store.commit(self.batch).await?)
    }
}
