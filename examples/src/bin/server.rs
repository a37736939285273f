//! The example server: the imi HTTP API on an embedded store with the demo catalogue and
//! a small demo world.
//!
//! ```text
//! imi-server [--addr HOST:PORT] [--data DIR] [--store sqlite|sled] [--catalogue DIR]
//!            [--smtp HOST:PORT] [--smtp-security starttls|tls|none] [--smtp-user NAME]
//!            [--oidc-issuer URL --oidc-audience AUDIENCE] [--sso-issuer URL --sso-client-id ID]
//!            [--mail-from ADDRESS] [--public-url URL] [--header-timeout SECONDS] [--idle-timeout SECONDS] [--max-connections N]
//! ```
//!
//! Environment variables `IMI_ADDR`, `IMI_DATA`, `IMI_STORE`, `IMI_CATALOGUE`, `IMI_SMTP`,
//! `IMI_SMTP_SECURITY`, `IMI_SMTP_USER`, `IMI_OIDC_ISSUER`, `IMI_OIDC_AUDIENCE`,
//! `IMI_OIDC_USER_CLAIM`, `IMI_MAIL_FROM`, `IMI_PUBLIC_URL`,
//! `IMI_HEADER_TIMEOUT`, `IMI_IDLE_TIMEOUT` and `IMI_MAX_CONNECTIONS` give the same
//! settings; flags win. The SMTP password comes from `IMI_SMTP_PASSWORD` only. Mail goes
//! over STARTTLS unless the relay is on this machine (`--smtp-security` says otherwise;
//! `none` is refused for other hosts). With an SMTP
//! server, a dispatcher e-mails the outbox's announcements every few seconds; without
//! one, they wait in the store. Defaults: `127.0.0.1:8080`, `./imi-data`, `sqlite`, the demo
//! catalogue. The first start creates the store and the demo world (with progress
//! output); later starts keep the data. Every start prints the address and fresh demo
//! tokens as `export` lines. Ctrl-C (or SIGTERM) stops it cleanly.

#![allow(clippy::print_stdout, clippy::print_stderr)] // a server talks on its terminal

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use imi_core::catalogue::{Catalogue, Right};
use imi_core::{
    Country, Engine, Language, LocalisedText, PageRequest, UserId, access::Actor,
    authority::Competence, authority::ContactDetails, authority::CoordinatorRole,
    authority::NewAuthority, store::Store, user::Grant, user::GrantScope, user::NewUser,
};
use imi_store_sled::{SledConfig, SledStore};
use imi_store_sqlite::{SqliteConfig, SqliteStore};

struct Args {
    addr: String,
    data: PathBuf,
    store: String,
    catalogue: PathBuf,
    smtp: Option<String>,
    smtp_security: Option<String>,
    smtp_user: Option<String>,
    oidc_issuer: Option<String>,
    oidc_audience: Option<String>,
    /// The web application's single sign-on: the provider's issuer and our client id.
    sso_issuer: Option<String>,
    sso_client_id: Option<String>,
    mail_from: String,
    public_url: Option<String>,
    serve: imi_http::ServeConfig,
}

const USAGE: &str = "usage: imi-server [--addr HOST:PORT] [--data DIR] [--store sqlite|sled] [--catalogue DIR] [--smtp HOST:PORT] [--smtp-security starttls|tls|none] [--smtp-user NAME] [--oidc-issuer URL --oidc-audience AUDIENCE] [--sso-issuer URL --sso-client-id ID] [--mail-from ADDRESS] [--public-url URL] [--header-timeout SECONDS] [--idle-timeout SECONDS] [--max-connections N]";

/// A number of seconds (1 to 3600) from a flag or variable.
fn seconds(name: &str, text: &str) -> Result<std::time::Duration, String> {
    match text.parse::<u64>() {
        Ok(n @ 1..=3600) => Ok(std::time::Duration::from_secs(n)),
        _ => Err(format!("{name} wants 1 to 3600 seconds, not `{text}`")),
    }
}

