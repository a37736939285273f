//! Users, their rights, their tokens, and turning credentials into an [`Actor`].

use super::principals::{Cached, Subject};
use super::{Engine, corrupt_index};
use crate::access::{Action, Actor, Principal, Target, decide};
use crate::audit::AuditAction;
use crate::authority::Authority;
use crate::catalogue::Right;
use crate::error::{EngineError, StateError};
use crate::ids::{AuthorityId, UserId};
use crate::keys;
use crate::page::{Cursor, Page, PageRequest};
use crate::record::{Txn, decode};
use crate::store::Scan;
use crate::user::{Grant, GrantScope, NewUser, User, UserKind};

/// **Users and rights**: users of an authority, their grants, disabling, signing in with a token.
impl Engine {
    /// Asks the policy whether `actor` may manage the users of `authority`.
    fn may_manage_users(actor: &Actor, authority: &Authority) -> Result<(), EngineError> {
        let areas = authority.areas();
        let t = Target {
            id: Some(authority.id()),
            participant: authority.participant(),
            region: authority.region(),
            areas: &areas,
        };
        Ok(decide(actor, &Action::ManageUsers(t)).into_result()?)
    }

    /// Creates a user of an active authority (its administrator, a coordinator covering
    /// it, or the system). The user starts with no rights.
    pub async fn create_user(
        &self,
        actor: &Actor,
        authority: AuthorityId,
        new: NewUser,
    ) -> Result<User, EngineError> {
        self.create_account(actor, authority, new, UserKind::Person)
            .await
    }

    /// Creates a person or a service account in an active authority, each with the
    /// policy's own rule (service accounts: the authority's own administrators only).
    pub(super) async fn create_account(
        &self,
        actor: &Actor,
        authority: AuthorityId,
        new: NewUser,
        kind: UserKind,
    ) -> Result<User, EngineError> {
        let mut txn = Txn::new(&*self.store);
        let Some((a, _)) = txn.get::<Authority>(&keys::authority(authority)).await? else {
            return Err(EngineError::NotFound {
                kind: AuthorityId::KIND,
                id: authority.to_string(),
            });
        };
        let (what, change) = match kind {
            UserKind::Person => {
                Self::may_manage_users(actor, &a)?;
                ("create a user", "create")
            }
            UserKind::Service => {
                let areas = a.areas();
                let target = Target {
                    id: Some(a.id()),
                    participant: a.participant(),
                    region: a.region(),
                    areas: &areas,
                };
                decide(actor, &Action::CreateServiceAccount(target)).into_result()?;
                ("create a service account", "create-service-account")
            }
        };
        if !a.is_active() {
            return Err(StateError::new(what, a.status().name(), "active").into());
        }
        let now = self.now();
        let mut user = User::create(self.ids.user(now), authority, new, now)?;
        if kind == UserKind::Service {
            user = user.into_service();
        }
        txn.create(keys::user(user.id()), &user)?;
        txn.put_index(keys::user_by_authority(authority, Some(user.id())));
        self.audit(
            &mut txn,
            actor,
            AuditAction::ChangeUser {
                user: user.id(),
                change: change.to_owned(),
            },
            Self::admin_purpose(actor),
        )?;
        txn.commit().await?;
        Ok(user)
    }

    /// Loads a user and their authority inside `txn`, and checks `actor` may manage them.
    async fn managed_user(
        &self,
        txn: &mut Txn<'_>,
        actor: &Actor,
        id: UserId,
    ) -> Result<User, EngineError> {
        let Some((user, _)) = txn.get::<User>(&keys::user(id)).await? else {
            return Err(EngineError::NotFound {
                kind: UserId::KIND,
                id: id.to_string(),
            });
        };
        let Some((authority, _)) = txn
            .get::<Authority>(&keys::authority(user.authority()))
            .await?
        else {
            return Err(corrupt_index(&keys::user(id)));
        };
        // Whoever may not manage the user is not told the user exists: the same 404 as
        // for an id that names nobody.
        Self::may_manage_users(actor, &authority).map_err(|_| EngineError::NotFound {
            kind: UserId::KIND,
            id: id.to_string(),
        })?;
        self.check_grants(&authority, user.grants())?;
        Ok(user)
    }

