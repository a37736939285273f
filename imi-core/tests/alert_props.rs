//! Properties of alerts under random commands by random actors:
//! - recipients outside the broadcast never see an alert (neither read, timeline nor box);
//! - incoming coordinators never see restricted fields: only `summary` answers, no free
//!   text, in the alert, its timeline and their boxes;
//! - handlers see an alert only once it was distributed to their authority.
//!
//! The oracle reads the alert as the operator (`Actor::System`) and decides from the
//! recipients and distributions, independently of the engine's visibility rules. The
//! converse is checked too (a handler it was distributed to sees it in full), so the
//! property cannot pass vacuously.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should panic

use std::collections::BTreeSet;
use std::sync::Arc;

use imi_core::alert::{AlertCommand as C, AlertStage, AlertVisibility};
use imi_core::catalogue::{AnswerValue, Answers};
use imi_core::conformance::{AlertWorld, alert_world_with};
use imi_core::{
    AlertBox, AlertNetwork, CaseId, Country, EngineError, PageRequest, Participant, access::Actor,
    store::MemoryStore,
};
use proptest::prelude::*;

const COUNTRIES: [Country; 4] = [
    Country::France,
    Country::Germany,
    Country::Italy,
    Country::Sweden,
];
const SECRET: &str = "SECRET";

#[derive(Debug, Clone)]
enum Op {
    Draft,
    Submit(BTreeSet<usize>, bool),
    Approve,
    Return,
    Reject,
    /// The coordinator of a country distributes to (some of) its handlers.
    Distribute(usize, BTreeSet<usize>),
    Acknowledge(usize, usize),
    Inform(usize),
    Rectify,
    ProposeClosure(usize, usize),
    Close,
    Withdraw,
}

fn op() -> impl Strategy<Value = Op> {
    let country = 0usize..COUNTRIES.len();
    let handler = 0usize..2;
    prop_oneof![
        1 => Just(Op::Draft),
        3 => (prop::collection::btree_set(0usize..COUNTRIES.len(), 0..4), any::<bool>())
            .prop_map(|(s, ec)| Op::Submit(s, ec)),
        2 => Just(Op::Approve),
        1 => Just(Op::Return),
        1 => Just(Op::Reject),
        3 => (country.clone(), prop::collection::btree_set(0usize..2, 0..3))
            .prop_map(|(c, h)| Op::Distribute(c, h)),
        2 => (country.clone(), handler.clone()).prop_map(|(c, h)| Op::Acknowledge(c, h)),
        // Who informs: 0 the sender, 1.. a handler (country*2+handler+1).
        2 => (0usize..(1 + COUNTRIES.len() * 2)).prop_map(Op::Inform),
        1 => Just(Op::Rectify),
        1 => (country, handler).prop_map(|(c, h)| Op::ProposeClosure(c, h)),
        1 => Just(Op::Close),
        1 => Just(Op::Withdraw),
    ]
}

fn answers(name: &str) -> Answers {
    let mut a = Answers::new();
    a.set(
        "professional".parse().unwrap(),
        AnswerValue::Text(name.into()),
    );
    a.set(
        "scope".parse().unwrap(),
        AnswerValue::Choice("restriction".parse().unwrap()),
    );
    a
}

async fn apply(w: &AlertWorld, id: CaseId, op: &Op) {
    let e = &w.engine;
    let text = format!("{SECRET} text");
    let (actor, cmd) = match op {
        Op::Draft => (
            &w.sender,
            C::SaveDraft {
                answers: answers(&format!("{SECRET} name")),
            },
        ),
        Op::Submit(countries, ec) => {
            let mut recipients: BTreeSet<Participant> =
                countries.iter().map(|i| COUNTRIES[*i].into()).collect();
            if *ec {
                recipients.insert(Participant::Commission);
            }
            (&w.sender, C::Submit { recipients })
        }
        Op::Approve => (&w.outgoing, C::Approve),
        Op::Return => (&w.outgoing, C::Return { comment: text }),
        Op::Reject => (&w.outgoing, C::Reject { reason: text }),
        Op::Distribute(c, hs) => (
            &w.countries[*c].coordinator,
            C::Distribute {
                to: hs.iter().map(|h| w.countries[*c].handlers[*h].1).collect(),
            },
        ),
        Op::Acknowledge(c, h) => (&w.countries[*c].handlers[*h].0, C::Acknowledge),
        Op::Inform(0) => (&w.sender, C::AddInformation { text }),
        Op::Inform(i) => {
            let (c, h) = ((i - 1) / 2, (i - 1) % 2);
            (&w.countries[c].handlers[h].0, C::AddInformation { text })
        }
        Op::Rectify => (
            &w.sender,
            C::Rectify {
                answers: answers(&format!("{SECRET} corrected")),
                reason: text,
            },
        ),
        Op::ProposeClosure(c, h) => (
            &w.countries[*c].handlers[*h].0,
            C::ProposeClosure { reason: text },
        ),
        Op::Close => (&w.sender, C::Close { reason: text }),
        Op::Withdraw => (&w.sender, C::Withdraw { reason: text }),
    };
    // Refusals are part of the game; they must change nothing, which the checks see.
    let _ = e.act_on_alert(actor, id, cmd, None).await;
}

