//! Time as an input.
//!
//! `imi-core` never reads the system clock. The engine asks its [`Clock`] for the time, so
//! deadlines, retention and reminders are plain functions of a time value and tests run on
//! a [`ManualClock`].
//!
//! The system clock is chosen at the edge: any `Fn() -> DateTime<Utc>` is a clock, so an
//! embedder passes `chrono::Utc::now` (with chrono's `clock` feature) and is done.

use std::fmt;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

/// A source of the current time.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

impl<F> Clock for F
where
    F: Fn() -> DateTime<Utc> + Send + Sync,
{
    fn now(&self) -> DateTime<Utc> {
        self()
    }
}

/// A clock that shows whatever time it is set to, for tests and simulations.
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            now: Mutex::new(start),
        }
    }

    /// Moves the clock to `to` (backwards too, to test clock skew).
    pub fn set(&self, to: DateTime<Utc>) {
        *self.lock() = to;
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut now = self.lock();
        *now += by;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, DateTime<Utc>> {
        // A poisoned lock only means another test thread panicked while holding it; the
        // time value inside is still a valid time.
        self.now
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.lock()
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManualClock")
            .field("now", &self.now())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let start = Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap();
        let clock = ManualClock::new(start);
        assert_eq!(clock.now(), start);
        clock.advance(Duration::days(7));
        assert_eq!(clock.now(), start + Duration::days(7));
        clock.set(start);
        assert_eq!(clock.now(), start);
    }

    #[test]
    fn closures_are_clocks() {
        let fixed = Utc.with_ymd_and_hms(2030, 6, 1, 0, 0, 0).unwrap();
        let clock: &dyn Clock = &move || fixed;
        assert_eq!(clock.now(), fixed);
    }
}
