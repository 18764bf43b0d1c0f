//! Tests of the package managers, run through `userland::run` with argv.

use crate::userland::fs::Fs;
use crate::userland::proc::{Stream, World};
use crate::userland::testing::{image_fs, world};
use crate::userland::{Outcome, Spec, run};

fn go(fs: &mut Fs, w: &World, argv: &[&str]) -> Outcome {
    run(
        fs,
        w,
        &Spec {
            argv: argv.iter().map(|s| s.to_string()).collect(),
            ..Spec::default()
        },
    )
    .expect("starts")
}

#[test]
fn explore() {
    let mut fs = image_fs("debian:bookworm");
    let o = go(&mut fs, &world(), &["apt-get", "install", "-y", "curl"]);
    println!("{}", o.transcript.text());
    let o = go(&mut fs, &world(), &["apt-get", "update"]);
    println!("{}", o.transcript.text());
    let o = go(&mut fs, &world(), &["apt-get", "install", "-y", "curl"]);
    println!("{}", o.transcript.text());
    let o = go(&mut fs, &world(), &["apt-get", "install", "-y", "--no-install-recommends", "python3-pip", "git", "build-essential", "nginx", "openjdk-17-jre-headless", "vim", "gnupg", "postgresql-client", "libpq-dev", "procps", "iputils-ping", "netcat-openbsd", "sudo", "htop", "less", "file", "jq", "unzip", "zip", "tini"]);
    
    println!("{}", o.status);
    let o = go(&mut fs, &world(), &["dpkg", "-l", "curl", "libssl3"]);
    println!("{}", o.transcript.text());
    let mut fs = image_fs("ubuntu:22.04");
    let o = go(&mut fs, &world(), &["apt-get", "update"]);
    println!("{}", o.transcript.text());
    let o = go(&mut fs, &world(), &["apt-get", "install", "-y", "python3-pip", "nginx", "build-essential"]);
    println!("{}", o.transcript.text().chars().take(1500).collect::<String>());
    println!("{}", o.status);
}

#[test]
fn every_universe_parses() {
    assert_eq!(super::universe::check_all(), Vec::<String>::new());
}
