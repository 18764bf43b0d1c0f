//! `node` 20.18.1 and `npm` 10.8.2 as node:20-alpine ships them. `npm ci`
//! (needs `package-lock.json`), `npm install [pkg…]` (`--omit=dev`,
//! `--production`), `npm run <script>` / `npm start` / `npm test` (scripts
//! run through `sh -c` as npm does), `npm cache clean --force`, `npm -v`.
//! Installs write `node_modules/<pkg>/package.json` trees (what scanners
//! read) and the cache under `~/.npm/_cacache`. `node script.js` checks
//! `require`/`import` of packages, prints `console.log` literals and
//! recognises `listen(PORT)` servers.

use super::universe::universe;
use super::{cmp_versions, filler, hex_of, put_file, put_text};
use crate::userland::proc::Ctx;
use serde_json::{Map, Value, json};
use std::cmp::Ordering;
use std::collections::{BTreeMap, VecDeque};

const NODE_VERSION: &str = "v20.18.1";
const NPM_VERSION: &str = "10.8.2";

/// npm's log file line, with the clock as its name.
fn log_line(ctx: &Ctx) -> String {
    let t = super::iso_time(ctx.world.clock).replace(':', "_");
    let h = ctx.env.get("HOME").unwrap_or("/root");
    format!(
        "npm error A complete log of this run can be found in: {h}/.npm/_logs/{t}_000Z-debug-0.log\n"
    )
}

/// Whether `v` satisfies an npm range (`^`, `~`, exact, `>=`, `<`, `x`,
/// `*`, space-joined comparators, `||` alternatives).
pub fn npm_satisfies(v: &str, range: &str) -> bool {
    let range = range.trim();
    if range.is_empty() || range == "*" || range == "latest" || range == "x" {
        return true;
    }
    range.split("||").any(|alt| {
        let toks: Vec<String> = {
            let mut t = Vec::new();
            let mut pending = String::new();
            for w in alt.split_whitespace() {
                if matches!(w, ">=" | "<=" | ">" | "<" | "=") {
                    pending = w.to_string();
                } else {
                    t.push(format!("{pending}{w}"));
                    pending.clear();
                }
            }
            t
        };
        !toks.is_empty() && toks.iter().all(|c| comparator(v, c))
    })
}

fn nums(s: &str) -> Vec<u64> {
    s.split('.')
        .map(|p| p.parse::<u64>().unwrap_or(0))
        .collect()
}

fn comparator(v: &str, c: &str) -> bool {
    let c = c.trim_start_matches('v');
    let cmp = |w: &str| cmp_versions(v, w);
    if let Some(w) = c.strip_prefix('^') {
        let n = nums(w);
        if cmp(w) == Ordering::Less {
            return false;
        }
        let vn = nums(v);
        let major = n.first().copied().unwrap_or(0);
        if major > 0 {
            return vn.first() == Some(&major);
        }
        return vn.get(1) == n.get(1);
    }
    if let Some(w) = c.strip_prefix('~') {
        let n = nums(w);
        let vn = nums(v);
        return cmp(w) != Ordering::Less && vn.first() == n.first() && vn.get(1) == n.get(1);
    }
    if let Some(w) = c.strip_prefix(">=") {
        return cmp(w) != Ordering::Less;
    }
    if let Some(w) = c.strip_prefix("<=") {
        return cmp(w) != Ordering::Greater;
    }
    if let Some(w) = c.strip_prefix('>') {
        return cmp(w) == Ordering::Greater;
    }
    if let Some(w) = c.strip_prefix('<') {
        return cmp(w) == Ordering::Less;
    }
    let w = c.trim_start_matches('=');
    if w.contains(['x', '*']) {
        let pre: Vec<&str> = w
            .split('.')
            .take_while(|p| *p != "x" && *p != "*")
            .collect();
        let vp: Vec<&str> = v.split('.').collect();
        return pre.iter().enumerate().all(|(i, p)| vp.get(i) == Some(p));
    }
    cmp(w) == Ordering::Equal
}

/// One resolved package in the tree (flat, hoisted).
#[derive(Clone, Debug)]
struct Resolved {
    version: String,
    dev: bool,
}

