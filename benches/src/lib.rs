//! Shared set-up for the criterion benchmarks in `benches/`.
//!
//! Run them with `cargo bench -p imi-benches`; figures and the machine they were taken on
//! are in `BENCHMARKS.md`.

use std::sync::Arc;

use imi_core::MemoryStore;
use imi_core::store::{Store, StoreError};
use imi_store_sled::{SledConfig, SledStore};
use imi_store_sqlite::{SqliteConfig, SqliteStore};

/// A backend under measurement, with the directory that holds its files.
pub struct Backend {
    /// Short name for the report.
    pub name: &'static str,
    /// The store.
    pub store: Arc<dyn Store>,
    /// Keeps on-disk backends' files until the bench ends.
    pub dir: Option<tempfile::TempDir>,
}

/// The three backends with their default (durable) settings, on fresh temporary storage.
pub async fn backends() -> Result<Vec<Backend>, StoreError> {
    let io = |e: std::io::Error| StoreError::backend("creating a temporary directory", e);
    let sqlite_dir = tempfile::tempdir().map_err(io)?;
    let sled_dir = tempfile::tempdir().map_err(io)?;
    let sqlite =
        SqliteStore::open(sqlite_dir.path().join("bench.db"), SqliteConfig::default()).await?;
    let sled = SledStore::open(sled_dir.path().join("bench"), SledConfig::default()).await?;
    Ok(vec![
        Backend {
            name: "memory",
            store: Arc::new(MemoryStore::new()),
            dir: None,
        },
        Backend {
            name: "sqlite",
            store: Arc::new(sqlite),
            dir: Some(sqlite_dir),
        },
        Backend {
            name: "sled",
            store: Arc::new(sled),
            dir: Some(sled_dir),
        },
    ])
}
