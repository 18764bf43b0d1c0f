//! `docker buildx`: builder instances (`create`, `ls`, `use`, `inspect`,
//! `rm`), builds on a docker-container builder (one build per platform,
//! pushed as an OCI image index), and `imagetools inspect`.

use crate::app::{Io, Session};
use crate::builder::{self, BuildOptions, Vertex};
use crate::buildx::{BUILDKIT_VERSION, Builders, Driver, Instance};
use crate::catalog::Platform;
use crate::cli::{BuildArgs, BuildxCmd, ImagetoolsCmd};
use crate::digest::Digest;
use crate::engine::Engine;
use crate::reference::Reference;
use crate::registry::{Manifest, RefSpec, media};

pub fn run(s: &mut Session, cmd: Option<BuildxCmd>, io: &mut Io) -> anyhow::Result<i32> {
    let Some(cmd) = cmd else {
        write!(io.out, "{}", crate::cli::BUILDX_USAGE)?;
        return Ok(0);
    };
    let home = s.engine_home();
    match cmd {
        BuildxCmd::Build(a) => super::build::run(s, a, io),
        BuildxCmd::Create(a) => {
            match a.driver.as_deref() {
                None | Some("docker-container") => {}
                Some(d @ ("kubernetes" | "remote")) => {
                    writeln!(
                        io.err,
                        "imagelab: the {d} driver is not simulated; use the docker-container driver"
                    )?;
                    return Ok(1);
                }
                Some(d) => {
                    writeln!(io.err, "ERROR: failed to find driver {d:?}")?;
                    return Ok(1);
                }
            }
            let mut b = Builders::load(&home)?;
            let name = match b.create(a.name.as_deref(), a.use_it) {
                Ok(n) => n,
                Err(e) => {
                    writeln!(io.err, "ERROR: {e}")?;
                    return Ok(1);
                }
            };
            if a.bootstrap {
                b.activate(&name, crate::home::now().timestamp());
            }
            b.save(&home)?;
            if a.bootstrap {
                print_boot(io, &name)?;
            }
            writeln!(io.out, "{name}")?;
            Ok(0)
        }
        BuildxCmd::Ls(_) => ls(&home, &Builders::load(&home)?, io),
        BuildxCmd::Use(a) => {
            let [name] = a.args.as_slice() else {
                writeln!(io.err, "ERROR: accepts 1 arg(s), received {}", a.args.len())?;
                return Ok(1);
            };
            let mut b = Builders::load(&home)?;
            if let Err(e) = b.use_builder(name) {
                writeln!(io.err, "ERROR: {e}")?;
                return Ok(1);
            }
            b.save(&home)?;
            Ok(0)
        }
        BuildxCmd::Inspect(a) => {
            let mut b = Builders::load(&home)?;
            let name = a
                .args
                .first()
                .cloned()
                .unwrap_or_else(|| b.current_name().to_string());
            if b.get(&name).is_none() {
                writeln!(io.err, "ERROR: no builder {name:?} found")?;
                return Ok(1);
            }
            if a.bootstrap && b.activate(&name, crate::home::now().timestamp()) {
                b.save(&home)?;
                print_boot(io, &name)?;
            }
            let inst = b.get(&name).expect("builder exists");
            inspect(&home, &inst, io)
        }
        BuildxCmd::Rm(a) => {
            let mut b = Builders::load(&home)?;
            let names = if a.args.is_empty() {
                vec![b.current_name().to_string()]
            } else {
                a.args.clone()
            };
            for name in names {
                if name == "default" {
                    writeln!(
                        io.err,
                        "ERROR: default is a docker driver builder and cannot be removed"
                    )?;
                    return Ok(1);
                }
                if let Err(e) = b.remove(&name) {
                    writeln!(io.err, "ERROR: {e}")?;
                    return Ok(1);
                }
                b.save(&home)?;
                writeln!(io.err, "{name} removed")?;
            }
            Ok(0)
        }
        BuildxCmd::Imagetools { cmd: None } => {
            writeln!(
                io.out,
                "\nUsage:  docker buildx imagetools [OPTIONS] COMMAND\n\nCommands to work on images in registry\n\nCommands:\n  inspect     Show details of an image in the registry\n"
            )?;
            Ok(0)
        }
        BuildxCmd::Imagetools {
            cmd: Some(ImagetoolsCmd::Inspect(a)),
        } => {
            let [name] = a.args.as_slice() else {
                writeln!(
                    io.err,
                    "ERROR: requires exactly 1 argument\nSee 'docker buildx imagetools inspect --help'."
                )?;
                return Ok(1);
            };
            imagetools_inspect(s, name, a.raw, io)
        }
    }
}

