//! End-to-end tests of the `mmsoak` binary: each test runs the real
//! executable as a user or a CI job would, and checks exit codes (0 success,
//! 1 gate failure, 2 usage or input error), what goes to stdout and stderr,
//! and which files are (or are not) left in the artifacts directory.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The legacy metric keys of `verify --json` that existing CI reads.
const LEGACY_METRIC_KEYS: [&str; 7] = [
    "full_apply_ratio",
    "full_apply_count",
    "partial_ok_count",
    "fail_count",
    "signature_stuck_count",
    "proposed_count",
    "strict_apply_ratio",
];

/// Files that `verify`, `snapshot` and `gate` write into an artifacts directory.
const REPORT_FILES: [&str; 3] = [
    "DELTA_VERIFY_REPORT.md",
    "POST_SOAK_SNAPSHOT.json",
    "POST_SOAK_METRICS.prom",
];

use crate::common;
use common::{copy_dir, s, tree};

/// Runs `mmsoak ARGS` in `cwd` and returns (exit code, stdout, stderr).
#[track_caller]
fn mmsoak(cwd: &Path, args: &[&str]) -> (i32, String, String) {
    common::mmsoak_in(Some(cwd), args)
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("create a temp dir")
}

/// A fresh 24-iteration mock soak with auto-tune and the fixed clock in `dir`.
#[track_caller]
fn mock_soak(dir: &Path) {
    let stdout = common::mock_soak(dir);
    assert_eq!(stdout, "", "run logs go to stderr, stdout stays empty");
}

/// The fixture bot of the exec driver.
fn fixture_bot() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/bots/overrides_bot.sh")
        .canonicalize()
        .expect("fixtures/bots/overrides_bot.sh exists")
}

/// An `--exec` command line running the fixture bot in `mode`.
fn bot_command(mode: &str) -> String {
    format!(
        "sh '{}' {{overrides}} {{out}} {{iteration}} {mode}",
        fixture_bot().display()
    )
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// Replaces the value token after the first `"key": ` in a pretty-printed
/// JSON file with `value` (written as is, so `NaN` or `null` are possible).
#[track_caller]
fn set_json_token(file: &Path, key: &str, value: impl Fn(&str) -> String) {
    let text = fs::read_to_string(file).expect("read the file to edit");
    let needle = format!("\"{key}\": ");
    let start = text.find(&needle).expect("the key is in the file") + needle.len();
    let len = text[start..]
        .find([',', '\n', '}'])
        .expect("the value ends");
    let old = &text[start..start + len];
    let edited = format!("{}{}{}", &text[..start], value(old), &text[start + len..]);
    fs::write(file, edited).expect("write the edited file");
}

fn parse_json(text: &str, what: &str) -> Value {
    serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("{what} is not one JSON value ({e}):\n{text}"))
}

fn read_json(path: &Path) -> Value {
    parse_json(
        &fs::read_to_string(path).expect("read a JSON file"),
        &path.display().to_string(),
    )
}

// ---------------------------------------------------------------------------
// 1. The mock soak end to end.

