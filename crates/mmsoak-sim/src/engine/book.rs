//! The engine's L2 order book: hftbacktest 0.9.4's `HashMapMarketDepth`,
//! rule for rule, on ordered maps.
//!
//! `HashMapMarketDepth` finds the next best level by probing every tick
//! below (or above) the old best, and clears a side tick by tick. On a book
//! whose levels are far apart (a recorded market with a stray level
//! millions of ticks away) one update can probe millions of ticks: a replay
//! that seems to hang. Here the same searches are range queries on a
//! `BTreeMap`, `O(log levels)` whatever the gaps, and the prices' ticks are
//! rounded without a call into libm (`f64::round` is one on baseline
//! x86-64). Every state change and every value returned is the same as
//! `HashMapMarketDepth`'s, including its two quirks, so the simulator's
//! results do not depend on which of the two runs:
//! - after crossing updates, the best level is searched only down to the
//!   lowest bid (up to the highest ask) seen since that side was last empty;
//! - clearing a side up to a price skips the level just past that price
//!   when it searches the new best.
//!
//! A test (`same_as_hashmap_depth`) replays random update sequences through
//! both and compares every answer.

use std::collections::BTreeMap;
use std::ops::Bound::{Excluded, Included};

use hftbacktest::prelude::{L2MarketDepth, MarketDepth, Side, INVALID_MAX, INVALID_MIN};

/// One instrument's L2 book as hftbacktest's processors see it.
#[derive(Debug)]
pub(crate) struct Book {
    tick_size: f64,
    lot_size: f64,
    bids: BTreeMap<i64, f64>,
    asks: BTreeMap<i64, f64>,
    best_bid_tick: i64,
    best_ask_tick: i64,
    /// Lowest bid tick since the bid side was last empty (`INVALID_MAX`
    /// when it is).
    low_bid_tick: i64,
    /// Highest ask tick since the ask side was last empty (`INVALID_MIN`
    /// when it is).
    high_ask_tick: i64,
}

/// `x.round() as i64` (halves away from zero, saturating, NaN to 0), without
/// libm: `x - trunc(x)` is exact below 2^52, and above it `x` is an integer.
fn round_to_i64(x: f64) -> i64 {
    const EXACT: f64 = (1u64 << 52) as f64;
    if x.is_nan() || x.abs() >= EXACT {
        return x as i64;
    }
    let t = x as i64;
    let frac = x - t as f64;
    if frac >= 0.5 {
        t + 1
    } else if frac <= -0.5 {
        t - 1
    } else {
        t
    }
}

/// The highest level in `[low, below)`, as `HashMapMarketDepth`'s downward
/// probe from `below - 1` to `low` finds it.
fn highest_below(levels: &BTreeMap<i64, f64>, below: i64, low: i64) -> i64 {
    if low >= below {
        return INVALID_MIN;
    }
    levels
        .range((Included(low), Excluded(below)))
        .next_back()
        .map_or(INVALID_MIN, |(&t, _)| t)
}

/// The lowest level in `(above, high]`, as the upward probe finds it.
fn lowest_above(levels: &BTreeMap<i64, f64>, above: i64, high: i64) -> i64 {
    if above >= high {
        return INVALID_MAX;
    }
    levels
        .range((Excluded(above), Included(high)))
        .next()
        .map_or(INVALID_MAX, |(&t, _)| t)
}

/// Set `tick`'s quantity (`qty_lot > 0`) or remove the level; the quantity
/// it had.
fn set_level(levels: &mut BTreeMap<i64, f64>, tick: i64, qty: f64, qty_lot: i64) -> f64 {
    if qty_lot > 0 {
        levels.insert(tick, qty).unwrap_or(0.0)
    } else {
        levels.remove(&tick).unwrap_or(0.0)
    }
}

/// Remove the levels in `[from, to]`.
fn remove_range(levels: &mut BTreeMap<i64, f64>, from: i64, to: i64) {
    if from > to {
        return;
    }
    let doomed: Vec<i64> = levels
        .range((Included(from), Included(to)))
        .map(|(&t, _)| t)
        .collect();
    for t in doomed {
        levels.remove(&t);
    }
}

