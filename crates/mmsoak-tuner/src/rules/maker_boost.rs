//! `MAKER_BOOST`: too much taking while risk and edge allow quoting wider
//! and slower.

use mmsoak_core::Param::{BaseSpreadBps, MinIntervalMs, ReplaceRatePerMin};
use serde::{Deserialize, Serialize};

use super::{shown, Aim, Direction::Up, Kpi, TunerRule, TuningPolicy};
use crate::policy::{Clause, ClauseOp::{AtLeast, AtMost, Below}, RuleInputs, RuleMove};

/// `[tuner.maker_boost]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MakerBoost {
    /// Whether the rule may fire.
    pub enabled: bool,
    /// Fires when `risk_ratio <= risk_ratio_max` ...
    pub risk_ratio_max: f64,
    /// ... and `maker_taker_ratio < maker_taker_below` ...
    pub maker_taker_below: f64,
    /// ... and `net_bps >= net_bps_min`.
    pub net_bps_min: f64,
    /// Amount added to base_spread_bps.
    pub base_spread_bps_add: f64,
    /// base_spread_bps is not raised above this.
    pub base_spread_bps_cap: Option<f64>,
    /// Factor applied to replace_rate_per_min.
    pub replace_rate_per_min_scale: f64,
    /// replace_rate_per_min is not lowered below this.
    pub replace_rate_per_min_floor: Option<f64>,
    /// Amount added to min_interval_ms.
    pub min_interval_ms_add: f64,
    /// min_interval_ms is not raised above this.
    pub min_interval_ms_cap: Option<f64>,
}

impl Default for MakerBoost {
    fn default() -> Self {
        MakerBoost {
            enabled: true,
            risk_ratio_max: 0.40,
            maker_taker_below: 0.85,
            net_bps_min: 2.7,
            base_spread_bps_add: 0.015,
            base_spread_bps_cap: None,
            replace_rate_per_min_scale: 0.85,
            replace_rate_per_min_floor: None,
            min_interval_ms_add: 25.0,
            min_interval_ms_cap: Some(100.0),
        }
    }
}

impl TunerRule for MakerBoost {
    fn condition(&self, _: &TuningPolicy, k: &RuleInputs) -> Vec<Clause> {
        vec![
            Kpi::RiskRatio.clause(k, AtMost, self.risk_ratio_max),
            Kpi::MakerTakerRatio.clause(k, Below, self.maker_taker_below),
            Kpi::NetBps.clause(k, AtLeast, self.net_bps_min),
        ]
    }

    fn why(&self, _: &TuningPolicy, k: &RuleInputs) -> String {
        format!(
            "risk={} <= {}, maker/taker={} < {}, net_bps={} >= {}",
            shown(k.risk_ratio),
            self.risk_ratio_max,
            shown(k.maker_taker_ratio),
            self.maker_taker_below,
            shown(k.net_bps),
            self.net_bps_min
        )
    }

    fn moves(&self) -> Vec<RuleMove> {
        vec![
            RuleMove::add(BaseSpreadBps, self.base_spread_bps_add, self.base_spread_bps_cap, None),
            RuleMove::scale(
                ReplaceRatePerMin,
                self.replace_rate_per_min_scale,
                None,
                self.replace_rate_per_min_floor,
            ),
            RuleMove::add(MinIntervalMs, self.min_interval_ms_add, self.min_interval_ms_cap, None),
        ]
    }

    /// Wider, slower quotes rest more and take less: the maker share rises
    /// (and a wider spread earns more per fill).
    fn aims(&self) -> Vec<Aim> {
        vec![
            Aim::new(BaseSpreadBps, Kpi::MakerTakerRatio, Up),
            Aim::new(BaseSpreadBps, Kpi::NetBps, Up),
            Aim::new(ReplaceRatePerMin, Kpi::MakerTakerRatio, Up),
            Aim::new(MinIntervalMs, Kpi::MakerTakerRatio, Up),
        ]
    }

    fn thresholds(&self) -> Vec<(&'static str, f64)> {
        vec![
            ("risk_ratio_max", self.risk_ratio_max),
            ("maker_taker_below", self.maker_taker_below),
            ("net_bps_min", self.net_bps_min),
        ]
    }
}
