//! Rate limits of the public interface: a token bucket per client address.
//!
//! Everything under `/v1/public/` is open to anyone, so each client address gets a
//! bucket of `burst` requests that refills at `per_minute`; a request that finds it
//! empty gets 429 with `Retry-After`. Signed-in routes are not limited here.
//!
//! The client address comes from the connection (serve the router with
//! `into_make_service_with_connect_info::<SocketAddr>()`, as the example server does).
//! Behind one reverse proxy, set [`RateLimit::trust_forwarded_for`] so the last address
//! of `X-Forwarded-For` (the one the proxy appended) counts instead: addresses left of
//! it are the client's own words. Behind a chain of proxies, let the outermost one
//! overwrite the header. Never set it when clients reach the server directly, or they
//! choose their own bucket. Without either, all clients share one
//! bucket: safe, but strict.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::problem::Problem;

/// The prefix of the routes the limit applies to.
pub const PUBLIC_PREFIX: &str = "/v1/public/";

/// How many buckets are kept before full ones are dropped.
const PRUNE_AT: usize = 10_000;

/// The public interface's rate limit per client address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests a client may make at once (default 20).
    pub burst: u32,
    /// Requests a client may make per minute once the burst is spent (default 30).
    pub per_minute: u32,
    /// Take the client address from the last entry of `X-Forwarded-For` (behind one
    /// trusted proxy only).
    pub trust_forwarded_for: bool,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            burst: 20,
            per_minute: 30,
            trust_forwarded_for: false,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The buckets of every client.
#[derive(Debug)]
pub(crate) struct Limiter {
    limit: RateLimit,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

impl Limiter {
    pub(crate) fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn rate_per_second(&self) -> f64 {
        f64::from(self.limit.per_minute.max(1)) / 60.0
    }

    /// Takes one token from `client`'s bucket at `now`; when it is empty, how long until
    /// the next token.
    pub(crate) fn take(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let burst = f64::from(self.limit.burst.max(1));
        let rate = self.rate_per_second();
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if buckets.len() >= PRUNE_AT {
            // Buckets that have refilled completely hold no information: drop them.
            buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate < burst
            });
        }
        let bucket = buckets.entry(client).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let refilled = (bucket.tokens
            + now.saturating_duration_since(bucket.at).as_secs_f64() * rate)
            .min(burst);
        bucket.at = now;
        if refilled >= 1.0 {
            bucket.tokens = refilled - 1.0;
            Ok(())
        } else {
            bucket.tokens = refilled;
            Err(Duration::from_secs_f64((1.0 - refilled) / rate))
        }
    }

    fn client(&self, req: &Request) -> IpAddr {
        if self.limit.trust_forwarded_for {
            // The rightmost address is the one the trusted proxy appended: the address
            // it saw. Everything left of it came from the client, who may write anything.
            let forwarded = req
                .headers()
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .next_back()
                .and_then(|a| a.trim().parse().ok());
            if let Some(ip) = forwarded {
                return ip;
            }
        }
        req.extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip())
    }
}

/// The middleware: limits requests under [`PUBLIC_PREFIX`], passes the others.
pub(crate) async fn limit_public(
    State(limiter): State<Arc<Limiter>>,
    req: Request,
    next: Next,
) -> Response {
    if !req.uri().path().starts_with(PUBLIC_PREFIX) {
        return next.run(req).await;
    }
    match limiter.take(limiter.client(&req), Instant::now()) {
        Ok(()) => next.run(req).await,
        Err(wait) => {
            let seconds = wait.as_secs().saturating_add(1);
            let mut r = Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many requests",
                format!("too many requests from this address; try again in {seconds} s"),
            )
            .into_response();
            if let Ok(v) = HeaderValue::from_str(&seconds.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            r
        }
    }
}

/// Cross-origin use of the public interface (CORS): other sites may call `/v1/public/…`
/// from their pages: the public directory, and a submission's own pages with its secret
/// in `X-Submission-Secret` (never a cookie, so no credentials are ever shared). A
/// preflight (`OPTIONS`) is answered here; other answers get the allowing headers.
pub(crate) async fn public_cors(req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with(PUBLIC_PREFIX) {
        return next.run(req).await;
    }
    let preflight = req.method() == axum::http::Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = if preflight {
        let mut r = StatusCode::NO_CONTENT.into_response();
        let h = r.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(
                "content-type, accept-language, if-match, if-none-match, x-submission-secret",
            ),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        r
    } else {
        next.run(req).await
    };
    let h = response.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("etag, content-language, retry-after"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_gives_its_burst_then_refills_at_the_rate() {
        let limiter = Limiter::new(RateLimit {
            burst: 3,
            per_minute: 60,
            trust_forwarded_for: false,
        });
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.take(a, t0), Ok(()));
        }
        let wait = limiter.take(a, t0).unwrap_err();
        assert!(wait <= Duration::from_secs(1) && wait > Duration::from_millis(900));
        // Another client has its own bucket.
        assert_eq!(limiter.take(b, t0), Ok(()));
        // One token per second comes back, never more than the burst.
        assert_eq!(limiter.take(a, t0 + Duration::from_secs(1)), Ok(()));
        assert!(limiter.take(a, t0 + Duration::from_secs(1)).is_err());
        let later = t0 + Duration::from_secs(3600);
        for _ in 0..3 {
            assert_eq!(limiter.take(a, later), Ok(()));
        }
        assert!(limiter.take(a, later).is_err());
    }

    #[test]
    fn the_forwarded_address_is_the_one_the_proxy_appended() {
        let limiter = Limiter::new(RateLimit {
            trust_forwarded_for: true,
            ..RateLimit::default()
        });
        let req = |values: &[&str]| {
            let mut b = axum::http::Request::builder();
            for v in values {
                b = b.header("x-forwarded-for", *v);
            }
            b.body(axum::body::Body::empty()).unwrap()
        };
        let proxy_saw: IpAddr = "203.0.113.9".parse().unwrap();
        // The client wrote its own entries first; the proxy appended the address it saw.
        assert_eq!(limiter.client(&req(&["6.6.6.6, 203.0.113.9"])), proxy_saw);
        assert_eq!(
            limiter.client(&req(&["1.1.1.1", "2.2.2.2, 203.0.113.9"])),
            proxy_saw
        );
        assert_eq!(limiter.client(&req(&["203.0.113.9"])), proxy_saw);
    }

    #[test]
    fn full_buckets_are_pruned() {
        let limiter = Limiter::new(RateLimit::default());
        let t0 = Instant::now();
        for i in 0..PRUNE_AT as u32 {
            limiter.take(IpAddr::V4(Ipv4Addr::from(i)), t0).unwrap();
        }
        let later = t0 + Duration::from_secs(3600);
        limiter
            .take("198.51.100.7".parse().unwrap(), later)
            .unwrap();
        assert_eq!(limiter.buckets.lock().unwrap().len(), 1);
    }
}
