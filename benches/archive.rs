//! Issue 5's archive figures: `docker save` of a ~200 MB image against
//! `tar cf` of the same file bytes (target ≤ 1.3×), and `docker load` of
//! that archive into a fresh home against `sha256sum` of it (≤ 1.3×). Each
//! reference is timed in the same run, alternating round by round; every
//! side is one process from start to exit.
//!
//! `cargo bench --bench archive`; `IMAGELAB_BENCH_ROUNDS` sets the rounds.

#[path = "common/mod.rs"]
#[allow(dead_code)]
mod common;
use common::{Result, median, ms, ratio, time_process};
use imagelab::app::Session;
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("benchmark could not run: {e}");
            ExitCode::FAILURE
        }
    }
}

fn verdict(r: f64) -> &'static str {
    if r <= 1.3 { "MET" } else { "NOT MET" }
}

fn run() -> Result<()> {
    let bin = common::find_binary("archive")?;
    let rounds = common::rounds_or(5);
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let work = dir.path().join("work");
    // 200 MB of incompressible bytes in 8 files.
    common::write_noise_files(&work.join("big"), 8, 0x9E3779B97F4A7C15)?;
    std::fs::write(work.join("Dockerfile"), "FROM scratch\nCOPY big /big\n")
        .map_err(|e| e.to_string())?;
    let home = dir.path().join("home");
    let mut s = Session::new(home.clone(), work.clone());
    common::session_line(&mut s, "docker build -q -t big:1 .")?;

    let archive = dir.path().join("big.tar");
    let reference = dir.path().join("ref.tar");
    let save = || {
        let mut c = Command::new(&bin);
        c.args(["docker", "save", "-o"])
            .arg(&archive)
            .arg("big:1")
            .env("IMAGELAB_HOME", &home);
        c
    };
    let tar = || {
        let mut c = Command::new("tar");
        c.arg("cf").arg(&reference).arg("-C").arg(&work).arg("big");
        c
    };
    let load = |i: usize| {
        let fresh = dir.path().join(format!("load{i}"));
        let _ = std::fs::remove_dir_all(&fresh);
        let mut c = Command::new(&bin);
        c.args(["docker", "load", "-q", "-i"])
            .arg(&archive)
            .env("IMAGELAB_HOME", fresh);
        c
    };
    let sha = || {
        let mut c = Command::new("sha256sum");
        c.arg(&archive);
        c
    };
    // Warm the page cache and check everything runs.
    time_process(save())?;
    time_process(tar())?;
    time_process(load(0))?;
    time_process(sha())?;
    let (mut sv, mut tr, mut ld, mut sh) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..rounds {
        sv.push(time_process(save())?);
        tr.push(time_process(tar())?);
        ld.push(time_process(load(i % 2))?);
        sh.push(time_process(sha())?);
    }
    let size = std::fs::metadata(&archive)
        .map_err(|e| e.to_string())?
        .len();
    let (sv, tr, ld, sh) = (
        median(&mut sv),
        median(&mut tr),
        median(&mut ld),
        median(&mut sh),
    );
    println!(
        "archive: {:.1} MB, {rounds} rounds, medians",
        size as f64 / 1e6
    );
    let r = ratio(sv, tr);
    println!(
        "docker save -o: {:.0} ms | tar cf of the same files: {:.0} ms | ratio {r:.2} (target ≤ 1.3) {}",
        ms(sv),
        ms(tr),
        verdict(r)
    );
    let r = ratio(ld, sh);
    println!(
        "docker load -i (fresh home): {:.0} ms | sha256sum of the archive: {:.0} ms | ratio {r:.2} (target ≤ 1.3) {}",
        ms(ld),
        ms(sh),
        verdict(r)
    );
    Ok(())
}
