//! API tokens and service accounts: tokens that end, listed and revoked one by one, never
//! minted for somebody else; and turning a bearer token into an [`Actor`].
//!
//! Who may mint a token that acts as a user:
//! - the user themselves, if they hold the `api-user` right (a person only);
//! - for a *service account* (a system of the authority, not a person), its own
//!   authority's administrators;
//! - the system operator, for anyone (bootstrap: the first token of an installation).
//!
//! Nobody else, whatever their scope: a coordinator who could mint a token for a handler
//! of an authority it covers could read that handler's cases, and the audit would name
//! the handler.

use chrono::Duration;

use super::principals::{Cached, Subject};
use super::{Engine, corrupt_index};
use crate::access::{Action, Actor, Decision, Target, TokenSubject, decide};
use crate::audit::AuditAction;
use crate::authority::Authority;
use crate::error::{EngineError, StateError};
use crate::ids::{AuthorityId, TokenId, UserId};
use crate::keys;
use crate::record::{Txn, decode};
use crate::store::{Scan, StoreExt};
use crate::user::{
    MAX_TOKENS_PER_USER, NewUser, SecretToken, TokenError, TokenInfo, TokenRequest, User,
};

/// The answer to anyone who may not know whether a user exists.
fn no_such_user(id: UserId) -> EngineError {
    EngineError::NotFound {
        kind: UserId::KIND,
        id: id.to_string(),
    }
}

/// **Credentials**: API tokens (issue, list, revoke) and service accounts.
impl Engine {
    /// Issues an API token for a user with the default label and lifetime (90 days); see
    /// [`Engine::issue_token_with`].
    pub async fn issue_token(&self, actor: &Actor, id: UserId) -> Result<SecretToken, EngineError> {
        self.issue_token_with(actor, id, TokenRequest::default())
            .await
            .map(|(token, _)| token)
    }

    /// Issues an API token that acts as user `id`, expiring after `request.days`: a user
    /// for themselves (with the `api-user` right), an authority's administrator for one of
    /// its service accounts, or the system operator for anyone. Refused with
    /// [`EngineError::Denied`] for anyone else, whether or not the user exists. The secret
    /// is returned once; only its hash is stored. A user holds at most
    /// [`MAX_TOKENS_PER_USER`] unexpired tokens; expired ones are removed here.
    pub async fn issue_token_with(
        &self,
        actor: &Actor,
        id: UserId,
        request: TokenRequest,
    ) -> Result<(SecretToken, TokenInfo), EngineError> {
        request.validate()?;
        let mut txn = Txn::new(&*self.store);
        let user = match actor {
            Actor::User(p) if p.user() == id => {
                decide(actor, &Action::IssueToken(TokenSubject::Myself)).into_result()?;
                txn.get::<User>(&keys::user(id))
                    .await?
                    .map(|(u, _)| u)
                    .ok_or_else(|| no_such_user(id))?
            }
            Actor::User(_) => {
                // Only a service account of the caller's own authority may be the subject;
                // every other case gets the same refusal, so nothing is learnt about `id`.
                let refuse =
                    || match decide(actor, &Action::IssueToken(TokenSubject::AnotherPerson)) {
                        Decision::Forbid(denial) => EngineError::Denied(denial),
                        Decision::Allow(_) => never_for_another_person(),
                    };
                let Some((user, _)) = txn.get::<User>(&keys::user(id)).await? else {
                    return Err(refuse());
                };
                if user.kind() != crate::user::UserKind::Service {
                    return Err(refuse());
                }
                let authority: Authority = txn
                    .get(&keys::authority(user.authority()))
                    .await?
                    .map(|(a, _)| a)
                    .ok_or_else(|| corrupt_index(&keys::user(id)))?;
                let areas = authority.areas();
                let target = Target {
                    id: Some(authority.id()),
                    participant: authority.participant(),
                    region: authority.region(),
                    areas: &areas,
                };
                if !decide(
                    actor,
                    &Action::IssueToken(TokenSubject::ServiceAccount(target)),
                )
                .is_allowed()
                {
                    return Err(refuse());
                }
                user
            }
            Actor::System => txn
                .get::<User>(&keys::user(id))
                .await?
                .map(|(u, _)| u)
                .ok_or_else(|| no_such_user(id))?,
            Actor::Public => {
                decide(actor, &Action::IssueToken(TokenSubject::AnotherPerson)).into_result()?;
                return Err(no_such_user(id));
            }
        };
        if !user.is_active() {
            return Err(StateError::new("issue a token", "disabled", "active").into());
        }
        let now = self.now();
        // Every issue rewrites the user's token counter, read in this transaction, so
        // concurrent issues for one user conflict and the limit holds.
        let counter = keys::meta(&format!("tokens-issued/{id}"));
        let issued = txn
            .get_raw(&counter)
            .await?
            .and_then(|v| <[u8; 8]>::try_from(v.as_slice()).ok())
            .map_or(0, u64::from_be_bytes);
        txn.put_raw(counter, issued.saturating_add(1).to_be_bytes().to_vec());
        // The user's tokens: expired ones go, the rest count against the limit.
        let mut live = 0;
        for (index_key, hash, info) in self.tokens_stored(id).await? {
            match info {
                Some(info) if !info.is_expired(now) => live += 1,
                _ => {
                    txn.delete(index_key);
                    txn.delete(keys::token(&hash));
                }
            }
        }
        if live >= MAX_TOKENS_PER_USER {
            return Err(TokenError::TooMany {
                max: MAX_TOKENS_PER_USER,
            }
            .into());
        }
        let token = SecretToken::from_bytes(&self.ids.secret()?);
        let info = TokenInfo {
            id: self.ids.token(now),
            user: id,
            label: request.label.trim().to_owned(),
            created_at: now,
            expires_at: now + Duration::days(i64::from(request.days)),
            issued_by: match actor {
                Actor::User(p) => Some(p.user()),
                Actor::System | Actor::Public => None,
            },
        };
        let hash = token.hash().0;
        txn.create(keys::token(&hash), &info)?;
        txn.put_raw(keys::token_by_user(id, Some(info.id)), hash.to_vec());
        self.audit(
            &mut txn,
            actor,
            AuditAction::ChangeUser {
                user: id,
                change: "issue-token".to_owned(),
            },
            Self::admin_purpose(actor),
        )?;
        txn.commit().await?;
        Ok((token, info))
    }

