//! The soak policy file: one TOML document, four tables.
//!
//! ```toml
//! [tuner.maker_boost]          # rules of the tuner (mmsoak-tuner)
//! net_bps_min = 2.7
//! [guards]                     # apply guards (mmsoak-apply)
//! cooldown_iters = 3
//! [gate]                       # release gate and snapshot (mmsoak-gate)
//! net_bps_mean_min = 2.7
//! [bounds.min_interval_ms]     # registry bounds (mmsoak-core)
//! min = 40
//! max = 100
//! ```
//!
//! Every table and key is optional (defaults fill in); an unknown key is an
//! error naming its full path, and so is a value of the wrong type.
//!
//! This crate is the one loader of that file ([`SoakPolicy::from_path`]),
//! for the runner, the CLI and any program that embeds them, and the home
//! of the `[gate]` table's type ([`GatePolicy`], re-exported by
//! `mmsoak-gate`), so that reading a policy needs neither the gate nor the
//! simulator. Each other table's type lives with what it configures
//! (`TuningPolicy` in `mmsoak-tuner`, `GuardPolicy` in `mmsoak-apply`).
//!
//! ```
//! use mmsoak_policy::SoakPolicy;
//! let text = "[gate]\nnet_bps_mean_min = 3.0\n[bounds.min_interval_ms]\nmax = 90\n";
//! let policy = SoakPolicy::from_toml_str(text, "soak_policy.toml".as_ref())?;
//! assert_eq!(policy.gate.net_bps_mean_min, 3.0);
//! assert_eq!(policy.registry.spec(mmsoak_core::Param::MinIntervalMs).bounds.max, 90.0);
//! assert_ne!(policy.policy_hash(), SoakPolicy::default().policy_hash());
//! # Ok::<(), mmsoak_policy::PolicyFileError>(())
//! ```

mod gate;
mod lint;

pub use gate::{GatePolicy, GatePolicyError, SnapshotPolicy};
pub use lint::{lint, Blocked, DeadZone, Interval, Region};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mmsoak_apply::GuardPolicy;
use mmsoak_core::input::excerpt;
use mmsoak_core::ErrorChain;
use mmsoak_core::{Bounds, Param, ParamRegistry, StateHash};
use mmsoak_tuner::{PolicyError, TuningPolicy};
use serde::{Deserialize, Serialize};

/// Everything a soak's behaviour depends on besides the bot and the seed.
///
/// [`SoakPolicy::default`] is the built-in `default` policy: the seed's
/// table ([`SoakPolicy::seed`]) with the changes of
/// `policies/default.toml`, derived in docs/policy.md.
#[derive(Debug, Clone, PartialEq)]
pub struct SoakPolicy {
    /// Tuning rules.
    pub tuner: TuningPolicy,
    /// Apply guards.
    pub guards: GuardPolicy,
    /// Release gate and snapshot thresholds.
    pub gate: GatePolicy,
    /// Parameter registry with the file's bounds applied.
    pub registry: ParamRegistry,
}

/// A policy file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyFileError {
    /// The `[tuner]` table (or the file as a whole) is bad.
    #[error(transparent)]
    Tuner(#[from] PolicyError),
    /// An unknown key or a value of the wrong type outside `[tuner]`.
    #[error("{}: `{key}`: {message}", file.display())]
    Toml {
        /// The file.
        file: PathBuf,
        /// Dotted key path, e.g. `guards.cooldown_iters`.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A value that parses but cannot be used.
    #[error("{}: {problem}", file.display())]
    Invalid {
        /// The file.
        file: PathBuf,
        /// What is wrong (names the key).
        problem: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    #[serde(default, rename = "tuner")]
    _tuner: Option<toml::Table>,
    #[serde(default)]
    guards: GuardPolicy,
    #[serde(default)]
    gate: GatePolicy,
    // String keys so that error paths name the parameter (`bounds.x.mid`).
    #[serde(default)]
    bounds: BTreeMap<String, PartialBounds>,
}

/// `[bounds.<parameter>]`: either bound may be left out (it keeps the
/// registry's).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PartialBounds {
    min: Option<f64>,
    max: Option<f64>,
}

#[derive(Serialize)]
struct Effective<'a> {
    guards: &'a GuardPolicy,
    gate: &'a GatePolicy,
    bounds: BTreeMap<Param, Bounds>,
}

/// The names `--policy` takes for a built-in policy instead of a file.
pub const BUILTIN_POLICIES: [&str; 2] = ["default", "seed"];

/// The default policy's changes to the seed's table.
const DEFAULT_POLICY_TOML: &str = include_str!("../policies/default.toml");

impl Default for SoakPolicy {
    /// The built-in `default` policy.
    fn default() -> Self {
        // A constant of this crate; a unit test reads it.
        Self::parse(DEFAULT_POLICY_TOML, Path::new("policies/default.toml"))
            .unwrap_or_else(|_| Self::seed())
    }
}

