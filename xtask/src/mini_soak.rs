//! `cargo xtask mini-soak`: clean → run 24 iterations with auto-tune (the
//! simulator driver unless `--driver` says otherwise) →
//! snapshot → verify → gate → report, printing the KPI and delta-quality
//! tables, writing SOAK_REPORT.html/.md (appending the Markdown to
//! `$GITHUB_STEP_SUMMARY` when set) and exiting with the gate's code.

use std::path::PathBuf;
use std::process::Command;

use crate::{cargo, project_root, run_status, sh};

const PASS_THROUGH: [&str; 9] = [
    "--iterations",
    "--driver",
    "--exec",
    "--seed",
    "--out",
    "--scenario",
    "--sim-duration",
    "--market",
    "--policy",
];

pub(crate) fn run(args: &[String]) -> Result<i32, String> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        crate::print_help();
        return Ok(0);
    }
    // 24 iterations unless --iterations says otherwise (the last one given).
    let mut iterations = "24".to_owned();
    let mut run_args: Vec<String> = Vec::new();
    // Relative paths given (--out, --policy, --market, a --scenario file,
    // the --exec command's) mean what they mean where you run it; only the
    // default artifacts directory is the project's.
    let here =
        std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))?;
    let mut out = project_root().join("artifacts/soak/latest");
    // The policy file also sets the gate's and snapshot's thresholds.
    let mut policy: Vec<String> = Vec::new();
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
        match name {
            // Added below.
            "--out" => out = here.join(&value),
            "--iterations" => iterations = value,
            "--policy" => policy = vec![name.to_owned(), value],
            _ => run_args.extend([name.to_owned(), value]),
        }
    }
    run_args.extend(["--iterations".to_owned(), iterations]);
    run_args.extend(policy.iter().cloned());

    sh(cargo().args([
        "build",
        "--quiet",
        "--package",
        "mmsoak-cli",
        "--bin",
        "mmsoak",
    ]))?;
    // A relative CARGO_TARGET_DIR is the build's, which ran in the project root.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| project_root().join("target"), |t| project_root().join(t));
    let mmsoak = target.join("debug").join("mmsoak");
    let started = std::time::Instant::now();

    errln!("== run");
    let mut run = mmsoak_in(&mmsoak, &here);
    run.arg("run")
        .arg("--auto-tune")
        .args(&run_args)
        .arg("--out")
        .arg(&out);
    // A run or snapshot that fails (input error: exit 2) leaves nothing to
    // gate: stop there with its code. A strict verify below threshold (exit 1)
    // does not stop the job: the gate judges delta quality too, and the
    // report is written whatever the verdict.
    let code = step(&mut run);
    if code != 0 {
        return Ok(code);
    }
    errln!("\n== analyze (snapshot)");
    let code = step(
        mmsoak_in(&mmsoak, &here)
            .args(["snapshot", "--path"])
            .arg(&out)
            .args(&policy)
            .stdout(std::process::Stdio::null()),
    );
    if code != 0 {
        return Ok(code);
    }
    errln!("wrote {}", out.join("POST_SOAK_SNAPSHOT.json").display());
    errln!("\n== verify");
    let verify = step(
        mmsoak_in(&mmsoak, &here)
            .args(["verify", "--strict", "--path"])
            .arg(&out),
    );
    if verify == 2 {
        return Ok(verify);
    }
    errln!("\n== gate");
    let code = step(
        mmsoak_in(&mmsoak, &here)
            .args(["gate", "--strict", "--prometheus", "--path"])
            .arg(&out)
            .args(&policy),
    );

    // The report is written whatever the verdict; the exit code stays the
    // gate's (a report that cannot be written turns a passing gate into 2).
    errln!("\n== report");
    let report = sh(mmsoak_in(&mmsoak, &here)
        .args(["report", "--strict", "--path"])
        .arg(&out)
        .args(&policy));
    let code = match report {
        Ok(()) => {
            // A job summary that cannot be written does not change the verdict.
            if let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY") {
                let md = out.join("SOAK_REPORT.md");
                if let Err(e) = append_step_summary(&PathBuf::from(summary), &md) {
                    errln!("mini-soak: warning: {e}");
                }
            }
            code
        }
        Err(e) => {
            errln!("mini-soak: {e}");
            if code == 0 {
                2
            } else {
                code
            }
        }
    };
    errln!(
        "\nmini-soak: gate exit code {code}, {:.1} s, artifacts in {}",
        started.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(code)
}

/// `mmsoak` run in `dir`, where the user's relative paths mean something.
fn mmsoak_in(mmsoak: &std::path::Path, dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(mmsoak);
    cmd.current_dir(dir);
    cmd
}

/// Run one step, echoing it; its exit code: 0 or 1 as the step says, 2 for
/// anything else (an input error, a crash, a signal, not started).
fn step(cmd: &mut Command) -> i32 {
    match run_status(cmd) {
        Ok((_, status)) => status.code().filter(|c| matches!(c, 0 | 1)).unwrap_or(2),
        Err(e) => {
            errln!("mini-soak: {e}");
            2
        }
    }
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
