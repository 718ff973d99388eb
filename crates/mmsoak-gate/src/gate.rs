//! The release gate: every criterion with its value and target, and the verdict.

use std::fmt;
use std::path::Path;

use mmsoak_core::{ParamRegistry, RuntimeFinding};
use mmsoak_verify::{
    with_journal, ArtifactDir, ArtifactError, DeltaMetrics, Verifier, VerifyReport,
};
use serde::{Deserialize, Serialize};

use crate::snapshot::{kpi_gate_passed, PostSoakSnapshot, SnapshotVerdict, SnapshotWindow};
use mmsoak_policy::GatePolicy;

/// Verdict of the gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum GateVerdict {
    /// Every criterion met, no anomaly.
    Pass,
    /// Every criterion met, but anomalies were seen.
    Warn,
    /// A criterion failed.
    Fail,
}

impl GateVerdict {
    /// Every verdict, in order.
    pub const ALL: [GateVerdict; 3] = [GateVerdict::Pass, GateVerdict::Warn, GateVerdict::Fail];

    /// `"PASS"`, `"WARN"` or `"FAIL"`.
    pub fn as_str(self) -> &'static str {
        match self {
            GateVerdict::Pass => "PASS",
            GateVerdict::Warn => "WARN",
            GateVerdict::Fail => "FAIL",
        }
    }
}

/// A measured or target value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Measure {
    /// A count.
    Count(u64),
    /// A number.
    Number(f64),
    /// A flag.
    Flag(bool),
    /// A word such as a verdict.
    Word(String),
}

impl fmt::Display for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Measure::Count(c) => fmt::Display::fmt(c, f),
            Measure::Number(x) => fmt::Display::fmt(x, f),
            Measure::Flag(b) => fmt::Display::fmt(b, f),
            Measure::Word(w) => f.write_str(w),
        }
    }
}

/// How a value is compared with its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Comparison {
    /// value >= target.
    #[serde(rename = ">=")]
    AtLeast,
    /// value <= target.
    #[serde(rename = "<=")]
    AtMost,
    /// value == target.
    #[serde(rename = "==")]
    Equals,
    /// value != target.
    #[serde(rename = "!=")]
    NotEquals,
}

impl Comparison {
    /// The operator as written in reports: `>=`, `<=`, `==`, `!=`.
    pub fn as_str(self) -> &'static str {
        match self {
            Comparison::AtLeast => ">=",
            Comparison::AtMost => "<=",
            Comparison::Equals => "==",
            Comparison::NotEquals => "!=",
        }
    }

    fn holds<T: PartialOrd>(self, value: T, target: T) -> bool {
        match self {
            Comparison::AtLeast => value >= target,
            Comparison::AtMost => value <= target,
            Comparison::Equals => value == target,
            Comparison::NotEquals => value != target,
        }
    }
}

/// Which criterion: each has a stable name (`kpi.net_bps_mean`) and a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum CriterionId {
    /// `run.completed_iterations`: the soak finished.
    #[serde(rename = "run.completed_iterations")]
    RunCompletedIterations,
    /// `kpi.maker_taker_ratio_mean`.
    #[serde(rename = "kpi.maker_taker_ratio_mean")]
    MakerTakerRatioMean,
    /// `kpi.risk_ratio_mean`.
    #[serde(rename = "kpi.risk_ratio_mean")]
    RiskRatioMean,
    /// `kpi.net_bps_mean`.
    #[serde(rename = "kpi.net_bps_mean")]
    NetBpsMean,
    /// `kpi.p95_latency_ms_mean`.
    #[serde(rename = "kpi.p95_latency_ms_mean")]
    P95LatencyMsMean,
    /// `snapshot.pass_count_last8`.
    #[serde(rename = "snapshot.pass_count_last8")]
    PassCountLast8,
    /// `snapshot.incomplete_iterations_last8`.
    #[serde(rename = "snapshot.incomplete_iterations_last8")]
    IncompleteIterationsLast8,
    /// `snapshot.verdict`.
    #[serde(rename = "snapshot.verdict")]
    SnapshotVerdict,
    /// `snapshot.freeze_ready`.
    #[serde(rename = "snapshot.freeze_ready")]
    FreezeReady,
    /// `delta.full_apply_ratio`.
    #[serde(rename = "delta.full_apply_ratio")]
    FullApplyRatio,
    /// `delta.signature_stuck_count`.
    #[serde(rename = "delta.signature_stuck_count")]
    SignatureStuckCount,
    /// `delta.fail_count`.
    #[serde(rename = "delta.fail_count")]
    FailCount,
    /// `delta.journal_chain_breaks`.
    #[serde(rename = "delta.journal_chain_breaks")]
    JournalChainBreaks,
}

