//! `docker ps` / `docker container ls`: docker's columns, quoting and
//! truncation, `-a`, `-q`, `--no-trunc`, `-f status|name|ancestor|id|exited`
//! and `--format`.

use super::container::{ports_column, store, time};
use crate::app::{Io, Session};
use crate::cli::PsArgs;
use crate::container::{Container, Status};
use serde_json::{Value, json};

/// docker/cli's `Ellipsis`: at most `n` characters, the last one `…`.
fn ellipsis(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_string();
    }
    let mut out: String = s.chars().take(n - 1).collect();
    out.push('…');
    out
}

/// Go's `strconv.Quote` for the printable text a command line is.
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The STATUS column.
pub fn status_text(c: &Container, now: i64) -> String {
    let since = |t: i64| crate::format::human_duration(chrono::Duration::seconds((now - t).max(0)));
    match c.state.status {
        Status::Created => "Created".into(),
        Status::Running => format!("Up {}", since(c.state.started_at)),
        Status::Exited => format!(
            "Exited ({}) {} ago",
            c.state.exit_code,
            since(c.state.finished_at)
        ),
    }
}

fn matches(c: &Container, key: &str, value: &str) -> bool {
    match key {
        "status" => c.state.status.as_str() == value,
        "name" => c.name.contains(value.trim_start_matches('/')),
        "id" => c.id.starts_with(value),
        "exited" => c.state.status == Status::Exited && c.state.exit_code.to_string() == value,
        "ancestor" => {
            let v = value.strip_prefix("sha256:").unwrap_or(value);
            c.image == value
                || c.image_id.trim_start_matches("sha256:").starts_with(v)
                || crate::reference::Reference::parse(value)
                    .ok()
                    .zip(crate::reference::Reference::parse(&c.image).ok())
                    .is_some_and(|(a, b)| {
                        a.with_default_tag().to_string() == b.with_default_tag().to_string()
                    })
        }
        _ => false,
    }
}

pub fn run(s: &mut Session, a: PsArgs, io: &mut Io) -> anyhow::Result<i32> {
    if !a.args.is_empty() {
        return super::no_args(io, "docker ps", "docker ps [OPTIONS]");
    }
    let mut filters = Vec::new();
    for f in &a.filters {
        let Some((k, v)) = f.split_once('=') else {
            writeln!(
                io.err,
                "invalid argument \"{f}\" for \"-f, --filter\" flag: bad format of filter (expected name=value)\nSee 'docker ps --help'."
            )?;
            return Ok(125);
        };
        if !matches!(k, "status" | "name" | "id" | "exited" | "ancestor") {
            writeln!(io.err, "Error response from daemon: invalid filter '{k}'")?;
            return Ok(1);
        }
        if k == "status"
            && !matches!(
                v,
                "created" | "restarting" | "running" | "removing" | "paused" | "exited" | "dead"
            )
        {
            writeln!(
                io.err,
                "Error response from daemon: invalid filter 'status={v}'"
            )?;
            return Ok(1);
        }
        filters.push((k.to_string(), v.to_string()));
    }
    let now = crate::container::runtime::now();
    let mut list = store(s).list()?;
    list.reverse();
    let all = a.all
        || a.latest
        || a.last.is_some()
        || filters.iter().any(|(k, _)| k == "status" || k == "exited");
    let mut rows: Vec<&Container> = list
        .iter()
        .filter(|c| all || c.running())
        .filter(|c| {
            // Same key: any value matches; different keys: all must.
            let mut keys: Vec<&str> = filters.iter().map(|(k, _)| k.as_str()).collect();
            keys.dedup();
            keys.iter().all(|k| {
                filters
                    .iter()
                    .filter(|(fk, _)| fk == k)
                    .any(|(_, v)| matches(c, k, v))
            })
        })
        .collect();
    if a.latest {
        rows.truncate(1);
    }
    if let Some(n) = a.last {
        rows.truncate(n);
    }
    let format = match (&a.format, a.quiet) {
        (_, true) => "{{.ID}}".to_string(),
        (Some(f), _) if f == "table" => {
            "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}".into()
        }
        (Some(f), _) if !f.is_empty() => f.clone(),
        _ => "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}".into(),
    };
    let Some(t) = super::template(io, &format)? else {
        return Ok(1);
    };
    let trunc = !a.no_trunc;
    let data: Vec<Value> = rows
        .iter()
        .map(|c| {
            let cmd = c.command();
            let cmd = if trunc { ellipsis(&cmd, 20) } else { cmd };
            let created = chrono::DateTime::from_timestamp(c.created, 0).unwrap_or_default();
            json!({
                "ID": if trunc { c.short_id().to_string() } else { c.id.clone() },
                "Image": c.image,
                "Command": quote(&cmd),
                "CreatedAt": created.format("%Y-%m-%d %H:%M:%S +0000 UTC").to_string(),
                "RunningFor": crate::format::created_since(
                    created,
                    chrono::DateTime::from_timestamp(now, 0).unwrap_or_default(),
                ),
                "Ports": ports_column(c),
                "State": c.state.status.as_str(),
                "Status": status_text(c, now),
                "Size": "0B",
                "Names": c.name,
                "Labels": "",
                "Mounts": c.host.mounts.iter().map(|m| if m.is_bind() { m.source.clone() } else { m.name.clone() }).collect::<Vec<_>>().join(","),
                "Networks": if c.running() { c.host.network.clone() } else { String::new() },
                "StartedAt": time(c.state.started_at),
            })
        })
        .collect();
    let headers = [
        ("ID", "CONTAINER ID"),
        ("Image", "IMAGE"),
        ("Command", "COMMAND"),
        ("CreatedAt", "CREATED AT"),
        ("RunningFor", "CREATED"),
        ("Ports", "PORTS"),
        ("State", "STATE"),
        ("Status", "STATUS"),
        ("Size", "SIZE"),
        ("Names", "NAMES"),
        ("Labels", "LABELS"),
        ("Mounts", "MOUNTS"),
        ("Networks", "NETWORKS"),
    ];
    super::print_rows(io, &t, &headers, &data)
}
