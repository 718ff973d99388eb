//! `DRIVER_ADVERSE`: adverse selection drives the edge down; smaller
//! orders, a smaller inventory.

use mmsoak_core::Param::{ImpactCapRatio, MaxDeltaRatio};
use serde::{Deserialize, Serialize};

use super::{shown, Aim, Direction::{Down, Up}, Kpi, TunerRule, TuningPolicy};
use crate::policy::{Clause, ClauseOp::Above, RuleInputs, RuleMove};

/// `[tuner.driver_adverse]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DriverAdverse {
    /// Whether the rule may fire.
    pub enabled: bool,
    /// Fires when `adverse_bps_p95 > adverse_bps_p95_above`.
    pub adverse_bps_p95_above: f64,
    /// Amount added to impact_cap_ratio (negative: lowered).
    pub impact_cap_ratio_add: f64,
    /// impact_cap_ratio is not lowered below this.
    pub impact_cap_ratio_floor: Option<f64>,
    /// Amount added to max_delta_ratio (negative: lowered).
    pub max_delta_ratio_add: f64,
    /// max_delta_ratio is not lowered below this.
    pub max_delta_ratio_floor: Option<f64>,
}

impl Default for DriverAdverse {
    fn default() -> Self {
        DriverAdverse {
            enabled: true,
            adverse_bps_p95_above: 3.5,
            impact_cap_ratio_add: -0.01,
            impact_cap_ratio_floor: Some(0.08),
            max_delta_ratio_add: -0.01,
            max_delta_ratio_floor: Some(0.10),
        }
    }
}

impl TunerRule for DriverAdverse {
    fn condition(&self, _: &TuningPolicy, k: &RuleInputs) -> Vec<Clause> {
        vec![Kpi::AdverseBpsP95.clause(k, Above, self.adverse_bps_p95_above)]
    }

    fn why(&self, _: &TuningPolicy, k: &RuleInputs) -> String {
        format!(
            "adverse_bps_p95={} > {}",
            shown(k.adverse_bps_p95),
            self.adverse_bps_p95_above
        )
    }

    fn moves(&self) -> Vec<RuleMove> {
        vec![
            RuleMove::add(ImpactCapRatio, self.impact_cap_ratio_add, None, self.impact_cap_ratio_floor),
            RuleMove::add(MaxDeltaRatio, self.max_delta_ratio_add, None, self.max_delta_ratio_floor),
        ]
    }

    /// Smaller orders and inventory are picked off less: less adverse
    /// selection, more net edge.
    fn aims(&self) -> Vec<Aim> {
        vec![
            Aim::new(ImpactCapRatio, Kpi::AdverseBpsP95, Down),
            Aim::new(ImpactCapRatio, Kpi::NetBps, Up),
            Aim::new(MaxDeltaRatio, Kpi::AdverseBpsP95, Down),
            Aim::new(MaxDeltaRatio, Kpi::NetBps, Up),
        ]
    }

    fn thresholds(&self) -> Vec<(&'static str, f64)> {
        vec![("adverse_bps_p95_above", self.adverse_bps_p95_above)]
    }
}
