//! The mmsoak soak runner: drivers that run one iteration of a bot.
//!
//! * [`MockDriver`]: a scripted KPI sequence that ignores the parameters
//!   (tests the pipeline, not a bot);
//! * [`ExecDriver`]: runs a user's bot command each iteration, with
//!   placeholders, environment variables, a per-iteration timeout that kills
//!   the whole process group, and errors that name the iteration and show
//!   the bot's last stderr lines.
//!
//! ```
//! use mmsoak_core::RuntimeOverrides;
//! use mmsoak_runner::{Driver, IterationInput, MockDriver};
//!
//! let dir = tempfile::tempdir()?;
//! let overrides = RuntimeOverrides::new();
//! let input = IterationInput {
//!     iteration: 3,
//!     overrides: &overrides,
//!     overrides_path: &dir.path().join("runtime_overrides.json"),
//!     out_dir: dir.path(),
//! };
//! let out = MockDriver.run_iteration(&input)?;
//! assert_eq!(out.report.totals.net_bps, Some(3.0));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod driver;

pub use driver::DEFAULT_ITERATION_TIMEOUT;
pub use driver::{
    collect_output, Driver, DriverError, ExecDriver, IterationInput, IterationOutput, MockDriver,
    EDGE_REPORT_FILE, FILL_LOG_FILES,
};
