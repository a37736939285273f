//! Notifications through the engine: the pure machine is [`crate::notification`]; here the
//! engine computes the actor's [`NotificationRoles`], reads the procedure's recipients
//! rule, and writes the notification, its timeline and its boxes in one commit. Sending
//! to the Commission and 29 member states is one commit.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Engine;
use super::archive::{ArchivedExchange, ExchangeKind, shareable};
use super::cases::case_doc;
use super::flow::{CaseFlow, Who};
use super::requests::{CaseRules, RetentionStep, retention_keys};
use crate::access::{Actor, Denial};
use crate::catalogue::{AreaId, ProcedureId, QuestionSet, QuestionSetVersion, Right, Workflow};
use crate::country::Participant;
use crate::error::EngineError;
use crate::ids::{AuthorityId, CaseId, CaseReference};
use crate::keys;
use crate::notification::{
    Notification, NotificationCommand, NotificationContext, NotificationEvent, NotificationRoles,
    NotificationStage, NotificationState, notification_event_without_personal_data,
    notification_visible,
};
use crate::page::{Page, PageRequest};
use crate::record::{Txn, decode};
use crate::store::Version;

/// A notification as stored, and as its sender and recipients see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationCase {
    /// Its id.
    pub id: CaseId,
    /// Its human reference number (shared numbering with requests and alerts).
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
    pub notification: Notification,
}

/// One step of a notification's timeline.
pub type NotificationTimelineEntry = crate::case::TimelineEntry<NotificationEvent>;

/// Which notifications to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NotificationBox {
    /// Those the actor's authority sends (drafts included), optionally of one stage.
    Sent,
    /// Those sent to the actor's country (or to the Commission, for its users).
    Received,
}

fn stage_code(stage: NotificationStage) -> u8 {
    match stage {
        NotificationStage::Draft => 0,
        NotificationStage::Sent => 1,
        NotificationStage::Closed => 2,
    }
}

fn index_keys(case: &NotificationCase, rules: CaseRules) -> BTreeSet<Vec<u8>> {
    let stage = case.notification.state().stage();
    let mut out = BTreeSet::new();
    out.insert(keys::notification_by_sender(
        case.sender,
        Some(stage_code(stage)),
        Some(case.id),
    ));
    if stage != NotificationStage::Draft {
        for r in case.notification.recipients() {
            out.insert(keys::notification_by_recipient(r.code(), Some(case.id)));
        }
    }
    out.extend(retention_keys(
        case.id,
        case.notification.state().ended_at(),
        case.notification.is_blocked(),
        case.notification.is_erased(),
        rules,
        (
            RetentionStep::BlockNotification,
            RetentionStep::DeleteNotification,
        ),
    ));
    out
}

/// **Notifications** to the Commission and member states.
impl Engine {
    /// The procedure's area and recipients rule (to the Commission, to member states).
    fn notification_procedure(
        &self,
        procedure: &ProcedureId,
    ) -> Result<(AreaId, bool, bool), EngineError> {
        let catalogue = self.catalogue();
        match catalogue
            .procedure(procedure)
            .map(|p| (&p.area, &p.workflow))
        {
            Some((
                area,
                Workflow::Notification {
                    to_commission,
                    to_member_states,
                },
            )) => Ok((area.clone(), *to_commission, *to_member_states)),
            _ => Err(EngineError::NotFound {
                kind: ProcedureId::KIND,
                id: procedure.to_string(),
            }),
        }
    }

    fn notification_roles(actor: &Actor, case: &NotificationCase) -> NotificationRoles {
        let Actor::User(p) = actor else {
            return NotificationRoles::default();
        };
        let handler = p.holds(Right::NotificationHandler, &case.area, &case.procedure);
        NotificationRoles {
            sender: handler && p.authority() == case.sender,
            recipient: (handler && case.notification.recipients().contains(&p.participant()))
                .then_some(p.participant()),
        }
    }

    /// Loads a notification the actor may see (the operator sees every one).
    async fn load_notification(
        &self,
        actor: &Actor,
        id: CaseId,
    ) -> Result<(NotificationCase, Version), EngineError> {
        let key = keys::notification(id);
        let not_found = || EngineError::NotFound {
            kind: "notification",
            id: id.to_string(),
        };
        let v = self.store.get(&key).await?.ok_or_else(not_found)?;
        self.notification_from(actor, id, &key, &v)
    }

    /// A notification from its stored document, as `actor` may see it (`NotFound` when
    /// not at all).
    fn notification_from(
        &self,
        actor: &Actor,
        id: CaseId,
        key: &[u8],
        v: &crate::store::Versioned,
    ) -> Result<(NotificationCase, Version), EngineError> {
        let case: NotificationCase = decode(key, &v.value)?;
        let visible = matches!(actor, Actor::System)
            || notification_visible(Self::notification_roles(actor, &case), &case.notification);
        if !visible {
            return Err(EngineError::NotFound {
                kind: "notification",
                id: id.to_string(),
            });
        }
        let case = if case.notification.is_blocked() && !matches!(actor, Actor::System) {
            let set = self.pinned_set(&case.question_set)?;
            NotificationCase {
                notification: case
                    .notification
                    .redacted(|a| crate::alert::without_personal_data(a, &set)),
                ..case
            }
        } else {
            case
        };
        Ok((case, v.version))
    }

