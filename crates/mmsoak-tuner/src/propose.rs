//! [`propose`]: one iteration's KPIs and the current parameters in, a
//! bounded, explained [`Proposal`] out.

use std::collections::BTreeMap;

use mmsoak_core::{
    legacy_deltas, Change, Delta, DeltaKind, DeltaOp, IterationKpis, MakerTakerSource, Param,
    ParamKind, ParamRegistry, ParamSpec, RuntimeOverrides, REAL_RESOLUTION,
};
use serde::{Deserialize, Serialize};

use crate::policy::{InvalidPolicy, RuleInputs, RuleMove};
use crate::rule::{Marker, Rule};
use crate::rules::{Decision, Exclusive, RuleMemory, TuningPolicy};

/// What the tuner remembers between iterations. The runner keeps it (e.g.
/// in the iteration summary) and hands it back with the next KPIs; start
/// with [`TunerMemory::default`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TunerMemory {
    /// Consecutive iterations, up to and including the last one seen, whose
    /// net_bps was below the fallback threshold (a missing net_bps ends a streak).
    pub negative_streak: u32,
    /// Iterations for which `FALLBACK_CONSERVATIVE` is still held back
    /// because it fired recently.
    pub fallback_cooldown: u32,
}

/// One proposed operation, tagged with its rule.
///
/// Serialized as `{"param", "op", "value", "from", "to", "clamped", "rule"}`;
/// `to` is exactly what [`DeltaOp::resolve`] gives from `from` under the
/// registry the proposal was made with.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(into = "OperationRepr", try_from = "OperationRepr")]
pub struct Operation {
    /// The operation to apply.
    pub op: DeltaOp,
    /// The current value it was proposed against.
    pub from: f64,
    /// The value it produces (rounded, quantized, within registry bounds).
    pub to: f64,
    /// Whether the registry bounds cut the operation short.
    pub clamped: bool,
    /// The rule that proposed it.
    pub rule: Rule,
}

impl Operation {
    /// The change this operation makes.
    pub fn change(&self) -> Change {
        let kind = self.op.param.kind();
        let requested = if self.clamped {
            kind.quantize(self.op.delta.target_for(self.from, kind))
        } else {
            self.to
        };
        Change {
            param: self.op.param,
            from: self.from,
            to: self.to,
            requested,
            clamped: self.clamped,
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OperationRepr {
    param: Param,
    op: DeltaKind,
    value: f64,
    from: f64,
    to: f64,
    clamped: bool,
    rule: Rule,
}

impl From<Operation> for OperationRepr {
    fn from(o: Operation) -> Self {
        OperationRepr {
            param: o.op.param,
            op: o.op.delta.kind(),
            value: o.op.delta.operand(),
            from: o.from,
            to: o.to,
            clamped: o.clamped,
            rule: o.rule,
        }
    }
}

impl TryFrom<OperationRepr> for Operation {
    type Error = mmsoak_core::NonFiniteNumber;
    fn try_from(r: OperationRepr) -> Result<Self, Self::Error> {
        for v in [r.value, r.from, r.to] {
            mmsoak_core::canonical::finite_number(v)?;
        }
        Ok(Operation {
            op: DeltaOp::new(r.param, r.op.with(r.value)),
            from: r.from,
            to: r.to,
            clamped: r.clamped,
            rule: r.rule,
        })
    }
}

/// The KPI values the rules looked at.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Conditions {
    /// Net edge, bps.
    pub net_bps: Option<f64>,
    /// Share of requests blocked by risk limits.
    pub risk_ratio: f64,
    /// Maker share of fills.
    pub maker_taker_ratio: f64,
    /// Where the maker share came from.
    pub maker_taker_source: MakerTakerSource,
    /// p95 order latency, ms.
    pub p95_latency_ms: Option<f64>,
    /// p95 adverse selection, bps.
    pub adverse_bps_p95: Option<f64>,
    /// p95 slippage, bps.
    pub slippage_bps_p95: Option<f64>,
    /// Negative-edge streak including this iteration.
    pub negative_streak: u32,
    /// Fallback hold-back left when this iteration started.
    pub fallback_cooldown: u32,
}

/// What the tuner proposes for the next iteration, and why.
///
/// Serialized as `{"operations", "deltas", "rules_fired", "rationale",
/// "dropped", "conditions", "memory"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    /// The operations, in rule order; at most one per parameter.
    pub operations: Vec<Operation>,
    /// The predecessor's flat map: parameter → additive amount (`to - from`).
    pub deltas: BTreeMap<Param, f64>,
    /// Rules whose condition held, then `GUARD` if the conflict guard acted,
    /// or just `STABLE`.
    pub rules_fired: Vec<Marker>,
    /// One sentence per rule (and guard), joined with `" | "`.
    pub rationale: String,
    /// Operations the conflict guard removed.
    pub dropped: Vec<Operation>,
    /// The KPI values looked at.
    pub conditions: Conditions,
    /// The memory to hand to the next call.
    pub memory: TunerMemory,
}

impl Proposal {
    /// Whether nothing is proposed.
    pub fn is_empty(&self) -> bool {
        self.operations.is_empty()
    }

