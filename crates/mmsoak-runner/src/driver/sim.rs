//! The embedded simulator driver: the parameters in force act on a quoting
//! bot in a simulated market (`mmsoak-sim`).

use std::collections::BTreeMap;
use std::time::Duration;

use mmsoak_core::{ParamRegistry, StateHash};
use mmsoak_sim::{
    simulate_iteration, simulate_recorded, RecordedMarket, Scenario, SimError, SimParams,
};

use super::{
    collect_output, write_output, Driver, DriverError, IterationInput, IterationOutput,
    EDGE_REPORT_FILE, FILL_LOG_FILES,
};

/// Default simulated time per iteration.
pub const DEFAULT_SIM_DURATION: Duration = Duration::from_secs(3600);

/// Runs each iteration in the embedded market simulator.
///
/// Iteration `i` of seed `s` is the same market and the same bot every
/// time, so a run replays bit for bit. The report and the fill log are
/// written into the iteration directory and read back through
/// [`collect_output`], like a real bot's.
#[derive(Debug, Clone)]
pub struct SimDriver {
    scenario: Scenario,
    registry: ParamRegistry,
    seed: u64,
    duration: Duration,
    /// The recorded market replayed instead of the generator.
    recorded: Option<RecordedMarket>,
}

impl SimDriver {
    /// A driver for `scenario`, seeded with `seed`, reading parameter
    /// defaults from `registry`.
    pub fn new(scenario: Scenario, registry: ParamRegistry, seed: u64) -> SimDriver {
        SimDriver {
            scenario,
            registry,
            seed,
            duration: DEFAULT_SIM_DURATION,
            recorded: None,
        }
    }

    /// Simulated time per iteration.
    pub fn with_duration(mut self, duration: Duration) -> SimDriver {
        self.duration = duration;
        self
    }

    /// Replay a recorded market instead of the generator. It is opened (and
    /// so checked) by the caller, before the soak writes anything; it must
    /// have been opened for this driver's scenario.
    pub fn with_market(mut self, market: Option<RecordedMarket>) -> SimDriver {
        self.recorded = market;
        self
    }
}

fn sim_error(iteration: u32, e: SimError) -> DriverError {
    DriverError::Sim {
        iteration,
        message: mmsoak_core::ErrorChain(&e).to_string(),
    }
}

impl Driver for SimDriver {
    fn name(&self) -> &'static str {
        "sim"
    }

    fn scenario(&self) -> Option<&str> {
        Some(&self.scenario.name)
    }

    /// The scenario's contents (a file may change under its name), the
    /// simulated duration and the recorded market's contents.
    fn settings(&self) -> BTreeMap<String, String> {
        let mut s = BTreeMap::new();
        let scenario = serde_json::to_value(&self.scenario).map_or_else(
            |e| format!("unhashable: {e}"),
            |v| StateHash::of_value(&v).to_string(),
        );
        s.insert("scenario_hash".to_owned(), scenario);
        s.insert(
            "sim_duration_s".to_owned(),
            self.duration.as_secs_f64().to_string(),
        );
        // The market's identity is its contents, not the path it was given
        // by (a resume may spell the path differently).
        if let Some(market) = &self.recorded {
            s.insert("market_hash".to_owned(), market.content_hash().to_owned());
        }
        s
    }

    fn run_iteration(
        &mut self,
        input: &IterationInput<'_>,
    ) -> Result<IterationOutput, DriverError> {
        let i = input.iteration;
        let params = SimParams::from_overrides(input.overrides, &self.registry);
        let out = match &self.recorded {
            Some(market) => {
                simulate_recorded(&self.scenario, &params, self.seed, i, market, self.duration)
            }
            None => simulate_iteration(&self.scenario, &params, self.seed, i, self.duration),
        }
        .map_err(|e| sim_error(i, e))?;
        for (name, bytes) in [
            (EDGE_REPORT_FILE, out.report_bytes()),
            (FILL_LOG_FILES[0], out.fills_bytes()),
        ] {
            write_output(i, input.out_dir, name, &bytes)?;
        }
        collect_output(i, input.out_dir, "")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmsoak_core::{Param, RuntimeOverrides};

    fn run(d: &mut SimDriver, dir: &std::path::Path, ov: &RuntimeOverrides) -> IterationOutput {
        std::fs::create_dir_all(dir).expect("mkdir");
        d.run_iteration(&IterationInput {
            iteration: 1,
            overrides: ov,
            overrides_path: &dir.join("runtime_overrides.json"),
            out_dir: dir,
            stop: &Default::default(),
        })
        .expect("sim iteration")
    }

    #[test]
    fn writes_report_and_fill_log_and_reads_them_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let scenario = Scenario::builtin("calm").expect("calm");
        let mut d = SimDriver::new(scenario, ParamRegistry::default(), 3)
            .with_duration(Duration::from_secs(120));
        let ov = RuntimeOverrides::new();
        let a = run(&mut d, &dir.path().join("a"), &ov);
        let b = run(&mut d, &dir.path().join("b"), &ov);
        let bytes = |p: &std::path::Path| std::fs::read(p).expect("read");
        assert_eq!(
            bytes(&dir.path().join("a/EDGE_REPORT.json")),
            bytes(&dir.path().join("b/EDGE_REPORT.json"))
        );
        assert_eq!(
            bytes(&dir.path().join("a/fills.jsonl")),
            bytes(&dir.path().join("b/fills.jsonl"))
        );
        let stats = a.fill_log.expect("fill log read");
        let totals = a.report.totals.fills.expect("fills");
        assert_eq!(stats.fills, totals.maker_count + totals.taker_count);
        assert_eq!((&a.report, &a.fill_log), (&b.report, &b.fill_log));
        // The parameters act: a much wider spread changes the report.
        let mut wide = RuntimeOverrides::new();
        wide.set(Param::BaseSpreadBps, 0.5).expect("finite");
        let c = run(&mut d, &dir.path().join("c"), &wide);
        assert_ne!(c.report.totals.fills, a.report.totals.fills);
    }

    #[test]
    fn a_recorded_market_replays_the_generated_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let scenario = Scenario::builtin("calm").expect("calm");
        let seed = 3;
        let tape = mmsoak_sim::generate(
            &scenario.market,
            mmsoak_sim::iteration_seed(seed, 1),
            120_000,
        );
        let npz = dir.path().join("market.npz");
        mmsoak_sim::write_market_npz(&tape, &npz).expect("write npz");
        let market = RecordedMarket::open(&scenario, &npz).expect("opens");
        let ov = RuntimeOverrides::new();
        let mut generated = SimDriver::new(scenario.clone(), ParamRegistry::default(), seed)
            .with_duration(Duration::from_secs(120));
        let mut recorded = generated.clone().with_market(Some(market));
        let g = run(&mut generated, &dir.path().join("g"), &ov);
        let r = run(&mut recorded, &dir.path().join("r"), &ov);
        // Same book and trades, same bot: the same fills (the marks differ:
        // a recorded market has no efficient mid, only its book's).
        let fills =
            |name: &str| std::fs::read(dir.path().join(name).join("fills.jsonl")).expect("fills");
        assert!(g.report.totals.fills.is_some_and(|f| f.maker_count > 0));
        assert_eq!(fills("g"), fills("r"));
        assert_eq!(g.report.totals.fills, r.report.totals.fills);
    }
}
