//! Verdicts over seeds × scenarios × policies.
//!
//! One soak on one seed is an anecdote: iteration noise alone makes a
//! window fail on some seeds and pass on others. A sweep runs the whole
//! closed loop (run, verify, gate) once per seed for every cell (scenario ×
//! policy), on a pool of threads (the simulator is single-threaded: one
//! soak per thread), and reports per cell the pass rate with its 95%
//! Wilson interval, the distribution of each KPI's last-window mean over
//! the seeds, the PnL per hour at the start and over the window, the
//! iteration from which the per-iteration thresholds held, and the
//! criteria that failed most often.
//!
//! Determinism: each soak runs with the fixed clock, and the report is
//! ordered by cell then seed, so [`SweepReport`] is the same for any number
//! of threads; every wall-clock figure sits in [`SweepReport::timing`].
//!
//! ```no_run
//! use mmsoak_sweep::{run_sweep, Keep, PolicySpec, RunOptions, ScenarioSpec, SweepDriver, SweepSpec};
//! use mmsoak_runner::{Scenario, SoakPolicy, StopRequest};
//! let spec = SweepSpec {
//!     scenarios: vec![ScenarioSpec::new(Scenario::builtin("default")?)],
//!     policies: vec![PolicySpec::builtin("default").expect("built-in")],
//!     seeds: (0..40).collect(),
//!     iterations: 24,
//!     driver: SweepDriver::Sim { duration: std::time::Duration::from_secs(3600) },
//!     auto_tune: true,
//!     keep: Keep::Failed,
//! };
//! let options = RunOptions::new(2);
//! let report = run_sweep(&spec, "sweep".as_ref(), &options, &StopRequest::new(), &|_| {})?;
//! println!("{}", report.to_markdown());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod compare;
mod distribution;
mod report;
mod stats;

pub use compare::{
    benjamini_hochberg, compare_sweeps, mann_whitney_lower, signed_rank_lower, Better,
    KpiComparison, ScenarioComparison, SweepComparison,
};
pub use report::{
    CellReport, KpiSpread, SweepConfig, SweepReport, SweepTiming, SWEEP_REPORT_SCHEMA,
};
pub use stats::{quantile, wilson, Z95};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use mmsoak_core::{IterationKpis, RuntimeOverrides, StateHash};
use mmsoak_gate::{gate_dir, Comparison, GatedKpi, Measure, Threshold};
use mmsoak_runner::{
    run_soak, Clock, Driver, ExecDriver, IterationDone, Scenario, SimDriver, SoakConfig, SoakError,
    SoakObserver, SoakPolicy, StopRequest,
};
use serde::{Deserialize, Serialize};

/// A scenario of the sweep, by its name.
#[derive(Debug, Clone)]
pub struct ScenarioSpec {
    /// How the report and the directories name it (the scenario's name).
    pub label: String,
    /// The simulator's market; `None` for a name only, which a
    /// [`SweepDriver::Exec`] bot receives as `{scenario}` and interprets.
    pub scenario: Option<Scenario>,
}

impl ScenarioSpec {
    /// A simulator scenario labelled by its own name.
    pub fn new(scenario: Scenario) -> ScenarioSpec {
        ScenarioSpec {
            label: scenario.name.clone(),
            scenario: Some(scenario),
        }
    }

    /// A name only, for a bot of its own ([`SweepDriver::Exec`]).
    pub fn named(label: impl Into<String>) -> ScenarioSpec {
        ScenarioSpec {
            label: label.into(),
            scenario: None,
        }
    }

    /// Identity of its contents (a file may change under its name), or of
    /// the name when that is all there is.
    fn hash(&self) -> String {
        let value = match &self.scenario {
            Some(scenario) => serde_json::to_value(scenario),
            None => Ok(serde_json::Value::String(self.label.clone())),
        };
        value.map_or_else(
            |e| format!("unhashable: {e}"),
            |v| StateHash::of_value(&v).to_string(),
        )
    }
}

/// The bot a sweep runs.
#[derive(Debug, Clone, PartialEq)]
pub enum SweepDriver {
    /// The embedded simulator in each scenario's market, `duration` of
    /// simulated time per iteration, seeded with the soak's seed.
    Sim {
        /// Simulated time per iteration.
        duration: Duration,
    },
    /// A user's bot ([`ExecDriver`]): `command` once per iteration, with
    /// `{seed}` the soak's seed and `{scenario}` the scenario's label. Soaks
    /// run side by side (`jobs` at a time), each in its own directory.
    Exec {
        /// The command, placeholders and all.
        command: String,
        /// Per-iteration timeout.
        timeout: Duration,
    },
}

