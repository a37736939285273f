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
use crate::store::{Scan, StoreExt};

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

/// How many distinct completions of a common query word the search merges in id order
/// before it falls back to collecting every candidate.
const MAX_MERGED_TERMS: usize = 32;

/// A word with more completions than this is not used to filter candidates by index (it
/// is checked on the records instead).
const MAX_FILTER_TERMS: usize = 8;

/// Candidates checked per batch read.
const BATCH: usize = 64;

/// One id-ordered run of index keys (`prefix` + 16-byte id), read a batch at a time.
struct IdRun {
    scan: Scan,
    buffered: std::collections::VecDeque<[u8; 16]>,
    done: bool,
}

impl IdRun {
    /// The ids under `prefix` after `after` (exclusive), in id order.
    fn new(prefix: Vec<u8>, after: Option<&[u8; 16]>) -> Self {
        let mut scan = Scan::prefix(&prefix, BATCH);
        if let Some(after) = after {
            let mut from = prefix;
            from.extend_from_slice(after);
            scan.start = std::ops::Bound::Excluded(from);
        }
        Self {
            scan,
            buffered: std::collections::VecDeque::new(),
            done: false,
        }
    }
}

/// Candidates in id order, merged from several id-ordered runs (one per distinct term
/// completing a query word, or one index list), without reading more than needed.
struct IdMerge {
    runs: Vec<IdRun>,
    last: Option<[u8; 16]>,
}

impl IdMerge {
    /// Up to `n` further candidates, in id order, each once; empty at the end.
    async fn next(&mut self, engine: &Engine, n: usize) -> Result<Vec<AuthorityId>, EngineError> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            for run in &mut self.runs {
                if run.buffered.is_empty() && !run.done {
                    let page = engine.store.scan(&run.scan).await?;
                    for e in &page.entries {
                        run.buffered.push_back(
                            keys::trailing_id(&e.key)
                                .ok_or_else(|| super::corrupt_index(&e.key))?,
                        );
                    }
                    match page.continuation {
                        Some(c) => run.scan = run.scan.clone().resume(c),
                        None => run.done = true,
                    }
                }
            }
            let Some(run) = self
                .runs
                .iter_mut()
                .filter(|r| !r.buffered.is_empty())
                .min_by_key(|r| r.buffered.front().copied())
            else {
                break;
            };
            let Some(id) = run.buffered.pop_front() else {
                break;
            };
            if self.last == Some(id) {
                continue; // the same authority under two completions of the word
            }
            self.last = Some(id);
            out.push(
                AuthorityId::from_uuid(uuid::Uuid::from_bytes(id))
                    .map_err(|_| super::corrupt_index(&id))?,
            );
        }
        Ok(out)
    }
}

/// Where a search takes its candidates from.
enum Candidates {
    /// A set collected up front (a rare word, or no better index).
    Collected(std::vec::IntoIter<AuthorityId>),
    /// Streamed from id-ordered index runs.
    Merged(IdMerge),
}

impl Candidates {
    async fn next(&mut self, engine: &Engine, n: usize) -> Result<Vec<AuthorityId>, EngineError> {
        match self {
            Self::Collected(ids) => Ok(ids.by_ref().take(n).collect()),
            Self::Merged(merge) => merge.next(engine, n).await,
        }
    }
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

/// **The directory**: finding the right authority (search in any language, recipients of a procedure).
impl Engine {
    /// The ids in a term index whose term starts with `word`, in id order; `None` when
    /// there are more than `cap`.
    async fn ids_with_term(
        &self,
        space: keys::Space,
        word: &str,
        cap: usize,
    ) -> Result<Option<BTreeSet<[u8; 16]>>, EngineError> {
        use super::principals::{Cached, Subject};
        if space != keys::Space::DirectoryTerm {
            return self.ids_with_term_read(space, word, cap).await;
        }
        let subject = Subject::Term {
            distinct: false,
            word: word.to_owned(),
            cap,
        };
        let now = self.now();
        if let Some(Cached::TermIds(ids)) = self.principals.get(&subject, now) {
            return Ok(ids.map(|ids| (*ids).clone()));
        }
        let generation = self.principals.generation();
        let ids = self.ids_with_term_read(space, word, cap).await?;
        let cached = Cached::TermIds(ids.clone().map(std::sync::Arc::new));
        self.principals.put(subject, cached, generation, now);
        Ok(ids)
    }

