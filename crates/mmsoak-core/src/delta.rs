//! Delta operations on parameters and the changes they make.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::canonical::NonFiniteNumber;
use crate::param::{Param, ParamKind, ParamSpec};

/// How a parameter is to move.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Delta {
    /// Add an amount (relative): `60` with `Add(5.0)` becomes `65`.
    Add(f64),
    /// Multiply by a factor: `10` with `Scale(0.9)` becomes `9`. On an
    /// integer parameter the product is rounded away from the current
    /// value (down when it fell, as the predecessor's `int(cur * factor)`
    /// did; up when it rose), so a factor keeps stepping a small integer
    /// (`3 × 0.85 = 2.55 → 2`, `4 × 1.2 = 4.8 → 5`) instead of rounding
    /// back to where it started.
    Scale(f64),
    /// Set an absolute value.
    Set(f64),
}

impl Delta {
    /// The operand.
    pub fn operand(self) -> f64 {
        match self {
            Delta::Add(x) | Delta::Scale(x) | Delta::Set(x) => x,
        }
    }

    /// The raw target from `from`, before rounding and clamping.
    pub fn target(self, from: f64) -> f64 {
        match self {
            Delta::Add(x) => from + x,
            Delta::Scale(x) => from * x,
            Delta::Set(x) => x,
        }
    }

    /// The target for a parameter of `kind`, before rounding and clamping:
    /// [`Delta::target`], except that a `Scale` of an integer is rounded to
    /// a whole number away from `from` (after float noise is snapped away,
    /// so `100 × 0.29` is `29`, not `28`).
    pub fn target_for(self, from: f64, kind: ParamKind) -> f64 {
        let raw = self.target(from);
        match (self, kind) {
            (Delta::Scale(_), ParamKind::Integer) if raw.is_finite() => {
                let snapped = ParamKind::Real.quantize(raw);
                if snapped < from {
                    snapped.floor()
                } else {
                    snapped.ceil()
                }
            }
            _ => raw,
        }
    }

    /// Lowercase name of the operation: `add`, `scale` or `set`.
    pub fn name(self) -> &'static str {
        match self.kind() {
            DeltaKind::Add => "add",
            DeltaKind::Scale => "scale",
            DeltaKind::Set => "set",
        }
    }

    /// The kind of operation, without its operand.
    pub fn kind(self) -> DeltaKind {
        match self {
            Delta::Add(_) => DeltaKind::Add,
            Delta::Scale(_) => DeltaKind::Scale,
            Delta::Set(_) => DeltaKind::Set,
        }
    }
}

/// One operation on one parameter.
///
/// Serialized as `{"param": "min_interval_ms", "op": "add", "value": 5}`.
///
/// ```
/// use mmsoak_core::{Delta, DeltaOp, Param, ParamRegistry};
/// let reg = ParamRegistry::default();
/// let op = DeltaOp::new(Param::ConcurrencyLimit, Delta::Scale(0.9));
/// let change = op.resolve(10.0, reg.spec(Param::ConcurrencyLimit)).unwrap();
/// assert_eq!((change.from, change.to, change.clamped), (10.0, 9.0, false));
/// let op = DeltaOp::new(Param::MinIntervalMs, Delta::Add(50.0));
/// let change = op.resolve(60.0, reg.spec(Param::MinIntervalMs)).unwrap();
/// assert_eq!((change.to, change.requested, change.clamped), (100.0, 110.0, true));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "DeltaOpRepr", into = "DeltaOpRepr")]
pub struct DeltaOp {
    /// The parameter.
    pub param: Param,
    /// The operation.
    pub delta: Delta,
}

impl DeltaOp {
    /// An operation.
    pub const fn new(param: Param, delta: Delta) -> Self {
        DeltaOp { param, delta }
    }

