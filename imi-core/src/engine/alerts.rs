//! One-to-many alerts through the engine. The pure machine is [`crate::alert`]; here the
//! engine computes the actor's [`AlertRoles`], checks what needs the directory, and writes
//! the alert, its timeline and its boxes in one commit. Broadcast reaches every recipient
//! country, and, through each country's standing [`AlertNetwork`], its designated
//! handling authorities, in that same commit.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Engine;
use super::cases::case_doc;
use super::flow::{CaseFlow, Who};
use super::requests::{CaseRules, RetentionStep, retention_keys};
use crate::access::{Actor, Denial};
use crate::alert::{
    Alert, AlertCommand, AlertContext, AlertEvent, AlertRoles, AlertStage, AlertVisibility,
    alert_event_without_personal_data, alert_visibility, visible_alert_answers,
    visible_alert_event, without_personal_data,
};
use crate::authority::Authority;
use crate::catalogue::{AreaId, ProcedureId, QuestionSet, QuestionSetVersion, Right, Workflow};
use crate::country::Participant;
use crate::error::EngineError;
use crate::ids::{AuthorityId, CaseId, CaseReference};
use crate::keys;
use crate::page::{Page, PageRequest};
use crate::record::{Txn, decode};
use crate::store::Version;

/// An alert as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertCase {
    /// Its id.
    pub id: CaseId,
    /// Its human reference number (shared numbering with requests).
    pub reference: CaseReference,
    /// The procedure.
    pub procedure: ProcedureId,
    /// The procedure's area.
    pub area: AreaId,
    /// The question-set version it pinned.
    pub question_set: QuestionSetVersion,
    /// The sending authority.
    pub sender: AuthorityId,
    /// The sending authority's country.
    pub sender_country: Participant,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// How many timeline entries it has.
    pub events: u64,
    /// The workflow state and answers.
    pub alert: Alert,
}

/// An alert as one reader may see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertView {
    /// The alert, with answers reduced to what the reader may see.
    pub case: AlertCase,
    /// What the reader may see.
    pub visibility: AlertVisibility,
}

/// One step of an alert's timeline.
pub type AlertTimelineEntry = crate::case::TimelineEntry<AlertEvent>;

/// A country's standing arrangements for one alert procedure, kept by its coordinators:
/// whether outgoing alerts are validated first, and which authorities handle incoming
/// alerts (they receive them at broadcast, in the same commit).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertNetwork {
    /// Outgoing alerts of this country wait for an outgoing alert coordinator (where the
    /// procedure allows validation).
    pub validates_outgoing: bool,
    /// Authorities of the country that receive incoming alerts at once.
    pub handlers: BTreeSet<AuthorityId>,
}

/// Which box of alerts to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AlertBox {
    /// Alerts the actor's authority sends (drafts included), optionally of one stage.
    Sent,
    /// Alerts of the actor's country waiting for validation (outgoing coordinators).
    Validation,
    /// Alerts sent to the actor's country (incoming coordinators: restricted summary).
    Incoming,
    /// Alerts distributed to the actor's authority (handlers).
    Handling,
}

pub(super) fn alert_stage_code(stage: AlertStage) -> u8 {
    match stage {
        AlertStage::Draft => 0,
        AlertStage::PendingValidation => 1,
        AlertStage::Broadcast => 2,
        AlertStage::Closed => 3,
        AlertStage::Withdrawn => 4,
        AlertStage::Rejected => 5,
    }
}

/// Every box and retention entry an alert should have in its current state.
fn alert_index_keys(case: &AlertCase, rules: CaseRules) -> BTreeSet<Vec<u8>> {
    let stage = case.alert.state().stage();
    let mut out = BTreeSet::new();
    out.insert(keys::alert_by_sender(
        case.sender,
        Some(alert_stage_code(stage)),
        Some(case.id),
    ));
    if stage == AlertStage::PendingValidation {
        out.insert(keys::alert_validation(
            case.sender_country.code(),
            Some(case.id),
        ));
    }
    if matches!(
        stage,
        AlertStage::Broadcast | AlertStage::Closed | AlertStage::Withdrawn
    ) {
        for c in case.alert.recipients() {
            out.insert(keys::alert_by_country(c.code(), Some(case.id)));
        }
        for authorities in case.alert.distributed().values() {
            for a in authorities {
                out.insert(keys::alert_by_handler(*a, Some(case.id)));
            }
        }
    }
    out.extend(retention_keys(
        case.id,
        case.alert.state().ended_at(),
        case.alert.is_blocked(),
        case.alert.is_erased(),
        rules,
        (RetentionStep::BlockAlert, RetentionStep::DeleteAlert),
    ));
    out
}

