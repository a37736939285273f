//! SOLVIT cases as a pure state machine (an IMI area; IMI-REFERENCE Part 1 and §7).
//!
//! A citizen or business meets a problem with a public authority of another country. The
//! **home centre** (the SOLVIT centre of their own country) takes the complaint, prepares
//! the case and submits it to the **lead centre** of the other country; the lead centre
//! accepts or rejects it within a deadline, then looks for a solution within another; the
//! home centre tells the complainant and closes the case as resolved or unresolved, with
//! reasons, and records the complainant's feedback.
//!
//! `Draft` → `Submitted` → `InHandling` ⇄ `SolutionProposed` → `Closed`, plus `Rejected`
//! (by the lead centre) and `Withdrawn` (by the home centre, for the complainant). The
//! deadlines come from the procedure's data (`accept_within_days`, `solve_within_days`).

use std::fmt;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::catalogue::{Answers, QuestionSet, Side, ValidationLevel};
use crate::ids::AuthorityId;
use crate::workflow::{Command, StepError};

pub use crate::engine::solvit::{SolvitBox, SolvitCase, SolvitFigures, SolvitTimelineEntry};

/// Where a SOLVIT case stands, without its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SolvitStage {
    /// The home centre prepares it.
    Draft,
    /// Submitted to the lead centre, which has not accepted it yet.
    Submitted,
    /// Accepted: the lead centre looks for a solution.
    InHandling,
    /// The lead centre proposed a solution; the home centre checks it with the
    /// complainant.
    SolutionProposed,
    /// Closed by the home centre, resolved or not.
    Closed,
    /// Rejected by the lead centre (not a SOLVIT case).
    Rejected,
    /// Withdrawn by the home centre before it was accepted.
    Withdrawn,
}

impl SolvitStage {
    /// Every stage.
    pub const ALL: [SolvitStage; 7] = [
        SolvitStage::Draft,
        SolvitStage::Submitted,
        SolvitStage::InHandling,
        SolvitStage::SolutionProposed,
        SolvitStage::Closed,
        SolvitStage::Rejected,
        SolvitStage::Withdrawn,
    ];

    /// The kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            SolvitStage::Draft => "draft",
            SolvitStage::Submitted => "submitted",
            SolvitStage::InHandling => "in-handling",
            SolvitStage::SolutionProposed => "solution-proposed",
            SolvitStage::Closed => "closed",
            SolvitStage::Rejected => "rejected",
            SolvitStage::Withdrawn => "withdrawn",
        }
    }

    /// A one-byte code for index keys (fixed forever).
    pub fn code(self) -> u8 {
        match self {
            SolvitStage::Draft => 0,
            SolvitStage::Submitted => 1,
            SolvitStage::InHandling => 2,
            SolvitStage::SolutionProposed => 3,
            SolvitStage::Closed => 4,
            SolvitStage::Rejected => 5,
            SolvitStage::Withdrawn => 6,
        }
    }
}

impl crate::workflow::Stage for SolvitStage {
    const WORKFLOW: &'static str = "SOLVIT case";
    fn name(self) -> &'static str {
        SolvitStage::name(self)
    }
}

impl fmt::Display for SolvitStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The problem areas SOLVIT reports on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProblemArea {
    /// Social security (benefits, pensions, health insurance).
    SocialSecurity,
    /// Recognition of professional qualifications.
    ProfessionalQualifications,
    /// Residence rights and visas.
    Residence,
    /// Taxation.
    Taxation,
    /// Vehicles and driving licences.
    Vehicles,
    /// Free movement of goods.
    Goods,
    /// Freedom to provide services and of establishment.
    Services,
    /// Employment rights.
    Employment,
    /// Access to education.
    Education,
    /// Anything else.
    Other,
}

impl ProblemArea {
    /// Every area.
    pub const ALL: [ProblemArea; 10] = [
        ProblemArea::SocialSecurity,
        ProblemArea::ProfessionalQualifications,
        ProblemArea::Residence,
        ProblemArea::Taxation,
        ProblemArea::Vehicles,
        ProblemArea::Goods,
        ProblemArea::Services,
        ProblemArea::Employment,
        ProblemArea::Education,
        ProblemArea::Other,
    ];

