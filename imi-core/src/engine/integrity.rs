//! Consistency checks of the request documents and their indexes, for operators and the
//! crash harness: after any crash, every request's index entries (its inbox entries,
//! which serve the listings by stage and by deadline, the deadline queue, the retention queue) must be exactly those its
//! document implies, and its timeline must hold exactly the entries the document counts.
//! A command is one commit, so a half-applied command would show up here.

use std::collections::BTreeSet;

use super::Engine;
use super::requests::{case_index_keys, rules_of};
use crate::access::{Action, Actor, decide};
use crate::case::RequestCase;
use crate::error::EngineError;
use crate::keys::{self, Space};
use crate::record::decode;
use crate::store::{Scan, Store, StoreExt};

/// At most this many problems are listed; the counts cover all of them.
const MAX_LISTED: usize = 100;

/// What [`Engine::check_request_integrity`] looked at, and what it found wrong.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntegrityReport {
    /// Request documents read.
    pub cases: u64,
    /// Index entries of requests found in the store.
    pub index_entries: u64,
    /// Timeline entries counted.
    pub timeline_entries: u64,
    /// Problems found, in key order (the first 100 of them).
    pub problems: Vec<String>,
    /// How many problems there were in all.
    pub problem_count: u64,
}

impl IntegrityReport {
    /// Whether nothing was wrong.
    pub fn is_consistent(&self) -> bool {
        self.problem_count == 0
    }

    fn problem(&mut self, text: String) {
        self.problem_count += 1;
        if self.problems.len() < MAX_LISTED {
            self.problems.push(text);
        }
    }
}

/// Every key under `prefix`, page by page.
async fn all_keys(
    store: &dyn Store,
    prefix: &[u8],
    mut each: impl FnMut(&[u8], &[u8]) -> Result<(), EngineError>,
) -> Result<(), EngineError> {
    let mut pages = store.pages(Scan::prefix(prefix, 1_000));
    while let Some(entries) = pages.next().await? {
        for e in &entries {
            each(&e.key, &e.value)?;
        }
    }
    Ok(())
}

/// **Integrity**: checking every request's index entries against its document.
impl Engine {
    /// Checks that the stored request documents, their timelines and their index entries
    /// agree: each document's expected inbox, deadline and retention entries exist, no
    /// request index entry exists that no document expects, and each timeline holds
    /// exactly as many entries as its document counts. Reads the whole request space;
    /// the system operator only. Needs the catalogue the requests were made under (for
    /// deadline and retention rules).
    pub async fn check_request_integrity(
        &self,
        actor: &Actor,
    ) -> Result<IntegrityReport, EngineError> {
        decide(actor, &Action::CheckIntegrity).into_result()?;
        // A store of an earlier layout is checked as this version keeps it.
        self.ensure_dated_inbox().await?;
        let catalogue = self.catalogue();
        let mut report = IntegrityReport::default();
        let mut cases = Vec::new();
        all_keys(&*self.store, &[Space::Case as u8], |key, value| {
            let case: RequestCase = decode(key, value)?;
            cases.push(case);
            Ok(())
        })
        .await?;
        // Timeline entries per case, in one pass over the timeline space (key: space,
        // 16-byte case id, 8-byte sequence number).
        let mut timelines: std::collections::HashMap<[u8; 16], u64> =
            std::collections::HashMap::new();
        all_keys(&*self.store, &[Space::CaseEvent as u8], |key, _| {
            if let Some(id) = key.get(1..17).and_then(|b| <[u8; 16]>::try_from(b).ok()) {
                *timelines.entry(id).or_default() += 1;
            }
            Ok(())
        })
        .await?;
        let mut expected = BTreeSet::new();
        for case in &cases {
            report.cases += 1;
            expected.extend(case_index_keys(case, rules_of(&catalogue, &case.procedure)));
            let count = timelines.remove(case.id.as_bytes()).unwrap_or(0);
            report.timeline_entries += count;
            if count != case.events {
                report.problem(format!(
                    "request {} counts {} timeline entries but has {count}",
                    case.reference, case.events
                ));
            }
        }
        for (id, count) in timelines {
            report.timeline_entries += count;
            report.problem(format!(
                "{count} timeline entries of case {} have no request document",
                crate::store::KeyDisplay::from(id.as_slice())
            ));
        }
        let mut found = BTreeSet::new();
        // Layout 1's by-deadline entries count as orphans if any were left.
        for space in [Space::Inbox, Space::InboxDue, Space::Due] {
            all_keys(&*self.store, &[space as u8], |key, _| {
                found.insert(key.to_vec());
                Ok(())
            })
            .await?;
        }
        all_keys(&*self.store, &keys::retention_prefix(), |key, _| {
            // Requests' retention steps are 0 (block) and 1 (delete); other workflows
            // have their own checks.
            if matches!(key.last(), Some(0 | 1)) {
                found.insert(key.to_vec());
            }
            Ok(())
        })
        .await?;
        report.index_entries = u64::try_from(found.len()).unwrap_or(u64::MAX);
        for missing in expected.difference(&found) {
            report.problem(format!(
                "index entry {} is missing",
                crate::store::KeyDisplay::from(missing.as_slice())
            ));
        }
        for orphan in found.difference(&expected) {
            report.problem(format!(
                "index entry {} belongs to no request in that state",
                crate::store::KeyDisplay::from(orphan.as_slice())
            ));
        }
        Ok(report)
    }
}
