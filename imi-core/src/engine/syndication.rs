//! Syndication: the public part of the directory, for reuse by other systems and
//! websites, and a feed of its changes.
//!
//! Only active authorities are published, and only their public data: names, acronym,
//! contact details, languages, region, competences, procedures and whether they
//! coordinate. Never users, never pending or rejected applicants.
//!
//! JSON shape of a [`PublicAuthority`] (field names as serialised):
//!
//! ```text
//! { "id": "<uuid>", "participant": "DK", "name": {"source": "da", "texts": {"da": "…", "en": "…"}},
//!   "acronym": null | "…", "contact": {"email"?, "phone"?, "address"?, "website"?},
//!   "languages": ["da", …], "region": null | "DK01",
//!   "competences": [{"area": "<area id>", "keywords": ["…"]}], "procedures": ["<procedure id>"],
//!   "coordinator": false, "registered_at": "<RFC 3339>" }
//! ```
//!
//! A [`DirectoryChange`] is `{ "at": "<RFC 3339>", "authority": "<uuid>", "entry":
//! PublicAuthority | null }`: `null` means the authority left the public directory.

use std::collections::BTreeSet;

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use super::{Engine, corrupt_index};
use crate::access::{Action, Actor, decide};
use crate::authority::{Authority, Competence, ContactDetails, Region};
use crate::catalogue::ProcedureId;
use crate::country::Participant;
use crate::error::EngineError;
use crate::ids::AuthorityId;
use crate::keys;
use crate::language::Language;
use crate::localised::LocalisedText;
use crate::page::{Cursor, Page, PageRequest};
use crate::record::decode;
use crate::store::{Scan, StoreExt};

/// The public directory entry of an active authority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicAuthority {
    /// Its id.
    pub id: AuthorityId,
    /// Its country (or the Commission).
    pub participant: Participant,
    /// Its name in every language it has.
    pub name: LocalisedText,
    /// Its short name.
    pub acronym: Option<String>,
    /// How to reach it.
    pub contact: ContactDetails,
    /// The languages it works in.
    pub languages: Vec<Language>,
    /// Its region.
    pub region: Option<Region>,
    /// What it is competent for.
    pub competences: Vec<Competence>,
    /// The procedures it takes part in.
    pub procedures: BTreeSet<ProcedureId>,
    /// Whether it is an IMI coordinator.
    pub coordinator: bool,
    /// When it was registered.
    pub registered_at: DateTime<Utc>,
}

impl PublicAuthority {
    /// The public entry of `a`, if it is active.
    pub fn of(a: &Authority) -> Option<Self> {
        a.is_active().then(|| Self {
            id: a.id(),
            participant: a.participant(),
            name: a.name().clone(),
            acronym: a.acronym().map(str::to_owned),
            contact: a.contact().clone(),
            languages: a.languages().to_vec(),
            region: a.region().cloned(),
            competences: a.competences().to_vec(),
            procedures: a.procedures().clone(),
            coordinator: a.coordinator().is_some(),
            registered_at: a.registered_at(),
        })
    }
}

/// One change of the public directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryChange {
    /// When it changed.
    pub at: DateTime<Utc>,
    /// Which authority.
    pub authority: AuthorityId,
    /// Its current public entry; `None` when it is no longer in the public directory.
    pub entry: Option<PublicAuthority>,
}

/// **Syndication**: the public directory and its change feed.
impl Engine {
    /// Searches the public directory: the search of [`Engine::search_directory`] (words,
    /// country, region, area, procedure, competence), open to anyone including
    /// [`Actor::Public`], each hit reduced to its public entry. This is how a citizen finds
    /// the authority competent for their case.
    pub async fn search_public_directory(
        &self,
        query: &super::DirectoryQuery,
        reader: &crate::LanguagePreferences,
        page: PageRequest,
    ) -> Result<Page<PublicAuthority>, EngineError> {
        decide(&Actor::Public, &Action::ReadPublicDirectory).into_result()?;
        let found = self
            .search_directory(&Actor::System, query, reader, page)
            .await?;
        Ok(Page {
            items: found
                .items
                .iter()
                .filter_map(|h| PublicAuthority::of(&h.authority))
                .collect(),
            next: found.next,
        })
    }

    /// One page of the public directory (active authorities, by id). Allowed to anyone,
    /// including [`Actor::Public`].
    pub async fn syndication_export(
        &self,
        actor: &Actor,
        page: PageRequest,
    ) -> Result<Page<PublicAuthority>, EngineError> {
        decide(actor, &Action::ReadPublicDirectory).into_result()?;
        let prefix = keys::authority_prefix();
        let mut scan = Scan::prefix(&prefix, page.limit());
        if let Some(cursor) = page.cursor() {
            scan = scan.resume(cursor.key_within(&prefix)?);
        }
        // Inactive authorities are skipped, so a page may take several reads.
        let mut items = Vec::with_capacity(page.limit());
        let mut pages = self.store.pages(scan);
        while let Some(entries) = pages.next().await? {
            for e in entries {
                let a: Authority = decode(&e.key, &e.value)?;
                if let Some(public) = PublicAuthority::of(&a) {
                    items.push(public);
                    if items.len() == page.limit() {
                        return Ok(Page {
                            items,
                            next: Some(Cursor::from_key(e.key)),
                        });
                    }
                }
            }
        }
        Ok(Page { items, next: None })
    }

    /// Changes of the public directory since `since` (inclusive), oldest first, one page
    /// at a time. An authority may appear more than once; each entry carries its current
    /// public state.
    pub async fn directory_changes(
        &self,
        actor: &Actor,
        since: DateTime<Utc>,
        page: PageRequest,
    ) -> Result<Page<DirectoryChange>, EngineError> {
        decide(actor, &Action::ReadPublicDirectory).into_result()?;
        let prefix = keys::directory_changes();
        let mut scan = Scan::prefix(&prefix, page.limit());
        scan.start =
            std::ops::Bound::Included(keys::directory_change(since.timestamp_millis(), None));
        if let Some(cursor) = page.cursor() {
            scan = scan.resume(cursor.key_within(&prefix)?);
        }
        let found = self.store.scan(&scan).await?;
        let ids = found
            .entries
            .iter()
            .map(|e| self.id_from_index(&e.key))
            .collect::<Result<Vec<_>, _>>()?;
        let docs = self.authorities_by_id(&ids).await?;
        let mut items = Vec::with_capacity(docs.len());
        for (e, a) in found.entries.iter().zip(docs) {
            let ms = keys::directory_change_time(&e.key).ok_or_else(|| corrupt_index(&e.key))?;
            let at = Utc
                .timestamp_millis_opt(ms)
                .single()
                .ok_or_else(|| corrupt_index(&e.key))?;
            items.push(DirectoryChange {
                at,
                authority: a.id(),
                entry: PublicAuthority::of(&a),
            });
        }
        Ok(Page {
            items,
            next: found.continuation.map(Cursor::from_key),
        })
    }
}
