//! `mmsoak propose`: what would the tuner do with this report?

use std::path::PathBuf;

use anyhow::Context;
use mmsoak_core::{EdgeReport, RuntimeOverrides};
use mmsoak_tuner::{propose, TunerMemory};

use crate::Outcome;

/// Print the tuner's proposal for one EDGE_REPORT as JSON, without running a soak.
///
/// Example:
///   mmsoak propose --report artifacts/soak/latest/iter_3/EDGE_REPORT.json \
///       --overrides artifacts/soak/latest/runtime_overrides.json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct Args {
    /// The bot's EDGE_REPORT.json.
    #[arg(long)]
    report: PathBuf,
    /// Current runtime overrides (default: every parameter at its registry default).
    #[arg(long)]
    overrides: Option<PathBuf>,
    /// Soak policy: `default` (the built-in default), `seed` (the
    /// predecessor's table) or a TOML file (its [tuner] table; see docs/policy.md).
    #[arg(long, value_name = "default|seed|FILE")]
    policy: Option<PathBuf>,
    /// A fill log (JSONL or CSV) for the maker/taker ratio; it takes priority over the report's counters.
    #[arg(long)]
    fills: Option<PathBuf>,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let report = EdgeReport::from_path(&args.report)?;
    let overrides = match &args.overrides {
        Some(path) => RuntimeOverrides::from_path(path)?,
        None => RuntimeOverrides::new(),
    };
    let policy = crate::load_policy(args.policy.as_deref())?;
    let fill_log = match &args.fills {
        Some(path) => Some(mmsoak_ratio::read_fill_log(path)?),
        None => None,
    };
    let kpis = mmsoak_ratio::summarize(&report, fill_log.as_ref(), false);
    let proposal = propose(
        &kpis,
        &overrides,
        &policy.registry,
        &policy.tuner,
        &TunerMemory::default(),
    )
    .with_context(|| format!("no proposal for {}", args.report.display()))?;
    outln!("{}", serde_json::to_string_pretty(&proposal)?);
    Ok(Outcome::Success)
}
