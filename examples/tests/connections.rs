//! Slow, silent and idle clients cannot take the server down (issue 18, finding 5): the
//! real `imi-server` binary runs with its file-descriptor limit lowered to 256 and short
//! timeouts; 300 connections that never send their headers are opened against it, and a
//! normal client is still served within a bounded time. An idle keep-alive connection is
//! closed by the server. Loopback only; every loop is bounded.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should panic

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server {
    child: Child,
    addr: String,
    _data: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The server under `ulimit -n 256`, with 2 s to send headers and 3 s of idleness.
fn start() -> Server {
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new("sh")
        .args(["-c", "ulimit -n 256 && exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_imi-server"))
        .args(["--addr", "127.0.0.1:0", "--data"])
        .arg(data.path())
        .args(["--header-timeout", "2", "--idle-timeout", "3"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut addr = None;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(Instant::now() < deadline, "the server did not start");
        let line = lines
            .next()
            .expect("the server printed its address")
            .unwrap();
        if let Some(a) = line.strip_prefix("export IMI=http://") {
            addr = Some(a.to_owned());
        }
        if line.contains("ready") {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    Server {
        child,
        addr: addr.unwrap(),
        _data: data,
    }
}

/// `GET /healthz` on a fresh connection; the status line, or the error.
fn health(addr: &str, wait: Duration) -> Result<String, String> {
    let mut s = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(wait)).unwrap();
    s.write_all(
        format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .map_err(|e| e.to_string())?;
    let mut out = String::new();
    s.read_to_string(&mut out).map_err(|e| e.to_string())?;
    Ok(out.lines().next().unwrap_or_default().to_owned())
}

#[test]
fn silent_connections_do_not_stop_normal_clients() {
    let server = start();
    assert_eq!(
        health(&server.addr, Duration::from_secs(10)).unwrap(),
        "HTTP/1.1 200 OK"
    );
    // 300 connections that never send anything: more than the process has descriptors.
    let mut silent = Vec::new();
    for _ in 0..300 {
        if let Ok(s) = TcpStream::connect(&server.addr) {
            silent.push(s);
        }
    }
    assert!(
        silent.len() >= 250,
        "only {} connections opened",
        silent.len()
    );
    // A normal client is served within a bounded time: at once while a slot is free, or
    // as soon as the header-read timeout (2 s) frees the silent ones.
    let started = Instant::now();
    let mut answer = Err(String::new());
    while started.elapsed() < Duration::from_secs(30) {
        answer = health(&server.addr, Duration::from_secs(10));
        if answer.as_deref() == Ok("HTTP/1.1 200 OK") {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        answer.as_deref(),
        Ok("HTTP/1.1 200 OK"),
        "after {:?}",
        started.elapsed()
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    // The silent connections were closed by the server (end of stream, or reset).
    let mut closed = 0;
    for s in &mut silent {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = [0u8; 1];
        if matches!(s.read(&mut buf), Ok(0) | Err(_)) {
            closed += 1;
        }
    }
    assert!(
        closed >= 250,
        "only {closed} silent connections were closed"
    );
}

#[test]
fn idle_keep_alive_connections_are_closed() {
    let server = start();
    let mut s = TcpStream::connect(&server.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    s.write_all(format!("GET /healthz HTTP/1.1\r\nHost: {}\r\n\r\n", server.addr).as_bytes())
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = s.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200 OK"));
    // Keep-alive, then silence: the server closes it within a few idle timeouts.
    let started = Instant::now();
    let end = loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break started.elapsed(),
            Ok(_) => {}
        }
    };
    assert!(end < Duration::from_secs(12), "closed after {end:?}");
}
