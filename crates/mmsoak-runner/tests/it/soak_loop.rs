//! The closed loop end to end (library level): artifacts, hash chain,
//! determinism, snapshots, failure modes, the lock, and resume.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mmsoak_core::{RuntimeOverrides, StateHash};
use mmsoak_runner::{
    run_soak, Clock, Driver, DriverError, ExecDriver, IterationDone, IterationInput,
    IterationOutput, MockDriver, Quiet, Scenario, SimDriver, SoakConfig, SoakError, SoakObserver,
    SoakPolicy, StopRequest,
};
use serde_json::Value;

fn config(out: &Path, iterations: u32, auto_tune: bool) -> SoakConfig {
    SoakConfig {
        out_dir: out.to_owned(),
        iterations,
        auto_tune,
        seed: 42,
        policy: SoakPolicy::seed(),
        policy_file: None,
        initial_overrides: RuntimeOverrides::new(),
        exec_command: None,
        clock: Clock::Fixed,
        resume: false,
        stop: Default::default(),
    }
}

fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn hash_at(v: &Value, pointer: &str) -> StateHash {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no hash at {pointer}"))
}

/// Every file below `dir` (but the lock) with its bytes.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else if path.file_name().is_some_and(|n| n != ".mmsoak.lock") {
                let rel = path.strip_prefix(root).expect("below root").to_owned();
                out.insert(rel, std::fs::read(&path).expect("read"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

#[test]
fn mock_soak_writes_every_artifact_and_chains_the_hashes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("latest");
    let result = run_soak(&config(&out, 24, true), &mut MockDriver, &mut Quiet).expect("mock soak");
    assert_eq!(result.iterations, 24);
    assert!(result.applied >= 1, "the tuner changed something");

    let report = read_json(&out.join("TUNING_REPORT.json"));
    let entries = report["iterations"].as_array().expect("iterations list");
    assert_eq!(entries.len(), 24);
    for e in entries {
        for key in [
            "proposed_deltas",
            "applied",
            "skip_reason",
            "changed_keys",
            "state_hash",
        ] {
            assert!(
                e.get(key).is_some(),
                "TUNING_REPORT entry {} lacks {key}",
                e["iteration"]
            );
        }
    }
    assert_eq!(report["summary"]["count"], 24);
    assert_eq!(report["summary"]["applied"], result.applied);

    let summaries: Vec<Value> = (1..=24)
        .map(|i| read_json(&out.join(format!("ITER_SUMMARY_{i}.json"))))
        .collect();
    for (i, s) in summaries.iter().enumerate() {
        let i = i + 1;
        assert_eq!(s["iteration"], i);
        assert_eq!(s["driver"], "mock");
        assert_eq!(s["seed"], 42);
        for key in [
            "maker_taker_ratio",
            "maker_taker_source",
            "risk_ratio",
            "net_bps",
            "p95_latency_ms",
            "neg_edge_drivers",
        ] {
            assert!(
                s["summary"].get(key).is_some(),
                "ITER_SUMMARY_{i} summary lacks {key}"
            );
        }
        for key in [
            "deltas",
            "proposed_deltas",
            "rationale",
            "applied",
            "skip_reason",
            "changed_keys",
            "state_hash",
            "old_hash",
            "operations",
            "rules_fired",
            "freeze_triggered",
            "oscillation_detected",
            "velocity_violation",
            "cooldown_active",
        ] {
            assert!(
                s["tuning"].get(key).is_some(),
                "ITER_SUMMARY_{i} tuning lacks {key}"
            );
        }
        // The overrides in force are the snapshot the bot was given, and hash to old_hash.
        let snapshot =
            RuntimeOverrides::from_path(&out.join(format!("iter_{i}/runtime_overrides.json")))
                .expect("snapshot");
        assert_eq!(snapshot.to_value(), s["runtime_overrides"], "iteration {i}");
        assert_eq!(
            StateHash::of_value(&s["runtime_overrides"]),
            hash_at(s, "/tuning/old_hash"),
            "iteration {i}"
        );
        assert!(out.join(format!("iter_{i}/EDGE_REPORT.json")).is_file());
        let applied = s["tuning"]["applied"].as_bool().expect("applied flag");
        assert_eq!(
            applied,
            s["tuning"]["skip_reason"].is_null(),
            "iteration {i}"
        );
        assert_eq!(
            applied,
            hash_at(s, "/tuning/state_hash") != hash_at(s, "/tuning/old_hash"),
            "iteration {i}"
        );
    }
    // Chain: each state_hash is the next iteration's old_hash (and its runtime).
    for pair in summaries.windows(2) {
        assert_eq!(
            hash_at(&pair[0], "/tuning/state_hash"),
            hash_at(&pair[1], "/tuning/old_hash"),
            "after {}",
            pair[0]["iteration"]
        );
    }
    let last = hash_at(&summaries[23], "/tuning/state_hash");
    let current =
        RuntimeOverrides::from_path(&out.join("runtime_overrides.json")).expect("current state");
    assert_eq!(current.state_hash(), last);
    assert_eq!(result.final_state, last);

    let run = read_json(&out.join("SOAK_RUN.json"));
    assert_eq!(
        (
            run["completed_iterations"].as_u64(),
            run["finished"].as_bool()
        ),
        (Some(24), Some(true))
    );

    // What the verifier says about it: every proposal applied exactly or skipped for a reason.
    let verified = mmsoak_verify::verify_dir(&out).expect("verifiable");
    assert_eq!(verified.metrics.fail_count, 0);
    assert_eq!(verified.metrics.full_apply_ratio, 1.0);
    assert!(verified.metrics.full_apply_count >= 1);
}

#[test]
fn same_seed_and_fixed_clock_give_byte_identical_artifacts() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    run_soak(&config(&a, 12, true), &mut MockDriver, &mut Quiet).expect("first run");
    run_soak(&config(&b, 12, true), &mut MockDriver, &mut Quiet).expect("second run");
    let (ta, tb) = (tree(&a), tree(&b));
    assert_eq!(ta.keys().collect::<Vec<_>>(), tb.keys().collect::<Vec<_>>());
    for (path, bytes) in &ta {
        assert!(bytes == &tb[path], "{} differs", path.display());
    }
    // A fresh run in the same directory cleans it first: same bytes again.
    run_soak(&config(&a, 12, true), &mut MockDriver, &mut Quiet).expect("rerun");
    assert_eq!(tree(&a), tb);
}

