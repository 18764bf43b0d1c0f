//! `pip` (24.3.1, as the python:3.12 images ship it) over the fixture PyPI,
//! and `python` (3.12.8): `--version`, `-c`, `-m pip`, `-m http.server`,
//! and scripts run approximately (imports checked against what is
//! installed, top-level `print` of literals, servers recognised), plus the
//! `gunicorn`/`uvicorn`/`flask` console scripts pip installs.

use super::universe::{PyPkg, normalize_py, universe};
use super::{cmp_versions, filler, hex_of, put_file, put_text};
use crate::layer::Content;
use crate::userland::proc::Ctx;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

const PY_VERSION: &str = "3.12.8";
const PIP_VERSION: &str = "24.3.1";
/// The newest pip in the fixture PyPI (what the `[notice]` names).
const PIP_LATEST: &str = "25.3";
const SITE: &str = "/usr/local/lib/python3.12/site-packages";

/// pip's `format_size` (pip/_internal/utils/misc.py, 24.x).
pub fn format_size(bytes: u64) -> String {
    let b = bytes as f64;
    if bytes > 1_000_000 {
        format!("{:.1} MB", b / 1_000_000.0)
    } else if bytes > 10_000 {
        format!("{} kB", bytes / 1000)
    } else if bytes > 1000 {
        format!("{:.1} kB", b / 1000.0)
    } else {
        format!("{bytes} bytes")
    }
}

/// One requirement: `name[extras] specs`.
#[derive(Clone, Debug, PartialEq)]
pub struct Req {
    pub name: String,
    pub specs: Vec<(String, String)>,
    /// The text as written (for `Collecting …`).
    pub text: String,
}

/// Parses a PEP 508 requirement (markers after `;` are dropped; URLs and
/// options are not requirements here: None).
pub fn parse_req(line: &str) -> Option<Req> {
    let line = line.split(" #").next()?.trim();
    let text = line.split(';').next()?.trim().to_string();
    if text.is_empty() || text.starts_with('-') || text.contains("://") {
        return None;
    }
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
        .unwrap_or(text.len());
    let name = text[..end].to_string();
    if name.is_empty() {
        return None;
    }
    let mut rest = text[end..].trim();
    if rest.starts_with('[') {
        rest = rest.split_once(']').map(|x| x.1).unwrap_or("").trim();
    }
    let rest = rest.trim_start_matches('(').trim_end_matches(')');
    let mut specs = Vec::new();
    for s in rest.split(',') {
        let s = s.trim();
        if s.is_empty() {
            continue;
        }
        let op_len = s.find(|c: char| !"=<>!~".contains(c)).unwrap_or(s.len());
        let (op, v) = s.split_at(op_len);
        if op.is_empty() {
            return None;
        }
        specs.push((op.to_string(), v.trim().to_string()));
    }
    Some(Req { name, specs, text })
}

/// Whether `v` satisfies every spec.
pub fn satisfies(v: &str, specs: &[(String, String)]) -> bool {
    specs.iter().all(|(op, want)| {
        if let Some(prefix) = want.strip_suffix(".*") {
            let m = v == prefix || v.starts_with(&format!("{prefix}."));
            return if op == "!=" { !m } else { m };
        }
        let o = cmp_versions(v, want);
        match op.as_str() {
            "==" | "===" => o == Ordering::Equal,
            "!=" => o != Ordering::Equal,
            ">=" => o != Ordering::Less,
            "<=" => o != Ordering::Greater,
            ">" => o == Ordering::Greater,
            "<" => o == Ordering::Less,
            "~=" => {
                let mut parts: Vec<&str> = want.split('.').collect();
                if parts.len() > 1 {
                    parts.pop();
                }
                let prefix = parts.join(".");
                o != Ordering::Less && (v == prefix || v.starts_with(&format!("{prefix}.")))
            }
            _ => false,
        }
    })
}

/// An installed distribution found in a site-packages directory.
#[derive(Clone, Debug)]
struct Installed {
    name: String,
    version: String,
    dist_info: String,
}

fn installed(ctx: &Ctx, site: &str) -> BTreeMap<String, Installed> {
    let mut out = BTreeMap::new();
    for n in ctx.fs.read_dir(site).unwrap_or_default() {
        if !n.ends_with(".dist-info") {
            continue;
        }
        let dir = format!("{site}/{n}");
        let meta = ctx
            .fs
            .read_string(&format!("{dir}/METADATA"))
            .unwrap_or_default();
        let field = |k: &str| {
            meta.lines()
                .find_map(|l| l.strip_prefix(k))
                .map(|v| v.trim().to_string())
        };
        if let (Some(name), Some(version)) = (field("Name:"), field("Version:")) {
            out.insert(
                normalize_py(&name),
                Installed {
                    name,
                    version,
                    dist_info: dir,
                },
            );
        }
    }
    out
}

