//! The outbox: what someone must hear about, written in the same commit as the event.
//!
//! An [`Announcement`] says what happened (a [`Topic`]), to which case or authority (a
//! [`Subject`]), and to whom ([`Audience`]: an authority and the right its users need).
//! The engine writes it with the event, so nothing is announced that did not happen and
//! nothing that happened is lost. A dispatcher later resolves the audience into
//! recipients (the authority's functional mailbox and/or its users with the right, minus
//! those who muted the topic) and hands each a [`Message`]: pre-translated into the
//! recipient's language, carrying no personal data beyond the case's reference and a
//! link, and an idempotency key so a receiver can drop duplicates.
//!
//! Delivery goes through a pluggable [`Notifier`] (e-mail, webhooks, ...), at least once.

use std::collections::BTreeSet;
use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::authority::EmailAddress;
use crate::catalogue::Right;
use crate::ids::{AuthorityId, CaseId, CaseReference};
use crate::language::Language;

/// What happened that someone must hear about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Topic {
    /// A request arrived (sent or forwarded to the authority).
    RequestReceived,
    /// The recipient accepted a request.
    RequestAccepted,
    /// The responder answered.
    RequestAnswered,
    /// The requester asked for clarification.
    ClarificationAsked,
    /// A deadline passed: the party that must act is reminded.
    Reminder,
    /// Still not answered long after the committed date: escalated.
    Escalation,
    /// An alert was broadcast to the country: its incoming alert coordinators distribute
    /// it.
    AlertReceived,
    /// An alert was distributed to the authority.
    AlertDistributed,
    /// A self-registered authority waits for validation.
    RegistrationAwaitingValidation,
    /// A citizen or business submitted a case to the authority (public interface).
    SubmissionReceived,
    /// A case of another workflow arrived for the authority (a SOLVIT case submitted to
    /// it, a survey sent to it, …).
    CaseReceived,
    /// A case of another workflow waits for the authority (a proposed solution, a survey
    /// not yet answered near its deadline, …).
    CaseWaiting,
}

impl Topic {
    /// Every topic.
    pub const ALL: [Topic; 12] = [
        Topic::RequestReceived,
        Topic::RequestAccepted,
        Topic::RequestAnswered,
        Topic::ClarificationAsked,
        Topic::Reminder,
        Topic::Escalation,
        Topic::AlertReceived,
        Topic::AlertDistributed,
        Topic::RegistrationAwaitingValidation,
        Topic::SubmissionReceived,
        Topic::CaseReceived,
        Topic::CaseWaiting,
    ];