/// The lines a docker-container builder prints when it boots.
fn print_boot(io: &mut Io, name: &str) -> std::io::Result<()> {
    writeln!(io.err, "#1 [internal] booting buildkit")?;
    writeln!(io.err, "#1 pulling image moby/buildkit:buildx-stable-1")?;
    writeln!(
        io.err,
        "#1 pulling image moby/buildkit:buildx-stable-1 done"
    )?;
    writeln!(io.err, "#1 creating container buildx_buildkit_{name}0")?;
    writeln!(io.err, "#1 creating container buildx_buildkit_{name}0 done")?;
    writeln!(io.err, "#1 DONE 0.0s")
}

/// `docker buildx ls`: builders and their nodes, the current one starred,
/// in docker's table layout.
fn ls(home: &std::path::Path, b: &Builders, io: &mut Io) -> anyhow::Result<i32> {
    let current = b.current_name().to_string();
    let platforms = crate::emulation::trunc_platforms(&crate::emulation::supported(home));
    let mut rows = Vec::new();
    for i in b.all() {
        let star = if i.name == current { "*" } else { "" };
        rows.push(serde_json::json!({
            "Name": format!("{}{star}", i.name),
            "DriverEndpoint": i.driver.as_str(),
            "Status": "", "Buildkit": "", "Platforms": "",
        }));
        rows.push(serde_json::json!({
            "Name": format!(" \\_ {}", i.node_name()),
            "DriverEndpoint": format!(" \\_ {}", i.endpoint()),
            "Status": i.status(),
            "Buildkit": if i.booted { BUILDKIT_VERSION } else { "" },
            "Platforms": if i.booted { platforms.as_str() } else { "" },
        }));
    }
    let t = crate::format::Template::parse(
        "table {{.Name}}\t{{.DriverEndpoint}}\t{{.Status}}\t{{.Buildkit}}\t{{.Platforms}}",
    )?;
    super::print_rows(
        io,
        &t,
        &[
            ("Name", "NAME/NODE"),
            ("DriverEndpoint", "DRIVER/ENDPOINT"),
            ("Status", "STATUS"),
            ("Buildkit", "BUILDKIT"),
            ("Platforms", "PLATFORMS"),
        ],
        &rows,
    )
}

/// Lines of `label\tvalue` aligned as Go's tabwriter with padding 1.
fn aligned(lines: &[(&str, String)]) -> String {
    let w = lines.iter().map(|(l, _)| l.len()).max().unwrap_or(0) + 1;
    let mut out = String::new();
    for (l, v) in lines {
        if v.is_empty() {
            out.push_str(l);
        } else {
            out.push_str(&format!("{l:<w$}{v}"));
        }
        out.push('\n');
    }
    out
}

