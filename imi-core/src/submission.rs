//! Submissions through the public interface, as a pure state machine.
//!
//! A citizen or a business, without an account, submits a case to a competent authority
//! through a request procedure whose catalogue entry allows it (`public_submission =
//! true`; IMI-REFERENCE Part 1, "public interface"). They answer the procedure's
//! requester-side questions and get a reference number and a secret. The secret is the
//! only way back in: with it they follow the status in their language, reply to the
//! authority's questions, withdraw, and ask for their data. The authority's request
//! handlers take the submission, ask questions, and answer with the responder-side
//! questions, or close it without an answer.
//!
//! `Received` → `InHandling` ⇄ `AwaitingSubmitter`, then `Answered`, `Closed` (by the
//! authority) or `Withdrawn` (by the submitter). Every `(state, command)` pair is an arm
//! of one exhaustive `match`, as for requests.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::catalogue::{Answers, QuestionSet, Side, ValidationLevel};
use crate::ids::UserId;
use crate::language::Language;

/// Where a submission stands, without its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SubmissionStage {
    /// Received by the authority, not yet taken by a handler.
    Received,
    /// A handler works on it.
    InHandling,
    /// The authority asked the submitter a question and waits for the reply.
    AwaitingSubmitter,
    /// The authority answered.
    Answered,
    /// The authority closed it without an answer (inadmissible, not competent, …).
    Closed,
    /// The submitter withdrew it.
    Withdrawn,
}

impl SubmissionStage {
    /// Every stage.
    pub const ALL: [SubmissionStage; 6] = [
        SubmissionStage::Received,
        SubmissionStage::InHandling,
        SubmissionStage::AwaitingSubmitter,
        SubmissionStage::Answered,
        SubmissionStage::Closed,
        SubmissionStage::Withdrawn,
    ];

    /// The kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            SubmissionStage::Received => "received",
            SubmissionStage::InHandling => "in-handling",
            SubmissionStage::AwaitingSubmitter => "awaiting-submitter",
            SubmissionStage::Answered => "answered",
            SubmissionStage::Closed => "closed",
            SubmissionStage::Withdrawn => "withdrawn",
        }
    }

    /// What the submitter reads for this stage, in `language` when we have it, else in
    /// English; the second value is the language of the text.
    pub fn label(self, language: Language) -> (&'static str, Language) {
        use Language as L;
        use SubmissionStage as S;
        let text = match (language, self) {
            (L::English, S::Received) => "Received by the authority",
            (L::English, S::InHandling) => "Being handled",
            (L::English, S::AwaitingSubmitter) => "Waiting for your reply",
            (L::English, S::Answered) => "Answered",
            (L::English, S::Closed) => "Closed",
            (L::English, S::Withdrawn) => "Withdrawn",
            (L::Danish, S::Received) => "Modtaget af myndigheden",
            (L::Danish, S::InHandling) => "Under behandling",
            (L::Danish, S::AwaitingSubmitter) => "Afventer dit svar",
            (L::Danish, S::Answered) => "Besvaret",
            (L::Danish, S::Closed) => "Afsluttet",
            (L::Danish, S::Withdrawn) => "Trukket tilbage",
            (L::German, S::Received) => "Bei der Behörde eingegangen",
            (L::German, S::InHandling) => "In Bearbeitung",
            (L::German, S::AwaitingSubmitter) => "Wartet auf Ihre Antwort",
            (L::German, S::Answered) => "Beantwortet",
            (L::German, S::Closed) => "Abgeschlossen",
            (L::German, S::Withdrawn) => "Zurückgezogen",
            (L::French, S::Received) => "Reçue par l'autorité",
            (L::French, S::InHandling) => "En cours de traitement",
            (L::French, S::AwaitingSubmitter) => "En attente de votre réponse",
            (L::French, S::Answered) => "Répondue",
            (L::French, S::Closed) => "Clôturée",
            (L::French, S::Withdrawn) => "Retirée",
            (L::Spanish, S::Received) => "Recibida por la autoridad",
            (L::Spanish, S::InHandling) => "En tramitación",
            (L::Spanish, S::AwaitingSubmitter) => "Pendiente de su respuesta",
            (L::Spanish, S::Answered) => "Respondida",
            (L::Spanish, S::Closed) => "Cerrada",
            (L::Spanish, S::Withdrawn) => "Retirada",
            (L::Italian, S::Received) => "Ricevuta dall'autorità",
            (L::Italian, S::InHandling) => "In lavorazione",
            (L::Italian, S::AwaitingSubmitter) => "In attesa della sua risposta",
            (L::Italian, S::Answered) => "Risposta inviata",
            (L::Italian, S::Closed) => "Chiusa",
            (L::Italian, S::Withdrawn) => "Ritirata",
            (L::Dutch, S::Received) => "Ontvangen door de instantie",
            (L::Dutch, S::InHandling) => "In behandeling",
            (L::Dutch, S::AwaitingSubmitter) => "Wacht op uw antwoord",
            (L::Dutch, S::Answered) => "Beantwoord",
            (L::Dutch, S::Closed) => "Afgesloten",
            (L::Dutch, S::Withdrawn) => "Ingetrokken",
            (L::Swedish, S::Received) => "Mottagen av myndigheten",
            (L::Swedish, S::InHandling) => "Under handläggning",
            (L::Swedish, S::AwaitingSubmitter) => "Väntar på ditt svar",
            (L::Swedish, S::Answered) => "Besvarad",
            (L::Swedish, S::Closed) => "Avslutad",
            (L::Swedish, S::Withdrawn) => "Återkallad",
            (_, stage) => return (stage.label(L::English).0, L::English),
        };
        (text, language)
    }
}

