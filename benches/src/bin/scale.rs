//! `imi-scale`: builds a realistic world step by step and measures how the cost of the
//! everyday reads and writes grows with it.
//!
//! ```text
//! imi-scale [--store sqlite|sled] [--authorities N] [--users-per-authority U]
//!           [--requests 100000,1000000,10000000] [--templates T] [--samples S]
//!           [--requests-per-alert R] [--alert-handlers H] [--data DIR]
//! ```
//!
//! The world: N authorities over the 30 countries (names in two or three languages,
//! regions, competences; one in ten has access to the request procedure), U users each,
//! and requests between T pairs of authorities in mixed states (10 % drafts, 10 %
//! awaiting acceptance, 20 % accepted, 10 % answered, 50 % closed): each pair's template
//! request goes through the real commands, then is copied with
//! `Engine::replicate_request` (every index entry a request in that state has). Alerts:
//! every country has a national coordinator for incoming alerts and an alert network of H
//! health authorities whose users handle incoming alerts and send their own; one alert is
//! sent for every R requests, through the real commands (16 at a time, so that they share
//! commits), from a rotating country to one to five others (every tenth to all 29 others),
//! and then a quarter are acknowledged by a handler and a fifth closed by their sender.
//! After each request count in `--requests` it measures, over S samples each:
//! - inbox: the first page (20) of a random requester's inbox, and of its by-deadline view,
//! - alert boxes: the first page of a random handler's handling box and of a random
//!   coordinator's incoming box, and the broadcasts sent since the last checkpoint,
//! - search: directory searches (rare words, a common word, country + area),
//! - transitions: full request lifecycles (6 durable commands) between two authorities.
//!
//! Defaults: SQLite (`synchronous=FULL`), 100 000 authorities, 10 users each (1 000 000),
//! checkpoints at 100 000, 1 000 000 and 10 000 000 requests, 10 000 templates, one alert
//! per 1 000 requests (10 000 alerts at 10 000 000; `--requests-per-alert 0` sends none),
//! 10 alert handlers per country, 2 000 samples, a fresh directory under the system's
//! temporary directory (`--data` keeps it, e.g. to start the example server on it).
//! Progress goes to standard error, the table to standard output.

#![allow(clippy::print_stdout, clippy::print_stderr)] // a command-line program talks on its terminal

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use imi_core::alert::AlertCommand;
use imi_core::catalogue::Side;
use imi_core::catalogue::{AnswerValue, Answers, ProcedureId, Right};
use imi_core::request::RequestCommand as C;
use imi_core::{
    AlertBox, AlertNetwork, AuthorityId, CaseId, Country, DirectoryQuery, Engine, InboxQuery,
    Language, LanguagePreferences, ManualClock, PageRequest, Participant, access::Actor,
    authority::CoordinatorRole, store::Store, user::Grant, user::GrantScope, user::NewUser,
};
use imi_store_sled::{SledConfig, SledStore};
use imi_store_sqlite::{SqliteConfig, SqliteStore};

type Failure = Box<dyn std::error::Error + Send + Sync>;

