//! `mmsoak policy`: print the effective policy, or lint it.

use std::path::PathBuf;

use crate::Outcome;

/// Print the effective soak policy as TOML: tuner rules, guards, gate and
/// parameter bounds (the default policy, the seed's table, or what a policy
/// file makes of the default policy). `mmsoak policy lint` looks for dead
/// zones instead.
///
/// Example:
///   mmsoak policy > soak_policy.toml        # start a policy file from the defaults
///   mmsoak policy --policy soak_policy.toml # check a file and see what it means
///   mmsoak policy --policy seed             # the predecessor's table
///   mmsoak policy lint --policy seed        # where can the loop not close?
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Soak policy: `default` (the built-in default), `seed` (the
    /// predecessor's table) or a TOML file (see docs/policy.md).
    #[arg(long, value_name = "default|seed|FILE")]
    policy: Option<PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    Lint(LintArgs),
}

/// Find the policy's dead zones: for each gated KPI and the side on which
/// it misses its target, the regions of KPI space where no rule moves a
/// parameter to help it (each rule declares which KPI each of its moves is
/// meant to help, and which way). Prints each region with the KPI and, for
/// every rule meant to help, the clause that keeps it from firing there.
///
/// Exit 0 when there is none, 1 when there is a dead zone, 2 for bad input.
///
/// Example:
///   mmsoak policy lint                      # the default policy
///   mmsoak policy lint --policy seed        # flagged: nothing widens at 0 <= net < 2.7
///   mmsoak policy lint --policy my_policy.toml
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct LintArgs {
    /// Soak policy: `default`, `seed` or a TOML file.
    #[arg(long, value_name = "default|seed|FILE")]
    policy: Option<PathBuf>,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    match args.command {
        None => {
            let policy = crate::load_policy(args.policy.as_deref())?;
            out!("{}", policy.to_toml_string());
            Ok(Outcome::Success)
        }
        Some(Command::Lint(lint)) => {
            let given = lint.policy.or(args.policy);
            let policy = crate::load_policy(given.as_deref())?;
            let name = given.map_or_else(|| "default".to_owned(), |p| p.display().to_string());
            let zones = mmsoak_policy::lint(&policy);
            if zones.is_empty() {
                outln!("{name}: no dead zone: some rule acts on every miss of every gated KPI");
                return Ok(Outcome::Success);
            }
            for z in &zones {
                outln!("{z}\n");
            }
            outln!("{name}: {} dead zone(s)", zones.len());
            Ok(Outcome::GateFailed)
        }
    }
}
