//! `apk` (apk-tools 2.14): `add`, `del`, `update`, `info`, `search` over the
//! release's universe. The state is the image's `/lib/apk/db/installed` and
//! `/etc/apk/world`; repositories come from `/etc/apk/repositories`. Index
//! files are kept under `/var/cache/apk/` unless `--no-cache` (the layer-size
//! lesson). Output follows apk-tools 2.14's wording (`fetch …`,
//! `(1/5) Installing …`, `Executing ….trigger`, `OK: 13 MiB in 19 packages`).

use super::universe::{Pkg, Universe, universe};
use super::{install_files, is_root, package_lines, remove_files, write_filler, write_text};
use crate::catalog::{ApkPkg, Vars, apk_record};
use crate::userland::proc::Ctx;
use std::collections::{BTreeMap, BTreeSet, HashMap};

const DB: &str = "/lib/apk/db/installed";
const WORLD: &str = "/etc/apk/world";
const SCRIPTS: &str = "/lib/apk/db/scripts.tar";
const CACHE: &str = "/var/cache/apk";

/// One installed package, from the database.
#[derive(Clone, Debug, Default)]
struct Installed {
    name: String,
    version: String,
    size: u64,
    depends: Vec<String>,
    provides: Vec<String>,
    files: Vec<String>,
    record: String,
}

fn read_db(ctx: &Ctx) -> Vec<Installed> {
    let text = ctx.fs.read_string(DB).unwrap_or_default();
    let mut out = Vec::new();
    for rec in text.split("\n\n") {
        if rec.trim().is_empty() {
            continue;
        }
        let mut p = Installed {
            record: format!("{}\n", rec.trim_end_matches('\n')),
            ..Installed::default()
        };
        let mut dir = String::new();
        for line in rec.lines() {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            match k {
                "P" => p.name = v.to_string(),
                "V" => p.version = v.to_string(),
                "I" => p.size = v.parse().unwrap_or(0),
                "D" => p.depends = v.split_whitespace().map(String::from).collect(),
                "p" => p.provides = v.split_whitespace().map(String::from).collect(),
                "F" => dir = v.to_string(),
                "R" => p.files.push(if dir.is_empty() {
                    format!("/{v}")
                } else {
                    format!("/{dir}/{v}")
                }),
                _ => {}
            }
        }
        if !p.name.is_empty() {
            out.push(p);
        }
    }
    out
}

fn write_db(ctx: &mut Ctx, db: &[Installed]) {
    let mut s = String::new();
    for p in db {
        s.push_str(&p.record);
        s.push('\n');
    }
    write_text(ctx, DB, s, 0o644);
}

fn read_world(ctx: &Ctx) -> Vec<String> {
    ctx.fs
        .read_string(WORLD)
        .unwrap_or_default()
        .split_whitespace()
        .map(String::from)
        .collect()
}

/// A dependency token: `name`, `name=1.2`, `name>1`, `so:libc.musl-x86_64.so.1`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Dep {
    name: String,
    op: String,
    version: String,
}

fn parse_dep(t: &str) -> Dep {
    let t = t.trim_start_matches('!');
    match t.find(['=', '<', '>', '~']) {
        Some(i) => {
            let (n, rest) = t.split_at(i);
            let op_len = rest
                .chars()
                .take_while(|c| matches!(c, '=' | '<' | '>' | '~'))
                .count();
            Dep {
                name: n.to_string(),
                op: rest[..op_len].to_string(),
                version: rest[op_len..].to_string(),
            }
        }
        None => Dep {
            name: t.to_string(),
            op: String::new(),
            version: String::new(),
        },
    }
}

impl Dep {
    fn allows(&self, version: &str) -> bool {
        use std::cmp::Ordering::*;
        let c = super::compare_versions(version, &self.version);
        match self.op.as_str() {
            "" => true,
            "=" => c == Equal,
            ">" => c == Greater,
            "<" => c == Less,
            ">=" => c != Less,
            "<=" => c != Greater,
            "~" | "=~" | "~=" => {
                version == self.version
                    || version.starts_with(&format!("{}.", self.version))
                    || version.starts_with(&format!("{}-", self.version))
                    || version.starts_with(&format!("{}_", self.version))
            }
            _ => true,
        }
    }
}

/// Options shared by the subcommands.
#[derive(Default)]
struct Opts {
    no_cache: bool,
    update: bool,
    quiet: bool,
    verbose: u32,
    virtual_name: Option<String>,
}

