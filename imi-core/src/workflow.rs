//! One shape for every workflow, in the manner of event-sourced aggregates.
//!
//! A workflow (a request, an alert, a notification, a public submission, a SOLVIT case, a
//! survey, …) is a pure state machine: [`Workflow::decide`] turns a party's command into
//! events or refuses it with the workflow's own [`StepError`], naming the stage that
//! arrived and the stages the command needs, or the party it needs; [`Workflow::apply`]
//! folds an event in and cannot fail. Neither does any I/O nor reads a clock: the engine
//! computes the actor's roles and the context, then writes the document, one timeline
//! entry per event, the box indexes, the retention entries and an audit record in one
//! commit, the same way for every workflow (`engine/flow.rs`).
//!
//! The engine reports a refusal of any workflow as one [`TransitionError`], which keeps
//! the stage's name and the workflow's kind.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::catalogue::AnswerErrors;

/// The longest free text a command carries (comments, clarifications, reasons), in
/// characters.
pub const MAX_TEXT_LEN: usize = 10_000;

/// A workflow's stages: where a case stands, without its data.
pub trait Stage: Copy + Eq + fmt::Debug + fmt::Display + Send + Sync + 'static {
    /// The workflow's kind, for messages: `"request"`, `"alert"`, …
    const WORKFLOW: &'static str;
    /// The stage's kebab-case name.
    fn name(self) -> &'static str;
}

/// What one member of a command's JSON form holds: enough for a form to offer the right
/// input and for an API document to give its schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldKind {
    /// Free text, not blank, at most [`MAX_TEXT_LEN`] characters.
    Text,
    /// A whole number of days, 1 to 365.
    Days,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// A whole number from 1 to 5.
    Score,
    /// `true` or `false`.
    Bool,
    /// An authority's id.
    Authority,
    /// Authorities' ids (a JSON array).
    Authorities,
    /// A user's id.
    User,
    /// A case's id.
    Case,
    /// Participant codes (`DK`, …, `EC`; a JSON array).
    Participants,
    /// Country codes (a JSON array).
    Countries,
    /// Answers to the case's question set: an object from question id to `{type, value}`.
    Answers,
    /// Question ids of the case's question set (a JSON array).
    Questions,
    /// One of these values.
    OneOf(&'static [&'static str]),
    /// A rating: `{"timeliness": 1-5, "effort": 1-5}`.
    Rating,
    /// A survey's targeting: `{"countries": [...], "areas": [...], "procedures": [...]}`.
    Targeting,
    /// Who may read a repository record: `{"audience": "area"}` or
    /// `{"audience": "group", "authorities": [...]}`.
    Audience,
}

/// One member of a command's JSON form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    /// The member's name.
    pub name: &'static str,
    /// What it holds.
    pub kind: FieldKind,
    /// Whether it must be given.
    pub required: bool,
}

impl FieldSpec {
    /// A member that must be given.
    pub const fn required(name: &'static str, kind: FieldKind) -> Self {
        Self {
            name,
            kind,
            required: true,
        }
    }

    /// A member that may be left out.
    pub const fn optional(name: &'static str, kind: FieldKind) -> Self {
        Self {
            name,
            kind,
            required: false,
        }
    }

    /// A value of the right kind, for probing which commands a state allows.
    fn example(&self) -> serde_json::Value {
        use serde_json::json;
        const NIL: &str = "00000000-0000-7000-8000-000000000000";
        match self.kind {
            FieldKind::Text => json!("…"),
            FieldKind::Days | FieldKind::Score => json!(1),
            FieldKind::Date => json!("2100-01-01"),
            FieldKind::Bool => json!(true),
            FieldKind::Authority | FieldKind::User | FieldKind::Case => json!(NIL),
            FieldKind::Authorities | FieldKind::Participants | FieldKind::Countries => {
                json!([])
            }
            FieldKind::Questions => json!([]),
            FieldKind::Answers => json!({}),
            FieldKind::OneOf(values) => json!(values.first().copied().unwrap_or_default()),
            FieldKind::Rating => json!({"timeliness": 5, "effort": 5}),
            FieldKind::Targeting => json!({}),
            FieldKind::Audience => json!({"audience": "area"}),
        }
    }
}