fn parse_args() -> Result<Args, String> {
    let env = |k: &str| std::env::var(k).ok();
    let mut args = Args {
        addr: env("IMI_ADDR").unwrap_or_else(|| "127.0.0.1:8080".into()),
        data: env("IMI_DATA").map_or_else(|| PathBuf::from("imi-data"), PathBuf::from),
        store: env("IMI_STORE").unwrap_or_else(|| "sqlite".into()),
        catalogue: env("IMI_CATALOGUE")
            .map_or_else(imi_examples::demo_catalogue_dir, PathBuf::from),
        smtp: env("IMI_SMTP"),
        smtp_security: env("IMI_SMTP_SECURITY"),
        smtp_user: env("IMI_SMTP_USER"),
        oidc_issuer: env("IMI_OIDC_ISSUER"),
        oidc_audience: env("IMI_OIDC_AUDIENCE"),
        sso_issuer: env("IMI_SSO_ISSUER"),
        sso_client_id: env("IMI_SSO_CLIENT_ID"),
        mail_from: env("IMI_MAIL_FROM").unwrap_or_else(|| "IMI <imi@localhost>".into()),
        public_url: env("IMI_PUBLIC_URL"),
        serve: imi_http::ServeConfig::default(),
    };
    if let Some(v) = env("IMI_HEADER_TIMEOUT") {
        args.serve.header_read_timeout = seconds("IMI_HEADER_TIMEOUT", &v)?;
    }
    if let Some(v) = env("IMI_IDLE_TIMEOUT") {
        args.serve.idle_timeout = seconds("IMI_IDLE_TIMEOUT", &v)?;
    }
    if let Some(v) = env("IMI_MAX_CONNECTIONS") {
        args.serve.max_connections = connections(&v)?;
    }
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value\n{USAGE}"));
        match flag.as_str() {
            "--addr" => args.addr = value()?,
            "--data" => args.data = PathBuf::from(value()?),
            "--store" => args.store = value()?,
            "--catalogue" => args.catalogue = PathBuf::from(value()?),
            "--smtp" => args.smtp = Some(value()?),
            "--smtp-security" => args.smtp_security = Some(value()?),
            "--smtp-user" => args.smtp_user = Some(value()?),
            "--oidc-issuer" => args.oidc_issuer = Some(value()?),
            "--oidc-audience" => args.oidc_audience = Some(value()?),
            "--sso-issuer" => args.sso_issuer = Some(value()?),
            "--sso-client-id" => args.sso_client_id = Some(value()?),
            "--mail-from" => args.mail_from = value()?,
            "--public-url" => args.public_url = Some(value()?),
            "--header-timeout" => {
                args.serve.header_read_timeout = seconds("--header-timeout", &value()?)?;
            }
            "--idle-timeout" => args.serve.idle_timeout = seconds("--idle-timeout", &value()?)?,
            "--max-connections" => args.serve.max_connections = connections(&value()?)?,
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    Ok(args)
}

/// The key that seals webhook secrets at rest: `IMI_SECRET_KEY` (64 hex digits), else
/// the file `secret.key` in the data directory, made (readable by this user only) at the
/// first start. Keep that file, or the variable, out of database backups.
fn secret_key(data: &std::path::Path) -> Result<imi_core::webhook::SecretKey, String> {
    if let Ok(text) = std::env::var("IMI_SECRET_KEY") {
        return text.parse().map_err(|e| format!("IMI_SECRET_KEY: {e}"));
    }
    let path = data.join("secret.key");
    if let Ok(text) = std::fs::read_to_string(&path) {
        return text.parse().map_err(|e| format!("{}: {e}", path.display()));
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness for a key: {e}"))?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    use std::io::Write as _;
    #[cfg(unix)]
    let file = {
        use std::os::unix::fs::OpenOptionsExt as _;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
    };
    #[cfg(not(unix))]
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path);
    file.and_then(|mut f| f.write_all(hex.as_bytes()))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    eprintln!(
        "imi-server: made {} (seals webhook secrets; keep it out of backups of the store)",
        path.display()
    );
    Ok(imi_core::webhook::SecretKey::from_bytes(bytes))
}

/// A connection limit (1 to 100 000).
fn connections(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n @ 1..=100_000) => Ok(n),
        _ => Err(format!("--max-connections wants 1 to 100000, not `{text}`")),
    }
}