fn machine(ctx: &Ctx) -> String {
    ctx.world.platform.uname_machine().to_string()
}

fn repositories(ctx: &Ctx) -> Vec<String> {
    ctx.fs
        .read_string("/etc/apk/repositories")
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.trim_end_matches('/').to_string())
        .collect()
}

fn cache_file(url: &str) -> String {
    let d = crate::digest::Digest::of(url.as_bytes()).to_string();
    let hex = d.trim_start_matches("sha256:");
    format!("{CACHE}/APKINDEX.{}.tar.gz", &hex[..8])
}

/// The usable repositories after fetching as needed: the universe's repo
/// names that answered (or are cached). Prints `fetch` lines and warnings.
fn open_repos(ctx: &mut Ctx, u: &Universe, o: &Opts, force: bool) -> (BTreeSet<String>, usize) {
    let arch = machine(ctx);
    let mut ok = BTreeSet::new();
    let mut errors = 0;
    for url in repositories(ctx) {
        let name = url.rsplit('/').next().unwrap_or("").to_string();
        let cached = ctx.fs.exists(&cache_file(&url));
        let fetch = force || o.update || o.no_cache || !cached;
        if fetch {
            if !o.quiet {
                ctx.out(format!("fetch {url}/{arch}/APKINDEX.tar.gz\n"));
            }
            if !ctx.world.network {
                ctx.err(format!(
                    "WARNING: updating and opening {url}: temporary error (try again later)\n"
                ));
                errors += 1;
                if cached && !o.no_cache {
                    ok.insert(name);
                }
                continue;
            }
            if let Some(ix) = u.indexes.iter().find(|i| i.name == name) {
                if !o.no_cache {
                    let len = ix.size_bytes();
                    super::mkdir_p(ctx, CACHE);
                    write_filler(ctx, &cache_file(&url), len, 0o644);
                }
                ok.insert(name);
            }
        } else {
            ok.insert(name);
        }
    }
    (ok, errors)
}

/// `apk`.
pub fn main(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let mut o = Opts::default();
    let mut cmd: Option<String> = None;
    let mut args: Vec<String> = Vec::new();
    let mut it = argv.iter().skip(1);
    let mut extra: BTreeMap<&str, bool> = BTreeMap::new();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--no-cache" => o.no_cache = true,
            "-U" | "--update-cache" | "--update" => o.update = true,
            "--no-progress"
            | "--progress"
            | "--no-interactive"
            | "--allow-untrusted"
            | "--force-broken-world"
            | "--force"
            | "--clean-protected"
            | "--purge"
            | "--latest"
            | "-l"
            | "--upgrade"
            | "-u"
            | "--available"
            | "-a" => {
                extra.insert("", true);
            }
            "-q" | "--quiet" => o.quiet = true,
            "-v" | "--verbose" => o.verbose += 1,
            "-vv" => o.verbose += 2,
            "-t" | "--virtual" => match it.next() {
                Some(n) => o.virtual_name = Some(n.clone()),
                None => {
                    ctx.err("apk: option requires an argument -- 't'\n");
                    return 1;
                }
            },
            "-X" | "--repository" | "-p" | "--root" | "--arch" | "--cache-dir" => {
                it.next();
            }
            "-V" | "--version" => {
                ctx.out(format!(
                    "apk-tools 2.14.4, compiled for {}.\n",
                    machine(ctx)
                ));
                return 0;
            }
            s if s.starts_with("--virtual=") => {
                o.virtual_name = Some(s["--virtual=".len()..].to_string());
            }
            s if s.starts_with('-') && s.len() > 1 && cmd.is_some() && !s.starts_with("--") => {
                // bundled short flags of a subcommand (`apk info -vL`)
                args.push(s.to_string());
            }
            s if s.starts_with('-') && s.len() > 1 => args.push(s.to_string()),
            s => {
                if cmd.is_none() {
                    cmd = Some(s.to_string());
                } else {
                    args.push(s.to_string());
                }
            }
        }
    }
    let Some(cmd) = cmd else {
        usage(ctx);
        return 1;
    };
    let uname = super::universe_name(&ctx.os).unwrap_or_default();
    let Some(u) = universe(&uname) else {
        ctx.err(format!(
            "ERROR: this image has no apk package universe ({})\n",
            if uname.is_empty() {
                "unknown OS"
            } else {
                &uname
            }
        ));
        return 1;
    };
    let mutating = matches!(cmd.as_str(), "add" | "del" | "update" | "upgrade" | "fix");
    if mutating && !is_root(ctx) {
        ctx.err("ERROR: Unable to lock database: Permission denied\n");
        ctx.err("ERROR: Failed to open apk database: Permission denied\n");
        return 99;
    }
    match cmd.as_str() {
        "add" => add(ctx, u, &o, &args),
        "del" => del(ctx, u, &o, &args),
        "update" => update(ctx, u, &o),
        "upgrade" => {
            let (_, errors) = open_repos(ctx, u, &o, false);
            let db = read_db(ctx);
            finish(ctx, &o, &db, errors)
        }
        "info" => info(ctx, u, &o, &args),
        "search" => search(ctx, u, &o, &args),
        "cache" => {
            if args.first().map(String::as_str) == Some("clean") {
                for f in ctx.fs.read_dir(CACHE).unwrap_or_default() {
                    let _ = ctx.fs.remove(&format!("{CACHE}/{f}"), false);
                }
            }
            0
        }
        _ => {
            usage(ctx);
            1
        }
    }
}

