//! `docker run` / `docker container run`: pull the image when missing,
//! create the container record, start its process and, in the foreground,
//! print what it printed and return its exit status.
//!
//! A server (nginx, `python -m http.server`, the registry) never exits: in
//! the foreground imagelab prints its startup logs, then says the container
//! keeps running in the background and how to stop it, and returns 0 (real
//! docker would block until Ctrl-C). `-it IMAGE sh` opens a nested shell:
//! the following lines (REPL, `imagelab run FILE`) go to it until `exit`.

use super::container::{print_chunks, run_error};
use crate::app::{Io, Session};
use crate::catalog::Platform;
use crate::cli::RunArgs;
use crate::container::runtime::{self, Started};
use crate::container::{
    Config, Container, Containers, HostConfig, Mount, PortBinding, State, Status,
};
use crate::reference::Reference;
use serde_json::Value;

pub fn run(s: &mut Session, a: RunArgs, io: &mut Io) -> anyhow::Result<i32> {
    if a.args.is_empty() {
        writeln!(
            io.err,
            "docker: 'docker run' requires at least 1 argument\n\nUsage:  docker run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nSee 'docker run --help' for more information"
        )?;
        return Ok(125);
    }
    let name = a.args[0].clone();
    let r = match Reference::parse(&name) {
        Ok(r) => r,
        Err(e) => return run_error(io, &format!("{e}")),
    };
    let platform = match &a.platform {
        Some(p) => match Platform::parse(p) {
            Some(p) => p,
            None => {
                return run_error(
                    io,
                    &format!(
                        "Error response from daemon: \"{p}\": unknown operating system or architecture: invalid argument"
                    ),
                );
            }
        },
        None => crate::engine::host_platform(),
    };
    // Content trust: docker/cli resolves a tag through the trust server
    // before it creates the container, whether the image is local or not
    // (`image.TrustedReference`). The catalog's official images are signed.
    let trusted = super::trust::wanted(s, a.disable_content_trust);
    if trusted && r.digest().is_none() && !super::trust::official(&r) {
        let tagged = r.clone().with_default_tag();
        if let Err(e) = super::trust::pull_targets(s, &tagged) {
            return run_error(io, &e);
        }
    }
    let engine = s.engine()?;
    let img = match engine.lookup(&name) {
        Ok(img) => img,
        Err(_) => {
            let shown = r.clone().with_default_tag().familiar_string();
            writeln!(io.err, "Unable to find image '{shown}' locally")?;
            match engine.pull(&name, &platform) {
                Ok(p) => {
                    super::pull::print_pulled(&mut *io.err, &p)?;
                    engine.image(&p.id)?
                }
                Err(e) => return run_error(io, &format!("Error response from daemon: {e}")),
            }
        }
    };
    // An image for another platform, none requested: the daemon warns (and
    // the host cannot run its programs: `exec format error`).
    if a.platform.is_none() {
        let arch = img.config["architecture"].as_str().unwrap_or("amd64");
        let host = crate::engine::host_platform();
        if arch != host.architecture {
            let mut p = format!("{}/{arch}", img.config["os"].as_str().unwrap_or("linux"));
            if let Some(v) = img.config["variant"].as_str() {
                p.push('/');
                p.push_str(v);
            }
            writeln!(
                io.err,
                "WARNING: The requested image's platform ({p}) does not match the detected host platform (linux/amd64/v3) and no specific platform was requested"
            )?;
        }
    }
    let cfg = &img.config["config"];
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut entrypoint = strings(&cfg["Entrypoint"]);
    let mut cmd = strings(&cfg["Cmd"]);
    if let Some(ep) = &a.entrypoint {
        entrypoint = if ep.is_empty() {
            Vec::new()
        } else {
            vec![ep.clone()]
        };
        cmd.clear();
    }
    if a.args.len() > 1 {
        cmd = a.args[1..].to_vec();
    }
    if entrypoint.is_empty() && cmd.is_empty() {
        return run_error(io, "Error response from daemon: no command specified");
    }
    // Environment: the image's, then --env-file, then -e.
    let mut env = strings(&cfg["Env"]);
    let mut extra = Vec::new();
    for f in &a.env_file {
        let path = s.path(f);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(_) => return run_error(io, &format!("open {f}: no such file or directory")),
        };
        for line in text.lines() {
            let line = line.trim_start();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            extra.push(line.to_string());
        }
    }
    extra.extend(a.env.iter().cloned());
    for e in extra {
        match e.split_once('=') {
            Some(("", _)) => {
                return run_error(io, &format!("invalid environment variable: {e}"));
            }
            Some(_) => set_env(&mut env, e),
            // `-e NAME`: the client's value, or nothing when it has none.
            None => {
                if let Some(v) = s.var(&e) {
                    set_env(&mut env, format!("{e}={v}"));
                }
            }
        }
    }
    let exposed: Vec<String> = match &cfg["ExposedPorts"] {
        Value::Object(m) => m.keys().cloned().collect(),
        _ => Vec::new(),
    };
    let store = Containers::open(&s.engine_home());
    let mut ports = Vec::new();
    for p in &a.publish {
        match parse_publish(p) {
            Some(b) => ports.push(b),
            None => return run_error(io, &format!("invalid published port: {p}")),
        }
    }
    let used: Vec<u16> = store
        .list()?
        .iter()
        .flat_map(|c| c.host.ports.iter().map(|b| b.host_port))
        .collect();
    let mut next_ephemeral = 32768u16;
    let mut ephemeral = |used: &[u16], ports: &[PortBinding]| {
        while used.contains(&next_ephemeral) || ports.iter().any(|b| b.host_port == next_ephemeral)
        {
            next_ephemeral += 1;
        }
        next_ephemeral
    };
    for i in 0..ports.len() {
        if ports[i].host_port == 0 {
            let p = ephemeral(&used, &ports);
            ports[i].host_port = p;
        }
    }
    if a.publish_all {
        for e in &exposed {
            let (port, proto) = e.split_once('/').unwrap_or((e, "tcp"));
            let Ok(port) = port.parse::<u16>() else {
                continue;
            };
            if ports
                .iter()
                .any(|b| b.container_port == port && b.proto == proto)
            {
                continue;
            }
            let hp = ephemeral(&used, &ports);
            ports.push(PortBinding {
                host_ip: String::new(),
                host_port: hp,
                container_port: port,
                proto: proto.to_string(),
            });
        }
    }
    let mut mounts = Vec::new();
    for v in &a.volume {
        match volume_flag(s, v) {
            Ok(m) => mounts.push(m),
            Err(MountError::Confined(e)) => {
                writeln!(io.err, "imagelab: {e}")?;
                return Ok(125);
            }
            Err(MountError::Docker(e)) => return run_error(io, &e),
        }
    }
    for v in &a.mount {
        match mount_flag(s, v) {
            Ok(m) => mounts.push(m),
            Err(MountError::Confined(e)) => {
                writeln!(io.err, "imagelab: {e}")?;
                return Ok(125);
            }
            Err(MountError::Docker(e)) => return run_error(io, &e),
        }
    }
    let (id, cname) = match store.allocate(&img.id.to_string(), a.name.as_deref()) {
        Ok(x) => x,
        Err(e) => return run_error(io, &format!("Error response from daemon: {e}")),
    };
    let arch = img.config["architecture"].as_str().unwrap_or("amd64");
    let os = img.config["os"].as_str().unwrap_or("linux");
    let mut c = Container {
        id: id.clone(),
        name: cname.clone(),
        image: name.clone(),
        image_id: img.id.to_string(),
        created: runtime::now(),
        path: entrypoint
            .first()
            .cloned()
            .unwrap_or_else(|| cmd.first().cloned().unwrap_or_default()),
        args: entrypoint
            .iter()
            .chain(cmd.iter())
            .skip(1)
            .cloned()
            .collect(),
        config: Config {
            hostname: id[..12].to_string(),
            user: a
                .user
                .clone()
                .unwrap_or_else(|| cfg["User"].as_str().unwrap_or("").to_string()),
            env,
            cmd,
            entrypoint,
            working_dir: a
                .workdir
                .clone()
                .unwrap_or_else(|| cfg["WorkingDir"].as_str().unwrap_or("").to_string()),
            tty: a.tty,
            open_stdin: a.interactive,
            exposed_ports: exposed,
        },
        host: HostConfig {
            ports,
            auto_remove: a.rm,
            restart: a.restart.clone().unwrap_or_else(|| "no".into()),
            network: a.network.clone().unwrap_or_else(|| "bridge".into()),
            mounts,
            privileged: a.privileged,
        },
        state: State {
            status: Status::Created,
            exit_code: 0,
            started_at: 0,
            finished_at: 0,
            pid: 0,
            error: String::new(),
        },
        platform: format!("{os}/{arch}"),
        service: None,
        restart_count: 0,
    };
    store.save(&c)?;
    let stdin = if a.interactive {
        s.read_stdin().unwrap_or_default()
    } else {
        Vec::new()
    };
    let started = runtime::start(&engine, &store, &mut c, stdin, a.interactive && !a.detach)?;
    match started {
        Started::Failed { status, message } => {
            if a.rm {
                store.remove(&c.id)?;
            }
            run_error(io, &format!("Error response from daemon: {message}"))?;
            Ok(status)
        }
        Started::Shell(sh) => {
            super::exec::enter_shell(s, *sh, io)?;
            Ok(0)
        }
        _ if a.detach => {
            writeln!(io.out, "{id}")?;
            Ok(0)
        }
        Started::Exited(status) => {
            print_chunks(io, &store.logs(&c.id)?, a.tty)?;
            if a.rm {
                store.remove(&c.id)?;
            }
            Ok(status)
        }
        Started::Serving => {
            print_chunks(io, &store.logs(&c.id)?, a.tty)?;
            writeln!(
                io.err,
                "imagelab: {cname} is a server and keeps running; it goes on in the background (as with `docker run -d`).\nimagelab: stop it with: docker stop {cname}"
            )?;
            Ok(0)
        }
    }
}

