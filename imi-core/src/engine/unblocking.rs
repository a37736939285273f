//! Justified, time-limited access to a blocked request's personal data (an
//! administrator of a party, on a legal ground), audited.

use super::Engine;
use crate::access::Actor;
use crate::case::RequestCase;
use crate::catalogue::Right;
use crate::error::EngineError;
use crate::ids::CaseId;
use crate::keys;
use crate::record::{Txn, decode};
use crate::workflow::TransitionError;

/// The longest a justified access to blocked data may last, in days.
pub const MAX_UNBLOCK_DAYS: u16 = 30;

/// A justified, time-limited access to a blocked case's personal data.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Unblock {
    /// The legal ground.
    pub reason: crate::audit::UnblockReason,
    /// Why, in the user's words (kept with the access, never in the audit log).
    pub justification: String,
    /// When it was granted.
    pub from: chrono::DateTime<chrono::Utc>,
    /// When it ends.
    pub until: chrono::DateTime<chrono::Utc>,
}

/// **Justified access to blocked data**, time-limited and audited.
impl Engine {
    /// Makes a blocked case's personal data readable again for the acting user, for at
    /// most [`MAX_UNBLOCK_DAYS`] days, on one of the two legal grounds and with a
    /// justification (Art. 14(3)). Only an administrator of the requesting or the
    /// responding authority may do it, and the act is audited.
    pub async fn unblock_request(
        &self,
        actor: &Actor,
        id: CaseId,
        reason: crate::audit::UnblockReason,
        justification: &str,
        days: u16,
    ) -> Result<Unblock, EngineError> {
        let p = Self::principal(actor)?;
        let invalid = |reason| {
            EngineError::Transition(TransitionError::Invalid {
                command: "unblock",
                reason,
            })
        };
        if justification.trim().is_empty()
            || justification.chars().count() > crate::workflow::MAX_TEXT_LEN
        {
            return Err(invalid(
                "a justification of 1 to 10 000 characters is needed",
            ));
        }
        if days == 0 || days > MAX_UNBLOCK_DAYS {
            return Err(invalid("an access lasts 1 to 30 days"));
        }
        let case: RequestCase = self.load(&keys::case(id), CaseId::KIND, &id).await?;
        let party = p.authority() == case.requester
            || Some(p.authority()) == case.request.state().recipient();
        if !party {
            // Not a party: not told the request exists (the same 404 as for no request).
            return Err(EngineError::NotFound {
                kind: CaseId::KIND,
                id: id.to_string(),
            });
        }
        if !p.has_right(Right::Administrator) {
            return Err(EngineError::Denied(crate::access::Denial {
                actor: actor.to_string(),
                action: "unblock personal data",
                reason: "this needs the administrator right at the requesting or the responding authority",
            }));
        }
        if !case.request.is_blocked() {
            return Err(crate::error::StateError::new(
                "unblock personal data",
                "not blocked",
                "blocked",
            )
            .into());
        }
        let now = self.now();
        let access = Unblock {
            reason,
            justification: justification.trim().to_owned(),
            from: now,
            until: now + chrono::Duration::days(i64::from(days)),
        };
        let mut txn = Txn::new(&*self.store);
        txn.put(keys::unblock(id, p.user()), &access)?;
        self.audit(
            &mut txn,
            actor,
            crate::audit::AuditAction::Unblock {
                case: id,
                reason,
                until: access.until,
            },
            crate::audit::Purpose::HandleCase,
        )?;
        txn.commit().await?;
        Ok(access)
    }

    /// Whether `actor` holds a running access to the blocked case `id`.
    pub(crate) async fn has_unblock(&self, actor: &Actor, id: CaseId) -> Result<bool, EngineError> {
        let Actor::User(p) = actor else {
            return Ok(false);
        };
        let key = keys::unblock(id, p.user());
        Ok(match self.store.get(&key).await? {
            Some(v) => decode::<Unblock>(&key, &v.value)?.until > self.now(),
            None => false,
        })
    }
}
