//! Times verify and gate on synthetic runs of 1,000 and 10,000 iterations in
//! mmsoak's format (about 4.2 KB per ITER_SUMMARY), in-process and as whole
//! processes, with per-phase timings and peak RSS.
//!
//! `cargo bench -p mmsoak-gate` (release profile). The whole-process figures
//! come from this binary re-running itself as a child (`--child verify DIR`
//! or `--child gate DIR`) that does what `mmsoak verify` / `mmsoak gate` do:
//! open the directory, run the pass, render the report files, write them
//! atomically; it prints its phase timings and its `VmHWM` (peak RSS).
//!
//! `--generate N DIR` only writes a run (to profile a child by hand with
//! `perf record BENCH --child verify DIR`).
//!
//! `MMSOAK_BENCH_THREADS=1` (or any count) forces the reader thread count.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use mmsoak_artifacts::layout::{
    iter_summary_name, DELTA_VERIFY_REPORT, POST_SOAK_METRICS, POST_SOAK_SNAPSHOT,
};
use mmsoak_artifacts::write_atomically;
use mmsoak_core::ParamRegistry;
use mmsoak_gate::{gate, render_prometheus, GatePolicy, Threshold};
use mmsoak_verify::testing::{generated_plans, write_run};
use mmsoak_verify::{check_journal, render_markdown, verify, ArtifactDir, STRICT_THRESHOLD};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Peak resident set size of this process, in MB (`VmHWM` of /proc/self/status).
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

fn open(dir: &Path) -> Result<ArtifactDir> {
    let opened = ArtifactDir::open(dir)?;
    Ok(match std::env::var("MMSOAK_BENCH_THREADS") {
        Ok(n) => opened.with_reader_threads(n.parse()?),
        Err(_) => opened,
    })
}

/// One whole `verify` or `gate` run, as the CLI does it; prints one line.
fn child(what: &str, dir: &Path) -> Result<()> {
    let start = Instant::now();
    let t = Instant::now();
    let opened = open(dir)?;
    let open_ms = ms(t);
    let registry = ParamRegistry::default();
    let t = Instant::now();
    let (report, extra) = match what {
        "verify" => (verify(&opened, &registry)?, None),
        "gate" => {
            let run = gate(
                &opened,
                &GatePolicy::default(),
                Threshold::Strict,
                &registry,
            )?;
            (run.verify, Some(run.report))
        }
        other => return Err(format!("unknown child mode {other}").into()),
    };
    let pass_ms = ms(t);
    let t = Instant::now();
    let markdown = render_markdown(&report, STRICT_THRESHOLD);
    let mut files = vec![(DELTA_VERIFY_REPORT, markdown.into_bytes())];
    if let Some(g) = &extra {
        files.push((POST_SOAK_SNAPSHOT, g.snapshot.to_json(false).into_bytes()));
        files.push((
            POST_SOAK_METRICS,
            render_prometheus(g, &mmsoak_gate::RunMeta::default()).into_bytes(),
        ));
    }
    let stdout = match &extra {
        Some(g) => g.to_json(),
        None => report.metrics_json(),
    };
    let render_ms = ms(t);
    let t = Instant::now();
    for (name, bytes) in &files {
        write_atomically(&dir.join(name), bytes)?;
    }
    let write_ms = ms(t);
    println!(
        "open {open_ms:.1} ms, pass {pass_ms:.1} ms, render {render_ms:.1} ms, write {write_ms:.1} ms, in-process total {:.1} ms, peak RSS {:.1} MB, stdout {} B",
        ms(start),
        peak_rss_mb().unwrap_or(f64::NAN),
        stdout.len()
    );
    Ok(())
}

/// Run a child process; its wall time as seen from here and its line.
fn spawn(what: &str, dir: &Path) -> Result<(f64, String)> {
    let exe = std::env::current_exe()?;
    let t = Instant::now();
    let out = Command::new(exe)
        .arg("--child")
        .arg(what)
        .arg(dir)
        .output()?;
    let wall = ms(t);
    if !out.status.success() {
        return Err(format!(
            "child {what} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok((wall, String::from_utf8(out.stdout)?.trim().to_owned()))
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--child") {
        let what = args.get(at + 1).ok_or("--child needs a mode")?;
        let dir = args.get(at + 2).ok_or("--child needs a directory")?;
        return child(what, Path::new(dir));
    }
    // `--generate N DIR`: write a run and stop (for profiling the children by hand).
    if let Some(at) = args.iter().position(|a| a == "--generate") {
        let n: u64 = args
            .get(at + 1)
            .ok_or("--generate needs a count")?
            .parse()?;
        let dir = args.get(at + 2).ok_or("--generate needs a directory")?;
        return Ok(write_run(Path::new(dir), &generated_plans(n))?);
    }
    for n in [1_000u64, 10_000] {
        let dir = tempfile::tempdir()?;
        let t = Instant::now();
        write_run(dir.path(), &generated_plans(n))?;
        let generated = ms(t);
        let bytes: u64 = std::fs::read_dir(dir.path())?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with("ITER_SUMMARY_"))
            .filter_map(|e| e.metadata().ok())
            .map(|m| m.len())
            .sum();
        println!(
            "{n} iterations: {:.1} MB of ITER_SUMMARY ({} B each), generated in {generated:.0} ms",
            bytes as f64 / 1e6,
            bytes / n,
        );
        let policy = GatePolicy::default();
        let registry = ParamRegistry::default();
        for round in 0..3 {
            // The I/O floor: read every ITER_SUMMARY without parsing, one thread.
            let t = Instant::now();
            let mut read = 0;
            for i in 1..=n {
                read += std::fs::read(dir.path().join(iter_summary_name(i)))?.len();
            }
            let io = ms(t);
            assert_eq!(read as u64, bytes);
            let t = Instant::now();
            let opened = open(dir.path())?;
            let open_ms = ms(t);
            let t = Instant::now();
            let journal = opened
                .journal_path()
                .map(|p| check_journal(&p))
                .transpose()?;
            let journal_ms = ms(t);
            assert!(journal.is_some_and(|j| j.is_intact()));
            let t = Instant::now();
            let report = verify(&opened, &registry)?;
            let verify_ms = ms(t);
            let t = Instant::now();
            let markdown = render_markdown(&report, STRICT_THRESHOLD);
            let render_ms = ms(t);
            let t = Instant::now();
            let run = gate(&opened, &policy, Threshold::Strict, &registry)?;
            let gate_ms = ms(t);
            assert_eq!(report.metrics.fail_count, 0);
            assert_eq!(run.verify, report);
            println!(
                "  round {round} in-process: read files alone {io:.1} ms | open {open_ms:.1} ms, journal {journal_ms:.1} ms, verify pass {verify_ms:.1} ms ({:.0} files/s), gate pass {gate_ms:.1} ms, markdown {render_ms:.1} ms ({} KB); verdict {}",
                n as f64 * 1e3 / verify_ms,
                markdown.len() / 1024,
                run.report.verdict.as_str()
            );
        }
        for round in 0..3 {
            let (verify_wall, verify_line) = spawn("verify", dir.path())?;
            let (gate_wall, gate_line) = spawn("gate", dir.path())?;
            println!("  round {round} processes: verify {verify_wall:.1} ms + gate {gate_wall:.1} ms = {:.1} ms", verify_wall + gate_wall);
            println!("    verify: {verify_line}");
            println!("    gate:   {gate_line}");
        }
    }
    println!(
        "reader threads (default): {}",
        mmsoak_verify::default_reader_threads()
    );
    Ok(())
}