    /// Checks that grants make sense for the authority: administrator over everything;
    /// area grants for areas it is competent in; procedure grants for procedures it has
    /// access to and whose kind the right fits.
    fn check_grants(&self, authority: &Authority, grants: &[Grant]) -> Result<(), EngineError> {
        let catalogue = self.catalogue();
        for g in grants {
            let bad = |reason| {
                Err(EngineError::BadGrant {
                    right: g.right.name(),
                    reason,
                })
            };
            match (&g.scope, g.right) {
                (GrantScope::Everything, _) => {}
                (_, Right::Administrator | Right::ApiUser) => {
                    return bad("this right covers the whole authority (scope `everything`)");
                }
                (GrantScope::Area(area), _) => {
                    if !authority.areas().contains(area) {
                        return bad("the authority has no competence in that area");
                    }
                }
                (GrantScope::Procedure(p), right) => {
                    let Some(procedure) = catalogue.procedure(p) else {
                        return bad("the procedure does not exist");
                    };
                    if !authority.procedures().contains(p) {
                        return bad("the authority has no access to that procedure");
                    }
                    if !right.fits(procedure.workflow.kind()) {
                        return bad("the right does not apply to that kind of procedure");
                    }
                }
            }
        }
        Ok(())
    }

    /// Replaces a user's rights (their authority's administrator, a coordinator covering
    /// it, or the system).
    pub async fn set_grants(
        &self,
        actor: &Actor,
        id: UserId,
        grants: Vec<Grant>,
    ) -> Result<User, EngineError> {
        let mut txn = Txn::new(&*self.store);
        let mut user = self.managed_user(&mut txn, actor, id).await?;
        let Some((authority, _)) = txn
            .get::<Authority>(&keys::authority(user.authority()))
            .await?
        else {
            return Err(corrupt_index(&keys::user(id)));
        };
        self.check_grants(&authority, &grants)?;
        if !user.is_active() {
            return Err(StateError::new("grant rights", "disabled", "active").into());
        }
        let before = user.grants().to_vec();
        user.set_grants(grants);
        txn.put(keys::user(id), &user)?;
        Self::index_rights(&mut txn, &user, authority.participant(), &before);
        self.audit(
            &mut txn,
            actor,
            AuditAction::ChangeUser {
                user: id,
                change: "grant-rights".to_owned(),
            },
            Self::admin_purpose(actor),
        )?;
        txn.commit().await?;
        Ok(user)
    }

    /// Disables a user: they can no longer sign in (their tokens stop working), and their
    /// past actions stay attributed to them.
    pub async fn disable_user(&self, actor: &Actor, id: UserId) -> Result<User, EngineError> {
        let mut txn = Txn::new(&*self.store);
        let mut user = self.managed_user(&mut txn, actor, id).await?;
        if !user.is_active() {
            return Err(StateError::new("disable a user", "disabled", "active").into());
        }
        let now = self.now();
        let before = user.grants().to_vec();
        user.disable(now);
        txn.put(keys::user(id), &user)?;
        if let Some((authority, _)) = txn
            .get::<Authority>(&keys::authority(user.authority()))
            .await?
        {
            Self::index_rights(&mut txn, &user, authority.participant(), &before);
        }
        txn.put_index(keys::user_retention(user_deletion_date(now), Some(id)));
        self.audit(
            &mut txn,
            actor,
            AuditAction::ChangeUser {
                user: id,
                change: "disable".to_owned(),
            },
            Self::admin_purpose(actor),
        )?;
        txn.commit().await?;
        Ok(user)
    }

    /// Reads a user (their authority's administrator, a coordinator covering it, the
    /// system, or the user themselves).
    pub async fn user(&self, actor: &Actor, id: UserId) -> Result<User, EngineError> {
        let user = self.user_unaudited(actor, id).await?;
        if matches!(actor, Actor::User(_)) {
            self.audit_now(
                actor,
                AuditAction::ReadUser { user: id },
                Self::admin_purpose(actor),
            )
            .await?;
        }
        Ok(user)
    }

    async fn user_unaudited(&self, actor: &Actor, id: UserId) -> Result<User, EngineError> {
        if let Actor::User(p) = actor
            && p.user() == id
        {
            return self.load(&keys::user(id), UserId::KIND, &id).await;
        }
        let mut txn = Txn::new(&*self.store);
        let user = self.managed_user(&mut txn, actor, id).await?;
        Ok(match actor {
            Actor::System => user,
            _ => user.as_shown(),
        })
    }

