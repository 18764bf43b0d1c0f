//! The dpkg database (`/var/lib/dpkg/status`, `info/<pkg>.list` and
//! `.md5sums`) as apt writes and reads it, and the `dpkg` / `dpkg-query`
//! programs over it (`-l`, `-s`, `-L`, `-S`, `-W`, `--get-selections`,
//! `--print-architecture`), with dpkg 1.21's wording.

use super::universe::{Pkg, Universe};
use super::write_text;
use crate::catalog::{Line, LineKind, Vars};
use crate::userland::proc::Ctx;
use std::collections::BTreeSet;

pub(crate) const STATUS: &str = "/var/lib/dpkg/status";
const INFO: &str = "/var/lib/dpkg/info";

/// One package in the status file.
#[derive(Clone, Debug, Default)]
pub(crate) struct DebInstalled {
    pub name: String,
    pub version: String,
    pub arch: String,
    pub multi_arch: String,
    pub size_kib: u64,
    /// Depends and Pre-Depends.
    pub depends: String,
    pub recommends: String,
    pub provides: String,
    pub description: String,
    pub conffiles: bool,
    pub para: String,
}

/// The installed packages (Status `install ok installed`), in file order.
pub(crate) fn read_status(ctx: &Ctx) -> Vec<DebInstalled> {
    let text = ctx.fs.read_string(STATUS).unwrap_or_default();
    let mut out = Vec::new();
    for para in text.split("\n\n") {
        if para.trim().is_empty() {
            continue;
        }
        let mut p = DebInstalled {
            para: para.trim_matches('\n').to_string(),
            ..DebInstalled::default()
        };
        let mut status = String::new();
        for l in para.lines() {
            let Some((k, v)) = l.split_once(':') else {
                continue;
            };
            let v = v.trim();
            match k {
                "Package" => p.name = v.into(),
                "Version" => p.version = v.into(),
                "Architecture" => p.arch = v.into(),
                "Multi-Arch" => p.multi_arch = v.into(),
                "Installed-Size" => p.size_kib = v.parse().unwrap_or(0),
                "Depends" | "Pre-Depends" => {
                    if !p.depends.is_empty() {
                        p.depends.push_str(", ");
                    }
                    p.depends.push_str(v);
                }
                "Recommends" => p.recommends = v.into(),
                "Provides" => p.provides = v.into(),
                "Description" => p.description = v.into(),
                "Conffiles" => p.conffiles = true,
                "Status" => status = v.into(),
                _ => {}
            }
        }
        if !p.name.is_empty() && status.ends_with(" installed") {
            out.push(p);
        }
    }
    out
}

/// `libssl3:amd64` for `Multi-Arch: same` packages, else the name.
pub(crate) fn shown_name(name: &str, multi_arch: &str, arch: &str) -> String {
    if multi_arch == "same" {
        format!("{name}:{arch}")
    } else {
        name.to_string()
    }
}

fn list_path(name: &str, multi_arch: &str, arch: &str, ext: &str) -> String {
    format!("{INFO}/{}.{ext}", shown_name(name, multi_arch, arch))
}

/// How many paths the `.list` files name (dpkg's "files and directories
/// currently installed").
pub(crate) fn database_count(ctx: &Ctx) -> usize {
    // The base images list few of their files in `.list` files; every path
    // of the image is what dpkg would count on a real system.
    let base = ctx.fs.entries().len();
    let mut all: BTreeSet<String> = BTreeSet::new();
    for f in ctx.fs.read_dir(INFO).unwrap_or_default() {
        if !f.ends_with(".list") {
            continue;
        }
        if let Ok(t) = ctx.fs.read_string(&format!("{INFO}/{f}")) {
            all.extend(t.lines().map(String::from));
        }
    }
    all.len().max(base)
}

/// An md5-shaped hex digest (the synthesized files are not the real ones).
pub(crate) fn md5_of(s: &str) -> String {
    let d = crate::digest::Digest::of(s.as_bytes()).to_string();
    d.trim_start_matches("sha256:")[..32].to_string()
}

