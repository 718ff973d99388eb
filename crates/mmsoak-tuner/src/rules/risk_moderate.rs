//! `RISK_MODERATE`: risk_ratio at or above a lower threshold (below the
//! aggressive one); slow down a little, smaller orders.

use mmsoak_core::Param::{ImpactCapRatio, MinIntervalMs};
use serde::{Deserialize, Serialize};

use super::{shown, Aim, Direction::Down, Exclusive, Kpi, TunerRule, TuningPolicy};
use crate::policy::{Clause, ClauseOp::{AtLeast, Below}, RuleInputs, RuleMove};

/// `[tuner.risk_moderate]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiskModerate {
    /// Whether the rule may fire.
    pub enabled: bool,
    /// Fires when `risk_ratio >= risk_ratio_min` (and below the aggressive threshold).
    pub risk_ratio_min: f64,
    /// Amount added to min_interval_ms.
    pub min_interval_ms_add: f64,
    /// min_interval_ms is not raised above this.
    pub min_interval_ms_cap: Option<f64>,
    /// Amount added to impact_cap_ratio (negative: lowered).
    pub impact_cap_ratio_add: f64,
    /// impact_cap_ratio is not lowered below this.
    pub impact_cap_ratio_floor: Option<f64>,
}

impl Default for RiskModerate {
    fn default() -> Self {
        RiskModerate {
            enabled: true,
            risk_ratio_min: 0.40,
            min_interval_ms_add: 5.0,
            min_interval_ms_cap: Some(75.0),
            impact_cap_ratio_add: -0.005,
            impact_cap_ratio_floor: Some(0.09),
        }
    }
}

impl TunerRule for RiskModerate {
    fn exclusive(&self) -> Option<Exclusive> {
        Some(Exclusive::RiskZone)
    }

    fn condition(&self, policy: &TuningPolicy, k: &RuleInputs) -> Vec<Clause> {
        vec![
            Kpi::RiskRatio.clause(k, AtLeast, self.risk_ratio_min),
            Kpi::RiskRatio.clause(k, Below, policy.risk_aggressive.risk_ratio_min),
        ]
    }

    fn why(&self, policy: &TuningPolicy, k: &RuleInputs) -> String {
        format!(
            "{} <= risk={} < {}",
            self.risk_ratio_min,
            shown(k.risk_ratio),
            policy.risk_aggressive.risk_ratio_min
        )
    }

    fn moves(&self) -> Vec<RuleMove> {
        vec![
            RuleMove::add(MinIntervalMs, self.min_interval_ms_add, self.min_interval_ms_cap, None),
            RuleMove::add(ImpactCapRatio, self.impact_cap_ratio_add, None, self.impact_cap_ratio_floor),
        ]
    }

    fn aims(&self) -> Vec<Aim> {
        vec![
            Aim::new(MinIntervalMs, Kpi::RiskRatio, Down),
            Aim::new(ImpactCapRatio, Kpi::RiskRatio, Down),
        ]
    }

    fn thresholds(&self) -> Vec<(&'static str, f64)> {
        vec![("risk_ratio_min", self.risk_ratio_min)]
    }
}
