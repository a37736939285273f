//! The generic one-to-many notification as a pure state machine, built like the alert
//! one ([`crate::alert`]): one authority informs the Commission and/or the member states of
//! a measure (new diploma titles, national services legislation, e-commerce measures);
//! recipients comment; the sender closes it (IMI-REFERENCE Part 1, "Notifications").
//!
//! `Draft` → `Sent` (to the recipients the procedure allows) → `Closed`. Comments come
//! from the sender and the recipients while it is sent.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::catalogue::{Answers, QuestionSet, Side, ValidationLevel};
use crate::country::{Country, Participant};

/// Where a notification stands, without its data (for indexes and messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NotificationStage {
    /// Being written by the sender.
    Draft,
    /// Sent to its recipients: open for comments.
    Sent,
    /// Closed by the sender.
    Closed,
}

impl NotificationStage {
    /// The kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            NotificationStage::Draft => "draft",
            NotificationStage::Sent => "sent",
            NotificationStage::Closed => "closed",
        }
    }

    /// Every stage.
    pub const ALL: [NotificationStage; 3] = [
        NotificationStage::Draft,
        NotificationStage::Sent,
        NotificationStage::Closed,
    ];
}

impl crate::workflow::Stage for NotificationStage {
    const WORKFLOW: &'static str = "notification";
    fn name(self) -> &'static str {
        NotificationStage::name(self)
    }
}

impl fmt::Display for NotificationStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A notification's state, with its dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "stage", rename_all = "kebab-case")]
pub enum NotificationState {
    /// Being written.
    Draft,
    /// Sent.
    Sent {
        /// When.
        at: DateTime<Utc>,
    },
    /// Closed.
    Closed {
        /// When it was sent.
        sent_at: DateTime<Utc>,
        /// When it was closed: the start of its retention.
        at: DateTime<Utc>,
    },
}

impl NotificationState {
    /// The stage.
    pub fn stage(&self) -> NotificationStage {
        match self {
            NotificationState::Draft => NotificationStage::Draft,
            NotificationState::Sent { .. } => NotificationStage::Sent,
            NotificationState::Closed { .. } => NotificationStage::Closed,
        }
    }

    /// When it was closed: the start of its retention.
    pub fn ended_at(&self) -> Option<DateTime<Utc>> {
        match self {
            NotificationState::Closed { at, .. } => Some(*at),
            NotificationState::Draft | NotificationState::Sent { .. } => None,
        }
    }
}

/// The parties the acting user is for one notification; the engine computes them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NotificationRoles {
    /// A notification handler of the sending authority.
    pub sender: bool,
    /// A notification handler in this recipient (a country or the Commission).
    pub recipient: Option<Participant>,
}

/// Who commented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "party", rename_all = "kebab-case")]
pub enum NotificationParty {
    /// The sending authority.
    Sender,
    /// A recipient.
    Recipient {
        /// The recipient country, or the Commission.
        participant: Participant,
    },
}

/// What a party asks to do with a notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "kebab-case")]
pub enum NotificationCommand {
    /// Sender: saves the draft's answers (checked at the "save" level).
    SaveDraft {
        /// The answers.
        answers: Answers,
    },
    /// Sender: sends it. The Commission receives it when the procedure says so; member
    /// states are chosen here (only where the procedure notifies member states).
    Send {
        /// The member states to notify; not the sender's own.
        #[serde(default)]
        countries: BTreeSet<Country>,
    },
    /// Sender or recipient: comments.
    Comment {
        /// The comment.
        text: String,
    },
    /// Sender: closes it.
    Close {
        /// Why.
        reason: String,
    },
}

impl NotificationCommand {
    /// The command's name, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            NotificationCommand::SaveDraft { .. } => "save-draft",
            NotificationCommand::Send { .. } => "send",
            NotificationCommand::Comment { .. } => "comment",
            NotificationCommand::Close { .. } => "close",
        }
    }
}