/// A member that must be given (for terse [`Command::SPECS`] tables).
pub const fn req(name: &'static str, kind: FieldKind) -> FieldSpec {
    FieldSpec::required(name, kind)
}

/// A member that may be left out (for terse [`Command::SPECS`] tables).
pub const fn opt(name: &'static str, kind: FieldKind) -> FieldSpec {
    FieldSpec::optional(name, kind)
}

/// A command with neither variants nor fixed members (for terse [`Command::SPECS`]
/// tables).
pub const fn spec(name: &'static str, fields: &'static [FieldSpec]) -> CommandSpec {
    CommandSpec::new(name, fields)
}

/// A command form with fixed members, such as one variant of a command (for terse
/// [`Command::SPECS`] tables): `variant("intervene-close", "intervene", &[("kind",
/// "close")], &[req("reason", Text)])`.
pub const fn variant(
    id: &'static str,
    command: &'static str,
    fixed: &'static [(&'static str, &'static str)],
    fields: &'static [FieldSpec],
) -> CommandSpec {
    CommandSpec {
        id,
        command,
        fixed,
        fields,
    }
}

/// One form of a command: its JSON members, for forms and API documents, written once
/// per workflow as data ([`Command::SPECS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandSpec {
    /// Unique within the workflow: the command's name, or for a command with variants
    /// `command-variant`. Interface texts are keyed by it.
    pub id: &'static str,
    /// The command's name: the `command` member of its JSON form.
    pub command: &'static str,
    /// Members with fixed values (a variant's tag).
    pub fixed: &'static [(&'static str, &'static str)],
    /// The members the caller fills in.
    pub fields: &'static [FieldSpec],
}

impl CommandSpec {
    /// A command with neither variants nor fixed members.
    pub const fn new(name: &'static str, fields: &'static [FieldSpec]) -> Self {
        Self {
            id: name,
            command: name,
            fixed: &[],
            fields,
        }
    }

    /// The JSON form of the command with `values` for its fields (fixed members and the
    /// command's name are added).
    pub fn json(&self, values: serde_json::Map<String, serde_json::Value>) -> serde_json::Value {
        let mut object = values;
        object.insert("command".to_owned(), self.command.into());
        for (k, v) in self.fixed {
            object.insert((*k).to_owned(), (*v).into());
        }
        serde_json::Value::Object(object)
    }

    /// The command with `values` for its fields, as the workflow's command type.
    pub fn build<C: Command>(
        &self,
        values: serde_json::Map<String, serde_json::Value>,
    ) -> Result<C, serde_json::Error> {
        serde_json::from_value(self.json(values))
    }

    /// An example of the command (a value of the right kind in every field).
    pub fn example<C: Command>(&self) -> Result<C, serde_json::Error> {
        self.build(
            self.fields
                .iter()
                .map(|f| (f.name.to_owned(), f.example()))
                .collect(),
        )
    }
}

/// The command forms `roles` may use on `machine` now: those possible in its stage whose
/// example the machine does not refuse for the stage or for the party, and, for a command
/// without members, whose example it does not refuse at all. (It may still refuse the real
/// arguments: answers that do not fit, a date in the past, or a state of the case's data
/// such as blocked personal data.) Derived from `decide`, so on the stage and the party it
/// cannot disagree with it.
pub fn offered<W: Workflow>(
    machine: &W,
    roles: W::Roles,
    ctx: &W::Context<'_>,
) -> Vec<&'static CommandSpec> {
    <W::Command as Command>::SPECS
        .iter()
        .filter(|spec| {
            spec.example::<W::Command>().is_ok_and(|c| {
                c.possible_in().contains(&machine.stage())
                    && match machine.decide(roles, &c, ctx) {
                        Ok(_) => true,
                        Err(StepError::IllegalInStage { .. } | StepError::WrongParty { .. }) => {
                            false
                        }
                        // A command without members is its own example: any refusal
                        // (acknowledging twice) is the real one.
                        Err(_) => !spec.fields.is_empty(),
                    }
            })
        })
        .collect()
}

