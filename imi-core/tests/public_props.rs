//! The public secret is the only way in: under random submissions and random attempts,
//! - a secret opens exactly the submission it was issued for (status, export), and the
//!   same secret in capitals too (hexadecimal is case-blind);
//! - every other secret (one digit changed, random, another scheme) opens nothing: each
//!   public operation (status, reply or withdraw, data request) answers the same
//!   `NotFound` and writes nothing to the store;
//! - no account opens a submission of another authority, and no anonymous caller reads
//!   an authority's submissions;
//! - the store never holds a secret in clear.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should panic

use std::sync::Arc;

use imi_core::catalogue::{AnswerValue, Answers};
use imi_core::conformance::submission_world;
use imi_core::store::{Scan, Store};
use imi_core::submission::{SubmissionCommand, SubmissionSecret};
use imi_core::{
    CaseReference, EngineError, Language, NewSubmission, PageRequest, access::Actor,
    store::MemoryStore,
};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    /// Submit to the world's authority (true) or the other one (false).
    Submit(bool),
    /// Use the secret of submission `i` (modulo how many there are).
    Exact(usize),
    /// The same, in capitals.
    Capitals(usize),
    /// The secret of submission `i` with hex digit `pos` changed by `delta`.
    Flip(usize, usize, u8),
    /// A random secret.
    Random([u8; 32]),
    /// The other authority's handler tries to read submission `i`.
    OtherAuthority(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => any::<bool>().prop_map(Op::Submit),
        2 => any::<usize>().prop_map(Op::Exact),
        1 => any::<usize>().prop_map(Op::Capitals),
        4 => (any::<usize>(), 0usize..64, 1u8..16).prop_map(|(i, p, d)| Op::Flip(i, p, d)),
        2 => any::<[u8; 32]>().prop_map(Op::Random),
        2 => any::<usize>().prop_map(Op::OtherAuthority),
    ]
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every entry of the store, to show an operation wrote nothing.
async fn snapshot(store: &MemoryStore) -> Vec<(Vec<u8>, Vec<u8>)> {
    store
        .scan(&Scan::all(100_000))
        .await
        .unwrap()
        .entries
        .into_iter()
        .map(|e| (e.key, e.value))
        .collect()
}

/// Every public operation with `secret` opens nothing, answers the same `NotFound`, and
/// writes nothing.
async fn opens_nothing(engine: &imi_core::Engine, store: &MemoryStore, secret: &SubmissionSecret) {
    let before = snapshot(store).await;
    let status = engine.submission_status(secret, None).await.unwrap_err();
    assert!(matches!(status, EngineError::NotFound { .. }), "{status:?}");
    let refused = status.to_string();
    for command in [
        SubmissionCommand::Withdraw,
        SubmissionCommand::Reply { text: "x".into() },
    ] {
        let e = engine
            .act_as_submitter(secret, command, None)
            .await
            .unwrap_err();
        assert_eq!(e.to_string(), refused);
    }
    let e = engine.submission_data(secret).await.unwrap_err();
    assert_eq!(e.to_string(), refused);
    assert!(
        snapshot(store).await == before,
        "a refused secret wrote to the store"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn the_public_secret_is_the_only_way_in(steps in prop::collection::vec(op(), 1..24)) {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let store = Arc::new(MemoryStore::new());
            let w = submission_world(Arc::clone(&store) as Arc<dyn Store>).await;
            let engine = &w.engine;
            // (secret, reference, made to the world's authority)
            let mut made: Vec<(SubmissionSecret, CaseReference, bool)> = Vec::new();
            for step in steps {
                match step {
                    Op::Submit(to_first) => {
                        let mut answers = Answers::new();
                        answers.set("applicant".parse().unwrap(), AnswerValue::Text(format!("Person {}", made.len())));
                        answers.set("profession".parse().unwrap(), AnswerValue::Text("Nurse".into()));
                        let receipt = engine
                            .submit(NewSubmission {
                                procedure: "recognition".parse().unwrap(),
                                authority: if to_first { w.authority } else { w.other_authority },
                                language: Language::French,
                                answers,
                            })
                            .await
                            .unwrap();
                        made.push((receipt.secret, receipt.reference, to_first));
                    }
                    Op::Exact(i) | Op::Capitals(i) if !made.is_empty() => {
                        let (secret, reference, _) = &made[i % made.len()];
                        let secret = match step {
                            Op::Capitals(_) => {
                                let upper = secret.expose()[5..].to_uppercase();
                                format!("imis_{upper}").parse().unwrap()
                            }
                            _ => secret.clone(),
                        };
                        let (status, _) = engine.submission_status(&secret, None).await.unwrap();
                        assert_eq!(status.reference, *reference);
                        let export = engine.submission_data(&secret).await.unwrap();
                        assert_eq!(export.status.reference, *reference);
                    }
                    Op::Flip(i, pos, delta) if !made.is_empty() => {
                        let (secret, _, _) = &made[i % made.len()];
                        let mut digits: Vec<u8> = secret.expose()[5..].bytes().collect();
                        let d = u8::from_str_radix(&(digits[pos] as char).to_string(), 16).unwrap();
                        digits[pos] = format!("{:x}", (d + delta) % 16).as_bytes()[0];
                        let flipped: SubmissionSecret =
                            format!("imis_{}", String::from_utf8(digits).unwrap()).parse().unwrap();
                        opens_nothing(engine, &store, &flipped).await;
                    }
                    Op::Random(bytes) => {
                        let random: SubmissionSecret = format!("imis_{}", hex(&bytes)).parse().unwrap();
                        if made.iter().all(|(s, _, _)| s.hash() != random.hash()) {
                            opens_nothing(engine, &store, &random).await;
                        }
                    }
                    Op::OtherAuthority(i) if !made.is_empty() => {
                        let (_, reference, to_first) = &made[i % made.len()];
                        let page = engine
                            .submissions(&w.handler, None, PageRequest::first(100).unwrap())
                            .await
                            .unwrap();
                        let theirs = engine
                            .submissions(&w.other_handler, None, PageRequest::first(100).unwrap())
                            .await
                            .unwrap();
                        let (own, foreign) = if *to_first { (&page, &theirs) } else { (&theirs, &page) };
                        let item = own.items.iter().find(|s| s.reference == *reference).unwrap();
                        assert!(foreign.items.iter().all(|s| s.reference != *reference));
                        let outsider = if *to_first { &w.other_handler } else { &w.handler };
                        assert!(matches!(
                            engine.submission(outsider, item.id).await,
                            Err(EngineError::NotFound { .. })
                        ));
                        assert!(engine.submission(&Actor::Public, item.id).await.is_err());
                        assert!(engine
                            .submissions(&Actor::Public, None, PageRequest::first(10).unwrap())
                            .await
                            .is_err());
                    }
                    Op::Exact(_) | Op::Capitals(_) | Op::Flip(..) | Op::OtherAuthority(_) => {}
                }
            }
            // No secret is ever stored in clear.
            let everything = snapshot(&store).await;
            for (secret, _, _) in &made {
                let clear = secret.expose().as_bytes();
                let digits = &clear[5..];
                assert!(everything.iter().all(|(k, v)| {
                    !k.windows(digits.len()).any(|w| w == digits)
                        && !v.windows(digits.len()).any(|w| w == digits)
                }));
            }
        });
    }
}
