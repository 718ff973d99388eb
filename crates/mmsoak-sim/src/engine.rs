//! The adapter to hftbacktest 0.9.4: order matching, queue position and
//! latency. Nothing from hftbacktest is visible outside this module.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;
use std::rc::Rc;

use hftbacktest::backtest::assettype::LinearAsset;
use hftbacktest::backtest::data::{Data, DataSource};
use hftbacktest::backtest::models::{
    CommonFees, LatencyModel, PowerProbQueueFunc3, ProbQueueModel, TradingValueFeeModel,
};
use hftbacktest::backtest::{Backtest, ExchangeKind, L2AssetBuilder};
use hftbacktest::prelude::{
    Bot, ElapseResult, Event, HashMapMarketDepth, L2MarketDepth, MarketDepth, OrdType, Order,
    Status, TimeInForce, BUY_EVENT, DEPTH_CLEAR_EVENT, DEPTH_EVENT, DEPTH_SNAPSHOT_EVENT,
    EXCH_EVENT, INVALID_MAX, INVALID_MIN, LOCAL_EVENT, SELL_EVENT, TRADE_EVENT,
};

use crate::market::{MarketEvent, MarketEventKind};
use crate::rng::Rng;
use crate::scenario::Scenario;
use crate::SimError;

mod book;
mod recorded;
pub(crate) use book::Book;
pub(crate) use recorded::RecordedEvents;

/// How an order ended, as seen by the bot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum OrderEnd {
    /// Filled in full.
    Filled {
        /// Exchange time of the fill, ns.
        ts: i64,
        /// Execution price.
        price: f64,
        /// Quantity.
        qty: f64,
        /// Whether it provided liquidity.
        maker: bool,
    },
    /// Cancelled (or expired / rejected): gone without a fill.
    Gone {
        /// Exchange time, ns.
        ts: i64,
    },
}

/// How long an order may live at the exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lifetime {
    /// Rests until filled or cancelled (a quote).
    Resting,
    /// Fills at once or expires (a flattening order).
    ImmediateOrCancel,
}

/// Latency state shared by the two clones hftbacktest keeps of the model.
struct LatencyState {
    base_ns: f64,
    per_in_flight_ns: f64,
    /// Added at market load 1 (the exchange's queueing grows with the
    /// messages it handles).
    exchange_load_ns: f64,
    /// Market load per 100 ms of exchange time: the market's messages in
    /// the trailing second over their mean per second.
    load: Vec<f32>,
    jitter_ns: f64,
    response_share: f64,
    rng: Rng,
    in_flight: usize,
    pending_response: BTreeMap<u64, i64>,
    round_trips_ms: Vec<f64>,
    /// Each round trip as it would have been with none of our other orders
    /// in flight (the own-orders part taken out): the latency floor's data.
    alone_round_trips_ms: Vec<f64>,
}

impl LatencyState {
    /// The round trip of a request sent at `timestamp` (exchange time, ns):
    /// the base, our own orders in flight, the exchange's load at that
    /// moment, and jitter.
    fn round_trip_ns(&mut self, timestamp: i64) -> f64 {
        let jitter = self.rng.exponential(self.jitter_ns);
        let bucket = usize::try_from(timestamp.max(0) / LOAD_BUCKET_NS).unwrap_or(usize::MAX);
        let load = self
            .load
            .get(bucket)
            .or(self.load.last())
            .copied()
            .map_or(1.0, f64::from);
        self.base_ns
            + self.per_in_flight_ns * self.in_flight as f64
            + self.exchange_load_ns * load
            + jitter
    }
}

#[derive(Clone)]
struct SharedLatency(Rc<RefCell<LatencyState>>);

impl LatencyModel for SharedLatency {
    fn entry(&mut self, timestamp: i64, order: &Order) -> i64 {
        let mut s = self.0.borrow_mut();
        let rt = s.round_trip_ns(timestamp);
        let response = (rt * s.response_share).round() as i64;
        let entry = (rt.round() as i64 - response).max(1);
        s.pending_response.insert(order.order_id, response.max(1));
        s.round_trips_ms.push(rt / 1e6);
        let alone = rt - s.per_in_flight_ns * s.in_flight as f64;
        s.alone_round_trips_ms.push(alone / 1e6);
        entry
    }

    fn response(&mut self, _timestamp: i64, order: &Order) -> i64 {
        let mut s = self.0.borrow_mut();
        let fallback = (s.base_ns * s.response_share).round() as i64;
        s.pending_response
            .remove(&order.order_id)
            .unwrap_or(fallback)
            .max(1)
    }
}

