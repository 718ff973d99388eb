//! Stylized facts of liquid electronic markets, measured on the `default`
//! scenario by probes that read only what a market participant sees: the
//! tape's trade prints and depth changes (the book replayed here, not the
//! generator's state), and the bot's own fills. Each test keeps a fact
//! inside the range the literature reports (docs/sim.md, "Calibration",
//! cites each source); none reads a generator parameter.
//!
//! `cargo test -p mmsoak-sim --test it facts:: -- --nocapture` prints every
//! measured value.

use std::time::Duration;

use mmsoak_core::{Param, ParamRegistry};
use mmsoak_sim::{
    generate, iteration_seed, simulate_iteration, MarketEventKind, MarketTape, Scenario, SimOutput,
    SimParams, TapeBook,
};

const HOUR_MS: u64 = 3_600_000;
const SEEDS: [u64; 6] = [11, 12, 13, 14, 15, 16];

fn scenario() -> Scenario {
    Scenario::builtin("default").expect("default scenario")
}

/// The tape of iteration 1 of `seed`, one simulated hour.
fn tape(seed: u64) -> MarketTape {
    generate(&scenario().market, iteration_seed(seed, 1), HOUR_MS)
}

/// One market order as the tape shows it: the prints sharing one exchange
/// time and side.
#[derive(Debug, Clone, Copy)]
struct Order {
    ts: i64,
    buy: bool,
    qty: f64,
}

fn market_orders(tape: &MarketTape) -> Vec<Order> {
    let mut out: Vec<Order> = Vec::new();
    for e in &tape.events {
        if e.kind != MarketEventKind::Trade {
            continue;
        }
        match out.last_mut() {
            Some(o) if o.ts == e.exch_ts && o.buy == e.buy => o.qty += e.qty,
            _ => out.push(Order {
                ts: e.exch_ts,
                buy: e.buy,
                qty: e.qty,
            }),
        }
    }
    out
}

/// The published book replayed: the mid and the spread after every event
/// time.
struct Replay {
    ts: Vec<i64>,
    mid: Vec<f64>,
    spread_ticks: Vec<f64>,
}

impl Replay {
    fn of(tape: &MarketTape, tick: f64) -> Replay {
        let mut book = TapeBook::default();
        let mut r = Replay {
            ts: Vec::new(),
            mid: Vec::new(),
            spread_ticks: Vec::new(),
        };
        for (i, e) in tape.events.iter().enumerate() {
            book.apply(e, tick);
            let last_at_this_time = tape
                .events
                .get(i + 1)
                .is_none_or(|n| n.exch_ts != e.exch_ts);
            if let (true, Some(b), Some(a)) = (last_at_this_time, book.best_bid(), book.best_ask())
            {
                r.ts.push(e.exch_ts);
                r.mid.push((b + a) as f64 * tick / 2.0);
                r.spread_ticks.push((a - b) as f64);
            }
        }
        r
    }

    /// Index of the last state at or before `ts` (`strict`: before it).
    fn at(&self, ts: i64, strict: bool) -> usize {
        let n = self
            .ts
            .partition_point(|&t| if strict { t < ts } else { t <= ts });
        n.saturating_sub(1)
    }

    fn mid_at(&self, ts: i64) -> f64 {
        self.mid[self.at(ts, false)]
    }

    fn mid_before(&self, ts: i64) -> f64 {
        self.mid[self.at(ts, true)]
    }
}

fn sign(buy: bool) -> f64 {
    if buy {
        1.0
    } else {
        -1.0
    }
}

/// Least-squares slope of y on x.
fn slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    let (mx, my) = points
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x / n, b + y / n));
    let (sxy, sxx) = points.iter().fold((0.0, 0.0), |(a, b), (x, y)| {
        (a + (x - mx) * (y - my), b + (x - mx) * (x - mx))
    });
    sxy / sxx
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Trade signs are persistent with long memory: the autocorrelation of
/// market-order signs decays as a power law lag^-γ, γ ≈ 0.5–0.7 (Lillo &
/// Farmer 2004: 0.6 on the LSE).
#[test]
fn trade_signs_have_long_memory() {
    let lags: Vec<usize> = vec![5, 8, 13, 20, 32, 50, 80, 126, 200];
    let mut acf = vec![0.0; lags.len()];
    let mut lag1 = 0.0;
    for seed in SEEDS {
        let signs: Vec<f64> = market_orders(&tape(seed))
            .iter()
            .map(|o| sign(o.buy))
            .collect();
        let m = mean(&signs);
        let c = |l: usize| {
            let n = signs.len() - l;
            (0..n).map(|i| signs[i] * signs[i + l]).sum::<f64>() / n as f64 - m * m
        };
        lag1 += c(1) / SEEDS.len() as f64;
        for (a, &l) in acf.iter_mut().zip(&lags) {
            *a += c(l) / SEEDS.len() as f64;
        }
    }
    let points: Vec<(f64, f64)> = lags
        .iter()
        .zip(&acf)
        .filter(|(_, c)| **c > 0.0)
        .map(|(&l, &c)| ((l as f64).ln(), c.ln()))
        .collect();
    let gamma = -slope(&points);
    eprintln!(
        "sign autocorrelation: lag 1 {lag1:.3}, decay exponent {gamma:.2} ({} of {} lags positive)",
        points.len(),
        lags.len()
    );
    assert!(points.len() >= 7, "{acf:?}");
    assert!((0.3..=0.9).contains(&gamma), "exponent {gamma}: {acf:?}");
    assert!(lag1 > 0.05, "lag-1 autocorrelation {lag1}");
}