/// Sets `K=V` in a `KEY=value` list, replacing an earlier value.
fn set_env(env: &mut Vec<String>, kv: String) {
    let k = kv.split('=').next().unwrap_or("").to_string();
    match env
        .iter_mut()
        .find(|e| e.split('=').next() == Some(k.as_str()))
    {
        Some(e) => *e = kv,
        None => env.push(kv),
    }
}

/// `-p [IP:][HOST:]CONTAINER[/proto]`; a missing host port is 0 (the
/// caller picks an ephemeral one).
pub fn parse_publish(p: &str) -> Option<PortBinding> {
    let (spec, proto) = match p.rsplit_once('/') {
        Some((s, pr)) if matches!(pr, "tcp" | "udp" | "sctp") => (s, pr),
        Some(_) => return None,
        None => (p, "tcp"),
    };
    let parts: Vec<&str> = spec.rsplitn(3, ':').collect();
    let (ip, host, cont) = match parts.as_slice() {
        [c] => ("", "", *c),
        [c, h] => ("", *h, *c),
        [c, h, ip] => (*ip, *h, *c),
        _ => return None,
    };
    let container_port = cont.parse::<u16>().ok().filter(|p| *p > 0)?;
    let host_port = if host.is_empty() {
        0
    } else {
        host.parse::<u16>().ok().filter(|p| *p > 0)?
    };
    let ip = ip.trim_start_matches('[').trim_end_matches(']');
    Some(PortBinding {
        host_ip: if ip == "0.0.0.0" {
            String::new()
        } else {
            ip.to_string()
        },
        host_port,
        container_port,
        proto: proto.to_string(),
    })
}

