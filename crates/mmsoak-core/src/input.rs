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
                "is {} but `{}` is {}: the two places disagree",
                excerpt(value),
                excerpt(other_path),
                excerpt(other_value)
            ),
            FieldProblem::UnknownKey => f.write_str("is not a known key"),
            FieldProblem::Invalid(s) => f.write_str(&excerpt(s)),
        }
    }
}

/// An input file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The file could not be read.
    #[error("cannot read {}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The path names something other than a regular file (a directory, a
    /// FIFO, a socket, a device): nothing is read from it, so a FIFO cannot
    /// block the reader.
    #[error("{} is {what}, not a regular file", file.display())]
    NotAFile {
        /// The path.
        file: PathBuf,
        /// What it is, e.g. `"a directory"`, `"a FIFO (named pipe)"`.
        what: &'static str,
    },
    /// The file is larger than inputs of its kind may be; refused before
    /// it is read (see [`limits`]).
    #[error("{} is {size} bytes, more than the {limit} bytes this input may have", file.display())]
    TooLarge {
        /// The file.
        file: PathBuf,
        /// Its size (or the bytes read before giving up).
        size: u64,
        /// The cap of its kind.
        limit: u64,
    },
    /// The file is not valid JSON (or holds NaN/Infinity, or a key twice).
    #[error("{}", file.display())]
    Json {
        /// The file.
        file: PathBuf,
        /// Why.
        #[source]
        source: JsonError,
    },
    /// A field has a bad value.
    #[error("{}: `{}` {problem}", file.display(), excerpt(path))]
    Field {
        /// The file.
        file: PathBuf,
        /// JSON path of the field, e.g. `totals.fills.maker_volume`.
        path: String,
        /// What is wrong.
        problem: FieldProblem,
    },
}

/// The size caps of the inputs mmsoak reads, in bytes. A file over its cap
/// is refused before it is read ([`InputError::TooLarge`]); files read line
/// by line (the apply journal, fill logs) cap each line instead. Each cap is
/// far above what a real file of its kind holds (docs/formats.md, "Size
/// limits").
pub mod limits {
    /// `runtime_overrides.json` and its per-iteration snapshots (mmsoak's
    /// are under 1 KiB).
    pub const RUNTIME_OVERRIDES: u64 = 1 << 20;
    /// A policy file (TOML; the full default policy is about 4 KiB).
    pub const POLICY: u64 = 1 << 20;
    /// A market scenario file (TOML; about 2 KiB).
    pub const SCENARIO: u64 = 1 << 20;
    /// A bot's `EDGE_REPORT.json` (the simulator's is about 2 KiB).
    pub const EDGE_REPORT: u64 = 16 << 20;
    /// An `ITER_SUMMARY_{i}.json` (mmsoak's are about 5 KiB).
    pub const ITER_SUMMARY: u64 = 16 << 20;
    /// `SOAK_RUN.json` (its history is bounded: about 20 KiB).
    pub const SOAK_RUN: u64 = 16 << 20;
    /// `POST_SOAK_SNAPSHOT.json` and other small reports (a weekly rollup,
    /// a `--compare` baseline).
    pub const SMALL_REPORT: u64 = 1 << 20;
    /// `TUNING_REPORT.json`: about 1.2 KiB per iteration, read as a stream.
    pub const TUNING_REPORT: u64 = 1 << 30;
    /// One line of a line-oriented file: an apply journal entry, a fill.
    pub const LINE: u64 = 1 << 20;
}

/// The longest quoted input an error message carries, in bytes; longer text
/// is cut in the middle ([`excerpt`]).
pub const EXCERPT_BYTES: usize = 160;

/// `text` as an error message quotes it: whole when short, else its start
/// and end around a note of how much was left out, so that a 2 GB value or
/// key never becomes a 2 GB message.
///
/// ```
/// use mmsoak_core::input::excerpt;
/// assert_eq!(excerpt("short"), "short");
/// let long = format!("start{}end", "x".repeat(10_000));
/// let cut = excerpt(&long);
/// assert!(cut.starts_with("startxx") && cut.ends_with("xxend") && cut.len() < 200);
/// assert!(cut.contains("[9862 bytes left out]"));
/// ```
pub fn excerpt(text: &str) -> std::borrow::Cow<'_, str> {
    if text.len() <= EXCERPT_BYTES {
        return text.into();
    }
    let head_end = floor_char_boundary(text, EXCERPT_BYTES * 2 / 3);
    let tail_start = ceil_char_boundary(text, text.len() - EXCERPT_BYTES / 4);
    format!(
        "{} … [{} bytes left out] … {}",
        &text[..head_end],
        tail_start - head_end,
        &text[tail_start..]
    )
    .into()
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// Open `file` for reading, only when it is a regular file (symbolic links
/// are followed). A FIFO, socket, device or directory is refused without
/// waiting: the open does not block (`O_NONBLOCK`) and the type is checked
/// on the opened handle, so the file cannot be swapped in between.
pub fn open_regular(file: &Path) -> Result<std::fs::File, InputError> {
    let io = |source| InputError::Io {
        file: file.to_owned(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // The flag only matters for FIFOs (the open of one without a writer
        // would wait for one); a regular file ignores it.
        options.custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32);
    }
    let handle = options.open(file).map_err(io)?;
    let kind = handle.metadata().map_err(io)?.file_type();
    if kind.is_file() {
        return Ok(handle);
    }
    Err(InputError::NotAFile {
        file: file.to_owned(),
        what: describe_file_type(kind),
    })
}

/// What a non-regular file is, for messages.
fn describe_file_type(kind: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_block_device() || kind.is_char_device() {
            return "a device";
        }
    }
    if kind.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// The bytes of the regular file `file`, refused unread when it is larger
