//! Build-context figures, each measured against a reference timed in the
//! same run (machines are shared and noisy, so bare times mean little).
//!
//! A context of 10,000 files totalling 200 MiB (deterministic pseudo-random
//! content, nested directories, varied sizes) is generated once, with the
//! Dockerfile `FROM scratch` / `COPY . /ctx/`. Every round times, through the
//! release binary (`imagelab --home H docker build -q -t ctx .`):
//!
//! * the reference: `sh -c 'tar cf - . | sha256sum'` in the context folder;
//! * a cold build in a fresh home. Target: at most 1.3x the reference;
//! * a rebuild with nothing changed (same home). Target: at most 0.25x;
//! * a rebuild after one file was rewritten with new content (the rewrite is
//!   outside the timed region). Target: at most 0.5x.
//!
//! The reference runs once per round, first on even rounds and last on odd
//! ones, so noise hits both sides; medians are reported.
//!
//! Run with `cargo bench --bench context`; `IMAGELAB_BENCH_ROUNDS=N` sets the
//! number of rounds (default 5). It prints a table with PASS/FAIL per target
//! and exits non-zero only when it cannot run, never on slowness.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

const FILES: usize = 10_000;
const TOTAL_BYTES: u64 = 200 << 20;
const DEFAULT_ROUNDS: usize = 5;
/// The file rewritten before each "one file changed" rebuild.
const CHANGED: usize = FILES / 2;

mod common;

/// `c` to run in `dir`.
fn in_dir(dir: &Path, mut c: Command) -> Command {
    c.current_dir(dir);
    c
}
use common::{Result, find_binary, median, ms, ratio, time_process};

