//! What each Dockerfile instruction does to a stage's state: the config
//! fields it sets, the history entry BuildKit writes for it, and for COPY and
//! WORKDIR the layer it produces (through the build cache).

use super::context::{Context, CtxKind};
use super::{BuildError, Stage, State};
use crate::digest::Digest;
use crate::dockerfile::{CopyArgs, Instruction, Kind, ShellOrExec};
use crate::engine::{Engine, RootFs};
use crate::layer::{self, Content, Entry, clean_path};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Whether an instruction is a numbered step in BuildKit's progress (it
/// produces a filesystem operation).
pub fn is_step(ins: &Instruction) -> bool {
    matches!(
        ins.kind,
        Kind::Run { .. } | Kind::Copy(_) | Kind::Add(_) | Kind::Workdir(_)
    )
}

pub fn rfc3339(epoch: i64) -> String {
    chrono::DateTime::from_timestamp(epoch, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Go's `%q`-style rendering of a string slice, as BuildKit writes CMD and
/// ENTRYPOINT into history: `["nginx" "-g" "daemon off;"]`.
/// A JSON array of strings as a list (empty when it is not one).
pub(crate) fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

pub fn go_quoted_list(items: &[String]) -> String {
    let q: Vec<String> = items
        .iter()
        .map(|s| serde_json::to_string(s).expect("string serializes"))
        .collect();
    format!("[{}]", q.join(" "))
}

pub(crate) fn shell_of(state: &State) -> Vec<String> {
    state.config["config"]["Shell"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_else(|| vec!["/bin/sh".into(), "-c".into()])
}

fn argv(state: &State, c: &ShellOrExec) -> Vec<String> {
    match c {
        ShellOrExec::Exec(v) => v.clone(),
        ShellOrExec::Shell(s) => {
            let mut v = shell_of(state);
            v.push(s.clone());
            v
        }
    }
}

pub(crate) fn history(state: &mut State, created_by: String, empty: bool) {
    let mut h = json!({
        "created": state.clock,
        "created_by": created_by,
        "comment": "buildkit.dockerfile.v0",
    });
    if empty {
        h["empty_layer"] = json!(true);
    }
    match state.config["history"].as_array_mut() {
        Some(a) => a.push(h),
        None => state.config["history"] = json!([h]),
    }
}

fn set_env(state: &mut State, key: &str, value: &str) {
    let cfg = &mut state.config["config"];
    if !cfg["Env"].is_array() {
        cfg["Env"] = json!([]);
    }
    let env = cfg["Env"].as_array_mut().expect("array");
    let entry = Value::String(format!("{key}={value}"));
    match env
        .iter_mut()
        .find(|e| e.as_str().and_then(|s| s.split_once('=')).map(|(k, _)| k) == Some(key))
    {
        Some(e) => *e = entry,
        None => env.push(entry),
    }
}

fn cfg_obj<'a>(state: &'a mut State, key: &str) -> &'a mut serde_json::Map<String, Value> {
    let cfg = &mut state.config["config"];
    if !cfg[key].is_object() {
        cfg[key] = json!({});
    }
    cfg[key].as_object_mut().expect("object")
}

/// Applies one instruction. Returns whether its step was served from cache.
#[allow(clippy::too_many_arguments)]
pub(crate) fn apply(
    engine: &Engine,
    state: &mut State,
    original: &Instruction,
    ins: &Instruction,
    ctx: &Context,
    done: &BTreeMap<usize, State>,
    stages: &[Stage],
    build_args: &BTreeMap<String, String>,
    no_cache: bool,
    secrets: &BTreeMap<String, Vec<u8>>,
    logs: &mut Vec<super::run::LogLine>,
) -> Result<bool, BuildError> {
    state.cache_key = Digest::of(format!("{}\n{:?}", state.cache_key, ins.kind).as_bytes());
    match &ins.kind {
        Kind::Env(pairs) => {
            for (k, v) in pairs {
                set_env(state, k, v);
            }
            let text: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
            history(state, format!("ENV {}", text.join(" ")), true);
        }
        Kind::Arg(args) => {
            let mut shown = Vec::new();
            for (k, default) in args {
                // A build arg wins; then the default; then a global ARG of the same name.
                let value = build_args
                    .get(k)
                    .cloned()
                    .or_else(|| default.clone())
                    .or_else(|| state.global_args.get(k).cloned());
                match &value {
                    Some(v) => {
                        state.env_args.insert(k.clone(), v.clone());
                        shown.push(format!("{k}={v}"));
                    }
                    None => shown.push(k.clone()),
                }
            }
            history(state, format!("ARG {}", shown.join(" ")), true);
        }
        Kind::Label(pairs) => {
            for (k, v) in pairs {
                cfg_obj(state, "Labels").insert(k.clone(), Value::String(v.clone()));
            }
            let text: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
            history(state, format!("LABEL {}", text.join(" ")), true);
        }
        Kind::Maintainer(m) => {
            state.config["author"] = Value::String(m.clone());
            history(state, format!("MAINTAINER {m}"), true);
        }
        Kind::Expose(ports) => {
            let mut added = BTreeMap::new();
            for p in ports {
                for port in expand_port(p).map_err(|m| BuildError::at(original, m))? {
                    cfg_obj(state, "ExposedPorts").insert(port.clone(), json!({}));
                    added.insert(port, ());
                }
            }
            let list: Vec<String> = added.keys().map(|k| format!("{k}:{{}}")).collect();
            history(state, format!("EXPOSE map[{}]", list.join(" ")), true);
        }
        Kind::User(u) => {
            state.config["config"]["User"] = Value::String(u.clone());
            history(state, format!("USER {u}"), true);
        }
        Kind::StopSignal(s) => {
            state.config["config"]["StopSignal"] = Value::String(s.clone());
            history(state, format!("STOPSIGNAL {s}"), true);
        }
        Kind::Volume(vols) => {
            for v in vols {
                cfg_obj(state, "Volumes").insert(v.clone(), json!({}));
            }
            history(state, format!("VOLUME [{}]", vols.join(" ")), true);
        }
        Kind::Cmd(c) => {
            let v = argv(state, c);
            state.config["config"]["Cmd"] = json!(v);
            state.config["config"]["ArgsEscaped"] = json!(true);
            state.cmd_set = true;
            history(state, format!("CMD {}", go_quoted_list(&v)), true);
        }
        Kind::Entrypoint(c) => {
            let v = argv(state, c);
            state.config["config"]["Entrypoint"] = json!(v);
            // BuildKit clears CMD when ENTRYPOINT is set, unless this stage
            // set CMD itself.
            if !state.cmd_set {
                state.config["config"]["Cmd"] = Value::Null;
            }
            history(state, format!("ENTRYPOINT {}", go_quoted_list(&v)), true);
        }
        Kind::Shell(v) => {
            state.config["config"]["Shell"] = json!(v);
            history(state, format!("SHELL [{}]", v.join(" ")), true);
        }
        Kind::Healthcheck(h) => {
            let mut nanos = [0i64; 4];
            let v = match h {
                None => json!({"Test": ["NONE"]}),
                Some(h) => {
                    let mut o = json!({"Test": h.test});
                    let fields = [
                        ("Interval", &h.interval),
                        ("Timeout", &h.timeout),
                        ("StartPeriod", &h.start_period),
                        ("StartInterval", &h.start_interval),
                    ];
                    for (i, (k, val)) in fields.into_iter().enumerate() {
                        if let Some(d) = val {
                            let n = crate::dockerfile::go_duration_nanos(d).ok_or_else(|| {
                                BuildError::at(original, format!("time: invalid duration \"{d}\""))
                            })?;
                            nanos[i] = n;
                            if n != 0 {
                                o[k] = json!(n);
                            }
                        }
                    }
                    if let Some(r) = h.retries.filter(|r| *r != 0) {
                        o["Retries"] = json!(r);
                    }
                    o
                }
            };
            let test = strings(&v["Test"]);
            let retries = v["Retries"].as_u64().unwrap_or(0);
            state.config["config"]["Healthcheck"] = v;
            // BuildKit writes Go's `%q` of the config struct pointer.
            let durations: Vec<String> = nanos
                .iter()
                .map(|n| format!("\"{}\"", go_duration_string(*n)))
                .collect();
            history(
                state,
                format!(
                    "HEALTHCHECK &{{{} {} {}}}",
                    go_quoted_list(&test),
                    durations.join(" "),
                    go_quote_rune(retries)
                ),
                true,
            );
        }
        Kind::Onbuild(inner) => {
            let text = inner.original.clone();
            let cfg = &mut state.config["config"];
            if !cfg["OnBuild"].is_array() {
                cfg["OnBuild"] = json!([]);
            }
            cfg["OnBuild"]
                .as_array_mut()
                .expect("array")
                .push(Value::String(text.clone()));
            // BuildKit records ONBUILD in the config only, with no history entry.
        }
        Kind::Workdir(dir) => {
            let cur = state.config["config"]["WorkingDir"]
                .as_str()
                .unwrap_or("/")
                .to_string();
            let path = if dir.starts_with('/') {
                dir.clone()
            } else {
                format!("{}/{}", cur.trim_end_matches('/'), dir)
            };
            let path = format!("/{}", clean_path(&path));
            state.config["config"]["WorkingDir"] = Value::String(path.clone());
            let mtime = state.mtime;
            let fs = rootfs(engine, state)?;
            let missing = !fs.is_dir(&path);
            let cached = if missing {
                // BuildKit creates the directory as the current USER.
                let user = state.config["config"]["User"]
                    .as_str()
                    .unwrap_or("")
                    .to_string();
                let fs = rootfs(engine, state)?;
                let (uid, gid) = if user.is_empty() {
                    (0, 0)
                } else {
                    chown_ids(fs, &user).unwrap_or((0, 0))
                };
                let entries = mkdir_entries(fs, &path, mtime, uid, gid);
                commit_layer(engine, state, entries, no_cache, None)?
            } else {
                false
            };
            history(state, format!("WORKDIR {path}"), !missing);
            return Ok(cached);
        }
        Kind::Copy(c) | Kind::Add(c) => {
            let is_add = matches!(ins.kind, Kind::Add(_));
            return copy(
                engine, state, original, c, is_add, ctx, done, stages, no_cache,
            );
        }
        Kind::Run { .. } => {
            let inputs = super::run::RunInputs {
                ctx,
                done,
                stages,
                no_cache,
                secrets,
            };
            return super::run::run(engine, state, original, ins, &inputs, logs);
        }
        Kind::From { .. } => unreachable!("FROM starts a stage"),
        Kind::Unknown { .. } => unreachable!("unknown instructions only occur inside ONBUILD"),
    }
    Ok(false)
}

/// EXPOSE values: `80`, `80/tcp`, `53/udp`, ranges `8000-8002`.
fn expand_port(p: &str) -> Result<Vec<String>, String> {
    let (ports, proto) = match p.split_once('/') {
        Some((a, b)) => (a, b.to_lowercase()),
        None => (p, "tcp".to_string()),
    };
    if !["tcp", "udp", "sctp"].contains(&proto.as_str()) {
        return Err(format!("invalid proto: {proto}"));
    }
    let bad = || format!("invalid containerPort: {ports}");
    let (lo, hi) = match ports.split_once('-') {
        Some((a, b)) => (
            a.parse::<u32>().map_err(|_| bad())?,
            b.parse::<u32>().map_err(|_| bad())?,
        ),
        None => {
            let n = ports.parse::<u32>().map_err(|_| bad())?;
            (n, n)
        }
    };
    if hi < lo || hi > 65535 {
        return Err(bad());
    }
    Ok((lo..=hi).map(|n| format!("{n}/{proto}")).collect())
}

/// Go's `time.Duration.String()`: `30s`, `1m30s`, `1h0m0s`, `500ms`, `0s`.
pub fn go_duration_string(ns: i64) -> String {
    if ns == 0 {
        return "0s".into();
    }
    let neg = ns < 0;
    let u = ns.unsigned_abs();
    let sign = if neg { "-" } else { "" };
    if u < 1_000_000_000 {
        let (unit, div) = if u < 1_000 {
            ("ns", 1)
        } else if u < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        return format!("{sign}{}{unit}", frac(u, div));
    }
    let secs = u / 1_000_000_000;
    let (h, m) = (secs / 3600, (secs / 60) % 60);
    let s = frac(u % 60_000_000_000, 1_000_000_000);
    match (h, m) {
        (0, 0) => format!("{sign}{s}s"),
        (0, m) => format!("{sign}{m}m{s}s"),
        (h, m) => format!("{sign}{h}h{m}m{s}s"),
    }
}

/// `n / div` with Go's trimmed fractional digits (`1.5`, `2`).
fn frac(n: u64, div: u64) -> String {
    let whole = n / div;
    let rest = n % div;
    if rest == 0 {
        return whole.to_string();
    }
    let width = div.ilog10() as usize;
    let digits = format!("{rest:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// Go's `%q` of an integer: a quoted rune literal (`'\x03'`, `'A'`).
pub fn go_quote_rune(n: u64) -> String {
    match char::from_u32(n as u32) {
        Some(c) if (0x20..0x7f).contains(&n) && c != '\'' && c != '\\' => format!("'{c}'"),
        Some('\'') => "'\\''".into(),
        Some('\\') => "'\\\\'".into(),
        _ if n < 0x80 => match n {
            7 => "'\\a'".into(),
            8 => "'\\b'".into(),
            9 => "'\\t'".into(),
            10 => "'\\n'".into(),
            11 => "'\\v'".into(),
            12 => "'\\f'".into(),
            13 => "'\\r'".into(),
            _ => format!("'\\x{n:02x}'"),
        },
        Some(c) => format!("'{c}'"),
        None => format!("'\\U{n:08x}'"),
    }
}

/// The stage's merged root file system, loaded on first need.
pub(crate) fn rootfs<'s>(engine: &Engine, state: &'s mut State) -> Result<&'s RootFs, BuildError> {
    if state.rootfs.is_none() {
        let ids: Vec<Digest> = state.layers.iter().map(|(d, _)| d.clone()).collect();
        state.rootfs = Some(engine.rootfs(&ids)?);
    }
    Ok(state.rootfs.as_ref().expect("loaded"))
}

/// Entries creating `path` and its missing parents.
fn mkdir_entries(fs: &RootFs, path: &str, mtime: u64, uid: u32, gid: u32) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for part in clean_path(path).split('/').filter(|p| !p.is_empty()) {
        cur = if cur.is_empty() {
            part.to_string()
        } else {
            format!("{cur}/{part}")
        };
        match fs.get(&cur) {
            Some(e) if matches!(e.kind, layer::Kind::Dir) => {
                out.push(Entry { mtime, ..e.clone() });
            }
            _ => out.push(Entry::dir(&cur, 0o755).owned(uid, gid).at(mtime)),
        }
    }
    out
}

