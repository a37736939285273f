//! One-to-one requests: creating them, acting on them, reading them on a need-to-know
//! basis, their timelines and inboxes.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Utc};

use super::cases::{case_doc, write_case_doc};
use super::flow::{CaseFlow, Who};
use super::subjects::write_subject_index;
use super::{Engine, corrupt_index};
use crate::access::{Actor, Principal, Target};
use crate::authority::Authority;
use crate::case::{
    ActorRef, RequestCase, RequestView, TimelineEntry, Visibility, visibility, visible_answers,
    visible_entry,
};
use crate::catalogue::{ProcedureId, QuestionSet, Right, Side, Workflow};
use crate::error::EngineError;
use crate::ids::{AuthorityId, CaseId, CaseReference, UserId};
use crate::keys;
use crate::page::{Cursor, Page, PageRequest};
use crate::record::{Txn, decode};
use crate::request::{
    Context, DeadlineRules, Request, RequestCommand, RequestEvent, RequestState, Roles, Stage,
};
use crate::store::{Merged, Scan, Store, StoreExt, Version};
use crate::user::User;
use crate::workflow::TransitionError;

/// How many reference numbers an engine reserves at a time.
pub(super) const REFERENCE_BLOCK: u32 = 32;

/// Reference numbers this engine has reserved and not yet handed out, per year.
#[derive(Debug, Default)]
pub(super) struct ReferenceBlocks {
    blocks: std::sync::Mutex<Vec<(u16, u32, u32)>>,
}

impl ReferenceBlocks {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(u16, u32, u32)>> {
        self.blocks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Hands out the next reserved number of `year`, dropping other years' blocks.
    fn take(&self, year: u16) -> Option<u32> {
        let mut blocks = self.lock();
        blocks.retain(|(y, next, end)| *y == year && next <= end);
        let block = blocks.first_mut()?;
        let n = block.1;
        match n.checked_add(1) {
            Some(next) => block.1 = next,
            None => drop(blocks.remove(0)),
        }
        Some(n)
    }

    /// Adds the reserved numbers `first..=last` of `year`.
    fn add(&self, year: u16, first: u32, last: u32) {
        self.lock().push((year, first, last));
    }
}

/// How often an operation is retried when it loses a race on an internal key (the
/// reference counter).
pub(super) const RETRIES: usize = 8;

pub(super) fn stage_code(stage: Stage) -> u8 {
    match stage {
        Stage::Draft => 0,
        Stage::AwaitingAcceptance => 1,
        Stage::Accepted => 2,
        Stage::Answered => 3,
        Stage::ClarificationRequested => 4,
        Stage::Closed => 5,
        Stage::Withdrawn => 6,
    }
}

/// What a case's procedure says about its deadlines and retention.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CaseRules {
    pub(super) deadlines: Option<DeadlineRules>,
    blocking_months: u32,
}

/// The date personal data of a request closed at `closed` are blocked under `rules`.
pub(super) fn blocking_date(
    closed: chrono::DateTime<chrono::Utc>,
    rules: CaseRules,
) -> chrono::NaiveDate {
    let day = closed.date_naive();
    day.checked_add_months(chrono::Months::new(rules.blocking_months))
        .unwrap_or(day)
}

/// Cases per retention commit: large enough to amortise a durable commit, small enough
/// that a commit stays short and a conflict with ordinary work costs little.
pub(super) const RETENTION_GROUP: usize = 128;

/// Personal data are deleted 3 years after formal closure (Art. 14(4)).
const DELETION_MONTHS: u32 = 36;

/// The date personal data of a request closed at `closed` are deleted.
pub(super) fn deletion_date(closed: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDate {
    let day = closed.date_naive();
    day.checked_add_months(chrono::Months::new(DELETION_MONTHS))
        .unwrap_or(day)
}

/// What [`Engine::tick`]'s retention does to a case, stored as the last byte of its
/// retention index entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RetentionStep {
    /// Block a request's personal data.
    BlockRequest = 0,
    /// Delete a request's personal data.
    DeleteRequest = 1,
    /// Block an alert's personal data.
    BlockAlert = 2,
    /// Delete an alert's personal data.
    DeleteAlert = 3,
    /// Block a notification's personal data.
    BlockNotification = 4,
    /// Delete a notification's personal data.
    DeleteNotification = 5,
    /// Remove a retired repository record (every revision).
    DeleteRecord = 6,
    /// Block a public submission's personal data.
    BlockSubmission = 7,
    /// Delete a public submission's personal data.
    DeleteSubmission = 8,
    /// Block the personal data of a case of a workflow on the generic layout (its name
    /// follows in the key).
    BlockFlow = 9,
    /// Delete them.
    DeleteFlow = 10,
}

