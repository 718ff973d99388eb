//! [`TuningPolicy`]: every number the tuner's rules use, loadable from the
//! `[tuner]` table of a soak policy file.

use std::fmt;
use std::path::{Path, PathBuf};

use mmsoak_core::input::{excerpt, limits, line_column, read_text};
use mmsoak_core::{Delta, InputError, Param};
use serde::{Deserialize, Serialize};

use crate::rule::Rule;
use crate::rules::{holds, TuningPolicy};

/// Top-level tables a soak policy file may hold. Only `[tuner]` is read
/// here; the others belong to the guards, the gate and the registry bounds.
pub const POLICY_TABLES: [&str; 4] = ["tuner", "guards", "gate", "bounds"];

/// `[tuner.conflict]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConflictGuard {
    /// Whether the guard is applied.
    pub enabled: bool,
    /// Applies when `risk_ratio >= risk_ratio_min`: a proposal that widens
    /// the spread (base_spread_bps or base_spread_bps_delta up) and lowers
    /// min_interval_ms loses the min_interval_ms decrease.
    pub risk_ratio_min: f64,
}

impl Default for ConflictGuard {
    fn default() -> Self {
        ConflictGuard {
            enabled: true,
            risk_ratio_min: 0.40,
        }
    }
}

/// One move a rule makes on one parameter, as the policy configures it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RuleMove {
    /// The parameter.
    pub param: Param,
    /// `Add` or `Scale` as configured (the proposed operation may differ
    /// when a limit binds: see [`crate::propose`]).
    pub delta: Delta,
    /// The value is never raised above this by the move.
    pub cap: Option<f64>,
    /// The value is never lowered below this by the move.
    pub floor: Option<f64>,
}

impl RuleMove {
    pub(crate) const fn add(
        param: Param,
        amount: f64,
        cap: Option<f64>,
        floor: Option<f64>,
    ) -> Self {
        RuleMove {
            param,
            delta: Delta::Add(amount),
            cap,
            floor,
        }
    }

    pub(crate) const fn scale(
        param: Param,
        factor: f64,
        cap: Option<f64>,
        floor: Option<f64>,
    ) -> Self {
        RuleMove {
            param,
            delta: Delta::Scale(factor),
            cap,
            floor,
        }
    }

    /// The policy key holding the amount or factor, e.g. `min_interval_ms_add`.
    pub fn key(&self) -> String {
        format!("{}_{}", self.param.name(), self.delta.name())
    }
}

/// The KPIs a rule's condition reads, `None` where the iteration has none.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RuleInputs {
    /// Risk-blocked ratio.
    pub risk_ratio: Option<f64>,
    /// Maker share.
    pub maker_taker_ratio: Option<f64>,
    /// Net edge, bps.
    pub net_bps: Option<f64>,
    /// p95 order latency, ms.
    pub p95_latency_ms: Option<f64>,
    /// p95 adverse selection, bps.
    pub adverse_bps_p95: Option<f64>,
    /// p95 slippage, bps.
    pub slippage_bps_p95: Option<f64>,
    /// The latency floor, ms: p95 of round trips as if sent with nothing
    /// else in flight (bots that report it). The latency rules stand down
    /// when it alone is in their band.
    pub latency_floor_ms: Option<f64>,
}

impl From<&mmsoak_core::IterationKpis> for RuleInputs {
    fn from(k: &mmsoak_core::IterationKpis) -> Self {
        RuleInputs {
            risk_ratio: Some(k.risk_ratio),
            maker_taker_ratio: Some(k.maker_taker_ratio),
            net_bps: k.net_bps,
            p95_latency_ms: k.p95_latency_ms,
            adverse_bps_p95: k.adverse_bps_p95,
            slippage_bps_p95: k.slippage_bps_p95,
            latency_floor_ms: k.latency_floor_ms,
        }
    }
}

/// How a [`Clause`] compares a KPI with its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClauseOp {
    /// value < threshold.
    Below,
    /// value <= threshold.
    AtMost,
    /// value > threshold.
    Above,
    /// value >= threshold.
    AtLeast,
}

impl ClauseOp {
    /// The operator as written in a condition: `<`, `<=`, `>`, `>=`.
    pub fn as_str(self) -> &'static str {
        match self {
            ClauseOp::Below => "<",
            ClauseOp::AtMost => "<=",
            ClauseOp::Above => ">",
            ClauseOp::AtLeast => ">=",
        }
    }
}

