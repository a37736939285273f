//! How the engine lays its data out in the store's single ordered key space.
//!
//! Every key starts with one [`Space`] byte naming what it holds, followed by
//! order-preserving parts: fixed-width ids and big-endian integers as they are, strings
//! escaped (`0x00` → `0x00 0xFF`) and terminated by `0x00`, so that the byte order of
//! keys is the order of their parts and no key of one tuple is a prefix of another's.
//!
//! | space | key | value |
//! |---|---|---|
//! | `Meta` | name | engine metadata (layout version) |
//! | `Authority` | authority id | the authority document (JSON) |
//! | `AuthorityByParticipant` | participant code, authority id | empty (index) |
//! | `AuthorityName` | participant code, folded name, authority id | empty (duplicate detection) |
//! | `NationalCoordinator` | country code | authority id (one per country) |
//! | `PendingRegistration` | participant code, authority id | empty (validation queue) |
//! | `Invitation` | SHA-256 of the invitation secret | the invitation (JSON) |
//! | `User` | user id | the user document (JSON) |
//! | `UserByAuthority` | authority id, user id | empty (index) |
//! | `Token` | SHA-256 of the token | the token's record (JSON: user, label, expiry); a bare 16-byte user id is a token from before expiry existed, refused |
//! | `TokenByUser` | user id, token id | SHA-256 of the token (a user's tokens, for listing and revoking) |
//! | `Session` | SHA-256 of the session secret | the session (JSON: user, created, expires) |
//! | `SessionExpiry` | expiry time (ms, sign-flipped), SHA-256 of the secret | empty (removed by `tick` once expired) |
//! | `RightHolder` | participant code, right, user id | authority id (who may hold a right in a country; checked against the user on read) |
//! | `Meta` | `right-holders` | empty (the `RightHolder` index covers every user) |
//! | `Meta` | `dated-inbox` | empty (every request's inbox entries carry its deadline; layout 1's entries are gone) |
//! | `DirectoryTerm` | folded term, authority id | empty (search index, active authorities) |
//! | `DirectoryProcedure` | procedure id, participant code, authority id | empty (recipient choice) |
//! | `DirectoryChange` | time (ms), authority id | empty (syndication change feed) |
//! | `Register` | register id | the register entry (JSON) |
//! | `RegisterTerm` | folded term, register id | empty (search index) |
//! | `Case` | case id | the case document (JSON) |
//! | `CaseEvent` | case id, sequence (u64) | one timeline entry (JSON) |
//! | `CaseCounter` | year (u16) | the last reference number of the year (u32) |
//! | `Inbox` | authority id, party (0 requester, 1 responder), stage, deadline date (the committed answer date, else the date needed by; `FF`×8 when none or not open), case id | empty (the inbox and the by-deadline inbox, one entry per party) |
//! | `CaseTranslation` | case id, sequence (u64), language | machine translations of that entry's free text (JSON) |
//! | `Attachment` | attachment id | the attachment's description (JSON) |
//! | `AttachmentChunk` | attachment id, chunk index (u32) | up to 256 KiB of content |
//! | `InboxDue` | (retired: layout 1's by-deadline inbox; the inbox entries carry the date now, and opening an older store removes these) | |
//! | `QuestionSetVersion` | question set id, version (u32) | a published version (JSON) |
//! | `AuditPending` | time (ms), unique id | an audit record not yet sealed (JSON) |
//! | `AuditChain` | sequence (u64) | a sealed, hash-chained audit entry (JSON) |
//! | `AuditHead` | - | the chain's last sequence number and hash (JSON) |
//! | `Retention` | date (days, sign-flipped), case id, kind (0 block, 1 delete) | empty (when a closed case's personal data are blocked, then deleted) |
//! | `Alert` | alert id | the alert document (JSON) |
//! | `AlertEvent` | alert id, sequence (u64) | one timeline entry (JSON) |
//! | `AlertBySender` | authority id, stage code, alert id | empty (sent box) |
//! | `AlertValidation` | participant code, alert id | empty (validation queue) |
//! | `AlertByCountry` | participant code, alert id | empty (incoming coordinators' box) |
//! | `AlertByHandler` | authority id, alert id | empty (handling box) |
//! | `AlertNetwork` | participant code, procedure id | validation and standing handlers (JSON) |
//! | `Notification` | notification id | the notification document (JSON) |
//! | `NotificationEvent` | notification id, sequence (u64) | one timeline entry (JSON) |
//! | `NotificationBySender` | authority id, stage code, notification id | empty (sent box) |
//! | `NotificationByRecipient` | participant code, notification id | empty (received box) |
//! | `Record` | record id | the current revision of a repository record (JSON) |
//! | `RecordRevision` | record id, revision (u32) | one revision (JSON) |
//! | `RecordByProcedure` | procedure id, record id | empty |
//! | `RecordTerm` | procedure id, term hash (8 bytes), record id | empty (search) |
//! | `Subject` | SHA-256 of a folded personal-data value, case id | empty (finding a data subject's cases) |
//! | `UserRetention` | date (days, sign-flipped), user id | empty (when a former user's name and e-mail are deleted) |
//! | `CaseAttachment` | case id, attachment id | empty (a case's files, for deletion) |
//! | `Unblock` | case id, user id | a time-limited, justified access to blocked data (JSON) |
//! | `Due` | date (days since 1970, sign-flipped), case id | empty (next deadline of each open request) |
//! | `Retention` | date, case id, kind 9 (block) or 10 (delete), workflow name | empty (retention of a workflow in the `Flow` spaces) |
//! | `FlowCase` | workflow name, case id | the case document of a workflow added on the generic layout (JSON) |
//! | `FlowEvent` | workflow name, case id, sequence (u64) | one timeline entry (JSON) |
//! | `FlowIndex` | workflow name, index name, the index's parts, case id | empty (boxes, deadlines and statistics the workflow defines) |

