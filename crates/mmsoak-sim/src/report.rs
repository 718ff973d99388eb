//! KPIs of one iteration, computed from our own fill records.

use mmsoak_core::{
    BlockReason, BlockReasons, EdgeComponents, EdgeReport, EdgeTotals, FillTotals, ReportRuntime,
};
use serde_json::{json, Value};

use crate::bot::{BotCounters, SimFill};
use crate::market::MarketTape;

/// Nearest-rank 95th percentile.
pub(crate) fn p95(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let rank = ((values.len() as f64) * 0.95).ceil() as usize;
    let index = rank.saturating_sub(1).min(values.len() - 1);
    // Selection, not a full sort: values equal under total_cmp are equal bits.
    Some(*values.select_nth_unstable_by(index, f64::total_cmp).1)
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// What the report is built from.
pub(crate) struct ReportInputs<'a> {
    pub(crate) fills: &'a [SimFill],
    pub(crate) counters: &'a BotCounters,
    pub(crate) tape: &'a MarketTape,
    pub(crate) order_ages_ms: &'a mut [f64],
    pub(crate) round_trips_ms: &'a mut [f64],
    /// The same round trips without their own-orders part.
    pub(crate) alone_round_trips_ms: &'a mut [f64],
    pub(crate) final_inventory: f64,
    pub(crate) end_ns: i64,
    pub(crate) adverse_horizon_ns: i64,
    pub(crate) version: String,
}

/// Horizons of the markouts in EDGE_REPORT (`totals.markouts`), ms.
pub const MARKOUT_HORIZONS_MS: [u64; 3] = [1_000, 10_000, 60_000];

/// Build the iteration's report.
///
/// Each fill is valued against the efficient mid just before it
/// ([`MarketTape::mid_before`]): the spread captured is the distance from
/// that mid to the fill price, and any move after it (the fill's own
/// sweep's impact, a jump in the same step) is adverse selection, measured
/// at `adverse_horizon_ns` and at each markout horizon. A horizon past the
/// end of the iteration stops at the end.
pub(crate) fn build_report(r: ReportInputs<'_>) -> EdgeReport {
    let mut totals = FillTotals::default();
    let (mut gross, mut slip, mut fees, mut adverse, mut cash) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let mut markouts = [0.0; MARKOUT_HORIZONS_MS.len()];
    let mut adverse_each = Vec::with_capacity(r.fills.len());
    let mut slip_each = Vec::with_capacity(r.fills.len());
    let mid_after = |ts: i64, m: f64| r.tape.mid_at(ts.min(r.end_ns)).unwrap_or(m);
    for f in r.fills {
        let notional = f.price * f.qty;
        let s = if f.buy { 1.0 } else { -1.0 };
        let m = r.tape.mid_before(f.ts_ns).unwrap_or(f.price);
        let m_h = mid_after(f.ts_ns + r.adverse_horizon_ns, m);
        for (sum, h) in markouts.iter_mut().zip(MARKOUT_HORIZONS_MS) {
            let ns = i64::try_from(h)
                .unwrap_or(i64::MAX)
                .saturating_mul(1_000_000);
            *sum += s * (mid_after(f.ts_ns.saturating_add(ns), m) - m) * f.qty;
        }
        let capture = s * (m - f.price) * f.qty;
        if f.maker {
            totals.maker_count += 1;
            totals.maker_volume += notional;
            gross += capture;
            slip_each.push(0.0);
        } else {
            totals.taker_count += 1;
            totals.taker_volume += notional;
            slip += capture;
            slip_each.push(-capture / (m * f.qty) * 1e4);
        }
        let adv = s * (m_h - m) * f.qty;
        adverse += adv;
        adverse_each.push(-adv / (m * f.qty) * 1e4);
        fees -= f.fee;
        cash -= s * f.price * f.qty;
    }
    let volume = totals.maker_volume + totals.taker_volume;
    let end_mid = r.tape.mid_at(r.end_ns).unwrap_or(0.0);
    let hours = r.end_ns as f64 / 3.6e12;
    let pnl = cash + r.final_inventory * end_mid + fees;
    let inventory = pnl - gross - slip - fees - adverse;
    let bps = |x: f64| (volume > 0.0).then(|| round6(x / volume * 1e4));
    let net = bps(pnl);
    let components = EdgeComponents {
        gross_bps: bps(gross),
        fees_eff_bps: bps(fees),
        slippage_bps: bps(slip),
        adverse_bps: bps(adverse),
        inventory_bps: bps(inventory),
    };
    let mut drivers: Vec<(&str, f64)> = Vec::new();
    if net.is_some_and(|n| n < 0.0) {
        for (name, v) in [
            ("adverse", components.adverse_bps),
            ("slippage", components.slippage_bps),
            ("fees", components.fees_eff_bps),
            ("inventory", components.inventory_bps),
        ] {
            if let Some(v) = v.filter(|v| *v < 0.0) {
                drivers.push((name, v));
            }
        }
        drivers.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(b.0)));
    }
    let c = r.counters;
    let block = |count: u64| {
        Some(BlockReason {
            count: Some(count),
            ratio: if c.requests == 0 {
                0.0
            } else {
                round6(count as f64 / c.requests as f64)
            },
        })
    };
    EdgeReport {
        totals: EdgeTotals {
            net_bps: net,
            components,
            adverse_bps_p95: p95(&mut adverse_each).map(round6),
            slippage_bps_p95: p95(&mut slip_each).map(round6),
            order_age_p95_ms: p95(r.order_ages_ms).map(round6),
            p95_latency_ms: p95(r.round_trips_ms).map(round6),
            latency_floor_ms: p95(r.alone_round_trips_ms).map(round6),
            fills: Some(FillTotals {
                maker_volume: round6(totals.maker_volume),
                taker_volume: round6(totals.taker_volume),
                ..totals
            }),
            internal_fills: None,
            block_reasons: BlockReasons {
                risk: block(c.risk_blocks),
                min_interval: block(c.min_interval_blocks),
                concurrency: block(c.concurrency_blocks),
                throttle: None,
            },
            neg_edge_drivers: drivers.into_iter().map(|(n, _)| n.to_owned()).collect(),
            pnl: Some(round6(pnl)),
            traded_notional: Some(round6(volume)),
            pnl_per_hour: (hours > 0.0).then(|| round6(pnl / hours)),
            markouts: MARKOUT_HORIZONS_MS
                .into_iter()
                .zip(markouts)
                .filter_map(|(h, sum)| Some((h, bps(sum)?)))
                .collect(),
        },
        runtime: Some(ReportRuntime {
            utc: None,
            version: Some(r.version),
        }),
    }
}

