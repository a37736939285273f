//! Repositories: per-area shared records with typed fields from the catalogue
//! (IMI-REFERENCE Part 1, "Repository"; e.g. licence holders for road transport of euro
//! cash). A record belongs to the authority that keeps it, is visible to every user of the
//! procedure or to a defined group of authorities, keeps every revision, and is retired
//! when no longer current; the area's retention rule then removes it.
//!
//! The pure part: [`RepositoryRecord::decide`] checks a [`RecordCommand`] against the
//! record's [`RecordStatus`] and the question set; [`RepositoryRecord::apply`] folds the
//! resulting [`RecordChange`] in.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::case::ActorRef;
use crate::catalogue::{
    Answers, AreaId, ProcedureId, QuestionSet, QuestionSetVersion, Side, ValidationLevel,
};
use crate::country::Participant;
use crate::ids::{AuthorityId, RecordId};

/// Who may read a record besides the authority that keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "audience", rename_all = "kebab-case")]
pub enum Audience {
    /// Every user of the procedure (viewers and editors of authorities with access).
    Area,
    /// Only users of these authorities (a defined group).
    Group {
        /// The authorities.
        authorities: BTreeSet<AuthorityId>,
    },
}

/// Whether a record is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum RecordStatus {
    /// Current.
    Active,
    /// No longer current; kept until the area's retention rule removes it.
    Retired {
        /// When.
        at: DateTime<Utc>,
    },
}

impl RecordStatus {
    /// The kebab-case name.
    pub fn name(self) -> &'static str {
        self.stage().name()
    }

    /// The stage, without the date.
    pub fn stage(self) -> RecordStage {
        match self {
            RecordStatus::Active => RecordStage::Active,
            RecordStatus::Retired { .. } => RecordStage::Retired,
        }
    }
}

/// Whether a record is current, without the date (for messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecordStage {
    /// Current.
    Active,
    /// No longer current.
    Retired,
}

impl RecordStage {
    /// The kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            RecordStage::Active => "active",
            RecordStage::Retired => "retired",
        }
    }
}

impl crate::workflow::Stage for RecordStage {
    const WORKFLOW: &'static str = "record";
    fn name(self) -> &'static str {
        RecordStage::name(self)
    }
}

impl std::fmt::Display for RecordStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a record command was refused; nothing was changed.
pub type RecordError = crate::workflow::StepError<RecordStage>;

/// What an editor asks to do with a record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "kebab-case")]
pub enum RecordCommand {
    /// Replaces the fields (a new revision), and the audience when given.
    Update {
        /// The fields, checked against the question set at the "send" level.
        fields: Answers,
        /// The new audience, if it changes.
        #[serde(default)]
        audience: Option<Audience>,
    },
    /// Retires the record.
    Retire,
}

impl RecordCommand {
    /// The command's name.
    pub fn name(&self) -> &'static str {
        match self {
            RecordCommand::Update { .. } => "update",
            RecordCommand::Retire => "retire",
        }
    }
}

impl crate::workflow::Command for RecordCommand {
    type Stage = RecordStage;
    const SPECS: &'static [crate::workflow::CommandSpec] = {
        use crate::workflow::{FieldKind::*, opt, req, spec};
        &[
            spec(
                "update",
                &[req("fields", Answers), opt("audience", Audience)],
            ),
            spec("retire", &[]),
        ]
    };

    fn name(&self) -> &'static str {
        RecordCommand::name(self)
    }

    fn possible_in(&self) -> &'static [RecordStage] {
        match self {
            RecordCommand::Update { .. } | RecordCommand::Retire => &[RecordStage::Active],
        }
    }
}

/// What a command changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "kebab-case")]
pub enum RecordChange {
    /// New fields (and audience).
    Updated {
        /// The fields.
        fields: Answers,
        /// The audience.
        audience: Audience,
    },
    /// Retired.
    Retired,
}

