//! `SWEEP_REPORT.json` and `SWEEP_REPORT.md`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::stats::{quantile, wilson, Z95};
use crate::{Keep, SoakOutcome};

/// The schema tag of `SWEEP_REPORT.json`.
pub const SWEEP_REPORT_SCHEMA: &str = "mmsoak.sweep_report.v1";

/// What identifies a sweep (`SWEEP_CONFIG.json`, and the report's `config`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepConfig {
    /// Scenario label → hash of its contents.
    pub scenarios: Vec<(String, String)>,
    /// Policy label → policy hash.
    pub policies: Vec<(String, String)>,
    /// Seeds.
    pub seeds: Vec<u64>,
    /// Iterations per soak.
    pub iterations: u32,
    /// Simulated seconds per iteration (the simulator's sweeps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sim_duration_s: Option<f64>,
    /// The bot's command (`--driver exec` sweeps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec_command: Option<String>,
    /// The bot's per-iteration timeout in seconds (`--driver exec` sweeps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iteration_timeout_s: Option<f64>,
    /// Whether the tuner proposed changes.
    pub auto_tune: bool,
    /// Which soak directories were kept.
    pub keep: Keep,
}

/// The 10th percentile, median and 90th percentile of a figure over a
/// cell's seeds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KpiSpread {
    /// 10th percentile.
    pub p10: f64,
    /// Median.
    pub median: f64,
    /// 90th percentile.
    pub p90: f64,
}

impl KpiSpread {
    fn of(values: &[f64]) -> Option<KpiSpread> {
        Some(KpiSpread {
            p10: round6(quantile(values, 0.1)?),
            median: round6(quantile(values, 0.5)?),
            p90: round6(quantile(values, 0.9)?),
        })
    }
}

/// One cell (scenario × policy) over its seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellReport {
    /// Scenario label.
    pub scenario: String,
    /// Policy label.
    pub policy: String,
    /// Soaks (one per seed).
    pub runs: u64,
    /// Soaks whose gate said PASS.
    pub passed: u64,
    /// `passed / runs`.
    pub pass_rate: f64,
    /// Lower end of the 95% Wilson interval of the pass rate.
    pub wilson_low: f64,
    /// Upper end.
    pub wilson_high: f64,
    /// Each gated KPI's window mean, over the seeds.
    pub kpis: BTreeMap<String, KpiSpread>,
    /// Each gated KPI's window mean per seed, seeds ascending (what
    /// `kpis` summarises; the page's distributions).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub window_means: BTreeMap<String, Vec<f64>>,
    /// The gate's target of each KPI, when every seed had the same.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub targets: BTreeMap<String, crate::KpiTarget>,
    /// PnL per hour in the first iteration, over the seeds (absent when the
    /// bot reports no PnL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pnl_per_hour_first: Option<KpiSpread>,
    /// Mean PnL per hour over the gate's window, over the seeds: a pass
    /// bought by ceasing to trade shows here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pnl_per_hour_window: Option<KpiSpread>,
    /// Median over the seeds that converged of the iteration from which the
    /// per-iteration thresholds held to the end.
    pub converged_from_median: Option<f64>,
    /// Seeds whose last iteration met the per-iteration thresholds.
    pub converged_runs: u64,
    /// Seeds whose latency failure was environment-bound.
    pub environment_bound_runs: u64,
    /// Failed criteria, most frequent first: (name, soaks).
    pub failed_criteria: Vec<(String, u64)>,
}

impl CellReport {
    /// Median PnL per hour, first iteration → window, e.g. `42.9 → 1.7`.
    fn pnl_text(&self) -> String {
        match (&self.pnl_per_hour_first, &self.pnl_per_hour_window) {
            (Some(a), Some(b)) => format!("{:.1} → {:.1}", a.median, b.median),
            _ => "—".to_owned(),
        }
    }

    /// The median iteration of convergence, or a dash.
    fn converged_text(&self) -> String {
        self.converged_from_median
            .map_or_else(|| "—".to_owned(), |m| format!("{m}"))
    }
}

/// Every wall-clock figure of a sweep: the rest of the report is the same
/// for any number of threads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepTiming {
    /// Wall time of this invocation, seconds.
    pub wall_s: f64,
    /// Worker threads.
    pub jobs: usize,
    /// Soaks run by this invocation.
    pub soaks_run: usize,
    /// Soaks read back from an earlier one (`--resume`).
    pub soaks_resumed: usize,
}

