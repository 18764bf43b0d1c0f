//! The long-running servers a container's main process can be: `nginx`
//! (the nginx images' `nginx -g 'daemon off;'` behind
//! `/docker-entrypoint.sh`), `python -m http.server [PORT]` and the
//! distribution registry (`registry serve`, the `registry:2` image). A
//! server does not exit: its container stays `Up`, its logs hold its
//! startup lines, and [`request`] answers an HTTP request sent to one of
//! its ports from the container's file system, as the real server would.
//! No socket is ever opened.

use super::LogChunk;
use crate::userland::fs::Fs;
use serde::{Deserialize, Serialize};

/// A recognised server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Service {
    Nginx {
        version: String,
    },
    Python {
        port: u16,
        /// Absolute: the folder it serves.
        dir: String,
        /// `-u` or `PYTHONUNBUFFERED`: its stdout reaches the logs.
        unbuffered: bool,
        version: String,
    },
    Registry,
    /// A program the language toolchains recognise as a server (a Go
    /// binary that listens, Flask `app.run`, node `listen`, Spring Boot):
    /// its startup output came from running it; its routes are not
    /// simulated.
    App {
        port: u16,
        program: String,
    },
}

/// The name a program file goes by.
fn base(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

fn env_get<'a>(env: &'a [String], k: &str) -> Option<&'a str> {
    env.iter()
        .rev()
        .find_map(|e| e.split_once('=').filter(|(n, _)| *n == k).map(|(_, v)| v))
}

/// Whether `name` is found on `PATH` (or is an existing path).
fn on_path(fs: &Fs, name: &str, env: &[String]) -> bool {
    if name.contains('/') {
        return fs.is_file(name);
    }
    let path = env_get(env, "PATH").unwrap_or(crate::userland::exec::DEFAULT_PATH);
    path.split(':')
        .any(|d| !d.is_empty() && fs.is_file(&format!("{d}/{name}")))
}

/// Recognises a server from the process's argv (entrypoint scripts the
/// images use are looked through), its environment and working directory.
pub fn detect(argv: &[String], fs: &Fs, env: &[String], cwd: &str) -> Option<Service> {
    let mut argv = argv;
    if let Some(first) = argv.first() {
        let b = base(first);
        if b == "entrypoint.sh"
            && argv.len() >= 2
            && (argv[1].ends_with(".yml") || argv[1].ends_with(".yaml"))
        {
            return Some(Service::Registry);
        }
        if b == "docker-entrypoint.sh" || b == "entrypoint.sh" {
            argv = &argv[1..];
        }
    }
    let first = argv.first()?;
    let b = base(first);
    if (b == "nginx" || b == "nginx-debug") && on_path(fs, first, env) {
        let info = argv[1..]
            .iter()
            .any(|a| matches!(a.as_str(), "-v" | "-V" | "-t" | "-T" | "-h" | "-?" | "-s"));
        if info {
            return None;
        }
        let version = env_get(env, "NGINX_VERSION")
            .unwrap_or("1.27.3")
            .to_string();
        return Some(Service::Nginx { version });
    }
    if b == "registry" && argv.get(1).map(String::as_str) == Some("serve") {
        return Some(Service::Registry);
    }
    if (b == "python" || b.starts_with("python3")) && on_path(fs, first, env) {
        let args = &argv[1..];
        let m = args.iter().position(|a| a == "-m")?;
        if args.get(m + 1).map(String::as_str) != Some("http.server") {
            return None;
        }
        let unbuffered = args[..m].iter().any(|a| a == "-u")
            || env_get(env, "PYTHONUNBUFFERED").is_some_and(|v| !v.is_empty());
        let mut port = 8000;
        let mut dir = cwd.to_string();
        let rest = &args[m + 2..];
        let mut i = 0;
        while i < rest.len() {
            match rest[i].as_str() {
                "-d" | "--directory" => {
                    if let Some(d) = rest.get(i + 1) {
                        dir = crate::userland::fs::join(cwd, d);
                    }
                    i += 1;
                }
                "-b" | "--bind" => i += 1,
                a => {
                    if let Ok(p) = a.parse::<u16>() {
                        port = p;
                    }
                }
            }
            i += 1;
        }
        let version = env_get(env, "PYTHON_VERSION")
            .unwrap_or("3.12.8")
            .to_string();
        return Some(Service::Python {
            port,
            dir,
            unbuffered,
            version,
        });
    }
    None
}

