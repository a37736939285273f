//! Surveys through the engine: the pure machine is [`crate::survey`]; here the survey
//! document with its boxes and due index, the recipients found through the directory,
//! each authority's answer as a document of its own, reminders and closing by `tick`,
//! results per question and country (and as CSV), and retention. Reading under the
//! policy, `If-Match`, the timeline and the audit of the author's commands are the
//! generic case handling of `flow.rs`.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Engine;
use super::cases::{CaseDoc, case_doc, record_event, write_case_doc};
use super::flow::{CaseFlow, Who};
use super::requests::{CaseRules, RetentionStep, blocking_date, rules_of};
use crate::access::{Actor, Denial};
use crate::authority::CoordinatorRole;
use crate::case::ActorRef;
use crate::catalogue::{
    AnswerValue, Answers, AreaId, ProcedureId, QuestionSet, QuestionSetVersion, Right,
    ValidationLevel, Workflow,
};
use crate::country::Participant;
use crate::error::EngineError;
use crate::ids::{AuthorityId, CaseId, CaseReference, UserId};
use crate::keys;
use crate::page::{Page, PageRequest};
use crate::record::{Txn, decode};
use crate::store::{Scan, StoreExt, Version};
use crate::survey::{
    Survey, SurveyCommand, SurveyContext, SurveyEvent, SurveyRoles, SurveyStage, SurveyState,
};
use crate::workflow::TransitionError;
use crate::{DirectoryQuery, LanguagePreferences};

/// The workflow's name in keys and messages.
pub(super) const KIND: &str = "survey";

/// A survey as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SurveyCase {
    /// Its id.
    pub id: CaseId,
    /// Its reference number.
    pub reference: CaseReference,
    /// The survey procedure (its question set holds the questions, in every language).
    pub procedure: ProcedureId,
    /// Its area.
    pub area: AreaId,
    /// The question-set version it pinned.
    pub question_set: QuestionSetVersion,
    /// The authoring authority (the Commission, or a national coordinator).
    pub author: AuthorityId,
    /// Its country, or the Commission.
    pub author_country: Participant,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// How many timeline entries it has.
    pub events: u64,
    /// The workflow state, targeting and recipients.
    pub survey: Survey,
}

/// One step of a survey's timeline.
pub type SurveyTimelineEntry = crate::case::TimelineEntry<SurveyEvent>;

/// One authority's answer to a survey: one per authority, editable until the deadline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SurveyResponse {
    /// The survey.
    pub survey: CaseId,
    /// The answering authority.
    pub authority: AuthorityId,
    /// Its country.
    pub country: Participant,
    /// The answers.
    pub answers: Answers,
    /// Who last saved them (removed by retention).
    pub answered_by: Option<UserId>,
    /// How many times they were saved.
    pub revision: u32,
    /// When they were last saved.
    pub updated_at: DateTime<Utc>,
}

/// Which surveys to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SurveyBox {
    /// Those the actor's authority authored (drafts included).
    Authored,
    /// Those sent to the actor's authority.
    Received,
}

/// Answers and recipients of one country.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountryTurnout {
    /// The country, or `EC`.
    pub country: String,
    /// Authorities the survey was sent to.
    pub recipients: u64,
    /// Of those, how many answered.
    pub responses: u64,
}

/// How many authorities of a country gave one value to one question. Free texts count as
/// `(answered)`; questions the catalogue marks as personal data are left out.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ResultRow {
    /// The country, or `EC`.
    pub country: String,
    /// The question.
    pub question: String,
    /// The value: `yes`/`no`, an option id, a number, a date, or `(answered)`.
    pub value: String,
    /// How many authorities.
    pub count: u64,
}

/// A survey's results, aggregated per question and country. No personal data: neither
/// who answered nor free texts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyResults {
    /// The survey.
    pub survey: CaseId,
    /// Where it stands.
    pub stage: SurveyStage,
    /// Recipients and answers per country.
    pub turnout: Vec<CountryTurnout>,
    /// Counts per country, question and value.
    pub rows: Vec<ResultRow>,
}

impl SurveyResults {
    /// The rows as CSV (`country,question,value,count`), quoted where needed.
    pub fn to_csv(&self) -> String {
        let field = |s: &str| {
            if s.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_owned()
            }
        };
        let mut out = String::from("country,question,value,count\n");
        for r in &self.rows {
            out.push_str(&format!(
                "{},{},{},{}\n",
                field(&r.country),
                field(&r.question),
                field(&r.value),
                r.count
            ));
        }
        out
    }
}