use crate::ids::{AttachmentId, AuthorityId, CaseId, RecordId, TokenId, UserId};

/// The first byte of every key: which kind of record it holds. Values are fixed forever
/// once released; new spaces take new numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Space {
    /// Engine metadata.
    Meta = 0x00,
    /// Authority documents by id.
    Authority = 0x10,
    /// Index: authorities by participant (country or Commission).
    AuthorityByParticipant = 0x11,
    /// Index: folded names per participant, for duplicate detection.
    AuthorityName = 0x12,
    /// The national coordinator of each country (uniqueness).
    NationalCoordinator = 0x13,
    /// Index: self-registrations awaiting validation.
    PendingRegistration = 0x14,
    /// Invitations to self-register, by secret hash.
    Invitation = 0x15,
    /// User documents by id.
    User = 0x20,
    /// Index: users by authority.
    UserByAuthority = 0x21,
    /// API tokens by hash.
    Token = 0x22,
    /// Index: a user's tokens.
    TokenByUser = 0x23,
    /// Index: who holds a right, by country.
    RightHolder = 0x24,
    /// Sign-in sessions by secret hash.
    Session = 0x25,
    /// Index: sessions by expiry.
    SessionExpiry = 0x26,
    /// Search index: folded terms of active authorities.
    DirectoryTerm = 0x30,
    /// Index: active authorities with access to a procedure, by country.
    DirectoryProcedure = 0x31,
    /// Change feed of the public directory, by time.
    DirectoryChange = 0x32,
    /// Entries of the directory of national registers.
    Register = 0x40,
    /// Search index of the directory of national registers.
    RegisterTerm = 0x41,
    /// Case documents by id.
    Case = 0x50,
    /// Case timelines: one entry per event.
    CaseEvent = 0x51,
    /// Reference-number counters per year.
    CaseCounter = 0x52,
    /// Inbox index: cases per authority, party and stage.
    Inbox = 0x53,
    /// Deadline index: the next deadline of each open request.
    Due = 0x54,
    /// Machine translations of timeline entries.
    CaseTranslation = 0x55,
    /// Attachment descriptions.
    Attachment = 0x56,
    /// Attachment content, in chunks.
    AttachmentChunk = 0x57,
    /// Retired: the by-deadline inbox of layout 1 (the `Inbox` entries carry the date).
    InboxDue = 0x58,
    /// Published question-set versions.
    QuestionSetVersion = 0x60,
    /// Retention index: when closed cases' personal data are blocked.
    Retention = 0x61,
    /// Justified, time-limited accesses to blocked data.
    Unblock = 0x62,
    /// Index: the attachments of each case.
    CaseAttachment = 0x63,
    /// Retention index of former users' own data.
    UserRetention = 0x64,
    /// Data-subject index: hashed identifying answers of requests.
    Subject = 0x65,
    /// Alert documents by id.
    Alert = 0x80,
    /// Alert timelines: one entry per event.
    AlertEvent = 0x81,
    /// Index: alerts by sending authority, stage and id.
    AlertBySender = 0x82,
    /// Index: alerts waiting for validation, by sender country.
    AlertValidation = 0x83,
    /// Index: alerts by recipient country (incoming coordinators).
    AlertByCountry = 0x84,
    /// Index: alerts by handling authority.
    AlertByHandler = 0x85,
    /// A country's standing alert network for one procedure.
    AlertNetwork = 0x86,
    /// Notification documents by id.
    Notification = 0x88,
    /// Notification timelines: one entry per event.
    NotificationEvent = 0x89,
    /// Index: notifications by sending authority, stage and id.
    NotificationBySender = 0x8A,
    /// Index: notifications by recipient (country or Commission).
    NotificationByRecipient = 0x8B,
    /// Repository records by id (the current revision).
    Record = 0x90,
    /// Every revision of every record.
    RecordRevision = 0x91,
    /// Index: records by procedure.
    RecordByProcedure = 0x92,
    /// Search index: hashed terms of records' fields, by procedure.
    RecordTerm = 0x93,
    /// Public submissions by id.
    Submission = 0x98,
    /// Submission timelines: one entry per event.
    SubmissionEvent = 0x99,
    /// Index: submissions by receiving authority, stage and id.
    SubmissionByAuthority = 0x9A,
    /// Index: the hash of each submission's secret, to its id.
    SubmissionSecret = 0x9B,
    /// The archive of exchanged information, by case id.
    Archive = 0x9C,
    /// Search index of the archive: hashed terms of its answers.
    ArchiveTerm = 0x9D,
    /// The outbox: announcements and their delivery, by id.
    Outbox = 0xA0,
    /// Index: announcements due for delivery, by time and id.
    OutboxDue = 0xA1,
    /// Index: announcements given up (dead letters).
    OutboxDead = 0xA2,
    /// An authority's notification settings.
    NotificationSettings = 0xA3,
    /// A user's notification preferences.
    NotificationPreferences = 0xA4,
    /// Webhooks by id.
    Webhook = 0xA5,
    /// Index: an authority's webhooks.
    WebhookByAuthority = 0xA6,
    /// Each authority's event feed: the announcements addressed to it, in order.
    Feed = 0xA7,
    /// Audit records waiting to be sealed.
    AuditPending = 0x70,
    /// The sealed audit chain.
    AuditChain = 0x71,
    /// The audit chain's head.
    AuditHead = 0x72,
    /// Case documents of workflows on the generic layout, by workflow and id.
    FlowCase = 0xB0,
    /// Their timelines.
    FlowEvent = 0xB1,
    /// Their indexes (boxes, deadlines, statistics), named by each workflow.
    FlowIndex = 0xB2,
}

