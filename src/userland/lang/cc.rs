//! `gcc`/`cc`/`g++` and `make`. The compiler checks its inputs exist and
//! writes a real ELF (dynamic against the image's C library loader, or
//! static with `-static`) whose note plays back the `printf`/`puts`
//! literals of `main`. `make` runs simple Makefile rules: variables,
//! targets with prerequisites, recipes through `sh -c`.

use super::{Note, put_file};
use crate::layer::Content;
use crate::userland::elf;
use crate::userland::os::Family;
use crate::userland::proc::Ctx;
use std::collections::BTreeMap;

/// `gcc`, `cc`, `g++`.
pub fn gcc_main(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let prog = argv
        .first()
        .map(String::as_str)
        .unwrap_or("gcc")
        .rsplit('/')
        .next()
        .unwrap_or("gcc")
        .to_string();
    let mut out = "a.out".to_string();
    let mut inputs = Vec::new();
    let mut static_ = false;
    let mut compile_only = false;
    let mut i = 1;
    while i < argv.len() {
        match argv[i].as_str() {
            "-o" => {
                i += 1;
                if let Some(o) = argv.get(i) {
                    out = o.clone();
                }
            }
            "-static" => static_ = true,
            "-c" => compile_only = true,
            "--version" => {
                ctx.out(format!("{prog} (Debian 12.2.0-14) 12.2.0\nCopyright (C) 2022 Free Software Foundation, Inc.\nThis is free software; see the source for copying conditions.  There is NO\nwarranty; not even for MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.\n\n"));
                return 0;
            }
            "-I" | "-L" | "-D" | "-x" => i += 1,
            s if s.starts_with('-') => {}
            s => inputs.push(s.to_string()),
        }
        i += 1;
    }
    let mut missing = false;
    let mut prints = Vec::new();
    for f in &inputs {
        match ctx.fs.read_string(&ctx.path(f)) {
            Ok(src) => {
                prints.extend(super::literal_calls(&src, "puts", false));
                prints.extend(
                    super::literal_calls(&src, "printf", false)
                        .into_iter()
                        .map(|s| s.trim_end_matches('\n').to_string()),
                );
            }
            Err(_) => {
                ctx.err(format!("{prog}: error: {f}: No such file or directory\n"));
                missing = true;
            }
        }
    }
    if missing || inputs.is_empty() {
        ctx.err(format!(
            "{prog}: fatal error: no input files\ncompilation terminated.\n"
        ));
        return 1;
    }
    if compile_only {
        return 0;
    }
    let arch = ctx.world.platform.architecture.clone();
    let interp = (!static_).then(|| match (ctx.os.family, arch.as_str()) {
        (Family::Alpine, "arm64") => "/lib/ld-musl-aarch64.so.1".to_string(),
        (Family::Alpine, _) => "/lib/ld-musl-x86_64.so.1".to_string(),
        (_, "arm64") => "/lib/ld-linux-aarch64.so.1".to_string(),
        _ => "/lib64/ld-linux-x86-64.so.2".to_string(),
    });
    let size = if static_ {
        if ctx.os.family == Family::Alpine {
            130_000
        } else {
            900_000
        }
    } else {
        16_000
    };
    let note = Note {
        lang: "c".into(),
        prints,
        port: None,
    };
    let bytes = elf::build(&elf::Spec {
        machine: elf::machine_of(&ctx.world.platform),
        interp,
        note: serde_json::to_string(&note).ok(),
        extra: Vec::new(),
        size,
        seed: format!("{inputs:?}"),
    });
    let dest = ctx.path(&out);
    if let Err(e) = put_file(ctx, &dest, Content::bytes(bytes), 0o755) {
        ctx.err(format!("/usr/bin/ld: cannot open output file {out}: {}\ncollect2: error: ld returned 1 exit status\n", e.text()));
        return 1;
    }
    0
}

struct Rule {
    deps: Vec<String>,
    recipe: Vec<String>,
    line: usize,
}