fn doc_key(id: CaseId) -> Vec<u8> {
    keys::flow_case(KIND, id)
}

fn event_key(id: CaseId, seq: Option<u64>) -> Vec<u8> {
    keys::flow_event(KIND, id, seq)
}

fn response_key(survey: CaseId, authority: Option<AuthorityId>) -> Vec<u8> {
    let k = keys::flow_index(KIND, "response").id(survey.as_bytes());
    match authority {
        Some(a) => k.id(a.as_bytes()).into_bytes(),
        None => k.into_bytes(),
    }
}

fn box_prefix(which: SurveyBox, authority: AuthorityId) -> Vec<u8> {
    let name = match which {
        SurveyBox::Authored => "authored",
        SurveyBox::Received => "received",
    };
    keys::flow_index(KIND, name)
        .id(authority.as_bytes())
        .into_bytes()
}

fn index_keys(case: &SurveyCase, rules: CaseRules) -> BTreeSet<Vec<u8>> {
    let s = &case.survey;
    let state = s.state();
    let mut out = BTreeSet::new();
    let mut authored = box_prefix(SurveyBox::Authored, case.author);
    authored.push(state.stage().code());
    authored.extend_from_slice(case.id.as_bytes());
    out.insert(authored);
    for r in s.recipients() {
        let mut received = box_prefix(SurveyBox::Received, *r);
        received.extend_from_slice(case.id.as_bytes());
        out.insert(received);
    }
    if let Some(day) = s.due() {
        out.insert(
            keys::flow_index(KIND, "due")
                .date(day)
                .id(case.id.as_bytes())
                .into_bytes(),
        );
    }
    // Retention: who answered is deleted once the blocking period after closing ends.
    if let (Some(ended), false) = (state.ended_at(), s.is_erased()) {
        out.insert(keys::flow_retention(
            blocking_date(ended, rules),
            case.id,
            RetentionStep::DeleteFlow as u8,
            KIND,
        ));
    }
    out
}

case_doc!(SurveyCase, "survey", survey, SurveyEvent, doc: doc_key, events: event_key,
    index: index_keys);

/// **Surveys of competent authorities**: sending, answering, results.
impl Engine {
    /// The survey procedure's area and reminder setting.
    fn survey_procedure(&self, procedure: &ProcedureId) -> Result<(AreaId, u16), EngineError> {
        match self
            .catalogue()
            .procedure(procedure)
            .map(|p| (&p.area, &p.workflow))
        {
            Some((area, Workflow::Survey { remind_days_before })) => {
                Ok((area.clone(), *remind_days_before))
            }
            _ => Err(EngineError::NotFound {
                kind: ProcedureId::KIND,
                id: procedure.to_string(),
            }),
        }
    }

    /// Whether `actor` speaks for `authority` in surveys: one of its administrators.
    fn survey_administrator(actor: &Actor, authority: AuthorityId) -> bool {
        matches!(actor, Actor::User(p) if p.authority() == authority && p.has_right(Right::Administrator))
    }

    /// Reads a survey `actor` may see: its author's administrators, and every user of an
    /// authority it was sent to (the questions and the deadline hold no personal data);
    /// the operator sees every one.
    async fn load_survey(
        &self,
        actor: &Actor,
        id: CaseId,
    ) -> Result<(SurveyCase, Version), EngineError> {
        let key = doc_key(id);
        let v = self
            .store
            .get(&key)
            .await?
            .ok_or_else(|| survey_not_found(id))?;
        Ok((
            Self::survey_seen(actor, decode(&key, &v.value)?)?,
            v.version,
        ))
    }

    /// A survey for its author's administrators (and the operator) only; anyone else,
    /// recipients too, gets `NotFound`.
    async fn load_survey_as_author(
        &self,
        actor: &Actor,
        id: CaseId,
    ) -> Result<SurveyCase, EngineError> {
        let (case, _) = self.load_survey(actor, id).await?;
        if matches!(actor, Actor::System) || Self::survey_administrator(actor, case.author) {
            Ok(case)
        } else {
            Err(survey_not_found(id))
        }
    }

    /// `case` if `actor` may see it, else `NotFound`.
    fn survey_seen(actor: &Actor, case: SurveyCase) -> Result<SurveyCase, EngineError> {
        let visible = match actor {
            Actor::System => true,
            Actor::User(p) => {
                Self::survey_administrator(actor, case.author)
                    || case.survey.recipients().contains(&p.authority())
            }
            Actor::Public => false,
        };
        if visible {
            Ok(case)
        } else {
            Err(survey_not_found(case.id))
        }
    }

