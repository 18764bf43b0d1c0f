//! `docker top CONTAINER`: the container's processes as the host's `ps -ef`
//! shows them (docker's columns, tabwriter minimum width 20).

use super::container::{find, store};
use crate::app::{Io, Session};
use crate::cli::TopArgs;
use crate::container::ContainerError;
use crate::container::services::Service;
use std::io::Write;

pub fn run(s: &mut Session, a: TopArgs, io: &mut Io) -> anyhow::Result<i32> {
    if a.args.is_empty() {
        return super::requires(
            io,
            "docker top",
            "at least 1 argument",
            "docker top CONTAINER [ps OPTIONS]",
        );
    }
    let st = store(s);
    let Some(c) = find(&st, io, &a.args[0])? else {
        return Ok(1);
    };
    if !c.running() {
        writeln!(
            io.err,
            "Error response from daemon: {}",
            ContainerError::NotRunning(c.id.clone())
        )?;
        return Ok(1);
    }
    let stime = chrono::DateTime::from_timestamp(c.state.started_at, 0)
        .unwrap_or_default()
        .format("%H:%M")
        .to_string();
    let pid = 4242 + (c.created % 1000) as u32;
    let mut rows: Vec<[String; 8]> = Vec::new();
    let row = |uid: &str, p: u32, pp: u32, cmd: String| {
        [
            uid.to_string(),
            p.to_string(),
            pp.to_string(),
            "0".into(),
            stime.clone(),
            if c.config.tty {
                "pts/0".into()
            } else {
                "?".into()
            },
            "00:00:00".into(),
            cmd,
        ]
    };
    match &c.service {
        Some(Service::Nginx { .. }) => {
            rows.push(row(
                "root",
                pid,
                pid - 21,
                "nginx: master process nginx -g daemon off;".into(),
            ));
            rows.push(row("101", pid + 47, pid, "nginx: worker process".into()));
            rows.push(row("101", pid + 48, pid, "nginx: worker process".into()));
        }
        _ => {
            let uid = if c.config.user.is_empty() {
                "root".to_string()
            } else {
                c.config.user.clone()
            };
            rows.push(row(&uid, pid, pid - 21, c.command()));
        }
    }
    let mut tw = tabwriter::TabWriter::new(Vec::new())
        .minwidth(20 - 3)
        .padding(3);
    writeln!(tw, "UID\tPID\tPPID\tC\tSTIME\tTTY\tTIME\tCMD")?;
    for r in rows {
        writeln!(tw, "{}", r.join("\t"))?;
    }
    tw.flush()?;
    io.out.write_all(&tw.into_inner().unwrap_or_default())?;
    Ok(0)
}
