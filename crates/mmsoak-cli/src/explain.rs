//! `mmsoak explain`: one iteration, from KPIs to the verifier's conclusion.

use std::path::PathBuf;

use mmsoak_gate::{explain_iteration, Explanation, RuleCheck};
use mmsoak_tuner::TuningPolicy;
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
    #[arg(long, default_value = "artifacts/soak/latest")]
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

/// Every rule's condition (as the tuner evaluates it) against the iteration's KPIs.
fn rule_checks(e: &Explanation, p: &TuningPolicy) -> Vec<RuleCheck> {
    let risk = kpi(e, "risk_ratio");
    let mt = kpi(e, "maker_taker_ratio");
    let net = kpi(e, "net_bps");
    let p95 = kpi(e, "p95_latency_ms");
    let adverse = kpi(e, "adverse_bps_p95");
    let slippage = kpi(e, "slippage_bps_p95");
    let show = |v: Option<f64>| v.map_or_else(|| "absent".to_owned(), |v| v.to_string());
    let (ra, rm, rn) = (&p.risk_aggressive, &p.risk_moderate, &p.risk_normalize);
    let (mb, lb, lh) = (&p.maker_boost, &p.latency_buffer, &p.latency_hard);
    let (da, ds, fc) = (
        &p.driver_adverse,
        &p.driver_slippage,
        &p.fallback_conservative,
    );
    let check = |rule: &str, enabled: bool, condition: String, holds: Option<bool>| RuleCheck {
        rule: rule.to_owned(),
        condition: if enabled {
            condition
        } else {
            format!("disabled by the policy ({condition})")
        },
        holds: if enabled { holds } else { None },
        fired: e.rules_fired.iter().any(|r| r == rule),
    };
    vec![
        check(
            "RISK_AGGRESSIVE",
            ra.enabled,
            format!("risk_ratio={} >= {}", show(risk), ra.risk_ratio_min),
            risk.map(|r| r >= ra.risk_ratio_min),
        ),
        check(
            "RISK_MODERATE",
            rm.enabled,
            format!(
                "{} <= risk_ratio={} < {}",
                rm.risk_ratio_min,
                show(risk),
                ra.risk_ratio_min
            ),
            risk.map(|r| r >= rm.risk_ratio_min && r < ra.risk_ratio_min),
        ),
        check(
            "RISK_NORMALIZE",
            rn.enabled,
            format!(
                "risk_ratio={} < {} and net_bps={} >= {}",
                show(risk),
                rn.risk_ratio_below,
                show(net),
                rn.net_bps_min
            ),
            risk.zip(net)
                .map(|(r, n)| r < rn.risk_ratio_below && n >= rn.net_bps_min),
        ),
        check(
            "MAKER_BOOST",
            mb.enabled,
            format!(
                "risk_ratio={} <= {}, maker_taker_ratio={} < {}, net_bps={} >= {}",
                show(risk),
                mb.risk_ratio_max,
                show(mt),
                mb.maker_taker_below,
                show(net),
                mb.net_bps_min
            ),
            match (risk, mt, net) {
                (Some(r), Some(m), Some(n)) => {
                    Some(r <= mb.risk_ratio_max && m < mb.maker_taker_below && n >= mb.net_bps_min)
                }
                _ => None,
            },
        ),
        check(
            "LATENCY_BUFFER",
            lb.enabled,
            format!(
                "{} <= p95_latency_ms={} <= {}",
                lb.p95_latency_ms_min,
                show(p95),
                lb.p95_latency_ms_max
            ),
            p95.map(|l| l >= lb.p95_latency_ms_min && l <= lb.p95_latency_ms_max),
        ),
        check(
            "LATENCY_HARD",
            lh.enabled,
            format!("p95_latency_ms={} > {}", show(p95), lh.p95_latency_ms_above),
            p95.map(|l| l > lh.p95_latency_ms_above),
        ),
        check(
            "DRIVER_ADVERSE",
            da.enabled,
            format!(
                "adverse_bps_p95={} > {}",
                show(adverse),
                da.adverse_bps_p95_above
            ),
            adverse.map(|a| a > da.adverse_bps_p95_above),
        ),
        check(
            "DRIVER_SLIPPAGE",
            ds.enabled,
            format!(
                "slippage_bps_p95={} > {}",
                show(slippage),
                ds.slippage_bps_p95_above
            ),
            slippage.map(|s| s > ds.slippage_bps_p95_above),
        ),
        check(
            "FALLBACK_CONSERVATIVE",
            fc.enabled,
            format!(
                "net_bps={} < {} (fires after {} consecutive such iterations, at most once per {})",
                show(net),
                fc.net_bps_below,
                fc.consecutive_iterations,
                fc.cooldown_iterations
            ),
            net.map(|n| n < fc.net_bps_below),
        ),
    ]
}
