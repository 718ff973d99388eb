//! The files a soak writes into its artifacts directory.
//!
//! | file | written | what |
//! |---|---|---|
//! | `SOAK_RUN.json` | start, after every iteration | run configuration, progress, and the state `--resume` needs |
//! | `iter_{i}/` | iteration i | the overrides snapshot the bot used, its report, fill log and logs |
//! | `ITER_SUMMARY_{i}.json` | end of iteration i | KPIs, proposal, apply outcome (legacy shape + additions) |
//! | `TUNING_REPORT.json` | end of every iteration | one entry per iteration and counts |
//! | `runtime_overrides.json`, `APPLY_JOURNAL.jsonl` | by mmsoak-apply | current state and its journal |
//!
//! Every file is written atomically (temporary file, fsync, rename).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mmsoak_apply::{ApplyOutcome, RunHistory, SkipKind, SkipReason};
use mmsoak_core::{IterationKpis, Param, StateHash};
use mmsoak_tuner::{Marker, Operation, Proposal, TunerMemory};
use serde::{Deserialize, Serialize};

/// Schema tag of mmsoak's `ITER_SUMMARY_{i}.json` (the verifier's, which reads it).
pub const ITER_SUMMARY_SCHEMA: &str = mmsoak_verify::MMSOAK_ITER_SUMMARY_SCHEMA;
/// Schema tag of `SOAK_RUN.json`.
pub const SOAK_RUN_SCHEMA: &str = "mmsoak.soak_run.v1";
/// File name of the run state (the report's, which reads it).
pub const SOAK_RUN_FILE: &str = mmsoak_gate::SOAK_RUN;
/// File name of the tuning report.
pub const TUNING_REPORT_FILE: &str = mmsoak_verify::TUNING_REPORT;

/// Name of iteration `i`'s summary file.
pub fn iter_summary_name(i: u32) -> String {
    mmsoak_verify::iter_summary_name(u64::from(i))
}

/// Name of iteration `i`'s directory.
pub fn iter_dir_name(i: u32) -> String {
    format!("iter_{i}")
}

/// Write `value` as pretty JSON (with a final newline) atomically.
pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    mmsoak_verify::write_atomically(path, &bytes)
}

/// How the run is configured; `--resume` requires the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Driver name: `mock`, `exec`, `sim`.
    pub driver: String,
    /// Market scenario of the `sim` driver.
    #[serde(default)]
    pub scenario: Option<String>,
    /// The bot command of the exec driver.
    pub exec_command: Option<String>,
    /// The driver's other settings (`Driver::settings`): for `sim`,
    /// `scenario_hash`, `sim_duration_s` and, replaying a recorded market,
    /// `market_hash`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub driver_settings: BTreeMap<String, String>,
    /// Seed (recorded for every driver; the mock ignores it).
    pub seed: u64,
    /// Iterations in the run.
    pub iterations: u32,
    /// Whether the tuner proposes changes.
    pub auto_tune: bool,
    /// The policy file given, if any.
    pub policy_file: Option<PathBuf>,
    /// Hash of the effective policy.
    pub policy_hash: StateHash,
}

/// `SOAK_RUN.json`: the run's configuration, progress and resume state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SoakRun {
    /// Always [`SOAK_RUN_SCHEMA`].
    pub schema: String,
    /// mmsoak version that wrote the file.
    pub mmsoak_version: String,
    /// Configuration.
    pub config: RunConfig,
    /// When the run started (wall clock, or the fixed clock).
    pub started_utc: String,
    /// When this file was last written.
    pub updated_utc: String,
    /// Iterations whose artifacts are complete.
    pub completed_iterations: u32,
    /// Whether every iteration is complete.
    pub finished: bool,
    /// Hash of the initial runtime state.
    pub initial_state_hash: StateHash,
    /// Guard history (for the guards of the next iteration).
    pub history: RunHistory,
    /// Tuner memory (for the next proposal).
    pub tuner_memory: TunerMemory,
}

/// The `summary` object of an ITER_SUMMARY: the KPIs plus report metadata.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SummarySection<'a> {
    /// KPIs, with the predecessor's key names.
    #[serde(flatten)]
    pub kpis: &'a IterationKpis,
    /// `runtime.utc` of the bot's report.
    pub runtime_utc: Option<&'a str>,
    /// `runtime.version` of the bot's report.
    pub version: Option<&'a str>,
}

/// The `tuning` object of an ITER_SUMMARY.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TuningSection<'a> {
    /// Parameter → additive amount (legacy).
    pub deltas: &'a BTreeMap<Param, f64>,
    /// Same as `deltas` (legacy name).
    pub proposed_deltas: &'a BTreeMap<Param, f64>,
    /// Why.
    pub rationale: &'a str,
    /// Rules that fired.
    pub rules_fired: &'a [Marker],
    /// Operations with from/to/clamped and their rule.
    pub operations: &'a [Operation],
    /// Whether the runtime file now holds the changes.
    pub applied: bool,
    /// Skipped because nothing would change.
    pub no_op: bool,
    /// Why nothing was applied (legacy object shape); `null` when applied.
    pub skip_reason: &'a Option<SkipReason>,
    /// Parameters whose value changed.
    pub changed_keys: &'a [Param],
    /// State after the step.
    pub state_hash: StateHash,
    /// State before the step.
    pub old_hash: StateHash,
    /// Guard flags (legacy names).
    pub freeze_triggered: bool,
    /// A freeze lock covers this iteration.
    pub freeze_active: bool,
    /// The oscillation guard held.
    pub oscillation_detected: bool,
    /// The velocity guard held.
    pub velocity_violation: bool,
    /// A cooldown covered this iteration.
    pub cooldown_active: bool,
    /// The freeze lock broke at this iteration (hard limit breached), with why.
    pub freeze_break: Option<String>,
    /// Bytes written to the runtime file.
    pub bytes_written: u64,
}

