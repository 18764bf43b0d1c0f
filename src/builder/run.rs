//! `RUN`: the command runs in the simulated userland on the stage's root fs,
//! and what it changed becomes the step's layer (none when it changed
//! nothing: BuildKit then records an empty history entry). Its output is
//! the vertex's log, each line stamped with the seconds since the step
//! started, as BuildKit's plain progress shows it.
//!
//! Mounts (`--mount=`) are put in place for the command and taken away
//! after it, so nothing under them reaches the layer: `type=cache` keeps its
//! contents in the build cache between builds (by `id`, default the
//! target), `type=bind` shows a context folder or another stage's files,
//! `type=secret` a file given with `docker build --secret`, `type=tmpfs` an
//! empty folder. `--network=none` takes the simulated mirrors away.
//!
//! The step's cache key is the instruction, the parent, the build args in
//! its environment and the content of bind-mounted sources.

use super::context::{Context, CtxKind};
use super::steps::{self, history};
use super::{BuildError, Stage, State};
use crate::digest::Digest;
use crate::dockerfile::{Heredoc, Instruction, Kind, ShellOrExec};
use crate::engine::Engine;
use crate::layer::{self, Content, Entry, clean_path};
use crate::userland::{self, fs::Fs, proc::World};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Instant;

/// One line of a step's output: seconds since the step started, the text.
#[derive(Clone, Debug, PartialEq)]
pub struct LogLine {
    pub at: f64,
    pub text: String,
}

/// What `RUN` needs beyond the stage state.
pub(crate) struct RunInputs<'a, 'd> {
    pub ctx: &'a Context,
    pub done: &'a BTreeMap<usize, State>,
    pub stages: &'a [Stage<'d>],
    pub no_cache: bool,
    /// `docker build --secret id=..,src=..`: id → bytes.
    pub secrets: &'a BTreeMap<String, Vec<u8>>,
}

/// A parsed `--mount=` value.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Mount {
    Cache {
        target: String,
        id: String,
    },
    Bind {
        target: String,
        source: String,
        from: Option<String>,
    },
    Secret {
        target: String,
        id: String,
        required: bool,
    },
    Tmpfs {
        target: String,
    },
}

impl Mount {
    fn target(&self) -> &str {
        match self {
            Mount::Cache { target, .. }
            | Mount::Bind { target, .. }
            | Mount::Secret { target, .. }
            | Mount::Tmpfs { target } => target,
        }
    }
}

/// Parses one `--mount` value as BuildKit's `instructions.ParseMount` does
/// (CSV `key=value` fields; `type` defaults to `bind`).
fn parse_mount(spec: &str, workdir: &str) -> Result<Mount, String> {
    let mut kind = "bind".to_string();
    let mut fields: BTreeMap<String, String> = BTreeMap::new();
    for field in spec.split(',') {
        let (k, v) = match field.split_once('=') {
            Some((k, v)) => (k.trim().to_lowercase(), v.trim().to_string()),
            None => (field.trim().to_lowercase(), String::new()),
        };
        match k.as_str() {
            "type" => kind = v,
            "target" | "dst" | "destination" => {
                fields.insert("target".into(), v);
            }
            "source" | "src" => {
                fields.insert("source".into(), v);
            }
            "id" | "from" | "sharing" | "mode" | "uid" | "gid" | "size" => {
                fields.insert(k, v);
            }
            "required" => {
                fields.insert(k, if v.is_empty() { "true".into() } else { v });
            }
            "ro" | "readonly" | "rw" | "readwrite" => {}
            "env" => {
                fields.insert(k, v);
            }
            _ => return Err(format!("unexpected key '{k}' in '{field}'")),
        }
    }
    let abs = |t: &str| -> String {
        if t.starts_with('/') {
            format!("/{}", clean_path(t))
        } else {
            format!("/{}", clean_path(&format!("{workdir}/{t}")))
        }
    };
    let target = fields.get("target").map(|t| abs(t));
    match kind.as_str() {
        "cache" => {
            let target = target.ok_or("mount type cache requires a target")?;
            let id = fields.get("id").cloned().unwrap_or_else(|| target.clone());
            Ok(Mount::Cache { target, id })
        }
        "bind" => {
            let target = target.ok_or("mount type bind requires a target")?;
            Ok(Mount::Bind {
                target,
                source: fields.get("source").cloned().unwrap_or_default(),
                from: fields.get("from").cloned(),
            })
        }
        "secret" => {
            let id = fields.get("id").cloned().or_else(|| {
                fields
                    .get("target")
                    .map(|t| t.rsplit('/').next().unwrap_or("").to_string())
            });
            let Some(id) = id else {
                return Err("secret mount requires an id or a target".into());
            };
            let target = target.unwrap_or_else(|| format!("/run/secrets/{id}"));
            Ok(Mount::Secret {
                target,
                id,
                required: fields.get("required").is_some_and(|v| v == "true"),
            })
        }
        "tmpfs" => Ok(Mount::Tmpfs {
            target: target.ok_or("mount type tmpfs requires a target")?,
        }),
        "ssh" => {
            Err("imagelab has no SSH agent to forward: --mount=type=ssh is not available".into())
        }
        other => Err(format!("unsupported mount type \"{other}\"")),
    }
}