#[test]
fn iteration_summary_and_tuning_report_snapshots() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("latest");
    run_soak(&config(&out, 24, true), &mut MockDriver, &mut Quiet).expect("mock soak");
    let text = |name: &str| std::fs::read_to_string(out.join(name)).expect("artifact");
    insta::assert_snapshot!("ITER_SUMMARY_3", text("ITER_SUMMARY_3.json"));
    // TUNING_REPORT: its first entry whole (the shape), then one line per
    // iteration (what happened), rather than 870 lines no one reviews. The
    // bytes are pinned by the golden manifest (mmsoak-cli tests/it/golden.rs).
    let report: serde_json::Value =
        serde_json::from_str(&text("TUNING_REPORT.json")).expect("TUNING_REPORT is JSON");
    let entries = report["iterations"].as_array().expect("iterations");
    assert_eq!(entries.len(), 24);
    insta::assert_snapshot!(
        "TUNING_REPORT_entry_1",
        serde_json::to_string_pretty(&entries[0]).expect("entry")
    );
    insta::assert_snapshot!("TUNING_REPORT_by_iteration", by_iteration(entries));
}

/// One line per TUNING_REPORT entry: iteration, net_bps, what became of
/// the proposal, the rules that fired and the keys that changed.
fn by_iteration(entries: &[serde_json::Value]) -> String {
    let names = |v: &serde_json::Value| -> String {
        let list: Vec<&str> = v
            .as_array()
            .map(|a| a.iter().filter_map(|x| x.as_str()).collect())
            .unwrap_or_default();
        if list.is_empty() {
            "-".into()
        } else {
            list.join(",")
        }
    };
    let mut out =
        String::from("iter  net_bps  outcome               rules_fired -> changed_keys\n");
    for e in entries {
        let outcome = match (&e["skip_reason"], e["applied"].as_bool()) {
            (serde_json::Value::Object(flags), _) => {
                let set: Vec<&str> = flags
                    .iter()
                    .filter(|(_, v)| v.as_bool() == Some(true))
                    .map(|(k, _)| k.as_str())
                    .collect();
                format!("skipped: {}", set.join(","))
            }
            (_, Some(true)) => "applied".to_owned(),
            _ => "nothing proposed".to_owned(),
        };
        out.push_str(&format!(
            "{:>4}  {:>7}  {outcome:<20}  {} -> {}\n",
            e["iteration"].to_string(),
            e["net_bps"].to_string(),
            names(&e["rules_fired"]),
            names(&e["changed_keys"]),
        ));
    }
    out
}

