//! The catalogue's types: legislative areas, procedures and versioned question sets.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::language::Language;
use crate::localised::LocalisedText;

/// Why a catalogue identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a valid {kind} id (1-64 characters: a-z, 0-9 and inner hyphens)")]
pub struct SlugError {
    /// Which kind of id.
    pub kind: &'static str,
    /// The offending text.
    pub value: String,
}

fn is_slug(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
}

macro_rules! slug_id {
    ($(#[$meta:meta])* $name:ident, $kind:literal) => {
        $(#[$meta])*
        ///
        /// A stable, human-readable slug: 1-64 characters of `a-z`, `0-9` and inner hyphens.
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// What this id names, for messages.
            pub const KIND: &'static str = $kind;

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = SlugError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                if is_slug(s) {
                    Ok(Self(s.to_owned()))
                } else {
                    Err(SlugError { kind: $kind, value: s.to_owned() })
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

slug_id!(
    /// Identifies a legislative area (e.g. `professional-qualifications`).
    AreaId,
    "area"
);
slug_id!(
    /// Identifies a procedure (e.g. `pq-diploma-check`).
    ProcedureId,
    "procedure"
);
slug_id!(
    /// Identifies a question set across its versions.
    QuestionSetId,
    "question set"
);
slug_id!(
    /// Identifies a group of questions within a question set.
    GroupId,
    "group"
);
slug_id!(
    /// Identifies a question within a question set; stable across versions.
    QuestionId,
    "question"
);
slug_id!(
    /// Identifies an answer option of a choice question.
    OptionId,
    "option"
);

/// A legislative area: a policy field with its own legal basis (professional
/// qualifications, services, posting of workers, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LegislativeArea {
    /// The area's id.
    pub id: AreaId,
    /// Its name.
    pub name: LocalisedText,
    /// What it covers, with its legal basis.
    pub description: Option<LocalisedText>,
}

/// The rights a user can be granted for a procedure (IMI-REFERENCE Part 1, "Users").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Right {
    /// Creates, sends and answers requests.
    RequestHandler,
    /// Assigns incoming requests to handlers.
    Allocator,
    /// Coordinators: handles requests referred to them.
    ReferralHandler,
    /// Drafts and sends alerts.
    OutgoingAlertHandler,
    /// Handles alerts distributed to the authority.
    IncomingAlertHandler,
    /// Validates outgoing alerts of the country.
    OutgoingAlertCoordinator,
    /// Receives alerts for the country and distributes them.
    IncomingAlertCoordinator,
    /// Sends and handles notifications.
    NotificationHandler,
    /// Maintains repository records.
    RepositoryEditor,
    /// Reads, but cannot act.
    Viewer,
    /// Manages the authority's users and their rights.
    Administrator,
    /// Mints API tokens for themselves, for their own scripts and systems (scope
    /// `everything` only).
    ApiUser,
}

impl Right {
    /// Every right, in declaration order.
    pub const ALL: [Right; 12] = [
        Right::RequestHandler,
        Right::Allocator,
        Right::ReferralHandler,
        Right::OutgoingAlertHandler,
        Right::IncomingAlertHandler,
        Right::OutgoingAlertCoordinator,
        Right::IncomingAlertCoordinator,
        Right::NotificationHandler,
        Right::RepositoryEditor,
        Right::Viewer,
        Right::Administrator,
        Right::ApiUser,
    ];

    /// Whether this right means anything for a procedure of `kind`.
    pub fn fits(self, kind: WorkflowKind) -> bool {
        use Right::*;
        matches!(
            (self, kind),
            (Viewer | Administrator, _)
                | (
                    RequestHandler | Allocator | ReferralHandler,
                    WorkflowKind::Request
                )
                | (RequestHandler, WorkflowKind::Solvit)
                | (
                    OutgoingAlertHandler
                        | IncomingAlertHandler
                        | OutgoingAlertCoordinator
                        | IncomingAlertCoordinator,
                    WorkflowKind::Alert,
                )
                | (NotificationHandler, WorkflowKind::Notification)
                | (RepositoryEditor, WorkflowKind::Repository)
        )
    }

    /// The rights a procedure of `kind` offers when its file does not list them.
    pub fn defaults_for(kind: WorkflowKind) -> Vec<Right> {
        Right::ALL.into_iter().filter(|r| r.fits(kind)).collect()
    }

    /// The right's kebab-case name as used in catalogue files.
    pub fn name(self) -> &'static str {
        use Right::*;
        match self {
            RequestHandler => "request-handler",
            Allocator => "allocator",
            ReferralHandler => "referral-handler",
            OutgoingAlertHandler => "outgoing-alert-handler",
            IncomingAlertHandler => "incoming-alert-handler",
            OutgoingAlertCoordinator => "outgoing-alert-coordinator",
            IncomingAlertCoordinator => "incoming-alert-coordinator",
            NotificationHandler => "notification-handler",
            RepositoryEditor => "repository-editor",
            Viewer => "viewer",
            Administrator => "administrator",
            ApiUser => "api-user",
        }
    }
}

/// The workflow a procedure runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WorkflowKind {
    /// One-to-one request for information.
    Request,
    /// One-to-many alert.
    Alert,
    /// One-to-many notification.
    Notification,
    /// Shared records of an area.
    Repository,
    /// SOLVIT cases between the SOLVIT centres.
    Solvit,
    /// Surveys of competent authorities.
    Survey,
}

impl WorkflowKind {
    /// The kebab-case name used in catalogue files.
    pub fn name(self) -> &'static str {
        match self {
            WorkflowKind::Request => "request",
            WorkflowKind::Alert => "alert",
            WorkflowKind::Notification => "notification",
            WorkflowKind::Repository => "repository",
            WorkflowKind::Solvit => "solvit",
            WorkflowKind::Survey => "survey",
        }
    }

    /// Where its cases live in the HTTP API (`/v1/<path>/<id>`), for links.
    pub fn path(self) -> &'static str {
        match self {
            WorkflowKind::Request => "requests",
            WorkflowKind::Alert => "alerts",
            WorkflowKind::Notification => "notifications",
            WorkflowKind::Repository => "records",
            WorkflowKind::Solvit => "solvit-cases",
            WorkflowKind::Survey => "surveys",
        }
    }
}

