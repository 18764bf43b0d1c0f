//! `docker logs [--tail N] CONTAINER`: what the container's processes
//! printed (`-f` is accepted: the simulated processes have already ended
//! or only print when asked, so there is nothing to wait for).

use super::container::{find, print_chunks, store};
use crate::app::{Io, Session};
use crate::cli::LogsArgs;
use crate::container::LogChunk;

pub fn run(s: &mut Session, a: LogsArgs, io: &mut Io) -> anyhow::Result<i32> {
    if a.args.len() != 1 {
        return super::requires(
            io,
            "docker logs",
            "exactly 1 argument.",
            "docker logs [OPTIONS] CONTAINER",
        );
    }
    let st = store(s);
    let Some(c) = find(&st, io, &a.args[0])? else {
        return Ok(1);
    };
    let chunks = st.logs(&c.id)?;
    let chunks = match a.tail.as_deref() {
        None | Some("all") => chunks,
        Some(n) => match n.parse::<i64>() {
            Ok(n) if n < 0 => chunks,
            Ok(n) => tail(&chunks, n as usize),
            Err(_) => {
                writeln!(
                    io.err,
                    "Error response from daemon: invalid value for \"tail\": \"{n}\""
                )?;
                return Ok(1);
            }
        },
    };
    print_chunks(io, &chunks, c.config.tty)?;
    Ok(0)
}

/// The last `n` lines, each kept with its stream.
fn tail(chunks: &[LogChunk], n: usize) -> Vec<LogChunk> {
    let mut lines: Vec<LogChunk> = Vec::new();
    for c in chunks {
        for l in c.text.split_inclusive('\n') {
            lines.push(LogChunk {
                stderr: c.stderr,
                text: l.to_string(),
            });
        }
    }
    let skip = lines.len().saturating_sub(n);
    lines.split_off(skip)
}
