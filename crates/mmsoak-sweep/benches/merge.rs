//! Merge benchmark (issue 15, "Performance"): `cargo bench -p mmsoak-sweep
//! --bench merge` writes 8 shard directories of a 40-seed × 3-cell sweep
//! (outcomes as a sweep writes them) and times `merge_shards` (target
//! ≤ 1 s), median of 5.

use std::collections::BTreeMap;
use std::error::Error;
use std::path::PathBuf;
use std::time::Instant;

use mmsoak_sweep::{merge_shards, Keep, KpiTarget, Partition, SoakOutcome, SweepConfig};

fn main() -> Result<(), Box<dyn Error>> {
    let tmp = tempfile::tempdir()?;
    let config = SweepConfig {
        scenarios: ["default", "calm", "toxic"]
            .iter()
            .map(|s| (s.to_string(), format!("hash-{s}")))
            .collect(),
        policies: vec![("default".to_owned(), "policy-hash".to_owned())],
        seeds: (0..40).collect(),
        iterations: 24,
        sim_duration_s: Some(3600.0),
        exec_command: None,
        iteration_timeout_s: None,
        auto_tune: true,
        keep: Keep::Failed,
    };
    let mut config_bytes = serde_json::to_vec_pretty(&config)?;
    config_bytes.push(b'\n');
    let n = 8;
    let shards: Vec<PathBuf> = (0..n)
        .map(|k| tmp.path().join(format!("shard-{k}")))
        .collect();
    for (k, dir) in shards.iter().enumerate() {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("SWEEP_CONFIG.json"), &config_bytes)?;
        let part = Partition::new(k + 1, n)?;
        std::fs::write(dir.join("SHARD.json"), serde_json::to_vec_pretty(&part)?)?;
    }
    let mut position = 0;
    for (scenario, _) in &config.scenarios {
        for seed in &config.seeds {
            let outcome = SoakOutcome {
                scenario: scenario.clone(),
                policy: "default".to_owned(),
                seed: *seed,
                verdict: if seed % 3 == 0 { "PASS" } else { "FAIL" }.to_owned(),
                failed: vec!["kpi.net_bps_mean".to_owned()],
                window_means: BTreeMap::from([
                    ("maker_taker_ratio".to_owned(), 0.98),
                    ("net_bps".to_owned(), 1.5 + *seed as f64 / 100.0),
                    ("p95_latency_ms".to_owned(), 331.0),
                    ("risk_ratio".to_owned(), 0.001),
                ]),
                pnl_per_hour_first: Some(45.0),
                pnl_per_hour_window: Some(2.0),
                converged_from: None,
                environment_bound: false,
                targets: BTreeMap::from([(
                    "net_bps".to_owned(),
                    KpiTarget {
                        op: ">=".to_owned(),
                        value: 2.7,
                    },
                )]),
            };
            let dir = shards[position % n].join(scenario).join("default");
            std::fs::create_dir_all(&dir)?;
            std::fs::write(
                dir.join(format!("seed-{seed}.json")),
                serde_json::to_vec_pretty(&outcome)?,
            )?;
            position += 1;
        }
    }
    let mut times = Vec::new();
    for i in 0..5 {
        let t = Instant::now();
        let report = merge_shards(&shards, &tmp.path().join(format!("merged-{i}")))?;
        times.push(t.elapsed().as_secs_f64());
        assert_eq!(report.cells.len(), 3);
    }
    times.sort_by(f64::total_cmp);
    let median = times[2];
    println!(
        "bench merge shards={n} cells=3 seeds=40 wall_s_median={median:.3} target_s<=1 met={}",
        if median <= 1.0 { "yes" } else { "no" }
    );
    Ok(())
}
