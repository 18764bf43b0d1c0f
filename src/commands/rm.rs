//! `docker rm [-f] CONTAINER...`: removes stopped containers (running ones
//! only with `-f`), echoing each name.

use super::container::store;
use crate::app::{Io, Session};
use crate::cli::RmArgs;
use crate::container::ContainerError;

pub fn run(s: &mut Session, a: RmArgs, io: &mut Io) -> anyhow::Result<i32> {
    if a.args.is_empty() {
        return super::requires(
            io,
            "docker rm",
            "at least 1 argument",
            "docker rm [OPTIONS] CONTAINER [CONTAINER...]",
        );
    }
    let st = store(s);
    let mut code = 0;
    for name in &a.args {
        match st.find(name) {
            Ok(c) if c.running() && !a.force => {
                writeln!(
                    io.err,
                    "Error response from daemon: {}",
                    ContainerError::RemoveRunning(c.name.clone())
                )?;
                code = 1;
            }
            Ok(c) => {
                st.remove(&c.id)?;
                writeln!(io.out, "{name}")?;
            }
            Err(e) => {
                writeln!(io.err, "Error response from daemon: {e}")?;
                code = 1;
            }
        }
    }
    Ok(code)
}
