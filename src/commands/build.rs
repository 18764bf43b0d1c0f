//! `docker build` (BuildKit): runs the builder and renders its progress as
//! BuildKit's plain or tty printer does, then the error excerpt when it fails.

use crate::app::{Io, Session};
use crate::builder::{self, BuildError, BuildOptions, Vertex};
use crate::cli::BuildArgs;
use crate::reference::Reference;

pub fn run(s: &mut Session, a: BuildArgs, io: &mut Io) -> anyhow::Result<i32> {
    if a.args.len() != 1 {
        writeln!(
            io.err,
            "ERROR: \"docker buildx build\" requires exactly 1 argument.\nSee 'docker buildx build --help'.\n\nUsage:  docker buildx build [OPTIONS] PATH | URL | -\n\nStart a build"
        )?;
        return Ok(1);
    }
    let mut tags = Vec::new();
    for t in &a.tags {
        match Reference::parse(t) {
            Ok(r) if r.digest().is_none() => tags.push(r),
            Ok(_) => {
                writeln!(
                    io.err,
                    "ERROR: invalid tag {t:?}: cannot tag with a digest reference"
                )?;
                return Ok(1);
            }
            Err(e) => {
                writeln!(io.err, "ERROR: invalid tag {t:?}: {e}")?;
                return Ok(1);
            }
        }
    }
    // The builder instance: `--builder`, else the current one (`docker
    // buildx use`), else `default` (the docker driver).
    let builders = crate::buildx::Builders::load(&s.engine_home())?;
    let inst = match &a.builder {
        Some(n) => match builders.get(n) {
            Some(i) => i,
            None => {
                writeln!(io.err, "ERROR: no builder {n:?} found")?;
                return Ok(1);
            }
        },
        None => builders.current(),
    };
    let platform_names: Vec<&str> = a
        .platform
        .iter()
        .flat_map(|p| p.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if platform_names.len() > 1 && inst.driver == crate::buildx::Driver::Docker {
        writeln!(
            io.err,
            "ERROR: Multi-platform build is not supported for the docker driver.\nSwitch to a different driver, or turn on the containerd image store, and try again.\nLearn more at https://docs.docker.com/go/build-multi-platform/"
        )?;
        return Ok(1);
    }
    // `DOCKER_BUILDKIT=0` (a line prefix, an `export`, or the environment)
    // selects the classic builder, as the docker CLI does.
    let legacy = match s.var("DOCKER_BUILDKIT").filter(|v| !v.is_empty()) {
        None => false,
        Some(v) => match go_parse_bool(&v) {
            Some(b) => !b,
            None => {
                writeln!(
                    io.err,
                    "DOCKER_BUILDKIT environment variable expects boolean value: strconv.ParseBool: parsing {v:?}: invalid syntax"
                )?;
                return Ok(1);
            }
        },
    };
    let mut platforms = Vec::new();
    for p in &platform_names {
        match builder::parse_platform(p) {
            Ok(p) => platforms.push(p),
            Err(e) => {
                writeln!(io.err, "ERROR: {e}")?;
                return Ok(1);
            }
        }
    }
    let platform = platforms.first().cloned();
    let output = match a.output.as_slice() {
        [] => None,
        [one] => {
            let refused = std::cell::RefCell::new(None);
            let base = |p: &str| match super::files::confined(s, p) {
                Ok(path) => path,
                Err(e) => {
                    *refused.borrow_mut() = Some(e.to_string());
                    s.path(p)
                }
            };
            let parsed = builder::output::parse(one, &base);
            if let Some(e) = refused.into_inner() {
                writeln!(io.err, "ERROR: {e}")?;
                return Ok(1);
            }
            match parsed {
                Ok(builder::output::Output::Tar(None)) if io.tty => {
                    writeln!(
                        io.err,
                        "ERROR: output file is required for tar exporter. refusing to write to console"
                    )?;
                    return Ok(1);
                }
                Ok(o) => Some(o),
                Err(e) => {
                    writeln!(io.err, "ERROR: {e}")?;
                    return Ok(1);
                }
            }
        }
        _ => {
            writeln!(io.err, "ERROR: imagelab exports one --output at a time")?;
            return Ok(1);
        }
    };
    let exports_files = !matches!(output, None | Some(builder::output::Output::Image));
    // `-` as the context: standard input is a tar of the context, or just
    // a Dockerfile (then there is no context). `-f -`: the Dockerfile.
    let mut context = s.path(&a.args[0]);
    let mut dockerfile = a.file.as_deref().map(|f| s.path(f));
    let mut dockerfile_text = None;
    let _stdin_context: Option<tempfile::TempDir>;
    if a.args[0] == "-" || a.file.as_deref() == Some("-") {
        let Some(data) = s.read_stdin() else {
            writeln!(
                io.err,
                "imagelab: this build reads standard input; give it a file: docker build - < Dockerfile"
            )?;
            return Ok(1);
        };
        if a.args[0] == "-" && a.file.as_deref() == Some("-") {
            writeln!(
                io.err,
                "ERROR: invalid argument: can't use stdin for both build context and dockerfile"
            )?;
            return Ok(1);
        }
        if a.args[0] == "-" {
            let dir = tempfile::tempdir()?;
            if builder::archive::detect(&data).is_some() {
                let entries =
                    match builder::archive::extract(&data, &builder::archive::Limits::default(), 0)
                    {
                        Ok(e) => e,
                        Err(e) => {
                            writeln!(io.err, "ERROR: failed to read the context from stdin: {e}")?;
                            return Ok(1);
                        }
                    };
                let mut fs = crate::engine::RootFs::default();
                fs.apply(entries);
                builder::output::write_local(&fs, dir.path())?;
                dockerfile = a.file.as_deref().map(|f| dir.path().join(f));
            } else {
                dockerfile_text = Some(String::from_utf8_lossy(&data).into_owned());
                dockerfile = None;
            }
            context = dir.path().to_path_buf();
            _stdin_context = Some(dir);
        } else {
            dockerfile_text = Some(String::from_utf8_lossy(&data).into_owned());
            dockerfile = None;
            _stdin_context = None;
        }
    } else {
        _stdin_context = None;
    }
    let mut secrets = std::collections::BTreeMap::new();
    for spec in &a.secret {
        match read_secret(s, spec) {
            Ok((id, bytes)) => {
                secrets.insert(id, bytes);
            }
            Err(e) => {
                writeln!(io.err, "ERROR: {e}")?;
                return Ok(1);
            }
        }
    }
    let opts = BuildOptions {
        emulates: inst.driver == crate::buildx::Driver::DockerContainer,
        secrets,
        dockerfile_text,
        output,
        platform,
        legacy,
        squash: a.squash && legacy,
        context,
        dockerfile,
        tags,
        build_args: a
            .build_args
            .iter()
            .map(|b| match b.split_once('=') {
                Some((k, v)) => (k.to_string(), Some(v.to_string())),
                None => (b.clone(), None),
            })
            .collect(),
        target: a.target.clone(),
        no_cache: a.no_cache,
        labels: a
            .labels
            .iter()
            .map(|l| match l.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (l.clone(), String::new()),
            })
            .collect(),
    };
    let engine = s.engine()?;
    if legacy {
        return legacy_run(s, &a, &engine, &opts, io);
    }
    if inst.driver == crate::buildx::Driver::DockerContainer {
        return super::buildx::container_build(s, &a, &engine, opts, platforms, &inst, io);
    }
    if a.squash {
        writeln!(
            io.err,
            "WARNING: experimental flag squash is removed with BuildKit. You should squash inside build using a multi-stage Dockerfile for efficiency."
        )?;
    }
    let started = std::time::Instant::now();
    let mut outcome = builder::build(&engine, &opts);
    // `--push` with the docker driver: the image exporter pushes each tag
    // (docker's schema 2 manifests, as the classic store writes them).
    let mut push_error = None;
    if a.push
        && let Ok(id) = &outcome.result
    {
        let home = s.engine_home();
        let mut logs = Vec::new();
        for r in &opts.tags {
            let r = r.clone().with_default_tag();
            logs.push("pushing layers".to_string());
            let pushed = crate::network::route(&home, r.domain())
                .map_err(|e| e.to_string())
                .and_then(|route| {
                    crate::distribution::push(
                        &engine,
                        route.registry.as_ref(),
                        &route.host,
                        r.path(),
                        r.tag().unwrap_or("latest"),
                        id,
                    )
                    .map_err(|e| super::push::registry_error(&e, &route.host))
                });
            match pushed {
                Ok(p) => logs.push(format!("pushing manifest for {r}@{}", p.digest)),
                Err(e) => {
                    push_error = Some(format!("failed to push {r}: {e}"));
                    break;
                }
            }
        }
        if let Some(v) = outcome.vertices.last_mut() {
            v.logs.extend(logs);
            v.error = push_error.is_some();
        }
    }
    let total = started.elapsed().as_secs_f64();
    show_progress(
        io,
        &a,
        &inst,
        &outcome.vertices,
        &outcome.warnings,
        total,
        outcome.result.as_ref().err(),
        push_error.as_deref(),
    )?;
    if let Some(e) = push_error {
        writeln!(io.err, "ERROR: failed to solve: {e}")?;
        return Ok(1);
    }
    let quiet = a.quiet || a.progress == "quiet";
    match &outcome.result {
        Ok(id) => {
            if let Some(t) = &outcome.tarball {
                io.out.write_all(t)?;
            } else if quiet && !exports_files {
                writeln!(io.out, "{id}")?;
            }
            write_iidfile(s, &a, id, io)
        }
        Err(e) => {
            if let Some((start, end)) = e.lines() {
                write!(
                    io.err,
                    "{}",
                    excerpt(
                        &outcome.dockerfile_name,
                        &outcome.dockerfile_text,
                        start,
                        end
                    )
                )?;
            }
            writeln!(io.err, "ERROR: {e}")?;
            Ok(1)
        }
    }
}

