//! `apt-get`, `apt` and `apt-cache` (apt 2.6 on bookworm, 2.4 on jammy).
//!
//! The package lists are what `apt-get update` wrote under
//! `/var/lib/apt/lists/`: a fresh image has none, so `apt-get install`
//! without an update first says `E: Unable to locate package` (the lesson).
//! Installing resolves Depends, Pre-Depends and (unless
//! `--no-install-recommends`) Recommends against the release's universe,
//! prints apt's and dpkg's own lines, and writes the files, the dpkg
//! database (`status`, `info/*.list`, `info/*.md5sums`), apt's
//! `extended_states` and logs. `/etc/apt/apt.conf.d/docker-clean` decides
//! whether downloaded `.deb` files stay in `/var/cache/apt/archives`.

use super::dpkg::{self, DebInstalled, read_status};
use super::universe::{Pkg, Universe, universe};
use super::{install_files, is_root, package_lines, remove_files, write_filler, write_text};
use crate::catalog::{Vars, dpkg_paragraph};
use crate::userland::proc::Ctx;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

const LISTS: &str = "/var/lib/apt/lists";
const ARCHIVES: &str = "/var/cache/apt/archives";
const EXTENDED: &str = "/var/lib/apt/extended_states";

/// Which front end is running (they differ in a few words).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Front {
    AptGet,
    Apt,
}

/// apt's `SizeToStr`: 1000-based, three significant digits
/// (`275 kB`, `19.0 MB`, `500 B`).
pub fn size_str(bytes: f64) -> String {
    let ext = ["", "k", "M", "G", "T", "P"];
    let mut v = bytes;
    for (i, e) in ext.iter().enumerate() {
        if v < 100.0 && i != 0 {
            return format!("{v:.1} {e}");
        }
        if v < 10000.0 {
            return format!("{v:.0} {e}");
        }
        v /= 1000.0;
    }
    format!("{v:.0} E")
}

/// One dependency alternative: name and optional `(op version)`.
#[derive(Clone, Debug)]
pub(crate) struct Alt {
    pub name: String,
    pub op: String,
    pub version: String,
}

/// `a (>= 1), b | c` → groups of alternatives.
pub(crate) fn dep_groups(field: &str) -> Vec<Vec<Alt>> {
    field
        .split(',')
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .map(|g| {
            g.split('|')
                .map(|a| {
                    let a = a.trim();
                    let (n, c) = match a.split_once('(') {
                        Some((n, c)) => (n.trim(), c.trim_end_matches(')').trim()),
                        None => (a, ""),
                    };
                    let n = n.split(':').next().unwrap_or(n).to_string();
                    let op_len = c
                        .chars()
                        .take_while(|ch| matches!(ch, '<' | '>' | '='))
                        .count();
                    Alt {
                        name: n,
                        op: c[..op_len].to_string(),
                        version: c[op_len..].trim().to_string(),
                    }
                })
                .collect()
        })
        .collect()
}

impl Alt {
    fn allows(&self, v: &str) -> bool {
        use std::cmp::Ordering::*;
        if self.op.is_empty() {
            return true;
        }
        let c = super::compare_versions(v, &self.version);
        match self.op.as_str() {
            "=" => c == Equal,
            ">=" => c != Less,
            "<=" => c != Greater,
            ">>" => c == Greater,
            "<<" => c == Less,
            _ => true,
        }
    }
}

fn group_text(g: &[Alt]) -> String {
    g.iter()
        .map(|a| a.name.clone())
        .collect::<Vec<_>>()
        .join(" | ")
}

/// Options of apt-get / apt.
#[derive(Default)]
struct Opts {
    yes: bool,
    quiet: u32,
    recommends: bool,
    purge: bool,
    auto_remove: bool,
    reinstall: bool,
}

fn lists_present(ctx: &Ctx) -> bool {
    ctx.fs
        .read_dir(LISTS)
        .unwrap_or_default()
        .iter()
        .any(|f| f.contains("_Packages"))
}

fn lock_error(ctx: &mut Ctx, lists: bool) -> i32 {
    if lists {
        ctx.err("E: Could not open lock file /var/lib/apt/lists/lock - open (13: Permission denied)\nE: Unable to lock directory /var/lib/apt/lists/\n");
    } else {
        ctx.err("E: Could not open lock file /var/lib/dpkg/lock-frontend - open (13: Permission denied)\nE: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), are you root?\n");
    }
    100
}

fn the_universe(ctx: &Ctx) -> Option<&'static Universe> {
    super::universe_name(&ctx.os).and_then(|n| universe(&n))
}

/// `apt-get`.
pub fn apt_get(ctx: &mut Ctx, argv: &[String]) -> i32 {
    run(ctx, argv, Front::AptGet)
}

/// `apt`.
pub fn apt(ctx: &mut Ctx, argv: &[String]) -> i32 {
    ctx.err(
        "\nWARNING: apt does not have a stable CLI interface. Use with caution in scripts.\n\n",
    );
    run(ctx, argv, Front::Apt)
}