fn denied(actor: &Actor, action: &'static str, reason: &'static str) -> EngineError {
    EngineError::Denied(Denial {
        actor: actor.to_string(),
        action,
        reason,
    })
}

/// **Alerts**: drafting, validation, broadcast, distribution and each country's alert network.
impl Engine {
    fn alert_procedure(&self, procedure: &ProcedureId) -> Result<(AreaId, bool), EngineError> {
        let catalogue = self.catalogue();
        match catalogue
            .procedure(procedure)
            .map(|p| (&p.area, &p.workflow))
        {
            Some((
                area,
                Workflow::Alert {
                    outgoing_validation,
                },
            )) => Ok((area.clone(), *outgoing_validation)),
            _ => Err(EngineError::NotFound {
                kind: ProcedureId::KIND,
                id: procedure.to_string(),
            }),
        }
    }

    /// Sets the actor's country's alert network for an alert procedure: whether its
    /// outgoing alerts are validated, and which of its authorities receive incoming
    /// alerts at broadcast. For an administrator of the national coordinator, a user with
    /// the incoming-alert-coordinator right for the procedure, or (for any country) the
    /// system. Every handler must be an active authority of that country with access to
    /// the procedure.
    pub async fn set_alert_network(
        &self,
        actor: &Actor,
        country: Participant,
        procedure: &ProcedureId,
        network: AlertNetwork,
    ) -> Result<AlertNetwork, EngineError> {
        let (area, _) = self.alert_procedure(procedure)?;
        if let Actor::User(p) = actor {
            let nimic_admin = matches!(
                p.coordinator(),
                Some(crate::authority::CoordinatorRole::National)
            ) && p.has_right(Right::Administrator);
            let coordinator = p.holds(Right::IncomingAlertCoordinator, &area, procedure);
            if p.participant() != country || !(nimic_admin || coordinator) {
                return Err(denied(
                    actor,
                    "set the alert network",
                    "only the country's national coordinator or its incoming alert coordinators do",
                ));
            }
        } else if !matches!(actor, Actor::System) {
            return Err(denied(
                actor,
                "set the alert network",
                "only registered users may do this",
            ));
        }
        for h in &network.handlers {
            let a = self.authority_doc(*h).await?;
            if a.participant() != country || !a.is_active() || !a.procedures().contains(procedure) {
                return Err(EngineError::Transition(
                    crate::workflow::TransitionError::Invalid {
                        command: "set the alert network",
                        reason: "handlers must be active authorities of the country with access to the procedure",
                    },
                ));
            }
        }
        let mut txn = Txn::new(&*self.store);
        txn.put(
            keys::alert_network(country.code(), procedure.as_str()),
            &network,
        )?;
        self.audit(
            &mut txn,
            actor,
            crate::audit::AuditAction::ChangeAlertNetwork {
                country,
                procedure: procedure.to_string(),
            },
            crate::audit::Purpose::Administer,
        )?;
        txn.commit().await?;
        Ok(network)
    }

    /// A country's alert network for a procedure (empty when none was set). Open to every
    /// registered user: it holds only authority ids.
    pub async fn alert_network(
        &self,
        actor: &Actor,
        country: Participant,
        procedure: &ProcedureId,
    ) -> Result<AlertNetwork, EngineError> {
        if matches!(actor, Actor::Public) {
            return Err(denied(
                actor,
                "read an alert network",
                "only registered users may do this",
            ));
        }
        let key = keys::alert_network(country.code(), procedure.as_str());
        Ok(match self.store.get(&key).await? {
            Some(v) => decode(&key, &v.value)?,
            None => AlertNetwork::default(),
        })
    }

