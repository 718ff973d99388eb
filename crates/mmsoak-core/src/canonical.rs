//! Canonical JSON: the one byte form of a document that [`StateHash`](crate::StateHash) hashes.
//!
//! * object keys sorted by code point (byte order of UTF-8), at every depth;
//! * no insignificant whitespace;
//! * integers written as integers (`60`), floats in shortest round-trip form
//!   as serde_json prints them (`60.0`, `0.09`, `0.00001`, `1e+16`): `60` and
//!   `60.0` are different documents;
//! * strings as UTF-8 with only `"`, `\` and control characters escaped;
//! * NaN and infinities cannot be represented and are rejected.
//!
//! Serialize → parse → serialize is byte-identical.

use std::cell::RefCell;

use serde_json::{Map, Number, Value};

/// A document could not be read as JSON.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum JsonError {
    /// Not JSON at all (truncated, garbage, trailing characters).
    #[error(
        "invalid JSON at line {line} column {column}: {}",
        crate::input::excerpt(message)
    )]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the parser said.
        message: String,
    },
    /// An object holds the same key twice (which value is meant cannot be
    /// known; serde_json and Python would silently take the last).
    #[error(
        "`{}` appears twice (a key may appear only once)",
        crate::input::excerpt(path)
    )]
    DuplicateKey {
        /// JSON path of the repeated key, e.g. `risk.min_interval_ms`.
        path: String,
    },
    /// A `NaN`/`Infinity` literal (as Python's `json.dump` writes them).
    #[error("`{}` is {token}, not a finite number", crate::input::excerpt(path))]
    NonFinite {
        /// JSON path of the value, e.g. `totals.net_bps`.
        path: String,
        /// The literal found: `NaN`, `Infinity` or `-Infinity`.
        token: String,
    },
}

/// A float that JSON cannot carry.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error("{0} is not a finite number and has no JSON form")]
pub struct NonFiniteNumber(pub f64);

/// A JSON number for `value`, or an error for NaN and infinities.
///
/// `serde_json::to_value(f64::NAN)` silently yields `null`; this does not.
pub fn finite_number(value: f64) -> Result<Number, NonFiniteNumber> {
    Number::from_f64(value).ok_or(NonFiniteNumber(value))
}

/// The canonical bytes of a document.
///
/// ```
/// let v: serde_json::Value = serde_json::from_str(r#"{ "b": 1, "a": [0.5, 60.0, null] }"#).unwrap();
/// assert_eq!(mmsoak_core::canonical::to_canonical_bytes(&v), br#"{"a":[0.5,60.0,null],"b":1}"#);
/// ```
pub fn to_canonical_bytes(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    write_canonical(value, &mut out);
    out
}

/// Append the canonical bytes of `value` to `out` (no allocation besides
/// `out`'s growth and, for objects whose keys are not already in order, one
/// sort): for hashing many documents with one scratch buffer.
pub fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    use std::io::Write;
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        // Writing into a Vec cannot fail.
        Value::Number(n) => drop(write!(out, "{n}")),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            // serde_json's default map iterates in byte order already; with its
            // `preserve_order` feature (another crate may switch it on) it
            // does not, and the keys are sorted here.
            let sorted = map
                .keys()
                .zip(map.keys().skip(1))
                .all(|(a, b)| a.as_bytes() < b.as_bytes());
            out.push(b'{');
            let mut write_entry = |i: usize, k: &str, v: &Value| {
                if i > 0 {
                    out.push(b',');
                }
                write_string(k, out);
                out.push(b':');
                write_canonical(v, out);
            };
            if sorted {
                for (i, (k, v)) in map.iter().enumerate() {
                    write_entry(i, k, v);
                }
            } else {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                for (i, (k, v)) in entries.into_iter().enumerate() {
                    write_entry(i, k, v);
                }
            }
            out.push(b'}');
        }
    }
}