/// nginx's error log time: `2026/11/01 12:00:00`.
fn nginx_time(clock: i64) -> String {
    chrono::DateTime::from_timestamp(clock, 0)
        .unwrap_or_default()
        .format("%Y/%m/%d %H:%M:%S")
        .to_string()
}

fn out(s: impl Into<String>) -> LogChunk {
    LogChunk {
        stderr: false,
        text: s.into(),
    }
}

fn err(s: impl Into<String>) -> LogChunk {
    LogChunk {
        stderr: true,
        text: s.into(),
    }
}

const DEFAULT_CONF: &str = "/etc/nginx/conf.d/default.conf";

/// What the server prints as it starts (and what its entrypoint changes in
/// the file system: nginx's `10-listen-on-ipv6-by-default.sh` adds an IPv6
/// `listen` to the packaged `default.conf`).
pub fn start(svc: &Service, fs: &mut Fs, clock: i64, id: &str) -> Vec<LogChunk> {
    match svc {
        Service::Nginx { version } => {
            let mut logs = Vec::new();
            // docker-entrypoint.sh (nginx 1.27), launching /docker-entrypoint.d.
            let ep = "/docker-entrypoint.sh";
            let has_d = fs
                .read_dir("/docker-entrypoint.d")
                .is_ok_and(|v| !v.is_empty());
            if fs.is_file(ep) && has_d {
                let mut s = String::new();
                s += &format!(
                    "{ep}: /docker-entrypoint.d/ is not empty, will attempt to perform configuration\n"
                );
                s += &format!("{ep}: Looking for shell scripts in /docker-entrypoint.d/\n");
                let mut scripts = fs.read_dir("/docker-entrypoint.d").unwrap_or_default();
                scripts.sort();
                for sc in scripts {
                    if sc.ends_with(".envsh") {
                        s += &format!("{ep}: Sourcing /docker-entrypoint.d/{sc}\n");
                    } else if sc.ends_with(".sh") {
                        s += &format!("{ep}: Launching /docker-entrypoint.d/{sc}\n");
                    }
                    if sc == "10-listen-on-ipv6-by-default.sh" {
                        s += &listen_on_ipv6(fs);
                    }
                }
                s += &format!("{ep}: Configuration complete; ready for start up\n");
                logs.push(out(s));
            } else if fs.is_file(ep) {
                logs.push(out(format!(
                    "{ep}: No files found in /docker-entrypoint.d/, skipping configuration\n"
                )));
            }
            let t = nginx_time(clock);
            let mut e = String::new();
            for line in [
                "using the \"epoll\" event method".to_string(),
                format!("nginx/{version}"),
                "built by gcc 13.2.1 20240309 (Alpine 13.2.1_git20240309) ".to_string(),
                "OS: Linux 6.10.14-linuxkit".to_string(),
                "getrlimit(RLIMIT_NOFILE): 1048576:1048576".to_string(),
                "start worker processes".to_string(),
                "start worker process 29".to_string(),
                "start worker process 30".to_string(),
            ] {
                e += &format!("{t} [notice] 1#1: {line}\n");
            }
            logs.push(err(e));
            logs
        }
        Service::Python {
            port, unbuffered, ..
        } => {
            if *unbuffered {
                vec![out(format!(
                    "Serving HTTP on 0.0.0.0 port {port} (http://0.0.0.0:{port}/) ...\n"
                ))]
            } else {
                // A block-buffered stdout (no tty, no -u): nothing yet.
                Vec::new()
            }
        }
        Service::App { .. } => Vec::new(),
        Service::Registry => {
            let (t, inst) = (log_time(clock), instance_id(id));
            let tail =
                format!("go.version=go1.20.8 instance.id={inst} service=registry version=2.8.3 ");
            let mut s = String::new();
            s += &format!(
                "time=\"{t}\" level=warning msg=\"No HTTP secret provided - generated random secret. This may cause problems with uploads if multiple registries are behind a load-balancer. To provide a shared secret, fill in http.secret in the configuration file or set the REGISTRY_HTTP_SECRET environment variable.\" {tail}\n"
            );
            s += &format!("time=\"{t}\" level=info msg=\"redis not configured\" {tail}\n");
            s +=
                &format!("time=\"{t}\" level=info msg=\"Starting upload purge in 20m0s\" {tail}\n");
            s += &format!(
                "time=\"{t}\" level=info msg=\"using inmemory blob descriptor cache\" {tail}\n"
            );
            s += &format!("time=\"{t}\" level=info msg=\"listening on [::]:5000\" {tail}\n");
            vec![err(s)]
        }
    }
}