/// The width of a market-load bucket, ns.
const LOAD_BUCKET_NS: i64 = 100_000_000;

/// Market load per [`LOAD_BUCKET_NS`] of exchange time: the messages of the
/// trailing second over the market's mean per second (1 on average).
fn market_load(exch_ts: impl Iterator<Item = i64>) -> Vec<f32> {
    let mut counts: Vec<u32> = Vec::new();
    for ts in exch_ts {
        let Ok(i) = usize::try_from(ts.max(0) / LOAD_BUCKET_NS) else {
            continue;
        };
        if i >= counts.len() {
            // A recorded market spans at most 7 days: 6 million buckets.
            if i > 7 * 24 * 36_000 {
                continue;
            }
            counts.resize(i + 1, 0);
        }
        counts[i] += 1;
    }
    let per_bucket = counts.iter().map(|&c| f64::from(c)).sum::<f64>() / counts.len().max(1) as f64;
    let per_second = per_bucket * 10.0;
    if per_second <= 0.0 {
        return Vec::new();
    }
    let mut trailing = 0.0;
    counts
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            trailing += f64::from(c);
            if i >= 10 {
                trailing -= f64::from(counts[i - 10]);
            }
            (trailing / per_second) as f32
        })
        .collect()
}

/// Where the market comes from.
pub(crate) enum MarketSource<'a> {
    /// Generated in memory; taken, so the tape is freed while it is
    /// converted, before hftbacktest's copy is made (the three copies of a
    /// tape never coexist).
    Events(Vec<MarketEvent>),
    /// A recorded market, read and checked once per run.
    Recorded(&'a RecordedEvents),
}

impl MarketSource<'_> {
    /// How many market events it holds.
    pub(crate) fn len(&self) -> usize {
        match self {
            MarketSource::Events(events) => events.len(),
            MarketSource::Recorded(events) => events.len(),
        }
    }
}

/// One backtest: the market, our orders, matching and latency, on the
/// order book `D` (the simulator's [`Book`]; hftbacktest's own
/// `HashMapMarketDepth` for the benchmark's baseline).
pub(crate) struct Engine<D = Book> {
    hbt: Backtest<D>,
    latency: Rc<RefCell<LatencyState>>,
    tick_size: f64,
}

fn to_event(e: &MarketEvent) -> Event {
    let side = if e.buy { BUY_EVENT } else { SELL_EVENT };
    let ev = match e.kind {
        MarketEventKind::Clear => DEPTH_CLEAR_EVENT,
        MarketEventKind::Snapshot => DEPTH_SNAPSHOT_EVENT | side,
        MarketEventKind::Depth => DEPTH_EVENT | side,
        MarketEventKind::Trade => TRADE_EVENT | side,
    };
    Event {
        ev: ev | EXCH_EVENT | LOCAL_EVENT,
        exch_ts: e.exch_ts,
        local_ts: e.local_ts,
        px: e.px,
        qty: e.qty,
        order_id: 0,
        ival: 0,
        fval: 0.0,
    }
}

/// An engine on hftbacktest's own book, as it ships (the benchmark's
/// baseline).
pub(crate) type StockEngine = Engine<HashMapMarketDepth>;

/// The order books an engine can run on.
pub(crate) trait EngineBook: MarketDepth + L2MarketDepth + 'static {
    /// An empty book for the instrument.
    fn empty(tick_size: f64, lot_size: f64) -> Self;
}

impl EngineBook for Book {
    fn empty(tick_size: f64, lot_size: f64) -> Self {
        Book::new(tick_size, lot_size)
    }
}

impl EngineBook for HashMapMarketDepth {
    fn empty(tick_size: f64, lot_size: f64) -> Self {
        HashMapMarketDepth::new(tick_size, lot_size)
    }
}

