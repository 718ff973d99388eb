//! Streaming readers for fill logs (JSONL and CSV).
//!
//! One fill per line (JSONL) or row (CSV). Accepted spellings:
//! * maker flag: `is_maker` / `isMaker` / `maker` (boolean; in CSV also
//!   `true`/`false`/`1`/`0`), or `liquidity` = `maker`/`taker`/`M`/`T`
//!   (any case); if both are given they must agree;
//! * notional: `quote_qty` / `quoteQty` / `notional`, else `price` (`px`) ×
//!   `qty` (`quantity`, `size`);
//! * fee: `fee` / `commission` (optional; negative = rebate).
//!
//! Numbers may be JSON numbers or numeric strings (exchanges often quote
//! them). Other fields are ignored. Memory use does not grow with the file.

use std::borrow::Cow;
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use mmsoak_core::input::{excerpt, limits, open_regular, read_line_capped, LineRead};
use mmsoak_core::{FillTotals, InputError};
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

/// Totals of a fill log.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FillStats {
    /// Counts and notional volumes.
    pub totals: FillTotals,
    /// Fees of maker fills (negative = rebates).
    pub maker_fees: f64,
    /// Fees of taker fills.
    pub taker_fees: f64,
    /// Fills read.
    pub fills: u64,
}

impl FillStats {
    fn add(&mut self, fill: Fill) {
        let t = &mut self.totals;
        if fill.maker {
            t.maker_count += 1;
            t.maker_volume += fill.notional;
            self.maker_fees += fill.fee;
        } else {
            t.taker_count += 1;
            t.taker_volume += fill.notional;
            self.taker_fees += fill.fee;
        }
        self.fills += 1;
    }
}

/// A fill log could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FillLogError {
    /// The file could not be opened or read.
    #[error("cannot read {}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A line is malformed.
    #[error("{}:{line}: {}", file.display(), excerpt(problem))]
    Line {
        /// The file.
        file: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What is wrong (names the field).
        problem: String,
    },
    /// Not a regular file (a FIFO, a directory).
    #[error(transparent)]
    Input(Box<InputError>),
    /// The file's name does not say whether it is JSONL or CSV.
    #[error("{}: unknown fill log format (expected a .jsonl, .ndjson or .csv file)", file.display())]
    UnknownFormat {
        /// The file.
        file: PathBuf,
    },
}

/// The two fill log formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FillLogFormat {
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated with a header row.
    Csv,
}

impl FillLogFormat {
    /// The format a file name implies: `.jsonl`/`.ndjson` or `.csv`.
    pub fn from_path(path: &Path) -> Option<Self> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "jsonl" | "ndjson" => Some(FillLogFormat::Jsonl),
            "csv" => Some(FillLogFormat::Csv),
            _ => None,
        }
    }
}

/// Read a fill log, choosing the format from the file name.
pub fn read_fill_log(path: &Path) -> Result<FillStats, FillLogError> {
    let format = FillLogFormat::from_path(path).ok_or_else(|| FillLogError::UnknownFormat {
        file: path.to_owned(),
    })?;
    let file = open_regular(path).map_err(|e| match e {
        InputError::Io { source, .. } => FillLogError::Io {
            file: path.to_owned(),
            source,
        },
        other => FillLogError::Input(Box::new(other)),
    })?;
    match format {
        FillLogFormat::Jsonl => read_jsonl(BufReader::with_capacity(1 << 16, file), path),
        FillLogFormat::Csv => read_csv(file, path),
    }
}

struct Fill {
    maker: bool,
    notional: f64,
    fee: f64,
}

/// Everything a line may say, before validation.
#[derive(Default)]
struct RawFill<'a> {
    is_maker: Option<bool>,
    liquidity: Option<Cow<'a, str>>,
    price: Option<f64>,
    qty: Option<f64>,
    quote_qty: Option<f64>,
    fee: Option<f64>,
}

