//! `mmsoak sweep`: many soaks, one verdict per cell with its interval.

use std::collections::BTreeMap;
use std::io::IsTerminal as _;
use std::path::PathBuf;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use mmsoak_runner::Scenario;
use mmsoak_sweep::{
    merge_shards, run_sweep, Keep, Partition, PolicySpec, Progress, RunOptions, ScenarioSpec,
    SweepDriver, SweepError, SweepReport, SweepSpec,
};

use crate::Outcome;

/// Run the closed loop (run, verify, gate) once per seed for every cell
/// (scenario × policy), on a pool of threads, and report
/// each cell's pass rate with its 95% Wilson interval, the spread of each
/// KPI's window mean over the seeds, the PnL per hour at the start and over
/// the window (a pass bought by ceasing to trade shows there), the
/// iteration from which the per-iteration thresholds held, and the criteria
/// that failed most often.
///
/// Writes SWEEP_REPORT.json (every wall-clock figure in its `timing`
/// object, so the rest is the same for any --jobs), SWEEP_REPORT.html (one
/// self-contained page: pass-rate bars with their intervals, KPI spreads,
/// failures by criterion), SWEEP_REPORT.md
/// (appended to $GITHUB_STEP_SUMMARY when set), one outcome file per soak
/// and, per --keep, the soaks' directories:
/// DIR/<scenario>/<policy>/seed-<s>/.
///
/// The bot is the embedded simulator (a scenario is a built-in name or a
/// TOML file), or yours with --driver exec --exec 'COMMAND' (placeholders
/// as in `mmsoak run`, plus {seed}, the soak's seed, and {scenario}, the
/// scenario's name for your bot to interpret); --jobs of your bots run side
/// by side, each in its own directory.
///
/// Exit 0 when every cell meets --min-pass-rate for its scenario (without
/// it, 0 after reporting), 1 when a cell falls short, 2 for bad input,
/// 130/143 when stopped by SIGINT/SIGTERM (continue with --resume).
///
/// Example:
///   mmsoak sweep --scenarios default,calm,toxic --seeds 0..39 --out sweep
///   mmsoak sweep --scenarios default --seeds 0..19 --policies default,seed --out sweep
///   mmsoak sweep --scenarios default,calm --seeds 0..39 --min-pass-rate default=0.9,calm=0.9 --out sweep
///   mmsoak sweep --scenarios default --seeds 0..39 --partition 2/8 --out shard-2   # one of 8 machines
///   mmsoak sweep --driver exec --exec './bot --seed {seed} --day {scenario} --out {out}' \
///       --scenarios 2026-11-02,2026-11-03 --seeds 0..9 --jobs 4 --out sweep        # your bot
///   mmsoak sweep merge shard-* --out sweep                                         # then join them
///   mmsoak sweep compare baseline candidate                                        # is it worse?
#[derive(Debug, clap::Args)]
#[command(
    verbatim_doc_comment,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Scenarios, comma-separated: built-in names or TOML files (with
    /// --driver exec, names for {scenario}).
    #[arg(long, value_delimiter = ',', default_value = "default")]
    scenarios: Vec<String>,
    /// Which bot each soak runs: the simulator or yours (--exec).
    #[arg(long, value_enum, default_value = "sim")]
    driver: DriverArg,
    /// Your bot's command for --driver exec (run with sh -c per iteration).
    #[arg(long)]
    exec: Option<String>,
    /// Per-iteration timeout of --driver exec, in seconds (default: 600).
    #[arg(long)]
    iteration_timeout: Option<f64>,
    /// Seeds: `A..B` (both included), or a comma-separated list.
    #[arg(long, required = true)]
    seeds: Option<String>,
    /// One policy for every cell: `default`, `seed` or a TOML file.
    #[arg(long, value_name = "default|seed|FILE", conflicts_with = "policies")]
    policy: Option<PathBuf>,
    /// Several policies, comma-separated (one column of cells each).
    #[arg(long, value_delimiter = ',')]
    policies: Vec<PathBuf>,
    /// Iterations per soak.
    #[arg(long, default_value_t = 24)]
    iterations: u32,
    /// Simulated seconds per iteration (simulator; default: 3600).
    #[arg(long)]
    sim_duration: Option<f64>,
    /// Soaks without auto-tune (the tuner proposes nothing).
    #[arg(long)]
    no_auto_tune: bool,
    /// Worker threads (default: one per core).
    #[arg(long)]
    jobs: Option<usize>,
    /// Which soak directories to keep.
    #[arg(long, value_enum, default_value = "failed")]
    keep: KeepArg,
    /// Minimum pass rate per scenario, e.g. `default=0.9,toxic=0`.
    #[arg(long, value_delimiter = ',')]
    min_pass_rate: Vec<String>,
    /// Continue a stopped sweep: soaks with an outcome are not rerun.
    #[arg(long)]
    resume: bool,
    /// A baseline sweep's directory: SWEEP_REPORT.html then also shows
    /// `mmsoak sweep compare BASELINE DIR` (alpha 0.05), and a candidate
    /// significantly worse fails the command (exit 1).
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// Run only shard K of N (`K/N`, 1-based, nextest's convention), or
    /// `auto`: K from JOB_COMPLETION_INDEX (Kubernetes Indexed Job),
    /// SLURM_ARRAY_TASK_ID (Slurm array) or MMSOAK_PARTITION_INDEX, all
    /// 0-based, with N from --partitions. A shard writes its outcomes and
    /// SHARD.json; `mmsoak sweep merge` writes the report.
    #[arg(long, value_name = "K/N|auto")]
    partition: Option<String>,
    /// N for `--partition auto`.
    #[arg(long)]
    partitions: Option<usize>,
    /// Directory of the sweep (or of the shard).
    #[arg(long, required = true)]
    out: Option<PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    Merge(MergeArgs),
    Compare(CompareArgs),
}

