//! The legacy builder (`DOCKER_BUILDKIT=0`), as Docker Engine 28's classic
//! builder behaves: every instruction after `FROM` commits an image whose
//! parent is the previous step's image, so the intermediate images stay in
//! the store (hidden from `docker images`, shown with `-a`, named in
//! `docker history`) and a learner can start from one to debug a failed
//! build. History reads `/bin/sh -c #(nop)  CMD ["nginx"]` for metadata and
//! `/bin/sh -c #(nop) COPY file:<hash> in <dest> ` for copies; `created` is
//! the clock (the classic builder does not honour `SOURCE_DATE_EPOCH`), and
//! its cache is the set of local images: a step is `Using cache` when a child
//! of the current image was committed from the same instruction and config.
//! The step lines (`Step N/M : ...`, ` ---> id`) are returned as data.

use super::State;
use super::context::{Context, CtxKind};
use crate::digest::Digest;
use crate::dockerfile::{Instruction, Kind, ShellOrExec};
use crate::engine::{Engine, EngineError};
use serde_json::{Value, json};

/// The deprecation banner the docker CLI prints on stderr when
/// `DOCKER_BUILDKIT=0` turns BuildKit off.
pub const BANNER: &str =
    "DEPRECATED: The legacy builder is deprecated and will be removed in a future release.
            BuildKit is currently disabled; enable it by removing the DOCKER_BUILDKIT=0
            environment-variable.
";

/// `created_by` of the image the classic builder commits for `ins` (expanded),
/// given the stage state after the instruction applied.
pub(crate) fn created_by(ins: &Instruction, state: &State, ctx: &Context) -> String {
    let shell = super::steps::shell_of(state).join(" ");
    // `commit(comment)` joins the shell, `#(nop) ` and the comment with
    // spaces (hence two spaces); WORKDIR and copies put `#(nop) ` and the
    // comment in one word (one space).
    let nop = |comment: String| format!("{shell} #(nop)  {comment}");
    let cfg = &state.config["config"];
    match &ins.kind {
        Kind::Env(pairs) | Kind::Label(pairs) => {
            let kw = if matches!(ins.kind, Kind::Env(_)) {
                "ENV"
            } else {
                "LABEL"
            };
            let mut s = kw.to_string();
            for (k, v) in pairs {
                s.push_str(&format!(" {k}={v}"));
            }
            nop(s)
        }
        Kind::Arg(args) => {
            let list: Vec<String> = args
                .iter()
                .map(|(k, v)| match v {
                    Some(v) => format!("{k}={v}"),
                    None => k.clone(),
                })
                .collect();
            nop(format!("ARG {}", list.join(" ")))
        }
        Kind::Maintainer(m) => nop(format!("MAINTAINER {m}")),
        Kind::Expose(ports) => nop(format!("EXPOSE {}", ports.join(" "))),
        Kind::User(u) => nop(format!("USER {u}")),
        Kind::StopSignal(s) => nop(format!("STOPSIGNAL {s}")),
        Kind::Volume(v) => nop(format!("VOLUME [{}]", v.join(" "))),
        Kind::Shell(v) => nop(format!("SHELL [{}]", v.join(" "))),
        Kind::Cmd(_) => nop(format!("CMD {}", go_list(&cfg["Cmd"]))),
        Kind::Entrypoint(_) => nop(format!("ENTRYPOINT {}", go_list(&cfg["Entrypoint"]))),
        Kind::Healthcheck(_) => {
            // The same `%q` of the config struct BuildKit writes.
            let last = state.config["history"]
                .as_array()
                .and_then(|h| h.last())
                .and_then(|h| h["created_by"].as_str())
                .unwrap_or("")
                .to_string();
            nop(last)
        }
        Kind::Onbuild(inner) => nop(format!("ONBUILD {}", inner.original)),
        Kind::Workdir(_) => format!(
            "{shell} #(nop) WORKDIR {}",
            cfg["WorkingDir"].as_str().unwrap_or("/")
        ),
        Kind::Copy(c) | Kind::Add(c) => {
            let verb = if matches!(ins.kind, Kind::Add(_)) {
                "ADD"
            } else {
                "COPY"
            };
            format!(
                "{shell} #(nop) {verb} {} in {} ",
                source_hash(c, ctx),
                c.dest
            )
        }
        Kind::Run { cmd, .. } => match cmd {
            ShellOrExec::Shell(s) => format!("{shell} {s}"),
            ShellOrExec::Exec(v) => v.join(" "),
        },
        Kind::From { .. } | Kind::Unknown { .. } => String::new(),
    }
}