fn usage(ctx: &mut Ctx) {
    ctx.out(format!(
        "apk-tools 2.14.4, compiled for {}.\n\nusage: apk [<OPTIONS>...] COMMAND [<ARGUMENTS>...]\n\nPackage installation and removal:\n  add        Add packages to WORLD and commit changes\n  del        Remove packages from WORLD and commit changes\n\nSystem maintenance:\n  fix        Fix, reinstall or upgrade packages without modifying WORLD\n  update     Update repository indexes\n  upgrade    Install upgrades available from repositories\n  cache      Manage the local package cache\n\nQuerying package information:\n  info       Give detailed information about packages or repositories\n  list       List packages matching a pattern or other criteria\n  dot        Render dependencies as graphviz graphs\n  policy     Show repository policy for packages\n  search     Search for packages by name or description\n\nRepository maintenance:\n  index      Create repository index file from packages\n  fetch      Download packages from global repositories to a local directory\n  manifest   Show checksums of package contents\n  verify     Verify package integrity and signature\n\nMiscellaneous:\n  audit      Audit system for changes\n  stats      Show statistics about repositories and installations\n  version    Compare package versions or perform tests on version strings\n\nThis apk has coffee making abilities.\n",
        machine(ctx)
    ));
}

fn update(ctx: &mut Ctx, u: &Universe, o: &Opts) -> i32 {
    let (ok, errors) = open_repos(ctx, u, o, true);
    let mut count = 0u64;
    for url in repositories(ctx) {
        let name = url.rsplit('/').next().unwrap_or("");
        if !ok.contains(name) {
            continue;
        }
        if let Some(ix) = u.indexes.iter().find(|i| i.name == name) {
            if !o.quiet {
                ctx.out(format!("{} [{url}]\n", ix.describe));
            }
            count += 1;
        }
    }
    let avail = if count == 0 {
        read_db(ctx).len() as u64
    } else if count as usize == u.indexes.len() {
        u.available
    } else {
        u.available * 2 / 5
    };
    if errors > 0 {
        ctx.out(format!(
            "{errors} error{}; {avail} distinct packages available\n",
            if errors > 1 { "s" } else { "" }
        ));
        return errors as i32;
    }
    ctx.out(format!("OK: {avail} distinct packages available\n"));
    0
}

/// What the resolver decided.
struct Plan<'u> {
    install: Vec<&'u Pkg>,
}

/// Why packages could not be selected (the lines under
/// `ERROR: unable to select packages:`).
struct Unsatisfied(Vec<String>);

fn satisfied_by_installed(db: &[Installed], d: &Dep) -> bool {
    db.iter().any(|p| {
        (p.name == d.name && d.allows(&p.version))
            || p.provides.iter().any(|x| provided_name(x) == d.name)
    })
}

/// `so:libc.musl-x86_64.so.1=1` → `so:libc.musl-x86_64.so.1`.
fn provided_name(x: &str) -> &str {
    x.split('=').next().unwrap_or(x)
}

