//! The public interface through the engine: the pure machine is [`crate::submission`].
//!
//! A submitter has no account. [`Engine::submit`] checks that the procedure takes public
//! submissions and that the authority is competent for it, and returns the reference
//! and the secret, once. Only the secret's SHA-256 hash is stored, as a key that leads
//! to the submission: every later public operation looks the submission up by the hash
//! of the secret it is given, so the secret is the only way in, and references (which
//! count up) open nothing. A wrong secret and an unknown one get the same answer.
//!
//! The authority's side reads and acts like on any case: its request handlers for the
//! procedure see the submissions made to their authority, nobody else does.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Engine;
use super::cases::{case_doc, record_event, write_case_doc};
use super::flow::{CaseFlow, Who};
use super::requests::{CaseRules, RetentionStep, retention_keys, rules_of};
use crate::access::{Actor, Denial};
use crate::audit::{AuditAction, Purpose};
use crate::case::ActorRef;
use crate::catalogue::{
    AnswerValue, Answers, AreaId, ProcedureId, QuestionId, QuestionSet, QuestionSetVersion, Right,
    Workflow,
};
use crate::error::EngineError;
use crate::ids::{AuthorityId, CaseId, CaseReference};
use crate::keys;
use crate::language::Language;
use crate::page::{Page, PageRequest};
use crate::record::{Txn, decode};
use crate::store::Version;
use crate::submission::{
    PublicEvent, Submission, SubmissionCommand, SubmissionEvent, SubmissionParty, SubmissionSecret,
    SubmissionStage, submission_event_without_personal_data,
};
use crate::workflow::TransitionError;

/// A public submission as stored, and as the receiving authority sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubmissionCase {
    /// Its id.
    pub id: CaseId,
    /// Its reference number (shared numbering with the other cases), to quote on the
    /// phone. It opens nothing: the secret does.
    pub reference: CaseReference,
    /// The procedure.
    pub procedure: ProcedureId,
    /// The procedure's area.
    pub area: AreaId,
    /// The question-set version it pinned.
    pub question_set: QuestionSetVersion,
    /// The authority it was made to.
    pub authority: AuthorityId,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// How many timeline entries it has.
    pub events: u64,
    /// The workflow state and answers.
    pub submission: Submission,
}

/// One step of a submission's timeline.
pub type SubmissionTimelineEntry = crate::case::TimelineEntry<SubmissionEvent>;

/// What a citizen or business submits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewSubmission {
    /// A request procedure that takes public submissions.
    pub procedure: ProcedureId,
    /// The competent authority (found in the public directory).
    pub authority: AuthorityId,
    /// The language the submitter follows the submission in.
    pub language: Language,
    /// Their answers to the procedure's requester-side questions.
    pub answers: Answers,
}

/// What the submitter gets back, once: keep the secret, it is the only way back in.
#[derive(Debug, Clone)]
pub struct SubmissionReceipt {
    /// The reference number, to quote to the authority.
    pub reference: CaseReference,
    /// The secret that opens the submission. Not stored; cannot be shown again.
    pub secret: SubmissionSecret,
    /// The submission as the submitter sees it.
    pub status: SubmissionStatus,
}

/// One answer with its question's label in the submitter's language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelledAnswer {
    /// The question.
    pub question: QuestionId,
    /// Its label.
    pub label: String,
    /// The label's language (the source language where the label has no translation).
    pub language: Language,
    /// The answer.
    pub value: AnswerValue,
}

/// Who wrote a message of the exchange, as the submitter sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MessageFrom {
    /// The authority (no name of its staff is shown).
    Authority,
    /// The submitter.
    You,
}

/// What a message of the exchange is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MessageKind {
    /// The authority's question.
    Question,
    /// The submitter's reply.
    Reply,
    /// Why the authority closed it without an answer.
    ClosingReason,
}

/// One message between the authority and the submitter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmissionMessage {
    /// Its timeline entry.
    pub seq: u64,
    /// When.
    pub at: DateTime<Utc>,
    /// From whom.
    pub from: MessageFrom,
    /// What kind.
    pub kind: MessageKind,
    /// The text, as written.
    pub text: String,
}

