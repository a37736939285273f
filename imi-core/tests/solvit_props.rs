//! Who sees a SOLVIT case, under random commands by random actors:
//! - the home centre's handlers always see it; a lead centre only once it was submitted
//!   to it, and never how the home centre drafted it (only the submitted draft); other
//!   centres and users without the right never see it (read, timeline or box);
//! - once blocked, nobody but the operator reads the complainant's name anywhere.
//!
//! The oracle reads the case as the operator and decides from its stage and lead centre,
//! independently of the engine's rules; the converse (the entitled do see it) is checked
//! too, so the property cannot pass vacuously.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should panic

use std::sync::Arc;

use imi_core::catalogue::{AnswerValue, Answers};
use imi_core::conformance::{SolvitWorld, solvit_world};
use imi_core::solvit::{Outcome, ProblemArea, SolvitBox, SolvitCommand as C, SolvitStage};
use imi_core::{CaseId, EngineError, PageRequest, access::Actor, store::MemoryStore};
use proptest::prelude::*;

const NAME: &str = "Jens Hansen";
const FIRST: &str = "FIRST DRAFT";

#[derive(Debug, Clone)]
enum Op {
    Save(bool),
    Submit(bool),
    Accept,
    Reject,
    Comment,
    Propose,
    Contest,
    Close(bool),
    Withdraw,
    Feedback,
    /// Time passes: this many days after the last change, then `tick`.
    Tick(u16),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => any::<bool>().prop_map(Op::Save),
        3 => any::<bool>().prop_map(Op::Submit),
        2 => Just(Op::Accept),
        1 => Just(Op::Reject),
        1 => Just(Op::Comment),
        2 => Just(Op::Propose),
        1 => Just(Op::Contest),
        2 => any::<bool>().prop_map(Op::Close),
        1 => Just(Op::Withdraw),
        1 => Just(Op::Feedback),
        1 => (150u16..1200).prop_map(Op::Tick),
    ]
}

/// The home centre acts most, so that cases get far.
fn actor() -> impl Strategy<Value = usize> {
    prop_oneof![4 => Just(0usize), 2 => Just(1usize), 1 => Just(2usize), 1 => Just(3usize)]
}

fn actors(w: &SolvitWorld) -> [&Actor; 4] {
    [&w.home, &w.lead, &w.outsider, &w.viewer]
}

async fn apply(w: &SolvitWorld, id: CaseId, by: usize, op: &Op) {
    let actor = actors(w)[by];
    let command = match op {
        Op::Save(first) => {
            let mut a = Answers::new();
            let text = if *first { FIRST } else { "Pension not paid" };
            a.set("problem".parse().unwrap(), AnswerValue::Text(text.into()));
            a.set(
                "complainant".parse().unwrap(),
                AnswerValue::Text(NAME.into()),
            );
            C::SaveDraft {
                answers: a,
                problem_area: Some(ProblemArea::SocialSecurity),
            }
        }
        Op::Submit(fr) => C::Submit {
            lead: if *fr {
                w.lead_centre
            } else {
                w.outsider_centre
            },
        },
        Op::Accept => C::Accept,
        Op::Reject => C::Reject {
            reason: "Not SOLVIT".into(),
        },
        Op::Comment => C::Comment {
            text: "Any news?".into(),
        },
        Op::Propose => C::ProposeSolution {
            text: "Paid from March".into(),
        },
        Op::Contest => C::Contest {
            reason: "Not enough".into(),
        },
        Op::Close(resolved) => C::Close {
            outcome: if *resolved {
                Outcome::Resolved
            } else {
                Outcome::Unresolved
            },
            reason: "Done".into(),
        },
        Op::Withdraw => C::Withdraw {
            reason: "Gave up".into(),
        },
        Op::Feedback => C::RecordFeedback {
            satisfied: true,
            rating: 4,
        },
        Op::Tick(days) => {
            let (case, _) = w.engine.solvit_case(&Actor::System, id).await.unwrap();
            let at = case.updated_at + chrono::Duration::days(i64::from(*days));
            w.engine.tick(at, 1_000).await.unwrap();
            return;
        }
    };
    match w.engine.act_on_solvit_case(actor, id, command, None).await {
        Ok(_)
        | Err(EngineError::Transition(_) | EngineError::NotFound { .. } | EngineError::Denied(_)) =>
            {}
        Err(e) => panic!("unexpected refusal: {e}"),
    }
}

async fn in_box(w: &SolvitWorld, actor: &Actor, id: CaseId) -> bool {
    let mut found = false;
    for which in [SolvitBox::Home, SolvitBox::Lead] {
        let page = w
            .engine
            .solvit_cases(actor, which, None, PageRequest::first(50).unwrap())
            .await
            .unwrap();
        found |= page.items.iter().any(|c| c.id == id);
    }
    found
}

async fn check(w: &SolvitWorld, id: CaseId) -> Result<(), TestCaseError> {
    let (truth, _) = w.engine.solvit_case(&Actor::System, id).await.unwrap();
    let stage = truth.solvit.state().stage();
    let lead = truth.solvit.state().lead();
    let entitled = [
        true,
        stage != SolvitStage::Draft && lead == Some(w.lead_centre),
        stage != SolvitStage::Draft && lead == Some(w.outsider_centre),
        false,
    ];
    for (i, actor) in actors(w).into_iter().enumerate() {
        let read = w.engine.solvit_case(actor, id).await;
        let timeline = w.engine.solvit_timeline(actor, id).await;
        let boxed = in_box(w, actor, id).await;
        prop_assert_eq!(read.is_ok(), entitled[i], "read by actor {}", i);
        prop_assert_eq!(timeline.is_ok(), entitled[i], "timeline of actor {}", i);
        prop_assert_eq!(boxed, entitled[i], "box of actor {}", i);
        if let (Ok((case, _)), Ok(entries)) = (read, timeline) {
            let shown = format!("{:?}{:?}", case.solvit, entries);
            if truth.solvit.is_blocked() {
                prop_assert!(
                    !shown.contains(NAME),
                    "blocked, yet actor {} reads the name",
                    i
                );
            }
            if i != 0 {
                let drafts = entries
                    .iter()
                    .filter(|e| matches!(e.event, imi_core::solvit::SolvitEvent::DraftSaved { .. }))
                    .count();
                prop_assert!(drafts <= 1, "the lead centre sees {} drafts", drafts);
                let submitted = format!("{:?}", truth.solvit.answers());
                if !submitted.contains(FIRST) {
                    prop_assert!(!shown.contains(FIRST), "actor {} reads a dropped draft", i);
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn only_its_centres_see_a_solvit_case(
        steps in prop::collection::vec((actor(), op()), 0..24),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let w = solvit_world(Arc::new(MemoryStore::new())).await;
            let procedure = "solvit-case".parse().unwrap();
            let id = w.engine.create_solvit_case(&w.home, &procedure, None, None).await.unwrap().id;
            check(&w, id).await?;
            for (by, op) in &steps {
                apply(&w, id, *by, op).await;
                check(&w, id).await?;
            }
            Ok::<(), TestCaseError>(())
        })?;
    }
}
