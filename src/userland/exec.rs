//! Starting a program, as `execve` and a shell's `PATH` search do it: find
//! the file, check it may be executed, read how it starts (`#!` script,
//! ELF for this machine or another, a dynamic loader that is or is not
//! there), then run the simulated program that file stands for.
//!
//! Which simulation a file stands for: busybox decides by the name it was
//! invoked as (a symlink or hard link to `/bin/busybox`), every other file
//! by its own name after symlinks (`python3` → `python3.12`). Base-image
//! binaries are filler bytes (or, read back from a stored layer, binary bytes
//! without an ELF header) and are taken to be native programs; a program
//! built inside the userland is a real ELF file whose note says what it does.

use super::elf;
use super::fs::{Errno, FileType};
use super::proc::Ctx;
use crate::layer::Content;

/// A simulated program: given its context and argv (argv[0] as invoked),
/// it returns its exit status.
pub type Program = fn(&mut Ctx, &[String]) -> i32;

/// The `PATH` a process gets when its environment has none (runc's default).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Why a program could not be started (`execve`'s errors).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExecError {
    /// No file by that name on `PATH` (a bare name).
    NotFound(String),
    /// The file (or its `#!` interpreter or ELF loader) does not exist.
    NoEnt(String),
    /// Not executable, or a directory.
    Access(String),
    /// Not a format the machine runs (`ENOEXEC`): an ELF for another
    /// machine, or a file with no `#!` line.
    Format(String),
    /// A file that exists and may run, but no simulation stands for it.
    Unsimulated(String),
}

impl ExecError {
    /// The exit status a shell gives: 127 for not found, 126 otherwise.
    pub fn status(&self) -> i32 {
        match self {
            ExecError::NotFound(_) | ExecError::NoEnt(_) => 127,
            _ => 126,
        }
    }
}

/// Every simulated program by name: the shell, the busybox/coreutils set,
/// the package managers, the language toolchains and the servers.
pub fn lookup(name: &str) -> Option<Program> {
    super::shell::lookup(name)
        .or_else(|| super::programs::lookup(name))
        .or_else(|| super::pkg::lookup(name))
        .or_else(|| super::lang::lookup(name))
}

/// Finds a command the way `execvp` does: a name with a `/` is a path from
/// the working directory; a bare name is searched in `PATH`, and the first
/// regular file with an execute bit wins. Returns the absolute path.
pub fn find(ctx: &Ctx, name: &str) -> Result<String, ExecError> {
    if name.is_empty() {
        return Err(ExecError::NotFound(name.to_string()));
    }
    if name.contains('/') {
        return Ok(ctx.path(name));
    }
    let path = ctx.env.get("PATH").unwrap_or(DEFAULT_PATH).to_string();
    for dir in path.split(':') {
        let dir = if dir.is_empty() { "." } else { dir };
        let cand = ctx.path(&format!("{dir}/{name}"));
        if let Ok(st) = ctx.fs.stat(&cand, true)
            && st.kind == FileType::File
            && st.mode & 0o111 != 0
        {
            return Ok(cand);
        }
    }
    Err(ExecError::NotFound(name.to_string()))
}

/// Which file a path stands for and the name its simulation goes by.
fn program_name(ctx: &Ctx, path: &str, argv0: &str) -> Result<String, ExecError> {
    let resolved = ctx
        .fs
        .resolve(path, true)
        .map_err(|_| ExecError::NoEnt(path.to_string()))?;
    let base = resolved.rsplit('/').next().unwrap_or("").to_string();
    let hard = match ctx.fs.entry(&resolved).map(|e| &e.kind) {
        Some(crate::layer::Kind::Hardlink(t)) => t.rsplit('/').next().map(String::from),
        _ => None,
    };
    if base == "busybox" || hard.as_deref() == Some("busybox") {
        let invoked = argv0.rsplit('/').next().unwrap_or(argv0);
        return Ok(if invoked.is_empty() {
            "busybox".into()
        } else {
            invoked.to_string()
        });
    }
    Ok(base)
}

/// How an executable file starts.
enum Start {
    /// A native program (filler bytes or an ELF for this machine).
    Native { note: Option<String> },
    /// `#!interp [arg]`.
    Script { interp: String, arg: Option<String> },
}