/// A submission as its submitter sees it, in their language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubmissionStatus {
    /// The reference number.
    pub reference: CaseReference,
    /// The procedure.
    pub procedure: ProcedureId,
    /// The procedure's name.
    pub procedure_name: String,
    /// The authority it was made to.
    pub authority: AuthorityId,
    /// The authority's name.
    pub authority_name: String,
    /// The stage.
    pub stage: SubmissionStage,
    /// The stage, in words.
    pub stage_label: String,
    /// The language asked for.
    pub language: Language,
    /// The language of the stage label (English where we have no translation).
    pub label_language: Language,
    /// When it was made.
    pub submitted_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// Whether the submitter must act (reply to a question).
    pub your_turn: bool,
    /// The submitter's answers.
    pub answers: Vec<LabelledAnswer>,
    /// The authority's answer, once given.
    pub reply: Vec<LabelledAnswer>,
    /// The exchange of questions and replies, oldest first.
    pub messages: Vec<SubmissionMessage>,
    /// Whether its personal data are blocked or deleted under the retention rules.
    pub personal_data_removed: bool,
}

/// Everything stored about the submitter in their submission, as they may ask for it
/// (Art. 15 GDPR): the status and the whole timeline, staff names removed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubmissionExport {
    /// The submission.
    pub status: SubmissionStatus,
    /// Every event, oldest first.
    pub timeline: Vec<PublicTimelineEntry>,
    /// When the export was made.
    pub exported_at: DateTime<Utc>,
}

/// Who did something, as the submitter sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PublicActor {
    /// The authority (no name of its staff is shown).
    Authority,
    /// The submitter.
    You,
    /// The system (retention).
    System,
}

/// A timeline entry as the submitter sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicTimelineEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub by: PublicActor,
    /// What happened.
    pub event: PublicEvent,
}

fn stage_code(stage: SubmissionStage) -> u8 {
    match stage {
        SubmissionStage::Received => 0,
        SubmissionStage::InHandling => 1,
        SubmissionStage::AwaitingSubmitter => 2,
        SubmissionStage::Answered => 3,
        SubmissionStage::Closed => 4,
        SubmissionStage::Withdrawn => 5,
    }
}

fn index_keys(case: &SubmissionCase, rules: CaseRules) -> BTreeSet<Vec<u8>> {
    let stage = case.submission.state().stage();
    let mut out = BTreeSet::new();
    out.insert(keys::submission_by_authority(
        case.authority,
        Some(stage_code(stage)),
        Some(case.id),
    ));
    out.extend(retention_keys(
        case.id,
        case.submission.state().ended_at(),
        case.submission.is_blocked(),
        case.submission.is_erased(),
        rules,
        (
            RetentionStep::BlockSubmission,
            RetentionStep::DeleteSubmission,
        ),
    ));
    out
}

/// The answer to every public operation whose secret opens nothing: the same whether the
/// secret is unknown or belongs to nothing any more, so it tells an attacker nothing.
fn no_such_secret() -> EngineError {
    EngineError::NotFound {
        kind: "submission",
        id: "(for the given secret)".to_owned(),
    }
}

fn labelled(answers: &Answers, set: &QuestionSet, language: Language) -> Vec<LabelledAnswer> {
    answers
        .iter()
        .map(|(q, v)| {
            let (label, lang) = match set.question(q) {
                Some(question) => {
                    let r = question.label.resolve(language);
                    (r.text.to_owned(), r.language)
                }
                None => (q.to_string(), language),
            };
            LabelledAnswer {
                question: q.clone(),
                label,
                language: lang,
                value: v.clone(),
            }
        })
        .collect()
}

/// **The public interface**: submissions without an account, and the authority's side of them.
impl Engine {
    /// The area of `procedure` if it is a request procedure that takes public
    /// submissions.
    fn public_procedure(&self, procedure: &ProcedureId) -> Result<AreaId, EngineError> {
        match self
            .catalogue()
            .procedure(procedure)
            .map(|p| (&p.area, &p.workflow))
        {
            Some((
                area,
                Workflow::Request {
                    public_submission: true,
                    ..
                },
            )) => Ok(area.clone()),
            _ => Err(EngineError::NotFound {
                kind: "procedure open to public submissions",
                id: procedure.to_string(),
            }),
        }
    }

