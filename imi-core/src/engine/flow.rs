//! Case handling written once for every workflow. A workflow's case document implements
//! [`CaseFlow`]: who the acting party is for a case, what its machine's context needs,
//! and the checks and consequences that need the directory. [`Engine::act_on_case`] then
//! does what every command does, the same way for requests, alerts, notifications,
//! public submissions, SOLVIT cases and surveys: read the case in a transaction, hide it
//! from those who may not see it, honour `If-Match`, let the pure machine decide, record
//! one timeline entry per event, apply the workflow's consequences, keep the indexes in
//! step and write an audit record, all in one commit. [`Engine::create_case`] gives a new
//! case its reference number and id in the same way.

use chrono::{DateTime, Utc};

use super::Engine;
use super::cases::{CaseDoc, record_event, write_case_doc};
use super::requests::rules_of;
use crate::access::Actor;
use crate::audit::{AuditAction, Purpose};
use crate::case::ActorRef;
use crate::catalogue::QuestionSet;
use crate::error::EngineError;
use crate::ids::{CaseId, CaseReference};
use crate::record::Txn;
use crate::store::Version;
use crate::workflow::{Command, Workflow};

/// Who acts on a case: a signed-in user (or the operator), or a public submitter proven
/// by the submission's secret.
#[derive(Debug, Clone, Copy)]
pub(super) enum Who<'a> {
    /// A user or the operator.
    Actor(&'a Actor),
    /// The submitter of a public submission.
    Submitter,
}

impl Who<'_> {
    /// How the timeline and the audit log name the acting party.
    pub(super) fn actor_ref(self) -> ActorRef {
        match self {
            Who::Actor(a) => Engine::actor_ref(a),
            Who::Submitter => ActorRef::Submitter,
        }
    }
}

/// What the command's machine gets to see and the workflow adds around it.
type Roles<F> = <<F as CaseFlow>::Machine as Workflow>::Roles;
/// A workflow's command.
pub(super) type CommandOf<F> = <<F as CaseFlow>::Machine as Workflow>::Command;
/// A workflow's event.
type EventOf<F> = <<F as CaseFlow>::Machine as Workflow>::Event;

/// A case document whose workflow the engine runs generically.
pub(super) trait CaseFlow: CaseDoc<Event = EventOf<Self>> {
    /// The pure machine.
    type Machine: Workflow;
    /// What the machine's context needs that is read before deciding (procedure rules,
    /// the directory); owned, so the context can borrow it.
    type Prepared: Send + Sync;

    /// The workflow data.
    fn machine(&self) -> &Self::Machine;

    /// The parties `who` is for `case`, or `None` when it may not see the case at all
    /// (it is then told the case does not exist). May refuse with `Denied` when `who`
    /// sees the case but may never act on it.
    fn roles(
        engine: &Engine,
        who: Who<'_>,
        case: &Self,
    ) -> impl Future<Output = Result<Option<Roles<Self>>, EngineError>> + Send;

    /// Reads what the context needs.
    fn prepare(
        engine: &Engine,
        case: &Self,
    ) -> impl Future<Output = Result<Self::Prepared, EngineError>> + Send;

    /// The machine's context.
    fn context<'a>(
        case: &'a Self,
        prepared: &'a Self::Prepared,
        questions: &'a QuestionSet,
        now: DateTime<Utc>,
    ) -> <Self::Machine as Workflow>::Context<'a>;

    /// Replaces what the engine, not the caller, decides in a command (an id it mints).
    fn complete(
        _engine: &Engine,
        command: CommandOf<Self>,
        _now: DateTime<Utc>,
    ) -> CommandOf<Self> {
        command
    }

    /// Checks that need the directory, before anything is written; may add events that
    /// follow from the directory (standing distributions of an alert).
    fn check(
        _engine: &Engine,
        _case: &Self,
        _events: &mut Vec<EventOf<Self>>,
    ) -> impl Future<Output = Result<(), EngineError>> + Send {
        async { Ok(()) }
    }

    /// Consequences written in the same commit: announcements, the archive, child
    /// cases, indexes of the workflow's own, facts about the case learnt from the
    /// directory (written to `new`).
    #[allow(clippy::too_many_arguments)]
    fn effects(
        _engine: &Engine,
        _txn: &mut Txn<'_>,
        _who: Who<'_>,
        _old: &Self,
        _new: &mut Self,
        _events: &[EventOf<Self>],
        _questions: &QuestionSet,
        _now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), EngineError>> + Send {
        async { Ok(()) }
    }

    /// The purpose the audit log records for a change.
    fn purpose(who: Who<'_>, _roles: Roles<Self>, _command: &CommandOf<Self>) -> Purpose {
        match who {
            Who::Actor(_) => Purpose::HandleCase,
            Who::Submitter => Purpose::OwnSubmission,
        }
    }
}

