//! Works with a catalogue directory: checks it, reports translation coverage, exports
//! texts for translators.
//!
//! ```text
//! imi-catalogue check    [DIR]
//! imi-catalogue coverage [DIR] [--missing]
//! imi-catalogue export   [DIR] --to LANG [--from LANG] [--all]
//! ```
//!
//! `DIR` defaults to the demo catalogue. `export` writes XLIFF 2.0 to standard output;
//! put the translated file back as `DIR/translations/LANG.xlf`.

#![allow(clippy::print_stderr)] // a command-line program reports errors on its terminal

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use imi_core::Language;
use imi_core::catalogue::{Catalogue, ExportScope};

const USAGE: &str = "usage: imi-catalogue check|coverage|export [DIR] [--missing] [--to LANG] [--from LANG] [--all]";

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let command = args.next().ok_or(USAGE)?;
    let mut dir = imi_examples::demo_catalogue_dir();
    let (mut to, mut from, mut all, mut list_missing) = (None, Language::English, false, false);
    while let Some(arg) = args.next() {
        let mut lang = |flag: &str| -> Result<Language, String> {
            let tag = args.next().ok_or(format!("{flag} needs a language"))?;
            tag.parse().map_err(|e| format!("{flag}: {e}"))
        };
        match arg.as_str() {
            "--to" => to = Some(lang("--to")?),
            "--from" => from = lang("--from")?,
            "--all" => all = true,
            "--missing" => list_missing = true,
            "-h" | "--help" => return Err(USAGE.into()),
            flag if flag.starts_with("--") => {
                return Err(format!("unknown option {flag}\n{USAGE}"));
            }
            path => dir = PathBuf::from(path),
        }
    }
    let sources = imi_examples::read_catalogue_dir(&dir).map_err(|e| e.to_string())?;
    if sources.is_empty() {
        return Err(format!(
            "{} holds no catalogue files (areas/, question-sets/)",
            dir.display()
        ));
    }
    let catalogue = Catalogue::load(&sources).map_err(|e| e.to_string())?;
    let output = match command.as_str() {
        "check" => format!(
            "{}: {} areas, {} procedures, {} question set versions, {} texts: OK\n",
            dir.display(),
            catalogue.areas().count(),
            catalogue.procedures().count(),
            catalogue.question_sets().count(),
            catalogue.texts().len()
        ),
        "coverage" => {
            let report = catalogue.coverage();
            if list_missing {
                format!("{report:#}")
            } else {
                format!("{report}")
            }
        }
        "export" => {
            let to = to.ok_or("export needs --to LANG")?;
            let scope = if all {
                ExportScope::All
            } else {
                ExportScope::Missing
            };
            catalogue.export_xliff(from, to, scope)
        }
        other => return Err(format!("unknown command `{other}`\n{USAGE}")),
    };
    // A reader that stops early (`| head`) is not an error.
    match std::io::stdout().lock().write_all(output.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(format!("cannot write the output: {e}"))
        }
        _ => Ok(()),
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("imi-catalogue: {message}");
            ExitCode::FAILURE
        }
    }
}