/// Adds (or replaces) status paragraphs, keeping the file sorted by name.
pub(crate) fn add_paragraphs(ctx: &mut Ctx, new: &[(String, String)]) {
    let text = ctx.fs.read_string(STATUS).unwrap_or_default();
    let mut paras: Vec<(String, String)> = text
        .split("\n\n")
        .filter(|x| !x.trim().is_empty())
        .map(|x| {
            let name = x
                .lines()
                .find_map(|l| l.strip_prefix("Package: "))
                .unwrap_or("")
                .to_string();
            (name, x.trim_matches('\n').to_string())
        })
        .filter(|(n, _)| !new.iter().any(|(m, _)| m == n))
        .collect();
    paras.extend(new.iter().cloned());
    paras.sort_by(|a, b| a.0.cmp(&b.0));
    let status: String = paras.iter().map(|(_, t)| format!("{t}\n\n")).collect();
    write_text(ctx, STATUS, status, 0o644);
}

/// Writes a package's `.list` and `.md5sums`; returns its status
/// paragraph (name, text) for [`add_paragraphs`].
pub(crate) fn record(
    ctx: &mut Ctx,
    u: &Universe,
    p: &Pkg,
    lines: &[Line],
    vars: &Vars,
) -> (String, String) {
    let arch = vars.expand("{debarch}");
    let para = super::apt::paragraph(u, p, lines, vars).replace("Conffiles: \n", "Conffiles:\n");
    let mut paths: BTreeSet<String> = BTreeSet::new();
    for l in lines {
        let mut cur = l.path.as_str();
        paths.insert(format!("/{cur}"));
        while let Some((d, _)) = cur.rsplit_once('/') {
            paths.insert(format!("/{d}"));
            cur = d;
        }
    }
    let mut list = String::from("/.\n");
    for x in &paths {
        list.push_str(x);
        list.push('\n');
    }
    write_text(
        ctx,
        &list_path(&p.name, &p.multi_arch, &arch, "list"),
        list,
        0o644,
    );
    let mut sums = String::new();
    for l in lines {
        if matches!(l.kind, LineKind::File(_) | LineKind::Empty) && !l.path.starts_with("etc/") {
            sums.push_str(&format!(
                "{}  {}\n",
                md5_of(&format!("{}|{}", p.version, l.path)),
                l.path
            ));
        }
    }
    write_text(
        ctx,
        &list_path(&p.name, &p.multi_arch, &arch, "md5sums"),
        sums,
        0o644,
    );
    (p.name.clone(), para.trim_end().to_string())
}

/// The files a package's `.list` names (not directories).
pub(crate) fn list_files(ctx: &Ctx, name: &str, multi_arch: &str, arch: &str) -> Vec<String> {
    ctx.fs
        .read_string(&list_path(name, multi_arch, arch, "list"))
        .unwrap_or_default()
        .lines()
        .filter(|l| *l != "/.")
        .map(String::from)
        .collect()
}

/// Drops a package from the status file and its info files.
pub(crate) fn forget(ctx: &mut Ctx, name: &str, multi_arch: &str, arch: &str) {
    let text = ctx.fs.read_string(STATUS).unwrap_or_default();
    let kept: String = text
        .split("\n\n")
        .filter(|x| !x.trim().is_empty())
        .filter(|x| x.lines().find_map(|l| l.strip_prefix("Package: ")) != Some(name))
        .map(|x| format!("{}\n\n", x.trim_matches('\n')))
        .collect();
    write_text(ctx, STATUS, kept, 0o644);
    for ext in [
        "list",
        "md5sums",
        "conffiles",
        "postinst",
        "prerm",
        "postrm",
        "preinst",
    ] {
        let _ = ctx
            .fs
            .remove(&list_path(name, multi_arch, arch, ext), false);
    }
}

fn arch_of(ctx: &Ctx) -> String {
    if ctx.world.platform.architecture == "arm64" {
        "arm64".into()
    } else {
        "amd64".into()
    }
}

