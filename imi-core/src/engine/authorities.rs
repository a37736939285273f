//! Registering and maintaining authorities and coordinators.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Engine, PublicAuthority, corrupt_index};
use crate::access::{Action, Actor, Target, decide};
use crate::audit::AuditAction;
use crate::authority::{
    Authority, AuthorityStatus, AuthorityUpdate, CoordinatorRole, NewAuthority, Region,
};
use crate::catalogue::{AreaId, ProcedureId};
use crate::country::Participant;
use crate::error::{EngineError, StateError};
use crate::fold::{fold, tokens};
use crate::ids::{AuthorityId, UserId};
use crate::keys;
use crate::page::{Cursor, Page, PageRequest};
use crate::record::Txn;
use crate::store::{Scan, Version};
use crate::user::SecretToken;

/// An invitation to self-register: the part of the national structure the new
/// authority will belong to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    /// The country.
    pub participant: Participant,
    /// The region, if the authority must be in one.
    pub region: Option<Region>,
    /// The areas it may declare competences in; empty: any.
    pub areas: BTreeSet<AreaId>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredInvitation {
    invitation: Invitation,
    invited_by: Option<UserId>,
    used_by: Option<AuthorityId>,
}

/// A coordinator's decision on a self-registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Approve: the authority becomes active.
    Approve,
    /// Reject, saying why.
    Reject {
        /// The reason, shown to the applicant.
        reason: String,
    },
}

/// Which policy action a change of an authority is.
#[derive(Clone, Copy)]
enum Change {
    Validate,
    Update,
    Deregister,
}

/// The policy's view of an authority; `areas` is passed in because
/// [`Authority::areas`] builds a new set that must outlive the target.
fn target<'a>(a: &'a Authority, areas: &'a BTreeSet<AreaId>) -> Target<'a> {
    Target {
        id: Some(a.id()),
        participant: a.participant(),
        region: a.region(),
        areas,
    }
}

/// Every index entry an authority should have in its current state.
fn index_keys(a: &Authority) -> BTreeSet<Vec<u8>> {
    let code = a.participant().code();
    let mut keys = BTreeSet::new();
    keys.insert(keys::authority_by_participant(code, a.id()));
    let listed = matches!(
        a.status(),
        AuthorityStatus::Active | AuthorityStatus::PendingValidation
    );
    if listed {
        for (_, name) in a.name().iter() {
            keys.insert(keys::authority_name(code, &fold(name), Some(a.id())));
        }
    }
    if *a.status() == AuthorityStatus::PendingValidation {
        keys.insert(keys::pending_registration(code, Some(a.id())));
    }
    if a.is_active() {
        let words = a.name().iter().map(|(_, t)| t).chain(a.acronym()).chain(
            a.competences()
                .iter()
                .flat_map(|c| c.keywords.iter().map(String::as_str)),
        );
        for word in words.flat_map(tokens) {
            keys.insert(keys::term(
                keys::Space::DirectoryTerm,
                &word,
                Some(a.id().as_bytes()),
            ));
        }
        for p in a.procedures() {
            keys.insert(keys::directory_procedure(
                p.as_str(),
                Some(code),
                Some(a.id()),
            ));
        }
    }
    keys
}

/// Writes an authority and brings its index entries from `old`'s state to its own; a
/// change of its public entry goes into the syndication feed at `at`.
fn write_authority(
    txn: &mut Txn<'_>,
    a: &Authority,
    old: Option<&Authority>,
    at: DateTime<Utc>,
) -> Result<(), EngineError> {
    txn.put(keys::authority(a.id()), a)?;
    if PublicAuthority::of(a) != old.and_then(PublicAuthority::of) {
        txn.put_index(keys::directory_change(at.timestamp_millis(), Some(a.id())));
    }
    let new_keys = index_keys(a);
    let old_keys = old.map(index_keys).unwrap_or_default();
    for k in old_keys.difference(&new_keys) {
        txn.delete(k.clone());
    }
    for k in new_keys.difference(&old_keys) {
        txn.put_index(k.clone());
    }
    Ok(())
}

