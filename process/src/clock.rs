//! A cheap upper bound on the current time, for call deadlines.
//!
//! Reading the monotonic clock costs about 25 ns on our VMs, and every call with a timeout
//! read it once: 16% of the time of a call with 100 callers on one worker (perf). The CPU's
//! time-stamp counter costs about 10 ns to read and runs at 1 GHz or more on the machines
//! we use it on (checked once per program), so fewer than [`WINDOW_CYCLES`] ticks of it
//! mean less than [`WINDOW`] of time. Each thread anchors one clock reading to the counter; while the counter
//! has moved on by fewer than that many ticks, [`not_before_now`] returns the anchor plus
//! the window: never earlier than now, at most the window later. A call's deadline is then
//! never early and at most 1 ms late (tokio's timers have 1 ms granularity anyway). Past the
//! window it reads the clock again, so at most one clock reading per window per thread.
//!
//! Only beamish's worker threads use it, only inside a multi-thread tokio runtime (whose clock
//! cannot be paused: under a paused test clock `tokio::time::Instant::now()` jumps, and an
//! anchor would not follow it), and only where the kernel keeps time with the counter itself
//! (clock source `tsc`: it has checked that the counter is constant-rate and in step across
//! CPUs). Everywhere else it is `Instant::now()`.

use std::cell::Cell;
use std::sync::OnceLock;
use std::time::Duration;

use tokio::time::Instant;

/// How long an anchor serves.
const WINDOW: Duration = Duration::from_millis(1);
/// Counter ticks that take at least [`WINDOW`] at 1 GHz, the slowest counter we assume.
const WINDOW_CYCLES: u64 = 1_000_000;

/// A counter value, and an instant no earlier than [`WINDOW`] after it was read.
#[derive(Clone, Copy)]
struct Anchor {
    counter: u64,
    bound: Instant,
}

thread_local! {
    static ANCHOR: Cell<Option<Anchor>> = const { Cell::new(None) };
    static ENABLED: Cell<bool> = const { Cell::new(false) };
}

/// Lets this thread use the counter, if the kernel keeps time with it: called by a worker of
/// a multi-thread runtime.
pub(crate) fn enable_on_this_thread() {
    ENABLED.set(sys::counter_is_the_clock());
}

/// An instant no earlier than now and at most [`WINDOW`] later (see the module docs). Off
/// the workers it is `Instant::now()`.
pub(crate) fn not_before_now() -> Instant {
    if !ENABLED.get() {
        return Instant::now();
    }
    let counter = sys::counter();
    if let Some(a) = ANCHOR.get()
        && counter.wrapping_sub(a.counter) < WINDOW_CYCLES
    {
        return a.bound;
    }
    // Read after the counter: it is no earlier than the moment the counter was read.
    let now = Instant::now();
    ANCHOR.set(Some(Anchor {
        counter,
        bound: now + WINDOW,
    }));
    now
}

/// A cheap monotonic reading for comparing moments across the workers: the time-stamp
/// counter where the kernel keeps time with it (it is then in step across CPUs), otherwise
/// nanoseconds since the first reading. Only differences of two readings mean anything; see
/// [`ticks_in`].
pub(crate) fn ticks() -> u64 {
    if sys::counter_is_the_clock() {
        sys::counter()
    } else {
        static EPOCH: OnceLock<std::time::Instant> = OnceLock::new();
        let epoch = *EPOCH.get_or_init(std::time::Instant::now);
        u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

/// How many [`ticks`] `span` lasts (rounded down).
pub(crate) fn ticks_in(span: Duration) -> u64 {
    let per_second = if sys::counter_is_the_clock() {
        sys::counter_hz()
    } else {
        1_000_000_000
    };
    u64::try_from(u128::from(per_second) * span.as_nanos() / 1_000_000_000).unwrap_or(u64::MAX)
}

/// How long `ticks` of [`ticks`] last (rounded down).
pub(crate) fn duration_of(ticks: u64) -> Duration {
    let per_second = if sys::counter_is_the_clock() {
        sys::counter_hz()
    } else {
        1_000_000_000
    };
    let nanos = u128::from(ticks) * 1_000_000_000 / u128::from(per_second);
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod sys {
    use std::sync::OnceLock;

    #[allow(unsafe_code)]
    pub(super) fn counter() -> u64 {
        // SAFETY: `rdtsc` reads the time-stamp counter into registers; it touches no memory
        // and has no precondition (it is `unsafe` only as every intrinsic is).
        unsafe { core::arch::x86_64::_rdtsc() }
    }

    /// Whether the kernel's clock source is the time-stamp counter, and the counter runs at
    /// 1 GHz or more (measured once, over 200 us, with a 10% margin).
    pub(super) fn counter_is_the_clock() -> bool {
        counter_hz() > 0
    }

    /// The counter's rate as measured once (over 200 us), or 0 where it is not usable.
    pub(super) fn counter_hz() -> u64 {
        static HZ: OnceLock<u64> = OnceLock::new();
        *HZ.get_or_init(|| {
            let source = std::fs::read_to_string(
                "/sys/devices/system/clocksource/clocksource0/current_clocksource",
            );
            if !source.is_ok_and(|s| s.trim() == "tsc") {
                return 0;
            }
            let (start, counted_from) = (std::time::Instant::now(), counter());
            while start.elapsed() < std::time::Duration::from_micros(200) {
                std::hint::spin_loop();
            }
            let (elapsed, ticks) = (start.elapsed(), counter().wrapping_sub(counted_from));
            let hz = ticks as f64 / elapsed.as_secs_f64();
            if hz >= 1.1e9 { hz as u64 } else { 0 }
        })
    }
}

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
mod sys {
    pub(super) fn counter() -> u64 {
        0
    }

    pub(super) fn counter_is_the_clock() -> bool {
        false
    }

    pub(super) fn counter_hz() -> u64 {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Over many windows, each bound is no earlier than a clock reading taken just before it,
    /// and no later than one taken just after it plus the window.
    #[test]
    fn the_bound_is_never_early_and_at_most_a_window_late() {
        enable_on_this_thread();
        // At least 50 ms (dozens of windows, so re-anchoring is covered) and at least 20,000
        // reads, however little of the CPU a loaded machine gives this thread.
        let end = Instant::now() + Duration::from_millis(50);
        let mut reads = 0u64;
        while reads < 20_000 || Instant::now() < end {
            let before = Instant::now();
            let bound = not_before_now();
            let after = Instant::now();
            assert!(bound >= before, "early by {:?}", before - bound);
            assert!(bound <= after + WINDOW, "late by {:?}", bound - after);
            reads += 1;
        }
    }

    #[test]
    fn off_the_workers_it_is_the_clock() {
        // A fresh thread has not enabled the counter.
        std::thread::spawn(|| {
            let before = Instant::now();
            let t = not_before_now();
            assert!(t >= before && t <= Instant::now());
            assert!(ANCHOR.get().is_none());
        })
        .join()
        .unwrap();
    }
}
