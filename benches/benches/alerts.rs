//! Broadcast of one alert from Denmark to the other 29 EEA countries and the Commission,
//! where each country has 10 standing handling authorities: one engine operation, one
//! commit, that writes the alert, its timeline entries (broadcast and 29 distributions)
//! and the box entries of 30 recipients and 290 handlers.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)] // bench harness

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use imi_core::alert::AlertCommand as C;
use imi_core::catalogue::{AnswerValue, Answers};
use imi_core::conformance::alert_world_with;
use imi_core::{AlertNetwork, Country, Participant, access::Actor};

const HANDLERS: usize = 10;

fn broadcast(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let backends = rt.block_on(imi_benches::backends()).unwrap();
    let countries: Vec<Country> = Country::ALL
        .into_iter()
        .filter(|c| *c != Country::Denmark)
        .collect();
    for backend in &backends {
        let w = rt.block_on(alert_world_with(
            Arc::clone(&backend.store),
            &countries,
            HANDLERS,
        ));
        let procedure = "pq-alert".parse().unwrap();
        rt.block_on(async {
            for (country, r) in countries.iter().zip(&w.countries) {
                w.engine
                    .set_alert_network(
                        &Actor::System,
                        (*country).into(),
                        &procedure,
                        AlertNetwork {
                            validates_outgoing: false,
                            handlers: r.handlers.iter().map(|(_, a)| *a).collect(),
                        },
                    )
                    .await
                    .unwrap();
            }
        });
        let mut recipients: std::collections::BTreeSet<Participant> =
            countries.iter().map(|c| (*c).into()).collect();
        recipients.insert(Participant::Commission);
        assert_eq!(recipients.len(), 30);
        let mut answers = Answers::new();
        answers.set(
            "professional".parse().unwrap(),
            AnswerValue::Text("Dr Jens Hansen".into()),
        );
        answers.set(
            "scope".parse().unwrap(),
            AnswerValue::Choice("prohibition".parse().unwrap()),
        );
        let mut group = c.benchmark_group(format!("alert_broadcast/{}", backend.name));
        group
            .measurement_time(Duration::from_secs(5))
            .sample_size(20);
        group.bench_function("30_recipients_290_handlers", |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let mut spent = Duration::ZERO;
                    for _ in 0..iters {
                        // Untimed: the draft.
                        let id = w
                            .engine
                            .create_alert(&w.sender, &procedure)
                            .await
                            .unwrap()
                            .case
                            .id;
                        w.engine
                            .act_on_alert(
                                &w.sender,
                                id,
                                C::SaveDraft {
                                    answers: answers.clone(),
                                },
                                None,
                            )
                            .await
                            .unwrap();
                        // Timed: the broadcast.
                        let start = Instant::now();
                        let (view, _) = w
                            .engine
                            .act_on_alert(
                                &w.sender,
                                id,
                                C::Submit {
                                    recipients: recipients.clone(),
                                },
                                None,
                            )
                            .await
                            .unwrap();
                        spent += start.elapsed();
                        let handlers: usize = view
                            .case
                            .alert
                            .distributed()
                            .values()
                            .map(|s| s.len())
                            .sum();
                        assert_eq!(handlers, 29 * HANDLERS);
                    }
                    spent
                })
            });
        });
        group.finish();
    }
}

criterion_group!(benches, broadcast);
criterion_main!(benches);
