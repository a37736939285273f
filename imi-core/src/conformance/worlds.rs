//! The worlds the engine scenarios, the property tests, the HTTP tests and the benches
//! build: catalogues, authorities, users and rights, in one place.

#[allow(unused_imports)]
use super::*;

/// The one builder of test worlds: an engine on a store with a manual clock standing at
/// 2026-11-22 09:00 UTC, a catalogue published from text, and authorities each with one
/// user holding one right. The scenarios below, the property tests and the HTTP tests
/// build their worlds with it.
pub struct WorldBuilder {
    /// The engine.
    pub engine: crate::Engine,
    /// Its clock.
    pub clock: Arc<crate::ManualClock>,
}

/// One authority of a world and its one user, for [`WorldBuilder::member`].
#[derive(Debug, Clone)]
pub struct Member<'a> {
    /// Its country, or the Commission.
    pub participant: crate::Participant,
    /// Its name (in English).
    pub name: &'a str,
    /// The area it is competent in.
    pub area: &'a str,
    /// The procedure it has access to.
    pub procedure: &'a str,
    /// The right its user holds (for everything).
    pub right: crate::catalogue::Right,
    /// Its user's name.
    pub user: &'a str,
    /// Its user's language.
    pub language: crate::Language,
}

impl<'a> Member<'a> {
    /// An authority of `participant` named `name`, competent in `area` with access to
    /// `procedure`, whose user `User` (English) holds `right`.
    pub fn new(
        participant: crate::Participant,
        name: &'a str,
        area: &'a str,
        procedure: &'a str,
        right: crate::catalogue::Right,
    ) -> Self {
        Self {
            participant,
            name,
            area,
            procedure,
            right,
            user: "User",
            language: crate::Language::English,
        }
    }

    /// The same, with this user name and language.
    pub fn user(self, user: &'a str, language: crate::Language) -> Self {
        Self {
            user,
            language,
            ..self
        }
    }
}

impl WorldBuilder {
    /// An engine on `store` and a manual clock.
    pub fn new(store: Arc<dyn Store>) -> Self {
        let clock = Arc::new(crate::ManualClock::new(
            "2026-11-22T09:00:00Z".parse().expect("a valid time"),
        ));
        Self {
            engine: crate::Engine::new(store, clock.clone()),
            clock,
        }
    }

    /// The same engine with a key for sealing webhook secrets.
    pub fn with_secret_key(self, key: [u8; 32]) -> Self {
        Self {
            engine: self
                .engine
                .with_secret_key(crate::webhook::SecretKey::from_bytes(key)),
            ..self
        }
    }

    /// Publishes the catalogue of these `(path, text)` files.
    pub fn catalogue(self, files: &[(&str, &str)]) -> Self {
        use crate::catalogue::{Catalogue, CatalogueSource};
        let sources: Vec<CatalogueSource> = files
            .iter()
            .map(|(path, text)| CatalogueSource::new(*path, *text))
            .collect();
        self.engine
            .publish_catalogue(
                &crate::access::Actor::System,
                Catalogue::load(&sources).unwrap(),
            )
            .unwrap();
        self
    }

    /// Registers `m` and its user; returns the user as an actor and the authority.
    pub async fn member(&self, m: Member<'_>) -> (crate::access::Actor, crate::AuthorityId) {
        add_member(&self.engine, m).await
    }
}