impl crate::workflow::Stage for SubmissionStage {
    const WORKFLOW: &'static str = "submission";
    fn name(self) -> &'static str {
        SubmissionStage::name(self)
    }
}

impl fmt::Display for SubmissionStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A submission's state, with its dates and handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "stage", rename_all = "kebab-case")]
pub enum SubmissionState {
    /// Received, not yet taken.
    Received,
    /// Taken by a handler.
    InHandling {
        /// The handler.
        handler: UserId,
    },
    /// Waiting for the submitter's reply to the handler's question.
    AwaitingSubmitter {
        /// The handler.
        handler: UserId,
    },
    /// Answered.
    Answered {
        /// When: the start of its retention.
        at: DateTime<Utc>,
    },
    /// Closed without an answer.
    Closed {
        /// When: the start of its retention.
        at: DateTime<Utc>,
    },
    /// Withdrawn by the submitter.
    Withdrawn {
        /// When: the start of its retention.
        at: DateTime<Utc>,
    },
}

impl SubmissionState {
    /// The stage.
    pub fn stage(&self) -> SubmissionStage {
        match self {
            SubmissionState::Received => SubmissionStage::Received,
            SubmissionState::InHandling { .. } => SubmissionStage::InHandling,
            SubmissionState::AwaitingSubmitter { .. } => SubmissionStage::AwaitingSubmitter,
            SubmissionState::Answered { .. } => SubmissionStage::Answered,
            SubmissionState::Closed { .. } => SubmissionStage::Closed,
            SubmissionState::Withdrawn { .. } => SubmissionStage::Withdrawn,
        }
    }

    /// When it ended (answered, closed or withdrawn): the start of its retention.
    pub fn ended_at(&self) -> Option<DateTime<Utc>> {
        match self {
            SubmissionState::Answered { at }
            | SubmissionState::Closed { at }
            | SubmissionState::Withdrawn { at } => Some(*at),
            SubmissionState::Received
            | SubmissionState::InHandling { .. }
            | SubmissionState::AwaitingSubmitter { .. } => None,
        }
    }
}

/// Who acts on a submission; the engine works it out from the credential or the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmissionParty {
    /// The submitter, proven by the submission's secret.
    Submitter,
    /// A request handler of the authority the submission was made to.
    Handler(UserId),
}

/// What the submitter or the authority asks to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "kebab-case")]
pub enum SubmissionCommand {
    /// Authority: a handler takes the submission.
    Take,
    /// Authority: asks the submitter a question.
    AskSubmitter {
        /// The question.
        text: String,
    },
    /// Authority: answers, with the procedure's responder-side questions.
    Answer {
        /// The answers.
        answers: Answers,
    },
    /// Authority: closes it without an answer.
    Close {
        /// Why (shown to the submitter).
        reason: String,
    },
    /// Submitter: replies to the authority's question.
    Reply {
        /// The reply.
        text: String,
    },
    /// Submitter: withdraws the submission.
    Withdraw,
}