/// Module names importable from a site-packages directory.
fn importable(ctx: &Ctx, site: &str) -> BTreeSet<String> {
    ctx.fs
        .read_dir(site)
        .unwrap_or_default()
        .into_iter()
        .filter(|n| !n.ends_with(".dist-info"))
        .map(|n| n.split('.').next().unwrap_or_default().to_string())
        .collect()
}

/// `pip`, `pip3`, `pip3.12`, `python -m pip`.
pub fn pip_main(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let args: Vec<&str> = argv.iter().skip(1).map(String::as_str).collect();
    let Some(pos) = args.iter().position(|a| !a.starts_with('-')) else {
        if args.contains(&"--version") || args.contains(&"-V") {
            ctx.out(format!("pip {PIP_VERSION} from {SITE}/pip (python 3.12)\n"));
            return 0;
        }
        ctx.out("\nUsage:   \n  pip <command> [options]\n\n");
        return 0;
    };
    let rest = &args[pos + 1..];
    match args[pos] {
        "install" => pip_install(ctx, rest),
        "list" => pip_list(ctx, rest),
        "freeze" => pip_freeze(ctx),
        "uninstall" => pip_uninstall(ctx, rest),
        other => {
            ctx.err(format!("ERROR: unknown command \"{other}\"\n"));
            1
        }
    }
}

struct Plan {
    /// Normalized name → (pkg, version, requirement text, parent text).
    picks: Vec<(String, String)>,
}

/// `$HOME` without a trailing `/` (so `/` gives `""` and `~/.local` is
/// `/.local`).
fn home(ctx: &Ctx) -> String {
    ctx.env
        .get("HOME")
        .unwrap_or("/root")
        .trim_end_matches('/')
        .to_string()
}

fn wheel_name(p: &PyPkg, v: &str, ctx: &Ctx) -> String {
    let base = normalize_py(&p.name).replace('-', "_");
    let tag = if p.binary {
        let arch = match ctx.world.platform.architecture.as_str() {
            "arm64" => "aarch64",
            _ => "x86_64",
        };
        if ctx.os.family == crate::userland::os::Family::Alpine {
            format!("cp312-cp312-musllinux_1_2_{arch}")
        } else {
            format!("cp312-cp312-manylinux_2_17_{arch}.manylinux2014_{arch}")
        }
    } else {
        "py3-none-any".to_string()
    };
    format!("{base}-{v}-{tag}.whl")
}

fn network_failure(ctx: &Ctx, req: &Req) {
    for total in (0..5).rev() {
        ctx.err(format!(
            "WARNING: Retrying (Retry(total={total}, connect=None, read=None, redirect=None, status=None)) after connection broken by 'NewConnectionError('<pip._vendor.urllib3.connection.HTTPSConnection object at 0x7f5c8e2a1d90>: Failed to establish a new connection: [Errno -3] Temporary failure in name resolution')': /simple/{}/\n",
            normalize_py(&req.name)
        ));
    }
    no_version(ctx, req, &[]);
}

fn no_version(ctx: &Ctx, req: &Req, versions: &[String]) {
    let from = if versions.is_empty() {
        "none".to_string()
    } else {
        versions.join(", ")
    };
    ctx.err(format!(
        "ERROR: Could not find a version that satisfies the requirement {} (from versions: {from})\nERROR: No matching distribution found for {}\n",
        req.text, req.text
    ));
}

