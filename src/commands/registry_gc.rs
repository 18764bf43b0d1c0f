//! `registry garbage-collect CONFIG [-d|--dry-run] [-m|--delete-untagged]`
//! run in a `registry:2` container (`docker exec registry bin/registry
//! garbage-collect /etc/docker/registry/config.yml`): distribution 2.8's
//! mark and sweep over the container's storage (the folder `docker push`
//! filled), its progress on stdout as distribution prints it, and each
//! deleted blob logged on stderr.

use crate::app::{Io, Session};
use crate::container::Container;
use crate::container::services::{Service, registry_log};

const USAGE: &str = "Usage:
  registry garbage-collect <config> [flags]

Flags:
  -m, --delete-untagged   delete manifests that are not currently referenced via tag
  -d, --dry-run           do everything except remove the blobs
  -h, --help              help for garbage-collect
";

/// Whether `argv` is the registry binary's `garbage-collect` in a
/// registry container.
pub fn is_gc(c: &Container, argv: &[String]) -> bool {
    let prog = argv
        .first()
        .map(|a| a.rsplit('/').next().unwrap_or(a))
        .unwrap_or("");
    matches!(c.service, Some(Service::Registry))
        && prog == "registry"
        && argv.get(1).map(String::as_str) == Some("garbage-collect")
}

pub fn run(s: &Session, c: &Container, argv: &[String], io: &mut Io) -> anyhow::Result<i32> {
    let mut dry_run = false;
    let mut untagged = false;
    let mut config = None;
    for a in &argv[2..] {
        match a.as_str() {
            "-d" | "--dry-run" | "--dry-run=true" => dry_run = true,
            "-m" | "--delete-untagged" | "--delete-untagged=true" => untagged = true,
            "-dm" | "-md" => {
                dry_run = true;
                untagged = true;
            }
            "--dry-run=false" | "--delete-untagged=false" => {}
            "-h" | "--help" => {
                write!(
                    io.out,
                    "`garbage-collect` deletes layer not referenced by any manifests\n\n{USAGE}"
                )?;
                return Ok(0);
            }
            f if f.starts_with('-') => {
                writeln!(io.err, "Error: unknown flag: {f}")?;
                write!(io.err, "{USAGE}")?;
                return Ok(1);
            }
            p => {
                if config.is_none() {
                    config = Some(p.to_string());
                }
            }
        }
    }
    let engine = s.engine()?;
    let store = super::container::store(s);
    let fs = crate::container::runtime::open_fs(&engine, &store, c)?;
    let problem = match &config {
        None => Some("configuration path unspecified".to_string()),
        Some(p) if !fs.is_file(p) => Some(format!("open {p}: no such file or directory")),
        _ => None,
    };
    if let Some(why) = problem {
        writeln!(io.err, "configuration error: {why}")?;
        write!(io.err, "{USAGE}")?;
        return Ok(1);
    }
    let root = crate::network::container_registry_root(&s.engine_home(), c);
    let reg = crate::registry::local::LocalRegistry::new(
        &root,
        crate::network::container_policy(c, None),
    );
    let report = reg.mark_and_sweep(dry_run, untagged)?;
    for (repo, marks) in &report.repositories {
        writeln!(io.out, "{repo}")?;
        for (m, refs) in marks {
            writeln!(io.out, "{repo}: marking manifest {m} ")?;
            for r in refs {
                writeln!(io.out, "{repo}: marking blob {r}")?;
            }
        }
    }
    for m in &report.manifests {
        writeln!(
            io.out,
            "manifest eligible for deletion: {{{} {} [{}]}}",
            m.repo,
            m.digest,
            m.tags.join(" ")
        )?;
    }
    writeln!(
        io.out,
        "\n{} blobs marked, {} blobs and {} manifests eligible for deletion",
        report.marked,
        report.eligible.len(),
        report.manifests.len()
    )?;
    let clock = crate::container::runtime::now();
    for d in &report.eligible {
        writeln!(io.out, "blob eligible for deletion: {d}")?;
        if !dry_run {
            let hex = d.hex();
            write!(
                io.err,
                "{}",
                registry_log(
                    clock,
                    &c.id,
                    "info",
                    &format!(
                        "Deleting blob: /docker/registry/v2/blobs/sha256/{}/{hex}",
                        &hex[..2]
                    ),
                    &[],
                )
            )?;
        }
    }
    Ok(0)
}
