//! The simulated Linux that `RUN` lines and containers run in. It sees a
//! file system view ([`fs::Fs`], an image's merged layers plus the changes
//! made), an environment and the [`proc::World`] (platform, clock, whether
//! the simulated network answers), and nothing else: it never touches the
//! host's files, processes or network.
//!
//! A process is a [`proc::Ctx`] given to a simulated program
//! ([`exec::Program`]). [`exec`] finds and starts programs as `execve`
//! does; [`shell`] is `/bin/sh` (busybox `ash` or `dash` by the image's
//! [`os::Os`]); [`programs`] are the busybox and coreutils programs;
//! [`pkg`] the package managers over the fixture package universe; [`lang`]
//! the language toolchains and the programs they build. [`run`] is the
//! entry point for the builder and for containers.

pub mod elf;
pub mod exec;
pub mod fs;
pub mod lang;
pub mod net;
pub mod os;
pub mod pkg;
pub mod proc;
pub mod programs;
pub mod shell;
#[cfg(test)]
pub mod testing;

use exec::ExecError;
use fs::Fs;
use proc::{Budget, Ctx, Env, Limit, Out, Sink, Transcript, User, World};
use std::cell::RefCell;
use std::rc::Rc;

/// What to run: argv (already a shell command line for shell forms), with
/// its environment, working directory and `USER` spec.
#[derive(Clone, Debug, Default)]
pub struct Spec {
    pub argv: Vec<String>,
    /// `KEY=value` strings.
    pub env: Vec<String>,
    /// Absolute; empty means `/`.
    pub cwd: String,
    /// A `USER` value: `name`, `uid`, `name:group`, `uid:gid`; empty = root.
    pub user: String,
    pub stdin: Vec<u8>,
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub status: i32,
    pub transcript: Transcript,
    /// Set when the run was stopped by a limit (its text is also the last
    /// thing on stderr).
    pub limit: Option<Limit>,
}

/// Why a process could not be started at all (runc's errors, before the
/// program runs).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StartError {
    #[error("unable to find user {0}: no matching entries in passwd file")]
    NoUser(String),
    #[error("unable to find group {0}: no matching entries in group file")]
    NoGroup(String),
    #[error("{0}")]
    Exec(ExecFailure),
}

/// An `execve` failure with the argv[0] it was for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecFailure {
    pub name: String,
    pub error: ExecError,
}

impl std::fmt::Display for ExecFailure {
    /// runc's wording.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.error {
            ExecError::NotFound(n) => {
                write!(f, "exec: \"{n}\": executable file not found in $PATH")
            }
            ExecError::NoEnt(p) => write!(f, "exec {p}: no such file or directory"),
            ExecError::Access(p) => write!(f, "exec {p}: permission denied"),
            ExecError::Format(p) => write!(f, "exec {p}: exec format error"),
            ExecError::Unsimulated(p) => {
                write!(f, "exec {p}: imagelab does not simulate this program")
            }
        }
    }
}

/// Resolves a `USER` spec against `/etc/passwd` and `/etc/group` the way
/// runc does: names must exist; a numeric uid need not (its group is then
/// 0 and its home `/`).
pub fn resolve_user(fs: &Fs, spec: &str) -> Result<User, StartError> {
    if spec.is_empty() {
        return Ok(User::root());
    }
    let passwd = fs.read_string("/etc/passwd").unwrap_or_default();
    let group = fs.read_string("/etc/group").unwrap_or_default();
    let (u, g) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let rows: Vec<Vec<&str>> = passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .filter(|f| f.len() >= 4)
        .collect();
    let by_name = rows.iter().find(|f| f[0] == u);
    let numeric = u.parse::<u32>().ok();
    let row = match (by_name, numeric) {
        (Some(r), _) => Some(r),
        (None, Some(n)) => rows.iter().find(|f| f[2].parse::<u32>().ok() == Some(n)),
        (None, None) => return Err(StartError::NoUser(u.to_string())),
    };
    let uid = numeric
        .or_else(|| row.and_then(|r| r[2].parse().ok()))
        .unwrap_or(0);
    let mut gid = row.and_then(|r| r[3].parse().ok()).unwrap_or(0);
    let name = row.map(|r| r[0].to_string());
    let home = row
        .and_then(|r| r.get(5).map(|h| h.to_string()))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "/".into());
    let groups_rows: Vec<Vec<&str>> = group
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .filter(|f| f.len() >= 3)
        .collect();
    if let Some(g) = g {
        gid = match g.parse::<u32>() {
            Ok(n) => n,
            Err(_) => groups_rows
                .iter()
                .find(|f| f[0] == g)
                .and_then(|f| f[2].parse().ok())
                .ok_or_else(|| StartError::NoGroup(g.to_string()))?,
        };
    }
    let mut groups = vec![gid];
    if let Some(n) = &name {
        for f in &groups_rows {
            if f.get(3).is_some_and(|m| m.split(',').any(|x| x == n))
                && let Ok(id) = f[2].parse::<u32>()
                && !groups.contains(&id)
            {
                groups.push(id);
            }
        }
    }
    Ok(User {
        uid,
        gid,
        groups,
        name,
        home,
    })
}

