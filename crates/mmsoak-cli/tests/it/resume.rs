//! `mmsoak run --resume` after SIGKILL, SIGINT or SIGTERM: the resumed
//! run's artifacts equal an uninterrupted run's, byte for byte (fixed clock).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

fn mmsoak() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mmsoak"))
}

fn bot() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/bots/overrides_bot.sh")
}

/// Every file below `dir` (but the lock) with its bytes.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    crate::common::tree(dir)
        .into_iter()
        .filter(|(path, _)| path.file_name().is_some_and(|n| n != ".mmsoak.lock"))
        .filter_map(|(path, bytes)| Some((path, bytes?)))
        .collect()
}

/// The decisions a journal records: every `init`, `commit` and `skip` line
/// without recovery markers. A crash adds honest history (an aborted intent,
/// a commit completed by recovery) that an uninterrupted run does not have;
/// the states and decisions must still be the same.
fn decisions(journal: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(journal)
        .lines()
        .filter_map(|line| {
            let mut v: serde_json::Value = serde_json::from_str(line).expect("journal line");
            let kind = v["kind"].as_str().unwrap_or_default().to_owned();
            if !["init", "commit", "skip"].contains(&kind.as_str()) {
                return None;
            }
            if let Some(obj) = v.as_object_mut() {
                obj.remove("recovered");
            }
            Some(v.to_string())
        })
        .collect()
}

#[track_caller]
fn assert_same_tree(got: &Path, want: &Path) {
    let (g, w) = (tree(got), tree(want));
    assert_eq!(
        g.keys().collect::<Vec<_>>(),
        w.keys().collect::<Vec<_>>(),
        "same files"
    );
    for (path, bytes) in &w {
        if path == Path::new("APPLY_JOURNAL.jsonl") {
            assert_eq!(
                decisions(&g[path]),
                decisions(bytes),
                "the journal's decisions differ after resume"
            );
        } else {
            assert!(&g[path] == bytes, "{} differs after resume", path.display());
        }
    }
}