/// `SWEEP_REPORT.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepReport {
    /// [`SWEEP_REPORT_SCHEMA`].
    pub schema: String,
    /// What was swept.
    pub config: SweepConfig,
    /// One entry per cell, scenarios then policies in the order given.
    pub cells: Vec<CellReport>,
    /// Wall-clock figures.
    pub timing: SweepTiming,
}

pub(crate) fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

impl SweepReport {
    /// The report of `outcomes` (any order) under `config`: one cell per
    /// scenario × policy of the config, in its order.
    pub(crate) fn new(
        config: SweepConfig,
        outcomes: &[SoakOutcome],
        timing: SweepTiming,
    ) -> SweepReport {
        let mut cells = Vec::new();
        for (scenario, _) in &config.scenarios {
            for (policy, _) in &config.policies {
                let mut of_cell: Vec<&SoakOutcome> = outcomes
                    .iter()
                    .filter(|o| &o.scenario == scenario && &o.policy == policy)
                    .collect();
                of_cell.sort_by_key(|o| o.seed);
                cells.push(cell(scenario, policy, &of_cell));
            }
        }
        SweepReport {
            schema: SWEEP_REPORT_SCHEMA.to_owned(),
            config,
            cells,
            timing,
        }
    }

    /// The report without its timing, as JSON: the same bytes for any
    /// number of threads and any order the soaks finished in.
    pub fn deterministic_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.remove("timing");
        }
        v
    }

    /// The cells whose pass rate is below `min` for their scenario:
    /// `(scenario, policy, pass_rate, min)`.
    pub fn short_of<'a>(&'a self, min: &BTreeMap<String, f64>) -> Vec<(&'a CellReport, f64)> {
        self.cells
            .iter()
            .filter_map(|c| {
                let want = *min.get(&c.scenario)?;
                (c.pass_rate < want).then_some((c, want))
            })
            .collect()
    }

    /// What was swept, in a line: cells, seeds, iterations.
    fn what(&self) -> String {
        let of = match (&self.config.exec_command, self.config.sim_duration_s) {
            (Some(command), _) => format!("`{}`", command.replace('`', "'")),
            (None, Some(s)) => format!("{s} s"),
            (None, None) => "unknown length".to_owned(),
        };
        format!(
            "{} cell(s) × {} seed(s), {} iterations of {of}{}",
            self.cells.len(),
            self.config.seeds.len(),
            self.config.iterations,
            if self.config.auto_tune {
                ", auto-tune"
            } else {
                ""
            }
        )
    }

    /// `SWEEP_REPORT.md`: one table of cells, then the failures.
    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "# Sweep: {}\n", self.what());
        s.push_str(
            "| scenario | policy | passed | pass rate | 95% Wilson | net bps (p10 / median / p90) | p95 ms (median) | maker share (median) | risk (median) | PnL/h first → window (median) | converged from (median) | failed most often |\n",
        );
        s.push_str("|---|---|---:|---:|---|---|---:|---:|---:|---|---:|---|\n");
        for c in &self.cells {
            let k = |name: &str| c.kpis.get(name);
            let med = |name: &str, places: usize| {
                k(name).map_or_else(|| "—".to_owned(), |x| format!("{:.places$}", x.median))
            };
            let net = k("net_bps").map_or_else(
                || "—".to_owned(),
                |x| format!("{:.2} / {:.2} / {:.2}", x.p10, x.median, x.p90),
            );
            let pnl = c.pnl_text();
            let failed: Vec<String> = c
                .failed_criteria
                .iter()
                .take(3)
                .map(|(n, k)| format!("`{n}` {k}"))
                .collect();
            let _ = writeln!(
                s,
                "| `{}` | `{}` | {}/{} | {:.0}% | [{:.2}, {:.2}] | {} | {} | {} | {} | {} | {} | {} |",
                c.scenario,
                c.policy,
                c.passed,
                c.runs,
                c.pass_rate * 100.0,
                c.wilson_low,
                c.wilson_high,
                net,
                med("p95_latency_ms", 1),
                med("maker_taker_ratio", 3),
                med("risk_ratio", 3),
                pnl,
                c.converged_text(),
                if failed.is_empty() {
                    "—".to_owned()
                } else {
                    failed.join(", ")
                }
            );
        }
        let env: u64 = self.cells.iter().map(|c| c.environment_bound_runs).sum();
        if env > 0 {
            let _ = writeln!(
                s,
                "\n{env} soak(s) failed on latency whose floor alone is above the target \
                 (environment-bound): re-soak after the infrastructure recovers, or record a waiver."
            );
        }
        s
    }
}