/// One comparison of a rule's condition, `kpi op threshold`, with the
/// iteration's value of the KPI. A condition holds when all its clauses do.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clause {
    /// The KPI's name in the iteration summary, e.g. `net_bps`.
    pub kpi: &'static str,
    /// The comparison.
    pub op: ClauseOp,
    /// The policy's threshold.
    pub threshold: f64,
    /// The iteration's value; `None` when it has none.
    pub value: Option<f64>,
}

impl Clause {
    pub(crate) fn new(
        kpi: &'static str,
        value: Option<f64>,
        op: ClauseOp,
        threshold: f64,
    ) -> Clause {
        Clause {
            kpi,
            op,
            threshold,
            value,
        }
    }

    /// What the clause requires, without the value: `net_bps >= 2.7`.
    pub fn requirement(&self) -> String {
        format!("{} {} {}", self.kpi, self.op.as_str(), self.threshold)
    }

    /// Whether the clause holds; `None` when the value is absent.
    pub fn holds(&self) -> Option<bool> {
        let (v, t) = (self.value?, self.threshold);
        Some(match self.op {
            ClauseOp::Below => v < t,
            ClauseOp::AtMost => v <= t,
            ClauseOp::Above => v > t,
            ClauseOp::AtLeast => v >= t,
        })
    }
}

/// `net_bps=1.3 >= 2.7`, or `net_bps=absent >= 2.7`; the value rounded to
/// 6 decimals (`maker_taker_ratio=0.839108`, not `0.8391078207999036`)
/// unless rounding would put it on the other side of the threshold.
impl fmt::Display for Clause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.value {
            Some(v) => {
                // `+ 0.0` turns a rounded -0 into 0.
                let rounded = (v * 1e6).round() / 1e6 + 0.0;
                let same_side = Clause {
                    value: Some(rounded),
                    ..*self
                }
                .holds()
                    == self.holds();
                let shown = if rounded.is_finite() && same_side {
                    rounded
                } else {
                    v
                };
                write!(f, "{}={shown}", self.kpi)?;
            }
            None => write!(f, "{}=absent", self.kpi)?,
        }
        write!(f, " {} {}", self.op.as_str(), self.threshold)
    }
}

impl TuningPolicy {
    /// `rule`'s condition on `k`, as the clauses that must all hold,
    /// whatever the rule's `enabled`. The risk zones and latency bands are
    /// exclusive as the tuner evaluates them (a moderate risk is below the
    /// aggressive threshold; a normal one below the moderate). For
    /// `FALLBACK_CONSERVATIVE` this is "this iteration is negative"; the
    /// streak and cooldown are the tuner's memory.
    ///
    /// ```
    /// use mmsoak_tuner::{Rule, RuleInputs, TuningPolicy};
    /// let p = TuningPolicy::default();
    /// let k = RuleInputs { risk_ratio: Some(0.2), maker_taker_ratio: Some(0.8), net_bps: Some(1.3),
    ///                      ..RuleInputs::default() };
    /// let failing: Vec<String> = p.condition(Rule::MakerBoost, &k).iter()
    ///     .filter(|c| c.holds() == Some(false)).map(|c| c.to_string()).collect();
    /// assert_eq!(failing, ["net_bps=1.3 >= 2.7"]);
    /// assert_eq!(p.condition(Rule::MakerBoost, &k)[2].requirement(), "net_bps >= 2.7");
    /// ```
    pub fn condition(&self, rule: Rule, k: &RuleInputs) -> Vec<Clause> {
        self.rule(rule).condition(self, k)
    }

    /// Whether `rule`'s [`condition`](Self::condition) holds for `k`,
    /// whatever its `enabled`: `Some(false)` when a clause fails, else
    /// `None` when a KPI the condition reads is absent.
    ///
    /// ```
    /// use mmsoak_tuner::{Rule, RuleInputs, TuningPolicy};
    /// let p = TuningPolicy::default();
    /// let k = RuleInputs { p95_latency_ms: Some(372.5), ..RuleInputs::default() };
    /// assert_eq!(p.condition_holds(Rule::LatencyHard, &k), Some(true));
    /// assert_eq!(p.condition_holds(Rule::LatencyBuffer, &k), Some(false));
    /// assert_eq!(p.condition_holds(Rule::RiskModerate, &k), None);
    /// ```
    pub fn condition_holds(&self, rule: Rule, k: &RuleInputs) -> Option<bool> {
        holds(&self.condition(rule, k))
    }