/// The legal bounds for blocking personal data after formal closure (Regulation (EU)
/// No 1024/2012, Art. 14(1)): 6 months as a rule, at most 18.
pub const DEFAULT_BLOCKING_MONTHS: u8 = 6;
/// The longest blocking period a procedure may set.
pub const MAX_BLOCKING_MONTHS: u8 = 18;

/// Months after formal closure at which a case's personal data are blocked; 1 to 18.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct BlockingPeriod(u8);

impl BlockingPeriod {
    /// The period in months.
    pub fn months(self) -> u8 {
        self.0
    }
}

impl Default for BlockingPeriod {
    fn default() -> Self {
        Self(DEFAULT_BLOCKING_MONTHS)
    }
}

impl TryFrom<u8> for BlockingPeriod {
    type Error = String;

    fn try_from(months: u8) -> Result<Self, Self::Error> {
        if (1..=MAX_BLOCKING_MONTHS).contains(&months) {
            Ok(Self(months))
        } else {
            Err(format!(
                "a blocking period of {months} months is outside the legal 1..={MAX_BLOCKING_MONTHS}"
            ))
        }
    }
}

impl From<BlockingPeriod> for u8 {
    fn from(p: BlockingPeriod) -> u8 {
        p.0
    }
}

/// The parameters of a procedure's workflow, one variant per kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Workflow {
    /// One-to-one request.
    Request {
        /// Calendar days the requester asks for by default.
        answer_days: u16,
        /// Remind the recipient (and its coordinator) when not accepted after this many days.
        remind_unaccepted_after_days: u16,
        /// Escalate to the coordinators this many days after the committed answer date.
        escalate_overdue_after_days: u16,
        /// Whether two authorities of the same country may use it (national use).
        national_use: bool,
        /// Whether citizens and businesses may submit through the public interface.
        public_submission: bool,
    },
    /// One-to-many alert.
    Alert {
        /// Whether the sender country's outgoing alert coordinator validates alerts
        /// before broadcast.
        outgoing_validation: bool,
    },
    /// One-to-many notification.
    Notification {
        /// Whether the Commission receives it.
        to_commission: bool,
        /// Whether the member states receive it.
        to_member_states: bool,
    },
    /// Shared records of an area.
    Repository {
        /// Months records are kept after they are retired; `None`: as long as the area's
        /// act requires, managed by its editors.
        retention_months: Option<u16>,
    },
    /// SOLVIT cases.
    Solvit {
        /// Days the lead centre has to accept or reject a submitted case.
        accept_within_days: u16,
        /// Days the lead centre has to find a solution once it accepted.
        solve_within_days: u16,
    },
    /// Surveys of competent authorities.
    Survey {
        /// Days before the deadline the authorities that have not answered are reminded.
        remind_days_before: u16,
    },
}

