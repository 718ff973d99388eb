//! `mmsoak explain`: one iteration, from KPIs to the verifier's conclusion.

use std::collections::BTreeMap;
use std::path::PathBuf;

use mmsoak_gate::{explain_iteration, Explanation, RuleCheck, RuleWindowRow, RunMeta, SoakReport};
use mmsoak_runner::SoakPolicy;
use mmsoak_tuner::{Rule, RuleInputs, TuningPolicy};
use serde_json::Value;

use crate::Outcome;

/// Explain one iteration of a soak.
///
/// Shows the KPIs against each tuner rule's condition, which rules fired and
/// what they proposed, the guard state and why each change was applied,
/// clamped or skipped, and what the verifier concluded about the step that
/// led into this iteration and the one that left it. Plain text, or JSON
/// with --json. Exit 0, or 2 for unreadable input or an iteration not in the run.
///
/// Example:
///   mmsoak explain --path artifacts/soak/latest --iteration 7
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct Args {
    /// Artifacts directory of a soak.
    #[arg(long, default_value = crate::DEFAULT_SOAK_DIR)]
    path: PathBuf,
    /// The iteration (1-based).
    #[arg(long)]
    iteration: u64,
    /// Print JSON for tools instead of text.
    #[arg(long)]
    json: bool,
    /// Soak policy TOML file the run used (rule thresholds, bounds).
    #[arg(long)]
    policy: Option<PathBuf>,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let policy = crate::load_policy(args.policy.as_deref())?;
    let mut explanation = explain_iteration(&args.path, args.iteration, &policy.registry)?;
    let meta = RunMeta::read(&args.path)?;
    match other_policy(meta.policy_hash.as_deref(), &policy) {
        Some(warning) => errln!("explain: {warning}; the rules' conditions are not evaluated"),
        None => explanation.rule_checks = rule_checks(&explanation, &policy.tuner),
    }
    if args.json {
        out!("{}", explanation.to_json());
    } else {
        out!("{}", explanation.to_text());
    }
    Ok(Outcome::Success)
}

/// Why the rules' conditions would not be the run's: `policy` is not the
/// one the run recorded (`run_hash`, from SOAK_RUN.json), so they would
/// contradict what fired. `None` when it is, or the run recorded none.
pub(crate) fn other_policy(run_hash: Option<&str>, policy: &SoakPolicy) -> Option<String> {
    let hash = policy.policy_hash();
    let run = run_hash?;
    (run != hash.to_string()).then(|| {
        format!(
            "the run's policy ({}) is not this one ({}): pass the run's --policy",
            run.chars().take(12).collect::<String>(),
            hash.short()
        )
    })
}

fn kpi(e: &Explanation, key: &str) -> Option<f64> {
    e.kpis.get(key).and_then(Value::as_f64)
}

/// Every rule over the gate's window of `report`: iterations fired (from
/// `rules_fired`), iterations its condition held, and its failing clauses
/// with how many iterations each failed in (most first, then by name).
pub(crate) fn rule_window(report: &SoakReport, p: &TuningPolicy) -> Vec<RuleWindowRow> {
    let from = report.window_from();
    let window: Vec<_> = report
        .iterations
        .iter()
        .filter(|r| r.iteration >= from)
        .collect();
    Rule::ALL
        .into_iter()
        .map(|rule| {
            let (mut fired, mut held) = (0, 0);
            let mut failing: BTreeMap<String, usize> = BTreeMap::new();
            let mut absent: BTreeMap<String, usize> = BTreeMap::new();
            for row in &window {
                let inputs = RuleInputs {
                    risk_ratio: row.risk_ratio,
                    maker_taker_ratio: row.maker_taker_ratio,
                    net_bps: row.net_bps,
                    p95_latency_ms: row.p95_latency_ms,
                    adverse_bps_p95: row.adverse_bps_p95,
                    slippage_bps_p95: row.slippage_bps_p95,
                };
                fired += usize::from(row.rules_fired.iter().any(|r| r == rule.name()));
                held += usize::from(p.condition_holds(rule, &inputs) == Some(true));
                let clauses = p.condition(rule, &inputs);
                for c in &clauses {
                    if c.holds() == Some(false) {
                        *failing.entry(c.requirement()).or_default() += 1;
                    }
                }
                // Each absent KPI once per iteration, however many clauses read it.
                let missing: std::collections::BTreeSet<&str> = clauses
                    .iter()
                    .filter(|c| c.value.is_none())
                    .map(|c| c.kpi)
                    .collect();
                for kpi in missing {
                    *absent.entry(kpi.to_owned()).or_default() += 1;
                }
            }
            let mut failing: Vec<(String, usize)> = failing.into_iter().collect();
            failing.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            RuleWindowRow {
                rule: rule.name().to_owned(),
                enabled: p.enabled(rule),
                fired,
                held,
                iterations: window.len(),
                failing,
                absent: absent.into_iter().collect(),
            }
        })
        .collect()
}

/// Every rule's condition (the tuner's own clauses, `TuningPolicy::condition`)
/// against the iteration's KPIs. In a condition of several clauses that does
/// not hold, the failing ones are marked `(no)`: why MAKER_BOOST stayed
/// silent is then on the line.
fn rule_checks(e: &Explanation, p: &TuningPolicy) -> Vec<RuleCheck> {
    let inputs = RuleInputs {
        risk_ratio: kpi(e, "risk_ratio"),
        maker_taker_ratio: kpi(e, "maker_taker_ratio"),
        net_bps: kpi(e, "net_bps"),
        p95_latency_ms: kpi(e, "p95_latency_ms"),
        adverse_bps_p95: kpi(e, "adverse_bps_p95"),
        slippage_bps_p95: kpi(e, "slippage_bps_p95"),
    };
    let fc = &p.fallback_conservative;
    Rule::ALL
        .into_iter()
        .map(|rule| {
            let clauses = p.condition(rule, &inputs);
            let mark = clauses.len() > 1;
            let mut condition = clauses
                .iter()
                .map(|c| match c.holds() {
                    Some(false) if mark => format!("{c} (no)"),
                    _ => c.to_string(),
                })
                .collect::<Vec<_>>()
                .join(", ");
            if rule == Rule::FallbackConservative {
                condition.push_str(&format!(
                    " (fires after {} consecutive such iterations, at most once per {})",
                    fc.consecutive_iterations, fc.cooldown_iterations
                ));
            }
            let enabled = p.enabled(rule);
            RuleCheck {
                rule: rule.name().to_owned(),
                condition: if enabled {
                    condition
                } else {
                    format!("disabled by the policy ({condition})")
                },
                holds: if enabled {
                    p.condition_holds(rule, &inputs)
                } else {
                    None
                },
                fired: e.rules_fired.iter().any(|r| r == rule.name()),
            }
        })
        .collect()
}
