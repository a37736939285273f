//! Throttling per client address: after [`MAX_FAILURES`] failed sign-ins within
//! [`WINDOW`], an address is refused (429) until the window has passed; posts to the
//! public portal have a budget the same way. Guessing
//! a token is hopeless (256 random bits), but a flood of attempts costs the store a read
//! each and fills the logs; this stops it at the door.
//!
//! The address is the connection's (serve the router with
//! `into_make_service_with_connect_info::<SocketAddr>()`, as the example server does), or
//! behind one trusted reverse proxy the last address of `X-Forwarded-For`
//! ([`crate::WebConfig::trust_forwarded_for`]); without either every client shares one
//! budget. IPv6 addresses count by their /64 network.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Failures allowed per address within [`WINDOW`].
pub(crate) const MAX_FAILURES: u32 = 10;
/// Posts to the public portal (submissions, opening a case, replies) allowed per address
/// within [`WINDOW`].
pub(crate) const PUBLIC_POSTS: u32 = 30;
/// How long failures count.
pub(crate) const WINDOW: Duration = Duration::from_secs(15 * 60);
/// How many addresses are remembered before stale ones are dropped.
const PRUNE_AT: usize = 10_000;

/// Events per client address within [`WINDOW`] (failed sign-ins, or posts to the public
/// portal), up to a limit.
pub(crate) struct Throttle {
    max: u32,
    counts: Mutex<HashMap<Option<IpAddr>, (u32, Instant)>>,
}

impl Default for Throttle {
    fn default() -> Self {
        Self::new(MAX_FAILURES)
    }
}

/// The key an address counts under: IPv6 addresses by their /64 network (one subscriber's
/// addresses), IPv4 addresses as they are.
fn key(client: Option<IpAddr>) -> Option<IpAddr> {
    match client {
        Some(IpAddr::V6(a)) => {
            let mut s = a.segments();
            s[4..].fill(0);
            Some(IpAddr::from(s))
        }
        other => other,
    }
}

impl Throttle {
    /// A throttle allowing `max` events per address within the window.
    pub(crate) fn new(max: u32) -> Self {
        Self {
            max,
            counts: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `client` may go on now.
    pub(crate) fn allows(&self, client: Option<IpAddr>) -> bool {
        let map = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        match map.get(&key(client)) {
            Some((n, since)) => *n < self.max || since.elapsed() >= WINDOW,
            None => true,
        }
    }

    /// Counts an event of `client`. Past [`PRUNE_AT`] addresses, stale ones are dropped;
    /// if that is not enough, new addresses share one count.
    pub(crate) fn failed(&self, client: Option<IpAddr>) {
        let mut map = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let mut client = key(client);
        if map.len() >= PRUNE_AT && !map.contains_key(&client) {
            map.retain(|_, (_, since)| since.elapsed() < WINDOW);
            if map.len() >= PRUNE_AT {
                client = None;
            }
        }
        let entry = map.entry(client).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= WINDOW {
            *entry = (0, Instant::now());
        }
        entry.0 = entry.0.saturating_add(1);
    }

    /// Counts an event of `client` and says whether it was within the limit (one step,
    /// so a burst cannot slip between check and count).
    pub(crate) fn take(&self, client: Option<IpAddr>) -> bool {
        let allowed = self.allows(client);
        if allowed {
            self.failed(client);
        }
        allowed
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
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

    #[test]
    fn ipv6_addresses_of_one_network_share_a_count() {
        let t = Throttle::new(2);
        let one: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let same_net: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other_net: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert!(t.take(Some(one)));
        assert!(t.take(Some(same_net)));
        assert!(!t.take(Some(one)));
        assert!(t.take(Some(other_net)));
    }
}
