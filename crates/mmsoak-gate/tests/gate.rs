//! Integration tests of the snapshot, the gate, the Prometheus export and the comparison.

use std::path::Path;

use mmsoak_core::{Delta, DeltaOp, Param};
use mmsoak_gate::{
    compare, evaluate, gate_dir, read_baseline, render_prometheus, snapshot_dir, Criterion,
    CriterionGroup, CriterionId, FailureClass, GateInputs, GatePolicy, GateReport, GateVerdict,
    MeanMedian, PostSoakSnapshot, RunCompletion, RunMeta, SnapshotPolicy, SnapshotVerdict,
    Threshold,
};
use mmsoak_verify::testing::{write_run, IterationPlan, PlanKpis, PlanStep};
use mmsoak_verify::{DeltaMetrics, SkipFlags};
use serde_json::Value;

const FREEZE: SkipFlags = SkipFlags {
    freeze: true,
    oscillation: false,
    velocity: false,
    cooldown: false,
    no_op: false,
    final_iteration: false,
};

fn kpis(risk: f64, mt: f64, net: f64, p95: f64) -> PlanKpis {
    PlanKpis {
        risk_ratio: risk,
        maker_taker_ratio: mt,
        net_bps: net,
        p95_latency_ms: p95,
    }
}

fn step(i: usize) -> PlanStep {
    match i % 3 {
        0 => PlanStep::Apply(vec![DeltaOp::new(Param::TailAgeMs, Delta::Add(10.0))]),
        1 => PlanStep::Apply(vec![DeltaOp::new(Param::MinIntervalMs, Delta::Add(-1.0))]),
        _ => PlanStep::Nothing,
    }
}

/// A run whose iterations have the given KPIs; a freeze in iteration `freeze_at` (1-based).
fn run_with(k: &[PlanKpis], freeze_at: Option<usize>) -> tempfile::TempDir {
    let plans: Vec<IterationPlan> = k
        .iter()
        .enumerate()
        .map(|(i, k)| {
            if Some(i + 1) == freeze_at {
                IterationPlan {
                    kpis: *k,
                    step: PlanStep::Blocked(
                        vec![DeltaOp::new(Param::TailAgeMs, Delta::Add(10.0))],
                        FREEZE,
                    ),
                    freeze_triggered: true,
                }
            } else {
                IterationPlan::new(*k, step(i))
            }
        })
        .collect();
    let dir = tempfile::tempdir().expect("temp dir");
    write_run(dir.path(), &plans).expect("write run");
    dir
}

fn snap(dir: &Path) -> PostSoakSnapshot {
    snapshot_dir(dir, &SnapshotPolicy::default()).expect("snapshot")
}

#[test]
fn eight_iterations_at_maker_taker_085_average_to_exactly_085_and_pass() {
    let dir = run_with(&[kpis(0.42, 0.85, 2.7, 340.0); 8], Some(6));
    let s = snap(dir.path());
    assert_eq!(s.kpi_last8.maker_taker_ratio.mean, 0.85);
    assert_eq!(s.kpi_last8.risk_ratio.mean, 0.42);
    assert_eq!(s.kpi_last8.net_bps.mean, 2.7);
    assert_eq!(s.pass_count_last8, 8, "thresholds are inclusive");
    assert_eq!(
        (s.verdict, s.freeze_seen, s.freeze_ready),
        (SnapshotVerdict::Pass, true, true)
    );
    let run = gate_dir(dir.path(), &GatePolicy::default(), Threshold::Strict).expect("gate");
    assert_eq!(
        run.report.verdict,
        GateVerdict::Pass,
        "{:#?}",
        run.report.failed().collect::<Vec<_>>()
    );
}

#[test]
fn per_iteration_pass_thresholds_on_both_sides() {
    let good = kpis(0.42, 0.85, 2.7, 350.0);
    for (bad, what) in [
        (kpis(0.421, 0.85, 2.7, 350.0), "risk"),
        (kpis(0.42, 0.849, 2.7, 350.0), "maker_taker"),
        (kpis(0.42, 0.85, 2.699, 350.0), "net_bps"),
        (kpis(0.42, 0.85, 2.7, 350.1), "p95"),
    ] {
        let mut k = vec![good; 8];
        k[7] = bad;
        let dir = run_with(&k, Some(2));
        assert_eq!(snap(dir.path()).pass_count_last8, 7, "{what}");
    }
}