    /// The submission `secret` opens, with its version; [`no_such_secret`] otherwise.
    async fn open_submission(
        &self,
        secret: &SubmissionSecret,
    ) -> Result<(SubmissionCase, Version), EngineError> {
        let Some(id) = self
            .store
            .get(&keys::submission_secret(&secret.hash()))
            .await?
        else {
            return Err(no_such_secret());
        };
        let id = <[u8; 16]>::try_from(id.value.as_slice())
            .ok()
            .and_then(|b| CaseId::from_uuid(uuid::Uuid::from_bytes(b)).ok())
            .ok_or_else(|| super::corrupt_index(&keys::submission_secret(&secret.hash())))?;
        let key = keys::submission(id);
        let v = self.store.get(&key).await?.ok_or_else(no_such_secret)?;
        Ok((decode(&key, &v.value)?, v.version))
    }

    /// The submission as its submitter sees it, in `language` (their own language
    /// unless another is asked for). Blocked data are not shown.
    async fn public_status(
        &self,
        case: &SubmissionCase,
        language: Option<Language>,
    ) -> Result<(SubmissionStatus, Vec<SubmissionTimelineEntry>), EngineError> {
        let language = language.unwrap_or(case.submission.language());
        let set = self.pinned_set(&case.question_set)?;
        let removed = case.submission.is_blocked();
        let mut timeline: Vec<SubmissionTimelineEntry> = self
            .read_timeline(&keys::submission_event(case.id, None))
            .await?;
        let submission = if removed {
            for e in &mut timeline {
                e.event = submission_event_without_personal_data(&e.event, &set, "(removed)");
            }
            case.submission
                .redacted(|a| crate::alert::without_personal_data(a, &set))
        } else {
            case.submission.clone()
        };
        let catalogue = self.catalogue();
        let procedure_name = catalogue
            .procedure(&case.procedure)
            .map(|p| p.name.resolve(language).text.to_owned())
            .unwrap_or_else(|| case.procedure.to_string());
        let authority_name = match self.authority_doc(case.authority).await {
            Ok(a) => a.name().resolve(language).text.to_owned(),
            Err(EngineError::NotFound { .. }) => String::new(),
            Err(e) => return Err(e),
        };
        let messages = timeline
            .iter()
            .filter_map(|e| {
                let (from, kind, text) = match &e.event {
                    SubmissionEvent::QuestionAsked { text } => {
                        (MessageFrom::Authority, MessageKind::Question, text)
                    }
                    SubmissionEvent::Replied { text } => {
                        (MessageFrom::You, MessageKind::Reply, text)
                    }
                    SubmissionEvent::Closed { reason } => {
                        (MessageFrom::Authority, MessageKind::ClosingReason, reason)
                    }
                    _ => return None,
                };
                Some(SubmissionMessage {
                    seq: e.seq,
                    at: e.at,
                    from,
                    kind,
                    text: text.clone(),
                })
            })
            .collect();
        let stage = submission.state().stage();
        let (label, label_language) = stage.label(language);
        Ok((
            SubmissionStatus {
                reference: case.reference,
                procedure: case.procedure.clone(),
                procedure_name,
                authority: case.authority,
                authority_name,
                stage,
                stage_label: label.to_owned(),
                language,
                label_language,
                submitted_at: case.created_at,
                updated_at: case.updated_at,
                your_turn: stage == SubmissionStage::AwaitingSubmitter,
                answers: labelled(submission.answers(), &set, language),
                reply: labelled(submission.reply(), &set, language),
                messages,
                personal_data_removed: removed,
            },
            timeline,
        ))
    }

