//! Time, injectable so that tests control it instead of sleeping.
//!
//! A clock gives two readings: the wall clock (what dates are stamped
//! with) and a monotonic clock (what elapsed time is measured with, immune
//! to the wall clock being set forward or back). The scheduler combines
//! them so that a jump of the wall clock can never make a deletion happen
//! early (see the KMS scheduler).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// A source of the current time, in milliseconds.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;
    /// Milliseconds since an arbitrary, fixed origin; never goes back.
    fn monotonic_ms(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    origin: std::time::Instant,
}

impl SystemClock {
    pub fn new() -> Self {
        Self {
            origin: std::time::Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
    }

    fn monotonic_ms(&self) -> i64 {
        i64::try_from(self.origin.elapsed().as_millis()).unwrap_or(i64::MAX)
    }
}

/// A clock that moves only when told to, for tests.
///
/// [`ManualClock::advance_ms`] lets time pass (both readings move);
/// [`ManualClock::set_wall_ms`] changes only the wall clock, as an operator
/// or a bad NTP server would.
#[derive(Debug, Clone)]
pub struct ManualClock {
    wall: Arc<AtomicI64>,
    monotonic: Arc<AtomicI64>,
}

impl ManualClock {
    pub fn new(start_ms: i64) -> Self {
        Self {
            wall: Arc::new(AtomicI64::new(start_ms)),
            monotonic: Arc::new(AtomicI64::new(0)),
        }
    }

    /// Lets `ms` milliseconds pass.
    pub fn advance_ms(&self, ms: i64) {
        self.wall.fetch_add(ms, Ordering::SeqCst);
        self.monotonic.fetch_add(ms, Ordering::SeqCst);
    }

    /// Sets the wall clock without any time passing.
    pub fn set_wall_ms(&self, ms: i64) {
        self.wall.store(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.wall.load(Ordering::SeqCst)
    }

    fn monotonic_ms(&self) -> i64 {
        self.monotonic.load(Ordering::SeqCst)
    }
}