#[test]
fn snapshot_verdicts_and_freeze_ready() {
    let good = kpis(0.3, 0.9, 3.0, 250.0);
    let bad = kpis(0.6, 0.8, 1.0, 250.0);
    // 6 passes but no freeze: WARN, not freeze_ready.
    let dir = run_with(&[bad, bad, good, good, good, good, good, good], None);
    let s = snap(dir.path());
    assert_eq!(
        (s.pass_count_last8, s.verdict, s.freeze_ready),
        (6, SnapshotVerdict::Warn, false)
    );
    // 5 passes and a freeze: WARN.
    let dir = run_with(&[bad, bad, bad, good, good, good, good, good], Some(8));
    let s = snap(dir.path());
    assert_eq!(
        (s.pass_count_last8, s.verdict, s.freeze_ready, s.freeze_seen),
        (5, SnapshotVerdict::Warn, false, true)
    );
    // 4 passes: FAIL.
    let dir = run_with(&[bad, bad, bad, bad, good, good, good, good], Some(8));
    assert_eq!(snap(dir.path()).verdict, SnapshotVerdict::Fail);
    // Only the last 8 count; a freeze before the window is not seen.
    let mut k = vec![bad; 4];
    k.extend([good; 8]);
    let dir = run_with(&k, Some(2));
    let s = snap(dir.path());
    assert_eq!(
        (s.pass_count_last8, s.freeze_seen, s.verdict),
        (8, false, SnapshotVerdict::Warn)
    );
    assert_eq!(s.guards_last8.freeze_events, 0);
}

#[test]
fn anomalies_are_counted_per_condition_and_make_the_gate_warn() {
    let good = kpis(0.2, 0.9, 3.0, 250.0);
    let mut k = vec![good; 8];
    k[3] = kpis(0.36, 0.9, 3.0, 250.0); // risk +0.16: anomaly (and still a pass)
    k[4] = kpis(0.2, 0.9, 3.0, 250.0);
    k[5] = kpis(0.2, 0.74, 3.0, 401.0); // two anomalies, not a pass
    let dir = run_with(&k, Some(8));
    let s = snap(dir.path());
    assert_eq!(s.anomalies_count, 3);
    assert_eq!(s.pass_count_last8, 7);
    let run = gate_dir(dir.path(), &GatePolicy::default(), Threshold::Default).expect("gate");
    assert_eq!(
        run.report.verdict,
        GateVerdict::Warn,
        "{:#?}",
        run.report.failed().collect::<Vec<_>>()
    );
}

/// A KPI missing in a window iteration (a bot with no fill has no net edge)
/// leaves it out of the means, keeps it from passing, and fails the gate by
/// name; outside the window it changes nothing.
#[test]
fn a_null_kpi_in_the_window_fails_the_gate_but_not_outside_it() {
    let dir = run_with(&[kpis(0.3, 0.9, 3.0, 250.0); 10], Some(9));
    let set = |i: u64, key: &str, value: Value| {
        let path = dir.path().join(format!("ITER_SUMMARY_{i}.json"));
        let mut doc: Value =
            serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
        doc["summary"][key] = value;
        std::fs::write(&path, serde_json::to_vec(&doc).expect("json")).expect("write");
    };
    let gate = || gate_dir(dir.path(), &GatePolicy::default(), Threshold::Default).expect("gate");
    set(1, "net_bps", Value::Null); // outside the last 8
    let run = gate();
    assert_eq!(run.report.verdict, GateVerdict::Pass);
    assert_eq!(run.report.incomplete_iterations, 0);

    set(5, "p95_latency_ms", Value::Null);
    set(6, "p95_latency_ms", Value::from(330.0));
    let snap = snapshot_dir(dir.path(), &SnapshotPolicy::default()).expect("snapshot");
    assert_eq!(snap.pass_count_last8, 7);
    // The mean of the seven values there are: 6 x 250 and one 330.
    assert_eq!(snap.kpi_last8.p95_latency_ms.mean, 261.429);
    let run = gate();
    assert_eq!(run.report.incomplete_iterations, 1);
    let failed: Vec<String> = run.report.failed().map(Criterion::describe).collect();
    assert_eq!(
        failed,
        ["snapshot.incomplete_iterations_last8: 1 (target <= 0)"]
    );
    let lenient = GatePolicy {
        incomplete_iterations_max: 1,
        ..GatePolicy::default()
    };
    let run = gate_dir(dir.path(), &lenient, Threshold::Default).expect("gate");
    assert_eq!(run.report.verdict, GateVerdict::Pass);
}

