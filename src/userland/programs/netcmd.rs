//! `curl` and `wget` over [`crate::userland::net::fetch`]: their options,
//! their error texts and exit statuses (curl 8: `curl: (6) Could not
//! resolve host: ...`, exit 6; busybox wget: `wget: bad address '...'`;
//! GNU wget 1.21: `unable to resolve host address`, exit 4). A file named
//! by `-o`/`-O` is written only when the fetch succeeds.

use super::util::{self, gnu, prog};
use crate::layer::Content;
use crate::userland::net::{self, NetError, Response};
use crate::userland::proc::Ctx;

fn save(ctx: &mut Ctx, p: &str, file: &str, body: &[u8]) -> Result<(), String> {
    if file == "-" {
        let _ = ctx.stdout.write(body);
        return Ok(());
    }
    let abs = ctx.path(file);
    let c = util::cred(ctx);
    let r = if ctx.fs.exists(&abs) {
        util::may_write(ctx, &abs)
    } else {
        util::may_create(ctx, &abs).map(|_| ())
    };
    r.and_then(|_| ctx.fs.write(&abs, Content::bytes(body.to_vec()), 0o644, c))
        .map_err(|e| format!("{p}: {file}: {e}"))
}

/// The installed curl package's version, from the image's package
/// database (apk or dpkg), as `curl --version` reports it.
fn curl_version(ctx: &Ctx) -> String {
    let apk = ctx
        .fs
        .read_string("/lib/apk/db/installed")
        .unwrap_or_default();
    let mut version = apk
        .split("\n\n")
        .find(|r| r.lines().any(|l| l == "P:curl"))
        .and_then(|r| r.lines().find_map(|l| l.strip_prefix("V:")))
        .map(|v| v.split('-').next().unwrap_or(v).to_string());
    if version.is_none() {
        let status = ctx
            .fs
            .read_string("/var/lib/dpkg/status")
            .unwrap_or_default();
        version = status
            .split("\n\n")
            .find(|p| p.lines().any(|l| l == "Package: curl"))
            .and_then(|p| p.lines().find_map(|l| l.strip_prefix("Version: ")))
            .map(|v| {
                let v = v.split_once(':').map(|(_, r)| r).unwrap_or(v);
                v.split('-').next().unwrap_or(v).to_string()
            });
    }
    let v = version.unwrap_or_else(|| "8.5.0".into());
    let arch = ctx.world.platform.uname_machine();
    let host = if ctx.os.busybox_shell() {
        format!("{arch}-alpine-linux-musl")
    } else {
        format!("{arch}-pc-linux-gnu")
    };
    format!(
        "curl {v} ({host}) libcurl/{v} OpenSSL/3.3.2 zlib/1.3.1 brotli/1.1.0 nghttp2/1.62.1\nRelease-Date: [unreleased]\nProtocols: dict file ftp ftps gopher gophers http https imap imaps ipfs ipns mqtt pop3 pop3s rtsp smb smbs smtp smtps telnet tftp ws wss\nFeatures: alt-svc AsynchDNS brotli HSTS HTTP2 HTTPS-proxy IPv6 Largefile libz NTLM SSL threadsafe TLS-SRP UnixSockets\n"
    )
}

