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