impl SoakPolicy {
    /// The built-in `seed` policy: the predecessor's table, unchanged (the
    /// defaults of each crate's policy type).
    pub fn seed() -> Self {
        SoakPolicy {
            tuner: TuningPolicy::default(),
            guards: GuardPolicy::default(),
            gate: GatePolicy::default(),
            registry: ParamRegistry::default(),
        }
    }

    /// A built-in policy by name (one of [`BUILTIN_POLICIES`]).
    ///
    /// ```
    /// use mmsoak_policy::SoakPolicy;
    /// let seed = SoakPolicy::builtin("seed").unwrap();
    /// assert_eq!(seed.tuner.maker_boost.net_bps_min, 2.7);
    /// assert_eq!(SoakPolicy::builtin("default"), Some(SoakPolicy::default()));
    /// assert!(SoakPolicy::builtin("other").is_none());
    /// ```
    pub fn builtin(name: &str) -> Option<Self> {
        match name {
            "seed" => Some(Self::seed()),
            "default" => Some(Self::default()),
            _ => None,
        }
    }

    /// What `--policy` names: a built-in policy (`seed`, `default`) or a
    /// policy file. A file called `seed` in the working directory is
    /// `./seed`.
    pub fn from_name_or_path(spec: &Path) -> Result<Self, PolicyFileError> {
        match spec.to_str().and_then(Self::builtin) {
            Some(policy) => Ok(policy),
            None => Self::from_path(spec),
        }
    }

    /// Read a policy file (its keys over the default policy's).
    pub fn from_path(file: &Path) -> Result<Self, PolicyFileError> {
        let text = mmsoak_core::input::read_text(file, mmsoak_core::input::limits::POLICY)
            .map_err(PolicyError::from)?;
        Self::from_toml_str(&text, file)
    }

    /// Parse a policy document that came from `file` (named in errors): its
    /// keys over the default policy's; a key it leaves out keeps the
    /// default policy's value.
    pub fn from_toml_str(text: &str, file: &Path) -> Result<Self, PolicyFileError> {
        // Checked alone first, so that errors point into the file as written.
        Self::parse(text, file)?;
        let mut merged: toml::Table = DEFAULT_POLICY_TOML.parse().unwrap_or_default();
        // Parsed just above.
        let given: toml::Table = text.parse().unwrap_or_default();
        merge(&mut merged, given);
        Self::parse(&toml::to_string(&merged).unwrap_or_default(), file)
    }

    /// Parse a policy document over the seed's table.
    fn parse(text: &str, file: &Path) -> Result<Self, PolicyFileError> {
        // The tuner checks the top-level keys, the syntax and its own table.
        let tuner = TuningPolicy::from_toml_str(text, file)?;
        let doc: Document = serde_path_to_error::deserialize(toml::Deserializer::new(text))
            .map_err(|e| {
                let key = excerpt(&e.path().to_string()).into_owned();
                PolicyFileError::Toml {
                    file: file.to_owned(),
                    key,
                    message: excerpt(e.into_inner().message()).into_owned(),
                }
            })?;
        let invalid = |problem: String| PolicyFileError::Invalid {
            file: file.to_owned(),
            problem,
        };
        doc.guards
            .validate()
            .map_err(|e| invalid(ErrorChain(&e).to_string()))?;
        doc.gate
            .validate()
            .map_err(|e| invalid(ErrorChain(&e).to_string()))?;
        let mut registry = ParamRegistry::default();
        for (name, given) in doc.bounds {
            let param: Param = name
                .parse()
                .map_err(|e| invalid(excerpt(&format!("`bounds.{name}`: {e}")).into_owned()))?;
            let old = registry.spec(param).bounds;
            let bounds = Bounds {
                min: given.min.unwrap_or(old.min),
                max: given.max.unwrap_or(old.max),
            };
            registry
                .set_bounds(param, bounds)
                .map_err(|e| invalid(format!("`bounds.{param}`: {e}")))?;
        }
        Ok(SoakPolicy {
            tuner,
            guards: doc.guards,
            gate: doc.gate,
            registry,
        })
    }

    /// The effective policy as a complete TOML document (every table, every
    /// key); [`SoakPolicy::from_toml_str`] reads it back to the same policy.
    pub fn to_toml_string(&self) -> String {
        // Numbers, booleans and tables of them always have a TOML form.
        let rest = toml::to_string(&self.effective()).unwrap_or_default();
        format!("{}\n{}", self.tuner.to_toml_string().trim_end(), rest)
    }

