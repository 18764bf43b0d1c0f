//! The image builder: turns a parsed Dockerfile and a build context into an
//! image in the store, the way BuildKit (Docker Engine 28) does — stage by
//! stage, one layer per filesystem-changing step, history entries and config
//! exactly as BuildKit writes them, and a cache so an unchanged step is
//! `CACHED`.
//!
//! Reproducibility: every timestamp (config `created`, history, file mtimes)
//! comes from the build clock, which is `SOURCE_DATE_EPOCH` when given (as a
//! build arg or in the environment) and otherwise the base image's own
//! creation time — so the same inputs give the same image ID in any home, as
//! BuildKit does with `SOURCE_DATE_EPOCH`. It returns progress as data
//! (`Vertex`) and never prints.

pub mod archive;
pub mod context;
pub mod ignore;
pub mod legacy;
pub mod output;
pub mod run;
mod steps;

use crate::digest::Digest;
use crate::dockerfile::{self, Dockerfile, Instruction, Kind, Severity};
use crate::engine::{Engine, EngineError, RootFs};
use crate::reference::Reference;
use context::Context;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What `docker build` was asked to do.
#[derive(Clone, Debug, Default)]
pub struct BuildOptions {
    /// The context folder.
    pub context: PathBuf,
    /// `-f`: the Dockerfile (relative to the current directory), default
    /// `<context>/Dockerfile`.
    pub dockerfile: Option<PathBuf>,
    pub tags: Vec<Reference>,
    /// `--build-arg k=v` or `--build-arg k` (value from the environment).
    pub build_args: Vec<(String, Option<String>)>,
    pub target: Option<String>,
    pub no_cache: bool,
    /// `--label k=v`.
    pub labels: Vec<(String, String)>,
    /// `DOCKER_BUILDKIT=0`: the classic builder (see [`legacy`]).
    pub legacy: bool,
    /// `--squash` (classic builder): the new layers merged into one.
    pub squash: bool,
    /// `--platform`: the target platform (default: the host's).
    pub platform: Option<crate::catalog::Platform>,
    /// `--output`: where the result goes (default: an image).
    pub output: Option<output::Output>,
    /// The Dockerfile's text when it came on standard input (`-f -`,
    /// or `docker build - < Dockerfile`).
    pub dockerfile_text: Option<String>,
    /// `--secret id=ID,src=FILE`: the secrets `RUN --mount=type=secret`
    /// can read, by id.
    pub secrets: BTreeMap<String, Vec<u8>>,
    /// The worker runs every platform's programs: BuildKit's own image
    /// (the docker-container driver) carries QEMU emulators it uses when the
    /// kernel has none. The docker driver runs what the host runs.
    pub emulates: bool,
}

/// One progress vertex as BuildKit reports it.
#[derive(Clone, Debug, Default)]
pub struct Vertex {
    pub name: String,
    pub logs: Vec<String>,
    /// A RUN step's output lines, stamped with seconds since it started.
    pub output: Vec<run::LogLine>,
    pub cached: bool,
    pub error: bool,
    pub seconds: f64,
}

/// The error a build ends with. `Display` is BuildKit's text after `ERROR: `.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("unable to prepare context: path {0:?} not found")]
    ContextNotFound(String),
    #[error("unable to prepare context: context must be a directory: {0}")]
    ContextNotDir(String),
    #[error("failed to solve: failed to read dockerfile: open {0}: no such file or directory")]
    NoDockerfile(String),
    /// `message` is BuildKit's full text (`dockerfile parse error on line 3: ...`).
    #[error("failed to solve: {message}")]
    Parse {
        line: usize,
        end_line: usize,
        message: String,
    },
    #[error("failed to solve: {message}")]
    Solve {
        message: String,
        lines: Option<(usize, usize)>,
    },
    /// A RUN command that exited non-zero (`command` is its argv joined).
    #[error(
        "failed to solve: process \"{command}\" did not complete successfully: exit code: {code}"
    )]
    Process {
        command: String,
        code: i32,
        lines: (usize, usize),
    },
    #[error("failed to solve: {0}")]
    Engine(#[from] EngineError),
}

impl BuildError {
    /// The Dockerfile lines the error points at, for the `>>>` excerpt.
    pub fn lines(&self) -> Option<(usize, usize)> {
        match self {
            BuildError::Parse { line, end_line, .. } => Some((*line, *end_line)),
            BuildError::Solve { lines, .. } => *lines,
            BuildError::Process { lines, .. } => Some(*lines),
            _ => None,
        }
    }

    fn at(ins: &Instruction, message: impl Into<String>) -> BuildError {
        BuildError::Solve {
            message: message.into(),
            lines: Some((ins.line, ins.end_line)),
        }
    }
}

/// The result of a build: progress so far, warnings, the Dockerfile text (for
/// error excerpts) and the image or the error.
#[derive(Debug)]
pub struct BuildOutcome {
    pub vertices: Vec<Vertex>,
    pub warnings: Vec<String>,
    pub dockerfile_name: String,
    pub dockerfile_text: String,
    /// The classic builder's output (`Step 1/3 : FROM alpine`, ` ---> id`).
    pub legacy_lines: Vec<String>,
    /// `--output -`: the tar archive for standard output.
    pub tarball: Option<Vec<u8>>,
    pub result: Result<Digest, BuildError>,
}