    /// The operations without their explanation, for the apply pipeline.
    pub fn delta_ops(&self) -> Vec<DeltaOp> {
        self.operations.iter().map(|o| o.op).collect()
    }

    /// The changes the operations make.
    pub fn changes(&self) -> Vec<Change> {
        self.operations.iter().map(Operation::change).collect()
    }
}

/// The tuner could not make a proposal.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TunerError {
    /// A KPI is NaN or infinite.
    #[error("KPI `{field}` is {value}, not a finite number; no proposal is made from it")]
    NonFiniteKpi {
        /// The KPI's name, e.g. `p95_latency_ms`.
        field: &'static str,
        /// The value.
        value: f64,
    },
    /// A current parameter value is NaN or infinite.
    #[error(
        "current value of `{param}` is {value}, not a finite number; no proposal is made from it"
    )]
    NonFiniteCurrent {
        /// The parameter.
        param: Param,
        /// The value.
        value: f64,
    },
    /// A move overflowed (a current value so large that the result is infinite).
    #[error("{rule} on `{param}` from {from} gives a result that is not a finite number")]
    Overflow {
        /// The rule.
        rule: Rule,
        /// The parameter.
        param: Param,
        /// The current value.
        from: f64,
    },
    /// The policy is unusable.
    #[error("invalid tuning policy")]
    Policy(#[from] InvalidPolicy),
}

