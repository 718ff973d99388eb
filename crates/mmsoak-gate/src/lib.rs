//! The post-soak snapshot and the release gate of mmsoak.
//!
//! * [`snapshot_dir`] → [`PostSoakSnapshot`]: KPI means and medians over the
//!   last window (8) iterations, passes, guards, anomalies, verdict; serializes
//!   exactly as `POST_SOAK_SNAPSHOT.json` schema 1.1 ([`PostSoakSnapshot::to_json`]).
//! * [`gate_dir`] → [`GateRun`]: the verifier (from `mmsoak-verify`) and the
//!   snapshot in one pass, judged by a [`GatePolicy`] into a [`GateReport`]
//!   listing every [`Criterion`] as `{name, value, op, target, ok}`.
//! * [`render_prometheus`]: `POST_SOAK_METRICS.prom` as a string.
//! * [`compare`] / [`read_baseline`]: KPI mean changes against a baseline snapshot.
//!
//! Nothing here prints or exits; files are written only through
//! [`mmsoak_artifacts::write_atomically`] by the caller.
//!
//! ```
//! use mmsoak_gate::{gate_dir, render_prometheus, GatePolicy, GateVerdict, RunMeta, Threshold};
//! use mmsoak_verify::testing;
//!
//! let dir = std::env::temp_dir().join(format!("mmsoak-gate-doc-{}", std::process::id()));
//! testing::write_run(&dir, &testing::generated_plans(40))?;
//! let run = gate_dir(&dir, &GatePolicy::default(), Threshold::Strict)?;
//! assert_eq!(run.report.verdict, GateVerdict::Pass, "{:?}", run.report.failed().collect::<Vec<_>>());
//! assert_eq!(run.report.snapshot.schema_version, "1.1");
//! let meta = RunMeta { scenario: Some("calm".into()), seed: Some(3), ..RunMeta::default() };
//! let metrics = render_prometheus(&run.report, &meta);
//! assert!(metrics.contains("mmsoak_gate_verdict{scenario=\"calm\",seed=\"3\",verdict=\"PASS\"} 1\n"));
//! assert!(metrics.contains("mmsoak_gate_verdict_code{scenario=\"calm\",seed=\"3\"} 0\n"));
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod compare;
mod gate;
mod kpi;
mod prometheus;
mod run_meta;
mod snapshot;

pub use compare::{compare, read_baseline, Better, KpiChange, SnapshotComparison};
pub use gate::{
    evaluate, gate, gate_dir, Comparison, Criterion, CriterionGroup, CriterionId, FailureClass,
    GateInputs, GateReport, GateRun, GateVerdict, Measure, RunCompletion, Threshold,
};
pub use kpi::GatedKpi;
pub use mmsoak_policy::{GatePolicy, GatePolicyError, SnapshotPolicy};
pub use prometheus::render_prometheus;
pub use run_meta::RunMeta;
pub use snapshot::{
    kpi_gate_passed, snapshot, snapshot_dir, GuardsLast8, KpiLast8, MeanMedian, PostSoakSnapshot,
    SnapshotVerdict, SnapshotWindow, TimeRange, SNAPSHOT_SCHEMA_VERSION,
};