    fn effective(&self) -> Effective<'_> {
        Effective {
            guards: &self.guards,
            gate: &self.gate,
            bounds: self
                .registry
                .specs()
                .iter()
                .map(|s| (s.param, s.bounds))
                .collect(),
        }
    }

    /// Identity of the effective policy: [`StateHash`] of its canonical JSON.
    /// Two files that mean the same policy have the same hash.
    pub fn policy_hash(&self) -> StateHash {
        #[derive(Serialize)]
        struct All<'a> {
            tuner: &'a TuningPolicy,
            #[serde(flatten)]
            rest: Effective<'a>,
        }
        let all = All {
            tuner: &self.tuner,
            rest: self.effective(),
        };
        // Every field is a finite number, a boolean or a table of them (validated).
        StateHash::of_value(&serde_json::to_value(&all).unwrap_or_default())
    }
}

/// Put `given`'s keys into `base`, table by table.
fn merge(base: &mut toml::Table, given: toml::Table) {
    for (key, value) in given {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(g)) => merge(b, g),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<SoakPolicy, PolicyFileError> {
        SoakPolicy::from_toml_str(text, Path::new("soak_policy.toml"))
    }

    #[track_caller]
    fn check_err(text: &str, needle: &str) {
        let msg = parse(text).expect_err("should be rejected").to_string();
        assert!(msg.starts_with("soak_policy.toml: "), "{msg}");
        assert!(msg.contains(needle), "{msg:?} should mention {needle:?}");
    }

    #[test]
    fn the_default_policy_is_the_seed_with_the_documented_changes() {
        let (seed, default) = (SoakPolicy::seed(), SoakPolicy::default());
        // Parsed, not the fallback.
        assert_eq!(
            Ok(&default),
            SoakPolicy::parse(DEFAULT_POLICY_TOML, Path::new("default.toml"))
                .as_ref()
                .map_err(|e| e.to_string())
        );
        assert_ne!(default, seed);
        assert_eq!(default.tuner.maker_boost.net_bps_min, -10000.0);
        assert_eq!(default.tuner.fallback_conservative.net_bps_below, 2.96);
        assert_eq!(default.guards.freeze_p95_latency_ms_max, 338.4);
        // The gate and the bounds are the seed's.
        assert_eq!(default.gate, seed.gate);
        assert_eq!(default.registry, seed.registry);
        assert_eq!(seed.tuner, TuningPolicy::default());
    }

    #[test]
    fn a_file_changes_only_its_own_keys_of_the_default_policy() {
        let p = parse("[guards]\ncooldown_iters = 5\n").expect("valid");
        let mut expected = SoakPolicy::default();
        expected.guards.cooldown_iters = 5;
        assert_eq!(p, expected);
    }

    #[test]
    fn builtins_by_name_and_their_printed_form_reads_back_the_same() {
        for name in BUILTIN_POLICIES {
            let p = SoakPolicy::from_name_or_path(Path::new(name)).expect("built-in");
            assert_eq!(Some(&p), SoakPolicy::builtin(name).as_ref());
            let again = parse(&p.to_toml_string()).expect("printed policy reads");
            assert_eq!(again, p, "{name}");
        }
        let err = SoakPolicy::from_name_or_path(Path::new("./seed")).expect_err("no such file");
        assert!(err.to_string().contains("seed"), "{err}");
    }

    /// Issue 14: the cooldown guard never fires on a single ordinary step of
    /// a default rule, wherever in its bounds the parameter is.
    #[test]
    fn no_single_step_of_a_default_rule_starts_a_cooldown() {
        let p = SoakPolicy::default();
        for rule in p.tuner.rules() {
            for m in rule.moves() {
                let b = p.registry.spec(m.param).bounds;
                let range = b.max - b.min;
                let step = match m.delta {
                    mmsoak_core::Delta::Add(a) => a.abs(),
                    mmsoak_core::Delta::Scale(f) => (f - 1.0).abs() * b.max.abs().max(b.min.abs()),
                    _ => 0.0,
                };
                assert!(
                    step / range <= p.guards.cooldown_range_share,
                    "{:?} {}: a step of {step} is {:.2} of the range",
                    rule.rule(),
                    m.param,
                    step / range
                );
            }
        }
    }

    #[test]
    fn empty_file_is_the_default_policy() {
        assert_eq!(parse("").expect("empty"), SoakPolicy::default());
    }

    #[test]
    fn every_table_is_read() {
        let p = parse(
            "[tuner.maker_boost]\nnet_bps_min = 2.5\n[guards]\ncooldown_iters = 5\n[gate]\nnet_bps_mean_min = 3.0\n\
             [gate.snapshot]\nwindow = 6\n[bounds.min_interval_ms]\nmin = 45\nmax = 90\n",
        )
        .expect("valid policy");
        assert_eq!(p.tuner.maker_boost.net_bps_min, 2.5);
        assert_eq!(p.guards.cooldown_iters, 5);
        assert_eq!(p.gate.net_bps_mean_min, 3.0);
        assert_eq!(p.gate.snapshot.window, 6);
        assert_eq!(
            p.registry.spec(Param::MinIntervalMs).bounds,
            Bounds {
                min: 45.0,
                max: 90.0
            }
        );
    }

    /// Either bound may be given alone; the other keeps the registry's.
    #[test]
    fn one_bound_alone_keeps_the_other() {
        let p = parse("[bounds.tail_age_ms]\nmax = 1500\n").expect("valid");
        let b = p.registry.spec(Param::TailAgeMs).bounds;
        assert_eq!((b.min, b.max), (300.0, 1500.0));
    }

    #[test]
    fn bad_keys_and_values_name_the_path() {
        check_err("[guards]\ncooldown_iter = 3\n", "guards.cooldown_iter");
        check_err(
            "[gate]\nnet_bps_mean_min = \"high\"\n",
            "gate.net_bps_mean_min",
        );
        check_err("[gate.snapshot]\nwindoww = 3\n", "gate.snapshot.windoww");
        check_err(
            "[gate]\nnet_bps_mean_min = nan\n",
            "`gate.net_bps_mean_min` is NaN, not a finite number",
        );
        check_err(
            "[gate.snapshot]\npass_net_bps_min = inf\n",
            "`gate.snapshot.pass_net_bps_min` is inf",
        );
        check_err(
            "[gate.snapshot]\nwindow = 0\n",
            "`gate.snapshot.window` is 0",
        );
        check_err("[bounds.min_interval]\nmin = 1\nmax = 2\n", "bounds");
        check_err(
            "[bounds.min_interval_ms]\nmin = 70\nmax = 100\n",
            "bounds.min_interval_ms",
        );
        check_err(
            "[bounds.min_interval_ms]\nmin = 40\nmax = 100\nmid = 3\n",
            "bounds.min_interval_ms.mid",
        );
        check_err("[bounds.bogus]\nmin = 1\n", "unknown parameter `bogus`");
        check_err(
            "[bounds.tail_age_ms]\nmax = nan\n",
            "invalid bounds for tail_age_ms: min 300 max NaN",
        );
        check_err(
            "[bounds.concurrency_limit]\nmin = -5\n",
            "min -5 is below 1",
        );
        check_err(
            "[tuner.maker_boost]\nnet_bps_minn = 1\n",
            "tuner.maker_boost.net_bps_minn",
        );
        check_err("[gaurds]\n", "gaurds");
        check_err(
            "[guards]\nvelocity_range_share = nan\n",
            "guards.velocity_range_share",
        );
    }

    #[test]
    fn printed_policy_reads_back_and_hash_is_stable() {
        let p =
            parse("[guards]\ncooldown_iters = 5\n[bounds.tail_age_ms]\nmin = 400\nmax = 1000\n")
                .expect("valid");
        let printed = p.to_toml_string();
        let back = parse(&printed).expect("printed policy parses");
        assert_eq!(back, p);
        assert_eq!(back.policy_hash(), p.policy_hash());
        assert_ne!(p.policy_hash(), SoakPolicy::default().policy_hash());
        for table in [
            "[tuner.maker_boost]",
            "[guards]",
            "[gate]",
            "[gate.snapshot]",
            "[bounds.min_interval_ms]",
        ] {
            assert!(printed.contains(table), "missing {table} in\n{printed}");
        }
    }
}

