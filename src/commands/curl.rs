//! The REPL's `curl` (and `wget -qO-`): HTTP to `localhost`/`127.0.0.1`
//! reaches the published ports of running containers, answered in-process
//! by their simulated servers (no socket is opened). Anything else fails as
//! curl does when there is no network.

use super::container::store;
use crate::app::{Io, Session};
use crate::container::services;

/// `curl [-s] [-i] [-I] [-f] [-u USER:PASS] [-o FILE] URL`; `wget -qO- URL`.
pub fn run(s: &mut Session, words: &[String], io: &mut Io) -> anyhow::Result<i32> {
    let wget = words.first().map(String::as_str) == Some("wget");
    let mut include = false;
    let mut head = false;
    let mut fail = false;
    let mut url = None;
    let mut method: Option<String> = None;
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut i = 1;
    while i < words.len() {
        let w = words[i].as_str();
        match w {
            "-i" | "--include" => include = true,
            "-I" | "--head" => head = true,
            "-f" | "--fail" => fail = true,
            "--silent" | "--location" | "--show-error" | "-O-" | "-qO-" => {}
            // Bundled short flags (`-sI`, `-fsSL`, `-si`).
            w if w.len() > 1
                && w.starts_with('-')
                && !w.starts_with("--")
                && w[1..].chars().all(|c| "sSLfiIq".contains(c)) =>
            {
                for c in w[1..].chars() {
                    match c {
                        'i' => include = true,
                        'I' => head = true,
                        'f' if !wget => fail = true,
                        _ => {}
                    }
                }
            }
            "-X" | "--request" => {
                i += 1;
                method = words.get(i).cloned();
            }
            "-H" | "--header" => {
                i += 1;
                if let Some((k, v)) = words.get(i).and_then(|h| h.split_once(':')) {
                    headers.push((k.trim().to_string(), v.trim().to_string()));
                }
            }
            "-u" | "--user" => {
                i += 1;
                if let Some(u) = words.get(i) {
                    use base64::Engine as _;
                    let u = if u.contains(':') {
                        u.clone()
                    } else {
                        // curl would prompt for the password: none here.
                        format!("{u}:")
                    };
                    let enc = base64::engine::general_purpose::STANDARD.encode(u);
                    headers.push(("Authorization".into(), format!("Basic {enc}")));
                }
            }
            "-o" | "-O" => i += 1,
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
    let method = method.unwrap_or_else(|| if head { "HEAD" } else { "GET" }.to_string());
    let method = method.as_str();
    let resp = match &c.service {
        // A registry container answers with distribution's API over its
        // real storage, through the same handler as `registry serve`.
        Some(services::Service::Registry) if cport == 5000 => {
            Some(registry_request(s, &c, method, path, &headers, clock)?)
        }
        svc => svc
            .as_ref()
            .and_then(|svc| services::request(svc, &fs, cport, method, path, clock)),
    };
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

/// Sends one request to a registry container's storage through the HTTP
/// server's handler, and logs it as the registry does.
fn registry_request(
    s: &Session,
    c: &crate::container::Container,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    clock: i64,
) -> anyhow::Result<services::Response> {
    let home = s.engine_home();
    let root = crate::network::container_registry_root(&home, c);
    let staging = root.join("_uploads");
    std::fs::create_dir_all(&staging)?;
    let auth = crate::network::container_auth(&home, c);
    let creds = crate::registry::server::basic_credentials(
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
            .map(|(_, v)| v.as_str()),
    );
    let user = match (&auth, creds) {
        (None, _) => None,
        (Some(a), Some((u, p))) if a.accepts(&u, &p) => Some(u),
        (Some(a), _) => return Ok(challenge(a, method, path, clock)),
    };
    let handler = crate::registry::server::Handler::local(
        &staging,
        &root,
        crate::network::container_policy(c, user),
    );
    let mut hs = headers.to_vec();
    if !hs.iter().any(|(k, _)| k.eq_ignore_ascii_case("user-agent")) {
        hs.push(("User-Agent".into(), services::CURL_AGENT.into()));
    }
    let got = handler.handle(crate::registry::server::Request {
        method: method.to_string(),
        url: path.to_string(),
        headers: hs,
        body: &mut std::io::empty(),
    });
    let t = chrono::DateTime::from_timestamp(clock, 0)
        .unwrap_or_default()
        .format("%d/%b/%Y:%H:%M:%S +0000")
        .to_string();
    let log = vec![crate::container::LogChunk {
        stderr: false,
        text: format!(
            "172.17.0.1 - - [{t}] \"{method} {path} HTTP/1.1\" {} {} \"\" \"{}\"\n",
            got.status,
            got.body.len(),
            services::CURL_AGENT
        ),
    }];
    let body = if method == "HEAD" {
        Vec::new()
    } else {
        got.body
    };
    Ok(services::Response {
        status: got.status,
        reason: services::reason(got.status),
        headers: got.headers,
        body,
        log,
    })
}

/// distribution's answer to a request without valid credentials: 401, the
/// Basic challenge for the configured realm, and `UNAUTHORIZED` with the
/// access the request needed as its detail (`null` for `/v2/`).
fn challenge(
    auth: &crate::network::ContainerAuth,
    method: &str,
    path: &str,
    clock: i64,
) -> services::Response {
    let path_only = path.split('?').next().unwrap_or(path);
    let rest = path_only.strip_prefix("/v2/").unwrap_or("");
    let access = |name: &str, actions: &[&str], kind: &str| -> serde_json::Value {
        serde_json::Value::Array(
            actions
                .iter()
                .map(|a| serde_json::json!({"Type": kind, "Class": "", "Name": name, "Action": a}))
                .collect(),
        )
    };
    let detail = if rest.is_empty() {
        serde_json::Value::Null
    } else if rest == "_catalog" {
        access("catalog", &["*"], "registry")
    } else {
        let name = ["/manifests/", "/blobs/", "/tags/"]
            .iter()
            .find_map(|m| rest.find(m).map(|i| &rest[..i]))
            .unwrap_or(rest);
        let actions: &[&str] = match method {
            "GET" | "HEAD" => &["pull"],
            "DELETE" => &["delete"],
            _ => &["pull", "push"],
        };
        access(name, actions, "repository")
    };
    let body = format!(
        "{}\n",
        serde_json::json!({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required", "detail": detail}]})
    );
    let t = chrono::DateTime::from_timestamp(clock, 0)
        .unwrap_or_default()
        .format("%d/%b/%Y:%H:%M:%S +0000")
        .to_string();
    let len = body.len();
    services::Response {
        status: 401,
        reason: services::reason(401),
        headers: vec![
            (
                "Content-Type".into(),
                "application/json; charset=utf-8".into(),
            ),
            (
                "Docker-Distribution-Api-Version".into(),
                "registry/2.0".into(),
            ),
            (
                "Www-Authenticate".into(),
                format!("Basic realm=\"{}\"", auth.realm),
            ),
            ("Date".into(), services::http_date(clock)),
            ("Content-Length".into(), body.len().to_string()),
        ],
        body: if method == "HEAD" {
            Vec::new()
        } else {
            body.into_bytes()
        },
        log: vec![crate::container::LogChunk {
            stderr: false,
            text: format!(
                "172.17.0.1 - - [{t}] \"{method} {path} HTTP/1.1\" 401 {len} \"\" \"{}\"\n",
                services::CURL_AGENT
            ),
        }],
    }
}
