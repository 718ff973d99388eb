//! Is the candidate sweep worse than the baseline? Per scenario and KPI,
//! a one-sided rank test on the per-seed window means (Wilcoxon's signed
//! rank test when both sweeps ran the same seeds, paired by seed; the
//! Mann–Whitney U test otherwise), the Hodges–Lehmann estimate of the
//! difference with its distribution-free 95% interval, and the
//! Benjamini–Hochberg adjustment across the KPIs of a scenario.
//!
//! p-values are exact (by counting) when there are no ties and the sample
//! is small enough, else from the normal approximation with the tie and
//! continuity corrections (the normal distribution from `statrs`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

use crate::report::SweepConfig;
use crate::{SoakOutcome, SweepError};

/// Which way a KPI is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    /// Higher is better (the gate's `>=`).
    Higher,
    /// Lower is better (the gate's `<=`).
    Lower,
}

/// The KPIs compared, with the direction of their gate criterion.
const KPIS: [(&str, Better); 5] = [
    ("maker_taker_ratio", Better::Higher),
    ("risk_ratio", Better::Lower),
    ("net_bps", Better::Higher),
    ("p95_latency_ms", Better::Lower),
    ("pnl_per_hour", Better::Higher),
];

/// One KPI of one scenario, candidate against baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiComparison {
    /// The KPI (its window mean per seed; `pnl_per_hour` over the window).
    pub kpi: String,
    /// Which way is better.
    pub better: Better,
    /// `wilcoxon_signed_rank` (paired by seed) or `mann_whitney_u`.
    pub test: String,
    /// Whether the p-value is exact (else the normal approximation).
    pub exact: bool,
    /// Seeds on each side (pairs, for the paired test).
    pub n: usize,
    /// One-sided p-value of "the candidate is worse".
    pub p_value: f64,
    /// Benjamini–Hochberg adjusted across the scenario's KPIs.
    pub p_adjusted: f64,
    /// Hodges–Lehmann estimate of candidate − baseline, in the KPI's unit.
    pub difference: f64,
    /// Its 95% distribution-free interval.
    pub difference_low: f64,
    /// Upper end.
    pub difference_high: f64,
    /// Significantly worse at the chosen alpha (after the adjustment).
    pub worse: bool,
}

/// One scenario, candidate against baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioComparison {
    /// Scenario label.
    pub scenario: String,
    /// The baseline's policy label.
    pub baseline_policy: String,
    /// The candidate's policy label.
    pub candidate_policy: String,
    /// `PASS` (no KPI significantly worse) or `FAIL`.
    pub verdict: String,
    /// Per KPI.
    pub kpis: Vec<KpiComparison>,
}

/// The comparison of two sweeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepComparison {
    /// Significance level (after the Benjamini–Hochberg adjustment).
    pub alpha: f64,
    /// `PASS` when no scenario fails.
    pub verdict: String,
    /// Per scenario both sweeps ran.
    pub scenarios: Vec<ScenarioComparison>,
}

impl SweepComparison {
    /// Whether the candidate is not significantly worse anywhere.
    pub fn passed(&self) -> bool {
        self.verdict == "PASS"
    }

    /// A table per scenario, worse KPIs first named.
    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "# Sweep compare: {} (alpha {})\n",
            self.verdict, self.alpha
        );
        for sc in &self.scenarios {
            let _ = writeln!(
                s,
                "## `{}`: {} (`{}` vs baseline `{}`)\n",
                sc.scenario, sc.verdict, sc.candidate_policy, sc.baseline_policy
            );
            s.push_str(
                "| KPI | better | test | n | difference (95% CI) | p | p adjusted | worse |\n",
            );
            s.push_str("|---|---|---|---:|---|---:|---:|---|\n");
            for k in &sc.kpis {
                let _ = writeln!(
                    s,
                    "| `{}` | {} | {}{} | {} | {:+.4} ({:+.4}, {:+.4}) | {:.4} | {:.4} | {} |",
                    k.kpi,
                    match k.better {
                        Better::Higher => "higher",
                        Better::Lower => "lower",
                    },
                    k.test,
                    if k.exact { ", exact" } else { "" },
                    k.n,
                    k.difference,
                    k.difference_low,
                    k.difference_high,
                    k.p_value,
                    k.p_adjusted,
                    if k.worse { "**yes**" } else { "no" }
                );
            }
            s.push('\n');
        }
        s
    }
}

