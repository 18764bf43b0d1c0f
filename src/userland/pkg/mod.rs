//! Package managers over the fixture package universe: `apk` on Alpine,
//! `apt-get`/`apt`/`apt-cache`/`dpkg`/`dpkg-query` on Debian and Ubuntu.
//!
//! Each reads the image's own package database (`/lib/apk/db/installed`,
//! `/var/lib/dpkg/status`) as the state, resolves what to install against
//! the release's [`universe`], and writes package files and database
//! records in exactly the format the catalog's base images use, so a
//! scanner or a later `RUN` sees one consistent system.

pub mod apk;
pub mod apt;
pub mod dpkg;
pub mod universe;

use super::exec::Program;
use super::fs::Cred;
use super::os::{Family, Os};
use super::proc::Ctx;
use crate::catalog::{Line, LineKind, Vars, parse_lines};
use crate::layer::{Content, Entry, Kind, seed_of};
use std::cmp::Ordering;

/// The programs of this module by name.
pub fn lookup(name: &str) -> Option<Program> {
    match name {
        "apk" => Some(apk::main),
        "apt-get" => Some(apt::apt_get),
        "apt" => Some(apt::apt),
        "apt-cache" => Some(apt::apt_cache),
        "dpkg" => Some(dpkg::dpkg),
        "dpkg-query" => Some(dpkg::dpkg_query),
        _ => None,
    }
}

/// The universe name for an image's OS (`alpine-3.20`, `debian-bookworm`).
pub fn universe_name(os: &Os) -> Option<String> {
    match os.family {
        Family::Alpine => os.alpine_branch().map(|b| format!("alpine-{b}")),
        Family::Debian => Some(format!("debian-{}", os.codename)),
        Family::Ubuntu => Some(format!("ubuntu-{}", os.codename)),
        _ => None,
    }
}

/// Makes sure the directory `path` (absolute) exists, as root.
pub(crate) fn mkdir_p(ctx: &mut Ctx, path: &str) {
    let _ = ctx.fs.mkdir(path, 0o755, Cred::ROOT, true);
}

/// Writes a text file (as root), creating its parents.
pub(crate) fn write_text(ctx: &mut Ctx, path: &str, text: impl Into<Vec<u8>>, mode: u32) {
    if let Some((dir, _)) = path.rsplit_once('/')
        && !dir.is_empty()
    {
        mkdir_p(ctx, dir);
    }
    let _ = ctx
        .fs
        .write(path, Content::bytes(text.into()), mode, Cred::ROOT);
}

/// Writes a filler file of `len` bytes (deterministic content).
pub(crate) fn write_filler(ctx: &mut Ctx, path: &str, len: u64, mode: u32) {
    if let Some((dir, _)) = path.rsplit_once('/')
        && !dir.is_empty()
    {
        mkdir_p(ctx, dir);
    }
    let seed = seed_of(&format!("pkg|{path}"));
    let _ = ctx
        .fs
        .write(path, Content::Filler { seed, len }, mode, Cred::ROOT);
}

/// A package's file lines for this platform, with a filler file added when
/// the listed files fall well short of the installed size (so the layer
/// weighs what the real one does).
pub(crate) fn package_lines(pkg: &universe::Pkg, vars: &Vars, deb: bool) -> Vec<Line> {
    let mut lines = parse_lines(&pkg.files, vars).unwrap_or_default();
    let listed: u64 = lines
        .iter()
        .map(|l| match l.kind {
            LineKind::File(n) => n,
            _ => 0,
        })
        .sum();
    let mut extra = Vec::new();
    if deb {
        extra.push(format!(
            "f /usr/share/doc/{}/copyright 644 {}",
            pkg.name,
            1000 + seed_of(&pkg.name) % 6000
        ));
    }
    if listed + 16 * 1024 < pkg.installed {
        let rest = pkg.installed - listed;
        let path = if pkg.name.starts_with("lib") || pkg.name.ends_with("-libs") {
            if deb {
                format!("/usr/lib/{{triplet}}/{}.so", pkg.name)
            } else {
                format!("/usr/lib/{}.so", pkg.name)
            }
        } else {
            format!("/usr/share/{}/{}.dat", pkg.name, pkg.name)
        };
        extra.push(format!("f {path} 644 {rest}"));
    }
    if !extra.is_empty() {
        lines.extend(parse_lines(&extra.join("\n"), vars).unwrap_or_default());
    }
    lines
}

