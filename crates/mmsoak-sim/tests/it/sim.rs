//! The simulator end to end: determinism, the report format, recorded
//! markets, and causality (directions that must hold across seeds).

use std::time::Duration;

use mmsoak_core::{EdgeReport, Param, ParamRegistry};
use mmsoak_sim::{
    generate, iteration_seed, simulate_iteration, simulate_recorded, write_market_npz,
    OrderPurpose, RecordedMarket, Scenario, SimOutput, SimParams,
};

const SEEDS: [u64; 6] = [1, 2, 3, 4, 5, 6];
const TEN_MINUTES: Duration = Duration::from_secs(600);
/// Causality runs: one simulated hour, the iteration length a soak uses
/// (half an hour left "faster requotes -> more taker share" to noise for
/// one seed of six: 0.393 vs 0.387; an hour gives 0.372 vs 0.400).
const HOUR: Duration = Duration::from_secs(3600);

fn defaults() -> SimParams {
    SimParams::defaults(&ParamRegistry::default())
}

fn sim(scenario: &str, p: &SimParams, seed: u64) -> SimOutput {
    let s = Scenario::builtin(scenario).expect("built-in scenario");
    simulate_iteration(&s, p, seed, 1, HOUR).expect("simulate")
}

fn maker_share(o: &SimOutput) -> f64 {
    let f = o.report.totals.fills.expect("fills");
    f.maker_volume / (f.maker_volume + f.taker_volume)
}

fn fill_count(o: &SimOutput) -> u64 {
    let f = o.report.totals.fills.expect("fills");
    f.maker_count + f.taker_count
}

fn p95(o: &SimOutput) -> f64 {
    o.report.totals.p95_latency_ms.expect("latency")
}

#[test]
fn same_iteration_same_bytes_other_iteration_other_market() {
    let s = Scenario::builtin("default").expect("default");
    let p = defaults();
    let a = simulate_iteration(&s, &p, 9, 4, TEN_MINUTES).expect("a");
    let b = simulate_iteration(&s, &p, 9, 4, TEN_MINUTES).expect("b");
    let c = simulate_iteration(&s, &p, 9, 5, TEN_MINUTES).expect("c");
    assert_eq!(a.report_bytes(), b.report_bytes());
    assert_eq!(a.fills_bytes(), b.fills_bytes());
    assert_ne!(a.fills_bytes(), c.fills_bytes());
    assert_ne!(iteration_seed(9, 4), iteration_seed(9, 5));
}

#[test]
fn report_reads_back_exactly_through_the_edge_report_reader() {
    let o = sim("default", &defaults(), 2);
    let parsed = EdgeReport::parse(&o.report_bytes(), "EDGE_REPORT.json".as_ref())
        .expect("EDGE_REPORT parses");
    assert_eq!(parsed, o.report);
    assert!(fill_count(&o) > 20, "{} fills", fill_count(&o));
    // Fills are ordered by (time, order id) and the log has one line each.
    assert!(o
        .fills
        .windows(2)
        .all(|w| (w[0].ts_ns, w[0].order_id) < (w[1].ts_ns, w[1].order_id)));
    let lines = o.fills_bytes().iter().filter(|b| **b == b'\n').count();
    assert_eq!(lines as u64, fill_count(&o));
}

#[test]
fn invalid_duration_and_parameters_are_errors() {
    let s = Scenario::builtin("calm").expect("calm");
    let err = simulate_iteration(&s, &defaults(), 1, 1, Duration::from_millis(10))
        .expect_err("too short");
    assert!(err.to_string().contains("duration"), "{err}");
    let p = defaults().with(Param::TailAgeMs, f64::NAN);
    let err = simulate_iteration(&s, &p, 1, 1, TEN_MINUTES).expect_err("NaN");
    assert!(err.to_string().contains("tail_age_ms"), "{err}");
}

