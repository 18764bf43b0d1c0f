//! Issue 4's figures: a Dockerfile that installs 20 Debian packages with
//! `apt-get` and 10 Python packages with `pip` builds cold (no build cache;
//! the base image already in the store) in under 100 ms median, and in
//! under 10× the time of a `COPY`-only build that produces the same number
//! of layer bytes — the reference, timed in the same run, alternating with
//! the measured build so both see the same machine load.
//!
//! `cargo bench --bench run`; `IMAGELAB_BENCH_ROUNDS` sets the rounds.

#[path = "common/mod.rs"]
#[allow(dead_code)]
mod common;
use common::{Result, median, ms, ratio};
use imagelab::builder::{self, BuildOptions};
use imagelab::engine::Engine;
use imagelab::reference::Reference;
use std::fs;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Twenty packages a Dockerfile installs with apt-get on bookworm.
const APT: &str = "curl ca-certificates git wget gnupg unzip zip jq vim nano less procps iputils-ping netcat-openbsd openssl tzdata file htop sudo make";
/// Ten packages from PyPI.
const PIP: &str = "flask requests gunicorn pyyaml sqlalchemy click jinja2 werkzeug urllib3 certifi";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("benchmark could not run: {e}");
            ExitCode::FAILURE
        }
    }
}

fn rounds() -> usize {
    std::env::var("IMAGELAB_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(15)
}

fn build(engine: &Engine, ctx: &Path, tag: &str) -> Result<()> {
    let r = Reference::parse(tag).map_err(|e| format!("tag {tag}: {e}"))?;
    let opts = BuildOptions {
        context: ctx.to_path_buf(),
        tags: vec![r],
        no_cache: true,
        ..Default::default()
    };
    builder::build(engine, &opts)
        .result
        .map(|_| ())
        .map_err(|e| format!("build of {} failed: {e}", ctx.display()))
}

fn run() -> Result<()> {
    let home = tempfile::tempdir().map_err(|e| format!("temp home: {e}"))?;
    let runs = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let copies = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let df = format!(
        "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y --no-install-recommends {APT} && rm -rf /var/lib/apt/lists/*\nRUN pip install --no-cache-dir {PIP}\n"
    );
    fs::write(runs.path().join("Dockerfile"), &df).map_err(|e| e.to_string())?;
    let engine = Engine::open(home.path()).map_err(|e| format!("open engine: {e}"))?;
    // Warm-up: materializes the base image.
    build(&engine, runs.path(), "runs:bench")?;

    // The reference context: as many files and bytes as the RUN layers.
    let img = engine.lookup("runs:bench").map_err(|e| e.to_string())?;
    // The two RUN steps' layers are the last two.
    let ids = imagelab::engine::diff_ids_of(&img.config);
    let base = ids.len().saturating_sub(2);
    let mut files = 0usize;
    let mut bytes = 0u64;
    for d in &ids[base.min(ids.len())..] {
        for e in engine.layer_entries(d).map_err(|e| e.to_string())? {
            if let imagelab::layer::Kind::File(c) = &e.kind {
                files += 1;
                bytes += c.len();
            }
        }
    }
    if files == 0 {
        return Err("the RUN build produced no files".into());
    }
    let per = (bytes / files as u64).max(1);
    for i in 0..files {
        let dir = copies.path().join(format!("d{}", i % 64));
        fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let fill: Vec<u8> = (0..per)
            .map(|j| (j as u8).wrapping_mul(31) ^ i as u8)
            .collect();
        fs::write(dir.join(format!("f{i}")), fill).map_err(|e| e.to_string())?;
    }
    fs::write(
        copies.path().join("Dockerfile"),
        "FROM python:3.12-slim\nCOPY . /ctx/\n",
    )
    .map_err(|e| e.to_string())?;
    build(&engine, copies.path(), "copies:bench")?;
    println!(
        "RUN layers: {files} files, {:.1} MB; reference COPY context: {files} files of {per} B",
        bytes as f64 / 1e6
    );

    let n = rounds();
    let mut measured: Vec<Duration> = Vec::with_capacity(n);
    let mut reference: Vec<Duration> = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        build(&engine, runs.path(), "runs:bench")?;
        measured.push(t.elapsed());
        let t = Instant::now();
        build(&engine, copies.path(), "copies:bench")?;
        reference.push(t.elapsed());
    }
    let m = median(&mut measured);
    let r = median(&mut reference);
    let x = ratio(m, r);
    println!();
    println!(
        "{:<44} {:>10}  {:<26} {:>10}  {:>7}  target",
        "figure", "median", "reference", "ref median", "ratio"
    );
    println!(
        "{:<44} {:>8.1}ms  {:<26} {:>8.1}ms  {:>6.2}×  <100 ms, <10×  {}",
        "cold build: apt-get 20 + pip 10",
        ms(m),
        "COPY of the same bytes",
        ms(r),
        x,
        if ms(m) < 100.0 && x < 10.0 {
            "PASS"
        } else {
            "FAIL"
        }
    );
    Ok(())
}
