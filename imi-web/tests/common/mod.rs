//! The world the web application's tests share: Danish, French and Italian authorities
//! with one request handler each, and a request from Denmark to France about a nurse.

#![allow(dead_code)] // each test file uses its own part

use std::sync::Arc;

use imi_core::access::Actor;
use imi_core::catalogue::Right;
use imi_core::conformance::{Member, REQUEST_AREA, REQUEST_QS, WorldBuilder, nurse_draft};
use imi_core::request::RequestCommand as C;
use imi_core::store::MemoryStore;
use imi_core::{CaseId, Country, Engine, ManualClock};

/// The world, signed-in tokens and the sent request.
pub(crate) struct World {
    pub(crate) engine: Arc<Engine>,
    pub(crate) clock: Arc<ManualClock>,
    /// Tokens of the DK requester, the FR responder and the IT stranger.
    pub(crate) tokens: Vec<String>,
    /// The request, sent from DK to FR, asking for an answer by 2027-01-31.
    pub(crate) case: CaseId,
    /// The DK, FR and IT authorities.
    pub(crate) ids: Vec<imi_core::AuthorityId>,
}

pub(crate) async fn token(engine: &Engine, actor: &Actor) -> String {
    let Actor::User(p) = actor else {
        panic!("a user")
    };
    engine
        .issue_token(&Actor::System, p.user())
        .await
        .unwrap()
        .expose()
        .to_owned()
}

/// Builds the world; `names` are the three authorities' names, `holder` the name in the
/// request (both may hold markup a page must show as text).
pub(crate) async fn world(names: [&str; 3], holder: &str) -> World {
    let w = WorldBuilder::new(Arc::new(MemoryStore::new())).catalogue(&[
        ("areas/h.toml", REQUEST_AREA),
        ("question-sets/q.toml", REQUEST_QS),
    ]);
    let mut actors = Vec::new();
    let mut ids = Vec::new();
    for (country, name) in [Country::Denmark, Country::France, Country::Italy]
        .into_iter()
        .zip(names)
    {
        let member = Member::new(
            country.into(),
            name,
            "health",
            "nurse-check",
            Right::RequestHandler,
        );
        let (actor, id) = w.member(member).await;
        actors.push(actor);
        ids.push(id);
    }
    let case = nurse_draft(&w.engine, &actors[0], "nurse-check", holder, "nurse").await;
    let send = C::Send {
        recipient: ids[1],
        needed_by: "2027-01-31".parse().unwrap(),
    };
    w.engine
        .act_on_request(&actors[0], case, send, None)
        .await
        .unwrap();
    let mut tokens = Vec::new();
    for a in &actors {
        tokens.push(token(&w.engine, a).await);
    }
    let WorldBuilder { engine, clock } = w;
    World {
        engine: Arc::new(engine),
        clock,
        tokens,
        case,
        ids,
    }
}

/// Makes Denmark's authority its national coordinator with an administrator, and has an
/// invited authority (Sundhedsstyrelsen) register itself: the administrator's token and
/// the waiting authority.
pub(crate) async fn coordinator(
    engine: &Engine,
    dk: imi_core::AuthorityId,
) -> (String, imi_core::AuthorityId) {
    use imi_core::user::{Grant, GrantScope, NewUser};
    let sys = Actor::System;
    engine
        .appoint_coordinator(
            &sys,
            dk,
            Some(imi_core::authority::CoordinatorRole::National),
        )
        .await
        .unwrap();
    let new_user = NewUser {
        name: "Hanne".into(),
        email: "hanne@example.dk".parse().unwrap(),
        language: imi_core::Language::Danish,
    };
    let admin = engine.create_user(&sys, dk, new_user).await.unwrap();
    engine
        .set_grants(
            &sys,
            admin.id(),
            vec![Grant::new(Right::Administrator, GrantScope::Everything)],
        )
        .await
        .unwrap();
    let admin_actor = engine.actor_for(admin.id()).await.unwrap();
    let invitation = imi_core::Invitation {
        participant: Country::Denmark.into(),
        region: None,
        areas: ["health".parse().unwrap()].into_iter().collect(),
    };
    let secret = engine
        .invite_authority(&admin_actor, invitation)
        .await
        .unwrap();
    let mut new = imi_core::authority::NewAuthority::new(
        Country::Denmark,
        imi_core::LocalisedText::new(imi_core::Language::Danish, "Sundhedsstyrelsen").unwrap(),
    );
    new.competences = vec![imi_core::authority::Competence {
        area: "health".parse().unwrap(),
        keywords: vec![],
    }];
    new.confirmed_not_duplicate = true;
    let pending = engine.self_register(&secret, new).await.unwrap();
    (token(engine, &admin_actor).await, pending.id())
}
