//! The web application in a real browser: Debian's Chromium driven through ChromeDriver
//! (WebDriver over HTTP, spoken by a small client below), with axe-core (from npm)
//! injected into every page the test visits: no serious or critical accessibility
//! violation is allowed. Screenshots of each step go to `target/browser/`.
//!
//! Needs `chromium`, `chromium-driver`, Node.js and npm (`apt-get install chromium
//! chromium-driver nodejs npm`). Without them the test prints one line saying so and
//! passes; CI sets `IMI_REQUIRE_BROWSER=1` so it cannot skip there.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should panic

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

mod common;

/// What the tests need, once: the screenshot directory (emptied) and axe-core's script,
/// or `None` (with the one line saying what is missing). The tests take turns: one
/// browser at a time on a small machine.
fn tools() -> Option<((PathBuf, String), std::sync::MutexGuard<'static, ()>)> {
    static TOOLS: std::sync::OnceLock<Option<(PathBuf, String)>> = std::sync::OnceLock::new();
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let tools = TOOLS.get_or_init(find_tools).clone()?;
    let turn = TURN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Some((tools, turn))
}

fn find_tools() -> Option<(PathBuf, String)> {
    let required = std::env::var("IMI_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    let has = |tool: &str| {
        Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let missing: Vec<&str> = ["chromium", "chromedriver", "node", "npm"]
        .into_iter()
        .filter(|t| !has(t))
        .collect();
    if !missing.is_empty() {
        assert!(
            !required,
            "IMI_REQUIRE_BROWSER=1 but {missing:?} are missing"
        );
        // Straight to stderr: the harness captures only the print macros.
        let _ = writeln!(
            std::io::stderr(),
            "imi-web browser tests: SKIPPED (no {}): install them with `apt-get install chromium chromium-driver nodejs npm` to run them in a real browser",
            missing.join(", ")
        );
        return None;
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("axe");
    imi_testkit::npm_install(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/axe"),
        &dir,
        &["package.json", "package-lock.json"],
        "axe-core",
    );
    let axe = dir.join("node_modules/axe-core/axe.min.js");
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("browser");
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).unwrap();
    Some((shots, std::fs::read_to_string(axe).unwrap()))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One HTTP/1.1 exchange with a JSON body, over a fresh connection.
fn http(port: u16, method: &str, path: &str, body: Option<&Value>) -> Value {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let body = body.map(Value::to_string).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    // Headers, then exactly Content-Length bytes (the driver may keep the connection).
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).unwrap() == 0 {
            break;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).unwrap();
    serde_json::from_slice(&body).unwrap_or(Value::Null)
}

/// A ChromeDriver process and one browser session, ended when dropped.
struct Browser {
    driver: Child,
    port: u16,
    session: String,
    shots: PathBuf,
    axe: String,
    step: usize,
}

impl Browser {
    fn start(shots: PathBuf, axe: String, language: &str, javascript: bool) -> Self {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1200,900", format!("--lang={language}")],
                "prefs": {
                    "intl.accept_languages": language,
                    "profile.managed_default_content_settings.javascript": if javascript { 1 } else { 2 }
                }
            }
        }}});
        let created = http(port, "POST", "/session", Some(&capabilities));
        let session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no browser session: {created}"))
            .to_owned();
        Self {
            driver,
            port,
            session,
            shots,
            axe,
            step: 0,
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let path = format!("/session/{}{path}", self.session);
        let answer = http(self.port, method, &path, body);
        assert!(
            answer["value"].get("error").is_none(),
            "{method} {path}: {answer}"
        );
        answer["value"].clone()
    }

    /// Forgets every cookie of the current page's host (the provider's too: cookies do not
    /// tell ports apart).
    fn clear_cookies(&self) {
        self.call("DELETE", "/cookie", None);
    }

    fn go(&self, url: &str) {
        self.call("POST", "/url", Some(&json!({ "url": url })));
    }

    fn element(&self, css: &str) -> String {
        let found = self.call(
            "POST",
            "/element",
            Some(&json!({"using": "css selector", "value": css})),
        );
        found
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap()
            .to_owned()
    }

    /// Waits up to 10 s for an element to be on the page (after a click's navigation).
    fn wait_for(&self, css: &str) {
        let started = Instant::now();
        let path = format!("/session/{}/element", self.session);
        let query = json!({"using": "css selector", "value": css});
        while http(self.port, "POST", &path, Some(&query))["value"]
            .get("error")
            .is_some()
        {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "no {css} on {}",
                self.url()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn type_into(&self, css: &str, text: &str) {
        self.wait_for(css);
        let id = self.element(css);
        self.call(
            "POST",
            &format!("/element/{id}/value"),
            Some(&json!({ "text": text })),
        );
    }

    fn click(&self, css: &str) {
        self.wait_for(css);
        let id = self.element(css);
        self.call("POST", &format!("/element/{id}/click"), Some(&json!({})));
    }

    fn source(&self) -> String {
        self.call("GET", "/source", None)
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The address once it satisfies `want` (a click's navigation may still be going on),
    /// or the last one after 10 s.
    fn url_when(&self, want: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        loop {
            let url = self.url();
            if want(&url) || started.elapsed() > Duration::from_secs(10) {
                return url;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The page's source once it satisfies `want` (after a form posted back to the same
    /// address), or the last one after 10 s.
    fn source_when(&self, want: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        loop {
            let source = self.source();
            if want(&source) || started.elapsed() > Duration::from_secs(10) {
                return source;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Runs a script in the page (only in the browser with JavaScript on).
    fn script(&self, script: &str) {
        self.call(
            "POST",
            "/execute/sync",
            Some(&json!({"script": script, "args": []})),
        );
    }

    fn url(&self) -> String {
        self.call("GET", "/url", None).as_str().unwrap().to_owned()
    }

    /// A screenshot as `NN-name.png`, numbered across browsers in the order taken.
    fn shot(&mut self, name: &str) {
        static STEP: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        self.step = STEP.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let png = self.call("GET", "/screenshot", None);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        std::fs::write(
            self.shots.join(format!("{:02}-{name}.png", self.step)),
            bytes,
        )
        .unwrap();
    }

    /// A screenshot, then axe-core on the page: no serious or critical violation.
    fn check(&mut self, name: &str) {
        self.shot(name);
        self.call(
            "POST",
            "/execute/sync",
            Some(&json!({"script": format!("{}\nreturn typeof axe;", self.axe), "args": []})),
        );
        let script = "const done = arguments[arguments.length - 1];
            axe.run(document, {resultTypes: ['violations']}).then(r => done(
              r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.map(n => n.target.join(' ')).join(', '))
            ), e => done(['axe failed: ' + e]));";
        let violations = self.call(
            "POST",
            "/execute/async",
            Some(&json!({"script": script, "args": []})),
        );
        assert_eq!(
            violations,
            json!([]),
            "accessibility of {name} ({})",
            self.url()
        );
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = http(
            self.port,
            "DELETE",
            &format!("/session/{}", self.session),
            None,
        );
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// The web application on a free port, over the shared world, with markup in a name.
fn serve(runtime: &tokio::runtime::Runtime) -> (u16, Vec<String>, imi_core::CaseId) {
    // Tokens: DK handler, FR handler, IT handler, DK coordinator's administrator.
    runtime.block_on(async {
        let w = common::world(
            [
                "Styrelsen for Patientsikkerhed",
                "Ordre national des infirmiers <img src=x onerror=alert(1)>",
                "Ministero della Salute",
            ],
            "Marie <script>alert(2)</script>",
        )
        .await;
        let (mut tokens, case) = (w.tokens, w.case);
        let (coordinator, _) = common::coordinator(&w.engine, w.ids[0]).await;
        tokens.push(coordinator);
        let config = imi_web::WebConfig {
            secure_cookies: false,
            ..imi_web::WebConfig::default()
        };
        let app = imi_web::router(w.engine, config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (port, tokens, case)
    })
}

#[test]
fn officials_work_in_a_real_browser() {
    let Some(((shots, axe), _turn)) = tools() else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (port, tokens, case) = serve(&runtime);
    let site = format!("http://127.0.0.1:{port}");

    // The Danish handler signs in, in Danish.
    let mut b = Browser::start(shots.clone(), axe.clone(), "da", true);
    b.go(&format!("{site}/"));
    assert!(b.url().ends_with("/sign-in"));
    assert!(b.source().contains("lang=\"da\""));
    b.check("sign-in");
    b.type_into("#token", &tokens[0]);
    b.click("main button[type=submit]");
    assert_eq!(b.url_when(|u| !u.ends_with("/sign-in")), format!("{site}/"));
    b.check("home");
    // A new diploma check, filled in Danish and sent to France.
    b.go(&format!("{site}/requests/new"));
    b.check("new-request");
    b.click("main form button[type=submit]");
    let draft = b.url_when(|u| !u.ends_with("/requests/new"));
    assert!(draft.contains("/requests/"), "{draft}");
    b.type_into("#save-draft-answers-holder", "Jens Hansen");
    b.click("#save-draft-answers-profession option[value=nurse]");
    b.click("form[action$='/commands/save-draft'] button[type=submit]");
    b.source_when(|s| s.contains(">Jens Hansen</textarea>"));
    b.check("draft");
    b.script("document.getElementById('send-needed_by').value = '2027-02-15';");
    b.click("form[action$='/commands/send'] button[type=submit]");
    let sent = b.source_when(|s| s.contains("Afventer accept"));
    assert!(sent.contains("Afventer accept"), "sent");
    b.check("sent");
    b.go(&format!("{site}/directory?q=infirmiers"));
    let found = b.source();
    assert!(
        found.contains("Ordre national des infirmiers &lt;img"),
        "the name is text"
    );
    b.check("directory");
    b.go(&format!("{site}/requests"));
    b.check("requests");
    b.go(&format!("{site}/requests/{case}"));
    let page = b.source();
    assert!(
        page.contains("Marie &lt;script&gt;"),
        "the stored script is text"
    );
    b.check("request");
    b.go(&format!("{site}/requests/deadlines"));
    b.check("deadlines");
    // No script ran: nothing opened an alert (WebDriver would report it on the next call).
    b.go(&format!("{site}/no-such-page"));
    b.check("not-found");

    // The French handler, with JavaScript off and in French, accepts and answers.
    let mut f = Browser::start(shots.clone(), axe.clone(), "fr", false);
    f.go(&format!("{site}/sign-in"));
    f.type_into("#token", &tokens[1]);
    f.click("main button[type=submit]");
    assert_eq!(f.url_when(|u| !u.ends_with("/sign-in")), format!("{site}/"));
    f.go(&format!("{site}/requests?side=responder"));
    assert!(f.source().contains(&format!("/requests/{case}")));
    f.go(&format!("{site}/requests/{case}"));
    let page = f.source();
    assert!(page.contains("lang=\"fr\""));
    assert!(
        !page.contains("Marie"),
        "no personal data before acceptance"
    );
    f.shot("request-fr-without-javascript");
    f.click("form[action$='/commands/accept'] button");
    let accepted = f.source_when(|s| s.contains("Marie"));
    assert!(accepted.contains("Marie"), "accepted: the name is shown");
    f.click("#answer-answers-authentic option[value=true]");
    f.click("form[action$='/commands/answer'] button");
    let answered = f.source_when(|s| !s.contains("/commands/answer\""));
    assert!(
        !answered.contains("/commands/answer\""),
        "answered: nothing left to answer"
    );
    f.shot("answered-fr");

    // The Danish handler asks for clarification; the French handler replies.
    b.go(&format!("{site}/requests/{case}"));
    b.type_into(
        "#ask-clarification-text",
        "Gælder autorisationen også i 2027? <script>alert(5)</script>",
    );
    b.click("form[action$='/commands/ask-clarification'] button[type=submit]");
    b.source_when(|s| !s.contains("/commands/ask-clarification\""));
    f.go(&format!("{site}/requests/{case}"));
    assert!(f.source().contains("Gælder autorisationen også i 2027?"));
    f.type_into(
        "#reply-clarification-text",
        "Oui, valable en 2029. <img src=x onerror=alert(6)>",
    );
    f.click("form[action$='/commands/reply-clarification'] button");
    f.source_when(|s| !s.contains("/commands/reply-clarification\""));
    f.shot("clarified-fr");
    f.click("form.sign-out button");
    assert!(
        f.url_when(|u| u.ends_with("/sign-in"))
            .ends_with("/sign-in")
    );
    drop(f);

    // The Danish coordinator's administrator, in English, approves a self-registration.
    let mut c = Browser::start(shots, axe, "en", true);
    c.go(&format!("{site}/sign-in"));
    c.type_into("#token", &tokens[3]);
    c.click("main button[type=submit]");
    assert_eq!(c.url_when(|u| !u.ends_with("/sign-in")), format!("{site}/"));
    c.go(&format!("{site}/registrations"));
    assert!(c.source().contains("Sundhedsstyrelsen"));
    c.check("registrations");
    c.click("section.registration form button[type=submit]");
    let after = c.source_when(|s| !s.contains("Sundhedsstyrelsen"));
    assert!(!after.contains("Sundhedsstyrelsen"), "approved");
    c.go(&format!("{site}/directory?q=sundhedsstyrelsen"));
    assert!(
        c.source().contains("Sundhedsstyrelsen"),
        "active, in the directory"
    );
    // Administration, checked as every page.
    c.go(&format!("{site}/admin"));
    c.check("admin");
    c.click("main table a");
    c.wait_for("form[action$='/users']");
    c.check("admin-authority");
    c.go(&format!("{site}/me"));
    c.wait_for("main h1");
    c.check("admin-user");
    c.go(&format!("{site}/registers"));
    c.check("registers");
    c.go(&format!("{site}/directory?procedure=nurse-check"));
    c.check("directory-by-procedure");
    drop(c);

    // The Danish handler reads the answer and the reply, and accepts it with a rating.
    b.go(&format!("{site}/requests/{case}"));
    assert!(b.source().contains("Oui, valable en 2029."), "the reply");
    b.check("answered-da");
    b.click("#accept-answer-rating-timeliness option[value='5']");
    b.click("#accept-answer-rating-effort option[value='4']");
    b.click("form[action$='/commands/accept-answer'] button[type=submit]");
    let closed = b.source_when(|s| s.contains("Lukket"));
    assert!(closed.contains("Lukket"), "closed, in Danish");
    b.check("closed-da");
    b.click("form.sign-out button");
    assert!(
        b.url_when(|u| u.ends_with("/sign-in"))
            .ends_with("/sign-in")
    );
    drop(b);
    runtime.shutdown_background();
}

/// Serves `engine`'s web application on a free port.
async fn serve_engine(engine: std::sync::Arc<imi_core::Engine>) -> u16 {
    let config = imi_web::WebConfig {
        secure_cookies: false,
        ..imi_web::WebConfig::default()
    };
    let app = imi_web::router(engine, config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    port
}

/// Signs in with `token` and lands on the home page.
fn sign_in(b: &Browser, site: &str, token: &str) {
    b.go(&format!("{site}/sign-in"));
    b.type_into("#token", token);
    b.click("main button[type=submit]");
    assert_eq!(b.url_when(|u| !u.ends_with("/sign-in")), format!("{site}/"));
}

#[test]
fn a_citizen_and_an_alert_in_a_real_browser() {
    use imi_core::Country;
    use imi_core::store::MemoryStore;
    let Some(((shots, axe), _turn)) = tools() else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();

    // A citizen, in Danish with JavaScript on, writes to a French authority.
    let (port, handler) = runtime.block_on(async {
        let w =
            imi_core::conformance::submission_world(std::sync::Arc::new(MemoryStore::new())).await;
        let handler = common::token(&w.engine, &w.handler).await;
        (serve_engine(std::sync::Arc::new(w.engine)).await, handler)
    });
    let site = format!("http://127.0.0.1:{port}");
    let mut p = Browser::start(shots.clone(), axe.clone(), "da", true);
    p.go(&format!("{site}/"));
    assert!(p.url().ends_with("/sign-in"));
    p.click("header nav a[href='/public']");
    p.url_when(|u| u.ends_with("/public"));
    assert!(p.source().contains("Anerkendelse af en kvalifikation"));
    p.check("public-portal");
    p.click("main ul a[href^='/public/submit']");
    p.url_when(|u| u.contains("/public/submit"));
    p.type_into(
        "#submit-answers-applicant",
        "Ana <script>alert(3)</script> Silva",
    );
    p.type_into("#submit-answers-profession", "Sygeplejerske");
    p.check("public-form");
    p.click("main form button[type=submit]");
    let receipt = p.source_when(|s| s.contains("imis_"));
    let at = receipt.find("imis_").expect("the secret, once");
    let secret: String = receipt[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    assert_eq!(secret.len(), 69);
    p.check("public-receipt");
    p.click("main a[href='/public/status']");
    let status = p.source_when(|s| s.contains("Ana &lt;script&gt;"));
    assert!(
        status.contains("Ana &lt;script&gt;"),
        "the stored script is text"
    );
    p.check("public-status");

    // The authority's handler, in French with JavaScript off, takes it and asks.
    let mut h = Browser::start(shots.clone(), axe.clone(), "fr", false);
    sign_in(&h, &site, &handler);
    h.go(&format!("{site}/submissions"));
    h.click("main table a");
    h.url_when(|u| u.contains("/submissions/0"));
    h.click("form[action$='/commands/take'] button");
    h.source_when(|s| s.contains("/commands/ask-submitter"));
    h.type_into(
        "#ask-submitter-text",
        "En quelle année avez-vous obtenu le diplôme ? <script>alert(7)</script>",
    );
    h.click("form[action$='/commands/ask-submitter'] button");
    h.source_when(|s| !s.contains("/commands/ask-submitter\""));
    h.shot("submission-asked-fr");

    // The citizen replies.
    p.go(&format!("{site}/public/status"));
    assert!(p.source().contains("En quelle année"));
    p.type_into("#reply-text", "I 2019. <script>alert(8)</script>");
    p.click("form[action$='/commands/reply'] button");
    p.source_when(|s| !s.contains("/commands/reply\""));

    // The handler answers; the citizen reads the decision and asks for their data.
    h.go(&h.url());
    assert!(h.source().contains("I 2019."));
    h.type_into(
        "#answer-answers-decision",
        "Diplôme reconnu. <svg onload=alert(9)>",
    );
    h.click("form[action$='/commands/answer'] button");
    h.source_when(|s| !s.contains("/commands/answer\""));
    h.shot("submission-answered-fr");
    drop(h);
    p.go(&format!("{site}/public/status"));
    assert!(p.source().contains("Diplôme reconnu."));
    p.check("public-answered");
    p.click("form[action='/public/status/data'] button");
    p.source_when(|s| s.contains("Sygeplejerske") && s.contains("<table"));
    p.check("public-data");
    drop(p);

    // An alert goes out from Denmark and is acknowledged in France.
    let (port, sender, receiver) = runtime.block_on(async {
        let w = imi_core::conformance::alert_world_with(
            std::sync::Arc::new(MemoryStore::new()),
            &[Country::France],
            1,
        )
        .await;
        let (fr_handler, fr_authority) = &w.countries[0].handlers[0];
        w.engine
            .set_alert_network(
                &imi_core::access::Actor::System,
                Country::France.into(),
                &"pq-alert".parse().unwrap(),
                imi_core::AlertNetwork {
                    validates_outgoing: false,
                    handlers: [*fr_authority].into_iter().collect(),
                },
            )
            .await
            .unwrap();
        let sender = common::token(&w.engine, &w.sender).await;
        let receiver = common::token(&w.engine, fr_handler).await;
        (
            serve_engine(std::sync::Arc::new(w.engine)).await,
            sender,
            receiver,
        )
    });
    let site = format!("http://127.0.0.1:{port}");
    let mut d = Browser::start(shots.clone(), axe.clone(), "en", true);
    sign_in(&d, &site, &sender);
    d.go(&format!("{site}/alerts"));
    d.check("alerts");
    d.click("main a[href='/alerts/new']");
    d.url_when(|u| u.ends_with("/alerts/new"));
    d.click("main form button[type=submit]");
    d.url_when(|u| !u.ends_with("/alerts/new"));
    d.type_into(
        "#save-draft-answers-professional",
        "Jean <b>Dupont</b><script>alert(10)</script>",
    );
    d.click("#save-draft-answers-scope option[value=prohibition]");
    d.click("form[action$='/commands/save-draft'] button[type=submit]");
    d.source_when(|s| s.contains(">Jean &lt;b&gt;Dupont&lt;/b&gt;&lt;script&gt;"));
    d.check("alert-draft");
    d.click("#submit-recipients-FR");
    d.click("form[action$='/commands/submit'] button[type=submit]");
    let sent = d.source_when(|s| s.contains("Broadcast"));
    assert!(sent.contains("Broadcast"), "broadcast");
    d.check("alert-broadcast");
    drop(d);
    let mut r = Browser::start(shots, axe, "fr", true);
    sign_in(&r, &site, &receiver);
    r.go(&format!("{site}/alerts"));
    r.click("main table a");
    r.url_when(|u| u.contains("/alerts/0"));
    assert!(r.source().contains("Jean &lt;b&gt;Dupont"));
    r.check("alert-received-fr");
    r.click("form[action$='/commands/acknowledge'] button");
    r.source_when(|s| !s.contains("/commands/acknowledge\""));
    r.check("alert-acknowledged-fr");
    drop(r);
    runtime.shutdown_background();
}

#[test]
fn single_sign_on_in_a_real_browser() {
    let Some(((shots, axe), _turn)) = tools() else {
        return;
    };
    let Some(dir) = imi_testkit::oidc::provider_dir(
        Path::new(env!("CARGO_TARGET_TMPDIR")),
        "imi-web single sign-on test",
    ) else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // The web application's address first: the provider must know where to send people.
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let site = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let callback = format!("{site}/sign-in/callback");
    let provider = imi_testkit::oidc::Provider::start(
        &dir,
        &["--code-client", "imi-web", "--redirect-uri", &callback],
    );
    let mut config = imi_http::oidc::SignOnConfig::new(&provider.issuer, "imi-web", &callback);
    config.client_secret = Some("imi-secret".into());
    config.name = "Test Login".into();
    config.allow_http = true;
    let sso = imi_http::oidc::OidcSignOn::new(config).unwrap();
    let user = runtime.block_on(async {
        let w = common::world(
            [
                "Styrelsen for Patientsikkerhed",
                "Ordre national des infirmiers",
                "Ministero della Salute",
            ],
            "Marie",
        )
        .await;
        let users = w
            .engine
            .users_of(
                &imi_core::access::Actor::System,
                w.ids[0],
                imi_core::PageRequest::first(10).unwrap(),
            )
            .await
            .unwrap();
        let user = users.items[0].id();
        let web = imi_web::WebConfig {
            secure_cookies: false,
            sign_on: Some(sso),
            ..imi_web::WebConfig::default()
        };
        let app = imi_web::router(w.engine, web);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        user
    });

    // A Danish handler signs in through the provider, not with a token.
    let mut b = Browser::start(shots, axe, "da", true);
    b.go(&format!("{site}/sign-in"));
    let page = b.source_when(|s| s.contains("Test Login"));
    assert!(page.contains("Test Login"), "{} {page}", b.url());
    b.check("sign-in-sso");
    b.click("a[href='/sign-in/sso']");
    b.wait_for("input[name=login]");
    assert!(b.url().starts_with(&provider.issuer), "at the provider");
    b.type_into("input[name=login]", &user.to_string());
    b.type_into("input[name=password]", "any");
    b.click("button[type=submit]");
    assert_eq!(
        b.url_when(|u| u == format!("{site}/")),
        format!("{site}/"),
        "back, signed in"
    );
    assert!(b.source().contains("form class=\"sign-out\""));
    b.check("home-after-sso");
    b.click("form.sign-out button");
    b.url_when(|u| u.ends_with("/sign-in"));

    // Someone the provider knows but who is no imi user is told so, and not signed in.
    b.clear_cookies();
    b.go(&format!("{site}/sign-in"));
    b.click("a[href='/sign-in/sso']");
    b.wait_for("input[name=login]");
    b.type_into("input[name=login]", "01a2027b-d680-7000-8000-000000000000");
    b.type_into("input[name=password]", "any");
    b.click("button[type=submit]");
    let refused = b.source_when(|s| s.contains("role=\"alert\""));
    assert!(refused.contains("IMI"), "no imi user: {refused}");
    assert!(!refused.contains("form class=\"sign-out\""));

    // An answer that is not for the attempt this browser started is refused, code or not.
    b.clear_cookies();
    b.go(&format!("{site}/sign-in"));
    b.click("a[href='/sign-in/sso']");
    b.wait_for("input[name=login]");
    b.go(&format!(
        "{site}/sign-in/callback?code=stolen&state={}",
        "0".repeat(64)
    ));
    let forged = b.source_when(|s| s.contains("role=\"alert\""));
    assert!(!forged.contains("form class=\"sign-out\""), "not signed in");
    b.go(&format!("{site}/"));
    assert!(
        b.url_when(|u| u.ends_with("/sign-in"))
            .ends_with("/sign-in")
    );
    drop(b);
    drop(provider);
    runtime.shutdown_background();
}

#[test]
fn the_request_flow_without_javascript() {
    let Some(((shots, axe), _turn)) = tools() else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (port, tokens, _) = serve(&runtime);
    let site = format!("http://127.0.0.1:{port}");

    // The Danish handler (English pages, no script) drafts and sends a request to France.
    let mut d = Browser::start(shots.clone(), axe.clone(), "en-US", false);
    sign_in(&d, &site, &tokens[0]);
    d.go(&format!("{site}/requests/new"));
    d.click("main form button[type=submit]");
    d.url_when(|u| !u.ends_with("/requests/new"));
    let page = d.url();
    d.type_into("#save-draft-answers-holder", "Karen Blixen");
    d.click("#save-draft-answers-profession option[value=nurse]");
    d.click("form[action$='/commands/save-draft'] button[type=submit]");
    d.source_when(|s| s.contains(">Karen Blixen</textarea>"));
    // A date typed as a person types it (month, day, year in this locale).
    d.type_into("#send-needed_by", "02152027");
    d.click("#send-recipient option:nth-child(1)");
    d.click("form[action$='/commands/send'] button[type=submit]");
    let sent = d.source_when(|s| s.contains("Awaiting acceptance"));
    assert!(sent.contains("Awaiting acceptance"), "sent: {sent}");
    d.shot("no-js-sent");

    // The French handler, no script either, accepts and answers.
    let mut f = Browser::start(shots, axe, "fr", false);
    sign_in(&f, &site, &tokens[1]);
    f.go(&page);
    f.click("form[action$='/commands/accept'] button");
    f.source_when(|s| s.contains("Karen Blixen"));
    f.click("#answer-answers-authentic option[value=true]");
    f.click("form[action$='/commands/answer'] button");
    f.source_when(|s| !s.contains("/commands/answer\""));
    f.shot("no-js-answered");
    drop(f);

    // The Danish handler accepts the answer with a rating: closed.
    d.go(&page);
    d.click("#accept-answer-rating-timeliness option[value='4']");
    d.click("#accept-answer-rating-effort option[value='5']");
    d.click("form[action$='/commands/accept-answer'] button[type=submit]");
    let closed = d.source_when(|s| s.contains(">Closed<"));
    assert!(closed.contains(">Closed<"), "closed: {closed}");
    d.shot("no-js-closed");
    drop(d);
    runtime.shutdown_background();
}
