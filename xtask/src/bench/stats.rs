//! Medians and spreads of repeated runs. Medians, not means: one run disturbed by another
//! process on a two-core machine should not move the figure.

/// Median, minimum and maximum of a set of runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Spread {
    pub(crate) median: f64,
    pub(crate) min: f64,
    pub(crate) max: f64,
    pub(crate) runs: usize,
}

impl Spread {
    /// `None` for no values. With an even count the median is the mean of the middle two.
    pub(crate) fn of(values: &[f64]) -> Option<Spread> {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let mid = v.len() / 2;
        let median = if v.len() % 2 == 0 {
            (v[mid - 1] + v[mid]) / 2.0
        } else {
            v[mid]
        };
        Some(Spread {
            median,
            min: v[0],
            max: v[v.len() - 1],
            runs: v.len(),
        })
    }
}

/// How `value` performs against `reference`, > 1 meaning better, whichever direction the metric
/// is read in: for "higher is better" `value / reference`, else `reference / value`.
pub(crate) fn speedup(value: f64, reference: f64, higher_is_better: bool) -> Option<f64> {
    let r = if higher_is_better {
        value / reference
    } else {
        reference / value
    };
    (r.is_finite() && r > 0.0).then_some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        let s = Spread::of(&[5.0, 1.0, 3.0]).unwrap();
        assert_eq!((s.median, s.min, s.max, s.runs), (3.0, 1.0, 5.0, 3));
        let s = Spread::of(&[4.0, 1.0, 3.0, 2.0]).unwrap();
        assert_eq!((s.median, s.min, s.max, s.runs), (2.5, 1.0, 4.0, 4));
        assert_eq!(Spread::of(&[7.0]).unwrap().median, 7.0);
    }

    #[test]
    fn empty_and_non_finite() {
        assert_eq!(Spread::of(&[]), None);
        assert_eq!(Spread::of(&[f64::NAN]), None);
        assert_eq!(Spread::of(&[f64::NAN, 2.0]).unwrap().median, 2.0);
    }

    #[test]
    fn speedup_reads_the_direction() {
        // 200 ns against a 100 ns reference is half as fast.
        assert_eq!(speedup(200.0, 100.0, false), Some(0.5));
        // 2M msgs/s against 1M msgs/s is twice as fast.
        assert_eq!(speedup(2e6, 1e6, true), Some(2.0));
        assert_eq!(speedup(1.0, 0.0, true), None);
        assert_eq!(speedup(0.0, 1.0, false), None);
    }
}