/// A policy of the sweep.
#[derive(Debug, Clone)]
pub struct PolicySpec {
    /// How the report and the directories name it: a built-in name or the
    /// file's stem.
    pub label: String,
    /// The policy.
    pub policy: SoakPolicy,
    /// What was given (`default`, `seed` or a path), recorded in each soak.
    pub given: Option<PathBuf>,
}

impl PolicySpec {
    /// A built-in policy (`default`, `seed`).
    pub fn builtin(name: &str) -> Option<PolicySpec> {
        Some(PolicySpec {
            label: name.to_owned(),
            policy: SoakPolicy::builtin(name)?,
            given: Some(PathBuf::from(name)),
        })
    }
}

/// Which soak directories a sweep keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Keep {
    /// Those of soaks that did not pass (the default: the ones to look at).
    Failed,
    /// All of them.
    All,
    /// None (only the outcomes and the report).
    None,
}

/// What a sweep runs.
#[derive(Debug, Clone)]
pub struct SweepSpec {
    /// Scenarios (rows of the grid).
    pub scenarios: Vec<ScenarioSpec>,
    /// Policies (columns).
    pub policies: Vec<PolicySpec>,
    /// Seeds, one soak each per cell.
    pub seeds: Vec<u64>,
    /// Iterations per soak.
    pub iterations: u32,
    /// The bot.
    pub driver: SweepDriver,
    /// Whether the tuner proposes changes.
    pub auto_tune: bool,
    /// Which soak directories to keep.
    pub keep: Keep,
}

/// The outcome of one soak of a sweep (`<scenario>/<policy>/seed-<s>.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SoakOutcome {
    /// Scenario label.
    pub scenario: String,
    /// Policy label.
    pub policy: String,
    /// Seed.
    pub seed: u64,
    /// The gate's verdict: `PASS`, `WARN` or `FAIL`.
    pub verdict: String,
    /// The gate's failed criteria, by name.
    pub failed: Vec<String>,
    /// The window's mean of each gated KPI (the snapshot's `kpi_last8`).
    pub window_means: BTreeMap<String, f64>,
    /// PnL per hour of the first iteration, when the bot reported it.
    pub pnl_per_hour_first: Option<f64>,
    /// Mean PnL per hour over the gate's window, when reported.
    pub pnl_per_hour_window: Option<f64>,
    /// The first iteration from which every later one met the per-iteration
    /// thresholds; `None` when the last one did not.
    pub converged_from: Option<u32>,
    /// Whether the gate classed a latency failure environment-bound.
    pub environment_bound: bool,
    /// The gate's target for each KPI of `window_means`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub targets: BTreeMap<String, KpiTarget>,
}

/// What the gate requires of a KPI's window mean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KpiTarget {
    /// `>=` or `<=`.
    pub op: String,
    /// The threshold.
    pub value: f64,
}

/// The `index`-th of `count` deterministic shards of a sweep's list of
/// soaks (cells in order, seeds within each; nextest's `K/N`, 1-based): the
/// soaks whose position in the list is `index - 1` modulo `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Partition {
    /// Which shard, 1..=count.
    pub index: usize,
    /// How many shards.
    pub count: usize,
}

/// Environment variables that carry a shard's 0-based index, in the order
/// they are tried: a Kubernetes Indexed Job's, a Slurm array's, and one
/// for CI matrices.
pub const PARTITION_INDEX_VARS: [&str; 3] = [
    "JOB_COMPLETION_INDEX",
    "SLURM_ARRAY_TASK_ID",
    "MMSOAK_PARTITION_INDEX",
];

impl Partition {
    /// Shard `index` of `count` (1-based).
    ///
    /// ```
    /// use mmsoak_sweep::Partition;
    /// assert_eq!(Partition::parse("2/3").unwrap(), Partition::new(2, 3).unwrap());
    /// assert!(Partition::parse("4/3").is_err() && Partition::parse("0/3").is_err());
    /// ```
    pub fn new(index: usize, count: usize) -> Result<Partition, SweepError> {
        if count == 0 || index == 0 || index > count {
            return Err(SweepError::Spec(format!(
                "partition {index}/{count}: the shard is 1 to N of N >= 1"
            )));
        }
        Ok(Partition { index, count })
    }