    /// The kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            ProblemArea::SocialSecurity => "social-security",
            ProblemArea::ProfessionalQualifications => "professional-qualifications",
            ProblemArea::Residence => "residence",
            ProblemArea::Taxation => "taxation",
            ProblemArea::Vehicles => "vehicles",
            ProblemArea::Goods => "goods",
            ProblemArea::Services => "services",
            ProblemArea::Employment => "employment",
            ProblemArea::Education => "education",
            ProblemArea::Other => "other",
        }
    }

    /// A one-byte code for index keys (fixed forever).
    pub fn code(self) -> u8 {
        match self {
            ProblemArea::SocialSecurity => 0,
            ProblemArea::ProfessionalQualifications => 1,
            ProblemArea::Residence => 2,
            ProblemArea::Taxation => 3,
            ProblemArea::Vehicles => 4,
            ProblemArea::Goods => 5,
            ProblemArea::Services => 6,
            ProblemArea::Employment => 7,
            ProblemArea::Education => 8,
            ProblemArea::Other => 9,
        }
    }

    /// The area of a code.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.code() == code)
    }
}

/// How a closed case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The problem was solved.
    Resolved,
    /// No solution was found.
    Unresolved,
}

/// A SOLVIT case's state, with what each stage needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "stage", rename_all = "kebab-case")]
pub enum SolvitState {
    /// Being prepared.
    Draft,
    /// Waiting for the lead centre.
    Submitted {
        /// The lead centre.
        lead: AuthorityId,
        /// When it was submitted.
        at: DateTime<Utc>,
        /// The date by which the lead centre accepts or rejects it.
        accept_by: NaiveDate,
    },
    /// Being handled by the lead centre.
    InHandling {
        /// The lead centre.
        lead: AuthorityId,
        /// When it was submitted.
        submitted_at: DateTime<Utc>,
        /// When the lead centre accepted it.
        accepted_at: DateTime<Utc>,
        /// The date by which a solution is due.
        solve_by: NaiveDate,
    },
    /// A solution was proposed.
    SolutionProposed {
        /// The lead centre.
        lead: AuthorityId,
        /// When it was submitted.
        submitted_at: DateTime<Utc>,
        /// When the lead centre accepted it.
        accepted_at: DateTime<Utc>,
        /// The date by which a solution was due.
        solve_by: NaiveDate,
    },
    /// Closed.
    Closed {
        /// The lead centre.
        lead: AuthorityId,
        /// When it was submitted.
        submitted_at: DateTime<Utc>,
        /// Resolved or not.
        outcome: Outcome,
        /// When: the start of its retention.
        at: DateTime<Utc>,
    },
    /// Rejected by the lead centre.
    Rejected {
        /// The lead centre.
        lead: AuthorityId,
        /// When: the start of its retention.
        at: DateTime<Utc>,
    },
    /// Withdrawn.
    Withdrawn {
        /// The lead centre, when it had been submitted (it keeps seeing the case).
        #[serde(default)]
        lead: Option<AuthorityId>,
        /// When: the start of its retention.
        at: DateTime<Utc>,
    },
}

impl SolvitState {
    /// The stage.
    pub fn stage(&self) -> SolvitStage {
        match self {
            SolvitState::Draft => SolvitStage::Draft,
            SolvitState::Submitted { .. } => SolvitStage::Submitted,
            SolvitState::InHandling { .. } => SolvitStage::InHandling,
            SolvitState::SolutionProposed { .. } => SolvitStage::SolutionProposed,
            SolvitState::Closed { .. } => SolvitStage::Closed,
            SolvitState::Rejected { .. } => SolvitStage::Rejected,
            SolvitState::Withdrawn { .. } => SolvitStage::Withdrawn,
        }
    }

    /// The lead centre, once submitted.
    pub fn lead(&self) -> Option<AuthorityId> {
        match self {
            SolvitState::Draft => None,
            SolvitState::Withdrawn { lead, .. } => *lead,
            SolvitState::Submitted { lead, .. }
            | SolvitState::InHandling { lead, .. }
            | SolvitState::SolutionProposed { lead, .. }
            | SolvitState::Closed { lead, .. }
            | SolvitState::Rejected { lead, .. } => Some(*lead),
        }
    }

    /// When it ended: the start of its retention.
    pub fn ended_at(&self) -> Option<DateTime<Utc>> {
        match self {
            SolvitState::Closed { at, .. }
            | SolvitState::Rejected { at, .. }
            | SolvitState::Withdrawn { at, .. } => Some(*at),
            SolvitState::Draft
            | SolvitState::Submitted { .. }
            | SolvitState::InHandling { .. }
            | SolvitState::SolutionProposed { .. } => None,
        }
    }