    /// Starts a draft notification (a notification handler of an authority with access to
    /// the procedure).
    pub async fn create_notification(
        &self,
        actor: &Actor,
        procedure: &ProcedureId,
    ) -> Result<NotificationCase, EngineError> {
        let p = Self::principal(actor)?;
        let (area, _, _) = self.notification_procedure(procedure)?;
        if !p.holds(Right::NotificationHandler, &area, procedure) {
            return Err(EngineError::Denied(Denial {
                actor: actor.to_string(),
                action: "create a notification",
                reason: "this needs the notification-handler right for the procedure, at an authority with access to it",
            }));
        }
        let pinned = self.pin_question_set(procedure)?;
        self.create_case(|id, reference, now| NotificationCase {
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
            notification: Notification::new(),
        })
        .await
    }

    /// Reads a notification: its sender and (once sent) its recipients' notification
    /// handlers see it; anyone else gets `NotFound`. The read is audited.
    pub async fn notification(
        &self,
        actor: &Actor,
        id: CaseId,
    ) -> Result<(NotificationCase, Version), EngineError> {
        let (case, version) = self.load_notification(actor, id).await?;
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

    /// A notification's timeline, oldest first, for those who may read it.
    pub async fn notification_timeline(
        &self,
        actor: &Actor,
        id: CaseId,
    ) -> Result<Vec<NotificationTimelineEntry>, EngineError> {
        let (case, _) = self.load_notification(actor, id).await?;
        let system = matches!(actor, Actor::System);
        // The drafting history is the sender's: recipients see what was sent.
        let sending_side = system || Self::notification_roles(actor, &case).sender;
        let entries = self.case_timeline(&case, system).await?;
        Ok(if sending_side {
            entries
        } else {
            crate::case::as_sent(entries, NotificationEvent::is_drafting, |e| {
                matches!(e, NotificationEvent::DraftSaved { .. })
            })
        })
    }

    /// Acts on a notification; the machine decides, the engine writes the notification,
    /// its timeline, its boxes and an audit record in one commit.
    pub async fn act_on_notification(
        &self,
        actor: &Actor,
        id: CaseId,
        command: NotificationCommand,
        if_match: Option<Version>,
    ) -> Result<(NotificationCase, Version), EngineError> {
        Self::principal(actor)?;
        let (case, version, _) = self
            .act_on_case::<NotificationCase>(Who::Actor(actor), id, command, if_match)
            .await?;
        Ok((case, version))
    }

    /// One page of the actor's sent or received notifications, in creation order.
    /// `stage` narrows the sent box.
    pub async fn notifications(
        &self,
        actor: &Actor,
        which: NotificationBox,
        stage: Option<NotificationStage>,
        page: PageRequest,
    ) -> Result<Page<NotificationCase>, EngineError> {
        let p = Self::principal(actor)?;
        let prefix = match which {
            NotificationBox::Sent => {
                keys::notification_by_sender(p.authority(), stage.map(stage_code), None)
            }
            NotificationBox::Received => {
                keys::notification_by_recipient(p.participant().code(), None)
            }
        };
        self.box_page_docs(prefix, page, keys::notification, |id, key, v| {
            Ok(self.notification_from(actor, id, key, &v)?.0)
        })
        .await
    }
}

case_doc!(NotificationCase, "notification", notification, NotificationEvent, doc: keys::notification, events: keys::notification_event,
    without: notification_event_without_personal_data, index: index_keys);

impl CaseFlow for NotificationCase {
    type Machine = Notification;
    /// Whether the procedure notifies the Commission, and member states.
    type Prepared = (bool, bool);

    fn machine(&self) -> &Notification {
        &self.notification
    }

    async fn roles(
        _: &Engine,
        who: Who<'_>,
        case: &Self,
    ) -> Result<Option<NotificationRoles>, EngineError> {
        let Who::Actor(actor) = who else {
            return Ok(None);
        };
        let roles = Engine::notification_roles(actor, case);
        Ok(notification_visible(roles, &case.notification).then_some(roles))
    }

    async fn prepare(engine: &Engine, case: &Self) -> Result<(bool, bool), EngineError> {
        let (_, to_commission, to_member_states) =
            engine.notification_procedure(&case.procedure)?;
        Ok((to_commission, to_member_states))
    }

    fn context<'a>(
        case: &'a Self,
        &(to_commission, to_member_states): &'a (bool, bool),
        questions: &'a QuestionSet,
        _: DateTime<Utc>,
    ) -> NotificationContext<'a> {
        NotificationContext {
            questions,
            sender_country: case.sender_country,
            to_commission,
            to_member_states,
        }
    }

    /// Closing archives what others may learn from, in the same commit.
    async fn effects(
        engine: &Engine,
        txn: &mut Txn<'_>,
        _: Who<'_>,
        old: &Self,
        new: &mut Self,
        _: &[NotificationEvent],
        set: &QuestionSet,
        _: DateTime<Utc>,
    ) -> Result<(), EngineError> {
        if let (NotificationState::Sent { at: sent_at }, NotificationState::Closed { at, .. }) =
            (old.notification.state(), new.notification.state())
        {
            engine.archive(
                txn,
                &ArchivedExchange {
                    case: old.id,
                    reference: old.reference,
                    kind: ExchangeKind::Notification,
                    procedure: old.procedure.clone(),
                    area: old.area.clone(),
                    from: old.sender_country,
                    to: new.notification.recipients().clone(),
                    sent_at: *sent_at,
                    closed_at: *at,
                    answers: shareable(new.notification.answers(), set),
                },
            )?;
        }
        Ok(())
    }
}