fn normal_cdf(z: f64) -> f64 {
    // N(0, 1) always exists.
    Normal::new(0.0, 1.0).map_or(f64::NAN, |n| n.cdf(z))
}

/// Average ranks (1-based) of `values`, and the sizes of the tied groups.
fn ranks(values: &[f64]) -> (Vec<f64>, Vec<usize>) {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut ties = Vec::new();
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && values[order[j + 1]] == values[order[i]] {
            j += 1;
        }
        let r = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            ranks[k] = r;
        }
        ties.push(j - i + 1);
        i = j + 1;
    }
    (ranks, ties)
}

fn tie_term(ties: &[usize]) -> f64 {
    ties.iter().map(|&t| (t * t * t - t) as f64).sum()
}

/// Wilcoxon's signed rank test of `d` (zeros dropped) against the
/// alternative that `d` tends to be negative: `(p, exact, n)`, where `p`
/// is P(T+ <= observed).
///
/// ```
/// // Darwin's Zea mays differences (Fisher 1935), scipy's example:
/// // wilcoxon(d, alternative="greater") has p = 0.0206298828125.
/// let d = [6.0, 8.0, 14.0, 16.0, 23.0, 24.0, 28.0, 29.0, 41.0, -48.0, 49.0, 56.0, 60.0, -67.0, 75.0];
/// let flipped: Vec<f64> = d.iter().map(|x| -x).collect();
/// let (p, exact, n) = mmsoak_sweep::signed_rank_lower(&flipped);
/// assert!(exact && n == 15 && (p - 0.0206298828125).abs() < 1e-12);
/// ```
pub fn signed_rank_lower(d: &[f64]) -> (f64, bool, usize) {
    let d: Vec<f64> = d
        .iter()
        .copied()
        .filter(|x| *x != 0.0 && x.is_finite())
        .collect();
    let n = d.len();
    if n == 0 {
        return (1.0, true, 0);
    }
    let abs: Vec<f64> = d.iter().map(|x| x.abs()).collect();
    let (r, ties) = ranks(&abs);
    let t_plus: f64 = d
        .iter()
        .zip(&r)
        .filter(|(x, _)| **x > 0.0)
        .map(|(_, r)| r)
        .sum();
    let untied = ties.iter().all(|&t| t == 1);
    if untied && n <= 50 {
        // counts[s] = sign assignments with T+ = s.
        let max = n * (n + 1) / 2;
        let mut counts = vec![0.0f64; max + 1];
        counts[0] = 1.0;
        for k in 1..=n {
            for s in (k..=max).rev() {
                counts[s] += counts[s - k];
            }
        }
        let obs = t_plus.round() as usize;
        let total = 2f64.powi(n as i32);
        let p = counts[..=obs.min(max)].iter().sum::<f64>() / total;
        return (p.min(1.0), true, n);
    }
    let nf = n as f64;
    let mean = nf * (nf + 1.0) / 4.0;
    let var = nf * (nf + 1.0) * (2.0 * nf + 1.0) / 24.0 - tie_term(&ties) / 48.0;
    let z = (t_plus - mean + 0.5) / var.sqrt();
    (normal_cdf(z), false, n)
}