impl Book {
    /// An empty book.
    pub(crate) fn new(tick_size: f64, lot_size: f64) -> Book {
        Book {
            tick_size,
            lot_size,
            bids: BTreeMap::new(),
            asks: BTreeMap::new(),
            best_bid_tick: INVALID_MIN,
            best_ask_tick: INVALID_MAX,
            low_bid_tick: INVALID_MAX,
            high_ask_tick: INVALID_MIN,
        }
    }
}

impl L2MarketDepth for Book {
    fn update_bid_depth(
        &mut self,
        price: f64,
        qty: f64,
        timestamp: i64,
    ) -> (i64, i64, i64, f64, f64, i64) {
        let price_tick = round_to_i64(price / self.tick_size);
        let qty_lot = round_to_i64(qty / self.lot_size);
        let prev_best = self.best_bid_tick;
        let prev_qty = set_level(&mut self.bids, price_tick, qty, qty_lot);
        if qty_lot == 0 {
            if price_tick == self.best_bid_tick {
                self.best_bid_tick = highest_below(&self.bids, price_tick, self.low_bid_tick);
                if self.best_bid_tick == INVALID_MIN {
                    self.low_bid_tick = INVALID_MAX;
                }
            }
        } else {
            if price_tick > self.best_bid_tick {
                self.best_bid_tick = price_tick;
                if self.best_bid_tick >= self.best_ask_tick {
                    self.best_ask_tick =
                        lowest_above(&self.asks, self.best_bid_tick, self.high_ask_tick);
                }
            }
            self.low_bid_tick = self.low_bid_tick.min(price_tick);
        }
        (
            price_tick,
            prev_best,
            self.best_bid_tick,
            prev_qty,
            qty,
            timestamp,
        )
    }

    fn update_ask_depth(
        &mut self,
        price: f64,
        qty: f64,
        timestamp: i64,
    ) -> (i64, i64, i64, f64, f64, i64) {
        let price_tick = round_to_i64(price / self.tick_size);
        let qty_lot = round_to_i64(qty / self.lot_size);
        let prev_best = self.best_ask_tick;
        let prev_qty = set_level(&mut self.asks, price_tick, qty, qty_lot);
        if qty_lot == 0 {
            if price_tick == self.best_ask_tick {
                self.best_ask_tick = lowest_above(&self.asks, price_tick, self.high_ask_tick);
                if self.best_ask_tick == INVALID_MAX {
                    self.high_ask_tick = INVALID_MIN;
                }
            }
        } else {
            if price_tick < self.best_ask_tick {
                self.best_ask_tick = price_tick;
                if self.best_ask_tick <= self.best_bid_tick {
                    self.best_bid_tick =
                        highest_below(&self.bids, self.best_ask_tick, self.low_bid_tick);
                }
            }
            self.high_ask_tick = self.high_ask_tick.max(price_tick);
        }
        (
            price_tick,
            prev_best,
            self.best_ask_tick,
            prev_qty,
            qty,
            timestamp,
        )
    }

    fn clear_depth(&mut self, side: Side, clear_upto_price: f64) {
        match side {
            Side::Buy if clear_upto_price.is_finite() => {
                let upto = round_to_i64(clear_upto_price / self.tick_size);
                if self.best_bid_tick != INVALID_MIN {
                    remove_range(&mut self.bids, upto, self.best_bid_tick);
                }
                // hftbacktest probes from `upto - 2` (its quirk, kept).
                self.best_bid_tick =
                    highest_below(&self.bids, upto.saturating_sub(1), self.low_bid_tick);
                if self.best_bid_tick == INVALID_MIN {
                    self.low_bid_tick = INVALID_MAX;
                }
            }
            Side::Buy => {
                self.bids.clear();
                self.best_bid_tick = INVALID_MIN;
                self.low_bid_tick = INVALID_MAX;
            }
            Side::Sell if clear_upto_price.is_finite() => {
                let upto = round_to_i64(clear_upto_price / self.tick_size);
                if self.best_ask_tick != INVALID_MAX {
                    remove_range(&mut self.asks, self.best_ask_tick, upto);
                }
                // hftbacktest probes from `upto + 2` (its quirk, kept).
                self.best_ask_tick =
                    lowest_above(&self.asks, upto.saturating_add(1), self.high_ask_tick);
                if self.best_ask_tick == INVALID_MAX {
                    self.high_ask_tick = INVALID_MIN;
                }
            }
            Side::Sell => {
                self.asks.clear();
                self.best_ask_tick = INVALID_MAX;
                self.high_ask_tick = INVALID_MIN;
            }
            // `Side::None` clears both; hftbacktest's processors never pass
            // `Unsupported` (its own depth panics on it).
            Side::None | Side::Unsupported => {
                self.bids.clear();
                self.asks.clear();
                self.best_bid_tick = INVALID_MIN;
                self.best_ask_tick = INVALID_MAX;
                self.low_bid_tick = INVALID_MAX;
                self.high_ask_tick = INVALID_MIN;
            }
        }
    }
}

