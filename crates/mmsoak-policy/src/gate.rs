//! Thresholds of the snapshot and the gate (the `[gate]` table of a soak policy).

use serde::{Deserialize, Serialize};

/// Thresholds of the post-soak snapshot. Every comparison is inclusive as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SnapshotPolicy {
    /// How many trailing iterations the snapshot looks at (the `last8` in key names).
    pub window: usize,
    /// An iteration passes with risk_ratio <= this ...
    pub pass_risk_ratio_max: f64,
    /// ... maker_taker_ratio >= this ...
    pub pass_maker_taker_ratio_min: f64,
    /// ... net_bps >= this ...
    pub pass_net_bps_min: f64,
    /// ... and p95_latency_ms <= this.
    pub pass_p95_latency_ms_max: f64,
    /// Anomaly: p95_latency_ms above this.
    pub anomaly_p95_latency_ms_above: f64,
    /// Anomaly: risk_ratio rose by more than this since the previous iteration.
    pub anomaly_risk_jump_above: f64,
    /// Anomaly: maker_taker_ratio below this.
    pub anomaly_maker_taker_ratio_below: f64,
    /// Verdict PASS needs at least this many passing iterations (and a freeze seen).
    pub verdict_pass_min_passes: u64,
    /// Verdict WARN needs at least this many passing iterations.
    pub verdict_warn_min_passes: u64,
}

impl Default for SnapshotPolicy {
    fn default() -> Self {
        SnapshotPolicy {
            window: 8,
            pass_risk_ratio_max: 0.42,
            pass_maker_taker_ratio_min: 0.85,
            pass_net_bps_min: 2.7,
            pass_p95_latency_ms_max: 350.0,
            anomaly_p95_latency_ms_above: 400.0,
            anomaly_risk_jump_above: 0.15,
            anomaly_maker_taker_ratio_below: 0.75,
            verdict_pass_min_passes: 6,
            verdict_warn_min_passes: 5,
        }
    }
}

/// Thresholds of the release gate. Every comparison is inclusive as written.
///
/// ```
/// let p: mmsoak_policy::GatePolicy = toml::from_str("net_bps_mean_min = 3.0\n[snapshot]\nwindow = 12").unwrap();
/// assert_eq!((p.net_bps_mean_min, p.snapshot.window, p.risk_ratio_mean_max), (3.0, 12, 0.42));
/// assert!(toml::from_str::<mmsoak_policy::GatePolicy>("net_bps_min = 3.0").is_err()); // unknown key
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GatePolicy {
    /// Mean maker_taker_ratio over the window >= this.
    pub maker_taker_ratio_mean_min: f64,
    /// Mean risk_ratio over the window <= this.
    pub risk_ratio_mean_max: f64,
    /// Mean net_bps over the window >= this.
    pub net_bps_mean_min: f64,
    /// Mean p95_latency_ms over the window <= this.
    pub p95_latency_ms_mean_max: f64,
    /// pass_count_last8 >= this.
    pub pass_count_min: u64,
    /// full_apply_ratio >= this (without `--strict`).
    pub full_apply_ratio_min: f64,
    /// full_apply_ratio >= this (with `--strict`).
    pub full_apply_ratio_min_strict: f64,
    /// signature_stuck_count <= this.
    pub signature_stuck_max: u64,
    /// fail_count <= this.
    pub fail_count_max: u64,
    /// Breaks in the APPLY_JOURNAL hash chain <= this.
    pub journal_chain_breaks_max: u64,
    /// Window iterations with a KPI missing or null (no fill: no net edge) <= this.
    pub incomplete_iterations_max: u64,
    /// The snapshot's thresholds.
    pub snapshot: SnapshotPolicy,
}

/// A gate policy value that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("`gate.{key}` {problem}")]
pub struct GatePolicyError {
    /// The key, below `gate.` (e.g. `snapshot.window`).
    pub key: String,
    /// What is wrong with its value.
    pub problem: String,
}

impl GatePolicy {
    /// Check what serde cannot: every threshold is a finite number (a NaN
    /// would make its criterion fail, or pass, whatever the soak did) and
    /// the snapshot window holds at least one iteration.
    ///
    /// ```
    /// let p: mmsoak_policy::GatePolicy = toml::from_str("net_bps_mean_min = nan").unwrap();
    /// assert_eq!(p.validate().unwrap_err().to_string(), "`gate.net_bps_mean_min` is NaN, not a finite number");
    /// assert!(mmsoak_policy::GatePolicy::default().validate().is_ok());
    /// ```
    pub fn validate(&self) -> Result<(), GatePolicyError> {
        let s = &self.snapshot;
        let numbers = [
            (
                "maker_taker_ratio_mean_min",
                self.maker_taker_ratio_mean_min,
            ),
            ("risk_ratio_mean_max", self.risk_ratio_mean_max),
            ("net_bps_mean_min", self.net_bps_mean_min),
            ("p95_latency_ms_mean_max", self.p95_latency_ms_mean_max),
            ("full_apply_ratio_min", self.full_apply_ratio_min),
            (
                "full_apply_ratio_min_strict",
                self.full_apply_ratio_min_strict,
            ),
            ("snapshot.pass_risk_ratio_max", s.pass_risk_ratio_max),
            (
                "snapshot.pass_maker_taker_ratio_min",
                s.pass_maker_taker_ratio_min,
            ),
            ("snapshot.pass_net_bps_min", s.pass_net_bps_min),
            (
                "snapshot.pass_p95_latency_ms_max",
                s.pass_p95_latency_ms_max,
            ),
            (
                "snapshot.anomaly_p95_latency_ms_above",
                s.anomaly_p95_latency_ms_above,
            ),
            (
                "snapshot.anomaly_risk_jump_above",
                s.anomaly_risk_jump_above,
            ),
            (
                "snapshot.anomaly_maker_taker_ratio_below",
                s.anomaly_maker_taker_ratio_below,
            ),
        ];
        for (key, v) in numbers {
            if !v.is_finite() {
                return Err(GatePolicyError {
                    key: key.to_owned(),
                    problem: format!("is {v}, not a finite number"),
                });
            }
        }
        if s.window == 0 {
            return Err(GatePolicyError {
                key: "snapshot.window".to_owned(),
                problem: "is 0; the snapshot needs at least 1 iteration".to_owned(),
            });
        }
        Ok(())
    }
}

impl Default for GatePolicy {
    fn default() -> Self {
        GatePolicy {
            maker_taker_ratio_mean_min: 0.85,
            risk_ratio_mean_max: 0.42,
            net_bps_mean_min: 2.7,
            p95_latency_ms_mean_max: 340.0,
            pass_count_min: 6,
            full_apply_ratio_min: 0.90,
            full_apply_ratio_min_strict: 0.95,
            signature_stuck_max: 1,
            fail_count_max: 0,
            journal_chain_breaks_max: 0,
            incomplete_iterations_max: 0,
            snapshot: SnapshotPolicy::default(),
        }
    }
}
