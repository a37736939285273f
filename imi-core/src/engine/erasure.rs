//! Erasure of a request's personal data: at the end of retention (every answer, free
//! text, file and translation), and of answers processed unlawfully (one side's answers to
//! some questions, from the case and every earlier timeline entry).

use std::collections::BTreeSet;

use super::requests::erased_entry;
use super::subjects::subject_keys;
use super::{Engine, corrupt_index};
use crate::case::{RequestCase, TimelineEntry, Visibility, visible_answers};
use crate::catalogue::Side;
use crate::error::EngineError;
use crate::keys;
use crate::record::{Txn, decode};
use crate::request::RequestEvent;
use crate::store::{Scan, StoreExt};

impl Engine {
    /// Removes a case's personal data within `txn`: answers to personal-data questions
    /// and files from the case and every timeline entry, free texts, attachments,
    /// machine translations and unblock records.
    pub(super) async fn erase_case(
        &self,
        txn: &mut Txn<'_>,
        case: &mut RequestCase,
    ) -> Result<(), EngineError> {
        let set = self.pinned_set(&case.question_set)?;
        for k in subject_keys(case, &set) {
            txn.delete(k);
        }
        case.request = case
            .request
            .redacted(|a| visible_answers(a, &set, Visibility::WithoutPersonalData));
        let mut pages = self
            .store
            .pages(Scan::prefix(&keys::case_event(case.id, None), 1_000));
        while let Some(entries) = pages.next().await? {
            for e in &entries {
                let entry: TimelineEntry = decode(&e.key, &e.value)?;
                txn.put(e.key.clone(), &erased_entry(&entry, &set))?;
            }
        }
        let files = self
            .store
            .scan(&Scan::prefix(&keys::case_attachment(case.id, None), 10_000))
            .await?;
        for e in &files.entries {
            let Some(id) = keys::trailing_id(&e.key)
                .and_then(|b| crate::ids::AttachmentId::from_uuid(uuid::Uuid::from_bytes(b)).ok())
            else {
                return Err(corrupt_index(&e.key));
            };
            if let Some(meta) = self.store.get(&keys::attachment(id)).await? {
                let meta: crate::attachment::Attachment =
                    decode(&keys::attachment(id), &meta.value)?;
                for i in 0..meta.chunks {
                    txn.delete(keys::attachment_chunk(id, i));
                }
            }
            txn.delete(keys::attachment(id));
            txn.delete(e.key.clone());
        }
        for prefix in [keys::case_translations(case.id), keys::unblocks(case.id)] {
            for e in self
                .store
                .scan(&Scan::prefix(&prefix, 10_000))
                .await?
                .entries
            {
                txn.delete(e.key);
            }
        }
        Ok(())
    }
}

impl Engine {
    /// Removes the answers to `questions` that `side` supplied from every timeline entry
    /// of `case`, deletes the files they referred to and the case's machine
    /// translations, in `txn` (erasure of unlawfully processed data).
    pub(super) async fn erase_answers(
        &self,
        txn: &mut Txn<'_>,
        case: &RequestCase,
        side: Side,
        questions: &BTreeSet<crate::catalogue::QuestionId>,
    ) -> Result<(), EngineError> {
        use crate::catalogue::{AnswerValue, Answers};
        let mut files = BTreeSet::new();
        let mut strip = |answers: &Answers| {
            let mut kept = answers.clone();
            for q in questions {
                if let Some(AnswerValue::Attachments(ids)) = kept.clear(q) {
                    files.extend(ids);
                }
            }
            kept
        };
        let mut pages = self
            .store
            .pages(Scan::prefix(&keys::case_event(case.id, None), 1_000));
        while let Some(entries) = pages.next().await? {
            for e in &entries {
                let entry: TimelineEntry = decode(&e.key, &e.value)?;
                let event = match &entry.event {
                    RequestEvent::DraftSaved { answers } if side == Side::Requester => {
                        RequestEvent::DraftSaved {
                            answers: strip(answers),
                        }
                    }
                    RequestEvent::Answered { answers, on_time } if side == Side::Responder => {
                        RequestEvent::Answered {
                            answers: strip(answers),
                            on_time: *on_time,
                        }
                    }
                    RequestEvent::Rectified {
                        side: s,
                        answers,
                        reason,
                    } if *s == side => RequestEvent::Rectified {
                        side,
                        answers: strip(answers),
                        reason: reason.clone(),
                    },
                    _ => continue,
                };
                txn.put(e.key.clone(), &TimelineEntry { event, ..entry })?;
            }
        }
        for id in files {
            if let Some(meta) = self.store.get(&keys::attachment(id)).await? {
                let meta: crate::attachment::Attachment =
                    decode(&keys::attachment(id), &meta.value)?;
                if meta.case != case.id {
                    continue;
                }
                for i in 0..meta.chunks {
                    txn.delete(keys::attachment_chunk(id, i));
                }
                txn.delete(keys::attachment(id));
                txn.delete(keys::case_attachment(case.id, Some(id)));
            }
        }
        for e in self
            .store
            .scan(&Scan::prefix(&keys::case_translations(case.id), 10_000))
            .await?
            .entries
        {
            txn.delete(e.key);
        }
        Ok(())
    }
}
