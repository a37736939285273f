//! Who is acting, and whether they may: the access policy.
//!
//! [`decide`] is a pure function of an [`Actor`] and an [`Action`] that carries the facts
//! of the resource acted on (its country, region, areas). It returns
//! [`Decision::Allow`] with the rule that allowed it, or [`Decision::Forbid`] with the
//! reason. Every engine operation asks it before reading or changing anything.
//!
//! The rules (IMI-REFERENCE Part 1):
//! - the system (the installation's operator) may do everything, and alone appoints
//!   national coordinators and publishes the catalogue;
//! - directory entries are visible to every registered user;
//! - a coordinator acts only inside its scope: same country, and, for a scoped
//!   coordinator, only its regions and areas (an authority whose areas are not all inside
//!   the scope is outside it);
//! - coordinator and user-management actions need the administrator right;
//! - an authority's administrator manages its own users and directory entry.

use std::collections::BTreeSet;
use std::fmt;

use crate::authority::{Authority, CoordinatorRole, Region};
use crate::catalogue::{AreaId, ProcedureId, Right};
use crate::country::Participant;
use crate::ids::{AuthorityId, UserId};
use crate::user::{Grant, GrantScope, User};

/// An authenticated user with the facts the policy needs: their authority, its place in
/// the national structure, and their rights. Built by the engine from stored records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    user: UserId,
    authority: AuthorityId,
    participant: Participant,
    region: Option<Region>,
    procedures: BTreeSet<ProcedureId>,
    coordinator: Option<CoordinatorRole>,
    grants: Vec<Grant>,
    service: bool,
    language: crate::language::Language,
}

impl Principal {
    /// The facts of `user` working for `authority`.
    pub(crate) fn new(user: &User, authority: &Authority) -> Self {
        Self {
            user: user.id(),
            authority: authority.id(),
            participant: authority.participant(),
            region: authority.region().cloned(),
            procedures: authority.procedures().clone(),
            coordinator: authority.coordinator().cloned(),
            grants: user.grants().to_vec(),
            service: user.kind() == crate::user::UserKind::Service,
            language: user.language(),
        }
    }

    /// The language the user reads IMI in (their profile's): what answers default to when
    /// a request names none.
    pub fn language(&self) -> crate::language::Language {
        self.language
    }

    /// Whether the user is a service account (a system) rather than a person.
    pub fn is_service(&self) -> bool {
        self.service
    }

    /// The user.
    pub fn user(&self) -> UserId {
        self.user
    }

    /// Their authority.
    pub fn authority(&self) -> AuthorityId {
        self.authority
    }

    /// Their authority's country (or the Commission).
    pub fn participant(&self) -> Participant {
        self.participant
    }

    /// Their authority's coordinator role, if any.
    pub fn coordinator(&self) -> Option<&CoordinatorRole> {
        self.coordinator.as_ref()
    }

    /// Their rights.
    pub fn grants(&self) -> &[Grant] {
        &self.grants
    }

    /// Whether they hold `right` for `procedure` of `area` (through a grant on everything,
    /// on the area or on the procedure), and their authority has access to the procedure.
    pub fn holds(&self, right: Right, area: &AreaId, procedure: &ProcedureId) -> bool {
        self.procedures.contains(procedure)
            && self.grants.iter().any(|g| {
                g.right == right
                    && match &g.scope {
                        GrantScope::Everything => true,
                        GrantScope::Area(a) => a == area,
                        GrantScope::Procedure(p) => p == procedure,
                    }
            })
    }

    fn is_administrator(&self) -> bool {
        self.grants.iter().any(|g| g.right == Right::Administrator)
    }

    /// Whether the user holds `right` in any scope (rights of coordinators, which need
    /// no procedure access of their own).
    pub fn has_right(&self, right: Right) -> bool {
        self.grants.iter().any(|g| g.right == right)
    }

    /// Whether the user's authority coordinates `target` (same country, inside its
    /// scope).
    pub fn coordinates(&self, target: &Target<'_>) -> bool {
        covers(self, target)
    }
}

/// Who performs an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// The installation itself: bootstrapping, imports and scheduled jobs run by the
    /// operator of the system. Never a person acting through the API.
    System,
    /// A registered user.
    User(Principal),
    /// Anyone, without an account: sees only the public, syndicated directory.
    Public,
}

/// The facts of an authority an action concerns.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The authority, when it exists already.
    pub id: Option<AuthorityId>,
    /// Its country.
    pub participant: Participant,
    /// Its region.
    pub region: Option<&'a Region>,
    /// The areas it is competent in.
    pub areas: &'a BTreeSet<AreaId>,
}

