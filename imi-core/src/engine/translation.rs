//! Machine translation of a timeline entry's free text: made once per entry and
//! language, stored beside the original, always labelled.

use super::Engine;
use crate::access::Actor;
use crate::case::ActorRef;
use crate::error::EngineError;
use crate::ids::{CaseId, UserId};
use crate::keys;
use crate::record::{Txn, decode};
use crate::request::RequestEvent;
use crate::user::User;

/// **Machine translation** of free texts on a timeline, stored once and labelled.
impl Engine {
    /// Machine-translates the free text of one timeline entry that `actor` may see into
    /// `to`: comments, clarifications, reasons and free-text answers. Translations are
    /// made once per entry and language, stored beside the original and labelled.
    pub async fn translate_timeline_entry(
        &self,
        actor: &Actor,
        id: CaseId,
        seq: u64,
        to: crate::language::Language,
    ) -> Result<Vec<crate::translate::MachineTranslation>, EngineError> {
        let entries = self.request_timeline(actor, id).await?;
        let entry =
            entries
                .into_iter()
                .find(|e| e.seq == seq)
                .ok_or_else(|| EngineError::NotFound {
                    kind: "timeline entry",
                    id: format!("{id}/{seq}"),
                })?;
        let key = keys::case_translation(id, seq, to.code());
        if let Some(v) = self.store.get(&key).await? {
            let cached: Vec<crate::translate::MachineTranslation> = decode(&key, &v.value)?;
            // Cached translations were made of what the reader may see now only if the
            // originals are still the same.
            let texts = free_texts(&entry.event);
            if cached
                .iter()
                .all(|t| texts.iter().any(|(f, o)| *f == t.field && *o == t.original))
            {
                return Ok(cached);
            }
        }
        let texts = free_texts(&entry.event);
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let translator = self
            .translator
            .as_ref()
            .ok_or(EngineError::TranslationUnavailable)?;
        let from = match entry.actor {
            ActorRef::User { user, .. } => self
                .load::<User>(&keys::user(user), UserId::KIND, &user)
                .await
                .ok()
                .map(|u| u.language()),
            ActorRef::System | ActorRef::Submitter => None,
        };
        let now = self.now();
        let mut out = Vec::with_capacity(texts.len());
        for (field, original) in texts {
            let text = translator.translate(&original, from, to).await?;
            out.push(crate::translate::MachineTranslation {
                field,
                original,
                text,
                from,
                to,
                engine: translator.name().to_owned(),
                at: now,
                machine_translation: true,
            });
        }
        let mut txn = Txn::new(&*self.store);
        txn.put(key, &out)?;
        txn.commit().await?;
        Ok(out)
    }
}

/// The free texts of an event (as the reader sees it): `(field, text)`.
fn free_texts(event: &RequestEvent) -> Vec<(String, String)> {
    use crate::catalogue::AnswerValue;
    let hidden = "(not shown)";
    let mut out = Vec::new();
    let mut push = |field: String, text: &str| {
        if text != hidden && !text.trim().is_empty() {
            out.push((field, text.to_owned()));
        }
    };
    match event {
        RequestEvent::Commented { text, .. } | RequestEvent::CoordinatorCommented { text } => {
            push("comment".into(), text);
        }
        RequestEvent::ClarificationAsked { text } | RequestEvent::ClarificationReplied { text } => {
            push("clarification".into(), text);
        }
        RequestEvent::Withdrawn { reason } | RequestEvent::ClosedByCoordinator { reason } => {
            push("reason".into(), reason);
        }
        RequestEvent::Referred { comment, .. } => push("comment".into(), comment),
        RequestEvent::Rectified {
            answers, reason, ..
        } => {
            push("reason".into(), reason);
            for (q, v) in answers.iter() {
                if let AnswerValue::Text(t) = v {
                    push(format!("answer:{q}"), t);
                }
            }
        }
        RequestEvent::UnlawfulDataErased { reason, .. } => push("reason".into(), reason),
        RequestEvent::DraftSaved { answers } | RequestEvent::Answered { answers, .. } => {
            for (q, v) in answers.iter() {
                if let AnswerValue::Text(t) = v {
                    push(format!("answer:{q}"), t);
                }
            }
        }
        _ => {}
    }
    out
}
