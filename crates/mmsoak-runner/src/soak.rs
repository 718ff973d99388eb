//! The closed loop: for each iteration, run the bot, summarize, propose,
//! guard and apply, and record everything.

use std::path::{Path, PathBuf};

use mmsoak_apply::{
    apply_with_tracking, initialize, recover, replay_decided, verify_chain, ApplyError,
    ApplyOutcome, GuardContext, GuardKpis, IterationRecord, RecoveryKind, RunHistory, SoakDirLock,
};
use mmsoak_artifacts::layout::{
    is_iteration_artifact, is_soak_artifact, APPLY_JOURNAL, BOT_RECORD as BOT_RECORD_FILE,
    ITER_SUMMARY_SCHEMA, LOCK_FILE, RUNTIME_OVERRIDES as OVERRIDES_SNAPSHOT_FILE,
    SOAK_RUN as SOAK_RUN_FILE, SOAK_RUN_SCHEMA, TUNING_REPORT as TUNING_REPORT_FILE,
};
use mmsoak_core::input::{excerpt, limits, read_document, read_line_capped, LineRead};
use mmsoak_core::{InputError, IterationKpis, RuntimeOverrides, StateHash};
use mmsoak_tuner::{propose, Proposal, TunerError, TunerMemory};

use crate::artifacts::{
    iter_dir_name, iter_summary_name, write_json, IterSummaryFile, RunConfig, SoakRun,
    SummarySection, TuningEntry, TuningReportMark, TuningSection,
};
use crate::driver::bot_process::kill_recorded;
use crate::driver::{collect_output, Driver, DriverError, IterationInput, IterationOutput};
use crate::policy::SoakPolicy;
use crate::stop::StopRequest;
use crate::Clock;

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
    #[error("iteration {iteration}: {source}")]
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
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> SoakError + '_ {
    move |source| SoakError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The first setting in which `wanted` differs from the killed run's
/// `stored` one: (what, stored value, wanted value).
fn config_difference(stored: &RunConfig, wanted: &RunConfig) -> Option<(String, String, String)> {
    fn show<T: std::fmt::Debug>(v: &Option<T>) -> String {
        v.as_ref()
            .map_or_else(|| "none".to_owned(), |v| format!("{v:?}"))
    }
    // Compared in full, shown short unless the short forms agree.
    let same_short = stored.policy_hash.short() == wanted.policy_hash.short();
    let policy = |h: &StateHash| if same_short { h.to_string() } else { h.short() };
    let fields = [
        ("driver", stored.driver.clone(), wanted.driver.clone()),
        ("scenario", show(&stored.scenario), show(&wanted.scenario)),
        (
            "exec command",
            show(&stored.exec_command),
            show(&wanted.exec_command),
        ),
        ("seed", stored.seed.to_string(), wanted.seed.to_string()),
        (
            "iterations",
            stored.iterations.to_string(),
            wanted.iterations.to_string(),
        ),
        (
            "auto-tune",
            stored.auto_tune.to_string(),
            wanted.auto_tune.to_string(),
        ),
        (
            "policy",
            policy(&stored.policy_hash),
            policy(&wanted.policy_hash),
        ),
    ];
    let settings = stored
        .driver_settings
        .keys()
        .chain(wanted.driver_settings.keys())
        .map(|k| {
            let get = |c: &RunConfig| show(&c.driver_settings.get(k));
            (format!("driver setting {k}"), get(stored), get(wanted))
        });
    fields
        .into_iter()
        .map(|(what, was, now)| (what.to_owned(), was, now))
        .chain(settings)
        .find(|(_, was, now)| was != now)
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
struct Progress {
    run: SoakRun,
    /// Where the tuning report ends (also in `run`, once saved).
    report: TuningReportMark,
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
        resume_state(&lock, &wanted, &mut notices).map(|(p, r, last)| (p, Some(r), last))
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

/// What a run that got further than its first record left in `dir`, said
/// in words: iteration summaries, or an apply journal with decisions.
/// `None` when nothing complete is there (a run killed before its first
/// run record).
fn recorded_work(dir: &Path) -> Option<String> {
    let summaries = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with("ITER_SUMMARY_") && name.ends_with(".json")
        })
        .count();
    if summaries > 0 {
        return Some(format!("{summaries} iteration summaries"));
    }
    // More than its `init` line: an iteration was decided.
    let journal = mmsoak_artifacts::open_artifact(
        &dir.join(APPLY_JOURNAL),
        std::fs::OpenOptions::new().read(true),
    )
    .ok()?;
    let mut reader = std::io::BufReader::new(journal);
    let mut line = Vec::new();
    let mut lines = 0;
    while lines < 2 {
        match read_line_capped(&mut reader, &mut line, limits::LINE) {
            Ok(LineRead::Line) if !line.trim_ascii().is_empty() => lines += 1,
            Ok(LineRead::Line) => {}
            _ => break,
        }
    }
    (lines >= 2).then(|| "an apply journal with decided iterations".to_owned())
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

/// Whether a fresh run may use `dir`: it is absent, empty, or a soak's (it
/// holds the lock file every run leaves, or a SOAK_RUN.json). Otherwise an
/// error naming its first entry: a fresh run empties what a soak wrote in
/// its directory, and must never be pointed at yours.
fn check_fresh_dir(dir: &Path) -> Result<(), SoakError> {
    if dir.as_os_str().is_empty() {
        return Err(SoakError::Config(
            "the artifacts directory is empty (\"\")".into(),
        ));
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err(dir)(e)),
    };
    let mut names = Vec::new();
    for entry in entries {
        names.push(
            entry
                .map_err(io_err(dir))?
                .file_name()
                .to_string_lossy()
                .into_owned(),
        );
    }
    let is_a_soaks = names.iter().any(|n| n == LOCK_FILE || n == SOAK_RUN_FILE);
    match names.into_iter().min() {
        Some(entry) if !is_a_soaks => Err(SoakError::ForeignFile {
            dir: dir.to_owned(),
            entry,
        }),
        _ => Ok(()),
    }
}