impl RawFill<'_> {
    fn validate(self) -> Result<Fill, String> {
        let from_liquidity = match self.liquidity.as_deref() {
            None => None,
            Some(l) if l.eq_ignore_ascii_case("maker") || l.eq_ignore_ascii_case("m") => Some(true),
            Some(l) if l.eq_ignore_ascii_case("taker") || l.eq_ignore_ascii_case("t") => {
                Some(false)
            }
            Some(l) => {
                return Err(format!(
                    "`liquidity` is {l:?}, expected maker, taker, M or T"
                ))
            }
        };
        let maker = match (self.is_maker, from_liquidity) {
            (Some(a), Some(b)) if a != b => {
                return Err(format!(
                    "`is_maker` is {a} but `liquidity` says {}",
                    if b { "maker" } else { "taker" }
                ))
            }
            (Some(a), _) => a,
            (None, Some(b)) => b,
            (None, None) => {
                return Err(
                    "no maker/taker flag (`is_maker`, `isMaker`, `maker` or `liquidity`)".into(),
                )
            }
        };
        let non_negative = |name: &str, v: f64| {
            if v < 0.0 {
                Err(format!("`{name}` is negative ({v})"))
            } else {
                Ok(v)
            }
        };
        let notional = match (self.quote_qty, self.price, self.qty) {
            (Some(q), _, _) => non_negative("quote_qty", q)?,
            (None, Some(p), Some(q)) => non_negative("price", p)? * non_negative("qty", q)?,
            (None, None, _) => {
                return Err(
                    "no notional: need `quote_qty`, or `price` and `qty`; `price` is missing"
                        .into(),
                )
            }
            (None, Some(_), None) => {
                return Err(
                    "no notional: need `quote_qty`, or `price` and `qty`; `qty` is missing".into(),
                )
            }
        };
        Ok(Fill {
            maker,
            notional,
            fee: self.fee.unwrap_or(0.0),
        })
    }
}