/// Go's `%q` of a string slice: `["nginx" "-g" "daemon off;"]`.
fn go_list(v: &Value) -> String {
    super::steps::go_quoted_list(&super::steps::strings(v))
}

/// The classic builder names copied sources by a content hash: `file:<hex>`
/// for one file, `dir:<hex>` for one directory, `multi:<hex>` for several.
fn source_hash(c: &crate::dockerfile::CopyArgs, ctx: &Context) -> String {
    let matched: Vec<String> = if c.from.is_some() {
        c.sources.clone()
    } else {
        c.sources.iter().flat_map(|s| ctx.matches(s)).collect()
    };
    let hash = if c.from.is_some() {
        Digest::of(format!("{:?}{matched:?}", c.from).as_bytes())
    } else {
        ctx.checksum(&matched)
    };
    let kind = match matched.as_slice() {
        [one] if c.from.is_none() => match ctx.entries.get(one).map(|e| &e.kind) {
            Some(CtxKind::Dir) | None => "dir",
            _ => "file",
        },
        [_] => "file",
        _ => "multi",
    };
    // One file: the sha256 of its bytes.
    if let [one] = matched.as_slice()
        && c.from.is_none()
        && let Some(CtxKind::File(_, sha)) = ctx.entries.get(one).map(|e| &e.kind)
    {
        return format!("file:{}", hex::encode(sha));
    }
    format!("{kind}:{}", hash.hex())
}

/// The classic builder's cache key for a step, taken before it runs: the
/// parent image, the instruction as expanded (with the content hash of what
/// a COPY or ADD reads) and the config it starts from. The daemon looks for
/// a child of the parent committed from the same instruction and config.
pub(crate) fn cache_key(state: &State, ins: &Instruction, ctx: &Context) -> String {
    let sources = match &ins.kind {
        Kind::Copy(c) | Kind::Add(c) => source_hash(c, ctx),
        _ => String::new(),
    };
    let key = Digest::of(
        format!(
            "legacy\n{}\n{:?}\n{sources}\n{}",
            state
                .image
                .as_ref()
                .map(|p| p.to_string())
                .unwrap_or_default(),
            ins.kind,
            state.config["config"],
        )
        .as_bytes(),
    );
    format!("legacy:{}", key.hex())
}

/// Looks a step up in the image cache; on a hit the state becomes that
/// image's (config, layers) and its ID is returned.
pub(crate) fn probe(
    engine: &Engine,
    state: &mut State,
    cache_key: &str,
    no_cache: bool,
) -> Result<Option<Digest>, EngineError> {
    if no_cache {
        return Ok(None);
    }
    let Some(id) = engine.store.build_cache_layer(cache_key) else {
        return Ok(None);
    };
    if !engine.index()?.images.contains_key(&id) {
        return Ok(None);
    }
    let img = engine.image(&id)?;
    let diff_ids = crate::engine::diff_ids_of(&img.config);
    if diff_ids.len() != state.layers.len() {
        let mut layers = Vec::new();
        for d in diff_ids {
            let size = engine.store.layer_head(&d)?.size;
            layers.push((d, size));
        }
        state.layers = layers;
        state.rootfs = None;
    }
    let mut config = img.config.clone();
    if let Some(o) = config.as_object_mut() {
        o.remove("rootfs");
    }
    state.config = config;
    state.image = Some(id.clone());
    Ok(Some(id))
}

/// How a step's image came about.
pub(crate) enum Committed {
    Cached(Digest),
    New(Digest),
}