/// Propose operations for the next iteration.
///
/// Pure: no I/O, no clock, no randomness; the same arguments always give the
/// same proposal. `overrides` holds the current values (absent parameters
/// read as their `registry` default); `memory` is what the previous call
/// returned in [`Proposal::memory`].
///
/// Rules are evaluated in order (risk zone, maker boost, latency band, edge
/// drivers, negative-edge fallback); the first rule that proposes a change
/// to a parameter owns it for this proposal. A move that would not change
/// its parameter is not proposed and does not own it. A move that would pass
/// its rule's cap or floor is proposed as an `add` of the exact remaining
/// distance, landing on the limit; a value already at or beyond the limit
/// is left alone (a limit never moves a value backwards).
///
/// Errors: a NaN or infinite KPI or current value, or an invalid policy.
pub fn propose(
    kpis: &IterationKpis,
    overrides: &RuntimeOverrides,
    registry: &ParamRegistry,
    policy: &TuningPolicy,
    memory: &TunerMemory,
) -> Result<Proposal, TunerError> {
    policy.validate()?;
    check_kpis(kpis)?;
    let mut current = BTreeMap::new();
    for param in Param::ALL {
        let value = overrides.value(param, registry);
        if !value.is_finite() {
            return Err(TunerError::NonFiniteCurrent { param, value });
        }
        current.insert(param, value);
    }

    let inputs = RuleInputs::from(kpis);
    // The fallback's streak counts negative iterations whatever its `enabled`.
    let negative = policy.condition_holds(Rule::FallbackConservative, &inputs) == Some(true);
    let negative_streak = if negative {
        memory.negative_streak.saturating_add(1)
    } else {
        0
    };
    let conditions = Conditions {
        net_bps: kpis.net_bps,
        risk_ratio: kpis.risk_ratio,
        maker_taker_ratio: kpis.maker_taker_ratio,
        maker_taker_source: kpis.maker_taker_source,
        p95_latency_ms: kpis.p95_latency_ms,
        adverse_bps_p95: kpis.adverse_bps_p95,
        slippage_bps_p95: kpis.slippage_bps_p95,
        negative_streak,
        fallback_cooldown: memory.fallback_cooldown,
    };
    let mut next_memory = TunerMemory {
        negative_streak,
        fallback_cooldown: memory.fallback_cooldown.saturating_sub(1),
    };

    if kpis.net_bps.is_none() {
        return Ok(Proposal {
            operations: Vec::new(),
            deltas: BTreeMap::new(),
            rules_fired: Vec::new(),
            rationale:
                "no proposal: net_bps is missing from the KPIs (the bot reported no net edge), \
                        so no rule is evaluated"
                    .to_owned(),
            dropped: Vec::new(),
            conditions,
            memory: next_memory,
        });
    }

    let mut eval = Evaluation {
        registry,
        current,
        owner: BTreeMap::new(),
        operations: Vec::new(),
        fired: Vec::new(),
        sentences: Vec::new(),
    };
    let risk = kpis.risk_ratio;

    // 1.-5. The rules, in the registry's order; of an exclusive group (the
    // risk zones, the latency bands) the first that fires is the only one.
    let rule_memory = RuleMemory {
        negative_streak,
        fallback_cooldown: memory.fallback_cooldown,
    };
    let mut notes = Vec::new();
    let mut fired_groups: Vec<Exclusive> = Vec::new();
    for rule in policy.rules() {
        if rule.exclusive().is_some_and(|g| fired_groups.contains(&g)) {
            continue;
        }
        match rule.decide(policy, &inputs, &rule_memory) {
            Decision::Silent => {}
            Decision::Fire { why, cooldown } => {
                eval.fire(rule.rule(), why, policy)?;
                fired_groups.extend(rule.exclusive());
                if let Some(cooldown) = cooldown {
                    next_memory.fallback_cooldown = cooldown;
                }
            }
            Decision::HoldBack { note } => notes.push(note),
        }
    }

    // 6. Conflict guard.
    let mut dropped = Vec::new();
    let guard = &policy.conflict;
    if guard.enabled && risk >= guard.risk_ratio_min {
        let widens = eval.operations.iter().any(|o| {
            matches!(o.op.param, Param::BaseSpreadBps | Param::BaseSpreadBpsDelta) && o.to > o.from
        });
        let speedup = eval
            .operations
            .iter()
            .position(|o| o.op.param == Param::MinIntervalMs && o.to < o.from);
        if let (true, Some(i)) = (widens, speedup) {
            let d = eval.operations.remove(i);
            let sentence = format!(
                "GUARD conflict=spread_widen_vs_speedup: risk={risk} >= {} and the spread widens, \
                 so min_interval_ms {} -> {} ({}) is dropped",
                guard.risk_ratio_min, d.from, d.to, d.rule
            );
            tracing::info!(
                marker = "GUARD",
                conflict = "spread_widen_vs_speedup",
                "{sentence}"
            );
            eval.fired.push(Marker::ConflictGuard);
            eval.sentences.push(sentence);
            dropped.push(d);
        }
    }

    // 7. Stable.
    if eval.fired.is_empty() {
        tracing::info!(marker = "STABLE", "STABLE: no rule's condition held");
        eval.fired.push(Marker::Stable);
        eval.sentences.push("STABLE".to_owned());
    }
    eval.sentences.extend(notes);

    let changes: Vec<Change> = eval.operations.iter().map(Operation::change).collect();
    Ok(Proposal {
        deltas: legacy_deltas(&changes),
        operations: eval.operations,
        rules_fired: eval.fired,
        rationale: eval.sentences.join(" | "),
        dropped,
        conditions,
        memory: next_memory,
    })
}

