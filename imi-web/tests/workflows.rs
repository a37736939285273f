//! The pages every workflow shares (boxes, a new case, the case page with the command
//! forms the engine offers, the timeline) driven for alerts, and the public portal driven
//! by a citizen and the authority that handles their submission.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should panic

mod common;

use std::sync::Arc;

use axum::http::{StatusCode, header};
use common::{Client, token, version_in};
use imi_core::Country;
use imi_core::access::Actor;
use imi_core::store::MemoryStore;

fn client(engine: &Arc<imi_core::Engine>) -> Client {
    Client {
        app: imi_web::router(
            Arc::clone(engine),
            imi_web::WebConfig {
                secure_cookies: false,
                session_minutes: 60,
                ..imi_web::WebConfig::default()
            },
        ),
    }
}

async fn signed_in(c: &Client, engine: &imi_core::Engine, actor: &Actor) -> String {
    c.sign_in_with(&token(engine, actor).await).await
}

/// The id in a case page's address (`/alerts/<id>`).
fn case_id(location: &str) -> String {
    location.rsplit('/').next().unwrap().to_owned()
}

#[tokio::test]
async fn an_alert_is_drafted_validated_distributed_and_acknowledged_in_forms() {
    let w = imi_core::conformance::alert_world_with(
        Arc::new(MemoryStore::new()),
        &[Country::France, Country::Italy],
        1,
    )
    .await;
    // Denmark validates its outgoing alerts.
    let procedure = "pq-alert".parse().unwrap();
    w.engine
        .set_alert_network(
            &Actor::System,
            Country::Denmark.into(),
            &procedure,
            imi_core::AlertNetwork {
                validates_outgoing: true,
                handlers: Default::default(),
            },
        )
        .await
        .unwrap();
    let engine = Arc::new(w.engine);
    let c = client(&engine);
    let sender = signed_in(&c, &engine, &w.sender).await;
    let outgoing = signed_in(&c, &engine, &w.outgoing).await;
    let fr_coordinator = signed_in(&c, &engine, &w.countries[0].coordinator).await;
    let (fr_handler_actor, fr_handler_authority) = &w.countries[0].handlers[0];
    let fr_handler = signed_in(&c, &engine, fr_handler_actor).await;
    let it_handler = signed_in(&c, &engine, &w.countries[1].handlers[0].0).await;

    // The sender picks the procedure and gets a draft.
    let new = c.get("/alerts/new", &[&sender], "en").await;
    assert_eq!(new.status, StatusCode::OK);
    assert!(new.body.contains("Restriction alert"), "{}", new.body);
    let created = c
        .post(
            "/alerts/new",
            &[&sender],
            &[("csrf", &new.csrf()), ("procedure", "pq-alert")],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let page = created.location().to_owned();
    assert!(page.starts_with("/alerts/"));
    let id = case_id(&page);
    let action = |form: &str| format!("{page}/commands/{form}");

    // The draft form is generated from the question set, with the personal-data mark and
    // the required level.
    let draft = c.get(&page, &[&sender], "en").await;
    assert!(draft.body.contains(&action("save-draft")), "{}", draft.body);
    assert!(draft.body.contains("name=\"answers.professional\""));
    assert!(draft.body.contains("(needed to send)"));
    assert!(draft.body.contains("personal data"));
    let csrf = draft.csrf();
    let saved = c
        .post(
            &action("save-draft"),
            &[&sender],
            &[
                ("csrf", &csrf),
                ("version", &version_in(&draft.body, &action("save-draft"))),
                (
                    "answers.professional",
                    "<script>alert('x')</script> Jean Dupont",
                ),
                ("answers.scope", "prohibition"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(saved.location(), page);
    let draft = c.get(&page, &[&sender], "en").await;
    assert!(draft.body.contains("&lt;script&gt;alert"), "escaped");
    assert!(!draft.body.contains("<script>alert"));
    // Submitted to France and Italy: it waits for the outgoing coordinator.
    let submitted = c
        .post(
            &action("submit"),
            &[&sender],
            &[
                ("csrf", &csrf),
                ("version", &version_in(&draft.body, &action("submit"))),
                ("recipients", "FR"),
                ("recipients", "IT"),
            ],
        )
        .await;
    assert_eq!(
        submitted.status,
        StatusCode::SEE_OTHER,
        "{}",
        submitted.body
    );
    assert_eq!(submitted.location(), page);

    // Italy's handler learns nothing of it before it is distributed to them.
    let hidden = c.get(&page, &[&it_handler], "en").await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);

    // The outgoing coordinator finds it in the validation box and approves it.
    let waiting = c.get("/alerts?box=validation", &[&outgoing], "en").await;
    assert!(
        waiting.body.contains(&format!("/alerts/{id}")),
        "{}",
        waiting.body
    );
    assert!(waiting.body.contains("Waiting for validation"));
    let theirs = c.get(&page, &[&outgoing], "en").await;
    assert!(theirs.body.contains(&action("approve")), "{}", theirs.body);
    assert!(theirs.body.contains(&action("return")));
    // The sender is not offered approval, and a hand-made post is refused.
    let mine = c.get(&page, &[&sender], "en").await;
    assert!(!mine.body.contains(&action("approve")));
    let refused = c
        .post(
            &action("approve"),
            &[&sender],
            &[
                ("csrf", &csrf),
                ("version", &version_in(&theirs.body, &action("approve"))),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let approved = c
        .post(
            &action("approve"),
            &[&outgoing],
            &[
                ("csrf", &theirs.csrf()),
                ("version", &version_in(&theirs.body, &action("approve"))),
            ],
        )
        .await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.body);

    // France's incoming coordinator sees the restricted summary: no name.
    let incoming = c
        .get("/alerts?box=incoming", &[&fr_coordinator], "fr")
        .await;
    assert!(
        incoming.body.contains(&format!("/alerts/{id}")),
        "{}",
        incoming.body
    );
    let summary = c.get(&page, &[&fr_coordinator], "en").await;
    assert_eq!(summary.status, StatusCode::OK);
    assert!(
        summary.body.contains("restricted summary"),
        "{}",
        summary.body
    );
    assert!(!summary.body.contains("Jean Dupont"));
    assert!(summary.body.contains("Prohibition"));
    // It distributes the alert to its handling authority, chosen from the directory.
    assert!(
        summary
            .body
            .contains(&format!("value=\"{fr_handler_authority}\"")),
        "{}",
        summary.body
    );
    // The directory search above the picker narrows it.
    assert!(summary.body.contains("name=\"find\""));
    let narrowed = c
        .get(
            &format!("{page}?find=nosuchauthorityword"),
            &[&fr_coordinator],
            "en",
        )
        .await;
    assert!(
        !narrowed
            .body
            .contains(&format!("value=\"{fr_handler_authority}\"")),
        "{}",
        narrowed.body
    );
    let distributed = c
        .post(
            &action("distribute"),
            &[&fr_coordinator],
            &[
                ("csrf", &summary.csrf()),
                ("version", &version_in(&summary.body, &action("distribute"))),
                ("to", &fr_handler_authority.to_string()),
            ],
        )
        .await;
    assert_eq!(
        distributed.status,
        StatusCode::SEE_OTHER,
        "{}",
        distributed.body
    );

    // The handler's home page says one alert waits; the box lists it.
    let home = c.get("/", &[&fr_handler], "en").await;
    assert!(
        home.body
            .contains("href=\"/alerts?box=handling\">Alerts — To handle</a>: <strong>1</strong>"),
        "{}",
        home.body
    );
    // The handler finds it to handle, sees it whole, and acknowledges it.
    let to_handle = c.get("/alerts", &[&fr_handler], "en").await;
    assert!(
        to_handle.body.contains(&format!("/alerts/{id}")),
        "{}",
        to_handle.body
    );
    let whole = c.get(&page, &[&fr_handler], "en").await;
    assert!(whole.body.contains("Jean Dupont"), "{}", whole.body);
    let acknowledged = c
        .post(
            &action("acknowledge"),
            &[&fr_handler],
            &[
                ("csrf", &whole.csrf()),
                ("version", &version_in(&whole.body, &action("acknowledge"))),
            ],
        )
        .await;
    assert_eq!(
        acknowledged.status,
        StatusCode::SEE_OTHER,
        "{}",
        acknowledged.body
    );
    let after = c.get(&page, &[&fr_handler], "en").await;
    assert!(!after.body.contains(&action("acknowledge")), "offered once");
    // The timeline, in the reader's language.
    let sent = c.get(&page, &[&sender], "en").await;
    for event in ["Draft saved", "Broadcast", "Distributed", "Acknowledged"] {
        assert!(sent.body.contains(event), "{event}: {}", sent.body);
    }
    let french = c.get(&page, &[&sender], "fr").await;
    assert!(french.body.contains("lang=\"fr\""));
}

#[tokio::test]
async fn a_citizen_submits_follows_replies_and_gets_their_data() {
    let w = imi_core::conformance::submission_world(Arc::new(MemoryStore::new())).await;
    let engine = Arc::new(w.engine);
    let c = client(&engine);

    // The portal lists what is open to the public, and nothing else.
    let portal = c.get("/public", &[], "da").await;
    assert_eq!(portal.status, StatusCode::OK);
    assert!(
        portal.body.contains("Anerkendelse af en kvalifikation"),
        "{}",
        portal.body
    );
    assert!(!portal.body.contains("Between authorities only"));
    let closed = c.get("/public/submit?procedure=internal", &[], "en").await;
    assert_eq!(closed.status, StatusCode::NOT_FOUND);
    // The public directory finds the competent authority.
    let found = c
        .get("/public/directory?text=ENIC&country=FR", &[], "en")
        .await;
    assert!(
        found.body.contains("Centre ENIC-NARIC France"),
        "{}",
        found.body
    );
    assert!(!found.body.contains("Ordre des architectes"));

    // The form: the authority, the language, the questions the submitter answers.
    let form = c
        .get(
            &format!(
                "/public/submit?procedure=recognition&authority={}",
                w.authority
            ),
            &[],
            "en",
        )
        .await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("name=\"answers.applicant\""));
    assert!(
        !form.body.contains("name=\"answers.decision\""),
        "the authority's"
    );
    let nonce = form.cookie("imi_form").unwrap();
    let fields = [
        ("csrf", form.csrf()),
        ("procedure", "recognition".to_owned()),
        ("authority", w.authority.to_string()),
        ("language", "da".to_owned()),
        ("answers.applicant", "Ana <b>Silva</b>".to_owned()),
        ("answers.profession", "Nurse".to_owned()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // Without the form's cookie: refused.
    let forged = c.post("/public/submit", &[], &fields).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let receipt = c.post("/public/submit", &[&nonce], &fields).await;
    assert_eq!(receipt.status, StatusCode::OK, "{}", receipt.body);
    assert_eq!(
        receipt.headers.get(header::CACHE_CONTROL).unwrap(),
        "no-store"
    );
    assert!(receipt.body.contains("shown only this once"));
    let at = receipt.body.find("imis_").expect("the secret");
    let secret: String = receipt.body[at..]
        .chars()
        .take_while(char::is_ascii_alphanumeric_or_underscore)
        .collect();
    let opened = receipt.cookie("imi_submission").unwrap();
    assert!(
        receipt
            .set_cookie_line("imi_submission")
            .contains("Path=/public; HttpOnly; SameSite=Strict")
    );

    // The submitter follows it in their language.
    let status = c.get("/public/status", &[&opened], "da").await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.body);
    assert!(status.body.contains("Ana &lt;b&gt;Silva&lt;/b&gt;"));
    assert!(status.body.contains("/public/status/commands/withdraw"));
    assert!(!status.body.contains("/public/status/commands/reply"));

    // The authority's handler takes it and asks a question.
    let handler = signed_in(&c, &engine, &w.handler).await;
    let home = c.get("/", &[&handler], "en").await;
    assert!(
        home.body
            .contains("Public submissions — New</a>: <strong>1</strong>"),
        "{}",
        home.body
    );
    let list = c.get("/submissions", &[&handler], "en").await;
    let at = list.body.find("href=\"/submissions/").expect("listed") + 6;
    let page = list.body[at..].split('"').next().unwrap().to_owned();
    let action = |form: &str| format!("{page}/commands/{form}");
    let case = c.get(&page, &[&handler], "en").await;
    assert!(case.body.contains("Ana &lt;b&gt;Silva"), "{}", case.body);
    let taken = c
        .post(
            &action("take"),
            &[&handler],
            &[
                ("csrf", &case.csrf()),
                ("version", &version_in(&case.body, &action("take"))),
            ],
        )
        .await;
    assert_eq!(taken.status, StatusCode::SEE_OTHER, "{}", taken.body);
    let case = c.get(&page, &[&handler], "en").await;
    let asked = c
        .post(
            &action("ask-submitter"),
            &[&handler],
            &[
                ("csrf", &case.csrf()),
                ("version", &version_in(&case.body, &action("ask-submitter"))),
                ("text", "Which year did you graduate?"),
            ],
        )
        .await;
    assert_eq!(asked.status, StatusCode::SEE_OTHER, "{}", asked.body);

    // The submitter sees the question and replies.
    let status = c.get("/public/status", &[&opened], "en").await;
    assert!(status.body.contains("Which year did you graduate?"));
    let reply = "/public/status/commands/reply";
    assert!(status.body.contains(reply), "{}", status.body);
    let csrf = common::hidden_in(&status.body, reply, "csrf");
    let version = common::hidden_in(&status.body, reply, "version");
    // Another value than the one derived from the secret is refused.
    let forged = c
        .post(
            reply,
            &[&opened],
            &[("csrf", "00"), ("version", &version), ("text", "x")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let replied = c
        .post(
            reply,
            &[&opened],
            &[("csrf", &csrf), ("version", &version), ("text", "In 2019.")],
        )
        .await;
    assert_eq!(replied.status, StatusCode::SEE_OTHER, "{}", replied.body);

    // The handler answers through the generated form; the submitter reads the decision.
    let case = c.get(&page, &[&handler], "en").await;
    assert!(case.body.contains("In 2019."), "{}", case.body);
    let answered = c
        .post(
            &action("answer"),
            &[&handler],
            &[
                ("csrf", &case.csrf()),
                ("version", &version_in(&case.body, &action("answer"))),
                ("answers.decision", "Recognised."),
            ],
        )
        .await;
    assert_eq!(answered.status, StatusCode::SEE_OTHER, "{}", answered.body);
    let status = c.get("/public/status", &[&opened], "en").await;
    assert!(status.body.contains("Recognised."), "{}", status.body);

    // Their data, and the request for it on the authority's timeline.
    let csrf = common::hidden_in(&status.body, "/public/status/data", "csrf");
    let data = c
        .post("/public/status/data", &[&opened], &[("csrf", &csrf)])
        .await;
    assert_eq!(data.status, StatusCode::OK, "{}", data.body);
    assert!(data.body.contains("Ana &lt;b&gt;Silva"));
    let case = c.get(&page, &[&handler], "en").await;
    assert!(
        case.body.contains("Data given to the submitter"),
        "{}",
        case.body
    );

    // Forgetting closes it in this browser; a wrong secret opens nothing.
    let forgot = c
        .post("/public/forget", &[&opened], &[("csrf", &csrf)])
        .await;
    assert_eq!(forgot.status, StatusCode::SEE_OTHER);
    assert!(
        forgot
            .set_cookie_line("imi_submission")
            .contains("Max-Age=0")
    );
    let portal = c.get("/public", &[], "en").await;
    let nonce = portal.cookie("imi_form").unwrap();
    let wrong = c
        .post(
            "/public/open",
            &[&nonce],
            &[
                ("csrf", &portal.csrf()),
                ("secret", &format!("imis_{}", "0".repeat(64))),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{}", wrong.body);
    let reopened = c
        .post(
            "/public/open",
            &[&nonce],
            &[("csrf", &portal.csrf()), ("secret", &secret)],
        )
        .await;
    assert_eq!(reopened.status, StatusCode::SEE_OTHER, "{}", reopened.body);
    assert_eq!(reopened.location(), "/public/status");
}

trait SecretChar {
    fn is_ascii_alphanumeric_or_underscore(&self) -> bool;
}

impl SecretChar for char {
    fn is_ascii_alphanumeric_or_underscore(&self) -> bool {
        self.is_ascii_alphanumeric() || *self == '_'
    }
}

#[tokio::test]
async fn a_repository_record_is_kept_searched_updated_and_retired_in_forms() {
    let w = imi_core::conformance::repository_world(Arc::new(MemoryStore::new())).await;
    let engine = Arc::new(w.engine);
    let c = client(&engine);
    let editor = signed_in(&c, &engine, &w.editor).await;
    let viewer = signed_in(&c, &engine, &w.viewer).await;

    let list = c.get("/repositories", &[&editor], "en").await;
    assert!(
        list.body.contains("/repositories/cash-licences"),
        "{}",
        list.body
    );
    let form = c
        .get("/repositories/cash-licences/new", &[&editor], "en")
        .await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("name=\"fields.holder\""));
    let created = c
        .post(
            "/repositories/cash-licences/new",
            &[&editor],
            &[
                ("csrf", &form.csrf()),
                ("fields.holder", "Brink's <France>"),
                ("fields.licence", "FR-CIT-0042"),
                ("fields.valid-until", "2028-06-30"),
                ("audience", "area"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let page = created.location().to_owned();
    assert!(page.starts_with("/records/"));

    // A reader of another country finds it, and may not change it.
    let found = c
        .get(
            "/repositories/cash-licences?q=FR-CIT-0042",
            &[&viewer],
            "en",
        )
        .await;
    assert!(
        found.body.contains(&format!("href=\"{page}\"")),
        "{}",
        found.body
    );
    assert!(
        found.body.contains("Brink&#39;s &lt;France&gt;")
            || found.body.contains("Brink's &lt;France&gt;")
    );
    let theirs = c.get(&page, &[&viewer], "en").await;
    assert!(!theirs.body.contains(&format!("{page}/commands/update")));

    // The editor updates it (a new revision) and restricts it to its own authority.
    let mine = c.get(&page, &[&editor], "en").await;
    let update = format!("{page}/commands/update");
    assert!(mine.body.contains(&update), "{}", mine.body);
    assert!(mine.body.contains(">FR-CIT-0042<") || mine.body.contains("value=\"FR-CIT-0042\""));
    let updated = c
        .post(
            &update,
            &[&editor],
            &[
                ("csrf", &mine.csrf()),
                ("version", &common::version_in(&mine.body, &update)),
                ("fields.holder", "Brink's France SAS"),
                ("fields.licence", "FR-CIT-0042"),
                ("audience", "own"),
            ],
        )
        .await;
    assert_eq!(updated.status, StatusCode::SEE_OTHER, "{}", updated.body);
    let mine = c.get(&page, &[&editor], "en").await;
    assert!(mine.body.contains("Record 2"), "{}", mine.body);
    assert!(mine.body.contains("Only our authority"));
    let hidden = c.get(&page, &[&viewer], "en").await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);

    // Retired: no more forms.
    let retire = format!("{page}/commands/retire");
    let retired = c
        .post(
            &retire,
            &[&editor],
            &[
                ("csrf", &mine.csrf()),
                ("version", &common::version_in(&mine.body, &retire)),
            ],
        )
        .await;
    assert_eq!(retired.status, StatusCode::SEE_OTHER, "{}", retired.body);
    let mine = c.get(&page, &[&editor], "en").await;
    assert!(mine.body.contains("Retired"));
    assert!(!mine.body.contains(&update));
}

#[tokio::test]
async fn a_survey_is_targeted_sent_and_answered_in_forms() {
    let w = imi_core::conformance::survey_world(Arc::new(MemoryStore::new())).await;
    let engine = Arc::new(w.engine);
    let c = client(&engine);
    let commission = signed_in(&c, &engine, &w.commission).await;
    let (dk_actor, _) = &w.authorities[0];
    let dk = signed_in(&c, &engine, dk_actor).await;
    let (de_actor, _) = &w.authorities[3];
    let de = signed_in(&c, &engine, de_actor).await;

    // The Commission drafts a survey and sends it to Denmark's and France's authorities
    // with access to pq-check.
    let new = c.get("/surveys/new", &[&commission], "en").await;
    let created = c
        .post(
            "/surveys/new",
            &[&commission],
            &[("csrf", &new.csrf()), ("procedure", "practice-survey")],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let page = created.location().to_owned();
    let draft = c.get(&page, &[&commission], "en").await;
    let send = format!("{page}/commands/send");
    assert!(draft.body.contains(&send), "{}", draft.body);
    assert!(draft.body.contains("name=\"targeting.countries\""));
    let deadline = (engine.now().date_naive() + chrono::Duration::days(20)).to_string();
    let sent = c
        .post(
            &send,
            &[&commission],
            &[
                ("csrf", &draft.csrf()),
                ("version", &common::version_in(&draft.body, &send)),
                ("targeting.countries", "DK"),
                ("targeting.countries", "FR"),
                ("targeting.procedures", "pq-check"),
                ("deadline", &deadline),
            ],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let open = c.get(&page, &[&commission], "en").await;
    assert!(open.body.contains("Open"), "{}", open.body);

    // Denmark's authority finds it, answers, and may change its answer.
    let received = c.get("/surveys", &[&dk], "en").await;
    assert!(
        received.body.contains(&format!("href=\"{page}\"")),
        "{}",
        received.body
    );
    let theirs = c.get(&page, &[&dk], "en").await;
    let respond = format!("{page}/response");
    assert!(theirs.body.contains(&respond), "{}", theirs.body);
    let answered = c
        .post(
            &respond,
            &[&dk],
            &[
                ("csrf", &theirs.csrf()),
                ("answers.works", "false"),
                ("answers.obstacle", "delays"),
                ("answers.comments", "<b>Slow</b> replies"),
            ],
        )
        .await;
    assert_eq!(answered.status, StatusCode::SEE_OTHER, "{}", answered.body);
    let theirs = c.get(&page, &[&dk], "en").await;
    assert!(
        theirs.body.contains("&lt;b&gt;Slow&lt;/b&gt; replies"),
        "{}",
        theirs.body
    );
    assert!(theirs.body.contains(">Delays<"));
    let version = common::hidden_in(&theirs.body, &respond, "version");
    let changed = c
        .post(
            &respond,
            &[&dk],
            &[
                ("csrf", &theirs.csrf()),
                ("version", &version),
                ("answers.works", "true"),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
    // Germany was not asked: it learns nothing of the survey.
    let hidden = c.get(&page, &[&de], "en").await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
}