impl SubmissionCommand {
    /// The command's name, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            SubmissionCommand::Take => "take",
            SubmissionCommand::AskSubmitter { .. } => "ask-submitter",
            SubmissionCommand::Answer { .. } => "answer",
            SubmissionCommand::Close { .. } => "close",
            SubmissionCommand::Reply { .. } => "reply",
            SubmissionCommand::Withdraw => "withdraw",
        }
    }
}

/// What happened to a submission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum SubmissionEvent {
    /// The submitter submitted it.
    Submitted {
        /// Their answers.
        answers: Answers,
        /// The language they follow it in.
        language: Language,
    },
    /// A handler took it.
    Taken {
        /// The handler.
        handler: UserId,
    },
    /// The authority asked the submitter a question.
    QuestionAsked {
        /// The question.
        text: String,
    },
    /// The submitter replied.
    Replied {
        /// The reply.
        text: String,
    },
    /// The authority answered.
    Answered {
        /// The answers.
        answers: Answers,
    },
    /// The authority closed it without an answer.
    Closed {
        /// Why.
        reason: String,
    },
    /// The submitter withdrew it.
    Withdrawn,
    /// The submitter asked for their data (Art. 15 GDPR) and was given them.
    DataAccessGiven,
    /// Retention: its personal data were blocked at the end of the blocking period.
    PersonalDataBlocked,
    /// Retention: its personal data were deleted 3 years after it ended.
    PersonalDataDeleted,
}

/// An event as the submitter sees it: the same as [`SubmissionEvent`] without the
/// names (ids) of the authority's staff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum PublicEvent {
    /// They submitted it.
    Submitted {
        /// Their answers.
        answers: Answers,
        /// Their language.
        language: Language,
    },
    /// The authority took it.
    Taken,
    /// The authority asked a question.
    QuestionAsked {
        /// The question.
        text: String,
    },
    /// They replied.
    Replied {
        /// The reply.
        text: String,
    },
    /// The authority answered.
    Answered {
        /// The answers.
        answers: Answers,
    },
    /// The authority closed it without an answer.
    Closed {
        /// Why.
        reason: String,
    },
    /// They withdrew it.
    Withdrawn,
    /// They were given their data.
    DataAccessGiven,
    /// Its personal data were blocked.
    PersonalDataBlocked,
    /// Its personal data were deleted.
    PersonalDataDeleted,
}

impl From<&SubmissionEvent> for PublicEvent {
    fn from(event: &SubmissionEvent) -> Self {
        use SubmissionEvent as E;
        match event {
            E::Submitted { answers, language } => PublicEvent::Submitted {
                answers: answers.clone(),
                language: *language,
            },
            E::Taken { .. } => PublicEvent::Taken,
            E::QuestionAsked { text } => PublicEvent::QuestionAsked { text: text.clone() },
            E::Replied { text } => PublicEvent::Replied { text: text.clone() },
            E::Answered { answers } => PublicEvent::Answered {
                answers: answers.clone(),
            },
            E::Closed { reason } => PublicEvent::Closed {
                reason: reason.clone(),
            },
            E::Withdrawn => PublicEvent::Withdrawn,
            E::DataAccessGiven => PublicEvent::DataAccessGiven,
            E::PersonalDataBlocked => PublicEvent::PersonalDataBlocked,
            E::PersonalDataDeleted => PublicEvent::PersonalDataDeleted,
        }
    }
}

/// A submission's workflow data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Submission {
    state: SubmissionState,
    language: Language,
    answers: Answers,
    reply: Answers,
    questions_asked: u32,
    #[serde(default)]
    blocked: bool,
    #[serde(default)]
    erased: bool,
}

impl Submission {
    /// Checks a new submission's answers (requester side, at the "send" level) and
    /// returns the event that opens it.
    pub fn submit(
        questions: &QuestionSet,
        answers: Answers,
        language: Language,
    ) -> Result<SubmissionEvent, SubmissionError> {
        questions.validate_side(
            &answers,
            &Answers::new(),
            Side::Requester,
            ValidationLevel::Send,
        )?;
        Ok(SubmissionEvent::Submitted { answers, language })
    }

