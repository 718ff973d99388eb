//! `mmsoak run`: the soak itself.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use mmsoak_apply::ApplyError;
use mmsoak_artifacts::layout::SOAK_RUN as SOAK_RUN_FILE;
use mmsoak_core::RuntimeOverrides;
use mmsoak_runner::{
    run_soak, Clock, Driver, ExecDriver, IterationDone, MockDriver, SimDriver, SoakConfig,
    SoakError, SoakObserver, StopRequest, DEFAULT_ITERATION_TIMEOUT, DEFAULT_SIM_DURATION,
};
use mmsoak_runner::{RecordedMarket, Scenario, MAX_SIM_DURATION};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::flag;

use crate::Outcome;

/// Which bot runs each iteration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum DriverKind {
    /// The embedded market simulator: the parameters act on a quoting bot (default).
    Sim,
    /// Scripted KPIs that IGNORE the parameters: tests the pipeline, not a bot.
    Mock,
    /// Your bot command (--exec), run once per iteration.
    Exec,
}

impl DriverKind {
    /// The name `--driver` takes.
    fn name(self) -> &'static str {
        match self {
            DriverKind::Sim => "sim",
            DriverKind::Mock => "mock",
            DriverKind::Exec => "exec",
        }
    }
}

/// Run a soak: N iterations of the bot, each summarized, tuned (with
/// --auto-tune), guarded and applied; artifacts go to --out.
///
/// Drivers: `sim` (default) runs a quoting bot in the embedded market
/// simulator (--scenario default|calm|volatile|latency-spike|latency-step|toxic or a TOML
/// file, --sim-duration seconds per iteration, --market FILE.npz to replay a
/// recorded market); `mock` replays a scripted KPI sequence and ignores the
/// parameters (it exists to test the pipeline, not the bot); `exec` runs
/// your bot: placeholders {overrides} {out} {iteration} {seed} {scenario}
/// in --exec (outside quotes: each becomes one argument; {seed} is --seed,
/// {scenario} is --scenario, a name your bot interprets), the same values
/// in MMSOAK_OVERRIDES, MMSOAK_OUT, MMSOAK_ITERATION, MMSOAK_SEED,
/// MMSOAK_SCENARIO (use those inside a script another shell runs, as in
/// sh -c '...'), and the overrides JSON in
/// MM_RUNTIME_OVERRIDES_JSON; the bot writes {out}/EDGE_REPORT.json and
/// optionally {out}/fills.jsonl. A flag of another driver than the one
/// running is an error.
///
/// Examples:
///   mmsoak run --iterations 24 --auto-tune
///   mmsoak run --iterations 24 --auto-tune --scenario toxic --sim-duration 600
///   mmsoak run --iterations 24 --auto-tune --mock
///   mmsoak run --iterations 24 --auto-tune --driver exec \
///       --exec './bot --overrides {overrides} --report-dir {out}'
///   mmsoak run --iterations 24 --auto-tune --resume   # continue a killed run
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct Args {
    /// Iterations to run.
    #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(u32).range(1..))]
    iterations: u32,
    /// Let the tuner propose changes (without it, nothing is proposed).
    #[arg(long)]
    auto_tune: bool,
    /// Which bot runs each iteration.
    #[arg(long, value_enum, default_value_t = DriverKind::Sim)]
    driver: DriverKind,
    /// Simulator scenario: a built-in name or a TOML file (sim driver;
    /// default: default); with --driver exec, a name for {scenario}.
    #[arg(long)]
    scenario: Option<String>,
    /// Simulated seconds per iteration (sim driver; default: 3600).
    #[arg(long)]
    sim_duration: Option<f64>,
    /// Replay a recorded market (hftbacktest npz) instead of the generator (sim driver).
    #[arg(long)]
    market: Option<PathBuf>,
    /// Shorthand for --driver mock (the predecessor's flag).
    #[arg(long, conflicts_with = "driver")]
    mock: bool,
    /// The bot command for --driver exec (run with sh -c).
    #[arg(long)]
    exec: Option<String>,
    /// Per-iteration timeout of the exec driver, in seconds; the bot's whole
    /// process group is killed (default: 600).
    #[arg(long)]
    iteration_timeout: Option<f64>,
    /// Seed (recorded in the artifacts).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Artifacts directory: new, empty or an earlier soak's (whose soak
    /// files are removed at start unless --resume); any other is refused.
    #[arg(long, default_value = crate::DEFAULT_SOAK_DIR)]
    out: PathBuf,
    /// Soak policy: `default` (the built-in default), `seed` (the
    /// predecessor's table) or a TOML file (see docs/policy.md).
    #[arg(long, value_name = "default|seed|FILE")]
    policy: Option<PathBuf>,
    /// Initial runtime overrides (canonical, flat or legacy layout; default: registry defaults).
    #[arg(long)]
    overrides: Option<PathBuf>,
    /// Continue a killed run from its last complete iteration (same command line otherwise).
    #[arg(long)]
    resume: bool,
    /// Use a fixed clock, so two runs give byte-identical artifacts.
    #[arg(long)]
    fixed_clock: bool,
}

