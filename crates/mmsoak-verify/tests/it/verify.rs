//! Integration tests of the verifier on runs in mmsoak's format.

use std::path::{Path, PathBuf};

use mmsoak_core::{Delta, DeltaOp, Param};
use mmsoak_verify::testing::{generated_plans, write_run, IterationPlan, PlanKpis, PlanStep};
use mmsoak_verify::{
    render_markdown, verify_dir, ArtifactDir, ArtifactError, PairClass, PairProblem, SkipFlags,
    VerifyVerdict, STRICT_THRESHOLD,
};
use serde_json::Value;

fn run(plans: &[IterationPlan]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    write_run(dir.path(), plans).expect("write run");
    dir
}

fn summary_path(dir: &Path, i: u64) -> PathBuf {
    dir.join(format!("ITER_SUMMARY_{i}.json"))
}

/// Edit one ITER_SUMMARY in place.
fn edit(dir: &Path, i: u64, f: impl FnOnce(&mut Value)) {
    let path = summary_path(dir, i);
    let mut doc: Value =
        serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
    f(&mut doc);
    std::fs::write(&path, serde_json::to_vec(&doc).expect("serialize")).expect("write");
}

fn apply(ops: Vec<DeltaOp>) -> IterationPlan {
    IterationPlan::new(PlanKpis::GOOD, PlanStep::Apply(ops))
}

fn add(param: Param, x: f64) -> DeltaOp {
    DeltaOp::new(param, Delta::Add(x))
}

fn blocked(ops: Vec<DeltaOp>, flags: SkipFlags) -> IterationPlan {
    IterationPlan::new(PlanKpis::GOOD, PlanStep::Blocked(ops, flags))
}

fn nothing() -> IterationPlan {
    IterationPlan::new(PlanKpis::GOOD, PlanStep::Nothing)
}

const VELOCITY: SkipFlags = SkipFlags {
    freeze: false,
    oscillation: false,
    velocity: true,
    cooldown: false,
    no_op: false,
    final_iteration: false,
};

#[test]
fn each_classification_on_a_clean_run() {
    let dir = run(&[
        apply(vec![
            add(Param::MinIntervalMs, 5.0),
            add(Param::TailAgeMs, 30.0),
        ]), // 1→2 full_apply
        blocked(vec![add(Param::MinIntervalMs, 5.0)], VELOCITY), // 2→3 partial_ok
        nothing(),                                               // 3→4 no proposal
        apply(vec![add(Param::MinIntervalMs, 500.0)]),           // 4→5 clamped: full_apply
        apply(vec![add(Param::MinIntervalMs, 5.0)]), // 5→6 at the cap: no-op → partial_ok
        apply(vec![add(Param::ImpactCapRatio, -0.01)]), // 6→7 full_apply (0.1 - 0.01 = 0.09 exactly)
        apply(vec![add(Param::TailAgeMs, 10.0)]),       // last: final_iteration, no pair
    ]);
    let report = verify_dir(dir.path()).expect("verifies");
    let classes: Vec<PairClass> = report.pairs.iter().map(|p| p.class).collect();
    use PairClass::*;
    assert_eq!(
        classes,
        [FullApply, PartialOk, NoProposal, FullApply, PartialOk, FullApply]
    );
    let m = report.metrics;
    assert_eq!(
        (
            m.full_apply_count,
            m.partial_ok_count,
            m.fail_count,
            m.signature_stuck_count,
            m.proposed_count
        ),
        (3, 2, 0, 0, 5)
    );
    assert_eq!((m.full_apply_ratio, m.strict_apply_ratio), (1.0, 1.0));
    assert!(
        report
            .journal
            .as_ref()
            .is_some_and(|j| j.is_intact() && j.commits == 3),
        "{:?}",
        report.journal
    );
    assert_eq!(report.verdict(STRICT_THRESHOLD), VerifyVerdict::Pass);
    assert!(report.pairs[4].guards.no_op);
}

fn three_applies() -> tempfile::TempDir {
    run(&[
        apply(vec![add(Param::MinIntervalMs, 5.0)]),
        apply(vec![add(Param::TailAgeMs, 30.0)]),
        apply(vec![add(Param::ConcurrencyLimit, -1.0)]),
        nothing(),
    ])
}

