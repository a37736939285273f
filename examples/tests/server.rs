//! Starts the real `imi-server` binary on a free port with a temporary data directory,
//! drives it over TCP, stops it with SIGINT, starts it again on the same data, and finds
//! what was written. Runs on SQLite and on sled.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should panic

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server {
    child: Child,
    vars: BTreeMap<String, String>,
}

impl Server {
    fn start(data: &Path, store: &str) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_imi-server"))
            .args(["--addr", "127.0.0.1:0", "--data"])
            .arg(data)
            .args(["--store", store])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let mut vars = BTreeMap::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            assert!(Instant::now() < deadline, "the server did not become ready");
            let line = lines
                .next()
                .expect("the server printed its address")
                .unwrap();
            if let Some((k, v)) = line.strip_prefix("export ").and_then(|l| l.split_once('=')) {
                vars.insert(k.to_owned(), v.to_owned());
            }
            if line.contains("ready") {
                break;
            }
        }
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server { child, vars }
    }

    fn addr(&self) -> String {
        self.vars["IMI"].trim_start_matches("http://").to_owned()
    }

    /// One HTTP/1.1 request over a fresh TCP connection; returns status and body.
    fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> (u16, String) {
        let mut stream = TcpStream::connect(self.addr()).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAccept-Language: en\r\n",
            self.addr()
        );
        if let Some(t) = token {
            req.push_str(&format!("Authorization: Bearer {t}\r\n"));
        }
        if let Some(b) = body {
            req.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                b.len()
            ));
        }
        req.push_str("\r\n");
        if let Some(b) = body {
            req.push_str(b);
        }
        stream.write_all(req.as_bytes()).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let status = response
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        (status, body)
    }

    fn stop(mut self) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-INT", &pid]).status().unwrap();
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(
                    status.success(),
                    "the server exits cleanly on SIGINT: {status}"
                );
                return;
            }
            assert!(Instant::now() < deadline, "the server did not stop");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

fn restart_keeps_data(store: &str) {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), store);
    let dk = server.vars["DK_COORDINATOR"].clone();
    assert_eq!(server.request("GET", "/healthz", None, None).0, 200);
    // A browser gets the web application; an unknown API address still gets a problem.
    let (status, body) = server.request("GET", "/sign-in", None, None);
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("<form method=\"post\" action=\"/sign-in\">"),
        "{body}"
    );
    assert_eq!(server.request("GET", "/", None, None).0, 303);
    let (status, body) = server.request("GET", "/v1/nothing", Some(&dk), None);
    assert_eq!(status, 404);
    assert!(body.contains("urn:imi:problem:not-found"), "{body}");
    let (status, body) = server.request("GET", "/v1/directory?q=nurses", Some(&dk), None);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Ordre national des infirmiers"), "{body}");
    let new = r#"{"participant":"DK","name":{"source":"da","texts":{"da":"Sundhedsstyrelsen","en":"Danish Health Authority"}}}"#;
    let (status, body) = server.request("POST", "/v1/authorities", Some(&dk), Some(new));
    assert_eq!(status, 201, "{body}");
    let (status, _) = server.request("POST", "/v1/authorities", Some(&dk), Some("{broken"));
    assert_eq!(status, 400);
    server.stop();

    let server = Server::start(dir.path(), store);
    let dk2 = &server.vars["DK_COORDINATOR"];
    assert_ne!(&dk, dk2, "fresh tokens at every start");
    let (status, body) =
        server.request("GET", "/v1/directory?q=sundhedsstyrelsen", Some(dk2), None);
    assert_eq!(status, 200);
    assert!(
        body.contains("Danish Health Authority"),
        "the authority survived the restart: {body}"
    );
    assert_eq!(
        server.request("GET", "/v1/me", Some(&dk), None).0,
        200,
        "old tokens still work"
    );
    let (_, countries) = server.request("GET", "/v1/authorities?country=DK", Some(dk2), None);
    assert_eq!(
        countries.matches("\"participant\":\"DK\"").count(),
        3,
        "the demo world was not created twice: {countries}"
    );
    server.stop();
}

#[test]
fn sqlite_server_restarts_with_its_data() {
    restart_keeps_data("sqlite");
}

#[test]
fn sled_server_restarts_with_its_data() {
    restart_keeps_data("sled");
}
