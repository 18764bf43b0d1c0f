//! `docker image inspect` / `docker inspect`: the JSON array docker 28
//! prints (API 1.48+ image shape), or one `--format` line per object.

use crate::app::{Io, Session};
use crate::cli::{ContainerInspectArgs, ImageInspectArgs, InspectArgs};
use crate::engine::{Engine, Image};
use crate::reference::Reference;
use crate::store::Index;
use serde_json::{Map, Value, json};

pub fn run(s: &mut Session, a: InspectArgs, io: &mut Io) -> anyhow::Result<i32> {
    if a.args.is_empty() {
        return super::requires(
            io,
            "docker inspect",
            "at least 1 argument",
            "docker inspect [OPTIONS] NAME|ID [NAME|ID...]",
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
    let platform = a.platform.clone();
    for name in &a.args {
        if want_c && let Ok(c) = containers.find(name) {
            objects.push(super::container::inspect_json(&c));
            continue;
        }
        match idx.resolve(name) {
            Ok(id) if want_i => {
                if let Some(wanted) = &platform
                    && let Some(actual) = idx.images.get(&id).map(|i| i.platform.as_str())
                    && !platform_matches(wanted, actual)
                {
                    // The classic store's GetImage: a 404 with this text.
                    writeln!(
                        io.err,
                        "Error response from daemon: image with reference {name} was found but does not match the specified platform: wanted {wanted}, actual: {actual}"
                    )?;
                    code = 1;
                    continue;
                }
                let img = engine.image(&id)?;
                objects.push(inspect_json(&engine, &idx, &img)?);
            }
            // docker/cli asks the daemon for one type when --type (or the
            // image/container verb) names it, and prints the daemon's error;
            // without a type it tries each and says "No such object".
            Err(e) if want_i && !any => {
                writeln!(io.err, "Error response from daemon: {e}")?;
                code = 1;
            }
            _ => {
                if any {
                    writeln!(io.err, "Error: No such object: {name}")?;
                } else {
                    writeln!(
                        io.err,
                        "Error response from daemon: No such container: {name}"
                    )?;
                }
                code = 1;
            }
        }
    }
    print_objects(io, template, objects, code)
}

/// `docker container inspect`: containers only.
pub fn run_containers(
    s: &mut Session,
    a: ContainerInspectArgs,
    io: &mut Io,
) -> anyhow::Result<i32> {
    if a.args.is_empty() {
        return super::requires(
            io,
            "docker container inspect",
            "at least 1 argument",
            "docker container inspect [OPTIONS] CONTAINER [CONTAINER...]",
        );
    }
    let a = InspectArgs {
        format: a.format,
        size: a.size,
        kind: Some("container".into()),
        platform: None,
        args: a.args,
    };
    run(s, a, io)
}

/// `docker image inspect`: images only, optionally of one platform.
pub fn run_images(s: &mut Session, a: ImageInspectArgs, io: &mut Io) -> anyhow::Result<i32> {
    if a.args.is_empty() {
        return super::requires(
            io,
            "docker image inspect",
            "at least 1 argument",
            "docker image inspect [OPTIONS] IMAGE [IMAGE...]",
        );
    }
    // The CLI parses --platform itself (containerd's platforms.Parse)
    // before asking the daemon, so a bad one is its own error, no `[]`.
    let platform = match a.platform.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => match normalize_platform(p) {
            Ok(p) => Some(p),
            Err(msg) => {
                writeln!(io.err, "{msg}")?;
                return Ok(1);
            }
        },
        None => None,
    };
    let a = InspectArgs {
        format: a.format,
        size: false,
        kind: Some("image".into()),
        platform,
        args: a.args,
    };
    run(s, a, io)
}

/// containerd's `platforms.Parse` then `Normalize`, formatted: `arm64`
/// alone means `linux/arm64`, arm64's `v8` variant is implied and dropped.
fn normalize_platform(p: &str) -> Result<String, String> {
    const ARCHES: [&str; 8] = [
        "amd64", "arm64", "arm", "386", "ppc64le", "s390x", "riscv64", "mips64le",
    ];
    let parts: Vec<&str> = p.split('/').collect();
    let lower: Vec<String> = parts.iter().map(|s| s.to_ascii_lowercase()).collect();
    let (os, arch, variant) = match lower.as_slice() {
        [one] if one == "linux" => ("linux", "amd64", None),
        [one] if ARCHES.contains(&one.as_str()) => ("linux", one.as_str(), None),
        [_] => {
            return Err(format!(
                "\"{p}\": unknown operating system or architecture: invalid argument"
            ));
        }
        [os, arch] if !os.is_empty() && !arch.is_empty() => (os.as_str(), arch.as_str(), None),
        [os, arch, v] if !os.is_empty() && !arch.is_empty() => {
            (os.as_str(), arch.as_str(), Some(v.as_str()))
        }
        _ => {
            return Err(format!(
                "\"{p}\": cannot parse platform specifier: invalid argument"
            ));
        }
    };
    let (arch, variant) = match (arch, variant) {
        ("x86_64" | "x86-64", v) => ("amd64", v),
        ("aarch64" | "arm64", Some("v8") | None) => ("arm64", None),
        ("aarch64", v) => ("arm64", v),
        ("i386" | "i686", v) => ("386", v),
        ("armhf", _) => ("arm", Some("v7")),
        ("armel", _) => ("arm", Some("v6")),
        ("arm", None | Some("7")) => ("arm", Some("v7")),
        (a, v) => (a, v),
    };
    Ok(match variant {
        Some(v) => format!("{os}/{arch}/{v}"),
        None => format!("{os}/{arch}"),
    })
}

/// Whether an image of platform `actual` (`linux/arm64/v8`) is one of
/// `wanted` (normalized): same OS and architecture, and the same variant
/// when one is asked for (arm64's v8 being implied).
fn platform_matches(wanted: &str, actual: &str) -> bool {
    let w: Vec<&str> = wanted.split('/').collect();
    let a: Vec<&str> = actual.split('/').collect();
    if w.len() < 2 || a.len() < 2 || w[0] != a[0] || w[1] != a[1] {
        return false;
    }
    match (w.get(2), a.get(2)) {
        (None, _) => true,
        (Some(wv), Some(av)) => wv == av,
        (Some(_), None) => false,
    }
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
