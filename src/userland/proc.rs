//! A simulated process: what a program is given (arguments, environment,
//! working directory, credentials, standard input, the two output streams)
//! and what it may touch (the [`Fs`] and the [`World`]). Programs are plain
//! functions of a [`Ctx`]; they return their exit status.
//!
//! Output goes to [`Out`] handles. A handle is a shared buffer, so a
//! redirection such as `2>&1` makes two descriptors the same handle, and
//! the console keeps what was written to stdout and stderr in the order it
//! was written. Every byte counts against the run's [`Budget`].

use super::fs::{Cred, Fs, join};
use super::os::Os;
use crate::catalog::Platform;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;

/// Which standard stream a console chunk came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// What a run printed, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Transcript {
    pub chunks: Vec<(Stream, Vec<u8>)>,
}

impl Transcript {
    /// Everything, both streams interleaved.
    pub fn text(&self) -> String {
        let mut v = Vec::new();
        for (_, c) in &self.chunks {
            v.extend_from_slice(c);
        }
        String::from_utf8_lossy(&v).into_owned()
    }

    /// One stream only.
    pub fn stream(&self, s: Stream) -> String {
        let mut v = Vec::new();
        for (k, c) in &self.chunks {
            if *k == s {
                v.extend_from_slice(c);
            }
        }
        String::from_utf8_lossy(&v).into_owned()
    }
}

/// Limits on one run (a `RUN` line, a container start, a REPL command in a
/// nested shell). Going past one stops the run with [`Limit`].
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Commands, loop iterations and function calls, all counted as steps.
    pub steps: u64,
    /// Bytes written to all outputs (files excluded: see `fs::MAX_FILE`).
    pub output: u64,
    /// Nesting of subshells, functions and scripts.
    pub depth: u32,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            steps: 1_000_000,
            output: 64 * 1024 * 1024,
            depth: 64,
        }
    }
}

/// Which limit a run hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    Steps(u64),
    Output(u64),
    Depth(u32),
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::Steps(n) => write!(
                f,
                "imagelab: this command ran more than {n} steps (commands and loop iterations) and was stopped"
            ),
            Limit::Output(n) => write!(
                f,
                "imagelab: this command printed more than {} and was stopped",
                crate::format::units::human_size(*n)
            ),
            Limit::Depth(n) => write!(
                f,
                "imagelab: this command nested more than {n} shells or functions and was stopped"
            ),
        }
    }
}

impl std::error::Error for Limit {}

/// What one run may still spend. Shared by every process of the run.
#[derive(Debug)]
pub struct Budget {
    pub limits: Limits,
    steps: u64,
    output: u64,
    /// Set once a limit is hit: every later check fails too, so the run
    /// unwinds.
    pub hit: Option<Limit>,
}

impl Budget {
    pub fn new(limits: Limits) -> Budget {
        Budget {
            limits,
            steps: 0,
            output: 0,
            hit: None,
        }
    }

    /// Counts one step (a command, a loop iteration).
    pub fn step(&mut self) -> Result<(), Limit> {
        if let Some(h) = self.hit {
            return Err(h);
        }
        self.steps += 1;
        if self.steps > self.limits.steps {
            let l = Limit::Steps(self.limits.steps);
            self.hit = Some(l);
            return Err(l);
        }
        Ok(())
    }

    fn output(&mut self, n: usize) -> Result<(), Limit> {
        if let Some(h) = self.hit {
            return Err(h);
        }
        self.output += n as u64;
        if self.output > self.limits.output {
            let l = Limit::Output(self.limits.output);
            self.hit = Some(l);
            return Err(l);
        }
        Ok(())
    }
}

/// Where a descriptor writes.
#[derive(Clone, Debug)]
pub enum Sink {
    /// The run's console (what `docker build` or `docker run` shows).
    Console(Rc<RefCell<Transcript>>, Stream),
    /// A buffer (a pipe, a command substitution, a file being redirected
    /// to: the shell writes it to the file when the command ends).
    Buffer(Rc<RefCell<Vec<u8>>>),
    /// `/dev/null`.
    Null,
}

/// An output descriptor: a sink and the budget its bytes count against.
#[derive(Clone, Debug)]
pub struct Out {
    pub sink: Sink,
    budget: Rc<RefCell<Budget>>,
}

impl Out {
    pub fn new(sink: Sink, budget: Rc<RefCell<Budget>>) -> Out {
        Out { sink, budget }
    }

    /// Writes bytes. Fails only when the run's output budget is spent.
    pub fn write(&self, b: &[u8]) -> Result<(), Limit> {
        if b.is_empty() {
            return Ok(());
        }
        match &self.sink {
            Sink::Null => Ok(()),
            Sink::Buffer(v) => {
                self.budget.borrow_mut().output(b.len())?;
                v.borrow_mut().extend_from_slice(b);
                Ok(())
            }
            Sink::Console(t, s) => {
                self.budget.borrow_mut().output(b.len())?;
                let mut t = t.borrow_mut();
                match t.chunks.last_mut() {
                    Some((k, c)) if k == s => c.extend_from_slice(b),
                    _ => t.chunks.push((*s, b.to_vec())),
                }
                Ok(())
            }
        }
    }

