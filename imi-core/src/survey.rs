//! Surveys of competent authorities as a pure state machine (seed 000 §2.6: the
//! directory of authorities combined with a survey generator, for feedback on how EU law
//! works in practice).
//!
//! An author (a Commission administrator, or a national coordinator's administrator for
//! its own country) builds a survey from a survey procedure's question set, which is
//! catalogue data in every language; targets authorities by country, area and procedure
//! through the directory; and sends it with a deadline. Each targeted authority gives one
//! answer, editable until the deadline; the engine's `tick` reminds those that have not
//! answered and closes the survey after its deadline. Results are aggregated per question
//! and country, with no personal data.
//!
//! `Draft` → `Open` → `Closed`. The answers are not events of the survey: each
//! authority's answer is a document of its own, so thousands of authorities answer
//! without contending for one key.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::catalogue::{AreaId, ProcedureId};
use crate::country::Participant;
use crate::ids::AuthorityId;
use crate::workflow::{Command, StepError};

pub use crate::engine::survey::{
    CountryTurnout, ResultRow, SurveyBox, SurveyCase, SurveyResponse, SurveyResults,
    SurveyTimelineEntry,
};

/// Where a survey stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SurveyStage {
    /// Being prepared by its author.
    Draft,
    /// Sent: the targeted authorities answer until the deadline.
    Open,
    /// Closed: by its author, or after its deadline.
    Closed,
}

impl SurveyStage {
    /// Every stage.
    pub const ALL: [SurveyStage; 3] = [SurveyStage::Draft, SurveyStage::Open, SurveyStage::Closed];

    /// The kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            SurveyStage::Draft => "draft",
            SurveyStage::Open => "open",
            SurveyStage::Closed => "closed",
        }
    }

    /// A one-byte code for index keys (fixed forever).
    pub fn code(self) -> u8 {
        match self {
            SurveyStage::Draft => 0,
            SurveyStage::Open => 1,
            SurveyStage::Closed => 2,
        }
    }
}

impl crate::workflow::Stage for SurveyStage {
    const WORKFLOW: &'static str = "survey";
    fn name(self) -> &'static str {
        SurveyStage::name(self)
    }
}

impl fmt::Display for SurveyStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which authorities a survey asks: active authorities of these countries (all, when
/// empty) that are competent in one of these areas or have access to one of these
/// procedures (either, when both are empty: every authority of the countries).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Targeting {
    /// The countries (and/or the Commission).
    #[serde(default)]
    pub countries: BTreeSet<Participant>,
    /// Legislative areas.
    #[serde(default)]
    pub areas: BTreeSet<AreaId>,
    /// Procedures.
    #[serde(default)]
    pub procedures: BTreeSet<ProcedureId>,
}

/// A survey's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "stage", rename_all = "kebab-case")]
pub enum SurveyState {
    /// Being prepared.
    Draft,
    /// Open for answers.
    Open {
        /// When it was sent.
        sent_at: DateTime<Utc>,
        /// The last day answers are taken.
        deadline: NaiveDate,
        /// The day the authorities that have not answered are reminded.
        remind_on: NaiveDate,
        /// Whether they were.
        reminded: bool,
    },
    /// Closed.
    Closed {
        /// When it was sent.
        sent_at: DateTime<Utc>,
        /// Its deadline.
        deadline: NaiveDate,
        /// When it closed: the start of its retention.
        at: DateTime<Utc>,
    },
}

impl SurveyState {
    /// The stage.
    pub fn stage(&self) -> SurveyStage {
        match self {
            SurveyState::Draft => SurveyStage::Draft,
            SurveyState::Open { .. } => SurveyStage::Open,
            SurveyState::Closed { .. } => SurveyStage::Closed,
        }
    }

    /// The deadline, once sent.
    pub fn deadline(&self) -> Option<NaiveDate> {
        match self {
            SurveyState::Draft => None,
            SurveyState::Open { deadline, .. } | SurveyState::Closed { deadline, .. } => {
                Some(*deadline)
            }
        }
    }

    /// When it closed: the start of its retention.
    pub fn ended_at(&self) -> Option<DateTime<Utc>> {
        match self {
            SurveyState::Closed { at, .. } => Some(*at),
            SurveyState::Draft | SurveyState::Open { .. } => None,
        }
    }
}