    /// `K/N`.
    pub fn parse(text: &str) -> Result<Partition, SweepError> {
        let bad = || SweepError::Spec(format!("partition {text:?}: expected K/N, e.g. 2/8"));
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        Partition::new(
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        )
    }

    /// Shard of `count` whose 0-based index is in the first of
    /// [`PARTITION_INDEX_VARS`] that `var` has.
    ///
    /// ```
    /// use mmsoak_sweep::Partition;
    /// let env = |k: &str| (k == "SLURM_ARRAY_TASK_ID").then(|| "3".to_owned());
    /// assert_eq!(Partition::from_env(8, env).unwrap(), Partition::new(4, 8).unwrap());
    /// ```
    pub fn from_env(
        count: usize,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Partition, SweepError> {
        for name in PARTITION_INDEX_VARS {
            if let Some(v) = var(name) {
                let i: usize = v.trim().parse().map_err(|_| {
                    SweepError::Spec(format!("{name}={v:?}: not a shard index (0-based)"))
                })?;
                return Partition::new(i + 1, count).map_err(|_| {
                    SweepError::Spec(format!("{name}={i}: not below --partitions {count}"))
                });
            }
        }
        Err(SweepError::Spec(format!(
            "--partition auto: none of {} is set",
            PARTITION_INDEX_VARS.join(", ")
        )))
    }

    fn takes(&self, position: usize) -> bool {
        position % self.count == self.index - 1
    }
}

/// A sweep could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SweepError {
    /// The spec is empty or inconsistent.
    #[error("sweep: {0}")]
    Spec(String),
    /// A soak failed to run (not a gate failure: an error).
    #[error("soak {scenario}/{policy}/seed-{seed}")]
    Soak {
        /// Scenario label.
        scenario: String,
        /// Policy label.
        policy: String,
        /// Seed.
        seed: u64,
        /// What went wrong.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A stop was requested: the sweep stopped between soaks.
    #[error("sweep stopped after {done} of {total} soaks (continue with --resume)")]
    Stopped {
        /// Soaks with an outcome.
        done: usize,
        /// Soaks in the sweep.
        total: usize,
        /// The stop's value (the signal).
        value: usize,
    },
    /// Reading or writing the sweep's files.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// An outcome file that does not read back.
    #[error("{}: {message}", path.display())]
    Outcome {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// A small file of the sweep's (a config, a shard record, an outcome) as
/// text, with its path; the error names the file.
pub(crate) fn read_small(path: PathBuf) -> Result<(PathBuf, String), SweepError> {
    match mmsoak_core::input::read_text(&path, mmsoak_core::input::limits::SMALL_REPORT) {
        Ok(text) => Ok((path, text)),
        Err(e) => Err(SweepError::Outcome {
            message: e.to_string(),
            path,
        }),
    }
}

/// `text`, read from `path`, as a `T`; the error names the file.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    path: PathBuf,
    text: &str,
) -> Result<T, SweepError> {
    serde_json::from_str(text).map_err(|e| SweepError::Outcome {
        path,
        message: e.to_string(),
    })
}

/// A sweep writes (and removes soak directories) only in a new or empty
/// directory, or in an earlier sweep's: never among a user's files.
fn check_out(out: &Path) -> Result<(), SweepError> {
    if let Ok(mut entries) = std::fs::read_dir(out) {
        if entries.next().is_some() && !out.join("SWEEP_CONFIG.json").is_file() {
            return Err(SweepError::Spec(format!(
                "{} is neither empty nor a sweep's (no SWEEP_CONFIG.json): give a new or empty \
                 directory, or an earlier sweep's",
                out.display()
            )));
        }
    }
    Ok(())
}

/// One soak's place in the sweep.
#[derive(Debug, Clone, Copy)]
struct Job {
    scenario: usize,
    policy: usize,
    seed: u64,
}

/// A finished soak, as the progress callback sees it.
#[derive(Debug)]
pub struct Progress<'a> {
    /// Its outcome.
    pub outcome: &'a SoakOutcome,
    /// Whether it was read back from an earlier run (`--resume`).
    pub resumed: bool,
    /// Soaks with an outcome so far.
    pub done: usize,
    /// Soaks in the sweep.
    pub total: usize,
}

/// Collects a soak's per-iteration KPIs.
#[derive(Default)]
struct Kpis(Vec<IterationKpis>);

impl SoakObserver for Kpis {
    fn iteration_done(&mut self, done: &IterationDone<'_>) {
        self.0.push(done.kpis.clone());
    }
}

impl SweepSpec {
    fn jobs(&self) -> Vec<Job> {
        let mut jobs = Vec::new();
        for scenario in 0..self.scenarios.len() {
            for policy in 0..self.policies.len() {
                for &seed in &self.seeds {
                    jobs.push(Job {
                        scenario,
                        policy,
                        seed,
                    });
                }
            }
        }
        jobs
    }

