//! Fault injection: a child process applies changes in a loop and is killed
//! with SIGKILL at random moments. After every kill the runtime file parses,
//! holds the journal's old or new state, `recover` succeeds and
//! `verify_chain` passes.
//!
//! The child is this test binary itself, re-executed with `--exact
//! fault_child_apply_loop` and an environment variable naming the directory.
//! By default 5 kills run; with `MMSOAK_SLOW_TESTS=1`, 500. The seed is fixed
//! (override with `MMSOAK_FAULT_SEED` to explore) and printed for replay.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mmsoak_apply::{
    apply_with_tracking, initialize, recover, verify_chain, GuardContext, GuardKpis, GuardPolicy,
    JournalEntry, RecoveryKind, RunHistory, SoakDirLock,
};
use mmsoak_core::{Delta, DeltaOp, Param, ParamRegistry, RuntimeOverrides, StateHash};

const CHILD_ENV: &str = "MMSOAK_TEST_FAULT_CHILD_DIR";
const UNKNOWN_KEY: &str = "operator_note";

/// xorshift64: small, seeded, reproducible.
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        XorShift(seed.max(1))
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Child side: apply random `Set`s forever (until killed, or 60 s at most).
#[test]
fn fault_child_apply_loop() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let lock = SoakDirLock::acquire(&dir).expect("child takes the lock (parent released it)");
    let start = verify_chain(&lock).expect("child starts from a verified chain");
    let registry = ParamRegistry::default();
    let policy = GuardPolicy::default();
    let history = RunHistory::new();
    let kpis = GuardKpis {
        risk_ratio: 0.45,
        maker_taker_ratio: None,
        net_bps: Some(2.4),
        p95_latency_ms: Some(300.0),
    };
    let mut iteration = start.last_iteration.unwrap_or(0) + 1;
    let mut rng = XorShift::new(u64::from(iteration).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let param = Param::ALL[rng.below(8) as usize];
        let bounds = registry.spec(param).bounds;
        let value = bounds.min + bounds.range() * (rng.below(1001) as f64 / 1000.0);
        let ops = [DeltaOp::new(param, Delta::Set(value))];
        let ctx = GuardContext {
            history: &history,
            iteration,
            total_iterations: u32::MAX,
            kpis,
            policy: &policy,
            registry: &registry,
        };
        apply_with_tracking(&lock, &ops, &ctx).expect("child apply");
        iteration += 1;
    }
}

#[derive(Debug, Default)]
struct Counts {
    kills: usize,
    clean: usize,
    completed: usize,
    aborted: usize,
    torn_lines: usize,
    stale_temp_dirs: usize,
    applies_seen: BTreeMap<&'static str, usize>,
}

/// The last complete journal entry, read independently of the crate.
fn last_entry(journal: &Path) -> JournalEntry {
    let text = std::fs::read_to_string(journal).expect("journal readable");
    let complete = match text.rfind('\n') {
        Some(i) => &text[..i],
        None => "",
    };
    let line = complete.rsplit('\n').next().expect("a line");
    serde_json::from_str(line).expect("last complete journal line parses")
}

