//! Errors as RFC 9457 `application/problem+json` documents, mapped in one place.
//!
//! Every problem has a stable machine-readable `code`, a `title`, the HTTP `status` and a
//! human `detail`. Internal failures never show internals: they are logged (with the
//! request id in the span) where they are converted, and the client sees a generic text.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use imi_core::EngineError;
use imi_core::workflow::TransitionError;
use serde::Serialize;
use utoipa::ToSchema;

/// A problem document (RFC 9457).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem: `urn:imi:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind of problem.
    pub title: &'static str,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this case, for people.
    pub detail: String,
    /// A stable code for programs (`forbidden`, `not-found`, `invalid-input`, ...).
    pub code: &'static str,
    /// Details per field or question, when there are several problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

/// One of several problems: where, and what.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldProblem {
    /// The field, question or file concerned.
    pub at: String,
    /// What is wrong there.
    pub detail: String,
}

impl Problem {
    /// A problem with a status, code, title and detail.
    pub fn new(
        status: StatusCode,
        code: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            kind: format!("urn:imi:problem:{code}"),
            title,
            status: status.as_u16(),
            detail: detail.into(),
            code,
            errors: Vec::new(),
        }
    }

    /// 400: the request is malformed.
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, "Bad request", detail)
    }

    /// 401: no valid credentials.
    pub fn unauthenticated(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Not authenticated",
            detail,
        )
    }

    /// 404: nothing at this address.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let mut response = (status, axum::Json(self)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        headers.insert(header::CONTENT_LANGUAGE, HeaderValue::from_static("en"));
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<EngineError> for Problem {
    fn from(e: EngineError) -> Self {
        use StatusCode as S;
        let detail = e.to_string();
        let p = |s, code, title| Problem::new(s, code, title, detail.clone());
        match &e {
            EngineError::Denied(_) => p(S::FORBIDDEN, "forbidden", "Forbidden"),
            EngineError::Unauthenticated => Problem::unauthenticated(detail.clone()),
            EngineError::NotFound { .. } => p(S::NOT_FOUND, "not-found", "Not found"),
            EngineError::InvalidWebhook(imi_core::webhook::WebhookError::TooMany { .. }) => {
                p(S::CONFLICT, "too-many-webhooks", "Too many webhooks")
            }
            EngineError::InvalidWebhook(imi_core::webhook::WebhookError::NoKey) => {
                p(S::SERVICE_UNAVAILABLE, "unavailable", "Service unavailable")
            }
            EngineError::InvalidAuthority(_)
            | EngineError::InvalidWebhook(_)
            | EngineError::InvitationMismatch { .. }
            | EngineError::NotACountry
            | EngineError::BadGrant { .. }
            | EngineError::QueryTooBroad { .. } => {
                p(S::UNPROCESSABLE_ENTITY, "invalid-input", "Invalid input")
            }
            EngineError::InvalidAnswers(errors) => Problem {
                errors: errors
                    .0
                    .iter()
                    .map(|a| FieldProblem {
                        at: a.question.to_string(),
                        detail: a.problem.to_string(),
                    })
                    .collect(),
                ..p(
                    S::UNPROCESSABLE_ENTITY,
                    "invalid-answers",
                    "Invalid answers",
                )
            },
            EngineError::Catalogue(errors) => Problem {
                errors: errors
                    .0
                    .iter()
                    .map(|c| FieldProblem {
                        at: format!("{}:{}", c.file, c.path),
                        detail: c.issue.to_string(),
                    })
                    .collect(),
                ..p(
                    S::UNPROCESSABLE_ENTITY,
                    "invalid-catalogue",
                    "Invalid catalogue",
                )
            },
            EngineError::Page(_) => p(S::BAD_REQUEST, "bad-page", "Bad page request"),
            EngineError::Transition(t) => match t {
                // `TransitionError` is non-exhaustive: a refusal of a kind added later
                // is still the caller's input that did not fit.
                TransitionError::IllegalInStage { .. } => p(
                    S::CONFLICT,
                    "invalid-state",
                    "Not possible in the current state",
                ),
                TransitionError::WrongParty { .. } => p(S::FORBIDDEN, "forbidden", "Forbidden"),
                TransitionError::Answers(errors) => Problem {
                    errors: errors
                        .0
                        .iter()
                        .map(|a| FieldProblem {
                            at: a.question.to_string(),
                            detail: a.problem.to_string(),
                        })
                        .collect(),
                    ..p(
                        S::UNPROCESSABLE_ENTITY,
                        "invalid-answers",
                        "Invalid answers",
                    )
                },
                TransitionError::Invalid { .. } => {
                    p(S::UNPROCESSABLE_ENTITY, "invalid-input", "Invalid input")
                }
                _ => p(S::UNPROCESSABLE_ENTITY, "invalid-input", "Invalid input"),
            },
            EngineError::InvalidState(_) => p(
                S::CONFLICT,
                "invalid-state",
                "Not possible in the current state",
            ),
            EngineError::LikelyDuplicate { candidates } => Problem {
                errors: candidates
                    .iter()
                    .map(|c| FieldProblem {
                        at: c.to_string(),
                        detail: "an authority with the same name".into(),
                    })
                    .collect(),
                ..p(S::CONFLICT, "likely-duplicate", "Likely duplicate")
            },
            EngineError::InvitationInvalid => {
                p(S::FORBIDDEN, "invitation-invalid", "Invitation not valid")
            }
            EngineError::NationalCoordinatorExists { .. } => p(
                S::CONFLICT,
                "coordinator-exists",
                "National coordinator exists",
            ),
            EngineError::Conflict(_) => Problem::new(
                S::CONFLICT,
                "conflict",
                "Conflict",
                "the data changed while the request ran; re-read and retry",
            ),
            EngineError::Attachment(a) => match a {
                imi_core::attachment::AttachmentError::TooLarge { .. } => {
                    p(S::PAYLOAD_TOO_LARGE, "too-large", "Payload too large")
                }
                imi_core::attachment::AttachmentError::MediaType(_) => p(
                    S::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported-media-type",
                    "Unsupported media type",
                ),
                _ => p(
                    S::UNPROCESSABLE_ENTITY,
                    "invalid-attachment",
                    "Invalid attachment",
                ),
            },
            EngineError::TranslationUnavailable => p(
                S::SERVICE_UNAVAILABLE,
                "translation-unavailable",
                "Translation unavailable",
            ),
            EngineError::Translation(_) => {
                p(S::BAD_GATEWAY, "translation-failed", "Translation failed")
            }
            EngineError::NobodyToReceive { .. } => p(
                S::UNPROCESSABLE_ENTITY,
                "nobody-to-receive",
                "Nobody to receive it",
            ),
            EngineError::Token(imi_core::user::TokenError::TooMany { .. }) => {
                p(S::CONFLICT, "too-many-tokens", "Too many tokens")
            }
            EngineError::Token(_) => p(S::UNPROCESSABLE_ENTITY, "invalid-input", "Invalid input"),
            EngineError::Randomness(_) => {
                tracing::error!(error = %e, "no randomness for a secret");
                Problem::new(
                    S::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "Service unavailable",
                    "the server cannot make secrets right now; try again later",
                )
            }
            EngineError::VersionMismatch { .. } => p(
                S::PRECONDITION_FAILED,
                "precondition-failed",
                "Precondition failed",
            ),
            _ => {
                tracing::error!(error = %e, "internal failure");
                Problem::new(
                    S::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Internal error",
                    "the server could not complete the request",
                )
            }
        }
    }
}
