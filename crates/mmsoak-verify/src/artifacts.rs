//! Reading an artifacts directory: the list of iterations, one
//! `ITER_SUMMARY_{i}.json` at a time, in both mmsoak's and the predecessor's shapes.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use mmsoak_artifacts::layout::{
    iter_summary_name, APPLY_JOURNAL, ITER_SUMMARY_SCHEMA as MMSOAK_ITER_SUMMARY_SCHEMA,
    RUNTIME_OVERRIDES, SOAK_RUN, TUNING_REPORT,
};
pub use mmsoak_artifacts::skip::SkipFlags;
use mmsoak_core::canonical::UniqueKeys;
use mmsoak_core::input::{limits, open_regular, parse_bytes, read_capped, read_document, Fields};
use mmsoak_core::{FieldProblem, InputError, Param, RuntimeFinding, RuntimeOverrides, StateHash};
use serde::Deserialize;
use serde_json::Value;

use crate::error::ArtifactError;
use crate::fast::{RuntimeCache, RuntimeDetail};
use crate::reader::{default_reader_threads, ReadState, Summaries};

/// An artifacts directory whose iterations are numbered `1..=N` without
/// gaps and which has a `TUNING_REPORT.json`.
///
/// Opening lists the directory once; ITER_SUMMARY files are parsed later,
/// in iteration order, by [`ArtifactDir::summaries`] or
/// [`ArtifactDir::read_summary`]. [`ArtifactDir::summaries`] reads ahead on
/// [`ArtifactDir::reader_threads`] threads (a bounded number of summaries
/// ahead, never the whole run); the results are the same on any count.
#[derive(Debug)]
pub struct ArtifactDir {
    dir: PathBuf,
    last: u64,
    tuning_report_entries: usize,
    reader_threads: usize,
    fallback: Arc<FallbackRuntime>,
}

/// The directory's (or its parent's) `runtime_overrides.json`, read once
/// when a summary first needs it; shared with the reader threads.
#[derive(Debug)]
pub(crate) struct FallbackRuntime {
    dir: PathBuf,
    cell: OnceLock<Option<Arc<RuntimeState>>>,
}

impl FallbackRuntime {
    /// The fallback runtime, read on first use (an error is not remembered:
    /// each caller that needs it gets it).
    pub(crate) fn get(&self) -> Result<Option<Arc<RuntimeState>>, ArtifactError> {
        if let Some(v) = self.cell.get() {
            return Ok(v.clone());
        }
        let candidates = [
            Some(self.dir.join(RUNTIME_OVERRIDES)),
            self.dir.parent().map(|p| p.join(RUNTIME_OVERRIDES)),
        ];
        let mut found = None;
        for file in candidates.into_iter().flatten() {
            if std::fs::symlink_metadata(&file).is_ok() {
                let doc = read_document(&file, limits::RUNTIME_OVERRIDES)?;
                // Only the predecessor's summaries fall back to it.
                found = Some(Arc::new(RuntimeState::from_value(&file, doc, "", true)?));
                break;
            }
        }
        Ok(self.cell.get_or_init(|| found).clone())
    }
}

impl ArtifactDir {
    /// List `dir`, check the iteration numbers and the tuning report.
    ///
    /// With more than one reader thread available, the tuning report is
    /// checked on a second thread while the directory is listed; errors are
    /// reported in the same order either way (listing first).
    pub fn open(dir: &Path) -> Result<Self, ArtifactError> {
        let report_file = dir.join(TUNING_REPORT);
        let threads = default_reader_threads();
        let (last, tuning_report_entries) = if threads > 1 {
            std::thread::scope(|scope| {
                let report = std::thread::Builder::new()
                    .name("mmsoak-report".into())
                    .spawn_scoped(scope, || check_tuning_report(&report_file));
                let last = list_iterations(dir);
                let entries = match report.map(|h| h.join()) {
                    Ok(Ok(entries)) => entries,
                    // Not started, or panicked: check here.
                    _ => check_tuning_report(&report_file),
                };
                (last, entries)
            })
        } else {
            (list_iterations(dir), check_tuning_report(&report_file))
        };
        let last = last?;
        let tuning_report_entries = tuning_report_entries?;
        Ok(ArtifactDir {
            dir: dir.to_owned(),
            last,
            tuning_report_entries,
            reader_threads: threads,
            fallback: Arc::new(FallbackRuntime {
                dir: dir.to_owned(),
                cell: OnceLock::new(),
            }),
        })
    }