fn pip_install(ctx: &mut Ctx, args: &[&str]) -> i32 {
    let mut reqs: Vec<(Req, String)> = Vec::new();
    let mut no_cache = ctx
        .env
        .get("PIP_NO_CACHE_DIR")
        .is_some_and(|v| !v.is_empty() && v != "0" && v != "false");
    let mut user = false;
    let mut upgrade = false;
    let mut target: Option<String> = None;
    let mut quiet = false;
    let mut i = 0;
    while i < args.len() {
        let a = args[i];
        match a {
            "--no-cache-dir" => no_cache = true,
            "--user" => user = true,
            "-U" | "--upgrade" => upgrade = true,
            "-q" | "--quiet" => quiet = true,
            "--root-user-action=ignore"
            | "--disable-pip-version-check"
            | "--no-warn-script-location" => {}
            "--root-user-action" => i += 1,
            "-t" | "--target" => {
                i += 1;
                target = args.get(i).map(|t| ctx.path(t));
            }
            "-e" | "--editable" => {
                i += 1;
            }
            "-r" | "--requirement" => {
                i += 1;
                let Some(f) = args.get(i) else {
                    ctx.err("\nUsage:   \n  pip install [options] <requirement specifier> [package-index-options] ...\n\n-r option requires 1 argument\n");
                    return 2;
                };
                let path = ctx.path(f);
                let Ok(text) = ctx.fs.read_string(&path) else {
                    ctx.err(format!(
                        "ERROR: Could not open requirements file: [Errno 2] No such file or directory: '{f}'\n"
                    ));
                    return 1;
                };
                for (n, line) in text.lines().enumerate() {
                    if ctx.step().is_err() {
                        return 1;
                    }
                    let l = line.trim();
                    if l.is_empty() || l.starts_with('#') {
                        continue;
                    }
                    match parse_req(l) {
                        Some(r) => reqs.push((r, format!("-r {f} (line {})", n + 1))),
                        None if l.starts_with('-') => {}
                        None => {
                            ctx.err(format!(
                                "ERROR: Invalid requirement: '{l}': Expected package name at the start of dependency specifier\n    {l}\n    ^ (from line {} of {f})\n",
                                n + 1
                            ));
                            return 1;
                        }
                    }
                }
            }
            s if s.starts_with("--target=") => target = Some(ctx.path(&s[9..])),
            s if s.starts_with('-') => {}
            s => match parse_req(s) {
                Some(r) => reqs.push((r, String::new())),
                None => {
                    ctx.err(format!(
                        "ERROR: Invalid requirement: '{s}': Expected package name at the start of dependency specifier\n    {s}\n    ^\n"
                    ));
                    return 1;
                }
            },
        }
        i += 1;
    }
    if reqs.is_empty() {
        ctx.err(
            "ERROR: You must give at least one requirement to install (see \"pip help install\")\n",
        );
        return 1;
    }
    let h = home(ctx);
    let (mut site, mut bin) = match &target {
        Some(t) => (t.clone(), format!("{t}/bin")),
        None if user => (
            format!("{h}/.local/lib/python3.12/site-packages"),
            format!("{h}/.local/bin"),
        ),
        None => (SITE.to_string(), "/usr/local/bin".to_string()),
    };
    if target.is_none() && !user && ctx.user.uid != 0 {
        let writable = ctx
            .fs
            .resolve(SITE, true)
            .is_ok_and(|r| ctx.fs.may(&r, ctx.user.cred(), 2).is_ok());
        if !writable {
            ctx.out(
                "Defaulting to user installation because normal site-packages is not writeable\n",
            );
            site = format!("{h}/.local/lib/python3.12/site-packages");
            bin = format!("{h}/.local/bin");
        }
    }
    let out_line = |ctx: &Ctx, s: String| {
        if !quiet {
            ctx.out(s)
        }
    };
    let have = installed(ctx, &site);
    let u = universe();
    // Resolve breadth first, as pip's resolver reports it.
    let mut queue: std::collections::VecDeque<(Req, String)> = reqs.into_iter().collect();
    let mut picked: BTreeMap<String, String> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut deps_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let cache_dir = format!("{h}/.cache/pip");
    let mut plan = Plan { picks: Vec::new() };
    let mut top = true;
    while let Some((req, from)) = queue.pop_front() {
        if ctx.step().is_err() {
            return 1;
        }
        let key = normalize_py(&req.name);
        let from_txt = if from.is_empty() {
            String::new()
        } else {
            format!(" (from {from})")
        };
        if let Some(v) = picked.get(&key) {
            if !satisfies(v, &req.specs) && top {
                no_version(ctx, &req, &[]);
                return 1;
            }
            continue;
        }
        if let Some(inst) = have.get(&key)
            && satisfies(&inst.version, &req.specs)
            && !(upgrade && (from.is_empty() || from.starts_with("-r ")))
        {
            out_line(
                ctx,
                format!(
                    "Requirement already satisfied: {} in {site}{from_txt} ({})\n",
                    req.text, inst.version
                ),
            );
            picked.insert(key.clone(), inst.version.clone());
            if let Some(p) = u.pypi.get(&key) {
                for d in &p.deps {
                    if let Some(r) = parse_req(d) {
                        queue.push_back((r, req.text.clone()));
                    }
                }
            }
            continue;
        }
        if !ctx.world.network {
            network_failure(ctx, &req);
            return 1;
        }
        let Some(p) = u.pypi.get(&key) else {
            no_version(ctx, &req, &[]);
            return 1;
        };
        let Some(v) = p
            .versions
            .iter()
            .filter(|v| satisfies(v, &req.specs))
            .max_by(|a, b| cmp_versions(a, b))
        else {
            no_version(ctx, &req, &p.versions);
            return 1;
        };
        out_line(ctx, format!("Collecting {}{from_txt}\n", req.text));
        let whl = wheel_name(p, v, ctx);
        let meta = 1500 + u64::from_str_radix(&hex_of(&whl, 3), 16).unwrap_or(0);
        let cached = ctx.fs.exists(&cache_path(&cache_dir, &whl));
        out_line(
            ctx,
            format!(
                "  {} {whl}.metadata ({})\n",
                if cached {
                    "Using cached"
                } else {
                    "Downloading"
                },
                format_size(meta)
            ),
        );
        picked.insert(key.clone(), v.clone());
        order.push(key.clone());
        plan.picks.push((key.clone(), v.clone()));
        let mut ds = Vec::new();
        for d in &p.deps {
            if let Some(r) = parse_req(d) {
                ds.push(normalize_py(&r.name));
                queue.push_back((r, req.text.clone()));
            }
        }
        deps_of.insert(key, ds);
        if queue.is_empty() {
            top = false;
        }
    }
    // Downloads.
    for (key, v) in &plan.picks {
        let Some(p) = u.pypi.get(key) else { continue };
        let whl = wheel_name(p, v, ctx);
        let cp = cache_path(&cache_dir, &whl);
        if !ctx.fs.exists(&cp) {
            out_line(
                ctx,
                format!(
                    "Downloading {whl} ({})\n",
                    format_size(super::size_of(&p.whl))
                ),
            );
            if !no_cache {
                let _ = put_file(ctx, &cp, filler(&whl, super::size_of(&p.whl)), 0o600);
            }
        } else {
            out_line(
                ctx,
                format!(
                    "Using cached {whl} ({})\n",
                    format_size(super::size_of(&p.whl))
                ),
            );
        }
    }
    if plan.picks.is_empty() {
        pip_warnings(ctx, target.is_some() || user);
        return 0;
    }
    // Install order: dependencies first.
    let mut inst_order: Vec<String> = Vec::new();
    let mut seen = BTreeSet::new();
    fn visit(
        k: &str,
        deps: &BTreeMap<String, Vec<String>>,
        seen: &mut BTreeSet<String>,
        out: &mut Vec<String>,
    ) {
        if !seen.insert(k.to_string()) {
            return;
        }
        for d in deps.get(k).into_iter().flatten() {
            if deps.contains_key(d) {
                visit(d, deps, seen, out);
            }
        }
        out.push(k.to_string());
    }
    for k in &order {
        visit(k, &deps_of, &mut seen, &mut inst_order);
    }
    let display = |k: &str| u.pypi.get(k).map(|p| p.name.clone()).unwrap_or_default();
    out_line(
        ctx,
        format!(
            "Installing collected packages: {}\n",
            inst_order
                .iter()
                .map(|k| display(k))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    let mut done = Vec::new();
    for k in &inst_order {
        let (Some(p), Some(v)) = (u.pypi.get(k), picked.get(k)) else {
            continue;
        };
        if let Some(old) = have.get(k) {
            out_line(
                ctx,
                format!(
                    "  Attempting uninstall: {}\n    Found existing installation: {} {}\n    Uninstalling {}-{}:\n      Successfully uninstalled {}-{}\n",
                    old.name, old.name, old.version, old.name, old.version, old.name, old.version
                ),
            );
            remove_dist(ctx, &site, old);
        }
        if let Err(e) = install_one(ctx, p, v, &site, &bin) {
            ctx.err(format!(
                "ERROR: Could not install packages due to an OSError: [Errno 13] {}: '{site}'\n",
                e.text()
            ));
            return 1;
        }
        done.push(format!("{}-{v}", p.name));
    }
    done.sort();
    out_line(ctx, format!("Successfully installed {}\n", done.join(" ")));
    pip_warnings(ctx, target.is_some() || user);
    0
}

fn pip_warnings(ctx: &Ctx, user_site: bool) {
    if ctx.user.uid == 0 && !user_site {
        ctx.err("WARNING: Running pip as the 'root' user can result in broken permissions and conflicting behaviour with the system package manager, possibly rendering your system unusable. It is recommended to use a virtual environment instead: https://pip.pypa.io/warnings/venv. Use the --root-user-action option if you want to suppress this warning.\n");
    }
    let current = installed(ctx, SITE)
        .get("pip")
        .map(|d| d.version.clone())
        .unwrap_or_else(|| PIP_VERSION.to_string());
    if ctx.world.network && cmp_versions(&current, PIP_LATEST) == Ordering::Less {
        ctx.err(format!(
            "\n[notice] A new release of pip is available: {current} -> {PIP_LATEST}\n[notice] To update, run: pip install --upgrade pip\n"
        ));
    }
}

fn cache_path(cache: &str, whl: &str) -> String {
    let h = hex_of(whl, 56);
    format!(
        "{cache}/http-v2/{}/{}/{}/{}/{}/{}.body",
        &h[0..1],
        &h[1..2],
        &h[2..3],
        &h[3..4],
        &h[4..5],
        &h[5..]
    )
}

fn record_hash(s: &str) -> String {
    let h = hex_of(s, 64);
    let bytes = hex::decode(h).unwrap_or_default();
    base64url(&bytes)
}

fn base64url(b: &[u8]) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for c in b.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        let k = c.len() + 1;
        for i in 0..k {
            out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

fn install_one(
    ctx: &mut Ctx,
    p: &PyPkg,
    v: &str,
    site: &str,
    bin: &str,
) -> Result<(), crate::userland::fs::Errno> {
    let total = super::size_of(&p.size);
    let di_name = format!("{}-{v}.dist-info", normalize_py(&p.name).replace('-', "_"));
    let di = format!("{site}/{di_name}");
    let mut record: Vec<String> = Vec::new();
    let mut bulk_left = total.saturating_sub(4096);
    for (i, t) in p.top.iter().enumerate() {
        let init = format!("{site}/{t}/__init__.py");
        let text = format!("\"\"\"{} {v}\"\"\"\n\n__version__ = \"{v}\"\n", p.name);
        put_text(ctx, &init, &text)?;
        record.push(format!(
            "{t}/__init__.py,sha256={},{}",
            record_hash(&text),
            text.len()
        ));
        let share = if i + 1 == p.top.len() {
            bulk_left
        } else {
            bulk_left / 2
        };
        bulk_left -= share;
        let bulk_name = if p.binary {
            let arch = match ctx.world.platform.architecture.as_str() {
                "arm64" => "aarch64",
                _ => "x86_64",
            };
            format!("_core.cpython-312-{arch}-linux-gnu.so")
        } else {
            "core.py".to_string()
        };
        let bulk = format!("{site}/{t}/{bulk_name}");
        put_file(
            ctx,
            &bulk,
            filler(&format!("{}-{v}-{t}", p.name), share),
            0o644,
        )?;
        record.push(format!(
            "{t}/{bulk_name},sha256={},{share}",
            record_hash(&bulk)
        ));
        record.push(format!("{t}/__pycache__/__init__.cpython-312.pyc,,"));
        put_file(
            ctx,
            &format!("{site}/{t}/__pycache__/__init__.cpython-312.pyc"),
            filler(&format!("{}-{v}-{t}.pyc", p.name), 300),
            0o644,
        )?;
    }
    let mut meta = format!(
        "Metadata-Version: 2.1\nName: {}\nVersion: {v}\nRequires-Python: >=3.8\n",
        p.name
    );
    for d in &p.deps {
        meta.push_str(&format!("Requires-Dist: {d}\n"));
    }
    meta.push('\n');
    let wheel = format!(
        "Wheel-Version: 1.0\nGenerator: setuptools (75.6.0)\nRoot-Is-Purelib: {}\nTag: {}\n\n",
        !p.binary,
        wheel_name(p, v, ctx)
            .trim_end_matches(".whl")
            .splitn(3, '-')
            .nth(2)
            .unwrap_or("py3-none-any")
    );
    let top = p.top.join("\n") + "\n";
    for (n, t) in [
        ("METADATA", meta.as_str()),
        ("INSTALLER", "pip\n"),
        ("WHEEL", wheel.as_str()),
        ("top_level.txt", top.as_str()),
    ] {
        put_text(ctx, &format!("{di}/{n}"), t)?;
        record.push(format!(
            "{di_name}/{n},sha256={},{}",
            record_hash(t),
            t.len()
        ));
    }
    for b in &p.bin {
        let module = p.top.first().cloned().unwrap_or_default();
        let script = format!(
            "#!/usr/local/bin/python3.12\n# -*- coding: utf-8 -*-\nimport re\nimport sys\nfrom {module}.cli import main\nif __name__ == \"__main__\":\n    sys.argv[0] = re.sub(r\"(-script\\.pyw|\\.exe)?$\", \"\", sys.argv[0])\n    sys.exit(main())\n"
        );
        put_file(
            ctx,
            &format!("{bin}/{b}"),
            Content::bytes(script.clone().into_bytes()),
            0o755,
        )?;
        record.push(format!(
            "../../../bin/{b},sha256={},{}",
            record_hash(&script),
            script.len()
        ));
    }
    record.push(format!("{di_name}/RECORD,,"));
    put_text(ctx, &format!("{di}/RECORD"), &(record.join("\n") + "\n"))?;
    Ok(())
}

fn remove_dist(ctx: &mut Ctx, site: &str, d: &Installed) {
    let record = ctx
        .fs
        .read_string(&format!("{}/RECORD", d.dist_info))
        .unwrap_or_default();
    let mut dirs = BTreeSet::new();
    for l in record.lines() {
        let Some(p) = l.split(',').next() else {
            continue;
        };
        let full = crate::userland::fs::join(site, p);
        let _ = ctx.fs.remove(&full, false);
        if let Some(top) = p.split('/').next()
            && !top.ends_with(".dist-info")
            && !top.starts_with("..")
            && p.contains('/')
        {
            dirs.insert(format!("{site}/{top}"));
        }
    }
    for d in dirs {
        let _ = ctx.fs.remove_all(&d);
    }
    let _ = ctx.fs.remove_all(&d.dist_info);
}

fn pip_uninstall(ctx: &mut Ctx, args: &[&str]) -> i32 {
    let names: Vec<&str> = args
        .iter()
        .copied()
        .filter(|a| !a.starts_with('-'))
        .collect();
    let yes = args.iter().any(|a| *a == "-y" || *a == "--yes");
    if names.is_empty() {
        ctx.err("ERROR: You must give at least one requirement to uninstall (see \"pip help uninstall\")\n");
        return 1;
    }
    let have = installed(ctx, SITE);
    let mut removed = false;
    for n in names {
        let key = normalize_py(n);
        let Some(d) = have.get(&key) else {
            ctx.out(format!("WARNING: Skipping {n} as it is not installed.\n"));
            continue;
        };
        ctx.out(format!(
            "Found existing installation: {} {}\nUninstalling {}-{}:\n",
            d.name, d.version, d.name, d.version
        ));
        if !yes {
            ctx.out("Proceed (Y/n)? ");
            let answer = String::from_utf8_lossy(&ctx.stdin).trim().to_lowercase();
            if answer != "y" && answer != "yes" && !answer.is_empty() {
                continue;
            }
            if ctx.stdin.is_empty() {
                ctx.err("ERROR: Exception:\nEOFError: EOF when reading a line\n");
                return 2;
            }
        }
        remove_dist(ctx, SITE, d);
        ctx.out(format!(
            "  Successfully uninstalled {}-{}\n",
            d.name, d.version
        ));
        removed = true;
    }
    if removed && ctx.user.uid == 0 {
        ctx.err("WARNING: Running pip as the 'root' user can result in broken permissions and conflicting behaviour with the system package manager, possibly rendering your system unusable. It is recommended to use a virtual environment instead: https://pip.pypa.io/warnings/venv. Use the --root-user-action option if you want to suppress this warning.\n");
    }
    0
}

fn all_installed(ctx: &Ctx) -> Vec<Installed> {
    let h = home(ctx);
    let mut m = installed(ctx, SITE);
    for (k, v) in installed(ctx, &format!("{h}/.local/lib/python3.12/site-packages")) {
        m.entry(k).or_insert(v);
    }
    let mut v: Vec<Installed> = m.into_values().collect();
    v.sort_by_key(|i| i.name.to_lowercase());
    v
}

fn pip_list(ctx: &mut Ctx, _args: &[&str]) -> i32 {
    let all = all_installed(ctx);
    let w1 = all.iter().map(|i| i.name.len()).max().unwrap_or(0).max(7);
    let w2 = all
        .iter()
        .map(|i| i.version.len())
        .max()
        .unwrap_or(0)
        .max(7);
    ctx.out(format!("{:<w1$} Version\n", "Package"));
    ctx.out(format!("{} {}\n", "-".repeat(w1), "-".repeat(w2)));
    for i in &all {
        ctx.out(format!("{:<w1$} {}\n", i.name, i.version));
    }
    0
}

fn pip_freeze(ctx: &mut Ctx) -> i32 {
    for i in all_installed(ctx) {
        if normalize_py(&i.name) == "pip" {
            continue;
        }
        ctx.out(format!("{}=={}\n", i.name, i.version));
    }
    0
}

/// The standard library's top-level modules a script commonly imports.
const STDLIB: &[&str] = &[
    "__future__",
    "abc",
    "argparse",
    "array",
    "ast",
    "asyncio",
    "base64",
    "binascii",
    "bisect",
    "calendar",
    "collections",
    "concurrent",
    "configparser",
    "contextlib",
    "copy",
    "csv",
    "ctypes",
    "dataclasses",
    "datetime",
    "decimal",
    "difflib",
    "email",
    "enum",
    "errno",
    "fnmatch",
    "fractions",
    "functools",
    "gc",
    "getpass",
    "glob",
    "gzip",
    "hashlib",
    "heapq",
    "hmac",
    "html",
    "http",
    "importlib",
    "inspect",
    "io",
    "ipaddress",
    "itertools",
    "json",
    "logging",
    "math",
    "mimetypes",
    "multiprocessing",
    "operator",
    "os",
    "pathlib",
    "pickle",
    "platform",
    "pprint",
    "queue",
    "random",
    "re",
    "secrets",
    "select",
    "shlex",
    "shutil",
    "signal",
    "socket",
    "socketserver",
    "sqlite3",
    "ssl",
    "stat",
    "statistics",
    "string",
    "struct",
    "subprocess",
    "sys",
    "tempfile",
    "textwrap",
    "threading",
    "time",
    "timeit",
    "traceback",
    "types",
    "typing",
    "unittest",
    "urllib",
    "uuid",
    "warnings",
    "weakref",
    "wsgiref",
    "xml",
    "zipfile",
    "zlib",
    "zoneinfo",
];

/// `python`, `python3`, `python3.12`.
pub fn python_main(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let args: Vec<String> = argv.iter().skip(1).cloned().collect();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-V" | "--version" => {
                ctx.out(format!("Python {PY_VERSION}\n"));
                return 0;
            }
            "-u" | "-B" | "-O" | "-OO" | "-s" | "-E" | "-I" => {}
            "-c" => {
                let Some(code) = args.get(i + 1) else {
                    ctx.err("Argument expected for the -c option\nusage: python3 [option] ... [-c cmd | -m mod | file | -] [arg] ...\nTry `python -h' for more information.\n");
                    return 2;
                };
                return run_source(ctx, "<string>", code);
            }
            "-m" => {
                let Some(m) = args.get(i + 1) else {
                    ctx.err("Argument expected for the -m option\nusage: python3 [option] ... [-c cmd | -m mod | file | -] [arg] ...\nTry `python -h' for more information.\n");
                    return 2;
                };
                let mut sub: Vec<String> = vec![m.clone()];
                sub.extend(args[i + 2..].iter().cloned());
                return run_module(ctx, &sub);
            }
            s if s.starts_with('-') && s.len() > 1 => {}
            file => {
                let path = ctx.path(file);
                let base = path.rsplit('/').next().unwrap_or("").to_string();
                let console = path.contains("/bin/")
                    && (matches!(base.as_str(), "gunicorn" | "uvicorn" | "flask")
                        || ctx
                            .fs
                            .read_string(&path)
                            .is_ok_and(|s| s.contains("sys.exit(main())")));
                if console && !base.starts_with("python") {
                    // A console script pip wrote: the program it stands for.
                    let mut sub = vec![base.clone()];
                    sub.extend(args[i + 1..].iter().cloned());
                    return match super::lookup(&base) {
                        Some(p) => p(ctx, &sub),
                        None => 0,
                    };
                }
                let Ok(src) = ctx.fs.read_string(&path) else {
                    let shown = if file.starts_with('/') {
                        file.to_string()
                    } else {
                        path.clone()
                    };
                    ctx.err(format!(
                        "{}: can't open file '{shown}': [Errno 2] No such file or directory\n",
                        argv.first().map(String::as_str).unwrap_or("python3")
                    ));
                    return 2;
                };
                return run_source(ctx, &path, &src);
            }
        }
        i += 1;
    }
    // An interactive interpreter with no terminal reads stdin as a script.
    let src = String::from_utf8_lossy(&ctx.stdin).into_owned();
    run_source(ctx, "<stdin>", &src)
}

