//! [`RuntimeOverrides`]: the `runtime_overrides.json` document a bot reads.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::canonical::{finite_number, object_at_mut, to_canonical_bytes, NonFiniteNumber};
use crate::delta::{Change, DeltaOp};
use crate::input::{parse_bytes, read_document, type_name, FieldProblem, InputError};
use crate::param::{Param, ParamKind, ParamRegistry};
use crate::StateHash;

/// Sections that exist only as legacy aliases. Sections left empty once the
/// parameters are taken out are dropped (writing recreates the canonical ones).
const LEGACY_SECTIONS: [&str; 3] = ["quoting", "impact", "taker_rescue"];

/// The runtime overrides a bot runs with.
///
/// Reading accepts the canonical nested layout (`engine.min_interval_ms`),
/// legacy flat keys at the root (`min_interval_ms`) and the legacy alias
/// sections (`quoting.min_interval_ms`, ...); two places that disagree are an
/// error naming both. Writing always produces the canonical nested layout.
/// Keys that are not parameters are preserved where they were.
///
/// ```
/// use mmsoak_core::{Param, ParamRegistry, RuntimeOverrides};
/// let legacy = br#"{"min_interval_ms": 60, "tail_age_ms": 600, "impact_cap_ratio": 0.10, "note": "keep me"}"#;
/// let ov = RuntimeOverrides::parse(legacy, "runtime_overrides.json".as_ref()).unwrap();
/// assert_eq!(ov.get(Param::MinIntervalMs), Some(60.0));
/// // absent parameters read as their registry default
/// assert_eq!(ov.value(Param::ConcurrencyLimit, &ParamRegistry::default()), 10.0);
/// assert_eq!(
///     String::from_utf8(ov.to_canonical_bytes()).unwrap(),
///     r#"{"engine":{"min_interval_ms":60,"tail_age_ms":600},"note":"keep me","risk":{"impact_cap_ratio":0.1}}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RuntimeOverrides {
    values: BTreeMap<Param, f64>,
    /// The document with every parameter key removed.
    rest: Map<String, Value>,
}

impl RuntimeOverrides {
    /// An empty document: every parameter at its default.
    pub fn new() -> Self {
        Self::default()
    }

    /// Read a file.
    pub fn from_path(file: &Path) -> Result<Self, InputError> {
        let doc = read_document(file, crate::input::limits::RUNTIME_OVERRIDES)?;
        Self::from_document(file, doc)
    }