    /// What this operation does to `from` under `spec`: rounding (integers;
    /// a `Scale` rounds away from `from`), quantization (reals, 1e-9) and clamping to
    /// bounds.
    pub fn resolve(&self, from: f64, spec: &ParamSpec) -> Result<Change, NonFiniteNumber> {
        let raw = self.delta.target_for(from, spec.kind);
        if !raw.is_finite() {
            return Err(NonFiniteNumber(raw));
        }
        let requested = spec.kind.quantize(raw);
        let to = spec.bounds.clamp(requested);
        let clamped = to != requested;
        Ok(Change {
            param: self.param,
            from,
            to,
            requested,
            clamped,
        })
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeltaOpRepr {
    param: Param,
    op: DeltaKind,
    value: f64,
}

/// The kind of a [`Delta`], serialized as `"add"`, `"scale"` or `"set"` (the
/// `op` field of an operation in every file that carries one).
#[derive(Debug, Serialize, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DeltaKind {
    /// [`Delta::Add`].
    Add,
    /// [`Delta::Scale`].
    Scale,
    /// [`Delta::Set`].
    Set,
}

impl DeltaKind {
    /// The delta of this kind with `operand`.
    pub fn with(self, operand: f64) -> Delta {
        match self {
            DeltaKind::Add => Delta::Add(operand),
            DeltaKind::Scale => Delta::Scale(operand),
            DeltaKind::Set => Delta::Set(operand),
        }
    }
}

impl TryFrom<DeltaOpRepr> for DeltaOp {
    type Error = NonFiniteNumber;
    fn try_from(r: DeltaOpRepr) -> Result<Self, Self::Error> {
        if !r.value.is_finite() {
            return Err(NonFiniteNumber(r.value));
        }
        Ok(DeltaOp::new(r.param, r.op.with(r.value)))
    }
}

impl From<DeltaOp> for DeltaOpRepr {
    fn from(op: DeltaOp) -> Self {
        DeltaOpRepr {
            param: op.param,
            op: op.delta.kind(),
            value: op.delta.operand(),
        }
    }
}

/// The change an operation actually makes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// The parameter.
    pub param: Param,
    /// Value before.
    pub from: f64,
    /// Value after (rounded, quantized, clamped).
    pub to: f64,
    /// Value asked for, after rounding/quantization but before clamping.
    pub requested: f64,
    /// Whether the bounds cut the request.
    pub clamped: bool,
}

impl Change {
    /// The additive amount `to - from`, quantized like the parameter.
    pub fn amount(&self) -> f64 {
        amount(self.from, self.to)
    }

    /// Whether the value moves.
    pub fn is_effective(&self) -> bool {
        self.to != self.from
    }
}

fn amount(from: f64, to: f64) -> f64 {
    // Values sit on the 1e-9 grid (integers too), so the difference does.
    ParamKind::Real.quantize(to - from)
}