fn check_kpis(k: &IterationKpis) -> Result<(), TunerError> {
    let fills = k.fills.as_ref();
    let fields: [(&'static str, Option<f64>); 16] = [
        ("maker_taker_ratio", Some(k.maker_taker_ratio)),
        ("risk_ratio", Some(k.risk_ratio)),
        ("net_bps", k.net_bps),
        ("gross_bps", k.edge.gross_bps),
        ("fees_eff_bps", k.edge.fees_eff_bps),
        ("slippage_bps", k.edge.slippage_bps),
        ("adverse_bps", k.edge.adverse_bps),
        ("inventory_bps", k.edge.inventory_bps),
        ("p95_latency_ms", k.p95_latency_ms),
        ("adverse_bps_p95", k.adverse_bps_p95),
        ("slippage_bps_p95", k.slippage_bps_p95),
        ("order_age_p95_ms", k.order_age_p95_ms),
        ("min_interval_ratio", Some(k.min_interval_ratio)),
        ("concurrency_ratio", Some(k.concurrency_ratio)),
        ("fills.maker_volume", fills.map(|f| f.maker_volume)),
        ("fills.taker_volume", fills.map(|f| f.taker_volume)),
    ];
    match fields
        .into_iter()
        .find(|(_, v)| v.is_some_and(|v| !v.is_finite()))
    {
        Some((field, Some(value))) => Err(TunerError::NonFiniteKpi { field, value }),
        _ => Ok(()),
    }
}

struct Evaluation<'a> {
    registry: &'a ParamRegistry,
    current: BTreeMap<Param, f64>,
    owner: BTreeMap<Param, Rule>,
    operations: Vec<Operation>,
    fired: Vec<Marker>,
    sentences: Vec<String>,
}

impl Evaluation<'_> {
    /// The rule's condition held: propose its moves on the parameters no
    /// earlier rule owns, and explain.
    fn fire(
        &mut self,
        rule: Rule,
        condition: String,
        policy: &TuningPolicy,
    ) -> Result<(), TunerError> {
        let mut parts = Vec::new();
        for m in policy.rule_moves(rule) {
            let param = m.param;
            let what = format!("{param} {}", describe(m.delta));
            if let Some(owner) = self.owner.get(&param) {
                parts.push(format!("{what} skipped ({param} already moved by {owner})"));
                continue;
            }
            let from = self
                .current
                .get(&param)
                .copied()
                .unwrap_or(self.registry.spec(param).default);
            match plan(&m, from, self.registry.spec(param)) {
                Err(Overflowed) => return Err(TunerError::Overflow { rule, param, from }),
                Ok(Planned::Hold(why)) => {
                    parts.push(format!("{what} not proposed ({from}: {why})"))
                }
                Ok(Planned::Move { op, change, limit }) => {
                    let mut how = format!("{} -> {}", change.from, change.to);
                    if let Some(limit) = limit {
                        how.push_str(&format!(", {limit}"));
                    }
                    if change.clamped {
                        how.push_str(", registry bound");
                    }
                    parts.push(format!("{what} ({how})"));
                    self.owner.insert(param, rule);
                    self.operations.push(Operation {
                        op,
                        from: change.from,
                        to: change.to,
                        clamped: change.clamped,
                        rule,
                    });
                }
            }
        }
        let sentence = format!("{rule}: {condition} -> {}", parts.join(", "));
        tracing::info!(marker = rule.marker(), rule = rule.name(), "{sentence}");
        self.fired.push(Marker::Rule(rule));
        self.sentences.push(sentence);
        Ok(())
    }
}

fn describe(delta: Delta) -> String {
    match delta {
        Delta::Add(x) => format!("{x:+}"),
        Delta::Scale(x) => format!("x{x}"),
        Delta::Set(x) => format!("={x}"),
    }
}

/// A rule limit that bound a move.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Limit {
    Cap(f64),
    Floor(f64),
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Limit::Cap(v) => write!(f, "cap {v}"),
            Limit::Floor(v) => write!(f, "floor {v}"),
        }
    }
}

/// Why a move is not proposed.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Hold {
    /// Rounding (integers) or a zero amount leaves the value where it is.
    WouldNotMove,
    /// The value is already at or beyond the rule's limit.
    AtLimit(Limit),
    /// The current value lies outside the registry bounds, and clamping
    /// would move it against the rule's direction.
    OutsideBounds,
}