/// The driver the directory's last run recorded, if it can be read.
fn recorded_driver(dir: &Path) -> Option<String> {
    let doc = read_document(&dir.join(SOAK_RUN_FILE), limits::SOAK_RUN).ok()?;
    Some(doc.get("config")?.get("driver")?.as_str()?.to_owned())
}

/// Remove what a soak wrote (`is_soak_artifact`) from the locked directory,
/// but the lock; anything else (an editor's or the OS's leftovers) stays.
/// An iteration directory of an exec run is the bot's output directory and
/// goes whole; one of another driver (or of an unknown one) loses only the
/// files a soak writes there, and stays if anything else is left in it.
fn clean_dir(lock: &SoakDirLock, notices: &mut Vec<String>) -> Result<(), SoakError> {
    let dir = lock.dir();
    let bots_dirs = recorded_driver(dir).as_deref() == Some("exec");
    let entries = std::fs::read_dir(dir).map_err(io_err(dir))?;
    for entry in entries {
        let entry = entry.map_err(io_err(dir))?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name == LOCK_FILE || !is_soak_artifact(&name) {
            continue; // the lock we hold, or not ours to remove
        }
        // `file_type` does not follow links: a linked iter_N is unlinked only.
        if !entry.file_type().map_err(io_err(&path))?.is_dir() {
            std::fs::remove_file(&path).map_err(io_err(&path))?;
        } else if name.starts_with("iter_") {
            stop_leftover_bot(&path, notices)?;
            remove_iteration_dir(&path, bots_dirs)?;
        } else {
            // An interrupted atomic write's temporary directory.
            std::fs::remove_dir_all(&path).map_err(io_err(&path))?;
        }
    }
    Ok(())
}

/// Kill what the bot of a killed soak left running in iteration directory
/// `dir` (as its record says), before the directory is reused or removed.
fn stop_leftover_bot(dir: &Path, notices: &mut Vec<String>) -> Result<(), SoakError> {
    if let Some(notice) = kill_recorded(dir).map_err(io_err(&dir.join(BOT_RECORD_FILE)))? {
        notices.push(notice);
    }
    Ok(())
}

/// Remove an iteration directory: whole when it was an exec bot's output
/// directory (`bots`), else only the files a soak writes in it, and the
/// directory when nothing else is left.
fn remove_iteration_dir(dir: &Path, bots: bool) -> Result<(), SoakError> {
    if bots {
        return std::fs::remove_dir_all(dir).map_err(io_err(dir));
    }
    clean_iteration_dir(dir)?;
    match std::fs::remove_dir(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::DirectoryNotEmpty => Ok(()),
        other => other.map_err(io_err(dir)),
    }
}

/// Remove the files a soak writes in an iteration directory, and what an
/// interrupted atomic write left there (an `.atomicwrite*` directory).
fn clean_iteration_dir(dir: &Path) -> Result<(), SoakError> {
    for entry in std::fs::read_dir(dir).map_err(io_err(dir))? {
        let entry = entry.map_err(io_err(dir))?;
        let path = entry.path();
        if !is_iteration_artifact(&entry.file_name().to_string_lossy()) {
            continue;
        }
        let removed = if entry.file_type().map_err(io_err(&path))?.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed.map_err(io_err(&path))?;
    }
    Ok(())
}