/// `10-listen-on-ipv6-by-default.sh`: its messages, and the edit it makes.
fn listen_on_ipv6(fs: &mut Fs) -> String {
    let me = "10-listen-on-ipv6-by-default.sh";
    let Ok(conf) = fs.read_string(DEFAULT_CONF) else {
        return format!("{me}: info: {DEFAULT_CONF} is not a file or does not exist\n");
    };
    // The packaged file: `listen 80;` and `server_name localhost;` as shipped.
    let packaged = conf.contains("    listen       80;\n")
        && conf.contains("    server_name  localhost;\n")
        && !conf.contains("[::]");
    let mut s = format!("{me}: info: Getting the checksum of {DEFAULT_CONF}\n");
    if !packaged {
        s += &format!("{me}: info: {DEFAULT_CONF} differs from the packaged version\n");
        return s;
    }
    let new = conf.replacen(
        "    listen       80;\n",
        "    listen       80;\n    listen  [::]:80;\n",
        1,
    );
    let _ = fs.write(
        DEFAULT_CONF,
        crate::layer::Content::bytes(new.into_bytes()),
        0o644,
        crate::userland::fs::Cred::ROOT,
    );
    s += &format!("{me}: info: Enabled listen on IPv6 in {DEFAULT_CONF}\n");
    s
}

/// One nginx `server` block, as far as serving static files goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NginxServer {
    pub ports: Vec<u16>,
    pub root: String,
    pub index: Vec<String>,
}

/// Reads the `server` blocks of the configuration files nginx images use
/// (`conf.d/*.conf`, `http.d/*.conf`, `sites-enabled/*`).
pub fn nginx_servers(fs: &Fs) -> Vec<NginxServer> {
    let mut files = Vec::new();
    for (dir, conf_only) in [
        ("/etc/nginx/conf.d", true),
        ("/etc/nginx/http.d", true),
        ("/etc/nginx/sites-enabled", false),
    ] {
        let mut names = fs.read_dir(dir).unwrap_or_default();
        names.sort();
        for n in names {
            if !conf_only || n.ends_with(".conf") {
                files.push(format!("{dir}/{n}"));
            }
        }
    }
    let mut servers = Vec::new();
    for f in files {
        if let Ok(text) = fs.read_string(&f) {
            servers.extend(parse_servers(&text));
        }
    }
    if servers.is_empty() {
        servers.push(NginxServer {
            ports: vec![80],
            root: "/etc/nginx/html".into(),
            index: vec!["index.html".into()],
        });
    }
    servers
}

fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = match line.find('#') {
            Some(i) => &line[..i],
            None => line,
        };
        let mut cur = String::new();
        for c in line.chars() {
            match c {
                ';' | '{' | '}' => {
                    if !cur.is_empty() {
                        out.push(std::mem::take(&mut cur));
                    }
                    out.push(c.to_string());
                }
                c if c.is_whitespace() => {
                    if !cur.is_empty() {
                        out.push(std::mem::take(&mut cur));
                    }
                }
                '"' | '\'' => {}
                c => cur.push(c),
            }
        }
        if !cur.is_empty() {
            out.push(cur);
        }
    }
    out
}

