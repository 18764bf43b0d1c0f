//! Unit tests of the container store, services and runtime.