/// Why a `-v` or `--mount` was refused: docker's words, or the lab's when
/// a host path leaves the workspace.
enum MountError {
    Docker(String),
    Confined(String),
}

/// Whether a `-v` source is a host path (docker: absolute, or relative
/// with `.`; a bare word is a volume name).
fn is_host_path(src: &str) -> bool {
    src.starts_with('/')
        || src == "."
        || src == ".."
        || src.starts_with("./")
        || src.starts_with("../")
}

/// A host path for a bind mount: absolute, inside the workspace.
fn host_source(s: &Session, src: &str) -> Result<std::path::PathBuf, MountError> {
    let p = super::files::confined(s, src).map_err(|e| MountError::Confined(e.to_string()))?;
    let mut out = std::path::PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

/// `-v SRC:DST[:MODE]`: a bind mount when SRC is a path (created as a
/// folder when missing, as the daemon does), else a named volume.
fn volume_flag(s: &Session, v: &str) -> Result<Mount, MountError> {
    let parts: Vec<&str> = v.split(':').collect();
    let bad = || MountError::Docker(format!("invalid volume specification: '{v}'"));
    let (src, dst, mode) = match parts.as_slice() {
        [src, dst] => (*src, *dst, ""),
        [src, dst, mode] => (*src, *dst, *mode),
        _ => return Err(bad()),
    };
    if !dst.starts_with('/') || src.is_empty() {
        return Err(bad());
    }
    let mut read_only = false;
    for m in mode.split(',').filter(|m| !m.is_empty()) {
        match m {
            "ro" => read_only = true,
            "rw" | "z" | "Z" | "consistent" | "cached" | "delegated" | "nocopy" => {}
            _ => {
                return Err(MountError::Docker(format!(
                    "Error response from daemon: invalid mode: {mode}"
                )));
            }
        }
    }
    if !is_host_path(src) {
        return Ok(Mount::volume(src, dst));
    }
    let host = host_source(s, src)?;
    if !host.exists() {
        std::fs::create_dir_all(&host).map_err(|e| {
            MountError::Docker(format!(
                "Error response from daemon: error while creating mount source path '{}': {e}",
                host.display()
            ))
        })?;
    }
    Ok(Mount::bind(&host.to_string_lossy(), dst, read_only))
}

/// `--mount type=bind|volume,source=...,target=...[,readonly]`, with the
/// CLI's and the daemon's errors.
fn mount_flag(s: &Session, v: &str) -> Result<Mount, MountError> {
    let flag_err = |why: String| {
        MountError::Docker(format!(
            "invalid argument \"{v}\" for \"--mount\" flag: {why}"
        ))
    };
    let mut kind = "volume".to_string();
    let mut source = String::new();
    let mut target = String::new();
    let mut read_only = false;
    for field in v.split(',') {
        let (k, val) = match field.split_once('=') {
            Some((k, val)) => (k.trim().to_ascii_lowercase(), Some(val.trim())),
            None => (field.trim().to_ascii_lowercase(), None),
        };
        match (k.as_str(), val) {
            ("readonly" | "ro", None) => read_only = true,
            ("readonly" | "ro", Some(b)) => match b {
                "1" | "true" => read_only = true,
                "0" | "false" => read_only = false,
                _ => return Err(flag_err(format!("invalid value for {k}: {b}"))),
            },
            ("type", Some(t)) => kind = t.to_string(),
            ("source" | "src", Some(x)) => source = x.to_string(),
            ("target" | "dst" | "destination", Some(x)) => target = x.to_string(),
            (
                "bind-propagation" | "consistency" | "volume-driver" | "volume-opt"
                | "volume-nocopy" | "volume-subpath" | "bind-recursive",
                _,
            ) => {}
            (_, None) => {
                return Err(flag_err(format!(
                    "invalid field '{field}' must be a key=value pair"
                )));
            }
            (_, Some(_)) => return Err(flag_err(format!("unexpected key '{k}' in '{field}'"))),
        }
    }
    if target.is_empty() {
        return Err(flag_err("target is required".into()));
    }
    match kind.as_str() {
        "bind" => {
            if source.is_empty() {
                return Err(MountError::Docker(
                    "Error response from daemon: invalid mount config for type \"bind\": field Source must not be empty".into(),
                ));
            }
            let host = host_source(s, &source)?;
            if !host.exists() {
                return Err(MountError::Docker(format!(
                    "Error response from daemon: {}",
                    crate::container::ContainerError::BindSourceMissing(host.display().to_string())
                )));
            }
            Ok(Mount::bind(&host.to_string_lossy(), &target, read_only))
        }
        "volume" => {
            let name = if source.is_empty() {
                crate::digest::Digest::of(
                    format!("anonymous volume {target} {}", runtime::now()).as_bytes(),
                )
                .hex()
            } else {
                source
            };
            if !crate::container::valid_name(&name) {
                return Err(MountError::Docker(format!(
                    "Error response from daemon: {}",
                    crate::container::ContainerError::BadVolume(name)
                )));
            }
            let mut m = Mount::volume(&name, &target);
            m.read_only = read_only;
            Ok(m)
        }
        other => Err(flag_err(format!("unknown mount type '{other}'"))),
    }
}
