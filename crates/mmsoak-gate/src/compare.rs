//! Comparing a snapshot's KPI means against a baseline snapshot.

use std::fmt::Write;
use std::path::Path;

use mmsoak_core::input::{read_document, FieldProblem, Fields};
use mmsoak_core::InputError;
use mmsoak_verify::stats::round_to;
use serde::Serialize;

use crate::snapshot::{KpiLast8, SNAPSHOT_SCHEMA_VERSION};

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

/// The keys of a POST_SOAK_SNAPSHOT.json (schema 1.1), ours and the
/// predecessor's.
const SNAPSHOT_KEYS: [&str; 11] = [
    "anomalies_count",
    "freeze_ready",
    "freeze_seen",
    "guards_last8",
    "kpi_gate_parity",
    "kpi_last8",
    "pass_count_last8",
    "schema_version",
    "signature_loops",
    "time_range",
    "verdict",
];

/// An error for the first key of `fields` not in `known`.
fn unknown_key(fields: &Fields<'_>, known: &[&str]) -> Result<(), InputError> {
    match fields.map().keys().find(|k| !known.contains(&k.as_str())) {
        Some(key) => Err(fields.error(key, FieldProblem::UnknownKey)),
        None => Ok(()),
    }
}

/// Read the `kpi_last8` means (and medians, when present) of a baseline
/// snapshot, ours or the predecessor's: a POST_SOAK_SNAPSHOT.json of schema
/// 1.1 with no key a snapshot does not have, ratios within 0–1 and a
/// latency not below 0 (errors name the file and the key).
pub fn read_baseline(file: &Path) -> Result<KpiLast8, InputError> {
    let doc = read_document(file, mmsoak_core::input::limits::SMALL_REPORT)?;
    let root = Fields::root(file, &doc)?;
    unknown_key(&root, &SNAPSHOT_KEYS)?;
    if let Some(version) = root.opt_str("schema_version")? {
        if version != SNAPSHOT_SCHEMA_VERSION {
            return Err(root.error(
                "schema_version",
                FieldProblem::Invalid(format!(
                    "is {version:?}; a baseline is a POST_SOAK_SNAPSHOT.json of schema {SNAPSHOT_SCHEMA_VERSION:?}"
                )),
            ));
        }
    }
    let kpis = root.object("kpi_last8")?;
    unknown_key(
        &kpis,
        &[
            "latency_floor_ms",
            "maker_taker_ratio",
            "net_bps",
            "p95_latency_ms",
            "risk_ratio",
        ],
    )?;
    let one = |name: &str| -> Result<crate::snapshot::MeanMedian, InputError> {
        let o = kpis.object(name)?;
        unknown_key(&o, &["mean", "median"])?;
        let mean = o.f64("mean")?;
        let median = o.opt_f64("median")?.unwrap_or(mean);
        let (min, max) = match name {
            "maker_taker_ratio" | "risk_ratio" => (0.0, 1.0),
            "p95_latency_ms" | "latency_floor_ms" => (0.0, f64::INFINITY),
            _ => (f64::NEG_INFINITY, f64::INFINITY),
        };
        for (key, value) in [("mean", mean), ("median", median)] {
            if !(min..=max).contains(&value) {
                return Err(o.error(key, FieldProblem::OutOfRange { value, min, max }));
            }
        }
        Ok(crate::snapshot::MeanMedian { mean, median })
    };
    let latency_floor_ms = match kpis.opt_object("latency_floor_ms")? {
        Some(_) => Some(one("latency_floor_ms")?),
        None => None,
    };
    Ok(KpiLast8 {
        latency_floor_ms,
        maker_taker_ratio: one("maker_taker_ratio")?,
        net_bps: one("net_bps")?,
        p95_latency_ms: one("p95_latency_ms")?,
        risk_ratio: one("risk_ratio")?,
    })
}