/// Market order sizes have a heavy tail: P(size > x) ~ x^-ζ with ζ ≈ 1.5
/// (Gopikrishnan et al. 2000).
#[test]
fn order_sizes_have_a_heavy_tail() {
    let mut sizes: Vec<f64> = SEEDS
        .iter()
        .flat_map(|&s| market_orders(&tape(s)).into_iter().map(|o| o.qty))
        .collect();
    sizes.sort_by(|a, b| b.total_cmp(a));
    // Hill's estimator on the largest 2%.
    let k = sizes.len() / 50;
    let x_k = sizes[k];
    let zeta = 1.0
        / mean(
            &sizes[..k]
                .iter()
                .map(|x| (x / x_k).ln())
                .collect::<Vec<_>>(),
        );
    eprintln!(
        "order size tail exponent (Hill, top 2% of {}): {zeta:.2}",
        sizes.len()
    );
    assert!((1.2..=2.0).contains(&zeta), "{zeta}");
}

/// Trade arrivals cluster: counts in 10 s windows vary far more than a
/// Poisson process's, as a self-exciting process with a branching ratio of
/// 0.5–0.9 does (Filimonov & Sornette 2012; Bacry, Mastromatteo & Muzy
/// 2015). For windows much longer than the excitation's memory the variance
/// over the mean is 1 / (1 − n)².
#[test]
fn trade_arrivals_cluster() {
    let mut implied = Vec::new();
    for seed in SEEDS {
        let orders = market_orders(&tape(seed));
        let mut counts = vec![0.0f64; 360];
        for o in &orders {
            let w = usize::try_from(o.ts / 10_000_000_000).unwrap_or(0).min(359);
            counts[w] += 1.0;
        }
        let m = mean(&counts);
        let var = counts.iter().map(|c| (c - m) * (c - m)).sum::<f64>() / (counts.len() - 1) as f64;
        implied.push(1.0 - (m / var).sqrt());
    }
    let n = mean(&implied);
    eprintln!("trade clustering: implied branching ratio {n:.2} (per seed {implied:.2?})");
    assert!((0.5..=0.9).contains(&n), "{implied:?}");
}

/// Price impact is concave in size: a market order ten times larger moves
/// the mid far less than ten times more (per-trade impact ~ size^0.2–0.5:
/// Lillo, Farmer & Mantegna 2003; the square-root law: Tóth et al. 2011).
#[test]
fn impact_is_concave_in_size() {
    let mut by_size: Vec<(f64, f64)> = Vec::new();
    for seed in SEEDS {
        let t = tape(seed);
        let r = Replay::of(&t, scenario().market.tick_size);
        for o in market_orders(&t) {
            let before = r.mid_before(o.ts);
            let after = r.mid_at(o.ts + 1_000_000_000);
            by_size.push((o.qty, sign(o.buy) * (after - before) / before * 1e4));
        }
    }
    by_size.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = by_size.len();
    let bin = |from: usize, to: usize| {
        let part = &by_size[from..to];
        (
            mean(&part.iter().map(|p| p.0).collect::<Vec<_>>()),
            mean(&part.iter().map(|p| p.1).collect::<Vec<_>>()),
        )
    };
    let (q_small, i_small) = bin(0, n / 2);
    let (q_large, i_large) = bin(n * 9 / 10, n);
    let exponent = (i_large / i_small).ln() / (q_large / q_small).ln();
    eprintln!(
        "impact after 1 s: {i_small:.3} bps at {q_small:.1} lots, {i_large:.3} bps at {q_large:.1} lots: exponent {exponent:.2}"
    );
    assert!(i_small > 0.0 && i_large > i_small, "{i_small} / {i_large}");
    assert!((0.1..=0.7).contains(&exponent), "{exponent}");
}