/// The Mann–Whitney U test of `x` against `y` with the alternative that
/// `x` tends to be smaller: `(p, exact)`, where `p` is P(U <= observed) and
/// U counts the pairs with x > y (ties count a half).
///
/// ```
/// // scipy's example (Conover): males vs females; the exact two-sided p is
/// // 0.1111, so the one-sided p of "females smaller" is 0.0556.
/// let (males, females) = ([19.0, 22.0, 16.0, 29.0, 24.0], [20.0, 11.0, 17.0, 12.0]);
/// let (p, exact) = mmsoak_sweep::mann_whitney_lower(&females, &males);
/// assert!(exact && (p - 1.0 / 18.0).abs() < 1e-12);
/// ```
pub fn mann_whitney_lower(x: &[f64], y: &[f64]) -> (f64, bool) {
    let (n1, n2) = (x.len(), y.len());
    if n1 == 0 || n2 == 0 {
        return (1.0, true);
    }
    let all: Vec<f64> = x.iter().chain(y).copied().collect();
    let (r, ties) = ranks(&all);
    let r1: f64 = r[..n1].iter().sum();
    let u = r1 - (n1 * (n1 + 1)) as f64 / 2.0;
    let untied = ties.iter().all(|&t| t == 1);
    if untied && n1 * n2 <= 10_000 {
        // f[i][j][u]: arrangements of i x's and j y's with U = u.
        let max = n1 * n2;
        let mut f = vec![vec![Vec::<f64>::new(); n2 + 1]; n1 + 1];
        for i in 0..=n1 {
            for j in 0..=n2 {
                let mut row = vec![0.0; i * j + 1];
                if i == 0 || j == 0 {
                    row[0] = 1.0;
                } else {
                    // The largest is an x (beats all j y's) or a y.
                    for (k, v) in f[i - 1][j].iter().enumerate() {
                        row[k + j] += v;
                    }
                    for (k, v) in f[i][j - 1].iter().enumerate() {
                        row[k] += v;
                    }
                }
                f[i][j] = row;
            }
        }
        let dist = &f[n1][n2];
        let total: f64 = dist.iter().sum();
        let obs = (u.round() as usize).min(max);
        return ((dist[..=obs].iter().sum::<f64>() / total).min(1.0), true);
    }
    let (a, b, n) = (n1 as f64, n2 as f64, (n1 + n2) as f64);
    let mean = a * b / 2.0;
    let var = a * b / 12.0 * ((n + 1.0) - tie_term(&ties) / (n * (n - 1.0)));
    let z = (u - mean + 0.5) / var.sqrt();
    (normal_cdf(z), false)
}

/// Hodges–Lehmann estimate and 95% distribution-free interval from the
/// sorted `averages` (Walsh averages or pairwise differences) and the
/// statistic's standard deviation under the null.
fn hodges_lehmann(mut averages: Vec<f64>, null_mean: f64, null_sd: f64) -> (f64, f64, f64) {
    averages.sort_by(f64::total_cmp);
    let m = averages.len();
    if m == 0 {
        return (0.0, 0.0, 0.0);
    }
    let est = crate::quantile(&averages, 0.5).unwrap_or(0.0);
    let k = (null_mean - crate::Z95 * null_sd).floor().max(0.0) as usize;
    let lo = averages[k.min(m - 1)];
    let hi = averages[m.saturating_sub(k + 1).min(m - 1)];
    (est, lo, hi)
}

/// Benjamini–Hochberg adjusted p-values, in the order given.
pub fn benjamini_hochberg(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut adjusted = vec![1.0; m];
    let mut running = 1.0f64;
    for (rank, &i) in order.iter().enumerate().rev() {
        running = running.min(p[i] * m as f64 / (rank + 1) as f64);
        adjusted[i] = running.min(1.0);
    }
    adjusted
}

/// One KPI: the right test for the sample.
fn compare_kpi(
    kpi: &str,
    better: Better,
    base: &BTreeMap<u64, f64>,
    cand: &BTreeMap<u64, f64>,
) -> KpiComparison {
    // Oriented so that higher is better: the alternative is "lower".
    let orient = |v: f64| match better {
        Better::Higher => v,
        Better::Lower => -v,
    };
    let paired = base.keys().eq(cand.keys());
    let (p, exact, n, (difference, lo, hi), test) = if paired {
        let d: Vec<f64> = base
            .iter()
            .zip(cand.values())
            .map(|((_, b), c)| c - b)
            .collect();
        let oriented: Vec<f64> = d.iter().map(|x| orient(*x)).collect();
        let (p, exact, n) = signed_rank_lower(&oriented);
        let mut walsh = Vec::new();
        for i in 0..d.len() {
            for j in i..d.len() {
                walsh.push((d[i] + d[j]) / 2.0);
            }
        }
        let nf = d.len() as f64;
        let hl = hodges_lehmann(
            walsh,
            nf * (nf + 1.0) / 4.0,
            (nf * (nf + 1.0) * (2.0 * nf + 1.0) / 24.0).sqrt(),
        );
        (p, exact, n, hl, "wilcoxon_signed_rank")
    } else {
        let x: Vec<f64> = cand.values().map(|v| orient(*v)).collect();
        let y: Vec<f64> = base.values().map(|v| orient(*v)).collect();
        let (p, exact) = mann_whitney_lower(&x, &y);
        let diffs: Vec<f64> = cand
            .values()
            .flat_map(|c| base.values().map(move |b| c - b))
            .collect();
        let (a, b) = (cand.len() as f64, base.len() as f64);
        let hl = hodges_lehmann(diffs, a * b / 2.0, (a * b * (a + b + 1.0) / 12.0).sqrt());
        (p, exact, cand.len().min(base.len()), hl, "mann_whitney_u")
    };
    let round = |x: f64| (x * 1e9).round() / 1e9;
    KpiComparison {
        kpi: kpi.to_owned(),
        better,
        test: test.to_owned(),
        exact,
        n,
        p_value: round(p),
        p_adjusted: 1.0,
        difference: round(difference),
        difference_low: round(lo),
        difference_high: round(hi),
        worse: false,
    }
}

