//! `mmsoak report` and `mmsoak explain` end to end: the real binary over a
//! fixed-clock mock soak.

use std::fs;

use crate::common;
use common::{mmsoak, s};

/// A fixed-clock 24-iteration mock soak with auto-tune in `<tmp>/latest`.
fn mock_soak() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("latest");
    common::mock_soak(&dir);
    (tmp, dir)
}

#[test]
fn report_writes_both_files_and_the_markdown_is_stable() {
    let (_tmp, dir) = mock_soak();
    let (code, stdout, stderr) =
        mmsoak(&["report", "--strict", "--policy", "seed", "--path", s(&dir)]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("PASS: every criterion met; wrote "),
        "{stdout}"
    );
    let md = fs::read_to_string(dir.join("SOAK_REPORT.md")).expect("md");
    let html = fs::read_to_string(dir.join("SOAK_REPORT.html")).expect("html");
    assert!(html.starts_with("<!DOCTYPE html>") && html.ends_with("</html>\n"));
    for key in [
        "maker_taker_ratio",
        "risk_ratio",
        "net_bps",
        "p95_latency_ms",
    ] {
        assert!(html.contains(&format!("data-chart=\"kpi-{key}\"")), "{key}");
    }
    insta::assert_snapshot!("soak_report_md", md);

    // A second run renders the same bytes (fixed clock).
    let (_tmp2, dir2) = mock_soak();
    assert_eq!(
        mmsoak(&["report", "--strict", "--policy", "seed", "--path", s(&dir2)]).0,
        0
    );
    assert_eq!(
        fs::read(dir2.join("SOAK_REPORT.html")).expect("html"),
        html.as_bytes()
    );
    assert_eq!(
        fs::read_to_string(dir2.join("SOAK_REPORT.md")).expect("md"),
        md
    );
}

#[test]
fn report_on_bad_input_exits_2_and_writes_nothing() {
    let (_tmp, dir) = mock_soak();
    fs::write(
        dir.join("ITER_SUMMARY_5.json"),
        "{\"schema\": \"mmsoak.iter_summary.v1\", ",
    )
    .expect("truncate");
    let (code, stdout, stderr) = mmsoak(&["report", "--path", s(&dir)]);
    assert_eq!(code, 2, "{stdout}");
    assert!(stderr.contains("ITER_SUMMARY_5.json"), "{stderr}");
    assert!(!dir.join("SOAK_REPORT.html").exists());
    assert!(!dir.join("SOAK_REPORT.md").exists());

    let missing = dir.join("nope");
    let (code, _, stderr) = mmsoak(&["report", "--path", s(&missing)]);
    assert_eq!(code, 2);
    assert!(stderr.contains("nope"), "{stderr}");
}

/// The rules over the window are evaluated under the run's own policy
/// only: another one would contradict what fired.
#[test]
fn the_rules_section_needs_the_runs_policy() {
    let (tmp, dir) = mock_soak();
    let policy = tmp.path().join("other.toml");
    fs::write(&policy, "[tuner.maker_boost]\nnet_bps_min = 0.0\n").expect("write policy");
    let (code, _, stderr) = mmsoak(&["report", "--path", s(&dir), "--policy", s(&policy)]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("the run's policy") && stderr.contains("pass the run's --policy"),
        "{stderr}"
    );
    let md = fs::read_to_string(dir.join("SOAK_REPORT.md")).expect("md");
    assert!(!md.contains("## Tuner rules"), "{md}");
    let (code, text, stderr) = mmsoak(&[
        "explain",
        "--path",
        s(&dir),
        "--iteration",
        "7",
        "--policy",
        s(&policy),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("pass the run's --policy"), "{stderr}");
    assert!(
        text.contains("(conditions not evaluated)\n  fired: RISK_NORMALIZE, MAKER_BOOST\n"),
        "the run's own rules are still shown: {text}"
    );
    let (code, _, stderr) = mmsoak(&["report", "--policy", "seed", "--path", s(&dir)]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    let md = fs::read_to_string(dir.join("SOAK_REPORT.md")).expect("md");
    assert!(md.contains("## Tuner rules over the window (iterations 17–24)"));
}

#[test]
fn explain_text_and_json() {
    let (_tmp, dir) = mock_soak();
    // The run's own policy: the seed's table.
    let explain = |iteration: &str, more: &[&str]| {
        let mut args = vec!["explain", "--policy", "seed", "--path", s(&dir)];
        args.extend(["--iteration", iteration]);
        args.extend(more);
        mmsoak(&args)
    };
    let (code, text, stderr) = explain("7", &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(text.starts_with("Iteration 7 of 24\n"), "{text}");
    // Iteration 7 of the mock: RISK_NORMALIZE and MAKER_BOOST fire, the velocity guard skips.
    assert!(text.contains("RISK_NORMALIZE         FIRED"), "{text}");
    assert!(text.contains("MAKER_BOOST            FIRED"), "{text}");
    assert!(text.contains("RISK_AGGRESSIVE        no "), "{text}");
    // A condition of several clauses marks the one that fails.
    assert!(
        text.contains("LATENCY_BUFFER         no                p95_latency_ms=290 >= 330 (no), p95_latency_ms=290 <= 360\n"),
        "{text}"
    );
    assert!(
        text.contains("MAKER_BOOST            FIRED             risk_ratio=0.322717 <= 0.4, maker_taker_ratio=0.8 < 0.85, net_bps=3.4 >= 2.7\n"),
        "{text}"
    );
    assert!(text.contains("outcome: skipped (velocity)"), "{text}");
    assert!(
        text.contains("this step landed?     7 → 8: partial_ok"),
        "{text}"
    );

    let (code, json, _) = explain("1", &["--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v["iteration"], 1);
    assert_eq!(v["applied"], true);
    assert_eq!(v["verified_in_next"]["class"], "full_apply");
    let fired: Vec<&str> = v["rule_checks"]
        .as_array()
        .expect("rule checks")
        .iter()
        .filter(|r| r["fired"] == true)
        .map(|r| r["rule"].as_str().expect("name"))
        .collect();
    assert_eq!(fired, ["DRIVER_ADVERSE", "DRIVER_SLIPPAGE"]);
    assert!(v["operations"]
        .as_array()
        .expect("ops")
        .iter()
        .all(|o| o["outcome"] == "applied"));

    let (code, _, stderr) = mmsoak(&["explain", "--path", s(&dir), "--iteration", "25"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("no iteration 25") && stderr.contains("1..=24"),
        "{stderr}"
    );
}

#[test]
fn help_shows_an_example() {
    for (cmd, example) in [
        (
            "report",
            "mmsoak report --path artifacts/soak/latest --open",
        ),
        (
            "explain",
            "mmsoak explain --path artifacts/soak/latest --iteration 7",
        ),
    ] {
        let (code, stdout, _) = mmsoak(&[cmd, "--help"]);
        assert_eq!(code, 0);
        assert!(stdout.contains(example), "{cmd}: {stdout}");
    }
}
