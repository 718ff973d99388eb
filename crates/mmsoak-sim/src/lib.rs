//! The embedded market simulator behind `mmsoak run --driver sim`: a seeded
//! market generator, a quoting bot the eight tuned parameters control, order
//! matching, queue position and latency by
//! [hftbacktest](https://crates.io/crates/hftbacktest) 0.9.4 (behind the
//! private `engine` module), and the KPIs of one iteration in the
//! `EDGE_REPORT` format.
//!
//! Values in, values out: [`simulate_iteration`] takes a [`Scenario`], the
//! [`SimParams`] in force, the run's seed, the iteration number and a
//! duration, and returns a [`SimOutput`] (the [`EdgeReport`], the fills for a
//! fill log, and the bot's counters). Iteration `i` of seed `s` always gives
//! the same bytes.
//!
//! ```
//! use std::time::Duration;
//! use mmsoak_core::ParamRegistry;
//! use mmsoak_sim::{simulate_iteration, Scenario, SimParams};
//!
//! let scenario = Scenario::builtin("calm")?;
//! let params = SimParams::defaults(&ParamRegistry::default());
//! let out = simulate_iteration(&scenario, &params, 7, 1, Duration::from_secs(60))?;
//! let again = simulate_iteration(&scenario, &params, 7, 1, Duration::from_secs(60))?;
//! assert_eq!(out.report_bytes(), again.report_bytes());
//! assert!(out.report.totals.p95_latency_ms.is_some());
//! # Ok::<(), mmsoak_sim::SimError>(())
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use mmsoak_core::EdgeReport;

mod bot;
mod engine;
mod market;
mod npz;
mod params;
mod report;
mod rng;
mod scenario;

pub use bot::{BotCounters, OrderPurpose, SimFill};
pub use market::{generate, MarketEvent, MarketEventKind, MarketTape, TapeBook};
pub use params::SimParams;
pub use report::{fill_json, report_json};
pub use rng::iteration_seed;
pub use scenario::{BotSpec, FeeSpec, LatencySpec, MarketSpec, Scenario, BUILTIN_SCENARIOS};

/// The simulator could not run an iteration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// No built-in scenario has this name (and it is not a file).
    #[error("unknown scenario `{name}` (built-in: {}; or give a .toml file)", known.join(", "))]
    UnknownScenario {
        /// The name given.
        name: String,
        /// The built-in names.
        known: Vec<&'static str>,
    },
    /// A scenario file is invalid.
    #[error("{}: {problem}", file.display())]
    Scenario {
        /// The file.
        file: PathBuf,
        /// What is wrong, naming the key.
        problem: String,
    },
    /// A recorded market file that cannot be replayed.
    #[error("{}: {problem}", file.display())]
    Market {
        /// The file.
        file: PathBuf,
        /// What is wrong, e.g. `data.npy: record 17: qty is negative (-1)`.
        problem: String,
    },
    /// An input file could not be read (missing, not a regular file, over
    /// its size cap, not UTF-8).
    #[error(transparent)]
    Input(#[from] mmsoak_core::InputError),
    /// A file could not be read or written.
    #[error("{}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A parameter value the bot cannot use.
    #[error("parameter `{param}` = {value} is not a non-negative finite number")]
    Param {
        /// The parameter.
        param: &'static str,
        /// Its value.
        value: f64,
    },
    /// The duration is zero or too long.
    #[error("simulated duration must be between 1 s and 7 days, got {0:?}")]
    Duration(Duration),
    /// The matching engine failed.
    #[error("simulator engine: {0}")]
    Engine(String),
}

/// What one simulated iteration produced.
#[derive(Debug, Clone, PartialEq)]
pub struct SimOutput {
    /// The KPIs in the EDGE_REPORT format.
    pub report: EdgeReport,
    /// Our fills, by (exchange time, order id).
    pub fills: Vec<SimFill>,
    /// What the bot counted (requests, blocks, cancels, inventory).
    pub counters: BotCounters,
    /// The scenario's name.
    pub scenario: String,
    /// Events in the market source (the generated tape, or the recorded
    /// file whatever the simulated duration).
    pub market_events: usize,
}

impl SimOutput {
    /// `EDGE_REPORT.json` bytes (pretty JSON, trailing newline).
    pub fn report_bytes(&self) -> Vec<u8> {
        let mut bytes =
            serde_json::to_vec_pretty(&report_json(&self.report, &self.counters, &self.scenario))
                .unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// `fills.jsonl` bytes: one fill per line.
    pub fn fills_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.fills.len() * 160);
        for f in &self.fills {
            if let Ok(line) = serde_json::to_vec(&fill_json(f)) {
                out.extend_from_slice(&line);
                out.push(b'\n');
            }
        }
        out
    }
}

/// The longest simulated iteration (7 days); the shortest is 1 s.
pub const MAX_SIM_DURATION: Duration = Duration::from_secs(7 * 24 * 3600);