    /// Read summaries on `threads` threads (1: only the calling thread).
    /// The default is [`default_reader_threads`](crate::default_reader_threads).
    pub fn with_reader_threads(mut self, threads: usize) -> Self {
        self.reader_threads = threads.max(1);
        self
    }

    /// Threads [`ArtifactDir::summaries`] reads with.
    pub fn reader_threads(&self) -> usize {
        self.reader_threads
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Number of iterations, N.
    pub fn iteration_count(&self) -> u64 {
        self.last
    }

    /// Entries in `TUNING_REPORT.json`'s `iterations` list.
    pub fn tuning_report_entries(&self) -> usize {
        self.tuning_report_entries
    }

    /// Path of iteration `i`'s summary.
    pub fn summary_path(&self, i: u64) -> PathBuf {
        self.dir.join(iter_summary_name(i))
    }

    /// Path of the apply journal, when the directory has one (a regular
    /// file; a link to one counts, a directory or FIFO does not).
    pub fn journal_path(&self) -> Option<PathBuf> {
        let p = self.dir.join(APPLY_JOURNAL);
        p.is_file().then_some(p)
    }

    /// Whether the directory must hold an apply journal: it holds
    /// `SOAK_RUN.json`, or its first summary carries mmsoak's schema tag
    /// (a run mmsoak wrote). The predecessor's directories have none.
    pub fn journal_required(&self) -> Result<bool, ArtifactError> {
        if std::fs::symlink_metadata(self.dir.join(SOAK_RUN)).is_ok() {
            return Ok(true);
        }
        Ok(self.read_summary(1)?.written_by_mmsoak)
    }

    /// Read and interpret iteration `i`'s summary.
    pub fn read_summary(&self, i: u64) -> Result<IterSummary, ArtifactError> {
        ReadState::new(RuntimeDetail::Full).read(&self.dir, i, &self.fallback)
    }

    /// Every summary in iteration order (read ahead on
    /// [`ArtifactDir::reader_threads`] threads, a bounded number at a time).
    pub fn summaries(&self) -> impl Iterator<Item = Result<IterSummary, ArtifactError>> + '_ {
        self.summaries_from(1)
    }

    /// Summaries `first..=N` in iteration order, like [`ArtifactDir::summaries`].
    pub fn summaries_from(
        &self,
        first: u64,
    ) -> impl Iterator<Item = Result<IterSummary, ArtifactError>> + '_ {
        Summaries::new(
            &self.dir,
            Arc::clone(&self.fallback),
            (first.max(1), self.last),
            self.reader_threads,
            RuntimeDetail::Full,
        )
    }

    /// Every summary in iteration order, like [`ArtifactDir::summaries`],
    /// except that each runtime's [`RuntimeState::overrides`] holds only the
    /// parameters: keys that are not parameters (per-symbol settings, notes)
    /// are dropped. [`RuntimeState::hash`] is still the hash of the whole
    /// document. This is all the verifier and the snapshot look at, and
    /// several times cheaper to read when the overrides change often.
    pub fn summaries_parameters_only(
        &self,
    ) -> impl Iterator<Item = Result<IterSummary, ArtifactError>> + '_ {
        Summaries::new(
            &self.dir,
            Arc::clone(&self.fallback),
            (1, self.last),
            self.reader_threads,
            RuntimeDetail::Parameters,
        )
    }
}