    /// The deadline running now, if any: acceptance, then the solution.
    pub fn due(&self) -> Option<NaiveDate> {
        match self {
            SolvitState::Submitted { accept_by, .. } => Some(*accept_by),
            SolvitState::InHandling { solve_by, .. } => Some(*solve_by),
            SolvitState::Draft
            | SolvitState::SolutionProposed { .. }
            | SolvitState::Closed { .. }
            | SolvitState::Rejected { .. }
            | SolvitState::Withdrawn { .. } => None,
        }
    }
}

/// The parties the acting user is for one case; the engine computes them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SolvitRoles {
    /// A handler of the home centre.
    pub home: bool,
    /// A handler of the lead centre.
    pub lead: bool,
}

/// Which centre acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Centre {
    /// The complainant's home centre.
    Home,
    /// The lead centre.
    Lead,
}

/// What a centre asks to do with a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "kebab-case")]
pub enum SolvitCommand {
    /// Home: saves the complaint's answers (checked at the "save" level) and its problem
    /// area.
    SaveDraft {
        /// The answers.
        answers: Answers,
        /// The problem area, for statistics.
        #[serde(default)]
        problem_area: Option<ProblemArea>,
    },
    /// Home: submits the prepared case to the lead centre of the other country.
    Submit {
        /// The lead centre.
        lead: AuthorityId,
    },
    /// Lead: accepts the case; the deadline for a solution starts.
    Accept,
    /// Lead: rejects it (not a SOLVIT case), with reasons.
    Reject {
        /// Why.
        reason: String,
    },
    /// Either centre: comments.
    Comment {
        /// The comment.
        text: String,
    },
    /// Lead: proposes a solution.
    ProposeSolution {
        /// The solution.
        text: String,
    },
    /// Home: the complainant does not accept the proposal; the lead centre goes on.
    Contest {
        /// Why.
        reason: String,
    },
    /// Home: closes the case, resolved (after a proposal) or unresolved, with reasons.
    Close {
        /// How it ended.
        outcome: Outcome,
        /// Why.
        reason: String,
    },
    /// Home: withdraws it before the lead centre accepts (the complainant gave up).
    Withdraw {
        /// Why.
        reason: String,
    },
    /// Home: records the complainant's feedback on a closed case, once.
    RecordFeedback {
        /// Whether the complainant was satisfied.
        satisfied: bool,
        /// 1 (poor) to 5 (excellent).
        rating: u8,
    },
}

impl Command for SolvitCommand {
    type Stage = SolvitStage;
    const SPECS: &'static [crate::workflow::CommandSpec] = {
        use crate::workflow::{FieldKind::*, opt, req, spec};
        &[
            spec(
                "save-draft",
                &[
                    req("answers", Answers),
                    opt(
                        "problem_area",
                        OneOf(&[
                            "social-security",
                            "professional-qualifications",
                            "residence",
                            "taxation",
                            "vehicles",
                            "goods",
                            "services",
                            "employment",
                            "education",
                            "other",
                        ]),
                    ),
                ],
            ),
            spec("submit", &[req("lead", Authority)]),
            spec("accept", &[]),
            spec("reject", &[req("reason", Text)]),
            spec("comment", &[req("text", Text)]),
            spec("propose-solution", &[req("text", Text)]),
            spec("contest", &[req("reason", Text)]),
            spec(
                "close",
                &[
                    req("outcome", OneOf(&["resolved", "unresolved"])),
                    req("reason", Text),
                ],
            ),
            spec("withdraw", &[req("reason", Text)]),
            spec(
                "record-feedback",
                &[req("satisfied", Bool), req("rating", Score)],
            ),
        ]
    };

    fn name(&self) -> &'static str {
        match self {
            SolvitCommand::SaveDraft { .. } => "save-draft",
            SolvitCommand::Submit { .. } => "submit",
            SolvitCommand::Accept => "accept",
            SolvitCommand::Reject { .. } => "reject",
            SolvitCommand::Comment { .. } => "comment",
            SolvitCommand::ProposeSolution { .. } => "propose-solution",
            SolvitCommand::Contest { .. } => "contest",
            SolvitCommand::Close { .. } => "close",
            SolvitCommand::Withdraw { .. } => "withdraw",
            SolvitCommand::RecordFeedback { .. } => "record-feedback",
        }
    }

    fn possible_in(&self) -> &'static [SolvitStage] {
        use SolvitCommand as C;
        use SolvitStage as S;
        match self {
            C::SaveDraft { .. } | C::Submit { .. } => &[S::Draft],
            C::Accept | C::Reject { .. } => &[S::Submitted],
            C::Comment { .. } => &[S::Submitted, S::InHandling, S::SolutionProposed],
            C::ProposeSolution { .. } => &[S::InHandling],
            C::Contest { .. } => &[S::SolutionProposed],
            C::Close { .. } => &[S::InHandling, S::SolutionProposed],
            C::Withdraw { .. } => &[S::Draft, S::Submitted],
            C::RecordFeedback { .. } => &[S::Closed],
        }
    }
}

