//! Why a tuning step was not applied: the guard that held ([`SkipKind`]),
//! the decision as the apply step records it ([`SkipReason`]: one kind and
//! a note), and the flags a recorded skip reason carries ([`SkipFlags`]:
//! the predecessor's files may set several).
//!
//! In a file, a skip reason is the predecessor's object: one boolean per
//! guard and a note.
//!
//! ```
//! use mmsoak_artifacts::skip::{SkipFlags, SkipKind, SkipReason};
//! let r = SkipReason::new(SkipKind::Cooldown, "cooldown 2 iters left");
//! assert_eq!(
//!     serde_json::to_string(&r)?,
//!     r#"{"cooldown":true,"velocity":false,"oscillation":false,"freeze":false,"no_op":false,"final_iteration":false,"note":"cooldown 2 iters left"}"#
//! );
//! let flags = SkipFlags::from(SkipKind::Velocity).union(SkipKind::Freeze.into());
//! assert_eq!(flags.first(), Some(SkipKind::Freeze)); // priority order
//! assert_eq!(flags.names().collect::<Vec<_>>(), ["freeze", "velocity"]);
//! # Ok::<(), serde_json::Error>(())
//! ```

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The guard that blocked a proposal, in priority order (the first that
/// holds is the reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SkipKind {
    /// Steady-state lock.
    Freeze,
    /// The state would return to an earlier one, or a move flips sign too often.
    Oscillation,
    /// A parameter moves too often or too far.
    Velocity,
    /// A recent large move is settling.
    Cooldown,
    /// Nothing would change.
    NoOp,
    /// Last iteration: nothing would observe the change.
    FinalIteration,
}

impl SkipKind {
    /// Every kind, in priority order.
    pub const ALL: [SkipKind; 6] = [
        SkipKind::Freeze,
        SkipKind::Oscillation,
        SkipKind::Velocity,
        SkipKind::Cooldown,
        SkipKind::NoOp,
        SkipKind::FinalIteration,
    ];

    /// The flag name in a serialized skip reason, e.g. `"no_op"`.
    pub const fn name(self) -> &'static str {
        match self {
            SkipKind::Freeze => "freeze",
            SkipKind::Oscillation => "oscillation",
            SkipKind::Velocity => "velocity",
            SkipKind::Cooldown => "cooldown",
            SkipKind::NoOp => "no_op",
            SkipKind::FinalIteration => "final_iteration",
        }
    }
}

impl fmt::Display for SkipKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// Why a proposal was not applied: the first guard that held, and the note
/// a person reads (e.g. `"cooldown 2 iters left"`). Serialized in the
/// predecessor's shape: one boolean per guard (exactly one true) and the
/// note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkipReason {
    /// Which guard held.
    pub kind: SkipKind,
    /// What a person reads, e.g. `"cooldown 2 iters left"`.
    pub note: String,
}

impl SkipReason {
    /// A skip reason.
    pub fn new(kind: SkipKind, note: impl Into<String>) -> Self {
        SkipReason {
            kind,
            note: note.into(),
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.name(), self.note)
    }
}

/// The guard flags a recorded skip reason sets. mmsoak sets exactly one;
/// the predecessor's files may set several, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SkipFlags {
    /// A freeze blocked (or was triggered by) the step.
    pub freeze: bool,
    /// An A→B→A oscillation was detected.
    pub oscillation: bool,
    /// Too many changes in the velocity window.
    pub velocity: bool,
    /// A cooldown was active.
    pub cooldown: bool,
    /// The proposal changed nothing.
    pub no_op: bool,
    /// The last iteration: nothing is applied after it.
    pub final_iteration: bool,
}

impl SkipFlags {
    /// Whether `kind`'s flag is set.
    pub const fn contains(&self, kind: SkipKind) -> bool {
        match kind {
            SkipKind::Freeze => self.freeze,
            SkipKind::Oscillation => self.oscillation,
            SkipKind::Velocity => self.velocity,
            SkipKind::Cooldown => self.cooldown,
            SkipKind::NoOp => self.no_op,
            SkipKind::FinalIteration => self.final_iteration,
        }
    }

