//! The REPL's `curl` (and `wget -qO-`): HTTP to `localhost`/`127.0.0.1`
//! reaches the published ports of running containers, answered in-process
//! by their simulated servers (no socket is opened). Anything else fails as
//! curl does when there is no network.

use super::container::store;
use crate::app::{Io, Session};
use crate::container::services;

/// `curl [-s] [-i] [-I] [-f] [-o FILE] URL`; `wget -qO- URL`.
pub fn run(s: &mut Session, words: &[String], io: &mut Io) -> anyhow::Result<i32> {
    let wget = words.first().map(String::as_str) == Some("wget");
    let mut include = false;
    let mut head = false;
    let mut fail = false;
    let mut url = None;
    let mut i = 1;
    while i < words.len() {
        let w = words[i].as_str();
        match w {
            "-i" | "--include" => include = true,
            "-I" | "--head" => head = true,
            "-f" | "--fail" => fail = true,
            "-s" | "--silent" | "-S" | "-L" | "--location" | "-q" | "-O-" | "-sS" | "-fsSL"
            | "-fsS" | "-sf" | "-fs" => {
                if w.contains('f') && !wget && w != "-O-" {
                    fail = true;
                }
            }
            "-o" | "-O" | "-X" | "-H" => i += 1,
            w if w.starts_with('-') => {}
            w => url = Some(w.to_string()),
        }
        i += 1;
    }
    let Some(url) = url else {
        if wget {
            writeln!(io.err, "wget: missing URL")?;
            return Ok(1);
        }
        writeln!(
            io.err,
            "curl: no URL specified\ncurl: try 'curl --help' or 'curl --manual' for more information"
        )?;
        return Ok(2);
    };
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .unwrap_or(&url);
    let (hostport, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().unwrap_or(0)),
        None => (hostport, if url.starts_with("https://") { 443 } else { 80 }),
    };
    if !matches!(host, "localhost" | "127.0.0.1" | "0.0.0.0" | "[::1]") {
        if wget {
            writeln!(io.err, "wget: bad address '{host}'")?;
            return Ok(1);
        }
        writeln!(io.err, "curl: (6) Could not resolve host: {host}")?;
        return Ok(6);
    }
    let st = store(s);
    let list = st.list()?;
    let target = list.iter().filter(|c| c.running()).find_map(|c| {
        c.host
            .ports
            .iter()
            .find(|b| b.host_port == port && b.proto == "tcp")
            .map(|b| (c.clone(), b.container_port))
    });
    let refused = |io: &mut Io| -> anyhow::Result<i32> {
        if wget {
            writeln!(
                io.err,
                "wget: can't connect to remote host ({host}): Connection refused"
            )?;
            return Ok(1);
        }
        writeln!(
            io.err,
            "curl: (7) Failed to connect to {host} port {port} after 0 ms: Couldn't connect to server"
        )?;
        Ok(7)
    };
    let Some((c, cport)) = target else {
        return refused(io);
    };
    let engine = s.engine()?;
    let fs = crate::container::runtime::open_fs(&engine, &st, &c)?;
    let clock = crate::container::runtime::now();
    let method = if head { "HEAD" } else { "GET" };
    let resp = c
        .service
        .as_ref()
        .and_then(|svc| services::request(svc, &fs, cport, method, path, clock));
    let Some(resp) = resp else {
        // docker-proxy accepts, then the container resets the connection.
        if wget {
            writeln!(
                io.err,
                "wget: error getting response: Connection reset by peer"
            )?;
            return Ok(1);
        }
        writeln!(io.err, "curl: (56) Recv failure: Connection reset by peer")?;
        return Ok(56);
    };
    st.append_logs(&c.id, &resp.log)?;
    if fail && resp.status >= 400 {
        writeln!(
            io.err,
            "curl: (22) The requested URL returned error: {}",
            resp.status
        )?;
        return Ok(22);
    }
    if wget && resp.status >= 400 {
        writeln!(
            io.err,
            "wget: server returned error: HTTP/1.1 {} {}",
            resp.status, resp.reason
        )?;
        return Ok(1);
    }
    if include || head {
        write!(io.out, "HTTP/1.1 {} {}\r\n", resp.status, resp.reason)?;
        for (k, v) in &resp.headers {
            write!(io.out, "{k}: {v}\r\n")?;
        }
        write!(io.out, "\r\n")?;
    }
    io.out.write_all(&resp.body)?;
    Ok(0)
}