/// What happened to a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum SolvitEvent {
    /// The complaint's answers were saved.
    DraftSaved {
        /// The answers.
        answers: Answers,
        /// The problem area.
        problem_area: Option<ProblemArea>,
    },
    /// Submitted to the lead centre.
    Submitted {
        /// The lead centre.
        lead: AuthorityId,
        /// By when it must accept or reject.
        accept_by: NaiveDate,
    },
    /// The lead centre accepted it.
    Accepted {
        /// By when a solution is due.
        solve_by: NaiveDate,
    },
    /// The lead centre rejected it.
    Rejected {
        /// Why.
        reason: String,
    },
    /// A centre commented.
    Commented {
        /// Which.
        by: Centre,
        /// The comment.
        text: String,
    },
    /// The lead centre proposed a solution.
    SolutionProposed {
        /// The solution.
        text: String,
    },
    /// The complainant did not accept the proposal.
    Contested {
        /// Why.
        reason: String,
    },
    /// The home centre closed it.
    Closed {
        /// How it ended.
        outcome: Outcome,
        /// Why.
        reason: String,
        /// Whether the solution came by the deadline.
        on_time: bool,
    },
    /// The home centre withdrew it.
    Withdrawn {
        /// Why.
        reason: String,
    },
    /// A deadline passed (recorded by the engine's `tick`): the lead centre had not
    /// accepted or rejected the case, or found no solution, by `due`.
    DeadlinePassed {
        /// The deadline.
        due: NaiveDate,
    },
    /// The complainant's feedback.
    FeedbackRecorded {
        /// Satisfied or not.
        satisfied: bool,
        /// 1 to 5.
        rating: u8,
    },
    /// Retention: its personal data were blocked at the end of the blocking period.
    PersonalDataBlocked,
    /// Retention: its personal data were deleted 3 years after it ended.
    PersonalDataDeleted,
}

impl SolvitEvent {
    /// Whether the event records how the home centre prepared the case (its saved
    /// drafts): the lead centre sees what was submitted, not how it was drafted.
    pub fn is_drafting(&self) -> bool {
        use SolvitEvent as E;
        match self {
            E::DraftSaved { .. } => true,
            E::Submitted { .. }
            | E::Accepted { .. }
            | E::Rejected { .. }
            | E::Commented { .. }
            | E::SolutionProposed { .. }
            | E::Contested { .. }
            | E::Closed { .. }
            | E::Withdrawn { .. }
            | E::DeadlinePassed { .. }
            | E::FeedbackRecorded { .. }
            | E::PersonalDataBlocked
            | E::PersonalDataDeleted => false,
        }
    }

    /// The event without personal data: answers to personal-data questions dropped, free
    /// texts replaced by `placeholder` (blocked and deleted cases).
    pub fn without_personal_data(&self, set: &QuestionSet, placeholder: &str) -> Self {
        use SolvitEvent as E;
        let hidden = || placeholder.to_owned();
        match self {
            E::DraftSaved {
                answers,
                problem_area,
            } => E::DraftSaved {
                answers: crate::alert::without_personal_data(answers, set),
                problem_area: *problem_area,
            },
            E::Rejected { .. } => E::Rejected { reason: hidden() },
            E::Commented { by, .. } => E::Commented {
                by: *by,
                text: hidden(),
            },
            E::SolutionProposed { .. } => E::SolutionProposed { text: hidden() },
            E::Contested { .. } => E::Contested { reason: hidden() },
            E::Closed {
                outcome, on_time, ..
            } => E::Closed {
                outcome: *outcome,
                reason: hidden(),
                on_time: *on_time,
            },
            E::Withdrawn { .. } => E::Withdrawn { reason: hidden() },
            other @ (E::Submitted { .. }
            | E::Accepted { .. }
            | E::DeadlinePassed { .. }
            | E::FeedbackRecorded { .. }
            | E::PersonalDataBlocked
            | E::PersonalDataDeleted) => other.clone(),
        }
    }
}

