//! `POST_SOAK_METRICS.prom`: the gate's figures in the Prometheus text
//! exposition format (one HELP and one TYPE per family, base units; every
//! figure describes a finished run, so every family is a gauge).

use std::fmt::Write;

use mmsoak_verify::stats::round_to;

use crate::gate::{GateReport, GateVerdict};
use crate::snapshot::SnapshotVerdict;

struct Family<'a> {
    out: &'a mut String,
}

impl Family<'_> {
    fn family(&mut self, name: &str, help: &str, samples: &[(&str, f64)]) {
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} gauge");
        for (labels, value) in samples {
            let _ = writeln!(self.out, "{name}{labels} {value}");
        }
    }
}

fn flag(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

/// Render the gate report as Prometheus text.
pub fn render_prometheus(report: &GateReport) -> String {
    let mut out = String::with_capacity(4096);
    let mut f = Family { out: &mut out };
    let s = &report.snapshot;
    let k = &s.kpi_last8;
    let d = &report.delta;
    f.family(
        "mmsoak_kpi_risk_ratio_mean",
        "Mean share of order requests blocked by risk limits over the snapshot window.",
        &[("", k.risk_ratio.mean)],
    );
    f.family(
        "mmsoak_kpi_maker_taker_ratio_mean",
        "Mean maker share of fills over the snapshot window.",
        &[("", k.maker_taker_ratio.mean)],
    );
    f.family(
        "mmsoak_kpi_net_bps_mean",
        "Mean net edge over the snapshot window, in basis points of traded notional.",
        &[("", k.net_bps.mean)],
    );
    f.family(
        "mmsoak_kpi_p95_latency_seconds",
        "Mean over the snapshot window of each iteration's p95 order latency, in seconds.",
        &[("", round_to(k.p95_latency_ms.mean / 1000.0, 6))],
    );
    f.family(
        "mmsoak_snapshot_passing_iterations",
        "Iterations of the snapshot window that met every per-iteration KPI threshold.",
        &[("", s.pass_count_last8 as f64)],
    );
    f.family(
        "mmsoak_snapshot_freeze_seen",
        "1 if a freeze was triggered or blocked a step in the snapshot window.",
        &[("", flag(s.freeze_seen))],
    );
    f.family(
        "mmsoak_snapshot_freeze_ready",
        "1 if the run is ready to freeze its parameters (snapshot freeze_ready).",
        &[("", flag(s.freeze_ready))],
    );
    f.family(
        "mmsoak_snapshot_anomalies",
        "KPI anomalies in the snapshot window.",
        &[("", s.anomalies_count as f64)],
    );
    f.family(
        "mmsoak_snapshot_signature_loops",
        "A->B->A returns among the runtime states applied in the snapshot window.",
        &[("", s.signature_loops as f64)],
    );
    let sv = [
        SnapshotVerdict::Pass,
        SnapshotVerdict::Warn,
        SnapshotVerdict::Fail,
    ];
    let labels: Vec<String> = sv
        .iter()
        .map(|v| format!("{{verdict=\"{}\"}}", v.as_str()))
        .collect();
    let samples: Vec<(&str, f64)> = sv
        .iter()
        .zip(&labels)
        .map(|(v, l)| (l.as_str(), flag(*v == s.verdict)))
        .collect();
    f.family(
        "mmsoak_snapshot_verdict",
        "1 for the snapshot's verdict, 0 for the others.",
        &samples,
    );
    let g = &s.guards_last8;
    f.family(
        "mmsoak_guard_iterations",
        "Iterations of the snapshot window in which each tuning guard was active.",
        &[
            ("{guard=\"cooldown\"}", g.cooldown_count as f64),
            ("{guard=\"freeze\"}", g.freeze_events as f64),
            ("{guard=\"oscillation\"}", g.oscillation_count as f64),
            ("{guard=\"velocity\"}", g.velocity_count as f64),
        ],
    );
    f.family("mmsoak_delta_full_apply_ratio", "Share of proposing iteration pairs whose changes were applied or correctly held back by a guard.", &[("", d.full_apply_ratio)]);
    f.family(
        "mmsoak_delta_strict_apply_ratio",
        "full_apply / (full_apply + fail) over proposing iteration pairs.",
        &[("", d.strict_apply_ratio)],
    );
    f.family(
        "mmsoak_delta_pairs",
        "Proposing iteration pairs by verification result.",
        &[
            ("{result=\"full_apply\"}", d.full_apply_count as f64),
            ("{result=\"partial_ok\"}", d.partial_ok_count as f64),
            ("{result=\"fail\"}", d.fail_count as f64),
        ],
    );
    f.family(
        "mmsoak_delta_proposed_pairs",
        "Iteration pairs in which the first iteration proposed a change.",
        &[("", d.proposed_count as f64)],
    );
    f.family(
        "mmsoak_delta_signature_stuck_pairs",
        "Pairs marked applied whose state hash did not change.",
        &[("", d.signature_stuck_count as f64)],
    );
    f.family(
        "mmsoak_delta_journal_chain_breaks",
        "Breaks in the APPLY_JOURNAL hash chain.",
        &[("", report.journal_chain_breaks as f64)],
    );
    let labels: Vec<String> = report
        .criteria
        .iter()
        .map(|c| format!("{{criterion=\"{}\"}}", c.name))
        .collect();
    let samples: Vec<(&str, f64)> = report
        .criteria
        .iter()
        .zip(&labels)
        .map(|(c, l)| (l.as_str(), flag(c.ok)))
        .collect();
    f.family(
        "mmsoak_gate_criterion_ok",
        "1 if the gate criterion is met, 0 if not.",
        &samples,
    );
    let labels: Vec<String> = GateVerdict::ALL
        .iter()
        .map(|v| format!("{{verdict=\"{}\"}}", v.as_str()))
        .collect();
    let samples: Vec<(&str, f64)> = GateVerdict::ALL
        .iter()
        .zip(&labels)
        .map(|(v, l)| (l.as_str(), flag(*v == report.verdict)))
        .collect();
    f.family(
        "mmsoak_gate_verdict",
        "1 for the gate's verdict, 0 for the others.",
        &samples,
    );
    out
}
