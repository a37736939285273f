//! Answers to a question set, and their validation against it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::model::{
    AnswerType, ConditionAnswer, OptionId, Question, QuestionId, QuestionSet, Requirement, Side,
};
use crate::ids::AttachmentId;

/// One answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "kebab-case")]
pub enum AnswerValue {
    /// To a yes-no question.
    YesNo(bool),
    /// To a single-choice question.
    Choice(OptionId),
    /// To a multiple-choice question.
    Choices(Vec<OptionId>),
    /// To a date question.
    Date(NaiveDate),
    /// To a number question.
    Number(f64),
    /// To a free-text question.
    Text(String),
    /// To an attachment question.
    Attachments(Vec<AttachmentId>),
}

impl AnswerValue {
    /// The answer type this value fits, by name.
    pub fn type_name(&self) -> &'static str {
        match self {
            AnswerValue::YesNo(_) => "yes-no",
            AnswerValue::Choice(_) => "single-choice",
            AnswerValue::Choices(_) => "multiple-choice",
            AnswerValue::Date(_) => "date",
            AnswerValue::Number(_) => "number",
            AnswerValue::Text(_) => "free-text",
            AnswerValue::Attachments(_) => "attachment",
        }
    }
}

/// The answers of one case, by question.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Answers(BTreeMap<QuestionId, AnswerValue>);

impl Answers {
    /// No answers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets (or replaces) the answer to `question`.
    pub fn set(&mut self, question: QuestionId, value: AnswerValue) -> &mut Self {
        self.0.insert(question, value);
        self
    }

    /// Removes the answer to `question`.
    pub fn clear(&mut self, question: &QuestionId) -> Option<AnswerValue> {
        self.0.remove(question)
    }

    /// The answer to `question`.
    pub fn get(&self, question: &QuestionId) -> Option<&AnswerValue> {
        self.0.get(question)
    }

    /// Every answer.
    pub fn iter(&self) -> impl Iterator<Item = (&QuestionId, &AnswerValue)> {
        self.0.iter()
    }

    /// The number of answers.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether nothing is answered.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// How complete answers must be: to save a draft or to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValidationLevel {
    /// Saving a draft: only [`Requirement::ToSave`] questions must be answered.
    Save,
    /// Sending: [`Requirement::ToSave`] and [`Requirement::ToSend`] questions must be answered.
    Send,
}

/// What is wrong with the answer to one question.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnswerProblem {
    /// The question is not in this version of the set.
    #[error("there is no such question in this question set")]
    UnknownQuestion,
    /// A required question has no answer.
    #[error("an answer is required to {}", match .level { ValidationLevel::Save => "save", ValidationLevel::Send => "send" })]
    Missing {
        /// The level that requires it.
        level: ValidationLevel,
    },
    /// The question is answered by the other party of the request.
    #[error("this question is answered by the other party")]
    OtherSide,
    /// Rectification or erasure names a question the party has no answer to, or
    /// (rectification) one that holds no personal data.
    #[error("only personal data this party already supplied can be rectified or erased")]
    NotRectifiable,
    /// The question is hidden by its condition, yet answered.
    #[error("the question is not shown for the earlier answers, so it must not be answered")]
    HiddenButAnswered,
    /// The value is of the wrong type.
    #[error("expected a {expected} answer, found {found}")]
    WrongType {
        /// The question's type.
        expected: &'static str,
        /// The value's type.
        found: &'static str,
    },
    /// An option id that the question does not offer.
    #[error("`{0}` is not one of the question's options")]
    UnknownOption(OptionId),
    /// The same option twice.
    #[error("option `{0}` is chosen twice")]
    DuplicateOption(OptionId),
    /// No option in a multiple choice.
    #[error("at least one option must be chosen")]
    NoOptionChosen,
    /// A number that is NaN or infinite.
    #[error("the number is not finite")]
    NotFinite,
    /// A fraction where a whole number is required.
    #[error("{0} is not a whole number")]
    NotWhole(f64),
    /// A number below the minimum.
    #[error("{value} is below the minimum {min}")]
    BelowMinimum {
        /// The value.
        value: f64,
        /// The minimum.
        min: f64,
    },
    /// A number above the maximum.
    #[error("{value} is above the maximum {max}")]
    AboveMaximum {
        /// The value.
        value: f64,
        /// The maximum.
        max: f64,
    },
    /// Free text with nothing but white space.
    #[error("the text is blank")]
    BlankText,
    /// Free text over the length limit.
    #[error("the text has {len} characters; at most {max} are allowed")]
    TooLong {
        /// Its length in characters.
        len: usize,
        /// The limit.
        max: u32,
    },
    /// No file where an attachment answer is given.
    #[error("at least one file must be attached")]
    NoFiles,
    /// More files than allowed.
    #[error("{count} files attached; at most {max} are allowed")]
    TooManyFiles {
        /// How many were attached.
        count: usize,
        /// The limit.
        max: u8,
    },
}

/// A problem with one question's answer: always names the question.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("question `{question}`: {problem}")]
pub struct AnswerError {
    /// The question.
    pub question: QuestionId,
    /// What is wrong.
    pub problem: AnswerProblem,
}

/// Every problem found in a set of answers, in question order (unknown questions last).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct AnswerErrors(pub Vec<AnswerError>);

impl fmt::Display for AnswerErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} problem(s) with the answers", self.0.len())?;
        for e in &self.0 {
            write!(f, "; {e}")?;
        }
        Ok(())
    }
}

