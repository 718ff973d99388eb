//! One table-driven test per rule, each boundary on both sides.
//!
//! A case reads `"MARKERS: param from->to ..."`: the markers in
//! `rules_fired`, then every proposed operation.

use std::path::Path;

use mmsoak_core::{Delta, IterationKpis, Param, ParamRegistry, RuntimeOverrides};
use mmsoak_tuner::{propose, Marker, Proposal, Rule, TunerError, TunerMemory, TuningPolicy};

/// KPIs on which no rule fires: risk between the normalize and moderate
/// zones, maker share high, a positive edge below the normalize threshold.
fn calm() -> IterationKpis {
    serde_json::from_str(
        r#"{"maker_taker_ratio": 0.9, "maker_taker_source": "fills_volume", "risk_ratio": 0.36,
            "net_bps": 2.0, "min_interval_ratio": 0.0, "concurrency_ratio": 0.0, "neg_edge_drivers": []}"#,
    )
    .expect("calm KPIs")
}

fn kpis(change: impl FnOnce(&mut IterationKpis)) -> IterationKpis {
    let mut k = calm();
    change(&mut k);
    k
}

fn overrides(json: &str) -> RuntimeOverrides {
    RuntimeOverrides::parse(json.as_bytes(), Path::new("runtime_overrides.json"))
        .expect("overrides")
}

fn summary(p: &Proposal) -> String {
    let markers: Vec<&str> = p.rules_fired.iter().map(|m| m.name()).collect();
    let ops: String = p
        .operations
        .iter()
        .map(|o| format!(" {} {}->{}", o.op.param, o.from, o.to))
        .collect();
    format!("{}:{ops}", markers.join(","))
}

struct Case<'a> {
    current: &'a str,
    memory: TunerMemory,
    policy: TuningPolicy,
}

impl Default for Case<'_> {
    fn default() -> Self {
        Case {
            current: "{}",
            memory: TunerMemory::default(),
            policy: TuningPolicy::default(),
        }
    }
}

impl Case<'_> {
    fn run(&self, k: &IterationKpis) -> Proposal {
        let registry = ParamRegistry::default();
        let ov = overrides(self.current);
        let p = propose(k, &ov, &registry, &self.policy, &self.memory).expect("proposal");
        // Every operation lands exactly on its `to` when applied to the same values.
        let mut applied = ov.clone();
        for o in &p.operations {
            let change = applied.apply(&o.op, &registry).expect("finite");
            assert_eq!((change.from, change.to), (o.from, o.to), "{o:?}");
        }
        for (param, amount) in &p.deltas {
            let o = p
                .operations
                .iter()
                .find(|o| o.op.param == *param)
                .expect("delta has an operation");
            assert_eq!(*amount, o.change().amount(), "{param}");
        }
        assert_eq!(p.deltas.len(), p.operations.len());
        p
    }
}

#[track_caller]
fn check(k: IterationKpis, expect: &str) {
    check_case(&Case::default(), k, expect);
}

#[track_caller]
fn check_case(case: &Case<'_>, k: IterationKpis, expect: &str) {
    let p = case.run(&k);
    assert_eq!(summary(&p), expect, "rationale: {}", p.rationale);
}