    /// [`Engine::ids_with_term`] from the store.
    async fn ids_with_term_read(
        &self,
        space: keys::Space,
        word: &str,
        cap: usize,
    ) -> Result<Option<BTreeSet<[u8; 16]>>, EngineError> {
        let prefix = keys::term(space, word, None);
        let scan = Scan::prefix(&prefix, (cap + 1).min(4_096));
        let mut ids = BTreeSet::new();
        let mut pages = self.store.pages(scan);
        while let Some(entries) = pages.next().await? {
            for e in &entries {
                ids.insert(keys::trailing_id(&e.key).ok_or_else(|| super::corrupt_index(&e.key))?);
            }
            if ids.len() > cap {
                return Ok(None);
            }
        }
        Ok(Some(ids))
    }

    /// The distinct terms of a term index that begin with `word` (each as its key prefix,
    /// terminator included), found by skipping from one term to the next; `None` when
    /// there are more than `max`.
    async fn distinct_terms(
        &self,
        space: keys::Space,
        word: &str,
        max: usize,
    ) -> Result<Option<Vec<Vec<u8>>>, EngineError> {
        use super::principals::{Cached, Subject};
        if space != keys::Space::DirectoryTerm {
            return self.distinct_terms_read(space, word, max).await;
        }
        let subject = Subject::Term {
            distinct: true,
            word: word.to_owned(),
            cap: max,
        };
        let now = self.now();
        if let Some(Cached::Terms(terms)) = self.principals.get(&subject, now) {
            return Ok(terms.map(|t| (*t).clone()));
        }
        let generation = self.principals.generation();
        let terms = self.distinct_terms_read(space, word, max).await?;
        let cached = Cached::Terms(terms.clone().map(std::sync::Arc::new));
        self.principals.put(subject, cached, generation, now);
        Ok(terms)
    }

