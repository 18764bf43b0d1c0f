//! `docker export` / `docker container export`: a container's file system
//! (image layers, docker's init layer, the writable layer; see
//! `archive::export_entries`) as one tar, to `-o FILE` (written beside it
//! and renamed) or to standard output, which must not be a terminal.

use super::container::{find, store};
use crate::app::{Io, Session};
use crate::cli::ExportArgs;

pub fn run(s: &mut Session, a: ExportArgs, io: &mut Io) -> anyhow::Result<i32> {
    if a.args.len() != 1 {
        return super::requires(
            io,
            "docker export",
            "exactly 1 argument.",
            "docker export [OPTIONS] CONTAINER",
        );
    }
    if a.output.is_none() && io.tty {
        writeln!(
            io.err,
            "cowardly refusing to save to a terminal. Use the -o flag or redirect"
        )?;
        return Ok(1);
    }
    let st = store(s);
    let Some(c) = find(&st, io, &a.args[0])? else {
        return Ok(1);
    };
    let engine = s.engine()?;
    let id = crate::digest::Digest::parse(&c.image_id)?;
    let img = engine.image(&id)?;
    let entries = crate::archive::export_entries(
        &engine,
        &crate::engine::diff_ids_of(&img.config),
        st.rw(&c.id)?,
    )?;
    match &a.output {
        None => {
            crate::layer::write_tar(&entries, &mut *io.out)?;
        }
        Some(o) => {
            let path = super::files::confined(s, o)?;
            let Some(dir) = path.parent().filter(|d| d.is_dir()) else {
                writeln!(
                    io.err,
                    "failed to export container: invalid output path: directory \"{}\" does not exist",
                    std::path::Path::new(o)
                        .parent()
                        .map(|d| d.display().to_string())
                        .unwrap_or_default()
                )?;
                return Ok(1);
            };
            let tmp = tempfile::Builder::new()
                .prefix(".docker_temp_")
                .tempfile_in(dir)?;
            let w = std::io::BufWriter::with_capacity(1 << 20, tmp.as_file());
            let (_, w) = crate::layer::write_tar(&entries, w)?;
            w.into_inner().map_err(|e| e.into_error())?;
            tmp.persist(&path).map_err(|e| e.error)?;
        }
    }
    Ok(0)
}
