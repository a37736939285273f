//! The one-to-one request workflow as a pure state machine.
//!
//! A [`Request`] is decided and changed in two steps, in the manner of event sourcing:
//! [`Request::decide`] takes the acting party's [`Roles`], a [`RequestCommand`] and the
//! [`Context`] (time, question set) and returns the [`RequestEvent`]s that follow, or a
//! [`RequestError`] that names the state and the command; it changes nothing.
//! [`Request::apply`] folds an event into the request and cannot fail, because events are
//! facts. Neither does I/O; the engine wraps events with their actor and time, stores
//! them, and keeps the indexes.
//!
//! States (IMI-REFERENCE Part 1): `Draft` → `AwaitingAcceptance` → `Accepted` →
//! `Answered` → `Closed`, plus `ClarificationRequested` (back to `Answered` on the reply)
//! and `Withdrawn`. Every `(state, command)` pair is an arm of one exhaustive `match`.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::catalogue::{
    AnswerErrors, AnswerProblem, Answers, QuestionId, QuestionSet, Side, ValidationLevel,
};
use crate::ids::{AuthorityId, CaseId, UserId};

/// The most days a responder may commit to when accepting.
pub const MAX_ANSWER_DAYS: u16 = 365;

/// The parties the acting user is for one request. The engine computes them from the
/// user's authority, rights and coordinator role; one user can be several.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Roles {
    /// A handler of the requesting authority.
    pub requester: bool,
    /// A handler of the authority the request is addressed to.
    pub responder: bool,
    /// An allocator of the authority the request is addressed to.
    pub allocator: bool,
    /// A coordinator covering the requesting authority.
    pub requester_coordinator: bool,
    /// A coordinator covering the responding authority.
    pub responder_coordinator: bool,
}

/// A rating of the answer, given at closure (the Scoreboard's "timeliness" and "effort").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rating {
    /// Was the answer on time? 1 (poor) to 5 (excellent).
    pub timeliness: u8,
    /// Was the effort adequate? 1 (poor) to 5 (excellent).
    pub effort: u8,
}

/// What a coordinator does when it intervenes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Intervention {
    /// A comment visible to both parties.
    Comment {
        /// The comment.
        text: String,
    },
    /// A reminder to the party that must act.
    Remind,
    /// Gives the request to another authority, which must accept it.
    Reassign {
        /// The new recipient.
        to: AuthorityId,
    },
    /// Closes the request without an accepted answer.
    Close {
        /// Why.
        reason: String,
    },
}

/// A deadline of the tracking mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeadlineKind {
    /// Not accepted within the procedure's reminder period: the recipient and its
    /// coordinator are reminded.
    NotAccepted,
    /// Not answered by the committed date: the responder is reminded.
    Overdue,
    /// Still not answered the procedure's escalation period after the committed date:
    /// the coordinators are told.
    Escalated,
}

/// A procedure's deadline settings (from the catalogue).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadlineRules {
    /// Days after sending (or forwarding) without acceptance before the reminder.
    pub remind_unaccepted_after_days: u16,
    /// Days after the committed date without an answer before escalation.
    pub escalate_overdue_after_days: u16,
}

/// When a request reached its milestones (for the Scoreboard indicators).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Milestones {
    /// First sent.
    pub sent_at: Option<DateTime<Utc>>,
    /// Since when it waits at its current recipient.
    pub awaiting_since: Option<DateTime<Utc>>,
    /// First accepted.
    pub accepted_at: Option<DateTime<Utc>>,
    /// First answered.
    pub answered_at: Option<DateTime<Utc>>,
}

/// What a party asks to do with a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "kebab-case")]
pub enum RequestCommand {
    /// Requester: saves the draft's answers (checked at the "save" level).
    SaveDraft {
        /// The requester's answers.
        answers: Answers,
    },
    /// Requester: sends the draft (answers checked at the "send" level).
    Send {
        /// The authority asked.
        recipient: AuthorityId,
        /// The date the requester needs the answer by.
        needed_by: NaiveDate,
    },
    /// Requester: withdraws the request before it is answered.
    Withdraw {
        /// Why.
        reason: String,
    },
    /// Responder: accepts, committing to answer within `days` calendar days.
    Accept {
        /// Calendar days from today.
        days: u16,
    },
    /// Responder: proposes a new answer date.
    ProposeDate {
        /// The proposed date.
        date: NaiveDate,
    },
    /// Requester: accepts the proposed date.
    AcceptDate,
    /// Requester: refuses the proposed date.
    RefuseDate,
    /// Responder: passes the whole request to another authority or a coordinator.
    Forward {
        /// The new recipient.
        to: AuthorityId,
    },
    /// Responder: moves some of its questions into a linked child request to another
    /// authority.
    Split {
        /// The authority that gets the child request.
        to: AuthorityId,
        /// The responder's questions the child request takes.
        questions: BTreeSet<QuestionId>,
        /// The child request's id. [`Engine::act_on_request`](crate::Engine::act_on_request)
        /// mints it and ignores what the caller put here; over HTTP it may be left out.
        child: CaseId,
    },
    /// Allocator: assigns the request to a handler of the responding authority.
    Allocate {
        /// The handler.
        handler: UserId,
    },
    /// Responder: answers (answers checked at the "send" level, responder side).
    Answer {
        /// The responder's answers.
        answers: Answers,
    },
    /// Requester: asks for clarification of the answer.
    AskClarification {
        /// What is unclear.
        text: String,
    },
    /// Responder: replies to the clarification request.
    ReplyClarification {
        /// The reply.
        text: String,
    },
    /// Either party: a comment.
    Comment {
        /// The comment.
        text: String,
    },
    /// Either party: refers a disagreement or an unsatisfactory answer to its coordinator.
    Refer {
        /// What the coordinator should look at.
        comment: String,
    },
    /// A coordinator of either party intervenes.
    Intervene(Intervention),
    /// Requester: accepts the answer, which formally closes the request.
    AcceptAnswer {
        /// An optional rating of the answer.
        rating: Option<Rating>,
    },
    /// Either party: corrects personal data it supplied (the right to rectification).
    /// Only answers the party already gave to personal-data questions; the correction
    /// is an event, and the earlier values stay in the history.
    Rectify {
        /// The corrected answers.
        answers: Answers,
        /// Why (e.g. the data subject's request).
        reason: String,
    },
    /// Either party: erases answers it supplied that were processed unlawfully, from
    /// the case and from its whole history (the right to erasure). Also possible while
    /// the data are blocked.
    EraseUnlawful {
        /// The questions whose answers go.
        questions: BTreeSet<QuestionId>,
        /// Why.
        reason: String,
    },
}

