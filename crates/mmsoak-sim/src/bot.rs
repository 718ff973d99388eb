//! The quoting bot the eight parameters control.

use crate::engine::{Engine, Lifetime, OrderEnd};
use crate::params::SimParams;
use crate::scenario::{BotSpec, FeeSpec};
use crate::SimError;

/// Why an order was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderPurpose {
    /// A two-sided quote.
    Quote,
    /// A marketable order bringing inventory back inside its limit.
    Flatten,
}

impl OrderPurpose {
    /// Name in the fill log.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderPurpose::Quote => "quote",
            OrderPurpose::Flatten => "flatten",
        }
    }
}

/// One fill of one of our orders.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimFill {
    /// Exchange time, ns from the start of the iteration.
    pub ts_ns: i64,
    /// Our order id.
    pub order_id: u64,
    /// Bought (true) or sold.
    pub buy: bool,
    /// Execution price.
    pub price: f64,
    /// Quantity.
    pub qty: f64,
    /// Whether we provided liquidity.
    pub maker: bool,
    /// Fee paid, price units (negative = rebate).
    pub fee: f64,
    /// Why the order was sent.
    pub purpose: OrderPurpose,
}

/// What the bot counted during an iteration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BotCounters {
    /// Quote requests (sent or blocked).
    pub requests: u64,
    /// Blocked by the position limit.
    pub risk_blocks: u64,
    /// Blocked by `min_interval_ms` or the `replace_rate_per_min` budget.
    pub min_interval_blocks: u64,
    /// Blocked by `concurrency_limit`.
    pub concurrency_blocks: u64,
    /// Quotes sent.
    pub quotes_sent: u64,
    /// Cancels of quotes older than `tail_age_ms`.
    pub tail_cancels: u64,
    /// Cancels of replaced quotes.
    pub replace_cancels: u64,
    /// Marketable flattening orders sent.
    pub flatten_orders: u64,
    /// Largest |inventory| seen, lots.
    pub max_abs_inventory: f64,
    /// Time-weighted mean |inventory|, lots.
    pub mean_abs_inventory: f64,
    /// Longest continuous stretch with inventory beyond the position
    /// limit, ms (0 when it never went beyond).
    pub max_beyond_limit_ms: f64,
}

#[derive(Debug, Clone, Copy)]
struct Live {
    id: u64,
    buy: bool,
    price_tick: i64,
    qty: f64,
    sent_ns: i64,
    purpose: OrderPurpose,
    /// A cancel was requested (it may still fill).
    cancelling: bool,
}

/// Everything the bot produced.
pub(crate) struct BotRun {
    pub(crate) fills: Vec<SimFill>,
    pub(crate) counters: BotCounters,
    pub(crate) order_ages_ms: Vec<f64>,
    pub(crate) final_inventory: f64,
    pub(crate) end_ns: i64,
}

