//! Plumbing shared by the one-to-many workflows (alerts, notifications): box pages over
//! an index and timelines. The policy stays with each workflow: a box lists what its
//! index holds and shows only what the workflow's `load` lets the actor see.

use std::future::Future;

use serde::de::DeserializeOwned;

use super::{Engine, corrupt_index};
use crate::error::EngineError;
use crate::ids::CaseId;
use crate::page::{Cursor, Page, PageRequest};
use crate::record::decode;
use crate::store::Scan;

impl Engine {
    /// One page of the box index under `prefix`, in key order. Each entry ends with a case
    /// id, which `load` turns into what the actor may see; entries it answers `NotFound`
    /// for are skipped (the index lists, the policy decides).
    pub(super) async fn box_page<T, F, Fut>(
        &self,
        prefix: Vec<u8>,
        page: PageRequest,
        mut load: F,
    ) -> Result<Page<T>, EngineError>
    where
        F: FnMut(CaseId) -> Fut,
        Fut: Future<Output = Result<T, EngineError>>,
    {
        let mut scan = Scan::prefix(&prefix, page.limit());
        if let Some(cursor) = page.cursor() {
            scan = scan.resume(cursor.key_within(&prefix)?);
        }
        let mut items = Vec::new();
        loop {
            let found = self.store.scan(&scan).await?;
            for e in found.entries {
                let id = keys_id(&e.key)?;
                match load(id).await {
                    Ok(item) => {
                        items.push(item);
                        if items.len() == page.limit() {
                            return Ok(Page {
                                items,
                                next: Some(Cursor::from_key(e.key)),
                            });
                        }
                    }
                    Err(EngineError::NotFound { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
            match found.continuation {
                Some(c) => scan = scan.resume(c),
                None => return Ok(Page { items, next: None }),
            }
        }
    }

    /// Every entry of the timeline under `prefix`, oldest first.
    pub(super) async fn read_timeline<E: DeserializeOwned>(
        &self,
        prefix: &[u8],
    ) -> Result<Vec<E>, EngineError> {
        let mut scan = Scan::prefix(prefix, 1_000);
        let mut out = Vec::new();
        loop {
            let page = self.store.scan(&scan).await?;
            for e in &page.entries {
                out.push(decode(&e.key, &e.value)?);
            }
            match page.continuation {
                Some(c) => scan = scan.resume(c),
                None => return Ok(out),
            }
        }
    }
}

fn keys_id(key: &[u8]) -> Result<CaseId, EngineError> {
    crate::keys::trailing_id(key)
        .and_then(|b| CaseId::from_uuid(uuid::Uuid::from_bytes(b)).ok())
        .ok_or_else(|| corrupt_index(key))
}
