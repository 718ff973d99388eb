//! Hostile input and a hostile artifacts directory, through the real
//! binary: placeholders that would inject shell code, symbolic links that
//! would redirect writes and deletes, FIFOs that would block, huge files
//! that would exhaust memory, duplicate keys that would change a verdict
//! silently, a deleted journal that would switch the chain check off,
//! bounds no reader accepts, leftovers of killed writes. Each case needs an
//! error naming the file (exit 2) or a correct result, within seconds and
//! under a 1 GiB address-space limit, and nothing written through a link.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common;
use common::s;

/// What one run of `mmsoak` did.
struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `mmsoak ARGS` in `cwd` under `ulimit -v` 1 GiB (reading a 2 GB
/// input whole would abort it) and kills it after 60 s (a FIFO opened for
/// reading would block it forever).
#[track_caller]
fn mmsoak(cwd: &Path, args: &[&str]) -> Ran {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -v 1048576 && exec "$0" "$@""#)
        .arg(env!("CARGO_BIN_EXE_mmsoak"))
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mmsoak");
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("poll").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("mmsoak {args:?} hung (killed after 60 s)");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    let code = out
        .status
        .code()
        .unwrap_or_else(|| panic!("mmsoak {args:?} died of a signal: {:?}", out.status));
    Ran {
        code,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Asserts exit 2 with one short `error:` line naming every one of `names`.
#[track_caller]
fn refused(ran: &Ran, names: &[&str], case: &str) {
    assert_eq!(
        ran.code, 2,
        "{case}: exit 2 expected\nstdout: {}\nstderr: {}",
        ran.stdout, ran.stderr
    );
    assert!(ran.stderr.starts_with("error: "), "{case}: {}", ran.stderr);
    assert!(
        ran.stderr.len() < 2_000,
        "{case}: a {} byte message quotes too much",
        ran.stderr.len()
    );
    for name in names {
        assert!(
            ran.stderr.contains(name),
            "{case}: names {name}: {}",
            ran.stderr
        );
    }
}

fn bot() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/bots/overrides_bot.sh")
        .canonicalize()
        .expect("fixtures/bots/overrides_bot.sh exists")
}

fn exec_command(mode: &str) -> String {
    format!(
        "sh '{}' {{overrides}} {{out}} {{iteration}} {mode}",
        bot().display()
    )
}

fn mkfifo(path: &Path) {
    let made = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(made.success(), "mkfifo {}", path.display());
}

/// A sparse file of 2 GB (zeros): nothing on disk, all of it to a reader.
fn sparse_2gb(path: &Path) {
    fs::File::create(path)
        .expect("create")
        .set_len(2 << 30)
        .expect("set_len");
}

/// A 24-iteration mock soak in `dir`.
#[track_caller]
fn mock_soak(dir: &Path) {
    common::mock_soak(dir);
}

/// Every path under `dir`, links not followed.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).expect("read_dir").flatten() {
        let path = entry.path();
        out.push(path.clone());
        if entry.file_type().expect("file type").is_dir() {
            out.extend(walk(&path));
        }
    }
    out
}

// ---------------------------------------------------------------------------
// 1. Placeholders: one pass over the template, values quoted.

#[test]
fn placeholders_in_an_artifacts_path_are_neither_run_nor_replaced() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for out in [
        "w/y{out}$(touch pwned)",
        "w/i{iteration}`touch pwned`; touch 'pwned'",
    ] {
        let ran = mmsoak(
            tmp.path(),
            &[
                "run",
                "--driver",
                "exec",
                "--exec",
                &exec_command("ok"),
                "--iterations",
                "2",
                "--fixed-clock",
                "--out",
                out,
            ],
        );
        assert_eq!(ran.code, 0, "{out}: {}", ran.stderr);
        // The directory has the name given, placeholders and all.
        assert!(
            tmp.path()
                .join(out)
                .join("iter_2/EDGE_REPORT.json")
                .is_file(),
            "{out}"
        );
    }
    // A placeholder inside quotes would be pasted into a script another
    // shell runs: refused before anything is written.
    let out = tmp.path().join("quoted");
    let ran = mmsoak(
        tmp.path(),
        &[
            "run",
            "--driver",
            "exec",
            "--exec",
            &format!(
                "sh -c 'sh {} {{overrides}} {{out}} {{iteration}}'",
                bot().display()
            ),
            "--out",
            s(&out),
        ],
    );
    refused(
        &ran,
        &["`{overrides}`", "inside quotes", "$MMSOAK_OUT"],
        "quoted",
    );
    assert!(!out.exists());
    let pwned: Vec<_> = walk(tmp.path())
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "pwned"))
        .collect();
    assert!(pwned.is_empty(), "a command ran: {pwned:?}");
}

