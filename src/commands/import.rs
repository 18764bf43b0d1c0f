//! `docker import` / `docker image import`: a tarball (a file of the
//! workspace, or `-` for standard input; plain or compressed) as the one
//! layer of a new image, with `--change` and `-m`. The tar is checked as any
//! foreign layer is (entries inside the root, a readable tar) before
//! anything is stored. URLs need a network the lab does not have.

use crate::app::{Io, Session};
use crate::cli::ImportArgs;
use crate::reference::Reference;

/// The most an imported tarball may unpack to.
const LIMIT: u64 = 16 << 30;

pub fn run(s: &mut Session, a: ImportArgs, io: &mut Io) -> anyhow::Result<i32> {
    if a.args.is_empty() || a.args.len() > 2 {
        return super::requires(
            io,
            "docker import",
            "at least 1 and at most 2 arguments.",
            "docker import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
        );
    }
    let source = a.args[0].clone();
    let target = match a.args.get(1).map(|r| Reference::parse(r)) {
        None => None,
        Some(Ok(r)) => Some(r),
        Some(Err(e)) => {
            writeln!(io.err, "{e}")?;
            return Ok(1);
        }
    };
    if let Some(rest) = source
        .strip_prefix("http://")
        .or_else(|| source.strip_prefix("https://"))
    {
        let host = rest.split(['/', ':']).next().unwrap_or(rest);
        writeln!(
            io.err,
            "Error response from daemon: Get \"{source}\": dial tcp: lookup {host}: no such host"
        )?;
        return Ok(1);
    }
    let input: Box<dyn std::io::Read> = if source == "-" {
        Box::new(std::io::Cursor::new(s.read_stdin().unwrap_or_default()))
    } else {
        let path = super::files::confined(s, &source)?;
        match std::fs::File::open(&path) {
            Ok(f) => Box::new(f),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                writeln!(io.err, "open {source}: no such file or directory")?;
                return Ok(1);
            }
            Err(e) => return Err(anyhow::anyhow!("open {source}: {e}")),
        }
    };
    let engine = s.engine()?;
    let mut tar = match crate::archive::decompressed(input, LIMIT) {
        Ok(t) => t,
        Err(e) => {
            writeln!(io.err, "Error response from daemon: {e}")?;
            return Ok(1);
        }
    };
    let id =
        match crate::commit::import(&engine, &mut tar, &source, a.message.as_deref(), &a.changes) {
            Ok(id) => id,
            Err(e) => {
                writeln!(io.err, "Error response from daemon: {}", go_words(&e))?;
                return Ok(1);
            }
        };
    if let Some(r) = target {
        engine.tag(&id, &r)?;
    }
    writeln!(io.out, "{id}")?;
    Ok(0)
}

/// A tar the reader cannot parse is reported in Go's `archive/tar` words
/// (the daemon's), not the Rust reader's.
fn go_words(e: &crate::commit::CommitError) -> String {
    let text = e.to_string();
    if text.contains("failed to read entire block") || text.contains("unexpected end of file") {
        "unexpected EOF".into()
    } else if text.contains("not a layer tar") {
        "archive/tar: invalid tar header".into()
    } else {
        text
    }
}
