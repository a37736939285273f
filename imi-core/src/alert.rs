//! The one-to-many alert workflow as a pure state machine, built like the request one
//! ([`crate::request`]): [`Alert::decide`] turns the acting party's [`AlertRoles`] and an
//! [`AlertCommand`] into [`AlertEvent`]s or a [`AlertError`]; [`Alert::apply`] folds
//! an event in and cannot fail.
//!
//! States (IMI-REFERENCE Part 1, "One-to-many alert"): `Draft` → (`PendingValidation` by
//! the sender country's outgoing alert coordinator, where the procedure and the country
//! ask for it; it approves, returns the draft with comments, or rejects) → `Broadcast` to
//! the chosen countries and the Commission. In each recipient country the incoming alert
//! coordinator distributes it to handling authorities, who acknowledge it; sender and
//! handlers add information; the sender rectifies, and closes it when the risk is over
//! (a handler may propose that), or withdraws it when it was sent in error.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::catalogue::{AnswerErrors, AnswerProblem, Answers, QuestionSet, Side, ValidationLevel};
use crate::country::Participant;
use crate::ids::AuthorityId;

/// Where an alert stands, without its data (for indexes and messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AlertStage {
    /// Being written by the sender.
    Draft,
    /// Waiting for the outgoing alert coordinator.
    PendingValidation,
    /// Sent to its recipient countries: open.
    Broadcast,
    /// Closed: the risk is over.
    Closed,
    /// Withdrawn: unjustified or sent in error.
    Withdrawn,
    /// Rejected by the outgoing alert coordinator; never sent.
    Rejected,
}

impl AlertStage {
    /// The kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            AlertStage::Draft => "draft",
            AlertStage::PendingValidation => "pending-validation",
            AlertStage::Broadcast => "broadcast",
            AlertStage::Closed => "closed",
            AlertStage::Withdrawn => "withdrawn",
            AlertStage::Rejected => "rejected",
        }
    }

    /// Every stage.
    pub const ALL: [AlertStage; 6] = [
        AlertStage::Draft,
        AlertStage::PendingValidation,
        AlertStage::Broadcast,
        AlertStage::Closed,
        AlertStage::Withdrawn,
        AlertStage::Rejected,
    ];
}

impl crate::workflow::Stage for AlertStage {
    const WORKFLOW: &'static str = "alert";
    fn name(self) -> &'static str {
        AlertStage::name(self)
    }
}

impl fmt::Display for AlertStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An alert's state, carrying what each stage needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "stage", rename_all = "kebab-case")]
pub enum AlertState {
    /// Being written.
    Draft,
    /// Submitted for validation.
    PendingValidation {
        /// When.
        since: DateTime<Utc>,
    },
    /// Sent.
    Broadcast {
        /// When.
        at: DateTime<Utc>,
    },
    /// Closed by the sender.
    Closed {
        /// When.
        at: DateTime<Utc>,
    },
    /// Withdrawn by the sender.
    Withdrawn {
        /// When.
        at: DateTime<Utc>,
    },
    /// Rejected by the outgoing alert coordinator.
    Rejected {
        /// When.
        at: DateTime<Utc>,
    },
}

impl AlertState {
    /// The stage.
    pub fn stage(&self) -> AlertStage {
        match self {
            AlertState::Draft => AlertStage::Draft,
            AlertState::PendingValidation { .. } => AlertStage::PendingValidation,
            AlertState::Broadcast { .. } => AlertStage::Broadcast,
            AlertState::Closed { .. } => AlertStage::Closed,
            AlertState::Withdrawn { .. } => AlertStage::Withdrawn,
            AlertState::Rejected { .. } => AlertStage::Rejected,
        }
    }

    /// When the alert ended (closed, withdrawn or rejected): the start of its retention.
    pub fn ended_at(&self) -> Option<DateTime<Utc>> {
        match self {
            AlertState::Closed { at }
            | AlertState::Withdrawn { at }
            | AlertState::Rejected { at } => Some(*at),
            AlertState::Draft
            | AlertState::PendingValidation { .. }
            | AlertState::Broadcast { .. } => None,
        }
    }
}