impl RetentionStep {
    pub(super) fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => Self::BlockRequest,
            1 => Self::DeleteRequest,
            2 => Self::BlockAlert,
            3 => Self::DeleteAlert,
            4 => Self::BlockNotification,
            5 => Self::DeleteNotification,
            6 => Self::DeleteRecord,
            7 => Self::BlockSubmission,
            8 => Self::DeleteSubmission,
            9 => Self::BlockFlow,
            10 => Self::DeleteFlow,
            _ => return None,
        })
    }
}

/// The retention index entries of a case that ended at `ended` (if it did), for the steps
/// not yet taken: blocking after the procedure's period, deletion after 3 years.
pub(super) fn retention_keys(
    id: CaseId,
    ended: Option<chrono::DateTime<chrono::Utc>>,
    blocked: bool,
    erased: bool,
    rules: CaseRules,
    (block, delete): (RetentionStep, RetentionStep),
) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    if let Some(ended) = ended {
        if !blocked {
            out.push(keys::retention(
                blocking_date(ended, rules),
                Some((id.as_bytes(), block as u8)),
            ));
        }
        if !erased {
            out.push(keys::retention(
                deletion_date(ended),
                Some((id.as_bytes(), delete as u8)),
            ));
        }
    }
    out
}

/// A timeline entry with its personal data removed: answers to personal-data questions
/// and files dropped, free texts erased.
pub(super) fn erased_entry(entry: &TimelineEntry, set: &QuestionSet) -> TimelineEntry {
    use RequestEvent as E;
    let gone = || "(deleted)".to_owned();
    let keep =
        |a: &crate::catalogue::Answers| visible_answers(a, set, Visibility::WithoutPersonalData);
    let event = match &entry.event {
        E::DraftSaved { answers } => E::DraftSaved {
            answers: keep(answers),
        },
        E::Answered { answers, on_time } => E::Answered {
            answers: keep(answers),
            on_time: *on_time,
        },
        E::Rectified { side, answers, .. } => E::Rectified {
            side: *side,
            answers: keep(answers),
            reason: gone(),
        },
        E::UnlawfulDataErased {
            side, questions, ..
        } => E::UnlawfulDataErased {
            side: *side,
            questions: questions.clone(),
            reason: gone(),
        },
        E::Withdrawn { .. } => E::Withdrawn { reason: gone() },
        E::ClarificationAsked { .. } => E::ClarificationAsked { text: gone() },
        E::ClarificationReplied { .. } => E::ClarificationReplied { text: gone() },
        E::Commented { side, .. } => E::Commented {
            side: *side,
            text: gone(),
        },
        E::CoordinatorCommented { .. } => E::CoordinatorCommented { text: gone() },
        E::Referred { side, .. } => E::Referred {
            side: *side,
            comment: gone(),
        },
        E::ClosedByCoordinator { .. } => E::ClosedByCoordinator { reason: gone() },
        other => other.clone(),
    };
    TimelineEntry {
        event,
        ..entry.clone()
    }
}

/// The date a request's inbox entries carry: while it is open, the committed answer date
/// once accepted, else the date the answer is needed by; none otherwise.
fn inbox_deadline(request: &crate::request::Request) -> Option<chrono::NaiveDate> {
    let state = request.state();
    if !state.is_open() {
        return None;
    }
    match state {
        RequestState::Accepted { answer_by, .. } => Some(*answer_by),
        _ => request.needed_by(),
    }
}

/// Every inbox, deadline and retention entry a case should have in its current state.
/// One inbox entry per party serves both the inbox by stage and the by-deadline inbox,
/// so a transition rewrites two index entries, not four.
pub(super) fn case_index_keys(case: &RequestCase, rules: CaseRules) -> BTreeSet<Vec<u8>> {
    let stage = stage_code(case.request.state().stage());
    let date = inbox_deadline(&case.request);
    let mut out = BTreeSet::new();
    out.insert(keys::inbox(case.requester, 0, stage, date, case.id));
    if let Some(recipient) = case.request.state().recipient()
        && case.request.state().stage() != Stage::Draft
    {
        out.insert(keys::inbox(recipient, 1, stage, date, case.id));
    }
    if let Some((_, date)) = rules.deadlines.and_then(|r| case.request.next_deadline(r)) {
        out.insert(keys::due(date, Some(case.id)));
    }
    out.extend(retention_keys(
        case.id,
        case.request.closed_at(),
        case.request.is_blocked(),
        case.request.is_erased(),
        rules,
        (RetentionStep::BlockRequest, RetentionStep::DeleteRequest),
    ));
    out
}