fn pick<'u>(u: &'u Universe, repos: &BTreeSet<String>, name: &str) -> Option<&'u Pkg> {
    let ok = |p: &&Pkg| repos.contains(&p.repo);
    u.get(name)
        .filter(ok)
        .or_else(|| u.providers(name).into_iter().find(ok))
}

fn resolve<'u>(
    ctx: &Ctx,
    u: &'u Universe,
    repos: &BTreeSet<String>,
    db: &[Installed],
    wanted: &[Dep],
) -> Result<Plan<'u>, Unsatisfied> {
    let mut chosen: Vec<&Pkg> = Vec::new();
    let mut names: BTreeSet<String> = BTreeSet::new();
    let mut errors: Vec<String> = Vec::new();
    let mut todo: Vec<(Dep, String)> = wanted
        .iter()
        .rev()
        .map(|d| (d.clone(), format!("world[{}{}{}]", d.name, d.op, d.version)))
        .collect();
    while let Some((d, by)) = todo.pop() {
        if ctx.step().is_err() {
            break;
        }
        let installed_ok = satisfied_by_installed(db, &d);
        let chosen_ok = chosen.iter().any(|p| {
            (p.name == d.name && d.allows(&p.version))
                || p.provides
                    .split_whitespace()
                    .any(|x| provided_name(x) == d.name)
        });
        if chosen_ok || (installed_ok && d.op.is_empty()) {
            continue;
        }
        if installed_ok {
            continue;
        }
        match pick(u, repos, &d.name) {
            None => errors.push(format!(
                "  {} (no such package):\n    required by: {by}\n",
                d.name
            )),
            Some(p) if !d.allows(&p.version) => {
                errors.push(format!("  {}-{}:\n    breaks: {by}\n", p.name, p.version))
            }
            Some(p) => {
                if names.insert(p.name.clone()) {
                    chosen.push(p);
                    for t in p.depends.split_whitespace().rev() {
                        if t.starts_with('!') {
                            continue;
                        }
                        let dep = parse_dep(&expand_arch(t, ctx));
                        todo.push((dep, format!("{}-{}[{}]", p.name, p.version, t)));
                    }
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(Unsatisfied(errors));
    }
    // install_if: packages whose conditions are all met now.
    let mut added = true;
    while added {
        added = false;
        for p in &u.pkgs {
            if p.install_if.is_empty() || names.contains(&p.name) || !repos.contains(&p.repo) {
                continue;
            }
            if db.iter().any(|i| i.name == p.name) {
                continue;
            }
            let all = p.install_if.split_whitespace().all(|t| {
                let d = parse_dep(t);
                satisfied_by_installed(db, &d) || names.contains(&d.name)
            });
            let any_new = p
                .install_if
                .split_whitespace()
                .any(|t| names.contains(&parse_dep(t).name));
            if all && any_new {
                names.insert(p.name.clone());
                chosen.push(p);
                added = true;
            }
        }
    }
    // Dependencies first; among the ready ones, by name. Names each
    // package provides and needs are computed once.
    let mut left: Vec<&Pkg> = chosen;
    left.sort_by(|a, b| a.name.cmp(&b.name));
    let gives: Vec<BTreeSet<String>> = left
        .iter()
        .map(|q| {
            std::iter::once(q.name.clone())
                .chain(
                    q.provides
                        .split_whitespace()
                        .map(|x| provided_name(x).to_string()),
                )
                .collect()
        })
        .collect();
    let needs: Vec<Vec<String>> = left
        .iter()
        .map(|p| {
            p.depends
                .split_whitespace()
                .filter(|t| !t.starts_with('!'))
                .map(|t| parse_dep(&expand_arch(t, ctx)).name)
                .collect()
        })
        .collect();
    let mut alive: Vec<usize> = (0..left.len()).collect();
    let mut order: Vec<&Pkg> = Vec::new();
    while !alive.is_empty() {
        let pos = alive
            .iter()
            .position(|&i| {
                needs[i]
                    .iter()
                    .all(|d| !alive.iter().any(|&j| j != i && gives[j].contains(d)))
            })
            .unwrap_or(0);
        order.push(left[alive.remove(pos)]);
    }
    Ok(Plan { install: order })
}

fn expand_arch(t: &str, ctx: &Ctx) -> String {
    t.replace("{arch}", ctx.world.platform.uname_machine())
}

fn add(ctx: &mut Ctx, u: &Universe, o: &Opts, args: &[String]) -> i32 {
    let names: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    if names.is_empty() && o.virtual_name.is_none() {
        ctx.err("ERROR: No packages specified\n");
        return 1;
    }
    let (repos, _) = open_repos(ctx, u, o, false);
    let mut db = read_db(ctx);
    let wanted: Vec<Dep> = names.iter().map(|n| parse_dep(n)).collect();
    let plan = match resolve(ctx, u, &repos, &db, &wanted) {
        Ok(p) => p,
        Err(Unsatisfied(lines)) => {
            ctx.err("ERROR: unable to select packages:\n");
            for l in lines {
                ctx.err(l);
            }
            return 1;
        }
    };
    let vars = Vars::of(&ctx.world.platform);
    let virtual_version = o
        .virtual_name
        .as_ref()
        .map(|_| date_version(ctx.world.clock));
    let total = plan.install.len() + usize::from(o.virtual_name.is_some());
    let mut n = 0;
    let mut touched_bin = false;
    let mut touched_certs = false;
    for p in &plan.install {
        n += 1;
        if !o.quiet {
            ctx.out(format!(
                "({n}/{total}) Installing {} ({})\n",
                p.name, p.version
            ));
        }
        for e in &p.effects {
            if let Some(script) = e.strip_prefix("pre:") {
                if !o.quiet {
                    ctx.out(format!("Executing {}-{}.pre-install\n", p.name, p.version));
                }
                run_effect(ctx, script);
                append_script(ctx, p, "pre-install");
            }
        }
        let lines = package_lines(p, &vars, false);
        install_files(ctx, u, p, &lines);
        for l in &lines {
            let path = format!("/{}", l.path);
            if ["/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/"]
                .iter()
                .any(|d| path.starts_with(d))
            {
                touched_bin = true;
            }
            if path.starts_with("/usr/share/ca-certificates/")
                || path.starts_with("/etc/ssl/certs/")
            {
                touched_certs = true;
            }
        }
        for e in &p.effects {
            if let Some(script) = e.strip_prefix("post:") {
                if !o.quiet {
                    ctx.out(format!("Executing {}-{}.post-install\n", p.name, p.version));
                }
                run_effect(ctx, script);
                append_script(ctx, p, "post-install");
            }
        }
        let rec = ApkPkg {
            name: p.name.clone(),
            version: p.version.clone(),
            description: p.description.clone(),
            url: p.url.clone(),
            license: p.license.clone(),
            origin: (!p.origin.is_empty()).then(|| p.origin.clone()),
            installed_size: p.installed,
            size: Some(p.size),
            depends: (!p.depends.is_empty()).then(|| p.depends.clone()),
            provides: (!p.provides.is_empty()).then(|| p.provides.clone()),
            install_if: (!p.install_if.is_empty()).then(|| p.install_if.clone()),
            ..ApkPkg::default()
        };
        let record = apk_record(&rec, &lines, &vars);
        db.retain(|x| x.name != p.name);
        db.push(Installed {
            name: p.name.clone(),
            version: p.version.clone(),
            size: p.installed,
            depends: vars
                .expand(&p.depends)
                .split_whitespace()
                .map(String::from)
                .collect(),
            provides: vars
                .expand(&p.provides)
                .split_whitespace()
                .map(String::from)
                .collect(),
            files: Vec::new(),
            record,
        });
    }
    let mut world = read_world(ctx);
    if let (Some(v), Some(ver)) = (&o.virtual_name, &virtual_version) {
        n += 1;
        if !o.quiet {
            ctx.out(format!("({n}/{total}) Installing {v} ({ver})\n"));
        }
        let deps: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let record = format!(
            "P:{v}\nV:{ver}\nA:noarch\nS:0\nI:0\nT:virtual meta package\nU:\nL:\nD:{}\n",
            deps.join(" ")
        );
        db.retain(|x| &x.name != v);
        db.push(Installed {
            name: v.clone(),
            version: ver.clone(),
            depends: deps,
            record,
            ..Installed::default()
        });
        world.push(v.clone());
    } else {
        for n in &names {
            let d = parse_dep(n);
            world.retain(|w| parse_dep(w).name != d.name);
            world.push(n.to_string());
        }
    }
    world.sort();
    world.dedup();
    write_text(ctx, WORLD, format!("{}\n", world.join("\n")), 0o644);
    write_db(ctx, &db);
    // Triggers run in database order.
    if !plan.install.is_empty() {
        for p in &db {
            let fire = match p.name.as_str() {
                "busybox" => touched_bin,
                "ca-certificates" => {
                    touched_certs || plan.install.iter().any(|x| x.name == "ca-certificates")
                }
                _ => false,
            };
            if fire {
                if !o.quiet {
                    ctx.out(format!("Executing {}-{}.trigger\n", p.name, p.version));
                }
                if p.name == "ca-certificates" {
                    rebuild_bundle(ctx);
                }
            }
        }
    }
    finish(ctx, o, &db, 0)
}

fn finish(ctx: &mut Ctx, o: &Opts, db: &[Installed], errors: usize) -> i32 {
    let bytes: u64 = db.iter().map(|p| p.size).sum();
    if !o.quiet {
        let head = if errors > 0 {
            format!("{errors} error{};", if errors > 1 { "s" } else { "" })
        } else {
            "OK:".into()
        };
        ctx.out(format!(
            "{head} {} MiB in {} packages\n",
            bytes / (1024 * 1024),
            db.len()
        ));
    }
    errors as i32
}

/// `YYYYMMDD.HHMMSS` of the clock (the version of a `--virtual` package).
fn date_version(clock: u64) -> String {
    let days = (clock / 86_400) as i64;
    let secs = clock % 86_400;
    // civil from days (Howard Hinnant)
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
        "{y:04}{m:02}{d:02}.{:02}{:02}{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// What an install script does, by keyword: `user:NAME:HOME` adds a system
/// group and user as busybox `addgroup -S` / `adduser -S -D -H` do.
fn run_effect(ctx: &mut Ctx, script: &str) {
    if let Some(shell) = script.strip_prefix("shell=") {
        let mut t = ctx.fs.read_string("/etc/shells").unwrap_or_default();
        if !t.lines().any(|l| l == shell) {
            if !t.is_empty() && !t.ends_with('\n') {
                t.push('\n');
            }
            t.push_str(shell);
            t.push('\n');
            write_text(ctx, "/etc/shells", t, 0o644);
        }
    }
    if let Some(spec) = script.strip_prefix("user=") {
        let mut it = spec.split(',');
        let name = it.next().unwrap_or("");
        let home = it.next().unwrap_or("/dev/null");
        add_system_user(ctx, name, home, "/sbin/nologin");
    }
}

/// Adds `name` as a system group (first free gid from 100) and a system
/// user in it (first free uid from 100), unless they exist.
pub(crate) fn add_system_user(ctx: &mut Ctx, name: &str, home: &str, shell: &str) {
    let group = ctx.fs.read_string("/etc/group").unwrap_or_default();
    let passwd = ctx.fs.read_string("/etc/passwd").unwrap_or_default();
    let ids = |text: &str| -> BTreeSet<u32> {
        text.lines()
            .filter_map(|l| l.split(':').nth(2).and_then(|x| x.parse().ok()))
            .collect()
    };
    let gid = match group
        .lines()
        .find(|l| l.split(':').next() == Some(name))
        .and_then(|l| l.split(':').nth(2).and_then(|x| x.parse::<u32>().ok()))
    {
        Some(g) => g,
        None => {
            let used = ids(&group);
            let g = (100..1000).find(|g| !used.contains(g)).unwrap_or(999);
            let mut t = group.clone();
            if !t.is_empty() && !t.ends_with('\n') {
                t.push('\n');
            }
            t.push_str(&format!("{name}:x:{g}:{name}\n"));
            write_text(ctx, "/etc/group", t, 0o644);
            g
        }
    };
    if passwd.lines().any(|l| l.split(':').next() == Some(name)) {
        return;
    }
    let used = ids(&passwd);
    let uid = (100..1000).find(|u| !used.contains(u)).unwrap_or(999);
    let mut t = passwd;
    if !t.is_empty() && !t.ends_with('\n') {
        t.push('\n');
    }
    t.push_str(&format!("{name}:x:{uid}:{gid}:{name}:{home}:{shell}\n"));
    write_text(ctx, "/etc/passwd", t, 0o644);
    if let Ok(mut s) = ctx.fs.read_string("/etc/shadow") {
        if !s.is_empty() && !s.ends_with('\n') {
            s.push('\n');
        }
        s.push_str(&format!("{name}:!::0:::::\n"));
        let _ = ctx.fs.write(
            "/etc/shadow",
            crate::layer::Content::bytes(s),
            0o640,
            super::Cred::ROOT,
        );
    }
}

/// Appends a package script to `scripts.tar` (a ustar member).
fn append_script(ctx: &mut Ctx, p: &Pkg, kind: &str) {
    let mut old = ctx.fs.read(SCRIPTS).unwrap_or_default();
    while old.len() >= 512 && old[old.len() - 512..].iter().all(|b| *b == 0) {
        old.truncate(old.len() - 512);
    }
    let body = format!("#!/bin/sh\n# {} {kind}\nexit 0\n", p.name).into_bytes();
    let mut h = tar::Header::new_ustar();
    let name = format!("{}-{}.{}", p.name, p.version, kind);
    let _ = h.set_path(&name);
    h.set_size(body.len() as u64);
    h.set_mode(0o755);
    h.set_mtime(ctx.world.clock);
    h.set_cksum();
    old.extend_from_slice(h.as_bytes());
    old.extend_from_slice(&body);
    old.resize(old.len().div_ceil(512) * 512, 0);
    old.extend_from_slice(&[0u8; 1024]);
    write_text(ctx, SCRIPTS, old, 0o644);
}

/// `update-ca-certificates --fresh` as the trigger runs it: the bundle is
/// the concatenation of the certificates (filler of their total size).
fn rebuild_bundle(ctx: &mut Ctx) {
    let mut total = 0u64;
    for dir in [
        "/usr/share/ca-certificates/mozilla",
        "/usr/local/share/ca-certificates",
    ] {
        for f in ctx.fs.read_dir(dir).unwrap_or_default() {
            if let Ok(st) = ctx.fs.stat(&format!("{dir}/{f}"), true) {
                total += st.size;
            }
        }
    }
    if total > 0 {
        write_filler(ctx, "/etc/ssl/certs/ca-certificates.crt", total, 0o644);
    }
}

fn del(ctx: &mut Ctx, _u: &Universe, o: &Opts, args: &[String]) -> i32 {
    let names: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let mut world = read_world(ctx);
    let mut db = read_db(ctx);
    for n in &names {
        let d = parse_dep(n);
        world.retain(|w| parse_dep(w).name != d.name);
    }
    // Keep what the remaining world needs.
    let mut keep: BTreeSet<String> = BTreeSet::new();
    let by_provide: HashMap<String, String> = db
        .iter()
        .flat_map(|p| {
            p.provides
                .iter()
                .map(|x| (parse_dep(x).name, p.name.clone()))
                .chain(std::iter::once((p.name.clone(), p.name.clone())))
                .collect::<Vec<_>>()
        })
        .collect();
    let mut todo: Vec<String> = world.iter().map(|w| parse_dep(w).name).collect();
    while let Some(n) = todo.pop() {
        if ctx.step().is_err() {
            break;
        }
        let Some(real) = by_provide.get(&n) else {
            continue;
        };
        if keep.insert(real.clone())
            && let Some(p) = db.iter().find(|p| &p.name == real)
        {
            todo.extend(p.depends.iter().map(|d| parse_dep(d).name));
        }
    }
    // Only what the removed names pulled in may go (base packages that the
    // world does not name stay); install_if packages stay while their
    // conditions hold (ssl_client).
    let mut reach: BTreeSet<String> = BTreeSet::new();
    let mut todo: Vec<String> = names.iter().map(|n| parse_dep(n).name).collect();
    while let Some(n) = todo.pop() {
        if ctx.step().is_err() {
            break;
        }
        let Some(real) = by_provide.get(&n) else {
            continue;
        };
        if reach.insert(real.clone())
            && let Some(p) = db.iter().find(|p| &p.name == real)
        {
            todo.extend(p.depends.iter().map(|d| parse_dep(d).name));
        }
    }
    let doomed: Vec<Installed> = db
        .iter()
        .filter(|p| {
            reach.contains(&p.name) && !keep.contains(&p.name) && !p.record.contains("\ni:")
        })
        .cloned()
        .collect();
    let total = doomed.len();
    let mut touched_bin = false;
    for (i, p) in doomed.iter().rev().enumerate() {
        if !o.quiet {
            ctx.out(format!(
                "({}/{total}) Purging {} ({})\n",
                i + 1,
                p.name,
                p.version
            ));
        }
        if p.files.iter().any(|f| {
            f.starts_with("/bin/")
                || f.starts_with("/usr/bin/")
                || f.starts_with("/sbin/")
                || f.starts_with("/usr/sbin/")
        }) {
            touched_bin = true;
        }
        remove_files(ctx, &p.files);
    }
    db.retain(|p| !doomed.iter().any(|d| d.name == p.name));
    world.sort();
    world.dedup();
    write_text(ctx, WORLD, format!("{}\n", world.join("\n")), 0o644);
    write_db(ctx, &db);
    if touched_bin
        && let Some(b) = db.iter().find(|p| p.name == "busybox")
        && !o.quiet
    {
        ctx.out(format!("Executing busybox-{}.trigger\n", b.version));
    }
    finish(ctx, o, &db, 0)
}

fn info(ctx: &mut Ctx, u: &Universe, o: &Opts, args: &[String]) -> i32 {
    let db = read_db(ctx);
    let flags: String = args
        .iter()
        .filter(|a| a.starts_with('-') && !a.starts_with("--"))
        .map(|a| a.trim_start_matches('-'))
        .collect();
    let verbose = o.verbose + flags.matches('v').count() as u32;
    let names: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    if names.is_empty() {
        for p in &db {
            if verbose > 0 {
                ctx.out(format!("{}-{}\n", p.name, p.version));
            } else {
                ctx.out(format!("{}\n", p.name));
            }
        }
        return 0;
    }
    if flags.contains('e') || args.iter().any(|a| a == "--installed") {
        let mut missing = 0;
        for n in &names {
            if db.iter().any(|p| &p.name == *n) {
                ctx.out(format!("{n}\n"));
            } else {
                missing += 1;
            }
        }
        return missing;
    }
    for n in &names {
        let inst = db.iter().find(|p| &p.name == *n);
        if flags.contains('L') || args.iter().any(|a| a == "--contents") {
            if let Some(p) = inst {
                ctx.out(format!("{}-{} contains:\n", p.name, p.version));
                for f in &p.files {
                    ctx.out(format!("{}\n", f.trim_start_matches('/')));
                }
                ctx.out("\n");
            }
            continue;
        }
        let (name, version, size, desc, url) = match (inst, u.get(n)) {
            (Some(i), up) => (
                i.name.clone(),
                i.version.clone(),
                i.size,
                field(&i.record, "T"),
                up.map(|p| p.url.clone())
                    .unwrap_or_else(|| field(&i.record, "U")),
            ),
            (None, Some(p)) => (
                p.name.clone(),
                p.version.clone(),
                p.installed,
                p.description.clone(),
                p.url.clone(),
            ),
            (None, None) => continue,
        };
        ctx.out(format!(
            "{name}-{version} description:\n{desc}\n\n{name}-{version} webpage:\n{url}\n\n{name}-{version} installed size:\n{}\n\n",
            human_kib(size)
        ));
    }
    0
}

fn field(record: &str, k: &str) -> String {
    record
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{k}:")))
        .unwrap_or("")
        .to_string()
}

/// apk's size display (`446 KiB`, `4 MiB`).
fn human_kib(bytes: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB"];
    let mut v = bytes;
    let mut i = 0;
    while v >= 10 * 1024 && i < units.len() - 1 {
        v /= 1024;
        i += 1;
    }
    format!("{v} {}", units[i])
}

fn search(ctx: &mut Ctx, u: &Universe, o: &Opts, args: &[String]) -> i32 {
    let flags: String = args
        .iter()
        .filter(|a| a.starts_with('-') && !a.starts_with("--"))
        .map(|a| a.trim_start_matches('-'))
        .collect();
    let verbose = o.verbose + flags.matches('v').count() as u32;
    let exact = flags.contains('x') || args.iter().any(|a| a == "--exact");
    let pats: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let mut hits: Vec<&Pkg> = u
        .pkgs
        .iter()
        .filter(|p| {
            pats.is_empty()
                || pats.iter().any(|pat| {
                    if exact {
                        p.name == **pat
                    } else {
                        p.name.contains(pat.trim_matches('*'))
                    }
                })
        })
        .collect();
    hits.sort_by(|a, b| a.name.cmp(&b.name));
    for p in hits {
        if verbose > 0 {
            ctx.out(format!("{}-{} - {}\n", p.name, p.version, p.description));
        } else {
            ctx.out(format!("{}-{}\n", p.name, p.version));
        }
    }
    0
}