/// The parties the acting user is for one alert; the engine computes them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AlertRoles {
    /// An outgoing alert handler of the sending authority.
    pub sender: bool,
    /// An outgoing alert coordinator of the sender's country.
    pub outgoing_coordinator: bool,
    /// An incoming alert coordinator of this recipient country.
    pub incoming_coordinator: Option<Participant>,
    /// An incoming alert handler of this authority, to which the alert was distributed.
    pub handler: Option<AuthorityId>,
}

/// Who added information or proposed closure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "party", rename_all = "kebab-case")]
pub enum AlertParty {
    /// The sending authority.
    Sender,
    /// A handling authority in a recipient country.
    Handler {
        /// The authority.
        authority: AuthorityId,
    },
}

/// What a party asks to do with an alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "kebab-case")]
pub enum AlertCommand {
    /// Sender: saves the draft's answers (checked at the "save" level).
    SaveDraft {
        /// The answers.
        answers: Answers,
    },
    /// Sender: sends the draft to these countries (and/or the Commission), through
    /// validation where it is required.
    Submit {
        /// The recipient countries; not the sender's own.
        recipients: BTreeSet<Participant>,
    },
    /// Outgoing coordinator: approves; the alert is broadcast.
    Approve,
    /// Outgoing coordinator: returns the draft to the sender with comments.
    Return {
        /// What to change.
        comment: String,
    },
    /// Outgoing coordinator: rejects the alert; it is never sent.
    Reject {
        /// Why.
        reason: String,
    },
    /// Incoming coordinator: gives the alert to handling authorities of its country.
    Distribute {
        /// The authorities.
        to: BTreeSet<AuthorityId>,
    },
    /// Handler: acknowledges receipt.
    Acknowledge,
    /// Sender or handler: adds information.
    AddInformation {
        /// The information.
        text: String,
    },
    /// Sender: corrects answers (an event; the history keeps the earlier values).
    Rectify {
        /// The corrected answers.
        answers: Answers,
        /// Why.
        reason: String,
    },
    /// Handler: proposes that the sender close the alert.
    ProposeClosure {
        /// Why the risk is over.
        reason: String,
    },
    /// Sender: closes the alert, the risk being over.
    Close {
        /// Why.
        reason: String,
    },
    /// Sender: withdraws an alert that was unjustified or sent in error.
    Withdraw {
        /// Why.
        reason: String,
    },
}

impl AlertCommand {
    /// The command's name, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            AlertCommand::SaveDraft { .. } => "save-draft",
            AlertCommand::Submit { .. } => "submit",
            AlertCommand::Approve => "approve",
            AlertCommand::Return { .. } => "return",
            AlertCommand::Reject { .. } => "reject",
            AlertCommand::Distribute { .. } => "distribute",
            AlertCommand::Acknowledge => "acknowledge",
            AlertCommand::AddInformation { .. } => "add-information",
            AlertCommand::Rectify { .. } => "rectify",
            AlertCommand::ProposeClosure { .. } => "propose-closure",
            AlertCommand::Close { .. } => "close",
            AlertCommand::Withdraw { .. } => "withdraw",
        }
    }
}

