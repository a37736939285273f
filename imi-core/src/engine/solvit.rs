//! SOLVIT cases through the engine: the pure machine is [`crate::solvit`]; here the
//! case document, its boxes and statistics index, and the few rules that need the
//! directory. Everything else (reading under the policy, `If-Match`, the timeline, the
//! audit, retention) is the generic case handling of `flow.rs` and `cases.rs`.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::Engine;
use super::cases::case_doc;
use super::flow::{CaseFlow, Who, flow_retention_keys};
use super::requests::CaseRules;
use crate::access::{Actor, Denial};
use crate::catalogue::{AreaId, ProcedureId, QuestionSet, QuestionSetVersion, Right, Workflow};
use crate::country::Participant;
use crate::error::EngineError;
use crate::ids::{AuthorityId, CaseId, CaseReference};
use crate::keys;
use crate::page::{Page, PageRequest};
use crate::solvit::{
    Outcome, ProblemArea, Solvit, SolvitCommand, SolvitContext, SolvitEvent, SolvitRoles,
    SolvitStage, SolvitState, solvit_visible,
};
use crate::store::{Scan, StoreExt, Version};
use crate::workflow::TransitionError;

/// The workflow's name in keys and messages.
pub(super) const KIND: &str = "solvit-case";

/// A SOLVIT case as stored, and as its centres see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SolvitCase {
    /// Its id.
    pub id: CaseId,
    /// Its reference number (shared numbering with every other case).
    pub reference: CaseReference,
    /// The SOLVIT procedure.
    pub procedure: ProcedureId,
    /// Its area.
    pub area: AreaId,
    /// The question-set version it pinned.
    pub question_set: QuestionSetVersion,
    /// The home centre.
    pub home: AuthorityId,
    /// The home centre's country.
    pub home_country: Participant,
    /// The lead centre's country, once submitted.
    pub lead_country: Option<Participant>,
    /// The public submission the complaint came in by, if it did.
    pub submission: Option<CaseId>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// How many timeline entries it has.
    pub events: u64,
    /// The workflow state and answers.
    pub solvit: Solvit,
}

/// One step of a SOLVIT case's timeline.
pub type SolvitTimelineEntry = crate::case::TimelineEntry<SolvitEvent>;

/// Which SOLVIT cases to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SolvitBox {
    /// Those the actor's centre is the home centre of (drafts included).
    Home,
    /// Those submitted to the actor's centre as lead centre.
    Lead,
}

/// SOLVIT figures for one home country, lead country and problem area. No personal data.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SolvitFigures {
    /// The home centre's country.
    pub home_country: String,
    /// The lead centre's country.
    pub lead_country: String,
    /// The problem area.
    pub problem_area: Option<ProblemArea>,
    /// Cases submitted.
    pub submitted: u64,
    /// Of those, accepted by the lead centre.
    pub accepted: u64,
    /// Rejected by the lead centre.
    pub rejected: u64,
    /// Withdrawn after submission.
    pub withdrawn: u64,
    /// Closed as resolved.
    pub resolved: u64,
    /// Closed as unresolved.
    pub unresolved: u64,
    /// Closed by the deadline for a solution.
    pub closed_on_time: u64,
}

fn doc_key(id: CaseId) -> Vec<u8> {
    keys::flow_case(KIND, id)
}

fn event_key(id: CaseId, seq: Option<u64>) -> Vec<u8> {
    keys::flow_event(KIND, id, seq)
}

fn box_key(which: SolvitBox, centre: AuthorityId, stage: Option<SolvitStage>) -> keys::Key {
    let name = match which {
        SolvitBox::Home => "home",
        SolvitBox::Lead => "lead",
    };
    let k = keys::flow_index(KIND, name).id(centre.as_bytes());
    match stage {
        Some(s) => k.byte(s.code()),
        None => k,
    }
}

/// The statistics entry's result byte: the stage, with closed split by outcome.
fn result_code(case: &Solvit) -> u8 {
    match case.state() {
        SolvitState::Closed {
            outcome: Outcome::Unresolved,
            ..
        } => 7,
        other => other.stage().code(),
    }
}

