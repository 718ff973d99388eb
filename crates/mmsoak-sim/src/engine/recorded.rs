//! Reading a recorded market: an `.npz` archive whose array `data` holds
//! hftbacktest events (`data.npy`, numpy's format 1.0–3.0, little-endian
//! structured records of 64 bytes with hftbacktest's field names).
//!
//! Read and checked here, once per run, rather than by hftbacktest's reader
//! at every iteration: that reader panics or loops on some malformed files
//! (an entry shorter than its header, a bad header, a zero-length array),
//! and it does not check what the engine relies on. Checked here: finite,
//! non-negative prices and quantities, prices within 2^40 ticks, exchange
//! and local timestamps that never decrease (each among the events carrying
//! that flag), at least one exchange and one local event, and a span of at
//! most 7 days. Timestamps are rebased by whole seconds so that the first
//! event falls within the first second: recordings carry epoch nanoseconds,
//! the simulator counts from 0.

use std::io::Read;
use std::path::Path;

use hftbacktest::backtest::data::{Field, NpyDTyped, NpyHeader};
use hftbacktest::prelude::{Event, EXCH_EVENT, LOCAL_EVENT};

use crate::scenario::MAX_TICKS;
use crate::SimError;

/// The array the events are in.
const ARRAY: &str = "data.npy";
/// Bytes per event record.
const RECORD: usize = 64;
/// Largest event array read (4 GiB, about 67 million events).
const MAX_ARRAY_BYTES: u64 = 4 << 30;
/// Largest header accepted (numpy's own reading limit).
const MAX_HEADER: usize = 10_000;
/// The largest ratio of inflated to compressed size accepted for the array
/// (numpy's `savez_compressed` of hftbacktest events gives under 10).
const MAX_COMPRESSION_RATIO: u64 = 100;
/// Below this inflated size the ratio is not checked (a tiny array of
/// zeros may compress better, and costs nothing).
const MIN_BOMB_BYTES: u64 = 16 << 20;
/// Deepest bracket nesting of a header (`[('ev', '<u8'), ...]` is 2).
const MAX_HEADER_DEPTH: usize = 4;
/// Nanoseconds per second.
const NS_PER_S: i64 = 1_000_000_000;
/// Longest recording, ns (the simulator's longest iteration).
const MAX_SPAN_NS: i64 = 7 * 24 * 3600 * 1_000_000_000;

/// A recorded market's events, checked, rebased to start within the first
/// second, in file order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RecordedEvents(pub(super) Vec<Event>);

impl RecordedEvents {
    /// How many events the file holds.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// blake3 of the (rebased) event records, 64 hex digits: the market's
    /// identity, whatever the archive's compression or the recording's
    /// start time.
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

