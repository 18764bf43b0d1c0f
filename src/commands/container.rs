//! `docker container ...`: the management command's dispatch, `container
//! prune`, and what the container verbs share (finding a container with
//! docker's error, printing a container's output, the inspect object).

use crate::app::{Io, Session};
use crate::cli::{ContainerCmd, PruneArgs};
use crate::container::{Container, Containers, LogChunk};
use serde_json::{Map, Value, json};

/// Dispatches `docker container SUBCOMMAND`.
pub fn run(s: &mut Session, cmd: Option<ContainerCmd>, io: &mut Io) -> anyhow::Result<i32> {
    match cmd {
        None => {
            write!(io.out, "{}", crate::cli::CONTAINER_USAGE)?;
            Ok(0)
        }
        Some(ContainerCmd::Run(a)) => super::run::run(s, a, io),
        Some(ContainerCmd::Ls(a)) => super::ps::run(s, a, io),
        Some(ContainerCmd::Logs(a)) => super::logs::run(s, a, io),
        Some(ContainerCmd::Stop(a)) => super::stop::run(s, a, io),
        Some(ContainerCmd::Start(a)) => super::container_start::run(s, a, io),
        Some(ContainerCmd::Restart(a)) => super::restart::run(s, a, io),
        Some(ContainerCmd::Rm(a)) => super::rm::run(s, a, io),
        Some(ContainerCmd::Exec(a)) => super::exec::run(s, a, io),
        Some(ContainerCmd::Top(a)) => super::top::run(s, a, io),
        Some(ContainerCmd::Inspect(a)) => super::inspect::run_containers(s, a, io),
        Some(ContainerCmd::Prune(a)) => prune(s, a, io),
        Some(ContainerCmd::Diff(a)) => super::diff::run(s, a, io),
        Some(ContainerCmd::Export(a)) => super::export::run(s, a, io),
        Some(ContainerCmd::Commit(a)) => super::commit::run(s, a, io),
    }
}

/// `docker run`'s error layout: `docker: TEXT`, a blank line and the help
/// hint (docker CLI 28); exit 125.
pub fn run_error(io: &mut Io, text: &str) -> anyhow::Result<i32> {
    writeln!(
        io.err,
        "docker: {text}\n\nRun 'docker run --help' for more information"
    )?;
    Ok(125)
}

/// Prints a container's output: stdout and stderr to their streams, or
/// all to stdout when a terminal was attached (`-t`).
pub fn print_chunks(io: &mut Io, chunks: &[LogChunk], tty: bool) -> anyhow::Result<()> {
    for c in chunks {
        if c.stderr && !tty {
            io.err.write_all(c.text.as_bytes())?;
        } else {
            io.out.write_all(c.text.as_bytes())?;
        }
    }
    Ok(())
}

/// The container store of the session's engine home.
pub fn store(s: &Session) -> Containers {
    Containers::open(&s.engine_home())
}

/// Finds a container, printing docker's error when there is none.
pub fn find(store: &Containers, io: &mut Io, key: &str) -> anyhow::Result<Option<Container>> {
    match store.find(key) {
        Ok(c) => Ok(Some(c)),
        Err(e) => {
            writeln!(io.err, "Error response from daemon: {e}")?;
            Ok(None)
        }
    }
}

