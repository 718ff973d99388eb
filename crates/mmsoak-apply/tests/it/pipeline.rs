//! The apply pipeline end to end on real files: legacy behaviours, journal,
//! recovery, the lock across processes, and property tests.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use mmsoak_apply::{
    apply_with_tracking, initialize, recover, replay_decided, verify_chain, ApplyError,
    ApplyOutcome, GuardContext, GuardKpis, GuardPolicy, IterationRecord, RecoveryKind, RunHistory,
    SkipKind, SoakDirLock,
};
use mmsoak_core::{Delta, DeltaOp, Param, ParamRegistry, RuntimeOverrides, StateHash};
use proptest::prelude::*;

const CALM: GuardKpis = GuardKpis {
    risk_ratio: 0.45,
    maker_taker_ratio: None,
    net_bps: Some(2.4),
    p95_latency_ms: Some(300.0),
};

/// A run in a temporary artifacts directory, recording history like the runner.
struct Soak {
    _dir: tempfile::TempDir,
    lock: SoakDirLock,
    history: RunHistory,
    policy: GuardPolicy,
    registry: ParamRegistry,
    total: u32,
}

impl Soak {
    fn start(initial: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let lock = SoakDirLock::acquire(dir.path()).expect("lock");
        let registry = ParamRegistry::default();
        let ov = RuntimeOverrides::parse(initial.as_bytes(), Path::new("initial.json"))
            .expect("initial overrides");
        initialize(&lock, &ov, &registry).expect("initialize");
        Soak {
            _dir: dir,
            lock,
            history: RunHistory::new(),
            policy: GuardPolicy::default(),
            registry,
            total: 50,
        }
    }

    fn next_iteration(&self) -> u32 {
        self.history
            .iterations
            .last()
            .map_or(1, |r| r.iteration + 1)
    }

    fn try_step(&mut self, kpis: GuardKpis, ops: &[DeltaOp]) -> Result<ApplyOutcome, ApplyError> {
        let ctx = GuardContext {
            history: &self.history,
            iteration: self.next_iteration(),
            total_iterations: self.total,
            kpis,
            policy: &self.policy,
            registry: &self.registry,
        };
        let outcome = apply_with_tracking(&self.lock, ops, &ctx)?;
        self.history
            .push(IterationRecord::from_outcome(kpis, &outcome))
            .expect("history in order");
        Ok(outcome)
    }

    fn step(&mut self, ops: &[DeltaOp]) -> ApplyOutcome {
        self.try_step(CALM, ops).expect("apply step")
    }

    fn file(&self) -> RuntimeOverrides {
        RuntimeOverrides::from_path(&self.lock.runtime_path()).expect("runtime file parses")
    }

    fn file_hash(&self) -> StateHash {
        StateHash::of_canonical_bytes(
            &std::fs::read(self.lock.runtime_path()).expect("read runtime file"),
        )
    }

    fn journal(&self) -> String {
        std::fs::read_to_string(self.lock.journal_path()).expect("read journal")
    }
}

fn add(p: Param, x: f64) -> DeltaOp {
    DeltaOp::new(p, Delta::Add(x))
}