    /// Starts a draft survey of a survey procedure: administrators of the Commission
    /// (any country) or of a national coordinator (its own country).
    pub async fn create_survey(
        &self,
        actor: &Actor,
        procedure: &ProcedureId,
    ) -> Result<SurveyCase, EngineError> {
        let p = Self::principal(actor)?;
        let (area, _) = self.survey_procedure(procedure)?;
        let may = p.has_right(Right::Administrator)
            && (p.participant() == Participant::Commission
                || matches!(p.coordinator(), Some(CoordinatorRole::National)));
        if !may {
            return Err(EngineError::Denied(Denial {
                actor: actor.to_string(),
                action: "create a survey",
                reason: "surveys are made by administrators of the Commission or of a national coordinator",
            }));
        }
        let pinned = self.pin_question_set(procedure)?;
        self.create_case(|id, reference, now| SurveyCase {
            id,
            reference,
            procedure: procedure.clone(),
            area: area.clone(),
            question_set: pinned.clone(),
            author: p.authority(),
            author_country: p.participant(),
            created_at: now,
            updated_at: now,
            events: 0,
            survey: Survey::new(),
        })
        .await
    }

    /// Reads a survey (its author's administrators, the users of authorities it was sent
    /// to); anyone else gets `NotFound`.
    pub async fn survey(
        &self,
        actor: &Actor,
        id: CaseId,
    ) -> Result<(SurveyCase, Version), EngineError> {
        self.load_survey(actor, id).await
    }

    /// A survey's timeline, for its author's administrators.
    pub async fn survey_timeline(
        &self,
        actor: &Actor,
        id: CaseId,
    ) -> Result<Vec<SurveyTimelineEntry>, EngineError> {
        self.load_survey_as_author(actor, id).await?;
        self.read_timeline(&event_key(id, None)).await
    }

    /// The author acts on a survey: send, extend the deadline, close.
    pub async fn act_on_survey(
        &self,
        actor: &Actor,
        id: CaseId,
        command: SurveyCommand,
        if_match: Option<Version>,
    ) -> Result<(SurveyCase, Version), EngineError> {
        Self::principal(actor)?;
        let (case, version, _) = self
            .act_on_case::<SurveyCase>(Who::Actor(actor), id, command, if_match)
            .await?;
        Ok((case, version))
    }

    /// One page of the surveys the actor's authority authored or received, in creation
    /// order (authored: within a stage).
    pub async fn surveys(
        &self,
        actor: &Actor,
        which: SurveyBox,
        page: PageRequest,
    ) -> Result<Page<SurveyCase>, EngineError> {
        let p = Self::principal(actor)?;
        self.box_page_docs(
            box_prefix(which, p.authority()),
            page,
            doc_key,
            |_, key, v| Self::survey_seen(actor, decode(key, &v.value)?),
        )
        .await
    }

    /// The actor's authority answers a survey sent to it (its administrators), or
    /// replaces its earlier answer, until the deadline. The answers are checked against
    /// the survey's questions as for sending; with `if_match`, a stale answer is refused.
    pub async fn answer_survey(
        &self,
        actor: &Actor,
        id: CaseId,
        answers: Answers,
        if_match: Option<Version>,
    ) -> Result<(SurveyResponse, Version), EngineError> {
        let p = Self::principal(actor)?;
        let refuse = |reason| {
            EngineError::Transition(TransitionError::Invalid {
                command: "answer",
                reason,
            })
        };
        // The survey is read in the answer's transaction, so that closing it (by its
        // author or by `tick`) meanwhile makes this commit conflict: no answer lands
        // after a survey closed, where retention would no longer reach it.
        let mut txn = Txn::new(&*self.store);
        let (case, _) = txn
            .get::<SurveyCase>(&doc_key(id))
            .await?
            .ok_or_else(|| survey_not_found(id))?;
        let case = Self::survey_seen(actor, case)?;
        if !case.survey.recipients().contains(&p.authority()) {
            return Err(refuse("the survey was not sent to this authority"));
        }
        if !p.has_right(Right::Administrator) {
            return Err(EngineError::Denied(Denial {
                actor: actor.to_string(),
                action: "answer a survey",
                reason: "an authority's administrators answer surveys for it",
            }));
        }
        let now = self.now();
        if !case.survey.takes_answers(now.date_naive()) {
            return Err(refuse(
                "the survey takes no answers now (closed, or past its deadline)",
            ));
        }
        let set = self.pinned_set(&case.question_set)?;
        set.validate(&answers, ValidationLevel::Send)
            .map_err(|e| EngineError::Transition(TransitionError::Answers(e)))?;
        let key = response_key(id, Some(p.authority()));
        let old = txn.get::<SurveyResponse>(&key).await?;
        if let Some(expected) = if_match
            && Some(expected) != old.as_ref().map(|(_, v)| *v)
        {
            return Err(EngineError::VersionMismatch {
                expected,
                current: old.as_ref().map_or(Version::from_raw(0), |(_, v)| *v),
            });
        }
        let response = SurveyResponse {
            survey: id,
            authority: p.authority(),
            country: p.participant(),
            answers,
            answered_by: Some(p.user()),
            revision: old.map_or(1, |(r, _)| r.revision.saturating_add(1)),
            updated_at: now,
        };
        txn.put(key, &response)?;
        self.audit(
            &mut txn,
            actor,
            crate::audit::AuditAction::ChangeCase {
                case: id,
                command: "answer".into(),
            },
            crate::audit::Purpose::HandleCase,
        )?;
        let version = txn.commit().await?;
        Ok((response, version))
    }

