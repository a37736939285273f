//! A full request lifecycle per backend: create, save the draft, send, accept, answer,
//! accept the answer (six durable commits with their timeline and inbox entries).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)] // bench harness

use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use imi_core::catalogue::{AnswerValue, Answers, Catalogue, CatalogueSource, Right};
use imi_core::request::RequestCommand as C;
use imi_core::{
    Actor, Competence, Country, Engine, Grant, GrantScope, Language, LocalisedText, ManualClock,
    NewAuthority, NewUser,
};

const AREA: &str = "id = \"pq\"\n[name]\nen = \"PQ\"\n[[procedure]]\nid = \"check\"\nkind = \"request\"\nquestion_set = \"q\"\n[procedure.name]\nen = \"Check\"\n";
const SET: &str = "id = \"q\"\nversion = 1\n[title]\nen = \"Q\"\n[[group]]\nid = \"g\"\n[group.title]\nen = \"G\"\n[[group.question]]\nid = \"name\"\ntype = \"free-text\"\nrequired = \"to-send\"\npersonal_data = true\n[group.question.label]\nen = \"Name\"\n[[group.question]]\nid = \"ok\"\ntype = \"yes-no\"\nrequired = \"to-send\"\nanswered_by = \"responder\"\n[group.question.label]\nen = \"OK?\"\n";

fn lifecycle(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let backends = rt.block_on(imi_benches::backends()).unwrap();
    for backend in &backends {
        let clock = Arc::new(ManualClock::new("2026-11-22T09:00:00Z".parse().unwrap()));
        let engine = Engine::new(Arc::clone(&backend.store), clock);
        let sources = [
            CatalogueSource::new("areas/pq.toml", AREA),
            CatalogueSource::new("question-sets/q.toml", SET),
        ];
        engine
            .publish_catalogue(&Actor::System, Catalogue::load(&sources).unwrap())
            .unwrap();
        let (dk, fr, fr_id) = rt.block_on(async {
            let mut actors = Vec::new();
            let mut ids = Vec::new();
            for country in [Country::Denmark, Country::France] {
                let mut n = NewAuthority::new(
                    country,
                    LocalisedText::new(Language::English, format!("{country} bench")).unwrap(),
                );
                n.competences = vec![Competence {
                    area: "pq".parse().unwrap(),
                    keywords: vec![],
                }];
                n.confirmed_not_duplicate = true;
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
                            name: "B".into(),
                            email: "b@x.eu".parse().unwrap(),
                            language: Language::English,
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
            (actors[0].clone(), actors[1].clone(), ids[1])
        });
        let mut draft = Answers::new();
        draft.set(
            "name".parse().unwrap(),
            AnswerValue::Text("Marie Dubois".into()),
        );
        let mut reply = Answers::new();
        reply.set("ok".parse().unwrap(), AnswerValue::YesNo(true));
        let mut group = c.benchmark_group(format!("request_lifecycle/{}", backend.name));
        group
            .measurement_time(Duration::from_secs(5))
            .sample_size(20);
        group.bench_function("six_durable_steps", |b| {
            b.iter(|| {
                rt.block_on(async {
                    let id = engine
                        .create_request(&dk, &"check".parse().unwrap())
                        .await
                        .unwrap()
                        .case
                        .id;
                    engine
                        .act_on_request(
                            &dk,
                            id,
                            C::SaveDraft {
                                answers: draft.clone(),
                            },
                            None,
                        )
                        .await
                        .unwrap();
                    engine
                        .act_on_request(
                            &dk,
                            id,
                            C::Send {
                                recipient: fr_id,
                                needed_by: "2027-01-31".parse().unwrap(),
                            },
                            None,
                        )
                        .await
                        .unwrap();
                    engine
                        .act_on_request(&fr, id, C::Accept { days: 10 }, None)
                        .await
                        .unwrap();
                    engine
                        .act_on_request(
                            &fr,
                            id,
                            C::Answer {
                                answers: reply.clone(),
                            },
                            None,
                        )
                        .await
                        .unwrap();
                    engine
                        .act_on_request(&dk, id, C::AcceptAnswer { rating: None }, None)
                        .await
                        .unwrap();
                });
            });
        });
        group.finish();
    }
}

criterion_group!(benches, lifecycle);
criterion_main!(benches);
