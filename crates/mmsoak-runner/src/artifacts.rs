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
use mmsoak_artifacts::layout;
use mmsoak_core::{IterationKpis, Param, StateHash};
use mmsoak_tuner::{Marker, Operation, Proposal, TunerMemory};
use serde::{Deserialize, Serialize};

/// Name of iteration `i`'s summary.
pub(crate) fn iter_summary_name(i: u32) -> String {
    layout::iter_summary_name(u64::from(i))
}

/// Name of iteration `i`'s directory.
pub(crate) fn iter_dir_name(i: u32) -> String {
    layout::iter_dir_name(u64::from(i))
}

/// Write `value` as pretty JSON (with a final newline) atomically.
pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    mmsoak_artifacts::write_atomically(path, &bytes)
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
    /// Always [`SOAK_RUN_SCHEMA`](mmsoak_artifacts::layout::SOAK_RUN_SCHEMA).
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
    /// Where `TUNING_REPORT.json` ends after the complete iterations
    /// (absent from run records written before the report was written in
    /// place: such a run cannot be resumed).
    #[serde(default)]
    pub tuning_report: Option<TuningReportMark>,
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
    /// Always [`ITER_SUMMARY_SCHEMA`](mmsoak_artifacts::layout::ITER_SUMMARY_SCHEMA).
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

impl TuningCounts {
    /// Count one more entry.
    pub fn add(&mut self, entry: &TuningEntry) {
        self.count += 1;
        if entry.applied {
            self.applied += 1;
        }
        match entry.skip_reason.as_ref().map(|r| r.kind) {
            Some(SkipKind::Oscillation) => self.blocked_oscillation += 1,
            Some(SkipKind::Velocity) => self.blocked_velocity += 1,
            Some(SkipKind::Cooldown) => self.cooldown_skips += 1,
            Some(SkipKind::Freeze) => self.freeze_skips += 1,
            Some(SkipKind::NoOp) => self.no_op_skips += 1,
            Some(SkipKind::FinalIteration) => self.final_iteration_skips += 1,
            None => {}
        }
    }
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
        self.summary.add(&entry);
        self.iterations.push(entry);
    }
}

/// Where `TUNING_REPORT.json` of a run in progress stands, recorded in
/// `SOAK_RUN.json` with each iteration.
///
/// The report grows by one entry per iteration without being rewritten
/// whole (a long run would otherwise spend more and more of each iteration
/// on it): the new entry and the closing summary are written in place after
/// the last entry, at `body_end`. Bytes before `body_end` are never written
/// again, so after a crash the run record's mark says where the report of
/// its last complete iteration ends, and `--resume` cuts there and closes
/// the file again. The file is always the
/// pretty JSON of the whole [`TuningReport`], byte for byte.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TuningReportMark {
    /// Byte offset just after the last entry (after the `[` with none).
    pub body_end: u64,
    /// The counts over the entries, entry count included.
    pub counts: TuningCounts,
}

/// `{` and the key of the entry list, up to its `[`.
const REPORT_HEAD: &[u8] = b"{\n  \"iterations\": [";

impl TuningReportMark {
    /// Start an empty report at `path` (atomically).
    pub(crate) fn start(path: &Path) -> std::io::Result<TuningReportMark> {
        let mark = TuningReportMark {
            body_end: REPORT_HEAD.len() as u64,
            counts: TuningCounts::default(),
        };
        let mut bytes = REPORT_HEAD.to_vec();
        mark.write_tail(&mut bytes)?;
        mmsoak_artifacts::write_atomically(path, &bytes)?;
        Ok(mark)
    }

    /// Append `entry` to the report at `path` in place (fsynced); the mark
    /// after it.
    pub(crate) fn append(
        &self,
        path: &Path,
        entry: &TuningEntry,
    ) -> std::io::Result<TuningReportMark> {
        let mut bytes = Vec::with_capacity(1536);
        bytes.extend_from_slice(if self.counts.count == 0 {
            b"\n"
        } else {
            b",\n"
        });
        indented(&mut bytes, entry, b"    ")?;
        let mut next = *self;
        next.body_end += bytes.len() as u64;
        next.counts.add(entry);
        next.write_tail(&mut bytes)?;
        self.write_at_body_end(path, &bytes)?;
        Ok(next)
    }