impl std::fmt::Display for Hold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Hold::WouldNotMove => f.write_str("would not move"),
            Hold::AtLimit(limit) => write!(f, "at or beyond {limit}"),
            Hold::OutsideBounds => {
                f.write_str("outside the registry bounds, clamping would reverse the move")
            }
        }
    }
}

enum Planned {
    Move {
        op: DeltaOp,
        change: Change,
        limit: Option<Limit>,
    },
    Hold(Hold),
}

/// The result is not a finite number.
struct Overflowed;

/// What a move does to `from`: the operation to propose (and its change), or
/// why nothing is proposed.
fn plan(m: &RuleMove, from: f64, spec: &ParamSpec) -> Result<Planned, Overflowed> {
    let raw = m.delta.target_for(from, spec.kind);
    if !raw.is_finite() {
        return Err(Overflowed);
    }
    let (up, down) = (raw > from, raw < from);
    if !(up || down) {
        return Ok(Planned::Hold(Hold::WouldNotMove));
    }
    let mut target = raw;
    let mut limit = None;
    if let Some(cap) = m.cap {
        let c = grid_at_most(spec.kind, cap);
        if target > c {
            target = c;
            limit = Some(Limit::Cap(cap));
        }
    }
    if let Some(floor) = m.floor {
        let f = grid_at_least(spec.kind, floor);
        if target < f {
            target = f;
            limit = Some(Limit::Floor(floor));
        }
    }
    let op = match limit {
        None => DeltaOp::new(m.param, m.delta),
        Some(limit) => {
            if (up && target <= from) || (down && target >= from) {
                return Ok(Planned::Hold(Hold::AtLimit(limit)));
            }
            landing_add(m.param, from, target, spec)?
        }
    };
    let change = op.resolve(from, spec).map_err(|_| Overflowed)?;
    if !change.is_effective() {
        return Ok(Planned::Hold(Hold::WouldNotMove));
    }
    if (up && change.to < from) || (down && change.to > from) {
        return Ok(Planned::Hold(Hold::OutsideBounds));
    }
    Ok(Planned::Move { op, change, limit })
}

/// An `add` from `from` that lands on `target`: the amount rounded to the
/// real grid when that lands exactly, else the unrounded difference.
fn landing_add(
    param: Param,
    from: f64,
    target: f64,
    spec: &ParamSpec,
) -> Result<DeltaOp, Overflowed> {
    let exact = DeltaOp::new(param, Delta::Add(target - from));
    let tidy = DeltaOp::new(param, Delta::Add(ParamKind::Real.quantize(target - from)));
    let lands = |op: &DeltaOp| op.resolve(from, spec).map(|c| c.to).map_err(|_| Overflowed);
    Ok(if lands(&tidy)? == lands(&exact)? {
        tidy
    } else {
        exact
    })
}

/// The largest value on the kind's grid that is at most `x`.
fn grid_at_most(kind: ParamKind, x: f64) -> f64 {
    match kind {
        ParamKind::Integer => x.floor(),
        ParamKind::Real => {
            let q = kind.quantize(x);
            if q > x {
                kind.quantize(q - REAL_RESOLUTION)
            } else {
                q
            }
        }
    }
}