/// What a criterion judges: how far the run got, its KPIs over the window,
/// the snapshot's own verdict, or the quality of the applied changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CriterionGroup {
    /// `run.*`
    Run,
    /// `kpi.*`
    Kpi,
    /// `snapshot.*`
    Snapshot,
    /// `delta.*`
    Delta,
}

impl CriterionId {
    /// Every criterion, in the gate's order.
    pub const ALL: [CriterionId; 13] = [
        CriterionId::RunCompletedIterations,
        CriterionId::MakerTakerRatioMean,
        CriterionId::RiskRatioMean,
        CriterionId::NetBpsMean,
        CriterionId::P95LatencyMsMean,
        CriterionId::PassCountLast8,
        CriterionId::IncompleteIterationsLast8,
        CriterionId::SnapshotVerdict,
        CriterionId::FreezeReady,
        CriterionId::FullApplyRatio,
        CriterionId::SignatureStuckCount,
        CriterionId::FailCount,
        CriterionId::JournalChainBreaks,
    ];

    /// The stable name, e.g. `"kpi.net_bps_mean"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            CriterionId::RunCompletedIterations => "run.completed_iterations",
            CriterionId::MakerTakerRatioMean => "kpi.maker_taker_ratio_mean",
            CriterionId::RiskRatioMean => "kpi.risk_ratio_mean",
            CriterionId::NetBpsMean => "kpi.net_bps_mean",
            CriterionId::P95LatencyMsMean => "kpi.p95_latency_ms_mean",
            CriterionId::PassCountLast8 => "snapshot.pass_count_last8",
            CriterionId::IncompleteIterationsLast8 => "snapshot.incomplete_iterations_last8",
            CriterionId::SnapshotVerdict => "snapshot.verdict",
            CriterionId::FreezeReady => "snapshot.freeze_ready",
            CriterionId::FullApplyRatio => "delta.full_apply_ratio",
            CriterionId::SignatureStuckCount => "delta.signature_stuck_count",
            CriterionId::FailCount => "delta.fail_count",
            CriterionId::JournalChainBreaks => "delta.journal_chain_breaks",
        }
    }

    /// What it judges.
    pub const fn group(self) -> CriterionGroup {
        match self {
            CriterionId::RunCompletedIterations => CriterionGroup::Run,
            CriterionId::MakerTakerRatioMean
            | CriterionId::RiskRatioMean
            | CriterionId::NetBpsMean
            | CriterionId::P95LatencyMsMean => CriterionGroup::Kpi,
            CriterionId::PassCountLast8
            | CriterionId::IncompleteIterationsLast8
            | CriterionId::SnapshotVerdict
            | CriterionId::FreezeReady => CriterionGroup::Snapshot,
            CriterionId::FullApplyRatio
            | CriterionId::SignatureStuckCount
            | CriterionId::FailCount
            | CriterionId::JournalChainBreaks => CriterionGroup::Delta,
        }
    }
}

impl fmt::Display for CriterionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, so that `{:<38}` lays out a table.
        f.pad(self.as_str())
    }
}