/// What happened to an alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum AlertEvent {
    /// The draft's answers were saved.
    DraftSaved {
        /// The answers.
        answers: Answers,
    },
    /// The draft went to the outgoing alert coordinator.
    SubmittedForValidation {
        /// The chosen recipients.
        recipients: BTreeSet<Participant>,
    },
    /// The coordinator returned it.
    Returned {
        /// Its comments.
        comment: String,
    },
    /// The coordinator rejected it.
    Rejected {
        /// Why.
        reason: String,
    },
    /// It was sent to its recipient countries.
    Broadcast {
        /// The recipients.
        recipients: BTreeSet<Participant>,
        /// Whether an outgoing coordinator approved it first.
        validated: bool,
    },
    /// It was given to handling authorities of one recipient country.
    Distributed {
        /// The country.
        country: Participant,
        /// The authorities.
        to: BTreeSet<AuthorityId>,
        /// Whether by the country's standing designation at broadcast, rather than by
        /// its incoming coordinator.
        automatic: bool,
    },
    /// A handling authority acknowledged it.
    Acknowledged {
        /// The authority.
        authority: AuthorityId,
    },
    /// Information was added.
    InformationAdded {
        /// By whom.
        by: AlertParty,
        /// The information.
        text: String,
    },
    /// The sender corrected answers.
    Rectified {
        /// The corrected answers.
        answers: Answers,
        /// Why.
        reason: String,
    },
    /// A handler proposed closure.
    ClosureProposed {
        /// By whom.
        by: AlertParty,
        /// Why.
        reason: String,
    },
    /// The sender closed it.
    Closed {
        /// Why.
        reason: String,
    },
    /// The sender withdrew it.
    Withdrawn {
        /// Why.
        reason: String,
    },
    /// Retention: its personal data were blocked at the end of the blocking period.
    PersonalDataBlocked,
    /// Retention: its personal data were deleted 3 years after it ended.
    PersonalDataDeleted,
}

impl AlertEvent {
    /// Whether the event records how the sending side prepared the alert before it went
    /// out (saved drafts, validation by the outgoing coordinator): shown to the sending
    /// side only; recipients see what was sent, not how it was drafted.
    pub fn is_drafting(&self) -> bool {
        use AlertEvent as E;
        match self {
            E::DraftSaved { .. }
            | E::SubmittedForValidation { .. }
            | E::Returned { .. }
            | E::Rejected { .. } => true,
            E::Broadcast { .. }
            | E::Distributed { .. }
            | E::Acknowledged { .. }
            | E::InformationAdded { .. }
            | E::Rectified { .. }
            | E::ClosureProposed { .. }
            | E::Closed { .. }
            | E::Withdrawn { .. }
            | E::PersonalDataBlocked
            | E::PersonalDataDeleted => false,
        }
    }
}

/// What `decide` needs besides the alert.
#[derive(Debug, Clone, Copy)]
pub struct AlertContext<'a> {
    /// Now.
    pub now: DateTime<Utc>,
    /// The question-set version the alert pinned.
    pub questions: &'a QuestionSet,
    /// The sender's country (never a recipient).
    pub sender_country: Participant,
    /// Whether the procedure and the sender's country ask for outgoing validation.
    pub validation_required: bool,
}

/// An alert's workflow data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    state: AlertState,
    answers: Answers,
    recipients: BTreeSet<Participant>,
    distributed: BTreeMap<Participant, BTreeSet<AuthorityId>>,
    acknowledged: BTreeSet<AuthorityId>,
    closure_proposed: bool,
    validated: bool,
    /// Personal data blocked (Art. 14(1)): no normal read shows them.
    #[serde(default)]
    blocked: bool,
    /// Personal data deleted (Art. 14(4)).
    #[serde(default)]
    erased: bool,
}

impl Default for Alert {
    fn default() -> Self {
        Self::new()
    }
}

impl Alert {
    /// A new draft.
    pub fn new() -> Self {
        Self {
            state: AlertState::Draft,
            answers: Answers::new(),
            recipients: BTreeSet::new(),
            distributed: BTreeMap::new(),
            acknowledged: BTreeSet::new(),
            closure_proposed: false,
            validated: false,
            blocked: false,
            erased: false,
        }
    }

    /// Whether its personal data are blocked (from the end of its blocking period).
    pub fn is_blocked(&self) -> bool {
        self.blocked
    }

    /// Whether its personal data were deleted (3 years after it ended).
    pub fn is_erased(&self) -> bool {
        self.erased
    }