    /// Read and check the recorded market in `path` for an instrument of
    /// `tick_size`; errors name the file and, for a bad event, its record
    /// (0-based, as numpy indexes it) and field.
    pub(crate) fn read(path: &Path, tick_size: f64) -> Result<RecordedEvents, SimError> {
        let problem = |problem: String| SimError::Market {
            file: path.to_owned(),
            problem,
        };
        // A directory or FIFO is refused by name, before anything is read.
        let file = mmsoak_core::input::open_regular(path)?;
        let file_len = file
            .metadata()
            .map_err(|source| SimError::Io {
                path: path.to_owned(),
                source,
            })?
            .len();
        let consumed = std::rc::Rc::new(std::cell::Cell::new(0u64));
        let reader = CountingReader {
            inner: std::io::BufReader::new(file),
            count: std::rc::Rc::clone(&consumed),
        };
        let mut archive = zip::ZipArchive::new(reader)
            .map_err(|e| problem(format!("not an npz (zip) archive: {e}")))?;
        let mut entry = archive.by_name(ARRAY).map_err(|e| match e {
            zip::result::ZipError::FileNotFound => {
                problem(format!("no array `data` ({ARRAY}) in the archive"))
            }
            other => problem(format!("{ARRAY}: cannot be opened: {other}")),
        })?;
        // Never more than the entry says it holds, nor than a recorded
        // market may hold.
        let declared = entry.size();
        if declared > MAX_ARRAY_BYTES {
            return Err(problem(format!(
                "{ARRAY}: holds {declared} bytes uncompressed, more than the {MAX_ARRAY_BYTES} (4 GiB) a recorded market may"
            )));
        }
        // A zip bomb (a small archive inflating to gigabytes) is refused
        // before it is inflated when its sizes say so (the compressed size
        // is believed only up to the file's), and while it is inflated when
        // they lie: market events compress a few times, not hundreds.
        let bomb = |compressed: u64, inflated: u64| {
            problem(format!(
                "{ARRAY}: {compressed} compressed bytes would inflate to {inflated}, a ratio over {MAX_COMPRESSION_RATIO} that no recorded market has (a zip bomb?)"
            ))
        };
        let compressed = entry.compressed_size().min(file_len).max(1);
        if declared > MIN_BOMB_BYTES && declared / compressed > MAX_COMPRESSION_RATIO {
            return Err(bomb(compressed, declared));
        }
        let start = consumed.get();
        let mut npy = Vec::new();
        let mut chunk = vec![0u8; 1 << 20];
        loop {
            let n = match entry.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(problem(format!("{ARRAY}: cannot be read: {e}"))),
            };
            npy.extend_from_slice(&chunk[..n]);
            let inflated = npy.len() as u64;
            if inflated > declared {
                break; // more than it says: refused below
            }
            // What the inflater has consumed, with room for its read-ahead.
            let read = consumed.get() - start + (64 << 10);
            if inflated > MIN_BOMB_BYTES && inflated / read > MAX_COMPRESSION_RATIO {
                return Err(bomb(consumed.get() - start, declared));
            }
        }
        if npy.len() as u64 != declared {
            return Err(problem(format!(
                "{ARRAY}: holds {} bytes, the archive says {declared}",
                npy.len()
            )));
        }
        parse_npy(&npy, tick_size).map_err(|p| problem(format!("{ARRAY}: {p}")))
    }
}