/// Serves the current step from the build cache when it can: the layer is
/// added to the state (and to the root fs if one is loaded). Checked before
/// any work, so a cached step costs one lookup.
fn from_cache(engine: &Engine, state: &mut State, no_cache: bool) -> Result<bool, BuildError> {
    if no_cache {
        return Ok(false);
    }
    let Some((d, size)) = engine.store.build_cache_get(&state.cache_key.to_string()) else {
        return Ok(false);
    };
    // The merged root fs, if loaded, is dropped rather than updated: applying
    // the layer would read all of its bytes, and most builds never look at
    // the root fs again. `rootfs` reloads it if a later step needs it.
    state.rootfs = None;
    state.layers.push((d, size));
    Ok(true)
}

/// Writes a layer (or finds it in the build cache) and adds it to the state.
///
/// `step` names the step apart from its sources (the cache key before the
/// COPY sources' checksum is mixed in): the layer an earlier build of the
/// same step stored whole is recorded under it, and offered to the store as
/// the base a new layer can take unchanged file bytes from.
pub(crate) fn commit_layer(
    engine: &Engine,
    state: &mut State,
    entries: Vec<Entry>,
    no_cache: bool,
    step: Option<&Digest>,
) -> Result<bool, BuildError> {
    if from_cache(engine, state, no_cache)? {
        return Ok(true);
    }
    let entries = layer::normalize(entries);
    let base_key = step.map(|k| format!("base {k}"));
    let base = base_key
        .as_ref()
        .and_then(|k| engine.store.build_cache_layer(k));
    let (info, split_from) = engine
        .store
        .put_layer(&entries, base.as_ref())
        .map_err(crate::engine::EngineError::from)?;
    let mut record = vec![(state.cache_key.to_string(), info.diff_id.clone())];
    if let Some(k) = base_key {
        record.push((k, split_from.unwrap_or_else(|| info.diff_id.clone())));
    }
    engine
        .store
        .build_cache_put(&record)
        .map_err(crate::engine::EngineError::from)?;
    let size = layer::content_size(&entries);
    state.layers.push((info.diff_id, size));
    if let Some(fs) = state.rootfs.as_mut() {
        fs.apply(entries);
    }
    Ok(false)
}