fn run(ctx: &mut Ctx, argv: &[String], front: Front) -> i32 {
    let mut o = Opts {
        recommends: true,
        ..Opts::default()
    };
    let mut cmd: Option<String> = None;
    let mut names: Vec<String> = Vec::new();
    let mut it = argv.iter().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "-y" | "--yes" | "--assume-yes" | "-qy" | "-yq" => {
                o.yes = true;
                if a.contains('q') {
                    o.quiet += 1;
                }
            }
            "-q" | "--quiet" => o.quiet += 1,
            "-qq" => o.quiet += 2,
            "--no-install-recommends" => o.recommends = false,
            "--install-recommends" => o.recommends = true,
            "--purge" => o.purge = true,
            "--auto-remove" | "--autoremove" => o.auto_remove = true,
            "--reinstall" => o.reinstall = true,
            "-o" | "-t" | "-c" => {
                if let Some(v) = it.next()
                    && v.starts_with("APT::Install-Recommends=")
                {
                    o.recommends = !v.ends_with("=false") && !v.ends_with("=0");
                }
            }
            s if s.starts_with("-o") => {}
            s if s.starts_with("--") => {}
            s if s.starts_with('-') => {
                for c in s.chars().skip(1) {
                    match c {
                        'y' => o.yes = true,
                        'q' => o.quiet += 1,
                        _ => {}
                    }
                }
            }
            s => {
                if cmd.is_none() {
                    cmd = Some(s.to_string());
                } else {
                    names.push(s.to_string());
                }
            }
        }
    }
    let Some(cmd) = cmd else {
        let v = if ctx.os.codename == "jammy" {
            "2.4.6"
        } else {
            "2.6.1"
        };
        ctx.out(format!(
            "apt {v} (amd64)\nUsage: apt-get [options] command\n       apt-get [options] install|remove pkg1 [pkg2 ...]\n       apt-get [options] source pkg1 [pkg2 ...]\n"
        ));
        return 1;
    };
    let Some(u) = the_universe(ctx) else {
        ctx.err("E: This image has no apt package universe\n");
        return 100;
    };
    match cmd.as_str() {
        "update" => {
            if !is_root(ctx) {
                return lock_error(ctx, true);
            }
            update(ctx, u, &o, front)
        }
        "install" | "remove" | "purge" | "autoremove" | "upgrade" | "dist-upgrade"
        | "full-upgrade" => {
            if !is_root(ctx) {
                return lock_error(ctx, false);
            }
            if cmd == "purge" {
                o.purge = true;
            }
            match cmd.as_str() {
                "install" => install(ctx, u, &o, &names, front),
                "remove" | "purge" => remove(ctx, u, &o, &names, false, front),
                "autoremove" => remove(ctx, u, &o, &[], true, front),
                _ => {
                    header(ctx, &o);
                    if o.quiet < 2 {
                        ctx.out("Calculating upgrade...\n0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n");
                    }
                    0
                }
            }
        }
        "clean" | "autoclean" => {
            if !is_root(ctx) {
                return lock_error(ctx, false);
            }
            for dir in [ARCHIVES, "/var/cache/apt/archives/partial"] {
                for f in ctx.fs.read_dir(dir).unwrap_or_default() {
                    if f.ends_with(".deb") {
                        let _ = ctx.fs.remove(&format!("{dir}/{f}"), false);
                    }
                }
            }
            for f in ["pkgcache.bin", "srcpkgcache.bin"] {
                let _ = ctx.fs.remove(&format!("/var/cache/apt/{f}"), false);
            }
            0
        }
        "list" if front == Front::Apt => {
            let db = read_status(ctx);
            ctx.out("Listing...\n");
            let installed_only = names.iter().any(|n| n == "--installed");
            let arch = debarch(ctx);
            for p in &db {
                let suite = u
                    .get(&p.name)
                    .map(|x| suite_of(&x.repo))
                    .unwrap_or_default();
                ctx.out(format!(
                    "{}/{} {} {} [installed]\n",
                    p.name,
                    if suite.is_empty() {
                        "now".into()
                    } else {
                        suite
                    },
                    p.version,
                    if p.arch.is_empty() {
                        arch.clone()
                    } else {
                        p.arch.clone()
                    }
                ));
            }
            let _ = installed_only;
            0
        }
        "show" | "search" | "policy" if front == Front::Apt => {
            let mut v = vec!["apt-cache".to_string(), cmd.clone()];
            v.extend(names);
            apt_cache(ctx, &v)
        }
        other => {
            ctx.err(format!("E: Invalid operation {other}\n"));
            100
        }
    }
}

fn debarch(ctx: &Ctx) -> String {
    if ctx.world.platform.architecture == "arm64" {
        "arm64".into()
    } else {
        "amd64".into()
    }
}

/// `bookworm/main` → `bookworm`.
fn suite_of(repo: &str) -> String {
    repo.split('/').next().unwrap_or("").to_string()
}