/// Whether `spec` starts a long-running server (see [`lang::server_of`]):
/// the port it listens on and what it is. Runs nothing.
pub fn server_of(fs: &mut Fs, world: &World, spec: &Spec) -> Option<lang::Server> {
    let user = resolve_user(fs, &spec.user).ok()?;
    let mut env = Env::from_list(&spec.env);
    if env.get("PATH").is_none() {
        env.set("PATH", exec::DEFAULT_PATH);
    }
    let budget = Rc::new(RefCell::new(Budget::new(world.limits)));
    let os = os::Os::detect(fs);
    let cwd = fs::join("/", if spec.cwd.is_empty() { "/" } else { &spec.cwd });
    let ctx = Ctx {
        fs,
        world,
        os,
        env,
        cwd,
        user,
        stdin: Vec::new(),
        stdout: Out::new(Sink::Null, budget.clone()),
        stderr: Out::new(Sink::Null, budget.clone()),
        budget,
        depth: 0,
        argv0: spec.argv.first().cloned().unwrap_or_default(),
    };
    lang::server_of(&ctx, &spec.argv)
}

/// Runs one process to completion on `fs`: a `RUN` line or a container's
/// main process. `HOME` is set from the user's entry when the environment
/// has none, and `PATH` to runc's default.
pub fn run(fs: &mut Fs, world: &World, spec: &Spec) -> Result<Outcome, StartError> {
    let user = resolve_user(fs, &spec.user)?;
    let mut env = Env::from_list(&spec.env);
    if env.get("PATH").is_none() {
        env.set("PATH", exec::DEFAULT_PATH);
    }
    if env.get("HOME").is_none() {
        env.set("HOME", &user.home);
    }
    let budget = Rc::new(RefCell::new(Budget::new(world.limits)));
    let transcript = Rc::new(RefCell::new(Transcript::default()));
    let os = os::Os::detect(fs);
    let cwd = if spec.cwd.is_empty() {
        "/".to_string()
    } else {
        fs::join("/", &spec.cwd)
    };
    let argv0 = spec.argv.first().cloned().unwrap_or_default();
    let mut ctx = Ctx {
        fs,
        world,
        os,
        env,
        cwd,
        user,
        stdin: spec.stdin.clone(),
        stdout: Out::new(
            Sink::Console(transcript.clone(), proc::Stream::Stdout),
            budget.clone(),
        ),
        stderr: Out::new(
            Sink::Console(transcript.clone(), proc::Stream::Stderr),
            budget.clone(),
        ),
        budget: budget.clone(),
        depth: 0,
        argv0,
    };
    let status = exec::exec_name(&mut ctx, &spec.argv).map_err(|error| {
        StartError::Exec(ExecFailure {
            name: spec.argv.first().cloned().unwrap_or_default(),
            error,
        })
    })?;
    drop(ctx);
    let limit = budget.borrow().hit;
    if let Some(l) = limit {
        let mut t = transcript.borrow_mut();
        t.chunks
            .push((proc::Stream::Stderr, format!("{l}\n").into_bytes()));
    }
    let transcript = transcript.borrow().clone();
    Ok(Outcome {
        status: if limit.is_some() && status == 0 {
            1
        } else {
            status
        },
        transcript,
        limit,
    })
}

#[cfg(test)]
mod tests;