async fn in_box(w: &AlertWorld, actor: &Actor, which: AlertBox, id: CaseId) -> Option<String> {
    let page = w
        .engine
        .alerts(actor, which, None, PageRequest::first(100).unwrap())
        .await
        .unwrap();
    page.items
        .iter()
        .find(|v| v.case.id == id)
        .map(|v| serde_json::to_string(v).unwrap())
}

async fn check(w: &AlertWorld, id: CaseId) -> Result<(), TestCaseError> {
    let (truth, _) = w.engine.alert(&Actor::System, id).await.unwrap();
    let alert = &truth.case.alert;
    let sent = !matches!(
        alert.state().stage(),
        AlertStage::Draft | AlertStage::PendingValidation | AlertStage::Rejected
    );
    for (i, country) in COUNTRIES.iter().enumerate() {
        let p: Participant = (*country).into();
        let recipient = sent && alert.recipients().contains(&p);
        let coordinator = &w.countries[i].coordinator;
        let read = w.engine.alert(coordinator, id).await;
        let timeline = w.engine.alert_timeline(coordinator, id).await;
        let boxed = in_box(w, coordinator, AlertBox::Incoming, id).await;
        if recipient {
            let (view, _) = read.unwrap();
            prop_assert_eq!(view.visibility, AlertVisibility::Summary);
            let shown = serde_json::to_string(&view).unwrap()
                + &serde_json::to_string(&timeline.unwrap()).unwrap()
                + &boxed.clone().unwrap_or_default();
            prop_assert!(
                !shown.contains(SECRET),
                "the incoming coordinator of {} saw restricted data: {}",
                country,
                shown
            );
            prop_assert!(
                boxed.is_some(),
                "a recipient country's incoming box lacks it"
            );
            prop_assert!(
                view.case
                    .alert
                    .answers()
                    .iter()
                    .all(|(q, _)| q.as_str() == "scope")
            );
        } else {
            prop_assert!(
                matches!(read, Err(EngineError::NotFound { .. })),
                "{} is outside the broadcast but read it",
                country
            );
            let hidden = matches!(timeline, Err(EngineError::NotFound { .. }));
            prop_assert!(
                hidden,
                "{} is outside the broadcast but read its timeline",
                country
            );
            prop_assert!(boxed.is_none());
        }
        for (h, (handler, authority)) in w.countries[i].handlers.iter().enumerate() {
            let distributed = alert
                .distributed()
                .get(&p)
                .is_some_and(|s| s.contains(authority));
            let read = w.engine.alert(handler, id).await;
            let boxed = in_box(w, handler, AlertBox::Handling, id).await;
            if distributed {
                prop_assert!(recipient, "distributed outside the broadcast");
                let (view, _) = read.unwrap();
                prop_assert_eq!(view.visibility, AlertVisibility::Full);
                prop_assert_eq!(view.case.alert.answers(), alert.answers());
                prop_assert!(boxed.is_some());
            } else {
                prop_assert!(
                    matches!(read, Err(EngineError::NotFound { .. })),
                    "handler {} of {} read an alert not distributed to it",
                    h,
                    country
                );
                prop_assert!(boxed.is_none());
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn outsiders_see_nothing_and_coordinators_only_the_summary(
        validates in any::<bool>(),
        standing in prop::collection::vec(any::<bool>(), COUNTRIES.len()),
        steps in prop::collection::vec(op(), 0..20),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let w = alert_world_with(Arc::new(MemoryStore::new()), &COUNTRIES, 2).await;
            let procedure = "pq-alert".parse().unwrap();
            w.engine
                .set_alert_network(
                    &Actor::System,
                    Country::Denmark.into(),
                    &procedure,
                    AlertNetwork { validates_outgoing: validates, handlers: BTreeSet::new() },
                )
                .await
                .unwrap();
            // Some countries have their first handler as a standing handler.
            for (i, on) in standing.iter().enumerate() {
                if *on {
                    w.engine
                        .set_alert_network(
                            &Actor::System,
                            COUNTRIES[i].into(),
                            &procedure,
                            AlertNetwork {
                                validates_outgoing: false,
                                handlers: [w.countries[i].handlers[0].1].into_iter().collect(),
                            },
                        )
                        .await
                        .unwrap();
                }
            }
            let id = w.engine.create_alert(&w.sender, &procedure).await.unwrap().case.id;
            check(&w, id).await?;
            for op in &steps {
                apply(&w, id, op).await;
                check(&w, id).await?;
            }
            Ok::<(), TestCaseError>(())
        })?;
    }
}