fn update(ctx: &mut Ctx, u: &Universe, o: &Opts, front: Front) -> i32 {
    let arch = debarch(ctx);
    let mut n = 0;
    let mut fetched = 0u64;
    let mut failed: Vec<String> = Vec::new();
    super::mkdir_p(ctx, "/var/lib/apt/lists/partial");
    for ix in &u.indexes {
        let _ = ctx.step();
        n += 1;
        let name = ix.name.replace("{debarch}", &arch);
        let file = format!("{LISTS}/{}", ix.file.replace("{debarch}", &arch));
        let host = name
            .split("//")
            .nth(1)
            .and_then(|r| r.split('/').next())
            .unwrap_or("")
            .to_string();
        if !ctx.world.network {
            if name.ends_with("InRelease") {
                if o.quiet < 2 {
                    ctx.out(format!("Ign:{n} {name}\n"));
                    ctx.out(format!(
                        "Err:{n} {name}\n  Temporary failure resolving '{host}'\n"
                    ));
                }
                let url = dists_url(&name);
                failed.push(format!(
                    "W: Failed to fetch {url}  Temporary failure resolving '{host}'\n"
                ));
            } else {
                n -= 1;
            }
            continue;
        }
        if ctx.fs.exists(&file) {
            if name.ends_with("InRelease") && o.quiet < 2 {
                ctx.out(format!("Hit:{n} {name}\n"));
            } else {
                n -= 1;
            }
            continue;
        }
        if o.quiet < 2 {
            ctx.out(format!(
                "Get:{n} {name} [{}B]\n",
                size_str(ix.size_bytes() as f64)
            ));
        }
        fetched += ix.size_bytes();
        write_filler(ctx, &file, ix.stored_bytes(), 0o644);
    }
    write_text(ctx, "/var/lib/apt/lists/lock", Vec::new(), 0o640);
    if fetched > 0 && o.quiet < 2 {
        ctx.out(format!(
            "Fetched {}B in 1s ({}B/s)\n",
            size_str(fetched as f64),
            size_str(fetched as f64 * 0.8)
        ));
    }
    if o.quiet < 2 {
        ctx.out("Reading package lists...\n");
    }
    if front == Front::Apt && failed.is_empty() && o.quiet < 2 {
        ctx.out("Building dependency tree...\nReading state information...\nAll packages are up to date.\n");
    }
    for f in &failed {
        ctx.err(f);
    }
    if !failed.is_empty() {
        ctx.err("W: Some index files failed to download. They have been ignored, or old ones used instead.\n");
    }
    0
}

/// `http://deb.debian.org/debian bookworm InRelease` →
/// `http://deb.debian.org/debian/dists/bookworm/InRelease`.
fn dists_url(get: &str) -> String {
    let w: Vec<&str> = get.split_whitespace().collect();
    match w.as_slice() {
        [base, suite, file] => format!("{base}/dists/{suite}/{file}"),
        _ => get.to_string(),
    }
}

fn header(ctx: &mut Ctx, o: &Opts) {
    if o.quiet < 2 {
        ctx.out(
            "Reading package lists...\nBuilding dependency tree...\nReading state information...\n",
        );
    }
}

/// Prints an apt package list: two-space indent, wrapped before 80 columns.
fn show_list(ctx: &mut Ctx, title: &str, names: &[String]) {
    if names.is_empty() {
        return;
    }
    let mut s = format!("{title}\n");
    let mut line = String::from(" ");
    for n in names {
        if line.len() + 1 + n.len() > 79 && line.len() > 1 {
            s.push_str(&line);
            s.push('\n');
            line = String::from(" ");
        }
        line.push(' ');
        line.push_str(n);
    }
    s.push_str(&line);
    s.push('\n');
    ctx.out(s);
}

/// Names the installed packages are and provide.
struct Have {
    installed: BTreeSet<String>,
    chosen: BTreeSet<String>,
}

impl Have {
    fn new(db: &[DebInstalled]) -> Have {
        let mut installed = BTreeSet::new();
        for p in db {
            installed.insert(p.name.clone());
            for a in dep_groups(&p.provides).into_iter().flatten() {
                installed.insert(a.name);
            }
        }
        Have {
            installed,
            chosen: BTreeSet::new(),
        }
    }

    fn choose(&mut self, p: &Pkg) {
        self.chosen.insert(p.name.clone());
        for a in dep_groups(&p.provides).into_iter().flatten() {
            self.chosen.insert(a.name);
        }
    }

    /// Whether an alternative is met by what is installed (any version:
    /// this apt does not upgrade) or already chosen.
    fn has(&self, a: &Alt) -> bool {
        self.installed.contains(&a.name) || self.chosen.contains(&a.name)
    }
}

fn available<'u>(u: &'u Universe, lists: bool, name: &str) -> Option<&'u Pkg> {
    if !lists {
        return None;
    }
    u.get(name).or_else(|| u.providers(name).into_iter().next())
}

