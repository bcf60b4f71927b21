//! The time seam: the cache asks a [`Clock`], so tests can drive expiry without sleeping.

use core::time::Duration;

use super::monotonic;

/// A monotonic clock plus the wall clock.
pub trait Clock: Send + Sync {
    /// Monotonic time since an arbitrary origin. Never later than the true time.
    fn now(&self) -> Duration;
    /// How far [`Clock::now`] may lag behind the true time (a coarse clock's tick). Deadlines
    /// are pulled in by this much so a lagging reading can never hand out an expired token.
    fn max_lag(&self) -> Duration {
        Duration::ZERO
    }
    /// Seconds since the Unix epoch, only for JWTs that carry `exp` but no `iat`.
    fn unix_time(&self) -> u64;
    /// Milliseconds since the Unix epoch: how deadlines travel through a shared store.
    fn unix_time_ms(&self) -> u64 {
        self.unix_time().saturating_mul(1000)
    }
}

/// The process's monotonic clock. On Linux it reads `CLOCK_MONOTONIC_COARSE` (a few ns, no
/// syscall, millisecond ticks), which keeps a cached-token lookup in the tens of nanoseconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        monotonic::now()
    }

    fn max_lag(&self) -> Duration {
        monotonic::tick()
    }

    fn unix_time(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }

    fn unix_time_ms(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0)
    }
}

/// A clock the test moves by hand.
#[derive(Debug, Default)]
pub struct ManualClock {
    nanos: core::sync::atomic::AtomicU64,
    unix: core::sync::atomic::AtomicU64,
}

impl ManualClock {
    pub fn new(unix_time: u64) -> Self {
        ManualClock {
            nanos: core::sync::atomic::AtomicU64::new(1_000_000_000),
            unix: core::sync::atomic::AtomicU64::new(unix_time),
        }
    }

    pub fn advance(&self, by: Duration) {
        use core::sync::atomic::Ordering::SeqCst;
        self.nanos.fetch_add(by.as_nanos() as u64, SeqCst);
        self.unix.fetch_add(by.as_secs(), SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(core::sync::atomic::Ordering::SeqCst))
    }

    fn unix_time(&self) -> u64 {
        self.unix.load(core::sync::atomic::Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_clock_is_monotonic_and_close_to_real_time() {
        let c = SystemClock;
        let a = c.now();
        std::thread::sleep(Duration::from_millis(30));
        let b = c.now();
        assert!(
            b >= a + Duration::from_millis(30) - c.max_lag(),
            "{a:?} {b:?}"
        );
        assert!(c.max_lag() <= Duration::from_millis(10));
        assert!(c.unix_time() > 1_700_000_000);
    }
}
