//! Exactly rounded statistics: sums, means and medians as Python's
//! `math.fsum` / `statistics.mean` / `statistics.median` compute them, and
//! rounding to decimal places as Python's `round` does.

/// The exact sum of `values` as a list of non-overlapping partials
/// (Shewchuk's algorithm), smallest magnitude first.
fn partials(values: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut partials: Vec<f64> = Vec::new();
    for value in values {
        let mut x = value;
        let mut kept = 0;
        for j in 0..partials.len() {
            let mut y = partials[j];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            let lo = y - (hi - x);
            if lo != 0.0 {
                partials[kept] = lo;
                kept += 1;
            }
            x = hi;
        }
        partials.truncate(kept);
        partials.push(x);
    }
    partials
}

/// Round an exact sum held as partials to the nearest double (ties to even),
/// as CPython's `math.fsum` does.
fn round_partials(p: &[f64]) -> f64 {
    let mut n = p.len();
    if n == 0 {
        return 0.0;
    }
    n -= 1;
    let mut hi = p[n];
    let mut lo = 0.0;
    while n > 0 {
        let x = hi;
        n -= 1;
        let y = p[n];
        hi = x + y;
        let yr = hi - x;
        lo = y - yr;
        if lo != 0.0 {
            break;
        }
    }
    // Half-way case: make the rounding of `hi + lo` go the way the rest of the partials say.
    if n > 0 && ((lo < 0.0 && p[n - 1] < 0.0) || (lo > 0.0 && p[n - 1] > 0.0)) {
        let y = lo * 2.0;
        let x = hi + y;
        let yr = x - hi;
        if y == yr {
            hi = x;
        }
    }
    hi
}

/// The sum of `values` rounded once, to the nearest double (Python's `math.fsum`).
///
/// Inputs must be finite and the sum must not overflow (KPIs are small numbers).
///
/// ```
/// use mmsoak_verify::stats::exact_sum;
/// assert_eq!(exact_sum([0.1; 10]), 1.0); // naive summation gives 0.9999999999999999
/// ```
pub fn exact_sum(values: impl IntoIterator<Item = f64>) -> f64 {
    round_partials(&partials(values))
}

/// The arithmetic mean rounded once, to the nearest double (ties to even), as
/// Python's `statistics.mean` computes it with exact fractions. `None` for no values.
///
/// The exact sum is kept as partials; the candidate `fsum / n` and its two
/// neighbours are compared by their exact residual `sum - x * n` (the product
/// split exactly with a fused multiply-add) and the closest one wins.
///
/// ```
/// use mmsoak_verify::stats::exact_mean;
/// assert_eq!(exact_mean(&[0.85; 8]), Some(0.85));
/// assert_eq!(exact_mean(&[]), None);
/// ```
pub fn exact_mean(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let n = values.len() as f64;
    let sum = partials(values.iter().copied());
    let candidate = round_partials(&sum) / n;
    let residual = |x: f64| {
        let hi = x * n;
        let lo = x.mul_add(n, -hi); // x * n = hi + lo exactly
        let mut p = sum.clone();
        p.push(-hi);
        p.push(-lo);
        exact_sum(p).abs()
    };
    let mut best = candidate;
    let mut best_residual = residual(candidate);
    for x in [candidate.next_down(), candidate.next_up()] {
        let r = residual(x);
        if r < best_residual || (r == best_residual && x.to_bits() & 1 == 0) {
            best = x;
            best_residual = r;
        }
    }
    Some(best)
}

/// The median (mean of the two middle values for an even count), exactly
/// rounded. `None` for no values.
///
/// ```
/// use mmsoak_verify::stats::median;
/// assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
/// assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
/// ```
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => exact_mean(&sorted[n / 2 - 1..=n / 2]),
    }
}