/// Writes a package's files into the fs (texts from the universe win over
/// filler), creating parents. Returns the number of lines written.
pub(crate) fn install_files(
    ctx: &mut Ctx,
    u: &universe::Universe,
    pkg: &universe::Pkg,
    lines: &[Line],
) -> usize {
    let clock = ctx.fs.clock;
    let arch = ctx.world.platform.architecture.clone();
    for l in lines {
        let _ = ctx.step();
        let path = format!("/{}", l.path);
        let seed = |p: &str| seed_of(&format!("{}|{}|{arch}|{p}", pkg.name, pkg.version));
        let mut e: Entry = l.entry(&seed).at(clock);
        if let Some(t) = u.text(&pkg.name, &path) {
            e.kind = Kind::File(Content::bytes(t.as_bytes().to_vec()));
        }
        if let Some((dir, _)) = path.rsplit_once('/')
            && !dir.is_empty()
        {
            mkdir_p(ctx, dir);
        }
        // Resolve directories on the way (`/bin` → `usr/bin` on merged-usr
        // systems) so the entry lands where the kernel would put it.
        if let Ok(rp) = ctx.fs.resolve(&path, false) {
            e.path = rp;
        }
        match (&e.kind, ctx.fs.entry(&e.path).map(|x| &x.kind)) {
            (Kind::Dir, Some(Kind::Dir)) => continue,
            (Kind::Dir, _) => {
                let _ = ctx.fs.mkdir(
                    &path,
                    l.mode,
                    Cred {
                        uid: l.uid,
                        gid: l.gid,
                    },
                    true,
                );
                let _ = ctx.fs.set_meta(&path, false, Some(l.mode), None, None);
                continue;
            }
            _ => {}
        }
        let _ = ctx.fs.put(e);
    }
    // Texts the fixture gives that no line listed.
    for ((p, path), text) in &u.texts {
        if p == &pkg.name
            && path.starts_with('/')
            && !lines.iter().any(|l| format!("/{}", l.path) == *path)
        {
            write_text(ctx, path, text.as_bytes().to_vec(), 0o644);
        }
    }
    lines.len()
}

/// Removes a package's files (not directories other packages may share).
pub(crate) fn remove_files(ctx: &mut Ctx, paths: &[String]) {
    for p in paths {
        let _ = ctx.step();
        if ctx.fs.is_dir(p) {
            continue;
        }
        let _ = ctx.fs.remove(p, false);
    }
}

/// Whether the process may change the package database.
pub(crate) fn is_root(ctx: &Ctx) -> bool {
    ctx.user.uid == 0
}

/// Compares versions the way both apk and dpkg roughly do: runs of digits
/// numerically, other runs by character, `~` before anything, an epoch
/// (`1:`) first.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let split_epoch = |v: &str| -> (u64, String) {
        match v.split_once(':') {
            Some((e, r)) if e.chars().all(|c| c.is_ascii_digit()) && !e.is_empty() => {
                (e.parse().unwrap_or(0), r.to_string())
            }
            _ => (0, v.to_string()),
        }
    };
    let (ea, ra) = split_epoch(a);
    let (eb, rb) = split_epoch(b);
    if ea != eb {
        return ea.cmp(&eb);
    }
    let (mut x, mut y) = (ra.as_bytes(), rb.as_bytes());
    loop {
        // non-digit prefix
        let nx = x.iter().take_while(|c| !c.is_ascii_digit()).count();
        let ny = y.iter().take_while(|c| !c.is_ascii_digit()).count();
        let (px, py) = (&x[..nx], &y[..ny]);
        let order = |c: Option<&u8>| -> i32 {
            match c {
                None => 0,
                Some(b'~') => -1,
                Some(c) if c.is_ascii_alphabetic() => *c as i32,
                Some(c) => *c as i32 + 256,
            }
        };
        for i in 0..nx.max(ny) {
            let (cx, cy) = (order(px.get(i)), order(py.get(i)));
            if cx != cy {
                return cx.cmp(&cy);
            }
        }
        x = &x[nx..];
        y = &y[ny..];
        let dx = x.iter().take_while(|c| c.is_ascii_digit()).count();
        let dy = y.iter().take_while(|c| c.is_ascii_digit()).count();
        let num = |s: &[u8]| -> u128 {
            std::str::from_utf8(s)
                .ok()
                .and_then(|t| t.parse().ok())
                .unwrap_or(0)
        };
        let (vx, vy) = (num(&x[..dx]), num(&y[..dy]));
        if vx != vy {
            return vx.cmp(&vy);
        }
        x = &x[dx..];
        y = &y[dy..];
        if x.is_empty() && y.is_empty() {
            return Ordering::Equal;
        }
    }
}

#[cfg(test)]
mod tests;