#[test]
fn recorded_market_replays_the_same_fills() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = Scenario::builtin("default").expect("default");
    let p = defaults();
    let d = Duration::from_secs(120);
    let tape = generate(&s.market, iteration_seed(4, 1), 120_000);
    let path = dir.path().join("market.npz");
    write_market_npz(&tape, &path).expect("write npz");
    let generated = simulate_iteration(&s, &p, 4, 1, d).expect("generated");
    let market = RecordedMarket::open(&s, &path).expect("opens");
    let replayed = simulate_recorded(&s, &p, 4, 1, &market, d).expect("replayed");
    assert!(!generated.fills.is_empty());
    assert_eq!(generated.fills, replayed.fills);
    assert_eq!(generated.market_events, tape.events.len());
    assert_eq!(replayed.market_events, tape.events.len());
    // A recording carries epoch nanoseconds: the same market, started at
    // 2023-11-14, replays to the same iteration.
    let mut epoch = tape.clone();
    for e in &mut epoch.events {
        e.exch_ts += 1_700_000_000_000_000_000;
        e.local_ts += 1_700_000_000_000_000_000;
    }
    let epoch_path = dir.path().join("epoch.npz");
    write_market_npz(&epoch, &epoch_path).expect("write npz");
    let epoch_market = RecordedMarket::open(&s, &epoch_path).expect("opens");
    assert_eq!(epoch_market.content_hash(), market.content_hash());
    let from_epoch = simulate_recorded(&s, &p, 4, 1, &epoch_market, d).expect("replayed");
    assert_eq!(from_epoch, replayed);
    let missing = RecordedMarket::open(&s, &dir.path().join("nope.npz")).expect_err("missing file");
    assert!(missing.to_string().contains("nope.npz"), "{missing}");
}

/// A recorded market that is not one (truncated, not a zip, no `data`
/// array) is an error naming the file, never a panic.
#[test]
fn a_bad_recorded_market_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = Scenario::builtin("default").expect("default");
    let tape = generate(&s.market, iteration_seed(4, 1), 60_000);
    let good = dir.path().join("market.npz");
    write_market_npz(&tape, &good).expect("write npz");
    let bytes = std::fs::read(&good).expect("read npz");
    let cases: [(&str, Vec<u8>); 4] = [
        ("truncated.npz", bytes[..bytes.len() / 2].to_vec()),
        ("tail_cut.npz", bytes[..bytes.len() - 30].to_vec()),
        ("not_a_zip.npz", b"{\"not\": \"npz\"}".to_vec()),
        ("empty.npz", Vec::new()),
    ];
    for (name, content) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, content).expect("write case");
        let opened = std::panic::catch_unwind(|| RecordedMarket::open(&s, &path));
        let err = opened
            .unwrap_or_else(|_| panic!("{name}: opening panicked"))
            .expect_err(name);
        assert!(err.to_string().contains(name), "{name}: {err}");
    }
}

fn taker_share(o: &SimOutput) -> f64 {
    1.0 - maker_share(o)
}

/// A wider spread fills less; where the bot takes liquidity at all (its
/// skewed quote crossing the touch), it takes less of it. In `default` the
/// market's own spread (6 ticks) is wider than the skew at the inventories
/// the bot holds, so its maker share stays near 1 at every spread; the
/// `volatile` market, where inventory swings further, shows the direction.
#[test]
fn wider_spread_more_maker_share_fewer_fills() {
    for seed in SEEDS {
        for scenario in ["default", "volatile"] {
            let narrow = sim(scenario, &defaults(), seed);
            let wide = sim(scenario, &defaults().with(Param::BaseSpreadBps, 0.22), seed);
            assert!(
                fill_count(&wide) < fill_count(&narrow),
                "{scenario} seed {seed}"
            );
            if scenario == "volatile" {
                assert!(
                    maker_share(&wide) > maker_share(&narrow),
                    "seed {seed}: maker share {} (narrow) vs {} (wide)",
                    maker_share(&narrow),
                    maker_share(&wide)
                );
            }
        }
    }
}

#[test]
fn faster_requotes_at_tight_spread_more_taker_share_and_latency() {
    for seed in SEEDS {
        let tight = defaults().with(Param::BaseSpreadBps, 0.08);
        let slow = sim(
            "default",
            &tight
                .with(Param::ReplaceRatePerMin, 120.0)
                .with(Param::MinIntervalMs, 100.0),
            seed,
        );
        let fast = sim(
            "default",
            &tight
                .with(Param::ReplaceRatePerMin, 600.0)
                .with(Param::MinIntervalMs, 40.0),
            seed,
        );
        assert!(
            p95(&fast) > p95(&slow),
            "seed {seed}: {} vs {}",
            p95(&slow),
            p95(&fast)
        );
        assert!(
            taker_share(&fast) > taker_share(&slow),
            "seed {seed}: taker share {} (slow) vs {} (fast)",
            taker_share(&slow),
            taker_share(&fast)
        );
        assert!(
            fast.counters.quotes_sent > slow.counters.quotes_sent,
            "seed {seed}"
        );
    }
}

