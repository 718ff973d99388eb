//! The closed loop: for each iteration, run the bot, summarize, propose,
//! guard and apply, and record everything.

use std::path::{Path, PathBuf};

use mmsoak_apply::{
    apply_with_tracking, initialize, replay_decided, verify_chain, ApplyError, ApplyOutcome,
    GuardContext, GuardKpis, IterationRecord, RecoveryKind, RunHistory, SoakDirLock,
};
use mmsoak_artifacts::layout::{
    ITER_SUMMARY_SCHEMA, RUNTIME_OVERRIDES as OVERRIDES_SNAPSHOT_FILE, SOAK_RUN as SOAK_RUN_FILE,
    SOAK_RUN_SCHEMA, TUNING_REPORT as TUNING_REPORT_FILE,
};
use mmsoak_core::{InputError, IterationKpis, RuntimeOverrides, StateHash};
use mmsoak_tuner::{propose, Proposal, TunerError, TunerMemory};

use crate::artifacts::{
    iter_dir_name, iter_summary_name, write_json, IterSummaryFile, RunConfig, SoakRun,
    SummarySection, TuningEntry, TuningReportMark, TuningSection,
};
use crate::driver::{collect_output, Driver, DriverError, IterationInput, IterationOutput};
use crate::stop::StopRequest;
use crate::Clock;
use mmsoak_policy::SoakPolicy;

use super::dir::{check_fresh_dir, clean_dir};
use super::resume::{recorded_work, resume_state};

/// Everything a soak needs besides its driver.
#[derive(Debug, Clone)]
pub struct SoakConfig {
    /// The artifacts directory: new, empty or an earlier soak's (else
    /// [`SoakError::ForeignFile`]); what a soak wrote in it is removed at
    /// start unless resuming.
    pub out_dir: PathBuf,
    /// Iterations to run.
    pub iterations: u32,
    /// Whether the tuner proposes changes (without it, every proposal is empty).
    pub auto_tune: bool,
    /// Seed, recorded in the artifacts (the driver is built with it).
    pub seed: u64,
    /// The policy.
    pub policy: SoakPolicy,
    /// The policy file it came from, if any.
    pub policy_file: Option<PathBuf>,
    /// The runtime overrides the run starts from.
    pub initial_overrides: RuntimeOverrides,
    /// The bot command (exec driver), recorded for `--resume`.
    pub exec_command: Option<String>,
    /// Wall clock or a fixed one (for byte-identical artifacts).
    pub clock: Clock,
    /// Continue a killed run instead of starting a fresh one.
    pub resume: bool,
    /// Stop early when requested (checked before each iteration, and by the
    /// exec driver while the bot runs).
    pub stop: StopRequest,
}

/// What the caller is told as the run progresses (terminal output).
pub trait SoakObserver {
    /// The run is about to start at iteration `first` (1, or later on resume).
    fn started(&mut self, _config: &SoakConfig, _first: u32) {}
    /// Something the person running the soak should know, in a sentence:
    /// `--resume` found no run record and starts a fresh run instead, or
    /// the bot of a killed soak was still running and has been killed.
    fn notice(&mut self, _text: &str) {}
    /// Iteration finished.
    fn iteration_done(&mut self, _done: &IterationDone<'_>) {}
}

/// An observer that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet;

impl SoakObserver for Quiet {}

/// One finished iteration, for observers.
#[derive(Debug, Clone, Copy)]
pub struct IterationDone<'a> {
    /// Iteration.
    pub iteration: u32,
    /// Of how many.
    pub total: u32,
    /// KPIs.
    pub kpis: &'a IterationKpis,
    /// The tuner's proposal.
    pub proposal: &'a Proposal,
    /// The apply outcome.
    pub outcome: &'a ApplyOutcome,
}

/// How the soak ended.
#[derive(Debug, Clone, PartialEq)]
pub struct SoakResult {
    /// Iterations completed.
    pub iterations: u32,
    /// Iterations whose changes were applied.
    pub applied: u32,
    /// Final runtime state.
    pub final_state: StateHash,
    /// The iteration the run started at (1 unless resumed).
    pub first_iteration: u32,
    /// What recovery found when resuming.
    pub recovery: Option<RecoveryKind>,
}