    /// The kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            Topic::RequestReceived => "request-received",
            Topic::RequestAccepted => "request-accepted",
            Topic::RequestAnswered => "request-answered",
            Topic::ClarificationAsked => "clarification-asked",
            Topic::Reminder => "reminder",
            Topic::Escalation => "escalation",
            Topic::AlertReceived => "alert-received",
            Topic::AlertDistributed => "alert-distributed",
            Topic::RegistrationAwaitingValidation => "registration-awaiting-validation",
            Topic::SubmissionReceived => "submission-received",
            Topic::CaseReceived => "case-received",
            Topic::CaseWaiting => "case-waiting",
        }
    }

    /// The subject line in `language` (English where we have no translation), with
    /// `{ref}` standing for the case reference or the authority; and its language.
    pub fn template(self, language: Language) -> (&'static str, Language) {
        use Language as L;
        use Topic as T;
        let text = match (language, self) {
            (L::English, T::SubmissionReceived) => "IMI: new submission {ref} from the public",
            (L::English, T::RequestReceived) => "IMI: new request {ref}",
            (L::English, T::RequestAccepted) => "IMI: request {ref} was accepted",
            (L::English, T::RequestAnswered) => "IMI: request {ref} was answered",
            (L::English, T::ClarificationAsked) => "IMI: clarification asked on request {ref}",
            (L::English, T::Reminder) => "IMI: reminder, request {ref} waits for you",
            (L::English, T::Escalation) => "IMI: request {ref} is overdue and escalated",
            (L::English, T::AlertReceived) => "IMI: alert {ref} for your country, to distribute",
            (L::English, T::AlertDistributed) => "IMI: alert {ref} for your authority",
            (L::English, T::RegistrationAwaitingValidation) => {
                "IMI: an authority registered and awaits validation"
            }
            (L::English, T::CaseReceived) => "IMI: {ref} arrived for your authority",
            (L::English, T::CaseWaiting) => "IMI: {ref} waits for your authority",
            (L::Danish, T::SubmissionReceived) => "IMI: ny henvendelse {ref} fra offentligheden",
            (L::Danish, T::RequestReceived) => "IMI: ny anmodning {ref}",
            (L::Danish, T::RequestAccepted) => "IMI: anmodning {ref} er accepteret",
            (L::Danish, T::RequestAnswered) => "IMI: anmodning {ref} er besvaret",
            (L::Danish, T::ClarificationAsked) => "IMI: der bedes om en præcisering af {ref}",
            (L::Danish, T::Reminder) => "IMI: påmindelse, anmodning {ref} venter på dig",
            (L::Danish, T::Escalation) => "IMI: anmodning {ref} er forsinket og eskaleret",
            (L::Danish, T::AlertReceived) => "IMI: advarsel {ref} til dit land, skal fordeles",
            (L::Danish, T::AlertDistributed) => "IMI: advarsel {ref} til din myndighed",
            (L::Danish, T::RegistrationAwaitingValidation) => {
                "IMI: en myndighed er registreret og afventer godkendelse"
            }
            (L::Danish, T::CaseReceived) => "IMI: {ref} er modtaget til din myndighed",
            (L::Danish, T::CaseWaiting) => "IMI: {ref} venter på din myndighed",
            (L::German, T::SubmissionReceived) => "IMI: neue Eingabe {ref} aus der Öffentlichkeit",
            (L::German, T::RequestReceived) => "IMI: neues Ersuchen {ref}",
            (L::German, T::RequestAccepted) => "IMI: Ersuchen {ref} wurde angenommen",
            (L::German, T::RequestAnswered) => "IMI: Ersuchen {ref} wurde beantwortet",
            (L::German, T::ClarificationAsked) => "IMI: Rückfrage zu Ersuchen {ref}",
            (L::German, T::Reminder) => "IMI: Erinnerung, Ersuchen {ref} wartet auf Sie",
            (L::German, T::Escalation) => "IMI: Ersuchen {ref} ist überfällig und eskaliert",
            (L::German, T::AlertReceived) => "IMI: Vorwarnung {ref} für Ihr Land, zu verteilen",
            (L::German, T::AlertDistributed) => "IMI: Vorwarnung {ref} für Ihre Behörde",
            (L::German, T::RegistrationAwaitingValidation) => {
                "IMI: eine Behörde hat sich registriert und wartet auf Bestätigung"
            }
            (L::German, T::CaseReceived) => "IMI: {ref} ist für Ihre Behörde eingegangen",
            (L::German, T::CaseWaiting) => "IMI: {ref} wartet auf Ihre Behörde",
            (L::French, T::SubmissionReceived) => "IMI : nouvelle demande {ref} du public",
            (L::French, T::RequestReceived) => "IMI : nouvelle demande {ref}",
            (L::French, T::RequestAccepted) => "IMI : la demande {ref} a été acceptée",
            (L::French, T::RequestAnswered) => "IMI : la demande {ref} a reçu une réponse",
            (L::French, T::ClarificationAsked) => {
                "IMI : demande de précisions sur la demande {ref}"
            }
            (L::French, T::Reminder) => "IMI : rappel, la demande {ref} vous attend",
            (L::French, T::Escalation) => "IMI : la demande {ref} est en retard et escaladée",
            (L::French, T::AlertReceived) => "IMI : alerte {ref} pour votre pays, à distribuer",
            (L::French, T::AlertDistributed) => "IMI : alerte {ref} pour votre autorité",
            (L::French, T::RegistrationAwaitingValidation) => {
                "IMI : une autorité s'est enregistrée et attend sa validation"
            }
            (L::French, T::CaseReceived) => "IMI : {ref} est arrivé pour votre autorité",
            (L::French, T::CaseWaiting) => "IMI : {ref} attend votre autorité",
            (_, topic) => return (topic.template(L::English).0, L::English),
        };
        (text, language)
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What an announcement is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Subject {
    /// A request.
    Request {
        /// The case.
        case: CaseId,
        /// Its reference.
        reference: CaseReference,
    },
    /// An alert.
    Alert {
        /// The case.
        case: CaseId,
        /// Its reference.
        reference: CaseReference,
    },
    /// A public submission.
    Submission {
        /// The case.
        case: CaseId,
        /// Its reference.
        reference: CaseReference,
    },
    /// An authority (registration).
    Authority {
        /// The authority.
        authority: AuthorityId,
    },
    /// A case of another workflow.
    Case {
        /// Its workflow.
        workflow: crate::catalogue::WorkflowKind,
        /// The case.
        case: CaseId,
        /// Its reference.
        reference: CaseReference,
    },
}

impl Subject {
    /// The path of the thing in the HTTP API, for the link (the notifier adds its base
    /// address).
    pub fn link(&self) -> String {
        match self {
            Subject::Request { case, .. } => format!("/v1/requests/{case}"),
            Subject::Alert { case, .. } => format!("/v1/alerts/{case}"),
            Subject::Submission { case, .. } => format!("/v1/submissions/{case}"),
            Subject::Authority { authority } => format!("/v1/authorities/{authority}"),
            Subject::Case { workflow, case, .. } => format!("/v1/{}/{case}", workflow.path()),
        }
    }

    /// What stands for `{ref}` in subject lines: the case reference, or nothing for an
    /// authority (its name could be a person's; the link leads to it).
    pub fn reference(&self) -> String {
        match self {
            Subject::Request { reference, .. }
            | Subject::Alert { reference, .. }
            | Subject::Submission { reference, .. }
            | Subject::Case { reference, .. } => reference.to_string(),
            Subject::Authority { .. } => String::new(),
        }
    }
}

/// Who must hear about it: the users of `authority` who hold `right` (for the
/// procedure, when there is one), or the authority's functional mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Audience {
    /// The authority.
    pub authority: AuthorityId,
    /// The right its users need to be told.
    pub right: Right,
}

