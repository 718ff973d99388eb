//! The integration tests of `mmsoak-runner`, in one binary (one link of the
//! dependency graph instead of one per file).

mod exec_driver;
mod sim_loop;
mod soak_loop;