/// What an actor wants to do, with the facts of what it is done to.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Action<'a> {
    /// Register an authority directly (it is active at once).
    RegisterAuthority(Target<'a>),
    /// Invite an authority to register itself.
    InviteAuthority(Target<'a>),
    /// Approve or reject a self-registration.
    ValidateRegistration(Target<'a>),
    /// Change an authority's directory data.
    UpdateAuthority(Target<'a>),
    /// Deregister an authority.
    DeregisterAuthority(Target<'a>),
    /// Make an authority the national coordinator of its country.
    AppointNationalCoordinator(Participant),
    /// Make an authority a coordinator for some areas and/or regions.
    AppointScopedCoordinator(Target<'a>),
    /// Give an authority access to a procedure of an area.
    GrantProcedure {
        /// The authority.
        target: Target<'a>,
        /// The procedure's area.
        area: &'a AreaId,
    },
    /// Create, change or disable an authority's users, grant their rights, and read their
    /// records.
    ManageUsers(Target<'a>),
    /// Mint an API token that acts as a user.
    IssueToken(TokenSubject<'a>),
    /// Create a service account (a system of the authority, not a person) in an authority.
    CreateServiceAccount(Target<'a>),
    /// Read directory entries and search the directory.
    ReadDirectory,
    /// Read the public part of the directory (syndication).
    ReadPublicDirectory,
    /// Create or change entries of the directory of national registers.
    ManageRegisters {
        /// The country of the register.
        participant: Participant,
        /// The area it belongs to, if any.
        area: Option<&'a AreaId>,
    },
    /// Publish catalogue content.
    PublishCatalogue,
    /// Seal the audit log.
    OperateAudit,
    /// Write synthetic load (copies of a case) for load runs and benchmarks.
    SynthesizeLoad,
    /// Verify the audit log's chain (which reveals only counts and hashes).
    VerifyAudit,
    /// Check that stored documents and their indexes agree (reads every case).
    CheckIntegrity,
}

/// Whom a new API token would act as, seen from the user who asks for it.
#[derive(Debug, Clone, Copy)]
pub enum TokenSubject<'a> {
    /// The asking user themselves.
    Myself,
    /// Another person (or an account the caller may not know of): a token for them would
    /// let the caller act, and be audited, as them.
    AnotherPerson,
    /// A service account of this authority.
    ServiceAccount(Target<'a>),
}

/// Why an action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{actor} may not {action}: {reason}")]
pub struct Denial {
    /// Who asked.
    pub actor: String,
    /// What was asked.
    pub action: &'static str,
    /// Why not.
    pub reason: &'static str,
}

/// The policy's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The action may go ahead, by this rule.
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

    /// Whether the action is allowed.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow(_))
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::System => f.write_str("the system"),
            Actor::User(p) => write!(f, "user {} of authority {}", p.user, p.authority),
            Actor::Public => f.write_str("an anonymous reader"),
        }
    }
}

impl Action<'_> {
    /// A short description for messages.
    pub fn describe(&self) -> &'static str {
        match self {
            Action::RegisterAuthority(_) => "register this authority",
            Action::InviteAuthority(_) => "invite this authority",
            Action::ValidateRegistration(_) => "validate this registration",
            Action::UpdateAuthority(_) => "change this authority",
            Action::DeregisterAuthority(_) => "deregister this authority",
            Action::AppointNationalCoordinator(_) => "appoint a national coordinator",
            Action::AppointScopedCoordinator(_) => "appoint this coordinator",
            Action::GrantProcedure { .. } => "grant this procedure",
            Action::ManageUsers(_) => "manage this authority's users",
            Action::IssueToken(_) => "issue this API token",
            Action::CreateServiceAccount(_) => "create a service account here",
            Action::ReadDirectory => "read the directory",
            Action::ReadPublicDirectory => "read the public directory",
            Action::ManageRegisters { .. } => "manage this register",
            Action::PublishCatalogue => "publish catalogue content",
            Action::OperateAudit => "seal the audit log",
            Action::SynthesizeLoad => "write synthetic load",
            Action::VerifyAudit => "verify the audit log",
            Action::CheckIntegrity => "check the store's integrity",
        }
    }
}

/// Whether `p`'s authority coordinates `target`.
fn covers(p: &Principal, target: &Target<'_>) -> bool {
    if p.participant != target.participant {
        return false;
    }
    match &p.coordinator {
        None => false,
        Some(CoordinatorRole::National) => true,
        Some(CoordinatorRole::Scoped { areas, regions }) => {
            let region_ok =
                regions.is_empty() || target.region.is_some_and(|r| regions.contains(r));
            let areas_ok =
                areas.is_empty() || (!target.areas.is_empty() && target.areas.is_subset(areas));
            region_ok && areas_ok
        }
    }
}

fn coordinates_area(p: &Principal, area: &AreaId) -> bool {
    match &p.coordinator {
        Some(CoordinatorRole::National) => true,
        Some(CoordinatorRole::Scoped { areas, .. }) => areas.is_empty() || areas.contains(area),
        None => false,
    }
}

/// The access policy: a pure function of who acts and what they want to do.
pub fn decide(actor: &Actor, action: &Action<'_>) -> Decision {
    if let Action::ReadPublicDirectory = action {
        return Decision::Allow("the public directory is open to everyone");
    }
    let p = match actor {
        Actor::System => return Decision::Allow("the system operator may do everything"),
        Actor::User(p) => p,
        Actor::Public => {
            return Decision::Forbid(Denial {
                actor: actor.to_string(),
                action: action.describe(),
                reason: "only registered users may do this",
            });
        }
    };
    let forbid = |reason| {
        Decision::Forbid(Denial {
            actor: actor.to_string(),
            action: action.describe(),
            reason,
        })
    };
    let admin = p.is_administrator();
    match action {
        Action::ReadDirectory | Action::ReadPublicDirectory => {
            Decision::Allow("directory entries are visible to every registered user")
        }
        Action::AppointNationalCoordinator(_) => {
            forbid("only the system operator appoints national coordinators")
        }
        Action::PublishCatalogue => forbid("only the system operator publishes catalogue content"),
        Action::OperateAudit => forbid("only the system operator seals the audit log"),
        Action::SynthesizeLoad => forbid("only the system operator writes synthetic load"),
        Action::CheckIntegrity => forbid("only the system operator checks the whole store"),
        Action::VerifyAudit => match (admin, &p.coordinator) {
            (true, Some(CoordinatorRole::National)) => {
                Decision::Allow("administrators of a national coordinator supervise the log")
            }
            _ => forbid(
                "only the system operator and administrators of a national coordinator verify the audit log",
            ),
        },
        Action::RegisterAuthority(t)
        | Action::InviteAuthority(t)
        | Action::ValidateRegistration(t)
        | Action::DeregisterAuthority(t) => match (admin, covers(p, t)) {
            (true, true) => {
                Decision::Allow("a coordinator's administrator acts inside the coordinator's scope")
            }
            (false, _) => forbid("this needs the administrator right"),
            (true, false) => forbid("the authority is outside the scope of the user's coordinator"),
        },
        Action::UpdateAuthority(t) | Action::ManageUsers(t) => {
            let own = t.id == Some(p.authority);
            match (admin, own, covers(p, t)) {
                (true, true, _) => {
                    Decision::Allow("an authority's administrator manages its own authority")
                }
                (true, false, true) => Decision::Allow(
                    "a coordinator's administrator acts inside the coordinator's scope",
                ),
                (false, _, _) => forbid("this needs the administrator right"),
                (true, false, false) => forbid(
                    "the authority is neither the user's own nor inside their coordinator's scope",
                ),
            }
        }
        Action::IssueToken(TokenSubject::Myself) => {
            match (p.is_service(), p.has_right(Right::ApiUser)) {
                (true, _) => forbid(
                    "a service account's tokens are issued by its authority's administrators",
                ),
                (false, true) => {
                    Decision::Allow("users with the api-user right mint their own tokens")
                }
                (false, false) => forbid("minting API tokens needs the api-user right"),
            }
        }
        Action::IssueToken(TokenSubject::AnotherPerson) => forbid(
            "a token for somebody else would let the caller act as them; people mint their own",
        ),
        Action::IssueToken(TokenSubject::ServiceAccount(_)) | Action::CreateServiceAccount(_)
            if p.is_service() =>
        {
            forbid("a service account cannot create service accounts or issue their tokens")
        }
        Action::IssueToken(TokenSubject::ServiceAccount(t)) | Action::CreateServiceAccount(t) => {
            match (admin, t.id == Some(p.authority)) {
                (true, true) => {
                    Decision::Allow("an authority's administrator manages its own service accounts")
                }
                (false, _) => forbid("this needs the administrator right"),
                (true, false) => forbid(
                    "only the authority's own administrators manage its service accounts (a coordinator would act as the authority)",
                ),
            }
        }
        Action::AppointScopedCoordinator(t) => {
            let national = p.coordinator == Some(CoordinatorRole::National);
            match (admin, national && p.participant == t.participant) {
                (true, true) => Decision::Allow(
                    "the national coordinator appoints further coordinators in its country",
                ),
                (false, _) => forbid("this needs the administrator right"),
                (true, false) => forbid(
                    "only the national coordinator of the country appoints further coordinators",
                ),
            }
        }
        Action::GrantProcedure { target, area } => {
            match (admin, covers(p, target), coordinates_area(p, area)) {
                (true, true, true) => {
                    Decision::Allow("a coordinator grants procedures of its areas inside its scope")
                }
                (false, _, _) => forbid("this needs the administrator right"),
                (true, false, _) => {
                    forbid("the authority is outside the scope of the user's coordinator")
                }
                (true, true, false) => {
                    forbid("the procedure's area is outside the coordinator's areas")
                }
            }
        }
        Action::ManageRegisters { participant, area } => {
            let area_ok = area.is_none_or(|a| coordinates_area(p, a));
            match (
                admin,
                p.coordinator.is_some() && p.participant == *participant,
                area_ok,
            ) {
                (true, true, true) => {
                    Decision::Allow("coordinators keep their country's directory of registers")
                }
                (false, _, _) => forbid("this needs the administrator right"),
                (true, false, _) => forbid("only a coordinator of the register's country keeps it"),
                (true, true, false) => {
                    forbid("the register's area is outside the coordinator's areas")
                }
            }
        }
    }
}
