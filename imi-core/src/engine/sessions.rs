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
        let Actor::User(p) = actor else {
            return Err(EngineError::Unauthenticated);
        };
        let now = self.now();
        let secret = SessionSecret::from_bytes(&self.ids.secret()?);
        let session = Session {
            user: p.user(),
            created_at: now,
            expires_at: now + Duration::minutes(i64::from(minutes.clamp(1, MAX_SESSION_MINUTES))),
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
        if session.expires_at <= self.now() {
            return Err(EngineError::Unauthenticated);
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
        self.audit(
            &mut txn,
            &Actor::System,
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