#[test]
fn risk_aggressive() {
    check(
        kpis(|k| k.risk_ratio = 0.60),
        "RISK_AGGRESSIVE: min_interval_ms 60->65 impact_cap_ratio 0.1->0.09 tail_age_ms 600->630",
    );
    check(
        kpis(|k| k.risk_ratio = 0.5999),
        "RISK_MODERATE: min_interval_ms 60->65 impact_cap_ratio 0.1->0.095",
    );
    let near = Case {
        current: r#"{"min_interval_ms": 78, "impact_cap_ratio": 0.085, "tail_age_ms": 790}"#,
        ..Case::default()
    };
    check_case(
        &near,
        kpis(|k| k.risk_ratio = 0.7),
        "RISK_AGGRESSIVE: min_interval_ms 78->80 impact_cap_ratio 0.085->0.08 tail_age_ms 790->800",
    );
    let at = Case {
        current: r#"{"min_interval_ms": 80, "impact_cap_ratio": 0.08, "tail_age_ms": 800}"#,
        ..Case::default()
    };
    check_case(&at, kpis(|k| k.risk_ratio = 0.7), "RISK_AGGRESSIVE:");
    let beyond = Case {
        current: r#"{"min_interval_ms": 95}"#,
        ..Case::default()
    };
    check_case(
        &beyond,
        kpis(|k| k.risk_ratio = 0.7),
        "RISK_AGGRESSIVE: impact_cap_ratio 0.1->0.09 tail_age_ms 600->630",
    );
    let p = at.run(&kpis(|k| k.risk_ratio = 0.7));
    assert!(
        p.rationale
            .contains("min_interval_ms +5 not proposed (80: at or beyond cap 80)"),
        "{}",
        p.rationale
    );
}

#[test]
fn risk_aggressive_encodes_a_binding_cap_as_an_exact_add() {
    let near = Case {
        current: r#"{"min_interval_ms": 78}"#,
        ..Case::default()
    };
    let p = near.run(&kpis(|k| k.risk_ratio = 0.7));
    assert_eq!(p.operations[0].op.delta, Delta::Add(2.0));
    assert!(
        p.rationale
            .contains("min_interval_ms +5 (78 -> 80, cap 80)"),
        "{}",
        p.rationale
    );
}

#[test]
fn risk_moderate() {
    check(
        kpis(|k| k.risk_ratio = 0.40),
        "RISK_MODERATE: min_interval_ms 60->65 impact_cap_ratio 0.1->0.095",
    );
    check(kpis(|k| k.risk_ratio = 0.3999), "STABLE:");
    let near = Case {
        current: r#"{"min_interval_ms": 73, "impact_cap_ratio": 0.092}"#,
        ..Case::default()
    };
    check_case(
        &near,
        kpis(|k| k.risk_ratio = 0.5),
        "RISK_MODERATE: min_interval_ms 73->75 impact_cap_ratio 0.092->0.09",
    );
}

#[test]
fn risk_normalize() {
    let low_impact = Case {
        current: r#"{"impact_cap_ratio": 0.09}"#,
        ..Case::default()
    };
    let normal = |risk, net| kpis(|k| (k.risk_ratio, k.net_bps) = (risk, Some(net)));
    check_case(
        &low_impact,
        normal(0.3499, 3.0),
        "RISK_NORMALIZE: min_interval_ms 60->57 impact_cap_ratio 0.09->0.095",
    );
    check_case(&low_impact, normal(0.35, 3.0), "STABLE:");
    check_case(&low_impact, normal(0.2, 2.9999), "STABLE:");
    // impact_cap_ratio defaults to 0.10, the rule's cap: only min_interval_ms moves.
    check(normal(0.2, 3.0), "RISK_NORMALIZE: min_interval_ms 60->57");
    let near_floor = Case {
        current: r#"{"min_interval_ms": 52}"#,
        ..Case::default()
    };
    check_case(
        &near_floor,
        normal(0.2, 3.0),
        "RISK_NORMALIZE: min_interval_ms 52->50",
    );
    let at_floor = Case {
        current: r#"{"min_interval_ms": 50}"#,
        ..Case::default()
    };
    check_case(&at_floor, normal(0.2, 3.0), "RISK_NORMALIZE:");
}

