//! Repositories through the engine: records with typed fields from the catalogue, kept by
//! an authority's repository editors, read by every user of the procedure or a defined
//! group, versioned (every revision is kept), searchable by the words of their fields, and
//! removed by `tick` the procedure's retention months after they are retired.
//!
//! The search index holds hashes of folded words, never the words themselves: a record's
//! fields may be personal data (licence holders), and keys must not carry them in clear.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::Engine;
use super::requests::RetentionStep;
use crate::access::{Actor, Denial};
use crate::case::ActorRef;
use crate::catalogue::{AnswerValue, Answers, AreaId, ProcedureId, QuestionSet, Right, Workflow};
use crate::error::EngineError;
use crate::ids::RecordId;
use crate::keys;
use crate::page::{Page, PageRequest};
use crate::record::{Txn, decode};
use crate::repository::{
    Audience, RecordChange, RecordCommand, RecordStatus, RepositoryRecord, check_fields,
};
use crate::store::Version;

/// Words of a record's fields (or any answers), each searchable (hashed in the index).
pub(super) fn answer_terms(fields: &Answers) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (_, v) in fields.iter() {
        match v {
            AnswerValue::Text(t) => out.extend(crate::fold::tokens(t)),
            AnswerValue::Choice(o) => {
                out.insert(o.to_string());
            }
            AnswerValue::Choices(os) => out.extend(os.iter().map(|o| o.to_string())),
            AnswerValue::Date(d) => {
                out.insert(d.to_string());
            }
            AnswerValue::Number(_) | AnswerValue::YesNo(_) | AnswerValue::Attachments(_) => {}
        }
    }
    out
}

pub(super) fn term_hash(term: &str) -> [u8; 8] {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(b"imi-record-term\0");
    h.update(term.as_bytes());
    let d = h.finalize();
    let mut out = [0u8; 8];
    out.copy_from_slice(&d[..8]);
    out
}

/// The months after retirement at which a record is removed (None: kept until its
/// editors delete it).
fn retention_months(catalogue: &crate::catalogue::Catalogue, p: &ProcedureId) -> Option<u16> {
    match catalogue.procedure(p).map(|p| &p.workflow) {
        Some(Workflow::Repository { retention_months }) => *retention_months,
        _ => None,
    }
}

fn index_keys(r: &RepositoryRecord, retention: Option<u16>) -> BTreeSet<Vec<u8>> {
    let proc_ = r.procedure.as_str();
    let mut out = BTreeSet::new();
    out.insert(keys::record_by_procedure(proc_, Some(r.id)));
    for t in answer_terms(&r.fields) {
        out.insert(keys::record_term(proc_, term_hash(&t), Some(r.id)));
    }
    if let (RecordStatus::Retired { at }, Some(months)) = (r.status, retention) {
        let day = at.date_naive();
        let due = day
            .checked_add_months(chrono::Months::new(u32::from(months)))
            .unwrap_or(day);
        out.insert(keys::retention(
            due,
            Some((r.id.as_bytes(), RetentionStep::DeleteRecord as u8)),
        ));
    }
    out
}

fn write_record(
    txn: &mut Txn<'_>,
    retention: Option<u16>,
    new: &RepositoryRecord,
    old: Option<&RepositoryRecord>,
) -> Result<(), EngineError> {
    txn.put(keys::record(new.id), new)?;
    txn.create(keys::record_revision(new.id, Some(new.revision)), new)?;
    let new_keys = index_keys(new, retention);
    let old_keys = old.map(|o| index_keys(o, retention)).unwrap_or_default();
    for k in old_keys.difference(&new_keys) {
        txn.delete(k.clone());
    }
    for k in new_keys.difference(&old_keys) {
        txn.put_index(k.clone());
    }
    Ok(())
}

/// What to search for in a repository.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordQuery {
    /// Words every record found must hold in its fields (case and accents ignored);
    /// empty: every record.
    pub text: String,
    /// Include retired records.
    pub include_retired: bool,
}