    /// The state.
    pub fn state(&self) -> &AlertState {
        &self.state
    }

    /// The answers.
    pub fn answers(&self) -> &Answers {
        &self.answers
    }

    /// The recipient countries (chosen at submission).
    pub fn recipients(&self) -> &BTreeSet<Participant> {
        &self.recipients
    }

    /// The handling authorities per recipient country.
    pub fn distributed(&self) -> &BTreeMap<Participant, BTreeSet<AuthorityId>> {
        &self.distributed
    }

    /// Whether `authority` handles the alert (it was distributed to it).
    pub fn is_handler(&self, authority: AuthorityId) -> bool {
        self.distributed.values().any(|s| s.contains(&authority))
    }

    /// The handling authorities that acknowledged it.
    pub fn acknowledged(&self) -> &BTreeSet<AuthorityId> {
        &self.acknowledged
    }

    /// Whether a handler proposed closure (cleared when it closes).
    pub fn closure_proposed(&self) -> bool {
        self.closure_proposed
    }

    /// Whether an outgoing coordinator approved it.
    pub fn validated(&self) -> bool {
        self.validated
    }

    /// The same alert with its answers reduced by `keep` (for readers who may not see
    /// everything).
    pub fn redacted(&self, keep: impl Fn(&Answers) -> Answers) -> Self {
        Self {
            answers: keep(&self.answers),
            ..self.clone()
        }
    }

