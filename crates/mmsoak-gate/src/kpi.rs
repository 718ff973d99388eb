//! The four KPIs the gate judges over the window, each with its
//! per-iteration pass threshold and its criterion.

use crate::gate::CriterionId;
use mmsoak_policy::SnapshotPolicy;

/// A KPI the gate judges: a mean over the window against a target
/// ([`GatedKpi::criterion`]), and each iteration against its pass threshold
/// ([`GatedKpi::meets`]), the one rule the snapshot's pass count, the
/// report's rows and its chart dots share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GatedKpi {
    /// `maker_taker_ratio`.
    MakerTaker,
    /// `risk_ratio`.
    Risk,
    /// `net_bps`.
    NetBps,
    /// `p95_latency_ms`.
    P95Latency,
}

impl GatedKpi {
    /// Every gated KPI, in the report's order.
    pub const ALL: [GatedKpi; 4] = [
        GatedKpi::MakerTaker,
        GatedKpi::Risk,
        GatedKpi::NetBps,
        GatedKpi::P95Latency,
    ];
    /// The order in which an iteration's pass is checked.
    pub const PASS_ORDER: [GatedKpi; 4] = [
        GatedKpi::Risk,
        GatedKpi::MakerTaker,
        GatedKpi::NetBps,
        GatedKpi::P95Latency,
    ];

    /// The KPI's key in an iteration summary, e.g. `"net_bps"`.
    pub const fn key(self) -> &'static str {
        match self {
            GatedKpi::MakerTaker => "maker_taker_ratio",
            GatedKpi::Risk => "risk_ratio",
            GatedKpi::NetBps => "net_bps",
            GatedKpi::P95Latency => "p95_latency_ms",
        }
    }

    /// Whether an iteration's value `v` meets the pass threshold of `p`.
    ///
    /// ```
    /// use mmsoak_gate::{GatedKpi, SnapshotPolicy};
    /// let p = SnapshotPolicy::default();
    /// assert!(GatedKpi::NetBps.meets(p.pass_net_bps_min, &p));
    /// assert!(!GatedKpi::P95Latency.meets(p.pass_p95_latency_ms_max + 1.0, &p));
    /// ```
    pub fn meets(self, v: f64, p: &SnapshotPolicy) -> bool {
        match self {
            GatedKpi::MakerTaker => v >= p.pass_maker_taker_ratio_min,
            GatedKpi::Risk => v <= p.pass_risk_ratio_max,
            GatedKpi::NetBps => v >= p.pass_net_bps_min,
            GatedKpi::P95Latency => v <= p.pass_p95_latency_ms_max,
        }
    }

    /// The criterion on its mean over the window.
    pub const fn criterion(self) -> CriterionId {
        match self {
            GatedKpi::MakerTaker => CriterionId::MakerTakerRatioMean,
            GatedKpi::Risk => CriterionId::RiskRatioMean,
            GatedKpi::NetBps => CriterionId::NetBpsMean,
            GatedKpi::P95Latency => CriterionId::P95LatencyMsMean,
        }
    }
}
