//! Upgrades of stores written by earlier versions of the engine's key layout.
//!
//! Each upgrade runs through the [`Store`](crate::store::Store) contract, so it is the
//! same on every backend. It runs once per store, the first time something needs the new
//! layout, and is safe to interrupt: every step is idempotent and a metadata entry,
//! written last, records that the upgrade is complete. It is also safe beside live
//! commands: a command rewrites its case's index entries in the new layout in its own
//! commit, and the upgrade writes a case's entries only if the case is unchanged since it
//! read it (otherwise it reads the page again). Every instance over the store must run a
//! version that knows the layout: stop older instances before starting a newer one (an
//! older one would keep writing the old entries after the upgrade).
//!
//! **The dated inbox** (layout 2). In layout 1 a request had an inbox entry per party
//! (`authority, party, stage, case`) and a second per party in a by-deadline inbox
//! (`authority, party, date, case`), so most transitions rewrote four index entries. In
//! layout 2 the inbox entry carries the date (`authority, party, stage, date, case`) and
//! serves both listings. The upgrade writes every request's new entries, then removes the
//! old inbox entries (by their length) and the whole by-deadline space.

use std::sync::atomic::Ordering;

use super::Engine;
use super::requests::{case_index_keys, rules_of};
use crate::case::RequestCase;
use crate::error::EngineError;
use crate::keys;
use crate::record::{Txn, decode};
use crate::store::{Scan, StoreExt};

/// The metadata entry saying every request's inbox entries are in layout 2.
const DATED_INBOX: &str = "dated-inbox";

/// How many cases (or old entries) one upgrade commit covers.
const UPGRADE_PAGE: usize = 256;

impl Engine {
    /// Makes sure every request's inbox entries carry their deadline (layout 2), upgrading
    /// the store once if it was written by an earlier version.
    pub(super) async fn ensure_dated_inbox(&self) -> Result<(), EngineError> {
        if self.dated_inbox_ready.load(Ordering::Acquire) {
            return Ok(());
        }
        if self.store.get(&keys::meta(DATED_INBOX)).await?.is_none() {
            self.write_dated_inbox_entries().await?;
            self.remove_layout1_inbox_entries().await?;
            let mut txn = Txn::new(&*self.store);
            txn.put_raw(keys::meta(DATED_INBOX), Vec::new());
            txn.commit().await?;
        }
        self.dated_inbox_ready.store(true, Ordering::Release);
        Ok(())
    }

    /// Writes the layout-2 index entries of every request, a page of cases per commit,
    /// each commit requiring its cases unchanged since they were read.
    async fn write_dated_inbox_entries(&self) -> Result<(), EngineError> {
        let catalogue = self.catalogue();
        let mut next = Some(Scan::prefix(&keys::case_prefix(), UPGRADE_PAGE));
        while let Some(scan) = next.take() {
            let page = self.store.scan(&scan).await?;
            let mut txn = Txn::new(&*self.store);
            for e in &page.entries {
                // A document that does not decode is left to the integrity check
                // (`check_request_integrity`), as the listings skip it.
                let Ok(case) = decode::<RequestCase>(&e.key, &e.value) else {
                    continue;
                };
                txn.expect_version(e.key.clone(), e.version);
                for key in case_index_keys(&case, rules_of(&catalogue, &case.procedure)) {
                    txn.put_index(key);
                }
            }
            match txn.commit().await {
                // A case changed meanwhile: read this page again.
                Err(EngineError::Conflict(_)) => next = Some(scan),
                Err(e) => return Err(e),
                Ok(_) => next = page.continuation.map(|c| scan.resume(c)),
            }
        }
        Ok(())
    }

    /// Removes layout 1's inbox entries (recognised by their length) and its by-deadline
    /// inbox; nothing writes either any more.
    async fn remove_layout1_inbox_entries(&self) -> Result<(), EngineError> {
        for (prefix, only_v1) in [
            (keys::inbox_all_prefix(), true),
            (keys::inbox_due_v1_prefix(), false),
        ] {
            let mut pages = self.store.pages(Scan::prefix(&prefix, UPGRADE_PAGE));
            while let Some(entries) = pages.next().await? {
                let mut txn = Txn::new(&*self.store);
                for e in entries {
                    if !only_v1 || e.key.len() == keys::INBOX_V1_LEN {
                        txn.delete(e.key);
                    }
                }
                txn.commit().await?;
            }
        }
        Ok(())
    }
}
