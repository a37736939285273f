//! Engine scenario: sign-in sessions.

#[allow(unused_imports)]
use super::*;

/// A session acts as its user until it expires, is closed, or the user is disabled; a
/// fresh secret at each sign-in; the anti-forgery value is bound to the session; `tick`
/// removes expired sessions; the system and the public cannot open one.
pub async fn engine_sessions(store: Arc<dyn Store>) {
    use crate::EngineError;
    use crate::access::Actor;
    use crate::catalogue::Right;
    use crate::clock::Clock;
    let w = WorldBuilder::new(Arc::clone(&store)).catalogue(&[
        ("areas/h.toml", REQUEST_AREA),
        ("question-sets/q.toml", REQUEST_QS),
    ]);
    let (dk, _) = w
        .member(Member::new(
            crate::Country::Denmark.into(),
            "Styrelsen",
            "health",
            "nurse-check",
            Right::RequestHandler,
        ))
        .await;
    let engine = &w.engine;
    let Actor::User(p) = &dk else { unreachable!() };
    let first = engine.open_session(&dk, 60).await.unwrap();
    let second = engine.open_session(&dk, 60).await.unwrap();
    assert_ne!(first, second, "a fresh secret at every sign-in");
    assert_ne!(first.derive("csrf"), second.derive("csrf"));
    assert_ne!(first.derive("csrf"), first.derive("other"));
    let acting = engine.session_actor(&first).await.unwrap();
    assert!(matches!(&acting, Actor::User(q) if q.user() == p.user()));
    // Closing one leaves the other.
    engine.close_session(&first).await.unwrap();
    assert!(matches!(
        engine.session_actor(&first).await,
        Err(EngineError::Unauthenticated)
    ));
    engine.close_session(&first).await.unwrap();
    assert!(engine.session_actor(&second).await.is_ok());
    // Expiry, by the engine's clock; tick removes what expired.
    w.clock.advance(chrono::Duration::minutes(61));
    assert!(matches!(
        engine.session_actor(&second).await,
        Err(EngineError::Unauthenticated)
    ));
    let report = engine.tick(w.clock.now(), 100).await.unwrap();
    assert_eq!(report.sessions_removed, 1);
    assert_eq!(
        engine
            .tick(w.clock.now(), 100)
            .await
            .unwrap()
            .sessions_removed,
        0
    );
    // A disabled user's session ends with them.
    let third = engine.open_session(&dk, 24 * 60 * 7).await.unwrap();
    assert!(engine.session_actor(&third).await.is_ok());
    engine.disable_user(&Actor::System, p.user()).await.unwrap();
    assert!(matches!(
        engine.session_actor(&third).await,
        Err(EngineError::Unauthenticated)
    ));
    // A session opened with a token ends when the token is revoked.
    let (fr_actor, _) = w
        .member(Member::new(
            crate::Country::France.into(),
            "Ordre",
            "health",
            "nurse-check",
            Right::RequestHandler,
        ))
        .await;
    let Actor::User(fr) = &fr_actor else {
        unreachable!()
    };
    let (token, info) = engine
        .issue_token_with(
            &Actor::System,
            fr.user(),
            crate::user::TokenRequest::default(),
        )
        .await
        .unwrap();
    let (_, bound) = engine.sign_in_with_token(&token, 60).await.unwrap();
    assert!(engine.session_actor(&bound).await.is_ok());
    engine
        .revoke_token(&Actor::System, fr.user(), info.id)
        .await
        .unwrap();
    assert!(matches!(
        engine.session_actor(&bound).await,
        Err(EngineError::Unauthenticated)
    ));
    let nonsense: crate::user::SecretToken =
        "imi_0000000000000000000000000000000000000000000000000000000000000000"
            .parse()
            .unwrap();
    assert!(matches!(
        engine.sign_in_with_token(&nonsense, 60).await,
        Err(EngineError::Unauthenticated)
    ));
    // Nobody but a user signs in.
    for nobody in [Actor::System, Actor::Public] {
        assert!(matches!(
            engine.open_session(&nobody, 60).await,
            Err(EngineError::Unauthenticated)
        ));
    }
    // Not a secret: refused when read.
    assert!("imis_00".parse::<crate::session::SessionSecret>().is_err());
    assert!(
        "imi_0000000000000000000000000000000000000000000000000000000000000000"
            .parse::<crate::session::SessionSecret>()
            .is_err()
    );
}