/// Is the candidate sweep worse than the baseline? For each scenario both
/// ran and each KPI (maker share, risk, net edge, p95 latency, PnL per
/// hour), a one-sided rank test on the per-seed window means: Wilcoxon's
/// signed rank test paired by seed when both ran the same seeds, else the
/// Mann–Whitney U test; "worse" takes its direction from the gate's
/// criterion; the Hodges–Lehmann difference with its 95% interval; the
/// Benjamini–Hochberg adjustment across the scenario's KPIs. PASS when no
/// KPI is significantly worse, else FAIL naming each worse KPI with its
/// p-value and difference.
///
/// Exit 0 PASS, 1 FAIL, 2 for bad input. (`mmsoak gate --compare` keeps
/// its single-soak meaning.)
///
/// Example:
///   mmsoak sweep compare baseline-sweep candidate-sweep --alpha 0.05
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct CompareArgs {
    /// The baseline sweep's directory (a sweep's or a merge's).
    baseline: PathBuf,
    /// The candidate sweep's directory.
    candidate: PathBuf,
    /// Significance level, after the Benjamini–Hochberg adjustment.
    #[arg(long, default_value_t = 0.05)]
    alpha: f64,
    /// Print JSON instead of the tables.
    #[arg(long)]
    json: bool,
}

