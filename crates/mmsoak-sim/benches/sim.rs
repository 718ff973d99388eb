//! Performance benchmark of the simulator (issues 7 and 14, "Performance").
//!
//! `cargo bench -p mmsoak-sim --bench sim` prints one `key=value` line per
//! figure:
//! 1. wall seconds per simulated hour of `default` (median of 5 iterations);
//! 2. where that time goes: generating the tape, our engine stepping
//!    through it at the bot's cadence without orders, and the rest (our
//!    orders in hftbacktest, the bot, the KPIs). Issue 14 dropped the
//!    events/s ratio against hftbacktest's idle replay: it compared an
//!    active strategy with a do-nothing one; the target is the absolute
//!    time per simulated hour;
//! 3. 24 consecutive `simulate_iteration` calls (no runner, no files);
//! 4. peak RSS (`VmHWM`) after one simulated hour and after 24 iterations.
//!
//! Memory is measured first, in a fresh process, so the timings' extra tapes
//! do not inflate the one-hour peak. The peak after 24 iterations varies
//! between runs (42–104 MB seen): glibc's dynamic mmap threshold lets the
//! 13–18 MB per-iteration buffers fragment this process's heap
//! (docs/sim.md, "Performance").

use std::error::Error;
use std::time::{Duration, Instant};

use mmsoak_core::ParamRegistry;
use mmsoak_sim::{
    generate, iteration_seed, replay_idle, simulate_iteration, IdleReplay, Scenario, SimParams,
};

const SEED: u64 = 42;
const HOUR: Duration = Duration::from_secs(3600);

/// A field of /proc/self/status, in kB.
fn status_kb(field: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn mb(kb: Option<u64>) -> String {
    kb.map_or_else(|| "na".to_owned(), |k| format!("{:.1}", k as f64 / 1024.0))
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(","))
        .unwrap_or_else(|_| "na".to_owned())
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn met(ok: bool) -> &'static str {
    if ok {
        "yes"
    } else {
        "no"
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    // `cargo bench` passes `--bench`; a filter argument is accepted and ignored.
    let scenario = Scenario::builtin("default")?;
    let params = SimParams::defaults(&ParamRegistry::default());
    let hour_ms = 3_600_000u64;
    println!(
        "bench start loadavg={} rss_mb={} hwm_mb={}",
        loadavg(),
        mb(status_kb("VmRSS")),
        mb(status_kb("VmHWM"))
    );

    // 4a. Peak RSS after one simulated hour (first thing this process does).
    let out = simulate_iteration(&scenario, &params, SEED, 1, HOUR)?;
    let hwm_1h = status_kb("VmHWM");
    let events_1h = out.market_events;
    drop(out);

    // 3. 24 consecutive iterations, and 4b. peak RSS after them.
    let mut per_iter_hwm = Vec::new();
    let t = Instant::now();
    let mut fills = 0usize;
    let mut max_events = 0usize;
    let mut hwm_8 = None;
    for i in 1..=24u32 {
        let out = simulate_iteration(&scenario, &params, SEED, i, HOUR)?;
        fills += out.fills.len();
        max_events = max_events.max(out.market_events);
        if matches!(i, 1 | 8 | 16 | 24) {
            per_iter_hwm.push(format!("{i}:{}", mb(status_kb("VmHWM"))));
        }
        if i == 8 {
            hwm_8 = status_kb("VmHWM");
        }
    }
    let loop_s = t.elapsed().as_secs_f64();
    let hwm_24 = status_kb("VmHWM");
    let rss_24 = status_kb("VmRSS");
    println!(
        "bench loop24 sim_only_wall_s={loop_s:.3} iterations=24 sim_hours=24 fills={fills} target_mini_soak_s<=5 met_sim_part={} note=run+verify+gate_measured_separately_by_lead_via_cli",
        met(loop_s <= 5.0)
    );
    // The peak may rise while iterations with larger tapes come by; growth
    // means it keeps rising after the first third of the run.
    let grew = match (hwm_8, hwm_24) {
        (Some(a), Some(b)) => b as f64 > a as f64 * 1.05,
        _ => true,
    };
    println!(
        "bench memory hwm_after_1h_mb={} hwm_after_24_iter_mb={} rss_after_24_iter_mb={} hwm_by_iter_mb={} events_1h={events_1h} max_events_24={max_events} target_mb<=150 met={} grows_after_iter8={}",
        mb(hwm_1h),
        mb(hwm_24),
        mb(rss_24),
        per_iter_hwm.join(","),
        met(hwm_1h.is_some_and(|k| k <= 150 * 1024)),
        met(grew)
    );

    // 1 and 2. Median of 5 iterations; per iteration, interleaved: the full
    // simulator, the generator alone, and our engine stepping through the
    // same tape at the bot's cadence without orders. The simulator's time
    // splits into generation, engine stepping, and the rest: our orders in
    // hftbacktest, the bot and the KPIs.
    let (mut sim_s, mut gen_s, mut step_s, mut rest_s) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let decision = Duration::from_millis(u64::from(scenario.bot.decision_ms));
    for i in 101..=105u32 {
        let t = Instant::now();
        let out = simulate_iteration(&scenario, &params, SEED, i, HOUR)?;
        let t_sim = t.elapsed().as_secs_f64();

        let t = Instant::now();
        let tape = generate(&scenario.market, iteration_seed(SEED, i), hour_ms);
        let t_gen = t.elapsed().as_secs_f64();
        // The stepping baseline replays the very market the simulator ran on.
        if out.market_events != tape.events.len() {
            return Err(format!(
                "iteration {i}: the simulator ran {} events, the replayed tape has {}",
                out.market_events,
                tape.events.len()
            )
            .into());
        }
        let how = IdleReplay::Engine {
            wake_every: Some(decision),
        };
        let t = Instant::now();
        replay_idle(&scenario, tape.events, how)?;
        let t_step = t.elapsed().as_secs_f64();
        let t_rest = (t_sim - t_gen - t_step).max(0.0);

        sim_s.push(t_sim);
        gen_s.push(t_gen);
        step_s.push(t_step);
        rest_s.push(t_rest);
        println!(
            "bench iter i={i} events={} fills={} sim_s={t_sim:.4} generation_s={t_gen:.4} engine_stepping_s={t_step:.4} orders_bot_kpis_s={t_rest:.4}",
            out.market_events,
            out.fills.len(),
        );
    }
    let hour_s = median(&mut sim_s);
    println!(
        "bench sim_hour wall_s_median={hour_s:.4} n=5 scenario=default params=defaults target_s<=0.10 met={}",
        met(hour_s <= 0.10)
    );
    println!(
        "bench time_split_median_s generation={:.4} engine_stepping={:.4} orders_bot_kpis={:.4} (sim total {hour_s:.4})",
        median(&mut gen_s),
        median(&mut step_s),
        median(&mut rest_s),
    );
    println!("bench end loadavg={}", loadavg());
    Ok(())
}
