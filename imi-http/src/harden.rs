//! What every response gets, whatever produced it: security headers, and errors as RFC
//! 9457 problem documents (also those made by axum or tower before any handler ran:
//! a path that does not decode, a timeout, an unknown method).

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::problem::Problem;

/// The headers set on every response that does not set its own.
const SECURITY_HEADERS: [(&str, &str); 5] = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    (
        "content-security-policy",
        "default-src 'none'; frame-ancestors 'none'",
    ),
    ("cross-origin-opener-policy", "same-origin"),
];

/// The middleware: runs the request, turns a non-problem error into a problem document,
/// and adds the security headers (and `Cache-Control: no-store` to answers given to a
/// signed-in caller, which shared caches must not keep).
pub(crate) async fn harden(request: Request, next: Next) -> Response {
    let signed_in = request.headers().contains_key(header::AUTHORIZATION)
        || request.headers().contains_key("x-submission-secret");
    let read = request.method() == axum::http::Method::GET;
    let if_none_match = request.headers().get(header::IF_NONE_MATCH).cloned();
    let mut response = next.run(request).await;
    if read && let Some(wanted) = if_none_match {
        response = not_modified(response, &wanted);
    }
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if (status.is_client_error() || status.is_server_error()) && !is_problem {
        response = as_problem(response).await;
    }
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        if !headers.contains_key(name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    if signed_in && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// A conditional read (`If-None-Match`) of a representation the client has already:
/// `304 Not Modified` with the response's validators and no body.
fn not_modified(response: Response, wanted: &HeaderValue) -> Response {
    let Some(etag) = response.headers().get(header::ETAG) else {
        return response;
    };
    if !response.status().is_success() {
        return response;
    }
    let current = etag.as_bytes();
    // Weak comparison (RFC 9110 §13.1.2): `W/` prefixes do not count.
    let strip = |t: &[u8]| -> Vec<u8> { t.strip_prefix(b"W/").unwrap_or(t).to_vec() };
    let matches = wanted.to_str().is_ok_and(|w| {
        w.trim() == "*"
            || w.split(',')
                .any(|t| strip(t.trim().as_bytes()) == strip(current))
    });
    if !matches {
        return response;
    }
    let mut out = StatusCode::NOT_MODIFIED.into_response();
    for name in [
        header::ETAG,
        header::CACHE_CONTROL,
        header::CONTENT_LANGUAGE,
        header::VARY,
    ] {
        if let Some(v) = response.headers().get(&name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    out
}

/// The same error as a problem document, keeping the headers that matter to a client
/// (`Allow`, `Retry-After`, `WWW-Authenticate`).
async fn as_problem(response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 8 * 1024)
        .await
        .ok()
        .and_then(|b| String::from_utf8(b.to_vec()).ok())
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty());
    let status = parts.status;
    let (code, title, fallback) = match status {
        StatusCode::BAD_REQUEST => ("bad-request", "Bad request", "the request is malformed"),
        StatusCode::UNAUTHORIZED => (
            "unauthenticated",
            "Unauthenticated",
            "this needs a valid credential",
        ),
        StatusCode::NOT_FOUND => ("not-found", "Not found", "there is nothing at this address"),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method-not-allowed",
            "Method not allowed",
            "this address does not accept that method",
        ),
        StatusCode::REQUEST_TIMEOUT => (
            "timeout",
            "Request timeout",
            "the request took too long and was stopped; nothing was changed unless a later read shows it",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => {
            ("too-large", "Payload too large", "the body is too large")
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported-media-type",
            "Unsupported media type",
            "the body's media type is not accepted here",
        ),
        StatusCode::TOO_MANY_REQUESTS => (
            "too-many-requests",
            "Too many requests",
            "slow down and try again later",
        ),
        s if s.is_server_error() => (
            "internal",
            "Internal error",
            "the server could not complete the request",
        ),
        _ => ("bad-request", "Bad request", "the request was refused"),
    };
    // Server errors never show their internals.
    let detail = match text {
        Some(t) if status.is_client_error() => t,
        _ => fallback.to_owned(),
    };
    let mut out = Problem::new(status, code, title, detail).into_response();
    for name in [header::ALLOW, header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
        if let Some(v) = parts.headers.get(&name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    if let Some(id) = parts.headers.get("x-request-id") {
        out.headers_mut().insert("x-request-id", id.clone());
    }
    out
}
