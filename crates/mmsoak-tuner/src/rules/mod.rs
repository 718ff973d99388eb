//! The tuner's rules: one module per rule, holding its policy table (the
//! `[tuner.<table>]` keys with their defaults) and its [`TunerRule`]
//! implementation (condition, moves, rationale, aims).
//!
//! `registry!` lists them in evaluation order and makes of that one list
//! the [`Rule`] enum, the fields of [`TuningPolicy`] and
//! [`TuningPolicy::rules`], which `propose` iterates: adding a rule is one
//! module here and one line in the registry, and a test
//! (`tests/it/rules.rs`) fails when a registered rule can never fire.

use mmsoak_core::Param;
use serde::{Deserialize, Serialize};

use crate::policy::{Clause, ClauseOp, ConflictGuard, RuleInputs, RuleMove};

/// A KPI the rules read and mean to move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kpi {
    /// Maker share of the filled volume.
    MakerTakerRatio,
    /// Share of order requests blocked by risk limits.
    RiskRatio,
    /// Net edge, bps.
    NetBps,
    /// p95 order latency, ms.
    P95LatencyMs,
    /// p95 adverse selection, bps.
    AdverseBpsP95,
    /// p95 slippage, bps.
    SlippageBpsP95,
}

impl Kpi {
    /// The KPI's key, as conditions and artifacts spell it, e.g. `"net_bps"`.
    pub const fn key(self) -> &'static str {
        match self {
            Kpi::MakerTakerRatio => "maker_taker_ratio",
            Kpi::RiskRatio => "risk_ratio",
            Kpi::NetBps => "net_bps",
            Kpi::P95LatencyMs => "p95_latency_ms",
            Kpi::AdverseBpsP95 => "adverse_bps_p95",
            Kpi::SlippageBpsP95 => "slippage_bps_p95",
        }
    }

    /// The KPI's value in `k`.
    pub fn value(self, k: &RuleInputs) -> Option<f64> {
        match self {
            Kpi::MakerTakerRatio => k.maker_taker_ratio,
            Kpi::RiskRatio => k.risk_ratio,
            Kpi::NetBps => k.net_bps,
            Kpi::P95LatencyMs => k.p95_latency_ms,
            Kpi::AdverseBpsP95 => k.adverse_bps_p95,
            Kpi::SlippageBpsP95 => k.slippage_bps_p95,
        }
    }

    /// A clause `kpi op threshold` on `k`.
    pub fn clause(self, k: &RuleInputs, op: ClauseOp, threshold: f64) -> Clause {
        Clause::new(self.key(), self.value(k), op, threshold)
    }
}

/// Which way a move is meant to push a KPI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Raise it.
    Up,
    /// Lower it.
    Down,
}

/// What one of a rule's moves is meant to do: move `param` (in the
/// direction its configured amount or factor takes it) to push `kpi` the
/// `direction` way. The policy lint reads these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Aim {
    /// The parameter moved.
    pub param: Param,
    /// The KPI the move is meant to help.
    pub kpi: Kpi,
    /// Which way it should go.
    pub direction: Direction,
}

impl Aim {
    const fn new(param: Param, kpi: Kpi, direction: Direction) -> Self {
        Aim {
            param,
            kpi,
            direction,
        }
    }
}

/// Rules of which at most one fires in a proposal (their conditions
/// exclude each other under a valid policy; the first that holds wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Exclusive {
    /// `RISK_AGGRESSIVE`, `RISK_MODERATE`, `RISK_NORMALIZE`.
    RiskZone,
    /// `LATENCY_BUFFER`, `LATENCY_HARD`.
    LatencyBand,
}

/// What the tuner remembers for a rule that needs the past.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RuleMemory {
    /// Consecutive negative iterations, this one included.
    pub negative_streak: u32,
    /// Iterations the fallback must still wait before it may fire again.
    pub fallback_cooldown: u32,
}

/// What a rule decides on one iteration.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// It does not fire.
    Silent,
    /// It fires: its moves are proposed. `why` restates the condition with
    /// the KPIs' values; `cooldown` is the fallback's wait after firing.
    Fire {
        /// The condition, e.g. `risk=0.62 >= 0.6`.
        why: String,
        /// Iterations to wait before it may fire again, if it has a cooldown.
        cooldown: Option<u32>,
    },
    /// Its condition holds but it waits (a cooldown); the note says why.
    HoldBack {
        /// E.g. `FALLBACK_CONSERVATIVE held back: ...`.
        note: String,
    },
}

