//! The REPL's file builtins (`ls`, `cat`, `cd`, `pwd`, `mkdir`, `rm`, `cp`,
//! `mv`, `echo`, `edit`), confined to the workspace: no path may resolve
//! outside it, through `..` or through a symlink.

use crate::app::{Io, Session};
use crate::cli::Line;
use std::path::{Component, Path, PathBuf};

pub fn run(s: &mut Session, line: Line, io: &mut Io) -> anyhow::Result<i32> {
    match line {
        Line::Pwd => {
            writeln!(io.out, "{}", s.cwd.display())?;
            Ok(0)
        }
        Line::Cd { path } => {
            let target = match path {
                Some(p) => confined(s, &p)?,
                None => s.confine.clone().unwrap_or_else(|| s.cwd.clone()),
            };
            if !target.is_dir() {
                writeln!(
                    io.err,
                    "cd: {}: No such file or directory",
                    target.display()
                )?;
                return Ok(1);
            }
            s.cwd = target;
            Ok(0)
        }
        Line::Ls { paths } => {
            let paths = if paths.is_empty() {
                vec![".".to_string()]
            } else {
                paths
            };
            let mut code = 0;
            for p in &paths {
                let full = confined(s, p)?;
                if full.is_dir() {
                    let mut names: Vec<String> = std::fs::read_dir(&full)?
                        .filter_map(|e| e.ok())
                        .map(|e| {
                            let n = e.file_name().to_string_lossy().to_string();
                            if e.path().is_dir() {
                                format!("{n}/")
                            } else {
                                n
                            }
                        })
                        .filter(|n| !n.starts_with('.'))
                        .collect();
                    names.sort();
                    for n in names {
                        writeln!(io.out, "{n}")?;
                    }
                } else if full.exists() {
                    writeln!(io.out, "{p}")?;
                } else {
                    writeln!(io.err, "ls: {p}: No such file or directory")?;
                    code = 1;
                }
            }
            Ok(code)
        }
        Line::Cat { paths } => {
            let mut code = 0;
            for p in &paths {
                match std::fs::read(confined(s, p)?) {
                    Ok(b) => io.out.write_all(&b)?,
                    Err(_) => {
                        writeln!(io.err, "cat: {p}: No such file or directory")?;
                        code = 1;
                    }
                }
            }
            Ok(code)
        }
        Line::Mkdir { p, paths } => {
            for path in &paths {
                let full = confined(s, path)?;
                let r = if p {
                    std::fs::create_dir_all(&full)
                } else {
                    std::fs::create_dir(&full)
                };
                if let Err(e) = r {
                    writeln!(
                        io.err,
                        "mkdir: can't create directory '{path}': {}",
                        os_msg(&e)
                    )?;
                    return Ok(1);
                }
            }
            Ok(0)
        }
        Line::Rm { r, f, paths } => {
            let mut code = 0;
            for p in &paths {
                let full = confined(s, p)?;
                if Some(&full) == s.confine.as_ref() {
                    writeln!(io.err, "rm: refusing to remove the workspace itself")?;
                    code = 1;
                    continue;
                }
                let res = if full.is_dir() {
                    if r {
                        std::fs::remove_dir_all(&full)
                    } else {
                        Err(std::io::Error::other("Is a directory"))
                    }
                } else {
                    std::fs::remove_file(&full)
                };
                if let Err(e) = res
                    && !(f && e.kind() == std::io::ErrorKind::NotFound)
                {
                    writeln!(io.err, "rm: can't remove '{p}': {}", os_msg(&e))?;
                    code = 1;
                }
            }
            Ok(code)
        }
        Line::Cp { r, from, to } => {
            let (src, mut dst) = (confined(s, &from)?, confined(s, &to)?);
            if dst.is_dir()
                && let Some(n) = src.file_name()
            {
                dst = dst.join(n);
            }
            if src.is_dir() {
                if !r {
                    writeln!(io.err, "cp: omitting directory '{from}'")?;
                    return Ok(1);
                }
                copy_dir(&src, &dst)?;
            } else if let Err(e) = std::fs::copy(&src, &dst) {
                writeln!(io.err, "cp: can't stat '{from}': {}", os_msg(&e))?;
                return Ok(1);
            }
            Ok(0)
        }
        Line::Mv { from, to } => {
            let (src, mut dst) = (confined(s, &from)?, confined(s, &to)?);
            if dst.is_dir()
                && let Some(n) = src.file_name()
            {
                dst = dst.join(n);
            }
            if let Err(e) = std::fs::rename(&src, &dst) {
                writeln!(io.err, "mv: can't rename '{from}': {}", os_msg(&e))?;
                return Ok(1);
            }
            Ok(0)
        }
        Line::Echo { words } => {
            let (newline, words) = match words.first().map(String::as_str) {
                Some("-n") => (false, &words[1..]),
                _ => (true, &words[..]),
            };
            write!(
                io.out,
                "{}{}",
                words.join(" "),
                if newline { "\n" } else { "" }
            )?;
            Ok(0)
        }
        Line::Edit { path } => {
            let full = confined(s, &path)?;
            let editor = std::env::var("VISUAL")
                .or_else(|_| std::env::var("EDITOR"))
                .unwrap_or_else(|_| "vi".into());
            let mut parts = editor.split_whitespace();
            let prog = parts.next().unwrap_or("vi");
            // The learner's own editor, on a workspace file: the one host
            // program imagelab starts, and only when asked to.
            match std::process::Command::new(prog)
                .args(parts)
                .arg(&full)
                .status()
            {
                Ok(st) => Ok(st.code().unwrap_or(1)),
                Err(e) => {
                    writeln!(io.err, "edit: cannot start {prog:?}: {e}")?;
                    writeln!(
                        io.err,
                        "hint: set $EDITOR, or edit {} from another terminal",
                        full.display()
                    )?;
                    Ok(1)
                }
            }
        }
        _ => unreachable!("not a file builtin"),
    }
}