impl RequestCommand {
    /// The command's name, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            RequestCommand::SaveDraft { .. } => "save-draft",
            RequestCommand::Send { .. } => "send",
            RequestCommand::Withdraw { .. } => "withdraw",
            RequestCommand::Accept { .. } => "accept",
            RequestCommand::ProposeDate { .. } => "propose-date",
            RequestCommand::AcceptDate => "accept-date",
            RequestCommand::RefuseDate => "refuse-date",
            RequestCommand::Forward { .. } => "forward",
            RequestCommand::Split { .. } => "split",
            RequestCommand::Allocate { .. } => "allocate",
            RequestCommand::Answer { .. } => "answer",
            RequestCommand::AskClarification { .. } => "ask-clarification",
            RequestCommand::ReplyClarification { .. } => "reply-clarification",
            RequestCommand::Comment { .. } => "comment",
            RequestCommand::Refer { .. } => "refer",
            RequestCommand::Intervene(_) => "intervene",
            RequestCommand::AcceptAnswer { .. } => "accept-answer",
            RequestCommand::Rectify { .. } => "rectify",
            RequestCommand::EraseUnlawful { .. } => "erase-unlawful",
        }
    }
}

impl crate::workflow::Command for RequestCommand {
    type Stage = Stage;
    const SPECS: &'static [crate::workflow::CommandSpec] = {
        use crate::workflow::{FieldKind::*, opt, req, spec, variant};
        &[
            spec("save-draft", &[req("answers", Answers)]),
            spec(
                "send",
                &[req("recipient", Authority), req("needed_by", Date)],
            ),
            spec("withdraw", &[req("reason", Text)]),
            spec("accept", &[req("days", Days)]),
            spec("propose-date", &[req("date", Date)]),
            spec("accept-date", &[]),
            spec("refuse-date", &[]),
            spec("forward", &[req("to", Authority)]),
            spec(
                "split",
                &[
                    req("to", Authority),
                    req("questions", Questions),
                    req("child", Case),
                ],
            ),
            spec("allocate", &[req("handler", User)]),
            spec("answer", &[req("answers", Answers)]),
            spec("ask-clarification", &[req("text", Text)]),
            spec("reply-clarification", &[req("text", Text)]),
            spec("comment", &[req("text", Text)]),
            spec("refer", &[req("comment", Text)]),
            variant(
                "intervene-comment",
                "intervene",
                &[("kind", "comment")],
                &[req("text", Text)],
            ),
            variant("intervene-remind", "intervene", &[("kind", "remind")], &[]),
            variant(
                "intervene-reassign",
                "intervene",
                &[("kind", "reassign")],
                &[req("to", Authority)],
            ),
            variant(
                "intervene-close",
                "intervene",
                &[("kind", "close")],
                &[req("reason", Text)],
            ),
            spec("accept-answer", &[opt("rating", Rating)]),
            spec("rectify", &[req("answers", Answers), req("reason", Text)]),
            spec(
                "erase-unlawful",
                &[req("questions", Questions), req("reason", Text)],
            ),
        ]
    };

    fn name(&self) -> &'static str {
        RequestCommand::name(self)
    }

    fn possible_in(&self) -> &'static [Stage] {
        use RequestCommand as C;
        use Stage as S;
        const OPEN: &[Stage] = &[
            S::AwaitingAcceptance,
            S::Accepted,
            S::Answered,
            S::ClarificationRequested,
        ];
        match self {
            C::SaveDraft { .. } | C::Send { .. } => &[S::Draft],
            C::Withdraw { .. } | C::Forward { .. } | C::Split { .. } => {
                &[S::AwaitingAcceptance, S::Accepted]
            }
            C::Accept { .. } => &[S::AwaitingAcceptance],
            C::ProposeDate { .. } | C::AcceptDate | C::RefuseDate | C::Answer { .. } => {
                &[S::Accepted]
            }
            C::Allocate { .. } => &[
                S::AwaitingAcceptance,
                S::Accepted,
                S::ClarificationRequested,
            ],
            C::AskClarification { .. } | C::AcceptAnswer { .. } => &[S::Answered],
            C::ReplyClarification { .. } => &[S::ClarificationRequested],
            C::Comment { .. } | C::Refer { .. } | C::Intervene(_) => OPEN,
            C::Rectify { .. } => &[
                S::AwaitingAcceptance,
                S::Accepted,
                S::Answered,
                S::ClarificationRequested,
                S::Closed,
                S::Withdrawn,
            ],
            C::EraseUnlawful { .. } => &[
                S::Draft,
                S::AwaitingAcceptance,
                S::Accepted,
                S::Answered,
                S::ClarificationRequested,
                S::Closed,
                S::Withdrawn,
            ],
        }
    }
}