/// What every rule's table is: which rule, and whether the policy lets it
/// fire (its `enabled` key). Implemented by `registry!` for each table.
pub trait RuleTable {
    /// The rule.
    fn rule(&self) -> Rule;

    /// Whether the policy lets it fire.
    fn enabled(&self) -> bool;
}

/// One rule of the tuner: a policy table that knows its condition, its
/// moves and why. Implemented by each table type in [`crate::rules`].
pub trait TunerRule: RuleTable {
    /// The group of rules of which at most one fires, if any.
    fn exclusive(&self) -> Option<Exclusive> {
        None
    }

    /// Its condition on `k`: the clauses that must all hold (`policy` for
    /// the thresholds of other tables it is bounded by).
    fn condition(&self, policy: &TuningPolicy, k: &RuleInputs) -> Vec<Clause>;

    /// The condition restated with the KPIs' values, for the rationale
    /// (the predecessor's wording: `risk=`, `maker/taker=`).
    fn why(&self, policy: &TuningPolicy, k: &RuleInputs) -> String;

    /// Its moves, in the order they are proposed.
    fn moves(&self) -> Vec<RuleMove>;

    /// What each move is meant to do.
    fn aims(&self) -> Vec<Aim>;

    /// Its thresholds, `(key below the table, value)`, for validation.
    fn thresholds(&self) -> Vec<(&'static str, f64)>;

    /// Whether it fires on `k`: when enabled and its condition holds.
    fn decide(&self, policy: &TuningPolicy, k: &RuleInputs, _memory: &RuleMemory) -> Decision {
        if self.enabled() && holds(&self.condition(policy, k)) == Some(true) {
            Decision::Fire {
                why: self.why(policy, k),
                cooldown: None,
            }
        } else {
            Decision::Silent
        }
    }
}

/// Why a latency rule stands down, if it does: the latency floor (round
/// trips as if sent with nothing else in flight) is already in the band
/// where the latency rules fire (at or above `LATENCY_BUFFER`'s
/// `p95_latency_ms_min`), so fewer orders in flight cannot bring p95 out of
/// it; cutting concurrency would only disable replaces. The latency comes
/// from outside the bot (environment-bound).
pub(crate) fn latency_stand_down(
    rule: Rule,
    policy: &TuningPolicy,
    k: &RuleInputs,
) -> Option<String> {
    let floor = k.latency_floor_ms?;
    let band = policy.latency_buffer.p95_latency_ms_min;
    (floor >= band).then(|| {
        format!(
            "{rule} stands down: latency_floor_ms={floor} >= {band}: round trips are that \
             slow with nothing else in flight, so fewer orders in flight cannot bring p95 \
             down (environment-bound)"
        )
    })
}

/// A latency rule's decision: it fires when enabled and its condition
/// holds, unless the latency floor makes it stand down.
pub(crate) fn decide_latency<R: TunerRule + ?Sized>(
    r: &R,
    policy: &TuningPolicy,
    k: &RuleInputs,
) -> Decision {
    if !(r.enabled() && holds(&r.condition(policy, k)) == Some(true)) {
        return Decision::Silent;
    }
    match latency_stand_down(r.rule(), policy, k) {
        Some(note) => Decision::HoldBack { note },
        None => Decision::Fire {
            why: r.why(policy, k),
            cooldown: None,
        },
    }
}

/// Whether all `clauses` hold: `Some(false)` when one fails, else `None`
/// when a KPI one reads is absent.
pub(crate) fn holds(clauses: &[Clause]) -> Option<bool> {
    if clauses.iter().any(|c| c.holds() == Some(false)) {
        Some(false)
    } else {
        clauses.iter().all(|c| c.holds().is_some()).then_some(true)
    }
}

/// A KPI's value as a rationale shows it (`Display` of the number).
pub(crate) fn shown(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_owned(), |v| v.to_string())
}

/// The first of its arguments.
macro_rules! first {
    ($first:literal $(, $rest:literal)*) => {
        $first
    };
}