/// A workflow whose cases the engine runs on its shared case handling: what an edge names
/// when it asks about a case generically ([`crate::Engine::case_commands`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CaseKind {
    /// A one-to-one request for information.
    Request,
    /// A one-to-many alert.
    Alert,
    /// A notification of a draft measure.
    Notification,
    /// A public submission, as the authority handles it.
    Submission,
    /// A SOLVIT case.
    Solvit,
    /// A survey of competent authorities.
    Survey,
}

/// A workflow's command.
pub trait Command:
    Clone + fmt::Debug + Serialize + DeserializeOwned + Send + Sync + 'static
{
    /// The workflow's stages.
    type Stage: Stage;
    /// Every form of every command, with its members (each workflow lists them once;
    /// a test checks that each builds and that every command is listed).
    const SPECS: &'static [CommandSpec];
    /// The command's kebab-case name, for messages and the audit log.
    fn name(&self) -> &'static str;
    /// The stages in which the command can be possible (the rest refuse it whatever the
    /// party and arguments): what a refusal says was expected.
    fn possible_in(&self) -> &'static [Self::Stage];
}

/// A pure workflow: its state, the commands it accepts and the events it records.
pub trait Workflow: Clone + fmt::Debug + Send + Sync + 'static {
    /// Its stages.
    type Stage: Stage;
    /// What a party asks.
    type Command: Command<Stage = Self::Stage>;
    /// What happened; a case's timeline is its events.
    type Event: Clone + fmt::Debug + Serialize + DeserializeOwned + Send + Sync + 'static;
    /// The parties the acting user is for one case (the engine computes them).
    type Roles: Copy + fmt::Debug + Send + Sync;
    /// What `decide` needs besides the case (the pinned question set, the time, …).
    type Context<'a>;

    /// Where it stands.
    fn stage(&self) -> Self::Stage;

    /// Decides what `command` by `roles` leads to; changes nothing.
    fn decide(
        &self,
        roles: Self::Roles,
        command: &Self::Command,
        ctx: &Self::Context<'_>,
    ) -> Result<Vec<Self::Event>, StepError<Self::Stage>>;

    /// Folds `event`, recorded at `at`, in. Cannot fail: `decide` checked it.
    fn apply(&mut self, event: &Self::Event, at: DateTime<Utc>);
}

/// Implements [`Workflow`] for a machine whose inherent `state().stage()`, `decide` and
/// `apply` do the work.
macro_rules! delegate_workflow {
    ($machine:ty {
        stage: $stage:ty,
        command: $command:ty,
        event: $event:ty,
        roles: $roles:ty,
        context<$l:lifetime>: $ctx:ty $(,)?
    }) => {
        impl $crate::workflow::Workflow for $machine {
            type Stage = $stage;
            type Command = $command;
            type Event = $event;
            type Roles = $roles;
            type Context<$l> = $ctx;

            fn stage(&self) -> $stage {
                self.state().stage()
            }

            fn decide(
                &self,
                roles: $roles,
                command: &$command,
                ctx: &Self::Context<'_>,
            ) -> Result<Vec<$event>, $crate::workflow::StepError<$stage>> {
                <$machine>::decide(self, roles, command, ctx)
            }

            fn apply(&mut self, event: &$event, at: chrono::DateTime<chrono::Utc>) {
                <$machine>::apply(self, event, at);
            }
        }
    };
}
pub(crate) use delegate_workflow;

