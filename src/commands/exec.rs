//! `docker exec [-it] [-u] [-w] [-e] CONTAINER CMD...`, and the nested
//! shell both `exec -it NAME sh` and `run -it IMAGE sh` open: while it is
//! open, every line the REPL (or `imagelab run FILE`) reads goes to it,
//! with its prompt, until `exit`.

use super::container::{find, print_chunks, store};
use crate::app::{Io, Session};
use crate::cli::ExecArgs;
use crate::container::runtime::{self, ExecOpts, Executed, ShellSession};
use crate::container::{ContainerError, LogChunk};
use crate::userland::proc::Stream;
use crate::userland::shell::Flow;

pub fn run(s: &mut Session, a: ExecArgs, io: &mut Io) -> anyhow::Result<i32> {
    if a.args.len() < 2 {
        return super::requires(
            io,
            "docker exec",
            "at least 2 arguments",
            "docker exec [OPTIONS] CONTAINER COMMAND [ARG...]",
        );
    }
    let st = store(s);
    let Some(c) = find(&st, io, &a.args[0])? else {
        return Ok(1);
    };
    if !c.running() {
        writeln!(
            io.err,
            "Error response from daemon: {}",
            ContainerError::NotRunning(c.id.clone())
        )?;
        return Ok(1);
    }
    if super::registry_gc::is_gc(&c, &a.args[1..]) {
        return super::registry_gc::run(s, &c, &a.args[1..], io);
    }
    let engine = s.engine()?;
    let opts = ExecOpts {
        user: a.user.clone(),
        workdir: a.workdir.clone(),
        env: a.env.clone(),
        interactive: a.interactive,
        tty: a.tty,
        stdin: if a.interactive {
            s.read_stdin().unwrap_or_default()
        } else {
            Vec::new()
        },
    };
    match runtime::exec(&engine, &st, &c, &a.args[1..], &opts)? {
        Executed::Ran { status, transcript } => {
            if !a.detach {
                let chunks: Vec<LogChunk> = transcript
                    .chunks
                    .iter()
                    .map(|(k, b)| LogChunk {
                        stderr: *k == Stream::Stderr,
                        text: String::from_utf8_lossy(b).into_owned(),
                    })
                    .collect();
                print_chunks(io, &chunks, a.tty)?;
            }
            Ok(status)
        }
        Executed::Failed { status, message } => {
            writeln!(io.err, "{message}")?;
            Ok(status)
        }
        Executed::Shell(sh) => {
            enter_shell(s, *sh, io)?;
            Ok(0)
        }
    }
}

/// Opens a nested shell: later lines go to it (see [`shell_line`]).
pub fn enter_shell(s: &mut Session, sh: ShellSession, _io: &mut Io) -> anyhow::Result<()> {
    s.shell = Some(Box::new(sh));
    Ok(())
}

/// The prompt of the open nested shell, if any.
pub fn shell_prompt(s: &mut Session) -> Option<String> {
    s.shell.as_mut().map(|sh| sh.prompt())
}

/// Runs one line in the open nested shell; when it exits, the container's
/// changes are saved and (for `run -it`) the container exits.
pub fn shell_line(s: &mut Session, line: &str, io: &mut Io) -> i32 {
    let Some(mut sh) = s.shell.take() else {
        return 0;
    };
    let (flow, t) = sh.line(line);
    let chunks: Vec<LogChunk> = t
        .chunks
        .iter()
        .map(|(k, b)| LogChunk {
            stderr: *k == Stream::Stderr,
            text: String::from_utf8_lossy(b).into_owned(),
        })
        .collect();
    let _ = print_chunks(io, &chunks, sh.tty);
    let st = store(s);
    match flow {
        Flow::Continue(status) => {
            if let Err(e) = sh.save(&st) {
                let _ = writeln!(io.err, "error: {e}");
            }
            s.shell = Some(sh);
            status
        }
        Flow::Exit(status) => {
            if sh.tty {
                let _ = writeln!(io.out, "exit");
            }
            if let Err(e) = sh.finish(&st, status, &chunks) {
                let _ = writeln!(io.err, "error: {e}");
            }
            if sh.main
                && let Ok(c) = st.find(&sh.container)
                && c.host.auto_remove
            {
                let _ = st.remove(&c.id);
            }
            status
        }
    }
}
