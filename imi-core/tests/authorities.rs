//! Registration paths, coordinators and their scopes, national structures, users,
//! rights, tokens, duplicates and deregistration.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should panic

use std::collections::BTreeSet;
use std::sync::Arc;

use imi_core::catalogue::{AreaId, Catalogue, CatalogueSource, ProcedureId, Right};
use imi_core::store::Scan;
use imi_core::{
    Country, Engine, EngineError, Invitation, Language, LocalisedText, ManualClock, Verdict,
    access::Actor, authority::Authority, authority::AuthorityStatus, authority::AuthorityUpdate,
    authority::Competence, authority::CoordinatorRole, authority::NewAuthority, authority::Region,
    store::MemoryStore, store::Store, user::Grant, user::GrantScope, user::NewUser,
};

const CATALOGUE: &[(&str, &str)] = &[
    (
        "areas/health.toml",
        "id = \"health\"\n[name]\nen = \"Health\"\n[[procedure]]\nid = \"health-request\"\nkind = \"request\"\nquestion_set = \"qs\"\n[procedure.name]\nen = \"Health request\"\n[[procedure]]\nid = \"health-alert\"\nkind = \"alert\"\nquestion_set = \"qs\"\n[procedure.name]\nen = \"Health alert\"\n",
    ),
    (
        "areas/transport.toml",
        "id = \"transport\"\n[name]\nen = \"Transport\"\n[[procedure]]\nid = \"transport-request\"\nkind = \"request\"\nquestion_set = \"qs\"\n[procedure.name]\nen = \"Transport request\"\n",
    ),
    (
        "question-sets/qs.toml",
        "id = \"qs\"\nversion = 1\n[title]\nen = \"Q\"\n[[group]]\nid = \"g\"\n[group.title]\nen = \"G\"\n[[group.question]]\nid = \"q\"\ntype = \"yes-no\"\n[group.question.label]\nen = \"Q?\"\n",
    ),
];

struct World {
    engine: Engine,
    store: Arc<MemoryStore>,
}

fn area(s: &str) -> AreaId {
    s.parse().unwrap()
}

fn proc_(s: &str) -> ProcedureId {
    s.parse().unwrap()
}

fn new_authority(
    country: Country,
    name: &str,
    region: Option<&str>,
    areas: &[&str],
) -> NewAuthority {
    let mut n = NewAuthority::new(
        country,
        LocalisedText::new(Language::English, name).unwrap(),
    );
    n.region = region.map(|r| r.parse().unwrap());
    n.competences = areas
        .iter()
        .map(|a| Competence {
            area: area(a),
            keywords: vec![],
        })
        .collect();
    n
}

impl World {
    fn new() -> Self {
        let store = Arc::new(MemoryStore::new());
        let clock = Arc::new(ManualClock::new("2026-11-22T09:00:00Z".parse().unwrap()));
        let engine = Engine::new(store.clone(), clock);
        let sources: Vec<_> = CATALOGUE
            .iter()
            .map(|(p, t)| CatalogueSource::new(*p, *t))
            .collect();
        engine
            .publish_catalogue(&Actor::System, Catalogue::load(&sources).unwrap())
            .unwrap();
        Self { engine, store }
    }

    /// Registers an authority as the system and gives it an administrator; returns both.
    async fn authority_with_admin(&self, new: NewAuthority) -> (Authority, Actor) {
        let a = self
            .engine
            .register_authority(&Actor::System, new)
            .await
            .unwrap();
        let admin = self.admin_of(a.id()).await;
        (a, admin)
    }

    async fn admin_of(&self, id: imi_core::AuthorityId) -> Actor {
        self.user_of(
            id,
            vec![Grant::new(Right::Administrator, GrantScope::Everything)],
        )
        .await
    }

    async fn user_of(&self, id: imi_core::AuthorityId, grants: Vec<Grant>) -> Actor {
        let n = self
            .engine
            .users_of(&Actor::System, id, imi_core::PageRequest::default())
            .await
            .unwrap()
            .items
            .len();
        let user = self
            .engine
            .create_user(
                &Actor::System,
                id,
                NewUser {
                    name: format!("User {n}"),
                    email: "u@x.eu".parse().unwrap(),
                    language: Language::English,
                },
            )
            .await
            .unwrap();
        self.engine
            .set_grants(&Actor::System, user.id(), grants)
            .await
            .unwrap();
        self.engine.actor_for(user.id()).await.unwrap()
    }

    /// A national coordinator of `country` with an administrator.
    async fn national(&self, country: Country) -> (Authority, Actor) {
        let (a, _) = self
            .authority_with_admin(new_authority(
                country,
                &format!("{country} NIMIC"),
                None,
                &[],
            ))
            .await;
        self.engine
            .appoint_coordinator(&Actor::System, a.id(), Some(CoordinatorRole::National))
            .await
            .unwrap();
        let admin = self.admin_of(a.id()).await;
        (a, admin)
    }

