//! The tuner's rules as the report and `explain` show them: each rule's own
//! condition ([`TuningPolicy::condition`]) evaluated on the KPIs of the
//! gate's window, or of one iteration.

use std::collections::{BTreeMap, BTreeSet};

use mmsoak_core::StateHash;
use mmsoak_tuner::{Rule, RuleInputs, TuningPolicy};
use serde_json::Value;

use crate::explain::{Explanation, RuleCheck};
use crate::report::{IterationRow, RuleWindowRow, SoakReport};

/// Why the rules' conditions would not be the run's: the policy given
/// (`policy_hash`) is not the one the run recorded (`run_hash`, from
/// SOAK_RUN.json), so they would contradict what fired. `None` when it
/// is, or the run recorded none.
///
/// ```
/// use mmsoak_core::StateHash;
/// let mine = StateHash::of_canonical_bytes(b"{}");
/// assert_eq!(mmsoak_report::other_policy(Some(&mine.to_string()), mine), None);
/// assert_eq!(mmsoak_report::other_policy(None, mine), None);
/// assert!(mmsoak_report::other_policy(Some("0123"), mine).is_some());
/// ```
pub fn other_policy(run_hash: Option<&str>, policy_hash: StateHash) -> Option<String> {
    let run = run_hash?;
    (run != policy_hash.to_string()).then(|| {
        format!(
            "the run's policy ({}) is not this one ({}): pass the run's --policy",
            run.chars().take(12).collect::<String>(),
            policy_hash.short()
        )
    })
}

fn inputs_of(row: &IterationRow) -> RuleInputs {
    RuleInputs {
        risk_ratio: row.risk_ratio,
        maker_taker_ratio: row.maker_taker_ratio,
        net_bps: row.net_bps,
        p95_latency_ms: row.p95_latency_ms,
        adverse_bps_p95: row.adverse_bps_p95,
        slippage_bps_p95: row.slippage_bps_p95,
        latency_floor_ms: None,
    }
}

/// Every rule over the gate's window of `report`: iterations fired (from
/// `rules_fired`), iterations its condition held, and its failing clauses
/// with how many iterations each failed in (most first, then by name).
pub fn rule_window(report: &SoakReport, p: &TuningPolicy) -> Vec<RuleWindowRow> {
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
                let inputs = inputs_of(row);
                fired += usize::from(row.rules_fired.iter().any(|r| r == rule.name()));
                held += usize::from(p.condition_holds(rule, &inputs) == Some(true));
                let clauses = p.condition(rule, &inputs);
                for c in &clauses {
                    if c.holds() == Some(false) {
                        *failing.entry(c.requirement()).or_default() += 1;
                    }
                }
                // Each absent KPI once per iteration, however many clauses read it.
                let missing: BTreeSet<&str> = clauses
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
pub fn rule_checks(e: &Explanation, p: &TuningPolicy) -> Vec<RuleCheck> {
    let kpi = |key: &str| e.kpis.get(key).and_then(Value::as_f64);
    let inputs = RuleInputs {
        risk_ratio: kpi("risk_ratio"),
        maker_taker_ratio: kpi("maker_taker_ratio"),
        net_bps: kpi("net_bps"),
        p95_latency_ms: kpi("p95_latency_ms"),
        adverse_bps_p95: kpi("adverse_bps_p95"),
        slippage_bps_p95: kpi("slippage_bps_p95"),
        latency_floor_ms: kpi("latency_floor_ms"),
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
