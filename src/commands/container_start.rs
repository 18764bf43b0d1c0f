//! `docker start CONTAINER...` (the file is not `start.rs`: that is the
//! lab's `start EXERCISE`). Starts each stopped container's main process
//! again on its file system (its writable layer kept) and echoes its name;
//! `-a` prints what the process printed.

use super::container::{print_chunks, store};
use crate::app::{Io, Session};
use crate::cli::StartArgs;
use crate::container::runtime::{self, Started};

pub fn run(s: &mut Session, a: StartArgs, io: &mut Io) -> anyhow::Result<i32> {
    if a.args.is_empty() {
        return super::requires(
            io,
            "docker start",
            "at least 1 argument",
            "docker start [OPTIONS] CONTAINER [CONTAINER...]",
        );
    }
    let st = store(s);
    let engine = s.engine()?;
    let mut failed = Vec::new();
    let mut code = 0;
    for name in &a.args {
        let mut c = match st.find(name) {
            Ok(c) => c,
            Err(e) => {
                writeln!(io.err, "Error response from daemon: {e}")?;
                failed.push(name.clone());
                continue;
            }
        };
        if c.running() {
            writeln!(io.out, "{name}")?;
            continue;
        }
        let before = st.logs(&c.id)?.len();
        let stdin = if a.interactive {
            s.read_stdin().unwrap_or_default()
        } else {
            Vec::new()
        };
        match runtime::start(&engine, &st, &mut c, stdin, a.interactive)? {
            Started::Failed { message, .. } => {
                writeln!(io.err, "Error response from daemon: {message}")?;
                failed.push(name.clone());
            }
            Started::Shell(sh) => {
                super::exec::enter_shell(s, *sh, io)?;
            }
            Started::Exited(status) if a.attach => {
                let logs = st.logs(&c.id)?;
                print_chunks(io, &logs[before.min(logs.len())..], c.config.tty)?;
                code = status;
            }
            _ if a.attach => {
                let logs = st.logs(&c.id)?;
                print_chunks(io, &logs[before.min(logs.len())..], c.config.tty)?;
            }
            _ => writeln!(io.out, "{name}")?,
        }
    }
    if !failed.is_empty() {
        writeln!(
            io.err,
            "Error: failed to start containers: {}",
            failed.join(", ")
        )?;
        return Ok(1);
    }
    Ok(code)
}