/// The classic builder's run: the deprecation banner, `Step N/M` lines on
/// stdout, errors as the daemon words them.
fn legacy_run(
    s: &Session,
    a: &BuildArgs,
    engine: &crate::engine::Engine,
    opts: &BuildOptions,
    io: &mut Io,
) -> anyhow::Result<i32> {
    writeln!(io.err, "{}", builder::legacy::BANNER)?;
    let outcome = builder::build(engine, opts);
    if !a.quiet {
        for l in &outcome.legacy_lines {
            writeln!(io.out, "{l}")?;
        }
    }
    match &outcome.result {
        Ok(id) => {
            if a.quiet {
                writeln!(io.out, "{id}")?;
            }
            write_iidfile(s, a, id, io)
        }
        Err(e) => {
            let msg = e.to_string();
            let msg = msg.strip_prefix("failed to solve: ").unwrap_or(&msg);
            match e {
                BuildError::NoDockerfile(_) => {
                    let path = opts
                        .dockerfile
                        .clone()
                        .unwrap_or_else(|| opts.context.join("Dockerfile"));
                    writeln!(
                        io.err,
                        "unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat {}: no such file or directory",
                        path.display()
                    )?;
                }
                BuildError::Parse { .. } => writeln!(io.err, "Error response from daemon: {msg}")?,
                // The daemon's words, and the command's status as the CLI's.
                BuildError::Process { command, code, .. } => {
                    writeln!(
                        io.err,
                        "The command '{command}' returned a non-zero code: {code}"
                    )?;
                    return Ok(*code);
                }
                _ => writeln!(io.err, "{msg}")?,
            }
            Ok(1)
        }
    }
}

