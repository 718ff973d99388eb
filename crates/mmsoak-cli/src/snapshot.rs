//! `mmsoak snapshot`: the post-soak KPI snapshot.

use std::path::PathBuf;

use crate::Outcome;
use mmsoak_artifacts::layout::POST_SOAK_SNAPSHOT;
use mmsoak_gate::snapshot_dir;

/// Summarize the last iterations of a soak into POST_SOAK_SNAPSHOT.json
/// (schema 1.1) and print it.
///
/// Example:
///   mmsoak snapshot --path artifacts/soak/latest --pretty
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct Args {
    #[command(flatten)]
    soak: crate::SoakDir,
    /// Print indented JSON (the file is always compact).
    #[arg(long)]
    pretty: bool,
    /// Iterations in the window (default: the policy's `gate.snapshot.window`, 8).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    window: Option<u64>,
    /// Soak policy: `default` (the built-in default), `seed` (the
    /// predecessor's table) or a TOML file (its [gate.snapshot] table).
    #[arg(long, value_name = "default|seed|FILE")]
    policy: Option<PathBuf>,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let mut policy = crate::load_policy(args.policy.as_deref())?.gate.snapshot;
    if let Some(window) = args.window {
        policy.window = usize::try_from(window)?;
    }
    let snapshot = snapshot_dir(&args.soak.path, &policy)?;
    let out = args.soak.path.join(POST_SOAK_SNAPSHOT);
    crate::write_file(&out, snapshot.to_json(false).as_bytes())?;
    out!("{}", snapshot.to_json(args.pretty));
    Ok(Outcome::Success)
}
