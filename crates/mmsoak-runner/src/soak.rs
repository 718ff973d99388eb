//! The soak: the loop ([`run`]), resuming a killed run ([`resume`]) and the
//! artifacts directory it uses ([`dir`]).

mod dir;
mod resume;
mod run;

pub use run::{
    run_soak, summarize, IterationDone, Quiet, SoakConfig, SoakError, SoakObserver, SoakResult,
};