/// Join the shard directories of one sweep (`--partition K/N` runs, e.g.
/// one per machine) into the report an unpartitioned run writes. Refuses
/// shards of different sweeps, a missing or repeated shard, and a soak
/// missing from its shard, naming them. Exit as `mmsoak sweep`.
///
/// Example:
///   mmsoak sweep merge shard-1 shard-2 shard-3 --out sweep
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct MergeArgs {
    /// The shard directories.
    #[arg(required = true)]
    shards: Vec<PathBuf>,
    /// Minimum pass rate per scenario, e.g. `default=0.9,toxic=0`.
    #[arg(long, value_delimiter = ',')]
    min_pass_rate: Vec<String>,
    /// Where the merged report goes.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum DriverArg {
    /// The embedded market simulator.
    Sim,
    /// Your bot command (--exec).
    Exec,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum KeepArg {
    /// Keep the directories of soaks that did not pass.
    Failed,
    /// Keep every soak's directory.
    All,
    /// Keep none (outcomes and the report only).
    None,
}

/// `A..B` (inclusive) or `a,b,c`.
fn parse_seeds(text: &str) -> anyhow::Result<Vec<u64>> {
    let bad = || anyhow::anyhow!("--seeds {text:?}: expected A..B (both included) or a,b,c");
    if let Some((a, b)) = text.split_once("..") {
        let (a, b): (u64, u64) = (
            a.trim().parse().map_err(|_| bad())?,
            b.trim().parse().map_err(|_| bad())?,
        );
        if a > b || b - a >= 1_000_000 {
            anyhow::bail!("--seeds {text:?}: A must not exceed B, and at most 1,000,000 seeds");
        }
        return Ok((a..=b).collect());
    }
    text.split(',')
        .map(|s| s.trim().parse().map_err(|_| bad()))
        .collect()
}

fn parse_min_rates(items: &[String], scenarios: &[&str]) -> anyhow::Result<BTreeMap<String, f64>> {
    let mut min = BTreeMap::new();
    for item in items {
        let (name, rate) = item
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--min-pass-rate {item:?}: expected SCENARIO=RATE"))?;
        let rate: f64 = rate
            .parse()
            .ok()
            .filter(|r: &f64| (0.0..=1.0).contains(r))
            .ok_or_else(|| {
                anyhow::anyhow!("--min-pass-rate {item:?}: the rate is a number from 0 to 1")
            })?;
        if !scenarios.contains(&name) {
            anyhow::bail!("--min-pass-rate {item:?}: {name} is not one of the sweep's scenarios");
        }
        if min.insert(name.to_owned(), rate).is_some() {
            anyhow::bail!("--min-pass-rate: {name} is given twice");
        }
    }
    Ok(min)
}

fn policy_spec(given: &std::path::Path) -> anyhow::Result<PolicySpec> {
    let policy = crate::load_policy(Some(given))?;
    let label = match given.to_str() {
        Some(name) if mmsoak_policy::BUILTIN_POLICIES.contains(&name) => name.to_owned(),
        _ => given
            .file_stem()
            .and_then(|s| s.to_str())
            .map(str::to_owned)
            .ok_or_else(|| anyhow::anyhow!("{}: a policy file needs a name", given.display()))?,
    };
    Ok(PolicySpec {
        label,
        policy,
        given: Some(given.to_owned()),
    })
}

/// The bot and the scenarios of a sweep, from the flags.
fn sweep_driver(args: &Args) -> anyhow::Result<(SweepDriver, Vec<ScenarioSpec>)> {
    match args.driver {
        DriverArg::Sim => {
            if args.exec.is_some() || args.iteration_timeout.is_some() {
                anyhow::bail!("--exec and --iteration-timeout go with --driver exec");
            }
            let duration = crate::run::sim_duration(args.sim_duration)?;
            let scenarios = args
                .scenarios
                .iter()
                .map(|s| Ok(ScenarioSpec::new(Scenario::load(s)?)))
                .collect::<anyhow::Result<Vec<_>>>()?;
            Ok((SweepDriver::Sim { duration }, scenarios))
        }
        DriverArg::Exec => {
            if args.sim_duration.is_some() {
                anyhow::bail!("--sim-duration goes with the simulator, not --driver exec");
            }
            let Some(command) = args.exec.clone() else {
                anyhow::bail!("--driver exec needs --exec 'COMMAND'");
            };
            let timeout = crate::run::iteration_timeout(args.iteration_timeout)?;
            let scenarios = args.scenarios.iter().map(ScenarioSpec::named).collect();
            Ok((SweepDriver::Exec { command, timeout }, scenarios))
        }
    }
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    match args.command {
        Some(Command::Merge(merge)) => return run_merge(merge),
        Some(Command::Compare(compare)) => return run_compare(compare),
        None => {}
    }
    let (Some(seeds), Some(out)) = (&args.seeds, &args.out) else {
        anyhow::bail!("mmsoak sweep needs --scenarios, --seeds and --out");
    };
    let seeds = parse_seeds(seeds)?;
    let partition = match (args.partition.as_deref(), args.partitions) {
        (None, None) => None,
        (None, Some(_)) => anyhow::bail!("--partitions goes with --partition auto"),
        (Some("auto"), Some(n)) => Some(Partition::from_env(n, |k| std::env::var(k).ok())?),
        (Some("auto"), None) => anyhow::bail!("--partition auto needs --partitions N"),
        (Some(_), Some(_)) => anyhow::bail!("--partitions goes with --partition auto, not K/N"),
        (Some(k_n), None) => Some(Partition::parse(k_n)?),
    };
    let (driver, scenarios) = sweep_driver(&args)?;
    let given: Vec<PathBuf> = match (&args.policy, args.policies.is_empty()) {
        (Some(p), _) => vec![p.clone()],
        (None, true) => vec![PathBuf::from("default")],
        (None, false) => args.policies.clone(),
    };
    let policies = given
        .iter()
        .map(|p| policy_spec(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let labels: Vec<&str> = scenarios.iter().map(|s| s.label.as_str()).collect();
    let min = parse_min_rates(&args.min_pass_rate, &labels)?;
    let spec = SweepSpec {
        scenarios,
        policies,
        seeds,
        iterations: args.iterations,
        driver,
        auto_tune: !args.no_auto_tune,
        keep: match args.keep {
            KeepArg::Failed => Keep::Failed,
            KeepArg::All => Keep::All,
            KeepArg::None => Keep::None,
        },
    };
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
        .max(1);
    let all = spec.scenarios.len() * spec.policies.len() * spec.seeds.len();
    let total = partition.map_or(all, |p| {
        all / p.count + usize::from(p.index - 1 < all % p.count)
    });
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(total as u64);
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} soaks {elapsed} ETA {eta} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });
    let on_done = |p: &Progress<'_>| {
        let o = p.outcome;
        let failed = if o.failed.is_empty() {
            String::new()
        } else {
            format!(" ({})", o.failed.join(", "))
        };
        let line = format!(
            "[{:>w$}/{}] {}/{} seed {}: {}{failed}{}",
            p.done,
            p.total,
            o.scenario,
            o.policy,
            o.seed,
            o.verdict,
            if p.resumed { " (earlier run)" } else { "" },
            w = p.total.to_string().len()
        );
        match &bar {
            Some(bar) => {
                bar.set_message(line);
                bar.inc(1);
            }
            None => errln!("{line}"),
        }
    };
    let stop = crate::run::stop_on_signals()?;
    let options = RunOptions {
        jobs,
        resume: args.resume,
        partition,
    };
    let result = run_sweep(&spec, out, &options, &stop, &on_done);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let report = match result {
        Err(SweepError::Stopped { done, total, value }) => {
            errln!(
                "sweep: stopped after {done} of {total} soaks; {} holds their outcomes (continue with --resume)",
                out.display()
            );
            return Ok(Outcome::Stopped(u8::try_from(128 + value).unwrap_or(130)));
        }
        other => other.with_context(|| format!("sweep in {} stopped", out.display()))?,
    };
    if let Some(p) = partition {
        outln!(
            "shard {}/{}: {} soak(s) in {}; join the shards with `mmsoak sweep merge`",
            p.index,
            p.count,
            report.timing.soaks_run + report.timing.soaks_resumed,
            out.display()
        );
        return Ok(Outcome::Success);
    }
    let outcome = publish(&report, out, &min)?;
    let Some(baseline) = &args.baseline else {
        return Ok(outcome);
    };
    let c = mmsoak_sweep::compare_sweeps(baseline, out, 0.05).context("sweep --baseline")?;
    crate::write_file(
        &out.join("SWEEP_REPORT.html"),
        report.to_html_with(&c).as_bytes(),
    )?;
    report_worse(&c);
    Ok(if c.passed() {
        outcome
    } else {
        Outcome::GateFailed
    })
}

