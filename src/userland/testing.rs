//! Test helpers shared by the userland's tests: an image's merged file
//! system from the catalog, and a one-call runner.

use super::fs::Fs;
use super::proc::World;
use super::{Outcome, Spec};
use crate::catalog::{Platform, catalog};
use crate::engine::RootFs;

/// The clock tests run at (2026-11-01T12:00:00Z).
pub const CLOCK: u64 = 1_793_534_400;

/// The merged root fs of a catalog image (`alpine:3.20`, `debian:bookworm`).
pub fn image_fs(reference: &str) -> Fs {
    let (repo, tag) = reference.split_once(':').unwrap_or((reference, "latest"));
    let repo = if repo.contains('/') {
        format!("docker.io/{repo}")
    } else {
        format!("docker.io/library/{repo}")
    };
    let img = catalog()
        .find(&repo, tag)
        .unwrap_or_else(|| panic!("no catalog image {reference}"));
    let mut root = RootFs::default();
    for layer in img.layers(&Platform::amd64()) {
        root.apply(layer);
    }
    Fs::new(root.entries, CLOCK)
}

/// The world tests run in (linux/amd64, the test clock).
pub fn world() -> World {
    World::new(Platform::amd64(), CLOCK)
}

/// Runs `sh -c script` as root in `/` on `fs`.
pub fn sh(fs: &mut Fs, script: &str) -> Outcome {
    super::run(
        fs,
        &world(),
        &Spec {
            argv: vec!["/bin/sh".into(), "-c".into(), script.into()],
            env: vec!["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into()],
            ..Spec::default()
        },
    )
    .expect("sh starts")
}
