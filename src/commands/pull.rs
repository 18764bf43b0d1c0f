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
    let r = pulled.reference;
    if a.quiet {
        writeln!(io.out, "{r}")?;
        return Ok(0);
    }
    let tag = r.tag().unwrap_or("latest");
    writeln!(io.out, "{tag}: Pulling from {}", r.path())?;
    if !pulled.up_to_date {
        for (d, had) in &pulled.layers {
            let state = if *had {
                "Already exists"
            } else {
                "Pull complete"
            };
            writeln!(io.out, "{}: {state}", d.short())?;
        }
    }
    writeln!(io.out, "Digest: {}", pulled.digest)?;
    if pulled.up_to_date {
        writeln!(
            io.out,
            "Status: Image is up to date for {}",
            r.familiar_string()
        )?;
    } else {
        writeln!(
            io.out,
            "Status: Downloaded newer image for {}",
            r.familiar_string()
        )?;
    }
    writeln!(io.out, "{r}")?;
    Ok(0)
}