/// Continue a killed run: recover the journal, check the configuration,
/// drop any partial iteration's records. Also returns the journal's last
/// decided iteration.
fn resume_state(
    lock: &SoakDirLock,
    wanted: &RunConfig,
    notices: &mut Vec<String>,
) -> Result<(Progress, RecoveryKind, Option<u32>), SoakError> {
    let dir = lock.dir().to_owned();
    let resume_err = |problem: String| SoakError::Resume {
        dir: dir.clone(),
        problem,
    };
    let run_path = dir.join(SOAK_RUN_FILE);
    let run: SoakRun = serde_json::from_value(read_document(&run_path, limits::SOAK_RUN)?)
        .map_err(|e| {
            resume_err(format!(
                "{}: {}",
                run_path.display(),
                excerpt(&e.to_string())
            ))
        })?;
    let stored = &run.config;
    if stored.driver == wanted.driver
        && stored.driver_settings.is_empty()
        && !wanted.driver_settings.is_empty()
    {
        return Err(resume_err(format!(
            "the killed run's {SOAK_RUN_FILE} records no settings of the {} driver (it was written by an mmsoak that did not record them), so its market cannot be checked: start the run again",
            stored.driver
        )));
    }
    if let Some((what, was, now)) = config_difference(stored, wanted) {
        return Err(resume_err(format!(
            "the {what} differs from the killed run's ({SOAK_RUN_FILE}): it was {was}, now {now}; resume with the same command line"
        )));
    }
    // The complete iterations' summaries are what verify, gate and report
    // read: a resumed run must not finish on a directory they refuse.
    // Checked before recovery writes anything.
    for i in 1..=run.completed_iterations {
        let path = dir.join(iter_summary_name(i));
        let unusable = |why: String| {
            resume_err(format!(
                "{} of complete iteration {i} {why}; a resumed run would end unreadable: start the run again",
                path.display()
            ))
        };
        if std::fs::symlink_metadata(&path).is_err() {
            return Err(unusable("is missing".to_owned()));
        }
        let doc = read_document(&path, limits::ITER_SUMMARY)
            .map_err(|e| unusable(format!("cannot be read ({e})")))?;
        let schema = doc.get("schema").and_then(|v| v.as_str());
        let iteration = doc.get("iteration").and_then(serde_json::Value::as_u64);
        if schema != Some(ITER_SUMMARY_SCHEMA) || iteration != Some(u64::from(i)) {
            return Err(unusable(format!(
                "is not this run's summary (schema {}, iteration {iteration:?})",
                excerpt(&format!("{schema:?}"))
            )));
        }
    }
    let recovery = recover(lock)?;
    let chain = verify_chain(lock)?;
    let k = run.completed_iterations;
    match chain.last_iteration {
        Some(j) if j == k || j == k + 1 => {}
        None if k == 0 => {}
        other => {
            return Err(resume_err(format!(
                "{SOAK_RUN_FILE} says {k} iterations are complete but the apply journal's last decided iteration is {}",
                other.map_or("none".to_owned(), |j| j.to_string())
            )))
        }
    }
    // The tuning report back to the last complete iteration's.
    let report_path = dir.join(TUNING_REPORT_FILE);
    let report = run.tuning_report.ok_or_else(|| {
        resume_err(format!(
            "{SOAK_RUN_FILE} does not record where {TUNING_REPORT_FILE} ends (it was written by an earlier mmsoak): start the run again"
        ))
    })?;
    if report.counts.count != k {
        return Err(resume_err(format!(
            "{SOAK_RUN_FILE} says {k} iterations are complete but records {} {TUNING_REPORT_FILE} entries",
            report.counts.count
        )));
    }
    report
        .restore(&report_path)
        .map_err(|e| resume_err(format!("{}: {e}", report_path.display())))?;
    // Records of iterations after the last complete one are partial.
    for i in k + 1..=run.config.iterations.max(k + 1) {
        let summary = dir.join(iter_summary_name(i));
        if summary.exists() {
            std::fs::remove_file(&summary).map_err(io_err(&summary))?;
        }
        // The next iteration's directory is kept when the journal already
        // decided it: its report is replayed, not re-run.
        let decided = chain.last_iteration == Some(i);
        let iter_dir = dir.join(iter_dir_name(i));
        match std::fs::symlink_metadata(&iter_dir).map(|m| m.file_type()) {
            // A link is removed itself, never what it points to.
            Ok(kind) if kind.is_symlink() => {
                std::fs::remove_file(&iter_dir).map_err(io_err(&iter_dir))?
            }
            Ok(kind) if kind.is_dir() => {
                stop_leftover_bot(&iter_dir, notices)?;
                if !decided {
                    remove_iteration_dir(&iter_dir, run.config.driver == "exec")?
                }
            }
            _ => {}
        }
    }
    Ok((
        Progress { run, report },
        recovery.kind,
        chain.last_iteration,
    ))
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
