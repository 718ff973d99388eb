//! `mmsoak report`: SOAK_REPORT.html and SOAK_REPORT.md for a person.

use std::path::{Path, PathBuf};

use crate::Outcome;
use mmsoak_artifacts::layout::{SOAK_REPORT_HTML, SOAK_REPORT_MD};
use mmsoak_report::{other_policy, read_report, rule_window};

/// Write the soak report a person reads at a glance.
///
/// SOAK_REPORT.html (one self-contained page: verdict banner, KPI charts
/// with targets and the gate's window, parameter trajectories, the
/// rules/guards timeline, the tuner's rules over the gate's window (fired,
/// held, which clauses failed), delta quality and per-pair verification) and
/// SOAK_REPORT.md (verdict, KPI table, the rules over the window,
/// delta-quality table, one row per iteration) are written
/// atomically into the artifacts directory, whatever the verdict. Exit 0
/// when written, 2 for unreadable input (nothing is written then).
///
/// Example:
///   mmsoak report --path artifacts/soak/latest --open
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct Args {
    #[command(flatten)]
    soak: crate::SoakDir,
    /// Open the HTML report (xdg-open), or print its path when that is not available.
    #[arg(long)]
    open: bool,
    /// Judge with the strict delta threshold (0.95), as `gate --strict`.
    #[arg(long)]
    strict: bool,
    /// Soak policy: `default` (the built-in default), `seed` (the
    /// predecessor's table) or a TOML file the run used (its [gate] table, [bounds], and
    /// [tuner] for the rules over the window, shown only under the run's policy).
    #[arg(long, value_name = "default|seed|FILE")]
    policy: Option<PathBuf>,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let policy = crate::load_policy(args.policy.as_deref())?;
    // Everything is read and rendered before anything is written.
    let mut report = read_report(
        &args.soak.path,
        &policy.gate,
        crate::gate::threshold(args.strict),
        &policy.registry,
    )?;
    // The rules over the window are the run's own only under the run's
    // policy: with another (a missing --policy, an edited file) they would
    // contradict what fired, so they are left out.
    match other_policy(report.meta.policy_hash.as_deref(), policy.policy_hash()) {
        Some(warning) => {
            errln!("report: {warning}; the tuner's rules over the window are left out")
        }
        None => report.rule_window = rule_window(&report, &policy.tuner),
    }
    let html = report.to_html();
    let md = report.to_markdown();
    for (name, text) in [(SOAK_REPORT_HTML, &html), (SOAK_REPORT_MD, &md)] {
        let out = args.soak.path.join(name);
        crate::write_file(&out, text.as_bytes())?;
    }
    let html_path = args.soak.path.join(SOAK_REPORT_HTML);
    outln!(
        "{}; wrote {} and {}",
        report.headline(),
        html_path.display(),
        args.soak.path.join(SOAK_REPORT_MD).display()
    );
    if args.open {
        open(&html_path);
    }
    Ok(Outcome::Success)
}

/// Open `file` with xdg-open when it exists on PATH, else print the path.
fn open(file: &Path) {
    let has_xdg_open = std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| dir.join("xdg-open").is_file())
    });
    let launched = has_xdg_open
        && std::process::Command::new("xdg-open")
            .arg(file)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .is_ok();
    if !launched {
        outln!("open {} in a browser", file.display());
    }
}