    /// Starts a draft alert (an outgoing alert handler of an authority with access to the
    /// procedure).
    pub async fn create_alert(
        &self,
        actor: &Actor,
        procedure: &ProcedureId,
    ) -> Result<AlertView, EngineError> {
        let p = Self::principal(actor)?;
        let (area, _) = self.alert_procedure(procedure)?;
        if !p.holds(Right::OutgoingAlertHandler, &area, procedure) {
            return Err(denied(
                actor,
                "create an alert",
                "this needs the outgoing-alert-handler right for the procedure, at an authority with access to it",
            ));
        }
        let pinned = self.pin_question_set(procedure)?;
        let case = self
            .create_case(|id, reference, now| AlertCase {
                id,
                reference,
                procedure: procedure.clone(),
                area: area.clone(),
                question_set: pinned.clone(),
                sender: p.authority(),
                sender_country: p.participant(),
                created_at: now,
                updated_at: now,
                events: 0,
                alert: Alert::new(),
            })
            .await?;
        Ok(AlertView {
            case,
            visibility: AlertVisibility::Full,
        })
    }

    /// The actor's parties for `case`.
    fn alert_roles(actor: &Actor, case: &AlertCase) -> AlertRoles {
        let Actor::User(p) = actor else {
            return AlertRoles::default();
        };
        let holds = |right| p.holds(right, &case.area, &case.procedure);
        AlertRoles {
            sender: p.authority() == case.sender && holds(Right::OutgoingAlertHandler),
            outgoing_coordinator: p.participant() == case.sender_country
                && holds(Right::OutgoingAlertCoordinator),
            incoming_coordinator: (holds(Right::IncomingAlertCoordinator)
                && case.alert.recipients().contains(&p.participant()))
            .then_some(p.participant()),
            handler: (case.alert.is_handler(p.authority()) && holds(Right::IncomingAlertHandler))
                .then_some(p.authority()),
        }
    }

    /// The alert as a reader with `visibility` sees it; once blocked, without personal
    /// data for everyone but the operator.
    fn alert_view(
        &self,
        actor: &Actor,
        case: AlertCase,
        visibility: AlertVisibility,
    ) -> Result<AlertView, EngineError> {
        let set = self.pinned_set(&case.question_set)?;
        let blocked = case.alert.is_blocked() && !matches!(actor, Actor::System);
        let alert = case.alert.redacted(|a| {
            let shown = visible_alert_answers(a, &set, visibility);
            if blocked {
                without_personal_data(&shown, &set)
            } else {
                shown
            }
        });
        Ok(AlertView {
            case: AlertCase { alert, ..case },
            visibility,
        })
    }

    async fn load_alert(
        &self,
        actor: &Actor,
        id: CaseId,
    ) -> Result<(AlertCase, Version, AlertRoles, AlertVisibility), EngineError> {
        let key = keys::alert(id);
        let not_found = || EngineError::NotFound {
            kind: "alert",
            id: id.to_string(),
        };
        let v = self.store.get(&key).await?.ok_or_else(not_found)?;
        Self::alert_from(actor, id, &key, &v)
    }

    /// An alert from its stored document, with what `actor` may see of it (`NotFound`
    /// when nothing).
    fn alert_from(
        actor: &Actor,
        id: CaseId,
        key: &[u8],
        v: &crate::store::Versioned,
    ) -> Result<(AlertCase, Version, AlertRoles, AlertVisibility), EngineError> {
        let case: AlertCase = decode(key, &v.value)?;
        let roles = Self::alert_roles(actor, &case);
        let visibility = match actor {
            Actor::System => Some(AlertVisibility::Full),
            _ => alert_visibility(roles, &case.alert),
        }
        .ok_or_else(|| EngineError::NotFound {
            kind: "alert",
            id: id.to_string(),
        })?;
        Ok((case, v.version, roles, visibility))
    }

    /// Reads an alert as `actor` may see it, with its version (for `If-Match`). Reads in
    /// full are audited.
    pub async fn alert(
        &self,
        actor: &Actor,
        id: CaseId,
    ) -> Result<(AlertView, Version), EngineError> {
        let (case, version, _, visibility) = self.load_alert(actor, id).await?;
        if visibility == AlertVisibility::Full && matches!(actor, Actor::User(_)) {
            self.audit_now(
                actor,
                crate::audit::AuditAction::ReadCase { case: id },
                crate::audit::Purpose::HandleCase,
            )
            .await?;
        }
        Ok((self.alert_view(actor, case, visibility)?, version))
    }

