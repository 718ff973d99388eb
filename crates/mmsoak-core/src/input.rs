//! Reading JSON input files with errors that name the file and the field.
//!
//! Every reader in mmsoak (EDGE_REPORT, runtime overrides, artifact files)
//! goes through [`read_document`] and [`Fields`], so a bad value is always
//! reported as `FILE: `json.path` problem`.

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::canonical::{join_path, parse_document, JsonError};

/// What is wrong with one field of an input document.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldProblem {
    /// A required field is absent (or null).
    Missing,
    /// The field holds the wrong JSON type.
    WrongType {
        /// What was expected, e.g. `"a number"`.
        expected: &'static str,
        /// What was found, e.g. `"a string"`.
        found: &'static str,
    },
    /// A count or volume is negative.
    Negative(f64),
    /// A count is not a whole number.
    NotInteger(f64),
    /// A value lies outside its allowed range.
    OutOfRange {
        /// The value found.
        value: f64,
        /// Smallest allowed.
        min: f64,
        /// Largest allowed.
        max: f64,
    },
    /// The same setting appears at two places with different values.
    Conflict {
        /// The other place.
        other_path: String,
        /// Value here.
        value: String,
        /// Value at the other place.
        other_value: String,
    },
    /// A key that this format does not have.
    UnknownKey,
    /// Anything else, said in words.
    Invalid(String),
}

impl fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldProblem::Missing => f.write_str("is missing"),
            FieldProblem::WrongType { expected, found } => {
                write!(f, "should be {expected}, found {found}")
            }
            FieldProblem::Negative(v) => write!(f, "is negative ({v})"),
            FieldProblem::NotInteger(v) => write!(f, "should be a whole number, found {v}"),
            FieldProblem::OutOfRange { value, min, max } => {
                write!(f, "is {value}, outside {min}..={max}")
            }
            FieldProblem::Conflict {
                other_path,
                value,
                other_value,
            } => write!(
                f,
                "is {value} but `{other_path}` is {other_value}: the two places disagree"
            ),
            FieldProblem::UnknownKey => f.write_str("is not a known key"),
            FieldProblem::Invalid(s) => f.write_str(s),
        }
    }
}

/// An input file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid JSON (or holds NaN/Infinity).
    #[error("{}: {source}", file.display())]
    Json {
        /// The file.
        file: PathBuf,
        /// Why.
        #[source]
        source: JsonError,
    },
    /// A field has a bad value.
    #[error("{}: `{path}` {problem}", file.display())]
    Field {
        /// The file.
        file: PathBuf,
        /// JSON path of the field, e.g. `totals.fills.maker_volume`.
        path: String,
        /// What is wrong.
        problem: FieldProblem,
    },
}

impl InputError {
    /// The file the error is about.
    pub fn file(&self) -> &Path {
        match self {
            InputError::Io { file, .. }
            | InputError::Json { file, .. }
            | InputError::Field { file, .. } => file,
        }
    }

    /// The JSON path of the offending field, when the error is about one.
    pub fn field_path(&self) -> Option<&str> {
        match self {
            InputError::Field { path, .. } => Some(path),
            InputError::Json {
                source: JsonError::NonFinite { path, .. },
                ..
            } => Some(path),
            _ => None,
        }
    }
}

/// Read and parse a JSON file.
pub fn read_document(file: &Path) -> Result<Value, InputError> {
    let bytes = std::fs::read(file).map_err(|source| InputError::Io {
        file: file.to_owned(),
        source,
    })?;
    parse_bytes(file, &bytes)
}

/// Parse JSON bytes that came from `file` (used only to name it in errors).
pub fn parse_bytes(file: &Path, bytes: &[u8]) -> Result<Value, InputError> {
    parse_document(bytes).map_err(|source| InputError::Json {
        file: file.to_owned(),
        source,
    })
}

/// The JSON type name of a value, for error messages.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Typed access to the fields of one JSON object, with errors naming the
/// file and the full JSON path.
///
/// ```
/// use std::path::Path;
/// use mmsoak_core::input::Fields;
/// let doc: serde_json::Value = serde_json::from_str(r#"{"fills": {"maker_count": -3}}"#).unwrap();
/// let root = Fields::root(Path::new("EDGE_REPORT.json"), &doc).unwrap();
/// let fills = root.object("fills").unwrap();
/// let err = fills.opt_count("maker_count").unwrap_err();
/// assert_eq!(err.to_string(), "EDGE_REPORT.json: `fills.maker_count` is negative (-3)");
/// ```
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    file: &'a Path,
    path: String,
    obj: &'a Map<String, Value>,
}

/// A JSON number as a count: a non-negative whole number (`3.0` is
/// accepted), the rule of [`Fields::opt_count`].
pub fn count_of(n: &serde_json::Number) -> Result<u64, FieldProblem> {
    if let Some(u) = n.as_u64() {
        return Ok(u);
    }
    let v = n.as_f64().unwrap_or(f64::NAN);
    if v < 0.0 {
        Err(FieldProblem::Negative(v))
    } else if v.fract() != 0.0 || v > u64::MAX as f64 {
        Err(FieldProblem::NotInteger(v))
    } else {
        // Whole, non-negative and in range: the cast is exact.
        Ok(v as u64)
    }
}