#[test]
fn mock_soak_end_to_end() {
    let tmp = tempdir();
    let dir = tmp.path().join("soak");
    mock_soak(&dir);
    for i in 1..=24 {
        assert!(
            dir.join(format!("ITER_SUMMARY_{i}.json")).is_file(),
            "ITER_SUMMARY_{i}.json"
        );
    }
    assert!(!dir.join("ITER_SUMMARY_25.json").exists());
    assert!(dir.join("TUNING_REPORT.json").is_file());

    // verify: only the metrics JSON on stdout, the log on stderr.
    let (code, stdout, stderr) = mmsoak(
        tmp.path(),
        &["verify", "--path", s(&dir), "--json", "--strict"],
    );
    assert_eq!(code, 0, "{stderr}");
    let metrics = parse_json(&stdout, "verify --json stdout");
    for key in LEGACY_METRIC_KEYS {
        assert!(
            metrics.get(key).is_some_and(Value::is_number),
            "{key} in {metrics}"
        );
    }
    let count = |k: &str| metrics[k].as_u64().expect("a count");
    assert_eq!(
        count("proposed_count"),
        count("full_apply_count") + count("partial_ok_count") + count("fail_count")
    );
    assert!(
        count("full_apply_count") > 0,
        "the mock run applies changes: {metrics}"
    );
    assert_eq!(count("fail_count"), 0, "{metrics}");
    assert_eq!(metrics["full_apply_ratio"].as_f64(), Some(1.0));
    assert!(
        stderr.contains("verify: ") && stderr.contains("DELTA_VERIFY_REPORT.md"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("warning") && !stderr.contains("FAIL"),
        "{stderr}"
    );
    assert!(dir.join("DELTA_VERIFY_REPORT.md").is_file());

    // snapshot: prints exactly what it writes.
    let (code, stdout, stderr) = mmsoak(tmp.path(), &["snapshot", "--path", s(&dir)]);
    assert_eq!(code, 0, "{stderr}");
    let written =
        fs::read_to_string(dir.join("POST_SOAK_SNAPSHOT.json")).expect("snapshot written");
    assert_eq!(stdout, written);
    let snapshot = parse_json(&stdout, "snapshot stdout");
    assert_eq!(snapshot["schema_version"], "1.1");
    assert_eq!(snapshot["verdict"], "PASS", "{snapshot}");
    for kpi in [
        "risk_ratio",
        "maker_taker_ratio",
        "net_bps",
        "p95_latency_ms",
    ] {
        assert!(
            snapshot["kpi_last8"][kpi]["mean"].is_number(),
            "{kpi} in {snapshot}"
        );
        assert!(
            snapshot["kpi_last8"][kpi]["median"].is_number(),
            "{kpi} in {snapshot}"
        );
    }
    let (code, pretty, _) = mmsoak(tmp.path(), &["snapshot", "--path", s(&dir), "--pretty"]);
    assert_eq!(code, 0);
    assert!(pretty.lines().count() > 10, "--pretty indents:\n{pretty}");
    assert_eq!(parse_json(&pretty, "snapshot --pretty stdout"), snapshot);

    // gate: PASS, tables, Prometheus file.
    let (code, stdout, stderr) = mmsoak(
        tmp.path(),
        &["gate", "--path", s(&dir), "--strict", "--prometheus"],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("GATE: PASS"), "{stdout}");
    assert!(stdout.contains("Delta quality"), "{stdout}");
    assert!(!stdout.contains("failed:"), "{stdout}");
    let prom = fs::read_to_string(dir.join("POST_SOAK_METRICS.prom")).expect("metrics written");
    // Every sample carries the run's labels.
    assert!(
        prom.lines().any(
            |l| l.starts_with("mmsoak_gate_verdict{driver=\"mock\",policy_hash=\"")
                && l.ends_with(",seed=\"0\",verdict=\"PASS\"} 1")
        ),
        "{prom}"
    );
    assert!(
        prom.contains("\nmmsoak_gate_verdict_code{driver=\"mock\","),
        "{prom}"
    );
    assert!(
        prom.contains("# TYPE mmsoak_delta_full_apply_ratio gauge"),
        "{prom}"
    );
    assert!(prom.contains("mmsoak_kpi_p95_latency_seconds"), "{prom}");
    if let Ok(status) = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(fs::File::open(dir.join("POST_SOAK_METRICS.prom")).expect("open .prom"))
        .stdout(Stdio::null())
        .status()
    {
        assert!(status.success(), "promtool check metrics rejects:\n{prom}");
    }

    // gate --json: the verdict and every criterion, recomputable.
    let (code, stdout, stderr) = mmsoak(tmp.path(), &["gate", "--path", s(&dir), "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let gate = parse_json(&stdout, "gate --json stdout");
    assert_eq!(gate["verdict"], "PASS", "{gate}");
    let criteria = gate["criteria"].as_array().expect("criteria is an array");
    assert!(criteria.len() >= 8, "{gate}");
    for c in criteria {
        assert!(c["name"].is_string(), "{c}");
        assert!(c["op"].is_string(), "{c}");
        assert!(c.get("value").is_some_and(|v| !v.is_null()), "{c}");
        assert!(c.get("target").is_some_and(|v| !v.is_null()), "{c}");
        assert_eq!(c["ok"], true, "{c}");
    }
    let names: Vec<&str> = criteria.iter().filter_map(|c| c["name"].as_str()).collect();
    for wanted in [
        "kpi.maker_taker_ratio_mean",
        "kpi.p95_latency_ms_mean",
        "delta.full_apply_ratio",
    ] {
        assert!(names.contains(&wanted), "{wanted} in {names:?}");
    }
}

/// Without `--driver`, `run` soaks the embedded simulator's bot: the
/// parameters act on it, so two different starting points give different
/// KPIs (the mock would print the same script for both).
#[test]
fn run_defaults_to_the_simulator() {
    let tmp = tempdir();
    let kpis = |name: &str, overrides: &str| -> Value {
        let file = tmp.path().join(format!("{name}.json"));
        fs::write(&file, overrides).expect("write overrides");
        let dir = tmp.path().join(name);
        let (code, stdout, stderr) = mmsoak(
            tmp.path(),
            &[
                "run",
                "--iterations",
                "1",
                "--sim-duration",
                "600",
                "--fixed-clock",
                "--overrides",
                s(&file),
                "--out",
                s(&dir),
            ],
        );
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(stdout, "");
        let summary = read_json(&dir.join("ITER_SUMMARY_1.json"));
        assert_eq!(summary["driver"], "sim");
        let report = read_json(&dir.join("iter_1").join("EDGE_REPORT.json"));
        assert!(
            report.to_string().contains("mmsoak-sim"),
            "the simulator wrote the report"
        );
        summary["summary"].clone()
    };
    let tight = kpis("tight", r#"{"base_spread_bps": 0.12}"#);
    let wide = kpis("wide", r#"{"base_spread_bps": 0.3}"#);
    let maker_taker = |v: &Value| v["maker_taker_ratio"].as_f64().expect("maker/taker");
    assert!(
        maker_taker(&wide) > maker_taker(&tight),
        "a wider spread gives a higher maker share: {tight} vs {wide}"
    );
}

/// `--out` pointing at a directory of yours is refused, not emptied.
#[test]
fn run_refuses_to_empty_a_directory_that_is_not_a_soaks() {
    let tmp = tempdir();
    let out = tmp.path().join("mine");
    fs::create_dir(&out).expect("mkdir");
    fs::write(out.join("notes.txt"), "keep me").expect("write");
    let (code, stdout, stderr) = mmsoak(tmp.path(), &["run", "--mock", "--out", s(&out)]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(
        stderr.starts_with("error: ")
            && stderr.contains("`notes.txt` and is not a soak's directory"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("--resume"),
        "nothing was started: {stderr}"
    );
    assert_eq!(
        fs::read_to_string(out.join("notes.txt")).expect("kept"),
        "keep me"
    );
    assert_eq!(fs::read_dir(&out).expect("read_dir").count(), 1);
}

/// A recorded market that is missing or not an npz file stops `run` before
/// it writes anything, naming the file.
#[test]
fn bad_recorded_market_exits_2_before_writing() {
    let tmp = tempdir();
    fs::write(tmp.path().join("garbage.npz"), "not a zip").expect("write");
    for market in ["garbage.npz", "missing.npz"] {
        let out = tmp.path().join("out");
        let (code, stdout, stderr) = mmsoak(
            tmp.path(),
            &[
                "run",
                "--market",
                market,
                "--iterations",
                "2",
                "--out",
                s(&out),
            ],
        );
        assert_eq!(code, 2, "{market}: {stdout}{stderr}");
        assert!(
            stderr.starts_with("error: ") && stderr.contains(market),
            "{market}: {stderr}"
        );
        assert!(!out.exists(), "{market}: {} was created", out.display());
    }
}

#[test]
fn fixed_clock_runs_are_byte_identical() {
    let tmp = tempdir();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    mock_soak(&a);
    mock_soak(&b);
    let strip_lock = |mut t: BTreeMap<PathBuf, Option<Vec<u8>>>| {
        // The lock file notes the holder's pid and start time.
        t.remove(Path::new(".mmsoak.lock"));
        t
    };
    let (ta, tb) = (strip_lock(tree(&a)), strip_lock(tree(&b)));
    assert!(ta.len() > 24);
    assert!(ta == tb, "two --fixed-clock mock runs differ");
}

// ---------------------------------------------------------------------------
// 2. A bot that misses the targets fails the gate (exit 1).

/// A soak that stopped halfway fails the gate however good its window, and
/// the report says how far it got (a finished one meets the criterion:
/// `gate_tables_exec_bot_fail`).
#[test]
fn an_unfinished_soak_fails_the_gate() {
    let tmp = tempdir();
    let dir = tmp.path().join("soak");
    let run = |mode: &str| {
        let exec = bot_command(mode);
        let args = [
            "run",
            "--driver",
            "exec",
            "--exec",
            &exec,
            "--iterations",
            "6",
            "--out",
            s(&dir),
            "--fixed-clock",
        ];
        mmsoak(tmp.path(), &args)
    };
    let (code, _, stderr) = run("fail@4");
    assert_eq!(code, 2, "{stderr}");

    let (code, text, stderr) = mmsoak(tmp.path(), &["gate", "--path", s(&dir)]);
    assert_eq!(code, 1, "{text}\n{stderr}");
    assert!(
        text.contains("failed: run.completed_iterations: 3 (target >= 6)"),
        "{text}"
    );
    let (code, _, stderr) = mmsoak(tmp.path(), &["report", "--path", s(&dir)]);
    assert_eq!(
        code, 0,
        "a report is written whatever the verdict: {stderr}"
    );
    let md = std::fs::read_to_string(dir.join("SOAK_REPORT.md")).expect("report");
    assert!(
        md.contains("3 of 6 iterations (the run did not finish) (window: 1–3)"),
        "{md}"
    );
    assert!(
        md.contains("- **failed** `run.completed_iterations`: 3 (target >= 6)"),
        "{md}"
    );

    let (_, stdout, _) = mmsoak(tmp.path(), &["gate", "--path", s(&dir), "--json"]);
    let gate = parse_json(&stdout, "gate --json stdout");
    assert_eq!(gate["completion"]["requested"], 6, "{gate}");
    assert_eq!(gate["completion"]["completed"], 3, "{gate}");
}

/// "continue with --resume" only where a resume can work: not for an
/// --out that is a file, nor after the state was changed outside mmsoak.
#[test]
fn resume_is_suggested_only_where_it_can_work() {
    let tmp = tempdir();
    let file = tmp.path().join("afile");
    fs::write(&file, "x").expect("write");
    let (code, _, stderr) = mmsoak(tmp.path(), &["run", "--mock", "--out", s(&file)]);
    assert_eq!(code, 2, "{stderr}");
    assert!(!stderr.contains("--resume"), "{stderr}");

    let dir = tmp.path().join("soak");
    let exec = bot_command("fail@3");
    let args = [
        "run",
        "--driver",
        "exec",
        "--exec",
        &exec,
        "--iterations",
        "4",
        "--out",
        s(&dir),
    ];
    let (code, _, stderr) = mmsoak(tmp.path(), &args);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("continue with --resume"), "{stderr}");
    fs::write(
        dir.join("runtime_overrides.json"),
        r#"{"engine":{"concurrency_limit":7}}"#,
    )
    .expect("edit the state outside mmsoak");
    let mut resume = args.to_vec();
    resume.push("--resume");
    let (code, _, stderr) = mmsoak(tmp.path(), &resume);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("changed outside mmsoak"), "{stderr}");
    assert!(!stderr.contains("continue with --resume"), "{stderr}");
}

/// A reader that stops early (`mmsoak run 2>&1 | head -1`) must not abort
/// the soak: progress text is lost, the run finishes.
#[test]
fn a_closed_progress_stream_does_not_stop_the_soak() {
    use std::io::BufRead;
    let tmp = tempdir();
    let dir = tmp.path().join("soak");
    let block = tmp.path().join("block");
    fs::write(&block, "").expect("block file");
    let exec = bot_command("block@2");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mmsoak"))
        .args([
            "run",
            "--driver",
            "exec",
            "--exec",
            &exec,
            "--iterations",
            "4",
        ])
        .args(["--out", s(&dir)])
        .env("MMSOAK_TEST_BLOCK_FILE", &block)
        .current_dir(tmp.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut lines = std::io::BufReader::new(child.stderr.take().expect("stderr"));
    let mut first = String::new();
    lines.read_line(&mut first).expect("first progress line");
    assert!(first.contains("[  1/4]"), "{first}");
    // Once iteration 2's bot is blocked, close the stream, then let it go
    // on: everything after is written to a closed pipe.
    let pgid = tmp.path().join("block.pgid");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !fs::read_to_string(&pgid).is_ok_and(|p| p.ends_with('\n')) {
        assert!(Instant::now() < deadline, "iteration 2 never started");
        std::thread::sleep(Duration::from_millis(10));
    }
    drop(lines);
    fs::remove_file(&block).expect("unblock");
    let status = child.wait().expect("wait");
    assert_eq!(
        status.code(),
        Some(0),
        "the soak went on without its reader"
    );
    let run = read_json(&dir.join("SOAK_RUN.json"));
    assert_eq!(run["completed_iterations"], 4, "{run}");
}

#[test]
fn exec_soak_below_targets_fails_the_gate() {
    let tmp = tempdir();
    let dir = tmp.path().join("soak");
    let exec = bot_command("ok");
    let (code, stdout, stderr) = mmsoak(
        tmp.path(),
        &[
            "run",
            "--driver",
            "exec",
            "--exec",
            &exec,
            "--iterations",
            "10",
            "--auto-tune",
            // A pipeline test of the exec driver, under the predecessor's table.
            "--policy",
            "seed",
            "--out",
            s(&dir),
            "--fixed-clock",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "");
    assert!(stderr.contains("[ 10/10]"), "{stderr}");

    let (code, text, stderr) = mmsoak(tmp.path(), &["gate", "--policy", "seed", "--path", s(&dir)]);
    assert_eq!(code, 1, "gate FAIL exits 1:\n{text}\n{stderr}");
    assert!(text.contains("GATE: FAIL"), "{text}");
    assert!(
        text.contains("failed: kpi.maker_taker_ratio_mean: 0.7 (target >= 0.85)"),
        "{text}"
    );
    assert!(
        !text.contains("failed: kpi.risk_ratio_mean"),
        "risk 0.2 meets its target:\n{text}"
    );
    insta::assert_snapshot!("gate_tables_exec_bot_fail", text);

    let (code, stdout, _) = mmsoak(
        tmp.path(),
        &["gate", "--policy", "seed", "--path", s(&dir), "--json"],
    );
    assert_eq!(code, 1);
    let gate = parse_json(&stdout, "gate --json stdout");
    assert_eq!(gate["verdict"], "FAIL", "{gate}");
    let criterion = |name: &str| {
        gate["criteria"]
            .as_array()
            .expect("criteria")
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("criterion {name} in {gate}"))
            .clone()
    };
    let mt = criterion("kpi.maker_taker_ratio_mean");
    assert_eq!(
        (mt["ok"].clone(), mt["value"].as_f64()),
        (Value::Bool(false), Some(0.7))
    );
    assert_eq!(criterion("kpi.risk_ratio_mean")["ok"], true);

    // The bot really read the overrides: its p95 is 400 - min_interval_ms.
    let runtime = read_json(&dir.join("runtime_overrides.json"));
    let min_interval = runtime["engine"]["min_interval_ms"]
        .as_f64()
        .expect("min_interval_ms");
    assert_ne!(min_interval, 60.0, "auto-tune changed min_interval_ms");
    let p95 = criterion("kpi.p95_latency_ms_mean");
    assert_eq!(p95["value"].as_f64(), Some(400.0 - min_interval), "{p95}");

    // This bot reports no edge drivers: the report's rules over the window
    // say so rather than showing the driver rules as never failing.
    let (code, _, stderr) = mmsoak(
        tmp.path(),
        &["report", "--policy", "seed", "--path", s(&dir)],
    );
    assert_eq!(code, 0, "{stderr}");
    let md = fs::read_to_string(dir.join("SOAK_REPORT.md")).expect("md");
    assert!(
        md.contains("| `DRIVER_ADVERSE` | 0/8 | 0/8 | adverse_bps_p95 absent (8) |\n"),
        "{md}"
    );
}

// ---------------------------------------------------------------------------
// 3. Bad input: exit 2, a message naming the file (and field), nothing written.

/// A way to spoil a good artifacts directory, and what the error must name.
struct Spoil {
    name: &'static str,
    spoil: fn(&Path),
    names: &'static [&'static str],
    /// The subcommands that must reject it (the verifier reads no KPIs).
    commands: &'static [&'static str],
}

const ALL: &[&str] = &["verify", "snapshot", "gate"];

fn spoils() -> Vec<Spoil> {
    vec![
        Spoil {
            name: "empty directory",
            spoil: |dir| {
                fs::remove_dir_all(dir).expect("empty it");
                fs::create_dir(dir).expect("recreate");
            },
            names: &["ITER_SUMMARY"],
            commands: ALL,
        },
        Spoil {
            name: "truncated summary",
            spoil: |dir| {
                let file = dir.join("ITER_SUMMARY_20.json");
                let bytes = fs::read(&file).expect("read");
                fs::write(&file, &bytes[..bytes.len() / 2]).expect("truncate");
            },
            names: &["ITER_SUMMARY_20.json"],
            commands: ALL,
        },
        Spoil {
            name: "gap in iterations",
            spoil: |dir| fs::remove_file(dir.join("ITER_SUMMARY_5.json")).expect("remove"),
            names: &["ITER_SUMMARY_5.json"],
            commands: ALL,
        },
        Spoil {
            name: "no tuning report",
            spoil: |dir| fs::remove_file(dir.join("TUNING_REPORT.json")).expect("remove"),
            names: &["TUNING_REPORT.json"],
            commands: ALL,
        },
        Spoil {
            name: "NaN net_bps in the window",
            spoil: |dir| {
                set_json_token(&dir.join("ITER_SUMMARY_21.json"), "net_bps", |_| {
                    "NaN".into()
                })
            },
            names: &["ITER_SUMMARY_21.json", "summary.net_bps"],
            commands: ALL,
        },
        Spoil {
            name: "negative maker_volume",
            spoil: |dir| {
                set_json_token(&dir.join("ITER_SUMMARY_21.json"), "maker_volume", |v| {
                    format!("-{v}")
                })
            },
            names: &["ITER_SUMMARY_21.json", "summary.fills.maker_volume"],
            commands: ALL,
        },
    ]
}

/// A window iteration without a KPI (a bot with no fill has no net edge) is
/// not bad input: it does not pass, the means leave it out, and the gate
/// fails on it by name.
#[test]
fn an_iteration_without_a_kpi_fails_the_gate_by_name() {
    let tmp = tempdir();
    let dir = tmp.path().join("soak");
    mock_soak(&dir);
    let (_, before, _) = mmsoak(tmp.path(), &["snapshot", "--path", s(&dir)]);
    let before = parse_json(&before, "snapshot");
    set_json_token(&dir.join("ITER_SUMMARY_21.json"), "net_bps", |_| {
        "null".into()
    });
    let (code, stdout, stderr) = mmsoak(tmp.path(), &["snapshot", "--path", s(&dir)]);
    assert_eq!(code, 0, "{stderr}");
    let after = parse_json(&stdout, "snapshot");
    assert_eq!(
        after["pass_count_last8"].as_u64().expect("count") + 1,
        before["pass_count_last8"].as_u64().expect("count"),
        "the iteration no longer passes"
    );
    assert_ne!(
        after["kpi_last8"]["net_bps"],
        before["kpi_last8"]["net_bps"]
    );
    let (code, text, stderr) = mmsoak(tmp.path(), &["gate", "--path", s(&dir)]);
    assert_eq!(code, 1, "{text}{stderr}");
    assert!(
        text.contains("failed: snapshot.incomplete_iterations_last8: 1 (target <= 0)"),
        "{text}"
    );
    let (code, _, stderr) = mmsoak(tmp.path(), &["report", "--path", s(&dir)]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn bad_artifacts_exit_2_naming_the_file_and_leave_nothing_behind() {
    let tmp = tempdir();
    let good = tmp.path().join("good");
    mock_soak(&good);
    for spoil in spoils() {
        let dir = tmp.path().join(spoil.name.replace(' ', "_"));
        copy_dir(&good, &dir);
        (spoil.spoil)(&dir);
        let before = tree(&dir);
        for command in spoil.commands {
            let mut args = vec![*command, "--path", s(&dir)];
            if *command == "gate" {
                args.push("--prometheus");
            }
            let (code, stdout, stderr) = mmsoak(tmp.path(), &args);
            let case = format!("`{command}` on {}", spoil.name);
            assert_eq!(
                code, 2,
                "{case}: exit 2 expected\nstdout: {stdout}\nstderr: {stderr}"
            );
            assert_eq!(stdout, "", "{case}: nothing on stdout");
            assert!(stderr.starts_with("error: "), "{case}: {stderr}");
            assert!(
                stderr.contains(s(&dir)),
                "{case}: names the directory: {stderr}"
            );
            for name in spoil.names {
                assert!(stderr.contains(name), "{case}: names {name}: {stderr}");
            }
            assert!(tree(&dir) == before, "{case}: the directory changed");
            for report in REPORT_FILES {
                assert!(!dir.join(report).exists(), "{case}: left {report}");
            }
        }
    }
}

#[test]
fn gate_with_unreadable_baseline_writes_nothing() {
    let tmp = tempdir();
    let dir = tmp.path().join("soak");
    mock_soak(&dir);
    let baseline = tmp.path().join("BASELINE.json");
    fs::write(
        &baseline,
        br#"{"schema_version": "1.1", "kpi_last8": {"net_bps": {"mean": 2."#,
    )
    .expect("write");
    let before = tree(&dir);
    let (code, stdout, stderr) = mmsoak(
        tmp.path(),
        &[
            "gate",
            "--path",
            s(&dir),
            "--prometheus",
            "--compare",
            s(&baseline),
        ],
    );
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stderr.starts_with("error: ") && stderr.contains("BASELINE.json"),
        "{stderr}"
    );
    assert!(tree(&dir) == before, "gate wrote despite the bad baseline");
}

#[test]
fn usage_errors_exit_2_before_touching_anything() {
    let tmp = tempdir();
    let out = tmp.path().join("out");
    let exec = bot_command("ok");
    let cases: &[(&[&str], &str)] = &[
        (&["run", "--driver", "exec", "--out", s(&out)], "--exec"),
        (
            &["run", "--mock", "--exec", &exec, "--out", s(&out)],
            "--exec",
        ),
        (
            &[
                "run",
                "--driver",
                "exec",
                "--mock",
                "--exec",
                &exec,
                "--out",
                s(&out),
            ],
            "--mock",
        ),
        (&["run", "--exec", &exec, "--out", s(&out)], "--exec"),
        (
            &["run", "--mock", "--scenario", "toxic", "--out", s(&out)],
            "--scenario goes with the sim driver (the default) or --driver exec, not --driver mock",
        ),
        (
            &[
                "run",
                "--driver",
                "exec",
                "--exec",
                "./bot --day {scenario} --out {out}",
                "--out",
                s(&out),
            ],
            "the --exec command has {scenario}: give --scenario NAME",
        ),
        (
            &["run", "--mock", "--sim-duration", "60", "--out", s(&out)],
            "--sim-duration",
        ),
        (
            &["run", "--iteration-timeout", "5", "--out", s(&out)],
            "--iteration-timeout goes with --driver exec, not --driver sim",
        ),
        (
            &["run", "--sim-duration", "1e20", "--out", s(&out)],
            "--sim-duration must be between 1 and 604800 seconds",
        ),
        (
            &[
                "run",
                "--driver",
                "exec",
                "--exec",
                &exec,
                "--iteration-timeout",
                "1e30",
                "--out",
                s(&out),
            ],
            "--iteration-timeout 1000000000000000000000000000000 is out of range",
        ),
        (
            &["run", "--sim-duration", "0.5", "--out", s(&out)],
            "--sim-duration must be between 1 and 604800 seconds (7 days)",
        ),
        (
            &["run", "--mock", "--market", "m.npz", "--out", s(&out)],
            "--market",
        ),
        (
            &["run", "--iterations", "0", "--out", s(&out)],
            "--iterations",
        ),
        (
            &["run", "--no-such-flag", "--out", s(&out)],
            "--no-such-flag",
        ),
        (&["verify", "--path", s(&out), "--bogus"], "--bogus"),
        (
            &["verify", "--path", s(&out), "--threshold", "1.5"],
            "--threshold",
        ),
        (
            &["snapshot", "--path", s(&out), "--window", "0"],
            "--window",
        ),
        (&["frobnicate"], "frobnicate"),
        (&["propose"], "--report"),
    ];
    for (args, named) in cases {
        let (code, stdout, stderr) = mmsoak(tmp.path(), args);
        assert_eq!(
            code, 2,
            "mmsoak {args:?}\nstdout: {stdout}\nstderr: {stderr}"
        );
        assert!(stderr.starts_with("error: "), "mmsoak {args:?}: {stderr}");
        assert!(
            stderr.contains(named),
            "mmsoak {args:?} names {named}: {stderr}"
        );
        assert!(!out.exists(), "mmsoak {args:?} created {}", out.display());
    }
}

#[test]
fn bad_policy_and_report_files_exit_2_naming_them() {
    let tmp = tempdir();
    let out = tmp.path().join("out");

    let (code, _, stderr) = mmsoak(
        tmp.path(),
        &[
            "run",
            "--mock",
            "--policy",
            "missing.toml",
            "--out",
            s(&out),
        ],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.starts_with("error: ") && stderr.contains("missing.toml"),
        "{stderr}"
    );
    assert!(
        !out.exists(),
        "run created its --out before reading the policy"
    );

    fs::write(tmp.path().join("unknown_key.toml"), "[guards]\nxyz = 3\n").expect("write");
    for command in ["run", "policy", "gate", "snapshot"] {
        let mut args = vec![command, "--policy", "unknown_key.toml"];
        if command == "run" {
            args.extend(["--mock", "--out", s(&out)]);
        }
        if command == "gate" || command == "snapshot" {
            args.extend(["--path", s(&out)]);
        }
        let (code, stdout, stderr) = mmsoak(tmp.path(), &args);
        assert_eq!(code, 2, "{command}: {stderr}");
        assert_eq!(stdout, "", "{command}");
        assert!(
            stderr.contains("unknown_key.toml") && stderr.contains("guards.xyz"),
            "{command} names the file and the key: {stderr}"
        );
        assert!(!out.exists(), "{command} created {}", out.display());
    }

    // Bounds no value can take; a start outside the bounds.
    fs::write(
        tmp.path().join("bounds.toml"),
        "[bounds.concurrency_limit]\nmin = -5\nmax = 64\n",
    )
    .expect("write");
    fs::write(
        tmp.path().join("o.json"),
        r#"{"engine":{"concurrency_limit":100}}"#,
    )
    .expect("write");
    for (args, needles) in [
        (
            vec!["policy", "--policy", "bounds.toml"],
            vec!["bounds.toml", "concurrency_limit: min -5 is below 1"],
        ),
        (
            vec!["run", "--mock", "--overrides", "o.json", "--out", s(&out)],
            vec!["o.json: `engine.concurrency_limit` is 100, outside the bounds 1..=64"],
        ),
    ] {
        let (code, stdout, stderr) = mmsoak(tmp.path(), &args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert_eq!(stdout, "");
        for needle in needles {
            assert!(stderr.contains(needle), "{args:?}: {stderr}");
        }
        assert!(!out.exists(), "{args:?} created {}", out.display());
    }

    let report = tmp.path().join("EDGE_REPORT.json");
    let full = fs::read(data("EDGE_REPORT_maker_boost.json")).expect("fixture");
    fs::write(&report, &full[..full.len() / 2]).expect("write a truncated report");
    let (code, stdout, stderr) = mmsoak(tmp.path(), &["propose", "--report", s(&report)]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(stdout, "");
    assert!(
        stderr.starts_with("error: ") && stderr.contains(s(&report)),
        "{stderr}"
    );
}

// ---------------------------------------------------------------------------
// 4. Help.

#[test]
fn every_subcommand_has_help_with_an_example() {
    let tmp = tempdir();
    for sub in ["run", "verify", "snapshot", "gate", "propose", "policy"] {
        let (code, stdout, stderr) = mmsoak(tmp.path(), &[sub, "--help"]);
        assert_eq!(code, 0, "{sub} --help: {stderr}");
        assert!(
            stdout.contains("Example"),
            "{sub} --help has an example:\n{stdout}"
        );
        assert!(
            stdout.contains(&format!("mmsoak {sub}")),
            "{sub} --help:\n{stdout}"
        );
    }
    let (_, run_help, _) = mmsoak(tmp.path(), &["run", "--help"]);
    let flat = run_help
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    assert!(
        flat.contains("ignores the parameters"),
        "run --help:\n{run_help}"
    );
    assert!(
        tmp.path().read_dir().expect("read").next().is_none(),
        "--help wrote files"
    );
}

// ---------------------------------------------------------------------------
// 5. propose and policy.

#[test]
fn propose_prints_the_tuner_proposal() {
    let tmp = tempdir();
    let report = data("EDGE_REPORT_maker_boost.json");
    let (code, stdout, stderr) = mmsoak(tmp.path(), &["propose", "--report", s(&report)]);
    assert_eq!(code, 0, "{stderr}");
    let proposal = parse_json(&stdout, "propose stdout");
    let rules = proposal["rules_fired"].as_array().expect("rules_fired");
    assert!(rules.contains(&Value::from("MAKER_BOOST")), "{proposal}");
    assert!(
        proposal["rationale"]
            .as_str()
            .is_some_and(|r| r.contains("MAKER_BOOST")),
        "{proposal}"
    );
    let ops = proposal["operations"].as_array().expect("operations");
    assert!(!ops.is_empty());
    let deltas = proposal["deltas"].as_object().expect("deltas");
    for op in ops {
        for key in ["param", "op", "value", "from", "to", "rule"] {
            assert!(op.get(key).is_some_and(|v| !v.is_null()), "{key} in {op}");
        }
        let param = op["param"].as_str().expect("param");
        let (from, to) = (
            op["from"].as_f64().expect("from"),
            op["to"].as_f64().expect("to"),
        );
        let delta = deltas[param].as_f64().expect("a delta per operation");
        assert!((to - from - delta).abs() < 1e-9, "{op} vs delta {delta}");
    }
    let min_interval = ops
        .iter()
        .find(|op| op["param"] == "min_interval_ms")
        .expect("MAKER_BOOST moves min_interval_ms");
    assert_eq!(
        min_interval["from"].as_f64(),
        Some(60.0),
        "registry default"
    );

    // --overrides is the starting point.
    let overrides = tmp.path().join("overrides.json");
    fs::write(&overrides, r#"{"engine": {"min_interval_ms": 70}}"#).expect("write");
    let (code, stdout, stderr) = mmsoak(
        tmp.path(),
        &[
            "propose",
            "--report",
            s(&report),
            "--overrides",
            s(&overrides),
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let proposal = parse_json(&stdout, "propose stdout");
    let op = proposal["operations"]
        .as_array()
        .expect("operations")
        .iter()
        .find(|op| op["param"] == "min_interval_ms")
        .expect("min_interval_ms")
        .clone();
    assert_eq!(
        (op["from"].as_f64(), op["to"].as_f64()),
        (Some(70.0), Some(95.0)),
        "{op}"
    );

    // --policy can switch the rule off.
    fs::write(
        tmp.path().join("p.toml"),
        "[tuner.maker_boost]\nenabled = false\n",
    )
    .expect("write");
    let (code, stdout, stderr) = mmsoak(
        tmp.path(),
        &["propose", "--report", s(&report), "--policy", "p.toml"],
    );
    assert_eq!(code, 0, "{stderr}");
    let proposal = parse_json(&stdout, "propose stdout");
    assert!(!proposal["rules_fired"]
        .as_array()
        .expect("rules")
        .contains(&Value::from("MAKER_BOOST")));
}

/// `mmsoak sweep`: reports every cell, exits 1 when a cell falls short of
/// its `--min-pass-rate`, 0 when none does, 2 for bad input (writing
/// nothing).
#[test]
fn sweep_reports_cells_and_exits_by_min_pass_rate() {
    let tmp = tempdir();
    let base = [
        "sweep",
        "--scenarios",
        "default,toxic",
        "--seeds",
        "1..2",
        "--iterations",
        "2",
        "--sim-duration",
        "60",
        "--keep",
        "none",
    ];
    let run = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        mmsoak(tmp.path(), &args)
    };
    let (code, stdout, stderr) = run(&["--out", "a", "--min-pass-rate", "toxic=0"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("| `toxic` | `default` | 0/2 |"), "{stdout}");
    assert!(stderr.contains("[4/4]"), "{stderr}");
    let report: Value = parse_json(
        &fs::read_to_string(tmp.path().join("a/SWEEP_REPORT.json")).expect("report"),
        "SWEEP_REPORT.json",
    );
    assert_eq!(report["cells"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        report["cells"][1]["wilson_high"].as_f64().map(|x| x > 0.6),
        Some(true)
    );
    let (code, _, stderr) = run(&["--out", "b", "--min-pass-rate", "toxic=1"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("toxic/default passed 0/2"), "{stderr}");
    for (bad, needle) in [
        (
            vec!["--out", "c", "--min-pass-rate", "calm=0.9"],
            "calm is not one of",
        ),
        (
            vec!["--out", "c", "--min-pass-rate", "toxic=2"],
            "from 0 to 1",
        ),
    ] {
        let (code, _, stderr) = run(&bad);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains(needle), "{stderr}");
    }
    let (code, _, stderr) = mmsoak(
        tmp.path(),
        &[
            "sweep",
            "--scenarios",
            "default",
            "--seeds",
            "3..1",
            "--out",
            "c",
        ],
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("--seeds"), "{stderr}");
    assert!(!tmp.path().join("c").exists());

    // Two shards, merged: the unpartitioned report, timing aside.
    for k in ["1/2", "2/2"] {
        let out = format!("shard-{}", &k[..1]);
        let (code, stdout, stderr) = run(&["--out", &out, "--partition", k]);
        assert_eq!(code, 0, "{stderr}");
        assert!(
            stdout.starts_with(&format!("shard {k}: 2 soak(s)")),
            "{stdout}"
        );
    }
    let (code, _, stderr) = mmsoak(
        tmp.path(),
        &[
            "sweep",
            "merge",
            "shard-1",
            "shard-2",
            "--out",
            "merged",
            "--min-pass-rate",
            "toxic=0",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let without_timing = |dir: &str| {
        let mut v = parse_json(
            &fs::read_to_string(tmp.path().join(dir).join("SWEEP_REPORT.json")).expect("report"),
            dir,
        );
        v.as_object_mut().map(|o| o.remove("timing"));
        v
    };
    assert_eq!(without_timing("merged"), without_timing("a"));
    let (code, _, stderr) = mmsoak(tmp.path(), &["sweep", "merge", "shard-1", "--out", "m2"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("missing shard(s): 2/2"), "{stderr}");
}

/// `mmsoak sweep --driver exec`: the user's bot once per seed and
/// scenario name, `{seed}` and `{scenario}` in its command; the
/// simulator's flags are refused with it, and its own without it.
#[test]
fn sweep_runs_an_exec_bot_per_seed_and_refuses_mixed_flags() {
    let tmp = tempdir();
    let bot = fixture_bot().with_file_name("seeded_bot.sh");
    let exec = format!("sh '{}' {{seed}} {{scenario}} {{out}}", bot.display());
    let base = [
        "sweep",
        "--driver",
        "exec",
        "--exec",
        &exec,
        "--scenarios",
        "day-1,thin",
        "--seeds",
        "4..5",
        "--iterations",
        "8",
    ];
    let run = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        mmsoak(tmp.path(), &args)
    };
    let (code, stdout, stderr) = run(&["--out", "a", "--min-pass-rate", "day-1=0.5"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("| `day-1` | `default` | 1/2 |"), "{stdout}");
    assert!(stdout.contains("| `thin` | `default` | 0/2 |"), "{stdout}");
    let config: Value = parse_json(
        &fs::read_to_string(tmp.path().join("a/SWEEP_CONFIG.json")).expect("config"),
        "SWEEP_CONFIG.json",
    );
    assert_eq!(config["exec_command"], Value::from(exec.as_str()));
    assert_eq!(config["iteration_timeout_s"], 600.0);
    assert!(config.get("sim_duration_s").is_none(), "{config}");
    for (extra, needle) in [
        (
            vec!["--sim-duration", "60"],
            "--sim-duration goes with the simulator",
        ),
        (vec!["--exec", "x"], "cannot be used multiple times"),
    ] {
        let mut args = extra.clone();
        args.extend(["--out", "b"]);
        let (code, _, stderr) = run(&args);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains(needle), "{stderr}");
    }
    for (args, needle) in [
        (
            vec![
                "sweep",
                "--exec",
                "./bot {out}",
                "--seeds",
                "1",
                "--out",
                "b",
            ],
            "--exec and --iteration-timeout go with --driver exec",
        ),
        (
            vec!["sweep", "--driver", "exec", "--seeds", "1", "--out", "b"],
            "--driver exec needs --exec",
        ),
        (
            vec![
                "sweep",
                "--driver",
                "exec",
                "--exec",
                "sh -c './bot {seed}'",
                "--seeds",
                "1",
                "--out",
                "b",
            ],
            "`{seed}` at byte 13 stands inside quotes",
        ),
    ] {
        let (code, _, stderr) = mmsoak(tmp.path(), &args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{stderr}");
    }
    assert!(!tmp.path().join("b").exists());
}

/// `mmsoak sweep compare`: a sweep against itself PASSes; the default
/// policy against the seed's, on the same seeds, FAILs naming the KPIs it
/// is worse on (it widens the spread for edge and trades its PnL away,
/// docs/sim.md); bad input exits 2.
#[test]
fn sweep_compare_passes_a_sweep_against_itself_and_names_what_is_worse() {
    let tmp = tempdir();
    // Ten seeds of eight 15-minute iterations on `default`.
    let sweep = |extra: &[&str]| {
        let mut args = vec![
            "sweep",
            "--scenarios",
            "default",
            "--seeds",
            "0..9",
            "--iterations",
            "8",
            "--sim-duration",
            "900",
            "--keep",
            "none",
        ];
        args.extend_from_slice(extra);
        mmsoak(tmp.path(), &args)
    };
    for policy in ["seed", "default"] {
        let (code, _, stderr) = sweep(&["--policy", policy, "--out", policy]);
        assert_eq!(code, 0, "{stderr}");
    }
    let (code, stdout, stderr) = mmsoak(tmp.path(), &["sweep", "compare", "seed", "seed"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.starts_with("# Sweep compare: PASS"), "{stdout}");
    assert!(stdout.contains("wilcoxon_signed_rank"), "{stdout}");
    let (code, stdout, stderr) = mmsoak(
        tmp.path(),
        &["sweep", "compare", "seed", "default", "--json"],
    );
    assert_eq!(code, 1, "{stdout}{stderr}");
    let c = parse_json(&stdout, "compare --json");
    assert_eq!(c["verdict"], "FAIL");
    let worse: Vec<&str> = c["scenarios"][0]["kpis"]
        .as_array()
        .expect("kpis")
        .iter()
        .filter(|k| k["worse"] == true)
        .filter_map(|k| k["kpi"].as_str())
        .collect();
    assert!(worse.contains(&"pnl_per_hour"), "{worse:?}");
    assert!(
        stderr.contains("default is worse on pnl_per_hour"),
        "{stderr}"
    );
    let (code, _, stderr) = mmsoak(tmp.path(), &["sweep", "compare", "seed", "nowhere"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("nowhere"), "{stderr}");
    // `sweep --baseline`: the comparison in the page, and exit 1.
    let (code, _, stderr) = sweep(&["--out", "withbase", "--baseline", "seed"]);
    assert_eq!(code, 1, "{stderr}");
    let html = fs::read_to_string(tmp.path().join("withbase/SWEEP_REPORT.html")).expect("html");
    assert!(
        html.contains("<h2 id=\"compare\" data-verdict=\"FAIL\">"),
        "{html}"
    );
    assert!(html.contains("<code>pnl_per_hour</code>"), "{html}");
}

/// `mmsoak policy lint`: the default policy is clean (exit 0), the seed's
/// table has the dead zone issue 14 names (exit 1), bad input exits 2.
#[test]
fn policy_lint_flags_the_seed_and_passes_the_default() {
    let tmp = tempdir();
    let (code, stdout, stderr) = mmsoak(tmp.path(), &["policy", "lint"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("default: no dead zone"), "{stdout}");
    let (code, stdout, _) = mmsoak(tmp.path(), &["policy", "lint", "--policy", "seed"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("region: 0 <= net_bps < 2.7")
            && stdout.contains("MAKER_BOOST would help; it needs net_bps >= 2.7"),
        "{stdout}"
    );
    fs::write(
        tmp.path().join("p.toml"),
        "[tuner.latency_hard]\nenabled = false\n",
    )
    .expect("write");
    let (code, stdout, _) = mmsoak(tmp.path(), &["policy", "lint", "--policy", "p.toml"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("region: 360 < p95_latency_ms"), "{stdout}");
    fs::write(
        tmp.path().join("bad.toml"),
        "[tuner.latency_hard]\nenabled = 3\n",
    )
    .expect("write");
    let (code, _, stderr) = mmsoak(tmp.path(), &["policy", "lint", "--policy", "bad.toml"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("bad.toml") && stderr.contains("enabled"),
        "{stderr}"
    );
}

#[test]
fn policy_prints_toml_that_round_trips() {
    let tmp = tempdir();
    let (code, defaults, stderr) = mmsoak(tmp.path(), &["policy"]);
    assert_eq!(code, 0, "{stderr}");
    for table in [
        "[guards]",
        "[gate]",
        "[bounds.min_interval_ms]",
        "[tuner.maker_boost]",
    ] {
        assert!(
            defaults.lines().any(|l| l == table),
            "{table} in:\n{defaults}"
        );
    }
    fs::write(tmp.path().join("defaults.toml"), &defaults).expect("write");
    let (code, again, stderr) = mmsoak(tmp.path(), &["policy", "--policy", "defaults.toml"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(again, defaults);

    // A changed value shows, and round-trips too.
    let edited = defaults.replace("pass_count_min = 6\n", "pass_count_min = 7\n");
    assert_ne!(
        edited, defaults,
        "the default policy has pass_count_min = 6"
    );
    fs::write(tmp.path().join("edited.toml"), &edited).expect("write");
    let (code, shown, stderr) = mmsoak(tmp.path(), &["policy", "--policy", "edited.toml"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(shown, edited);
}

// ---------------------------------------------------------------------------
// 6. verify below its threshold: a warning, or exit 1 with --strict.

#[test]
fn verify_below_threshold_warns_or_fails_when_strict() {
    let tmp = tempdir();
    let dir = tmp.path().join("soak");
    mock_soak(&dir);
    // The last applied iteration p: make R_{p+1} differ from the operation's `to`.
    let p = (1..24)
        .rev()
        .find(|i| {
            read_json(&dir.join(format!("ITER_SUMMARY_{i}.json")))["tuning"]["applied"] == true
        })
        .expect("the mock run applies something");
    let summary = read_json(&dir.join(format!("ITER_SUMMARY_{p}.json")));
    let param = summary["tuning"]["operations"][0]["param"]
        .as_str()
        .expect("an operation")
        .to_owned();
    let next = dir.join(format!("ITER_SUMMARY_{}.json", p + 1));
    let mut c = read_json(&next);
    let value = c["runtime_overrides"]
        .as_object_mut()
        .expect("runtime_overrides")
        .values_mut()
        .find_map(|section| section.get_mut(&param))
        .expect("the param in the next runtime");
    *value = match value.as_i64() {
        Some(n) => Value::from(n + 1),
        None => Value::from(value.as_f64().expect("a number") + 0.001),
    };
    fs::write(&next, serde_json::to_string_pretty(&c).expect("json")).expect("write");

    let pair = format!("pair {p} -> {}: {param}", p + 1);
    let (code, stdout, stderr) = mmsoak(
        tmp.path(),
        &["verify", "--path", s(&dir), "--json", "--threshold", "0.99"],
    );
    assert_eq!(code, 0, "non-strict only warns: {stderr}");
    let metrics = parse_json(&stdout, "verify --json stdout");
    assert!(metrics["fail_count"].as_u64() >= Some(1), "{metrics}");
    assert!(
        metrics["full_apply_ratio"].as_f64() < Some(0.99),
        "{metrics}"
    );
    assert!(stderr.contains("warning"), "{stderr}");
    assert!(
        stderr.contains(&pair),
        "names the failing pair and parameter: {stderr}"
    );

    let (code, stdout, stderr) = mmsoak(
        tmp.path(),
        &[
            "verify",
            "--path",
            s(&dir),
            "--json",
            "--strict",
            "--threshold",
            "0.99",
        ],
    );
    assert_eq!(code, 1, "strict below threshold exits 1: {stderr}");
    assert_eq!(parse_json(&stdout, "verify --json stdout"), metrics);
    assert!(
        stderr.contains("FAIL") && stderr.contains(&pair),
        "{stderr}"
    );
    let report = fs::read_to_string(dir.join("DELTA_VERIFY_REPORT.md")).expect("report written");
    assert!(report.contains(&param), "{report}");
}

// ---------------------------------------------------------------------------
// 7. The artifacts directory lock.

/// A `mmsoak run` in the background; killed with its bot on drop.
struct Background {
    child: Child,
    /// Where the fixture bot in `sleep` mode writes the pid of its `sleep`.
    bot_pid_file: PathBuf,
}

/// The process group of a process, from /proc.
fn pgid_of(pid: &str) -> Option<String> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = stat.rsplit_once(')')?.1;
    after_name.split_whitespace().nth(2).map(str::to_owned)
}

impl Background {
    fn bot_pgid(&self) -> Option<String> {
        let pid = fs::read_to_string(&self.bot_pid_file).ok()?;
        let pgid = pgid_of(pid.trim())?;
        // Never signal our own group (the test harness's).
        (Some(&pgid) != pgid_of("self").as_ref()).then_some(pgid)
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(pgid) = self.bot_pgid() {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{pgid}")])
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn second_run_in_a_locked_directory_exits_2_and_deletes_nothing() {
    let tmp = tempdir();
    let dir = tmp.path().join("soak");
    let exec = bot_command("sleep");
    let first = Command::new(env!("CARGO_BIN_EXE_mmsoak"))
        .args([
            "run",
            "--driver",
            "exec",
            "--exec",
            &exec,
            "--iterations",
            "2",
        ])
        .args(["--iteration-timeout", "60", "--out", s(&dir)])
        .current_dir(tmp.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(tmp.path().join("first.stderr")).expect("stderr file"))
        .spawn()
        .expect("spawn the first run");
    let mut first = Background {
        child: first,
        bot_pid_file: dir.join("iter_1/child.pid"),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !fs::read_to_string(&first.bot_pid_file).is_ok_and(|p| p.ends_with('\n')) {
        if let Some(status) = first.child.try_wait().expect("poll the first run") {
            panic!(
                "the first run ended early ({status}): {}",
                fs::read_to_string(tmp.path().join("first.stderr")).unwrap_or_default()
            );
        }
        assert!(Instant::now() < deadline, "the bot never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let bot_pgid = first
        .bot_pgid()
        .expect("the bot runs in its own process group");

    let before = tree(&dir);
    assert!(
        before.contains_key(Path::new("runtime_overrides.json")),
        "{:?}",
        before.keys()
    );
    let started = Instant::now();
    let (code, stdout, stderr) = mmsoak(
        tmp.path(),
        &["run", "--mock", "--iterations", "2", "--out", s(&dir)],
    );
    let took = started.elapsed();
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(stdout, "");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(
        stderr.contains(&format!("pid {}", first.child.id())),
        "names the holder: {stderr}"
    );
    assert!(
        took < Duration::from_secs(5),
        "refused at once, not after {took:?}"
    );
    assert!(
        tree(&dir) == before,
        "the refused run changed the directory"
    );

    // End the first run and its bot; the lock goes with it.
    let status = Command::new("kill")
        .args(["-KILL", "--", &format!("-{bot_pgid}")])
        .status()
        .expect("run kill");
    assert!(status.success());
    let status = first.child.wait().expect("wait for the first run");
    assert_eq!(
        status.code(),
        Some(2),
        "a killed bot stops the run with an error"
    );
    drop(first);
    let (code, _, stderr) = mmsoak(
        tmp.path(),
        &["run", "--mock", "--iterations", "2", "--out", s(&dir)],
    );
    assert_eq!(code, 0, "the lock is released: {stderr}");
}

/// `gate` under a policy other than the run's judges, and says so (as
/// `report` does); under the run's own it says nothing.
#[test]
fn gate_under_another_policy_than_the_runs_warns() {
    let tmp = tempdir();
    let dir = tmp.path().join("soak");
    mock_soak(&dir); // under --policy seed
    let (code, _, stderr) = mmsoak(tmp.path(), &["gate", "--path", s(&dir)]);
    assert!(code == 0 || code == 1, "{stderr}");
    assert!(
        stderr.contains("gate: warning: the run's policy (")
            && stderr.contains("pass the run's --policy; judged under this one"),
        "{stderr}"
    );
    let (code, _, stderr) = mmsoak(tmp.path(), &["gate", "--path", s(&dir), "--policy", "seed"]);
    assert!(code == 0 || code == 1, "{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
}
