//! Finding the right authority: directory search and recipient choice.

use std::collections::BTreeSet;

use super::Engine;
use crate::access::{Action, Actor, decide};
use crate::authority::{Authority, Region};
use crate::catalogue::{AreaId, ProcedureId};
use crate::country::Participant;
use crate::error::EngineError;
use crate::fold::tokens;
use crate::ids::AuthorityId;
use crate::keys;
use crate::language::{Language, LanguagePreferences};
use crate::page::{Cursor, Page, PageError, PageRequest};
use crate::store::Scan;

/// The most candidates one free-text word may yield before the search asks for more
/// precise words.
pub const MAX_CANDIDATES: usize = 250_000;

/// What to look for in the directory. Every criterion given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirectoryQuery {
    /// Free text in any language: every word must begin a word of the authority's names
    /// (any translation), acronym or competence keywords; case and accents are ignored.
    pub text: Option<String>,
    /// Only this country (or the Commission).
    pub participant: Option<Participant>,
    /// Only this region.
    pub region: Option<Region>,
    /// Only authorities competent in this area.
    pub area: Option<AreaId>,
    /// Only authorities with access to this procedure (choosing a recipient).
    pub procedure: Option<ProcedureId>,
    /// Only authorities with a competence keyword matching these words (within `area`
    /// when given).
    pub competence: Option<String>,
}

/// One search result, with the name resolved for the searcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryHit {
    /// The authority.
    pub authority: Authority,
    /// Its name in the searcher's language, or the fallback.
    pub name: String,
    /// The language of `name`.
    pub name_language: Language,
    /// Whether `name` is not in a language the searcher asked for.
    pub fallback: bool,
}

fn words_of(a: &Authority, area: Option<&AreaId>, competences_only: bool) -> Vec<String> {
    let keywords = a
        .competences()
        .iter()
        .filter(|c| area.is_none_or(|x| &c.area == x))
        .flat_map(|c| c.keywords.iter().map(String::as_str));
    let mut words: Vec<String> = keywords.flat_map(tokens).collect();
    if !competences_only {
        let names = a.name().iter().map(|(_, t)| t).chain(a.acronym());
        words.extend(names.flat_map(tokens));
    }
    words
}

fn all_prefix_match(query: &[String], words: &[String]) -> bool {
    query
        .iter()
        .all(|q| words.iter().any(|w| w.starts_with(q.as_str())))
}

impl DirectoryQuery {
    fn matches(&self, a: &Authority, text: &[String], competence: &[String]) -> bool {
        a.is_active()
            && self.participant.is_none_or(|p| a.participant() == p)
            && self.region.as_ref().is_none_or(|r| a.region() == Some(r))
            && self
                .area
                .as_ref()
                .is_none_or(|x| a.competences().iter().any(|c| &c.area == x))
            && self
                .procedure
                .as_ref()
                .is_none_or(|p| a.procedures().contains(p))
            && (competence.is_empty()
                || all_prefix_match(competence, &words_of(a, self.area.as_ref(), true)))
            && (text.is_empty() || all_prefix_match(text, &words_of(a, None, false)))
    }
}

impl Engine {
    /// The ids in a term index whose term starts with `word`, in id order; `None` when
    /// there are more than `cap`.
    async fn ids_with_term(
        &self,
        space: keys::Space,
        word: &str,
        cap: usize,
    ) -> Result<Option<BTreeSet<[u8; 16]>>, EngineError> {
        let prefix = keys::term(space, word, None);
        let mut scan = Scan::prefix(&prefix, (cap + 1).min(4_096));
        let mut ids = BTreeSet::new();
        loop {
            let page = self.store.scan(&scan).await?;
            for e in &page.entries {
                ids.insert(keys::trailing_id(&e.key).ok_or_else(|| super::corrupt_index(&e.key))?);
            }
            if ids.len() > cap {
                return Ok(None);
            }
            match page.continuation {
                Some(c) => scan = scan.resume(c),
                None => return Ok(Some(ids)),
            }
        }
    }

    /// The candidates of the most selective of `words` in a term index. Every word is
    /// probed with a growing cap (64, 1 024, 16 384, then [`MAX_CANDIDATES`]) until one
    /// fits, so the cost follows the rarest word, whatever its length. Callers check the
    /// other words on the records.
    pub(crate) async fn most_selective(
        &self,
        space: keys::Space,
        words: &[String],
    ) -> Result<BTreeSet<[u8; 16]>, EngineError> {
        let mut unique: Vec<&String> = words.iter().collect();
        unique.sort();
        unique.dedup();
        for cap in [64, 1_024, 16_384, MAX_CANDIDATES] {
            for word in &unique {
                if let Some(ids) = self.ids_with_term(space, word, cap).await? {
                    return Ok(ids);
                }
            }
        }
        Err(EngineError::QueryTooBroad {
            word: words.join(" "),
        })
    }