/// List `dir`: the iteration count N, when the summaries are `1..=N`.
fn list_iterations(dir: &Path) -> Result<u64, ArtifactError> {
    let list_err = |source| ArtifactError::ListDir {
        dir: dir.to_owned(),
        source,
    };
    let mut numbers = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(list_err)? {
        let entry = entry.map_err(list_err)?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(number) = name
            .strip_prefix("ITER_SUMMARY_")
            .and_then(|rest| rest.strip_suffix(".json"))
        else {
            continue;
        };
        // A plain 1-based decimal: digits only, no sign, no leading zero.
        let plain = number.bytes().all(|b| b.is_ascii_digit()) && !number.starts_with('0');
        match number.parse::<u64>() {
            Ok(i) if plain && i >= 1 => numbers.push(i),
            _ => {
                return Err(ArtifactError::BadIterationName {
                    file: dir.join(name),
                })
            }
        }
    }
    if numbers.is_empty() {
        return Err(ArtifactError::NoIterations {
            dir: dir.to_owned(),
        });
    }
    numbers.sort_unstable();
    let mut expected = 1;
    for &i in &numbers {
        if i != expected {
            return Err(ArtifactError::MissingIteration {
                missing: dir.join(iter_summary_name(expected)),
                next_present: i,
            });
        }
        expected += 1;
    }
    Ok(expected - 1)
}

/// The documented shape of a tuning report, read without keeping its
/// entries: `{"iterations": [...], ...}`, every key once at every depth.
struct TuningReportShape {
    iterations: Option<usize>,
}

impl<'de> Deserialize<'de> for TuningReportShape {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = TuningReportShape;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<TuningReportShape, A::Error> {
                let mut keys = std::collections::BTreeSet::new();
                let mut iterations = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key == "iterations" {
                        iterations = map
                            .next_value::<Option<Vec<UniqueKeys>>>()?
                            .map(|v| v.len());
                    } else {
                        map.next_value::<UniqueKeys>()?;
                    }
                    if !keys.insert(key) {
                        return Err(serde::de::Error::custom("a key appears twice"));
                    }
                }
                Ok(TuningReportShape { iterations })
            }
        }
        d.deserialize_map(V)
    }
}

/// Check that the tuning report exists and has the documented shape
/// (`{"iterations": [...], ...}` or a bare list, every key once); return
/// its entry count. The file is read as a stream (memory does not grow with
/// its length), up to [`limits::TUNING_REPORT`] bytes.
fn check_tuning_report(file: &Path) -> Result<usize, ArtifactError> {
    let open = || match open_regular(file) {
        Err(InputError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            Err(ArtifactError::MissingTuningReport {
                file: file.to_owned(),
            })
        }
        other => Ok(other?),
    };
    match count_tuning_report_entries(file, open()?) {
        // A soak writes its report's next entry in place: while it does,
        // the end of the file is torn for an instant. Look once more.
        Err(_) => {
            std::thread::sleep(std::time::Duration::from_millis(20));
            count_tuning_report_entries(file, open()?)
        }
        ok => ok,
    }
}