/// Runs a build.
pub fn build(engine: &Engine, opts: &BuildOptions) -> BuildOutcome {
    let mut b = Builder {
        engine,
        opts,
        vertices: Vec::new(),
        warnings: Vec::new(),
        dockerfile_name: "Dockerfile".into(),
        dockerfile_text: String::new(),
        pending_context: None,
        lines: Vec::new(),
        step: 1,
        total: 0,
        legacy_ctx: None,
        tarball: None,
    };
    let result = b.run();
    if result.is_err()
        && let Some(v) = b.vertices.last_mut()
        && !v.cached
        && !v.name.starts_with("[internal]")
    {
        v.error = true;
    }
    BuildOutcome {
        vertices: b.vertices,
        warnings: b.warnings,
        dockerfile_name: b.dockerfile_name,
        dockerfile_text: b.dockerfile_text,
        legacy_lines: b.lines,
        tarball: b.tarball,
        result,
    }
}

struct Builder<'a> {
    engine: &'a Engine,
    opts: &'a BuildOptions,
    vertices: Vec<Vertex>,
    warnings: Vec<String>,
    dockerfile_name: String,
    dockerfile_text: String,
    /// The context vertex, shown after the first FROM.
    pending_context: Option<Vertex>,
    /// Legacy builder: output lines, the next step number and the total.
    lines: Vec<String>,
    step: usize,
    total: usize,
    /// Legacy builder: the context, sent before the Dockerfile is parsed.
    legacy_ctx: Option<Context>,
    tarball: Option<Vec<u8>>,
}

/// One stage of a Dockerfile: its FROM and the instructions after it.
pub(crate) struct Stage<'d> {
    pub index: usize,
    pub from: &'d Instruction,
    pub name: Option<String>,
    pub body: Vec<&'d Instruction>,
}

/// The state of a stage while it is being built.
#[derive(Clone)]
pub(crate) struct State {
    pub config: serde_json::Value,
    pub layers: Vec<(Digest, u64)>,
    pub rootfs: Option<RootFs>,
    pub cache_key: Digest,
    pub env_args: BTreeMap<String, String>,
    pub platform: crate::catalog::Platform,
    pub clock: String,
    /// Whether this stage has set CMD (ENTRYPOINT then keeps it).
    pub cmd_set: bool,
    /// The global ARGs (before the first FROM) with their values, which an
    /// `ARG name` without a default inherits.
    pub global_args: BTreeMap<String, String>,
    pub mtime: u64,
    /// Legacy builder: the image the last step committed (none on scratch).
    pub image: Option<Digest>,
    pub legacy: bool,
    /// Legacy `--squash`: the stage's base image and its layer count.
    pub base: (Option<Digest>, usize),
    /// The worker cannot run this platform's programs (see
    /// [`BuildOptions::emulates`]): a RUN fails with `exec format error`.
    pub foreign: bool,
}

