//! JSON Schemas (draft 2020-12) of every file mmsoak writes or reads, and a
//! small validator for the subset of JSON Schema they use.
//!
//! The schemas are written here by hand (not derived from the Rust types,
//! which live in crates this one does not depend on) and kept true by tests
//! that validate a real soak's artifacts against them and show that wrong
//! artifacts fail. `cargo xtask codegen` writes them to `docs/schemas/`.
//!
//! Supported keywords: `type` (a name or a list), `properties`, `required`,
//! `additionalProperties` (bool or schema), `propertyNames` (with `enum`),
//! `items`, `enum`, `const`, `minimum`, `maximum`, `minLength`, `maxLength`.
//! Annotations (`$schema`, `$id`, `title`, `description`) are ignored.
//!
//! ```
//! use mmsoak_gate::schemas::{schema, validate};
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

/// Every schema, sorted by file name.
pub const ALL: [ArtifactSchema; 9] = [
    ArtifactSchema {
        file: "apply_journal_line.schema.json",
        describes: "APPLY_JOURNAL.jsonl lines",
        text: APPLY_JOURNAL_LINE,
    },
    ArtifactSchema {
        file: "edge_report.schema.json",
        describes: "EDGE_REPORT.json",
        text: EDGE_REPORT,
    },
    ArtifactSchema {
        file: "iter_summary.schema.json",
        describes: "ITER_SUMMARY_{i}.json",
        text: ITER_SUMMARY,
    },
    ArtifactSchema {
        file: "policy.schema.json",
        describes: "the soak policy file (TOML)",
        text: POLICY,
    },
    ArtifactSchema {
        file: "post_soak_snapshot.schema.json",
        describes: "POST_SOAK_SNAPSHOT.json",
        text: POST_SOAK_SNAPSHOT,
    },
    ArtifactSchema {
        file: "runtime_overrides.schema.json",
        describes: "runtime_overrides.json",
        text: RUNTIME_OVERRIDES,
    },
    ArtifactSchema {
        file: "scenario.schema.json",
        describes: "a simulator scenario file (TOML)",
        text: SCENARIO,
    },
    ArtifactSchema {
        file: "soak_run.schema.json",
        describes: "SOAK_RUN.json",
        text: SOAK_RUN,
    },
    ArtifactSchema {
        file: "tuning_report.schema.json",
        describes: "TUNING_REPORT.json",
        text: TUNING_REPORT,
    },
];

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

