//! Synthetic artifact directories in mmsoak's format, for benchmarks and tests.
//!
//! [`write_run`] plays a list of [`IterationPlan`]s the way mmsoak's runner
//! records them: each iteration's `ITER_SUMMARY_{i}.json` carries the runtime
//! overrides in force during it, the tuning step with its operations and
//! hashes; `TUNING_REPORT.json`, `APPLY_JOURNAL.jsonl` and the final
//! `runtime_overrides.json` are written too. Every hash is consistent, so a
//! run written from plans verifies with no failures.

use std::io::Write;
use std::path::Path;

use mmsoak_core::{DeltaOp, Param, ParamRegistry, RuntimeOverrides, StateHash};
use serde_json::{json, Map, Value};

use mmsoak_artifacts::layout::{
    iter_summary_name, ITER_SUMMARY_SCHEMA as MMSOAK_ITER_SUMMARY_SCHEMA,
};

use crate::artifacts::SkipFlags;

/// The four KPIs the snapshot looks at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlanKpis {
    /// Risk-blocked share, 0–1.
    pub risk_ratio: f64,
    /// Maker share, 0–1.
    pub maker_taker_ratio: f64,
    /// Net edge, bps.
    pub net_bps: f64,
    /// p95 latency, ms.
    pub p95_latency_ms: f64,
}

impl PlanKpis {
    /// KPIs that pass every per-iteration threshold comfortably.
    pub const GOOD: PlanKpis = PlanKpis {
        risk_ratio: 0.30,
        maker_taker_ratio: 0.88,
        net_bps: 3.1,
        p95_latency_ms: 250.0,
    };
}

/// What the tuner did in an iteration.
#[derive(Debug, Clone, PartialEq)]
pub enum PlanStep {
    /// Proposed nothing (recorded as a no-op skip with no deltas).
    Nothing,
    /// Proposed these operations and applied them (a no-op skip if they
    /// change nothing; a final_iteration skip in the last iteration).
    Apply(Vec<DeltaOp>),
    /// Proposed these operations, but a guard blocked them.
    Blocked(Vec<DeltaOp>, SkipFlags),
}

/// One iteration of a synthetic run.
#[derive(Debug, Clone, PartialEq)]
pub struct IterationPlan {
    /// KPIs of the iteration.
    pub kpis: PlanKpis,
    /// The tuning step at its end.
    pub step: PlanStep,
    /// Whether the freeze was triggered in this iteration.
    pub freeze_triggered: bool,
}

impl IterationPlan {
    /// An iteration with these KPIs and step, no freeze.
    pub fn new(kpis: PlanKpis, step: PlanStep) -> Self {
        IterationPlan {
            kpis,
            step,
            freeze_triggered: false,
        }
    }
}

/// Deterministic xorshift, so generated runs are reproducible without a dependency.
fn jitter(i: u64, salt: u64) -> f64 {
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 31;
    x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 29;
    (x % 1000) as f64 / 1000.0 // 0.000 ..= 0.999
}

/// `n` iterations of a realistic, healthy run: risk falling from 0.6 to
/// about 0.3, a change applied every other iteration, guard skips and
/// no-ops in between, a freeze three iterations before the end. Its gate
/// verdict is PASS.
pub fn generated_plans(n: u64) -> Vec<IterationPlan> {
    (1..=n)
        .map(|i| {
            let warm = i <= 4;
            let kpis = PlanKpis {
                risk_ratio: if warm {
                    0.62 - 0.06 * i as f64
                } else {
                    0.28 + 0.1 * jitter(i, 1)
                },
                maker_taker_ratio: if warm {
                    0.70 + 0.03 * i as f64
                } else {
                    0.86 + 0.08 * jitter(i, 2)
                },
                net_bps: if warm {
                    1.5 + 0.3 * i as f64
                } else {
                    2.9 + jitter(i, 3)
                },
                p95_latency_ms: 200.0 + 100.0 * jitter(i, 4),
            };
            let set_interval = DeltaOp::new(
                Param::MinIntervalMs,
                mmsoak_core::Delta::Set(50.0 + (i * 7 % 40) as f64),
            );
            let step = match i % 4 {
                1 => PlanStep::Apply(vec![set_interval]),
                2 => PlanStep::Blocked(
                    vec![DeltaOp::new(
                        Param::TailAgeMs,
                        mmsoak_core::Delta::Add(30.0),
                    )],
                    SkipFlags {
                        velocity: true,
                        ..SkipFlags::default()
                    },
                ),
                3 => PlanStep::Apply(vec![
                    DeltaOp::new(
                        Param::ImpactCapRatio,
                        mmsoak_core::Delta::Set(0.08 + 0.001 * (i % 40) as f64),
                    ),
                    DeltaOp::new(
                        Param::ConcurrencyLimit,
                        mmsoak_core::Delta::Set((8 + i % 5) as f64),
                    ),
                ]),
                _ => PlanStep::Nothing,
            };
            let freeze = n >= 3 && i == n - 2;
            let step = if freeze {
                PlanStep::Blocked(
                    vec![set_interval],
                    SkipFlags {
                        freeze: true,
                        ..SkipFlags::default()
                    },
                )
            } else {
                step
            };
            IterationPlan {
                kpis,
                step,
                freeze_triggered: freeze,
            }
        })
        .collect()
}