fn lookup_id(fs: &RootFs, file: &str, name: &str) -> Option<u32> {
    let text = String::from_utf8(fs.read(file)?).ok()?;
    text.lines().find_map(|l| {
        let mut f = l.split(':');
        (f.next()? == name).then(|| f.nth(1)?.parse().ok())?
    })
}

/// Resolves `--chown=user[:group]` through the image's /etc/passwd and /etc/group.
fn chown_ids(fs: &RootFs, spec: &str) -> Result<(u32, u32), String> {
    let (user, group) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let uid = match user.parse::<u32>() {
        Ok(n) => n,
        Err(_) => lookup_id(fs, "etc/passwd", user).ok_or_else(|| {
            format!("unable to convert uid/gid chown string to host mapping: can't find uid for user {user}: no such user: {user}")
        })?,
    };
    let gid = match group {
        None => match user.parse::<u32>() {
            Ok(n) => n,
            Err(_) => {
                let text = fs.read("etc/passwd").map(|b| String::from_utf8_lossy(&b).to_string()).unwrap_or_default();
                text.lines()
                    .find_map(|l| {
                        let f: Vec<&str> = l.split(':').collect();
                        (f.first() == Some(&user)).then(|| f.get(3)?.parse().ok())?
                    })
                    .unwrap_or(uid)
            }
        },
        Some(g) => match g.parse::<u32>() {
            Ok(n) => n,
            Err(_) => lookup_id(fs, "etc/group", g).ok_or_else(|| {
                format!("unable to convert uid/gid chown string to host mapping: can't find gid for group {g}: no such group: {g}")
            })?,
        },
    };
    Ok((uid, gid))
}

