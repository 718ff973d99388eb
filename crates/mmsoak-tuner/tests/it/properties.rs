//! Invariants of the tuner, over random KPIs, current values, memories and
//! policies:
//! * no operation moves a parameter past its rule's cap or floor, out of the
//!   registry bounds, or against the direction of its rule's move;
//! * every operation lands exactly on its `to` when applied, and `deltas`
//!   is `to - from`; at most one operation per parameter;
//! * the same input always gives the same proposal (and the same bytes);
//! * a NaN anywhere in the KPIs gives an error, never a proposal.

use mmsoak_core::{Delta, IterationKpis, Param, ParamKind, ParamRegistry, RuntimeOverrides};
use mmsoak_tuner::{propose, TunerError, TunerMemory, TuningPolicy};
use proptest::prelude::*;

/// A threshold value now and then, so that boundaries are hit exactly.
fn ratio() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.35),
        Just(0.40),
        Just(0.60),
        Just(0.85),
        0.0f64..1.0,
        0.0f64..1.0,
    ]
}

fn opt(s: impl Strategy<Value = f64>) -> impl Strategy<Value = Option<f64>> {
    prop_oneof![1 => Just(None), 4 => s.prop_map(Some)]
}

fn arb_kpis() -> impl Strategy<Value = IterationKpis> {
    (
        ratio(),
        ratio(),
        opt(prop_oneof![Just(0.0), Just(2.7), Just(3.0), -5.0f64..6.0]),
        opt(prop_oneof![Just(330.0), Just(360.0), 0.0f64..600.0]),
        opt(prop_oneof![Just(3.5), 0.0f64..6.0]),
        opt(prop_oneof![Just(2.5), 0.0f64..5.0]),
    )
        .prop_map(|(risk, maker, net, p95, adverse, slippage)| {
            let mut k: IterationKpis = serde_json::from_str(
                r#"{"maker_taker_ratio": 0.9, "maker_taker_source": "fills_volume", "risk_ratio": 0.0,
                    "min_interval_ratio": 0.0, "concurrency_ratio": 0.0, "neg_edge_drivers": []}"#,
            )
            .expect("base KPIs");
            k.risk_ratio = risk;
            k.maker_taker_ratio = maker;
            k.net_bps = net;
            k.p95_latency_ms = p95;
            k.adverse_bps_p95 = adverse;
            k.slippage_bps_p95 = slippage;
            k
        })
}

/// Current values: absent (registry default), or anywhere from a little
/// below to a little above the registry bounds, on the parameter's grid.
fn arb_overrides() -> impl Strategy<Value = RuntimeOverrides> {
    prop::collection::vec(prop::option::of(-0.2f64..1.2), 8).prop_map(|fractions| {
        let registry = ParamRegistry::default();
        let mut ov = RuntimeOverrides::new();
        for (param, fraction) in Param::ALL.into_iter().zip(fractions) {
            if let Some(u) = fraction {
                let spec = registry.spec(param);
                let value = spec
                    .kind
                    .quantize(spec.bounds.min + u * spec.bounds.range());
                ov.set(param, value.max(0.0)).expect("finite");
            }
        }
        ov
    })
}

fn arb_memory() -> impl Strategy<Value = TunerMemory> {
    (0u32..4, 0u32..3).prop_map(|(negative_streak, fallback_cooldown)| TunerMemory {
        negative_streak,
        fallback_cooldown,
    })
}

type Setter = fn(&mut TuningPolicy, f64);

/// Policy changes, each mapping u in [0, 1) to a value in a sensible range.
/// Fractional caps on integer parameters are on purpose.
const SETTERS: [Setter; 14] = [
    |p, u| p.risk_aggressive.min_interval_ms_cap = Some(40.0 + 60.0 * u),
    |p, u| p.risk_aggressive.impact_cap_ratio_floor = Some(0.08 + 0.04 * u),
    |p, u| p.risk_moderate.min_interval_ms_add = 20.0 * u - 10.0,
    |p, u| p.risk_normalize.min_interval_ms_floor = Some(40.0 + 60.0 * u),
    |p, u| p.maker_boost.base_spread_bps_cap = Some(0.05 + 0.45 * u),
    |p, u| p.maker_boost.replace_rate_per_min_floor = Some(60.0 + 540.0 * u),
    |p, u| p.maker_boost.replace_rate_per_min_scale = 0.5 + u,
    |p, u| p.latency_buffer.tail_age_ms_cap = Some(300.0 + 900.0 * u),
    |p, u| p.latency_hard.concurrency_limit_floor = Some(1.0 + 63.0 * u),
    |p, u| p.latency_hard.tail_age_ms_add = 200.0 * u - 100.0,
    |p, u| p.driver_adverse.max_delta_ratio_floor = Some(0.10 + 0.06 * u),
    |p, u| p.driver_slippage.base_spread_bps_delta_cap = Some(0.25 * u),
    |p, u| p.fallback_conservative.base_spread_bps_delta_cap = Some(0.25 * u),
    |p, u| p.conflict.risk_ratio_min = 0.4 * u,
];