/// The book is resilient, not instant: a market order that empties the
/// best level leaves the spread wider, and the depth it took comes back
/// over seconds (Large 2007: a half-life of about 20 s on the LSE; faster
/// in today's liquid books, Lo & Hall 2015).
#[test]
fn the_book_refills_over_seconds_after_a_sweep() {
    let tick = scenario().market.tick_size;
    let mut half_back = Vec::new();
    let (mut before, mut after) = (Vec::new(), Vec::new());
    for seed in SEEDS {
        let t = tape(seed);
        let mut book = TapeBook::default();
        // Levels emptied by an order: (side is bid, tick, depth before, time).
        let mut watching: Vec<(bool, i64, f64, i64)> = Vec::new();
        let spread = |book: &TapeBook| match (book.best_bid(), book.best_ask()) {
            (Some(b), Some(a)) => Some((a - b) as f64),
            _ => None,
        };
        let mut i = 0;
        while i < t.events.len() {
            let ts = t.events[i].exch_ts;
            let spread_before = spread(&book);
            let mut cleared = Vec::new();
            // Every event of this exchange time.
            while i < t.events.len() && t.events[i].exch_ts == ts {
                let e = t.events[i];
                if e.kind == MarketEventKind::Trade {
                    // The print's level (bid side for a sell), if it is the best.
                    let k = (e.px / tick).round() as i64;
                    let (best, side) = if e.buy {
                        (book.best_ask(), &book.asks)
                    } else {
                        (book.best_bid(), &book.bids)
                    };
                    if best == Some(k) {
                        cleared.push((!e.buy, k, side.get(&k).copied().unwrap_or(0.0)));
                    }
                }
                book.apply(&e, tick);
                i += 1;
            }
            for (bid_side, k, depth) in cleared {
                let side = if bid_side { &book.bids } else { &book.asks };
                if !side.contains_key(&k) && depth > 0.0 {
                    watching.push((bid_side, k, depth, ts));
                    if let (Some(b), Some(a)) = (spread_before, spread(&book)) {
                        before.push(b);
                        after.push(a);
                    }
                }
            }
            watching.retain(|&(bid_side, k, depth, since)| {
                let side = if bid_side { &book.bids } else { &book.asks };
                let elapsed = (ts - since) as f64 / 1e9;
                if side.get(&k).is_some_and(|&q| q >= depth / 2.0) {
                    half_back.push(elapsed);
                    false
                } else {
                    elapsed < 120.0
                }
            });
        }
    }
    half_back.sort_by(f64::total_cmp);
    let median = half_back[half_back.len() / 2];
    let (spread_before, spread_after) = (mean(&before), mean(&after));
    eprintln!(
        "resiliency: {} emptied levels back to half their depth after {median:.1} s (median); spread {spread_before:.2} ticks before the order, {spread_after:.2} right after",
        half_back.len()
    );
    assert!(
        spread_after > spread_before,
        "{spread_before} vs {spread_after}"
    );
    assert!((1.0..=30.0).contains(&median), "{median}");
}

/// Returns are not predictable from past returns beyond the shortest
/// horizons: the autocorrelation of 5 s mid returns stays small (Cont 2001)
/// although trade signs persist (Lillo & Farmer 2004 call this the
/// efficient market's long memory).
#[test]
fn mid_returns_are_nearly_uncorrelated() {
    let mut rho = [0.0f64; 3];
    for seed in SEEDS {
        let t = tape(seed);
        let r = Replay::of(&t, scenario().market.tick_size);
        let mids: Vec<f64> = (1..=720).map(|s| r.mid_at(s * 5_000_000_000)).collect();
        let ret: Vec<f64> = mids.windows(2).map(|w| (w[1] / w[0]).ln()).collect();
        let m = mean(&ret);
        let var = ret.iter().map(|x| (x - m) * (x - m)).sum::<f64>();
        for (lag, out) in rho.iter_mut().enumerate() {
            let l = lag + 1;
            let cov: f64 = (0..ret.len() - l)
                .map(|i| (ret[i] - m) * (ret[i + l] - m))
                .sum();
            *out += cov / var / SEEDS.len() as f64;
        }
    }
    eprintln!("5 s return autocorrelation, lags 1-3: {rho:.3?}");
    assert!(rho.iter().all(|r| r.abs() < 0.15), "{rho:?}");
}

fn bot_hour(seed: u64, params: &SimParams) -> SimOutput {
    simulate_iteration(&scenario(), params, seed, 1, Duration::from_secs(3600)).expect("simulate")
}

/// Maker markouts per horizon and by depth, from the bot's own fills and
/// the replayed book.
struct Markouts {
    /// Horizon (s) → mean markout of maker fills, bps of notional.
    by_horizon: Vec<(u64, f64)>,
    /// Mean captured half-spread of maker fills (mid before − price), bps.
    captured: f64,
    /// 10 s markout of the deepest fifth vs the shallower half, bps.
    deep: f64,
    shallow: f64,
}