fn resolve(
    ctx: &Ctx,
    roots: &[(String, String, bool)],
) -> Result<BTreeMap<String, Resolved>, (String, String)> {
    let u = universe();
    let mut out: BTreeMap<String, Resolved> = BTreeMap::new();
    let mut q: VecDeque<(String, String, bool)> = roots.iter().cloned().collect();
    while let Some((name, range, dev)) = q.pop_front() {
        if ctx.step().is_err() {
            break;
        }
        if let Some(r) = out.get_mut(&name) {
            if !dev {
                r.dev = false;
            }
            continue;
        }
        let Some(p) = u.npm.get(&name) else {
            return Err((name, range));
        };
        let Some(v) = p
            .versions
            .iter()
            .filter(|v| npm_satisfies(v, &range))
            .max_by(|a, b| cmp_versions(a, b))
        else {
            return Err((name, range));
        };
        out.insert(
            name.clone(),
            Resolved {
                version: v.clone(),
                dev,
            },
        );
        for (d, r) in &p.deps {
            q.push_back((d.clone(), r.clone(), dev));
        }
    }
    // A dev root's deps that prod also uses are prod.
    Ok(out)
}

fn e404(ctx: &Ctx, name: &str, range: &str) -> i32 {
    let spec = if range.is_empty() { "*" } else { range };
    ctx.err(format!(
        "npm error code E404\nnpm error 404 Not Found - GET https://registry.npmjs.org/{} - Not found\nnpm error 404\nnpm error 404  '{name}@{spec}' is not in this registry.\nnpm error 404\nnpm error 404 Note that you can also install from a\nnpm error 404 tarball, folder, http url, or git url.\n",
        name.replace('/', "%2f")
    ));
    ctx.err(log_line(ctx));
    1
}

fn offline(ctx: &Ctx, name: &str) -> i32 {
    ctx.err(format!(
        "npm error code EAI_AGAIN\nnpm error syscall getaddrinfo\nnpm error errno EAI_AGAIN\nnpm error request to https://registry.npmjs.org/{name} failed, reason: getaddrinfo EAI_AGAIN registry.npmjs.org\n"
    ));
    ctx.err(log_line(ctx));
    1
}

/// `npm` (the file `npm-cli.js` the `npm` link points at).
pub fn npm_main(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let args: Vec<String> = argv.iter().skip(1).cloned().collect();
    let cmd = args.iter().position(|a| !a.starts_with('-'));
    if cmd.is_none() && args.iter().any(|a| a == "-v" || a == "--version") {
        ctx.out(format!("{NPM_VERSION}\n"));
        return 0;
    }
    let Some(ci) = cmd else {
        ctx.out(format!("npm <command>\n\nUsage:\n\nnpm install        install all the dependencies in your project\n\nnpm@{NPM_VERSION} /usr/local/lib/node_modules/npm\n"));
        return 1;
    };
    let rest: Vec<String> = args[ci + 1..].to_vec();
    let flags: Vec<&String> = args.iter().filter(|a| a.starts_with('-')).collect();
    let omit_dev = flags
        .iter()
        .any(|f| *f == "--omit=dev" || *f == "--production" || *f == "--only=production")
        || ctx.env.get("NODE_ENV") == Some("production");
    match args[ci].as_str() {
        "ci" | "clean-install" => npm_install(ctx, &[], omit_dev, true),
        "install" | "i" | "add" => {
            let pkgs: Vec<String> = rest
                .iter()
                .filter(|a| !a.starts_with('-'))
                .cloned()
                .collect();
            let dev = flags.iter().any(|f| *f == "-D" || *f == "--save-dev");
            npm_install(ctx, &pkgs, omit_dev && !dev, false)
        }
        "run" | "run-script" => match rest.iter().find(|a| !a.starts_with('-')) {
            Some(s) => npm_run(ctx, s),
            None => {
                let pj = read_pkg_json(ctx).unwrap_or(Value::Null);
                if let Some(m) = pj.get("scripts").and_then(Value::as_object) {
                    let name = pj.get("name").and_then(Value::as_str).unwrap_or("");
                    let version = pj.get("version").and_then(Value::as_str).unwrap_or("");
                    ctx.out(format!("Lifecycle scripts included in {name}@{version}:\n"));
                    for (k, v) in m {
                        ctx.out(format!("  {k}\n    {}\n", v.as_str().unwrap_or("")));
                    }
                }
                0
            }
        },
        "start" => npm_run(ctx, "start"),
        "test" | "t" => npm_run(ctx, "test"),
        "cache" => {
            if rest.first().map(String::as_str) == Some("clean") {
                if !flags.iter().any(|f| *f == "--force" || *f == "-f") {
                    ctx.err("npm error code EFORCE\nnpm error As of npm@5, the npm cache self-heals from corruption issues\nnpm error by treating integrity mismatches as cache misses.  As a result,\nnpm error data extracted from the cache is guaranteed to be valid.  If you\nnpm error want to make sure everything is consistent, use `npm cache verify`\nnpm error instead.  Deleting the cache can only make npm go slower, and is\nnpm error not likely to correct any problems you may be encountering!\nnpm error\nnpm error On the other hand, if you're debugging an issue with the installer,\nnpm error or race conditions that depend on the timing of writing to an empty\nnpm error cache, you can use `npm install --cache /tmp/empty-cache` to use a\nnpm error temporary cache instead of nuking the actual one.\nnpm error\nnpm error If you're sure you want to delete the entire cache, rerun this command\nnpm error with --force.\n");
                    ctx.err(log_line(ctx));
                    return 1;
                }
                let h = ctx.env.get("HOME").unwrap_or("/root").to_string();
                let _ = ctx.fs.remove_all(&format!("{h}/.npm/_cacache"));
                ctx.err("npm warn using --force Recommended protections disabled.\n");
                return 0;
            }
            0
        }
        other => {
            ctx.err(format!(
                "Unknown command: \"{other}\"\n\nTo see a list of supported npm commands, run:\n  npm help\n"
            ));
            1
        }
    }
}

