//! Plumbing shared by every workflow's case documents: box pages over an index,
//! timelines, writing a case with its index entries, the pinned question set, and
//! retention. Each case document implements [`CaseDoc`] (and [`Retained`] where the
//! shared retention step blocks and deletes it); the policy stays with each workflow: a
//! box lists what its index holds and shows only what the workflow's `load` lets the
//! actor see.

use std::collections::BTreeSet;
use std::future::Future;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::requests::{CaseRules, blocking_date, deletion_date, rules_of};
use super::{Engine, corrupt_index};
use crate::case::{ActorRef, TimelineEntry};
use crate::catalogue::{ProcedureId, QuestionSet, QuestionSetVersion};
use crate::error::EngineError;
use crate::ids::CaseId;
use crate::page::{Cursor, Page, PageRequest};
use crate::record::{Txn, decode};
use crate::store::{Scan, StoreExt};

/// What the shared plumbing needs of a case document: where it and its timeline live,
/// its index entries (boxes, deadlines, retention), and how an event is recorded.
pub(super) trait CaseDoc:
    Clone + Serialize + DeserializeOwned + Send + Sync + 'static
{
    /// The workflow's events.
    type Event: Clone + Serialize + DeserializeOwned + Send + Sync + 'static;
    /// What the case is called in messages (`NotFound` names it).
    const KIND: &'static str;
    /// The document's key.
    fn doc_key(id: CaseId) -> Vec<u8>;
    /// Its timeline's key (prefix), or one entry's.
    fn event_key(id: CaseId, seq: Option<u64>) -> Vec<u8>;
    /// Its id.
    fn id(&self) -> CaseId;
    /// Its procedure.
    fn procedure(&self) -> &ProcedureId;
    /// The question-set version it pinned.
    fn question_set(&self) -> &QuestionSetVersion;
    /// Every index entry it should have now (boxes, deadlines and retention).
    fn index_keys(&self, rules: CaseRules) -> BTreeSet<Vec<u8>>;
    /// Folds `event` in at `at`, counts it and marks the change; returns the event's
    /// position on the timeline.
    fn record(&mut self, event: &Self::Event, at: DateTime<Utc>) -> u64;
}

/// What the shared retention step needs of a case document: when it ended, whether its
/// personal data are blocked or deleted, and how to drop them.
pub(super) trait Retained: CaseDoc {
    /// The event retention records when it blocks the personal data.
    const BLOCKED: Self::Event;
    /// The event retention records when it deletes the personal data.
    const DELETED: Self::Event;
    /// An event without personal data: answers to personal-data questions dropped, free
    /// texts replaced by `placeholder`.
    fn event_without_personal_data(
        event: &Self::Event,
        set: &QuestionSet,
        placeholder: &str,
    ) -> Self::Event;
    /// When it ended: the start of its retention.
    fn ended_at(&self) -> Option<DateTime<Utc>>;
    /// Whether its personal data are blocked.
    fn is_blocked(&self) -> bool;
    /// Whether its personal data were deleted.
    fn is_erased(&self) -> bool;
    /// Drops its answers to personal-data questions.
    fn drop_personal_data(&mut self, set: &QuestionSet);
}

