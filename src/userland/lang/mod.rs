//! Language toolchains and runtimes (`pip`, `python`, `npm`, `node`, `go`,
//! `mvn`, `java`, `javac`, `gcc`, `make`) and the programs they build.
//!
//! Package installers resolve from the fixture universes built into the
//! binary (`fixtures/packages/{pypi,npm,go,maven}.yaml`, see [`universe`])
//! and write what scanners read: `*.dist-info/METADATA`, `node_modules/*/
//! package.json`, Go build info in ELF files, `pom.properties` in jars.
//! Nothing touches the network; `ctx.world.network == false` makes the
//! downloaders fail the way the real tools do.
//!
//! A program built here (by `go build`, `gcc`) is a real ELF file whose
//! imagelab note ([`Note`], JSON) says what it prints and which port it
//! serves; [`run_built`] plays it back.
//!
//! For the containers engineer: [`server_of`] tells whether a command line
//! is a long-running server and on which port (a Go or C program whose note
//! has a port, `python -m http.server`, a Flask/FastAPI script, `gunicorn`,
//! `uvicorn`, a node script that calls `listen`, `npm start` of such a
//! script, a Spring Boot jar). Running such a command through
//! [`super::run`] prints the server's start-up lines and returns 0, as if
//! the server had been stopped right after starting.

pub mod cc;
pub mod go;
pub mod java;
pub mod node;
pub mod python;
pub mod universe;
pub mod zip;

#[cfg(test)]
mod tests;

use super::exec::Program;
use super::fs::Errno;
use super::proc::Ctx;
use crate::layer::{Content, seed_of};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// The programs of this module by name (the name of the file after
/// symlinks, or argv[0] for busybox-style links).
pub fn lookup(name: &str) -> Option<Program> {
    let p: Program = match name {
        "pip" | "pip3" | "pip3.12" => python::pip_main,
        "python" | "python3" | "python3.12" => python::python_main,
        "gunicorn" | "uvicorn" | "flask" => python::server_cli,
        "node" | "nodejs" => node::node_main,
        "npm" | "npm-cli.js" => node::npm_main,
        "go" => go::go_main,
        "mvn" => java::mvn_main,
        "java" => java::java_main,
        "javac" => java::javac_main,
        "gcc" | "cc" | "g++" | "c++" | "gcc-12" | "g++-12" | "gcc-13" | "g++-13" => cc::gcc_main,
        "make" => cc::make_main,
        _ => return None,
    };
    Some(p)
}

/// What a long-running command serves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Server {
    /// The TCP port it listens on.
    pub port: u16,
    /// What it is: `go`, `c`, `http.server`, `flask`, `uvicorn`,
    /// `gunicorn`, `node`, `spring-boot`.
    pub kind: String,
}

/// Whether `argv` (run in `ctx`'s working directory and environment) starts
/// a long-running server, and on which port. `None` for anything else,
/// including commands that cannot start.
pub fn server_of(ctx: &Ctx, argv: &[String]) -> Option<Server> {
    let name = argv.first()?;
    let path = super::exec::find(ctx, name).ok()?;
    if let Ok(Content::Bytes(b)) = ctx.fs.content(&path)
        && let Some(info) = super::elf::parse(&b)
    {
        let note: Note = serde_json::from_str(info.note.as_deref()?).ok()?;
        return note.port.map(|port| Server {
            port,
            kind: note.lang,
        });
    }
    let resolved = ctx.fs.resolve(&path, true).ok()?;
    let base = resolved.rsplit('/').next().unwrap_or("");
    match base {
        b if b.starts_with("python") => python::server_of(ctx, argv),
        "gunicorn" | "uvicorn" | "flask" => python::server_of(ctx, argv),
        "node" | "nodejs" => node::server_of(ctx, argv),
        "npm" | "npm-cli.js" => node::npm_server_of(ctx, argv),
        "java" => java::server_of(ctx, argv),
        _ => None,
    }
}

/// What a program built in the userland does, kept as JSON in its ELF note.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// `go` or `c`.
    pub lang: String,
    /// Lines it prints to stdout when it runs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prints: Vec<String>,
    /// The port it listens on (a server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

/// Runs a program built inside the userland, as its ELF note describes:
/// prints its lines, and for a server the line it logs when it listens.
pub fn run_built(ctx: &mut Ctx, note: &str, _argv: &[String]) -> i32 {
    let Ok(n) = serde_json::from_str::<Note>(note) else {
        return 0;
    };
    for l in &n.prints {
        ctx.out(format!("{l}\n"));
    }
    0
}

/// Parses a fixture size: `512`, `99K`, `1.5M` (K and M are 1024-based).
pub fn size_of(s: &str) -> u64 {
    let s = s.trim();
    let (num, mul) = match s.chars().last() {
        Some('K') => (&s[..s.len() - 1], 1024.0),
        Some('M') => (&s[..s.len() - 1], 1024.0 * 1024.0),
        _ => (s, 1.0),
    };
    (num.parse::<f64>().unwrap_or(0.0) * mul) as u64
}