fn read_pkg_json(ctx: &Ctx) -> Option<Value> {
    let t = ctx.fs.read_string(&ctx.path("package.json")).ok()?;
    serde_json::from_str(&t).ok()
}

fn npm_run(ctx: &mut Ctx, script: &str) -> i32 {
    let Ok(text) = ctx.fs.read_string(&ctx.path("package.json")) else {
        ctx.err(format!(
            "npm error code ENOENT\nnpm error syscall open\nnpm error path {}/package.json\nnpm error errno -2\nnpm error enoent Could not read package.json: Error: ENOENT: no such file or directory, open '{}/package.json'\nnpm error enoent This is related to npm not being able to find a file.\nnpm error enoent\n",
            ctx.cwd.trim_end_matches('/'),
            ctx.cwd.trim_end_matches('/')
        ));
        ctx.err(log_line(ctx));
        return 254;
    };
    let pj: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let name = pj
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let version = pj
        .get("version")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let mut cmd = pj
        .get("scripts")
        .and_then(|s| s.get(script))
        .and_then(Value::as_str)
        .map(String::from);
    if cmd.is_none() && script == "start" && ctx.fs.is_file(&ctx.path("server.js")) {
        cmd = Some("node server.js".into());
    }
    let Some(cmd) = cmd else {
        ctx.err(format!(
            "npm error Missing script: \"{script}\"\nnpm error\nnpm error To see a list of scripts, run:\nnpm error   npm run\n"
        ));
        ctx.err(log_line(ctx));
        return 1;
    };
    ctx.out(format!("\n> {name}@{version} {script}\n> {cmd}\n\n"));
    let mut child = ctx.child();
    let path = child.env.get("PATH").unwrap_or("").to_string();
    let bin = format!("{}/node_modules/.bin", child.cwd.trim_end_matches('/'));
    child.env.set("PATH", &format!("{bin}:{path}"));
    child.env.set("npm_lifecycle_event", script);
    let argv = vec!["sh".to_string(), "-c".to_string(), cmd];
    match crate::userland::exec::exec_name(&mut child, &argv) {
        Ok(0) => 0,
        Ok(_) | Err(_) => {
            drop(child);
            ctx.err(format!(
                "npm error Lifecycle script `{script}` failed with error:\nnpm error code 1\nnpm error path {}\nnpm error command failed\nnpm error command sh -c {}\n",
                ctx.cwd,
                argv[2]
            ));
            1
        }
    }
}