fn write_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let bytes = s.as_bytes();
    if !bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\') {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b >= 0x20 && b != b'"' && b != b'\\' {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            }
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Parse a JSON document strictly: an object with the same key twice is an
/// error naming it ([`JsonError::DuplicateKey`]; serde_json's `Value` would
/// keep the last one silently), and `NaN`/`Infinity` literals are explained
/// by the path where they stand instead of by a column number. A UTF-8 byte
/// order mark before the document (as Windows editors write) is skipped.
///
/// ```
/// use mmsoak_core::canonical::{parse_document, JsonError};
/// let err = parse_document(br#"{"totals": {"net_bps": NaN}}"#).unwrap_err();
/// assert_eq!(err, JsonError::NonFinite { path: "totals.net_bps".into(), token: "NaN".into() });
/// let err = parse_document(br#"{"risk": {"min_interval_ms": 75, "min_interval_ms": 41}}"#).unwrap_err();
/// assert_eq!(err.to_string(), "`risk.min_interval_ms` appears twice (a key may appear only once)");
/// ```
pub fn parse_document(bytes: &[u8]) -> Result<Value, JsonError> {
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    let duplicate = RefCell::new(None);
    match parse_strict(bytes, &duplicate) {
        Ok(v) => Ok(v),
        Err(err) => {
            if let Some(segments) = duplicate.into_inner() {
                return Err(JsonError::DuplicateKey {
                    path: path_of_segments(segments),
                });
            }
            let syntax = JsonError::Syntax {
                line: err.line(),
                column: err.column(),
                message: strip_position(&err.to_string()),
            };
            if let Some(replaced) = replace_non_finite(bytes) {
                if let Ok(v) = serde_json::from_slice::<Value>(&replaced) {
                    if let Some((path, token)) = find_sentinel(&v, &mut String::new()) {
                        return Err(JsonError::NonFinite { path, token });
                    }
                }
            }
            Err(syntax)
        }
    }
}

/// The byte order mark UTF-8 text may start with.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Where a duplicate key was found, innermost segment first (`Err` unwinds
/// from it outwards, each level adding its own).
type DuplicateAt = RefCell<Option<Vec<Segment>>>;

enum Segment {
    Key(String),
    Index(usize),
}

fn path_of_segments(mut segments: Vec<Segment>) -> String {
    segments.reverse();
    let mut path = String::new();
    for segment in segments {
        match segment {
            Segment::Key(k) => path = join_path(&path, &k),
            Segment::Index(i) => path.push_str(&format!("[{i}]")),
        }
    }
    path
}

fn parse_strict(bytes: &[u8], duplicate: &DuplicateAt) -> Result<Value, serde_json::Error> {
    use serde::de::DeserializeSeed;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = StrictValue(duplicate).deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// A `serde_json::Value` that refuses an object's second occurrence of a key.
#[derive(Clone, Copy)]
struct StrictValue<'a>(&'a DuplicateAt);

impl<'de> serde::de::DeserializeSeed<'de> for StrictValue<'_> {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for StrictValue<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // serde_json never hands over a non-finite float.
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        loop {
            match seq.next_element_seed(self) {
                Ok(Some(v)) => items.push(v),
                Ok(None) => return Ok(Value::Array(items)),
                Err(e) => {
                    if let Some(at) = self.0.borrow_mut().as_mut() {
                        at.push(Segment::Index(items.len()));
                    }
                    return Err(e);
                }
            }
        }
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                *self.0.borrow_mut() = Some(vec![Segment::Key(key)]);
                return Err(serde::de::Error::custom("duplicate key"));
            }
            match map.next_value_seed(self) {
                Ok(v) => {
                    out.insert(key, v);
                }
                Err(e) => {
                    if let Some(at) = self.0.borrow_mut().as_mut() {
                        at.push(Segment::Key(key));
                    }
                    return Err(e);
                }
            }
        }
        Ok(Value::Object(out))
    }
}

fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

const SENTINEL: &str = "@@mmsoak-non-finite@@:";

/// Replace bare `NaN`, `Infinity`, `-Infinity` tokens (outside strings) by
/// sentinel strings. `None` when there are none.
fn replace_non_finite(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len() + 64);
    let mut i = 0;
    let mut in_string = false;
    let mut found = false;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            out.push(b);
            if b == b'\\' && i + 1 < bytes.len() {
                out.push(bytes[i + 1]);
                i += 2;
                continue;
            }
            if b == b'"' {
                in_string = false;
            }
            i += 1;
            continue;
        }
        if b == b'"' {
            in_string = true;
            out.push(b);
            i += 1;
            continue;
        }
        let rest = &bytes[i..];
        let token = ["-Infinity", "Infinity", "NaN"]
            .into_iter()
            .find(|t| rest.starts_with(t.as_bytes()));
        match token {
            Some(t) => {
                found = true;
                out.extend_from_slice(format!("\"{SENTINEL}{t}\"").as_bytes());
                i += t.len();
            }
            None => {
                out.push(b);
                i += 1;
            }
        }
    }
    found.then_some(out)
}

