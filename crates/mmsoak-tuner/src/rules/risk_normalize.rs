//! `RISK_NORMALIZE`: low risk and a healthy edge; requote faster, larger
//! orders again.

use mmsoak_core::Param::{ImpactCapRatio, MinIntervalMs};
use serde::{Deserialize, Serialize};

use super::{shown, Aim, Direction::Up, Exclusive, Kpi, TunerRule, TuningPolicy};
use crate::policy::{Clause, ClauseOp::{AtLeast, Below}, RuleInputs, RuleMove};

/// `[tuner.risk_normalize]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiskNormalize {
    /// Whether the rule may fire.
    pub enabled: bool,
    /// Fires when `risk_ratio < risk_ratio_below` ...
    pub risk_ratio_below: f64,
    /// ... and `net_bps >= net_bps_min`.
    pub net_bps_min: f64,
    /// Amount added to min_interval_ms (negative: faster requotes).
    pub min_interval_ms_add: f64,
    /// min_interval_ms is not lowered below this.
    pub min_interval_ms_floor: Option<f64>,
    /// Amount added to impact_cap_ratio.
    pub impact_cap_ratio_add: f64,
    /// impact_cap_ratio is not raised above this.
    pub impact_cap_ratio_cap: Option<f64>,
}

impl Default for RiskNormalize {
    fn default() -> Self {
        RiskNormalize {
            enabled: true,
            risk_ratio_below: 0.35,
            net_bps_min: 3.0,
            min_interval_ms_add: -3.0,
            min_interval_ms_floor: Some(50.0),
            impact_cap_ratio_add: 0.005,
            impact_cap_ratio_cap: Some(0.10),
        }
    }
}

impl TunerRule for RiskNormalize {
    fn exclusive(&self) -> Option<Exclusive> {
        Some(Exclusive::RiskZone)
    }

    fn condition(&self, policy: &TuningPolicy, k: &RuleInputs) -> Vec<Clause> {
        // Below the moderate zone too, whatever `risk_ratio_below` says.
        let below = self.risk_ratio_below.min(policy.risk_moderate.risk_ratio_min);
        vec![
            Kpi::RiskRatio.clause(k, Below, below),
            Kpi::NetBps.clause(k, AtLeast, self.net_bps_min),
        ]
    }

    fn why(&self, _: &TuningPolicy, k: &RuleInputs) -> String {
        format!(
            "risk={} < {}, net_bps={} >= {}",
            shown(k.risk_ratio),
            self.risk_ratio_below,
            shown(k.net_bps),
            self.net_bps_min
        )
    }

    fn moves(&self) -> Vec<RuleMove> {
        vec![
            RuleMove::add(MinIntervalMs, self.min_interval_ms_add, None, self.min_interval_ms_floor),
            RuleMove::add(ImpactCapRatio, self.impact_cap_ratio_add, self.impact_cap_ratio_cap, None),
        ]
    }

    /// Risk is low: the throttles of the risk zones are given back, for
    /// the fills (the maker share) they cost.
    fn aims(&self) -> Vec<Aim> {
        vec![
            Aim::new(MinIntervalMs, Kpi::MakerTakerRatio, Up),
            Aim::new(ImpactCapRatio, Kpi::MakerTakerRatio, Up),
        ]
    }

    fn thresholds(&self) -> Vec<(&'static str, f64)> {
        vec![
            ("risk_ratio_below", self.risk_ratio_below),
            ("net_bps_min", self.net_bps_min),
        ]
    }
}