/// The smallest value on the kind's grid that is at least `x`.
fn grid_at_least(kind: ParamKind, x: f64) -> f64 {
    match kind {
        ParamKind::Integer => x.ceil(),
        ParamKind::Real => {
            let q = kind.quantize(x);
            if q < x {
                kind.quantize(q + REAL_RESOLUTION)
            } else {
                q
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(param: Param) -> ParamSpec {
        *ParamRegistry::default().spec(param)
    }

    #[track_caller]
    fn check(m: RuleMove, from: f64, expect: &str) {
        let got = match plan(&m, from, &spec(m.param)) {
            Err(Overflowed) => "overflow".to_owned(),
            Ok(Planned::Hold(h)) => format!("hold: {h}"),
            Ok(Planned::Move { op, change, .. }) => {
                format!(
                    "{} {} -> {}",
                    op.delta.name(),
                    op.delta.operand(),
                    change.to
                )
            }
        };
        assert_eq!(got, expect, "{m:?} from {from}");
    }

    fn add(param: Param, x: f64, cap: Option<f64>, floor: Option<f64>) -> RuleMove {
        RuleMove {
            param,
            delta: Delta::Add(x),
            cap,
            floor,
        }
    }

    #[test]
    fn limits_bind_as_exact_adds_and_never_reverse() {
        use Param::*;
        check(
            add(MinIntervalMs, 5.0, Some(80.0), None),
            60.0,
            "add 5 -> 65",
        );
        check(
            add(MinIntervalMs, 5.0, Some(80.0), None),
            78.0,
            "add 2 -> 80",
        );
        check(
            add(MinIntervalMs, 5.0, Some(80.0), None),
            80.0,
            "hold: at or beyond cap 80",
        );
        check(
            add(MinIntervalMs, 5.0, Some(80.0), None),
            90.0,
            "hold: at or beyond cap 80",
        );
        check(
            add(MinIntervalMs, 5.0, Some(80.5), None),
            79.0,
            "add 1 -> 80",
        ); // integer grid: 80.5 caps at 80
        check(
            add(ImpactCapRatio, -0.01, None, Some(0.08)),
            0.085,
            "add -0.005 -> 0.08",
        );
        check(
            add(ImpactCapRatio, -0.01, None, Some(0.08)),
            0.08,
            "hold: at or beyond floor 0.08",
        );
        check(
            add(MinIntervalMs, 0.4, None, None),
            60.0,
            "hold: would not move",
        );
        check(
            add(MinIntervalMs, 0.0, None, None),
            60.0,
            "hold: would not move",
        );
        // Registry bounds clamp (min_interval_ms 40..=100) and are reported, not hidden.
        check(add(MinIntervalMs, 25.0, None, None), 90.0, "add 25 -> 100");
        // Below the registry minimum a decrease would be clamped upwards: not proposed.
        check(
            add(MinIntervalMs, -3.0, None, None),
            30.0,
            "hold: outside the registry bounds, clamping would reverse the move",
        );
        check(add(MinIntervalMs, 1e308, None, None), 1e308, "overflow");
    }

    #[test]
    fn scaled_integers_round_away_from_the_value_and_stuck_ones_hold() {
        let scale = |x| RuleMove {
            param: Param::ConcurrencyLimit,
            delta: Delta::Scale(x),
            cap: None,
            floor: None,
        };
        check(scale(0.90), 10.0, "scale 0.9 -> 9");
        check(scale(0.85), 10.0, "scale 0.85 -> 8");
        check(scale(0.85), 3.0, "scale 0.85 -> 2");
        check(scale(0.90), 2.0, "scale 0.9 -> 1");
        check(scale(0.90), 1.0, "hold: would not move");
        check(scale(1.2), 4.0, "scale 1.2 -> 5");
        let floored = RuleMove {
            floor: Some(8.0),
            ..scale(0.5)
        };
        check(floored, 10.0, "add -2 -> 8");
    }

    #[test]
    fn an_operation_reports_the_change_resolve_made() {
        for (param, delta, from) in [
            (Param::MinIntervalMs, Delta::Add(25.0), 90.0),
            (Param::ConcurrencyLimit, Delta::Scale(0.85), 10.0),
            (Param::ImpactCapRatio, Delta::Add(-0.01), 0.1),
        ] {
            let op = DeltaOp::new(param, delta);
            let change = op.resolve(from, &spec(param)).expect("finite");
            let o = Operation {
                op,
                from,
                to: change.to,
                clamped: change.clamped,
                rule: Rule::MakerBoost,
            };
            assert_eq!(o.change(), change);
        }
    }

    #[test]
    fn grids_snap_limits_inwards() {
        assert_eq!(grid_at_most(ParamKind::Integer, 80.5), 80.0);
        assert_eq!(grid_at_least(ParamKind::Integer, 49.2), 50.0);
        assert_eq!(grid_at_most(ParamKind::Real, 0.1), 0.1);
        assert_eq!(grid_at_least(ParamKind::Real, 0.08), 0.08);
        assert_eq!(grid_at_most(ParamKind::Real, 0.1000000006), 0.1);
        assert_eq!(grid_at_least(ParamKind::Real, 0.0800000004), 0.080000001);
    }
}