/// than `limit` bytes (and read no further than that if it grows).
///
/// ```
/// use mmsoak_core::input::{read_capped, InputError};
/// let dir = std::env::temp_dir().join(format!("mmsoak-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let file = dir.join("x.json");
/// std::fs::write(&file, b"0123456789").unwrap();
/// assert_eq!(read_capped(&file, 10).unwrap(), b"0123456789");
/// assert!(matches!(read_capped(&file, 9), Err(InputError::TooLarge { size: 10, limit: 9, .. })));
/// assert!(matches!(read_capped(&dir, 9), Err(InputError::NotAFile { what: "a directory", .. })));
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn read_capped(file: &Path, limit: u64) -> Result<Vec<u8>, InputError> {
    use std::io::Read;
    let (handle, size) = open_capped(file, limit)?;
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    handle
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| InputError::Io {
            file: file.to_owned(),
            source,
        })?;
    if bytes.len() as u64 > limit {
        return Err(InputError::TooLarge {
            file: file.to_owned(),
            size: bytes.len() as u64,
            limit,
        });
    }
    Ok(bytes)
}

/// The text of the regular file `file` (at most `limit` bytes, UTF-8, a
/// leading byte order mark removed): for TOML inputs.
pub fn read_text(file: &Path, limit: u64) -> Result<String, InputError> {
    let mut bytes = read_capped(file, limit)?;
    if bytes.starts_with(crate::canonical::UTF8_BOM) {
        bytes.drain(..crate::canonical::UTF8_BOM.len());
    }
    String::from_utf8(bytes).map_err(|e| InputError::Io {
        file: file.to_owned(),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        ),
    })
}

/// What [`read_line_capped`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineRead {
    /// The end of the input: nothing was read.
    End,
    /// A line (with its `\n`, unless it is the last and has none).
    Line,
    /// A line longer than the cap: `buf` holds its first `limit` bytes and
    /// the rest is unread.
    TooLong,
}

/// Read one line into `buf` (cleared first), as `BufRead::read_until`
/// would, but never more than `limit` bytes: a file without newlines cannot
/// make a line reader hold it whole.
///
/// ```
/// use mmsoak_core::input::{read_line_capped, LineRead};
/// let mut input: &[u8] = b"ab\nabcdef\n";
/// let mut buf = Vec::new();
/// assert_eq!(read_line_capped(&mut input, &mut buf, 4).unwrap(), LineRead::Line);
/// assert_eq!(buf, b"ab\n");
/// assert_eq!(read_line_capped(&mut input, &mut buf, 4).unwrap(), LineRead::TooLong);
/// ```
pub fn read_line_capped(
    reader: &mut impl std::io::BufRead,
    buf: &mut Vec<u8>,
    limit: u64,
) -> std::io::Result<LineRead> {
    buf.clear();
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    loop {
        let chunk = match reader.fill_buf() {
            Ok(chunk) => chunk,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            return Ok(if buf.is_empty() {
                LineRead::End
            } else {
                LineRead::Line
            });
        }
        let (take, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        if buf.len() + take > limit.saturating_add(usize::from(done)) {
            let room = limit - buf.len().min(limit);
            buf.extend_from_slice(&chunk[..room.min(take)]);
            return Ok(LineRead::TooLong);
        }
        buf.extend_from_slice(&chunk[..take]);
        reader.consume(take);
        if done {
            return Ok(LineRead::Line);
        }
    }
}

/// 1-based line and column (in characters) of byte `offset` of `text`, for
/// errors about a position in a text file.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// [`open_regular`], refused when the file is larger than `limit` bytes;
/// also returns its size. A reader of the handle must still stop after
/// `limit` bytes (the file may grow).
pub fn open_capped(file: &Path, limit: u64) -> Result<(std::fs::File, u64), InputError> {
    let handle = open_regular(file)?;
    let size = handle
        .metadata()
        .map_err(|source| InputError::Io {
            file: file.to_owned(),
            source,
        })?
        .len();
    if size > limit {
        return Err(InputError::TooLarge {
            file: file.to_owned(),
            size,
            limit,
        });
    }
    Ok((handle, size))
}

impl InputError {
    /// The file the error is about.
    pub fn file(&self) -> &Path {
        match self {
            InputError::Io { file, .. }
            | InputError::NotAFile { file, .. }
            | InputError::TooLarge { file, .. }
            | InputError::Json { file, .. }
            | InputError::Field { file, .. } => file,
        }
    }

    /// The JSON path of the offending field, when the error is about one.
    pub fn field_path(&self) -> Option<&str> {
        match self {
            InputError::Field { path, .. } => Some(path),
            InputError::Json {
                source: JsonError::NonFinite { path, .. } | JsonError::DuplicateKey { path },
                ..
            } => Some(path),
            _ => None,
        }
    }
}

/// Read and parse a JSON file of at most `limit` bytes (one of [`limits`]).
pub fn read_document(file: &Path, limit: u64) -> Result<Value, InputError> {
    parse_bytes(file, &read_capped(file, limit)?)
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
        let err = read_document(
            Path::new("/nonexistent/EDGE_REPORT.json"),
            limits::EDGE_REPORT,
        )
        .expect_err("missing");
        assert!(
            err.to_string().contains("/nonexistent/EDGE_REPORT.json"),
            "{err}"
        );
        let err = parse_bytes(Path::new("r.json"), b"{\"a\": NaN}").expect_err("nan");
        assert_eq!(err.field_path(), Some("a"));
        assert_eq!(
            crate::ErrorChain(&err).to_string(),
            "r.json: `a` is NaN, not a finite number"
        );
    }
}
