//! The closed loop end to end on the embedded simulator: `run_soak` with the
//! `sim` driver, then the release gate over the artifacts.
//!
//! Each test runs 24 iterations of one simulated hour (the CLI default).
//! What is NOT here, because it does not hold on the calibrated market
//! (docs/sim.md, "The closed loop"): "default + auto-tune PASSes the gate".
//! On `default` no parameter setting within the registry's bounds brings the
//! net edge to the gate's 2.7 bps (it peaks near 2.3 bps, where the bot
//! barely trades), so every policy FAILs there on net edge; the tests below
//! pin that outcome and that the other KPIs reach their targets. After
//! `latency-spike`'s step the latency floor alone is above the target: the
//! tests pin that the rules stand down and the gate says environment-bound.

use std::path::Path;

use mmsoak_core::{IterationKpis, RuntimeOverrides};
use mmsoak_gate::{gate_dir, CriterionGroup, FailureClass, GateReport, GateVerdict, Threshold};
use mmsoak_runner::{
    run_soak, Clock, IterationDone, Scenario, SimDriver, SoakConfig, SoakObserver, SoakPolicy,
};
use serde_json::Value;

const ITERATIONS: u32 = 24;
const SEED: u64 = 0;

/// Collects every iteration's KPIs.
#[derive(Default)]
struct Kpis(Vec<IterationKpis>);

impl SoakObserver for Kpis {
    fn iteration_done(&mut self, done: &IterationDone<'_>) {
        self.0.push(done.kpis.clone());
    }
}

struct Soak {
    kpis: Vec<IterationKpis>,
    rules: Vec<Vec<String>>,
    gate: GateReport,
    /// `concurrency_limit` in force during each iteration.
    concurrency: Vec<f64>,
    /// Each iteration's proposal rationale.
    rationales: Vec<String>,
}

fn soak(scenario: &str, auto_tune: bool, out: &Path) -> Soak {
    soak_with(scenario, auto_tune, (SoakPolicy::default(), None), out)
}