const APPLY_JOURNAL_LINE: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://example.invalid/mmsoak/schemas/apply_journal_line.schema.json",
  "title": "APPLY_JOURNAL.jsonl (one line)",
  "description": "One record of the apply journal; the file is one such JSON object per line. The verifier reads kind, iteration, old_hash and new_hash and ignores other fields.",
  "type": "object",
  "properties": {
    "kind": {
      "enum": [
        "init",
        "intent",
        "commit",
        "skip",
        "abort"
      ]
    },
    "iteration": {
      "type": "integer",
      "minimum": 1
    },
    "old_hash": {
      "type": "string",
      "minLength": 64,
      "maxLength": 64,
      "description": "StateHash: blake3 of the canonical JSON, 64 lowercase hex characters"
    },
    "new_hash": {
      "type": "string",
      "minLength": 64,
      "maxLength": 64,
      "description": "StateHash: blake3 of the canonical JSON, 64 lowercase hex characters"
    },
    "state_hash": {
      "type": "string",
      "minLength": 64,
      "maxLength": 64,
      "description": "StateHash: blake3 of the canonical JSON, 64 lowercase hex characters"
    },
    "changes": {
      "type": "array",
      "items": {
        "type": "object",
        "properties": {
          "param": {
            "enum": [
              "base_spread_bps",
              "base_spread_bps_delta",
              "impact_cap_ratio",
              "max_delta_ratio",
              "replace_rate_per_min",
              "concurrency_limit",
              "tail_age_ms",
              "min_interval_ms"
            ]
          },
          "from": {
            "type": "number"
          },
          "to": {
            "type": "number"
          },
          "requested": {
            "type": "number"
          },
          "clamped": {
            "type": "boolean"
          }
        },
        "required": [
          "param",
          "from",
          "to",
          "requested",
          "clamped"
        ],
        "additionalProperties": false
      }
    },
    "skip_reason": {
      "type": [
        "object",
        "null"
      ],
      "description": "null when applied; else exactly one flag true and a note",
      "properties": {
        "cooldown": {
          "type": "boolean"
        },
        "velocity": {
          "type": "boolean"
        },
        "oscillation": {
          "type": "boolean"
        },
        "freeze": {
          "type": "boolean"
        },
        "no_op": {
          "type": "boolean"
        },
        "final_iteration": {
          "type": "boolean"
        },
        "note": {
          "type": "string"
        }
      },
      "required": [
        "cooldown",
        "velocity",
        "oscillation",
        "freeze",
        "no_op",
        "final_iteration",
        "note"
      ],
      "additionalProperties": false
    },
    "recovered": {
      "type": "boolean"
    }
  },
  "required": [
    "kind"
  ],
  "additionalProperties": false
}
"#;
const EDGE_REPORT: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://example.invalid/mmsoak/schemas/edge_report.schema.json",
  "title": "EDGE_REPORT.json",
  "description": "The bot's per-iteration report (input). Bots add keys freely: unknown keys are allowed and ignored.",
  "type": "object",
  "properties": {
    "totals": {
      "type": "object",
      "properties": {
        "net_bps": {
          "type": "number"
        },
        "gross_bps": {
          "type": "number"
        },
        "fees_eff_bps": {
          "type": "number"
        },
        "slippage_bps": {
          "type": "number"
        },
        "adverse_bps": {
          "type": "number"
        },
        "inventory_bps": {
          "type": "number"
        },
        "adverse_bps_p95": {
          "type": "number"
        },
        "slippage_bps_p95": {
          "type": "number"
        },
        "order_age_p95_ms": {
          "type": "number",
          "minimum": 0
        },
        "p95_latency_ms": {
          "type": "number",
          "minimum": 0
        },
        "fills": {
          "type": "object",
          "properties": {
            "maker_count": {
              "type": "integer",
              "minimum": 0
            },
            "taker_count": {
              "type": "integer",
              "minimum": 0
            },
            "maker_fills": {
              "type": "integer",
              "minimum": 0
            },
            "taker_fills": {
              "type": "integer",
              "minimum": 0
            },
            "maker_volume": {
              "type": "number",
              "minimum": 0
            },
            "taker_volume": {
              "type": "number",
              "minimum": 0
            }
          },
          "additionalProperties": true
        },
        "block_reasons": {
          "type": "object",
          "properties": {
            "risk": {
              "type": "object",
              "properties": {
                "count": {
                  "type": "integer",
                  "minimum": 0
                },
                "ratio": {
                  "type": "number",
                  "minimum": 0,
                  "maximum": 100
                }
              },
              "additionalProperties": true
            },
            "min_interval": {
              "type": "object",
              "properties": {
                "count": {
                  "type": "integer",
                  "minimum": 0
                },
                "ratio": {
                  "type": "number",
                  "minimum": 0,
                  "maximum": 100
                }
              },
              "additionalProperties": true
            },
            "concurrency": {
              "type": "object",
              "properties": {
                "count": {
                  "type": "integer",
                  "minimum": 0
                },
                "ratio": {
                  "type": "number",
                  "minimum": 0,
                  "maximum": 100
                }
              },
              "additionalProperties": true
            },
            "throttle": {
              "type": "object",
              "properties": {
                "count": {
                  "type": "integer",
                  "minimum": 0
                },
                "ratio": {
                  "type": "number",
                  "minimum": 0,
                  "maximum": 100
                }
              },
              "additionalProperties": true
            }
          },
          "additionalProperties": true
        },
        "neg_edge_drivers": {
          "type": "array",
          "items": {
            "type": "string"
          }
        }
      },
      "additionalProperties": true
    },
    "total": {
      "type": "object",
      "properties": {
        "net_bps": {
          "type": "number"
        },
        "gross_bps": {
          "type": "number"
        },
        "fees_eff_bps": {
          "type": "number"
        },
        "slippage_bps": {
          "type": "number"
        },
        "adverse_bps": {
          "type": "number"
        },
        "inventory_bps": {
          "type": "number"
        },
        "adverse_bps_p95": {
          "type": "number"
        },
        "slippage_bps_p95": {
          "type": "number"
        },
        "order_age_p95_ms": {
          "type": "number",
          "minimum": 0
        },
        "p95_latency_ms": {
          "type": "number",
          "minimum": 0
        },
        "fills": {
          "type": "object",
          "properties": {
            "maker_count": {
              "type": "integer",
              "minimum": 0
            },
            "taker_count": {
              "type": "integer",
              "minimum": 0
            },
            "maker_fills": {
              "type": "integer",
              "minimum": 0
            },
            "taker_fills": {
              "type": "integer",
              "minimum": 0
            },
            "maker_volume": {
              "type": "number",
              "minimum": 0
            },
            "taker_volume": {
              "type": "number",
              "minimum": 0
            }
          },
          "additionalProperties": true
        },
        "block_reasons": {
          "type": "object",
          "properties": {
            "risk": {
              "type": "object",
              "properties": {
                "count": {
                  "type": "integer",
                  "minimum": 0
                },
                "ratio": {
                  "type": "number",
                  "minimum": 0,
                  "maximum": 100
                }
              },
              "additionalProperties": true
            },
            "min_interval": {
              "type": "object",
              "properties": {
                "count": {
                  "type": "integer",
                  "minimum": 0
                },
                "ratio": {
                  "type": "number",
                  "minimum": 0,
                  "maximum": 100
                }
              },
              "additionalProperties": true
            },
            "concurrency": {
              "type": "object",
              "properties": {
                "count": {
                  "type": "integer",
                  "minimum": 0
                },
                "ratio": {
                  "type": "number",
                  "minimum": 0,
                  "maximum": 100
                }
              },
              "additionalProperties": true
            },
            "throttle": {
              "type": "object",
              "properties": {
                "count": {
                  "type": "integer",
                  "minimum": 0
                },
                "ratio": {
                  "type": "number",
                  "minimum": 0,
                  "maximum": 100
                }
              },
              "additionalProperties": true
            }
          },
          "additionalProperties": true
        },
        "neg_edge_drivers": {
          "type": "array",
          "items": {
            "type": "string"
          }
        }
      },
      "additionalProperties": true
    },
    "runtime": {
      "type": "object",
      "properties": {
        "utc": {
          "type": [
            "string",
            "null"
          ]
        },
        "version": {
          "type": [
            "string",
            "null"
          ]
        }
      },
      "additionalProperties": true
    }
  },
  "additionalProperties": true
}
"#;
const ITER_SUMMARY: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://example.invalid/mmsoak/schemas/iter_summary.schema.json",
  "title": "ITER_SUMMARY_{i}.json",
  "description": "One iteration as mmsoak writes it: schema mmsoak.iter_summary.v1 (the predecessor's shape plus additions).",
  "type": "object",
  "properties": {
    "schema": {
      "const": "mmsoak.iter_summary.v1"
    },
    "iteration": {
      "type": "integer",
      "minimum": 1
    },
    "driver": {
      "type": "string"
    },
    "seed": {
      "type": "integer",
      "minimum": 0
    },
    "runtime_overrides": {
      "type": "object",
      "description": "canonical layout; unknown keys are kept",
      "properties": {
        "risk": {
          "type": "object",
          "properties": {
            "base_spread_bps": {
              "type": "number"
            },
            "base_spread_bps_delta": {
              "type": "number"
            },
            "impact_cap_ratio": {
              "type": "number"
            },
            "max_delta_ratio": {
              "type": "number"
            }
          },
          "additionalProperties": true
        },
        "engine": {
          "type": "object",
          "properties": {
            "replace_rate_per_min": {
              "type": "number"
            },
            "concurrency_limit": {
              "type": "number"
            },
            "tail_age_ms": {
              "type": "number"
            },
            "min_interval_ms": {
              "type": "number"
            }
          },
          "additionalProperties": true
        }
      },
      "additionalProperties": true
    },
    "summary": {
      "type": "object",
      "properties": {
        "maker_taker_ratio": {
          "type": "number",
          "minimum": 0,
          "maximum": 1
        },
        "maker_taker_source": {
          "type": "string"
        },
        "risk_ratio": {
          "type": "number",
          "minimum": 0,
          "maximum": 1
        },
        "net_bps": {
          "type": [
            "number",
            "null"
          ]
        },
        "gross_bps": {
          "type": [
            "number",
            "null"
          ]
        },
        "fees_eff_bps": {
          "type": [
            "number",
            "null"
          ]
        },
        "slippage_bps": {
          "type": [
            "number",
            "null"
          ]
        },
        "adverse_bps": {
          "type": [
            "number",
            "null"
          ]
        },
        "inventory_bps": {
          "type": [
            "number",
            "null"
          ]
        },
        "adverse_bps_p95": {
          "type": [
            "number",
            "null"
          ]
        },
        "slippage_bps_p95": {
          "type": [
            "number",
            "null"
          ]
        },
        "p95_latency_ms": {
          "type": [
            "number",
            "null"
          ],
          "minimum": 0
        },
        "order_age_p95_ms": {
          "type": [
            "number",
            "null"
          ],
          "minimum": 0
        },
        "min_interval_ratio": {
          "type": "number",
          "minimum": 0,
          "maximum": 1
        },
        "concurrency_ratio": {
          "type": "number",
          "minimum": 0,
          "maximum": 1
        },
        "neg_edge_drivers": {
          "type": "array",
          "items": {
            "type": "string"
          }
        },
        "fills": {
          "type": "object",
          "properties": {
            "maker_count": {
              "type": "integer",
              "minimum": 0
            },
            "taker_count": {
              "type": "integer",
              "minimum": 0
            },
            "maker_volume": {
              "type": "number",
              "minimum": 0
            },
            "taker_volume": {
              "type": "number",
              "minimum": 0
            }
          },
          "required": [
            "maker_count",
            "taker_count",
            "maker_volume",
            "taker_volume"
          ],
          "additionalProperties": false
        },
        "runtime_utc": {
          "type": [
            "string",
            "null"
          ]
        },
        "version": {
          "type": [
            "string",
            "null"
          ]
        }
      },
      "required": [
        "maker_taker_ratio",
        "maker_taker_source",
        "risk_ratio",
        "net_bps",
        "p95_latency_ms",
        "neg_edge_drivers",
        "fills",
        "runtime_utc",
        "version"
      ],
      "additionalProperties": false
    },
    "tuning": {
      "type": "object",
      "properties": {
        "deltas": {
          "type": "object",
          "propertyNames": {
            "enum": [
              "base_spread_bps",
              "base_spread_bps_delta",
              "impact_cap_ratio",
              "max_delta_ratio",
              "replace_rate_per_min",
              "concurrency_limit",
              "tail_age_ms",
              "min_interval_ms"
            ]
          },
          "additionalProperties": {
            "type": "number"
          }
        },
        "proposed_deltas": {
          "type": "object",
          "propertyNames": {
            "enum": [
              "base_spread_bps",
              "base_spread_bps_delta",
              "impact_cap_ratio",
              "max_delta_ratio",
              "replace_rate_per_min",
              "concurrency_limit",
              "tail_age_ms",
              "min_interval_ms"
            ]
          },
          "additionalProperties": {
            "type": "number"
          }
        },
        "rationale": {
          "type": "string"
        },
        "rules_fired": {
          "type": "array",
          "items": {
            "type": "string"
          }
        },
        "operations": {
          "type": "array",
          "items": {
            "type": "object",
            "properties": {
              "param": {
                "enum": [
                  "base_spread_bps",
                  "base_spread_bps_delta",
                  "impact_cap_ratio",
                  "max_delta_ratio",
                  "replace_rate_per_min",
                  "concurrency_limit",
                  "tail_age_ms",
                  "min_interval_ms"
                ]
              },
              "op": {
                "enum": [
                  "add",
                  "scale",
                  "set"
                ]
              },
              "value": {
                "type": "number"
              },
              "from": {
                "type": "number"
              },
              "to": {
                "type": "number"
              },
              "clamped": {
                "type": "boolean"
              },
              "rule": {
                "type": "string"
              }
            },
            "required": [
              "param",
              "op",
              "value",
              "from",
              "to",
              "clamped",
              "rule"
            ],
            "additionalProperties": false
          }
        },
        "applied": {
          "type": "boolean"
        },
        "no_op": {
          "type": "boolean"
        },
        "skip_reason": {
          "type": [
            "object",
            "null"
          ],
          "description": "null when applied; else exactly one flag true and a note",
          "properties": {
            "cooldown": {
              "type": "boolean"
            },
            "velocity": {
              "type": "boolean"
            },
            "oscillation": {
              "type": "boolean"
            },
            "freeze": {
              "type": "boolean"
            },
            "no_op": {
              "type": "boolean"
            },
            "final_iteration": {
              "type": "boolean"
            },
            "note": {
              "type": "string"
            }
          },
          "required": [
            "cooldown",
            "velocity",
            "oscillation",
            "freeze",
            "no_op",
            "final_iteration",
            "note"
          ],
          "additionalProperties": false
        },
        "changed_keys": {
          "type": "array",
          "items": {
            "enum": [
              "base_spread_bps",
              "base_spread_bps_delta",
              "impact_cap_ratio",
              "max_delta_ratio",
              "replace_rate_per_min",
              "concurrency_limit",
              "tail_age_ms",
              "min_interval_ms"
            ]
          }
        },
        "state_hash": {
          "type": "string",
          "minLength": 64,
          "maxLength": 64,
          "description": "StateHash: blake3 of the canonical JSON, 64 lowercase hex characters"
        },
        "old_hash": {
          "type": "string",
          "minLength": 64,
          "maxLength": 64,
          "description": "StateHash: blake3 of the canonical JSON, 64 lowercase hex characters"
        },
        "freeze_triggered": {
          "type": "boolean"
        },
        "freeze_active": {
          "type": "boolean"
        },
        "oscillation_detected": {
          "type": "boolean"
        },
        "velocity_violation": {
          "type": "boolean"
        },
        "cooldown_active": {
          "type": "boolean"
        },
        "freeze_break": {
          "type": [
            "string",
            "null"
          ]
        },
        "bytes_written": {
          "type": "integer",
          "minimum": 0
        }
      },
      "required": [
        "deltas",
        "proposed_deltas",
        "rationale",
        "rules_fired",
        "operations",
        "applied",
        "no_op",
        "skip_reason",
        "changed_keys",
        "state_hash",
        "old_hash",
        "freeze_triggered",
        "freeze_active",
        "oscillation_detected",
        "velocity_violation",
        "cooldown_active",
        "freeze_break",
        "bytes_written"
      ],
      "additionalProperties": false
    }
  },
  "required": [
    "schema",
    "iteration",
    "driver",
    "seed",
    "runtime_overrides",
    "summary",
    "tuning"
  ],
  "additionalProperties": false
}
"#;
const POLICY: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://example.invalid/mmsoak/schemas/policy.schema.json",
  "title": "soak policy (TOML)",
  "description": "The soak policy file (TOML; this schema describes the TOML document as JSON). Every table and key is optional: defaults fill in (see docs/policy.md). Unknown keys are errors. Caps and floors are optional numbers. Bounds: [bounds.<param>] with min and/or max.",
  "type": "object",
  "properties": {
    "tuner": {
      "type": "object",
      "properties": {
        "risk_aggressive": {
          "type": "object",
          "properties": {
            "enabled": {
              "type": "boolean"
            },
            "risk_ratio_min": {
              "type": "number"
            },
            "min_interval_ms_add": {
              "type": "number"
            },
            "min_interval_ms_cap": {
              "type": "number"
            },
            "impact_cap_ratio_add": {
              "type": "number"
            },
            "impact_cap_ratio_floor": {
              "type": "number"
            },
            "tail_age_ms_add": {
              "type": "number"
            },
            "tail_age_ms_cap": {
              "type": "number"
            }
          },
          "additionalProperties": false
        },
        "risk_moderate": {
          "type": "object",
          "properties": {
            "enabled": {
              "type": "boolean"
            },
            "risk_ratio_min": {
              "type": "number"
            },
            "min_interval_ms_add": {
              "type": "number"
            },
            "min_interval_ms_cap": {
              "type": "number"
            },
            "impact_cap_ratio_add": {
              "type": "number"
            },
            "impact_cap_ratio_floor": {
              "type": "number"
            }
          },
          "additionalProperties": false
        },
        "risk_normalize": {
          "type": "object",
          "properties": {
            "enabled": {
              "type": "boolean"
            },
            "risk_ratio_below": {
              "type": "number"
            },
            "net_bps_min": {
              "type": "number"
            },
            "min_interval_ms_add": {
              "type": "number"
            },
            "min_interval_ms_floor": {
              "type": "number"
            },
            "impact_cap_ratio_add": {
              "type": "number"
            },
            "impact_cap_ratio_cap": {
              "type": "number"
            }
          },
          "additionalProperties": false
        },
        "maker_boost": {
          "type": "object",
          "properties": {
            "enabled": {
              "type": "boolean"
            },
            "risk_ratio_max": {
              "type": "number"
            },
            "maker_taker_below": {
              "type": "number"
            },
            "net_bps_min": {
              "type": "number"
            },
            "base_spread_bps_add": {
              "type": "number"
            },
            "base_spread_bps_cap": {
              "type": "number"
            },
            "replace_rate_per_min_scale": {
              "type": "number"
            },
            "replace_rate_per_min_floor": {
              "type": "number"
            },
            "min_interval_ms_add": {
              "type": "number"
            },
            "min_interval_ms_cap": {
              "type": "number"
            }
          },
          "additionalProperties": false
        },
        "latency_buffer": {
          "type": "object",
          "properties": {
            "enabled": {
              "type": "boolean"
            },
            "p95_latency_ms_min": {
              "type": "number"
            },
            "p95_latency_ms_max": {
              "type": "number"
            },
            "concurrency_limit_scale": {
              "type": "number"
            },
            "concurrency_limit_floor": {
              "type": "number"
            },
            "tail_age_ms_add": {
              "type": "number"
            },
            "tail_age_ms_cap": {
              "type": "number"
            }
          },
          "additionalProperties": false
        },
        "latency_hard": {
          "type": "object",
          "properties": {
            "enabled": {
              "type": "boolean"
            },
            "p95_latency_ms_above": {
              "type": "number"
            },
            "concurrency_limit_scale": {
              "type": "number"
            },
            "concurrency_limit_floor": {
              "type": "number"
            },
            "tail_age_ms_add": {
              "type": "number"
            },
            "tail_age_ms_cap": {
              "type": "number"
            }
          },
          "additionalProperties": false
        },
        "driver_adverse": {
          "type": "object",
          "properties": {
            "enabled": {
              "type": "boolean"
            },
            "adverse_bps_p95_above": {
              "type": "number"
            },
            "impact_cap_ratio_add": {
              "type": "number"
            },
            "impact_cap_ratio_floor": {
              "type": "number"
            },
            "max_delta_ratio_add": {
              "type": "number"
            },
            "max_delta_ratio_floor": {
              "type": "number"
            }
          },
          "additionalProperties": false
        },
        "driver_slippage": {
          "type": "object",
          "properties": {
            "enabled": {
              "type": "boolean"
            },
            "slippage_bps_p95_above": {
              "type": "number"
            },
            "base_spread_bps_delta_add": {
              "type": "number"
            },
            "base_spread_bps_delta_cap": {
              "type": "number"
            },
            "tail_age_ms_add": {
              "type": "number"
            },
            "tail_age_ms_cap": {
              "type": "number"
            }
          },
          "additionalProperties": false
        },
        "fallback_conservative": {
          "type": "object",
          "properties": {
            "enabled": {
              "type": "boolean"
            },
            "net_bps_below": {
              "type": "number"
            },
            "consecutive_iterations": {
              "type": "integer",
              "minimum": 0
            },
            "cooldown_iterations": {
              "type": "integer",
              "minimum": 0
            },
            "min_interval_ms_add": {
              "type": "number"
            },
            "min_interval_ms_cap": {
              "type": "number"
            },
            "replace_rate_per_min_add": {
              "type": "number"
            },
            "replace_rate_per_min_floor": {
              "type": "number"
            },
            "base_spread_bps_delta_add": {
              "type": "number"
            },
            "base_spread_bps_delta_cap": {
              "type": "number"
            }
          },
          "additionalProperties": false
        },
        "conflict": {
          "type": "object",
          "properties": {
            "enabled": {
              "type": "boolean"
            },
            "risk_ratio_min": {
              "type": "number"
            }
          },
          "additionalProperties": false
        }
      },
      "additionalProperties": false
    },
    "guards": {
      "type": "object",
      "properties": {
        "freeze_risk_ratio_max": {
          "type": "number"
        },
        "freeze_net_bps_min": {
          "type": "number"
        },
        "freeze_consecutive_iters": {
          "type": "integer",
          "minimum": 0
        },
        "freeze_lock_iters": {
          "type": "integer",
          "minimum": 0
        },
        "hard_risk_ratio_max": {
          "type": "number"
        },
        "hard_net_bps_min": {
          "type": "number"
        },
        "hard_p95_latency_ms_max": {
          "type": "number"
        },
        "oscillation_window_iters": {
          "type": "integer",
          "minimum": 0
        },
        "oscillation_sign_flips": {
          "type": "integer",
          "minimum": 0
        },
        "velocity_window_iters": {
          "type": "integer",
          "minimum": 0
        },
        "velocity_range_share": {
          "type": "number"
        },
        "cooldown_range_share": {
          "type": "number"
        },
        "cooldown_iters": {
          "type": "integer",
          "minimum": 0
        }
      },
      "additionalProperties": false
    },
    "gate": {
      "type": "object",
      "properties": {
        "maker_taker_ratio_mean_min": {
          "type": "number"
        },
        "risk_ratio_mean_max": {
          "type": "number"
        },
        "net_bps_mean_min": {
          "type": "number"
        },
        "p95_latency_ms_mean_max": {
          "type": "number"
        },
        "pass_count_min": {
          "type": "integer",
          "minimum": 0
        },
        "full_apply_ratio_min": {
          "type": "number"
        },
        "full_apply_ratio_min_strict": {
          "type": "number"
        },
        "signature_stuck_max": {
          "type": "integer",
          "minimum": 0
        },
        "fail_count_max": {
          "type": "integer",
          "minimum": 0
        },
        "journal_chain_breaks_max": {
          "type": "integer",
          "minimum": 0
        },
        "incomplete_iterations_max": {
          "type": "integer",
          "minimum": 0
        },
        "snapshot": {
          "type": "object",
          "properties": {
            "window": {
              "type": "integer",
              "minimum": 0
            },
            "pass_risk_ratio_max": {
              "type": "number"
            },
            "pass_maker_taker_ratio_min": {
              "type": "number"
            },
            "pass_net_bps_min": {
              "type": "number"
            },
            "pass_p95_latency_ms_max": {
              "type": "number"
            },
            "anomaly_p95_latency_ms_above": {
              "type": "number"
            },
            "anomaly_risk_jump_above": {
              "type": "number"
            },
            "anomaly_maker_taker_ratio_below": {
              "type": "number"
            },
            "verdict_pass_min_passes": {
              "type": "integer",
              "minimum": 0
            },
            "verdict_warn_min_passes": {
              "type": "integer",
              "minimum": 0
            }
          },
          "additionalProperties": false
        }
      },
      "additionalProperties": false
    },
    "bounds": {
      "type": "object",
      "propertyNames": {
        "enum": [
          "base_spread_bps",
          "base_spread_bps_delta",
          "impact_cap_ratio",
          "max_delta_ratio",
          "replace_rate_per_min",
          "concurrency_limit",
          "tail_age_ms",
          "min_interval_ms"
        ]
      },
      "additionalProperties": {
        "type": "object",
        "properties": {
          "min": {
            "type": "number"
          },
          "max": {
            "type": "number"
          }
        },
        "additionalProperties": false
      }
    }
  },
  "additionalProperties": false
}
"#;
const POST_SOAK_SNAPSHOT: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://example.invalid/mmsoak/schemas/post_soak_snapshot.schema.json",
  "title": "POST_SOAK_SNAPSHOT.json",
  "description": "The post-soak snapshot, schema_version 1.1 (the predecessor's keys).",
  "type": "object",
  "properties": {
    "anomalies_count": {
      "type": "integer",
      "minimum": 0
    },
    "freeze_ready": {
      "type": "boolean"
    },
    "freeze_seen": {
      "type": "boolean"
    },
    "guards_last8": {
      "type": "object",
      "properties": {
        "cooldown_count": {
          "type": "integer",
          "minimum": 0
        },
        "freeze_events": {
          "type": "integer",
          "minimum": 0
        },
        "oscillation_count": {
          "type": "integer",
          "minimum": 0
        },
        "velocity_count": {
          "type": "integer",
          "minimum": 0
        }
      },
      "required": [
        "cooldown_count",
        "freeze_events",
        "oscillation_count",
        "velocity_count"
      ],
      "additionalProperties": false
    },
    "kpi_gate_parity": {
      "type": [
        "boolean",
        "null"
      ]
    },
    "kpi_last8": {
      "type": "object",
      "properties": {
        "maker_taker_ratio": {
          "type": "object",
          "properties": {
            "mean": {
              "type": "number"
            },
            "median": {
              "type": "number"
            }
          },
          "required": [
            "mean",
            "median"
          ],
          "additionalProperties": false
        },
        "net_bps": {
          "type": "object",
          "properties": {
            "mean": {
              "type": "number"
            },
            "median": {
              "type": "number"
            }
          },
          "required": [
            "mean",
            "median"
          ],
          "additionalProperties": false
        },
        "p95_latency_ms": {
          "type": "object",
          "properties": {
            "mean": {
              "type": "number"
            },
            "median": {
              "type": "number"
            }
          },
          "required": [
            "mean",
            "median"
          ],
          "additionalProperties": false
        },
        "risk_ratio": {
          "type": "object",
          "properties": {
            "mean": {
              "type": "number"
            },
            "median": {
              "type": "number"
            }
          },
          "required": [
            "mean",
            "median"
          ],
          "additionalProperties": false
        }
      },
      "required": [
        "maker_taker_ratio",
        "net_bps",
        "p95_latency_ms",
        "risk_ratio"
      ],
      "additionalProperties": false
    },
    "pass_count_last8": {
      "type": "integer",
      "minimum": 0
    },
    "schema_version": {
      "const": "1.1"
    },
    "signature_loops": {
      "type": "integer",
      "minimum": 0
    },
    "time_range": {
      "type": "object",
      "properties": {
        "from": {
          "type": [
            "string",
            "null"
          ]
        },
        "to": {
          "type": [
            "string",
            "null"
          ]
        }
      },
      "required": [
        "from",
        "to"
      ],
      "additionalProperties": false
    },
    "verdict": {
      "enum": [
        "PASS",
        "WARN",
        "FAIL"
      ]
    }
  },
  "required": [
    "anomalies_count",
    "freeze_ready",
    "freeze_seen",
    "guards_last8",
    "kpi_gate_parity",
    "kpi_last8",
    "pass_count_last8",
    "schema_version",
    "signature_loops",
    "time_range",
    "verdict"
  ],
  "additionalProperties": false
}
"#;
const RUNTIME_OVERRIDES: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://example.invalid/mmsoak/schemas/runtime_overrides.schema.json",
  "title": "runtime_overrides.json",
  "description": "canonical layout; unknown keys are kept",
  "type": "object",
  "properties": {
    "risk": {
      "type": "object",
      "properties": {
        "base_spread_bps": {
          "type": "number"
        },
        "base_spread_bps_delta": {
          "type": "number"
        },
        "impact_cap_ratio": {
          "type": "number"
        },
        "max_delta_ratio": {
          "type": "number"
        }
      },
      "additionalProperties": true
    },
    "engine": {
      "type": "object",
      "properties": {
        "replace_rate_per_min": {
          "type": "number"
        },
        "concurrency_limit": {
          "type": "number"
        },
        "tail_age_ms": {
          "type": "number"
        },
        "min_interval_ms": {
          "type": "number"
        }
      },
      "additionalProperties": true
    }
  },
  "additionalProperties": true
}
"#;
const SOAK_RUN: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://example.invalid/mmsoak/schemas/soak_run.schema.json",
  "title": "SOAK_RUN.json",
  "description": "Run configuration, progress and resume state, schema mmsoak.soak_run.v1; written last in every iteration (its commit point). history, tuner_memory and tuning_report are internal resume state: their inner shape may change within v1.",
  "type": "object",
  "properties": {
    "schema": {
      "const": "mmsoak.soak_run.v1"
    },
    "mmsoak_version": {
      "type": "string"
    },
    "config": {
      "type": "object",
      "properties": {
        "driver": {
          "type": "string"
        },
        "exec_command": {
          "type": [
            "string",
            "null"
          ]
        },
        "scenario": {
          "type": [
            "string",
            "null"
          ]
        },
        "driver_settings": {
          "type": "object",
          "additionalProperties": {
            "type": "string"
          },
          "description": "The driver's other settings; --resume requires the same. sim: scenario_hash, sim_duration_s, and for a recorded market market_hash. Absent when empty."
        },
        "seed": {
          "type": "integer",
          "minimum": 0
        },
        "iterations": {
          "type": "integer",
          "minimum": 0
        },
        "auto_tune": {
          "type": "boolean"
        },
        "policy_file": {
          "type": [
            "string",
            "null"
          ]
        },
        "policy_hash": {
          "type": "string",
          "minLength": 64,
          "maxLength": 64,
          "description": "StateHash: blake3 of the canonical JSON, 64 lowercase hex characters"
        }
      },
      "required": [
        "driver",
        "seed",
        "iterations",
        "auto_tune",
        "policy_hash"
      ],
      "additionalProperties": true
    },
    "started_utc": {
      "type": "string"
    },
    "updated_utc": {
      "type": "string"
    },
    "completed_iterations": {
      "type": "integer",
      "minimum": 0
    },
    "finished": {
      "type": "boolean"
    },
    "initial_state_hash": {
      "type": "string",
      "minLength": 64,
      "maxLength": 64,
      "description": "StateHash: blake3 of the canonical JSON, 64 lowercase hex characters"
    },
    "history": {
      "type": "object",
      "properties": {
        "iterations": {
          "type": "array",
          "items": {
            "type": "object",
            "properties": {
              "iteration": {
                "type": "integer",
                "minimum": 1
              },
              "kpis": {
                "type": "object",
                "additionalProperties": true
              },
              "changes": {
                "type": "array",
                "items": {
                  "type": "object",
                  "properties": {
                    "param": {
                      "enum": [
                        "base_spread_bps",
                        "base_spread_bps_delta",
                        "impact_cap_ratio",
                        "max_delta_ratio",
                        "replace_rate_per_min",
                        "concurrency_limit",
                        "tail_age_ms",
                        "min_interval_ms"
                      ]
                    },
                    "from": {
                      "type": "number"
                    },
                    "to": {
                      "type": "number"
                    },
                    "requested": {
                      "type": "number"
                    },
                    "clamped": {
                      "type": "boolean"
                    }
                  },
                  "required": [
                    "param",
                    "from",
                    "to",
                    "requested",
                    "clamped"
                  ],
                  "additionalProperties": false
                }
              },
              "old_hash": {
                "type": "string",
                "minLength": 64,
                "maxLength": 64,
                "description": "StateHash: blake3 of the canonical JSON, 64 lowercase hex characters"
              },
              "state_hash": {
                "type": "string",
                "minLength": 64,
                "maxLength": 64,
                "description": "StateHash: blake3 of the canonical JSON, 64 lowercase hex characters"
              },
              "skip_reason": {
                "type": [
                  "object",
                  "null"
                ],
                "description": "null when applied; else exactly one flag true and a note",
                "properties": {
                  "cooldown": {
                    "type": "boolean"
                  },
                  "velocity": {
                    "type": "boolean"
                  },
                  "oscillation": {
                    "type": "boolean"
                  },
                  "freeze": {
                    "type": "boolean"
                  },
                  "no_op": {
                    "type": "boolean"
                  },
                  "final_iteration": {
                    "type": "boolean"
                  },
                  "note": {
                    "type": "string"
                  }
                },
                "required": [
                  "cooldown",
                  "velocity",
                  "oscillation",
                  "freeze",
                  "no_op",
                  "final_iteration",
                  "note"
                ],
                "additionalProperties": false
              }
            },
            "additionalProperties": true
          }
        }
      },
      "required": [
        "iterations"
      ],
      "additionalProperties": true
    },
    "tuner_memory": {
      "type": "object",
      "additionalProperties": true
    },
    "tuning_report": {
      "description": "Where TUNING_REPORT.json ends after the complete iterations: the report grows in place, and --resume cuts it back to this mark after a crash. Internal resume state.",
      "type": "object",
      "properties": {
        "body_end": {
          "type": "integer",
          "minimum": 0
        },
        "counts": {
          "type": "object",
          "additionalProperties": true
        }
      },
      "required": [
        "body_end",
        "counts"
      ],
      "additionalProperties": false
    }
  },
  "required": [
    "schema",
    "mmsoak_version",
    "config",
    "started_utc",
    "updated_utc",
    "completed_iterations",
    "finished",
    "initial_state_hash",
    "history",
    "tuner_memory"
  ],
  "additionalProperties": false
}
"#;
const TUNING_REPORT: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://example.invalid/mmsoak/schemas/tuning_report.schema.json",
  "title": "TUNING_REPORT.json",
  "description": "One entry per iteration and the run's counts.",
  "type": "object",
  "properties": {
    "iterations": {
      "type": "array",
      "items": {
        "type": "object",
        "properties": {
          "iteration": {
            "type": "integer",
            "minimum": 1
          },
          "runtime_utc": {
            "type": [
              "string",
              "null"
            ]
          },
          "net_bps": {
            "type": [
              "number",
              "null"
            ]
          },
          "neg_edge_drivers": {
            "type": "array",
            "items": {
              "type": "string"
            }
          },
          "proposed_deltas": {
            "type": "object",
            "propertyNames": {
              "enum": [
                "base_spread_bps",
                "base_spread_bps_delta",
                "impact_cap_ratio",
                "max_delta_ratio",
                "replace_rate_per_min",
                "concurrency_limit",
                "tail_age_ms",
                "min_interval_ms"
              ]
            },
            "additionalProperties": {
              "type": "number"
            }
          },
          "suggested_deltas": {
            "type": "object",
            "propertyNames": {
              "enum": [
                "base_spread_bps",
                "base_spread_bps_delta",
                "impact_cap_ratio",
                "max_delta_ratio",
                "replace_rate_per_min",
                "concurrency_limit",
                "tail_age_ms",
                "min_interval_ms"
              ]
            },
            "additionalProperties": {
              "type": "number"
            }
          },
          "rationale": {
            "type": "string"
          },
          "rules_fired": {
            "type": "array",
            "items": {
              "type": "string"
            }
          },
          "applied": {
            "type": "boolean"
          },
          "skip_reason": {
            "type": [
              "object",
              "null"
            ],
            "description": "null when applied; else exactly one flag true and a note",
            "properties": {
              "cooldown": {
                "type": "boolean"
              },
              "velocity": {
                "type": "boolean"
              },
              "oscillation": {
                "type": "boolean"
              },
              "freeze": {
                "type": "boolean"
              },
              "no_op": {
                "type": "boolean"
              },
              "final_iteration": {
                "type": "boolean"
              },
              "note": {
                "type": "string"
              }
            },
            "required": [
              "cooldown",
              "velocity",
              "oscillation",
              "freeze",
              "no_op",
              "final_iteration",
              "note"
            ],
            "additionalProperties": false
          },
          "changed_keys": {
            "type": "array",
            "items": {
              "enum": [
                "base_spread_bps",
                "base_spread_bps_delta",
                "impact_cap_ratio",
                "max_delta_ratio",
                "replace_rate_per_min",
                "concurrency_limit",
                "tail_age_ms",
                "min_interval_ms"
              ]
            }
          },
          "state_hash": {
            "type": "string",
            "minLength": 64,
            "maxLength": 64,
            "description": "StateHash: blake3 of the canonical JSON, 64 lowercase hex characters"
          },
          "old_hash": {
            "type": "string",
            "minLength": 64,
            "maxLength": 64,
            "description": "StateHash: blake3 of the canonical JSON, 64 lowercase hex characters"
          },
          "freeze_triggered": {
            "type": "boolean"
          },
          "oscillation_detected": {
            "type": "boolean"
          },
          "velocity_violation": {
            "type": "boolean"
          },
          "cooldown_active": {
            "type": "boolean"
          }
        },
        "required": [
          "iteration",
          "runtime_utc",
          "net_bps",
          "neg_edge_drivers",
          "proposed_deltas",
          "suggested_deltas",
          "rationale",
          "rules_fired",
          "applied",
          "skip_reason",
          "changed_keys",
          "state_hash",
          "old_hash",
          "freeze_triggered",
          "oscillation_detected",
          "velocity_violation",
          "cooldown_active"
        ],
        "additionalProperties": false
      }
    },
    "summary": {
      "type": "object",
      "properties": {
        "count": {
          "type": "integer",
          "minimum": 0
        },
        "applied": {
          "type": "integer",
          "minimum": 0
        },
        "blocked_oscillation": {
          "type": "integer",
          "minimum": 0
        },
        "blocked_velocity": {
          "type": "integer",
          "minimum": 0
        },
        "cooldown_skips": {
          "type": "integer",
          "minimum": 0
        },
        "freeze_skips": {
          "type": "integer",
          "minimum": 0
        },
        "no_op_skips": {
          "type": "integer",
          "minimum": 0
        },
        "final_iteration_skips": {
          "type": "integer",
          "minimum": 0
        }
      },
      "required": [
        "count",
        "applied",
        "blocked_oscillation",
        "blocked_velocity",
        "cooldown_skips",
        "freeze_skips",
        "no_op_skips",
        "final_iteration_skips"
      ],
      "additionalProperties": false
    }
  },
  "required": [
    "iterations",
    "summary"
  ],
  "additionalProperties": false
}
"#;

