//! `mmsoak explain`: one iteration, from KPIs to the verifier's conclusion.

use std::path::PathBuf;

use mmsoak_gate::RunMeta;
use mmsoak_report::{explain_iteration, other_policy, rule_checks};

use crate::Outcome;

/// Explain one iteration of a soak.
///
/// Shows the KPIs against each tuner rule's condition, which rules fired and
/// what they proposed, the guard state and why each change was applied,
/// clamped or skipped, and what the verifier concluded about the step that
/// led into this iteration and the one that left it. Plain text, or JSON
/// with --json. Exit 0, or 2 for unreadable input or an iteration not in the run.
///
/// Example:
///   mmsoak explain --path artifacts/soak/latest --iteration 7
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct Args {
    #[command(flatten)]
    soak: crate::SoakDir,
    /// The iteration (1-based).
    #[arg(long)]
    iteration: u64,
    /// Print JSON for tools instead of text.
    #[arg(long)]
    json: bool,
    /// Soak policy: `default` (the built-in default), `seed` (the
    /// predecessor's table) or a TOML file the run used (rule thresholds, bounds).
    #[arg(long, value_name = "default|seed|FILE")]
    policy: Option<PathBuf>,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let policy = crate::load_policy(args.policy.as_deref())?;
    let mut explanation = explain_iteration(&args.soak.path, args.iteration, &policy.registry)?;
    let meta = RunMeta::read(&args.soak.path)?;
    match other_policy(meta.policy_hash.as_deref(), policy.policy_hash()) {
        Some(warning) => errln!("explain: {warning}; the rules' conditions are not evaluated"),
        None => explanation.rule_checks = rule_checks(&explanation, &policy.tuner),
    }
    if args.json {
        out!("{}", explanation.to_json());
    } else {
        out!("{}", explanation.to_text());
    }
    Ok(Outcome::Success)
}
