//! The exec driver against a small fixture bot (fixtures/bots/overrides_bot.sh).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mmsoak_core::{Delta, DeltaOp, Param, ParamRegistry, RuntimeOverrides};
use mmsoak_runner::{Driver, DriverError, ExecDriver, IterationInput};

fn bot() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/bots/overrides_bot.sh")
}

struct Setup {
    dir: tempfile::TempDir,
    overrides: RuntimeOverrides,
}

impl Setup {
    fn new(min_interval_ms: f64) -> Setup {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut overrides = RuntimeOverrides::new();
        overrides
            .apply(
                &DeltaOp::new(Param::MinIntervalMs, Delta::Set(min_interval_ms)),
                &ParamRegistry::default(),
            )
            .expect("finite");
        std::fs::write(
            dir.path().join("runtime_overrides.json"),
            overrides.to_canonical_bytes(),
        )
        .expect("write overrides");
        Setup { dir, overrides }
    }

    fn run(
        &self,
        mode: &str,
        iteration: u32,
        timeout: Duration,
    ) -> Result<mmsoak_runner::IterationOutput, DriverError> {
        let out = self.dir.path().join(format!("iter_{iteration}"));
        std::fs::create_dir_all(&out).expect("mkdir");
        let cmd = format!(
            "sh {} {{overrides}} {{out}} {{iteration}} {mode}",
            bot().display()
        );
        let mut driver = ExecDriver::new(cmd, timeout).expect("a valid command");
        driver.run_iteration(&IterationInput {
            iteration,
            overrides: &self.overrides,
            overrides_path: &self.dir.path().join("runtime_overrides.json"),
            out_dir: &out,
            stop: &Default::default(),
        })
    }
}

const T: Duration = Duration::from_secs(20);

#[test]
fn report_depends_on_the_overrides_the_bot_read() {
    for (min_interval, p95) in [(60.0, 340.0), (90.0, 310.0)] {
        let s = Setup::new(min_interval);
        let out = s.run("ok", 1, T).expect("bot succeeds");
        assert_eq!(out.report.totals.p95_latency_ms, Some(p95));
        assert_eq!(out.fill_log, None);
        assert!(out.report_path.ends_with("iter_1/EDGE_REPORT.json"));
    }
}

#[test]
fn fill_log_is_picked_up() {
    let s = Setup::new(60.0);
    let out = s.run("fills", 2, T).expect("bot succeeds");
    let log = out.fill_log.expect("fills.jsonl read");
    assert_eq!(
        (log.totals.maker_volume, log.totals.taker_volume),
        (900.0, 100.0)
    );
}

#[test]
fn non_zero_exit_names_iteration_and_shows_stderr() {
    let s = Setup::new(60.0);
    let err = s.run("fail", 4, T).expect_err("bot fails");
    let msg = err.to_string();
    assert!(
        matches!(err, DriverError::Failed { iteration: 4, .. }),
        "{msg}"
    );
    assert!(msg.contains("iteration 4"), "{msg}");
    assert!(
        msg.contains("fatal: exchange unreachable (iteration 4)"),
        "{msg}"
    );
    assert!(msg.contains("exit status: 3"), "{msg}");
}

#[test]
fn timeout_kills_the_whole_process_group() {
    let s = Setup::new(60.0);
    let start = Instant::now();
    let err = s
        .run("sleep", 5, Duration::from_millis(500))
        .expect_err("times out");
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "returned promptly"
    );
    let msg = err.to_string();
    assert!(
        matches!(err, DriverError::Timeout { iteration: 5, .. }),
        "{msg}"
    );
    assert!(msg.contains("hanging on purpose"), "{msg}");
    // The bot's own child (sleep 30) must be gone too.
    let pid =
        std::fs::read_to_string(s.dir.path().join("iter_5/child.pid")).expect("child pid written");
    let proc_dir = PathBuf::from(format!("/proc/{}", pid.trim()));
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let alive = std::fs::read_to_string(proc_dir.join("stat"))
            .map(|stat| !stat.contains(") Z "))
            .unwrap_or(false);
        if !alive {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "grandchild {} survived the timeout",
            pid.trim()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Field `n` (1-based, as in proc(5)) of `/proc/PID/stat`, when the
/// process exists and is not a zombie.
fn stat_field(pid: &str, n: usize) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    (fields.first() != Some(&"Z")).then(|| fields.get(n - 3).map(|f| f.to_string()))?
}

/// Wait (5 s at most) until process `pid` has ended.
#[track_caller]
fn assert_ends(pid: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while stat_field(pid, 3).is_some() {
        assert!(Instant::now() < deadline, "{what} {pid} survived");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A child that left the bot's process group and session (`setsid`)
/// escapes a group kill: it is found by the bot's token and killed when the
/// bot exits, and on timeout; the bot's record is gone with it.
#[test]
fn a_child_that_left_the_bots_group_is_killed_with_the_bot() {
    let s = Setup::new(60.0);
    for (mode, iteration, timeout) in [
        ("escape", 8, T),
        ("escape-hang", 9, Duration::from_millis(800)),
    ] {
        let result = s.run(mode, iteration, timeout);
        let out = s.dir.path().join(format!("iter_{iteration}"));
        let pid = std::fs::read_to_string(out.join("escaped.pid")).expect("escaped.pid");
        let pid = pid.trim();
        match mode {
            "escape" => assert!(result.is_ok(), "{result:?}"),
            _ => assert!(
                matches!(result, Err(DriverError::Timeout { iteration: 9, .. })),
                "{result:?}"
            ),
        }
        assert_ends(pid, &format!("{mode}: the escaped child"));
        assert!(
            !out.join("bot.process.json").exists(),
            "{mode}: record left"
        );
    }
}

/// A bot that replaces its stderr log (by a FIFO, by an endless file)
/// cannot make the driver hang or read without end: the tail is read from
/// the handle the bot was given.
#[test]
fn a_replaced_stderr_log_neither_blocks_nor_floods_the_driver() {
    for (mode, iteration) in [("stderr-fifo", 10), ("stderr-zero", 11)] {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let s = Setup::new(60.0);
            let result = s.run(mode, iteration, T).map(|_| ());
            let _ = tx.send(result.map_err(|e| e.to_string()));
        });
        let result = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("{mode}: the driver hung"));
        let msg = result.expect_err("the bot exits 1");
        assert!(msg.contains("exit status: 1"), "{mode}: {msg}");
        assert!(msg.len() < 10_000, "{mode}: a {} byte message", msg.len());
    }
}

#[test]
fn garbage_or_missing_report_is_a_clear_error() {
    let s = Setup::new(60.0);
    let err = s.run("garbage", 6, T).expect_err("garbage report");
    let msg = err.to_string();
    assert!(
        matches!(err, DriverError::Report { iteration: 6, .. }),
        "{msg}"
    );
    assert!(
        msg.contains("iter_6/EDGE_REPORT.json") && msg.contains("invalid JSON"),
        "{msg}"
    );

    let err = s.run("noreport", 7, T).expect_err("no report");
    let msg = err.to_string();
    assert!(
        msg.contains("iteration 7") && msg.contains("cannot read"),
        "{msg}"
    );
}