/// What happened to a notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum NotificationEvent {
    /// The draft's answers were saved.
    DraftSaved {
        /// The answers.
        answers: Answers,
    },
    /// It was sent.
    Sent {
        /// The recipients (countries and/or the Commission).
        recipients: BTreeSet<Participant>,
    },
    /// A comment.
    Commented {
        /// By whom.
        by: NotificationParty,
        /// The comment.
        text: String,
    },
    /// The sender closed it.
    Closed {
        /// Why.
        reason: String,
    },
    /// Retention: its personal data were blocked at the end of the blocking period.
    PersonalDataBlocked,
    /// Retention: its personal data were deleted 3 years after closure.
    PersonalDataDeleted,
}

impl NotificationEvent {
    /// Whether the event records how the sender prepared the notification before sending
    /// it (its saved drafts): shown to the sending side only; recipients see what was
    /// sent, not how it was drafted.
    pub fn is_drafting(&self) -> bool {
        use NotificationEvent as E;
        match self {
            E::DraftSaved { .. } => true,
            E::Sent { .. }
            | E::Commented { .. }
            | E::Closed { .. }
            | E::PersonalDataBlocked
            | E::PersonalDataDeleted => false,
        }
    }
}

/// What `decide` needs besides the notification.
#[derive(Debug, Clone, Copy)]
pub struct NotificationContext<'a> {
    /// The question-set version the notification pinned.
    pub questions: &'a QuestionSet,
    /// The sender's country (never a recipient).
    pub sender_country: Participant,
    /// Whether the procedure notifies the Commission.
    pub to_commission: bool,
    /// Whether the procedure notifies member states.
    pub to_member_states: bool,
}

/// A notification's workflow data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    state: NotificationState,
    answers: Answers,
    recipients: BTreeSet<Participant>,
    comments: u32,
    /// Personal data blocked (Art. 14(1)).
    #[serde(default)]
    blocked: bool,
    /// Personal data deleted (Art. 14(4)).
    #[serde(default)]
    erased: bool,
}

impl Default for Notification {
    fn default() -> Self {
        Self::new()
    }
}

impl Notification {
    /// A new draft.
    pub fn new() -> Self {
        Self {
            state: NotificationState::Draft,
            answers: Answers::new(),
            recipients: BTreeSet::new(),
            comments: 0,
            blocked: false,
            erased: false,
        }
    }

    /// Whether its personal data are blocked.
    pub fn is_blocked(&self) -> bool {
        self.blocked
    }

    /// Whether its personal data were deleted.
    pub fn is_erased(&self) -> bool {
        self.erased
    }

    /// The state.
    pub fn state(&self) -> &NotificationState {
        &self.state
    }

    /// The answers.
    pub fn answers(&self) -> &Answers {
        &self.answers
    }

    /// The recipients (set when sent).
    pub fn recipients(&self) -> &BTreeSet<Participant> {
        &self.recipients
    }

    /// How many comments it has.
    pub fn comments(&self) -> u32 {
        self.comments
    }

    /// The same notification with its answers reduced by `keep`.
    pub fn redacted(&self, keep: impl Fn(&Answers) -> Answers) -> Self {
        Self {
            answers: keep(&self.answers),
            ..self.clone()
        }
    }