/// COPY / ADD of local files (or from another stage / image with --from).
#[allow(clippy::too_many_arguments)]
fn copy(
    engine: &Engine,
    state: &mut State,
    original: &Instruction,
    c: &CopyArgs,
    is_add: bool,
    ctx: &Context,
    done: &BTreeMap<usize, State>,
    stages: &[Stage],
    no_cache: bool,
) -> Result<bool, BuildError> {
    let verb = if is_add { "ADD" } else { "COPY" };
    if c.sources
        .iter()
        .any(|s| s.contains("://") || s.starts_with("git@"))
    {
        return Err(BuildError::at(
            original,
            format!("{verb} from a URL needs the network, which imagelab does not have"),
        ));
    }
    // Where sources come from: the context, or another stage's / image's root fs.
    let mut source_key: Option<Digest> = None;
    let from_fs: Option<RootFs> = match &c.from {
        None => None,
        Some(f) => {
            let lower = f.to_lowercase();
            let stage = stages
                .iter()
                .find(|s| s.name.as_deref() == Some(&lower))
                .map(|s| s.index)
                .or_else(|| f.parse::<usize>().ok());
            match stage.and_then(|i| done.get(&i)) {
                Some(st) => {
                    source_key = Some(st.cache_key.clone());
                    let ids: Vec<Digest> = st.layers.iter().map(|(d, _)| d.clone()).collect();
                    Some(match &st.rootfs {
                        Some(fs) => fs.clone(),
                        None => engine.rootfs(&ids)?,
                    })
                }
                None => {
                    let img = crate::engine::Engine::lookup(engine, f)
                        .or_else(|_| {
                            engine
                                .pull(f, &state.platform)
                                .and_then(|p| engine.image(&p.id))
                        })
                        .map_err(|e| BuildError::at(original, e.to_string()))?;
                    source_key = Some(img.id.clone());
                    Some(engine.rootfs(&crate::engine::diff_ids_of(&img.config))?)
                }
            }
        }
    };
    // Resolve sources.
    let mut matched: Vec<String> = Vec::new();
    // `--parents`: what of each matched path is kept under the destination
    // (all of it, or what follows a `/./` pivot in the source).
    let mut pivots: BTreeMap<String, String> = BTreeMap::new();
    let exclude = if c.exclude.is_empty() {
        None
    } else {
        Some(
            super::ignore::Matcher::from_patterns(&c.exclude)
                .map_err(|e| BuildError::at(original, e.to_string()))?,
        )
    };
    let excluded = |path: &str, rel: Option<&str>| -> bool {
        exclude.as_ref().is_some_and(|m| {
            m.excludes(path).unwrap_or(false) || rel.is_some_and(|r| m.excludes(r).unwrap_or(false))
        })
    };
    for src in &c.sources {
        if c.parents {
            let pivot = match src.split_once("/./") {
                Some((before, _)) => clean_path(before),
                None => String::new(),
            };
            for m in match &from_fs {
                None => ctx.matches(src),
                Some(_) => vec![clean_path(src)],
            } {
                pivots.insert(m, pivot.clone());
            }
        }
        let found = match &from_fs {
            None => ctx.matches(src),
            Some(fs) => {
                let p = fs.resolve(src);
                if p.is_empty() || fs.get(&p).is_some() {
                    vec![p]
                } else {
                    vec![]
                }
            }
        };
        if found.is_empty() {
            let shown = format!("/{}", clean_path(src));
            let msg = if state.legacy {
                format!(
                    "{verb} failed: file not found in build context or excluded by .dockerignore: stat {}: file does not exist",
                    clean_path(src)
                )
            } else if c.from.is_none() {
                // BuildKit names a ref here; imagelab's stand-in is fixed.
                let r = &Digest::of(b"").hex()[..25];
                format!(
                    "failed to compute cache key: failed to calculate checksum of ref {r}::{r}: \"{shown}\": not found"
                )
            } else {
                format!(
                    "failed to compute cache key: failed to calculate checksum of ref: \"{shown}\": not found"
                )
            };
            return Err(BuildError::at(original, msg));
        }
        matched.extend(found.into_iter().filter(|m| !excluded(m, None)));
    }
    // The part of a matched path `--parents` keeps.
    let kept = |src: &str| -> Option<String> {
        let pivot = pivots.get(src)?;
        Some(if pivot.is_empty() {
            src.to_string()
        } else {
            src.strip_prefix(&format!("{pivot}/"))
                .unwrap_or(src)
                .to_string()
        })
    };
    let mut sources = match &source_key {
        None => ctx.checksum(&matched),
        Some(k) => Digest::of(format!("{k}\n{matched:?}").as_bytes()),
    };
    if !c.heredocs.is_empty() {
        let docs: Vec<(&str, &str)> = c
            .heredocs
            .iter()
            .map(|h| (h.name.as_str(), h.content.as_str()))
            .collect();
        sources = Digest::of(format!("{sources}\n{docs:?}").as_bytes());
    }
    let step = state.cache_key.clone();
    state.cache_key = Digest::of(format!("{}\n{sources}", state.cache_key).as_bytes());
    // `--link`: the layer does not depend on what is below it, so it is
    // also found by a key that leaves the parent out (a change in an
    // earlier step then keeps this step's layer).
    let link_key = c.link.then(|| {
        let workdir = state.config["config"]["WorkingDir"].as_str().unwrap_or("/");
        format!(
            "link {}",
            Digest::of(format!("{:?}\n{workdir}\n{sources}", c).as_bytes())
        )
    });
    if from_cache(engine, state, no_cache)? {
        copy_history(state, verb, c);
        return Ok(true);
    }
    if let Some(k) = &link_key
        && !no_cache
        && let Some((d, size)) = engine.store.build_cache_get(k)
    {
        engine
            .store
            .build_cache_put(&[(state.cache_key.to_string(), d.clone())])
            .map_err(crate::engine::EngineError::from)?;
        state.rootfs = None;
        state.layers.push((d, size));
        copy_history(state, verb, c);
        return Ok(true);
    }
    let workdir = state.config["config"]["WorkingDir"]
        .as_str()
        .unwrap_or("/")
        .to_string();
    let dest_raw = if c.dest.starts_with('/') {
        c.dest.clone()
    } else {
        format!("{}/{}", workdir.trim_end_matches('/'), c.dest)
    };
    let dest_is_dir_syntax = c.dest.ends_with('/') || c.dest == "." || c.dest.ends_with("/.");
    let dest = clean_path(&dest_raw);
    let mtime = state.mtime;
    let fs = rootfs(engine, state)?;
    let (uid, gid) = match &c.chown {
        Some(spec) => chown_ids(fs, spec).map_err(|m| BuildError::at(original, m))?,
        None => (0, 0),
    };
    let chmod = match &c.chmod {
        Some(m) => Some(
            u32::from_str_radix(m, 8)
                .map_err(|_| BuildError::at(original, format!("invalid chmod parameter: {m}")))?,
        ),
        None => None,
    };
    let many = matched.len() + c.heredocs.len() > 1
        || c.parents
        || c.sources.iter().any(|s| s.contains(['*', '?', '[']));
    let dest_is_dir = dest_is_dir_syntax || many || fs.is_dir(&dest);
    let mut entries: Vec<Entry> = Vec::new();
    // ADD of a local tar archive (plain, gzip, bzip2, xz or zstd, known by
    // its content) extracts it into the destination directory.
    let mut unpacked: Vec<Entry> = Vec::new();
    let unpack = is_add && c.unpack != Some(false);
    let mut put = |path: String, kind: layer::Kind, mode: u32| {
        let mode = match (&kind, chmod) {
            (layer::Kind::Symlink(_), _) => mode,
            (_, Some(m)) => m,
            _ => mode,
        };
        entries.push(Entry {
            path: clean_path(&path),
            kind,
            mode,
            uid,
            gid,
            mtime,
        });
    };
    for src in &matched {
        let base = src.rsplit('/').next().unwrap_or("").to_string();
        // Where this source lands: `--parents` keeps its path.
        let (dest, dest_is_dir, base) = match kept(src) {
            Some(k) if !k.is_empty() => {
                let full = clean_path(&format!("{dest}/{k}"));
                // The kept parent directories come along.
                let mut cur = dest.clone();
                for part in k.split('/').take(k.split('/').count() - 1) {
                    cur = clean_path(&format!("{cur}/{part}"));
                    put(cur.clone(), layer::Kind::Dir, 0o755);
                }
                let (d, b) = match full.rsplit_once('/') {
                    Some((d, b)) => (d.to_string(), b.to_string()),
                    None => (String::new(), full.clone()),
                };
                let is_dir = match &from_fs {
                    None => matches!(ctx.entries.get(src).map(|e| &e.kind), Some(CtxKind::Dir)),
                    Some(sfs) => sfs.is_dir(src),
                };
                if is_dir {
                    (full, true, b)
                } else {
                    (d, true, b)
                }
            }
            _ => (dest.clone(), dest_is_dir, base),
        };
        let skip = |rel: &str| -> bool {
            let full = if src.is_empty() {
                rel.to_string()
            } else {
                format!("{src}/{rel}")
            };
            excluded(&full, Some(rel))
        };
        match &from_fs {
            None => {
                let is_dir = src.is_empty()
                    || matches!(ctx.entries.get(src).map(|e| &e.kind), Some(CtxKind::Dir));
                if is_dir {
                    for (rel, e) in ctx.under(src) {
                        if skip(rel) {
                            continue;
                        }
                        let target = format!("{dest}/{rel}");
                        put(target, ctx_kind(&e.kind), e.mode);
                    }
                    put(dest.clone(), layer::Kind::Dir, 0o755);
                } else if let (true, CtxKind::File(content, _)) = (unpack, &ctx.entries[src].kind)
                    && let bytes = content
                        .to_vec()
                        .map_err(|e| BuildError::at(original, format!("{verb} {src}: {e}")))?
                    && super::archive::detect(&bytes).is_some()
                {
                    let limits = super::archive::Limits::default();
                    let found = super::archive::extract(&bytes, &limits, mtime)
                        .map_err(|e| BuildError::at(original, format!("{verb} {src}: {e}")))?;
                    unpacked.push(Entry {
                        path: dest.clone(),
                        kind: layer::Kind::Dir,
                        mode: 0o755,
                        uid,
                        gid,
                        mtime,
                    });
                    for mut e in found {
                        e.path = clean_path(&format!("{dest}/{}", e.path));
                        if let layer::Kind::Hardlink(t) = &e.kind {
                            e.kind = layer::Kind::Hardlink(clean_path(&format!("{dest}/{t}")));
                        }
                        if c.chown.is_some() {
                            (e.uid, e.gid) = (uid, gid);
                        }
                        unpacked.push(e);
                    }
                } else {
                    let e = &ctx.entries[src];
                    let target = if dest_is_dir {
                        format!("{dest}/{base}")
                    } else {
                        dest.clone()
                    };
                    put(target, ctx_kind(&e.kind), e.mode);
                }
            }
            Some(sfs) => {
                let is_dir = src.is_empty() || sfs.is_dir(src);
                if is_dir {
                    let prefix = if src.is_empty() {
                        String::new()
                    } else {
                        format!("{src}/")
                    };
                    for (p, e) in sfs.entries.range(prefix.clone()..) {
                        let Some(rel) = p.strip_prefix(&prefix) else {
                            break;
                        };
                        if skip(rel) {
                            continue;
                        }
                        put(format!("{dest}/{rel}"), e.kind.clone(), e.mode);
                    }
                    put(dest.clone(), layer::Kind::Dir, 0o755);
                } else {
                    let e = sfs.get(src).expect("matched");
                    let target = if dest_is_dir {
                        format!("{dest}/{base}")
                    } else {
                        dest.clone()
                    };
                    put(target, e.kind.clone(), e.mode);
                }
            }
        }
    }
    // Here-documents become files of their own (BuildKit's inline
    // documents, mode 0644 unless --chmod).
    for h in &c.heredocs {
        let target = if dest_is_dir {
            format!("{dest}/{}", h.name)
        } else {
            dest.clone()
        };
        put(
            target,
            layer::Kind::File(Content::bytes(h.content.as_bytes().to_vec())),
            0o644,
        );
    }
    entries.extend(unpacked);
    // Parent directories of the destination, as they appear in the layer diff.
    let parent = if dest_is_dir {
        dest.clone()
    } else {
        dest.rsplit_once('/')
            .map(|(d, _)| d.to_string())
            .unwrap_or_default()
    };
    let empty = RootFs::default();
    // A linked layer is made on an empty root: its directories are its own.
    let below = if c.link { &empty } else { fs };
    let mut all = mkdir_entries(below, &parent, mtime, 0, 0);
    // A directory created by the copy itself keeps the chown.
    for e in all.iter_mut() {
        if fs.get(&e.path).is_none() && c.chown.is_some() {
            e.uid = uid;
            e.gid = gid;
        }
    }
    all.extend(entries);
    let step = source_key.is_none().then_some(&step);
    let cached = commit_layer(engine, state, all, no_cache, step)?;
    if let (Some(k), Some((d, _))) = (link_key, state.layers.last()) {
        engine
            .store
            .build_cache_put(&[(k, d.clone())])
            .map_err(crate::engine::EngineError::from)?;
    }
    copy_history(state, verb, c);
    Ok(cached)
}