#[test]
fn maker_boost() {
    let boost = |maker, net, risk| {
        kpis(|k| (k.maker_taker_ratio, k.net_bps, k.risk_ratio) = (maker, Some(net), risk))
    };
    let all = "MAKER_BOOST: base_spread_bps 0.12->0.135 replace_rate_per_min 300->255 min_interval_ms 60->85";
    check(boost(0.85, 2.9, 0.3), "STABLE:");
    check(boost(0.8499, 2.9, 0.3), all);
    check(boost(0.72, 2.7, 0.3), all);
    check(boost(0.72, 2.6999, 0.3), "STABLE:");
    // risk 0.40 is both the moderate zone and the boost's limit: the zone owns min_interval_ms.
    check(
        boost(0.72, 2.9, 0.40),
        "RISK_MODERATE,MAKER_BOOST: min_interval_ms 60->65 impact_cap_ratio 0.1->0.095 base_spread_bps 0.12->0.135 replace_rate_per_min 300->255",
    );
    check(
        boost(0.72, 2.9, 0.4001),
        "RISK_MODERATE: min_interval_ms 60->65 impact_cap_ratio 0.1->0.095",
    );
    // A stable edge (the predecessor's "STABLE" clearing) never silences the boost.
    check(boost(0.72, 3.5, 0.36), all);
    let near_cap = Case {
        current: r#"{"min_interval_ms": 90}"#,
        ..Case::default()
    };
    check_case(
        &near_cap,
        boost(0.72, 2.9, 0.3),
        "MAKER_BOOST: base_spread_bps 0.12->0.135 replace_rate_per_min 300->255 min_interval_ms 90->100",
    );
    let p = Case::default().run(&boost(0.72, 2.9, 0.3));
    assert!(
        p.rationale.starts_with("MAKER_BOOST: risk=0.3 <= 0.4, maker/taker=0.72 < 0.85, net_bps=2.9 >= 2.7 -> base_spread_bps +0.015 (0.12 -> 0.135)"),
        "{}",
        p.rationale
    );
}

#[test]
fn latency_buffer_and_hard() {
    let lat = |p95| kpis(|k| k.p95_latency_ms = Some(p95));
    check(lat(329.9999), "STABLE:");
    check(
        lat(330.0),
        "LATENCY_BUFFER: concurrency_limit 10->9 tail_age_ms 600->650",
    );
    check(
        lat(360.0),
        "LATENCY_BUFFER: concurrency_limit 10->9 tail_age_ms 600->650",
    );
    check(
        lat(360.0001),
        "LATENCY_HARD: concurrency_limit 10->8 tail_age_ms 600->675",
    );
    // Scaled integers round down when they fall (the predecessor's int()): 3 x 0.90 = 2.7 -> 2.
    let three = Case {
        current: r#"{"concurrency_limit": 3}"#,
        ..Case::default()
    };
    check_case(
        &three,
        lat(345.0),
        "LATENCY_BUFFER: concurrency_limit 3->2 tail_age_ms 600->650",
    );
    // 1 x 0.90 rounds down to 0 and the registry holds it at 1: not proposed; the tail age still moves.
    let single = Case {
        current: r#"{"concurrency_limit": 1}"#,
        ..Case::default()
    };
    check_case(&single, lat(340.0), "LATENCY_BUFFER: tail_age_ms 600->650");
    check_case(&single, lat(400.0), "LATENCY_HARD: tail_age_ms 600->675");
    // Both bands cap tail_age_ms at 800, as the predecessor did.
    let old_tail = Case {
        current: r#"{"tail_age_ms": 780, "concurrency_limit": 20}"#,
        ..Case::default()
    };
    check_case(
        &old_tail,
        lat(400.0),
        "LATENCY_HARD: concurrency_limit 20->17 tail_age_ms 780->800",
    );
    check_case(
        &old_tail,
        lat(340.0),
        "LATENCY_BUFFER: concurrency_limit 20->18 tail_age_ms 780->800",
    );
    // A stable edge never silences the latency rules.
    check(
        kpis(|k| (k.net_bps, k.p95_latency_ms) = (Some(3.5), Some(340.0))),
        "LATENCY_BUFFER: concurrency_limit 10->9 tail_age_ms 600->650",
    );
}