/// [`check_tuning_report`] of an opened report.
fn count_tuning_report_entries(file: &Path, handle: std::fs::File) -> Result<usize, ArtifactError> {
    use std::io::{BufRead, Read};
    let io = |source| InputError::Io {
        file: file.to_owned(),
        source,
    };
    let size = handle.metadata().map_err(io)?.len();
    if size > limits::TUNING_REPORT {
        return Err(InputError::TooLarge {
            file: file.to_owned(),
            size,
            limit: limits::TUNING_REPORT,
        }
        .into());
    }
    let mut reader = std::io::BufReader::new(handle.take(limits::TUNING_REPORT));
    let first = loop {
        let buf = reader.fill_buf().map_err(io)?;
        if buf.is_empty() {
            break None;
        }
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => break Some(buf[i]),
            None => {
                let n = buf.len();
                reader.consume(n);
            }
        }
    };
    let fast = if first == Some(b'[') {
        serde_json::from_reader::<_, Vec<UniqueKeys>>(reader).map(|v| Some(v.len()))
    } else {
        serde_json::from_reader::<_, TuningReportShape>(reader).map(|s| s.iterations)
    };
    match fast {
        Ok(Some(n)) => Ok(n),
        Err(e) if e.is_io() => Err(io(e.into()).into()),
        // Slow path: parse again to say precisely what is wrong (a file of
        // a summary's size at most; a larger one gets the stream's error).
        Err(e) if size > limits::ITER_SUMMARY => Err(InputError::Json {
            file: file.to_owned(),
            source: mmsoak_core::canonical::JsonError::Syntax {
                line: e.line(),
                column: e.column(),
                message: "not a tuning report's JSON".to_owned(),
            },
        }
        .into()),
        _ => {
            let bytes = read_capped(file, limits::ITER_SUMMARY)?;
            let doc = mmsoak_core::input::parse_bytes(file, &bytes)?;
            if let Value::Array(items) = &doc {
                return Ok(items.len());
            }
            let root = Fields::root(file, &doc)?;
            match root.get("iterations") {
                Some(Value::Array(items)) => Ok(items.len()),
                Some(other) => Err(root
                    .error(
                        "iterations",
                        FieldProblem::WrongType {
                            expected: "a list",
                            found: mmsoak_core::input::type_name(other),
                        },
                    )
                    .into()),
                None => Err(root.error("iterations", FieldProblem::Missing).into()),
            }
        }
    }
}

/// The runtime overrides in force during an iteration.
#[derive(Debug, Clone, PartialEq)]
pub struct RuntimeState {
    /// The parameters (any legacy layout read).
    pub overrides: RuntimeOverrides,
    /// [`StateHash`] of the document as written (`StateHash::of_value`).
    pub hash: StateHash,
    /// What a predecessor's document says that cannot all be true (read
    /// by [`RuntimeOverrides::from_predecessor_document`]); empty for
    /// mmsoak's, which are refused instead.
    pub findings: Vec<RuntimeFinding>,
}

impl RuntimeState {
    /// Interpret a runtime-overrides document found at `prefix` in `file`,
    /// by the predecessor's rules when `predecessor`.
    pub(crate) fn from_value(
        file: &Path,
        doc: Value,
        prefix: &str,
        predecessor: bool,
    ) -> Result<Self, InputError> {
        let hash = StateHash::of_value(&doc);
        let read = if predecessor {
            RuntimeOverrides::from_predecessor_document(file, doc)
        } else {
            RuntimeOverrides::from_document(file, doc).map(|o| (o, Vec::new()))
        };
        let prefixed = |path: &mut String| {
            if !prefix.is_empty() {
                *path = format!("{prefix}.{path}");
            }
        };
        let (overrides, mut findings) = read.map_err(|e| match e {
            InputError::Field {
                file,
                path,
                problem,
            } if !prefix.is_empty() => InputError::Field {
                file,
                path: format!("{prefix}.{path}"),
                problem,
            },
            other => other,
        })?;
        for finding in &mut findings {
            match finding {
                RuntimeFinding::Disagreement {
                    in_force_path,
                    other_path,
                    ..
                } => {
                    prefixed(in_force_path);
                    prefixed(other_path);
                }
                RuntimeFinding::Impossible { path, .. } => prefixed(path),
                _ => {}
            }
        }
        Ok(RuntimeState {
            overrides,
            hash,
            findings,
        })
    }
}

/// The KPIs of one iteration the snapshot looks at; `None` when absent or null.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SummaryKpis {
    /// `summary.risk_ratio`.
    pub risk_ratio: Option<f64>,
    /// `summary.maker_taker_ratio`.
    pub maker_taker_ratio: Option<f64>,
    /// `summary.net_bps`.
    pub net_bps: Option<f64>,
    /// `summary.p95_latency_ms`.
    pub p95_latency_ms: Option<f64>,
    /// `summary.latency_floor_ms`: what p95 latency would be with nothing
    /// else of the bot's in flight (bots that report it).
    pub latency_floor_ms: Option<f64>,
    /// `summary.runtime_utc`.
    pub runtime_utc: Option<String>,
}