    /// A submission opened by `event` (a [`SubmissionEvent::Submitted`]; any other event
    /// opens an empty one in English, and should not be given).
    pub fn opened(event: &SubmissionEvent) -> Self {
        let mut s = Self {
            state: SubmissionState::Received,
            language: Language::English,
            answers: Answers::new(),
            reply: Answers::new(),
            questions_asked: 0,
            blocked: false,
            erased: false,
        };
        if let SubmissionEvent::Submitted { answers, language } = event {
            s.answers = answers.clone();
            s.language = *language;
        }
        s
    }

    /// The state.
    pub fn state(&self) -> &SubmissionState {
        &self.state
    }

    /// The language the submitter follows it in.
    pub fn language(&self) -> Language {
        self.language
    }

    /// The submitter's answers.
    pub fn answers(&self) -> &Answers {
        &self.answers
    }

    /// The authority's answer (empty until answered).
    pub fn reply(&self) -> &Answers {
        &self.reply
    }

    /// How many questions the authority asked.
    pub fn questions_asked(&self) -> u32 {
        self.questions_asked
    }

    /// Whether its personal data are blocked.
    pub fn is_blocked(&self) -> bool {
        self.blocked
    }

    /// Whether its personal data were deleted.
    pub fn is_erased(&self) -> bool {
        self.erased
    }

    /// The same submission with both sides' answers reduced by `keep`.
    pub fn redacted(&self, keep: impl Fn(&Answers) -> Answers) -> Self {
        Self {
            answers: keep(&self.answers),
            reply: keep(&self.reply),
            ..self.clone()
        }
    }

    /// Decides what `command` by `party` leads to; changes nothing.
    pub fn decide(
        &self,
        party: SubmissionParty,
        command: &SubmissionCommand,
        questions: &QuestionSet,
    ) -> Result<Vec<SubmissionEvent>, SubmissionError> {
        use SubmissionCommand as C;
        use SubmissionEvent as E;
        use SubmissionState as S;
        let name = command.name();
        let handler = match party {
            SubmissionParty::Handler(user) => Some(user),
            SubmissionParty::Submitter => None,
        };
        let authority = || {
            handler.ok_or(SubmissionError::WrongParty {
                command: name,
                needed: "authority's request handler",
            })
        };
        let submitter = || {
            if party == SubmissionParty::Submitter {
                Ok(())
            } else {
                Err(SubmissionError::WrongParty {
                    command: name,
                    needed: "submitter",
                })
            }
        };
        // Who may give the command does not depend on the state: check it first.
        match command {
            C::Take | C::AskSubmitter { .. } | C::Answer { .. } | C::Close { .. } => {
                authority()?;
            }
            C::Reply { .. } | C::Withdraw => submitter()?,
        }
        match (&self.state, command) {
            (S::Received, C::Take) => Ok(vec![E::Taken {
                handler: authority()?,
            }]),
            (S::InHandling { handler: current }, C::Take) => {
                let user = authority()?;
                if user == *current {
                    return Err(SubmissionError::Invalid {
                        command: name,
                        reason: "the handler has it already",
                    });
                }
                Ok(vec![E::Taken { handler: user }])
            }
            (S::InHandling { .. }, C::AskSubmitter { text }) => {
                authority()?;
                SubmissionError::text(name, text)?;
                Ok(vec![E::QuestionAsked { text: text.clone() }])
            }
            (S::InHandling { .. }, C::Answer { answers }) => {
                authority()?;
                questions.validate_side(
                    answers,
                    &self.answers,
                    Side::Responder,
                    ValidationLevel::Send,
                )?;
                Ok(vec![E::Answered {
                    answers: answers.clone(),
                }])
            }
            (
                S::Received | S::InHandling { .. } | S::AwaitingSubmitter { .. },
                C::Close { reason },
            ) => {
                authority()?;
                SubmissionError::text(name, reason)?;
                Ok(vec![E::Closed {
                    reason: reason.clone(),
                }])
            }
            (S::AwaitingSubmitter { .. }, C::Reply { text }) => {
                submitter()?;
                SubmissionError::text(name, text)?;
                Ok(vec![E::Replied { text: text.clone() }])
            }
            (S::Received | S::InHandling { .. } | S::AwaitingSubmitter { .. }, C::Withdraw) => {
                submitter()?;
                Ok(vec![E::Withdrawn])
            }
            (S::Received, C::AskSubmitter { .. } | C::Answer { .. } | C::Reply { .. })
            | (S::InHandling { .. }, C::Reply { .. })
            | (S::AwaitingSubmitter { .. }, C::Take | C::AskSubmitter { .. } | C::Answer { .. })
            | (
                S::Answered { .. } | S::Closed { .. } | S::Withdrawn { .. },
                C::Take
                | C::AskSubmitter { .. }
                | C::Answer { .. }
                | C::Close { .. }
                | C::Reply { .. }
                | C::Withdraw,
            ) => Err(SubmissionError::illegal(self.state.stage(), command)),
        }
    }

