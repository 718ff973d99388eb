//! `POST_SOAK_SNAPSHOT.json` (schema 1.1): the last-window KPIs, passes,
//! guards, anomalies and the snapshot verdict.

use std::collections::VecDeque;
use std::path::Path;

use mmsoak_core::input::{limits, read_document, Fields};
use mmsoak_core::{FieldProblem, InputError, StateHash};
use mmsoak_verify::stats::{exact_mean, median, round_to};
use mmsoak_verify::{ArtifactDir, ArtifactError, IterSummary, SkipFlags, SummaryKpis};
use serde::{Deserialize, Serialize};

use crate::kpi::GatedKpi as Kpi;
use mmsoak_policy::SnapshotPolicy;

/// The `schema_version` written.
pub const SNAPSHOT_SCHEMA_VERSION: &str = "1.1";

/// Verdict of the snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SnapshotVerdict {
    /// Enough passing iterations and a freeze seen.
    Pass,
    /// Nearly enough passing iterations.
    Warn,
    /// Otherwise.
    Fail,
}

impl SnapshotVerdict {
    /// `"PASS"`, `"WARN"` or `"FAIL"`.
    pub fn as_str(self) -> &'static str {
        match self {
            SnapshotVerdict::Pass => "PASS",
            SnapshotVerdict::Warn => "WARN",
            SnapshotVerdict::Fail => "FAIL",
        }
    }
}

/// Mean and median of one KPI, rounded to 3 places.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeanMedian {
    /// Exactly rounded mean, then rounded to 3 places.
    pub mean: f64,
    /// Median, rounded to 3 places.
    pub median: f64,
}

// Fields are declared in sorted key order, so that the JSON is sorted
// whatever serde_json's map ordering is.

/// `kpi_last8`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KpiLast8 {
    /// The latency floor, ms (p95 of round trips as if sent alone), over
    /// the window iterations that report it; absent when none does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_floor_ms: Option<MeanMedian>,
    /// Maker share.
    pub maker_taker_ratio: MeanMedian,
    /// Net edge, bps.
    pub net_bps: MeanMedian,
    /// p95 latency, ms.
    pub p95_latency_ms: MeanMedian,
    /// Risk-blocked share.
    pub risk_ratio: MeanMedian,
}

/// `guards_last8`: iterations of the window with each guard flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardsLast8 {
    /// Cooldown active (skip flag or `cooldown_active`).
    pub cooldown_count: u64,
    /// Freezes triggered (`freeze_triggered`).
    pub freeze_events: u64,
    /// Oscillation detected (skip flag or `oscillation_detected`).
    pub oscillation_count: u64,
    /// Velocity violated (skip flag or `velocity_violation`).
    pub velocity_count: u64,
}

/// `time_range`: first and last `runtime_utc` of the window (string order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRange {
    /// Smallest `runtime_utc`.
    pub from: Option<String>,
    /// Largest `runtime_utc`.
    pub to: Option<String>,
}

/// `POST_SOAK_SNAPSHOT.json`, schema 1.1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostSoakSnapshot {
    /// KPI anomalies in the window (each condition met counts once).
    pub anomalies_count: u64,
    /// Verdict PASS or WARN, enough passes, and a freeze seen.
    pub freeze_ready: bool,
    /// A freeze was triggered or blocked a step in the window.
    pub freeze_seen: bool,
    /// Guard counts.
    pub guards_last8: GuardsLast8,
    /// Whether `KPI_GATE.json`'s verdict agrees with this one (PASS vs PASS/WARN); null without that file.
    pub kpi_gate_parity: Option<bool>,
    /// KPI means and medians.
    pub kpi_last8: KpiLast8,
    /// Iterations of the window passing every per-iteration threshold.
    pub pass_count_last8: u64,
    /// `"1.1"`.
    pub schema_version: String,
    /// A→B→A returns among the states applied in the window.
    pub signature_loops: u64,
    /// First and last runtime_utc.
    pub time_range: TimeRange,
    /// The verdict.
    pub verdict: SnapshotVerdict,
}