/// `dpkg`.
pub fn dpkg(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let args: Vec<String> = argv.iter().skip(1).cloned().collect();
    match args.first().map(String::as_str) {
        Some("--print-architecture") => {
            ctx.out(format!("{}\n", arch_of(ctx)));
            0
        }
        Some("-i") | Some("--install") => {
            let f = args.get(1).cloned().unwrap_or_default();
            if !is_root_dpkg(ctx) {
                ctx.err("dpkg: error: requested operation requires superuser privilege\n");
                return 2;
            }
            ctx.err(format!(
                "dpkg: error: cannot access archive '{f}': No such file or directory\n"
            ));
            2
        }
        Some("--version") => {
            let v = if ctx.os.codename == "jammy" {
                "1.21.1"
            } else {
                "1.21.22"
            };
            ctx.out(format!(
                "Debian 'dpkg' package management program version {v} ({}).\n",
                arch_of(ctx)
            ));
            0
        }
        _ => query(ctx, &args, "dpkg"),
    }
}

fn is_root_dpkg(ctx: &Ctx) -> bool {
    ctx.user.uid == 0
}

/// `dpkg-query`.
pub fn dpkg_query(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let args: Vec<String> = argv.iter().skip(1).cloned().collect();
    query(ctx, &args, "dpkg-query")
}

