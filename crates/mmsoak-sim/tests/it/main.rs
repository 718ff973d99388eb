//! The integration tests of `mmsoak-sim`, in one binary.

mod facts;
mod sim;