impl<'a> TuningSection<'a> {
    /// The section for one iteration.
    pub fn new(proposal: &'a Proposal, outcome: &'a ApplyOutcome) -> Self {
        let g = &outcome.guards;
        TuningSection {
            deltas: &proposal.deltas,
            proposed_deltas: &proposal.deltas,
            rationale: &proposal.rationale,
            rules_fired: &proposal.rules_fired,
            operations: &proposal.operations,
            applied: outcome.applied,
            no_op: outcome.no_op,
            skip_reason: &outcome.skip_reason,
            changed_keys: &outcome.changed_keys,
            state_hash: outcome.state_hash,
            old_hash: outcome.old_hash,
            freeze_triggered: g.freeze_triggered,
            freeze_active: g.freeze_active,
            oscillation_detected: g.oscillation_detected,
            velocity_violation: g.velocity_violation,
            cooldown_active: g.cooldown_active,
            freeze_break: g.freeze_break.as_ref().map(|b| b.reason.clone()),
            bytes_written: outcome.bytes_written,
        }
    }
}

/// `ITER_SUMMARY_{i}.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IterSummaryFile<'a> {
    /// Always [`ITER_SUMMARY_SCHEMA`].
    pub schema: &'static str,
    /// Iteration number.
    pub iteration: u32,
    /// Driver name.
    pub driver: &'a str,
    /// Seed of the run.
    pub seed: u64,
    /// Runtime overrides in force during the iteration (canonical layout).
    pub runtime_overrides: serde_json::Value,
    /// KPIs.
    pub summary: SummarySection<'a>,
    /// Proposal and apply outcome.
    pub tuning: TuningSection<'a>,
}

/// One entry of `TUNING_REPORT.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TuningEntry {
    /// Iteration.
    pub iteration: u32,
    /// `runtime.utc` of the bot's report.
    pub runtime_utc: Option<String>,
    /// Net edge.
    pub net_bps: Option<f64>,
    /// Negative edge drivers.
    pub neg_edge_drivers: Vec<String>,
    /// Parameter → additive amount proposed (possibly empty).
    pub proposed_deltas: BTreeMap<Param, f64>,
    /// Same (legacy name).
    pub suggested_deltas: BTreeMap<Param, f64>,
    /// Why.
    pub rationale: String,
    /// Rules that fired.
    pub rules_fired: Vec<String>,
    /// Whether the changes were applied.
    pub applied: bool,
    /// Why not (legacy object); `null` when applied.
    pub skip_reason: Option<SkipReason>,
    /// Parameters whose value changed.
    pub changed_keys: Vec<Param>,
    /// State after the step.
    pub state_hash: StateHash,
    /// State before the step.
    pub old_hash: StateHash,
    /// Freeze triggered at this iteration.
    pub freeze_triggered: bool,
    /// Oscillation guard held.
    pub oscillation_detected: bool,
    /// Velocity guard held.
    pub velocity_violation: bool,
    /// A cooldown covered this iteration.
    pub cooldown_active: bool,
}

/// Counts over the whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TuningCounts {
    /// Iterations.
    pub count: u32,
    /// Iterations whose changes were applied.
    pub applied: u32,
    /// Skipped by the oscillation guard.
    pub blocked_oscillation: u32,
    /// Skipped by the velocity guard.
    pub blocked_velocity: u32,
    /// Skipped by a cooldown.
    pub cooldown_skips: u32,
    /// Skipped by a freeze lock.
    pub freeze_skips: u32,
    /// Skipped because nothing would change.
    pub no_op_skips: u32,
    /// Proposals made in the final iteration (recorded, not applied).
    pub final_iteration_skips: u32,
}

/// `TUNING_REPORT.json`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TuningReport {
    /// One entry per iteration.
    pub iterations: Vec<TuningEntry>,
    /// Counts.
    pub summary: TuningCounts,
}

impl TuningReport {
    /// Append an entry and recount.
    pub fn push(&mut self, entry: TuningEntry) {
        self.iterations.push(entry);
        self.summary = Self::count(&self.iterations);
    }

    /// Keep the first `n` entries (resume) and recount.
    pub fn truncate(&mut self, n: usize) {
        self.iterations.truncate(n);
        self.summary = Self::count(&self.iterations);
    }

    fn count(entries: &[TuningEntry]) -> TuningCounts {
        let mut c = TuningCounts {
            count: entries.len() as u32,
            ..TuningCounts::default()
        };
        for e in entries {
            if e.applied {
                c.applied += 1;
            }
            match e.skip_reason.as_ref().map(|r| r.kind) {
                Some(SkipKind::Oscillation) => c.blocked_oscillation += 1,
                Some(SkipKind::Velocity) => c.blocked_velocity += 1,
                Some(SkipKind::Cooldown) => c.cooldown_skips += 1,
                Some(SkipKind::Freeze) => c.freeze_skips += 1,
                Some(SkipKind::NoOp) => c.no_op_skips += 1,
                Some(SkipKind::FinalIteration) => c.final_iteration_skips += 1,
                None => {}
            }
        }
        c
    }
}