impl<D: EngineBook> Engine<D> {
    /// An engine over `source` with the scenario's instrument, latency
    /// (plus `extra_base_ms`) and fees; `seed` drives the latency jitter.
    pub(crate) fn new(
        source: MarketSource<'_>,
        scenario: &Scenario,
        extra_base_ms: f64,
        seed: u64,
    ) -> Result<Engine<D>, SimError> {
        let (tick_size, lot_size) = (scenario.market.tick_size, scenario.market.lot_size);
        let (latency, fees) = (&scenario.latency, &scenario.fees);
        // hftbacktest's `Data::from_data(&[])` panics: an empty market is
        // `Data::empty()`.
        let data = |events: &[Event]| match events {
            [] => DataSource::Data(Data::empty()),
            events => DataSource::Data(Data::from_data(events)),
        };
        let (data, load) = match source {
            MarketSource::Events(events) => {
                let load = market_load(events.iter().map(|e| e.exch_ts));
                (
                    data(&events.into_iter().map(|e| to_event(&e)).collect::<Vec<_>>()),
                    load,
                )
            }
            MarketSource::Recorded(RecordedEvents(events)) => (
                data(events),
                market_load(
                    events
                        .iter()
                        .filter(|e| e.ev & EXCH_EVENT != 0)
                        .map(|e| e.exch_ts),
                ),
            ),
        };
        let state = Rc::new(RefCell::new(LatencyState {
            base_ns: (latency.base_ms + extra_base_ms) * 1e6,
            per_in_flight_ns: latency.per_in_flight_ms * 1e6,
            exchange_load_ns: latency.exchange_load_ms * 1e6,
            load,
            jitter_ns: latency.jitter_ms * 1e6,
            response_share: latency.response_share,
            rng: Rng::new(seed, 0x4C41_5445),
            in_flight: 0,
            pending_response: BTreeMap::new(),
            round_trips_ms: Vec::new(),
            alone_round_trips_ms: Vec::new(),
        }));
        let asset = L2AssetBuilder::new()
            .data(vec![data])
            .latency_model(SharedLatency(state.clone()))
            .asset_type(LinearAsset::new(1.0))
            .fee_model(TradingValueFeeModel::new(CommonFees::new(
                fees.maker_bps * 1e-4,
                fees.taker_bps * 1e-4,
            )))
            .exchange(ExchangeKind::NoPartialFillExchange)
            .queue_model(ProbQueueModel::new(PowerProbQueueFunc3::new(3.0)))
            .depth(move || D::empty(tick_size, lot_size))
            .build()
            .map_err(|e| SimError::Engine(format!("cannot build the backtest asset: {e}")))?;
        let hbt = Backtest::builder()
            .add_asset(asset)
            .build()
            .map_err(|e| SimError::Engine(format!("cannot build the backtest: {e}")))?;
        Ok(Engine {
            hbt,
            latency: state,
            tick_size,
        })
    }

    pub(crate) fn tick_size(&self) -> f64 {
        self.tick_size
    }

    pub(crate) fn now(&self) -> i64 {
        self.hbt.current_timestamp()
    }

    /// Advance `ns`; `false` at the end of the market data.
    pub(crate) fn elapse(&mut self, ns: i64) -> Result<bool, SimError> {
        match self.hbt.elapse(ns) {
            Ok(ElapseResult::EndOfData) => Ok(false),
            Ok(_) => Ok(true),
            Err(e) => Err(SimError::Engine(format!("backtest step failed: {e}"))),
        }
    }

    /// Best bid (tick, qty), as the bot sees it.
    pub(crate) fn best_bid(&self) -> Option<(i64, f64)> {
        let d = self.hbt.depth(0);
        let t = d.best_bid_tick();
        (t != INVALID_MIN).then(|| (t, d.best_bid_qty()))
    }

    /// Best ask (tick, qty), as the bot sees it.
    pub(crate) fn best_ask(&self) -> Option<(i64, f64)> {
        let d = self.hbt.depth(0);
        let t = d.best_ask_tick();
        (t != INVALID_MAX).then(|| (t, d.best_ask_qty()))
    }

    /// Orders with a request (new or cancel) not yet answered.
    pub(crate) fn in_flight(&self) -> usize {
        self.hbt
            .orders(0)
            .values()
            .filter(|o| o.req != Status::None)
            .count()
    }

    /// Send a limit order; latency depends on the orders in flight.
    pub(crate) fn submit(
        &mut self,
        id: u64,
        buy: bool,
        price_tick: i64,
        qty: f64,
        lifetime: Lifetime,
    ) -> Result<(), SimError> {
        let in_flight = self.in_flight();
        self.latency.borrow_mut().in_flight = in_flight;
        let px = price_tick as f64 * self.tick_size;
        let tif = match lifetime {
            Lifetime::Resting => TimeInForce::GTC,
            Lifetime::ImmediateOrCancel => TimeInForce::IOC,
        };
        let r = if buy {
            self.hbt
                .submit_buy_order(0, id, px, qty, tif, OrdType::Limit, false)
        } else {
            self.hbt
                .submit_sell_order(0, id, px, qty, tif, OrdType::Limit, false)
        };
        r.map(|_| ())
            .map_err(|e| SimError::Engine(format!("order {id} rejected locally: {e}")))
    }

    /// Ask to cancel; `false` when a request on it is still in flight.
    pub(crate) fn cancel(&mut self, id: u64) -> bool {
        let in_flight = self.in_flight();
        self.latency.borrow_mut().in_flight = in_flight;
        self.hbt.cancel(0, id, false).is_ok()
    }

