//! The fast path of [`IterSummary`] reading: a typed, borrowing
//! deserialization of the few fields used, straight from the bytes.
//!
//! It never reports an error itself. Whenever anything is unusual (not UTF-8,
//! not JSON, a type or value the readers reject, escaped keys, unsorted or
//! duplicate delta names, ...) it answers `None` and the caller runs the
//! reference path (`serde_json::Value` + `Fields`), which produces the exact
//! error, naming the file and the JSON path. When it answers `Some`, the
//! summary equals what the reference path builds from the same bytes (tested
//! in `tests/fast_path.rs` and below).

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::path::Path;
use std::sync::Arc;

use mmsoak_core::{Param, StateHash};
use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Number, Value};

use crate::artifacts::{
    GuardFlags, IterSummary, RecordedOperation, RuntimeState, SkipReason, SummaryKpis,
    TuningRecord, MMSOAK_ITER_SUMMARY_SCHEMA,
};

/// A JSON object deserialized into `T`; an array (which serde's derived
/// structs would accept positionally) is an error.
struct Obj<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = T;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map))
            }
        }
        d.deserialize_map(V(PhantomData)).map(Obj)
    }
}

#[derive(Deserialize)]
struct Doc<'a> {
    #[serde(borrow)]
    schema: Option<Cow<'a, str>>,
    iteration: Option<Number>,
    #[serde(borrow)]
    runtime_overrides: Option<&'a RawValue>,
    #[serde(borrow)]
    runtime: Option<&'a RawValue>,
    #[serde(borrow)]
    config: Option<&'a RawValue>,
    #[serde(borrow)]
    summary: Option<Obj<Kpis<'a>>>,
    #[serde(borrow)]
    tuning: Option<Obj<Tuning<'a>>>,
}

#[derive(Deserialize)]
struct Kpis<'a> {
    risk_ratio: Option<f64>,
    maker_taker_ratio: Option<f64>,
    net_bps: Option<f64>,
    p95_latency_ms: Option<f64>,
    #[serde(borrow)]
    runtime_utc: Option<Cow<'a, str>>,
    fills: Option<Obj<Fills>>,
}

#[derive(Deserialize)]
struct Fills {
    maker_volume: Option<f64>,
    taker_volume: Option<f64>,
    maker_count: Option<Number>,
    taker_count: Option<Number>,
    maker_fills: Option<Number>,
    taker_fills: Option<Number>,
}

#[derive(Deserialize)]
struct Tuning<'a> {
    #[serde(borrow)]
    proposed_deltas: Option<DeltaList<'a>>,
    #[serde(borrow)]
    deltas: Option<DeltaList<'a>>,
    #[serde(borrow)]
    operations: Option<Vec<Obj<Operation<'a>>>>,
    #[serde(borrow)]
    skip_reason: Option<Skip<'a>>,
    applied: Option<bool>,
    freeze_triggered: Option<bool>,
    oscillation_detected: Option<bool>,
    velocity_violation: Option<bool>,
    cooldown_active: Option<bool>,
    #[serde(borrow)]
    state_hash: Option<Cow<'a, str>>,
    #[serde(borrow)]
    signature: Option<Cow<'a, str>>,
    #[serde(borrow)]
    old_hash: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Operation<'a> {
    #[serde(borrow)]
    param: Option<Cow<'a, str>>,
    from: Option<f64>,
    to: Option<f64>,
}

#[derive(Deserialize)]
struct Guards<'a> {
    freeze: Option<bool>,
    oscillation: Option<bool>,
    velocity: Option<bool>,
    cooldown: Option<bool>,
    no_op: Option<bool>,
    final_iteration: Option<bool>,
    #[serde(borrow)]
    note: Option<Cow<'a, str>>,
}

/// The entries of a delta object in file order (keys without escapes).
struct DeltaList<'a>(Vec<(&'a str, Option<f64>)>);

impl<'de: 'a, 'a> Deserialize<'de> for DeltaList<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = DeltaList<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of numbers")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(key) = map.next_key::<&'de str>()? {
                    out.push((key, map.next_value::<Option<f64>>()?));
                }
                Ok(DeltaList(out))
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}