#[test]
fn edge_drivers() {
    check(kpis(|k| k.adverse_bps_p95 = Some(3.5)), "STABLE:");
    check(
        kpis(|k| k.adverse_bps_p95 = Some(3.5001)),
        "DRIVER_ADVERSE: impact_cap_ratio 0.1->0.09 max_delta_ratio 0.15->0.14",
    );
    check(kpis(|k| k.slippage_bps_p95 = Some(2.5)), "STABLE:");
    check(
        kpis(|k| k.slippage_bps_p95 = Some(2.5001)),
        "DRIVER_SLIPPAGE: base_spread_bps_delta 0.05->0.07 tail_age_ms 600->630",
    );
    check(
        kpis(|k| (k.adverse_bps_p95, k.slippage_bps_p95) = (Some(4.0), Some(3.0))),
        "DRIVER_ADVERSE,DRIVER_SLIPPAGE: impact_cap_ratio 0.1->0.09 max_delta_ratio 0.15->0.14 base_spread_bps_delta 0.05->0.07 tail_age_ms 600->630",
    );
    let at_limits = Case {
        current: r#"{"impact_cap_ratio": 0.08, "max_delta_ratio": 0.10, "base_spread_bps_delta": 0.24, "tail_age_ms": 800}"#,
        ..Case::default()
    };
    check_case(
        &at_limits,
        kpis(|k| (k.adverse_bps_p95, k.slippage_bps_p95) = (Some(4.0), Some(3.0))),
        "DRIVER_ADVERSE,DRIVER_SLIPPAGE: base_spread_bps_delta 0.24->0.25",
    );
    // An earlier rule owns its parameters: the risk zone took impact_cap_ratio and tail_age_ms.
    check(
        kpis(|k| (k.risk_ratio, k.adverse_bps_p95, k.slippage_bps_p95) = (0.65, Some(4.0), Some(3.0))),
        "RISK_AGGRESSIVE,DRIVER_ADVERSE,DRIVER_SLIPPAGE: min_interval_ms 60->65 impact_cap_ratio 0.1->0.09 tail_age_ms 600->630 max_delta_ratio 0.15->0.14 base_spread_bps_delta 0.05->0.07",
    );
    let p = Case::default().run(&kpis(|k| {
        (k.risk_ratio, k.adverse_bps_p95) = (0.65, Some(4.0))
    }));
    assert!(
        p.rationale.contains(
            "impact_cap_ratio -0.01 skipped (impact_cap_ratio already moved by RISK_AGGRESSIVE)"
        ),
        "{}",
        p.rationale
    );
}

#[test]
fn fallback_conservative() {
    let negative = |net| kpis(|k| k.net_bps = Some(net));
    let after = |streak, cooldown| Case {
        memory: TunerMemory {
            negative_streak: streak,
            fallback_cooldown: cooldown,
        },
        ..Case::default()
    };
    let fires = "FALLBACK_CONSERVATIVE: min_interval_ms 60->80 replace_rate_per_min 300->240 base_spread_bps_delta 0.05->0.07";
    check_case(&after(1, 0), negative(-0.1), fires);
    check_case(&after(0, 0), negative(-0.1), "STABLE:");
    check_case(&after(5, 0), negative(0.0), "STABLE:");
    check_case(&after(5, 0), negative(-0.0001), fires);
    check_case(&after(3, 1), negative(-1.0), "STABLE:");
    let p = after(3, 1).run(&negative(-1.0));
    assert!(
        p.rationale.contains("FALLBACK_CONSERVATIVE held back"),
        "{}",
        p.rationale
    );
    let floor = Case {
        current: r#"{"replace_rate_per_min": 200, "min_interval_ms": 90}"#,
        ..after(1, 0)
    };
    check_case(
        &floor,
        negative(-2.0),
        "FALLBACK_CONSERVATIVE: min_interval_ms 90->100 replace_rate_per_min 200->150 base_spread_bps_delta 0.05->0.07",
    );
}