/// What happened to a request: facts, in the past tense.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum RequestEvent {
    /// The draft's answers were saved.
    DraftSaved {
        /// The requester's answers.
        answers: Answers,
    },
    /// The request was sent.
    Sent {
        /// The authority asked.
        recipient: AuthorityId,
        /// The date the answer is needed by.
        needed_by: NaiveDate,
    },
    /// The requester withdrew it.
    Withdrawn {
        /// Why.
        reason: String,
    },
    /// The responder accepted it.
    Accepted {
        /// The date it committed to.
        answer_by: NaiveDate,
    },
    /// The responder proposed a new answer date.
    DateProposed {
        /// The proposed date.
        date: NaiveDate,
    },
    /// The requester accepted the new date.
    DateAccepted {
        /// The new committed date.
        date: NaiveDate,
    },
    /// The requester refused the new date.
    DateRefused {
        /// The refused date.
        date: NaiveDate,
    },
    /// The request was forwarded, or reassigned by a coordinator.
    Forwarded {
        /// The previous recipient.
        from: AuthorityId,
        /// The new recipient.
        to: AuthorityId,
        /// Whether a coordinator did it.
        by_coordinator: bool,
    },
    /// Questions moved into a child request.
    SplitOff {
        /// The child request.
        child: CaseId,
        /// Its recipient.
        to: AuthorityId,
        /// The questions it took.
        questions: BTreeSet<QuestionId>,
    },
    /// The request was assigned to a handler.
    Allocated {
        /// The handler.
        handler: UserId,
    },
    /// The responder answered.
    Answered {
        /// The responder's answers.
        answers: Answers,
        /// Whether it was on or before the committed date.
        on_time: bool,
    },
    /// The requester asked for clarification.
    ClarificationAsked {
        /// What is unclear.
        text: String,
    },
    /// The responder replied.
    ClarificationReplied {
        /// The reply.
        text: String,
    },
    /// A party commented.
    Commented {
        /// Which party.
        side: Side,
        /// The comment.
        text: String,
    },
    /// A party referred the request to its coordinator.
    Referred {
        /// Which party.
        side: Side,
        /// What the coordinator should look at.
        comment: String,
    },
    /// A coordinator commented.
    CoordinatorCommented {
        /// The comment.
        text: String,
    },
    /// A coordinator reminded the party that must act.
    Reminded,
    /// A coordinator closed the request.
    ClosedByCoordinator {
        /// Why.
        reason: String,
    },
    /// The requester accepted the answer: formal closure.
    AnswerAccepted {
        /// Its rating, if given.
        rating: Option<Rating>,
    },
    /// A party corrected personal data it had supplied.
    Rectified {
        /// Which party.
        side: Side,
        /// The corrected answers.
        answers: Answers,
        /// Why.
        reason: String,
    },
    /// A party erased answers it had supplied that were processed unlawfully; they are
    /// gone from the case and from every earlier timeline entry.
    UnlawfulDataErased {
        /// Which party.
        side: Side,
        /// The questions whose answers went.
        questions: BTreeSet<QuestionId>,
        /// Why.
        reason: String,
    },
    /// The request's personal data were blocked: the blocking period after formal
    /// closure ended (recorded by the engine's `tick`, never by a party).
    PersonalDataBlocked,
    /// The request's personal data were deleted, 3 years after formal closure (recorded
    /// by the engine's `tick`, never by a party).
    PersonalDataDeleted,
    /// A deadline passed (recorded by the engine's `tick`, never by a party).
    DeadlineReached {
        /// Which deadline.
        kind: DeadlineKind,
        /// Its date.
        due: NaiveDate,
    },
}

impl RequestEvent {
    /// Whether the event records how the requesting side prepared the request before
    /// sending it (its saved drafts). Such entries are shown to the requesting side only:
    /// the other side sees what was sent, not how it was drafted.
    pub fn is_drafting(&self) -> bool {
        use RequestEvent as E;
        match self {
            E::DraftSaved { .. } => true,
            E::Sent { .. }
            | E::Withdrawn { .. }
            | E::Accepted { .. }
            | E::DateProposed { .. }
            | E::DateAccepted { .. }
            | E::DateRefused { .. }
            | E::Forwarded { .. }
            | E::SplitOff { .. }
            | E::Allocated { .. }
            | E::Answered { .. }
            | E::ClarificationAsked { .. }
            | E::ClarificationReplied { .. }
            | E::Commented { .. }
            | E::Referred { .. }
            | E::CoordinatorCommented { .. }
            | E::Reminded
            | E::ClosedByCoordinator { .. }
            | E::AnswerAccepted { .. }
            | E::Rectified { .. }
            | E::UnlawfulDataErased { .. }
            | E::PersonalDataBlocked
            | E::PersonalDataDeleted
            | E::DeadlineReached { .. } => false,
        }
    }
}

