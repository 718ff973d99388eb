//! Scenarios: the market, the bot's fixed traits and the latency model, as
//! data (TOML).

use std::path::Path;

use mmsoak_core::input::{excerpt, limits, line_column, read_text};
use serde::{Deserialize, Serialize};

use crate::SimError;

/// Largest price of a scenario, in ticks (beyond it tick arithmetic loses
/// integers; recorded markets have the same limit).
pub(crate) const MAX_TICKS: f64 = (1u64 << 40) as f64;

/// A market scenario. Every key is required; unknown keys are errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short name (`default`, `calm`, ...).
    pub name: String,
    /// One line saying what the scenario is for.
    pub description: String,
    /// The generated market.
    pub market: MarketSpec,
    /// The bot's fixed traits (what the tuned parameters do not set).
    pub bot: BotSpec,
    /// Order latency.
    pub latency: LatencySpec,
    /// Exchange fees.
    pub fees: FeeSpec,
}

/// The generated market.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketSpec {
    /// Initial price.
    pub price: f64,
    /// Tick size (price units).
    pub tick_size: f64,
    /// Lot size (quantity units).
    pub lot_size: f64,
    /// Generator time step, ms (book updates are published at this pace).
    pub step_ms: u32,
    /// Diffusion of the efficient price in the calm regime, bps per sqrt(second).
    pub vol_bps_per_sqrt_s: f64,
    /// Volatility multiplier of the volatile regime.
    pub volatile_multiplier: f64,
    /// Switches calm -> volatile per hour.
    pub to_volatile_per_hour: f64,
    /// Switches volatile -> calm per hour.
    pub to_calm_per_hour: f64,
    /// Price jumps per hour.
    pub jumps_per_hour: f64,
    /// Mean jump size, bps (exponential).
    pub jump_bps_mean: f64,
    /// Share of jumps announced by an informed sweep just before the move.
    pub informed_share: f64,
    /// An informed sweep takes every level priced within this share of
    /// the jump it announces (0–1).
    pub informed_sweep_share: f64,
    /// The undisturbed book's spread, ticks (1: a large-tick market, where
    /// the queue at the best price is long; more: a market whose natural
    /// spread is several ticks wide).
    pub spread_ticks: u32,
    /// Mean resting quantity at the best level, lots.
    pub top_depth_lots: f64,
    /// Extra depth per level away from the best (for the first 5 levels).
    pub depth_slope: f64,
    /// Price levels published on each side.
    pub levels: u32,
    /// Uninformed market orders per second (the mean rate of their
    /// self-exciting arrivals).
    pub trades_per_second: f64,
    /// Branching ratio of market order arrivals: the share of them
    /// triggered by earlier ones (0: Poisson; below 1).
    pub trade_hawkes_branching: f64,
    /// Decay time of the excitation one market order adds, ms.
    pub trade_hawkes_decay_ms: f64,
    /// Scale of a market order, in units of top-of-book depth.
    pub trade_size_top: f64,
    /// Pareto tail index of market order sizes (smaller = heavier tail).
    pub trade_size_tail: f64,
    /// Market orders are children of metaorders (large orders split into
    /// many): this many run at once, each market order belongs to one of
    /// them at random and takes its side.
    pub metaorders_active: u32,
    /// Pareto tail index of a metaorder's length in market orders (the
    /// sign autocorrelation then decays as lag^-(tail - 1)).
    pub metaorder_tail: f64,
    /// Permanent impact of a market order that trades one top-of-book
    /// depth, bps; concave: a size of `q` tops moves the efficient price
    /// `sqrt(q)` times this. (The transient part of impact is the depth the
    /// order took from the book, which refills.)
    pub impact_bps_at_top: f64,
    /// Half-life of the book's recovery after a sweep, ms: a level the
    /// order emptied or thinned refills at this pace.
    pub resilience_half_life_ms: f64,
    /// Feed latency (exchange -> bot), ms.
    pub feed_latency_ms: f64,
}