/// Builds a key part by part.
#[derive(Debug, Clone)]
pub(crate) struct Key(Vec<u8>);

impl Key {
    pub(crate) fn new(space: Space) -> Self {
        let mut v = Vec::with_capacity(32);
        v.push(space as u8);
        Self(v)
    }

    /// A fixed-width 16-byte id.
    pub(crate) fn id(mut self, bytes: &[u8; 16]) -> Self {
        self.0.extend_from_slice(bytes);
        self
    }

    /// A string, escaped and terminated so that tuples sort part by part.
    pub(crate) fn str(mut self, s: &str) -> Self {
        for &b in s.as_bytes() {
            self.0.push(b);
            if b == 0 {
                self.0.push(0xFF);
            }
        }
        self.0.push(0);
        self
    }

    /// The trailing id of one entry, when given (without it, the key is a prefix).
    pub(crate) fn then_id(mut self, id: Option<&[u8; 16]>) -> Self {
        if let Some(id) = id {
            self.0.extend_from_slice(id);
        }
        self
    }

    /// A timeline entry's sequence number, when given (without it, the key is a prefix).
    pub(crate) fn then_seq(mut self, seq: Option<u64>) -> Self {
        if let Some(seq) = seq {
            self.0.extend_from_slice(&seq.to_be_bytes());
        }
        self
    }

    /// A stage code and then an entry's id, each when given (a box, one stage of it, or
    /// one entry).
    pub(crate) fn then_stage(self, stage: Option<u8>, id: Option<&[u8; 16]>) -> Self {
        match stage {
            Some(stage) => self.byte(stage).then_id(id),
            None => self,
        }
    }

    /// One byte.
    pub(crate) fn byte(mut self, b: u8) -> Self {
        self.0.push(b);
        self
    }

