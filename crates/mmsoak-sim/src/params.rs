//! The eight tuned parameters, as the bot reads them.

use mmsoak_core::{Param, ParamRegistry, RuntimeOverrides};

/// The parameter values in force for an iteration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimParams {
    /// Base half-spread, in the bot's spread units.
    pub base_spread_bps: f64,
    /// Added to the base half-spread.
    pub base_spread_bps_delta: f64,
    /// Order size as a share of top-of-book depth.
    pub impact_cap_ratio: f64,
    /// Position limit as a share of the scenario's capital.
    pub max_delta_ratio: f64,
    /// Requote budget per minute.
    pub replace_rate_per_min: f64,
    /// Orders in flight at most.
    pub concurrency_limit: f64,
    /// Quotes older than this are cancelled; also the wait before flattening, ms.
    pub tail_age_ms: f64,
    /// Minimum time between two quotes on one side, ms.
    pub min_interval_ms: f64,
}

impl SimParams {
    /// The registry defaults.
    pub fn defaults(registry: &ParamRegistry) -> SimParams {
        SimParams::from_overrides(&RuntimeOverrides::new(), registry)
    }

    /// The values in force: the overrides, else the registry defaults.
    pub fn from_overrides(overrides: &RuntimeOverrides, registry: &ParamRegistry) -> SimParams {
        let v = |p| overrides.value(p, registry);
        SimParams {
            base_spread_bps: v(Param::BaseSpreadBps),
            base_spread_bps_delta: v(Param::BaseSpreadBpsDelta),
            impact_cap_ratio: v(Param::ImpactCapRatio),
            max_delta_ratio: v(Param::MaxDeltaRatio),
            replace_rate_per_min: v(Param::ReplaceRatePerMin),
            concurrency_limit: v(Param::ConcurrencyLimit),
            tail_age_ms: v(Param::TailAgeMs),
            min_interval_ms: v(Param::MinIntervalMs),
        }
    }

    /// The value of one parameter.
    pub fn get(&self, param: Param) -> f64 {
        match param {
            Param::BaseSpreadBps => self.base_spread_bps,
            Param::BaseSpreadBpsDelta => self.base_spread_bps_delta,
            Param::ImpactCapRatio => self.impact_cap_ratio,
            Param::MaxDeltaRatio => self.max_delta_ratio,
            Param::ReplaceRatePerMin => self.replace_rate_per_min,
            Param::ConcurrencyLimit => self.concurrency_limit,
            Param::TailAgeMs => self.tail_age_ms,
            Param::MinIntervalMs => self.min_interval_ms,
        }
    }

    /// The same values with one parameter changed.
    pub fn with(mut self, param: Param, value: f64) -> SimParams {
        let slot = match param {
            Param::BaseSpreadBps => &mut self.base_spread_bps,
            Param::BaseSpreadBpsDelta => &mut self.base_spread_bps_delta,
            Param::ImpactCapRatio => &mut self.impact_cap_ratio,
            Param::MaxDeltaRatio => &mut self.max_delta_ratio,
            Param::ReplaceRatePerMin => &mut self.replace_rate_per_min,
            Param::ConcurrencyLimit => &mut self.concurrency_limit,
            Param::TailAgeMs => &mut self.tail_age_ms,
            Param::MinIntervalMs => &mut self.min_interval_ms,
        };
        *slot = value;
        self
    }

    pub(crate) fn check(&self) -> Result<(), crate::SimError> {
        for p in Param::ALL {
            let v = self.get(p);
            if !v.is_finite() || v < 0.0 {
                return Err(crate::SimError::Param {
                    param: p.name(),
                    value: v,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_win_over_defaults() {
        let reg = ParamRegistry::default();
        let mut ov = RuntimeOverrides::new();
        ov.set(Param::ConcurrencyLimit, 7.0).expect("finite");
        let p = SimParams::from_overrides(&ov, &reg);
        assert_eq!(p.concurrency_limit, 7.0);
        assert_eq!(p.base_spread_bps, reg.spec(Param::BaseSpreadBps).default);
        for param in Param::ALL {
            assert_eq!(p.with(param, 0.5).get(param), 0.5);
        }
    }
}