    /// Read a file whose values must all lie within `registry`'s bounds (the
    /// overrides a run starts from: every change is clamped into the bounds,
    /// so a start outside them could never be reached again). A value
    /// outside is an error naming the file, the key and the bounds.
    ///
    /// ```
    /// use mmsoak_core::{ParamRegistry, RuntimeOverrides};
    /// let file = std::env::temp_dir().join(format!("mmsoak-overrides-{}.json", std::process::id()));
    /// std::fs::write(&file, r#"{"engine": {"concurrency_limit": 900}}"#)?;
    /// let err = RuntimeOverrides::from_path_within(&file, &ParamRegistry::default()).unwrap_err();
    /// assert!(err.to_string().ends_with(
    ///     "`engine.concurrency_limit` is 900, outside the bounds 1..=64 of concurrency_limit (a policy's [bounds.concurrency_limit] sets them)"
    /// ));
    /// # std::fs::remove_file(&file)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_path_within(file: &Path, registry: &ParamRegistry) -> Result<Self, InputError> {
        let overrides = Self::from_path(file)?;
        match overrides.outside_bounds(registry) {
            None => Ok(overrides),
            Some((param, value)) => {
                let b = registry.spec(param).bounds;
                Err(InputError::Field {
                    file: file.to_owned(),
                    path: param.canonical_path().join("."),
                    problem: FieldProblem::Invalid(format!(
                        "is {value}, outside the bounds {}..={} of {param} (a policy's [bounds.{param}] sets them)",
                        b.min, b.max
                    )),
                })
            }
        }
    }

    /// Parse bytes that came from `file` (named in errors).
    pub fn parse(bytes: &[u8], file: &Path) -> Result<Self, InputError> {
        let doc = parse_bytes(file, bytes)?;
        Self::from_document(file, doc)
    }

    /// Interpret a parsed document that came from `file` (named in errors).
    pub fn from_document(file: &Path, doc: Value) -> Result<Self, InputError> {
        Self::read_document(file, doc, None)
    }

    /// Interpret a document the predecessor wrote (a runtime file without
    /// mmsoak's summaries around it). Its apply step wrote the raw delta
    /// under the nested keys (`risk.base_spread_bps_delta`) while its bot
    /// and tuner read the flat ones (`base_spread_bps_delta`), which never
    /// changed: where the places disagree, the flat value is the one in
    /// force (what its bot read), and each disagreement is a finding, as is
    /// every value no bot can run with ([`Param::impossible`], e.g. a
    /// negative ratio). [`RuntimeOverrides::from_document`] refuses both;
    /// mmsoak's own files are read that way.
    ///
    /// ```
    /// use mmsoak_core::{Param, RuntimeFinding, RuntimeOverrides};
    /// let doc = serde_json::json!({
    ///     "base_spread_bps_delta": 0.05,
    ///     "risk": {"base_spread_bps_delta": 0.020000000000000004, "impact_cap_ratio": -0.0099}
    /// });
    /// let (ov, findings) = RuntimeOverrides::from_predecessor_document("runtime_overrides.json".as_ref(), doc)?;
    /// assert_eq!(ov.get(Param::BaseSpreadBpsDelta), Some(0.05));
    /// assert!(matches!(&findings[0], RuntimeFinding::Disagreement { other_path, .. } if other_path == "risk.base_spread_bps_delta"));
    /// assert_eq!(
    ///     findings[1].to_string(),
    ///     "runtime_overrides.json: `risk.impact_cap_ratio` is -0.0099: -0.0099 is not above 0, as impact_cap_ratio must be"
    /// );
    /// # Ok::<(), mmsoak_core::InputError>(())
    /// ```
    pub fn from_predecessor_document(
        file: &Path,
        doc: Value,
    ) -> Result<(Self, Vec<RuntimeFinding>), InputError> {
        let mut findings = Vec::new();
        let overrides = Self::read_document(file, doc, Some(&mut findings))?;
        Ok((overrides, findings))
    }

    /// The reader of both: with `findings`, the predecessor's rules (the
    /// flat key wins a disagreement, which is recorded, as is an impossible
    /// value); without, a disagreement is an error.
    fn read_document(
        file: &Path,
        doc: Value,
        mut findings: Option<&mut Vec<RuntimeFinding>>,
    ) -> Result<Self, InputError> {
        let err = |path: String, problem| InputError::Field {
            file: file.to_owned(),
            path,
            problem,
        };
        let mut rest = match doc {
            Value::Object(m) => m,
            other => {
                return Err(err(
                    "$".into(),
                    FieldProblem::WrongType {
                        expected: "an object",
                        found: type_name(&other),
                    },
                ))
            }
        };
        let mut values = BTreeMap::new();
        for param in Param::ALL {
            let mut places = Vec::new();
            for path in param.read_paths() {
                let Some(raw) = take_at(&mut rest, &path) else {
                    continue;
                };
                let dotted = path.join(".");
                let value = number_of(param, &raw).map_err(|p| err(dotted.clone(), p))?;
                places.push((dotted, value));
            }
            let Some(findings) = findings.as_deref_mut() else {
                // mmsoak's rule: every place agrees with the first.
                if let Some((first_path, first)) = places.first() {
                    if let Some((path, value)) = places.iter().find(|(_, v)| v != first) {
                        return Err(err(
                            path.clone(),
                            FieldProblem::Conflict {
                                other_path: first_path.clone(),
                                value: value.to_string(),
                                other_value: first.to_string(),
                            },
                        ));
                    }
                    values.insert(param, *first);
                }
                continue;
            };
            // The predecessor's: the flat key is what its bot read.
            let in_force = places
                .iter()
                .find(|(path, _)| path == param.name())
                .or(places.first())
                .cloned();
            let Some((in_force_path, in_force)) = in_force else {
                continue;
            };
            for (path, value) in &places {
                if *path != in_force_path && *value != in_force {
                    findings.push(RuntimeFinding::Disagreement {
                        file: file.to_owned(),
                        in_force_path: in_force_path.clone(),
                        in_force,
                        other_path: path.clone(),
                        other_value: *value,
                    });
                }
            }
            for (path, value) in &places {
                if let Some(why) = param.impossible(*value) {
                    findings.push(RuntimeFinding::Impossible {
                        file: file.to_owned(),
                        path: path.clone(),
                        value: *value,
                        why,
                    });
                }
            }
            values.insert(param, in_force);
        }
        for section in LEGACY_SECTIONS.into_iter().chain(["risk", "engine"]) {
            if matches!(rest.get(section), Some(Value::Object(m)) if m.is_empty()) {
                rest.remove(section);
            }
        }
        // A canonical section must be an object if present, or writing would fail.
        for section in ["risk", "engine"] {
            if let Some(v) = rest.get(section) {
                if !v.is_object() {
                    return Err(err(
                        section.into(),
                        FieldProblem::WrongType {
                            expected: "an object",
                            found: type_name(v),
                        },
                    ));
                }
            }
        }
        Ok(RuntimeOverrides { values, rest })
    }

    /// The value set in the document, if any.
    pub fn get(&self, param: Param) -> Option<f64> {
        self.values.get(&param).copied()
    }

    /// The value in force: the document's, else the registry default.
    pub fn value(&self, param: Param, registry: &ParamRegistry) -> f64 {
        self.get(param)
            .unwrap_or_else(|| registry.spec(param).default)
    }

    /// Set a parameter. Integer parameters are rounded to the nearest integer.
    pub fn set(&mut self, param: Param, value: f64) -> Result<(), NonFiniteNumber> {
        finite_number(value)?;
        let v = match param.kind() {
            ParamKind::Integer => value.round(),
            ParamKind::Real => value,
        };
        self.values.insert(param, v);
        Ok(())
    }

    /// Whether `value`, read from a runtime document, is acceptable for
    /// `param`: an integer parameter needs a whole number within ±2^53 (it is
    /// written as an i64 and must survive f64 exactly). Every reader of
    /// runtime documents applies this rule.
    pub fn check_value(param: Param, value: f64) -> Result<f64, FieldProblem> {
        if param.kind() == ParamKind::Integer {
            if value.fract() != 0.0 {
                return Err(FieldProblem::NotInteger(value));
            }
            const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
            if value.abs() > EXACT {
                return Err(FieldProblem::OutOfRange {
                    value,
                    min: -EXACT,
                    max: EXACT,
                });
            }
        }
        Ok(value)
    }

    /// Remove a parameter (it then reads as its default).
    pub fn remove(&mut self, param: Param) -> Option<f64> {
        self.values.remove(&param)
    }

    /// The first parameter set outside its bounds in `registry`, with its
    /// value: a run must not start outside the safety bounds every change is
    /// clamped into.
    ///
    /// ```
    /// use mmsoak_core::{Param, ParamRegistry, RuntimeOverrides};
    /// let mut o = RuntimeOverrides::new();
    /// o.set(Param::ConcurrencyLimit, -3.0)?;
    /// assert_eq!(o.outside_bounds(&ParamRegistry::default()), Some((Param::ConcurrencyLimit, -3.0)));
    /// o.set(Param::ConcurrencyLimit, 8.0)?;
    /// assert_eq!(o.outside_bounds(&ParamRegistry::default()), None);
    /// # Ok::<(), mmsoak_core::NonFiniteNumber>(())
    /// ```
    pub fn outside_bounds(&self, registry: &ParamRegistry) -> Option<(Param, f64)> {
        self.params()
            .find(|(p, v)| !registry.spec(*p).bounds.contains(*v))
    }

    /// Parameters set in the document, in registry order.
    pub fn params(&self) -> impl Iterator<Item = (Param, f64)> + '_ {
        self.values.iter().map(|(p, v)| (*p, *v))
    }

    /// Everything in the document that is not a parameter.
    pub fn unknown(&self) -> &Map<String, Value> {
        &self.rest
    }

    /// Resolve `op` against the value in force and store the result (bounds
    /// and integer rounding applied). Returns the change actually made.
    pub fn apply(
        &mut self,
        op: &DeltaOp,
        registry: &ParamRegistry,
    ) -> Result<Change, NonFiniteNumber> {
        let from = self.value(op.param, registry);
        let change = op.resolve(from, registry.spec(op.param))?;
        self.values.insert(op.param, change.to);
        Ok(change)
    }

    /// The canonical nested document.
    pub fn to_value(&self) -> Value {
        let mut doc = self.rest.clone();
        for (param, value) in &self.values {
            let [section, key] = param.canonical_path();
            let number = match param.kind() {
                // Whole by construction (`set` rounds, `apply` quantizes).
                ParamKind::Integer => Value::from(*value as i64),
                ParamKind::Real => match finite_number(*value) {
                    Ok(n) => Value::Number(n),
                    Err(_) => Value::Null, // unreachable: `set`/`apply` reject non-finite values
                },
            };
            // `from_document` guarantees the canonical sections are objects.
            if let Ok(obj) = object_at_mut(&mut doc, &[section]) {
                obj.insert(key.to_owned(), number);
            }
        }
        Value::Object(doc)
    }

    /// The canonical bytes, as written to disk.
    pub fn to_canonical_bytes(&self) -> Vec<u8> {
        to_canonical_bytes(&self.to_value())
    }

    /// The [`StateHash`] of the canonical document.
    pub fn state_hash(&self) -> StateHash {
        StateHash::of_canonical_bytes(&self.to_canonical_bytes())
    }
}