/// `curl [-fsSLIkv] [-o FILE] [-O] [-X METHOD] [-H HDR] [-d DATA] [--retry N] URL...`
pub fn curl(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let mut silent = false;
    let mut show_err = false;
    let mut fail = false;
    let mut head = false;
    let mut out: Option<String> = None;
    let mut remote_name = false;
    let mut urls = Vec::new();
    let mut i = 1;
    let with_arg = [
        "-o",
        "--output",
        "-X",
        "--request",
        "-H",
        "--header",
        "-d",
        "--data",
        "--data-raw",
        "--data-binary",
        "--retry",
        "-u",
        "--user",
        "-A",
        "--user-agent",
        "-e",
        "--referer",
        "--retry-delay",
        "--retry-max-time",
        "--max-time",
        "-m",
        "--connect-timeout",
        "-w",
        "--write-out",
        "-T",
        "--upload-file",
        "-F",
        "--form",
        "--url",
        "-x",
        "--proxy",
        "--cacert",
        "-b",
        "--cookie",
        "-c",
        "--cookie-jar",
        "--resolve",
    ];
    while i < argv.len() {
        let a = argv[i].clone();
        i += 1;
        if with_arg.contains(&a.as_str()) {
            let Some(v) = argv.get(i).cloned() else {
                ctx.err(format!("curl: option {a}: requires parameter\ncurl: try 'curl --help' or 'curl --manual' for more information\n"));
                return 2;
            };
            i += 1;
            match a.as_str() {
                "-o" | "--output" => out = Some(v),
                "--url" => urls.push(v),
                _ => {}
            }
            continue;
        }
        if a == "--version" || a == "-V" {
            ctx.out(curl_version(ctx));
            return 0;
        }
        if a.starts_with("--") {
            match a.as_str() {
                "--silent" => silent = true,
                "--show-error" => show_err = true,
                "--fail" | "--fail-with-body" => fail = true,
                "--head" => head = true,
                "--remote-name" => remote_name = true,
                "--location"
                | "--insecure"
                | "--verbose"
                | "--compressed"
                | "--include"
                | "--progress-bar"
                | "--no-progress-meter"
                | "--globoff"
                | "--http1.1"
                | "--retry-connrefused"
                | "--retry-all-errors"
                | "--create-dirs"
                | "--proto-default"
                | "--tlsv1.2" => {}
                _ => {
                    ctx.err(format!("curl: option {a}: is unknown\ncurl: try 'curl --help' or 'curl --manual' for more information\n"));
                    return 2;
                }
            }
            continue;
        }
        if a.len() > 1 && a.starts_with('-') {
            let chars: Vec<char> = a[1..].chars().collect();
            for (j, c) in chars.iter().enumerate() {
                match c {
                    's' => silent = true,
                    'S' => show_err = true,
                    'f' => fail = true,
                    'I' => head = true,
                    'O' => remote_name = true,
                    'L' | 'k' | 'v' | 'i' | '#' | 'g' | '4' | '6' => {}
                    'o' | 'X' | 'H' | 'd' | 'u' | 'A' | 'e' | 'm' | 'w' | 'T' | 'F' | 'x' | 'b'
                    | 'c' => {
                        let rest: String = chars[j + 1..].iter().collect();
                        let v = if !rest.is_empty() {
                            rest
                        } else if let Some(v) = argv.get(i) {
                            i += 1;
                            v.clone()
                        } else {
                            ctx.err(format!("curl: option -{c}: requires parameter\ncurl: try 'curl --help' or 'curl --manual' for more information\n"));
                            return 2;
                        };
                        if *c == 'o' {
                            out = Some(v);
                        }
                        break;
                    }
                    _ => {
                        ctx.err(format!("curl: option -{c}: is unknown\ncurl: try 'curl --help' or 'curl --manual' for more information\n"));
                        return 2;
                    }
                }
            }
            continue;
        }
        urls.push(a);
    }
    if urls.is_empty() {
        ctx.err("curl: no URL specified\ncurl: try 'curl --help' or 'curl --manual' for more information\n");
        return 2;
    }
    let say = |ctx: &Ctx, msg: String| {
        if !silent || show_err {
            ctx.err(format!("{msg}\n"));
        }
    };
    let mut status = 0;
    for u in &urls {
        match net::fetch(ctx, u) {
            Ok(Response {
                status: code,
                headers,
                body,
            }) => {
                if fail && code >= 400 {
                    say(
                        ctx,
                        format!("curl: (22) The requested URL returned error: {code}"),
                    );
                    status = 22;
                    continue;
                }
                if head {
                    let mut s = format!("HTTP/1.1 {code}\r\n");
                    for (k, v) in &headers {
                        s.push_str(&format!("{k}: {v}\r\n"));
                    }
                    s.push_str("\r\n");
                    ctx.out(s);
                    continue;
                }
                let file = if remote_name {
                    let name = u.rsplit('/').next().unwrap_or("").to_string();
                    if name.is_empty() || u.ends_with('/') {
                        say(
                            ctx,
                            "curl: (23) Failed writing received data to disk/application".into(),
                        );
                        status = 23;
                        continue;
                    }
                    Some(name)
                } else {
                    out.clone()
                };
                match file {
                    Some(f) => {
                        if let Err(e) = save(ctx, "curl", &f, &body) {
                            let _ = e;
                            say(
                                ctx,
                                "curl: (23) Failure writing output to destination".to_string(),
                            );
                            status = 23;
                        }
                    }
                    None => {
                        let _ = ctx.stdout.write(&body);
                    }
                }
            }
            Err(e) => {
                let (code, msg) = match &e {
                    NetError::Resolve(h) => (6, format!("curl: (6) Could not resolve host: {h}")),
                    NetError::Refused(h, p) => (
                        7,
                        format!(
                            "curl: (7) Failed to connect to {h} port {p} after 0 ms: Couldn't connect to server"
                        ),
                    ),
                    NetError::Protocol(s) => {
                        (1, format!("curl: (1) Protocol \"{s}\" not supported"))
                    }
                    NetError::BadUrl(_) => (3, "curl: (3) URL rejected: Bad hostname".to_string()),
                };
                say(ctx, msg);
                status = code;
            }
        }
    }
    status
}