/// [`WorldBuilder::member`] on an engine a world already made.
pub async fn add_member(
    engine: &crate::Engine,
    m: Member<'_>,
) -> (crate::access::Actor, crate::AuthorityId) {
    {
        use crate::{
            Language, LocalisedText, access::Actor, authority::Competence, authority::NewAuthority,
            user::Grant, user::GrantScope, user::NewUser,
        };
        let mut n = NewAuthority::new(
            m.participant,
            LocalisedText::new(Language::English, m.name).unwrap(),
        );
        n.competences = vec![Competence {
            area: m.area.parse().unwrap(),
            keywords: vec![],
        }];
        n.confirmed_not_duplicate = true;
        let a = engine.register_authority(&Actor::System, n).await.unwrap();
        engine
            .grant_procedure(&Actor::System, a.id(), &m.procedure.parse().unwrap())
            .await
            .unwrap();
        let u = engine
            .create_user(
                &Actor::System,
                a.id(),
                NewUser {
                    name: m.user.into(),
                    email: "u@x.eu".parse().unwrap(),
                    language: m.language,
                },
            )
            .await
            .unwrap();
        engine
            .set_grants(
                &Actor::System,
                u.id(),
                vec![Grant::new(m.right, GrantScope::Everything)],
            )
            .await
            .unwrap();
        (engine.actor_for(u.id()).await.unwrap(), a.id())
    }
}

pub(crate) fn engine_on(store: Arc<dyn Store>) -> crate::Engine {
    WorldBuilder::new(store).engine
}

/// A question set for nurse checks: a name (personal data), a profession, and two
/// questions the responder answers.
pub const REQUEST_QS: &str = "id = \"nurse-check\"\nversion = 1\n[title]\nen = \"Nurse\"\nda = \"Sygeplejerske\"\nfr = \"Infirmier\"\n[[group]]\nid = \"g\"\n[group.title]\nen = \"G\"\n[[group.question]]\nid = \"holder\"\ntype = \"free-text\"\nrequired = \"to-send\"\npersonal_data = true\n[group.question.label]\nen = \"Name\"\nda = \"Navn\"\nfr = \"Nom\"\n[[group.question]]\nid = \"profession\"\ntype = \"single-choice\"\nrequired = \"to-send\"\n[group.question.label]\nen = \"Profession\"\n[[group.question.option]]\nid = \"nurse\"\n[group.question.option.label]\nen = \"Nurse\"\nda = \"Sygeplejerske\"\nfr = \"Infirmier\"\n[[group.question.option]]\nid = \"doctor\"\n[group.question.option.label]\nen = \"Doctor\"\n[[group.question]]\nid = \"authentic\"\ntype = \"yes-no\"\nrequired = \"to-send\"\nanswered_by = \"responder\"\n[group.question.label]\nen = \"Authentic?\"\nda = \"Ægte?\"\nfr = \"Authentique ?\"\n[[group.question]]\nid = \"registered\"\ntype = \"yes-no\"\nanswered_by = \"responder\"\n[group.question.label]\nen = \"Registered?\"\n";
/// A health area with one request procedure, `nurse-check`.
pub const REQUEST_AREA: &str = "id = \"health\"\n[name]\nen = \"Health\"\n[[procedure]]\nid = \"nurse-check\"\nkind = \"request\"\nquestion_set = \"nurse-check\"\n[procedure.name]\nen = \"Nurse check\"\n";

pub(crate) fn paul_id(actor: &crate::access::Actor) -> crate::UserId {
    match actor {
        crate::access::Actor::User(p) => p.user(),
        _ => panic!("a user"),
    }
}

/// Shared set-up of the request scenarios: DK (requester), FR and BE (responders) with
/// request handlers, a FR allocator, the DK national coordinator with the referral
/// right.
/// The shared world of the request scenarios, on one backend.
pub(crate) struct RequestWorld {
    pub(crate) engine: crate::Engine,
    pub(crate) clock: Arc<crate::ManualClock>,
    /// DK handler, FR handler, BE handler, FR allocator, DK coordinator (referral
    /// right), second FR handler, IT handler (a stranger to the case).
    pub(crate) actors: Vec<crate::access::Actor>,
    /// The authority of each actor.
    pub(crate) ids: Vec<crate::AuthorityId>,
    /// A request drafted by DK with a name and a profession, and (if asked) sent to FR.
    pub(crate) case: crate::CaseId,
}

