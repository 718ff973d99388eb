//! Drivers: how one iteration of the bot is run.
//!
//! A [`Driver`] gets the iteration number, the runtime overrides in force
//! (and the path of the snapshot file the bot reads) and a per-iteration
//! directory; it returns the bot's [`EdgeReport`] and, when the bot wrote
//! one, the totals of its fill log.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mmsoak_core::{EdgeReport, InputError, RuntimeOverrides};
use mmsoak_ratio::{FillLogError, FillStats};

use mmsoak_artifacts::layout::{EDGE_REPORT as EDGE_REPORT_FILE, FILL_LOGS as FILL_LOG_FILES};

use crate::stop::StopRequest;

pub(crate) mod bot_process;
pub(crate) mod exec;
mod mock;
mod sim;

pub use exec::{ExecCommandError, ExecDriver, DEFAULT_ITERATION_TIMEOUT};
pub use mock::MockDriver;
pub use sim::{SimDriver, DEFAULT_SIM_DURATION};

/// What a driver is given for one iteration.
#[derive(Debug, Clone, Copy)]
pub struct IterationInput<'a> {
    /// 1-based iteration number.
    pub iteration: u32,
    /// The runtime overrides in force during this iteration.
    pub overrides: &'a RuntimeOverrides,
    /// The file holding those overrides (what a real bot reads).
    pub overrides_path: &'a Path,
    /// The iteration's own directory; it exists and holds no file of an
    /// earlier soak (a fresh run over a simulator's or mock's soak leaves a
    /// person's own files in it).
    pub out_dir: &'a Path,
    /// A request to stop the soak: a driver that waits (the exec driver)
    /// gives up on the iteration when it is made, with
    /// [`DriverError::Stopped`].
    pub stop: &'a StopRequest,
}

/// What one iteration produced.
#[derive(Debug, Clone, PartialEq)]
pub struct IterationOutput {
    /// The bot's report.
    pub report: EdgeReport,
    /// Where the report was read from.
    pub report_path: PathBuf,
    /// Totals of the fill log, when the bot wrote one.
    pub fill_log: Option<FillStats>,
}

/// Runs one iteration of a bot.
pub trait Driver {
    /// Short name recorded in artifacts (`mock`, `exec`, `sim`).
    fn name(&self) -> &'static str;

    /// Whether the KPIs are scripted rather than measured (enables the
    /// `mock_default` maker/taker source).
    fn is_mock(&self) -> bool {
        false
    }

    /// Whether each iteration directory is the bot's own output directory:
    /// whatever it holds is the bot's, and a fresh run or a resume removes
    /// it whole (a simulator's or mock's holds only the files the runner
    /// and driver write, and keeps a person's).
    fn owns_iteration_dir(&self) -> bool {
        false
    }

    /// The market scenario, for drivers that have one (recorded in `SOAK_RUN.json`).
    fn scenario(&self) -> Option<&str> {
        None
    }

    /// Settings that change what the bot does, by name, beyond the name,
    /// scenario, command and seed (recorded in `SOAK_RUN.json` as
    /// `config.driver_settings`; `--resume` requires the same), e.g. the
    /// simulated duration of an iteration.
    ///
    /// ```
    /// use std::time::Duration;
    /// use mmsoak_core::ParamRegistry;
    /// use mmsoak_runner::{Driver, MockDriver, Scenario, SimDriver};
    ///
    /// assert!(MockDriver.settings().is_empty());
    /// let sim = SimDriver::new(Scenario::builtin("calm")?, ParamRegistry::default(), 1)
    ///     .with_duration(Duration::from_secs(600));
    /// assert_eq!(sim.settings()["sim_duration_s"], "600");
    /// assert_eq!(sim.settings()["scenario_hash"].len(), 64);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn settings(&self) -> BTreeMap<String, String> {
        BTreeMap::new()
    }

    /// Run iteration `input.iteration`.
    fn run_iteration(&mut self, input: &IterationInput<'_>)
        -> Result<IterationOutput, DriverError>;
}