fn soak_with(
    scenario: &str,
    auto_tune: bool,
    (policy, policy_file): (SoakPolicy, Option<std::path::PathBuf>),
    out: &Path,
) -> Soak {
    let config = SoakConfig {
        out_dir: out.to_owned(),
        iterations: ITERATIONS,
        auto_tune,
        seed: SEED,
        policy: policy.clone(),
        policy_file,
        initial_overrides: RuntimeOverrides::new(),
        exec_command: None,
        clock: Clock::Fixed,
        resume: false,
        stop: Default::default(),
    };
    let scenario = Scenario::builtin(scenario).expect("built-in scenario");
    let mut driver = SimDriver::new(scenario, policy.registry.clone(), SEED);
    let mut kpis = Kpis::default();
    run_soak(&config, &mut driver, &mut kpis).expect("soak runs");
    let report: Value = serde_json::from_slice(
        &std::fs::read(out.join("TUNING_REPORT.json")).expect("TUNING_REPORT.json"),
    )
    .expect("TUNING_REPORT.json parses");
    let rules = report["iterations"]
        .as_array()
        .expect("iterations")
        .iter()
        .map(|e| {
            e["rules_fired"]
                .as_array()
                .expect("rules_fired")
                .iter()
                .map(|r| r.as_str().expect("rule name").to_owned())
                .collect()
        })
        .collect();
    let gate = gate_dir(out, &policy.gate, Threshold::Default)
        .expect("gate reads the artifacts")
        .report;
    let summaries: Vec<Value> = (1..=ITERATIONS)
        .map(|i| {
            let file = out.join(format!("ITER_SUMMARY_{i}.json"));
            serde_json::from_slice(&std::fs::read(file).expect("a summary"))
                .expect("a summary parses")
        })
        .collect();
    let concurrency = summaries
        .iter()
        .map(|s| {
            s["runtime_overrides"]["engine"]["concurrency_limit"]
                .as_f64()
                .expect("concurrency_limit in force")
        })
        .collect();
    let rationales = summaries
        .iter()
        .map(|s| {
            s["tuning"]["rationale"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    Soak {
        kpis: kpis.0,
        rules,
        gate,
        concurrency,
        rationales,
    }
}

fn failed_names(gate: &GateReport) -> Vec<&str> {
    gate.failed().map(|c| c.name.as_str()).collect()
}

/// How many of the four KPI targets an iteration misses.
fn misses(k: &IterationKpis) -> usize {
    [
        k.maker_taker_ratio < 0.85,
        k.risk_ratio > 0.42,
        k.net_bps.is_none_or(|n| n < 2.7),
        k.p95_latency_ms.is_none_or(|p| p > 340.0),
    ]
    .iter()
    .filter(|m| **m)
    .count()
}

/// The KPI criteria a soak's gate failed.
fn failed_kpis(gate: &GateReport) -> Vec<&str> {
    gate.failed()
        .filter(|c| c.group() == CriterionGroup::Kpi)
        .map(|c| c.name.as_str())
        .collect()
}

/// The predecessor's table (`--policy seed`): the latency rules reach their
/// target by cutting concurrency to 1, where no quote can be replaced; risk
/// and maker share are inside their targets from the start; and no rule
/// widens the spread, because `MAKER_BOOST` waits for the gate's own net
/// target and the fallback for a loss.
#[test]
fn default_with_the_seed_policy_fails_on_net_only_and_ends_unable_to_replace() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = soak_with("default", true, (SoakPolicy::seed(), None), dir.path());
    assert!(misses(&run.kpis[0]) >= 2, "{:?}", run.kpis[0]);
    assert_eq!(run.gate.verdict, GateVerdict::Fail);
    assert_eq!(
        failed_kpis(&run.gate),
        ["kpi.net_bps_mean"],
        "risk, maker/taker and p95 reach their targets; net does not"
    );
    let min_net = SoakPolicy::seed().tuner.maker_boost.net_bps_min;
    assert!(
        run.kpis
            .iter()
            .all(|k| k.net_bps.is_some_and(|n| n < min_net)),
        "net stays below MAKER_BOOST's floor {min_net} in every iteration"
    );
    assert!(!run.rules.iter().flatten().any(|r| r == "MAKER_BOOST"));
    assert_eq!(run.concurrency.last(), Some(&1.0));
}

/// The main job (`cargo xtask mini-soak`, default policy). Latency reaches
/// its target with concurrency left at 2 (quotes can still be replaced).
/// Net edge is below target, so `FALLBACK_CONSERVATIVE` widens the spread
/// and slows requoting, as the policy's principles ask; on this market
/// wider quotes earn less per notional, so net does not reach 2.7 and the
/// PnL per hour falls to a fraction of the start's: the finding docs/sim.md
/// reports ("The closed loop"), visible here and in the report.
#[test]
fn default_with_the_default_policy_widens_for_edge_and_trades_its_pnl_away() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = soak("default", true, dir.path());
    assert!(misses(&run.kpis[0]) >= 2, "{:?}", run.kpis[0]);
    assert_eq!(run.gate.verdict, GateVerdict::Fail);
    assert_eq!(failed_kpis(&run.gate), ["kpi.net_bps_mean"]);
    assert!(
        run.concurrency.iter().all(|&c| c >= 2.0),
        "{:?}",
        run.concurrency
    );
    assert!(run
        .rules
        .iter()
        .flatten()
        .any(|r| r == "FALLBACK_CONSERVATIVE"));
    let pnl = |k: &IterationKpis| k.pnl_per_hour.expect("sim reports PnL");
    let last8: f64 = run.kpis[16..].iter().map(pnl).sum::<f64>() / 8.0;
    assert!(
        last8 < pnl(&run.kpis[0]) / 4.0,
        "PnL/h {} at the start, {last8} over the last 8",
        pnl(&run.kpis[0])
    );
}

#[test]
fn default_without_auto_tune_fails_the_gate_and_starts_outside_targets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = soak("default", false, dir.path());
    assert_eq!(run.kpis.len(), ITERATIONS as usize);
    let first = &run.kpis[0];
    assert!(
        misses(first) >= 2,
        "iteration 1 misses fewer than two targets: {first:?}"
    );
    assert_eq!(run.gate.verdict, GateVerdict::Fail);
    assert_eq!(
        failed_kpis(&run.gate),
        ["kpi.net_bps_mean", "kpi.p95_latency_ms_mean"]
    );
}

