//! The engine's clockwork: `tick` records deadlines reached and runs retention
//! (blocking, then deletion of personal data on the legal schedule) for every workflow.

use super::cases::write_case_doc;
use std::collections::BTreeSet;

use super::requests::{
    RETENTION_GROUP, RetentionStep, blocking_date, case_index_keys, deletion_date, rules_of,
};
use super::{Engine, corrupt_index};
use crate::access::Actor;
use crate::case::{ActorRef, RequestCase, TimelineEntry};
use crate::error::EngineError;
use crate::ids::{CaseId, RecordId};
use crate::keys;
use crate::record::Txn;
use crate::request::RequestEvent;
use crate::store::Scan;

/// What one [`Engine::tick`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Deadlines recorded (each is recorded once).
    pub deadlines: usize,
    /// Deadline entries left for the next tick (the batch was full, or a case changed
    /// concurrently).
    pub deferred: usize,
    /// Retention steps taken: requests, alerts, notifications and public submissions
    /// whose personal data were blocked or deleted, and retired repository records
    /// removed.
    pub blocked: usize,
    /// Former users whose name and e-mail were deleted.
    pub former_users_erased: usize,
    /// Audit records sealed into the hash chain.
    pub audit_sealed: usize,
    /// Expired sign-in sessions removed.
    pub sessions_removed: usize,
}

/// **The clockwork**: deadlines, reminders and retention, run by `tick`.
impl Engine {
    /// Records every deadline that has passed by `now` (reminders when a request is not
    /// accepted in time or not answered by the committed date, escalation to the
    /// coordinators later), at most `batch` of them. Idempotent: each deadline is recorded
    /// once, as a system entry on the case's timeline, in the same commit that moves the
    /// case to its next deadline. Call it on a schedule; a full batch means call again.
    pub async fn tick(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        batch: usize,
    ) -> Result<TickReport, EngineError> {
        let mut report = TickReport::default();
        let prefix = keys::due_prefix();
        let tomorrow = now.date_naive() + chrono::Duration::days(1);
        let scan = Scan {
            start: std::ops::Bound::Included(prefix.clone()),
            end: std::ops::Bound::Excluded(keys::due(tomorrow, None)),
            direction: crate::store::Direction::Forward,
            limit: batch.clamp(1, crate::store::MAX_SCAN_LIMIT),
        };
        let found = self.store.scan(&scan).await?;
        let catalogue = self.catalogue();
        for entry in &found.entries {
            let id = keys::trailing_id(&entry.key)
                .and_then(|b| CaseId::from_uuid(uuid::Uuid::from_bytes(b)).ok())
                .ok_or_else(|| corrupt_index(&entry.key))?;
            let mut txn = Txn::new(&*self.store);
            let Some((old, _)) = txn.get::<RequestCase>(&keys::case(id)).await? else {
                txn.delete(entry.key.clone());
                txn.commit().await?;
                continue;
            };
            let rules = rules_of(&catalogue, &old.procedure);
            let mut new = old.clone();
            let mut passed = Vec::new();
            while let Some((kind, due)) = rules
                .deadlines
                .and_then(|r| new.request.next_deadline(r))
                .filter(|(_, due)| *due <= now.date_naive())
            {
                let event = RequestEvent::DeadlineReached { kind, due };
                new.request.apply(&event, now);
                new.events += 1;
                let entry = TimelineEntry {
                    seq: new.events,
                    at: now,
                    actor: ActorRef::System,
                    event,
                };
                txn.create(keys::case_event(id, Some(new.events)), &entry)?;
                passed.push(entry.event);
                report.deadlines += 1;
            }
            self.announce_request(&mut txn, &new, &passed)?;
            write_case_doc(&mut txn, rules, &new, Some(&old))?;
            // A stale index entry (the case moved on) is cleaned up by the same commit.
            txn.delete(entry.key.clone());
            if case_index_keys(&new, rules).contains(&entry.key) {
                txn.put_index(entry.key.clone());
            }
            match txn.commit().await {
                Ok(_) => {}
                Err(EngineError::Conflict(_)) => report.deferred += 1,
                Err(e) => return Err(e),
            }
        }
        if found.continuation.is_some() {
            report.deferred += 1;
        }
        let (done, deferred) = self.flow_deadlines(now, batch).await?;
        report.deadlines += done;
        report.deferred += deferred;
        report.blocked = self.apply_retention(now, batch).await?;
        report.former_users_erased = self.erase_former_users(now, batch).await?;
        report.sessions_removed = self.remove_expired_sessions(now, batch).await?;
        report.audit_sealed = self.seal_audit(&Actor::System, batch).await?;
        Ok(report)
    }