/// A request of `procedure` drafted by `actor` with a holder's name and a profession
/// (`nurse` or `doctor`), not sent.
pub async fn nurse_draft(
    engine: &crate::Engine,
    actor: &crate::access::Actor,
    procedure: &str,
    holder: &str,
    profession: &str,
) -> crate::CaseId {
    use crate::catalogue::{AnswerValue, Answers};
    let id = engine
        .create_request(actor, &procedure.parse().unwrap())
        .await
        .unwrap()
        .case
        .id;
    let mut answers = Answers::new();
    answers.set("holder".parse().unwrap(), AnswerValue::Text(holder.into()));
    answers.set(
        "profession".parse().unwrap(),
        AnswerValue::Choice(profession.parse().unwrap()),
    );
    let save = crate::request::RequestCommand::SaveDraft { answers };
    engine.act_on_request(actor, id, save, None).await.unwrap();
    id
}

pub(crate) async fn request_world_with(
    store: Arc<dyn Store>,
    area: &str,
    questions: &str,
    send: bool,
) -> RequestWorld {
    use crate::catalogue::{Catalogue, CatalogueSource, Right};
    use crate::request::RequestCommand as C;
    use crate::{
        Country, Language, LocalisedText, access::Actor, authority::AuthorityUpdate,
        authority::Competence, authority::CoordinatorRole, authority::NewAuthority, user::Grant,
        user::GrantScope, user::NewUser,
    };
    let clock = Arc::new(crate::ManualClock::new(
        "2026-11-22T09:00:00Z".parse().unwrap(),
    ));
    let engine = crate::Engine::new(store, clock.clone());
    let sources = [
        CatalogueSource::new("areas/h.toml", area),
        CatalogueSource::new("question-sets/q.toml", questions),
    ];
    engine
        .publish_catalogue(&Actor::System, Catalogue::load(&sources).unwrap())
        .unwrap();
    let mut actors = Vec::new();
    let mut ids: Vec<crate::AuthorityId> = Vec::new();
    let specs = [
        (Country::Denmark, Right::RequestHandler),
        (Country::France, Right::RequestHandler),
        (Country::Belgium, Right::RequestHandler),
        (Country::France, Right::Allocator),
        (Country::Denmark, Right::ReferralHandler),
        (Country::France, Right::RequestHandler),
        (Country::Italy, Right::RequestHandler),
    ];
    for (i, (country, right)) in specs.into_iter().enumerate() {
        let authority = if i == 3 || i == 5 {
            ids[1]
        } else {
            let mut n = NewAuthority::new(
                country,
                LocalisedText::new(Language::English, format!("Authority {i}")).unwrap(),
            );
            n.competences = vec![Competence {
                area: "health".parse().unwrap(),
                keywords: vec![],
            }];
            n.confirmed_not_duplicate = true;
            let a = engine.register_authority(&Actor::System, n).await.unwrap();
            engine
                .grant_procedure(&Actor::System, a.id(), &"nurse-check".parse().unwrap())
                .await
                .unwrap();
            if i == 4 {
                engine
                    .appoint_coordinator(&Actor::System, a.id(), Some(CoordinatorRole::National))
                    .await
                    .unwrap();
            }
            a.id()
        };
        let u = engine
            .create_user(
                &Actor::System,
                authority,
                NewUser {
                    name: format!("U{i}"),
                    email: "u@x.eu".parse().unwrap(),
                    language: Language::English,
                },
            )
            .await
            .unwrap();
        engine
            .set_grants(
                &Actor::System,
                u.id(),
                vec![Grant::new(right, GrantScope::Everything)],
            )
            .await
            .unwrap();
        actors.push(engine.actor_for(u.id()).await.unwrap());
        ids.push(authority);
    }
    engine
        .update_authority(
            &Actor::System,
            ids[1],
            AuthorityUpdate {
                uses_allocation: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let case = nurse_draft(&engine, &actors[0], "nurse-check", "Marie", "nurse").await;
    if send {
        engine
            .act_on_request(
                &actors[0],
                case,
                C::Send {
                    recipient: ids[1],
                    needed_by: "2027-01-31".parse().unwrap(),
                },
                None,
            )
            .await
            .unwrap();
    }
    RequestWorld {
        engine,
        clock,
        actors,
        ids,
        case,
    }
}

/// The standard request world, with the request sent to France.
pub(crate) async fn request_world(
    store: Arc<dyn Store>,
) -> (
    crate::Engine,
    Vec<crate::access::Actor>,
    Vec<crate::AuthorityId>,
    crate::CaseId,
) {
    let w = request_world_with(store, REQUEST_AREA, REQUEST_QS, true).await;
    (w.engine, w.actors, w.ids, w.case)
}

pub(crate) const ALERT_AREA: &str = "id = \"pq\"\n[name]\nen = \"Qualifications\"\n[[procedure]]\nid = \"pq-alert\"\nkind = \"alert\"\nquestion_set = \"pq-alert\"\noutgoing_validation = true\n[procedure.name]\nen = \"Restriction alert\"\n";
pub(crate) const ALERT_QS: &str = "id = \"pq-alert\"\nversion = 1\n[title]\nen = \"Alert\"\n[[group]]\nid = \"g\"\n[group.title]\nen = \"G\"\n[[group.question]]\nid = \"professional\"\ntype = \"free-text\"\nrequired = \"to-send\"\npersonal_data = true\n[group.question.label]\nen = \"Name\"\n[[group.question]]\nid = \"scope\"\ntype = \"single-choice\"\nrequired = \"to-send\"\nsummary = true\n[group.question.label]\nen = \"Scope\"\n[[group.question.option]]\nid = \"prohibition\"\n[group.question.option.label]\nen = \"Prohibition\"\n[[group.question.option]]\nid = \"restriction\"\n[group.question.option.label]\nen = \"Restriction\"\n";

/// Registers an authority of `participant` competent in `area` with access to
/// `procedure`, and one user of it holding `right` everywhere; returns the user as an actor
/// and the authority's id.
pub(crate) async fn member(
    engine: &crate::Engine,
    participant: crate::Participant,
    name: String,
    area: &str,
    procedure: &str,
    right: crate::catalogue::Right,
) -> (crate::access::Actor, crate::AuthorityId) {
    add_member(
        engine,
        Member::new(participant, &name, area, procedure, right),
    )
    .await
}

/// One recipient country of an [`AlertWorld`].
pub struct AlertCountry {
    /// The user of its incoming-alert-coordinator authority.
    pub coordinator: crate::access::Actor,
    /// Its handling authorities, one user each (incoming alert handler).
    pub handlers: Vec<(crate::access::Actor, crate::AuthorityId)>,
}

/// A world for alerts, built by [`alert_world_with`].
pub struct AlertWorld {
    /// The engine, with the `pq-alert` procedure published.
    pub engine: crate::Engine,
    /// A Danish outgoing alert handler.
    pub sender: crate::access::Actor,
    /// A Danish outgoing alert coordinator.
    pub outgoing: crate::access::Actor,
    /// The recipient countries, in the order given.
    pub countries: Vec<AlertCountry>,
}

/// A world for alerts on `store`: the `pq-alert` procedure (with outgoing validation, a
/// personal-data `professional` question and a `summary` `scope` choice), a Danish sender
/// and outgoing coordinator, and in each of `countries` an incoming-coordinator authority
/// and `handlers` handling authorities, each with one user. For scenarios, property tests
/// and benches.
pub async fn alert_world_with(
    store: Arc<dyn Store>,
    countries: &[crate::Country],
    handlers: usize,
) -> AlertWorld {
    use crate::catalogue::{Catalogue, CatalogueSource, Right};
    use crate::{Country, access::Actor};
    let engine = engine_on(store);
    let sources = [
        CatalogueSource::new("areas/pq.toml", ALERT_AREA),
        CatalogueSource::new("question-sets/pq-alert.toml", ALERT_QS),
    ];
    engine
        .publish_catalogue(&Actor::System, Catalogue::load(&sources).unwrap())
        .unwrap();
    let make = |country: Country, name: String, right: Right| {
        member(&engine, country.into(), name, "pq", "pq-alert", right)
    };
    let (sender, _) = make(
        Country::Denmark,
        "DK sender".into(),
        Right::OutgoingAlertHandler,
    )
    .await;
    let (outgoing, _) = make(
        Country::Denmark,
        "DK coordinator".into(),
        Right::OutgoingAlertCoordinator,
    )
    .await;
    let mut recipients = Vec::new();
    for c in countries {
        let (coordinator, coordinator_authority) = make(
            *c,
            format!("{c} coordinator"),
            Right::IncomingAlertCoordinator,
        )
        .await;
        // The country's national coordinator, whose users coordinate incoming alerts.
        engine
            .appoint_coordinator(
                &Actor::System,
                coordinator_authority,
                Some(crate::authority::CoordinatorRole::National),
            )
            .await
            .unwrap();
        let mut hs = Vec::new();
        for i in 0..handlers {
            hs.push(make(*c, format!("{c} handler {i}"), Right::IncomingAlertHandler).await);
        }
        recipients.push(AlertCountry {
            coordinator,
            handlers: hs,
        });
    }
    AlertWorld {
        engine,
        sender,
        outgoing,
        countries: recipients,
    }
}

/// [`alert_world_with`] with one handler per country, as (engine, sender, outgoing
/// coordinator, per country (coordinator, handler, handler's authority)).
#[allow(clippy::type_complexity)]
pub(crate) async fn alert_world(
    store: Arc<dyn Store>,
    countries: &[crate::Country],
) -> (
    crate::Engine,
    crate::access::Actor,
    crate::access::Actor,
    Vec<(
        crate::access::Actor,
        crate::access::Actor,
        crate::AuthorityId,
    )>,
) {
    let w = alert_world_with(store, countries, 1).await;
    let mut out = Vec::new();
    for c in w.countries {
        let mut hs = c.handlers.into_iter();
        if let Some((handler, authority)) = hs.next() {
            out.push((c.coordinator, handler, authority));
        }
    }
    (w.engine, w.sender, w.outgoing, out)
}

pub(crate) const NOTIFY_AREA: &str = "id = \"pq\"\n[name]\nen = \"Qualifications\"\n[[procedure]]\nid = \"diplomas\"\nkind = \"notification\"\nquestion_set = \"diplomas\"\nto_commission = true\nto_member_states = true\n[procedure.name]\nen = \"New diploma titles\"\n";
pub(crate) const NOTIFY_QS: &str = "id = \"diplomas\"\nversion = 1\n[title]\nen = \"New diploma\"\n[[group]]\nid = \"g\"\n[group.title]\nen = \"G\"\n[[group.question]]\nid = \"title\"\ntype = \"free-text\"\nrequired = \"to-send\"\n[group.question.label]\nen = \"Diploma title\"\n[[group.question]]\nid = \"contact\"\ntype = \"free-text\"\npersonal_data = true\n[group.question.label]\nen = \"Contact person\"\n";

/// A world for notifications, built by [`notification_world`].
pub struct NotificationWorld {
    /// The engine, with the `diplomas` procedure (to the Commission and member states;
    /// a `title` and a personal-data `contact` question) published.
    pub engine: crate::Engine,
    /// A Danish notification handler.
    pub sender: crate::access::Actor,
    /// Notification handlers of France, Germany and the Commission, in that order.
    pub recipients: Vec<(crate::Participant, crate::access::Actor)>,
    /// An Italian notification handler.
    pub outsider: crate::access::Actor,
    /// A French user without the notification-handler right.
    pub without_right: crate::access::Actor,
}

/// Builds a [`NotificationWorld`] on `store`.
pub async fn notification_world(store: Arc<dyn Store>) -> NotificationWorld {
    use crate::catalogue::{Catalogue, CatalogueSource, Right};
    use crate::{Country, Participant, access::Actor};
    let engine = engine_on(store);
    let sources = [
        CatalogueSource::new("areas/pq.toml", NOTIFY_AREA),
        CatalogueSource::new("question-sets/diplomas.toml", NOTIFY_QS),
    ];
    engine
        .publish_catalogue(&Actor::System, Catalogue::load(&sources).unwrap())
        .unwrap();
    let who = |p: Participant, name: &str, right| {
        member(&engine, p, name.into(), "pq", "diplomas", right)
    };
    let h = Right::NotificationHandler;
    let (sender, _) = who(Country::Denmark.into(), "DK ministry", h).await;
    let mut recipients = Vec::new();
    for (p, name) in [
        (Participant::from(Country::France), "FR ministry"),
        (Country::Germany.into(), "DE ministry"),
        (Participant::Commission, "DG GROW"),
    ] {
        recipients.push((p, who(p, name, h).await.0));
    }
    let (outsider, _) = who(Country::Italy.into(), "IT ministry", h).await;
    let (without_right, _) = who(Country::France.into(), "FR office", Right::RequestHandler).await;
    NotificationWorld {
        engine,
        sender,
        recipients,
        outsider,
        without_right,
    }
}

pub(crate) const PUBLIC_AREA: &str = "id = \"pq\"\n[name]\nen = \"Qualifications\"\n[[procedure]]\nid = \"recognition\"\nkind = \"request\"\nquestion_set = \"recognition\"\nanswer_days = 30\nremind_unaccepted_after_days = 7\nescalate_overdue_after_days = 7\npublic_submission = true\n[procedure.name]\nen = \"Recognition of a qualification\"\nda = \"Anerkendelse af en kvalifikation\"\n[[procedure]]\nid = \"internal\"\nkind = \"request\"\nquestion_set = \"recognition\"\nanswer_days = 30\nremind_unaccepted_after_days = 7\nescalate_overdue_after_days = 7\n[procedure.name]\nen = \"Between authorities only\"\n";
pub(crate) const PUBLIC_QS: &str = "id = \"recognition\"\nversion = 1\n[title]\nen = \"Recognition\"\n[[group]]\nid = \"g\"\n[group.title]\nen = \"G\"\n[[group.question]]\nid = \"applicant\"\ntype = \"free-text\"\nrequired = \"to-send\"\npersonal_data = true\n[group.question.label]\nen = \"Your full name\"\nda = \"Dit fulde navn\"\n[[group.question]]\nid = \"profession\"\ntype = \"free-text\"\nrequired = \"to-send\"\n[group.question.label]\nen = \"Profession\"\nda = \"Erhverv\"\n[[group.question]]\nid = \"decision\"\nanswered_by = \"responder\"\ntype = \"free-text\"\nrequired = \"to-send\"\n[group.question.label]\nen = \"Decision\"\nda = \"Afgørelse\"\n";

/// A world for the public interface, built by [`submission_world`].
pub struct SubmissionWorld {
    /// The engine, with the `recognition` request procedure (open to public submissions;
    /// a personal-data `applicant`, a `profession`, and the authority's `decision`) and
    /// the `internal` one (not open) published.
    pub engine: crate::Engine,
    /// The French competent authority, with access to both procedures.
    pub authority: crate::AuthorityId,
    /// A request handler of it.
    pub handler: crate::access::Actor,
    /// A viewer of it.
    pub viewer: crate::access::Actor,
    /// A request handler of another French authority with the same procedure.
    pub other_handler: crate::access::Actor,
    /// The other authority.
    pub other_authority: crate::AuthorityId,
}

/// Builds a [`SubmissionWorld`] on `store`.
pub async fn submission_world(store: Arc<dyn Store>) -> SubmissionWorld {
    use crate::catalogue::{Catalogue, CatalogueSource, Right};
    use crate::{Country, Language, access::Actor, user::Grant, user::GrantScope, user::NewUser};
    let engine = engine_on(store);
    let sources = [
        CatalogueSource::new("areas/pq.toml", PUBLIC_AREA),
        CatalogueSource::new("question-sets/recognition.toml", PUBLIC_QS),
    ];
    engine
        .publish_catalogue(&Actor::System, Catalogue::load(&sources).unwrap())
        .unwrap();
    let (handler, authority) = member(
        &engine,
        Country::France.into(),
        "Centre ENIC-NARIC France".into(),
        "pq",
        "recognition",
        Right::RequestHandler,
    )
    .await;
    engine
        .grant_procedure(&Actor::System, authority, &"internal".parse().unwrap())
        .await
        .unwrap();
    let u = engine
        .create_user(
            &Actor::System,
            authority,
            NewUser {
                name: "Viewer".into(),
                email: "v@x.eu".parse().unwrap(),
                language: Language::French,
            },
        )
        .await
        .unwrap();
    engine
        .set_grants(
            &Actor::System,
            u.id(),
            vec![Grant::new(Right::Viewer, GrantScope::Everything)],
        )
        .await
        .unwrap();
    let viewer = engine.actor_for(u.id()).await.unwrap();
    let (other_handler, other_authority) = member(
        &engine,
        Country::France.into(),
        "Ordre des architectes".into(),
        "pq",
        "recognition",
        Right::RequestHandler,
    )
    .await;
    SubmissionWorld {
        engine,
        authority,
        handler,
        viewer,
        other_handler,
        other_authority,
    }
}

pub(crate) const REPO_AREA: &str = "id = \"euro-cash\"\n[name]\nen = \"Road transport of euro cash\"\n[[procedure]]\nid = \"cash-licences\"\nkind = \"repository\"\nquestion_set = \"cash-licences\"\nretention_months = 12\n[procedure.name]\nen = \"Licence holders\"\n";
pub(crate) const REPO_QS: &str = "id = \"cash-licences\"\nversion = 1\n[title]\nen = \"Licence holder\"\n[[group]]\nid = \"g\"\n[group.title]\nen = \"G\"\n[[group.question]]\nid = \"holder\"\ntype = \"free-text\"\nrequired = \"to-send\"\npersonal_data = true\n[group.question.label]\nen = \"Holder\"\n[[group.question]]\nid = \"licence\"\ntype = \"free-text\"\nrequired = \"to-send\"\n[group.question.label]\nen = \"Licence number\"\n[[group.question]]\nid = \"valid-until\"\ntype = \"date\"\n[group.question.label]\nen = \"Valid until\"\n";

/// A world for repositories, built by [`repository_world`].
pub struct RepositoryWorld {
    /// The engine, with the `cash-licences` repository (12 months' retention; a
    /// personal-data `holder`, a `licence` number and a `valid-until` date) published.
    pub engine: crate::Engine,
    /// A French repository editor.
    pub editor: crate::access::Actor,
    /// A German viewer.
    pub viewer: crate::access::Actor,
    /// The German viewer's authority.
    pub viewer_authority: crate::AuthorityId,
    /// An Italian viewer.
    pub outsider: crate::access::Actor,
    /// A Danish user without a repository right.
    pub without_right: crate::access::Actor,
}

/// Builds a [`RepositoryWorld`] on `store`.
pub async fn repository_world(store: Arc<dyn Store>) -> RepositoryWorld {
    use crate::catalogue::{Catalogue, CatalogueSource, Right};
    use crate::{Country, access::Actor};
    let engine = engine_on(store);
    let sources = [
        CatalogueSource::new("areas/euro-cash.toml", REPO_AREA),
        CatalogueSource::new("question-sets/cash-licences.toml", REPO_QS),
    ];
    engine
        .publish_catalogue(&Actor::System, Catalogue::load(&sources).unwrap())
        .unwrap();
    let who = |c: Country, name: &str, right| {
        member(
            &engine,
            c.into(),
            name.into(),
            "euro-cash",
            "cash-licences",
            right,
        )
    };
    let (editor, _) = who(Country::France, "Banque de France", Right::RepositoryEditor).await;
    let (viewer, viewer_authority) = who(Country::Germany, "Bundesbank", Right::Viewer).await;
    let (outsider, _) = who(Country::Italy, "Banca d'Italia", Right::Viewer).await;
    let (without_right, _) = who(Country::Denmark, "Finanstilsynet", Right::RequestHandler).await;
    RepositoryWorld {
        engine,
        editor,
        viewer,
        viewer_authority,
        outsider,
        without_right,
    }
}
