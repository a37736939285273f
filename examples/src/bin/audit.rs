//! Verifies the audit chain of a data directory.
//!
//! ```text
//! imi-audit [--data DIR] [--store sqlite|sled] [--seal]
//! ```
//!
//! Exits 0 when the chain verifies, 1 when it is broken (naming the first broken entry),
//! 2 on other errors. `--seal` first seals pending records (stop the server first).

#![allow(clippy::print_stdout, clippy::print_stderr)] // a command-line program talks on its terminal

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use imi_core::{Engine, access::Actor, store::Store};
use imi_store_sled::{SledConfig, SledStore};
use imi_store_sqlite::{SqliteConfig, SqliteStore};

const USAGE: &str = "usage: imi-audit [--data DIR] [--store sqlite|sled] [--seal]";

async fn run() -> Result<bool, String> {
    let mut data = PathBuf::from(std::env::var("IMI_DATA").unwrap_or_else(|_| "imi-data".into()));
    let mut kind = std::env::var("IMI_STORE").unwrap_or_else(|_| "sqlite".into());
    let mut seal = false;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--data" => data = PathBuf::from(args.next().ok_or(USAGE)?),
            "--store" => kind = args.next().ok_or(USAGE)?,
            "--seal" => seal = true,
            _ => return Err(USAGE.into()),
        }
    }
    let store: Arc<dyn Store> = match kind.as_str() {
        "sqlite" => {
            let path = data.join("imi.sqlite");
            if !path.exists() {
                return Err(format!("{} does not exist", path.display()));
            }
            Arc::new(
                SqliteStore::open(&path, SqliteConfig::default())
                    .await
                    .map_err(|e| format!("{}: {e}", path.display()))?,
            )
        }
        "sled" => {
            let path = data.join("imi.sled");
            if !path.exists() {
                return Err(format!("{} does not exist", path.display()));
            }
            Arc::new(
                SledStore::open(&path, SledConfig::default())
                    .await
                    .map_err(|e| format!("{}: {e}", path.display()))?,
            )
        }
        other => return Err(format!("unknown store `{other}`\n{USAGE}")),
    };
    let engine = Engine::new(store, Arc::new(chrono::Utc::now));
    if seal {
        let mut total = 0;
        loop {
            let n = engine
                .seal_audit(&Actor::System, 10_000)
                .await
                .map_err(|e| e.to_string())?;
            total += n;
            if n == 0 {
                break;
            }
        }
        println!("sealed {total} pending record(s)");
    }
    match engine
        .verify_audit(&Actor::System)
        .await
        .map_err(|e| e.to_string())?
    {
        Ok(report) => {
            println!(
                "audit chain OK: {} entries, head {}",
                report.entries, report.head
            );
            Ok(true)
        }
        Err(broken) => {
            println!("audit chain BROKEN: {broken}");
            Ok(false)
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(message) => {
            eprintln!("imi-audit: {message}");
            ExitCode::from(2)
        }
    }
}