impl Workflow {
    /// The kind of workflow.
    pub fn kind(&self) -> WorkflowKind {
        match self {
            Workflow::Request { .. } => WorkflowKind::Request,
            Workflow::Alert { .. } => WorkflowKind::Alert,
            Workflow::Notification { .. } => WorkflowKind::Notification,
            Workflow::Repository { .. } => WorkflowKind::Repository,
            Workflow::Solvit { .. } => WorkflowKind::Solvit,
            Workflow::Survey { .. } => WorkflowKind::Survey,
        }
    }
}

/// A procedure: one use of a workflow within an area, with its question set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Procedure {
    /// The procedure's id.
    pub id: ProcedureId,
    /// The area it belongs to.
    pub area: AreaId,
    /// Its name.
    pub name: LocalisedText,
    /// What it runs, with its parameters.
    pub workflow: Workflow,
    /// The question set its cases answer (cases pin the version current when created).
    pub question_set: QuestionSetId,
    /// Months after formal closure at which personal data are blocked.
    pub blocking: BlockingPeriod,
    /// The rights users can be granted for it.
    pub rights: Vec<Right>,
}

/// How strongly a question must be answered (IMI's red and orange asterisks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Requirement {
    /// May stay empty.
    Optional,
    /// Needed before sending (orange asterisk); a draft may be saved without it.
    ToSend,
    /// Needed even to save a draft (red asterisk).
    ToSave,
}

/// Which party of a request answers a question.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Side {
    /// The requesting authority fills it in when it drafts the request (the default).
    #[default]
    Requester,
    /// The responding authority fills it in when it answers.
    Responder,
}

/// A special category of personal data (Art. 16), allowed only where a procedure marks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SpecialCategory {
    /// Disciplinary, administrative or criminal sanctions.
    Sanctions,
    /// Information establishing good repute.
    GoodRepute,
}

/// A pre-translated answer option.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChoiceOption {
    /// The option's id, which answers carry.
    pub id: OptionId,
    /// Its label.
    pub label: LocalisedText,
}

/// What kind of answer a question takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum AnswerType {
    /// Yes or no.
    YesNo,
    /// Exactly one of the options.
    SingleChoice {
        /// The options, in display order.
        options: Vec<ChoiceOption>,
    },
    /// Any number (at least one) of the options.
    MultipleChoice {
        /// The options, in display order.
        options: Vec<ChoiceOption>,
    },
    /// A calendar date.
    Date,
    /// A number, optionally bounded and whole.
    Number {
        /// Smallest allowed value.
        min: Option<f64>,
        /// Largest allowed value.
        max: Option<f64>,
        /// Whether only whole numbers are allowed.
        integer: bool,
    },
    /// Free text (machine-translatable, shown as such).
    FreeText {
        /// Longest allowed answer in characters.
        max_length: u32,
    },
    /// One or more attached files.
    Attachment {
        /// Most files allowed.
        max_files: u8,
    },
}

impl AnswerType {
    /// The kebab-case name used in catalogue files and errors.
    pub fn name(&self) -> &'static str {
        match self {
            AnswerType::YesNo => "yes-no",
            AnswerType::SingleChoice { .. } => "single-choice",
            AnswerType::MultipleChoice { .. } => "multiple-choice",
            AnswerType::Date => "date",
            AnswerType::Number { .. } => "number",
            AnswerType::FreeText { .. } => "free-text",
            AnswerType::Attachment { .. } => "attachment",
        }
    }

    /// The options of a choice question (empty for other types).
    pub fn options(&self) -> &[ChoiceOption] {
        match self {
            AnswerType::SingleChoice { options } | AnswerType::MultipleChoice { options } => {
                options
            }
            _ => &[],
        }
    }
}

/// When a question is shown: only for a given answer to an earlier question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    /// The earlier question.
    pub question: QuestionId,
    /// The answer that shows this question.
    pub when: ConditionAnswer,
}

/// The answer a [`Condition`] waits for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConditionAnswer {
    /// A yes-no question answered yes.
    Yes,
    /// A yes-no question answered no.
    No,
    /// A choice question answered with any of these options.
    AnyOf(Vec<OptionId>),
}

/// One question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Question {
    /// The question's id, stable across versions.
    pub id: QuestionId,
    /// Its text.
    pub label: LocalisedText,
    /// Guidance for the person answering.
    pub help: Option<LocalisedText>,
    /// What kind of answer it takes.
    pub answer: AnswerType,
    /// How strongly it must be answered.
    pub requirement: Requirement,
    /// Whether the answer is personal data (shown marked, hidden before acceptance,
    /// blocked and deleted on schedule).
    pub personal_data: bool,
    /// Whether the answer is part of an alert's restricted summary, the part incoming
    /// alert coordinators see (e.g. the profession and the scope of a restriction).
    #[serde(default)]
    pub summary: bool,
    /// Whether the answer is a special category of personal data.
    pub special_category: Option<SpecialCategory>,
    /// When it is shown; `None`: always.
    pub show_if: Option<Condition>,
    /// Who answers it.
    #[serde(default)]
    pub answered_by: Side,
}