/// **Repositories**: an area's shared, versioned records.
impl Engine {
    fn repository_procedure(&self, procedure: &ProcedureId) -> Result<AreaId, EngineError> {
        let catalogue = self.catalogue();
        match catalogue.procedure(procedure) {
            Some(p) if matches!(p.workflow, Workflow::Repository { .. }) => Ok(p.area.clone()),
            _ => Err(EngineError::NotFound {
                kind: ProcedureId::KIND,
                id: procedure.to_string(),
            }),
        }
    }

    fn record_set(&self, r: &RepositoryRecord) -> Result<QuestionSet, EngineError> {
        self.catalogue()
            .question_set(&r.question_set.id, r.question_set.version)
            .cloned()
            .ok_or_else(|| EngineError::NotFound {
                kind: "question set",
                id: r.question_set.to_string(),
            })
    }

    /// Whether `actor` may read records of the procedure at all: a viewer or repository
    /// editor of an authority with access to it (the operator always).
    fn repository_reader(actor: &Actor, area: &AreaId, procedure: &ProcedureId) -> bool {
        match actor {
            Actor::System => true,
            Actor::User(p) => {
                p.holds(Right::Viewer, area, procedure)
                    || p.holds(Right::RepositoryEditor, area, procedure)
            }
            Actor::Public => false,
        }
    }

    fn may_see_record(actor: &Actor, r: &RepositoryRecord) -> bool {
        match actor {
            Actor::System => true,
            Actor::User(p) => r.visible_to(
                Self::repository_reader(actor, &r.area, &r.procedure),
                p.authority(),
            ),
            Actor::Public => false,
        }
    }

    async fn load_record(
        &self,
        actor: &Actor,
        id: RecordId,
    ) -> Result<(RepositoryRecord, Version), EngineError> {
        let key = keys::record(id);
        let not_found = || EngineError::NotFound {
            kind: RecordId::KIND,
            id: id.to_string(),
        };
        let v = self.store.get(&key).await?.ok_or_else(not_found)?;
        let r: RepositoryRecord = decode(&key, &v.value)?;
        if !Self::may_see_record(actor, &r) {
            return Err(not_found());
        }
        Ok((r, v.version))
    }

    /// Adds a record to a repository, kept by the actor's authority (a repository editor
    /// of an authority with access to the procedure). Its fields are checked against the
    /// procedure's question set; it starts at revision 1.
    pub async fn create_record(
        &self,
        actor: &Actor,
        procedure: &ProcedureId,
        fields: Answers,
        audience: Audience,
    ) -> Result<(RepositoryRecord, Version), EngineError> {
        let p = Self::principal(actor)?;
        let area = self.repository_procedure(procedure)?;
        if !p.holds(Right::RepositoryEditor, &area, procedure) {
            return Err(EngineError::Denied(Denial {
                actor: actor.to_string(),
                action: "add a repository record",
                reason: "this needs the repository-editor right for the procedure, at an authority with access to it",
            }));
        }
        let pinned = self.pin_question_set(procedure)?;
        let set = self
            .catalogue()
            .question_set(&pinned.id, pinned.version)
            .cloned()
            .ok_or_else(|| EngineError::NotFound {
                kind: "question set",
                id: pinned.to_string(),
            })?;
        check_fields(&fields, &set)?;
        let now = self.now();
        let by = ActorRef::User {
            user: p.user(),
            authority: p.authority(),
        };
        let record = RepositoryRecord {
            id: self.ids.record(now),
            procedure: procedure.clone(),
            area,
            question_set: pinned,
            owner: p.authority(),
            owner_country: p.participant(),
            revision: 1,
            fields,
            audience,
            status: RecordStatus::Active,
            created_at: now,
            updated_at: now,
            updated_by: by,
        };
        let mut txn = Txn::new(&*self.store);
        txn.expect_absent(keys::record(record.id));
        write_record(
            &mut txn,
            retention_months(&self.catalogue(), procedure),
            &record,
            None,
        )?;
        self.audit(
            &mut txn,
            actor,
            crate::audit::AuditAction::ChangeRecord {
                record: record.id,
                command: "create".into(),
            },
            crate::audit::Purpose::HandleCase,
        )?;
        let version = txn.commit().await?;
        Ok((record, version))
    }