/// What `decide` needs besides the case.
#[derive(Debug, Clone, Copy)]
pub struct SolvitContext<'a> {
    /// Now.
    pub now: DateTime<Utc>,
    /// The question-set version the case pinned.
    pub questions: &'a QuestionSet,
    /// The home centre (never the lead centre).
    pub home: AuthorityId,
    /// Days the lead centre has to accept or reject (the procedure's data).
    pub accept_within_days: u16,
    /// Days the lead centre has to find a solution once accepted.
    pub solve_within_days: u16,
}

/// A SOLVIT case's workflow data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Solvit {
    state: SolvitState,
    answers: Answers,
    problem_area: Option<ProblemArea>,
    feedback: Option<(bool, u8)>,
    on_time: Option<bool>,
    #[serde(default)]
    deadline_passed: Option<NaiveDate>,
    #[serde(default)]
    blocked: bool,
    #[serde(default)]
    erased: bool,
}

impl Default for Solvit {
    fn default() -> Self {
        Self::new()
    }
}

/// Why the SOLVIT machine refused a command; nothing was changed.
pub type SolvitError = StepError<SolvitStage>;

impl Solvit {
    /// A new draft, optionally with the complaint's answers (a complaint that came
    /// through the public interface).
    pub fn new() -> Self {
        Self {
            state: SolvitState::Draft,
            answers: Answers::new(),
            problem_area: None,
            feedback: None,
            on_time: None,
            deadline_passed: None,
            blocked: false,
            erased: false,
        }
    }

    /// The state.
    pub fn state(&self) -> &SolvitState {
        &self.state
    }

    /// The complaint's answers.
    pub fn answers(&self) -> &Answers {
        &self.answers
    }

    /// The problem area, once set.
    pub fn problem_area(&self) -> Option<ProblemArea> {
        self.problem_area
    }

    /// The complainant's feedback: satisfied, rating.
    pub fn feedback(&self) -> Option<(bool, u8)> {
        self.feedback
    }

    /// Whether a closed case was solved by the deadline.
    pub fn on_time(&self) -> Option<bool> {
        self.on_time
    }

    /// The running deadline that has not yet been recorded as passed: the day after it
    /// is when `tick` records it.
    pub fn pending_deadline(&self) -> Option<NaiveDate> {
        self.state
            .due()
            .filter(|due| self.deadline_passed != Some(*due))
    }

    /// Whether its personal data are blocked.
    pub fn is_blocked(&self) -> bool {
        self.blocked
    }

    /// Whether its personal data were deleted.
    pub fn is_erased(&self) -> bool {
        self.erased
    }

    /// The same case with its answers reduced by `keep`.
    pub fn redacted(&self, keep: impl Fn(&Answers) -> Answers) -> Self {
        Self {
            answers: keep(&self.answers),
            ..self.clone()
        }
    }