// ---------------------------------------------------------------------------
// 2. Symbolic links inside the artifacts directory.

#[test]
fn a_linked_lock_file_is_refused_and_its_target_untouched() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let victim = tmp.path().join("victim.txt");
    fs::write(&victim, "keep").expect("victim");
    for (name, target) in [
        ("linked", victim.clone()),
        ("dangling", tmp.path().join("nowhere")),
    ] {
        let dir = tmp.path().join(name);
        fs::create_dir(&dir).expect("dir");
        std::os::unix::fs::symlink(&target, dir.join(".mmsoak.lock")).expect("symlink");
        let ran = mmsoak(
            tmp.path(),
            &["run", "--mock", "--iterations", "2", "--out", s(&dir)],
        );
        refused(&ran, &[".mmsoak.lock", "symbolic link"], name);
    }
    assert_eq!(fs::read_to_string(&victim).expect("victim"), "keep");
    assert!(
        !tmp.path().join("nowhere").exists(),
        "created through a link"
    );
}

/// An exec soak whose bot fails at iteration 3: two complete iterations.
fn failed_exec_soak(cwd: &Path, dir: &Path) -> Vec<String> {
    let args: Vec<String> = [
        "run",
        "--driver",
        "exec",
        "--exec",
        &exec_command("fail@3"),
        "--iterations",
        "5",
        "--fixed-clock",
        "--out",
        s(dir),
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    let borrowed: Vec<&str> = args.iter().map(String::as_str).collect();
    let ran = mmsoak(cwd, &borrowed);
    assert_eq!(ran.code, 2, "the bot fails at iteration 3: {}", ran.stderr);
    assert!(dir.join("ITER_SUMMARY_2.json").is_file());
    args
}

/// A simulator soak stopped by SIGTERM after its first iterations; returns
/// its arguments and the iterations complete.
fn stopped_sim_soak(cwd: &Path, dir: &Path) -> (Vec<String>, u64) {
    let args: Vec<String> = [
        "run",
        "--iterations",
        "6",
        "--sim-duration",
        "14400",
        "--fixed-clock",
        "--out",
        s(dir),
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mmsoak"))
        .args(&args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !dir.join("ITER_SUMMARY_1.json").exists() {
        assert!(Instant::now() < deadline, "iteration 1 never finished");
        std::thread::sleep(Duration::from_millis(5));
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = child.wait().expect("wait");
    let run: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join("SOAK_RUN.json")).expect("SOAK_RUN.json"))
            .expect("JSON");
    let done = run["completed_iterations"].as_u64().expect("a count");
    assert!(
        status.code() == Some(143) && done < 6,
        "stopped early by SIGTERM: {status:?}, {done} complete"
    );
    (args, done)
}

/// The iteration directory after the last complete one is cleaned by a
/// resume; a link there is removed itself, never followed (the files a
/// soak writes in an iteration directory were deleted from its target).
#[test]
fn resume_removes_a_linked_iteration_directory_not_what_it_points_to() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("soak");
    let (mut args, done) = stopped_sim_soak(tmp.path(), &dir);
    let precious = tmp.path().join("precious");
    fs::create_dir(&precious).expect("precious dir");
    fs::write(precious.join("EDGE_REPORT.json"), "mine").expect("a file of mine");
    let next = dir.join(format!("iter_{}", done + 1));
    let _ = fs::remove_dir_all(&next);
    std::os::unix::fs::symlink(&precious, &next).expect("symlink");
    args.push("--resume".into());
    let borrowed: Vec<&str> = args.iter().map(String::as_str).collect();
    let ran = mmsoak(tmp.path(), &borrowed);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(
        fs::read_to_string(precious.join("EDGE_REPORT.json")).expect("still there"),
        "mine"
    );
    assert_eq!(fs::read_dir(&precious).expect("list").count(), 1);
    let meta = fs::symlink_metadata(&next).expect("rewritten");
    assert!(meta.is_dir(), "a directory of its own, not the link");
}

#[test]
fn resume_refuses_a_linked_journal_and_appends_nothing_to_its_target() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("soak");
    let mut args = failed_exec_soak(tmp.path(), &dir);
    let elsewhere = tmp.path().join("journal.elsewhere");
    fs::rename(dir.join("APPLY_JOURNAL.jsonl"), &elsewhere).expect("move");
    std::os::unix::fs::symlink(&elsewhere, dir.join("APPLY_JOURNAL.jsonl")).expect("symlink");
    let before = fs::read(&elsewhere).expect("journal");
    args.push("--resume".into());
    let borrowed: Vec<&str> = args.iter().map(String::as_str).collect();
    let ran = mmsoak(tmp.path(), &borrowed);
    refused(
        &ran,
        &["APPLY_JOURNAL.jsonl", "symbolic link"],
        "linked journal",
    );
    assert_eq!(fs::read(&elsewhere).expect("journal"), before);
}