/// `docker buildx inspect`: the builder, then its node.
fn inspect(home: &std::path::Path, i: &Instance, io: &mut Io) -> anyhow::Result<i32> {
    let mut head = vec![
        ("Name:", i.name.clone()),
        ("Driver:", i.driver.as_str().to_string()),
    ];
    if let Some(t) = i.last_activity
        && let Some(t) = chrono::DateTime::from_timestamp(t, 0)
    {
        head.push((
            "Last Activity:",
            t.format("%Y-%m-%d %H:%M:%S +0000 UTC").to_string(),
        ));
    }
    write!(io.out, "{}", aligned(&head))?;
    writeln!(io.out, "\nNodes:")?;
    let mut node = vec![
        ("Name:", i.node_name()),
        ("Endpoint:", i.endpoint().to_string()),
        ("Status:", i.status().to_string()),
    ];
    if i.driver == Driver::DockerContainer {
        node.push((
            "BuildKit daemon flags:",
            "--allow-insecure-entitlement=network.host".into(),
        ));
    }
    if i.booted {
        node.push(("BuildKit version:", BUILDKIT_VERSION.into()));
        node.push(("Platforms:", crate::emulation::supported(home).join(", ")));
    }
    write!(io.out, "{}", aligned(&node))?;
    Ok(0)
}

/// A build on a docker-container builder: BuildKit in its own container,
/// so the result is not in `docker images` unless `--load`ed; `--push`
/// sends it to a registry (several platforms: an OCI image index).
pub fn container_build(
    s: &mut Session,
    a: &BuildArgs,
    engine: &Engine,
    mut opts: BuildOptions,
    platforms: Vec<Platform>,
    inst: &Instance,
    io: &mut Io,
) -> anyhow::Result<i32> {
    let multi = platforms.len() > 1;
    if a.load && multi {
        writeln!(
            io.err,
            "ERROR: docker exporter does not currently support exporting manifest lists"
        )?;
        return Ok(1);
    }
    if multi && opts.output.is_some() {
        writeln!(
            io.err,
            "imagelab: a multi-platform build exports with --push only"
        )?;
        return Ok(1);
    }
    if a.push && opts.tags.is_empty() {
        writeln!(
            io.err,
            "ERROR: failed to solve: tag is needed when pushing to registry"
        )?;
        return Ok(1);
    }
    if !a.push && !a.load && opts.output.is_none() {
        writeln!(
            io.err,
            "WARNING: No output specified with docker-container driver. Build result will only remain in the build cache. To push result image into registry use --push or to load image into docker use --load"
        )?;
    }
    let home = s.engine_home();
    let mut builders = Builders::load(&home)?;
    let booted = builders.activate(&inst.name, crate::home::now().timestamp());
    builders.save(&home)?;
    let started = std::time::Instant::now();
    let mut vertices = Vec::new();
    if booted {
        vertices.push(Vertex {
            name: "[internal] booting buildkit".into(),
            logs: vec![
                "pulling image moby/buildkit:buildx-stable-1".into(),
                format!("creating container buildx_buildkit_{}0", inst.name),
            ],
            ..Vertex::default()
        });
    }
    let before = engine.index()?;
    let tags = std::mem::take(&mut opts.tags);
    if a.load {
        opts.tags = tags.clone();
    }
    let targets = if platforms.is_empty() {
        vec![crate::engine::host_platform()]
    } else {
        platforms.clone()
    };
    let mut images: Vec<(Platform, Digest)> = Vec::new();
    let mut warnings = Vec::new();
    let mut failed = None;
    for (n, p) in targets.iter().enumerate() {
        opts.platform = Some(p.clone());
        let outcome = builder::build(engine, &opts);
        for mut v in outcome.vertices {
            // Context and definition are loaded once for all platforms.
            if n > 0 && v.name.starts_with("[internal] load ") && !v.name.contains("metadata") {
                continue;
            }
            if v.name == "exporting to image" && !a.load {
                continue;
            }
            if multi && v.name.starts_with('[') && !v.name.starts_with("[internal]") {
                v.name = format!("[{} {}", platform_name(p), &v.name[1..]);
            }
            vertices.push(v);
        }
        if n == 0 {
            warnings = outcome.warnings;
        }
        match outcome.result {
            Ok(id) => images.push((p.clone(), id)),
            Err(e) => {
                failed = Some((e, outcome.dockerfile_name, outcome.dockerfile_text));
                break;
            }
        }
    }
    if let Some((e, name, text)) = failed {
        let total = started.elapsed().as_secs_f64();
        super::build::show_progress(io, a, inst, &vertices, &warnings, total, Some(&e), None)?;
        if let Some((start, end)) = e.lines() {
            write!(
                io.err,
                "{}",
                super::build::excerpt(&name, &text, start, end)
            )?;
        }
        writeln!(io.err, "ERROR: {e}")?;
        cleanup(engine, &before, &images, a.load)?;
        return Ok(1);
    }
    let mut push_error = None;
    if a.push {
        let mut v = Vertex {
            name: "exporting to image".into(),
            logs: vec!["exporting layers".into()],
            ..Vertex::default()
        };
        let mut first = true;
        for r in &tags {
            let r = r.clone().with_default_tag();
            match push_one(&home, engine, &r, &images, multi) {
                Ok((manifests, index)) => {
                    if first {
                        for (m, c) in &manifests {
                            v.logs.push(format!("exporting manifest {m}"));
                            v.logs.push(format!("exporting config {c}"));
                        }
                        if let Some(d) = &index {
                            v.logs.push(format!("exporting manifest list {d}"));
                        }
                        for t in &tags {
                            v.logs
                                .push(format!("naming to {}", t.clone().with_default_tag()));
                        }
                        first = false;
                    }
                    let top = index.unwrap_or_else(|| manifests[0].0.clone());
                    v.logs.push("pushing layers".into());
                    v.logs.push(format!("pushing manifest for {r}@{top}"));
                }
                Err(e) => {
                    v.error = true;
                    push_error = Some(format!("failed to push {r}: {e}"));
                    break;
                }
            }
        }
        vertices.push(v);
    }
    let total = started.elapsed().as_secs_f64();
    super::build::show_progress(
        io,
        a,
        inst,
        &vertices,
        &warnings,
        total,
        None,
        push_error.as_deref(),
    )?;
    cleanup(engine, &before, &images, a.load)?;
    if let Some(e) = push_error {
        writeln!(io.err, "ERROR: failed to solve: {e}")?;
        return Ok(1);
    }
    if (a.quiet || a.progress == "quiet")
        && let [(_, id)] = images.as_slice()
    {
        writeln!(io.out, "{id}")?;
    }
    Ok(0)
}