fn install(ctx: &mut Ctx, u: &Universe, o: &Opts, names: &[String], front: Front) -> i32 {
    header(ctx, o);
    let lists = lists_present(ctx);
    let db = read_status(ctx);
    let mut auto: BTreeSet<String> = read_auto(ctx);
    let mut errors: Vec<String> = Vec::new();
    let mut requested: Vec<&Pkg> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    for n in names {
        let (name, want) = match n.split_once('=') {
            Some((a, b)) => (a, Some(b)),
            None => (n.as_str(), None),
        };
        let name = name.split('/').next().unwrap_or(name);
        let inst = db.iter().find(|p| p.name == name);
        let avail = available(u, lists, name);
        match (inst, avail) {
            (None, None) => errors.push(format!("E: Unable to locate package {name}\n")),
            (Some(i), a) => {
                if let Some(w) = want
                    && i.version != w
                    && a.is_none_or(|p| p.version != w)
                {
                    errors.push(format!("E: Version '{w}' for '{name}' was not found\n"));
                    continue;
                }
                if o.reinstall
                    && let Some(p) = a
                {
                    requested.push(p);
                    continue;
                }
                notes.push(format!(
                    "{name} is already the newest version ({}).\n",
                    i.version
                ));
                if auto.remove(name) {
                    notes.push(format!("{name} set to manually installed.\n"));
                }
            }
            (None, Some(p)) => {
                if let Some(w) = want
                    && p.version != w
                {
                    errors.push(format!("E: Version '{w}' for '{name}' was not found\n"));
                    continue;
                }
                if !requested.iter().any(|x| x.name == p.name) {
                    requested.push(p);
                }
            }
        }
    }
    if !errors.is_empty() {
        for e in errors {
            ctx.err(e);
        }
        return 100;
    }
    // The closure.
    let mut chosen: BTreeMap<String, &Pkg> = BTreeMap::new();
    let mut have = Have::new(&db);
    let mut todo: Vec<&Pkg> = requested.clone();
    let mut recommended: Vec<String> = Vec::new();
    let mut broken: Vec<String> = Vec::new();
    while let Some(p) = todo.pop() {
        if ctx.step().is_err() {
            break;
        }
        if chosen.contains_key(&p.name) {
            continue;
        }
        chosen.insert(p.name.clone(), p);
        have.choose(p);
        let mut groups: Vec<(Vec<Alt>, bool)> = dep_groups(&p.depends)
            .into_iter()
            .map(|g| (g, true))
            .collect();
        groups.extend(dep_groups(&p.recommends).into_iter().map(|g| (g, false)));
        for (g, hard) in groups {
            if g.iter().any(|a| have.has(a)) {
                continue;
            }
            if !hard && !o.recommends {
                continue;
            }
            // A candidate whose version meets the constraint, else any
            // candidate (the universes hold one version per package).
            let pick = g
                .iter()
                .find_map(|a| available(u, lists, &a.name).filter(|c| a.allows(&c.version)))
                .or_else(|| g.iter().find_map(|a| available(u, lists, &a.name)));
            match pick {
                Some(c) if !chosen.contains_key(&c.name) => todo.push(c),
                Some(_) => {}
                None if hard => broken.push(format!(
                    " {} : Depends: {} but it is not installable\n",
                    p.name,
                    group_text(&g)
                )),
                None => {}
            }
        }
    }
    if !o.recommends {
        for p in chosen.values() {
            for g in dep_groups(&p.recommends) {
                if !g.iter().any(|a| have.has(a)) {
                    recommended.push(group_text(&g));
                }
            }
        }
    }
    for n in &notes {
        if o.quiet < 2 {
            ctx.out(n);
        }
    }
    if !broken.is_empty() {
        ctx.out("Some packages could not be installed. This may mean that you have\nrequested an impossible situation or if you are using the unstable\ndistribution that some required packages have not yet been created\nor been moved out of Incoming.\nThe following information may help to resolve the situation:\n\nThe following packages have unmet dependencies:\n");
        for b in broken {
            ctx.out(b);
        }
        ctx.err("E: Unable to correct problems, you have held broken packages.\n");
        return 100;
    }
    let new: Vec<&Pkg> = chosen.values().copied().collect();
    let requested_names: BTreeSet<&str> = requested.iter().map(|p| p.name.as_str()).collect();
    let additional: Vec<String> = new
        .iter()
        .filter(|p| !requested_names.contains(p.name.as_str()))
        .map(|p| p.name.clone())
        .collect();
    let mut suggested: Vec<String> = Vec::new();
    for p in &new {
        for g in dep_groups(&p.suggests) {
            if g.iter().any(|a| have.has(a)) {
                continue;
            }
            let t = group_text(&g);
            if !suggested.contains(&t) {
                suggested.push(t);
            }
        }
    }
    recommended.dedup();
    let mut rec_sorted: Vec<String> = Vec::new();
    for r in recommended {
        if !rec_sorted.contains(&r) {
            rec_sorted.push(r);
        }
    }
    let q = o.quiet < 2;
    if q {
        show_list(
            ctx,
            "The following additional packages will be installed:",
            &additional,
        );
        show_list(ctx, "Suggested packages:", &suggested);
        show_list(ctx, "Recommended packages:", &rec_sorted);
        let all: Vec<String> = new.iter().map(|p| p.name.clone()).collect();
        show_list(ctx, "The following NEW packages will be installed:", &all);
        ctx.out(format!(
            "0 upgraded, {} newly installed, 0 to remove and 0 not upgraded.\n",
            new.len()
        ));
    }
    if new.is_empty() {
        write_auto(ctx, &auto);
        return 0;
    }
    let download: u64 = new.iter().map(|p| p.size).sum();
    let disk: u64 = new.iter().map(|p| kib(p.installed) * 1024).sum();
    if q {
        ctx.out(format!(
            "Need to get {}B of archives.\n",
            size_str(download as f64)
        ));
        ctx.out(format!(
            "After this operation, {}B of additional disk space will be used.\n",
            size_str(disk as f64)
        ));
    }
    if !additional.is_empty() && !o.yes {
        ctx.out("Do you want to continue? [Y/n] ");
        let answer = String::from_utf8_lossy(&ctx.stdin).to_string();
        let first = answer.lines().next();
        match first.map(str::trim) {
            Some("") | Some("y") | Some("Y") | Some("yes") => {}
            _ => {
                ctx.out("Abort.\n");
                return 1;
            }
        }
    }
    let order = install_order(&new);
    let arch = debarch(ctx);
    // Downloads.
    let mut fetch_errors = Vec::new();
    for (i, p) in order.iter().enumerate() {
        let suite = suite_of(&p.repo);
        let base = u.archives.get(&suite).cloned().unwrap_or_default();
        let parch = if p.arch.is_empty() {
            arch.clone()
        } else {
            p.arch.clone()
        };
        let host = base
            .split("//")
            .nth(1)
            .and_then(|r| r.split('/').next())
            .unwrap_or("")
            .to_string();
        if !ctx.world.network {
            if q {
                ctx.out(format!(
                    "Err:{} {base} {} {arch} {} {parch} {}\n  Temporary failure resolving '{host}'\n",
                    i + 1,
                    p.repo,
                    p.name,
                    p.version
                ));
            }
            fetch_errors.push(format!(
                "E: Failed to fetch {base}/{}  Temporary failure resolving '{host}'\n",
                pool_path(p, &parch)
            ));
            continue;
        }
        if q {
            ctx.out(format!(
                "Get:{} {base} {} {arch} {} {parch} {} [{}B]\n",
                i + 1,
                p.repo,
                p.name,
                p.version,
                size_str(p.size as f64)
            ));
        }
    }
    if !fetch_errors.is_empty() {
        for e in fetch_errors {
            ctx.err(e);
        }
        ctx.err("E: Unable to fetch some archives, maybe run apt-get update or try with --fix-missing?\n");
        return 100;
    }
    ctx.err("debconf: delaying package configuration, since apt-utils is not installed\n");
    if q {
        ctx.out(format!(
            "Fetched {}B in 0s ({}B/s)\n",
            size_str(download as f64),
            size_str(download as f64 * 4.0)
        ));
    }
    let vars = Vars::of(&ctx.world.platform);
    let files_before = dpkg::database_count(ctx);
    // Unpack.
    let many = order.len() > 1;
    let keep_debs = !ctx.fs.exists("/etc/apt/apt.conf.d/docker-clean");
    let mut all_lines = Vec::new();
    let mut paras = Vec::new();
    for (i, p) in order.iter().enumerate() {
        let parch = if p.arch.is_empty() {
            arch.clone()
        } else {
            p.arch.clone()
        };
        let shown = dpkg::shown_name(&p.name, &p.multi_arch, &arch);
        if q {
            ctx.out(format!(
                "Selecting previously unselected package {shown}.\n"
            ));
            if i == 0 {
                ctx.out(format!(
                    "(Reading database ... {files_before} files and directories currently installed.)\n"
                ));
            }
            let file = deb_file(p, &parch);
            if many {
                ctx.out(format!("Preparing to unpack .../{i:02}-{file} ...\n"));
            } else {
                ctx.out(format!("Preparing to unpack .../{file} ...\n"));
            }
            ctx.out(format!("Unpacking {shown} ({}) ...\n", p.version));
        }
        let lines = package_lines(p, &vars, true);
        install_files(ctx, u, p, &lines);
        if keep_debs {
            write_filler(
                ctx,
                &format!("{ARCHIVES}/{}", deb_file(p, &parch)),
                p.size,
                0o644,
            );
        }
        paras.push(dpkg::record(ctx, u, p, &lines, &vars));
        all_lines.push(lines);
    }
    dpkg::add_paragraphs(ctx, &paras);
    // Configure.
    for p in &order {
        let shown = dpkg::shown_name(&p.name, &p.multi_arch, &arch);
        if q {
            ctx.out(format!("Setting up {shown} ({}) ...\n", p.version));
        }
        for e in &p.effects {
            if let Some(spec) = e.strip_prefix("user=") {
                let mut it = spec.split(',');
                let name = it.next().unwrap_or("");
                let home = it.next().unwrap_or("/nonexistent");
                super::apk::add_system_user(ctx, name, home, "/usr/sbin/nologin");
            }
        }
        if let Some(t) = u.text(&p.name, "@setup")
            && q
        {
            ctx.out(t);
        }
    }
    // Triggers.
    let libs = all_lines.iter().flatten().any(|l| l.path.contains(".so"));
    let mut triggers: Vec<(String, String, String)> = Vec::new();
    if libs && let Some(libc) = db.iter().find(|p| p.name == "libc-bin") {
        triggers.push(("libc-bin".into(), libc.version.clone(), String::new()));
    }
    for p in &order {
        if let Some(t) = u.text(&p.name, "@trigger") {
            triggers.push((p.name.clone(), p.version.clone(), t.to_string()));
        }
    }
    triggers.sort();
    for (n, v, t) in triggers {
        if q {
            ctx.out(format!("Processing triggers for {n} ({v}) ...\n{t}"));
        }
    }
    for p in &order {
        if !requested_names.contains(p.name.as_str()) {
            auto.insert(p.name.clone());
        }
    }
    write_auto(ctx, &auto);
    log_history(ctx, front, names, &order, &arch);
    0
}

