//! The predecessor's artifact directories (fixtures/legacy, written by hand
//! from its format description, legacy-formats.md, which is kept outside
//! this repository; docs/formats.md restates what we rely on), and where
//! our answer differs from its own.

use std::path::PathBuf;

use mmsoak_core::Param;
use mmsoak_verify::{verify_dir, ArtifactDir, DeltaMetrics, PairClass, PairProblem, RecordedSkip};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/legacy")
        .join(name)
}

#[track_caller]
fn check(name: &str, classes: &[PairClass], metrics: DeltaMetrics) {
    let report = verify_dir(&fixture(name)).expect("legacy directory verifies");
    assert!(!report.written_by_mmsoak);
    assert!(report.journal.is_none());
    let got: Vec<PairClass> = report.pairs.iter().map(|p| p.class).collect();
    assert_eq!(got, classes, "{name}: {:#?}", report.pairs);
    assert_eq!(report.metrics, metrics, "{name}");
}

fn metrics(
    full: u64,
    partial: u64,
    fail: u64,
    stuck: u64,
    ratio: f64,
    strict: f64,
) -> DeltaMetrics {
    DeltaMetrics {
        full_apply_ratio: ratio,
        full_apply_count: full,
        partial_ok_count: partial,
        fail_count: fail,
        signature_stuck_count: stuck,
        proposed_count: full + partial + fail,
        strict_apply_ratio: strict,
    }
}

use PairClass::*;

#[test]
fn clean_run_two_applies_and_a_no_op() {
    check(
        "clean_run",
        &[FullApply, PartialOk, FullApply],
        metrics(2, 1, 0, 0, 1.0, 1.0),
    );
}

#[test]
fn guard_skips_signature_field_and_flat_plus_nested_runtime() {
    check(
        "guard_skips",
        &[FullApply, PartialOk, Fail, PartialOk],
        metrics(1, 2, 1, 0, 0.75, 0.5),
    );
    let report = verify_dir(&fixture("guard_skips")).expect("verifies");
    assert_eq!(
        report.pairs[2].problems,
        [PairProblem::NotAppliedWithoutGuard {
            skip_reason: "no_runtime_path".into()
        }]
    );
    // Guard skips carry null hashes: nothing to compare.
    assert_eq!(report.pairs[1].hash_changed, None);
    let dir = ArtifactDir::open(&fixture("guard_skips")).expect("opens");
    let s1 = dir.read_summary(1).expect("reads");
    assert!(
        s1.tuning.state_hash.is_some(),
        "`signature` stands in for state_hash"
    );
    let s4 = dir.read_summary(4).expect("reads");
    assert!(
        matches!(&s4.tuning.skip_reason, RecordedSkip::Guards(f, note) if f.cooldown && note == "cooldown 2 iters left")
    );
}

#[test]
fn where_the_predecessor_said_full_apply() {
    check(
        "predecessor_said_full_apply",
        &[Fail, Fail, Fail],
        metrics(0, 0, 3, 1, 0.0, 0.0),
    );
    let report = verify_dir(&fixture("predecessor_said_full_apply")).expect("verifies");
    // It stored the delta itself as the value: the key exists, the value is wrong.
    assert_eq!(
        report.pairs[0].problems,
        [PairProblem::ParamMismatch {
            param: Param::MinIntervalMs,
            before: 60.0,
            expected: 65.0,
            observed: 5.0
        }]
    );
    assert!(report.pairs[1].signature_stuck);
    assert!(matches!(
        report.pairs[2].problems[..],
        [PairProblem::NotAppliedWithoutGuard { .. }]
    ));
}

#[test]
fn runtime_from_the_parent_directory() {
    check(
        "runtime_in_parent/latest",
        &[PartialOk, PartialOk],
        metrics(0, 2, 0, 0, 1.0, 1.0),
    );
    let dir = ArtifactDir::open(&fixture("runtime_in_parent/latest")).expect("opens");
    let s = dir.read_summary(1).expect("reads");
    let runtime = s.runtime.expect("from ../runtime_overrides.json");
    assert_eq!(runtime.overrides.get(Param::MinIntervalMs), Some(60.0));
}

