//! The [`Engine`]: the one facade embedders use.
//!
//! Its methods are grouped by concern: `authorities.rs` (registration, coordinators,
//! procedure access), `users.rs` (users, rights, tokens, authentication), `directory.rs`
//! (search, registers, syndication); the catalogue lives here.

mod alerts;
mod archive;
mod attachments;
mod audit;
mod authorities;
mod cases;
mod directory;
mod erasure;
mod flow;
mod holders;
mod indicators;
mod integrity;
mod layout;
#[cfg(feature = "load")]
mod load;
mod notifications;
mod outbox;
mod principals;
mod registers;
mod repositories;
mod requests;
mod sessions;
pub(crate) mod solvit;
mod subjects;
mod submissions;
pub(crate) mod survey;
mod syndication;
mod tick;
mod tokens;
mod translation;
mod unblocking;
mod users;

pub use alerts::{AlertBox, AlertCase, AlertNetwork, AlertTimelineEntry, AlertView};
pub use archive::{ArchivedExchange, ExchangeKind, ExchangeQuery};
pub use attachments::AttachmentReader;
pub use authorities::{Invitation, Verdict};
pub use directory::{DirectoryHit, DirectoryQuery, MAX_CANDIDATES};
pub use indicators::Indicator;
pub use integrity::IntegrityReport;
pub use notifications::{NotificationBox, NotificationCase, NotificationTimelineEntry};
pub use outbox::{DispatchReport, MAX_ATTEMPTS, MAX_WEBHOOKS};
pub use principals::DEFAULT_PRINCIPAL_TTL;
pub use registers::{RegisterHit, RegisterQuery};
pub use repositories::RecordQuery;
pub use requests::InboxQuery;
pub use submissions::{
    LabelledAnswer, MessageFrom, MessageKind, NewSubmission, PublicActor, PublicTimelineEntry,
    SubmissionCase, SubmissionExport, SubmissionMessage, SubmissionReceipt, SubmissionStatus,
    SubmissionTimelineEntry,
};
pub use syndication::{DirectoryChange, PublicAuthority};
pub use tick::TickReport;
pub use unblocking::{MAX_UNBLOCK_DAYS, Unblock};

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use crate::access::{Action, Actor, decide};
use crate::catalogue::{
    Answers, Catalogue, ProcedureId, QuestionSetId, QuestionSetVersion, ValidationLevel,
};
use crate::clock::Clock;
use crate::error::EngineError;
use crate::ids::IdGenerator;
use crate::record::decode;
use crate::store::{KeyDisplay, Store, StoreExt};

/// The engine: holds a store, a clock and an id generator, and runs every operation
/// through the access policy.
///
/// Cheap to share: wrap it in an `Arc` and call it from many tasks at once. Every method
/// takes the acting [`Actor`] first.
pub struct Engine {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    ids: IdGenerator,
    catalogue: RwLock<Arc<Catalogue>>,
    translator: Option<Arc<dyn crate::translate::Translator>>,
    /// Orders this engine's audit records within one millisecond.
    audit_counter: std::sync::atomic::AtomicU64,
    /// Case reference numbers reserved and not yet used.
    references: requests::ReferenceBlocks,
    /// Acting users by token and by id, invalidated by the store's watch.
    principals: Arc<principals::Principals>,
    /// Whether the store's right-holder index is known to cover every user.
    right_holders_ready: std::sync::atomic::AtomicBool,
    /// Whether the store's inbox entries are known to carry their deadlines (layout 2).
    dated_inbox_ready: std::sync::atomic::AtomicBool,
    /// The key that seals webhook secrets at rest (none: webhooks cannot be registered).
    secret_key: Option<crate::webhook::SecretKey>,
    /// Which endpoints webhooks may call.
    webhook_policy: crate::webhook::UrlPolicy,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

/// **Construction and the catalogue**: building an engine (store, clock, ids, secrets, translator), publishing and reading the catalogue, pinning question sets.
impl Engine {
    /// An engine over `store`, reading time from `clock` (pass `Arc::new(chrono::Utc::now)`
    /// for the system clock, or a [`ManualClock`](crate::clock::ManualClock) in tests).
    /// Ids get random bits from the operating system.
    ///
    /// Authenticated users, authority documents and directory-index lookups are cached
    /// (see [`Engine::with_principal_ttl`]); every commit through this engine that changes
    /// an authority, a user, a token or the directory's term index clears the cache.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        let principals = Arc::new(principals::Principals::new(DEFAULT_PRINCIPAL_TTL));
        Self {
            store: Arc::new(principals::Watched {
                inner: store,
                principals: Arc::clone(&principals),
            }),
            principals,
            clock,
            ids: IdGenerator::random(),
            catalogue: RwLock::new(Arc::new(Catalogue::default())),
            translator: None,
            audit_counter: std::sync::atomic::AtomicU64::new(0),
            references: requests::ReferenceBlocks::default(),
            right_holders_ready: std::sync::atomic::AtomicBool::new(false),
            dated_inbox_ready: std::sync::atomic::AtomicBool::new(false),
            secret_key: None,
            webhook_policy: crate::webhook::UrlPolicy::default(),
        }
    }