    /// Orders that ended since the last call, by (exchange time, order id).
    pub(crate) fn poll(&mut self, out: &mut Vec<(u64, OrderEnd)>) {
        out.clear();
        for (id, o) in self.hbt.orders(0) {
            let end = match o.status {
                Status::Filled => OrderEnd::Filled {
                    ts: o.exch_timestamp,
                    price: o.exec_price_tick as f64 * self.tick_size,
                    qty: o.exec_qty,
                    maker: o.maker,
                },
                Status::Canceled | Status::Expired | Status::Rejected => OrderEnd::Gone {
                    ts: o.exch_timestamp,
                },
                _ => continue,
            };
            out.push((*id, end));
        }
        let ts = |e: &OrderEnd| match e {
            OrderEnd::Filled { ts, .. } | OrderEnd::Gone { ts } => *ts,
        };
        out.sort_by_key(|a| (ts(&a.1), a.0));
        self.hbt.clear_inactive_orders(Some(0));
    }

    /// Every order round trip so far, ms, in the order sent, and each as it
    /// would have been with nothing else of ours in flight (taken out of
    /// the engine).
    pub(crate) fn take_round_trips_ms(&mut self) -> (Vec<f64>, Vec<f64>) {
        let mut l = self.latency.borrow_mut();
        (
            std::mem::take(&mut l.round_trips_ms),
            std::mem::take(&mut l.alone_round_trips_ms),
        )
    }

    /// Run to the end without trading (the replay baseline of the benchmark).
    pub(crate) fn run_idle(&mut self) -> Result<(), SimError> {
        self.hbt
            .goto_end()
            .map(|_| ())
            .map_err(|e| SimError::Engine(format!("backtest replay failed: {e}")))
    }
}

/// Write `events` as an npz file hftbacktest can replay (array `data`).
pub(crate) fn write_npz(path: &Path, events: &[MarketEvent]) -> Result<(), SimError> {
    let evs: Vec<Event> = events.iter().map(to_event).collect();
    let mut npy = Vec::new();
    let io = |source| SimError::Io {
        path: path.to_owned(),
        source,
    };
    hftbacktest::backtest::data::write_npy(&mut npy, &evs).map_err(io)?;
    let file = std::fs::File::create(path).map_err(io)?;
    let file = crate::npz::write_stored_zip(file, "data.npy", &npy)
        .map_err(|e| io(std::io::Error::other(e)))?;
    file.sync_all().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: i64 = 1_000_000_000;

    /// A market with a quiet first 5 s (one message a second), a burst in
    /// the next second (100 messages), then quiet again.
    fn bursty() -> Vec<i64> {
        let quiet = (0..5).map(|s| s * SECOND);
        let burst = (0..100).map(|k| 5 * SECOND + k * (SECOND / 100));
        let after = (6..12).map(|s| s * SECOND);
        quiet.chain(burst).chain(after).collect()
    }

    #[test]
    fn market_load_is_high_in_a_burst_and_low_in_quiet_seconds() {
        let load = market_load(bursty().into_iter());
        let mean = load.iter().map(|&l| f64::from(l)).sum::<f64>() / load.len() as f64;
        // The burst's second holds 100 of 111 messages in a 12 s market.
        let in_burst = f64::from(load[59]);
        let quiet = f64::from(load[30]);
        assert!(in_burst > 5.0, "{in_burst}");
        assert!(quiet < 0.2, "{quiet}");
        assert!((0.5..=1.5).contains(&mean), "{mean}");
    }

    #[test]
    fn a_round_trip_costs_more_when_the_exchange_is_busy() {
        let mut state = LatencyState {
            base_ns: 200e6,
            per_in_flight_ns: 20e6,
            exchange_load_ns: 30e6,
            load: market_load(bursty().into_iter()),
            jitter_ns: 0.0,
            response_share: 0.4,
            rng: Rng::new(1, 2),
            in_flight: 0,
            pending_response: BTreeMap::new(),
            round_trips_ms: Vec::new(),
            alone_round_trips_ms: Vec::new(),
        };
        let quiet = state.round_trip_ns(3 * SECOND + 50_000_000);
        let busy = state.round_trip_ns(5 * SECOND + 950_000_000);
        assert!(busy > quiet + 100e6, "{quiet} vs {busy}");
        // Our own orders in flight still add their part.
        state.in_flight = 3;
        let own = state.round_trip_ns(3 * SECOND + 50_000_000);
        assert!((own - quiet - 60e6).abs() < 1e-3, "{quiet} vs {own}");
    }
}