/// The stages of a request, for messages, indexes and inbox filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// Being drafted by the requester.
    Draft,
    /// Sent; the recipient has not accepted it yet.
    AwaitingAcceptance,
    /// Accepted; the responder is working on it.
    Accepted,
    /// Answered; the requester reviews the answer.
    Answered,
    /// The requester asked about the answer; the responder must reply.
    ClarificationRequested,
    /// Formally closed.
    Closed,
    /// Withdrawn by the requester.
    Withdrawn,
}

impl Stage {
    /// The stage's name.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Draft => "draft",
            Stage::AwaitingAcceptance => "awaiting-acceptance",
            Stage::Accepted => "accepted",
            Stage::Answered => "answered",
            Stage::ClarificationRequested => "clarification-requested",
            Stage::Closed => "closed",
            Stage::Withdrawn => "withdrawn",
        }
    }
}

impl crate::workflow::Stage for Stage {
    const WORKFLOW: &'static str = "request";
    fn name(self) -> &'static str {
        Stage::name(self)
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a request stands, with what each state needs and nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "stage", rename_all = "kebab-case")]
pub enum RequestState {
    /// Being drafted.
    Draft,
    /// Sent to `recipient`, not accepted yet.
    AwaitingAcceptance {
        /// The authority asked.
        recipient: AuthorityId,
    },
    /// Accepted by `recipient`, who committed to `answer_by`.
    Accepted {
        /// The responding authority.
        recipient: AuthorityId,
        /// The committed answer date.
        answer_by: NaiveDate,
        /// A new date the responder proposed, waiting for the requester.
        proposed: Option<NaiveDate>,
    },
    /// Answered by `recipient`.
    Answered {
        /// The responding authority.
        recipient: AuthorityId,
    },
    /// The requester asked `recipient` about the answer.
    ClarificationRequested {
        /// The responding authority.
        recipient: AuthorityId,
    },
    /// Formally closed at `at`.
    Closed {
        /// The responding authority, if the request was ever sent.
        recipient: Option<AuthorityId>,
        /// When: the start of the retention clock.
        at: DateTime<Utc>,
        /// How.
        by_coordinator: bool,
    },
    /// Withdrawn at `at`.
    Withdrawn {
        /// The authority it had been sent to.
        recipient: Option<AuthorityId>,
        /// When.
        at: DateTime<Utc>,
    },
}

impl RequestState {
    /// The stage.
    pub fn stage(&self) -> Stage {
        match self {
            RequestState::Draft => Stage::Draft,
            RequestState::AwaitingAcceptance { .. } => Stage::AwaitingAcceptance,
            RequestState::Accepted { .. } => Stage::Accepted,
            RequestState::Answered { .. } => Stage::Answered,
            RequestState::ClarificationRequested { .. } => Stage::ClarificationRequested,
            RequestState::Closed { .. } => Stage::Closed,
            RequestState::Withdrawn { .. } => Stage::Withdrawn,
        }
    }

    /// The authority the request is addressed to, once sent.
    pub fn recipient(&self) -> Option<AuthorityId> {
        match self {
            RequestState::Draft => None,
            RequestState::AwaitingAcceptance { recipient }
            | RequestState::Accepted { recipient, .. }
            | RequestState::Answered { recipient }
            | RequestState::ClarificationRequested { recipient } => Some(*recipient),
            RequestState::Closed { recipient, .. } | RequestState::Withdrawn { recipient, .. } => {
                *recipient
            }
        }
    }

    /// Whether the request is sent and neither closed nor withdrawn.
    pub fn is_open(&self) -> bool {
        !matches!(
            self,
            RequestState::Draft | RequestState::Closed { .. } | RequestState::Withdrawn { .. }
        )
    }

    /// Whether the recipient may see personal data and attachments: only once it has
    /// accepted (need to know).
    pub fn recipient_may_see_personal_data(&self) -> bool {
        matches!(
            self,
            RequestState::Accepted { .. }
                | RequestState::Answered { .. }
                | RequestState::ClarificationRequested { .. }
                | RequestState::Closed { .. }
        )
    }
}

/// Why the request machine refused a command; nothing was changed.
pub type RequestError = crate::workflow::StepError<Stage>;

/// What `decide` needs besides the request: the time and the pinned question set.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Now.
    pub now: DateTime<Utc>,
    /// The question-set version the request pinned.
    pub questions: &'a QuestionSet,
    /// The requesting authority (a request is never sent or forwarded to it).
    pub requester: AuthorityId,
}

/// A request's workflow data: its state and the answers of each side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    state: RequestState,
    request_answers: Answers,
    reply_answers: Answers,
    needed_by: Option<NaiveDate>,
    handler: Option<UserId>,
    split_off: BTreeSet<QuestionId>,
    open_referral: Option<Side>,
    answered_on_time: Option<bool>,
    rating: Option<Rating>,
    #[serde(default)]
    milestones: Milestones,
    #[serde(default)]
    deadlines_reached: BTreeSet<(DeadlineKind, NaiveDate)>,
    #[serde(default)]
    blocked: bool,
    #[serde(default)]
    erased: bool,
}

impl Default for Request {
    fn default() -> Self {
        Self::new()
    }
}

/// The side a party acts for on data it supplied: the requester, else the responder.
fn own_side(roles: Roles, command: &'static str) -> Result<Side, RequestError> {
    if roles.requester {
        Ok(Side::Requester)
    } else if roles.responder {
        Ok(Side::Responder)
    } else {
        Err(RequestError::WrongParty {
            command,
            needed: "requester or responder",
        })
    }
}