fn npm_install(ctx: &mut Ctx, add: &[String], omit_dev: bool, ci: bool) -> i32 {
    let pj_path = ctx.path("package.json");
    let lock_path = ctx.path("package-lock.json");
    let mut pj: Value = match ctx.fs.read_string(&pj_path) {
        Ok(t) => match serde_json::from_str(&t) {
            Ok(v) => v,
            Err(e) => {
                ctx.err(format!(
                    "npm error code EJSONPARSE\nnpm error JSON.parse Invalid package.json: JSONParseError: {e}\nnpm error JSON.parse Failed to parse JSON data.\nnpm error JSON.parse Note: package.json must be actual JSON, not just JavaScript.\n"
                ));
                ctx.err(log_line(ctx));
                return 1;
            }
        },
        Err(_) if ci => {
            ctx.err(format!(
                "npm error code ENOENT\nnpm error syscall open\nnpm error path {pj_path}\nnpm error errno -2\nnpm error enoent Could not read package.json: Error: ENOENT: no such file or directory, open '{pj_path}'\nnpm error enoent This is related to npm not being able to find a file.\nnpm error enoent\n"
            ));
            ctx.err(log_line(ctx));
            return 254;
        }
        Err(_) => json!({}),
    };
    if ci && !ctx.fs.is_file(&lock_path) {
        ctx.err("npm error code EUSAGE\nnpm error\nnpm error The `npm ci` command can only install with an existing package-lock.json or\nnpm error npm-shrinkwrap.json with lockfileVersion >= 1. Run an install with npm@5 or\nnpm error later to generate a package-lock.json file, then try again.\nnpm error\nnpm error Clean install a project\nnpm error\nnpm error Usage:\nnpm error npm ci\nnpm error\nnpm error Options:\nnpm error [--install-strategy <hoisted|nested|shallow|linked>] [--legacy-bundling]\nnpm error [--global-style] [--omit <dev|optional|peer> [--omit <dev|optional|peer> ...]]\nnpm error [--include <prod|dev|optional|peer> [--include <prod|dev|optional|peer> ...]]\nnpm error [--strict-peer-deps] [--foreground-scripts] [--ignore-scripts] [--no-audit]\nnpm error [--no-bin-links] [--no-fund] [--dry-run]\nnpm error [-w|--workspace <workspace-name> [-w|--workspace <workspace-name> ...]]\nnpm error [-ws|--workspaces] [--include-workspace-root] [--install-links]\nnpm error\nnpm error aliases: clean-install, ic, install-clean, isntall-clean\nnpm error\nnpm error Run \"npm help ci\" for more info\n");
        ctx.err(log_line(ctx));
        return 1;
    }
    // Roots: package.json deps (and the lock's pins for `ci`).
    let mut roots: Vec<(String, String, bool)> = Vec::new();
    let lock: Value = ctx
        .fs
        .read_string(&lock_path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    for (field, dev) in [("dependencies", false), ("devDependencies", true)] {
        if let Some(m) = pj.get(field).and_then(Value::as_object) {
            for (k, v) in m {
                let pinned = lock
                    .get("packages")
                    .and_then(|p| p.get(format!("node_modules/{k}")))
                    .and_then(|e| e.get("version"))
                    .and_then(Value::as_str);
                let range = pinned.unwrap_or(v.as_str().unwrap_or("*")).to_string();
                roots.push((k.clone(), range, dev));
            }
        }
    }
    let mut added_specs = Vec::new();
    for a in add {
        let (n, r) = match a.rfind('@').filter(|i| *i > 0) {
            Some(i) => (a[..i].to_string(), a[i + 1..].to_string()),
            None => (a.clone(), "latest".to_string()),
        };
        roots.retain(|(k, _, _)| k != &n);
        roots.push((n.clone(), r.clone(), false));
        added_specs.push(n);
    }
    if !roots.is_empty() && !ctx.world.network {
        let h = ctx.env.get("HOME").unwrap_or("/root").to_string();
        let cached = roots.iter().all(|(n, _, _)| {
            ctx.fs
                .exists(&format!("{h}/.npm/_cacache/index-v5/{}", hex_of(n, 2)))
        });
        if !cached {
            return offline(ctx, &roots[0].0);
        }
    }
    let tree = match resolve(ctx, &roots) {
        Ok(t) => t,
        Err((n, r)) => {
            if universe().npm.contains_key(&n) {
                ctx.err(format!(
                    "npm error code ETARGET\nnpm error notarget No matching version found for {n}@{r}.\nnpm error notarget In most cases you or one of your dependencies are requesting\nnpm error notarget a package version that doesn't exist.\n"
                ));
                ctx.err(log_line(ctx));
                return 1;
            }
            return e404(ctx, &n, if r == "latest" { "*" } else { &r });
        }
    };
    let nm = ctx.path("node_modules");
    if ci {
        let _ = ctx.fs.remove_all(&nm);
    }
    let u = universe();
    let h = ctx.env.get("HOME").unwrap_or("/root").to_string();
    let mut added = 0;
    let mut lock_pkgs = Map::new();
    let name = pj
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("app")
        .to_string();
    let version = pj
        .get("version")
        .and_then(Value::as_str)
        .unwrap_or("1.0.0")
        .to_string();
    let mut root_entry = Map::new();
    root_entry.insert("name".into(), json!(name));
    root_entry.insert("version".into(), json!(version));
    for k in ["dependencies", "devDependencies"] {
        if let Some(d) = pj.get(k) {
            root_entry.insert(k.into(), d.clone());
        }
    }
    let mut vulnerable = BTreeMap::new();
    for (n, r) in &tree {
        if ctx.step().is_err() {
            return 1;
        }
        let Some(p) = u.npm.get(n) else { continue };
        let mut entry = Map::new();
        entry.insert("version".into(), json!(r.version));
        entry.insert(
            "resolved".into(),
            json!(format!(
                "https://registry.npmjs.org/{n}/-/{}-{}.tgz",
                n.rsplit('/').next().unwrap_or(n),
                r.version
            )),
        );
        entry.insert(
            "integrity".into(),
            json!(format!(
                "sha512-{}==",
                hex_of(&format!("{n}@{}", r.version), 64)
            )),
        );
        if r.dev {
            entry.insert("dev".into(), json!(true));
        }
        if !p.license.is_empty() {
            entry.insert("license".into(), json!(p.license));
        }
        if !p.deps.is_empty() {
            entry.insert("dependencies".into(), json!(p.deps));
        }
        lock_pkgs.insert(format!("node_modules/{n}"), Value::Object(entry));
        if let Some(sev) = advisory(n, &r.version) {
            vulnerable.insert(n.clone(), sev);
        }
        if r.dev && omit_dev {
            continue;
        }
        let dir = format!("{nm}/{n}");
        let pkg_json = serde_json::to_string_pretty(&json!({
            "name": n,
            "version": r.version,
            "description": "",
            "license": p.license,
            "main": "index.js",
            "dependencies": p.deps,
        }))
        .unwrap_or_default()
            + "\n";
        let size = super::size_of(&p.size);
        let ok = put_text(ctx, &format!("{dir}/package.json"), &pkg_json)
            .and_then(|_| {
                put_file(
                    ctx,
                    &format!("{dir}/index.js"),
                    filler(
                        &format!("{n}@{}", r.version),
                        size.saturating_sub(pkg_json.len() as u64 + 1200),
                    ),
                    0o644,
                )
            })
            .and_then(|_| {
                put_text(
                    ctx,
                    &format!("{dir}/README.md"),
                    &format!("# {n}\n\n{}\n", "x".repeat(1000)),
                )
            });
        if let Err(e) = ok {
            ctx.err(format!(
                "npm error code EACCES\nnpm error syscall mkdir\nnpm error path {dir}\nnpm error errno -13\nnpm error Error: EACCES: permission denied, mkdir '{dir}'\n"
            ));
            let _ = e;
            ctx.err(log_line(ctx));
            return 243;
        }
        let key = hex_of(&format!("{n}@{}", r.version), 40);
        let _ = put_file(
            ctx,
            &format!(
                "{h}/.npm/_cacache/content-v2/sha512/{}/{}/{}",
                &key[..2],
                &key[2..4],
                &key[4..]
            ),
            filler(&key, size / 3 + 512),
            0o644,
        );
        let _ = put_text(
            ctx,
            &format!("{h}/.npm/_cacache/index-v5/{}/{}", hex_of(n, 2), &key[..8]),
            &format!(
                "{key}\t{{\"key\":\"make-fetch-happen:request-cache:https://registry.npmjs.org/{n}\"}}\n"
            ),
        );
        added += 1;
    }
    // Record added packages in package.json and write the lock.
    if !added_specs.is_empty() {
        if !pj.is_object() {
            pj = json!({});
        }
        if let Some(o) = pj.as_object_mut() {
            let deps = o.entry("dependencies").or_insert_with(|| json!({}));
            for n in &added_specs {
                if let (Some(r), Some(d)) = (tree.get(n), deps.as_object_mut()) {
                    d.insert(n.clone(), json!(format!("^{}", r.version)));
                }
            }
            if let Some(d) = o.get("dependencies").cloned() {
                root_entry.insert("dependencies".into(), d);
            }
        }
        let _ = put_text(
            ctx,
            &pj_path,
            &(serde_json::to_string_pretty(&pj).unwrap_or_default() + "\n"),
        );
    }
    let mut packages = Map::new();
    packages.insert(String::new(), Value::Object(root_entry));
    packages.extend(lock_pkgs.clone());
    let lockv = json!({"name": name, "version": version, "lockfileVersion": 3, "requires": true, "packages": packages});
    if !ci {
        let _ = put_text(
            ctx,
            &lock_path,
            &(serde_json::to_string_pretty(&lockv).unwrap_or_default() + "\n"),
        );
    }
    if added > 0 {
        let hidden = json!({"name": name, "version": version, "lockfileVersion": 3, "requires": true, "packages": lock_pkgs});
        let _ = put_text(
            ctx,
            &format!("{nm}/.package-lock.json"),
            &(serde_json::to_string_pretty(&hidden).unwrap_or_default() + "\n"),
        );
    }
    let audited = tree.len() + 1;
    let secs = 1 + added / 40;
    if added == 0 {
        ctx.out(format!(
            "\nup to date, audited {audited} {} in {secs}s\n",
            plural(audited)
        ));
    } else {
        ctx.out(format!(
            "\nadded {added} package{}, and audited {audited} {} in {secs}s\n",
            if added == 1 { "" } else { "s" },
            plural(audited)
        ));
    }
    let funding = tree
        .keys()
        .filter(|n| {
            matches!(
                n.as_str(),
                "side-channel" | "object-inspect" | "qs" | "follow-redirects"
            )
        })
        .count();
    if funding > 0 {
        ctx.out(format!(
            "\n{funding} package{} looking for funding\n  run `npm fund` for details\n",
            if funding == 1 { " is" } else { "s are" }
        ));
    }
    if vulnerable.is_empty() {
        ctx.out("\nfound 0 vulnerabilities\n");
    } else {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for s in vulnerable.values() {
            *counts.entry(s).or_default() += 1;
        }
        let order = ["low", "moderate", "high", "critical"];
        let parts: Vec<String> = order
            .iter()
            .filter_map(|s| counts.get(s).map(|c| format!("{c} {s}")))
            .collect();
        // npm's reify-output: one severity is named inline, several are
        // listed in parentheses.
        let n = vulnerable.len();
        let summary = if counts.len() == 1 {
            let sev = counts.keys().next().copied().unwrap_or("low");
            format!(
                "{n} {sev} severity {}",
                if n == 1 {
                    "vulnerability"
                } else {
                    "vulnerabilities"
                }
            )
        } else {
            format!("{n} vulnerabilities ({})", parts.join(", "))
        };
        ctx.out(format!(
            "\n{summary}\n\nTo address all issues, run:\n  npm audit fix\n\nRun `npm audit` for details.\n"
        ));
    }
    0
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "package" } else { "packages" }
}

