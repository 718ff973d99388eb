//! Reading a range of ITER_SUMMARY files in iteration order, on one thread
//! or on several.
//!
//! With `T` reader threads the range is cut into blocks of [`BLOCK`]
//! iterations dealt round-robin: block `b` is read by thread `b % T`, thread
//! 0 being the consumer itself (it reads its blocks when it reaches them).
//! Each helper thread sends its summaries through a channel bounded to two
//! blocks, so at most `(T - 1) * (2 * BLOCK + 1)` summaries wait at any time,
//! whatever the run length. The consumer takes them in iteration order, so
//! the sequence of results (errors included) is the one a single thread
//! produces.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::thread::JoinHandle;

use mmsoak_core::input::{limits, open_capped};

use mmsoak_artifacts::layout::iter_summary_name;

use crate::artifacts::{FallbackRuntime, IterSummary, RuntimeState};
use crate::error::ArtifactError;
use crate::fast::{parameters_only, RuntimeCache, RuntimeDetail};

/// Iterations per block handed to one reader thread.
pub(crate) const BLOCK: u64 = 32;

/// Most reader threads used by default.
const MAX_DEFAULT_THREADS: usize = 4;

/// The reader thread count used by [`crate::ArtifactDir::open`]: the
/// available parallelism, at most 4 (1 when unknown).
pub fn default_reader_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, MAX_DEFAULT_THREADS)
}

type Item = Result<IterSummary, ArtifactError>;

/// One reader: a reusable file buffer and its runtime cache.
#[derive(Debug, Default)]
pub(crate) struct ReadState {
    buf: Vec<u8>,
    cache: RuntimeCache,
    detail: RuntimeDetail,
    /// With [`RuntimeDetail::Parameters`]: the directory's runtime and its
    /// parameters-only form, made once.
    fallback_parameters: Option<(Arc<RuntimeState>, Arc<RuntimeState>)>,
}

impl ReadState {
    pub(crate) fn new(detail: RuntimeDetail) -> Self {
        ReadState {
            detail,
            ..ReadState::default()
        }
    }

    /// Read and interpret iteration `i` of `dir`.
    pub(crate) fn read(&mut self, dir: &Path, i: u64, fallback: &FallbackRuntime) -> Item {
        let file = dir.join(iter_summary_name(i));
        let io = |source| mmsoak_core::InputError::Io {
            file: file.clone(),
            source,
        };
        let (mut f, _) = open_capped(&file, limits::ITER_SUMMARY)?;
        let (len, at_end) = read_into(&mut f, &mut self.buf, 0, true).map_err(io)?;
        let detail = self.detail;
        let fallback_parameters = &mut self.fallback_parameters;
        let fallback = || match (fallback.get()?, detail) {
            (Some(full), RuntimeDetail::Parameters) => {
                let reuse = fallback_parameters
                    .as_ref()
                    .filter(|(source, _)| Arc::ptr_eq(source, &full))
                    .map(|(_, only)| Arc::clone(only));
                let only = reuse.unwrap_or_else(|| {
                    let only = Arc::new(parameters_only(&full));
                    *fallback_parameters = Some((full, Arc::clone(&only)));
                    only
                });
                Ok(Some(only))
            }
            (other, _) => Ok(other),
        };
        if at_end {
            return IterSummary::read_bytes(
                &file,
                i,
                &self.buf[..len],
                fallback,
                &mut self.cache,
                detail,
            );
        }
        // A short read: on a local file, the end of it. The fast path only
        // accepts one whole JSON document, so bytes it accepts are the whole
        // file; anything else is read to the end before the reference path
        // sees it.
        if let Some(fast) = crate::fast::read(&file, i, &self.buf[..len], &mut self.cache, detail) {
            return IterSummary::from_fast(fast, fallback);
        }
        let (whole, _) = read_into(&mut f, &mut self.buf, len, false).map_err(io)?;
        if whole as u64 > limits::ITER_SUMMARY {
            // It grew past the cap while being read.
            return Err(mmsoak_core::InputError::TooLarge {
                file: file.clone(),
                size: whole as u64,
                limit: limits::ITER_SUMMARY,
            }
            .into());
        }
        if whole == len {
            IterSummary::read_reference(&file, i, &self.buf[..len], fallback, detail)
        } else {
            IterSummary::read_bytes(
                &file,
                i,
                &self.buf[..whole],
                fallback,
                &mut self.cache,
                detail,
            )
        }
    }
}