/// A JSON number, or a string holding one.
struct Num(f64);

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Num;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or a numeric string")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Num, E> {
                Ok(Num(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Num, E> {
                Ok(Num(v as f64))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Num, E> {
                Ok(Num(v as f64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Num, E> {
                parse_number(v).map(Num).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

fn parse_number(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(format!("{s:?} is not a finite number")),
    }
}

/// A boolean, or a string/number spelling one (`"true"`, `"1"`, `1`).
struct Flag(bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Flag;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a boolean")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Flag, E> {
                Ok(Flag(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Flag, E> {
                parse_flag(&v.to_string()).map(Flag).map_err(E::custom)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Flag, E> {
                parse_flag(v).map(Flag).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

fn parse_flag(s: &str) -> Result<bool, String> {
    match s.trim() {
        t if t.eq_ignore_ascii_case("true") || t == "1" => Ok(true),
        t if t.eq_ignore_ascii_case("false") || t == "0" => Ok(false),
        t => Err(format!("{t:?} is not a boolean")),
    }
}

#[derive(Deserialize)]
struct JsonFill<'a> {
    #[serde(default, alias = "isMaker", alias = "maker")]
    is_maker: Option<Flag>,
    #[serde(default, borrow)]
    liquidity: Option<Cow<'a, str>>,
    #[serde(default, alias = "px")]
    price: Option<Num>,
    #[serde(default, alias = "quantity", alias = "size")]
    qty: Option<Num>,
    #[serde(default, alias = "quoteQty", alias = "notional")]
    quote_qty: Option<Num>,
    #[serde(default, alias = "commission")]
    fee: Option<Num>,
}

/// Read a JSONL fill log from any buffered reader; `file` names it in errors.
pub fn read_jsonl<R: BufRead>(mut reader: R, file: &Path) -> Result<FillStats, FillLogError> {
    let mut stats = FillStats::default();
    let mut buf = Vec::with_capacity(512);
    let mut line = 0u64;
    loop {
        let read = read_line_capped(&mut reader, &mut buf, limits::LINE).map_err(|source| {
            FillLogError::Io {
                file: file.to_owned(),
                source,
            }
        })?;
        line += 1;
        match read {
            LineRead::End => break,
            LineRead::Line => {}
            LineRead::TooLong => {
                return Err(FillLogError::Line {
                    file: file.to_owned(),
                    line,
                    problem: format!("longer than {} bytes: not a fill", limits::LINE),
                })
            }
        }
        let mut text = buf.trim_ascii();
        if line == 1 {
            // A byte order mark, as Windows editors write one.
            text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
        }
        if text.is_empty() {
            continue;
        }
        let bad = |problem: String| FillLogError::Line {
            file: file.to_owned(),
            line,
            problem,
        };
        let j: JsonFill<'_> = serde_json::from_slice(text).map_err(|e| bad(strip_position(e)))?;
        let raw = RawFill {
            is_maker: j.is_maker.map(|f| f.0),
            liquidity: j.liquidity,
            price: j.price.map(|n| n.0),
            qty: j.qty.map(|n| n.0),
            quote_qty: j.quote_qty.map(|n| n.0),
            fee: j.fee.map(|n| n.0),
        };
        stats.add(raw.validate().map_err(bad)?);
    }
    Ok(stats)
}

fn strip_position(e: serde_json::Error) -> String {
    let msg = e.to_string();
    let msg = match msg.rfind(" at line ") {
        Some(i) => &msg[..i],
        None => &msg,
    };
    format!("invalid JSON: {}", excerpt(msg))
}

/// A reader that fails once a CSV record (bytes since the last newline
/// outside quotes) grows past [`limits::LINE`]: the CSV reader holds a
/// record whole.
struct RecordCapped<R> {
    inner: R,
    since_newline: u64,
    quoted: bool,
}

impl<R: Read> Read for RecordCapped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            match b {
                b'"' => self.quoted = !self.quoted,
                b'\n' if !self.quoted => {
                    self.since_newline = 0;
                    continue;
                }
                _ => {}
            }
            self.since_newline += 1;
            if self.since_newline > limits::LINE {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("a record longer than {} bytes: not a fill", limits::LINE),
                ));
            }
        }
        Ok(n)
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Column {
    IsMaker,
    Liquidity,
    Price,
    Qty,
    QuoteQty,
    Fee,
    Other,
}

fn column_of(header: &str) -> Column {
    match header.trim().to_ascii_lowercase().as_str() {
        "is_maker" | "ismaker" | "maker" => Column::IsMaker,
        "liquidity" => Column::Liquidity,
        "price" | "px" => Column::Price,
        "qty" | "quantity" | "size" => Column::Qty,
        "quote_qty" | "quoteqty" | "notional" => Column::QuoteQty,
        "fee" | "commission" => Column::Fee,
        _ => Column::Other,
    }
}

/// Read a CSV fill log (header row first); `file` names it in errors.
pub fn read_csv<R: Read>(reader: R, file: &Path) -> Result<FillStats, FillLogError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(RecordCapped {
            inner: reader,
            since_newline: 0,
            quoted: false,
        });
    let csv_err = |e: csv::Error| {
        let line = e.position().map_or(0, |p| p.line());
        match e.into_kind() {
            csv::ErrorKind::Io(source) => FillLogError::Io {
                file: file.to_owned(),
                source,
            },
            kind => FillLogError::Line {
                file: file.to_owned(),
                line,
                problem: format!("invalid CSV: {kind:?}"),
            },
        }
    };
    let columns: Vec<Column> = rdr
        .headers()
        .map_err(csv_err)?
        .iter()
        .map(column_of)
        .collect();
    let mut stats = FillStats::default();
    let mut record = csv::StringRecord::new();
    while rdr.read_record(&mut record).map_err(csv_err)? {
        let line = record.position().map_or(0, |p| p.line());
        let bad = |problem: String| FillLogError::Line {
            file: file.to_owned(),
            line,
            problem,
        };
        let mut raw = RawFill::default();
        for (col, cell) in columns.iter().zip(record.iter()) {
            if cell.is_empty() {
                continue;
            }
            let num = |name: &str| parse_number(cell).map_err(|e| bad(format!("`{name}`: {e}")));
            match col {
                Column::IsMaker => {
                    raw.is_maker =
                        Some(parse_flag(cell).map_err(|e| bad(format!("`is_maker`: {e}")))?)
                }
                Column::Liquidity => raw.liquidity = Some(Cow::Borrowed(cell)),
                Column::Price => raw.price = Some(num("price")?),
                Column::Qty => raw.qty = Some(num("qty")?),
                Column::QuoteQty => raw.quote_qty = Some(num("quote_qty")?),
                Column::Fee => raw.fee = Some(num("fee")?),
                Column::Other => {}
            }
        }
        stats.add(raw.validate().map_err(bad)?);
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jsonl(s: &str) -> Result<FillStats, FillLogError> {
        read_jsonl(s.as_bytes(), Path::new("fills.jsonl"))
    }

    fn csv(s: &str) -> Result<FillStats, FillLogError> {
        read_csv(s.as_bytes(), Path::new("fills.csv"))
    }

    #[track_caller]
    fn check_err(r: Result<FillStats, FillLogError>, line: u64, needle: &str) {
        match r {
            Err(FillLogError::Line {
                line: l,
                problem,
                file,
            }) => {
                assert_eq!(l, line, "{problem}");
                assert!(
                    problem.contains(needle),
                    "{problem:?} should mention {needle:?}"
                );
                assert!(file.to_string_lossy().starts_with("fills."));
            }
            other => panic!("expected a line error, got {other:?}"),
        }
    }

    #[test]
    fn jsonl_spellings() {
        let s = jsonl(concat!(
            "{\"is_maker\": true, \"price\": 100, \"qty\": 2, \"fee\": -0.01, \"ts\": 1}\n",
            "{\"isMaker\": false, \"px\": \"101.5\", \"quantity\": \"1\", \"commission\": 0.05}\n",
            "\n",
            "{\"liquidity\": \"M\", \"quoteQty\": 50}\n",
            "{\"liquidity\": \"taker\", \"notional\": 25.5, \"maker\": \"false\"}\r\n",
        ))
        .expect("valid log");
        assert_eq!(s.fills, 4);
        assert_eq!(
            s.totals,
            FillTotals {
                maker_count: 2,
                taker_count: 2,
                maker_volume: 250.0,
                taker_volume: 127.0
            }
        );
        assert_eq!((s.maker_fees, s.taker_fees), (-0.01, 0.05));
    }

    /// A byte order mark before the first line (a Windows editor's) is
    /// not a fill; one anywhere else is an error.
    #[test]
    fn a_byte_order_mark_is_skipped() {
        let s = jsonl("\u{feff}{\"is_maker\": true, \"price\": 100, \"qty\": 2}\n").expect("BOM");
        assert_eq!(s.fills, 1);
        let s = csv("\u{feff}is_maker,price,qty\ntrue,100,2\n").expect("BOM");
        assert_eq!(s.totals.maker_volume, 200.0);
        assert!(jsonl("{\"is_maker\": true, \"price\": 1, \"qty\": 1}\n\u{feff}{}\n").is_err());
    }

    #[test]
    fn jsonl_errors_name_the_line_and_field() {
        check_err(
            jsonl("{\"is_maker\": true, \"quote_qty\": 1}\n{\"is_maker\": true, \"quote_qty\": 1"),
            2,
            "invalid JSON",
        );
        check_err(jsonl("{\"price\": 1, \"qty\": 1}"), 1, "maker/taker flag");
        check_err(
            jsonl("{\"is_maker\": true, \"price\": 1, \"qty\": -1}"),
            1,
            "`qty` is negative",
        );
        check_err(
            jsonl("{\"is_maker\": true, \"quote_qty\": -1}"),
            1,
            "`quote_qty` is negative",
        );
        check_err(
            jsonl("{\"is_maker\": true, \"price\": 1}"),
            1,
            "`qty` is missing",
        );
        check_err(
            jsonl("{\"is_maker\": true, \"liquidity\": \"T\", \"quote_qty\": 1}"),
            1,
            "liquidity",
        );
        check_err(
            jsonl("{\"liquidity\": \"X\", \"quote_qty\": 1}"),
            1,
            "liquidity",
        );
        check_err(
            jsonl("{\"is_maker\": true, \"quote_qty\": NaN}"),
            1,
            "invalid JSON",
        );
        check_err(
            jsonl("{\"is_maker\": true, \"quote_qty\": \"NaN\"}"),
            1,
            "not a finite number",
        );
        check_err(jsonl("[1, 2]"), 1, "invalid JSON");
    }

    #[test]
    fn empty_log_is_zero() {
        assert_eq!(jsonl("").expect("empty").fills, 0);
        assert_eq!(csv("is_maker,price,qty\n").expect("header only").fills, 0);
    }

    #[test]
    fn csv_spellings_and_errors() {
        let s = csv("ts,isMaker,Price,Qty,Fee\n1,true,100,2,-0.01\n2,0,50,1,\n3,1,\"10\",1,0\n")
            .expect("valid csv");
        assert_eq!(
            s.totals,
            FillTotals {
                maker_count: 2,
                taker_count: 1,
                maker_volume: 210.0,
                taker_volume: 50.0
            }
        );
        let s = csv("liquidity,notional\nM,10\nT,30\n").expect("valid csv");
        assert_eq!((s.totals.maker_volume, s.totals.taker_volume), (10.0, 30.0));
        check_err(
            csv("is_maker,price,qty\ntrue,1,1\nyes,1,1\n"),
            3,
            "is_maker",
        );
        check_err(csv("is_maker,price,qty\ntrue,1,abc\n"), 2, "`qty`");
        check_err(
            csv("is_maker,price,qty\ntrue,-1,1\n"),
            2,
            "`price` is negative",
        );
        check_err(csv("is_maker,price,qty\ntrue,1,1,9\n"), 2, "invalid CSV");
    }

    #[test]
    fn format_from_extension_and_missing_file() {
        assert_eq!(
            FillLogFormat::from_path(Path::new("a/fills.JSONL")),
            Some(FillLogFormat::Jsonl)
        );
        assert_eq!(
            FillLogFormat::from_path(Path::new("fills.ndjson")),
            Some(FillLogFormat::Jsonl)
        );
        assert_eq!(
            FillLogFormat::from_path(Path::new("fills.csv")),
            Some(FillLogFormat::Csv)
        );
        assert_eq!(FillLogFormat::from_path(Path::new("fills.txt")), None);
        assert!(matches!(
            read_fill_log(Path::new("fills.txt")),
            Err(FillLogError::UnknownFormat { .. })
        ));
        let err = read_fill_log(Path::new("/nonexistent/fills.jsonl")).expect_err("missing");
        assert!(
            err.to_string().contains("/nonexistent/fills.jsonl"),
            "{err}"
        );
    }

    #[test]
    fn file_reader_matches_in_memory_reader() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("fills.jsonl");
        let text =
            "{\"is_maker\": true, \"quote_qty\": 3}\n{\"is_maker\": false, \"quote_qty\": 1}\n";
        std::fs::write(&p, text).expect("write");
        assert_eq!(
            read_fill_log(&p).expect("file"),
            jsonl(text).expect("memory")
        );
    }
}