/// The fixture advisories npm audit reports (scanner.md §6).
fn advisory(name: &str, v: &str) -> Option<&'static str> {
    let lt = |w: &str| cmp_versions(v, w) == Ordering::Less;
    let ge = |w: &str| cmp_versions(v, w) != Ordering::Less;
    match name {
        "express" if lt("4.19.2") => Some("moderate"),
        "lodash" if lt("4.17.12") => Some("critical"),
        "lodash" if lt("4.17.21") => Some("high"),
        "semver" if lt("5.7.2") || (ge("6.0.0") && lt("6.3.1")) || (ge("7.0.0") && lt("7.5.2")) => {
            Some("moderate")
        }
        "minimist" if lt("1.2.6") => Some("critical"),
        "cross-spawn" if ge("7.0.0") && lt("7.0.5") => Some("high"),
        "ip" if lt("1.1.9") || v == "2.0.0" => Some("high"),
        _ => None,
    }
}

/// The packages a script requires or imports (bare specifiers only).
fn requires(src: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in src.lines().enumerate() {
        for pat in ["require(", "from ", "import "] {
            let mut rest = line;
            while let Some(i) = rest.find(pat) {
                rest = &rest[i + pat.len()..];
                if let Some(s) = super::string_literal(rest.trim_start()) {
                    let bare =
                        !s.starts_with('.') && !s.starts_with('/') && !s.starts_with("node:");
                    if bare && !is_builtin(&s) {
                        let pkg = if s.starts_with('@') {
                            s.splitn(3, '/').take(2).collect::<Vec<_>>().join("/")
                        } else {
                            s.split('/').next().unwrap_or("").to_string()
                        };
                        out.push((n + 1, pkg));
                    }
                }
            }
        }
    }
    out
}