    /// The key that seals recoverable secrets (webhook signing secrets) at rest, from the
    /// operator's configuration (keep it outside the store: a copy of the database alone
    /// then reveals no secret). Without one, webhooks cannot be registered.
    #[must_use]
    pub fn with_secret_key(mut self, key: crate::webhook::SecretKey) -> Self {
        self.secret_key = Some(key);
        self
    }

    /// Which endpoints webhooks may call (default: `https://` to public hosts only;
    /// [`UrlPolicy::allow_loopback`](crate::webhook::UrlPolicy) also admits `http://` to
    /// this machine, for a local bridge or tests).
    #[must_use]
    pub fn with_webhook_policy(mut self, policy: crate::webhook::UrlPolicy) -> Self {
        self.webhook_policy = policy;
        self
    }

    /// How long a cached entry (who a token belongs to, a user's rights and authority, an
    /// authority document, a directory-index lookup) is reused without reading the store
    /// again, when nothing changed it through this engine: the longest time a change made
    /// through *another* engine on the same store (another process) can go unseen.
    /// Default [`DEFAULT_PRINCIPAL_TTL`] (2 s); `Duration::ZERO` reads the store every
    /// time. Changes through this engine, or through [`Engine::store`], take effect at
    /// once.
    #[must_use]
    pub fn with_principal_ttl(self, ttl: std::time::Duration) -> Self {
        self.principals.set_ttl(ttl);
        self
    }

    /// Plugs in a machine-translation service for free text. Without one, translation
    /// requests fail with [`EngineError::TranslationUnavailable`].
    #[must_use]
    pub fn with_translator(mut self, translator: Arc<dyn crate::translate::Translator>) -> Self {
        self.translator = Some(translator);
        self
    }

    /// Whether a machine-translation service is plugged in (so pages can offer
    /// "translate").
    pub fn translates(&self) -> bool {
        self.translator.is_some()
    }