    /// Folds an event in. Events are facts: this never fails.
    pub fn apply(&mut self, event: &SubmissionEvent, at: DateTime<Utc>) {
        use SubmissionEvent as E;
        use SubmissionState as S;
        match event {
            E::Submitted { answers, language } => {
                self.answers = answers.clone();
                self.language = *language;
                self.state = S::Received;
            }
            E::Taken { handler } => self.state = S::InHandling { handler: *handler },
            E::QuestionAsked { .. } => {
                self.questions_asked = self.questions_asked.saturating_add(1);
                if let S::InHandling { handler } = self.state {
                    self.state = S::AwaitingSubmitter { handler };
                }
            }
            E::Replied { .. } => {
                if let S::AwaitingSubmitter { handler } = self.state {
                    self.state = S::InHandling { handler };
                }
            }
            E::Answered { answers } => {
                self.reply = answers.clone();
                self.state = S::Answered { at };
            }
            E::Closed { .. } => self.state = S::Closed { at },
            E::Withdrawn => self.state = S::Withdrawn { at },
            E::DataAccessGiven => {}
            E::PersonalDataBlocked => self.blocked = true,
            E::PersonalDataDeleted => {
                self.blocked = true;
                self.erased = true;
            }
        }
    }
}

/// An event without personal data (for blocked and deleted submissions): answers to
/// personal-data questions dropped, free texts replaced by `placeholder`.
pub fn submission_event_without_personal_data(
    event: &SubmissionEvent,
    set: &QuestionSet,
    placeholder: &str,
) -> SubmissionEvent {
    use SubmissionEvent as E;
    let hidden = || placeholder.to_owned();
    match event {
        E::Submitted { answers, language } => E::Submitted {
            answers: crate::alert::without_personal_data(answers, set),
            language: *language,
        },
        E::Answered { answers } => E::Answered {
            answers: crate::alert::without_personal_data(answers, set),
        },
        E::QuestionAsked { .. } => E::QuestionAsked { text: hidden() },
        E::Replied { .. } => E::Replied { text: hidden() },
        E::Closed { .. } => E::Closed { reason: hidden() },
        other @ (E::Taken { .. }
        | E::Withdrawn
        | E::DataAccessGiven
        | E::PersonalDataBlocked
        | E::PersonalDataDeleted) => other.clone(),
    }
}

/// The prefix of every submission secret, so leaked secrets are easy to recognise.
pub const SECRET_PREFIX: &str = "imis_";

/// A submission's secret in clear: shown once, to the submitter, when they submit; never
/// stored. The store keeps only its SHA-256 hash: the secret carries 256 random bits, so
/// a fast hash suffices and a stolen store gives no way in.
#[derive(Clone, PartialEq, Eq)]
pub struct SubmissionSecret(String);

/// Why a text is not a submission secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a submission secret: expected {SECRET_PREFIX} and 64 hexadecimal digits")]
pub struct BadSecret;

impl SubmissionSecret {
    pub(crate) fn from_bytes(bytes: &[u8; 32]) -> Self {
        let mut s = String::with_capacity(SECRET_PREFIX.len() + 64);
        s.push_str(SECRET_PREFIX);
        for b in bytes {
            s.push_str(&format!("{b:02x}"));
        }
        Self(s)
    }

