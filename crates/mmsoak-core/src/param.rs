//! The parameter registry: every tunable parameter, where it lives in
//! `runtime_overrides.json`, which legacy spellings are read, its kind,
//! default and safety bounds.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A tunable parameter of the market maker.
///
/// Serialized as its flat name (`"min_interval_ms"`), the spelling every
/// artifact file uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Param {
    /// Half-spread base of the quotes, in bps.
    BaseSpreadBps,
    /// Extra spread added on top of the base, in bps.
    BaseSpreadBpsDelta,
    /// Order size cap as a fraction of top-of-book depth.
    ImpactCapRatio,
    /// Inventory (delta) limit as a fraction of the notional budget.
    MaxDeltaRatio,
    /// Requote budget per minute.
    ReplaceRatePerMin,
    /// Orders allowed in flight at once.
    ConcurrencyLimit,
    /// Age after which a resting order is cancelled, in ms.
    TailAgeMs,
    /// Minimum time between two requotes, in ms.
    MinIntervalMs,
}

impl Param {
    /// Whether the parameter holds whole numbers or reals (fixed: a policy
    /// file changes bounds, never kinds).
    pub const fn kind(self) -> ParamKind {
        match self {
            Param::ConcurrencyLimit | Param::TailAgeMs | Param::MinIntervalMs => ParamKind::Integer,
            _ => ParamKind::Real,
        }
    }

    /// The least value the parameter can take at all, whatever a policy's
    /// bounds say, and whether that value itself is allowed: a quote needs a
    /// spread of at least 0, an order book a positive size cap and inventory
    /// limit, a bot at least one order in flight, a requote budget and
    /// resting time above 0. `None`: any finite value.
    pub const fn least(self) -> Option<(f64, bool)> {
        match self {
            Param::BaseSpreadBps | Param::MinIntervalMs => Some((0.0, true)),
            Param::ImpactCapRatio
            | Param::MaxDeltaRatio
            | Param::ReplaceRatePerMin
            | Param::TailAgeMs => Some((0.0, false)),
            Param::ConcurrencyLimit => Some((1.0, true)),
            Param::BaseSpreadBpsDelta => None,
        }
    }

    /// The largest magnitude the parameter may have, whatever a policy's
    /// bounds say: far beyond any sane setting (a spread of 10%, an hour
    /// between requotes), and far within what every reader and writer
    /// represents exactly (integers up to 2^53), so that clamping into the
    /// bounds always yields a value the runtime file, the journal and the
    /// bot agree on.
    pub const fn largest(self) -> f64 {
        match self {
            Param::BaseSpreadBps | Param::BaseSpreadBpsDelta => 1_000.0,
            Param::ImpactCapRatio | Param::MaxDeltaRatio => 10.0,
            Param::ReplaceRatePerMin => 60_000.0,
            Param::ConcurrencyLimit => 10_000.0,
            Param::TailAgeMs => 86_400_000.0,
            Param::MinIntervalMs => 3_600_000.0,
        }
    }

    /// Why `value` cannot be a value of this parameter (below
    /// [`Param::least`], beyond [`Param::largest`], or not a whole number
    /// for an integer parameter).
    pub fn impossible(self, value: f64) -> Option<String> {
        if !value.is_finite() {
            return Some(format!("{value} is not a finite number"));
        }
        if value.abs() > self.largest() {
            // 1e300 said as such, not as 301 digits.
            let value = if value.abs() >= 1e9 {
                format!("{value:e}")
            } else {
                value.to_string()
            };
            return Some(format!(
                "{value} is beyond ±{}, the largest {self} can be",
                self.largest()
            ));
        }
        if self.kind() == ParamKind::Integer && value.fract() != 0.0 {
            return Some(format!(
                "{value} is not a whole number ({self} is an integer)"
            ));
        }
        match self.least() {
            Some((least, true)) if value < least => {
                Some(format!("{value} is below {least}, the least {self} can be"))
            }
            Some((least, false)) if value <= least => {
                Some(format!("{value} is not above {least}, as {self} must be"))
            }
            _ => None,
        }
    }

    /// Every parameter, in registry order.
    pub const ALL: [Param; 8] = [
        Param::BaseSpreadBps,
        Param::BaseSpreadBpsDelta,
        Param::ImpactCapRatio,
        Param::MaxDeltaRatio,
        Param::ReplaceRatePerMin,
        Param::ConcurrencyLimit,
        Param::TailAgeMs,
        Param::MinIntervalMs,
    ];

