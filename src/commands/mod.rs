//! One file per verb: each parses nothing (the grammar is `cli`), loads what
//! it needs, calls the engine and renders docker's (or imagelab's) text.

pub mod build;
pub mod builder;
pub mod buildx;
pub mod check;
pub mod commit;
pub mod container;
pub mod container_start;
pub mod cosign;
pub mod curl;
pub mod daemon;
pub mod diff;
pub mod exec;
pub mod exercises;
pub mod export;
pub mod files;
pub mod grade;
pub mod hint;
pub mod history;
pub mod images;
pub mod import;
pub mod inspect;
pub mod load;
pub mod login;
pub mod logs;
pub mod manifest;
pub mod progress;
pub mod prune;
pub mod ps;
pub mod pull;
pub mod push;
pub mod registry;
pub mod registry_gc;
pub mod restart;
pub mod rm;
pub mod rmi;
pub mod run;
pub mod save;
pub mod search;
pub mod start;
pub mod stop;
pub mod system;
pub mod tag;
pub mod top;
pub mod trust;
pub mod version;
pub mod volume;

use crate::app::{Io, Session};
use crate::cli::{BuilderCmd, Docker, DockerLine, ImageCmd, SystemCmd};
use std::path::Path;

/// Dispatches a `docker ...` line.
pub fn docker(s: &mut Session, d: DockerLine, io: &mut Io) -> anyhow::Result<i32> {
    if d.cmd.is_some() && !crate::network::daemon_running(&s.engine_home()) {
        writeln!(
            io.err,
            "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"
        )?;
        return Ok(1);
    }
    let Some(cmd) = d.cmd else {
        if d.version {
            writeln!(
                io.out,
                "Docker version {}, build {}",
                version::CLIENT_VERSION,
                version::CLIENT_COMMIT
            )?;
            return Ok(0);
        }
        write!(io.out, "{}", crate::cli::DOCKER_USAGE)?;
        return Ok(0);
    };
    match cmd {
        Docker::Build(a)
        | Docker::Image {
            cmd: Some(ImageCmd::Build(a)),
        } => build::run(s, a, io),
        Docker::Images(a)
        | Docker::Image {
            cmd: Some(ImageCmd::Ls(a)),
        } => images::run(s, a, io),
        Docker::Pull(a)
        | Docker::Image {
            cmd: Some(ImageCmd::Pull(a)),
        } => pull::run(s, a, io),
        Docker::Push(a)
        | Docker::Image {
            cmd: Some(ImageCmd::Push(a)),
        } => push::run(s, a, io),
        Docker::Login(a) => login::run(s, a, io),
        Docker::Logout(a) => login::logout(s, a, io),
        Docker::Search(a) => search::run(s, a, io),
        Docker::Tag(a)
        | Docker::Image {
            cmd: Some(ImageCmd::Tag(a)),
        } => tag::run(s, a, io),
        Docker::Rmi(a)
        | Docker::Image {
            cmd: Some(ImageCmd::Rm(a)),
        } => rmi::run(s, a, io),
        Docker::History(a)
        | Docker::Image {
            cmd: Some(ImageCmd::History(a)),
        } => history::run(s, a, io),
        Docker::Inspect(a) => inspect::run(s, a, io),
        Docker::Image {
            cmd: Some(ImageCmd::Inspect(a)),
        } => inspect::run_images(s, a, io),
        Docker::Save(a)
        | Docker::Image {
            cmd: Some(ImageCmd::Save(a)),
        } => save::run(s, a, io),
        Docker::Load(a)
        | Docker::Image {
            cmd: Some(ImageCmd::Load(a)),
        } => load::run(s, a, io),
        Docker::Version(a) => version::run(s, a, io),
        Docker::Builder {
            cmd: Some(BuilderCmd::Build(a)),
        } => build::run(s, a, io),
        Docker::Builder {
            cmd: Some(BuilderCmd::Prune(a)),
        } => builder::prune(s, a, io),
        Docker::Builder { cmd: None } => {
            write!(io.out, "{}", crate::cli::BUILDER_USAGE)?;
            Ok(0)
        }
        Docker::Run(a) => run::run(s, a, io),
        Docker::Ps(a) => ps::run(s, a, io),
        Docker::Logs(a) => logs::run(s, a, io),
        Docker::Stop(a) => stop::run(s, a, io),
        Docker::Start(a) => container_start::run(s, a, io),
        Docker::Restart(a) => restart::run(s, a, io),
        Docker::Rm(a) => rm::run(s, a, io),
        Docker::Exec(a) => exec::run(s, a, io),
        Docker::Top(a) => top::run(s, a, io),
        Docker::Diff(a) => diff::run(s, a, io),
        Docker::Export(a) => export::run(s, a, io),
        Docker::Commit(a) => commit::run(s, a, io),
        Docker::Import(a)
        | Docker::Image {
            cmd: Some(ImageCmd::Import(a)),
        } => import::run(s, a, io),
        Docker::Container { cmd } => container::run(s, cmd, io),
        Docker::Buildx { cmd } => buildx::run(s, cmd, io),
        Docker::Manifest { cmd } => manifest::run(s, cmd, io),
        Docker::Trust { cmd } => trust::run(s, cmd, io),
        Docker::Volume { cmd } => volume::run(s, cmd, io),
        Docker::Image {
            cmd: Some(ImageCmd::Prune(a)),
        } => prune::run(s, a, io),
        Docker::System { cmd: None } => {
            write!(io.out, "{}", crate::cli::SYSTEM_USAGE)?;
            Ok(0)
        }
        Docker::System {
            cmd: Some(SystemCmd::Df(a)),
        } => system::df(s, a, io),
        Docker::System {
            cmd: Some(SystemCmd::Prune(a)),
        } => system::prune(s, a, io),
        Docker::Image { cmd: None } => {
            write!(io.out, "{}", crate::cli::IMAGE_USAGE)?;
            Ok(0)
        }
    }
}