fn run_module(ctx: &mut Ctx, args: &[String]) -> i32 {
    match args.first().map(String::as_str).unwrap_or("") {
        "pip" => {
            let mut v = vec!["pip".to_string()];
            v.extend(args[1..].iter().cloned());
            pip_main(ctx, &v)
        }
        "http.server" => {
            let port = args
                .get(1)
                .and_then(|p| p.parse::<u16>().ok())
                .unwrap_or(8000);
            ctx.out(format!(
                "Serving HTTP on 0.0.0.0 port {port} (http://0.0.0.0:{port}/) ...\n"
            ));
            0
        }
        "gunicorn" | "uvicorn" | "flask" => server_cli(ctx, args),
        m => {
            if !module_found(ctx, m.split('.').next().unwrap_or(m)) {
                ctx.err(format!("/usr/local/bin/python3: No module named {m}\n"));
                return 1;
            }
            0
        }
    }
}

fn module_found(ctx: &Ctx, m: &str) -> bool {
    if STDLIB.contains(&m) {
        return true;
    }
    let h = home(ctx);
    let mut sites = vec![
        SITE.to_string(),
        format!("{h}/.local/lib/python3.12/site-packages"),
    ];
    if let Some(pp) = ctx.env.get("PYTHONPATH") {
        sites.extend(pp.split(':').filter(|s| !s.is_empty()).map(|s| ctx.path(s)));
    }
    sites.push(ctx.cwd.clone());
    sites.iter().any(|s| importable(ctx, s).contains(m))
}