    /// The secret's text, to hand to the submitter.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The hash under which it is stored.
    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.0.as_bytes()).into()
    }

    /// A value derived from the secret for `purpose` (hexadecimal SHA-256), such as the
    /// anti-forgery value of the submitter's forms: it proves knowledge of the secret
    /// without revealing it.
    pub fn derive(&self, purpose: &str) -> String {
        crate::session::derive_from(&self.0, purpose)
    }
}

impl std::str::FromStr for SubmissionSecret {
    type Err = BadSecret;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hex = s.strip_prefix(SECRET_PREFIX).ok_or(BadSecret)?;
        if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(Self(format!("{SECRET_PREFIX}{}", hex.to_ascii_lowercase())))
        } else {
            Err(BadSecret)
        }
    }
}

impl fmt::Debug for SubmissionSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SubmissionSecret(…)")
    }
}

/// Why the submission machine refused a command; nothing was changed.
pub type SubmissionError = crate::workflow::StepError<SubmissionStage>;

impl crate::workflow::Command for SubmissionCommand {
    type Stage = SubmissionStage;
    const SPECS: &'static [crate::workflow::CommandSpec] = {
        use crate::workflow::{FieldKind::*, req, spec};
        &[
            spec("take", &[]),
            spec("ask-submitter", &[req("text", Text)]),
            spec("answer", &[req("answers", Answers)]),
            spec("close", &[req("reason", Text)]),
            spec("reply", &[req("text", Text)]),
            spec("withdraw", &[]),
        ]
    };

    fn name(&self) -> &'static str {
        SubmissionCommand::name(self)
    }

    fn possible_in(&self) -> &'static [SubmissionStage] {
        use SubmissionCommand as C;
        use SubmissionStage as S;
        match self {
            C::Take => &[S::Received, S::InHandling],
            C::AskSubmitter { .. } | C::Answer { .. } => &[S::InHandling],
            C::Close { .. } | C::Withdraw => &[S::Received, S::InHandling, S::AwaitingSubmitter],
            C::Reply { .. } => &[S::AwaitingSubmitter],
        }
    }
}