fn parse_servers(text: &str) -> Vec<NginxServer> {
    let t = tokens(text);
    let mut servers = Vec::new();
    let mut i = 0;
    while i < t.len() {
        if t[i] == "server" && t.get(i + 1).map(String::as_str) == Some("{") {
            let mut depth = 1;
            let mut j = i + 2;
            let mut s = NginxServer {
                ports: Vec::new(),
                root: String::new(),
                index: Vec::new(),
            };
            let mut loc_root = String::new();
            let mut loc_index = Vec::new();
            let mut in_root_location = false;
            let mut loc_depth = 0;
            while j < t.len() && depth > 0 {
                match t[j].as_str() {
                    "{" => depth += 1,
                    "}" => {
                        if in_root_location && depth == loc_depth {
                            in_root_location = false;
                        }
                        depth -= 1;
                    }
                    // `location / {` (not `= /x`, not regex).
                    "location"
                        if t.get(j + 1).map(String::as_str) == Some("/")
                            && t.get(j + 2).map(String::as_str) == Some("{") =>
                    {
                        in_root_location = true;
                        loc_depth = depth + 1;
                    }
                    "listen" if depth == 1 => {
                        if let Some(v) = t.get(j + 1) {
                            let p = v.rsplit(':').next().unwrap_or(v);
                            if let Ok(p) = p.parse::<u16>()
                                && !s.ports.contains(&p)
                            {
                                s.ports.push(p);
                            }
                        }
                    }
                    "root" | "index" => {
                        let mut vals = Vec::new();
                        let mut k = j + 1;
                        while k < t.len() && t[k] != ";" {
                            vals.push(t[k].clone());
                            k += 1;
                        }
                        let is_root = t[j] == "root";
                        if depth == 1 {
                            if is_root {
                                s.root = vals.first().cloned().unwrap_or_default();
                            } else {
                                s.index = vals;
                            }
                        } else if in_root_location {
                            if is_root {
                                loc_root = vals.first().cloned().unwrap_or_default();
                            } else {
                                loc_index = vals;
                            }
                        }
                        j = k;
                        continue;
                    }
                    _ => {}
                }
                j += 1;
            }
            if !loc_root.is_empty() {
                s.root = loc_root;
            }
            if !loc_index.is_empty() {
                s.index = loc_index;
            }
            if s.root.is_empty() {
                s.root = "/etc/nginx/html".into();
            } else if !s.root.starts_with('/') {
                s.root = format!("/etc/nginx/{}", s.root);
            }
            if s.index.is_empty() {
                s.index = vec!["index.html".into()];
            }
            if s.ports.is_empty() {
                s.ports.push(80);
            }
            servers.push(s);
            i = j;
            continue;
        }
        i += 1;
    }
    servers
}

/// The container ports a server listens on.
pub fn ports(svc: &Service, fs: &Fs) -> Vec<u16> {
    match svc {
        Service::Nginx { .. } => {
            let mut v: Vec<u16> = nginx_servers(fs)
                .into_iter()
                .flat_map(|s| s.ports)
                .collect();
            v.sort();
            v.dedup();
            v
        }
        Service::Python { port, .. } => vec![*port],
        Service::Registry => vec![5000],
        Service::App { port, .. } => vec![*port],
    }
}

/// An HTTP response, and what the server logged for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: &'static str,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub log: Vec<LogChunk>,
}

/// The client the REPL's `curl` says it is.
pub const CURL_AGENT: &str = "curl/8.5.0";

pub fn http_date(clock: i64) -> String {
    chrono::DateTime::from_timestamp(clock, 0)
        .unwrap_or_default()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

/// The reason phrase of an HTTP status, as Go's and nginx's servers send it.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Request Entity Too Large",
        416 => "Requested Range Not Satisfiable",
        _ => "Internal Server Error",
    }
}