/// Orders two versions the way every ecosystem here roughly agrees on:
/// dot- and dash-separated parts, numbers numerically, and a pre-release
/// part (`rc1`, `b2`, `-alpha`, `.dev0`) below the release it precedes.
pub fn cmp_versions(a: &str, b: &str) -> Ordering {
    let pa = version_parts(a);
    let pb = version_parts(b);
    let n = pa.len().max(pb.len());
    for i in 0..n {
        let x = pa.get(i).cloned().unwrap_or(Part::Num(0));
        let y = pb.get(i).cloned().unwrap_or(Part::Num(0));
        let o = match (&x, &y) {
            (Part::Num(p), Part::Num(q)) => p.cmp(q),
            (Part::Num(_), Part::Pre(_)) => Ordering::Greater,
            (Part::Pre(_), Part::Num(_)) => Ordering::Less,
            (Part::Pre(p), Part::Pre(q)) => p.cmp(q),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

#[derive(Clone, Debug)]
enum Part {
    Num(u64),
    Pre(String),
}

fn version_parts(v: &str) -> Vec<Part> {
    let v = v.trim().trim_start_matches('v');
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut digit = None;
    let flush = |cur: &mut String, out: &mut Vec<Part>, digit: Option<bool>| {
        if cur.is_empty() {
            return;
        }
        if digit == Some(true) {
            out.push(Part::Num(cur.parse().unwrap_or(u64::MAX)));
        } else if cur.eq_ignore_ascii_case("RELEASE") || cur.eq_ignore_ascii_case("Final") {
            out.push(Part::Num(0));
        } else {
            out.push(Part::Pre(cur.to_lowercase()));
        }
        cur.clear();
    };
    for c in v.chars() {
        if c == '.' || c == '-' || c == '+' || c == '_' {
            flush(&mut cur, &mut out, digit);
            digit = None;
            continue;
        }
        let d = c.is_ascii_digit();
        if digit.is_some() && digit != Some(d) {
            flush(&mut cur, &mut out, digit);
        }
        digit = Some(d);
        cur.push(c);
    }
    flush(&mut cur, &mut out, digit);
    // Trailing zero numbers do not count (1.0 == 1.0.0).
    while matches!(out.last(), Some(Part::Num(0))) {
        out.pop();
    }
    out
}

/// Writes a file, creating its parent directories, owned by the process's
/// user.
pub fn put_file(ctx: &mut Ctx, path: &str, content: Content, mode: u32) -> Result<(), Errno> {
    let cred = ctx.user.cred();
    if let Some((parent, _)) = path.rsplit_once('/')
        && !parent.is_empty()
    {
        ctx.fs.mkdir(parent, 0o755, cred, true)?;
    }
    ctx.fs.write(path, content, mode, cred)
}

/// A text file.
pub fn put_text(ctx: &mut Ctx, path: &str, text: &str) -> Result<(), Errno> {
    put_file(ctx, path, Content::bytes(text.as_bytes().to_vec()), 0o644)
}

/// Deterministic bulk of `len` bytes seeded by `seed`.
pub fn filler(seed: &str, len: u64) -> Content {
    Content::Filler {
        seed: seed_of(seed),
        len,
    }
}

/// The first string literal argument of each `name(` call on lines that
/// start at column 0 (top-level statements), with simple escapes undone.
/// Used to play back what a script or program prints.
pub fn literal_calls(src: &str, name: &str, top_level_only: bool) -> Vec<String> {
    let mut out = Vec::new();
    for line in src.lines() {
        if top_level_only && line.starts_with([' ', '\t']) {
            continue;
        }
        let mut rest = line;
        while let Some(i) = rest.find(name) {
            let after = &rest[i + name.len()..];
            let ok_before = rest[..i]
                .chars()
                .last()
                .is_none_or(|c| !c.is_alphanumeric() && c != '_');
            rest = after;
            if !ok_before {
                continue;
            }
            let Some(args) = after.trim_start().strip_prefix('(') else {
                continue;
            };
            let args = args.trim_start();
            let args = args.strip_prefix('f').unwrap_or(args);
            if let Some(s) = string_literal(args) {
                out.push(s);
            }
        }
    }
    out
}

/// A leading `"…"` or `'…'` literal (no interpolation), unescaped.
pub fn string_literal(s: &str) -> Option<String> {
    let q = s.chars().next()?;
    if q != '"' && q != '\'' && q != '`' {
        return None;
    }
    let mut out = String::new();
    let mut chars = s[1..].chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                c => out.push(c),
            },
            c if c == q => {
                if out.contains('{') && q != '`' {
                    // An f-string or format string with fields: not a literal.
                    return None;
                }
                if q == '`' && out.contains("${") {
                    return None;
                }
                return Some(out);
            }
            c => out.push(c),
        }
    }
    None
}

/// The clock as `YYYY-MM-DDTHH:MM:SS` (UTC).
pub fn iso_time(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Howard Hinnant's days → civil date.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A short stable hex digest of a string (for cache file names, hashes).
pub fn hex_of(s: &str, n: usize) -> String {
    use sha2::{Digest, Sha256};
    let h = Sha256::digest(s.as_bytes());
    hex::encode(h)[..n.min(64)].to_string()
}
