//! The tuning proposer of mmsoak: one iteration's KPIs and the current
//! parameters in, a small, bounded, explained list of delta operations out.
//!
//! * [`propose`]: the pure rule engine (no I/O, no clock, no randomness).
//! * [`Proposal`]: the [`Operation`]s (each a [`mmsoak_core::DeltaOp`] with
//!   `from`, `to` and its [`Rule`]), the legacy `deltas` map, the
//!   [`Marker`]s in `rules_fired`, a rationale sentence per rule, the
//!   [`Conditions`] looked at and the [`TunerMemory`] for the next call.
//! * [`TuningPolicy`]: every threshold, amount, factor, cap and floor, from
//!   the `[tuner]` table of a TOML policy file (see `docs/policy.md`).
//!
//! Marker events are also emitted as `tracing::info!` events with a
//! `marker` field (`RISK_AGGRESSIVE`, `MAKER_BOOST`, `LATENCY_HARD`,
//! `DRIVER`, `FALLBACK_CONSERVATIVE`, `GUARD`, `STABLE`, ...).
//! Nothing is written and nothing is applied here: the apply pipeline does that.
//!
//! ```
//! use mmsoak_core::{IterationKpis, ParamRegistry, RuntimeOverrides};
//! use mmsoak_tuner::{propose, TunerMemory, TuningPolicy};
//!
//! let kpis: IterationKpis = serde_json::from_str(r#"{
//!     "maker_taker_ratio": 0.72, "maker_taker_source": "fills_volume", "risk_ratio": 0.30,
//!     "net_bps": 2.9, "p95_latency_ms": 250.0, "adverse_bps_p95": 2.0, "slippage_bps_p95": 1.5,
//!     "min_interval_ratio": 0.0, "concurrency_ratio": 0.0, "neg_edge_drivers": []
//! }"#)?;
//! let overrides = RuntimeOverrides::parse(br#"{"engine": {"min_interval_ms": 60}}"#, "runtime_overrides.json".as_ref())?;
//! let proposal = propose(&kpis, &overrides, &ParamRegistry::default(), &TuningPolicy::default(), &TunerMemory::default())?;
//!
//! assert_eq!(proposal.rules_fired.iter().map(|m| m.name()).collect::<Vec<_>>(), ["MAKER_BOOST"]);
//! let moves: Vec<(String, f64, f64)> =
//!     proposal.operations.iter().map(|o| (o.op.param.to_string(), o.from, o.to)).collect();
//! assert_eq!(moves, [
//!     ("base_spread_bps".to_owned(), 0.12, 0.135),
//!     ("replace_rate_per_min".to_owned(), 300.0, 255.0),
//!     ("min_interval_ms".to_owned(), 60.0, 85.0),
//! ]);
//! assert!(proposal.rationale.starts_with("MAKER_BOOST: risk=0.3 <= 0.4, maker/taker=0.72 < 0.85"));
//! let json = serde_json::to_value(&proposal)?;
//! assert_eq!(json["operations"][2], serde_json::json!(
//!     {"param": "min_interval_ms", "op": "add", "value": 25.0, "from": 60.0, "to": 85.0, "clamped": false, "rule": "MAKER_BOOST"}));
//! assert_eq!(json["deltas"]["min_interval_ms"], 25.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod policy;
mod propose;
mod rule;
pub mod rules;

pub use policy::{
    Clause, ClauseOp, ConflictGuard, InvalidPolicy, PolicyError, RuleInputs, RuleMove,
    POLICY_TABLES,
};
pub use propose::{propose, Conditions, Operation, Proposal, TunerError, TunerMemory};
pub use rule::{Marker, Rule, UnknownMarker};
pub use rules::{
    Aim, Decision, Direction, DriverAdverse, DriverSlippage, Exclusive, FallbackConservative, Kpi,
    LatencyBuffer, LatencyHard, MakerBoost, RiskAggressive, RiskModerate, RiskNormalize,
    RuleMemory, RuleTable, TunerRule, TuningPolicy,
};