    /// An alert's timeline, oldest first, as `actor` may see it.
    pub async fn alert_timeline(
        &self,
        actor: &Actor,
        id: CaseId,
    ) -> Result<Vec<AlertTimelineEntry>, EngineError> {
        let (case, _, roles, visibility) = self.load_alert(actor, id).await?;
        let set = self.pinned_set(&case.question_set)?;
        let entries: Vec<AlertTimelineEntry> =
            self.read_timeline(&keys::alert_event(id, None)).await?;
        let system = matches!(actor, Actor::System);
        let blocked = case.alert.is_blocked() && !system;
        // The drafting history is the sending side's: recipients see what was sent.
        let sending_side = system || roles.sender || roles.outgoing_coordinator;
        let entries = if sending_side {
            entries
        } else {
            crate::case::as_sent(entries, AlertEvent::is_drafting, |e| {
                matches!(e, AlertEvent::DraftSaved { .. })
            })
        };
        Ok(entries
            .into_iter()
            .map(|entry| {
                let shown = visible_alert_event(&entry.event, &set, visibility);
                AlertTimelineEntry {
                    event: if blocked {
                        alert_event_without_personal_data(&shown, &set, "(blocked)")
                    } else {
                        shown
                    },
                    ..entry
                }
            })
            .collect())
    }

    /// Acts on an alert: the machine decides, the engine checks recipients and handlers
    /// against the directory, and writes the alert, its timeline and boxes in one commit.
    /// Broadcast also distributes to each recipient country's standing handlers.
    pub async fn act_on_alert(
        &self,
        actor: &Actor,
        id: CaseId,
        command: AlertCommand,
        if_match: Option<Version>,
    ) -> Result<(AlertView, Version), EngineError> {
        Self::principal(actor)?;
        let (new, version, _) = self
            .act_on_case::<AlertCase>(Who::Actor(actor), id, command, if_match)
            .await?;
        let roles = Self::alert_roles(actor, &new);
        let visibility = alert_visibility(roles, &new.alert).unwrap_or(AlertVisibility::Summary);
        Ok((self.alert_view(actor, new, visibility)?, version))
    }

    /// For each (country, authority): whether the authority is an active authority of
    /// that country with access to the procedure. One batched read.
    async fn eligible_handlers(
        &self,
        procedure: &ProcedureId,
        pairs: &[(Participant, AuthorityId)],
    ) -> Result<Vec<bool>, EngineError> {
        let keys: Vec<Vec<u8>> = pairs.iter().map(|(_, a)| keys::authority(*a)).collect();
        let found = self.store.get_many(&keys).await?;
        let mut out = Vec::with_capacity(pairs.len());
        for ((key, (country, _)), value) in keys.iter().zip(pairs).zip(found) {
            out.push(match value {
                Some(v) => {
                    let a: Authority = decode(key, &v.value)?;
                    a.participant() == *country
                        && a.is_active()
                        && a.procedures().contains(procedure)
                }
                None => false,
            });
        }
        Ok(out)
    }

