//! The soak report: everything a person needs to judge a run at a glance,
//! read from an artifacts directory into a [`SoakReport`], then rendered as
//! `SOAK_REPORT.md` ([`SoakReport::to_markdown`]) and `SOAK_REPORT.html`
//! ([`SoakReport::to_html`], see `html.rs`).
//!
//! Reading streams the ITER_SUMMARY files once through
//! [`mmsoak_verify::ArtifactDir`] (the verified fields), re-reading each
//! file's JSON only for the fields the report alone needs (rules fired,
//! operations, skip note, freeze state). Rendering is pure: no clock, no
//! paths, sorted maps, so a fixed-clock run renders to the same bytes.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use mmsoak_artifacts::skip::SkipKind;
use mmsoak_core::input::{limits, read_document, Fields};
use mmsoak_core::{InputError, Param, ParamRegistry};
use mmsoak_verify::{ArtifactDir, ArtifactError, PairClass, PairResult, SkipFlags};
use serde_json::Value;

use mmsoak_gate::{
    gate, Criterion, CriterionGroup, GatePolicy, GateReport, GateVerdict, GatedKpi as Kpi, Measure,
    RunMeta, SnapshotPolicy, Threshold,
};

/// One proposed operation of an iteration.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportOperation {
    /// The parameter.
    pub param: Param,
    /// Value before.
    pub from: Option<f64>,
    /// Value after rounding and clamping.
    pub to: f64,
    /// Whether the bounds clamped it.
    pub clamped: bool,
    /// The rule that proposed it (mmsoak) or `""`.
    pub rule: String,
}

/// How the report labels a skipped iteration: the guard that held, or
/// `other` for a reason the predecessor wrote as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipLabel {
    /// A guard held (or the step changed nothing, or came last).
    Guard(SkipKind),
    /// A reason the report does not know (predecessor strings).
    Other,
}

impl SkipLabel {
    /// Every label, in the order of the report's legends.
    pub const LEGEND: [SkipLabel; 7] = [
        SkipLabel::Guard(SkipKind::Cooldown),
        SkipLabel::Guard(SkipKind::Velocity),
        SkipLabel::Guard(SkipKind::Oscillation),
        SkipLabel::Guard(SkipKind::Freeze),
        SkipLabel::Guard(SkipKind::NoOp),
        SkipLabel::Guard(SkipKind::FinalIteration),
        SkipLabel::Other,
    ];

    /// The label: the guard's flag name, e.g. `no_op`, or `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipLabel::Guard(kind) => kind.name(),
            SkipLabel::Other => "other",
        }
    }
}

/// The label of a skip: the skip reason's own flag, else a tuning-level
/// flag (the first in priority order).
pub(crate) fn skip_label(reason: &mmsoak_verify::RecordedSkip, all: &SkipFlags) -> SkipLabel {
    let own = match reason {
        mmsoak_verify::RecordedSkip::Guards(flags, _) => flags.first(),
        _ => None,
    };
    own.or_else(|| all.first())
        .map_or(SkipLabel::Other, SkipLabel::Guard)
}

/// What the bot earned, at the start of the run and over the gate's window
/// ([`SoakReport::trading`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Trading {
    /// The first iteration (the start column).
    pub first_iteration: u64,
    /// The window's first iteration.
    pub window_from: u64,
    /// The window's last iteration.
    pub window_to: u64,
    /// One row per figure.
    pub rows: Vec<TradingRow>,
}

/// One figure of [`Trading`]: its value in the first iteration and its
/// mean over the window.
#[derive(Debug, Clone, PartialEq)]
pub struct TradingRow {
    /// E.g. `PnL per hour`.
    pub name: &'static str,
    /// E.g. `quote currency`, `bps`.
    pub unit: &'static str,
    /// In the first iteration.
    pub start: Option<f64>,
    /// Mean over the window.
    pub window: Option<f64>,
}

