//! imagelab: an offline practice lab for the Docker Certified Associate domain
//! "Image Creation, Management, and Registry". See `ARCHITECTURE.md` for the map.

pub mod app;
pub mod archive;
pub mod builder;
pub mod buildx;
pub mod catalog;
pub mod cli;
pub mod commands;
pub mod commit;
pub mod container;
pub mod digest;
pub mod distribution;
pub mod dockerfile;
pub mod emulation;
pub mod engine;
pub mod exercise;
pub mod format;
pub mod grader;
pub mod home;
pub mod layer;
pub mod manifests;
pub mod network;
pub mod reference;
pub mod registry;
pub mod repl;
pub mod signing;
pub mod store;
pub mod trust;
pub mod userland;