fn index_keys(case: &SolvitCase, rules: CaseRules) -> BTreeSet<Vec<u8>> {
    let state = case.solvit.state();
    let stage = state.stage();
    let mut out = BTreeSet::new();
    let mut home = box_key(SolvitBox::Home, case.home, Some(stage)).into_bytes();
    home.extend_from_slice(case.id.as_bytes());
    out.insert(home);
    if let (Some(lead), Some(lead_country)) = (state.lead(), case.lead_country) {
        let mut entry = box_key(SolvitBox::Lead, lead, Some(stage)).into_bytes();
        entry.extend_from_slice(case.id.as_bytes());
        out.insert(entry);
        // Statistics: countries, area, result, timeliness and the id; nothing personal.
        let on_time = match case.solvit.on_time() {
            None => 0,
            Some(false) => 1,
            Some(true) => 2,
        };
        out.insert(
            keys::flow_index(KIND, "figures")
                .str(case.home_country.code())
                .str(lead_country.code())
                .byte(case.solvit.problem_area().map_or(0xFF, ProblemArea::code))
                .byte(result_code(&case.solvit))
                .byte(on_time)
                .id(case.id.as_bytes())
                .into_bytes(),
        );
    }
    // The day after a running deadline, `tick` records that it passed.
    if let Some(day) = case
        .solvit
        .pending_deadline()
        .and_then(|due| due.checked_add_days(chrono::Days::new(1)))
    {
        out.insert(
            keys::flow_index(KIND, "due")
                .date(day)
                .id(case.id.as_bytes())
                .into_bytes(),
        );
    }
    out.extend(flow_retention_keys(
        KIND,
        case.id,
        state.ended_at(),
        case.solvit.is_blocked(),
        case.solvit.is_erased(),
        rules,
    ));
    out
}

fn without(event: &SolvitEvent, set: &QuestionSet, placeholder: &str) -> SolvitEvent {
    event.without_personal_data(set, placeholder)
}

case_doc!(SolvitCase, "solvit-case", solvit, SolvitEvent, doc: doc_key, events: event_key,
    without: without, index: index_keys);

/// **SOLVIT cases** between the SOLVIT centres, and their figures.
impl Engine {
    /// The SOLVIT procedure's area and deadlines (days to accept, days to solve).
    fn solvit_procedure(&self, procedure: &ProcedureId) -> Result<(AreaId, u16, u16), EngineError> {
        match self
            .catalogue()
            .procedure(procedure)
            .map(|p| (&p.area, &p.workflow))
        {
            Some((
                area,
                Workflow::Solvit {
                    accept_within_days,
                    solve_within_days,
                },
            )) => Ok((area.clone(), *accept_within_days, *solve_within_days)),
            _ => Err(EngineError::NotFound {
                kind: ProcedureId::KIND,
                id: procedure.to_string(),
            }),
        }
    }

    fn solvit_roles(actor: &Actor, case: &SolvitCase) -> SolvitRoles {
        let Actor::User(p) = actor else {
            return SolvitRoles::default();
        };
        let handler = p.holds(Right::RequestHandler, &case.area, &case.procedure);
        SolvitRoles {
            home: handler && p.authority() == case.home,
            lead: handler && case.solvit.state().lead() == Some(p.authority()),
        }
    }

    /// What `actor` may see of a stored case: in full for its centres (without personal
    /// data once blocked), `NotFound` for anyone else. The operator sees every one.
    fn solvit_from(
        &self,
        actor: &Actor,
        case: SolvitCase,
    ) -> Result<(SolvitCase, SolvitRoles), EngineError> {
        let roles = Self::solvit_roles(actor, &case);
        let system = matches!(actor, Actor::System);
        if !system && !solvit_visible(roles, &case.solvit) {
            return Err(EngineError::NotFound {
                kind: KIND,
                id: case.id.to_string(),
            });
        }
        if case.solvit.is_blocked() && !system {
            let set = self.pinned_set(&case.question_set)?;
            let solvit = case
                .solvit
                .redacted(|a| crate::alert::without_personal_data(a, &set));
            return Ok((SolvitCase { solvit, ..case }, roles));
        }
        Ok((case, roles))
    }

    async fn load_solvit(
        &self,
        actor: &Actor,
        id: CaseId,
    ) -> Result<(SolvitCase, Version, SolvitRoles), EngineError> {
        let key = doc_key(id);
        let v = self
            .store
            .get(&key)
            .await?
            .ok_or_else(|| EngineError::NotFound {
                kind: KIND,
                id: id.to_string(),
            })?;
        let (case, roles) = self.solvit_from(actor, crate::record::decode(&key, &v.value)?)?;
        Ok((case, v.version, roles))
    }

