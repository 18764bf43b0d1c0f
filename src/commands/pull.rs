//! `docker pull NAME[:TAG]` from the simulated Docker Hub (the base-image catalog).

use crate::app::{Io, Session};
use crate::catalog::Platform;
use crate::cli::PullArgs;
use crate::reference::Reference;

pub fn run(s: &mut Session, a: PullArgs, io: &mut Io) -> anyhow::Result<i32> {
    if a.args.len() != 1 {
        return super::requires(
            io,
            "docker pull",
            "exactly 1 argument.",
            "docker pull [OPTIONS] NAME[:TAG|@DIGEST]",
        );
    }
    let name = &a.args[0];
    let r = match Reference::parse(name) {
        Ok(r) => r,
        Err(e) => {
            writeln!(io.err, "{e}")?;
            return Ok(1);
        }
    };
    let platform = match &a.platform {
        Some(p) => match Platform::parse(p) {
            Some(p) => p,
            None => {
                writeln!(
                    io.err,
                    "Error response from daemon: \"{p}\": unknown operating system or architecture: invalid argument"
                )?;
                return Ok(1);
            }
        },
        None => crate::engine::host_platform(),
    };
    if r.tag().is_none() && r.digest().is_none() && !a.quiet {
        writeln!(io.out, "Using default tag: latest")?;
    }
    let engine = s.engine()?;
    let pulled = match engine.pull(name, &platform) {
        Ok(p) => p,
        Err(e) => {
            writeln!(io.err, "Error response from daemon: {e}")?;
            return Ok(1);
        }
    };
    if a.quiet {
        writeln!(io.out, "{}", pulled.reference)?;
        return Ok(0);
    }
    print_pulled(&mut *io.out, &pulled)?;
    writeln!(io.out, "{}", pulled.reference)?;
    Ok(0)
}

/// The lines `docker pull` prints after its first one but the reference (what
/// `docker run` prints on stderr when it pulls a missing image).
pub fn print_pulled(
    out: &mut dyn std::io::Write,
    pulled: &crate::engine::Pulled,
) -> anyhow::Result<()> {
    let r = &pulled.reference;
    let tag = r.tag().unwrap_or("latest");
    writeln!(out, "{tag}: Pulling from {}", r.path())?;
    if !pulled.up_to_date {
        for (d, had) in &pulled.layers {
            let state = if *had {
                "Already exists"
            } else {
                "Pull complete"
            };
            writeln!(out, "{}: {state}", d.short())?;
        }
    }
    writeln!(out, "Digest: {}", pulled.digest)?;
    if pulled.up_to_date {
        writeln!(
            out,
            "Status: Image is up to date for {}",
            r.familiar_string()
        )?;
    } else {
        writeln!(
            out,
            "Status: Downloaded newer image for {}",
            r.familiar_string()
        )?;
    }
    Ok(())
}
