//! The store conformance suite: every backend runs it, with one macro call.
//!
//! Each check is a plain `pub async fn` over `&dyn Store` (or a way to open one) that
//! panics with a message when the backend breaks the contract. A backend's test file runs
//! all of them with
//!
//! ```text
//! imi_core::store_conformance_tests!(fresh_store().await, |dir| reopen(dir));
//! ```
//!
//! where the first expression gives a [`TestStore`] on empty storage and the optional
//! second one opens durable storage in a directory (for the persistence check). The
//! calling crate needs `tokio` (macros, multi-thread runtime) as a dev-dependency.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod alerts;
mod authorities;
mod notifications;
mod outbox;
mod privacy;
mod public;
mod repositories;
mod requests;
mod sessions;
mod solvit;
mod store;
mod survey;
mod worlds;
pub use alerts::*;
pub use authorities::*;
pub use notifications::*;
pub use outbox::*;
pub use privacy::*;
pub use public::*;
pub use repositories::*;
pub use requests::*;
pub use sessions::*;
pub use solvit::{SolvitWorld, engine_solvit, solvit_world};
pub use store::*;
pub use survey::{SurveyWorld, engine_surveys, survey_world};
pub use worlds::*;

use std::any::Any;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

use futures::future::join_all;

use crate::store::{
    Direction, MAX_KEY_LEN, MAX_VALUE_LEN, Precondition, Scan, Store, StoreError, Version,
    WriteBatch,
};

/// A store under test plus whatever must live as long as it (a temporary directory).
pub struct TestStore {
    /// The store.
    pub store: Arc<dyn Store>,
    /// Dropped after the store; keeps e.g. a temporary directory alive.
    pub guard: Box<dyn Any + Send>,
}

impl TestStore {
    /// A store that needs nothing kept alive.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            guard: Box::new(()),
        }
    }
}

/// Runs the whole suite as separate `#[tokio::test]`s in the calling crate.
///
/// `$fresh` is an expression (it may `.await`) giving a [`TestStore`] on empty storage;
/// `$open_in` (optional) is a closure `|dir: &std::path::Path| -> impl Future<Output =
/// Arc<dyn Store>>` that opens durable storage in `dir`.
#[macro_export]
macro_rules! store_conformance_tests {
    ($fresh:expr $(, $open_in:expr)? $(,)?) => {
        $crate::store_conformance_tests!(@by_ref $fresh;
            get_and_put, versions_increase, multi_key_commit_is_atomic,
            failed_check_applies_nothing, stale_version_conflicts, preconditions_on_any_key,
            delete, last_write_in_batch_wins, ordered_scans_both_directions, prefix_scans,
            pagination, large_values, empty_and_binary_keys, bad_scan_limits, many_keys,
            matches_a_model);
        $crate::store_conformance_tests!(@by_arc $fresh;
            concurrent_writers_same_key, concurrent_writers_different_keys,
            racing_creators_one_wins, concurrent_commits_keep_their_own_outcome, engine_registers_and_reads_an_authority,
            engine_lists_authorities_by_country, engine_directory_search,
            engine_request_workflow, engine_request_deadlines, engine_inbox_upgrade, engine_request_attachments,
            engine_request_branches, engine_request_concurrency, engine_question_sets_persist,
            engine_audit_chain, engine_retention_blocking, engine_retention_deletion,
            engine_former_users, engine_data_subjects, engine_replicated_load, engine_alerts,
            engine_notifications, engine_repositories, engine_public_submission,
            engine_exchange_archive, engine_outbox, engine_solvit, engine_surveys,
            engine_sessions);
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn conformance_persists_across_reopen() {
                let dir = ::tempfile::tempdir().expect("temporary directory");
                let open_in = $open_in;
                let path = dir.path().to_path_buf();
                $crate::conformance::persists_across_reopen(|| open_in(path.clone())).await;
            }
        )?
    };
    (@by_ref $fresh:expr; $($name:ident),+) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let test_store: $crate::conformance::TestStore = $fresh;
                $crate::conformance::$name(&*test_store.store).await;
                drop(test_store);
            }
        )+
    };
    (@by_arc $fresh:expr; $($name:ident),+) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let test_store: $crate::conformance::TestStore = $fresh;
                $crate::conformance::$name(::std::sync::Arc::clone(&test_store.store)).await;
                drop(test_store);
            }
        )+
    };
}
