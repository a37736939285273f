//! Serving the router on a TCP listener so that slow, silent and idle clients cannot take
//! the server down: each connection must send a request's headers within
//! [`ServeConfig::header_read_timeout`], a connection with nothing going on in either
//! direction for [`ServeConfig::idle_timeout`] is closed, and at most
//! [`ServeConfig::max_connections`] are served at once (further clients wait in the
//! listener's backlog until one ends, instead of the process running out of file
//! descriptors). The client's address reaches the handlers as
//! `ConnectInfo<SocketAddr>`, for the public interface's rate limit.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt;

/// Connection limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeConfig {
    /// How long a client may take to send a request's headers (default 10 s).
    pub header_read_timeout: Duration,
    /// How long a connection may stay without any traffic while no request of it is being
    /// handled (between requests, or while a response is not read) before it is closed
    /// (default 60 s).
    pub idle_timeout: Duration,
    /// How many connections are served at once (default: three quarters of the process's
    /// file-descriptor limit, at most 10 000).
    pub max_connections: usize,
    /// How long stopping waits for requests in flight (default 10 s).
    pub drain_timeout: Duration,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: default_max_connections(),
            drain_timeout: Duration::from_secs(10),
        }
    }
}

/// Three quarters of the soft limit on open files (the rest is for the store, logs and
/// outgoing connections), at least 16 and at most 10 000.
pub fn default_max_connections() -> usize {
    let soft = rustix::process::getrlimit(rustix::process::Resource::Nofile)
        .current
        .unwrap_or(4096);
    usize::try_from(soft / 4 * 3)
        .unwrap_or(10_000)
        .clamp(16, 10_000)
}

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting, lets
/// requests in flight finish (up to [`ServeConfig::drain_timeout`]) and returns.
pub async fn serve(
    listener: TcpListener,
    app: axum::Router,
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send,
) {
    let slots = Arc::new(Semaphore::new(config.max_connections.max(1)));
    let (stop_tx, stop_rx) = watch::channel(false);
    let epoch = Instant::now();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&slots).acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors or a connection reset before accept: wait a
                    // little and go on; the slot goes back with `permit`.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let _permit = permit;
            connection(stream, peer, app, config, epoch, &mut stop).await;
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    // Every connection holds a slot: when all are back, all are done.
    let all = u32::try_from(config.max_connections.max(1)).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(config.drain_timeout, slots.acquire_many(all)).await;
}

/// Serves one connection with the timeouts.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: axum::Router,
    config: ServeConfig,
    epoch: Instant,
    stop: &mut watch::Receiver<bool>,
) {
    let last = Arc::new(AtomicU64::new(millis(epoch)));
    // Requests being handled: a connection waiting for its handler is not idle (the
    // request timeout bounds that wait).
    let busy = Arc::new(AtomicUsize::new(0));
    let io = TokioIo::new(Watched {
        inner: stream,
        last: Arc::clone(&last),
        epoch,
    });
    let (busy_in_service, last_in_service) = (Arc::clone(&busy), Arc::clone(&last));
    let service = hyper::service::service_fn(move |mut request: hyper::Request<_>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        let app = app.clone();
        let busy = Arc::clone(&busy_in_service);
        let last = Arc::clone(&last_in_service);
        busy.fetch_add(1, Ordering::Relaxed);
        async move {
            let response = app.oneshot(request.map(axum::body::Body::new)).await;
            last.store(millis(epoch), Ordering::Relaxed);
            busy.fetch_sub(1, Ordering::Relaxed);
            response
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout)
        .keep_alive(true)
        .serve_connection(io, service);
    tokio::pin!(conn);
    let tick = (config.idle_timeout / 4).max(Duration::from_millis(50));
    let mut closing = false;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, %peer, "connection ended");
                }
                return;
            }
            changed = stop.changed(), if !closing => {
                if changed.is_err() || *stop.borrow() {
                    closing = true;
                    conn.as_mut().graceful_shutdown();
                }
            }
            () = tokio::time::sleep(tick) => {
                let idle = millis(epoch).saturating_sub(last.load(Ordering::Relaxed));
                if busy.load(Ordering::Relaxed) == 0
                    && u128::from(idle) >= config.idle_timeout.as_millis()
                {
                    tracing::debug!(%peer, "closing an idle connection");
                    return;
                }
            }
        }
    }
}

fn millis(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// A stream that records when bytes last went in or out.
struct Watched {
    inner: TcpStream,
    last: Arc<AtomicU64>,
    epoch: Instant,
}

impl Watched {
    fn touch(&self) {
        self.last.store(millis(self.epoch), Ordering::Relaxed);
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(poll, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.touch();
        }
        poll
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        poll
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