    fn check(&self) -> Result<(), SweepError> {
        let bad = |m: &str| Err(SweepError::Spec(m.to_owned()));
        if self.scenarios.is_empty() || self.policies.is_empty() || self.seeds.is_empty() {
            return bad("needs at least one scenario, one policy and one seed");
        }
        if self.iterations == 0 {
            return bad("needs at least one iteration per soak");
        }
        match &self.driver {
            SweepDriver::Sim { .. } => {
                if let Some(s) = self.scenarios.iter().find(|s| s.scenario.is_none()) {
                    return Err(SweepError::Spec(format!(
                        "scenario {:?} is a name only: the simulator needs its market",
                        s.label
                    )));
                }
            }
            SweepDriver::Exec { command, .. } => {
                ExecDriver::new(command.clone(), Duration::ZERO)
                    .map_err(|e| SweepError::Spec(e.to_string()))?;
            }
        }
        let unique = |labels: Vec<&str>| {
            let mut sorted = labels.clone();
            sorted.sort_unstable();
            sorted.dedup();
            sorted.len() == labels.len()
        };
        if !unique(self.scenarios.iter().map(|s| s.label.as_str()).collect()) {
            return bad("a scenario is given twice");
        }
        if !unique(self.policies.iter().map(|p| p.label.as_str()).collect()) {
            return bad("two policies have the same label");
        }
        let mut seeds = self.seeds.clone();
        seeds.sort_unstable();
        seeds.dedup();
        if seeds.len() != self.seeds.len() {
            return bad("a seed is given twice");
        }
        let plain = |l: &str| {
            !l.is_empty()
                && l.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                && !l.starts_with('.')
        };
        for l in self
            .scenarios
            .iter()
            .map(|s| &s.label)
            .chain(self.policies.iter().map(|p| &p.label))
        {
            if !plain(l) {
                return Err(SweepError::Spec(format!(
                    "label {l:?} is not a plain name (letters, digits, `-`, `_`, `.`)"
                )));
            }
        }
        Ok(())
    }

    fn soak_dir(&self, out: &Path, job: &Job) -> PathBuf {
        out.join(&self.scenarios[job.scenario].label)
            .join(&self.policies[job.policy].label)
            .join(format!("seed-{}", job.seed))
    }

    fn outcome_file(&self, out: &Path, job: &Job) -> PathBuf {
        out.join(&self.scenarios[job.scenario].label)
            .join(&self.policies[job.policy].label)
            .join(format!("seed-{}.json", job.seed))
    }

