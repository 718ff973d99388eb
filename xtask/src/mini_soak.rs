//! `cargo xtask mini-soak`: clean → run 24 iterations with auto-tune →
//! snapshot → verify → gate → report, printing the KPI and delta-quality
//! tables, writing SOAK_REPORT.html/.md (appending the Markdown to
//! `$GITHUB_STEP_SUMMARY` when set) and exiting with the gate's code.

use std::path::PathBuf;
use std::process::Command;

use crate::{cargo, project_root, sh};

const PASS_THROUGH: [&str; 6] = [
    "--iterations",
    "--driver",
    "--exec",
    "--seed",
    "--out",
    "--scenario",
];

pub(crate) fn run(args: &[String]) -> Result<i32, String> {
    let mut run_args: Vec<String> = vec!["--iterations".into(), "24".into()];
    let mut out = PathBuf::from("artifacts/soak/latest");
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n, Some(v.to_owned())),
            None => (flag.as_str(), None),
        };
        if !PASS_THROUGH.contains(&name) {
            return Err(format!(
                "unknown flag `{flag}` (mini-soak passes through {})",
                PASS_THROUGH.join(", ")
            ));
        }
        let value = match inline {
            Some(v) => v,
            None => it
                .next()
                .cloned()
                .ok_or_else(|| format!("`{name}` needs a value"))?,
        };
        if name == "--out" {
            // Added below, made absolute.
            out = PathBuf::from(&value);
            continue;
        }
        if name == "--iterations" {
            run_args.drain(0..2);
        }
        run_args.push(name.to_owned());
        run_args.push(value);
    }
    let out = if out.is_absolute() {
        out
    } else {
        project_root().join(out)
    };

    sh(cargo().args([
        "build",
        "--quiet",
        "--package",
        "mmsoak-cli",
        "--bin",
        "mmsoak",
    ]))?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| project_root().join("target"), PathBuf::from);
    let mmsoak = target.join("debug").join("mmsoak");
    let started = std::time::Instant::now();

    eprintln!("== run");
    let mut run = Command::new(&mmsoak);
    run.arg("run")
        .arg("--auto-tune")
        .args(&run_args)
        .arg("--out")
        .arg(&out);
    sh(&mut run)?;
    eprintln!("\n== analyze (snapshot)");
    sh(Command::new(&mmsoak)
        .args(["snapshot", "--pretty", "--path"])
        .arg(&out))?;
    eprintln!("\n== verify");
    sh(Command::new(&mmsoak)
        .args(["verify", "--strict", "--path"])
        .arg(&out))?;
    eprintln!("\n== gate");
    let status = Command::new(&mmsoak)
        .args(["gate", "--strict", "--prometheus", "--path"])
        .arg(&out)
        .current_dir(project_root())
        .status()
        .map_err(|e| format!("cannot run {}: {e}", mmsoak.display()))?;
    let code = status.code().unwrap_or(2);

    // The report is written whatever the verdict; the exit code stays the
    // gate's (a report that cannot be written turns a passing gate into 2).
    eprintln!("\n== report");
    let report = sh(Command::new(&mmsoak)
        .args(["report", "--strict", "--path"])
        .arg(&out));
    let code = match report {
        Ok(()) => {
            if let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY") {
                append_step_summary(&PathBuf::from(summary), &out.join("SOAK_REPORT.md"))?;
            }
            code
        }
        Err(e) => {
            eprintln!("mini-soak: {e}");
            if code == 0 {
                2
            } else {
                code
            }
        }
    };
    eprintln!(
        "\nmini-soak: gate exit code {code}, {:.1} s, artifacts in {}",
        started.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(code)
}

/// Append the Markdown report to the CI job summary (GitHub Actions).
fn append_step_summary(summary: &std::path::Path, report: &std::path::Path) -> Result<(), String> {
    use std::io::Write as _;
    let text = std::fs::read_to_string(report)
        .map_err(|e| format!("cannot read {}: {e}", report.display()))?;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(summary)
        .and_then(|mut f| f.write_all(format!("{text}\n").as_bytes()))
        .map_err(|e| format!("cannot append to {}: {e}", summary.display()))
}