#[test]
fn without_auto_tune_nothing_is_proposed_or_applied() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("latest");
    let result = run_soak(&config(&out, 6, false), &mut MockDriver, &mut Quiet).expect("soak");
    assert_eq!(result.applied, 0);
    for i in 1..=6 {
        let s = read_json(&out.join(format!("ITER_SUMMARY_{i}.json")));
        assert_eq!(s["tuning"]["operations"], serde_json::json!([]));
        assert_eq!(s["tuning"]["deltas"], serde_json::json!({}));
        assert!(s["tuning"]["rationale"]
            .as_str()
            .is_some_and(|r| r.starts_with("AUTO_TUNE_OFF")));
    }
}

fn bot() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/bots/overrides_bot.sh")
}

fn exec_config(out: &Path, mode: &str) -> (SoakConfig, ExecDriver) {
    let cmd = format!(
        "sh {} {{overrides}} {{out}} {{iteration}} {mode}",
        bot().display()
    );
    let mut c = config(out, 6, true);
    c.exec_command = Some(cmd.clone());
    let driver = ExecDriver::new(cmd, Duration::from_millis(1500)).expect("a valid command");
    (c, driver)
}

#[test]
fn exec_bot_reads_the_overrides_the_tuner_changed() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("latest");
    let (c, mut driver) = exec_config(&out, "ok");
    run_soak(&c, &mut driver, &mut Quiet).expect("exec soak");
    // The bot reports p95 = 400 - min_interval_ms it read from its overrides.
    for i in 1..=6 {
        let s = read_json(&out.join(format!("ITER_SUMMARY_{i}.json")));
        let min_interval = s["runtime_overrides"]["engine"]["min_interval_ms"]
            .as_f64()
            .expect("min_interval_ms");
        assert_eq!(
            s["summary"]["p95_latency_ms"].as_f64(),
            Some(400.0 - min_interval),
            "iteration {i}"
        );
    }
}

#[test]
fn a_failing_bot_stops_the_run_with_earlier_iterations_intact() {
    for (mode, needle) in [
        ("fail@3", "exchange unreachable"),
        ("sleep@3", "timed out"),
        ("garbage@3", "invalid JSON"),
    ] {
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("latest");
        let (c, mut driver) = exec_config(&out, mode);
        let err = run_soak(&c, &mut driver, &mut Quiet).expect_err("the bot fails at iteration 3");
        let msg = err.to_string();
        assert!(matches!(err, SoakError::Driver(_)), "{mode}: {msg}");
        assert!(
            msg.contains("iteration 3") && msg.contains(needle),
            "{mode}: {msg}"
        );
        // Iterations 1 and 2 are complete and consistent; nothing of 3 is recorded.
        assert!(
            out.join("ITER_SUMMARY_2.json").is_file() && !out.join("ITER_SUMMARY_3.json").exists(),
            "{mode}"
        );
        let report = read_json(&out.join("TUNING_REPORT.json"));
        assert_eq!(
            report["iterations"].as_array().map(Vec::len),
            Some(2),
            "{mode}"
        );
        assert_eq!(
            read_json(&out.join("SOAK_RUN.json"))["completed_iterations"],
            2,
            "{mode}"
        );
        let verified = mmsoak_verify::verify_dir(&out).expect("the partial run verifies");
        assert_eq!(verified.metrics.fail_count, 0, "{mode}");
    }
}