#[test]
fn signature_loops_count_a_b_a_among_applied_states() {
    let good = kpis(0.3, 0.9, 3.0, 250.0);
    let up = PlanStep::Apply(vec![DeltaOp::new(Param::MinIntervalMs, Delta::Add(5.0))]);
    let down = PlanStep::Apply(vec![DeltaOp::new(Param::MinIntervalMs, Delta::Add(-5.0))]);
    let velocity = PlanStep::Blocked(
        vec![DeltaOp::new(Param::TailAgeMs, Delta::Add(5.0))],
        SkipFlags {
            velocity: true,
            ..SkipFlags::default()
        },
    );
    // applied states: B (65), A (60), [skip], B (65), A (60): two A-B-A returns (BAB, ABA).
    let plans: Vec<IterationPlan> = [
        up.clone(),
        down.clone(),
        velocity,
        up,
        down,
        PlanStep::Nothing,
    ]
    .into_iter()
    .map(|s| IterationPlan::new(good, s))
    .collect();
    let dir = tempfile::tempdir().expect("temp dir");
    write_run(dir.path(), &plans).expect("write");
    let s = snap(dir.path());
    assert_eq!(s.signature_loops, 2);
    assert_eq!(s.guards_last8.velocity_count, 1);
}

// ---- every gate criterion on both sides of its threshold ----

fn passing() -> (PostSoakSnapshot, DeltaMetrics) {
    let dir = run_with(&[kpis(0.3, 0.9, 3.0, 250.0); 8], Some(7));
    let run = gate_dir(dir.path(), &GatePolicy::default(), Threshold::Strict).expect("gate");
    assert_eq!(run.report.verdict, GateVerdict::Pass);
    (run.report.snapshot, run.report.delta)
}

#[track_caller]
/// The gate over a snapshot and delta metrics (no incomplete iteration).
fn judge(
    s: &PostSoakSnapshot,
    d: &DeltaMetrics,
    journal_chain_breaks: u64,
    completion: Option<RunCompletion>,
    policy: &GatePolicy,
    strict: bool,
) -> GateReport {
    let inputs = GateInputs {
        snapshot: s,
        delta: d,
        journal_chain_breaks,
        completion,
        incomplete_iterations: 0,
        findings: &[],
    };
    let threshold = if strict {
        Threshold::Strict
    } else {
        Threshold::Default
    };
    evaluate(&inputs, policy, threshold)
}

fn check(
    criterion: &str,
    strict: bool,
    at_threshold: impl Fn(&mut PostSoakSnapshot, &mut DeltaMetrics, &mut u64),
    beyond: impl Fn(&mut PostSoakSnapshot, &mut DeltaMetrics, &mut u64),
) {
    let policy = GatePolicy::default();
    for (edit, expect_ok) in [
        (&at_threshold as &dyn Fn(&mut _, &mut _, &mut _), true),
        (&beyond, false),
    ] {
        let (mut s, mut d) = passing();
        let mut breaks = 0;
        edit(&mut s, &mut d, &mut breaks);
        let r = judge(&s, &d, breaks, None, &policy, strict);
        let c = r
            .criteria
            .iter()
            .find(|c| c.name.as_str() == criterion)
            .expect("criterion exists");
        assert_eq!(c.ok, expect_ok, "{criterion}: {}", c.describe());
        let failed: Vec<&str> = r.failed().map(|c| c.name.as_str()).collect();
        if expect_ok {
            assert_eq!(r.verdict, GateVerdict::Pass, "{failed:?}");
        } else {
            assert_eq!(failed, [criterion]);
            assert_eq!(r.verdict, GateVerdict::Fail);
        }
    }
}

