//! Test support for the imi workspace (unpublished): real outside components that
//! integration tests start for themselves.
//!
//! - [`oidc`]: a real OpenID provider (`oidc-provider`, the certified Node.js
//!   implementation, from npm), on a free loopback port, for the API's token validation
//!   and the web application's single sign-on.
//! - [`npm_install`]: npm packages a test needs (the provider, axe-core), pinned by their
//!   lock files, installed once under the test's own directory.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test support: a failed step should panic

use std::path::Path;
use std::process::Command;

pub mod oidc;

/// Copies `files` from `source` to `dir` and installs the pinned packages there
/// (`npm ci`) unless `package` is installed already.
pub fn npm_install(source: &Path, dir: &Path, files: &[&str], package: &str) {
    std::fs::create_dir_all(dir).unwrap();
    for file in files {
        std::fs::copy(source.join(file), dir.join(file)).unwrap();
    }
    if !dir
        .join("node_modules")
        .join(package)
        .join("package.json")
        .exists()
    {
        let installed = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--silent"])
            .current_dir(dir)
            .status()
            .unwrap();
        assert!(installed.success(), "npm ci for {package} failed");
    }
}