impl MarketDepth for Book {
    fn best_bid(&self) -> f64 {
        if self.best_bid_tick == INVALID_MIN {
            f64::NAN
        } else {
            self.best_bid_tick as f64 * self.tick_size
        }
    }

    fn best_ask(&self) -> f64 {
        if self.best_ask_tick == INVALID_MAX {
            f64::NAN
        } else {
            self.best_ask_tick as f64 * self.tick_size
        }
    }

    fn best_bid_tick(&self) -> i64 {
        self.best_bid_tick
    }

    fn best_ask_tick(&self) -> i64 {
        self.best_ask_tick
    }

    fn best_bid_qty(&self) -> f64 {
        self.bid_qty_at_tick(self.best_bid_tick)
    }

    fn best_ask_qty(&self) -> f64 {
        self.ask_qty_at_tick(self.best_ask_tick)
    }

    fn tick_size(&self) -> f64 {
        self.tick_size
    }

    fn lot_size(&self) -> f64 {
        self.lot_size
    }

    fn bid_qty_at_tick(&self, price_tick: i64) -> f64 {
        self.bids.get(&price_tick).copied().unwrap_or(0.0)
    }

    fn ask_qty_at_tick(&self, price_tick: i64) -> f64 {
        self.asks.get(&price_tick).copied().unwrap_or(0.0)
    }
}

#[cfg(test)]
mod tests {
    use hftbacktest::prelude::HashMapMarketDepth;
    use proptest::prelude::*;

    use super::*;

    const TICK: f64 = 0.25;
    const LOT: f64 = 0.5;

    /// One change to a book, as hftbacktest's processors make them.
    #[derive(Debug, Clone)]
    enum Op {
        Bid(f64, f64),
        Ask(f64, f64),
        Clear(Side, f64),
    }

    /// Prices near ticks 0..40 (off by up to half a tick, both ways, so the
    /// rounding is exercised) and quantities of 0, under half a lot (which
    /// deletes), a few lots, or not a number.
    fn op() -> impl Strategy<Value = Op> {
        let px = (
            0i64..40,
            prop::sample::select(vec![0.0, 0.2, -0.2, 0.5, -0.5, 0.49]),
        )
            .prop_map(|(t, off)| (t as f64 + off) * TICK);
        let qty = prop_oneof![
            3 => (1u32..5).prop_map(|l| f64::from(l) * LOT),
            1 => Just(0.0),
            1 => Just(0.2 * LOT),
            1 => Just(-1.0),
        ];
        let clear_px = prop_oneof![4 => px.clone(), 1 => Just(f64::NAN)];
        let side = prop::sample::select(vec![Side::Buy, Side::Sell, Side::None]);
        prop_oneof![
            8 => (px.clone(), qty.clone()).prop_map(|(p, q)| Op::Bid(p, q)),
            8 => (px, qty).prop_map(|(p, q)| Op::Ask(p, q)),
            1 => (side, clear_px).prop_map(|(s, p)| Op::Clear(s, p)),
        ]
    }

    type Answer = (i64, i64, i64, u64, u64, i64);

    fn apply<D: L2MarketDepth>(d: &mut D, op: &Op, ts: i64) -> Option<Answer> {
        let bits = |(a, b, c, p, q, t): (i64, i64, i64, f64, f64, i64)| {
            (a, b, c, p.to_bits(), q.to_bits(), t)
        };
        match *op {
            Op::Bid(px, qty) => Some(bits(d.update_bid_depth(px, qty, ts))),
            Op::Ask(px, qty) => Some(bits(d.update_ask_depth(px, qty, ts))),
            Op::Clear(side, px) => {
                d.clear_depth(side, px);
                None
            }
        }
    }

