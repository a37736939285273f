//! A load run of the privacy retention rules: builds N closed requests, then blocks their
//! personal data (6 months after closure) and deletes them (3 years after), through the
//! engine's `tick`, while a second task does ordinary request work and measures its
//! latency. Prints rows per second for each phase and the latency percentiles of the
//! ordinary work before and during retention.
//!
//! ```text
//! imi-retention-load [--store sqlite|sled|memory] [--requests N] [--data DIR] [--batch B]
//!                    [--ordinary-per-second R]
//! ```
//!
//! Defaults: SQLite, 1 000 000 requests, tick batches of 1 000, ordinary work at 20
//! request lifecycles (100 commands) a second, a fresh directory under the system's
//! temporary directory (removed at the end; `--data` keeps it).

#![allow(clippy::print_stdout, clippy::print_stderr)] // a command-line program talks on its terminal

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use imi_core::catalogue::{AnswerValue, Answers, Catalogue, CatalogueSource, Right};
use imi_core::request::RequestCommand as C;
use imi_core::{
    AuthorityId, Clock, Country, Engine, Language, LocalisedText, ManualClock, access::Actor,
    authority::Competence, authority::NewAuthority, store::MemoryStore, store::Store, user::Grant,
    user::GrantScope, user::NewUser,
};
use imi_store_sled::{SledConfig, SledStore};
use imi_store_sqlite::{SqliteConfig, SqliteStore};

const AREA: &str = "id = \"pq\"\n[name]\nen = \"Qualifications\"\n[[procedure]]\nid = \"diploma\"\nkind = \"request\"\nquestion_set = \"diploma\"\n[procedure.name]\nen = \"Diploma check\"\n";
const SET: &str = "id = \"diploma\"\nversion = 1\n[title]\nen = \"Diploma check\"\n[[group]]\nid = \"g\"\n[group.title]\nen = \"Holder\"\n[[group.question]]\nid = \"holder\"\ntype = \"free-text\"\nrequired = \"to-send\"\npersonal_data = true\n[group.question.label]\nen = \"Name of the holder\"\n[[group.question]]\nid = \"born\"\ntype = \"date\"\npersonal_data = true\n[group.question.label]\nen = \"Date of birth\"\n[[group.question]]\nid = \"authentic\"\ntype = \"yes-no\"\nrequired = \"to-send\"\nanswered_by = \"responder\"\n[group.question.label]\nen = \"Is the diploma authentic?\"\n";

struct Args {
    store: String,
    requests: usize,
    data: Option<PathBuf>,
    batch: usize,
    ordinary_per_second: u32,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        store: "sqlite".into(),
        requests: 1_000_000,
        data: None,
        batch: 1_000,
        ordinary_per_second: 20,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--store" => args.store = value()?,
            "--requests" => {
                args.requests = value()?
                    .replace('_', "")
                    .parse()
                    .map_err(|e| format!("--requests: {e}"))?;
            }
            "--batch" => {
                args.batch = value()?.parse().map_err(|e| format!("--batch: {e}"))?;
            }
            "--data" => args.data = Some(PathBuf::from(value()?)),
            "--ordinary-per-second" => {
                args.ordinary_per_second = value()?
                    .parse()
                    .map_err(|e| format!("--ordinary-per-second: {e}"))?;
            }
            "-h" | "--help" => {
                return Err("usage: imi-retention-load [--store sqlite|sled|memory] [--requests N] [--data DIR] [--batch B] [--ordinary-per-second R]".into());
            }
            other => return Err(format!("unknown argument `{other}` (try --help)")),
        }
    }
    if args.requests == 0 || args.batch == 0 || args.ordinary_per_second == 0 {
        return Err("--requests, --batch and --ordinary-per-second must be at least 1".into());
    }
    Ok(args)
}

async fn open_store(kind: &str, dir: &std::path::Path) -> Result<Arc<dyn Store>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    match kind {
        "sqlite" => {
            let path = dir.join("imi.sqlite");
            let s = SqliteStore::open(&path, SqliteConfig::default()).await;
            Ok(Arc::new(s.map_err(|e| format!("{}: {e}", path.display()))?))
        }
        "sled" => {
            let path = dir.join("imi.sled");
            let s = SledStore::open(&path, SledConfig::default()).await;
            Ok(Arc::new(s.map_err(|e| format!("{}: {e}", path.display()))?))
        }
        "memory" => Ok(Arc::new(MemoryStore::new())),
        other => Err(format!("unknown store `{other}` (sqlite, sled or memory)")),
    }
}

fn dir_size(path: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            _ => e.metadata().map(|m| m.len()).unwrap_or(0),
        })
        .sum()
}

type Failure = Box<dyn std::error::Error + Send + Sync>;

struct World {
    engine: Arc<Engine>,
    clock: Arc<ManualClock>,
    dk: Actor,
    fr: Actor,
    fr_id: AuthorityId,
}