/// The final runtime file must hold the state the journal's chain ends at:
/// edited, it is a chain break naming it; removed, too; unreadable, an
/// error naming it.
#[test]
fn a_runtime_file_changed_after_the_last_commit_breaks_the_chain() {
    let dir = three_applies();
    let report = verify_dir(dir.path()).expect("verify");
    assert_eq!(report.journal_breaks(), 0);
    assert_eq!(report.verdict(STRICT_THRESHOLD), VerifyVerdict::Pass);

    let file = dir.path().join("runtime_overrides.json");
    let text = std::fs::read_to_string(&file).expect("runtime");
    let mut doc: Value = serde_json::from_str(&text).expect("json");
    doc["engine"]["concurrency_limit"] = Value::from(64);
    std::fs::write(&file, doc.to_string()).expect("edit");
    let report = verify_dir(dir.path()).expect("verify");
    assert_eq!(report.journal_breaks(), 1);
    assert_eq!(report.verdict(STRICT_THRESHOLD), VerifyVerdict::Fail);
    let journal = report.journal.as_ref().expect("journal");
    let mismatch = journal.runtime_mismatch.as_ref().expect("mismatch");
    assert_eq!(mismatch.file, file);
    assert_eq!(Some(mismatch.expected), journal.head);
    assert!(mismatch.found.is_some_and(|h| h != mismatch.expected));
    let md = render_markdown(&report, STRICT_THRESHOLD);
    assert!(
        md.contains("it was changed outside mmsoak") && md.contains("journal chain broken"),
        "{md}"
    );

    std::fs::write(&file, r#"{"risk":"#).expect("truncate");
    let err = verify_dir(dir.path()).expect_err("truncated");
    assert!(
        err.to_string().contains("runtime_overrides.json"),
        "names the file: {err}"
    );

    std::fs::remove_file(&file).expect("remove");
    let report = verify_dir(dir.path()).expect("verify");
    assert_eq!(report.journal_breaks(), 1);
    let journal = report.journal.as_ref().expect("journal");
    assert_eq!(
        journal.runtime_mismatch.as_ref().expect("mismatch").found,
        None
    );

    std::fs::write(&file, text).expect("restore");
    assert_eq!(verify_dir(dir.path()).expect("verify").journal_breaks(), 0);
}

/// A run stopped between writing the runtime file and committing it ends
/// its journal with an `intent`: the file may hold the intent's state
/// (run --resume completes the commit), and that is no break.
#[test]
fn a_trailing_intent_accepts_the_state_it_leads_to() {
    let dir = three_applies();
    let journal = dir.path().join("APPLY_JOURNAL.jsonl");
    let text = std::fs::read_to_string(&journal).expect("journal");
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let last_commit = lines
        .iter()
        .rposition(|l| l.contains("\"commit\""))
        .expect("a commit");
    lines[last_commit] = lines[last_commit].replace("\"commit\"", "\"intent\"");
    lines.truncate(last_commit + 1);
    std::fs::write(&journal, lines.join("\n") + "\n").expect("write");
    let report = verify_dir(dir.path()).expect("verify");
    let check = report.journal.as_ref().expect("journal");
    assert!(check.pending.is_some() && check.pending != check.head);
    assert_eq!(report.journal_breaks(), 0, "{:?}", check.runtime_mismatch);

    // Neither the chain's state nor the intent's: changed outside mmsoak.
    let file = dir.path().join("runtime_overrides.json");
    std::fs::write(&file, r#"{"engine":{"concurrency_limit":5}}"#).expect("edit");
    assert_eq!(verify_dir(dir.path()).expect("verify").journal_breaks(), 1);
}

#[test]
fn signature_stuck_counts_as_fail_and_stuck() {
    let dir = three_applies();
    edit(dir.path(), 2, |d| {
        d["tuning"]["state_hash"] = d["tuning"]["old_hash"].clone()
    });
    let report = verify_dir(dir.path()).expect("verifies");
    let pair = &report.pairs[1];
    assert_eq!(pair.class, PairClass::Fail);
    assert!(pair.signature_stuck);
    assert_eq!(pair.hash_changed, Some(false));
    assert!(matches!(
        pair.problems[0],
        PairProblem::SignatureStuck { .. }
    ));
    assert_eq!(
        (
            report.metrics.fail_count,
            report.metrics.signature_stuck_count
        ),
        (1, 1)
    );
    // 2 of 3 proposing pairs are clean.
    assert_eq!(report.metrics.full_apply_ratio, 0.667);
    assert_eq!(report.metrics.strict_apply_ratio, 0.667);
    assert_eq!(report.verdict(STRICT_THRESHOLD), VerifyVerdict::Fail);
    assert_eq!(report.verdict(0.60), VerifyVerdict::Pass);
}

#[test]
fn an_applied_change_missing_from_the_next_runtime_is_a_fail_naming_before_expected_observed() {
    let dir = three_applies();
    // Iteration 2 runs with min_interval_ms 60 although 1 applied 60 → 65;
    // its old_hash still claims the applied state.
    edit(dir.path(), 2, |d| {
        d["runtime_overrides"]["engine"]["min_interval_ms"] = 60.into()
    });
    let report = verify_dir(dir.path()).expect("verifies");
    let pair = &report.pairs[0];
    assert_eq!(pair.class, PairClass::Fail);
    assert!(!pair.signature_stuck);
    assert!(pair.problems.contains(&PairProblem::ParamMismatch {
        param: Param::MinIntervalMs,
        before: 60.0,
        expected: 65.0,
        observed: 60.0
    }));
    assert!(pair
        .problems
        .iter()
        .any(|p| matches!(p, PairProblem::RuntimeHashMismatch { .. })));
    assert_eq!(
        report.problematic_params().get(&Param::MinIntervalMs),
        Some(&1)
    );
}

#[test]
fn a_broken_hash_chain_between_p_and_c_is_a_fail() {
    let dir = three_applies();
    edit(dir.path(), 3, |d| {
        d["tuning"]["old_hash"] = Value::from("ab".repeat(32))
    });
    let report = verify_dir(dir.path()).expect("verifies");
    assert_eq!(report.pairs[1].class, PairClass::Fail);
    assert!(report.pairs[1]
        .problems
        .iter()
        .any(|p| matches!(p, PairProblem::ChainBroken { .. })));
    // The change itself is visible, so only the hashes are wrong.
    assert!(!report.pairs[1]
        .problems
        .iter()
        .any(|p| matches!(p, PairProblem::ParamMismatch { .. })));
}

#[test]
fn a_skip_without_a_guard_flag_is_a_fail_even_if_nothing_changed() {
    let dir = run(&[
        blocked(vec![add(Param::TailAgeMs, 30.0)], VELOCITY),
        nothing(),
    ]);
    edit(dir.path(), 1, |d| {
        d["tuning"]["skip_reason"] = Value::from("");
        d["tuning"]["velocity_violation"] = Value::from(false);
    });
    let report = verify_dir(dir.path()).expect("verifies");
    assert_eq!(report.pairs[0].class, PairClass::Fail);
    assert_eq!(
        report.pairs[0].problems,
        [PairProblem::NotAppliedWithoutGuard {
            skip_reason: "\"\"".into()
        }]
    );
}

#[test]
fn the_tuning_level_guard_flag_alone_explains_a_skip() {
    let dir = run(&[
        blocked(vec![add(Param::TailAgeMs, 30.0)], VELOCITY),
        nothing(),
    ]);
    edit(dir.path(), 1, |d| d["tuning"]["skip_reason"] = Value::Null); // velocity_violation stays true
    let report = verify_dir(dir.path()).expect("verifies");
    assert_eq!(report.pairs[0].class, PairClass::PartialOk);
}

#[test]
fn a_guarded_skip_whose_values_changed_anyway_is_a_fail() {
    let dir = run(&[
        blocked(vec![add(Param::TailAgeMs, 30.0)], VELOCITY),
        nothing(),
    ]);
    edit(dir.path(), 2, |d| {
        d["runtime_overrides"]["engine"]["tail_age_ms"] = 630.into()
    });
    let report = verify_dir(dir.path()).expect("verifies");
    assert_eq!(report.pairs[0].class, PairClass::Fail);
    assert!(report.pairs[0]
        .problems
        .contains(&PairProblem::ParamMismatch {
            param: Param::TailAgeMs,
            before: 600.0,
            expected: 600.0,
            observed: 630.0
        }));
}

#[test]
fn nothing_proposed_gives_ratio_one() {
    let dir = run(&[nothing(), nothing(), nothing()]);
    let report = verify_dir(dir.path()).expect("verifies");
    assert_eq!(report.metrics.proposed_count, 0);
    assert_eq!(
        (
            report.metrics.full_apply_ratio,
            report.metrics.strict_apply_ratio
        ),
        (1.0, 1.0)
    );
    assert_eq!(report.verdict(STRICT_THRESHOLD), VerifyVerdict::Pass);
}

#[test]
fn a_broken_journal_fails_the_verdict() {
    let dir = three_applies();
    let path = dir.path().join("APPLY_JOURNAL.jsonl");
    let text = std::fs::read_to_string(&path).expect("journal");
    let mut lines: Vec<&str> = text.lines().collect();
    let first_commit = lines
        .iter()
        .position(|l| l.contains("\"commit\""))
        .expect("a commit");
    lines.remove(first_commit); // the second commit no longer chains
    std::fs::write(&path, lines.join("\n")).expect("write");
    let report = verify_dir(dir.path()).expect("verifies");
    assert_eq!(report.metrics.fail_count, 0);
    assert_eq!(report.journal_breaks(), 1);
    assert_eq!(report.verdict(0.0), VerifyVerdict::Fail);
}

#[test]
fn metrics_json_uses_the_legacy_names() {
    let dir = three_applies();
    let report = verify_dir(dir.path()).expect("verifies");
    let v: Value = serde_json::from_str(&report.metrics_json()).expect("json");
    for key in [
        "full_apply_ratio",
        "full_apply_count",
        "partial_ok_count",
        "fail_count",
        "signature_stuck_count",
        "proposed_count",
        "strict_apply_ratio",
    ] {
        assert!(v.get(key).is_some(), "{key}");
    }
    assert_eq!(v["proposed_count"], 3);
}

#[test]
fn generated_runs_verify_clean() {
    let dir = run(&generated_plans(100));
    let report = verify_dir(dir.path()).expect("verifies");
    assert_eq!(report.pairs.len(), 99);
    assert_eq!(
        report.metrics.fail_count,
        0,
        "{:?}",
        report.failures().next()
    );
    assert!(
        report.metrics.full_apply_count > 30 && report.metrics.partial_ok_count > 20,
        "{:?}",
        report.metrics
    );
    let size = std::fs::metadata(summary_path(dir.path(), 50))
        .expect("file")
        .len();
    assert!(
        (2_500..8_000).contains(&size),
        "ITER_SUMMARY is {size} bytes"
    );
}

// ---- bad input: each names the file and, where there is one, the field ----

#[track_caller]
fn check_error(dir: &Path, file: &str, field: Option<&str>, contains: &str) {
    let err = verify_dir(dir).expect_err("bad input must be an error");
    let msg = mmsoak_core::ErrorChain(&err).to_string();
    assert!(err.file().ends_with(file), "{msg}: file {:?}", err.file());
    assert_eq!(err.field_path(), field, "{msg}");
    assert!(msg.contains(file) && msg.contains(contains), "{msg}");
}

#[test]
fn truncated_and_non_json_summaries() {
    let dir = three_applies();
    let path = summary_path(dir.path(), 2);
    let bytes = std::fs::read(&path).expect("read");
    std::fs::write(&path, &bytes[..bytes.len() / 2]).expect("truncate");
    check_error(dir.path(), "ITER_SUMMARY_2.json", None, "invalid JSON");
    std::fs::write(&path, b"<html>502 Bad Gateway</html>").expect("write");
    check_error(dir.path(), "ITER_SUMMARY_2.json", None, "invalid JSON");
    std::fs::write(&path, b"[1, 2]").expect("write");
    check_error(
        dir.path(),
        "ITER_SUMMARY_2.json",
        Some("$"),
        "should be an object",
    );
}

#[test]
fn empty_directory_and_missing_tuning_report() {
    let dir = tempfile::tempdir().expect("temp dir");
    let err = verify_dir(dir.path()).expect_err("empty");
    assert!(matches!(err, ArtifactError::NoIterations { .. }), "{err}");
    assert!(err.to_string().contains("no ITER_SUMMARY"), "{err}");
    let dir = three_applies();
    std::fs::remove_file(dir.path().join("TUNING_REPORT.json")).expect("rm");
    check_error(dir.path(), "TUNING_REPORT.json", None, "missing");
    std::fs::write(dir.path().join("TUNING_REPORT.json"), b"{\"iterations\": [").expect("write");
    check_error(dir.path(), "TUNING_REPORT.json", None, "invalid JSON");
    std::fs::write(
        dir.path().join("TUNING_REPORT.json"),
        b"{\"iterations\": 3}",
    )
    .expect("write");
    check_error(
        dir.path(),
        "TUNING_REPORT.json",
        Some("iterations"),
        "should be a list",
    );
}

#[test]
fn a_gap_names_the_missing_file() {
    let dir = three_applies();
    std::fs::remove_file(summary_path(dir.path(), 2)).expect("rm");
    let err = verify_dir(dir.path()).expect_err("gap");
    assert!(
        matches!(
            err,
            ArtifactError::MissingIteration {
                next_present: 3,
                ..
            }
        ),
        "{err}"
    );
    check_error(dir.path(), "ITER_SUMMARY_2.json", None, "missing");
    // Starting at 2 is a gap too.
    std::fs::remove_file(summary_path(dir.path(), 1)).expect("rm");
    check_error(dir.path(), "ITER_SUMMARY_1.json", None, "missing");
}

#[test]
fn nan_null_negative_and_mistyped_values_name_the_field() {
    let dir = three_applies();
    let path = summary_path(dir.path(), 3);
    let text = std::fs::read_to_string(&path).expect("read");
    let original = text.clone();
    let re = |from: &str, to: &str| original.replacen(from, to, 1);
    let net = text.find("\"net_bps\":").expect("net_bps present");
    let end = net + text[net..].find(',').expect("comma");
    std::fs::write(
        &path,
        format!("{}\"net_bps\":NaN{}", &text[..net], &text[end..]),
    )
    .expect("write");
    check_error(
        dir.path(),
        "ITER_SUMMARY_3.json",
        Some("summary.net_bps"),
        "NaN",
    );

    std::fs::write(&path, re("\"maker_volume\":", "\"maker_volume\":-")).expect("write");
    check_error(
        dir.path(),
        "ITER_SUMMARY_3.json",
        Some("summary.fills.maker_volume"),
        "negative",
    );

    edit_file(&path, &original, |d| {
        d["summary"]["risk_ratio"] = Value::from(1.7)
    });
    check_error(
        dir.path(),
        "ITER_SUMMARY_3.json",
        Some("summary.risk_ratio"),
        "outside",
    );

    edit_file(&path, &original, |d| {
        d["tuning"]["proposed_deltas"]["spread_magic"] = Value::from(1)
    });
    check_error(
        dir.path(),
        "ITER_SUMMARY_3.json",
        Some("tuning.proposed_deltas.spread_magic"),
        "unknown parameter",
    );

    edit_file(&path, &original, |d| {
        d["tuning"]["operations"][0]["to"] = Value::from("65")
    });
    check_error(
        dir.path(),
        "ITER_SUMMARY_3.json",
        Some("tuning.operations[0].to"),
        "should be a number",
    );

    edit_file(&path, &original, |d| {
        d["runtime_overrides"]["engine"]["tail_age_ms"] = Value::from(true)
    });
    check_error(
        dir.path(),
        "ITER_SUMMARY_3.json",
        Some("runtime_overrides.engine.tail_age_ms"),
        "should be a number",
    );

    edit_file(&path, &original, |d| d["iteration"] = Value::from(7));
    check_error(
        dir.path(),
        "ITER_SUMMARY_3.json",
        Some("iteration"),
        "file name says 3",
    );

    edit_file(&path, &original, |d| {
        d["schema"] = Value::from("mmsoak.iter_summary.v9")
    });
    check_error(dir.path(), "ITER_SUMMARY_3.json", Some("schema"), "known");

    edit_file(&path, &original, |d| {
        d["tuning"]["state_hash"] = Value::from("XYZ")
    });
    check_error(
        dir.path(),
        "ITER_SUMMARY_3.json",
        Some("tuning.state_hash"),
        "not a hash",
    );
}

fn edit_file(path: &Path, original: &str, f: impl FnOnce(&mut Value)) {
    let mut doc: Value = serde_json::from_str(original).expect("json");
    f(&mut doc);
    std::fs::write(path, serde_json::to_vec(&doc).expect("serialize")).expect("write");
}

#[test]
fn a_missing_runtime_is_an_error_only_when_needed() {
    // The predecessor's summary (no schema tag) may leave the runtime to the
    // directory's file; without that file, verifying a pair needs it.
    let dir = three_applies();
    edit(dir.path(), 2, |d| {
        let d = d.as_object_mut().expect("object");
        d.remove("runtime_overrides");
        d.remove("schema");
    });
    std::fs::remove_file(dir.path().join("runtime_overrides.json")).expect("rm");
    let err = verify_dir(dir.path()).expect_err("no runtime for 2");
    assert!(matches!(err, ArtifactError::MissingRuntime { .. }), "{err}");
    assert!(err.to_string().contains("ITER_SUMMARY_2.json"), "{err}");
}

#[test]
fn a_summary_of_mmsoak_without_its_runtime_is_refused_by_name() {
    // mmsoak always writes the state in force into the summary (the schema
    // requires it): its absence is an error on reading, whatever the
    // directory holds.
    let dir = three_applies();
    edit(dir.path(), 2, |d| {
        d.as_object_mut()
            .expect("object")
            .remove("runtime_overrides");
    });
    let opened = ArtifactDir::open(dir.path()).expect("open");
    let err = opened.read_summary(2).expect_err("no runtime_overrides");
    assert!(
        err.to_string()
            .ends_with("ITER_SUMMARY_2.json: `runtime_overrides` is missing"),
        "{err}"
    );
    assert_eq!(
        verify_dir(dir.path()).expect_err("refused").to_string(),
        err.to_string()
    );
}

// ---- the report, reviewed by eye ----

/// A hand-built run: two applies, a velocity skip, a no-op, a freeze, and an
/// apply that did not reach the bot (iteration 5 runs with the old value).
fn hand_built_run() -> tempfile::TempDir {
    let freeze = SkipFlags {
        freeze: true,
        ..SkipFlags::default()
    };
    let dir = run(&[
        apply(vec![
            add(Param::MinIntervalMs, 5.0),
            add(Param::ImpactCapRatio, -0.01),
        ]),
        blocked(vec![add(Param::MinIntervalMs, 5.0)], VELOCITY),
        nothing(),
        apply(vec![DeltaOp::new(
            Param::ConcurrencyLimit,
            Delta::Scale(0.9),
        )]),
        apply(vec![add(Param::TailAgeMs, 50.0)]),
        apply(vec![add(Param::BaseSpreadBpsDelta, 0.0)]),
        IterationPlan {
            freeze_triggered: true,
            ..blocked(vec![add(Param::MinIntervalMs, -3.0)], freeze)
        },
        nothing(),
    ]);
    edit(dir.path(), 5, |d| {
        d["runtime_overrides"]["engine"]["concurrency_limit"] = 10.into()
    });
    dir
}

#[test]
fn report_markdown_snapshot() {
    let dir = hand_built_run();
    let report = verify_dir(dir.path()).expect("verifies");
    let md = render_markdown(&report, STRICT_THRESHOLD);
    assert!(md.contains("**FAIL**"));
    insta::assert_snapshot!("delta_verify_report", md);
}