/// The parties the acting user is for a survey.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SurveyRoles {
    /// An administrator of the authoring authority.
    pub author: bool,
}

/// What the author asks to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "kebab-case")]
pub enum SurveyCommand {
    /// Sends the survey to the authorities `targeting` finds, open until `deadline`.
    Send {
        /// Which authorities.
        targeting: Targeting,
        /// The last day answers are taken; after today.
        deadline: NaiveDate,
    },
    /// Moves the deadline later.
    ExtendDeadline {
        /// The new deadline.
        deadline: NaiveDate,
    },
    /// Closes the survey before its deadline.
    Close,
}

impl Command for SurveyCommand {
    type Stage = SurveyStage;
    const SPECS: &'static [crate::workflow::CommandSpec] = {
        use crate::workflow::{FieldKind::*, req, spec};
        &[
            spec(
                "send",
                &[req("targeting", Targeting), req("deadline", Date)],
            ),
            spec("extend-deadline", &[req("deadline", Date)]),
            spec("close", &[]),
        ]
    };

    fn name(&self) -> &'static str {
        match self {
            SurveyCommand::Send { .. } => "send",
            SurveyCommand::ExtendDeadline { .. } => "extend-deadline",
            SurveyCommand::Close => "close",
        }
    }

    fn possible_in(&self) -> &'static [SurveyStage] {
        match self {
            SurveyCommand::Send { .. } => &[SurveyStage::Draft],
            SurveyCommand::ExtendDeadline { .. } | SurveyCommand::Close => &[SurveyStage::Open],
        }
    }
}

/// What happened to a survey.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum SurveyEvent {
    /// Sent to the authorities the targeting found.
    Sent {
        /// The targeting.
        targeting: Targeting,
        /// The deadline.
        deadline: NaiveDate,
        /// The day those that have not answered are reminded.
        remind_on: NaiveDate,
        /// The authorities it went to (completed by the engine from the directory).
        recipients: BTreeSet<AuthorityId>,
    },
    /// The deadline moved.
    DeadlineExtended {
        /// The new deadline.
        deadline: NaiveDate,
        /// The new reminder day.
        remind_on: NaiveDate,
    },
    /// The authorities that had not answered were reminded (by `tick`).
    Reminded {
        /// How many.
        authorities: u64,
    },
    /// Closed, by its author or after its deadline.
    Closed,
    /// Retention: who answered for each authority was deleted (the answers' figures stay).
    PersonalDataDeleted,
}

/// What `decide` needs besides the survey.
#[derive(Debug, Clone, Copy)]
pub struct SurveyContext {
    /// Now.
    pub now: DateTime<Utc>,
    /// The author's country: a national author surveys its own country only.
    pub national: Option<Participant>,
    /// Days before the deadline the authorities that have not answered are reminded
    /// (the procedure's data).
    pub remind_days_before: u16,
}

/// The latest deadline a survey may have, in days from when it is set.
pub const MAX_SURVEY_DAYS: i64 = 731;

/// Why the survey machine refused a command; nothing was changed.
pub type SurveyError = StepError<SurveyStage>;

/// A survey's workflow data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Survey {
    state: SurveyState,
    targeting: Targeting,
    recipients: BTreeSet<AuthorityId>,
    #[serde(default)]
    erased: bool,
}

impl Default for Survey {
    fn default() -> Self {
        Self::new()
    }
}

impl Survey {
    /// A new draft.
    pub fn new() -> Self {
        Self {
            state: SurveyState::Draft,
            targeting: Targeting::default(),
            recipients: BTreeSet::new(),
            erased: false,
        }
    }

    /// The state.
    pub fn state(&self) -> &SurveyState {
        &self.state
    }

    /// Which authorities it asks, once sent.
    pub fn targeting(&self) -> &Targeting {
        &self.targeting
    }

    /// The authorities it was sent to.
    pub fn recipients(&self) -> &BTreeSet<AuthorityId> {
        &self.recipients
    }

    /// Whether who answered was deleted.
    pub fn is_erased(&self) -> bool {
        self.erased
    }

