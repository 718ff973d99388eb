//! `DRIVER_SLIPPAGE`: slippage drives the edge down; a wider spread, quotes
//! kept longer.

use mmsoak_core::Param::{BaseSpreadBpsDelta, TailAgeMs};
use serde::{Deserialize, Serialize};

use super::{shown, Aim, Direction::{Down, Up}, Kpi, TunerRule, TuningPolicy};
use crate::policy::{Clause, ClauseOp::Above, RuleInputs, RuleMove};

/// `[tuner.driver_slippage]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DriverSlippage {
    /// Whether the rule may fire.
    pub enabled: bool,
    /// Fires when `slippage_bps_p95 > slippage_bps_p95_above`.
    pub slippage_bps_p95_above: f64,
    /// Amount added to base_spread_bps_delta.
    pub base_spread_bps_delta_add: f64,
    /// base_spread_bps_delta is not raised above this.
    pub base_spread_bps_delta_cap: Option<f64>,
    /// Amount added to tail_age_ms.
    pub tail_age_ms_add: f64,
    /// tail_age_ms is not raised above this.
    pub tail_age_ms_cap: Option<f64>,
}

impl Default for DriverSlippage {
    fn default() -> Self {
        DriverSlippage {
            enabled: true,
            slippage_bps_p95_above: 2.5,
            base_spread_bps_delta_add: 0.02,
            base_spread_bps_delta_cap: Some(0.25),
            tail_age_ms_add: 30.0,
            tail_age_ms_cap: Some(800.0),
        }
    }
}

impl TunerRule for DriverSlippage {
    fn condition(&self, _: &TuningPolicy, k: &RuleInputs) -> Vec<Clause> {
        vec![Kpi::SlippageBpsP95.clause(k, Above, self.slippage_bps_p95_above)]
    }

    fn why(&self, _: &TuningPolicy, k: &RuleInputs) -> String {
        format!(
            "slippage_bps_p95={} > {}",
            shown(k.slippage_bps_p95),
            self.slippage_bps_p95_above
        )
    }

    fn moves(&self) -> Vec<RuleMove> {
        vec![
            RuleMove::add(
                BaseSpreadBpsDelta,
                self.base_spread_bps_delta_add,
                self.base_spread_bps_delta_cap,
                None,
            ),
            RuleMove::add(TailAgeMs, self.tail_age_ms_add, self.tail_age_ms_cap, None),
        ]
    }

    /// Wider quotes that rest longer cross less: less slippage, more net
    /// edge.
    fn aims(&self) -> Vec<Aim> {
        vec![
            Aim::new(BaseSpreadBpsDelta, Kpi::SlippageBpsP95, Down),
            Aim::new(BaseSpreadBpsDelta, Kpi::NetBps, Up),
            Aim::new(TailAgeMs, Kpi::SlippageBpsP95, Down),
        ]
    }

    fn thresholds(&self) -> Vec<(&'static str, f64)> {
        vec![("slippage_bps_p95_above", self.slippage_bps_p95_above)]
    }
}