/// The deadline and retention settings of a case's procedure.
pub(super) fn rules_of(
    catalogue: &crate::catalogue::Catalogue,
    procedure: &ProcedureId,
) -> CaseRules {
    let p = catalogue.procedure(procedure);
    let deadlines = match p.map(|p| &p.workflow) {
        Some(Workflow::Request {
            remind_unaccepted_after_days,
            escalate_overdue_after_days,
            ..
        }) => Some(DeadlineRules {
            remind_unaccepted_after_days: *remind_unaccepted_after_days,
            escalate_overdue_after_days: *escalate_overdue_after_days,
        }),
        _ => None,
    };
    let blocking_months = u32::from(p.map_or(crate::catalogue::DEFAULT_BLOCKING_MONTHS, |p| {
        p.blocking.months()
    }));
    CaseRules {
        deadlines,
        blocking_months,
    }
}

/// What to list in an inbox.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InboxQuery {
    /// Only cases where the authority is this party.
    pub side: Option<Side>,
    /// Only cases in this stage.
    pub stage: Option<Stage>,
    /// Only cases allocated to the acting user (the per-user inbox).
    pub allocated_to_me: bool,
}

/// **One-to-one requests**: create, read, act, inboxes.
impl Engine {
    /// The open requests where the actor's authority is `side`, soonest deadline first
    /// (the committed answer date once accepted, else the date the answer is needed by),
    /// up to `until` when given: the "approaching and past deadlines" view. With
    /// `waiting_for_me`, only those where it is this side's turn. Served from an index.
    pub async fn inbox_by_deadline(
        &self,
        actor: &Actor,
        side: Side,
        until: Option<chrono::NaiveDate>,
        waiting_for_me: bool,
        page: PageRequest,
    ) -> Result<Page<RequestView>, EngineError> {
        let p = Self::principal(actor)?;
        self.ensure_dated_inbox().await?;
        let party = match side {
            Side::Requester => 0,
            Side::Responder => 1,
        };
        // One stream per open stage, each in date order; merged by date, then case.
        let common = keys::inbox_prefix(p.authority(), Some(party), None);
        let resume = match page.cursor() {
            Some(cursor) => Some(cursor.key_within(&common)?),
            None => None,
        };
        // The day after `until` (none after the last representable date: no bound).
        let until = keys::inbox_date(until.and_then(|d| d.succ_opt()));
        let scans = [
            Stage::AwaitingAcceptance,
            Stage::Accepted,
            Stage::Answered,
            Stage::ClarificationRequested,
        ]
        .into_iter()
        .map(|stage| {
            let prefix = keys::inbox_prefix(p.authority(), Some(party), Some(stage_code(stage)));
            let mut scan = Scan::prefix(&prefix, page.limit());
            // Undated entries (and, with `until`, later ones) are not listed.
            scan.end = std::ops::Bound::Excluded([prefix.as_slice(), &until].concat());
            if let Some(at) = resume.as_ref().and_then(|r| r.get(common.len()..)) {
                scan = scan.resume([prefix.as_slice(), at].concat());
            }
            (prefix.len(), scan)
        })
        .collect();
        let entries = self.store.merged(scans);
        // The cursor leaves the stage out: it is a position in the merged order.
        let cursor_of = |key: &[u8]| {
            [
                common.as_slice(),
                key.get(common.len() + 1..).unwrap_or_default(),
            ]
            .concat()
        };
        self.views_from_index(actor, entries, cursor_of, page.limit(), |_, view| {
            !waiting_for_me || view.case.request.state().waiting_for(side)
        })
        .await
    }