    /// Refuses, before anything is written, what would reach nobody (an alert must never
    /// vanish): an alert waiting for validation where no outgoing alert coordinator of
    /// the sender's country can validate it; a broadcast to a country where neither a
    /// standing handler nor an incoming alert coordinator can receive it; a distribution
    /// to an authority none of whose users handles incoming alerts of the procedure.
    async fn check_someone_receives(
        &self,
        case: &AlertCase,
        events: &[AlertEvent],
        standing: &[AlertEvent],
    ) -> Result<(), EngineError> {
        let (area, procedure) = (&case.area, &case.procedure);
        for e in events {
            match e {
                AlertEvent::SubmittedForValidation { .. }
                    if !self
                        .someone_holds(
                            case.sender_country,
                            Right::OutgoingAlertCoordinator,
                            area,
                            procedure,
                        )
                        .await? =>
                {
                    return Err(EngineError::NobodyToReceive {
                        what: "alert for validation",
                        missing: vec![case.sender_country.code().to_owned()],
                        why: "the country asks for outgoing alerts to be validated, but nobody holds the outgoing-alert-coordinator right for this procedure; ask your national coordinator to appoint one",
                    });
                }
                AlertEvent::Broadcast { recipients, .. } => {
                    let served: BTreeSet<Participant> = standing
                        .iter()
                        .filter_map(|d| match d {
                            AlertEvent::Distributed { country, .. } => Some(*country),
                            _ => None,
                        })
                        .collect();
                    let mut missing = Vec::new();
                    for country in recipients.difference(&served) {
                        if !self
                            .someone_holds(
                                *country,
                                Right::IncomingAlertCoordinator,
                                area,
                                procedure,
                            )
                            .await?
                        {
                            missing.push(country.code().to_owned());
                        }
                    }
                    if !missing.is_empty() {
                        return Err(EngineError::NobodyToReceive {
                            what: "alert",
                            missing,
                            why: "these countries have neither an incoming alert coordinator nor standing handlers for this procedure; send it without them, and tell their national coordinators",
                        });
                    }
                }
                AlertEvent::Distributed { to, .. } => {
                    let mut missing = Vec::new();
                    for a in to {
                        let ok = match self.authority_cached(*a).await? {
                            Some(authority) => {
                                self.authority_holds(
                                    &authority,
                                    Right::IncomingAlertHandler,
                                    area,
                                    procedure,
                                )
                                .await?
                            }
                            None => false,
                        };
                        if !ok {
                            missing.push(a.to_string());
                        }
                    }
                    if !missing.is_empty() {
                        return Err(EngineError::NobodyToReceive {
                            what: "alert",
                            missing,
                            why: "none of these authorities' users handles incoming alerts of this procedure",
                        });
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The distributions to each recipient country's standing handlers at broadcast.
    /// A designated authority that left, lost access, or has nobody holding the
    /// incoming-alert-handler right for the procedure is skipped. Batched reads: the
    /// networks, then their authorities.
    async fn standing_distributions(
        &self,
        area: &AreaId,
        procedure: &ProcedureId,
        recipients: &BTreeSet<Participant>,
    ) -> Result<Vec<AlertEvent>, EngineError> {
        let keys: Vec<Vec<u8>> = recipients
            .iter()
            .map(|c| keys::alert_network(c.code(), procedure.as_str()))
            .collect();
        let found = self.store.get_many(&keys).await?;
        let mut pairs = Vec::new();
        for ((key, country), value) in keys.iter().zip(recipients).zip(found) {
            if let Some(v) = value {
                let network: AlertNetwork = decode(key, &v.value)?;
                pairs.extend(network.handlers.into_iter().map(|a| (*country, a)));
            }
        }
        let eligible = self.eligible_handlers(procedure, &pairs).await?;
        let mut by_country: std::collections::BTreeMap<Participant, BTreeSet<AuthorityId>> =
            std::collections::BTreeMap::new();
        for ((country, a), ok) in pairs.into_iter().zip(eligible) {
            if !ok {
                continue;
            }
            let Some(authority) = self.authority_cached(a).await? else {
                continue;
            };
            if self
                .authority_holds(&authority, Right::IncomingAlertHandler, area, procedure)
                .await?
            {
                by_country.entry(country).or_default().insert(a);
            }
        }
        Ok(by_country
            .into_iter()
            .map(|(country, to)| AlertEvent::Distributed {
                country,
                to,
                automatic: true,
            })
            .collect())
    }

    /// One page of one of the actor's alert boxes, newest first within the box's order
    /// (id order, which is creation order). `stage` narrows the sent box.
    pub async fn alerts(
        &self,
        actor: &Actor,
        which: AlertBox,
        stage: Option<AlertStage>,
        page: PageRequest,
    ) -> Result<Page<AlertView>, EngineError> {
        let p = Self::principal(actor)?;
        let prefix = match which {
            AlertBox::Sent => {
                keys::alert_by_sender(p.authority(), stage.map(alert_stage_code), None)
            }
            AlertBox::Validation => keys::alert_validation(p.participant().code(), None),
            AlertBox::Incoming => keys::alert_by_country(p.participant().code(), None),
            AlertBox::Handling => keys::alert_by_handler(p.authority(), None),
        };
        self.box_page_docs(prefix, page, keys::alert, |id, key, v| {
            let (case, _, _, visibility) = Self::alert_from(actor, id, key, &v)?;
            self.alert_view(actor, case, visibility)
        })
        .await
    }
}

case_doc!(AlertCase, "alert", alert, AlertEvent, doc: keys::alert, events: keys::alert_event,
    without: alert_event_without_personal_data, index: alert_index_keys);

impl CaseFlow for AlertCase {
    type Machine = Alert;
    /// Whether the procedure and the sender's country ask for outgoing validation.
    type Prepared = bool;

    fn machine(&self) -> &Alert {
        &self.alert
    }

    async fn roles(
        _: &Engine,
        who: Who<'_>,
        case: &Self,
    ) -> Result<Option<AlertRoles>, EngineError> {
        let Who::Actor(actor) = who else {
            return Ok(None);
        };
        let roles = Engine::alert_roles(actor, case);
        Ok(alert_visibility(roles, &case.alert).map(|_| roles))
    }

    async fn prepare(engine: &Engine, case: &Self) -> Result<bool, EngineError> {
        let (_, procedure_validates) = engine.alert_procedure(&case.procedure)?;
        Ok(procedure_validates
            && engine
                .alert_network(&Actor::System, case.sender_country, &case.procedure)
                .await?
                .validates_outgoing)
    }

    fn context<'a>(
        case: &'a Self,
        &validation_required: &'a bool,
        questions: &'a QuestionSet,
        now: DateTime<Utc>,
    ) -> AlertContext<'a> {
        AlertContext {
            now,
            questions,
            sender_country: case.sender_country,
            validation_required,
        }
    }

    /// Distribution goes to eligible authorities only; a broadcast also reaches each
    /// recipient country's standing handlers; somebody must be able to receive it.
    async fn check(
        engine: &Engine,
        old: &Self,
        events: &mut Vec<AlertEvent>,
    ) -> Result<(), EngineError> {
        let mut standing = Vec::new();
        for e in events.iter() {
            match e {
                AlertEvent::Distributed { country, to, .. } => {
                    let pairs: Vec<_> = to.iter().map(|a| (*country, *a)).collect();
                    if engine
                        .eligible_handlers(&old.procedure, &pairs)
                        .await?
                        .contains(&false)
                    {
                        return Err(EngineError::Transition(
                            crate::workflow::TransitionError::Invalid {
                                command: "distribute",
                                reason: "a handling authority must be an active authority of that country with access to the procedure",
                            },
                        ));
                    }
                }
                AlertEvent::Broadcast { recipients, .. } => {
                    standing = engine
                        .standing_distributions(&old.area, &old.procedure, recipients)
                        .await?;
                }
                _ => {}
            }
        }
        engine
            .check_someone_receives(old, events, &standing)
            .await?;
        events.extend(standing);
        Ok(())
    }

    /// A broadcast is announced to each recipient country's incoming coordinators, and
    /// every handling authority reached in this commit gets one announcement.
    async fn effects(
        engine: &Engine,
        txn: &mut Txn<'_>,
        _: Who<'_>,
        old: &Self,
        _: &mut Self,
        events: &[AlertEvent],
        _: &QuestionSet,
        _: DateTime<Utc>,
    ) -> Result<(), EngineError> {
        let subject = crate::outbox::Subject::Alert {
            case: old.id,
            reference: old.reference,
        };
        let mut distributed = BTreeSet::new();
        for e in events {
            if let AlertEvent::Broadcast { recipients, .. } = e {
                // Each recipient country's national coordinator holds its incoming alert
                // coordinators; one read for all of them.
                let slots: Vec<Vec<u8>> = recipients
                    .iter()
                    .map(|r| keys::national_coordinator(r.code()))
                    .collect();
                let coordinators = engine.store.get_many(&slots).await?;
                engine.announce(
                    txn,
                    crate::outbox::Topic::AlertReceived,
                    subject,
                    Some(&old.procedure),
                    coordinators
                        .into_iter()
                        .flatten()
                        .filter_map(|v| <[u8; 16]>::try_from(v.value.as_slice()).ok())
                        .filter_map(|b| AuthorityId::from_uuid(uuid::Uuid::from_bytes(b)).ok())
                        .map(|authority| crate::outbox::Audience {
                            authority,
                            right: Right::IncomingAlertCoordinator,
                        }),
                )?;
            }
            if let AlertEvent::Distributed { to, .. } = e {
                distributed.extend(to.iter().copied());
            }
        }
        engine.announce(
            txn,
            crate::outbox::Topic::AlertDistributed,
            subject,
            Some(&old.procedure),
            distributed.into_iter().map(|a| crate::outbox::Audience {
                authority: a,
                right: Right::IncomingAlertHandler,
            }),
        )
    }
}