#[test]
fn fallback_fires_on_the_second_negative_iteration_and_not_the_next() {
    let registry = ParamRegistry::default();
    let policy = TuningPolicy::default();
    let ov = RuntimeOverrides::new();
    let mut memory = TunerMemory::default();
    let mut fired = Vec::new();
    for net in [
        Some(-1.5),
        Some(-0.8),
        Some(-0.5),
        Some(-0.4),
        None,
        Some(-1.0),
        Some(-1.0),
        Some(2.0),
    ] {
        let k = kpis(|k| k.net_bps = net);
        let p = propose(&k, &ov, &registry, &policy, &memory).expect("proposal");
        fired.push(
            p.rules_fired
                .contains(&Marker::Rule(Rule::FallbackConservative)),
        );
        memory = p.memory;
    }
    assert_eq!(fired, [false, true, false, true, false, false, true, false]);
    assert_eq!(
        memory,
        TunerMemory {
            negative_streak: 0,
            fallback_cooldown: 0
        }
    );
}

#[test]
fn conflict_guard() {
    // Under the default zones no rule lowers min_interval_ms while risk >= 0.40,
    // so a spread widening with a min_interval_ms increase passes untouched.
    check(
        kpis(|k| (k.risk_ratio, k.slippage_bps_p95) = (0.45, Some(3.0))),
        "RISK_MODERATE,DRIVER_SLIPPAGE: min_interval_ms 60->65 impact_cap_ratio 0.1->0.095 base_spread_bps_delta 0.05->0.07 tail_age_ms 600->630",
    );
    let mut policy = TuningPolicy::default();
    policy.conflict.risk_ratio_min = 0.30;
    let guarded = Case {
        policy,
        ..Case::default()
    };
    let speedup_and_widen = |risk| {
        kpis(|k| (k.risk_ratio, k.net_bps, k.slippage_bps_p95) = (risk, Some(3.0), Some(3.0)))
    };
    check_case(
        &guarded,
        speedup_and_widen(0.30),
        "RISK_NORMALIZE,DRIVER_SLIPPAGE,GUARD: base_spread_bps_delta 0.05->0.07 tail_age_ms 600->630",
    );
    check_case(
        &guarded,
        speedup_and_widen(0.2999),
        "RISK_NORMALIZE,DRIVER_SLIPPAGE: min_interval_ms 60->57 base_spread_bps_delta 0.05->0.07 tail_age_ms 600->630",
    );
    let p = guarded.run(&speedup_and_widen(0.32));
    assert_eq!(p.dropped.len(), 1);
    assert_eq!(
        (p.dropped[0].op.param, p.dropped[0].rule),
        (Param::MinIntervalMs, Rule::RiskNormalize)
    );
    assert!(!p.deltas.contains_key(&Param::MinIntervalMs));
    assert!(
        p.rationale
            .contains("GUARD conflict=spread_widen_vs_speedup"),
        "{}",
        p.rationale
    );
    // Without a widening there is no conflict.
    check_case(
        &guarded,
        kpis(|k| (k.risk_ratio, k.net_bps) = (0.32, Some(3.0))),
        "RISK_NORMALIZE: min_interval_ms 60->57",
    );
    let mut off = TuningPolicy::default();
    off.conflict.risk_ratio_min = 0.30;
    off.conflict.enabled = false;
    let unguarded = Case {
        policy: off,
        ..Case::default()
    };
    check_case(
        &unguarded,
        speedup_and_widen(0.32),
        "RISK_NORMALIZE,DRIVER_SLIPPAGE: min_interval_ms 60->57 base_spread_bps_delta 0.05->0.07 tail_age_ms 600->630",
    );
}