/// Why a workflow refused a command; nothing was changed. Each workflow has its own
/// (`RequestError`, `AlertError`, …), typed by its stages.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum StepError<S: Stage> {
    /// The command is not possible in the case's stage.
    #[error(
        "cannot {command} {} {} that is {stage}; possible when {}",
        article(S::WORKFLOW),
        S::WORKFLOW,
        names(expected)
    )]
    IllegalInStage {
        /// The stage the case is in.
        stage: S,
        /// The command.
        command: &'static str,
        /// The stages in which it can be possible.
        expected: &'static [S],
    },
    /// The actor is not the party the command needs.
    #[error("only the {needed} may {command} this {}", S::WORKFLOW)]
    WrongParty {
        /// The command.
        command: &'static str,
        /// The party it needs.
        needed: &'static str,
    },
    /// The answers do not fit the question set.
    #[error(transparent)]
    Answers(#[from] AnswerErrors),
    /// An argument is out of range or inconsistent.
    #[error("cannot {command}: {reason}")]
    Invalid {
        /// The command.
        command: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
}

impl<S: Stage> StepError<S> {
    /// `command` refused in `stage`.
    pub fn illegal<C: Command<Stage = S>>(stage: S, command: &C) -> Self {
        StepError::IllegalInStage {
            stage,
            command: command.name(),
            expected: command.possible_in(),
        }
    }

    /// Nothing when `ok`, else `WrongParty`: only the `needed` party may `command`.
    pub fn party(ok: bool, command: &'static str, needed: &'static str) -> Result<(), Self> {
        if ok {
            Ok(())
        } else {
            Err(StepError::WrongParty { command, needed })
        }
    }

    /// Checks a free text `command` carries: not blank, at most [`MAX_TEXT_LEN`]
    /// characters.
    pub fn text(command: &'static str, text: &str) -> Result<(), Self> {
        let reason = if text.trim().is_empty() {
            "the text is empty"
        } else if text.chars().count() > MAX_TEXT_LEN {
            "the text is too long"
        } else {
            return Ok(());
        };
        Err(StepError::Invalid { command, reason })
    }
}

fn article(word: &str) -> &'static str {
    match word.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
        _ => "a",
    }
}

fn names<S: Stage>(stages: &[S]) -> String {
    if stages.is_empty() {
        return "never".into();
    }
    stages
        .iter()
        .map(|s| s.name())
        .collect::<Vec<_>>()
        .join(" or ")
}

/// A refusal by any workflow, as the engine reports it: [`StepError`] with the stage
/// and the workflow named by text.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TransitionError {
    /// The command is not possible in the case's stage.
    #[error("cannot {command} {} {workflow} that is {stage}; possible when {}", article(workflow), expected.join(" or "))]
    IllegalInStage {
        /// The workflow: `"request"`, `"alert"`, …
        workflow: &'static str,
        /// The stage the case is in.
        stage: &'static str,
        /// The command.
        command: &'static str,
        /// The stages in which it can be possible.
        expected: Vec<&'static str>,
    },
    /// The actor is not the party the command needs.
    #[error("only the {needed} may {command} this case")]
    WrongParty {
        /// The command.
        command: &'static str,
        /// The party it needs.
        needed: &'static str,
    },
    /// The answers do not fit the question set.
    #[error(transparent)]
    Answers(#[from] AnswerErrors),
    /// An argument is out of range or inconsistent.
    #[error("cannot {command}: {reason}")]
    Invalid {
        /// The command.
        command: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
}

impl<S: Stage> From<StepError<S>> for TransitionError {
    fn from(e: StepError<S>) -> Self {
        match e {
            StepError::IllegalInStage {
                stage,
                command,
                expected,
            } => TransitionError::IllegalInStage {
                workflow: S::WORKFLOW,
                stage: stage.name(),
                command,
                expected: expected.iter().map(|s| s.name()).collect(),
            },
            StepError::WrongParty { command, needed } => {
                TransitionError::WrongParty { command, needed }
            }
            StepError::Answers(a) => TransitionError::Answers(a),
            StepError::Invalid { command, reason } => TransitionError::Invalid { command, reason },
        }
    }
}

impl<S: Stage> From<StepError<S>> for crate::EngineError {
    fn from(e: StepError<S>) -> Self {
        crate::EngineError::Transition(e.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Light {
        Red,
        Green,
    }

    impl fmt::Display for Light {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.name())
        }
    }

    impl Stage for Light {
        const WORKFLOW: &'static str = "alert";
        fn name(self) -> &'static str {
            match self {
                Light::Red => "red",
                Light::Green => "green",
            }
        }
    }

    #[test]
    fn refusals_say_what_arrived_and_what_was_expected() {
        let e: StepError<Light> = StepError::IllegalInStage {
            stage: Light::Red,
            command: "go",
            expected: &[Light::Green],
        };
        assert_eq!(
            e.to_string(),
            "cannot go an alert that is red; possible when green"
        );
        let t = TransitionError::from(e);
        assert_eq!(
            t.to_string(),
            "cannot go an alert that is red; possible when green"
        );
        assert!(matches!(
            t,
            TransitionError::IllegalInStage {
                workflow: "alert",
                stage: "red",
                ..
            }
        ));
    }
}