    /// A date, in order (days since the common era, sign-flipped).
    pub(crate) fn date(mut self, date: chrono::NaiveDate) -> Self {
        use chrono::Datelike;
        let days = (i64::from(date.num_days_from_ce()) as u64) ^ (1 << 63);
        self.0.extend_from_slice(&days.to_be_bytes());
        self
    }

    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

/// The document of case `id` of a workflow on the generic layout.
pub(crate) fn flow_case(workflow: &str, id: CaseId) -> Vec<u8> {
    Key::new(Space::FlowCase)
        .str(workflow)
        .id(id.as_bytes())
        .into_bytes()
}

/// Its timeline (prefix), or one entry.
pub(crate) fn flow_event(workflow: &str, id: CaseId, seq: Option<u64>) -> Vec<u8> {
    Key::new(Space::FlowEvent)
        .str(workflow)
        .id(id.as_bytes())
        .then_seq(seq)
        .into_bytes()
}

/// The start of an index of a workflow on the generic layout; the workflow appends the
/// index's parts and, for an entry, the case id.
pub(crate) fn flow_index(workflow: &str, index: &str) -> Key {
    Key::new(Space::FlowIndex).str(workflow).str(index)
}

/// A retention entry of a workflow on the generic layout: the step code (9 block, 10
/// delete) is followed by the workflow's name.
pub(crate) fn flow_retention(
    date: chrono::NaiveDate,
    id: CaseId,
    step: u8,
    workflow: &str,
) -> Vec<u8> {
    let mut k = retention(date, Some((id.as_bytes(), step)));
    k.extend_from_slice(&Key(Vec::new()).str(workflow).into_bytes());
    k
}

/// The key of an authority's document.
pub(crate) fn authority(id: AuthorityId) -> Vec<u8> {
    Key::new(Space::Authority).id(id.as_bytes()).into_bytes()
}

/// The prefix of every authority document.
pub(crate) fn authority_prefix() -> Vec<u8> {
    Key::new(Space::Authority).into_bytes()
}

/// The prefix of the participant index for one participant code.
pub(crate) fn authorities_of_participant(code: &str) -> Vec<u8> {
    Key::new(Space::AuthorityByParticipant)
        .str(code)
        .into_bytes()
}

/// One entry of the participant index.
pub(crate) fn authority_by_participant(code: &str, id: AuthorityId) -> Vec<u8> {
    Key::new(Space::AuthorityByParticipant)
        .str(code)
        .id(id.as_bytes())
        .into_bytes()
}

/// An entry of the folded-name index.
pub(crate) fn authority_name(code: &str, folded: &str, id: Option<AuthorityId>) -> Vec<u8> {
    let k = Key::new(Space::AuthorityName).str(code).str(folded);
    match id {
        Some(id) => k.id(id.as_bytes()),
        None => k,
    }
    .into_bytes()
}

/// The national-coordinator slot of a country.
pub(crate) fn national_coordinator(code: &str) -> Vec<u8> {
    Key::new(Space::NationalCoordinator).str(code).into_bytes()
}

/// The prefix of the pending-registration queue of a participant, or one entry of it.
pub(crate) fn pending_registration(code: &str, id: Option<AuthorityId>) -> Vec<u8> {
    let k = Key::new(Space::PendingRegistration).str(code);
    match id {
        Some(id) => k.id(id.as_bytes()),
        None => k,
    }
    .into_bytes()
}

/// An invitation by the hash of its secret.
pub(crate) fn invitation(hash: &[u8; 32]) -> Vec<u8> {
    let mut k = Key::new(Space::Invitation).into_bytes();
    k.extend_from_slice(hash);
    k
}

/// A user document.
pub(crate) fn user(id: UserId) -> Vec<u8> {
    Key::new(Space::User).id(id.as_bytes()).into_bytes()
}

/// The users of an authority (prefix), or one entry.
pub(crate) fn user_by_authority(authority: AuthorityId, user: Option<UserId>) -> Vec<u8> {
    let k = Key::new(Space::UserByAuthority).id(authority.as_bytes());
    match user {
        Some(u) => k.id(u.as_bytes()),
        None => k,
    }
    .into_bytes()
}

/// The engine's metadata entry `name`.
pub(crate) fn meta(name: &str) -> Vec<u8> {
    Key::new(Space::Meta).str(name).into_bytes()
}

/// Users of `code` who were given `right` (`None`: all of them), a candidate list that
/// readers check against each user.
pub(crate) fn right_holder(code: &str, right: &str, user: Option<UserId>) -> Vec<u8> {
    let k = Key::new(Space::RightHolder).str(code).str(right);
    match user {
        Some(u) => k.id(u.as_bytes()),
        None => k,
    }
    .into_bytes()
}

/// The start of the user documents' space (for scanning every user).
pub(crate) fn user_prefix() -> Vec<u8> {
    Key::new(Space::User).into_bytes()
}

/// A user's tokens (`None`: all of them).
pub(crate) fn token_by_user(user: UserId, token: Option<TokenId>) -> Vec<u8> {
    let k = Key::new(Space::TokenByUser).id(user.as_bytes());
    match token {
        Some(t) => k.id(t.as_bytes()),
        None => k,
    }
    .into_bytes()
}

/// A token by its hash.
pub(crate) fn token(hash: &[u8; 32]) -> Vec<u8> {
    let mut k = Key::new(Space::Token).into_bytes();
    k.extend_from_slice(hash);
    k
}

/// A sign-in session, by the SHA-256 hash of its secret.
pub(crate) fn session(hash: &[u8; 32]) -> Vec<u8> {
    let mut k = Key::new(Space::Session).into_bytes();
    k.extend_from_slice(hash);
    k
}

/// A session's expiry entry, or (without hash) the first key after every session
/// expiring before `at`.
pub(crate) fn session_expiry(
    at: chrono::DateTime<chrono::Utc>,
    hash: Option<&[u8; 32]>,
) -> Vec<u8> {
    let t = (at.timestamp_millis() as u64) ^ (1 << 63);
    let mut k = Key::new(Space::SessionExpiry).into_bytes();
    k.extend_from_slice(&t.to_be_bytes());
    if let Some(h) = hash {
        k.extend_from_slice(h);
    }
    k
}

/// The prefix of the session expiry index.
pub(crate) fn session_expiry_prefix() -> Vec<u8> {
    Key::new(Space::SessionExpiry).into_bytes()
}

/// A term-index key in `space`: the prefix of every term starting with `term` (no id),
/// or one entry.
pub(crate) fn term(space: Space, term: &str, id: Option<&[u8; 16]>) -> Vec<u8> {
    let k = Key::new(space);
    match id {
        Some(id) => k.str(term).id(id).into_bytes(),
        // A prefix of terms: the string without its terminator.
        None => {
            let mut k = k.into_bytes();
            k.extend_from_slice(term.as_bytes());
            k
        }
    }
}

/// An entry of the directory change feed, or (without id) the start of a time.
pub(crate) fn directory_change(at_ms: i64, id: Option<AuthorityId>) -> Vec<u8> {
    // Flipping the sign bit makes negative times sort before positive ones.
    let t = (at_ms as u64) ^ (1 << 63);
    let mut k = Key::new(Space::DirectoryChange).into_bytes();
    k.extend_from_slice(&t.to_be_bytes());
    if let Some(id) = id {
        k.extend_from_slice(id.as_bytes());
    }
    k
}

/// The prefix of the change feed.
pub(crate) fn directory_changes() -> Vec<u8> {
    Key::new(Space::DirectoryChange).into_bytes()
}

/// The time of a change-feed key.
pub(crate) fn directory_change_time(key: &[u8]) -> Option<i64> {
    let t: [u8; 8] = key.get(1..9)?.try_into().ok()?;
    Some((u64::from_be_bytes(t) ^ (1 << 63)) as i64)
}

/// A register entry.
pub(crate) fn register(id: &[u8; 16]) -> Vec<u8> {
    Key::new(Space::Register).id(id).into_bytes()
}

/// The prefix of every register entry.
pub(crate) fn register_prefix() -> Vec<u8> {
    Key::new(Space::Register).into_bytes()
}

/// The recipient index: active authorities with access to `procedure`, optionally in one
/// participant.
pub(crate) fn directory_procedure(
    procedure: &str,
    code: Option<&str>,
    id: Option<AuthorityId>,
) -> Vec<u8> {
    let mut k = Key::new(Space::DirectoryProcedure).str(procedure);
    if let Some(code) = code {
        k = k.str(code);
    }
    if let Some(id) = id {
        k = k.id(id.as_bytes());
    }
    k.into_bytes()
}

/// The prefix of every request's case document.
pub(crate) fn case_prefix() -> Vec<u8> {
    Key::new(Space::Case).into_bytes()
}

/// A case document.
pub(crate) fn case(id: CaseId) -> Vec<u8> {
    Key::new(Space::Case).id(id.as_bytes()).into_bytes()
}

/// A case's timeline (prefix), or one entry.
pub(crate) fn case_event(id: CaseId, seq: Option<u64>) -> Vec<u8> {
    Key::new(Space::CaseEvent)
        .id(id.as_bytes())
        .then_seq(seq)
        .into_bytes()
}

/// The reference counter of a year.
pub(crate) fn case_counter(year: u16) -> Vec<u8> {
    let mut k = Key::new(Space::CaseCounter).into_bytes();
    k.extend_from_slice(&year.to_be_bytes());
    k
}

/// The prefix of an inbox listing: an authority's entries, optionally one party's, and
/// optionally (with a party) one stage's.
pub(crate) fn inbox_prefix(
    authority: AuthorityId,
    party: Option<u8>,
    stage: Option<u8>,
) -> Vec<u8> {
    let mut k = Key::new(Space::Inbox).id(authority.as_bytes()).into_bytes();
    for b in [party, stage].into_iter().flatten() {
        k.push(b);
    }
    k
}

/// The date part of an inbox entry for a request that has no deadline: after every date.
pub(crate) const INBOX_UNDATED: [u8; 8] = [0xFF; 8];

/// The date part of an inbox entry: days since the common era, sign-flipped, or
/// [`INBOX_UNDATED`].
pub(crate) fn inbox_date(date: Option<chrono::NaiveDate>) -> [u8; 8] {
    use chrono::Datelike;
    date.map_or(INBOX_UNDATED, |d| {
        ((i64::from(d.num_days_from_ce()) as u64) ^ (1 << 63)).to_be_bytes()
    })
}

/// An inbox entry: the authority, its party (0 requester, 1 responder), the stage, the
/// request's deadline (so that the same entry serves the by-deadline inbox) and the case.
pub(crate) fn inbox(
    authority: AuthorityId,
    party: u8,
    stage: u8,
    date: Option<chrono::NaiveDate>,
    case: CaseId,
) -> Vec<u8> {
    let mut k = inbox_prefix(authority, Some(party), Some(stage));
    k.extend_from_slice(&inbox_date(date));
    k.extend_from_slice(case.as_bytes());
    k
}

/// How long an inbox entry of layout 1 was (space, authority, party, stage, case): the
/// migration to the dated entries removes keys of this length.
pub(crate) const INBOX_V1_LEN: usize = 1 + 16 + 1 + 1 + 16;

/// The retired by-deadline inbox space (layout 1), whose entries the migration removes.
pub(crate) fn inbox_due_v1_prefix() -> Vec<u8> {
    Key::new(Space::InboxDue).into_bytes()
}

/// The prefix of every inbox entry (for the migration).
pub(crate) fn inbox_all_prefix() -> Vec<u8> {
    Key::new(Space::Inbox).into_bytes()
}

/// A deadline entry, or (without case) the first key after every deadline up to `date`.
pub(crate) fn due(date: chrono::NaiveDate, case: Option<CaseId>) -> Vec<u8> {
    use chrono::Datelike;
    let days = (i64::from(date.num_days_from_ce()) as u64) ^ (1 << 63);
    let mut k = Key::new(Space::Due).into_bytes();
    k.extend_from_slice(&days.to_be_bytes());
    if let Some(c) = case {
        k.extend_from_slice(c.as_bytes());
    }
    k
}

/// The machine translations of one timeline entry into one language.
pub(crate) fn case_translation(id: CaseId, seq: u64, language: &str) -> Vec<u8> {
    let mut k = Key::new(Space::CaseTranslation)
        .id(id.as_bytes())
        .into_bytes();
    k.extend_from_slice(&seq.to_be_bytes());
    k.extend_from_slice(language.as_bytes());
    k
}

/// An attachment's description.
pub(crate) fn attachment(id: AttachmentId) -> Vec<u8> {
    Key::new(Space::Attachment).id(id.as_bytes()).into_bytes()
}

/// One chunk of an attachment.
pub(crate) fn attachment_chunk(id: AttachmentId, index: u32) -> Vec<u8> {
    let mut k = Key::new(Space::AttachmentChunk)
        .id(id.as_bytes())
        .into_bytes();
    k.extend_from_slice(&index.to_be_bytes());
    k
}

/// A published question-set version, or (without version) the prefix of one set's.
pub(crate) fn question_set_version(id: &str, version: Option<u32>) -> Vec<u8> {
    let mut k = Key::new(Space::QuestionSetVersion).str(id).into_bytes();
    if let Some(v) = version {
        k.extend_from_slice(&v.to_be_bytes());
    }
    k
}

/// The prefix of every published question-set version.
pub(crate) fn question_set_versions() -> Vec<u8> {
    Key::new(Space::QuestionSetVersion).into_bytes()
}

/// A pending audit record (time-ordered, unique), or the prefix of all of them.
pub(crate) fn audit_pending(at_ms: Option<i64>, unique: Option<&[u8; 16]>) -> Vec<u8> {
    let mut k = Key::new(Space::AuditPending).into_bytes();
    if let Some(ms) = at_ms {
        k.extend_from_slice(&((ms as u64) ^ (1 << 63)).to_be_bytes());
    }
    if let Some(u) = unique {
        k.extend_from_slice(u);
    }
    k
}

/// A sealed audit entry, or the prefix of the chain.
pub(crate) fn audit_chain(seq: Option<u64>) -> Vec<u8> {
    let mut k = Key::new(Space::AuditChain).into_bytes();
    if let Some(s) = seq {
        k.extend_from_slice(&s.to_be_bytes());
    }
    k
}

/// The audit chain's head.
pub(crate) fn audit_head() -> Vec<u8> {
    Key::new(Space::AuditHead).into_bytes()
}

/// A retention entry (kind 0: block, 1: delete), or (without case) the first key after
/// every entry up to `date`.
pub(crate) fn retention(date: chrono::NaiveDate, entry: Option<(&[u8; 16], u8)>) -> Vec<u8> {
    use chrono::Datelike;
    let days = (i64::from(date.num_days_from_ce()) as u64) ^ (1 << 63);
    let mut k = Key::new(Space::Retention).into_bytes();
    k.extend_from_slice(&days.to_be_bytes());
    if let Some((id, kind)) = entry {
        k.extend_from_slice(id);
        k.push(kind);
    }
    k
}

/// A former user's deletion date entry, or (without user) the first key after every
/// entry up to `date`.
pub(crate) fn user_retention(date: chrono::NaiveDate, user: Option<UserId>) -> Vec<u8> {
    use chrono::Datelike;
    let days = (i64::from(date.num_days_from_ce()) as u64) ^ (1 << 63);
    let mut k = Key::new(Space::UserRetention).into_bytes();
    k.extend_from_slice(&days.to_be_bytes());
    if let Some(u) = user {
        k.extend_from_slice(u.as_bytes());
    }
    k
}

/// The prefix of the former users' retention index.
pub(crate) fn user_retention_prefix() -> Vec<u8> {
    Key::new(Space::UserRetention).into_bytes()
}

/// A data-subject index entry, or (without case) the prefix of one value's cases.
pub(crate) fn subject(hash: &[u8; 32], case: Option<CaseId>) -> Vec<u8> {
    let mut k = Key::new(Space::Subject).into_bytes();
    k.extend_from_slice(hash);
    if let Some(c) = case {
        k.extend_from_slice(c.as_bytes());
    }
    k
}

/// The attachments of a case (prefix), or one entry.
pub(crate) fn case_attachment(case: CaseId, attachment: Option<AttachmentId>) -> Vec<u8> {
    let k = Key::new(Space::CaseAttachment).id(case.as_bytes());
    match attachment {
        Some(a) => k.id(a.as_bytes()),
        None => k,
    }
    .into_bytes()
}

/// The translations of a case's timeline (prefix).
pub(crate) fn case_translations(case: CaseId) -> Vec<u8> {
    Key::new(Space::CaseTranslation)
        .id(case.as_bytes())
        .into_bytes()
}

/// Every unblock of a case (prefix).
pub(crate) fn unblocks(case: CaseId) -> Vec<u8> {
    Key::new(Space::Unblock).id(case.as_bytes()).into_bytes()
}

/// The prefix of the retention index.
pub(crate) fn retention_prefix() -> Vec<u8> {
    Key::new(Space::Retention).into_bytes()
}

/// One user's access to a blocked case.
pub(crate) fn unblock(case: CaseId, user: UserId) -> Vec<u8> {
    Key::new(Space::Unblock)
        .id(case.as_bytes())
        .id(user.as_bytes())
        .into_bytes()
}

/// The prefix of the deadline index.
pub(crate) fn due_prefix() -> Vec<u8> {
    Key::new(Space::Due).into_bytes()
}

/// The id at the end of an index key, if the key is long enough.
pub(crate) fn trailing_id(key: &[u8]) -> Option<[u8; 16]> {
    let start = key.len().checked_sub(16)?;
    key.get(start..)?.try_into().ok()
}

/// An alert's document.
pub(crate) fn alert(id: CaseId) -> Vec<u8> {
    Key::new(Space::Alert).id(id.as_bytes()).into_bytes()
}

/// An alert's timeline (prefix), or one entry.
pub(crate) fn alert_event(id: CaseId, seq: Option<u64>) -> Vec<u8> {
    Key::new(Space::AlertEvent)
        .id(id.as_bytes())
        .then_seq(seq)
        .into_bytes()
}

/// The sent box of an authority (prefix, optionally of one stage), or one entry.
pub(crate) fn alert_by_sender(
    authority: AuthorityId,
    stage: Option<u8>,
    id: Option<CaseId>,
) -> Vec<u8> {
    Key::new(Space::AlertBySender)
        .id(authority.as_bytes())
        .then_stage(stage, id.as_ref().map(|i| i.as_bytes()))
        .into_bytes()
}

/// The validation queue of a country (prefix), or one entry.
pub(crate) fn alert_validation(participant: &str, id: Option<CaseId>) -> Vec<u8> {
    Key::new(Space::AlertValidation)
        .str(participant)
        .then_id(id.as_ref().map(|i| i.as_bytes()))
        .into_bytes()
}

/// The incoming box of a recipient country (prefix), or one entry.
pub(crate) fn alert_by_country(participant: &str, id: Option<CaseId>) -> Vec<u8> {
    Key::new(Space::AlertByCountry)
        .str(participant)
        .then_id(id.as_ref().map(|i| i.as_bytes()))
        .into_bytes()
}

/// The handling box of an authority (prefix), or one entry.
pub(crate) fn alert_by_handler(authority: AuthorityId, id: Option<CaseId>) -> Vec<u8> {
    Key::new(Space::AlertByHandler)
        .id(authority.as_bytes())
        .then_id(id.as_ref().map(|i| i.as_bytes()))
        .into_bytes()
}

/// A country's alert network for a procedure.
pub(crate) fn alert_network(participant: &str, procedure: &str) -> Vec<u8> {
    Key::new(Space::AlertNetwork)
        .str(participant)
        .str(procedure)
        .into_bytes()
}

/// A notification's document.
pub(crate) fn notification(id: CaseId) -> Vec<u8> {
    Key::new(Space::Notification).id(id.as_bytes()).into_bytes()
}

/// A notification's timeline (prefix), or one entry.
pub(crate) fn notification_event(id: CaseId, seq: Option<u64>) -> Vec<u8> {
    Key::new(Space::NotificationEvent)
        .id(id.as_bytes())
        .then_seq(seq)
        .into_bytes()
}

/// The notifications an authority sends (prefix, optionally of one stage), or one entry.
pub(crate) fn notification_by_sender(
    authority: AuthorityId,
    stage: Option<u8>,
    id: Option<CaseId>,
) -> Vec<u8> {
    Key::new(Space::NotificationBySender)
        .id(authority.as_bytes())
        .then_stage(stage, id.as_ref().map(|i| i.as_bytes()))
        .into_bytes()
}

/// The notifications a country (or the Commission) received (prefix), or one entry.
pub(crate) fn notification_by_recipient(participant: &str, id: Option<CaseId>) -> Vec<u8> {
    Key::new(Space::NotificationByRecipient)
        .str(participant)
        .then_id(id.as_ref().map(|i| i.as_bytes()))
        .into_bytes()
}

/// A public submission's document.
pub(crate) fn submission(id: CaseId) -> Vec<u8> {
    Key::new(Space::Submission).id(id.as_bytes()).into_bytes()
}

/// A submission's timeline (prefix), or one entry.
pub(crate) fn submission_event(id: CaseId, seq: Option<u64>) -> Vec<u8> {
    Key::new(Space::SubmissionEvent)
        .id(id.as_bytes())
        .then_seq(seq)
        .into_bytes()
}

/// The submissions an authority received (prefix, optionally of one stage), or one entry.
pub(crate) fn submission_by_authority(
    authority: AuthorityId,
    stage: Option<u8>,
    id: Option<CaseId>,
) -> Vec<u8> {
    Key::new(Space::SubmissionByAuthority)
        .id(authority.as_bytes())
        .then_stage(stage, id.as_ref().map(|i| i.as_bytes()))
        .into_bytes()
}

/// The submission whose secret hashes to `hash`.
pub(crate) fn submission_secret(hash: &[u8; 32]) -> Vec<u8> {
    let mut k = Key::new(Space::SubmissionSecret).into_bytes();
    k.extend_from_slice(hash);
    k
}

/// An archived exchange (or, without an id, the prefix of all).
pub(crate) fn archive(id: Option<CaseId>) -> Vec<u8> {
    Key::new(Space::Archive)
        .then_id(id.as_ref().map(|i| i.as_bytes()))
        .into_bytes()
}

/// The archive's entries holding a term (prefix), or one entry.
pub(crate) fn archive_term(term: [u8; 8], id: Option<CaseId>) -> Vec<u8> {
    let mut k = Key::new(Space::ArchiveTerm).into_bytes();
    k.extend_from_slice(&term);
    if let Some(id) = id {
        k.extend_from_slice(id.as_bytes());
    }
    k
}

/// An announcement in the outbox.
pub(crate) fn outbox(id: crate::outbox::AnnouncementId) -> Vec<u8> {
    Key::new(Space::Outbox).id(id.0.as_bytes()).into_bytes()
}

/// The due index (prefix of all).
pub(crate) fn outbox_due_prefix() -> Vec<u8> {
    Key::new(Space::OutboxDue).into_bytes()
}

/// The due index at `at` (prefix of that millisecond), or one entry.
pub(crate) fn outbox_due(
    at: chrono::DateTime<chrono::Utc>,
    id: Option<crate::outbox::AnnouncementId>,
) -> Vec<u8> {
    let mut k = outbox_due_prefix();
    let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0);
    k.extend_from_slice(&millis.to_be_bytes());
    if let Some(id) = id {
        k.extend_from_slice(id.0.as_bytes());
    }
    k
}