impl Request {
    /// A new draft.
    pub fn new() -> Self {
        Self {
            state: RequestState::Draft,
            request_answers: Answers::new(),
            reply_answers: Answers::new(),
            needed_by: None,
            handler: None,
            split_off: BTreeSet::new(),
            open_referral: None,
            answered_on_time: None,
            rating: None,
            milestones: Milestones::default(),
            deadlines_reached: BTreeSet::new(),
            blocked: false,
            erased: false,
        }
    }

    /// Whether the personal data were deleted.
    pub fn is_erased(&self) -> bool {
        self.erased
    }

    /// Whether the personal data are blocked: invisible through normal reads.
    pub fn is_blocked(&self) -> bool {
        self.blocked
    }

    /// When the request was formally closed (accepted answer or closure by a
    /// coordinator) or withdrawn: the start of the retention clock.
    pub fn closed_at(&self) -> Option<DateTime<Utc>> {
        match &self.state {
            RequestState::Closed { at, .. } | RequestState::Withdrawn { at, .. } => Some(*at),
            _ => None,
        }
    }

    /// When the request reached its milestones.
    pub fn milestones(&self) -> Milestones {
        self.milestones
    }

    /// The next deadline not yet reached under `rules`, if the state has one.
    pub fn next_deadline(&self, rules: DeadlineRules) -> Option<(DeadlineKind, NaiveDate)> {
        let days = |d: u16| Duration::days(i64::from(d));
        let candidates: Vec<(DeadlineKind, NaiveDate)> = match &self.state {
            RequestState::AwaitingAcceptance { .. } => self
                .milestones
                .awaiting_since
                .map(|since| {
                    vec![(
                        DeadlineKind::NotAccepted,
                        since.date_naive() + days(rules.remind_unaccepted_after_days),
                    )]
                })
                .unwrap_or_default(),
            RequestState::Accepted { answer_by, .. } => vec![
                (DeadlineKind::Overdue, *answer_by + Duration::days(1)),
                (
                    DeadlineKind::Escalated,
                    *answer_by + days(rules.escalate_overdue_after_days),
                ),
            ],
            _ => vec![],
        };
        candidates
            .into_iter()
            .find(|d| !self.deadlines_reached.contains(d))
    }

    /// A child request made by a split: a draft that already holds the parent's
    /// requester answers and must answer only `questions`.
    pub fn child_of(
        parent: &Request,
        questions: &BTreeSet<QuestionId>,
        all_responder_questions: impl Iterator<Item = QuestionId>,
    ) -> Self {
        let mut child = Request::new();
        child.request_answers = parent.request_answers.clone();
        child.needed_by = parent.needed_by;
        child.split_off = all_responder_questions
            .filter(|q| !questions.contains(q))
            .collect();
        child
    }

    /// The same request with both sides' answers passed through `filter` (for
    /// need-to-know views).
    pub fn redacted(&self, filter: impl Fn(&Answers) -> Answers) -> Request {
        Request {
            request_answers: filter(&self.request_answers),
            reply_answers: filter(&self.reply_answers),
            ..self.clone()
        }
    }

    /// The current state.
    pub fn state(&self) -> &RequestState {
        &self.state
    }

    /// The requester's answers.
    pub fn request_answers(&self) -> &Answers {
        &self.request_answers
    }

    /// The responder's answers.
    pub fn reply_answers(&self) -> &Answers {
        &self.reply_answers
    }

    /// The date the requester needs the answer by.
    pub fn needed_by(&self) -> Option<NaiveDate> {
        self.needed_by
    }

    /// The handler the request is allocated to.
    pub fn handler(&self) -> Option<UserId> {
        self.handler
    }

    /// Responder questions this request does not answer (moved to child requests).
    pub fn split_off(&self) -> &BTreeSet<QuestionId> {
        &self.split_off
    }

    /// The party whose referral is open, if any.
    pub fn open_referral(&self) -> Option<Side> {
        self.open_referral
    }

    /// Whether the answer came by the committed date (once answered).
    pub fn answered_on_time(&self) -> Option<bool> {
        self.answered_on_time
    }

    /// The requester's rating, once closed with one.
    pub fn rating(&self) -> Option<Rating> {
        self.rating
    }

    /// The answers `side` supplied, then the other side's.
    fn sides(&self, side: Side) -> (&Answers, &Answers) {
        match side {
            Side::Requester => (&self.request_answers, &self.reply_answers),
            Side::Responder => (&self.reply_answers, &self.request_answers),
        }
    }