/// The registry: each rule's module and table type, in evaluation order,
/// with the documentation of its `TuningPolicy` field, its name and its
/// tracing marker when that is not the name. Generates the
/// modules, [`Rule`] (named after the table types), the fields of
/// [`TuningPolicy`] (named after the modules, which are the `[tuner.*]`
/// table names) and [`TuningPolicy::rules`].
macro_rules! registry {
    ($(
        $(#[$doc:meta])*
        $module:ident :: $Type:ident = $name:literal $(, marker $marker:literal)?
    );+ $(;)?) => {
        $( pub mod $module; )+
        $( pub use $module::$Type; )+
        $(
            impl RuleTable for $Type {
                fn rule(&self) -> Rule {
                    Rule::$Type
                }

                fn enabled(&self) -> bool {
                    self.enabled
                }
            }
        )+

        /// A rule that may propose operations, in evaluation order.
        ///
        /// Serialized as its name, e.g. `"MAKER_BOOST"`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
        pub enum Rule {
            $( $(#[$doc])* $Type, )+
        }

        impl Rule {
            /// Every rule, in evaluation order.
            pub const ALL: [Rule; [$(stringify!($Type)),+].len()] = [$(Rule::$Type),+];

            /// The rule's name, e.g. `"RISK_AGGRESSIVE"`.
            pub const fn name(self) -> &'static str {
                match self {
                    $( Rule::$Type => $name, )+
                }
            }

            /// The `marker` field of the rule's tracing event: the name,
            /// except `DRIVER` for both edge-driver rules.
            pub const fn marker(self) -> &'static str {
                match self {
                    $( Rule::$Type => first!($($marker,)? $name), )+
                }
            }

            /// The policy table of the rule, e.g. `"risk_aggressive"` for
            /// `[tuner.risk_aggressive]`.
            pub const fn table(self) -> &'static str {
                match self {
                    $( Rule::$Type => stringify!($module), )+
                }
            }
        }

        /// The tuner's policy: one table per rule, each with its conditions
        /// and moves, and the conflict guard.
        ///
        /// Every table is optional in a file and every key within it too:
        /// what is not given keeps its default (the defaults are the rules
        /// as documented in `docs/policy.md`). Unknown keys are errors.
        ///
        /// ```
        /// use mmsoak_tuner::TuningPolicy;
        /// let policy = TuningPolicy::from_toml_str(
        ///     "[tuner.risk_aggressive]\nmin_interval_ms_cap = 90\n",
        ///     "soak_policy.toml".as_ref(),
        /// )?;
        /// assert_eq!(policy.risk_aggressive.min_interval_ms_cap, Some(90.0));
        /// assert_eq!(policy.risk_aggressive.risk_ratio_min, 0.60); // default kept
        /// # Ok::<(), mmsoak_tuner::PolicyError>(())
        /// ```
        #[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct TuningPolicy {
            $( $(#[$doc])* pub $module: $module::$Type, )+
            /// The conflict guard: no spread widening together with a
            /// speed-up under risk.
            pub conflict: ConflictGuard,
        }

        impl TuningPolicy {
            /// Every rule's table, in evaluation order.
            pub fn rules(&self) -> [&dyn TunerRule; Rule::ALL.len()] {
                [$( &self.$module ),+]
            }

            /// `rule`'s table.
            pub fn rule(&self, rule: Rule) -> &dyn TunerRule {
                match rule {
                    $( Rule::$Type => &self.$module, )+
                }
            }
        }
    };
}

registry! {
    /// `RISK_AGGRESSIVE`: risk_ratio at or above a threshold.
    risk_aggressive::RiskAggressive = "RISK_AGGRESSIVE";
    /// `RISK_MODERATE`: risk_ratio at or above a lower threshold.
    risk_moderate::RiskModerate = "RISK_MODERATE";
    /// `RISK_NORMALIZE`: low risk and a healthy edge; speed back up.
    risk_normalize::RiskNormalize = "RISK_NORMALIZE";
    /// `MAKER_BOOST`: too much taking while risk and edge allow quoting wider and slower.
    maker_boost::MakerBoost = "MAKER_BOOST";
    /// `LATENCY_BUFFER`: p95 latency in the soft band.
    latency_buffer::LatencyBuffer = "LATENCY_BUFFER";
    /// `LATENCY_HARD`: p95 latency above the soft band.
    latency_hard::LatencyHard = "LATENCY_HARD";
    /// `DRIVER_ADVERSE`: adverse selection drives the edge down.
    driver_adverse::DriverAdverse = "DRIVER_ADVERSE", marker "DRIVER";
    /// `DRIVER_SLIPPAGE`: slippage drives the edge down.
    driver_slippage::DriverSlippage = "DRIVER_SLIPPAGE", marker "DRIVER";
    /// `FALLBACK_CONSERVATIVE`: negative edge in consecutive iterations.
    fallback_conservative::FallbackConservative = "FALLBACK_CONSERVATIVE";
}