/// `linux/amd64`, `linux/arm64` (no `v8`), `linux/arm/v7`, as BuildKit
/// names a platform in its progress.
fn platform_name(p: &Platform) -> String {
    match (p.architecture.as_str(), p.variant.as_deref()) {
        ("arm64", Some("v8")) | (_, None) => format!("{}/{}", p.os, p.architecture),
        (_, Some(v)) => format!("{}/{}/{v}", p.os, p.architecture),
    }
}

/// Each pushed image's (manifest, config) digests, and the index's.
type PushedDigests = (Vec<(Digest, Digest)>, Option<Digest>);

/// Pushes the built images under `r`: one OCI manifest, or an index of
/// them. Returns (manifest, config) digests and the index's digest.
fn push_one(
    home: &std::path::Path,
    engine: &Engine,
    r: &Reference,
    images: &[(Platform, Digest)],
    multi: bool,
) -> Result<PushedDigests, String> {
    let route = crate::network::route(home, r.domain()).map_err(|e| e.to_string())?;
    let reg = route.registry.as_ref();
    let tag = r.tag().unwrap_or("latest");
    let err = |e: crate::distribution::DistError| super::push::registry_error(&e, &route.host);
    if multi {
        let pushed =
            crate::distribution::push_index(engine, reg, &route.host, r.path(), tag, images)
                .map_err(err)?;
        let ms = pushed
            .manifests
            .iter()
            .map(|m| (m.digest.clone(), m.config.clone()))
            .collect();
        return Ok((ms, Some(pushed.digest)));
    }
    let (_, id) = &images[0];
    let up = crate::distribution::upload(
        engine,
        reg,
        &route.host,
        r.path(),
        id,
        crate::distribution::Format::Oci,
    )
    .map_err(err)?;
    let digest = reg
        .put_manifest(
            r.path(),
            &RefSpec::Tag(tag.to_string()),
            up.media_type,
            &up.manifest,
        )
        .map_err(|e| err(e.into()))?;
    up.commit(engine).map_err(err)?;
    Ok((vec![(digest, id.clone())], None))
}