#[test]
fn relative_add_on_min_interval_gives_65_never_5() {
    let mut soak = Soak::start(r#"{"min_interval_ms": 60}"#);
    let out = soak.step(&[add(Param::MinIntervalMs, 5.0)]);
    assert!(out.applied);
    assert_eq!(soak.file().get(Param::MinIntervalMs), Some(65.0));
}

#[test]
fn applied_change_hash_is_the_hash_of_the_file_read_back() {
    let mut soak = Soak::start(r#"{"min_interval_ms": 60, "tail_age_ms": 600}"#);
    let out = soak.step(&[
        add(Param::TailAgeMs, 30.0),
        add(Param::ConcurrencyLimit, 0.0),
    ]);
    assert!(out.applied && !out.no_op && out.skip_reason.is_none());
    let hex = out.state_hash.to_string();
    assert!(
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    assert_eq!(out.state_hash, soak.file_hash());
    assert_eq!(out.state_hash, soak.file().state_hash());
    assert_ne!(out.old_hash, out.state_hash);
    // changed_keys lists exactly the changed parameters (not the no-op one).
    assert_eq!(out.changed_keys, vec![Param::TailAgeMs]);
    assert_eq!(out.changes.len(), 2);
    assert_eq!(
        out.bytes_written,
        std::fs::read(soak.lock.runtime_path()).expect("read").len() as u64
    );
    // The file is canonical, nested, with every parameter written out, no trailing newline.
    let text = std::fs::read_to_string(soak.lock.runtime_path()).expect("read");
    assert_eq!(
        text,
        r#"{"engine":{"concurrency_limit":10,"min_interval_ms":60,"replace_rate_per_min":300.0,"tail_age_ms":630},"risk":{"base_spread_bps":0.12,"base_spread_bps_delta":0.05,"impact_cap_ratio":0.1,"max_delta_ratio":0.15}}"#
    );
}

#[test]
fn repeated_identical_set_is_a_no_op() {
    let mut soak = Soak::start("{}");
    let set = [DeltaOp::new(Param::MinIntervalMs, Delta::Set(64.0))];
    let first = soak.step(&set);
    assert!(first.applied);
    let second = soak.step(&set);
    assert!(!second.applied && second.no_op);
    let reason = second.skip_reason.expect("skipped");
    assert_eq!(
        (reason.kind, reason.note.as_str()),
        (SkipKind::NoOp, "no effective change")
    );
    assert_eq!(second.old_hash, second.state_hash);
    assert_eq!(second.state_hash, first.state_hash);
    assert!(second.changed_keys.is_empty() && second.bytes_written == 0);
    // An empty proposal is a no-op too.
    let empty = soak.step(&[]);
    assert!(empty.no_op);
}

#[test]
fn outcome_serializes_in_the_legacy_shape() {
    let mut soak = Soak::start("{}");
    soak.step(&[add(Param::TailAgeMs, 100.0)]); // > 10% of 900: cooldown
    let out = soak.step(&[add(Param::TailAgeMs, 10.0)]);
    let json = serde_json::to_value(&out).expect("serialize");
    assert_eq!(
        json["skip_reason"],
        serde_json::json!({"cooldown": true, "velocity": false, "oscillation": false, "freeze": false,
            "no_op": false, "final_iteration": false, "note": "held through iter 4: 2 more iterations after this one"})
    );
    assert_eq!(json["applied"], false);
    assert_eq!(json["changed_keys"], serde_json::json!([]));
    assert_eq!(json["state_hash"], json["old_hash"]);
    assert_eq!(json["guards"]["cooldown_iters_left"], 2);
    let back: ApplyOutcome = serde_json::from_value(json).expect("deserialize");
    assert_eq!(back, out);
}

#[test]
fn each_guard_blocks_through_the_pipeline_with_its_flag_and_note() {
    // Cooldown.
    let mut soak = Soak::start("{}");
    soak.step(&[add(Param::TailAgeMs, 100.0)]);
    let out = soak.step(&[add(Param::ConcurrencyLimit, 1.0)]);
    assert!(out.guards.cooldown_active);
    assert_eq!(
        out.skip_reason.map(|r| (r.kind, r.note)),
        Some((
            SkipKind::Cooldown,
            "held through iter 4: 2 more iterations after this one".into()
        ))
    );

    // Velocity.
    let mut soak = Soak::start("{}");
    for x in [1.0, 2.0, 1.0] {
        assert!(soak.step(&[add(Param::MinIntervalMs, x)]).applied);
    }
    let out = soak.step(&[add(Param::MinIntervalMs, 1.0)]);
    assert!(out.guards.velocity_violation);
    assert_eq!(out.skip_reason.map(|r| r.kind), Some(SkipKind::Velocity));

    // Oscillation: A -> B -> A.
    let mut soak = Soak::start("{}");
    let a = soak.step(&[add(Param::MinIntervalMs, 5.0)]);
    let out = soak.step(&[add(Param::MinIntervalMs, -5.0)]);
    assert!(out.guards.oscillation_detected);
    let reason = out.skip_reason.expect("skipped");
    assert_eq!(reason.kind, SkipKind::Oscillation);
    assert!(
        reason.note.contains("state would return to"),
        "{}",
        reason.note
    );
    assert_eq!(out.state_hash, a.state_hash, "nothing written");

    // Freeze.
    let steady = GuardKpis {
        risk_ratio: 0.3,
        maker_taker_ratio: None,
        net_bps: Some(2.8),
        p95_latency_ms: Some(200.0),
    };
    let mut soak = Soak::start("{}");
    soak.try_step(steady, &[add(Param::TailAgeMs, 10.0)])
        .expect("step 1");
    let out = soak
        .try_step(steady, &[add(Param::TailAgeMs, 10.0)])
        .expect("step 2");
    assert!(out.guards.freeze_triggered);
    let reason = out.skip_reason.expect("frozen");
    assert_eq!(reason.kind, SkipKind::Freeze);
    assert!(
        reason.note.ends_with(": 4 more iterations after this one"),
        "{}",
        reason.note
    );

    // Final iteration: recorded, not applied.
    let mut soak = Soak::start("{}");
    soak.total = 1;
    let out = soak.step(&[add(Param::TailAgeMs, 10.0)]);
    assert!(!out.applied);
    assert_eq!(
        out.skip_reason.map(|r| r.kind),
        Some(SkipKind::FinalIteration)
    );
    assert_eq!(out.changes[0].to, 610.0);
    assert_eq!(soak.file().get(Param::TailAgeMs), Some(600.0));
}

#[test]
fn journal_lines_chain_from_init_to_the_file() {
    let mut soak = Soak::start("{}");
    let a = soak.step(&[add(Param::MinIntervalMs, 5.0)]);
    let b = soak.step(&[]);
    let c = soak.step(&[add(Param::TailAgeMs, 10.0)]);
    let lines: Vec<serde_json::Value> = soak
        .journal()
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    let kinds: Vec<&str> = lines
        .iter()
        .map(|l| l["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(
        kinds,
        ["init", "intent", "commit", "skip", "intent", "commit"]
    );
    assert_eq!(lines[0]["new_hash"], a.old_hash.to_string());
    assert_eq!(lines[2]["old_hash"], lines[0]["new_hash"]);
    assert_eq!(lines[5]["old_hash"], lines[2]["new_hash"]);
    assert_eq!(lines[3]["state_hash"], b.state_hash.to_string());
    assert_eq!(lines[5]["new_hash"], c.state_hash.to_string());
    assert_eq!(lines[1]["changes"][0]["to"], 65.0);
    let summary = verify_chain(&soak.lock).expect("chain verifies");
    assert_eq!(
        (
            summary.commits,
            summary.skips,
            summary.aborts,
            summary.entries
        ),
        (2, 1, 0, 6)
    );
    assert_eq!(summary.state_hash, c.state_hash);
    assert_eq!(summary.last_iteration, Some(3));
    // Same inputs, same bytes: a second run writes an identical journal.
    let mut again = Soak::start("{}");
    again.step(&[add(Param::MinIntervalMs, 5.0)]);
    again.step(&[]);
    again.step(&[add(Param::TailAgeMs, 10.0)]);
    assert_eq!(again.journal(), soak.journal());
}

/// Drop the journal's last line (a commit), as if the process died before writing it.
fn drop_last_line(path: &Path) {
    let text = std::fs::read_to_string(path).expect("read");
    let keep = text.trim_end_matches('\n').rfind('\n').map_or(0, |i| i + 1);
    std::fs::write(path, &text[..keep]).expect("write");
}

#[test]
fn recovery_completes_aborts_or_refuses() {
    // Killed after the rename, before the commit: completed.
    let mut soak = Soak::start("{}");
    let out = soak.step(&[add(Param::MinIntervalMs, 5.0)]);
    drop_last_line(&soak.lock.journal_path());
    let err = soak.try_step(CALM, &[]).expect_err("unfinished intent");
    assert_eq!(
        err.to_string(),
        format!(
            "{}: unfinished apply of iteration 1 (intent without commit); run recovery first",
            soak.lock.journal_path().display()
        )
    );
    assert!(matches!(
        verify_chain(&soak.lock),
        Err(ApplyError::NeedsRecovery {
            iteration: Some(1),
            ..
        })
    ));
    let r = recover(&soak.lock).expect("recover");
    assert_eq!(r.kind, RecoveryKind::Completed { iteration: 1 });
    assert_eq!(r.state_hash, out.state_hash);
    assert!(soak.journal().ends_with("\"recovered\":true}\n"));
    verify_chain(&soak.lock).expect("chain verifies after recovery");
    assert_eq!(
        recover(&soak.lock).expect("again").kind,
        RecoveryKind::Clean
    );

    // Killed after the intent, before the rename: aborted; the iteration may be retried.
    let dir = tempfile::tempdir().expect("tempdir");
    let lock = SoakDirLock::acquire(dir.path()).expect("lock");
    let reg = ParamRegistry::default();
    initialize(&lock, &RuntimeOverrides::new(), &reg).expect("init");
    let before = std::fs::read(lock.runtime_path()).expect("read");
    let policy = GuardPolicy::default();
    let history = RunHistory::new();
    let ctx = GuardContext {
        history: &history,
        iteration: 2,
        total_iterations: 5,
        kpis: CALM,
        policy: &policy,
        registry: &reg,
    };
    apply_with_tracking(&lock, &[add(Param::TailAgeMs, 10.0)], &ctx).expect("apply");
    drop_last_line(&lock.journal_path());
    std::fs::write(lock.runtime_path(), &before).expect("restore old state");
    let r = recover(&lock).expect("recover");
    assert_eq!(r.kind, RecoveryKind::Aborted { iteration: 2 });
    assert!(std::fs::read_to_string(lock.journal_path())
        .expect("read")
        .contains("\"kind\":\"abort\""));
    let earlier = GuardContext {
        iteration: 1,
        ..ctx
    };
    let err = apply_with_tracking(&lock, &[], &earlier).expect_err("before the aborted iteration");
    assert_eq!(
        err.to_string(),
        "iteration 1 cannot be applied: the apply journal has already reached iteration 2"
    );
    let retried = apply_with_tracking(&lock, &[add(Param::TailAgeMs, 20.0)], &ctx)
        .expect("retry iteration 2");
    assert!(retried.applied);
    let s = verify_chain(&lock).expect("verifies");
    assert_eq!((s.commits, s.aborts), (1, 1));
    // A decided iteration is not applied twice.
    let err = apply_with_tracking(&lock, &[], &ctx).expect_err("iteration 2 again");
    assert_eq!(
        err.to_string(),
        "iteration 2 cannot be applied: the apply journal has already decided iteration 2"
    );

    // Torn last line: cut off.
    let mut soak = Soak::start("{}");
    soak.step(&[add(Param::MinIntervalMs, 5.0)]);
    let torn = "{\"kind\":\"intent\",\"iter";
    let mut j = soak.journal();
    j.push_str(torn);
    std::fs::write(soak.lock.journal_path(), &j).expect("write");
    assert!(matches!(
        soak.try_step(CALM, &[]),
        Err(ApplyError::NeedsRecovery {
            iteration: None,
            ..
        })
    ));
    let r = recover(&soak.lock).expect("recover");
    assert_eq!(
        (r.kind, r.torn_bytes_dropped),
        (RecoveryKind::Clean, torn.len() as u64)
    );
    verify_chain(&soak.lock).expect("verifies");
    soak.step(&[add(Param::MinIntervalMs, 1.0)]);
}

#[test]
fn a_file_changed_outside_mmsoak_is_refused_naming_the_last_good_iteration() {
    let mut soak = Soak::start("{}");
    soak.step(&[add(Param::MinIntervalMs, 5.0)]);
    soak.step(&[]);
    std::fs::write(
        soak.lock.runtime_path(),
        br#"{"engine":{"min_interval_ms":99}}"#,
    )
    .expect("edit");
    for err in [
        soak.try_step(CALM, &[]).expect_err("apply refuses"),
        recover(&soak.lock).expect_err("recover refuses"),
        verify_chain(&soak.lock).expect_err("verify refuses"),
    ] {
        let msg = err.to_string();
        assert!(
            msg.contains("changed outside mmsoak; last good state: iteration 2"),
            "{msg}"
        );
        assert!(msg.contains("runtime_overrides.json"), "{msg}");
    }
    // Between intent and commit, a third state is refused too; nothing is written.
    let mut soak = Soak::start("{}");
    soak.step(&[add(Param::MinIntervalMs, 5.0)]);
    drop_last_line(&soak.lock.journal_path());
    let journal = soak.journal();
    std::fs::write(
        soak.lock.runtime_path(),
        br#"{"engine":{"min_interval_ms":99}}"#,
    )
    .expect("edit");
    let msg = recover(&soak.lock).expect_err("third state").to_string();
    assert!(msg.contains(" or "), "{msg}");
    assert!(msg.contains("last good state: the initial state"), "{msg}");
    assert_eq!(soak.journal(), journal);
    // A malformed runtime file names the file.
    std::fs::write(soak.lock.runtime_path(), b"{\"engine\": ").expect("truncate");
    let msg = recover(&soak.lock).expect_err("bad json").to_string();
    assert!(msg.contains("runtime_overrides.json"), "{msg}");
}

#[test]
fn uninitialized_directory_is_an_error_naming_the_journal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lock = SoakDirLock::acquire(dir.path()).expect("lock");
    let err = verify_chain(&lock).expect_err("no journal");
    assert!(
        err.to_string()
            .contains("APPLY_JOURNAL.jsonl: no apply journal"),
        "{err}"
    );
    assert!(matches!(
        recover(&lock),
        Err(ApplyError::JournalMissing { .. })
    ));
}

#[test]
fn initialize_starts_a_fresh_journal() {
    let mut soak = Soak::start(r#"{"min_interval_ms": 70}"#);
    soak.step(&[add(Param::MinIntervalMs, 5.0)]);
    let init = initialize(&soak.lock, &RuntimeOverrides::new(), &soak.registry).expect("re-init");
    assert_eq!(
        soak.journal(),
        format!(
            "{{\"kind\":\"init\",\"new_hash\":\"{}\"}}\n",
            init.state_hash
        )
    );
    assert_eq!(soak.file().get(Param::MinIntervalMs), Some(60.0));
    let s = verify_chain(&soak.lock).expect("verifies");
    assert_eq!(
        (s.entries, s.initial_hash, s.last_iteration),
        (1, init.state_hash, None)
    );
}

// ---- a second writer, in another process ----

const LOCK_CHILD_ENV: &str = "MMSOAK_TEST_LOCK_CHILD_DIR";

/// Child side: try to take the directory for a fresh run.
#[test]
fn lock_child_tries_a_fresh_run() {
    let Some(dir) = std::env::var_os(LOCK_CHILD_ENV) else {
        return;
    };
    match SoakDirLock::acquire(&dir) {
        Ok(lock) => {
            // Only reachable if the lock did not hold: start a fresh run (deletes the journal).
            let _ = initialize(&lock, &RuntimeOverrides::new(), &ParamRegistry::default());
            println!("CHILD-RESULT: acquired");
        }
        Err(e) => println!("CHILD-RESULT: refused: {e}"),
    }
}

#[test]
fn a_concurrent_second_writer_is_refused_at_once_and_deletes_nothing() {
    let mut soak = Soak::start(r#"{"min_interval_ms": 70}"#);
    soak.step(&[add(Param::MinIntervalMs, 5.0)]);
    let dir = soak.lock.dir().to_owned();
    let snapshot = |d: &Path| {
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(d)
            .expect("list")
            .map(|e| {
                let e = e.expect("entry");
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).expect("read"),
                )
            })
            .collect();
        files.sort();
        files
    };
    let before = snapshot(&dir);
    let started = Instant::now();
    let out = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "pipeline::lock_child_tries_a_fresh_run",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(LOCK_CHILD_ENV, &dir)
        .output()
        .expect("run child");
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    // libtest prints the test name on the same line before the child's output.
    let line = stdout
        .lines()
        .find_map(|l| l.find("CHILD-RESULT:").map(|i| &l[i..]))
        .unwrap_or_else(|| panic!("child printed no result: {stdout}"));
    assert!(line.contains("refused:"), "{line}");
    assert!(
        line.contains(&format!("pid {}, started at unix time", std::process::id())),
        "{line}"
    );
    assert!(line.contains("in use by another mmsoak process"), "{line}");
    assert!(
        elapsed < Duration::from_secs(20),
        "refusal took {elapsed:?}"
    );
    assert_eq!(
        snapshot(&dir),
        before,
        "the refused writer changed the directory"
    );
    verify_chain(&soak.lock).expect("chain intact");
}

// ---- property tests ----

fn arb_op() -> impl Strategy<Value = DeltaOp> {
    (0usize..8, 0u8..3, -200.0f64..200.0).prop_map(|(i, k, x)| {
        let p = Param::ALL[i];
        let d = match k {
            0 => Delta::Add(x),
            1 => Delta::Scale(1.0 + x / 400.0),
            _ => Delta::Set(x.abs() * ParamRegistry::default().spec(p).bounds.max / 100.0),
        };
        DeltaOp::new(p, d)
    })
}

fn arb_unknown() -> impl Strategy<Value = serde_json::Map<String, serde_json::Value>> {
    prop::collection::btree_map("x_[a-z]{1,5}", any::<i32>(), 0..4).prop_map(|m| {
        let mut doc: serde_json::Map<String, serde_json::Value> = m
            .into_iter()
            .map(|(k, v)| (k, serde_json::Value::from(v)))
            .collect();
        doc.insert("risk".into(), serde_json::json!({"desk_note": "keep"}));
        doc.insert("engine".into(), serde_json::json!({"venue": ["a", "b"]}));
        doc
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Bounds always hold; the hash changes iff a value changed; unknown keys survive.
    #[test]
    fn every_apply_keeps_bounds_hash_and_unknown_keys(
        unknown in arb_unknown(),
        steps in prop::collection::vec(prop::collection::vec(arb_op(), 0..4), 1..8),
        steady in any::<bool>(),
    ) {
        let initial = serde_json::to_string(&unknown).expect("json");
        let mut soak = Soak::start(&initial);
        let reg = ParamRegistry::default();
        let kpis = if steady { GuardKpis { risk_ratio: 0.2, maker_taker_ratio: None, net_bps: Some(3.0), p95_latency_ms: None } } else { CALM };
        for ops in steps {
            let before = soak.file();
            let out = soak.try_step(kpis, &ops).expect("apply");
            let after = soak.file();
            for p in Param::ALL {
                prop_assert!(reg.spec(p).bounds.contains(after.value(p, &reg)), "{} = {}", p, after.value(p, &reg));
            }
            let changed: Vec<Param> = Param::ALL
                .into_iter()
                .filter(|p| before.value(*p, &reg) != after.value(*p, &reg))
                .collect();
            prop_assert_eq!(out.state_hash != out.old_hash, !changed.is_empty());
            prop_assert_eq!(&out.changed_keys, &changed);
            prop_assert_eq!(out.applied, !changed.is_empty());
            prop_assert_eq!(out.state_hash, soak.file_hash());
            let doc = after.to_value();
            for (k, v) in unknown.iter().filter(|(k, _)| k.starts_with("x_")) {
                prop_assert_eq!(doc.get(k), Some(v));
            }
            prop_assert_eq!(doc.pointer("/risk/desk_note"), Some(&serde_json::json!("keep")));
            prop_assert_eq!(doc.pointer("/engine/venue"), Some(&serde_json::json!(["a", "b"])));
        }
        verify_chain(&soak.lock).expect("chain verifies");
    }
}

#[test]
fn a_decided_iteration_replays_to_the_same_outcome_and_refuses_other_inputs() {
    let mut soak = Soak::start(r#"{"min_interval_ms": 60}"#);
    let ops = [DeltaOp::new(Param::MinIntervalMs, Delta::Add(5.0))];
    let before = soak.file();
    let history_before = soak.history.clone();
    let applied = soak.step(&ops);
    assert!(applied.applied);
    let (policy, registry, total) = (soak.policy.clone(), soak.registry.clone(), soak.total);
    let ctx = |history| GuardContext {
        history,
        iteration: 1,
        total_iterations: total,
        kpis: CALM,
        policy: &policy,
        registry: &registry,
    };
    // Same inputs: the same outcome, and nothing is written.
    let journal_before = std::fs::read(soak.lock.journal_path()).expect("journal");
    let replayed =
        replay_decided(&soak.lock, &ops, &ctx(&history_before), &before).expect("replay");
    assert_eq!(replayed, applied);
    assert_eq!(
        std::fs::read(soak.lock.journal_path()).expect("journal"),
        journal_before
    );
    // Other ops, or another starting state: refused.
    let other = [DeltaOp::new(Param::MinIntervalMs, Delta::Add(10.0))];
    let err =
        replay_decided(&soak.lock, &other, &ctx(&history_before), &before).expect_err("other ops");
    assert!(
        matches!(err, ApplyError::ReplayMismatch { iteration: 1, .. }),
        "{err}"
    );
    let err = replay_decided(&soak.lock, &ops, &ctx(&history_before), &soak.file())
        .expect_err("other state");
    assert!(matches!(err, ApplyError::ReplayMismatch { .. }), "{err}");

    // A skip replays too (an empty proposal is a no-op skip).
    let history_before = soak.history.clone();
    let before = soak.file();
    let skipped = soak.step(&[]);
    assert!(!skipped.applied && skipped.no_op);
    let ctx2 = GuardContext {
        iteration: 2,
        ..ctx(&history_before)
    };
    assert_eq!(
        replay_decided(&soak.lock, &[], &ctx2, &before).expect("replay skip"),
        skipped
    );
    let err = replay_decided(&soak.lock, &ops, &ctx2, &before)
        .expect_err("replay applies, journal skipped");
    assert!(
        matches!(err, ApplyError::ReplayMismatch { iteration: 2, .. }),
        "{err}"
    );
}