/// A titled group of questions (a tab or section in a form).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuestionGroup {
    /// The group's id.
    pub id: GroupId,
    /// Its title.
    pub title: LocalisedText,
    /// Its questions, in order.
    pub questions: Vec<Question>,
}

/// One version of a question set: ordered, grouped, pre-translated questions.
///
/// A published version never changes; a case keeps the version it was created with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuestionSet {
    /// The set's id.
    pub id: QuestionSetId,
    /// The version, from 1.
    pub version: u32,
    /// The language its texts were written in.
    pub source_language: Language,
    /// Its title.
    pub title: LocalisedText,
    /// Its groups, in order.
    pub groups: Vec<QuestionGroup>,
}

impl QuestionSet {
    /// Every question, in order.
    pub fn questions(&self) -> impl Iterator<Item = &Question> {
        self.groups.iter().flat_map(|g| g.questions.iter())
    }

    /// The question with this id.
    pub fn question(&self, id: &QuestionId) -> Option<&Question> {
        self.questions().find(|q| &q.id == id)
    }
}

/// A (question set, version) pair: what a case pins.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct QuestionSetVersion {
    /// The set.
    pub id: QuestionSetId,
    /// Its version.
    pub version: u32,
}

impl fmt::Display for QuestionSetVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} v{}", self.id, self.version)
    }
}

/// A validated catalogue: areas, procedures and every version of every question set.
///
/// Built by [`Catalogue::load`](crate::catalogue::Catalogue::load) from files, or merged
/// into an existing catalogue so that new versions never replace old ones.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Catalogue {
    pub(crate) areas: BTreeMap<AreaId, LegislativeArea>,
    pub(crate) procedures: BTreeMap<ProcedureId, Procedure>,
    pub(crate) question_sets: BTreeMap<QuestionSetId, BTreeMap<u32, QuestionSet>>,
}

impl Catalogue {
    /// Every area, by id.
    pub fn areas(&self) -> impl Iterator<Item = &LegislativeArea> {
        self.areas.values()
    }

    /// One area.
    pub fn area(&self, id: &AreaId) -> Option<&LegislativeArea> {
        self.areas.get(id)
    }

    /// Every procedure, by id.
    pub fn procedures(&self) -> impl Iterator<Item = &Procedure> {
        self.procedures.values()
    }

    /// One procedure.
    pub fn procedure(&self, id: &ProcedureId) -> Option<&Procedure> {
        self.procedures.get(id)
    }

    /// The procedures of one area.
    pub fn procedures_in<'a>(&'a self, area: &'a AreaId) -> impl Iterator<Item = &'a Procedure> {
        self.procedures.values().filter(move |p| &p.area == area)
    }

    /// One version of a question set.
    pub fn question_set(&self, id: &QuestionSetId, version: u32) -> Option<&QuestionSet> {
        self.question_sets.get(id)?.get(&version)
    }

    /// The newest version of a question set: what new cases pin.
    pub fn latest_question_set(&self, id: &QuestionSetId) -> Option<&QuestionSet> {
        self.question_sets.get(id)?.values().next_back()
    }

    /// Every version of every question set.
    pub fn question_sets(&self) -> impl Iterator<Item = &QuestionSet> {
        self.question_sets.values().flat_map(BTreeMap::values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for ok in ["a", "pq-diploma-check", "x1", &"a".repeat(64)] {
            assert!(ok.parse::<QuestionId>().is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-a",
            "a-",
            "a--b",
            "A",
            "a_b",
            "a b",
            "é",
            &"a".repeat(65),
        ] {
            assert!(bad.parse::<QuestionId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn blocking_period_bounds() {
        assert_eq!(BlockingPeriod::default().months(), 6);
        assert!(BlockingPeriod::try_from(18).is_ok());
        assert!(BlockingPeriod::try_from(19).is_err());
        assert!(BlockingPeriod::try_from(0).is_err());
    }

    #[test]
    fn rights_fit_their_kinds() {
        assert!(Right::Allocator.fits(WorkflowKind::Request));
        assert!(!Right::Allocator.fits(WorkflowKind::Alert));
        assert!(Right::Viewer.fits(WorkflowKind::Repository));
        assert_eq!(Right::defaults_for(WorkflowKind::Alert).len(), 6);
    }
}
