//! Images made without a Dockerfile: `docker commit` (a container's
//! writable layer on top of its image, with the container's own config)
//! and `docker import` (a tar of a file system as the one layer of a new
//! image). Both take `--change` lines — the Dockerfile instructions moby's
//! `BuildFromConfig` allows: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD,
//! STOPSIGNAL, USER, VOLUME, WORKDIR — parsed by the lab's Dockerfile
//! parser and applied to the config as the daemon applies them. Layers
//! enter the store through `Store::put_layer` (commit: entries the lab
//! wrote) or `Store::put_layer_tar` (import: foreign bytes, checked).
//! Typed errors; prints nothing.

use crate::digest::Digest;
use crate::dockerfile::{Kind, ShellOrExec};
use crate::engine::{Engine, EngineError};
use crate::layer::Entry;
use serde_json::{Value, json};

#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    /// An instruction `--change` does not take (moby's words).
    #[error("{0} is not a valid change command")]
    NotAllowed(String),
    /// A `--change` line the Dockerfile parser refused.
    #[error("dockerfile parse error on line 1: {0}")]
    Parse(String),
    #[error("{0}")]
    Engine(#[from] EngineError),
    #[error("{0}")]
    Store(#[from] crate::store::StoreError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

pub type Result<T> = std::result::Result<T, CommitError>;

/// Applies `--change` lines to an image config's `config` object.
pub fn apply_changes(config: &mut Value, changes: &[String]) -> Result<()> {
    for line in changes {
        // Parsed inside a stage, as the daemon's BuildFromConfig does.
        let df = crate::dockerfile::parse(&format!("FROM scratch\n{line}"));
        if let Some(d) = df
            .diagnostics
            .iter()
            .find(|d| d.severity == crate::dockerfile::Severity::Error)
        {
            let word = line.split_whitespace().next().unwrap_or("").to_uppercase();
            if !ALLOWED.contains(&word.as_str()) {
                return Err(CommitError::NotAllowed(word));
            }
            return Err(CommitError::Parse(d.message.clone()));
        }
        for ins in df.instructions.iter().skip(1) {
            apply(config, &ins.kind, line)?;
        }
    }
    Ok(())
}

const ALLOWED: &[&str] = &[
    "CMD",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "LABEL",
    "ONBUILD",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

fn obj<'a>(config: &'a mut Value, key: &str) -> &'a mut serde_json::Map<String, Value> {
    if !config[key].is_object() {
        config[key] = json!({});
    }
    config[key].as_object_mut().expect("object")
}

fn argv(c: &ShellOrExec) -> Vec<String> {
    match c {
        ShellOrExec::Exec(v) => v.clone(),
        ShellOrExec::Shell(s) => vec!["/bin/sh".into(), "-c".into(), s.clone()],
    }
}

fn apply(config: &mut Value, kind: &Kind, line: &str) -> Result<()> {
    match kind {
        Kind::Cmd(c) => config["Cmd"] = json!(argv(c)),
        Kind::Entrypoint(c) => config["Entrypoint"] = json!(argv(c)),
        Kind::Env(pairs) => {
            let mut env: Vec<String> = config["Env"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            for (k, v) in pairs {
                let item = format!("{k}={v}");
                match env
                    .iter_mut()
                    .find(|e| e.split('=').next() == Some(k.as_str()))
                {
                    Some(e) => *e = item,
                    None => env.push(item),
                }
            }
            config["Env"] = json!(env);
        }
        Kind::Expose(ports) => {
            for p in ports {
                let p = if p.contains('/') {
                    p.clone()
                } else {
                    format!("{p}/tcp")
                };
                obj(config, "ExposedPorts").insert(p, json!({}));
            }
        }
        Kind::Label(pairs) => {
            for (k, v) in pairs {
                obj(config, "Labels").insert(k.clone(), json!(v));
            }
        }
        Kind::Onbuild(ins) => {
            let text = line
                .trim_start()
                .get("ONBUILD".len()..)
                .unwrap_or("")
                .trim()
                .to_string();
            let _ = ins;
            let mut list = config["OnBuild"].as_array().cloned().unwrap_or_default();
            list.push(json!(text));
            config["OnBuild"] = json!(list);
        }
        Kind::StopSignal(s) => config["StopSignal"] = json!(s),
        Kind::User(u) => config["User"] = json!(u),
        Kind::Volume(v) => {
            for p in v {
                obj(config, "Volumes").insert(p.clone(), json!({}));
            }
        }
        Kind::Workdir(w) => {
            let cur = config["WorkingDir"].as_str().unwrap_or("/").to_string();
            let next = if w.starts_with('/') {
                w.clone()
            } else {
                format!("{}/{w}", cur.trim_end_matches('/'))
            };
            config["WorkingDir"] = json!(next);
        }
        other => {
            let word = line.split_whitespace().next().unwrap_or("").to_uppercase();
            let _ = other;
            return Err(CommitError::NotAllowed(word));
        }
    }
    Ok(())
}

/// What a commit records besides the layer.
pub struct CommitOptions<'a> {
    pub author: Option<&'a str>,
    pub comment: Option<&'a str>,
    pub changes: &'a [String],
    /// The container's config (`Cmd`, `Env`, ... as it ran).
    pub container_config: Value,
    /// `created_by` of the history entry (the container's command).
    pub created_by: String,
}

/// `docker commit`: the image's layers plus the writable layer `rw` (no
/// new layer when it is empty: the history entry is then `empty_layer`).
pub fn commit(
    engine: &Engine,
    image: &Digest,
    rw: &[Entry],
    opts: &CommitOptions,
) -> Result<Digest> {
    let img = engine.image(image)?;
    let mut config: Value = img.config.clone();
    let mut cfg = opts.container_config.clone();
    apply_changes(&mut cfg, opts.changes)?;
    config["config"] = cfg;
    let now = crate::home::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
    config["created"] = json!(now);
    match opts.author {
        Some(a) if !a.is_empty() => config["author"] = json!(a),
        _ => {
            if let Some(o) = config.as_object_mut() {
                o.remove("author");
            }
        }
    }
    match opts.comment {
        Some(c) if !c.is_empty() => config["comment"] = json!(c),
        _ => {
            if let Some(o) = config.as_object_mut() {
                o.remove("comment");
            }
        }
    }
    let mut diff_ids = crate::engine::diff_ids_of(&config);
    let mut sizes: Vec<(Digest, u64)> = Vec::new();
    for d in &diff_ids {
        sizes.push((d.clone(), engine.store.layer_size(d)?));
    }
    let mut entry = json!({"created": now, "created_by": opts.created_by});
    if let Some(a) = opts.author.filter(|a| !a.is_empty()) {
        entry["author"] = json!(a);
    }
    if let Some(c) = opts.comment.filter(|c| !c.is_empty()) {
        entry["comment"] = json!(c);
    }
    if rw.is_empty() {
        entry["empty_layer"] = json!(true);
    } else {
        let (info, _) = engine.store.put_layer(rw, diff_ids.last())?;
        sizes.push((info.diff_id.clone(), info.size));
        diff_ids.push(info.diff_id.clone());
    }
    config["rootfs"] = json!({"type": "layers", "diff_ids": diff_ids});
    let mut history = config["history"].as_array().cloned().unwrap_or_default();
    history.push(entry);
    config["history"] = json!(history);
    store_image(engine, &config, &sizes, Some(image.clone()))
}

fn store_image(
    engine: &Engine,
    config: &Value,
    sizes: &[(Digest, u64)],
    parent: Option<Digest>,
) -> Result<Digest> {
    let bytes = serde_json::to_vec(config).expect("config serializes");
    let id = engine.store.put_blob(&bytes)?;
    let platform = crate::catalog::Platform {
        os: config["os"].as_str().unwrap_or("linux").to_string(),
        architecture: config["architecture"]
            .as_str()
            .unwrap_or("amd64")
            .to_string(),
        variant: config["variant"].as_str().map(String::from),
    };
    let summary = crate::engine::summary_of(config, sizes, parent, &platform);
    engine
        .store
        .update(|idx| -> std::result::Result<(), EngineError> {
            idx.images.entry(id.clone()).or_insert(summary);
            Ok(())
        })?;
    Ok(id)
}

/// `docker import`: `tar` (already decompressed) as the one layer of a new
/// image on the host's platform; `source` names it in the history comment
/// (`Imported from -`) unless `message` is given.
pub fn import(
    engine: &Engine,
    tar: &mut dyn std::io::Read,
    source: &str,
    message: Option<&str>,
    changes: &[String],
) -> Result<Digest> {
    let mut cfg = json!({});
    apply_changes(&mut cfg, changes)?;
    // The layer is checked (a tar whose entries stay inside the root)
    // before anything is stored.
    let (diff_id, _) = engine.store.put_layer_tar(tar, None)?;
    let size = engine.store.layer_size(&diff_id)?;
    let now = crate::home::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
    let comment = match message {
        Some(m) if !m.is_empty() => m.to_string(),
        _ => format!("Imported from {source}"),
    };
    let host = crate::engine::host_platform();
    let config = json!({
        "architecture": host.architecture,
        "comment": comment,
        "config": cfg,
        "created": now,
        "history": [{"created": now, "comment": comment}],
        "os": host.os,
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    });
    store_image(engine, &config, &[(diff_id, size)], None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changed(lines: &[&str]) -> Result<Value> {
        let mut c = json!({"Env": ["PATH=/bin", "A=1"], "WorkingDir": "/srv"});
        apply_changes(
            &mut c,
            &lines.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )?;
        Ok(c)
    }

    #[test]
    fn changes_apply_as_the_daemon_applies_them() {
        let c = changed(&[
            "CMD [\"nginx\", \"-g\", \"daemon off;\"]",
            "ENTRYPOINT /start.sh",
            "ENV A=2 B=3",
            "EXPOSE 80 53/udp",
            "LABEL team=web",
            "USER nobody",
            "WORKDIR app",
            "VOLUME /data",
            "STOPSIGNAL SIGQUIT",
            "ONBUILD RUN echo hi",
        ])
        .unwrap();
        assert_eq!(c["Cmd"], json!(["nginx", "-g", "daemon off;"]));
        assert_eq!(c["Entrypoint"], json!(["/bin/sh", "-c", "/start.sh"]));
        assert_eq!(c["Env"], json!(["PATH=/bin", "A=2", "B=3"]));
        assert_eq!(c["ExposedPorts"], json!({"80/tcp": {}, "53/udp": {}}));
        assert_eq!(c["Labels"], json!({"team": "web"}));
        assert_eq!(c["User"], json!("nobody"));
        assert_eq!(c["WorkingDir"], json!("/srv/app"));
        assert_eq!(c["Volumes"], json!({"/data": {}}));
        assert_eq!(c["StopSignal"], json!("SIGQUIT"));
        assert_eq!(c["OnBuild"], json!(["RUN echo hi"]));
    }

    #[test]
    fn other_instructions_are_refused() {
        for (line, word) in [
            ("RUN echo hi", "RUN"),
            ("COPY a b", "COPY"),
            ("FROM alpine", "FROM"),
            ("run echo", "RUN"),
        ] {
            let e = changed(&[line]).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("{word} is not a valid change command")
            );
        }
    }
}
