//! Health, readiness, and the fixed vocabularies: languages and countries.

use axum::Json;
use axum::extract::State;
use imi_core::{Country, Language, Participant};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::problem::Problem;

/// A language IMI works in.
#[derive(Serialize, ToSchema)]
pub(crate) struct LanguageDto {
    /// ISO 639-1 code.
    code: &'static str,
    /// English name.
    name: &'static str,
}

/// A participant: one of the 30 EEA countries, or the Commission.
#[derive(Serialize, ToSchema)]
pub(crate) struct CountryDto {
    /// Code (`EL` for Greece, `EC` for the Commission).
    code: &'static str,
    /// English name.
    name: &'static str,
    /// Official IMI languages of the country.
    languages: Vec<&'static str>,
    /// Whether it is an EU member state.
    eu_member: bool,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "meta", responses((status = 200, description = "alive")))]
pub(crate) async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the store answers reads.
#[utoipa::path(get, path = "/readyz", tag = "meta", responses((status = 200, description = "ready"), (status = 503, body = Problem)))]
pub(crate) async fn readyz(State(state): State<AppState>) -> Result<&'static str, Problem> {
    if let Err(e) = state.engine.store().get(b"\x00readiness").await {
        tracing::warn!(error = %e, "not ready: the store does not answer");
        return Err(Problem::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "not-ready",
            "Not ready",
            "the store does not answer; try again later",
        ));
    }
    Ok("ready")
}

/// The 26 languages.
#[utoipa::path(get, path = "/v1/languages", tag = "meta", responses((status = 200, body = Vec<LanguageDto>)))]
pub(crate) async fn languages() -> Json<Vec<LanguageDto>> {
    Json(
        Language::ALL
            .iter()
            .map(|l| LanguageDto {
                code: l.code(),
                name: l.english_name(),
            })
            .collect(),
    )
}

/// The 30 countries and the Commission.
#[utoipa::path(get, path = "/v1/countries", tag = "meta", responses((status = 200, body = Vec<CountryDto>)))]
pub(crate) async fn countries() -> Json<Vec<CountryDto>> {
    let mut out: Vec<CountryDto> = Country::ALL
        .iter()
        .map(|c| CountryDto {
            code: c.code(),
            name: c.english_name(),
            languages: c.official_languages().iter().map(|l| l.code()).collect(),
            eu_member: c.is_eu_member(),
        })
        .collect();
    out.push(CountryDto {
        code: Participant::Commission.code(),
        name: "European Commission",
        languages: vec!["en", "fr", "de"],
        eu_member: false,
    });
    Json(out)
}
