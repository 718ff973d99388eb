//! The market generator: a seeded efficient-price path with volatility
//! regimes and jumps, an L2 book around it that refills over time after a
//! sweep, and self-exciting market orders whose signs persist (children of
//! metaorders) and whose impact is concave in size, part permanent and part
//! decaying as the book recovers. docs/sim.md explains each mechanism and
//! its calibration.

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

/// A tape's published book, rebuilt event by event: level sizes by tick
/// on each side (trade prints do not change it; the depth updates that
/// follow them do).
///
/// ```
/// use mmsoak_sim::{generate, Scenario, TapeBook};
/// let s = Scenario::builtin("default").unwrap();
/// let tape = generate(&s.market, 7, 1_000);
/// let mut book = TapeBook::default();
/// for e in &tape.events {
///     book.apply(e, s.market.tick_size);
/// }
/// let (bid, ask) = (book.best_bid().unwrap(), book.best_ask().unwrap());
/// assert!(bid < ask);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TapeBook {
    /// Bid levels: tick → size.
    pub bids: BTreeMap<i64, f64>,
    /// Ask levels: tick → size.
    pub asks: BTreeMap<i64, f64>,
}

impl TapeBook {
    /// Apply one event; returns the event's price in ticks.
    pub fn apply(&mut self, e: &MarketEvent, tick_size: f64) -> i64 {
        let t = (e.px / tick_size).round() as i64;
        match e.kind {
            MarketEventKind::Clear => {
                self.bids.clear();
                self.asks.clear();
            }
            MarketEventKind::Trade => {}
            MarketEventKind::Snapshot | MarketEventKind::Depth => {
                let side = if e.buy {
                    &mut self.bids
                } else {
                    &mut self.asks
                };
                if e.qty > 0.0 {
                    side.insert(t, e.qty);
                } else {
                    side.remove(&t);
                }
            }
        }
        t
    }

    /// The best bid, in ticks.
    pub fn best_bid(&self) -> Option<i64> {
        self.bids.keys().next_back().copied()
    }

    /// The best ask, in ticks.
    pub fn best_ask(&self) -> Option<i64> {
        self.asks.keys().next().copied()
    }
}

/// A metaorder: the side its market orders take, and how many are left.
#[derive(Debug, Clone, Copy)]
struct Metaorder {
    buy: bool,
    left: u64,
}