    /// Run one soak, gate it, keep or remove its directory, record the outcome.
    fn run_one(
        &self,
        out: &Path,
        job: &Job,
        stop: &StopRequest,
    ) -> Result<SoakOutcome, SweepError> {
        let (scenario, policy) = (&self.scenarios[job.scenario], &self.policies[job.policy]);
        let soak_error = |source: Box<dyn std::error::Error + Send + Sync>| SweepError::Soak {
            scenario: scenario.label.clone(),
            policy: policy.label.clone(),
            seed: job.seed,
            source,
        };
        let dir = self.soak_dir(out, job);
        // What an interrupted run left: started afresh.
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|source| SweepError::Io {
                path: dir.clone(),
                source,
            })?;
        }
        let config = SoakConfig {
            out_dir: dir.clone(),
            iterations: self.iterations,
            auto_tune: self.auto_tune,
            seed: job.seed,
            policy: policy.policy.clone(),
            policy_file: policy.given.clone(),
            initial_overrides: RuntimeOverrides::new(),
            exec_command: match &self.driver {
                SweepDriver::Exec { command, .. } => Some(command.clone()),
                SweepDriver::Sim { .. } => None,
            },
            clock: Clock::Fixed,
            resume: false,
            stop: stop.clone(),
        };
        let mut driver: Box<dyn Driver> = match (&self.driver, &scenario.scenario) {
            (SweepDriver::Sim { duration }, Some(market)) => Box::new(
                SimDriver::new(market.clone(), policy.policy.registry.clone(), job.seed)
                    .with_duration(*duration),
            ),
            (SweepDriver::Sim { .. }, None) => {
                return Err(SweepError::Spec(format!(
                    "scenario {:?} is a name only: the simulator needs its market",
                    scenario.label
                )))
            }
            (SweepDriver::Exec { command, timeout }, _) => Box::new(
                ExecDriver::new(command.clone(), *timeout)
                    .map_err(|e| SweepError::Spec(e.to_string()))?
                    .with_seed(job.seed)
                    .with_scenario(scenario.label.clone()),
            ),
        };
        let mut kpis = Kpis::default();
        match run_soak(&config, driver.as_mut(), &mut kpis) {
            Ok(_) => {}
            Err(SoakError::Stopped { value, .. }) => {
                return Err(SweepError::Stopped {
                    done: 0,
                    total: 0,
                    value,
                })
            }
            Err(e) => return Err(soak_error(Box::new(e))),
        }
        let gate = gate_dir(&dir, &policy.policy.gate, Threshold::Default)
            .map_err(|e| soak_error(Box::new(e)))?
            .report;
        let k = &gate.snapshot.kpi_last8;
        let window_means = BTreeMap::from([
            ("maker_taker_ratio".to_owned(), k.maker_taker_ratio.mean),
            ("net_bps".to_owned(), k.net_bps.mean),
            ("p95_latency_ms".to_owned(), k.p95_latency_ms.mean),
            ("risk_ratio".to_owned(), k.risk_ratio.mean),
        ]);
        let window = policy.policy.gate.snapshot.window.max(1);
        let kpis = kpis.0;
        let tail = &kpis[kpis.len().saturating_sub(window)..];
        let pnl: Vec<f64> = tail.iter().filter_map(|k| k.pnl_per_hour).collect();
        let passes = |k: &IterationKpis| {
            let values = [
                Some(k.risk_ratio),
                Some(k.maker_taker_ratio),
                k.net_bps,
                k.p95_latency_ms,
            ];
            GatedKpi::PASS_ORDER
                .iter()
                .zip(values)
                .all(|(g, v)| v.is_some_and(|v| g.meets(v, &policy.policy.gate.snapshot)))
        };
        let failing_tail = kpis.iter().rev().take_while(|k| passes(k)).count();
        let converged_from = (failing_tail > 0)
            .then(|| u32::try_from(kpis.len() - failing_tail + 1).unwrap_or(u32::MAX));
        let outcome = SoakOutcome {
            scenario: scenario.label.clone(),
            policy: policy.label.clone(),
            seed: job.seed,
            verdict: gate.verdict.as_str().to_owned(),
            failed: gate.failed().map(|c| c.name.as_str().to_owned()).collect(),
            window_means,
            pnl_per_hour_first: kpis.first().and_then(|k| k.pnl_per_hour),
            pnl_per_hour_window: (pnl.len() == tail.len() && !pnl.is_empty())
                .then(|| pnl.iter().sum::<f64>() / pnl.len() as f64),
            converged_from,
            environment_bound: gate.criteria.iter().any(|c| c.class.is_some()),
            targets: gate
                .criteria
                .iter()
                .filter_map(|c| {
                    let kpi = c
                        .name
                        .as_str()
                        .strip_prefix("kpi.")?
                        .strip_suffix("_mean")?;
                    let op = match c.op {
                        Comparison::AtLeast => ">=",
                        Comparison::AtMost => "<=",
                        _ => return None,
                    };
                    let Measure::Number(value) = c.target else {
                        return None;
                    };
                    let op = op.to_owned();
                    Some((kpi.to_owned(), KpiTarget { op, value }))
                })
                .collect(),
        };
        let keep = match self.keep {
            Keep::All => true,
            Keep::None => false,
            Keep::Failed => outcome.verdict != "PASS",
        };
        if !keep {
            std::fs::remove_dir_all(&dir).map_err(|source| SweepError::Io {
                path: dir.clone(),
                source,
            })?;
        }
        let file = self.outcome_file(out, job);
        let mut bytes = serde_json::to_vec_pretty(&outcome).unwrap_or_default();
        bytes.push(b'\n');
        mmsoak_artifacts::write_atomically(&file, &bytes)
            .map_err(|source| SweepError::Io { path: file, source })?;
        Ok(outcome)
    }

    fn read_outcome(&self, out: &Path, job: &Job) -> Result<Option<SoakOutcome>, SweepError> {
        let file = self.outcome_file(out, job);
        if std::fs::symlink_metadata(&file).is_err() {
            return Ok(None);
        }
        let (file, text) = read_small(file)?;
        let outcome: SoakOutcome = parse_json(file.clone(), &text)?;
        let (s, p) = (&self.scenarios[job.scenario], &self.policies[job.policy]);
        if (
            outcome.scenario.as_str(),
            outcome.policy.as_str(),
            outcome.seed,
        ) != (s.label.as_str(), p.label.as_str(), job.seed)
        {
            return Err(SweepError::Outcome {
                path: file,
                message: "is another soak's outcome".to_owned(),
            });
        }
        Ok(Some(outcome))
    }

    /// What identifies the sweep: the scenarios' contents, the policies'
    /// hashes, the seeds and the run settings.
    pub fn config(&self) -> SweepConfig {
        SweepConfig {
            scenarios: self
                .scenarios
                .iter()
                .map(|s| (s.label.clone(), s.hash()))
                .collect(),
            policies: self
                .policies
                .iter()
                .map(|p| (p.label.clone(), p.policy.policy_hash().to_string()))
                .collect(),
            seeds: self.seeds.clone(),
            iterations: self.iterations,
            sim_duration_s: match self.driver {
                SweepDriver::Sim { duration } => Some(duration.as_secs_f64()),
                SweepDriver::Exec { .. } => None,
            },
            exec_command: match &self.driver {
                SweepDriver::Exec { command, .. } => Some(command.clone()),
                SweepDriver::Sim { .. } => None,
            },
            iteration_timeout_s: match self.driver {
                SweepDriver::Exec { timeout, .. } => Some(timeout.as_secs_f64()),
                SweepDriver::Sim { .. } => None,
            },
            auto_tune: self.auto_tune,
            keep: self.keep,
        }
    }
}