impl QuestionSet {
    /// Whether `question` is shown, given the answers to earlier questions.
    pub fn is_shown(&self, question: &Question, answers: &Answers) -> bool {
        let Some(condition) = &question.show_if else {
            return true;
        };
        match (&condition.when, answers.get(&condition.question)) {
            (ConditionAnswer::Yes, Some(AnswerValue::YesNo(true)))
            | (ConditionAnswer::No, Some(AnswerValue::YesNo(false))) => true,
            (ConditionAnswer::AnyOf(wanted), Some(AnswerValue::Choice(chosen))) => {
                wanted.contains(chosen)
            }
            (ConditionAnswer::AnyOf(wanted), Some(AnswerValue::Choices(chosen))) => {
                chosen.iter().any(|c| wanted.contains(c))
            }
            _ => false,
        }
    }

    /// Checks the requester's `answers` against this version of the set at `level`
    /// (see [`QuestionSet::validate_side`]).
    pub fn validate(&self, answers: &Answers, level: ValidationLevel) -> Result<(), AnswerErrors> {
        self.validate_side(answers, &Answers::new(), Side::Requester, level)
    }

    /// Checks the answers `own` of one `side` at `level`, returning every problem, each
    /// naming its question. Conditions see both `own` and the `other` side's answers.
    /// Hidden questions are neither required nor allowed; questions of the other side
    /// may not be answered.
    pub fn validate_side(
        &self,
        own: &Answers,
        other: &Answers,
        side: Side,
        level: ValidationLevel,
    ) -> Result<(), AnswerErrors> {
        let mut both = other.clone();
        for (q, v) in own.iter() {
            both.set(q.clone(), v.clone());
        }
        let answers = own;
        let mut errors = Vec::new();
        for question in self.questions() {
            if question.answered_by != side {
                if answers.get(&question.id).is_some() {
                    errors.push(AnswerError {
                        question: question.id.clone(),
                        problem: AnswerProblem::OtherSide,
                    });
                }
                continue;
            }
            let shown = self.is_shown(question, &both);
            let problem = match (answers.get(&question.id), shown) {
                (Some(_), false) => Some(AnswerProblem::HiddenButAnswered),
                (Some(value), true) => check_value(&question.answer, value).err(),
                (None, true) => missing(question.requirement, level),
                (None, false) => None,
            };
            if let Some(problem) = problem {
                errors.push(AnswerError {
                    question: question.id.clone(),
                    problem,
                });
            }
        }
        for (id, _) in answers.iter() {
            if self.question(id).is_none() {
                errors.push(AnswerError {
                    question: id.clone(),
                    problem: AnswerProblem::UnknownQuestion,
                });
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(AnswerErrors(errors))
        }
    }
}

fn missing(requirement: Requirement, level: ValidationLevel) -> Option<AnswerProblem> {
    let required = match (requirement, level) {
        (Requirement::ToSave, _) | (Requirement::ToSend, ValidationLevel::Send) => true,
        (Requirement::ToSend, ValidationLevel::Save) | (Requirement::Optional, _) => false,
    };
    required.then_some(AnswerProblem::Missing { level })
}

fn check_options(
    options: &[super::model::ChoiceOption],
    chosen: &[OptionId],
) -> Result<(), AnswerProblem> {
    let mut seen = BTreeSet::new();
    for c in chosen {
        if !options.iter().any(|o| &o.id == c) {
            return Err(AnswerProblem::UnknownOption(c.clone()));
        }
        if !seen.insert(c) {
            return Err(AnswerProblem::DuplicateOption(c.clone()));
        }
    }
    Ok(())
}

fn check_value(answer: &AnswerType, value: &AnswerValue) -> Result<(), AnswerProblem> {
    match (answer, value) {
        (AnswerType::YesNo, AnswerValue::YesNo(_)) | (AnswerType::Date, AnswerValue::Date(_)) => {
            Ok(())
        }
        (AnswerType::SingleChoice { options }, AnswerValue::Choice(c)) => {
            check_options(options, std::slice::from_ref(c))
        }
        (AnswerType::MultipleChoice { options }, AnswerValue::Choices(cs)) => {
            if cs.is_empty() {
                return Err(AnswerProblem::NoOptionChosen);
            }
            check_options(options, cs)
        }
        (AnswerType::Number { min, max, integer }, AnswerValue::Number(n)) => {
            let n = *n;
            if !n.is_finite() {
                return Err(AnswerProblem::NotFinite);
            }
            if *integer && n.fract() != 0.0 {
                return Err(AnswerProblem::NotWhole(n));
            }
            if let Some(min) = *min
                && n < min
            {
                return Err(AnswerProblem::BelowMinimum { value: n, min });
            }
            if let Some(max) = *max
                && n > max
            {
                return Err(AnswerProblem::AboveMaximum { value: n, max });
            }
            Ok(())
        }
        (AnswerType::FreeText { max_length }, AnswerValue::Text(t)) => {
            if t.trim().is_empty() {
                return Err(AnswerProblem::BlankText);
            }
            let len = t.chars().count();
            if len > *max_length as usize {
                return Err(AnswerProblem::TooLong {
                    len,
                    max: *max_length,
                });
            }
            Ok(())
        }
        (AnswerType::Attachment { max_files }, AnswerValue::Attachments(files)) => {
            if files.is_empty() {
                return Err(AnswerProblem::NoFiles);
            }
            if files.len() > usize::from(*max_files) {
                return Err(AnswerProblem::TooManyFiles {
                    count: files.len(),
                    max: *max_files,
                });
            }
            Ok(())
        }
        (expected, found) => Err(AnswerProblem::WrongType {
            expected: expected.name(),
            found: found.type_name(),
        }),
    }
}