/// The argv BuildKit runs for a RUN instruction, and the text its history
/// entry and error messages show.
fn command(state: &State, cmd: &ShellOrExec, heredocs: &[Heredoc]) -> Vec<String> {
    match cmd {
        ShellOrExec::Exec(v) => v.clone(),
        ShellOrExec::Shell(s) => {
            let mut argv = steps::shell_of(state);
            let only_heredoc = heredocs.len() == 1 && s.trim_start().starts_with("<<") && {
                let w = s.trim().trim_start_matches("<<").trim_start_matches('-');
                w.trim_matches(|c| c == '"' || c == '\'') == heredocs[0].name
            };
            if only_heredoc {
                // `RUN <<EOF`: the heredoc is the script.
                argv.push(heredocs[0].content.clone());
            } else if heredocs.is_empty() {
                argv.push(s.clone());
            } else {
                // The shell reads the heredocs itself.
                let mut full = s.clone();
                for h in heredocs {
                    full.push('\n');
                    full.push_str(&h.content);
                    if !h.content.ends_with('\n') && !h.content.is_empty() {
                        full.push('\n');
                    }
                    full.push_str(&h.name);
                }
                argv.push(full);
            }
            argv
        }
    }
}

/// `|2 A=1 B=2 ` for the build args in the command's environment (those
/// with a value that no ENV of the same name overrides).
fn build_arg_prefix(state: &State) -> (String, Vec<(String, String)>) {
    let env = env_map(&state.config["config"]["Env"]);
    let mut pairs = Vec::new();
    for (k, v) in &state.env_args {
        let v = env.get(k).cloned().unwrap_or_else(|| v.clone());
        pairs.push((k.clone(), v));
    }
    if pairs.is_empty() {
        return (String::new(), pairs);
    }
    let list: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    (format!("|{} {} ", pairs.len(), list.join(" ")), pairs)
}

fn env_map(v: &Value) -> BTreeMap<String, String> {
    steps::strings(v)
        .into_iter()
        .map(|e| match e.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (e, String::new()),
        })
        .collect()
}

/// The digest of a layer with no entries (BuildKit leaves such a layer out).
fn empty_layer() -> &'static Digest {
    static EMPTY: OnceLock<Digest> = OnceLock::new();
    EMPTY.get_or_init(|| {
        layer::write_tar(&[], std::io::sink())
            .expect("writing to a sink")
            .0
            .diff_id
    })
}