/// An iteration could not be run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DriverError {
    /// The bot command could not be started.
    #[error("iteration {iteration}: cannot start `{command}`")]
    Spawn {
        /// Iteration.
        iteration: u32,
        /// The command line.
        command: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The bot exited unsuccessfully.
    #[error(
        "iteration {iteration}: bot command `{command}` failed ({status}){}",
        tail(stderr_tail)
    )]
    Failed {
        /// Iteration.
        iteration: u32,
        /// The command line.
        command: String,
        /// Exit status as text.
        status: String,
        /// Last lines of its stderr.
        stderr_tail: String,
    },
    /// The bot ran longer than the per-iteration timeout and was killed.
    #[error("iteration {iteration}: bot command `{command}` timed out after {seconds:.1} s; its process group was killed{}", tail(stderr_tail))]
    Timeout {
        /// Iteration.
        iteration: u32,
        /// The command line.
        command: String,
        /// The timeout.
        seconds: f64,
        /// Last lines of its stderr.
        stderr_tail: String,
    },
    /// A stop was requested while the bot ran; its process group was killed.
    #[error("iteration {iteration}: stopped on request; the bot's process group was killed")]
    Stopped {
        /// Iteration.
        iteration: u32,
        /// The value the stop was requested with.
        value: usize,
    },
    /// The report is missing or invalid. Its message says why, then shows
    /// the bot's stderr (so the cause is part of it, not a source after it).
    #[error("iteration {iteration}: bad report: {}{}", mmsoak_core::ErrorChain(report.as_ref()), tail(stderr_tail))]
    Report {
        /// Iteration.
        iteration: u32,
        /// Why.
        report: Box<InputError>,
        /// Last lines of the bot's stderr (empty for built-in drivers).
        stderr_tail: String,
    },
    /// The fill log is invalid.
    #[error("iteration {iteration}: bad fill log")]
    FillLog {
        /// Iteration.
        iteration: u32,
        /// Why.
        #[source]
        source: FillLogError,
    },
    /// The embedded simulator failed.
    #[error("iteration {iteration}: simulator: {message}")]
    Sim {
        /// Iteration.
        iteration: u32,
        /// What went wrong.
        message: String,
    },
    /// A file of the iteration could not be written or read.
    #[error("iteration {iteration}: {}", path.display())]
    Io {
        /// Iteration.
        iteration: u32,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

fn tail(stderr_tail: &str) -> String {
    if stderr_tail.trim().is_empty() {
        String::new()
    } else {
        format!(
            "\n--- last lines of the bot's stderr ---\n{}",
            stderr_tail.trim_end()
        )
    }
}

/// Write a file the driver produced for `iteration` into `dir`.
pub(crate) fn write_output(
    iteration: u32,
    dir: &Path,
    name: &str,
    bytes: &[u8],
) -> Result<(), DriverError> {
    let path = dir.join(name);
    std::fs::write(&path, bytes).map_err(|source| DriverError::Io {
        iteration,
        path,
        source,
    })
}

/// Read the report (and the fill log, if any) a bot left in `out_dir`.
pub fn collect_output(
    iteration: u32,
    out_dir: &Path,
    stderr_tail: &str,
) -> Result<IterationOutput, DriverError> {
    let report_path = out_dir.join(EDGE_REPORT_FILE);
    let report = EdgeReport::from_path(&report_path).map_err(|report| DriverError::Report {
        iteration,
        report: Box::new(report),
        stderr_tail: stderr_tail.to_owned(),
    })?;
    let fill_log = FILL_LOG_FILES
        .iter()
        .map(|name| out_dir.join(name))
        .find(|p| std::fs::symlink_metadata(p).is_ok())
        .map(|p| mmsoak_ratio::read_fill_log(&p))
        .transpose()
        .map_err(|source| DriverError::FillLog { iteration, source })?;
    Ok(IterationOutput {
        report,
        report_path,
        fill_log,
    })
}