/// Implements [`CaseDoc`] for a case document whose workflow data sit in `$field` (a
/// machine with `state().ended_at()`, `is_blocked`, `is_erased`, `redacted` and `apply`)
/// and whose `id`, `procedure`, `question_set`, `events` and `updated_at` are fields.
macro_rules! case_doc {
    ($case:ty, $kind:literal, $field:ident, $event:ident, doc: $doc_key:path,
     events: $event_key:path, index: $index_keys:path) => {
        impl $crate::engine::cases::CaseDoc for $case {
            type Event = $event;
            const KIND: &'static str = $kind;

            fn doc_key(id: $crate::ids::CaseId) -> Vec<u8> {
                $doc_key(id)
            }

            fn event_key(id: $crate::ids::CaseId, seq: Option<u64>) -> Vec<u8> {
                $event_key(id, seq)
            }

            fn id(&self) -> $crate::ids::CaseId {
                self.id
            }

            fn procedure(&self) -> &$crate::catalogue::ProcedureId {
                &self.procedure
            }

            fn question_set(&self) -> &$crate::catalogue::QuestionSetVersion {
                &self.question_set
            }

            fn index_keys(&self, rules: $crate::engine::requests::CaseRules) -> std::collections::BTreeSet<Vec<u8>> {
                $index_keys(self, rules)
            }

            fn record(&mut self, event: &$event, at: chrono::DateTime<chrono::Utc>) -> u64 {
                self.$field.apply(event, at);
                self.events += 1;
                self.updated_at = at;
                self.events
            }
        }
    };
    ($case:ty, $kind:literal, $field:ident, $event:ident, doc: $doc_key:path,
     events: $event_key:path, without: $without:path, index: $index_keys:path) => {
        $crate::engine::cases::case_doc!($case, $kind, $field, $event, doc: $doc_key,
            events: $event_key, index: $index_keys);

        impl $crate::engine::cases::Retained for $case {
            const BLOCKED: $event = $event::PersonalDataBlocked;
            const DELETED: $event = $event::PersonalDataDeleted;

            fn event_without_personal_data(
                event: &$event,
                set: &$crate::catalogue::QuestionSet,
                placeholder: &str,
            ) -> $event {
                $without(event, set, placeholder)
            }

            fn ended_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
                self.$field.state().ended_at()
            }

            fn is_blocked(&self) -> bool {
                self.$field.is_blocked()
            }

            fn is_erased(&self) -> bool {
                self.$field.is_erased()
            }

            fn drop_personal_data(&mut self, set: &$crate::catalogue::QuestionSet) {
                self.$field = self
                    .$field
                    .redacted(|a| $crate::alert::without_personal_data(a, set));
            }
        }
    };
}
pub(super) use case_doc;

/// Folds `event` by `actor` into `case` at `at` and adds its timeline entry to `txn`.
pub(super) fn record_event<C: CaseDoc>(
    txn: &mut Txn<'_>,
    case: &mut C,
    event: &C::Event,
    actor: ActorRef,
    at: DateTime<Utc>,
) -> Result<(), EngineError> {
    let seq = case.record(event, at);
    txn.create(
        C::event_key(case.id(), Some(seq)),
        &TimelineEntry {
            seq,
            at,
            actor,
            event: event.clone(),
        },
    )
}