    /// Decides what `command` by `roles` leads to; changes nothing.
    pub fn decide(
        &self,
        roles: SolvitRoles,
        command: &SolvitCommand,
        ctx: &SolvitContext<'_>,
    ) -> Result<Vec<SolvitEvent>, SolvitError> {
        use SolvitCommand as C;
        use SolvitState as S;
        let name = command.name();
        let party = |ok, needed| SolvitError::party(ok, name, needed);
        let today = ctx.now.date_naive();
        match (&self.state, command) {
            (
                S::Draft,
                C::SaveDraft {
                    answers,
                    problem_area,
                },
            ) => {
                party(roles.home, "home centre")?;
                ctx.questions.validate_side(
                    answers,
                    &Answers::new(),
                    Side::Requester,
                    ValidationLevel::Save,
                )?;
                Ok(vec![SolvitEvent::DraftSaved {
                    answers: answers.clone(),
                    problem_area: problem_area.or(self.problem_area),
                }])
            }
            (S::Draft, C::Submit { lead }) => {
                party(roles.home, "home centre")?;
                if *lead == ctx.home {
                    return Err(SolvitError::Invalid {
                        command: name,
                        reason: "the lead centre is another country's SOLVIT centre",
                    });
                }
                if self.problem_area.is_none() {
                    return Err(SolvitError::Invalid {
                        command: name,
                        reason: "give the problem area before submitting",
                    });
                }
                ctx.questions.validate_side(
                    &self.answers,
                    &Answers::new(),
                    Side::Requester,
                    ValidationLevel::Send,
                )?;
                Ok(vec![SolvitEvent::Submitted {
                    lead: *lead,
                    accept_by: today + Duration::days(i64::from(ctx.accept_within_days)),
                }])
            }
            (S::Submitted { .. }, C::Accept) => {
                party(roles.lead, "lead centre")?;
                Ok(vec![SolvitEvent::Accepted {
                    solve_by: today + Duration::days(i64::from(ctx.solve_within_days)),
                }])
            }
            (S::Submitted { .. }, C::Reject { reason }) => {
                party(roles.lead, "lead centre")?;
                SolvitError::text(name, reason)?;
                Ok(vec![SolvitEvent::Rejected {
                    reason: reason.clone(),
                }])
            }
            (
                S::Submitted { .. } | S::InHandling { .. } | S::SolutionProposed { .. },
                C::Comment { text },
            ) => {
                party(roles.home || roles.lead, "home or lead centre")?;
                SolvitError::text(name, text)?;
                Ok(vec![SolvitEvent::Commented {
                    by: if roles.home {
                        Centre::Home
                    } else {
                        Centre::Lead
                    },
                    text: text.clone(),
                }])
            }
            (S::InHandling { .. }, C::ProposeSolution { text }) => {
                party(roles.lead, "lead centre")?;
                SolvitError::text(name, text)?;
                Ok(vec![SolvitEvent::SolutionProposed { text: text.clone() }])
            }
            (S::SolutionProposed { .. }, C::Contest { reason }) => {
                party(roles.home, "home centre")?;
                SolvitError::text(name, reason)?;
                Ok(vec![SolvitEvent::Contested {
                    reason: reason.clone(),
                }])
            }
            (
                S::InHandling { solve_by, .. } | S::SolutionProposed { solve_by, .. },
                C::Close { outcome, reason },
            ) => {
                party(roles.home, "home centre")?;
                SolvitError::text(name, reason)?;
                if *outcome == Outcome::Resolved
                    && self.state.stage() != SolvitStage::SolutionProposed
                {
                    return Err(SolvitError::Invalid {
                        command: name,
                        reason: "a case is resolved only by a proposed solution",
                    });
                }
                Ok(vec![SolvitEvent::Closed {
                    outcome: *outcome,
                    reason: reason.clone(),
                    on_time: today <= *solve_by,
                }])
            }
            (S::Draft | S::Submitted { .. }, C::Withdraw { reason }) => {
                party(roles.home, "home centre")?;
                SolvitError::text(name, reason)?;
                Ok(vec![SolvitEvent::Withdrawn {
                    reason: reason.clone(),
                }])
            }
            (S::Closed { .. }, C::RecordFeedback { satisfied, rating }) => {
                party(roles.home, "home centre")?;
                if self.feedback.is_some() {
                    return Err(SolvitError::Invalid {
                        command: name,
                        reason: "the feedback was already recorded",
                    });
                }
                if !(1..=5).contains(rating) {
                    return Err(SolvitError::Invalid {
                        command: name,
                        reason: "ratings go from 1 to 5",
                    });
                }
                Ok(vec![SolvitEvent::FeedbackRecorded {
                    satisfied: *satisfied,
                    rating: *rating,
                }])
            }
            (
                S::Draft
                | S::Submitted { .. }
                | S::InHandling { .. }
                | S::SolutionProposed { .. }
                | S::Closed { .. }
                | S::Rejected { .. }
                | S::Withdrawn { .. },
                C::SaveDraft { .. }
                | C::Submit { .. }
                | C::Accept
                | C::Reject { .. }
                | C::Comment { .. }
                | C::ProposeSolution { .. }
                | C::Contest { .. }
                | C::Close { .. }
                | C::Withdraw { .. }
                | C::RecordFeedback { .. },
            ) => Err(SolvitError::illegal(self.state.stage(), command)),
        }
    }