#[test]
fn each_gate_criterion_on_both_sides() {
    check(
        "kpi.maker_taker_ratio_mean",
        true,
        |s, _, _| s.kpi_last8.maker_taker_ratio.mean = 0.85,
        |s, _, _| s.kpi_last8.maker_taker_ratio.mean = 0.849,
    );
    check(
        "kpi.risk_ratio_mean",
        true,
        |s, _, _| s.kpi_last8.risk_ratio.mean = 0.42,
        |s, _, _| s.kpi_last8.risk_ratio.mean = 0.421,
    );
    check(
        "kpi.net_bps_mean",
        true,
        |s, _, _| s.kpi_last8.net_bps.mean = 2.7,
        |s, _, _| s.kpi_last8.net_bps.mean = 2.699,
    );
    check(
        "kpi.p95_latency_ms_mean",
        true,
        |s, _, _| s.kpi_last8.p95_latency_ms.mean = 340.0,
        |s, _, _| s.kpi_last8.p95_latency_ms.mean = 340.001,
    );
    check(
        "snapshot.pass_count_last8",
        true,
        |s, _, _| s.pass_count_last8 = 6,
        |s, _, _| s.pass_count_last8 = 5,
    );
    check(
        "snapshot.verdict",
        true,
        |s, _, _| s.verdict = SnapshotVerdict::Warn,
        |s, _, _| s.verdict = SnapshotVerdict::Fail,
    );
    check(
        "snapshot.freeze_ready",
        true,
        |s, _, _| s.freeze_ready = true,
        |s, _, _| s.freeze_ready = false,
    );
    check(
        "delta.full_apply_ratio",
        true,
        |_, d, _| d.full_apply_ratio = 0.95,
        |_, d, _| d.full_apply_ratio = 0.949,
    );
    check(
        "delta.full_apply_ratio",
        false,
        |_, d, _| d.full_apply_ratio = 0.90,
        |_, d, _| d.full_apply_ratio = 0.899,
    );
    check(
        "delta.signature_stuck_count",
        true,
        |_, d, _| d.signature_stuck_count = 1,
        |_, d, _| d.signature_stuck_count = 2,
    );
    check(
        "delta.fail_count",
        true,
        |_, d, _| d.fail_count = 0,
        |_, d, _| d.fail_count = 1,
    );
    check(
        "delta.journal_chain_breaks",
        true,
        |_, _, b| *b = 0,
        |_, _, b| *b = 1,
    );
}

/// A run that did not complete what it was asked for fails, whatever its
/// window; a directory without a run record has no such criterion.
/// Issue 14: a p95 failure whose latency floor (round trips as if sent with
/// nothing else in flight) is above the target by itself is classed
/// environment-bound, in the JSON and the text; a floor under the target,
/// or a p95 that passes, is not.
#[test]
fn a_latency_failure_with_the_floor_above_the_target_is_environment_bound() {
    let policy = GatePolicy::default();
    let mm = |v: f64| MeanMedian { mean: v, median: v };
    let latency = |p95: f64, floor: Option<f64>| {
        let (mut s, d) = passing();
        s.kpi_last8.p95_latency_ms = mm(p95);
        s.kpi_last8.latency_floor_ms = floor.map(mm);
        let r = judge(&s, &d, 0, None, &policy, true);
        r.criteria
            .into_iter()
            .find(|c| c.name.as_str() == "kpi.p95_latency_ms_mean")
            .expect("the latency criterion")
    };
    let c = latency(369.7, Some(365.2));
    assert!(!c.ok);
    assert_eq!(c.class, Some(FailureClass::EnvironmentBound));
    assert_eq!(c.latency_floor_ms, Some(365.2));
    assert!(
        c.describe()
            .contains("[environment-bound: the latency floor (365.2 ms"),
        "{}",
        c.describe()
    );
    let json = serde_json::to_value(&c).expect("json");
    assert_eq!(json["class"], "environment-bound");
    assert_eq!(json["latency_floor_ms"], 365.2);
    // The bot's own doing: the floor is under the target.
    let c = latency(369.7, Some(320.0));
    assert_eq!((c.ok, c.class, c.latency_floor_ms), (false, None, None));
    // No floor reported, or a passing p95: nothing to class.
    assert_eq!(latency(369.7, None).class, None);
    assert_eq!(latency(330.0, Some(345.0)).class, None);
    let json = serde_json::to_value(latency(369.7, None)).expect("json");
    assert!(json.get("class").is_none() && json.get("latency_floor_ms").is_none());
}