/// Writes `new` within `txn` with its index entries: the ones `old` had and `new` has
/// not are deleted, the new ones written.
pub(super) fn write_case_doc<C: CaseDoc>(
    txn: &mut Txn<'_>,
    rules: CaseRules,
    new: &C,
    old: Option<&C>,
) -> Result<(), EngineError> {
    txn.put(C::doc_key(new.id()), new)?;
    let new_keys = new.index_keys(rules);
    let old_keys = old.map(|o| o.index_keys(rules)).unwrap_or_default();
    for k in old_keys.difference(&new_keys) {
        txn.delete(k.clone());
    }
    for k in new_keys.difference(&old_keys) {
        txn.put_index(k.clone());
    }
    Ok(())
}

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
        let mut pages = self.store.pages(scan);
        while let Some(entries) = pages.next().await? {
            for e in entries {
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
        }
        Ok(Page { items, next: None })
    }

    /// [`Engine::box_page`] for boxes whose entries name documents under `doc_key`: the
    /// documents of each scanned page are read in one batched read, then `build` makes
    /// each item from its key and stored value. A missing document, or `NotFound` from
    /// `build` (not visible to the reader), skips the entry.
    pub(super) async fn box_page_docs<T, F>(
        &self,
        prefix: Vec<u8>,
        page: PageRequest,
        doc_key: fn(CaseId) -> Vec<u8>,
        mut build: F,
    ) -> Result<Page<T>, EngineError>
    where
        F: FnMut(CaseId, &[u8], crate::store::Versioned) -> Result<T, EngineError>,
    {
        let mut scan = Scan::prefix(&prefix, page.limit());
        if let Some(cursor) = page.cursor() {
            scan = scan.resume(cursor.key_within(&prefix)?);
        }
        let mut items = Vec::new();
        let mut pages = self.store.pages(scan);
        while let Some(entries) = pages.next().await? {
            let ids = entries
                .iter()
                .map(|e| keys_id(&e.key))
                .collect::<Result<Vec<_>, _>>()?;
            let doc_keys: Vec<Vec<u8>> = ids.iter().map(|id| doc_key(*id)).collect();
            let docs = self.store.get_many(&doc_keys).await?;
            for (((e, id), key), doc) in entries.into_iter().zip(ids).zip(&doc_keys).zip(docs) {
                let Some(doc) = doc else { continue };
                match build(id, key, doc) {
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
        }
        Ok(Page { items, next: None })
    }

    /// Every entry of the timeline under `prefix`, oldest first.
    pub(super) async fn read_timeline<E: DeserializeOwned>(
        &self,
        prefix: &[u8],
    ) -> Result<Vec<E>, EngineError> {
        self.store
            .pages(Scan::prefix(prefix, 1_000))
            .all()
            .await?
            .iter()
            .map(|e| decode(&e.key, &e.value))
            .collect()
    }
}

impl Engine {
    /// The question-set version a case pinned.
    pub(super) fn pinned_set(
        &self,
        pinned: &QuestionSetVersion,
    ) -> Result<QuestionSet, EngineError> {
        self.catalogue()
            .question_set(&pinned.id, pinned.version)
            .cloned()
            .ok_or_else(|| EngineError::NotFound {
                kind: "question set",
                id: pinned.to_string(),
            })
    }

    /// A case's timeline as a normal reader sees it: once blocked, without personal
    /// data (the operator, `full`, sees it whole until deletion).
    pub(super) async fn case_timeline<C: Retained>(
        &self,
        case: &C,
        full: bool,
    ) -> Result<Vec<TimelineEntry<C::Event>>, EngineError> {
        let entries: Vec<TimelineEntry<C::Event>> =
            self.read_timeline(&C::event_key(case.id(), None)).await?;
        if !case.is_blocked() || full {
            return Ok(entries);
        }
        let set = self.pinned_set(case.question_set())?;
        Ok(entries
            .into_iter()
            .map(|e| TimelineEntry {
                event: C::event_without_personal_data(&e.event, &set, "(blocked)"),
                ..e
            })
            .collect())
    }

    /// One retention step for case `id` within `txn`: blocking at the end of the
    /// procedure's period after the case ended, deletion 3 years after (the case and
    /// every timeline entry lose their personal data), each once, with a system timeline
    /// entry. Returns whether it did; a step not yet due keeps its index entries.
    pub(super) async fn case_retention<C: Retained>(
        &self,
        txn: &mut Txn<'_>,
        id: CaseId,
        delete: bool,
        now: DateTime<Utc>,
    ) -> Result<bool, EngineError> {
        let Some((old, _)) = txn.get::<C>(&C::doc_key(id)).await? else {
            return Ok(false);
        };
        let rules = rules_of(&self.catalogue(), old.procedure());
        let today = now.date_naive();
        let due = old.ended_at().is_some_and(|ended| {
            if delete {
                !old.is_erased() && deletion_date(ended) <= today
            } else {
                !old.is_blocked() && blocking_date(ended, rules) <= today
            }
        });
        if !due {
            for k in old.index_keys(rules) {
                txn.put_index(k);
            }
            return Ok(false);
        }
        let mut new = old.clone();
        let event = if delete {
            let set = self.pinned_set(old.question_set())?;
            new.drop_personal_data(&set);
            let entries: Vec<TimelineEntry<C::Event>> =
                self.read_timeline(&C::event_key(id, None)).await?;
            for entry in entries {
                let key = C::event_key(id, Some(entry.seq));
                let erased = TimelineEntry {
                    event: C::event_without_personal_data(&entry.event, &set, "(deleted)"),
                    ..entry
                };
                txn.put(key, &erased)?;
            }
            C::DELETED
        } else {
            C::BLOCKED
        };
        let seq = new.record(&event, now);
        txn.create(
            C::event_key(id, Some(seq)),
            &TimelineEntry {
                seq,
                at: now,
                actor: ActorRef::System,
                event,
            },
        )?;
        write_case_doc(txn, rules, &new, Some(&old))?;
        Ok(true)
    }
}

fn keys_id(key: &[u8]) -> Result<CaseId, EngineError> {
    crate::keys::trailing_id(key)
        .and_then(|b| CaseId::from_uuid(uuid::Uuid::from_bytes(b)).ok())
        .ok_or_else(|| corrupt_index(key))
}