    /// The actor's authority's answer to a survey, if it gave one.
    pub async fn survey_response(
        &self,
        actor: &Actor,
        id: CaseId,
    ) -> Result<Option<(SurveyResponse, Version)>, EngineError> {
        let p = Self::principal(actor)?;
        self.load_survey(actor, id).await?;
        let key = response_key(id, Some(p.authority()));
        match self.store.get(&key).await? {
            Some(v) => Ok(Some((decode(&key, &v.value)?, v.version))),
            None => Ok(None),
        }
    }

    /// Every answer to a survey, read page by page.
    async fn survey_responses(&self, id: CaseId) -> Result<Vec<SurveyResponse>, EngineError> {
        self.store
            .pages(Scan::prefix(&response_key(id, None), 1_000))
            .all()
            .await?
            .iter()
            .map(|e| decode(&e.key, &e.value))
            .collect()
    }

    /// A survey's results per question and country (its author's administrators and the
    /// operator): counts of each value, never who answered, never free text, nothing of
    /// questions marked as personal data.
    pub async fn survey_results(
        &self,
        actor: &Actor,
        id: CaseId,
    ) -> Result<SurveyResults, EngineError> {
        let case = self.load_survey_as_author(actor, id).await?;
        let set = self.pinned_set(&case.question_set)?;
        let responses = self.survey_responses(id).await?;
        let mut turnout: BTreeMap<String, CountryTurnout> = BTreeMap::new();
        let recipients: Vec<AuthorityId> = case.survey.recipients().iter().copied().collect();
        let docs = self
            .store
            .get_many(
                &recipients
                    .iter()
                    .map(|a| keys::authority(*a))
                    .collect::<Vec<_>>(),
            )
            .await?;
        for (a, doc) in recipients.iter().zip(docs) {
            let country = match doc {
                Some(v) => decode::<crate::authority::Authority>(&keys::authority(*a), &v.value)?
                    .participant()
                    .to_string(),
                None => continue,
            };
            turnout
                .entry(country.clone())
                .or_insert_with(|| CountryTurnout {
                    country,
                    ..CountryTurnout::default()
                })
                .recipients += 1;
        }
        let mut counts: BTreeMap<(String, String, String), u64> = BTreeMap::new();
        for r in &responses {
            let country = r.country.to_string();
            turnout
                .entry(country.clone())
                .or_insert_with(|| CountryTurnout {
                    country: country.clone(),
                    ..CountryTurnout::default()
                })
                .responses += 1;
            for (q, value) in r.answers.iter() {
                let Some(question) = set.question(q) else {
                    continue;
                };
                if question.personal_data || question.special_category.is_some() {
                    continue;
                }
                let values: Vec<String> = match value {
                    AnswerValue::YesNo(b) => vec![if *b { "yes" } else { "no" }.into()],
                    AnswerValue::Choice(o) => vec![o.to_string()],
                    AnswerValue::Choices(os) => os.iter().map(|o| o.to_string()).collect(),
                    AnswerValue::Number(n) => vec![n.to_string()],
                    AnswerValue::Date(d) => vec![d.to_string()],
                    AnswerValue::Text(_) | AnswerValue::Attachments(_) => {
                        vec!["(answered)".into()]
                    }
                };
                for v in values {
                    *counts
                        .entry((country.clone(), q.to_string(), v))
                        .or_default() += 1;
                }
            }
        }
        Ok(SurveyResults {
            survey: id,
            stage: case.survey.state().stage(),
            turnout: turnout.into_values().collect(),
            rows: counts
                .into_iter()
                .map(|((country, question, value), count)| ResultRow {
                    country,
                    question,
                    value,
                    count,
                })
                .collect(),
        })
    }

