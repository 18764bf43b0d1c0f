//! `docker volume create|ls|rm`: the named volumes `docker run -v
//! NAME:/path` mounts.

use crate::app::{Io, Session};
use crate::cli::VolumeCmd;
use crate::container::volumes::Volumes;
use serde_json::json;

pub fn run(s: &mut Session, cmd: Option<VolumeCmd>, io: &mut Io) -> anyhow::Result<i32> {
    let vols = Volumes::open(&s.engine_home());
    match cmd {
        None => {
            write!(io.out, "{}", crate::cli::VOLUME_USAGE)?;
            Ok(0)
        }
        Some(VolumeCmd::Create(a)) => {
            if a.args.len() > 1 {
                return super::requires(
                    io,
                    "docker volume create",
                    "at most 1 argument.",
                    "docker volume create [OPTIONS] [VOLUME]",
                );
            }
            // An anonymous volume gets a 64-hex name, as docker's.
            let name = match a.args.first() {
                Some(n) => n.clone(),
                None => {
                    let n = vols.list()?.len();
                    crate::digest::Digest::of(format!("imagelab volume {n}").as_bytes()).hex()
                }
            };
            match vols.create(&name) {
                Ok(()) => {
                    writeln!(io.out, "{name}")?;
                    Ok(0)
                }
                Err(e) => {
                    writeln!(io.err, "Error response from daemon: {e}")?;
                    Ok(1)
                }
            }
        }
        Some(VolumeCmd::Ls(a)) => {
            let format = match (&a.format, a.quiet) {
                (_, true) => "{{.Name}}".to_string(),
                (Some(f), _) if !f.is_empty() => f.clone(),
                _ => "table {{.Driver}}\t{{.Name}}".into(),
            };
            let Some(t) = super::template(io, &format)? else {
                return Ok(1);
            };
            let rows: Vec<_> = vols
                .list()?
                .into_iter()
                .map(|n| {
                    json!({
                        "Driver": "local",
                        "Name": n,
                        "Mountpoint": format!("/var/lib/docker/volumes/{n}/_data"),
                        "Scope": "local",
                        "Labels": "",
                    })
                })
                .collect();
            let headers = [
                ("Driver", "DRIVER"),
                ("Name", "VOLUME NAME"),
                ("Mountpoint", "MOUNTPOINT"),
                ("Scope", "SCOPE"),
                ("Labels", "LABELS"),
            ];
            super::print_rows(io, &t, &headers, &rows)
        }
        Some(VolumeCmd::Rm(a)) => {
            if a.args.is_empty() {
                return super::requires(
                    io,
                    "docker volume rm",
                    "at least 1 argument",
                    "docker volume rm [OPTIONS] VOLUME [VOLUME...]",
                );
            }
            let containers = super::container::store(s).list()?;
            let mut code = 0;
            for name in &a.args {
                let users: Vec<String> = containers
                    .iter()
                    .filter(|c| c.host.mounts.iter().any(|m| &m.name == name))
                    .map(|c| c.id.clone())
                    .collect();
                if !users.is_empty() {
                    writeln!(
                        io.err,
                        "Error response from daemon: remove {name}: volume is in use - [{}]",
                        users.join(", ")
                    )?;
                    code = 1;
                    continue;
                }
                match vols.remove(name) {
                    Ok(()) => writeln!(io.out, "{name}")?,
                    Err(_) if a.force => {}
                    Err(e) => {
                        writeln!(io.err, "Error response from daemon: {e}")?;
                        code = 1;
                    }
                }
            }
            Ok(code)
        }
    }
}
