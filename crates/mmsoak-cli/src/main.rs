//! `mmsoak`: soak-test a market-making bot in a closed loop.
//!
//! Thin: parse arguments, call the library crates, map outcomes to exit
//! codes — 0 success, 1 gate failure, 2 usage or input error.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Output that never panics. `println!` and friends panic when the reader
/// has gone (`mmsoak run 2>&1 | head -1`: a broken pipe), which would abort a
/// soak halfway; a closed stream only loses the rest of the text.
macro_rules! outln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}
/// [`outln!`] without the newline.
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($t)*);
    }};
}
/// [`outln!`] to stderr.
macro_rules! errln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($t)*);
    }};
}
/// [`errln!`] without the newline.
macro_rules! err {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stderr(), $($t)*);
    }};
}

mod explain;
mod gate;
mod markers;
mod policy;
mod propose;
mod report;
mod run;
mod schemas;
mod snapshot;
mod sweep;
mod verify;

/// Soak-test a market-making bot in a closed loop: summarize KPIs, propose
/// micro-tuning, apply it through guards, verify and gate the release.
#[derive(Debug, Parser)]
#[command(name = "mmsoak", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Run(run::Args),
    Verify(verify::Args),
    Snapshot(snapshot::Args),
    Gate(gate::Args),
    Propose(propose::Args),
    Policy(policy::Args),
    Report(report::Args),
    Explain(explain::Args),
    Sweep(sweep::Args),
    #[command(name = "__schemas", hide = true)]
    Schemas(schemas::Args),
}

/// How a command ended, when it did not fail with an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Exit 0.
    Success,
    /// Exit 1: the gate (or a strict check) failed.
    GateFailed,
    /// Stopped by a signal: exit with this code (128 + the signal).
    Stopped(u8),
}

fn main() -> ExitCode {
    let cli = Cli::parse(); // usage errors exit 2
    let result = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Snapshot(args) => snapshot::run(args),
        Command::Gate(args) => gate::run(args),
        Command::Propose(args) => propose::run(args),
        Command::Policy(args) => policy::run(args),
        Command::Report(args) => report::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Sweep(args) => sweep::run(args),
        Command::Schemas(args) => schemas::run(args),
    };
    match result {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::GateFailed) => ExitCode::from(1),
        Ok(Outcome::Stopped(code)) => ExitCode::from(code),
        Err(err) => {
            errln!("error: {}", render_error(&err));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes on one line: each error's message names its own
/// failure, and the chain carries the cause.
fn render_error(err: &anyhow::Error) -> String {
    err.chain()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}

/// Where a soak's artifacts go, and where the other subcommands look, by
/// default.
pub(crate) const DEFAULT_SOAK_DIR: &str = "artifacts/soak/latest";

/// The `--path` of the commands that read a soak.
#[derive(Debug, clap::Args)]
pub(crate) struct SoakDir {
    /// Artifacts directory of a soak.
    #[arg(long, default_value = DEFAULT_SOAK_DIR)]
    pub(crate) path: std::path::PathBuf,
}

/// Write `bytes` to `path` atomically; the error names the file. The write
/// holds the directory's `ReportWriteLock`, whose taking removes what a
/// killed earlier write left there (in a soak directory, never while a soak
/// or another writer holds it).
pub(crate) fn write_file(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => std::path::Path::new("."),
    };
    let _writing = mmsoak_apply::ReportWriteLock::acquire(dir)
        .map_err(|e| anyhow::anyhow!("cannot lock {} to write: {e}", dir.display()))?;
    mmsoak_artifacts::write_atomically(path, bytes)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))
}

/// The effective soak policy: a built-in one by name (`default`, `seed`),
/// a file's, or the default policy.
pub(crate) fn load_policy(
    path: Option<&std::path::Path>,
) -> anyhow::Result<mmsoak_runner::SoakPolicy> {
    Ok(match path {
        Some(p) => mmsoak_runner::SoakPolicy::from_name_or_path(p)?,
        None => mmsoak_runner::SoakPolicy::default(),
    })
}