impl Engine {
    /// One command on case `id` by `who`, with everything every workflow does around its
    /// machine, in one commit. Returns the case as written, its new version and the
    /// roles `who` had. Nobody who may not see the case learns that it exists; a stale
    /// `if_match` gives `VersionMismatch`; nothing is written unless all of it is.
    pub(super) async fn act_on_case<F: CaseFlow>(
        &self,
        who: Who<'_>,
        id: CaseId,
        command: CommandOf<F>,
        if_match: Option<Version>,
    ) -> Result<(F, Version, Roles<F>), EngineError> {
        let mut txn = Txn::new(&*self.store);
        let not_found = || EngineError::NotFound {
            kind: F::KIND,
            id: id.to_string(),
        };
        let (old, current) = txn.get::<F>(&F::doc_key(id)).await?.ok_or_else(not_found)?;
        let roles = F::roles(self, who, &old).await?.ok_or_else(not_found)?;
        if let Some(expected) = if_match
            && expected != current
        {
            return Err(EngineError::VersionMismatch { expected, current });
        }
        let set = self.pinned_set(old.question_set())?;
        let now = self.now();
        let command = F::complete(self, command, now);
        let prepared = F::prepare(self, &old).await?;
        let ctx = F::context(&old, &prepared, &set, now);
        let mut events = old.machine().decide(roles, &command, &ctx)?;
        F::check(self, &old, &mut events).await?;
        let mut new = old.clone();
        let by = who.actor_ref();
        for e in &events {
            record_event(&mut txn, &mut new, e, by, now)?;
        }
        F::effects(self, &mut txn, who, &old, &mut new, &events, &set, now).await?;
        write_case_doc(
            &mut txn,
            rules_of(&self.catalogue(), old.procedure()),
            &new,
            Some(&old),
        )?;
        self.audit_as(
            &mut txn,
            by,
            AuditAction::ChangeCase {
                case: id,
                command: command.name().to_owned(),
            },
            F::purpose(who, roles, &command),
        )?;
        let version = txn.commit().await?;
        Ok((new, version, roles))
    }

    /// The command forms `who` may use on case `id` now, derived from the machine
    /// ([`crate::workflow::offered`]): what a page offers as buttons and forms. Nobody
    /// who may not see the case learns that it exists; one who sees it but may never act
    /// gets none.
    pub(super) async fn offered_on_case<F: CaseFlow>(
        &self,
        who: Who<'_>,
        id: CaseId,
    ) -> Result<Vec<&'static crate::workflow::CommandSpec>, EngineError> {
        let not_found = || EngineError::NotFound {
            kind: F::KIND,
            id: id.to_string(),
        };
        let key = F::doc_key(id);
        let found = self.store.get(&key).await?.ok_or_else(not_found)?;
        let case: F = crate::record::decode(&key, &found.value)?;
        let roles = match F::roles(self, who, &case).await {
            Ok(Some(roles)) => roles,
            Ok(None) => return Err(not_found()),
            Err(EngineError::Denied(_)) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let set = self.pinned_set(case.question_set())?;
        let prepared = F::prepare(self, &case).await?;
        let ctx = F::context(&case, &prepared, &set, self.now());
        Ok(crate::workflow::offered(case.machine(), roles, &ctx))
    }

