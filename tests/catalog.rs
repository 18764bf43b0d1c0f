//! The base-image catalog as a learner meets it: every image pulls, its
//! `docker images` SIZE (docker's measure: file bytes, not tar bytes) is
//! within 20% of the real image's, and two fresh homes agree on every digest.

mod common;
use common::Lab;
use imagelab::catalog::{Platform, catalog};

#[test]
fn docker_sizes_are_within_20_percent_of_the_real_images() {
    let mut report = Vec::new();
    let mut bad = Vec::new();
    for img in catalog().images() {
        if img.real_size_bytes == 0 {
            continue; // scratch
        }
        let amd64 = Platform::amd64();
        let size: u64 = img
            .layers(&amd64)
            .iter()
            .map(|l| imagelab::layer::content_size(l))
            .sum();
        let ratio = size as f64 / img.real_size_bytes as f64;
        report.push(format!(
            "{:<45} {:>12} {:>12} {:.2}",
            img.name(),
            size,
            img.real_size_bytes,
            ratio
        ));
        if !(0.8..=1.2).contains(&ratio) {
            bad.push(img.name());
        }
    }
    assert!(
        bad.is_empty(),
        "sizes off by more than 20%: {bad:?}\n{}",
        report.join("\n")
    );
}

#[test]
fn every_catalog_image_pulls_for_both_architectures_with_matching_config() {
    let mut lab = Lab::new();
    let engine = lab.session.engine().unwrap();
    for img in catalog().images() {
        if img.repository.ends_with("/scratch") {
            continue;
        }
        let tag = &img.tags[0];
        for p in img.platforms() {
            let pulled = engine
                .pull(&format!("{}:{tag}", img.repository), &p)
                .unwrap();
            let cfg = engine.image(&pulled.id).unwrap().config;
            assert_eq!(
                cfg["architecture"],
                p.architecture.as_str(),
                "{}",
                img.name()
            );
            assert_eq!(
                imagelab::engine::diff_ids_of(&cfg).len(),
                img.layers(&p).len()
            );
        }
    }
    // The tag the learner pulled last wins, and `docker images` lists them all.
    let out = lab.ok("docker images --format '{{.Repository}}:{{.Tag}}'");
    assert!(out.stdout.contains("nginx:"), "{}", out.stdout);
}

#[test]
fn two_fresh_homes_pull_identical_bytes() {
    let a = Lab::new();
    let b = Lab::new();
    let ea = a.session.engine().unwrap();
    let eb = b.session.engine().unwrap();
    for name in ["alpine:3.20", "nginx:alpine", "busybox", "hello-world"] {
        let pa = ea.pull(name, &Platform::amd64()).unwrap();
        let pb = eb.pull(name, &Platform::amd64()).unwrap();
        assert_eq!(pa.id, pb.id, "{name}");
        assert_eq!(pa.digest, pb.digest, "{name}");
    }
}