/// One gate criterion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Criterion {
    /// Which criterion, e.g. `kpi.maker_taker_ratio_mean`.
    pub name: CriterionId,
    /// What was measured.
    pub value: Measure,
    /// How it is compared.
    pub op: Comparison,
    /// The threshold from the policy.
    pub target: Measure,
    /// Whether the criterion is met.
    pub ok: bool,
    /// Why a failure is not the bot's to fix, when it is not
    /// (`"environment-bound"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<FailureClass>,
    /// For an environment-bound latency failure: the window's mean latency
    /// floor, ms (p95 of round trips as if sent with nothing else in
    /// flight), which is above the target by itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_floor_ms: Option<f64>,
}

/// What kind of failure a failed criterion is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FailureClass {
    /// The environment holds the KPI beyond its target whatever the bot's
    /// parameters: p95 latency whose floor (round trips with nothing else
    /// of the bot's in flight) is above the target by itself. Re-soak once
    /// the infrastructure recovers, or record a waiver.
    #[serde(rename = "environment-bound")]
    EnvironmentBound,
}

impl FailureClass {
    /// `environment-bound`.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureClass::EnvironmentBound => "environment-bound",
        }
    }
}

impl Criterion {
    fn number(name: CriterionId, value: f64, op: Comparison, target: f64) -> Self {
        Criterion {
            name,
            value: Measure::Number(value),
            op,
            target: Measure::Number(target),
            ok: op.holds(value, target),
            class: None,
            latency_floor_ms: None,
        }
    }

    fn count(name: CriterionId, value: u64, op: Comparison, target: u64) -> Self {
        Criterion {
            name,
            value: Measure::Count(value),
            op,
            target: Measure::Count(target),
            ok: op.holds(value, target),
            class: None,
            latency_floor_ms: None,
        }
    }

    /// What it judges.
    pub fn group(&self) -> CriterionGroup {
        self.name.group()
    }

    /// `name: value (target op target)`, e.g.
    /// `kpi.net_bps_mean: 2.5 (target >= 2.7)`.
    /// An environment-bound failure says so, with the floor and what to do.
    pub fn describe(&self) -> String {
        let text = format!(
            "{}: {} (target {})",
            self.name,
            self.value,
            self.target_text()
        );
        match self.failure_note() {
            Some(note) => format!("{text} [{note}]"),
            None => text,
        }
    }

    /// What a failure that is not the bot's to fix calls for: for an
    /// environment-bound latency, the floor and what to do.
    pub fn failure_note(&self) -> Option<String> {
        let (class, floor) = (self.class?, self.latency_floor_ms?);
        Some(format!(
            "{}: the latency floor ({floor} ms, round trips as if sent with nothing \
             else in flight) is above the target by itself, so no bot setting can \
             meet it; re-soak after the infrastructure recovers, or record a waiver",
            class.as_str()
        ))
    }

    /// The operator and target, e.g. `>= 2.7`.
    pub fn target_text(&self) -> String {
        format!("{} {}", self.op.as_str(), self.target)
    }
}

/// `kpi.p95_latency_ms_mean`; a failure is environment-bound when the
/// window's mean latency floor is above the target by itself.
fn latency_criterion(k: &crate::snapshot::KpiLast8, target: f64) -> Criterion {
    let mut c = Criterion::number(
        CriterionId::P95LatencyMsMean,
        k.p95_latency_ms.mean,
        Comparison::AtMost,
        target,
    );
    if let Some(floor) = k
        .latency_floor_ms
        .map(|f| f.mean)
        .filter(|f| !c.ok && *f > target)
    {
        c.class = Some(FailureClass::EnvironmentBound);
        c.latency_floor_ms = Some(floor);
    }
    c
}

/// How far a run got: from `SOAK_RUN.json`, which `mmsoak run` writes (a
/// predecessor's directory has none, and then no completion is known).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunCompletion {
    /// Iterations the run was asked for.
    pub requested: u64,
    /// Iterations whose artifacts are complete.
    pub completed: u64,
}

impl RunCompletion {
    /// Read from the run record of `dir`; `None` without one.
    pub fn read(dir: &Path) -> Result<Option<RunCompletion>, ArtifactError> {
        let meta = crate::run_meta::RunMeta::read(dir)?;
        Ok(meta
            .iterations
            .zip(meta.completed_iterations)
            .map(|(requested, completed)| RunCompletion {
                requested,
                completed,
            }))
    }
}

