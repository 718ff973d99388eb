//! Reading a recorded market: an `.npz` archive whose array `data` holds
//! hftbacktest events (`data.npy`, numpy's format 1.0–3.0, little-endian
//! structured records of 64 bytes).
//!
//! Read and checked here, once per run, rather than by hftbacktest's reader
//! at every iteration: that reader panics or loops on some malformed files
//! (an entry shorter than its header, a bad header, a zero-length array),
//! and it does not check what the engine relies on: finite prices and
//! quantities, non-negative quantities, and timestamps that never decrease.

use std::io::Read;
use std::path::Path;

use hftbacktest::backtest::data::{NpyDTyped, NpyHeader};
use hftbacktest::prelude::{Event, EXCH_EVENT, LOCAL_EVENT};

use crate::SimError;

/// The array the events are in.
const ARRAY: &str = "data.npy";
/// Bytes per event record.
const RECORD: usize = 64;

/// A recorded market's events, checked, in file order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RecordedEvents(pub(super) Vec<Event>);

impl RecordedEvents {
    /// How many events the file holds.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// blake3 of the event records (the array's data bytes, without its
    /// header), 64 hex digits: the market's identity, whatever the
    /// archive's compression.
    pub(crate) fn content_hash(&self) -> String {
        let mut hasher = blake3::Hasher::new();
        for e in &self.0 {
            for word in [
                e.ev.to_le_bytes(),
                e.exch_ts.to_le_bytes(),
                e.local_ts.to_le_bytes(),
                e.px.to_le_bytes(),
                e.qty.to_le_bytes(),
                e.order_id.to_le_bytes(),
                e.ival.to_le_bytes(),
                e.fval.to_le_bytes(),
            ] {
                hasher.update(&word);
            }
        }
        hasher.finalize().to_hex().to_string()
    }

    /// Read and check the recorded market in `path`; errors name the file
    /// and, for a bad event, its record number and field.
    pub(crate) fn read(path: &Path) -> Result<RecordedEvents, SimError> {
        let problem = |problem: String| SimError::Market {
            file: path.to_owned(),
            problem,
        };
        let file = std::fs::File::open(path).map_err(|source| SimError::Io {
            path: path.to_owned(),
            source,
        })?;
        let mut archive = zip::ZipArchive::new(std::io::BufReader::new(file))
            .map_err(|e| problem(format!("not an npz (zip) archive: {e}")))?;
        let mut entry = archive
            .by_name(ARRAY)
            .map_err(|_| problem(format!("no array `data` ({ARRAY}) in the archive")))?;
        let mut npy = Vec::new();
        entry
            .read_to_end(&mut npy)
            .map_err(|e| problem(format!("{ARRAY}: cannot be read: {e}")))?;
        parse_npy(&npy).map_err(|p| problem(format!("{ARRAY}: {p}")))
    }
}