fn markouts(seeds: &[u64]) -> Markouts {
    let horizons = [1u64, 10, 60];
    let mut sums = vec![(0.0, 0.0); horizons.len()];
    let mut captured = (0.0, 0.0);
    let mut by_depth: Vec<(f64, f64)> = Vec::new();
    let params = SimParams::defaults(&ParamRegistry::default());
    for &seed in seeds {
        let out = bot_hour(seed, &params);
        let r = Replay::of(&tape(seed), scenario().market.tick_size);
        for f in out.fills.iter().filter(|f| f.maker) {
            let s = sign(f.buy);
            let m0 = r.mid_before(f.ts_ns);
            let notional = f.price * f.qty;
            let depth = s * (m0 - f.price) / m0 * 1e4;
            captured.0 += depth * notional;
            captured.1 += notional;
            for (sum, h) in sums.iter_mut().zip(horizons) {
                let mh = r.mid_at(f.ts_ns + h as i64 * 1_000_000_000);
                sum.0 += s * (mh - m0) / m0 * 1e4 * notional;
                sum.1 += notional;
            }
            let m10 = r.mid_at(f.ts_ns + 10_000_000_000);
            by_depth.push((depth, s * (m10 - m0) / m0 * 1e4));
        }
    }
    by_depth.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = by_depth.len();
    let avg = |part: &[(f64, f64)]| mean(&part.iter().map(|p| p.1).collect::<Vec<_>>());
    Markouts {
        by_horizon: horizons
            .into_iter()
            .zip(sums)
            .map(|(h, (a, b))| (h, a / b))
            .collect(),
        captured: captured.0 / captured.1,
        deep: avg(&by_depth[n * 4 / 5..]),
        shallow: avg(&by_depth[..n / 2]),
    }
}

/// Adverse selection grows with the horizon (maker markouts more negative
/// at 60 s than at 1 s), the realized spread is a fraction of the captured
/// half-spread, and fills deep in the book, which only large orders reach,
/// are the most adversely selected (Glosten & Milgrom 1985; markout
/// studies of maker fills).
#[test]
fn maker_fills_are_adversely_selected_more_with_horizon_and_depth() {
    let m = markouts(&SEEDS[..3]);
    let at = |h: u64| {
        m.by_horizon
            .iter()
            .find(|(x, _)| *x == h)
            .map_or(f64::NAN, |p| p.1)
    };
    let realized = (m.captured + at(60)) / m.captured;
    eprintln!(
        "maker markouts: 1 s {:.2}, 10 s {:.2}, 60 s {:.2} bps; captured {:.2} bps, realized at 60 s {:.0}% of it; 10 s markout deep {:.2} vs shallow {:.2} bps",
        at(1),
        at(10),
        at(60),
        m.captured,
        realized * 100.0,
        m.deep,
        m.shallow
    );
    assert!(at(1) < 0.0, "{:?}", m.by_horizon);
    assert!(at(60) < at(1), "{:?}", m.by_horizon);
    assert!((0.0..1.0).contains(&realized), "{realized}");
    assert!(
        m.deep < m.shallow,
        "deep {} vs shallow {}",
        m.deep,
        m.shallow
    );
}

/// Edge per fill trades off against volume (Avellaneda & Stoikov 2008;
/// Guéant, Lehalle & Fernandez-Tapia 2013): widening the quotes beyond the
/// market's own spread lowers PnL per hour at every step, and beyond some
/// spread the edge per notional stops rising (only the larger, informed
/// orders reach deep quotes). Measured with the parameters at their
/// defaults but the spread (half-spreads 3.75–8.75 bps; the market's own
/// half-spread is 3 bps).
#[test]
fn wider_quotes_earn_more_per_trade_but_pnl_per_hour_peaks_inside() {
    let spreads = [0.10, 0.15, 0.20, 0.25, 0.30];
    let mut net = Vec::new();
    let mut pnl = Vec::new();
    for &b in &spreads {
        let params = SimParams::defaults(&ParamRegistry::default()).with(Param::BaseSpreadBps, b);
        let (mut n, mut p) = (0.0, 0.0);
        for &seed in &SEEDS {
            let t = bot_hour(seed, &params).report.totals;
            n += t.net_bps.unwrap_or(0.0) / SEEDS.len() as f64;
            p += t.pnl_per_hour.unwrap_or(0.0) / SEEDS.len() as f64;
        }
        net.push(n);
        pnl.push(p);
    }
    eprintln!("base_spread_bps {spreads:?}: net {net:.2?} bps, PnL/h {pnl:.1?}");
    assert!(
        pnl.windows(2).all(|w| w[1] < w[0]),
        "PnL per hour does not fall with the spread: {pnl:?}"
    );
    let peak = net
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(i, _)| i);
    assert!(
        peak < spreads.len() - 1,
        "the edge still rises at the widest spread: {net:?}"
    );
}