/// Removes the images a docker-container build left in the store (its
/// results live in BuildKit's cache, not in docker's images), unless they
/// were loaded or were there before.
fn cleanup(
    engine: &Engine,
    before: &crate::store::Index,
    images: &[(Platform, Digest)],
    loaded: bool,
) -> anyhow::Result<()> {
    if loaded {
        return Ok(());
    }
    for (_, id) in images {
        if !before.images.contains_key(id) && engine.index()?.images.contains_key(id) {
            let _ = engine.remove(&id.to_string(), true, false);
        }
    }
    Ok(())
}

/// `docker buildx imagetools inspect NAME`: the manifest or index as
/// buildx prints it (`--raw`: its bytes as the registry holds them).
fn imagetools_inspect(s: &Session, name: &str, raw: bool, io: &mut Io) -> anyhow::Result<i32> {
    let (r, top) = match fetch(s, name) {
        Ok(x) => x,
        Err(e) => {
            writeln!(io.err, "ERROR: {e}")?;
            return Ok(1);
        }
    };
    if raw {
        io.out.write_all(&top.bytes)?;
        if !top.bytes.ends_with(b"\n") {
            writeln!(io.out)?;
        }
        return Ok(0);
    }
    let shown = r.to_string();
    let head = [
        ("Name:", shown.clone()),
        ("MediaType:", top.media_type.clone()),
        ("Digest:", top.digest.to_string()),
    ];
    write!(io.out, "{}", aligned(&head))?;
    if !media::is_index(&top.media_type) {
        return Ok(0);
    }
    // The blank line and `Manifests:` are tab-terminated cells: padded.
    writeln!(io.out, "{:11}\nManifests: ", "")?;
    let v: serde_json::Value = serde_json::from_slice(&top.bytes)?;
    let base = shown;
    let mut block = String::new();
    for (i, m) in v["manifests"].as_array().into_iter().flatten().enumerate() {
        if i > 0 {
            block.push_str(&format!("{:13}\n", ""));
        }
        let p = &m["platform"];
        let mut platform = format!(
            "{}/{}",
            p["os"].as_str().unwrap_or_default(),
            p["architecture"].as_str().unwrap_or_default()
        );
        if let Some(var) = p["variant"].as_str() {
            platform.push('/');
            platform.push_str(var);
        }
        block.push_str(&aligned_prefixed(&[
            (
                "Name:",
                format!("{base}@{}", m["digest"].as_str().unwrap_or_default()),
            ),
            (
                "MediaType:",
                m["mediaType"].as_str().unwrap_or_default().to_string(),
            ),
            ("Platform:", platform),
        ]));
    }
    write!(io.out, "{block}")?;
    Ok(0)
}

/// The manifest block's lines: two spaces in, values at column 13.
fn aligned_prefixed(lines: &[(&str, String)]) -> String {
    lines
        .iter()
        .map(|(l, v)| format!("  {l:<11}{v}\n"))
        .collect()
}

/// Reads the manifest (or index) a reference names from its registry.
pub fn fetch(s: &Session, name: &str) -> Result<(Reference, Manifest), String> {
    let r = Reference::parse(name).map_err(|e| e.to_string())?;
    let r = if r.digest().is_none() {
        r.with_default_tag()
    } else {
        r
    };
    let route = crate::network::route(&s.engine_home(), r.domain()).map_err(|e| e.to_string())?;
    let reference = match (r.digest(), r.tag()) {
        (Some(d), _) => RefSpec::Digest(d.clone()),
        (None, t) => RefSpec::Tag(t.unwrap_or("latest").to_string()),
    };
    let m = route
        .registry
        .get_manifest(r.path(), &reference)
        .map_err(|e| {
            super::push::registry_error(&crate::distribution::DistError::Registry(e), &route.host)
        })?;
    Ok((r, m))
}