    /// Decides what `roles` asking `command` leads to, without changing anything.
    pub fn decide(
        &self,
        roles: Roles,
        command: &RequestCommand,
        ctx: &Context<'_>,
    ) -> Result<Vec<RequestEvent>, RequestError> {
        use RequestCommand as C;
        use RequestState as S;
        let name = command.name();
        let illegal = || Err(RequestError::illegal(self.state.stage(), command));
        let party = |ok, needed| RequestError::party(ok, name, needed);
        let invalid = |reason| {
            Err(RequestError::Invalid {
                command: name,
                reason,
            })
        };
        let today = ctx.now.date_naive();
        match (&self.state, command) {
            (S::Draft, C::SaveDraft { answers }) => {
                party(roles.requester, "requester")?;
                ctx.questions.validate_side(
                    answers,
                    &Answers::new(),
                    Side::Requester,
                    ValidationLevel::Save,
                )?;
                Ok(vec![RequestEvent::DraftSaved {
                    answers: answers.clone(),
                }])
            }
            (
                S::Draft,
                C::Send {
                    recipient,
                    needed_by,
                },
            ) => {
                party(roles.requester, "requester")?;
                if *recipient == ctx.requester {
                    return invalid("a request cannot be sent to its own authority");
                }
                if *needed_by < today {
                    return invalid("the date the answer is needed by has passed");
                }
                ctx.questions.validate_side(
                    &self.request_answers,
                    &Answers::new(),
                    Side::Requester,
                    ValidationLevel::Send,
                )?;
                Ok(vec![RequestEvent::Sent {
                    recipient: *recipient,
                    needed_by: *needed_by,
                }])
            }
            (S::AwaitingAcceptance { .. } | S::Accepted { .. }, C::Withdraw { reason }) => {
                party(roles.requester, "requester")?;
                RequestError::text(name, reason)?;
                Ok(vec![RequestEvent::Withdrawn {
                    reason: reason.clone(),
                }])
            }
            (S::AwaitingAcceptance { .. }, C::Accept { days }) => {
                party(roles.responder, "responder")?;
                if *days == 0 || *days > MAX_ANSWER_DAYS {
                    return invalid("the number of days must be between 1 and 365");
                }
                Ok(vec![RequestEvent::Accepted {
                    answer_by: today + Duration::days(i64::from(*days)),
                }])
            }
            (
                S::Accepted {
                    proposed: None,
                    answer_by,
                    ..
                },
                C::ProposeDate { date },
            ) => {
                party(roles.responder, "responder")?;
                if *date <= today || date == answer_by {
                    return invalid(
                        "the new date must be in the future and differ from the committed one",
                    );
                }
                Ok(vec![RequestEvent::DateProposed { date: *date }])
            }
            (
                S::Accepted {
                    proposed: Some(date),
                    ..
                },
                C::AcceptDate,
            ) => {
                party(roles.requester, "requester")?;
                Ok(vec![RequestEvent::DateAccepted { date: *date }])
            }
            (
                S::Accepted {
                    proposed: Some(date),
                    ..
                },
                C::RefuseDate,
            ) => {
                party(roles.requester, "requester")?;
                Ok(vec![RequestEvent::DateRefused { date: *date }])
            }
            (
                S::AwaitingAcceptance { recipient } | S::Accepted { recipient, .. },
                C::Forward { to },
            ) => {
                party(roles.responder, "responder")?;
                if to == recipient || *to == ctx.requester {
                    return invalid(
                        "forward to another authority than the requester and the current recipient",
                    );
                }
                Ok(vec![RequestEvent::Forwarded {
                    from: *recipient,
                    to: *to,
                    by_coordinator: false,
                }])
            }
            (
                S::AwaitingAcceptance { recipient } | S::Accepted { recipient, .. },
                C::Split {
                    to,
                    questions,
                    child,
                },
            ) => {
                party(roles.responder, "responder")?;
                if to == recipient || *to == ctx.requester {
                    return invalid(
                        "split to another authority than the requester and the current recipient",
                    );
                }
                let remaining: BTreeSet<&QuestionId> = ctx
                    .questions
                    .questions()
                    .filter(|q| q.answered_by == Side::Responder && !self.split_off.contains(&q.id))
                    .map(|q| &q.id)
                    .collect();
                if questions.is_empty() || !questions.iter().all(|q| remaining.contains(q)) {
                    return invalid(
                        "the questions must be responder questions this request still answers",
                    );
                }
                if questions.len() == remaining.len() {
                    return invalid(
                        "a split must leave at least one question; forward the whole request instead",
                    );
                }
                Ok(vec![RequestEvent::SplitOff {
                    child: *child,
                    to: *to,
                    questions: questions.clone(),
                }])
            }
            (
                S::AwaitingAcceptance { .. }
                | S::Accepted { .. }
                | S::ClarificationRequested { .. },
                C::Allocate { handler },
            ) => {
                party(roles.allocator, "allocator of the responding authority")?;
                Ok(vec![RequestEvent::Allocated { handler: *handler }])
            }
            (S::Accepted { answer_by, .. }, C::Answer { answers }) => {
                party(roles.responder, "responder")?;
                let checked = ctx.questions.validate_side(
                    answers,
                    &self.request_answers,
                    Side::Responder,
                    ValidationLevel::Send,
                );
                if let Err(AnswerErrors(errors)) = checked {
                    // Questions moved to a child request are not this request's to answer.
                    let errors: Vec<_> = errors
                        .into_iter()
                        .filter(|e| {
                            !(self.split_off.contains(&e.question)
                                && matches!(e.problem, AnswerProblem::Missing { .. }))
                        })
                        .collect();
                    if !errors.is_empty() {
                        return Err(AnswerErrors(errors).into());
                    }
                }
                if let Some(q) = answers
                    .iter()
                    .map(|(q, _)| q)
                    .find(|q| self.split_off.contains(*q))
                {
                    return Err(AnswerErrors(vec![crate::catalogue::AnswerError {
                        question: q.clone(),
                        problem: AnswerProblem::OtherSide,
                    }])
                    .into());
                }
                Ok(vec![RequestEvent::Answered {
                    answers: answers.clone(),
                    on_time: today <= *answer_by,
                }])
            }
            (S::Answered { .. }, C::AskClarification { text }) => {
                party(roles.requester, "requester")?;
                RequestError::text(name, text)?;
                Ok(vec![RequestEvent::ClarificationAsked {
                    text: text.clone(),
                }])
            }
            (S::ClarificationRequested { .. }, C::ReplyClarification { text }) => {
                party(roles.responder, "responder")?;
                RequestError::text(name, text)?;
                Ok(vec![RequestEvent::ClarificationReplied {
                    text: text.clone(),
                }])
            }
            (
                S::AwaitingAcceptance { .. }
                | S::Accepted { .. }
                | S::Answered { .. }
                | S::ClarificationRequested { .. },
                C::Comment { text },
            ) => {
                RequestError::text(name, text)?;
                party(roles.requester || roles.responder, "requester or responder")?;
                let side = if roles.requester {
                    Side::Requester
                } else {
                    Side::Responder
                };
                Ok(vec![RequestEvent::Commented {
                    side,
                    text: text.clone(),
                }])
            }
            (
                S::AwaitingAcceptance { .. }
                | S::Accepted { .. }
                | S::Answered { .. }
                | S::ClarificationRequested { .. },
                C::Refer { comment },
            ) => {
                RequestError::text(name, comment)?;
                party(roles.requester || roles.responder, "requester or responder")?;
                let side = if roles.requester {
                    Side::Requester
                } else {
                    Side::Responder
                };
                Ok(vec![RequestEvent::Referred {
                    side,
                    comment: comment.clone(),
                }])
            }
            (
                state @ (S::AwaitingAcceptance { .. }
                | S::Accepted { .. }
                | S::Answered { .. }
                | S::ClarificationRequested { .. }),
                C::Intervene(what),
            ) => {
                party(
                    roles.requester_coordinator || roles.responder_coordinator,
                    "coordinator of either party",
                )?;
                match what {
                    Intervention::Comment { text } => {
                        RequestError::text(name, text)?;
                        Ok(vec![RequestEvent::CoordinatorCommented {
                            text: text.clone(),
                        }])
                    }
                    Intervention::Remind => Ok(vec![RequestEvent::Reminded]),
                    Intervention::Reassign { to } => match state {
                        S::AwaitingAcceptance { recipient } | S::Accepted { recipient, .. }
                            if to != recipient && *to != ctx.requester =>
                        {
                            Ok(vec![RequestEvent::Forwarded {
                                from: *recipient,
                                to: *to,
                                by_coordinator: true,
                            }])
                        }
                        S::AwaitingAcceptance { .. } | S::Accepted { .. } => invalid(
                            "reassign to another authority than the requester and the current recipient",
                        ),
                        _ => illegal(),
                    },
                    Intervention::Close { reason } => {
                        RequestError::text(name, reason)?;
                        Ok(vec![RequestEvent::ClosedByCoordinator {
                            reason: reason.clone(),
                        }])
                    }
                }
            }
            (S::Answered { .. }, C::AcceptAnswer { rating }) => {
                party(roles.requester, "requester")?;
                if let Some(r) = rating
                    && (!(1..=5).contains(&r.timeliness) || !(1..=5).contains(&r.effort))
                {
                    return invalid("ratings go from 1 to 5");
                }
                Ok(vec![RequestEvent::AnswerAccepted { rating: *rating }])
            }
            (S::Draft, C::Rectify { .. }) => invalid("a draft is corrected by saving it again"),
            (
                S::AwaitingAcceptance { .. }
                | S::Accepted { .. }
                | S::Answered { .. }
                | S::ClarificationRequested { .. }
                | S::Closed { .. }
                | S::Withdrawn { .. },
                C::Rectify { answers, reason },
            ) => {
                let side = own_side(roles, name)?;
                RequestError::text(name, reason)?;
                if self.blocked {
                    return invalid("the personal data are blocked");
                }
                if answers.is_empty() {
                    return invalid("give at least one corrected answer");
                }
                let (own, other) = self.sides(side);
                let mut errors = Vec::new();
                let mut merged = own.clone();
                for (q, v) in answers.iter() {
                    let personal = ctx.questions.question(q).is_some_and(|q| q.personal_data);
                    if !personal || own.get(q).is_none() {
                        errors.push(crate::catalogue::AnswerError {
                            question: q.clone(),
                            problem: AnswerProblem::NotRectifiable,
                        });
                    }
                    merged.set(q.clone(), v.clone());
                }
                if let Err(AnswerErrors(found)) =
                    ctx.questions
                        .validate_side(&merged, other, side, ValidationLevel::Save)
                {
                    errors.extend(
                        found
                            .into_iter()
                            .filter(|e| answers.get(&e.question).is_some()),
                    );
                }
                if !errors.is_empty() {
                    return Err(AnswerErrors(errors).into());
                }
                Ok(vec![RequestEvent::Rectified {
                    side,
                    answers: answers.clone(),
                    reason: reason.clone(),
                }])
            }
            (
                S::Draft
                | S::AwaitingAcceptance { .. }
                | S::Accepted { .. }
                | S::Answered { .. }
                | S::ClarificationRequested { .. }
                | S::Closed { .. }
                | S::Withdrawn { .. },
                C::EraseUnlawful { questions, reason },
            ) => {
                let side = own_side(roles, name)?;
                RequestError::text(name, reason)?;
                if self.erased {
                    return invalid("the personal data were already deleted");
                }
                let (own, _) = self.sides(side);
                if questions.is_empty() {
                    return invalid("name at least one question");
                }
                let missing: Vec<_> = questions
                    .iter()
                    .filter(|q| own.get(q).is_none())
                    .map(|q| crate::catalogue::AnswerError {
                        question: q.clone(),
                        problem: AnswerProblem::NotRectifiable,
                    })
                    .collect();
                if !missing.is_empty() {
                    return Err(AnswerErrors(missing).into());
                }
                Ok(vec![RequestEvent::UnlawfulDataErased {
                    side,
                    questions: questions.clone(),
                    reason: reason.clone(),
                }])
            }
            (
                S::Draft
                | S::AwaitingAcceptance { .. }
                | S::Accepted { .. }
                | S::Answered { .. }
                | S::ClarificationRequested { .. }
                | S::Closed { .. }
                | S::Withdrawn { .. },
                C::SaveDraft { .. }
                | C::Send { .. }
                | C::Withdraw { .. }
                | C::Accept { .. }
                | C::ProposeDate { .. }
                | C::AcceptDate
                | C::RefuseDate
                | C::Forward { .. }
                | C::Split { .. }
                | C::Allocate { .. }
                | C::Answer { .. }
                | C::AskClarification { .. }
                | C::ReplyClarification { .. }
                | C::Comment { .. }
                | C::Refer { .. }
                | C::Intervene(_)
                | C::AcceptAnswer { .. },
            ) => illegal(),
        }
    }