    /// Opens a SOLVIT case at the actor's centre (a request handler of an authority with
    /// access to the SOLVIT procedure: the home centre), with its problem area when known.
    /// A complaint that came in through the public interface is `submission`: it must
    /// have been made to this centre and be readable by the actor; its answers to the
    /// questions the SOLVIT case also asks become the case's first draft (answers that
    /// do not fit are left for the centre to enter).
    pub async fn create_solvit_case(
        &self,
        actor: &Actor,
        procedure: &ProcedureId,
        submission: Option<CaseId>,
        problem_area: Option<ProblemArea>,
    ) -> Result<SolvitCase, EngineError> {
        let p = Self::principal(actor)?;
        let (area, _, _) = self.solvit_procedure(procedure)?;
        if !p.holds(Right::RequestHandler, &area, procedure) {
            return Err(EngineError::Denied(Denial {
                actor: actor.to_string(),
                action: "open a SOLVIT case",
                reason: "this needs the request-handler right for the SOLVIT procedure, at a SOLVIT centre",
            }));
        }
        // Only a submission this user may read links (one it cannot see is `NotFound`,
        // like any other); reading it is audited.
        let complaint = match submission {
            Some(s) => Some(self.submission(actor, s).await?.0),
            None => None,
        };
        let pinned = self.pin_question_set(procedure)?;
        let case = self
            .create_case(|id, reference, now| SolvitCase {
                id,
                reference,
                procedure: procedure.clone(),
                area: area.clone(),
                question_set: pinned.clone(),
                home: p.authority(),
                home_country: p.participant(),
                lead_country: None,
                submission,
                created_at: now,
                updated_at: now,
                events: 0,
                solvit: Solvit::new(),
            })
            .await?;
        let set = self.pinned_set(&pinned)?;
        let mut answers = crate::catalogue::Answers::new();
        for (q, v) in complaint.iter().flat_map(|c| c.submission.answers().iter()) {
            if set.question(q).is_some() {
                answers.set(q.clone(), v.clone());
            }
        }
        if answers.is_empty() && problem_area.is_none() {
            return Ok(case);
        }
        let draft = SolvitCommand::SaveDraft {
            answers,
            problem_area,
        };
        match self.act_on_solvit_case(actor, case.id, draft, None).await {
            Ok((case, _)) => Ok(case),
            // The complaint's answers do not fit this question set: an empty draft.
            Err(EngineError::Transition(_)) => Ok(case),
            Err(e) => Err(e),
        }
    }

    /// Reads a SOLVIT case: its home centre, and its lead centre once submitted; anyone
    /// else gets `NotFound`. The read is audited.
    pub async fn solvit_case(
        &self,
        actor: &Actor,
        id: CaseId,
    ) -> Result<(SolvitCase, Version), EngineError> {
        let (case, version, _) = self.load_solvit(actor, id).await?;
        if matches!(actor, Actor::User(_)) {
            self.audit_now(
                actor,
                crate::audit::AuditAction::ReadCase { case: id },
                crate::audit::Purpose::HandleCase,
            )
            .await?;
        }
        Ok((case, version))
    }

    /// A SOLVIT case's timeline, oldest first, for its centres. The lead centre sees what
    /// was submitted, not how the home centre drafted it.
    pub async fn solvit_timeline(
        &self,
        actor: &Actor,
        id: CaseId,
    ) -> Result<Vec<SolvitTimelineEntry>, EngineError> {
        let (case, _, roles) = self.load_solvit(actor, id).await?;
        let system = matches!(actor, Actor::System);
        let entries = self.case_timeline(&case, system).await?;
        Ok(if system || roles.home {
            entries
        } else {
            crate::case::as_sent(entries, SolvitEvent::is_drafting, |e| {
                matches!(e, SolvitEvent::DraftSaved { .. })
            })
        })
    }

    /// Acts on a SOLVIT case; the machine decides, and the generic case handling writes
    /// the case, its timeline, its boxes and an audit record in one commit.
    pub async fn act_on_solvit_case(
        &self,
        actor: &Actor,
        id: CaseId,
        command: SolvitCommand,
        if_match: Option<Version>,
    ) -> Result<(SolvitCase, Version), EngineError> {
        Self::principal(actor)?;
        let (case, version, _) = self
            .act_on_case::<SolvitCase>(Who::Actor(actor), id, command, if_match)
            .await?;
        // As written, shown as the actor may see it (without personal data once blocked).
        Ok((self.solvit_from(actor, case)?.0, version))
    }