/// Dependencies before dependents; among the ready ones, by name.
fn install_order<'u>(new: &[&'u Pkg]) -> Vec<&'u Pkg> {
    let mut left: Vec<&Pkg> = new.to_vec();
    left.sort_by(|a, b| a.name.cmp(&b.name));
    let needs: Vec<BTreeSet<String>> = left
        .iter()
        .map(|p| {
            dep_groups(&p.depends)
                .into_iter()
                .flatten()
                .map(|a| a.name)
                .filter(|n| n != &p.name)
                .collect()
        })
        .collect();
    let mut alive: Vec<usize> = (0..left.len()).collect();
    let mut out = Vec::new();
    while !alive.is_empty() {
        let pos = alive
            .iter()
            .position(|&i| {
                !alive
                    .iter()
                    .any(|&j| j != i && needs[i].contains(&left[j].name))
            })
            .unwrap_or(0);
        out.push(left[alive.remove(pos)]);
    }
    out
}

fn kib(bytes: u64) -> u64 {
    bytes.div_ceil(1024)
}

/// `name_version_arch.deb` with the epoch's colon escaped as apt does.
fn deb_file(p: &Pkg, arch: &str) -> String {
    format!("{}_{}_{arch}.deb", p.name, p.version.replace(':', "%3a"))
}