    /// Folds an event in. Events are facts: this never fails; one that does not fit the
    /// state (which `decide` never produces) leaves it unchanged.
    pub fn apply(&mut self, event: &SolvitEvent, at: DateTime<Utc>) {
        use SolvitEvent as E;
        use SolvitState as S;
        match (event, self.state) {
            (
                E::DraftSaved {
                    answers,
                    problem_area,
                },
                _,
            ) => {
                self.answers = answers.clone();
                self.problem_area = *problem_area;
            }
            (E::Submitted { lead, accept_by }, _) => {
                self.state = S::Submitted {
                    lead: *lead,
                    at,
                    accept_by: *accept_by,
                };
            }
            (E::Accepted { solve_by }, S::Submitted { lead, at: sent, .. }) => {
                self.state = S::InHandling {
                    lead,
                    submitted_at: sent,
                    accepted_at: at,
                    solve_by: *solve_by,
                };
            }
            (E::Rejected { .. }, S::Submitted { lead, .. }) => {
                self.state = S::Rejected { lead, at };
            }
            (
                E::SolutionProposed { .. },
                S::InHandling {
                    lead,
                    submitted_at,
                    accepted_at,
                    solve_by,
                },
            ) => {
                self.state = S::SolutionProposed {
                    lead,
                    submitted_at,
                    accepted_at,
                    solve_by,
                };
            }
            (
                E::Contested { .. },
                S::SolutionProposed {
                    lead,
                    submitted_at,
                    accepted_at,
                    solve_by,
                },
            ) => {
                self.state = S::InHandling {
                    lead,
                    submitted_at,
                    accepted_at,
                    solve_by,
                };
            }
            (
                E::Closed {
                    outcome, on_time, ..
                },
                S::InHandling {
                    lead, submitted_at, ..
                }
                | S::SolutionProposed {
                    lead, submitted_at, ..
                },
            ) => {
                self.on_time = Some(*on_time);
                self.state = S::Closed {
                    lead,
                    submitted_at,
                    outcome: *outcome,
                    at,
                };
            }
            (E::Withdrawn { .. }, state) => {
                self.state = S::Withdrawn {
                    lead: state.lead(),
                    at,
                }
            }
            (E::DeadlinePassed { due }, _) => self.deadline_passed = Some(*due),
            (E::FeedbackRecorded { satisfied, rating }, _) => {
                self.feedback = Some((*satisfied, *rating));
            }
            (E::PersonalDataBlocked, _) => self.blocked = true,
            (E::PersonalDataDeleted, _) => {
                self.blocked = true;
                self.erased = true;
            }
            (
                E::Accepted { .. }
                | E::Rejected { .. }
                | E::SolutionProposed { .. }
                | E::Contested { .. }
                | E::Closed { .. }
                | E::Commented { .. },
                _,
            ) => {}
        }
    }
}

/// Whether a reader with `roles` may see `case` in full: the home centre always; the
/// lead centre once it was submitted to it.
pub fn solvit_visible(roles: SolvitRoles, case: &Solvit) -> bool {
    roles.home || (roles.lead && case.state.stage() != SolvitStage::Draft)
}