fn mime(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, e)| e) {
        Some("html" | "htm") => "text/html",
        Some("css") => "text/css",
        Some("js") => "application/javascript",
        Some("json") => "application/json",
        Some("txt") => "text/plain",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

/// An application server's answer: imagelab runs its startup, not its
/// request handlers, so it says so (200, plain text) rather than invent a
/// page.
fn app(port: u16, kind: &str, clock: i64) -> Response {
    let body = format!(
        "imagelab: the {kind} server in this container listens on port {port}; its responses are not simulated\n"
    );
    Response {
        status: 200,
        reason: reason(200),
        headers: vec![
            ("Content-Type".into(), "text/plain; charset=utf-8".into()),
            ("Date".into(), http_date(clock)),
            ("Content-Length".into(), body.len().to_string()),
        ],
        body: body.into_bytes(),
        log: Vec::new(),
    }
}

/// Answers `method path` sent to container port `port`; `None` when the
/// server does not listen there (the connection is reset).
pub fn request(
    svc: &Service,
    fs: &Fs,
    port: u16,
    method: &str,
    path: &str,
    clock: i64,
) -> Option<Response> {
    if !ports(svc, fs).contains(&port) {
        return None;
    }
    let path = path.split(['?', '#']).next().unwrap_or("/");
    let path = if path.is_empty() { "/" } else { path };
    Some(match svc {
        Service::Nginx { version } => nginx(fs, port, method, path, clock, version),
        Service::Python { dir, version, .. } => python(fs, dir, method, path, clock, version),
        Service::Registry => registry(method, path, clock),
        Service::App { port, program } => app(*port, program, clock),
    })
}

fn nginx(fs: &Fs, port: u16, method: &str, path: &str, clock: i64, version: &str) -> Response {
    let servers = nginx_servers(fs);
    let server = servers
        .iter()
        .find(|s| s.ports.contains(&port))
        .cloned()
        .unwrap_or_else(|| servers[0].clone());
    let clean = crate::userland::fs::join("/", path);
    let target = format!("{}{}", server.root.trim_end_matches('/'), clean);
    let mut headers = vec![
        ("Server".to_string(), format!("nginx/{version}")),
        ("Date".to_string(), http_date(clock)),
    ];
    let page = |status: u16| -> Vec<u8> {
        let title = format!("{status} {}", reason(status));
        format!(
            "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n<hr><center>nginx/{version}</center>\r\n</body>\r\n</html>\r\n"
        )
        .into_bytes()
    };
    let (status, body, file) = if fs.is_dir(&target) {
        if !path.ends_with('/') {
            headers.push(("Location".into(), format!("http://localhost{path}/")));
            (301, page(301), None)
        } else {
            match server
                .index
                .iter()
                .map(|i| format!("{}/{i}", target.trim_end_matches('/')))
                .find(|p| fs.is_file(p))
            {
                Some(p) => (200, fs.read(&p).unwrap_or_default(), Some(p)),
                None => (403, page(403), None),
            }
        }
    } else if fs.is_file(&target) {
        (
            200,
            fs.read(&target).unwrap_or_default(),
            Some(target.clone()),
        )
    } else {
        (404, page(404), None)
    };
    let ctype = match &file {
        Some(f) => mime(f),
        None => "text/html",
    };
    headers.push(("Content-Type".into(), ctype.into()));
    headers.push(("Content-Length".into(), body.len().to_string()));
    if let Some(f) = &file
        && let Ok(st) = fs.stat(f, true)
    {
        let mtime = st.mtime as i64;
        headers.push(("Last-Modified".into(), http_date(mtime)));
        headers.push(("Connection".into(), "keep-alive".into()));
        headers.push((
            "ETag".into(),
            format!("\"{:x}-{:x}\"", st.mtime, body.len()),
        ));
        headers.push(("Accept-Ranges".into(), "bytes".into()));
    } else {
        headers.push(("Connection".into(), "keep-alive".into()));
    }
    let t = chrono::DateTime::from_timestamp(clock, 0)
        .unwrap_or_default()
        .format("%d/%b/%Y:%H:%M:%S +0000")
        .to_string();
    let mut log = vec![out(format!(
        "172.17.0.1 - - [{t}] \"{method} {path} HTTP/1.1\" {status} {} \"-\" \"{CURL_AGENT}\" \"-\"\n",
        body.len()
    ))];
    if status == 404 {
        log.insert(
            0,
            err(format!(
                "{} [error] 29#29: *1 open() \"{target}\" failed (2: No such file or directory), client: 172.17.0.1, server: localhost, request: \"{method} {path} HTTP/1.1\", host: \"localhost\"\n",
                nginx_time(clock)
            )),
        );
    }
    let body = if method == "HEAD" { Vec::new() } else { body };
    Response {
        status,
        reason: reason(status),
        headers,
        body,
        log,
    }
}

fn python(fs: &Fs, dir: &str, method: &str, path: &str, clock: i64, version: &str) -> Response {
    let clean = crate::userland::fs::join("/", path);
    let target = crate::userland::fs::join(dir, clean.trim_start_matches('/'));
    let mut headers = vec![
        (
            "Server".to_string(),
            format!("SimpleHTTP/0.6 Python/{version}"),
        ),
        ("Date".to_string(), http_date(clock)),
    ];
    let t = chrono::DateTime::from_timestamp(clock, 0)
        .unwrap_or_default()
        .format("%d/%b/%Y %H:%M:%S")
        .to_string();
    let mut log = String::new();
    let (status, body, ctype) = if fs.is_dir(&target) {
        if !path.ends_with('/') {
            headers.push(("Location".into(), format!("{path}/")));
            (301, Vec::new(), None)
        } else if fs.is_file(&format!("{target}/index.html")) {
            (
                200,
                fs.read(&format!("{target}/index.html")).unwrap_or_default(),
                Some("text/html"),
            )
        } else {
            let mut names = fs.read_dir(&target).unwrap_or_default();
            names.sort_by_key(|n| n.to_lowercase());
            let mut s = format!(
                "<!DOCTYPE HTML>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Directory listing for {path}</title>\n</head>\n<body>\n<h1>Directory listing for {path}</h1>\n<hr>\n<ul>\n"
            );
            for n in names {
                let full = format!("{}/{n}", target.trim_end_matches('/'));
                let shown = if fs.is_dir(&full) {
                    format!("{n}/")
                } else {
                    n.clone()
                };
                s += &format!("<li><a href=\"{shown}\">{shown}</a></li>\n");
            }
            s += "</ul>\n<hr>\n</body>\n</html>\n";
            (200, s.into_bytes(), Some("text/html; charset=utf-8"))
        }
    } else if fs.is_file(&target) {
        (
            200,
            fs.read(&target).unwrap_or_default(),
            Some(mime(&target)),
        )
    } else {
        log += &format!("172.17.0.1 - - [{t}] code 404, message File not found\n");
        let body = "<!DOCTYPE HTML>\n<html lang=\"en\">\n    <head>\n        <meta charset=\"utf-8\">\n        <title>Error response</title>\n    </head>\n    <body>\n        <h1>Error response</h1>\n        <p>Error code: 404</p>\n        <p>Message: File not found.</p>\n        <p>Error code explanation: 404 - Nothing matches the given URI.</p>\n    </body>\n</html>\n";
        headers.push(("Connection".into(), "close".into()));
        (
            404,
            body.as_bytes().to_vec(),
            Some("text/html;charset=utf-8"),
        )
    };
    if let Some(c) = ctype {
        headers.push(("Content-type".into(), c.into()));
    }
    headers.push(("Content-Length".into(), body.len().to_string()));
    log += &format!("172.17.0.1 - - [{t}] \"{method} {path} HTTP/1.1\" {status} -\n");
    let body = if method == "HEAD" { Vec::new() } else { body };
    Response {
        status,
        reason: reason(status),
        headers,
        body,
        log: vec![err(log)],
    }
}

fn registry(method: &str, path: &str, clock: i64) -> Response {
    let (status, body, ctype) = match path {
        "/v2/" | "/v2" => (200, "{}".to_string(), "application/json; charset=utf-8"),
        "/v2/_catalog" => (
            200,
            "{\"repositories\":[]}\n".to_string(),
            "application/json; charset=utf-8",
        ),
        _ => (
            404,
            "404 page not found\n".to_string(),
            "text/plain; charset=utf-8",
        ),
    };
    let headers = vec![
        ("Content-Type".to_string(), ctype.to_string()),
        (
            "Docker-Distribution-Api-Version".to_string(),
            "registry/2.0".to_string(),
        ),
        ("Date".to_string(), http_date(clock)),
        ("Content-Length".to_string(), body.len().to_string()),
    ];
    let t = chrono::DateTime::from_timestamp(clock, 0)
        .unwrap_or_default()
        .format("%d/%b/%Y:%H:%M:%S +0000")
        .to_string();
    let log = vec![out(format!(
        "172.17.0.1 - - [{t}] \"{method} {path} HTTP/1.1\" {status} {} \"\" \"{CURL_AGENT}\"\n",
        body.len()
    ))];
    Response {
        status,
        reason: reason(status),
        headers,
        body: if method == "HEAD" {
            Vec::new()
        } else {
            body.into_bytes()
        },
        log,
    }
}

/// logrus's timestamp of a registry line.
fn log_time(clock: i64) -> String {
    chrono::DateTime::from_timestamp(clock, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.9fZ")
        .to_string()
}

/// The registry's `instance.id` (a UUID), derived from the container's ID.
fn instance_id(id: &str) -> String {
    format!(
        "{}-{}-{}-{}-{}",
        &id[0..8],
        &id[8..12],
        &id[12..16],
        &id[16..20],
        &id[20..32]
    )
}

/// One logrus line of the registry (text formatter: fields sorted by name,
/// the registry's own fields included).
pub fn registry_log(
    clock: i64,
    id: &str,
    level: &str,
    msg: &str,
    fields: &[(&str, &str)],
) -> String {
    let (t, inst) = (log_time(clock), instance_id(id));
    let mut all: Vec<(&str, String)> = vec![
        ("go.version", "go1.20.8".into()),
        ("instance.id", inst),
        ("service", "registry".into()),
        ("version", "2.8.3".into()),
    ];
    all.extend(fields.iter().map(|(k, v)| (*k, v.to_string())));
    all.sort_by(|a, b| a.0.cmp(b.0));
    let quote = |v: &str| {
        if v.is_empty() || v.contains([' ', '"', '=']) {
            format!("{v:?}")
        } else {
            v.to_string()
        }
    };
    let mut s = format!("time=\"{t}\" level={level} msg={}", quote(msg));
    for (k, v) in all {
        s += &format!(" {k}={}", quote(&v));
    }
    s.push_str(" \n");
    s
}

/// What registry 2.8 does with `REGISTRY_AUTH=htpasswd` when it starts:
/// without a realm or a path it panics (the text is returned as `Err`);
/// a missing file is created with the user `docker` and a generated
/// password, which it logs.
pub fn registry_auth_start(
    fs: &mut Fs,
    env: &[String],
    clock: i64,
    id: &str,
) -> Result<Vec<LogChunk>, String> {
    if env_get(env, "REGISTRY_AUTH") != Some("htpasswd") {
        return Ok(Vec::new());
    }
    let panic = |why: &str| {
        format!(
            "panic: unable to configure authorization (htpasswd): {why}\n\ngoroutine 1 [running]:\ngithub.com/docker/distribution/registry/handlers.NewApp({{0x1c2b3a0, 0xc0000a2000}}, 0xc0001b4000)\n\t/go/src/github.com/docker/distribution/registry/handlers/app.go:337 +0x1a5f\n"
        )
    };
    let Some(_realm) = env_get(env, "REGISTRY_AUTH_HTPASSWD_REALM") else {
        return Err(panic(
            "\"realm\" must be set for htpasswd access controller",
        ));
    };
    let Some(path) = env_get(env, "REGISTRY_AUTH_HTPASSWD_PATH").filter(|p| !p.is_empty()) else {
        return Err(panic("\"path\" must be set for htpasswd access controller"));
    };
    if fs.exists(path) {
        return Ok(Vec::new());
    }
    let (text, password) = crate::registry::htpasswd::provision(id);
    if let Some(dir) = std::path::Path::new(path).parent() {
        let _ = fs.mkdir(
            &dir.to_string_lossy(),
            0o700,
            crate::userland::fs::Cred::ROOT,
            true,
        );
    }
    if fs
        .write(
            path,
            crate::layer::Content::bytes(text.into_bytes()),
            0o600,
            crate::userland::fs::Cred::ROOT,
        )
        .is_err()
    {
        return Err(panic(&format!(
            "failed to open htpasswd path open {path}: permission denied"
        )));
    }
    Ok(vec![err(registry_log(
        clock,
        id,
        "warning",
        "htpasswd is missing, provisioning with default user",
        &[("password", &password), ("user", "docker")],
    ))])
}