/// `pool/main/c/curl/curl_7.88.1-10+deb12u8_amd64.deb`.
fn pool_path(p: &Pkg, arch: &str) -> String {
    let src = p.source();
    let letter = if src.starts_with("lib") && src.len() > 3 {
        &src[..4]
    } else {
        &src[..src.len().min(1)]
    };
    let comp = p.repo.split('/').nth(1).unwrap_or("main");
    let ver = p.version.split_once(':').map(|x| x.1).unwrap_or(&p.version);
    format!("pool/{comp}/{letter}/{src}/{}_{ver}_{arch}.deb", p.name)
}

pub(crate) fn read_auto(ctx: &Ctx) -> BTreeSet<String> {
    let text = ctx.fs.read_string(EXTENDED).unwrap_or_default();
    let mut out = BTreeSet::new();
    for para in text.split("\n\n") {
        let mut name = None;
        let mut auto = false;
        for l in para.lines() {
            if let Some(v) = l.strip_prefix("Package: ") {
                name = Some(v.to_string());
            }
            if l.trim() == "Auto-Installed: 1" {
                auto = true;
            }
        }
        if let (Some(n), true) = (name, auto) {
            out.insert(n);
        }
    }
    out
}

fn write_auto(ctx: &mut Ctx, auto: &BTreeSet<String>) {
    if auto.is_empty() && !ctx.fs.exists(EXTENDED) {
        return;
    }
    let arch = debarch(ctx);
    let mut s = String::new();
    for n in auto {
        s.push_str(&format!(
            "Package: {n}\nArchitecture: {arch}\nAuto-Installed: 1\n\n"
        ));
    }
    write_text(ctx, EXTENDED, s, 0o644);
}

fn log_history(ctx: &mut Ctx, front: Front, names: &[String], order: &[&Pkg], arch: &str) {
    let cmd = match front {
        Front::AptGet => "apt-get",
        Front::Apt => "apt",
    };
    let installs: Vec<String> = order
        .iter()
        .map(|p| format!("{}:{arch} ({})", p.name, p.version))
        .collect();
    let entry = format!(
        "\nStart-Date: {0}\nCommandline: {cmd} install {1}\nInstall: {2}\nEnd-Date: {0}\n",
        stamp(ctx.world.clock),
        names.join(" "),
        installs.join(", ")
    );
    let _ = ctx.fs.mkdir("/var/log/apt", 0o755, super::Cred::ROOT, true);
    let _ = ctx.fs.append(
        "/var/log/apt/history.log",
        entry.as_bytes(),
        0o644,
        super::Cred::ROOT,
    );
    let mut dpkg_log = String::new();
    for p in order {
        dpkg_log.push_str(&format!(
            "{} install {}:{arch} <none> {}\n",
            stamp(ctx.world.clock),
            p.name,
            p.version
        ));
    }
    let _ = ctx.fs.append(
        "/var/log/dpkg.log",
        dpkg_log.as_bytes(),
        0o644,
        super::Cred::ROOT,
    );
}

/// `2026-11-01  12:00:00` (apt's log stamp).
fn stamp(clock: u64) -> String {
    let days = (clock / 86_400) as i64;
    let s = clock % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}  {:02}:{:02}:{:02}",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// Installed packages no manual package needs any more.
fn autoremovable(
    db: &[DebInstalled],
    auto: &BTreeSet<String>,
    gone: &BTreeSet<String>,
) -> Vec<String> {
    let mut keep: BTreeSet<String> = BTreeSet::new();
    let mut todo: Vec<String> = db
        .iter()
        .filter(|p| !auto.contains(&p.name) && !gone.contains(&p.name))
        .map(|p| p.name.clone())
        .collect();
    while let Some(n) = todo.pop() {
        if !keep.insert(n.clone()) {
            continue;
        }
        if let Some(p) = db.iter().find(|p| p.name == n) {
            for g in dep_groups(&p.depends)
                .into_iter()
                .chain(dep_groups(&p.recommends))
            {
                for a in g {
                    if let Some(q) = db.iter().find(|q| {
                        q.name == a.name
                            || dep_groups(&q.provides)
                                .iter()
                                .flatten()
                                .any(|x| x.name == a.name)
                    }) && !gone.contains(&q.name)
                    {
                        todo.push(q.name.clone());
                        break;
                    }
                }
            }
        }
    }
    db.iter()
        .filter(|p| auto.contains(&p.name) && !keep.contains(&p.name) && !gone.contains(&p.name))
        .map(|p| p.name.clone())
        .collect()
}