impl Builder<'_> {
    fn vertex(&mut self, name: impl Into<String>) -> usize {
        self.vertices.push(Vertex {
            name: name.into(),
            ..Default::default()
        });
        self.vertices.len() - 1
    }

    fn run(&mut self) -> Result<Digest, BuildError> {
        let ctx_dir = self.opts.context.clone();
        let shown = ctx_dir.to_string_lossy().to_string();
        match std::fs::metadata(&ctx_dir) {
            Err(_) => return Err(BuildError::ContextNotFound(shown)),
            Ok(m) if !m.is_dir() => return Err(BuildError::ContextNotDir(shown)),
            Ok(_) => {}
        }
        let (df_path, df_name) = match &self.opts.dockerfile {
            Some(p) => (
                p.clone(),
                p.file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_default(),
            ),
            None => (ctx_dir.join("Dockerfile"), "Dockerfile".to_string()),
        };
        self.dockerfile_name = df_name.clone();
        let t = Instant::now();
        let v = self.vertex(format!("[internal] load build definition from {df_name}"));
        let text = match &self.opts.dockerfile_text {
            Some(t) => t.clone(),
            None => std::fs::read_to_string(&df_path)
                .map_err(|_| BuildError::NoDockerfile(df_name.clone()))?,
        };
        self.vertices[v]
            .logs
            .push(format!("transferring dockerfile: {}B", text.len()));
        self.vertices[v].seconds = t.elapsed().as_secs_f64();
        self.dockerfile_text = text.clone();
        if self.opts.legacy {
            // The classic CLI sends the whole context before the daemon
            // reads the Dockerfile.
            let ignore_text = std::fs::read(ignore_path(&ctx_dir, &df_path))
                .ok()
                .map(|b| String::from_utf8_lossy(&b).into_owned());
            let ctx = self.load_context(&ctx_dir, ignore_text.as_deref())?;
            let size = crate::format::human_size(legacy::context_tar_size(&ctx));
            self.lines
                .push(format!("Sending build context to Docker daemon  {size:>8}"));
            self.legacy_ctx = Some(ctx);
        }
        let df = dockerfile::parse(&text);
        if let Some(d) = df.first_error() {
            return Err(BuildError::Parse {
                line: d.line,
                end_line: d.end_line,
                message: d.buildkit_message(),
            });
        }
        for d in df
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
        {
            self.warnings
                .push(format!("{} (line {})", d.message, d.line));
        }
        self.build_stages(&df, &ctx_dir, &df_path)
    }

    fn build_stages(
        &mut self,
        df: &Dockerfile,
        ctx_dir: &Path,
        df_path: &Path,
    ) -> Result<Digest, BuildError> {
        // Global ARGs (before the first FROM) and stages.
        let mut global_args: BTreeMap<String, Option<String>> = BTreeMap::new();
        let mut stages: Vec<Stage> = Vec::new();
        for ins in &df.instructions {
            match (&ins.kind, stages.last_mut()) {
                (Kind::From { alias, .. }, _) => stages.push(Stage {
                    index: stages.len(),
                    from: ins,
                    name: alias.as_ref().map(|a| a.to_lowercase()),
                    body: Vec::new(),
                }),
                (Kind::Arg(args), None) => {
                    for (k, v) in args {
                        global_args.insert(k.clone(), v.clone());
                    }
                }
                (_, None) => {
                    return Err(BuildError::Parse {
                        line: ins.line,
                        end_line: ins.end_line,
                        message: "no build stage in current context".into(),
                    });
                }
                (_, Some(s)) => s.body.push(ins),
            }
        }
        if stages.is_empty() {
            return Err(BuildError::Parse {
                line: 1,
                end_line: 1,
                message: "file with no instructions".into(),
            });
        }
        let build_args = self.build_arg_values();
        let mut global_env: BTreeMap<String, String> = global_args
            .iter()
            .filter_map(|(k, default)| {
                build_args
                    .get(k)
                    .cloned()
                    .or_else(|| default.clone())
                    .map(|v| (k.clone(), v))
            })
            .collect();
        // BuildKit's predefined platform ARGs live in the global scope (a
        // stage sees them after a bare `ARG TARGETARCH`).
        for (k, v) in platform_args(&self.target_platform(), "TARGET")
            .into_iter()
            .chain(platform_args(&crate::engine::host_platform(), "BUILD"))
        {
            global_env.entry(k).or_insert(v);
        }
        let target = match &self.opts.target {
            Some(t) => stages
                .iter()
                .position(|s| s.name.as_deref() == Some(&t.to_lowercase()))
                .ok_or_else(|| BuildError::Solve {
                    message: format!("target stage \"{t}\" could not be found"),
                    lines: None,
                })?,
            None => stages.len() - 1,
        };
        let needed = if self.opts.legacy {
            // The classic builder builds every stage up to the target, in order.
            (0..=target).collect()
        } else {
            needed_stages(&stages, target, &global_env, df.escape)
        };
        if self.opts.legacy {
            let globals: Vec<&Instruction> = df
                .instructions
                .iter()
                .take_while(|i| !matches!(i.kind, Kind::From { .. }))
                .collect();
            self.total = globals.len()
                + stages[..=target]
                    .iter()
                    .map(|s| 1 + s.body.len())
                    .sum::<usize>()
                + self.opts.labels.len();
            for g in globals {
                self.step_line(g);
            }
        }

        // Load metadata for every external base, then the .dockerignore and context.
        let mut bases: BTreeMap<usize, String> = BTreeMap::new();
        for s in stages.iter().filter(|s| needed.contains(&s.index)) {
            let image = from_image(s.from, &global_env, df.escape)
                .map_err(|m| BuildError::at(s.from, m))?;
            let is_stage = stages[..s.index]
                .iter()
                .any(|p| p.name.as_deref() == Some(&image.to_lowercase()));
            if !is_stage && image != "scratch" {
                let r = Reference::parse(&image).map_err(|e| {
                    BuildError::at(
                        s.from,
                        format!("failed to parse stage name \"{image}\": {e}"),
                    )
                })?;
                let full = r.clone().with_default_tag().to_string();
                if !bases.values().any(|b| *b == full) {
                    let t = Instant::now();
                    let v = self.vertex(format!("[internal] load metadata for {full}"));
                    self.vertices[v].seconds = t.elapsed().as_secs_f64();
                }
                bases.insert(s.index, full);
            }
        }
        // Read as bytes, as BuildKit does: a stray non-UTF-8 byte must not
        // make the whole file disappear.
        let ignore_bytes = std::fs::read(ignore_path(ctx_dir, df_path)).ok();
        let ignore_text = ignore_bytes
            .as_ref()
            .map(|b| String::from_utf8_lossy(b).into_owned());
        let v = self.vertex("[internal] load .dockerignore");
        self.vertices[v].logs.push(format!(
            "transferring context: {}B",
            ignore_bytes.as_ref().map(|b| b.len()).unwrap_or(2)
        ));
        // The frontend parses it right away (`failed to parse dockerignore`);
        // pattern errors only surface when the context is sent.
        if let Some(t) = &ignore_text {
            ignore::read_all(t).map_err(|e| BuildError::Solve {
                message: e.to_string(),
                lines: None,
            })?;
        }
        let uses_context = stages
            .iter()
            .filter(|s| needed.contains(&s.index))
            .any(|s| {
                s.body.iter().any(|i| match &i.kind {
                    Kind::Copy(c) | Kind::Add(c) => c.from.is_none(),
                    Kind::Onbuild(_) => true,
                    _ => false,
                })
            })
            || bases.values().any(|b| {
                // A local base image with ONBUILD triggers may copy from the context.
                self.engine.lookup(b).is_ok_and(|i| {
                    i.config["config"]["OnBuild"]
                        .as_array()
                        .is_some_and(|a| !a.is_empty())
                })
            });
        let ctx = if let Some(ctx) = self.legacy_ctx.take() {
            ctx
        } else if uses_context {
            // BuildKit starts sending the context while the first FROM
            // resolves, so its vertex is shown right after that FROM.
            let t = Instant::now();
            let ctx = self.load_context(ctx_dir, ignore_text.as_deref())?;
            self.pending_context = Some(Vertex {
                name: "[internal] load build context".into(),
                logs: vec![format!("transferring context: {}B", ctx.transferred.max(2))],
                seconds: t.elapsed().as_secs_f64(),
                ..Default::default()
            });
            ctx
        } else {
            Context::default()
        };

        let mut done: BTreeMap<usize, State> = BTreeMap::new();
        let mut result = None;
        for s in stages.iter().filter(|s| needed.contains(&s.index)) {
            let state = self.build_stage(
                s,
                &stages,
                &done,
                &global_env,
                &build_args,
                &ctx,
                df.escape,
                s.index == target,
                stages.len() > 1,
            )?;
            if s.index == target {
                result = Some(state.clone());
            }
            done.insert(s.index, state);
        }
        let state = result.expect("target stage was built");
        if self.opts.legacy {
            self.warn_unused_build_args(df, &stages[..=target]);
        }
        self.export(state)
    }

    /// Loads the context through the store's checksum cache for its folder,
    /// and records the cache's new state. The cache is best effort: one that
    /// cannot be read or written only costs reading the files again.
    fn load_context(&self, dir: &Path, ignore_text: Option<&str>) -> Result<Context, BuildError> {
        let known = context::Checksums::folder_of(dir)
            .and_then(|folder| {
                let key = context::Checksums::key(&folder);
                let bytes = self.engine.store.context_cache(&key)?;
                Some(context::Checksums::decode(&bytes, &folder))
            })
            .unwrap_or_default();
        let ctx = Context::load_with(dir, ignore_text, &known).map_err(context_error)?;
        if let Some(c) = &ctx.checksums {
            let key = context::Checksums::key(c.folder());
            let _ = self.engine.store.put_context_cache(&key, &c.encode());
        }
        Ok(ctx)
    }

    fn build_arg_values(&self) -> BTreeMap<String, String> {
        self.opts
            .build_args
            .iter()
            .filter_map(|(k, v)| {
                v.clone()
                    .or_else(|| std::env::var(k).ok())
                    .map(|v| (k.clone(), v))
            })
            .collect()
    }

    #[allow(clippy::too_many_arguments)]
    fn build_stage(
        &mut self,
        s: &Stage,
        stages: &[Stage],
        done: &BTreeMap<usize, State>,
        global_env: &BTreeMap<String, String>,
        build_args: &BTreeMap<String, String>,
        ctx: &Context,
        escape: char,
        is_target: bool,
        multi: bool,
    ) -> Result<State, BuildError> {
        let image =
            from_image(s.from, global_env, escape).map_err(|m| BuildError::at(s.from, m))?;
        let platform = from_platform(s.from, global_env, escape)
            .map_err(|m| BuildError::at(s.from, m))?
            .unwrap_or_else(|| self.target_platform());
        let prev_stage = stages[..s.index]
            .iter()
            .rev()
            .find(|p| p.name.as_deref() == Some(&image.to_lowercase()));
        // BuildKit counts FROM as a step only when it pulls an image (not
        // for `scratch` or an earlier stage), pads the step number to the
        // width of the total (`[ 1/12]`) and names the stage when it has a
        // name, or when there are several (`stage-N`).
        let from_step = usize::from(prev_stage.is_none() && image != "scratch");
        let mut total = from_step + s.body.iter().filter(|i| steps::is_step(i)).count();
        let label = |n: usize, total: usize| {
            let width = total.to_string().len();
            match (&s.name, multi) {
                (Some(name), _) => format!("[{name} {n:>width$}/{total}]"),
                (None, true) => format!("[stage-{} {n:>width$}/{total}]", s.index),
                _ => format!("[{n:>width$}/{total}]"),
            }
        };
        let legacy = self.opts.legacy;
        if legacy {
            self.step_line(s.from);
            let is_stage = stages[..s.index]
                .iter()
                .any(|p| p.name.as_deref() == Some(&image.to_lowercase()));
            if !is_stage && image != "scratch" {
                self.legacy_pull(&image)
                    .map_err(|e| BuildError::at(s.from, e.to_string()))?;
            }
        }
        let t = Instant::now();
        let mut state = if let Some(prev) = prev_stage {
            // A stage built on an earlier stage continues its state: no
            // vertex of its own.
            let mut st = done
                .get(&prev.index)
                .cloned()
                .expect("dependency stage built first");
            st.env_args.clear();
            st.cmd_set = false;
            st
        } else if image == "scratch" {
            State::scratch(self.source_date_epoch(build_args), platform)
        } else {
            let (st, name, fresh) = self
                .base_state(&image, build_args, &platform)
                .map_err(|e| BuildError::at(s.from, e.to_string()))?;
            let v = self.vertex(format!("{} FROM {name}", label(1, total)));
            if fresh.is_empty() {
                self.vertices[v].cached = true;
            } else {
                self.vertices[v].logs.push(format!("resolve {name}"));
                for l in fresh {
                    self.vertices[v].logs.push(format!("extracting {l}"));
                }
            }
            self.vertices[v].seconds = t.elapsed().as_secs_f64();
            st
        };
        if let Some(v) = self.pending_context.take() {
            self.vertices.push(v);
        }
        state.global_args = global_env.clone();
        state.legacy = legacy;
        state.base = (state.image.clone(), state.layers.len());
        state.foreign =
            !self.opts.emulates && !crate::emulation::can_run(&self.engine.home, &state.platform);
        // ONBUILD triggers of the base run first, as steps of this stage
        // (`[2/4] ONBUILD COPY . /app`); the new image does not keep them.
        let triggers = onbuild_triggers(&mut state, s.from);
        total += triggers.iter().filter(|i| steps::is_step(i)).count();
        if legacy && !triggers.is_empty() {
            let n = triggers.len();
            self.lines.push(format!(
                "# Executing {n} build trigger{}",
                if n == 1 { "" } else { "s" }
            ));
        }
        let body: Vec<(&Instruction, bool)> = triggers
            .iter()
            .map(|t| (t, true))
            .chain(s.body.iter().map(|i| (*i, false)))
            .collect();
        let mut n = from_step;
        // Legacy: ` ---> <id>` of the FROM (after its triggers) is still due.
        let mut id_due = legacy;
        for (ins, trigger) in body {
            if id_due && !trigger {
                let id = state.image.as_ref().map(|i| i.short()).unwrap_or_default();
                self.lines.push(format!(" ---> {id}"));
                id_due = false;
            }
            let step_label = if steps::is_step(ins) {
                n += 1;
                Some(label(n, total))
            } else {
                None
            };
            let vars = state.vars(global_env);
            let lookup = |k: &str| vars.get(k).cloned();
            let expanded = ins
                .expand(&lookup, escape)
                .map_err(|e| BuildError::at(ins, e.to_string()))?;
            let t = Instant::now();
            let shown = match trigger {
                true => format!("ONBUILD {}", display_name(ins, &lookup, escape)),
                false => display_name(ins, &lookup, escape),
            };
            let vi = step_label.map(|l| self.vertex(format!("{l} {shown}")));
            // The classic builder's image cache is keyed before the step
            // runs; a RUN found there is not run at all.
            let legacy_key = legacy.then(|| legacy::cache_key(&state, &expanded, ctx));
            if legacy && !trigger {
                self.step_line(ins);
                if let Kind::Run { .. } = ins.kind {
                    let key = legacy_key.as_deref().unwrap_or_default();
                    if let Some(id) =
                        legacy::probe(self.engine, &mut state, key, self.opts.no_cache)?
                    {
                        self.lines.push(" ---> Using cache".into());
                        self.lines.push(format!(" ---> {}", id.short()));
                        continue;
                    }
                    let c =
                        legacy::container_id(&state, &legacy::created_by(&expanded, &state, ctx));
                    self.lines.push(format!(" ---> Running in {c}"));
                }
            }
            let history_len = history_len(&state);
            let cached = self.apply(
                &mut state, ins, &expanded, ctx, done, stages, build_args, vi,
            )?;
            if let Some(v) = vi {
                self.vertices[v].cached = cached;
                self.vertices[v].seconds = t.elapsed().as_secs_f64();
            }
            if let Some(key) = legacy_key {
                self.legacy_commit(&mut state, &expanded, ctx, history_len, !trigger, key)?;
            }
        }
        if id_due {
            let id = state.image.as_ref().map(|i| i.short()).unwrap_or_default();
            self.lines.push(format!(" ---> {id}"));
        }
        if legacy && is_target {
            // The classic builder appends `--label`s to the last stage as
            // LABEL instructions of their own, sorted by key.
            let mut labels = self.opts.labels.clone();
            labels.sort();
            for (k, v) in labels {
                let ins = Instruction {
                    line: 0,
                    end_line: 0,
                    original: format!("LABEL {k}={v}"),
                    kind: Kind::Label(vec![(k, v)]),
                };
                self.step_line(&ins);
                let history_len = history_len(&state);
                let key = legacy::cache_key(&state, &ins, ctx);
                self.apply(&mut state, &ins, &ins, ctx, done, stages, build_args, None)?;
                self.legacy_commit(&mut state, &ins, ctx, history_len, true, key)?;
            }
        }
        Ok(state)
    }

    /// Legacy builder: `[Warning] One or more build-args [A B] were not
    /// consumed` for build args no ARG of the built stages declares (the
    /// proxy variables excepted). BuildKit has no such warning
    /// (moby/buildkit#2128).
    fn warn_unused_build_args(&mut self, df: &Dockerfile, stages: &[Stage]) {
        const BUILTIN: [&str; 10] = [
            "HTTP_PROXY",
            "http_proxy",
            "HTTPS_PROXY",
            "https_proxy",
            "FTP_PROXY",
            "ftp_proxy",
            "NO_PROXY",
            "no_proxy",
            "ALL_PROXY",
            "all_proxy",
        ];
        let globals = df
            .instructions
            .iter()
            .take_while(|i| !matches!(i.kind, Kind::From { .. }));
        let declared: std::collections::BTreeSet<&str> = globals
            .chain(stages.iter().flat_map(|s| s.body.iter().copied()))
            .filter_map(|i| match &i.kind {
                Kind::Arg(args) => Some(args.iter().map(|(k, _)| k.as_str())),
                _ => None,
            })
            .flatten()
            .collect();
        let mut unused: Vec<&str> = self
            .opts
            .build_args
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| !declared.contains(k) && !BUILTIN.contains(k))
            .collect();
        unused.sort();
        unused.dedup();
        if !unused.is_empty() {
            self.lines.push(format!(
                "[Warning] One or more build-args [{}] were not consumed",
                unused.join(" ")
            ));
        }
    }

    /// `--output type=local|tar`: the stage's files instead of an image.
    /// Returns the ID the image would have had (nothing is stored).
    fn export_files(&mut self, state: State, out: &output::Output) -> Result<Digest, BuildError> {
        let t = Instant::now();
        let ids: Vec<Digest> = state.layers.iter().map(|(d, _)| d.clone()).collect();
        let fs = match &state.rootfs {
            Some(fs) => fs.clone(),
            None => self.engine.rootfs(&ids)?,
        };
        let failed = |e: std::io::Error| BuildError::Solve {
            message: format!("failed to export: {e}"),
            lines: None,
        };
        match out {
            output::Output::Local(dest) => {
                let v = self.vertex("exporting to client directory");
                let bytes = output::write_local(&fs, dest).map_err(failed)?;
                self.vertices[v].logs.push(format!(
                    "copying files {}",
                    crate::format::human_size(bytes)
                ));
                self.vertices[v].seconds = t.elapsed().as_secs_f64();
            }
            output::Output::Tar(dest) => {
                let v = self.vertex("exporting to client tarball");
                let bytes = output::tar_bytes(&fs).map_err(failed)?;
                match dest {
                    Some(p) => std::fs::write(p, &bytes).map_err(failed)?,
                    None => self.tarball = Some(bytes),
                }
                self.vertices[v].logs.push("sending tarball".into());
                self.vertices[v].seconds = t.elapsed().as_secs_f64();
            }
            output::Output::Image => unreachable!("handled by export"),
        }
        let config = steps::final_config(state.config.clone(), &state);
        Ok(Digest::of(
            &serde_json::to_vec(&config).expect("config serializes"),
        ))
    }

    fn target_platform(&self) -> crate::catalog::Platform {
        self.opts
            .platform
            .clone()
            .unwrap_or_else(crate::engine::host_platform)
    }

    /// One instruction's effect on the stage (see `steps::apply`).
    #[allow(clippy::too_many_arguments)]
    fn apply(
        &mut self,
        state: &mut State,
        original: &Instruction,
        expanded: &Instruction,
        ctx: &Context,
        done: &BTreeMap<usize, State>,
        stages: &[Stage],
        build_args: &BTreeMap<String, String>,
        vertex: Option<usize>,
    ) -> Result<bool, BuildError> {
        let mut logs = Vec::new();
        let r = steps::apply(
            self.engine,
            state,
            original,
            expanded,
            ctx,
            done,
            stages,
            build_args,
            self.opts.no_cache,
            &self.opts.secrets,
            &mut logs,
        );
        // A RUN step's output: the vertex's log, or the classic builder's
        // lines as they came.
        if self.opts.legacy {
            self.lines.extend(logs.into_iter().map(|l| l.text));
        } else if let Some(v) = vertex {
            self.vertices[v].output = logs;
        }
        r
    }

    /// Legacy builder: `Step N/M : <instruction as written>`.
    fn step_line(&mut self, ins: &Instruction) {
        self.lines.push(format!(
            "Step {}/{} : {}",
            self.step, self.total, ins.original
        ));
        self.step += 1;
    }

    /// Legacy builder: a base image missing locally is pulled (and tagged),
    /// with the pull's progress in the output.
    fn legacy_pull(&mut self, image: &str) -> Result<(), EngineError> {
        if self.engine.lookup(image).is_ok() {
            return Ok(());
        }
        let r = Reference::parse(image)?.with_default_tag();
        if self.engine.index()?.tags.contains_key(&r.to_string()) {
            return Ok(());
        }
        let pulled = self.engine.pull(image, &self.target_platform())?;
        let r = pulled.reference;
        self.lines.push(format!(
            "{}: Pulling from {}",
            r.tag().unwrap_or("latest"),
            r.path()
        ));
        for (d, had) in &pulled.layers {
            let what = if *had {
                "Already exists"
            } else {
                "Pull complete"
            };
            self.lines.push(format!("{}: {what}", d.short()));
        }
        self.lines.push(format!("Digest: {}", pulled.digest));
        self.lines.push(format!(
            "Status: Downloaded newer image for {}",
            r.familiar_string()
        ));
        Ok(())
    }

    /// Legacy builder: commits the step's image and reports it.
    fn legacy_commit(
        &mut self,
        state: &mut State,
        ins: &Instruction,
        ctx: &Context,
        history_len: usize,
        show_id: bool,
        key: String,
    ) -> Result<(), BuildError> {
        // Replace the BuildKit history entry the step wrote (if any) with
        // the classic builder's.
        let empty = if self::history_len(state) > history_len {
            let h = state.config["history"]
                .as_array_mut()
                .and_then(|a| a.pop())
                .unwrap_or_default();
            h["empty_layer"].as_bool().unwrap_or(false)
        } else {
            true
        };
        let created_by = legacy::created_by(ins, state, ctx);
        let container = legacy::container_id(state, &created_by);
        match legacy::commit(
            self.engine,
            state,
            created_by,
            empty,
            self.opts.no_cache,
            key,
        )? {
            legacy::Committed::Cached(id) => {
                self.lines.push(" ---> Using cache".into());
                if show_id {
                    self.lines.push(format!(" ---> {}", id.short()));
                }
            }
            legacy::Committed::New(id) => {
                if !matches!(ins.kind, Kind::Copy(_) | Kind::Add(_) | Kind::Run { .. }) {
                    self.lines.push(format!(" ---> Running in {container}"));
                    self.lines
                        .push(format!(" ---> Removed intermediate container {container}"));
                } else if let Kind::Run { .. } = ins.kind {
                    // Its `Running in` line came before the output.
                    self.lines
                        .push(format!(" ---> Removed intermediate container {container}"));
                }
                if show_id {
                    self.lines.push(format!(" ---> {}", id.short()));
                }
            }
        }
        Ok(())
    }

    fn source_date_epoch(&self, build_args: &BTreeMap<String, String>) -> Option<i64> {
        build_args
            .get("SOURCE_DATE_EPOCH")
            .cloned()
            .or_else(|| std::env::var("SOURCE_DATE_EPOCH").ok())
            .and_then(|s| s.parse().ok())
    }

    /// The starting state from a local image or a catalog base image, its
    /// display name, and the layers that had to be fetched.
    fn base_state(
        &mut self,
        image: &str,
        build_args: &BTreeMap<String, String>,
        platform: &crate::catalog::Platform,
    ) -> Result<(State, String, Vec<String>), EngineError> {
        // The classic builder resolves FROM through the daemon's image
        // store, image IDs included; BuildKit only by reference.
        let local_id = if self.opts.legacy {
            self.engine.lookup(image).ok().map(|i| i.id)
        } else {
            None
        };
        let r = match &local_id {
            Some(_) => Reference::parse("scratch")?,
            None => Reference::parse(image)?.with_default_tag(),
        };
        let idx = self.engine.index()?;
        let (id, fresh, name) = match local_id.as_ref().or_else(|| idx.tags.get(&r.to_string())) {
            Some(id) => (id.clone(), Vec::new(), r.to_string()),
            None => {
                let Some((base, tag)) = Engine::catalog_entry(&r) else {
                    return Err(EngineError::PullDenied(r.familiar_name()));
                };
                let (id, layers) = self.engine.materialize(base, &tag, platform)?;
                let digest = crate::engine::manifest_digest(&id, &layers);
                let fresh = layers
                    .iter()
                    .filter(|(_, had)| !had)
                    .map(|(d, _)| d.to_string())
                    .collect();
                (id, fresh, format!("{}@{digest}", r))
            }
        };
        let img = self.engine.image(&id)?;
        let mut layers = Vec::new();
        for d in crate::engine::diff_ids_of(&img.config) {
            let size = self.engine.store.layer_meta(&d)?.size;
            layers.push((d, size));
        }
        let created = img.config["created"]
            .as_str()
            .unwrap_or("1970-01-01T00:00:00Z")
            .to_string();
        let epoch = self
            .source_date_epoch(build_args)
            .or_else(|| {
                chrono::DateTime::parse_from_rfc3339(&created)
                    .ok()
                    .map(|t| t.timestamp())
            })
            .unwrap_or(0);
        let platform = crate::catalog::Platform {
            os: img.config["os"].as_str().unwrap_or("linux").into(),
            architecture: img.config["architecture"]
                .as_str()
                .unwrap_or("amd64")
                .into(),
            variant: img.config["variant"].as_str().map(String::from),
        };
        let mut config = img.config.clone();
        if let Some(o) = config.as_object_mut() {
            o.remove("rootfs");
        }
        let state = State {
            config,
            layers,
            rootfs: None,
            cache_key: id.clone(),
            env_args: BTreeMap::new(),
            platform,
            clock: steps::rfc3339(epoch),
            cmd_set: false,
            global_args: BTreeMap::new(),
            mtime: epoch.max(0) as u64,
            image: Some(id),
            legacy: false,
            base: (None, 0),
            foreign: false,
        };
        Ok((state, name, fresh))
    }

    fn export(&mut self, mut state: State) -> Result<Digest, BuildError> {
        if self.opts.legacy {
            if self.opts.squash && state.image.is_some() {
                let (base, n) = state.base.clone();
                legacy::squash(self.engine, &mut state, n, base)?;
            }
            let Some(id) = state.image.clone() else {
                return Err(BuildError::Solve {
                    message: "No image was generated. Is your Dockerfile empty?".into(),
                    lines: None,
                });
            };
            self.lines
                .push(format!("Successfully built {}", id.short()));
            for r in &self.opts.tags {
                self.engine.tag(&id, r)?;
                self.lines.push(format!(
                    "Successfully tagged {}",
                    r.clone().with_default_tag().familiar_string()
                ));
            }
            return Ok(id);
        }
        match self.opts.output.clone() {
            None | Some(output::Output::Image) => {}
            Some(out) => return self.export_files(state, &out),
        }
        let t = Instant::now();
        let v = self.vertex("exporting to image");
        self.vertices[v].logs.push("exporting layers".into());
        let mut config = state.config.clone();
        for (k, val) in &self.opts.labels {
            config["config"]["Labels"][k] = serde_json::Value::String(val.clone());
        }
        let config = steps::final_config(config, &state);
        let bytes = serde_json::to_vec(&config).expect("config serializes");
        let id = self
            .engine
            .store
            .put_blob(&bytes)
            .map_err(EngineError::from)?;
        let summary = crate::engine::summary_of(&config, &state.layers, None, &state.platform);
        self.engine.store.update(|idx| -> Result<(), EngineError> {
            idx.images.entry(id.clone()).or_insert(summary);
            Ok(())
        })?;
        self.vertices[v].logs.push(format!("writing image {id}"));
        for r in &self.opts.tags {
            self.engine.tag(&id, r)?;
            self.vertices[v]
                .logs
                .push(format!("naming to {}", r.clone().with_default_tag()));
        }
        self.vertices[v].seconds = t.elapsed().as_secs_f64();
        Ok(id)
    }
}