    /// Every token of a user as stored: its index key, its hash, and its record (`None`
    /// when the index points at nothing or at a record from before tokens expired).
    async fn tokens_stored(
        &self,
        user: UserId,
    ) -> Result<Vec<(Vec<u8>, [u8; 32], Option<TokenInfo>)>, EngineError> {
        let prefix = keys::token_by_user(user, None);
        let mut found = Vec::new();
        for e in self.store.pages(Scan::prefix(&prefix, 1_000)).all().await? {
            let hash =
                <[u8; 32]>::try_from(e.value.as_slice()).map_err(|_| corrupt_index(&e.key))?;
            found.push((e.key, hash));
        }
        let token_keys: Vec<Vec<u8>> = found.iter().map(|(_, h)| keys::token(h)).collect();
        let records = self.store.get_many(&token_keys).await?;
        let mut out = Vec::with_capacity(found.len());
        for (((index_key, hash), key), record) in found.into_iter().zip(&token_keys).zip(records) {
            let info = match record {
                Some(v) if v.value.len() != 16 => Some(decode::<TokenInfo>(key, &v.value)?),
                _ => None,
            };
            out.push((index_key, hash, info));
        }
        Ok(out)
    }

    /// Checks that `actor` may see and revoke the tokens of user `id`: the user themselves,
    /// whoever manages the users of their authority, or the system. Anyone else gets
    /// `NotFound`, as for a user that does not exist.
    async fn token_owner(&self, actor: &Actor, id: UserId) -> Result<User, EngineError> {
        let user: User = match self.store.get(&keys::user(id)).await? {
            Some(v) => decode(&keys::user(id), &v.value)?,
            None => return Err(no_such_user(id)),
        };
        match actor {
            Actor::System => Ok(user),
            Actor::User(p) if p.user() == id => Ok(user),
            Actor::User(_) => {
                let authority: Authority = self
                    .load(
                        &keys::authority(user.authority()),
                        AuthorityId::KIND,
                        &user.authority(),
                    )
                    .await?;
                let areas = authority.areas();
                let target = Target {
                    id: Some(authority.id()),
                    participant: authority.participant(),
                    region: authority.region(),
                    areas: &areas,
                };
                if decide(actor, &Action::ManageUsers(target)).is_allowed() {
                    Ok(user)
                } else {
                    Err(no_such_user(id))
                }
            }
            Actor::Public => Err(no_such_user(id)),
        }
    }

