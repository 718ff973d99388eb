//! [`StateHash`]: blake3 of the canonical JSON of a runtime state.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::canonical::to_canonical_bytes;

/// The identity of a runtime state: blake3 of its canonical JSON bytes,
/// shown as 64 lowercase hex characters.
///
/// Equal documents hash equal regardless of key order or whitespace;
/// any change of a value changes the hash.
///
/// ```
/// use mmsoak_core::StateHash;
/// let a: serde_json::Value = serde_json::from_str(r#"{"engine": {"min_interval_ms": 60}}"#).unwrap();
/// let b: serde_json::Value = serde_json::from_str(r#"{ "engine":{ "min_interval_ms":60 } }"#).unwrap();
/// assert_eq!(StateHash::of_value(&a), StateHash::of_value(&b));
/// let h = StateHash::of_value(&a);
/// assert_eq!(h.to_string().len(), 64);
/// assert_eq!(h.to_string().parse::<StateHash>().unwrap(), h);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StateHash([u8; 32]);

impl StateHash {
    /// The first 12 hex digits, as reports and notes abbreviate a state.
    ///
    /// ```
    /// let h = mmsoak_core::StateHash::of_canonical_bytes(b"{}");
    /// assert_eq!(h.short(), &h.to_string()[..12]);
    /// ```
    pub fn short(&self) -> String {
        let mut s = self.to_string();
        s.truncate(12);
        s
    }

    /// Hash of already canonical bytes.
    pub fn of_canonical_bytes(bytes: &[u8]) -> Self {
        StateHash(*blake3::hash(bytes).as_bytes())
    }

    /// Hash of a document (canonicalized first).
    pub fn of_value(value: &Value) -> Self {
        Self::of_canonical_bytes(&to_canonical_bytes(value))
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Wrap 32 raw bytes (e.g. a legacy sha256 digest read from an artifact).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        StateHash(bytes)
    }
}

impl fmt::Display for StateHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for StateHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StateHash({self})")
    }
}

/// Text that is not 64 lowercase hex characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a state hash (64 lowercase hex characters)")]
pub struct InvalidStateHash(pub String);

impl FromStr for StateHash {
    type Err = InvalidStateHash;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || InvalidStateHash(s.chars().take(80).collect());
        let b = s.as_bytes();
        if b.len() != 64 {
            return Err(bad());
        }
        let nibble = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        let mut out = [0u8; 32];
        for (i, pair) in b.chunks_exact(2).enumerate() {
            let hi = nibble(pair[0]).ok_or_else(bad)?;
            let lo = nibble(pair[1]).ok_or_else(bad)?;
            out[i] = hi << 4 | lo;
        }
        Ok(StateHash(out))
    }
}

impl Serialize for StateHash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for StateHash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        /// Parses the text where it lies (no `String` per hash).
        struct HexVisitor;
        impl serde::de::Visitor<'_> for HexVisitor {
            type Value = StateHash;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<StateHash, E> {
                s.parse().map_err(E::custom)
            }
        }
        d.deserialize_str(HexVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canonical::finite_number;
    use proptest::prelude::*;
    use serde_json::Map;

    #[test]
    fn known_vectors() {
        // blake3("{}") and blake3 of a canonical document, computed independently.
        assert_eq!(
            StateHash::of_value(&Value::Object(Map::new())).to_string(),
            blake3::hash(b"{}").to_hex().to_string()
        );
        let v: Value = serde_json::from_str(r#"{"min_interval_ms": 60}"#).expect("json");
        assert_eq!(
            StateHash::of_value(&v).to_string(),
            blake3::hash(br#"{"min_interval_ms":60}"#)
                .to_hex()
                .to_string()
        );
        let v2: Value = serde_json::from_str(r#"{"min_interval_ms": 60.0}"#).expect("json");
        assert_ne!(StateHash::of_value(&v), StateHash::of_value(&v2));
    }

    #[test]
    fn parse_rejects_bad_text() {
        let good = "a".repeat(64);
        assert!(good.parse::<StateHash>().is_ok());
        for bad in [
            "",
            &"a".repeat(63),
            &"A".repeat(64),
            &"g".repeat(64),
            &"a".repeat(65),
        ] {
            assert!(bad.parse::<StateHash>().is_err(), "{bad}");
        }
    }

    #[test]
    fn serde_is_a_hex_string() {
        let h = StateHash::of_canonical_bytes(b"x");
        let json = serde_json::to_string(&h).expect("serialize");
        assert_eq!(json, format!("\"{h}\""));
        assert_eq!(
            serde_json::from_str::<StateHash>(&json).expect("deserialize"),
            h
        );
        assert!(serde_json::from_str::<StateHash>("\"nope\"").is_err());
    }

    /// Serialize with keys in reverse order and extra whitespace.
    fn scrambled(v: &Value) -> String {
        match v {
            Value::Object(m) => {
                let mut parts: Vec<String> = m
                    .iter()
                    .map(|(k, v)| format!("{} :\n {}", Value::String(k.clone()), scrambled(v)))
                    .collect();
                parts.reverse();
                format!("{{ {} }}", parts.join(" ,\t"))
            }
            Value::Array(a) => {
                format!(
                    "[ {} ]",
                    a.iter().map(scrambled).collect::<Vec<_>>().join(" , ")
                )
            }
            other => other.to_string(),
        }
    }

    fn arb_state() -> impl Strategy<Value = Map<String, Value>> {
        let num = prop_oneof![
            any::<i32>().prop_map(Value::from),
            (-1e6f64..1e6).prop_map(|f| Value::Number(finite_number(f).expect("finite"))),
        ];
        prop::collection::btree_map(
            "[a-z_]{1,8}",
            prop_oneof![
                num.clone(),
                prop::collection::btree_map("[a-z_]{1,8}", num, 1..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ],
            1..8,
        )
        .prop_map(|m| m.into_iter().collect())
    }

    proptest! {
        #[test]
        fn key_order_and_whitespace_never_change_the_hash(m in arb_state()) {
            let v = Value::Object(m);
            let text = scrambled(&v);
            let back: Value = serde_json::from_str(&text).expect("scrambled JSON parses");
            prop_assert_eq!(StateHash::of_value(&back), StateHash::of_value(&v));
        }

        #[test]
        fn changing_any_value_changes_the_hash(m in arb_state(), pick in any::<prop::sample::Index>(), bump in 1i64..1000) {
            let v = Value::Object(m.clone());
            let key = pick.get(&m.keys().cloned().collect::<Vec<_>>()).clone();
            let mut changed = m;
            let slot = changed.get_mut(&key).expect("picked key exists");
            *slot = match slot.take() {
                Value::Object(inner) => {
                    let mut inner = inner;
                    let k = inner.keys().next().cloned().expect("non-empty");
                    inner.insert(k, Value::String(format!("changed-{bump}")));
                    Value::Object(inner)
                }
                Value::Number(n) => match n.as_i64() {
                    Some(i) => Value::from(i.wrapping_add(bump)),
                    None => Value::from(n.as_f64().unwrap_or(0.0) + bump as f64),
                },
                other => other,
            };
            prop_assert_ne!(StateHash::of_value(&Value::Object(changed)), StateHash::of_value(&v));
        }
    }
}
