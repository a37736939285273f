//! Cases as stored and as shown: a request case, its timeline, and the need-to-know view.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::catalogue::{
    AnswerValue, Answers, AreaId, ProcedureId, QuestionSet, QuestionSetVersion,
};
use crate::ids::{AuthorityId, CaseId, CaseReference, UserId};
use crate::request::{Request, RequestEvent, Roles};

/// A one-to-one request case as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestCase {
    /// Its id.
    pub id: CaseId,
    /// Its human reference number.
    pub reference: CaseReference,
    /// The procedure.
    pub procedure: ProcedureId,
    /// The procedure's area.
    pub area: AreaId,
    /// The question-set version it pinned when created.
    pub question_set: QuestionSetVersion,
    /// The requesting authority.
    pub requester: AuthorityId,
    /// The request it was split from, if any.
    pub parent: Option<CaseId>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// How many timeline entries it has.
    pub events: u64,
    /// The workflow state and answers.
    pub request: Request,
}

/// Who acted, as recorded on the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ActorRef {
    /// The system (scheduled jobs, imports).
    System,
    /// A user of an authority.
    User {
        /// The user.
        user: UserId,
        /// Their authority at the time.
        authority: AuthorityId,
    },
    /// The citizen or business who made a public submission, proven by its secret
    /// (no account, no name: the submission is the identity).
    Submitter,
}

/// One step of a case's timeline: a request's by default; every workflow's timeline
/// has the same shape with its own event type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry<E = RequestEvent> {
    /// Its position, from 1.
    pub seq: u64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: ActorRef,
    /// What happened.
    pub event: E,
}

/// A timeline as the other side of a case reads it: what was sent, not how it was
/// drafted. Of the drafting entries (`drafting`) only the last saved draft (`saved_draft`)
/// stays, since it is what was sent; earlier drafts (a name typed by mistake and
/// corrected, say) and the sending side's internal steps (validation) are dropped.
pub fn as_sent<E>(
    entries: Vec<TimelineEntry<E>>,
    drafting: impl Fn(&E) -> bool,
    saved_draft: impl Fn(&E) -> bool,
) -> Vec<TimelineEntry<E>> {
    let last_draft = entries.iter().rposition(|e| saved_draft(&e.event));
    entries
        .into_iter()
        .enumerate()
        .filter(|(i, e)| !drafting(&e.event) || Some(*i) == last_draft)
        .map(|(_, e)| e)
        .collect()
}

/// How much of a case a reader may see (need to know, Regulation 1024/2012 Art. 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Visibility {
    /// Everything: the requester, and the responder once it accepted.
    Full,
    /// No personal data and no attachments: the recipient before acceptance.
    WithoutPersonalData,
    /// States, dates and parties only: coordinators monitoring the case.
    ProgressOnly,
}

/// What a reader with `roles` may see of a request in its current state; `None`: nothing
/// (the case is not shown to them at all).
pub fn visibility(roles: Roles, request: &Request) -> Option<Visibility> {
    let parties = roles.requester || roles.responder || roles.allocator;
    if parties && request.is_blocked() {
        // Blocked: personal data are out of reach of the normal interface (Art. 14).
        Some(Visibility::WithoutPersonalData)
    } else if roles.requester {
        Some(Visibility::Full)
    } else if roles.responder || roles.allocator {
        if request.state().recipient_may_see_personal_data() {
            Some(Visibility::Full)
        } else {
            Some(Visibility::WithoutPersonalData)
        }
    } else if roles.requester_coordinator || roles.responder_coordinator {
        Some(Visibility::ProgressOnly)
    } else {
        None
    }
}

/// `answers` reduced to what `visibility` allows.
pub fn visible_answers(answers: &Answers, set: &QuestionSet, visibility: Visibility) -> Answers {
    let mut out = Answers::new();
    if visibility == Visibility::ProgressOnly {
        return out;
    }
    for (q, v) in answers.iter() {
        let personal = set.question(q).is_none_or(|q| q.personal_data);
        let attachment = matches!(v, AnswerValue::Attachments(_));
        if visibility == Visibility::Full || !(personal || attachment) {
            out.set(q.clone(), v.clone());
        }
    }
    out
}

/// A timeline entry reduced to what `visibility` allows: answers filtered, and free
/// texts removed for progress-only readers.
pub fn visible_entry(
    entry: &TimelineEntry,
    set: &QuestionSet,
    visibility: Visibility,
) -> TimelineEntry {
    use RequestEvent as E;
    let hidden = || "(not shown)".to_owned();
    let event = match (&entry.event, visibility) {
        (E::DraftSaved { answers }, v) => E::DraftSaved {
            answers: visible_answers(answers, set, v),
        },
        (E::Answered { answers, on_time }, v) => E::Answered {
            answers: visible_answers(answers, set, v),
            on_time: *on_time,
        },
        (
            E::Rectified {
                side,
                answers,
                reason,
            },
            v,
        ) => E::Rectified {
            side: *side,
            answers: visible_answers(answers, set, v),
            reason: if v == Visibility::ProgressOnly {
                hidden()
            } else {
                reason.clone()
            },
        },
        (
            E::UnlawfulDataErased {
                side, questions, ..
            },
            Visibility::ProgressOnly,
        ) => E::UnlawfulDataErased {
            side: *side,
            questions: questions.clone(),
            reason: hidden(),
        },
        (E::Withdrawn { .. }, Visibility::ProgressOnly) => E::Withdrawn { reason: hidden() },
        (E::ClarificationAsked { .. }, Visibility::ProgressOnly) => {
            E::ClarificationAsked { text: hidden() }
        }
        (E::ClarificationReplied { .. }, Visibility::ProgressOnly) => {
            E::ClarificationReplied { text: hidden() }
        }
        (E::Commented { side, .. }, Visibility::ProgressOnly) => E::Commented {
            side: *side,
            text: hidden(),
        },
        (other, _) => other.clone(),
    };
    TimelineEntry {
        event,
        ..entry.clone()
    }
}

/// A request case as one reader may see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestView {
    /// The case, with answers reduced to what the reader may see.
    pub case: RequestCase,
    /// What the reader may see.
    pub visibility: Visibility,
    /// The reader's parties in the case.
    #[serde(skip)]
    pub roles: Roles,
}