/// Top-level imports: `(line number, line text, module)`.
fn imports(src: &str) -> Vec<(usize, String, String)> {
    let mut out = Vec::new();
    for (n, line) in src.lines().enumerate() {
        if line.starts_with([' ', '\t']) {
            continue;
        }
        let l = line.trim();
        let mods: Vec<String> = if let Some(r) = l.strip_prefix("import ") {
            r.split(',')
                .map(|m| m.split_whitespace().next().unwrap_or("").to_string())
                .collect()
        } else if let Some(r) = l.strip_prefix("from ") {
            vec![r.split_whitespace().next().unwrap_or("").to_string()]
        } else {
            continue;
        };
        for m in mods {
            let top = m.split('.').next().unwrap_or("").to_string();
            if !top.is_empty() {
                out.push((n + 1, l.to_string(), top));
            }
        }
    }
    out
}

/// Runs a script approximately.
fn run_source(ctx: &mut Ctx, file: &str, src: &str) -> i32 {
    for (n, line, m) in imports(src) {
        if ctx.step().is_err() {
            return 1;
        }
        if !module_found(ctx, &m) {
            if file == "<string>" {
                ctx.err(format!(
                    "Traceback (most recent call last):\n  File \"<string>\", line {n}, in <module>\nModuleNotFoundError: No module named '{m}'\n"
                ));
            } else {
                ctx.err(format!(
                    "Traceback (most recent call last):\n  File \"{file}\", line {n}, in <module>\n    {line}\nModuleNotFoundError: No module named '{m}'\n"
                ));
            }
            return 1;
        }
    }
    // `-c` code is one line with `;` separators: split it like lines.
    let text = src.replace("; ", "\n").replace(';', "\n");
    for s in super::literal_calls(&text, "print", true) {
        ctx.out(format!("{s}\n"));
    }
    if let Some(s) = script_server(src) {
        ctx.err(server_banner(ctx, &s, file));
    }
    0
}

