//! `RISK_AGGRESSIVE`: risk_ratio at or above a threshold; slow down,
//! smaller orders, older quotes.

use mmsoak_core::Param::{ImpactCapRatio, MinIntervalMs, TailAgeMs};
use serde::{Deserialize, Serialize};

use super::{shown, Aim, Direction::Down, Exclusive, Kpi, TunerRule, TuningPolicy};
use crate::policy::{Clause, ClauseOp::AtLeast, RuleInputs, RuleMove};

/// `[tuner.risk_aggressive]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiskAggressive {
    /// Whether the rule may fire.
    pub enabled: bool,
    /// Fires when `risk_ratio >= risk_ratio_min`.
    pub risk_ratio_min: f64,
    /// Amount added to min_interval_ms.
    pub min_interval_ms_add: f64,
    /// min_interval_ms is not raised above this.
    pub min_interval_ms_cap: Option<f64>,
    /// Amount added to impact_cap_ratio (negative: lowered).
    pub impact_cap_ratio_add: f64,
    /// impact_cap_ratio is not lowered below this.
    pub impact_cap_ratio_floor: Option<f64>,
    /// Amount added to tail_age_ms.
    pub tail_age_ms_add: f64,
    /// tail_age_ms is not raised above this.
    pub tail_age_ms_cap: Option<f64>,
}

impl Default for RiskAggressive {
    fn default() -> Self {
        RiskAggressive {
            enabled: true,
            risk_ratio_min: 0.60,
            min_interval_ms_add: 5.0,
            min_interval_ms_cap: Some(80.0),
            impact_cap_ratio_add: -0.01,
            impact_cap_ratio_floor: Some(0.08),
            tail_age_ms_add: 30.0,
            tail_age_ms_cap: Some(800.0),
        }
    }
}

impl TunerRule for RiskAggressive {
    fn exclusive(&self) -> Option<Exclusive> {
        Some(Exclusive::RiskZone)
    }

    fn condition(&self, _: &TuningPolicy, k: &RuleInputs) -> Vec<Clause> {
        vec![Kpi::RiskRatio.clause(k, AtLeast, self.risk_ratio_min)]
    }

    fn why(&self, _: &TuningPolicy, k: &RuleInputs) -> String {
        format!("risk={} >= {}", shown(k.risk_ratio), self.risk_ratio_min)
    }

    fn moves(&self) -> Vec<RuleMove> {
        vec![
            RuleMove::add(MinIntervalMs, self.min_interval_ms_add, self.min_interval_ms_cap, None),
            RuleMove::add(ImpactCapRatio, self.impact_cap_ratio_add, None, self.impact_cap_ratio_floor),
            RuleMove::add(TailAgeMs, self.tail_age_ms_add, self.tail_age_ms_cap, None),
        ]
    }

    fn aims(&self) -> Vec<Aim> {
        vec![
            Aim::new(MinIntervalMs, Kpi::RiskRatio, Down),
            Aim::new(ImpactCapRatio, Kpi::RiskRatio, Down),
            Aim::new(TailAgeMs, Kpi::RiskRatio, Down),
        ]
    }

    fn thresholds(&self) -> Vec<(&'static str, f64)> {
        vec![("risk_ratio_min", self.risk_ratio_min)]
    }
}
