//! A sweep end to end on the simulator: determinism across threads,
//! resume, what is kept, stops and refusals.

use std::path::Path;
use std::time::Duration;

use mmsoak_runner::{Scenario, StopRequest};
use mmsoak_sweep::{
    merge_shards, run_sweep, Keep, Partition, PolicySpec, RunOptions, ScenarioSpec, SweepDriver,
    SweepError, SweepReport, SweepSpec,
};

/// Two scenarios × two policies × three seeds of three 2-minute iterations.
fn spec(keep: Keep) -> SweepSpec {
    SweepSpec {
        scenarios: ["default", "volatile"]
            .map(|s| ScenarioSpec::new(Scenario::builtin(s).expect("built-in")))
            .to_vec(),
        policies: ["default", "seed"]
            .map(|p| PolicySpec::builtin(p).expect("built-in"))
            .to_vec(),
        seeds: vec![5, 6, 7],
        iterations: 3,
        driver: SweepDriver::Sim {
            duration: Duration::from_secs(120),
        },
        auto_tune: true,
        keep,
    }
}

fn sweep(spec: &SweepSpec, out: &Path, jobs: usize, resume: bool) -> SweepReport {
    run_sweep(
        spec,
        out,
        &RunOptions {
            resume,
            ..RunOptions::new(jobs)
        },
        &StopRequest::new(),
        &|_| {},
    )
    .expect("sweep runs")
}

#[test]
fn the_report_is_the_same_for_any_number_of_threads() {
    let (a, b) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    let spec = spec(Keep::None);
    let one = sweep(&spec, a.path(), 1, false);
    let two = sweep(&spec, b.path(), 2, false);
    assert_eq!(one.deterministic_json(), two.deterministic_json());
    assert_eq!((one.timing.jobs, two.timing.jobs), (1, 2));
    assert_eq!(one.cells.len(), 4);
    for c in &one.cells {
        assert_eq!(c.runs, 3);
        assert!(
            c.wilson_low <= c.pass_rate && c.pass_rate <= c.wilson_high,
            "{c:?}"
        );
        assert!(c.kpis.contains_key("net_bps") && c.pnl_per_hour_first.is_some());
    }
    // The cells come in the order given, scenarios then policies.
    let order: Vec<(&str, &str)> = one
        .cells
        .iter()
        .map(|c| (c.scenario.as_str(), c.policy.as_str()))
        .collect();
    assert_eq!(
        order,
        [
            ("default", "default"),
            ("default", "seed"),
            ("volatile", "default"),
            ("volatile", "seed")
        ]
    );
}

#[test]
fn resume_reads_finished_soaks_back_and_refuses_another_sweep() {
    let dir = tempfile::tempdir().expect("tmp");
    let spec = spec(Keep::Failed);
    let full = sweep(&spec, dir.path(), 2, false);
    // A soak whose outcome was never written (it was stopped) is rerun.
    std::fs::remove_file(dir.path().join("volatile/seed/seed-6.json")).expect("remove");
    let resumed = sweep(&spec, dir.path(), 2, true);
    assert_eq!(resumed.deterministic_json(), full.deterministic_json());
    assert_eq!(
        (resumed.timing.soaks_run, resumed.timing.soaks_resumed),
        (1, 11)
    );
    // Another sweep in the same directory is refused, naming the file.
    let mut other = spec.clone();
    other.seeds.push(8);
    let err = run_sweep(
        &other,
        dir.path(),
        &RunOptions {
            resume: true,
            ..RunOptions::new(1)
        },
        &StopRequest::new(),
        &|_| {},
    )
    .expect_err("another sweep");
    assert!(err.to_string().contains("SWEEP_CONFIG.json"), "{err}");
}

#[test]
fn keep_decides_which_soak_directories_stay() {
    let dir = tempfile::tempdir().expect("tmp");
    let report = sweep(&spec(Keep::Failed), dir.path(), 2, false);
    let failed: u64 = report.cells.iter().map(|c| c.runs - c.passed).sum();
    let kept = walk_soaks(dir.path());
    assert_eq!(kept as u64, failed);
    let none = tempfile::tempdir().expect("tmp");
    sweep(&spec(Keep::None), none.path(), 2, false);
    assert_eq!(walk_soaks(none.path()), 0);
    let all = tempfile::tempdir().expect("tmp");
    sweep(&spec(Keep::All), all.path(), 2, false);
    assert_eq!(walk_soaks(all.path()), 12);
}