/// Why a tuning step did not apply, as written in `tuning.skip_reason`.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum RecordedSkip {
    /// `null` or absent.
    #[default]
    None,
    /// The predecessor's `""`.
    Empty,
    /// The predecessor's `"no_runtime_path"`: there was no runtime file to write.
    NoRuntimePath,
    /// Any other string.
    Other(String),
    /// The object with guard flags and a note.
    Guards(SkipFlags, String),
}

impl RecordedSkip {
    /// Short text for reports.
    pub fn describe(&self) -> String {
        match self {
            RecordedSkip::None => "none".into(),
            RecordedSkip::Empty => "\"\"".into(),
            RecordedSkip::NoRuntimePath => "no_runtime_path".into(),
            RecordedSkip::Other(s) => format!("{s:?}"),
            RecordedSkip::Guards(flags, note) if note.is_empty() => {
                flags.names().collect::<Vec<_>>().join(",")
            }
            RecordedSkip::Guards(flags, note) => {
                format!("{} ({note})", flags.names().collect::<Vec<_>>().join(","))
            }
        }
    }

    /// The note a person reads: a guard skip's own note, nothing when there
    /// is no skip, else [`RecordedSkip::describe`].
    pub fn note(&self) -> String {
        match self {
            RecordedSkip::Guards(_, note) => note.clone(),
            RecordedSkip::None => String::new(),
            other => other.describe(),
        }
    }
}

/// One applied operation as mmsoak records it in `tuning.operations`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RecordedOperation {
    /// The parameter.
    pub param: Param,
    /// Value before, when recorded.
    pub from: Option<f64>,
    /// Value after (rounding and clamping included).
    pub to: f64,
}

/// The `tuning` section of an ITER_SUMMARY.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TuningRecord {
    /// `proposed_deltas` (else `deltas`): additive amounts, in file order by name.
    pub proposed: Vec<(Param, f64)>,
    /// `operations` (mmsoak only).
    pub operations: Vec<RecordedOperation>,
    /// `applied`.
    pub applied: bool,
    /// `skip_reason`.
    pub skip_reason: RecordedSkip,
    /// `freeze_triggered`.
    pub freeze_triggered: bool,
    /// `oscillation_detected`.
    pub oscillation_detected: bool,
    /// `velocity_violation`.
    pub velocity_violation: bool,
    /// `cooldown_active`.
    pub cooldown_active: bool,
    /// `state_hash` (else the predecessor's `signature`): the state after the step.
    pub state_hash: Option<StateHash>,
    /// `old_hash`: the state before the step.
    pub old_hash: Option<StateHash>,
}

impl TuningRecord {
    /// Whether anything was proposed.
    pub fn proposed_anything(&self) -> bool {
        !self.proposed.is_empty() || !self.operations.is_empty()
    }

    /// The proposed parameters, sorted, without duplicates.
    pub fn proposed_params(&self) -> Vec<Param> {
        let mut params: Vec<Param> = self
            .proposed
            .iter()
            .map(|(p, _)| *p)
            .chain(self.operations.iter().map(|o| o.param))
            .collect();
        params.sort_unstable();
        params.dedup();
        params
    }

    /// Guard flags from the skip reason and the tuning-level flags together.
    pub fn guard_flags(&self) -> SkipFlags {
        let from_skip = match &self.skip_reason {
            RecordedSkip::Guards(f, _) => *f,
            _ => SkipFlags::default(),
        };
        from_skip.union(SkipFlags {
            freeze: self.freeze_triggered,
            oscillation: self.oscillation_detected,
            velocity: self.velocity_violation,
            cooldown: self.cooldown_active,
            ..SkipFlags::default()
        })
    }
}

/// One `ITER_SUMMARY_{i}.json`, reduced to what the verifier and the snapshot use.
#[derive(Debug, Clone, PartialEq)]
pub struct IterSummary {
    /// The file.
    pub file: PathBuf,
    /// The iteration number.
    pub iteration: u64,
    /// Whether the file carries mmsoak's schema (`mmsoak.iter_summary.v1`).
    pub written_by_mmsoak: bool,
    /// Runtime overrides in force during the iteration: the summary's own
    /// `runtime_overrides` (legacy: `runtime`, `config`), else the
    /// directory's (or its parent's) `runtime_overrides.json`.
    pub runtime: Option<Arc<RuntimeState>>,
    /// KPIs.
    pub kpis: SummaryKpis,
    /// The tuning step.
    pub tuning: TuningRecord,
}