#[test]
fn a_second_writer_is_refused_and_nothing_is_deleted() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("latest");
    run_soak(&config(&out, 3, true), &mut MockDriver, &mut Quiet).expect("first soak");
    let before = tree(&out);
    let _held = mmsoak_apply::SoakDirLock::acquire(&out).expect("lock held by 'another process'");
    let err = run_soak(&config(&out, 3, true), &mut MockDriver, &mut Quiet).expect_err("refused");
    assert!(matches!(err, SoakError::Lock(_)), "{err}");
    assert!(err.to_string().contains("pid"), "names the holder: {err}");
    assert_eq!(tree(&out), before);
}

/// A driver that fails once at a given iteration, like a crash would.
struct CrashOnce {
    at: u32,
    crashed: bool,
}

impl Driver for CrashOnce {
    fn name(&self) -> &'static str {
        "mock"
    }
    fn is_mock(&self) -> bool {
        true
    }
    fn run_iteration(
        &mut self,
        input: &IterationInput<'_>,
    ) -> Result<IterationOutput, DriverError> {
        if input.iteration == self.at && !self.crashed {
            self.crashed = true;
            return Err(DriverError::Io {
                iteration: input.iteration,
                path: input.out_dir.to_owned(),
                source: std::io::Error::other("simulated crash"),
            });
        }
        MockDriver.run_iteration(input)
    }
}

/// Requests a stop once iteration `at` is done (as a signal handler would).
struct StopAfter {
    at: u32,
    stop: StopRequest,
}

impl SoakObserver for StopAfter {
    fn iteration_done(&mut self, done: &IterationDone<'_>) {
        if done.iteration == self.at {
            self.stop.request(15);
        }
    }
}

#[test]
fn a_stop_request_ends_the_run_after_a_complete_iteration_and_resume_finishes_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (full, stopped) = (tmp.path().join("full"), tmp.path().join("stopped"));
    run_soak(&config(&full, 12, true), &mut MockDriver, &mut Quiet).expect("uninterrupted");
    let mut cfg = config(&stopped, 12, true);
    let mut observer = StopAfter {
        at: 4,
        stop: cfg.stop.clone(),
    };
    let err = run_soak(&cfg, &mut MockDriver, &mut observer).expect_err("stopped");
    assert!(
        matches!(
            err,
            SoakError::Stopped {
                completed: 4,
                iterations: 12,
                value: 15
            }
        ),
        "{err:?}"
    );
    assert!(stopped.join("ITER_SUMMARY_4.json").is_file());
    assert!(!stopped.join("ITER_SUMMARY_5.json").exists());
    cfg.resume = true;
    cfg.stop = StopRequest::new();
    let result = run_soak(&cfg, &mut MockDriver, &mut Quiet).expect("resumed");
    assert_eq!(result.first_iteration, 5);
    assert_eq!(tree(&stopped), tree(&full));
}