    /// The authorities `targeting` finds through the directory: active, of its countries
    /// (every participant when none), competent in one of its areas or with access to one
    /// of its procedures (every authority of the countries when neither is given).
    async fn survey_recipients(
        &self,
        targeting: &crate::survey::Targeting,
    ) -> Result<BTreeSet<AuthorityId>, EngineError> {
        let countries: Vec<Option<Participant>> = if targeting.countries.is_empty() {
            vec![None]
        } else {
            targeting.countries.iter().copied().map(Some).collect()
        };
        let mut filters: Vec<(Option<AreaId>, Option<ProcedureId>)> = targeting
            .areas
            .iter()
            .map(|a| (Some(a.clone()), None))
            .chain(targeting.procedures.iter().map(|p| (None, Some(p.clone()))))
            .collect();
        if filters.is_empty() {
            filters.push((None, None));
        }
        let reader = LanguagePreferences::default();
        let mut out = BTreeSet::new();
        for participant in &countries {
            for (area, procedure) in &filters {
                let query = DirectoryQuery {
                    participant: *participant,
                    area: area.clone(),
                    procedure: procedure.clone(),
                    ..DirectoryQuery::default()
                };
                let mut page = PageRequest::first(500).map_err(EngineError::Page)?;
                loop {
                    let found = self
                        .search_directory(&Actor::System, &query, &reader, page)
                        .await?;
                    out.extend(
                        found
                            .items
                            .iter()
                            .filter(|h| h.authority.is_active())
                            .map(|h| h.authority.id()),
                    );
                    match found.next {
                        Some(next) => {
                            page = PageRequest::first(500)
                                .map_err(EngineError::Page)?
                                .after(next);
                        }
                        None => break,
                    }
                }
            }
        }
        Ok(out)
    }

    /// A survey's deadline came (`tick`, through its `due` index `entry`): the
    /// authorities it was sent to that have not answered are reminded, and after the
    /// deadline it closes. One commit, which also removes a stale entry.
    pub(super) async fn survey_due(
        &self,
        id: CaseId,
        entry: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), EngineError> {
        let mut txn = Txn::new(&*self.store);
        let Some((old, _)) = txn.get::<SurveyCase>(&doc_key(id)).await? else {
            txn.delete(entry.to_vec());
            txn.commit().await?;
            return Ok(());
        };
        let rules = rules_of(&self.catalogue(), &old.procedure);
        let today = now.date_naive();
        let event = match old.survey.state() {
            SurveyState::Open { deadline, .. } if today > *deadline => SurveyEvent::Closed,
            SurveyState::Open {
                remind_on,
                reminded: false,
                ..
            } if today >= *remind_on => {
                let answered: BTreeSet<AuthorityId> = self
                    .survey_responses(id)
                    .await?
                    .iter()
                    .map(|r| r.authority)
                    .collect();
                let waiting: Vec<AuthorityId> = old
                    .survey
                    .recipients()
                    .difference(&answered)
                    .copied()
                    .collect();
                self.announce(
                    &mut txn,
                    crate::outbox::Topic::CaseWaiting,
                    survey_subject(&old),
                    Some(&old.procedure),
                    waiting.iter().map(|a| crate::outbox::Audience {
                        authority: *a,
                        right: Right::Administrator,
                    }),
                )?;
                SurveyEvent::Reminded {
                    authorities: waiting.len() as u64,
                }
            }
            _ => {
                // Nothing due: an entry the document no longer has goes.
                if !old.index_keys(rules).contains(entry) {
                    txn.delete(entry.to_vec());
                    txn.commit().await?;
                }
                return Ok(());
            }
        };
        let mut new = old.clone();
        record_event(&mut txn, &mut new, &event, ActorRef::System, now)?;
        write_case_doc(&mut txn, rules, &new, Some(&old))?;
        txn.commit().await?;
        Ok(())
    }

