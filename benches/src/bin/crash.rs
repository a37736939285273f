//! `imi-crash`: the crash harness. A writer process runs request commands from many
//! concurrent clients on a SQLite or sled store and prints each command it got an `Ok`
//! for; the harness kills it with SIGKILL at a random moment, reopens the store and
//! checks that
//! - every acknowledged command is there (the request reached at least that step),
//! - no command is half-applied: documents, timelines and index entries agree
//!   ([`imi_core::Engine::check_request_integrity`]),
//! - the audit chain verifies,
//!
//! then starts the next writer on the same store, for many rounds.
//!
//! ```text
//! imi-crash [--store sqlite|sled|both] [--rounds N] [--clients C] [--min-ms A] [--max-ms B]
//!           [--seed S] [--data DIR]
//! ```
//!
//! Defaults: both stores, 50 rounds, 16 clients, kills 20-400 ms after the writer is
//! ready, a fresh directory under the system's temporary directory (`--data` keeps it).
//! Prints a line per round to standard error and a summary table to standard output;
//! exits with 1 if anything was lost or inconsistent.

#![allow(clippy::print_stdout, clippy::print_stderr)] // a command-line program talks on its terminal

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use imi_benches::lifecycle::{LIFECYCLE_STEPS, RequestWorld, catalogue};
use imi_core::request::Stage;
use imi_core::{CaseId, Engine, access::Actor, store::Store};
use imi_store_sled::{SledConfig, SledStore};
use imi_store_sqlite::{SqliteConfig, SqliteStore};

type Failure = Box<dyn std::error::Error + Send + Sync>;

async fn open(kind: &str, path: &Path) -> Result<Arc<dyn Store>, Failure> {
    Ok(match kind {
        "sqlite" => {
            Arc::new(SqliteStore::open(path.join("imi.db"), SqliteConfig::default()).await?)
        }
        _ => Arc::new(SledStore::open(path.join("imi-sled"), SledConfig::default()).await?),
    })
}

// ---------------------------------------------------------------------------------------
// The writer process.

/// Runs request lifecycles from `clients` tasks until killed, printing `ack <case> <step>`
/// after every acknowledged command, and sealing the audit log every 50 ms.
async fn writer(kind: &str, path: &Path, clients: usize) -> Result<(), Failure> {
    // `IMI_CRASH_UNSAFE_EARLY_ACK=1` makes the writer acknowledge each command before it
    // has run (it acknowledges the next step together with the last one), to show that
    // the harness catches lost acknowledged commands.
    let early = std::env::var_os("IMI_CRASH_UNSAFE_EARLY_ACK").is_some();
    let store = open(kind, path).await?;
    let world = Arc::new(RequestWorld::new(store, Arc::new(chrono::Utc::now)).await?);
    let out = Arc::new(std::sync::Mutex::new(std::io::stdout()));
    {
        let mut o = out.lock().map_err(|_| "stdout lock")?;
        writeln!(o, "ready")?;
        o.flush()?;
    }
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let world = Arc::clone(&world);
        let out = Arc::clone(&out);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                latencies.clear();
                world
                    .lifecycle(&mut latencies, |case, step| {
                        if let Ok(mut o) = out.lock() {
                            // A line is only complete, and so only counted, with its newline.
                            let _ = writeln!(o, "ack {case} {step}");
                            if early && step < LIFECYCLE_STEPS {
                                let _ = writeln!(o, "ack {case} {}", step + 1);
                            }
                            let _ = o.flush();
                        }
                    })
                    .await?;
            }
            #[allow(unreachable_code)]
            Ok::<(), imi_core::EngineError>(())
        }));
    }
    let engine = Arc::clone(&world.engine);
    tasks.push(tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(50)).await;
            engine.seal_audit(&Actor::System, 1_000).await?;
        }
    }));
    for t in tasks {
        t.await??;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The harness.

struct Args {
    stores: Vec<&'static str>,
    rounds: usize,
    clients: usize,
    min_ms: u64,
    max_ms: u64,
    seed: u64,
    data: Option<PathBuf>,
}

fn parse_args(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut args = Args {
        stores: vec!["sqlite", "sled"],
        rounds: 50,
        clients: 16,
        min_ms: 20,
        max_ms: 400,
        seed: 1,
        data: None,
    };
    let num = |flag: &str, v: String| -> Result<u64, String> {
        v.replace('_', "")
            .parse()
            .map_err(|e| format!("{flag}: {e}"))
    };
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--store" => {
                args.stores = match value()?.as_str() {
                    "sqlite" => vec!["sqlite"],
                    "sled" => vec!["sled"],
                    "both" => vec!["sqlite", "sled"],
                    other => return Err(format!("--store: unknown store `{other}`")),
                };
            }
            "--rounds" => args.rounds = usize::try_from(num(&flag, value()?)?).map_err(|e| e.to_string())?,
            "--clients" => args.clients = usize::try_from(num(&flag, value()?)?).map_err(|e| e.to_string())?,
            "--min-ms" => args.min_ms = num(&flag, value()?)?,
            "--max-ms" => args.max_ms = num(&flag, value()?)?,
            "--seed" => args.seed = num(&flag, value()?)?,
            "--data" => args.data = Some(PathBuf::from(value()?)),
            "-h" | "--help" => return Err("usage: imi-crash [--store sqlite|sled|both] [--rounds N] [--clients C] [--min-ms A] [--max-ms B] [--seed S] [--data DIR]".into()),
            other => return Err(format!("unknown argument `{other}` (try --help)")),
        }
    }
    if args.rounds == 0 || args.clients == 0 || args.min_ms > args.max_ms {
        return Err(
            "--rounds and --clients must be at least 1, and --min-ms at most --max-ms".into(),
        );
    }
    Ok(args)
}

