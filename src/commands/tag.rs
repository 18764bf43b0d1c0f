//! `docker tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]`.

use crate::app::{Io, Session};
use crate::cli::Positional;
use crate::reference::Reference;

pub fn run(s: &mut Session, a: Positional, io: &mut Io) -> anyhow::Result<i32> {
    if a.args.len() != 2 {
        return super::requires(
            io,
            "docker tag",
            "2 arguments",
            "docker tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
        );
    }
    let (src, dst) = (&a.args[0], &a.args[1]);
    let target = match Reference::parse(dst) {
        Ok(r) => r,
        Err(e) => {
            writeln!(
                io.err,
                "Error parsing reference: {dst:?} is not a valid repository/tag: {e}"
            )?;
            return Ok(1);
        }
    };
    if target.digest().is_some() {
        writeln!(
            io.err,
            "Error response from daemon: refusing to create a tag with a digest reference"
        )?;
        return Ok(1);
    }
    let engine = s.engine()?;
    let id = match engine.index()?.resolve(src) {
        Ok(id) => id,
        Err(e) => {
            writeln!(io.err, "Error response from daemon: {e}")?;
            return Ok(1);
        }
    };
    engine.tag(&id, &target)?;
    Ok(0)
}
