//! Token issuing under concurrency: however many issues race for one user, no more than
//! the limit of unexpired tokens ever exist; the losers get a conflict (retry) or the
//! limit, never a silent extra token.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should panic

use std::sync::Arc;

use imi_core::{
    Country, Engine, EngineError, Language, LocalisedText, ManualClock, access::Actor,
    authority::NewAuthority, store::MemoryStore, user::NewUser, user::TokenRequest,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_issues_never_exceed_the_limit() {
    let clock = Arc::new(ManualClock::new("2026-11-22T09:00:00Z".parse().unwrap()));
    let engine = Arc::new(Engine::new(Arc::new(MemoryStore::new()), clock));
    let a = engine
        .register_authority(
            &Actor::System,
            NewAuthority::new(
                Country::Austria,
                LocalisedText::new(Language::German, "Bundesamt").unwrap(),
            ),
        )
        .await
        .unwrap();
    let user = engine
        .create_user(
            &Actor::System,
            a.id(),
            NewUser {
                name: "Anna".into(),
                email: "a@x.at".parse().unwrap(),
                language: Language::German,
            },
        )
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let engine = Arc::clone(&engine);
        let id = user.id();
        tasks.push(tokio::spawn(async move {
            engine
                .issue_token_with(&Actor::System, id, TokenRequest::default())
                .await
        }));
    }
    let mut issued = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => issued += 1,
            Err(EngineError::Conflict(_) | EngineError::Token(_)) => {}
            Err(e) => panic!("unexpected: {e}"),
        }
    }
    let listed = engine.tokens_of(&Actor::System, user.id()).await.unwrap();
    assert_eq!(listed.len(), issued);
    assert!(issued <= 20, "{issued} tokens issued");
    assert!(issued >= 1);
}
