//! The fast path of [`IterSummary`] reading: a typed, borrowing
//! deserialization of the few fields used, straight from the bytes.
//!
//! It never reports an error itself. Whenever anything is unusual (not UTF-8,
//! not JSON, a type or value the readers reject, escaped keys, unsorted or
//! duplicate delta names, ...) it answers `None` and the caller runs the
//! reference path (`serde_json::Value` + `Fields`), which produces the exact
//! error, naming the file and the JSON path. When it answers `Some`, the
//! summary equals what the reference path builds from the same bytes (tested
//! in `tests/it/fast_path.rs` and below).

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::path::Path;
use std::sync::Arc;

use mmsoak_core::{Param, RuntimeOverrides, StateHash};
use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Number, Value};

use mmsoak_artifacts::layout::ITER_SUMMARY_SCHEMA as MMSOAK_ITER_SUMMARY_SCHEMA;

use crate::artifacts::{
    IterSummary, RecordedOperation, RecordedSkip, RuntimeState, SkipFlags, SummaryKpis,
    TuningRecord,
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
    latency_floor_ms: Option<f64>,
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
            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                s: &'de str,
            ) -> Result<Self::Value, E> {
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

/// The last few runtime documents seen by one reader, with their
/// interpretation: consecutive iterations usually run with the same
/// overrides (only an applied step changes them), and a tuner moving
/// parameters back and forth within their bounds comes back to a few dozen
/// states again and again.
#[derive(Debug, Default)]
pub(crate) struct RuntimeCache {
    /// Raw bytes and state, most recently used first.
    entries: Vec<(Vec<u8>, Arc<RuntimeState>)>,
    /// A summary's text with its known runtime document replaced by `{}`.
    spliced: String,
}

/// Runtime documents remembered per reader (each about a kilobyte of bytes
/// and its interpretation; a miss costs a parse and a hash, a lookup a few
/// byte comparisons per entry).
const RUNTIME_CACHE_ENTRIES: usize = 32;

impl RuntimeCache {
    fn get(&mut self, raw: &[u8]) -> Option<Arc<RuntimeState>> {
        let at = self.entries.iter().position(|(r, _)| r == raw)?;
        self.entries[..=at].rotate_right(1);
        Some(Arc::clone(&self.entries[0].1))
    }

    fn put(&mut self, raw: &[u8], state: &Arc<RuntimeState>) {
        let mut bytes = if self.entries.len() == RUNTIME_CACHE_ENTRIES {
            self.entries.pop().map(|(b, _)| b).unwrap_or_default()
        } else {
            Vec::new()
        };
        bytes.clear();
        bytes.extend_from_slice(raw);
        self.entries.insert(0, (bytes, Arc::clone(state)));
    }
}

/// What the fast path read; `runtime` is `None` when the summary carries
/// none (the caller then supplies the directory's).
pub(crate) struct FastSummary {
    pub(crate) summary: IterSummary,
    pub(crate) needs_fallback_runtime: bool,
}

/// A count as `Fields::opt_count` accepts it: a non-negative whole number.
fn count(n: &Number) -> Option<u64> {
    mmsoak_core::input::count_of(n).ok()
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
        for n in [
            &f.maker_count,
            &f.taker_count,
            &f.maker_fills,
            &f.taker_fills,
        ]
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
        latency_floor_ms: non_negative(k.latency_floor_ms)?,
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
        // The reference path iterates a map: sorted by name (a repeated
        // name is refused before). Only strictly sorted names are taken
        // here, so that both orders agree whatever the map's ordering.
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
        None => RecordedSkip::None,
        Some(Skip::Text(s)) if s.is_empty() => RecordedSkip::Empty,
        Some(Skip::Text(s)) if s == "no_runtime_path" => RecordedSkip::NoRuntimePath,
        Some(Skip::Text(s)) => RecordedSkip::Other(s.into_owned()),
        Some(Skip::Guards(g)) => RecordedSkip::Guards(
            SkipFlags {
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

/// How much of each runtime document a reader keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum RuntimeDetail {
    /// The whole document (`RuntimeOverrides::from_document`).
    #[default]
    Full,
    /// Only the parameters: keys that are not parameters are dropped. The
    /// hash is still the hash of the whole document.
    Parameters,
}

/// Interpret a runtime document, reusing a cached one when the bytes are the same.
fn runtime_state(
    file: &Path,
    raw: &RawValue,
    cache: &mut RuntimeCache,
    detail: RuntimeDetail,
) -> Option<Arc<RuntimeState>> {
    let bytes = raw.get().as_bytes();
    if let Some(state) = cache.get(bytes) {
        return Some(state);
    }
    let state = match detail {
        RuntimeDetail::Full => full_runtime(file, raw)?,
        RuntimeDetail::Parameters => match parameters_runtime(raw) {
            Some(state) => state,
            None => parameters_only(&full_runtime(file, raw)?),
        },
    };
    let state = Arc::new(state);
    cache.put(bytes, &state);
    Some(state)
}

/// The reference interpretation (`RuntimeState::from_value`), hashing
/// without re-serializing when the bytes are already canonical.
fn full_runtime(file: &Path, raw: &RawValue) -> Option<RuntimeState> {
    let doc: Value = serde_json::from_str(raw.get()).ok()?;
    let hash = if is_canonical(raw.get().as_bytes()) {
        StateHash::of_canonical_bytes(raw.get().as_bytes())
    } else {
        StateHash::of_value(&doc)
    };
    // Errors (with their `runtime_overrides.` prefix) come from the reference path.
    let overrides = RuntimeOverrides::from_document(file, doc).ok()?;
    Some(RuntimeState {
        overrides,
        hash,
        findings: Vec::new(),
    })
}

/// The same state with only its parameters.
pub(crate) fn parameters_only(state: &RuntimeState) -> RuntimeState {
    let mut overrides = RuntimeOverrides::new();
    for (param, value) in state.overrides.params() {
        // Values read from a document are finite (and whole for integers).
        let _ = overrides.set(param, value);
    }
    RuntimeState {
        overrides,
        hash: state.hash,
        findings: state.findings.clone(),
    }
}

/// A parameter's value at one place of a runtime document: absent, or a
/// number (`null` and other types are errors, as for the reference reader).
#[derive(Default, Clone, Copy)]
enum Leaf {
    #[default]
    Absent,
    Number(f64),
}

impl<'de> Deserialize<'de> for Leaf {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Leaf;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Leaf, E> {
                Ok(Leaf::Number(v as f64))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Leaf, E> {
                Ok(Leaf::Number(v as f64))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Leaf, E> {
                Ok(Leaf::Number(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// The eight parameter names at one level of a runtime document.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ParamLeaves {
    base_spread_bps: Leaf,
    base_spread_bps_delta: Leaf,
    impact_cap_ratio: Leaf,
    max_delta_ratio: Leaf,
    replace_rate_per_min: Leaf,
    concurrency_limit: Leaf,
    tail_age_ms: Leaf,
    min_interval_ms: Leaf,
}

impl ParamLeaves {
    fn get(&self, param: Param) -> Leaf {
        match param {
            Param::BaseSpreadBps => self.base_spread_bps,
            Param::BaseSpreadBpsDelta => self.base_spread_bps_delta,
            Param::ImpactCapRatio => self.impact_cap_ratio,
            Param::MaxDeltaRatio => self.max_delta_ratio,
            Param::ReplaceRatePerMin => self.replace_rate_per_min,
            Param::ConcurrencyLimit => self.concurrency_limit,
            Param::TailAgeMs => self.tail_age_ms,
            Param::MinIntervalMs => self.min_interval_ms,
        }
    }
}

/// `engine` or `risk`: absent, or an object (`null` is an error).
#[derive(Default)]
struct Section(ParamLeaves);

impl<'de> Deserialize<'de> for Section {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Obj::<ParamLeaves>::deserialize(d).map(|Obj(leaves)| Section(leaves))
    }
}

/// A runtime document in the canonical layout, with flat keys allowed.
#[derive(Deserialize, Default)]
#[serde(default)]
struct RuntimeLayout {
    engine: Section,
    risk: Section,
    // Legacy alias sections: left to the reference reader.
    quoting: Option<IgnoredAny>,
    impact: Option<IgnoredAny>,
    taker_rescue: Option<IgnoredAny>,
    base_spread_bps: Leaf,
    base_spread_bps_delta: Leaf,
    impact_cap_ratio: Leaf,
    max_delta_ratio: Leaf,
    replace_rate_per_min: Leaf,
    concurrency_limit: Leaf,
    tail_age_ms: Leaf,
    min_interval_ms: Leaf,
}

impl RuntimeLayout {
    fn flat(&self, param: Param) -> Leaf {
        match param {
            Param::BaseSpreadBps => self.base_spread_bps,
            Param::BaseSpreadBpsDelta => self.base_spread_bps_delta,
            Param::ImpactCapRatio => self.impact_cap_ratio,
            Param::MaxDeltaRatio => self.max_delta_ratio,
            Param::ReplaceRatePerMin => self.replace_rate_per_min,
            Param::ConcurrencyLimit => self.concurrency_limit,
            Param::TailAgeMs => self.tail_age_ms,
            Param::MinIntervalMs => self.min_interval_ms,
        }
    }
}

/// [`parameters_only`] of the reference interpretation, read without
/// building the document: only the parameters' places are deserialized and
/// the hash is taken from the bytes when they are canonical. `None` for
/// anything else (legacy sections, non-canonical bytes, any value the
/// reference reader rejects).
fn parameters_runtime(raw: &RawValue) -> Option<RuntimeState> {
    let bytes = raw.get().as_bytes();
    if !is_canonical(bytes) {
        return None;
    }
    let Obj(doc) = serde_json::from_str::<Obj<RuntimeLayout>>(raw.get()).ok()?;
    if doc.quoting.is_some() || doc.impact.is_some() || doc.taker_rescue.is_some() {
        return None;
    }
    let mut overrides = RuntimeOverrides::new();
    for param in Param::ALL {
        let [section, _] = param.canonical_path();
        let nested = match section {
            "engine" => doc.engine.0.get(param),
            _ => doc.risk.0.get(param),
        };
        let mut found = None;
        for leaf in [nested, doc.flat(param)] {
            if let Leaf::Number(v) = leaf {
                RuntimeOverrides::check_value(param, v).ok()?;
                match found {
                    Some(first) if first != v => return None,
                    Some(_) => {}
                    None => found = Some(v),
                }
            }
        }
        if let Some(v) = found {
            overrides.set(param, v).ok()?;
        }
    }
    Some(RuntimeState {
        overrides,
        hash: StateHash::of_canonical_bytes(bytes),
        findings: Vec::new(),
    })
}

/// Whether valid JSON `bytes` are already in `mmsoak_core::canonical` form
/// (no whitespace, keys sorted and unique, numbers as serde_json prints
/// them, strings without escapes), so that they hash as they are.
/// Conservative: `false` also for some canonical texts (escaped strings).
pub(crate) fn is_canonical(bytes: &[u8]) -> bool {
    let mut scan = CanonicalScan { b: bytes, i: 0 };
    scan.value().is_some() && scan.i == bytes.len()
}

/// Whether `token` is a non-zero decimal `-?I.F` that serde_json prints
/// back exactly as written, decided without parsing it: at most 15
/// significant digits (so it is the shortest text of its nearest `f64`:
/// two decimals of 15 digits or fewer never round to the same `f64`), no
/// leading zero, no trailing zero in `F` except `F` = `0` after a non-zero
/// `I`, and 0.001 <= |value| < 1e9 (where serde_json writes no exponent).
/// `false` only means "not decided here". Tested against serde_json's own
/// printing.
fn plain_decimal(token: &[u8]) -> bool {
    let unsigned = token.strip_prefix(b"-").unwrap_or(token);
    let Some(dot) = unsigned.iter().position(|&b| b == b'.') else {
        return false;
    };
    let (int, frac) = (&unsigned[..dot], &unsigned[dot + 1..]);
    if int.is_empty()
        || frac.is_empty()
        || !int.iter().chain(frac).all(u8::is_ascii_digit)
        || int.len() > 9
    {
        return false;
    }
    let significant = if int == b"0" {
        let zeros = frac.iter().take_while(|&&b| b == b'0').count();
        if zeros > 2 || zeros == frac.len() {
            return false; // below 0.001, or zero
        }
        frac.len() - zeros
    } else if int[0] == b'0' {
        return false;
    } else if frac == b"0" {
        int.len()
    } else {
        int.len() + frac.len()
    };
    significant <= 15 && (frac == b"0" && int != b"0" || frac.last() != Some(&b'0'))
}

struct CanonicalScan<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> CanonicalScan<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.i + word.len();
        (self.b.get(self.i..end)? == word).then(|| self.i = end)
    }

    /// A string without escapes; its content.
    fn string(&mut self) -> Option<&'a [u8]> {
        self.eat(b'"')?;
        let start = self.i;
        let len = self.b[start..]
            .iter()
            .position(|&c| c == b'"' || c == b'\\')?;
        if self.b[start + len] != b'"' {
            return None;
        }
        self.i = start + len + 1;
        Some(&self.b[start..start + len])
    }

    fn number(&mut self) -> Option<()> {
        let start = self.i;
        while matches!(
            self.peek(),
            Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
        ) {
            self.i += 1;
        }
        let token = std::str::from_utf8(&self.b[start..self.i]).ok()?;
        if !token.contains(['.', 'e', 'E']) {
            // An integer: serde_json keeps it as u64 / i64 and prints it back
            // digit for digit, unless it has a leading zero or is `-0`.
            let digits = token.strip_prefix('-').unwrap_or(token);
            let plain = token == "0" || !digits.starts_with('0');
            let fits = if token.starts_with('-') {
                token.parse::<i64>().is_ok()
            } else {
                token.parse::<u64>().is_ok()
            };
            return (plain && fits).then_some(());
        }
        if plain_decimal(token.as_bytes()) {
            return Some(());
        }
        let n = Number::from_f64(token.parse::<f64>().ok()?)?;
        let mut printed = [0u8; 40];
        let mut w = &mut printed[..];
        std::io::Write::write_fmt(&mut w, format_args!("{n}")).ok()?;
        let len = 40 - w.len();
        (printed[..len] == *token.as_bytes()).then_some(())
    }

    fn value(&mut self) -> Option<()> {
        match self.peek()? {
            b'{' => {
                self.i += 1;
                if self.eat(b'}').is_some() {
                    return Some(());
                }
                let mut prev: Option<&[u8]> = None;
                loop {
                    let key = self.string()?;
                    if prev.is_some_and(|p| p >= key) {
                        return None;
                    }
                    prev = Some(key);
                    self.eat(b':')?;
                    self.value()?;
                    match self.peek()? {
                        b',' => self.i += 1,
                        b'}' => {
                            self.i += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            b'[' => {
                self.i += 1;
                if self.eat(b']').is_some() {
                    return Some(());
                }
                loop {
                    self.value()?;
                    match self.peek()? {
                        b',' => self.i += 1,
                        b']' => {
                            self.i += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            b'"' => self.string().map(drop),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }
}

/// Whether no object in JSON `bytes` holds a key twice, decided by a scan
/// that compares keys as written: `false` also when unsure (a key with an
/// escape, or text that is not JSON), so that the reference path, which
/// refuses a repeated key naming it, decides. The typed reader below would
/// take the last of two unknown keys' values silently.
fn keys_unique(bytes: &[u8]) -> bool {
    // Per open container: `Some(keys)` for an object, `None` for an array.
    let mut stack: Vec<Option<Vec<&[u8]>>> = Vec::new();
    let mut expect_key = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' => {
                stack.push(Some(Vec::new()));
                expect_key = true;
            }
            b'[' => {
                stack.push(None);
                expect_key = false;
            }
            b'}' | b']' => {
                if let Some(Some(mut keys)) = stack.pop() {
                    keys.sort_unstable();
                    if keys.windows(2).any(|w| w[0] == w[1]) {
                        return false;
                    }
                }
                expect_key = false;
            }
            b',' => expect_key = matches!(stack.last(), Some(Some(_))),
            b'"' => {
                let start = i + 1;
                let mut j = start;
                let mut escaped = false;
                while j < bytes.len() && bytes[j] != b'"' {
                    if bytes[j] == b'\\' {
                        escaped = true;
                        j += 1;
                    }
                    j += 1;
                }
                if j >= bytes.len() {
                    return false;
                }
                if expect_key {
                    if escaped {
                        return false;
                    }
                    match stack.last_mut() {
                        Some(Some(keys)) => keys.push(&bytes[start..j]),
                        _ => return false,
                    }
                    expect_key = false;
                }
                i = j;
            }
            _ => {}
        }
        i += 1;
    }
    stack.is_empty()
}

/// The fast path; `None` means "use the reference path".
pub(crate) fn read(
    file: &Path,
    iteration: u64,
    bytes: &[u8],
    cache: &mut RuntimeCache,
    detail: RuntimeDetail,
) -> Option<FastSummary> {
    if !keys_unique(bytes) {
        return None;
    }
    let text = std::str::from_utf8(bytes).ok()?;
    let Some((at, len, state)) = seen_runtime(bytes, cache) else {
        return read_text(file, iteration, text, None, cache, detail);
    };
    // The runtime document is byte for byte one this reader has already
    // deserialized (so valid JSON, and an object): parse the summary with
    // `{}` in its place instead of validating it again.
    let mut spliced = std::mem::take(&mut cache.spliced);
    spliced.clear();
    spliced.push_str(&text[..at]);
    spliced.push_str("{}");
    spliced.push_str(&text[at + len..]);
    let read = read_text(file, iteration, &spliced, Some(state), cache, detail);
    cache.spliced = spliced;
    read
}

/// Where the top-level `runtime_overrides` value starts, when it comes
/// after simple scalar members only (mmsoak writes `driver` and
/// `iteration` before it); `None` when not found that way.
fn runtime_overrides_at(bytes: &[u8]) -> Option<usize> {
    const KEY: &[u8] = b"runtime_overrides";
    let mut i = 0;
    let eat = |c: u8, i: &mut usize| (bytes.get(*i) == Some(&c)).then(|| *i += 1);
    eat(b'{', &mut i)?;
    loop {
        eat(b'"', &mut i)?;
        let len = bytes
            .get(i..)?
            .iter()
            .position(|&b| b == b'"' || b == b'\\')?;
        let key = &bytes[i..i + len];
        i += len;
        eat(b'"', &mut i)?;
        eat(b':', &mut i)?;
        if key == KEY {
            return Some(i);
        }
        // A scalar value: a string without escapes, or a number / literal.
        if bytes.get(i) == Some(&b'"') {
            i += 1;
            let len = bytes
                .get(i..)?
                .iter()
                .position(|&b| b == b'"' || b == b'\\')?;
            i += len;
            eat(b'"', &mut i)?;
        } else {
            let len = bytes
                .get(i..)?
                .iter()
                .position(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'.')))?;
            if len == 0 {
                return None;
            }
            i += len;
        }
        eat(b',', &mut i)?;
    }
}

/// A cached runtime document found at the top-level `runtime_overrides`
/// place of `bytes`: its position, length and state.
fn seen_runtime(
    bytes: &[u8],
    cache: &mut RuntimeCache,
) -> Option<(usize, usize, Arc<RuntimeState>)> {
    if cache.entries.is_empty() {
        return None;
    }
    let at = runtime_overrides_at(bytes)?;
    let rest = &bytes[at..];
    // The byte after a match first: it rules out most entries without
    // comparing their bytes.
    let hit = cache.entries.iter().position(|(raw, _)| {
        matches!(rest.get(raw.len()), Some(b',' | b'}'))
            && raw.first() == Some(&b'{')
            && rest.starts_with(raw)
    })?;
    cache.entries[..=hit].rotate_right(1);
    let (raw, state) = &cache.entries[0];
    Some((at, raw.len(), Arc::clone(state)))
}

/// [`read`] of valid UTF-8; `known` is the runtime state when the
/// `runtime_overrides` value was replaced by `{}`.
fn read_text(
    file: &Path,
    iteration: u64,
    text: &str,
    known: Option<Arc<RuntimeState>>,
    cache: &mut RuntimeCache,
    detail: RuntimeDetail,
) -> Option<FastSummary> {
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
    // The first of these keys present and not null, as the reference path.
    let runtime = match (known, doc.runtime_overrides.or(doc.runtime).or(doc.config)) {
        // The `{}` put in place of the known document.
        (Some(state), Some(_)) => Some(state),
        (None, Some(raw)) => {
            let state = runtime_state(file, raw, cache, detail)?;
            // A predecessor's value no bot can run with is a finding: the
            // reference path records it.
            if !written_by_mmsoak
                && state
                    .overrides
                    .params()
                    .any(|(p, v)| p.impossible(v).is_some())
            {
                return None;
            }
            Some(state)
        }
        // mmsoak's summaries always carry it: the reference path names
        // the missing key.
        (_, None) if written_by_mmsoak => return None,
        (_, None) => None,
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
            RuntimeDetail::Full,
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
    fn repeated_keys_are_found_at_any_depth() {
        for text in [
            r#"{"a":1,"a":2}"#,
            r#"{"x": {"k": [1, {"n": 1, "m": 2, "n": 3}]}}"#,
            r#"{"b": 1, "a": {}, "b": 2}"#,
            r#"{"a\u0062": 1}"#,
        ] {
            assert!(!keys_unique(text.as_bytes()), "{text}");
        }
        for text in [
            r#"{"a": {"k": 1}, "b": {"k": 1}, "s": "\"k\":1,\"k\":1"}"#,
            r#"[{"a": 1}, {"a": 1}]"#,
            r#"{}"#,
        ] {
            assert!(keys_unique(text.as_bytes()), "{text}");
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
            // A key twice, known or not.
            r#"{"summary": {"net_bps": 1.1, "net_bps": 7.3}}"#,
            r#"{"extras": {"x": 1, "x": 2}}"#,
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
    fn mmsoak_summaries_take_the_fast_path_in_both_details() {
        let dir = tempfile::tempdir().expect("tempdir");
        crate::testing::write_run(dir.path(), &crate::testing::generated_plans(40)).expect("run");
        for detail in [RuntimeDetail::Full, RuntimeDetail::Parameters] {
            let mut cache = RuntimeCache::default();
            for i in 1..=40 {
                let file = dir
                    .path()
                    .join(mmsoak_artifacts::layout::iter_summary_name(i));
                let bytes = std::fs::read(&file).expect("read");
                let fast = read(&file, i, &bytes, &mut cache, detail).expect("fast path");
                let reference = IterSummary::from_document(
                    &file,
                    i,
                    parse_bytes(&file, &bytes).expect("json"),
                    || Ok(None),
                )
                .expect("reference");
                let state = reference.runtime.clone().expect("own runtime");
                // The runtime documents mmsoak writes are canonical: hashed as they are.
                let raw: Value = serde_json::from_slice(&bytes).expect("json");
                let raw = serde_json::to_vec(&raw["runtime_overrides"]).expect("bytes");
                assert!(is_canonical(&raw), "iteration {i}");
                let expected = match detail {
                    RuntimeDetail::Full => reference,
                    RuntimeDetail::Parameters => IterSummary {
                        runtime: Some(Arc::new(parameters_only(&state))),
                        ..reference
                    },
                };
                assert!(!fast.needs_fallback_runtime);
                assert_eq!(fast.summary, expected, "iteration {i} {detail:?}");
            }
        }
    }

    #[test]
    fn parameters_are_read_from_the_canonical_and_flat_places_only() {
        let raw = |s: &str| serde_json::from_str::<Box<RawValue>>(s).expect("raw");
        let state = parameters_runtime(&raw(
            r#"{"concurrency_limit":8,"engine":{"base_spread_bps":"not a param here","tail_age_ms":600},"risk":{"impact_cap_ratio":0.1},"symbols":{"x":[1,2.5,null,true,"s"]}}"#,
        ));
        // `engine.base_spread_bps` is not a parameter's place: the reference keeps
        // it as an unknown key; this reader declines anything but numbers there.
        assert!(state.is_none());
        let text = r#"{"concurrency_limit":8,"engine":{"concurrency_limit":8,"tail_age_ms":600},"risk":{"impact_cap_ratio":0.1},"symbols":{"x":[1,2.5,null,true,"s"]}}"#;
        let fast = parameters_runtime(&raw(text)).expect("canonical layout");
        let reference = RuntimeState {
            overrides: RuntimeOverrides::parse(text.as_bytes(), Path::new("r")).expect("parses"),
            hash: StateHash::of_value(&serde_json::from_str(text).expect("json")),
            findings: Vec::new(),
        };
        assert_eq!(fast, parameters_only(&reference));
        for declined in [
            // disagreeing places, fractional integer, an integer past 2^53,
            // null, legacy section, whitespace
            r#"{"concurrency_limit":8,"engine":{"concurrency_limit":9}}"#,
            r#"{"engine":{"concurrency_limit":8.5}}"#,
            r#"{"engine":{"concurrency_limit":18446744073709551615}}"#,
            r#"{"engine":{"tail_age_ms":null}}"#,
            r#"{"engine":null}"#,
            r#"{"quoting":{"min_interval_ms":60}}"#,
            r#"{"engine": {"tail_age_ms":600}}"#,
            r#"[1]"#,
        ] {
            assert!(parameters_runtime(&raw(declined)).is_none(), "{declined}");
        }
    }

    #[test]
    fn canonical_text_is_recognized_conservatively() {
        for yes in [
            r#"{"a":[0.5,60.0,null,true,false],"b":1,"c":{"d":-3,"e":"x y"}}"#,
            "0",
            "-12",
            "18446744073709551615",
            "[]",
            "{}",
        ] {
            assert!(is_canonical(yes.as_bytes()), "{yes}");
        }
        for no in [
            r#"{"b":1,"a":2}"#,
            r#"{"a":1,"a":1}"#,
            r#"{"a": 1}"#,
            r#"{"a":"x\ny"}"#,
            "-0",
            "007",
            "0.10",
            "1e2",
            "1E+2",
            "18446744073709551616",
            "1e999",
            " 1",
        ] {
            assert!(!is_canonical(no.as_bytes()), "{no}");
        }
    }

    /// The slow check of `CanonicalScan::number` for a float token.
    fn printed_back(token: &str) -> bool {
        token
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .is_some_and(|n| n.to_string() == token)
    }

    #[test]
    fn plain_decimals_are_printed_back_as_written() {
        for yes in [
            "0.001",
            "-0.001",
            "0.12",
            "300.0",
            "999999999.5",
            "123456789.123456",
            "1.5",
            "-2.0",
            "0.00123456789012345",
        ] {
            assert!(plain_decimal(yes.as_bytes()), "{yes}");
            assert!(printed_back(yes), "{yes}");
        }
        // Printed back as written, but 17 digits: left to the slow check.
        assert!(!plain_decimal(b"0.30460000000000004"));
        for no in [
            "0.0",
            "-0.0",
            "0.0001",
            "1000000000.0",
            "0.10",
            "01.5",
            "1.",
            ".5",
            "1e2",
            "1.5e2",
            "--1.5",
            "1234567890123456.0",
            "0.1234567890123456",
            "1.00",
        ] {
            assert!(!plain_decimal(no.as_bytes()), "{no}");
        }
    }

    proptest::proptest! {
        #[test]
        fn plain_decimals_agree_with_serde_json(
            negative in proptest::bool::ANY,
            int in 0u64..2_000_000_000,
            zeros in 0usize..5,
            frac in 0u64..10_000_000_000,
            int_digits in 0u32..10,
        ) {
            let int = int % 10u64.pow(int_digits);
            let text = format!("{}{int}.{}{frac}", if negative { "-" } else { "" }, "0".repeat(zeros));
            if plain_decimal(text.as_bytes()) {
                proptest::prop_assert!(printed_back(&text), "{}", text);
            }
        }

        #[test]
        fn printed_floats_in_range_are_taken_as_plain(f in -1e9f64..1e9) {
            let text = Number::from_f64(f).map(|n| n.to_string()).unwrap_or_default();
            if f.abs() >= 0.001 && !text.contains('e') {
                let digits = text.bytes().filter(u8::is_ascii_digit).skip_while(|&b| b == b'0').count();
                if digits <= 15 {
                    proptest::prop_assert!(plain_decimal(text.as_bytes()), "{}", text);
                }
            }
        }
    }

    fn arb_json() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            (-1e6f64..1e6).prop_map(|f| Value::from((f * 1000.0).round() / 1000.0)),
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

    proptest::proptest! {
        #[test]
        fn text_taken_as_canonical_is_the_canonical_form(v in arb_json()) {
            let canonical = mmsoak_core::canonical::to_canonical_bytes(&v);
            let escapes = canonical.contains(&b'\\');
            proptest::prop_assert_eq!(is_canonical(&canonical), !escapes);
            for text in [
                serde_json::to_vec(&v).expect("json"),
                serde_json::to_vec_pretty(&v).expect("json"),
                canonical.clone(),
            ] {
                if is_canonical(&text) {
                    let back: Value = serde_json::from_slice(&text).expect("valid JSON");
                    proptest::prop_assert_eq!(&mmsoak_core::canonical::to_canonical_bytes(&back), &text);
                }
            }
        }
    }

    #[test]
    fn a_known_runtime_document_is_not_read_again_and_changes_nothing() {
        let mut cache = RuntimeCache::default();
        let file = Path::new("ITER_SUMMARY_3.json");
        let runtime = r#"{"engine":{"tail_age_ms":600},"x":[1,{"y":"}"}]}"#;
        let first = format!(
            r#"{{"driver":"mock","iteration":3,"runtime_overrides":{runtime},"tuning":{{"applied":true}}}}"#
        );
        let a = read(file, 3, first.as_bytes(), &mut cache, RuntimeDetail::Full).expect("fast");
        for text in [
            first.clone(),
            format!(
                r#"{{"iteration":3,"runtime_overrides":{runtime},"tuning":{{"skip_reason":"x"}}}}"#
            ),
            format!(r#"{{"iteration":3,"runtime_overrides":{runtime}}}"#),
            // Not after scalars only: read as usual.
            format!(r#"{{"a":{{}},"runtime_overrides":{runtime}}}"#),
        ] {
            assert_eq!(
                runtime_overrides_at(text.as_bytes()).is_some(),
                !text.starts_with(r#"{"a""#)
            );
            let b = read(file, 3, text.as_bytes(), &mut cache, RuntimeDetail::Full).expect("fast");
            assert_eq!(
                Some(&b.summary),
                Some(&reference(text.as_bytes())),
                "{text}"
            );
            let (ra, rb) = (a.summary.runtime.as_ref(), b.summary.runtime.as_ref());
            assert!(
                Arc::ptr_eq(ra.expect("runtime"), rb.expect("runtime")),
                "{text}"
            );
        }
        // The same bytes followed by more of a value are not the known document.
        let longer = format!(r#"{{"iteration":3,"runtime_overrides":{runtime}x}}"#);
        assert!(read(file, 3, longer.as_bytes(), &mut cache, RuntimeDetail::Full).is_none());
    }

    /// A predecessor's value no bot can run with is left to the reference
    /// path, which records it as a finding; mmsoak's are read here.
    #[test]
    fn an_impossible_value_in_a_predecessors_summary_goes_to_the_reference_path() {
        let text = br#"{"runtime_overrides": {"impact_cap_ratio": -0.01}}"#;
        let mut cache = RuntimeCache::default();
        let file = Path::new("ITER_SUMMARY_3.json");
        assert!(read(file, 3, text, &mut cache, RuntimeDetail::Full).is_none());
        let reference = reference(text);
        let runtime = reference.runtime.expect("runtime");
        assert_eq!(runtime.findings.len(), 1, "{:?}", runtime.findings);
        assert_eq!(runtime.overrides.get(Param::ImpactCapRatio), Some(-0.01));
    }

    #[test]
    fn the_runtime_cache_is_used_only_for_identical_bytes() {
        let mut cache = RuntimeCache::default();
        let file = Path::new("ITER_SUMMARY_1.json");
        let a = br#"{"runtime_overrides": {"engine": {"tail_age_ms": 600}}}"#;
        let b = br#"{"runtime_overrides": {"engine": {"tail_age_ms": 700}}}"#;
        let first = read(file, 1, a, &mut cache, RuntimeDetail::Full)
            .expect("fast")
            .summary;
        let again = read(file, 1, a, &mut cache, RuntimeDetail::Full)
            .expect("fast")
            .summary;
        let other = read(file, 1, b, &mut cache, RuntimeDetail::Full)
            .expect("fast")
            .summary;
        let (r1, r2, r3) = (
            first.runtime.expect("runtime"),
            again.runtime.expect("runtime"),
            other.runtime.expect("runtime"),
        );
        assert!(Arc::ptr_eq(&r1, &r2));
        assert_ne!(r1.hash, r3.hash);
        assert_eq!(r3.overrides.get(Param::TailAgeMs), Some(700.0));
    }

    #[test]
    fn the_runtime_cache_keeps_the_most_recent_documents_and_changes_nothing() {
        let mut cache = RuntimeCache::default();
        let file = Path::new("ITER_SUMMARY_3.json");
        let text = |k: usize| {
            // 600 + k: a tail age of 0 is impossible, which the reference path reports.
            let ms = 600 + k;
            format!(r#"{{"iteration":3,"runtime_overrides":{{"engine":{{"tail_age_ms":{ms}}}}}}}"#)
        };
        let mut read_runtime = |k: usize| {
            let text = text(k);
            let got = read(file, 3, text.as_bytes(), &mut cache, RuntimeDetail::Full)
                .expect("fast")
                .summary;
            assert_eq!(got, reference(text.as_bytes()), "{text}");
            got.runtime.expect("runtime")
        };
        let first: Vec<_> = (0..RUNTIME_CACHE_ENTRIES).map(&mut read_runtime).collect();
        // All of them still known, whatever the order they come back in.
        for k in (0..RUNTIME_CACHE_ENTRIES).rev() {
            assert!(Arc::ptr_eq(&first[k], &read_runtime(k)), "document {k}");
        }
        // One more pushes out the least recently used one (the last read
        // above is the first one pushed out once all came back).
        let _ = read_runtime(RUNTIME_CACHE_ENTRIES);
        let last = RUNTIME_CACHE_ENTRIES - 1;
        let again = read_runtime(last);
        assert!(!Arc::ptr_eq(&first[last], &again));
        assert_eq!(first[last], again);
        assert!(Arc::ptr_eq(&first[0], &read_runtime(0)));
    }
}