/// Runs a RUN instruction (`ins` expanded, `original` for error positions).
pub(crate) fn run(
    engine: &Engine,
    state: &mut State,
    original: &Instruction,
    ins: &Instruction,
    inp: &RunInputs<'_, '_>,
    logs: &mut Vec<LogLine>,
) -> Result<bool, BuildError> {
    let Kind::Run {
        cmd,
        heredocs,
        mounts,
        network,
        security,
    } = &ins.kind
    else {
        unreachable!("run() is given RUN instructions")
    };
    let started = Instant::now();
    let workdir = state.config["config"]["WorkingDir"]
        .as_str()
        .unwrap_or("/")
        .to_string();
    let mounts: Vec<Mount> = mounts
        .iter()
        .map(|m| parse_mount(m, &workdir))
        .collect::<Result<_, _>>()
        .map_err(|m| BuildError::at(original, m))?;
    if let Some(sec) = security
        && sec != "sandbox"
    {
        return Err(BuildError::at(
            original,
            format!("failed to solve: security.{sec} is not allowed"),
        ));
    }
    let offline = match network.as_deref() {
        None | Some("default") | Some("host") => false,
        Some("none") => true,
        Some(other) => {
            return Err(BuildError::at(
                original,
                format!("unsupported network mode \"{other}\""),
            ));
        }
    };
    let argv = command(state, cmd, heredocs);
    let (prefix, arg_env) = build_arg_prefix(state);
    // The cache key: the instruction (already in the chain), the build args
    // the command sees, and the content of what is bind-mounted.
    let mut key = format!(
        "{}\nrun {argv:?} {arg_env:?} net={offline}",
        state.cache_key
    );
    for m in &mounts {
        if let Mount::Bind { source, from, .. } = m {
            key.push_str(&format!("\nbind {from:?} {source} "));
            if from.is_none() {
                let src = clean_path(source);
                let matched: Vec<String> = inp
                    .ctx
                    .entries
                    .keys()
                    .filter(|p| src.is_empty() || **p == src || p.starts_with(&format!("{src}/")))
                    .cloned()
                    .collect();
                key.push_str(&inp.ctx.checksum(&matched).to_string());
            }
        }
    }
    state.cache_key = Digest::of(key.as_bytes());
    let created_by = format!("RUN {prefix}{} # buildkit", argv.join(" "));
    if !inp.no_cache
        && let Some((d, size)) = engine.store.build_cache_get(&state.cache_key.to_string())
    {
        if d != *empty_layer() {
            state.rootfs = None;
            state.layers.push((d, size));
            history(state, created_by, false);
        } else {
            history(state, created_by, true);
        }
        return Ok(true);
    }

    // The process's world: the stage's root fs, its env, user and cwd.
    let root = steps::rootfs(engine, state)?.entries.clone();
    let mut fs = Fs::new(root, state.mtime);
    let mut env: Vec<String> = steps::strings(&state.config["config"]["Env"]);
    let set: std::collections::BTreeSet<String> = env
        .iter()
        .filter_map(|e| e.split_once('=').map(|(k, _)| k.to_string()))
        .collect();
    for (k, v) in &arg_env {
        if !set.contains(k) {
            env.push(format!("{k}={v}"));
        }
    }
    let user = state.config["config"]["User"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let mut world = World::new(state.platform.clone(), state.mtime);
    world.network = !offline;
    world.foreign = state.foreign;
    let saved = setup_mounts(engine, &mut fs, &mounts, inp, original, &state.platform)?;
    let spec = userland::Spec {
        argv: argv.clone(),
        env,
        cwd: workdir.clone(),
        user,
        stdin: Vec::new(),
    };
    let failed = |code: i32| BuildError::Process {
        command: argv.join(" "),
        code,
        lines: (original.line, original.end_line),
    };
    let outcome = userland::run(&mut fs, &world, &spec);
    let t0 = started.elapsed().as_secs_f64();
    match outcome {
        Err(userland::StartError::Exec(f)) => {
            logs.push(LogLine {
                at: t0,
                text: format!(
                    "runc run failed: unable to start container process: error during container init: {f}"
                ),
            });
            return Err(failed(1));
        }
        Err(e) => {
            // runc resolves the user before the process starts.
            return Err(BuildError::at(original, e.to_string()));
        }
        Ok(o) => {
            for (_, chunk) in &o.transcript.chunks {
                push_lines(logs, t0, chunk);
            }
            if o.status != 0 {
                return Err(failed(o.status));
            }
        }
    }
    teardown_mounts(engine, &mut fs, &mounts, saved)?;
    let entries = fs.diff();
    if entries.is_empty() {
        engine
            .store
            .put_layer(&[], None)
            .and_then(|_| {
                engine
                    .store
                    .build_cache_put(&[(state.cache_key.to_string(), empty_layer().clone())])
            })
            .map_err(crate::engine::EngineError::from)?;
        history(state, created_by, true);
        return Ok(false);
    }
    steps::commit_layer(engine, state, entries, true, None)?;
    history(state, created_by, false);
    Ok(false)
}

/// Splits output into lines (a partial last line is a line too).
fn push_lines(logs: &mut Vec<LogLine>, at: f64, chunk: &[u8]) {
    let text = String::from_utf8_lossy(chunk);
    for l in text.split_inclusive('\n') {
        let l = l.strip_suffix('\n').unwrap_or(l);
        logs.push(LogLine {
            at,
            text: l.to_string(),
        });
    }
}

/// What a mount covered before it was put in place.
type Saved = Vec<(String, Vec<Entry>, bool)>;

/// Puts every mount in place. Returns what each target held before (and
/// whether the target existed), to restore after the command.
fn setup_mounts(
    engine: &Engine,
    fs: &mut Fs,
    mounts: &[Mount],
    inp: &RunInputs<'_, '_>,
    original: &Instruction,
    platform: &crate::catalog::Platform,
) -> Result<Saved, BuildError> {
    let mut saved = Vec::new();
    let root = userland::fs::Cred::ROOT;
    for m in mounts {
        let target = m.target().to_string();
        let t = clean_path(&target);
        let existed = fs.entry(&t).is_some();
        let under: Vec<Entry> = fs
            .walk(&target)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|p| fs.entry(&p).cloned())
            .collect();
        let content: Vec<Entry> = match m {
            Mount::Cache { id, .. } => match engine.store.build_cache_layer(&cache_mount_key(id)) {
                Some(d) => engine.layer_entries(&d)?,
                None => Vec::new(),
            },
            Mount::Tmpfs { .. } => Vec::new(),
            Mount::Secret { id, required, .. } => match inp.secrets.get(id) {
                Some(bytes) => {
                    // The secret is a file at the target.
                    if let Some((dir, _)) = t.rsplit_once('/') {
                        fs.mkdir(&format!("/{dir}"), 0o755, root, true)
                            .map_err(|e| BuildError::at(original, e.to_string()))?;
                    }
                    let under = fs.entry(&t).cloned().into_iter().collect();
                    fs.write(&target, Content::bytes(bytes.clone()), 0o400, root)
                        .map_err(|e| BuildError::at(original, e.to_string()))?;
                    saved.push((target.clone(), under, existed));
                    continue;
                }
                None if *required => {
                    return Err(BuildError::at(original, format!("secret {id}: not found")));
                }
                None => {
                    saved.push((target.clone(), Vec::new(), existed));
                    continue;
                }
            },
            Mount::Bind { source, from, .. } => bind_entries(engine, inp, source, from, platform)
                .map_err(|m| BuildError::at(original, m))?,
        };
        fs.mkdir(&target, 0o755, root, true)
            .map_err(|e| BuildError::at(original, format!("mount {target}: {e}")))?;
        for p in fs.walk(&target).unwrap_or_default().into_iter().rev() {
            let _ = fs.remove_all(&format!("/{p}"));
        }
        for mut e in content {
            e.path = if e.path.is_empty() {
                t.clone()
            } else {
                format!("{t}/{}", e.path)
            };
            if e.path == t {
                continue;
            }
            fs.put(e)
                .map_err(|err| BuildError::at(original, format!("mount {target}: {err}")))?;
        }
        saved.push((target, under, existed));
    }
    Ok(saved)
}

