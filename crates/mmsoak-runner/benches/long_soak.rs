//! The cost of one soak iteration as a run grows long: a mock soak of
//! 10,000 iterations (`MMSOAK_BENCH_ITERATIONS` to change), auto-tuned, in a
//! temporary directory, with the time of every iteration recorded by the
//! observer. Prints the mean per-iteration time of the first and the last
//! 1,000 iterations (and of each tenth of the run), their ratio (flat: about
//! 1), the same for applied and for skipped iterations apart (an applied
//! step costs more fsyncs than a skip, and a mock run applies more early
//! on), and the size of `SOAK_RUN.json` and `TUNING_REPORT.json` at the end.
//!
//! `cargo bench -p mmsoak-runner --bench long_soak` (release profile). The
//! mock driver does almost nothing, so the figures are the runner's own
//! costs: summaries, apply (journal lines, fsyncs, atomic writes), the
//! tuning report and the run record.

use std::time::Instant;

use mmsoak_runner::{
    run_soak, Clock, IterationDone, MockDriver, SoakConfig, SoakObserver, SoakPolicy,
};

struct Timer {
    last: Instant,
    per_iteration_ms: Vec<f64>,
    applied: Vec<bool>,
}

impl SoakObserver for Timer {
    fn started(&mut self, _config: &SoakConfig, _first: u32) {
        self.last = Instant::now();
    }

    fn iteration_done(&mut self, done: &IterationDone<'_>) {
        let now = Instant::now();
        self.per_iteration_ms
            .push((now - self.last).as_secs_f64() * 1e3);
        self.applied.push(done.outcome.applied);
        self.last = now;
    }
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len().max(1) as f64
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let iterations: u32 = match std::env::var("MMSOAK_BENCH_ITERATIONS") {
        Ok(n) => n.parse()?,
        Err(_) => 10_000,
    };
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("long");
    let config = SoakConfig {
        out_dir: out.clone(),
        iterations,
        auto_tune: true,
        seed: 1,
        policy: SoakPolicy::default(),
        policy_file: None,
        initial_overrides: Default::default(),
        exec_command: None,
        clock: Clock::Fixed,
        resume: false,
        stop: Default::default(),
    };
    let mut timer = Timer {
        last: Instant::now(),
        per_iteration_ms: Vec::with_capacity(iterations as usize),
        applied: Vec::with_capacity(iterations as usize),
    };
    let start = Instant::now();
    run_soak(&config, &mut MockDriver, &mut timer)?;
    let total = start.elapsed().as_secs_f64();
    let t = &timer.per_iteration_ms;
    let window = (t.len() / 10).clamp(1, 1_000);
    let first = mean(&t[..window]);
    let last = mean(&t[t.len() - window..]);
    println!(
        "long soak: {iterations} mock iterations in {total:.1} s, {:.2} ms per iteration",
        total * 1e3 / f64::from(iterations)
    );
    println!("  first {window}: {first:.2} ms per iteration");
    println!("  last {window}:  {last:.2} ms per iteration");
    println!("  last / first: {:.2} (flat: about 1)", last / first);
    let tenth = (t.len() / 10).max(1);
    let tenths: Vec<String> = t.chunks(tenth).map(|c| format!("{:.2}", mean(c))).collect();
    println!("  by tenth of the run (ms): {}", tenths.join(" "));
    // An applied step costs more (an intent and a commit line, the runtime
    // file written and read back, each fsynced) than a skip (one line):
    // compare like with like.
    let split = |range: std::ops::Range<usize>, applied: bool| {
        let xs: Vec<f64> = range
            .filter(|&i| timer.applied[i] == applied)
            .map(|i| t[i])
            .collect();
        (mean(&xs), xs.len())
    };
    for (what, applied) in [("applied", true), ("skipped", false)] {
        let (a, na) = split(0..window, applied);
        let (b, nb) = split(t.len() - window..t.len(), applied);
        println!(
            "  {what} iterations: first {window}: {a:.2} ms (n={na}), last {window}: {b:.2} ms (n={nb})"
        );
    }
    for name in ["SOAK_RUN.json", "TUNING_REPORT.json", "APPLY_JOURNAL.jsonl"] {
        let bytes = std::fs::metadata(out.join(name))?.len();
        println!("  {name}: {bytes} bytes");
    }
    Ok(())
}