impl IterSummary {
    /// Interpret a parsed summary; `fallback` supplies the directory's runtime
    /// overrides when the summary carries none.
    pub fn from_document(
        file: &Path,
        iteration: u64,
        mut doc: Value,
        fallback: impl FnOnce() -> Result<Option<Arc<RuntimeState>>, ArtifactError>,
    ) -> Result<Self, ArtifactError> {
        // Take the runtime out first, so that `doc` can be borrowed below.
        let runtime_doc = match doc.as_object_mut() {
            Some(map) => ["runtime_overrides", "runtime", "config"]
                .into_iter()
                .find_map(|k| map.remove(k).filter(|v| !v.is_null()).map(|v| (k, v))),
            None => None,
        };
        let root = Fields::root(file, &doc)?;
        let written_by_mmsoak = match root.opt_str("schema")? {
            None => false,
            Some(MMSOAK_ITER_SUMMARY_SCHEMA) => true,
            Some(other) => {
                return Err(root
                    .error(
                        "schema",
                        FieldProblem::Invalid(format!(
                            "is {other:?}; known: {MMSOAK_ITER_SUMMARY_SCHEMA:?} (or absent in the predecessor's files)"
                        )),
                    )
                    .into())
            }
        };
        if let Some(found) = root.opt_count("iteration")? {
            if found != iteration {
                return Err(root
                    .error(
                        "iteration",
                        FieldProblem::Invalid(format!(
                            "is {found} but the file name says {iteration}"
                        )),
                    )
                    .into());
            }
        }
        let runtime = match runtime_doc {
            Some((key, v)) => Some(Arc::new(RuntimeState::from_value(
                file,
                v,
                key,
                !written_by_mmsoak,
            )?)),
            // mmsoak always writes the state in force into the summary; the
            // directory's file stands in only for the predecessor's.
            None if written_by_mmsoak => {
                return Err(root
                    .error("runtime_overrides", FieldProblem::Missing)
                    .into())
            }
            None => fallback()?,
        };
        let kpis = match root.opt_object("summary")? {
            Some(s) => read_kpis(&s)?,
            None => SummaryKpis::default(),
        };
        let tuning = match root.opt_object("tuning")? {
            Some(t) => read_tuning(&t)?,
            None => TuningRecord::default(),
        };
        Ok(IterSummary {
            file: file.to_owned(),
            iteration,
            written_by_mmsoak,
            runtime,
            kpis,
            tuning,
        })
    }

    /// Read a summary from the bytes of `file`; `fallback` supplies the
    /// directory's runtime overrides when the summary carries none.
    ///
    /// Same result as [`parse_bytes`](mmsoak_core::input::parse_bytes) then
    /// [`IterSummary::from_document`], errors included, but usually several
    /// times faster: the fields used are deserialized directly, and only
    /// unusual documents (and bad ones, to name the problem) go through the
    /// whole-document path.
    pub fn from_bytes(
        file: &Path,
        iteration: u64,
        bytes: &[u8],
        fallback: impl FnOnce() -> Result<Option<Arc<RuntimeState>>, ArtifactError>,
    ) -> Result<Self, ArtifactError> {
        Self::read_bytes(
            file,
            iteration,
            bytes,
            fallback,
            &mut RuntimeCache::default(),
            RuntimeDetail::Full,
        )
    }