/// `--secret id=ID[,src=FILE|,env=VAR][,type=file|env]`, as buildx reads it:
/// a file (confined to the workspace) or an environment variable of the
/// session. Returns the id and the bytes.
fn read_secret(s: &Session, spec: &str) -> Result<(String, Vec<u8>), String> {
    let mut id = None;
    let mut src = None;
    let mut env = None;
    let mut typ = None;
    for field in spec.split(',') {
        let (k, v) = field.split_once('=').ok_or_else(|| {
            format!("failed to parse secret: invalid field '{field}' must be a key=value pair")
        })?;
        match k.to_lowercase().as_str() {
            "id" => id = Some(v.to_string()),
            "src" | "source" => src = Some(v.to_string()),
            "env" => env = Some(v.to_string()),
            "type" => typ = Some(v.to_string()),
            other => {
                return Err(format!(
                    "failed to parse secret: unexpected key '{other}' in '{field}'"
                ));
            }
        }
    }
    let id = id
        .or_else(|| {
            src.as_ref()
                .map(|p| p.rsplit('/').next().unwrap_or(p).to_string())
        })
        .or_else(|| env.clone())
        .ok_or_else(|| "failed to parse secret: secret ID missing".to_string())?;
    if typ.as_deref() == Some("env") || (src.is_none() && typ.as_deref() != Some("file")) {
        let var = env.or(src).unwrap_or_else(|| id.clone());
        return s
            .var(&var)
            .map(|v| (id.clone(), v.into_bytes()))
            .ok_or_else(|| format!("secret {id}: environment variable {var} is not set"));
    }
    let file = src.unwrap_or_else(|| id.clone());
    let path = super::files::confined(s, &file).map_err(|e| e.to_string())?;
    let bytes = std::fs::read(&path)
        .map_err(|_| format!("failed to stat {file}: no such file or directory"))?;
    Ok((id, bytes))
}

