//! The [`Engine`]: the one facade embedders use.

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use crate::access::{Action, Actor, decide};
use crate::authority::{Authority, NewAuthority};
use crate::catalogue::{
    Answers, Catalogue, ProcedureId, QuestionSetId, QuestionSetVersion, ValidationLevel,
};
use crate::clock::Clock;
use crate::country::Participant;
use crate::error::EngineError;
use crate::ids::{AuthorityId, IdGenerator};
use crate::keys;
use crate::page::{Cursor, Page, PageRequest};
use crate::record::{Txn, decode};
use crate::store::{KeyDisplay, Scan, Store};

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
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// An engine over `store`, reading time from `clock` (pass `Arc::new(chrono::Utc::now)`
    /// for the system clock, or a [`ManualClock`](crate::clock::ManualClock) in tests).
    /// Ids get random bits from the operating system.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            ids: IdGenerator::random(),
            catalogue: RwLock::new(Arc::new(Catalogue::default())),
        }
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
    pub fn publish_catalogue(&self, actor: &Actor, newer: Catalogue) -> Result<(), EngineError> {
        decide(actor, Action::PublishCatalogue).into_result()?;
        let mut slot = self
            .catalogue
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let mut merged = Catalogue::clone(&slot);
        merged.merge(newer)?;
        *slot = Arc::new(merged);
        Ok(())
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

    /// The store the engine runs on.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Registers a competent authority and returns its directory entry.
    ///
    /// The authority document and its index entries are written in one atomic commit.
    pub async fn register_authority(
        &self,
        actor: &Actor,
        new: NewAuthority,
    ) -> Result<Authority, EngineError> {
        decide(
            actor,
            Action::RegisterAuthority {
                participant: new.participant,
            },
        )
        .into_result()?;
        let now = self.clock.now();
        let authority = Authority::register(self.ids.authority(now), new, now)?;
        let mut txn = Txn::new(&*self.store);
        txn.create(keys::authority(authority.id()), &authority)?;
        txn.put_index(keys::authority_by_participant(
            authority.participant().code(),
            authority.id(),
        ));
        txn.commit().await?;
        Ok(authority)
    }

    /// Reads one authority's directory entry.
    pub async fn authority(
        &self,
        actor: &Actor,
        id: AuthorityId,
    ) -> Result<Authority, EngineError> {
        decide(actor, Action::ReadAuthority).into_result()?;
        let key = keys::authority(id);
        match self.store.get(&key).await? {
            Some(v) => decode(&key, &v.value),
            None => Err(EngineError::NotFound {
                kind: AuthorityId::KIND,
                id: id.to_string(),
            }),
        }
    }

    /// Lists the authorities of one country (or the Commission), oldest registration
    /// first, one page at a time.
    pub async fn authorities_of(
        &self,
        actor: &Actor,
        participant: Participant,
        page: PageRequest,
    ) -> Result<Page<Authority>, EngineError> {
        decide(actor, Action::ReadAuthority).into_result()?;
        let prefix = keys::authorities_of_participant(participant.code());
        let mut scan = Scan::prefix(&prefix, page.limit());
        if let Some(cursor) = page.cursor() {
            scan = scan.resume(cursor.key_within(&prefix)?);
        }
        let found = self.store.scan(&scan).await?;
        let mut doc_keys = Vec::with_capacity(found.entries.len());
        for entry in &found.entries {
            let id = keys::trailing_id(&entry.key)
                .and_then(|bytes| AuthorityId::from_uuid(uuid::Uuid::from_bytes(bytes)).ok())
                .ok_or_else(|| corrupt_index(&entry.key))?;
            doc_keys.push(keys::authority(id));
        }
        let docs = self.store.get_many(&doc_keys).await?;
        let mut items = Vec::with_capacity(docs.len());
        for (key, doc) in doc_keys.iter().zip(docs) {
            let doc = doc.ok_or_else(|| corrupt_index(key))?;
            items.push(decode(key, &doc.value)?);
        }
        Ok(Page {
            items,
            next: found.continuation.map(Cursor::from_key),
        })
    }
}

fn corrupt_index(key: &[u8]) -> EngineError {
    EngineError::Corrupt {
        key: KeyDisplay::from(key),
        detail: "an index entry points to no valid record".to_owned(),
    }
}