/// The file of a shard directory that says which shard it is.
pub const SHARD_FILE: &str = "SHARD.json";

/// How a sweep runs (not what it sweeps).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOptions {
    /// Worker threads.
    pub jobs: usize,
    /// Read back the outcomes an earlier run of the same sweep left.
    pub resume: bool,
    /// Run one shard only (it writes [`SHARD_FILE`]; [`merge_shards`]
    /// joins them).
    pub partition: Option<Partition>,
}

impl RunOptions {
    /// A whole sweep, fresh, on `jobs` threads.
    pub fn new(jobs: usize) -> RunOptions {
        RunOptions {
            jobs,
            resume: false,
            partition: None,
        }
    }
}

/// Run the sweep into `out` (its soaks, or one shard's) on
/// `options.jobs` threads. With `resume`, soaks that already have an
/// outcome in `out` are read back instead of rerun (the configuration must
/// be the same: `SWEEP_CONFIG.json`). `on_done` is
/// called as each soak finishes (from the worker threads). A stop request
/// ends the sweep between soaks, or within one at an iteration's end.
pub fn run_sweep(
    spec: &SweepSpec,
    out: &Path,
    options: &RunOptions,
    stop: &StopRequest,
    on_done: &(dyn Fn(&Progress<'_>) + Sync),
) -> Result<SweepReport, SweepError> {
    let RunOptions {
        jobs,
        resume,
        partition,
    } = *options;
    spec.check()?;
    let started = Instant::now();
    let config = spec.config();
    let config_file = out.join("SWEEP_CONFIG.json");
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| SweepError::Io { path, source }
    };
    check_out(out)?;
    std::fs::create_dir_all(out).map_err(io(out))?;
    let mut config_bytes = serde_json::to_vec_pretty(&config).unwrap_or_default();
    config_bytes.push(b'\n');
    if resume {
        match std::fs::read(&config_file) {
            Ok(old) if old == config_bytes => {}
            Ok(_) => {
                return Err(SweepError::Spec(format!(
                    "{} holds another sweep (scenarios, policies, seeds or settings differ): \
                     resume only the same sweep",
                    config_file.display()
                )))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(&config_file)(e)),
        }
    }
    mmsoak_artifacts::write_atomically(&config_file, &config_bytes).map_err(io(&config_file))?;
    let shard_file = out.join(SHARD_FILE);
    if let Some(part) = partition {
        let mut bytes = serde_json::to_vec_pretty(&part).unwrap_or_default();
        bytes.push(b'\n');
        if resume {
            if let Ok(old) = std::fs::read(&shard_file) {
                if old != bytes {
                    return Err(SweepError::Spec(format!(
                        "{} holds another shard: resume it with the same --partition",
                        shard_file.display()
                    )));
                }
            }
        }
        mmsoak_artifacts::write_atomically(&shard_file, &bytes).map_err(io(&shard_file))?;
    }

    let all: Vec<Job> = spec
        .jobs()
        .into_iter()
        .enumerate()
        .filter(|(i, _)| partition.is_none_or(|p| p.takes(*i)))
        .map(|(_, j)| j)
        .collect();
    let total = all.len();
    let results: Mutex<Vec<Option<(SoakOutcome, bool)>>> = Mutex::new(vec![None; total]);
    let done = AtomicUsize::new(0);
    let record = |i: usize, outcome: SoakOutcome, resumed: bool| {
        let n = done.fetch_add(1, Ordering::SeqCst) + 1;
        on_done(&Progress {
            outcome: &outcome,
            resumed,
            done: n,
            total,
        });
        if let Ok(mut r) = results.lock() {
            r[i] = Some((outcome, resumed));
        }
    };
    // Outcomes of an earlier run first (cheap, in order).
    let mut pending = Vec::new();
    for (i, job) in all.iter().enumerate() {
        match resume
            .then(|| spec.read_outcome(out, job))
            .transpose()?
            .flatten()
        {
            Some(outcome) => record(i, outcome, true),
            None => pending.push(i),
        }
    }
    let next = AtomicUsize::new(0);
    let first_error: Mutex<Option<SweepError>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, pending.len().max(1)) {
            scope.spawn(|| loop {
                if stop.requested().is_some() {
                    return;
                }
                if first_error.lock().map_or(true, |e| e.is_some()) {
                    return;
                }
                let k = next.fetch_add(1, Ordering::SeqCst);
                let Some(&i) = pending.get(k) else { return };
                match spec.run_one(out, &all[i], stop) {
                    Ok(outcome) => record(i, outcome, false),
                    Err(e) => {
                        if let Ok(mut first) = first_error.lock() {
                            first.get_or_insert(e);
                        }
                        return;
                    }
                }
            });
        }
    });
    let finished = done.load(Ordering::SeqCst);
    if let Some(value) = stop.requested() {
        return Err(SweepError::Stopped {
            done: finished,
            total,
            value,
        });
    }
    if let Some(e) = first_error.into_inner().ok().flatten() {
        return Err(match e {
            SweepError::Stopped { value, .. } => SweepError::Stopped {
                done: finished,
                total,
                value,
            },
            e => e,
        });
    }
    let results = results.into_inner().unwrap_or_default();
    let resumed = results.iter().flatten().filter(|(_, r)| *r).count();
    let outcomes: Vec<SoakOutcome> = results.into_iter().flatten().map(|(o, _)| o).collect();
    let timing = SweepTiming {
        wall_s: started.elapsed().as_secs_f64(),
        jobs: jobs.max(1),
        soaks_run: outcomes.len() - resumed,
        soaks_resumed: resumed,
    };
    Ok(SweepReport::new(config, &outcomes, timing))
}