fn invalid(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string())
}

/// The runtime overrides a generated run starts from: the documented
/// defaults plus per-symbol settings the tuner does not touch (realistic size).
pub fn initial_overrides() -> RuntimeOverrides {
    let mut symbols = Map::new();
    for (k, sym) in [
        "BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "ADAUSDT", "DOGEUSDT", "AVAXUSDT",
    ]
    .into_iter()
    .enumerate()
    {
        symbols.insert(
            sym.to_owned(),
            json!({"enabled": true, "lot_size": 0.001 * (k + 1) as f64, "max_position": 1000 * (k + 1), "venue": "binance-futures"}),
        );
    }
    let doc = json!({
        "engine": {"min_interval_ms": 60, "replace_rate_per_min": 300.0, "tail_age_ms": 600, "concurrency_limit": 10},
        "risk": {"base_spread_bps": 0.12, "base_spread_bps_delta": 0.05, "impact_cap_ratio": 0.1, "max_delta_ratio": 0.15},
        "symbols": symbols,
    });
    // The document is built above from valid values.
    RuntimeOverrides::from_document(Path::new("initial"), doc).unwrap_or_default()
}

fn flags_json(f: SkipFlags, note: &str) -> Value {
    json!({"cooldown": f.cooldown, "velocity": f.velocity, "oscillation": f.oscillation, "freeze": f.freeze,
           "no_op": f.no_op, "final_iteration": f.final_iteration, "note": note})
}

/// Write a run in mmsoak's format into `dir` (created if needed), starting from [`initial_overrides`].
pub fn write_run(dir: &Path, plans: &[IterationPlan]) -> std::io::Result<()> {
    write_run_from(dir, plans, initial_overrides())
}

