//! `docker stop CONTAINER...`: each running container's main process ends
//! (nginx shuts down gracefully, other processes are killed); each name is
//! echoed as docker does. `--rm` containers are removed once stopped.

use super::container::store;
use crate::app::{Io, Session};
use crate::cli::StopArgs;
use crate::container::runtime;

pub fn run(s: &mut Session, a: StopArgs, io: &mut Io) -> anyhow::Result<i32> {
    if a.args.is_empty() {
        return super::requires(
            io,
            "docker stop",
            "at least 1 argument",
            "docker stop [OPTIONS] CONTAINER [CONTAINER...]",
        );
    }
    let st = store(s);
    let mut code = 0;
    for name in &a.args {
        match st.find(name) {
            Ok(mut c) => {
                runtime::stop(&st, &mut c)?;
                if c.host.auto_remove {
                    st.remove(&c.id)?;
                }
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