    /// The catalogue in force: a snapshot that stays valid while newer versions are
    /// published.
    pub fn catalogue(&self) -> Arc<Catalogue> {
        Arc::clone(
            &self
                .catalogue
                .read()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// Publishes a catalogue: new areas, procedures and question-set versions are added,
    /// changed areas and procedures replaced. A question-set version that is already
    /// published must keep its structure (ids, types, requirements, conditions, source
    /// texts); translations may be added. Nothing changes if any check fails.
    ///
    /// This changes the catalogue in memory only. To keep published versions across
    /// restarts, call [`Engine::restore_question_sets`] before and
    /// [`Engine::persist_question_sets`] after publishing at start-up.
    pub fn publish_catalogue(&self, actor: &Actor, newer: Catalogue) -> Result<(), EngineError> {
        decide(actor, &Action::PublishCatalogue).into_result()?;
        let mut slot = self
            .catalogue
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let mut merged = Catalogue::clone(&slot);
        merged.merge(newer)?;
        *slot = Arc::new(merged);
        Ok(())
    }

    /// Writes every published question-set version that the store does not hold yet, so
    /// that cases keep their versions across restarts even when the catalogue files
    /// change. A stored version whose structure differs is refused.
    pub async fn persist_question_sets(&self, actor: &Actor) -> Result<usize, EngineError> {
        decide(actor, &Action::PublishCatalogue).into_result()?;
        let catalogue = self.catalogue();
        let mut written = 0;
        for set in catalogue.question_sets() {
            let key = crate::keys::question_set_version(set.id.as_str(), Some(set.version));
            if let Some(v) = self.store.get(&key).await? {
                let stored: crate::catalogue::QuestionSet = decode(&key, &v.value)?;
                if stored.structure() != set.structure() {
                    return Err(EngineError::Catalogue(crate::catalogue::CatalogueErrors(
                        vec![crate::catalogue::CatalogueProblem {
                            file: format!("question set {}", set.id),
                            line: None,
                            path: "version".into(),
                            issue: crate::catalogue::CatalogueIssue::PublishedVersionChanged {
                                id: set.id.to_string(),
                                version: set.version,
                            },
                        }],
                    )));
                }
                if &stored == set {
                    continue;
                }
            }
            let mut txn = crate::record::Txn::new(&*self.store);
            txn.put(key, set)?;
            txn.commit().await?;
            written += 1;
        }
        Ok(written)
    }

    /// Loads every question-set version ever persisted into the catalogue in force, so
    /// cases find their pinned versions whatever the files hold now. Call it before
    /// publishing the files at start-up.
    pub async fn restore_question_sets(&self, actor: &Actor) -> Result<usize, EngineError> {
        decide(actor, &Action::PublishCatalogue).into_result()?;
        let prefix = crate::keys::question_set_versions();
        let mut pages = self.store.pages(crate::store::Scan::prefix(&prefix, 1_000));
        let mut restored = Catalogue::default();
        let mut count = 0;
        while let Some(entries) = pages.next().await? {
            for e in &entries {
                let set: crate::catalogue::QuestionSet = decode(&e.key, &e.value)?;
                restored
                    .question_sets
                    .entry(set.id.clone())
                    .or_default()
                    .insert(set.version, set);
                count += 1;
            }
        }
        self.publish_catalogue(actor, restored)?;
        Ok(count)
    }

    /// The question-set version a new case of `procedure` is created with: the newest
    /// published one. Cases keep it for their whole life.
    pub fn pin_question_set(
        &self,
        procedure: &ProcedureId,
    ) -> Result<QuestionSetVersion, EngineError> {
        let catalogue = self.catalogue();
        let set = catalogue
            .procedure(procedure)
            .and_then(|p| catalogue.latest_question_set(&p.question_set))
            .ok_or_else(|| EngineError::NotFound {
                kind: ProcedureId::KIND,
                id: procedure.to_string(),
            })?;
        Ok(QuestionSetVersion {
            id: set.id.clone(),
            version: set.version,
        })
    }

    /// Checks answers against a pinned question-set version at `level` (save a draft or
    /// send). Every problem names its question.
    pub fn check_answers(
        &self,
        pinned: &QuestionSetVersion,
        answers: &Answers,
        level: ValidationLevel,
    ) -> Result<(), EngineError> {
        let catalogue = self.catalogue();
        let set = catalogue
            .question_set(&pinned.id, pinned.version)
            .ok_or_else(|| EngineError::NotFound {
                kind: QuestionSetId::KIND,
                id: pinned.to_string(),
            })?;
        Ok(set.validate(answers, level)?)
    }

    /// Replaces the id generator, e.g. with [`IdGenerator::seeded`] for reproducible runs.
    #[must_use]
    pub fn with_ids(mut self, ids: IdGenerator) -> Self {
        self.ids = ids;
        self
    }

    /// The current time by the engine's clock (what deadlines and expiry are measured
    /// against).
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// Reads and decodes one document, or `NotFound`.
    pub(crate) async fn load<T: serde::de::DeserializeOwned>(
        &self,
        key: &[u8],
        kind: &'static str,
        id: &(dyn fmt::Display + Sync),
    ) -> Result<T, EngineError> {
        match self.store.get(key).await? {
            Some(v) => decode(key, &v.value),
            None => Err(EngineError::NotFound {
                kind,
                id: id.to_string(),
            }),
        }
    }

    /// An authority document from the cache, else from the store (then cached); `None`
    /// when there is none. Not for reads whose version a commit checks: those go through
    /// a [`Txn`](crate::record::Txn).
    pub(crate) async fn authority_cached(
        &self,
        id: crate::ids::AuthorityId,
    ) -> Result<Option<crate::authority::Authority>, EngineError> {
        Ok(self
            .authorities_cached(&[id])
            .await?
            .pop()
            .flatten()
            .map(|(a, _)| a))
    }

    /// [`Engine::authority_cached`] for many ids, in their order, each with its version:
    /// the ones not cached in one batched read.
    pub(crate) async fn authorities_cached(
        &self,
        ids: &[crate::ids::AuthorityId],
    ) -> Result<Vec<Option<(crate::authority::Authority, crate::store::Version)>>, EngineError>
    {
        use principals::{Cached, Subject};
        let now = self.now();
        let mut out: Vec<Option<(crate::authority::Authority, crate::store::Version)>> = ids
            .iter()
            .map(
                |id| match self.principals.get(&Subject::Authority(*id), now) {
                    Some(Cached::Authority(a)) => Some(*a),
                    _ => None,
                },
            )
            .collect();
        let missing: Vec<usize> = (0..ids.len()).filter(|i| out[*i].is_none()).collect();
        if missing.is_empty() {
            return Ok(out);
        }
        let generation = self.principals.generation();
        let doc_keys: Vec<Vec<u8>> = missing
            .iter()
            .map(|i| crate::keys::authority(ids[*i]))
            .collect();
        let docs = self.store.get_many(&doc_keys).await?;
        for ((i, key), doc) in missing.into_iter().zip(&doc_keys).zip(docs) {
            if let Some(v) = doc {
                let a: crate::authority::Authority = decode(key, &v.value)?;
                self.principals.put(
                    Subject::Authority(ids[i]),
                    Cached::Authority(Box::new((a.clone(), v.version))),
                    generation,
                    now,
                );
                out[i] = Some((a, v.version));
            }
        }
        Ok(out)
    }

    /// The store the engine runs on.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }
}

/// The workflows on the generic layout whose `due` index `tick` walks (`flow_due`).
pub(super) const FLOWS_WITH_DEADLINES: &[&str] = &[solvit::KIND, survey::KIND];

impl Engine {
    /// A deadline of case `id` of the workflow on the generic layout named `workflow`
    /// came (its `due` index entry is up to today): the workflow does what its deadline
    /// means, in one commit that also moves or removes the entry. Only the names in
    /// [`FLOWS_WITH_DEADLINES`] come here; another is a mistake in this table.
    pub(super) async fn flow_due(
        &self,
        workflow: &str,
        id: crate::ids::CaseId,
        entry: &[u8],
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), EngineError> {
        match workflow {
            solvit::KIND => self.solvit_due(id, entry, now).await,
            survey::KIND => self.survey_due(id, entry, now).await,
            _ => Err(corrupt_index(workflow.as_bytes())),
        }
    }

    /// One retention step for case `id` of the workflow on the generic layout named
    /// `workflow`: the table of such workflows, beside their modules above, and the one
    /// place that maps a name to its document type. An entry naming no workflow (a
    /// damaged key) is dropped with nothing else done, so that it cannot stop retention
    /// of every other case (`tick` removes the entry before it asks).
    pub(super) async fn flow_retention(
        &self,
        txn: &mut crate::record::Txn<'_>,
        workflow: &str,
        id: crate::ids::CaseId,
        delete: bool,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, EngineError> {
        match workflow {
            solvit::KIND => {
                self.case_retention::<solvit::SolvitCase>(txn, id, delete, now)
                    .await
            }
            survey::KIND => {
                let _ = delete;
                self.survey_retention(txn, id, now).await
            }
            _ => Ok(false),
        }
    }
}

pub(crate) fn corrupt_index(key: &[u8]) -> EngineError {
    EngineError::Corrupt {
        key: KeyDisplay::from(key),
        detail: "an index entry points to no valid record".to_owned(),
    }
}
