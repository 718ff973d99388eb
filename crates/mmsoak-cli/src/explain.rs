//! `mmsoak explain`: one iteration, from KPIs to the verifier's conclusion.

use std::path::PathBuf;

use mmsoak_gate::{explain_iteration, Explanation, RuleCheck};
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
    explanation.rule_checks = rule_checks(&explanation, &policy.tuner);
    if args.json {
        print!("{}", explanation.to_json());
    } else {
        print!("{}", explanation.to_text());
    }
    Ok(Outcome::Success)
}

fn kpi(e: &Explanation, key: &str) -> Option<f64> {
    e.kpis.get(key).and_then(Value::as_f64)
}

/// Every rule's condition (the tuner's own, `TuningPolicy::condition_holds`)
/// against the iteration's KPIs.
fn rule_checks(e: &Explanation, p: &TuningPolicy) -> Vec<RuleCheck> {
    let inputs = RuleInputs {
        risk_ratio: kpi(e, "risk_ratio"),
        maker_taker_ratio: kpi(e, "maker_taker_ratio"),
        net_bps: kpi(e, "net_bps"),
        p95_latency_ms: kpi(e, "p95_latency_ms"),
        adverse_bps_p95: kpi(e, "adverse_bps_p95"),
        slippage_bps_p95: kpi(e, "slippage_bps_p95"),
    };
    let show = |v: Option<f64>| v.map_or_else(|| "absent".to_owned(), |v| v.to_string());
    let (risk, mt, net, p95) = (
        show(inputs.risk_ratio),
        show(inputs.maker_taker_ratio),
        show(inputs.net_bps),
        show(inputs.p95_latency_ms),
    );
    let (ra, rm, rn) = (&p.risk_aggressive, &p.risk_moderate, &p.risk_normalize);
    let (mb, lb, lh) = (&p.maker_boost, &p.latency_buffer, &p.latency_hard);
    let (da, ds, fc) = (
        &p.driver_adverse,
        &p.driver_slippage,
        &p.fallback_conservative,
    );
    Rule::ALL
        .into_iter()
        .map(|rule| {
            let condition = match rule {
                Rule::RiskAggressive => format!("risk_ratio={risk} >= {}", ra.risk_ratio_min),
                Rule::RiskModerate => format!(
                    "{} <= risk_ratio={risk} < {}",
                    rm.risk_ratio_min, ra.risk_ratio_min
                ),
                Rule::RiskNormalize => format!(
                    "risk_ratio={risk} < {} and net_bps={net} >= {}",
                    rn.risk_ratio_below, rn.net_bps_min
                ),
                Rule::MakerBoost => format!(
                    "risk_ratio={risk} <= {}, maker_taker_ratio={mt} < {}, net_bps={net} >= {}",
                    mb.risk_ratio_max, mb.maker_taker_below, mb.net_bps_min
                ),
                Rule::LatencyBuffer => format!(
                    "{} <= p95_latency_ms={p95} <= {}",
                    lb.p95_latency_ms_min, lb.p95_latency_ms_max
                ),
                Rule::LatencyHard => {
                    format!("p95_latency_ms={p95} > {}", lh.p95_latency_ms_above)
                }
                Rule::DriverAdverse => format!(
                    "adverse_bps_p95={} > {}",
                    show(inputs.adverse_bps_p95),
                    da.adverse_bps_p95_above
                ),
                Rule::DriverSlippage => format!(
                    "slippage_bps_p95={} > {}",
                    show(inputs.slippage_bps_p95),
                    ds.slippage_bps_p95_above
                ),
                Rule::FallbackConservative => format!(
                    "net_bps={net} < {} (fires after {} consecutive such iterations, at most once per {})",
                    fc.net_bps_below, fc.consecutive_iterations, fc.cooldown_iterations
                ),
            };
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