fn start_of(ctx: &Ctx, path: &str) -> Result<Start, ExecError> {
    let content = ctx.fs.content(path).map_err(|e| match e {
        Errno::IsDir | Errno::Access => ExecError::Access(path.to_string()),
        _ => ExecError::NoEnt(path.to_string()),
    })?;
    // The kernel finds no handler for another machine's programs (nor for a
    // script whose interpreter is one).
    if ctx.world.foreign {
        return Err(ExecError::Format(path.to_string()));
    }
    if let Content::Filler { .. } = content {
        return Ok(Start::Native { note: None });
    }
    let head: Vec<u8> = {
        let mut v = Vec::new();
        if content.len() <= 1 << 20 {
            v = content.to_vec().unwrap_or_default();
        } else {
            let _ = content.write_to(&mut LimitedWriter {
                buf: &mut v,
                left: 1 << 20,
            });
        }
        v
    };
    if head.starts_with(b"#!") {
        let line = head[2..].split(|c| *c == b'\n').next().unwrap_or(&[]);
        let line = String::from_utf8_lossy(line).trim().to_string();
        let (interp, arg) = match line.split_once([' ', '\t']) {
            Some((i, a)) => (i.to_string(), Some(a.trim().to_string())),
            None => (line, None),
        };
        return Ok(Start::Script { interp, arg });
    }
    if let Some(info) = elf::parse(&head) {
        if info.machine != elf::machine_of(&ctx.world.platform) {
            return Err(ExecError::Format(path.to_string()));
        }
        if let Some(i) = &info.interp
            && !ctx.fs.is_file(i)
        {
            return Err(ExecError::NoEnt(path.to_string()));
        }
        return Ok(Start::Native { note: info.note });
    }
    // A base-image binary read back from a stored layer is its filler bytes
    // (binary, with NULs): a native program. A text file without `#!` is
    // what the kernel refuses with ENOEXEC (a shell then runs it itself).
    let sample = &head[..head.len().min(1024)];
    if !sample.is_empty() && (sample.contains(&0) || std::str::from_utf8(sample).is_err()) {
        return Ok(Start::Native { note: None });
    }
    Err(ExecError::Format(path.to_string()))
}

struct LimitedWriter<'a> {
    buf: &'a mut Vec<u8>,
    left: usize,
}

impl std::io::Write for LimitedWriter<'_> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Err(std::io::Error::other("enough"));
        }
        let n = b.len().min(self.left);
        self.buf.extend_from_slice(&b[..n]);
        self.left -= n;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `execve(path, argv)`: checks the file and runs its simulation with the
/// context as given (the caller sets env, stdin and outputs). `path` is
/// absolute.
pub fn exec(ctx: &mut Ctx, path: &str, argv: &[String]) -> Result<i32, ExecError> {
    if ctx.depth > ctx.world.limits.depth {
        ctx.err(format!(
            "{}\n",
            super::proc::Limit::Depth(ctx.world.limits.depth)
        ));
        return Ok(126);
    }
    let st = ctx.fs.stat(path, true).map_err(|e| match e {
        Errno::NotDir | Errno::NoEnt | Errno::Loop => ExecError::NoEnt(path.to_string()),
        _ => ExecError::Access(path.to_string()),
    })?;
    if st.kind != FileType::File {
        return Err(ExecError::Access(path.to_string()));
    }
    let x_ok = if ctx.user.uid == 0 {
        st.mode & 0o111 != 0
    } else {
        ctx.fs.may(&st.path, ctx.user.cred(), 1).is_ok()
    };
    if !x_ok {
        return Err(ExecError::Access(path.to_string()));
    }
    match start_of(ctx, path)? {
        Start::Script { interp, arg } => {
            let mut args = vec![interp.clone()];
            args.extend(arg);
            args.push(path.to_string());
            args.extend(argv.iter().skip(1).cloned());
            let ipath = ctx.path(&interp);
            let mut child = ctx.child();
            match exec(&mut child, &ipath, &args) {
                // A missing interpreter is reported against the script.
                Err(ExecError::NoEnt(_)) => Err(ExecError::NoEnt(path.to_string())),
                r => r,
            }
        }
        Start::Native { note: Some(note) } => Ok(super::lang::run_built(ctx, &note, argv)),
        Start::Native { note: None } => {
            let argv0 = argv.first().map(String::as_str).unwrap_or(path);
            let name = program_name(ctx, path, argv0)?;
            match lookup(&name) {
                Some(p) => Ok(p(ctx, argv)),
                None => Err(ExecError::Unsimulated(path.to_string())),
            }
        }
    }
}

/// `execvp`: [`find`] then [`exec`].
pub fn exec_name(ctx: &mut Ctx, argv: &[String]) -> Result<i32, ExecError> {
    let name = argv.first().map(String::as_str).unwrap_or("");
    let path = find(ctx, name)?;
    exec(ctx, &path, argv)
}
