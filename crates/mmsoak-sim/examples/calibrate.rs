//! Print the KPIs of a scenario for a few seeds (calibration aid).
use std::time::Duration;

use mmsoak_core::{Param, ParamRegistry};
use mmsoak_sim::{simulate_iteration, Scenario, SimParams};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let scenario = Scenario::load(args.get(1).map_or("default", String::as_str))?;
    let secs: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(600);
    let mut p = SimParams::defaults(&ParamRegistry::default());
    for kv in args.iter().skip(3) {
        let (k, v) = kv.split_once('=').ok_or("k=v")?;
        let param: Param = k.parse()?;
        p = p.with(param, v.parse()?);
    }
    for seed in 1..=3u64 {
        let t = std::time::Instant::now();
        let out = simulate_iteration(&scenario, &p, seed, 1, Duration::from_secs(secs))?;
        let r = &out.report.totals;
        let f = r.fills.unwrap_or_default();
        let mt = f.maker_volume / (f.maker_volume + f.taker_volume).max(1e-9);
        println!(
            "seed {seed}: mt {mt:.3} fills {}/{} net {:?} (g {:?} fee {:?} slip {:?} adv {:?} inv {:?}) p95 {:?} risk {:.3} mi {:.3} conc {:.3} adv95 {:?} slip95 {:?} age95 {:?} | req {} sent {} tail {} flat {} maxinv {:.1} ev {} {:.2}s",
            f.maker_count, f.taker_count, r.net_bps, r.components.gross_bps, r.components.fees_eff_bps,
            r.components.slippage_bps, r.components.adverse_bps, r.components.inventory_bps,
            r.p95_latency_ms,
            r.block_reasons.risk.map_or(0.0, |b| b.ratio),
            r.block_reasons.min_interval.map_or(0.0, |b| b.ratio),
            r.block_reasons.concurrency.map_or(0.0, |b| b.ratio),
            r.adverse_bps_p95, r.slippage_bps_p95, r.order_age_p95_ms,
            out.counters.requests, out.counters.quotes_sent, out.counters.tail_cancels,
            out.counters.flatten_orders, out.counters.max_abs_inventory, out.market_events,
            t.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