impl PostSoakSnapshot {
    /// The file content: compact JSON with sorted keys and a trailing newline,
    /// or indented by 2 with `pretty`.
    pub fn to_json(&self, pretty: bool) -> String {
        let value = serde_json::to_value(self).unwrap_or_default();
        let mut s = if pretty {
            serde_json::to_string_pretty(&value).unwrap_or_default()
        } else {
            String::from_utf8_lossy(&mmsoak_core::canonical::to_canonical_bytes(&value))
                .into_owned()
        };
        s.push('\n');
        s
    }
}

/// What the snapshot keeps of one iteration.
#[derive(Debug, Clone)]
struct WindowRow {
    kpis: SummaryKpis,
    guards: SkipFlags,
    freeze_triggered: bool,
    applied_state: Option<StateHash>,
}

/// The trailing window of iterations, fed one summary at a time.
#[derive(Debug, Clone)]
pub struct SnapshotWindow {
    policy: SnapshotPolicy,
    rows: VecDeque<WindowRow>,
}

impl SnapshotWindow {
    /// An empty window.
    pub fn new(policy: &SnapshotPolicy) -> Self {
        SnapshotWindow {
            policy: policy.clone(),
            rows: VecDeque::with_capacity(policy.window.max(1) + 1),
        }
    }

    /// Feed the next summary; the oldest falls out once the window is full.
    pub fn push(&mut self, s: &IterSummary) {
        self.rows.push_back(WindowRow {
            kpis: s.kpis.clone(),
            guards: s.tuning.guard_flags(),
            freeze_triggered: s.tuning.freeze_triggered,
            applied_state: if s.tuning.applied {
                s.tuning.state_hash
            } else {
                None
            },
        });
        while self.rows.len() > self.policy.window.max(1) {
            self.rows.pop_front();
        }
    }

    /// Window iterations with a KPI missing or null (a bot with no fill has
    /// no net edge): they do not pass, and the gate fails on them
    /// (`snapshot.incomplete_iterations_last8`).
    pub fn incomplete_iterations(&self) -> u64 {
        self.rows
            .iter()
            .filter(|r| {
                let k = &r.kpis;
                [
                    k.risk_ratio,
                    k.maker_taker_ratio,
                    k.net_bps,
                    k.p95_latency_ms,
                ]
                .iter()
                .any(Option::is_none)
            })
            .count() as u64
    }

