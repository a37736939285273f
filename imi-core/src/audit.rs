//! The audit log (Regulation 1024/2012 Art. 17): who processed which case's data, when,
//! how and for what purpose, kept tamper-evident.
//!
//! Writing and sealing are separate, so that the log never becomes a bottleneck:
//!
//! 1. Every audited read or change writes a *pending* [`AuditRecord`] in the same commit
//!    as the change itself, under a unique time-ordered key. Concurrent commands do not
//!    contend for a common chain head.
//! 2. [`Engine::seal_audit`](crate::Engine::seal_audit) (also run by `tick`) takes the
//!    pending records in key order, a bounded batch at a time, and appends them to the
//!    hash chain: each sealed entry carries its sequence number, the previous entry's
//!    hash and its own SHA-256 over both and the record. One commit per batch.
//! 3. [`Engine::verify_audit`](crate::Engine::verify_audit) walks the chain and names the
//!    first entry that was changed, removed or moved.
//!
//! Records hold ids, action codes and purposes, never personal data themselves.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::case::ActorRef;
use crate::ids::{AttachmentId, CaseId};

/// Why personal data were processed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Purpose {
    /// Handling the case as its requester or responder.
    HandleCase,
    /// Monitoring the case as a coordinator.
    Monitor,
    /// The operator's tasks (imports, scheduled jobs).
    Operate,
    /// Keeping the directory and users current (administrators, coordinators).
    Administer,
    /// Answering a data subject's request (access, export, rectification, erasure).
    DataSubjectRequest,
    /// Using blocked data under a justified unblock (proof of an exchange, consent).
    BlockedDataAccess,
    /// A submitter following their own public submission.
    OwnSubmission,
}

/// The only grounds on which blocked data may be used (Art. 14(3)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnblockReason {
    /// As proof of an information exchange.
    ProofOfExchange,
    /// With the data subject's consent.
    DataSubjectConsent,
}

/// What was done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum AuditAction {
    /// A case was read with its personal data.
    ReadCase {
        /// The case.
        case: CaseId,
    },
    /// A repository record was read.
    ReadRecord {
        /// The record.
        record: crate::ids::RecordId,
    },
    /// A repository record was created, changed, retired or deleted.
    ChangeRecord {
        /// The record.
        record: crate::ids::RecordId,
        /// What was done.
        command: String,
    },
    /// A command changed a case.
    ChangeCase {
        /// The case.
        case: CaseId,
        /// The command's name.
        command: String,
    },
    /// An attachment was uploaded.
    UploadAttachment {
        /// The case.
        case: CaseId,
        /// The attachment.
        attachment: AttachmentId,
    },
    /// An authority's directory entry or status was changed.
    ChangeAuthority {
        /// The authority.
        authority: crate::ids::AuthorityId,
        /// What was done (`register`, `update`, `appoint-coordinator`, ...).
        change: String,
    },
    /// A country's alert network was set.
    ChangeAlertNetwork {
        /// The country.
        country: crate::country::Participant,
        /// The alert procedure.
        procedure: String,
    },
    /// A user record was created or changed.
    ChangeUser {
        /// The user.
        user: crate::ids::UserId,
        /// What was done (`create`, `grant-rights`, `disable`, `issue-token`).
        change: String,
    },
    /// A user record (personal data) was read.
    ReadUser {
        /// The user.
        user: crate::ids::UserId,
    },
    /// Blocked personal data were made readable again, for a time, with a justification.
    Unblock {
        /// The case.
        case: CaseId,
        /// The legal ground.
        reason: UnblockReason,
        /// Until when.
        until: DateTime<Utc>,
    },
    /// An attachment was read.
    ReadAttachment {
        /// The case.
        case: CaseId,
        /// The attachment.
        attachment: AttachmentId,
    },
}

/// One audited act, as recorded when it happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// When.
    pub at: DateTime<Utc>,
    /// Who, and for which authority.
    pub actor: ActorRef,
    /// What.
    pub action: AuditAction,
    /// Why.
    pub purpose: Purpose,
}

/// A record sealed into the hash chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedEntry {
    /// Its position, from 1.
    pub seq: u64,
    /// The record.
    pub record: AuditRecord,
    /// The previous entry's hash (zeros for the first), hex.
    pub prev: String,
    /// SHA-256 over `seq`, `prev` and the record, hex.
    pub hash: String,
}

/// The hash of an entry with these parts.
pub fn entry_hash(seq: u64, prev: &str, record: &AuditRecord) -> String {
    let mut h = Sha256::new();
    h.update(seq.to_be_bytes());
    h.update(prev.as_bytes());
    // serde_json writes struct fields in declaration order: a stable encoding.
    h.update(serde_json::to_vec(record).unwrap_or_default());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The end of the chain, stored beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    /// The last sequence number.
    pub seq: u64,
    /// The last hash.
    pub hash: String,
}

/// What verification found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditBreak {
    /// An entry's hash does not match its content or its predecessor.
    #[error("audit entry {seq} was altered: {reason}")]
    Altered {
        /// The first broken entry.
        seq: u64,
        /// What does not match.
        reason: &'static str,
    },
    /// Entries are missing or out of order.
    #[error("audit entry {expected} is missing or out of place (found {found})")]
    Gap {
        /// The sequence number expected.
        expected: u64,
        /// The one found instead (0: none).
        found: u64,
    },
    /// The chain's end does not match its recorded head.
    #[error("the audit chain ends at {found}, but its head says {head}")]
    Truncated {
        /// The recorded head's sequence number.
        head: u64,
        /// The last entry found.
        found: u64,
    },
}

/// A successful verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    /// Entries verified.
    pub entries: u64,
    /// The last hash.
    pub head: String,
}
