//! `docker rmi` / `docker image rm`: untag and delete, with docker's conflicts.

use crate::app::{Io, Session};
use crate::cli::RmiArgs;
use crate::engine::{EngineError, Removed};

pub fn run(s: &mut Session, a: RmiArgs, io: &mut Io) -> anyhow::Result<i32> {
    if a.args.is_empty() {
        return super::requires(
            io,
            "docker rmi",
            "at least 1 argument",
            "docker rmi [OPTIONS] IMAGE [IMAGE...]",
        );
    }
    let engine = s.engine()?;
    let mut code = 0;
    for name in &a.args {
        match engine.remove(name, a.force, !a.no_prune) {
            Ok(events) => {
                for e in events {
                    match e {
                        Removed::Untagged(r) => writeln!(io.out, "Untagged: {r}")?,
                        Removed::Deleted(d) => writeln!(io.out, "Deleted: {d}")?,
                    }
                }
            }
            Err(e) => {
                let msg = match &e {
                    EngineError::MultipleRepositories(_) | EngineError::HasChildren(_) => {
                        format!("{e}")
                    }
                    _ => format!("{e}"),
                };
                writeln!(io.err, "Error response from daemon: {msg}")?;
                code = 1;
            }
        }
    }
    Ok(code)
}