fn remove(
    ctx: &mut Ctx,
    u: &Universe,
    o: &Opts,
    names: &[String],
    autoremove: bool,
    front: Front,
) -> i32 {
    header(ctx, o);
    let lists = lists_present(ctx);
    let db = read_status(ctx);
    let mut auto = read_auto(ctx);
    let mut gone: BTreeSet<String> = BTreeSet::new();
    for n in names {
        let n = n.trim_end_matches(['+', '-']);
        match db.iter().find(|p| p.name == n) {
            Some(_) => {
                gone.insert(n.to_string());
            }
            None if available(u, lists, n).is_some() => {
                if o.quiet < 2 {
                    ctx.out(format!("Package '{n}' is not installed, so not removed\n"));
                }
            }
            None => {
                ctx.err(format!("E: Unable to locate package {n}\n"));
                return 100;
            }
        }
    }
    let orphans = autoremovable(&db, &auto, &gone);
    if autoremove || o.auto_remove {
        gone.extend(orphans.iter().cloned());
    } else if !orphans.is_empty() && o.quiet < 2 {
        show_list(
            ctx,
            "The following packages were automatically installed and are no longer required:",
            &orphans,
        );
        let word = if front == Front::Apt {
            "apt"
        } else {
            "apt-get"
        };
        ctx.out(format!("Use '{word} autoremove' to remove them.\n"));
    }
    let doomed: Vec<&DebInstalled> = db.iter().filter(|p| gone.contains(&p.name)).collect();
    let q = o.quiet < 2;
    if q {
        let shown: Vec<String> = doomed
            .iter()
            .map(|p| format!("{}{}", p.name, if o.purge { "*" } else { "" }))
            .collect();
        show_list(ctx, "The following packages will be REMOVED:", &shown);
        ctx.out(format!(
            "0 upgraded, 0 newly installed, {} to remove and 0 not upgraded.\n",
            doomed.len()
        ));
    }
    if doomed.is_empty() {
        return 0;
    }
    let freed: u64 = doomed.iter().map(|p| p.size_kib * 1024).sum();
    if q {
        ctx.out(format!(
            "After this operation, {}B disk space will be freed.\n",
            size_str(freed as f64)
        ));
    }
    let extra = doomed.iter().any(|p| !names.iter().any(|n| n == &p.name));
    if extra && !o.yes {
        ctx.out("Do you want to continue? [Y/n] ");
        let answer = String::from_utf8_lossy(&ctx.stdin).to_string();
        match answer.lines().next().map(str::trim) {
            Some("") | Some("y") | Some("Y") => {}
            _ => {
                ctx.out("Abort.\n");
                return 1;
            }
        }
    }
    if q {
        ctx.out(format!(
            "(Reading database ... {} files and directories currently installed.)\n",
            dpkg::database_count(ctx)
        ));
    }
    let arch = debarch(ctx);
    for p in &doomed {
        let shown = dpkg::shown_name(&p.name, &p.multi_arch, &arch);
        if q {
            ctx.out(format!("Removing {shown} ({}) ...\n", p.version));
        }
        let files = dpkg::list_files(ctx, &p.name, &p.multi_arch, &arch);
        remove_files(ctx, &files);
        dpkg::forget(ctx, &p.name, &p.multi_arch, &arch);
        auto.remove(&p.name);
    }
    if o.purge {
        for p in &doomed {
            let shown = dpkg::shown_name(&p.name, &p.multi_arch, &arch);
            if q && p.conffiles {
                ctx.out(format!(
                    "Purging configuration files for {shown} ({}) ...\n",
                    p.version
                ));
            }
        }
    }
    write_auto(ctx, &auto);
    0
}