#[cfg(test)]
mod docs_tests {
    use super::*;

    /// docs/policy.md documents every key of `[guards]`, `[gate]` and `[bounds]`
    /// with the default `mmsoak policy` prints.
    #[test]
    fn policy_doc_lists_every_key_with_its_default() {
        let doc_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/policy.md");
        let doc = std::fs::read_to_string(&doc_path).expect("docs/policy.md");
        let printed = SoakPolicy::seed().to_toml_string();
        let mut table = String::new();
        for line in printed.lines() {
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                table = name.to_owned();
                continue;
            }
            let Some((key, value)) = line.split_once(" = ") else {
                continue;
            };
            if table.starts_with("tuner") {
                continue; // the tuner's own test checks its tables
            }
            if let Some(param) = table.strip_prefix("bounds.") {
                assert!(
                    doc.contains(&format!("| `{param}` |")),
                    "bounds of {param} not documented"
                );
                continue;
            }
            let name = match table.strip_prefix("gate.") {
                Some(sub) => format!("{sub}.{key}"),
                None => key.to_owned(),
            };
            let value: f64 = value.parse().expect("numeric default");
            let row = format!("| `{name}` | {value:?} |");
            let row_int = format!("| `{name}` | {value} |");
            assert!(
                doc.contains(&row) || doc.contains(&row_int),
                "docs/policy.md lacks the row {row} (table [{table}])"
            );
        }
    }
}