/// Commits the image of one step: the stage's config with `created_by`
/// appended to its history and the current image as parent, or the image an
/// earlier build committed from the same parent, instruction and config.
pub(crate) fn commit(
    engine: &Engine,
    state: &mut State,
    created_by: String,
    empty_layer: bool,
    no_cache: bool,
    cache_key: String,
) -> Result<Committed, EngineError> {
    let parent = state.image.clone();
    if let Some(id) = probe(engine, state, &cache_key, no_cache)? {
        return Ok(Committed::Cached(id));
    }
    let now = crate::home::now().to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
    let mut h = json!({"created": now, "created_by": created_by});
    if empty_layer {
        h["empty_layer"] = json!(true);
    }
    match state.config["history"].as_array_mut() {
        Some(a) => a.push(h),
        None => state.config["history"] = json!([h]),
    }
    state.config["created"] = Value::String(now.clone());
    let config = image_config(state, &now, parent.as_ref());
    let bytes = serde_json::to_vec(&config).expect("config serializes");
    let id = engine.store.put_blob(&bytes)?;
    let summary =
        crate::engine::summary_of(&config, &state.layers, parent.clone(), &state.platform);
    engine.store.update(|idx| -> Result<(), EngineError> {
        idx.images.entry(id.clone()).or_insert(summary);
        Ok(())
    })?;
    engine.store.build_cache_put(&[(cache_key, id.clone())])?;
    state.image = Some(id.clone());
    Ok(Committed::New(id))
}

/// `--squash`: the layers the build added on top of its base image merged
/// into one, as the experimental daemon did. The history is kept (the merged
/// steps marked `empty_layer`) and ends with a `merge <image> to <base>`
/// entry; the unsquashed image stays in the store, untagged.
pub(crate) fn squash(
    engine: &Engine,
    state: &mut State,
    base_layers: usize,
    base_image: Option<Digest>,
) -> Result<Digest, EngineError> {
    let built = state.image.clone().expect("a squash follows a commit");
    if state.layers.len() <= base_layers {
        return Ok(built);
    }
    let ids: Vec<Digest> = state.layers.iter().map(|(d, _)| d.clone()).collect();
    let lower = engine.rootfs(&ids[..base_layers])?;
    let upper = engine.rootfs(&ids)?;
    let mut entries: Vec<crate::layer::Entry> = upper
        .entries
        .values()
        .filter(|e| lower.entries.get(&e.path) != Some(*e))
        .cloned()
        .collect();
    for (p, e) in &lower.entries {
        if !upper.entries.contains_key(p) {
            entries.push(crate::layer::Entry {
                kind: crate::layer::Kind::Whiteout,
                ..e.clone()
            });
        }
    }
    let entries = crate::layer::normalize(entries);
    let (info, _) = engine.store.put_layer(&entries, None)?;
    state.layers.truncate(base_layers);
    state
        .layers
        .push((info.diff_id, crate::layer::content_size(&entries)));
    // Every history entry after the base's becomes an empty layer.
    let base_history = match &base_image {
        Some(b) => engine.image(b)?.config["history"]
            .as_array()
            .map_or(0, |a| a.len()),
        None => 0,
    };
    let now = crate::home::now().to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
    if let Some(h) = state.config["history"].as_array_mut() {
        for e in h.iter_mut().skip(base_history) {
            e["empty_layer"] = json!(true);
        }
        let merge = format!(
            "merge {built} to {}",
            base_image
                .as_ref()
                .map(|b| b.to_string())
                .unwrap_or_default()
        );
        h.push(json!({"created": now, "comment": merge}));
    }
    state.config["created"] = Value::String(now.clone());
    let config = image_config(state, &now, base_image.as_ref());
    let bytes = serde_json::to_vec(&config).expect("config serializes");
    let id = engine.store.put_blob(&bytes)?;
    let summary = crate::engine::summary_of(&config, &state.layers, base_image, &state.platform);
    engine.store.update(|idx| -> Result<(), EngineError> {
        idx.images.entry(id.clone()).or_insert(summary);
        Ok(())
    })?;
    state.image = Some(id.clone());
    Ok(id)
}