/// Everything the report shows about one iteration.
#[derive(Debug, Clone, PartialEq)]
pub struct IterationRow {
    /// Iteration number (1-based).
    pub iteration: u64,
    /// `summary.maker_taker_ratio`.
    pub maker_taker_ratio: Option<f64>,
    /// `summary.risk_ratio`.
    pub risk_ratio: Option<f64>,
    /// `summary.net_bps`.
    pub net_bps: Option<f64>,
    /// `summary.p95_latency_ms`.
    pub p95_latency_ms: Option<f64>,
    /// `summary.adverse_bps_p95` (read by the edge-driver rules).
    pub adverse_bps_p95: Option<f64>,
    /// `summary.slippage_bps_p95` (read by the edge-driver rules).
    pub slippage_bps_p95: Option<f64>,
    /// Parameter values in force during the iteration (`None`: no runtime recorded).
    pub params: Option<BTreeMap<Param, f64>>,
    /// `tuning.rules_fired`.
    pub rules_fired: Vec<String>,
    /// `tuning.operations` (mmsoak) or the proposed deltas as operations.
    pub operations: Vec<ReportOperation>,
    /// `tuning.applied`.
    pub applied: bool,
    /// Why not applied, when something was proposed and not applied.
    pub skip: Option<SkipLabel>,
    /// `tuning.skip_reason.note` (or the reason string).
    pub skip_note: String,
    /// Guard flags (skip reason and tuning-level flags together).
    pub guards: SkipFlags,
    /// `tuning.freeze_active`: a freeze lock covers the iteration.
    pub freeze_active: bool,
    /// `tuning.freeze_break`: why a freeze lock broke here.
    pub freeze_break: Option<String>,
    /// `summary.pnl_per_hour`, quote currency, when the bot reported it.
    pub pnl_per_hour: Option<f64>,
    /// `summary.traded_notional`, quote currency, when the bot reported it.
    pub traded_notional: Option<f64>,
    /// `summary.markouts`: horizon ms → bps, when the bot reported them.
    pub markouts: BTreeMap<u64, f64>,
}

impl IterationRow {
    /// Whether the iteration passes every per-iteration threshold of the snapshot
    /// (`None` when a KPI is absent).
    pub fn passes(&self, p: &SnapshotPolicy) -> Option<bool> {
        // In this order, stopping at the first miss (a later absent KPI
        // does not matter once one fails).
        for kpi in Kpi::PASS_ORDER {
            if !kpi.meets(kpi.value(self)?, p) {
                return Some(false);
            }
        }
        Some(true)
    }
}

/// How the report shows a gated KPI: its chart's title and an iteration's
/// value.
pub(crate) trait KpiView {
    fn title(self) -> &'static str;
    fn value(self, row: &IterationRow) -> Option<f64>;
}

impl KpiView for Kpi {
    fn title(self) -> &'static str {
        match self {
            Kpi::MakerTaker => "Maker/taker ratio",
            Kpi::Risk => "Risk-blocked ratio",
            Kpi::NetBps => "Net edge (bps)",
            Kpi::P95Latency => "p95 latency (ms)",
        }
    }

    fn value(self, row: &IterationRow) -> Option<f64> {
        match self {
            Kpi::MakerTaker => row.maker_taker_ratio,
            Kpi::Risk => row.risk_ratio,
            Kpi::NetBps => row.net_bps,
            Kpi::P95Latency => row.p95_latency_ms,
        }
    }
}

/// A soak run as the report shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct SoakReport {
    /// Run metadata.
    pub meta: RunMeta,
    /// One row per iteration, in order.
    pub iterations: Vec<IterationRow>,
    /// The gate's answer (criteria, snapshot, delta metrics).
    pub gate: GateReport,
    /// The verifier's pairs p → p + 1.
    pub pairs: Vec<PairResult>,
    /// The gate policy judged with (targets, per-iteration thresholds).
    pub policy: GatePolicy,
    /// The registry (parameter bounds).
    pub registry: ParamRegistry,
    /// The tuner's rules over the gate's window, when the caller evaluated
    /// them ([`rule_window`](crate::rule_window); `mmsoak report` does).
    pub rule_window: Vec<RuleWindowRow>,
}

/// One tuner rule over the gate's window: how often it fired, how often its
/// condition held, and which of its clauses kept it from holding.
///
/// ```
/// use mmsoak_report::RuleWindowRow;
/// let row = RuleWindowRow {
///     rule: "MAKER_BOOST".to_owned(), enabled: true, fired: 0, held: 0, iterations: 8,
///     failing: vec![("net_bps >= 2.7".to_owned(), 8), ("maker_taker_ratio < 0.85".to_owned(), 1)],
///     absent: vec![],
/// };
/// assert_eq!(row.failing_text(), "net_bps >= 2.7 (8), maker_taker_ratio < 0.85 (1)");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RuleWindowRow {
    /// Rule name, e.g. `MAKER_BOOST`.
    pub rule: String,
    /// Whether the policy enables it.
    pub enabled: bool,
    /// Window iterations whose `rules_fired` name it.
    pub fired: usize,
    /// Window iterations in which its condition held.
    pub held: usize,
    /// Iterations in the window.
    pub iterations: usize,
    /// Each clause that failed (`net_bps >= 2.7`) with the number of window
    /// iterations it failed in, most often first.
    pub failing: Vec<(String, usize)>,
    /// Each KPI the condition reads that was absent, with the number of
    /// window iterations it was absent in.
    pub absent: Vec<(String, usize)>,
}