/// `text` safe inside HTML.
pub(crate) fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl SweepReport {
    /// `SWEEP_REPORT.html`: one self-contained page (inline CSS and SVG, no
    /// script, no network): per cell a pass-rate bar with its 95% interval,
    /// then the KPI spreads, PnL per hour and the failures by criterion,
    /// then per KPI the distribution of the seeds' window means against
    /// the gate's target.
    /// The same bytes for the same report (timing is shown in a footer).
    pub fn to_html(&self) -> String {
        let mut s = String::new();
        s.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
        s.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">");
        s.push_str("<title>Sweep report</title><style>");
        s.push_str("body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f4f4f4}td.l,th.l{text-align:left}.rate{fill:#4a7ac7}.ci{stroke:#222;stroke-width:2}");
        s.push_str("@media (prefers-color-scheme: dark){body{background:#111;color:#ddd}th{background:#222}td,th{border-color:#444}.ci{stroke:#ddd}}</style></head><body>\n");
        let _ = writeln!(s, "<h1>Sweep report</h1><p>{}.</p>", esc(&self.what()));
        // Pass rates with their intervals.
        let (w, row) = (520.0, 28.0);
        let h = row * self.cells.len() as f64 + 30.0;
        let _ = write!(
            s,
            "<h2>Pass rate (95% Wilson interval)</h2><svg width=\"{}\" height=\"{h}\" role=\"img\" aria-label=\"pass rates\">",
            w + 400.0
        );
        for (i, c) in self.cells.iter().enumerate() {
            let y = 10.0 + i as f64 * row;
            let x0 = 200.0;
            let _ = write!(
                s,
                "<text x=\"0\" y=\"{:.1}\" fill=\"currentColor\">{} / {}</text>",
                y + 14.0,
                esc(&c.scenario),
                esc(&c.policy)
            );
            let _ = write!(
                s,
                "<rect class=\"rate\" x=\"{x0}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"18\" data-cell=\"{}/{}\" data-pass-rate=\"{}\"><title>{}/{} passed</title></rect>",
                (c.pass_rate * w).max(1.0),
                esc(&c.scenario),
                esc(&c.policy),
                c.pass_rate,
                c.passed,
                c.runs
            );
            let _ = write!(
                s,
                "<line class=\"ci\" x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/>",
                x0 + c.wilson_low * w,
                x0 + c.wilson_high * w,
                y + 9.0,
                y + 9.0
            );
            let _ = write!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"currentColor\">{}/{} [{:.2}, {:.2}]</text>",
                x0 + w + 8.0,
                y + 14.0,
                c.passed,
                c.runs,
                c.wilson_low,
                c.wilson_high
            );
        }
        s.push_str("</svg>\n");
        // KPI spreads, PnL, convergence, failures.
        s.push_str("<h2>KPIs over the seeds (window means: p10 / median / p90)</h2><table><tr><th class=\"l\">cell</th>");
        let kpis = [
            "maker_taker_ratio",
            "risk_ratio",
            "net_bps",
            "p95_latency_ms",
        ];
        for k in kpis {
            let _ = write!(s, "<th>{k}</th>");
        }
        s.push_str("<th>PnL/h first → window (median)</th><th>converged from (median)</th><th class=\"l\">failed most often</th></tr>\n");
        for c in &self.cells {
            let _ = write!(
                s,
                "<tr><td class=\"l\">{} / {}</td>",
                esc(&c.scenario),
                esc(&c.policy)
            );
            for k in kpis {
                let cell = c.kpis.get(k).map_or_else(
                    || "—".to_owned(),
                    |x| format!("{:.3} / {:.3} / {:.3}", x.p10, x.median, x.p90),
                );
                let _ = write!(s, "<td>{cell}</td>");
            }
            let pnl = c.pnl_text();
            let failed: Vec<String> = c
                .failed_criteria
                .iter()
                .map(|(n, k)| format!("<code>{}</code> {k}", esc(n)))
                .collect();
            let _ = writeln!(
                s,
                "<td>{pnl}</td><td>{}</td><td class=\"l\">{}</td></tr>",
                c.converged_text(),
                if failed.is_empty() {
                    "—".to_owned()
                } else {
                    failed.join(", ")
                }
            );
        }
        s.push_str("</table>\n");
        crate::distribution::write_distributions(&mut s, &self.cells);
        let _ = writeln!(
            s,
            "<footer><p>{:.1} s on {} thread(s); {} soak(s) run, {} read back.</p></footer></body></html>",
            self.timing.wall_s, self.timing.jobs, self.timing.soaks_run, self.timing.soaks_resumed
        );
        s
    }
}