    /// The flat name, e.g. `"min_interval_ms"`.
    pub const fn name(self) -> &'static str {
        match self {
            Param::BaseSpreadBps => "base_spread_bps",
            Param::BaseSpreadBpsDelta => "base_spread_bps_delta",
            Param::ImpactCapRatio => "impact_cap_ratio",
            Param::MaxDeltaRatio => "max_delta_ratio",
            Param::ReplaceRatePerMin => "replace_rate_per_min",
            Param::ConcurrencyLimit => "concurrency_limit",
            Param::TailAgeMs => "tail_age_ms",
            Param::MinIntervalMs => "min_interval_ms",
        }
    }

    /// The canonical nested path in `runtime_overrides.json`, e.g. `["engine", "min_interval_ms"]`.
    pub const fn canonical_path(self) -> [&'static str; 2] {
        let section = match self {
            Param::BaseSpreadBps
            | Param::BaseSpreadBpsDelta
            | Param::ImpactCapRatio
            | Param::MaxDeltaRatio => "risk",
            Param::ReplaceRatePerMin
            | Param::ConcurrencyLimit
            | Param::TailAgeMs
            | Param::MinIntervalMs => "engine",
        };
        [section, self.name()]
    }

    /// Legacy nested paths that are read (besides the flat key at the root), e.g. `["quoting", "min_interval_ms"]`.
    pub const fn legacy_sections(self) -> &'static [&'static str] {
        match self {
            Param::BaseSpreadBps | Param::ConcurrencyLimit => &[],
            Param::BaseSpreadBpsDelta | Param::ReplaceRatePerMin | Param::MinIntervalMs => {
                &["quoting"]
            }
            Param::ImpactCapRatio | Param::MaxDeltaRatio => &["impact"],
            Param::TailAgeMs => &["taker_rescue"],
        }
    }

    /// Every path this parameter may be read from, canonical first, then the
    /// flat root key, then the legacy sections.
    pub fn read_paths(self) -> Vec<Vec<&'static str>> {
        let mut paths = vec![self.canonical_path().to_vec(), vec![self.name()]];
        paths.extend(self.legacy_sections().iter().map(|s| vec![*s, self.name()]));
        paths
    }
}

impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The name given is not a known parameter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown parameter `{0}` (known: base_spread_bps, base_spread_bps_delta, impact_cap_ratio, max_delta_ratio, replace_rate_per_min, concurrency_limit, tail_age_ms, min_interval_ms)")]
pub struct UnknownParam(pub String);

impl FromStr for Param {
    type Err = UnknownParam;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Param::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| UnknownParam(s.to_owned()))
    }
}

/// Whether a parameter holds whole numbers or reals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamKind {
    /// Whole numbers; results of arithmetic round to the nearest integer
    /// (halves away from zero).
    Integer,
    /// Reals; results are quantized to [`REAL_RESOLUTION`] so that float
    /// noise (`0.1 - 0.01 = 0.09000000000000001`) never shows up as a change.
    Real,
}

/// Quantum of real-valued parameters (1e-9).
pub const REAL_RESOLUTION: f64 = 1e-9;

impl ParamKind {
    /// Snap a value to this kind's grid: nearest integer, or nearest multiple of [`REAL_RESOLUTION`].
    pub fn quantize(self, value: f64) -> f64 {
        match self {
            ParamKind::Integer => value.round(),
            ParamKind::Real => {
                let scaled = (value / REAL_RESOLUTION).round();
                // Dividing by 1e9 (an exact integer) is correctly rounded, so
                // the result is the double nearest to the decimal value.
                let q = scaled / 1e9;
                if q == 0.0 {
                    0.0
                } else {
                    q
                }
            }
        }
    }
}

/// Inclusive safety bounds of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bounds {
    /// Smallest allowed value.
    pub min: f64,
    /// Largest allowed value.
    pub max: f64,
}

impl Bounds {
    /// Width of the range, `max - min`.
    pub fn range(&self) -> f64 {
        self.max - self.min
    }

    /// Clamp `value` into the bounds.
    pub fn clamp(&self, value: f64) -> f64 {
        value.max(self.min).min(self.max)
    }

    /// Whether `value` lies within the bounds (inclusive).
    pub fn contains(&self, value: f64) -> bool {
        value >= self.min && value <= self.max
    }
}

/// Everything the registry knows about one parameter.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ParamSpec {
    /// Which parameter.
    pub param: Param,
    /// Integer or real.
    pub kind: ParamKind,
    /// Value assumed when the runtime overrides do not set it.
    pub default: f64,
    /// Safety bounds; every applied change is clamped into them.
    pub bounds: Bounds,
}

impl ParamSpec {
    /// Snap to the kind's grid, then clamp into bounds. Returns the value and
    /// whether clamping changed it.
    pub fn settle(&self, requested: f64) -> (f64, bool) {
        let q = self.kind.quantize(requested);
        let c = self.bounds.clamp(q);
        (c, c != q)
    }
}