impl RuleWindowRow {
    /// The failing clauses and absent KPIs with their counts, or why there
    /// are none: `disabled by the policy`, `—` (it held throughout).
    pub fn failing_text(&self) -> String {
        if !self.enabled {
            return "disabled by the policy".to_owned();
        }
        if self.failing.is_empty() && self.absent.is_empty() {
            return "—".to_owned();
        }
        self.failing
            .iter()
            .map(|(clause, n)| format!("{clause} ({n})"))
            .chain(
                self.absent
                    .iter()
                    .map(|(kpi, n)| format!("{kpi} absent ({n})")),
            )
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Read an artifacts directory into a [`SoakReport`]: gate and verifier in
/// one pass, then the per-iteration series in a second streaming pass.
///
/// Errors name the file and, for field errors, the JSON path.
pub fn read_report(
    dir: &Path,
    policy: &GatePolicy,
    threshold: Threshold,
    registry: &ParamRegistry,
) -> Result<SoakReport, ArtifactError> {
    let artifacts = ArtifactDir::open(dir)?;
    let run = gate(&artifacts, policy, threshold, registry)?;
    let meta = RunMeta::read(dir)?;
    let mut iterations = Vec::with_capacity(artifacts.iteration_count() as usize);
    for summary in artifacts.summaries() {
        let summary = summary?;
        let doc = read_document(&summary.file, limits::ITER_SUMMARY)?;
        let extras = read_extras(&summary.file, &doc)?;
        let params = summary.runtime.as_ref().map(|r| {
            Param::ALL
                .iter()
                .map(|&p| (p, r.overrides.value(p, registry)))
                .collect::<BTreeMap<_, _>>()
        });
        let t = &summary.tuning;
        let operations = if extras.operations.is_empty() {
            // Predecessor: only additive deltas; `to` = value in force + delta.
            t.proposed
                .iter()
                .map(|&(param, delta)| {
                    let from = params.as_ref().and_then(|m| m.get(&param).copied());
                    ReportOperation {
                        param,
                        from,
                        to: from.unwrap_or(0.0) + delta,
                        clamped: false,
                        rule: String::new(),
                    }
                })
                .collect()
        } else {
            extras.operations
        };
        let guards = t.guard_flags();
        let skip = if t.applied || operations.is_empty() {
            None
        } else {
            Some(skip_label(&t.skip_reason, &guards))
        };
        let skip_note = t.skip_reason.note();
        iterations.push(IterationRow {
            iteration: summary.iteration,
            maker_taker_ratio: summary.kpis.maker_taker_ratio,
            risk_ratio: summary.kpis.risk_ratio,
            net_bps: summary.kpis.net_bps,
            p95_latency_ms: summary.kpis.p95_latency_ms,
            adverse_bps_p95: extras.adverse_bps_p95,
            slippage_bps_p95: extras.slippage_bps_p95,
            params,
            rules_fired: extras.rules_fired,
            operations,
            applied: t.applied,
            skip,
            skip_note,
            guards,
            freeze_active: extras.freeze_active,
            freeze_break: extras.freeze_break,
            pnl_per_hour: extras.pnl_per_hour,
            traded_notional: extras.traded_notional,
            markouts: extras.markouts,
        });
    }
    Ok(SoakReport {
        meta,
        iterations,
        gate: run.report,
        pairs: run.verify.pairs,
        policy: policy.clone(),
        registry: registry.clone(),
        rule_window: Vec::new(),
    })
}

/// The fields of an ITER_SUMMARY only the report reads.
pub(crate) struct Extras {
    pub adverse_bps_p95: Option<f64>,
    pub slippage_bps_p95: Option<f64>,
    pub pnl_per_hour: Option<f64>,
    pub traded_notional: Option<f64>,
    pub markouts: BTreeMap<u64, f64>,
    pub rules_fired: Vec<String>,
    pub operations: Vec<ReportOperation>,
    pub freeze_active: bool,
    pub freeze_break: Option<String>,
}

pub(crate) fn read_extras(file: &Path, doc: &Value) -> Result<Extras, InputError> {
    let root = Fields::root(file, doc)?;
    let summary = root.opt_object("summary")?;
    let number = |key: &str| match &summary {
        Some(kpis) => kpis.opt_f64(key),
        None => Ok(None),
    };
    let (adverse_bps_p95, slippage_bps_p95) =
        (number("adverse_bps_p95")?, number("slippage_bps_p95")?);
    let (pnl_per_hour, traded_notional) = (number("pnl_per_hour")?, number("traded_notional")?);
    let mut markouts = BTreeMap::new();
    if let Some(m) = summary
        .as_ref()
        .map(|k| k.opt_object("markouts"))
        .transpose()?
        .flatten()
    {
        for key in m.map().keys() {
            if let (Ok(h), Some(v)) = (key.parse::<u64>(), m.opt_f64(key)?) {
                markouts.insert(h, v);
            }
        }
    }
    let Some(t) = root.opt_object("tuning")? else {
        return Ok(Extras {
            adverse_bps_p95,
            slippage_bps_p95,
            pnl_per_hour,
            traded_notional,
            markouts,
            rules_fired: Vec::new(),
            operations: Vec::new(),
            freeze_active: false,
            freeze_break: None,
        });
    };
    let mut operations = Vec::new();
    if let Some(Value::Array(items)) = t.get("operations") {
        for (i, item) in items.iter().enumerate() {
            let op = Fields::root(file, item)
                .map_err(|e| rebase(e, &format!("tuning.operations[{i}]")))?;
            let at = |e: InputError| rebase(e, &format!("tuning.operations[{i}]"));
            let name = op
                .opt_str("param")
                .map_err(at)?
                .ok_or_else(|| at(op.error("param", mmsoak_core::FieldProblem::Missing)))?;
            let param = name.parse::<Param>().map_err(|e| {
                at(op.error("param", mmsoak_core::FieldProblem::Invalid(e.to_string())))
            })?;
            operations.push(ReportOperation {
                param,
                from: op.opt_f64("from").map_err(at)?,
                to: op.f64("to").map_err(at)?,
                clamped: op.opt_bool("clamped").map_err(at)?.unwrap_or(false),
                rule: op.opt_str("rule").map_err(at)?.unwrap_or("").to_owned(),
            });
        }
    }
    Ok(Extras {
        adverse_bps_p95,
        slippage_bps_p95,
        pnl_per_hour,
        traded_notional,
        markouts,
        rules_fired: t.opt_strings("rules_fired")?.unwrap_or_default(),
        operations,
        freeze_active: t.opt_bool("freeze_active")?.unwrap_or(false),
        freeze_break: t.opt_str("freeze_break")?.map(str::to_owned),
    })
}

/// Put an error's JSON path under `prefix`.
fn rebase(e: InputError, prefix: &str) -> InputError {
    match e {
        InputError::Field {
            file,
            path,
            problem,
        } => InputError::Field {
            file,
            path: format!("{prefix}.{path}"),
            problem,
        },
        other => other,
    }
}

/// `value` as a short text.
pub(crate) fn show_measure(m: &Measure) -> String {
    match m {
        Measure::Count(c) => c.to_string(),
        Measure::Number(x) => crate::svg::num(*x, 3),
        Measure::Flag(b) => b.to_string(),
        Measure::Word(w) => w.clone(),
    }
}

/// `>=`, `<=`, ...
/// `—` for absent values.
pub(crate) fn or_dash(s: Option<&str>) -> String {
    s.map_or_else(|| "—".to_owned(), str::to_owned)
}

pub(crate) fn opt_num(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "—".to_owned(), |v| crate::svg::num(v, digits))
}

impl SoakReport {
    /// Number of iterations.
    pub fn iteration_count(&self) -> u64 {
        self.iterations.len() as u64
    }

