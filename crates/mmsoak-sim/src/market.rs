//! The market generator: a seeded efficient-price path with volatility
//! regimes and jumps, an L2 book around it, and Poisson market orders that
//! sweep the book and leave a small permanent impact.

use std::collections::BTreeMap;

use crate::rng::Rng;
use crate::scenario::MarketSpec;

/// What a market event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarketEventKind {
    /// Clear the whole book.
    Clear,
    /// A level of the initial snapshot.
    Snapshot,
    /// A level's new absolute quantity (0 deletes it).
    Depth,
    /// A market order printed at this price.
    Trade,
}

/// One event of the market tape, in exchange time order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MarketEvent {
    /// Kind.
    pub kind: MarketEventKind,
    /// Bid side (depth) or buyer-initiated (trade).
    pub buy: bool,
    /// Exchange timestamp, ns.
    pub exch_ts: i64,
    /// When the bot sees it, ns.
    pub local_ts: i64,
    /// Price.
    pub px: f64,
    /// Quantity.
    pub qty: f64,
}

/// A generated market: the tape and the efficient price for marking.
#[derive(Debug, Clone)]
pub struct MarketTape {
    /// Events, exchange timestamps never decreasing.
    pub events: Vec<MarketEvent>,
    /// The efficient mid at the end of each generator step.
    pub mid_path: Vec<f64>,
    /// Every change of the efficient mid, `(exchange time ns, mid after
    /// it)`, in time order: a sweep's impact just after its last print, a
    /// jump just after the informed sweep that announces it, the diffusion
    /// at the end of each step. Empty for a recorded market, whose mid is
    /// only sampled once per step (`mid_path`).
    pub mid_changes: Vec<(i64, f64)>,
    /// Step length, ns.
    pub step_ns: i64,
}

impl MarketTape {
    /// The efficient mid in force at time `ts_ns`: after every change at or
    /// before it. For a recorded market, the mid sampled at the end of the
    /// last whole step before `ts_ns` (never a later one).
    pub fn mid_at(&self, ts_ns: i64) -> Option<f64> {
        self.mid_known(ts_ns, true)
    }

    /// The efficient mid just before time `ts_ns`: after every change
    /// strictly before it. A fill at `ts_ns` is valued against this mid, so
    /// that a move it causes, or one in the same step after it, counts as
    /// adverse selection and not as captured spread.
    pub fn mid_before(&self, ts_ns: i64) -> Option<f64> {
        self.mid_known(ts_ns, false)
    }

    fn mid_known(&self, ts_ns: i64, inclusive: bool) -> Option<f64> {
        if !self.mid_changes.is_empty() {
            let n =
                self.mid_changes
                    .partition_point(|&(t, _)| if inclusive { t <= ts_ns } else { t < ts_ns });
            return Some(self.mid_changes[n.saturating_sub(1)].1);
        }
        // Sampled at the end of each step: the last whole step before ts.
        let whole = usize::try_from(ts_ns.max(0) / self.step_ns).unwrap_or(usize::MAX);
        let i = whole
            .saturating_sub(1)
            .min(self.mid_path.len().checked_sub(1)?);
        self.mid_path.get(i).copied()
    }
}

const NS_PER_MS: i64 = 1_000_000;

struct Generator<'a> {
    spec: &'a MarketSpec,
    rng: Rng,
    /// Efficient price.
    mid: f64,
    bids: BTreeMap<i64, f64>,
    asks: BTreeMap<i64, f64>,
    events: Vec<MarketEvent>,
    feed_ns: i64,
    /// A per-tick size factor, stable over the tape (books have memory).
    level_seed: u64,
    ts: i64,
    /// The best (bid, ask) ticks of the last refresh, while the book has not
    /// been touched since (a refresh then has nothing to publish).
    settled: Option<(i64, i64)>,
    /// Every change of the efficient mid (see [`MarketTape::mid_changes`]).
    mid_changes: Vec<(i64, f64)>,
}

