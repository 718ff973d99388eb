//! The statistics of a sweep: Wilson score intervals for pass rates and
//! quantiles of per-seed figures.

/// The 97.5th percentile of the standard normal distribution: a 95%
/// two-sided interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// The Wilson score interval for `passed` successes in `runs` trials at
/// normal quantile `z` (Wilson 1927; Newcombe 1998, method 3): `(low,
/// high)`, within 0–1; `(0, 1)` for no trial.
///
/// ```
/// use mmsoak_sweep::{wilson, Z95};
/// let (lo, hi) = wilson(0, 20, Z95);
/// assert_eq!(lo, 0.0);
/// assert!((hi - 0.1611).abs() < 1e-4); // Newcombe 1998, table I
/// ```
pub fn wilson(passed: u64, runs: u64, z: f64) -> (f64, f64) {
    if runs == 0 {
        return (0.0, 1.0);
    }
    let n = runs as f64;
    let p = passed.min(runs) as f64 / n;
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// The `q`-quantile (0–1) of `values` by linear interpolation between the
/// closest ranks (numpy's default, Hyndman & Fan type 7); `None` when
/// empty.
///
/// ```
/// use mmsoak_sweep::quantile;
/// assert_eq!(quantile(&[3.0, 1.0, 2.0, 4.0], 0.5), Some(2.5));
/// assert_eq!(quantile(&[], 0.5), None);
/// ```
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let h = (v.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let (lo, frac) = (h.floor() as usize, h - h.floor());
    let hi = (lo + 1).min(v.len() - 1);
    Some(v[lo] + (v[hi] - v[lo]) * frac)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Newcombe (1998), "Two-sided confidence intervals for the single
    /// proportion", Statistics in Medicine 17: 857–872, table I, method 3
    /// (score interval without continuity correction).
    #[test]
    fn wilson_matches_newcombes_reference_values() {
        for (r, n, lo, hi) in [
            (81, 263, 0.2553, 0.3662),
            (15, 148, 0.0624, 0.1605),
            (0, 20, 0.0, 0.1611),
            (1, 29, 0.0061, 0.1718),
        ] {
            let (l, h) = wilson(r, n, Z95);
            assert!(
                (l - lo).abs() < 5e-5 && (h - hi).abs() < 5e-5,
                "{r}/{n}: {l} {h}"
            );
        }
    }

    #[test]
    fn wilson_stays_inside_zero_one_and_is_symmetric() {
        assert_eq!(wilson(5, 0, Z95), (0.0, 1.0));
        let (l, h) = wilson(20, 20, Z95);
        assert!(h == 1.0 && l > 0.8, "{l}");
        let (a, b) = wilson(3, 10, Z95);
        let (c, d) = wilson(7, 10, Z95);
        assert!((a - (1.0 - d)).abs() < 1e-12 && (b - (1.0 - c)).abs() < 1e-12);
    }

    #[test]
    fn quantiles_interpolate_between_ranks() {
        let v = [10.0, 20.0, 30.0, 40.0, 50.0];
        assert_eq!(quantile(&v, 0.1), Some(14.0));
        assert_eq!(quantile(&v, 0.9), Some(46.0));
        assert_eq!(quantile(&v, 0.0), Some(10.0));
        assert_eq!(quantile(&[7.0], 0.9), Some(7.0));
        assert_eq!(quantile(&[f64::NAN, 1.0], 0.5), Some(1.0));
    }
}
