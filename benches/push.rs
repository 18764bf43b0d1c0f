//! Issue 6's first figure: pushing an image whose layers the in-process
//! registry already has costs metadata only — under 5 ms beyond an empty
//! push (an image with no layers, pushed to the same registry), whatever
//! the layers' size. Both pushes run through the same session and lines a
//! learner types, alternating round by round so both see the same load.
//!
//! `cargo bench --bench push`; `IMAGELAB_BENCH_ROUNDS` sets the rounds.

#[path = "common/mod.rs"]
#[allow(dead_code)]
mod common;
use common::{Result, median, ms};
use imagelab::app::Session;
use std::process::ExitCode;
use std::time::{Duration, Instant};

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
    common::rounds_or(15)
}

fn line(s: &mut Session, l: &str) -> Result<()> {
    common::session_line(s, l)
}

fn timed(s: &mut Session, l: &str) -> Result<Duration> {
    let t = Instant::now();
    line(s, l)?;
    Ok(t.elapsed())
}

fn run() -> Result<()> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let work = dir.path().join("work");
    // 200 MB of incompressible bytes in 8 files, plus the base image.
    common::write_noise_files(&work.join("big"), 8, 0x9E3779B97F4A7C15)?;
    std::fs::write(
        work.join("Dockerfile"),
        "FROM nginx:alpine\nCOPY big /big\n",
    )
    .map_err(|e| e.to_string())?;
    std::fs::write(
        work.join("Empty.Dockerfile"),
        "FROM scratch\nLABEL empty=yes\n",
    )
    .map_err(|e| e.to_string())?;
    let mut s = Session::new(dir.path().join("home"), work);
    line(&mut s, "docker build -q -t localhost:5000/big:1 .")?;
    line(
        &mut s,
        "docker build -q -f Empty.Dockerfile -t localhost:5000/empty:1 .",
    )?;
    line(
        &mut s,
        "docker run -d -p 5000:5000 --name registry registry:2",
    )?;
    let t = Instant::now();
    line(&mut s, "docker push localhost:5000/big:1")?;
    let first = t.elapsed();
    line(&mut s, "docker push localhost:5000/empty:1")?;
    let (mut big, mut empty) = (Vec::new(), Vec::new());
    for _ in 0..rounds() {
        big.push(timed(&mut s, "docker push localhost:5000/big:1")?);
        empty.push(timed(&mut s, "docker push localhost:5000/empty:1")?);
    }
    let (b, e) = (median(&mut big), median(&mut empty));
    let extra = b.saturating_sub(e);
    println!(
        "first push of the ~215 MB image (compresses every layer): {:.0} ms",
        ms(first)
    );
    println!(
        "push with every layer present: median {:.2} ms | empty push (no layers): median {:.2} ms | difference {:.2} ms (target < 5 ms) {}",
        ms(b),
        ms(e),
        ms(extra),
        if extra < Duration::from_millis(5) {
            "MET"
        } else {
            "NOT MET"
        }
    );
    Ok(())
}