/// `make`.
pub fn make_main(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let mut file = None;
    let mut goals = Vec::new();
    let mut i = 1;
    while i < argv.len() {
        match argv[i].as_str() {
            "-f" => {
                i += 1;
                file = argv.get(i).cloned();
            }
            s if s.starts_with('-') => {}
            s => goals.push(s.to_string()),
        }
        i += 1;
    }
    let names = match &file {
        Some(f) => vec![f.clone()],
        None => vec!["GNUmakefile".into(), "makefile".into(), "Makefile".into()],
    };
    let Some((mf, text)) = names.iter().find_map(|n| {
        ctx.fs
            .read_string(&ctx.path(n))
            .ok()
            .map(|t| (n.clone(), t))
    }) else {
        if let Some(f) = file {
            ctx.err(format!("make: {f}: No such file or directory\nmake: *** No rule to make target '{f}'.  Stop.\n"));
        } else if goals.is_empty() {
            ctx.err("make: *** No targets specified and no makefile found.  Stop.\n");
        } else {
            ctx.err(format!(
                "make: *** No rule to make target '{}'.  Stop.\n",
                goals[0]
            ));
        }
        return 2;
    };
    let mut vars: BTreeMap<String, String> = BTreeMap::new();
    let mut rules: BTreeMap<String, Rule> = BTreeMap::new();
    let mut first = None;
    let mut current: Vec<String> = Vec::new();
    let expand = |s: &str, vars: &BTreeMap<String, String>| -> String {
        let mut out = s.to_string();
        for (k, v) in vars {
            out = out
                .replace(&format!("$({k})"), v)
                .replace(&format!("${{{k}}}"), v);
        }
        out
    };
    for (n, line) in text.lines().enumerate() {
        if let Some(r) = line.strip_prefix('\t') {
            for t in &current {
                if let Some(rule) = rules.get_mut(t) {
                    rule.recipe.push(r.to_string());
                }
            }
            continue;
        }
        let l = line.split('#').next().unwrap_or("").trim_end();
        if l.trim().is_empty() {
            continue;
        }
        if let Some((k, v)) = l
            .split_once(":=")
            .or_else(|| l.split_once("?="))
            .or_else(|| l.split_once('='))
            .filter(|(k, _)| !k.contains(':'))
        {
            let v = expand(v.trim(), &vars);
            vars.insert(k.trim().to_string(), v);
            current.clear();
            continue;
        }
        if let Some((t, d)) = l.split_once(':') {
            let t = expand(t, &vars);
            let d = expand(d, &vars);
            current = t.split_whitespace().map(String::from).collect();
            for t in &current {
                if t == ".PHONY" {
                    continue;
                }
                if first.is_none() {
                    first = Some(t.clone());
                }
                rules.insert(
                    t.clone(),
                    Rule {
                        deps: d.split_whitespace().map(String::from).collect(),
                        recipe: Vec::new(),
                        line: n + 1,
                    },
                );
            }
        }
    }
    if goals.is_empty() {
        match first {
            Some(f) => goals.push(f),
            None => {
                ctx.err("make: *** No targets.  Stop.\n");
                return 2;
            }
        }
    }
    let mut done = Vec::new();
    for g in goals {
        let c = build_target(ctx, &mf, &g, &rules, &vars, &mut done, 0, true);
        if c != 0 {
            return c;
        }
    }
    0
}

#[allow(clippy::too_many_arguments)]
fn build_target(
    ctx: &mut Ctx,
    mf: &str,
    t: &str,
    rules: &BTreeMap<String, Rule>,
    vars: &BTreeMap<String, String>,
    done: &mut Vec<String>,
    depth: usize,
    top: bool,
) -> i32 {
    if done.iter().any(|d| d == t) || depth > 50 || ctx.step().is_err() {
        return 0;
    }
    done.push(t.to_string());
    let Some(rule) = rules.get(t) else {
        if ctx.fs.exists(&ctx.path(t)) {
            return 0;
        }
        ctx.err(format!("make: *** No rule to make target '{t}'.  Stop.\n"));
        return 2;
    };
    for d in &rule.deps {
        let c = build_target(ctx, mf, d, rules, vars, done, depth + 1, false);
        if c != 0 {
            return c;
        }
    }
    if rule.recipe.is_empty()
        || (ctx.fs.exists(&ctx.path(t))
            && rule.deps.iter().all(|d| {
                ctx.fs.exists(&ctx.path(d))
                    && !rules
                        .get(d)
                        .is_some_and(|r| !r.recipe.is_empty() && !ctx.fs.exists(&ctx.path(d)))
            }))
            && !rule.deps.is_empty()
    {
        if top && ctx.fs.exists(&ctx.path(t)) {
            ctx.out(format!("make: '{t}' is up to date.\n"));
        } else if top && rule.recipe.is_empty() {
            ctx.out(format!("make: Nothing to be done for '{t}'.\n"));
        }
        return 0;
    }
    for r in &rule.recipe {
        let mut line = r.clone();
        for (k, v) in vars {
            line = line
                .replace(&format!("$({k})"), v)
                .replace(&format!("${{{k}}}"), v);
        }
        line = line
            .replace("$@", t)
            .replace("$<", rule.deps.first().map(String::as_str).unwrap_or(""))
            .replace("$^", &rule.deps.join(" "));
        let (silent, cmd) = match line.strip_prefix('@') {
            Some(c) => (true, c.to_string()),
            None => (false, line.clone()),
        };
        let (ignore, cmd) = match cmd.strip_prefix('-') {
            Some(c) => (true, c.to_string()),
            None => (false, cmd),
        };
        if !silent {
            ctx.out(format!("{cmd}\n"));
        }
        let mut child = ctx.child();
        let argv = vec!["/bin/sh".to_string(), "-c".to_string(), cmd.clone()];
        let status = match crate::userland::exec::exec_name(&mut child, &argv) {
            Ok(s) => s,
            Err(e) => e.status(),
        };
        drop(child);
        if status != 0 && !ignore {
            ctx.err(format!(
                "make: *** [{mf}:{}: {t}] Error {status}\n",
                rule.line + 1
            ));
            return 2;
        }
    }
    0
}