    /// Whether answers are taken on `day`.
    pub fn takes_answers(&self, day: NaiveDate) -> bool {
        matches!(self.state, SurveyState::Open { deadline, .. } if day <= deadline)
    }

    /// Decides what `command` by `roles` leads to; changes nothing.
    pub fn decide(
        &self,
        roles: SurveyRoles,
        command: &SurveyCommand,
        ctx: &SurveyContext,
    ) -> Result<Vec<SurveyEvent>, SurveyError> {
        use SurveyCommand as C;
        use SurveyState as S;
        let name = command.name();
        if !roles.author {
            return Err(SurveyError::WrongParty {
                command: name,
                needed: "author",
            });
        }
        let today = ctx.now.date_naive();
        let invalid = |reason| {
            Err(SurveyError::Invalid {
                command: name,
                reason,
            })
        };
        // Reminded some days before the deadline, but never before tomorrow.
        let remind_on = |deadline: NaiveDate| {
            (deadline - chrono::Duration::days(i64::from(ctx.remind_days_before)))
                .max(today + chrono::Duration::days(1))
                .min(deadline)
        };
        match (&self.state, command) {
            (
                S::Draft,
                C::Send {
                    targeting,
                    deadline,
                },
            ) => {
                if *deadline <= today {
                    return invalid("the deadline must be after today");
                }
                if *deadline > today + chrono::Duration::days(MAX_SURVEY_DAYS) {
                    return invalid("the deadline must be within two years");
                }
                if let Some(own) = ctx.national
                    && (targeting.countries.len() != 1 || !targeting.countries.contains(&own))
                {
                    return invalid(
                        "a national survey asks the authorities of its own country only",
                    );
                }
                Ok(vec![SurveyEvent::Sent {
                    targeting: targeting.clone(),
                    deadline: *deadline,
                    remind_on: remind_on(*deadline),
                    recipients: BTreeSet::new(),
                }])
            }
            (
                S::Open {
                    deadline: now_due, ..
                },
                C::ExtendDeadline { deadline },
            ) => {
                if deadline <= now_due {
                    return invalid("the new deadline must be later than the current one");
                }
                if *deadline > today + chrono::Duration::days(MAX_SURVEY_DAYS) {
                    return invalid("the deadline must be within two years");
                }
                Ok(vec![SurveyEvent::DeadlineExtended {
                    deadline: *deadline,
                    remind_on: remind_on(*deadline),
                }])
            }
            (S::Open { .. }, C::Close) => Ok(vec![SurveyEvent::Closed]),
            (
                S::Draft | S::Open { .. } | S::Closed { .. },
                C::Send { .. } | C::ExtendDeadline { .. } | C::Close,
            ) => Err(SurveyError::illegal(self.state.stage(), command)),
        }
    }

    /// Folds an event in; never fails.
    pub fn apply(&mut self, event: &SurveyEvent, at: DateTime<Utc>) {
        use SurveyEvent as E;
        use SurveyState as S;
        match (event, self.state) {
            (
                E::Sent {
                    targeting,
                    deadline,
                    remind_on,
                    recipients,
                },
                _,
            ) => {
                self.targeting = targeting.clone();
                self.recipients = recipients.clone();
                self.state = S::Open {
                    sent_at: at,
                    deadline: *deadline,
                    remind_on: *remind_on,
                    reminded: false,
                };
            }
            (
                E::DeadlineExtended {
                    deadline,
                    remind_on,
                },
                S::Open { sent_at, .. },
            ) => {
                self.state = S::Open {
                    sent_at,
                    deadline: *deadline,
                    remind_on: *remind_on,
                    reminded: false,
                };
            }
            (
                E::Reminded { .. },
                S::Open {
                    sent_at,
                    deadline,
                    remind_on,
                    ..
                },
            ) => {
                self.state = S::Open {
                    sent_at,
                    deadline,
                    remind_on,
                    reminded: true,
                };
            }
            (
                E::Closed,
                S::Open {
                    sent_at, deadline, ..
                },
            ) => {
                self.state = S::Closed {
                    sent_at,
                    deadline,
                    at,
                };
            }
            (E::PersonalDataDeleted, _) => self.erased = true,
            (E::DeadlineExtended { .. } | E::Reminded { .. } | E::Closed, _) => {}
        }
    }