fn check_duration(d: Duration) -> Result<u64, SimError> {
    if d < Duration::from_secs(1) || d > MAX_SIM_DURATION {
        return Err(SimError::Duration(d));
    }
    Ok(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Run iteration `iteration` of a run seeded with `seed` on a generated market.
pub fn simulate_iteration(
    scenario: &Scenario,
    params: &SimParams,
    seed: u64,
    iteration: u32,
    duration: Duration,
) -> Result<SimOutput, SimError> {
    let ms = check_duration(duration)?;
    params.check()?;
    let iter_seed = iteration_seed(seed, iteration);
    let mut tape = generate(&scenario.market, iter_seed, ms);
    let source = engine::MarketSource::Events(std::mem::take(&mut tape.events));
    run(scenario, params, iteration, iter_seed, source, &tape, ms)
}

/// A recorded market (`.npz` in hftbacktest's event layout, array `data`)
/// opened for a scenario: the file, and the efficient mid used to mark fills,
/// which is the mid of the recorded book, read by replaying the file once
/// (not once per iteration).
#[derive(Debug, Clone)]
pub struct RecordedMarket {
    path: PathBuf,
    mid: MarketTape,
    events: engine::RecordedEvents,
    hash: String,
    /// The scenario's instrument it was opened with: price, tick, lot, step.
    instrument: [f64; 4],
}

/// What of a scenario a recorded market's reading depends on.
fn instrument(scenario: &Scenario) -> [f64; 4] {
    let m = &scenario.market;
    [m.price, m.tick_size, m.lot_size, f64::from(m.step_ms)]
}

impl RecordedMarket {
    /// Open, read and check `path` for `scenario` (its price, tick and lot
    /// size and mid sampling step, which [`simulate_recorded`] checks).
    ///
    /// ```
    /// use std::time::Duration;
    /// use mmsoak_core::ParamRegistry;
    /// use mmsoak_sim::{generate, iteration_seed, simulate_recorded, write_market_npz};
    /// use mmsoak_sim::{RecordedMarket, Scenario, SimParams};
    ///
    /// let scenario = Scenario::builtin("calm")?;
    /// let tape = generate(&scenario.market, iteration_seed(1, 1), 60_000);
    /// let path = std::env::temp_dir().join(format!("mmsoak-doc-{}.npz", std::process::id()));
    /// write_market_npz(&tape, &path)?;
    /// let market = RecordedMarket::open(&scenario, &path)?;
    /// std::fs::remove_file(&path)?;
    ///
    /// let params = SimParams::defaults(&ParamRegistry::default());
    /// let out = simulate_recorded(&scenario, &params, 1, 1, &market, Duration::from_secs(60))?;
    /// assert_eq!(out.market_events, tape.events.len());
    /// assert_eq!(market.content_hash().len(), 64);
    ///
    /// // Another instrument cannot be simulated on it.
    /// let mut other = scenario.clone();
    /// other.market.tick_size *= 2.0;
    /// assert!(simulate_recorded(&other, &params, 1, 1, &market, Duration::from_secs(60)).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open(scenario: &Scenario, path: &Path) -> Result<RecordedMarket, SimError> {
        let events = engine::RecordedEvents::read(path, scenario.market.tick_size)?;
        Ok(RecordedMarket {
            path: path.to_owned(),
            mid: recorded_mid_path(scenario, &events)?,
            hash: events.content_hash(),
            events,
            instrument: instrument(scenario),
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// blake3 of its events (64 hex digits): the same market, whatever the
    /// file's name or compression, has the same hash.
    pub fn content_hash(&self) -> &str {
        &self.hash
    }
}

/// Run an iteration on a recorded market instead of the generator.
pub fn simulate_recorded(
    scenario: &Scenario,
    params: &SimParams,
    seed: u64,
    iteration: u32,
    market: &RecordedMarket,
    duration: Duration,
) -> Result<SimOutput, SimError> {
    let ms = check_duration(duration)?;
    params.check()?;
    if instrument(scenario) != market.instrument {
        let [price, tick, lot, step] = market.instrument;
        return Err(SimError::Market {
            file: market.path.clone(),
            problem: format!(
                "opened for an instrument with price {price}, tick_size {tick}, lot_size {lot}, step_ms {step}; scenario `{}` has another",
                scenario.name
            ),
        });
    }
    let iter_seed = iteration_seed(seed, iteration);
    run(
        scenario,
        params,
        iteration,
        iter_seed,
        engine::MarketSource::Recorded(&market.events),
        &market.mid,
        ms,
    )
}

fn recorded_mid_path(
    scenario: &Scenario,
    market: &engine::RecordedEvents,
) -> Result<MarketTape, SimError> {
    // Replay the book with the engine's own view: step through it and sample the mid.
    let step_ns = i64::from(scenario.market.step_ms) * 1_000_000;
    let mut engine = engine::Engine::<engine::Book>::new(
        engine::MarketSource::Recorded(market),
        scenario,
        0.0,
        0,
    )?;
    let mut mid_path = Vec::new();
    let tick = scenario.market.tick_size;
    let mut last = scenario.market.price;
    while engine.elapse(step_ns)? {
        if let (Some((b, _)), Some((a, _))) = (engine.best_bid(), engine.best_ask()) {
            last = (b + a) as f64 * tick / 2.0;
        }
        mid_path.push(last);
    }
    Ok(MarketTape {
        events: Vec::new(),
        mid_path,
        mid_changes: Vec::new(),
        step_ns,
    })
}

/// Write a generated market as an npz file (for `--market` replays).
pub fn write_market_npz(tape: &MarketTape, path: &Path) -> Result<(), SimError> {
    engine::write_npz(path, &tape.events)
}

fn run(
    scenario: &Scenario,
    params: &SimParams,
    iteration: u32,
    iter_seed: u64,
    source: engine::MarketSource<'_>,
    mid: &MarketTape,
    duration_ms: u64,
) -> Result<SimOutput, SimError> {
    let lat = &scenario.latency;
    let spiking = lat.spike_from_iteration > 0 && iteration >= lat.spike_from_iteration;
    let extra = if spiking { lat.spike_extra_ms } else { 0.0 };
    let market_events = source.len();
    let mut engine = engine::Engine::<engine::Book>::new(source, scenario, extra, iter_seed)?;
    let end_ns = i64::try_from(duration_ms)
        .unwrap_or(i64::MAX / 2_000_000)
        .saturating_mul(1_000_000);
    let mut run = bot::run_bot(
        &mut engine,
        &scenario.bot,
        params,
        scenario.market.lot_size,
        &scenario.fees,
        end_ns,
    )?;
    let (mut round_trips, mut alone) = engine.take_round_trips_ms();
    let report = report::build_report(report::ReportInputs {
        fills: &run.fills,
        counters: &run.counters,
        tape: mid,
        order_ages_ms: &mut run.order_ages_ms,
        round_trips_ms: &mut round_trips,
        alone_round_trips_ms: &mut alone,
        final_inventory: run.final_inventory,
        end_ns: run.end_ns,
        adverse_horizon_ns: i64::from(scenario.bot.adverse_horizon_ms) * 1_000_000,
        version: format!("mmsoak-sim {}", env!("CARGO_PKG_VERSION")),
    });
    Ok(SimOutput {
        report,
        fills: run.fills,
        counters: run.counters,
        scenario: scenario.name.clone(),
        market_events,
    })
}

/// How [`replay_idle`] replays a tape: the benchmark's baselines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdleReplay {
    /// hftbacktest alone, as it ships (its `HashMapMarketDepth` book),
    /// straight to the end of the tape.
    Hftbacktest,
    /// The simulator's engine (hftbacktest behind our adapter, on our own
    /// book), without a bot or orders. With `wake_every`, it wakes at that
    /// cadence and reads the best bid and ask, as the bot does every
    /// `decision_ms`; without, it runs straight to the end.
    Engine {
        /// The cadence, if any.
        wake_every: Option<Duration>,
    },
}

/// Replay generated `events` (a tape's, taken) with a do-nothing strategy,
/// the way `how` says. Returns how many events were replayed (all of
/// `events`).
///
/// ```
/// use mmsoak_sim::{generate, replay_idle, IdleReplay, Scenario};
///
/// let scenario = Scenario::builtin("calm")?;
/// let tape = generate(&scenario.market, 7, 60_000);
/// let n = tape.events.len();
/// assert_eq!(replay_idle(&scenario, tape.events.clone(), IdleReplay::Hftbacktest)?, n);
/// let how = IdleReplay::Engine { wake_every: Some(std::time::Duration::from_millis(250)) };
/// assert_eq!(replay_idle(&scenario, tape.events, how)?, n);
/// # Ok::<(), mmsoak_sim::SimError>(())
/// ```
pub fn replay_idle(
    scenario: &Scenario,
    events: Vec<MarketEvent>,
    how: IdleReplay,
) -> Result<usize, SimError> {
    let n = events.len();
    let source = engine::MarketSource::Events(events);
    match how {
        IdleReplay::Hftbacktest => {
            engine::StockEngine::new(source, scenario, 0.0, 0)?.run_idle()?;
        }
        IdleReplay::Engine { wake_every: None } => {
            engine::Engine::<engine::Book>::new(source, scenario, 0.0, 0)?.run_idle()?;
        }
        IdleReplay::Engine {
            wake_every: Some(step),
        } => {
            let mut engine = engine::Engine::<engine::Book>::new(source, scenario, 0.0, 0)?;
            let step_ns = i64::try_from(step.as_nanos()).unwrap_or(i64::MAX).max(1);
            let mut touches = 0usize;
            while engine.elapse(step_ns)? {
                touches += usize::from(engine.best_bid().is_some() && engine.best_ask().is_some());
            }
            std::hint::black_box(touches);
        }
    }
    Ok(n)
}