/// `skip_reason` when not null: a string or an object of guard flags.
enum Skip<'a> {
    Text(Cow<'a, str>),
    Guards(Guards<'a>),
}

impl<'de: 'a, 'a> Deserialize<'de> for Skip<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Skip<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an object")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Skip::Text(Cow::Borrowed(s)))
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Skip::Text(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E: serde::de::Error>(self, s: String) -> Result<Self::Value, E> {
                Ok(Skip::Text(Cow::Owned(s)))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                Guards::deserialize(MapAccessDeserializer::new(map)).map(Skip::Guards)
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// The last runtime document seen by one reader, with its interpretation:
/// consecutive iterations usually run with the same overrides.
#[derive(Debug, Default)]
pub(crate) struct RuntimeCache {
    raw: Vec<u8>,
    state: Option<Arc<RuntimeState>>,
}

/// What the fast path read; `runtime` is `None` when the summary carries
/// none (the caller then supplies the directory's).
pub(crate) struct FastSummary {
    pub(crate) summary: IterSummary,
    pub(crate) needs_fallback_runtime: bool,
}

/// A count as `Fields::opt_count` accepts it: a non-negative whole number.
fn count(n: &Number) -> Option<u64> {
    if let Some(u) = n.as_u64() {
        return Some(u);
    }
    let v = n.as_f64()?;
    (v >= 0.0 && v.fract() == 0.0 && v <= u64::MAX as f64).then_some(v as u64)
}

fn ratio(v: Option<f64>) -> Option<Option<f64>> {
    match v {
        Some(x) if !(0.0..=1.0).contains(&x) => None,
        other => Some(other),
    }
}

fn non_negative(v: Option<f64>) -> Option<Option<f64>> {
    match v {
        Some(x) if x < 0.0 => None,
        other => Some(other),
    }
}

/// `read_hash` of the reference path: `None` for absent, `""` and `"na"`;
/// the outer `None` for text that is not a hash.
fn hash(text: Option<&str>) -> Option<Option<StateHash>> {
    match text {
        None | Some("") | Some("na") => Some(None),
        Some(s) => s.parse().ok().map(Some),
    }
}

fn kpis(k: Option<Obj<Kpis<'_>>>) -> Option<SummaryKpis> {
    let Some(Obj(k)) = k else {
        return Some(SummaryKpis::default());
    };
    if let Some(Obj(f)) = &k.fills {
        for v in [f.maker_volume, f.taker_volume] {
            non_negative(v)?;
        }
        for n in [&f.maker_count, &f.taker_count, &f.maker_fills, &f.taker_fills]
            .into_iter()
            .flatten()
        {
            count(n)?;
        }
    }
    Some(SummaryKpis {
        risk_ratio: ratio(k.risk_ratio)?,
        maker_taker_ratio: ratio(k.maker_taker_ratio)?,
        net_bps: k.net_bps,
        p95_latency_ms: non_negative(k.p95_latency_ms)?,
        runtime_utc: k.runtime_utc.map(Cow::into_owned),
    })
}

fn flag(b: Option<bool>) -> bool {
    b.unwrap_or(false)
}

fn tuning(t: Option<Obj<Tuning<'_>>>) -> Option<TuningRecord> {
    let Some(Obj(t)) = t else {
        return Some(TuningRecord::default());
    };
    let mut proposed = Vec::new();
    if let Some(DeltaList(entries)) = t.proposed_deltas.or(t.deltas) {
        // The reference path iterates a map: sorted by name, duplicates
        // merged. Only strictly sorted names are taken here, so that both
        // orders agree whatever the map's ordering.
        if entries.windows(2).any(|w| w[0].0 >= w[1].0) {
            return None;
        }
        for (name, value) in entries {
            proposed.push((name.parse::<Param>().ok()?, value?));
        }
    }
    let mut operations = Vec::new();
    for Obj(op) in t.operations.unwrap_or_default() {
        operations.push(RecordedOperation {
            param: op.param?.parse::<Param>().ok()?,
            from: op.from,
            to: op.to?,
        });
    }
    let skip_reason = match t.skip_reason {
        None => SkipReason::None,
        Some(Skip::Text(s)) if s.is_empty() => SkipReason::Empty,
        Some(Skip::Text(s)) if s == "no_runtime_path" => SkipReason::NoRuntimePath,
        Some(Skip::Text(s)) => SkipReason::Other(s.into_owned()),
        Some(Skip::Guards(g)) => SkipReason::Guards(
            GuardFlags {
                freeze: flag(g.freeze),
                oscillation: flag(g.oscillation),
                velocity: flag(g.velocity),
                cooldown: flag(g.cooldown),
                no_op: flag(g.no_op),
                final_iteration: flag(g.final_iteration),
            },
            g.note.map(Cow::into_owned).unwrap_or_default(),
        ),
    };
    let state_hash = match hash(t.state_hash.as_deref())? {
        Some(h) => Some(h),
        None => hash(t.signature.as_deref())?,
    };
    Some(TuningRecord {
        proposed,
        operations,
        applied: flag(t.applied),
        skip_reason,
        freeze_triggered: flag(t.freeze_triggered),
        oscillation_detected: flag(t.oscillation_detected),
        velocity_violation: flag(t.velocity_violation),
        cooldown_active: flag(t.cooldown_active),
        state_hash,
        old_hash: hash(t.old_hash.as_deref())?,
    })
}

/// Interpret a runtime document, reusing the cached one when the bytes are the same.
fn runtime_state(
    file: &Path,
    key: &str,
    raw: &RawValue,
    cache: &mut RuntimeCache,
) -> Option<Arc<RuntimeState>> {
    let bytes = raw.get().as_bytes();
    if let Some(state) = &cache.state {
        if cache.raw == bytes {
            return Some(Arc::clone(state));
        }
    }
    let doc: Value = serde_json::from_str(raw.get()).ok()?;
    let state = Arc::new(RuntimeState::from_value(file, doc, key).ok()?);
    cache.raw.clear();
    cache.raw.extend_from_slice(bytes);
    cache.state = Some(Arc::clone(&state));
    Some(state)
}

/// The fast path; `None` means "use the reference path".
pub(crate) fn read(
    file: &Path,
    iteration: u64,
    bytes: &[u8],
    cache: &mut RuntimeCache,
) -> Option<FastSummary> {
    let text = std::str::from_utf8(bytes).ok()?;
    let Obj(doc) = serde_json::from_str::<Obj<Doc<'_>>>(text).ok()?;
    let written_by_mmsoak = match doc.schema.as_deref() {
        None => false,
        Some(MMSOAK_ITER_SUMMARY_SCHEMA) => true,
        Some(_) => return None,
    };
    if let Some(n) = &doc.iteration {
        if count(n)? != iteration {
            return None;
        }
    }
    let runtime = match [
        ("runtime_overrides", doc.runtime_overrides),
        ("runtime", doc.runtime),
        ("config", doc.config),
    ]
    .into_iter()
    .find_map(|(key, raw)| raw.map(|raw| (key, raw)))
    {
        Some((key, raw)) => Some(runtime_state(file, key, raw, cache)?),
        None => None,
    };
    let kpis = kpis(doc.summary)?;
    let tuning = tuning(doc.tuning)?;
    Some(FastSummary {
        needs_fallback_runtime: runtime.is_none(),
        summary: IterSummary {
            file: file.to_owned(),
            iteration,
            written_by_mmsoak,
            runtime,
            kpis,
            tuning,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmsoak_core::input::parse_bytes;

    fn reference(bytes: &[u8]) -> IterSummary {
        let file = Path::new("ITER_SUMMARY_3.json");
        let doc = parse_bytes(file, bytes).expect("json");
        IterSummary::from_document(file, 3, doc, || Ok(None)).expect("reference path reads it")
    }

    fn fast(bytes: &[u8]) -> Option<IterSummary> {
        read(
            Path::new("ITER_SUMMARY_3.json"),
            3,
            bytes,
            &mut RuntimeCache::default(),
        )
        .map(|f| f.summary)
    }

    #[test]
    fn legacy_shapes_read_the_same_on_both_paths() {
        for text in [
            r#"{"iteration": 3, "runtime_overrides": {"min_interval_ms": 60}, "summary": {"risk_ratio": 0.3, "net_bps": 3, "runtime_utc": "2025-01-01T00:00:00Z"},
                "tuning": {"deltas": {"min_interval_ms": 5, "tail_age_ms": -10}, "applied": true, "skip_reason": "", "signature": "na", "state_hash": null}}"#,
            r#"{"iteration": 3.0, "config": {"engine": {"tail_age_ms": 700}}, "runtime": null,
                "tuning": {"deltas": {"tail_age_ms": 5}, "skip_reason": {"cooldown": true, "note": "caf\u00e9"}, "old_hash": ""}}"#,
            r#"{"summary": null, "tuning": {"skip_reason": "no_runtime_path", "proposed_deltas": null, "deltas": {}}}"#,
            r#"{"tuning": {"skip_reason": "waiting", "operations": [{"param": "min_interval_ms", "to": 70}], "cooldown_active": null}}"#,
        ] {
            assert_eq!(
                fast(text.as_bytes()).as_ref(),
                Some(&reference(text.as_bytes())),
                "{text}"
            );
        }
    }

    #[test]
    fn anything_unusual_goes_to_the_reference_path() {
        for text in [
            // Arrays would fill derived structs positionally.
            r#"[null, 3]"#,
            r#"{"summary": [0.3, 0.9]}"#,
            r#"{"tuning": {"operations": [[ "min_interval_ms", 1, 2 ]]}}"#,
            // Unsorted or duplicate delta names: map order is the reference.
            r#"{"tuning": {"deltas": {"tail_age_ms": 5, "min_interval_ms": 5}}}"#,
            r#"{"tuning": {"deltas": {"tail_age_ms": 5, "tail_age_ms": 6}}}"#,
            // Escaped key.
            r#"{"tuning": {"deltas": {"tail_age\u005fms": 5}}}"#,
            // Values the readers reject.
            r#"{"iteration": 4}"#,
            r#"{"iteration": -3}"#,
            r#"{"schema": "mmsoak.iter_summary.v9"}"#,
            r#"{"summary": {"risk_ratio": 1.5}}"#,
            r#"{"summary": {"fills": {"maker_volume": -1}}}"#,
            r#"{"summary": {"fills": {"maker_count": 2.5}}}"#,
            r#"{"tuning": {"state_hash": "XYZ"}}"#,
            r#"{"tuning": {"skip_reason": 3}}"#,
            r#"{"tuning": {"deltas": {"spread_magic": 1}}}"#,
            r#"{"tuning": {"deltas": {"tail_age_ms": null}}}"#,
            r#"{"tuning": {"operations": [{"param": "tail_age_ms"}]}}"#,
            r#"{"runtime_overrides": {"engine": {"tail_age_ms": true}}}"#,
            r#"{"runtime_overrides": [1]}"#,
            // Not JSON, not UTF-8, NaN.
            r#"{"summary": {"net_bps": NaN}}"#,
            "{\"summary\": {\"runtime_utc\": \"\u{0}\"",
        ] {
            assert!(fast(text.as_bytes()).is_none(), "{text}");
        }
        assert!(fast(b"{\"x\": \"\xff\"}").is_none());
    }

    #[test]
    fn the_runtime_cache_is_used_only_for_identical_bytes() {
        let mut cache = RuntimeCache::default();
        let file = Path::new("ITER_SUMMARY_1.json");
        let a = br#"{"runtime_overrides": {"engine": {"tail_age_ms": 600}}}"#;
        let b = br#"{"runtime_overrides": {"engine": {"tail_age_ms": 700}}}"#;
        let first = read(file, 1, a, &mut cache).expect("fast").summary;
        let again = read(file, 1, a, &mut cache).expect("fast").summary;
        let other = read(file, 1, b, &mut cache).expect("fast").summary;
        let (r1, r2, r3) = (
            first.runtime.expect("runtime"),
            again.runtime.expect("runtime"),
            other.runtime.expect("runtime"),
        );
        assert!(Arc::ptr_eq(&r1, &r2));
        assert_ne!(r1.hash, r3.hash);
        assert_eq!(r3.overrides.get(Param::TailAgeMs), Some(700.0));
    }
}
