//! Tests of the busybox and coreutils programs, both dialects.