/// RFC 3339 with nanoseconds, as the daemon prints times; Go's zero time
/// for "never".
pub fn time(t: i64) -> String {
    if t == 0 {
        return "0001-01-01T00:00:00Z".into();
    }
    chrono::DateTime::from_timestamp(t, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// `docker container prune -f`.
fn prune(s: &mut Session, a: PruneArgs, io: &mut Io) -> anyhow::Result<i32> {
    if !a.force {
        write!(
            io.out,
            "WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] "
        )?;
        let answer = s.read_stdin().unwrap_or_default();
        let yes = String::from_utf8_lossy(&answer)
            .trim()
            .eq_ignore_ascii_case("y");
        if !yes {
            writeln!(io.out)?;
            return Ok(0);
        }
    }
    let removed = prune_stopped(s)?;
    if !removed.is_empty() {
        writeln!(io.out, "Deleted Containers:")?;
        for id in &removed {
            writeln!(io.out, "{id}")?;
        }
        writeln!(io.out)?;
    }
    writeln!(io.out, "Total reclaimed space: 0B")?;
    Ok(0)
}

/// Removes every stopped container: their IDs (`container prune`, `system
/// prune`).
pub fn prune_stopped(s: &Session) -> anyhow::Result<Vec<String>> {
    let st = store(s);
    let mut removed = Vec::new();
    for c in st.list()? {
        if !c.running() {
            st.remove(&c.id)?;
            removed.push(c.id);
        }
    }
    Ok(removed)
}

/// The ports map of `NetworkSettings.Ports` / `HostConfig.PortBindings`.
fn port_map(c: &Container, with_v6: bool) -> Value {
    let mut m = Map::new();
    for e in &c.config.exposed_ports {
        m.insert(e.clone(), Value::Null);
    }
    for b in &c.host.ports {
        let mut list = match m.get(&b.key()) {
            Some(Value::Array(a)) => a.clone(),
            _ => Vec::new(),
        };
        let ip = if b.host_ip.is_empty() && with_v6 {
            "0.0.0.0"
        } else {
            &b.host_ip
        };
        list.push(json!({"HostIp": ip, "HostPort": b.host_port.to_string()}));
        if b.host_ip.is_empty() && with_v6 {
            list.push(json!({"HostIp": "::", "HostPort": b.host_port.to_string()}));
        }
        m.insert(b.key(), Value::Array(list));
    }
    Value::Object(m)
}

/// The `docker container inspect` object (the fields learners look at).
pub fn inspect_json(c: &Container) -> Value {
    let st = &c.state;
    let running = c.running();
    let bindings = {
        let mut m = Map::new();
        for b in &c.host.ports {
            let mut list = match m.get(&b.key()) {
                Some(Value::Array(a)) => a.clone(),
                _ => Vec::new(),
            };
            list.push(json!({"HostIp": b.host_ip, "HostPort": b.host_port.to_string()}));
            m.insert(b.key(), Value::Array(list));
        }
        Value::Object(m)
    };
    let exposed: Map<String, Value> = c
        .config
        .exposed_ports
        .iter()
        .map(|p| (p.clone(), json!({})))
        .collect();
    let mounts: Vec<Value> = c
        .host
        .mounts
        .iter()
        .map(|m| {
            if m.is_bind() {
                return json!({
                    "Type": "bind",
                    "Source": m.source,
                    "Destination": m.destination,
                    "Mode": if m.read_only { "ro" } else { "" },
                    "RW": !m.read_only,
                    "Propagation": "rprivate"
                });
            }
            json!({
                "Type": "volume",
                "Name": m.name,
                "Source": format!("/var/lib/docker/volumes/{}/_data", m.name),
                "Destination": m.destination,
                "Driver": "local",
                "Mode": "z",
                "RW": true,
                "Propagation": ""
            })
        })
        .collect();
    let ip = if running { "172.17.0.2" } else { "" };
    json!({
        "Id": c.id,
        "Created": time(c.created),
        "Path": c.path,
        "Args": c.args,
        "State": {
            "Status": st.status.as_str(),
            "Running": running,
            "Paused": false,
            "Restarting": false,
            "OOMKilled": false,
            "Dead": false,
            "Pid": if running { 4242 + (c.created % 1000) as u32 } else { 0 },
            "ExitCode": st.exit_code,
            "Error": st.error,
            "StartedAt": time(st.started_at),
            "FinishedAt": time(st.finished_at),
        },
        "Image": c.image_id,
        "ResolvConfPath": format!("/var/lib/docker/containers/{}/resolv.conf", c.id),
        "HostnamePath": format!("/var/lib/docker/containers/{}/hostname", c.id),
        "HostsPath": format!("/var/lib/docker/containers/{}/hosts", c.id),
        "LogPath": format!("/var/lib/docker/containers/{0}/{0}-json.log", c.id),
        "Name": format!("/{}", c.name),
        "RestartCount": c.restart_count,
        "Driver": "overlay2",
        "Platform": "linux",
        "HostConfig": {
            "NetworkMode": c.host.network,
            "PortBindings": bindings,
            "RestartPolicy": {"Name": c.host.restart, "MaximumRetryCount": 0},
            "AutoRemove": c.host.auto_remove,
            "Privileged": c.host.privileged,
            "Binds": Value::Null,
        },
        "Mounts": mounts,
        "Config": {
            "Hostname": c.config.hostname,
            "Domainname": "",
            "User": c.config.user,
            "AttachStdin": c.config.open_stdin,
            "AttachStdout": true,
            "AttachStderr": true,
            "ExposedPorts": if exposed.is_empty() { Value::Null } else { Value::Object(exposed) },
            "Tty": c.config.tty,
            "OpenStdin": c.config.open_stdin,
            "StdinOnce": c.config.open_stdin,
            "Env": c.config.env,
            "Cmd": if c.config.cmd.is_empty() { Value::Null } else { json!(c.config.cmd) },
            "Image": c.image,
            "Volumes": Value::Null,
            "WorkingDir": c.config.working_dir,
            "Entrypoint": if c.config.entrypoint.is_empty() { Value::Null } else { json!(c.config.entrypoint) },
            "OnBuild": Value::Null,
            "Labels": {},
        },
        "NetworkSettings": {
            "Ports": if running { port_map(c, true) } else { json!({}) },
            "IPAddress": ip,
            "Gateway": if running { "172.17.0.1" } else { "" },
            "Networks": {
                c.host.network.clone(): {
                    "IPAddress": ip,
                    "Gateway": if running { "172.17.0.1" } else { "" },
                }
            }
        }
    })
}

/// docker's `PORTS` column: `0.0.0.0:8080->80/tcp, [::]:8080->80/tcp`, or
/// the exposed port alone when it is not published; empty once stopped.
pub fn ports_column(c: &Container) -> String {
    if !c.running() {
        return String::new();
    }
    let mut v = Vec::new();
    let mut bound: Vec<&crate::container::PortBinding> = c.host.ports.iter().collect();
    bound.sort_by_key(|b| (b.container_port, b.proto.clone()));
    for b in &bound {
        if b.host_ip.is_empty() {
            v.push(format!("0.0.0.0:{}->{}", b.host_port, b.key()));
            v.push(format!("[::]:{}->{}", b.host_port, b.key()));
        } else {
            v.push(format!("{}:{}->{}", b.host_ip, b.host_port, b.key()));
        }
    }
    for e in &c.config.exposed_ports {
        if !c.host.ports.iter().any(|b| &b.key() == e) {
            v.push(e.clone());
        }
    }
    v.join(", ")
}
