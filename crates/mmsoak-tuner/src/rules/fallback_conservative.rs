//! `FALLBACK_CONSERVATIVE`: negative edge in consecutive iterations; slow
//! down, requote less, widen. The one rule with memory: a streak of
//! negative iterations and a cooldown after it fires.

use mmsoak_core::Param::{BaseSpreadBpsDelta, MinIntervalMs, ReplaceRatePerMin};
use serde::{Deserialize, Serialize};

use super::{
    holds, shown, Aim, Decision, Direction::Up, Kpi, RuleMemory, TunerRule, TuningPolicy,
};
use crate::policy::{Clause, ClauseOp::Below, RuleInputs, RuleMove};

/// `[tuner.fallback_conservative]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FallbackConservative {
    /// Whether the rule may fire.
    pub enabled: bool,
    /// An iteration counts as negative when `net_bps < net_bps_below`.
    pub net_bps_below: f64,
    /// Fires when this many consecutive iterations (this one included) were negative ...
    pub consecutive_iterations: u32,
    /// ... and it did not fire in any of the last `cooldown_iterations` iterations.
    pub cooldown_iterations: u32,
    /// Amount added to min_interval_ms.
    pub min_interval_ms_add: f64,
    /// min_interval_ms is not raised above this.
    pub min_interval_ms_cap: Option<f64>,
    /// Amount added to replace_rate_per_min (negative: lowered).
    pub replace_rate_per_min_add: f64,
    /// replace_rate_per_min is not lowered below this.
    pub replace_rate_per_min_floor: Option<f64>,
    /// Amount added to base_spread_bps_delta.
    pub base_spread_bps_delta_add: f64,
    /// base_spread_bps_delta is not raised above this.
    pub base_spread_bps_delta_cap: Option<f64>,
}

impl Default for FallbackConservative {
    fn default() -> Self {
        FallbackConservative {
            enabled: true,
            net_bps_below: 0.0,
            consecutive_iterations: 2,
            cooldown_iterations: 1,
            min_interval_ms_add: 20.0,
            min_interval_ms_cap: Some(100.0),
            replace_rate_per_min_add: -60.0,
            replace_rate_per_min_floor: Some(150.0),
            base_spread_bps_delta_add: 0.02,
            base_spread_bps_delta_cap: None,
        }
    }
}

impl TunerRule for FallbackConservative {
    /// "This iteration is negative"; the streak and the cooldown are the
    /// tuner's memory ([`TunerRule::decide`]).
    fn condition(&self, _: &TuningPolicy, k: &RuleInputs) -> Vec<Clause> {
        vec![Kpi::NetBps.clause(k, Below, self.net_bps_below)]
    }

    fn why(&self, _: &TuningPolicy, k: &RuleInputs) -> String {
        format!("net_bps={} < {}", shown(k.net_bps), self.net_bps_below)
    }

    fn moves(&self) -> Vec<RuleMove> {
        vec![
            RuleMove::add(MinIntervalMs, self.min_interval_ms_add, self.min_interval_ms_cap, None),
            RuleMove::add(
                ReplaceRatePerMin,
                self.replace_rate_per_min_add,
                None,
                self.replace_rate_per_min_floor,
            ),
            RuleMove::add(
                BaseSpreadBpsDelta,
                self.base_spread_bps_delta_add,
                self.base_spread_bps_delta_cap,
                None,
            ),
        ]
    }

    /// Trading less often and wider stops the losing: the net edge rises.
    fn aims(&self) -> Vec<Aim> {
        vec![
            Aim::new(MinIntervalMs, Kpi::NetBps, Up),
            Aim::new(ReplaceRatePerMin, Kpi::NetBps, Up),
            Aim::new(BaseSpreadBpsDelta, Kpi::NetBps, Up),
        ]
    }

    fn thresholds(&self) -> Vec<(&'static str, f64)> {
        vec![("net_bps_below", self.net_bps_below)]
    }

    /// Fires when this iteration completes a streak of
    /// `consecutive_iterations` negative ones and it did not fire within
    /// the last `cooldown_iterations`; held back (with a note) in the
    /// cooldown.
    fn decide(&self, policy: &TuningPolicy, k: &RuleInputs, memory: &RuleMemory) -> Decision {
        let negative = holds(&self.condition(policy, k)) == Some(true);
        let streak = memory.negative_streak;
        if !(self.enabled && negative && streak >= self.consecutive_iterations) {
            return Decision::Silent;
        }
        let net = shown(k.net_bps);
        if memory.fallback_cooldown == 0 {
            Decision::Fire {
                why: format!(
                    "net_bps={net} < {} in {streak} consecutive iterations",
                    self.net_bps_below
                ),
                cooldown: Some(self.cooldown_iterations),
            }
        } else {
            Decision::HoldBack {
                note: format!(
                    "FALLBACK_CONSERVATIVE held back: net_bps={net} < {} in {streak} consecutive \\
                     iterations, but it fired within the last {} iteration(s)",
                    self.net_bps_below, self.cooldown_iterations
                ),
            }
        }
    }
}
