//! `docker image inspect` / `docker inspect`: the JSON array docker 28
//! prints (API 1.48+ image shape), or one `--format` line per object.

use crate::app::{Io, Session};
use crate::cli::InspectArgs;
use crate::engine::{Engine, Image};
use crate::reference::Reference;
use crate::store::Index;
use serde_json::{Map, Value, json};

pub fn run(s: &mut Session, a: InspectArgs, io: &mut Io) -> anyhow::Result<i32> {
    if a.args.is_empty() {
        return super::requires(
            io,
            "docker image inspect",
            "at least 1 argument",
            "docker image inspect [OPTIONS] IMAGE [IMAGE...]",
        );
    }
    let template = match a.format.as_deref().filter(|f| !f.is_empty()) {
        Some(f) => match super::template(io, f)? {
            Some(t) => Some(t),
            None => return Ok(1),
        },
        None => None,
    };
    let engine = s.engine()?;
    let idx = engine.index()?;
    let containers = super::container::store(s);
    let mut objects = Vec::new();
    let mut code = 0;
    // `docker inspect` looks for a container first, then an image.
    let any = a.kind.is_none();
    let want_c = any || a.kind.as_deref() == Some("container");
    let want_i = any || a.kind.as_deref() == Some("image");
    for name in &a.args {
        if want_c && let Ok(c) = containers.find(name) {
            objects.push(super::container::inspect_json(&c));
            continue;
        }
        match idx.resolve(name) {
            Ok(id) if want_i => {
                let img = engine.image(&id)?;
                objects.push(inspect_json(&engine, &idx, &img)?);
            }
            _ => {
                if any {
                    writeln!(io.err, "Error: No such object: {name}")?;
                } else if want_c {
                    writeln!(io.err, "Error: No such container: {name}")?;
                } else {
                    writeln!(io.err, "Error: No such image: {name}")?;
                }
                code = 1;
            }
        }
    }
    print_objects(io, template, objects, code)
}

/// `docker container inspect`: containers only.
pub fn run_containers(s: &mut Session, mut a: InspectArgs, io: &mut Io) -> anyhow::Result<i32> {
    if a.args.is_empty() {
        return super::requires(
            io,
            "docker container inspect",
            "at least 1 argument",
            "docker container inspect [OPTIONS] CONTAINER [CONTAINER...]",
        );
    }
    a.kind = Some("container".into());
    run(s, a, io)
}

fn print_objects(
    io: &mut Io,
    template: Option<crate::format::Template>,
    objects: Vec<Value>,
    code: i32,
) -> anyhow::Result<i32> {
    match template {
        Some(t) => {
            for o in &objects {
                match t.execute(o) {
                    Ok(line) => writeln!(io.out, "{line}")?,
                    Err(e) => {
                        writeln!(io.err, "{e}")?;
                        return Ok(1);
                    }
                }
            }
        }
        None => {
            let mut buf = Vec::new();
            let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
            let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
            serde::Serialize::serialize(&Value::Array(objects), &mut ser)?;
            io.out.write_all(&buf)?;
            writeln!(io.out)?;
        }
    }
    Ok(code)
}

/// The inspect object of one image.
pub fn inspect_json(engine: &Engine, idx: &Index, img: &Image) -> anyhow::Result<Value> {
    let c = &img.config;
    let summary = idx.images.get(&img.id);
    let familiar = |r: &String| {
        Reference::parse(r)
            .map(|r| r.familiar_string())
            .unwrap_or_else(|_| r.clone())
    };
    let repo_tags: Vec<String> = idx.tags_of(&img.id).iter().map(familiar).collect();
    let repo_digests: Vec<String> = idx.digests_of(&img.id).iter().map(familiar).collect();
    let mut config = Map::new();
    // ocispec ImageConfig order, then docker's extensions; empty fields omitted.
    for k in [
        "User",
        "ExposedPorts",
        "Env",
        "Entrypoint",
        "Cmd",
        "Volumes",
        "WorkingDir",
        "Labels",
        "StopSignal",
        "ArgsEscaped",
        "Healthcheck",
        "OnBuild",
        "Shell",
    ] {
        let v = &c["config"][k];
        let empty = v.is_null()
            || v.as_str() == Some("")
            || v.as_array().is_some_and(|a| a.is_empty())
            || v.as_object().is_some_and(|o| o.is_empty())
            || v.as_bool() == Some(false);
        if !empty {
            config.insert(k.into(), v.clone());
        }
    }
    let comment = c["history"]
        .as_array()
        .and_then(|h| h.last())
        .and_then(|h| h["comment"].as_str())
        .unwrap_or("");
    let diff_ids = crate::engine::diff_ids_of(c);
    let size = match summary {
        Some(s) => s.size,
        None => diff_ids
            .iter()
            .map(|d| engine.store.layer_size(d).unwrap_or(0))
            .sum(),
    };
    let chain = crate::engine::chain_ids(&diff_ids);
    let mut graph = Map::new();
    if let Some(top) = chain.last() {
        let dir = |d: &crate::digest::Digest| format!("/var/lib/docker/overlay2/{}", d.hex());
        if chain.len() > 1 {
            let lower: Vec<String> = chain[..chain.len() - 1]
                .iter()
                .rev()
                .map(|d| format!("{}/diff", dir(d)))
                .collect();
            graph.insert("LowerDir".into(), json!(lower.join(":")));
        }
        graph.insert("MergedDir".into(), json!(format!("{}/merged", dir(top))));
        graph.insert("UpperDir".into(), json!(format!("{}/diff", dir(top))));
        graph.insert("WorkDir".into(), json!(format!("{}/work", dir(top))));
    }
    let mut o = Map::new();
    o.insert("Id".into(), json!(img.id.to_string()));
    o.insert("RepoTags".into(), json!(repo_tags));
    o.insert("RepoDigests".into(), json!(repo_digests));
    o.insert(
        "Parent".into(),
        json!(
            summary
                .and_then(|s| s.parent.as_ref())
                .map(|p| p.to_string())
                .unwrap_or_default()
        ),
    );
    o.insert("Comment".into(), json!(comment));
    o.insert("Created".into(), c["created"].clone());
    o.insert(
        "DockerVersion".into(),
        json!(c["docker_version"].as_str().unwrap_or("")),
    );
    o.insert("Author".into(), json!(c["author"].as_str().unwrap_or("")));
    o.insert("Config".into(), Value::Object(config));
    o.insert("Architecture".into(), c["architecture"].clone());
    if let Some(v) = c["variant"].as_str() {
        o.insert("Variant".into(), json!(v));
    }
    o.insert("Os".into(), c["os"].clone());
    o.insert("Size".into(), json!(size));
    o.insert(
        "GraphDriver".into(),
        json!({"Data": graph, "Name": "overlay2"}),
    );
    o.insert("RootFS".into(), json!({"Type": "layers", "Layers": diff_ids.iter().map(|d| d.to_string()).collect::<Vec<_>>()}));
    o.insert(
        "Metadata".into(),
        json!({"LastTagTime": summary.and_then(|s| s.last_tag_time.clone()).unwrap_or_else(|| "0001-01-01T00:00:00Z".into())}),
    );
    Ok(Value::Object(o))
}