    /// Whether `rule` is enabled by the policy.
    pub fn enabled(&self, rule: Rule) -> bool {
        self.rule(rule).enabled()
    }

    /// The moves of `rule`, in the order they are proposed.
    pub fn rule_moves(&self, rule: Rule) -> Vec<RuleMove> {
        self.rule(rule).moves()
    }

    /// Read the `[tuner]` table of a soak policy file.
    pub fn from_path(file: &Path) -> Result<Self, PolicyError> {
        let text = read_text(file, limits::POLICY)?;
        Self::from_toml_str(&text, file)
    }

    /// Parse a soak policy document that came from `file` (named in errors).
    ///
    /// Top-level keys must be among [`POLICY_TABLES`]; only `[tuner]` is
    /// interpreted (the other tables must be tables; their owners validate
    /// their contents). A document without `[tuner]` gives the defaults.
    pub fn from_toml_str(text: &str, file: &Path) -> Result<Self, PolicyError> {
        let document: PolicyDocument =
            serde_path_to_error::deserialize(toml::Deserializer::new(text)).map_err(|e| {
                let path = e.path().to_string();
                let inner = e.into_inner();
                let (line, column) = inner
                    .span()
                    .map(|s| line_column(text, s.start))
                    .unwrap_or((0, 0));
                PolicyError::Toml {
                    file: file.to_owned(),
                    key: (path != ".").then(|| excerpt(&path).into_owned()),
                    line,
                    column,
                    message: excerpt(inner.message()).into_owned(),
                }
            })?;
        document
            .tuner
            .validate()
            .map_err(|source| PolicyError::Invalid {
                file: file.to_owned(),
                source,
            })?;
        Ok(document.tuner)
    }

