//! JSON Schemas (draft 2020-12) of every file mmsoak writes or reads, and a
//! small validator for the subset of JSON Schema they use.
//!
//! The schemas are JSON files in this crate's `schemas/` folder, written by
//! hand and kept true by tests: a real soak's artifacts validate, the
//! parameter lists they repeat are `Param`'s, and the same wrong files are
//! refused by a schema and by the reader of that file (the parity tests of
//! `mmsoak-cli`). `cargo xtask codegen` copies them to `docs/schemas/`.
//!
//! Supported keywords: `type` (a name or a list), `properties`, `required`,
//! `additionalProperties` (bool or schema), `propertyNames` (with `enum`),
//! `items`, `enum`, `const`, `minimum`, `exclusiveMinimum`, `maximum`,
//! `minLength`, `maxLength`, `anyOf`.
//! Annotations (`$schema`, `$id`, `title`, `description`) are ignored.
//!
//! ```
//! use mmsoak_artifacts::schema::{schema, validate};
//!
//! let snapshot = schema("post_soak_snapshot.schema.json").expect("known schema");
//! let doc = serde_json::json!({"schema_version": "1.0"});
//! let problems = validate(&snapshot.value()?, &doc);
//! assert!(problems.iter().any(|p| p.starts_with("`schema_version`")));
//! assert!(problems.iter().any(|p| p.contains("`verdict` is missing")));
//! # Ok::<(), serde_json::Error>(())
//! ```

use serde_json::Value;

/// One schema file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArtifactSchema {
    /// File name under `docs/schemas/`, e.g. `iter_summary.schema.json`.
    pub file: &'static str,
    /// The artifact it describes.
    pub describes: &'static str,
    /// The schema as written to disk (pretty JSON, final newline).
    pub text: &'static str,
}

impl ArtifactSchema {
    /// The schema as a JSON value.
    pub fn value(&self) -> Result<Value, serde_json::Error> {
        serde_json::from_str(self.text)
    }
}

/// Each schema file (in `schemas/`) with what it describes.
macro_rules! schemas {
    ($($file:literal => $describes:literal,)+) => {
        /// Every schema, sorted by file name.
        pub const ALL: [ArtifactSchema; [$($file),+].len()] = [$(
            ArtifactSchema {
                file: $file,
                describes: $describes,
                text: include_str!(concat!("../schemas/", $file)),
            }
        ),+];
    };
}

schemas! {
    "apply_journal_line.schema.json" => "APPLY_JOURNAL.jsonl lines",
    "edge_report.schema.json" => "EDGE_REPORT.json",
    "iter_summary.schema.json" => "ITER_SUMMARY_{i}.json",
    "policy.schema.json" => "the soak policy file (TOML)",
    "post_soak_snapshot.schema.json" => "POST_SOAK_SNAPSHOT.json",
    "runtime_overrides.schema.json" => "runtime_overrides.json",
    "scenario.schema.json" => "a simulator scenario file (TOML)",
    "soak_run.schema.json" => "SOAK_RUN.json",
    "tuning_report.schema.json" => "TUNING_REPORT.json",
}

/// The schema with this file name.
pub fn schema(file: &str) -> Option<&'static ArtifactSchema> {
    ALL.iter().find(|s| s.file == file)
}

/// Validate `doc` against `schema`; every problem as ``"`json.path` problem"``
/// (the root is `$`). Empty when valid.
pub fn validate(schema: &Value, doc: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    check(schema, doc, "", &mut problems);
    problems
}