impl<'a> Fields<'a> {
    /// The root object of a document; an error if it is not an object.
    pub fn root(file: &'a Path, value: &'a Value) -> Result<Fields<'a>, InputError> {
        match value {
            Value::Object(obj) => Ok(Fields {
                file,
                path: String::new(),
                obj,
            }),
            other => Err(InputError::Field {
                file: file.to_owned(),
                path: "$".to_owned(),
                problem: FieldProblem::WrongType {
                    expected: "an object",
                    found: type_name(other),
                },
            }),
        }
    }

    /// The underlying map.
    pub fn map(&self) -> &'a Map<String, Value> {
        self.obj
    }

    /// The file these fields come from.
    pub fn file(&self) -> &'a Path {
        self.file
    }

    /// Full JSON path of `key` in this object.
    pub fn path_of(&self, key: &str) -> String {
        join_path(&self.path, key)
    }

    /// An error about `key`.
    pub fn error(&self, key: &str, problem: FieldProblem) -> InputError {
        InputError::Field {
            file: self.file.to_owned(),
            path: self.path_of(key),
            problem,
        }
    }

    /// The raw value of `key`; `null` counts as absent.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.obj.get(key).filter(|v| !v.is_null())
    }

    fn wrong(&self, key: &str, expected: &'static str, found: &Value) -> InputError {
        self.error(
            key,
            FieldProblem::WrongType {
                expected,
                found: type_name(found),
            },
        )
    }

    /// An optional number.
    pub fn opt_f64(&self, key: &str) -> Result<Option<f64>, InputError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => Ok(n.as_f64()),
            Some(other) => Err(self.wrong(key, "a number", other)),
        }
    }

    /// A required number.
    pub fn f64(&self, key: &str) -> Result<f64, InputError> {
        self.opt_f64(key)?
            .ok_or_else(|| self.error(key, FieldProblem::Missing))
    }

    /// An optional number that must not be negative (a volume).
    pub fn opt_non_negative(&self, key: &str) -> Result<Option<f64>, InputError> {
        match self.opt_f64(key)? {
            Some(v) if v < 0.0 => Err(self.error(key, FieldProblem::Negative(v))),
            other => Ok(other),
        }
    }

    /// An optional count: a non-negative whole number (`3.0` is accepted).
    pub fn opt_count(&self, key: &str) -> Result<Option<u64>, InputError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => count_of(n).map(Some).map_err(|p| self.error(key, p)),
            Some(other) => Err(self.wrong(key, "a count", other)),
        }
    }

    /// An optional string.
    pub fn opt_str(&self, key: &str) -> Result<Option<&'a str>, InputError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.wrong(key, "a string", other)),
        }
    }

    /// An optional boolean.
    pub fn opt_bool(&self, key: &str) -> Result<Option<bool>, InputError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(self.wrong(key, "a boolean", other)),
        }
    }

    /// An optional nested object.
    pub fn opt_object(&self, key: &str) -> Result<Option<Fields<'a>>, InputError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Object(obj)) => Ok(Some(Fields {
                file: self.file,
                path: self.path_of(key),
                obj,
            })),
            Some(other) => Err(self.wrong(key, "an object", other)),
        }
    }

    /// A required nested object.
    pub fn object(&self, key: &str) -> Result<Fields<'a>, InputError> {
        self.opt_object(key)?
            .ok_or_else(|| self.error(key, FieldProblem::Missing))
    }

    /// An optional list of strings.
    pub fn opt_strings(&self, key: &str) -> Result<Option<Vec<String>>, InputError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(self.wrong(&format!("{key}[{i}]"), "a string", other)),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(other) => Err(self.wrong(key, "a list of strings", other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(s: &str) -> Value {
        serde_json::from_str(s).expect("test JSON")
    }

    #[test]
    fn counts_accept_whole_floats_and_reject_the_rest() {
        let v = doc(r#"{"a": 3, "b": 3.0, "c": 3.5, "d": -1, "e": "3", "f": null, "g": true}"#);
        let f = Fields::root(Path::new("x.json"), &v).expect("object");
        assert_eq!(f.opt_count("a").expect("a"), Some(3));
        assert_eq!(f.opt_count("b").expect("b"), Some(3));
        assert!(matches!(
            f.opt_count("c"),
            Err(InputError::Field {
                problem: FieldProblem::NotInteger(_),
                ..
            })
        ));
        assert!(matches!(
            f.opt_count("d"),
            Err(InputError::Field {
                problem: FieldProblem::Negative(_),
                ..
            })
        ));
        assert_eq!(
            f.opt_count("e").expect_err("string").to_string(),
            "x.json: `e` should be a count, found a string"
        );
        assert_eq!(f.opt_count("f").expect("null"), None);
        assert!(f.opt_count("g").is_err());
        assert_eq!(f.opt_count("zz").expect("absent"), None);
    }

    #[test]
    fn nested_paths_are_named() {
        let v = doc(r#"{"a": {"b": {"c": "x"}}}"#);
        let root = Fields::root(Path::new("f.json"), &v).expect("object");
        let a = root.object("a").expect("a");
        let b = a.object("b").expect("b");
        let err = b.f64("c").expect_err("string");
        assert_eq!(err.field_path(), Some("a.b.c"));
        assert_eq!(err.file(), Path::new("f.json"));
        let err = b.f64("missing").expect_err("missing");
        assert_eq!(err.to_string(), "f.json: `a.b.missing` is missing");
    }

    #[test]
    fn root_must_be_an_object() {
        let v = doc("[1]");
        let err = Fields::root(Path::new("f.json"), &v).expect_err("array");
        assert_eq!(
            err.to_string(),
            "f.json: `$` should be an object, found an array"
        );
    }

    #[test]
    fn read_document_names_missing_and_bad_files() {
        let err = read_document(Path::new("/nonexistent/EDGE_REPORT.json")).expect_err("missing");
        assert!(
            err.to_string().contains("/nonexistent/EDGE_REPORT.json"),
            "{err}"
        );
        let err = parse_bytes(Path::new("r.json"), b"{\"a\": NaN}").expect_err("nan");
        assert_eq!(err.field_path(), Some("a"));
        assert_eq!(err.to_string(), "r.json: `a` is NaN, not a finite number");
    }
}