    /// Folds an event into the request. Events are facts: this never fails. An event
    /// that does not fit the state (which `decide` never produces) leaves it unchanged.
    pub fn apply(&mut self, event: &RequestEvent, at: DateTime<Utc>) {
        use RequestEvent as E;
        use RequestState as S;
        let recipient = self.state.recipient();
        match event {
            E::DraftSaved { answers } => self.request_answers = answers.clone(),
            E::Sent {
                recipient,
                needed_by,
            } => {
                self.milestones.sent_at.get_or_insert(at);
                self.milestones.awaiting_since = Some(at);
                self.needed_by = Some(*needed_by);
                self.state = S::AwaitingAcceptance {
                    recipient: *recipient,
                };
            }
            E::Withdrawn { .. } => self.state = S::Withdrawn { recipient, at },
            E::Accepted { answer_by } => {
                self.milestones.accepted_at.get_or_insert(at);
                if let Some(recipient) = recipient {
                    self.state = S::Accepted {
                        recipient,
                        answer_by: *answer_by,
                        proposed: None,
                    };
                }
            }
            E::DateProposed { date } => {
                if let S::Accepted { proposed, .. } = &mut self.state {
                    *proposed = Some(*date);
                }
            }
            E::DateAccepted { date } => {
                if let S::Accepted {
                    answer_by,
                    proposed,
                    ..
                } = &mut self.state
                {
                    *answer_by = *date;
                    *proposed = None;
                }
            }
            E::DateRefused { .. } => {
                if let S::Accepted { proposed, .. } = &mut self.state {
                    *proposed = None;
                }
            }
            E::Forwarded { to, .. } => {
                self.milestones.awaiting_since = Some(at);
                self.state = S::AwaitingAcceptance { recipient: *to };
                self.handler = None;
            }
            E::SplitOff { questions, .. } => self.split_off.extend(questions.iter().cloned()),
            E::Allocated { handler } => self.handler = Some(*handler),
            E::Answered { answers, on_time } => {
                self.milestones.answered_at.get_or_insert(at);
                self.reply_answers = answers.clone();
                self.answered_on_time = Some(*on_time);
                if let Some(recipient) = recipient {
                    self.state = S::Answered { recipient };
                }
            }
            E::ClarificationAsked { .. } => {
                if let Some(recipient) = recipient {
                    self.state = S::ClarificationRequested { recipient };
                }
            }
            E::ClarificationReplied { .. } => {
                if let Some(recipient) = recipient {
                    self.state = S::Answered { recipient };
                }
            }
            E::Referred { side, .. } => self.open_referral = Some(*side),
            E::PersonalDataBlocked => self.blocked = true,
            E::PersonalDataDeleted => {
                self.blocked = true;
                self.erased = true;
            }
            E::DeadlineReached { kind, due } => {
                self.deadlines_reached.insert((*kind, *due));
            }
            E::Commented { .. } | E::CoordinatorCommented { .. } | E::Reminded => {}
            E::ClosedByCoordinator { .. } => {
                self.state = S::Closed {
                    recipient,
                    at,
                    by_coordinator: true,
                };
                self.open_referral = None;
            }
            E::Rectified { side, answers, .. } => {
                let own = match side {
                    Side::Requester => &mut self.request_answers,
                    Side::Responder => &mut self.reply_answers,
                };
                for (q, v) in answers.iter() {
                    own.set(q.clone(), v.clone());
                }
            }
            E::UnlawfulDataErased {
                side, questions, ..
            } => {
                let own = match side {
                    Side::Requester => &mut self.request_answers,
                    Side::Responder => &mut self.reply_answers,
                };
                for q in questions {
                    own.clear(q);
                }
            }
            E::AnswerAccepted { rating } => {
                self.rating = *rating;
                self.state = S::Closed {
                    recipient,
                    at,
                    by_coordinator: false,
                };
                self.open_referral = None;
            }
        }
    }
}

crate::workflow::delegate_workflow!(Request {
    stage: Stage,
    command: RequestCommand,
    event: RequestEvent,
    roles: Roles,
    context<'a>: Context<'a>,
});