/// The files a bind mount shows: a context path, or a path of an earlier
/// stage or an image (`from=`). Paths relative to the mount source.
fn bind_entries(
    engine: &Engine,
    inp: &RunInputs<'_, '_>,
    source: &str,
    from: &Option<String>,
    platform: &crate::catalog::Platform,
) -> Result<Vec<Entry>, String> {
    let src = clean_path(source);
    let rel = |p: &str| -> Option<String> {
        if src.is_empty() {
            Some(p.to_string())
        } else if p == src {
            Some(String::new())
        } else {
            p.strip_prefix(&format!("{src}/")).map(String::from)
        }
    };
    match from {
        None => {
            let mut out = Vec::new();
            for (p, e) in &inp.ctx.entries {
                let Some(r) = rel(p) else { continue };
                let kind = match &e.kind {
                    CtxKind::Dir => layer::Kind::Dir,
                    CtxKind::File(c, _) => layer::Kind::File(c.clone()),
                    CtxKind::Symlink(t) => layer::Kind::Symlink(t.clone()),
                };
                out.push(Entry::new(&r, kind, e.mode));
            }
            if out.is_empty() && !src.is_empty() {
                return Err(format!(
                    "failed to compute cache key: failed to calculate checksum of ref: \"/{src}\": not found"
                ));
            }
            Ok(out)
        }
        Some(name) => {
            let stage = inp.stages.iter().find(|s| {
                s.name.as_deref() == Some(&name.to_lowercase()) || s.index.to_string() == *name
            });
            let fs = match stage.and_then(|s| inp.done.get(&s.index)) {
                Some(st) => {
                    let ids: Vec<Digest> = st.layers.iter().map(|(d, _)| d.clone()).collect();
                    engine.rootfs(&ids).map_err(|e| e.to_string())?
                }
                None => {
                    let img = engine
                        .lookup(name)
                        .or_else(|_| {
                            engine
                                .pull(name, platform)
                                .and_then(|p| engine.image(&p.id))
                        })
                        .map_err(|e| e.to_string())?;
                    engine
                        .rootfs(&crate::engine::diff_ids_of(&img.config))
                        .map_err(|e| e.to_string())?
                }
            };
            let mut out = Vec::new();
            for (p, e) in &fs.entries {
                if let Some(r) = rel(p) {
                    let mut e = e.clone();
                    e.path = r;
                    out.push(e);
                }
            }
            Ok(out)
        }
    }
}