/// Soak directories (`seed-<s>/`) under a sweep.
fn walk_soaks(out: &Path) -> usize {
    let mut n = 0;
    for s in std::fs::read_dir(out).expect("sweep dir").flatten() {
        if !s.path().is_dir() {
            continue;
        }
        for p in std::fs::read_dir(s.path()).expect("scenario dir").flatten() {
            for e in std::fs::read_dir(p.path()).expect("policy dir").flatten() {
                n += usize::from(e.path().is_dir());
            }
        }
    }
    n
}

#[test]
fn a_stop_ends_the_sweep_between_soaks() {
    let dir = tempfile::tempdir().expect("tmp");
    let stop = StopRequest::new();
    stop.request(2);
    let err = run_sweep(
        &spec(Keep::None),
        dir.path(),
        &RunOptions::new(2),
        &stop,
        &|_| {},
    )
    .expect_err("stopped");
    assert!(
        matches!(
            err,
            SweepError::Stopped {
                done: 0,
                total: 12,
                value: 2
            }
        ),
        "{err:?}"
    );
}

#[test]
fn a_directory_that_is_not_a_sweeps_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().expect("tmp");
    let mine = dir.path().join("default/default/seed-5");
    std::fs::create_dir_all(&mine).expect("a user's directory");
    std::fs::write(mine.join("notes.txt"), "keep me").expect("write");
    let err = run_sweep(
        &spec(Keep::None),
        dir.path(),
        &RunOptions::new(1),
        &StopRequest::new(),
        &|_| {},
    )
    .expect_err("refused");
    assert!(
        err.to_string().contains("neither empty nor a sweep's"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(mine.join("notes.txt")).expect("kept"),
        "keep me"
    );
    assert!(!dir.path().join("SWEEP_CONFIG.json").exists());
}

#[test]
fn an_inconsistent_spec_is_refused_before_anything_runs() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("sweep");
    for edit in [
        (|s: &mut SweepSpec| s.seeds = vec![1, 1]) as fn(&mut SweepSpec),
        |s| s.seeds.clear(),
        |s| s.iterations = 0,
        |s| s.policies[1].label = "default".to_owned(),
        |s| s.policies[0].label = "../x".to_owned(),
    ] {
        let mut s = spec(Keep::None);
        edit(&mut s);
        let err = run_sweep(&s, &out, &RunOptions::new(1), &StopRequest::new(), &|_| {})
            .expect_err("refused");
        assert!(matches!(err, SweepError::Spec(_)), "{err}");
        assert!(!out.exists());
    }
}

#[test]
fn shards_merge_into_the_unpartitioned_report_and_bad_sets_are_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let spec = spec(Keep::None);
    let whole = sweep(&spec, &tmp.path().join("whole"), 2, false);
    let shards: Vec<std::path::PathBuf> = (1..=3)
        .map(|k| tmp.path().join(format!("shard-{k}")))
        .collect();
    let mut soaks = 0;
    for (k, dir) in shards.iter().enumerate() {
        let options = RunOptions {
            partition: Some(Partition::new(k + 1, 3).expect("partition")),
            ..RunOptions::new(1)
        };
        let r = run_sweep(&spec, dir, &options, &StopRequest::new(), &|_| {}).expect("shard");
        soaks += r.timing.soaks_run;
    }
    assert_eq!(soaks, 12, "every soak in exactly one shard");
    let merged = merge_shards(&shards, &tmp.path().join("merged")).expect("merge");
    assert_eq!(merged.deterministic_json(), whole.deterministic_json());
    // The order of the shards does not matter.
    let reversed: Vec<_> = shards.iter().rev().cloned().collect();
    assert_eq!(
        merge_shards(&reversed, &tmp.path().join("merged-2"))
            .expect("merge")
            .deterministic_json(),
        whole.deterministic_json()
    );

    let refused = |set: &[std::path::PathBuf], needle: &str| {
        let err = merge_shards(set, &tmp.path().join("refused"))
            .expect_err("refused")
            .to_string();
        assert!(err.contains(needle), "{err}");
    };
    refused(&shards[..2], "missing shard(s): 3/3");
    refused(
        &[shards[0].clone(), shards[0].clone(), shards[2].clone()],
        "given twice",
    );
    // A shard of another sweep.
    let mut other = spec.clone();
    other.iterations = 2;
    let stray = tmp.path().join("other");
    let options = RunOptions {
        partition: Some(Partition::new(2, 3).expect("partition")),
        ..RunOptions::new(1)
    };
    run_sweep(&other, &stray, &options, &StopRequest::new(), &|_| {}).expect("shard");
    refused(
        &[shards[0].clone(), stray, shards[2].clone()],
        "another sweep",
    );
    // A soak's outcome lost from its shard: volatile/default/seed-5 is the
    // 7th soak (cells in order, seeds within), so shard 1's.
    std::fs::remove_file(shards[0].join("volatile/default/seed-5.json")).expect("remove");
    refused(&shards, "soak volatile/default/seed-5 has no outcome");
}

