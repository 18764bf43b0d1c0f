//! Starting a container's process as runc would, over the simulated
//! userland: the image's merged layers plus the container's writable layer
//! as the file system, Entrypoint + Cmd, `WorkingDir` (created when
//! missing), `User` (resolved against the container's `/etc/passwd`) and
//! the environment docker gives (`PATH`, `HOSTNAME`, `TERM` with a tty, the
//! config's `Env`, `HOME`). Also `docker exec` and the interactive shell
//! (`docker run -it IMAGE sh`, `docker exec -it NAME sh`), which the REPL
//! drives one line at a time through [`ShellSession`].

use super::services::{self, Service};
use super::{Container, Containers, LogChunk, Status};
use crate::catalog::Platform;
use crate::engine::Engine;
use crate::userland::exec::ExecError;
use crate::userland::fs::{Cred, Fs};
use crate::userland::proc::{Budget, Ctx, Env, Out, Sink, Stream, Transcript, User, World};
use crate::userland::shell::{self, Flow};
use crate::userland::{self, Spec, StartError};
use std::cell::RefCell;
use std::rc::Rc;

/// Why a container's process could not start, or what it did.
#[derive(Debug)]
pub enum Started {
    /// The process ran to its end with this status.
    Exited(i32),
    /// A server: it keeps running.
    Serving,
    /// An interactive shell waits for lines.
    Shell(Box<ShellSession>),
    /// The daemon refused (the container stays `Created`): `docker run`'s
    /// exit status and the daemon's text.
    Failed { status: i32, message: String },
}