// ---------------------------------------------------------------------------
// 3. and 4. FIFOs and huge files: refused by name, at once, in bounded memory.

/// The inputs given on the command line: each as a FIFO and as a 2 GB file.
#[test]
fn special_and_huge_input_files_are_refused_by_name() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    type Args = fn(&str, &str) -> Vec<String>;
    let cases: [(&str, Args); 5] = [
        ("overrides.json", |f, out| {
            vec![
                "run".into(),
                "--mock".into(),
                "--overrides".into(),
                f.into(),
                "--out".into(),
                out.into(),
            ]
        }),
        ("policy.toml", |f, out| {
            vec![
                "run".into(),
                "--mock".into(),
                "--policy".into(),
                f.into(),
                "--out".into(),
                out.into(),
            ]
        }),
        ("scenario.toml", |f, out| {
            vec![
                "run".into(),
                "--scenario".into(),
                f.into(),
                "--out".into(),
                out.into(),
            ]
        }),
        ("market.npz", |f, out| {
            vec![
                "run".into(),
                "--market".into(),
                f.into(),
                "--out".into(),
                out.into(),
            ]
        }),
        ("EDGE_REPORT.json", |f, _| {
            vec!["propose".into(), "--report".into(), f.into()]
        }),
    ];
    for (name, args) in cases {
        for kind in ["fifo", "huge"] {
            let file = tmp.path().join(format!("{kind}-{name}"));
            match kind {
                "fifo" => mkfifo(&file),
                _ => sparse_2gb(&file),
            }
            let args = args(s(&file), s(&out));
            let borrowed: Vec<&str> = args.iter().map(String::as_str).collect();
            let ran = mmsoak(tmp.path(), &borrowed);
            let case = format!("{kind} {name}");
            let what = match kind {
                "fifo" => "FIFO",
                _ if name == "market.npz" => "npz",
                _ => "bytes",
            };
            refused(&ran, &[s(&file), what], &case);
            assert!(!out.exists(), "{case}: wrote {}", out.display());
        }
    }
}

/// The files of a soak directory: each replaced by a FIFO and by a 2 GB
/// file, for every command that reads it.
#[test]
fn special_and_huge_files_in_a_soak_directory_are_refused_by_name() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let good = tmp.path().join("good");
    mock_soak(&good);
    let cases: [(&str, &[&str]); 4] = [
        (
            "ITER_SUMMARY_21.json",
            &["verify", "snapshot", "gate", "report"],
        ),
        ("TUNING_REPORT.json", &["verify", "gate"]),
        ("runtime_overrides.json", &["verify", "gate"]),
        ("SOAK_RUN.json", &["gate", "report"]),
    ];
    for (name, commands) in cases {
        for kind in ["fifo", "huge"] {
            let dir = tmp.path().join(format!("{kind}-{name}"));
            common::copy_dir(&good, &dir);
            let file = dir.join(name);
            fs::remove_file(&file).expect("remove");
            match kind {
                "fifo" => mkfifo(&file),
                _ => sparse_2gb(&file),
            }
            for command in commands.iter() {
                let ran = mmsoak(tmp.path(), &[command, "--path", s(&dir)]);
                let case = format!("{command} with {kind} {name}");
                let what = match kind {
                    "fifo" => "FIFO",
                    _ => "bytes",
                };
                refused(&ran, &[name, what], &case);
            }
        }
    }
    // The journal is read line by line: a 2 GB line is refused by length.
    let dir = tmp.path().join("huge-journal");
    common::copy_dir(&good, &dir);
    sparse_2gb(&dir.join("APPLY_JOURNAL.jsonl"));
    for command in ["verify", "gate"] {
        let ran = mmsoak(tmp.path(), &[command, "--path", s(&dir)]);
        refused(
            &ran,
            &["APPLY_JOURNAL.jsonl", "longer than 1048576 bytes"],
            command,
        );
    }
}

