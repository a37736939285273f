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

/// A workflow's command.
pub trait Command:
    Clone + fmt::Debug + Serialize + DeserializeOwned + Send + Sync + 'static
{
    /// The workflow's stages.
    type Stage: Stage;
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