/// A reader that counts the bytes read through it (the compressed bytes an
/// archive's inflater consumes).
struct CountingReader<R> {
    inner: R,
    count: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

impl<R: std::io::Seek> std::io::Seek for CountingReader<R> {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// The events of a `.npy` file's bytes, or what is wrong with them.
fn parse_npy(bytes: &[u8], tick_size: f64) -> Result<RecordedEvents, String> {
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
    if header_len > MAX_HEADER {
        return Err(format!(
            "its header is {header_len} bytes, more than the {MAX_HEADER} accepted"
        ));
    }
    if rest.len() < header_len {
        return Err(format!(
            "truncated: its header says {header_len} bytes, {} follow",
            rest.len()
        ));
    }
    let (header, data) = rest.split_at(header_len);
    let header = std::str::from_utf8(header).map_err(|_| "its header is not text".to_owned())?;
    let depth = header
        .chars()
        .scan(0usize, |depth, c| {
            match c {
                '[' | '(' | '{' => *depth += 1,
                ']' | ')' | '}' => *depth = depth.saturating_sub(1),
                _ => {}
            }
            Some(*depth)
        })
        .max()
        .unwrap_or(0);
    if depth > MAX_HEADER_DEPTH {
        return Err(format!(
            "its header nests {depth} deep; a record array's nests {MAX_HEADER_DEPTH} at most"
        ));
    }
    let header = NpyHeader::from_header(header).map_err(|e| {
        let text: String = e.to_string().chars().take(120).collect();
        format!("bad header: {text}")
    })?;
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
    if header.descr != expected {
        let fields = |d: &[Field]| -> String {
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
    let (mut exch, mut local) = (None::<i64>, None::<i64>);
    let mut start = i64::MAX;
    for (i, record) in data.chunks_exact(RECORD).enumerate() {
        let e = event(record);
        let bad = |field: &str, what: String| format!("record {i}: {field} {what}");
        for (field, v) in [("px", e.px), ("qty", e.qty)] {
            if !v.is_finite() {
                return Err(bad(field, format!("is not a finite number ({v})")));
            }
            if v < 0.0 {
                return Err(bad(field, format!("is negative ({v})")));
            }
        }
        if e.px / tick_size > MAX_TICKS {
            return Err(bad(
                "px",
                format!("{} is more than 2^40 ticks of {tick_size}", e.px),
            ));
        }
        let streams = [
            (EXCH_EVENT, "exch_ts", e.exch_ts, &mut exch, "exchange"),
            (LOCAL_EVENT, "local_ts", e.local_ts, &mut local, "local"),
        ];
        for (flag, field, ts, last, whose) in streams {
            if e.ev & flag == 0 {
                continue;
            }
            if let Some(previous) = *last {
                if ts < previous {
                    return Err(bad(
                        field,
                        format!("{ts} is before the previous {whose} event's {previous}"),
                    ));
                }
            }
            *last = Some(ts);
            start = start.min(ts);
        }
        events.push(e);
    }
    let (Some(last_exch), Some(last_local)) = (exch, local) else {
        return Err(format!(
            "has no {} event: hftbacktest replays nothing without both exchange and local events",
            if exch.is_none() { "exchange" } else { "local" }
        ));
    };
    // Rebase: the first event within the first second, every flagged
    // timestamp within the span.
    let span = last_exch.max(last_local).checked_sub(start);
    if span.is_none_or(|s| s > MAX_SPAN_NS) {
        return Err(format!(
            "spans {} ns from its first to its last event, more than 7 days",
            span.map_or_else(|| "over 2^63".to_owned(), |s| s.to_string())
        ));
    }
    // By whole seconds, so a tape that starts within its first second (the
    // generator's) keeps its timestamps, and a recording keeps its phase.
    let base = start
        .div_euclid(NS_PER_S)
        .checked_mul(NS_PER_S)
        .ok_or_else(|| format!("its first event's time {start} is out of range"))?;
    for e in &mut events {
        e.exch_ts = e.exch_ts.saturating_sub(base);
        e.local_ts = e.local_ts.saturating_sub(base);
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
    use std::io::Write as _;

    use super::*;
    use hftbacktest::backtest::data::write_npy;
    use hftbacktest::prelude::{BUY_EVENT, DEPTH_EVENT, SELL_EVENT, TRADE_EVENT};
    use proptest::prelude::*;

    const TICK: f64 = 0.01;

    fn parse(bytes: &[u8]) -> Result<RecordedEvents, String> {
        parse_npy(bytes, TICK)
    }

    /// `n` depth and trade events, every field set, from time `t0`.
    fn events(n: usize, t0: i64) -> Vec<Event> {
        (0..n)
            .map(|i| {
                let k = i64::try_from(i).expect("small");
                Event {
                    ev: if i % 3 == 2 {
                        TRADE_EVENT | SELL_EVENT
                    } else {
                        DEPTH_EVENT | BUY_EVENT
                    } | EXCH_EVENT
                        | LOCAL_EVENT,
                    exch_ts: t0 + k * 1_000,
                    local_ts: t0 + k * 1_000 + 5,
                    px: 100.0 + k as f64 * 0.01,
                    qty: 2.0 + k as f64,
                    order_id: 7 + i as u64,
                    ival: -3 - k,
                    fval: 0.5 * k as f64,
                }
            })
            .collect()
    }

    fn npy_of(events: &[Event]) -> Vec<u8> {
        let mut bytes = Vec::new();
        write_npy(&mut bytes, events).expect("write npy");
        bytes
    }

    /// A valid `.npy` of `n` events from 0, and where its records start.
    fn npy(n: usize) -> (Vec<u8>, usize) {
        let bytes = npy_of(&events(n, 0));
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

    /// The same array in numpy format 2.0 (a 4-byte header length).
    fn as_version_2(v1: &[u8]) -> Vec<u8> {
        let header_len = usize::from(u16::from_le_bytes([v1[8], v1[9]]));
        let mut v2 = b"\x93NUMPY\x02\x00".to_vec();
        v2.extend_from_slice(&u32::try_from(header_len).expect("small").to_le_bytes());
        v2.extend_from_slice(&v1[10..]);
        v2
    }

    #[test]
    fn a_valid_array_reads_back_every_field_of_every_event() {
        let (bytes, _) = npy(7);
        assert_eq!(parse(&bytes).expect("valid").0, events(7, 0));
        assert_eq!(parse(&as_version_2(&bytes)).expect("v2").0, events(7, 0));
    }

    #[test]
    fn epoch_timestamps_are_rebased_by_whole_seconds() {
        let epoch = 1_700_000_000_000_000_000;
        let shifted = parse(&npy_of(&events(5, epoch))).expect("valid");
        assert_eq!(shifted, parse(&npy(5).0).expect("valid"));
        assert_eq!(
            shifted.content_hash(),
            parse(&npy(5).0).expect("valid").content_hash()
        );
    }

    #[test]
    fn each_timestamp_is_checked_among_the_events_carrying_its_flag() {
        let mut e = events(4, 1_000);
        // A local-only event may carry any exchange time, and the reverse.
        e[1].ev = DEPTH_EVENT | BUY_EVENT | LOCAL_EVENT;
        e[1].exch_ts = 0;
        e[2].ev = DEPTH_EVENT | BUY_EVENT | EXCH_EVENT;
        e[2].local_ts = 0;
        let parsed = parse(&npy_of(&e)).expect("valid per flag");
        assert_eq!(parsed.0[0].exch_ts, 1_000, "within the first second: kept");
        let late = parse(&npy_of(&events(2, 5 * NS_PER_S + 250))).expect("valid");
        assert_eq!(late.0[0].exch_ts, 250, "whole seconds removed");
        // Without any local event hftbacktest would replay nothing.
        let mut e = events(3, 0);
        for x in &mut e {
            x.ev &= !LOCAL_EVENT;
        }
        let err = parse(&npy_of(&e)).expect_err("no local event");
        assert!(err.contains("has no local event"), "{err}");
        // More than 7 days from first to last.
        let mut e = events(3, 0);
        e[2].exch_ts = MAX_SPAN_NS + 1;
        e[2].local_ts = MAX_SPAN_NS + 1;
        let err = parse(&npy_of(&e)).expect_err("too long");
        assert!(err.contains("more than 7 days"), "{err}");
        // Timestamps too far apart to subtract.
        let mut e = events(2, i64::MIN);
        e[1].exch_ts = i64::MAX;
        e[1].local_ts = i64::MAX;
        let err = parse(&npy_of(&e)).expect_err("overflowing span");
        assert!(err.contains("over 2^63"), "{err}");
    }

    #[test]
    fn an_archive_without_the_data_array_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("other.npz");
        let (npy, _) = npy(3);
        std::fs::write(&path, crate::npz::stored_zip("other.npy", &npy)).expect("write");
        let err = RecordedEvents::read(&path, TICK).expect_err("no data array");
        assert_eq!(
            err.to_string(),
            format!(
                "{}: no array `data` (data.npy) in the archive",
                path.display()
            )
        );
        std::fs::write(&path, crate::npz::stored_zip(ARRAY, &npy)).expect("write");
        assert_eq!(RecordedEvents::read(&path, TICK).expect("valid").len(), 3);
    }

    /// `stored_zip(ARRAY, data)` with its central directory declaring
    /// `declared` bytes uncompressed (zip64: 0xFFFFFFFF and the size in an
    /// extended-information field), as a zip of a huge array would.
    fn declaring(data: &[u8], declared: u64) -> Vec<u8> {
        let zip = crate::npz::stored_zip(ARRAY, data);
        let central = 30 + ARRAY.len() + data.len();
        let entry_end = central + 46 + ARRAY.len();
        let mut out = zip[..entry_end].to_vec();
        out[central + 24..central + 28].copy_from_slice(&u32::MAX.to_le_bytes());
        out[central + 30..central + 32].copy_from_slice(&12u16.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes()); // zip64 extended information
        out.extend_from_slice(&8u16.to_le_bytes());
        out.extend_from_slice(&declared.to_le_bytes());
        let mut eocd = zip[entry_end..].to_vec();
        let central_len = u32::try_from(out.len() - central).expect("small");
        eocd[12..16].copy_from_slice(&central_len.to_le_bytes());
        out.extend_from_slice(&eocd);
        out
    }

    /// An array declaring more than 4 GiB is refused before anything is
    /// read; one declaring a size its bytes do not match is named too.
    #[test]
    fn an_array_over_4_gib_is_refused_unread() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("huge.npz");
        let (npy, _) = npy(3);
        std::fs::write(&path, declaring(&npy, MAX_ARRAY_BYTES + 1)).expect("write");
        let err = RecordedEvents::read(&path, TICK).expect_err("over the cap");
        assert_eq!(
            err.to_string(),
            format!(
                "{}: {ARRAY}: holds {} bytes uncompressed, more than the {MAX_ARRAY_BYTES} (4 GiB) a recorded market may",
                path.display(),
                MAX_ARRAY_BYTES + 1
            )
        );
        // Where no bomb is suspected, the size is believed only as far as
        // the bytes go.
        std::fs::write(&path, declaring(&npy, MIN_BOMB_BYTES)).expect("write");
        let err = RecordedEvents::read(&path, TICK).expect_err("short of its size");
        assert_eq!(
            err.to_string(),
            format!(
                "{}: {ARRAY}: holds {} bytes, the archive says {MIN_BOMB_BYTES}",
                path.display(),
                npy.len()
            )
        );
        // Above it, a size out of proportion with the stored bytes is
        // refused before anything is inflated.
        std::fs::write(&path, declaring(&npy, MAX_ARRAY_BYTES)).expect("write");
        let err = RecordedEvents::read(&path, TICK).expect_err("a bomb");
        assert!(err.to_string().contains("a zip bomb?"), "{err}");
        // The helper's archive is otherwise valid.
        std::fs::write(&path, declaring(&npy, npy.len() as u64)).expect("write");
        assert_eq!(RecordedEvents::read(&path, TICK).expect("valid").len(), 3);
    }

    /// A small deflated archive that would inflate a thousandfold is
    /// refused unread; a directory or a FIFO given as the market is named.
    #[test]
    fn zip_bombs_directories_and_fifos_are_refused() {
        use std::io::Write;
        let dir = tempfile::tempdir().expect("tempdir");
        let bomb = dir.path().join("bomb.npz");
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&bomb).expect("create"));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        zip.start_file(ARRAY, options).expect("entry");
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..64 {
            zip.write_all(&zeros).expect("write");
        }
        zip.finish().expect("finish");
        let size = std::fs::metadata(&bomb).expect("stat").len();
        assert!(size < 1 << 20, "{size}");
        let err = RecordedEvents::read(&bomb, TICK).expect_err("bomb");
        let msg = err.to_string();
        assert!(
            msg.contains("would inflate to 67108864") && msg.contains("a zip bomb?"),
            "{msg}"
        );

        // The same bomb with its compressed size lying (20 MiB, in both
        // headers) in a file padded to look that large: caught while it
        // inflates, long before 64 MiB.
        let liar = dir.path().join("liar.npz");
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&liar).expect("create"));
        zip.start_file(ARRAY, options).expect("entry");
        for _ in 0..64 {
            zip.write_all(&zeros).expect("write");
        }
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        zip.start_file("padding.bin", stored).expect("entry");
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let noise: Vec<u8> = (0..(21 << 20))
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        zip.write_all(&noise).expect("write");
        zip.finish().expect("finish");
        let mut bytes = std::fs::read(&liar).expect("read");
        let lie = (20u32 << 20).to_le_bytes();
        bytes[18..22].copy_from_slice(&lie); // local header
        let central = bytes
            .windows(4)
            .position(|w| w == b"PK\x01\x02")
            .expect("central directory");
        bytes[central + 20..central + 24].copy_from_slice(&lie);
        std::fs::write(&liar, &bytes).expect("write");
        let err = RecordedEvents::read(&liar, TICK).expect_err("a lying bomb");
        assert!(err.to_string().contains("a zip bomb?"), "{err}");

