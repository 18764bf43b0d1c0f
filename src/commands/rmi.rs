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
    let containers = super::container::store(s).list()?;
    for name in &a.args {
        // moby's image_delete: an image a container uses is kept.
        if !a.force
            && let Some(msg) = used_by_container(&engine, &containers, name)?
        {
            writeln!(io.err, "Error response from daemon: {msg}")?;
            code = 1;
            continue;
        }
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

/// moby's conflict texts when a container uses the image `name` names:
/// by reference (its last one), `unable to remove repository reference`;
/// by ID, `image is being used by running|stopped container`.
fn used_by_container(
    engine: &crate::engine::Engine,
    containers: &[crate::container::Container],
    name: &str,
) -> anyhow::Result<Option<String>> {
    let idx = engine.index()?;
    let Ok(id) = idx.resolve(name) else {
        return Ok(None);
    };
    let Some(c) = containers
        .iter()
        .rev()
        .find(|c| c.image_id == id.to_string())
    else {
        return Ok(None);
    };
    let hex = name.strip_prefix("sha256:").unwrap_or(name);
    let by_id = crate::reference::looks_like_id_prefix(name) && id.hex().starts_with(hex);
    if by_id {
        return Ok(Some(if c.running() {
            format!(
                "conflict: unable to delete {} (cannot be forced) - image is being used by running container {}",
                id.short(),
                c.short_id()
            )
        } else {
            format!(
                "conflict: unable to delete {} (must be forced) - image is being used by stopped container {}",
                id.short(),
                c.short_id()
            )
        }));
    }
    if idx.tags_of(&id).len() > 1 {
        return Ok(None);
    }
    Ok(Some(format!(
        "conflict: unable to remove repository reference \"{name}\" (must force) - container {} is using its referenced image {}",
        c.short_id(),
        id.short()
    )))
}
