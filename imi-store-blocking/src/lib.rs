//! # imi-store-blocking
//!
//! What every imi storage backend whose operations block (a database file: SQLite, sled)
//! shares, written once: a backend implements [`BlockingStore`] with plain blocking
//! methods, and [`Offloaded`] makes it an async [`Store`]. Each operation is checked
//! against the store contract first (key sizes, scan limits, batch sizes), then runs on
//! Tokio's blocking pool when called inside a Tokio runtime, and inline otherwise, so a
//! slow disk never stalls the runtime's workers.
//!
//! ```
//! use imi_core::store::{Scan, ScanPage, StoreError, Version, Versioned, WriteBatch};
//! use imi_store_blocking::{BlockingStore, Offloaded};
//!
//! struct Nothing;
//!
//! impl BlockingStore for Nothing {
//!     fn get(&self, _key: &[u8]) -> Result<Option<Versioned>, StoreError> {
//!         Ok(None)
//!     }
//!     fn scan(&self, _scan: &Scan) -> Result<ScanPage, StoreError> {
//!         Ok(ScanPage::default())
//!     }
//!     fn commit(&self, _batch: WriteBatch) -> Result<Version, StoreError> {
//!         Ok(Version::from_raw(1))
//!     }
//! }
//!
//! let store = Offloaded::new(Nothing);
//! # let _: &dyn imi_core::store::Store = &store;
//! ```

use std::sync::Arc;

use async_trait::async_trait;
use imi_core::store::{
    Scan, ScanPage, Store, StoreError, Version, Versioned, WriteBatch, check_key,
};

/// A store whose operations block the calling thread. The inputs reach it checked.
pub trait BlockingStore: Send + Sync + 'static {
    /// The value of `key` and its version, or `None`.
    fn get(&self, key: &[u8]) -> Result<Option<Versioned>, StoreError>;

    /// The values of `keys`, in order (by default one [`BlockingStore::get`] each; a
    /// backend that can read them from one snapshot should).
    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Versioned>>, StoreError> {
        keys.iter().map(|k| self.get(k)).collect()
    }

    /// One page of a key range.
    fn scan(&self, scan: &Scan) -> Result<ScanPage, StoreError>;

    /// Applies `batch` atomically under one new version, or nothing.
    fn commit(&self, batch: WriteBatch) -> Result<Version, StoreError>;
}

/// Runs blocking work on Tokio's blocking pool when inside a Tokio runtime, inline
/// otherwise.
pub async fn blocking<T, F>(f: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, StoreError> + Send + 'static,
{
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => handle
            .spawn_blocking(f)
            .await
            .map_err(|e| StoreError::backend("the blocking task failed", e))?,
        Err(_) => f(),
    }
}

/// A [`BlockingStore`] as an async [`Store`].
pub struct Offloaded<S> {
    inner: Arc<S>,
}

impl<S> Offloaded<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> Self {
        Self::from_arc(Arc::new(inner))
    }

    /// Wraps a shared `inner` (the backend keeps its own handle for its other methods).
    pub fn from_arc(inner: Arc<S>) -> Self {
        Self { inner }
    }

    /// The blocking store.
    pub fn inner(&self) -> &Arc<S> {
        &self.inner
    }
}

impl<S> std::fmt::Debug for Offloaded<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Offloaded").finish_non_exhaustive()
    }
}

impl<S> Clone for Offloaded<S> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

#[async_trait]
impl<S: BlockingStore> Store for Offloaded<S> {
    async fn get(&self, key: &[u8]) -> Result<Option<Versioned>, StoreError> {
        check_key(key)?;
        let inner = Arc::clone(&self.inner);
        let key = key.to_vec();
        blocking(move || inner.get(&key)).await
    }

    async fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Versioned>>, StoreError> {
        for key in keys {
            check_key(key)?;
        }
        let inner = Arc::clone(&self.inner);
        let keys = keys.to_vec();
        blocking(move || inner.get_many(&keys)).await
    }

    async fn scan(&self, scan: &Scan) -> Result<ScanPage, StoreError> {
        scan.validate()?;
        if scan.is_empty_range() {
            return Ok(ScanPage::default());
        }
        let inner = Arc::clone(&self.inner);
        let scan = scan.clone();
        blocking(move || inner.scan(&scan)).await
    }

    async fn commit(&self, batch: WriteBatch) -> Result<Version, StoreError> {
        batch.validate()?;
        let inner = Arc::clone(&self.inner);
        blocking(move || inner.commit(batch)).await
    }
}

#[doc(hidden)]
pub use async_trait::async_trait as __async_trait;
#[doc(hidden)]
pub use imi_core::store as __store;

/// Implements [`Store`] for a backend's public type by handing every operation to its
/// [`Offloaded`] field: `offloaded_store!(SqliteStore, offloaded);`.
#[macro_export]
macro_rules! offloaded_store {
    ($ty:ty, $field:ident) => {
        #[$crate::__async_trait]
        impl $crate::__store::Store for $ty {
            async fn get(
                &self,
                key: &[u8],
            ) -> Result<Option<$crate::__store::Versioned>, $crate::__store::StoreError> {
                $crate::__store::Store::get(&self.$field, key).await
            }

            async fn get_many(
                &self,
                keys: &[Vec<u8>],
            ) -> Result<Vec<Option<$crate::__store::Versioned>>, $crate::__store::StoreError> {
                $crate::__store::Store::get_many(&self.$field, keys).await
            }

            async fn scan(
                &self,
                scan: &$crate::__store::Scan,
            ) -> Result<$crate::__store::ScanPage, $crate::__store::StoreError> {
                $crate::__store::Store::scan(&self.$field, scan).await
            }

            async fn commit(
                &self,
                batch: $crate::__store::WriteBatch,
            ) -> Result<$crate::__store::Version, $crate::__store::StoreError> {
                $crate::__store::Store::commit(&self.$field, batch).await
            }
        }
    };
}