impl State {
    fn scratch(epoch: Option<i64>, platform: crate::catalog::Platform) -> State {
        let epoch = epoch.unwrap_or(0);
        State {
            config: serde_json::json!({
                "architecture": platform.architecture,
                "config": {},
                "os": platform.os,
            }),
            layers: Vec::new(),
            rootfs: Some(RootFs::default()),
            cache_key: crate::digest::Digest::of(b"scratch"),
            env_args: BTreeMap::new(),
            platform,
            clock: steps::rfc3339(epoch),
            cmd_set: false,
            global_args: BTreeMap::new(),
            mtime: epoch.max(0) as u64,
            image: None,
            legacy: false,
            base: (None, 0),
            foreign: false,
        }
    }

    /// The variables visible to expansion: the stage's ENV, then its ARGs.
    fn vars(&self, _global: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        let mut vars = BTreeMap::new();
        if let Some(env) = self.config["config"]["Env"].as_array() {
            for e in env.iter().filter_map(|e| e.as_str()) {
                if let Some((k, v)) = e.split_once('=') {
                    vars.insert(k.to_string(), v.to_string());
                }
            }
        }
        for (k, v) in &self.env_args {
            vars.entry(k.clone()).or_insert_with(|| v.clone());
        }
        vars
    }
}

/// Takes the base image's ONBUILD triggers out of the config and parses
/// them; errors point at the stage's FROM line.
fn onbuild_triggers(state: &mut State, from: &Instruction) -> Vec<Instruction> {
    let Some(cfg) = state.config["config"].as_object_mut() else {
        return Vec::new();
    };
    let Some(serde_json::Value::Array(list)) = cfg.remove("OnBuild") else {
        return Vec::new();
    };
    let text: Vec<&str> = list.iter().filter_map(|t| t.as_str()).collect();
    dockerfile::parse(&text.join("\n"))
        .instructions
        .into_iter()
        .map(|mut i| {
            i.line = from.line;
            i.end_line = from.end_line;
            i
        })
        .collect()
}

