//! Core speed figures, each measured against a reference timed in the same
//! run (machines are shared and noisy, so bare times mean little):
//!
//! 1. `imagelab docker images` on a home holding 200 images (issue 1) and
//!    1,000 images (issue 5), process start to exit, against `imagelab
//!    --version` (same binary, interleaved runs). Target: at most 3x the
//!    reference.
//! 2. The nginx exercise's build (`FROM nginx:alpine`, `COPY index.html`,
//!    `EXPOSE 80`) with the base already materialized, in process: a cached
//!    rebuild and an uncached one (index.html changes every iteration), against
//!    a raw sha256 pass over 48 MiB (the nginx image's size), interleaved.
//!    Target: median under 50 ms.
//!
//! Run with `cargo bench --bench core`. It prints a table with PASS/FAIL per
//! target and exits non-zero only when it cannot run, never on slowness.
//! `cargo bench --bench core -- images` (or `nginx`) runs one section.

use imagelab::builder::{self, BuildOptions, BuildOutcome};
use imagelab::engine::Engine;
use imagelab::reference::Reference;
use sha2::{Digest as _, Sha256};
use std::fs;
use std::hint::black_box;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

const PROCESS_RUNS: usize = 30;
const BUILD_RUNS: usize = 30;
const NGINX_BYTES: usize = 48 << 20;

mod common;

/// `c` with `IMAGELAB_HOME` set.
fn with_home(home: &Path, mut c: Command) -> Command {
    c.env("IMAGELAB_HOME", home);
    c
}
use common::{Result, find_binary, median, ms, ratio, time_process};

fn main() -> ExitCode {
    // `cargo bench --bench core -- images` runs only the figures whose
    // section name contains a filter; cargo's own `--bench` flag is ignored.
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    match run(&filters) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("benchmark could not run: {e}");
            ExitCode::FAILURE
        }
    }
}

/// One line of the result table.
struct Row {
    figure: &'static str,
    median: Duration,
    reference: &'static str,
    ref_median: Duration,
    target: String,
    pass: Option<bool>,
}