/// Name each KPI the candidate is significantly worse on, on stderr.
fn report_worse(c: &mmsoak_sweep::SweepComparison) {
    for sc in &c.scenarios {
        for k in sc.kpis.iter().filter(|k| k.worse) {
            errln!(
                "sweep compare: {} is worse on {}: {:+.4} (95% CI {:+.4} to {:+.4}), p = {:.4} (adjusted {:.4})",
                sc.scenario,
                k.kpi,
                k.difference,
                k.difference_low,
                k.difference_high,
                k.p_value,
                k.p_adjusted
            );
        }
    }
}

fn run_compare(args: CompareArgs) -> anyhow::Result<Outcome> {
    let c = mmsoak_sweep::compare_sweeps(&args.baseline, &args.candidate, args.alpha)
        .context("sweep compare")?;
    if args.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&c).context("comparison JSON")?
        );
    } else {
        out!("{}", c.to_markdown());
    }
    report_worse(&c);
    Ok(if c.passed() {
        Outcome::Success
    } else {
        Outcome::GateFailed
    })
}

fn run_merge(args: MergeArgs) -> anyhow::Result<Outcome> {
    let report = merge_shards(&args.shards, &args.out).context("sweep merge")?;
    let labels: Vec<&str> = report
        .config
        .scenarios
        .iter()
        .map(|(l, _)| l.as_str())
        .collect();
    let min = parse_min_rates(&args.min_pass_rate, &labels)?;
    publish(&report, &args.out, &min)
}