    /// Reads a record's current revision, with its version for `If-Match`. Audited.
    pub async fn record(
        &self,
        actor: &Actor,
        id: RecordId,
    ) -> Result<(RepositoryRecord, Version), EngineError> {
        let found = self.load_record(actor, id).await?;
        if matches!(actor, Actor::User(_)) {
            self.audit_now(
                actor,
                crate::audit::AuditAction::ReadRecord { record: id },
                crate::audit::Purpose::HandleCase,
            )
            .await?;
        }
        Ok(found)
    }

    /// Every revision of a record, oldest first, for those who may read it now.
    pub async fn record_history(
        &self,
        actor: &Actor,
        id: RecordId,
    ) -> Result<Vec<RepositoryRecord>, EngineError> {
        self.load_record(actor, id).await?;
        self.read_timeline(&keys::record_revision(id, None)).await
    }

    /// Updates or retires a record (its keeping authority's repository editors); each
    /// change is a new revision, written with its indexes and an audit record in one
    /// commit.
    pub async fn act_on_record(
        &self,
        actor: &Actor,
        id: RecordId,
        command: RecordCommand,
        if_match: Option<Version>,
    ) -> Result<(RepositoryRecord, Version), EngineError> {
        let p = Self::principal(actor)?;
        let mut txn = Txn::new(&*self.store);
        let not_found = || EngineError::NotFound {
            kind: RecordId::KIND,
            id: id.to_string(),
        };
        let (old, current) = txn
            .get::<RepositoryRecord>(&keys::record(id))
            .await?
            .ok_or_else(not_found)?;
        if !Self::may_see_record(actor, &old) {
            return Err(not_found());
        }
        if let Some(expected) = if_match
            && expected != current
        {
            return Err(EngineError::VersionMismatch { expected, current });
        }
        let editor = p.authority() == old.owner
            && p.holds(Right::RepositoryEditor, &old.area, &old.procedure);
        let set = self.record_set(&old)?;
        let change: RecordChange = old.decide(editor, &command, &set)?;
        let now = self.now();
        let mut new = old.clone();
        new.apply(
            &change,
            now,
            ActorRef::User {
                user: p.user(),
                authority: p.authority(),
            },
        );
        write_record(
            &mut txn,
            retention_months(&self.catalogue(), &old.procedure),
            &new,
            Some(&old),
        )?;
        self.audit(
            &mut txn,
            actor,
            crate::audit::AuditAction::ChangeRecord {
                record: id,
                command: command.name().into(),
            },
            crate::audit::Purpose::HandleCase,
        )?;
        let version = txn.commit().await?;
        Ok((new, version))
    }

    /// Deletes a record with every revision and index entry (its keeping authority's
    /// repository editors), for repositories whose act leaves it to them.
    pub async fn delete_record(&self, actor: &Actor, id: RecordId) -> Result<(), EngineError> {
        let p = Self::principal(actor)?;
        let mut txn = Txn::new(&*self.store);
        let not_found = || EngineError::NotFound {
            kind: RecordId::KIND,
            id: id.to_string(),
        };
        let (old, _) = txn
            .get::<RepositoryRecord>(&keys::record(id))
            .await?
            .ok_or_else(not_found)?;
        if !Self::may_see_record(actor, &old) {
            return Err(not_found());
        }
        if !(p.authority() == old.owner
            && p.holds(Right::RepositoryEditor, &old.area, &old.procedure))
        {
            return Err(crate::workflow::TransitionError::WrongParty {
                command: "delete",
                needed: "repository editor of the keeping authority",
            }
            .into());
        }
        self.remove_record(&mut txn, &old).await?;
        self.audit(
            &mut txn,
            actor,
            crate::audit::AuditAction::ChangeRecord {
                record: id,
                command: "delete".into(),
            },
            crate::audit::Purpose::HandleCase,
        )?;
        txn.commit().await?;
        Ok(())
    }