/// Join the shard directories of one sweep (`--partition K/N` runs) into
/// `out` (its `SWEEP_CONFIG.json` and every soak's outcome, so that the
/// merged directory can be compared like any sweep's) and return its
/// report: the same as an unpartitioned run's, timing aside. Refuses
/// shards of different sweeps (their `SWEEP_CONFIG.json` differ), a
/// missing or repeated shard, and a soak missing from its shard or present
/// in another, naming them.
pub fn merge_shards(shards: &[PathBuf], out: &Path) -> Result<SweepReport, SweepError> {
    let started = Instant::now();
    let Some(first) = shards.first() else {
        return Err(SweepError::Spec(
            "merge needs at least one shard".to_owned(),
        ));
    };
    let read = crate::read_small;
    let (config_path, config_text) = read(first.join("SWEEP_CONFIG.json"))?;
    let config: SweepConfig = crate::parse_json(config_path, &config_text)?;
    let mut seen: BTreeMap<usize, &PathBuf> = BTreeMap::new();
    let mut count = None;
    for shard in shards {
        let (path, text) = read(shard.join("SWEEP_CONFIG.json"))?;
        if text != config_text {
            return Err(SweepError::Spec(format!(
                "{} is another sweep's than {} (scenarios, policies, seeds or settings differ)",
                path.display(),
                first.join("SWEEP_CONFIG.json").display()
            )));
        }
        let (path, text) = read(shard.join(SHARD_FILE))?;
        let part: Partition = crate::parse_json(path.clone(), &text)?;
        Partition::new(part.index, part.count)?;
        if *count.get_or_insert(part.count) != part.count {
            return Err(SweepError::Spec(format!(
                "{} is shard {}/{}, another split than the others' {}",
                shard.display(),
                part.index,
                part.count,
                count.unwrap_or(0)
            )));
        }
        if let Some(other) = seen.insert(part.index, shard) {
            return Err(SweepError::Spec(format!(
                "shard {}/{} is given twice: {} and {}",
                part.index,
                part.count,
                other.display(),
                shard.display()
            )));
        }
    }
    let count = count.unwrap_or(1);
    let missing: Vec<String> = (1..=count)
        .filter(|k| !seen.contains_key(k))
        .map(|k| format!("{k}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(SweepError::Spec(format!(
            "missing shard(s): {}",
            missing.join(", ")
        )));
    }
    let mut outcomes = Vec::new();
    let mut position = 0;
    for (scenario, _) in &config.scenarios {
        for (policy, _) in &config.policies {
            for &seed in &config.seeds {
                let owner = (position % count) + 1;
                position += 1;
                for (k, shard) in &seen {
                    let file = shard
                        .join(scenario)
                        .join(policy)
                        .join(format!("seed-{seed}.json"));
                    let present = std::fs::symlink_metadata(&file).is_ok();
                    match (present, *k == owner) {
                        (true, true) => {
                            let (path, text) = read(file)?;
                            let o: SoakOutcome =
                                crate::parse_json(path.clone(), &text)?;
                            if (o.scenario.as_str(), o.policy.as_str(), o.seed)
                                != (scenario.as_str(), policy.as_str(), seed)
                            {
                                return Err(SweepError::Outcome {
                                    path,
                                    message: "is another soak's outcome".to_owned(),
                                });
                            }
                            outcomes.push(o);
                        }
                        (false, true) => {
                            return Err(SweepError::Spec(format!(
                                "{}: soak {scenario}/{policy}/seed-{seed} has no outcome (an unfinished shard: --resume it)",
                                shard.display()
                            )))
                        }
                        (true, false) => {
                            return Err(SweepError::Spec(format!(
                                "{}: soak {scenario}/{policy}/seed-{seed} belongs to shard {owner}/{count}, not this one",
                                shard.display()
                            )))
                        }
                        (false, false) => {}
                    }
                }
            }
        }
    }
    let io = |path: PathBuf| move |source| SweepError::Io { path, source };
    check_out(out)?;
    std::fs::create_dir_all(out).map_err(io(out.to_owned()))?;
    let config_file = out.join("SWEEP_CONFIG.json");
    mmsoak_artifacts::write_atomically(&config_file, config_text.as_bytes())
        .map_err(io(config_file.clone()))?;
    for o in &outcomes {
        let dir = out.join(&o.scenario).join(&o.policy);
        std::fs::create_dir_all(&dir).map_err(io(dir.clone()))?;
        let file = dir.join(format!("seed-{}.json", o.seed));
        let mut bytes = serde_json::to_vec_pretty(o).unwrap_or_default();
        bytes.push(b'\n');
        mmsoak_artifacts::write_atomically(&file, &bytes).map_err(io(file.clone()))?;
    }
    let timing = SweepTiming {
        wall_s: started.elapsed().as_secs_f64(),
        jobs: 0,
        soaks_run: 0,
        soaks_resumed: outcomes.len(),
    };
    Ok(SweepReport::new(config, &outcomes, timing))
}