fn query(ctx: &mut Ctx, args: &[String], prog: &str) -> i32 {
    let db = read_status(ctx);
    let arch = arch_of(ctx);
    let mut action = String::new();
    let mut format: Option<String> = None;
    let mut names: Vec<String> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-l" | "--list" => action = "l".into(),
            "-s" | "--status" => action = "s".into(),
            "-L" | "--listfiles" => action = "L".into(),
            "-S" | "--search" => action = "S".into(),
            "-W" | "--show" => action = "W".into(),
            "--get-selections" => action = "g".into(),
            "-f" | "--showformat" => format = it.next().cloned(),
            s if s.starts_with("--showformat=") => {
                format = Some(s["--showformat=".len()..].to_string())
            }
            s if s.starts_with("-f") && s.len() > 2 => format = Some(s[2..].to_string()),
            s if s.starts_with('-') => {}
            s => names.push(s.to_string()),
        }
    }
    let find = |n: &str| {
        db.iter()
            .find(|p| p.name == n || shown_name(&p.name, &p.multi_arch, &arch) == n)
    };
    match action.as_str() {
        "l" => {
            let rows: Vec<&DebInstalled> = db
                .iter()
                .filter(|p| names.is_empty() || names.iter().any(|n| glob(n, &p.name)))
                .collect();
            if rows.is_empty() {
                for n in &names {
                    ctx.err(format!("dpkg-query: no packages found matching {n}\n"));
                }
                return 1;
            }
            let shown = |p: &DebInstalled| shown_name(&p.name, &p.multi_arch, &arch);
            let nw = rows
                .iter()
                .map(|p| shown(p).len())
                .max()
                .unwrap_or(0)
                .max(4);
            let vw = rows
                .iter()
                .map(|p| p.version.len())
                .max()
                .unwrap_or(0)
                .max(7);
            let aw = rows.iter().map(|p| p.arch.len()).max().unwrap_or(0).max(12);
            let dw = 80usize.saturating_sub(nw + vw + aw + 7).max(11);
            let mut s = String::from(
                "Desired=Unknown/Install/Remove/Purge/Hold\n| Status=Not/Inst/Conf-files/Unpacked/halF-conf/Half-inst/trig-aWait/Trig-pend\n|/ Err?=(none)/Reinst-required (Status,Err: uppercase=bad)\n",
            );
            s.push_str(&format!(
                "||/ {:nw$} {:vw$} {:aw$} Description\n",
                "Name", "Version", "Architecture"
            ));
            s.push_str(&format!(
                "+++-{}-{}-{}-{}\n",
                "=".repeat(nw),
                "=".repeat(vw),
                "=".repeat(aw),
                "=".repeat(dw)
            ));
            for p in rows {
                s.push_str(&format!(
                    "ii  {:nw$} {:vw$} {:aw$} {}\n",
                    shown(p),
                    p.version,
                    p.arch,
                    p.description
                ));
            }
            ctx.out(s);
            0
        }
        "s" => {
            let mut status = 0;
            for n in &names {
                match find(n) {
                    Some(p) => ctx.out(format!("{}\n\n", p.para)),
                    None => {
                        ctx.err(format!(
                            "dpkg-query: package '{n}' is not installed and no information is available\nUse dpkg --info (= dpkg-deb --info) to examine archive files.\n"
                        ));
                        status = 1;
                    }
                }
            }
            status
        }
        "L" => {
            let mut status = 0;
            for n in &names {
                match find(n) {
                    Some(p) => {
                        let t = ctx
                            .fs
                            .read_string(&list_path(&p.name, &p.multi_arch, &arch, "list"))
                            .unwrap_or_default();
                        ctx.out(t);
                    }
                    None => {
                        ctx.err(format!(
                            "dpkg-query: package '{n}' is not installed\nUse dpkg --contents (= dpkg-deb --contents) to list archive files contents.\n"
                        ));
                        status = 1;
                    }
                }
            }
            status
        }
        "S" => {
            let mut status = 0;
            for n in &names {
                let mut hit = false;
                for p in &db {
                    let files = list_files(ctx, &p.name, &p.multi_arch, &arch);
                    if files
                        .iter()
                        .any(|f| f == n || (!n.starts_with('/') && f.contains(n.as_str())))
                    {
                        ctx.out(format!(
                            "{}: {n}\n",
                            shown_name(&p.name, &p.multi_arch, &arch)
                        ));
                        hit = true;
                    }
                }
                if !hit {
                    ctx.err(format!("dpkg-query: no path found matching pattern {n}\n"));
                    status = 1;
                }
            }
            status
        }
        "W" | "g" => {
            let fmt = format.unwrap_or_else(|| {
                if action == "g" {
                    "${Package}\t\t\t\t\t\tinstall\n".into()
                } else {
                    "${binary:Package}\t${Version}\n".into()
                }
            });
            let fmt = fmt.replace("\\n", "\n").replace("\\t", "\t");
            let mut status = 0;
            let rows: Vec<&DebInstalled> = if names.is_empty() {
                db.iter().collect()
            } else {
                let mut v = Vec::new();
                for n in &names {
                    let m: Vec<&DebInstalled> = db.iter().filter(|p| glob(n, &p.name)).collect();
                    if m.is_empty() {
                        ctx.err(format!("{prog}: no packages found matching {n}\n"));
                        status = 1;
                    }
                    v.extend(m);
                }
                v
            };
            for p in rows {
                let line = fmt
                    .replace(
                        "${binary:Package}",
                        &shown_name(&p.name, &p.multi_arch, &arch),
                    )
                    .replace("${Package}", &p.name)
                    .replace("${Version}", &p.version)
                    .replace("${Architecture}", &p.arch)
                    .replace("${Installed-Size}", &p.size_kib.to_string())
                    .replace("${Status}", "install ok installed")
                    .replace("${db:Status-Abbrev}", "ii ")
                    .replace("${Description}", &p.description);
                ctx.out(line);
            }
            status
        }
        _ => {
            ctx.err(format!(
                "{prog}: error: need an action option\n\nType {prog} --help for help about installing and deinstalling packages [*];\nUse 'apt' or 'aptitude' for user-friendly package management;\nType {prog} -Dhelp for a list of dpkg debug flag values;\nType {prog} --force-help for a list of forcing options;\nType dpkg-deb --help for help about manipulating *.deb files;\n\nOptions marked [*] produce a lot of output - pipe it through 'less' or 'more' !\n"
            ));
            2
        }
    }
}

/// A shell glob with `*` and `?` only.
fn glob(pat: &str, s: &str) -> bool {
    fn m(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*'), _) => m(&p[1..], s) || (!s.is_empty() && m(p, &s[1..])),
            (Some(b'?'), Some(_)) => m(&p[1..], &s[1..]),
            (Some(a), Some(b)) if a == b => m(&p[1..], &s[1..]),
            _ => false,
        }
    }
    m(pat.as_bytes(), s.as_bytes())
}
