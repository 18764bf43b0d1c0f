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