/// The least stage and timeline length a request must show once step `step` (1..=6) of
/// its lifecycle was acknowledged.
fn least_after(step: u8) -> (u8, u64) {
    let rank = match step {
        0..=2 => 0,
        3 => 1,
        4 => 2,
        5 => 3,
        _ => 5,
    };
    (rank, u64::from(step.saturating_sub(1)))
}

fn stage_rank(stage: Stage) -> u8 {
    match stage {
        Stage::Draft => 0,
        Stage::AwaitingAcceptance => 1,
        Stage::Accepted | Stage::ClarificationRequested => 2,
        Stage::Answered => 3,
        Stage::Closed | Stage::Withdrawn => 5,
    }
}

#[derive(Default)]
struct Totals {
    rounds: usize,
    acknowledged: u64,
    lost: u64,
    inconsistent: u64,
    audit_entries: u64,
    cases: u64,
    check_time: Duration,
}

/// Starts a writer, kills it after `after` once it is ready, and returns the
/// acknowledged (case, step) pairs it printed.
fn run_writer(
    kind: &str,
    path: &Path,
    clients: usize,
    after: Duration,
) -> Result<Vec<(CaseId, u8)>, Failure> {
    let mut child = Command::new(std::env::current_exe()?)
        .args(["writer", kind])
        .arg(path)
        .arg(clients.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("the writer has no stdout")?;
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut acks = Vec::new();
        let mut r = BufReader::new(stdout);
        let mut line = Vec::new();
        loop {
            line.clear();
            match r.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            if line.last() != Some(&b'\n') {
                break; // cut off by the kill: not an acknowledgement
            }
            let text = String::from_utf8_lossy(&line[..line.len() - 1]).into_owned();
            if text == "ready" {
                let _ = ready_tx.send(());
                continue;
            }
            let mut parts = text.split(' ');
            if let (Some("ack"), Some(case), Some(step)) =
                (parts.next(), parts.next(), parts.next())
                && let (Ok(case), Ok(step)) = (case.parse::<CaseId>(), step.parse::<u8>())
            {
                acks.push((case, step));
            }
        }
        acks
    });
    if ready_rx.recv_timeout(Duration::from_secs(60)).is_err() {
        let _ = child.kill();
        let _ = child.wait();
        return Err("the writer did not become ready within 60 s".into());
    }
    std::thread::sleep(after);
    child.kill()?; // SIGKILL
    let status = child.wait()?;
    if status.success() {
        return Err("the writer exited on its own".into());
    }
    reader
        .join()
        .map_err(|_| "the reader thread panicked".into())
}