fn is_builtin(m: &str) -> bool {
    matches!(
        m.split('/').next().unwrap_or(""),
        "fs" | "path"
            | "http"
            | "https"
            | "os"
            | "url"
            | "util"
            | "events"
            | "crypto"
            | "child_process"
            | "stream"
            | "net"
            | "dns"
            | "zlib"
            | "assert"
            | "buffer"
            | "cluster"
            | "querystring"
            | "readline"
            | "timers"
            | "tls"
            | "worker_threads"
            | "process"
            | "v8"
            | "vm"
    )
}

fn module_exists(ctx: &Ctx, script_dir: &str, m: &str) -> bool {
    let mut dir = script_dir.to_string();
    loop {
        if ctx
            .fs
            .exists(&format!("{}/node_modules/{m}", dir.trim_end_matches('/')))
        {
            return true;
        }
        if dir == "/" || dir.is_empty() {
            return false;
        }
        dir = match dir.rsplit_once('/') {
            Some(("", _)) => "/".into(),
            Some((d, _)) => d.into(),
            None => return false,
        };
    }
}

/// `node`.
pub fn node_main(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let args: Vec<String> = argv.iter().skip(1).cloned().collect();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-v" | "--version" => {
                ctx.out(format!("{NODE_VERSION}\n"));
                return 0;
            }
            "-e" | "--eval" | "-p" => {
                let code = args.get(i + 1).cloned().unwrap_or_default();
                return run_js(ctx, "[eval]", &ctx.cwd.clone(), &code);
            }
            s if s.starts_with('-') => {}
            f => {
                let path = ctx.path(f);
                if path.ends_with("/npm-cli.js") {
                    let mut v = vec!["npm".to_string()];
                    v.extend(args[i + 1..].iter().cloned());
                    return npm_main(ctx, &v);
                }
                let cand = [
                    path.clone(),
                    format!("{path}.js"),
                    format!("{path}/index.js"),
                ];
                let Some(file) = cand.iter().find(|p| ctx.fs.is_file(p)).cloned() else {
                    ctx.err(format!(
                        "node:internal/modules/cjs/loader:1228\n  throw err;\n  ^\n\nError: Cannot find module '{path}'\n    at Module._resolveFilename (node:internal/modules/cjs/loader:1225:15)\n    at Module._load (node:internal/modules/cjs/loader:1051:27)\n    at Function.executeUserEntryPoint [as runMain] (node:internal/modules/run_main:174:12)\n    at node:internal/main/run_main_module:28:49 {{\n  code: 'MODULE_NOT_FOUND',\n  requireStack: []\n}}\n\nNode.js {NODE_VERSION}\n"
                    ));
                    return 1;
                };
                let src = ctx.fs.read_string(&file).unwrap_or_default();
                let dir = file
                    .rsplit_once('/')
                    .map(|x| x.0)
                    .unwrap_or("/")
                    .to_string();
                return run_js(ctx, &file, &dir, &src);
            }
        }
        i += 1;
    }
    0
}