    async fn scoped(
        &self,
        by: &Actor,
        country: Country,
        name: &str,
        areas: &[&str],
        regions: &[&str],
    ) -> (Authority, Actor) {
        let (a, _) = self
            .authority_with_admin(new_authority(country, name, None, &[]))
            .await;
        let role = CoordinatorRole::Scoped {
            areas: areas.iter().map(|a| area(a)).collect(),
            regions: regions
                .iter()
                .map(|r| r.parse().unwrap())
                .collect::<BTreeSet<Region>>(),
        };
        self.engine
            .appoint_coordinator(by, a.id(), Some(role))
            .await
            .unwrap();
        let admin = self.admin_of(a.id()).await;
        (a, admin)
    }
}

fn hidden<T: std::fmt::Debug>(r: Result<T, EngineError>) {
    match r {
        Err(EngineError::NotFound { .. }) => {}
        other => panic!("expected not found, got {other:?}"),
    }
}

fn denied<T: std::fmt::Debug>(r: Result<T, EngineError>) {
    match r {
        Err(EngineError::Denied(_)) => {}
        other => panic!("expected a denial, got {other:?}"),
    }
}

#[tokio::test]
async fn direct_registration_by_a_coordinator() {
    let w = World::new();
    let (_, nimic) = w.national(Country::Denmark).await;
    let a = w
        .engine
        .register_authority(
            &nimic,
            new_authority(
                Country::Denmark,
                "Sundhedsstyrelsen",
                Some("DK01"),
                &["health"],
            ),
        )
        .await
        .unwrap();
    assert!(a.is_active());
    // Not its country, not an administrator, not a coordinator: refused.
    denied(
        w.engine
            .register_authority(
                &nimic,
                new_authority(Country::Sweden, "Socialstyrelsen", None, &["health"]),
            )
            .await,
    );
    let clerk = w.user_of(a.id(), vec![]).await;
    denied(
        w.engine
            .register_authority(&clerk, new_authority(Country::Denmark, "X", None, &[]))
            .await,
    );
    let (_, plain_admin) = w
        .authority_with_admin(new_authority(Country::Denmark, "Plain", None, &[]))
        .await;
    denied(
        w.engine
            .register_authority(
                &plain_admin,
                new_authority(Country::Denmark, "Y", None, &[]),
            )
            .await,
    );
}

