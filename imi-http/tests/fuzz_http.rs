//! Property-based fuzzing of the whole HTTP router, in process: random sequences of
//! requests built from the real route templates (read from `imi_http::openapi()`), with
//! garbage, percent-encoded, huge and real segments, random query strings, random
//! headers (`Authorization`, `Accept-Language`, `If-Match`, `Content-Type`,
//! `X-Submission-Secret`, `Content-Length`) and random bodies (garbage bytes, huge and
//! deeply nested JSON, near-valid commands). Most requests are near-valid: right in
//! every respect (a route of the world's kind, a method it serves, real ids, a valid
//! token, a body that fits the route) but one, so they get past routing and
//! authentication into the handlers.
//!
//! Each case runs against a fresh small world: the shared request fixture (plus a draft
//! request and a Danish administrator and national coordinator), or the conformance
//! suite's alert, notification, public-submission or repository world, each with a
//! real case of its kind.
//!
//! Properties: the router never panics and never answers 5xx (503 only from the
//! translation routes, as no translator is configured); every answer of 400 or more is
//! an `application/problem+json` document whose `status` is the HTTP status; every
//! answer carries `X-Content-Type-Options: nosniff`.
//!
//! Cases: 200, or `IMI_FUZZ_CASES` for a long run, e.g.
//! `IMI_FUZZ_CASES=5000 cargo test --release -p imi-http --test fuzz_http`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should panic

mod common;

