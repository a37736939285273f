//! A real OpenID provider for tests: `oidc/provider.mjs` beside this crate, built on
//! `oidc-provider` (pinned in `oidc/package.json` and `oidc/package-lock.json`).
//!
//! [`provider_dir`] installs its packages once (`npm ci`) under a directory the test
//! names (its `CARGO_TARGET_TMPDIR`). Without Node.js it prints one line saying so and
//! returns `None`, so the test can pass; with `IMI_REQUIRE_OIDC=1` (set by `.ci/run`) it
//! fails instead. [`Provider::start`] runs the provider on a free loopback port.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test support: a failed step should panic

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The provider's directory with its packages installed under `tmp`, or `None` (with the
/// one line saying why, naming `group`) when this machine has no Node.js.
pub fn provider_dir(tmp: &Path, group: &str) -> Option<PathBuf> {
    let required = std::env::var("IMI_REQUIRE_OIDC").is_ok_and(|v| v == "1");
    let has = |tool: &str| {
        Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !(has("node") && has("npm")) {
        assert!(!required, "IMI_REQUIRE_OIDC=1 but node/npm are missing");
        // Straight to the process's stderr: the test harness captures only the print
        // macros, and this line must show even when the test passes.
        let _ = writeln!(
            std::io::stderr(),
            "{group}: SKIPPED (no Node.js): install it with `apt-get install nodejs npm` to run them against a real OpenID provider"
        );
        return None;
    }
    let dir = tmp.join("oidc-provider");
    crate::npm_install(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("oidc"),
        &dir,
        &["package.json", "package-lock.json", "provider.mjs"],
        "oidc-provider",
    );
    Some(dir)
}

/// A free loopback port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A provider process, killed when dropped.
pub struct Provider {
    child: Child,
    /// Its issuer (`http://127.0.0.1:PORT[/path]`).
    pub issuer: String,
    _keys: tempfile::TempDir,
}

impl Provider {
    /// Starts a provider from `dir` with `args` (see `oidc/README.md`) and waits for its
    /// `READY` line. A provider that does not get there within 30 seconds (seen once: a
    /// Node.js process that hung while starting on a loaded machine) is killed and
    /// started again, up to three times, so that the test fails with a message instead
    /// of waiting forever.
    #[allow(clippy::print_stderr)] // says why a start is retried
    pub fn start(dir: &Path, args: &[&str]) -> Self {
        for attempt in 1..=3 {
            let keys = tempfile::tempdir().unwrap();
            let port = free_port();
            let mut child = Command::new("node")
                .arg(dir.join("provider.mjs"))
                .args(["--port", &port.to_string(), "--keys"])
                .arg(keys.path())
                .args(["--exit-on-stdin-close"])
                .args(args)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let stdout = child.stdout.take().unwrap();
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let mut line = String::new();
                let _ = BufReader::new(stdout).read_line(&mut line);
                let _ = tx.send(line);
            });
            match rx.recv_timeout(Duration::from_secs(30)) {
                Ok(line) => {
                    let issuer = line
                        .trim()
                        .strip_prefix("READY ")
                        .unwrap_or_else(|| panic!("the provider did not start: {line:?}"))
                        .to_owned();
                    return Self {
                        child,
                        issuer,
                        _keys: keys,
                    };
                }
                Err(_) => {
                    eprintln!(
                        "the OpenID provider did not start within 30 s (attempt {attempt} of 3)"
                    );
                    let _ = child.kill();
                    let _ = child.wait();
                }
            }
        }
        panic!("the OpenID provider did not start in three attempts");
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