/// The dead letters (prefix), or one.
pub(crate) fn outbox_dead(id: Option<crate::outbox::AnnouncementId>) -> Vec<u8> {
    let mut k = Key::new(Space::OutboxDead).into_bytes();
    if let Some(id) = id {
        k.extend_from_slice(id.0.as_bytes());
    }
    k
}

/// An authority's notification settings.
pub(crate) fn notification_settings(authority: AuthorityId) -> Vec<u8> {
    Key::new(Space::NotificationSettings)
        .id(authority.as_bytes())
        .into_bytes()
}

/// A user's notification preferences.
pub(crate) fn notification_preferences(user: UserId) -> Vec<u8> {
    Key::new(Space::NotificationPreferences)
        .id(user.as_bytes())
        .into_bytes()
}

/// A webhook.
pub(crate) fn webhook(id: crate::ids::WebhookId) -> Vec<u8> {
    Key::new(Space::Webhook).id(id.as_bytes()).into_bytes()
}

/// An authority's webhooks (prefix), or one entry.
pub(crate) fn webhook_by_authority(
    authority: AuthorityId,
    id: Option<crate::ids::WebhookId>,
) -> Vec<u8> {
    let k = Key::new(Space::WebhookByAuthority).id(authority.as_bytes());
    match id {
        Some(id) => k.id(id.as_bytes()),
        None => k,
    }
    .into_bytes()
}

