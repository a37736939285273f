//! Loading a catalogue from the text of its files.
//!
//! A catalogue directory holds
//!
//! - `areas/*.toml`: one legislative area each, with its procedures;
//! - `question-sets/*.toml`: one version of one question set each;
//! - `translations/*.xlf`: XLIFF 2.0 files adding translations (see [`super::xliff`]).
//!
//! Reading the directory is the caller's job (the core does no I/O): pass each file's path
//! relative to the directory and its text. Loading checks everything and reports every
//! problem with its file, its path inside the file and the reason; it never panics.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Deserialize;

use super::model::*;
use crate::language::{Language, LanguageError};
use crate::localised::LocalisedText;

/// One file of a catalogue: its path relative to the catalogue directory, and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueSource {
    /// The path, with `/` separators (e.g. `areas/services.toml`).
    pub path: String,
    /// The file's contents.
    pub text: String,
}

impl CatalogueSource {
    /// A source from a path and text.
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            text: text.into(),
        }
    }
}

/// What is wrong at one place in a catalogue.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogueIssue {
    /// The file is not valid TOML or XML, or a field has the wrong type or is unknown.
    #[error("{message}")]
    Syntax {
        /// The parser's message.
        message: String,
    },
    /// The file is not in `areas/`, `question-sets/` or `translations/`, or has the wrong
    /// extension.
    #[error("the file is not in areas/*.toml, question-sets/*.toml or translations/*.xlf")]
    UnknownLocation,
    /// An identifier is not a valid slug.
    #[error(transparent)]
    BadId(#[from] SlugError),
    /// An identifier is used twice.
    #[error("{kind} `{id}` is defined more than once (first in {first})")]
    Duplicate {
        /// What kind of thing.
        kind: &'static str,
        /// The id.
        id: String,
        /// Where it was first defined.
        first: String,
    },
    /// A reference to something that does not exist.
    #[error("{kind} `{id}` does not exist")]
    UnknownReference {
        /// What kind of thing.
        kind: &'static str,
        /// The id.
        id: String,
    },
    /// A language tag that is malformed or not an IMI language.
    #[error(transparent)]
    BadLanguage(#[from] LanguageError),
    /// A text lacks its source language.
    #[error("there is no text in the source language `{language}`")]
    MissingSourceText {
        /// The source language.
        language: Language,
    },
    /// A translation is empty.
    #[error("the `{language}` text is empty")]
    EmptyText {
        /// Its language.
        language: Language,
    },
    /// A value that is not one of the allowed words.
    #[error("`{value}` is not a valid {field} (expected one of: {expected})")]
    UnknownValue {
        /// The field.
        field: &'static str,
        /// What was found.
        value: String,
        /// What is allowed.
        expected: &'static str,
    },
    /// A number outside its range.
    #[error("{field} = {value} is outside {min}..={max}")]
    OutOfRange {
        /// The field.
        field: &'static str,
        /// What was found.
        value: i64,
        /// Smallest allowed.
        min: i64,
        /// Largest allowed.
        max: i64,
    },
    /// A setting that belongs to another kind of procedure or question.
    #[error("`{field}` does not apply to a {kind}")]
    DoesNotApply {
        /// The field.
        field: &'static str,
        /// The kind or type it was given for.
        kind: &'static str,
    },
    /// A right that makes no sense for the procedure's kind.
    #[error("the right `{right}` does not apply to a {kind} procedure")]
    RightDoesNotApply {
        /// The right.
        right: &'static str,
        /// The procedure's kind.
        kind: &'static str,
    },
    /// A special category on a question that is not marked as personal data.
    #[error("a special category of personal data requires `personal_data = true`")]
    SpecialCategoryWithoutPersonalData,
    /// A choice question with fewer than two options.
    #[error("a choice question needs at least two options")]
    TooFewOptions,
    /// Minimum above maximum.
    #[error("min ({min}) is above max ({max})")]
    MinAboveMax {
        /// The minimum.
        min: f64,
        /// The maximum.
        max: f64,
    },
    /// A condition on a question that is not earlier in the set.
    #[error("the condition refers to `{question}`, which does not come earlier in the set")]
    ConditionNotEarlier {
        /// The referenced question.
        question: String,
    },
    /// A condition whose answer does not fit the referenced question's type.
    #[error("the condition on `{question}` ({question_type}) must use {expected}")]
    ConditionDoesNotFit {
        /// The referenced question.
        question: String,
        /// Its type.
        question_type: &'static str,
        /// What the condition must use.
        expected: &'static str,
    },
    /// A condition with both or neither of `equals` and `any_of`.
    #[error("a condition needs exactly one of `equals` (yes/no) and `any_of` (options)")]
    ConditionShape,
    /// A group without questions, or a set without groups.
    #[error("{0} is empty")]
    Empty(&'static str),
    /// A published question-set version whose content differs from the one already
    /// installed.
    #[error(
        "question set `{id}` version {version} is already published with other content; publish a new version instead"
    )]
    PublishedVersionChanged {
        /// The set.
        id: String,
        /// The version.
        version: u32,
    },
}