fn run_js(ctx: &mut Ctx, file: &str, dir: &str, src: &str) -> i32 {
    for (line, m) in requires(src) {
        if ctx.step().is_err() {
            return 1;
        }
        if !module_exists(ctx, if dir.is_empty() { "/" } else { dir }, &m) {
            ctx.err(format!(
                "node:internal/modules/cjs/loader:1228\n  throw err;\n  ^\n\nError: Cannot find module '{m}'\nRequire stack:\n- {file}\n    at Module._resolveFilename (node:internal/modules/cjs/loader:1225:15)\n    at Module._load (node:internal/modules/cjs/loader:1051:27)\n    at Module.require (node:internal/modules/cjs/loader:1311:19)\n    at require (node:internal/modules/helpers:179:18)\n    at Object.<anonymous> ({file}:{line}:1)\n    at Module._compile (node:internal/modules/cjs/loader:1469:14)\n    at Module._extensions..js (node:internal/modules/cjs/loader:1548:10)\n    at Module.load (node:internal/modules/cjs/loader:1288:32)\n    at Module._load (node:internal/modules/cjs/loader:1104:12)\n    at Function.executeUserEntryPoint [as runMain] (node:internal/modules/run_main:174:12) {{\n  code: 'MODULE_NOT_FOUND',\n  requireStack: [ '{file}' ]\n}}\n\nNode.js {NODE_VERSION}\n"
            ));
            return 1;
        }
    }
    for s in super::literal_calls(src, "console.log", true) {
        ctx.out(format!("{s}\n"));
    }
    0
}

