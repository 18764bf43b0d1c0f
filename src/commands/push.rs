//! `docker push NAME[:TAG]`: to the registry the name's domain routes to
//! (`network::route`), with docker's progress lines and errors; with
//! content trust on, the pushed tag is then signed (`commands::trust`).

use crate::app::{Io, Session};
use crate::cli::PushArgs;
use crate::distribution::{self, DistError, LayerPush};
use crate::reference::Reference;
use crate::registry::{Code, RegistryError};

pub fn run(s: &mut Session, a: PushArgs, io: &mut Io) -> anyhow::Result<i32> {
    if a.args.len() != 1 {
        return super::requires(
            io,
            "docker push",
            "exactly 1 argument.",
            "docker push [OPTIONS] NAME[:TAG]",
        );
    }
    let name = &a.args[0];
    let r = match Reference::parse(name) {
        Ok(r) => r,
        Err(e) => {
            writeln!(io.err, "invalid reference format: {e}")?;
            return Ok(1);
        }
    };
    if a.all_tags && r.tag().is_some() {
        writeln!(io.err, "tag can't be used with --all-tags/-a")?;
        return Ok(1);
    }
    if r.digest().is_some() {
        writeln!(
            io.err,
            "Error response from daemon: cannot push a digest reference"
        )?;
        return Ok(1);
    }
    let engine = s.engine()?;
    let idx = engine.index()?;
    let repo_name = r.name();
    // The tags to push: the one named (latest by default), or all of the
    // repository's.
    let tags: Vec<(String, crate::digest::Digest)> = if a.all_tags {
        idx.tags
            .iter()
            .filter_map(|(k, v)| {
                let (n, t) = crate::reference::split_canonical_tag(k)?;
                (n == repo_name).then(|| (t.to_string(), v.clone()))
            })
            .collect()
    } else {
        if r.tag().is_none() && !a.quiet {
            writeln!(io.out, "Using default tag: latest")?;
        }
        let full = r.clone().with_default_tag();
        let tag = full.tag().unwrap_or("latest").to_string();
        idx.tags
            .get(&full.to_string())
            .map(|id| vec![(tag, id.clone())])
            .unwrap_or_default()
    };
    if !a.quiet {
        writeln!(io.out, "The push refers to repository [{repo_name}]")?;
    }
    if tags.is_empty() {
        if a.all_tags {
            writeln!(
                io.err,
                "An image does not exist locally with the tag: {}",
                r.familiar_name()
            )?;
        } else {
            writeln!(
                io.err,
                "An image does not exist locally with the tag: {}",
                r.familiar_string()
            )?;
        }
        return Ok(1);
    }
    let home = s.engine_home();
    let route = match crate::network::route(&home, r.domain()) {
        Ok(route) => route,
        Err(e) => {
            writeln!(io.err, "{e}")?;
            return Ok(1);
        }
    };
    let repo = r.path().to_string();
    // Content trust: `--disable-content-trust[=false]`, else DOCKER_CONTENT_TRUST.
    let trusted = super::trust::wanted(s, a.disable_content_trust);
    for (tag, id) in tags {
        if !a.quiet {
            // The index's summary lists the layers: no config read here
            // (the push reads it once).
            let layers = idx
                .images
                .get(&id)
                .map(|s| s.layers.as_slice())
                .unwrap_or_default();
            for d in layers.iter().rev() {
                writeln!(io.out, "{}: Preparing", d.short())?;
            }
        }
        let pushed = match distribution::push(
            &engine,
            route.registry.as_ref(),
            &route.host,
            &repo,
            &tag,
            &id,
        ) {
            Ok(p) => p,
            Err(e) => {
                let text = registry_error(&e, &route.host);
                // Stored credentials the registry refuses: its challenge.
                if text == "no basic auth credentials"
                    && crate::network::credentials(&home, &route.host).is_some()
                {
                    writeln!(io.err, "unauthorized: authentication required")?;
                } else {
                    writeln!(io.err, "{text}")?;
                }
                return Ok(1);
            }
        };
        if a.quiet {
            writeln!(io.out, "{repo_name}:{tag}")?;
        } else {
            for (d, state) in pushed.layers.iter().rev() {
                let what = match state {
                    LayerPush::Pushed => "Pushed".to_string(),
                    LayerPush::Exists => "Layer already exists".to_string(),
                    LayerPush::Mounted(from) => format!("Mounted from {from}"),
                };
                writeln!(io.out, "{}: {what}", d.short())?;
            }
            writeln!(
                io.out,
                "{tag}: digest: {} size: {}",
                pushed.digest, pushed.size
            )?;
        }
        if trusted && !a.all_tags {
            let code =
                super::trust::sign_pushed(s, io, &r, &tag, &pushed.digest, pushed.size as u64)?;
            if code != 0 {
                return Ok(code);
            }
        }
    }
    if trusted && a.all_tags {
        // docker signs only an explicit tag.
        writeln!(io.err, "No tag specified, skipping trust metadata push")?;
    }
    Ok(0)
}

/// docker's words for a failed push or pull: a 401 from the Hub reads as a
/// denial, from any other registry as missing credentials.
pub fn registry_error(e: &DistError, host: &str) -> String {
    match e {
        DistError::Registry(RegistryError::Spec {
            code: Code::Unauthorized,
            ..
        }) if host != "docker.io" => "no basic auth credentials".to_string(),
        DistError::Registry(RegistryError::Spec {
            code: Code::Unauthorized | Code::Denied,
            ..
        }) => "denied: requested access to the resource is denied".to_string(),
        other => other.to_string(),
    }
}