    /// Decides what `command` by a user with `roles` leads to; changes nothing.
    pub fn decide(
        &self,
        roles: NotificationRoles,
        command: &NotificationCommand,
        ctx: &NotificationContext<'_>,
    ) -> Result<Vec<NotificationEvent>, NotificationError> {
        use NotificationCommand as C;
        use NotificationState as S;
        let name = command.name();
        let party = |ok, needed| NotificationError::party(ok, name, needed);
        let invalid = |reason| NotificationError::Invalid {
            command: name,
            reason,
        };
        let text = |t: &str| NotificationError::text(name, t);
        match (&self.state, command) {
            (S::Draft, C::SaveDraft { answers }) => {
                party(roles.sender, "sender")?;
                ctx.questions.validate_side(
                    answers,
                    &Answers::new(),
                    Side::Requester,
                    ValidationLevel::Save,
                )?;
                Ok(vec![NotificationEvent::DraftSaved {
                    answers: answers.clone(),
                }])
            }
            (S::Draft, C::Send { countries }) => {
                party(roles.sender, "sender")?;
                if !ctx.to_member_states && !countries.is_empty() {
                    return Err(invalid("this procedure notifies the Commission only"));
                }
                if ctx.to_member_states && !ctx.to_commission && countries.is_empty() {
                    return Err(invalid("choose at least one member state"));
                }
                let mut recipients: BTreeSet<Participant> =
                    countries.iter().map(|c| Participant::from(*c)).collect();
                if recipients.contains(&ctx.sender_country) {
                    return Err(invalid(
                        "a notification goes to other countries than the sender's",
                    ));
                }
                if ctx.to_commission {
                    recipients.insert(Participant::Commission);
                }
                if recipients.is_empty() {
                    return Err(invalid("this procedure has no recipients"));
                }
                ctx.questions.validate_side(
                    &self.answers,
                    &Answers::new(),
                    Side::Requester,
                    ValidationLevel::Send,
                )?;
                Ok(vec![NotificationEvent::Sent { recipients }])
            }
            (S::Sent { .. }, C::Comment { text: t }) => {
                let by = match (roles.sender, roles.recipient) {
                    (true, _) => NotificationParty::Sender,
                    (false, Some(participant)) => NotificationParty::Recipient { participant },
                    (false, None) => {
                        return party(false, "sender or a recipient").map(|()| Vec::new());
                    }
                };
                text(t)?;
                Ok(vec![NotificationEvent::Commented {
                    by,
                    text: t.clone(),
                }])
            }
            (S::Sent { .. }, C::Close { reason }) => {
                party(roles.sender, "sender")?;
                text(reason)?;
                Ok(vec![NotificationEvent::Closed {
                    reason: reason.clone(),
                }])
            }
            (
                S::Draft | S::Sent { .. } | S::Closed { .. },
                C::SaveDraft { .. } | C::Send { .. } | C::Comment { .. } | C::Close { .. },
            ) => Err(NotificationError::illegal(self.state.stage(), command)),
        }
    }

    /// Folds an event in. Events are facts: this never fails.
    pub fn apply(&mut self, event: &NotificationEvent, at: DateTime<Utc>) {
        use NotificationEvent as E;
        use NotificationState as S;
        match event {
            E::DraftSaved { answers } => self.answers = answers.clone(),
            E::Sent { recipients } => {
                self.recipients = recipients.clone();
                self.state = S::Sent { at };
            }
            E::Commented { .. } => self.comments = self.comments.saturating_add(1),
            E::Closed { .. } => {
                let sent_at = match self.state {
                    S::Sent { at } | S::Closed { sent_at: at, .. } => at,
                    S::Draft => at,
                };
                self.state = S::Closed { sent_at, at };
            }
            E::PersonalDataBlocked => self.blocked = true,
            E::PersonalDataDeleted => {
                self.blocked = true;
                self.erased = true;
            }
        }
    }
}

/// An event without personal data (for blocked and deleted notifications): answers to
/// personal-data questions dropped, free texts replaced by `placeholder`.
pub fn notification_event_without_personal_data(
    event: &NotificationEvent,
    set: &QuestionSet,
    placeholder: &str,
) -> NotificationEvent {
    use NotificationEvent as E;
    match event {
        E::DraftSaved { answers } => E::DraftSaved {
            answers: crate::alert::without_personal_data(answers, set),
        },
        E::Commented { by, .. } => E::Commented {
            by: *by,
            text: placeholder.to_owned(),
        },
        E::Closed { .. } => E::Closed {
            reason: placeholder.to_owned(),
        },
        other @ (E::Sent { .. } | E::PersonalDataBlocked | E::PersonalDataDeleted) => other.clone(),
    }
}