    /// Decides what `command` by a user with `roles` leads to; changes nothing.
    pub fn decide(
        &self,
        roles: AlertRoles,
        command: &AlertCommand,
        ctx: &AlertContext<'_>,
    ) -> Result<Vec<AlertEvent>, AlertError> {
        use AlertCommand as C;
        use AlertState as S;
        let name = command.name();
        let illegal = || Err(AlertError::illegal(self.state.stage(), command));
        let party = |ok, needed| AlertError::party(ok, name, needed);
        let invalid = |reason| {
            Err(AlertError::Invalid {
                command: name,
                reason,
            })
        };
        match (&self.state, command) {
            (S::Draft, C::SaveDraft { answers }) => {
                party(roles.sender, "sender")?;
                ctx.questions.validate_side(
                    answers,
                    &Answers::new(),
                    Side::Requester,
                    ValidationLevel::Save,
                )?;
                Ok(vec![AlertEvent::DraftSaved {
                    answers: answers.clone(),
                }])
            }
            (S::Draft, C::Submit { recipients }) => {
                party(roles.sender, "sender")?;
                if recipients.is_empty() {
                    return invalid("choose at least one recipient country");
                }
                if recipients.contains(&ctx.sender_country) {
                    return invalid("an alert goes to other countries than the sender's");
                }
                ctx.questions.validate_side(
                    &self.answers,
                    &Answers::new(),
                    Side::Requester,
                    ValidationLevel::Send,
                )?;
                Ok(vec![if ctx.validation_required {
                    AlertEvent::SubmittedForValidation {
                        recipients: recipients.clone(),
                    }
                } else {
                    AlertEvent::Broadcast {
                        recipients: recipients.clone(),
                        validated: false,
                    }
                }])
            }
            (S::PendingValidation { .. }, C::Approve) => {
                party(roles.outgoing_coordinator, "outgoing alert coordinator")?;
                Ok(vec![AlertEvent::Broadcast {
                    recipients: self.recipients.clone(),
                    validated: true,
                }])
            }
            (S::PendingValidation { .. }, C::Return { comment }) => {
                party(roles.outgoing_coordinator, "outgoing alert coordinator")?;
                AlertError::text(name, comment)?;
                Ok(vec![AlertEvent::Returned {
                    comment: comment.clone(),
                }])
            }
            (S::PendingValidation { .. }, C::Reject { reason }) => {
                party(roles.outgoing_coordinator, "outgoing alert coordinator")?;
                AlertError::text(name, reason)?;
                Ok(vec![AlertEvent::Rejected {
                    reason: reason.clone(),
                }])
            }
            (S::Broadcast { .. }, C::Distribute { to }) => {
                let Some(country) = roles
                    .incoming_coordinator
                    .filter(|c| self.recipients.contains(c))
                else {
                    return party(false, "incoming alert coordinator of a recipient country")
                        .map(|()| Vec::new());
                };
                let already = self.distributed.get(&country);
                let new: BTreeSet<AuthorityId> = to
                    .iter()
                    .filter(|a| already.is_none_or(|s| !s.contains(a)))
                    .copied()
                    .collect();
                if new.is_empty() {
                    return invalid("name at least one authority it was not yet given to");
                }
                Ok(vec![AlertEvent::Distributed {
                    country,
                    to: new,
                    automatic: false,
                }])
            }
            (S::Broadcast { .. }, C::Acknowledge) => {
                let Some(authority) = roles.handler else {
                    return party(false, "handling authority").map(|()| Vec::new());
                };
                if self.acknowledged.contains(&authority) {
                    return invalid("already acknowledged");
                }
                Ok(vec![AlertEvent::Acknowledged { authority }])
            }
            (S::Broadcast { .. }, C::AddInformation { text }) => {
                AlertError::text(name, text)?;
                let by = match (roles.sender, roles.handler) {
                    (true, _) => AlertParty::Sender,
                    (false, Some(authority)) => AlertParty::Handler { authority },
                    (false, None) => {
                        return party(false, "sender or a handling authority").map(|()| Vec::new());
                    }
                };
                Ok(vec![AlertEvent::InformationAdded {
                    by,
                    text: text.clone(),
                }])
            }
            (S::Broadcast { .. }, C::Rectify { answers, reason }) => {
                party(roles.sender, "sender")?;
                AlertError::text(name, reason)?;
                if answers.is_empty() {
                    return invalid("give at least one corrected answer");
                }
                let mut merged = self.answers.clone();
                for (q, v) in answers.iter() {
                    merged.set(q.clone(), v.clone());
                }
                if let Err(AnswerErrors(found)) = ctx.questions.validate_side(
                    &merged,
                    &Answers::new(),
                    Side::Requester,
                    ValidationLevel::Send,
                ) {
                    let relevant: Vec<_> = found
                        .into_iter()
                        .filter(|e| {
                            answers.get(&e.question).is_some()
                                || !matches!(e.problem, AnswerProblem::Missing { .. })
                        })
                        .collect();
                    if !relevant.is_empty() {
                        return Err(AnswerErrors(relevant).into());
                    }
                }
                Ok(vec![AlertEvent::Rectified {
                    answers: answers.clone(),
                    reason: reason.clone(),
                }])
            }
            (S::Broadcast { .. }, C::ProposeClosure { reason }) => {
                AlertError::text(name, reason)?;
                let Some(authority) = roles.handler else {
                    return party(false, "handling authority").map(|()| Vec::new());
                };
                Ok(vec![AlertEvent::ClosureProposed {
                    by: AlertParty::Handler { authority },
                    reason: reason.clone(),
                }])
            }
            (S::Broadcast { .. }, C::Close { reason }) => {
                party(roles.sender, "sender")?;
                AlertError::text(name, reason)?;
                Ok(vec![AlertEvent::Closed {
                    reason: reason.clone(),
                }])
            }
            (S::PendingValidation { .. } | S::Broadcast { .. }, C::Withdraw { reason }) => {
                party(roles.sender, "sender")?;
                AlertError::text(name, reason)?;
                Ok(vec![AlertEvent::Withdrawn {
                    reason: reason.clone(),
                }])
            }
            (
                S::Draft
                | S::PendingValidation { .. }
                | S::Broadcast { .. }
                | S::Closed { .. }
                | S::Withdrawn { .. }
                | S::Rejected { .. },
                C::SaveDraft { .. }
                | C::Submit { .. }
                | C::Approve
                | C::Return { .. }
                | C::Reject { .. }
                | C::Distribute { .. }
                | C::Acknowledge
                | C::AddInformation { .. }
                | C::Rectify { .. }
                | C::ProposeClosure { .. }
                | C::Close { .. }
                | C::Withdraw { .. },
            ) => illegal(),
        }
    }