fn kw_int(src: &str, call: &str, kw: &str) -> Option<u16> {
    let at = src.find(call)?;
    let rest = &src[at..];
    let rest = &rest[..rest.find(')').unwrap_or(rest.len())];
    let k = rest.find(&format!("{kw}="))?;
    rest[k + kw.len() + 1..]
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect::<String>()
        .parse()
        .ok()
}

fn script_server(src: &str) -> Option<super::Server> {
    if src.contains("uvicorn.run(") {
        return Some(super::Server {
            port: kw_int(src, "uvicorn.run(", "port").unwrap_or(8000),
            kind: "uvicorn".into(),
        });
    }
    if src.contains(".run(") && src.contains("Flask(") {
        return Some(super::Server {
            port: kw_int(src, ".run(", "port").unwrap_or(5000),
            kind: "flask".into(),
        });
    }
    None
}

fn server_banner(ctx: &Ctx, s: &super::Server, file: &str) -> String {
    let stamp = super::iso_time(ctx.world.clock).replace('T', " ");
    let p = s.port;
    match s.kind.as_str() {
        "flask" => {
            let app = file
                .rsplit('/')
                .next()
                .unwrap_or("app")
                .trim_end_matches(".py");
            format!(
                " * Serving Flask app '{app}'\n * Debug mode: off\nWARNING: This is a development server. Do not use it in a production deployment. Use a production WSGI server instead.\n * Running on all addresses (0.0.0.0)\n * Running on http://127.0.0.1:{p}\n * Running on http://172.17.0.2:{p}\nPress CTRL+C to quit\n"
            )
        }
        "gunicorn" => format!(
            "[{stamp} +0000] [1] [INFO] Starting gunicorn 23.0.0\n[{stamp} +0000] [1] [INFO] Listening at: http://0.0.0.0:{p} (1)\n[{stamp} +0000] [1] [INFO] Using worker: sync\n[{stamp} +0000] [7] [INFO] Booting worker with pid: 7\n"
        ),
        _ => format!(
            "INFO:     Started server process [1]\nINFO:     Waiting for application startup.\nINFO:     Application startup complete.\nINFO:     Uvicorn running on http://0.0.0.0:{p} (Press CTRL+C to quit)\n"
        ),
    }
}

