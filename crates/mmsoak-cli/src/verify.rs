//! `mmsoak verify`: were the proposed changes really applied?

use std::path::PathBuf;

use mmsoak_artifacts::layout::DELTA_VERIFY_REPORT;
use mmsoak_verify::{
    render_markdown, verify_dir, VerifyVerdict, DEFAULT_THRESHOLD, STRICT_THRESHOLD,
};

use crate::Outcome;

/// Check that every proposed change was applied exactly, or skipped for a
/// recorded reason, and write DELTA_VERIFY_REPORT.md.
///
/// Example:
///   mmsoak verify --path artifacts/soak/latest --strict --json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct Args {
    /// Artifacts directory of a soak (mmsoak's or the predecessor's).
    #[arg(long, default_value = crate::DEFAULT_SOAK_DIR)]
    path: PathBuf,
    /// Print the metrics as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Exit 1 when full_apply_ratio is below the threshold (default 0.95).
    #[arg(long)]
    strict: bool,
    /// The threshold (default 0.95 with --strict, else 0.60, which only warns).
    #[arg(long)]
    threshold: Option<f64>,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let threshold = args.threshold.unwrap_or(if args.strict {
        STRICT_THRESHOLD
    } else {
        DEFAULT_THRESHOLD
    });
    if !(0.0..=1.0).contains(&threshold) {
        anyhow::bail!("--threshold must be between 0 and 1, got {threshold}");
    }
    let report = verify_dir(&args.path)?;
    let out = args.path.join(DELTA_VERIFY_REPORT);
    crate::write_file(&out, render_markdown(&report, threshold).as_bytes())?;
    let m = &report.metrics;
    errln!(
        "verify: {} proposing pairs: {} full_apply, {} partial_ok, {} fail ({} signature stuck); full_apply_ratio {:.3}, strict_apply_ratio {:.3}; wrote {}",
        m.proposed_count,
        m.full_apply_count,
        m.partial_ok_count,
        m.fail_count,
        m.signature_stuck_count,
        m.full_apply_ratio,
        m.strict_apply_ratio,
        out.display()
    );
    for failure in report.failures() {
        for problem in &failure.problems {
            errln!(
                "  pair {} -> {}: {}",
                failure.prev,
                failure.next,
                problem.describe()
            );
        }
    }
    for finding in &report.findings {
        errln!("  finding: {finding}");
    }
    if report.findings_omitted > 0 {
        errln!("  finding: … and {} more", report.findings_omitted);
    }
    if args.json {
        out!("{}", report.metrics_json());
    }
    let reasons = report.fail_reasons(threshold).join("; ");
    match report.verdict(threshold) {
        VerifyVerdict::Pass => Ok(Outcome::Success),
        VerifyVerdict::Fail if args.strict => {
            errln!("verify: FAIL: {reasons}");
            Ok(Outcome::GateFailed)
        }
        VerifyVerdict::Fail => {
            errln!("verify: warning: {reasons} (not strict: exit 0)");
            Ok(Outcome::Success)
        }
    }
}
