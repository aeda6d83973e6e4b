//! The restart window: OTP's restart intensity as a small pure state machine.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Counts restarts inside a sliding window of time, as OTP's supervisor does (R-SUP-INT): a
/// restart at `now` is measured against the restarts recorded at `R >= now - period`; when,
/// counting the new one, there are more than `intensity`, the restart is refused. So with
/// `intensity = N` the (N+1)-th restart inside `period` is the one that trips it, and
/// `intensity = 0` refuses every restart.
///
/// OTP stamps restarts with whole seconds; this window uses the monotonic clock at full
/// resolution, so nothing is ambiguous near the window's edge except the edge itself, which is
/// inclusive (a restart exactly `period` old still counts).
///
/// The supervisors use it for their intensity; it is public so that other policies (a circuit
/// breaker's melts, say) can share the rule.
#[derive(Debug, Clone)]
pub struct RestartWindow {
    intensity: u32,
    period: Duration,
    stamps: VecDeque<Instant>,
    /// Whether an event exactly `period` old still counts (OTP's supervisor: yes; fuse: no).
    inclusive: bool,
}

impl RestartWindow {
    /// A window that allows `intensity` restarts in any `period`.
    pub fn new(intensity: u32, period: Duration) -> RestartWindow {
        RestartWindow {
            intensity,
            period,
            stamps: VecDeque::new(),
            inclusive: true,
        }
    }

    /// The same rule with an open edge: an event exactly `period` old no longer counts (the
    /// circuit breaker's "less than MaxT old", R-FUSE-1).
    pub(crate) fn exclusive(intensity: u32, period: Duration) -> RestartWindow {
        RestartWindow {
            inclusive: false,
            ..RestartWindow::new(intensity, period)
        }
    }

    /// The number of restarts allowed inside the period.
    pub fn intensity(&self) -> u32 {
        self.intensity
    }

    /// The length of the window.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// Records a restart at `now` and says whether it is allowed (`false`: the intensity is
    /// exceeded). `now` must not go backwards between calls.
    pub fn add(&mut self, now: Instant) -> bool {
        self.expire(now);
        self.stamps.push_back(now);
        // After a refusal the window keeps at most intensity + 1 stamps, so that a caller that
        // keeps adding does not grow it without bound.
        while self.stamps.len() > self.intensity as usize + 1 {
            self.stamps.pop_front();
        }
        self.stamps.len() <= self.intensity as usize
    }

    /// The restarts that still count at `now`.
    pub fn recent(&mut self, now: Instant) -> usize {
        self.expire(now);
        self.stamps.len()
    }

    /// Forgets every recorded restart.
    pub fn clear(&mut self) {
        self.stamps.clear();
    }

    fn expire(&mut self, now: Instant) {
        while let Some(&oldest) = self.stamps.front() {
            let age = now.saturating_duration_since(oldest);
            if age > self.period || (!self.inclusive && age == self.period) {
                self.stamps.pop_front();
            } else {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_n_plus_first_restart_in_the_period_trips() {
        let t0 = Instant::now();
        let mut w = RestartWindow::new(3, Duration::from_secs(5));
        for i in 0..3 {
            assert!(w.add(t0 + Duration::from_secs(i)));
        }
        assert!(!w.add(t0 + Duration::from_secs(3)));
    }

    #[test]
    fn old_restarts_leave_the_window() {
        let t0 = Instant::now();
        let mut w = RestartWindow::new(1, Duration::from_secs(5));
        assert!(w.add(t0));
        assert!(w.add(t0 + Duration::from_millis(5001)));
        assert!(!w.add(t0 + Duration::from_millis(6000)));
    }

    #[test]
    fn intensity_zero_refuses_every_restart() {
        let mut w = RestartWindow::new(0, Duration::from_secs(5));
        assert!(!w.add(Instant::now()));
    }
}
