//! E-mail over a real SMTP server: Python's aiosmtpd, started by the test on loopback,
//! writes what it receives into a Maildir, and the test reads the message from there.
//! When the machine's `python3` lacks aiosmtpd, the test installs it once into a virtual
//! environment under Cargo's target directory; it needs `python3` (with `venv`) and
//! access to PyPI for that.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should panic

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use imi_core::catalogue::Right;
use imi_core::{
    Country, Engine, Invitation, Language, LocalisedText, ManualClock, access::Actor,
    authority::CoordinatorRole, authority::NewAuthority, store::MemoryStore, user::Grant,
    user::GrantScope, user::NewUser,
};
use imi_examples::smtp::SmtpNotifier;

/// A Python that can run aiosmtpd: the machine's, or a virtual environment made for it
/// (once per test process: the tests of this file run at the same time).
fn python_with_aiosmtpd() -> std::path::PathBuf {
    static PYTHON: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    PYTHON.get_or_init(find_or_make_python).clone()
}

fn find_or_make_python() -> std::path::PathBuf {
    let has = |python: &std::path::Path| {
        Command::new(python)
            .args(["-c", "import aiosmtpd"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let system = std::path::PathBuf::from("python3");
    if has(&system) {
        return system;
    }
    let venv = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("aiosmtpd-venv");
    let python = venv.join("bin").join("python3");
    if !has(&python) {
        let made = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .expect("the SMTP test needs python3");
        assert!(made.success(), "python3 -m venv failed");
        let installed = Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "aiosmtpd"])
            .status()
            .unwrap();
        assert!(installed.success(), "pip install aiosmtpd failed");
    }
    python
}

/// An aiosmtpd server on a free loopback port, killed when dropped.
struct SmtpServer {
    child: Child,
    port: u16,
    maildir: tempfile::TempDir,
}

impl SmtpServer {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let maildir = tempfile::tempdir().unwrap();
        let child = Command::new(python_with_aiosmtpd())
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir.path().join("box"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 with aiosmtpd");
        let server = Self {
            child,
            port,
            maildir,
        };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return server;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("aiosmtpd did not start on port {port}");
    }

    /// The messages received so far, as text.
    fn received(&self) -> Vec<String> {
        let new = self.maildir.path().join("box").join("new");
        let Ok(dir) = std::fs::read_dir(new) else {
            return Vec::new();
        };
        dir.map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn a_registration_is_announced_by_e_mail_in_the_coordinators_language() {
    let server = SmtpServer::start();
    let clock = Arc::new(ManualClock::new("2026-11-23T09:00:00Z".parse().unwrap()));
    let engine = Engine::new(Arc::new(MemoryStore::new()), clock.clone());
    let mut n = NewAuthority::new(
        Country::Denmark,
        LocalisedText::new(Language::Danish, "Erhvervsstyrelsen").unwrap(),
    );
    n.confirmed_not_duplicate = true;
    let nimic = engine.register_authority(&Actor::System, n).await.unwrap();
    engine
        .appoint_coordinator(&Actor::System, nimic.id(), Some(CoordinatorRole::National))
        .await
        .unwrap();
    let admin = engine
        .create_user(
            &Actor::System,
            nimic.id(),
            NewUser {
                name: "Mette Jensen".into(),
                email: "mette@erst.example".parse().unwrap(),
                language: Language::Danish,
            },
        )
        .await
        .unwrap();
    engine
        .set_grants(
            &Actor::System,
            admin.id(),
            vec![Grant::new(Right::Administrator, GrantScope::Everything)],
        )
        .await
        .unwrap();
    let secret = engine
        .invite_authority(
            &Actor::System,
            Invitation {
                participant: Country::Denmark.into(),
                region: None,
                areas: Default::default(),
            },
        )
        .await
        .unwrap();
    let mut new = NewAuthority::new(
        Country::Denmark,
        LocalisedText::new(Language::Danish, "Sikkerhedsstyrelsen").unwrap(),
    );
    new.confirmed_not_duplicate = true;
    let pending = engine.self_register(&secret, new).await.unwrap();

    // A server that refuses connections: the delivery fails and is kept for a retry.
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let nowhere = SmtpNotifier::new(
        "127.0.0.1",
        closed,
        "IMI <imi@imi.example>",
        "https://imi.example",
    )
    .unwrap();
    let lease = chrono::Duration::minutes(5);
    let report = engine.dispatch(&nowhere, 10, lease).await.unwrap();
    assert_eq!((report.delivered, report.failed), (0, 1));

    // The real server: after the backoff, the message arrives, in Danish.
    let smtp = SmtpNotifier::new(
        "127.0.0.1",
        server.port,
        "IMI <imi@imi.example>",
        "https://imi.example/",
    )
    .unwrap();
    assert_eq!(
        engine.dispatch(&smtp, 10, lease).await.unwrap().delivered,
        0
    );
    clock.advance(chrono::Duration::seconds(31));
    let report = engine.dispatch(&smtp, 10, lease).await.unwrap();
    assert_eq!((report.delivered, report.completed), (1, 1));
    let mut received = Vec::new();
    for _ in 0..50 {
        received = server.received();
        if !received.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(received.len(), 1, "one message");
    let mail = &received[0];
    assert!(mail.contains("To: mette@erst.example"), "{mail}");
    assert!(mail.contains("From: IMI <imi@imi.example>"), "{mail}");
    assert!(
        mail.contains("Subject: IMI: en myndighed er registreret og afventer godkendelse"),
        "{mail}"
    );
    assert!(
        mail.contains(&format!(
            "https://imi.example/v1/authorities/{}",
            pending.id()
        )),
        "{mail}"
    );
    assert!(mail.contains("Message-ID: <"), "{mail}");
    assert!(mail.contains("sent again"), "a retry is marked: {mail}");
    assert!(
        !mail.contains("Sikkerhedsstyrelsen"),
        "no names in the message"
    );
}

/// An aiosmtpd server that demands STARTTLS and then a user name and password, with a
/// self-signed certificate for `localhost`.
const TLS_SERVER: &str = r#"
import ssl, sys, time
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult, LoginPassword
port, cert, key, box = sys.argv[1:5]
ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(cert, key)
def check(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"imi" and auth_data.password == b"s3cret pass"
    return AuthResult(success=ok)
c = Controller(Mailbox(box), hostname="127.0.0.1", port=int(port), tls_context=ctx,
               require_starttls=True, authenticator=check, auth_require_tls=True, auth_required=True)
c.start()
print("READY", flush=True)
while True:
    time.sleep(3600)
"#;

/// Finding 12: mail goes over TLS with authentication. A server that requires STARTTLS
/// and a password receives the message from a notifier that trusts its certificate and
/// signs in; a wrong password, an untrusted certificate and plain SMTP all fail; plain
/// SMTP to another machine is refused before anything is sent.
#[tokio::test]
async fn mail_goes_over_starttls_with_a_password() {
    use imi_examples::smtp::{SmtpConfigError, SmtpSecurity, SmtpSettings};
    use std::io::BufRead as _;
    let rcgen::CertifiedKey { cert, key_pair } =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.path().join("key.pem"), key_pair.serialize_pem()).unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(python_with_aiosmtpd())
        .args(["-c", TLS_SERVER, &port.to_string()])
        .arg(dir.path().join("cert.pem"))
        .arg(dir.path().join("key.pem"))
        .arg(dir.path().join("box"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert_eq!(ready.trim(), "READY");
    struct Kill(Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _server = Kill(child);

    // Plain SMTP to another machine is refused at configuration.
    let plain_remote = SmtpSettings {
        security: SmtpSecurity::Plain,
        ..SmtpSettings::new("smtp.example.eu", 25)
    };
    assert!(matches!(
        SmtpNotifier::with_settings(
            &plain_remote,
            "IMI <imi@imi.example>",
            "https://imi.example"
        ),
        Err(SmtpConfigError::PlainToRemote { .. })
    ));

    let settings = |password: &str, trust: bool, security| SmtpSettings {
        security,
        credentials: Some(("imi".to_owned(), password.to_owned())),
        extra_roots: if trust {
            vec![cert.der().to_vec()]
        } else {
            vec![]
        },
        timeout: Duration::from_secs(2),
        ..SmtpSettings::new("localhost", port)
    };
    let message = imi_core::outbox::Message {
        idempotency_key: "a1:user".into(),
        announcement: imi_core::outbox::AnnouncementId(uuid::Uuid::nil()),
        topic: imi_core::outbox::Topic::RequestReceived,
        attempt: 1,
        possible_duplicate: false,
        to: imi_core::outbox::Address::Email {
            address: "lars@stps.example".parse().unwrap(),
        },
        language: Language::Danish,
        subject: "IMI: en anmodning er modtaget".into(),
        body: String::new(),
        link: "/v1/requests/x".into(),
    };
    use imi_core::outbox::Notifier as _;
    for (what, s) in [
        (
            "a wrong password",
            settings("wrong", true, SmtpSecurity::StartTls),
        ),
        (
            "an untrusted certificate",
            settings("s3cret pass", false, SmtpSecurity::StartTls),
        ),
        ("no TLS", settings("s3cret pass", true, SmtpSecurity::Plain)),
    ] {
        let notifier =
            SmtpNotifier::with_settings(&s, "IMI <imi@imi.example>", "https://imi.example")
                .unwrap();
        let started = std::time::Instant::now();
        let outcome = notifier.deliver(&message).await;
        eprintln!("{what}: {outcome:?} after {:?}", started.elapsed());
        assert!(outcome.is_err(), "{what} must fail");
    }
    let notifier = SmtpNotifier::with_settings(
        &settings("s3cret pass", true, SmtpSecurity::StartTls),
        "IMI <imi@imi.example>",
        "https://imi.example",
    )
    .unwrap();
    notifier.deliver(&message).await.unwrap();
    let new = dir.path().join("box").join("new");
    let mails: Vec<String> = std::fs::read_dir(new)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(
        mails.len(),
        1,
        "only the signed-in, encrypted delivery arrived"
    );
    assert!(
        mails[0].contains("https://imi.example/v1/requests/x"),
        "{}",
        mails[0]
    );
}