    /// Searches the directory of competent authorities. Results are active authorities
    /// in a stable order (by id), one page at a time, each with its name resolved for
    /// `reader`. Works the same on every backend: it reads only the engine's own indexes.
    pub async fn search_directory(
        &self,
        actor: &Actor,
        query: &DirectoryQuery,
        reader: &LanguagePreferences,
        page: PageRequest,
    ) -> Result<Page<DirectoryHit>, EngineError> {
        decide(actor, &Action::ReadDirectory).into_result()?;
        let text: Vec<String> = query
            .text
            .as_deref()
            .map(|t| tokens(t).collect())
            .unwrap_or_default();
        let competence: Vec<String> = query
            .competence
            .as_deref()
            .map(|t| tokens(t).collect())
            .unwrap_or_default();
        let after = match page.cursor() {
            Some(c) => Some(cursor_id(c)?),
            None => None,
        };
        // Candidates: from the most selective index available, in id order.
        let candidates: Vec<AuthorityId> = if !text.is_empty() || !competence.is_empty() {
            let words: Vec<String> = text.iter().chain(&competence).cloned().collect();
            let raw = self
                .most_selective(keys::Space::DirectoryTerm, &words)
                .await?;
            raw.into_iter()
                .map(|b| {
                    AuthorityId::from_uuid(uuid::Uuid::from_bytes(b))
                        .map_err(|_| super::corrupt_index(&b))
                })
                .collect::<Result<_, _>>()?
        } else {
            let prefix = match (&query.procedure, query.participant) {
                (Some(p), participant) => {
                    keys::directory_procedure(p.as_str(), participant.map(|x| x.code()), None)
                }
                (None, Some(p)) => keys::authorities_of_participant(p.code()),
                (None, None) => keys::authority_prefix(),
            };
            self.all_ids_under(&prefix).await?
        };
        let mut hits = Vec::new();
        let mut remaining = candidates
            .into_iter()
            .filter(|id| after.is_none_or(|a| *id > a))
            .peekable();
        while hits.len() < page.limit() && remaining.peek().is_some() {
            let batch: Vec<AuthorityId> = remaining.by_ref().take(page.limit().max(64)).collect();
            for a in self.authorities_by_id(&batch).await? {
                if hits.len() == page.limit() {
                    break;
                }
                if query.matches(&a, &text, &competence) {
                    let r = a.name().resolve_for(reader);
                    let (name, name_language, fallback) =
                        (r.text.to_owned(), r.language, r.fallback);
                    hits.push(DirectoryHit {
                        authority: a,
                        name,
                        name_language,
                        fallback,
                    });
                }
            }
        }
        let next = (hits.len() == page.limit())
            .then(|| {
                hits.last()
                    .map(|h| Cursor::from_key(h.authority.id().as_bytes().to_vec()))
            })
            .flatten();
        Ok(Page { items: hits, next })
    }

    /// Every authority id under an index prefix, in id order.
    async fn all_ids_under(&self, prefix: &[u8]) -> Result<Vec<AuthorityId>, EngineError> {
        let mut scan = Scan::prefix(prefix, 4_096);
        let mut ids = BTreeSet::new();
        loop {
            let page = self.store.scan(&scan).await?;
            for e in &page.entries {
                ids.insert(self.id_from_index(&e.key)?);
            }
            match page.continuation {
                Some(c) => scan = scan.resume(c),
                None => return Ok(ids.into_iter().collect()),
            }
        }
    }

    /// The authorities that can receive a case of `procedure`: active, with access to it,
    /// optionally in one country; in country then id order.
    pub async fn recipients(
        &self,
        actor: &Actor,
        procedure: &ProcedureId,
        participant: Option<Participant>,
        page: PageRequest,
    ) -> Result<Page<Authority>, EngineError> {
        decide(actor, &Action::ReadDirectory).into_result()?;
        let prefix =
            keys::directory_procedure(procedure.as_str(), participant.map(|p| p.code()), None);
        self.authorities_by_index(&prefix, page).await
    }
}

fn cursor_id(cursor: &Cursor) -> Result<AuthorityId, PageError> {
    let bytes = cursor.key_within(&[])?;
    <[u8; 16]>::try_from(bytes.as_slice())
        .ok()
        .and_then(|b| AuthorityId::from_uuid(uuid::Uuid::from_bytes(b)).ok())
        .ok_or(PageError::BadCursor)
}