/// `--sim-duration` (default 1 hour), checked.
pub(crate) fn sim_duration(seconds: Option<f64>) -> anyhow::Result<Duration> {
    match seconds {
        None => Ok(DEFAULT_SIM_DURATION),
        Some(s) if (1.0..=MAX_SIM_DURATION.as_secs_f64()).contains(&s) => {
            Ok(Duration::from_secs_f64(s))
        }
        Some(_) => anyhow::bail!(
            "--sim-duration must be between 1 and {} seconds (7 days)",
            MAX_SIM_DURATION.as_secs()
        ),
    }
}

/// `--iteration-timeout` (default 10 minutes), checked.
pub(crate) fn iteration_timeout(seconds: Option<f64>) -> anyhow::Result<Duration> {
    match seconds {
        None => Ok(DEFAULT_ITERATION_TIMEOUT),
        Some(s) if s > 0.0 => Duration::try_from_secs_f64(s)
            .map_err(|_| anyhow::anyhow!("--iteration-timeout {s} is out of range")),
        Some(_) => anyhow::bail!("--iteration-timeout must be a positive number of seconds"),
    }
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let driver_kind = if args.mock {
        DriverKind::Mock
    } else {
        args.driver
    };
    // A flag of another driver would be silently ignored: refuse it.
    let flag_of = |flag: &str, given: bool, driver: DriverKind, driver_name: &str| {
        if given && driver_kind != driver {
            anyhow::bail!(
                "{flag} goes with {driver_name}, not --driver {}",
                driver_kind.name()
            );
        }
        Ok(())
    };
    let sim = "the sim driver (the default)";
    if args.scenario.is_some() && driver_kind == DriverKind::Mock {
        anyhow::bail!(
            "--scenario goes with the sim driver (the default) or --driver exec, not --driver mock"
        );
    }
    flag_of(
        "--sim-duration",
        args.sim_duration.is_some(),
        DriverKind::Sim,
        sim,
    )?;
    flag_of("--market", args.market.is_some(), DriverKind::Sim, sim)?;
    flag_of(
        "--exec",
        args.exec.is_some(),
        DriverKind::Exec,
        "--driver exec",
    )?;
    let timeout = args.iteration_timeout.is_some();
    flag_of(
        "--iteration-timeout",
        timeout,
        DriverKind::Exec,
        "--driver exec",
    )?;
    let policy = crate::load_policy(args.policy.as_deref())?;
    let mut driver: Box<dyn Driver> = match driver_kind {
        DriverKind::Sim => {
            let duration = sim_duration(args.sim_duration)?;
            let scenario = Scenario::load(args.scenario.as_deref().unwrap_or("default"))?;
            // Opened (read once, checked) before the soak writes anything.
            let market = match &args.market {
                Some(path) => Some(RecordedMarket::open(&scenario, path)?),
                None => None,
            };
            Box::new(
                SimDriver::new(scenario, policy.registry.clone(), args.seed)
                    .with_duration(duration)
                    .with_market(market),
            )
        }
        DriverKind::Mock => Box::new(MockDriver),
        DriverKind::Exec => {
            let Some(cmd) = args.exec.clone() else {
                anyhow::bail!("--driver exec needs --exec 'COMMAND'");
            };
            let timeout = iteration_timeout(args.iteration_timeout)?;
            let mut exec = ExecDriver::new(cmd, timeout)?.with_seed(args.seed);
            match &args.scenario {
                Some(name) => exec = exec.with_scenario(name.clone()),
                None if exec.needs_scenario() => anyhow::bail!(
                    "the --exec command has {{scenario}}: give --scenario NAME (a name your bot interprets)"
                ),
                None => {}
            }
            Box::new(exec)
        }
    };
    let initial_overrides = match &args.overrides {
        Some(path) => RuntimeOverrides::from_path_within(path, &policy.registry)?,
        None => RuntimeOverrides::new(),
    };
    let config = SoakConfig {
        out_dir: args.out.clone(),
        iterations: args.iterations,
        auto_tune: args.auto_tune,
        seed: args.seed,
        policy,
        policy_file: args.policy.clone(),
        initial_overrides,
        exec_command: args.exec.clone(),
        clock: if args.fixed_clock {
            Clock::Fixed
        } else {
            Clock::System
        },
        resume: args.resume,
        stop: stop_on_signals()?,
    };
    crate::markers::install();
    let mut observer = Terminal::new(args.iterations);
    let result = match run_soak(&config, driver.as_mut(), &mut observer) {
        Err(SoakError::Stopped {
            completed,
            iterations,
            value,
        }) => {
            observer.finish();
            let signal = match i32::try_from(value) {
                Ok(SIGINT) => "SIGINT".to_owned(),
                Ok(SIGTERM) => "SIGTERM".to_owned(),
                _ => format!("signal {value}"),
            };
            errln!(
                "soak: stopped by {signal} after {completed} of {iterations} iterations; {} holds iteration {completed}'s artifacts (continue with --resume)",
                args.out.display()
            );
            let code = u8::try_from(128 + value).unwrap_or(130);
            return Ok(Outcome::Stopped(code));
        }
        other => other,
    };
    let result = result.map_err(|e| match e {
        // Refused before anything was touched: nothing to say about artifacts.
        SoakError::Lock(_)
        | SoakError::Config(_)
        | SoakError::Resume { .. }
        | SoakError::ForeignFile { .. } => anyhow::Error::new(e),
        // --resume refuses a state changed outside mmsoak, and there is
        // nothing to resume before the first iteration's record.
        e @ SoakError::Apply(ApplyError::ChangedOutside { .. }) => {
            anyhow::Error::new(e).context(format!("soak in {} stopped", args.out.display()))
        }
        e if !args.out.join(SOAK_RUN_FILE).is_file() => {
            anyhow::Error::new(e).context(format!("soak in {} stopped", args.out.display()))
        }
        e => anyhow::Error::new(e).context(format!(
            "soak in {} stopped; artifacts written so far are intact (continue with --resume)",
            args.out.display()
        )),
    })?;
    observer.finish();
    errln!(
        "soak: {} iterations ({} applied), final state {}, artifacts in {}",
        result.iterations,
        result.applied,
        result.final_state,
        args.out.display()
    );
    Ok(Outcome::Success)
}

