//! Who sees a survey and its results, and who may answer, under random targeting, random
//! answers by random users and the passing of time:
//! - a survey is read by its author's administrators and by the users of the authorities
//!   it was sent to, nobody else (read, box, own answer);
//! - results are its author's alone, and never carry a name or a free text;
//! - an authority answers only a survey sent to it, only until the deadline.
//!
//! The oracle computes the recipients from the world's facts (countries, procedure
//! access), independently of the engine's directory search.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should panic

use std::sync::Arc;

use imi_core::catalogue::{AnswerValue, Answers};
use imi_core::conformance::{SurveyWorld, survey_world};
use imi_core::survey::{SurveyBox, SurveyCommand as C, Targeting};
use imi_core::{
    CaseId, Country, EngineError, PageRequest, Participant, access::Actor, store::MemoryStore,
};
use proptest::prelude::*;

const NAME: &str = "Karen Holm";
const TEXT: &str = "free text comment";

/// The authorities' countries, in the world's order, and whether each has access to
/// `pq-check` (the DK coordinator's office and the Commission have the survey only).
fn facts(w: &SurveyWorld) -> Vec<(Actor, Participant, bool, bool)> {
    let mut out: Vec<(Actor, Participant, bool, bool)> = w
        .authorities
        .iter()
        .zip([
            Country::Denmark,
            Country::France,
            Country::France,
            Country::Germany,
        ])
        .map(|((a, _), c)| (a.clone(), c.into(), true, false))
        .collect();
    out.push((
        w.dk_coordinator.clone(),
        Country::Denmark.into(),
        false,
        false,
    ));
    out.push((w.commission.clone(), Participant::Commission, false, true));
    out
}

#[derive(Debug, Clone)]
enum Op {
    Answer(usize, bool),
    Tick(u16),
    Extend,
    Close,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0usize..6, any::<bool>()).prop_map(|(i, b)| Op::Answer(i, b)),
        1 => (1u16..30).prop_map(Op::Tick),
        1 => Just(Op::Extend),
        1 => Just(Op::Close),
    ]
}

fn answers(works: bool) -> Answers {
    let mut a = Answers::new();
    a.set("works".parse().unwrap(), AnswerValue::YesNo(works));
    a.set("comments".parse().unwrap(), AnswerValue::Text(TEXT.into()));
    a.set("contact".parse().unwrap(), AnswerValue::Text(NAME.into()));
    a
}

async fn check(w: &SurveyWorld, id: CaseId, expected: &[bool]) -> Result<(), TestCaseError> {
    for (i, (actor, _, _, author)) in facts(w).iter().enumerate() {
        let sees = expected[i] || *author;
        prop_assert_eq!(
            w.engine.survey(actor, id).await.is_ok(),
            sees,
            "read by {}",
            i
        );
        let received = w
            .engine
            .surveys(actor, SurveyBox::Received, PageRequest::first(50).unwrap())
            .await
            .unwrap();
        prop_assert_eq!(
            received.items.iter().any(|s| s.id == id),
            expected[i],
            "received box of {}",
            i
        );
        let results = w.engine.survey_results(actor, id).await;
        prop_assert_eq!(results.is_ok(), *author, "results for {}", i);
        if let Ok(r) = results {
            let shown = format!("{r:?}{}", r.to_csv());
            prop_assert!(!shown.contains(NAME) && !shown.contains(TEXT));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn only_its_author_and_recipients_see_a_survey(
        countries in prop::collection::btree_set(0usize..4, 0..4),
        by_procedure in any::<bool>(),
        steps in prop::collection::vec(op(), 0..16),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let w = survey_world(Arc::new(MemoryStore::new())).await;
            let all = [
                Participant::from(Country::Denmark),
                Country::France.into(),
                Country::Germany.into(),
                Participant::Commission,
            ];
            let targeting = Targeting {
                countries: countries.iter().map(|i| all[*i]).collect(),
                procedures: if by_procedure {
                    ["pq-check".parse().unwrap()].into_iter().collect()
                } else {
                    Default::default()
                },
                ..Targeting::default()
            };
            // The oracle: active authorities of the countries (all when none), with
            // access to the procedure when asked, never the author.
            let expected: Vec<bool> = facts(&w)
                .iter()
                .map(|(_, c, pq, author)| {
                    !author
                        && (targeting.countries.is_empty() || targeting.countries.contains(c))
                        && (!by_procedure || *pq)
                })
                .collect();
            let id = w
                .engine
                .create_survey(&w.commission, &"practice-survey".parse().unwrap())
                .await
                .unwrap()
                .id;
            let mut deadline = w.engine.survey(&w.commission, id).await.unwrap().0.created_at.date_naive()
                + chrono::Duration::days(10);
            let sent = w
                .engine
                .act_on_survey(&w.commission, id, C::Send { targeting, deadline }, None)
                .await;
            if !expected.iter().any(|e| *e) {
                prop_assert!(matches!(sent, Err(EngineError::Transition(_))));
                check(&w, id, &[false; 6]).await?;
                return Ok(());
            }
            sent.unwrap();
            check(&w, id, &expected).await?;
            let mut today = deadline - chrono::Duration::days(10);
            let mut open = true;
            for step in &steps {
                match step {
                    Op::Answer(i, works) => {
                        let (actor, ..) = &facts(&w)[*i];
                        let result = w.engine.answer_survey(actor, id, answers(*works), None).await;
                        let may = expected[*i] && open && today <= deadline;
                        prop_assert_eq!(result.is_ok(), may, "answer by {}: {:?}", i, result);
                    }
                    Op::Tick(days) => {
                        today += chrono::Duration::days(i64::from(*days));
                        w.engine
                            .tick(today.and_hms_opt(8, 0, 0).unwrap().and_utc(), 100)
                            .await
                            .unwrap();
                        if today > deadline {
                            open = false;
                        }
                        // Answers are judged by the engine's clock, which stands still;
                        // only tick moves the survey on.
                        today = today.min(deadline);
                    }
                    Op::Extend => {
                        let later = deadline + chrono::Duration::days(5);
                        let r = w
                            .engine
                            .act_on_survey(&w.commission, id, C::ExtendDeadline { deadline: later }, None)
                            .await;
                        prop_assert_eq!(r.is_ok(), open);
                        if open {
                            deadline = later;
                        }
                    }
                    Op::Close => {
                        let r = w.engine.act_on_survey(&w.commission, id, C::Close, None).await;
                        prop_assert_eq!(r.is_ok(), open);
                        open = false;
                    }
                }
                check(&w, id, &expected).await?;
            }
            Ok(())
        })?;
    }
}
