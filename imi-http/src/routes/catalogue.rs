//! The catalogue: areas, procedures and question sets in the reader's language, and the
//! translation coverage report.

use axum::extract::{Path, State};
use axum::response::Response;
use imi_core::catalogue::{AnswerType, ConditionAnswer, QuestionSet, QuestionSetId, Requirement};
use serde::Serialize;
use utoipa::ToSchema;

use super::localised;
use crate::AppState;
use crate::dto::Text;
use crate::extract::{Caller, Reader, parse};
use crate::problem::Problem;

/// A legislative area.
#[derive(Serialize, ToSchema)]
pub(crate) struct AreaDto {
    id: String,
    name: Text,
    description: Option<Text>,
}

/// A procedure with its workflow parameters.
#[derive(Serialize, ToSchema)]
pub(crate) struct ProcedureDto {
    id: String,
    area: String,
    name: Text,
    /// `request`, `alert`, `notification` or `repository`.
    kind: &'static str,
    question_set: String,
    blocking_months: u8,
    rights: Vec<&'static str>,
    /// The workflow's parameters, as configured.
    #[schema(value_type = Object)]
    workflow: serde_json::Value,
}

/// An answer option.
#[derive(Serialize, ToSchema)]
pub(crate) struct OptionDto {
    id: String,
    label: Text,
}

/// A question, localised.
#[derive(Serialize, ToSchema)]
pub(crate) struct QuestionDto {
    id: String,
    label: Text,
    help: Option<Text>,
    /// The answer type (`yes-no`, `single-choice`, ...).
    #[serde(rename = "type")]
    answer_type: &'static str,
    /// `optional`, `to-send` or `to-save`.
    required: &'static str,
    personal_data: bool,
    special_category: Option<&'static str>,
    options: Vec<OptionDto>,
    /// `{ "question": id, "equals": "yes"|"no" }` or `{ "question": id, "any_of": [ids] }`.
    #[schema(value_type = Object)]
    show_if: Option<serde_json::Value>,
}

/// A group of questions.
#[derive(Serialize, ToSchema)]
pub(crate) struct GroupDto {
    id: String,
    title: Text,
    questions: Vec<QuestionDto>,
}

/// One version of a question set, localised.
#[derive(Serialize, ToSchema)]
pub(crate) struct QuestionSetDto {
    id: String,
    version: u32,
    title: Text,
    groups: Vec<GroupDto>,
}

/// Translation coverage of one language.
#[derive(Serialize, ToSchema)]
pub(crate) struct CoverageDto {
    language: &'static str,
    translated: usize,
    missing: usize,
}