    /// Lists an authority's users (its administrator, a coordinator covering it, or the
    /// system).
    pub async fn users_of(
        &self,
        actor: &Actor,
        authority: AuthorityId,
        page: PageRequest,
    ) -> Result<Page<User>, EngineError> {
        let a: Authority = self
            .load(&keys::authority(authority), AuthorityId::KIND, &authority)
            .await?;
        Self::may_manage_users(actor, &a)?;
        let prefix = keys::user_by_authority(authority, None);
        let mut scan = Scan::prefix(&prefix, page.limit());
        if let Some(cursor) = page.cursor() {
            scan = scan.resume(cursor.key_within(&prefix)?);
        }
        let found = self.store.scan(&scan).await?;
        let mut doc_keys = Vec::with_capacity(found.entries.len());
        for e in &found.entries {
            let id = keys::trailing_id(&e.key)
                .and_then(|b| UserId::from_uuid(uuid::Uuid::from_bytes(b)).ok())
                .ok_or_else(|| corrupt_index(&e.key))?;
            doc_keys.push(keys::user(id));
        }
        let docs = self.store.get_many(&doc_keys).await?;
        let items: Vec<User> = doc_keys
            .iter()
            .zip(docs)
            .map(|(k, d)| decode::<User>(k, &d.ok_or_else(|| corrupt_index(k))?.value))
            .map(|u| {
                u.map(|u| {
                    if matches!(actor, Actor::System) {
                        u
                    } else {
                        u.as_shown()
                    }
                })
            })
            .collect::<Result<_, _>>()?;
        if matches!(actor, Actor::User(_)) && !items.is_empty() {
            let mut txn = Txn::new(&*self.store);
            for u in &items {
                self.audit(
                    &mut txn,
                    actor,
                    AuditAction::ReadUser { user: u.id() },
                    Self::admin_purpose(actor),
                )?;
            }
            txn.commit().await?;
        }
        Ok(Page {
            items,
            next: found.continuation.map(Cursor::from_key),
        })
    }

    /// The acting user for a user id, for embedders that authenticate people themselves
    /// (e.g. with EU Login). Fails like [`Engine::authenticate`].
    pub async fn actor_for(&self, id: UserId) -> Result<Actor, EngineError> {
        let subject = Subject::User(id);
        let now = self.now();
        if let Some(Cached::Actor(actor)) = self.principals.get(&subject, now) {
            return Ok(actor);
        }
        let generation = self.principals.generation();
        let actor = self.read_actor(id).await?;
        self.principals
            .put(subject, Cached::Actor(actor.clone()), generation, now);
        Ok(actor)
    }

    /// [`Engine::actor_for`] from the store.
    async fn read_actor(&self, id: UserId) -> Result<Actor, EngineError> {
        let Some(v) = self.store.get(&keys::user(id)).await? else {
            return Err(EngineError::Unauthenticated);
        };
        let user: User = decode(&keys::user(id), &v.value)?;
        let authority: Authority =
            self.authority_cached(user.authority())
                .await?
                .ok_or_else(|| EngineError::NotFound {
                    kind: AuthorityId::KIND,
                    id: user.authority().to_string(),
                })?;
        if !user.is_active() || !authority.is_active() {
            return Err(EngineError::Unauthenticated);
        }
        Ok(Actor::User(Principal::new(&user, &authority)))
    }
}

/// Former users' own data are deleted 3 years after they stopped being users.
fn user_deletion_date(disabled: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDate {
    let day = disabled.date_naive();
    day.checked_add_months(chrono::Months::new(36))
        .unwrap_or(day)
}

impl Engine {
    /// Deletes the name and e-mail address of people who stopped being users 3 years
    /// ago by `now` (at most `batch`), keeping their ids so past actions stay
    /// attributable. Each once, audited, in the commit that removes its retention entry.
    pub(crate) async fn erase_former_users(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        batch: usize,
    ) -> Result<usize, EngineError> {
        let tomorrow = now.date_naive() + chrono::Duration::days(1);
        let scan = Scan {
            start: std::ops::Bound::Included(keys::user_retention_prefix()),
            end: std::ops::Bound::Excluded(keys::user_retention(tomorrow, None)),
            direction: crate::store::Direction::Forward,
            limit: batch.clamp(1, crate::store::MAX_SCAN_LIMIT),
        };
        let found = self.store.scan(&scan).await?;
        let mut erased = 0;
        for entry in &found.entries {
            let id = keys::trailing_id(&entry.key)
                .and_then(|b| UserId::from_uuid(uuid::Uuid::from_bytes(b)).ok())
                .ok_or_else(|| corrupt_index(&entry.key))?;
            let mut txn = Txn::new(&*self.store);
            txn.delete(entry.key.clone());
            if let Some((mut user, _)) = txn.get::<User>(&keys::user(id)).await?
                && user
                    .disabled_at()
                    .is_some_and(|d| user_deletion_date(d) <= now.date_naive())
            {
                user.erase();
                txn.put(keys::user(id), &user)?;
                let action = AuditAction::ChangeUser {
                    user: id,
                    change: "erase".to_owned(),
                };
                self.audit(
                    &mut txn,
                    &Actor::System,
                    action,
                    crate::audit::Purpose::Operate,
                )?;
                erased += 1;
            }
            match txn.commit().await {
                Ok(_) | Err(EngineError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(erased)
    }
}