/// A scenario whose offending value is huge, or nested 100,000 deep: the
/// message says where, with a short excerpt, not the line.
#[test]
fn scenario_errors_quote_a_short_excerpt() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let long = tmp.path().join("long.toml");
    fs::write(&long, format!("name = \"{}\"\n", "x".repeat(500_000))).expect("write");
    let deep = tmp.path().join("deep.toml");
    fs::write(&deep, format!("name = {}", "[".repeat(100_000))).expect("write");
    let unknown = tmp.path().join("unknown.toml");
    fs::write(&unknown, format!("{} = 1\n", "k".repeat(300_000))).expect("write");
    for file in [&long, &deep, &unknown] {
        let ran = mmsoak(
            tmp.path(),
            &[
                "run",
                "--scenario",
                s(file),
                "--out",
                s(&tmp.path().join("out")),
            ],
        );
        refused(&ran, &[s(file)], &file.display().to_string());
    }
}

// ---------------------------------------------------------------------------
// 5. Duplicate keys.

#[test]
fn a_key_given_twice_is_refused_naming_file_and_key() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let overrides = tmp.path().join("overrides.json");
    fs::write(
        &overrides,
        r#"{"engine": {"min_interval_ms": 75, "min_interval_ms": 41}}"#,
    )
    .expect("write");
    let out = tmp.path().join("out");
    let ran = mmsoak(
        tmp.path(),
        &[
            "run",
            "--mock",
            "--overrides",
            s(&overrides),
            "--out",
            s(&out),
        ],
    );
    refused(
        &ran,
        &["overrides.json", "`engine.min_interval_ms` appears twice"],
        "overrides",
    );

    let report = tmp.path().join("EDGE_REPORT.json");
    fs::write(
        &report,
        r#"{"totals": {"net_bps": 1.0, "net_bps": 9.0, "p95_latency_ms": 300}}"#,
    )
    .expect("write");
    let ran = mmsoak(tmp.path(), &["propose", "--report", s(&report)]);
    refused(
        &ran,
        &["EDGE_REPORT.json", "`totals.net_bps` appears twice"],
        "report",
    );

    // In a summary, the gate's mean would have moved silently.
    let dir = tmp.path().join("soak");
    mock_soak(&dir);
    let summary = dir.join("ITER_SUMMARY_21.json");
    let text = fs::read_to_string(&summary).expect("read");
    let at = text.find("\"net_bps\": ").expect("net_bps");
    fs::write(
        &summary,
        format!("{}\"net_bps\": 99.0,\n    {}", &text[..at], &text[at..]),
    )
    .expect("write");
    for command in ["verify", "snapshot", "gate", "report"] {
        let ran = mmsoak(tmp.path(), &[command, "--path", s(&dir)]);
        refused(
            &ran,
            &["ITER_SUMMARY_21.json", "`summary.net_bps` appears twice"],
            command,
        );
    }
}

// ---------------------------------------------------------------------------
// 6. A run mmsoak wrote must have its journal.

#[test]
fn a_missing_journal_is_a_chain_break() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let good = tmp.path().join("good");
    mock_soak(&good);
    for (kind, found) in [
        ("removed", "missing"),
        ("directory", "a directory"),
        ("fifo", "a FIFO"),
    ] {
        let dir = tmp.path().join(kind);
        common::copy_dir(&good, &dir);
        let journal = dir.join("APPLY_JOURNAL.jsonl");
        fs::remove_file(&journal).expect("remove");
        match kind {
            "directory" => fs::create_dir(&journal).expect("dir"),
            "fifo" => mkfifo(&journal),
            _ => {}
        }
        let ran = mmsoak(tmp.path(), &["verify", "--strict", "--path", s(&dir)]);
        assert_eq!(ran.code, 1, "{kind}: {}", ran.stderr);
        assert!(
            ran.stderr.contains(&format!(
                "verify: FAIL: the apply journal {} is {found}",
                journal.display()
            )),
            "{kind}: {}",
            ran.stderr
        );
        let ran = mmsoak(tmp.path(), &["gate", "--path", s(&dir), "--json"]);
        assert_eq!(ran.code, 1, "{kind}: {}", ran.stderr);
        let gate: serde_json::Value = serde_json::from_str(&ran.stdout).expect("gate JSON");
        assert_eq!(gate["journal_chain_breaks"], 1, "{kind}: {gate}");
    }
}

// ---------------------------------------------------------------------------
// 8. Bounds within what every reader accepts.

