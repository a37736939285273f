//! Surveys of competent authorities on any backend: a world with the Commission, a
//! national coordinator and authorities of three countries, and the scenario.

use std::sync::Arc;

use crate::store::Store;

const SURVEY_AREA: &str = "id = \"surveys\"\n[name]\nen = \"Surveys\"\n[[procedure]]\nid = \"practice-survey\"\nkind = \"survey\"\nquestion_set = \"practice\"\nremind_days_before = 3\n[procedure.name]\nen = \"How EU law works in practice\"\n";
const SURVEY_QS: &str = "id = \"practice\"\nversion = 1\n[title]\nen = \"Practice\"\n[[group]]\nid = \"g\"\n[group.title]\nen = \"G\"\n[[group.question]]\nid = \"works\"\ntype = \"yes-no\"\nrequired = \"to-send\"\n[group.question.label]\nen = \"Does the procedure work well?\"\n[[group.question]]\nid = \"obstacle\"\ntype = \"single-choice\"\n[group.question.label]\nen = \"The main obstacle\"\n[[group.question.option]]\nid = \"language\"\n[group.question.option.label]\nen = \"Language\"\n[[group.question.option]]\nid = \"delays\"\n[group.question.option.label]\nen = \"Delays\"\n[[group.question]]\nid = \"comments\"\ntype = \"free-text\"\n[group.question.label]\nen = \"Comments\"\n[[group.question]]\nid = \"contact\"\ntype = \"free-text\"\npersonal_data = true\n[group.question.label]\nen = \"Contact person\"\n";
const PQ_AREA: &str = "id = \"pq\"\n[name]\nen = \"Qualifications\"\n[[procedure]]\nid = \"pq-check\"\nkind = \"request\"\nquestion_set = \"pq-check\"\n[procedure.name]\nen = \"Diploma check\"\n";
const PQ_QS: &str = "id = \"pq-check\"\nversion = 1\n[title]\nen = \"Check\"\n[[group]]\nid = \"g\"\n[group.title]\nen = \"G\"\n[[group.question]]\nid = \"q\"\ntype = \"free-text\"\n[group.question.label]\nen = \"Question\"\n";

/// A world for surveys, built by [`survey_world`].
pub struct SurveyWorld {
    /// The engine, with the `practice-survey` procedure (a required yes-no `works`, a
    /// single-choice `obstacle`, free-text `comments`, a personal-data `contact`) and a
    /// request procedure `pq-check` published.
    pub engine: crate::Engine,
    /// An administrator at the Commission.
    pub commission: crate::access::Actor,
    /// An administrator of Denmark's national coordinator.
    pub dk_coordinator: crate::access::Actor,
    /// Administrators of authorities with access to `pq-check`: Denmark, France, France
    /// again, and Germany, with their authorities.
    pub authorities: Vec<(crate::access::Actor, crate::AuthorityId)>,
}

/// Builds a [`SurveyWorld`] on `store`.
pub async fn survey_world(store: Arc<dyn Store>) -> SurveyWorld {
    use crate::catalogue::{Catalogue, CatalogueSource, Right};
    use crate::{Country, Participant, access::Actor, authority::CoordinatorRole};
    let engine = super::engine_on(store);
    let sources = [
        CatalogueSource::new("areas/surveys.toml", SURVEY_AREA),
        CatalogueSource::new("question-sets/practice.toml", SURVEY_QS),
        CatalogueSource::new("areas/pq.toml", PQ_AREA),
        CatalogueSource::new("question-sets/pq-check.toml", PQ_QS),
    ];
    engine
        .publish_catalogue(&Actor::System, Catalogue::load(&sources).unwrap())
        .unwrap();
    let admin = Right::Administrator;
    let (commission, _) = super::member(
        &engine,
        Participant::Commission,
        "DG GROW".into(),
        "surveys",
        "practice-survey",
        admin,
    )
    .await;
    let (_, dk_office) = super::member(
        &engine,
        Country::Denmark.into(),
        "Erhvervsstyrelsen".into(),
        "surveys",
        "practice-survey",
        admin,
    )
    .await;
    engine
        .appoint_coordinator(&Actor::System, dk_office, Some(CoordinatorRole::National))
        .await
        .unwrap();
    let dk_coordinator = {
        let users = engine
            .users_of(
                &Actor::System,
                dk_office,
                crate::PageRequest::first(10).unwrap(),
            )
            .await
            .unwrap();
        engine.actor_for(users.items[0].id()).await.unwrap()
    };
    let mut authorities = Vec::new();
    for (c, name) in [
        (Country::Denmark, "Styrelsen for Patientsikkerhed"),
        (Country::France, "Ordre des infirmiers"),
        (Country::France, "Ordre des médecins"),
        (Country::Germany, "Bundesärztekammer"),
    ] {
        authorities
            .push(super::member(&engine, c.into(), name.into(), "pq", "pq-check", admin).await);
    }
    SurveyWorld {
        engine,
        commission,
        dk_coordinator,
        authorities,
    }
}