/// `--iidfile FILE`: the image ID, without a newline, as docker writes it.
fn write_iidfile(
    s: &Session,
    a: &BuildArgs,
    id: &crate::digest::Digest,
    io: &mut Io,
) -> anyhow::Result<i32> {
    if let Some(f) = &a.iidfile {
        let path = match super::files::confined(s, f) {
            Ok(p) => p,
            Err(e) => {
                writeln!(io.err, "ERROR: failed to write image ID file: {e}")?;
                return Ok(1);
            }
        };
        if let Err(e) = std::fs::write(&path, id.to_string()) {
            writeln!(io.err, "ERROR: failed to write image ID file: {e}")?;
            return Ok(1);
        }
    }
    Ok(0)
}

/// Go's `strconv.ParseBool`.
fn go_parse_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

fn secs(v: f64) -> String {
    format!("{v:.1}s")
}

/// BuildKit's plain printer (`--progress=plain`, or no terminal).
/// The build's progress (plain or tty, per `--progress` and the terminal)
/// and buildx's summary of lint warnings; nothing when quiet. `err` is the
/// build's error, `other` an exporter's (a failed push).
#[allow(clippy::too_many_arguments)]
pub fn show_progress(
    io: &mut Io,
    a: &BuildArgs,
    inst: &crate::buildx::Instance,
    vertices: &[Vertex],
    warnings: &[String],
    total: f64,
    err: Option<&BuildError>,
    other: Option<&str>,
) -> std::io::Result<()> {
    let quiet = a.quiet || a.progress == "quiet";
    if quiet {
        return Ok(());
    }
    let tty = match a.progress.as_str() {
        "tty" => true,
        "plain" | "rawjson" => false,
        _ => io.tty,
    };
    let failed = err.is_some() || other.is_some();
    if tty {
        render_tty(io, vertices, total, !failed, inst)?;
        if let Some(v) = vertices.iter().find(|v| v.error) {
            write!(io.err, "{}", error_box(v))?;
        }
        if !warnings.is_empty() {
            writeln!(io.err)?;
        }
    } else {
        let msg = err.map(|e| e.to_string()).or(other.map(str::to_string));
        render_plain(io, vertices, msg.as_deref(), inst)?;
    }
    // buildx's summary of the Dockerfile's lint warnings.
    let n = warnings.len();
    if n > 0 {
        writeln!(
            io.err,
            " {n} warning{} found (use docker --debug to expand):",
            if n == 1 { "" } else { "s" }
        )?;
        for w in warnings {
            writeln!(io.err, " - {w}")?;
        }
    }
    Ok(())
}