    /// The kinds set, in priority order.
    pub fn kinds(&self) -> impl Iterator<Item = SkipKind> + '_ {
        SkipKind::ALL.into_iter().filter(|k| self.contains(*k))
    }

    /// The first kind set in priority order: the reason.
    pub fn first(&self) -> Option<SkipKind> {
        self.kinds().next()
    }

    /// Whether any flag is set.
    pub fn any(&self) -> bool {
        self.first().is_some()
    }

    /// Names of the flags set, in priority order.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.kinds().map(SkipKind::name)
    }

    /// The flags set in either.
    #[must_use]
    pub fn union(self, o: SkipFlags) -> SkipFlags {
        SkipFlags {
            freeze: self.freeze || o.freeze,
            oscillation: self.oscillation || o.oscillation,
            velocity: self.velocity || o.velocity,
            cooldown: self.cooldown || o.cooldown,
            no_op: self.no_op || o.no_op,
            final_iteration: self.final_iteration || o.final_iteration,
        }
    }
}

impl From<SkipKind> for SkipFlags {
    fn from(kind: SkipKind) -> Self {
        SkipFlags {
            freeze: kind == SkipKind::Freeze,
            oscillation: kind == SkipKind::Oscillation,
            velocity: kind == SkipKind::Velocity,
            cooldown: kind == SkipKind::Cooldown,
            no_op: kind == SkipKind::NoOp,
            final_iteration: kind == SkipKind::FinalIteration,
        }
    }
}

/// The file shape of a skip reason (the predecessor's key order).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SkipReasonRepr {
    #[serde(default)]
    cooldown: bool,
    #[serde(default)]
    velocity: bool,
    #[serde(default)]
    oscillation: bool,
    #[serde(default)]
    freeze: bool,
    #[serde(default)]
    no_op: bool,
    #[serde(default)]
    final_iteration: bool,
    #[serde(default)]
    note: String,
}

impl Serialize for SkipReason {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let f = SkipFlags::from(self.kind);
        SkipReasonRepr {
            cooldown: f.cooldown,
            velocity: f.velocity,
            oscillation: f.oscillation,
            freeze: f.freeze,
            no_op: f.no_op,
            final_iteration: f.final_iteration,
            note: self.note.clone(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for SkipReason {
    /// Reads the legacy shape too (no `final_iteration` key). When several
    /// flags are set, the one first in priority order is taken.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = SkipReasonRepr::deserialize(d)?;
        let flags = SkipFlags {
            freeze: r.freeze,
            oscillation: r.oscillation,
            velocity: r.velocity,
            cooldown: r.cooldown,
            no_op: r.no_op,
            final_iteration: r.final_iteration,
        };
        match flags.first() {
            Some(kind) => Ok(SkipReason { kind, note: r.note }),
            None => Err(serde::de::Error::custom(
                "skip reason sets none of its flags",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_reads_back_as_written_and_the_first_flag_wins() {
        for kind in SkipKind::ALL {
            let r = SkipReason::new(kind, "n");
            let text = serde_json::to_string(&r).expect("serialize");
            assert_eq!(serde_json::from_str::<SkipReason>(&text).expect("read"), r);
            assert_eq!(SkipFlags::from(kind).kinds().collect::<Vec<_>>(), [kind]);
        }
        let both: SkipReason =
            serde_json::from_str(r#"{"cooldown":true,"oscillation":true}"#).expect("read");
        assert_eq!(both.kind, SkipKind::Oscillation);
        assert!(serde_json::from_str::<SkipReason>(r#"{"note":"x"}"#).is_err());
        assert!(serde_json::from_str::<SkipReason>(r#"{"cooldown":true,"x":1}"#).is_err());
    }
}