    /// The snapshot. `kpi_gate_passed` is `KPI_GATE.json`'s verdict, if any.
    /// A KPI missing or null in a window iteration is left out of the means
    /// and medians (as the predecessor did), and that iteration does not
    /// pass; [`SnapshotWindow::incomplete_iterations`] counts them.
    pub fn finish(&self, kpi_gate_passed: Option<bool>) -> Result<PostSoakSnapshot, InputError> {
        let p = &self.policy;
        let n = self.rows.len();
        let (mut risk, mut mt, mut net, mut p95) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let floor: Vec<f64> = self
            .rows
            .iter()
            .filter_map(|r| r.kpis.latency_floor_ms)
            .collect();
        let mut passes = 0;
        let mut anomalies = 0;
        let mut prev_risk: Option<f64> = None;
        for row in &self.rows {
            let k = &row.kpis;
            let (r, m, e, l) = (
                k.risk_ratio,
                k.maker_taker_ratio,
                k.net_bps,
                k.p95_latency_ms,
            );
            let values = [r, m, e, l];
            if Kpi::PASS_ORDER
                .iter()
                .zip(values)
                .all(|(k, v)| v.is_some_and(|v| k.meets(v, p)))
            {
                passes += 1;
            }
            anomalies += u64::from(l.is_some_and(|l| l > p.anomaly_p95_latency_ms_above));
            anomalies += u64::from(m.is_some_and(|m| m < p.anomaly_maker_taker_ratio_below));
            if let (Some(prev), Some(r)) = (prev_risk, r) {
                anomalies += u64::from(r - prev > p.anomaly_risk_jump_above);
            }
            if r.is_some() {
                prev_risk = r;
            }
            risk.extend(r);
            mt.extend(m);
            net.extend(e);
            p95.extend(l);
        }
        let stat = |xs: &[f64]| MeanMedian {
            mean: round_to(exact_mean(xs).unwrap_or(0.0), 3),
            median: round_to(median(xs).unwrap_or(0.0), 3),
        };
        let count = |f: fn(&WindowRow) -> bool| self.rows.iter().filter(|r| f(r)).count() as u64;
        let freeze_seen = self
            .rows
            .iter()
            .any(|r| r.freeze_triggered || r.guards.freeze);
        let verdict = if passes >= p.verdict_pass_min_passes && freeze_seen {
            SnapshotVerdict::Pass
        } else if passes >= p.verdict_warn_min_passes {
            SnapshotVerdict::Warn
        } else {
            SnapshotVerdict::Fail
        };
        let states: Vec<StateHash> = self.rows.iter().filter_map(|r| r.applied_state).collect();
        let signature_loops = states
            .windows(3)
            .filter(|w| w[0] == w[2] && w[0] != w[1])
            .count() as u64;
        let times = self
            .rows
            .iter()
            .filter_map(|r| r.kpis.runtime_utc.as_deref());
        Ok(PostSoakSnapshot {
            anomalies_count: anomalies,
            freeze_ready: verdict != SnapshotVerdict::Fail
                && passes >= p.verdict_pass_min_passes
                && freeze_seen,
            freeze_seen,
            guards_last8: GuardsLast8 {
                cooldown_count: count(|r| r.guards.cooldown),
                freeze_events: count(|r| r.freeze_triggered),
                oscillation_count: count(|r| r.guards.oscillation),
                velocity_count: count(|r| r.guards.velocity),
            },
            kpi_gate_parity: kpi_gate_passed
                .map(|passed| passed == (verdict != SnapshotVerdict::Fail)),
            kpi_last8: KpiLast8 {
                latency_floor_ms: (!floor.is_empty()).then(|| stat(&floor)),
                maker_taker_ratio: stat(&mt),
                net_bps: stat(&net),
                p95_latency_ms: stat(&p95),
                risk_ratio: stat(&risk),
            },
            pass_count_last8: passes,
            schema_version: SNAPSHOT_SCHEMA_VERSION.to_owned(),
            signature_loops,
            time_range: TimeRange {
                from: times.clone().min().map(str::to_owned),
                to: times.max().map(str::to_owned),
            },
            verdict,
        })
    }
}

/// `KPI_GATE.json`'s verdict (`true` for PASS), or `None` without the file.
pub fn kpi_gate_passed(dir: &Path) -> Result<Option<bool>, InputError> {
    let file = dir.join(mmsoak_artifacts::layout::KPI_GATE);
    // Absent: no verdict; anything else there must read as one.
    if std::fs::symlink_metadata(&file).is_err() {
        return Ok(None);
    }
    let doc = read_document(&file, limits::SMALL_REPORT)?;
    let root = Fields::root(&file, &doc)?;
    match root.opt_str("verdict")? {
        Some("PASS") => Ok(Some(true)),
        Some("FAIL") => Ok(Some(false)),
        Some(other) => Err(root.error(
            "verdict",
            FieldProblem::Invalid(format!("is {other:?}, expected \"PASS\" or \"FAIL\"")),
        )),
        None => Err(root.error("verdict", FieldProblem::Missing)),
    }
}

/// The snapshot of an opened directory: reads only the last `window` summaries.
pub fn snapshot(
    dir: &ArtifactDir,
    policy: &SnapshotPolicy,
) -> Result<PostSoakSnapshot, ArtifactError> {
    let mut window = SnapshotWindow::new(policy);
    let first = dir.iteration_count().saturating_sub(policy.window as u64) + 1;
    for s in dir.summaries_from(first) {
        window.push(&s?);
    }
    Ok(window.finish(kpi_gate_passed(dir.path())?)?)
}

/// Open a directory and take its snapshot.
pub fn snapshot_dir(
    dir: &Path,
    policy: &SnapshotPolicy,
) -> Result<PostSoakSnapshot, ArtifactError> {
    snapshot(&ArtifactDir::open(dir)?, policy)
}