/// **Authorities and national structures**: registration (direct, by invitation, self-registration and validation), coordinators, procedure access, deregistration.
impl Engine {
    /// Authorities of `participant` whose name folds to the same text as one of `new`'s
    /// names (registered or waiting for validation): likely duplicates.
    async fn likely_duplicates(&self, new: &NewAuthority) -> Result<Vec<AuthorityId>, EngineError> {
        let mut found = BTreeSet::new();
        for (_, name) in new.name.iter() {
            let prefix = keys::authority_name(new.participant.code(), &fold(name), None);
            let page = self.store.scan(&Scan::prefix(&prefix, 20)).await?;
            for e in page.entries {
                found.insert(self.id_from_index(&e.key)?);
            }
        }
        Ok(found.into_iter().collect())
    }

    pub(crate) fn id_from_index(&self, key: &[u8]) -> Result<AuthorityId, EngineError> {
        keys::trailing_id(key)
            .and_then(|b| AuthorityId::from_uuid(uuid::Uuid::from_bytes(b)).ok())
            .ok_or_else(|| corrupt_index(key))
    }

    async fn create_authority(
        &self,
        actor: &Actor,
        new: NewAuthority,
        status: AuthorityStatus,
        extra: impl FnOnce(&mut Txn<'_>, &Authority) -> Result<(), EngineError>,
    ) -> Result<Authority, EngineError> {
        new.validate()?;
        if !new.confirmed_not_duplicate {
            let candidates = self.likely_duplicates(&new).await?;
            if !candidates.is_empty() {
                return Err(EngineError::LikelyDuplicate { candidates });
            }
        }
        let now = self.now();
        let authority = Authority::register(self.ids.authority(now), new, status, now)?;
        let mut txn = Txn::new(&*self.store);
        txn.expect_absent(keys::authority(authority.id()));
        write_authority(&mut txn, &authority, None, now)?;
        extra(&mut txn, &authority)?;
        self.audit(
            &mut txn,
            actor,
            AuditAction::ChangeAuthority {
                authority: authority.id(),
                change: "register".to_owned(),
            },
            Self::admin_purpose(actor),
        )?;
        txn.commit().await?;
        Ok(authority)
    }

    /// Registers a competent authority directly (a coordinator whose scope covers it, or
    /// the system); it is active at once.
    ///
    /// Refuses with [`EngineError::LikelyDuplicate`] when an authority of the same country
    /// has the same name (ignoring case, accents and punctuation), unless
    /// `confirmed_not_duplicate` is set. Document and indexes go in one commit.
    pub async fn register_authority(
        &self,
        actor: &Actor,
        new: NewAuthority,
    ) -> Result<Authority, EngineError> {
        let areas = new.areas();
        let t = Target {
            id: None,
            participant: new.participant,
            region: new.region.as_ref(),
            areas: &areas,
        };
        decide(actor, &Action::RegisterAuthority(t)).into_result()?;
        self.create_authority(actor, new, AuthorityStatus::Active, |_, _| Ok(()))
            .await
    }

    /// Invites an authority to register itself; returns the secret to send it. The
    /// self-registration will wait for validation by a coordinator covering it.
    pub async fn invite_authority(
        &self,
        actor: &Actor,
        invitation: Invitation,
    ) -> Result<SecretToken, EngineError> {
        let t = Target {
            id: None,
            participant: invitation.participant,
            region: invitation.region.as_ref(),
            areas: &invitation.areas,
        };
        decide(actor, &Action::InviteAuthority(t)).into_result()?;
        let secret = SecretToken::from_bytes(&self.ids.secret()?);
        let stored = StoredInvitation {
            invitation,
            invited_by: match actor {
                Actor::User(p) => Some(p.user()),
                Actor::System | Actor::Public => None,
            },
            used_by: None,
        };
        let mut txn = Txn::new(&*self.store);
        txn.create(keys::invitation(&secret.hash().0), &stored)?;
        txn.commit().await?;
        Ok(secret)
    }

    /// Registers an authority with an invitation secret. The authority waits for
    /// validation; the invitation cannot be used again. It must stay inside the
    /// invitation's country, region and areas.
    pub async fn self_register(
        &self,
        secret: &SecretToken,
        new: NewAuthority,
    ) -> Result<Authority, EngineError> {
        let key = keys::invitation(&secret.hash().0);
        let mut txn = Txn::new(&*self.store);
        let Some((mut stored, _)) = txn.get::<StoredInvitation>(&key).await? else {
            return Err(EngineError::InvitationInvalid);
        };
        if stored.used_by.is_some() {
            return Err(EngineError::InvitationInvalid);
        }
        let inv = &stored.invitation;
        let mismatch = if new.participant != inv.participant {
            Some("the authority must belong to the invited country")
        } else if inv.region.is_some() && new.region != inv.region {
            Some("the authority must be in the invited region")
        } else if !inv.areas.is_empty() && !new.areas().is_subset(&inv.areas) {
            Some("the authority's competences must stay within the invited areas")
        } else {
            None
        };
        if let Some(reason) = mismatch {
            return Err(EngineError::InvitationMismatch { reason });
        }
        if !new.confirmed_not_duplicate {
            let candidates = self.likely_duplicates(&new).await?;
            if !candidates.is_empty() {
                return Err(EngineError::LikelyDuplicate { candidates });
            }
        }
        let now = self.now();
        let authority = Authority::register(
            self.ids.authority(now),
            new,
            AuthorityStatus::PendingValidation,
            now,
        )?;
        stored.used_by = Some(authority.id());
        txn.put(key, &stored)?;
        txn.expect_absent(keys::authority(authority.id()));
        write_authority(&mut txn, &authority, None, now)?;
        self.audit(
            &mut txn,
            &Actor::Public,
            AuditAction::ChangeAuthority {
                authority: authority.id(),
                change: "self-register".to_owned(),
            },
            Self::admin_purpose(&Actor::Public),
        )?;
        // Coordinators validate it: tell the administrators of the country's national
        // coordinator and of the coordinator whose user invited it.
        let slot = keys::national_coordinator(authority.participant().code());
        let national = txn
            .get_raw(&slot)
            .await?
            .and_then(|v| <[u8; 16]>::try_from(v.as_slice()).ok())
            .and_then(|b| AuthorityId::from_uuid(uuid::Uuid::from_bytes(b)).ok());
        let inviter = match stored.invited_by {
            Some(user) => self
                .load::<crate::user::User>(&keys::user(user), UserId::KIND, &user)
                .await
                .ok()
                .map(|u| u.authority()),
            None => None,
        };
        self.announce(
            &mut txn,
            crate::outbox::Topic::RegistrationAwaitingValidation,
            crate::outbox::Subject::Authority {
                authority: authority.id(),
            },
            None,
            national
                .into_iter()
                .chain(inviter)
                .map(|a| crate::outbox::Audience {
                    authority: a,
                    right: crate::catalogue::Right::Administrator,
                }),
        )?;
        txn.commit().await?;
        Ok(authority)
    }

    /// Loads an authority inside `txn` (recording the read), or `NotFound`.
    async fn authority_in(
        &self,
        txn: &mut Txn<'_>,
        id: AuthorityId,
    ) -> Result<Authority, EngineError> {
        txn.get::<Authority>(&keys::authority(id))
            .await?
            .map(|(a, _)| a)
            .ok_or_else(|| EngineError::NotFound {
                kind: AuthorityId::KIND,
                id: id.to_string(),
            })
    }

    /// Reads an authority, asks the policy with its facts, lets `change` modify it, and
    /// writes it back with its indexes in one commit that fails if it changed meanwhile.
    async fn change_authority(
        &self,
        actor: &Actor,
        id: AuthorityId,
        action: Change,
        change: impl FnOnce(&mut Authority, &mut Txn<'_>) -> Result<(), EngineError>,
    ) -> Result<Authority, EngineError> {
        self.change_authority_if(actor, id, action, None, change)
            .await
            .map(|(a, _)| a)
    }

    /// [`Self::change_authority`] that also checks the version the caller last read
    /// (`If-Match`), and returns the new version.
    async fn change_authority_if(
        &self,
        actor: &Actor,
        id: AuthorityId,
        action: Change,
        if_match: Option<Version>,
        change: impl FnOnce(&mut Authority, &mut Txn<'_>) -> Result<(), EngineError>,
    ) -> Result<(Authority, Version), EngineError> {
        let mut txn = Txn::new(&*self.store);
        let Some((old, current)) = txn.get::<Authority>(&keys::authority(id)).await? else {
            return Err(EngineError::NotFound {
                kind: AuthorityId::KIND,
                id: id.to_string(),
            });
        };
        let areas = old.areas();
        let t = target(&old, &areas);
        let kind = action;
        let action = match action {
            Change::Validate => Action::ValidateRegistration(t),
            Change::Update => Action::UpdateAuthority(t),
            Change::Deregister => Action::DeregisterAuthority(t),
        };
        decide(actor, &action).into_result()?;
        if let Some(expected) = if_match
            && expected != current
        {
            return Err(EngineError::VersionMismatch { expected, current });
        }
        let mut new = old.clone();
        change(&mut new, &mut txn)?;
        write_authority(&mut txn, &new, Some(&old), self.now())?;
        let what = match kind {
            Change::Validate => "validate",
            Change::Update => "update",
            Change::Deregister => "deregister",
        };
        self.audit(
            &mut txn,
            actor,
            AuditAction::ChangeAuthority {
                authority: id,
                change: what.to_owned(),
            },
            Self::admin_purpose(actor),
        )?;
        let version = txn.commit().await?;
        Ok((new, version))
    }

    /// Approves or rejects a self-registration (a coordinator covering it).
    pub async fn validate_registration(
        &self,
        actor: &Actor,
        id: AuthorityId,
        verdict: Verdict,
    ) -> Result<Authority, EngineError> {
        self.change_authority(actor, id, Change::Validate, |a, _| {
            if *a.status() != AuthorityStatus::PendingValidation {
                return Err(StateError::new(
                    "validate a registration",
                    a.status().name(),
                    "pending-validation",
                )
                .into());
            }
            match verdict {
                Verdict::Approve => a.set_status(AuthorityStatus::Active),
                Verdict::Reject { reason } => {
                    if reason.trim().is_empty() {
                        return Err(crate::authority::AuthorityInputError::Blank {
                            field: "rejection reason",
                        }
                        .into());
                    }
                    a.set_status(AuthorityStatus::Rejected { reason });
                }
            }
            Ok(())
        })
        .await
    }

    /// Changes an authority's directory data (its administrator, or a coordinator
    /// covering it). Competences must stay inside a scoped coordinator's areas: the policy
    /// checks the authority as it is before and after the change.
    pub async fn update_authority(
        &self,
        actor: &Actor,
        id: AuthorityId,
        update: AuthorityUpdate,
    ) -> Result<Authority, EngineError> {
        self.update_authority_if(actor, id, update, None)
            .await
            .map(|(a, _)| a)
    }

    /// [`Self::update_authority`], refused with [`EngineError::VersionMismatch`] unless
    /// the authority is still at `if_match` (when given); returns the new version.
    pub async fn update_authority_if(
        &self,
        actor: &Actor,
        id: AuthorityId,
        update: AuthorityUpdate,
        if_match: Option<Version>,
    ) -> Result<(Authority, Version), EngineError> {
        let updated = self
            .change_authority_if(actor, id, Change::Update, if_match, |a, _| {
                if !a.is_active() {
                    return Err(StateError::new(
                        "change an authority",
                        a.status().name(),
                        "active",
                    )
                    .into());
                }
                Ok(a.apply(update)?)
            })
            .await?;
        Ok(updated)
    }

    /// Deregisters an authority. Its record, history and open cases stay; it leaves the
    /// search index and can no longer be chosen as a recipient, and its users can no
    /// longer sign in.
    pub async fn deregister_authority(
        &self,
        actor: &Actor,
        id: AuthorityId,
        reason: &str,
    ) -> Result<Authority, EngineError> {
        let at = self.now();
        self.change_authority(actor, id, Change::Deregister, |a, txn| {
            if matches!(a.status(), AuthorityStatus::Deregistered { .. }) {
                return Err(StateError::new(
                    "deregister an authority",
                    a.status().name(),
                    "active",
                )
                .into());
            }
            if let Some(CoordinatorRole::National) = a.coordinator()
                && let Some(country) = a.participant().country()
            {
                txn.delete(keys::national_coordinator(country.code()));
            }
            a.set_coordinator(None);
            a.set_status(AuthorityStatus::Deregistered {
                at,
                reason: reason.to_owned(),
            });
            Ok(())
        })
        .await
    }

    /// Makes an active authority a coordinator. A country has exactly one national
    /// coordinator (appointed by the system; a second one is refused); further
    /// coordinators, scoped to areas and/or regions, are appointed by the national
    /// coordinator. `None` removes the role.
    pub async fn appoint_coordinator(
        &self,
        actor: &Actor,
        id: AuthorityId,
        role: Option<CoordinatorRole>,
    ) -> Result<Authority, EngineError> {
        let mut txn = Txn::new(&*self.store);
        let old = self.authority_in(&mut txn, id).await?;
        let areas = old.areas();
        let action = match (&role, old.coordinator()) {
            (Some(CoordinatorRole::National), _) | (None, Some(CoordinatorRole::National)) => {
                Action::AppointNationalCoordinator(old.participant())
            }
            _ => Action::AppointScopedCoordinator(target(&old, &areas)),
        };
        decide(actor, &action).into_result()?;
        if !old.is_active() {
            return Err(
                StateError::new("appoint a coordinator", old.status().name(), "active").into(),
            );
        }
        let country = old
            .participant()
            .country()
            .ok_or(EngineError::NotACountry)?;
        let slot = keys::national_coordinator(country.code());
        match (&role, old.coordinator()) {
            (Some(CoordinatorRole::National), Some(CoordinatorRole::National)) => {}
            (Some(CoordinatorRole::National), _) => {
                txn.expect_absent(slot.clone());
                txn.put_raw(slot, old.id().as_bytes().to_vec());
            }
            (_, Some(CoordinatorRole::National)) => txn.delete(slot),
            _ => {}
        }
        let mut new = old.clone();
        new.set_coordinator(role);
        write_authority(&mut txn, &new, Some(&old), self.now())?;
        self.audit(
            &mut txn,
            actor,
            AuditAction::ChangeAuthority {
                authority: id,
                change: "appoint-coordinator".to_owned(),
            },
            Self::admin_purpose(actor),
        )?;
        match txn.commit().await {
            Err(EngineError::Conflict(_))
                if matches!(new.coordinator(), Some(CoordinatorRole::National)) =>
            {
                match self
                    .store
                    .get(&keys::national_coordinator(country.code()))
                    .await?
                {
                    Some(_) => Err(EngineError::NationalCoordinatorExists { country }),
                    None => Err(EngineError::Conflict(crate::store::StoreError::Conflict {
                        key: crate::store::KeyDisplay::from(&keys::authority(id)[..]),
                        expected: crate::store::Precondition::Present,
                        found: None,
                    })),
                }
            }
            other => other.map(|_| new),
        }
    }

    /// Gives an authority access to a procedure (a coordinator covering it, whose areas
    /// include the procedure's). Only authorities with access are offered as recipients.
    pub async fn grant_procedure(
        &self,
        actor: &Actor,
        id: AuthorityId,
        procedure: &ProcedureId,
    ) -> Result<Authority, EngineError> {
        let catalogue = self.catalogue();
        let area = catalogue
            .procedure(procedure)
            .map(|p| p.area.clone())
            .ok_or_else(|| EngineError::NotFound {
                kind: ProcedureId::KIND,
                id: procedure.to_string(),
            })?;
        let mut txn = Txn::new(&*self.store);
        let old = self.authority_in(&mut txn, id).await?;
        let areas = old.areas();
        decide(
            actor,
            &Action::GrantProcedure {
                target: target(&old, &areas),
                area: &area,
            },
        )
        .into_result()?;
        if !old.is_active() {
            return Err(StateError::new("grant a procedure", old.status().name(), "active").into());
        }
        let mut new = old.clone();
        new.grant_procedure(procedure.clone());
        write_authority(&mut txn, &new, Some(&old), self.now())?;
        self.audit(
            &mut txn,
            actor,
            AuditAction::ChangeAuthority {
                authority: id,
                change: "grant-procedure".to_owned(),
            },
            Self::admin_purpose(actor),
        )?;
        txn.commit().await?;
        Ok(new)
    }

    /// Takes a procedure away from an authority.
    pub async fn revoke_procedure(
        &self,
        actor: &Actor,
        id: AuthorityId,
        procedure: &ProcedureId,
    ) -> Result<Authority, EngineError> {
        let area = self
            .catalogue()
            .procedure(procedure)
            .map(|p| p.area.clone());
        let area = area.ok_or_else(|| EngineError::NotFound {
            kind: ProcedureId::KIND,
            id: procedure.to_string(),
        })?;
        let mut txn = Txn::new(&*self.store);
        let old = self.authority_in(&mut txn, id).await?;
        let areas = old.areas();
        decide(
            actor,
            &Action::GrantProcedure {
                target: target(&old, &areas),
                area: &area,
            },
        )
        .into_result()?;
        let mut new = old.clone();
        new.revoke_procedure(procedure);
        write_authority(&mut txn, &new, Some(&old), self.now())?;
        self.audit(
            &mut txn,
            actor,
            AuditAction::ChangeAuthority {
                authority: id,
                change: "revoke-procedure".to_owned(),
            },
            Self::admin_purpose(actor),
        )?;
        txn.commit().await?;
        Ok(new)
    }

    /// Reads one authority's directory entry with its version (for `ETag`s).
    pub async fn authority_versioned(
        &self,
        actor: &Actor,
        id: AuthorityId,
    ) -> Result<(Authority, Version), EngineError> {
        decide(actor, &Action::ReadDirectory).into_result()?;
        self.authorities_cached(&[id])
            .await?
            .pop()
            .flatten()
            .ok_or_else(|| EngineError::NotFound {
                kind: AuthorityId::KIND,
                id: id.to_string(),
            })
    }

    /// Reads one authority's directory entry (any registered user).
    pub async fn authority(
        &self,
        actor: &Actor,
        id: AuthorityId,
    ) -> Result<Authority, EngineError> {
        decide(actor, &Action::ReadDirectory).into_result()?;
        self.authority_cached(id)
            .await?
            .ok_or_else(|| EngineError::NotFound {
                kind: AuthorityId::KIND,
                id: id.to_string(),
            })
    }

    /// The national coordinator of a country, if appointed.
    pub async fn national_coordinator(
        &self,
        actor: &Actor,
        country: crate::country::Country,
    ) -> Result<Option<Authority>, EngineError> {
        decide(actor, &Action::ReadDirectory).into_result()?;
        let Some(v) = self
            .store
            .get(&keys::national_coordinator(country.code()))
            .await?
        else {
            return Ok(None);
        };
        let id = <[u8; 16]>::try_from(v.value.as_slice())
            .ok()
            .and_then(|b| AuthorityId::from_uuid(uuid::Uuid::from_bytes(b)).ok())
            .ok_or_else(|| corrupt_index(&keys::national_coordinator(country.code())))?;
        self.authority(actor, id).await.map(Some)
    }

    /// Lists the authorities of one country (or the Commission), in registration order,
    /// one page at a time; every status is listed.
    pub async fn authorities_of(
        &self,
        actor: &Actor,
        participant: Participant,
        page: PageRequest,
    ) -> Result<Page<Authority>, EngineError> {
        decide(actor, &Action::ReadDirectory).into_result()?;
        let prefix = keys::authorities_of_participant(participant.code());
        self.authorities_by_index(&prefix, page).await
    }

    /// Self-registrations waiting in `participant` that `actor` may validate.
    pub async fn pending_registrations(
        &self,
        actor: &Actor,
        participant: Participant,
        page: PageRequest,
    ) -> Result<Page<Authority>, EngineError> {
        let prefix = keys::pending_registration(participant.code(), None);
        let mut found = self.authorities_by_index(&prefix, page).await?;
        found.items.retain(|a| {
            let areas = a.areas();
            decide(actor, &Action::ValidateRegistration(target(a, &areas))).is_allowed()
        });
        Ok(found)
    }

    /// One page of authorities from an index whose keys end in authority ids.
    pub(crate) async fn authorities_by_index(
        &self,
        prefix: &[u8],
        page: PageRequest,
    ) -> Result<Page<Authority>, EngineError> {
        let mut scan = Scan::prefix(prefix, page.limit());
        if let Some(cursor) = page.cursor() {
            scan = scan.resume(cursor.key_within(prefix)?);
        }
        let found = self.store.scan(&scan).await?;
        let ids = found
            .entries
            .iter()
            .map(|e| self.id_from_index(&e.key))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page {
            items: self.authorities_by_id(&ids).await?,
            next: found.continuation.map(Cursor::from_key),
        })
    }

    /// Loads authorities by id, in the given order.
    pub(crate) async fn authorities_by_id(
        &self,
        ids: &[AuthorityId],
    ) -> Result<Vec<Authority>, EngineError> {
        let docs = self.authorities_cached(ids).await?;
        ids.iter()
            .zip(docs)
            .map(|(id, doc)| {
                doc.map(|(a, _)| a)
                    .ok_or_else(|| corrupt_index(&keys::authority(*id)))
            })
            .collect()
    }
}