fn main() -> ExitCode {
    match run() {
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
    limit: Option<f64>,
}

fn run() -> Result<()> {
    let started = Instant::now();
    let rounds = std::env::var("IMAGELAB_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_ROUNDS);
    let bin = find_binary("context")?;
    println!("imagelab binary: {}", bin.display());

    let ctx = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let t = Instant::now();
    let files = generate(ctx.path())?;
    println!(
        "setup: generated {} files, {} bytes in {:.2} s",
        files.len(),
        files.iter().map(|(_, n)| n).sum::<u64>(),
        t.elapsed().as_secs_f64()
    );
    let (changed_path, changed_len) = files[CHANGED].clone();

    let reference = || {
        let mut c = Command::new("sh");
        c.args(["-c", "tar cf - . | sha256sum"]);
        c
    };
    // Warm-up: the page cache holds the context for both sides.
    time_process(in_dir(ctx.path(), reference()))?;
    let warm = tempfile::tempdir().map_err(|e| format!("temp home: {e}"))?;
    build(&bin, warm.path(), ctx.path())?;
    drop(warm);

    let mut t_ref = Vec::with_capacity(rounds);
    let mut t_cold = Vec::with_capacity(rounds);
    let mut t_same = Vec::with_capacity(rounds);
    let mut t_one = Vec::with_capacity(rounds);
    for round in 0..rounds {
        if round % 2 == 0 {
            t_ref.push(time_process(in_dir(ctx.path(), reference()))?);
        }
        let home = tempfile::tempdir().map_err(|e| format!("temp home: {e}"))?;
        let (d, cold_id) = build(&bin, home.path(), ctx.path())?;
        t_cold.push(d);

        let (d, id) = build(&bin, home.path(), ctx.path())?;
        if id != cold_id {
            return Err(format!(
                "round {round}: an unchanged rebuild gave {id}, the cold build {cold_id}"
            ));
        }
        t_same.push(d);

        rewrite(&ctx.path().join(&changed_path), changed_len, round)?;
        let (d, id) = build(&bin, home.path(), ctx.path())?;
        if id == cold_id {
            return Err(format!(
                "round {round}: the rebuild after a change kept image {id}"
            ));
        }
        t_one.push(d);
        drop(home);

        if round % 2 == 1 {
            t_ref.push(time_process(in_dir(ctx.path(), reference()))?);
        }
        println!(
            "round {round}: cold {:.0} ms, unchanged {:.0} ms, one file {:.0} ms, reference {:.0} ms",
            ms(t_cold[round]),
            ms(t_same[round]),
            ms(t_one[round]),
            ms(*t_ref.last().expect("timed"))
        );
    }
    let mr = median(&mut t_ref);
    let reference_name = "tar cf - . | sha256sum";
    let rows = [
        Row {
            figure: "cold build (fresh home)",
            median: median(&mut t_cold),
            reference: reference_name,
            ref_median: mr,
            limit: Some(1.3),
        },
        Row {
            figure: "rebuild, nothing changed",
            median: median(&mut t_same),
            reference: reference_name,
            ref_median: mr,
            limit: Some(0.25),
        },
        Row {
            figure: "rebuild, one file changed",
            median: median(&mut t_one),
            reference: reference_name,
            ref_median: mr,
            limit: Some(0.5),
        },
    ];
    println!("\n{rounds} rounds, 10,000 files / 200 MiB, FROM scratch + COPY . /ctx/");
    print_table(&rows);
    println!("total bench time: {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

// ---------------------------------------------------------------------------
// The context

/// Writes the Dockerfile and `FILES` files totalling `TOTAL_BYTES` under
/// `root` in three levels of directories. Returns (relative path, size).
fn generate(root: &Path) -> Result<Vec<(PathBuf, u64)>> {
    write(
        &root.join("Dockerfile"),
        b"FROM scratch\nCOPY . /ctx/\n".as_slice(),
    )?;
    // Varied sizes: mostly small files, some large ones (a skewed draw),
    // scaled so that they add up to exactly TOTAL_BYTES.
    let mut rng = SplitMix(0x1ab_2024);
    let weights: Vec<u64> = (0..FILES)
        .map(|_| {
            let r = rng.next();
            let base = 1 + (r % 1000);
            if (r >> 32).is_multiple_of(50) {
                base * 200 // about one file in fifty is big
            } else {
                base
            }
        })
        .collect();
    let sum: u64 = weights.iter().sum();
    let mut sizes: Vec<u64> = weights.iter().map(|w| w * TOTAL_BYTES / sum).collect();
    let short = TOTAL_BYTES - sizes.iter().sum::<u64>();
    sizes[0] += short;

    let mut out = Vec::with_capacity(FILES);
    let mut buf = Vec::new();
    for (i, size) in sizes.into_iter().enumerate() {
        let rel = PathBuf::from(format!(
            "d{:02}/s{}/{}file{i:05}.{}",
            i % 16,
            (i / 16) % 5,
            if i % 7 == 0 { "deeper/" } else { "" },
            ["bin", "txt", "dat", "json"][i % 4]
        ));
        let path = root.join(&rel);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        fill(&mut buf, i as u64, size);
        write(&path, &buf)?;
        out.push((rel, size));
    }
    Ok(out)
}

/// Replaces a file's bytes with new content of the same length.
fn rewrite(path: &Path, len: u64, round: usize) -> Result<()> {
    let mut buf = Vec::new();
    fill(&mut buf, 0x00c0_ffee_0000 + round as u64, len);
    write(path, &buf)
}

fn fill(buf: &mut Vec<u8>, seed: u64, len: u64) {
    let mut rng = SplitMix(seed);
    buf.clear();
    buf.reserve(len as usize);
    while (buf.len() as u64) < len {
        let word = rng.next().to_le_bytes();
        let n = (len as usize - buf.len()).min(8);
        buf.extend_from_slice(&word[..n]);
    }
}

struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

// ---------------------------------------------------------------------------
// Processes

/// `imagelab --home H docker build -q -t ctx .` in `ctx`: time and image ID.
fn build(bin: &Path, home: &Path, ctx: &Path) -> Result<(Duration, String)> {
    let mut c = Command::new(bin);
    c.arg("--home")
        .arg(home)
        .args(["docker", "build", "-q", "-t", "ctx", "."])
        .current_dir(ctx)
        .stdin(Stdio::null());
    let t = Instant::now();
    let out = c.output().map_err(|e| format!("spawn {c:?}: {e}"))?;
    let d = t.elapsed();
    if !out.status.success() {
        return Err(format!(
            "{c:?} exited with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !id.starts_with("sha256:") {
        return Err(format!("unexpected `build -q` output: {id:?}"));
    }
    Ok((d, id))
}

// ---------------------------------------------------------------------------
// helpers

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    f.write_all(bytes)
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn print_table(rows: &[Row]) {
    println!();
    println!(
        "{:<28} {:>11}  {:<24} {:>11}  {:>6}  {:<8} result",
        "figure", "median", "reference", "ref median", "ratio", "target"
    );
    for r in rows {
        let x = ratio(r.median, r.ref_median);
        let (target, result) = match r.limit {
            Some(l) => (format!("<= {l}"), if x <= l { "PASS" } else { "FAIL" }),
            None => ("-".into(), "-"),
        };
        println!(
            "{:<28} {:>8.1} ms  {:<24} {:>8.1} ms  {:>6.3}  {:<8} {}",
            r.figure,
            ms(r.median),
            r.reference,
            ms(r.ref_median),
            x,
            target,
            result
        );
    }
    println!();
}
