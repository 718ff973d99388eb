//! `mmsoak gate`: is the bot ready for release?

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::Outcome;
use mmsoak_artifacts::layout::{POST_SOAK_METRICS, POST_SOAK_SNAPSHOT};
use mmsoak_gate::{
    compare, gate_dir, read_baseline, render_prometheus, Criterion, CriterionGroup, GateReport,
    GateVerdict, Measure, Threshold,
};

/// Gate a release on the last iterations' KPIs and on delta quality.
///
/// Runs the snapshot and the verifier in-process, applies every criterion,
/// prints a KPI table and a delta-quality table (or JSON), and writes
/// POST_SOAK_SNAPSHOT.json and, with --prometheus,
/// POST_SOAK_METRICS.prom. Exit 0 for PASS or WARN, 1 for FAIL, 2 for
/// unreadable input.
///
/// Example:
///   mmsoak gate --path artifacts/soak/latest --strict --prometheus
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct Args {
    #[command(flatten)]
    soak: crate::SoakDir,
    /// Require full_apply_ratio >= 0.95 (else 0.90).
    #[arg(long)]
    strict: bool,
    /// Write POST_SOAK_METRICS.prom (Prometheus text format).
    #[arg(long)]
    prometheus: bool,
    /// Print the verdict and every criterion as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// A baseline POST_SOAK_SNAPSHOT.json to compare KPI means against.
    #[arg(long)]
    compare: Option<PathBuf>,
    /// Soak policy: `default` (the built-in default), `seed` (the
    /// predecessor's table) or a TOML file (its [gate] table).
    #[arg(long, value_name = "default|seed|FILE")]
    policy: Option<PathBuf>,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let soak_policy = crate::load_policy(args.policy.as_deref())?;
    // Everything is read and judged before anything is written.
    let run = gate_dir(&args.soak.path, &soak_policy.gate, threshold(args.strict))?;
    let meta = mmsoak_gate::RunMeta::read(&args.soak.path)?;
    // Judging a run under another policy is allowed (a stricter gate, say),
    // but said: a missing --policy is the usual cause.
    let other_policy =
        mmsoak_report::other_policy(meta.policy_hash.as_deref(), soak_policy.policy_hash());
    let baseline = match &args.compare {
        Some(path) => Some(read_baseline(path)?),
        None => None,
    };
    if let Some(warning) = other_policy {
        errln!("gate: warning: {warning}; judged under this one");
    }
    let mut outputs = vec![(POST_SOAK_SNAPSHOT, run.report.snapshot.to_json(false))];
    if args.prometheus {
        outputs.push((POST_SOAK_METRICS, render_prometheus(&run.report, &meta)));
    }
    for (name, text) in &outputs {
        let out = args.soak.path.join(name);
        crate::write_file(&out, text.as_bytes())?;
    }

    let report = &run.report;
    if args.json {
        out!("{}", report.to_json());
    } else {
        out!("{}", render_tables(report));
    }
    if let Some(baseline) = baseline {
        let text = compare(&report.snapshot.kpi_last8, &baseline).render_text();
        if args.json {
            err!("{text}");
        } else {
            out!(
                "\nChange against {}:\n{text}",
                args.compare
                    .as_deref()
                    .unwrap_or_else(|| "".as_ref())
                    .display()
            );
        }
    }
    Ok(match report.verdict {
        GateVerdict::Fail => Outcome::GateFailed,
        GateVerdict::Pass | GateVerdict::Warn => Outcome::Success,
    })
}

fn show(m: &Measure) -> String {
    match m {
        Measure::Count(c) => c.to_string(),
        Measure::Number(x) => format!("{x:.3}"),
        Measure::Flag(b) => b.to_string(),
        Measure::Word(w) => w.clone(),
    }
}

fn table(out: &mut String, title: &str, rows: &[&Criterion]) {
    let _ = writeln!(out, "{title}");
    let _ = writeln!(
        out,
        "  {:<38} {:>10}   {:<12}",
        "criterion", "value", "target"
    );
    for c in rows {
        let target = c.target_text();
        let _ = writeln!(
            out,
            "  {:<38} {:>10}   {:<12} {}",
            c.name,
            show(&c.value),
            target,
            if c.ok { "ok" } else { "FAIL" }
        );
    }
}

/// The KPI table and the delta-quality table a person reads at a glance.
pub(crate) fn render_tables(report: &GateReport) -> String {
    let mut out = String::new();
    let (run, rest): (Vec<&Criterion>, Vec<&Criterion>) = report
        .criteria
        .iter()
        .partition(|c| c.group() == CriterionGroup::Run);
    if !run.is_empty() {
        table(&mut out, "Run", &run);
        out.push('\n');
    }
    let (delta, kpi): (Vec<&Criterion>, Vec<&Criterion>) = rest
        .into_iter()
        .partition(|c| c.group() == CriterionGroup::Delta);
    table(
        &mut out,
        "KPIs over the last iterations (means vs targets)",
        &kpi,
    );
    out.push('\n');
    table(&mut out, "Delta quality", &delta);
    let _ = writeln!(out, "\nGATE: {}", report.verdict.as_str());
    for c in report.failed() {
        let _ = writeln!(out, "  failed: {}", c.describe());
    }
    if report.verdict == GateVerdict::Warn && report.anomalies_count > 0 {
        let _ = writeln!(
            out,
            "  warning: {} anomalies in the window",
            report.anomalies_count
        );
    }
    for finding in &report.findings {
        let _ = writeln!(out, "  warning: {finding}");
    }
    out
}

/// The gate's `delta.full_apply_ratio` target for `--strict`.
pub(crate) fn threshold(strict: bool) -> Threshold {
    if strict {
        Threshold::Strict
    } else {
        Threshold::Default
    }
}