fn copy_history(state: &mut State, verb: &str, c: &CopyArgs) {
    let flags = copy_flags(c);
    let mut srcs: Vec<String> = c.sources.clone();
    srcs.extend(c.heredocs.iter().map(|h| format!("<<{}", h.name)));
    history(
        state,
        format!("{verb} {flags}{} {} # buildkit", srcs.join(" "), c.dest),
        false,
    );
}

/// The flags BuildKit writes into COPY/ADD history: `--parents`,
/// `--chown`, `--chmod` (never `--from` or `--link`).
fn copy_flags(c: &CopyArgs) -> String {
    let mut f = String::new();
    if c.parents {
        f.push_str("--parents ");
    }
    if let Some(v) = &c.chown {
        f.push_str(&format!("--chown={v} "));
    }
    if let Some(v) = &c.chmod {
        f.push_str(&format!("--chmod={v} "));
    }
    f
}

fn ctx_kind(k: &CtxKind) -> layer::Kind {
    match k {
        CtxKind::File(c, _) => layer::Kind::File(c.clone()),
        CtxKind::Dir => layer::Kind::Dir,
        CtxKind::Symlink(t) => layer::Kind::Symlink(t.clone()),
    }
}

/// The exported config: BuildKit's field order (created, architecture, os,
/// variant, config, rootfs, history) with the rootfs filled in.
pub(crate) fn final_config(config: Value, state: &State) -> Value {
    let mut out = serde_json::Map::new();
    out.insert("created".into(), Value::String(state.clock.clone()));
    if let Some(a) = config.get("author") {
        out.insert("author".into(), a.clone());
    }
    out.insert(
        "architecture".into(),
        Value::String(state.platform.architecture.clone()),
    );
    out.insert("os".into(), Value::String(state.platform.os.clone()));
    if let Some(v) = &state.platform.variant {
        out.insert("variant".into(), Value::String(v.clone()));
    }
    out.insert(
        "config".into(),
        sorted_maps(config.get("config").cloned().unwrap_or(json!({}))),
    );
    rootfs_and_history(out, &config, state)
}