/// Write SWEEP_REPORT.json and .md (and the CI step summary), print the
/// Markdown, and judge the pass rates.
fn publish(
    report: &SweepReport,
    out: &std::path::Path,
    min: &BTreeMap<String, f64>,
) -> anyhow::Result<Outcome> {
    let mut json = serde_json::to_vec_pretty(report).context("SWEEP_REPORT.json")?;
    json.push(b'\n');
    crate::write_file(&out.join("SWEEP_REPORT.json"), &json)?;
    let md = report.to_markdown();
    crate::write_file(&out.join("SWEEP_REPORT.md"), md.as_bytes())?;
    crate::write_file(&out.join("SWEEP_REPORT.html"), report.to_html().as_bytes())?;
    if let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY") {
        use std::io::Write as _;
        let appended = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&summary)
            .and_then(|mut f| f.write_all(md.as_bytes()));
        if let Err(e) = appended {
            errln!("sweep: cannot append to $GITHUB_STEP_SUMMARY: {e}");
        }
    }
    out!("{md}");
    let short = report.short_of(min);
    for (c, want) in &short {
        errln!(
            "sweep: {}/{} passed {}/{} ({:.0}%), below the {:.0}% asked for",
            c.scenario,
            c.policy,
            c.passed,
            c.runs,
            c.pass_rate * 100.0,
            want * 100.0
        );
    }
    Ok(if short.is_empty() {
        Outcome::Success
    } else {
        Outcome::GateFailed
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    /// The `mmsoak sweep` command lines of a manifest, with the shell's
    /// variables replaced by example values: argv each.
    fn commands(file: &str, vars: &[(&str, &str)]) -> Vec<Vec<String>> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(file);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
        text.lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .filter_map(|l| l.split_once("mmsoak sweep").map(|(_, rest)| rest))
            .map(|rest| {
                let mut rest = rest.to_owned();
                for (k, v) in vars {
                    rest = rest.replace(k, v);
                }
                std::iter::once("mmsoak".to_owned())
                    .chain(std::iter::once("sweep".to_owned()))
                    .chain(rest.split_whitespace().map(|w| w.replace('"', "")))
                    .collect()
            })
            .collect()
    }

    /// Parse like the binary, then check what clap cannot: seeds, scenarios,
    /// the partition; returns the sweep's `--partition` and the merge's
    /// shard count.
    fn check(argv: &[String]) -> (Option<String>, Option<Option<usize>>, usize) {
        let cli = crate::Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("{argv:?}: {e}"));
        let crate::Command::Sweep(args) = cli.command else {
            panic!("{argv:?} is not `mmsoak sweep`")
        };
        if let Some(Command::Merge(m)) = args.command {
            parse_min_rates(&m.min_pass_rate, &["default", "calm", "toxic"]).expect("rates");
            return (None, None, m.shards.len());
        }
        parse_seeds(args.seeds.as_deref().expect("--seeds")).expect("seeds");
        for s in &args.scenarios {
            Scenario::load(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        }
        if let Some(p) = args.partition.as_deref().filter(|p| *p != "auto") {
            Partition::parse(p).expect("K/N");
        }
        (args.partition, Some(args.partitions), 0)
    }

    #[test]
    fn the_kubernetes_manifests_run_valid_sweeps_over_every_index() {
        let vars = [("$JOB_COMPLETION_INDEX", "0")];
        let shard = commands("deploy/k8s/sweep-job.yaml", &vars);
        assert_eq!(shard.len(), 1, "{shard:?}");
        let (partition, partitions, _) = check(&shard[0]);
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../deploy/k8s/sweep-job.yaml"),
        )
        .expect("manifest");
        assert!(text.contains("completionMode: Indexed"));
        let completions: usize = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("completions: "))
            .and_then(|n| n.parse().ok())
            .expect("completions");
        assert_eq!(partition.as_deref(), Some("auto"));
        assert_eq!(partitions, Some(Some(completions)));
        let merge = commands("deploy/k8s/sweep-merge-job.yaml", &[]);
        assert_eq!(merge.len(), 1);
        assert_eq!(
            check(&merge[0]).2,
            completions,
            "the merge names every shard"
        );
    }

    #[test]
    fn the_github_workflow_runs_valid_sweeps_over_every_shard() {
        let vars = [("$SEEDS", "0..39"), ("$SHARD", "1")];
        let cmds = commands(".github/workflows/sweep.yml", &vars);
        assert_eq!(cmds.len(), 2, "{cmds:?}");
        let (partition, _, _) = check(&cmds[0]);
        let n: usize = partition
            .as_deref()
            .and_then(|p| p.split_once('/'))
            .and_then(|(_, n)| n.parse().ok())
            .expect("K/N");
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../.github/workflows/sweep.yml"),
        )
        .expect("workflow");
        let matrix = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("shard: ["))
            .expect("matrix");
        assert_eq!(
            matrix.matches(',').count() + 1,
            n,
            "the matrix covers every shard"
        );
        assert_eq!(check(&cmds[1]).2, n, "the merge names every shard");
        // Dispatch inputs reach `run:` through env, never inline.
        assert!(!text
            .lines()
            .any(|l| l.contains("run:") && l.contains("${{")));
    }
}