/// A directory laid out as the predecessor writes it after an apply: its
/// `runtime_overrides.json` (beside `latest/`) holds the flat keys its bot
/// read, unchanged, and the nested keys its apply wrote the raw deltas to
/// (`risk.base_spread_bps_delta` 0.020000000000000004, `risk.impact_cap_ratio`
/// −0.0099…). The flat values are read as the values in force; each
/// disagreement and the impossible negative ratio are findings; the pair
/// whose deltas never reached the bot fails.
#[test]
fn the_predecessors_flat_and_nested_disagreement_is_a_finding_not_a_refusal() {
    let report = verify_dir(&fixture("nested_flat_disagree/latest")).expect("verifies");
    let classes: Vec<PairClass> = report.pairs.iter().map(|p| p.class).collect();
    assert_eq!(classes, [PartialOk, PartialOk, PairClass::Fail]);
    let text: Vec<String> = report.findings.iter().map(|f| f.to_string()).collect();
    assert_eq!(text.len(), 3, "{text:#?}");
    assert!(
        text[0].ends_with(
            "runtime_overrides.json: `base_spread_bps_delta` is 0.05 but `risk.base_spread_bps_delta` is 0.020000000000000004; read `base_spread_bps_delta` as the value in force (what the predecessor's bot read)"
        ),
        "{text:#?}"
    );
    assert!(text[1].contains(
        "`impact_cap_ratio` is 0.1 but `risk.impact_cap_ratio` is -0.009999999999999995"
    ));
    assert!(text[2].ends_with(
        "`risk.impact_cap_ratio` is -0.009999999999999995: -0.009999999999999995 is not above 0, as impact_cap_ratio must be"
    ));
    // The deltas of iteration 3 never reached the flat keys its bot read.
    let failed = &report.pairs[2];
    assert!(
        failed.problems.iter().any(|p| p
            .describe()
            .contains("base_spread_bps_delta: before 0.05, expected 0.07, observed 0.05")),
        "{:#?}",
        failed.problems
    );
    // Both outputs carry them.
    let json: serde_json::Value = serde_json::from_str(&report.metrics_json()).expect("json");
    assert_eq!(json["findings"][2]["kind"], "impossible");
    assert_eq!(json["full_apply_ratio"], 0.667);
    let md = mmsoak_verify::render_markdown(&report, 0.6);
    assert!(
        md.contains("## Findings in the predecessor's files"),
        "{md}"
    );
    assert!(
        md.contains("3 finding(s) in the predecessor's files."),
        "{md}"
    );
}

/// mmsoak's own summaries keep the strict reading: two places that disagree
/// are refused, naming both.
#[test]
fn disagreeing_places_in_an_mmsoak_summary_are_still_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let summary = |i: u64| {
        serde_json::json!({
            "schema": "mmsoak.iter_summary.v1",
            "iteration": i,
            "runtime_overrides": {"base_spread_bps_delta": 0.05, "risk": {"base_spread_bps_delta": 0.02}},
            "summary": {"net_bps": 3.0},
            "tuning": {"proposed_deltas": {}, "applied": false}
        })
    };
    for i in 1..=2 {
        std::fs::write(
            dir.path().join(format!("ITER_SUMMARY_{i}.json")),
            summary(i).to_string(),
        )
        .expect("write");
    }
    std::fs::write(
        dir.path().join("TUNING_REPORT.json"),
        r#"{"iterations": [{}, {}]}"#,
    )
    .expect("write");
    let err = verify_dir(dir.path()).expect_err("refused");
    let msg = mmsoak_core::ErrorChain(&err).to_string();
    assert!(msg.contains("the two places disagree"), "{msg}");
}