struct Args {
    store: String,
    authorities: usize,
    users_per_authority: usize,
    checkpoints: Vec<usize>,
    templates: usize,
    samples: usize,
    requests_per_alert: usize,
    alert_handlers: usize,
    data: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        store: "sqlite".into(),
        authorities: 100_000,
        users_per_authority: 10,
        checkpoints: vec![100_000, 1_000_000, 10_000_000],
        templates: 10_000,
        samples: 2_000,
        requests_per_alert: 1_000,
        alert_handlers: 10,
        data: None,
    };
    let num = |flag: &str, v: &str| -> Result<usize, String> {
        v.replace('_', "")
            .parse()
            .map_err(|e| format!("{flag}: {e}"))
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--store" => args.store = value()?,
            "--authorities" => args.authorities = num(&flag, &value()?)?,
            "--users-per-authority" => args.users_per_authority = num(&flag, &value()?)?,
            "--requests" => {
                args.checkpoints = value()?
                    .split(',')
                    .map(|v| num(&flag, v))
                    .collect::<Result<_, _>>()?;
            }
            "--templates" => args.templates = num(&flag, &value()?)?,
            "--samples" => args.samples = num(&flag, &value()?)?,
            "--requests-per-alert" => args.requests_per_alert = num(&flag, &value()?)?,
            "--alert-handlers" => args.alert_handlers = num(&flag, &value()?)?,
            "--data" => args.data = Some(PathBuf::from(value()?)),
            "-h" | "--help" => return Err("usage: imi-scale [--store sqlite|sled] [--authorities N] [--users-per-authority U] [--requests A,B,C] [--templates T] [--samples S] [--requests-per-alert R] [--alert-handlers H] [--data DIR]".into()),
            other => return Err(format!("unknown argument `{other}` (try --help)")),
        }
    }
    args.checkpoints.sort_unstable();
    // Each country needs a coordinator and H handlers among its health authorities (one
    // in 60 of all authorities is a health authority of a given country).
    let alert_authorities = 60 * (args.alert_handlers + 1);
    if args.requests_per_alert > 0
        && (args.alert_handlers == 0 || args.authorities < alert_authorities)
    {
        return Err(format!(
            "alerts need --alert-handlers of at least 1 and at least {alert_authorities} authorities for them (or --requests-per-alert 0)"
        ));
    }
    if args.authorities < 20
        || args.templates == 0
        || args.samples == 0
        || args.checkpoints.first().is_none_or(|&c| c < args.templates)
    {
        return Err("need at least 20 authorities, 1 template, 1 sample, and checkpoints of at least --templates requests".into());
    }
    Ok(args)
}

/// p50, p99 and max of a sample, in milliseconds.
fn percentiles(mut v: Vec<Duration>) -> (f64, f64, f64) {
    v.sort_unstable();
    let ms = |q| imi_benches::quantile(&v, q).as_secs_f64() * 1e3;
    (ms(0.5), ms(0.99), ms(1.0))
}

/// A request handler at each authority of a template pair.
struct Pair {
    requester: Actor,
    responder: Actor,
    template: CaseId,
}