fn find_sentinel(v: &Value, path: &mut String) -> Option<(String, String)> {
    match v {
        Value::String(s) => s
            .strip_prefix(SENTINEL)
            .map(|t| (path.clone(), t.to_owned())),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
            let len = path.len();
            path.push_str(&format!("[{i}]"));
            let r = find_sentinel(item, path);
            path.truncate(len);
            r
        }),
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            keys.into_iter().find_map(|k| {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                let r = find_sentinel(&map[k], path);
                path.truncate(len);
                r
            })
        }
        _ => None,
    }
}

/// Any JSON value, read and dropped like `serde::de::IgnoredAny`, but
/// refusing an object that holds a key twice, as [`parse_document`] does:
/// for typed readers that skip what they do not use.
///
/// ```
/// use mmsoak_core::canonical::UniqueKeys;
/// assert!(serde_json::from_str::<Vec<UniqueKeys>>(r#"[{"a": 1}, {"a": {"b": [1]}}]"#).is_ok());
/// let err = serde_json::from_str::<Vec<UniqueKeys>>(r#"[{"a": {"b": 1, "b": 2}}]"#).unwrap_err();
/// assert!(err.to_string().starts_with("`b` appears twice"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UniqueKeys;

impl<'de> serde::Deserialize<'de> for UniqueKeys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UniqueKeysVisitor)
    }
}

struct UniqueKeysVisitor;