        let err = RecordedEvents::read(dir.path(), TICK).expect_err("a directory");
        assert_eq!(
            err.to_string(),
            format!(
                "{} is a directory, not a regular file",
                dir.path().display()
            )
        );
        let fifo = dir.path().join("market.npz");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.expect("mkfifo").success());
        let err = RecordedEvents::read(&fifo, TICK).expect_err("a FIFO");
        assert!(err.to_string().contains("a FIFO"), "{err}");
    }

    /// numpy's `savez_compressed` deflates: the same market, the same events
    /// and hash; another market, another hash.
    #[test]
    fn a_compressed_archive_reads_like_a_stored_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (npy, _) = npy(50);
        let stored = dir.path().join("stored.npz");
        std::fs::write(&stored, crate::npz::stored_zip(ARRAY, &npy)).expect("write");
        let deflated = dir.path().join("deflated.npz");
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&deflated).expect("create"));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        zip.start_file(ARRAY, options).expect("start");
        zip.write_all(&npy).expect("write");
        zip.finish().expect("finish");
        assert!(std::fs::metadata(&deflated).expect("meta").len() < npy.len() as u64);
        let a = RecordedEvents::read(&stored, TICK).expect("stored");
        let b = RecordedEvents::read(&deflated, TICK).expect("deflated");
        assert_eq!(a, b);
        assert_eq!(a.content_hash(), b.content_hash());
        let other = parse(&npy_of(&events(49, 0))).expect("valid");
        assert_ne!(a.content_hash(), other.content_hash());
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
                Box::new(move |b| put(b, record(0, 4), f64::INFINITY.to_le_bytes())),
                "record 0: qty is not a finite number (inf)",
            ),
            (
                Box::new(move |b| put(b, record(2, 4), (-1.5f64).to_le_bytes())),
                "record 2: qty is negative (-1.5)",
            ),
            (
                Box::new(move |b| put(b, record(5, 3), (-0.5f64).to_le_bytes())),
                "record 5: px is negative (-0.5)",
            ),
            (
                Box::new(move |b| put(b, record(1, 3), 1e13f64.to_le_bytes())),
                "record 1: px 10000000000000 is more than 2^40 ticks of 0.01",
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
                Box::new(|b| replace_in_header(b, "'exch_ts'", "'exch_tz'")),
                "is not hftbacktest's event record",
            ),
            (
                Box::new(|b| replace_in_header(b, "False", "True ")),
                "fortran_order is True",
            ),
            (
                Box::new(|b| replace_in_header(b, "'descr'", "[[[[[[[")),
                "its header nests",
            ),
            (Box::new(|b| b[0] = b'x'), "no \\x93NUMPY magic"),
            (
                Box::new(|b| b[6] = 9),
                "numpy format version 9 is not supported",
            ),
            (Box::new(|b| b.truncate(9)), "truncated in its header"),
            (Box::new(|b| b.truncate(40)), "truncated: its header says"),
            (
                Box::new(|b| {
                    *b = as_version_2(b);
                    b[8..12].copy_from_slice(&20_000u32.to_le_bytes());
                }),
                "its header is 20000 bytes, more than the 10000 accepted",
            ),
        ];
        for (spoil, expected) in cases {
            let (mut bytes, _) = npy(6);
            spoil(&mut bytes);
            let err = parse(&bytes).expect_err(expected);
            assert!(err.contains(expected), "{err} (expected: {expected})");
        }
        let empty = parse(&npy(0).0).expect_err("no events");
        assert!(empty.contains("holds no events"), "{empty}");
    }

    proptest! {
        /// Whatever the bytes, parsing answers (an error or events), never
        /// panics: bare, after the magic, and as records behind a valid
        /// header.
        #[test]
        fn any_bytes_parse_or_fail_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse(&bytes);
            let mut with_magic = b"\x93NUMPY\x01\x00".to_vec();
            with_magic.extend_from_slice(&bytes);
            let _ = parse(&with_magic);
        }

        #[test]
        fn any_records_parse_or_fail_cleanly(words in proptest::collection::vec(any::<u64>(), 8..80)) {
            let n = words.len() / 8;
            let (mut bytes, start) = npy(n);
            for (i, w) in words.iter().take(n * 8).enumerate() {
                put(&mut bytes, start + i * 8, w.to_le_bytes());
            }
            if let Ok(events) = parse(&bytes) {
                // What is accepted is what the engine relies on.
                prop_assert!(events.0.iter().all(|e| e.px.is_finite() && e.px >= 0.0 && e.qty >= 0.0));
                prop_assert!(events.0.iter().filter(|e| e.ev & EXCH_EVENT != 0).all(|e| (0..=MAX_SPAN_NS + NS_PER_S).contains(&e.exch_ts)));
                prop_assert!(events.0.iter().filter(|e| e.ev & LOCAL_EVENT != 0).all(|e| (0..=MAX_SPAN_NS + NS_PER_S).contains(&e.local_ts)));
            }
        }
    }
}
