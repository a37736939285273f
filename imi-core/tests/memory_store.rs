//! The in-memory backend passes the store conformance suite.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed step should panic

use std::sync::Arc;

use imi_core::conformance::TestStore;
use imi_core::store::MemoryStore;

imi_core::store_conformance_tests!(TestStore::new(Arc::new(MemoryStore::new())));