crate::workflow::delegate_workflow!(Solvit {
    stage: SolvitStage,
    command: SolvitCommand,
    event: SolvitEvent,
    roles: SolvitRoles,
    context<'a>: SolvitContext<'a>,
});

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::catalogue::{AnswerValue, Catalogue, CatalogueSource};
    use crate::workflow::Workflow;

    const AREA: &str = "id = \"solvit\"\n[name]\nen = \"SOLVIT\"\n[[procedure]]\nid = \"solvit-case\"\nkind = \"solvit\"\nquestion_set = \"solvit\"\n[procedure.name]\nen = \"SOLVIT case\"\n";
    const QS: &str = "id = \"solvit\"\nversion = 1\n[title]\nen = \"SOLVIT\"\n[[group]]\nid = \"g\"\n[group.title]\nen = \"G\"\n[[group.question]]\nid = \"problem\"\ntype = \"free-text\"\nrequired = \"to-send\"\n[group.question.label]\nen = \"Problem\"\n";

    fn set() -> QuestionSet {
        let c = Catalogue::load(&[
            CatalogueSource::new("areas/solvit.toml", AREA),
            CatalogueSource::new("question-sets/solvit.toml", QS),
        ])
        .unwrap();
        c.question_set(&"solvit".parse().unwrap(), 1)
            .unwrap()
            .clone()
    }

    fn now() -> DateTime<Utc> {
        "2026-11-22T09:00:00Z".parse().unwrap()
    }

    fn id(n: u8) -> AuthorityId {
        format!("01890a5d-ac96-774b-bcce-b302099a80{n:02x}")
            .parse()
            .unwrap()
    }

    const HOME: SolvitRoles = SolvitRoles {
        home: true,
        lead: false,
    };
    const LEAD: SolvitRoles = SolvitRoles {
        home: false,
        lead: true,
    };

    fn every_command() -> Vec<SolvitCommand> {
        let mut answers = Answers::new();
        answers.set("problem".parse().unwrap(), AnswerValue::Text("x".into()));
        let text = || "why".to_owned();
        vec![
            SolvitCommand::SaveDraft {
                answers,
                problem_area: Some(ProblemArea::Other),
            },
            SolvitCommand::Submit { lead: id(2) },
            SolvitCommand::Accept,
            SolvitCommand::Reject { reason: text() },
            SolvitCommand::Comment { text: text() },
            SolvitCommand::ProposeSolution { text: text() },
            SolvitCommand::Contest { reason: text() },
            SolvitCommand::Close {
                outcome: Outcome::Unresolved,
                reason: text(),
            },
            SolvitCommand::Withdraw { reason: text() },
            SolvitCommand::RecordFeedback {
                satisfied: true,
                rating: 3,
            },
        ]
    }

    /// A case in each stage, reached through the machine itself.
    fn in_every_stage(set: &QuestionSet) -> Vec<Solvit> {
        let now = now();
        let ctx = SolvitContext {
            now,
            questions: set,
            home: id(1),
            accept_within_days: 7,
            solve_within_days: 70,
        };
        let step = |s: &Solvit, roles, c: &SolvitCommand| {
            let mut next = s.clone();
            for e in s.decide(roles, c, &ctx).unwrap() {
                next.apply(&e, now);
            }
            next
        };
        let cmds = every_command();
        let draft = step(&Solvit::new(), HOME, &cmds[0]);
        let submitted = step(&draft, HOME, &cmds[1]);
        let handling = step(&submitted, LEAD, &cmds[2]);
        let proposed = step(&handling, LEAD, &cmds[5]);
        let closed = step(&handling, HOME, &cmds[7]);
        let rejected = step(&submitted, LEAD, &cmds[3]);
        let withdrawn = step(&submitted, HOME, &cmds[8]);
        vec![
            draft, submitted, handling, proposed, closed, rejected, withdrawn,
        ]
    }

    #[test]
    fn every_stage_refuses_exactly_what_it_does_not_expect() {
        let set = set();
        let ctx = SolvitContext {
            now: now(),
            questions: &set,
            home: id(1),
            accept_within_days: 7,
            solve_within_days: 70,
        };
        let cases = in_every_stage(&set);
        assert_eq!(
            cases.iter().map(|c| c.stage()).collect::<Vec<_>>(),
            SolvitStage::ALL
        );
        for case in &cases {
            for command in every_command() {
                let possible = command.possible_in().contains(&case.stage());
                let both = SolvitRoles {
                    home: true,
                    lead: true,
                };
                match case.decide(both, &command, &ctx) {
                    Err(SolvitError::IllegalInStage {
                        stage, expected, ..
                    }) => {
                        assert!(!possible, "{} in {}", command.name(), stage);
                        assert_eq!(expected, command.possible_in());
                        assert!(!expected.contains(&stage));
                    }
                    other => assert!(
                        possible,
                        "{} in {}: {other:?}",
                        command.name(),
                        case.stage()
                    ),
                }
            }
        }
    }

    #[test]
    fn each_command_needs_its_centre() {
        let set = set();
        let ctx = SolvitContext {
            now: now(),
            questions: &set,
            home: id(1),
            accept_within_days: 7,
            solve_within_days: 70,
        };
        let cases = in_every_stage(&set);
        let submitted = &cases[1];
        assert!(matches!(
            submitted.decide(HOME, &SolvitCommand::Accept, &ctx),
            Err(SolvitError::WrongParty {
                needed: "lead centre",
                ..
            })
        ));
        let handling = &cases[2];
        let resolved = SolvitCommand::Close {
            outcome: Outcome::Resolved,
            reason: "done".into(),
        };
        assert!(matches!(
            handling.decide(LEAD, &resolved, &ctx),
            Err(SolvitError::WrongParty { .. })
        ));
        // Resolved only after a proposal; the deadline decides "on time".
        assert!(matches!(
            handling.decide(HOME, &resolved, &ctx),
            Err(SolvitError::Invalid { .. })
        ));
        let proposed = &cases[3];
        let events = proposed.decide(HOME, &resolved, &ctx).unwrap();
        assert!(matches!(
            events.as_slice(),
            [SolvitEvent::Closed { on_time: true, .. }]
        ));
        let late = SolvitContext {
            now: ctx.now + Duration::days(71),
            ..ctx
        };
        assert!(matches!(
            proposed.decide(HOME, &resolved, &late).unwrap().as_slice(),
            [SolvitEvent::Closed { on_time: false, .. }]
        ));
        // Never to the home centre itself.
        assert!(matches!(
            cases[0].decide(HOME, &SolvitCommand::Submit { lead: id(1) }, &ctx),
            Err(SolvitError::Invalid { .. })
        ));
    }
}