    /// Cut the report at `path` back to this mark and close it again: the
    /// report of the last complete iteration, after a crash during a later
    /// one. An error when the file is not one this mark can be of.
    pub(crate) fn restore(&self, path: &Path) -> std::io::Result<()> {
        let mut file =
            mmsoak_artifacts::open_artifact(path, std::fs::OpenOptions::new().read(true))?;
        let len = file.metadata()?.len();
        let mut last = [0u8];
        let fits = len >= self.body_end && self.body_end >= REPORT_HEAD.len() as u64 && {
            use std::io::{Read, Seek};
            file.seek(std::io::SeekFrom::Start(self.body_end - 1))?;
            file.read_exact(&mut last)?;
            last[0] == if self.counts.count == 0 { b'[' } else { b'}' }
        };
        if !fits {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "it does not hold the {} entries the run record says were written (it was changed outside mmsoak)",
                    self.counts.count
                ),
            ));
        }
        let mut tail = Vec::new();
        self.write_tail(&mut tail)?;
        self.write_at_body_end(path, &tail)
    }

    /// Write `bytes` at `body_end`, end the file there, fsync.
    fn write_at_body_end(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        use std::io::{Seek, Write};
        let mut file =
            mmsoak_artifacts::open_artifact(path, std::fs::OpenOptions::new().write(true))?;
        file.seek(std::io::SeekFrom::Start(self.body_end))?;
        file.write_all(bytes)?;
        file.set_len(self.body_end + bytes.len() as u64)?;
        file.sync_data()
    }

    /// The end of the list and the summary, as `serde_json`'s pretty
    /// printer writes them after the last entry, and the final newline.
    fn write_tail(&self, out: &mut Vec<u8>) -> std::io::Result<()> {
        out.extend_from_slice(if self.counts.count == 0 {
            b"],\n"
        } else {
            b"\n  ],\n"
        });
        out.extend_from_slice(b"  \"summary\": ");
        let start = out.len();
        indented(out, &self.counts, b"  ")?;
        // The summary's first line follows its key: no indent there.
        out.drain(start..start + 2);
        out.extend_from_slice(b"\n}\n");
        Ok(())
    }
}

/// `value` as pretty JSON with every line indented by `indent` (JSON
/// strings hold no raw newline, so lines are the printer's own).
fn indented<T: Serialize>(out: &mut Vec<u8>, value: &T, indent: &[u8]) -> std::io::Result<()> {
    let text = serde_json::to_vec_pretty(value).map_err(std::io::Error::other)?;
    for (i, line) in text.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            out.push(b'\n');
        }
        out.extend_from_slice(indent);
        out.extend_from_slice(line);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(i: u32) -> TuningEntry {
        let mut deltas = BTreeMap::new();
        if i.is_multiple_of(2) {
            deltas.insert(Param::MinIntervalMs, 5.0);
            deltas.insert(Param::ImpactCapRatio, -0.005);
        }
        TuningEntry {
            iteration: i,
            runtime_utc: (!i.is_multiple_of(3)).then(|| format!("2026-12-03T00:{i:02}:00Z")),
            net_bps: (!i.is_multiple_of(4)).then_some(f64::from(i) * 0.37 - 2.0),
            neg_edge_drivers: vec!["adverse \"toxic\" flow \u{e9}".into(); (i % 3) as usize],
            proposed_deltas: deltas.clone(),
            suggested_deltas: deltas,
            rationale: format!("RISK_MODERATE: risk={i}\nline\tbreak"),
            rules_fired: vec!["STABLE".into()],
            applied: i.is_multiple_of(2),
            skip_reason: (!i.is_multiple_of(2)).then(|| {
                SkipReason::new(
                    [SkipKind::Cooldown, SkipKind::NoOp, SkipKind::Freeze][(i % 3) as usize],
                    "held through iter 4: 2 more iterations after this one",
                )
            }),
            changed_keys: vec![Param::TailAgeMs],
            state_hash: StateHash::of_canonical_bytes(format!("{i}").as_bytes()),
            old_hash: StateHash::of_canonical_bytes(b"{}"),
            freeze_triggered: i == 5,
            oscillation_detected: false,
            velocity_violation: i == 7,
            cooldown_active: i % 2 == 1,
        }
    }

    fn pretty(report: &TuningReport) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(report).expect("serializable");
        bytes.push(b'\n');
        bytes
    }

    /// After every append, the file is the pretty JSON of the whole report,
    /// byte for byte (what rewriting it whole wrote); a restore to an
    /// earlier mark gives that mark's report back, whatever follows it.
    #[test]
    fn the_report_written_in_place_is_the_whole_reports_pretty_json() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(layout::TUNING_REPORT);
        let mut mark = TuningReportMark::start(&path).expect("start");
        let mut report = TuningReport::default();
        let mut marks = vec![(mark, pretty(&report))];
        assert_eq!(std::fs::read(&path).expect("read"), pretty(&report));
        for i in 1..=9 {
            mark = mark.append(&path, &entry(i)).expect("append");
            report.push(entry(i));
            assert_eq!(mark.counts, report.summary);
            let bytes = std::fs::read(&path).expect("read");
            assert_eq!(
                String::from_utf8_lossy(&bytes),
                String::from_utf8_lossy(&pretty(&report)),
                "after {i}"
            );
            marks.push((mark, bytes));
        }
        for (mark, bytes) in marks.iter().rev() {
            // A torn write after the mark: garbage past it.
            let mut torn = std::fs::read(&path).expect("read");
            torn.truncate(mark.body_end as usize);
            torn.extend_from_slice(b",\n    {\n      \"iteration\": 4");
            std::fs::write(&path, &torn).expect("tear");
            mark.restore(&path).expect("restore");
            assert_eq!(&std::fs::read(&path).expect("read"), bytes);
        }
        // A file that is not the mark's is refused, not cut.
        std::fs::write(&path, b"{}").expect("write");
        assert!(marks[3].0.restore(&path).is_err());
        assert_eq!(std::fs::read(&path).expect("read"), b"{}");
    }
}