/// Read `f` into `buf` after its first `len` bytes with plain `read` calls
/// (`std::fs::read` would also ask for the file's size and position: two
/// more system calls per file); returns the whole length read and whether
/// the end of the file was seen (a read returning nothing). With
/// `stop_short`, stops as soon as a read leaves part of the buffer empty
/// (on a local file, the end of it, seen without one more call). `buf`
/// only grows, and only its new part is zeroed. Stops once more than a
/// summary's cap ([`limits::ITER_SUMMARY`]) is read.
fn read_into(
    f: &mut std::fs::File,
    buf: &mut Vec<u8>,
    mut len: usize,
    stop_short: bool,
) -> std::io::Result<(usize, bool)> {
    use std::io::Read;
    loop {
        if buf.len() - len < READ_CHUNK {
            buf.resize((len + READ_CHUNK).max(2 * buf.len()), 0);
        }
        match f.read(&mut buf[len..]) {
            Ok(0) => return Ok((len, true)),
            Ok(n) => {
                len += n;
                if stop_short && len < buf.len() || len as u64 > limits::ITER_SUMMARY {
                    return Ok((len, false));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Smallest free space offered to one `read` call.
const READ_CHUNK: usize = 16 * 1024;

struct Helper {
    rx: Receiver<Item>,
    handle: JoinHandle<()>,
}

/// Summaries `first..=last` in order.
pub(crate) struct Summaries {
    dir: PathBuf,
    fallback: Arc<FallbackRuntime>,
    first: u64,
    next: u64,
    last: u64,
    threads: u64,
    state: ReadState,
    /// `helpers[t - 1]` reads the blocks of thread `t`; `None` when it
    /// could not be started or has stopped (its blocks are then read here).
    helpers: Vec<Option<Helper>>,
}

impl Summaries {
    pub(crate) fn new(
        dir: &Path,
        fallback: Arc<FallbackRuntime>,
        (first, last): (u64, u64),
        threads: usize,
        detail: RuntimeDetail,
    ) -> Self {
        let count = last.saturating_sub(first).saturating_add(1);
        let blocks = count.div_ceil(BLOCK);
        // No helper for a range of one block, none beyond one per block.
        let threads = (threads.max(1) as u64).min(blocks.max(1));
        let helpers = (1..threads)
            .map(|t| spawn_helper(dir, &fallback, (first, last), (threads, t), detail))
            .collect();
        Summaries {
            dir: dir.to_owned(),
            fallback,
            first,
            next: first,
            last,
            threads,
            state: ReadState::new(detail),
            helpers,
        }
    }
}

/// Start reader thread `t` of `threads` over iterations `first..=last`.
fn spawn_helper(
    dir: &Path,
    fallback: &Arc<FallbackRuntime>,
    (first, last): (u64, u64),
    (threads, t): (u64, u64),
    detail: RuntimeDetail,
) -> Option<Helper> {
    let (tx, rx) = sync_channel::<Item>(2 * BLOCK as usize);
    let dir = dir.to_owned();
    let fallback = Arc::clone(fallback);
    let handle = std::thread::Builder::new()
        .name(format!("mmsoak-read-{t}"))
        .spawn(move || {
            let mut state = ReadState::new(detail);
            let mut block_start = first.saturating_add(t * BLOCK);
            while block_start <= last {
                let block_end = block_start.saturating_add(BLOCK - 1).min(last);
                for i in block_start..=block_end {
                    if tx.send(state.read(&dir, i, &fallback)).is_err() {
                        return; // the consumer is gone
                    }
                }
                block_start = match block_start.checked_add(threads * BLOCK) {
                    Some(s) => s,
                    None => return,
                };
            }
        })
        .ok()?;
    Some(Helper { rx, handle })
}

impl Iterator for Summaries {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        if self.next > self.last || self.next < self.first {
            return None;
        }
        let i = self.next;
        self.next = i.checked_add(1).unwrap_or(0);
        let owner = ((i - self.first) / BLOCK) % self.threads;
        if owner > 0 {
            let slot = &mut self.helpers[(owner - 1) as usize];
            if let Some(helper) = slot {
                match helper.rx.recv() {
                    Ok(item) => return Some(item),
                    // The helper died (it cannot fail otherwise): read here.
                    Err(_) => *slot = None,
                }
            }
        }
        Some(self.state.read(&self.dir, i, &self.fallback))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = if self.next > self.last || self.next < self.first {
            0
        } else {
            usize::try_from(self.last - self.next + 1).unwrap_or(usize::MAX)
        };
        (left, Some(left))
    }
}

impl Drop for Summaries {
    fn drop(&mut self) {
        // Closing a channel stops its helper at its next send.
        for helper in self.helpers.drain(..).flatten() {
            drop(helper.rx);
            let _ = helper.handle.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{generated_plans, write_run};
    use crate::ArtifactDir;

    /// Summary `i` of `dir` read from its whole bytes, as the reference.
    fn from_whole_file(dir: &Path, i: u64) -> String {
        let file = dir.join(iter_summary_name(i));
        let bytes = std::fs::read(&file).expect("read");
        format!(
            "{:?}",
            IterSummary::from_bytes(&file, i, &bytes, || Ok(None))
        )
    }

    #[test]
    fn summaries_of_any_size_read_as_their_whole_bytes() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path();
        let count = 2 * BLOCK + 6;
        write_run(dir, &generated_plans(count)).expect("write run");
        let edit = |i: u64, f: &dyn Fn(String) -> String| {
            let file = dir.join(iter_summary_name(i));
            let text = std::fs::read_to_string(&file).expect("read");
            std::fs::write(&file, f(text)).expect("write");
        };
        // Leading whitespace up to `total` bytes.
        let pad = |total: usize| move |t: String| format!("{}{t}", " ".repeat(total - t.len()));
        // In a block of the consumer thread and in one of the helper's.
        let ok = [2, 3, 4, BLOCK + 2, BLOCK + 3, BLOCK + 4];
        let bad = [5, 6, 7, 8, BLOCK + 5, BLOCK + 6, BLOCK + 7, BLOCK + 8];
        for base in [0, BLOCK] {
            // Exactly the first buffer, one byte more, several growths.
            edit(base + 2, &pad(READ_CHUNK));
            edit(base + 3, &pad(READ_CHUNK + 1));
            edit(base + 4, &pad(5 * READ_CHUNK + 7));
            // Bytes the fast path refuses: truncated, with trailing
            // garbage, truncated after more than one buffer.
            edit(base + 5, &|t| t[..t.len() / 2].to_owned());
            edit(base + 6, &|t| format!("{t} x"));
            edit(base + 7, &|t| t[..t.len() - 3].to_owned());
            edit(base + 8, &pad(3 * READ_CHUNK));
            edit(base + 8, &|t| t[..2 * READ_CHUNK + 5].to_owned());
        }
        for threads in [1, 2] {
            let opened = ArtifactDir::open(dir)
                .expect("open")
                .with_reader_threads(threads);
            let read: Vec<String> = opened.summaries().map(|s| format!("{s:?}")).collect();
            assert_eq!(read.len() as u64, count);
            for (i, got) in (1..=count).zip(&read) {
                assert_eq!(got, &from_whole_file(dir, i), "iteration {i}");
                let index = (i - 1) as usize;
                assert_eq!(
                    read[index].starts_with("Err("),
                    bad.contains(&i),
                    "iteration {i}"
                );
            }
            for i in ok {
                let file = dir.join(iter_summary_name(i));
                assert!(std::fs::metadata(&file).expect("size").len() >= READ_CHUNK as u64);
            }
        }
    }
}