/// Reopens the store and checks every acknowledged command, the indexes and the audit
/// chain. Returns (lost, inconsistencies, cases, audit entries).
async fn check(
    kind: &str,
    path: &Path,
    acked: &HashMap<CaseId, u8>,
) -> Result<(u64, u64, u64, u64), Failure> {
    let store = open(kind, path).await?;
    let engine = Engine::new(store, Arc::new(chrono::Utc::now));
    engine.publish_catalogue(&Actor::System, catalogue()?)?;
    let mut lost = 0;
    for (&case, &step) in acked {
        let (rank, events) = least_after(step);
        match engine.request(&Actor::System, case).await {
            Ok((view, _)) => {
                let stage = view.case.request.state().stage();
                if stage_rank(stage) < rank || view.case.events < events {
                    lost += 1;
                    eprintln!(
                        "  LOST: {case} acknowledged step {step}, found {stage:?} with {} events",
                        view.case.events
                    );
                }
            }
            Err(imi_core::EngineError::NotFound { .. }) => {
                lost += 1;
                eprintln!("  LOST: {case} acknowledged step {step}, not found");
            }
            Err(e) => return Err(e.into()),
        }
    }
    let report = engine.check_request_integrity(&Actor::System).await?;
    for p in &report.problems {
        eprintln!("  INCONSISTENT: {p}");
    }
    let mut inconsistent = report.problem_count;
    let audit = match engine.verify_audit(&Actor::System).await? {
        Ok(r) => r.entries,
        Err(broken) => {
            eprintln!("  AUDIT CHAIN BROKEN: {broken}");
            inconsistent += 1;
            0
        }
    };
    Ok((lost, inconsistent, report.cases, audit))
}

async fn harness(args: Args) -> Result<bool, Failure> {
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
    let mut moments = imi_benches::SplitMix(args.seed);
    let mut summary = Vec::new();
    for kind in &args.stores {
        let path = root.join(kind);
        std::fs::create_dir_all(&path)?;
        let mut totals = Totals::default();
        let mut acked: HashMap<CaseId, u8> = HashMap::new();
        for round in 1..=args.rounds {
            let after = Duration::from_millis(moments.in_range(args.min_ms, args.max_ms));
            let acks = run_writer(kind, &path, args.clients, after)?;
            let this_round = acks.len() as u64;
            for (case, step) in acks {
                let e = acked.entry(case).or_default();
                *e = (*e).max(step);
            }
            let started = Instant::now();
            let (lost, inconsistent, cases, audit) = check(kind, &path, &acked).await?;
            totals.check_time += started.elapsed();
            totals.rounds = round;
            totals.acknowledged += this_round;
            totals.lost += lost;
            totals.inconsistent += inconsistent;
            totals.cases = cases;
            totals.audit_entries = audit;
            eprintln!(
                "{kind} round {round}/{}: killed {} ms after ready, {this_round} commands acknowledged \
                 ({} in all), {cases} requests, {audit} audit entries; lost {lost}, inconsistent {inconsistent}",
                args.rounds,
                after.as_millis(),
                totals.acknowledged
            );
        }
        summary.push((kind, totals));
    }
    println!(
        "| store | rounds | commands acknowledged | requests at the end | audit entries | lost | inconsistencies | check time |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut clean = true;
    for (kind, t) in &summary {
        clean &= t.lost == 0 && t.inconsistent == 0;
        println!(
            "| {kind} | {} | {} | {} | {} | {} | {} | {:.1} s |",
            t.rounds,
            t.acknowledged,
            t.cases,
            t.audit_entries,
            t.lost,
            t.inconsistent,
            t.check_time.as_secs_f64()
        );
    }
    Ok(clean)
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn main() -> ExitCode {
    let mut argv = std::env::args().skip(1).peekable();
    if argv.peek().map(String::as_str) == Some("writer") {
        let rest: Vec<String> = argv.skip(1).collect();
        let (Some(kind), Some(path), Some(clients)) = (rest.first(), rest.get(1), rest.get(2))
        else {
            eprintln!("usage: imi-crash writer <sqlite|sled> <dir> <clients>");
            return ExitCode::from(2);
        };
        let clients = clients.parse().unwrap_or(1);
        let result = runtime().and_then(|rt| rt.block_on(writer(kind, Path::new(path), clients)));
        if let Err(e) = result {
            eprintln!("writer failed: {e}");
        }
        return ExitCode::FAILURE;
    }
    let args = match parse_args(argv) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match runtime().and_then(|rt| rt.block_on(harness(args))) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("imi-crash: something acknowledged was lost or inconsistent");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("imi-crash failed: {e}");
            ExitCode::FAILURE
        }
    }
}