/// Whether a reader with `roles` may see `notification` (in full): the sender always;
/// recipients once it is sent.
pub fn notification_visible(roles: NotificationRoles, notification: &Notification) -> bool {
    roles.sender
        || (notification.state.stage() != NotificationStage::Draft
            && roles
                .recipient
                .is_some_and(|r| notification.recipients.contains(&r)))
}

/// Why the notification machine refused a command; nothing was changed.
pub type NotificationError = crate::workflow::StepError<NotificationStage>;

impl crate::workflow::Command for NotificationCommand {
    type Stage = NotificationStage;
    const SPECS: &'static [crate::workflow::CommandSpec] = {
        use crate::workflow::{FieldKind::*, opt, req, spec};
        &[
            spec("save-draft", &[req("answers", Answers)]),
            spec("send", &[opt("countries", Countries)]),
            spec("comment", &[req("text", Text)]),
            spec("close", &[req("reason", Text)]),
        ]
    };

    fn name(&self) -> &'static str {
        NotificationCommand::name(self)
    }

    fn possible_in(&self) -> &'static [NotificationStage] {
        use NotificationCommand as C;
        use NotificationStage as S;
        match self {
            C::SaveDraft { .. } | C::Send { .. } => &[S::Draft],
            C::Comment { .. } | C::Close { .. } => &[S::Sent],
        }
    }
}