fn os_msg(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "No such file or directory".into(),
        std::io::ErrorKind::AlreadyExists => "File exists".into(),
        std::io::ErrorKind::PermissionDenied => "Permission denied".into(),
        _ => e.to_string(),
    }
}

fn copy_dir(src: &Path, dst: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dst)?;
    for e in std::fs::read_dir(src)? {
        let e = e?;
        let t = dst.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &t)?;
        } else if e.file_type()?.is_file() {
            std::fs::copy(e.path(), t)?;
        }
    }
    Ok(())
}

/// Resolves `p` against the session's directory, refusing anything that
/// leaves the workspace (when the session is confined).
pub fn confined(s: &Session, p: &str) -> anyhow::Result<PathBuf> {
    // The daemon's configuration file is the one path outside the
    // workspace a learner edits.
    if p == "/etc/docker/daemon.json" {
        let f = crate::network::daemon_json(&s.engine_home());
        if let Some(dir) = f.parent() {
            std::fs::create_dir_all(dir)?;
        }
        return Ok(f);
    }
    let joined = s.path(p);
    let Some(root) = &s.confine else {
        return Ok(joined);
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            c => out.push(c),
        }
    }
    // Resolve symlinks of the part that exists.
    let mut existing = out.clone();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (
            existing.file_name().map(|n| n.to_os_string()),
            existing.parent(),
        ) {
            (Some(n), Some(parent)) => {
                rest.push(n);
                existing = parent.to_path_buf();
            }
            _ => break,
        }
    }
    let mut real = existing.canonicalize().unwrap_or(existing);
    for n in rest.into_iter().rev() {
        real.push(n);
    }
    let root_real = root.canonicalize().unwrap_or_else(|_| root.clone());
    if !real.starts_with(&root_real) {
        anyhow::bail!("{p}: outside the workspace ({})", root.display());
    }
    Ok(real)
}
