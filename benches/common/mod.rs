//! What the benchmarks share: finding the release binary cargo built for
//! them, and timing one process from start to exit.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub type Result<T> = std::result::Result<T, String>;

/// Process start to exit, output collected through a pipe.
pub fn time_process(mut c: Command) -> Result<Duration> {
    c.stdin(Stdio::null());
    let t = Instant::now();
    let out = c.output().map_err(|e| format!("spawn {c:?}: {e}"))?;
    let d = t.elapsed();
    if !out.status.success() {
        return Err(format!("{c:?} exited with {}", out.status));
    }
    black_box(out.stdout);
    Ok(d)
}

/// The release binary: cargo builds the bin targets for benches and tells
/// us where; otherwise it sits next to `deps/` where the bench runs from.
pub fn find_binary(bench: &str) -> Result<PathBuf> {
    let exe = format!("imagelab{}", std::env::consts::EXE_SUFFIX);
    let mut candidates = Vec::new();
    if let Some(p) = option_env!("CARGO_BIN_EXE_imagelab") {
        candidates.push(PathBuf::from(p));
    }
    if let Ok(me) = std::env::current_exe()
        && let Some(profile_dir) = me.parent().and_then(Path::parent)
    {
        candidates.push(profile_dir.join(&exe));
    }
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or_else(|| {
            format!(
                "imagelab binary not found (looked at {candidates:?}); run through `cargo bench --bench {bench}`"
            )
        })
}

pub fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2
    }
}

pub fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-9)
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Rounds per figure: `IMAGELAB_BENCH_ROUNDS`, else `default`.
#[allow(dead_code)]
pub fn rounds_or(default: usize) -> usize {
    std::env::var("IMAGELAB_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs one lab line in a session, as a learner types it; an error carries
/// the line's output when it fails.
#[allow(dead_code)]
pub fn session_line(s: &mut imagelab::app::Session, l: &str) -> Result<()> {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = s.run_line(
        l,
        &mut imagelab::app::Io {
            out: &mut out,
            err: &mut err,
            tty: false,
        },
    );
    if code != 0 {
        return Err(format!(
            "`{l}` exited {code}: {}{}",
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&err)
        ));
    }
    Ok(())
}

/// `files` files of 25 MiB of log-like text (what deflate shrinks about
/// fivefold), seeded so every run writes the same bytes. (Only the remote
/// bench writes text.)
#[allow(dead_code)]
pub fn write_text_files(dir: &std::path::Path, files: usize, seed: u64) -> Result<()> {
    use std::fmt::Write as _;
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let mut x = seed;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for i in 0..files {
        let mut text = String::with_capacity(25 << 20);
        let mut n = 0u64;
        while text.len() < 25 << 20 {
            let r = next();
            n += 1;
            let _ = writeln!(
                text,
                "2026-12-07T10:{:02}:{:02}.{:03}Z INFO request {n} GET /api/items/{} served in {} ms to 10.0.{}.{}",
                r % 60,
                (r >> 8) % 60,
                (r >> 16) % 1000,
                (r >> 24) % 100_000,
                (r >> 40) % 900,
                (r >> 50) % 256,
                (r >> 58) % 256
            );
        }
        text.truncate(25 << 20);
        std::fs::write(dir.join(format!("f{i}.bin")), text).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Writes `files` files of 25 MiB of incompressible bytes (xorshift from
/// `seed`) as `f0.bin`, `f1.bin`, ... into `dir`: the benches' "200 MB
/// image" when `files` is 8. (Not every bench writes noise.)
#[allow(dead_code)]
pub fn write_noise_files(dir: &std::path::Path, files: usize, seed: u64) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let mut x = seed;
    for i in 0..files {
        let mut buf = vec![0u8; 25 << 20];
        for chunk in buf.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
        }
        std::fs::write(dir.join(format!("f{i}.bin")), buf).map_err(|e| e.to_string())?;
    }
    Ok(())
}