fn listen_port(ctx: &Ctx, src: &str) -> Option<u16> {
    let at = src.find(".listen(")?;
    let arg: String = src[at + 8..]
        .chars()
        .take_while(|c| *c != ',' && *c != ')')
        .collect();
    let arg = arg.trim();
    if let Ok(p) = arg.parse() {
        return Some(p);
    }
    let env = ctx.env.get("PORT").and_then(|p| p.parse().ok());
    // `const PORT = process.env.PORT || 3000`
    let default = src
        .split("||")
        .nth(1)
        .map(|r| {
            r.trim_start()
                .chars()
                .take_while(|c| c.is_ascii_digit())
                .collect::<String>()
        })
        .and_then(|d| d.parse().ok());
    env.or(default).or(Some(3000))
}

/// Whether a node command line is a server.
pub fn server_of(ctx: &Ctx, argv: &[String]) -> Option<super::Server> {
    let f = argv.iter().skip(1).find(|a| !a.starts_with('-'))?;
    let path = ctx.path(f);
    let file = [
        path.clone(),
        format!("{path}.js"),
        format!("{path}/index.js"),
    ]
    .into_iter()
    .find(|p| ctx.fs.is_file(p))?;
    let src = ctx.fs.read_string(&file).ok()?;
    let dir = file.rsplit_once('/').map(|x| x.0).unwrap_or("/");
    if requires(&src)
        .iter()
        .any(|(_, m)| !module_exists(ctx, if dir.is_empty() { "/" } else { dir }, m))
    {
        return None;
    }
    listen_port(ctx, &src).map(|port| super::Server {
        port,
        kind: "node".into(),
    })
}

/// `npm start` of a server script.
pub fn npm_server_of(ctx: &Ctx, argv: &[String]) -> Option<super::Server> {
    let cmd = argv.iter().skip(1).find(|a| !a.starts_with('-'))?;
    let script = match cmd.as_str() {
        "start" => "start",
        "run" => argv.iter().skip(2).find(|a| !a.starts_with('-'))?.as_str(),
        _ => return None,
    };
    let pj: Value =
        serde_json::from_str(&ctx.fs.read_string(&ctx.path("package.json")).ok()?).ok()?;
    let line = pj
        .get("scripts")
        .and_then(|s| s.get(script))
        .and_then(Value::as_str)
        .map(String::from)
        .or_else(|| (script == "start").then(|| "node server.js".to_string()))?;
    let words: Vec<String> = line.split_whitespace().map(String::from).collect();
    if words.first().map(String::as_str) == Some("node") {
        return server_of(ctx, &words);
    }
    None
}
