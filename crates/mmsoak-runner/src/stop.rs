//! A request to stop a soak early, made from outside the loop.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A request to stop a soak before its last iteration, shared between the
/// soak and whoever makes it (the `mmsoak` binary's SIGINT/SIGTERM handler,
/// through [`StopRequest::shared`]).
///
/// Zero means "keep going"; any other value stops the soak at its next safe
/// point and comes back in [`SoakError::Stopped`](crate::SoakError::Stopped)
/// (the binary stores the signal number). Safe points are the start of an
/// iteration and, for the exec driver, the wait for the bot, whose process
/// group is then killed: the bot never outlives the soak, and the artifacts
/// stay those of the last complete iteration, ready for `--resume`.
///
/// ```
/// use mmsoak_runner::StopRequest;
///
/// let stop = StopRequest::new();
/// assert_eq!(stop.requested(), None);
/// stop.shared().store(2, std::sync::atomic::Ordering::SeqCst); // what a handler does
/// assert_eq!(stop.requested(), Some(2));
/// ```
#[derive(Debug, Clone, Default)]
pub struct StopRequest(Arc<AtomicUsize>);

impl StopRequest {
    /// No stop requested yet.
    pub fn new() -> StopRequest {
        StopRequest::default()
    }

    /// Request a stop with `value` (not 0).
    pub fn request(&self, value: usize) {
        self.0.store(value.max(1), Ordering::SeqCst);
    }

    /// The value a stop was requested with, if any.
    pub fn requested(&self) -> Option<usize> {
        match self.0.load(Ordering::SeqCst) {
            0 => None,
            v => Some(v),
        }
    }

    /// The shared cell, for a signal handler to store into.
    pub fn shared(&self) -> Arc<AtomicUsize> {
        Arc::clone(&self.0)
    }
}