    /// [`IterSummary::from_bytes`] with a reader's runtime cache. With
    /// [`RuntimeDetail::Parameters`], the summary's own runtime keeps only
    /// its parameters (the fallback is the caller's business).
    pub(crate) fn read_bytes(
        file: &Path,
        iteration: u64,
        bytes: &[u8],
        fallback: impl FnOnce() -> Result<Option<Arc<RuntimeState>>, ArtifactError>,
        cache: &mut RuntimeCache,
        detail: RuntimeDetail,
    ) -> Result<Self, ArtifactError> {
        match crate::fast::read(file, iteration, bytes, cache, detail) {
            Some(fast) => Self::from_fast(fast, fallback),
            None => Self::read_reference(file, iteration, bytes, fallback, detail),
        }
    }

    /// The summary the fast path read, with the directory's runtime when it
    /// carries none.
    pub(crate) fn from_fast(
        fast: crate::fast::FastSummary,
        fallback: impl FnOnce() -> Result<Option<Arc<RuntimeState>>, ArtifactError>,
    ) -> Result<Self, ArtifactError> {
        let mut summary = fast.summary;
        if fast.needs_fallback_runtime {
            // Every check of the reference path passed, so its only
            // possible error is this one.
            summary.runtime = fallback()?;
        }
        Ok(summary)
    }

    /// [`IterSummary::read_bytes`] without trying the fast path (for bytes
    /// it did not accept).
    pub(crate) fn read_reference(
        file: &Path,
        iteration: u64,
        bytes: &[u8],
        fallback: impl FnOnce() -> Result<Option<Arc<RuntimeState>>, ArtifactError>,
        detail: RuntimeDetail,
    ) -> Result<Self, ArtifactError> {
        let doc = parse_bytes(file, bytes)?;
        let has_own_runtime = doc.as_object().is_some_and(|map| {
            ["runtime_overrides", "runtime", "config"]
                .iter()
                .any(|k| map.get(*k).is_some_and(|v| !v.is_null()))
        });
        let mut summary = Self::from_document(file, iteration, doc, fallback)?;
        if detail == RuntimeDetail::Parameters && has_own_runtime {
            summary.runtime = summary
                .runtime
                .map(|state| Arc::new(crate::fast::parameters_only(&state)));
        }
        Ok(summary)
    }

    /// A KPI value required by the snapshot: an error naming the file and
    /// `summary.<name>` when it is absent or null.
    pub fn require_kpi(&self, name: &str, value: Option<f64>) -> Result<f64, InputError> {
        value.ok_or_else(|| InputError::Field {
            file: self.file.clone(),
            path: format!("summary.{name}"),
            problem: FieldProblem::Invalid(
                "is missing or null; the snapshot needs a number".into(),
            ),
        })
    }
}

fn read_kpis(s: &Fields<'_>) -> Result<SummaryKpis, InputError> {
    // Volumes and counts must not be negative (a negative volume makes a
    // negative maker share that looks like data).
    if let Some(fills) = s.opt_object("fills")? {
        for key in ["maker_volume", "taker_volume"] {
            fills.opt_non_negative(key)?;
        }
        for key in ["maker_count", "taker_count", "maker_fills", "taker_fills"] {
            fills.opt_count(key)?;
        }
    }
    let ratio = |key: &str| -> Result<Option<f64>, InputError> {
        match s.opt_f64(key)? {
            Some(v) if !(0.0..=1.0).contains(&v) => Err(s.error(
                key,
                FieldProblem::OutOfRange {
                    value: v,
                    min: 0.0,
                    max: 1.0,
                },
            )),
            other => Ok(other),
        }
    };
    Ok(SummaryKpis {
        risk_ratio: ratio("risk_ratio")?,
        maker_taker_ratio: ratio("maker_taker_ratio")?,
        net_bps: s.opt_f64("net_bps")?,
        p95_latency_ms: s.opt_non_negative("p95_latency_ms")?,
        latency_floor_ms: s.opt_non_negative("latency_floor_ms")?,
        runtime_utc: s.opt_str("runtime_utc")?.map(str::to_owned),
    })
}

fn read_hash(t: &Fields<'_>, key: &str) -> Result<Option<StateHash>, InputError> {
    match t.opt_str(key)? {
        None | Some("") | Some("na") => Ok(None),
        Some(s) => s
            .parse::<StateHash>()
            .map(Some)
            .map_err(|e| t.error(key, FieldProblem::Invalid(format!("is not a hash: {e}")))),
    }
}

