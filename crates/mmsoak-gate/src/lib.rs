//! mmsoak-gate (in progress)
