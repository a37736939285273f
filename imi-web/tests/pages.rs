//! The web application through its router, as a browser would use it (cookies, forms,
//! redirects): sign-in and sign-out, sessions that end, anti-forgery values, the language
//! of pages, escaping, and the same need-to-know as the API.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should panic

mod common;

use std::sync::Arc;

use axum::http::{StatusCode, header};
use imi_core::{Language, ManualClock};

struct Site {
    client: common::Client,
    engine: Arc<imi_core::Engine>,
    /// The DK, FR and IT authorities.
    ids: Vec<imi_core::AuthorityId>,
    clock: Arc<ManualClock>,
    /// Tokens of: DK requester, FR responder, IT stranger.
    tokens: Vec<String>,
    /// A request from DK to FR, sent, with the holder's name "Marie".
    case: imi_core::CaseId,
}

async fn site() -> Site {
    let w = common::world(
        [
            "Styrelsen for Patientsikkerhed",
            "Ordre national des infirmiers",
            "<script>alert('ministero')</script>",
        ],
        "Marie",
    )
    .await;
    let (engine, clock, tokens, case, ids) = (w.engine, w.clock, w.tokens, w.case, w.ids);
    let config = imi_web::WebConfig {
        secure_cookies: false,
        session_minutes: 60,
        ..imi_web::WebConfig::default()
    };
    Site {
        client: common::Client {
            app: imi_web::router(Arc::clone(&engine), config),
        },
        engine,
        ids,
        clock,
        tokens,
        case,
    }
}

impl std::ops::Deref for Site {
    type Target = common::Client;

    fn deref(&self) -> &common::Client {
        &self.client
    }
}

impl Site {
    /// Signs in with token `n`: the session cookie.
    async fn sign_in(&self, n: usize) -> String {
        self.sign_in_with(&self.tokens[n]).await
    }
}