use std::fmt::Write as _;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use imi_core::catalogue::{AnswerValue, Answers, ProcedureId, Right};
use imi_core::conformance::alert_world_with;
use imi_core::repository::Audience;
use imi_core::webhook::SecretKey;
use imi_core::{
    AuthorityId, Country, Engine, Language, NewSubmission, access::Actor,
    authority::CoordinatorRole, store::MemoryStore, user::Grant, user::GrantScope, user::NewUser,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::TestCaseError;
use serde_json::{Value, json};
use tower::ServiceExt;

// ---------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------

/// Cases: `IMI_FUZZ_CASES`, or 200.
fn cases() -> u32 {
    std::env::var("IMI_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        // Only this file may be created: no `.proptest-regressions` next to it.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------
// The worlds: the shared request fixture, or one of the conformance suite's worlds, each
// with a real case
// ---------------------------------------------------------------------------------------

struct World {
    app: axum::Router,
    /// Valid bearer tokens of the world's users.
    tokens: Vec<String>,
    /// The world's case (request, alert, notification, submission or record).
    case: String,
    /// Authorities and users of the world.
    authorities: Vec<String>,
    users: Vec<String>,
    /// The procedure (and question set) of the world's case.
    procedure: String,
    /// The public submission's secret, in the submission world.
    secret: Option<String>,
    /// The route prefixes of the world's kind of case.
    prefixes: &'static [&'static str],
}

fn user_of(actor: &Actor) -> (String, String) {
    match actor {
        Actor::User(p) => (p.user().to_string(), p.authority().to_string()),
        _ => panic!("a user"),
    }
}

/// The router over a conformance world's engine, with the webhook-secret key the
/// shared fixture configures too (without one, registering a webhook is a deliberate
/// 503, like translating without a translator).
fn over(engine: Engine) -> axum::Router {
    let engine = engine.with_secret_key(SecretKey::from_bytes([7; 32]));
    common::Api::over(Arc::new(engine)).app
}

async fn tokens(engine: &Engine, actors: &[&Actor]) -> Vec<String> {
    let mut out = Vec::new();
    for a in actors {
        out.push(common::token(engine, a).await);
    }
    out
}

/// The shared fixture (a Danish and a French handler), a draft request, and a Danish
/// administrator who is also the national coordinator.
async fn request_world() -> World {
    let api = common::setup().await;
    let (_, _, me) = api.get("/v1/me", &api.dk).await;
    let dk_user = me["id"].as_str().unwrap().to_owned();
    let dk_authority = me["authority"].as_str().unwrap().to_owned();
    let (_, _, draft) = api
        .post("/v1/requests", &api.dk, json!({ "procedure": "diploma" }))
        .await;
    let request = draft["id"].as_str().unwrap().to_owned();
    let authority: AuthorityId = dk_authority.parse().unwrap();
    let engine = &api.engine;
    engine
        .appoint_coordinator(&Actor::System, authority, Some(CoordinatorRole::National))
        .await
        .unwrap();
    let admin = engine
        .create_user(
            &Actor::System,
            authority,
            NewUser {
                name: "Admin".into(),
                email: "admin@x.eu".parse().unwrap(),
                language: Language::Danish,
            },
        )
        .await
        .unwrap();
    engine
        .set_grants(
            &Actor::System,
            admin.id(),
            vec![
                Grant::new(Right::Administrator, GrantScope::Everything),
                Grant::new(Right::ReferralHandler, GrantScope::Everything),
                Grant::new(Right::Allocator, GrantScope::Everything),
                Grant::new(Right::RequestHandler, GrantScope::Everything),
            ],
        )
        .await
        .unwrap();
    let actor = engine.actor_for(admin.id()).await.unwrap();
    let admin_token = common::token(engine, &actor).await;
    World {
        tokens: vec![api.dk.clone(), api.fr.clone(), admin_token],
        case: request,
        authorities: vec![dk_authority, api.fr_authority.clone()],
        users: vec![dk_user, admin.id().to_string()],
        procedure: "diploma".into(),
        secret: None,
        prefixes: &[
            "/v1/requests",
            "/v1/inbox",
            "/v1/data-subjects",
            "/v1/authorities",
        ],
        app: api.app,
    }
}

/// A Danish alert draft; French and German coordinators and handlers.
async fn alert_world() -> World {
    let w = alert_world_with(
        Arc::new(MemoryStore::new()),
        &[Country::France, Country::Germany],
        1,
    )
    .await;
    let procedure: ProcedureId = "pq-alert".parse().unwrap();
    let alert = w.engine.create_alert(&w.sender, &procedure).await.unwrap();
    let fr = &w.countries[0];
    let actors = [&w.sender, &w.outgoing, &fr.coordinator, &fr.handlers[0].0];
    let (users, mut authorities): (Vec<_>, Vec<_>) = actors.iter().map(|a| user_of(a)).unzip();
    authorities.push(fr.handlers[0].1.to_string());
    let tokens = tokens(&w.engine, &actors).await;
    World {
        app: over(w.engine),
        tokens,
        case: alert.case.id.to_string(),
        authorities,
        users,
        procedure: "pq-alert".into(),
        secret: None,
        prefixes: &["/v1/alerts", "/v1/alert-networks"],
    }
}

/// A Danish notification draft; French, German and Commission recipients.
async fn notification_world() -> World {
    let w = imi_core::conformance::notification_world(Arc::new(MemoryStore::new())).await;
    let procedure: ProcedureId = "diplomas".parse().unwrap();
    let notification = w
        .engine
        .create_notification(&w.sender, &procedure)
        .await
        .unwrap();
    let actors = [&w.sender, &w.recipients[0].1, &w.outsider, &w.without_right];
    let (users, authorities): (Vec<_>, Vec<_>) = actors.iter().map(|a| user_of(a)).unzip();
    let tokens = tokens(&w.engine, &actors).await;
    World {
        app: over(w.engine),
        tokens,
        case: notification.id.to_string(),
        authorities,
        users,
        procedure: "diplomas".into(),
        secret: None,
        prefixes: &["/v1/notifications"],
    }
}

/// A public submission to a French authority, and that authority's handlers.
async fn submission_world() -> World {
    let w = imi_core::conformance::submission_world(Arc::new(MemoryStore::new())).await;
    let mut answers = Answers::new();
    answers.set(
        "applicant".parse().unwrap(),
        AnswerValue::Text("Ana Pereira Sousa".into()),
    );
    answers.set(
        "profession".parse().unwrap(),
        AnswerValue::Text("Nurse".into()),
    );
    let receipt = w
        .engine
        .submit(NewSubmission {
            procedure: "recognition".parse().unwrap(),
            authority: w.authority,
            language: Language::Danish,
            answers,
        })
        .await
        .unwrap();
    let actors = [&w.handler, &w.viewer, &w.other_handler];
    let (users, mut authorities): (Vec<_>, Vec<_>) = actors.iter().map(|a| user_of(a)).unzip();
    authorities.push(w.other_authority.to_string());
    let tokens = tokens(&w.engine, &actors).await;
    let app = over(w.engine);
    // The submission's id, as its authority lists it.
    let request = Request::builder()
        .uri("/v1/submissions")
        .header(header::AUTHORIZATION, format!("Bearer {}", tokens[0]))
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let list: Value = serde_json::from_slice(&bytes).unwrap();
    let case = list["items"][0]["id"].as_str().unwrap().to_owned();
    World {
        app,
        tokens,
        case,
        authorities,
        users,
        procedure: "recognition".into(),
        secret: Some(receipt.secret.expose().to_owned()),
        prefixes: &["/v1/submissions", "/v1/public/submission"],
    }
}

/// A French record of a repository, and its editor and viewers.
async fn repository_world() -> World {
    let w = imi_core::conformance::repository_world(Arc::new(MemoryStore::new())).await;
    let mut fields = Answers::new();
    fields.set(
        "holder".parse().unwrap(),
        AnswerValue::Text("Brinks France SAS".into()),
    );
    fields.set(
        "licence".parse().unwrap(),
        AnswerValue::Text("FR-2024-117".into()),
    );
    let (record, _) = w
        .engine
        .create_record(
            &w.editor,
            &"cash-licences".parse().unwrap(),
            fields,
            Audience::Area,
        )
        .await
        .unwrap();
    let actors = [&w.editor, &w.viewer, &w.outsider, &w.without_right];
    let (users, authorities): (Vec<_>, Vec<_>) = actors.iter().map(|a| user_of(a)).unzip();
    let tokens = tokens(&w.engine, &actors).await;
    World {
        app: over(w.engine),
        tokens,
        case: record.id.to_string(),
        authorities,
        users,
        procedure: "cash-licences".into(),
        secret: None,
        prefixes: &["/v1/records", "/v1/repositories"],
    }
}

async fn world(kind: usize) -> World {
    match kind {
        0 => request_world().await,
        1 => alert_world().await,
        2 => notification_world().await,
        3 => submission_world().await,
        _ => repository_world().await,
    }
}

impl World {
    /// Every real value, for random segments and query values.
    fn values(&self) -> Vec<String> {
        let mut out = vec![self.case.clone(), self.procedure.clone()];
        out.extend(self.authorities.iter().cloned());
        out.extend(self.users.iter().cloned());
        out.extend(["pq", "DK", "FR", "EC", "1", "0"].map(str::to_owned));
        out
    }

    /// Replaces the placeholders of a body seed with this world's values.
    fn fill(&self, text: &str) -> String {
        text.replace("@CASE@", &self.case)
            .replace("@PROC@", &self.procedure)
            .replace("@A0@", &self.authorities[0])
            .replace("@A1@", &self.authorities[1])
            .replace("@U0@", &self.users[0])
    }
}

// ---------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------

/// The route templates and the methods each serves, from the OpenAPI document, plus a
/// few addresses that are not routes.
fn routes() -> Vec<(String, Vec<&'static str>)> {
    let mut out: Vec<(String, Vec<&'static str>)> = imi_http::openapi()
        .paths
        .paths
        .into_iter()
        .map(|(path, item)| {
            let methods = [
                ("GET", item.get.is_some()),
                ("POST", item.post.is_some()),
                ("PUT", item.put.is_some()),
                ("PATCH", item.patch.is_some()),
                ("DELETE", item.delete.is_some()),
            ]
            .into_iter()
            .filter_map(|(m, served)| served.then_some(m))
            .collect();
            (path, methods)
        })
        .collect();
    assert!(out.len() > 50, "the OpenAPI document lists the routes");
    for extra in [
        "/openapi.json",
        "/",
        "/v1",
        "/v1/",
        "//v1//requests",
        "/v1/public/",
    ] {
        out.push((extra.to_owned(), vec!["GET"]));
    }
    out
}

const METHODS: &[&str] = &[
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "FOO", "get",
];

/// A path segment or query value.
#[derive(Debug, Clone)]
enum Seg {
    /// One of the world's real values.
    World(Index),
    /// A literal, sent as is (it may be an invalid escape).
    Literal(&'static str),
    /// Text, percent-encoded as UTF-8.
    Text(String),
    /// Bytes, percent-encoded (often not UTF-8).
    Bytes(Vec<u8>),
    /// A long run of one character.
    Huge(usize),
    /// A UUID of any version (an id of nothing).
    Uuid(u128, bool),
}

const SEGMENTS: &[&str] = &[
    "",
    ".",
    "..",
    "%",
    "%zz",
    "%00",
    "%2F",
    "%2e%2e",
    "%FF",
    "%C0%AF",
    "-1",
    "0",
    "18446744073709551616",
    "4294967296",
    "65536",
    "abc",
    "DK",
    "dk",
    "EC",
    "GR",
    "XX",
    "diploma",
    "pq",
    "2026-000001",
    "2026-0",
    "00000000-0000-0000-0000-000000000000",
    "ffffffff-ffff-ffff-ffff-ffffffffffff",
    "imi_",
    "true",
    "null",
    "%20",
    "+",
    ";",
    "a;b=c",
    "~",
    "*",
    "1.5",
    "1e3",
    "0x10",
    "00ff",
    "zz",
];

fn segment() -> impl Strategy<Value = Seg> {
    prop_oneof![
        4 => any::<Index>().prop_map(Seg::World),
        3 => select(SEGMENTS).prop_map(Seg::Literal),
        2 => "\\PC{0,16}".prop_map(Seg::Text),
        1 => any::<String>().prop_map(Seg::Text),
        2 => vec(any::<u8>(), 0..24).prop_map(Seg::Bytes),
        1 => prop_oneof![Just(300usize), Just(5000), 0..20_000usize].prop_map(Seg::Huge),
        2 => (any::<u128>(), any::<bool>()).prop_map(|(b, v7)| Seg::Uuid(b, v7)),
    ]
}

fn percent_encode(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut out, b| {
        if b.is_ascii_alphanumeric() || b"-._~".contains(b) {
            out.push(char::from(*b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
        out
    })
}

fn render(seg: &Seg, world: &World) -> String {
    match seg {
        Seg::World(i) => {
            let values = world.values();
            values[i.index(values.len())].clone()
        }
        Seg::Literal(s) => (*s).to_owned(),
        Seg::Text(s) => percent_encode(s.as_bytes()),
        Seg::Bytes(b) => percent_encode(b),
        Seg::Huge(n) => "a".repeat(*n),
        Seg::Uuid(bits, v7) => {
            let version: u128 = if *v7 { 7 } else { 4 };
            let cleared = bits & !(0xF << 76) & !(0b11 << 62);
            uuid::Uuid::from_u128(cleared | (version << 76) | (0b10 << 62)).to_string()
        }
    }
}

/// A real value that fits the parameter `name` of `template`.
fn fitting(template: &str, name: &str, world: &World, i: &Index) -> String {
    let pick = |choices: &[String]| choices[i.index(choices.len())].clone();
    let authority = |t: &str| t.starts_with("/v1/authorities/");
    match name {
        "procedure" => world.procedure.clone(),
        "country" => ["DK", "FR", "DE"][i.index(3)].to_owned(),
        "version" => "1".into(),
        "seq" => i.index(3).to_string(),
        _ if authority(template) => pick(&world.authorities),
        _ if template.starts_with("/v1/users/") => pick(&world.users),
        _ if template.starts_with("/v1/catalogue/") => world.procedure.clone(),
        _ => world.case.clone(),
    }
}

const SUFFIXES: &[&str] = &["", "", "", "", "", "/", "//", "/x", "/..", "/%2e%2e/", ";x"];

const QUERY_KEYS: &[&str] = &[
    "limit",
    "cursor",
    "q",
    "country",
    "area",
    "procedure",
    "language",
    "region",
    "competence",
    "side",
    "stage",
    "box",
    "text",
    "since",
    "from",
    "to",
    "until",
    "name",
    "media_type",
    "identifiers",
    "include_retired",
    "allocated_to_me",
    "waiting_for_me",
    "which",
    "topic",
    "after",
    "lang",
    "",
    "limit[]",
    "%zz",
];

const QUERY_VALUES: &[&str] = &[
    "",
    "0",
    "1",
    "50",
    "500",
    "501",
    "-1",
    "99999999999999999999",
    "abc",
    "true",
    "yes",
    "DK",
    "da",
    "xx",
    "2026-01-01",
    "2026-13-45",
    "2026-11-22T09:00:00Z",
    "00ff",
    "zz",
    "%",
    "%zz",
    "+",
    "a+b",
    "request-received",
    "requester",
    "responder",
    "inbox",
    "outbox",
    "application/pdf",
    "a.pdf",
    "../etc/passwd",
    "%00",
];

#[derive(Debug, Clone)]
enum Query {
    None,
    Pairs(Vec<(&'static str, Option<Seg>)>),
    Raw(Vec<u8>),
}

fn query() -> impl Strategy<Value = Query> {
    let value = prop_oneof![
        3 => select(QUERY_VALUES).prop_map(Seg::Literal),
        2 => segment(),
    ];
    prop_oneof![
        3 => Just(Query::None),
        6 => vec((select(QUERY_KEYS), prop::option::weighted(0.9, value)), 1..5)
            .prop_map(Query::Pairs),
        1 => vec(any::<u8>(), 0..48).prop_map(Query::Raw),
    ]
}

fn render_query(q: &Query, world: &World) -> String {
    match q {
        Query::None => String::new(),
        Query::Pairs(pairs) => {
            let parts: Vec<String> = pairs
                .iter()
                .map(|(k, v)| match v {
                    Some(v) => format!("{k}={}", render(v, world)),
                    None => (*k).to_owned(),
                })
                .collect();
            format!("?{}", parts.join("&"))
        }
        Query::Raw(bytes) => format!("?{}", percent_encode(bytes).replace("%26", "&")),
    }
}

/// A header value: absent, one of a list, or bytes (only those a header can carry
/// are sent).
#[derive(Debug, Clone)]
enum HeaderSpec {
    Absent,
    Literal(&'static str),
    Bytes(Vec<u8>),
}

fn header_spec(literals: &'static [&'static str]) -> impl Strategy<Value = HeaderSpec> {
    prop_oneof![
        3 => Just(HeaderSpec::Absent),
        4 => select(literals).prop_map(HeaderSpec::Literal),
        2 => vec(any::<u8>(), 0..40).prop_map(HeaderSpec::Bytes),
        1 => "\\PC{0,30}".prop_map(|s| HeaderSpec::Bytes(s.into_bytes())),
    ]
}

const LANGUAGES: &[&str] = &[
    "da",
    "fr",
    "en",
    "da, en;q=0.5",
    "fr-BE;q=0.9, *;q=0.1",
    "zh",
    "*",
    "",
    "da;q=2",
    "da;q=0",
    "??",
    "de-AT;q=0.999",
    ",,,",
    "nb;Q=1.000",
    "en_GB",
    "sr-Latn-RS",
];
const IF_MATCHES: &[&str] = &[
    "\"v1\"",
    "\"v2\"",
    "*",
    "W/\"v1\"",
    "\"v0\"",
    "\"v18446744073709551615\"",
    "\"v99999999999999999999\"",
    "\"v1\", \"v3\"",
    "v1",
    "\"\"",
    "\"v-1\"",
    ",",
];
const CONTENT_TYPES: &[&str] = &[
    "application/json",
    "application/json",
    "application/json; charset=utf-8",
    "APPLICATION/JSON",
    "application/problem+json",
    "application/vnd.api+json",
    "application/octet-stream",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/pdf",
    "json",
    "",
];
const SECRETS: &[&str] = &[
    "imis_0000000000000000000000000000000000000000000000000000000000000000",
    "imis_",
    "imis_zz",
    "",
];
const CONTENT_LENGTHS: &[&str] = &["0", "1", "abc", "-1", "99999999999999999999", "10"];

#[derive(Debug, Clone)]
enum Auth {
    Absent,
    /// `Bearer` and one of the world's tokens, maybe with odd spacing or case.
    Token(Index, &'static str),
    /// `Bearer imi_` and 64 random hex digits (well formed, unknown).
    Unknown([u8; 32]),
    Literal(&'static str),
    Bytes(Vec<u8>),
}

const AUTH_LITERALS: &[&str] = &[
    "Bearer",
    "Bearer ",
    "Bearer imi_",
    "Basic dXNlcjpwYXNz",
    "Bearer imi_zzzz",
    "Bearer eyJhbGciOiJub25lIn0.e30.",
    "bearer",
];

/// How a valid token is introduced: mostly right, sometimes with odd spacing or case.
const AUTH_PREFIXES: &[&str] = &[
    "Bearer ", "Bearer ", "Bearer ", "Bearer  ", "bearer ", "Bearer\t",
];

fn auth() -> impl Strategy<Value = Auth> {
    prop_oneof![
        2 => Just(Auth::Absent),
        6 => (any::<Index>(), select(AUTH_PREFIXES))
            .prop_map(|(i, p)| Auth::Token(i, p)),
        1 => any::<[u8; 32]>().prop_map(Auth::Unknown),
        1 => select(AUTH_LITERALS).prop_map(Auth::Literal),
        1 => vec(any::<u8>(), 0..40).prop_map(Auth::Bytes),
    ]
}

/// Request bodies.
#[derive(Debug, Clone)]
enum BodySpec {
    Empty,
    Bytes(Vec<u8>),
    Json(Value),
    /// A near-valid document (a seed with a few edits; `@..@` are the world's ids).
    Seed(String),
    /// A JSON array of `n` numbers.
    Huge(usize),
    /// `depth` nested arrays or objects.
    Deep(usize, bool),
}

/// Body seeds, each with the route keyword it fits (see [`seeds_for`]); `@..@` are
/// placeholders for the world's values.
const BODY_SEEDS: &[(&str, &str)] = &[
    ("/v1/requests", r#"{"procedure":"@PROC@"}"#),
    (
        "/commands",
        r#"{"command":"save-draft","answers":{"holder":{"type":"text","value":"Jane"},"profession":{"type":"choice","value":"nurse"}}}"#,
    ),
    (
        "/commands",
        r#"{"command":"send","recipient":"@A1@","needed_by":"2026-12-15"}"#,
    ),
    ("/commands", r#"{"command":"accept","days":3}"#),
    (
        "/commands",
        r#"{"command":"answer","answers":{"authentic":{"type":"yes-no","value":true}}}"#,
    ),
    ("/commands", r#"{"command":"withdraw","reason":"x"}"#),
    ("/commands", r#"{"command":"withdraw"}"#),
    (
        "/commands",
        r#"{"command":"split","to":"@A1@","questions":["authentic"]}"#,
    ),
    ("/commands", r#"{"command":"allocate","handler":"@U0@"}"#),
    (
        "/commands",
        r#"{"command":"intervene","kind":"reassign","to":"@A1@"}"#,
    ),
    (
        "/commands",
        r#"{"command":"accept-answer","rating":{"timeliness":5,"effort":4}}"#,
    ),
    (
        "/commands",
        r#"{"command":"erase-unlawful","questions":["holder"],"reason":"r"}"#,
    ),
    (
        "/commands",
        r#"{"command":"rectify","answers":{"holder":{"type":"text","value":"Jo"}},"reason":"r"}"#,
    ),
    (
        "/commands",
        r#"{"command":"save-draft","answers":{"professional":{"type":"text","value":"Dr X"},"scope":{"type":"choice","value":"prohibition"}}}"#,
    ),
    (
        "/commands",
        r#"{"command":"submit","recipients":["FR","DE","EC"]}"#,
    ),
    ("/commands", r#"{"command":"approve"}"#),
    ("/commands", r#"{"command":"distribute","to":["@A1@"]}"#),
    ("/commands", r#"{"command":"acknowledge"}"#),
    ("/commands", r#"{"command":"add-information","text":"t"}"#),
    (
        "/commands",
        r#"{"command":"save-draft","answers":{"title":{"type":"text","value":"Diploma"},"contact":{"type":"text","value":"Jo"}}}"#,
    ),
    ("/commands", r#"{"command":"send","countries":["FR","DE"]}"#),
    ("/commands", r#"{"command":"comment","text":"c"}"#),
    ("/commands", r#"{"command":"close","reason":"r"}"#),
    ("/commands", r#"{"command":"take"}"#),
    ("/commands", r#"{"command":"ask-submitter","text":"?"}"#),
    ("/commands", r#"{"command":"reply","text":"!"}"#),
    (
        "/commands",
        r#"{"command":"answer","answers":{"decision":{"type":"text","value":"Recognised"}}}"#,
    ),
    (
        "/commands",
        r#"{"command":"update","fields":{"holder":{"type":"text","value":"X"},"licence":{"type":"text","value":"L-1"}}}"#,
    ),
    ("/commands", r#"{"command":"retire"}"#),
    (
        "/v1/authorities",
        r#"{"participant":"DK","name":{"source":"da","texts":{"da":"Ny styrelse"}},"contact":{"email":"a@b.dk","website":"https://x.dk"},"languages":["da"],"region":"DK01","competences":[{"area":"pq","keywords":["nurse"]}],"confirmed_not_duplicate":true}"#,
    ),
    (
        "/v1/authorities/{id}",
        r#"{"name":{"source":"da","texts":{"da":"Nyt navn"}},"uses_allocation":true}"#,
    ),
    (
        "/users",
        r#"{"name":"Lars","email":"u@x.eu","language":"da"}"#,
    ),
    (
        "/service-accounts",
        r#"{"name":"CMS","email":"cms@x.eu","language":"da"}"#,
    ),
    ("/tokens", r#"{"label":"ci","expires_in_days":30}"#),
    (
        "/grants",
        r#"{"grants":[{"right":"request-handler","scope":"procedure","id":"@PROC@"}]}"#,
    ),
    (
        "/webhooks",
        r#"{"url":"https://example.eu/hook","topics":["request-received"]}"#,
    ),
    (
        "/notification-settings",
        r#"{"functional_mailbox":"box@x.eu","notify_users":false}"#,
    ),
    (
        "/notification-preferences",
        r#"{"muted":["request-received"]}"#,
    ),
    ("/data-subjects/", r#"{"identifiers":["Jane"]}"#),
    ("/translations", r#"{"to":"da"}"#),
    ("/unblock", r#"{"reason":"r","justification":"j","days":3}"#),
    (
        "/coordinator",
        r#"{"role":{"kind":"scoped","areas":["pq"],"regions":["DK01"]}}"#,
    ),
    (
        "/v1/public/submissions",
        r#"{"procedure":"@PROC@","authority":"@A0@","language":"da","answers":{"applicant":{"type":"text","value":"Ana"},"profession":{"type":"text","value":"Nurse"}}}"#,
    ),
    ("/validation", r#"{"decision":"approve","reason":null}"#),
    (
        "/invitations",
        r#"{"participant":"DK","region":null,"areas":["pq"]}"#,
    ),
    (
        "/alert-networks",
        r#"{"validates_outgoing":true,"handlers":["@A1@"]}"#,
    ),
    (
        "/registers",
        r#"{"participant":"DK","area":"pq","name":{"source":"en","texts":{"en":"R"}},"content":{"source":"en","texts":{"en":"C"}},"access_conditions":{"source":"en","texts":{"en":"A"}},"contact":{},"link":"https://x.eu"}"#,
    ),
    (
        "/records",
        r#"{"fields":{"holder":{"type":"text","value":"X"},"licence":{"type":"text","value":"L-2"}},"audience":null}"#,
    ),
    ("/deregistration", r#"{"reason":"no longer competent"}"#),
    (
        "/self-registrations",
        r#"{"secret":"imi_0000","authority":{"participant":"DK","name":{"source":"da","texts":{"da":"Selv"}}}}"#,
    ),
    ("/procedures", r#"{"procedure":"@PROC@"}"#),
];

/// Which seeds fit a route: the first keyword the template contains.
const ROUTE_KEYWORDS: &[&str] = &[
    "/commands",
    "/procedures",
    "/deregistration",
    "/validation",
    "/coordinator",
    "/notification-settings",
    "/webhooks",
    "/service-accounts",
    "/users",
    "/tokens",
    "/grants",
    "/notification-preferences",
    "/data-subjects/",
    "/translations",
    "/unblock",
    "/v1/public/submissions",
    "/invitations",
    "/alert-networks",
    "/registers",
    "/records",
    "/self-registrations",
    "/v1/authorities/{id}",
    "/v1/authorities",
];

fn seeds_for(template: &str) -> Vec<&'static str> {
    let keyword = ROUTE_KEYWORDS
        .iter()
        .find(|k| template.contains(**k))
        .copied()
        .unwrap_or("/v1/requests");
    let fitting: Vec<&str> = BODY_SEEDS
        .iter()
        .filter(|(k, _)| *k == keyword)
        .map(|(_, b)| *b)
        .collect();
    if fitting.is_empty() {
        BODY_SEEDS.iter().map(|(_, b)| *b).collect()
    } else {
        fitting
    }
}

const BODY_TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "\"",
    "null",
    "true",
    "1e999",
    "-1",
    "65536",
    "18446744073709551616",
    "\"\\ud800\"",
    "\"\\u0000\"",
    "\"2026-02-30\"",
    "\"EC\"",
    "\"xx\"",
    "\"command\"",
    "\"type\"",
    "\"kind\"",
    " ",
    "\\",
];

/// A few character edits: insert a token, delete, or replace.
#[derive(Debug, Clone)]
enum Edit {
    Insert(Index, &'static str),
    Delete(Index, usize),
    Replace(Index, char),
}

fn apply(seed: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = seed.chars().collect();
    for e in edits {
        let n = chars.len();
        match e {
            Edit::Insert(i, t) => {
                let at = i.index(n + 1);
                chars.splice(at..at, t.chars());
            }
            Edit::Delete(i, len) if n > 0 => {
                let at = i.index(n);
                chars.drain(at..(at + len).min(n));
            }
            Edit::Replace(i, c) if n > 0 => chars[i.index(n)] = *c,
            Edit::Delete(..) | Edit::Replace(..) => {}
        }
    }
    chars.into_iter().collect()
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<Index>(), select(BODY_TOKENS)).prop_map(|(i, t)| Edit::Insert(i, t)),
        (any::<Index>(), 1..6usize).prop_map(|(i, n)| Edit::Delete(i, n)),
        (any::<Index>(), any::<char>()).prop_map(|(i, c)| Edit::Replace(i, c)),
    ]
}

const JSON_KEYS: &[&str] = &[
    "command",
    "answers",
    "procedure",
    "recipient",
    "needed_by",
    "reason",
    "days",
    "to",
    "questions",
    "handler",
    "text",
    "kind",
    "type",
    "value",
    "holder",
    "participant",
    "name",
    "source",
    "texts",
    "da",
    "email",
    "language",
    "url",
    "topics",
    "grants",
    "right",
    "scope",
    "id",
    "fields",
    "identifiers",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("not finite", |f| {
            serde_json::Number::from_f64(f).map(Value::Number)
        }),
        select(SEGMENTS).prop_map(Value::from),
        "\\PC{0,10}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..5).prop_map(Value::Array),
            vec((select(JSON_KEYS), inner), 0..5).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

fn body() -> impl Strategy<Value = BodySpec> {
    prop_oneof![
        4 => Just(BodySpec::Empty),
        2 => vec(any::<u8>(), 0..512).prop_map(BodySpec::Bytes),
        3 => json_value().prop_map(BodySpec::Json),
        6 => (select(BODY_SEEDS), vec(edit(), 0..4)).prop_map(|((_, s), e)| BodySpec::Seed(apply(s, &e))),
        1 => prop_oneof![Just(100_000usize), Just(600_000), 0..300_000usize].prop_map(BodySpec::Huge),
        1 => (prop_oneof![Just(127usize), Just(129), 1..100_000usize], any::<bool>())
            .prop_map(|(d, o)| BodySpec::Deep(d, o)),
    ]
}

fn render_body(b: &BodySpec, world: &World) -> Vec<u8> {
    match b {
        BodySpec::Empty => Vec::new(),
        BodySpec::Bytes(bytes) => bytes.clone(),
        BodySpec::Json(v) => v.to_string().into_bytes(),
        BodySpec::Seed(s) => world.fill(s).into_bytes(),
        BodySpec::Huge(n) => {
            let mut out = String::with_capacity(2 * n + 2);
            out.push('[');
            for i in 0..*n {
                out.push_str(if i == 0 { "1" } else { ",1" });
            }
            out.push(']');
            out.into_bytes()
        }
        BodySpec::Deep(depth, objects) => {
            let (open, close) = if *objects {
                ("{\"a\":", "}")
            } else {
                ("[", "]")
            };
            let mut out = open.repeat(*depth);
            out.push_str("null");
            out.push_str(&close.repeat(*depth));
            out.into_bytes()
        }
    }
}

/// One random request.
#[derive(Debug, Clone)]
struct Call {
    /// Whether the route is one of the world's own kind of case.
    focus: bool,
    /// Near-valid: every field valid but the one numbered here (10: none); `None`:
    /// every field random.
    tidy: Option<u8>,
    /// The body seed and token a near-valid call uses.
    seed: Index,
    token: Index,
    route: Index,
    /// A method the route serves, or (when `None`) `method`.
    served: Option<Index>,
    method: &'static str,
    segments: Vec<Seg>,
    suffix: &'static str,
    query: Query,
    auth: Auth,
    language: HeaderSpec,
    if_match: HeaderSpec,
    content_type: HeaderSpec,
    secret: HeaderSpec,
    content_length: HeaderSpec,
    body: BodySpec,
}

fn call() -> impl Strategy<Value = Call> {
    (
        (
            prop::option::weighted(0.6, 0u8..11),
            any::<Index>(),
            any::<Index>(),
            any::<bool>(),
        ),
        (
            any::<Index>(),
            prop::option::weighted(0.7, any::<Index>()),
            select(METHODS),
            vec(segment(), 3),
            select(SUFFIXES),
            query(),
        ),
        (
            auth(),
            header_spec(LANGUAGES),
            header_spec(IF_MATCHES),
            header_spec(CONTENT_TYPES),
            header_spec(SECRETS),
            prop_oneof![9 => Just(HeaderSpec::Absent), 1 => select(CONTENT_LENGTHS).prop_map(HeaderSpec::Literal)],
            body(),
        ),
    )
        .prop_map(
            |(
                (tidy, seed, token, focus),
                (route, served, method, segments, suffix, query),
                (auth, language, if_match, content_type, secret, content_length, body),
            )| Call {
                focus,
                tidy,
                seed,
                token,
                route,
                served,
                method,
                segments,
                suffix,
                query,
                auth,
                language,
                if_match,
                content_type,
                secret,
                content_length,
                body,
            },
        )
}

fn header_value(spec: &HeaderSpec) -> Option<HeaderValue> {
    match spec {
        HeaderSpec::Absent => None,
        HeaderSpec::Literal(s) => HeaderValue::from_str(s).ok(),
        HeaderSpec::Bytes(b) => HeaderValue::from_bytes(b).ok(),
    }
}

/// The request a call describes, or `None` when no HTTP client could send it (a URI or
/// method that does not parse).
fn build(
    call: &Call,
    world: &World,
    routes: &[(String, Vec<&'static str>)],
) -> Option<Request<Body>> {
    // Which fields keep their random value: all of them, or (near-valid) just one.
    let random = |field: u8| call.tidy.is_none_or(|f| f == field);
    let own: Vec<&(String, Vec<&'static str>)> = routes
        .iter()
        .filter(|(t, _)| world.prefixes.iter().any(|p| t.starts_with(p)))
        .collect();
    let (template, methods) = if call.focus && !own.is_empty() {
        own[call.route.index(own.len())]
    } else {
        &routes[call.route.index(routes.len())]
    };
    let method = match call.served {
        Some(i) if !methods.is_empty() => methods[i.index(methods.len())],
        _ if !random(8) => methods.first().copied().unwrap_or("GET"),
        _ => call.method,
    };
    let mut path = String::new();
    let mut rest = template.as_str();
    let mut segments = call.segments.iter().cycle();
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}')? + open;
        path.push_str(&rest[..open]);
        let segment = segments.next()?;
        let value = match segment {
            _ if random(0) => render(segment, world),
            Seg::World(i) => fitting(template, &rest[open + 1..close], world, i),
            _ => fitting(template, &rest[open + 1..close], world, &call.seed),
        };
        path.push_str(&value);
        rest = &rest[close + 1..];
    }
    path.push_str(rest);
    if random(1) {
        path.push_str(call.suffix);
    }
    if random(2) {
        path.push_str(&render_query(&call.query, world));
    }
    let mut builder = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).ok()?)
        .uri(path);
    let valid_token = Auth::Token(call.token, "Bearer ");
    let auth = if random(3) { &call.auth } else { &valid_token };
    let authorization = match auth {
        Auth::Absent => None,
        Auth::Token(i, prefix) => {
            let token = &world.tokens[i.index(world.tokens.len())];
            HeaderValue::from_str(&format!("{prefix}{token}")).ok()
        }
        Auth::Unknown(bytes) => {
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            HeaderValue::from_str(&format!("Bearer imi_{hex}")).ok()
        }
        Auth::Literal(s) => HeaderValue::from_str(s).ok(),
        Auth::Bytes(b) => HeaderValue::from_bytes(b).ok(),
    };
    let json = HeaderSpec::Literal("application/json");
    let headers = [
        (header::AUTHORIZATION, authorization),
        (
            header::ACCEPT_LANGUAGE,
            random(4).then(|| header_value(&call.language)).flatten(),
        ),
        (
            header::IF_MATCH,
            random(5).then(|| header_value(&call.if_match)).flatten(),
        ),
        (
            header::CONTENT_TYPE,
            header_value(if random(6) { &call.content_type } else { &json }),
        ),
        (
            header::HeaderName::from_static("x-submission-secret"),
            if random(3) {
                header_value(&call.secret)
            } else {
                world
                    .secret
                    .as_deref()
                    .and_then(|s| HeaderValue::from_str(s).ok())
            },
        ),
        (
            header::CONTENT_LENGTH,
            random(7)
                .then(|| header_value(&call.content_length))
                .flatten(),
        ),
    ];
    for (name, value) in headers {
        if let Some(v) = value {
            builder = builder.header(name, v);
        }
    }
    let body = if random(7) {
        render_body(&call.body, world)
    } else {
        let seeds = seeds_for(template);
        world.fill(seeds[call.seed.index(seeds.len())]).into_bytes()
    };
    builder.body(Body::from(body)).ok()
}

/// Sends `request` and checks the answer.
async fn check(app: &axum::Router, request: Request<Body>) -> Result<(), TestCaseError> {
    let method = request.method().clone();
    let uri = request.uri().clone();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let shown = || {
        let text = String::from_utf8_lossy(&bytes);
        let cut: String = text.chars().take(400).collect();
        format!("{method} {uri} -> {status} {cut}")
    };
    prop_assert_eq!(
        headers
            .get("x-content-type-options")
            .and_then(|v| v.to_str().ok()),
        Some("nosniff"),
        "{}",
        shown()
    );
    if status.is_server_error() {
        let translation = uri.path().ends_with("/translations");
        prop_assert!(
            status == StatusCode::SERVICE_UNAVAILABLE && translation,
            "server error: {}",
            shown()
        );
    }
    if status.as_u16() >= 400 {
        prop_assert_eq!(
            headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json"),
            "{}",
            shown()
        );
        if method != Method::HEAD {
            let problem: Result<Value, _> = serde_json::from_slice(&bytes);
            prop_assert!(problem.is_ok(), "not JSON: {}", shown());
            prop_assert_eq!(
                problem.unwrap()["status"].as_u64(),
                Some(u64::from(status.as_u16())),
                "{}",
                shown()
            );
        }
    }
    Ok(())
}

fn run(kind: usize, calls: &[Call]) -> Result<(), TestCaseError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let routes = routes();
    runtime.block_on(async {
        let world = world(kind).await;
        for call in calls {
            if let Some(request) = build(call, &world, &routes) {
                check(&world.app, request).await?;
            }
        }
        Ok(())
    })
}

proptest! {
    #![proptest_config(config())]

    /// Random sequences of requests against a fresh world: no panic, no 5xx (but 503
    /// from the translation routes), every error a problem document with its status,
    /// `nosniff` on everything.
    #[test]
    fn the_router_survives_random_requests(kind in 0..5usize, calls in vec(call(), 1..6)) {
        run(kind, &calls)?;
    }
}

/// Edge cases checked every time, whatever the random draw: nesting far beyond the JSON
/// parser's depth limit, a body over the size limit, a huge path segment, a segment
/// that is not UTF-8, and a page size beyond `usize`.
#[test]
fn fixed_cases() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let world = world(0).await;
        let app = &world.app;
        let token = format!("Bearer {}", world.tokens[2]);
        let deep = format!("{}null{}", "[".repeat(100_000), "]".repeat(100_000));
        let huge = format!("[{}1]", "1,".repeat(600_000));
        for (method, path, body) in [
            ("POST", "/v1/requests".to_owned(), deep),
            ("POST", "/v1/requests".to_owned(), huge),
            (
                "GET",
                format!("/v1/requests/{}", "a".repeat(20_000)),
                String::new(),
            ),
            ("GET", "/v1/requests/%FF%FE".to_owned(), String::new()),
            (
                "GET",
                "/v1/directory?limit=99999999999999999999".to_owned(),
                String::new(),
            ),
        ] {
            let request = Request::builder()
                .method(method)
                .uri(path)
                .header(header::AUTHORIZATION, &token)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body))
                .unwrap();
            check(app, request).await.unwrap();
        }
    });
}