#[test]
fn stable() {
    let p = Case::default().run(&calm());
    assert_eq!(summary(&p), "STABLE:");
    assert_eq!(p.rationale, "STABLE");
    assert!(p.is_empty() && p.deltas.is_empty() && p.dropped.is_empty());
    // A rule whose condition holds is not STABLE, even when every move is at its limit.
    let at = Case {
        current: r#"{"impact_cap_ratio": 0.08, "max_delta_ratio": 0.10}"#,
        ..Case::default()
    };
    check_case(
        &at,
        kpis(|k| k.adverse_bps_p95 = Some(5.0)),
        "DRIVER_ADVERSE:",
    );
}

#[test]
fn disabled_rules_do_not_fire_and_do_not_shift_zones() {
    let mut policy = TuningPolicy::default();
    policy.risk_aggressive.enabled = false;
    policy.latency_hard.enabled = false;
    let case = Case {
        policy,
        ..Case::default()
    };
    check_case(
        &case,
        kpis(|k| (k.risk_ratio, k.p95_latency_ms) = (0.7, Some(500.0))),
        "STABLE:",
    );
}

#[test]
fn missing_net_bps_proposes_nothing_and_says_why() {
    let k = kpis(|k| (k.net_bps, k.risk_ratio, k.p95_latency_ms) = (None, 0.9, Some(500.0)));
    let p = Case::default().run(&k);
    assert!(p.is_empty() && p.rules_fired.is_empty() && p.deltas.is_empty());
    assert!(
        p.rationale.contains("net_bps is missing"),
        "{}",
        p.rationale
    );
}

#[test]
fn non_finite_kpis_are_errors_naming_the_field() {
    type SetKpi = fn(&mut IterationKpis, f64);
    let cases: [(&str, SetKpi); 9] = [
        ("risk_ratio", |k, v| k.risk_ratio = v),
        ("maker_taker_ratio", |k, v| k.maker_taker_ratio = v),
        ("net_bps", |k, v| k.net_bps = Some(v)),
        ("p95_latency_ms", |k, v| k.p95_latency_ms = Some(v)),
        ("adverse_bps_p95", |k, v| k.adverse_bps_p95 = Some(v)),
        ("slippage_bps_p95", |k, v| k.slippage_bps_p95 = Some(v)),
        ("gross_bps", |k, v| k.edge.gross_bps = Some(v)),
        ("order_age_p95_ms", |k, v| k.order_age_p95_ms = Some(v)),
        ("concurrency_ratio", |k, v| k.concurrency_ratio = v),
    ];
    let registry = ParamRegistry::default();
    for (field, set) in cases {
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let mut k = calm();
            set(&mut k, bad);
            let err = propose(
                &k,
                &RuntimeOverrides::new(),
                &registry,
                &TuningPolicy::default(),
                &TunerMemory::default(),
            )
            .expect_err("non-finite KPI");
            assert!(
                matches!(err, TunerError::NonFiniteKpi { field: f, .. } if f == field),
                "{field}: {err}"
            );
            assert!(err.to_string().contains(field), "{err}");
        }
    }
}

#[test]
fn an_unusable_policy_is_an_error() {
    let mut policy = TuningPolicy::default();
    policy.latency_buffer.concurrency_limit_scale = f64::NAN;
    let err = propose(
        &calm(),
        &RuntimeOverrides::new(),
        &ParamRegistry::default(),
        &policy,
        &TunerMemory::default(),
    )
    .expect_err("NaN policy");
    assert!(
        mmsoak_core::ErrorChain(&err)
            .to_string()
            .contains("latency_buffer.concurrency_limit_scale"),
        "{err}"
    );
}