async fn world(store: Arc<dyn Store>) -> Result<World, Failure> {
    let clock = Arc::new(ManualClock::new("2026-11-22T09:00:00Z".parse()?));
    let engine = Arc::new(Engine::new(store, clock.clone()));
    let sources = [
        CatalogueSource::new("areas/pq.toml", AREA),
        CatalogueSource::new("question-sets/diploma.toml", SET),
    ];
    engine.publish_catalogue(&Actor::System, Catalogue::load(&sources)?)?;
    let mut actors = Vec::new();
    let mut ids = Vec::new();
    for (country, name) in [(Country::Denmark, "DK"), (Country::France, "FR")] {
        let mut n = NewAuthority::new(country, LocalisedText::new(Language::English, name)?);
        n.competences = vec![Competence {
            area: "pq".parse()?,
            keywords: vec![],
        }];
        n.confirmed_not_duplicate = true;
        let a = engine.register_authority(&Actor::System, n).await?;
        engine
            .grant_procedure(&Actor::System, a.id(), &"diploma".parse()?)
            .await?;
        let u = engine
            .create_user(
                &Actor::System,
                a.id(),
                NewUser {
                    name: format!("{name} handler"),
                    email: "handler@example.eu".parse()?,
                    language: Language::English,
                },
            )
            .await?;
        engine
            .set_grants(
                &Actor::System,
                u.id(),
                vec![Grant::new(Right::RequestHandler, GrantScope::Everything)],
            )
            .await?;
        actors.push(engine.actor_for(u.id()).await?);
        ids.push(a.id());
    }
    let fr = actors.pop().ok_or("no FR actor")?;
    let dk = actors.pop().ok_or("no DK actor")?;
    Ok(World {
        engine,
        clock,
        dk,
        fr,
        fr_id: ids[1],
    })
}

/// One ordinary request's life up to acceptance: create, save, send, accept, read.
/// Returns each command's latency.
async fn ordinary(w: &World, n: usize) -> Result<Vec<Duration>, Failure> {
    let mut out = Vec::with_capacity(5);
    let t = Instant::now();
    let id = w
        .engine
        .create_request(&w.dk, &"diploma".parse()?)
        .await?
        .case
        .id;
    out.push(t.elapsed());
    let mut answers = Answers::new();
    answers.set(
        "holder".parse()?,
        AnswerValue::Text(format!("Ordinary Person {n}")),
    );
    let t = Instant::now();
    w.engine
        .act_on_request(&w.dk, id, C::SaveDraft { answers }, None)
        .await?;
    out.push(t.elapsed());
    let needed_by = (w.clock.now() + chrono::Duration::days(30)).date_naive();
    let t = Instant::now();
    w.engine
        .act_on_request(
            &w.dk,
            id,
            C::Send {
                recipient: w.fr_id,
                needed_by,
            },
            None,
        )
        .await?;
    out.push(t.elapsed());
    let t = Instant::now();
    w.engine
        .act_on_request(&w.fr, id, C::Accept { days: 10 }, None)
        .await?;
    out.push(t.elapsed());
    let t = Instant::now();
    w.engine.request(&w.fr, id).await?;
    out.push(t.elapsed());
    Ok(out)
}

struct Latency {
    count: usize,
    p50: Duration,
    p99: Duration,
    max: Duration,
}

fn latency(mut all: Vec<Duration>) -> Latency {
    all.sort();
    let at = |q: f64| {
        let i = ((all.len() as f64 - 1.0) * q).round() as usize;
        all.get(i).copied().unwrap_or_default()
    };
    Latency {
        count: all.len(),
        p50: at(0.5),
        p99: at(0.99),
        max: all.last().copied().unwrap_or_default(),
    }
}

fn show(label: &str, l: &Latency) {
    println!(
        "  {label:<28} {:>6} commands  p50 {:>8.3} ms  p99 {:>8.3} ms  max {:>8.3} ms",
        l.count,
        l.p50.as_secs_f64() * 1e3,
        l.p99.as_secs_f64() * 1e3,
        l.max.as_secs_f64() * 1e3
    );
}

/// Runs `tick` at `now` until it finds nothing more to do, while ordinary work runs
/// beside it; returns (steps, elapsed, the ordinary work's latencies).
async fn retention_phase(
    w: &Arc<World>,
    now: DateTime<Utc>,
    batch: usize,
    expected: usize,
    per_second: u32,
) -> Result<(usize, Duration, Latency), Failure> {
    w.clock.set(now);
    let stop = Arc::new(AtomicBool::new(false));
    let worker = {
        let w = Arc::clone(w);
        let stop = Arc::clone(&stop);
        tokio::spawn(async move {
            let mut all = Vec::new();
            let mut n = 0;
            let mut pace = tokio::time::interval(Duration::from_secs(1) / per_second);
            pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            while !stop.load(Ordering::Relaxed) {
                pace.tick().await;
                all.extend(ordinary(&w, n).await?);
                n += 1;
            }
            Ok::<_, Failure>(all)
        })
    };
    let started = Instant::now();
    let mut steps = 0;
    let mut last_report = Instant::now();
    loop {
        let report = w.engine.tick(now, batch).await?;
        steps += report.blocked;
        if report.blocked == 0 {
            break;
        }
        if last_report.elapsed() > Duration::from_secs(5) {
            eprintln!(
                "  … {steps} of {expected} ({:.0} rows/s)",
                steps as f64 / started.elapsed().as_secs_f64()
            );
            last_report = Instant::now();
        }
    }
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let all = worker.await??;
    Ok((steps, elapsed, latency(all)))
}