const SCENARIO: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://example.invalid/mmsoak/schemas/scenario.schema.json",
  "title": "simulator scenario (TOML)",
  "description": "A market scenario of the embedded simulator (TOML; this schema describes the TOML document as JSON). Every key is required; unknown keys are errors. Built-ins: crates/mmsoak-sim/scenarios/*.toml; see docs/sim.md.",
  "type": "object",
  "properties": {
    "name": {
      "description": "Short name (`default`, `calm`, ...).",
      "type": "string"
    },
    "description": {
      "description": "One line saying what the scenario is for.",
      "type": "string"
    },
    "market": {
      "description": "The generated market.",
      "type": "object",
      "properties": {
        "price": {
          "description": "Initial price.",
          "type": "number"
        },
        "tick_size": {
          "description": "Tick size (price units).",
          "type": "number"
        },
        "lot_size": {
          "description": "Lot size (quantity units).",
          "type": "number"
        },
        "step_ms": {
          "description": "Generator time step, ms (book updates are published at this pace).",
          "type": "integer",
          "minimum": 0
        },
        "vol_bps_per_sqrt_s": {
          "description": "Diffusion of the efficient price in the calm regime, bps per sqrt(second).",
          "type": "number"
        },
        "volatile_multiplier": {
          "description": "Volatility multiplier of the volatile regime.",
          "type": "number"
        },
        "to_volatile_per_hour": {
          "description": "Switches calm -> volatile per hour.",
          "type": "number"
        },
        "to_calm_per_hour": {
          "description": "Switches volatile -> calm per hour.",
          "type": "number"
        },
        "jumps_per_hour": {
          "description": "Price jumps per hour.",
          "type": "number"
        },
        "jump_bps_mean": {
          "description": "Mean jump size, bps (exponential).",
          "type": "number"
        },
        "informed_share": {
          "description": "Share of jumps announced by an informed sweep just before the move.",
          "type": "number"
        },
        "informed_sweep_top": {
          "description": "Size of an informed sweep, in units of top-of-book depth.",
          "type": "number"
        },
        "top_depth_lots": {
          "description": "Mean resting quantity at the best level, lots.",
          "type": "number"
        },
        "depth_slope": {
          "description": "Extra depth per level away from the best (for the first 5 levels).",
          "type": "number"
        },
        "levels": {
          "description": "Price levels published on each side.",
          "type": "integer",
          "minimum": 0
        },
        "trades_per_second": {
          "description": "Uninformed market orders per second (Poisson).",
          "type": "number"
        },
        "trade_size_top": {
          "description": "Scale of a market order, in units of top-of-book depth.",
          "type": "number"
        },
        "trade_size_tail": {
          "description": "Pareto tail index of market order sizes (smaller = heavier tail).",
          "type": "number"
        },
        "impact_bps_per_top": {
          "description": "Permanent impact of a market order, bps per top-of-book depth traded.",
          "type": "number"
        },
        "feed_latency_ms": {
          "description": "Feed latency (exchange -> bot), ms.",
          "type": "number"
        }
      },
      "required": [
        "price",
        "tick_size",
        "lot_size",
        "step_ms",
        "vol_bps_per_sqrt_s",
        "volatile_multiplier",
        "to_volatile_per_hour",
        "to_calm_per_hour",
        "jumps_per_hour",
        "jump_bps_mean",
        "informed_share",
        "informed_sweep_top",
        "top_depth_lots",
        "depth_slope",
        "levels",
        "trades_per_second",
        "trade_size_top",
        "trade_size_tail",
        "impact_bps_per_top",
        "feed_latency_ms"
      ],
      "additionalProperties": false
    },
    "bot": {
      "description": "The bot's fixed traits (what the tuned parameters do not set).",
      "type": "object",
      "properties": {
        "spread_unit_bps": {
          "description": "bps of half-spread per unit of `base_spread_bps + base_spread_bps_delta`.",
          "type": "number"
        },
        "skew_at_limit_bps": {
          "description": "Inventory skew at the position limit, bps (absolute, not a share of the half-spread: at a tight spread the skewed reducing quote crosses).",
          "type": "number"
        },
        "decision_ms": {
          "description": "Decision loop period, ms.",
          "type": "integer",
          "minimum": 0
        },
        "capital_lots": {
          "description": "Position limit at `max_delta_ratio = 1`, lots.",
          "type": "number"
        },
        "requote_ticks": {
          "description": "A quote is replaced when its target moved this many ticks.",
          "type": "integer",
          "minimum": 0
        },
        "flatten_to_share": {
          "description": "Flattening trades bring inventory back to this share of the limit.",
          "type": "number"
        },
        "adverse_horizon_ms": {
          "description": "Horizon over which adverse selection is measured, ms.",
          "type": "integer",
          "minimum": 0
        }
      },
      "required": [
        "spread_unit_bps",
        "skew_at_limit_bps",
        "decision_ms",
        "capital_lots",
        "requote_ticks",
        "flatten_to_share",
        "adverse_horizon_ms"
      ],
      "additionalProperties": false
    },
    "latency": {
      "description": "Order latency.",
      "type": "object",
      "properties": {
        "base_ms": {
          "description": "Base round trip, ms.",
          "type": "number"
        },
        "per_in_flight_ms": {
          "description": "Added per order in flight when the order is sent, ms.",
          "type": "number"
        },
        "jitter_ms": {
          "description": "Mean of the exponential jitter, ms.",
          "type": "number"
        },
        "response_share": {
          "description": "Share of the round trip spent on the way back (exchange -> bot).",
          "type": "number"
        },
        "spike_from_iteration": {
          "description": "From this iteration on the base jumps by `spike_extra_ms` (0 = never).",
          "type": "integer",
          "minimum": 0
        },
        "spike_extra_ms": {
          "description": "The jump of the base, ms.",
          "type": "number"
        }
      },
      "required": [
        "base_ms",
        "per_in_flight_ms",
        "jitter_ms",
        "response_share",
        "spike_from_iteration",
        "spike_extra_ms"
      ],
      "additionalProperties": false
    },
    "fees": {
      "description": "Exchange fees.",
      "type": "object",
      "properties": {
        "maker_bps": {
          "description": "Maker fee.",
          "type": "number"
        },
        "taker_bps": {
          "description": "Taker fee.",
          "type": "number"
        }
      },
      "required": [
        "maker_bps",
        "taker_bps"
      ],
      "additionalProperties": false
    }
  },
  "required": [
    "name",
    "description",
    "market",
    "bot",
    "latency",
    "fees"
  ],
  "additionalProperties": false
}
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_schema_parses_names_its_draft_and_is_listed_in_order() {
        for s in ALL {
            let v = s.value().unwrap_or_else(|e| panic!("{}: {e}", s.file));
            assert!(s.text.ends_with("}\n"), "{} ends with a newline", s.file);
            assert_eq!(v["$schema"], "https://json-schema.org/draft/2020-12/schema");
            assert!(v["$id"].as_str().is_some_and(|id| id.ends_with(s.file)));
        }
        let files: Vec<&str> = ALL.iter().map(|s| s.file).collect();
        let mut sorted = files.clone();
        sorted.sort_unstable();
        assert_eq!(files, sorted);
    }

    #[track_caller]
    fn check(schema: Value, doc: Value, expect: &[&str]) {
        assert_eq!(validate(&schema, &doc), expect);
    }

    #[test]
    fn each_keyword_rejects_what_it_should() {
        let s = json!({"type": "object", "required": ["a"], "additionalProperties": false,
            "properties": {"a": {"type": "integer", "minimum": 1, "maximum": 3},
                "b": {"enum": ["x", "y"]}, "c": {"type": "string", "minLength": 2, "maxLength": 2},
                "d": {"type": "array", "items": {"type": ["number", "null"]}}, "e": {"const": "v1"}}});
        check(
            s.clone(),
            json!({"a": 2, "b": "x", "c": "ab", "d": [1.5, null], "e": "v1"}),
            &[],
        );
        check(s.clone(), json!({}), &["`a` is missing"]);
        check(
            s.clone(),
            json!({"a": 0}),
            &["`a` is 0, below the minimum 1"],
        );
        check(
            s.clone(),
            json!({"a": 4}),
            &["`a` is 4, above the maximum 3"],
        );
        check(
            s.clone(),
            json!({"a": 1.5}),
            &["`a` should be integer, found a number"],
        );
        check(
            s.clone(),
            json!({"a": 1, "b": "z"}),
            &["`b` is \"z\", not one of [\"x\",\"y\"]"],
        );
        check(
            s.clone(),
            json!({"a": 1, "c": "abc"}),
            &["`c` has 3 characters, more than 2"],
        );
        check(
            s.clone(),
            json!({"a": 1, "d": [1, "2"]}),
            &["`d[1]` should be number or null, found a string"],
        );
        check(
            s.clone(),
            json!({"a": 1, "e": "v2"}),
            &["`e` should be \"v1\", found \"v2\""],
        );
        check(
            s.clone(),
            json!({"a": 1, "zz": 1}),
            &["`zz` is not a known key"],
        );
        check(s, json!([1]), &["`$` should be object, found an array"]);
        let map = json!({"type": "object", "propertyNames": {"enum": ["k"]}, "additionalProperties": {"type": "number"}});
        check(map.clone(), json!({"k": 1}), &[]);
        check(
            map,
            json!({"j": true}),
            &[
                "`j` is \"j\", not one of [\"k\"]",
                "`j` should be number, found a boolean",
            ],
        );
    }
}