impl Generator<'_> {
    /// Record the efficient mid as changed just after the last event.
    fn mid_changed(&mut self) {
        self.mid_changes.push((self.ts + 1, self.mid));
    }

    fn push(&mut self, kind: MarketEventKind, buy: bool, px: f64, qty: f64) {
        // 1 us apart inside a step keeps the order unambiguous.
        self.ts += 1_000;
        self.events.push(MarketEvent {
            kind,
            buy,
            exch_ts: self.ts,
            local_ts: self.ts + self.feed_ns,
            px,
            qty,
        });
    }

    fn tick_px(&self, tick: i64) -> f64 {
        tick as f64 * self.spec.tick_size
    }

    fn level_factor(&self, tick: i64) -> f64 {
        let mut s = self.level_seed ^ (tick as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let u = crate::rng::unit_f64(crate::rng::splitmix64(&mut s));
        0.6 + 0.8 * u
    }

    fn target_qty(&self, tick: i64, distance: i64) -> f64 {
        let k = distance.clamp(0, 5) as f64;
        let lots =
            self.spec.top_depth_lots * (1.0 + self.spec.depth_slope * k) * self.level_factor(tick);
        (lots.round().max(1.0)) * self.spec.lot_size
    }

    fn best_ticks(&self) -> (i64, i64) {
        let bid = (self.mid / self.spec.tick_size).ceil() as i64 - 1;
        (bid, bid + 1)
    }

    /// Bring the published book to its target around the efficient price.
    fn refresh_book(&mut self, initial: bool) {
        let (bid, ask) = self.best_ticks();
        if !initial && self.settled == Some((bid, ask)) {
            // The book is exactly its target around these best ticks already:
            // the refresh below would publish nothing.
            return;
        }
        let levels = i64::from(self.spec.levels);
        let kind = if initial {
            MarketEventKind::Snapshot
        } else {
            MarketEventKind::Depth
        };
        // Deletions first, so the book never crosses.
        let stale_bids: Vec<i64> = self
            .bids
            .keys()
            .copied()
            .filter(|&t| t > bid || t <= bid - levels)
            .collect();
        for t in stale_bids {
            self.bids.remove(&t);
            self.push(MarketEventKind::Depth, true, self.tick_px(t), 0.0);
        }
        let stale_asks: Vec<i64> = self
            .asks
            .keys()
            .copied()
            .filter(|&t| t < ask || t >= ask + levels)
            .collect();
        for t in stale_asks {
            self.asks.remove(&t);
            self.push(MarketEventKind::Depth, false, self.tick_px(t), 0.0);
        }
        for k in 0..levels {
            let t = bid - k;
            let q = self.target_qty(t, k);
            if self.bids.get(&t) != Some(&q) {
                self.bids.insert(t, q);
                self.push(kind, true, self.tick_px(t), q);
            }
            let t = ask + k;
            let q = self.target_qty(t, k);
            if self.asks.get(&t) != Some(&q) {
                self.asks.insert(t, q);
                self.push(kind, false, self.tick_px(t), q);
            }
        }
        self.settled = Some((bid, ask));
    }

    /// A market order of `qty` walking the book; returns the quantity done.
    fn sweep(&mut self, buy: bool, qty: f64) -> f64 {
        self.settled = None;
        let mut left = qty;
        let mut done = 0.0;
        while left > 0.0 {
            let level = if buy {
                self.asks.iter().next().map(|(t, q)| (*t, *q))
            } else {
                self.bids.iter().next_back().map(|(t, q)| (*t, *q))
            };
            let Some((tick, avail)) = level else { break };
            let take = left.min(avail);
            let px = self.tick_px(tick);
            self.push(MarketEventKind::Trade, buy, px, take);
            left -= take;
            done += take;
            let rest = avail - take;
            let book = if buy { &mut self.asks } else { &mut self.bids };
            if rest > 1e-9 {
                book.insert(tick, rest);
            } else {
                book.remove(&tick);
            }
            self.push(MarketEventKind::Depth, !buy, px, rest.max(0.0));
        }
        done
    }
}