/// What a predecessor's runtime file says that cannot all be true
/// ([`RuntimeOverrides::from_predecessor_document`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum RuntimeFinding {
    /// Two places of one parameter hold different values; the one at
    /// `in_force_path` (the flat key, what the predecessor's bot read) is
    /// taken.
    Disagreement {
        /// The file.
        file: PathBuf,
        /// The place whose value is in force.
        in_force_path: String,
        /// Its value.
        in_force: f64,
        /// The place that disagrees.
        other_path: String,
        /// Its value.
        other_value: f64,
    },
    /// A value no bot can run with.
    Impossible {
        /// The file.
        file: PathBuf,
        /// The place.
        path: String,
        /// The value.
        value: f64,
        /// Why it is impossible.
        why: String,
    },
}

impl fmt::Display for RuntimeFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuntimeFinding::Disagreement {
                file,
                in_force_path,
                in_force,
                other_path,
                other_value,
            } => write!(
                f,
                "{}: `{in_force_path}` is {in_force} but `{other_path}` is {other_value}; \
                 read `{in_force_path}` as the value in force (what the predecessor's bot read)",
                file.display()
            ),
            RuntimeFinding::Impossible {
                file,
                path,
                value,
                why,
            } => write!(f, "{}: `{path}` is {value}: {why}", file.display()),
        }
    }
}