fn read_param(f: &Fields<'_>, key: &str, name: &str) -> Result<Param, InputError> {
    name.parse::<Param>()
        .map_err(|e| f.error(key, FieldProblem::Invalid(e.to_string())))
}

fn read_tuning(t: &Fields<'_>) -> Result<TuningRecord, InputError> {
    let deltas_key = if t.get("proposed_deltas").is_some() {
        "proposed_deltas"
    } else {
        "deltas"
    };
    let mut proposed = Vec::new();
    if let Some(deltas) = t.opt_object(deltas_key)? {
        for name in deltas.map().keys() {
            let param = read_param(&deltas, name, name)?;
            proposed.push((param, deltas.f64(name)?));
        }
    }
    let mut operations = Vec::new();
    match t.get("operations") {
        None => {}
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let key = format!("operations[{i}]");
                let op = match item {
                    Value::Object(_) => Fields::root(t.file(), item)?,
                    other => {
                        return Err(t.error(
                            &key,
                            FieldProblem::WrongType {
                                expected: "an object",
                                found: mmsoak_core::input::type_name(other),
                            },
                        ))
                    }
                };
                // Re-root the error paths under `tuning.operations[i]`.
                let at = |e: InputError| match e {
                    InputError::Field {
                        file,
                        path,
                        problem,
                    } => InputError::Field {
                        file,
                        path: format!("{}.{path}", t.path_of(&key)),
                        problem,
                    },
                    other => other,
                };
                let name = op
                    .opt_str("param")
                    .map_err(at)?
                    .ok_or_else(|| at(op.error("param", FieldProblem::Missing)))?;
                operations.push(RecordedOperation {
                    param: read_param(&op, "param", name).map_err(at)?,
                    from: op.opt_f64("from").map_err(at)?,
                    to: op.f64("to").map_err(at)?,
                });
            }
        }
        Some(other) => {
            return Err(t.error(
                "operations",
                FieldProblem::WrongType {
                    expected: "a list",
                    found: mmsoak_core::input::type_name(other),
                },
            ))
        }
    }
    let skip_reason = match t.get("skip_reason") {
        None => RecordedSkip::None,
        Some(Value::String(s)) if s.is_empty() => RecordedSkip::Empty,
        Some(Value::String(s)) if s == "no_runtime_path" => RecordedSkip::NoRuntimePath,
        Some(Value::String(s)) => RecordedSkip::Other(s.clone()),
        Some(Value::Object(_)) => {
            let o = t.object("skip_reason")?;
            let flag = |k: &str| o.opt_bool(k).map(|b| b.unwrap_or(false));
            RecordedSkip::Guards(
                SkipFlags {
                    freeze: flag("freeze")?,
                    oscillation: flag("oscillation")?,
                    velocity: flag("velocity")?,
                    cooldown: flag("cooldown")?,
                    no_op: flag("no_op")?,
                    final_iteration: flag("final_iteration")?,
                },
                o.opt_str("note")?.unwrap_or_default().to_owned(),
            )
        }
        Some(other) => {
            return Err(t.error(
                "skip_reason",
                FieldProblem::WrongType {
                    expected: "null, a string or an object",
                    found: mmsoak_core::input::type_name(other),
                },
            ))
        }
    };
    let flag = |k: &str| t.opt_bool(k).map(|b| b.unwrap_or(false));
    let state_hash = match read_hash(t, "state_hash")? {
        Some(h) => Some(h),
        None => read_hash(t, "signature")?,
    };
    Ok(TuningRecord {
        proposed,
        operations,
        applied: flag("applied")?,
        skip_reason,
        freeze_triggered: flag("freeze_triggered")?,
        oscillation_detected: flag("oscillation_detected")?,
        velocity_violation: flag("velocity_violation")?,
        cooldown_active: flag("cooldown_active")?,
        state_hash,
        old_hash: read_hash(t, "old_hash")?,
    })
}