/// A user's bot swept per seed and scenario: the bot gets the soak's seed
/// and the scenario's name (fixtures/bots/seeded_bot.sh checks both
/// against the environment and reports a net edge that depends on them),
/// and the report is the same for any number of threads.
#[test]
fn an_exec_bot_is_swept_with_its_seed_and_scenario() {
    let bot = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/bots/seeded_bot.sh")
        .canonicalize()
        .expect("fixtures/bots/seeded_bot.sh exists");
    let spec = SweepSpec {
        scenarios: vec![ScenarioSpec::named("default"), ScenarioSpec::named("thin")],
        policies: vec![PolicySpec::builtin("default").expect("built-in")],
        seeds: vec![0, 1, 2, 3],
        iterations: 8,
        driver: SweepDriver::Exec {
            command: format!("{} {{seed}} {{scenario}} {{out}}", bot.display()),
            timeout: Duration::from_secs(30),
        },
        auto_tune: true,
        keep: Keep::Failed,
    };
    let dir = tempfile::tempdir().expect("tmp");
    let one = sweep(&spec, &dir.path().join("one"), 1, false);
    let two = sweep(&spec, &dir.path().join("two"), 2, false);
    assert_eq!(
        one.deterministic_json(),
        two.deterministic_json(),
        "same report on 1 and 2 threads"
    );
    let cell = |name: &str| {
        one.cells
            .iter()
            .find(|c| c.scenario == name)
            .unwrap_or_else(|| panic!("cell {name}"))
    };
    // Even seeds report 3.5 bps in `default`: they pass; odd ones 1.5.
    assert_eq!((cell("default").runs, cell("default").passed), (4, 2));
    // One bps less in `thin`: 2.5 and 0.5, below the gate's 2.7.
    assert_eq!((cell("thin").runs, cell("thin").passed), (4, 0));
    let net = &cell("thin").kpis["net_bps"];
    assert_eq!((net.p10, net.p90), (0.5, 2.5));
    // The bot's own directory is kept for a failed soak, with its seed.
    let run: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("one/thin/default/seed-3/SOAK_RUN.json")).expect("kept"),
    )
    .expect("json");
    assert_eq!(run["config"]["seed"], 3, "{run}");
    assert!(one
        .to_markdown()
        .contains("seeded_bot.sh {seed} {scenario} {out}`"));
    // The page draws each seed's window mean against the gate's target.
    let html = one.to_html();
    let net = html
        .split("data-kpi=\"net_bps\">")
        .nth(1)
        .and_then(|rest| rest.split("</svg>").next())
        .expect("a net_bps distribution");
    assert!(net.contains("data-target=\"&gt;= 2.7\""), "{net}");
    let dots: Vec<&str> = net
        .split("data-value=\"")
        .skip(1)
        .filter_map(|d| d.split('"').next())
        .collect();
    assert_eq!(
        dots,
        ["3.5", "1.5", "3.5", "1.5", "2.5", "0.5", "2.5", "0.5"]
    );
    assert!(net.contains(">gate &gt;= 2.70</text>"), "{net}");
}

/// A simulator sweep needs each scenario's market.
#[test]
fn a_name_only_scenario_is_refused_for_the_simulator() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut s = spec(Keep::None);
    s.scenarios[0] = ScenarioSpec::named("2026-11-02");
    let err = run_sweep(
        &s,
        &dir.path().join("x"),
        &RunOptions::new(1),
        &StopRequest::new(),
        &|_| {},
    )
    .expect_err("refused");
    assert!(
        err.to_string().contains("\"2026-11-02\" is a name only"),
        "{err}"
    );
}