fn run(filters: &[String]) -> Result<()> {
    let started = Instant::now();
    let wanted = |section: &str| filters.is_empty() || filters.iter().any(|f| section.contains(f));
    let mut rows = Vec::new();
    if wanted("images") {
        let bin = find_binary("core")?;
        println!("imagelab binary: {}", bin.display());
        rows.extend(bench_images(
            &bin,
            200,
            "docker images, 200 images (process)",
        )?);
        rows.extend(bench_images(
            &bin,
            1000,
            "docker images, 1000 images (process)",
        )?);
    }
    if wanted("nginx-build") {
        rows.extend(bench_nginx_build()?);
    }
    print_table(&rows);
    println!("total bench time: {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

// ---------------------------------------------------------------------------
// 1. `docker images` with 200 or 1,000 images vs `--version`

fn bench_images(bin: &Path, count: usize, figure: &'static str) -> Result<Vec<Row>> {
    let home = tempfile::tempdir().map_err(|e| format!("temp home: {e}"))?;
    let work = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let t = Instant::now();
    let engine = Engine::open(home.path()).map_err(|e| format!("open engine: {e}"))?;
    for i in 0..count {
        let ctx = work.path().join(format!("ctx{i}"));
        fs::create_dir_all(&ctx).map_err(|e| format!("{}: {e}", ctx.display()))?;
        write(
            &ctx.join("Dockerfile"),
            &format!("FROM scratch\nCOPY file /f\nLABEL n={i}\n"),
        )?;
        write(&ctx.join("file"), &format!("content of image {i}\n"))?;
        let outcome = build(&engine, &ctx, &format!("app{i}:1.0"))?;
        drop(outcome);
    }
    println!(
        "setup: built {count} images in {:.2} s ({:.1} ms per build)",
        t.elapsed().as_secs_f64(),
        t.elapsed().as_secs_f64() * 1000.0 / count as f64
    );

    let images = || {
        let mut c = Command::new(bin);
        c.args(["docker", "images"]);
        c
    };
    let version = || {
        let mut c = Command::new(bin);
        c.arg("--version");
        c
    };
    // Sanity (and warm-up): both run, and the listing shows every image.
    let out = run_process(home.path(), images())?;
    let listed = out.lines().filter(|l| l.starts_with("app")).count();
    if listed != count {
        return Err(format!(
            "`docker images` listed {listed} of {count} images:\n{out}"
        ));
    }
    let v = run_process(home.path(), version())?;
    if !v.starts_with("imagelab ") {
        return Err(format!("unexpected `--version` output: {v:?}"));
    }
    for _ in 0..2 {
        run_process(home.path(), images())?;
        run_process(home.path(), version())?;
    }

    let mut t_images = Vec::with_capacity(PROCESS_RUNS);
    let mut t_version = Vec::with_capacity(PROCESS_RUNS);
    for i in 0..PROCESS_RUNS {
        // Alternate which goes first so neither always runs on a warmer cache.
        if i % 2 == 0 {
            t_images.push(time_process(with_home(home.path(), images()))?);
            t_version.push(time_process(with_home(home.path(), version()))?);
        } else {
            t_version.push(time_process(with_home(home.path(), version()))?);
            t_images.push(time_process(with_home(home.path(), images()))?);
        }
    }
    let (mi, mv) = (median(&mut t_images), median(&mut t_version));
    Ok(vec![Row {
        figure,
        median: mi,
        reference: "--version (process)",
        ref_median: mv,
        target: "ratio <= 3.0".into(),
        pass: Some(ratio(mi, mv) <= 3.0),
    }])
}

fn run_process(home: &Path, mut c: Command) -> Result<String> {
    let out = c
        .env("IMAGELAB_HOME", home)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("spawn {c:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{c:?} exited with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

// ---------------------------------------------------------------------------
// 2. The nginx exercise's build vs a sha256 pass over 48 MiB

fn bench_nginx_build() -> Result<Vec<Row>> {
    let home = tempfile::tempdir().map_err(|e| format!("temp home: {e}"))?;
    let ctx = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    write(
        &ctx.path().join("Dockerfile"),
        "FROM nginx:alpine\nCOPY index.html /usr/share/nginx/html/index.html\nEXPOSE 80\n",
    )?;
    let index = ctx.path().join("index.html");
    write(&index, "<h1>Hello from my-nginx-app</h1>\n")?;
    let tag = "my-nginx-app:1.0";

    // Warm-up: materializes the base (hashes its layers once).
    let t = Instant::now();
    let engine = Engine::open(home.path()).map_err(|e| format!("open engine: {e}"))?;
    build(&engine, ctx.path(), tag)?;
    let first = t.elapsed();
    println!(
        "setup: first nginx build (materializes nginx:alpine) {:.1} ms",
        ms(first)
    );

    // Diagnostic: the merged root file system of the base, which a COPY
    // step loads (cached or not) to resolve its destination.
    let idx = engine.index().map_err(|e| format!("read index: {e}"))?;
    let base_id = idx
        .bases
        .values()
        .next()
        .cloned()
        .ok_or("the warm-up build did not record nginx:alpine as a base")?;
    let base = engine
        .image(&base_id)
        .map_err(|e| format!("load base config: {e}"))?;
    let base_layers = imagelab::engine::diff_ids_of(&base.config);

    let data = vec![0x5au8; NGINX_BYTES];
    black_box(Sha256::digest(&data)); // warm the page cache of the buffer

    let mut cached = Vec::with_capacity(BUILD_RUNS);
    let mut uncached = Vec::with_capacity(BUILD_RUNS);
    let mut sha = Vec::with_capacity(BUILD_RUNS);
    let mut rootfs = Vec::with_capacity(BUILD_RUNS);
    for i in 0..BUILD_RUNS {
        // Cached rebuild: the same context as the previous build.
        let t = Instant::now();
        let engine = Engine::open(home.path()).map_err(|e| format!("open engine: {e}"))?;
        let o = build(&engine, ctx.path(), tag)?;
        let d = t.elapsed();
        expect_copy_cached(&o, true, i)?;
        cached.push(d);

        let t = Instant::now();
        black_box(Sha256::digest(black_box(&data)));
        sha.push(t.elapsed());

        let t = Instant::now();
        let fs = engine
            .rootfs(&base_layers)
            .map_err(|e| format!("rootfs of nginx:alpine: {e}"))?;
        rootfs.push(t.elapsed());
        black_box(fs);

        // Uncached: new index.html content, so the COPY layer is new. The
        // write is outside the timed region.
        write(
            &index,
            &format!("<h1>Hello from my-nginx-app, take {i}</h1>\n"),
        )?;
        let t = Instant::now();
        let engine = Engine::open(home.path()).map_err(|e| format!("open engine: {e}"))?;
        let o = build(&engine, ctx.path(), tag)?;
        let d = t.elapsed();
        expect_copy_cached(&o, false, i)?;
        uncached.push(d);
    }
    let (mc, mu, ms_) = (median(&mut cached), median(&mut uncached), median(&mut sha));
    let mr = median(&mut rootfs);
    let limit = Duration::from_millis(50);
    Ok(vec![
        Row {
            figure: "nginx build, cached rebuild",
            median: mc,
            reference: "sha256 of 48 MiB",
            ref_median: ms_,
            target: "< 50 ms".into(),
            pass: Some(mc < limit),
        },
        Row {
            figure: "nginx build, new COPY layer",
            median: mu,
            reference: "sha256 of 48 MiB",
            ref_median: ms_,
            target: "< 50 ms".into(),
            pass: Some(mu < limit),
        },
        Row {
            figure: "  of which: engine.rootfs(base)",
            median: mr,
            reference: "sha256 of 48 MiB",
            ref_median: ms_,
            target: format!("({} layers)", base_layers.len()),
            pass: None,
        },
    ])
}

fn expect_copy_cached(o: &BuildOutcome, want: bool, i: usize) -> Result<()> {
    let copy = o
        .vertices
        .iter()
        .find(|v| v.name.contains("COPY index.html"))
        .ok_or_else(|| format!("iteration {i}: no COPY step in the build's progress"))?;
    if copy.cached != want {
        return Err(format!(
            "iteration {i}: COPY step cached={} but this measurement needs cached={want}",
            copy.cached
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// helpers

fn build(engine: &Engine, ctx: &Path, tag: &str) -> Result<BuildOutcome> {
    let r = Reference::parse(tag).map_err(|e| format!("tag {tag}: {e}"))?;
    let opts = BuildOptions {
        context: ctx.to_path_buf(),
        tags: vec![r],
        ..Default::default()
    };
    let outcome = builder::build(engine, &opts);
    match &outcome.result {
        Ok(_) => Ok(outcome),
        Err(e) => Err(format!("build of {} failed: {e}", ctx.display())),
    }
}

fn write(path: &Path, text: &str) -> Result<()> {
    fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

fn print_table(rows: &[Row]) {
    println!();
    println!(
        "{:<38} {:>10}  {:<22} {:>10}  {:>7}  {:<13} result",
        "figure", "median", "reference", "ref median", "ratio", "target"
    );
    for r in rows {
        let result = match r.pass {
            Some(true) => "PASS",
            Some(false) => "FAIL",
            None => "-",
        };
        println!(
            "{:<38} {:>7.2} ms  {:<22} {:>7.2} ms  {:>7.3}  {:<13} {}",
            r.figure,
            ms(r.median),
            r.reference,
            ms(r.ref_median),
            ratio(r.median, r.ref_median),
            r.target,
            result
        );
    }
    println!();
}
