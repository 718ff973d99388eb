//! mmsoak-apply (in progress)