    /// The iterations the report covers, e.g. `24 iterations`, or for a run
    /// that stopped early `9 of 24 iterations (the run did not finish)`.
    pub fn iterations_text(&self) -> String {
        let n = self.iteration_count();
        match self.gate.completion {
            Some(c) if c.completed < c.requested => {
                format!("{n} of {} iterations (the run did not finish)", c.requested)
            }
            _ => format!("{n} iterations"),
        }
    }

    /// First iteration of the gate's window (the last `window` iterations).
    pub fn window_from(&self) -> u64 {
        let n = self.iteration_count();
        let w = self.policy.snapshot.window as u64;
        n.saturating_sub(w) + 1
    }

    /// What the bot earned in absolute terms, at the start and over the
    /// gate's window, when its reports say (`None` otherwise): a net edge
    /// bought by trading less shows here as a falling PnL per hour.
    pub fn trading(&self) -> Option<Trading> {
        if self.iterations.iter().all(|r| r.pnl_per_hour.is_none()) {
            return None;
        }
        let window: Vec<&IterationRow> = self
            .iterations
            .iter()
            .filter(|r| r.iteration >= self.window_from())
            .collect();
        let mean = |rows: &[&IterationRow], f: &dyn Fn(&IterationRow) -> Option<f64>| {
            let values: Vec<f64> = rows.iter().filter_map(|r| f(r)).collect();
            (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
        };
        let first: Vec<&IterationRow> = self.iterations.iter().take(1).collect();
        let row =
            |name: &'static str, unit: &'static str, f: &dyn Fn(&IterationRow) -> Option<f64>| {
                TradingRow {
                    name,
                    unit,
                    start: mean(&first, f),
                    window: mean(&window, f),
                }
            };
        let mut rows = vec![
            row("PnL per hour", "quote currency", &|r| r.pnl_per_hour),
            row("traded notional", "quote currency", &|r| r.traded_notional),
            row("net edge", "bps", &|r| r.net_bps),
        ];
        let horizons: std::collections::BTreeSet<u64> = self
            .iterations
            .iter()
            .flat_map(|r| r.markouts.keys().copied())
            .collect();
        for h in horizons {
            let name: &'static str = match h {
                1_000 => "markout 1 s",
                10_000 => "markout 10 s",
                60_000 => "markout 60 s",
                _ => "markout (other horizon)",
            };
            rows.push(row(name, "bps", &move |r: &IterationRow| {
                r.markouts.get(&h).copied()
            }));
        }
        Some(Trading {
            first_iteration: self.iterations.first().map_or(1, |r| r.iteration),
            window_from: self.window_from(),
            window_to: self.iteration_count(),
            rows,
        })
    }

