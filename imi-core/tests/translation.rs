//! Machine translation of a request's free text: on demand, once per entry and
//! language, beside the original, labelled; only what the reader may see.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should panic

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use imi_core::catalogue::{AnswerValue, Answers, Catalogue, CatalogueSource, Right};
use imi_core::request::RequestCommand as C;
use imi_core::translate::{Translator, TranslatorError};
use imi_core::{
    Country, Engine, EngineError, Language, LocalisedText, ManualClock, access::Actor,
    authority::Competence, authority::NewAuthority, store::MemoryStore, user::Grant,
    user::GrantScope, user::NewUser,
};

/// A test double: marks the text with the language pair. Not a real translator.
struct Marker {
    calls: AtomicUsize,
}

#[async_trait]
impl Translator for Marker {
    async fn translate(
        &self,
        text: &str,
        from: Option<Language>,
        to: Language,
    ) -> Result<String, TranslatorError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if text.contains("fail") {
            return Err(TranslatorError {
                message: "service down".into(),
            });
        }
        Ok(format!(
            "[{}→{to}] {text}",
            from.map_or("?".into(), |l| l.to_string())
        ))
    }

    fn name(&self) -> &str {
        "test-marker"
    }
}

const AREA: &str = "id = \"pq\"\n[name]\nen = \"PQ\"\n[[procedure]]\nid = \"check\"\nkind = \"request\"\nquestion_set = \"q\"\n[procedure.name]\nen = \"Check\"\n";
const SET: &str = "id = \"q\"\nversion = 1\n[title]\nen = \"Q\"\n[[group]]\nid = \"g\"\n[group.title]\nen = \"G\"\n[[group.question]]\nid = \"note\"\ntype = \"free-text\"\nrequired = \"to-send\"\n[group.question.label]\nen = \"Note\"\n[[group.question]]\nid = \"ok\"\ntype = \"yes-no\"\nanswered_by = \"responder\"\n[group.question.label]\nen = \"OK?\"\n";

#[tokio::test]
async fn free_text_is_translated_once_beside_the_original() {
    let marker = Arc::new(Marker {
        calls: AtomicUsize::new(0),
    });
    let clock = Arc::new(ManualClock::new("2026-11-22T09:00:00Z".parse().unwrap()));
    let engine = Engine::new(Arc::new(MemoryStore::new()), clock).with_translator(marker.clone());
    let sources = [
        CatalogueSource::new("areas/pq.toml", AREA),
        CatalogueSource::new("question-sets/q.toml", SET),
    ];
    engine
        .publish_catalogue(&Actor::System, Catalogue::load(&sources).unwrap())
        .unwrap();
    let mut actors = Vec::new();
    let mut ids = Vec::new();
    for (country, language) in [
        (Country::Denmark, Language::Danish),
        (Country::France, Language::French),
        (Country::Italy, Language::Italian),
    ] {
        let mut n = NewAuthority::new(
            country,
            LocalisedText::new(Language::English, format!("{country} authority")).unwrap(),
        );
        n.competences = vec![Competence {
            area: "pq".parse().unwrap(),
            keywords: vec![],
        }];
        let a = engine.register_authority(&Actor::System, n).await.unwrap();
        engine
            .grant_procedure(&Actor::System, a.id(), &"check".parse().unwrap())
            .await
            .unwrap();
        let u = engine
            .create_user(
                &Actor::System,
                a.id(),
                NewUser {
                    name: "U".into(),
                    email: "u@x.eu".parse().unwrap(),
                    language,
                },
            )
            .await
            .unwrap();
        engine
            .set_grants(
                &Actor::System,
                u.id(),
                vec![Grant::new(Right::RequestHandler, GrantScope::Everything)],
            )
            .await
            .unwrap();
        actors.push(engine.actor_for(u.id()).await.unwrap());
        ids.push(a.id());
    }
    let (dk, fr, it) = (&actors[0], &actors[1], &actors[2]);
    let id = engine
        .create_request(dk, &"check".parse().unwrap())
        .await
        .unwrap()
        .case
        .id;
    let mut answers = Answers::new();
    answers.set(
        "note".parse().unwrap(),
        AnswerValue::Text("Hun arbejder på Rigshospitalet".into()),
    );
    engine
        .act_on_request(dk, id, C::SaveDraft { answers }, None)
        .await
        .unwrap();
    engine
        .act_on_request(
            dk,
            id,
            C::Send {
                recipient: ids[1],
                needed_by: "2027-01-31".parse().unwrap(),
            },
            None,
        )
        .await
        .unwrap();
    engine
        .act_on_request(
            dk,
            id,
            C::Comment {
                text: "Det haster".into(),
            },
            None,
        )
        .await
        .unwrap();

    let t = engine
        .translate_timeline_entry(fr, id, 3, Language::French)
        .await
        .unwrap();
    assert_eq!(t.len(), 1);
    assert_eq!(
        t[0].original, "Det haster",
        "the original stays beside the translation"
    );
    assert_eq!(t[0].text, "[da→fr] Det haster");
    assert!(t[0].machine_translation);
    assert_eq!(
        (t[0].engine.as_str(), t[0].from, t[0].to),
        ("test-marker", Some(Language::Danish), Language::French)
    );
    let again = engine
        .translate_timeline_entry(fr, id, 3, Language::French)
        .await
        .unwrap();
    assert_eq!(again, t);
    assert_eq!(
        marker.calls.load(Ordering::SeqCst),
        1,
        "made once per entry and language"
    );
    let english = engine
        .translate_timeline_entry(fr, id, 3, Language::English)
        .await
        .unwrap();
    assert_eq!(english[0].text, "[da→en] Det haster");

    // Free-text answers too; the timeline itself keeps the originals.
    let t = engine
        .translate_timeline_entry(dk, id, 1, Language::English)
        .await
        .unwrap();
    assert_eq!(t[0].field, "answer:note");
    let timeline = engine.request_timeline(dk, id).await.unwrap();
    assert!(format!("{timeline:?}").contains("Hun arbejder på Rigshospitalet"));
    assert!(!format!("{timeline:?}").contains("[da→"));

    // Strangers get nothing; nonexistent entries are NotFound; a failing service is a typed error.
    assert!(matches!(
        engine
            .translate_timeline_entry(it, id, 3, Language::Italian)
            .await,
        Err(EngineError::NotFound { .. })
    ));
    assert!(matches!(
        engine
            .translate_timeline_entry(fr, id, 99, Language::French)
            .await,
        Err(EngineError::NotFound { .. })
    ));
    engine
        .act_on_request(
            dk,
            id,
            C::Comment {
                text: "please fail".into(),
            },
            None,
        )
        .await
        .unwrap();
    assert!(matches!(
        engine
            .translate_timeline_entry(fr, id, 4, Language::French)
            .await,
        Err(EngineError::Translation(_))
    ));

    // Without a service: a clear error, never a fake translation.
    let plain = Engine::new(
        engine.store().clone(),
        Arc::new(ManualClock::new("2026-11-22T09:00:00Z".parse().unwrap())),
    );
    plain
        .publish_catalogue(&Actor::System, engine.catalogue().as_ref().clone())
        .unwrap();
    assert!(matches!(
        plain
            .translate_timeline_entry(fr, id, 3, Language::Italian)
            .await,
        Err(EngineError::TranslationUnavailable)
    ));
}