/// One record of a repository, at one revision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepositoryRecord {
    /// Its id.
    pub id: RecordId,
    /// The repository procedure.
    pub procedure: ProcedureId,
    /// The procedure's area.
    pub area: AreaId,
    /// The question-set version its fields follow.
    pub question_set: QuestionSetVersion,
    /// The authority that keeps it.
    pub owner: AuthorityId,
    /// That authority's country.
    pub owner_country: Participant,
    /// Its revision, from 1.
    pub revision: u32,
    /// The fields.
    pub fields: Answers,
    /// Who may read it.
    pub audience: Audience,
    /// Current or retired.
    pub status: RecordStatus,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When this revision was made.
    pub updated_at: DateTime<Utc>,
    /// Who made this revision.
    pub updated_by: ActorRef,
}

impl RepositoryRecord {
    /// Checks `command` by an editor of the keeping authority (`editor`) against the
    /// record's status and `set`; changes nothing.
    pub fn decide(
        &self,
        editor: bool,
        command: &RecordCommand,
        set: &QuestionSet,
    ) -> Result<RecordChange, RecordError> {
        let name = command.name();
        if !editor {
            return Err(RecordError::WrongParty {
                command: name,
                needed: "repository editor of the keeping authority",
            });
        }
        match (self.status, command) {
            (RecordStatus::Active, RecordCommand::Update { fields, audience }) => {
                check_fields(fields, set)?;
                Ok(RecordChange::Updated {
                    fields: fields.clone(),
                    audience: audience.clone().unwrap_or_else(|| self.audience.clone()),
                })
            }
            (RecordStatus::Active, RecordCommand::Retire) => Ok(RecordChange::Retired),
            (
                RecordStatus::Retired { .. },
                RecordCommand::Update { .. } | RecordCommand::Retire,
            ) => Err(RecordError::illegal(self.status.stage(), command)),
        }
    }

    /// Folds a change in as a new revision made at `at` by `by`.
    pub fn apply(&mut self, change: &RecordChange, at: DateTime<Utc>, by: ActorRef) {
        crate::workflow::Workflow::apply(self, change, at);
        self.updated_by = by;
    }

    fn fold(&mut self, change: &RecordChange, at: DateTime<Utc>) {
        match change {
            RecordChange::Updated { fields, audience } => {
                self.fields = fields.clone();
                self.audience = audience.clone();
            }
            RecordChange::Retired => self.status = RecordStatus::Retired { at },
        }
        self.revision = self.revision.saturating_add(1);
        self.updated_at = at;
    }

    /// Whether a user of `authority` who may read the procedure (`reader`) sees it.
    pub fn visible_to(&self, reader: bool, authority: AuthorityId) -> bool {
        reader
            && (authority == self.owner
                || match &self.audience {
                    Audience::Area => true,
                    Audience::Group { authorities } => authorities.contains(&authority),
                })
    }
}

/// Checks a record's fields: every required question answered, every answer valid.
pub fn check_fields(fields: &Answers, set: &QuestionSet) -> Result<(), RecordError> {
    set.validate_side(
        fields,
        &Answers::new(),
        Side::Requester,
        ValidationLevel::Send,
    )?;
    Ok(())
}

impl crate::workflow::Workflow for RepositoryRecord {
    type Stage = RecordStage;
    type Command = RecordCommand;
    type Event = RecordChange;
    /// Whether the actor is an editor of the keeping authority.
    type Roles = bool;
    type Context<'a> = &'a QuestionSet;

    fn stage(&self) -> RecordStage {
        self.status.stage()
    }

    fn decide(
        &self,
        editor: bool,
        command: &RecordCommand,
        set: &&QuestionSet,
    ) -> Result<Vec<RecordChange>, RecordError> {
        RepositoryRecord::decide(self, editor, command, set).map(|c| vec![c])
    }

    /// Folds a change in as a new revision (the engine records who made it).
    fn apply(&mut self, change: &RecordChange, at: DateTime<Utc>) {
        self.fold(change, at);
    }
}