    /// A user's unexpired tokens, oldest first (never their secrets): for the user, the
    /// administrators of their authority, coordinators covering it, and the system.
    pub async fn tokens_of(
        &self,
        actor: &Actor,
        id: UserId,
    ) -> Result<Vec<TokenInfo>, EngineError> {
        self.token_owner(actor, id).await?;
        let now = self.now();
        Ok(self
            .tokens_stored(id)
            .await?
            .into_iter()
            .filter_map(|(_, _, info)| info)
            .filter(|info| !info.is_expired(now))
            .collect())
    }

    /// Revokes one token of user `id` at once (for the same people as
    /// [`Engine::tokens_of`]). `NotFound` when there is no such token.
    pub async fn revoke_token(
        &self,
        actor: &Actor,
        id: UserId,
        token: TokenId,
    ) -> Result<(), EngineError> {
        self.token_owner(actor, id).await?;
        let index_key = keys::token_by_user(id, Some(token));
        let mut txn = Txn::new(&*self.store);
        let Some(hash) = txn.get_raw(&index_key).await? else {
            return Err(EngineError::NotFound {
                kind: TokenId::KIND,
                id: token.to_string(),
            });
        };
        let hash = <[u8; 32]>::try_from(hash.as_slice()).map_err(|_| corrupt_index(&index_key))?;
        txn.delete(index_key);
        txn.delete(keys::token(&hash));
        self.audit(
            &mut txn,
            actor,
            AuditAction::ChangeUser {
                user: id,
                change: "revoke-token".to_owned(),
            },
            Self::admin_purpose(actor),
        )?;
        txn.commit().await?;
        Ok(())
    }

    /// Creates a service account in `authority`: a system of the authority (a case
    /// management system, say) that acts through the API with its own rights, tokens and
    /// audit trail. Only the authority's own administrators (and the system) create them,
    /// and only they issue their tokens; it starts with no rights. `new.name` names the
    /// system, `new.email` the team answerable for it.
    pub async fn create_service_account(
        &self,
        actor: &Actor,
        authority: AuthorityId,
        new: NewUser,
    ) -> Result<User, EngineError> {
        self.create_account(actor, authority, new, crate::user::UserKind::Service)
            .await
    }

    /// Turns a bearer token into the acting user, with their authority's current facts
    /// and their current rights. Fails with [`EngineError::Unauthenticated`] for unknown,
    /// revoked and expired tokens, tokens from before tokens expired, disabled users and
    /// authorities that are not active.
    pub async fn authenticate(&self, token: &SecretToken) -> Result<Actor, EngineError> {
        let hash = token.hash().0;
        let subject = Subject::Token(hash);
        let now = self.now();
        let id = match self.principals.get(&subject, now) {
            Some(Cached::TokenOf(id, expires_at)) if now < expires_at => id,
            Some(Cached::TokenOf(..)) => return Err(EngineError::Unauthenticated),
            _ => {
                let generation = self.principals.generation();
                let Some(v) = self.store.get(&keys::token(&hash)).await? else {
                    return Err(EngineError::Unauthenticated);
                };
                if v.value.len() == 16 {
                    // A token from before tokens expired: it never ends, so it is refused.
                    return Err(EngineError::Unauthenticated);
                }
                let info: TokenInfo = decode(&keys::token(&hash), &v.value)?;
                self.principals.put(
                    subject,
                    Cached::TokenOf(info.user, info.expires_at),
                    generation,
                    now,
                );
                if info.is_expired(now) {
                    return Err(EngineError::Unauthenticated);
                }
                info.user
            }
        };
        self.actor_for(id).await
    }
}

/// `decide` never allows [`TokenSubject::AnotherPerson`]; should it ever, the engine
/// refuses all the same.
fn never_for_another_person() -> EngineError {
    EngineError::Denied(crate::access::Denial {
        actor: "a user".to_owned(),
        action: "issue this API token",
        reason: "a token for somebody else would let the caller act as them",
    })
}