#[test]
fn an_unfinished_run_fails_the_gate() {
    let (s, d) = passing();
    let policy = GatePolicy::default();
    let completion = |completed| {
        Some(RunCompletion {
            requested: 24,
            completed,
        })
    };
    let r = judge(&s, &d, 0, completion(9), &policy, true);
    assert_eq!(r.verdict, GateVerdict::Fail);
    let failed: Vec<String> = r.failed().map(Criterion::describe).collect();
    assert_eq!(failed, ["run.completed_iterations: 9 (target >= 24)"]);
    let r = judge(&s, &d, 0, completion(24), &policy, true);
    assert_eq!(r.verdict, GateVerdict::Pass);
    assert_eq!(r.criteria[0].name, CriterionId::RunCompletedIterations);
    let r = judge(&s, &d, 0, None, &policy, true);
    assert_eq!(r.verdict, GateVerdict::Pass);
    assert!(r.criteria.iter().all(|c| c.group() != CriterionGroup::Run));
}

#[test]
fn gate_json_lets_a_verdict_be_recomputed() {
    let (s, d) = passing();
    let r = judge(&s, &d, 0, None, &GatePolicy::default(), false);
    let v: Value = serde_json::from_str(&r.to_json()).expect("json");
    assert_eq!(v["verdict"], "PASS");
    let c = &v["criteria"][0];
    assert_eq!(
        (
            c["name"].as_str(),
            c["op"].as_str(),
            c["target"].as_f64(),
            c["ok"].as_bool()
        ),
        (
            Some("kpi.maker_taker_ratio_mean"),
            Some(">="),
            Some(0.85),
            Some(true)
        )
    );
    assert_eq!(v["criteria"].as_array().map(Vec::len), Some(12));
    let back: mmsoak_gate::GateReport = serde_json::from_value(v).expect("round trip");
    assert_eq!(back, r);
}

#[test]
fn nothing_proposed_passes_the_delta_criteria() {
    let good = kpis(0.3, 0.9, 3.0, 250.0);
    let mut plans: Vec<IterationPlan> = (0..8)
        .map(|_| IterationPlan::new(good, PlanStep::Nothing))
        .collect();
    plans[6].freeze_triggered = true;
    let dir = tempfile::tempdir().expect("temp dir");
    write_run(dir.path(), &plans).expect("write");
    let run = gate_dir(dir.path(), &GatePolicy::default(), Threshold::Strict).expect("gate");
    assert_eq!(run.report.delta.proposed_count, 0);
    assert_eq!(
        run.report.verdict,
        GateVerdict::Pass,
        "{:#?}",
        run.report.failed().collect::<Vec<_>>()
    );
}

#[test]
fn comparison_against_a_baseline_snapshot_file() {
    let (current, _) = passing();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("baseline.json");
    let mut base = current.clone();
    base.kpi_last8.net_bps.mean = 2.8;
    base.kpi_last8.p95_latency_ms.mean = 250.0;
    base.kpi_last8.risk_ratio.mean = 0.25;
    std::fs::write(&file, base.to_json(true)).expect("write");
    let baseline = read_baseline(&file).expect("baseline");
    let c = compare(&current.kpi_last8, &baseline);
    insta::assert_snapshot!("comparison", c.render_text());
    std::fs::write(&file, b"{\"kpi_last8\": {\"net_bps\": {\"mean\": null}}}").expect("write");
    let err = read_baseline(&file).expect_err("bad baseline");
    assert!(
        err.to_string().contains("kpi_last8.maker_taker_ratio"),
        "{err}"
    );

    // Not a snapshot of schema 1.1, unknown keys, impossible values.
    let good: Value = serde_json::from_str(&base.to_json(true)).expect("json");
    let spoiled = |edit: &dyn Fn(&mut Value)| {
        let mut v = good.clone();
        edit(&mut v);
        std::fs::write(&file, v.to_string()).expect("write");
        read_baseline(&file)
            .expect_err("spoiled baseline")
            .to_string()
    };
    for (edit, expect) in [
        (
            &(|v: &mut Value| v["schema_version"] = "9.9".into()) as &dyn Fn(&mut Value),
            "`schema_version` is \"9.9\"; a baseline is a POST_SOAK_SNAPSHOT.json of schema \"1.1\"",
        ),
        (&|v| v["extra"] = 1.into(), "`extra` is not a known key"),
        (
            &|v| v["kpi_last8"]["net_bps"]["p50"] = 1.into(),
            "`kpi_last8.net_bps.p50` is not a known key",
        ),
        (
            &|v| v["kpi_last8"]["risk_ratio"]["mean"] = (-0.2).into(),
            "kpi_last8.risk_ratio.mean",
        ),
        (
            &|v| v["kpi_last8"]["p95_latency_ms"]["median"] = (-1.0).into(),
            "kpi_last8.p95_latency_ms.median",
        ),
    ] {
        let err = spoiled(edit);
        assert!(
            err.contains(expect) && err.contains("baseline.json"),
            "{expect}: {err}"
        );
    }
}