fn question_set_dto(set: &QuestionSet, reader: &Reader) -> QuestionSetDto {
    let r = &reader.0;
    QuestionSetDto {
        id: set.id.to_string(),
        version: set.version,
        title: Text::of(&set.title, r),
        groups: set
            .groups
            .iter()
            .map(|g| GroupDto {
                id: g.id.to_string(),
                title: Text::of(&g.title, r),
                questions: g
                    .questions
                    .iter()
                    .map(|q| QuestionDto {
                        id: q.id.to_string(),
                        label: Text::of(&q.label, r),
                        help: q.help.as_ref().map(|h| Text::of(h, r)),
                        answer_type: q.answer.name(),
                        required: match q.requirement {
                            Requirement::Optional => "optional",
                            Requirement::ToSend => "to-send",
                            Requirement::ToSave => "to-save",
                        },
                        personal_data: q.personal_data,
                        special_category: q.special_category.map(|c| match c {
                            imi_core::catalogue::SpecialCategory::Sanctions => "sanctions",
                            imi_core::catalogue::SpecialCategory::GoodRepute => "good-repute",
                        }),
                        options: match &q.answer {
                            AnswerType::SingleChoice { options }
                            | AnswerType::MultipleChoice { options } => options
                                .iter()
                                .map(|o| OptionDto {
                                    id: o.id.to_string(),
                                    label: Text::of(&o.label, r),
                                })
                                .collect(),
                            _ => vec![],
                        },
                        show_if: q.show_if.as_ref().map(|c| match &c.when {
                            ConditionAnswer::Yes => {
                                serde_json::json!({"question": c.question, "equals": "yes"})
                            }
                            ConditionAnswer::No => {
                                serde_json::json!({"question": c.question, "equals": "no"})
                            }
                            ConditionAnswer::AnyOf(ids) => {
                                serde_json::json!({"question": c.question, "any_of": ids})
                            }
                        }),
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// Every legislative area.
#[utoipa::path(get, path = "/v1/catalogue/areas", tag = "catalogue", responses((status = 200, body = Vec<AreaDto>), (status = 401, body = Problem)))]
pub(crate) async fn areas(
    State(state): State<AppState>,
    _caller: Caller,
    reader: Reader,
) -> Response {
    let c = state.engine.catalogue();
    let out: Vec<AreaDto> = c
        .areas()
        .map(|a| AreaDto {
            id: a.id.to_string(),
            name: Text::of(&a.name, &reader.0),
            description: a.description.as_ref().map(|d| Text::of(d, &reader.0)),
        })
        .collect();
    localised(&reader, out)
}

/// Every procedure.
#[utoipa::path(get, path = "/v1/catalogue/procedures", tag = "catalogue", responses((status = 200, body = Vec<ProcedureDto>), (status = 401, body = Problem)))]
pub(crate) async fn procedures(
    State(state): State<AppState>,
    _caller: Caller,
    reader: Reader,
) -> Response {
    let c = state.engine.catalogue();
    let out: Vec<ProcedureDto> = c
        .procedures()
        .map(|p| ProcedureDto {
            id: p.id.to_string(),
            area: p.area.to_string(),
            name: Text::of(&p.name, &reader.0),
            kind: p.workflow.kind().name(),
            question_set: p.question_set.to_string(),
            blocking_months: p.blocking.months(),
            rights: p.rights.iter().map(|r| r.name()).collect(),
            workflow: serde_json::to_value(&p.workflow).unwrap_or_default(),
        })
        .collect();
    localised(&reader, out)
}

/// The newest version of a question set, in the reader's language.
#[utoipa::path(get, path = "/v1/catalogue/question-sets/{id}", tag = "catalogue", params(("id" = String, Path, description = "question set id")), responses((status = 200, body = QuestionSetDto), (status = 404, body = Problem)))]
pub(crate) async fn question_set(
    State(state): State<AppState>,
    _caller: Caller,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id: QuestionSetId = parse("question set id", &id)?;
    let c = state.engine.catalogue();
    let set = c
        .latest_question_set(&id)
        .ok_or_else(|| Problem::not_found(format!("question set {id} does not exist")))?;
    Ok(localised(&reader, question_set_dto(set, &reader)))
}

/// One version of a question set, in the reader's language.
#[utoipa::path(get, path = "/v1/catalogue/question-sets/{id}/versions/{version}", tag = "catalogue", params(("id" = String, Path), ("version" = u32, Path)), responses((status = 200, body = QuestionSetDto), (status = 404, body = Problem)))]
pub(crate) async fn question_set_version(
    State(state): State<AppState>,
    _caller: Caller,
    reader: Reader,
    Path((id, version)): Path<(String, String)>,
) -> Result<Response, Problem> {
    let id: QuestionSetId = parse("question set id", &id)?;
    let version: u32 = parse("version", &version)?;
    let c = state.engine.catalogue();
    let set = c.question_set(&id, version).ok_or_else(|| {
        Problem::not_found(format!("question set {id} v{version} does not exist"))
    })?;
    Ok(localised(&reader, question_set_dto(set, &reader)))
}

/// Translation coverage per language.
#[utoipa::path(get, path = "/v1/catalogue/coverage", tag = "catalogue", responses((status = 200, body = Vec<CoverageDto>)))]
pub(crate) async fn coverage(
    State(state): State<AppState>,
    _caller: Caller,
) -> axum::Json<Vec<CoverageDto>> {
    let report = state.engine.catalogue().coverage();
    axum::Json(
        report
            .languages
            .iter()
            .map(|c| CoverageDto {
                language: c.language.code(),
                translated: c.translated,
                missing: c.missing.len(),
            })
            .collect(),
    )
}
