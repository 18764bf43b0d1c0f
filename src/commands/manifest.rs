//! `docker manifest inspect`: a manifest as the registry holds it, or a
//! manifest list rebuilt from its entries as the docker CLI prints them
//! (Go's `json.Indent` with tabs).

use crate::app::{Io, Session};
use crate::cli::ManifestCmd;
use crate::manifests;
use crate::reference::Reference;
use crate::registry::media;

pub fn run(s: &mut Session, cmd: Option<ManifestCmd>, io: &mut Io) -> anyhow::Result<i32> {
    let a = match cmd {
        None => {
            write!(io.out, "{}", crate::cli::MANIFEST_USAGE)?;
            return Ok(0);
        }
        Some(ManifestCmd::Inspect(a)) => a,
        Some(other) => return local(s, other, io),
    };
    let name = match a.args.as_slice() {
        [one] => one,
        [_, m] => m,
        _ => {
            return super::requires(
                io,
                "docker manifest inspect",
                "at least 1 and at most 2 arguments.",
                "docker manifest inspect [OPTIONS] [MANIFEST_LIST] MANIFEST",
            );
        }
    };
    if a.verbose {
        writeln!(
            io.err,
            "imagelab: docker manifest inspect --verbose is not simulated"
        )?;
        return Ok(1);
    }
    let (_, m) = match super::buildx::fetch(s, name) {
        Ok(x) => x,
        Err(e) if e.contains("manifest unknown") || e.contains("name unknown") => {
            writeln!(io.err, "no such manifest: {}", name_of(name))?;
            return Ok(1);
        }
        Err(e) => {
            writeln!(io.err, "{e}")?;
            return Ok(1);
        }
    };
    let v: serde_json::Value = serde_json::from_slice(&m.bytes)?;
    let out = if media::is_index(&m.media_type) {
        let entries: Vec<serde_json::Value> = v["manifests"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                let p = &e["platform"];
                let mut plat = serde_json::json!({
                    "architecture": p["architecture"],
                    "os": p["os"],
                });
                for k in ["os.version", "os.features", "variant", "features"] {
                    if !p[k].is_null() {
                        plat[k] = p[k].clone();
                    }
                }
                serde_json::json!({
                    "mediaType": e["mediaType"],
                    "size": e["size"],
                    "digest": e["digest"],
                    "platform": plat,
                })
            })
            .collect();
        // distribution's FromDescriptors: an OCI index when the first
        // entry is an OCI manifest, else a Docker manifest list.
        let list_type =
            if entries.first().and_then(|e| e["mediaType"].as_str()) == Some(media::OCI_MANIFEST) {
                media::OCI_INDEX
            } else {
                media::DOCKER_LIST
            };
        serde_json::json!({
            "schemaVersion": 2,
            "mediaType": list_type,
            "manifests": entries,
        })
    } else {
        v
    };
    writeln!(io.out, "{}", tab_indent(&out))?;
    Ok(0)
}

/// The name as docker echoes it in `no such manifest`: with its domain and
/// default tag.
fn name_of(name: &str) -> String {
    match crate::reference::Reference::parse(name) {
        Ok(r) if r.digest().is_none() => r.with_default_tag().to_string(),
        Ok(r) => r.to_string(),
        Err(_) => name.to_string(),
    }
}

/// JSON indented with tabs, as Go's `json.Indent(…, "", "\t")`.
fn tab_indent(v: &serde_json::Value) -> String {
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    serde::Serialize::serialize(v, &mut ser).expect("json serializes");
    String::from_utf8(out).expect("json is utf-8")
}

/// Parses a reference as `docker manifest` does (a missing tag is
/// `latest`); docker's error text when it is not one.
fn parse_ref(io: &mut Io, name: &str) -> anyhow::Result<Option<Reference>> {
    match Reference::parse(name) {
        Ok(r) if r.digest().is_none() => Ok(Some(r.with_default_tag())),
        Ok(r) => Ok(Some(r)),
        Err(e) => {
            writeln!(io.err, "invalid reference format: {e}")?;
            Ok(None)
        }
    }
}

/// `create`, `annotate`, `push`, `rm`: the local manifest lists.
fn local(s: &Session, cmd: ManifestCmd, io: &mut Io) -> anyhow::Result<i32> {
    let home = s.engine_home();
    let result = match cmd {
        ManifestCmd::Inspect(_) => unreachable!("handled by run"),
        ManifestCmd::Create(a) => {
            if a.args.len() < 2 {
                return super::requires(
                    io,
                    "docker manifest create",
                    "at least 2 arguments.",
                    "docker manifest create MANIFEST_LIST MANIFEST [MANIFEST...]",
                );
            }
            let mut refs = Vec::new();
            for n in &a.args {
                let Some(r) = parse_ref(io, n)? else {
                    return Ok(1);
                };
                refs.push(r);
            }
            let list = refs.remove(0);
            manifests::create(&home, &list, &refs, a.amend)
                .map(|()| format!("Created manifest list {list}\n"))
        }
        ManifestCmd::Annotate(a) => {
            if a.args.len() != 2 {
                return super::requires(
                    io,
                    "docker manifest annotate",
                    "exactly 2 arguments.",
                    "docker manifest annotate [OPTIONS] MANIFEST_LIST MANIFEST",
                );
            }
            let (Some(list), Some(image)) =
                (parse_ref(io, &a.args[0])?, parse_ref(io, &a.args[1])?)
            else {
                return Ok(1);
            };
            manifests::annotate(
                &home,
                &list,
                &image,
                a.os.as_deref(),
                a.arch.as_deref(),
                a.variant.as_deref(),
            )
            .map(|()| String::new())
        }
        ManifestCmd::Push(a) => {
            if a.args.len() != 1 {
                return super::requires(
                    io,
                    "docker manifest push",
                    "exactly 1 argument.",
                    "docker manifest push [OPTIONS] MANIFEST_LIST",
                );
            }
            let Some(list) = parse_ref(io, &a.args[0])? else {
                return Ok(1);
            };
            manifests::push(&home, &list, a.purge).map(|p| {
                let mut out = String::new();
                for c in &p.copied {
                    let d = c.rsplit('@').next().unwrap_or_default();
                    out.push_str(&format!("Pushed ref {c} with digest: {d}\n"));
                }
                out.push_str(&format!("{}\n", p.digest));
                out
            })
        }
        ManifestCmd::Rm(a) => {
            if a.args.is_empty() {
                return super::requires(
                    io,
                    "docker manifest rm",
                    "at least 1 argument.",
                    "docker manifest rm MANIFEST_LIST [MANIFEST_LIST...]",
                );
            }
            let mut r = Ok(String::new());
            for n in &a.args {
                let Some(list) = parse_ref(io, n)? else {
                    return Ok(1);
                };
                if let Err(e) = manifests::remove(&home, &list) {
                    r = Err(e);
                    break;
                }
            }
            r
        }
    };
    match result {
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
