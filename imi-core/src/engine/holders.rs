//! Who holds a right in a country, so that nothing is sent where nobody can receive it.
//!
//! The `RightHolder` index lists, per country and right, the users who were given the
//! right; it is written in the commit that changes a user's rights (and cleared when the
//! user is disabled). It is a list of candidates: every read checks the user (active,
//! holding the right for the procedure) and their authority (active, of that country),
//! so an entry left behind by a change elsewhere never counts. Stores made before the
//! index existed get it built once, the first time it is needed.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;

use super::{Engine, corrupt_index};
use crate::access::Principal;
use crate::authority::Authority;
use crate::catalogue::{AreaId, ProcedureId, Right};
use crate::country::Participant;
use crate::error::EngineError;
use crate::ids::UserId;
use crate::keys;
use crate::record::{Txn, decode};
use crate::store::{Scan, StoreExt};
use crate::user::{Grant, User};

/// The metadata entry saying the index covers every user.
const READY: &str = "right-holders";

/// The rights in `grants`, once each.
fn rights(grants: &[Grant]) -> BTreeSet<Right> {
    grants.iter().map(|g| g.right).collect()
}

impl Engine {
    /// Writes `user`'s index entries in `txn`: one per right they hold now (none once
    /// disabled), and removes those of the rights in `before` they no longer hold.
    pub(super) fn index_rights(
        txn: &mut Txn<'_>,
        user: &User,
        participant: Participant,
        before: &[Grant],
    ) {
        let now = if user.is_active() {
            rights(user.grants())
        } else {
            BTreeSet::new()
        };
        let code = participant.code();
        for gone in rights(before).difference(&now) {
            txn.delete(keys::right_holder(code, gone.name(), Some(user.id())));
        }
        for right in &now {
            txn.put_raw(
                keys::right_holder(code, right.name(), Some(user.id())),
                user.authority().as_bytes().to_vec(),
            );
        }
    }

    /// Whether an active user of an active authority of `participant` holds `right` for
    /// `procedure` (of `area`).
    pub(super) async fn someone_holds(
        &self,
        participant: Participant,
        right: Right,
        area: &AreaId,
        procedure: &ProcedureId,
    ) -> Result<bool, EngineError> {
        self.ensure_right_holders().await?;
        let prefix = keys::right_holder(participant.code(), right.name(), None);
        let mut pages = self.store.pages(Scan::prefix(&prefix, 64));
        while let Some(entries) = pages.next().await? {
            let mut users = Vec::with_capacity(entries.len());
            for e in &entries {
                let id = keys::trailing_id(&e.key)
                    .and_then(|b| UserId::from_uuid(uuid::Uuid::from_bytes(b)).ok())
                    .ok_or_else(|| corrupt_index(&e.key))?;
                users.push(keys::user(id));
            }
            for (key, found) in users.iter().zip(self.store.get_many(&users).await?) {
                let Some(v) = found else { continue };
                let user: User = decode(key, &v.value)?;
                if !user.is_active() {
                    continue;
                }
                let Some(authority) = self.authority_cached(user.authority()).await? else {
                    continue;
                };
                if authority.participant() == participant
                    && authority.is_active()
                    && Principal::new(&user, &authority).holds(right, area, procedure)
                {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// Whether an active user of `authority` (itself active) holds `right` for
    /// `procedure` (of `area`).
    pub(super) async fn authority_holds(
        &self,
        authority: &Authority,
        right: Right,
        area: &AreaId,
        procedure: &ProcedureId,
    ) -> Result<bool, EngineError> {
        if !authority.is_active() {
            return Ok(false);
        }
        Ok(self
            .users_at(authority.id())
            .await?
            .iter()
            .any(|u| u.is_active() && Principal::new(u, authority).holds(right, area, procedure)))
    }

    /// Builds the index from every user once, for stores made before it existed; a
    /// metadata entry records that it is complete.
    async fn ensure_right_holders(&self) -> Result<(), EngineError> {
        if self.right_holders_ready.load(Ordering::Acquire) {
            return Ok(());
        }
        if self.store.get(&keys::meta(READY)).await?.is_none() {
            let mut pages = self.store.pages(Scan::prefix(&keys::user_prefix(), 500));
            while let Some(entries) = pages.next().await? {
                let mut txn = Txn::new(&*self.store);
                for e in &entries {
                    let user: User = decode(&e.key, &e.value)?;
                    if let Some(a) = self.authority_cached(user.authority()).await? {
                        Self::index_rights(&mut txn, &user, a.participant(), &[]);
                    }
                }
                txn.commit().await?;
            }
            let mut txn = Txn::new(&*self.store);
            txn.put_raw(keys::meta(READY), Vec::new());
            txn.commit().await?;
        }
        self.right_holders_ready.store(true, Ordering::Release);
        Ok(())
    }
}
