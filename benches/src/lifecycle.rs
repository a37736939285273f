//! A two-authority request world and one timed request lifecycle, shared by the
//! criterion bench `requests`, the limits run (`imi-limits`) and the crash harness.

use std::sync::Arc;
use std::time::{Duration, Instant};

use imi_core::catalogue::{AnswerValue, Answers, Catalogue, CatalogueSource, Right};
use imi_core::request::RequestCommand as C;
use imi_core::store::Store;
use imi_core::{
    AuthorityId, CaseId, Clock, Country, Engine, EngineError, Language, LocalisedText,
    access::Actor, authority::Competence, authority::NewAuthority, user::Grant, user::GrantScope,
    user::NewUser,
};

const AREA: &str = "id = \"pq\"\n[name]\nen = \"PQ\"\n[[procedure]]\nid = \"check\"\nkind = \"request\"\nquestion_set = \"q\"\n[procedure.name]\nen = \"Check\"\n";
const SET: &str = "id = \"q\"\nversion = 1\n[title]\nen = \"Q\"\n[[group]]\nid = \"g\"\n[group.title]\nen = \"G\"\n[[group.question]]\nid = \"name\"\ntype = \"free-text\"\nrequired = \"to-send\"\npersonal_data = true\n[group.question.label]\nen = \"Name\"\n[[group.question]]\nid = \"ok\"\ntype = \"yes-no\"\nrequired = \"to-send\"\nanswered_by = \"responder\"\n[group.question.label]\nen = \"OK?\"\n";

/// The one-procedure catalogue the world's requests are made under.
pub fn catalogue() -> Result<Catalogue, EngineError> {
    let sources = [
        CatalogueSource::new("areas/pq.toml", AREA),
        CatalogueSource::new("question-sets/q.toml", SET),
    ];
    Catalogue::load(&sources).map_err(internal)
}

/// How many durable transitions [`RequestWorld::lifecycle`] makes.
pub const LIFECYCLE_STEPS: usize = 6;

fn internal(e: impl std::fmt::Display) -> EngineError {
    EngineError::Internal {
        detail: e.to_string(),
    }
}

/// A Danish requester and a French responder, each with a request handler, on one store.
pub struct RequestWorld {
    /// The engine.
    pub engine: Arc<Engine>,
    /// The Danish request handler.
    pub requester: Actor,
    /// The French request handler.
    pub responder: Actor,
    /// The French authority.
    pub responder_id: AuthorityId,
    draft: Answers,
    reply: Answers,
}

impl RequestWorld {
    /// Builds the world on `store` (publishing the catalogue, registering both authorities
    /// and their users).
    pub async fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Result<Self, EngineError> {
        let engine = Engine::new(store, clock);
        Self::on(Arc::new(engine)).await
    }

    /// Builds the world with an existing engine.
    pub async fn on(engine: Arc<Engine>) -> Result<Self, EngineError> {
        let sources = [
            CatalogueSource::new("areas/pq.toml", AREA),
            CatalogueSource::new("question-sets/q.toml", SET),
        ];
        engine.publish_catalogue(&Actor::System, Catalogue::load(&sources).map_err(internal)?)?;
        let procedure = "check".parse().map_err(internal)?;
        let mut actors = Vec::new();
        let mut ids = Vec::new();
        for country in [Country::Denmark, Country::France] {
            let mut n = NewAuthority::new(
                country,
                LocalisedText::new(Language::English, format!("{country} bench"))
                    .map_err(internal)?,
            );
            n.competences = vec![Competence {
                area: "pq".parse().map_err(internal)?,
                keywords: vec![],
            }];
            n.confirmed_not_duplicate = true;
            let a = engine.register_authority(&Actor::System, n).await?;
            engine
                .grant_procedure(&Actor::System, a.id(), &procedure)
                .await?;
            let u = engine
                .create_user(
                    &Actor::System,
                    a.id(),
                    NewUser {
                        name: "B".into(),
                        email: "b@x.eu".parse().map_err(internal)?,
                        language: Language::English,
                    },
                )
                .await?;
            engine
                .set_grants(
                    &Actor::System,
                    u.id(),
                    vec![Grant::new(Right::RequestHandler, GrantScope::Everything)],
                )
                .await?;
            actors.push(engine.actor_for(u.id()).await?);
            ids.push(a.id());
        }
        let mut draft = Answers::new();
        draft.set(
            "name".parse().map_err(internal)?,
            AnswerValue::Text("Marie Dubois".into()),
        );
        let mut reply = Answers::new();
        reply.set("ok".parse().map_err(internal)?, AnswerValue::YesNo(true));
        let responder = actors.pop().ok_or_else(|| internal("no responder"))?;
        let requester = actors.pop().ok_or_else(|| internal("no requester"))?;
        Ok(Self {
            engine,
            requester,
            responder,
            responder_id: ids[1],
            draft,
            reply,
        })
    }

    /// One full request lifecycle, [`LIFECYCLE_STEPS`] durable commands: create, save
    /// the draft, send, accept, answer, accept the answer. Each step's latency is pushed
    /// to `latencies`; `after_step` is called with the case and the step's number (1..=6)
    /// once the step has been acknowledged.
    pub async fn lifecycle(
        &self,
        latencies: &mut Vec<Duration>,
        mut after_step: impl FnMut(CaseId, usize),
    ) -> Result<CaseId, EngineError> {
        let e = &self.engine;
        let (dk, fr) = (&self.requester, &self.responder);
        let started = Instant::now();
        let id = e
            .create_request(dk, &"check".parse().map_err(internal)?)
            .await?
            .case
            .id;
        latencies.push(started.elapsed());
        after_step(id, 1);
        let steps = [
            (
                dk,
                C::SaveDraft {
                    answers: self.draft.clone(),
                },
            ),
            (
                dk,
                C::Send {
                    recipient: self.responder_id,
                    needed_by: "2027-01-31".parse().map_err(internal)?,
                },
            ),
            (fr, C::Accept { days: 10 }),
            (
                fr,
                C::Answer {
                    answers: self.reply.clone(),
                },
            ),
            (dk, C::AcceptAnswer { rating: None }),
        ];
        for (n, (actor, command)) in steps.into_iter().enumerate() {
            let started = Instant::now();
            e.act_on_request(actor, id, command, None).await?;
            latencies.push(started.elapsed());
            after_step(id, n + 2);
        }
        Ok(id)
    }
}