#[tokio::test]
async fn a_submitter_reads_the_authority_in_their_language() {
    use imi_core::conformance::submission_world;
    use imi_core::submission::SubmissionCommand as S;
    let marker = Arc::new(Marker {
        calls: AtomicUsize::new(0),
    });
    let w = submission_world(Arc::new(MemoryStore::new())).await;
    let mut answers = Answers::new();
    answers.set(
        "applicant".parse().unwrap(),
        AnswerValue::Text("Ana Pereira Sousa".into()),
    );
    answers.set(
        "profession".parse().unwrap(),
        AnswerValue::Text("Sygeplejerske".into()),
    );
    let receipt = w
        .engine
        .submit(imi_core::NewSubmission {
            procedure: "recognition".parse().unwrap(),
            authority: w.authority,
            language: Language::Danish,
            answers,
        })
        .await
        .unwrap();
    // Without a translator, nothing to translate is fine; something to translate is not.
    assert!(
        w.engine
            .translate_submission(&receipt.secret, None)
            .await
            .unwrap()
            .is_empty()
    );
    let id = w
        .engine
        .submissions(&w.handler, None, imi_core::PageRequest::first(1).unwrap())
        .await
        .unwrap()
        .items[0]
        .id;
    w.engine
        .act_on_submission(&w.handler, id, S::Take, None)
        .await
        .unwrap();
    w.engine
        .act_on_submission(
            &w.handler,
            id,
            S::AskSubmitter {
                text: "En quelle année ?".into(),
            },
            None,
        )
        .await
        .unwrap();
    assert!(matches!(
        w.engine.translate_submission(&receipt.secret, None).await,
        Err(EngineError::TranslationUnavailable)
    ));
    w.engine
        .act_as_submitter(
            &receipt.secret,
            S::Reply {
                text: "2019".into(),
            },
            None,
        )
        .await
        .unwrap();
    let mut decision = Answers::new();
    decision.set(
        "decision".parse().unwrap(),
        AnswerValue::Text("Reconnue".into()),
    );
    w.engine
        .act_on_submission(&w.handler, id, S::Answer { answers: decision }, None)
        .await
        .unwrap();
    let engine = w.engine.with_translator(marker.clone());
    let out = engine
        .translate_submission(&receipt.secret, None)
        .await
        .unwrap();
    // The authority's question and its answer; not the submitter's own reply. The
    // handler writes in English (their user language).
    let fields: Vec<_> = out.iter().map(|t| t.field.as_str()).collect();
    assert_eq!(fields, ["message:3", "answer:decision"]);
    assert_eq!(out[0].text, "[en→da] En quelle année ?");
    assert!(
        out.iter()
            .all(|t| t.machine_translation && t.engine == "test-marker")
    );
    let german = engine
        .translate_submission(&receipt.secret, Some(Language::German))
        .await
        .unwrap();
    assert_eq!(german[1].text, "[en→de] Reconnue");
    // Not stored: every call asks the service again.
    assert_eq!(marker.calls.load(Ordering::SeqCst), 4);
}
