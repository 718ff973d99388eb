//! The mmsoak soak runner: the closed loop that turns the library crates
//! into a soak.
//!
//! For each iteration i = 1..N, [`run_soak`] writes the runtime overrides
//! snapshot the bot will use, runs the [`Driver`], summarizes the KPIs
//! (maker/taker via `mmsoak-ratio`, a fill log taking priority over the
//! report's counters), asks the tuner for a proposal (with auto-tune), lets
//! the apply pipeline guard and apply it, and writes `ITER_SUMMARY_{i}.json`,
//! `TUNING_REPORT.json` and `SOAK_RUN.json` atomically. A killed run resumes
//! from its last complete iteration with the same result as an
//! uninterrupted one.
//!
//! Drivers: [`SimDriver`] (the embedded market simulator, `mmsoak-sim`:
//! the parameters act on a quoting bot), [`MockDriver`] (scripted KPIs that
//! ignore the parameters; it tests the pipeline, not a bot) and
//! [`ExecDriver`] (a user's bot command).
//! [`SoakPolicy`] reads the policy file (`[tuner]`, `[guards]`, `[gate]`,
//! `[bounds]`).
//!
//! ```
//! use mmsoak_runner::{run_soak, Clock, MockDriver, Quiet, SoakConfig, SoakPolicy};
//!
//! let dir = tempfile::tempdir()?;
//! let config = SoakConfig {
//!     out_dir: dir.path().join("latest"),
//!     iterations: 6,
//!     auto_tune: true,
//!     seed: 7,
//!     policy: SoakPolicy::default(),
//!     policy_file: None,
//!     initial_overrides: Default::default(),
//!     exec_command: None,
//!     clock: Clock::Fixed,
//!     resume: false,
//!     stop: Default::default(),
//! };
//! let result = run_soak(&config, &mut MockDriver, &mut Quiet)?;
//! assert_eq!(result.iterations, 6);
//! assert!(dir.path().join("latest/ITER_SUMMARY_6.json").is_file());
//! assert!(dir.path().join("latest/TUNING_REPORT.json").is_file());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod artifacts;
mod clock;
mod driver;
mod soak;
mod stop;

pub use artifacts::{
    RunConfig, SoakRun, TuningCounts, TuningEntry, TuningReport, TuningReportMark,
};
pub use clock::Clock;
pub use driver::{
    collect_output, Driver, DriverError, ExecCommandError, ExecDriver, IterationInput,
    IterationOutput, MockDriver, SimDriver, DEFAULT_ITERATION_TIMEOUT, DEFAULT_SIM_DURATION,
};
pub use mmsoak_policy::{PolicyFileError, SoakPolicy};
pub use mmsoak_sim::{RecordedMarket, Scenario, MAX_SIM_DURATION};
pub use soak::{
    run_soak, summarize, IterationDone, Quiet, SoakConfig, SoakError, SoakObserver, SoakResult,
};
pub use stop::StopRequest;