/// A Commission survey of the authorities of Denmark and France with access to a
/// procedure: who receives and sees it, one answer per authority editable until the
/// deadline, a reminder to those that have not answered, closing after the deadline,
/// results per question and country without personal data (and as CSV), a national
/// survey limited to its country, and retention deleting who answered.
pub async fn engine_surveys(store: Arc<dyn Store>) {
    use crate::catalogue::{AnswerValue, Answers};
    use crate::outbox::Topic;
    use crate::survey::{SurveyBox, SurveyCommand as C, SurveyEvent, SurveyStage, Targeting};
    use crate::{Country, EngineError, PageRequest, access::Actor};
    let SurveyWorld {
        engine,
        commission,
        dk_coordinator,
        authorities,
    } = survey_world(store).await;
    let [(dk, dk_id), (fr, _), (fr2, _), (de, _)] =
        <[(crate::access::Actor, crate::AuthorityId); 4]>::try_from(authorities).unwrap();
    let procedure = "practice-survey".parse().unwrap();
    // Only the Commission's and national coordinators' administrators make surveys.
    assert!(matches!(
        engine.create_survey(&dk, &procedure).await,
        Err(EngineError::Denied(_))
    ));
    let id = engine
        .create_survey(&commission, &procedure)
        .await
        .unwrap()
        .id;
    let start = engine.now().date_naive();
    let deadline = start + chrono::Duration::days(14);
    let send = |countries: &[Country]| C::Send {
        targeting: Targeting {
            countries: countries.iter().map(|c| (*c).into()).collect(),
            procedures: ["pq-check".parse().unwrap()].into_iter().collect(),
            ..Targeting::default()
        },
        deadline,
    };
    // A targeting nobody matches is refused and changes nothing.
    assert!(matches!(
        engine
            .act_on_survey(&commission, id, send(&[Country::Italy]), None)
            .await,
        Err(EngineError::Transition(_))
    ));
    assert!(matches!(
        engine.survey(&dk, id).await,
        Err(EngineError::NotFound { .. })
    ));
    let (sent, _) = engine
        .act_on_survey(
            &commission,
            id,
            send(&[Country::Denmark, Country::France]),
            None,
        )
        .await
        .unwrap();
    assert_eq!(sent.survey.recipients().len(), 3);
    assert!(sent.survey.recipients().contains(&dk_id));
    // Recipients see it and find it in their box; Germany does not.
    for a in [&dk, &fr, &fr2] {
        assert!(engine.survey(a, id).await.is_ok());
        let inbox = engine
            .surveys(a, SurveyBox::Received, PageRequest::first(10).unwrap())
            .await
            .unwrap();
        assert_eq!(inbox.items.len(), 1);
        let feed = engine.feed(a, None, 10).await.unwrap();
        assert_eq!(feed.items.len(), 1);
        assert_eq!(feed.items[0].topic, Topic::CaseReceived);
    }
    assert!(matches!(
        engine.survey(&de, id).await,
        Err(EngineError::NotFound { .. })
    ));
    assert!(matches!(
        engine.survey_results(&dk, id).await,
        Err(EngineError::NotFound { .. })
    ));
    let authored = engine
        .surveys(
            &commission,
            SurveyBox::Authored,
            PageRequest::first(10).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(authored.items.len(), 1);

    // One answer per authority, checked, editable until the deadline.
    let answers = |works: bool, comment: &str| {
        let mut a = Answers::new();
        a.set("works".parse().unwrap(), AnswerValue::YesNo(works));
        a.set(
            "obstacle".parse().unwrap(),
            AnswerValue::Choice("delays".parse().unwrap()),
        );
        a.set(
            "comments".parse().unwrap(),
            AnswerValue::Text(comment.into()),
        );
        a.set(
            "contact".parse().unwrap(),
            AnswerValue::Text("Karen Holm".into()),
        );
        a
    };
    assert!(matches!(
        engine.answer_survey(&dk, id, Answers::new(), None).await,
        Err(EngineError::Transition(_))
    ));
    let (first, v1) = engine
        .answer_survey(&dk, id, answers(false, "Slow"), None)
        .await
        .unwrap();
    assert_eq!(first.revision, 1);
    let (second, _) = engine
        .answer_survey(&dk, id, answers(true, "Better now"), Some(v1))
        .await
        .unwrap();
    assert_eq!(second.revision, 2);
    assert!(matches!(
        engine
            .answer_survey(&dk, id, answers(true, "again"), Some(v1))
            .await,
        Err(EngineError::VersionMismatch { .. })
    ));
    engine
        .answer_survey(&fr, id, answers(true, "Fine"), None)
        .await
        .unwrap();
    assert!(matches!(
        engine
            .answer_survey(&de, id, answers(true, "x"), None)
            .await,
        Err(EngineError::NotFound { .. })
    ));
    let own = engine.survey_response(&dk, id).await.unwrap().unwrap().0;
    assert_eq!(own.revision, 2);

    // Three days before the deadline, the one that has not answered is reminded.
    let at = |day: chrono::NaiveDate| day.and_hms_opt(8, 0, 0).unwrap().and_utc();
    engine
        .tick(at(deadline - chrono::Duration::days(3)), 100)
        .await
        .unwrap();
    let waiting = |a: &crate::access::Actor| {
        let a = a.clone();
        let engine = &engine;
        async move {
            engine
                .feed(&a, None, 10)
                .await
                .unwrap()
                .items
                .iter()
                .filter(|e| e.topic == Topic::CaseWaiting)
                .count()
        }
    };
    assert_eq!(waiting(&fr2).await, 1);
    assert_eq!(waiting(&dk).await, 0);
    // A second tick the same day reminds nobody again.
    engine
        .tick(at(deadline - chrono::Duration::days(2)), 100)
        .await
        .unwrap();
    assert_eq!(waiting(&fr2).await, 1);
    // The day after the deadline it closes; answers are refused.
    engine
        .tick(at(deadline + chrono::Duration::days(1)), 100)
        .await
        .unwrap();
    let (closed, _) = engine.survey(&commission, id).await.unwrap();
    assert_eq!(closed.survey.state().stage(), SurveyStage::Closed);
    assert!(matches!(
        engine
            .answer_survey(&fr2, id, answers(true, "late"), None)
            .await,
        Err(EngineError::Transition(_))
    ));

    // Results per question and country: no names, no free text, no personal data.
    let results = engine.survey_results(&commission, id).await.unwrap();
    let turnout: Vec<(String, u64, u64)> = results
        .turnout
        .iter()
        .map(|t| (t.country.clone(), t.recipients, t.responses))
        .collect();
    assert_eq!(turnout, [("DK".to_owned(), 1, 1), ("FR".to_owned(), 2, 1)]);
    let row = |country: &str, question: &str, value: &str| {
        results
            .rows
            .iter()
            .find(|r| r.country == country && r.question == question && r.value == value)
            .map(|r| r.count)
    };
    assert_eq!(row("DK", "works", "yes"), Some(1));
    assert_eq!(row("DK", "works", "no"), None, "the edited answer counts");
    assert_eq!(row("FR", "obstacle", "delays"), Some(1));
    assert_eq!(row("FR", "comments", "(answered)"), Some(1));
    assert!(results.rows.iter().all(|r| r.question != "contact"));
    let csv = results.to_csv();
    assert!(csv.starts_with("country,question,value,count\n"));
    assert!(csv.contains("DK,works,yes,1\n"));
    assert!(!csv.contains("Karen") && !csv.contains("Better"));
    let timeline = engine.survey_timeline(&commission, id).await.unwrap();
    let events: Vec<&SurveyEvent> = timeline.iter().map(|e| &e.event).collect();
    assert!(matches!(
        events.as_slice(),
        [
            SurveyEvent::Sent { .. },
            SurveyEvent::Reminded { authorities: 1 },
            SurveyEvent::Closed
        ]
    ));
    assert!(matches!(
        engine.survey_timeline(&dk, id).await,
        Err(EngineError::NotFound { .. })
    ));

    // A national survey asks its own country only.
    let national = engine
        .create_survey(&dk_coordinator, &procedure)
        .await
        .unwrap()
        .id;
    assert!(matches!(
        engine
            .act_on_survey(&dk_coordinator, national, send(&[Country::France]), None)
            .await,
        Err(EngineError::Transition(_))
    ));
    let (dk_only, _) = engine
        .act_on_survey(&dk_coordinator, national, send(&[Country::Denmark]), None)
        .await
        .unwrap();
    assert_eq!(
        dk_only
            .survey
            .recipients()
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        [dk_id]
    );

    // Retention: after the blocking period, who answered and the free texts go; the
    // counts stay.
    engine
        .tick(closed.updated_at + chrono::Duration::days(200), 100)
        .await
        .unwrap();
    let (kept, _) = engine.survey(&Actor::System, id).await.unwrap();
    assert!(kept.survey.is_erased());
    let own = engine.survey_response(&dk, id).await.unwrap().unwrap().0;
    assert_eq!(own.answered_by, None);
    assert!(own.answers.get(&"comments".parse().unwrap()).is_none());
    assert!(own.answers.get(&"contact".parse().unwrap()).is_none());
    let after = engine.survey_results(&commission, id).await.unwrap();
    assert_eq!(after.turnout, results.turnout);
    assert!(
        after
            .rows
            .iter()
            .any(|r| r.question == "works" && r.count == 1)
    );
}