crate::workflow::delegate_workflow!(Notification {
    stage: NotificationStage,
    command: NotificationCommand,
    event: NotificationEvent,
    roles: NotificationRoles,
    context<'a>: NotificationContext<'a>,
});

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::{Catalogue, CatalogueSource};

    const AREA: &str = "id = \"pq\"\n[name]\nen = \"PQ\"\n[[procedure]]\nid = \"diplomas\"\nkind = \"notification\"\nquestion_set = \"n\"\nto_commission = true\nto_member_states = true\n[procedure.name]\nen = \"New diplomas\"\n";
    const SET: &str = "id = \"n\"\nversion = 1\n[title]\nen = \"N\"\n[[group]]\nid = \"g\"\n[group.title]\nen = \"G\"\n[[group.question]]\nid = \"title\"\ntype = \"free-text\"\nrequired = \"to-send\"\n[group.question.label]\nen = \"Title\"\n";

    fn set() -> QuestionSet {
        let c = Catalogue::load(&[
            CatalogueSource::new("areas/pq.toml", AREA),
            CatalogueSource::new("question-sets/n.toml", SET),
        ])
        .unwrap();
        c.question_set(&"n".parse().unwrap(), 1).unwrap().clone()
    }

    fn at() -> DateTime<Utc> {
        "2026-11-22T09:00:00Z".parse().unwrap()
    }

    fn step(
        n: &mut Notification,
        roles: NotificationRoles,
        c: &NotificationCommand,
        ctx: &NotificationContext<'_>,
    ) -> Result<(), NotificationError> {
        for e in n.decide(roles, c, ctx)? {
            n.apply(&e, at());
        }
        Ok(())
    }

    #[test]
    fn draft_send_comment_close_and_every_refusal() {
        use NotificationCommand as C;
        let set = set();
        let ctx = NotificationContext {
            questions: &set,
            sender_country: Country::Denmark.into(),
            to_commission: true,
            to_member_states: true,
        };
        let sender = NotificationRoles {
            sender: true,
            recipient: None,
        };
        let fr = NotificationRoles {
            sender: false,
            recipient: Some(Country::France.into()),
        };
        let stranger = NotificationRoles::default();
        let mut n = Notification::new();
        assert!(matches!(
            step(
                &mut n,
                sender,
                &C::Send {
                    countries: BTreeSet::new()
                },
                &ctx
            ),
            Err(NotificationError::Answers(_))
        ));
        let mut answers = Answers::new();
        answers.set(
            "title".parse().unwrap(),
            crate::catalogue::AnswerValue::Text("Sygeplejerske (cand.cur.)".into()),
        );
        assert!(matches!(
            step(
                &mut n,
                fr,
                &C::SaveDraft {
                    answers: answers.clone()
                },
                &ctx
            ),
            Err(NotificationError::WrongParty { .. })
        ));
        step(&mut n, sender, &C::SaveDraft { answers }, &ctx).unwrap();
        assert!(
            !notification_visible(fr, &n),
            "recipients do not see drafts"
        );
        let own = [Country::Denmark].into_iter().collect();
        assert!(matches!(
            step(&mut n, sender, &C::Send { countries: own }, &ctx),
            Err(NotificationError::Invalid { .. })
        ));
        let countries = [Country::France, Country::Germany].into_iter().collect();
        step(&mut n, sender, &C::Send { countries }, &ctx).unwrap();
        assert_eq!(n.state().stage(), NotificationStage::Sent);
        assert_eq!(
            n.recipients().len(),
            3,
            "France, Germany and the Commission"
        );
        assert!(notification_visible(fr, &n));
        assert!(!notification_visible(stranger, &n));
        let comment = || C::Comment {
            text: "Noted".into(),
        };
        step(&mut n, fr, &comment(), &ctx).unwrap();
        step(&mut n, sender, &comment(), &ctx).unwrap();
        assert!(matches!(
            step(&mut n, stranger, &comment(), &ctx),
            Err(NotificationError::WrongParty { .. })
        ));
        assert!(matches!(
            step(&mut n, fr, &C::Comment { text: " ".into() }, &ctx),
            Err(NotificationError::Invalid { .. })
        ));
        assert_eq!(n.comments(), 2);
        assert!(matches!(
            step(&mut n, fr, &C::Close { reason: "x".into() }, &ctx),
            Err(NotificationError::WrongParty { .. })
        ));
        step(
            &mut n,
            sender,
            &C::Close {
                reason: "done".into(),
            },
            &ctx,
        )
        .unwrap();
        assert_eq!(n.state().stage(), NotificationStage::Closed);
        let before = n.clone();
        assert!(matches!(
            step(&mut n, fr, &comment(), &ctx),
            Err(NotificationError::IllegalInStage { .. })
        ));
        assert_eq!(n, before, "a refused command changes nothing");
    }

    #[test]
    fn recipients_follow_the_procedure() {
        use NotificationCommand as C;
        let set = set();
        let mut answers = Answers::new();
        answers.set(
            "title".parse().unwrap(),
            crate::catalogue::AnswerValue::Text("x".into()),
        );
        let sender = NotificationRoles {
            sender: true,
            recipient: None,
        };
        let fr: BTreeSet<Country> = [Country::France].into_iter().collect();
        for (to_commission, to_member_states, countries, expected) in [
            (
                true,
                false,
                BTreeSet::new(),
                Some(vec![Participant::Commission]),
            ),
            (true, false, fr.clone(), None),
            (false, true, BTreeSet::new(), None),
            (false, true, fr.clone(), Some(vec![Country::France.into()])),
            (
                true,
                true,
                fr,
                Some(vec![Participant::Commission, Country::France.into()]),
            ),
        ] {
            let ctx = NotificationContext {
                questions: &set,
                sender_country: Country::Denmark.into(),
                to_commission,
                to_member_states,
            };
            let mut n = Notification::new();
            step(
                &mut n,
                sender,
                &C::SaveDraft {
                    answers: answers.clone(),
                },
                &ctx,
            )
            .unwrap();
            let got = step(&mut n, sender, &C::Send { countries }, &ctx)
                .ok()
                .map(|()| n.recipients().iter().copied().collect::<Vec<_>>());
            let mut expected = expected;
            if let Some(e) = expected.as_mut() {
                e.sort();
            }
            assert_eq!(got, expected, "{to_commission} {to_member_states}");
        }
    }
}
