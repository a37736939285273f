//! The crash harness in short: writers on SQLite and sled are killed with SIGKILL at
//! random moments, and every acknowledged command survives with consistent indexes and
//! a verifying audit chain. A writer that acknowledges before its commits are durable is
//! caught. The long run is documented in BENCHMARKS.md.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should panic

use std::process::Command;

fn harness() -> Command {
    Command::new(env!("CARGO_BIN_EXE_imi-crash"))
}

#[test]
fn killed_writers_lose_nothing_acknowledged() {
    let out = harness()
        .args(["--store", "both", "--rounds", "4", "--clients", "8"])
        .args(["--min-ms", "30", "--max-ms", "300", "--seed", "7"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for store in ["sqlite", "sled"] {
        let row = stdout
            .lines()
            .find(|l| l.starts_with(&format!("| {store} |")))
            .unwrap_or_else(|| panic!("no summary row for {store}: {stdout}"));
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        assert_eq!(cells[2], "4", "rounds: {row}");
        let acknowledged: u64 = cells[3].parse().unwrap();
        assert!(acknowledged > 0, "the writers acknowledged nothing: {row}");
        assert_eq!(
            (cells[6], cells[7]),
            ("0", "0"),
            "lost, inconsistent: {row}"
        );
    }
    assert!(!stderr.contains("LOST"), "{stderr}");
}

#[test]
fn a_writer_that_acknowledges_too_early_is_caught() {
    let out = harness()
        .env("IMI_CRASH_UNSAFE_EARLY_ACK", "1")
        .args(["--store", "both", "--rounds", "2", "--clients", "8"])
        .args(["--min-ms", "150", "--max-ms", "300"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("LOST"), "{stderr}");
}
