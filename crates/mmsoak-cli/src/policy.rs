//! `mmsoak policy`: print the effective policy.

use std::path::PathBuf;

use crate::Outcome;

/// Print the effective soak policy as TOML: tuner rules, guards, gate and
/// parameter bounds (the defaults, or what a policy file makes of them).
///
/// Example:
///   mmsoak policy > soak_policy.toml        # start a policy file from the defaults
///   mmsoak policy --policy soak_policy.toml # check a file and see what it means
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct Args {
    /// Soak policy TOML file (see docs/policy.md).
    #[arg(long)]
    policy: Option<PathBuf>,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let policy = crate::load_policy(args.policy.as_deref())?;
    out!("{}", policy.to_toml_string());
    Ok(Outcome::Success)
}