fn at(path: &str) -> &str {
    if path.is_empty() {
        "$"
    } else {
        path
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn type_matches(name: &str, v: &Value) -> bool {
    match name {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        "number" => v.is_number(),
        "integer" => v.is_u64() || v.is_i64() || v.as_f64().is_some_and(|x| x.fract() == 0.0),
        _ => false,
    }
}

fn check(schema: &Value, v: &Value, path: &str, out: &mut Vec<String>) {
    let Some(s) = schema.as_object() else {
        return;
    };
    if let Some(t) = s.get("type") {
        let names: Vec<&str> = match t {
            Value::String(n) => vec![n.as_str()],
            Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !names.iter().any(|n| type_matches(n, v)) {
            out.push(format!(
                "`{}` should be {}, found {}",
                at(path),
                names.join(" or "),
                mmsoak_core::input::type_name(v)
            ));
            return;
        }
    }
    if let Some(Value::Array(options)) = s.get("anyOf") {
        let mut why = Vec::new();
        for option in options {
            let mut problems = Vec::new();
            check(option, v, path, &mut problems);
            if problems.is_empty() {
                why.clear();
                break;
            }
            why.push(problems.join(", "));
        }
        if !why.is_empty() {
            out.push(format!(
                "`{}` matches none of the {} allowed shapes ({})",
                at(path),
                options.len(),
                why.join("; or ")
            ));
        }
    }
    if let Some(c) = s.get("const") {
        if c != v {
            out.push(format!("`{}` should be {c}, found {v}", at(path)));
        }
    }
    if let Some(Value::Array(options)) = s.get("enum") {
        if !options.contains(v) {
            out.push(format!(
                "`{}` is {v}, not one of {}",
                at(path),
                Value::Array(options.clone())
            ));
        }
    }
    if let Some(x) = v.as_f64() {
        if let Some(min) = s.get("minimum").and_then(Value::as_f64) {
            if x < min {
                out.push(format!("`{}` is {x}, below the minimum {min}", at(path)));
            }
        }
        if let Some(min) = s.get("exclusiveMinimum").and_then(Value::as_f64) {
            if x <= min {
                out.push(format!("`{}` is {x}, not above {min}", at(path)));
            }
        }
        if let Some(max) = s.get("maximum").and_then(Value::as_f64) {
            if x > max {
                out.push(format!("`{}` is {x}, above the maximum {max}", at(path)));
            }
        }
    }
    if let Some(text) = v.as_str() {
        let len = text.chars().count() as u64;
        if let Some(min) = s.get("minLength").and_then(Value::as_u64) {
            if len < min {
                out.push(format!(
                    "`{}` has {len} characters, fewer than {min}",
                    at(path)
                ));
            }
        }
        if let Some(max) = s.get("maxLength").and_then(Value::as_u64) {
            if len > max {
                out.push(format!(
                    "`{}` has {len} characters, more than {max}",
                    at(path)
                ));
            }
        }
    }
    if let Value::Object(map) = v {
        let props = s.get("properties").and_then(Value::as_object);
        if let Some(Value::Array(required)) = s.get("required") {
            for key in required.iter().filter_map(Value::as_str) {
                if !map.contains_key(key) {
                    out.push(format!("`{}` is missing", join(path, key)));
                }
            }
        }
        for (key, value) in map {
            let sub = join(path, key);
            if let Some(names) = s.get("propertyNames") {
                check(names, &Value::String(key.clone()), &sub, out);
            }
            match props.and_then(|p| p.get(key)) {
                Some(prop) => check(prop, value, &sub, out),
                None => match s.get("additionalProperties") {
                    Some(Value::Bool(false)) => out.push(format!("`{sub}` is not a known key")),
                    Some(extra @ Value::Object(_)) => check(extra, value, &sub, out),
                    _ => {}
                },
            }
        }
    }
    if let (Value::Array(items), Some(item_schema)) = (v, s.get("items")) {
        for (i, item) in items.iter().enumerate() {
            check(item_schema, item, &format!("{}[{i}]", at(path)), out);
        }
    }
}

#[cfg(test)]
mod tests {
    //! The schemas repeat what `Param` says (names, integer or real, the
    //! least and largest value); these tests hold them to it.

    use super::*;
    use mmsoak_core::{Param, ParamKind};

    fn every_node<'v>(v: &'v Value, out: &mut Vec<&'v serde_json::Map<String, Value>>) {
        match v {
            Value::Object(map) => {
                out.push(map);
                map.values().for_each(|v| every_node(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| every_node(v, out)),
            _ => {}
        }
    }

    fn nodes(s: &ArtifactSchema) -> Vec<serde_json::Map<String, Value>> {
        let value = s.value().expect("a schema is JSON");
        let mut out = Vec::new();
        every_node(&value, &mut out);
        out.into_iter().cloned().collect()
    }

    fn type_names(node: &Value) -> Vec<&str> {
        match node.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }

    fn number_type(param: Param) -> &'static str {
        match param.kind() {
            ParamKind::Integer => "integer",
            ParamKind::Real => "number",
        }
    }

    #[test]
    fn every_list_of_parameter_names_is_params_in_order() {
        let names: Vec<Value> = Param::ALL.iter().map(|p| Value::from(p.name())).collect();
        let mut lists = 0;
        for s in ALL {
            for node in nodes(&s) {
                if let Some(Value::Array(options)) = node.get("enum") {
                    if options.contains(&Value::from("concurrency_limit")) {
                        assert_eq!(options, &names, "{}", s.file);
                        lists += 1;
                    }
                }
            }
        }
        assert!(lists >= 7, "{lists} lists of parameter names");
    }

    #[test]
    fn every_runtime_document_types_each_parameter_as_param_does() {
        let mut documents = 0;
        for s in ALL {
            for node in nodes(&s) {
                let Some(props) = node.get("properties").and_then(Value::as_object) else {
                    continue;
                };
                let (Some(risk), Some(engine)) = (props.get("risk"), props.get("engine")) else {
                    continue;
                };
                documents += 1;
                for param in Param::ALL {
                    let [section, key] = param.canonical_path();
                    let table = if section == "risk" { risk } else { engine };
                    let node = &table["properties"][key];
                    assert_eq!(
                        type_names(node),
                        [number_type(param)],
                        "{}: {section}.{key}",
                        s.file
                    );
                }
            }
        }
        assert_eq!(documents, 2, "runtime_overrides and ITER_SUMMARY's copy");
    }

    #[test]
    fn the_policy_bounds_are_what_each_parameter_can_be() {
        let policy = schema("policy.schema.json")
            .expect("policy")
            .value()
            .expect("json");
        let bounds = &policy["properties"]["bounds"]["properties"];
        for param in Param::ALL {
            for end in ["min", "max"] {
                let node = &bounds[param.name()]["properties"][end];
                let at = format!("bounds.{param}.{end}");
                assert_eq!(type_names(node), [number_type(param)], "{at}");
                assert_eq!(node["maximum"].as_f64(), Some(param.largest()), "{at}");
                let (least, inclusive) = param.least().unwrap_or((-param.largest(), true));
                let key = if inclusive {
                    "minimum"
                } else {
                    "exclusiveMinimum"
                };
                assert_eq!(node[key].as_f64(), Some(least), "{at}");
            }
        }
    }

    #[test]
    fn any_of_needs_one_shape_and_exclusive_minimum_excludes_its_bound() {
        let s = serde_json::json!({
            "anyOf": [{"required": ["totals"]}, {"required": ["total"]}],
            "properties": {"n": {"type": "number", "exclusiveMinimum": 0}},
        });
        assert!(validate(&s, &serde_json::json!({"total": {}})).is_empty());
        assert_eq!(
            validate(&s, &serde_json::json!({"n": 0})),
            [
                "`$` matches none of the 2 allowed shapes (`totals` is missing; or `total` is missing)",
                "`n` is 0, not above 0"
            ]
        );
    }
}