    /// One page of the cases an index lists (keys ending in case ids) that `actor` may
    /// see and `keep` accepts. The page never holds more than `limit` items, and its
    /// cursor (`cursor_of` the last entry read) continues right after that entry.
    async fn views_from_index(
        &self,
        actor: &Actor,
        mut entries: Merged<'_, dyn Store>,
        cursor_of: impl Fn(&[u8]) -> Vec<u8>,
        limit: usize,
        keep: impl Fn(&[u8], &RequestView) -> bool,
    ) -> Result<Page<RequestView>, EngineError> {
        let mut items = Vec::new();
        loop {
            // Up to a page of entries, then their cases in one batched read.
            let mut batch = Vec::with_capacity(limit);
            while batch.len() < limit {
                match entries.next().await? {
                    Some(e) => batch.push(e),
                    None => break,
                }
            }
            if batch.is_empty() {
                break;
            }
            let case_keys = batch
                .iter()
                .map(|e| {
                    keys::trailing_id(&e.key)
                        .and_then(|b| CaseId::from_uuid(uuid::Uuid::from_bytes(b)).ok())
                        .map(keys::case)
                        .ok_or_else(|| corrupt_index(&e.key))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let docs = self.store.get_many(&case_keys).await?;
            for ((e, key), doc) in batch.into_iter().zip(&case_keys).zip(docs) {
                let Some(doc) = doc else { continue };
                let Ok(case) = decode::<RequestCase>(key, &doc.value) else {
                    continue;
                };
                if let Ok(Some(view)) = self.view_of(actor, case).await
                    && keep(&e.key, &view)
                {
                    items.push(view);
                    if items.len() == limit {
                        self.audit_reads(actor, &items, crate::audit::Purpose::HandleCase)
                            .await?;
                        return Ok(Page {
                            items,
                            next: Some(Cursor::from_key(cursor_of(&e.key))),
                        });
                    }
                }
            }
        }
        self.audit_reads(actor, &items, crate::audit::Purpose::HandleCase)
            .await?;
        Ok(Page { items, next: None })
    }
}

impl Engine {
    pub(super) fn principal(actor: &Actor) -> Result<&Principal, EngineError> {
        match actor {
            Actor::User(p) => Ok(p),
            _ => Err(EngineError::Denied(crate::access::Denial {
                actor: actor.to_string(),
                action: "act on a request",
                reason: "requests are handled by users of authorities",
            })),
        }
    }

    pub(super) async fn authority_doc(&self, id: AuthorityId) -> Result<Authority, EngineError> {
        self.authority_cached(id)
            .await?
            .ok_or_else(|| EngineError::NotFound {
                kind: AuthorityId::KIND,
                id: id.to_string(),
            })
    }

    /// The parties `actor` is in `case`.
    pub(crate) async fn roles(
        &self,
        actor: &Actor,
        case: &RequestCase,
    ) -> Result<Roles, EngineError> {
        let Actor::User(p) = actor else {
            return Ok(Roles::default());
        };
        let recipient = case.request.state().recipient();
        let holds = |right| p.holds(right, &case.area, &case.procedure);
        let mut roles = Roles {
            requester: p.authority() == case.requester && holds(Right::RequestHandler),
            responder: Some(p.authority()) == recipient && holds(Right::RequestHandler),
            allocator: Some(p.authority()) == recipient && holds(Right::Allocator),
            ..Roles::default()
        };
        if p.coordinator().is_some()
            && (p.has_right(Right::ReferralHandler) || p.has_right(Right::Administrator))
        {
            let covers = |a: &Authority| {
                let areas = a.areas();
                p.coordinates(&Target {
                    id: Some(a.id()),
                    participant: a.participant(),
                    region: a.region(),
                    areas: &areas,
                })
            };
            roles.requester_coordinator = covers(&self.authority_doc(case.requester).await?);
            if let Some(r) = recipient {
                roles.responder_coordinator = covers(&self.authority_doc(r).await?);
            }
        }
        Ok(roles)
    }

    fn view(&self, case: RequestCase, roles: Roles) -> Result<Option<RequestView>, EngineError> {
        let Some(v) = visibility(roles, &case.request) else {
            return Ok(None);
        };
        let set = self.pinned_set(&case.question_set)?;
        let request = case.request.redacted(|a| visible_answers(a, &set, v));
        Ok(Some(RequestView {
            case: RequestCase { request, ..case },
            visibility: v,
            roles,
        }))
    }

    /// Checks that `to` may receive a case of `procedure` from `requester`: active, with
    /// access to the procedure, and in another country unless the procedure allows
    /// national use. Coordinators of the recipient's country may receive forwards.
    async fn check_recipient(
        &self,
        procedure: &ProcedureId,
        requester: AuthorityId,
        to: AuthorityId,
        coordinator_ok: bool,
    ) -> Result<(), EngineError> {
        let bad = |reason| {
            EngineError::Transition(TransitionError::Invalid {
                command: "address",
                reason,
            })
        };
        let target = match self.authority_doc(to).await {
            Ok(a) => a,
            Err(EngineError::NotFound { .. }) => return Err(bad("the recipient does not exist")),
            Err(e) => return Err(e),
        };
        if !target.is_active() {
            return Err(bad("the recipient is not an active authority"));
        }
        let reachable = target.procedures().contains(procedure)
            || (coordinator_ok && target.coordinator().is_some());
        if !reachable {
            return Err(bad("the recipient has no access to this procedure"));
        }
        let national_use = matches!(
            self.catalogue().procedure(procedure).map(|p| &p.workflow),
            Some(Workflow::Request {
                national_use: true,
                ..
            })
        );
        let from = self.authority_doc(requester).await?;
        if from.participant() == target.participant() && !national_use {
            return Err(bad(
                "this procedure is for cross-border requests; the recipient is in the requester's country",
            ));
        }
        Ok(())
    }

    /// Creates a draft request of `procedure` for the actor's authority (a request handler
    /// of an authority with access to it). It pins the newest question-set version.
    pub async fn create_request(
        &self,
        actor: &Actor,
        procedure: &ProcedureId,
    ) -> Result<RequestView, EngineError> {
        let p = Self::principal(actor)?;
        let catalogue = self.catalogue();
        let proc_ = catalogue
            .procedure(procedure)
            .filter(|x| x.workflow.kind() == crate::catalogue::WorkflowKind::Request)
            .ok_or_else(|| EngineError::NotFound {
                kind: ProcedureId::KIND,
                id: procedure.to_string(),
            })?;
        if !p.holds(Right::RequestHandler, &proc_.area, procedure) {
            return Err(EngineError::Denied(crate::access::Denial {
                actor: actor.to_string(),
                action: "create a request",
                reason: "this needs the request-handler right for the procedure, at an authority with access to it",
            }));
        }
        let pinned = self.pin_question_set(procedure)?;
        for _ in 0..RETRIES {
            let now = self.now();
            let mut txn = Txn::new(&*self.store);
            let reference = self.next_reference(&mut txn, now).await?;
            let case = RequestCase {
                id: self.ids.case(now),
                reference,
                procedure: procedure.clone(),
                area: proc_.area.clone(),
                question_set: pinned.clone(),
                requester: p.authority(),
                parent: None,
                created_at: now,
                updated_at: now,
                events: 0,
                request: Request::new(),
            };
            txn.expect_absent(keys::case(case.id));
            write_case_doc(&mut txn, rules_of(&catalogue, procedure), &case, None)?;
            match txn.commit().await {
                Ok(_) => {
                    let roles = self.roles(actor, &case).await?;
                    return self
                        .view(case, roles)?
                        .ok_or_else(|| EngineError::Internal {
                            detail: "the creator cannot see its request".into(),
                        });
                }
                Err(EngineError::Conflict(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(EngineError::Internal {
            detail: "could not allocate a reference number".into(),
        })
    }

    /// The next case reference of the current year. References come from blocks of
    /// [`REFERENCE_BLOCK`] reserved on the year's counter in a commit of their own, so
    /// concurrent creators do not all conflict on one counter key; an engine that stops
    /// leaves the rest of its block unused (a gap in the numbering, never a duplicate).
    /// `_txn` is the creating transaction, which no longer reads the counter.
    pub(super) async fn next_reference(
        &self,
        _txn: &mut Txn<'_>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<CaseReference, EngineError> {
        let year = u16::try_from(now.year()).unwrap_or(2008).max(2008);
        for _ in 0..RETRIES {
            if let Some(n) = self.references.take(year) {
                return CaseReference::new(year, n).map_err(|e| EngineError::Internal {
                    detail: e.to_string(),
                });
            }
            let key = keys::case_counter(year);
            let mut txn = Txn::new(&*self.store);
            let last = match txn.get_raw(&key).await? {
                Some(bytes) => u32::from_be_bytes(
                    bytes
                        .as_slice()
                        .try_into()
                        .map_err(|_| corrupt_index(&key))?,
                ),
                None => 0,
            };
            let end = last
                .checked_add(REFERENCE_BLOCK)
                .ok_or_else(|| EngineError::Internal {
                    detail: "reference numbers exhausted".into(),
                })?;
            txn.put_raw(key, end.to_be_bytes().to_vec());
            match txn.commit().await {
                Ok(_) => self.references.add(year, last + 1, end),
                Err(EngineError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Err(EngineError::Internal {
            detail: "could not reserve reference numbers".into(),
        })
    }

    /// Reads a request as `actor` may see it, with its version (for `If-Match`). Actors
    /// who are no party and no coordinator of a party get `NotFound`.
    pub async fn request(
        &self,
        actor: &Actor,
        id: CaseId,
    ) -> Result<(RequestView, Version), EngineError> {
        let (view, version) = self.request_unaudited(actor, id).await?;
        self.audit_reads(
            actor,
            std::slice::from_ref(&view),
            crate::audit::Purpose::HandleCase,
        )
        .await?;
        Ok((view, version))
    }

    /// Records reads of personal data: one audit record per case shown in full to a
    /// user, all in one commit.
    pub(crate) async fn audit_reads(
        &self,
        actor: &Actor,
        views: &[RequestView],
        purpose: crate::audit::Purpose,
    ) -> Result<(), EngineError> {
        if !matches!(actor, Actor::User(_)) {
            return Ok(());
        }
        let mut txn = Txn::new(&*self.store);
        let mut any = false;
        for v in views.iter().filter(|v| v.visibility == Visibility::Full) {
            self.audit(
                &mut txn,
                actor,
                crate::audit::AuditAction::ReadCase { case: v.case.id },
                if v.case.request.is_blocked() {
                    crate::audit::Purpose::BlockedDataAccess
                } else {
                    purpose
                },
            )?;
            any = true;
        }
        if any {
            txn.commit().await?;
        }
        Ok(())
    }

    /// [`Engine::request`] without writing the audit record (for callers that record
    /// reads in bulk).
    pub(super) async fn request_unaudited(
        &self,
        actor: &Actor,
        id: CaseId,
    ) -> Result<(RequestView, Version), EngineError> {
        let key = keys::case(id);
        let not_found = || EngineError::NotFound {
            kind: CaseId::KIND,
            id: id.to_string(),
        };
        let v = self.store.get(&key).await?.ok_or_else(not_found)?;
        let case: RequestCase = decode(&key, &v.value)?;
        let view = self.view_of(actor, case).await?;
        Ok((view.ok_or_else(not_found)?, v.version))
    }

    /// What `actor` may see of a loaded case, if anything (unaudited).
    async fn view_of(
        &self,
        actor: &Actor,
        case: RequestCase,
    ) -> Result<Option<RequestView>, EngineError> {
        let id = case.id;
        let roles = self.roles(actor, &case).await?;
        // A party with a running, justified access sees a blocked case in full.
        let unblocked = case.request.is_blocked()
            && (roles.requester || roles.responder)
            && self.has_unblock(actor, id).await?;
        let view = match actor {
            Actor::System => Some(RequestView {
                case,
                visibility: Visibility::Full,
                roles,
            }),
            _ if unblocked => Some(RequestView {
                case,
                visibility: Visibility::Full,
                roles,
            }),
            _ => self.view(case, roles)?,
        };
        Ok(view)
    }

    /// The command forms the actor may use on request `id` now (each with its members),
    /// derived from the state machine; `NotFound` for a request it may not see.
    pub async fn request_commands(
        &self,
        actor: &Actor,
        id: CaseId,
    ) -> Result<Vec<&'static crate::workflow::CommandSpec>, EngineError> {
        self.case_commands(actor, crate::workflow::CaseKind::Request, id)
            .await
    }

    /// The timeline of a request, oldest first, as `actor` may see it.
    pub async fn request_timeline(
        &self,
        actor: &Actor,
        id: CaseId,
    ) -> Result<Vec<TimelineEntry>, EngineError> {
        let (view, _) = self.request(actor, id).await?;
        self.timeline_of(actor, &view).await
    }

    /// A request and its timeline as `actor` may see them, with one audited read (what a
    /// request's page shows).
    pub async fn request_with_timeline(
        &self,
        actor: &Actor,
        id: CaseId,
    ) -> Result<(RequestView, Version, Vec<TimelineEntry>), EngineError> {
        let (view, version) = self.request(actor, id).await?;
        let timeline = self.timeline_of(actor, &view).await?;
        Ok((view, version, timeline))
    }

    /// The timeline of a request already read as `view`.
    async fn timeline_of(
        &self,
        actor: &Actor,
        view: &RequestView,
    ) -> Result<Vec<TimelineEntry>, EngineError> {
        let id = view.case.id;
        let set = self.pinned_set(&view.case.question_set)?;
        // The drafting history is the requesting handlers' own: everyone else (the other
        // side, coordinators, a recipient that also coordinates the requester) sees what
        // was sent, not how it was drafted (`as_sent`).
        let requesting_side = matches!(actor, Actor::System) || view.roles.requester;
        let mut out = Vec::new();
        for e in self
            .store
            .pages(Scan::prefix(&keys::case_event(id, None), 1_000))
            .all()
            .await?
        {
            let entry: TimelineEntry = decode(&e.key, &e.value)?;
            out.push(visible_entry(&entry, &set, view.visibility));
        }
        if requesting_side {
            return Ok(out);
        }
        Ok(crate::case::as_sent(out, RequestEvent::is_drafting, |e| {
            matches!(e, RequestEvent::DraftSaved { .. })
        }))
    }

    /// Acts on a request: computes the actor's parties, lets the state machine decide,
    /// checks recipients and handlers against the directory, and writes the case, its
    /// timeline entries and inbox entries in one commit. With `if_match`, refuses (412)
    /// when the case changed since that version; a concurrent change wins with a
    /// conflict (409) and nothing is applied.
    pub async fn act_on_request(
        &self,
        actor: &Actor,
        id: CaseId,
        command: RequestCommand,
        if_match: Option<Version>,
    ) -> Result<(RequestView, Version), EngineError> {
        Self::principal(actor)?;
        let (new, version, _) = self
            .act_on_case::<RequestCase>(Who::Actor(actor), id, command, if_match)
            .await?;
        let roles = self.roles(actor, &new).await?;
        // An actor who gave the request away (forward) still learns where it went, but
        // no longer sees its content.
        let view = match self.view(new.clone(), roles)? {
            Some(view) => view,
            None => RequestView {
                case: RequestCase {
                    request: new.request.redacted(|_| crate::catalogue::Answers::new()),
                    ..new
                },
                visibility: Visibility::ProgressOnly,
                roles,
            },
        };
        Ok((view, version))
    }

    async fn check_handler(&self, case: &RequestCase, handler: UserId) -> Result<(), EngineError> {
        let bad = |reason| {
            EngineError::Transition(TransitionError::Invalid {
                command: "allocate",
                reason,
            })
        };
        let recipient = case
            .request
            .state()
            .recipient()
            .ok_or_else(|| bad("the request has no recipient"))?;
        let authority = self.authority_doc(recipient).await?;
        if !authority.uses_allocation() {
            return Err(bad("the responding authority does not use allocation"));
        }
        let user: User = match self
            .load(&keys::user(handler), UserId::KIND, &handler)
            .await
        {
            Ok(u) => u,
            Err(EngineError::NotFound { .. }) => return Err(bad("the handler does not exist")),
            Err(e) => return Err(e),
        };
        let principal = Principal::new(&user, &authority);
        if user.authority() != recipient
            || !user.is_active()
            || !principal.holds(Right::RequestHandler, &case.area, &case.procedure)
        {
            return Err(bad(
                "the handler must be an active request handler of the responding authority",
            ));
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn create_child(
        &self,
        txn: &mut Txn<'_>,
        parent: &RequestCase,
        set: &QuestionSet,
        child: CaseId,
        to: AuthorityId,
        questions: &BTreeSet<crate::catalogue::QuestionId>,
        now: chrono::DateTime<chrono::Utc>,
        p: &Principal,
    ) -> Result<(), EngineError> {
        let responder_questions = set
            .questions()
            .filter(|q| q.answered_by == Side::Responder)
            .map(|q| q.id.clone());
        let mut request = Request::child_of(&parent.request, questions, responder_questions);
        let sent = RequestEvent::Sent {
            recipient: to,
            needed_by: parent.request.needed_by().unwrap_or(now.date_naive()),
        };
        request.apply(&sent, now);
        let case = RequestCase {
            id: child,
            reference: self.next_reference(txn, now).await?,
            parent: Some(parent.id),
            created_at: now,
            updated_at: now,
            events: 1,
            request,
            ..parent.clone()
        };
        txn.expect_absent(keys::case(child));
        let entry = TimelineEntry {
            seq: 1,
            at: now,
            actor: ActorRef::User {
                user: p.user(),
                authority: p.authority(),
            },
            event: sent,
        };
        txn.create(keys::case_event(child, Some(1)), &entry)?;
        // The child is sent: its recipient hears of it like of any request.
        self.announce_request(txn, &case, std::slice::from_ref(&entry.event))?;
        write_subject_index(txn, set, &case, None);
        write_case_doc(
            txn,
            rules_of(&self.catalogue(), &parent.procedure),
            &case,
            None,
        )
    }

    /// The requests of the actor's authority, by party and stage, and within a stage
    /// soonest deadline first (undated last, then oldest first), filtered by party and
    /// stage, served from the inbox index; each as the actor may see it.
    pub async fn inbox(
        &self,
        actor: &Actor,
        query: &InboxQuery,
        page: PageRequest,
    ) -> Result<Page<RequestView>, EngineError> {
        let p = Self::principal(actor)?;
        let party = query.side.map(|s| match s {
            Side::Requester => 0,
            Side::Responder => 1,
        });
        let stage = query.stage.map(stage_code);
        self.ensure_dated_inbox().await?;
        let prefix = match (party, stage) {
            (Some(party), stage) => keys::inbox_prefix(p.authority(), Some(party), stage),
            (None, _) => keys::inbox_prefix(p.authority(), None, None),
        };
        let mut scan = Scan::prefix(&prefix, page.limit());
        if let Some(cursor) = page.cursor() {
            scan = scan.resume(cursor.key_within(&prefix)?);
        }
        let stage_at = prefix.len() + 1;
        // With no party filter, a stage filter applies to both parties' entries.
        let me = p.user();
        let entries = self.store.merged(vec![(prefix.len(), scan)]);
        self.views_from_index(actor, entries, <[u8]>::to_vec, page.limit(), |key, view| {
            (party.is_some() || stage.is_none() || key.get(stage_at).copied() == stage)
                && (!query.allocated_to_me || view.case.request.handler() == Some(me))
        })
        .await
    }
}

impl RequestState {
    /// Whether it is the given party's turn (the inbox's "waiting for me").
    pub fn waiting_for(&self, side: Side) -> bool {
        matches!(
            (self, side),
            (
                RequestState::Draft | RequestState::Answered { .. },
                Side::Requester
            ) | (
                RequestState::Accepted {
                    proposed: Some(_),
                    ..
                },
                Side::Requester
            ) | (
                RequestState::AwaitingAcceptance { .. }
                    | RequestState::Accepted { proposed: None, .. }
                    | RequestState::ClarificationRequested { .. },
                Side::Responder
            )
        )
    }
}

case_doc!(RequestCase, "case", request, RequestEvent, doc: keys::case, events: keys::case_event,
    index: case_index_keys);

impl CaseFlow for RequestCase {
    type Machine = Request;
    type Prepared = ();

    fn machine(&self) -> &Request {
        &self.request
    }

    async fn roles(
        engine: &Engine,
        who: Who<'_>,
        case: &Self,
    ) -> Result<Option<Roles>, EngineError> {
        let Who::Actor(actor) = who else {
            return Ok(None);
        };
        let roles = engine.roles(actor, case).await?;
        Ok(visibility(roles, &case.request).map(|_| roles))
    }

    async fn prepare(_: &Engine, _: &Self) -> Result<(), EngineError> {
        Ok(())
    }

    fn context<'a>(
        case: &'a Self,
        _: &'a (),
        questions: &'a QuestionSet,
        now: DateTime<Utc>,
    ) -> Context<'a> {
        Context {
            now,
            questions,
            requester: case.requester,
        }
    }

    /// A split child's id is the engine's to mint: one the caller chose could name a
    /// case of another workflow (all share the id space).
    fn complete(engine: &Engine, command: RequestCommand, now: DateTime<Utc>) -> RequestCommand {
        match command {
            RequestCommand::Split { to, questions, .. } => RequestCommand::Split {
                to,
                questions,
                child: engine.ids.case(now),
            },
            other => other,
        }
    }

    /// Recipients and handlers against the directory; files the answers refer to
    /// against the case's own uploads.
    async fn check(
        engine: &Engine,
        old: &Self,
        events: &mut Vec<RequestEvent>,
    ) -> Result<(), EngineError> {
        let id = old.id;
        for e in events.iter() {
            match e {
                RequestEvent::Sent { recipient, .. } => {
                    engine
                        .check_recipient(&old.procedure, old.requester, *recipient, false)
                        .await?;
                }
                RequestEvent::Forwarded { to, .. } | RequestEvent::SplitOff { to, .. } => {
                    engine
                        .check_recipient(&old.procedure, old.requester, *to, true)
                        .await?;
                }
                RequestEvent::Allocated { handler } => engine.check_handler(old, *handler).await?,
                RequestEvent::DraftSaved { answers } => {
                    engine
                        .check_attachment_refs(id, Side::Requester, answers)
                        .await?;
                }
                RequestEvent::Answered { answers, .. } => {
                    engine
                        .check_attachment_refs(id, Side::Responder, answers)
                        .await?;
                }
                RequestEvent::Rectified { side, answers, .. } => {
                    engine.check_attachment_refs(id, *side, answers).await?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Split children are created, unlawfully processed answers erased everywhere, the
    /// other side told, and the data-subject index kept in step.
    async fn effects(
        engine: &Engine,
        txn: &mut Txn<'_>,
        who: Who<'_>,
        old: &Self,
        new: &mut Self,
        events: &[RequestEvent],
        set: &QuestionSet,
        now: DateTime<Utc>,
    ) -> Result<(), EngineError> {
        for e in events {
            if let RequestEvent::SplitOff {
                child,
                to,
                questions,
            } = e
                && let Who::Actor(actor) = who
            {
                let p = Engine::principal(actor)?;
                engine
                    .create_child(txn, old, set, *child, *to, questions, now, p)
                    .await?;
            }
        }
        for e in events {
            if let RequestEvent::UnlawfulDataErased {
                side, questions, ..
            } = e
            {
                engine.erase_answers(txn, old, *side, questions).await?;
            }
        }
        engine.announce_request(txn, new, events)?;
        write_subject_index(txn, set, new, Some(old));
        Ok(())
    }

    fn purpose(_: Who<'_>, roles: Roles, command: &RequestCommand) -> crate::audit::Purpose {
        if matches!(
            command,
            RequestCommand::Rectify { .. } | RequestCommand::EraseUnlawful { .. }
        ) {
            crate::audit::Purpose::DataSubjectRequest
        } else if roles.requester || roles.responder || roles.allocator {
            crate::audit::Purpose::HandleCase
        } else {
            crate::audit::Purpose::Monitor
        }
    }
}