#[test]
fn more_concurrency_higher_latency_fewer_concurrency_blocks() {
    for seed in SEEDS {
        let low = sim(
            "default",
            &defaults().with(Param::ConcurrencyLimit, 2.0),
            seed,
        );
        let high = sim(
            "default",
            &defaults().with(Param::ConcurrencyLimit, 20.0),
            seed,
        );
        assert!(
            p95(&high) > p95(&low),
            "seed {seed}: {} vs {}",
            p95(&low),
            p95(&high)
        );
        assert!(
            high.counters.concurrency_blocks < low.counters.concurrency_blocks,
            "seed {seed}"
        );
    }
}

/// Issue 14: the position limit is checked before concurrency, and a wish
/// to quote that the limit blocks counts once per quote decision, so
/// cutting concurrency cannot make risk blocks disappear while inventory
/// stays where it was (before, 10 -> 1 took the risk ratio 0.478 -> 0.022
/// with mean |inventory| unchanged). On `volatile`, where the limit binds.
#[test]
fn lower_concurrency_does_not_hide_risk_blocks() {
    let (mut ratio, mut inventory) = ([0.0; 2], [0.0; 2]);
    for seed in SEEDS {
        for (k, limit) in [10.0, 1.0].into_iter().enumerate() {
            let o = sim(
                "volatile",
                &defaults().with(Param::ConcurrencyLimit, limit),
                seed,
            );
            ratio[k] += o.counters.risk_blocks as f64 / o.counters.requests as f64;
            inventory[k] += o.counters.mean_abs_inventory;
        }
    }
    let inventory_change = inventory[1] / inventory[0];
    assert!(
        (0.8..=1.25).contains(&inventory_change),
        "mean |inventory| moved: {inventory:?}"
    );
    assert!(ratio[0] > 0.0, "the limit never bound: {ratio:?}");
    assert!(
        ratio[1] >= 0.5 * ratio[0],
        "risk ratio fell with concurrency (10 -> 1): {ratio:?}"
    );
}

/// Issue 14: latency has an exchange side and an own-orders side, and a bot
/// can meet the 340 ms target without giving up replacing its quotes (at
/// `concurrency_limit` 1 a replace, which needs two slots, is impossible).
#[test]
fn the_latency_target_is_reachable_while_still_replacing_quotes() {
    for seed in SEEDS {
        let o = sim(
            "default",
            &defaults().with(Param::ConcurrencyLimit, 2.0),
            seed,
        );
        assert!(p95(&o) <= 340.0, "seed {seed}: p95 {}", p95(&o));
        assert!(
            o.counters.replace_cancels > 1_000,
            "seed {seed}: {} replaces",
            o.counters.replace_cancels
        );
    }
}

fn floor(o: &SimOutput) -> f64 {
    o.report.totals.latency_floor_ms.expect("latency floor")
}

/// Issue 14: EDGE_REPORT's `latency_floor_ms` is the p95 of round trips
/// without their own-orders part: what p95 would be with nothing else in
/// flight. It is what `concurrency_limit` 1 gets close to, it sits well
/// under p95 at the default concurrency, and after `latency-spike`'s step
/// it is above the 340 ms target by itself.
#[test]
fn the_latency_floor_is_what_fewer_orders_in_flight_approach() {
    let spike = Scenario::builtin("latency-spike").expect("latency-spike");
    for seed in SEEDS {
        let wide = sim("default", &defaults(), seed);
        let alone = sim(
            "default",
            &defaults().with(Param::ConcurrencyLimit, 1.0),
            seed,
        );
        assert!(
            floor(&wide) < p95(&wide) - 20.0,
            "seed {seed}: {} vs {}",
            floor(&wide),
            p95(&wide)
        );
        assert!(
            (floor(&wide) - p95(&alone)).abs() < 15.0,
            "seed {seed}: floor {} vs p95 at concurrency 1 {}",
            floor(&wide),
            p95(&alone)
        );
        assert!(floor(&alone) <= p95(&alone) + 1e-9);
        let after = simulate_iteration(&spike, &defaults(), seed, 12, HOUR).expect("simulate");
        assert!(floor(&after) > 340.0, "seed {seed}: {}", floor(&after));
    }
}