/// A context that cannot be read or whose `.dockerignore` is malformed.
fn context_error(e: context::ContextError) -> BuildError {
    let message = match e {
        context::ContextError::Io(e) => format!("failed to read build context: {e}"),
        context::ContextError::Ignore(e) => e.to_string(),
    };
    BuildError::Solve {
        message,
        lines: None,
    }
}

fn history_len(state: &State) -> usize {
    state.config["history"].as_array().map_or(0, |a| a.len())
}

/// `.dockerignore` for a build: `<Dockerfile>.dockerignore` next to the
/// Dockerfile when there is one, else the context's own.
fn ignore_path(ctx_dir: &Path, df_path: &Path) -> PathBuf {
    let specific = df_path.with_file_name(format!(
        "{}.dockerignore",
        df_path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default()
    ));
    if specific.exists() {
        specific
    } else {
        ctx_dir.join(".dockerignore")
    }
}

/// A step's name as BuildKit shows it: the instruction with its keyword in
/// capitals and variables expanded (left as written if expansion fails).
fn display_name(
    ins: &Instruction,
    lookup: &dyn Fn(&str) -> Option<String>,
    escape: char,
) -> String {
    let (kw, rest) = ins
        .original
        .split_once(char::is_whitespace)
        .unwrap_or((&ins.original, ""));
    let rest = dockerfile::expand(rest, lookup, escape).unwrap_or_else(|_| rest.to_string());
    format!("{} {rest}", kw.to_uppercase())
}