/// One problem: where, and what.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogueProblem {
    /// The file, relative to the catalogue directory.
    pub file: String,
    /// The line, when known (syntax errors).
    pub line: Option<usize>,
    /// The path inside the file, e.g. `group[1].question[3].show_if`.
    pub path: String,
    /// What is wrong.
    pub issue: CatalogueIssue,
}

impl fmt::Display for CatalogueProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if !self.path.is_empty() {
            write!(f, ": {}", self.path)?;
        }
        write!(f, ": {}", self.issue)
    }
}

/// Every problem found while loading a catalogue.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct CatalogueErrors(pub Vec<CatalogueProblem>);

impl fmt::Display for CatalogueErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "the catalogue has {} problem(s):", self.0.len())?;
        for p in &self.0 {
            writeln!(f, "  {p}")?;
        }
        Ok(())
    }
}

type TextMap = BTreeMap<String, String>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AreaFile {
    id: String,
    source_language: Option<String>,
    name: TextMap,
    description: Option<TextMap>,
    #[serde(default, rename = "procedure")]
    procedures: Vec<ProcedureFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProcedureFile {
    id: String,
    kind: String,
    name: TextMap,
    question_set: String,
    blocking_months: Option<i64>,
    rights: Option<Vec<String>>,
    answer_days: Option<i64>,
    remind_unaccepted_after_days: Option<i64>,
    escalate_overdue_after_days: Option<i64>,
    national_use: Option<bool>,
    public_submission: Option<bool>,
    outgoing_validation: Option<bool>,
    to_commission: Option<bool>,
    to_member_states: Option<bool>,
    accept_within_days: Option<i64>,
    solve_within_days: Option<i64>,
    remind_days_before: Option<i64>,
    retention_months: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuestionSetFile {
    id: String,
    version: i64,
    source_language: Option<String>,
    title: TextMap,
    #[serde(default, rename = "group")]
    groups: Vec<GroupFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupFile {
    id: String,
    title: TextMap,
    #[serde(default, rename = "question")]
    questions: Vec<QuestionFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuestionFile {
    id: String,
    #[serde(rename = "type")]
    answer_type: String,
    label: TextMap,
    help: Option<TextMap>,
    required: Option<String>,
    #[serde(default)]
    personal_data: bool,
    #[serde(default)]
    summary: bool,
    special_category: Option<String>,
    show_if: Option<ConditionFile>,
    answered_by: Option<String>,
    #[serde(default, rename = "option")]
    options: Vec<OptionFile>,
    min: Option<f64>,
    max: Option<f64>,
    integer: Option<bool>,
    max_length: Option<i64>,
    max_files: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConditionFile {
    question: String,
    equals: Option<String>,
    any_of: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OptionFile {
    id: String,
    label: TextMap,
}

/// Collects problems for one file.
struct Ctx<'a> {
    file: &'a str,
    problems: &'a mut Vec<CatalogueProblem>,
}

impl Ctx<'_> {
    fn report(&mut self, path: impl Into<String>, issue: impl Into<CatalogueIssue>) {
        self.problems.push(CatalogueProblem {
            file: self.file.to_owned(),
            line: None,
            path: path.into(),
            issue: issue.into(),
        });
    }

    fn id<T: std::str::FromStr<Err = SlugError>>(&mut self, path: &str, raw: &str) -> Option<T> {
        raw.parse()
            .map_err(|e| self.report(path, CatalogueIssue::BadId(e)))
            .ok()
    }

    fn language(&mut self, path: &str, raw: &str) -> Option<Language> {
        raw.parse()
            .map_err(|e| self.report(path, CatalogueIssue::BadLanguage(e)))
            .ok()
    }

    fn text(&mut self, path: &str, source: Language, map: &TextMap) -> Option<LocalisedText> {
        let mut pairs = Vec::new();
        let mut ok = true;
        for (tag, text) in map {
            let Some(language) = self.language(&format!("{path}.{tag}"), tag) else {
                ok = false;
                continue;
            };
            if text.trim().is_empty() {
                self.report(
                    format!("{path}.{tag}"),
                    CatalogueIssue::EmptyText { language },
                );
                ok = false;
                continue;
            }
            // Texts travel to translators as XML: characters XML 1.0 cannot carry (control
            // characters other than tab and line feed, and the non-characters U+FFFE and
            // U+FFFF) are refused here rather than breaking the export.
            if let Some(c) = text.chars().find(|c| {
                (c.is_control() && !matches!(c, '\t' | '\n'))
                    || matches!(c, '\u{FFFE}' | '\u{FFFF}')
            }) {
                self.report(
                    format!("{path}.{tag}"),
                    CatalogueIssue::Syntax {
                        message: format!("the text holds the character U+{:04X}, which translation files cannot carry", u32::from(c)),
                    },
                );
                ok = false;
                continue;
            }
            pairs.push((language, text.as_str()));
        }
        let Some(pos) = pairs.iter().position(|(l, _)| *l == source) else {
            if ok {
                self.report(path, CatalogueIssue::MissingSourceText { language: source });
            }
            return None;
        };
        let first = pairs.remove(pos);
        let text = LocalisedText::from_pairs(std::iter::once(first).chain(pairs)).ok();
        text.filter(|_| ok)
    }

    fn range(
        &mut self,
        path: &str,
        field: &'static str,
        value: i64,
        min: i64,
        max: i64,
    ) -> Option<i64> {
        if (min..=max).contains(&value) {
            Some(value)
        } else {
            self.report(
                path,
                CatalogueIssue::OutOfRange {
                    field,
                    value,
                    min,
                    max,
                },
            );
            None
        }
    }

    fn word<T: Copy>(
        &mut self,
        path: &str,
        field: &'static str,
        value: &str,
        table: &[(&str, T)],
        expected: &'static str,
    ) -> Option<T> {
        let found = table.iter().find(|(w, _)| *w == value).map(|(_, t)| *t);
        if found.is_none() {
            self.report(
                path,
                CatalogueIssue::UnknownValue {
                    field,
                    value: value.to_owned(),
                    expected,
                },
            );
        }
        found
    }
}

fn source_language(ctx: &mut Ctx<'_>, raw: Option<&str>) -> Language {
    raw.and_then(|tag| ctx.language("source_language", tag))
        .unwrap_or(Language::English)
}

fn parse_toml<T: serde::de::DeserializeOwned>(
    source: &CatalogueSource,
    problems: &mut Vec<CatalogueProblem>,
) -> Option<T> {
    match toml::from_str::<T>(&source.text) {
        Ok(v) => Some(v),
        Err(e) => {
            let line = e.span().map(|s| {
                source
                    .text
                    .get(..s.start)
                    .map_or(1, |t| t.matches('\n').count() + 1)
            });
            problems.push(CatalogueProblem {
                file: source.path.clone(),
                line,
                path: String::new(),
                issue: CatalogueIssue::Syntax {
                    message: e.message().to_owned(),
                },
            });
            None
        }
    }
}

const KINDS: &[(&str, WorkflowKind)] = &[
    ("request", WorkflowKind::Request),
    ("alert", WorkflowKind::Alert),
    ("notification", WorkflowKind::Notification),
    ("repository", WorkflowKind::Repository),
    ("solvit", WorkflowKind::Solvit),
    ("survey", WorkflowKind::Survey),
];

fn load_area(
    ctx: &mut Ctx<'_>,
    file: AreaFile,
    procedures: &mut Vec<(Procedure, String, String)>,
) -> Option<LegislativeArea> {
    let source = source_language(ctx, file.source_language.as_deref());
    let id: Option<AreaId> = ctx.id("id", &file.id);
    let name = ctx.text("name", source, &file.name);
    let description = match &file.description {
        Some(d) => Some(ctx.text("description", source, d)?),
        None => None,
    };
    // Procedures are checked even when the area's id is bad, so every problem shows.
    let area_for_checks: Option<AreaId> = id.clone().or_else(|| "unknown".parse().ok());
    for (i, p) in file.procedures.into_iter().enumerate() {
        let path = format!("procedure[{i}]");
        let Some(area) = area_for_checks.clone() else {
            continue;
        };
        if let Some(proc) = load_procedure(ctx, &path, source, area, &p)
            && id.is_some()
        {
            procedures.push((proc, ctx.file.to_owned(), path));
        }
    }
    Some(LegislativeArea {
        id: id?,
        name: name?,
        description,
    })
}

fn load_procedure(
    ctx: &mut Ctx<'_>,
    path: &str,
    source: Language,
    area: AreaId,
    p: &ProcedureFile,
) -> Option<Procedure> {
    let id: Option<ProcedureId> = ctx.id(&format!("{path}.id"), &p.id);
    let name = ctx.text(&format!("{path}.name"), source, &p.name);
    let question_set: Option<QuestionSetId> =
        ctx.id(&format!("{path}.question_set"), &p.question_set);
    let kind = ctx.word(
        &format!("{path}.kind"),
        "procedure kind",
        &p.kind,
        KINDS,
        "request, alert, notification, repository, solvit, survey",
    )?;
    let blocking = match p.blocking_months {
        None => Some(BlockingPeriod::default()),
        Some(m) => ctx
            .range(
                &format!("{path}.blocking_months"),
                "blocking_months",
                m,
                1,
                i64::from(MAX_BLOCKING_MONTHS),
            )
            .and_then(|m| u8::try_from(m).ok())
            .and_then(|m| BlockingPeriod::try_from(m).ok()),
    };
    let day =
        |ctx: &mut Ctx<'_>, field: &'static str, value: Option<i64>, default: u16| -> Option<u16> {
            match value {
                None => Some(default),
                Some(v) => ctx
                    .range(&format!("{path}.{field}"), field, v, 1, 365)
                    .and_then(|v| u16::try_from(v).ok()),
            }
        };
    // Settings of other kinds are refused, not ignored: a typo in the kind must not
    // silently drop a deadline.
    let foreign: &[(&'static str, bool, WorkflowKind)] = &[
        (
            "answer_days",
            p.answer_days.is_some(),
            WorkflowKind::Request,
        ),
        (
            "remind_unaccepted_after_days",
            p.remind_unaccepted_after_days.is_some(),
            WorkflowKind::Request,
        ),
        (
            "escalate_overdue_after_days",
            p.escalate_overdue_after_days.is_some(),
            WorkflowKind::Request,
        ),
        (
            "national_use",
            p.national_use.is_some(),
            WorkflowKind::Request,
        ),
        (
            "public_submission",
            p.public_submission.is_some(),
            WorkflowKind::Request,
        ),
        (
            "outgoing_validation",
            p.outgoing_validation.is_some(),
            WorkflowKind::Alert,
        ),
        (
            "to_commission",
            p.to_commission.is_some(),
            WorkflowKind::Notification,
        ),
        (
            "to_member_states",
            p.to_member_states.is_some(),
            WorkflowKind::Notification,
        ),
        (
            "retention_months",
            p.retention_months.is_some(),
            WorkflowKind::Repository,
        ),
        (
            "accept_within_days",
            p.accept_within_days.is_some(),
            WorkflowKind::Solvit,
        ),
        (
            "solve_within_days",
            p.solve_within_days.is_some(),
            WorkflowKind::Solvit,
        ),
        (
            "remind_days_before",
            p.remind_days_before.is_some(),
            WorkflowKind::Survey,
        ),
    ];
    let mut fits = true;
    for (field, given, owner) in foreign {
        if *given && *owner != kind {
            ctx.report(
                format!("{path}.{field}"),
                CatalogueIssue::DoesNotApply {
                    field,
                    kind: kind.name(),
                },
            );
            fits = false;
        }
    }
    let workflow = match kind {
        WorkflowKind::Request => Workflow::Request {
            answer_days: day(ctx, "answer_days", p.answer_days, 14)?,
            remind_unaccepted_after_days: day(
                ctx,
                "remind_unaccepted_after_days",
                p.remind_unaccepted_after_days,
                7,
            )?,
            escalate_overdue_after_days: day(
                ctx,
                "escalate_overdue_after_days",
                p.escalate_overdue_after_days,
                7,
            )?,
            national_use: p.national_use.unwrap_or(false),
            public_submission: p.public_submission.unwrap_or(false),
        },
        WorkflowKind::Alert => Workflow::Alert {
            outgoing_validation: p.outgoing_validation.unwrap_or(true),
        },
        WorkflowKind::Notification => Workflow::Notification {
            to_commission: p.to_commission.unwrap_or(true),
            to_member_states: p.to_member_states.unwrap_or(true),
        },
        WorkflowKind::Repository => Workflow::Repository {
            retention_months: match p.retention_months {
                None => None,
                Some(m) => Some(
                    ctx.range(
                        &format!("{path}.retention_months"),
                        "retention_months",
                        m,
                        1,
                        1200,
                    )
                    .and_then(|m| u16::try_from(m).ok())?,
                ),
            },
        },
        // SOLVIT's own targets: a week to accept, ten weeks to solve.
        WorkflowKind::Solvit => Workflow::Solvit {
            accept_within_days: day(ctx, "accept_within_days", p.accept_within_days, 7)?,
            solve_within_days: day(ctx, "solve_within_days", p.solve_within_days, 70)?,
        },
        WorkflowKind::Survey => Workflow::Survey {
            remind_days_before: day(ctx, "remind_days_before", p.remind_days_before, 3)?,
        },
    };
    let rights = match &p.rights {
        None => Right::defaults_for(kind),
        Some(names) => {
            let mut rights = Vec::new();
            for (i, name) in names.iter().enumerate() {
                let rpath = format!("{path}.rights[{i}]");
                let Some(right) = Right::ALL.into_iter().find(|r| r.name() == name) else {
                    ctx.report(
                        rpath,
                        CatalogueIssue::UnknownValue {
                            field: "right",
                            value: name.clone(),
                            expected: "request-handler, allocator, referral-handler, outgoing-alert-handler, incoming-alert-handler, outgoing-alert-coordinator, incoming-alert-coordinator, notification-handler, repository-editor, viewer, administrator, api-user",
                        },
                    );
                    fits = false;
                    continue;
                };
                if !right.fits(kind) {
                    ctx.report(
                        rpath,
                        CatalogueIssue::RightDoesNotApply {
                            right: right.name(),
                            kind: kind.name(),
                        },
                    );
                    fits = false;
                } else if !rights.contains(&right) {
                    rights.push(right);
                }
            }
            rights
        }
    };
    if !fits {
        return None;
    }
    Some(Procedure {
        id: id?,
        area,
        name: name?,
        workflow,
        question_set: question_set?,
        blocking: blocking?,
        rights,
    })
}

const TYPES: &[(&str, u8)] = &[
    ("yes-no", 0),
    ("single-choice", 1),
    ("multiple-choice", 2),
    ("date", 3),
    ("number", 4),
    ("free-text", 5),
    ("attachment", 6),
];
const TYPE_NAMES: &str =
    "yes-no, single-choice, multiple-choice, date, number, free-text, attachment";

fn load_question_set(ctx: &mut Ctx<'_>, file: QuestionSetFile) -> Option<QuestionSet> {
    let source = source_language(ctx, file.source_language.as_deref());
    let id: Option<QuestionSetId> = ctx.id("id", &file.id);
    let version = ctx
        .range("version", "version", file.version, 1, i64::from(u32::MAX))
        .and_then(|v| u32::try_from(v).ok());
    let title = ctx.text("title", source, &file.title);
    if file.groups.is_empty() {
        ctx.report("", CatalogueIssue::Empty("the question set"));
    }
    let mut ok = true;
    let mut seen_groups: BTreeMap<String, String> = BTreeMap::new();
    let mut earlier: Vec<Question> = Vec::new();
    // Questions already reported as broken: conditions on them are not reported again.
    let mut failed: BTreeSet<String> = BTreeSet::new();
    let mut groups = Vec::new();
    for (gi, g) in file.groups.into_iter().enumerate() {
        let gpath = format!("group[{gi}]");
        if let Some(first) = seen_groups.insert(g.id.clone(), gpath.clone()) {
            ctx.report(
                format!("{gpath}.id"),
                CatalogueIssue::Duplicate {
                    kind: "group",
                    id: g.id.clone(),
                    first,
                },
            );
            ok = false;
        }
        let gid: Option<GroupId> = ctx.id(&format!("{gpath}.id"), &g.id);
        let gtitle = ctx.text(&format!("{gpath}.title"), source, &g.title);
        if g.questions.is_empty() {
            ctx.report(gpath.as_str(), CatalogueIssue::Empty("the group"));
            ok = false;
        }
        let mut questions = Vec::new();
        for (qi, q) in g.questions.into_iter().enumerate() {
            let qpath = format!("{gpath}.question[{qi}]");
            match load_question(ctx, &qpath, source, &q, &earlier, &failed) {
                Some(question) => {
                    earlier.push(question.clone());
                    questions.push(question);
                }
                None => {
                    failed.insert(q.id.clone());
                    ok = false;
                }
            }
        }
        match (gid, gtitle) {
            (Some(id), Some(title)) => groups.push(QuestionGroup {
                id,
                title,
                questions,
            }),
            _ => ok = false,
        }
    }
    if !ok || groups.is_empty() {
        return None;
    }
    Some(QuestionSet {
        id: id?,
        version: version?,
        source_language: source,
        title: title?,
        groups,
    })
}

fn load_question(
    ctx: &mut Ctx<'_>,
    path: &str,
    source: Language,
    q: &QuestionFile,
    earlier: &[Question],
    failed: &BTreeSet<String>,
) -> Option<Question> {
    let id: Option<QuestionId> = ctx.id(&format!("{path}.id"), &q.id);
    if let Some(id) = &id
        && earlier.iter().any(|e| &e.id == id)
    {
        ctx.report(
            format!("{path}.id"),
            CatalogueIssue::Duplicate {
                kind: "question",
                id: id.to_string(),
                first: "an earlier question".into(),
            },
        );
        return None;
    }
    let label = ctx.text(&format!("{path}.label"), source, &q.label);
    let help = match &q.help {
        Some(h) => Some(ctx.text(&format!("{path}.help"), source, h)?),
        None => None,
    };
    let requirement = match q.required.as_deref() {
        None => Some(Requirement::Optional),
        Some(r) => ctx.word(
            &format!("{path}.required"),
            "requirement",
            r,
            &[
                ("optional", Requirement::Optional),
                ("to-send", Requirement::ToSend),
                ("to-save", Requirement::ToSave),
            ],
            "optional, to-send, to-save",
        ),
    };
    let special_category = match q.special_category.as_deref() {
        None => Some(None),
        Some(s) => ctx
            .word(
                &format!("{path}.special_category"),
                "special category",
                s,
                &[
                    ("sanctions", SpecialCategory::Sanctions),
                    ("good-repute", SpecialCategory::GoodRepute),
                ],
                "sanctions, good-repute",
            )
            .map(Some),
    };
    if matches!(special_category, Some(Some(_))) && !q.personal_data {
        ctx.report(
            format!("{path}.special_category"),
            CatalogueIssue::SpecialCategoryWithoutPersonalData,
        );
        return None;
    }
    let type_code = ctx.word(
        &format!("{path}.type"),
        "answer type",
        &q.answer_type,
        TYPES,
        TYPE_NAMES,
    )?;
    let type_name = TYPES
        .iter()
        .find(|(_, c)| *c == type_code)
        .map_or("?", |(n, _)| *n);
    let misplaced = |ctx: &mut Ctx<'_>, field: &'static str, given: bool, allowed: &[u8]| {
        if given && !allowed.contains(&type_code) {
            ctx.report(
                format!("{path}.{field}"),
                CatalogueIssue::DoesNotApply {
                    field,
                    kind: type_name,
                },
            );
            true
        } else {
            false
        }
    };
    let bad_fields = [
        misplaced(ctx, "option", !q.options.is_empty(), &[1, 2]),
        misplaced(ctx, "min", q.min.is_some(), &[4]),
        misplaced(ctx, "max", q.max.is_some(), &[4]),
        misplaced(ctx, "integer", q.integer.is_some(), &[4]),
        misplaced(ctx, "max_length", q.max_length.is_some(), &[5]),
        misplaced(ctx, "max_files", q.max_files.is_some(), &[6]),
    ];
    if bad_fields.contains(&true) {
        return None;
    }
    let answer = match type_code {
        0 => AnswerType::YesNo,
        1 | 2 => {
            let options = load_options(ctx, path, source, &q.options)?;
            if type_code == 1 {
                AnswerType::SingleChoice { options }
            } else {
                AnswerType::MultipleChoice { options }
            }
        }
        3 => AnswerType::Date,
        4 => {
            // A bound must be a finite number: NaN would be ignored silently, and an
            // infinite one would refuse or allow every answer.
            for (field, bound) in [("min", q.min), ("max", q.max)] {
                if let Some(b) = bound
                    && !b.is_finite()
                {
                    ctx.report(
                        format!("{path}.{field}"),
                        CatalogueIssue::Syntax {
                            message: format!("`{field}` must be a finite number, not {b}"),
                        },
                    );
                    return None;
                }
            }
            if let (Some(min), Some(max)) = (q.min, q.max)
                && min > max
            {
                ctx.report(
                    format!("{path}.min"),
                    CatalogueIssue::MinAboveMax { min, max },
                );
                return None;
            }
            AnswerType::Number {
                min: q.min,
                max: q.max,
                integer: q.integer.unwrap_or(false),
            }
        }
        5 => {
            let max_length = ctx
                .range(
                    &format!("{path}.max_length"),
                    "max_length",
                    q.max_length.unwrap_or(4000),
                    1,
                    100_000,
                )
                .and_then(|v| u32::try_from(v).ok())?;
            AnswerType::FreeText { max_length }
        }
        _ => {
            let max_files = ctx
                .range(
                    &format!("{path}.max_files"),
                    "max_files",
                    q.max_files.unwrap_or(5),
                    1,
                    50,
                )
                .and_then(|v| u8::try_from(v).ok())?;
            AnswerType::Attachment { max_files }
        }
    };
    let show_if = match &q.show_if {
        None => Some(None),
        Some(c) if failed.contains(&c.question) => None,
        Some(c) => load_condition(ctx, &format!("{path}.show_if"), c, earlier).map(Some),
    };
    let answered_by = match q.answered_by.as_deref() {
        None => Some(Side::Requester),
        Some(s) => ctx.word(
            &format!("{path}.answered_by"),
            "side",
            s,
            &[
                ("requester", Side::Requester),
                ("responder", Side::Responder),
            ],
            "requester, responder",
        ),
    };
    Some(Question {
        answered_by: answered_by?,
        id: id?,
        label: label?,
        help,
        answer,
        requirement: requirement?,
        personal_data: q.personal_data,
        summary: q.summary,
        special_category: special_category?,
        show_if: show_if?,
    })
}

fn load_options(
    ctx: &mut Ctx<'_>,
    path: &str,
    source: Language,
    raw: &[OptionFile],
) -> Option<Vec<ChoiceOption>> {
    if raw.len() < 2 {
        ctx.report(format!("{path}.option"), CatalogueIssue::TooFewOptions);
        return None;
    }
    let mut ok = true;
    let mut seen = BTreeSet::new();
    let mut options = Vec::new();
    for (i, o) in raw.iter().enumerate() {
        let opath = format!("{path}.option[{i}]");
        if !seen.insert(o.id.as_str()) {
            ctx.report(
                format!("{opath}.id"),
                CatalogueIssue::Duplicate {
                    kind: "option",
                    id: o.id.clone(),
                    first: "an earlier option".into(),
                },
            );
            ok = false;
        }
        let id = ctx.id(&format!("{opath}.id"), &o.id);
        let label = ctx.text(&format!("{opath}.label"), source, &o.label);
        match (id, label) {
            (Some(id), Some(label)) => options.push(ChoiceOption { id, label }),
            _ => ok = false,
        }
    }
    ok.then_some(options)
}

fn load_condition(
    ctx: &mut Ctx<'_>,
    path: &str,
    c: &ConditionFile,
    earlier: &[Question],
) -> Option<Condition> {
    let Some(target) = earlier.iter().find(|q| q.id.as_str() == c.question) else {
        ctx.report(
            format!("{path}.question"),
            CatalogueIssue::ConditionNotEarlier {
                question: c.question.clone(),
            },
        );
        return None;
    };
    let when = match (&c.equals, &c.any_of, &target.answer) {
        (Some(word), None, AnswerType::YesNo) => ctx
            .word(
                &format!("{path}.equals"),
                "condition answer",
                word,
                &[("yes", true), ("no", false)],
                "yes, no",
            )
            .map(|yes| {
                if yes {
                    ConditionAnswer::Yes
                } else {
                    ConditionAnswer::No
                }
            })?,
        (
            None,
            Some(ids),
            AnswerType::SingleChoice { options } | AnswerType::MultipleChoice { options },
        ) => {
            let mut wanted = Vec::new();
            for (i, raw) in ids.iter().enumerate() {
                match options.iter().find(|o| o.id.as_str() == raw) {
                    Some(o) => wanted.push(o.id.clone()),
                    None => {
                        ctx.report(
                            format!("{path}.any_of[{i}]"),
                            CatalogueIssue::UnknownReference {
                                kind: "option",
                                id: raw.clone(),
                            },
                        );
                        return None;
                    }
                }
            }
            if wanted.is_empty() {
                ctx.report(
                    format!("{path}.any_of"),
                    CatalogueIssue::Empty("the option list"),
                );
                return None;
            }
            ConditionAnswer::AnyOf(wanted)
        }
        (Some(_), Some(_), _) | (None, None, _) => {
            ctx.report(path, CatalogueIssue::ConditionShape);
            return None;
        }
        (_, _, other) => {
            let expected = match other {
                AnswerType::YesNo => "`equals = \"yes\"` or `\"no\"`",
                AnswerType::SingleChoice { .. } | AnswerType::MultipleChoice { .. } => {
                    "`any_of = [options]`"
                }
                _ => "a yes-no or choice question",
            };
            ctx.report(
                path,
                CatalogueIssue::ConditionDoesNotFit {
                    question: c.question.clone(),
                    question_type: other.name(),
                    expected,
                },
            );
            return None;
        }
    };
    Some(Condition {
        question: target.id.clone(),
        when,
    })
}

impl Catalogue {
    /// Loads a catalogue from its files' text, checking everything: ids, languages,
    /// references between files, conditions, options, legal bounds. Returns every
    /// problem found, or the catalogue.
    pub fn load(sources: &[CatalogueSource]) -> Result<Catalogue, CatalogueErrors> {
        let mut problems = Vec::new();
        let mut catalogue = Catalogue::default();
        let mut area_files: BTreeMap<AreaId, String> = BTreeMap::new();
        let mut set_files: BTreeMap<(QuestionSetId, u32), String> = BTreeMap::new();
        let mut procedures: Vec<(Procedure, String, String)> = Vec::new();
        let mut translations = Vec::new();
        // Question sets already reported as broken: references to them are not reported again.
        let mut broken_sets: BTreeSet<String> = BTreeSet::new();
        let mut unreadable_set_file = false;
        for source in sources {
            let path = source.path.replace('\\', "/");
            let in_dir = |dir: &str, ext: &str| {
                path.starts_with(dir) && path.ends_with(ext) && !path[dir.len()..].contains('/')
            };
            if in_dir("areas/", ".toml") {
                let Some(file) = parse_toml::<AreaFile>(source, &mut problems) else {
                    continue;
                };
                let mut ctx = Ctx {
                    file: &source.path,
                    problems: &mut problems,
                };
                if let Some(area) = load_area(&mut ctx, file, &mut procedures) {
                    if let Some(first) = area_files.get(&area.id) {
                        ctx.report(
                            "id",
                            CatalogueIssue::Duplicate {
                                kind: "area",
                                id: area.id.to_string(),
                                first: first.clone(),
                            },
                        );
                    } else {
                        area_files.insert(area.id.clone(), source.path.clone());
                        catalogue.areas.insert(area.id.clone(), area);
                    }
                }
            } else if in_dir("question-sets/", ".toml") {
                let Some(file) = parse_toml::<QuestionSetFile>(source, &mut problems) else {
                    // Keep references to this set quiet: its own problem says what to fix.
                    match toml::from_str::<toml::Table>(&source.text)
                        .ok()
                        .and_then(|t| t.get("id").and_then(|v| v.as_str()).map(str::to_owned))
                    {
                        Some(id) => {
                            broken_sets.insert(id);
                        }
                        None => unreadable_set_file = true,
                    }
                    continue;
                };
                let mut ctx = Ctx {
                    file: &source.path,
                    problems: &mut problems,
                };
                let raw_id = file.id.clone();
                let loaded = load_question_set(&mut ctx, file);
                if loaded.is_none() {
                    broken_sets.insert(raw_id);
                }
                if let Some(set) = loaded {
                    let key = (set.id.clone(), set.version);
                    if let Some(first) = set_files.get(&key) {
                        ctx.report(
                            "version",
                            CatalogueIssue::Duplicate {
                                kind: "question set version",
                                id: format!("{} v{}", set.id, set.version),
                                first: first.clone(),
                            },
                        );
                    } else {
                        set_files.insert(key, source.path.clone());
                        catalogue
                            .question_sets
                            .entry(set.id.clone())
                            .or_default()
                            .insert(set.version, set);
                    }
                }
            } else if in_dir("translations/", ".xlf") {
                translations.push(source);
            } else {
                problems.push(CatalogueProblem {
                    file: source.path.clone(),
                    line: None,
                    path: String::new(),
                    issue: CatalogueIssue::UnknownLocation,
                });
            }
        }
        let mut proc_files: BTreeMap<ProcedureId, String> = BTreeMap::new();
        for (procedure, file, path) in procedures {
            let mut ctx = Ctx {
                file: &file,
                problems: &mut problems,
            };
            if !catalogue
                .question_sets
                .contains_key(&procedure.question_set)
            {
                if unreadable_set_file || broken_sets.contains(procedure.question_set.as_str()) {
                    continue;
                }
                ctx.report(
                    format!("{path}.question_set"),
                    CatalogueIssue::UnknownReference {
                        kind: "question set",
                        id: procedure.question_set.to_string(),
                    },
                );
                continue;
            }
            if let Some(first) = proc_files.get(&procedure.id) {
                ctx.report(
                    format!("{path}.id"),
                    CatalogueIssue::Duplicate {
                        kind: "procedure",
                        id: procedure.id.to_string(),
                        first: first.clone(),
                    },
                );
                continue;
            }
            proc_files.insert(procedure.id.clone(), file.clone());
            catalogue.procedures.insert(procedure.id.clone(), procedure);
        }
        for source in translations {
            super::xliff::apply(&mut catalogue, source, &mut problems);
        }
        if problems.is_empty() {
            Ok(catalogue)
        } else {
            Err(CatalogueErrors(problems))
        }
    }

    /// Merges `newer` into this catalogue: areas and procedures are replaced by their new
    /// definitions; question-set versions are added. A version that is already present
    /// must be identical, because open cases rely on it.
    pub fn merge(&mut self, newer: Catalogue) -> Result<(), CatalogueErrors> {
        let mut problems = Vec::new();
        for set in newer.question_sets() {
            if let Some(existing) = self.question_set(&set.id, set.version)
                && existing.structure() != set.structure()
            {
                problems.push(CatalogueProblem {
                    file: format!("question set {}", set.id),
                    line: None,
                    path: "version".into(),
                    issue: CatalogueIssue::PublishedVersionChanged {
                        id: set.id.to_string(),
                        version: set.version,
                    },
                });
            }
        }
        if !problems.is_empty() {
            return Err(CatalogueErrors(problems));
        }
        self.areas.extend(newer.areas);
        self.procedures.extend(newer.procedures);
        for (id, versions) in newer.question_sets {
            self.question_sets.entry(id).or_default().extend(versions);
        }
        Ok(())
    }
}