    /// A SOLVIT deadline passed (`tick`, through its `due` index `entry`): the lead
    /// centre had not accepted or rejected the case, or found no solution, in time. The
    /// timeline records it and the lead centre is told; one commit, which also removes a
    /// stale entry.
    pub(super) async fn solvit_due(
        &self,
        id: CaseId,
        entry: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), EngineError> {
        let mut txn = crate::record::Txn::new(&*self.store);
        let Some((old, _)) = txn.get::<SolvitCase>(&doc_key(id)).await? else {
            txn.delete(entry.to_vec());
            return txn.commit().await.map(|_| ());
        };
        let rules = super::requests::rules_of(&self.catalogue(), &old.procedure);
        let (Some(due), Some(lead)) = (old.solvit.pending_deadline(), old.solvit.state().lead())
        else {
            txn.delete(entry.to_vec());
            return txn.commit().await.map(|_| ());
        };
        if now.date_naive() <= due {
            if !crate::engine::cases::CaseDoc::index_keys(&old, rules).contains(entry) {
                txn.delete(entry.to_vec());
                txn.commit().await?;
            }
            return Ok(());
        }
        let mut new = old.clone();
        let event = SolvitEvent::DeadlinePassed { due };
        super::cases::record_event(
            &mut txn,
            &mut new,
            &event,
            crate::case::ActorRef::System,
            now,
        )?;
        self.announce(
            &mut txn,
            crate::outbox::Topic::CaseWaiting,
            crate::outbox::Subject::Case {
                workflow: crate::catalogue::WorkflowKind::Solvit,
                case: id,
                reference: old.reference,
            },
            Some(&old.procedure),
            [crate::outbox::Audience {
                authority: lead,
                right: Right::RequestHandler,
            }],
        )?;
        super::cases::write_case_doc(&mut txn, rules, &new, Some(&old))?;
        txn.commit().await?;
        Ok(())
    }

    /// One page of the actor's centre's SOLVIT cases, as home or as lead centre, in
    /// creation order within a stage; `stage` narrows it.
    pub async fn solvit_cases(
        &self,
        actor: &Actor,
        which: SolvitBox,
        stage: Option<SolvitStage>,
        page: PageRequest,
    ) -> Result<Page<SolvitCase>, EngineError> {
        let p = Self::principal(actor)?;
        let prefix = box_key(which, p.authority(), stage).into_bytes();
        self.box_page_docs(prefix, page, doc_key, |id, key, v| {
            let case: SolvitCase = crate::record::decode(key, &v.value)?;
            debug_assert_eq!(case.id, id);
            Ok(self.solvit_from(actor, case)?.0)
        })
        .await
    }

    /// SOLVIT figures per home country, lead country and problem area, from the
    /// statistics index alone (no case is read; nothing personal is in it). Open to every
    /// signed-in user.
    pub async fn solvit_figures(&self, actor: &Actor) -> Result<Vec<SolvitFigures>, EngineError> {
        Self::principal(actor)?;
        let prefix = keys::flow_index(KIND, "figures").into_bytes();
        let mut rows: std::collections::BTreeMap<(String, String, u8), SolvitFigures> =
            std::collections::BTreeMap::new();
        let mut pages = self.store.pages(Scan::prefix(&prefix, 1_000));
        while let Some(entries) = pages.next().await? {
            for e in entries {
                let bad = || super::corrupt_index(&e.key);
                let rest = e.key.get(prefix.len()..).ok_or_else(bad)?;
                let (home, rest) = split_str(rest).ok_or_else(bad)?;
                let (lead, rest) = split_str(rest).ok_or_else(bad)?;
                let [area, result, on_time, ..] = rest else {
                    return Err(bad());
                };
                let row = rows
                    .entry((home.clone(), lead.clone(), *area))
                    .or_insert_with(|| SolvitFigures {
                        home_country: home,
                        lead_country: lead,
                        problem_area: ProblemArea::from_code(*area),
                        ..SolvitFigures::default()
                    });
                row.submitted += 1;
                match *result {
                    2..=4 | 7 => row.accepted += 1,
                    _ => {}
                }
                match *result {
                    4 => row.resolved += 1,
                    5 => row.rejected += 1,
                    6 => row.withdrawn += 1,
                    7 => row.unresolved += 1,
                    _ => {}
                }
                if *on_time == 2 {
                    row.closed_on_time += 1;
                }
            }
        }
        Ok(rows.into_values().collect())
    }
}

