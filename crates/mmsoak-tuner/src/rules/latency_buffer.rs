//! `LATENCY_BUFFER`: p95 latency in the soft band; fewer orders in flight,
//! quotes kept longer.

use mmsoak_core::Param::{ConcurrencyLimit, TailAgeMs};
use serde::{Deserialize, Serialize};

use super::{shown, Aim, Decision, Direction::Down, Exclusive, Kpi, RuleMemory, TunerRule, TuningPolicy};
use crate::policy::{Clause, ClauseOp::{AtLeast, AtMost}, RuleInputs, RuleMove};

/// `[tuner.latency_buffer]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LatencyBuffer {
    /// Whether the rule may fire.
    pub enabled: bool,
    /// Fires when `p95_latency_ms_min <= p95_latency_ms` ...
    pub p95_latency_ms_min: f64,
    /// ... `<= p95_latency_ms_max` (both inclusive).
    pub p95_latency_ms_max: f64,
    /// Factor applied to concurrency_limit (rounded; a limit that would not move is left alone).
    pub concurrency_limit_scale: f64,
    /// concurrency_limit is not lowered below this.
    pub concurrency_limit_floor: Option<f64>,
    /// Amount added to tail_age_ms.
    pub tail_age_ms_add: f64,
    /// tail_age_ms is not raised above this.
    pub tail_age_ms_cap: Option<f64>,
}

impl Default for LatencyBuffer {
    fn default() -> Self {
        LatencyBuffer {
            enabled: true,
            p95_latency_ms_min: 330.0,
            p95_latency_ms_max: 360.0,
            concurrency_limit_scale: 0.90,
            concurrency_limit_floor: None,
            tail_age_ms_add: 50.0,
            tail_age_ms_cap: Some(800.0),
        }
    }
}

impl TunerRule for LatencyBuffer {
    fn exclusive(&self) -> Option<Exclusive> {
        Some(Exclusive::LatencyBand)
    }

    fn condition(&self, _: &TuningPolicy, k: &RuleInputs) -> Vec<Clause> {
        vec![
            Kpi::P95LatencyMs.clause(k, AtLeast, self.p95_latency_ms_min),
            Kpi::P95LatencyMs.clause(k, AtMost, self.p95_latency_ms_max),
        ]
    }

    fn why(&self, _: &TuningPolicy, k: &RuleInputs) -> String {
        format!(
            "{} <= p95_latency_ms={} <= {}",
            self.p95_latency_ms_min,
            shown(k.p95_latency_ms),
            self.p95_latency_ms_max
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
        vec![
            ("p95_latency_ms_min", self.p95_latency_ms_min),
            ("p95_latency_ms_max", self.p95_latency_ms_max),
        ]
    }

    /// Stands down when the latency floor alone is in the latency band.
    fn decide(&self, policy: &TuningPolicy, k: &RuleInputs, _: &RuleMemory) -> Decision {
        super::decide_latency(self, policy, k)
    }
}