/// A stop requested while the exec bot runs kills its process group at once.
#[test]
fn a_stop_request_kills_the_exec_bot() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("iter_1");
    std::fs::create_dir_all(&out).expect("mkdir");
    let cmd = format!(
        "sh {} {{overrides}} {{out}} {{iteration}} sleep",
        bot().display()
    );
    let stop = StopRequest::new();
    let later = stop.clone();
    let pid_file = out.join("child.pid");
    let asker = std::thread::spawn(move || {
        // Once the bot's child runs (or after 20 s, failing below).
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while !std::fs::read_to_string(&pid_file).is_ok_and(|p| p.ends_with('\n'))
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(10));
        }
        later.request(2);
    });
    let started = std::time::Instant::now();
    let overrides = RuntimeOverrides::new();
    let overrides_path = tmp.path().join("runtime_overrides.json");
    std::fs::write(&overrides_path, overrides.to_canonical_bytes()).expect("overrides");
    let err = ExecDriver::new(cmd, Duration::from_secs(60))
        .expect("a valid command")
        .run_iteration(&IterationInput {
            iteration: 1,
            overrides: &overrides,
            overrides_path: &overrides_path,
            out_dir: &out,
            stop: &stop,
        })
        .expect_err("stopped");
    asker.join().expect("asker");
    assert!(
        matches!(
            err,
            DriverError::Stopped {
                iteration: 1,
                value: 2
            }
        ),
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "stopped at once, not after the bot's 30 s"
    );
    // The bot's `sleep` child was in the killed group.
    let pid = std::fs::read_to_string(out.join("child.pid")).expect("child pid");
    let gone = |pid: &str| {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |s| {
            s.rsplit_once(')')
                .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
        })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !gone(pid.trim()) {
        assert!(
            std::time::Instant::now() < deadline,
            "the bot's child outlived the stop"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A complete iteration's summary that is truncated, missing or another's
/// stops a resume before it writes anything, naming the file.
#[test]
fn resume_refuses_a_directory_whose_complete_summaries_are_spoiled() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let stopped = tmp.path().join("stopped");
    let mut crashing = CrashOnce {
        at: 4,
        crashed: false,
    };
    run_soak(&config(&stopped, 6, true), &mut crashing, &mut Quiet).expect_err("stops at 4");
    let mut resume = config(&stopped, 6, true);
    resume.resume = true;
    let summary = stopped.join("ITER_SUMMARY_2.json");
    let good = std::fs::read(&summary).expect("summary");
    type Spoil = Box<dyn Fn()>;
    let (s1, s2, s3) = (summary.clone(), summary.clone(), summary.clone());
    let other = std::fs::read(stopped.join("ITER_SUMMARY_3.json")).expect("summary 3");
    let spoils: Vec<(&str, Spoil)> = vec![
        (
            "cannot be read",
            Box::new(move || std::fs::write(&s1, &good[..200]).expect("truncate")),
        ),
        (
            "is missing",
            Box::new(move || std::fs::remove_file(&s2).expect("remove")),
        ),
        (
            "is not this run's summary",
            Box::new(move || std::fs::write(&s3, &other).expect("replace")),
        ),
    ];
    let pristine = std::fs::read(&summary).expect("summary");
    for (what, spoil) in spoils {
        spoil();
        let before = tree(&stopped);
        let err = run_soak(&resume, &mut MockDriver, &mut Quiet).expect_err(what);
        let text = err.to_string();
        assert!(
            matches!(err, SoakError::Resume { .. })
                && text.contains("ITER_SUMMARY_2.json of complete iteration 2")
                && text.contains(what),
            "{what}: {text}"
        );
        assert_eq!(
            tree(&stopped),
            before,
            "{what}: the refused resume wrote something"
        );
        std::fs::write(&summary, &pristine).expect("restore");
    }
    run_soak(&resume, &mut MockDriver, &mut Quiet).expect("resumes once restored");
}

#[test]
fn resume_continues_a_stopped_run_to_the_same_artifacts() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (full, stopped) = (tmp.path().join("full"), tmp.path().join("stopped"));
    run_soak(&config(&full, 24, true), &mut MockDriver, &mut Quiet).expect("uninterrupted");
    let mut crashing = CrashOnce {
        at: 6,
        crashed: false,
    };
    run_soak(&config(&stopped, 24, true), &mut crashing, &mut Quiet).expect_err("stops at 6");
    let mut resume = config(&stopped, 24, true);
    resume.resume = true;
    let result = run_soak(&resume, &mut crashing, &mut Quiet).expect("resumed");
    assert_eq!(result.first_iteration, 6);
    assert_eq!(tree(&stopped), tree(&full));
}

/// Collects the observer's notices.
#[derive(Default)]
struct Notices(Vec<String>);

impl SoakObserver for Notices {
    fn notice(&mut self, text: &str) {
        self.0.push(text.to_owned());
    }
}

/// Nothing to resume (killed before the first run record, or before the
/// directory was made): nothing complete can be lost, and the run starts
/// afresh, saying so. Another run's directory is refused.
#[test]
fn resume_of_nothing_starts_afresh_and_of_another_run_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("latest");
    let mut c = config(&out, 4, true);
    c.resume = true;
    let mut notices = Notices::default();
    let result = run_soak(&c, &mut MockDriver, &mut notices).expect("a fresh run instead");
    assert_eq!((result.first_iteration, result.iterations), (1, 4));
    assert_eq!(
        notices.0,
        [format!(
            "nothing to resume in {}: no such directory (a run killed before its first iteration was complete); starting a fresh run",
            out.display()
        )]
    );
    let fresh = tree(&out);
    c.resume = false;
    run_soak(&c, &mut MockDriver, &mut Quiet).expect("a run");
    assert_eq!(tree(&out), fresh, "the same as a fresh run");
    c.resume = true;
    c.seed = 7;
    let err = run_soak(&c, &mut MockDriver, &mut Quiet).expect_err("other seed");
    assert!(err.to_string().contains("seed differs"), "{err}");
}