/// The report as EDGE_REPORT.json, with the counters under `sim`.
pub fn report_json(report: &EdgeReport, counters: &BotCounters, scenario: &str) -> Value {
    let t = &report.totals;
    let block = |b: Option<BlockReason>| {
        b.map(|b| json!({"count": b.count, "ratio": b.ratio}))
            .unwrap_or(Value::Null)
    };
    let fills = t.fills.unwrap_or_default();
    json!({
        "totals": {
            "net_bps": t.net_bps,
            "gross_bps": t.components.gross_bps,
            "fees_eff_bps": t.components.fees_eff_bps,
            "slippage_bps": t.components.slippage_bps,
            "adverse_bps": t.components.adverse_bps,
            "inventory_bps": t.components.inventory_bps,
            "adverse_bps_p95": t.adverse_bps_p95,
            "slippage_bps_p95": t.slippage_bps_p95,
            "order_age_p95_ms": t.order_age_p95_ms,
            "p95_latency_ms": t.p95_latency_ms,
            "latency_floor_ms": t.latency_floor_ms,
            "fills": {
                "maker_count": fills.maker_count,
                "taker_count": fills.taker_count,
                "maker_volume": fills.maker_volume,
                "taker_volume": fills.taker_volume,
            },
            "block_reasons": {
                "risk": block(t.block_reasons.risk),
                "min_interval": block(t.block_reasons.min_interval),
                "concurrency": block(t.block_reasons.concurrency),
            },
            "neg_edge_drivers": t.neg_edge_drivers,
            "pnl": t.pnl,
            "traded_notional": t.traded_notional,
            "pnl_per_hour": t.pnl_per_hour,
            "markouts": t.markouts.iter().map(|(h, v)| (h.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
        },
        "sim": {
            "scenario": scenario,
            "requests": counters.requests,
            "quotes_sent": counters.quotes_sent,
            "tail_cancels": counters.tail_cancels,
            "replace_cancels": counters.replace_cancels,
            "flatten_orders": counters.flatten_orders,
            "max_abs_inventory_lots": round6(counters.max_abs_inventory),
            "max_beyond_limit_ms": round6(counters.max_beyond_limit_ms),
            "mean_abs_inventory_lots": round6(counters.mean_abs_inventory),
        },
        "runtime": {
            "utc": Value::Null,
            "version": report.runtime.as_ref().and_then(|r| r.version.clone()),
        },
    })
}

/// One fill as a fill-log line (JSON).
pub fn fill_json(f: &SimFill) -> Value {
    json!({
        "ts_ns": f.ts_ns,
        "order_id": f.order_id,
        "side": if f.buy { "buy" } else { "sell" },
        "price": f.price,
        "qty": f.qty,
        "notional": f.price * f.qty,
        "is_maker": f.maker,
        "fee": f.fee,
        "purpose": f.purpose.as_str(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::bot::OrderPurpose;

    /// A maker sell at 100.01 filled at t = 5 ms, 1 ms before the mid jumps
    /// from 100 to 101 within the same 100 ms step.
    fn jump_after_fill() -> (MarketTape, SimFill) {
        let tape = MarketTape {
            events: Vec::new(),
            // Sampled at the step's end, the mid already holds the jump.
            mid_path: vec![101.0; 20],
            mid_changes: vec![(0, 100.0), (6_000_000, 101.0)],
            step_ns: 100_000_000,
        };
        let fill = SimFill {
            ts_ns: 5_000_000,
            order_id: 1,
            buy: false,
            price: 100.01,
            qty: 1.0,
            maker: true,
            fee: 0.0,
            purpose: OrderPurpose::Quote,
        };
        (tape, fill)
    }

    fn report_of(tape: &MarketTape, fills: &[SimFill], end_ns: i64) -> EdgeReport {
        build_report(ReportInputs {
            fills,
            counters: &BotCounters::default(),
            tape,
            order_ages_ms: &mut [],
            round_trips_ms: &mut [],
            alone_round_trips_ms: &mut [],
            final_inventory: fills
                .iter()
                .map(|f| if f.buy { f.qty } else { -f.qty })
                .sum(),
            end_ns,
            adverse_horizon_ns: 1_000_000_000,
            version: String::new(),
        })
    }

    #[test]
    fn a_jump_in_the_fills_step_is_adverse_selection_not_captured_spread() {
        let (tape, fill) = jump_after_fill();
        let t = report_of(&tape, &[fill], 2_000_000_000).totals;
        let notional = 100.01;
        // Captured: 0.01 from the mid before the fill, not 100.01 − 101.
        assert_eq!(t.components.gross_bps, Some(round6(0.01 / notional * 1e4)));
        // The jump went against the sale: −1 per unit, adverse.
        assert_eq!(
            t.components.adverse_bps,
            Some(round6(-1.0 / notional * 1e4))
        );
        assert_eq!(t.markouts.get(&1_000), t.components.adverse_bps.as_ref());
        // Net is the PnL: sold at 100.01, marked at 101.
        assert_eq!(t.pnl, Some(round6(100.01 - 101.0)));
        assert_eq!(t.net_bps, Some(round6((100.01 - 101.0) / notional * 1e4)));
        assert_eq!(t.traded_notional, Some(notional));
        // 2 s of trading: the hourly rate is 1800 times the PnL.
        assert_eq!(t.pnl_per_hour, Some(round6((100.01 - 101.0) * 1800.0)));
    }

    #[test]
    fn markouts_grow_with_the_horizon_and_stop_at_the_end() {
        let tape = MarketTape {
            events: Vec::new(),
            mid_path: Vec::new(),
            // The mid drifts up 0.01 a second for 100 s.
            mid_changes: (0..=100)
                .map(|s| (s * 1_000_000_000, 100.0 + 0.01 * s as f64))
                .collect(),
            step_ns: 100_000_000,
        };
        let sell = SimFill {
            ts_ns: 0,
            ..jump_after_fill().1
        };
        let t = report_of(&tape, &[sell], 30_000_000_000).totals;
        let bps = |x: f64| round6(-x / 100.01 * 1e4);
        assert_eq!(t.markouts.get(&1_000), Some(&bps(0.01)));
        assert_eq!(t.markouts.get(&10_000), Some(&bps(0.10)));
        // 60 s is past the 30 s iteration: the move up to its end.
        assert_eq!(t.markouts.get(&60_000), Some(&bps(0.30)));
    }

    #[test]
    fn p95_is_nearest_rank() {
        let mut xs: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(p95(&mut xs), Some(95.0));
        assert_eq!(p95(&mut []), None);
        assert_eq!(p95(&mut [3.0]), Some(3.0));
    }
}