/// A sweep directory: its config and every soak's outcome.
struct SweepDir {
    config: SweepConfig,
    outcomes: Vec<SoakOutcome>,
}

fn read_dir(dir: &Path) -> Result<SweepDir, SweepError> {
    let read = crate::read_small;
    let (path, text) = read(dir.join("SWEEP_CONFIG.json"))?;
    let config: SweepConfig = crate::parse_json(path, &text)?;
    let mut outcomes = Vec::new();
    for (scenario, _) in &config.scenarios {
        for (policy, _) in &config.policies {
            for seed in &config.seeds {
                let (path, text) = read(
                    dir.join(scenario)
                        .join(policy)
                        .join(format!("seed-{seed}.json")),
                )?;
                let o: SoakOutcome = crate::parse_json(path, &text)?;
                outcomes.push(o);
            }
        }
    }
    Ok(SweepDir { config, outcomes })
}

/// Compare the sweep in `candidate` with the one in `baseline` (each a
/// sweep or merge directory). Scenarios both ran are compared; when each
/// sweep has one policy, its cells are compared whatever the policies'
/// labels, else cells of the same scenario and policy label.
pub fn compare_sweeps(
    baseline: &Path,
    candidate: &Path,
    alpha: f64,
) -> Result<SweepComparison, SweepError> {
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(SweepError::Spec(format!(
            "alpha {alpha}: should be between 0 and 1"
        )));
    }
    let (base, cand) = (read_dir(baseline)?, read_dir(candidate)?);
    let single = base.config.policies.len() == 1 && cand.config.policies.len() == 1;
    let mut pairs = Vec::new();
    for (scenario, _) in &cand.config.scenarios {
        if !base.config.scenarios.iter().any(|(s, _)| s == scenario) {
            continue;
        }
        for (cp, _) in &cand.config.policies {
            let bp = if single {
                base.config.policies.first().map(|(p, _)| p.clone())
            } else {
                base.config
                    .policies
                    .iter()
                    .find(|(p, _)| p == cp)
                    .map(|(p, _)| p.clone())
            };
            if let Some(bp) = bp {
                pairs.push((scenario.clone(), bp, cp.clone()));
            }
        }
    }
    if pairs.is_empty() {
        return Err(SweepError::Spec(
            "the two sweeps share no scenario (and policy) to compare".to_owned(),
        ));
    }
    let values = |d: &SweepDir, scenario: &str, policy: &str, kpi: &str| -> BTreeMap<u64, f64> {
        d.outcomes
            .iter()
            .filter(|o| o.scenario == scenario && o.policy == policy)
            .filter_map(|o| {
                let v = match kpi {
                    "pnl_per_hour" => o.pnl_per_hour_window,
                    k => o.window_means.get(k).copied(),
                };
                v.map(|v| (o.seed, v))
            })
            .collect()
    };
    let mut scenarios = Vec::new();
    for (scenario, bp, cp) in pairs {
        let mut kpis: Vec<KpiComparison> = KPIS
            .iter()
            .filter_map(|(kpi, better)| {
                let (b, c) = (
                    values(&base, &scenario, &bp, kpi),
                    values(&cand, &scenario, &cp, kpi),
                );
                (!b.is_empty() && !c.is_empty()).then(|| compare_kpi(kpi, *better, &b, &c))
            })
            .collect();
        let adjusted = benjamini_hochberg(&kpis.iter().map(|k| k.p_value).collect::<Vec<_>>());
        for (k, a) in kpis.iter_mut().zip(adjusted) {
            k.p_adjusted = (a * 1e9).round() / 1e9;
            k.worse = a <= alpha;
        }
        let verdict = if kpis.iter().any(|k| k.worse) {
            "FAIL"
        } else {
            "PASS"
        };
        scenarios.push(ScenarioComparison {
            scenario,
            baseline_policy: bp,
            candidate_policy: cp,
            verdict: verdict.to_owned(),
            kpis,
        });
    }
    let verdict = if scenarios.iter().all(|s| s.verdict == "PASS") {
        "PASS"
    } else {
        "FAIL"
    };
    Ok(SweepComparison {
        alpha,
        verdict: verdict.to_owned(),
        scenarios,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_rank_matches_scipy_both_exact_and_approximate() {
        // scipy.stats.wilcoxon docs: Darwin's data, two-sided p 0.041259765625.
        let d = [
            6.0, 8.0, 14.0, 16.0, 23.0, 24.0, 28.0, 29.0, 41.0, -48.0, 49.0, 56.0, 60.0, -67.0,
            75.0,
        ];
        let flipped: Vec<f64> = d.iter().map(|x| -x).collect();
        let (p, exact, _) = signed_rank_lower(&flipped);
        assert!(exact && (2.0 * p - 0.041259765625).abs() < 1e-12, "{p}");
        // The other side.
        let (q, _, _) = signed_rank_lower(&d);
        assert!(q > 0.97, "{q}");
        // A tie makes it approximate; still close to the exact value.
        let mut tied = flipped.clone();
        tied[1] = -6.0;
        let (p, exact, _) = signed_rank_lower(&tied);
        assert!(!exact && (p - 0.02).abs() < 0.01, "{p}");
    }

    #[test]
    fn mann_whitney_matches_scipy() {
        // scipy.stats.mannwhitneyu docs (Conover): exact two-sided 0.1111.
        let (males, females) = ([19.0, 22.0, 16.0, 29.0, 24.0], [20.0, 11.0, 17.0, 12.0]);
        let (p, exact) = mann_whitney_lower(&females, &males);
        assert!(exact && (2.0 * p - 1.0 / 9.0).abs() < 1e-12, "{p}");
        // With a tie, the normal approximation: close to the asymptotic
        // two-sided 0.1113 scipy reports for the untied data.
        let (p, exact) = mann_whitney_lower(&[20.0, 11.0, 17.0, 12.0, 16.0], &males);
        assert!(!exact && p > 0.0 && p < 0.2, "{p}");
    }

    #[test]
    fn benjamini_hochberg_matches_the_textbook_example() {
        // p-values 0.01, 0.04, 0.03, 0.005 (m = 4): adjusted 0.02, 0.04, 0.04, 0.02.
        let a = benjamini_hochberg(&[0.01, 0.04, 0.03, 0.005]);
        let want = [0.02, 0.04, 0.04, 0.02];
        for (x, w) in a.iter().zip(want) {
            assert!((x - w).abs() < 1e-12, "{a:?}");
        }
    }

    #[test]
    fn hodges_lehmann_of_a_clear_shift_excludes_zero() {
        let base: BTreeMap<u64, f64> = (0..20).map(|s| (s, 2.0 + (s % 5) as f64 * 0.1)).collect();
        let cand: BTreeMap<u64, f64> = base.iter().map(|(s, v)| (*s, v - 0.5)).collect();
        let k = compare_kpi("net_bps", Better::Higher, &base, &cand);
        assert_eq!(k.test, "wilcoxon_signed_rank");
        assert!(
            (k.difference + 0.5).abs() < 1e-9 && k.difference_high < 0.0,
            "{k:?}"
        );
        assert!(k.p_value < 1e-5, "{k:?}");
        // Unpaired (other seeds): Mann–Whitney, the same direction.
        let shifted: BTreeMap<u64, f64> = cand.iter().map(|(s, v)| (s + 100, *v)).collect();
        let k = compare_kpi("net_bps", Better::Higher, &base, &shifted);
        assert_eq!(k.test, "mann_whitney_u");
        assert!(k.p_value < 0.01 && k.difference_high < 0.0, "{k:?}");
        // Lower is better for latency: a drop is an improvement.
        let k = compare_kpi("p95_latency_ms", Better::Lower, &base, &cand);
        assert!(k.p_value > 0.99, "{k:?}");
    }
}
