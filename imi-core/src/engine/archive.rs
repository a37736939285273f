//! The searchable archive of exchanged information: what authorities told each other,
//! without personal or confidential data, for others to learn from earlier exchanges
//! (IMI-REFERENCE Part 1, "Notifications, repositories, public interface").
//!
//! When a notification is closed, the commit that closes it also writes its archive
//! entry: the procedure, the sending country and the recipients, the dates, and only the
//! answers to questions that the catalogue marks neither personal data nor special
//! category. Attachments, comments and reasons (free text that may name people) are never
//! archived. The entry is built from the catalogue's flags, so a new procedure needs no
//! code, and it holds nothing that retention would have to block or delete.
//!
//! Every signed-in user may search it (all areas: learning across areas is the point);
//! anonymous callers may not.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Engine;
use super::repositories::{answer_terms, term_hash};
use crate::access::{Actor, Denial};
use crate::catalogue::{AnswerValue, Answers, AreaId, ProcedureId, QuestionSet};
use crate::country::Participant;
use crate::error::EngineError;
use crate::ids::{CaseId, CaseReference};
use crate::keys;
use crate::page::{Page, PageRequest};
use crate::record::{Txn, decode};

/// What kind of exchange an archive entry comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExchangeKind {
    /// A closed notification.
    Notification,
}

/// One archived exchange, without personal or confidential data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchivedExchange {
    /// The case it comes from.
    pub case: CaseId,
    /// Its reference number.
    pub reference: CaseReference,
    /// What kind of exchange.
    pub kind: ExchangeKind,
    /// The procedure.
    pub procedure: ProcedureId,
    /// The procedure's area.
    pub area: AreaId,
    /// The sending country (or the Commission).
    pub from: Participant,
    /// The recipients.
    pub to: BTreeSet<Participant>,
    /// When it was sent.
    pub sent_at: DateTime<Utc>,
    /// When it was closed.
    pub closed_at: DateTime<Utc>,
    /// The answers to questions that are neither personal data nor special category;
    /// no attachments.
    pub answers: Answers,
}

/// What to look for in the archive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExchangeQuery {
    /// Words every entry found must hold in its answers (case and accents ignored);
    /// empty: every entry.
    pub text: String,
    /// Only this procedure.
    pub procedure: Option<ProcedureId>,
    /// Only exchanges sent by or to this country (or the Commission).
    pub participant: Option<Participant>,
}

/// The answers of `answers` that may be archived: neither personal data nor special
/// category, and no attachments.
pub(super) fn shareable(answers: &Answers, set: &QuestionSet) -> Answers {
    let mut out = Answers::new();
    for (q, v) in answers.iter() {
        let keep = set.question(q).is_some_and(|q| {
            !q.personal_data
                && q.special_category.is_none()
                && !matches!(v, AnswerValue::Attachments(_))
        });
        if keep {
            out.set(q.clone(), v.clone());
        }
    }
    out
}

/// **The archive of exchanges**, without personal or confidential data.
impl Engine {
    /// Writes `entry` and its search terms within `txn`.
    pub(super) fn archive(
        &self,
        txn: &mut Txn<'_>,
        entry: &ArchivedExchange,
    ) -> Result<(), EngineError> {
        txn.put(keys::archive(Some(entry.case)), entry)?;
        for term in answer_terms(&entry.answers) {
            txn.put_index(keys::archive_term(term_hash(&term), Some(entry.case)));
        }
        Ok(())
    }

    /// Searches the archive of exchanged information, oldest exchange first (by when it
    /// was created). Every signed-in user may; the entries hold no personal data.
    pub async fn search_exchanges(
        &self,
        actor: &Actor,
        query: &ExchangeQuery,
        page: PageRequest,
    ) -> Result<Page<ArchivedExchange>, EngineError> {
        if matches!(actor, Actor::Public) {
            return Err(EngineError::Denied(Denial {
                actor: actor.to_string(),
                action: "search the archive of exchanges",
                reason: "the archive is for users of authorities",
            }));
        }
        let words: Vec<String> = crate::fold::tokens(&query.text).collect();
        let prefix = match words.first() {
            Some(w) => keys::archive_term(term_hash(w), None),
            None => keys::archive(None),
        };
        let want: BTreeSet<String> = words.iter().cloned().collect();
        self.box_page(prefix, page, |id| {
            let want = &want;
            async move {
                let key = keys::archive(Some(id));
                let skip = || EngineError::NotFound {
                    kind: "archived exchange",
                    id: id.to_string(),
                };
                let v = self.store.get(&key).await?.ok_or_else(skip)?;
                let entry: ArchivedExchange = decode(&key, &v.value)?;
                let fits = query
                    .procedure
                    .as_ref()
                    .is_none_or(|p| *p == entry.procedure)
                    && query
                        .participant
                        .is_none_or(|p| entry.from == p || entry.to.contains(&p))
                    && want.is_subset(&answer_terms(&entry.answers));
                if fits { Ok(entry) } else { Err(skip()) }
            }
        })
        .await
    }
}