fn arb_policy() -> impl Strategy<Value = TuningPolicy> {
    prop::collection::vec((0..SETTERS.len(), 0.0f64..1.0), 0..6).prop_map(|changes| {
        let mut policy = TuningPolicy::default();
        for (i, u) in changes {
            SETTERS[i](&mut policy, u);
        }
        policy
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn operations_stay_within_rule_limits_and_registry_bounds(
        kpis in arb_kpis(),
        ov in arb_overrides(),
        memory in arb_memory(),
        policy in arb_policy(),
    ) {
        let registry = ParamRegistry::default();
        let p = propose(&kpis, &ov, &registry, &policy, &memory).expect("finite input");
        let mut seen = std::collections::BTreeSet::new();
        let mut applied = ov.clone();
        for o in &p.operations {
            let param = o.op.param;
            prop_assert!(seen.insert(param), "two operations on {}", param);
            let spec = registry.spec(param);
            prop_assert!(spec.bounds.contains(o.to), "{:?} leaves the registry bounds", o);
            if spec.kind == ParamKind::Integer {
                prop_assert_eq!(o.to.fract(), 0.0);
            }
            let m = policy
                .rule_moves(o.rule)
                .into_iter()
                .find(|m| m.param == param)
                .expect("the rule has a move on the parameter");
            if let Some(cap) = m.cap {
                prop_assert!(o.to <= cap, "{:?} passes the cap {}", o, cap);
            }
            if let Some(floor) = m.floor {
                prop_assert!(o.to >= floor, "{:?} passes the floor {}", o, floor);
            }
            let raw = m.delta.target_for(o.from, spec.kind);
            prop_assert!(o.to != o.from);
            prop_assert_eq!(o.to > o.from, raw > o.from, "{:?} moves against {:?}", o, m.delta);
            if m.cap.is_none() && m.floor.is_none() {
                prop_assert_eq!(o.op.delta, m.delta, "no limit: the rule's own operation");
            } else if o.op.delta != m.delta {
                prop_assert!(matches!(o.op.delta, Delta::Add(_)), "a binding limit is an add");
            }
            prop_assert_eq!(o.op.resolve(o.from, spec).expect("finite").to, o.to);
            let change = applied.apply(&o.op, &registry).expect("finite");
            prop_assert_eq!((change.from, change.to), (o.from, o.to));
            prop_assert_eq!(p.deltas.get(&param).copied(), Some(o.change().amount()));
        }
        prop_assert_eq!(p.deltas.len(), p.operations.len());
        if kpis.net_bps.is_none() {
            prop_assert!(p.is_empty() && p.rules_fired.is_empty());
        } else {
            prop_assert!(!p.rules_fired.is_empty(), "a proposal always says what fired, or STABLE");
        }
    }

    #[test]
    fn the_same_input_gives_the_same_proposal(
        kpis in arb_kpis(),
        ov in arb_overrides(),
        memory in arb_memory(),
        policy in arb_policy(),
    ) {
        let registry = ParamRegistry::default();
        let a = propose(&kpis, &ov, &registry, &policy, &memory).expect("finite input");
        let b = propose(&kpis.clone(), &ov.clone(), &registry.clone(), &policy.clone(), &memory).expect("finite input");
        prop_assert_eq!(serde_json::to_vec(&a).expect("json"), serde_json::to_vec(&b).expect("json"));
        prop_assert_eq!(a, b);
    }

    #[test]
    fn nan_anywhere_in_the_kpis_is_an_error(
        kpis in arb_kpis(),
        ov in arb_overrides(),
        field in 0usize..10,
        bad in prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY)],
    ) {
        let mut k = kpis;
        match field {
            0 => k.risk_ratio = bad,
            1 => k.maker_taker_ratio = bad,
            2 => k.net_bps = Some(bad),
            3 => k.p95_latency_ms = Some(bad),
            4 => k.adverse_bps_p95 = Some(bad),
            5 => k.slippage_bps_p95 = Some(bad),
            6 => k.min_interval_ratio = bad,
            7 => k.edge.inventory_bps = Some(bad),
            8 => k.order_age_p95_ms = Some(bad),
            _ => k.edge.fees_eff_bps = Some(bad),
        }
        let result = propose(&k, &ov, &ParamRegistry::default(), &TuningPolicy::default(), &TunerMemory::default());
        prop_assert!(matches!(result, Err(TunerError::NonFiniteKpi { .. })), "{:?}", result);
    }
}