/// Generate `duration_ms` of market from `seed`.
pub fn generate(spec: &MarketSpec, seed: u64, duration_ms: u64) -> MarketTape {
    let step_ns = i64::from(spec.step_ms) * NS_PER_MS;
    let steps = (duration_ms / u64::from(spec.step_ms)).max(1);
    let mut g = Generator {
        spec,
        rng: Rng::new(seed, 0x4D41_524B),
        mid: spec.price,
        bids: BTreeMap::new(),
        asks: BTreeMap::new(),
        events: Vec::with_capacity(usize::try_from(steps).unwrap_or(0).saturating_mul(12)),
        feed_ns: (spec.feed_latency_ms * 1e6).round() as i64,
        level_seed: seed ^ 0x5EED_1E7E_1000_0000,
        ts: 0,
        settled: None,
        mid_changes: Vec::with_capacity(usize::try_from(steps).unwrap_or(0).saturating_mul(2)),
    };
    g.mid_changes.push((0, g.mid));
    g.push(MarketEventKind::Clear, true, 0.0, 0.0);
    g.refresh_book(true);
    let dt_s = f64::from(spec.step_ms) / 1000.0;
    let sd_calm = spec.vol_bps_per_sqrt_s * 1e-4 * dt_s.sqrt();
    let p_to_volatile = spec.to_volatile_per_hour * dt_s / 3600.0;
    let p_to_calm = spec.to_calm_per_hour * dt_s / 3600.0;
    let p_jump = spec.jumps_per_hour * dt_s / 3600.0;
    let trades_per_step = spec.trades_per_second * dt_s;
    let top = spec.top_depth_lots * spec.lot_size;
    let mut volatile = false;
    let mut mid_path = Vec::with_capacity(usize::try_from(steps).unwrap_or(0));
    for step in 1..=steps {
        let step_start = i64::try_from(step)
            .unwrap_or(i64::MAX)
            .saturating_mul(step_ns);
        g.ts = g.ts.max(step_start - step_ns);
        // Regime switches.
        if volatile {
            volatile = !g.rng.chance(p_to_calm);
        } else {
            volatile = g.rng.chance(p_to_volatile);
        }
        let sd = if volatile {
            sd_calm * spec.volatile_multiplier
        } else {
            sd_calm
        };
        // Uninformed market orders (Poisson count, Pareto sizes).
        let mut n = 0;
        let mut budget = g.rng.exponential(1.0);
        while budget < trades_per_step {
            n += 1;
            budget += g.rng.exponential(1.0);
        }
        for _ in 0..n {
            let buy = g.rng.sign() > 0.0;
            let u = g.rng.uniform_open();
            let size_top = spec.trade_size_top * u.powf(-1.0 / spec.trade_size_tail);
            let qty = ((size_top * top / spec.lot_size).round().max(1.0)) * spec.lot_size;
            let done = g.sweep(buy, qty);
            let sign = if buy { 1.0 } else { -1.0 };
            g.mid *= 1.0 + sign * spec.impact_bps_per_top * 1e-4 * done / top;
            g.mid_changed();
        }
        // Jumps, sometimes announced by an informed sweep.
        if g.rng.chance(p_jump) {
            let up = g.rng.sign() > 0.0;
            let size = g.rng.exponential(spec.jump_bps_mean);
            if g.rng.chance(spec.informed_share) {
                let qty = ((spec.informed_sweep_top * top / spec.lot_size)
                    .round()
                    .max(1.0))
                    * spec.lot_size;
                g.sweep(up, qty);
            }
            g.mid *= 1.0 + if up { size } else { -size } * 1e-4;
            g.mid_changed();
        }
        // Diffusion.
        g.mid *= 1.0 + sd * g.rng.normal();
        // Within 10 ticks and 2^40 ticks, whatever the walk: tick arithmetic
        // stays exact (the built-in scenarios never come near either).
        g.mid = g
            .mid
            .max(spec.tick_size * 10.0)
            .min(spec.tick_size * crate::scenario::MAX_TICKS);
        g.ts = g.ts.max(step_start - 1_000 * 64);
        g.mid_changed();
        g.refresh_book(false);
        mid_path.push(g.mid);
    }
    MarketTape {
        events: g.events,
        mid_path,
        mid_changes: g.mid_changes,
        step_ns,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Scenario;

    #[test]
    fn tape_is_time_ordered_and_never_crossed() {
        let s = Scenario::builtin("default").expect("default");
        let tape = generate(&s.market, 3, 60_000);
        assert!(tape
            .events
            .windows(2)
            .all(|w| w[0].exch_ts <= w[1].exch_ts && w[0].local_ts <= w[1].local_ts));
        assert_eq!(tape.mid_path.len(), 600);
        // Replay the book and check it never crosses at a step end.
        let mut bids: BTreeMap<i64, f64> = BTreeMap::new();
        let mut asks: BTreeMap<i64, f64> = BTreeMap::new();
        let tick = s.market.tick_size;
        let mut trades = 0;
        for e in &tape.events {
            let t = (e.px / tick).round() as i64;
            match e.kind {
                MarketEventKind::Clear => {
                    bids.clear();
                    asks.clear();
                }
                MarketEventKind::Trade => trades += 1,
                _ => {
                    let book = if e.buy { &mut bids } else { &mut asks };
                    if e.qty > 0.0 {
                        book.insert(t, e.qty);
                    } else {
                        book.remove(&t);
                    }
                }
            }
            if let (Some(b), Some(a)) = (bids.keys().next_back(), asks.keys().next()) {
                assert!(b < a, "crossed book at {}", e.exch_ts);
            }
        }
        assert!(trades > 50, "{trades} trades in a minute");
    }

    #[test]
    fn same_seed_same_tape() {
        let s = Scenario::builtin("volatile").expect("volatile");
        let a = generate(&s.market, 11, 20_000);
        let b = generate(&s.market, 11, 20_000);
        let c = generate(&s.market, 12, 20_000);
        assert_eq!(a.events, b.events);
        assert_ne!(a.mid_path, c.mid_path);
    }
}
