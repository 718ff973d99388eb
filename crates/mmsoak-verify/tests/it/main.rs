//! The integration tests of `mmsoak-verify`, in one binary (one link of the
//! dependency graph instead of one per file).

mod fast_path;
mod legacy;
mod verify;