    /// A citizen or business submits a case to a competent authority, without an
    /// account. The procedure must take public submissions; the authority must be active
    /// and have access to it; the answers must be complete. Returns the reference and the
    /// secret, once; the store keeps only the secret's hash.
    pub async fn submit(&self, new: NewSubmission) -> Result<SubmissionReceipt, EngineError> {
        let area = self.public_procedure(&new.procedure)?;
        let target = self.authority_doc(new.authority).await?;
        if !target.is_active() || !target.procedures().contains(&new.procedure) {
            return Err(EngineError::Transition(TransitionError::Invalid {
                command: "submit",
                reason: "this authority does not take submissions of this procedure",
            }));
        }
        let pinned = self.pin_question_set(&new.procedure)?;
        let set = self
            .catalogue()
            .question_set(&pinned.id, pinned.version)
            .cloned()
            .ok_or_else(|| EngineError::NotFound {
                kind: "question set",
                id: pinned.to_string(),
            })?;
        let event = Submission::submit(&set, new.answers, new.language)?;
        let secret = SubmissionSecret::from_bytes(&self.ids.secret()?);
        let rules = rules_of(&self.catalogue(), &new.procedure);
        for _ in 0..8 {
            let now = self.now();
            let mut txn = Txn::new(&*self.store);
            let reference = self.next_reference(&mut txn, now).await?;
            let submission = Submission::opened(&event);
            let case = SubmissionCase {
                id: self.ids.case(now),
                reference,
                procedure: new.procedure.clone(),
                area: area.clone(),
                question_set: pinned.clone(),
                authority: new.authority,
                created_at: now,
                updated_at: now,
                events: 1,
                submission,
            };
            txn.expect_absent(keys::submission(case.id));
            txn.expect_absent(keys::submission_secret(&secret.hash()));
            txn.put_raw(
                keys::submission_secret(&secret.hash()),
                case.id.as_bytes().to_vec(),
            );
            txn.create(
                keys::submission_event(case.id, Some(1)),
                &SubmissionTimelineEntry {
                    seq: 1,
                    at: now,
                    actor: ActorRef::Submitter,
                    event: event.clone(),
                },
            )?;
            write_case_doc(&mut txn, rules, &case, None)?;
            self.announce(
                &mut txn,
                crate::outbox::Topic::SubmissionReceived,
                crate::outbox::Subject::Submission {
                    case: case.id,
                    reference,
                },
                Some(&new.procedure),
                [crate::outbox::Audience {
                    authority: new.authority,
                    right: Right::RequestHandler,
                }],
            )?;
            self.audit_as(
                &mut txn,
                ActorRef::Submitter,
                AuditAction::ChangeCase {
                    case: case.id,
                    command: "submit".to_owned(),
                },
                Purpose::OwnSubmission,
            )?;
            match txn.commit().await {
                Ok(_) => {
                    let (status, _) = self.public_status(&case, None).await?;
                    return Ok(SubmissionReceipt {
                        reference,
                        secret,
                        status,
                    });
                }
                Err(EngineError::Conflict(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(EngineError::Internal {
            detail: "could not allocate a reference number".into(),
        })
    }

    /// The submission `secret` opens, as its submitter sees it, in `language` (default:
    /// the language they chose). The read is audited.
    pub async fn submission_status(
        &self,
        secret: &SubmissionSecret,
        language: Option<Language>,
    ) -> Result<(SubmissionStatus, Version), EngineError> {
        let (case, version) = self.open_submission(secret).await?;
        let (status, _) = self.public_status(&case, language).await?;
        let mut txn = Txn::new(&*self.store);
        self.audit_as(
            &mut txn,
            ActorRef::Submitter,
            AuditAction::ReadCase { case: case.id },
            Purpose::OwnSubmission,
        )?;
        txn.commit().await?;
        Ok((status, version))
    }

    /// The submitter acts on the submission `secret` opens: replies to the authority's
    /// question or withdraws it. `if_match` guards against acting on a stale view.
    pub async fn act_as_submitter(
        &self,
        secret: &SubmissionSecret,
        command: SubmissionCommand,
        if_match: Option<Version>,
    ) -> Result<(SubmissionStatus, Version), EngineError> {
        let (case, _) = self.open_submission(secret).await?;
        let (new, version, _) = self
            .act_on_case::<SubmissionCase>(Who::Submitter, case.id, command, if_match)
            .await?;
        let (status, _) = self.public_status(&new, None).await?;
        Ok((status, version))
    }

    /// The submitter asks for their data (Art. 15 GDPR): everything the submission holds,
    /// with its whole timeline, staff names removed. The request is recorded on the
    /// timeline, so the authority sees it, and audited.
    pub async fn submission_data(
        &self,
        secret: &SubmissionSecret,
    ) -> Result<SubmissionExport, EngineError> {
        let (case, _) = self.open_submission(secret).await?;
        let mut txn = Txn::new(&*self.store);
        // Read again within the commit: a concurrent change makes it retry-able conflict.
        let (case, _) = txn
            .get::<SubmissionCase>(&keys::submission(case.id))
            .await?
            .ok_or_else(no_such_secret)?;
        let now = self.now();
        let mut new = case.clone();
        record_event(
            &mut txn,
            &mut new,
            &SubmissionEvent::DataAccessGiven,
            ActorRef::Submitter,
            now,
        )?;
        write_case_doc(
            &mut txn,
            rules_of(&self.catalogue(), &case.procedure),
            &new,
            Some(&case),
        )?;
        self.audit_as(
            &mut txn,
            ActorRef::Submitter,
            AuditAction::ReadCase { case: case.id },
            Purpose::DataSubjectRequest,
        )?;
        txn.commit().await?;
        let (status, timeline) = self.public_status(&new, None).await?;
        Ok(SubmissionExport {
            status,
            timeline: timeline
                .into_iter()
                .map(|e| PublicTimelineEntry {
                    at: e.at,
                    by: match e.actor {
                        ActorRef::User { .. } => PublicActor::Authority,
                        ActorRef::Submitter => PublicActor::You,
                        ActorRef::System => PublicActor::System,
                    },
                    event: PublicEvent::from(&e.event),
                })
                .collect(),
            exported_at: now,
        })
    }

    /// Machine translations into `to` (default: the submitter's language) of the
    /// authority's free text that the submitter sees: its questions and closing reason
    /// (field `message:<seq>`) and the free-text answers of its reply
    /// (`answer:<question>`). Made on demand through the configured translator and not
    /// stored: kept, they would be more personal data to retain. Each is labelled as a
    /// machine translation with the service that made it.
    pub async fn translate_submission(
        &self,
        secret: &SubmissionSecret,
        to: Option<Language>,
    ) -> Result<Vec<crate::translate::MachineTranslation>, EngineError> {
        let (case, _) = self.open_submission(secret).await?;
        let to = to.unwrap_or(case.submission.language());
        let (status, timeline) = self.public_status(&case, Some(to)).await?;
        let mut texts: Vec<(String, String, Option<crate::ids::UserId>)> = Vec::new();
        for m in status
            .messages
            .iter()
            .filter(|m| m.from == MessageFrom::Authority)
        {
            let by = timeline
                .iter()
                .find(|e| e.seq == m.seq)
                .and_then(|e| match e.actor {
                    ActorRef::User { user, .. } => Some(user),
                    ActorRef::System | ActorRef::Submitter => None,
                });
            texts.push((format!("message:{}", m.seq), m.text.clone(), by));
        }
        let answerer = timeline
            .iter()
            .rev()
            .find_map(|e| match (&e.event, e.actor) {
                (SubmissionEvent::Answered { .. }, ActorRef::User { user, .. }) => Some(user),
                _ => None,
            });
        for a in &status.reply {
            if let AnswerValue::Text(t) = &a.value {
                texts.push((format!("answer:{}", a.question), t.clone(), answerer));
            }
        }
        texts.retain(|(_, t, _)| !t.trim().is_empty() && !status.personal_data_removed);
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let translator = self
            .translator
            .as_ref()
            .ok_or(EngineError::TranslationUnavailable)?;
        let now = self.now();
        let mut out = Vec::with_capacity(texts.len());
        for (field, original, by) in texts {
            let from = match by {
                Some(user) => self
                    .load::<crate::user::User>(&keys::user(user), crate::ids::UserId::KIND, &user)
                    .await
                    .ok()
                    .map(|u| u.language()),
                None => None,
            };
            let text = translator.translate(&original, from, to).await?;
            out.push(crate::translate::MachineTranslation {
                field,
                original,
                text,
                from,
                to,
                engine: translator.name().to_owned(),
                at: now,
                machine_translation: true,
            });
        }
        Ok(out)
    }

    /// Whether `actor` works on submissions of `case`'s procedure at its authority:
    /// `Some(true)` for its request handlers, `Some(false)` for its viewers.
    fn submission_access(actor: &Actor, case: &SubmissionCase) -> Option<bool> {
        let Actor::User(p) = actor else {
            return None;
        };
        if p.authority() != case.authority {
            return None;
        }
        if p.holds(Right::RequestHandler, &case.area, &case.procedure) {
            Some(true)
        } else if p.holds(Right::Viewer, &case.area, &case.procedure) {
            Some(false)
        } else {
            None
        }
    }

    /// Loads a submission the actor may see (the operator sees every one).
    async fn load_submission(
        &self,
        actor: &Actor,
        id: CaseId,
    ) -> Result<(SubmissionCase, Version), EngineError> {
        let key = keys::submission(id);
        let not_found = || EngineError::NotFound {
            kind: "submission",
            id: id.to_string(),
        };
        let v = self.store.get(&key).await?.ok_or_else(not_found)?;
        let case: SubmissionCase = decode(&key, &v.value)?;
        let system = matches!(actor, Actor::System);
        if !system && Self::submission_access(actor, &case).is_none() {
            return Err(not_found());
        }
        let case = if case.submission.is_blocked() && !system {
            let set = self.pinned_set(&case.question_set)?;
            SubmissionCase {
                submission: case
                    .submission
                    .redacted(|a| crate::alert::without_personal_data(a, &set)),
                ..case
            }
        } else {
            case
        };
        Ok((case, v.version))
    }

    /// Reads a submission made to the actor's authority (its request handlers and viewers
    /// for the procedure); anyone else gets `NotFound`. The read is audited.
    pub async fn submission(
        &self,
        actor: &Actor,
        id: CaseId,
    ) -> Result<(SubmissionCase, Version), EngineError> {
        let (case, version) = self.load_submission(actor, id).await?;
        if matches!(actor, Actor::User(_)) {
            self.audit_now(
                actor,
                AuditAction::ReadCase { case: id },
                Purpose::HandleCase,
            )
            .await?;
        }
        Ok((case, version))
    }

    /// A submission's timeline, oldest first, for those who may read it.
    pub async fn submission_timeline(
        &self,
        actor: &Actor,
        id: CaseId,
    ) -> Result<Vec<SubmissionTimelineEntry>, EngineError> {
        let (case, _) = self.load_submission(actor, id).await?;
        self.case_timeline(&case, matches!(actor, Actor::System))
            .await
    }

    /// The authority acts on a submission made to it (its request handlers for the
    /// procedure): take, ask the submitter, answer, close.
    pub async fn act_on_submission(
        &self,
        actor: &Actor,
        id: CaseId,
        command: SubmissionCommand,
        if_match: Option<Version>,
    ) -> Result<(SubmissionCase, Version), EngineError> {
        Self::principal(actor)?;
        let (case, version, _) = self
            .act_on_case::<SubmissionCase>(Who::Actor(actor), id, command, if_match)
            .await?;
        Ok((case, version))
    }

    /// One page of the submissions made to the actor's authority, in creation order
    /// within a stage; `stage` narrows it.
    pub async fn submissions(
        &self,
        actor: &Actor,
        stage: Option<SubmissionStage>,
        page: PageRequest,
    ) -> Result<Page<SubmissionCase>, EngineError> {
        let p = Self::principal(actor)?;
        let prefix = keys::submission_by_authority(p.authority(), stage.map(stage_code), None);
        self.box_page(prefix, page, |id| async move {
            Ok(self.load_submission(actor, id).await?.0)
        })
        .await
    }
}

case_doc!(SubmissionCase, "submission", submission, SubmissionEvent, doc: keys::submission, events: keys::submission_event,
    without: submission_event_without_personal_data, index: index_keys);

impl CaseFlow for SubmissionCase {
    type Machine = Submission;
    type Prepared = ();

    fn machine(&self) -> &Submission {
        &self.submission
    }

    /// The submitter (proven by the secret before this is called), or a request handler
    /// of the receiving authority; its viewers see the submission but may not act.
    async fn roles(
        _: &Engine,
        who: Who<'_>,
        case: &Self,
    ) -> Result<Option<SubmissionParty>, EngineError> {
        let actor = match who {
            Who::Submitter => return Ok(Some(SubmissionParty::Submitter)),
            Who::Actor(actor) => actor,
        };
        match (Engine::submission_access(actor, case), actor) {
            (None, _) => Ok(None),
            (Some(true), Actor::User(p)) => Ok(Some(SubmissionParty::Handler(p.user()))),
            (Some(_), _) => Err(EngineError::Denied(Denial {
                actor: actor.to_string(),
                action: "act on a submission",
                reason: "this needs the request-handler right for the procedure at the receiving authority",
            })),
        }
    }

    async fn prepare(_: &Engine, _: &Self) -> Result<(), EngineError> {
        Ok(())
    }

    fn context<'a>(
        _: &'a Self,
        _: &'a (),
        questions: &'a QuestionSet,
        _: DateTime<Utc>,
    ) -> &'a QuestionSet {
        questions
    }
}