    /// Removes a record, its revisions and every index entry within `txn`.
    async fn remove_record(
        &self,
        txn: &mut Txn<'_>,
        r: &RepositoryRecord,
    ) -> Result<(), EngineError> {
        txn.delete(keys::record(r.id));
        let retention = retention_months(&self.catalogue(), &r.procedure);
        let revisions: Vec<RepositoryRecord> = self
            .read_timeline(&keys::record_revision(r.id, None))
            .await?;
        for rev in &revisions {
            txn.delete(keys::record_revision(r.id, Some(rev.revision)));
            for k in index_keys(rev, retention) {
                txn.delete(k);
            }
        }
        for k in index_keys(r, retention) {
            txn.delete(k);
        }
        Ok(())
    }

    /// Retention: removes a retired record whose procedure's retention months have
    /// passed, within `txn`. Returns whether it did.
    pub(super) async fn record_retention(
        &self,
        txn: &mut Txn<'_>,
        id: RecordId,
        now: DateTime<Utc>,
    ) -> Result<bool, EngineError> {
        let Some((r, _)) = txn.get::<RepositoryRecord>(&keys::record(id)).await? else {
            return Ok(false);
        };
        let retention = retention_months(&self.catalogue(), &r.procedure);
        let due = match (r.status, retention) {
            (RecordStatus::Retired { at }, Some(months)) => {
                let day = at.date_naive();
                day.checked_add_months(chrono::Months::new(u32::from(months)))
                    .unwrap_or(day)
                    <= now.date_naive()
            }
            _ => false,
        };
        if !due {
            for k in index_keys(&r, retention) {
                txn.put_index(k);
            }
            return Ok(false);
        }
        self.remove_record(txn, &r).await?;
        self.audit(
            txn,
            &Actor::System,
            crate::audit::AuditAction::ChangeRecord {
                record: id,
                command: "retention-delete".into(),
            },
            crate::audit::Purpose::Operate,
        )?;
        Ok(true)
    }

    /// Searches a repository: records holding every word of `query.text` (all records
    /// when empty) that the actor may see, active ones unless retired are asked for, in
    /// creation order. Reads through the hashed word index of the first word,
    /// checking the others on the record itself.
    pub async fn search_records(
        &self,
        actor: &Actor,
        procedure: &ProcedureId,
        query: &RecordQuery,
        page: PageRequest,
    ) -> Result<Page<RepositoryRecord>, EngineError> {
        let area = self.repository_procedure(procedure)?;
        if !Self::repository_reader(actor, &area, procedure) {
            return Err(EngineError::Denied(Denial {
                actor: actor.to_string(),
                action: "search a repository",
                reason: "this needs the viewer or repository-editor right for the procedure, at an authority with access to it",
            }));
        }
        let words: Vec<String> = crate::fold::tokens(&query.text).collect();
        let prefix = match words.first() {
            Some(w) => keys::record_term(procedure.as_str(), term_hash(w), None),
            None => keys::record_by_procedure(procedure.as_str(), None),
        };
        let want: BTreeSet<String> = words.iter().cloned().collect();
        self.box_page(prefix, page, |case_id| {
            let want = &want;
            async move {
                let id =
                    RecordId::from_uuid(*case_id.as_uuid()).map_err(|_| EngineError::NotFound {
                        kind: RecordId::KIND,
                        id: case_id.to_string(),
                    })?;
                let (r, _) = self.load_record(actor, id).await?;
                let terms = answer_terms(&r.fields);
                let retired = matches!(r.status, RecordStatus::Retired { .. });
                if (retired && !query.include_retired) || !want.is_subset(&terms) {
                    return Err(EngineError::NotFound {
                        kind: RecordId::KIND,
                        id: id.to_string(),
                    });
                }
                Ok(r)
            }
        })
        .await
    }
}