    /// The next day `tick` has something to do: the reminder, then closing after the
    /// deadline.
    pub fn due(&self) -> Option<NaiveDate> {
        match self.state {
            SurveyState::Open {
                reminded: false,
                remind_on,
                ..
            } => Some(remind_on),
            SurveyState::Open { deadline, .. } => Some(deadline + chrono::Duration::days(1)),
            SurveyState::Draft | SurveyState::Closed { .. } => None,
        }
    }
}

crate::workflow::delegate_workflow!(Survey {
    stage: SurveyStage,
    command: SurveyCommand,
    event: SurveyEvent,
    roles: SurveyRoles,
    context<'a>: SurveyContext,
});

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::country::Country;

    fn now() -> DateTime<Utc> {
        "2026-11-22T09:00:00Z".parse().unwrap()
    }

    fn ctx() -> SurveyContext {
        SurveyContext {
            now: now(),
            national: None,
            remind_days_before: 3,
        }
    }

    const AUTHOR: SurveyRoles = SurveyRoles { author: true };

    fn send(days: i64) -> SurveyCommand {
        SurveyCommand::Send {
            targeting: Targeting::default(),
            deadline: now().date_naive() + chrono::Duration::days(days),
        }
    }

    #[test]
    fn a_survey_opens_extends_and_closes_and_refuses_the_rest() {
        let mut s = Survey::new();
        assert!(matches!(
            s.decide(SurveyRoles::default(), &send(10), &ctx()),
            Err(SurveyError::WrongParty { .. })
        ));
        assert!(matches!(
            s.decide(AUTHOR, &send(0), &ctx()),
            Err(SurveyError::Invalid { .. })
        ));
        for e in s.decide(AUTHOR, &send(10), &ctx()).unwrap() {
            s.apply(&e, now());
        }
        assert!(s.takes_answers(now().date_naive() + chrono::Duration::days(10)));
        // Reminded three days before the deadline, closed the day after it.
        assert_eq!(
            s.due(),
            Some(now().date_naive() + chrono::Duration::days(7))
        );
        s.apply(&SurveyEvent::Reminded { authorities: 2 }, now());
        assert_eq!(
            s.due(),
            Some(now().date_naive() + chrono::Duration::days(11))
        );
        assert!(!s.takes_answers(now().date_naive() + chrono::Duration::days(11)));
        let Err(SurveyError::IllegalInStage {
            stage, expected, ..
        }) = s.decide(AUTHOR, &send(10), &ctx())
        else {
            panic!("send twice");
        };
        assert_eq!(
            (stage, expected),
            (SurveyStage::Open, &[SurveyStage::Draft][..])
        );
        let earlier = SurveyCommand::ExtendDeadline {
            deadline: now().date_naive(),
        };
        assert!(matches!(
            s.decide(AUTHOR, &earlier, &ctx()),
            Err(SurveyError::Invalid { .. })
        ));
        for e in s.decide(AUTHOR, &SurveyCommand::Close, &ctx()).unwrap() {
            s.apply(&e, now());
        }
        assert_eq!(s.state().stage(), SurveyStage::Closed);
        assert!(!s.takes_answers(now().date_naive()));
        assert!(s.state().ended_at().is_some());
    }

    #[test]
    fn a_national_author_asks_its_own_country_only() {
        let dk: Participant = Country::Denmark.into();
        let national = SurveyContext {
            national: Some(dk),
            ..ctx()
        };
        let to = |c: Participant| SurveyCommand::Send {
            targeting: Targeting {
                countries: [c].into_iter().collect(),
                ..Targeting::default()
            },
            deadline: now().date_naive() + chrono::Duration::days(5),
        };
        assert!(Survey::new().decide(AUTHOR, &to(dk), &national).is_ok());
        assert!(matches!(
            Survey::new().decide(AUTHOR, &to(Country::France.into()), &national),
            Err(SurveyError::Invalid { .. })
        ));
        assert!(matches!(
            Survey::new().decide(AUTHOR, &send(5), &national),
            Err(SurveyError::Invalid { .. })
        ));
    }
}