/// The image JSON as the classic builder writes it (moby's `image.Image`
/// field order: the V1 fields, then `parent`, `rootfs` and `history`).
fn image_config(state: &State, created: &str, parent: Option<&Digest>) -> Value {
    let src = &state.config;
    let mut out = serde_json::Map::new();
    out.insert("created".into(), json!(created));
    out.insert(
        "docker_version".into(),
        json!(crate::commands::version::CLIENT_VERSION),
    );
    if let Some(a) = src.get("author") {
        out.insert("author".into(), a.clone());
    }
    out.insert(
        "config".into(),
        super::steps::sorted_maps(src.get("config").cloned().unwrap_or(json!({}))),
    );
    out.insert("architecture".into(), json!(state.platform.architecture));
    if let Some(v) = &state.platform.variant {
        out.insert("variant".into(), json!(v));
    }
    out.insert("os".into(), json!(state.platform.os));
    if let Some(p) = parent {
        out.insert("parent".into(), json!(p.to_string()));
    }
    super::steps::rootfs_and_history(out, src, state)
}

/// The ID of the container a step ran in (random in Docker; here derived from
/// the step, so that a transcript is stable under a pinned clock).
pub(crate) fn container_id(state: &State, created_by: &str) -> String {
    let d = Digest::of(
        format!(
            "container\n{:?}\n{created_by}\n{}",
            state.image,
            crate::home::now().to_rfc3339()
        )
        .as_bytes(),
    );
    d.hex()[..12].to_string()
}

/// The size the docker CLI reports in `Sending build context to Docker
/// daemon`: the uncompressed tar of the context as Go's archive/tar writes
/// it (a 512-byte header per entry, a PAX header for names USTAR cannot
/// hold, contents padded to 512 bytes, two zero blocks at the end).
pub fn context_tar_size(ctx: &Context) -> u64 {
    let mut total = 1024u64;
    for (path, e) in &ctx.entries {
        let name = match e.kind {
            CtxKind::Dir => format!("{path}/"),
            _ => path.clone(),
        };
        total += 512;
        if !fits_ustar(&name) {
            // PAX extended header: its own header plus the padded record.
            let record = format!(" path={name}\n");
            let mut len = record.len() + 2;
            len += len.to_string().len() - 1;
            total += 512 + len.div_ceil(512) as u64 * 512;
        }
        if let CtxKind::File(c, _) = &e.kind {
            total += c.len().div_ceil(512) * 512;
        }
        if let CtxKind::Symlink(t) = &e.kind
            && t.len() > 100
        {
            total += 1024;
        }
    }
    total
}

/// Whether USTAR can hold a name: at most 100 bytes, or split at a `/` into
/// a prefix of at most 155 and a name of at most 100.
fn fits_ustar(name: &str) -> bool {
    if !name.is_ascii() {
        return false;
    }
    if name.len() <= 100 {
        return true;
    }
    name.char_indices()
        .filter(|(_, c)| *c == '/')
        .any(|(i, _)| i <= 155 && name.len() - i - 1 <= 100 && i > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::Content;
    use std::collections::BTreeMap;

    fn ctx(files: &[(&str, usize)]) -> Context {
        let mut entries = BTreeMap::new();
        for (p, n) in files {
            entries.insert(
                p.to_string(),
                super::super::context::CtxEntry {
                    kind: CtxKind::File(Content::bytes(vec![b'x'; *n]), [0; 32]),
                    mode: 0o644,
                },
            );
        }
        Context {
            entries,
            ..Default::default()
        }
    }

    #[test]
    fn context_size_is_go_tar_size() {
        // A lone small Dockerfile: header, one block, two zero blocks —
        // docker's familiar "2.048kB".
        assert_eq!(context_tar_size(&ctx(&[("Dockerfile", 30)])), 2048);
        assert_eq!(
            context_tar_size(&ctx(&[("Dockerfile", 30), ("index.html", 600)])),
            512 + 512 + 512 + 1024 + 1024
        );
        let long = "d/".repeat(60) + "file";
        assert!(fits_ustar(&long));
        let very_long = "x".repeat(120);
        assert!(!fits_ustar(&very_long));
        assert_eq!(
            context_tar_size(&ctx(&[(&very_long, 1)])),
            512 + 1024 + 512 + 1024
        );
    }

    #[test]
    fn go_lists() {
        assert_eq!(
            go_list(&json!(["nginx", "-g", "daemon off;"])),
            r#"["nginx" "-g" "daemon off;"]"#
        );
    }
}