/// SIGINT and SIGTERM stop the soak at its next safe point: before the next
/// iteration, or at once while an exec bot runs (its process group is
/// killed). A further signal changes nothing: the stop is under way, and
/// exiting before it completes could leave the bot running (an exit kills
/// nothing; only the soak's own wait kills the bot's group).
pub(crate) fn stop_on_signals() -> anyhow::Result<StopRequest> {
    let stop = StopRequest::new();
    for signal in [SIGINT, SIGTERM] {
        let value = usize::try_from(signal).unwrap_or(1);
        flag::register_usize(signal, stop.shared(), value)
            .with_context(|| format!("cannot handle signal {signal}"))?;
    }
    Ok(stop)
}

/// Progress on the terminal: a bar on a TTY, one line per iteration otherwise.
struct Terminal {
    bar: Option<ProgressBar>,
}

impl Terminal {
    fn new(total: u32) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(u64::from(total));
            bar.set_style(
                ProgressStyle::with_template("{bar:30} {pos}/{len} iterations {elapsed} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        Terminal { bar }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// One concise line: KPIs, rules fired, and what happened to the proposal.
pub(crate) fn iteration_line(done: &IterationDone<'_>) -> String {
    let k = done.kpis;
    let num = |v: Option<f64>, p: usize| v.map_or("n/a".to_owned(), |v| format!("{v:.p$}"));
    let rules: Vec<&str> = done.proposal.rules_fired.iter().map(|m| m.name()).collect();
    let outcome = match (&done.outcome.skip_reason, done.proposal.operations.len()) {
        (None, n) => format!("applied {n} change{}", if n == 1 { "" } else { "s" }),
        (Some(_), 0) => "nothing proposed".to_owned(),
        (Some(r), n) => format!("{n} proposed, skipped: {}", r.note),
    };
    format!(
        "[{:>3}/{}] maker/taker {:.3} ({}) risk {:.3} net {} bps p95 {} ms | {} | {}",
        done.iteration,
        done.total,
        k.maker_taker_ratio,
        k.maker_taker_source.as_str(),
        k.risk_ratio,
        num(k.net_bps, 2),
        num(k.p95_latency_ms, 0),
        if rules.is_empty() {
            "-".to_owned()
        } else {
            rules.join(",")
        },
        outcome
    )
}

impl SoakObserver for Terminal {
    fn started(&mut self, config: &SoakConfig, first: u32) {
        if first > 1 {
            let n = config.iterations;
            let msg = if first > n {
                format!("soak: all {n} iterations were complete; nothing to run")
            } else {
                format!("soak: resuming at iteration {first} of {n}")
            };
            match &self.bar {
                Some(bar) => {
                    bar.set_position(u64::from(first - 1));
                    bar.println(msg);
                }
                None => errln!("{msg}"),
            }
        }
    }

    fn notice(&mut self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(format!("soak: {text}")),
            None => errln!("soak: {text}"),
        }
    }

    fn iteration_done(&mut self, done: &IterationDone<'_>) {
        let mut lines = vec![iteration_line(done)];
        // The tuner's marker events of this iteration, one per rule.
        lines.extend(
            crate::markers::drain()
                .into_iter()
                .map(|m| format!("          {m}")),
        );
        for line in lines {
            match &self.bar {
                Some(bar) => bar.println(line),
                None => errln!("{line}"),
            }
        }
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }
}
