//! Data subjects: the index of personal-data values (hashed), finding a person's
//! requests and exporting what is held about them (Art. 15 GDPR), for the data-subject
//! purpose only.

use std::collections::BTreeSet;

use super::Engine;
use crate::access::Actor;
use crate::case::{RequestCase, RequestView, Visibility};
use crate::catalogue::QuestionSet;
use crate::error::EngineError;
use crate::ids::CaseId;
use crate::keys;
use crate::record::Txn;
use crate::store::Scan;
use crate::workflow::TransitionError;

/// The hash under which a personal-data value is indexed: SHA-256 of its folded text.
fn subject_hash(value: &str) -> [u8; 32] {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(b"imi-subject\0");
    h.update(crate::fold::fold(value).as_bytes());
    h.finalize().into()
}

/// The data-subject index entries of a case: one per personal-data answer that is text
/// or a date.
pub(super) fn subject_keys(case: &RequestCase, set: &QuestionSet) -> BTreeSet<Vec<u8>> {
    use crate::catalogue::AnswerValue;
    let answers = case
        .request
        .request_answers()
        .iter()
        .chain(case.request.reply_answers().iter());
    answers
        .filter(|(q, _)| set.question(q).is_some_and(|q| q.personal_data))
        .filter_map(|(_, v)| match v {
            AnswerValue::Text(t) => Some(t.clone()),
            AnswerValue::Date(d) => Some(d.to_string()),
            _ => None,
        })
        .filter(|t| !crate::fold::fold(t).is_empty())
        .map(|t| keys::subject(&subject_hash(&t), Some(case.id)))
        .collect()
}

/// Keeps the data-subject index of a case in step with its answers, in the same commit.
pub(super) fn write_subject_index(
    txn: &mut Txn<'_>,
    set: &QuestionSet,
    new: &RequestCase,
    old: Option<&RequestCase>,
) {
    let new_keys = subject_keys(new, set);
    let old_keys = old.map(|o| subject_keys(o, set)).unwrap_or_default();
    for k in old_keys.difference(&new_keys) {
        txn.delete(k.clone());
    }
    for k in new_keys.difference(&old_keys) {
        txn.put_index(k.clone());
    }
}

/// **Data subjects**: finding a person's cases and exporting them (GDPR Art. 15).
impl Engine {
    /// Every case of the actor's authority (as requester or responder) whose personal
    /// data contain all of `identifiers` (e.g. a name and a date of birth as
    /// `YYYY-MM-DD`, or a national id; case and accents are ignored), as the actor may
    /// see them. Each case shown in full is an audited read.
    pub async fn find_data_subject(
        &self,
        actor: &Actor,
        identifiers: &[String],
    ) -> Result<Vec<RequestView>, EngineError> {
        Self::principal(actor)?;
        let wanted: Vec<&String> = identifiers
            .iter()
            .filter(|i| !crate::fold::fold(i).is_empty())
            .collect();
        if wanted.is_empty() {
            return Err(EngineError::Transition(TransitionError::Invalid {
                command: "find a data subject",
                reason: "give at least one identifier",
            }));
        }
        let mut candidates: Option<BTreeSet<CaseId>> = None;
        for identifier in wanted {
            let prefix = keys::subject(&subject_hash(identifier), None);
            let found = self.store.scan(&Scan::prefix(&prefix, 10_000)).await?;
            let ids: BTreeSet<CaseId> = found
                .entries
                .iter()
                .filter_map(|e| {
                    keys::trailing_id(&e.key)
                        .and_then(|b| CaseId::from_uuid(uuid::Uuid::from_bytes(b)).ok())
                })
                .collect();
            candidates = Some(match candidates {
                None => ids,
                Some(c) => c.intersection(&ids).copied().collect(),
            });
        }
        let mut views = Vec::new();
        for id in candidates.unwrap_or_default() {
            if let Ok((view, _)) = self.request_unaudited(actor, id).await {
                // Only cases whose personal data the actor may see: a recipient before
                // acceptance, a coordinator or a blocked case without a running unblock
                // does not learn that the person is in it.
                if view.visibility == Visibility::Full {
                    views.push(view);
                }
            }
        }
        self.audit_reads(actor, &views, crate::audit::Purpose::DataSubjectRequest)
            .await?;
        Ok(views)
    }

    /// A machine-readable export (JSON) of everything the actor's authority holds on a
    /// data subject: each case as the actor may see it, with its timeline.
    pub async fn export_data_subject(
        &self,
        actor: &Actor,
        identifiers: &[String],
    ) -> Result<serde_json::Value, EngineError> {
        let views = self.find_data_subject(actor, identifiers).await?;
        let mut cases = Vec::with_capacity(views.len());
        for view in views {
            let timeline = self.request_timeline(actor, view.case.id).await?;
            cases.push(serde_json::json!({ "case": view.case, "visibility": view.visibility, "timeline": timeline }));
        }
        Ok(serde_json::json!({ "format": "imi-data-subject-export/1", "cases": cases }))
    }
}
