//! mmsoak-tuner (in progress)