    /// Retention of a closed survey: who answered for each authority, and the answers
    /// to free-text questions, are deleted; the counts stay. One commit.
    pub(super) async fn survey_retention(
        &self,
        txn: &mut Txn<'_>,
        id: CaseId,
        now: DateTime<Utc>,
    ) -> Result<bool, EngineError> {
        let Some((old, _)) = txn.get::<SurveyCase>(&doc_key(id)).await? else {
            return Ok(false);
        };
        let rules = rules_of(&self.catalogue(), &old.procedure);
        let due = old
            .survey
            .state()
            .ended_at()
            .is_some_and(|ended| blocking_date(ended, rules) <= now.date_naive());
        if old.survey.is_erased() || !due {
            for k in old.index_keys(rules) {
                txn.put_index(k);
            }
            return Ok(false);
        }
        let set = self.pinned_set(&old.question_set)?;
        for mut r in self.survey_responses(id).await? {
            r.answered_by = None;
            let mut kept = Answers::new();
            for (q, v) in r.answers.iter() {
                let keep = set.question(q).is_some_and(|q| {
                    !q.personal_data
                        && q.special_category.is_none()
                        && !matches!(v, AnswerValue::Text(_))
                });
                if keep {
                    kept.set(q.clone(), v.clone());
                }
            }
            r.answers = kept;
            txn.put(response_key(id, Some(r.authority)), &r)?;
        }
        let mut new = old.clone();
        record_event(
            txn,
            &mut new,
            &SurveyEvent::PersonalDataDeleted,
            ActorRef::System,
            now,
        )?;
        write_case_doc(txn, rules, &new, Some(&old))?;
        Ok(true)
    }
}

fn survey_not_found(id: CaseId) -> EngineError {
    EngineError::NotFound {
        kind: KIND,
        id: id.to_string(),
    }
}

fn survey_subject(case: &SurveyCase) -> crate::outbox::Subject {
    crate::outbox::Subject::Case {
        workflow: crate::catalogue::WorkflowKind::Survey,
        case: case.id,
        reference: case.reference,
    }
}

impl CaseFlow for SurveyCase {
    type Machine = Survey;
    /// Days before the deadline to remind.
    type Prepared = u16;

    fn machine(&self) -> &Survey {
        &self.survey
    }

    async fn roles(
        _: &Engine,
        who: Who<'_>,
        case: &Self,
    ) -> Result<Option<SurveyRoles>, EngineError> {
        let Who::Actor(actor) = who else {
            return Ok(None);
        };
        Ok(
            Engine::survey_administrator(actor, case.author)
                .then_some(SurveyRoles { author: true }),
        )
    }

    async fn prepare(engine: &Engine, case: &Self) -> Result<u16, EngineError> {
        Ok(engine.survey_procedure(&case.procedure)?.1)
    }

    fn context<'a>(
        case: &'a Self,
        &remind_days_before: &'a u16,
        _: &'a QuestionSet,
        now: DateTime<Utc>,
    ) -> SurveyContext {
        SurveyContext {
            now,
            national: (case.author_country != Participant::Commission)
                .then_some(case.author_country),
            remind_days_before,
        }
    }

    /// The recipients come from the directory; a survey nobody would receive is
    /// refused.
    async fn check(
        engine: &Engine,
        case: &Self,
        events: &mut Vec<SurveyEvent>,
    ) -> Result<(), EngineError> {
        for e in events.iter_mut() {
            if let SurveyEvent::Sent {
                targeting,
                recipients,
                ..
            } = e
            {
                *recipients = engine.survey_recipients(targeting).await?;
                recipients.remove(&case.author);
                if recipients.is_empty() {
                    return Err(EngineError::Transition(TransitionError::Invalid {
                        command: "send",
                        reason: "no active authority matches the targeting",
                    }));
                }
            }
        }
        Ok(())
    }

    /// The recipients' administrators are told.
    async fn effects(
        engine: &Engine,
        txn: &mut Txn<'_>,
        _: Who<'_>,
        old: &Self,
        _: &mut Self,
        events: &[SurveyEvent],
        _: &QuestionSet,
        _: DateTime<Utc>,
    ) -> Result<(), EngineError> {
        for e in events {
            if let SurveyEvent::Sent { recipients, .. } = e {
                engine.announce(
                    txn,
                    crate::outbox::Topic::CaseReceived,
                    survey_subject(old),
                    Some(&old.procedure),
                    recipients.iter().map(|a| crate::outbox::Audience {
                        authority: *a,
                        right: Right::Administrator,
                    }),
                )?;
            }
        }
        Ok(())
    }
}