    /// Folds an event into the alert. Events are facts: this never fails.
    pub fn apply(&mut self, event: &AlertEvent, at: DateTime<Utc>) {
        use AlertEvent as E;
        use AlertState as S;
        match event {
            E::DraftSaved { answers } => self.answers = answers.clone(),
            E::SubmittedForValidation { recipients } => {
                self.recipients = recipients.clone();
                self.state = S::PendingValidation { since: at };
            }
            E::Returned { .. } => self.state = S::Draft,
            E::Rejected { .. } => self.state = S::Rejected { at },
            E::Broadcast {
                recipients,
                validated,
            } => {
                self.recipients = recipients.clone();
                self.validated = *validated;
                self.state = S::Broadcast { at };
            }
            E::Distributed { country, to, .. } => {
                self.distributed
                    .entry(*country)
                    .or_default()
                    .extend(to.iter().copied());
            }
            E::Acknowledged { authority } => {
                self.acknowledged.insert(*authority);
            }
            E::InformationAdded { .. } => {}
            E::Rectified { answers, .. } => {
                for (q, v) in answers.iter() {
                    self.answers.set(q.clone(), v.clone());
                }
            }
            E::ClosureProposed { .. } => self.closure_proposed = true,
            E::Closed { .. } => {
                self.closure_proposed = false;
                self.state = S::Closed { at };
            }
            E::Withdrawn { .. } => self.state = S::Withdrawn { at },
            E::PersonalDataBlocked => self.blocked = true,
            E::PersonalDataDeleted => {
                self.blocked = true;
                self.erased = true;
            }
        }
    }
}

/// What a reader may see of an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AlertVisibility {
    /// Everything: the sender, the validating coordinator, handling authorities.
    Full,
    /// The restricted summary: answers to `summary` questions only, no free text.
    Summary,
}

/// What a reader with `roles` may see of `alert`; `None`: nothing.
pub fn alert_visibility(roles: AlertRoles, alert: &Alert) -> Option<AlertVisibility> {
    let stage = alert.state.stage();
    let sent = !matches!(stage, AlertStage::Draft | AlertStage::Rejected);
    let validating = roles.outgoing_coordinator
        && (alert.validated
            || matches!(stage, AlertStage::PendingValidation | AlertStage::Rejected));
    if roles.sender || validating || (sent && roles.handler.is_some()) {
        Some(AlertVisibility::Full)
    } else if sent
        && stage != AlertStage::PendingValidation
        && roles
            .incoming_coordinator
            .is_some_and(|c| alert.recipients.contains(&c))
    {
        Some(AlertVisibility::Summary)
    } else {
        None
    }
}

/// `answers` reduced to what `visibility` allows.
pub fn visible_alert_answers(
    answers: &Answers,
    set: &QuestionSet,
    visibility: AlertVisibility,
) -> Answers {
    let mut out = Answers::new();
    for (q, v) in answers.iter() {
        let summary = set.question(q).is_some_and(|q| q.summary);
        if visibility == AlertVisibility::Full || summary {
            out.set(q.clone(), v.clone());
        }
    }
    out
}

/// An event reduced to what `visibility` allows: answers filtered, free texts hidden
/// from summary readers.
pub fn visible_alert_event(
    event: &AlertEvent,
    set: &QuestionSet,
    visibility: AlertVisibility,
) -> AlertEvent {
    if visibility == AlertVisibility::Full {
        return event.clone();
    }
    redact_alert_event(
        event,
        |a| visible_alert_answers(a, set, visibility),
        "(not shown)",
    )
}

