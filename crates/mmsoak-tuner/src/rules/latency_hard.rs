//! `LATENCY_HARD`: p95 latency above the soft band; fewer orders in flight,
//! quotes kept longer, more strongly.

use mmsoak_core::Param::{ConcurrencyLimit, TailAgeMs};
use serde::{Deserialize, Serialize};

use super::{shown, Aim, Decision, Direction::Down, Exclusive, Kpi, RuleMemory, TunerRule, TuningPolicy};
use crate::policy::{Clause, ClauseOp::Above, RuleInputs, RuleMove};

/// `[tuner.latency_hard]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LatencyHard {
    /// Whether the rule may fire.
    pub enabled: bool,
    /// Fires when `p95_latency_ms > p95_latency_ms_above`.
    pub p95_latency_ms_above: f64,
    /// Factor applied to concurrency_limit (rounded; a limit that would not move is left alone).
    pub concurrency_limit_scale: f64,
    /// concurrency_limit is not lowered below this.
    pub concurrency_limit_floor: Option<f64>,
    /// Amount added to tail_age_ms.
    pub tail_age_ms_add: f64,
    /// tail_age_ms is not raised above this.
    pub tail_age_ms_cap: Option<f64>,
}

impl Default for LatencyHard {
    fn default() -> Self {
        LatencyHard {
            enabled: true,
            p95_latency_ms_above: 360.0,
            concurrency_limit_scale: 0.85,
            concurrency_limit_floor: None,
            tail_age_ms_add: 75.0,
            tail_age_ms_cap: Some(800.0),
        }
    }
}

impl TunerRule for LatencyHard {
    fn exclusive(&self) -> Option<Exclusive> {
        Some(Exclusive::LatencyBand)
    }

    fn condition(&self, _: &TuningPolicy, k: &RuleInputs) -> Vec<Clause> {
        vec![Kpi::P95LatencyMs.clause(k, Above, self.p95_latency_ms_above)]
    }

    fn why(&self, _: &TuningPolicy, k: &RuleInputs) -> String {
        format!(
            "p95_latency_ms={} > {}",
            shown(k.p95_latency_ms),
            self.p95_latency_ms_above
        )
    }

    fn moves(&self) -> Vec<RuleMove> {
        vec![
            RuleMove::scale(
                ConcurrencyLimit,
                self.concurrency_limit_scale,
                None,
                self.concurrency_limit_floor,
            ),
            RuleMove::add(TailAgeMs, self.tail_age_ms_add, self.tail_age_ms_cap, None),
        ]
    }

    fn aims(&self) -> Vec<Aim> {
        vec![
            Aim::new(ConcurrencyLimit, Kpi::P95LatencyMs, Down),
            Aim::new(TailAgeMs, Kpi::P95LatencyMs, Down),
        ]
    }

    fn thresholds(&self) -> Vec<(&'static str, f64)> {
        vec![("p95_latency_ms_above", self.p95_latency_ms_above)]
    }

    /// Stands down when the latency floor alone is in the latency band.
    fn decide(&self, policy: &TuningPolicy, k: &RuleInputs, _: &RuleMemory) -> Decision {
        super::decide_latency(self, policy, k)
    }
}