async fn open_store(args: &Args) -> Result<Arc<dyn Store>, String> {
    std::fs::create_dir_all(&args.data)
        .map_err(|e| format!("cannot create {}: {e}", args.data.display()))?;
    match args.store.as_str() {
        "sqlite" => {
            let path = args.data.join("imi.sqlite");
            let s = SqliteStore::open(&path, SqliteConfig::default()).await;
            Ok(Arc::new(s.map_err(|e| format!("{}: {e}", path.display()))?))
        }
        "sled" => {
            let path = args.data.join("imi.sled");
            let s = SledStore::open(&path, SledConfig::default()).await;
            Ok(Arc::new(s.map_err(|e| format!("{}: {e}", path.display()))?))
        }
        other => Err(format!("unknown store `{other}`: use sqlite or sled")),
    }
}

/// One demo user, printed with a fresh token at every start.
struct DemoUser {
    label: &'static str,
    user: UserId,
}

fn text(pairs: &[(Language, &str)]) -> Result<LocalisedText, String> {
    LocalisedText::from_pairs(pairs.iter().copied()).map_err(|e| e.to_string())
}

/// Creates the demo world on first start: three countries with national coordinators,
/// a regional coordinator, competent authorities with procedure access, and users.
async fn demo_world(engine: &Engine) -> Result<(), String> {
    let sys = Actor::System;
    let fail = |e: imi_core::EngineError| e.to_string();
    let steps = 6;
    let mut step = 0;
    let mut progress = |what: &str| {
        step += 1;
        eprintln!("  [{step}/{steps}] {what}");
    };
    let pq: imi_core::catalogue::AreaId = "professional-qualifications"
        .parse()
        .map_err(|e: imi_core::catalogue::SlugError| e.to_string())?;
    let health = |kw: &[&str]| Competence {
        area: pq.clone(),
        keywords: kw.iter().map(|k| (*k).to_owned()).collect(),
    };
    let register = |country: Country,
                    names: &[(Language, &str)],
                    competences: Vec<Competence>,
                    email: &str| {
        let names = text(names);
        let email = email.parse().ok();
        async move {
            let mut n = NewAuthority::new(country, names?);
            n.competences = competences;
            n.languages = country.official_languages().to_vec();
            n.contact = ContactDetails {
                email,
                ..ContactDetails::default()
            };
            engine
                .register_authority(&Actor::System, n)
                .await
                .map_err(|e| e.to_string())
        }
    };
    progress("national coordinators of Denmark, France and Germany");
    let dk = register(
        Country::Denmark,
        &[
            (Language::Danish, "Erhvervsstyrelsen"),
            (Language::English, "Danish Business Authority"),
        ],
        vec![health(&[])],
        "imi@erst.dk",
    )
    .await?;
    let fr = register(
        Country::France,
        &[
            (
                Language::French,
                "Secrétariat général des affaires européennes",
            ),
            (
                Language::English,
                "General Secretariat for European Affairs",
            ),
        ],
        vec![health(&[])],
        "imi@sgae.gouv.fr",
    )
    .await?;
    let de = register(
        Country::Germany,
        &[
            (
                Language::German,
                "Bundesministerium für Wirtschaft und Energie",
            ),
            (Language::English, "Federal Ministry for Economic Affairs"),
        ],
        vec![health(&[])],
        "imi@bmwk.bund.de",
    )
    .await?;
    for a in [&dk, &fr, &de] {
        let country = a.participant();
        let taken = match country.country() {
            Some(c) => engine
                .national_coordinator(&sys, c)
                .await
                .map_err(fail)?
                .is_some(),
            None => false,
        };
        if taken {
            // A store made by another tool (e.g. `imi-scale --data`) with its own
            // national structure: the demo's authority stays an ordinary one.
            eprintln!(
                "imi-server: {country} already has a national coordinator; the demo's {} is not appointed",
                a.name().source_text()
            );
            continue;
        }
        engine
            .appoint_coordinator(&sys, a.id(), Some(CoordinatorRole::National))
            .await
            .map_err(fail)?;
    }
    progress("competent authorities");
    let stps = register(
        Country::Denmark,
        &[
            (Language::Danish, "Styrelsen for Patientsikkerhed"),
            (Language::English, "Danish Patient Safety Authority"),
        ],
        vec![health(&["sygeplejersker", "læger", "nurses"])],
        "stps@stps.dk",
    )
    .await?;
    let oni = register(
        Country::France,
        &[
            (Language::French, "Ordre national des infirmiers"),
            (Language::English, "French National Order of Nurses"),
        ],
        vec![health(&["infirmiers", "soins infirmiers", "nurses"])],
        "imi@ordre-infirmiers.fr",
    )
    .await?;
    let bak = register(
        Country::Germany,
        &[
            (Language::German, "Bundesärztekammer"),
            (Language::English, "German Medical Association"),
        ],
        vec![health(&["Ärzte", "Krankenpflege", "doctors"])],
        "imi@baek.de",
    )
    .await?;
    progress("a regional coordinator in Bavaria");
    let by = register(
        Country::Germany,
        &[(
            Language::German,
            "Bayerisches Staatsministerium für Gesundheit",
        )],
        vec![health(&[])],
        "imi@stmgp.bayern.de",
    )
    .await?;
    engine
        .appoint_coordinator(
            &sys,
            by.id(),
            Some(CoordinatorRole::Scoped {
                areas: Default::default(),
                regions: ["DE-BY"
                    .parse()
                    .map_err(|e: imi_core::authority::AuthorityInputError| e.to_string())?]
                .into(),
            }),
        )
        .await
        .map_err(fail)?;
    progress("procedure access");
    let catalogue = engine.catalogue();
    for a in [&stps, &oni, &bak, &dk, &fr, &de] {
        for p in catalogue
            .procedures()
            .filter(|p| p.area.as_str() == "professional-qualifications")
        {
            engine
                .grant_procedure(&sys, a.id(), &p.id)
                .await
                .map_err(fail)?;
        }
    }
    // The national authorities host their country's SOLVIT centre.
    for a in [&dk, &fr, &de] {
        for p in catalogue
            .procedures()
            .filter(|p| p.area.as_str() == "solvit")
        {
            engine
                .grant_procedure(&sys, a.id(), &p.id)
                .await
                .map_err(fail)?;
        }
    }
    progress("users and rights");
    for (_, authority, name, email, language, admin) in [
        (
            "DK_COORDINATOR",
            &dk,
            "Mette Jensen",
            "mette@erst.dk",
            Language::Danish,
            true,
        ),
        (
            "FR_COORDINATOR",
            &fr,
            "Claire Martin",
            "claire@sgae.gouv.fr",
            Language::French,
            true,
        ),
        (
            "DE_COORDINATOR",
            &de,
            "Jonas Weber",
            "jonas@bmwk.bund.de",
            Language::German,
            true,
        ),
        (
            "DK_HANDLER",
            &stps,
            "Lars Nielsen",
            "lars@stps.dk",
            Language::Danish,
            false,
        ),
        (
            "FR_HANDLER",
            &oni,
            "Julie Bernard",
            "julie@ordre-infirmiers.fr",
            Language::French,
            false,
        ),
        // The Danish Patient Safety Authority's administrator answers surveys for it.
        (
            "DK_ADMIN",
            &stps,
            "Hanne Lund",
            "hanne@stps.dk",
            Language::Danish,
            true,
        ),
    ] {
        let email = email
            .parse()
            .map_err(|e: imi_core::authority::AuthorityInputError| e.to_string())?;
        let u = engine
            .create_user(
                &sys,
                authority.id(),
                NewUser {
                    name: name.into(),
                    email,
                    language,
                },
            )
            .await
            .map_err(fail)?;
        // Everyone handles requests and alerts; the coordinators' administrators also
        // validate their country's outgoing alerts and distribute incoming ones.
        let mut grants = vec![
            Grant::new(Right::RequestHandler, GrantScope::Everything),
            Grant::new(Right::Viewer, GrantScope::Everything),
            Grant::new(Right::OutgoingAlertHandler, GrantScope::Everything),
            Grant::new(Right::IncomingAlertHandler, GrantScope::Everything),
        ];
        if admin {
            grants.push(Grant::new(Right::Administrator, GrantScope::Everything));
            grants.push(Grant::new(
                Right::OutgoingAlertCoordinator,
                GrantScope::Everything,
            ));
            grants.push(Grant::new(
                Right::IncomingAlertCoordinator,
                GrantScope::Everything,
            ));
        }
        engine
            .set_grants(&sys, u.id(), grants)
            .await
            .map_err(fail)?;
    }
    // Alerts on restrictions to practise reach the nursing regulators directly: France's
    // go to the Ordre national des infirmiers, Denmark's to the Patient Safety Authority.
    let alert: imi_core::catalogue::ProcedureId = "pq-restriction-alert"
        .parse()
        .map_err(|e: imi_core::catalogue::SlugError| e.to_string())?;
    for (country, handler) in [(Country::France, &oni), (Country::Denmark, &stps)] {
        engine
            .set_alert_network(
                &sys,
                country.into(),
                &alert,
                imi_core::AlertNetwork {
                    validates_outgoing: false,
                    handlers: [handler.id()].into_iter().collect(),
                },
            )
            .await
            .map_err(fail)?;
    }
    progress("done");
    Ok(())
}