/// `answers` without answers to personal-data questions.
pub fn without_personal_data(answers: &Answers, set: &QuestionSet) -> Answers {
    let mut out = Answers::new();
    for (q, v) in answers.iter() {
        if set.question(q).is_some_and(|q| !q.personal_data) {
            out.set(q.clone(), v.clone());
        }
    }
    out
}

/// An event without personal data (for blocked and deleted alerts): answers to
/// personal-data questions dropped, free texts replaced by `placeholder`.
pub fn alert_event_without_personal_data(
    event: &AlertEvent,
    set: &QuestionSet,
    placeholder: &str,
) -> AlertEvent {
    redact_alert_event(event, |a| without_personal_data(a, set), placeholder)
}

fn redact_alert_event(
    event: &AlertEvent,
    keep: impl Fn(&Answers) -> Answers,
    placeholder: &str,
) -> AlertEvent {
    use AlertEvent as E;
    let hidden = || placeholder.to_owned();
    match event {
        E::DraftSaved { answers } => E::DraftSaved {
            answers: keep(answers),
        },
        E::Rectified { answers, .. } => E::Rectified {
            answers: keep(answers),
            reason: hidden(),
        },
        E::Returned { .. } => E::Returned { comment: hidden() },
        E::Rejected { .. } => E::Rejected { reason: hidden() },
        E::InformationAdded { by, .. } => E::InformationAdded {
            by: *by,
            text: hidden(),
        },
        E::ClosureProposed { by, .. } => E::ClosureProposed {
            by: *by,
            reason: hidden(),
        },
        E::Closed { .. } => E::Closed { reason: hidden() },
        E::Withdrawn { .. } => E::Withdrawn { reason: hidden() },
        other @ (E::SubmittedForValidation { .. }
        | E::Broadcast { .. }
        | E::Distributed { .. }
        | E::Acknowledged { .. }
        | E::PersonalDataBlocked
        | E::PersonalDataDeleted) => other.clone(),
    }
}

/// Why the alert machine refused a command; nothing was changed.
pub type AlertError = crate::workflow::StepError<AlertStage>;

impl crate::workflow::Command for AlertCommand {
    type Stage = AlertStage;
    const SPECS: &'static [crate::workflow::CommandSpec] = {
        use crate::workflow::{FieldKind::*, req, spec};
        &[
            spec("save-draft", &[req("answers", Answers)]),
            spec("submit", &[req("recipients", Participants)]),
            spec("approve", &[]),
            spec("return", &[req("comment", Text)]),
            spec("reject", &[req("reason", Text)]),
            spec("distribute", &[req("to", Authorities)]),
            spec("acknowledge", &[]),
            spec("add-information", &[req("text", Text)]),
            spec("rectify", &[req("answers", Answers), req("reason", Text)]),
            spec("propose-closure", &[req("reason", Text)]),
            spec("close", &[req("reason", Text)]),
            spec("withdraw", &[req("reason", Text)]),
        ]
    };

    fn name(&self) -> &'static str {
        AlertCommand::name(self)
    }

    fn possible_in(&self) -> &'static [AlertStage] {
        use AlertCommand as C;
        use AlertStage as S;
        match self {
            C::SaveDraft { .. } | C::Submit { .. } => &[S::Draft],
            C::Approve | C::Return { .. } | C::Reject { .. } => &[S::PendingValidation],
            C::Distribute { .. }
            | C::Acknowledge
            | C::AddInformation { .. }
            | C::Rectify { .. }
            | C::ProposeClosure { .. }
            | C::Close { .. } => &[S::Broadcast],
            C::Withdraw { .. } => &[S::PendingValidation, S::Broadcast],
        }
    }
}

crate::workflow::delegate_workflow!(Alert {
    stage: AlertStage,
    command: AlertCommand,
    event: AlertEvent,
    roles: AlertRoles,
    context<'a>: AlertContext<'a>,
});