/// Registry bounds were invalid.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// `min > max`, or a bound is not finite.
    #[error("invalid bounds for {param}: min {min} max {max} (need finite min <= max)")]
    InvalidBounds {
        /// The parameter.
        param: Param,
        /// Offending minimum.
        min: f64,
        /// Offending maximum.
        max: f64,
    },
    /// A bound no value of the parameter can take ([`Param::impossible`]).
    #[error("invalid bounds for {param}: {bound} {problem}")]
    ImpossibleBound {
        /// The parameter.
        param: Param,
        /// `min` or `max`.
        bound: &'static str,
        /// Why.
        problem: String,
    },
    /// The default lies outside the bounds.
    #[error("default {default} of {param} lies outside its bounds {min}..={max}")]
    DefaultOutOfBounds {
        /// The parameter.
        param: Param,
        /// The default.
        default: f64,
        /// Minimum.
        min: f64,
        /// Maximum.
        max: f64,
    },
}

/// The table of all parameters. [`ParamRegistry::default`] holds the
/// documented defaults and bounds; a policy file may replace bounds.
///
/// ```
/// use mmsoak_core::{Param, ParamRegistry};
/// let reg = ParamRegistry::default();
/// let spec = reg.spec(Param::MinIntervalMs);
/// assert_eq!(spec.default, 60.0);
/// assert_eq!((spec.bounds.min, spec.bounds.max), (40.0, 100.0));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ParamRegistry {
    specs: [ParamSpec; 8],
}

impl Default for ParamRegistry {
    fn default() -> Self {
        let s = |param: Param, default, min, max| ParamSpec {
            param,
            kind: param.kind(),
            default,
            bounds: Bounds { min, max },
        };
        ParamRegistry {
            specs: [
                s(Param::BaseSpreadBps, 0.12, 0.05, 0.50),
                s(Param::BaseSpreadBpsDelta, 0.05, 0.00, 0.25),
                s(Param::ImpactCapRatio, 0.10, 0.08, 0.12),
                s(Param::MaxDeltaRatio, 0.15, 0.10, 0.16),
                s(Param::ReplaceRatePerMin, 300.0, 60.0, 600.0),
                s(Param::ConcurrencyLimit, 10.0, 1.0, 64.0),
                s(Param::TailAgeMs, 600.0, 300.0, 1200.0),
                s(Param::MinIntervalMs, 60.0, 40.0, 100.0),
            ],
        }
    }
}

impl ParamRegistry {
    /// The spec of one parameter.
    pub fn spec(&self, param: Param) -> &ParamSpec {
        // `specs` is in `Param::ALL` order, which is the enum's declaration order.
        &self.specs[param as usize]
    }

    /// All specs, in registry order.
    pub fn specs(&self) -> &[ParamSpec] {
        &self.specs
    }