fn cache_mount_key(id: &str) -> String {
    format!("cachemount {id}")
}

/// Takes the mounts away: a cache mount's contents go to the build cache;
/// every target gets back what it held before.
fn teardown_mounts(
    engine: &Engine,
    fs: &mut Fs,
    mounts: &[Mount],
    saved: Saved,
) -> Result<(), BuildError> {
    for (m, (target, under, existed)) in mounts.iter().zip(saved).rev() {
        let t = clean_path(&target);
        if let Mount::Cache { id, .. } = m {
            let prefix = format!("{t}/");
            let entries: Vec<Entry> = fs
                .walk(&target)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|p| {
                    let mut e = fs.entry(&p)?.clone();
                    e.path = p.strip_prefix(&prefix)?.to_string();
                    Some(e)
                })
                .collect();
            let entries = layer::normalize(entries);
            let (info, _) = engine
                .store
                .put_layer(&entries, None)
                .map_err(crate::engine::EngineError::from)?;
            engine
                .store
                .build_cache_put(&[(cache_mount_key(id), info.diff_id)])
                .map_err(crate::engine::EngineError::from)?;
        }
        if matches!(m, Mount::Secret { .. }) {
            let _ = fs.remove_all(&target);
            for e in under {
                let _ = fs.put(e);
            }
            continue;
        }
        for p in fs.walk(&target).unwrap_or_default().into_iter().rev() {
            let _ = fs.remove_all(&format!("/{p}"));
        }
        for e in under {
            let _ = fs.put(e);
        }
        if !existed {
            // BuildKit leaves the mount point behind, empty.
            let _ = existed;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mounts_parse_as_buildkit_reads_them() {
        assert_eq!(
            parse_mount("type=cache,target=/root/.cache/pip", "/app").unwrap(),
            Mount::Cache {
                target: "/root/.cache/pip".into(),
                id: "/root/.cache/pip".into()
            }
        );
        assert_eq!(
            parse_mount("type=secret,id=npmrc", "/").unwrap(),
            Mount::Secret {
                target: "/run/secrets/npmrc".into(),
                id: "npmrc".into(),
                required: false
            }
        );
        assert_eq!(
            parse_mount("target=src,source=.", "/app").unwrap(),
            Mount::Bind {
                target: "/app/src".into(),
                source: ".".into(),
                from: None
            }
        );
        assert!(parse_mount("type=cache", "/").is_err());
        assert!(parse_mount("type=cache,target=/x,bogus=1", "/").is_err());
    }
}
