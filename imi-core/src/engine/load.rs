//! Synthetic load: many copies of one request, for load runs, benchmarks and scale
//! tests. Copies are written through the same index code as the commands, so they behave
//! exactly like requests that went through the workflow.

use chrono::Datelike;

use super::Engine;
use super::cases::write_case_doc;
use super::requests::rules_of;
use super::subjects::write_subject_index;
use crate::access::{Action, Actor, decide};
use crate::case::{RequestCase, TimelineEntry};
use crate::catalogue::AnswerValue;
use crate::error::EngineError;
use crate::ids::{CaseId, CaseReference};
use crate::keys;
use crate::record::{Txn, decode};
use crate::store::Scan;

/// Copies written per commit.
const COPIES_PER_COMMIT: usize = 500;

/// **Load-tool helpers** (feature `load`).
impl Engine {
    /// Writes `count` copies of the request `template` (operator only): each with a fresh
    /// id and reference, the template's state, answers and timeline, and every index
    /// entry (inboxes, deadlines, retention, data subjects) a request in that state has.
    /// For load runs and benchmarks. Copies are written in batches, one commit each;
    /// `progress` hears the number written after each. A template with files is refused
    /// (files are not copied). Returns the copies' ids, oldest first.
    pub async fn replicate_request(
        &self,
        actor: &Actor,
        template: CaseId,
        count: usize,
        mut progress: impl FnMut(usize),
    ) -> Result<Vec<CaseId>, EngineError> {
        decide(actor, &Action::SynthesizeLoad).into_result()?;
        let key = keys::case(template);
        let not_found = || EngineError::NotFound {
            kind: CaseId::KIND,
            id: template.to_string(),
        };
        let doc = self.store.get(&key).await?.ok_or_else(not_found)?;
        let case: RequestCase = decode(&key, &doc.value)?;
        let with_files = case
            .request
            .request_answers()
            .iter()
            .chain(case.request.reply_answers().iter())
            .any(|(_, v)| matches!(v, AnswerValue::Attachments(ids) if !ids.is_empty()));
        if with_files || case.parent.is_some() {
            return Err(EngineError::Transition(
                crate::workflow::TransitionError::Invalid {
                    command: "replicate",
                    reason: "the template must be a request without files or parent",
                },
            ));
        }
        let timeline = self
            .store
            .scan(&Scan::prefix(&keys::case_event(template, None), 10_000))
            .await?;
        let entries: Vec<TimelineEntry> = timeline
            .entries
            .iter()
            .map(|e| decode(&e.key, &e.value))
            .collect::<Result<_, _>>()?;
        let set = self.pinned_set(&case.question_set)?;
        let rules = rules_of(&self.catalogue(), &case.procedure);
        let year = u16::try_from(case.created_at.year())
            .unwrap_or(2008)
            .max(2008);
        let counter = keys::case_counter(year);
        let mut ids = Vec::with_capacity(count);
        while ids.len() < count {
            let n = COPIES_PER_COMMIT.min(count - ids.len());
            let mut txn = Txn::new(&*self.store);
            let last = match txn.get_raw(&counter).await? {
                Some(bytes) => u32::from_be_bytes(
                    bytes
                        .as_slice()
                        .try_into()
                        .map_err(|_| super::corrupt_index(&counter))?,
                ),
                None => 0,
            };
            let exhausted = || EngineError::Internal {
                detail: "reference numbers exhausted".into(),
            };
            let top = u32::try_from(n)
                .ok()
                .and_then(|n| last.checked_add(n))
                .ok_or_else(exhausted)?;
            txn.put_raw(counter.clone(), top.to_be_bytes().to_vec());
            let now = self.now();
            for i in 0..n {
                let number = u32::try_from(i + 1)
                    .ok()
                    .and_then(|i| last.checked_add(i))
                    .ok_or_else(exhausted)?;
                let copy = RequestCase {
                    id: self.ids.case(now),
                    reference: CaseReference::new(year, number).map_err(|e| {
                        EngineError::Internal {
                            detail: e.to_string(),
                        }
                    })?,
                    ..case.clone()
                };
                for e in &entries {
                    txn.put(keys::case_event(copy.id, Some(e.seq)), e)?;
                }
                write_subject_index(&mut txn, &set, &copy, None);
                write_case_doc(&mut txn, rules, &copy, None)?;
                ids.push(copy.id);
            }
            txn.commit().await?;
            progress(ids.len());
        }
        Ok(ids)
    }
}