/// `wget [-q] [-O FILE] [-O -] URL...`
pub fn wget(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let g = gnu(ctx);
    let mut quiet = false;
    let mut out: Option<String> = None;
    let mut urls = Vec::new();
    let mut i = 1;
    while i < argv.len() {
        let a = argv[i].clone();
        i += 1;
        match a.as_str() {
            "-q" | "--quiet" => quiet = true,
            "-O" | "--output-document" | "-P" | "--directory-prefix" | "-U" | "--user-agent"
            | "-T" | "--timeout" | "--header" | "-t" | "--tries" => {
                let Some(v) = argv.get(i).cloned() else {
                    return util::opt_error(
                        ctx,
                        &p,
                        &util::OptError::Missing(a.chars().nth(1).unwrap_or('O')),
                        if g { 2 } else { 1 },
                    );
                };
                i += 1;
                if a == "-O" || a == "--output-document" {
                    out = Some(v);
                }
            }
            s if s.starts_with("-O") && s.len() > 2 => out = Some(s[2..].to_string()),
            s if s.starts_with("--output-document=") => {
                out = Some(s["--output-document=".len()..].to_string())
            }
            "-c"
            | "--continue"
            | "-S"
            | "--no-check-certificate"
            | "-nv"
            | "--no-verbose"
            | "--spider"
            | "-nc"
            | "--progress=dot:giga" => {}
            s if s.starts_with('-') && s.len() > 1 => {
                let c = s.chars().nth(1).unwrap_or('-');
                return util::opt_error(
                    ctx,
                    &p,
                    &util::OptError::Unknown(c),
                    if g { 2 } else { 1 },
                );
            }
            _ => urls.push(a),
        }
    }
    if urls.is_empty() {
        if g {
            ctx.err(format!("{p}: missing URL\nUsage: {p} [OPTION]... [URL]...\n\nTry `{p} --help' for more options.\n"));
            return 1;
        }
        ctx.err(format!("{}\n", util::BANNER));
        return 1;
    }
    let stamp = util::datetime(ctx.world.clock)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    let mut status = 0;
    for u in &urls {
        let shown = if u.contains("://") {
            u.clone()
        } else {
            format!("http://{u}")
        };
        let shown = match net::parse_url(u) {
            Ok(x) if x.path == "/" && !shown.ends_with('/') => format!("{shown}/"),
            _ => shown,
        };
        if g && !quiet {
            ctx.err(format!("--{stamp}--  {shown}\n"));
        }
        match net::fetch(ctx, u) {
            Ok(resp) => {
                let file = out.clone().unwrap_or_else(|| {
                    let n = u.rsplit('/').next().unwrap_or("");
                    if n.is_empty() || !u.trim_end_matches('/').contains('/') || u.ends_with('/') {
                        "index.html".into()
                    } else {
                        n.to_string()
                    }
                });
                if !g && !quiet {
                    ctx.err(format!("Connecting to {u}\n"));
                }
                if let Err(e) = save(ctx, &p, &file, &resp.body) {
                    ctx.err(format!("{e}\n"));
                    status = if g { 3 } else { 1 };
                }
            }
            Err(e) => {
                status = if g { 4 } else { 1 };
                match (&e, g) {
                    (NetError::Resolve(h), true) => {
                        if !quiet {
                            ctx.err(format!(
                                "Resolving {h} ({h})... failed: Name or service not known.\n"
                            ));
                        }
                        ctx.err(format!("{p}: unable to resolve host address '{h}'\n"));
                    }
                    (NetError::Refused(h, port), true) => {
                        if !quiet {
                            let addr = if h == "localhost" {
                                "127.0.0.1".to_string()
                            } else {
                                h.clone()
                            };
                            ctx.err(format!(
                                "Resolving {h} ({h})... {addr}\nConnecting to {h} ({h})|{addr}|:{port}... failed: Connection refused.\n"
                            ));
                        }
                    }
                    (NetError::Resolve(h), false) => ctx.err(format!("{p}: bad address '{h}'\n")),
                    (NetError::Refused(h, port), false) => {
                        let addr = if h == "localhost" {
                            "127.0.0.1".to_string()
                        } else {
                            h.clone()
                        };
                        if !quiet {
                            ctx.err(format!("Connecting to {h}:{port} ({addr}:{port})\n"));
                        }
                        ctx.err(format!(
                            "{p}: can't connect to remote host ({addr}): Connection refused\n"
                        ));
                    }
                    (NetError::Protocol(s), true) => {
                        ctx.err(format!("{u}: Unsupported scheme '{s}'.\n"));
                        status = 1;
                    }
                    (NetError::Protocol(_), false) | (NetError::BadUrl(_), false) => {
                        ctx.err(format!("{p}: not an http or ftp url: {u}\n"))
                    }
                    (NetError::BadUrl(_), true) => {
                        ctx.err(format!("{u}: Invalid host name.\n"));
                        status = 1;
                    }
                }
            }
        }
    }
    status
}
