//! `docker load` / `docker image load`: an image archive from `-i FILE` or
//! standard input into the store (see `archive::load` for the formats and
//! the checks). Prints the daemon's lines: `Loaded image: name:tag` for
//! each tag, `Loaded image ID: sha256:…` when the last image had none, and
//! on a terminal without `-q` the final `Loading layer` progress line of
//! each layer stored.

use crate::app::{Io, Session};
use crate::cli::LoadArgs;
use std::io::{IsTerminal, Read};

/// Go's text for an `open` failure.
fn go_os_error(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::IsADirectory => "is a directory".into(),
        _ => e.to_string(),
    }
}

pub fn run(s: &mut Session, a: LoadArgs, io: &mut Io) -> anyhow::Result<i32> {
    if !a.args.is_empty() {
        return super::no_args(io, "docker load", "docker load [OPTIONS]");
    }
    let mut input: Box<dyn Read> = match &a.input {
        Some(f) => {
            let path = super::files::confined(s, f)?;
            match std::fs::File::open(&path) {
                Ok(file) if file.metadata().is_ok_and(|m| m.is_dir()) => {
                    writeln!(io.err, "read {f}: is a directory")?;
                    return Ok(1);
                }
                Ok(file) => Box::new(file),
                Err(e) => {
                    writeln!(io.err, "open {f}: {}", go_os_error(&e))?;
                    return Ok(1);
                }
            }
        }
        None => match s.stdin.take() {
            Some(bytes) => Box::new(std::io::Cursor::new(bytes)),
            None if s.interactive || std::io::stdin().is_terminal() => {
                writeln!(io.err, "requested load from stdin, but stdin is empty")?;
                return Ok(1);
            }
            None => Box::new(std::io::stdin()),
        },
    };
    let engine = s.engine()?;
    let loaded = match crate::archive::load(&engine, &mut input, &Default::default()) {
        Ok(l) => l,
        Err(e) => {
            writeln!(io.err, "{e}")?;
            return Ok(1);
        }
    };
    if io.tty && !a.quiet {
        for (d, size) in &loaded.layers {
            let n = crate::format::units::human_size(*size);
            writeln!(
                io.out,
                "{}: Loading layer [{}>]  {n:>7}/{n}",
                &d.hex()[..12],
                "=".repeat(50)
            )?;
        }
    }
    let mut ids = String::new();
    let mut last_refs = 0;
    for img in &loaded.images {
        ids.push_str(&format!("Loaded image ID: {}\n", img.id));
        last_refs = 0;
        for (tag, old) in &img.tags {
            if let Some(old) = old {
                writeln!(
                    io.out,
                    "The image {tag} already exists, renaming the old one with ID {old} to empty string"
                )?;
            }
            writeln!(io.out, "Loaded image: {tag}")?;
            last_refs += 1;
        }
    }
    if last_refs == 0 {
        write!(io.out, "{ids}")?;
    }
    Ok(0)
}
