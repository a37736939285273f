//! Who is acting, and whether they may.
//!
//! Every engine operation takes an [`Actor`] and asks [`decide`] before it reads or writes.
//! The full model of coordinators, users and rights arrives with the directory; this
//! module fixes the shape: a pure function of (actor, action) that returns a decision
//! with a reason.

use std::fmt;

use crate::country::Participant;

/// Who performs an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Actor {
    /// The installation itself: bootstrapping, imports and scheduled jobs run by the
    /// operator of the system. Never a person acting through the API.
    System,
}

/// What an actor wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// Register a new authority in a participant's directory.
    RegisterAuthority {
        /// Where the authority belongs.
        participant: Participant,
    },
    /// Read an authority's directory entry (public contact data).
    ReadAuthority,
    /// Publish catalogue content (areas, procedures, question-set versions).
    PublishCatalogue,
}

/// Why an action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{actor} may not {action}: {reason}")]
pub struct Denial {
    /// Who asked, for the message.
    pub actor: String,
    /// What was asked, for the message.
    pub action: String,
    /// Why not.
    pub reason: &'static str,
}

/// The policy's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The action may go ahead, for this reason.
    Allow(&'static str),
    /// The action is refused.
    Forbid(Denial),
}

impl Decision {
    /// `Ok` for [`Decision::Allow`], the denial otherwise.
    pub fn into_result(self) -> Result<(), Denial> {
        match self {
            Decision::Allow(_) => Ok(()),
            Decision::Forbid(d) => Err(d),
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::System => f.write_str("the system"),
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::RegisterAuthority { participant } => {
                write!(f, "register an authority in {participant}")
            }
            Action::ReadAuthority => f.write_str("read an authority"),
            Action::PublishCatalogue => f.write_str("publish catalogue content"),
        }
    }
}

/// The access policy: a pure function of who acts and what they want to do.
pub fn decide(actor: &Actor, action: Action) -> Decision {
    match (actor, action) {
        (Actor::System, Action::RegisterAuthority { .. }) => {
            Decision::Allow("the system bootstraps the directory")
        }
        (Actor::System, Action::ReadAuthority) => {
            Decision::Allow("directory entries are visible to every registered actor")
        }
        (Actor::System, Action::PublishCatalogue) => {
            Decision::Allow("the operator installs catalogue content")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::country::Country;

    #[test]
    fn system_may_bootstrap() {
        let d = decide(
            &Actor::System,
            Action::RegisterAuthority {
                participant: Country::Denmark.into(),
            },
        );
        assert!(matches!(d, Decision::Allow(_)));
        assert!(d.into_result().is_ok());
    }
}
