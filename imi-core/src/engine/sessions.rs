//! Sign-in sessions (see [`crate::session`]): opened for an authenticated user, looked up
//! at every page view, closed at sign-out, and removed by `tick` once expired.

use chrono::Duration;

use super::Engine;
use crate::access::Actor;
use crate::audit::{AuditAction, Purpose};
use crate::error::EngineError;
use crate::keys;
use crate::record::{Txn, decode};
use crate::session::{MAX_SESSION_MINUTES, Session, SessionSecret};
use crate::user::{SecretToken, TokenInfo};

/// A token hash from its hexadecimal form.
fn decode_hash(hex: &str) -> Option<[u8; 32]> {
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
        })
        .collect::<Option<_>>()?;
    bytes.try_into().ok()
}
use crate::store::Scan;

/// **Sessions**: sign-in sessions for the web application.
impl Engine {
    /// Opens a session for `actor` (a user who has just proven who they are, by a token
    /// or through single sign-on) lasting `minutes` (1 to [`MAX_SESSION_MINUTES`]; more is
    /// cut to the maximum). Every sign-in gets a fresh secret. Audited.
    pub async fn open_session(
        &self,
        actor: &Actor,
        minutes: u32,
    ) -> Result<SessionSecret, EngineError> {
        self.open_session_bound(actor, minutes, None).await
    }

    /// Signs in with an access token: authenticates it, then opens a session (as
    /// [`Engine::open_session`]) that ends at the latest when the token is revoked or
    /// expires. A token that does not authenticate gives `Unauthenticated`.
    pub async fn sign_in_with_token(
        &self,
        token: &SecretToken,
        minutes: u32,
    ) -> Result<(Actor, SessionSecret), EngineError> {
        let actor = self.authenticate(token).await?;
        let hash: String = token.hash().0.iter().map(|b| format!("{b:02x}")).collect();
        let secret = self.open_session_bound(&actor, minutes, Some(hash)).await?;
        Ok((actor, secret))
    }

    async fn open_session_bound(
        &self,
        actor: &Actor,
        minutes: u32,
        token: Option<String>,
    ) -> Result<SessionSecret, EngineError> {
        let Actor::User(p) = actor else {
            return Err(EngineError::Unauthenticated);
        };
        let now = self.now();
        let secret = SessionSecret::from_bytes(&self.ids.secret()?);
        let session = Session {
            user: p.user(),
            created_at: now,
            expires_at: now + Duration::minutes(i64::from(minutes.clamp(1, MAX_SESSION_MINUTES))),
            token,
        };
        let hash = secret.hash();
        let mut txn = Txn::new(&*self.store);
        txn.create(keys::session(&hash), &session)?;
        txn.put_index(keys::session_expiry(session.expires_at, Some(&hash)));
        self.audit(
            &mut txn,
            actor,
            AuditAction::ChangeUser {
                user: p.user(),
                change: "sign-in".to_owned(),
            },
            Purpose::Operate,
        )?;
        txn.commit().await?;
        Ok(secret)
    }

    /// The user a live session acts as, checked as at every request (active user of an
    /// active authority, current rights). An unknown, ended or expired session, or a
    /// disabled user, gives [`EngineError::Unauthenticated`].
    pub async fn session_actor(&self, secret: &SessionSecret) -> Result<Actor, EngineError> {
        let key = keys::session(&secret.hash());
        let Some(found) = self.store.get(&key).await? else {
            return Err(EngineError::Unauthenticated);
        };
        let session: Session = decode(&key, &found.value)?;
        let now = self.now();
        if session.expires_at <= now {
            return Err(EngineError::Unauthenticated);
        }
        if let Some(hex) = &session.token {
            // The token it was opened with must still be there, unexpired, the user's.
            let hash = decode_hash(hex).ok_or(EngineError::Unauthenticated)?;
            let token_key = keys::token(&hash);
            let Some(found) = self.store.get(&token_key).await? else {
                return Err(EngineError::Unauthenticated);
            };
            let info: TokenInfo =
                decode(&token_key, &found.value).map_err(|_| EngineError::Unauthenticated)?;
            if info.is_expired(now) || info.user != session.user {
                return Err(EngineError::Unauthenticated);
            }
        }
        self.actor_for(session.user)
            .await
            .map_err(|_| EngineError::Unauthenticated)
    }

    /// Ends a session (sign-out). Ending an unknown or ended session does nothing.
    pub async fn close_session(&self, secret: &SessionSecret) -> Result<(), EngineError> {
        let hash = secret.hash();
        let key = keys::session(&hash);
        let mut txn = Txn::new(&*self.store);
        let Some((session, _)) = txn.get::<Session>(&key).await? else {
            return Ok(());
        };
        txn.delete(key);
        txn.delete(keys::session_expiry(session.expires_at, Some(&hash)));
        // Audited as the user who signs out (or the system, for a user since removed).
        let by = match txn
            .get::<crate::user::User>(&keys::user(session.user))
            .await?
        {
            Some((user, _)) => crate::case::ActorRef::User {
                user: session.user,
                authority: user.authority(),
            },
            None => crate::case::ActorRef::System,
        };
        self.audit_as(
            &mut txn,
            by,
            AuditAction::ChangeUser {
                user: session.user,
                change: "sign-out".to_owned(),
            },
            Purpose::Operate,
        )?;
        txn.commit().await?;
        Ok(())
    }

    /// Removes sessions that expired by `now` (at most `batch`); `tick` calls it.
    pub(crate) async fn remove_expired_sessions(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        batch: usize,
    ) -> Result<usize, EngineError> {
        let scan = Scan {
            start: std::ops::Bound::Included(keys::session_expiry_prefix()),
            end: std::ops::Bound::Excluded(keys::session_expiry(now, None)),
            direction: crate::store::Direction::Forward,
            limit: batch.clamp(1, crate::store::MAX_SCAN_LIMIT),
        };
        let found = self.store.scan(&scan).await?;
        let mut txn = Txn::new(&*self.store);
        for entry in &found.entries {
            let hash = entry
                .key
                .len()
                .checked_sub(32)
                .and_then(|at| entry.key.get(at..))
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .ok_or_else(|| super::corrupt_index(&entry.key))?;
            txn.delete(entry.key.clone());
            txn.delete(keys::session(&hash));
        }
        txn.commit().await?;
        Ok(found.entries.len())
    }
}