    /// Replace the bounds of one parameter (from a policy file). The default
    /// must stay within the new bounds.
    pub fn set_bounds(&mut self, param: Param, bounds: Bounds) -> Result<(), RegistryError> {
        if !(bounds.min.is_finite() && bounds.max.is_finite() && bounds.min <= bounds.max) {
            return Err(RegistryError::InvalidBounds {
                param,
                min: bounds.min,
                max: bounds.max,
            });
        }
        for (bound, value) in [("min", bounds.min), ("max", bounds.max)] {
            if let Some(problem) = param.impossible(value) {
                return Err(RegistryError::ImpossibleBound {
                    param,
                    bound,
                    problem,
                });
            }
        }
        let spec = &mut self.specs[param as usize];
        if !bounds.contains(spec.default) {
            return Err(RegistryError::DefaultOutOfBounds {
                param,
                default: spec.default,
                min: bounds.min,
                max: bounds.max,
            });
        }
        spec.bounds = bounds;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_order_matches_enum() {
        let reg = ParamRegistry::default();
        for (i, p) in Param::ALL.into_iter().enumerate() {
            assert_eq!(reg.specs()[i].param, p);
            assert_eq!(reg.spec(p).param, p);
            assert!(reg.spec(p).bounds.contains(reg.spec(p).default), "{p}");
        }
    }

    /// The defaults' bounds are possible; impossible ones are refused with
    /// the reason.
    #[test]
    fn bounds_no_value_can_take_are_refused() {
        let mut reg = ParamRegistry::default();
        for spec in ParamRegistry::default().specs() {
            assert_eq!(
                spec.param.impossible(spec.bounds.min),
                None,
                "{}",
                spec.param
            );
            assert_eq!(reg.set_bounds(spec.param, spec.bounds), Ok(()));
        }
        let bounds = |min, max| Bounds { min, max };
        let err = |p, b| {
            reg.clone()
                .set_bounds(p, b)
                .expect_err("refused")
                .to_string()
        };
        assert_eq!(
            err(Param::ConcurrencyLimit, bounds(-5.0, 64.0)),
            "invalid bounds for concurrency_limit: min -5 is below 1, the least concurrency_limit can be"
        );
        assert_eq!(
            err(Param::ConcurrencyLimit, bounds(1.5, 64.0)),
            "invalid bounds for concurrency_limit: min 1.5 is not a whole number (concurrency_limit is an integer)"
        );
        assert_eq!(
            err(Param::ImpactCapRatio, bounds(0.0, 0.2)),
            "invalid bounds for impact_cap_ratio: min 0 is not above 0, as impact_cap_ratio must be"
        );
        // Beyond the largest a parameter can be: values no reader would
        // agree on (1e300 written as i64::MAX), or a step of 1e14 ms.
        assert_eq!(
            err(Param::MinIntervalMs, bounds(40.0, 1e300)),
            "invalid bounds for min_interval_ms: max 1e300 is beyond ±3600000, the largest min_interval_ms can be"
        );
        assert_eq!(
            err(Param::MinIntervalMs, bounds(40.0, 1e15)),
            "invalid bounds for min_interval_ms: max 1e15 is beyond ±3600000, the largest min_interval_ms can be"
        );
        assert_eq!(
            err(Param::BaseSpreadBpsDelta, bounds(-1e9, 0.25)),
            "invalid bounds for base_spread_bps_delta: min -1e9 is beyond ±1000, the largest base_spread_bps_delta can be"
        );
        for p in Param::ALL {
            let least = p.least().map_or(-p.largest(), |(least, _)| least.max(1.0));
            assert!(
                reg.clone()
                    .set_bounds(p, bounds(least.min(reg.spec(p).default), p.largest()))
                    .is_ok(),
                "{p}: up to its largest"
            );
            // Every reader and writer holds the largest exactly.
            assert!(p.largest() < 9_007_199_254_740_992.0);
        }
        assert!(reg
            .set_bounds(Param::MinIntervalMs, bounds(0.0, 100.0))
            .is_ok());
        assert!(reg
            .set_bounds(Param::BaseSpreadBpsDelta, bounds(-0.05, 0.25))
            .is_ok());
    }

    #[test]
    fn names_round_trip() {
        for p in Param::ALL {
            assert_eq!(p.name().parse::<Param>(), Ok(p));
            assert_eq!(
                serde_json::to_string(&p).ok(),
                Some(format!("\"{}\"", p.name()))
            );
        }
        assert!("min_interval".parse::<Param>().is_err());
    }

    #[test]
    fn read_paths_canonical_first() {
        assert_eq!(
            Param::TailAgeMs.read_paths(),
            vec![
                vec!["engine", "tail_age_ms"],
                vec!["tail_age_ms"],
                vec!["taker_rescue", "tail_age_ms"]
            ]
        );
        assert_eq!(Param::ConcurrencyLimit.read_paths().len(), 2);
    }

    #[test]
    fn quantize_kills_float_noise_and_rounds_integers() {
        assert_eq!(ParamKind::Real.quantize(0.1 - 0.01), 0.09);
        assert_eq!(ParamKind::Real.quantize(0.12 + 0.015), 0.135);
        assert_eq!(ParamKind::Real.quantize(-0.0), 0.0);
        assert_eq!(ParamKind::Integer.quantize(10.0 * 0.9), 9.0);
        assert_eq!(ParamKind::Integer.quantize(8.5), 9.0);
        assert_eq!(ParamKind::Integer.quantize(0.9), 1.0);
    }

    #[test]
    fn settle_clamps_at_both_bounds() {
        let reg = ParamRegistry::default();
        let spec = reg.spec(Param::MinIntervalMs);
        assert_eq!(spec.settle(100.0), (100.0, false));
        assert_eq!(spec.settle(100.4), (100.0, false)); // rounds to 100 first
        assert_eq!(spec.settle(100.6), (100.0, true));
        assert_eq!(spec.settle(40.0), (40.0, false));
        assert_eq!(spec.settle(39.0), (40.0, true));
    }

    #[test]
    fn set_bounds_validates() {
        let mut reg = ParamRegistry::default();
        assert!(reg
            .set_bounds(
                Param::TailAgeMs,
                Bounds {
                    min: 500.0,
                    max: 800.0
                }
            )
            .is_ok());
        assert_eq!(reg.spec(Param::TailAgeMs).bounds.max, 800.0);
        assert!(matches!(
            reg.set_bounds(
                Param::TailAgeMs,
                Bounds {
                    min: 700.0,
                    max: 800.0
                }
            ),
            Err(RegistryError::DefaultOutOfBounds { .. })
        ));
        assert!(matches!(
            reg.set_bounds(
                Param::TailAgeMs,
                Bounds {
                    min: 9.0,
                    max: f64::NAN
                }
            ),
            Err(RegistryError::InvalidBounds { .. })
        ));
    }
}