#[track_caller]
fn ok(out: Output) {
    assert!(
        out.status.success(),
        "exit {:?}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn exec_args(out: &Path) -> Vec<String> {
    let cmd = format!(
        "sh {} {{overrides}} {{out}} {{iteration}} block@6",
        bot().display()
    );
    [
        "run",
        "--iterations",
        "12",
        "--auto-tune",
        "--driver",
        "exec",
        "--fixed-clock",
        "--seed",
        "3",
        "--exec",
        &cmd,
        "--out",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([out.display().to_string()])
    .collect()
}

fn wait_for(path: &Path, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !path.exists() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("mmsoak exited ({status}) before reaching iteration 6");
        }
        assert!(Instant::now() < deadline, "iteration 6 never started");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The process group the blocked bot wrote (the shell creates the file
/// before `cut` writes the line into it).
fn read_pgid(file: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(file).expect("pgid");
        if text.ends_with('\n') {
            return text.trim().to_owned();
        }
        assert!(Instant::now() < deadline, "no pgid written");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn sigkill_during_iteration_6_then_resume_equals_an_uninterrupted_run() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (full, killed) = (tmp.path().join("full"), tmp.path().join("killed"));
    ok(mmsoak()
        .args(exec_args(&full))
        .output()
        .expect("uninterrupted run"));

    let block = tmp.path().join("block");
    std::fs::write(&block, "").expect("block file");
    let mut child = mmsoak()
        .args(exec_args(&killed))
        .env("MMSOAK_TEST_BLOCK_FILE", &block)
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let pgid_file = tmp.path().join("block.pgid");
    wait_for(&pgid_file, &mut child);
    // The bot may run before mmsoak has recorded its pid (then only its
    // token would find it): wait for the whole record.
    let record = killed.join("iter_6/bot.process.json");
    let deadline = Instant::now() + Duration::from_secs(10);
    let started = |text: &str| {
        serde_json::from_str::<serde_json::Value>(text)
            .is_ok_and(|v| v["start_ticks"].as_u64().is_some())
    };
    while !std::fs::read_to_string(&record).is_ok_and(|r| started(&r)) {
        assert!(
            Instant::now() < deadline,
            "the bot's record has no start time"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("SIGKILL mmsoak");
    child.wait().expect("reap");
    // The bot runs in its own process group: it outlives mmsoak, still
    // blocked in iteration 6's directory.
    let pgid = read_pgid(&pgid_file);
    assert!(!alive_in_group(&pgid).is_empty(), "the bot outlived mmsoak");
    assert!(killed.join("iter_6/bot.process.json").is_file());

    // Iterations 1..5 are complete; 6 is not.
    assert!(killed.join("ITER_SUMMARY_5.json").is_file());
    assert!(!killed.join("ITER_SUMMARY_6.json").exists());

    // The resume kills the left-over bot (which would stay blocked: its
    // block file is still there) before it reuses iteration 6's directory;
    // its own bot does not block.
    let mut resume = exec_args(&killed);
    resume.push("--resume".into());
    let out = mmsoak().args(&resume).output().expect("resume");
    ok(out.clone());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "soak: killed the bot a killed soak left running in {}",
            killed.join("iter_6").display()
        )) && stderr.contains(&format!("process group {pgid})")),
        "{stderr}"
    );
    assert!(
        alive_in_group(&pgid).is_empty(),
        "the left-over bot is gone"
    );
    assert!(stderr.contains("resuming at iteration 6"), "{stderr}");
    std::fs::remove_file(&block).expect("unblock");
    assert_same_tree(&killed, &full);
}

/// Processes of group `pgid` that are still alive (not zombies), from /proc.
fn alive_in_group(pgid: &str) -> Vec<String> {
    let mut alive = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let Some((_, after_name)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        if fields.get(2) == Some(&pgid) && fields.first() != Some(&"Z") {
            alive.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    alive
}

/// SIGINT or SIGTERM while the exec bot runs iteration 6: the soak stops at
/// once with 128 + the signal, the bot's whole process group is gone (it
/// would otherwise go on trading and writing into the artifacts), and a
/// resume equals an uninterrupted run.
#[test]
fn sigint_or_sigterm_stops_the_soak_and_its_bot_then_resume_equals_an_uninterrupted_run() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let full = tmp.path().join("full");
    ok(mmsoak()
        .args(exec_args(&full))
        .output()
        .expect("uninterrupted run"));

    for (signal, name, code) in [("-INT", "SIGINT", 130), ("-TERM", "SIGTERM", 143)] {
        let dir = tmp.path().join(name);
        let block = tmp.path().join(format!("block-{name}"));
        std::fs::write(&block, "").expect("block file");
        let mut child = mmsoak()
            .args(exec_args(&dir))
            .env("MMSOAK_TEST_BLOCK_FILE", &block)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        let pgid_file = tmp.path().join(format!("block-{name}.pgid"));
        wait_for(&pgid_file, &mut child);
        let pgid = read_pgid(&pgid_file);
        let pgid = pgid.as_str();
        assert!(!alive_in_group(pgid).is_empty(), "the bot runs");

        let sent = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        while child.try_wait().expect("poll").is_none() {
            assert!(Instant::now() < deadline, "{name} did not stop the soak");
            std::thread::sleep(Duration::from_millis(10));
        }
        let out = child.wait_with_output().expect("reap");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{name}: {stderr}");
        assert!(
            stderr.contains(&format!("soak: stopped by {name} after 5 of 12 iterations")),
            "{stderr}"
        );
        // The bot's group was killed (its orphans may take a moment to be
        // reaped by init).
        let deadline = Instant::now() + Duration::from_secs(10);
        while !alive_in_group(pgid).is_empty() {
            assert!(
                Instant::now() < deadline,
                "{name}: the bot outlived the soak: {:?}",
                alive_in_group(pgid)
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(dir.join("ITER_SUMMARY_5.json").is_file());
        assert!(!dir.join("ITER_SUMMARY_6.json").exists());

        std::fs::remove_file(&block).expect("unblock");
        let mut resume = exec_args(&dir);
        resume.push("--resume".into());
        ok(mmsoak().args(&resume).output().expect("resume"));
        assert_same_tree(&dir, &full);
    }
}

/// SIGKILL a mock soak at random moments (seeded), resume, and compare.
/// `MMSOAK_SLOW_TESTS=1` runs 300 kills; the default run does 4.
#[test]
fn sigkill_at_random_moments_then_resume_equals_an_uninterrupted_run() {
    let kills = if std::env::var_os("MMSOAK_SLOW_TESTS").is_some() {
        300
    } else {
        4
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let full = tmp.path().join("full");
    let args = |out: &Path| {
        [
            "run",
            "--iterations",
            "24",
            "--auto-tune",
            "--mock",
            "--fixed-clock",
            "--seed",
            "9",
            "--out",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([out.display().to_string()])
        .collect::<Vec<_>>()
    };
    let started = Instant::now();
    ok(mmsoak()
        .args(args(&full))
        .output()
        .expect("uninterrupted run"));
    let span = started.elapsed().as_micros().max(1000) as u64;

    let mut rng: u64 = 0x5EED_0005;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let (mut resumed, mut restarted, mut finished_first, mut replayed) = (0, 0, 0, 0);
    for k in 0..kills {
        let dir = tmp.path().join(format!("k{k}"));
        let mut child = mmsoak()
            .args(args(&dir))
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(Duration::from_micros(next() % span));
        if child.try_wait().expect("try_wait").is_some() {
            finished_first += 1;
        }
        let _ = child.kill();
        child.wait().expect("reap");
        if killed_between_apply_and_records(&dir) {
            replayed += 1;
        }
        let mut resume = args(&dir);
        resume.push("--resume".into());
        let out = mmsoak().args(&resume).output().expect("resume");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "kill {k}: resume failed: {stderr}");
        if stderr.contains("nothing to resume in") {
            // Killed before the run had recorded anything to resume from:
            // nothing complete was lost, and the resume starts afresh.
            restarted += 1;
        } else {
            resumed += 1;
        }
        assert_same_tree(&dir, &full);
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
    eprintln!(
        "{kills} kills: {resumed} resumed ({replayed} between an apply and its records: replayed), \
         {restarted} started afresh (killed before SOAK_RUN.json), {finished_first} had already finished"
    );
}

/// Whether the journal decided an iteration that SOAK_RUN.json does not count yet.
fn killed_between_apply_and_records(dir: &Path) -> bool {
    let Ok(run) = std::fs::read(dir.join("SOAK_RUN.json")) else {
        return false;
    };
    let Ok(run) = serde_json::from_slice::<serde_json::Value>(&run) else {
        return false;
    };
    let completed = run["completed_iterations"].as_u64().unwrap_or(0);
    let journal = std::fs::read(dir.join("APPLY_JOURNAL.jsonl")).unwrap_or_default();
    let last_decided = String::from_utf8_lossy(&journal)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| matches!(v["kind"].as_str(), Some("commit" | "skip")))
        .filter_map(|v| v["iteration"].as_u64())
        .max()
        .unwrap_or(0);
    last_decided > completed
}

/// A sim run's market is part of the run: resuming with the same market
/// spelled by another path is the same run; another market, or a run whose
/// SOAK_RUN.json predates recorded driver settings, is refused (exit 2)
/// without touching the artifacts.
#[test]
fn a_sim_run_resumes_only_on_the_same_market() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let scenario = mmsoak_sim::Scenario::builtin("default").expect("default");
    for (name, seed) in [("m.npz", 1), ("other.npz", 2)] {
        let tape = mmsoak_sim::generate(&scenario.market, seed, 60_000);
        mmsoak_sim::write_market_npz(&tape, &tmp.path().join(name)).expect("write npz");
    }
    let run = |market: &str, resume: bool| -> Output {
        let mut cmd = mmsoak();
        cmd.current_dir(tmp.path()).args([
            "run",
            "--iterations",
            "2",
            "--sim-duration",
            "60",
            "--fixed-clock",
            "--market",
            market,
            "--out",
            "out",
        ]);
        if resume {
            cmd.arg("--resume");
        }
        cmd.output().expect("run mmsoak")
    };
    let first = run("m.npz", false);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let out = tmp.path().join("out");
    let before = tree(&out);
    let soak_run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("SOAK_RUN.json")).expect("SOAK_RUN.json"))
            .expect("json");
    assert_eq!(
        soak_run["config"]["driver_settings"]["market_hash"]
            .as_str()
            .map(str::len),
        Some(64)
    );

    let same = run("./m.npz", true);
    assert!(
        same.status.success(),
        "{}",
        String::from_utf8_lossy(&same.stderr)
    );
    assert!(String::from_utf8_lossy(&same.stderr).contains("nothing to run"));
    assert_eq!(tree(&out), before, "a complete run resumed changes nothing");

    let other = run("other.npz", true);
    assert_eq!(other.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&other.stderr);
    assert!(
        stderr.contains("driver setting market_hash differs"),
        "{stderr}"
    );
    assert_eq!(tree(&out), before);

    // Written before driver settings were recorded.
    let mut old = soak_run.clone();
    old["config"]
        .as_object_mut()
        .expect("config")
        .remove("driver_settings");
    std::fs::write(out.join("SOAK_RUN.json"), old.to_string()).expect("write");
    let old_run = run("m.npz", true);
    assert_eq!(old_run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&old_run.stderr);
    assert!(
        stderr.contains("records no settings of the sim driver")
            && stderr.contains("start the run again"),
        "{stderr}"
    );
}

/// SIGKILL `verify`, `snapshot`, `gate --prometheus` and `report` at random
/// moments (seeded) while they write: every report file is then absent or
/// whole (equal to what an uninterrupted command writes), never torn, and
/// the next command removes what the killed write left (`.atomicwrite*`).
/// `MMSOAK_SLOW_TESTS=1` runs 252 kills; the default run does 8.
#[test]
fn report_writers_killed_at_random_moments_leave_no_torn_file() {
    let kills = if std::env::var_os("MMSOAK_SLOW_TESTS").is_some() {
        252
    } else {
        8
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("soak");
    // A longer soak: larger reports, longer writes.
    ok(mmsoak()
        .args([
            "run",
            "--iterations",
            "200",
            "--auto-tune",
            "--mock",
            "--fixed-clock",
            "--out",
        ])
        .arg(&dir)
        .output()
        .expect("soak"));
    let soak = tree(&dir);
    let commands: [(&[&str], &[&str]); 4] = [
        (&["verify"], &["DELTA_VERIFY_REPORT.md"]),
        (&["snapshot"], &["POST_SOAK_SNAPSHOT.json"]),
        (&["gate", "--prometheus"], &["POST_SOAK_METRICS.prom"]),
        (&["report"], &["SOAK_REPORT.html", "SOAK_REPORT.md"]),
    ];
    let run = |args: &[&str]| {
        let mut cmd = mmsoak();
        cmd.args(args).arg("--path").arg(&dir);
        cmd
    };
    let remove_outputs = || {
        for (_, files) in &commands {
            for f in *files {
                let _ = std::fs::remove_file(dir.join(f));
            }
        }
    };
    // What each command writes uninterrupted, and how long it takes.
    let mut reference = BTreeMap::new();
    let mut spans = Vec::new();
    for (args, files) in &commands {
        // The shortest of three runs (the first reads a cold cache).
        let mut span = u64::MAX;
        for _ in 0..3 {
            let started = Instant::now();
            let out = run(args).output().expect("reference");
            assert!(
                out.status.code().is_some_and(|c| c <= 1),
                "{args:?}: {out:?}"
            );
            span = span.min(started.elapsed().as_micros().max(1000) as u64);
        }
        spans.push(span);
        for f in *files {
            reference.insert(*f, std::fs::read(dir.join(f)).expect("written"));
        }
    }
    remove_outputs();

    let mut rng: u64 = 0x5EED_0007;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let (mut whole, mut absent, mut leftovers) = (0, 0, 0);
    for k in 0..kills {
        let which = k % commands.len();
        let (args, files) = commands[which];
        let mut child = run(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        // Writes come last: kill in the second half of the command's time
        // (and a little after it), where they are.
        let span = spans[which];
        std::thread::sleep(Duration::from_micros(span / 2 + next() % (span * 3 / 5)));
        let _ = child.kill();
        child.wait().expect("reap");
        for f in files {
            match std::fs::read(dir.join(f)) {
                Ok(bytes) => {
                    assert!(
                        bytes == reference[f],
                        "kill {k}: {f} is torn ({} bytes)",
                        bytes.len()
                    );
                    whole += 1;
                }
                Err(_) => absent += 1,
            }
        }
        let left = std::fs::read_dir(&dir)
            .expect("list")
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(".atomicwrite"))
            .count();
        leftovers += left;
        // The next command in the directory cleans up after the killed one.
        let out = run(args).output().expect("rerun");
        assert!(
            out.status.code().is_some_and(|c| c <= 1),
            "kill {k}: {out:?}"
        );
        for f in files {
            assert!(std::fs::read(dir.join(f)).expect("written") == reference[f]);
        }
        let entries: Vec<String> = std::fs::read_dir(&dir)
            .expect("list")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".atomicwrite"))
            .collect();
        assert!(entries.is_empty(), "kill {k}: left {entries:?}");
        remove_outputs();
    }
    // The soak's own files are untouched by all of it.
    let mut after = tree(&dir);
    after.retain(|p, _| soak.contains_key(p));
    assert!(after == soak, "the soak's files changed");
    eprintln!(
        "{kills} kills of report writers: {whole} files whole, {absent} absent, \
         {leftovers} interrupted writes left and removed by the next command"
    );
}

/// Issue 15: SIGINT stops a sweep between soaks (exit 130, the finished
/// soaks' outcomes kept), and `--resume` runs only the rest, ending with the
/// report an uninterrupted sweep writes (timing aside).
#[test]
fn sigint_stops_a_sweep_and_resume_finishes_it_with_the_same_report() {
    use std::io::{BufRead, BufReader};
    let tmp = tempfile::tempdir().expect("tempdir");
    let args = |out: &Path| -> Vec<String> {
        [
            "sweep",
            "--scenarios",
            "default",
            "--seeds",
            "0..7",
            "--iterations",
            "6",
            "--sim-duration",
            "3600",
            "--jobs",
            "1",
            "--keep",
            "none",
            "--out",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .chain(std::iter::once(out.display().to_string()))
        .collect()
    };
    let full = tmp.path().join("full");
    ok(mmsoak()
        .args(args(&full))
        .output()
        .expect("uninterrupted sweep"));

    let dir = tmp.path().join("stopped");
    let mut child = mmsoak()
        .args(args(&dir))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    // Two soaks done (one line each, stderr not being a terminal); the
    // other six take seconds, the signal milliseconds.
    for line in lines.by_ref() {
        if line.expect("a line").starts_with("[2/8]") {
            break;
        }
    }
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(sent.success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().expect("reap");
    assert_eq!(status.code(), Some(130), "{rest:?}");
    assert!(
        rest.iter()
            .any(|l| l.starts_with("sweep: stopped after") && l.contains("--resume")),
        "{rest:?}"
    );
    assert!(!dir.join("SWEEP_REPORT.json").exists());

    let out = mmsoak()
        .args(args(&dir))
        .arg("--resume")
        .output()
        .expect("resume");
    ok(out.clone());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("(earlier run)"), "{stderr}");
    let report = |d: &Path| -> serde_json::Value {
        let mut v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(d.join("SWEEP_REPORT.json")).expect("report"))
                .expect("json");
        let timing = v.as_object_mut().and_then(|o| o.remove("timing"));
        assert!(timing.is_some());
        v
    };
    assert_eq!(report(&dir), report(&full));
}
