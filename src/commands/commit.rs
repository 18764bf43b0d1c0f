//! `docker commit` / `docker container commit`: a new image from a
//! container's writable layer, its config as the container ran (so a
//! `docker run IMAGE sh -c '...'` commits that command as `Cmd`, the
//! classic surprise), `--change` instructions, `-m` and `-a`. Prints the
//! new image ID; names it when a repository is given.

use super::container::{find, store};
use crate::app::{Io, Session};
use crate::cli::CommitArgs;
use crate::reference::Reference;
use serde_json::json;

pub fn run(s: &mut Session, a: CommitArgs, io: &mut Io) -> anyhow::Result<i32> {
    if a.args.is_empty() || a.args.len() > 2 {
        return super::requires(
            io,
            "docker commit",
            "at least 1 and at most 2 arguments.",
            "docker commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
        );
    }
    let target = match a.args.get(1).map(|r| Reference::parse(r)) {
        None => None,
        Some(Ok(r)) => Some(r),
        Some(Err(e)) => {
            writeln!(io.err, "Error response from daemon: {e}")?;
            return Ok(1);
        }
    };
    let st = store(s);
    let Some(c) = find(&st, io, &a.args[0])? else {
        return Ok(1);
    };
    let engine = s.engine()?;
    let image = crate::digest::Digest::parse(&c.image_id)?;
    let img = engine.image(&image)?;
    let mut cfg = img.config["config"].clone();
    if !cfg.is_object() {
        cfg = json!({});
    }
    let or_null = |v: &Vec<String>| if v.is_empty() { json!(null) } else { json!(v) };
    cfg["Hostname"] = json!(c.config.hostname);
    cfg["User"] = json!(c.config.user);
    cfg["Env"] = json!(c.config.env);
    cfg["Cmd"] = or_null(&c.config.cmd);
    cfg["Entrypoint"] = or_null(&c.config.entrypoint);
    cfg["WorkingDir"] = json!(c.config.working_dir);
    cfg["Tty"] = json!(c.config.tty);
    cfg["OpenStdin"] = json!(c.config.open_stdin);
    let rw = st.rw(&c.id)?;
    let opts = crate::commit::CommitOptions {
        author: a.author.as_deref(),
        comment: a.message.as_deref(),
        changes: &a.changes,
        container_config: cfg,
        created_by: c.config.cmd.join(" "),
    };
    let id = match crate::commit::commit(&engine, &image, &rw, &opts) {
        Ok(id) => id,
        Err(e) => {
            writeln!(io.err, "Error response from daemon: {e}")?;
            return Ok(1);
        }
    };
    if let Some(r) = target {
        engine.tag(&id, &r)?;
    }
    writeln!(io.out, "{id}")?;
    Ok(0)
}
