//! The soak report of mmsoak: what a person reads to judge a run.
//!
//! * [`read_report`] → [`SoakReport`]: the gate's answer, one row per
//!   iteration (KPIs, rules fired, operations, skips), the verifier's pairs;
//!   rendered as `SOAK_REPORT.md` ([`SoakReport::to_markdown`]) and the
//!   self-contained `SOAK_REPORT.html` ([`SoakReport::to_html`]: inline SVG
//!   charts, no network).
//! * [`explain_iteration`] → [`Explanation`]: one iteration's story.
//! * [`rule_window`] and [`rule_checks`]: the tuner's rules (their own
//!   conditions, `TuningPolicy::condition`) over the gate's window and on
//!   one iteration; [`other_policy`] says when the policy given is not the
//!   run's (then they would contradict what fired, and are left out).
//!
//! Output depends only on the input files: no clock, no paths.
//!
//! ```
//! use mmsoak_gate::{GatePolicy, Threshold};
//! use mmsoak_report::{read_report, rule_window};
//! use mmsoak_tuner::TuningPolicy;
//! use mmsoak_verify::testing;
//!
//! let dir = std::env::temp_dir().join(format!("mmsoak-report-doc-{}", std::process::id()));
//! testing::write_run(&dir, &testing::generated_plans(12))?;
//! let mut report = read_report(&dir, &GatePolicy::default(), Threshold::Default, &Default::default())?;
//! report.rule_window = rule_window(&report, &TuningPolicy::default());
//! assert!(report.to_markdown().starts_with("# Soak report: "));
//! assert!(report.to_html().contains("<svg"));
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod explain;
mod html;
mod report;
mod rules;
mod svg;

pub use explain::{
    explain_iteration, ExplainError, Explanation, OperationOutcome, PairVerdict, RuleCheck,
};
pub use report::{
    read_report, IterationRow, ReportOperation, RuleWindowRow, SkipLabel, SoakReport, Trading,
    TradingRow,
};
pub use rules::{other_policy, rule_checks, rule_window};