/// An announcement's id: also the stem of its messages' idempotency keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AnnouncementId(pub uuid::Uuid);

impl fmt::Display for AnnouncementId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Something that happened, to be told to its audience.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Announcement {
    /// Its id.
    pub id: AnnouncementId,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// What happened.
    pub topic: Topic,
    /// To what.
    pub subject: Subject,
    /// The procedure concerned, when there is one (rights are per procedure).
    pub procedure: Option<crate::catalogue::ProcedureId>,
    /// Who must hear about it.
    pub audience: BTreeSet<Audience>,
}

/// An entry of an authority's event feed: an announcement addressed to it, without its
/// delivery state. Holds no personal data (ids, the case reference, the topic).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedEvent {
    /// The announcement (also the message's idempotency stem).
    pub id: AnnouncementId,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// What happened.
    pub topic: Topic,
    /// To what.
    pub subject: Subject,
    /// The procedure, when there is one.
    pub procedure: Option<crate::catalogue::ProcedureId>,
    /// The rights of the authority's users it concerns.
    pub rights: BTreeSet<Right>,
}

/// One page of a feed, and where to continue: pass `cursor` back to get what came since
/// (it is given even when the page is short, so a poller can resume from the end).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedPage {
    /// The events, oldest first.
    pub items: Vec<FeedEvent>,
    /// Where to continue.
    pub cursor: Option<crate::page::Cursor>,
}

/// Where an announcement stands in delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum DeliveryState {
    /// Waiting for its next attempt.
    Pending {
        /// Attempts made so far.
        attempts: u32,
        /// Not before.
        next_at: DateTime<Utc>,
    },
    /// A dispatcher holds it until `until`; after that, another may take it.
    Leased {
        /// Attempts made so far, this one included.
        attempts: u32,
        /// The lease's end.
        until: DateTime<Utc>,
    },
    /// Every recipient has it.
    Delivered {
        /// Attempts it took.
        attempts: u32,
        /// When the last recipient got it.
        at: DateTime<Utc>,
    },
    /// Given up after the most attempts: waits in the dead letters for an operator.
    Dead {
        /// Attempts made.
        attempts: u32,
        /// When it was given up.
        at: DateTime<Utc>,
    },
}

