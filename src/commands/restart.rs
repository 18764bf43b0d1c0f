//! `docker restart CONTAINER...`: stop (when running), then start again;
//! each name echoed.

use super::container::store;
use crate::app::{Io, Session};
use crate::cli::StopArgs;
use crate::container::runtime::{self, Started};

pub fn run(s: &mut Session, a: StopArgs, io: &mut Io) -> anyhow::Result<i32> {
    if a.args.is_empty() {
        return super::requires(
            io,
            "docker restart",
            "at least 1 argument",
            "docker restart [OPTIONS] CONTAINER [CONTAINER...]",
        );
    }
    let st = store(s);
    let engine = s.engine()?;
    let mut code = 0;
    for name in &a.args {
        let mut c = match st.find(name) {
            Ok(c) => c,
            Err(e) => {
                writeln!(io.err, "Error response from daemon: {e}")?;
                code = 1;
                continue;
            }
        };
        runtime::stop(&st, &mut c)?;
        match runtime::start(&engine, &st, &mut c, Vec::new(), false)? {
            Started::Failed { message, .. } => {
                writeln!(
                    io.err,
                    "Error response from daemon: Cannot restart container {name}: {message}"
                )?;
                code = 1;
            }
            _ => writeln!(io.out, "{name}")?,
        }
    }
    Ok(code)
}