    /// The effective policy as a TOML document with a `[tuner.*]` table per
    /// rule; [`TuningPolicy::from_toml_str`] reads it back to the same policy.
    pub fn to_toml_string(&self) -> String {
        #[derive(Serialize)]
        struct Out<'a> {
            tuner: &'a TuningPolicy,
        }
        // A struct of numbers, booleans and optional numbers always has a TOML form.
        toml::to_string(&Out { tuner: self }).unwrap_or_default()
    }

    /// Check the policy: every number finite, factors positive, and the
    /// zones ordered so that at most one risk zone and one latency band apply.
    pub fn validate(&self) -> Result<(), InvalidPolicy> {
        let thresholds = self
            .rules()
            .into_iter()
            .flat_map(|r| {
                let table = r.rule().table();
                r.thresholds()
                    .into_iter()
                    .map(move |(key, value)| (format!("{table}.{key}"), value))
            })
            .chain([(
                "conflict.risk_ratio_min".to_owned(),
                self.conflict.risk_ratio_min,
            )]);
        for (key, value) in thresholds {
            if !value.is_finite() {
                return Err(InvalidPolicy::new(
                    &key,
                    format!("is {value}, not a finite number"),
                ));
            }
        }
        for rule in self.rules() {
            let table = rule.rule().table();
            for m in rule.moves() {
                let operand = m.delta.operand();
                let key = format!("{table}.{}", m.key());
                if !operand.is_finite() {
                    return Err(InvalidPolicy::new(
                        &key,
                        format!("is {operand}, not a finite number"),
                    ));
                }
                if matches!(m.delta, Delta::Scale(_)) && operand <= 0.0 {
                    return Err(InvalidPolicy::new(
                        &key,
                        format!("is {operand}; a factor must be positive"),
                    ));
                }
                for (limit, value) in [("cap", m.cap), ("floor", m.floor)] {
                    if let Some(v) = value.filter(|v| !v.is_finite()) {
                        let key = format!("{table}.{}_{limit}", m.param.name());
                        return Err(InvalidPolicy::new(
                            &key,
                            format!("is {v}, not a finite number"),
                        ));
                    }
                }
            }
        }
        let order = |low_key: &str, low: f64, high_key: &str, high: f64| {
            if low > high {
                Err(InvalidPolicy::new(
                    low_key,
                    format!("is {low}, above `tuner.{high_key}` ({high}): the zones would overlap"),
                ))
            } else {
                Ok(())
            }
        };
        order(
            "risk_moderate.risk_ratio_min",
            self.risk_moderate.risk_ratio_min,
            "risk_aggressive.risk_ratio_min",
            self.risk_aggressive.risk_ratio_min,
        )?;
        order(
            "risk_normalize.risk_ratio_below",
            self.risk_normalize.risk_ratio_below,
            "risk_moderate.risk_ratio_min",
            self.risk_moderate.risk_ratio_min,
        )?;
        order(
            "latency_buffer.p95_latency_ms_min",
            self.latency_buffer.p95_latency_ms_min,
            "latency_buffer.p95_latency_ms_max",
            self.latency_buffer.p95_latency_ms_max,
        )?;
        order(
            "latency_buffer.p95_latency_ms_max",
            self.latency_buffer.p95_latency_ms_max,
            "latency_hard.p95_latency_ms_above",
            self.latency_hard.p95_latency_ms_above,
        )?;
        if self.fallback_conservative.consecutive_iterations == 0 {
            return Err(InvalidPolicy::new(
                "fallback_conservative.consecutive_iterations",
                "is 0; it must be at least 1".to_owned(),
            ));
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyDocument {
    #[serde(default)]
    tuner: TuningPolicy,
    // Validated by their owners (guards, gate, registry bounds).
    #[serde(default, rename = "guards")]
    _guards: Option<toml::Table>,
    #[serde(default, rename = "gate")]
    _gate: Option<toml::Table>,
    #[serde(default, rename = "bounds")]
    _bounds: Option<toml::Table>,
}

/// A policy value that parses but cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`tuner.{key}` {problem}")]
pub struct InvalidPolicy {
    /// Key path below `tuner`, e.g. `latency_hard.concurrency_limit_scale`.
    pub key: String,
    /// What is wrong.
    pub problem: String,
}

impl InvalidPolicy {
    fn new(key: &str, problem: String) -> Self {
        InvalidPolicy {
            key: key.to_owned(),
            problem,
        }
    }
}

/// A policy file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The file could not be read (missing, not a regular file, over
    /// [`limits::POLICY`], not UTF-8).
    #[error(transparent)]
    Input(#[from] InputError),
    /// Not TOML, an unknown key, or a value of the wrong type.
    #[error("{}: {}{message} (line {line}, column {column})", file.display(), KeyPrefix(key.as_deref()))]
    Toml {
        /// The file.
        file: PathBuf,
        /// Dotted key path of the offending entry, e.g. `tuner.latency_hard.tail_age_ms_cap`;
        /// `None` for syntax errors.
        key: Option<String>,
        /// 1-based line (0 when unknown).
        line: usize,
        /// 1-based column (0 when unknown).
        column: usize,
        /// What the TOML reader said, e.g. `invalid type: string "x", expected f64`.
        message: String,
    },
    /// A value that parses but cannot be used (NaN, a non-positive factor, overlapping zones).
    #[error("{}", file.display())]
    Invalid {
        /// The file.
        file: PathBuf,
        /// What is wrong.
        #[source]
        source: InvalidPolicy,
    },
}

impl PolicyError {
    /// Dotted key path of the offending entry, when the error is about one
    /// (e.g. `tuner.maker_boost.net_bps_min`).
    pub fn key(&self) -> Option<String> {
        match self {
            PolicyError::Input(_) => None,
            PolicyError::Toml { key, .. } => key.clone(),
            PolicyError::Invalid { source, .. } => Some(format!("tuner.{}", source.key)),
        }
    }
}

struct KeyPrefix<'a>(Option<&'a str>);

impl fmt::Display for KeyPrefix<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(key) => write!(f, "`{key}`: "),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<TuningPolicy, PolicyError> {
        TuningPolicy::from_toml_str(text, Path::new("soak_policy.toml"))
    }

    #[track_caller]
    fn check_err(text: &str, key: &str, message_part: &str) {
        let err = parse(text).expect_err("policy should be rejected");
        assert_eq!(err.key().as_deref(), Some(key), "{err}");
        let msg = mmsoak_core::ErrorChain(&err).to_string();
        assert!(msg.starts_with("soak_policy.toml: "), "{msg}");
        assert!(msg.contains(key), "{msg}");
        assert!(msg.contains(message_part), "{msg}");
    }

    #[test]
    fn defaults_are_the_documented_rules() {
        let p = TuningPolicy::default();
        assert_eq!(p.risk_aggressive.risk_ratio_min, 0.60);
        assert_eq!(p.risk_moderate.min_interval_ms_cap, Some(75.0));
        assert_eq!(p.risk_normalize.min_interval_ms_floor, Some(50.0));
        assert_eq!(p.maker_boost.maker_taker_below, 0.85);
        assert_eq!(p.maker_boost.net_bps_min, 2.7);
        assert_eq!(p.latency_buffer.p95_latency_ms_max, 360.0);
        assert_eq!(p.latency_hard.tail_age_ms_cap, Some(800.0));
        assert_eq!(p.latency_buffer.tail_age_ms_cap, Some(800.0)); // the predecessor caps both bands
        assert_eq!(p.driver_slippage.base_spread_bps_delta_cap, Some(0.25));
        assert_eq!(
            p.fallback_conservative.replace_rate_per_min_floor,
            Some(150.0)
        );
        assert_eq!(p.conflict.risk_ratio_min, 0.40);
        assert_eq!(p.validate(), Ok(()));
    }

    #[test]
    fn empty_and_partial_documents_keep_defaults() {
        assert_eq!(parse("").expect("empty"), TuningPolicy::default());
        let p = parse(
            "[guards]\ncooldown_iters = 3\n[gate]\nx = 1\n[bounds.tail_age_ms]\nmin = 300\nmax = 900\n\
             [tuner.latency_hard]\ntail_age_ms_add = 60\n",
        )
        .expect("partial");
        let mut expected = TuningPolicy::default();
        expected.latency_hard.tail_age_ms_add = 60.0;
        assert_eq!(p, expected);
    }

    #[test]
    fn unknown_keys_are_named() {
        check_err(
            "[tuner.latency_hard]\ntail_age_cap = 800\n",
            "tuner.latency_hard.tail_age_cap",
            "unknown field",
        );
        check_err(
            "[tuner.latency_soft]\n",
            "tuner.latency_soft",
            "unknown field",
        );
        check_err("[tuners]\n", "tuners", "unknown field");
        check_err("cooldown = 3\n", "cooldown", "unknown field");
    }

    #[test]
    fn wrong_types_name_the_key_and_the_expected_type() {
        check_err(
            "[tuner.maker_boost]\nnet_bps_min = \"2.7\"\n",
            "tuner.maker_boost.net_bps_min",
            "expected f64",
        );
        check_err(
            "[tuner.fallback_conservative]\nconsecutive_iterations = 1.5\n",
            "tuner.fallback_conservative.consecutive_iterations",
            "expected u32",
        );
        check_err(
            "[tuner.conflict]\nenabled = 1\n",
            "tuner.conflict.enabled",
            "expected a boolean",
        );
        check_err(
            "[tuner]\nrisk_moderate = 3\n",
            "tuner.risk_moderate",
            "expected struct RiskModerate",
        );
        check_err("guards = 3\n", "guards", "expected a map");
        let err = parse("[tuner.maker_boost]\nnet_bps_min = \"2.7\"\n").expect_err("string");
        assert!(err.to_string().contains("(line 2, column 15)"), "{err}");
    }

    #[test]
    fn syntax_errors_give_a_position() {
        let err = parse("[tuner.maker_boost\n").expect_err("syntax");
        assert_eq!(err.key(), None);
        assert!(err.to_string().contains("line 1"), "{err}");
    }

    #[test]
    fn unusable_values_are_named() {
        check_err(
            "[tuner.maker_boost]\nnet_bps_min = nan\n",
            "tuner.maker_boost.net_bps_min",
            "not a finite number",
        );
        check_err(
            "[tuner.latency_hard]\ntail_age_ms_cap = inf\n",
            "tuner.latency_hard.tail_age_ms_cap",
            "not a finite number",
        );
        check_err(
            "[tuner.latency_hard]\nconcurrency_limit_scale = 0\n",
            "tuner.latency_hard.concurrency_limit_scale",
            "must be positive",
        );
        check_err(
            "[tuner.risk_moderate]\nrisk_ratio_min = 0.7\n",
            "tuner.risk_moderate.risk_ratio_min",
            "overlap",
        );
        check_err(
            "[tuner.latency_hard]\np95_latency_ms_above = 350\n",
            "tuner.latency_buffer.p95_latency_ms_max",
            "overlap",
        );
        check_err(
            "[tuner.fallback_conservative]\nconsecutive_iterations = 0\n",
            "tuner.fallback_conservative.consecutive_iterations",
            "at least 1",
        );
    }

    #[test]
    fn printed_policy_reads_back() {
        let text = TuningPolicy::default().to_toml_string();
        assert!(text.contains("[tuner.risk_aggressive]"), "{text}");
        assert!(text.contains("min_interval_ms_cap = 80.0"), "{text}");
        assert!(
            !text.contains("base_spread_bps_cap"),
            "absent caps are not printed: {text}"
        );
        assert_eq!(parse(&text).expect("round trip"), TuningPolicy::default());
        let mut p = TuningPolicy::default();
        p.maker_boost.base_spread_bps_cap = Some(0.3);
        p.fallback_conservative.cooldown_iterations = 3;
        assert_eq!(parse(&p.to_toml_string()).expect("round trip"), p);
    }

    #[test]
    fn missing_file_is_named() {
        let err = TuningPolicy::from_path(Path::new("/nonexistent/soak_policy.toml"))
            .expect_err("missing");
        assert!(
            err.to_string().contains("/nonexistent/soak_policy.toml"),
            "{err}"
        );
    }

    #[test]
    fn every_rule_has_moves_with_systematic_keys() {
        let p = TuningPolicy::default();
        for rule in Rule::ALL {
            assert!(!p.rule_moves(rule).is_empty(), "{rule:?}");
        }
        let keys: Vec<String> = p
            .rule_moves(Rule::MakerBoost)
            .iter()
            .map(RuleMove::key)
            .collect();
        assert_eq!(
            keys,
            [
                "base_spread_bps_add",
                "replace_rate_per_min_scale",
                "min_interval_ms_add"
            ]
        );
    }

    #[test]
    fn a_condition_is_its_clauses() {
        let p = TuningPolicy::default();
        let k = RuleInputs {
            risk_ratio: Some(0.5),
            net_bps: None,
            ..RuleInputs::default()
        };
        // RISK_NORMALIZE: risk < 0.35 fails, net is absent: the condition
        // cannot hold whatever net is.
        let c = p.condition(Rule::RiskNormalize, &k);
        assert_eq!(
            c.iter().map(Clause::holds).collect::<Vec<_>>(),
            [Some(false), None]
        );
        assert_eq!(p.condition_holds(Rule::RiskNormalize, &k), Some(false));
        // Only an absent KPI: unknown.
        let k = RuleInputs {
            risk_ratio: Some(0.2),
            ..k
        };
        assert_eq!(p.condition_holds(Rule::RiskNormalize, &k), None);
        // The risk zones are exclusive: moderate stops where aggressive starts.
        let at = |r: f64| RuleInputs {
            risk_ratio: Some(r),
            ..RuleInputs::default()
        };
        for (r, aggressive, moderate) in
            [(0.6, true, false), (0.59, false, true), (0.4, false, true)]
        {
            assert_eq!(
                p.condition_holds(Rule::RiskAggressive, &at(r)),
                Some(aggressive),
                "{r}"
            );
            assert_eq!(
                p.condition_holds(Rule::RiskModerate, &at(r)),
                Some(moderate),
                "{r}"
            );
        }
        assert_eq!(
            p.condition(Rule::RiskModerate, &at(0.45))
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["risk_ratio=0.45 >= 0.4", "risk_ratio=0.45 < 0.6"]
        );
        let long = p.condition(Rule::RiskAggressive, &at(0.8391078207999036));
        assert_eq!(long[0].to_string(), "risk_ratio=0.839108 >= 0.6");
        assert_eq!(long[0].requirement(), "risk_ratio >= 0.6");
        // Rounding never moves a value across its threshold, nor shows -0.
        let mt = |v: f64| RuleInputs {
            risk_ratio: Some(0.1),
            maker_taker_ratio: Some(v),
            net_bps: Some(3.0),
            ..RuleInputs::default()
        };
        let shown = |v: f64| p.condition(Rule::MakerBoost, &mt(v))[1].to_string();
        assert_eq!(shown(0.8499999996), "maker_taker_ratio=0.8499999996 < 0.85");
        assert_eq!(shown(0.8500000004), "maker_taker_ratio=0.85 < 0.85");
        assert_eq!(shown(-0.0000001), "maker_taker_ratio=0 < 0.85");
        assert!(
            !shown(1e303).contains("inf"),
            "never inf for a finite value"
        );
    }
}