/// The demo users, found again on every start by their e-mail addresses.
async fn demo_users(engine: &Engine) -> Result<Vec<DemoUser>, String> {
    let labels = [
        ("DK_COORDINATOR", "mette@erst.dk"),
        ("FR_COORDINATOR", "claire@sgae.gouv.fr"),
        ("DE_COORDINATOR", "jonas@bmwk.bund.de"),
        ("DK_HANDLER", "lars@stps.dk"),
        ("FR_HANDLER", "julie@ordre-infirmiers.fr"),
        ("DK_ADMIN", "hanne@stps.dk"),
    ];
    let mut found = Vec::new();
    // Page through each country's authorities (a big store holds thousands), until every
    // demo user is found.
    for country in [Country::Denmark, Country::France, Country::Germany] {
        let mut page = PageRequest::first(500).map_err(|e| e.to_string())?;
        loop {
            if found.len() == labels.len() {
                break;
            }
            let authorities = engine
                .authorities_of(&Actor::System, country.into(), page.clone())
                .await
                .map_err(|e| e.to_string())?;
            for a in &authorities.items {
                let users = engine
                    .users_of(&Actor::System, a.id(), PageRequest::default())
                    .await
                    .map_err(|e| e.to_string())?;
                for u in users.items {
                    if let Some((label, _)) = labels
                        .iter()
                        .find(|(_, email)| u.email().as_str() == *email)
                    {
                        found.push(DemoUser {
                            label,
                            user: u.id(),
                        });
                    }
                }
            }
            match authorities.next {
                Some(next) => page = page.after(next),
                None => break,
            }
        }
    }
    found.sort_by_key(|d| labels.iter().position(|(l, _)| *l == d.label));
    Ok(found)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    eprintln!("imi-server: stopping");
}