fn run_fault_injection(kills: usize, seed: u64) -> Counts {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let lock = SoakDirLock::acquire(dir.path()).expect("lock");
        let initial = RuntimeOverrides::parse(
            format!(r#"{{"min_interval_ms": 60, "{UNKNOWN_KEY}": {{"keep": [1, 2]}}}}"#).as_bytes(),
            Path::new("initial.json"),
        )
        .expect("initial");
        initialize(&lock, &initial, &ParamRegistry::default()).expect("initialize");
    }
    let exe = std::env::current_exe().expect("test binary");
    let mut rng = XorShift::new(seed);
    let mut counts = Counts::default();
    for kill in 0..kills {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "fault_injection::fault_child_apply_loop",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn child");
        std::thread::sleep(Duration::from_micros(2_000 + rng.below(60_000)));
        let _ = child.kill(); // SIGKILL; an error means it already exited
        let out = child.wait_with_output().expect("wait for child");
        assert!(
            out.status.code().is_none(),
            "kill {kill}: child exited by itself ({:?}) instead of being killed: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        counts.kills += 1;

        let lock = SoakDirLock::acquire(dir.path()).expect("lock is free once the child is dead");
        // The runtime file parses and holds the journal's old or new state.
        let file = RuntimeOverrides::from_path(&lock.runtime_path())
            .expect("runtime file parses after a kill");
        let raw = StateHash::of_canonical_bytes(&std::fs::read(lock.runtime_path()).expect("read"));
        assert_eq!(raw, file.state_hash(), "kill {kill}: file is canonical");
        match last_entry(&lock.journal_path()) {
            JournalEntry::Intent {
                old_hash, new_hash, ..
            } => {
                assert!(
                    raw == old_hash || raw == new_hash,
                    "kill {kill}: file is neither old nor new state"
                );
                *counts
                    .applies_seen
                    .entry("killed between intent and commit")
                    .or_default() += 1;
            }
            other => {
                assert_eq!(
                    Some(raw),
                    other.head(),
                    "kill {kill}: file is not the journal head"
                );
            }
        }
        let r = recover(&lock).unwrap_or_else(|e| panic!("kill {kill}: recover failed: {e}"));
        match r.kind {
            RecoveryKind::Clean => counts.clean += 1,
            RecoveryKind::Completed { .. } => counts.completed += 1,
            RecoveryKind::Aborted { .. } => counts.aborted += 1,
        }
        counts.torn_lines += usize::from(r.torn_bytes_dropped > 0);
        counts.stale_temp_dirs += r.stale_temp_dirs_removed;
        let summary =
            verify_chain(&lock).unwrap_or_else(|e| panic!("kill {kill}: verify_chain failed: {e}"));
        assert_eq!(summary.state_hash, raw, "kill {kill}");
        let doc = file.to_value();
        assert_eq!(
            doc[UNKNOWN_KEY],
            serde_json::json!({"keep": [1, 2]}),
            "kill {kill}: unknown key lost"
        );
        let leftovers = std::fs::read_dir(dir.path())
            .expect("list")
            .filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.file_name().to_string_lossy().starts_with(".atomicwrite"))
            })
            .count();
        assert_eq!(
            leftovers, 0,
            "kill {kill}: recover left temporary directories"
        );
    }
    let lock = SoakDirLock::acquire(dir.path()).expect("lock");
    let s = verify_chain(&lock).expect("final chain");
    *counts.applies_seen.entry("journal commits").or_default() += s.commits;
    *counts.applies_seen.entry("journal skips").or_default() += s.skips;
    *counts.applies_seen.entry("journal aborts").or_default() += s.aborts;
    counts
}

fn seed() -> u64 {
    std::env::var("MMSOAK_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_0003)
}

#[test]
fn sigkill_at_random_moments_never_breaks_the_chain() {
    let slow = std::env::var("MMSOAK_SLOW_TESTS").is_ok_and(|v| v == "1");
    let kills = if slow { 500 } else { 5 };
    let seed = seed();
    let started = Instant::now();
    let c = run_fault_injection(kills, seed);
    println!(
        "fault injection (seed {seed}): {} kills in {:.1?}; recoveries: clean {}, completed {}, aborted {}; \
         torn journal lines {}; stale temp dirs removed {}; {:?}",
        c.kills,
        started.elapsed(),
        c.clean,
        c.completed,
        c.aborted,
        c.torn_lines,
        c.stale_temp_dirs,
        c.applies_seen
    );
    assert_eq!(c.kills, kills);
    assert_eq!(c.clean + c.completed + c.aborted, kills);
    if slow {
        // With hundreds of kills the interesting windows must have been hit.
        assert!(
            c.completed + c.aborted > 0,
            "no kill landed between intent and commit: {c:?}"
        );
        assert!(
            c.applies_seen
                .get("journal commits")
                .is_some_and(|n| *n > kills),
            "{c:?}"
        );
    }
}
