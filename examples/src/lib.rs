//! Example programs embedding the imi engine (see `src/bin/`), and the small pieces of
//! edge code they share: reading a catalogue directory from disk, e-mail over SMTP
//! ([`smtp`]) and webhooks ([`webhook`]).
//!
//! The README's code is compiled and run as a doctest of this crate.

pub mod smtp;
pub mod webhook;

use std::path::{Path, PathBuf};

use imi_core::catalogue::CatalogueSource;

#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
mod readme {}

/// The demo catalogue shipped with the project (`examples/catalogue`).
pub fn demo_catalogue_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("catalogue")
}

/// Why a catalogue directory could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadCatalogueError {
    /// A directory or file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// What could not be read.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
}

/// Reads every file of a catalogue directory (`areas/`, `question-sets/`,
/// `translations/`) as [`CatalogueSource`]s, with paths relative to `dir`. Other
/// top-level entries are ignored; files inside these folders are all passed on, so the
/// loader can report misplaced ones.
pub fn read_catalogue_dir(dir: &Path) -> Result<Vec<CatalogueSource>, ReadCatalogueError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ReadCatalogueError::Io { path, source }
    };
    if !dir.is_dir() {
        // A mistyped path must not start a server with an empty catalogue.
        return Err(ReadCatalogueError::Io {
            path: dir.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "not a directory"),
        });
    }
    let mut sources = Vec::new();
    for folder in ["areas", "question-sets", "translations"] {
        let sub = dir.join(folder);
        if !sub.is_dir() {
            continue;
        }
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&sub)
            .map_err(io(&sub))?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .map_err(io(&sub))?;
        entries.sort();
        for path in entries {
            if !path.is_file() {
                continue;
            }
            let text = std::fs::read_to_string(&path).map_err(io(&path))?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            sources.push(CatalogueSource::new(format!("{folder}/{name}"), text));
        }
    }
    Ok(sources)
}