async fn run() -> Result<(), String> {
    let args = parse_args()?;
    let sources = imi_examples::read_catalogue_dir(&args.catalogue).map_err(|e| e.to_string())?;
    let catalogue = Catalogue::load(&sources).map_err(|e| e.to_string())?;
    let store = open_store(&args).await?;
    let engine = Arc::new(
        Engine::new(store, Arc::new(chrono::Utc::now)).with_secret_key(secret_key(&args.data)?),
    );
    // Versions published before (and perhaps gone from the files since) come back first,
    // so open cases keep theirs; the files are checked against them.
    engine
        .restore_question_sets(&Actor::System)
        .await
        .map_err(|e| e.to_string())?;
    engine
        .publish_catalogue(&Actor::System, catalogue)
        .map_err(|e| e.to_string())?;
    engine
        .persist_question_sets(&Actor::System)
        .await
        .map_err(|e| e.to_string())?;
    // The demo world is created once: when none of its users is in the store (a new
    // store, or one another tool made).
    let mut demo = demo_users(&engine).await?;
    if demo.is_empty() {
        eprintln!(
            "imi-server: first start: creating the demo world in {}",
            args.data.display()
        );
        demo_world(&engine).await?;
        demo = demo_users(&engine).await?;
    }
    let listener = tokio::net::TcpListener::bind(&args.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.addr))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!(
        "imi-server: listening on http://{addr} ({} store in {})",
        args.store,
        args.data.display()
    );
    println!("imi-server: demo tokens (fresh at every start):");
    println!("export IMI=http://{addr}");
    for d in demo {
        let token = engine
            .issue_token(&Actor::System, d.user)
            .await
            .map_err(|e| e.to_string())?;
        println!("export {}={}", d.label, token.expose());
    }
    println!(
        "imi-server: open http://{addr}/ in a browser and sign in with one of the tokens above"
    );
    println!("imi-server: citizens and businesses use http://{addr}/public (no account)");
    println!("imi-server: ready; press Ctrl-C to stop");
    // Deadlines: reminders and escalations, checked every minute.
    let ticking = Arc::clone(&engine);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            every.tick().await;
            if let Err(e) = ticking.tick(chrono::Utc::now(), 1_000).await {
                tracing::warn!(error = %e, "deadline tick failed");
            }
        }
    });
    // The outbox: e-mailed through the SMTP server, when there is one.
    match &args.smtp {
        Some(smtp) => {
            let (host, port) = smtp
                .rsplit_once(':')
                .and_then(|(h, p)| p.parse::<u16>().ok().map(|p| (h, p)))
                .ok_or_else(|| format!("--smtp wants HOST:PORT, not `{smtp}`"))?;
            let public_url = args
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://{addr}"));
            // TLS unless the relay is on this machine; the password only from the
            // environment (never on a command line other users can read).
            use imi_examples::smtp::{SmtpSecurity, SmtpSettings};
            let loopback = host == "localhost"
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            let security = match &args.smtp_security {
                Some(s) => s.parse::<SmtpSecurity>()?,
                None if loopback => SmtpSecurity::Plain,
                None => SmtpSecurity::StartTls,
            };
            let credentials = match (&args.smtp_user, std::env::var("IMI_SMTP_PASSWORD")) {
                (Some(user), Ok(password)) => Some((user.clone(), password)),
                (Some(_), Err(_)) => {
                    return Err("--smtp-user needs the password in IMI_SMTP_PASSWORD".into());
                }
                (None, _) => None,
            };
            let settings = SmtpSettings {
                security,
                credentials,
                ..SmtpSettings::new(host, port)
            };
            let notifier = imi_examples::webhook::Channels {
                email: imi_examples::smtp::SmtpNotifier::with_settings(
                    &settings,
                    &args.mail_from,
                    &public_url,
                )
                .map_err(|e| e.to_string())?,
                webhooks: imi_examples::webhook::WebhookNotifier::new(
                    std::time::Duration::from_secs(10),
                )
                .map_err(|e| e.to_string())?,
            };
            let dispatching = Arc::clone(&engine);
            println!("imi-server: e-mailing announcements through {smtp}, and calling webhooks");
            tokio::spawn(async move {
                let mut every = tokio::time::interval(std::time::Duration::from_secs(5));
                loop {
                    every.tick().await;
                    match dispatching
                        .dispatch(&notifier, 100, chrono::Duration::minutes(5))
                        .await
                    {
                        Ok(r) if r.failed > 0 || r.dead > 0 => {
                            tracing::warn!(
                                failed = r.failed,
                                dead = r.dead,
                                "some e-mails failed; they are retried"
                            );
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "dispatch failed"),
                    }
                }
            });
        }
        None => println!("imi-server: no --smtp: announcements wait in the outbox"),
    }
    // Single sign-on: JWT access tokens from an OpenID provider, beside imi_ tokens.
    let mut http = imi_http::HttpConfig::default();
    match (&args.oidc_issuer, &args.oidc_audience) {
        (Some(issuer), Some(audience)) => {
            let mut config = imi_http::oidc::OidcConfig::new(issuer, audience);
            if let Ok(claim) = std::env::var("IMI_OIDC_USER_CLAIM") {
                config.user_claim = claim;
            }
            // Plain http only to a provider on this machine (development).
            config.allow_http = true;
            let oidc = imi_http::oidc::OidcAuthenticator::new(config).map_err(|e| e.to_string())?;
            println!("imi-server: accepting access tokens from {issuer} for {audience}");
            http.authenticator = oidc;
        }
        (None, None) => {}
        _ => return Err("--oidc-issuer and --oidc-audience go together".into()),
    }
    // The web application answers everything the API does not: the API's paths first
    // (`/v1`, `/openapi.json`, `/healthz`, `/readyz`), then the pages.
    let web = imi_web::WebConfig {
        // Cookies marked Secure only when the public address is https (the demo runs on
        // plain http://127.0.0.1).
        secure_cookies: args
            .public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://")),
        sign_on: sign_on(&args)?,
        ..imi_web::WebConfig::default()
    };
    let app = imi_http::router(Arc::clone(&engine), http)
        .fallback_service(imi_web::router(Arc::clone(&engine), web));
    // Header-read and idle timeouts and a connection limit (slow or silent clients cannot
    // exhaust the server); the connection's address feeds the public rate limit.
    imi_http::serve(listener, app, args.serve, shutdown_signal()).await;
    eprintln!("imi-server: stopped");
    Ok(())
}