/// The gate's answer, with everything needed to recompute it under another policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateReport {
    /// The verdict.
    pub verdict: GateVerdict,
    /// Whether the strict delta threshold was used.
    pub strict: bool,
    /// Every criterion, met or not.
    pub criteria: Vec<Criterion>,
    /// Anomalies of the snapshot (WARN when > 0).
    pub anomalies_count: u64,
    /// The snapshot judged.
    pub snapshot: PostSoakSnapshot,
    /// The delta metrics judged.
    pub delta: DeltaMetrics,
    /// Breaks in the APPLY_JOURNAL hash chain (0 without a journal).
    pub journal_chain_breaks: u64,
    /// How far the run got (absent for a directory without `SOAK_RUN.json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion: Option<RunCompletion>,
    /// Window iterations with a KPI missing or null.
    #[serde(default)]
    pub incomplete_iterations: u64,
    /// Findings in the predecessor's runtime files (WARN when any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<RuntimeFinding>,
}

impl GateReport {
    /// Criteria not met.
    pub fn failed(&self) -> impl Iterator<Item = &Criterion> {
        self.criteria.iter().filter(|c| !c.ok)
    }

    /// The `--json` output, with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// What the gate judges: the snapshot of the window, the delta metrics,
/// the journal's breaks, how far the run got and the window's incomplete
/// iterations.
#[derive(Debug, Clone, Copy)]
pub struct GateInputs<'a> {
    /// The snapshot over the window.
    pub snapshot: &'a PostSoakSnapshot,
    /// The verifier's delta metrics.
    pub delta: &'a DeltaMetrics,
    /// Breaks in the apply journal's hash chain.
    pub journal_chain_breaks: u64,
    /// How far the run got (`None` for a directory without `SOAK_RUN.json`:
    /// no `run.completed_iterations` criterion).
    pub completion: Option<RunCompletion>,
    /// Window iterations with a KPI missing
    /// ([`SnapshotWindow::incomplete_iterations`](crate::SnapshotWindow::incomplete_iterations)).
    pub incomplete_iterations: u64,
    /// What the predecessor's runtime files say that cannot all be true
    /// ([`VerifyReport::findings`]): each makes the verdict at least WARN.
    pub findings: &'a [RuntimeFinding],
}

/// Which `delta.full_apply_ratio` target the gate applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Threshold {
    /// `full_apply_ratio_min`.
    #[default]
    Default,
    /// `full_apply_ratio_min_strict` (`gate --strict`).
    Strict,
}