/// The simulator's settings are part of the run: resuming with another
/// simulated duration (or scenario contents, or recorded market) would mix
/// two markets in one soak, so it is refused, naming the setting and both
/// values.
#[test]
fn resume_refuses_other_sim_settings() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("latest");
    let sim = |seconds: u64| {
        let scenario = Scenario::builtin("calm").expect("calm");
        SimDriver::new(scenario, SoakPolicy::default().registry, 42)
            .with_duration(Duration::from_secs(seconds))
    };
    let mut c = config(&out, 2, true);
    run_soak(&c, &mut sim(60), &mut Quiet).expect("a sim run");
    let settings = &read_json(&out.join("SOAK_RUN.json"))["config"]["driver_settings"];
    assert_eq!(settings["sim_duration_s"], "60");
    assert_eq!(settings["scenario_hash"].as_str().map(str::len), Some(64));

    c.resume = true;
    let before = tree(&out);
    let err = run_soak(&c, &mut sim(120), &mut Quiet).expect_err("other duration");
    assert!(
        err.to_string()
            .contains("driver setting sim_duration_s differs from the killed run's (SOAK_RUN.json): it was \"60\", now \"120\""),
        "{err}"
    );
    // The same scenario name with other contents (a TOML file edited
    // between the kill and the resume).
    let mut edited = Scenario::builtin("calm").expect("calm");
    edited.latency.base_ms += 1.0;
    let mut other_contents = SimDriver::new(edited, SoakPolicy::default().registry, 42)
        .with_duration(Duration::from_secs(60));
    let err = run_soak(&c, &mut other_contents, &mut Quiet).expect_err("other contents");
    assert!(
        err.to_string()
            .contains("driver setting scenario_hash differs"),
        "{err}"
    );
    let err = run_soak(&c, &mut MockDriver, &mut Quiet).expect_err("other driver");
    assert!(err.to_string().contains("it was sim, now mock"), "{err}");
    assert_eq!(tree(&out), before, "a refused resume changes nothing");
}

/// A fresh run removes what a soak wrote in its directory, so it must be
/// new, empty or a soak's (it holds the lock file every run leaves): any
/// other is refused untouched, without a lock file, even when its files
/// have soak names. In a soak's directory only a soak's files are removed;
/// an editor's or the OS's leftovers stay.
#[test]
fn a_fresh_run_never_empties_a_directory_that_is_not_a_soaks() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("latest");
    std::fs::create_dir_all(out.join(".git")).expect("mkdir");
    std::fs::write(out.join("notes.txt"), "mine").expect("write");
    let before = tree(&out);
    let err = run_soak(&config(&out, 2, true), &mut MockDriver, &mut Quiet).expect_err("refused");
    assert!(matches!(err, SoakError::ForeignFile { .. }), "{err}");
    assert!(
        err.to_string().contains("holds `.git`"),
        "the first by name: {err}"
    );
    assert_eq!(tree(&out), before);
    assert!(!out.join(".mmsoak.lock").exists());

    // Soak-named files, but no soak wrote them (a fixture, an archive).
    let archive = tmp.path().join("archive");
    std::fs::create_dir(&archive).expect("mkdir");
    std::fs::write(archive.join("ITER_SUMMARY_1.json"), "{}").expect("write");
    let err = run_soak(&config(&archive, 2, true), &mut MockDriver, &mut Quiet)
        .expect_err("not a soak's");
    assert!(err.to_string().contains("not a soak's directory"), "{err}");
    assert_eq!(std::fs::read_dir(&archive).expect("read_dir").count(), 1);

    let soak = tmp.path().join("soak");
    run_soak(&config(&soak, 2, true), &mut MockDriver, &mut Quiet).expect("a soak");
    for name in [
        "DELTA_VERIFY_REPORT.md",
        "POST_SOAK_SNAPSHOT.json",
        "POST_SOAK_METRICS.prom",
        "SOAK_REPORT.html",
        "SOAK_REPORT.md",
        ".DS_Store",
    ] {
        std::fs::write(soak.join(name), "x").expect("write");
    }
    // What a write killed halfway leaves: a temporary directory with a file.
    std::fs::create_dir(soak.join(".atomicwriteAbC123")).expect("mkdir");
    std::fs::write(soak.join(".atomicwriteAbC123/tmpfile.tmp"), "x").expect("write");
    run_soak(&config(&soak, 3, true), &mut MockDriver, &mut Quiet).expect("reused");
    assert!(
        !soak.join("SOAK_REPORT.md").exists(),
        "a soak's files are removed first"
    );
    assert!(!soak.join(".atomicwriteAbC123").exists());
    assert!(soak.join(".DS_Store").is_file(), "other files stay");
    assert!(soak.join("ITER_SUMMARY_3.json").is_file());
    assert!(!soak.join("ITER_SUMMARY_4.json").exists());

    let err = run_soak(&config(Path::new(""), 2, true), &mut MockDriver, &mut Quiet)
        .expect_err("empty path");
    assert!(matches!(err, SoakError::Config(_)), "{err}");
}