/// The web application's single sign-on, when `--sso-issuer` and `--sso-client-id` are
/// given: the authorization code flow with PKCE against that provider, coming back to
/// `<public URL>/sign-in/callback`. The client secret, if the provider gave one, comes
/// from `IMI_SSO_CLIENT_SECRET` (never a flag: flags show in process lists); the claim
/// naming the imi user from `IMI_OIDC_USER_CLAIM` (default `imi_user`).
fn sign_on(args: &Args) -> Result<Option<Arc<dyn imi_core::session::SignOn>>, String> {
    let (issuer, client) = match (&args.sso_issuer, &args.sso_client_id) {
        (Some(i), Some(c)) => (i, c),
        (None, None) => return Ok(None),
        _ => return Err("--sso-issuer and --sso-client-id go together".into()),
    };
    let base = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", args.addr));
    let redirect = format!("{}/sign-in/callback", base.trim_end_matches('/'));
    let mut config = imi_http::oidc::SignOnConfig::new(issuer, client, &redirect);
    config.client_secret = std::env::var("IMI_SSO_CLIENT_SECRET").ok();
    if let Ok(claim) = std::env::var("IMI_OIDC_USER_CLAIM") {
        config.user_claim = claim;
    }
    if let Ok(name) = std::env::var("IMI_SSO_NAME") {
        config.name = name;
    }
    // Plain http only to a provider on this machine (development).
    config.allow_http = true;
    let sso = imi_http::oidc::OidcSignOn::new(config).map_err(|e| e.to_string())?;
    println!("imi-server: single sign-on through {issuer} (client {client}, back to {redirect})");
    Ok(Some(sso))
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("IMI_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("imi-server: {message}");
            ExitCode::FAILURE
        }
    }
}
