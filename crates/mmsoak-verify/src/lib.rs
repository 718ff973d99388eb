//! mmsoak-verify (in progress)
