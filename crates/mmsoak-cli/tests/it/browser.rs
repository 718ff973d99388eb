//! The HTML soak report in a real browser (Debian's headless chromium):
//! no console errors, the four KPI charts with one point per iteration, and
//! a screenshot that is not blank. Runs only with `MMSOAK_BROWSER_TESTS=1`
//! (`.ci/run` sets it and installs chromium). `MMSOAK_CHROMIUM` names another
//! Chromium-based browser binary (default `/usr/bin/chromium`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn chromium_bin() -> PathBuf {
    std::env::var_os("MMSOAK_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}
const ITERATIONS: usize = 24;

fn chromium(profile: &Path, extra: &[&str], url: &str) -> Output {
    Command::new(chromium_bin())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=1280,2000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .output()
        .expect("run chromium")
}

use crate::common;

#[track_caller]
fn mmsoak(args: &[&str]) {
    let (code, _, stderr) = common::mmsoak(args);
    assert_eq!(code, 0, "mmsoak {args:?}: {stderr}");
}

/// The `<svg data-chart="ID" ...>...</svg>` element of the dumped DOM.
fn chart<'a>(dom: &'a str, id: &str) -> &'a str {
    let start = dom
        .find(&format!("data-chart=\"{id}\""))
        .unwrap_or_else(|| panic!("chart {id} is not in the page"));
    let end = dom[start..].find("</svg>").expect("end of the chart");
    &dom[start..start + end]
}

#[test]
fn the_report_renders_in_chromium() {
    if std::env::var("MMSOAK_BROWSER_TESTS").as_deref() != Ok("1") {
        eprintln!("skipped: set MMSOAK_BROWSER_TESTS=1 to render the report in headless chromium");
        return;
    }
    let bin = chromium_bin();
    assert!(
        bin.is_file(),
        "{} is missing: apt-get install chromium (or set MMSOAK_CHROMIUM)",
        bin.display()
    );
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("latest");
    let d = dir.to_str().expect("utf-8 path");
    let n = ITERATIONS.to_string();
    mmsoak(&[
        "run",
        "--iterations",
        &n,
        "--auto-tune",
        "--mock",
        // The mock replays the predecessor's runs, under its table.
        "--policy",
        "seed",
        "--fixed-clock",
        "--out",
        d,
    ]);
    mmsoak(&["report", "--strict", "--policy", "seed", "--path", d]);
    let url = format!("file://{}", dir.join("SOAK_REPORT.html").display());

    // 1. The DOM after scripts ran, and the console log.
    let out = chromium(
        &tmp.path().join("profile-dom"),
        &["--enable-logging=stderr", "--v=0", "--dump-dom"],
        &url,
    );
    assert!(out.status.success(), "chromium --dump-dom failed");
    let dom = String::from_utf8(out.stdout).expect("utf-8 DOM");
    let log = String::from_utf8_lossy(&out.stderr);
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(
        console.is_empty(),
        "console messages:\n{}",
        console.join("\n")
    );
    assert!(
        !dom.contains("data-errors="),
        "the page recorded errors: {}",
        &dom[..dom.len().min(600)]
    );
    assert!(dom.contains("data-verdict=\"PASS\""));
    for key in [
        "maker_taker_ratio",
        "risk_ratio",
        "net_bps",
        "p95_latency_ms",
    ] {
        let svg = chart(&dom, &format!("kpi-{key}"));
        let points = svg.matches("<circle").count();
        assert_eq!(points, ITERATIONS, "{key}: one point per iteration");
        for i in 1..=ITERATIONS {
            assert!(
                svg.contains(&format!("data-iter=\"{i}\"")),
                "{key}: iteration {i}"
            );
        }
    }

    // 2. A screenshot, compared with one of an empty page of the same size.
    let shot = |name: &str, url: &str| -> PathBuf {
        let png = tmp.path().join(name);
        let arg = format!("--screenshot={}", png.display());
        let out = chromium(&tmp.path().join(format!("profile-{name}")), &[&arg], url);
        assert!(out.status.success(), "chromium --screenshot failed");
        png
    };
    let blank_html = tmp.path().join("blank.html");
    std::fs::write(&blank_html, "<!DOCTYPE html><html><body></body></html>").expect("write");
    let blank = shot("blank.png", &format!("file://{}", blank_html.display()));
    let report = shot("report.png", &url);
    let size = |p: &Path| std::fs::metadata(p).expect("screenshot written").len();
    let (blank_size, report_size) = (size(&blank), size(&report));
    let png = std::fs::read(&report).expect("read png");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    let width = u32::from_be_bytes([png[16], png[17], png[18], png[19]]);
    let height = u32::from_be_bytes([png[20], png[21], png[22], png[23]]);
    assert_eq!((width, height), (1280, 2000));
    assert!(
        report_size > 5 * blank_size && report_size > 50_000,
        "the screenshot looks blank: {report_size} bytes (an empty page: {blank_size})"
    );
    eprintln!(
        "screenshot {} ({report_size} bytes; empty page {blank_size})",
        report.display()
    );
    if let Some(keep) = std::env::var_os("MMSOAK_KEEP_SCREENSHOT") {
        std::fs::copy(&report, keep).expect("keep the screenshot");
    }
}