async fn run(args: Args) -> Result<(), Failure> {
    let (dir, remove) = match &args.data {
        Some(d) => (d.clone(), false),
        None => (
            std::env::temp_dir().join(format!("imi-retention-load-{}", std::process::id())),
            true,
        ),
    };
    let store = open_store(&args.store, &dir).await?;
    let w = Arc::new(world(Arc::clone(&store)).await?);
    println!(
        "retention load run: {} closed requests on {} ({}); ordinary work at {} lifecycles/s",
        args.requests,
        args.store,
        dir.display(),
        args.ordinary_per_second
    );

    // One request through the whole workflow, closed on 2026-11-22 ...
    let template = w
        .engine
        .create_request(&w.dk, &"diploma".parse()?)
        .await?
        .case
        .id;
    let mut answers = Answers::new();
    answers.set("holder".parse()?, AnswerValue::Text("Marie Dupont".into()));
    answers.set("born".parse()?, AnswerValue::Date("1990-05-17".parse()?));
    w.engine
        .act_on_request(&w.dk, template, C::SaveDraft { answers }, None)
        .await?;
    w.engine
        .act_on_request(
            &w.dk,
            template,
            C::Send {
                recipient: w.fr_id,
                needed_by: "2026-12-31".parse()?,
            },
            None,
        )
        .await?;
    w.engine
        .act_on_request(&w.fr, template, C::Accept { days: 5 }, None)
        .await?;
    let mut reply = Answers::new();
    reply.set("authentic".parse()?, AnswerValue::YesNo(true));
    w.engine
        .act_on_request(&w.fr, template, C::Answer { answers: reply }, None)
        .await?;
    w.engine
        .act_on_request(&w.dk, template, C::AcceptAnswer { rating: None }, None)
        .await?;

    // ... and its copies.
    let started = Instant::now();
    let total = args.requests;
    let mut next = total / 10;
    w.engine
        .replicate_request(&Actor::System, template, total - 1, |n| {
            if n >= next {
                eprintln!("  generated {n} of {total}");
                next += total / 10;
            }
        })
        .await?;
    let generated = started.elapsed();
    println!(
        "generated {total} closed requests in {:.1} s ({:.0} requests/s); store {:.1} MiB",
        generated.as_secs_f64(),
        total as f64 / generated.as_secs_f64(),
        dir_size(&dir) as f64 / 1048576.0
    );

    // Ordinary work on its own, for comparison.
    let mut quiet = Vec::new();
    for n in 0..200 {
        quiet.extend(ordinary(&w, n).await?);
    }
    let quiet = latency(quiet);

    let block_day: DateTime<Utc> = "2027-05-22T09:00:00Z".parse()?;
    let (blocked, block_time, during_block) =
        retention_phase(&w, block_day, args.batch, total, args.ordinary_per_second).await?;
    let delete_day: DateTime<Utc> = "2029-11-22T09:00:00Z".parse()?;
    let (deleted, delete_time, during_delete) =
        retention_phase(&w, delete_day, args.batch, total, args.ordinary_per_second).await?;

    println!(
        "blocking: {blocked} requests in {:.1} s = {:.0} rows/s",
        block_time.as_secs_f64(),
        blocked as f64 / block_time.as_secs_f64()
    );
    println!(
        "deletion: {deleted} requests in {:.1} s = {:.0} rows/s",
        delete_time.as_secs_f64(),
        deleted as f64 / delete_time.as_secs_f64()
    );
    println!("ordinary request commands (create, save, send, accept, read):");
    show("alone", &quiet);
    show("while blocking", &during_block);
    show("while deleting", &during_delete);
    println!(
        "store after deletion: {:.1} MiB",
        dir_size(&dir) as f64 / 1048576.0
    );

    // Every closed request went through both steps exactly once; the ordinary requests
    // (opened meanwhile) are not closed and stay untouched.
    if blocked != total || deleted != total {
        return Err(
            format!("expected {total} blocked and deleted, got {blocked} and {deleted}").into(),
        );
    }
    let (view, _) = w.engine.request(&Actor::System, template).await?;
    if !view.case.request.is_erased() {
        return Err("the template request was not erased".into());
    }
    drop(w);
    drop(store);
    if remove {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("imi-retention-load: {e}");
            ExitCode::FAILURE
        }
    }
}
