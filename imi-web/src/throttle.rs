//! Throttling of failed sign-ins, per client address: after [`MAX_FAILURES`] failures
//! within [`WINDOW`], an address is refused (429) until the window has passed. Guessing
//! a token is hopeless (256 random bits), but a flood of attempts costs the store a read
//! each and fills the logs; this stops it at the door.
//!
//! The address is the connection's (serve the router with
//! `into_make_service_with_connect_info::<SocketAddr>()`, as the example server does);
//! without it every client shares one budget.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Failures allowed per address within [`WINDOW`].
pub(crate) const MAX_FAILURES: u32 = 10;
/// How long failures count.
pub(crate) const WINDOW: Duration = Duration::from_secs(15 * 60);
/// How many addresses are remembered before stale ones are dropped.
const PRUNE_AT: usize = 10_000;

/// Failed sign-ins per client address.
#[derive(Default)]
pub(crate) struct Throttle {
    failures: Mutex<HashMap<Option<IpAddr>, (u32, Instant)>>,
}

impl Throttle {
    /// Whether `client` may try to sign in now.
    pub(crate) fn allows(&self, client: Option<IpAddr>) -> bool {
        let map = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        match map.get(&client) {
            Some((n, since)) => *n < MAX_FAILURES || since.elapsed() >= WINDOW,
            None => true,
        }
    }

    /// Counts a failed sign-in of `client`.
    pub(crate) fn failed(&self, client: Option<IpAddr>) {
        let mut map = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= PRUNE_AT {
            map.retain(|_, (_, since)| since.elapsed() < WINDOW);
        }
        let entry = map.entry(client).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= WINDOW {
            *entry = (0, Instant::now());
        }
        entry.0 = entry.0.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_refused_after_its_failures_and_others_are_not() {
        let t = Throttle::default();
        let a = Some(IpAddr::from([192, 0, 2, 1]));
        let b = Some(IpAddr::from([192, 0, 2, 2]));
        for _ in 0..MAX_FAILURES {
            assert!(t.allows(a));
            t.failed(a);
        }
        assert!(!t.allows(a));
        assert!(t.allows(b));
    }
}