/// Parses a `--format` value, printing docker's template error when it is
/// invalid (the caller then exits 1).
pub fn template(io: &mut Io, format: &str) -> anyhow::Result<Option<crate::format::Template>> {
    match crate::format::Template::parse(format) {
        Ok(t) => Ok(Some(t)),
        Err(e) => {
            writeln!(io.err, "{e}")?;
            Ok(None)
        }
    }
}

/// Prints rows through a template as docker's formatter does; exit status.
pub fn print_rows(
    io: &mut Io,
    t: &crate::format::Template,
    headers: &[(&str, &str)],
    rows: &[serde_json::Value],
) -> anyhow::Result<i32> {
    match crate::format::render(t, headers, rows) {
        Ok(text) => {
            write!(io.out, "{text}")?;
            Ok(0)
        }
        Err(e) => {
            writeln!(io.err, "{e}")?;
            Ok(1)
        }
    }
}

/// docker/cli v28's `NoArgs` refusal (exit 1): `docker: 'docker ps'
/// accepts no arguments`, the usage line, `Run '... --help'`.
pub fn no_args(io: &mut Io, cmd: &str, usage: &str) -> anyhow::Result<i32> {
    writeln!(
        io.err,
        "docker: '{cmd}' accepts no arguments\n\nUsage:  {usage}\n\nRun '{cmd} --help' for more information"
    )?;
    Ok(1)
}

/// docker's message for a wrong number of arguments (exit 1).
pub fn requires(io: &mut Io, cmd: &str, what: &str, usage: &str) -> anyhow::Result<i32> {
    // docker/cli v28's `cli/required.go`: `requires 1 argument` (ExactArgs),
    // `requires at least 1 and at most 2 arguments` (RequiresRangeArgs), no
    // final period; only RequiresMinArgs says `See` instead of `Run`.
    let what = what.trim_end_matches('.');
    let what = what.strip_prefix("exactly ").unwrap_or(what);
    let verb = if what.starts_with("at least ") && !what.contains("at most") {
        "See"
    } else {
        "Run"
    };
    writeln!(
        io.err,
        "docker: '{cmd}' requires {what}\n\nUsage:  {usage}\n\n{verb} '{cmd} --help' for more information"
    )?;
    Ok(1)
}

/// `imagelab run FILE`: each line in order, echoed with a prompt; stops at
/// the end and returns the last line's status. While a nested container
/// shell is open (`docker run -it IMAGE sh`), lines go to it and are echoed
/// with its prompt; one still open at the end of the file reads EOF.
pub fn run_file(s: &mut Session, file: &Path, io: &mut Io) -> anyhow::Result<i32> {
    let path = s.path(&file.to_string_lossy());
    let text = std::fs::read_to_string(&path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let mut code = 0;
    for line in text.lines() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let prompt = exec::shell_prompt(s).unwrap_or_else(|| "$ ".into());
        writeln!(io.out, "{prompt}{line}")?;
        code = s.run_line(line, io);
    }
    if s.shell.is_some() {
        code = exec::shell_line(s, "exit", io);
    }
    Ok(code)
}