/// The events of a `.npy` file's bytes, or what is wrong with them.
fn parse_npy(bytes: &[u8]) -> Result<RecordedEvents, String> {
    let rest = bytes
        .strip_prefix(b"\x93NUMPY")
        .ok_or("not a numpy array file (no \\x93NUMPY magic)")?;
    let (header_len, rest) = match rest {
        [1, _, a, b, rest @ ..] => (usize::from(u16::from_le_bytes([*a, *b])), rest),
        [2 | 3, _, a, b, c, d, rest @ ..] => {
            let len = u32::from_le_bytes([*a, *b, *c, *d]);
            (usize::try_from(len).unwrap_or(usize::MAX), rest)
        }
        [1..=3, ..] | [] => return Err("truncated in its header".to_owned()),
        [major, ..] => return Err(format!("numpy format version {major} is not supported")),
    };
    if rest.len() < header_len {
        return Err(format!(
            "truncated: its header says {header_len} bytes, {} follow",
            rest.len()
        ));
    }
    let (header, data) = rest.split_at(header_len);
    let header = std::str::from_utf8(header).map_err(|_| "its header is not text".to_owned())?;
    let header = NpyHeader::from_header(header).map_err(|e| format!("bad header: {e}"))?;
    if header.fortran_order {
        return Err("fortran_order is True; a 1-d array of records is expected".to_owned());
    }
    let [count] = header.shape[..] else {
        return Err(format!(
            "shape {:?}: a 1-d array of records is expected",
            header.shape
        ));
    };
    let expected = Event::descr();
    let types = |d: &[hftbacktest::backtest::data::Field]| -> Vec<String> {
        d.iter().map(|f| f.ty.clone()).collect()
    };
    if types(&header.descr) != types(&expected) {
        let fields = |d: &[hftbacktest::backtest::data::Field]| -> String {
            d.iter()
                .map(|f| format!("{} {}", f.name, f.ty))
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(format!(
            "descr [{}] is not hftbacktest's event record [{}]",
            fields(&header.descr),
            fields(&expected)
        ));
    }
    if count.checked_mul(RECORD) != Some(data.len()) {
        return Err(format!(
            "holds {} bytes of records, its header says {count} records of {RECORD} bytes",
            data.len()
        ));
    }
    if count == 0 {
        return Err("holds no events: there is no market to replay".to_owned());
    }
    let mut events = Vec::with_capacity(count);
    let (mut exch, mut local) = (i64::MIN, i64::MIN);
    for (i, record) in data.chunks_exact(RECORD).enumerate() {
        let e = event(record);
        let bad = |field: &str, what: String| format!("record {i}: {field} {what}");
        for (field, v) in [("px", e.px), ("qty", e.qty)] {
            if !v.is_finite() {
                return Err(bad(field, format!("is not a finite number ({v})")));
            }
        }
        if e.qty < 0.0 {
            return Err(bad("qty", format!("is negative ({})", e.qty)));
        }
        let streams = [
            (EXCH_EVENT, "exch_ts", e.exch_ts, &mut exch, "exchange"),
            (LOCAL_EVENT, "local_ts", e.local_ts, &mut local, "local"),
        ];
        for (flag, field, ts, last, whose) in streams {
            if e.ev & flag == 0 {
                continue;
            }
            if ts < *last {
                let previous = *last;
                return Err(bad(
                    field,
                    format!("{ts} is before the previous {whose} event's {previous}"),
                ));
            }
            *last = ts;
        }
        events.push(e);
    }
    Ok(RecordedEvents(events))
}

/// One little-endian record of `RECORD` bytes.
fn event(record: &[u8]) -> Event {
    let word = |i: usize| -> [u8; 8] {
        record
            .get(i * 8..i * 8 + 8)
            .and_then(|w| w.try_into().ok())
            .unwrap_or([0; 8])
    };
    Event {
        ev: u64::from_le_bytes(word(0)),
        exch_ts: i64::from_le_bytes(word(1)),
        local_ts: i64::from_le_bytes(word(2)),
        px: f64::from_le_bytes(word(3)),
        qty: f64::from_le_bytes(word(4)),
        order_id: u64::from_le_bytes(word(5)),
        ival: i64::from_le_bytes(word(6)),
        fval: f64::from_le_bytes(word(7)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hftbacktest::backtest::data::write_npy;
    use hftbacktest::prelude::{BUY_EVENT, DEPTH_EVENT};
    use proptest::prelude::*;

    /// A valid `.npy` of `n` depth events, and where its records start.
    fn npy(n: usize) -> (Vec<u8>, usize) {
        let events: Vec<Event> = (0..n)
            .map(|i| {
                let t = i64::try_from(i).expect("small") * 1_000;
                Event {
                    ev: DEPTH_EVENT | BUY_EVENT | EXCH_EVENT | LOCAL_EVENT,
                    exch_ts: t,
                    local_ts: t + 5,
                    px: 100.0,
                    qty: 2.0,
                    order_id: 0,
                    ival: 0,
                    fval: 0.0,
                }
            })
            .collect();
        let mut bytes = Vec::new();
        write_npy(&mut bytes, &events).expect("write npy");
        let start = bytes.len() - n * RECORD;
        (bytes, start)
    }

    fn put(bytes: &mut [u8], at: usize, word: [u8; 8]) {
        bytes[at..at + 8].copy_from_slice(&word);
    }

    fn replace_in_header(bytes: &mut [u8], from: &str, to: &str) {
        assert_eq!(from.len(), to.len());
        let at = bytes
            .windows(from.len())
            .position(|w| w == from.as_bytes())
            .expect("in the header");
        bytes[at..at + to.len()].copy_from_slice(to.as_bytes());
    }

    #[test]
    fn an_archive_without_the_data_array_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("other.npz");
        let (npy, _) = npy(3);
        std::fs::write(&path, crate::npz::stored_zip("other.npy", &npy)).expect("write");
        let err = RecordedEvents::read(&path).expect_err("no data array");
        assert_eq!(
            err.to_string(),
            format!(
                "{}: no array `data` (data.npy) in the archive",
                path.display()
            )
        );
        std::fs::write(&path, crate::npz::stored_zip(ARRAY, &npy)).expect("write");
        assert_eq!(RecordedEvents::read(&path).expect("valid").len(), 3);
    }

    #[test]
    fn a_valid_array_reads_back_every_event() {
        let (bytes, _) = npy(5);
        let events = parse_npy(&bytes).expect("valid");
        assert_eq!(events.len(), 5);
        assert_eq!(events.0[4].exch_ts, 4_000);
        assert_eq!(events.0[4].local_ts, 4_005);
        let empty = parse_npy(&npy(0).0).expect_err("no events");
        assert!(empty.contains("holds no events"), "{empty}");
    }

    /// A change to a valid file's bytes.
    type Spoil = Box<dyn Fn(&mut Vec<u8>)>;

    #[test]
    fn bad_contents_name_the_record_and_field() {
        let record = |i: usize, field: usize| npy(6).1 + i * RECORD + field * 8;
        let cases: Vec<(Spoil, &str)> = vec![
            (
                Box::new(move |b| put(b, record(3, 3), f64::NAN.to_le_bytes())),
                "record 3: px is not a finite number (NaN)",
            ),
            (
                Box::new(move |b| put(b, record(2, 4), (-1.5f64).to_le_bytes())),
                "record 2: qty is negative (-1.5)",
            ),
            (
                Box::new(move |b| put(b, record(4, 1), 10i64.to_le_bytes())),
                "record 4: exch_ts 10 is before the previous exchange event's 3000",
            ),
            (
                Box::new(move |b| put(b, record(1, 2), (-7i64).to_le_bytes())),
                "record 1: local_ts -7 is before the previous local event's 5",
            ),
            (
                Box::new(|b| {
                    b.truncate(b.len() - RECORD);
                }),
                "holds 320 bytes of records, its header says 6 records of 64 bytes",
            ),
            (
                Box::new(|b| replace_in_header(b, "'px', '<f8'", "'px', '<i8'")),
                "is not hftbacktest's event record",
            ),
            (
                Box::new(|b| replace_in_header(b, "False", "True ")),
                "fortran_order is True",
            ),
            (Box::new(|b| b[0] = b'x'), "no \\x93NUMPY magic"),
            (
                Box::new(|b| b[6] = 9),
                "numpy format version 9 is not supported",
            ),
            (Box::new(|b| b.truncate(9)), "truncated in its header"),
            (Box::new(|b| b.truncate(40)), "truncated: its header says"),
        ];
        for (spoil, expected) in cases {
            let (mut bytes, _) = npy(6);
            spoil(&mut bytes);
            let err = parse_npy(&bytes).expect_err(expected);
            assert!(err.contains(expected), "{err} (expected: {expected})");
        }
    }

    proptest! {
        /// Whatever the bytes, parsing answers (an error or events), never
        /// panics.
        #[test]
        fn any_bytes_parse_or_fail_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse_npy(&bytes);
            let mut with_magic = b"\x93NUMPY\x01\x00".to_vec();
            with_magic.extend_from_slice(&bytes);
            let _ = parse_npy(&with_magic);
        }
    }
}
