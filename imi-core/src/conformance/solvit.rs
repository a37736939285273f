//! SOLVIT cases on any backend: a world of three SOLVIT centres, and the scenario.

use std::sync::Arc;

use crate::store::Store;

const SOLVIT_AREA: &str = "id = \"solvit\"\n[name]\nen = \"SOLVIT\"\n[[procedure]]\nid = \"solvit-case\"\nkind = \"solvit\"\nquestion_set = \"solvit\"\naccept_within_days = 7\nsolve_within_days = 70\n[procedure.name]\nen = \"SOLVIT case\"\n[[procedure]]\nid = \"solvit-complaint\"\nkind = \"request\"\nquestion_set = \"solvit\"\npublic_submission = true\n[procedure.name]\nen = \"Complaint to SOLVIT\"\n";
const SOLVIT_QS: &str = "id = \"solvit\"\nversion = 1\n[title]\nen = \"SOLVIT case\"\n[[group]]\nid = \"g\"\n[group.title]\nen = \"G\"\n[[group.question]]\nid = \"problem\"\ntype = \"free-text\"\nrequired = \"to-send\"\n[group.question.label]\nen = \"The problem\"\n[[group.question]]\nid = \"complainant\"\ntype = \"free-text\"\npersonal_data = true\n[group.question.label]\nen = \"Complainant\"\n";

/// A world for SOLVIT, built by [`solvit_world`].
pub struct SolvitWorld {
    /// The engine, with the `solvit-case` procedure (7 days to accept, 70 to solve; a
    /// `problem` and a personal-data `complainant` question) published.
    pub engine: crate::Engine,
    /// A handler of the Danish SOLVIT centre (the home centre), which also takes public
    /// complaints (`solvit-complaint`).
    pub home: crate::access::Actor,
    /// The Danish centre.
    pub home_centre: crate::AuthorityId,
    /// A handler of the French SOLVIT centre (the lead centre).
    pub lead: crate::access::Actor,
    /// The French centre.
    pub lead_centre: crate::AuthorityId,
    /// A handler of the German SOLVIT centre (neither).
    pub outsider: crate::access::Actor,
    /// The German centre.
    pub outsider_centre: crate::AuthorityId,
    /// A Danish user without the handler right (at an office of its own).
    pub viewer: crate::access::Actor,
}

/// Builds a [`SolvitWorld`] on `store`.
pub async fn solvit_world(store: Arc<dyn Store>) -> SolvitWorld {
    use crate::catalogue::{Catalogue, CatalogueSource, Right};
    use crate::{Country, access::Actor};
    let engine = super::engine_on(store);
    let sources = [
        CatalogueSource::new("areas/solvit.toml", SOLVIT_AREA),
        CatalogueSource::new("question-sets/solvit.toml", SOLVIT_QS),
    ];
    engine
        .publish_catalogue(&Actor::System, Catalogue::load(&sources).unwrap())
        .unwrap();
    let centre = |c: Country, name: &str, right| {
        super::member(
            &engine,
            c.into(),
            name.into(),
            "solvit",
            "solvit-case",
            right,
        )
    };
    let h = Right::RequestHandler;
    let (home, home_centre) = centre(Country::Denmark, "SOLVIT Danmark", h).await;
    engine
        .grant_procedure(
            &Actor::System,
            home_centre,
            &"solvit-complaint".parse().unwrap(),
        )
        .await
        .unwrap();
    // The centre's handler, as it is now (with the second procedure).
    let home = match &home {
        Actor::User(p) => engine.actor_for(p.user()).await.unwrap(),
        other => other.clone(),
    };
    let (lead, lead_centre) = centre(Country::France, "SOLVIT France", h).await;
    let (outsider, outsider_centre) = centre(Country::Germany, "SOLVIT Deutschland", h).await;
    let (viewer, _) = centre(Country::Denmark, "SOLVIT Danmark (viewer)", Right::Viewer).await;
    SolvitWorld {
        engine,
        home,
        home_centre,
        lead,
        lead_centre,
        outsider,
        outsider_centre,
        viewer,
    }
}