    /// Criteria that failed.
    pub fn failed(&self) -> impl Iterator<Item = &Criterion> {
        self.gate.failed()
    }

    /// The one-line headline: verdict and why.
    pub fn headline(&self) -> String {
        let v = self.gate.verdict.as_str();
        match self.gate.verdict {
            GateVerdict::Pass => format!("{v}: every criterion met"),
            GateVerdict::Warn => {
                let mut why = Vec::new();
                if self.gate.anomalies_count > 0 {
                    why.push(format!(
                        "{} anomalies in the window",
                        self.gate.anomalies_count
                    ));
                }
                if !self.gate.findings.is_empty() {
                    why.push(format!(
                        "{} finding(s) in the predecessor's files",
                        self.gate.findings.len()
                    ));
                }
                format!("{v}: every criterion met, {}", why.join(", "))
            }
            GateVerdict::Fail => {
                let n = self.gate.failed().count();
                format!("{v}: {n} criteri{} failed", if n == 1 { "on" } else { "a" })
            }
        }
    }

    /// `SOAK_REPORT.md`: verdict, run metadata, KPI table, delta-quality
    /// table, guard and tuning counts, pair results. GitHub-flavoured
    /// Markdown, ends with a newline, no paths or clock.
    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        let g = &self.gate;
        let icon = match g.verdict {
            GateVerdict::Pass => "✅",
            GateVerdict::Warn => "⚠️",
            GateVerdict::Fail => "❌",
        };
        let _ = writeln!(s, "# Soak report: {icon} {}\n", self.headline());
        for c in g.failed() {
            let _ = writeln!(
                s,
                "- **failed** `{}`: {} (target {} {}){}",
                c.name,
                show_measure(&c.value),
                c.op.as_str(),
                show_measure(&c.target),
                c.failure_note()
                    .map_or_else(String::new, |n| format!(": **{n}**"))
            );
        }
        for f in &g.findings {
            let _ = writeln!(s, "- **finding** {f}");
        }
        if g.failed().next().is_some() || !g.findings.is_empty() {
            s.push('\n');
        }
        let m = &self.meta;
        let _ = writeln!(
            s,
            "Driver `{}`, scenario `{}`, seed `{}`, {} (window: {}–{}), mmsoak {}, policy `{}`, {} → {}.\n",
            or_dash(m.driver.as_deref()),
            or_dash(m.scenario.as_deref()),
            m.seed.map_or_else(|| "—".to_owned(), |s| s.to_string()),
            self.iterations_text(),
            self.window_from(),
            self.iteration_count(),
            or_dash(m.mmsoak_version.as_deref()),
            m.policy_hash
                .as_deref()
                .map_or_else(|| "—".to_owned(), |h| h.chars().take(12).collect()),
            or_dash(m.started_utc.as_deref()),
            or_dash(m.updated_utc.as_deref()),
        );
        let (delta, kpi): (Vec<&Criterion>, Vec<&Criterion>) = g
            .criteria
            .iter()
            .filter(|c| c.group() != CriterionGroup::Run)
            .partition(|c| c.group() == CriterionGroup::Delta);
        let table = |s: &mut String, title: &str, rows: &[&Criterion]| {
            let _ = writeln!(s, "## {title}\n");
            let _ = writeln!(s, "| criterion | value | target | result |");
            let _ = writeln!(s, "|---|---:|---|---|");
            for c in rows {
                let _ = writeln!(
                    s,
                    "| `{}` | {} | {} {} | {} |",
                    c.name,
                    show_measure(&c.value),
                    c.op.as_str(),
                    show_measure(&c.target),
                    if c.ok { "ok" } else { "**FAIL**" }
                );
            }
            s.push('\n');
        };
        table(&mut s, "KPIs (last-window means vs targets)", &kpi);
        if let Some(t) = self.trading() {
            let _ = writeln!(s, "## Trading\n");
            let _ = writeln!(
                s,
                "| figure | unit | iteration {} | mean of {}–{} |",
                t.first_iteration, t.window_from, t.window_to
            );
            let _ = writeln!(s, "|---|---|---:|---:|");
            for r in &t.rows {
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} |",
                    r.name,
                    r.unit,
                    opt_num(r.start, 2),
                    opt_num(r.window, 2)
                );
            }
            s.push('\n');
        }
        if !self.rule_window.is_empty() {
            let _ = writeln!(
                s,
                "## Tuner rules over the window (iterations {}–{})\n",
                self.window_from(),
                self.iteration_count()
            );
            let _ = writeln!(
                s,
                "| rule | fired | condition held | failing clauses (iterations) |"
            );
            let _ = writeln!(s, "|---|---:|---:|---|");
            for r in &self.rule_window {
                let _ = writeln!(
                    s,
                    "| `{}` | {}/{n} | {}/{n} | {} |",
                    r.rule,
                    r.fired,
                    r.held,
                    r.failing_text(),
                    n = r.iterations
                );
            }
            s.push('\n');
        }
        table(&mut s, "Delta quality", &delta);
        let d = &g.delta;
        let _ = writeln!(
            s,
            "Pairs: {} proposed, {} full_apply, {} partial_ok, {} fail ({} signature_stuck); strict_apply_ratio {}.\n",
            d.proposed_count,
            d.full_apply_count,
            d.partial_ok_count,
            d.fail_count,
            d.signature_stuck_count,
            crate::svg::num(d.strict_apply_ratio, 3)
        );
        let _ = writeln!(s, "## Iterations\n");
        let _ = writeln!(
            s,
            "| iter | maker/taker | risk | net bps | p95 ms | pass | rules fired | tuning |"
        );
        let _ = writeln!(s, "|---:|---:|---:|---:|---:|---|---|---|");
        let sp = &self.policy.snapshot;
        for r in &self.iterations {
            let pass = match r.passes(sp) {
                Some(true) => "yes",
                Some(false) => "no",
                None => "—",
            };
            let window = if r.iteration >= self.window_from() {
                " ◂"
            } else {
                ""
            };
            let _ = writeln!(
                s,
                "| {}{window} | {} | {} | {} | {} | {pass} | {} | {} |",
                r.iteration,
                opt_num(r.maker_taker_ratio, 3),
                opt_num(r.risk_ratio, 3),
                opt_num(r.net_bps, 2),
                opt_num(r.p95_latency_ms, 1),
                if r.rules_fired.is_empty() {
                    "—".to_owned()
                } else {
                    r.rules_fired.join(", ")
                },
                md_cell(&tuning_text(r))
            );
        }
        let _ = writeln!(
            s,
            "\n◂ = in the gate's window. Per-iteration pass: risk ≤ {}, maker/taker ≥ {}, net ≥ {} bps, p95 ≤ {} ms.",
            crate::svg::num(sp.pass_risk_ratio_max, 3),
            crate::svg::num(sp.pass_maker_taker_ratio_min, 3),
            crate::svg::num(sp.pass_net_bps_min, 3),
            crate::svg::num(sp.pass_p95_latency_ms_max, 3)
        );
        let failures: Vec<&PairResult> = self
            .pairs
            .iter()
            .filter(|p| p.class == PairClass::Fail)
            .collect();
        if !failures.is_empty() {
            let _ = writeln!(s, "\n## Failed pairs\n");
            for p in failures {
                let problems: Vec<String> = p.problems.iter().map(|x| x.describe()).collect();
                let _ = writeln!(
                    s,
                    "- {} → {}: {}",
                    p.prev,
                    p.next,
                    md_cell(&problems.join("; "))
                );
            }
        }
        s
    }
}

