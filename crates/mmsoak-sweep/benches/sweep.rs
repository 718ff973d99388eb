//! Sweep benchmark (issue 15, "Performance"):
//! `cargo bench -p mmsoak-sweep --bench sweep` runs 40 seeds × `default` ×
//! 24 iterations × 1 simulated hour with `--jobs 2`, then the same with
//! `--jobs 1`, and prints one `key=value` line per figure: wall times, the
//! speed-up (target ≥ 1.7), the 2-job time against the 60 s target, and the
//! process's peak RSS (two workers).

use std::error::Error;
use std::time::{Duration, Instant};

use mmsoak_runner::{Scenario, StopRequest};
use mmsoak_sweep::{run_sweep, Keep, PolicySpec, RunOptions, ScenarioSpec, SweepDriver, SweepSpec};

fn hwm_mb() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or_else(|| "n/a".to_owned(), |kb| format!("{:.1}", kb / 1024.0))
}

fn main() -> Result<(), Box<dyn Error>> {
    let seeds: u64 = std::env::var("MMSOAK_SWEEP_BENCH_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(40);
    let spec = SweepSpec {
        scenarios: vec![ScenarioSpec::new(Scenario::builtin("default")?)],
        policies: vec![PolicySpec::builtin("default").ok_or("built-in policy")?],
        seeds: (0..seeds).collect(),
        iterations: 24,
        driver: SweepDriver::Sim {
            duration: Duration::from_secs(3600),
        },
        auto_tune: true,
        keep: Keep::None,
    };
    let mut walls = Vec::new();
    for jobs in [2, 1] {
        let dir = tempfile::tempdir()?;
        let t = Instant::now();
        let report = run_sweep(
            &spec,
            dir.path(),
            &RunOptions::new(jobs),
            &StopRequest::new(),
            &|_| {},
        )?;
        let wall = t.elapsed().as_secs_f64();
        println!(
            "bench sweep jobs={jobs} seeds={seeds} soaks={} wall_s={wall:.1} hwm_mb={}",
            report.timing.soaks_run,
            hwm_mb()
        );
        walls.push(wall);
    }
    let (two, one) = (walls[0], walls[1]);
    println!(
        "bench sweep_speedup jobs2_vs_jobs1={:.2} target>=1.7 met={} jobs2_wall_s={two:.1} target_s<=60 met={}",
        one / two,
        if one / two >= 1.7 { "yes" } else { "no" },
        if two <= 60.0 { "yes" } else { "no" }
    );
    Ok(())
}