/// The legacy flat map `proposed_deltas` (parameter → additive amount),
/// derived from a sequence of changes: for each parameter, its last `to`
/// minus its first `from`.
///
/// ```
/// use mmsoak_core::{legacy_deltas, Delta, DeltaOp, Param, ParamRegistry, RuntimeOverrides};
/// let reg = ParamRegistry::default();
/// let mut ov = RuntimeOverrides::new();
/// let c1 = ov.apply(&DeltaOp::new(Param::ImpactCapRatio, Delta::Add(-0.01)), &reg).unwrap();
/// let c2 = ov.apply(&DeltaOp::new(Param::MinIntervalMs, Delta::Add(5.0)), &reg).unwrap();
/// let d = legacy_deltas(&[c1, c2]);
/// assert_eq!(d[&Param::ImpactCapRatio], -0.01);
/// assert_eq!(d[&Param::MinIntervalMs], 5.0);
/// ```
pub fn legacy_deltas(changes: &[Change]) -> BTreeMap<Param, f64> {
    let mut span: BTreeMap<Param, (f64, f64)> = BTreeMap::new();
    for c in changes {
        span.entry(c.param)
            .and_modify(|(_, to)| *to = c.to)
            .or_insert((c.from, c.to));
    }
    span.into_iter()
        .map(|(p, (from, to))| (p, amount(from, to)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::param::ParamRegistry;
    use proptest::prelude::*;

    #[track_caller]
    fn check(param: Param, from: f64, delta: Delta, expect: (f64, f64, bool)) {
        let reg = ParamRegistry::default();
        let c = DeltaOp::new(param, delta)
            .resolve(from, reg.spec(param))
            .expect("finite");
        assert_eq!(
            (c.to, c.requested, c.clamped),
            expect,
            "{param} {from} {delta:?}"
        );
    }

    #[test]
    fn operations_round_quantize_and_clamp() {
        check(
            Param::MinIntervalMs,
            60.0,
            Delta::Add(5.0),
            (65.0, 65.0, false),
        );
        check(
            Param::MinIntervalMs,
            60.0,
            Delta::Set(5.0),
            (40.0, 5.0, true),
        );
        check(
            Param::MinIntervalMs,
            98.0,
            Delta::Add(25.0),
            (100.0, 123.0, true),
        );
        check(
            Param::MinIntervalMs,
            100.0,
            Delta::Add(0.4),
            (100.0, 100.0, false),
        );
        check(
            Param::ConcurrencyLimit,
            10.0,
            Delta::Scale(0.9),
            (9.0, 9.0, false),
        );
        check(
            Param::ConcurrencyLimit,
            10.0,
            Delta::Scale(0.85),
            (8.0, 8.0, false),
        ); // 8.5 rounds down, like the predecessor's int()
        check(
            Param::ConcurrencyLimit,
            3.0,
            Delta::Scale(0.85),
            (2.0, 2.0, false),
        ); // a small integer keeps stepping down
        check(
            Param::ConcurrencyLimit,
            100.0,
            Delta::Scale(0.29),
            (29.0, 29.0, false),
        ); // 28.999999999999996 is float noise, not 28
        check(
            Param::ConcurrencyLimit,
            4.0,
            Delta::Scale(1.2),
            (5.0, 5.0, false),
        ); // a rising factor rounds up: 4.8 -> 5
        check(
            Param::ConcurrencyLimit,
            1.0,
            Delta::Scale(1.2),
            (2.0, 2.0, false),
        ); // ... so it never sticks either
        check(
            Param::MinIntervalMs,
            60.0,
            Delta::Add(0.5),
            (61.0, 61.0, false),
        ); // additions still round half away from zero
        check(
            Param::ConcurrencyLimit,
            1.0,
            Delta::Scale(0.9),
            (1.0, 0.0, true),
        ); // rounds down to 0; the registry minimum holds it at 1
        check(
            Param::ImpactCapRatio,
            0.10,
            Delta::Add(-0.01),
            (0.09, 0.09, false),
        );
        check(
            Param::ImpactCapRatio,
            0.09,
            Delta::Add(-0.01),
            (0.08, 0.08, false),
        );
        check(
            Param::ImpactCapRatio,
            0.08,
            Delta::Add(-0.01),
            (0.08, 0.07, true),
        );
        check(
            Param::BaseSpreadBpsDelta,
            0.0,
            Delta::Add(-0.02),
            (0.0, -0.02, true),
        );
        check(
            Param::BaseSpreadBpsDelta,
            0.24,
            Delta::Add(0.02),
            (0.25, 0.26, true),
        );
        check(
            Param::ReplaceRatePerMin,
            300.0,
            Delta::Scale(0.85),
            (255.0, 255.0, false),
        );
    }

    #[test]
    fn non_finite_results_are_errors() {
        let reg = ParamRegistry::default();
        let op = DeltaOp::new(Param::TailAgeMs, Delta::Scale(f64::INFINITY));
        assert!(op.resolve(600.0, reg.spec(Param::TailAgeMs)).is_err());
        let op = DeltaOp::new(Param::TailAgeMs, Delta::Add(f64::NAN));
        assert!(op.resolve(600.0, reg.spec(Param::TailAgeMs)).is_err());
    }

    #[test]
    fn serde_shape() {
        let op = DeltaOp::new(Param::MinIntervalMs, Delta::Add(5.0));
        let json = serde_json::to_string(&op).expect("serialize");
        assert_eq!(
            json,
            r#"{"param":"min_interval_ms","op":"add","value":5.0}"#
        );
        assert_eq!(
            serde_json::from_str::<DeltaOp>(&json).expect("deserialize"),
            op
        );
        assert!(serde_json::from_str::<DeltaOp>(r#"{"param":"x","op":"add","value":1}"#).is_err());
        assert!(
            serde_json::from_str::<DeltaOp>(r#"{"param":"tail_age_ms","op":"mul","value":1}"#)
                .is_err()
        );
        assert!(serde_json::from_str::<DeltaOp>(
            r#"{"param":"tail_age_ms","op":"add","value":1,"x":2}"#
        )
        .is_err());
    }

    #[test]
    fn legacy_deltas_span_repeated_params() {
        let reg = ParamRegistry::default();
        let spec = reg.spec(Param::TailAgeMs);
        let a = DeltaOp::new(Param::TailAgeMs, Delta::Add(30.0))
            .resolve(600.0, spec)
            .expect("ok");
        let b = DeltaOp::new(Param::TailAgeMs, Delta::Add(50.0))
            .resolve(630.0, spec)
            .expect("ok");
        assert_eq!(legacy_deltas(&[a, b])[&Param::TailAgeMs], 80.0);
        assert!(legacy_deltas(&[]).is_empty());
    }

    fn arb_op() -> impl Strategy<Value = DeltaOp> {
        (0usize..8, 0u8..3, -1000.0f64..1000.0).prop_map(|(i, k, x)| {
            let d = match k {
                0 => Delta::Add(x),
                1 => Delta::Scale(x / 100.0),
                _ => Delta::Set(x),
            };
            DeltaOp::new(Param::ALL[i], d)
        })
    }

    proptest! {
        #[test]
        fn no_sequence_leaves_bounds(ops in prop::collection::vec(arb_op(), 0..40)) {
            let reg = ParamRegistry::default();
            let mut values: BTreeMap<Param, f64> = Param::ALL.iter().map(|p| (*p, reg.spec(*p).default)).collect();
            for op in ops {
                let spec = reg.spec(op.param);
                let c = op.resolve(values[&op.param], spec).expect("finite inputs");
                prop_assert!(spec.bounds.contains(c.to), "{:?}", c);
                if spec.kind == ParamKind::Integer {
                    prop_assert_eq!(c.to.fract(), 0.0);
                }
                prop_assert_eq!(c.clamped, c.requested != c.to);
                values.insert(op.param, c.to);
            }
        }
    }
}
