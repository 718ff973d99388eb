//! Core domain types of mmsoak, the closed-loop soak tester for market-making bots.
//!
//! * [`ParamRegistry`] / [`Param`]: every tunable parameter with its canonical
//!   path, legacy aliases, kind, default and bounds.
//! * [`RuntimeOverrides`]: the `runtime_overrides.json` a bot reads (legacy
//!   layouts in, canonical nested layout out, unknown keys preserved).
//! * [`DeltaOp`] / [`Change`]: `Add`, `Scale`, `Set` on a parameter and the
//!   change actually made (rounded, clamped); [`legacy_deltas`] for the
//!   predecessor's `proposed_deltas` map.
//! * [`canonical`] JSON and [`StateHash`] (blake3 of the canonical bytes).
//! * [`EdgeReport`]: the bot's `EDGE_REPORT.json`; [`IterationKpis`]: what
//!   the tuner, guards and gate look at.
//! * [`input`]: JSON readers whose errors name the file and the field.
//!
//! No file is written by this crate.
//!
//! ```
//! use mmsoak_core::{Delta, DeltaOp, Param, ParamRegistry, RuntimeOverrides};
//!
//! let registry = ParamRegistry::default();
//! let mut overrides = RuntimeOverrides::parse(br#"{"min_interval_ms": 60}"#, "runtime_overrides.json".as_ref())?;
//! let before = overrides.state_hash();
//! let change = overrides.apply(&DeltaOp::new(Param::MinIntervalMs, Delta::Add(5.0)), &registry)?;
//! assert_eq!((change.from, change.to), (60.0, 65.0)); // relative, never "5"
//! assert_ne!(overrides.state_hash(), before);
//! assert_eq!(overrides.to_canonical_bytes(), br#"{"engine":{"min_interval_ms":65}}"#);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod canonical;
mod delta;
mod error_chain;
mod hash;
pub mod input;
mod kpis;
mod overrides;
mod param;
mod report;

pub use canonical::{JsonError, NonFiniteNumber};
pub use delta::{legacy_deltas, Change, Delta, DeltaKind, DeltaOp};
pub use error_chain::ErrorChain;
pub use hash::{InvalidStateHash, StateHash};
pub use input::{FieldProblem, InputError};
pub use kpis::{IterationKpis, MakerTaker, MakerTakerSource};
pub use overrides::{RuntimeFinding, RuntimeOverrides};
pub use param::{
    Bounds, Param, ParamKind, ParamRegistry, ParamSpec, RegistryError, UnknownParam,
    REAL_RESOLUTION,
};
pub use report::{
    normalize_ratio, BlockReason, BlockReasons, EdgeComponents, EdgeReport, EdgeTotals, FillTotals,
    InternalFills, ReportRuntime,
};