/// Round to `places` decimal places as Python's `round(x, places)` does:
/// the exact decimal value of the double is rounded half to even, and the
/// result is the double nearest to that decimal. (Rust's `{:.N}` formatting
/// rounds the exact value half to even; parsing gives the nearest double.)
///
/// ```
/// use mmsoak_verify::stats::round_to;
/// assert_eq!(round_to(0.8499999999999999, 3), 0.85);
/// assert_eq!(round_to(0.0625, 3), 0.062); // an exact tie goes to even
/// assert_eq!(round_to(2.675, 2), 2.67);   // 2.675 is 2.67499999... in binary
/// ```
pub fn round_to(x: f64, places: usize) -> f64 {
    if !x.is_finite() {
        return x;
    }
    let rounded = format!("{x:.places$}").parse::<f64>().unwrap_or(x);
    if rounded == 0.0 {
        0.0 // no "-0.0" in reports
    } else {
        rounded
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn eight_times_085_averages_to_exactly_085() {
        let naive: f64 = [0.85; 8].iter().sum::<f64>() / 8.0;
        assert_ne!(naive, 0.85, "naive summation drifts");
        assert_eq!(exact_mean(&[0.85; 8]), Some(0.85));
        assert!(exact_mean(&[0.85; 8]).is_some_and(|m| m >= 0.85));
    }

    #[test]
    fn fsum_matches_known_python_results() {
        assert_eq!(exact_sum([0.1; 10]), 1.0);
        assert_eq!(
            exact_sum([1e100, 1.0, -1e100, 1e-100, 1e50, -1.0, -1e50]),
            1e-100
        );
        assert_eq!(exact_sum([1.0, 1e100, 1.0, -1e100]), 2.0);
        // The half-way correction (CPython test vector): 2**53 + 1 + 2**-? style tie.
        assert_eq!(
            exact_sum([2.0f64.powi(53), 1.0, 1e-16]),
            2.0f64.powi(53) + 2.0
        );
        assert_eq!(exact_sum(std::iter::empty()), 0.0);
    }

    #[test]
    fn mean_is_exactly_rounded_where_fsum_then_divide_is_not() {
        // Python: statistics.mean([0.306, 0.327, 0.83]) == 0.48766666666666664,
        // while math.fsum(...) / 3 == 0.4876666666666667 (two roundings).
        let xs = [0.306, 0.327, 0.83];
        assert_eq!(exact_sum(xs) / 3.0, 0.4876666666666667);
        assert_eq!(exact_mean(&xs), Some(0.48766666666666664));
        assert_eq!(exact_mean(&[0.1, 0.2, 0.3]), Some(0.2));
        assert_eq!(exact_mean(&[-2.5]), Some(-2.5));
    }

    #[test]
    fn median_even_and_odd() {
        assert_eq!(median(&[0.3, 0.1]), Some(0.2));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[5.0, 1.0, 9.0, 7.0, 3.0]), Some(5.0));
    }

    #[test]
    fn rounding_is_half_even_on_the_decimal_value() {
        assert_eq!(round_to(0.0005, 3), 0.001); // 0.0005 is slightly above the tie in binary
        assert_eq!(round_to(1.0005, 3), 1.0); // and 1.0005 slightly below
        assert_eq!(round_to(0.125, 2), 0.12);
        assert_eq!(round_to(-0.0001, 3), 0.0);
        assert_eq!(round_to(250.0, 3), 250.0);
    }

    proptest! {
        #[test]
        fn mean_of_equal_values_is_that_value(x in -1e6f64..1e6, n in 1usize..64) {
            prop_assert_eq!(exact_mean(&vec![x; n]), Some(x));
        }

        #[test]
        fn mean_lies_between_min_and_max_and_ignores_order(mut xs in prop::collection::vec(-1e3f64..1e3, 1..20)) {
            let m = exact_mean(&xs).expect("values");
            let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            prop_assert!(lo <= m && m <= hi);
            xs.reverse();
            prop_assert_eq!(exact_mean(&xs), Some(m));
        }

        #[test]
        fn exact_sum_is_order_independent(mut xs in prop::collection::vec(-1e12f64..1e12, 0..30)) {
            let s = exact_sum(xs.iter().copied());
            xs.sort_by(f64::total_cmp);
            prop_assert_eq!(exact_sum(xs.iter().copied()), s);
        }
    }
}