fn take_at(root: &mut Map<String, Value>, path: &[&str]) -> Option<Value> {
    match path {
        [key] => root.remove(*key),
        [section, rest @ ..] => match root.get_mut(*section) {
            Some(Value::Object(inner)) => take_at(inner, rest),
            _ => None,
        },
        [] => None,
    }
}

fn number_of(param: Param, raw: &Value) -> Result<f64, FieldProblem> {
    let v = match raw {
        Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
        other => {
            return Err(FieldProblem::WrongType {
                expected: "a number",
                found: type_name(other),
            })
        }
    };
    RuntimeOverrides::check_value(param, v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delta::Delta;
    use proptest::prelude::*;

    fn parse(s: &str) -> Result<RuntimeOverrides, InputError> {
        RuntimeOverrides::parse(s.as_bytes(), Path::new("runtime_overrides.json"))
    }

    fn canon(ov: &RuntimeOverrides) -> String {
        String::from_utf8(ov.to_canonical_bytes()).expect("utf-8")
    }

    #[test]
    fn legacy_flat_file_is_written_back_nested_keeping_unknown_keys() {
        let ov = parse(r#"{"min_interval_ms": 60, "tail_age_ms": 600, "impact_cap_ratio": 0.10, "operator": {"desk": "eu"}}"#)
            .expect("legacy flat overrides parse");
        assert_eq!(
            canon(&ov),
            r#"{"engine":{"min_interval_ms":60,"tail_age_ms":600},"operator":{"desk":"eu"},"risk":{"impact_cap_ratio":0.1}}"#
        );
        // And reading the canonical form back gives the same state.
        let again = parse(&canon(&ov)).expect("canonical parses");
        assert_eq!(again, ov);
        assert_eq!(again.state_hash(), ov.state_hash());
    }

    #[test]
    fn alias_sections_are_read_and_migrated() {
        let ov = parse(r#"{"quoting": {"min_interval_ms": 70, "style": "x"}, "impact": {"impact_cap_ratio": 0.09}, "taker_rescue": {"tail_age_ms": 700}}"#)
            .expect("aliases parse");
        assert_eq!(ov.get(Param::MinIntervalMs), Some(70.0));
        assert_eq!(ov.get(Param::ImpactCapRatio), Some(0.09));
        assert_eq!(ov.get(Param::TailAgeMs), Some(700.0));
        assert_eq!(
            canon(&ov),
            r#"{"engine":{"min_interval_ms":70,"tail_age_ms":700},"quoting":{"style":"x"},"risk":{"impact_cap_ratio":0.09}}"#
        );
    }

    #[test]
    fn agreeing_duplicates_are_fine_disagreeing_ones_name_both_paths() {
        let ov =
            parse(r#"{"min_interval_ms": 60, "engine": {"min_interval_ms": 60}}"#).expect("agree");
        assert_eq!(ov.get(Param::MinIntervalMs), Some(60.0));
        let err = parse(r#"{"min_interval_ms": 60, "engine": {"min_interval_ms": 65}}"#)
            .expect_err("disagree");
        let msg = err.to_string();
        assert!(
            msg.contains("engine.min_interval_ms") && msg.contains("`min_interval_ms`"),
            "{msg}"
        );
        assert!(msg.starts_with("runtime_overrides.json:"), "{msg}");
    }

    #[test]
    fn bad_values_name_file_and_path() {
        let err = parse(r#"{"engine": {"tail_age_ms": "600"}}"#).expect_err("string");
        assert_eq!(err.field_path(), Some("engine.tail_age_ms"));
        let err = parse(r#"{"concurrency_limit": 9.5}"#).expect_err("fractional integer");
        assert_eq!(err.field_path(), Some("concurrency_limit"));
        let err = parse(r#"{"tail_age_ms": 1e20}"#).expect_err("beyond exact integers");
        assert_eq!(err.field_path(), Some("tail_age_ms"));
        let err = parse(r#"{"risk": 3}"#).expect_err("section not an object");
        assert_eq!(err.field_path(), Some("risk"));
        assert!(parse("[]").is_err());
        assert!(parse(r#"{"min_interval_ms": NaN}"#).is_err());
    }

    #[test]
    fn integers_stay_integers_and_whole_floats_are_accepted() {
        let ov =
            parse(r#"{"concurrency_limit": 8.0, "replace_rate_per_min": 300}"#).expect("parse");
        assert_eq!(
            canon(&ov),
            r#"{"engine":{"concurrency_limit":8,"replace_rate_per_min":300.0}}"#
        );
    }

    #[test]
    fn relative_add_is_relative() {
        let mut ov = parse(r#"{"min_interval_ms": 60}"#).expect("parse");
        let reg = ParamRegistry::default();
        let change = ov
            .apply(&DeltaOp::new(Param::MinIntervalMs, Delta::Add(5.0)), &reg)
            .expect("finite");
        assert_eq!((change.from, change.to), (60.0, 65.0));
        assert_eq!(ov.get(Param::MinIntervalMs), Some(65.0));
    }

    proptest! {
        #[test]
        fn unknown_keys_survive_any_apply(
            extra in prop::collection::btree_map("[a-z]{1,6}", any::<i32>(), 0..6),
            ops in prop::collection::vec((0usize..8, -100.0f64..100.0), 0..10),
        ) {
            let mut doc = Map::new();
            for (k, v) in &extra {
                doc.insert(format!("x_{k}"), Value::from(*v));
            }
            doc.insert("risk".into(), serde_json::json!({"note_inside_risk": true}));
            let mut ov = RuntimeOverrides::from_document(Path::new("t"), Value::Object(doc.clone())).expect("doc");
            let reg = ParamRegistry::default();
            for (i, x) in ops {
                ov.apply(&DeltaOp::new(Param::ALL[i], Delta::Add(x)), &reg).expect("finite");
            }
            let written = ov.to_value();
            for (k, v) in &doc {
                if k == "risk" { continue; }
                prop_assert_eq!(written.get(k), Some(v));
            }
            prop_assert_eq!(written.pointer("/risk/note_inside_risk"), Some(&Value::Bool(true)));
        }
    }
}