    /// [`Engine::distinct_terms`] from the store.
    async fn distinct_terms_read(
        &self,
        space: keys::Space,
        word: &str,
        max: usize,
    ) -> Result<Option<Vec<Vec<u8>>>, EngineError> {
        let prefix = keys::term(space, word, None);
        let mut scan = Scan::prefix(&prefix, 1);
        let mut terms = Vec::new();
        loop {
            let page = self.store.scan(&scan).await?;
            let Some(e) = page.entries.first() else {
                return Ok(Some(terms));
            };
            let term = e
                .key
                .get(..e.key.len().saturating_sub(16))
                .ok_or_else(|| super::corrupt_index(&e.key))?
                .to_vec();
            if terms.len() == max {
                return Ok(None);
            }
            match crate::store::prefix_end(&term) {
                Some(next) => scan.start = std::ops::Bound::Included(next),
                None => return Ok(Some(terms)),
            }
            terms.push(term);
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
        // Candidates, in id order: a rare word's matches; else the completions of a
        // common word merged in id order; else an id-ordered index list; else every id
        // under the best index.
        let after_bytes = after.map(|a| *a.as_bytes());
        let merged = |runs: Vec<IdRun>| Candidates::Merged(IdMerge { runs, last: None });
        // The word the candidates come from needs no index filter.
        let mut source: Option<String> = None;
        let mut candidates = if !text.is_empty() || !competence.is_empty() {
            let words: Vec<String> = text.iter().chain(&competence).cloned().collect();
            match self
                .rarest_within(keys::Space::DirectoryTerm, &words)
                .await?
            {
                Some((word, ids)) => {
                    source = Some(word);
                    Candidates::Collected(self.ids_after(ids, after)?.into_iter())
                }
                None => {
                    let mut runs = None;
                    for word in &words {
                        if let Some(terms) = self
                            .distinct_terms(keys::Space::DirectoryTerm, word, MAX_MERGED_TERMS)
                            .await?
                        {
                            source = Some(word.clone());
                            runs = Some(
                                terms
                                    .into_iter()
                                    .map(|t| IdRun::new(t, after_bytes.as_ref()))
                                    .collect(),
                            );
                            break;
                        }
                    }
                    match runs {
                        Some(runs) => merged(runs),
                        None => {
                            let raw = self
                                .most_selective(keys::Space::DirectoryTerm, &words)
                                .await?;
                            Candidates::Collected(self.ids_after(raw, after)?.into_iter())
                        }
                    }
                }
            }
        } else {
            match (&query.procedure, query.participant) {
                (Some(p), Some(participant)) => merged(vec![IdRun::new(
                    keys::directory_procedure(p.as_str(), Some(participant.code()), None),
                    after_bytes.as_ref(),
                )]),
                (None, Some(participant)) => merged(vec![IdRun::new(
                    keys::authorities_of_participant(participant.code()),
                    after_bytes.as_ref(),
                )]),
                (Some(p), None) => {
                    let ids = self
                        .all_ids_under(&keys::directory_procedure(p.as_str(), None, None))
                        .await?;
                    Candidates::Collected(
                        ids.into_iter()
                            .filter(|id| after.is_none_or(|a| *id > a))
                            .collect::<Vec<_>>()
                            .into_iter(),
                    )
                }
                (None, None) => merged(vec![IdRun::new(
                    keys::authority_prefix(),
                    after_bytes.as_ref(),
                )]),
            }
        };
        // Each query word's completions, to drop candidates from the index alone before
        // their records are read (a word with too many completions is left to the record
        // check).
        let mut filters = Vec::new();
        for word in text.iter().chain(&competence) {
            if source.as_ref() == Some(word) {
                continue;
            }
            if let Some(terms) = self
                .distinct_terms(keys::Space::DirectoryTerm, word, MAX_FILTER_TERMS)
                .await?
            {
                filters.push(terms);
            }
        }
        let mut hits = Vec::new();
        while hits.len() < page.limit() {
            let batch = candidates.next(self, page.limit().max(BATCH)).await?;
            if batch.is_empty() {
                break;
            }
            let batch = self.with_every_word(batch, &filters).await?;
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

    /// The candidates that have, for every filter, an index entry under one of its
    /// terms: one batched read of the (term, id) keys per filter.
    async fn with_every_word(
        &self,
        mut ids: Vec<AuthorityId>,
        filters: &[Vec<Vec<u8>>],
    ) -> Result<Vec<AuthorityId>, EngineError> {
        for terms in filters {
            if ids.is_empty() {
                break;
            }
            let probe: Vec<Vec<u8>> = ids
                .iter()
                .flat_map(|id| {
                    terms.iter().map(move |t| {
                        let mut k = t.clone();
                        k.extend_from_slice(id.as_bytes());
                        k
                    })
                })
                .collect();
            let found = self.store.get_many(&probe).await?;
            let per = terms.len().max(1);
            ids = ids
                .into_iter()
                .zip(found.chunks(per))
                .filter(|(_, hits)| hits.iter().any(Option::is_some))
                .map(|(id, _)| id)
                .collect();
        }
        Ok(ids)
    }

    /// The ids of a raw candidate set after `after`, in id order.
    fn ids_after(
        &self,
        raw: BTreeSet<[u8; 16]>,
        after: Option<AuthorityId>,
    ) -> Result<Vec<AuthorityId>, EngineError> {
        let ids = raw
            .into_iter()
            .map(|b| {
                AuthorityId::from_uuid(uuid::Uuid::from_bytes(b))
                    .map_err(|_| super::corrupt_index(&b))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ids
            .into_iter()
            .filter(|id| after.is_none_or(|a| *id > a))
            .collect())
    }

    /// The rarest of `words` and its matches, when one has at most 1 024 (probing 64
    /// first); `None` when every word is more common than that.
    async fn rarest_within(
        &self,
        space: keys::Space,
        words: &[String],
    ) -> Result<Option<(String, BTreeSet<[u8; 16]>)>, EngineError> {
        let mut unique: Vec<&String> = words.iter().collect();
        unique.sort();
        unique.dedup();
        for cap in [64, 1_024] {
            for word in &unique {
                if let Some(ids) = self.ids_with_term(space, word, cap).await? {
                    return Ok(Some(((*word).clone(), ids)));
                }
            }
        }
        Ok(None)
    }

    /// Every authority id under an index prefix, in id order.
    async fn all_ids_under(&self, prefix: &[u8]) -> Result<Vec<AuthorityId>, EngineError> {
        let scan = Scan::prefix(prefix, 4_096);
        let mut ids = BTreeSet::new();
        let mut pages = self.store.pages(scan);
        while let Some(entries) = pages.next().await? {
            for e in &entries {
                ids.insert(self.id_from_index(&e.key)?);
            }
        }
        Ok(ids.into_iter().collect())
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