/// The bot's fixed traits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BotSpec {
    /// bps of half-spread per unit of `base_spread_bps + base_spread_bps_delta`.
    pub spread_unit_bps: f64,
    /// Inventory skew at the position limit, bps (absolute, not a share of
    /// the half-spread: at a tight spread the skewed reducing quote crosses).
    pub skew_at_limit_bps: f64,
    /// Decision loop period, ms.
    pub decision_ms: u32,
    /// Position limit at `max_delta_ratio = 1`, lots.
    pub capital_lots: f64,
    /// A quote is replaced when its target moved this many ticks.
    pub requote_ticks: u32,
    /// Flattening trades bring inventory back to this share of the limit.
    pub flatten_to_share: f64,
    /// Horizon over which adverse selection is measured, ms.
    pub adverse_horizon_ms: u32,
}

/// Order round trip = base + per_in_flight x orders in flight + jitter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencySpec {
    /// Base round trip, ms.
    pub base_ms: f64,
    /// Added per order in flight when the order is sent, ms.
    pub per_in_flight_ms: f64,
    /// Added at market load 1, ms: the exchange's side of the round trip
    /// grows with the messages it handles (load = the market's messages
    /// in the trailing second over their mean per second).
    pub exchange_load_ms: f64,
    /// Mean of the exponential jitter, ms.
    pub jitter_ms: f64,
    /// Share of the round trip spent on the way back (exchange -> bot).
    pub response_share: f64,
    /// From this iteration on the base jumps by `spike_extra_ms` (0 = never).
    pub spike_from_iteration: u32,
    /// The jump of the base, ms.
    pub spike_extra_ms: f64,
}

/// Exchange fees, bps of notional (negative = rebate).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeeSpec {
    /// Maker fee.
    pub maker_bps: f64,
    /// Taker fee.
    pub taker_bps: f64,
}

/// The built-in scenarios: (name, TOML).
pub const BUILTIN_SCENARIOS: [(&str, &str); 6] = [
    ("default", include_str!("../scenarios/default.toml")),
    ("calm", include_str!("../scenarios/calm.toml")),
    ("volatile", include_str!("../scenarios/volatile.toml")),
    (
        "latency-spike",
        include_str!("../scenarios/latency-spike.toml"),
    ),
    (
        "latency-step",
        include_str!("../scenarios/latency-step.toml"),
    ),
    ("toxic", include_str!("../scenarios/toxic.toml")),
];

impl Scenario {
    /// A built-in scenario by name.
    pub fn builtin(name: &str) -> Result<Scenario, SimError> {
        let Some((_, text)) = BUILTIN_SCENARIOS.iter().find(|(n, _)| *n == name) else {
            return Err(SimError::UnknownScenario {
                name: name.to_owned(),
                known: BUILTIN_SCENARIOS.iter().map(|(n, _)| *n).collect(),
            });
        };
        Scenario::parse(text, Path::new(&format!("<built-in scenario {name}>")))
    }

    /// `NAME` of a built-in, or a TOML file.
    pub fn load(name_or_file: &str) -> Result<Scenario, SimError> {
        if BUILTIN_SCENARIOS.iter().any(|(n, _)| *n == name_or_file) {
            return Scenario::builtin(name_or_file);
        }
        let path = Path::new(name_or_file);
        if path.extension().is_some_and(|e| e == "toml") || path.exists() {
            return Scenario::from_path(path);
        }
        Scenario::builtin(name_or_file)
    }

    /// Read a TOML file.
    pub fn from_path(path: &Path) -> Result<Scenario, SimError> {
        let text = read_text(path, limits::SCENARIO)?;
        Scenario::parse(&text, path)
    }

    /// Parse TOML text that came from `file` (named in errors).
    pub fn parse(text: &str, file: &Path) -> Result<Scenario, SimError> {
        // The TOML reader's own message quotes the offending line whole:
        // say where instead, and cut quoted values short.
        let scenario: Scenario = toml::from_str(text).map_err(|e| {
            let at = e
                .span()
                .map(|span| {
                    let (line, column) = line_column(text, span.start);
                    format!(" (line {line}, column {column})")
                })
                .unwrap_or_default();
            SimError::Scenario {
                file: file.to_owned(),
                problem: format!("{}{at}", excerpt(e.message().trim_end())),
            }
        })?;
        scenario.validate(file)?;
        Ok(scenario)
    }