/// Apply every criterion of `policy` to `inputs`; with a completion, the
/// run must also have completed every iteration it was asked for
/// (`run.completed_iterations`): a soak stopped halfway is not a release
/// candidate, however good its window looks.
pub fn evaluate(inputs: &GateInputs<'_>, policy: &GatePolicy, threshold: Threshold) -> GateReport {
    use Comparison::*;
    use CriterionId as C;
    let GateInputs {
        snapshot,
        delta,
        journal_chain_breaks,
        completion,
        incomplete_iterations,
        findings,
    } = *inputs;
    let k = &snapshot.kpi_last8;
    let strict = threshold == Threshold::Strict;
    let ratio_min = if strict {
        policy.full_apply_ratio_min_strict
    } else {
        policy.full_apply_ratio_min
    };
    let mut criteria: Vec<Criterion> = completion
        .iter()
        .map(|c| Criterion::count(C::RunCompletedIterations, c.completed, AtLeast, c.requested))
        .collect();
    criteria.extend([
        Criterion::number(
            C::MakerTakerRatioMean,
            k.maker_taker_ratio.mean,
            AtLeast,
            policy.maker_taker_ratio_mean_min,
        ),
        Criterion::number(
            C::RiskRatioMean,
            k.risk_ratio.mean,
            AtMost,
            policy.risk_ratio_mean_max,
        ),
        Criterion::number(
            C::NetBpsMean,
            k.net_bps.mean,
            AtLeast,
            policy.net_bps_mean_min,
        ),
        latency_criterion(k, policy.p95_latency_ms_mean_max),
        Criterion::count(
            C::PassCountLast8,
            snapshot.pass_count_last8,
            AtLeast,
            policy.pass_count_min,
        ),
        Criterion::count(
            C::IncompleteIterationsLast8,
            incomplete_iterations,
            AtMost,
            policy.incomplete_iterations_max,
        ),
        Criterion {
            name: C::SnapshotVerdict,
            value: Measure::Word(snapshot.verdict.as_str().into()),
            op: NotEquals,
            target: Measure::Word(SnapshotVerdict::Fail.as_str().into()),
            ok: snapshot.verdict != SnapshotVerdict::Fail,
            class: None,
            latency_floor_ms: None,
        },
        Criterion {
            name: C::FreezeReady,
            value: Measure::Flag(snapshot.freeze_ready),
            op: Equals,
            target: Measure::Flag(true),
            ok: snapshot.freeze_ready,
            class: None,
            latency_floor_ms: None,
        },
        Criterion::number(
            C::FullApplyRatio,
            delta.full_apply_ratio,
            AtLeast,
            ratio_min,
        ),
        Criterion::count(
            C::SignatureStuckCount,
            delta.signature_stuck_count,
            AtMost,
            policy.signature_stuck_max,
        ),
        Criterion::count(
            C::FailCount,
            delta.fail_count,
            AtMost,
            policy.fail_count_max,
        ),
        Criterion::count(
            C::JournalChainBreaks,
            journal_chain_breaks,
            AtMost,
            policy.journal_chain_breaks_max,
        ),
    ]);
    let verdict = if criteria.iter().any(|c| !c.ok) {
        GateVerdict::Fail
    } else if snapshot.anomalies_count > 0 || !findings.is_empty() {
        GateVerdict::Warn
    } else {
        GateVerdict::Pass
    };
    GateReport {
        verdict,
        strict,
        criteria,
        anomalies_count: snapshot.anomalies_count,
        snapshot: snapshot.clone(),
        delta: *delta,
        journal_chain_breaks,
        completion,
        incomplete_iterations,
        findings: findings.to_vec(),
    }
}

/// The gate's report and the verifier's full report it was computed from.
#[derive(Debug, Clone, PartialEq)]
pub struct GateRun {
    /// The gate's answer.
    pub report: GateReport,
    /// The verifier's report (for DELTA_VERIFY_REPORT.md).
    pub verify: VerifyReport,
}

/// Run the verifier and the snapshot over an opened directory in one pass
/// (each summary parsed once; only the previous one and the window held),
/// then evaluate the policy.
pub fn gate(
    dir: &ArtifactDir,
    policy: &GatePolicy,
    threshold: Threshold,
    registry: &ParamRegistry,
) -> Result<GateRun, ArtifactError> {
    let ((verifier, window), journal) = with_journal(dir, || {
        let mut verifier = Verifier::new(dir.path(), registry.clone());
        let mut window = SnapshotWindow::new(&policy.snapshot);
        for summary in dir.summaries_parameters_only() {
            let summary = summary?;
            window.push(&summary);
            verifier.push(summary)?;
        }
        Ok((verifier, window))
    })?;
    let verify = verifier.finish(journal);
    let snapshot = window.finish(kpi_gate_passed(dir.path())?)?;
    let report = evaluate(
        &GateInputs {
            snapshot: &snapshot,
            delta: &verify.metrics,
            journal_chain_breaks: verify.journal_breaks() as u64,
            completion: RunCompletion::read(dir.path())?,
            incomplete_iterations: window.incomplete_iterations(),
            findings: &verify.findings,
        },
        policy,
        threshold,
    );
    Ok(GateRun { report, verify })
}

/// Open a directory and gate it with the default registry.
pub fn gate_dir(
    dir: &Path,
    policy: &GatePolicy,
    threshold: Threshold,
) -> Result<GateRun, ArtifactError> {
    gate(
        &ArtifactDir::open(dir)?,
        policy,
        threshold,
        &ParamRegistry::default(),
    )
}
