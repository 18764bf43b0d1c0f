//! `docker diff CONTAINER`: the container's writable layer as docker lists
//! it: `A` added, `C` changed, `D` deleted, one path per line in path order.

use super::container::{find, store};
use crate::app::{Io, Session};
use crate::cli::Positional;
use crate::layer::Kind;

pub fn run(s: &mut Session, a: Positional, io: &mut Io) -> anyhow::Result<i32> {
    if a.args.len() != 1 {
        return super::requires(
            io,
            "docker diff",
            "exactly 1 argument.",
            "docker diff CONTAINER",
        );
    }
    let st = store(s);
    let Some(c) = find(&st, io, &a.args[0])? else {
        return Ok(1);
    };
    let engine = s.engine()?;
    let id = crate::digest::Digest::parse(&c.image_id)?;
    let img = engine.image(&id)?;
    let root = engine.rootfs(&crate::engine::diff_ids_of(&img.config))?;
    for e in st.rw(&c.id)? {
        let mark = match e.kind {
            Kind::Whiteout => 'D',
            _ if root.entries.contains_key(&e.path) => 'C',
            _ => 'A',
        };
        writeln!(io.out, "{mark} /{}", e.path)?;
    }
    Ok(0)
}