#[tokio::test]
async fn signing_in_and_out() {
    let s = site().await;
    // Not signed in: every page sends the browser to the sign-in page.
    for path in [
        "/",
        "/requests",
        "/directory",
        &format!("/requests/{}", s.case),
    ] {
        let a = s.get(path, &[], "en").await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(a.location(), "/sign-in", "{path}");
    }
    let form = s.get("/sign-in", &[], "en").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.body.starts_with("<!DOCTYPE html><html lang=\"en\">"),
        "{}",
        form.body
    );
    assert!(
        form.body.contains("<label for=\"token\">"),
        "every field has a label"
    );
    let line = form.set_cookie_line("imi_signin");
    assert!(
        line.contains("HttpOnly") && line.contains("SameSite=Strict"),
        "{line}"
    );
    let csp = form.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(!form.body.contains("<script"), "no script at all");

    // A post without the form's anti-forgery cookie is refused.
    let forged = s
        .post(
            "/sign-in",
            &[],
            &[("token", &s.tokens[0]), ("csrf", &form.csrf())],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    // A wrong token: the form again, the error tied to its field.
    let nonce = form.cookie("imi_signin").unwrap();
    let wrong = s
        .post(
            "/sign-in",
            &[&nonce],
            &[("token", "imi_nonsense"), ("csrf", &form.csrf())],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(
        wrong.body.contains("aria-describedby=\"token-error\""),
        "{}",
        wrong.body
    );

    // Signed in: a fresh HttpOnly session at every sign-in.
    let first = s.sign_in(0).await;
    let second = s.sign_in(0).await;
    assert_ne!(first, second);
    let home = s.get("/", &[&first], "en").await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    assert!(home.body.contains("What waits for you"));
    assert_eq!(home.headers[header::CACHE_CONTROL], "no-store");

    // Signing out needs the session's anti-forgery value, and ends the session.
    let refused = s.post("/sign-out", &[&first], &[("csrf", "guess")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let csrf = home.csrf();
    let other = s.get("/", &[&second], "en").await.csrf();
    assert_ne!(csrf, other, "the anti-forgery value is the session's");
    let out = s.post("/sign-out", &[&first], &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(out.set_cookie_line("imi_session").contains("Max-Age=0"));
    assert_eq!(s.get("/", &[&first], "en").await.location(), "/sign-in");
    assert_eq!(s.get("/", &[&second], "en").await.status, StatusCode::OK);

    // Sessions end by themselves.
    s.clock.advance(chrono::Duration::minutes(61));
    assert_eq!(s.get("/", &[&second], "en").await.location(), "/sign-in");
}

#[tokio::test]
async fn need_to_know_and_escaping() {
    let s = site().await;
    let dk = s.sign_in(0).await;
    let fr = s.sign_in(1).await;
    let it = s.sign_in(2).await;
    let path = format!("/requests/{}", s.case);
    let mine = s.get(&path, &[&dk], "en").await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
    assert!(mine.body.contains("Marie"), "the requester sees the name");
    assert!(mine.body.contains("Ordre national des infirmiers"));
    // The page and its only other file weigh well under 100 KB, all from this site.
    let css = s.get("/assets/imi.css", &[], "en").await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(mine.body.len() + css.body.len() < 100 * 1024);
    assert!(
        !mine.body.contains("http://") && !mine.body.contains("https://"),
        "nothing from other hosts"
    );
    let theirs = s.get(&path, &[&fr], "fr").await;
    assert_eq!(theirs.status, StatusCode::OK);
    assert!(!theirs.body.contains("Marie"), "not before acceptance");
    assert!(theirs.body.contains("<html lang=\"fr\">"));
    let stranger = s.get(&path, &[&it], "en").await;
    assert_eq!(stranger.status, StatusCode::NOT_FOUND);
    assert!(!stranger.body.contains("Marie"));
    // The responder's inbox lists it; the stranger's does not.
    assert!(
        s.get("/requests?side=responder", &[&fr], "en")
            .await
            .body
            .contains(&path)
    );
    assert!(!s.get("/requests", &[&it], "en").await.body.contains(&path));
    assert!(
        s.get("/requests/deadlines", &[&fr], "en")
            .await
            .body
            .contains(&path)
    );
    // A stored script in an authority's name is shown as text.
    let found = s.get("/directory?country=IT", &[&dk], "en").await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    assert!(found.body.contains("&lt;script&gt;alert"), "{}", found.body);
    assert!(!found.body.contains("<script>alert"));
    // Bad input and unknown pages are pages, not stack traces.
    assert_eq!(
        s.get("/requests?stage=nonsense", &[&dk], "en").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        s.get("/requests/not-an-id", &[&dk], "en").await.status,
        StatusCode::NOT_FOUND
    );
    let nothing = s.get("/nothing/here", &[&dk], "en").await;
    assert_eq!(nothing.status, StatusCode::NOT_FOUND);
    assert!(
        nothing.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
}

#[tokio::test]
async fn the_page_speaks_the_readers_language() {
    let s = site().await;
    let dk = s.sign_in(0).await;
    let da = s.get("/", &[&dk], "da, en;q=0.5").await;
    assert!(da.body.contains("<html lang=\"da\">"), "{}", da.body);
    assert!(!da.body.contains("What waits for you"));
    // The picker remembers a choice, and only ever sends the browser back to this site.
    let picked = s.get("/language?to=de&back=/directory", &[&dk], "en").await;
    assert_eq!(picked.location(), "/directory");
    let lang = picked.cookie("imi_lang").unwrap();
    let de = s.get("/", &[&dk, &lang], "da").await;
    assert!(de.body.contains("<html lang=\"de\">"));
    let away = s
        .get("/language?to=de&back=//evil.example/", &[&dk], "en")
        .await;
    assert_eq!(away.location(), "/");
    // A language without a translation of the interface: English, marked as such.
    let pl = s.get("/", &[&dk], "pl").await;
    assert!(pl.body.contains("<html lang=\"pl\">"));
    assert!(
        pl.body
            .contains("<span lang=\"en\">What waits for you</span>"),
        "{}",
        pl.body
    );
    // Every one of the 26 languages can be picked.
    for l in Language::ALL {
        assert!(
            pl.body.contains(&format!("<option value=\"{}\"", l.code())),
            "{}",
            l.code()
        );
    }
}

/// The value of the hidden `version` field in the form posting to `action`.

#[tokio::test]
async fn a_request_from_acceptance_to_closure_in_forms() {
    let s = site().await;
    let dk = s.sign_in(0).await;
    let fr = s.sign_in(1).await;
    let it = s.sign_in(2).await;
    let page = format!("/requests/{}", s.case);
    let action = |form: &str| format!("{page}/commands/{form}");
    // FR is offered accept and forward, not answer; DK is not offered accept.
    let theirs = s.get(&page, &[&fr], "en").await;
    assert!(theirs.body.contains(&action("accept")), "{}", theirs.body);
    assert!(!theirs.body.contains(&action("answer")));
    let mine = s.get(&page, &[&dk], "en").await;
    assert!(!mine.body.contains(&action("accept")));
    assert!(mine.body.contains(&action("withdraw")));
    let csrf = theirs.csrf();

    // Not offered to DK: refused even if posted by hand.
    let v = common::version_in(&theirs.body, &action("accept"));
    let dk_csrf = mine.csrf();
    let refused = s
        .post(
            &action("accept"),
            &[&dk],
            &[("csrf", &dk_csrf), ("version", &v), ("days", "5")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    // Another session's anti-forgery value is refused.
    let forged = s
        .post(
            &action("accept"),
            &[&fr],
            &[("csrf", &dk_csrf), ("version", &v), ("days", "5")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    // A stranger learns nothing.
    let it_csrf = s.get("/", &[&it], "en").await.csrf();
    let hidden = s
        .post(
            &action("accept"),
            &[&it],
            &[("csrf", &it_csrf), ("version", &v), ("days", "5")],
        )
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);

    // FR accepts within 5 days.
    let done = s
        .post(
            &action("accept"),
            &[&fr],
            &[("csrf", &csrf), ("version", &v), ("days", "5")],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), page);
    // The same form again, with the old version: someone changed it meanwhile.
    let stale = s
        .post(
            &action("comment"),
            &[&fr],
            &[("csrf", &csrf), ("version", &v), ("text", "x")],
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);

    // Now FR sees the name, and answers through the form generated from the questions.
    let accepted = s.get(&page, &[&fr], "en").await;
    assert!(accepted.body.contains("Marie"));
    assert!(
        accepted.body.contains("name=\"answers.authentic\""),
        "{}",
        accepted.body
    );
    let v = common::version_in(&accepted.body, &action("answer"));
    let answered = s
        .post(
            &action("answer"),
            &[&fr],
            &[
                ("csrf", &csrf),
                ("version", &v),
                ("answers.authentic", "true"),
                ("answers.registered", "false"),
            ],
        )
        .await;
    assert_eq!(answered.status, StatusCode::SEE_OTHER, "{}", answered.body);

    // DK asks for clarification; FR replies; DK accepts the answer with a rating.
    let mine = s.get(&page, &[&dk], "en").await;
    assert!(mine.body.contains("Authentic?"), "the reply is shown");
    let v = common::version_in(&mine.body, &action("ask-clarification"));
    let asked = s
        .post(
            &action("ask-clarification"),
            &[&dk],
            &[("csrf", &dk_csrf), ("version", &v), ("text", "Since when?")],
        )
        .await;
    assert_eq!(asked.status, StatusCode::SEE_OTHER, "{}", asked.body);
    let theirs = s.get(&page, &[&fr], "en").await;
    let v = common::version_in(&theirs.body, &action("reply-clarification"));
    let replied = s
        .post(
            &action("reply-clarification"),
            &[&fr],
            &[("csrf", &csrf), ("version", &v), ("text", "Since 2019")],
        )
        .await;
    assert_eq!(replied.status, StatusCode::SEE_OTHER, "{}", replied.body);
    let mine = s.get(&page, &[&dk], "en").await;
    let v = common::version_in(&mine.body, &action("accept-answer"));
    let closed = s
        .post(
            &action("accept-answer"),
            &[&dk],
            &[
                ("csrf", &dk_csrf),
                ("version", &v),
                ("rating.timeliness", "5"),
                ("rating.effort", "4"),
            ],
        )
        .await;
    assert_eq!(closed.status, StatusCode::SEE_OTHER, "{}", closed.body);
    let closed = s.get(&page, &[&dk], "en").await;
    assert!(closed.body.contains("Closed"), "{}", closed.body);
    assert!(
        closed.body.contains("Answer accepted"),
        "the timeline says so"
    );
    assert!(
        !closed.body.contains("/commands/accept-answer"),
        "nothing left to accept"
    );
}

/// The first `value` of the `select` named `name`.

#[tokio::test]
async fn a_request_is_drafted_and_sent_in_forms() {
    let s = site().await;
    let dk = s.sign_in(0).await;
    let fr = s.sign_in(1).await;
    let start = s.get("/requests/new", &[&dk], "en").await;
    assert_eq!(start.status, StatusCode::OK, "{}", start.body);
    assert!(start.body.contains("Nurse check"));
    let csrf = start.csrf();
    let created = s
        .post(
            "/requests/new",
            &[&dk],
            &[("csrf", &csrf), ("procedure", "nurse-check")],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let page = created.location().to_owned();
    let draft = s.get(&page, &[&dk], "en").await;
    assert!(
        draft.body.contains("name=\"answers.holder\""),
        "{}",
        draft.body
    );
    assert!(
        !draft.body.contains("name=\"answers.authentic\""),
        "the responder's questions are not the requester's"
    );
    let save = format!("{page}/commands/save-draft");
    let v = common::version_in(&draft.body, &save);
    let saved = s
        .post(
            &save,
            &[&dk],
            &[
                ("csrf", &csrf),
                ("version", &v),
                ("answers.holder", "Jean Dupont"),
                ("answers.profession", "nurse"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let draft = s.get(&page, &[&dk], "en").await;
    assert!(
        draft.body.contains(">Jean Dupont</textarea>"),
        "the draft form keeps what was saved"
    );
    let send = format!("{page}/commands/send");
    let v = common::version_in(&draft.body, &send);
    let recipient = common::first_option(&draft.body, "recipient");
    let sent = s
        .post(
            &send,
            &[&dk],
            &[
                ("csrf", &csrf),
                ("version", &v),
                ("recipient", &recipient),
                ("needed_by", "2027-02-15"),
            ],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let inbox = s.get("/requests?side=responder", &[&fr], "en").await;
    assert!(inbox.body.contains(&page), "the recipient has it");
    // The other side was asked: not the drafting, only what was sent.
    let theirs = s.get(&page, &[&fr], "en").await;
    assert!(
        !theirs.body.contains("Jean Dupont"),
        "no personal data before acceptance"
    );
}

#[tokio::test]
async fn a_coordinator_validates_a_self_registration() {
    let s = site().await;
    let (token, pending) = common::coordinator(&s.engine, s.ids[0]).await;
    let coordinator = s.sign_in_with(&token).await;
    let home = s.get("/", &[&coordinator], "en").await;
    assert!(
        home.body.contains("href=\"/registrations\""),
        "{}",
        home.body
    );
    let list = s.get("/registrations", &[&coordinator], "en").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("Sundhedsstyrelsen"));
    // A handler without the right sees none and cannot validate.
    let handler = s.sign_in(0).await;
    let theirs = s.get("/registrations", &[&handler], "en").await;
    assert!(!theirs.body.contains("Sundhedsstyrelsen"));
    let action = format!("/registrations/{pending}");
    let csrf = theirs.csrf();
    let refused = s
        .post(
            &action,
            &[&handler],
            &[("csrf", &csrf), ("verdict", "approve")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    // The coordinator approves; the authority is active and in the directory.
    let csrf = list.csrf();
    let done = s
        .post(
            &action,
            &[&coordinator],
            &[("csrf", &csrf), ("verdict", "approve")],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let after = s.get("/registrations", &[&coordinator], "en").await;
    assert!(!after.body.contains("Sundhedsstyrelsen"));
    let found = s
        .get("/directory?q=sundhedsstyrelsen", &[&coordinator], "en")
        .await;
    assert!(found.body.contains("Sundhedsstyrelsen"), "{}", found.body);
}

#[tokio::test]
async fn the_language_picker_never_leaves_the_site() {
    let s = site().await;
    for back in [
        "//evil.example/",
        "/%09/evil.example",
        "/\\evil.example",
        "https://evil.example/",
        "/%0d%0aSet-Cookie:x=1",
    ] {
        let picked = s
            .get(
                &format!("/language?to=da&back={}", back.replace('/', "%2F")),
                &[],
                "en",
            )
            .await;
        assert_eq!(picked.location(), "/", "{back}");
    }
    let ok = s
        .get(
            "/language?to=da&back=%2Frequests%3Fside%3Dresponder",
            &[],
            "en",
        )
        .await;
    assert_eq!(ok.location(), "/requests?side=responder");
    // A date at the end of the calendar is no crash.
    let dk = s.sign_in(0).await;
    let far = s
        .get("/requests/deadlines?until=%2B262142-12-31", &[&dk], "en")
        .await;
    assert!(
        far.status == StatusCode::OK || far.status == StatusCode::BAD_REQUEST,
        "{}",
        far.status
    );
}

#[tokio::test]
async fn failed_sign_ins_are_throttled() {
    let s = site().await;
    let form = s.get("/sign-in", &[], "en").await;
    let nonce = form.cookie("imi_signin").unwrap();
    let bad = format!("imi_{}", "0".repeat(64));
    for _ in 0..10 {
        let failed = s
            .post(
                "/sign-in",
                &[&nonce],
                &[("token", &bad), ("csrf", &form.csrf())],
            )
            .await;
        assert_eq!(failed.status, StatusCode::UNAUTHORIZED);
    }
    // Now even the right token waits: the address has used its attempts.
    let refused = s
        .post(
            "/sign-in",
            &[&nonce],
            &[("token", &s.tokens[0]), ("csrf", &form.csrf())],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        refused.body
    );
    assert!(refused.headers.get(header::RETRY_AFTER).is_some());
    assert!(refused.cookie("imi_session").is_none());
}

#[tokio::test]
async fn files_go_up_with_a_draft_and_down_to_those_who_may_see_them() {
    let qs = imi_core::conformance::REQUEST_QS.replace(
        "[[group.question]]\nid = \"authentic\"",
        "[[group.question]]\nid = \"copy\"\ntype = \"attachment\"\nmax_files = 2\n[group.question.label]\nen = \"Copy of the diploma\"\n[[group.question]]\nid = \"authentic\"",
    );
    let w = common::world_with(["DK", "FR", "IT"], "Marie", &qs, None).await;
    let c = common::Client {
        app: imi_web::router(
            Arc::clone(&w.engine),
            imi_web::WebConfig {
                secure_cookies: false,
                ..imi_web::WebConfig::default()
            },
        ),
    };
    let dk = c.sign_in_with(&w.tokens[0]).await;
    let fr = c.sign_in_with(&w.tokens[1]).await;
    let it = c.sign_in_with(&w.tokens[2]).await;
    let new = c.get("/requests/new", &[&dk], "en").await;
    let created = c
        .post(
            "/requests/new",
            &[&dk],
            &[("csrf", &new.csrf()), ("procedure", "nurse-check")],
        )
        .await;
    let page = created.location().to_owned();
    let draft = c.get(&page, &[&dk], "en").await;
    let action = format!("{page}/commands/save-draft");
    assert!(
        draft.body.contains("enctype=\"multipart/form-data\""),
        "{}",
        draft.body
    );
    assert!(draft.body.contains("type=\"file\" name=\"files.copy\""));
    let version = common::version_in(&draft.body, &action);
    let pdf: Vec<u8> = (0..300 * 1024u32).map(|i| (i % 251) as u8).collect();
    // Files are taken only with the form's anti-forgery value.
    let forged = c
        .post_multipart(
            &action,
            &[&dk],
            &[("csrf", "00"), ("version", &version)],
            &[("files.copy", "diploma.pdf", "application/pdf", &pdf)],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let saved = c
        .post_multipart(
            &action,
            &[&dk],
            &[
                ("csrf", &draft.csrf()),
                ("version", &version),
                ("answers.holder", "Jens Hansen"),
            ],
            &[("files.copy", "diploma.pdf", "application/pdf", &pdf)],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let draft = c.get(&page, &[&dk], "en").await;
    let at = draft.body.find("href=\"/attachments/").expect("a link") + 6;
    let link = draft.body[at..].split('"').next().unwrap().to_owned();
    assert!(draft.body.contains("Jens Hansen"));
    let file = c.get(&link, &[&dk], "en").await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(
        file.headers.get(header::CONTENT_DISPOSITION).unwrap(),
        "attachment; filename=\"diploma.pdf\""
    );
    assert_eq!(file.headers.get(header::CONTENT_LENGTH).unwrap(), "307200");
    // Saving the draft again keeps the file.
    let version = common::version_in(&draft.body, &action);
    let again = c
        .post_multipart(
            &action,
            &[&dk],
            &[
                ("csrf", &draft.csrf()),
                ("version", &version),
                ("answers.holder", "Jens Hansen"),
            ],
            &[],
        )
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
    let draft = c.get(&page, &[&dk], "en").await;
    assert!(draft.body.contains(&format!("href=\"{link}\"")), "kept");
    // Nobody else may fetch it: the draft is the requester's.
    for other in [&fr, &it] {
        let hidden = c.get(&link, &[other], "en").await;
        assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    }
}

/// A stand-in translator for the page's part (the real engine comes with issue 25's
/// Apertium): it says which language it was asked for.
struct Marker;

#[async_trait::async_trait]
impl imi_core::translate::Translator for Marker {
    async fn translate(
        &self,
        text: &str,
        _from: Option<Language>,
        to: Language,
    ) -> Result<String, imi_core::translate::TranslatorError> {
        Ok(format!("[{}] {text}", to.code()))
    }

    fn name(&self) -> &str {
        "marker"
    }
}

#[tokio::test]
async fn free_text_is_translated_on_request_and_labelled() {
    let w = common::world_with(
        ["DK", "FR", "IT"],
        "Marie",
        imi_core::conformance::REQUEST_QS,
        Some(Arc::new(Marker)),
    )
    .await;
    let c = common::Client {
        app: imi_web::router(
            Arc::clone(&w.engine),
            imi_web::WebConfig {
                secure_cookies: false,
                ..imi_web::WebConfig::default()
            },
        ),
    };
    let dk = c.sign_in_with(&w.tokens[0]).await;
    let page = format!("/requests/{}", w.case);
    let mine = c.get(&page, &[&dk], "en").await;
    let action = format!("{page}/commands/comment");
    let commented = c
        .post(
            &action,
            &[&dk],
            &[
                ("csrf", &mine.csrf()),
                ("version", &common::version_in(&mine.body, &action)),
                ("text", "Haster: bevillingen udløber snart."),
            ],
        )
        .await;
    assert_eq!(
        commented.status,
        StatusCode::SEE_OTHER,
        "{}",
        commented.body
    );
    let fr = c.sign_in_with(&w.tokens[1]).await;
    let theirs = c.get(&page, &[&fr], "fr").await;
    assert!(theirs.body.contains("Haster: bevillingen"));
    let at = theirs
        .body
        .find("/translate\"")
        .expect("a translate button");
    let start = theirs.body[..at].rfind("action=\"").unwrap() + 8;
    let translate = format!("{}/translate", &theirs.body[start..at]);
    let done = c
        .post(&translate, &[&fr], &[("csrf", &theirs.csrf())])
        .await;
    // The answer to the post is the request with the translation (a plain visit never
    // translates); the form posts in English (the test client's language), so the
    // translation is into English, labelled.
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let shown = done;
    let plain = c.get(&page, &[&fr], "en").await;
    assert!(!plain.body.contains("[en] Haster"), "only when asked");
    assert!(
        shown
            .body
            .contains("<p lang=\"en\">[en] Haster: bevillingen udløber snart.</p>"),
        "{}",
        shown.body
    );
    assert!(shown.body.contains("Machine translation (marker)"));
}

#[tokio::test]
async fn the_directory_filters_by_procedure_and_the_registers_are_searchable() {
    let s = site().await;
    let dk = s.sign_in(0).await;
    let by_procedure = s
        .get("/directory?procedure=nurse-check&country=FR", &[&dk], "en")
        .await;
    assert_eq!(by_procedure.status, StatusCode::OK);
    assert!(by_procedure.body.contains("Ordre national des infirmiers"));
    assert!(!by_procedure.body.contains("Styrelsen for Patientsikkerhed"));
    let bad = s.get("/directory?region=%20no%20such", &[&dk], "en").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let text = |t: &str| imi_core::LocalisedText::new(Language::Danish, t).unwrap();
    s.engine
        .create_register(
            &imi_core::access::Actor::System,
            imi_core::register::RegisterData {
                participant: imi_core::Country::Denmark.into(),
                area: None,
                name: text("Autorisationsregistret <i>"),
                content: text("Sundhedspersoners autorisationer"),
                access_conditions: text("Offentligt tilgængeligt"),
                contact: imi_core::authority::ContactDetails::default(),
                link: Some("https://autregweb.sst.dk".into()),
            },
        )
        .await
        .unwrap();
    let found = s.get("/registers?q=autorisation", &[&dk], "en").await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    assert!(
        found.body.contains("Autorisationsregistret &lt;i&gt;"),
        "{}",
        found.body
    );
    assert!(found.body.contains("https://autregweb.sst.dk"));
    let none = s.get("/registers?q=zzzz", &[&dk], "en").await;
    assert!(!none.body.contains("Autorisationsregistret"));
}

#[tokio::test]
async fn rectification_split_and_erasure_are_forms_too() {
    let s = site().await;
    let dk = s.sign_in(0).await;
    let fr = s.sign_in(1).await;
    let page = format!("/requests/{}", s.case);
    let action = |form: &str| format!("{page}/commands/{form}");
    let theirs = s.get(&page, &[&fr], "en").await;
    let accepted = s
        .post(
            &action("accept"),
            &[&fr],
            &[
                ("csrf", &theirs.csrf()),
                (
                    "version",
                    &common::version_in(&theirs.body, &action("accept")),
                ),
                ("days", "5"),
            ],
        )
        .await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.body);

    // The responder may split off questions to another authority: the questions are
    // checkboxes, the new request's id is the engine's.
    let theirs = s.get(&page, &[&fr], "en").await;
    assert!(theirs.body.contains(&action("split")), "{}", theirs.body);
    assert!(theirs.body.contains("name=\"questions\" value=\"holder\""));

    // The requester corrects the personal data it gave: only those questions, filled in.
    let mine = s.get(&page, &[&dk], "en").await;
    assert!(mine.body.contains(&action("rectify")), "{}", mine.body);
    let form_at = mine
        .body
        .find(&format!("action=\"{}\"", action("rectify")))
        .unwrap();
    let form = &mine.body[form_at..form_at + mine.body[form_at..].find("</form>").unwrap()];
    assert!(form.contains("name=\"answers.holder\""), "{form}");
    assert!(form.contains(">Marie</textarea>"), "{form}");
    assert!(
        !form.contains("answers.profession"),
        "not personal data: {form}"
    );
    let rectified = s
        .post(
            &action("rectify"),
            &[&dk],
            &[
                ("csrf", &mine.csrf()),
                (
                    "version",
                    &common::version_in(&mine.body, &action("rectify")),
                ),
                ("answers.holder", "Marie Curie"),
                ("reason", "The data subject asked for it (Art. 16 GDPR)."),
            ],
        )
        .await;
    assert_eq!(
        rectified.status,
        StatusCode::SEE_OTHER,
        "{}",
        rectified.body
    );
    let theirs = s.get(&page, &[&fr], "en").await;
    assert!(theirs.body.contains("Marie Curie"), "{}", theirs.body);
}

#[tokio::test]
async fn malformed_addresses_and_forms_get_an_error_page_in_the_readers_language() {
    let s = site().await;
    let bad_query = s
        .post_as("/requests/x/timeline/not-a-number/translate", "da")
        .await;
    assert_eq!(bad_query.status, StatusCode::BAD_REQUEST);
    assert!(
        bad_query
            .headers
            .get(header::CONTENT_TYPE)
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        bad_query.body.contains("<html lang=\"da\""),
        "{}",
        bad_query.body
    );
    let bad_form = s.post("/public/open", &[], &[("nothing", "here")]).await;
    assert_eq!(bad_form.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad_form.body.contains("role=\"alert\""),
        "{}",
        bad_form.body
    );
}
