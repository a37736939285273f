//! Engine scenarios: repositories.

#[allow(unused_imports)]
use super::*;

/// A repository's lifecycle: a French editor adds two licence holders, one for every
/// user of the procedure and one for a German group only; viewers search and read what
/// their audience allows; an update is a new revision (the history keeps both, the search
/// follows); a retired record leaves the default search, cannot change, and `tick` removes
/// it with every revision 12 months later (no bytes left); another is deleted by its
/// editor. Identical on every backend.
pub async fn engine_repositories(store: Arc<dyn Store>) {
    use crate::catalogue::{AnswerValue, Answers};
    use crate::repository::{Audience, RecordCommand, RecordStatus};
    use crate::{EngineError, PageRequest, RecordQuery, access::Actor};
    let RepositoryWorld {
        engine,
        editor: fr,
        viewer: de,
        viewer_authority: de_authority,
        outsider: it,
        without_right: dk,
    } = repository_world(Arc::clone(&store)).await;
    let procedure = "cash-licences".parse().unwrap();
    let fields = |holder: &str, licence: &str| {
        let mut a = Answers::new();
        a.set("holder".parse().unwrap(), AnswerValue::Text(holder.into()));
        a.set(
            "licence".parse().unwrap(),
            AnswerValue::Text(licence.into()),
        );
        a
    };
    let search = |actor: &Actor, text: &str, include_retired: bool| {
        let engine = &engine;
        let actor = actor.clone();
        let query = RecordQuery {
            text: text.into(),
            include_retired,
        };
        async move {
            engine
                .search_records(
                    &actor,
                    &"cash-licences".parse().unwrap(),
                    &query,
                    PageRequest::first(50).unwrap(),
                )
                .await
                .map(|p| p.items.into_iter().map(|r| r.id).collect::<Vec<_>>())
        }
    };

    // Only editors add records, with valid fields.
    assert!(matches!(
        engine
            .create_record(&de, &procedure, fields("X", "1"), Audience::Area)
            .await,
        Err(EngineError::Denied(_))
    ));
    assert!(matches!(
        engine
            .create_record(&fr, &procedure, Answers::new(), Audience::Area)
            .await,
        Err(EngineError::Transition(_))
    ));
    let (a, va) = engine
        .create_record(
            &fr,
            &procedure,
            fields("Brinks France SAS", "FR-2024-117"),
            Audience::Area,
        )
        .await
        .unwrap();
    let group = Audience::Group {
        authorities: [de_authority].into_iter().collect(),
    };
    let (b, _) = engine
        .create_record(
            &fr,
            &procedure,
            fields("Loomis Sécurité", "FR-2023-009"),
            group,
        )
        .await
        .unwrap();
    assert_eq!(a.revision, 1);

    // Reading and searching follow the audience; users without a right see nothing.
    assert_eq!(search(&de, "loomis", false).await.unwrap(), vec![b.id]);
    assert_eq!(
        search(&de, "LOOMIS securite", false).await.unwrap(),
        vec![b.id]
    );
    assert_eq!(search(&it, "loomis", false).await.unwrap(), vec![]);
    assert_eq!(search(&de, "", false).await.unwrap(), vec![a.id, b.id]);
    assert_eq!(search(&it, "", false).await.unwrap(), vec![a.id]);
    assert_eq!(search(&it, "brinks loomis", false).await.unwrap(), vec![]);
    assert!(matches!(
        engine.record(&it, b.id).await,
        Err(EngineError::NotFound { .. })
    ));
    assert!(matches!(
        search(&dk, "", false).await,
        Err(EngineError::Denied(_))
    ));
    assert!(matches!(
        engine.record(&dk, a.id).await,
        Err(EngineError::NotFound { .. })
    ));
    assert_eq!(engine.record(&de, b.id).await.unwrap().0, b);

    // An update is a new revision; only the keeping authority's editors make one.
    let update = |licence: &str| RecordCommand::Update {
        fields: fields("Brinks France SAS", licence),
        audience: None,
    };
    assert!(matches!(
        engine
            .act_on_record(&de, a.id, update("FR-2025-001"), None)
            .await,
        Err(EngineError::Transition(_))
    ));
    let (a2, va2) = engine
        .act_on_record(&fr, a.id, update("FR-2025-001"), Some(va))
        .await
        .unwrap();
    assert_eq!(a2.revision, 2);
    assert!(matches!(
        engine
            .act_on_record(&fr, a.id, update("FR-2025-002"), Some(va))
            .await,
        Err(EngineError::VersionMismatch { .. })
    ));
    let history = engine.record_history(&it, a.id).await.unwrap();
    assert_eq!(
        history.iter().map(|r| r.revision).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(
        history[0].fields, a.fields,
        "the history keeps the earlier value"
    );
    assert_eq!(search(&it, "fr-2024-117", false).await.unwrap(), vec![]);
    assert_eq!(search(&it, "FR-2025-001", false).await.unwrap(), vec![a.id]);

    // Retired: out of the default search, frozen, removed 12 months later by tick.
    let (a3, _) = engine
        .act_on_record(&fr, a.id, RecordCommand::Retire, Some(va2))
        .await
        .unwrap();
    assert!(matches!(a3.status, RecordStatus::Retired { .. }));
    assert_eq!(search(&it, "brinks", false).await.unwrap(), vec![]);
    assert_eq!(search(&it, "brinks", true).await.unwrap(), vec![a.id]);
    assert!(matches!(
        engine
            .act_on_record(&fr, a.id, update("FR-2026-1"), None)
            .await,
        Err(EngineError::Transition(
            crate::workflow::TransitionError::IllegalInStage {
                workflow: "record",
                ..
            }
        ))
    ));
    let day =
        |d: &str| -> chrono::DateTime<chrono::Utc> { format!("{d}T09:00:00Z").parse().unwrap() };
    assert_eq!(
        engine.tick(day("2027-11-21"), 100).await.unwrap().blocked,
        0
    );
    assert!(engine.record(&it, a.id).await.is_ok());
    assert_eq!(
        engine.tick(day("2027-11-22"), 100).await.unwrap().blocked,
        1
    );
    assert_eq!(
        engine.tick(day("2027-11-22"), 100).await.unwrap().blocked,
        0
    );
    assert!(matches!(
        engine.record(&Actor::System, a.id).await,
        Err(EngineError::NotFound { .. })
    ));
    assert_eq!(search(&de, "", true).await.unwrap(), vec![b.id]);

    // The other is deleted by its editor (not by a viewer).
    assert!(engine.delete_record(&de, b.id).await.is_err());
    engine.delete_record(&fr, b.id).await.unwrap();
    assert!(search(&de, "", true).await.unwrap().is_empty());
    let everything = store.scan(&Scan::all(100_000)).await.unwrap();
    for e in &everything.entries {
        for marker in [&b"Brinks"[..], b"Loomis", b"FR-2025"] {
            assert!(
                !e.value.windows(marker.len()).any(|x| x == marker),
                "a value still holds a removed record at {:?}",
                crate::store::KeyDisplay::from(e.key.as_slice())
            );
        }
    }
    assert!(engine.verify_audit(&Actor::System).await.unwrap().is_ok());
}