// ---- the files, reviewed by eye ----

/// A hand-built 10-iteration run: warm-up, applies, a velocity skip, a freeze at 8.
fn fixture_run() -> tempfile::TempDir {
    let velocity = SkipFlags {
        velocity: true,
        ..SkipFlags::default()
    };
    let plans = vec![
        IterationPlan::new(
            kpis(0.55, 0.70, 1.9, 310.0),
            PlanStep::Apply(vec![DeltaOp::new(Param::MinIntervalMs, Delta::Add(5.0))]),
        ),
        IterationPlan::new(
            kpis(0.47, 0.78, 2.4, 300.0),
            PlanStep::Apply(vec![DeltaOp::new(Param::ImpactCapRatio, Delta::Add(-0.01))]),
        ),
        IterationPlan::new(
            kpis(0.41, 0.84, 2.8, 280.0),
            PlanStep::Blocked(
                vec![DeltaOp::new(Param::TailAgeMs, Delta::Add(30.0))],
                velocity,
            ),
        ),
        IterationPlan::new(
            kpis(0.38, 0.86, 2.9, 270.0),
            PlanStep::Apply(vec![DeltaOp::new(
                Param::ConcurrencyLimit,
                Delta::Scale(0.9),
            )]),
        ),
        IterationPlan::new(kpis(0.35, 0.87, 3.0, 262.5), PlanStep::Nothing),
        IterationPlan::new(
            kpis(0.33, 0.85, 3.1, 255.0),
            PlanStep::Apply(vec![DeltaOp::new(Param::TailAgeMs, Delta::Add(50.0))]),
        ),
        IterationPlan::new(kpis(0.31, 0.88, 3.2, 250.0), PlanStep::Nothing),
        IterationPlan {
            kpis: kpis(0.30, 0.89, 3.3, 245.0),
            step: PlanStep::Blocked(
                vec![DeltaOp::new(Param::MinIntervalMs, Delta::Add(-3.0))],
                FREEZE,
            ),
            freeze_triggered: true,
        },
        IterationPlan::new(
            kpis(0.30, 0.90, 3.3, 240.0),
            PlanStep::Blocked(
                vec![DeltaOp::new(Param::MinIntervalMs, Delta::Add(-3.0))],
                FREEZE,
            ),
        ),
        IterationPlan::new(kpis(0.29, 0.90, 3.4, 238.0), PlanStep::Nothing),
    ];
    let dir = tempfile::tempdir().expect("temp dir");
    write_run(dir.path(), &plans).expect("write");
    dir
}

#[test]
fn snapshot_json_and_prometheus_snapshots() {
    let dir = fixture_run();
    let run = gate_dir(dir.path(), &GatePolicy::default(), Threshold::Default).expect("gate");
    let standalone = snapshot_dir(dir.path(), &SnapshotPolicy::default()).expect("snapshot");
    assert_eq!(run.report.snapshot, standalone, "gate and snapshot agree");
    let compact = standalone.to_json(false);
    assert!(compact.ends_with("}\n") && !compact.contains(' '));
    let back: PostSoakSnapshot = serde_json::from_str(&compact).expect("parses back");
    assert_eq!(back, standalone);
    insta::assert_snapshot!("post_soak_snapshot", standalone.to_json(true));
    let run_meta = RunMeta {
        driver: Some("sim".into()),
        scenario: Some("default".into()),
        seed: Some(7),
        policy_hash: Some("0123456789abcdef".into()),
        ..RunMeta::default()
    };
    insta::assert_snapshot!(
        "post_soak_metrics",
        render_prometheus(&run.report, &run_meta)
    );
}