/// A SOLVIT case from Denmark to France: prepared by the home centre alone, submitted,
/// accepted, a solution proposed, closed as resolved with feedback; another one rejected.
/// Who sees what, boxes, If-Match, refusals that change nothing, the figures, and
/// retention (blocking, then deletion of the complainant's data).
pub async fn engine_solvit(store: Arc<dyn Store>) {
    use crate::catalogue::{AnswerValue, Answers};
    use crate::solvit::{
        Outcome, ProblemArea, SolvitBox, SolvitCommand as C, SolvitEvent, SolvitStage,
    };
    use crate::{EngineError, PageRequest, access::Actor};
    let SolvitWorld {
        engine,
        home,
        home_centre,
        lead,
        lead_centre,
        outsider,
        viewer,
        ..
    } = solvit_world(store).await;
    let procedure = "solvit-case".parse().unwrap();
    assert!(matches!(
        engine
            .create_solvit_case(&viewer, &procedure, None, None)
            .await,
        Err(EngineError::Denied(_))
    ));
    let id = engine
        .create_solvit_case(&home, &procedure, None, None)
        .await
        .unwrap()
        .id;
    // The draft is the home centre's: the others do not learn it exists.
    for other in [&lead, &outsider] {
        assert!(matches!(
            engine.solvit_case(other, id).await,
            Err(EngineError::NotFound { .. })
        ));
    }
    let mut answers = Answers::new();
    answers.set(
        "problem".parse().unwrap(),
        AnswerValue::Text("Pension rights from France not recognised".into()),
    );
    answers.set(
        "complainant".parse().unwrap(),
        AnswerValue::Text("Jens Hansen".into()),
    );
    // No problem area yet: submitting is refused and changes nothing.
    let (_, v) = engine
        .act_on_solvit_case(
            &home,
            id,
            C::SaveDraft {
                answers: answers.clone(),
                problem_area: None,
            },
            None,
        )
        .await
        .unwrap();
    let submit = C::Submit { lead: lead_centre };
    assert!(matches!(
        engine
            .act_on_solvit_case(&home, id, submit.clone(), None)
            .await,
        Err(EngineError::Transition(_))
    ));
    let (_, v2) = engine
        .act_on_solvit_case(
            &home,
            id,
            C::SaveDraft {
                answers,
                problem_area: Some(ProblemArea::SocialSecurity),
            },
            Some(v),
        )
        .await
        .unwrap();
    // A user without the handler right at another centre, and the lead centre before
    // submission, may not act on a draft they cannot see.
    assert!(matches!(
        engine
            .act_on_solvit_case(&viewer, id, submit.clone(), None)
            .await,
        Err(EngineError::NotFound { .. })
    ));
    assert!(matches!(
        engine.act_on_solvit_case(&lead, id, C::Accept, None).await,
        Err(EngineError::NotFound { .. })
    ));
    let (sent, v3) = engine
        .act_on_solvit_case(&home, id, submit, Some(v2))
        .await
        .unwrap();
    assert_eq!(sent.solvit.state().stage(), SolvitStage::Submitted);
    assert_eq!(sent.lead_country, Some(crate::Country::France.into()));
    assert_eq!(
        sent.due(),
        Some(chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap())
    );
    // The lead centre sees it now, and what was submitted, not how it was drafted.
    let (seen, _) = engine.solvit_case(&lead, id).await.unwrap();
    assert_eq!(seen.solvit.answers().len(), 2);
    let lead_view = engine.solvit_timeline(&lead, id).await.unwrap();
    let home_view = engine.solvit_timeline(&home, id).await.unwrap();
    let drafts = |t: &[crate::solvit::SolvitTimelineEntry]| {
        t.iter()
            .filter(|e| matches!(e.event, SolvitEvent::DraftSaved { .. }))
            .count()
    };
    assert_eq!(drafts(&home_view), 2);
    assert_eq!(drafts(&lead_view), 1);
    assert!(matches!(
        engine.solvit_case(&outsider, id).await,
        Err(EngineError::NotFound { .. })
    ));
    let page = || PageRequest::first(10).unwrap();
    let lead_box = engine
        .solvit_cases(&lead, SolvitBox::Lead, None, page())
        .await
        .unwrap();
    assert_eq!(lead_box.items.len(), 1);
    let home_box = engine
        .solvit_cases(&home, SolvitBox::Home, Some(SolvitStage::Submitted), page())
        .await
        .unwrap();
    assert_eq!(home_box.items.len(), 1);
    assert!(
        engine
            .solvit_cases(&outsider, SolvitBox::Lead, None, page())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    // Only the lead centre accepts; a stale version is refused.
    assert!(matches!(
        engine.act_on_solvit_case(&home, id, C::Accept, None).await,
        Err(EngineError::Transition(_))
    ));
    assert!(matches!(
        engine
            .act_on_solvit_case(&lead, id, C::Accept, Some(v2))
            .await,
        Err(EngineError::VersionMismatch { .. })
    ));
    engine
        .act_on_solvit_case(&lead, id, C::Accept, Some(v3))
        .await
        .unwrap();
    let close = |outcome| C::Close {
        outcome,
        reason: "The pension fund recognised the periods".into(),
    };
    assert!(matches!(
        engine
            .act_on_solvit_case(&home, id, close(Outcome::Resolved), None)
            .await,
        Err(EngineError::Transition(_))
    ));
    engine
        .act_on_solvit_case(
            &lead,
            id,
            C::ProposeSolution {
                text: "The French fund will count the Danish periods".into(),
            },
            None,
        )
        .await
        .unwrap();
    let (closed, _) = engine
        .act_on_solvit_case(&home, id, close(Outcome::Resolved), None)
        .await
        .unwrap();
    assert_eq!(closed.solvit.state().stage(), SolvitStage::Closed);
    assert_eq!(closed.solvit.on_time(), Some(true));
    let feedback = C::RecordFeedback {
        satisfied: true,
        rating: 5,
    };
    engine
        .act_on_solvit_case(&home, id, feedback.clone(), None)
        .await
        .unwrap();
    assert!(matches!(
        engine.act_on_solvit_case(&home, id, feedback, None).await,
        Err(EngineError::Transition(_))
    ));

    // A second case, rejected by the lead centre.
    let other = engine
        .create_solvit_case(&home, &procedure, None, None)
        .await
        .unwrap()
        .id;
    let mut answers = Answers::new();
    answers.set(
        "problem".parse().unwrap(),
        AnswerValue::Text("A dispute between two companies".into()),
    );
    engine
        .act_on_solvit_case(
            &home,
            other,
            C::SaveDraft {
                answers,
                problem_area: Some(ProblemArea::Goods),
            },
            None,
        )
        .await
        .unwrap();
    let (submitted, _) = engine
        .act_on_solvit_case(&home, other, C::Submit { lead: lead_centre }, None)
        .await
        .unwrap();
    // The week to accept passes: tick records it once and tells the lead centre.
    let late = |days: u64| {
        (submitted.due().unwrap() + chrono::Days::new(days))
            .and_hms_opt(8, 0, 0)
            .unwrap()
            .and_utc()
    };
    engine.tick(late(0), 100).await.unwrap();
    let passed = |t: &[crate::solvit::SolvitTimelineEntry]| {
        t.iter()
            .filter(|e| matches!(e.event, SolvitEvent::DeadlinePassed { .. }))
            .count()
    };
    assert_eq!(
        passed(&engine.solvit_timeline(&lead, other).await.unwrap()),
        0
    );
    engine.tick(late(1), 100).await.unwrap();
    engine.tick(late(2), 100).await.unwrap();
    assert_eq!(
        passed(&engine.solvit_timeline(&lead, other).await.unwrap()),
        1
    );
    engine
        .act_on_solvit_case(
            &lead,
            other,
            C::Reject {
                reason: "A dispute between businesses is not a SOLVIT case".into(),
            },
            None,
        )
        .await
        .unwrap();

    // A third, withdrawn after submission: the lead centre still sees it, and it counts.
    let third = engine
        .create_solvit_case(&home, &procedure, None, None)
        .await
        .unwrap()
        .id;
    let mut answers = Answers::new();
    answers.set(
        "problem".parse().unwrap(),
        AnswerValue::Text("Car registration refused".into()),
    );
    for command in [
        C::SaveDraft {
            answers,
            problem_area: Some(ProblemArea::Goods),
        },
        C::Submit { lead: lead_centre },
        C::Withdraw {
            reason: "The complainant solved it".into(),
        },
    ] {
        engine
            .act_on_solvit_case(&home, third, command, None)
            .await
            .unwrap();
    }
    let (withdrawn, _) = engine.solvit_case(&lead, third).await.unwrap();
    assert_eq!(withdrawn.solvit.state().stage(), SolvitStage::Withdrawn);

    // A complaint through the public interface becomes a case's first draft.
    let mut complaint = Answers::new();
    complaint.set(
        "problem".parse().unwrap(),
        AnswerValue::Text("My residence card was refused".into()),
    );
    complaint.set(
        "complainant".parse().unwrap(),
        AnswerValue::Text("Ana Sousa".into()),
    );
    engine
        .submit(crate::NewSubmission {
            procedure: "solvit-complaint".parse().unwrap(),
            authority: home_centre,
            language: crate::Language::Portuguese,
            answers: complaint.clone(),
        })
        .await
        .unwrap();
    let received = engine
        .submissions(&home, None, PageRequest::first(10).unwrap())
        .await
        .unwrap();
    let submission = received.items[0].id;
    // Another centre cannot link it: it does not see the submission.
    assert!(matches!(
        engine
            .create_solvit_case(&lead, &procedure, Some(submission), None)
            .await,
        Err(EngineError::NotFound { .. })
    ));
    let from_public = engine
        .create_solvit_case(
            &home,
            &procedure,
            Some(submission),
            Some(ProblemArea::Residence),
        )
        .await
        .unwrap();
    assert_eq!(from_public.submission, Some(submission));
    assert_eq!(from_public.solvit.answers(), &complaint);
    assert_eq!(
        from_public.solvit.problem_area(),
        Some(ProblemArea::Residence)
    );

    // Figures from the index alone: nothing personal, one row per area.
    let figures = engine.solvit_figures(&outsider).await.unwrap();
    assert_eq!(figures.len(), 2);
    let social = figures
        .iter()
        .find(|f| f.problem_area == Some(ProblemArea::SocialSecurity))
        .unwrap();
    assert_eq!(
        (social.home_country.as_str(), social.lead_country.as_str()),
        ("DK", "FR")
    );
    assert_eq!(
        (
            social.submitted,
            social.accepted,
            social.resolved,
            social.closed_on_time
        ),
        (1, 1, 1, 1)
    );
    let goods = figures
        .iter()
        .find(|f| f.problem_area == Some(ProblemArea::Goods))
        .unwrap();
    assert_eq!(
        (
            goods.submitted,
            goods.rejected,
            goods.withdrawn,
            goods.accepted
        ),
        (2, 1, 1, 0)
    );
    assert!(matches!(
        engine.solvit_figures(&Actor::Public).await,
        Err(EngineError::Denied(_))
    ));

    // Retention: blocked 6 months after closure, deleted 3 years after.
    // Told through the outbox: the lead centre of the submissions, the home centre of
    // the proposed solution and the rejection; with a link to the case.
    use crate::outbox::Topic;
    let lead_feed = engine.feed(&lead, None, 100).await.unwrap();
    let topics: Vec<Topic> = lead_feed.items.iter().map(|e| e.topic).collect();
    assert_eq!(
        topics,
        [
            Topic::CaseReceived,
            Topic::CaseReceived,
            Topic::CaseWaiting,
            Topic::CaseReceived
        ],
        "submissions, and the passed deadline of the second case"
    );
    assert_eq!(
        lead_feed.items[0].subject.link(),
        format!("/v1/solvit-cases/{id}")
    );
    let home_feed = engine.feed(&home, None, 100).await.unwrap();
    let topics: Vec<Topic> = home_feed.items.iter().map(|e| e.topic).collect();
    assert_eq!(
        topics,
        [
            Topic::CaseWaiting,
            Topic::CaseWaiting,
            Topic::SubmissionReceived
        ]
    );
    assert!(
        engine
            .feed(&outsider, None, 100)
            .await
            .unwrap()
            .items
            .is_empty()
    );

    let closed_at = closed.updated_at;
    engine
        .tick(closed_at + chrono::Duration::days(186), 100)
        .await
        .unwrap();
    let (blocked, _) = engine.solvit_case(&lead, id).await.unwrap();
    assert!(blocked.solvit.is_blocked());
    assert!(
        blocked
            .solvit
            .answers()
            .get(&"complainant".parse().unwrap())
            .is_none(),
        "blocked: no personal data for the centres"
    );
    let timeline = engine.solvit_timeline(&home, id).await.unwrap();
    assert!(
        timeline
            .iter()
            .all(|e| !format!("{:?}", e.event).contains("Jens Hansen"))
    );
    let (kept, _) = engine.solvit_case(&Actor::System, id).await.unwrap();
    assert!(
        kept.solvit
            .answers()
            .get(&"complainant".parse().unwrap())
            .is_some(),
        "the operator keeps the data as proof until deletion"
    );
    engine
        .tick(closed_at + chrono::Duration::days(3 * 366 + 1), 100)
        .await
        .unwrap();
    let (erased, _) = engine.solvit_case(&Actor::System, id).await.unwrap();
    assert!(erased.solvit.is_erased());
    assert!(
        erased
            .solvit
            .answers()
            .get(&"complainant".parse().unwrap())
            .is_none()
    );
    let timeline = engine.solvit_timeline(&Actor::System, id).await.unwrap();
    assert!(
        timeline
            .iter()
            .all(|e| !format!("{:?}", e.event).contains("Jens Hansen"))
    );
    assert!(matches!(
        timeline.last().map(|e| &e.event),
        Some(SolvitEvent::PersonalDataDeleted)
    ));
    // The figures outlive the personal data.
    assert_eq!(engine.solvit_figures(&outsider).await.unwrap().len(), 2);
}