/// Write a run in mmsoak's format into `dir`, starting from `state`.
pub fn write_run_from(
    dir: &Path,
    plans: &[IterationPlan],
    mut state: RuntimeOverrides,
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let registry = ParamRegistry::default();
    let mut journal =
        std::io::BufWriter::new(std::fs::File::create(dir.join("APPLY_JOURNAL.jsonl"))?);
    writeln!(
        journal,
        "{}",
        json!({"kind": "init", "iteration": 0, "old_hash": null, "new_hash": state.state_hash().to_string()})
    )?;
    let mut entries = Vec::with_capacity(plans.len());
    let (mut applied_count, mut velocity, mut oscillation, mut cooldown, mut freeze, mut no_op) =
        (0, 0, 0, 0, 0, 0);
    let last = plans.len();
    for (index, plan) in plans.iter().enumerate() {
        let i = index as u64 + 1;
        let before_value = state.to_value();
        let old_hash = StateHash::of_value(&before_value);
        let (ops, mut flags) = match &plan.step {
            PlanStep::Nothing => (
                &[][..],
                SkipFlags {
                    no_op: true,
                    ..SkipFlags::default()
                },
            ),
            PlanStep::Apply(ops) => (&ops[..], SkipFlags::default()),
            PlanStep::Blocked(ops, f) => (&ops[..], *f),
        };
        let mut next = state.clone();
        let mut operations = Vec::new();
        let mut deltas = Map::new();
        for op in ops {
            let change = next.apply(op, &registry).map_err(invalid)?;
            let number = |x: f64| {
                mmsoak_core::canonical::finite_number(x)
                    .map(Value::Number)
                    .map_err(invalid)
            };
            deltas.insert(op.param.name().to_owned(), number(change.amount())?);
            operations.push(json!({"param": op.param.name(), "op": op.delta.name(), "value": number(op.delta.operand())?,
                "from": number(change.from)?, "to": number(change.to)?, "clamped": change.clamped, "rule": "synthetic"}));
        }
        if matches!(plan.step, PlanStep::Apply(_)) {
            if next == state {
                flags.no_op = true;
            } else if index + 1 == last {
                flags.final_iteration = true;
            }
        }
        let applied = !flags.any();
        let note = if applied {
            String::new()
        } else {
            flags.names().collect::<Vec<_>>().join(", ")
        };
        let changed_keys: Vec<&str> = if applied {
            ops.iter().map(|o| o.param.name()).collect()
        } else {
            Vec::new()
        };
        if applied {
            state = next;
            applied_count += 1;
        }
        velocity += u64::from(flags.velocity);
        oscillation += u64::from(flags.oscillation);
        cooldown += u64::from(flags.cooldown);
        freeze += u64::from(flags.freeze);
        no_op += u64::from(flags.no_op);
        let state_hash = state.state_hash();
        let skip_reason = if applied {
            Value::Null
        } else {
            flags_json(flags, &note)
        };
        let k = plan.kpis;
        let maker = (1000.0 * k.maker_taker_ratio).round();
        let tuning = json!({
            "deltas": deltas, "proposed_deltas": deltas,
            "rationale": "risk zone NORMAL | latency within budget | maker share at target | synthetic plan step",
            "rules_fired": ["risk_zone", "latency_budget", "maker_boost"],
            "operations": operations, "applied": applied, "no_op": flags.no_op, "skip_reason": skip_reason,
            "changed_keys": changed_keys, "state_hash": state_hash.to_string(), "old_hash": old_hash.to_string(),
            "freeze_triggered": plan.freeze_triggered, "oscillation_detected": flags.oscillation,
            "velocity_violation": flags.velocity, "cooldown_active": flags.cooldown,
        });
        // Per-symbol breakdown (ignored by the readers; real summaries carry one).
        let symbols: Map<String, Value> = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "ADAUSDT", "DOGEUSDT", "AVAXUSDT"]
            .iter()
            .enumerate()
            .map(|(s, sym)| {
                let j = jitter(i, 10 + s as u64);
                let row = json!({"net_bps": k.net_bps - 0.5 + j, "gross_bps": k.net_bps + 3.7 + j, "fills": 100 + (1000.0 * j) as u64,
                    "maker_share": k.maker_taker_ratio, "p95_latency_ms": k.p95_latency_ms - 20.0 + 40.0 * j,
                    "order_age_p95_ms": 340.0 + 20.0 * j, "inventory_usd": 1500.0 * (j - 0.5), "cancel_ratio": 0.2 + 0.1 * j});
                ((*sym).to_owned(), row)
            })
            .collect();
        let summary = json!({
            "symbols": symbols,
            "maker_taker_ratio": k.maker_taker_ratio, "maker_taker_source": "fills_volume", "risk_ratio": k.risk_ratio,
            "net_bps": k.net_bps, "gross_bps": k.net_bps + 4.2, "fees_eff_bps": -1.1, "slippage_bps": -0.9,
            "adverse_bps": -1.5, "inventory_bps": -0.2 + 0.1 * jitter(i, 5), "p95_latency_ms": k.p95_latency_ms,
            "adverse_bps_p95": 2.5, "slippage_bps_p95": 1.8, "order_age_p95_ms": 350.0,
            "min_interval_ratio": 0.05, "concurrency_ratio": 0.02,
            "neg_edge_drivers": ["adverse_selection", "slippage", "fees"],
            "fills": {"maker_count": maker, "taker_count": 1000.0 - maker, "maker_volume": 50.0 * maker, "taker_volume": 50.0 * (1000.0 - maker)},
            "runtime_utc": format!("2025-01-{:02}T{:02}:{:02}:00Z", 1 + (i / 1440) % 28, (i / 60) % 24, i % 60),
            "version": "mmsoak-synthetic-1",
            "blocks": {"counts": {"min_interval": 12, "concurrency": 4, "risk": 30, "throttle": 0, "allowed": 954, "other": 0}, "total": 1000,
                       "ratios": {"min_interval": 1.2, "concurrency": 0.4, "risk": 3.0, "throttle": 0.0, "allowed": 95.4, "other": 0.0}},
        });
        let doc = json!({
            "schema": MMSOAK_ITER_SUMMARY_SCHEMA, "iteration": i, "driver": "mock", "seed": 42,
            "runtime_overrides": before_value, "summary": summary, "tuning": tuning,
        });
        std::fs::write(
            dir.join(iter_summary_name(i)),
            serde_json::to_vec(&doc).map_err(invalid)?,
        )?;
        if applied {
            let line = json!({"kind": "intent", "iteration": i, "old_hash": old_hash.to_string(), "new_hash": state_hash.to_string()});
            writeln!(journal, "{line}")?;
            let line = json!({"kind": "commit", "iteration": i, "old_hash": old_hash.to_string(), "new_hash": state_hash.to_string()});
            writeln!(journal, "{line}")?;
        } else {
            let line = json!({"kind": "skip", "iteration": i, "old_hash": old_hash.to_string(), "new_hash": old_hash.to_string()});
            writeln!(journal, "{line}")?;
        }
        entries.push(json!({"iteration": i, "proposed_deltas": doc["tuning"]["proposed_deltas"], "applied": applied,
            "skip_reason": doc["tuning"]["skip_reason"], "changed_keys": doc["tuning"]["changed_keys"],
            "state_hash": state_hash.to_string(), "old_hash": old_hash.to_string()}));
    }
    journal.flush()?;
    let report = json!({"iterations": entries, "summary": {"count": plans.len(), "applied": applied_count,
        "blocked_oscillation": oscillation, "blocked_velocity": velocity, "cooldown_skips": cooldown,
        "freeze_skips": freeze, "no_op_skips": no_op}});
    std::fs::write(
        dir.join("TUNING_REPORT.json"),
        serde_json::to_vec(&report).map_err(invalid)?,
    )?;
    std::fs::write(
        dir.join("runtime_overrides.json"),
        state.to_canonical_bytes(),
    )?;
    Ok(())
}