/// `FROM --platform=...`, expanded with the global ARGs.
fn from_platform(
    from: &Instruction,
    global_env: &BTreeMap<String, String>,
    escape: char,
) -> Result<Option<crate::catalog::Platform>, String> {
    let lookup = |k: &str| global_env.get(k).cloned();
    let expanded = from.expand(&lookup, escape).map_err(|e| e.to_string())?;
    match expanded.kind {
        Kind::From {
            platform: Some(p), ..
        } => parse_platform(&p).map(Some),
        _ => Ok(None),
    }
}

/// A platform as BuildKit accepts it (`linux/arm64`, `linux/arm/v7`), with
/// containerd's error text otherwise.
pub fn parse_platform(p: &str) -> Result<crate::catalog::Platform, String> {
    const OSES: [&str; 3] = ["linux", "windows", "darwin"];
    const ARCHES: [&str; 8] = [
        "amd64", "arm64", "arm", "386", "ppc64le", "s390x", "riscv64", "mips64le",
    ];
    crate::catalog::Platform::parse(&p.to_lowercase())
        .filter(|pl| OSES.contains(&pl.os.as_str()) && ARCHES.contains(&pl.architecture.as_str()))
        .ok_or_else(|| {
            format!("failed to parse platform {p}: \"{p}\": unknown operating system or architecture: invalid argument")
        })
}