/// Run the bot until the market data ends or `end_ns`.
pub(crate) fn run_bot(
    engine: &mut Engine,
    spec: &BotSpec,
    p: &SimParams,
    lot: f64,
    fees: &FeeSpec,
    end_ns: i64,
) -> Result<BotRun, SimError> {
    let step_ns = i64::from(spec.decision_ms) * 1_000_000;
    let tick = engine.tick_size();
    let limit = (p.max_delta_ratio * spec.capital_lots * lot).max(lot);
    let min_interval_ns = (p.min_interval_ms.max(0.0) * 1e6) as i64;
    let tail_age_ns = (p.tail_age_ms.max(1.0) * 1e6) as i64;
    let concurrency = p.concurrency_limit.max(1.0) as usize;
    let rate_per_ns = p.replace_rate_per_min.max(0.0) / 60e9;
    let bucket_cap = (p.replace_rate_per_min / 60.0).max(1.0);
    let half_bps = spec.spread_unit_bps * (p.base_spread_bps + p.base_spread_bps_delta);

    let mut live: Vec<Live> = Vec::new();
    let mut fills = Vec::new();
    let mut c = BotCounters::default();
    let mut ages = Vec::new();
    let mut inv = 0.0f64;
    let mut next_id: u64 = 1;
    let mut last_sent = [i64::MIN / 2; 2];
    let mut tokens = bucket_cap;
    let mut last_ts = 0i64;
    let mut beyond_since: Option<i64> = None;
    // Start of the current stretch beyond the limit (beyond_since re-arms at
    // every flattening order; this does not).
    let mut beyond_from: Option<i64> = None;
    let mut ended = Vec::new();
    let mut inv_area = 0.0f64;
    // Per side, the target of the quote decision last counted while it is
    // still unsent: re-checking the same wish at later ticks is the same
    // decision and counts once (a request, and at most one block).
    let mut wish: [Option<i64>; 2] = [None; 2];

    // Let the first snapshot arrive.
    if !engine.elapse(step_ns)? {
        return Ok(BotRun {
            fills,
            counters: c,
            order_ages_ms: ages,
            final_inventory: inv,
            end_ns: engine.now(),
        });
    }
    loop {
        let now = engine.now();
        // 1. Orders that ended.
        engine.poll(&mut ended);
        for &(id, end) in &ended {
            let Some(pos) = live.iter().position(|l| l.id == id) else {
                continue;
            };
            let l = live.swap_remove(pos);
            match end {
                OrderEnd::Filled {
                    ts,
                    price,
                    qty,
                    maker,
                } => {
                    let fee_bps = if maker {
                        fees.maker_bps
                    } else {
                        fees.taker_bps
                    };
                    fills.push(SimFill {
                        ts_ns: ts,
                        order_id: id,
                        buy: l.buy,
                        price,
                        qty,
                        maker,
                        fee: price * qty * fee_bps * 1e-4,
                        purpose: l.purpose,
                    });
                    inv += if l.buy { qty } else { -qty };
                    if l.purpose == OrderPurpose::Quote {
                        ages.push((ts - l.sent_ns) as f64 / 1e6);
                    }
                }
                OrderEnd::Gone { ts } => {
                    if l.purpose == OrderPurpose::Quote {
                        ages.push((ts - l.sent_ns) as f64 / 1e6);
                    }
                }
            }
        }
        let inv_lots = inv / lot;
        c.max_abs_inventory = c.max_abs_inventory.max(inv_lots.abs());
        if inv.abs() > limit + 1e-9 {
            let from = *beyond_from.get_or_insert(now);
            c.max_beyond_limit_ms = c.max_beyond_limit_ms.max((now - from) as f64 / 1e6);
        } else {
            beyond_from = None;
        }
        inv_area += inv_lots.abs() * (now - last_ts) as f64;
        tokens = (tokens + (now - last_ts) as f64 * rate_per_ns).min(bucket_cap);
        last_ts = now;
        if now >= end_ns {
            break;
        }

        if let (Some((bid_t, bid_q)), Some((ask_t, ask_q))) = (engine.best_bid(), engine.best_ask())
        {
            let mid = (bid_t + ask_t) as f64 * tick / 2.0;
            // 2. Quotes resting longer than tail_age_ms are cancelled.
            for l in live.iter_mut() {
                if l.purpose == OrderPurpose::Quote
                    && !l.cancelling
                    && now - l.sent_ns > tail_age_ns
                    && engine.cancel(l.id)
                {
                    l.cancelling = true;
                    c.tail_cancels += 1;
                }
            }
            let top = (bid_q + ask_q) / 2.0;
            let size = ((p.impact_cap_ratio * top / lot).round().max(1.0)) * lot;
            // 3. Beyond the limit (a replaced quote filled while its cancel
            // was in flight): wait tail_age_ms for a passive reducing fill,
            // then cross with an immediate-or-cancel order limited to 4 ticks
            // through the touch (if the market ran away it expires, and the
            // bot tries again tail_age_ms later). The order takes inventory
            // back to flatten_to_share of the limit, but never so far that,
            // should the reducing quotes still working (even those being
            // cancelled) fill too, inventory would pass the opposite limit.
            if inv.abs() > limit + 1e-9 {
                let since = *beyond_since.get_or_insert(now);
                let flattening = live.iter().any(|l| l.purpose == OrderPurpose::Flatten);
                if !flattening && now - since >= tail_age_ns {
                    let buy = inv < 0.0;
                    let reducing: f64 = live
                        .iter()
                        .filter(|l| l.purpose == OrderPurpose::Quote && l.buy == buy)
                        .map(|l| l.qty)
                        .sum();
                    let wanted = ((inv.abs() - spec.flatten_to_share * limit) / lot).ceil();
                    let room = ((inv.abs() + limit - reducing) / lot).floor();
                    let qty = wanted.min(room).max(1.0) * lot;
                    let price_tick = if buy { ask_t + 4 } else { bid_t - 4 };
                    let id = next_id;
                    next_id += 1;
                    engine.submit(id, buy, price_tick, qty, Lifetime::ImmediateOrCancel)?;
                    live.push(Live {
                        id,
                        buy,
                        price_tick,
                        qty,
                        sent_ns: now,
                        purpose: OrderPurpose::Flatten,
                        cancelling: false,
                    });
                    c.flatten_orders += 1;
                    beyond_since = Some(now);
                }
            } else {
                beyond_since = None;
            }
            // 4. Two-sided quotes.
            let skew_bps = spec.skew_at_limit_bps * (inv / limit).clamp(-1.5, 1.5);
            for (side, buy) in [(0usize, true), (1usize, false)] {
                let target = if buy {
                    ((mid * (1.0 - (half_bps + skew_bps) * 1e-4)) / tick).floor() as i64
                } else {
                    ((mid * (1.0 + (half_bps - skew_bps) * 1e-4)) / tick).ceil() as i64
                };
                let working = live.iter().position(|l| {
                    l.purpose == OrderPurpose::Quote && l.buy == buy && !l.cancelling
                });
                let needs = match working {
                    None => true,
                    Some(i) => {
                        (live[i].price_tick - target).unsigned_abs()
                            >= u64::from(spec.requote_ticks)
                    }
                };
                if !needs {
                    wish[side] = None;
                    continue;
                }
                // A new quote decision: a first wish, or a new target price.
                let decision = wish[side] != Some(target);
                if decision {
                    wish[side] = Some(target);
                    c.requests += 1;
                }
                let block = |count: &mut u64| {
                    if decision {
                        *count += 1;
                    }
                };
                // The position limit first: whether a quote would breach
                // it does not depend on how many orders are in flight.
                let open: f64 = live
                    .iter()
                    .enumerate()
                    .filter(|(i, l)| l.buy == buy && Some(*i) != working)
                    .map(|(_, l)| l.qty)
                    .sum();
                let exposure = if buy { inv } else { -inv } + open;
                if exposure + size > limit + 1e-9 {
                    block(&mut c.risk_blocks);
                    continue;
                }
                if now - last_sent[side] < min_interval_ns || tokens < 1.0 {
                    block(&mut c.min_interval_blocks);
                    continue;
                }
                let needed = 1 + usize::from(working.is_some());
                if engine.in_flight() + needed > concurrency {
                    block(&mut c.concurrency_blocks);
                    continue;
                }
                if let Some(i) = working {
                    if engine.cancel(live[i].id) {
                        live[i].cancelling = true;
                        c.replace_cancels += 1;
                    } else {
                        // Its previous request is still in flight: try later.
                        continue;
                    }
                }
                let id = next_id;
                next_id += 1;
                engine.submit(id, buy, target, size, Lifetime::Resting)?;
                live.push(Live {
                    id,
                    buy,
                    price_tick: target,
                    qty: size,
                    sent_ns: now,
                    purpose: OrderPurpose::Quote,
                    cancelling: false,
                });
                c.quotes_sent += 1;
                last_sent[side] = now;
                tokens -= 1.0;
                wish[side] = None;
            }
        }
        if !engine.elapse(step_ns)? {
            break;
        }
    }
    let end = engine.now().max(1);
    c.mean_abs_inventory = inv_area / end as f64;
    Ok(BotRun {
        fills,
        counters: c,
        order_ages_ms: ages,
        final_inventory: inv,
        end_ns: end,
    })
}
