//! Fill-log throughput: `cargo bench -p mmsoak-ratio --bench fill_log`.
//!
//! Writes synthetic JSONL and CSV fill logs to a temp dir, reads each a few
//! times with the streaming readers and prints the best MB/s. It also prints
//! the peak RSS after reading a small and a large file: the two must be close
//! (memory does not grow with file size). Target: >= 200 MB/s of JSONL.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use mmsoak_ratio::read_fill_log;

fn write_jsonl(path: &Path, bytes: usize) -> std::io::Result<u64> {
    let mut w = BufWriter::new(File::create(path)?);
    let (mut written, mut i) = (0usize, 0u64);
    while written < bytes {
        let line = if i % 3 == 0 {
            format!(
                "{{\"ts\":{},\"order_id\":\"o-{}\",\"symbol\":\"BTCUSDT\",\"side\":\"buy\",\"is_maker\":true,\"price\":\"{}.5\",\"qty\":\"0.0{}\",\"fee\":\"-0.0001\"}}\n",
                1_700_000_000_000u64 + i, i, 43_000 + i % 97, 10 + i % 80
            )
        } else {
            format!(
                "{{\"ts\":{},\"order_id\":\"o-{}\",\"symbol\":\"BTCUSDT\",\"side\":\"sell\",\"liquidity\":\"{}\",\"price\":{}.25,\"qty\":0.0{},\"fee\":0.0002}}\n",
                1_700_000_000_000u64 + i, i, if i % 2 == 0 { "M" } else { "T" }, 43_000 + i % 89, 10 + i % 70
            )
        };
        w.write_all(line.as_bytes())?;
        written += line.len();
        i += 1;
    }
    w.flush()?;
    Ok(i)
}

fn write_csv(path: &Path, bytes: usize) -> std::io::Result<u64> {
    let mut w = BufWriter::new(File::create(path)?);
    let header = "ts,order_id,symbol,side,is_maker,price,qty,fee\n";
    w.write_all(header.as_bytes())?;
    let (mut written, mut i) = (header.len(), 0u64);
    while written < bytes {
        let line = format!(
            "{},o-{},BTCUSDT,{},{},{}.5,0.0{},{}\n",
            1_700_000_000_000u64 + i,
            i,
            if i % 2 == 0 { "buy" } else { "sell" },
            i % 3 != 0,
            43_000 + i % 97,
            10 + i % 80,
            if i % 3 != 0 { "-0.0001" } else { "0.0002" }
        );
        w.write_all(line.as_bytes())?;
        written += line.len();
        i += 1;
    }
    w.flush()?;
    Ok(i)
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn measure(path: &Path, runs: usize) -> Result<(f64, u64), Box<dyn std::error::Error>> {
    let size = std::fs::metadata(path)?.len() as f64;
    let mut best = f64::INFINITY;
    let mut fills = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let stats = read_fill_log(path)?;
        best = best.min(t.elapsed().as_secs_f64());
        fills = stats.fills;
    }
    Ok((size / best / 1e6, fills))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `cargo test --benches` passes `--bench`-less args; keep it cheap there.
    let quick = std::env::args().any(|a| a == "--test");
    let mb = if quick { 1 } else { 128 };
    let dir = tempfile::tempdir()?;

    let small = dir.path().join("small.jsonl");
    write_jsonl(&small, 8 << 20)?;
    let _ = measure(&small, 1)?;
    let rss_small = peak_rss_kib();

    let jsonl = dir.path().join("fills.jsonl");
    let lines = write_jsonl(&jsonl, mb << 20)?;
    let (jsonl_mbs, fills) = measure(&jsonl, 3)?;
    let rss_large = peak_rss_kib();
    assert_eq!(fills, lines, "every line is a fill");

    let csv = dir.path().join("fills.csv");
    let rows = write_csv(&csv, mb << 20)?;
    let (csv_mbs, csv_fills) = measure(&csv, 3)?;
    assert_eq!(csv_fills, rows, "every row is a fill");

    println!("fill_log/jsonl: {mb} MiB, {lines} fills, {jsonl_mbs:.0} MB/s (target >= 200 MB/s)");
    println!("fill_log/csv:   {mb} MiB, {rows} fills, {csv_mbs:.0} MB/s");
    if let (Some(s), Some(l)) = (rss_small, rss_large) {
        println!("fill_log/peak RSS: {s} KiB after an 8 MiB log, {l} KiB after a {mb} MiB log");
    }
    Ok(())
}