    /// Everything a processor can read from a book.
    fn view<D: MarketDepth>(d: &D) -> Vec<u64> {
        let mut v = vec![
            d.best_bid_tick() as u64,
            d.best_ask_tick() as u64,
            d.best_bid().to_bits(),
            d.best_ask().to_bits(),
            d.best_bid_qty().to_bits(),
            d.best_ask_qty().to_bits(),
        ];
        for t in -2..43 {
            v.push(d.bid_qty_at_tick(t).to_bits());
            v.push(d.ask_qty_at_tick(t).to_bits());
        }
        v
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// The same answers as hftbacktest's `HashMapMarketDepth` after
        /// every change, crossed books and clears included.
        #[test]
        fn same_as_hashmap_depth(ops in prop::collection::vec(op(), 1..200)) {
            let mut ours = Book::new(TICK, LOT);
            let mut theirs = HashMapMarketDepth::new(TICK, LOT);
            for (i, op) in ops.iter().enumerate() {
                let ts = i as i64;
                prop_assert_eq!(apply(&mut ours, op, ts), apply(&mut theirs, op, ts), "op {}: {:?}", i, op);
                prop_assert_eq!(view(&ours), view(&theirs), "after op {}: {:?}", i, op);
            }
        }

        #[test]
        fn rounds_like_f64_round(x in prop_oneof![
            any::<f64>(),
            -1e6..1e6f64,
            (-1_000_000i64..1_000_000).prop_map(|n| n as f64 + 0.5),
        ]) {
            prop_assert_eq!(round_to_i64(x), x.round() as i64);
        }
    }

    #[test]
    fn rounds_the_edges_like_f64_round() {
        let edges = [
            0.5,
            -0.5,
            0.49999999999999994,
            -0.49999999999999994,
            1.5,
            2.5,
            -2.5,
            4503599627370495.5,
            4503599627370496.0,
            9007199254740993.0,
            1e300,
            -1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            -0.0,
            f64::MIN_POSITIVE,
        ];
        for x in edges {
            assert_eq!(round_to_i64(x), x.round() as i64, "{x}");
        }
    }

    /// Levels 2^39 ticks apart: hftbacktest's own book would probe every
    /// tick in between (hours); this one answers at once.
    #[test]
    fn far_apart_levels_are_found_at_once() {
        let far = (1i64 << 39) as f64 * TICK;
        let mut book = Book::new(TICK, LOT);
        book.update_bid_depth(TICK, LOT, 0);
        book.update_bid_depth(far, LOT, 1);
        book.update_ask_depth(2.0 * far, LOT, 2);
        book.update_ask_depth(far + TICK, LOT, 3);
        assert_eq!(book.best_bid_tick(), 1 << 39);
        assert_eq!(book.best_ask_tick(), (1 << 39) + 1);

        // Deleting the best of each side finds the far level.
        book.update_bid_depth(far, 0.0, 4);
        assert_eq!(book.best_bid_tick(), 1);
        book.update_ask_depth(far + TICK, 0.0, 5);
        assert_eq!(book.best_ask_tick(), 1 << 40);

        // Clearing the 2^39 ticks down to tick 2 removes only the levels in
        // that range; hftbacktest's quirk then misses tick 1 as the new best.
        book.update_bid_depth(far, LOT, 6);
        book.clear_depth(Side::Buy, 2.0 * TICK);
        assert_eq!(book.bid_qty_at_tick(1 << 39), 0.0);
        assert_eq!(book.bid_qty_at_tick(1), LOT);
        assert_eq!(book.best_bid_tick(), INVALID_MIN);
        book.clear_depth(Side::Sell, far);
        assert_eq!(book.best_ask_tick(), 1 << 40);
        book.clear_depth(Side::Sell, 4.0 * far);
        assert_eq!(book.best_ask_tick(), INVALID_MAX);
        assert_eq!(book.ask_qty_at_tick(1 << 40), 0.0);
    }
}