#[tokio::test]
async fn invitation_self_registration_and_validation() {
    let w = World::new();
    let (_, nimic) = w.national(Country::Germany).await;
    let (_, bavaria) = w
        .scoped(&nimic, Country::Germany, "Bayern IMI", &[], &["DE-BY"])
        .await;
    let (_, saxony) = w
        .scoped(&nimic, Country::Germany, "Sachsen IMI", &[], &["DE-SN"])
        .await;
    let invitation = Invitation {
        participant: Country::Germany.into(),
        region: Some("DE-BY".parse().unwrap()),
        areas: [area("health")].into(),
    };
    denied(w.engine.invite_authority(&saxony, invitation.clone()).await);
    let secret = w
        .engine
        .invite_authority(&bavaria, invitation)
        .await
        .unwrap();

    // Outside the invitation: refused, and the invitation is still usable.
    let wrong_region = new_authority(
        Country::Germany,
        "Ärztekammer Sachsen",
        Some("DE-SN"),
        &["health"],
    );
    assert!(matches!(
        w.engine.self_register(&secret, wrong_region).await,
        Err(EngineError::InvitationMismatch { .. })
    ));
    let wrong_area = new_authority(
        Country::Germany,
        "Bayerisches Verkehrsamt",
        Some("DE-BY"),
        &["transport"],
    );
    assert!(matches!(
        w.engine.self_register(&secret, wrong_area).await,
        Err(EngineError::InvitationMismatch { .. })
    ));

    let pending = w
        .engine
        .self_register(
            &secret,
            new_authority(
                Country::Germany,
                "Bayerische Landesärztekammer",
                Some("DE-BY"),
                &["health"],
            ),
        )
        .await
        .unwrap();
    assert_eq!(*pending.status(), AuthorityStatus::PendingValidation);
    // The coordinators' administrators are told, in the registration's commit.
    let recorder = imi_core::conformance::RecordingNotifier::default();
    let report = w
        .engine
        .dispatch(&recorder, 100, chrono::Duration::minutes(5))
        .await
        .unwrap();
    assert_eq!(report.completed, 1);
    let told = recorder.take();
    assert!(!told.is_empty());
    assert!(told.iter().all(|m| m.topic
        == imi_core::outbox::Topic::RegistrationAwaitingValidation
        && m.link == format!("/v1/authorities/{}", pending.id())));
    assert!(matches!(
        w.engine
            .self_register(
                &secret,
                new_authority(Country::Germany, "Other", Some("DE-BY"), &["health"])
            )
            .await,
        Err(EngineError::InvitationInvalid)
    ));
    let forged: imi_core::user::SecretToken = format!("imi_{}", "0".repeat(64)).parse().unwrap();
    assert!(matches!(
        w.engine
            .self_register(&forged, new_authority(Country::Germany, "Z", None, &[]))
            .await,
        Err(EngineError::InvitationInvalid)
    ));

    // The queue shows it to coordinators covering it only.
    let queue = |actor: Actor| {
        let engine = &w.engine;
        async move {
            engine
                .pending_registrations(
                    &actor,
                    Country::Germany.into(),
                    imi_core::PageRequest::default(),
                )
                .await
                .unwrap()
                .items
        }
    };
    assert_eq!(queue(bavaria.clone()).await.len(), 1);
    assert_eq!(queue(nimic.clone()).await.len(), 1);
    assert!(queue(saxony.clone()).await.is_empty());

    denied(
        w.engine
            .validate_registration(&saxony, pending.id(), Verdict::Approve)
            .await,
    );
    let active = w
        .engine
        .validate_registration(&bavaria, pending.id(), Verdict::Approve)
        .await
        .unwrap();
    assert!(active.is_active());
    assert!(queue(bavaria.clone()).await.is_empty());
    assert!(matches!(
        w.engine
            .validate_registration(&bavaria, pending.id(), Verdict::Approve)
            .await,
        Err(EngineError::InvalidState(_))
    ));

    // The rejection path keeps the reason.
    let secret = w
        .engine
        .invite_authority(
            &nimic,
            Invitation {
                participant: Country::Germany.into(),
                region: None,
                areas: BTreeSet::new(),
            },
        )
        .await
        .unwrap();
    let applicant = w
        .engine
        .self_register(
            &secret,
            new_authority(Country::Germany, "Scheinbehörde", None, &[]),
        )
        .await
        .unwrap();
    assert!(
        w.engine
            .validate_registration(
                &nimic,
                applicant.id(),
                Verdict::Reject { reason: " ".into() }
            )
            .await
            .is_err()
    );
    let rejected = w
        .engine
        .validate_registration(
            &nimic,
            applicant.id(),
            Verdict::Reject {
                reason: "not a public authority".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        *rejected.status(),
        AuthorityStatus::Rejected {
            reason: "not a public authority".into()
        }
    );
}

#[tokio::test]
async fn coordinators_act_only_inside_their_scope() {
    let w = World::new();
    let (_, nimic) = w.national(Country::Spain).await;
    let (_, catalonia) = w
        .scoped(&nimic, Country::Spain, "Catalunya IMI", &[], &["ES51"])
        .await;
    let (_, health) = w
        .scoped(&nimic, Country::Spain, "Sanidad IMI", &["health"], &[])
        .await;

    // A regional coordinator acting outside its region is denied.
    denied(
        w.engine
            .register_authority(
                &catalonia,
                new_authority(Country::Spain, "Madrid salud", Some("ES30"), &["health"]),
            )
            .await,
    );
    denied(
        w.engine
            .register_authority(
                &catalonia,
                new_authority(Country::Spain, "Sin región", None, &["health"]),
            )
            .await,
    );
    let inside = w
        .engine
        .register_authority(
            &catalonia,
            new_authority(
                Country::Spain,
                "Col·legi de Metges",
                Some("ES51"),
                &["health"],
            ),
        )
        .await
        .unwrap();

    // An area coordinator: only authorities all of whose areas it coordinates.
    denied(
        w.engine
            .register_authority(
                &health,
                new_authority(
                    Country::Spain,
                    "Mixta",
                    Some("ES30"),
                    &["health", "transport"],
                ),
            )
            .await,
    );
    denied(
        w.engine
            .register_authority(
                &health,
                new_authority(Country::Spain, "Tráfico", Some("ES30"), &["transport"]),
            )
            .await,
    );
    let hospital = w
        .engine
        .register_authority(
            &health,
            new_authority(Country::Spain, "Hospital", Some("ES30"), &["health"]),
        )
        .await
        .unwrap();

    // Granting procedures: inside the scope and the coordinator's areas only.
    w.engine
        .grant_procedure(&health, hospital.id(), &proc_("health-request"))
        .await
        .unwrap();
    denied(
        w.engine
            .grant_procedure(&health, hospital.id(), &proc_("transport-request"))
            .await,
    );
    denied(
        w.engine
            .grant_procedure(&catalonia, hospital.id(), &proc_("health-request"))
            .await,
    );
    w.engine
        .grant_procedure(&catalonia, inside.id(), &proc_("health-request"))
        .await
        .unwrap();

    // Only the national coordinator appoints further coordinators, only the system the national one.
    let (other, _) = w
        .authority_with_admin(new_authority(Country::Spain, "Otra", None, &[]))
        .await;
    denied(
        w.engine
            .appoint_coordinator(
                &catalonia,
                other.id(),
                Some(CoordinatorRole::Scoped {
                    areas: BTreeSet::new(),
                    regions: BTreeSet::new(),
                }),
            )
            .await,
    );
    denied(
        w.engine
            .appoint_coordinator(&nimic, other.id(), Some(CoordinatorRole::National))
            .await,
    );

    // Updates: own authority or inside the scope.
    let own_admin = w.admin_of(hospital.id()).await;
    let update = AuthorityUpdate {
        languages: Some(vec![Language::Spanish]),
        ..Default::default()
    };
    w.engine
        .update_authority(&own_admin, hospital.id(), update.clone())
        .await
        .unwrap();
    w.engine
        .update_authority(&health, hospital.id(), update.clone())
        .await
        .unwrap();
    denied(
        w.engine
            .update_authority(&catalonia, hospital.id(), update.clone())
            .await,
    );
    denied(
        w.engine
            .update_authority(&own_admin, inside.id(), update)
            .await,
    );
}

#[tokio::test]
async fn one_national_coordinator_per_country() {
    let w = World::new();
    let (first, _) = w.national(Country::Italy).await;
    let (second, _) = w
        .authority_with_admin(new_authority(Country::Italy, "Secondo", None, &[]))
        .await;
    assert!(matches!(
        w.engine
            .appoint_coordinator(&Actor::System, second.id(), Some(CoordinatorRole::National))
            .await,
        Err(EngineError::NationalCoordinatorExists {
            country: Country::Italy
        })
    ));
    assert_eq!(
        w.engine
            .national_coordinator(&Actor::System, Country::Italy)
            .await
            .unwrap()
            .unwrap()
            .id(),
        first.id()
    );
    // Removing the role frees the slot.
    w.engine
        .appoint_coordinator(&Actor::System, first.id(), None)
        .await
        .unwrap();
    w.engine
        .appoint_coordinator(&Actor::System, second.id(), Some(CoordinatorRole::National))
        .await
        .unwrap();
    assert_eq!(
        w.engine
            .national_coordinator(&Actor::System, Country::Italy)
            .await
            .unwrap()
            .unwrap()
            .id(),
        second.id()
    );
    // Another country is independent.
    w.national(Country::Malta).await;
}

#[tokio::test]
async fn centralised_decentralised_and_mixed_structures() {
    let w = World::new();
    let request = proc_("health-request");
    let handler = |scope| vec![Grant::new(Right::RequestHandler, scope)];

    // Centralised (Malta): the national coordinator is the only competent authority and
    // sends and receives for the whole country.
    let (mt, _) = w.national(Country::Malta).await;
    w.engine
        .update_authority(
            &Actor::System,
            mt.id(),
            AuthorityUpdate {
                competences: Some(vec![Competence {
                    area: area("health"),
                    keywords: vec![],
                }]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    w.engine
        .grant_procedure(&Actor::System, mt.id(), &request)
        .await
        .unwrap();
    let Actor::User(clerk) = w.user_of(mt.id(), handler(GrantScope::Everything)).await else {
        panic!()
    };
    assert!(clerk.holds(Right::RequestHandler, &area("health"), &request));
    assert!(
        clerk.coordinator().is_some(),
        "the coordinator acts as a competent authority too"
    );
    let recipients = w
        .engine
        .recipients(
            &Actor::System,
            &request,
            Some(Country::Malta.into()),
            imi_core::PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        recipients.items.iter().map(|a| a.id()).collect::<Vec<_>>(),
        vec![mt.id()]
    );

    // Fully decentralised (Finland): the national coordinator only registers and grants;
    // every competent authority exchanges directly.
    let (_, fi) = w.national(Country::Finland).await;
    for name in ["Valvira", "Fimea", "THL"] {
        let a = w
            .engine
            .register_authority(
                &fi,
                new_authority(Country::Finland, name, None, &["health"]),
            )
            .await
            .unwrap();
        w.engine
            .grant_procedure(&fi, a.id(), &request)
            .await
            .unwrap();
    }
    let recipients = w
        .engine
        .recipients(
            &Actor::System,
            &request,
            Some(Country::Finland.into()),
            imi_core::PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(recipients.items.len(), 3);

    // Mixed (Belgium): regional coordinators register their regions' authorities; an area
    // coordinator covers health nationally.
    let (_, be) = w.national(Country::Belgium).await;
    let (_, flanders) = w
        .scoped(&be, Country::Belgium, "Vlaanderen IMI", &[], &["BE2"])
        .await;
    let (_, wallonia) = w
        .scoped(&be, Country::Belgium, "Wallonie IMI", &[], &["BE3"])
        .await;
    let (_, health) = w
        .scoped(
            &be,
            Country::Belgium,
            "FOD Volksgezondheid IMI",
            &["health"],
            &[],
        )
        .await;
    let v = w
        .engine
        .register_authority(
            &flanders,
            new_authority(
                Country::Belgium,
                "Vlaams Agentschap Zorg",
                Some("BE2"),
                &["health"],
            ),
        )
        .await
        .unwrap();
    let wa = w
        .engine
        .register_authority(
            &wallonia,
            new_authority(Country::Belgium, "AViQ", Some("BE3"), &["health"]),
        )
        .await
        .unwrap();
    denied(
        w.engine
            .register_authority(
                &flanders,
                new_authority(
                    Country::Belgium,
                    "SPW Mobilité",
                    Some("BE3"),
                    &["transport"],
                ),
            )
            .await,
    );
    w.engine
        .grant_procedure(&health, v.id(), &request)
        .await
        .unwrap();
    w.engine
        .grant_procedure(&health, wa.id(), &request)
        .await
        .unwrap();
    let recipients = w
        .engine
        .recipients(
            &Actor::System,
            &request,
            Some(Country::Belgium.into()),
            imi_core::PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(recipients.items.len(), 2);
}

#[tokio::test]
async fn users_and_rights() {
    let w = World::new();
    let (_, nimic) = w.national(Country::Austria).await;
    let a = w
        .engine
        .register_authority(
            &nimic,
            new_authority(
                Country::Austria,
                "Österreichische Ärztekammer",
                None,
                &["health"],
            ),
        )
        .await
        .unwrap();
    w.engine
        .grant_procedure(&nimic, a.id(), &proc_("health-request"))
        .await
        .unwrap();
    // The coordinator creates the first administrator; that administrator manages the rest.
    let admin_user = w
        .engine
        .create_user(
            &nimic,
            a.id(),
            NewUser {
                name: "Anna Admin".into(),
                email: "anna@aerztekammer.at".parse().unwrap(),
                language: Language::German,
            },
        )
        .await
        .unwrap();
    w.engine
        .set_grants(
            &nimic,
            admin_user.id(),
            vec![Grant::new(Right::Administrator, GrantScope::Everything)],
        )
        .await
        .unwrap();
    let admin = w.engine.actor_for(admin_user.id()).await.unwrap();
    let clerk = w
        .engine
        .create_user(
            &admin,
            a.id(),
            NewUser {
                name: "Karl Sachbearbeiter".into(),
                email: "karl@aerztekammer.at".parse().unwrap(),
                language: Language::German,
            },
        )
        .await
        .unwrap();

    // Valid grants, per procedure and per area.
    let ok = vec![
        Grant::new(
            Right::RequestHandler,
            GrantScope::Procedure(proc_("health-request")),
        ),
        Grant::new(Right::Viewer, GrantScope::Area(area("health"))),
    ];
    let clerk = w.engine.set_grants(&admin, clerk.id(), ok).await.unwrap();
    assert_eq!(clerk.grants().len(), 2);
    // Invalid grants are refused with a reason.
    for bad in [
        Grant::new(
            Right::RequestHandler,
            GrantScope::Procedure(proc_("transport-request")),
        ),
        Grant::new(
            Right::IncomingAlertHandler,
            GrantScope::Procedure(proc_("health-request")),
        ),
        Grant::new(Right::Viewer, GrantScope::Area(area("transport"))),
        Grant::new(Right::Administrator, GrantScope::Area(area("health"))),
    ] {
        assert!(
            matches!(
                w.engine
                    .set_grants(&admin, clerk.id(), vec![bad.clone()])
                    .await,
                Err(EngineError::BadGrant { .. })
            ),
            "{bad:?}"
        );
    }
    // Someone else's administrator cannot touch these users.
    let (_, stranger) = w
        .authority_with_admin(new_authority(Country::Austria, "Fremd", None, &[]))
        .await;
    // Whoever may not manage a user is not told it exists.
    hidden(w.engine.set_grants(&stranger, clerk.id(), vec![]).await);
    hidden(w.engine.user(&stranger, clerk.id()).await);
    denied(
        w.engine
            .create_user(
                &stranger,
                a.id(),
                NewUser {
                    name: "X".into(),
                    email: "x@y.at".parse().unwrap(),
                    language: Language::German,
                },
            )
            .await,
    );
    // A clerk without the administrator right cannot manage users, but can read themselves.
    let clerk_actor = w.engine.actor_for(clerk.id()).await.unwrap();
    hidden(w.engine.disable_user(&clerk_actor, admin_user.id()).await);
    assert_eq!(
        w.engine
            .user(&clerk_actor, clerk.id())
            .await
            .unwrap()
            .name(),
        "Karl Sachbearbeiter"
    );

    // Tokens: minting one's own needs the api-user right; nobody mints one for somebody
    // else (the administrator neither). Issued once, stored hashed, they authenticate to
    // the current rights.
    denied(w.engine.issue_token(&clerk_actor, clerk.id()).await);
    denied(w.engine.issue_token(&admin, clerk.id()).await);
    let mut grants = clerk.grants().to_vec();
    grants.push(Grant::new(Right::ApiUser, GrantScope::Everything));
    w.engine
        .set_grants(&admin, clerk.id(), grants)
        .await
        .unwrap();
    let clerk_actor = w.engine.actor_for(clerk.id()).await.unwrap();
    let token = w
        .engine
        .issue_token(&clerk_actor, clerk.id())
        .await
        .unwrap();
    let Actor::User(p) = w.engine.authenticate(&token).await.unwrap() else {
        panic!()
    };
    assert_eq!((p.user(), p.authority()), (clerk.id(), a.id()));
    assert!(p.holds(
        Right::RequestHandler,
        &area("health"),
        &proc_("health-request")
    ));
    let all = w.store.scan(&Scan::all(10_000)).await.unwrap();
    assert!(
        all.entries.iter().all(|e| !e
            .value
            .windows(20)
            .any(|w| w == &token.expose().as_bytes()[..20])),
        "the token is never stored in clear"
    );

    // Disabling keeps the record (past actions stay attributable) and stops sign-in.
    let disabled = w.engine.disable_user(&admin, clerk.id()).await.unwrap();
    assert!(!disabled.is_active());
    assert!(matches!(
        w.engine.authenticate(&token).await,
        Err(EngineError::Unauthenticated)
    ));
    // The record stays (past actions remain attributed to its id), but the former
    // user's name and address are blocked in normal reads; the operator keeps them.
    let shown = w.engine.user(&admin, clerk.id()).await.unwrap();
    assert_eq!(
        (shown.id(), shown.name()),
        (clerk.id(), "(blocked former user)")
    );
    assert_eq!(
        w.engine
            .user(&Actor::System, clerk.id())
            .await
            .unwrap()
            .name(),
        "Karl Sachbearbeiter"
    );
    assert!(matches!(
        w.engine.disable_user(&admin, clerk.id()).await,
        Err(EngineError::InvalidState(_))
    ));
}

#[tokio::test]
async fn likely_duplicates_are_detected_by_folded_name_and_country() {
    let w = World::new();
    w.engine
        .register_authority(
            &Actor::System,
            new_authority(Country::Germany, "Bundesärztekammer", None, &[]),
        )
        .await
        .unwrap();
    for again in [
        "BUNDESÄRZTEKAMMER",
        "Bundesarztekammer",
        "bundesärztekammer.",
    ] {
        match w
            .engine
            .register_authority(
                &Actor::System,
                new_authority(Country::Germany, again, None, &[]),
            )
            .await
        {
            Err(EngineError::LikelyDuplicate { candidates }) => assert_eq!(candidates.len(), 1),
            other => panic!("{again}: expected a likely duplicate, got {other:?}"),
        }
    }
    // Another country, or an explicit confirmation, registers it.
    w.engine
        .register_authority(
            &Actor::System,
            new_authority(Country::Austria, "Bundesärztekammer", None, &[]),
        )
        .await
        .unwrap();
    let mut confirmed = new_authority(Country::Germany, "Bundesärztekammer", None, &[]);
    confirmed.confirmed_not_duplicate = true;
    w.engine
        .register_authority(&Actor::System, confirmed)
        .await
        .unwrap();
    // A translation that matches counts too.
    let mut translated = new_authority(Country::Germany, "Ordre des médecins allemand", None, &[]);
    translated
        .name
        .set(Language::German, "Bundesaerztekammer")
        .unwrap();
    translated
        .name
        .set(Language::Danish, "Bundesärztekammer")
        .unwrap();
    assert!(matches!(
        w.engine
            .register_authority(&Actor::System, translated)
            .await,
        Err(EngineError::LikelyDuplicate { .. })
    ));
}

#[tokio::test]
async fn deregistration_keeps_history() {
    let w = World::new();
    let (_, nimic) = w.national(Country::Poland).await;
    let a = w
        .engine
        .register_authority(
            &nimic,
            new_authority(Country::Poland, "Naczelna Izba Lekarska", None, &["health"]),
        )
        .await
        .unwrap();
    w.engine
        .grant_procedure(&nimic, a.id(), &proc_("health-request"))
        .await
        .unwrap();
    let staff = w.admin_of(a.id()).await;
    let Actor::User(p) = &staff else { panic!() };
    let token = w
        .engine
        .issue_token(&Actor::System, p.user())
        .await
        .unwrap();

    let gone = w
        .engine
        .deregister_authority(&nimic, a.id(), "merged into another chamber")
        .await
        .unwrap();
    assert!(
        matches!(gone.status(), AuthorityStatus::Deregistered { reason, .. } if reason == "merged into another chamber")
    );
    // The record stays readable and listed; its users are kept but cannot sign in.
    assert_eq!(
        w.engine
            .authority(&Actor::System, a.id())
            .await
            .unwrap()
            .name(),
        a.name()
    );
    let listed = w
        .engine
        .authorities_of(
            &Actor::System,
            Country::Poland.into(),
            imi_core::PageRequest::default(),
        )
        .await
        .unwrap();
    assert!(listed.items.iter().any(|x| x.id() == a.id()));
    assert!(matches!(
        w.engine.authenticate(&token).await,
        Err(EngineError::Unauthenticated)
    ));
    assert_eq!(
        w.engine
            .users_of(&Actor::System, a.id(), imi_core::PageRequest::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    // It is no longer offered as a recipient, and its name can be reused.
    let recipients = w
        .engine
        .recipients(
            &Actor::System,
            &proc_("health-request"),
            Some(Country::Poland.into()),
            imi_core::PageRequest::default(),
        )
        .await
        .unwrap();
    assert!(recipients.items.is_empty());
    w.engine
        .register_authority(
            &nimic,
            new_authority(Country::Poland, "Naczelna Izba Lekarska", None, &["health"]),
        )
        .await
        .unwrap();
    assert!(matches!(
        w.engine.deregister_authority(&nimic, a.id(), "again").await,
        Err(EngineError::InvalidState(_))
    ));
}

fn text(en: &str, de: &str) -> LocalisedText {
    LocalisedText::from_pairs([(Language::English, en), (Language::German, de)]).unwrap()
}

fn register_data(
    country: Country,
    area_id: Option<&str>,
    name: (&str, &str),
) -> imi_core::register::RegisterData {
    imi_core::register::RegisterData {
        participant: country.into(),
        area: area_id.map(area),
        name: text(name.0, name.1),
        content: text(
            "Registered doctors and their specialties",
            "Eingetragene Ärzte und ihre Fachgebiete",
        ),
        access_conditions: text("Public, free of charge", "Öffentlich, kostenlos"),
        contact: Default::default(),
        link: Some("https://example.eu/register".into()),
    }
}

#[tokio::test]
async fn the_directory_of_registers() {
    let w = World::new();
    let (_, nimic) = w.national(Country::Germany).await;
    let (_, health) = w
        .scoped(&nimic, Country::Germany, "Gesundheit IMI", &["health"], &[])
        .await;
    let (_, plain) = w
        .authority_with_admin(new_authority(Country::Germany, "Plain", None, &[]))
        .await;

    let doctors = w
        .engine
        .create_register(
            &health,
            register_data(
                Country::Germany,
                Some("health"),
                ("Federal register of physicians", "Bundesarztregister"),
            ),
        )
        .await
        .unwrap();
    denied(
        w.engine
            .create_register(
                &health,
                register_data(
                    Country::Germany,
                    Some("transport"),
                    ("Vehicle register", "Fahrzeugregister"),
                ),
            )
            .await,
    );
    denied(
        w.engine
            .create_register(&plain, register_data(Country::Germany, None, ("X", "X")))
            .await,
    );
    denied(
        w.engine
            .create_register(&nimic, register_data(Country::Austria, None, ("X", "X")))
            .await,
    );
    denied(
        w.engine
            .create_register(
                &Actor::Public,
                register_data(Country::Germany, None, ("X", "X")),
            )
            .await,
    );
    let trade = w
        .engine
        .create_register(
            &nimic,
            register_data(
                Country::Germany,
                None,
                ("Trade register", "Handelsregister"),
            ),
        )
        .await
        .unwrap();
    let mut bad = register_data(Country::Germany, None, ("Y", "Y"));
    bad.link = Some("javascript:alert(1)".into());
    assert!(w.engine.create_register(&nimic, bad).await.is_err());

    let reader = imi_core::LanguagePreferences::only(Language::German);
    let find = |q: imi_core::RegisterQuery| {
        let (engine, reader, actor) = (&w.engine, reader.clone(), plain.clone());
        async move {
            engine
                .search_registers(&actor, &q, &reader, imi_core::PageRequest::default())
                .await
                .unwrap()
                .items
        }
    };
    let q = |t: &str| imi_core::RegisterQuery {
        text: Some(t.into()),
        ..Default::default()
    };
    let hits = find(q("bundesarzt")).await;
    assert_eq!(hits.len(), 1);
    assert_eq!(
        (hits[0].register.id, hits[0].name.as_str()),
        (doctors.id, "Bundesarztregister")
    );
    assert_eq!(find(q("physicians")).await.len(), 1, "any language");
    assert_eq!(
        find(q("arzte fachgebiete")).await.len(),
        2,
        "content descriptions, folded"
    );
    assert_eq!(
        find(imi_core::RegisterQuery {
            area: Some(area("health")),
            ..Default::default()
        })
        .await
        .len(),
        1
    );
    assert_eq!(
        find(imi_core::RegisterQuery {
            participant: Some(Country::Austria.into()),
            ..Default::default()
        })
        .await
        .len(),
        0
    );

    // Updating re-indexes; deleting removes.
    let renamed = register_data(
        Country::Germany,
        None,
        ("Companies register", "Unternehmensregister"),
    );
    w.engine
        .update_register(&nimic, trade.id, renamed)
        .await
        .unwrap();
    assert!(find(q("handelsregister")).await.is_empty());
    assert_eq!(find(q("unternehmensreg")).await.len(), 1);
    denied(w.engine.delete_register(&plain, doctors.id).await);
    w.engine.delete_register(&health, doctors.id).await.unwrap();
    assert!(find(q("bundesarzt")).await.is_empty());
    assert!(matches!(
        w.engine.register(&plain, doctors.id).await,
        Err(EngineError::NotFound { .. })
    ));
}

#[tokio::test]
async fn syndication_publishes_public_data_and_a_change_feed() {
    let w = World::new();
    let clock = Arc::new(ManualClock::new("2026-11-22T09:00:00Z".parse().unwrap()));
    let engine = Engine::new(w.store.clone(), clock.clone());
    engine
        .publish_catalogue(&Actor::System, w.engine.catalogue().as_ref().clone())
        .unwrap();
    let t0 = imi_core::Clock::now(clock.as_ref());
    let (_, nimic) = {
        let a = engine
            .register_authority(
                &Actor::System,
                new_authority(Country::Ireland, "Department of Health", None, &["health"]),
            )
            .await
            .unwrap();
        engine
            .appoint_coordinator(&Actor::System, a.id(), Some(CoordinatorRole::National))
            .await
            .unwrap();
        let u = engine
            .create_user(
                &Actor::System,
                a.id(),
                NewUser {
                    name: "Siobhán Secret".into(),
                    email: "siobhan@health.ie".parse().unwrap(),
                    language: Language::Irish,
                },
            )
            .await
            .unwrap();
        engine
            .set_grants(
                &Actor::System,
                u.id(),
                vec![Grant::new(Right::Administrator, GrantScope::Everything)],
            )
            .await
            .unwrap();
        (a, engine.actor_for(u.id()).await.unwrap())
    };
    clock.advance(chrono::Duration::hours(1));
    let t1 = imi_core::Clock::now(clock.as_ref());
    let nmbi = engine
        .register_authority(
            &nimic,
            new_authority(
                Country::Ireland,
                "Nursing and Midwifery Board",
                None,
                &["health"],
            ),
        )
        .await
        .unwrap();
    let secret = engine
        .invite_authority(
            &nimic,
            Invitation {
                participant: Country::Ireland.into(),
                region: None,
                areas: BTreeSet::new(),
            },
        )
        .await
        .unwrap();
    engine
        .self_register(
            &secret,
            new_authority(Country::Ireland, "Pending Applicant", None, &[]),
        )
        .await
        .unwrap();
    clock.advance(chrono::Duration::hours(1));
    engine
        .deregister_authority(&nimic, nmbi.id(), "merged")
        .await
        .unwrap();

    // The export: active authorities only, never user data, open to the public.
    let export = engine
        .syndication_export(&Actor::Public, imi_core::PageRequest::default())
        .await
        .unwrap();
    assert_eq!(export.items.len(), 1);
    assert!(export.items[0].coordinator);
    let json = serde_json::to_string(&export.items).unwrap();
    for secret_bit in ["Siobh", "siobhan@", "Pending Applicant", "Nursing"] {
        assert!(
            !json.contains(secret_bit),
            "{secret_bit} leaked into {json}"
        );
    }
    denied(
        engine
            .search_directory(
                &Actor::Public,
                &Default::default(),
                &Default::default(),
                imi_core::PageRequest::default(),
            )
            .await,
    );
    denied(engine.authority(&Actor::Public, nmbi.id()).await);

    // The feed since t1: the new board appeared, then left; the applicant never appears.
    let feed = engine
        .directory_changes(&Actor::Public, t1, imi_core::PageRequest::default())
        .await
        .unwrap();
    let entries: Vec<_> = feed
        .items
        .iter()
        .map(|c| (c.authority, c.entry.is_some()))
        .collect();
    assert_eq!(
        entries,
        vec![(nmbi.id(), false), (nmbi.id(), false)],
        "both changes, each with the current state (withdrawn)"
    );
    assert!(feed.items.iter().all(|c| c.at >= t1));
    let all = engine
        .directory_changes(&Actor::Public, t0, imi_core::PageRequest::first(1).unwrap())
        .await
        .unwrap();
    assert_eq!(all.items.len(), 1);
    let rest = engine
        .directory_changes(
            &Actor::Public,
            t0,
            imi_core::PageRequest::first(10)
                .unwrap()
                .after(all.next.unwrap()),
        )
        .await
        .unwrap();
    // Registration and appointment at the same millisecond collapse into one entry.
    assert_eq!(rest.items.len(), 2);
}