/// Errors of this module: the store's, or the engine's (a missing image).
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error(transparent)]
    Store(#[from] super::ContainerError),
    #[error(transparent)]
    Engine(#[from] crate::engine::EngineError),
}

pub type Result<T> = std::result::Result<T, RuntimeError>;

/// The lab clock in Unix seconds.
pub fn now() -> i64 {
    crate::home::now().timestamp()
}

/// The container's file system: its image's layers and its writable layer.
pub fn open_fs(engine: &Engine, store: &Containers, c: &Container) -> Result<Fs> {
    let id = crate::digest::Digest::parse(&c.image_id).map_err(|_| {
        super::ContainerError::NoSuch(format!("image {} of container {}", c.image_id, c.name))
    })?;
    let img = engine.image(&id)?;
    let diff_ids = crate::engine::diff_ids_of(&img.config);
    let root = engine.rootfs(&diff_ids)?;
    let mut fs = Fs::new(root.entries, now().max(0) as u64);
    for e in store.rw(&c.id)? {
        let p = format!("/{}", e.path);
        match e.kind {
            crate::layer::Kind::Whiteout => {
                let _ = fs.remove_all(&p);
            }
            crate::layer::Kind::Opaque => {
                for k in fs.read_dir(&p).unwrap_or_default() {
                    let _ = fs.remove_all(&format!("{p}/{k}"));
                }
            }
            _ => {
                let _ = fs.put(e);
            }
        }
    }
    volumes_of(store).mount(&mut fs, &c.host.mounts)?;
    super::binds::mount(&mut fs, &c.host.mounts)?;
    Ok(fs)
}

fn volumes_of(store: &Containers) -> super::volumes::Volumes {
    super::volumes::Volumes::open(store.home())
}

/// Saves what the container's processes changed: files under a volume's
/// mount go back to the volume, the rest to the writable layer.
pub fn save_fs(store: &Containers, id: &str, mounts: &[super::Mount], fs: &Fs) -> Result<()> {
    volumes_of(store).unmount(fs, mounts)?;
    super::binds::unmount(fs, mounts)?;
    let diff: Vec<crate::layer::Entry> = fs
        .diff()
        .into_iter()
        .filter(|e| !super::volumes::under_mount(&e.path, mounts))
        .collect();
    store.save_rw(id, &diff)?;
    Ok(())
}

/// The world the container runs in: its platform, and whether the host's
/// CPU can run that platform's programs at all (see [`crate::emulation`]).
pub fn world_of(home: &std::path::Path, c: &Container) -> World {
    let platform = Platform::parse(&c.platform).unwrap_or_else(crate::engine::host_platform);
    let mut w = World::new(platform, now().max(0) as u64);
    w.foreign = !crate::emulation::can_run(home, &w.platform);
    w
}

/// The process environment docker builds: `PATH` (runc's default unless
/// the config sets it), `HOSTNAME`, `TERM` with a tty, the config's `Env`,
/// then `HOME` from the user's passwd entry.
pub fn process_env(c: &Container, extra: &[String], tty: bool) -> Vec<String> {
    let mut env = Env::default();
    env.set("PATH", userland::exec::DEFAULT_PATH);
    env.set("HOSTNAME", &c.config.hostname);
    if tty {
        env.set("TERM", "xterm");
    }
    for e in c.config.env.iter().chain(extra) {
        match e.split_once('=') {
            Some((k, v)) => env.set(k, v),
            None => env.set(e, ""),
        }
    }
    env.to_list()
}

fn chunks_of(t: &Transcript) -> Vec<LogChunk> {
    t.chunks
        .iter()
        .map(|(s, b)| LogChunk {
            stderr: *s == Stream::Stderr,
            text: String::from_utf8_lossy(b).into_owned(),
        })
        .collect()
}

fn is_shell(argv: &[String]) -> bool {
    let b = argv
        .first()
        .map(|a| a.rsplit('/').next().unwrap_or(a))
        .unwrap_or("");
    matches!(b, "sh" | "ash" | "bash" | "dash") && !argv.iter().any(|a| a == "-c")
}

/// runc's create-time text for an exec failure, or `None` when the failure
/// happens after the process started (`exec format error`, a missing
/// interpreter or loader), which the process reports on stderr.
fn create_error(fs: &Fs, name: &str, e: &ExecError) -> Option<(i32, String)> {
    let prefix = "failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: ";
    match e {
        ExecError::NotFound(n) => Some((
            127,
            format!("{prefix}exec: \"{n}\": executable file not found in $PATH: unknown"),
        )),
        ExecError::NoEnt(p) if !fs.exists(p) && name.contains('/') => Some((
            127,
            format!("{prefix}exec: \"{name}\": stat {name}: no such file or directory: unknown"),
        )),
        ExecError::Access(_) => Some((
            126,
            format!("{prefix}exec: \"{name}\": permission denied: unknown"),
        )),
        _ => None,
    }
}

/// The text the runtime prints (to stderr) when `execve` fails after start.
fn runtime_error(e: &ExecError) -> String {
    match e {
        ExecError::NoEnt(p) => format!("exec {p}: no such file or directory\n"),
        ExecError::Format(p) => format!("exec {p}: exec format error\n"),
        ExecError::Access(p) => format!("exec {p}: permission denied\n"),
        ExecError::NotFound(n) => format!("exec {n}: no such file or directory\n"),
        ExecError::Unsimulated(p) => {
            format!("exec {p}: imagelab does not simulate this program\n")
        }
    }
}

/// docker-proxy's conflict: another running container publishes the port.
fn port_conflict(store: &Containers, c: &Container) -> Result<Option<String>> {
    let others = store.list()?;
    for b in &c.host.ports {
        for o in others.iter().filter(|o| o.id != c.id && o.running()) {
            if o.host
                .ports
                .iter()
                .any(|x| x.host_port == b.host_port && x.proto == b.proto)
            {
                let ip = if b.host_ip.is_empty() {
                    "0.0.0.0"
                } else {
                    &b.host_ip
                };
                let ep = crate::digest::Digest::of(format!("endpoint {}", c.id).as_bytes()).hex();
                return Ok(Some(format!(
                    "failed to set up container networking: driver failed programming external connectivity on endpoint {} ({ep}): Bind for {ip}:{} failed: port is already allocated",
                    c.name, b.host_port
                )));
            }
        }
    }
    Ok(None)
}

/// Starts the container's main process. The record is updated and saved
/// (state, logs, writable layer); `stdin` is the process's standard input;
/// `interactive` (`-i`) lets a shell wait for lines instead of reading EOF.
pub fn start(
    engine: &Engine,
    store: &Containers,
    c: &mut Container,
    stdin: Vec<u8>,
    interactive: bool,
) -> Result<Started> {
    let clock = now();
    if let Some(message) = port_conflict(store, c)? {
        return Ok(Started::Failed {
            status: 125,
            message,
        });
    }
    let mut fs = open_fs(engine, store, c)?;
    let world = world_of(&engine.home, c);
    let mut argv = c.config.entrypoint.clone();
    argv.extend(c.config.cmd.iter().cloned());
    if argv.is_empty() {
        return Ok(Started::Failed {
            status: 125,
            message: "no command specified".into(),
        });
    }
    let user = match userland::resolve_user(&fs, &c.config.user) {
        Ok(u) => u,
        Err(e) => {
            return Ok(Started::Failed {
                status: 125,
                message: e.to_string(),
            });
        }
    };
    let cwd = if c.config.working_dir.is_empty() {
        "/".to_string()
    } else {
        c.config.working_dir.clone()
    };
    if !fs.is_dir(&cwd) {
        let _ = fs.mkdir(&cwd, 0o755, Cred::ROOT, true);
    }
    let env = process_env(c, &[], c.config.tty);
    c.state.started_at = clock;
    c.state.pid = 1;
    c.state.error.clear();
    // Another machine's programs never start: no server, no shell, only the
    // `exec format error` of the first execve below.
    if !world.foreign
        && let Some(svc) = services::detect(&argv, &fs, &env, &cwd)
    {
        let mut logs = Vec::new();
        if svc == Service::Registry {
            match services::registry_auth_start(&mut fs, &env, clock, &c.id) {
                Ok(l) => logs = l,
                Err(panic) => {
                    // The registry panics while configuring: exit 2.
                    c.service = None;
                    c.state.status = Status::Exited;
                    c.state.exit_code = 2;
                    c.state.finished_at = clock;
                    c.state.pid = 0;
                    store.append_logs(
                        &c.id,
                        &[LogChunk {
                            stderr: true,
                            text: panic,
                        }],
                    )?;
                    save_fs(store, &c.id, &c.host.mounts, &fs)?;
                    store.save(c)?;
                    return Ok(Started::Exited(2));
                }
            }
        }
        logs.extend(services::start(&svc, &mut fs, clock, &c.id));
        c.service = Some(svc);
        c.state.status = Status::Running;
        c.state.exit_code = 0;
        store.append_logs(&c.id, &logs)?;
        save_fs(store, &c.id, &c.host.mounts, &fs)?;
        store.save(c)?;
        return Ok(Started::Serving);
    }
    c.service = None;
    // A program the toolchains know as a server: run it for its startup
    // output, then it stays up on its port.
    let probe = Spec {
        argv: argv.clone(),
        env: env.clone(),
        cwd: cwd.clone(),
        user: c.config.user.clone(),
        stdin: Vec::new(),
    };
    if !world.foreign
        && let Some(server) = userland::server_of(&mut fs, &world, &probe)
        && let Ok(o) = userland::run(&mut fs, &world, &probe)
        && o.status == 0
    {
        c.service = Some(Service::App {
            port: server.port,
            program: server.kind,
        });
        c.state.status = Status::Running;
        c.state.exit_code = 0;
        store.append_logs(&c.id, &chunks_of(&o.transcript))?;
        save_fs(store, &c.id, &c.host.mounts, &fs)?;
        store.save(c)?;
        return Ok(Started::Serving);
    }
    if interactive && is_shell(&argv) && !world.foreign {
        c.state.status = Status::Running;
        c.state.exit_code = 0;
        save_fs(store, &c.id, &c.host.mounts, &fs)?;
        store.save(c)?;
        let mut session =
            ShellSession::new(fs, world, env, cwd, user, c.id.clone(), c.config.tty, true);
        session.mounts = c.host.mounts.clone();
        return Ok(Started::Shell(Box::new(session)));
    }
    let spec = Spec {
        argv: argv.clone(),
        env: env.clone(),
        cwd,
        user: c.config.user.clone(),
        stdin,
    };
    // A privileged container sees (and may change) the kernel's emulators.
    let exposed = c
        .host
        .privileged
        .then(|| crate::emulation::expose(&engine.home, &mut fs));
    let (status, logs) = if argv == ["/hello"] && fs.is_file("/hello") && !world.foreign {
        (0, vec![hello()])
    } else {
        match userland::run(&mut fs, &world, &spec) {
            Ok(o) => (o.status, chunks_of(&o.transcript)),
            Err(StartError::Exec(f)) => {
                if let Some((status, message)) = create_error(&fs, &f.name, &f.error) {
                    c.state.status = Status::Created;
                    c.state.exit_code = status;
                    c.state.started_at = 0;
                    c.state.pid = 0;
                    c.state.error = message.clone();
                    store.save(c)?;
                    return Ok(Started::Failed { status, message });
                }
                (
                    255,
                    vec![LogChunk {
                        stderr: true,
                        text: runtime_error(&f.error),
                    }],
                )
            }
            Err(e) => {
                return Ok(Started::Failed {
                    status: 125,
                    message: e.to_string(),
                });
            }
        }
    };
    if let Some(exposed) = exposed {
        crate::emulation::absorb(&engine.home, &mut fs, exposed)
            .map_err(super::ContainerError::from)?;
    }
    c.state.status = Status::Exited;
    c.state.exit_code = status;
    c.state.finished_at = clock;
    c.state.pid = 0;
    store.append_logs(&c.id, &logs)?;
    save_fs(store, &c.id, &c.host.mounts, &fs)?;
    store.save(c)?;
    Ok(Started::Exited(status))
}

/// Stops a running container (`docker stop`): the main process ends as a
/// signalled server does (exit 0 for nginx's graceful SIGQUIT, 137 when a
/// shell ignores SIGTERM and is killed).
pub fn stop(store: &Containers, c: &mut Container) -> Result<()> {
    if !c.running() {
        return Ok(());
    }
    let clock = now();
    let code = match &c.service {
        Some(Service::Nginx { .. }) => {
            let t = chrono::DateTime::from_timestamp(clock, 0)
                .unwrap_or_default()
                .format("%Y/%m/%d %H:%M:%S")
                .to_string();
            let mut s = String::new();
            for line in [
                "signal 3 (SIGQUIT) received, shutting down",
                "signal 17 (SIGCHLD) received from 29",
                "worker process 29 exited with code 0",
                "signal 29 (SIGIO) received",
                "signal 17 (SIGCHLD) received from 30",
                "worker process 30 exited with code 0",
                "exit",
            ] {
                s += &format!("{t} [notice] 1#1: {line}\n");
            }
            store.append_logs(
                &c.id,
                &[LogChunk {
                    stderr: true,
                    text: s,
                }],
            )?;
            0
        }
        // Python and the registry die of SIGTERM.
        Some(_) => 143,
        // PID 1 ignores SIGTERM: killed after the grace period.
        None => 137,
    };
    c.state.status = Status::Exited;
    c.state.exit_code = code;
    c.state.finished_at = clock;
    c.state.pid = 0;
    store.save(c)?;
    Ok(())
}

/// What `docker exec` ran.
#[derive(Debug)]
pub enum Executed {
    Ran { status: i32, transcript: Transcript },
    Shell(Box<ShellSession>),
    Failed { status: i32, message: String },
}

/// Options of `docker exec`.
#[derive(Debug, Default, Clone)]
pub struct ExecOpts {
    pub user: Option<String>,
    pub workdir: Option<String>,
    pub env: Vec<String>,
    pub interactive: bool,
    pub tty: bool,
    pub stdin: Vec<u8>,
}

/// `docker exec CONTAINER CMD...` on a running container.
pub fn exec(
    engine: &Engine,
    store: &Containers,
    c: &Container,
    argv: &[String],
    o: &ExecOpts,
) -> Result<Executed> {
    let mut fs = open_fs(engine, store, c)?;
    let world = world_of(&engine.home, c);
    let user_spec = o.user.clone().unwrap_or_else(|| c.config.user.clone());
    let user = match userland::resolve_user(&fs, &user_spec) {
        Ok(u) => u,
        Err(e) => {
            return Ok(Executed::Failed {
                status: 126,
                message: format!(
                    "OCI runtime exec failed: exec failed: unable to start container process: {e}: unknown"
                ),
            });
        }
    };
    let cwd = o
        .workdir
        .clone()
        .filter(|w| !w.is_empty())
        .unwrap_or_else(|| {
            if c.config.working_dir.is_empty() {
                "/".into()
            } else {
                c.config.working_dir.clone()
            }
        });
    let env = process_env(c, &o.env, o.tty);
    if o.interactive && is_shell(argv) && !world.foreign {
        let mut s = ShellSession::new(fs, world, env, cwd, user, c.id.clone(), o.tty, false);
        s.mounts = c.host.mounts.clone();
        return Ok(Executed::Shell(Box::new(s)));
    }
    let spec = Spec {
        argv: argv.to_vec(),
        env,
        cwd,
        user: user_spec,
        stdin: o.stdin.clone(),
    };
    match userland::run(&mut fs, &world, &spec) {
        Ok(out) => {
            save_fs(store, &c.id, &c.host.mounts, &fs)?;
            Ok(Executed::Ran {
                status: out.status,
                transcript: out.transcript,
            })
        }
        Err(StartError::Exec(f)) => {
            let inner = match &f.error {
                ExecError::NotFound(n) => {
                    format!("exec: \"{n}\": executable file not found in $PATH")
                }
                ExecError::NoEnt(_) if !fs.exists(&f.name) && f.name.contains('/') => {
                    format!("exec: \"{0}\": stat {0}: no such file or directory", f.name)
                }
                ExecError::Access(_) => format!("exec: \"{}\": permission denied", f.name),
                e => runtime_error(e).trim_end().to_string(),
            };
            let status = if matches!(f.error, ExecError::NotFound(_) | ExecError::NoEnt(_)) {
                127
            } else {
                126
            };
            Ok(Executed::Failed {
                status,
                message: format!(
                    "OCI runtime exec failed: exec failed: unable to start container process: {inner}: unknown"
                ),
            })
        }
        Err(e) => Ok(Executed::Failed {
            status: 126,
            message: e.to_string(),
        }),
    }
}

/// An interactive shell inside a container, fed one line at a time.
pub struct ShellSession {
    fs: Fs,
    world: World,
    env: Env,
    pub cwd: String,
    user: User,
    session: Option<shell::Session>,
    /// The container it runs in.
    pub container: String,
    /// Whether a terminal is attached (`-t`): the prompt is shown.
    pub tty: bool,
    /// The container's main process (`run -it`) rather than an `exec`.
    pub main: bool,
    /// The container's volumes (written back as lines change them).
    pub mounts: Vec<super::Mount>,
}

impl ShellSession {
    #[allow(clippy::too_many_arguments)]
    fn new(
        fs: Fs,
        world: World,
        env: Vec<String>,
        cwd: String,
        user: User,
        container: String,
        tty: bool,
        main: bool,
    ) -> ShellSession {
        let mut env = Env::from_list(&env);
        if env.get("HOME").is_none() {
            env.set("HOME", &user.home);
        }
        let mut s = ShellSession {
            fs,
            world,
            env,
            cwd,
            user,
            session: None,
            container,
            tty,
            main,
            mounts: Vec::new(),
        };
        s.with_ctx(Vec::new(), |ctx, slot| {
            *slot = Some(shell::Session::new(ctx))
        });
        s
    }

    fn with_ctx<R>(
        &mut self,
        stdin: Vec<u8>,
        f: impl FnOnce(&mut Ctx, &mut Option<shell::Session>) -> R,
    ) -> (R, Transcript) {
        let budget = Rc::new(RefCell::new(Budget::new(self.world.limits)));
        let transcript = Rc::new(RefCell::new(Transcript::default()));
        let os = crate::userland::os::Os::detect(&self.fs);
        let mut session = self.session.take();
        let (r, cwd, env) = {
            let mut ctx = Ctx {
                fs: &mut self.fs,
                world: &self.world,
                os,
                env: self.env.clone(),
                cwd: self.cwd.clone(),
                user: self.user.clone(),
                stdin,
                stdout: Out::new(
                    Sink::Console(transcript.clone(), Stream::Stdout),
                    budget.clone(),
                ),
                stderr: Out::new(
                    Sink::Console(transcript.clone(), Stream::Stderr),
                    budget.clone(),
                ),
                budget: budget.clone(),
                depth: 0,
                argv0: "sh".into(),
            };
            let r = f(&mut ctx, &mut session);
            (r, ctx.cwd.clone(), ctx.env.clone())
        };
        self.session = session;
        self.cwd = cwd;
        self.env = env;
        if let Some(l) = budget.borrow().hit {
            transcript
                .borrow_mut()
                .chunks
                .push((Stream::Stderr, format!("{l}\n").into_bytes()));
        }
        let t = transcript.borrow().clone();
        (r, t)
    }

    /// The prompt (empty without a terminal, as a shell on a pipe).
    pub fn prompt(&mut self) -> String {
        if !self.tty {
            return String::new();
        }
        self.with_ctx(Vec::new(), |ctx, s| {
            s.as_ref().map(|s| s.prompt(ctx)).unwrap_or_default()
        })
        .0
    }

    /// Runs one line; returns how it ended and what it printed.
    pub fn line(&mut self, text: &str) -> (Flow, Transcript) {
        let text = text.to_string();
        self.with_ctx(Vec::new(), move |ctx, s| match s {
            Some(s) => s.line(ctx, &text),
            None => Flow::Exit(0),
        })
    }

    /// Saves the changes made so far into the container's writable layer.
    pub fn save(&self, store: &Containers) -> Result<()> {
        save_fs(store, &self.container, &self.mounts, &self.fs)
    }

    /// The shell ended with `status`: save its changes, and when it was the
    /// container's main process, the container exits.
    pub fn finish(&self, store: &Containers, status: i32, logs: &[LogChunk]) -> Result<()> {
        self.save(store)?;
        if self.main
            && let Ok(mut c) = store.find(&self.container)
        {
            store.append_logs(&c.id, logs)?;
            c.state.status = Status::Exited;
            c.state.exit_code = status;
            c.state.finished_at = now();
            c.state.pid = 0;
            store.save(&c)?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for ShellSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShellSession")
            .field("container", &self.container)
            .field("cwd", &self.cwd)
            .field("tty", &self.tty)
            .field("main", &self.main)
            .finish()
    }
}

/// What `/hello` of the `hello-world` image prints.
fn hello() -> LogChunk {
    LogChunk {
        stderr: false,
        text: "\nHello from Docker!\nThis message shows that your installation appears to be working correctly.\n\nTo generate this message, Docker took the following steps:\n 1. The Docker client contacted the Docker daemon.\n 2. The Docker daemon pulled the \"hello-world\" image from the Docker Hub.\n    (amd64)\n 3. The Docker daemon created a new container from that image which runs the\n    executable that produces the output you are currently reading.\n 4. The Docker daemon streamed that output to the Docker client, which sent it\n    to your terminal.\n\nTo try something more ambitious, you can run an Ubuntu container with:\n $ docker run -it ubuntu bash\n\nShare images, automate workflows, and more with a free Docker ID:\n https://hub.docker.com/\n\nFor more examples and ideas, visit:\n https://docs.docker.com/get-started/\n\n".into(),
    }
}