/// A soak could not go on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SoakError {
    /// The configuration is unusable.
    #[error("invalid soak configuration: {0}")]
    Config(String),
    /// The artifacts directory of a fresh run is neither new, empty nor a
    /// soak's: nothing in it is removed.
    #[error("{} holds `{entry}` and is not a soak's directory (no .mmsoak.lock or SOAK_RUN.json): a fresh run removes what a soak wrote in its directory, so it must be new, empty or an earlier soak's (choose another --out)", dir.display())]
    ForeignFile {
        /// The artifacts directory.
        dir: PathBuf,
        /// Its first entry, by name.
        entry: String,
    },
    /// `--resume` on a directory that holds no run, or a different run.
    #[error("cannot resume in {}: {problem}", dir.display())]
    Resume {
        /// The artifacts directory.
        dir: PathBuf,
        /// Why.
        problem: String,
    },
    /// A stop was requested; the artifacts are those of the last complete
    /// iteration.
    #[error("stopped on request after {completed} of {iterations} iterations (the artifacts are those of iteration {completed}; continue with --resume)")]
    Stopped {
        /// Iterations complete.
        completed: u32,
        /// Iterations the run was asked for.
        iterations: u32,
        /// The value the stop was requested with.
        value: usize,
    },
    /// The bot failed.
    #[error(transparent)]
    Driver(#[from] DriverError),
    /// Another process holds the artifacts directory.
    #[error(transparent)]
    Lock(#[from] mmsoak_apply::LockError),
    /// The apply pipeline failed (journal, write, verification).
    #[error(transparent)]
    Apply(#[from] ApplyError),
    /// The tuner refused the KPIs.
    #[error("iteration {iteration}")]
    Tuner {
        /// Iteration.
        iteration: u32,
        /// Why.
        #[source]
        source: TunerError,
    },
    /// A file of the run could not be read.
    #[error(transparent)]
    Input(#[from] InputError),
    /// A file of the run could not be written.
    #[error("cannot write {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

pub(super) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> SoakError + '_ {
    move |source| SoakError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The run's configuration as recorded in `SOAK_RUN.json`.
fn run_config(config: &SoakConfig, driver: &dyn Driver) -> RunConfig {
    RunConfig {
        driver: driver.name().to_owned(),
        scenario: driver.scenario().map(str::to_owned),
        exec_command: config.exec_command.clone(),
        driver_settings: driver.settings(),
        seed: config.seed,
        iterations: config.iterations,
        auto_tune: config.auto_tune,
        policy_file: config.policy_file.clone(),
        policy_hash: config.policy.policy_hash(),
    }
}

/// Mutable state of a run between iterations.
pub(super) struct Progress {
    pub(super) run: SoakRun,
    /// Where the tuning report ends (also in `run`, once saved).
    pub(super) report: TuningReportMark,
}

/// Run a soak: `config.iterations` iterations of `driver`, each summarized,
/// tuned (with `auto_tune`), guarded and applied, with every artifact
/// written atomically. With `config.resume`, continue a killed run from its
/// last complete iteration instead; the result is the same as an
/// uninterrupted run's.
///
/// The artifacts directory is locked for the whole run; a second process
/// gets an error naming the holder, and nothing is cleaned.
pub fn run_soak(
    config: &SoakConfig,
    driver: &mut dyn Driver,
    observer: &mut dyn SoakObserver,
) -> Result<SoakResult, SoakError> {
    if config.iterations == 0 {
        return Err(SoakError::Config("iterations must be at least 1".into()));
    }
    // Killed before the first run record (or before the directory was
    // made): nothing complete can be lost, so the run starts afresh (under
    // the fresh run's rules) and says so.
    let resume =
        config.resume && std::fs::symlink_metadata(config.out_dir.join(SOAK_RUN_FILE)).is_ok();
    if config.resume && !resume {
        if let Some(work) = recorded_work(&config.out_dir) {
            // Complete iterations without their run record: a fresh run
            // would remove them, and a resume cannot continue them.
            return Err(SoakError::Resume {
                dir: config.out_dir.clone(),
                problem: format!(
                    "it holds no {SOAK_RUN_FILE} but holds {work}: there is no run record to continue from (start a fresh run without --resume to discard them)"
                ),
            });
        }
        let why = if config.out_dir.exists() {
            format!("it holds no {SOAK_RUN_FILE}")
        } else {
            "no such directory".to_owned()
        };
        observer.notice(&format!(
            "nothing to resume in {}: {why} (a run killed before its first iteration was complete); starting a fresh run",
            config.out_dir.display()
        ));
    }
    if !resume {
        if let Some((param, value)) = config
            .initial_overrides
            .outside_bounds(&config.policy.registry)
        {
            let b = config.policy.registry.spec(param).bounds;
            return Err(SoakError::Config(format!(
                "the initial runtime overrides set {param} to {value}, outside its bounds {}..={}",
                b.min, b.max
            )));
        }
        // Refuse before the lock file would be written into it.
        check_fresh_dir(&config.out_dir)?;
    }
    let lock = SoakDirLock::acquire(&config.out_dir)?;
    let wanted = run_config(config, driver);
    let mut notices = Vec::new();
    let started = if resume {
        resume_state(&lock, &wanted, driver.owns_iteration_dir(), &mut notices)
            .map(|(p, r, last)| (p, Some(r), last))
    } else {
        fresh_start(config, &lock, wanted, &mut notices).map(|p| (p, None, None))
    };
    for notice in &notices {
        observer.notice(notice);
    }
    let (mut progress, recovery, last_decided) = started?;
    let first = progress.run.completed_iterations + 1;
    // Killed after the apply step of `first` but before its records: replay it.
    let replay_first = last_decided == Some(first);
    observer.started(config, first);

    for iteration in first..=config.iterations {
        let stopped = |value| SoakError::Stopped {
            completed: iteration - 1,
            iterations: config.iterations,
            value,
        };
        if let Some(value) = config.stop.requested() {
            return Err(stopped(value));
        }
        let replay = replay_first && iteration == first;
        match run_iteration(
            config,
            &lock,
            driver,
            observer,
            &mut progress,
            iteration,
            replay,
        ) {
            Err(SoakError::Driver(DriverError::Stopped { value, .. })) => {
                return Err(stopped(value))
            }
            other => other?,
        }
    }
    let state = verify_chain(&lock)?;
    Ok(SoakResult {
        iterations: progress.run.completed_iterations,
        applied: progress.report.counts.applied,
        final_state: state.state_hash,
        first_iteration: first,
        recovery,
    })
}

/// Clean the directory (all but the lock) and write the initial state.
fn fresh_start(
    config: &SoakConfig,
    lock: &SoakDirLock,
    wanted: RunConfig,
    notices: &mut Vec<String>,
) -> Result<Progress, SoakError> {
    clean_dir(lock, notices)?;
    let init = initialize(lock, &config.initial_overrides, &config.policy.registry)?;
    let report_path = lock.dir().join(TUNING_REPORT_FILE);
    let report = TuningReportMark::start(&report_path).map_err(io_err(&report_path))?;
    let now = config.clock.now_utc();
    let run = SoakRun {
        schema: SOAK_RUN_SCHEMA.to_owned(),
        mmsoak_version: env!("CARGO_PKG_VERSION").to_owned(),
        config: wanted,
        started_utc: now.clone(),
        updated_utc: now,
        completed_iterations: 0,
        finished: false,
        initial_state_hash: init.state_hash,
        history: RunHistory::new(),
        tuner_memory: TunerMemory::default(),
        tuning_report: Some(report),
    };
    let progress = Progress { run, report };
    save_run(lock, &progress.run)?;
    Ok(progress)
}

fn run_iteration(
    config: &SoakConfig,
    lock: &SoakDirLock,
    driver: &mut dyn Driver,
    observer: &mut dyn SoakObserver,
    progress: &mut Progress,
    iteration: u32,
    decided: bool,
) -> Result<(), SoakError> {
    let dir = lock.dir();
    let iter_dir = dir.join(iter_dir_name(iteration));
    let snapshot_path = iter_dir.join(OVERRIDES_SNAPSHOT_FILE);
    if std::fs::symlink_metadata(&iter_dir).is_ok_and(|m| m.file_type().is_symlink()) {
        // Planted after the directory was cleaned: nothing is written through it.
        return Err(SoakError::Io {
            path: iter_dir,
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "it is a symbolic link; mmsoak writes an iteration only into a directory of its own, never through a link (remove it)",
            ),
        });
    }

    // 1. The overrides in force, and the bot's report.
    let (overrides, output) = if decided {
        // Killed after the apply step of this iteration: replay it from the
        // snapshot and the report the bot already wrote.
        let overrides = RuntimeOverrides::from_path(&snapshot_path)?;
        let output = collect_output(iteration, &iter_dir, "")?;
        (overrides, output)
    } else {
        let overrides = RuntimeOverrides::from_path(&lock.runtime_path())?;
        std::fs::create_dir_all(&iter_dir).map_err(io_err(&iter_dir))?;
        mmsoak_artifacts::write_atomically(&snapshot_path, &overrides.to_canonical_bytes())
            .map_err(io_err(&snapshot_path))?;
        let output = driver.run_iteration(&IterationInput {
            iteration,
            overrides: &overrides,
            overrides_path: &snapshot_path,
            out_dir: &iter_dir,
            stop: &config.stop,
        })?;
        (overrides, output)
    };

    // 2. Summarize.
    let kpis = summarize(&output, driver.is_mock());

    // 3. Propose.
    let registry = &config.policy.registry;
    let memory = progress.run.tuner_memory;
    let mut proposal = propose(&kpis, &overrides, registry, &config.policy.tuner, &memory)
        .map_err(|source| SoakError::Tuner { iteration, source })?;
    if !config.auto_tune {
        // Nothing is proposed; the rationale still says what the rules saw.
        proposal.operations.clear();
        proposal.deltas.clear();
        proposal.dropped.clear();
        proposal.rules_fired.clear();
        proposal.rationale = format!("AUTO_TUNE_OFF: not proposed: {}", proposal.rationale);
    }

    // 4. Guard and apply.
    let guard_kpis = GuardKpis::from(&kpis);
    let ctx = GuardContext {
        history: &progress.run.history,
        iteration,
        total_iterations: config.iterations,
        kpis: guard_kpis,
        policy: &config.policy.guards,
        registry,
    };
    let ops = proposal.delta_ops();
    let outcome = if decided {
        replay_decided(lock, &ops, &ctx, &overrides)?
    } else {
        apply_with_tracking(lock, &ops, &ctx)?
    };

    // 5. Record.
    let runtime_utc = output
        .report
        .runtime
        .as_ref()
        .and_then(|r| r.utc.as_deref());
    let version = output
        .report
        .runtime
        .as_ref()
        .and_then(|r| r.version.as_deref());
    let summary = IterSummaryFile {
        schema: ITER_SUMMARY_SCHEMA,
        iteration,
        driver: driver.name(),
        seed: config.seed,
        runtime_overrides: overrides.to_value(),
        summary: SummarySection {
            kpis: &kpis,
            runtime_utc,
            version,
        },
        tuning: TuningSection::new(&proposal, &outcome),
    };
    let summary_path = dir.join(iter_summary_name(iteration));
    write_json(&summary_path, &summary).map_err(io_err(&summary_path))?;

    let entry = TuningEntry {
        iteration,
        runtime_utc: runtime_utc.map(str::to_owned),
        net_bps: kpis.net_bps,
        neg_edge_drivers: kpis.neg_edge_drivers.clone(),
        proposed_deltas: proposal.deltas.clone(),
        suggested_deltas: proposal.deltas.clone(),
        rationale: proposal.rationale.clone(),
        rules_fired: proposal
            .rules_fired
            .iter()
            .map(|m| m.name().to_owned())
            .collect(),
        applied: outcome.applied,
        skip_reason: outcome.skip_reason.clone(),
        changed_keys: outcome.changed_keys.clone(),
        state_hash: outcome.state_hash,
        old_hash: outcome.old_hash,
        freeze_triggered: outcome.guards.freeze_triggered,
        oscillation_detected: outcome.guards.oscillation_detected,
        velocity_violation: outcome.guards.velocity_violation,
        cooldown_active: outcome.guards.cooldown_active,
    };
    let report_path = dir.join(TUNING_REPORT_FILE);
    progress.report = progress
        .report
        .append(&report_path, &entry)
        .map_err(io_err(&report_path))?;
    let history = &mut progress.run.history;
    history
        .push(IterationRecord::from_outcome(guard_kpis, &outcome))
        .map_err(ApplyError::from)?;
    history.compact(&config.policy.guards);
    progress.run.tuner_memory = proposal.memory;
    progress.run.completed_iterations = iteration;
    progress.run.finished = iteration == config.iterations;
    progress.run.updated_utc = config.clock.now_utc();
    progress.run.tuning_report = Some(progress.report);
    save_run(lock, &progress.run)?;

    observer.iteration_done(&IterationDone {
        iteration,
        total: config.iterations,
        kpis: &kpis,
        proposal: &proposal,
        outcome: &outcome,
    });
    Ok(())
}

/// SOAK_RUN.json: the commit point of an iteration (written after its
/// summary and its tuning report entry).
fn save_run(lock: &SoakDirLock, run: &SoakRun) -> Result<(), SoakError> {
    let run_path = lock.dir().join(SOAK_RUN_FILE);
    write_json(&run_path, run).map_err(io_err(&run_path))
}

/// KPIs of one iteration: maker/taker from the fill log when there is one.
pub fn summarize(output: &IterationOutput, mock_run: bool) -> IterationKpis {
    mmsoak_ratio::summarize(&output.report, output.fill_log.as_ref(), mock_run)
}