    /// The command forms `actor` may use on case `id` of workflow `kind` now, derived from
    /// the workflow's machine ([`crate::workflow::offered`]): what a page offers as
    /// buttons and forms. `NotFound` for a case the actor may not see; none for a case it
    /// sees but may never act on.
    pub async fn case_commands(
        &self,
        actor: &Actor,
        kind: crate::workflow::CaseKind,
        id: CaseId,
    ) -> Result<Vec<&'static crate::workflow::CommandSpec>, EngineError> {
        use crate::workflow::CaseKind;
        let who = Who::Actor(actor);
        match kind {
            CaseKind::Request => {
                self.offered_on_case::<crate::case::RequestCase>(who, id)
                    .await
            }
            CaseKind::Alert => {
                self.offered_on_case::<super::alerts::AlertCase>(who, id)
                    .await
            }
            CaseKind::Notification => {
                self.offered_on_case::<super::notifications::NotificationCase>(who, id)
                    .await
            }
            CaseKind::Submission => {
                self.offered_on_case::<super::submissions::SubmissionCase>(who, id)
                    .await
            }
            CaseKind::Solvit => {
                self.offered_on_case::<super::solvit::SolvitCase>(who, id)
                    .await
            }
            CaseKind::Survey => {
                self.offered_on_case::<super::survey::SurveyCase>(who, id)
                    .await
            }
        }
    }

    /// Creates a case: `build` makes it from its new id, reference number and time; it is
    /// written with its index entries under a fresh key. A reference number another
    /// engine took meanwhile is retried with the next one.
    pub(super) async fn create_case<F: CaseDoc>(
        &self,
        mut build: impl FnMut(CaseId, CaseReference, DateTime<Utc>) -> F + Send,
    ) -> Result<F, EngineError> {
        for _ in 0..super::requests::RETRIES {
            let now = self.now();
            let mut txn = Txn::new(&*self.store);
            let reference = self.next_reference(&mut txn, now).await?;
            let case = build(self.ids.case(now), reference, now);
            txn.expect_absent(F::doc_key(case.id()));
            write_case_doc(
                &mut txn,
                rules_of(&self.catalogue(), case.procedure()),
                &case,
                None,
            )?;
            match txn.commit().await {
                Ok(_) => return Ok(case),
                Err(EngineError::Conflict(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(EngineError::Internal {
            detail: "could not allocate a reference number".into(),
        })
    }
}

/// The retention index entries of a case of a workflow on the generic layout that ended
/// at `ended` (if it did), for the steps not yet taken: blocking after the procedure's
/// period, deletion after 3 years. The workflow's name follows the step in the key.
pub(super) fn flow_retention_keys(
    workflow: &str,
    id: CaseId,
    ended: Option<DateTime<Utc>>,
    blocked: bool,
    erased: bool,
    rules: super::requests::CaseRules,
) -> Vec<Vec<u8>> {
    use super::requests::{RetentionStep, blocking_date, deletion_date};
    let mut out = Vec::new();
    if let Some(ended) = ended {
        if !blocked {
            out.push(crate::keys::flow_retention(
                blocking_date(ended, rules),
                id,
                RetentionStep::BlockFlow as u8,
                workflow,
            ));
        }
        if !erased {
            out.push(crate::keys::flow_retention(
                deletion_date(ended),
                id,
                RetentionStep::DeleteFlow as u8,
                workflow,
            ));
        }
    }
    out
}

impl Engine {
    /// Deadlines of the workflows on the generic layout that have them
    /// ([`super::FLOWS_WITH_DEADLINES`]): each one's `due` index up to `now`'s date, at
    /// most `batch` entries each, handed to the workflow (`flow_due`), one commit per
    /// case. A case another command changed meanwhile waits for the next tick. Returns
    /// how many were handled, and whether some were left for the next tick.
    pub(super) async fn flow_deadlines(
        &self,
        now: DateTime<Utc>,
        batch: usize,
    ) -> Result<(usize, usize), EngineError> {
        let tomorrow = now.date_naive() + chrono::Duration::days(1);
        let (mut done, mut deferred) = (0, 0);
        for workflow in super::FLOWS_WITH_DEADLINES {
            let scan = crate::store::Scan {
                start: std::ops::Bound::Included(
                    crate::keys::flow_index(workflow, "due").into_bytes(),
                ),
                end: std::ops::Bound::Excluded(
                    crate::keys::flow_index(workflow, "due")
                        .date(tomorrow)
                        .into_bytes(),
                ),
                direction: crate::store::Direction::Forward,
                limit: batch.clamp(1, crate::store::MAX_SCAN_LIMIT),
            };
            let found = self.store.scan(&scan).await?;
            for entry in &found.entries {
                let id = crate::keys::trailing_id(&entry.key)
                    .and_then(|b| CaseId::from_uuid(uuid::Uuid::from_bytes(b)).ok())
                    .ok_or_else(|| super::corrupt_index(&entry.key))?;
                match self.flow_due(workflow, id, &entry.key, now).await {
                    Ok(()) => done += 1,
                    Err(EngineError::Conflict(_)) => deferred += 1,
                    Err(e) => return Err(e),
                }
            }
            if found.continuation.is_some() {
                deferred += 1;
            }
        }
        Ok((done, deferred))
    }
}
