//! Registers two authorities in an embedded store and reads them back.
//!
//! ```text
//! imi-quickstart [--store sqlite|sled] [--data DIR]
//! ```
//!
//! The data directory (default `./imi-data`) is created if needed; run it twice and the
//! second run finds the authorities already registered, because the store persists.

#![allow(clippy::print_stdout, clippy::print_stderr)] // a command-line program talks on its terminal

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use imi_core::{
    Country, Engine, Language, LanguagePreferences, LocalisedText, PageRequest, access::Actor,
    authority::ContactDetails, authority::NewAuthority, store::Store,
};
use imi_store_sled::{SledConfig, SledStore};
use imi_store_sqlite::{SqliteConfig, SqliteStore};

struct Args {
    store: String,
    data: PathBuf,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        store: "sqlite".into(),
        data: PathBuf::from("imi-data"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--store" => args.store = value()?,
            "--data" => args.data = PathBuf::from(value()?),
            "-h" | "--help" => {
                return Err("usage: imi-quickstart [--store sqlite|sled] [--data DIR]".into());
            }
            other => return Err(format!("unknown argument `{other}` (try --help)")),
        }
    }
    Ok(args)
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

async fn run() -> Result<(), String> {
    let args = parse_args()?;
    let store = open_store(&args).await?;
    let engine = Engine::new(store, Arc::new(chrono::Utc::now));
    let fail = |e: imi_core::EngineError| e.to_string();
    let text = |pairs: &[(Language, &str)]| {
        LocalisedText::from_pairs(pairs.iter().copied()).map_err(|e| e.to_string())
    };

    let mut danish = NewAuthority::new(
        Country::Denmark,
        text(&[
            (Language::Danish, "Styrelsen for Patientsikkerhed"),
            (Language::English, "Danish Patient Safety Authority"),
        ])?,
    );
    danish.contact = ContactDetails {
        email: "stps@stps.dk".parse().ok(),
        ..ContactDetails::default()
    };
    let french = NewAuthority::new(
        Country::France,
        text(&[(Language::French, "Ordre national des infirmiers")])?,
    );
    for new in [danish, french] {
        match engine.register_authority(&Actor::System, new).await {
            Ok(a) => println!("registered {} ({})", a.id(), a.participant()),
            // A second run finds the authorities from the first: the store persisted them.
            Err(imi_core::EngineError::LikelyDuplicate { candidates }) => {
                println!("already registered: {}", candidates[0]);
            }
            Err(e) => return Err(fail(e)),
        }
    }

    let reader =
        LanguagePreferences::parse_accept_language("de, en;q=0.5").map_err(|e| e.to_string())?;
    for country in [Country::Denmark, Country::France] {
        let page = engine
            .authorities_of(&Actor::System, country.into(), PageRequest::default())
            .await
            .map_err(fail)?;
        for a in page.items {
            let name = a.name().resolve_for(&reader);
            let label = if name.fallback { " (untranslated)" } else { "" };
            println!("{country}  {}  [{}]{label}", name.text, name.language);
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("imi-quickstart: {message}");
            ExitCode::FAILURE
        }
    }
}