#[test]
fn promtool_accepts_the_metrics_when_installed() {
    let Ok(out) = std::process::Command::new("promtool")
        .arg("--version")
        .output()
    else {
        eprintln!("promtool not on PATH: check skipped");
        return;
    };
    assert!(out.status.success());
    let dir = fixture_run();
    let run = gate_dir(dir.path(), &GatePolicy::default(), Threshold::Default).expect("gate");
    let text = render_prometheus(&run.report, &RunMeta::default());
    let mut child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn promtool");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(text.as_bytes()).expect("write to promtool");
    }
    let out = child.wait_with_output().expect("promtool runs");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && said.trim().is_empty(),
        "promtool: {said}"
    );
}

#[test]
fn every_family_has_one_help_and_one_type() {
    let dir = fixture_run();
    let run = gate_dir(dir.path(), &GatePolicy::default(), Threshold::Default).expect("gate");
    let text = render_prometheus(&run.report, &RunMeta::default());
    let mut helps = std::collections::BTreeSet::new();
    let mut types = std::collections::BTreeSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            assert!(
                helps.insert(rest.split(' ').next().expect("name").to_owned()),
                "{line}"
            );
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            assert!(
                types.insert(rest.split(' ').next().expect("name").to_owned()),
                "{line}"
            );
        } else {
            let name = line.split(['{', ' ']).next().expect("name");
            assert!(types.contains(name), "sample before its TYPE: {line}");
        }
    }
    assert_eq!(helps, types);
    assert!(text.contains("mmsoak_gate_verdict{verdict=\"PASS\"} 1\n"));
    assert!(text.contains("mmsoak_gate_verdict{verdict=\"FAIL\"} 0\n"));
}

#[test]
fn reader_threads_do_not_change_the_gate() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_run(dir.path(), &mmsoak_verify::testing::generated_plans(250)).expect("run");
    let policy = GatePolicy::default();
    let registry = mmsoak_core::ParamRegistry::default();
    let run = |threads| {
        let opened = mmsoak_verify::ArtifactDir::open(dir.path())
            .expect("opens")
            .with_reader_threads(threads);
        mmsoak_gate::gate(&opened, &policy, Threshold::Strict, &registry).expect("gates")
    };
    let serial = run(1);
    assert_eq!(serial.report.verdict, GateVerdict::Pass);
    // The one-pass snapshot is the one taken alone from the last 8 summaries.
    assert_eq!(
        serial.report.snapshot,
        snap(dir.path()),
        "gate and snapshot disagree"
    );
    for threads in [2, 3] {
        let parallel = run(threads);
        assert_eq!(parallel, serial, "{threads} threads");
        assert_eq!(parallel.report.to_json(), serial.report.to_json());
        assert_eq!(
            render_prometheus(&parallel.report, &RunMeta::default()),
            render_prometheus(&serial.report, &RunMeta::default())
        );
    }
}

/// A finding in the predecessor's runtime files makes a passing gate WARN,
/// and is kept in the report by name.
#[test]
fn a_finding_in_the_predecessors_files_makes_the_gate_warn() {
    let (s, d) = passing();
    let doc = serde_json::json!({"impact_cap_ratio": 0.1, "risk": {"impact_cap_ratio": -0.01}});
    let (_, findings) = mmsoak_core::RuntimeOverrides::from_predecessor_document(
        Path::new("runtime_overrides.json"),
        doc,
    )
    .expect("reads");
    assert_eq!(findings.len(), 2);
    let inputs = GateInputs {
        snapshot: &s,
        delta: &d,
        journal_chain_breaks: 0,
        completion: None,
        incomplete_iterations: 0,
        findings: &findings,
    };
    let report = evaluate(&inputs, &GatePolicy::default(), Threshold::Default);
    assert_eq!(report.verdict, GateVerdict::Warn);
    assert!(report.failed().next().is_none());
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).expect("json");
    assert_eq!(json["findings"][0]["other_path"], "risk.impact_cap_ratio");
    // Without them, the same inputs pass.
    let clean = evaluate(
        &GateInputs {
            findings: &[],
            ..inputs
        },
        &GatePolicy::default(),
        Threshold::Default,
    );
    assert_eq!(clean.verdict, GateVerdict::Pass);
}
