//! `docker save` / `docker image save`: images to a tar archive (docker's
//! `manifest.json` plus an OCI layout, see `archive`), streamed to `-o FILE`
//! (written beside it and renamed, as the CLI's `CopyToFile`) or to
//! standard output, which must not be a terminal.

use crate::app::{Io, Session};
use crate::cli::SaveArgs;

pub fn run(s: &mut Session, a: SaveArgs, io: &mut Io) -> anyhow::Result<i32> {
    if a.args.is_empty() {
        return super::requires(
            io,
            "docker save",
            "at least 1 argument.",
            "docker save [OPTIONS] IMAGE [IMAGE...]",
        );
    }
    if a.output.is_none() && io.tty {
        writeln!(
            io.err,
            "cowardly refusing to save to a terminal. Use the -o flag or redirect"
        )?;
        return Ok(1);
    }
    let target = match &a.output {
        None => None,
        Some(o) => {
            let path = super::files::confined(s, o)?;
            let dir = std::path::Path::new(o)
                .parent()
                .map(|d| d.to_string_lossy().to_string())
                .unwrap_or_default();
            if !dir.is_empty() && path.parent().is_none_or(|p| !p.is_dir()) {
                writeln!(
                    io.err,
                    "failed to save image: invalid output path: directory \"{dir}\" does not exist"
                )?;
                return Ok(1);
            }
            Some(path)
        }
    };
    let engine = s.engine()?;
    let images = match crate::archive::resolve_names(&engine, &a.args) {
        Ok(i) => i,
        Err(e) => {
            writeln!(io.err, "Error response from daemon: {e}")?;
            return Ok(1);
        }
    };
    let Some(path) = target else {
        return Ok(match crate::archive::save(&engine, &images, io.out) {
            Ok(_) => 0,
            Err(e) => {
                writeln!(io.err, "{e}")?;
                1
            }
        });
    };
    let dir = path.parent().expect("a file path has a parent");
    let tmp = tempfile::Builder::new()
        .prefix(".docker_temp_")
        .tempfile_in(dir)?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, tmp.as_file());
    if let Err(e) = crate::archive::save(&engine, &images, &mut w) {
        writeln!(io.err, "{e}")?;
        return Ok(1);
    }
    w.into_inner().map_err(|e| e.into_error())?;
    if let Err(e) = tmp.persist(&path) {
        writeln!(io.err, "failed to save image: {}", e.error)?;
        return Ok(1);
    }
    Ok(0)
}