/// A terminated key string and the rest.
fn split_str(bytes: &[u8]) -> Option<(String, &[u8])> {
    let end = bytes.iter().position(|b| *b == 0)?;
    let s = std::str::from_utf8(bytes.get(..end)?).ok()?.to_owned();
    Some((s, bytes.get(end + 1..)?))
}

impl CaseFlow for SolvitCase {
    type Machine = Solvit;
    /// Days to accept, days to solve.
    type Prepared = (u16, u16);

    fn machine(&self) -> &Solvit {
        &self.solvit
    }

    async fn roles(
        _: &Engine,
        who: Who<'_>,
        case: &Self,
    ) -> Result<Option<SolvitRoles>, EngineError> {
        let Who::Actor(actor) = who else {
            return Ok(None);
        };
        let roles = Engine::solvit_roles(actor, case);
        Ok(solvit_visible(roles, &case.solvit).then_some(roles))
    }

    async fn prepare(engine: &Engine, case: &Self) -> Result<(u16, u16), EngineError> {
        let (_, accept, solve) = engine.solvit_procedure(&case.procedure)?;
        Ok((accept, solve))
    }

    fn context<'a>(
        case: &'a Self,
        &(accept_within_days, solve_within_days): &'a (u16, u16),
        questions: &'a QuestionSet,
        now: DateTime<Utc>,
    ) -> SolvitContext<'a> {
        SolvitContext {
            now,
            questions,
            home: case.home,
            accept_within_days,
            solve_within_days,
        }
    }

    /// The lead centre is an active centre of another country with access to the
    /// procedure.
    async fn check(
        engine: &Engine,
        case: &Self,
        events: &mut Vec<SolvitEvent>,
    ) -> Result<(), EngineError> {
        for e in events.iter() {
            if let SolvitEvent::Submitted { lead, .. } = e {
                let bad = || {
                    EngineError::Transition(TransitionError::Invalid {
                        command: "submit",
                        reason: "the lead centre must be an active SOLVIT centre of another country",
                    })
                };
                let centre = match engine.authority_doc(*lead).await {
                    Ok(a) => a,
                    Err(EngineError::NotFound { .. }) => return Err(bad()),
                    Err(e) => return Err(e),
                };
                if !centre.is_active()
                    || !centre.procedures().contains(&case.procedure)
                    || centre.participant() == case.home_country
                {
                    return Err(bad());
                }
            }
        }
        Ok(())
    }

    /// The lead centre's country, from the directory, once submitted; the lead centre is
    /// told of a case submitted to it, the home centre of a proposed solution or a
    /// rejection (so that it can tell the complainant).
    async fn effects(
        engine: &Engine,
        txn: &mut crate::record::Txn<'_>,
        _: Who<'_>,
        old: &Self,
        new: &mut Self,
        events: &[SolvitEvent],
        _: &QuestionSet,
        _: DateTime<Utc>,
    ) -> Result<(), EngineError> {
        let subject = crate::outbox::Subject::Case {
            workflow: crate::catalogue::WorkflowKind::Solvit,
            case: old.id,
            reference: old.reference,
        };
        let tell = |authority| crate::outbox::Audience {
            authority,
            right: Right::RequestHandler,
        };
        for e in events {
            let (topic, to) = match e {
                SolvitEvent::Submitted { lead, .. } => {
                    new.lead_country = Some(engine.authority_doc(*lead).await?.participant());
                    (crate::outbox::Topic::CaseReceived, *lead)
                }
                SolvitEvent::SolutionProposed { .. } | SolvitEvent::Rejected { .. } => {
                    (crate::outbox::Topic::CaseWaiting, old.home)
                }
                _ => continue,
            };
            engine.announce(txn, topic, subject, Some(&old.procedure), [tell(to)])?;
        }
        Ok(())
    }
}

impl SolvitCase {
    /// The deadline running now: the date by which the lead centre accepts, then the
    /// date by which a solution is due.
    pub fn due(&self) -> Option<NaiveDate> {
        self.solvit.state().due()
    }
}