fn render_plain(
    io: &mut Io,
    vertices: &[Vertex],
    err: Option<&str>,
    inst: &crate::buildx::Instance,
) -> std::io::Result<()> {
    writeln!(
        io.err,
        "#0 building with {:?} instance using {} driver\n",
        inst.name,
        inst.driver.as_str()
    )?;
    for (i, v) in vertices.iter().enumerate() {
        let n = i + 1;
        writeln!(io.err, "#{n} {}", v.name)?;
        if v.cached {
            writeln!(io.err, "#{n} CACHED\n")?;
            continue;
        }
        for l in &v.logs {
            writeln!(io.err, "#{n} {l} done")?;
        }
        for l in &v.output {
            writeln!(io.err, "#{n} {:.3} {}", l.at, l.text)?;
        }
        if v.error {
            let msg = err.unwrap_or_default();
            let msg = msg.strip_prefix("failed to solve: ").unwrap_or(msg);
            writeln!(io.err, "#{n} ERROR: {msg}")?;
            write!(io.err, "{}", error_box(v))?;
        } else {
            writeln!(io.err, "#{n} DONE {}\n", secs(v.seconds))?;
        }
    }
    Ok(())
}

/// The box BuildKit prints for a failed step: its name and the last ten
/// lines of its output, stamped.
fn error_box(v: &Vertex) -> String {
    let mut s = format!("------\n > {}:\n", v.name);
    let skip = v.output.len().saturating_sub(10);
    for l in &v.output[skip..] {
        s.push_str(&format!("{:.3} {}\n", l.at, l.text));
    }
    s.push_str("------\n");
    s
}

/// BuildKit's tty printer, final frame (80 columns).
fn render_tty(
    io: &mut Io,
    vertices: &[Vertex],
    total: f64,
    ok: bool,
    inst: &crate::buildx::Instance,
) -> std::io::Result<()> {
    const WIDTH: usize = 80;
    let done = vertices.iter().filter(|v| !v.error).count();
    let head = format!(
        "[+] Building {} ({done}/{}){}",
        secs(total),
        vertices.len(),
        if ok { " FINISHED" } else { "" }
    );
    let tail = format!("{}:{}", inst.driver.as_str(), inst.name);
    writeln!(
        io.err,
        "{head}{}{tail}",
        " ".repeat(WIDTH.saturating_sub(head.len() + tail.len()).max(1))
    )?;
    let line = |io: &mut Io, text: String, t: Option<f64>| -> std::io::Result<()> {
        let t = t.map(secs).unwrap_or_default();
        let room = WIDTH.saturating_sub(t.len() + 1);
        let text: String = if text.chars().count() > room {
            text.chars().take(room).collect()
        } else {
            text
        };
        let pad = WIDTH.saturating_sub(text.chars().count() + t.len());
        writeln!(io.err, "{text}{}{t}", " ".repeat(pad))
    };
    for v in vertices {
        let prefix = if v.error {
            " => ERROR "
        } else if v.cached {
            " => CACHED "
        } else {
            " => "
        };
        line(io, format!("{prefix}{}", v.name), Some(v.seconds))?;
        if !v.cached {
            for l in &v.logs {
                line(io, format!(" => => {l}"), Some(0.0))?;
            }
        }
    }
    Ok(())
}

/// The `Dockerfile:N` excerpt with the `>>>` marker, as buildx prints it.
pub fn excerpt(name: &str, text: &str, start: usize, end: usize) -> String {
    let lines: Vec<&str> = text.split('\n').collect();
    let n = if lines.last() == Some(&"") {
        lines.len() - 1
    } else {
        lines.len()
    };
    let (mut from, mut to) = (start.max(1), end.min(n.max(1)));
    let pad = if from == to { 4 } else { 2 };
    let mut p = 0;
    while p < pad {
        if from > 1 {
            from -= 1;
            p += 1;
        }
        if to < n {
            to += 1;
            p += 1;
        }
        p += 1;
    }
    let mut out = format!(
        "{name}:{}\n--------------------\n",
        if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        }
    );
    for i in from..=to {
        let marker = if i >= start && i <= end { ">>>" } else { "   " };
        out.push_str(&format!(
            " {i:>3} | {marker} {}\n",
            lines.get(i - 1).copied().unwrap_or("")
        ));
    }
    out.push_str("--------------------\n");
    out
}
