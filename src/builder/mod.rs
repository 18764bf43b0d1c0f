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

pub mod context;
pub mod ignore;
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
}

/// One progress vertex as BuildKit reports it.
#[derive(Clone, Debug, Default)]
pub struct Vertex {
    pub name: String,
    pub logs: Vec<String>,
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
    #[error("failed to solve: {0}")]
    Engine(#[from] EngineError),
}

impl BuildError {
    /// The Dockerfile lines the error points at, for the `>>>` excerpt.
    pub fn lines(&self) -> Option<(usize, usize)> {
        match self {
            BuildError::Parse { line, end_line, .. } => Some((*line, *end_line)),
            BuildError::Solve { lines, .. } => *lines,
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
}

/// One stage of a Dockerfile: its FROM and the instructions after it.
struct Stage<'d> {
    index: usize,
    from: &'d Instruction,
    name: Option<String>,
    body: Vec<&'d Instruction>,
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
        let text = std::fs::read_to_string(&df_path)
            .map_err(|_| BuildError::NoDockerfile(df_name.clone()))?;
        self.vertices[v]
            .logs
            .push(format!("transferring dockerfile: {}B", text.len()));
        self.vertices[v].seconds = t.elapsed().as_secs_f64();
        self.dockerfile_text = text.clone();
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
        let global_env: BTreeMap<String, String> = global_args
            .iter()
            .filter_map(|(k, default)| {
                build_args
                    .get(k)
                    .cloned()
                    .or_else(|| default.clone())
                    .map(|v| (k.clone(), v))
            })
            .collect();
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
        let needed = needed_stages(&stages, target, &global_env, df.escape);

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
        let ignore_path = {
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
        };
        let ignore_text = std::fs::read_to_string(&ignore_path).ok();
        let v = self.vertex("[internal] load .dockerignore");
        self.vertices[v].logs.push(format!(
            "transferring context: {}B",
            ignore_text.as_ref().map(|t| t.len()).unwrap_or(2)
        ));
        let uses_context = stages
            .iter()
            .filter(|s| needed.contains(&s.index))
            .any(|s| {
                s.body.iter().any(|i| match &i.kind {
                    Kind::Copy(c) | Kind::Add(c) => c.from.is_none(),
                    _ => false,
                })
            });
        let ctx = if uses_context {
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
                s.index == target && stages.len() > 1,
                stages.len() > 1,
            )?;
            if s.index == target {
                result = Some(state.clone());
            }
            done.insert(s.index, state);
        }
        let state = result.expect("target stage was built");
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
        let ctx = Context::load_with(dir, ignore_text, &known).map_err(|e| BuildError::Solve {
            message: format!("failed to read build context: {e}"),
            lines: None,
        })?;
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
        _is_target: bool,
        multi: bool,
    ) -> Result<State, BuildError> {
        let total = 1 + s.body.iter().filter(|i| steps::is_step(i)).count();
        // BuildKit pads the step number to the width of the total
        // (`[ 1/12]`) and names the stage when it has a name, or when
        // there are several (`stage-N`).
        let width = total.to_string().len();
        let label = |n: usize| match (&s.name, multi) {
            (Some(name), _) => format!("[{name} {n:>width$}/{total}]"),
            (None, true) => format!("[stage-{} {n:>width$}/{total}]", s.index),
            _ => format!("[{n:>width$}/{total}]"),
        };
        let image =
            from_image(s.from, global_env, escape).map_err(|m| BuildError::at(s.from, m))?;
        let t = Instant::now();
        let mut state = if let Some(prev) = stages[..s.index]
            .iter()
            .rev()
            .find(|p| p.name.as_deref() == Some(&image.to_lowercase()))
        {
            let v = self.vertex(format!(
                "{} FROM {}",
                label(1),
                prev.name.clone().unwrap_or_default()
            ));
            self.vertices[v].cached = true;
            let mut st = done
                .get(&prev.index)
                .cloned()
                .expect("dependency stage built first");
            st.env_args.clear();
            st.cmd_set = false;
            st
        } else if image == "scratch" {
            State::scratch(self.source_date_epoch(build_args))
        } else {
            let (st, name, fresh) = self
                .base_state(&image, build_args)
                .map_err(|e| BuildError::at(s.from, e.to_string()))?;
            let v = self.vertex(format!("{} FROM {name}", label(1)));
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
        let mut n = 1;
        for ins in &s.body {
            let step_label = if steps::is_step(ins) {
                n += 1;
                Some(label(n))
            } else {
                None
            };
            let vars = state.vars(global_env);
            let lookup = |k: &str| vars.get(k).cloned();
            let expanded = ins
                .expand(&lookup, escape)
                .map_err(|e| BuildError::at(ins, e.to_string()))?;
            let t = Instant::now();
            let vi = step_label
                .map(|l| self.vertex(format!("{l} {}", display_name(ins, &lookup, escape))));
            let cached = steps::apply(
                self.engine,
                &mut state,
                ins,
                &expanded,
                ctx,
                done,
                stages,
                build_args,
                self.opts.no_cache,
                &mut self.warnings,
            )?;
            if let Some(v) = vi {
                self.vertices[v].cached = cached;
                self.vertices[v].seconds = t.elapsed().as_secs_f64();
            }
        }
        Ok(state)
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
    ) -> Result<(State, String, Vec<String>), EngineError> {
        let r = Reference::parse(image)?.with_default_tag();
        let idx = self.engine.index()?;
        let platform = crate::engine::host_platform();
        let (id, fresh, name) = match idx.tags.get(&r.to_string()) {
            Some(id) => (id.clone(), Vec::new(), r.to_string()),
            None => {
                let Some((base, tag)) = Engine::catalog_entry(&r) else {
                    return Err(EngineError::PullDenied(r.familiar_name()));
                };
                let (id, layers) = self.engine.materialize(base, &tag, &platform)?;
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
            cache_key: id,
            env_args: BTreeMap::new(),
            platform,
            clock: steps::rfc3339(epoch),
            cmd_set: false,
            global_args: BTreeMap::new(),
            mtime: epoch.max(0) as u64,
        };
        Ok((state, name, fresh))
    }

    fn export(&mut self, state: State) -> Result<Digest, BuildError> {
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
    fn scratch(epoch: Option<i64>) -> State {
        let epoch = epoch.unwrap_or(0);
        let platform = crate::engine::host_platform();
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