/// Text safe inside a Markdown table cell (no `|`, no newline).
fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// `applied 4`, `skipped: cooldown (held through iter 5: 2 more iterations after this one)`, `—`.
pub(crate) fn tuning_text(r: &IterationRow) -> String {
    if r.operations.is_empty() {
        return "—".to_owned();
    }
    let n = r.operations.len();
    if r.applied {
        let clamped = r.operations.iter().filter(|o| o.clamped).count();
        if clamped > 0 {
            format!("applied {n} ({clamped} clamped)")
        } else {
            format!("applied {n}")
        }
    } else {
        let kind = r.skip.map_or("other", SkipLabel::as_str);
        if r.skip_note.is_empty() {
            format!("{n} skipped: {kind}")
        } else {
            format!("{n} skipped: {kind} ({})", r.skip_note)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmsoak_artifacts::layout::SOAK_RUN;
    use mmsoak_verify::testing;

    fn run(n: u64) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        testing::write_run(dir.path(), &testing::generated_plans(n)).expect("write run");
        dir
    }

    fn report(dir: &Path, policy: &GatePolicy) -> SoakReport {
        read_report(dir, policy, Threshold::Strict, &ParamRegistry::default()).expect("read report")
    }

    #[test]
    fn every_iteration_becomes_a_row_with_kpis_and_params() {
        let dir = run(12);
        let r = report(dir.path(), &GatePolicy::default());
        assert_eq!(r.iteration_count(), 12);
        assert_eq!(
            r.iterations.iter().map(|i| i.iteration).collect::<Vec<_>>(),
            (1..=12).collect::<Vec<_>>()
        );
        for row in &r.iterations {
            assert!(row.net_bps.is_some() && row.risk_ratio.is_some());
            let params = row.params.as_ref().expect("runtime recorded");
            assert_eq!(params.len(), Param::ALL.len());
        }
        assert_eq!(r.window_from(), 5);
        assert_eq!(r.pairs.len(), 11);
        assert!(
            r.meta.driver.is_none(),
            "no SOAK_RUN.json in a synthetic run"
        );
    }

    #[test]
    fn html_has_four_kpi_charts_with_one_point_per_iteration() {
        let dir = run(10);
        let html = report(dir.path(), &GatePolicy::default()).to_html();
        for key in [
            "maker_taker_ratio",
            "risk_ratio",
            "net_bps",
            "p95_latency_ms",
        ] {
            let start = html
                .find(&format!("data-chart=\"kpi-{key}\""))
                .unwrap_or_else(|| panic!("chart {key} missing"));
            let chart = &html[start..start + html[start..].find("</svg>").expect("svg end")];
            assert_eq!(chart.matches("data-iter=").count(), 10, "{key}");
        }
        assert_eq!(
            html.matches("data-chart=\"param-").count(),
            Param::ALL.len()
        );
        assert!(
            !html.contains("http://")
                || html.matches("http://").count()
                    == html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count(),
            "no links to the network besides the SVG namespace"
        );
        assert!(!html.contains("<script src"));
        assert!(html.contains("prefers-color-scheme: dark"));
        assert_eq!(html.matches("<details id=\"iter-").count(), 10);
    }

    #[test]
    fn a_failed_criterion_is_in_the_banner_and_the_markdown() {
        let dir = run(10);
        let policy = GatePolicy {
            net_bps_mean_min: 100.0,
            ..GatePolicy::default()
        };
        let r = report(dir.path(), &policy);
        assert_eq!(r.gate.verdict, GateVerdict::Fail);
        let html = r.to_html();
        assert!(html.contains("data-verdict=\"FAIL\""));
        assert!(
            html.contains("<li><code>kpi.net_bps_mean</code>"),
            "banner lists the failure"
        );
        assert!(html.contains("target &gt;= 100"));
        let md = r.to_markdown();
        assert!(
            md.starts_with("# Soak report: ❌ FAIL: 1 criterion failed\n"),
            "{md}"
        );
        assert!(md.contains("- **failed** `kpi.net_bps_mean`"), "{md}");
        assert!(md.contains("| `kpi.net_bps_mean` |"));
        assert!(md.contains("**FAIL**"));
    }

    #[test]
    fn the_rule_window_is_shown_when_evaluated() {
        let dir = run(10);
        let failing = GatePolicy {
            net_bps_mean_min: 100.0,
            ..GatePolicy::default()
        };
        let mut r = report(dir.path(), &failing);
        assert_eq!(r.gate.verdict, GateVerdict::Fail);
        assert!(r.rule_window.is_empty(), "the gate evaluates no rules");
        assert!(!r.to_markdown().contains("## Tuner rules"));
        assert!(!r.to_html().contains("id=\"rules\""));
        assert!(!r.to_html().contains("href=\"#rules\""));
        let row = |rule: &str, enabled, failing: Vec<(String, usize)>| RuleWindowRow {
            rule: rule.to_owned(),
            enabled,
            fired: 0,
            held: 0,
            iterations: 8,
            failing,
            absent: Vec::new(),
        };
        r.rule_window = vec![
            row("MAKER_BOOST", true, vec![("net_bps >= 2.7".to_owned(), 8)]),
            row("DRIVER_SLIPPAGE", false, Vec::new()),
        ];
        let md = r.to_markdown();
        assert!(
            md.contains("## Tuner rules over the window (iterations 3–10)\n"),
            "{md}"
        );
        assert!(
            md.contains("| `MAKER_BOOST` | 0/8 | 0/8 | net_bps >= 2.7 (8) |\n"),
            "{md}"
        );
        assert!(md.contains("| `DRIVER_SLIPPAGE` | 0/8 | 0/8 | disabled by the policy |\n"));
        let html = r.to_html();
        assert!(
            html.contains("<tr><td><code>MAKER_BOOST</code></td><td class=\"num\">0/8</td><td class=\"num\">0/8</td><td>net_bps &gt;= 2.7 (8)</td></tr>"),
            "the clause is escaped"
        );
        assert!(
            html.contains("<a href=\"#rules\">its rules over the window</a>"),
            "the FAIL banner links to it"
        );
    }

    #[test]
    fn rendering_is_deterministic_and_free_of_paths() {
        let a = run(9);
        let b = run(9);
        let ra = report(a.path(), &GatePolicy::default());
        let rb = report(b.path(), &GatePolicy::default());
        assert_eq!(ra.to_html(), rb.to_html());
        assert_eq!(ra.to_markdown(), rb.to_markdown());
        let dir_text = a.path().to_string_lossy().into_owned();
        assert!(!ra.to_html().contains(&dir_text));
        assert!(!ra.to_markdown().contains(&dir_text));
        assert!(ra.to_markdown().ends_with('\n'));
    }

    #[test]
    fn run_metadata_is_read_and_absent_fields_show_a_dash() {
        let dir = run(8);
        std::fs::write(
            dir.path().join(SOAK_RUN),
            r#"{"schema":"mmsoak.soak_run.v1","mmsoak_version":"9.9.9","config":{"driver":"sim","seed":7,"policy_hash":"ab"},"started_utc":"2024-01-01T00:00:00Z","updated_utc":"2024-01-01T01:00:00Z","finished":true}"#,
        )
        .expect("write");
        let r = report(dir.path(), &GatePolicy::default());
        assert_eq!(r.meta.driver.as_deref(), Some("sim"));
        assert_eq!(r.meta.seed, Some(7));
        assert_eq!(r.meta.scenario, None);
        let md = r.to_markdown();
        assert!(md.contains("Driver `sim`, scenario `—`, seed `7`"), "{md}");
        assert!(r.to_html().contains("9.9.9"));
    }

    #[test]
    fn bad_input_names_the_file_and_the_field() {
        let dir = run(6);
        std::fs::write(dir.path().join(SOAK_RUN), r#"{"config":{"seed":-1}}"#).expect("write");
        let err = read_report(
            dir.path(),
            &GatePolicy::default(),
            Threshold::Strict,
            &ParamRegistry::default(),
        )
        .expect_err("negative seed");
        let text = err.to_string();
        assert!(
            text.contains("SOAK_RUN.json") && text.contains("config.seed"),
            "{text}"
        );

        let dir = run(6);
        let file = dir.path().join("ITER_SUMMARY_3.json");
        let mut doc: Value =
            serde_json::from_slice(&std::fs::read(&file).expect("read")).expect("json");
        doc["tuning"]["rules_fired"] = serde_json::json!([1]);
        std::fs::write(&file, serde_json::to_vec(&doc).expect("json")).expect("write");
        let err = read_report(
            dir.path(),
            &GatePolicy::default(),
            Threshold::Strict,
            &ParamRegistry::default(),
        )
        .expect_err("rules_fired must be strings");
        let text = err.to_string();
        assert!(
            text.contains("ITER_SUMMARY_3.json") && text.contains("tuning.rules_fired[0]"),
            "{text}"
        );
    }

    #[test]
    fn markdown_cells_cannot_break_the_table() {
        assert_eq!(md_cell("a | b\nc"), "a \\| b c");
    }
}