    pub fn write_str(&self, s: &str) -> Result<(), Limit> {
        self.write(s.as_bytes())
    }
}

/// The package universe, the clock and the platform: what is the same for
/// every process of a run and does not live in the file system.
#[derive(Clone, Debug)]
pub struct World {
    pub platform: Platform,
    /// Seconds since the epoch: what `date` says and the mtime of files.
    pub clock: u64,
    /// Whether the network is there (`RUN --network=none` takes it away).
    /// There is never a real network: "there" means the simulated package
    /// mirrors and registries answer.
    pub network: bool,
    pub limits: Limits,
    /// The CPU cannot run this platform's programs (another architecture
    /// and no emulator registered): every `execve` fails with ENOEXEC.
    pub foreign: bool,
}

impl World {
    pub fn new(platform: Platform, clock: u64) -> World {
        World {
            platform,
            clock,
            network: true,
            limits: Limits::default(),
            foreign: false,
        }
    }
}

/// Environment variables, in the order they were first set (as `env`
/// prints them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Env {
    vars: Vec<(String, String)>,
}

impl Env {
    /// From `KEY=value` strings (a config's `Env`).
    pub fn from_list<S: AsRef<str>>(list: &[S]) -> Env {
        let mut e = Env::default();
        for s in list {
            let s = s.as_ref();
            match s.split_once('=') {
                Some((k, v)) => e.set(k, v),
                None => e.set(s, ""),
            }
        }
        e
    }

    pub fn get(&self, k: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    }

    pub fn set(&mut self, k: &str, v: &str) {
        match self.vars.iter_mut().find(|(n, _)| n == k) {
            Some((_, old)) => *old = v.to_string(),
            None => self.vars.push((k.to_string(), v.to_string())),
        }
    }

    pub fn remove(&mut self, k: &str) {
        self.vars.retain(|(n, _)| n != k);
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// `KEY=value` strings, in order.
    pub fn to_list(&self) -> Vec<String> {
        self.vars.iter().map(|(k, v)| format!("{k}={v}")).collect()
    }

    /// A sorted copy, for programs that print the environment sorted.
    pub fn sorted(&self) -> BTreeMap<String, String> {
        self.vars.iter().cloned().collect()
    }
}

/// Who a process runs as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups.
    pub groups: Vec<u32>,
    /// The name from `/etc/passwd`, if it has one.
    pub name: Option<String>,
    pub home: String,
}

impl User {
    pub fn root() -> User {
        User {
            uid: 0,
            gid: 0,
            groups: vec![0],
            name: Some("root".into()),
            home: "/root".into(),
        }
    }

    pub fn cred(&self) -> Cred {
        Cred {
            uid: self.uid,
            gid: self.gid,
        }
    }
}

/// Everything a program is run with.
pub struct Ctx<'a> {
    pub fs: &'a mut Fs,
    pub world: &'a World,
    pub os: Os,
    pub env: Env,
    /// Absolute, cleaned.
    pub cwd: String,
    pub user: User,
    pub stdin: Vec<u8>,
    pub stdout: Out,
    pub stderr: Out,
    pub budget: Rc<RefCell<Budget>>,
    /// Nesting depth (shells, scripts, functions).
    pub depth: u32,
    /// `$0` of the shell that started this process (`/bin/sh`), for error
    /// prefixes such as `/bin/sh: 1: foo: not found`.
    pub argv0: String,
}

impl Ctx<'_> {
    /// An absolute path for `p` from the working directory.
    pub fn path(&self, p: &str) -> String {
        join(&self.cwd, p)
    }

    /// Writes to stdout; a spent output budget is reported by the caller's
    /// next step, so programs may ignore the result.
    pub fn out(&self, s: impl AsRef<str>) {
        let _ = self.stdout.write_str(s.as_ref());
    }

    /// Writes to stderr.
    pub fn err(&self, s: impl AsRef<str>) {
        let _ = self.stderr.write_str(s.as_ref());
    }

    /// Counts a step against the budget.
    pub fn step(&self) -> Result<(), Limit> {
        self.budget.borrow_mut().step()
    }

    /// A copy of this context for a child process (same fs and world; the
    /// caller then replaces what differs).
    pub fn child(&mut self) -> Ctx<'_> {
        Ctx {
            fs: self.fs,
            world: self.world,
            os: self.os.clone(),
            env: self.env.clone(),
            cwd: self.cwd.clone(),
            user: self.user.clone(),
            stdin: Vec::new(),
            stdout: self.stdout.clone(),
            stderr: self.stderr.clone(),
            budget: self.budget.clone(),
            depth: self.depth + 1,
            argv0: self.argv0.clone(),
        }
    }

    /// A buffer handle counted against this run's budget.
    pub fn buffer(&self) -> (Out, Rc<RefCell<Vec<u8>>>) {
        let b = Rc::new(RefCell::new(Vec::new()));
        (Out::new(Sink::Buffer(b.clone()), self.budget.clone()), b)
    }
}