struct Generator<'a> {
    spec: &'a MarketSpec,
    rng: Rng,
    /// Efficient price: diffusion, jumps and the permanent impact of market
    /// orders. (Their transient impact is the book's: the depth a sweep
    /// took, which refills over time.)
    mid: f64,
    /// Market order intensity above the baseline (self-excitation), per s.
    excitation: f64,
    /// The metaorders running.
    metaorders: Vec<Metaorder>,
    /// Share of the gap to its target depth a depleted level regains per
    /// step (expected; in chunks).
    refill_per_step: f64,
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
        self.push_now(kind, buy, px, qty);
    }

    /// An event at the current time (the prints and depth changes of one
    /// market order share its exchange time, as a matching engine stamps
    /// every fill of one aggressive order).
    fn push_now(&mut self, kind: MarketEventKind, buy: bool, px: f64, qty: f64) {
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

    /// A new metaorder: a side at even odds and a Pareto length.
    fn new_metaorder(&mut self) -> Metaorder {
        let u = self.rng.uniform_open();
        let len = u.powf(-1.0 / self.spec.metaorder_tail).floor();
        Metaorder {
            buy: self.rng.sign() > 0.0,
            left: if len.is_finite() {
                (len as u64).clamp(1, 1 << 40)
            } else {
                1 << 40
            },
        }
    }

    /// The side of the next market order: that of a running metaorder
    /// picked at random, which is replaced by a new one when it ends.
    fn next_side(&mut self) -> bool {
        let k = self.metaorders.len();
        let i = ((self.rng.uniform() * k as f64) as usize).min(k - 1);
        let buy = self.metaorders[i].buy;
        self.metaorders[i].left -= 1;
        if self.metaorders[i].left == 0 {
            self.metaorders[i] = self.new_metaorder();
        }
        buy
    }

    /// Move the efficient price by `bps`.
    fn move_mid(&mut self, bps: f64) {
        // Within 10 ticks and 2^40 ticks, whatever the walk: tick arithmetic
        // stays exact (the built-in scenarios never come near either).
        self.mid = (self.mid * (1.0 + bps * 1e-4))
            .max(self.spec.tick_size * 10.0)
            .min(self.spec.tick_size * crate::scenario::MAX_TICKS);
    }

    /// The best bid and ask ticks of the undisturbed book: `spread_ticks`
    /// apart, centred on the efficient price as closely as ticks allow.
    fn best_ticks(&self) -> (i64, i64) {
        let spread = i64::from(self.spec.spread_ticks);
        let bid = if spread == 1 {
            (self.mid / self.spec.tick_size).ceil() as i64 - 1
        } else {
            (self.mid / self.spec.tick_size - spread as f64 / 2.0).round() as i64
        };
        (bid, bid + spread)
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
            if self.bids.remove(&t).is_some_and(|q| q > 0.0) {
                self.push(MarketEventKind::Depth, true, self.tick_px(t), 0.0);
            }
        }
        let stale_asks: Vec<i64> = self
            .asks
            .keys()
            .copied()
            .filter(|&t| t < ask || t >= ask + levels)
            .collect();
        for t in stale_asks {
            if self.asks.remove(&t).is_some_and(|q| q > 0.0) {
                self.push(MarketEventKind::Depth, false, self.tick_px(t), 0.0);
            }
        }
        let mut refilling = false;
        for k in 0..levels {
            for buy in [true, false] {
                let t = if buy { bid - k } else { ask + k };
                let target = self.target_qty(t, k);
                let book = if buy { &self.bids } else { &self.asks };
                let q = match book.get(&t).copied() {
                    // A level entering the range comes in full (liquidity
                    // providers quote around the new price at once).
                    None => target,
                    // A level a sweep depleted refills in chunks, as limit
                    // orders arrive: expected gain per step is
                    // refill_per_step of the gap (an exponential recovery
                    // with the resilience half-life).
                    Some(q) if q < target => {
                        refilling = true;
                        let chunk = (target / 4.0 / self.spec.lot_size).round().max(1.0)
                            * self.spec.lot_size;
                        let p = (self.refill_per_step * (target - q) / chunk).min(1.0);
                        if !initial && self.rng.chance(p) {
                            (q + chunk).min(target)
                        } else if initial {
                            target
                        } else {
                            q
                        }
                    }
                    Some(_) => target,
                };
                let book = if buy { &mut self.bids } else { &mut self.asks };
                if book.get(&t) != Some(&q) {
                    let was_published = book.get(&t).is_some_and(|&old| old > 0.0);
                    book.insert(t, q);
                    if q > 0.0 || was_published {
                        self.push(kind, buy, self.tick_px(t), q);
                    }
                }
            }
        }
        self.settled = (!refilling).then_some((bid, ask));
    }

    /// A marketable order taking every level up to `limit_tick` (buy: at
    /// or below it; sell: at or above it), whatever their size.
    fn sweep_to(&mut self, buy: bool, limit_tick: i64) -> f64 {
        let available: f64 = if buy {
            self.asks.range(..=limit_tick).map(|(_, q)| q).sum()
        } else {
            self.bids.range(limit_tick..).map(|(_, q)| q).sum()
        };
        if available > 0.0 {
            self.sweep(buy, available)
        } else {
            0.0
        }
    }

    /// A market order of `qty` walking the book; returns the quantity done.
    fn sweep(&mut self, buy: bool, qty: f64) -> f64 {
        self.settled = None;
        self.ts += 1_000;
        let mut left = qty;
        let mut done = 0.0;
        while left > 0.0 {
            let level = if buy {
                self.asks
                    .iter()
                    .find(|(_, q)| **q > 0.0)
                    .map(|(t, q)| (*t, *q))
            } else {
                self.bids
                    .iter()
                    .rev()
                    .find(|(_, q)| **q > 0.0)
                    .map(|(t, q)| (*t, *q))
            };
            let Some((tick, avail)) = level else { break };
            let take = left.min(avail);
            let px = self.tick_px(tick);
            self.push_now(MarketEventKind::Trade, buy, px, take);
            left -= take;
            done += take;
            let rest = if avail - take > 1e-9 {
                avail - take
            } else {
                0.0
            };
            let book = if buy { &mut self.asks } else { &mut self.bids };
            // An emptied level stays known (at 0) so that it refills.
            book.insert(tick, rest);
            self.push_now(MarketEventKind::Depth, !buy, px, rest);
        }
        done
    }
}