#[test]
fn toxic_fails_with_auto_tune_and_names_net_bps() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = soak("toxic", true, dir.path());
    assert_eq!(run.gate.verdict, GateVerdict::Fail);
    let failed = failed_names(&run.gate);
    assert!(failed.contains(&"kpi.net_bps_mean"), "{failed:?}");
    // The tuner did try (it is not a frozen run): rules fired and net stayed negative.
    assert!(run.rules.iter().flatten().any(|r| r != "STABLE"));
    assert!(run.kpis.iter().all(|k| k.net_bps.is_some_and(|n| n < 0.0)));
}

/// Issue 14, section 3: after `latency-spike`'s +45 ms the latency floor
/// alone is above the target, so the latency rules stand down (no
/// concurrency cut that would only disable replaces) and say why, and the
/// gate classes the p95 failure environment-bound, with the floor.
#[test]
fn latency_spike_the_rules_stand_down_and_the_failure_is_environment_bound() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = soak("latency-spike", true, dir.path());
    let spike = Scenario::builtin("latency-spike")
        .expect("latency-spike")
        .latency
        .spike_from_iteration as usize;
    assert!(spike > 1 && spike <= ITERATIONS as usize);
    let p95 = |i: usize| run.kpis[i - 1].p95_latency_ms.expect("p95");
    let floor = |i: usize| run.kpis[i - 1].latency_floor_ms.expect("floor");
    assert!(
        p95(spike) > p95(spike - 1) + 30.0,
        "{} -> {}",
        p95(spike - 1),
        p95(spike)
    );
    for i in spike..=ITERATIONS as usize {
        assert!(floor(i) > 340.0, "iteration {i}: floor {}", floor(i));
        assert!(
            !run.rules[i - 1].iter().any(|r| r.starts_with("LATENCY")),
            "iteration {i}: {:?}",
            run.rules[i - 1]
        );
        assert!(
            run.rationales[i - 1].contains("stands down"),
            "{}",
            run.rationales[i - 1]
        );
        assert_eq!(
            run.concurrency[i - 1],
            run.concurrency[spike - 1],
            "iteration {i}"
        );
    }
    let c = run
        .gate
        .criteria
        .iter()
        .find(|c| c.name.as_str() == "kpi.p95_latency_ms_mean")
        .expect("the latency criterion");
    assert!(!c.ok);
    assert_eq!(c.class, Some(FailureClass::EnvironmentBound));
    assert!(c.latency_floor_ms.is_some_and(|f| f > 340.0), "{c:?}");
}

/// Issue 14, section 3: after `latency-step`'s +10 ms the floor stays under
/// the band, so the latency rules act, and p95 is back at or under 340 ms
/// within 6 iterations; the gate's latency criterion passes (the run still
/// fails on net edge, the finding of docs/sim.md).
#[test]
fn latency_step_p95_recovers_within_six_iterations() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = soak("latency-step", true, dir.path());
    let step = Scenario::builtin("latency-step")
        .expect("latency-step")
        .latency
        .spike_from_iteration as usize;
    let p95 = |i: usize| run.kpis[i - 1].p95_latency_ms.expect("p95");
    assert!(p95(step) > 340.0, "p95 {} at the step", p95(step));
    let back = (step..=step + 6).find(|&i| p95(i) <= 340.0);
    assert!(
        back.is_some(),
        "{:?}",
        (step..=step + 6).map(p95).collect::<Vec<_>>()
    );
    for i in back.unwrap_or(step)..=ITERATIONS as usize {
        assert!(p95(i) <= 340.0, "iteration {i}: {}", p95(i));
    }
    assert_eq!(failed_kpis(&run.gate), ["kpi.net_bps_mean"]);
}