crate::workflow::delegate_workflow!(Submission {
    stage: SubmissionStage,
    command: SubmissionCommand,
    event: SubmissionEvent,
    roles: SubmissionParty,
    context<'a>: &'a QuestionSet,
});

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::{AnswerValue, Catalogue, CatalogueSource};

    const AREA: &str = "id = \"pq\"\n[name]\nen = \"PQ\"\n[[procedure]]\nid = \"apply\"\nkind = \"request\"\nquestion_set = \"a\"\nanswer_days = 30\nremind_unaccepted_after_days = 7\nescalate_overdue_after_days = 7\npublic_submission = true\n[procedure.name]\nen = \"Apply\"\n";
    const SET: &str = "id = \"a\"\nversion = 1\n[title]\nen = \"A\"\n[[group]]\nid = \"g\"\n[group.title]\nen = \"G\"\n[[group.question]]\nid = \"name\"\ntype = \"free-text\"\nrequired = \"to-send\"\npersonal_data = true\n[group.question.label]\nen = \"Name\"\n[[group.question]]\nid = \"decision\"\nanswered_by = \"responder\"\ntype = \"free-text\"\nrequired = \"to-send\"\n[group.question.label]\nen = \"Decision\"\n";

    fn set() -> QuestionSet {
        let c = Catalogue::load(&[
            CatalogueSource::new("areas/pq.toml", AREA),
            CatalogueSource::new("question-sets/a.toml", SET),
        ])
        .unwrap();
        c.question_set(&"a".parse().unwrap(), 1).unwrap().clone()
    }

    fn at() -> DateTime<Utc> {
        "2026-11-23T09:00:00Z".parse().unwrap()
    }

    fn answers(q: &str, v: &str) -> Answers {
        let mut a = Answers::new();
        a.set(q.parse().unwrap(), AnswerValue::Text(v.into()));
        a
    }

    #[allow(clippy::needless_pass_by_value)] // commands read best inline in the tests
    fn step(
        s: &mut Submission,
        party: SubmissionParty,
        c: SubmissionCommand,
    ) -> Result<(), SubmissionError> {
        for e in s.decide(party, &c, &set())? {
            s.apply(&e, at());
        }
        Ok(())
    }

    fn opened() -> Submission {
        let e =
            Submission::submit(&set(), answers("name", "Ana Pereira"), Language::Danish).unwrap();
        Submission::opened(&e)
    }

    #[test]
    fn a_submission_goes_to_its_answer() {
        let h = UserId::from_uuid(uuid::Uuid::from_u128(7 | (7 << 76))).unwrap();
        let mut s = opened();
        assert_eq!(s.language(), Language::Danish);
        step(&mut s, SubmissionParty::Handler(h), SubmissionCommand::Take).unwrap();
        step(
            &mut s,
            SubmissionParty::Handler(h),
            SubmissionCommand::AskSubmitter {
                text: "Which year?".into(),
            },
        )
        .unwrap();
        assert_eq!(s.state().stage(), SubmissionStage::AwaitingSubmitter);
        // Only the submitter replies; only the authority answers.
        assert!(matches!(
            step(
                &mut s,
                SubmissionParty::Handler(h),
                SubmissionCommand::Reply { text: "x".into() }
            ),
            Err(SubmissionError::WrongParty { .. })
        ));
        step(
            &mut s,
            SubmissionParty::Submitter,
            SubmissionCommand::Reply {
                text: "2019".into(),
            },
        )
        .unwrap();
        assert_eq!(s.state(), &SubmissionState::InHandling { handler: h });
        assert!(matches!(
            step(
                &mut s,
                SubmissionParty::Submitter,
                SubmissionCommand::Answer {
                    answers: answers("decision", "yes")
                }
            ),
            Err(SubmissionError::WrongParty { .. })
        ));
        // The submitter's side is not the authority's to answer.
        assert!(matches!(
            step(
                &mut s,
                SubmissionParty::Handler(h),
                SubmissionCommand::Answer {
                    answers: answers("name", "x")
                }
            ),
            Err(SubmissionError::Answers(_))
        ));
        step(
            &mut s,
            SubmissionParty::Handler(h),
            SubmissionCommand::Answer {
                answers: answers("decision", "Recognised"),
            },
        )
        .unwrap();
        assert_eq!(s.state().ended_at(), Some(at()));
        assert!(matches!(
            step(
                &mut s,
                SubmissionParty::Submitter,
                SubmissionCommand::Withdraw
            ),
            Err(SubmissionError::IllegalInStage {
                stage: SubmissionStage::Answered,
                ..
            })
        ));
    }

    #[test]
    fn incomplete_submissions_and_empty_texts_are_refused() {
        assert!(matches!(
            Submission::submit(&set(), Answers::new(), Language::English),
            Err(SubmissionError::Answers(_))
        ));
        let mut s = opened();
        let h = UserId::from_uuid(uuid::Uuid::from_u128(9 | (7 << 76))).unwrap();
        step(&mut s, SubmissionParty::Handler(h), SubmissionCommand::Take).unwrap();
        assert!(matches!(
            step(
                &mut s,
                SubmissionParty::Handler(h),
                SubmissionCommand::AskSubmitter { text: "  ".into() }
            ),
            Err(SubmissionError::Invalid { .. })
        ));
        step(
            &mut s,
            SubmissionParty::Submitter,
            SubmissionCommand::Withdraw,
        )
        .unwrap();
        assert_eq!(s.state().stage(), SubmissionStage::Withdrawn);
    }

    #[test]
    fn every_stage_has_a_label_in_english_and_danish() {
        for stage in SubmissionStage::ALL {
            assert_eq!(stage.label(Language::Danish).1, Language::Danish);
            assert_eq!(stage.label(Language::Finnish).1, Language::English);
            assert_ne!(
                stage.label(Language::Danish).0,
                stage.label(Language::English).0
            );
        }
    }

    #[test]
    fn secrets_round_trip_and_hide() {
        let s = SubmissionSecret::from_bytes(&[0xcd; 32]);
        let parsed: SubmissionSecret = s
            .expose()
            .to_uppercase()
            .replace("IMIS_", "imis_")
            .parse()
            .unwrap();
        assert_eq!(parsed.hash(), s.hash());
        assert_eq!(format!("{s:?}"), "SubmissionSecret(…)");
        for bad in ["", "imis_", "imi_abc", &format!("imis_{}", "g".repeat(64))] {
            assert!(bad.parse::<SubmissionSecret>().is_err());
        }
    }
}