/// `apt-cache`.
pub fn apt_cache(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let Some(u) = the_universe(ctx) else {
        ctx.err("E: This image has no apt package universe\n");
        return 100;
    };
    let lists = lists_present(ctx);
    let db = read_status(ctx);
    let args: Vec<&String> = argv
        .iter()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let Some(cmd) = args.first() else {
        ctx.out("apt 2.6.1 (amd64)\nUsage: apt-cache [options] command\n");
        return 1;
    };
    let arch = debarch(ctx);
    match cmd.as_str() {
        "policy" => {
            for n in &args[1..] {
                let inst = db.iter().find(|p| &p.name == *n);
                let cand = available(u, lists, n).filter(|p| &p.name == *n);
                if inst.is_none() && cand.is_none() {
                    ctx.out(format!("N: Unable to locate package {n}\n"));
                    continue;
                }
                let installed = inst.map(|p| p.version.clone()).unwrap_or("(none)".into());
                let candidate = cand
                    .map(|p| p.version.clone())
                    .unwrap_or_else(|| installed.clone());
                let mut s = format!(
                    "{n}:\n  Installed: {installed}\n  Candidate: {candidate}\n  Version table:\n"
                );
                if let Some(p) = cand {
                    let mark = if inst.is_some_and(|i| i.version == p.version) {
                        "***"
                    } else {
                        "   "
                    };
                    let base = u
                        .archives
                        .get(&suite_of(&p.repo))
                        .cloned()
                        .unwrap_or_default();
                    s.push_str(&format!(
                        " {mark} {} 500\n        500 {base} {} {arch} Packages\n",
                        p.version, p.repo
                    ));
                    if mark == "***" {
                        s.push_str("        100 /var/lib/dpkg/status\n");
                    }
                } else if let Some(i) = inst {
                    s.push_str(&format!(
                        " *** {} 100\n        100 /var/lib/dpkg/status\n",
                        i.version
                    ));
                }
                ctx.out(s);
            }
            0
        }
        "show" => {
            let mut found = false;
            for n in &args[1..] {
                let Some(p) = available(u, lists, n).filter(|p| &p.name == *n) else {
                    continue;
                };
                found = true;
                let parch = if p.arch.is_empty() {
                    arch.clone()
                } else {
                    p.arch.clone()
                };
                let mut s = format!(
                    "Package: {}\nVersion: {}\nInstalled-Size: {}\n",
                    p.name,
                    p.version,
                    kib(p.installed)
                );
                if !u.maintainer.is_empty() {
                    s.push_str(&format!("Maintainer: {}\n", u.maintainer));
                }
                s.push_str(&format!("Architecture: {parch}\n"));
                for (k, v) in [
                    ("Provides", &p.provides),
                    ("Depends", &p.depends),
                    ("Recommends", &p.recommends),
                    ("Suggests", &p.suggests),
                ] {
                    if !v.is_empty() {
                        s.push_str(&format!("{k}: {v}\n"));
                    }
                }
                s.push_str(&format!("Description: {}\n", p.description));
                if !p.url.is_empty() {
                    s.push_str(&format!("Homepage: {}\n", p.url));
                }
                s.push_str(&format!(
                    "Section: {}\nPriority: {}\nFilename: {}\nSize: {}\n\n",
                    if p.section.is_empty() {
                        "misc"
                    } else {
                        &p.section
                    },
                    if p.priority.is_empty() {
                        "optional"
                    } else {
                        &p.priority
                    },
                    pool_path(p, &parch),
                    p.size
                ));
                ctx.out(s);
            }
            if !found {
                ctx.err("E: No packages found\n");
                return 100;
            }
            0
        }
        "search" => {
            let pat = args.get(1).map(|s| s.to_lowercase()).unwrap_or_default();
            let re = regex::Regex::new(&pat).ok();
            let mut hits: Vec<&Pkg> = if lists {
                u.pkgs
                    .iter()
                    .filter(|p| {
                        let hay = format!("{} {}", p.name, p.description).to_lowercase();
                        match &re {
                            Some(r) => r.is_match(&hay),
                            None => hay.contains(&pat),
                        }
                    })
                    .collect()
            } else {
                Vec::new()
            };
            hits.sort_by(|a, b| a.name.cmp(&b.name));
            for p in hits {
                ctx.out(format!("{} - {}\n", p.name, p.description));
            }
            0
        }
        other => {
            ctx.err(format!("E: Invalid operation {other}\n"));
            100
        }
    }
}

/// The status paragraph fields of a package, for `dpkg_paragraph`.
pub(crate) fn status_fields(
    u: &Universe,
    p: &Pkg,
    files: &[crate::catalog::Line],
) -> Map<String, Value> {
    let mut m = Map::new();
    let mut put = |k: &str, v: &str| {
        if !v.is_empty() {
            m.insert(k.to_string(), Value::String(v.to_string()));
        }
    };
    put("Package", &p.name);
    put(
        "Priority",
        if p.priority.is_empty() {
            "optional"
        } else {
            &p.priority
        },
    );
    put(
        "Section",
        if p.section.is_empty() {
            "misc"
        } else {
            &p.section
        },
    );
    put("Installed-Size", &kib(p.installed).to_string());
    if p.arch == "all" {
        put("Architecture", "all");
    }
    put("Multi-Arch", &p.multi_arch);
    if !p.origin.is_empty() {
        put("Source", &p.origin);
    }
    put("Version", &p.version);
    put("Provides", &p.provides);
    put("Depends", &p.depends);
    put("Recommends", &p.recommends);
    put("Suggests", &p.suggests);
    let conf: Vec<String> = files
        .iter()
        .filter(|l| {
            l.path.starts_with("etc/") && matches!(l.kind, crate::catalog::LineKind::File(_))
        })
        .map(|l| {
            format!(
                " /{} {}",
                l.path,
                &dpkg::md5_of(&format!("{}|{}", p.name, l.path))
            )
        })
        .collect();
    if !conf.is_empty() {
        put("Conffiles", &format!("\n{}", conf.join("\n")));
    }
    put("Description", &p.description);
    put("Homepage", &p.url);
    let _ = u;
    m
}

/// The paragraph text (no trailing blank line).
pub(crate) fn paragraph(
    u: &Universe,
    p: &Pkg,
    files: &[crate::catalog::Line],
    vars: &Vars,
) -> String {
    let m = status_fields(u, p, files);
    let maint = (!u.maintainer.is_empty()).then_some(u.maintainer.as_str());
    dpkg_paragraph(&m, maint, vars).0
}