/// Every registered rule can fire: KPIs made from its own condition's
/// clauses (each KPI on the side of its threshold the clause asks for)
/// make it fire, with the default policy and with fallback memory built up
/// iteration by iteration. A rule whose clauses contradict each other, or
/// one that is registered but never consulted, fails here.
#[test]
fn every_registered_rule_fires_on_its_own_condition() {
    use mmsoak_tuner::{ClauseOp, RuleInputs};
    let policy = TuningPolicy::default();
    assert_eq!(
        policy.rules().map(|r| r.rule()),
        Rule::ALL,
        "the registry is in Rule::ALL's order"
    );
    for rule in policy.rules() {
        let name = rule.rule().name();
        let mut k = calm();
        // Unset first, so that only the rule's own clauses set a driver KPI.
        let clauses = rule.condition(&policy, &RuleInputs::default());
        for clause in &clauses {
            let value = match clause.op {
                ClauseOp::AtLeast | ClauseOp::AtMost => clause.threshold,
                ClauseOp::Below => clause.threshold - 0.01,
                ClauseOp::Above => clause.threshold + 0.01,
            };
            match clause.kpi {
                "risk_ratio" => k.risk_ratio = value,
                "maker_taker_ratio" => k.maker_taker_ratio = value,
                "net_bps" => k.net_bps = Some(value),
                "p95_latency_ms" => k.p95_latency_ms = Some(value),
                "adverse_bps_p95" => k.adverse_bps_p95 = Some(value),
                "slippage_bps_p95" => k.slippage_bps_p95 = Some(value),
                other => panic!("{name}: a clause on {other}, which this test cannot set"),
            }
        }
        assert!(!clauses.is_empty(), "{name} has no condition");
        let registry = ParamRegistry::default();
        let current = RuntimeOverrides::new();
        let mut memory = TunerMemory::default();
        let mut fired = false;
        // The fallback needs a streak: as many iterations as it asks.
        for _ in 0..policy.fallback_conservative.consecutive_iterations.max(1) {
            let p = propose(&k, &current, &registry, &policy, &memory).expect("a proposal");
            fired = p.rules_fired.contains(&Marker::Rule(rule.rule()));
            memory = p.memory;
        }
        assert!(fired, "{name} never fires on its own condition ({k:?})");
        assert!(!rule.moves().is_empty(), "{name} moves nothing");
        assert!(
            !rule.aims().is_empty(),
            "{name} says nothing of what its moves are for"
        );
        for aim in rule.aims() {
            assert!(
                rule.moves().iter().any(|m| m.param == aim.param),
                "{name}: an aim for {}, which it does not move",
                aim.param
            );
        }
    }
}

/// Issue 14: when the latency floor (round trips as if sent with nothing
/// else in flight) is itself in the latency band, the latency rules stand
/// down, and the proposal says why; below the band they act as before.
#[test]
fn latency_rules_stand_down_when_the_floor_alone_is_in_their_band() {
    let case = Case::default();
    let soft = case.policy.latency_buffer.p95_latency_ms_min;
    for (p95, rule) in [(370.0, "LATENCY_HARD"), (soft + 5.0, "LATENCY_BUFFER")] {
        let acts = case.run(&kpis(|k| {
            k.p95_latency_ms = Some(p95);
            k.latency_floor_ms = Some(soft - 10.0);
        }));
        assert!(summary(&acts).starts_with(rule), "{}", summary(&acts));
        assert!(acts
            .operations
            .iter()
            .any(|o| o.op.param == Param::ConcurrencyLimit));

        let stands_down = case.run(&kpis(|k| {
            k.p95_latency_ms = Some(p95);
            k.latency_floor_ms = Some(soft);
        }));
        assert!(
            stands_down
                .operations
                .iter()
                .all(|o| o.op.param != Param::ConcurrencyLimit),
            "{}",
            summary(&stands_down)
        );
        assert!(
            stands_down.rationale.contains(&format!(
                "{rule} stands down: latency_floor_ms={soft} >= {soft}"
            )),
            "{}",
            stands_down.rationale
        );
        assert!(stands_down.rationale.contains("environment-bound"));
    }
}