/// Generate `duration_ms` of market from `seed`.
pub fn generate(spec: &MarketSpec, seed: u64, duration_ms: u64) -> MarketTape {
    let step_ns = i64::from(spec.step_ms) * NS_PER_MS;
    let steps = (duration_ms / u64::from(spec.step_ms)).max(1);
    let dt_s = f64::from(spec.step_ms) / 1000.0;
    let mut g = Generator {
        spec,
        rng: Rng::new(seed, 0x4D41_524B),
        mid: spec.price,
        excitation: 0.0,
        metaorders: Vec::new(),
        refill_per_step: 1.0 - 0.5f64.powf(dt_s * 1000.0 / spec.resilience_half_life_ms),
        bids: BTreeMap::new(),
        asks: BTreeMap::new(),
        events: Vec::with_capacity(usize::try_from(steps).unwrap_or(0).saturating_mul(12)),
        feed_ns: (spec.feed_latency_ms * 1e6).round() as i64,
        level_seed: seed ^ 0x5EED_1E7E_1000_0000,
        ts: 0,
        settled: None,
        mid_changes: Vec::with_capacity(usize::try_from(steps).unwrap_or(0).saturating_mul(2)),
    };
    g.metaorders = (0..spec.metaorders_active)
        .map(|_| g.new_metaorder())
        .collect();
    g.mid_changes.push((0, g.mid));
    g.push(MarketEventKind::Clear, true, 0.0, 0.0);
    g.refresh_book(true);
    let sd_calm = spec.vol_bps_per_sqrt_s * 1e-4 * dt_s.sqrt();
    let p_to_volatile = spec.to_volatile_per_hour * dt_s / 3600.0;
    let p_to_calm = spec.to_calm_per_hour * dt_s / 3600.0;
    let p_jump = spec.jumps_per_hour * dt_s / 3600.0;
    // Self-exciting arrivals: a baseline plus an excitation each market
    // order raises by branching / decay (so that it triggers `branching`
    // orders on average), decaying with `trade_hawkes_decay_ms`. The mean
    // rate is then `trades_per_second`.
    let baseline = spec.trades_per_second * (1.0 - spec.trade_hawkes_branching);
    let decay_s = spec.trade_hawkes_decay_ms / 1000.0;
    let kick = spec.trade_hawkes_branching / decay_s;
    let excitation_kept = (-dt_s / decay_s).exp();
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
        // Uninformed market orders: self-exciting count, sides from the
        // metaorders, Pareto sizes, concave impact.
        let expected = (baseline + g.excitation) * dt_s;
        let mut n = 0u32;
        let mut budget = g.rng.exponential(1.0);
        while budget < expected {
            n += 1;
            budget += g.rng.exponential(1.0);
        }
        for _ in 0..n {
            let buy = g.next_side();
            let u = g.rng.uniform_open();
            let size_top = spec.trade_size_top * u.powf(-1.0 / spec.trade_size_tail);
            let qty = ((size_top * top / spec.lot_size).round().max(1.0)) * spec.lot_size;
            let done = g.sweep(buy, qty);
            let sign = if buy { 1.0 } else { -1.0 };
            g.move_mid(sign * spec.impact_bps_at_top * (done / top).sqrt());
            g.mid_changed();
            g.excitation += kick;
        }
        g.excitation *= excitation_kept;
        // Jumps, sometimes announced by an informed sweep.
        if g.rng.chance(p_jump) {
            let up = g.rng.sign() > 0.0;
            let size = g.rng.exponential(spec.jump_bps_mean);
            if g.rng.chance(spec.informed_share) {
                // The informed trader takes every level priced within a
                // share of the move he knows is coming (any of them is a
                // gain to him): the deeper a quote, the larger the moves
                // that reach it, and the worse its fill.
                let reach = spec.informed_sweep_share * size * 1e-4;
                let limit = if up {
                    g.mid * (1.0 + reach)
                } else {
                    g.mid * (1.0 - reach)
                };
                let limit_tick = (limit / spec.tick_size).floor() as i64;
                let limit_tick = if up { limit_tick } else { limit_tick + 1 };
                g.sweep_to(up, limit_tick);
            }
            g.move_mid(if up { size } else { -size });
            g.mid_changed();
        }
        // Diffusion.
        let shock = sd * g.rng.normal() * 1e4;
        g.move_mid(shock);
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
        let mut book = TapeBook::default();
        let mut trades = 0;
        for e in &tape.events {
            book.apply(e, s.market.tick_size);
            trades += usize::from(e.kind == MarketEventKind::Trade);
            if let (Some(b), Some(a)) = (book.best_bid(), book.best_ask()) {
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