/// A fresh run over a simulator's or mock's soak keeps what a person put in
/// its iteration directories (only the soak's files there go); over an exec
/// run's, the iteration directories are the bot's and go whole.
#[test]
fn a_fresh_run_keeps_a_persons_files_in_iteration_directories_of_a_mock_run() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let soak = tmp.path().join("soak");
    run_soak(&config(&soak, 4, true), &mut MockDriver, &mut Quiet).expect("a soak");
    std::fs::write(soak.join("iter_2/analysis.txt"), "mine").expect("write");
    std::fs::create_dir(soak.join("iter_4/plots")).expect("mkdir");
    std::fs::write(soak.join("iter_4/plots/a.png"), "png").expect("write");
    run_soak(&config(&soak, 4, true), &mut MockDriver, &mut Quiet).expect("again");
    assert_eq!(
        std::fs::read_to_string(soak.join("iter_2/analysis.txt")).expect("kept"),
        "mine"
    );
    assert!(soak.join("iter_4/plots/a.png").is_file());
    // The new run's own files are there, fresh.
    assert!(soak.join("iter_2/EDGE_REPORT.json").is_file());
    assert!(soak.join("ITER_SUMMARY_4.json").is_file());
    // A shorter run: iteration directories it does not reach go when only
    // the soak's files were in them, and stay with a person's.
    run_soak(&config(&soak, 1, true), &mut MockDriver, &mut Quiet).expect("shorter");
    assert!(!soak.join("iter_3").exists());
    assert!(soak.join("iter_2/analysis.txt").is_file());
    assert!(!soak.join("iter_2/EDGE_REPORT.json").exists());
    // Nor does a resume remove them (but it does remove a killed write's
    // temporary directory).
    std::fs::create_dir(soak.join("iter_4/.atomicwriteXyZ")).expect("mkdir");
    std::fs::write(soak.join("iter_4/.atomicwriteXyZ/tmpfile.tmp"), "x").expect("write");
    let mut crashing = CrashOnce {
        at: 2,
        crashed: false,
    };
    run_soak(&config(&soak, 4, true), &mut crashing, &mut Quiet).expect_err("stops at 2");
    let mut resume = config(&soak, 4, true);
    resume.resume = true;
    run_soak(&resume, &mut crashing, &mut Quiet).expect("resumed");
    assert!(soak.join("iter_2/analysis.txt").is_file());
    assert!(soak.join("iter_4/plots/a.png").is_file());
    assert!(!soak.join("iter_4/.atomicwriteXyZ").exists());
    assert!(soak.join("ITER_SUMMARY_4.json").is_file());

    let (cfg, mut exec) = exec_config(&tmp.path().join("exec"), "ok");
    run_soak(&cfg, &mut exec, &mut Quiet).expect("exec soak");
    std::fs::write(cfg.out_dir.join("iter_1/quotes.csv"), "bot's").expect("write");
    run_soak(&cfg, &mut exec, &mut Quiet).expect("exec again");
    assert!(!cfg.out_dir.join("iter_1/quotes.csv").exists());
}