/// `gunicorn`, `uvicorn` and `flask run` (console scripts).
pub fn server_cli(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let Some(s) = cli_server(ctx, argv) else {
        return 0;
    };
    let b = server_banner(ctx, &s, "app");
    ctx.err(b);
    0
}

fn cli_server(ctx: &Ctx, argv: &[String]) -> Option<super::Server> {
    let name = argv.first()?.rsplit('/').next()?.to_string();
    let flag = |names: &[&str]| -> Option<String> {
        for (i, a) in argv.iter().enumerate() {
            for n in names {
                if a == n {
                    return argv.get(i + 1).cloned();
                }
                if let Some(v) = a.strip_prefix(&format!("{n}=")) {
                    return Some(v.to_string());
                }
            }
        }
        None
    };
    let _ = ctx;
    let port_of = |bind: String| bind.rsplit(':').next().and_then(|p| p.parse().ok());
    match name.as_str() {
        "gunicorn" => Some(super::Server {
            port: flag(&["-b", "--bind"]).and_then(port_of).unwrap_or(8000),
            kind: "gunicorn".into(),
        }),
        "uvicorn" => Some(super::Server {
            port: flag(&["--port"])
                .and_then(|p| p.parse().ok())
                .unwrap_or(8000),
            kind: "uvicorn".into(),
        }),
        "flask" if argv.iter().any(|a| a == "run") => Some(super::Server {
            port: flag(&["-p", "--port"])
                .and_then(|p| p.parse().ok())
                .unwrap_or(5000),
            kind: "flask".into(),
        }),
        _ => None,
    }
}

/// Whether a python command line is a server (see [`super::server_of`]).
pub fn server_of(ctx: &Ctx, argv: &[String]) -> Option<super::Server> {
    let base = argv.first()?.rsplit('/').next()?;
    if matches!(base, "gunicorn" | "uvicorn" | "flask") {
        return cli_server(ctx, argv);
    }
    let mut i = 1;
    while i < argv.len() {
        let a = argv[i].as_str();
        match a {
            "-m" => {
                let m = argv.get(i + 1)?;
                return match m.as_str() {
                    "http.server" => Some(super::Server {
                        port: argv.get(i + 2).and_then(|p| p.parse().ok()).unwrap_or(8000),
                        kind: "http.server".into(),
                    }),
                    "gunicorn" | "uvicorn" | "flask" => cli_server(ctx, &argv[i + 1..]),
                    _ => None,
                };
            }
            "-c" => return None,
            s if s.starts_with('-') => {}
            f => {
                let src = ctx.fs.read_string(&ctx.path(f)).ok()?;
                if imports(&src).iter().any(|(_, _, m)| !module_found(ctx, m)) {
                    return None;
                }
                return script_server(&src);
            }
        }
        i += 1;
    }
    None
}