/// `TARGETPLATFORM`, `TARGETOS`, `TARGETARCH`, `TARGETVARIANT` (or the
/// `BUILD` ones) for a platform, as BuildKit sets them (`linux/arm64`,
/// without arm64's implied `v8`).
fn platform_args(p: &crate::catalog::Platform, prefix: &str) -> Vec<(String, String)> {
    let variant = match (p.architecture.as_str(), p.variant.as_deref()) {
        ("arm64", Some("v8")) | (_, None) => String::new(),
        (_, Some(v)) => v.to_string(),
    };
    let mut full = format!("{}/{}", p.os, p.architecture);
    if !variant.is_empty() {
        full.push('/');
        full.push_str(&variant);
    }
    vec![
        (format!("{prefix}PLATFORM"), full),
        (format!("{prefix}OS"), p.os.clone()),
        (format!("{prefix}ARCH"), p.architecture.clone()),
        (format!("{prefix}VARIANT"), variant),
    ]
}

fn from_image(
    from: &Instruction,
    global_env: &BTreeMap<String, String>,
    escape: char,
) -> Result<String, String> {
    let lookup = |k: &str| global_env.get(k).cloned();
    let expanded = from.expand(&lookup, escape).map_err(|e| e.to_string())?;
    match expanded.kind {
        Kind::From { image, .. } if image.is_empty() => {
            Err("base name (${...}) should not be blank".into())
        }
        Kind::From { image, .. } => Ok(image),
        _ => Err("not a FROM instruction".into()),
    }
}

/// The stages the target depends on (through FROM and COPY --from).
fn needed_stages(
    stages: &[Stage],
    target: usize,
    global_env: &BTreeMap<String, String>,
    escape: char,
) -> Vec<usize> {
    let mut needed = vec![target];
    let mut i = 0;
    while i < needed.len() {
        let s = &stages[needed[i]];
        let mut deps: Vec<String> = Vec::new();
        if let Ok(img) = from_image(s.from, global_env, escape) {
            deps.push(img);
        }
        for ins in &s.body {
            if let Kind::Copy(c) | Kind::Add(c) = &ins.kind
                && let Some(f) = &c.from
            {
                deps.push(f.clone());
            }
        }
        for d in deps {
            let d = d.to_lowercase();
            let found = stages[..s.index]
                .iter()
                .rev()
                .find(|p| p.name.as_deref() == Some(&d))
                .map(|p| p.index)
                .or_else(|| d.parse::<usize>().ok().filter(|n| *n < s.index));
            if let Some(p) = found
                && !needed.contains(&p)
            {
                needed.push(p);
            }
        }
        i += 1;
    }
    needed.sort();
    needed
}