/// Creates `per` users at each authority, 32 authorities at a time (group commit).
async fn users(engine: &Arc<Engine>, ids: &[AuthorityId], per: usize) -> Result<(), Failure> {
    let started = Instant::now();
    let email: imi_core::authority::EmailAddress = "official@example.eu".parse()?;
    let mut done = 0usize;
    for chunk in ids.chunks(32) {
        let tasks: Vec<_> = chunk
            .iter()
            .map(|&a| {
                let engine = Arc::clone(engine);
                let email = email.clone();
                tokio::spawn(async move {
                    for u in 0..per {
                        engine
                            .create_user(
                                &Actor::System,
                                a,
                                NewUser {
                                    name: format!("Official {u}"),
                                    email: email.clone(),
                                    language: Language::English,
                                },
                            )
                            .await?;
                    }
                    Ok::<(), imi_core::EngineError>(())
                })
            })
            .collect();
        for t in tasks {
            t.await??;
        }
        done += chunk.len() * per;
        if done % 100_000 < chunk.len() * per {
            eprintln!(
                "  users: {done} / {} ({:.0}/s)",
                ids.len() * per,
                done as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}

/// A user of `authority` holding the request-handler right.
async fn handler(engine: &Engine, authority: AuthorityId) -> Result<Actor, Failure> {
    user_with(
        engine,
        authority,
        "Request handler",
        &[Right::RequestHandler],
    )
    .await
}

/// A user of `authority` holding `rights` for everything.
async fn user_with(
    engine: &Engine,
    authority: AuthorityId,
    name: &str,
    rights: &[Right],
) -> Result<Actor, Failure> {
    let u = engine
        .create_user(
            &Actor::System,
            authority,
            NewUser {
                name: name.into(),
                email: "handler@example.eu".parse()?,
                language: Language::English,
            },
        )
        .await?;
    engine
        .set_grants(
            &Actor::System,
            u.id(),
            rights
                .iter()
                .map(|r| Grant::new(*r, GrantScope::Everything))
                .collect(),
        )
        .await?;
    Ok(engine.actor_for(u.id()).await?)
}

/// One country's side of the alert procedure.
struct AlertCountry {
    country: Country,
    /// A user of the national coordinator, which coordinates incoming alerts.
    coordinator: Actor,
    /// A user of each authority of the country's alert network; they handle incoming
    /// alerts and send the country's own.
    handlers: Vec<Actor>,
}

/// Makes the first health authority of every country its national coordinator and the
/// next `per_country` its alert network for `health-alert`.
async fn alert_side(
    engine: &Engine,
    ids: &[AuthorityId],
    per_country: usize,
) -> Result<Vec<AlertCountry>, Failure> {
    let procedure: ProcedureId = "health-alert".parse()?;
    let mut side = Vec::with_capacity(Country::ALL.len());
    for (c, country) in Country::ALL.into_iter().enumerate() {
        let health: Vec<AuthorityId> = (c..ids.len())
            .step_by(30)
            .filter(|&i| imi_benches::world_area(i) == "health")
            .map(|i| ids[i])
            .take(per_country + 1)
            .collect();
        let Some((&national, network)) = health.split_first() else {
            return Err(format!("{country} has no health authority").into());
        };
        engine
            .appoint_coordinator(&Actor::System, national, Some(CoordinatorRole::National))
            .await?;
        engine
            .grant_procedure(&Actor::System, national, &procedure)
            .await?;
        let coordinator = user_with(
            engine,
            national,
            "Alert coordinator",
            &[Right::IncomingAlertCoordinator],
        )
        .await?;
        let mut handlers = Vec::with_capacity(network.len());
        for &a in network {
            engine
                .grant_procedure(&Actor::System, a, &procedure)
                .await?;
            handlers.push(
                user_with(
                    engine,
                    a,
                    "Alert handler",
                    &[Right::IncomingAlertHandler, Right::OutgoingAlertHandler],
                )
                .await?,
            );
        }
        engine
            .set_alert_network(
                &Actor::System,
                country.into(),
                &procedure,
                AlertNetwork {
                    validates_outgoing: false,
                    handlers: network.iter().copied().collect(),
                },
            )
            .await?;
        side.push(AlertCountry {
            country,
            coordinator,
            handlers,
        });
    }
    Ok(side)
}

/// Sends alert number `n` (its sender, recipients and later state follow from `n`) and
/// returns how long its broadcast took.
async fn send_alert(engine: &Engine, side: &[AlertCountry], n: u64) -> Result<Duration, Failure> {
    let mut rng = imi_benches::SplitMix(n);
    let count = side.len() as u64;
    let from = usize::try_from(n % count)?;
    let sender =
        &side[from].handlers[usize::try_from(rng.next_u64() % side[from].handlers.len() as u64)?];
    let others: Vec<usize> = (0..side.len()).filter(|&c| c != from).collect();
    let to: Vec<usize> = if n.is_multiple_of(10) {
        others
    } else {
        let k = rng.in_range(1, 5);
        let mut picked = std::collections::BTreeSet::new();
        while (picked.len() as u64) < k {
            picked.insert(others[usize::try_from(rng.next_u64() % others.len() as u64)?]);
        }
        picked.into_iter().collect()
    };
    let procedure: ProcedureId = "health-alert".parse()?;
    let id = engine.create_alert(sender, &procedure).await?.case.id;
    let mut answers = Answers::new();
    answers.set(
        "professional".parse()?,
        AnswerValue::Text(format!("Professional {n}")),
    );
    engine
        .act_on_alert(sender, id, AlertCommand::SaveDraft { answers }, None)
        .await?;
    let recipients = to
        .iter()
        .map(|&c| Participant::from(side[c].country))
        .collect();
    let started = Instant::now();
    engine
        .act_on_alert(sender, id, AlertCommand::Submit { recipients }, None)
        .await?;
    let broadcast = started.elapsed();
    if n.is_multiple_of(4) {
        let first = &side[to[0]].handlers[0];
        engine
            .act_on_alert(first, id, AlertCommand::Acknowledge, None)
            .await?;
    }
    if n % 5 == 1 {
        let reason = "The restriction was lifted.".to_owned();
        engine
            .act_on_alert(sender, id, AlertCommand::Close { reason }, None)
            .await?;
    }
    Ok(broadcast)
}

/// Sends alerts `from..to`, 16 at a time; returns the broadcasts' latencies.
async fn send_alerts(
    engine: &Arc<Engine>,
    side: &Arc<Vec<AlertCountry>>,
    from: u64,
    to: u64,
) -> Result<Vec<Duration>, Failure> {
    let started = Instant::now();
    let mut latencies = Vec::new();
    let mut n = from;
    while n < to {
        let end = (n + 16).min(to);
        let tasks: Vec<_> = (n..end)
            .map(|k| {
                let engine = Arc::clone(engine);
                let side = Arc::clone(side);
                tokio::spawn(async move { send_alert(&engine, &side, k).await })
            })
            .collect();
        for t in tasks {
            latencies.push(t.await??);
        }
        n = end;
        if n % 1_000 < 16 || n == to {
            eprintln!(
                "  alerts: {n} / {to} ({:.0}/s)",
                (n - from) as f64 / started.elapsed().as_secs_f64().max(1e-9)
            );
        }
    }
    Ok(latencies)
}

/// Creates a request and runs the first `steps` further commands of its lifecycle
/// (save, send, accept, answer, accept the answer), pushing each command's latency to
/// `latencies`; returns its id.
async fn drive(
    engine: &Engine,
    pair: (&Actor, &Actor, AuthorityId),
    steps: usize,
    latencies: &mut Vec<Duration>,
) -> Result<CaseId, Failure> {
    let (dk, fr, fr_id) = pair;
    let procedure: ProcedureId = "health-request".parse()?;
    let started = Instant::now();
    let id = engine.create_request(dk, &procedure).await?.case.id;
    latencies.push(started.elapsed());
    let mut draft = Answers::new();
    draft.set("q".parse()?, AnswerValue::YesNo(true));
    let commands = [
        (dk, C::SaveDraft { answers: draft }),
        (
            dk,
            C::Send {
                recipient: fr_id,
                needed_by: "2027-03-31".parse()?,
            },
        ),
        (fr, C::Accept { days: 20 }),
        (
            fr,
            C::Answer {
                answers: Answers::new(),
            },
        ),
        (dk, C::AcceptAnswer { rating: None }),
    ];
    for (actor, command) in commands.into_iter().take(steps) {
        let started = Instant::now();
        engine.act_on_request(actor, id, command, None).await?;
        latencies.push(started.elapsed());
    }
    Ok(id)
}

async fn measure(
    engine: &Engine,
    authorities: usize,
    pairs: &[Pair],
    side: &[AlertCountry],
    extra: (&Actor, &Actor, AuthorityId),
    samples: usize,
    rng: &mut imi_benches::SplitMix,
) -> Result<Vec<(String, (f64, f64, f64))>, Failure> {
    let mut rows = Vec::new();
    let mut inbox = Vec::with_capacity(samples);
    let mut by_deadline = Vec::with_capacity(samples);
    let page = PageRequest::first(20)?;
    for _ in 0..samples {
        let pick = rng.next_u64() % u64::try_from(pairs.len()).unwrap_or(1);
        let pair = &pairs[usize::try_from(pick).unwrap_or(0)];
        let started = Instant::now();
        let got = engine
            .inbox(&pair.requester, &InboxQuery::default(), page.clone())
            .await?;
        inbox.push(started.elapsed());
        if got.items.is_empty() {
            return Err("an inbox came back empty".into());
        }
        let started = Instant::now();
        engine
            .inbox_by_deadline(&pair.responder, Side::Responder, None, false, page.clone())
            .await?;
        by_deadline.push(started.elapsed());
    }
    rows.push(("inbox, first page of 20".to_owned(), percentiles(inbox)));
    rows.push((
        "inbox by deadline, first page".to_owned(),
        percentiles(by_deadline),
    ));
    if !side.is_empty() {
        let mut handling = Vec::with_capacity(samples);
        let mut incoming = Vec::with_capacity(samples);
        for _ in 0..samples {
            let country = &side[usize::try_from(rng.next_u64() % side.len() as u64)?];
            let handler =
                &country.handlers[usize::try_from(rng.next_u64() % country.handlers.len() as u64)?];
            let started = Instant::now();
            engine
                .alerts(handler, AlertBox::Handling, None, page.clone())
                .await?;
            handling.push(started.elapsed());
            let started = Instant::now();
            engine
                .alerts(&country.coordinator, AlertBox::Incoming, None, page.clone())
                .await?;
            incoming.push(started.elapsed());
        }
        rows.push((
            "alert handling box, first page".to_owned(),
            percentiles(handling),
        ));
        rows.push((
            "alert incoming box, first page".to_owned(),
            percentiles(incoming),
        ));
    }
    let english = LanguagePreferences::only(Language::English);
    let queries: Vec<(&str, DirectoryQuery)> = vec![
        (
            "search: rare words",
            DirectoryQuery {
                text: Some("arztekammer hafen 273".into()),
                ..DirectoryQuery::default()
            },
        ),
        (
            "search: one common word",
            DirectoryQuery {
                text: Some("gesundheitsamt".into()),
                ..DirectoryQuery::default()
            },
        ),
        (
            "search: country + area",
            DirectoryQuery {
                // The first country: its authorities are half health, half transport.
                participant: Some(Participant::Country(Country::ALL[0])),
                area: Some("health".parse()?),
                ..DirectoryQuery::default()
            },
        ),
    ];
    for (label, query) in queries {
        let mut times = Vec::with_capacity(samples);
        let mut hits = 0;
        for _ in 0..samples {
            let started = Instant::now();
            hits = engine
                .search_directory(&pairs[0].requester, &query, &english, page.clone())
                .await?
                .items
                .len();
            times.push(started.elapsed());
        }
        rows.push((
            format!("{label} ({hits} hits on the first page)"),
            percentiles(times),
        ));
    }
    // The same kind of query for a different authority each time: the words' index
    // lookups are not yet in the engine's cache.
    let mut times = Vec::with_capacity(samples);
    let mut found = 0;
    for _ in 0..samples {
        let i = usize::try_from(rng.next_u64() % authorities as u64)?;
        let query = DirectoryQuery {
            text: Some(imi_benches::world_name_query(i)),
            ..DirectoryQuery::default()
        };
        let started = Instant::now();
        let hits = engine
            .search_directory(&pairs[0].requester, &query, &english, page.clone())
            .await?;
        times.push(started.elapsed());
        found += usize::from(!hits.items.is_empty());
    }
    rows.push((
        format!("search: rare words, a different authority each time ({found} of {samples} found)"),
        percentiles(times),
    ));
    let mut transitions = Vec::new();
    let lifecycles = (samples / 6).max(10);
    for _ in 0..lifecycles {
        drive(engine, extra, 5, &mut transitions).await?;
    }
    rows.push((
        "request transition (durable)".to_owned(),
        percentiles(transitions),
    ));
    Ok(rows)
}

fn dir_size(path: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return std::fs::metadata(path).map_or(0, |m| m.len());
    };
    entries
        .flatten()
        .map(|e| {
            let p = e.path();
            if p.is_dir() {
                dir_size(&p)
            } else {
                e.metadata().map_or(0, |m| m.len())
            }
        })
        .sum()
}

async fn run(args: Args) -> Result<(), Failure> {
    let temp;
    let root = match &args.data {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            d.clone()
        }
        None => {
            temp = tempfile::tempdir()?;
            temp.path().to_path_buf()
        }
    };
    let store: Arc<dyn Store> = match args.store.as_str() {
        "sqlite" => {
            // The example server's file names, so that `imi-server --data DIR` opens it.
            Arc::new(SqliteStore::open(root.join("imi.sqlite"), SqliteConfig::default()).await?)
        }
        "sled" => Arc::new(SledStore::open(root.join("imi.sled"), SledConfig::default()).await?),
        other => return Err(format!("unknown store `{other}`").into()),
    };
    let clock = Arc::new(ManualClock::new("2026-11-22T09:00:00Z".parse()?));
    let engine = Arc::new(Engine::new(store, clock));
    engine.publish_catalogue(
        &Actor::System,
        imi_benches::bench_catalogue().map_err(|e| e.to_string())?,
    )?;

    let t = Instant::now();
    eprintln!("authorities: {}", args.authorities);
    let ids = imi_benches::directory_world(&engine, args.authorities).await?;
    let authorities_s = t.elapsed().as_secs_f64();
    eprintln!("  {} authorities in {authorities_s:.1} s", ids.len());

    let t = Instant::now();
    eprintln!("users: {} per authority", args.users_per_authority);
    users(&engine, &ids, args.users_per_authority).await?;
    let users_s = t.elapsed().as_secs_f64();

    // Template pairs among the authorities with access to the procedure.
    let t = Instant::now();
    let access: Vec<AuthorityId> = ids
        .iter()
        .enumerate()
        .filter(|(i, _)| imi_benches::world_request_access(*i))
        .map(|(_, a)| *a)
        .collect();
    let templates = args.templates.min(access.len() / 2).max(1);
    eprintln!("templates: {templates} request pairs in mixed states");
    let mut pairs = Vec::with_capacity(templates);
    for i in 0..templates {
        let (a, b) = (access[2 * i], access[2 * i + 1]);
        let requester = handler(&engine, a).await?;
        let responder = handler(&engine, b).await?;
        // 10 % drafts, 10 % awaiting acceptance, 20 % accepted, 10 % answered, 50 % closed.
        let steps = match i % 10 {
            0 => 1,
            1 => 2,
            2 | 3 => 3,
            4 => 4,
            _ => 5,
        };
        let template = drive(&engine, (&requester, &responder, b), steps, &mut Vec::new()).await?;
        pairs.push(Pair {
            requester,
            responder,
            template,
        });
        if (i + 1) % 2_000 == 0 {
            eprintln!("  templates: {} / {templates}", i + 1);
        }
    }
    let extra = (
        handler(&engine, access[0]).await?,
        handler(&engine, access[1]).await?,
        access[1],
    );
    let templates_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let side = if args.requests_per_alert > 0 {
        eprintln!(
            "alert networks: a coordinator and {} handlers in each country",
            args.alert_handlers
        );
        alert_side(&engine, &ids, args.alert_handlers).await?
    } else {
        Vec::new()
    };
    let side = Arc::new(side);
    let alerts_s = t.elapsed().as_secs_f64();
    if let Some(d) = &args.data {
        // API tokens of a few requesters, for load runs against the example server on
        // this store (`tokens.txt`: one token per line).
        let mut lines = String::new();
        for pair in pairs.iter().take(64) {
            if let Actor::User(p) = &pair.requester {
                let token = engine.issue_token(&Actor::System, p.user()).await?;
                lines.push_str(token.expose());
                lines.push('\n');
            }
        }
        std::fs::write(d.join("tokens.txt"), lines)?;
    }

    println!("| requests | generated in | store size | measurement | p50 | p99 | max |");
    println!("|---|---|---|---|---|---|---|");
    let mut rng = imi_benches::SplitMix(42);
    let mut have = templates;
    let mut alerts = 0u64;
    for &target in &args.checkpoints {
        let t = Instant::now();
        let per = (target.saturating_sub(have)) / templates;
        let rest = (target.saturating_sub(have)) % templates;
        for (i, pair) in pairs.iter().enumerate() {
            let n = per + usize::from(i < rest);
            if n > 0 {
                engine
                    .replicate_request(&Actor::System, pair.template, n, |_| {})
                    .await?;
                have += n;
            }
            if (i + 1) % 1_000 == 0 {
                eprintln!(
                    "  requests: {have} / {target} ({:.0}/s)",
                    (have as f64) / t.elapsed().as_secs_f64().max(1e-9)
                );
            }
        }
        let mut broadcasts = Vec::new();
        if let Some(due) = have.checked_div(args.requests_per_alert) {
            let due = due as u64;
            broadcasts = send_alerts(&engine, &side, alerts, due).await?;
            alerts = due.max(alerts);
        }
        let generated = t.elapsed().as_secs_f64();
        let size = dir_size(&root);
        eprintln!(
            "measuring at {have} requests and {alerts} alerts ({} samples)",
            args.samples
        );
        let mut rows = measure(
            &engine,
            ids.len(),
            &pairs,
            &side,
            (&extra.0, &extra.1, extra.2),
            args.samples,
            &mut rng,
        )
        .await?;
        if !broadcasts.is_empty() {
            rows.push((
                format!(
                    "alert broadcast (durable; the {} sent since the last checkpoint, 16 at a time)",
                    broadcasts.len()
                ),
                percentiles(broadcasts),
            ));
        }
        for (label, (p50, p99, max)) in rows {
            println!(
                "| {have} | {generated:.0} s | {:.0} MiB | {label} | {p50:.2} ms | {p99:.2} ms | {max:.1} ms |",
                size as f64 / 1_048_576.0
            );
        }
    }
    println!();
    println!(
        "World: {} authorities in {authorities_s:.0} s, {} users in {users_s:.0} s, {templates} template requests in {templates_s:.0} s, alert networks in {alerts_s:.0} s, {alerts} alerts.",
        ids.len(),
        ids.len() * args.users_per_authority
    );
    if let Some(d) = &args.data {
        println!("The store is kept in {}.", d.display());
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("imi-scale failed: {e}");
            ExitCode::FAILURE
        }
    }
}