/// An announcement and its delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxItem {
    /// What to tell.
    pub announcement: Announcement,
    /// Where delivery stands.
    pub state: DeliveryState,
    /// The idempotency keys of the messages already delivered (skipped on retries).
    pub delivered: BTreeSet<String>,
    /// The last failure, per idempotency key.
    pub last_errors: Vec<(String, String)>,
}

/// Where a message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// An e-mail address: a user's, or an authority's functional mailbox.
    Email {
        /// The address.
        address: EmailAddress,
    },
    /// An endpoint the authority registered ([`crate::webhook`]): POST the
    /// [`crate::webhook::payload`], signed with `secret`.
    Webhook {
        /// The webhook.
        webhook: crate::ids::WebhookId,
        /// Where to POST.
        url: String,
        /// The signing secret.
        secret: crate::webhook::WebhookSecret,
    },
}

/// One message to one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The same for every attempt to deliver this message: a receiver that has seen it
    /// drops it.
    pub idempotency_key: String,
    /// The announcement it comes from.
    pub announcement: AnnouncementId,
    /// What happened.
    pub topic: Topic,
    /// Which attempt this is, from 1.
    pub attempt: u32,
    /// True when an earlier attempt may have reached the recipient (a dispatcher failed
    /// or stopped after handing it over): receivers should check the idempotency key.
    pub possible_duplicate: bool,
    /// Where it goes.
    pub to: Address,
    /// The recipient's language, which the text is in.
    pub language: Language,
    /// The subject line.
    pub subject: String,
    /// The body: the subject and the link, nothing else.
    pub body: String,
    /// The path of the thing in the HTTP API.
    pub link: String,
}

/// Why a delivery failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("delivery failed: {message}")]
pub struct DeliveryError {
    /// What the channel said.
    pub message: String,
}

/// A delivery channel: e-mail, webhooks, a queue.
#[async_trait]
pub trait Notifier: Send + Sync {
    /// Delivers one message; `Ok` once the channel took it.
    async fn deliver(&self, message: &Message) -> Result<(), DeliveryError>;
}

/// How an authority is told: its functional mailbox, its users, or both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationSettings {
    /// A shared functional mailbox that gets every announcement to the authority.
    pub functional_mailbox: Option<EmailAddress>,
    /// Whether the users with the right are told by name as well.
    pub notify_users: bool,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        Self {
            functional_mailbox: None,
            notify_users: true,
        }
    }
}

/// A user's own choice: the topics they do not want to be told of.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationPreferences {
    /// Topics muted.
    pub muted: BTreeSet<Topic>,
}

/// The pause before attempt `attempts + 1`: 30 s, doubling, at most 6 hours.
pub fn backoff(attempts: u32) -> chrono::Duration {
    let seconds = 30i64.saturating_mul(1i64 << attempts.min(20).saturating_sub(1));
    chrono::Duration::seconds(seconds.min(6 * 3600))
}

/// The message for one recipient: the topic's text in `language`, the reference, the
/// link; no other content of the case.
pub fn compose(
    announcement: &Announcement,
    to: Address,
    recipient_key: &str,
    language: Language,
    attempt: u32,
    possible_duplicate: bool,
) -> Message {
    let (template, language) = announcement.topic.template(language);
    let subject = template
        .replace("{ref}", &announcement.subject.reference())
        .replace("  ", " ");
    let link = announcement.subject.link();
    Message {
        idempotency_key: format!("{}:{recipient_key}", announcement.id),
        announcement: announcement.id,
        topic: announcement.topic,
        attempt,
        possible_duplicate,
        to,
        language,
        body: format!("{subject}\n\n{link}\n"),
        subject,
        link,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_topic_reads_in_four_languages_and_falls_back_to_english() {
        for topic in Topic::ALL {
            for l in [
                Language::English,
                Language::Danish,
                Language::German,
                Language::French,
            ] {
                assert_eq!(topic.template(l).1, l);
            }
            assert_eq!(topic.template(Language::Maltese).1, Language::English);
            assert_ne!(
                topic.template(Language::Danish).0,
                topic.template(Language::English).0
            );
        }
    }

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(1), chrono::Duration::seconds(30));
        assert_eq!(backoff(2), chrono::Duration::seconds(60));
        assert_eq!(backoff(5), chrono::Duration::seconds(480));
        assert_eq!(backoff(40), chrono::Duration::hours(6));
    }
}