impl<'de> serde::de::Visitor<'de> for UniqueKeysVisitor {
    type Value = UniqueKeys;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_i64<E>(self, _: i64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_u64<E>(self, _: u64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_f64<E>(self, _: f64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_str<E>(self, _: &str) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_unit<E>(self) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_none<E>(self) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<UniqueKeys, A::Error> {
        while seq.next_element::<UniqueKeys>()?.is_some() {}
        Ok(UniqueKeys)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<UniqueKeys, A::Error> {
        let mut keys = std::collections::BTreeSet::new();
        while let Some(key) = map.next_key::<String>()? {
            map.next_value::<UniqueKeys>()?;
            if let Some(key) = keys.replace(key) {
                return Err(serde::de::Error::custom(format!(
                    "`{}` appears twice",
                    crate::input::excerpt(&key)
                )));
            }
        }
        Ok(UniqueKeys)
    }
}

/// Join a JSON path the way error messages spell it: `totals.fills.maker_volume`.
pub fn join_path(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// A mutable view of the object at `path` inside `root`, creating empty
/// objects on the way. `Err(prefix)` when a value on the way is not an object.
pub(crate) fn object_at_mut<'a>(
    root: &'a mut Map<String, Value>,
    path: &[&str],
) -> Result<&'a mut Map<String, Value>, String> {
    let mut cur = root;
    for (depth, key) in path.iter().enumerate() {
        let entry = cur
            .entry((*key).to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        cur = match entry {
            Value::Object(m) => m,
            _ => return Err(path[..=depth].join(".")),
        };
    }
    Ok(cur)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn canon(s: &str) -> String {
        let v: Value = serde_json::from_str(s).expect("test JSON parses");
        String::from_utf8(to_canonical_bytes(&v)).expect("canonical JSON is UTF-8")
    }

    #[test]
    fn sorted_compact_and_number_forms() {
        assert_eq!(canon("{}"), "{}");
        assert_eq!(
            canon(r#"{"b": {"z": 1, "a": 2}, "a": []}"#),
            r#"{"a":[],"b":{"a":2,"z":1}}"#
        );
        assert_eq!(
            canon(r#"[60, 60.0, 1e-05, 1E+16, -0.0, 0.1]"#),
            "[60,60.0,0.00001,1e+16,-0.0,0.1]"
        );
        assert_eq!(
            canon(r#"{"é": "\u00e9\n\u0001", "e": true}"#),
            "{\"e\":true,\"é\":\"é\\n\\u0001\"}"
        );
    }

    #[test]
    fn finite_number_rejects_nan_and_infinities() {
        assert!(finite_number(f64::NAN).is_err());
        assert!(finite_number(f64::INFINITY).is_err());
        assert!(finite_number(f64::NEG_INFINITY).is_err());
        assert!(finite_number(0.5).is_ok());
    }

    #[test]
    fn non_finite_literals_are_named_by_path() {
        let cases = [
            (r#"{"a": NaN}"#, "a", "NaN"),
            (r#"{"a": {"b": [1, -Infinity]}}"#, "a.b[1]", "-Infinity"),
            (
                r#"{"s": "NaN inside a string", "x": Infinity}"#,
                "x",
                "Infinity",
            ),
        ];
        for (text, path, token) in cases {
            assert_eq!(
                parse_document(text.as_bytes()),
                Err(JsonError::NonFinite {
                    path: path.into(),
                    token: token.into()
                }),
                "{text}"
            );
        }
    }

    #[test]
    fn truncated_json_is_a_syntax_error_with_position() {
        match parse_document(b"{\"totals\": {\"net_bps\": 1.5,") {
            Err(JsonError::Syntax { line: 1, .. }) => {}
            other => panic!("expected syntax error, got {other:?}"),
        }
        assert!(matches!(parse_document(b""), Err(JsonError::Syntax { .. })));
        assert!(matches!(
            parse_document(b"{} x"),
            Err(JsonError::Syntax { .. })
        ));
    }

    #[test]
    fn a_key_twice_is_an_error_naming_it() {
        let cases = [
            (r#"{"a": 1, "a": 1}"#, "a"),
            (
                r#"{"risk": {"x": 1, "min_interval_ms": 75, "min_interval_ms": 41}}"#,
                "risk.min_interval_ms",
            ),
            (r#"{"a": [0, {"b": {"c": 1, "c": 2}}]}"#, "a[1].b.c"),
            (r#"[{}, [{"k": null, "k": null}]]"#, "[1][0].k"),
        ];
        for (text, path) in cases {
            assert_eq!(
                parse_document(text.as_bytes()),
                Err(JsonError::DuplicateKey { path: path.into() }),
                "{text}"
            );
        }
        // The same key in sibling objects is fine.
        assert!(parse_document(br#"{"a": {"k": 1}, "b": {"k": 1}}"#).is_ok());
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        let v = parse_document(b"\xEF\xBB\xBF{\"a\": 1}").expect("BOM then JSON");
        assert_eq!(v, serde_json::json!({"a": 1}));
        // Only one, and only at the start.
        assert!(parse_document(b"\xEF\xBB\xBF\xEF\xBB\xBF{}").is_err());
        assert!(parse_document(b"{}\xEF\xBB\xBF").is_err());
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = "[".repeat(100_000);
        assert!(matches!(
            parse_document(deep.as_bytes()),
            Err(JsonError::Syntax { .. })
        ));
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| Value::Number(finite_number(f).expect("filtered finite"))),
            "[a-z\u{e9}\"\\\\\n ]{0,6}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::btree_map("[a-zA-Z_\u{e9}]{0,5}", inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn serialize_parse_serialize_is_identical(v in arb_json()) {
            let bytes = to_canonical_bytes(&v);
            let back = parse_document(&bytes).expect("canonical bytes parse");
            prop_assert_eq!(&back, &v);
            prop_assert_eq!(to_canonical_bytes(&back), bytes);
        }

        #[test]
        fn the_strict_parser_agrees_with_serde_json_on_duplicate_free_text(v in arb_json()) {
            let text = serde_json::to_vec_pretty(&v).expect("serializable");
            prop_assert_eq!(parse_document(&text).expect("parses"), serde_json::from_slice::<Value>(&text).expect("parses"));
        }

        #[test]
        fn whitespace_and_key_order_do_not_matter(v in arb_json()) {
            let pretty = serde_json::to_vec_pretty(&v).expect("serializable");
            let reparsed = parse_document(&pretty).expect("pretty JSON parses");
            prop_assert_eq!(to_canonical_bytes(&reparsed), to_canonical_bytes(&v));
        }
    }
}