/// An authority's event feed (prefix), or one entry.
pub(crate) fn feed(authority: AuthorityId, id: Option<crate::outbox::AnnouncementId>) -> Vec<u8> {
    let mut k = Key::new(Space::Feed).id(authority.as_bytes()).into_bytes();
    if let Some(id) = id {
        k.extend_from_slice(id.0.as_bytes());
    }
    k
}

/// A repository record (its current revision).
pub(crate) fn record(id: RecordId) -> Vec<u8> {
    Key::new(Space::Record).id(id.as_bytes()).into_bytes()
}

/// A record's revisions (prefix), or one.
pub(crate) fn record_revision(id: RecordId, revision: Option<u32>) -> Vec<u8> {
    let mut k = Key::new(Space::RecordRevision)
        .id(id.as_bytes())
        .into_bytes();
    if let Some(r) = revision {
        k.extend_from_slice(&r.to_be_bytes());
    }
    k
}

/// The records of a repository procedure (prefix), or one entry.
pub(crate) fn record_by_procedure(procedure: &str, id: Option<RecordId>) -> Vec<u8> {
    Key::new(Space::RecordByProcedure)
        .str(procedure)
        .then_id(id.as_ref().map(|i| i.as_bytes()))
        .into_bytes()
}

/// The records of a procedure holding a term (prefix), or one entry.
pub(crate) fn record_term(procedure: &str, term: [u8; 8], id: Option<RecordId>) -> Vec<u8> {
    let mut k = Key::new(Space::RecordTerm).str(procedure).into_bytes();
    k.extend_from_slice(&term);
    if let Some(id) = id {
        k.extend_from_slice(id.as_bytes());
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_sort_as_tuples() {
        let a = Key::new(Space::Meta).str("ab").str("z").into_bytes();
        let b = Key::new(Space::Meta).str("abc").str("a").into_bytes();
        let c = Key::new(Space::Meta).str("a\0b").into_bytes();
        let d = Key::new(Space::Meta).str("a").into_bytes();
        assert!(a < b, "shorter string first, whatever follows");
        assert!(d < c && c < a, "escaped NUL sorts after end of string");
    }

    #[test]
    fn trailing_id_reads_back() {
        let bytes = [7u8; 16];
        let key = Key::new(Space::AuthorityByParticipant)
            .str("DK")
            .id(&bytes)
            .into_bytes();
        assert_eq!(trailing_id(&key), Some(bytes));
        assert_eq!(trailing_id(b"short"), None);
    }
}
