//! The marker events the tuner emits (the rules themselves are in
//! [`crate::rules`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use crate::rules::Rule;

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What happened in one proposal, as listed in `rules_fired`.
///
/// Serialized as a name: a rule's name, `"GUARD"` or `"STABLE"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Marker {
    /// A rule's condition held.
    Rule(Rule),
    /// The conflict guard dropped a min_interval_ms decrease
    /// (`GUARD conflict=spread_widen_vs_speedup`).
    ConflictGuard,
    /// No rule's condition held.
    Stable,
}

impl Marker {
    /// The name, e.g. `"MAKER_BOOST"`, `"GUARD"`, `"STABLE"`.
    pub const fn name(self) -> &'static str {
        match self {
            Marker::Rule(rule) => rule.name(),
            Marker::ConflictGuard => "GUARD",
            Marker::Stable => "STABLE",
        }
    }
}

impl fmt::Display for Marker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The name is not a marker.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown marker `{0}`")]
pub struct UnknownMarker(pub String);

impl FromStr for Marker {
    type Err = UnknownMarker;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "GUARD" => Ok(Marker::ConflictGuard),
            "STABLE" => Ok(Marker::Stable),
            _ => Rule::ALL
                .into_iter()
                .find(|r| r.name() == s)
                .map(Marker::Rule)
                .ok_or_else(|| UnknownMarker(s.to_owned())),
        }
    }
}

impl Serialize for Marker {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Marker {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_serde() {
        let mut markers: Vec<Marker> = Rule::ALL.into_iter().map(Marker::Rule).collect();
        markers.extend([Marker::ConflictGuard, Marker::Stable]);
        for m in markers {
            let json = serde_json::to_string(&m).expect("serialize");
            assert_eq!(json, format!("\"{}\"", m.name()));
            assert_eq!(
                serde_json::from_str::<Marker>(&json).expect("deserialize"),
                m
            );
        }
        for r in Rule::ALL {
            assert_eq!(
                serde_json::to_value(r).ok(),
                Some(serde_json::Value::from(r.name()))
            );
        }
        assert!(serde_json::from_str::<Marker>("\"DRIVER\"").is_err());
    }

    #[test]
    fn driver_rules_share_the_driver_marker() {
        assert_eq!(Rule::DriverAdverse.marker(), "DRIVER");
        assert_eq!(Rule::DriverSlippage.marker(), "DRIVER");
        assert_eq!(Rule::LatencyHard.marker(), "LATENCY_HARD");
    }
}