impl SweepReport {
    /// [`SweepReport::to_html`] with the comparison against a baseline
    /// sweep (`sweep --baseline DIR`): per scenario its verdict, and per
    /// KPI the difference with its interval and the p-values.
    pub fn to_html_with(&self, comparison: &crate::SweepComparison) -> String {
        let mut section = format!(
            "<h2 id=\"compare\" data-verdict=\"{}\">Against the baseline: {} (alpha {})</h2>\n",
            comparison.verdict, comparison.verdict, comparison.alpha
        );
        for sc in &comparison.scenarios {
            let _ = writeln!(
                section,
                "<h3>{}: {} ({} vs baseline {})</h3><table><tr><th class=\"l\">KPI</th><th class=\"l\">test</th><th>n</th><th>difference (95% CI)</th><th>p</th><th>p adjusted</th><th class=\"l\">worse</th></tr>",
                esc(&sc.scenario),
                sc.verdict,
                esc(&sc.candidate_policy),
                esc(&sc.baseline_policy)
            );
            for k in &sc.kpis {
                let _ = writeln!(
                    section,
                    "<tr><td class=\"l\"><code>{}</code></td><td class=\"l\">{}</td><td>{}</td><td>{:+.4} ({:+.4}, {:+.4})</td><td>{:.4}</td><td>{:.4}</td><td class=\"l\">{}</td></tr>",
                    esc(&k.kpi),
                    esc(&k.test),
                    k.n,
                    k.difference,
                    k.difference_low,
                    k.difference_high,
                    k.p_value,
                    k.p_adjusted,
                    if k.worse { "<b>yes</b>" } else { "no" }
                );
            }
            section.push_str("</table>\n");
        }
        let html = self.to_html();
        match html.rfind("<footer>") {
            Some(i) => format!("{}{section}{}", &html[..i], &html[i..]),
            None => html,
        }
    }
}

fn cell(scenario: &str, policy: &str, outcomes: &[&SoakOutcome]) -> CellReport {
    let runs = outcomes.len() as u64;
    let passed = outcomes.iter().filter(|o| o.verdict == "PASS").count() as u64;
    let (wilson_low, wilson_high) = wilson(passed, runs, Z95);
    let mut kpis = BTreeMap::new();
    let mut window_means = BTreeMap::new();
    let mut targets = BTreeMap::new();
    for name in [
        "maker_taker_ratio",
        "net_bps",
        "p95_latency_ms",
        "risk_ratio",
    ] {
        let v: Vec<f64> = outcomes
            .iter()
            .filter_map(|o| o.window_means.get(name).copied())
            .collect();
        if let Some(spread) = KpiSpread::of(&v) {
            kpis.insert(name.to_owned(), spread);
            window_means.insert(name.to_owned(), v.iter().map(|&x| round6(x)).collect());
        }
        let mut of_seeds = outcomes.iter().map(|o| o.targets.get(name));
        if let Some(Some(first)) = of_seeds.next() {
            if of_seeds.all(|t| t == Some(first)) {
                targets.insert(name.to_owned(), first.clone());
            }
        }
    }
    let spread = |f: fn(&SoakOutcome) -> Option<f64>| {
        let v: Vec<f64> = outcomes.iter().filter_map(|o| f(o)).collect();
        (v.len() == outcomes.len())
            .then(|| KpiSpread::of(&v))
            .flatten()
    };
    let converged: Vec<f64> = outcomes
        .iter()
        .filter_map(|o| o.converged_from.map(f64::from))
        .collect();
    let mut failed: BTreeMap<&str, u64> = BTreeMap::new();
    for o in outcomes {
        for f in &o.failed {
            *failed.entry(f.as_str()).or_default() += 1;
        }
    }
    let mut failed_criteria: Vec<(String, u64)> =
        failed.into_iter().map(|(n, k)| (n.to_owned(), k)).collect();
    failed_criteria.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    CellReport {
        scenario: scenario.to_owned(),
        policy: policy.to_owned(),
        runs,
        passed,
        pass_rate: if runs == 0 {
            0.0
        } else {
            round6(passed as f64 / runs as f64)
        },
        wilson_low: round6(wilson_low),
        wilson_high: round6(wilson_high),
        kpis,
        window_means,
        targets,
        pnl_per_hour_first: spread(|o| o.pnl_per_hour_first),
        pnl_per_hour_window: spread(|o| o.pnl_per_hour_window),
        converged_from_median: quantile(&converged, 0.5),
        converged_runs: converged.len() as u64,
        environment_bound_runs: outcomes.iter().filter(|o| o.environment_bound).count() as u64,
        failed_criteria,
    }
}