#[test]
fn smaller_orders_fewer_risk_blocks_and_smaller_inventory() {
    for seed in SEEDS {
        let big = sim(
            "default",
            &defaults().with(Param::ImpactCapRatio, 0.12),
            seed,
        );
        let small = sim(
            "default",
            &defaults().with(Param::ImpactCapRatio, 0.08),
            seed,
        );
        assert!(
            small.counters.risk_blocks < big.counters.risk_blocks,
            "seed {seed}"
        );
        assert!(
            small.counters.mean_abs_inventory < big.counters.mean_abs_inventory,
            "seed {seed}: mean |inventory| {} (big) vs {} (small)",
            big.counters.mean_abs_inventory,
            small.counters.mean_abs_inventory
        );
    }
}

/// A tighter position limit keeps inventory smaller, but it blocks MORE
/// quotes, not fewer: the bot reaches the limit sooner. The issue's
/// "lower max_delta_ratio -> risk blocks down" is not what a position limit
/// does; docs/sim.md says so. This test checks the realistic direction.
#[test]
fn tighter_position_limit_smaller_inventory_more_risk_blocks() {
    for seed in SEEDS {
        let loose = sim(
            "default",
            &defaults().with(Param::MaxDeltaRatio, 0.16),
            seed,
        );
        let tight = sim(
            "default",
            &defaults().with(Param::MaxDeltaRatio, 0.10),
            seed,
        );
        assert!(
            tight.counters.mean_abs_inventory < loose.counters.mean_abs_inventory,
            "seed {seed}: mean |inventory| {} (loose) vs {} (tight)",
            loose.counters.mean_abs_inventory,
            tight.counters.mean_abs_inventory
        );
        assert!(
            tight.counters.risk_blocks > loose.counters.risk_blocks,
            "seed {seed}"
        );
    }
}

/// Flattening only happens beyond the position limit (a replaced quote that
/// filled while its cancel was in flight), which the default market rarely
/// produces; the volatile market does it often enough to count.
#[test]
fn longer_tail_age_fewer_cancels_and_flattening_trades() {
    let mut totals = (0, 0);
    for seed in SEEDS {
        // The tightest position limit the bounds allow: beyond it is where
        // flattening happens.
        let p = defaults().with(Param::MaxDeltaRatio, 0.10);
        let short = sim("volatile", &p.with(Param::TailAgeMs, 300.0), seed);
        let long = sim("volatile", &p.with(Param::TailAgeMs, 1200.0), seed);
        assert!(
            long.counters.tail_cancels < short.counters.tail_cancels,
            "seed {seed}"
        );
        let taker_flattens = |o: &SimOutput| {
            o.fills
                .iter()
                .filter(|f| f.purpose == OrderPurpose::Flatten && !f.maker)
                .count()
        };
        totals.0 += taker_flattens(&short);
        totals.1 += taker_flattens(&long);
    }
    // Flattening is rare once the position limit holds several orders
    // (a few fills per hour): counted over all seeds.
    eprintln!("taker flattening fills, tail 300 vs 1200 ms: {totals:?}");
    assert!(totals.1 < totals.0, "{totals:?}");
}

/// Beyond the position limit the bot flattens within a few `tail_age_ms`
/// (an immediate-or-cancel order every `tail_age_ms` until it is back):
/// inventory never stays there, even in the fast market where it gets
/// there most often.
#[test]
fn inventory_beyond_the_limit_is_flattened_within_seconds() {
    for seed in SEEDS {
        for scenario in ["default", "volatile"] {
            let o = sim(scenario, &defaults(), seed);
            let longest = o.counters.max_beyond_limit_ms;
            assert!(
                longest < 3_000.0,
                "{scenario} seed {seed}: {longest} ms beyond the limit"
            );
        }
    }
}
