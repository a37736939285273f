//! `imi-bare-axum`: the baseline for HTTP load runs. One axum handler that returns a
//! fixed JSON body of a given size (no engine, no store, no middleware), on the same
//! Tokio runtime settings as the example server, so `benches/http-load.sh` can report the
//! example server's throughput as a share of what axum alone does on this machine.
//!
//! ```text
//! imi-bare-axum [--addr 127.0.0.1:8081] [--bytes N]
//! ```

#![allow(clippy::print_stdout, clippy::print_stderr)] // a command-line program talks on its terminal

use std::process::ExitCode;
use std::sync::Arc;

use axum::Router;
use axum::http::header;
use axum::routing::get;

#[tokio::main]
async fn main() -> ExitCode {
    let mut addr = "127.0.0.1:8081".to_owned();
    let mut bytes = 1_000usize;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match (flag.as_str(), it.next()) {
            ("--addr", Some(v)) => addr = v,
            ("--bytes", Some(v)) => match v.parse() {
                Ok(n) => bytes = n,
                Err(e) => {
                    eprintln!("--bytes: {e}");
                    return ExitCode::from(2);
                }
            },
            _ => {
                eprintln!("usage: imi-bare-axum [--addr HOST:PORT] [--bytes N]");
                return ExitCode::from(2);
            }
        }
    }
    // A JSON string of about `bytes` bytes.
    let body: Arc<str> =
        format!("{{\"items\":\"{}\"}}", "x".repeat(bytes.saturating_sub(12))).into();
    let app = Router::new().route(
        "/bare",
        get(move || {
            let body = Arc::clone(&body);
            async move {
                (
                    [(header::CONTENT_TYPE, "application/json")],
                    body.to_string(),
                )
            }
        }),
    );
    let listener = match tokio::net::TcpListener::bind(&addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("ready on http://{addr}/bare");
    match axum::serve(listener, app).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("server failed: {e}");
            ExitCode::FAILURE
        }
    }
}