    fn validate(&self, file: &Path) -> Result<(), SimError> {
        let bad = |field: &str, why: &str| SimError::Scenario {
            file: file.to_owned(),
            problem: format!("`{field}`: {why}"),
        };
        // The name goes into artifacts and reports as is: a plain word.
        let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        if self.name.is_empty() || self.name.len() > 64 || !self.name.chars().all(plain) {
            return Err(bad(
                "name",
                "must be 1 to 64 letters, digits, `-`, `_` or `.`",
            ));
        }
        let m = &self.market;
        let positive = [
            ("market.price", m.price),
            ("market.tick_size", m.tick_size),
            ("market.lot_size", m.lot_size),
            ("market.top_depth_lots", m.top_depth_lots),
            ("market.trade_size_top", m.trade_size_top),
            ("market.trade_size_tail", m.trade_size_tail),
            ("market.volatile_multiplier", m.volatile_multiplier),
            ("market.trade_hawkes_decay_ms", m.trade_hawkes_decay_ms),
            ("market.resilience_half_life_ms", m.resilience_half_life_ms),
            ("bot.spread_unit_bps", self.bot.spread_unit_bps),
            ("bot.capital_lots", self.bot.capital_lots),
        ];
        for (field, v) in positive {
            if !(v.is_finite() && v > 0.0) {
                return Err(bad(field, "must be a positive number"));
            }
        }
        let non_negative = [
            ("market.vol_bps_per_sqrt_s", m.vol_bps_per_sqrt_s),
            ("market.to_volatile_per_hour", m.to_volatile_per_hour),
            ("market.to_calm_per_hour", m.to_calm_per_hour),
            ("market.jumps_per_hour", m.jumps_per_hour),
            ("market.jump_bps_mean", m.jump_bps_mean),
            ("market.depth_slope", m.depth_slope),
            ("market.trades_per_second", m.trades_per_second),
            ("market.impact_bps_at_top", m.impact_bps_at_top),
            ("market.feed_latency_ms", m.feed_latency_ms),
            ("bot.skew_at_limit_bps", self.bot.skew_at_limit_bps),
            ("latency.base_ms", self.latency.base_ms),
            ("latency.per_in_flight_ms", self.latency.per_in_flight_ms),
            ("latency.exchange_load_ms", self.latency.exchange_load_ms),
            ("latency.jitter_ms", self.latency.jitter_ms),
            ("latency.spike_extra_ms", self.latency.spike_extra_ms),
        ];
        for (field, v) in non_negative {
            if !(v.is_finite() && v >= 0.0) {
                return Err(bad(field, "must be a non-negative number"));
            }
        }
        for (field, v) in [
            ("market.informed_share", m.informed_share),
            ("market.informed_sweep_share", m.informed_sweep_share),
            ("latency.response_share", self.latency.response_share),
            ("bot.flatten_to_share", self.bot.flatten_to_share),
        ] {
            if !(v.is_finite() && (0.0..=1.0).contains(&v)) {
                return Err(bad(field, "must be between 0 and 1"));
            }
        }
        if !(m.trade_hawkes_branching.is_finite()
            && (0.0..=0.95).contains(&m.trade_hawkes_branching))
        {
            return Err(bad(
                "market.trade_hawkes_branching",
                "must be between 0 and 0.95 (at 1 the arrivals explode)",
            ));
        }
        if !(m.metaorder_tail.is_finite() && m.metaorder_tail > 1.0 && m.metaorder_tail <= 10.0) {
            return Err(bad(
                "market.metaorder_tail",
                "must be above 1 and at most 10",
            ));
        }
        for (field, v) in [
            ("fees.maker_bps", self.fees.maker_bps),
            ("fees.taker_bps", self.fees.taker_bps),
        ] {
            if !v.is_finite() {
                return Err(bad(field, "must be a finite number"));
            }
        }
        for (field, v) in [
            ("market.step_ms", m.step_ms),
            ("market.levels", m.levels),
            ("market.spread_ticks", m.spread_ticks),
            ("market.metaorders_active", m.metaorders_active),
            ("bot.decision_ms", self.bot.decision_ms),
            ("bot.requote_ticks", self.bot.requote_ticks),
            ("bot.adverse_horizon_ms", self.bot.adverse_horizon_ms),
        ] {
            if v == 0 {
                return Err(bad(field, "must be at least 1"));
            }
        }
        // Upper limits: beyond them a simulated hour takes unbounded time or
        // memory, or tick arithmetic stops being exact. They are far from
        // any market the simulator models (the built-ins sit well inside).
        const MINUTE_MS: f64 = 60_000.0;
        let at_most = [
            ("market.levels", f64::from(m.levels), 1_000.0),
            ("market.trades_per_second", m.trades_per_second, 1_000.0),
            ("market.jumps_per_hour", m.jumps_per_hour, 36_000.0),
            (
                "market.to_volatile_per_hour",
                m.to_volatile_per_hour,
                36_000.0,
            ),
            ("market.to_calm_per_hour", m.to_calm_per_hour, 36_000.0),
            ("market.vol_bps_per_sqrt_s", m.vol_bps_per_sqrt_s, 1_000.0),
            ("market.volatile_multiplier", m.volatile_multiplier, 100.0),
            ("market.jump_bps_mean", m.jump_bps_mean, 10_000.0),
            ("market.impact_bps_at_top", m.impact_bps_at_top, 10_000.0),
            (
                "market.metaorders_active",
                f64::from(m.metaorders_active),
                1_000.0,
            ),
            ("market.spread_ticks", f64::from(m.spread_ticks), 1_000.0),
            (
                "market.trade_hawkes_decay_ms",
                m.trade_hawkes_decay_ms,
                MINUTE_MS,
            ),
            (
                "market.resilience_half_life_ms",
                m.resilience_half_life_ms,
                10.0 * MINUTE_MS,
            ),
            ("market.top_depth_lots", m.top_depth_lots, 1e9),
            ("market.trade_size_top", m.trade_size_top, 1_000.0),
            ("market.trade_size_tail", m.trade_size_tail, 1_000.0),
            ("market.depth_slope", m.depth_slope, 100.0),
            ("market.feed_latency_ms", m.feed_latency_ms, MINUTE_MS),
            ("market.step_ms", f64::from(m.step_ms), MINUTE_MS),
            (
                "bot.decision_ms",
                f64::from(self.bot.decision_ms),
                MINUTE_MS,
            ),
            (
                "bot.requote_ticks",
                f64::from(self.bot.requote_ticks),
                1_000.0,
            ),
            (
                "bot.adverse_horizon_ms",
                f64::from(self.bot.adverse_horizon_ms),
                60.0 * MINUTE_MS,
            ),
            ("bot.spread_unit_bps", self.bot.spread_unit_bps, 10_000.0),
            (
                "bot.skew_at_limit_bps",
                self.bot.skew_at_limit_bps,
                10_000.0,
            ),
            ("bot.capital_lots", self.bot.capital_lots, 1e9),
            ("latency.base_ms", self.latency.base_ms, MINUTE_MS),
            (
                "latency.per_in_flight_ms",
                self.latency.per_in_flight_ms,
                MINUTE_MS,
            ),
            (
                "latency.exchange_load_ms",
                self.latency.exchange_load_ms,
                MINUTE_MS,
            ),
            ("latency.jitter_ms", self.latency.jitter_ms, MINUTE_MS),
            (
                "latency.spike_extra_ms",
                self.latency.spike_extra_ms,
                MINUTE_MS,
            ),
            ("fees.maker_bps", self.fees.maker_bps.abs(), 1_000.0),
            ("fees.taker_bps", self.fees.taker_bps.abs(), 1_000.0),
        ];
        for (field, v, max) in at_most {
            if v > max {
                return Err(bad(field, &format!("must be at most {max}")));
            }
        }
        // A level is at least a lot; the price within 2^40 ticks (as for a
        // recorded market), and at least 10 (the generator's floor).
        if m.top_depth_lots < 1.0 {
            return Err(bad("market.top_depth_lots", "must be at least 1"));
        }
        let ticks = m.price / m.tick_size;
        if !(10.0..=MAX_TICKS).contains(&ticks) {
            return Err(bad(
                "market.price",
                &format!(
                    "is {ticks} ticks of {}; between 10 and 2^40 ticks is accepted",
                    m.tick_size
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_parses_and_is_named_after_itself() {
        for (name, _) in BUILTIN_SCENARIOS {
            let s = Scenario::builtin(name).expect("built-in parses");
            assert_eq!(s.name, name);
        }
    }

    #[test]
    fn unknown_key_names_the_file_and_the_key() {
        let text = Scenario::builtin("default")
            .map(|s| toml::to_string(&s).expect("serialize"))
            .expect("default");
        let text = text.replace("[fees]\n", "[fees]\nrebate_bps = 1.0\n");
        let err = Scenario::parse(&text, Path::new("my.toml")).expect_err("unknown key");
        let msg = err.to_string();
        assert!(
            msg.contains("my.toml") && msg.contains("rebate_bps"),
            "{msg}"
        );
    }

    #[test]
    fn invalid_value_names_the_field() {
        let mut s = Scenario::builtin("calm").expect("calm");
        s.market.tick_size = -1.0;
        let text = toml::to_string(&s).expect("serialize");
        let err = Scenario::parse(&text, Path::new("x.toml")).expect_err("negative tick");
        assert!(err.to_string().contains("market.tick_size"), "{err}");
    }

    /// Values beyond what a simulated hour can take in bounded time and
    /// memory, or beyond exact tick arithmetic, are refused by name.
    #[test]
    fn extreme_values_are_refused_by_name() {
        type Edit = fn(&mut Scenario);
        let cases: [(Edit, &str); 7] = [
            (
                |s| s.market.levels = 4_000_000_000,
                "`market.levels`: must be at most 1000",
            ),
            (
                |s| s.market.feed_latency_ms = 1e13,
                "`market.feed_latency_ms`: must be at most 60000",
            ),
            (
                |s| s.market.trades_per_second = 1e9,
                "`market.trades_per_second`: must be at most 1000",
            ),
            (
                |s| s.market.top_depth_lots = 1e-300,
                "`market.top_depth_lots`: must be at least 1",
            ),
            (
                |s| s.market.tick_size = 1e-12,
                "`market.price`: is 100000000000000 ticks",
            ),
            (
                |s| s.latency.base_ms = 1e13,
                "`latency.base_ms`: must be at most 60000",
            ),
            (
                |s| s.name = "x\n# PASS".into(),
                "`name`: must be 1 to 64 letters",
            ),
        ];
        for (edit, expect) in cases {
            let mut s = Scenario::builtin("default").expect("default");
            edit(&mut s);
            let text = toml::to_string(&s).expect("serialize");
            let err = Scenario::parse(&text, Path::new("x.toml")).expect_err(expect);
            assert!(err.to_string().contains(expect), "{err}");
        }
    }

    #[test]
    fn unknown_name_lists_the_builtins() {
        let err = Scenario::load("no-such-scenario").expect_err("unknown");
        let msg = err.to_string();
        assert!(
            msg.contains("no-such-scenario") && msg.contains("latency-spike"),
            "{msg}"
        );
    }

    #[test]
    fn missing_file_names_it() {
        let err = Scenario::load("/nonexistent/dir/s.toml").expect_err("missing");
        assert!(err.to_string().contains("/nonexistent/dir/s.toml"), "{err}");
    }
}