#[test]
fn bounds_beyond_a_parameters_largest_value_are_refused_when_the_policy_loads() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for max in ["1e300", "1e15"] {
        let policy = tmp.path().join(format!("bounds-{max}.toml"));
        fs::write(&policy, format!("[bounds.min_interval_ms]\nmax = {max}\n")).expect("write");
        let ran = mmsoak(tmp.path(), &["policy", "--policy", s(&policy)]);
        refused(
            &ran,
            &[
                s(&policy),
                "bounds.min_interval_ms",
                "the largest min_interval_ms can be",
            ],
            max,
        );
    }
}

// ---------------------------------------------------------------------------
// 9. Leftovers and messages.

#[test]
fn report_commands_remove_what_a_killed_write_left() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("soak");
    mock_soak(&dir);
    for command in ["verify", "snapshot", "gate", "report"] {
        let leftover = dir.join(".atomicwriteAbC123");
        fs::create_dir(&leftover).expect("leftover");
        fs::write(leftover.join("SOAK_REPORT.html"), vec![b'x'; 1 << 20]).expect("partial");
        let ran = mmsoak(tmp.path(), &[command, "--path", s(&dir)]);
        assert!(ran.code <= 1, "{command}: {}", ran.stderr);
        assert!(!leftover.exists(), "{command} left {}", leftover.display());
    }
}

#[test]
fn resume_before_the_first_run_record_starts_afresh_and_says_so() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("soak");
    fs::create_dir(&dir).expect("dir");
    // What a run killed at once leaves: its lock file, nothing else.
    fs::write(dir.join(".mmsoak.lock"), "").expect("lock file");
    let ran = mmsoak(
        tmp.path(),
        &[
            "run",
            "--mock",
            "--iterations",
            "3",
            "--resume",
            "--out",
            s(&dir),
        ],
    );
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("nothing to resume in") && ran.stderr.contains("starting a fresh run"),
        "{}",
        ran.stderr
    );
    assert!(dir.join("ITER_SUMMARY_3.json").is_file());
}

/// Without its run record but with complete iterations, a directory is
/// not a run killed before its first record: a resume refuses and removes
/// nothing (a fresh run would).
#[test]
fn resume_without_a_run_record_keeps_complete_iterations() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("soak");
    let run = [
        "run",
        "--mock",
        "--iterations",
        "5",
        "--fixed-clock",
        "--out",
        s(&dir),
    ];
    assert_eq!(mmsoak(tmp.path(), &run).code, 0);
    fs::remove_file(dir.join("SOAK_RUN.json")).expect("remove");
    let before = walk(&dir);
    let mut resume = run.to_vec();
    resume.push("--resume");
    let ran = mmsoak(tmp.path(), &resume);
    refused(
        &ran,
        &["holds no SOAK_RUN.json but holds 5 iteration summaries"],
        "no run record",
    );
    assert_eq!(walk(&dir), before, "nothing removed");
}

/// `verify` and `report` in the same soak directory at the same time: each
/// one's cleanup of interrupted writes spares the other's write in flight.
#[test]
fn report_writers_at_the_same_time_do_not_remove_each_others_writes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("soak");
    mock_soak(&dir);
    for round in 0..15 {
        let spawn = |command: &str| {
            Command::new(env!("CARGO_BIN_EXE_mmsoak"))
                .args([command, "--path", s(&dir)])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn")
        };
        let writers = [
            spawn("report"),
            spawn("verify"),
            spawn("snapshot"),
            spawn("report"),
        ];
        for child in writers {
            let out = child.wait_with_output().expect("wait");
            assert!(
                out.status.code().is_some_and(|c| c <= 1),
                "round {round}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

#[test]
fn a_byte_order_mark_is_accepted_and_a_directory_as_market_is_named() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let overrides = tmp.path().join("overrides.json");
    fs::write(
        &overrides,
        b"\xEF\xBB\xBF{\"engine\": {\"min_interval_ms\": 75}}",
    )
    .expect("write");
    let out = tmp.path().join("out");
    let ran = mmsoak(
        tmp.path(),
        &[
            "run",
            "--mock",
            "--iterations",
            "2",
            "--overrides",
            s(&overrides),
            "--out",
            s(&out),
        ],
    );
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let snapshot = fs::read_to_string(out.join("iter_1/runtime_overrides.json")).expect("snapshot");
    assert!(snapshot.contains("\"min_interval_ms\":75"), "{snapshot}");

    let market = tmp.path().join("market");
    fs::create_dir(&market).expect("dir");
    let ran = mmsoak(
        tmp.path(),
        &[
            "run",
            "--market",
            s(&market),
            "--out",
            s(&tmp.path().join("out2")),
        ],
    );
    refused(
        &ran,
        &[&format!("{} is a directory", market.display())],
        "--market DIR",
    );
}
