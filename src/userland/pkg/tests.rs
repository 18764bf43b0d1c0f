//! Tests of the package managers, run through `userland::run` with argv.

use super::*;
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

fn out(o: &Outcome) -> String {
    o.transcript.stream(Stream::Stdout)
}

fn err(o: &Outcome) -> String {
    o.transcript.stream(Stream::Stderr)
}

#[test]
fn explore() {
    let mut fs = image_fs("alpine:3.20");
    let o = go(&mut fs, &world(), &["apk", "add", "curl"]);
    println!("{}", o.transcript.text());
    println!("{:?}", o.status);
    let o = go(&mut fs, &world(), &["apk", "add", "--no-cache", "nginx", "bash"]);
    println!("{}", o.transcript.text());
    println!("{}", fs.read_string("/etc/passwd").unwrap());
    println!("{}", fs.read_string("/etc/apk/world").unwrap());
    let o = go(&mut fs, &world(), &["apk", "del", "curl"]);
    println!("{}", o.transcript.text());
    let o = go(&mut fs, &world(), &["apk", "update"]);
    println!("{}", o.transcript.text());
    let o = go(&mut fs, &world(), &["apk", "add", "--virtual", ".build-deps", "build-base", "python3", "py3-pip", "nodejs", "npm", "git", "openjdk17-jre-headless", "gnupg", "procps", "postgresql-client", "libpq-dev", "vim", "gcompat", "supervisor"]);
    println!("{}", o.transcript.text());
}
