//! `docker pull NAME[:TAG|@DIGEST]`: official images (`docker.io/library/…`)
//! from the base-image catalog; everything else from the registry its
//! domain routes to (`network::route`): the simulated Hub's user
//! repositories, a `registry:2` container, a configured real registry.

use crate::app::{Io, Session};
use crate::catalog::Platform;
use crate::cli::PullArgs;
use crate::reference::Reference;

pub fn run(s: &mut Session, a: PullArgs, io: &mut Io) -> anyhow::Result<i32> {
    if a.args.len() != 1 {
        return super::requires(
            io,
            "docker pull",
            "exactly 1 argument.",
            "docker pull [OPTIONS] NAME[:TAG|@DIGEST]",
        );
    }
    let name = &a.args[0];
    let r = match Reference::parse(name) {
        Ok(r) => r,
        Err(e) => {
            writeln!(io.err, "{e}")?;
            return Ok(1);
        }
    };
    let platform = match &a.platform {
        Some(p) => match Platform::parse(p) {
            Some(p) => p,
            None => {
                writeln!(
                    io.err,
                    "Error response from daemon: \"{p}\": unknown operating system or architecture: invalid argument"
                )?;
                return Ok(1);
            }
        },
        None => crate::engine::host_platform(),
    };
    if r.tag().is_none() && r.digest().is_none() && !a.quiet && !a.all_tags {
        writeln!(io.out, "Using default tag: latest")?;
    }
    let engine = s.engine()?;
    let official = r.domain() == "docker.io" && r.path().starts_with("library/");
    let trusted = super::trust::wanted(s, a.disable_content_trust);
    // Content trust resolves a tag to its signed digest (a digest is
    // already pinned). Official images are signed by Docker: their tag
    // resolves to the catalog's digest.
    if trusted && !super::trust::official(&r) && r.digest().is_none() {
        return trusted_pull(s, &engine, &r, &a, &platform, io);
    }
    if !official {
        return pull_from_registry(s, &engine, &r, &a, &platform, io);
    }
    if a.all_tags {
        writeln!(
            io.err,
            "imagelab: --all-tags is not available for the catalog's official images; name a tag"
        )?;
        return Ok(1);
    }
    let pulled = match engine.pull(name, &platform) {
        Ok(p) => p,
        Err(e) => {
            writeln!(io.err, "Error response from daemon: {e}")?;
            return Ok(1);
        }
    };
    if trusted && r.digest().is_none() {
        // docker/cli's trustedPull: the signed digest, pulled by digest,
        // then tagged.
        let tagged = r.clone().with_default_tag();
        let by_digest = tagged.with_digest(pulled.digest.clone());
        writeln!(
            io.out,
            "Pull (1 of 1): {}:{}@{}",
            tagged.familiar_name(),
            tagged.tag().unwrap_or("latest"),
            pulled.digest
        )?;
        if !a.quiet {
            // The daemon's lines name the pull by digest.
            let shown = crate::engine::Pulled {
                reference: by_digest.clone(),
                ..pulled
            };
            print_pulled(&mut *io.out, &shown)?;
        }
        say_tagging(io, &by_digest, &tagged)?;
        writeln!(io.out, "{tagged}")?;
        return Ok(0);
    }
    if a.quiet {
        writeln!(io.out, "{}", pulled.reference)?;
        return Ok(0);
    }
    print_pulled(&mut *io.out, &pulled)?;
    writeln!(io.out, "{}", pulled.reference)?;
    Ok(0)
}

/// The lines `docker pull` prints after its first one but the reference (what
/// `docker run` prints on stderr when it pulls a missing image).
pub fn print_pulled(
    out: &mut dyn std::io::Write,
    pulled: &crate::engine::Pulled,
) -> anyhow::Result<()> {
    let r = &pulled.reference;
    let tag = match (r.tag(), r.digest()) {
        (Some(t), _) => t.to_string(),
        (None, Some(d)) => d.to_string(),
        (None, None) => "latest".to_string(),
    };
    writeln!(out, "{tag}: Pulling from {}", r.path())?;
    if !pulled.up_to_date {
        for (d, had) in &pulled.layers {
            let state = if *had {
                "Already exists"
            } else {
                "Pull complete"
            };
            writeln!(out, "{}: {state}", d.short())?;
        }
    }
    writeln!(out, "Digest: {}", pulled.digest)?;
    if pulled.up_to_date {
        writeln!(
            out,
            "Status: Image is up to date for {}",
            r.familiar_string()
        )?;
    } else {
        writeln!(
            out,
            "Status: Downloaded newer image for {}",
            r.familiar_string()
        )?;
    }
    Ok(())
}