    /// Blocks the personal data of closed requests whose blocking period ended by `now`,
    /// and deletes those of requests closed 3 years ago (at most `batch` steps): blocked
    /// data no normal read shows; deleted data are gone from the case, its timeline, its
    /// files, translations and accesses, keeping the non-personal skeleton. Each step
    /// happens once, with a system entry on the timeline, in the commit that removes its
    /// retention entry.
    async fn apply_retention(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        batch: usize,
    ) -> Result<usize, EngineError> {
        let tomorrow = now.date_naive() + chrono::Duration::days(1);
        let scan = Scan {
            start: std::ops::Bound::Included(keys::retention_prefix()),
            end: std::ops::Bound::Excluded(keys::retention(tomorrow, None)),
            direction: crate::store::Direction::Forward,
            limit: batch.clamp(1, crate::store::MAX_SCAN_LIMIT),
        };
        let found = self.store.scan(&scan).await?;
        let mut done = 0;
        for group in found.entries.chunks(RETENTION_GROUP) {
            match self.retention_steps(now, group).await {
                Ok(n) => done += n,
                // A party changed one of these cases meanwhile: one at a time, so that
                // the others go through; the loser waits for the next tick.
                Err(EngineError::Conflict(_)) => {
                    for one in group {
                        match self.retention_steps(now, std::slice::from_ref(one)).await {
                            Ok(n) => done += n,
                            Err(EngineError::Conflict(_)) => {}
                            Err(e) => return Err(e),
                        }
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    }

    /// One commit of retention steps for `entries` (retention index entries); returns
    /// how many cases were blocked or deleted.
    async fn retention_steps(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        entries: &[crate::store::Entry],
    ) -> Result<usize, EngineError> {
        let catalogue = self.catalogue();
        let mut blocked = 0;
        let mut txn = Txn::new(&*self.store);
        // A commit reads the store, not its own writes: a case's second step waits for
        // the next commit.
        let mut touched = BTreeSet::new();
        for entry in entries {
            // Space, date (8 bytes), case id (16), step; a workflow on the generic
            // layout adds its name.
            let (Some(kind), Some(id), Some(workflow)) = (
                entry.key.get(25).copied(),
                entry
                    .key
                    .get(9..25)
                    .and_then(keys::trailing_id)
                    .and_then(|b| CaseId::from_uuid(uuid::Uuid::from_bytes(b)).ok()),
                entry
                    .key
                    .get(26..)
                    .map(|rest| rest.strip_suffix(&[0]).unwrap_or(rest))
                    .and_then(|name| std::str::from_utf8(name).ok()),
            ) else {
                return Err(corrupt_index(&entry.key));
            };
            if !touched.insert(id) {
                continue;
            }
            txn.delete(entry.key.clone());
            let step = RetentionStep::from_code(kind);
            match step {
                Some(RetentionStep::BlockAlert | RetentionStep::DeleteAlert) => {
                    let delete = step == Some(RetentionStep::DeleteAlert);
                    if self
                        .case_retention::<super::AlertCase>(&mut txn, id, delete, now)
                        .await?
                    {
                        blocked += 1;
                    }
                    continue;
                }
                Some(RetentionStep::BlockNotification | RetentionStep::DeleteNotification) => {
                    let delete = step == Some(RetentionStep::DeleteNotification);
                    if self
                        .case_retention::<super::NotificationCase>(&mut txn, id, delete, now)
                        .await?
                    {
                        blocked += 1;
                    }
                    continue;
                }
                Some(RetentionStep::BlockSubmission | RetentionStep::DeleteSubmission) => {
                    let delete = step == Some(RetentionStep::DeleteSubmission);
                    if self
                        .case_retention::<super::SubmissionCase>(&mut txn, id, delete, now)
                        .await?
                    {
                        blocked += 1;
                    }
                    continue;
                }
                Some(RetentionStep::BlockFlow | RetentionStep::DeleteFlow) => {
                    let delete = step == Some(RetentionStep::DeleteFlow);
                    if self
                        .flow_retention(&mut txn, workflow, id, delete, now)
                        .await?
                    {
                        blocked += 1;
                    }
                    continue;
                }
                Some(RetentionStep::DeleteRecord) => {
                    let record = RecordId::from_uuid(*id.as_uuid())
                        .map_err(|_| corrupt_index(&entry.key))?;
                    if self.record_retention(&mut txn, record, now).await? {
                        blocked += 1;
                    }
                    continue;
                }
                Some(RetentionStep::BlockRequest | RetentionStep::DeleteRequest) | None => {}
            }
            if let Some((old, _)) = txn.get::<RequestCase>(&keys::case(id)).await? {
                let rules = rules_of(&catalogue, &old.procedure);
                let closed = old.request.closed_at();
                let mut new = old.clone();
                let event = match step {
                    Some(RetentionStep::BlockRequest)
                        if !old.request.is_blocked()
                            && closed
                                .is_some_and(|c| blocking_date(c, rules) <= now.date_naive()) =>
                    {
                        blocked += 1;
                        Some(RequestEvent::PersonalDataBlocked)
                    }
                    Some(RetentionStep::DeleteRequest)
                        if !old.request.is_erased()
                            && closed.is_some_and(|c| deletion_date(c) <= now.date_naive()) =>
                    {
                        self.erase_case(&mut txn, &mut new).await?;
                        blocked += 1;
                        Some(RequestEvent::PersonalDataDeleted)
                    }
                    _ => None,
                };
                if let Some(event) = event {
                    new.request.apply(&event, now);
                    new.events += 1;
                    let timeline = TimelineEntry {
                        seq: new.events,
                        at: now,
                        actor: ActorRef::System,
                        event,
                    };
                    txn.create(keys::case_event(id, Some(new.events)), &timeline)?;
                    write_case_doc(&mut txn, rules, &new, Some(&old))?;
                }
            }
        }
        txn.commit().await?;
        Ok(blocked)
    }
}