/// Ends a config: `rootfs` from the stage's layers, then `history`.
pub(crate) fn rootfs_and_history(
    mut out: serde_json::Map<String, Value>,
    config: &Value,
    state: &State,
) -> Value {
    let diff_ids: Vec<String> = state.layers.iter().map(|(d, _)| d.to_string()).collect();
    out.insert(
        "rootfs".into(),
        json!({"type": "layers", "diff_ids": diff_ids}),
    );
    out.insert(
        "history".into(),
        config.get("history").cloned().unwrap_or(json!([])),
    );
    Value::Object(out)
}

/// Go's encoding/json writes map keys sorted: the config's map fields
/// (`Labels`, `ExposedPorts`, `Volumes`) are sorted so the config blob, and
/// so the image ID, is the one BuildKit writes.
pub(crate) fn sorted_maps(mut config: Value) -> Value {
    for k in ["Labels", "ExposedPorts", "Volumes"] {
        if let Some(Value::Object(m)) = config.get_mut(k) {
            let mut entries: Vec<(String, Value)> = std::mem::take(m).into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            m.extend(entries);
        }
    }
    config
}

#[allow(dead_code)]
fn content_of(s: &str) -> Content {
    Content::bytes(s.as_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_print_as_go_does() {
        let cases = [
            (0, "0s"),
            (30_000_000_000, "30s"),
            (90_000_000_000, "1m30s"),
            (3_600_000_000_000, "1h0m0s"),
            (500_000_000, "500ms"),
            (1_500_000_000, "1.5s"),
            (2_000, "2µs"),
        ];
        for (n, want) in cases {
            assert_eq!(go_duration_string(n), want);
        }
    }

    #[test]
    fn go_rune_quotes() {
        assert_eq!(go_quote_rune(3), "'\\x03'");
        assert_eq!(go_quote_rune(0), "'\\x00'");
        assert_eq!(go_quote_rune(65), "'A'");
        assert_eq!(go_quote_rune(10), "'\\n'");
    }
}
