//! Comparing a snapshot's KPI means against a baseline snapshot.

use std::fmt::Write;
use std::path::Path;

use mmsoak_core::input::{read_document, Fields};
use mmsoak_core::InputError;
use mmsoak_verify::stats::round_to;
use serde::Serialize;

use crate::snapshot::KpiLast8;

/// Which way a KPI should move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    /// Higher is better (maker share, net edge).
    Higher,
    /// Lower is better (risk, latency).
    Lower,
}

/// The change of one KPI mean.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct KpiChange {
    /// The KPI, e.g. `net_bps`.
    pub kpi: &'static str,
    /// Baseline mean.
    pub baseline: f64,
    /// Current mean.
    pub current: f64,
    /// current − baseline, rounded to 3 places.
    pub change: f64,
    /// Which way is better.
    pub better: Better,
    /// Whether it moved the better way (`None`: unchanged).
    pub improved: Option<bool>,
}

/// KPI mean changes against a baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SnapshotComparison {
    /// One entry per KPI, in a fixed order.
    pub changes: Vec<KpiChange>,
}

impl SnapshotComparison {
    /// One line per KPI, e.g. `net_bps mean: 2.900 -> 3.100 (+0.200, better)`.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        for c in &self.changes {
            let how = match c.improved {
                None => "unchanged",
                Some(true) => "better",
                Some(false) => "worse",
            };
            let _ = writeln!(
                out,
                "{} mean: {:.3} -> {:.3} ({:+.3}, {how})",
                c.kpi, c.baseline, c.current, c.change
            );
        }
        out
    }
}

/// Compare current KPI means with a baseline's.
pub fn compare(current: &KpiLast8, baseline: &KpiLast8) -> SnapshotComparison {
    let rows = [
        (
            "maker_taker_ratio",
            current.maker_taker_ratio.mean,
            baseline.maker_taker_ratio.mean,
            Better::Higher,
        ),
        (
            "net_bps",
            current.net_bps.mean,
            baseline.net_bps.mean,
            Better::Higher,
        ),
        (
            "p95_latency_ms",
            current.p95_latency_ms.mean,
            baseline.p95_latency_ms.mean,
            Better::Lower,
        ),
        (
            "risk_ratio",
            current.risk_ratio.mean,
            baseline.risk_ratio.mean,
            Better::Lower,
        ),
    ];
    SnapshotComparison {
        changes: rows
            .into_iter()
            .map(|(kpi, current, baseline, better)| {
                let change = round_to(current - baseline, 3);
                let improved =
                    (change != 0.0).then_some((change > 0.0) == (better == Better::Higher));
                KpiChange {
                    kpi,
                    baseline,
                    current,
                    change,
                    better,
                    improved,
                }
            })
            .collect(),
    }
}

/// Read the `kpi_last8` means (and medians, when present) of a baseline
/// snapshot, ours or the predecessor's.
pub fn read_baseline(file: &Path) -> Result<KpiLast8, InputError> {
    let doc = read_document(file)?;
    let root = Fields::root(file, &doc)?;
    let kpis = root.object("kpi_last8")?;
    let one = |name: &str| -> Result<crate::snapshot::MeanMedian, InputError> {
        let o = kpis.object(name)?;
        let mean = o.f64("mean")?;
        Ok(crate::snapshot::MeanMedian {
            mean,
            median: o.opt_f64("median")?.unwrap_or(mean),
        })
    };
    Ok(KpiLast8 {
        maker_taker_ratio: one("maker_taker_ratio")?,
        net_bps: one("net_bps")?,
        p95_latency_ms: one("p95_latency_ms")?,
        risk_ratio: one("risk_ratio")?,
    })
}