/// A pull from a registry (not the catalog).
fn pull_from_registry(
    s: &mut Session,
    engine: &crate::engine::Engine,
    r: &Reference,
    a: &PullArgs,
    platform: &Platform,
    io: &mut Io,
) -> anyhow::Result<i32> {
    use crate::distribution::DistError;
    let home = s.engine_home();
    let route = match crate::network::route(&home, r.domain()) {
        Ok(route) => route,
        Err(e) => {
            writeln!(io.err, "Error response from daemon: {e}")?;
            return Ok(1);
        }
    };
    let refs: Vec<Reference> = if a.all_tags {
        if r.tag().is_some() || r.digest().is_some() {
            writeln!(io.err, "tag can't be used with --all-tags/-a")?;
            return Ok(1);
        }
        match route.registry.tags(r.path()) {
            Ok(tags) => tags.iter().filter_map(|t| r.with_tag(t).ok()).collect(),
            Err(e) => {
                let e = DistError::Registry(e);
                writeln!(
                    io.err,
                    "Error response from daemon: {}",
                    pull_error(&e, r, &route.host)
                )?;
                return Ok(1);
            }
        }
    } else {
        vec![r.clone()]
    };
    for one in &refs {
        let pulled = match crate::distribution::pull(engine, route.registry.as_ref(), one, platform)
        {
            Ok(p) => p,
            Err(e) => {
                writeln!(
                    io.err,
                    "Error response from daemon: {}",
                    pull_error(&e, one, &route.host)
                )?;
                return Ok(1);
            }
        };
        if a.quiet {
            writeln!(io.out, "{}", pulled.reference)?;
            continue;
        }
        print_pulled(&mut *io.out, &pulled)?;
        if !a.all_tags {
            writeln!(io.out, "{}", pulled.reference)?;
        }
    }
    if a.all_tags && !a.quiet {
        writeln!(io.out, "{}", r.name())?;
    }
    Ok(0)
}

/// A pull with content trust: each signed target (the tag's, or with
/// `--all-tags` every released one) pulled by digest, then tagged
/// (docker's `trustedPull`).
fn trusted_pull(
    s: &mut Session,
    engine: &crate::engine::Engine,
    r: &Reference,
    a: &PullArgs,
    platform: &Platform,
    io: &mut Io,
) -> anyhow::Result<i32> {
    let r = if a.all_tags {
        if r.tag().is_some() {
            writeln!(io.err, "tag can't be used with --all-tags/-a")?;
            return Ok(1);
        }
        r.clone()
    } else {
        r.clone().with_default_tag()
    };
    let targets = match super::trust::pull_targets(s, &r) {
        Ok(t) => t,
        Err(e) => {
            writeln!(io.err, "{e}")?;
            return Ok(1);
        }
    };
    let home = s.engine_home();
    let route = match crate::network::route(&home, r.domain()) {
        Ok(route) => route,
        Err(e) => {
            writeln!(io.err, "Error response from daemon: {e}")?;
            return Ok(1);
        }
    };
    let n = targets.len();
    for (i, t) in targets.iter().enumerate() {
        writeln!(
            io.out,
            "Pull ({} of {n}): {}:{}@{}",
            i + 1,
            r.familiar_name(),
            t.name,
            t.digest
        )?;
        let by_digest = r.with_digest(t.digest.clone());
        let pulled = match crate::distribution::pull(
            engine,
            route.registry.as_ref(),
            &by_digest,
            platform,
        ) {
            Ok(p) => p,
            Err(e) => {
                writeln!(
                    io.err,
                    "Error response from daemon: {}",
                    pull_error(&e, &by_digest, &route.host)
                )?;
                return Ok(1);
            }
        };
        if pulled.digest != t.digest {
            // The registry answered the signed digest with other bytes.
            writeln!(
                io.err,
                "Error response from daemon: manifest verification failed for digest {}",
                t.digest
            )?;
            return Ok(1);
        }
        if !a.quiet {
            print_pulled(&mut *io.out, &pulled)?;
        }
        let tagged = r.with_tag(&t.name)?;
        say_tagging(io, &by_digest, &tagged)?;
        engine.tag(&pulled.id, &tagged)?;
    }
    writeln!(io.out, "{r}")?;
    Ok(0)
}

/// docker/cli's `TagTrusted` line, on stderr.
fn say_tagging(io: &mut Io, by_digest: &Reference, tagged: &Reference) -> anyhow::Result<()> {
    writeln!(
        io.err,
        "Tagging {} as {}",
        by_digest.familiar_string(),
        tagged.familiar_string()
    )?;
    Ok(())
}

/// docker's words for a failed pull.
fn pull_error(e: &crate::distribution::DistError, r: &Reference, host: &str) -> String {
    use crate::distribution::DistError;
    use crate::registry::{Code, RegistryError};
    let shown = match (r.tag(), r.digest()) {
        (_, Some(_)) | (Some(_), None) => r.familiar_string(),
        (None, None) => format!("{}:latest", r.familiar_name()),
    };
    match e {
        DistError::Registry(RegistryError::Spec { code, message, .. }) => match code {
            Code::Unauthorized | Code::Denied | Code::NameUnknown if host == "docker.io" => {
                format!(
                    "pull access denied for {}, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
                    r.familiar_name()
                )
            }
            Code::Unauthorized => format!(
                "Head \"https://{host}/v2/{}/manifests/{}\": no basic auth credentials",
                r.path(),
                r.tag().unwrap_or("latest")
            ),
            Code::NameUnknown => format!(
                "repository {} not found: name unknown: {message}",
                r.familiar_name()
            ),
            Code::ManifestUnknown => {
                format!("manifest for {shown} not found: manifest unknown: {message}")
            }
            _ => e.to_string(),
        },
        other => other.to_string(),
    }
}
