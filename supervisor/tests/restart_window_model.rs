//! R-SUP-INT, property test: the restart window against a simple model. The model keeps
//! every restart time and, for a new restart at `now`, counts those at `now - period` or
//! later plus the new one; the restart is allowed while that count is at most `intensity`.
//! The model forgets nothing, so it also checks that the window may safely forget.

use std::time::{Duration, Instant};

use beamish_supervisor::RestartWindow;
use proptest::prelude::*;

fn model_allows(history: &[u64], now: u64, intensity: u32, period: u64) -> bool {
    let recent = history.iter().filter(|&&t| t + period >= now).count();
    recent < intensity as usize
}

proptest! {
    #[test]
    fn r_sup_int_window_matches_the_model(
        intensity in 0u32..6,
        period in 1u64..2_000,
        gaps in prop::collection::vec(0u64..1_500, 1..60),
    ) {
        let t0 = Instant::now();
        let mut w = RestartWindow::new(intensity, Duration::from_millis(period));
        let mut history = Vec::new();
        let mut now = 0;
        for gap in gaps {
            now += gap;
            let want = model_allows(&history, now, intensity, period);
            let got = w.add(t0 + Duration::from_millis(now));
            prop_assert_eq!(got, want, "at {} ms with history {:?}", now, history);
            history.push(now);
            if !got {
                // A supervisor stops at the first refusal; start a fresh one.
                w.clear();
                history.clear();
            }
        }
    }
}
