//! The process's monotonic clock, read without a syscall. The one module of the crate with
//! `unsafe`: `clock_gettime` / `clock_getres` through libc, because std's `Instant` reads
//! `CLOCK_MONOTONIC` (tens of ns) where `CLOCK_MONOTONIC_COARSE` takes a few, and a cached-token
//! lookup is one clock read. Elsewhere std's `Instant` from a process-local origin.
#![allow(unsafe_code)]

pub use os::{now, tick};

#[cfg(target_os = "linux")]
mod os {
    use core::time::Duration;
    use std::sync::OnceLock;

    fn read(
        clock: libc::clockid_t,
        get: unsafe extern "C" fn(libc::clockid_t, *mut libc::timespec) -> libc::c_int,
    ) -> Duration {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant the kernel knows.
        let rc = unsafe { get(clock, &mut ts) };
        if rc != 0 {
            return Duration::ZERO;
        }
        Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
    }

    pub fn now() -> Duration {
        read(libc::CLOCK_MONOTONIC_COARSE, libc::clock_gettime)
    }

    pub fn tick() -> Duration {
        static TICK: OnceLock<Duration> = OnceLock::new();
        *TICK.get_or_init(|| {
            let res = read(libc::CLOCK_MONOTONIC_COARSE, libc::clock_getres);
            // An unknown resolution is treated as the coarsest common tick (HZ=100).
            if res.is_zero() {
                Duration::from_millis(10)
            } else {
                res
            }
        })
    }
}

#[cfg(not(target_os = "linux"))]
mod os {
    use std::sync::OnceLock;
    use std::time::{Duration, Instant};

    pub fn now() -> Duration {
        static ORIGIN: OnceLock<Instant> = OnceLock::new();
        ORIGIN.get_or_init(Instant::now).elapsed()
    }

    pub fn tick() -> Duration {
        Duration::ZERO
    }
}
