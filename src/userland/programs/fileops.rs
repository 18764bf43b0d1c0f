//! The programs that make, copy, move and remove names and change their
//! metadata: `mkdir rmdir rm cp mv ln chmod chown chgrp touch install`.
//! busybox 1.36 wording on Alpine and busybox images (`can't ...`), GNU
//! coreutils 9.1 on Debian and Ubuntu (`cannot ...`, `failed to ...`).

use super::util::{self, Spec, gnu, may_create, prog};
use crate::layer::{Content, Entry, Kind};
use crate::userland::fs::{Errno, FileType, join};
use crate::userland::proc::Ctx;

fn base(p: &str) -> &str {
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return "/";
    }
    t.rsplit('/').next().unwrap_or(t)
}

/// GNU's "missing operand" error.
fn missing(ctx: &Ctx, p: &str, what: &str) -> i32 {
    if gnu(ctx) {
        ctx.err(format!(
            "{p}: missing {what}operand\nTry '{p} --help' for more information.\n"
        ));
    } else {
        ctx.err(format!("{}\n", util::BANNER));
    }
    1
}

/// `mkdir [-p] [-m MODE] DIR...`
pub fn mkdir(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let spec = Spec {
        flags: "pv",
        with_arg: "m",
        longs: &[("parents", 'p'), ("mode", 'm'), ("verbose", 'v')],
        permute: true,
    };
    let o = match spec.parse(&argv[1..]) {
        Ok(o) => o,
        Err(e) => return util::opt_error(ctx, &p, &e, 1),
    };
    if o.operands.is_empty() {
        return missing(ctx, &p, "");
    }
    let mode = match o.val('m') {
        Some(m) => match util::parse_mode(m, 0o777, true) {
            Some(m) => Some(m),
            None => {
                ctx.err(format!("{p}: invalid mode '{m}'\n"));
                return 1;
            }
        },
        None => None,
    };
    let cant = if gnu(ctx) { "cannot" } else { "can't" };
    let mut status = 0;
    for d in &o.operands {
        let abs = ctx.path(d);
        let res = (|| -> Result<(), Errno> {
            if o.has('p') {
                // Create each missing ancestor with the default mode.
                let mut cur = String::from("/");
                let parts: Vec<&str> = abs.split('/').filter(|s| !s.is_empty()).collect();
                for (i, part) in parts.iter().enumerate() {
                    cur = join(&cur, part);
                    match ctx.fs.stat(&cur, true) {
                        Ok(st) if st.kind == FileType::Dir => continue,
                        Ok(_) => {
                            return Err(if i + 1 == parts.len() {
                                Errno::Exist
                            } else {
                                Errno::NotDir
                            });
                        }
                        Err(Errno::NoEnt) => {}
                        Err(e) => return Err(e),
                    }
                    may_create(ctx, &cur)?;
                    let m = if i + 1 == parts.len() {
                        mode.unwrap_or(0o755)
                    } else {
                        0o755
                    };
                    let c = util::cred(ctx);
                    ctx.fs.mkdir(&cur, m, c, false)?;
                }
                Ok(())
            } else {
                may_create(ctx, &abs)?;
                let c = util::cred(ctx);
                ctx.fs.mkdir(&abs, mode.unwrap_or(0o755), c, false)
            }
        })();
        if let Err(e) = res {
            ctx.err(format!("{p}: {cant} create directory '{d}': {e}\n"));
            status = 1;
        } else if o.has('v') {
            ctx.out(format!("{p}: created directory '{d}'\n"));
        }
    }
    status
}

/// `rmdir [-p] DIR...`
pub fn rmdir(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let spec = Spec {
        flags: "p",
        with_arg: "",
        longs: &[("parents", 'p'), ("ignore-fail-on-non-empty", '\u{1}')],
        permute: true,
    };
    let o = match spec.parse(&argv[1..]) {
        Ok(o) => o,
        Err(e) => return util::opt_error(ctx, &p, &e, 1),
    };
    if o.operands.is_empty() {
        return missing(ctx, &p, "");
    }
    let mut status = 0;
    for d in &o.operands {
        let mut cur = d.trim_end_matches('/').to_string();
        loop {
            let abs = ctx.path(&cur);
            let r = may_create(ctx, &abs).and_then(|_| ctx.fs.remove(&abs, true));
            if let Err(e) = r {
                if !(e == Errno::NotEmpty && o.has('\u{1}')) {
                    if gnu(ctx) {
                        ctx.err(format!("{p}: failed to remove '{cur}': {e}\n"));
                    } else {
                        ctx.err(format!("{p}: '{cur}': {e}\n"));
                    }
                    status = 1;
                }
                break;
            }
            if !o.has('p') {
                break;
            }
            match cur.rsplit_once('/') {
                Some((parent, _)) if !parent.is_empty() => cur = parent.to_string(),
                _ => break,
            }
        }
    }
    status
}

/// `rm [-rRfi] FILE...`
pub fn rm(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let spec = Spec {
        flags: "rRfivd",
        with_arg: "",
        longs: &[
            ("recursive", 'r'),
            ("force", 'f'),
            ("verbose", 'v'),
            ("dir", 'd'),
            ("no-preserve-root", '\u{1}'),
        ],
        permute: true,
    };
    let o = match spec.parse(&argv[1..]) {
        Ok(o) => o,
        Err(e) => return util::opt_error(ctx, &p, &e, 1),
    };
    let force = o.has('f');
    let rec = o.has('r') || o.has('R');
    if o.operands.is_empty() {
        return if force { 0 } else { missing(ctx, &p, "") };
    }
    let g = gnu(ctx);
    let cant = if g { "cannot" } else { "can't" };
    let mut status = 0;
    for f in &o.operands {
        if ctx.step().is_err() {
            return 1;
        }
        let abs = ctx.path(f);
        if abs == "/" && rec && g && !o.has('\u{1}') {
            ctx.err(format!(
                    "{p}: it is dangerous to operate recursively on '/'\n{p}: use --no-preserve-root to override this failsafe\n"
                ));
            status = 1;
            continue;
        }
        let base_name = base(f);
        if base_name == "." || base_name == ".." {
            if g {
                ctx.err(format!(
                    "{p}: refusing to remove '.' or '..' directory: skipping '{f}'\n"
                ));
            } else {
                ctx.err(format!("{p}: can't remove '.' or '..'\n"));
            }
            status = 1;
            continue;
        }
        let st = match ctx.fs.stat(&abs, false) {
            Ok(st) => st,
            Err(e) => {
                if !(force && e == Errno::NoEnt) {
                    ctx.err(format!("{p}: {cant} remove '{f}': {e}\n"));
                    status = 1;
                }
                continue;
            }
        };
        if st.kind == FileType::Dir && !rec {
            if o.has('d') {
                if let Err(e) = may_create(ctx, &abs).and_then(|_| ctx.fs.remove(&abs, true)) {
                    ctx.err(format!("{p}: {cant} remove '{f}': {e}\n"));
                    status = 1;
                }
                continue;
            }
            if g {
                ctx.err(format!("{p}: cannot remove '{f}': Is a directory\n"));
            } else {
                ctx.err(format!("{p}: '{f}' is a directory\n"));
            }
            status = 1;
            continue;
        }
        // A non-root user needs write access to every directory emptied.
        let r = may_create(ctx, &abs).and_then(|_| {
            if st.kind == FileType::Dir && ctx.user.uid != 0 {
                let cred = util::cred(ctx);
                for k in ctx.fs.walk(&abs)? {
                    ctx.fs.may_write_in(&k, cred)?;
                }
                ctx.fs.may(&st.path, cred, 2)?;
            }
            ctx.fs.remove_all(&abs)
        });
        match r {
            Err(e) => {
                ctx.err(format!("{p}: {cant} remove '{f}': {e}\n"));
                status = 1;
            }
            Ok(()) if o.has('v') => {
                if g {
                    let kind = if st.kind == FileType::Dir {
                        "removed directory"
                    } else {
                        "removed"
                    };
                    ctx.out(format!("{kind} '{f}'\n"));
                } else {
                    ctx.out(format!("removed '{f}'\n"));
                }
            }
            Ok(()) => {}
        }
    }
    status
}

#[derive(Clone, Copy)]
struct CpOpts {
    rec: bool,
    preserve: bool,
    no_deref: bool,
    force: bool,
    no_clobber: bool,
}

/// Copies one operand (a file or, with `rec`, a tree) to `dst`.
fn copy_one(ctx: &mut Ctx, src: &str, dst: &str, o: CpOpts) -> Result<(), (String, Errno)> {
    let follow = !o.no_deref;
    let st = ctx
        .fs
        .stat(src, follow)
        .map_err(|e| (format!("stat:{src}"), e))?;
    util::may_read(ctx, src)
        .or_else(|e| {
            if st.kind == FileType::Symlink {
                Ok(())
            } else {
                Err(e)
            }
        })
        .map_err(|e| (format!("open:{src}"), e))?;
    let umask = if o.preserve { 0 } else { util::UMASK };
    let owner = if o.preserve {
        crate::userland::fs::Cred {
            uid: st.uid,
            gid: st.gid,
        }
    } else {
        util::cred(ctx)
    };
    let mtime = if o.preserve { st.mtime } else { ctx.fs.clock };
    match st.kind {
        FileType::Dir => {
            if !o.rec {
                return Err((format!("omit:{src}"), Errno::IsDir));
            }
            match ctx.fs.stat(dst, true) {
                Ok(d) if d.kind == FileType::Dir => {}
                Ok(_) => return Err((format!("mkdir:{dst}"), Errno::Exist)),
                Err(_) => {
                    may_create(ctx, dst).map_err(|e| (format!("mkdir:{dst}"), e))?;
                    ctx.fs
                        .mkdir(dst, st.mode & !umask, owner, false)
                        .map_err(|e| (format!("mkdir:{dst}"), e))?;
                }
            }
            for name in ctx.fs.read_dir(src).unwrap_or_default() {
                if ctx.step().is_err() {
                    return Ok(());
                }
                copy_one(
                    ctx,
                    &join(src, &name),
                    &join(dst, &name),
                    CpOpts {
                        no_deref: o.no_deref,
                        ..o
                    },
                )?;
            }
            if o.preserve {
                let _ = ctx.fs.set_meta(
                    dst,
                    true,
                    Some(st.mode),
                    Some((Some(st.uid), Some(st.gid))),
                    Some(st.mtime),
                );
            }
            Ok(())
        }
        FileType::Symlink => {
            let target = ctx
                .fs
                .read_link(src)
                .map_err(|e| (format!("stat:{src}"), e))?;
            if ctx.fs.stat(dst, false).is_ok() {
                ctx.fs
                    .remove(dst, false)
                    .map_err(|e| (format!("create:{dst}"), e))?;
            }
            may_create(ctx, dst).map_err(|e| (format!("create:{dst}"), e))?;
            ctx.fs
                .symlink(&target, dst, owner)
                .map_err(|e| (format!("create:{dst}"), e))
        }
        FileType::File => {
            let content = ctx
                .fs
                .content(src)
                .map_err(|e| (format!("open:{src}"), e))?;
            match ctx.fs.stat(dst, true) {
                Ok(d) if d.kind == FileType::Dir => {
                    return Err((format!("overdir:{dst}"), Errno::IsDir));
                }
                Ok(_) if o.no_clobber => return Ok(()),
                Ok(_) => {
                    if let Err(e) = util::may_write(ctx, dst) {
                        if o.force {
                            may_create(ctx, dst).map_err(|e| (format!("create:{dst}"), e))?;
                            let _ = ctx.fs.remove(dst, false);
                        } else {
                            return Err((format!("create:{dst}"), e));
                        }
                    }
                }
                Err(_) => {
                    may_create(ctx, dst).map_err(|e| (format!("create:{dst}"), e))?;
                }
            }
            ctx.fs
                .write(dst, content, st.mode & !umask, owner)
                .map_err(|e| (format!("create:{dst}"), e))?;
            if o.preserve {
                let _ = ctx.fs.set_meta(
                    dst,
                    true,
                    Some(st.mode),
                    Some((Some(st.uid), Some(st.gid))),
                    Some(mtime),
                );
            }
            Ok(())
        }
    }
}

/// `cp [-rRapPfnLdv] SRC... DST`
pub fn cp(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let spec = Spec {
        flags: "rRapPfnLdvHiTu",
        with_arg: "t",
        longs: &[
            ("recursive", 'r'),
            ("archive", 'a'),
            ("preserve", 'p'),
            ("no-dereference", 'P'),
            ("force", 'f'),
            ("no-clobber", 'n'),
            ("dereference", 'L'),
            ("verbose", 'v'),
            ("target-directory", 't'),
            ("no-target-directory", 'T'),
        ],
        permute: true,
    };
    let o = match spec.parse(&argv[1..]) {
        Ok(o) => o,
        Err(e) => return util::opt_error(ctx, &p, &e, 1),
    };
    let rec = o.has('r') || o.has('R') || o.has('a');
    let opts = CpOpts {
        rec,
        preserve: o.has('a') || o.has('p'),
        no_deref: (o.has('a') || o.has('P') || o.has('d') || (rec && !o.has('L'))) && !o.has('L'),
        force: o.has('f'),
        no_clobber: o.has('n'),
    };
    let mut ops = o.operands.clone();
    let target = match target_operand(ctx, &p, o.val('t'), &mut ops) {
        Ok(t) => t,
        Err(status) => return status,
    };
    copy_or_move(
        ctx,
        &p,
        &ops,
        &target,
        |ctx, s, d| copy_one(ctx, s, d, opts),
        o.has('v'),
        o.has('T'),
    )
}

fn copy_or_move(
    ctx: &mut Ctx,
    p: &str,
    sources: &[String],
    target: &str,
    mut op: impl FnMut(&mut Ctx, &str, &str) -> Result<(), (String, Errno)>,
    verbose: bool,
    no_target_dir: bool,
) -> i32 {
    let g = gnu(ctx);
    let cant = if g { "cannot" } else { "can't" };
    let tabs = ctx.path(target);
    let tdir = !no_target_dir && ctx.fs.is_dir(&tabs);
    if sources.len() > 1 && !tdir {
        if g {
            ctx.err(format!("{p}: target '{target}' is not a directory\n"));
        } else {
            ctx.err(format!("{p}: '{target}' is not a directory\n"));
        }
        return 1;
    }
    let mut status = 0;
    for s in sources {
        let sabs = ctx.path(s);
        let (dabs, dname) = if tdir {
            let n = base(s);
            (
                join(&tabs, n),
                format!("{}/{n}", target.trim_end_matches('/')),
            )
        } else {
            (tabs.clone(), target.to_string())
        };
        if sabs == dabs {
            ctx.err(format!("{p}: '{s}' and '{dname}' are the same file\n"));
            status = 1;
            continue;
        }
        if let Err((what, e)) = op(ctx, &sabs, &dabs) {
            let (kind, path) = what.split_once(':').unwrap_or(("", ""));
            // Report paths as the user wrote them where we can.
            let shown = if path == sabs {
                s.clone()
            } else if path == dabs {
                dname.clone()
            } else if let Some(rest) = path.strip_prefix(&format!("{sabs}/")) {
                format!("{s}/{rest}")
            } else if let Some(rest) = path.strip_prefix(&format!("{dabs}/")) {
                format!("{dname}/{rest}")
            } else {
                path.to_string()
            };
            let msg = match (kind, g) {
                ("stat", true) => format!("{p}: cannot stat '{shown}': {e}"),
                ("stat", false) if p == "mv" => format!("{p}: can't rename '{shown}': {e}"),
                ("stat", false) => format!("{p}: can't stat '{shown}': {e}"),
                ("open", true) => format!("{p}: cannot open '{shown}' for reading: {e}"),
                ("open", false) => format!("{p}: can't open '{shown}': {e}"),
                ("omit", true) => format!("{p}: -r not specified; omitting directory '{shown}'"),
                ("omit", false) => format!("{p}: omitting directory '{shown}'"),
                ("mkdir", true) => format!("{p}: cannot create directory '{shown}': {e}"),
                ("mkdir", false) => format!("{p}: can't create directory '{shown}': {e}"),
                ("overdir", true) => {
                    format!("{p}: cannot overwrite directory '{shown}' with non-directory")
                }
                ("overdir", false) => format!("{p}: can't create '{shown}': Is a directory"),
                ("create", true) => format!("{p}: cannot create regular file '{shown}': {e}"),
                ("move", true) => format!("{p}: cannot move '{s}' to '{shown}': {e}"),
                ("move", false) => format!("{p}: can't rename '{s}': {e}"),
                (_, _) => format!("{p}: {cant} create '{shown}': {e}"),
            };
            ctx.err(format!("{msg}\n"));
            status = 1;
        } else if verbose {
            if p == "mv" && g {
                ctx.out(format!("renamed '{s}' -> '{dname}'\n"));
            } else {
                ctx.out(format!("'{s}' -> '{dname}'\n"));
            }
        }
    }
    status
}

/// `mv [-fnv] SRC... DST`
pub fn mv(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let spec = Spec {
        flags: "fnivT",
        with_arg: "t",
        longs: &[
            ("force", 'f'),
            ("no-clobber", 'n'),
            ("verbose", 'v'),
            ("target-directory", 't'),
            ("no-target-directory", 'T'),
        ],
        permute: true,
    };
    let o = match spec.parse(&argv[1..]) {
        Ok(o) => o,
        Err(e) => return util::opt_error(ctx, &p, &e, 1),
    };
    let mut ops = o.operands.clone();
    let target = match target_operand(ctx, &p, o.val('t'), &mut ops) {
        Ok(t) => t,
        Err(status) => return status,
    };
    let no_clobber = o.has('n');
    copy_or_move(
        ctx,
        &p,
        &ops,
        &target,
        |ctx, s, d| {
            ctx.fs
                .stat(s, false)
                .map_err(|e| (format!("stat:{s}"), e))?;
            if no_clobber && ctx.fs.stat(d, false).is_ok() {
                return Ok(());
            }
            may_create(ctx, s).map_err(|e| (format!("move:{d}"), e))?;
            may_create(ctx, d).map_err(|e| (format!("move:{d}"), e))?;
            if let (Ok(a), Ok(b)) = (ctx.fs.stat(s, false), ctx.fs.stat(d, false))
                && a.kind == FileType::Dir
                && b.kind != FileType::Dir
            {
                return Err((format!("move:{d}"), Errno::NotDir));
            }
            ctx.fs.rename(s, d).map_err(|e| (format!("move:{d}"), e))
        },
        o.has('v'),
        o.has('T'),
    )
}

/// `ln [-sfnv] TARGET... LINK`
pub fn ln(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let spec = Spec {
        flags: "sfnvTr",
        with_arg: "t",
        longs: &[
            ("symbolic", 's'),
            ("force", 'f'),
            ("no-dereference", 'n'),
            ("verbose", 'v'),
            ("target-directory", 't'),
            ("relative", 'r'),
        ],
        permute: true,
    };
    let o = match spec.parse(&argv[1..]) {
        Ok(o) => o,
        Err(e) => return util::opt_error(ctx, &p, &e, 1),
    };
    let g = gnu(ctx);
    if o.operands.is_empty() {
        return missing(ctx, &p, "file ");
    }
    let mut ops = o.operands.clone();
    let (targets, link): (Vec<String>, String) = match o.val('t') {
        Some(t) => (ops, t.to_string()),
        None if ops.len() == 1 => {
            let t = ops.remove(0);
            (vec![t.clone()], ".".to_string())
        }
        None => {
            let l = ops.pop().unwrap_or_default();
            (ops, l)
        }
    };
    let labs = ctx.path(&link);
    let ldir = if o.has('n') {
        matches!(ctx.fs.stat(&labs, false), Ok(s) if s.kind == FileType::Dir)
    } else {
        ctx.fs.is_dir(&labs)
    };
    if targets.len() > 1 && !ldir {
        ctx.err(if g {
            format!("{p}: target '{link}' is not a directory\n")
        } else {
            format!("{p}: '{link}' is not a directory\n")
        });
        return 1;
    }
    let mut status = 0;
    for t in &targets {
        let (dabs, dname) = if ldir {
            (
                join(&labs, base(t)),
                format!("{}/{}", link.trim_end_matches('/'), base(t)),
            )
        } else {
            (labs.clone(), link.clone())
        };
        let r = (|| -> Result<(), (bool, Errno)> {
            if !o.has('s') {
                let sabs = ctx.path(t);
                let st = ctx.fs.stat(&sabs, true).map_err(|e| (true, e))?;
                if st.kind == FileType::Dir {
                    return Err((true, Errno::Perm));
                }
            }
            if ctx.fs.stat(&dabs, false).is_ok() {
                if !o.has('f') {
                    return Err((false, Errno::Exist));
                }
                may_create(ctx, &dabs).map_err(|e| (false, e))?;
                ctx.fs.remove(&dabs, false).map_err(|e| (false, e))?;
            }
            may_create(ctx, &dabs).map_err(|e| (false, e))?;
            let c = util::cred(ctx);
            if o.has('s') {
                ctx.fs.symlink(t, &dabs, c).map_err(|e| (false, e))
            } else {
                // A hard link: the same bytes and metadata under a new name.
                let sabs = ctx.path(t);
                let r = ctx.fs.resolve(&sabs, true).map_err(|e| (true, e))?;
                let e = ctx.fs.entry(&r).cloned().ok_or((true, Errno::NoEnt))?;
                let dr = ctx.fs.resolve(&dabs, false).map_err(|e| (false, e))?;
                ctx.fs.put(Entry { path: dr, ..e }).map_err(|e| (false, e))
            }
        })();
        match r {
            Err((true, Errno::Perm)) => {
                ctx.err(if g {
                    format!("{p}: {t}: hard link not allowed for directory\n")
                } else {
                    format!("{p}: {dname}: Operation not permitted\n")
                });
                status = 1;
            }
            Err((true, e)) => {
                ctx.err(if g {
                    format!("{p}: failed to access '{t}': {e}\n")
                } else {
                    format!("{p}: {t}: {e}\n")
                });
                status = 1;
            }
            Err((false, e)) => {
                let kind = if o.has('s') {
                    "symbolic link"
                } else {
                    "hard link"
                };
                ctx.err(if g {
                    format!("{p}: failed to create {kind} '{dname}': {e}\n")
                } else {
                    format!("{p}: {dname}: {e}\n")
                });
                status = 1;
            }
            Ok(()) => {
                if o.has('v') {
                    ctx.out(format!("'{dname}' -> '{t}'\n"));
                }
            }
        }
    }
    status
}

/// Visits `abs` and, with `rec`, everything below it (not following links
/// below the top).
fn visit(ctx: &Ctx, abs: &str, rec: bool) -> Vec<String> {
    let mut v = vec![abs.to_string()];
    if rec
        && ctx.fs.is_dir(abs)
        && matches!(ctx.fs.stat(abs, false), Ok(s) if s.kind == FileType::Dir)
        && let Ok(r) = ctx.fs.resolve(abs, true)
    {
        for k in ctx.fs.walk(abs).unwrap_or_default() {
            let rel = if r.is_empty() {
                k.clone()
            } else {
                k[r.len() + 1..].to_string()
            };
            v.push(join(abs, &rel));
        }
    }
    v
}

/// `chmod [-R] MODE FILE...`
pub fn chmod(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    // Modes such as `-w` look like options: take the first non-option word.
    let mut rec = false;
    let mut verbose = false;
    let mut words = Vec::new();
    let mut ended = false;
    for a in &argv[1..] {
        if !ended && words.is_empty() && a.starts_with('-') && a.len() > 1 {
            match a.as_str() {
                "--" => ended = true,
                "-R" | "--recursive" => rec = true,
                "-v" | "--verbose" => verbose = true,
                "-f" | "--silent" | "--quiet" => {}
                s if s[1..].chars().all(|c| "rwxXst".contains(c)) => words.push(a.clone()),
                s if s[1..].chars().all(|c| "Rvf".contains(c)) => {
                    rec |= s.contains('R');
                    verbose |= s.contains('v');
                }
                _ => {
                    let c = a.chars().nth(1).unwrap_or('-');
                    return util::opt_error(ctx, &p, &util::OptError::Unknown(c), 1);
                }
            }
        } else {
            words.push(a.clone());
        }
    }
    if words.len() < 2 {
        if gnu(ctx) {
            let what = if words.is_empty() {
                "missing operand".to_string()
            } else {
                format!("missing operand after '{}'", words[0])
            };
            ctx.err(format!(
                "{p}: {what}\nTry '{p} --help' for more information.\n"
            ));
        } else {
            ctx.err(format!("{}\n", util::BANNER));
        }
        return 1;
    }
    let spec = words.remove(0);
    if util::parse_mode(&spec, 0, false).is_none() {
        ctx.err(if gnu(ctx) {
            format!("{p}: invalid mode: '{spec}'\nTry '{p} --help' for more information.\n")
        } else {
            format!("{p}: invalid mode '{spec}'\n")
        });
        return 1;
    }
    let g = gnu(ctx);
    let mut status = 0;
    for f in &words {
        let top = ctx.path(f);
        for abs in visit(ctx, &top, rec) {
            if ctx.step().is_err() {
                return 1;
            }
            let shown = if abs == top {
                f.clone()
            } else {
                format!(
                    "{}{}",
                    f.trim_end_matches('/'),
                    &abs[top.len().min(abs.len())..]
                )
            };
            let st = match ctx.fs.stat(&abs, true) {
                Ok(s) => s,
                Err(e) => {
                    if abs != top {
                        // A dangling link inside a tree is skipped.
                        continue;
                    }
                    ctx.err(if g {
                        format!("{p}: cannot access '{shown}': {e}\n")
                    } else {
                        format!("{p}: {shown}: {e}\n")
                    });
                    status = 1;
                    continue;
                }
            };
            if abs != top
                && matches!(ctx.fs.stat(&abs, false), Ok(s) if s.kind == FileType::Symlink)
            {
                continue;
            }
            let new = util::parse_mode(&spec, st.mode, st.kind == FileType::Dir).unwrap_or(st.mode);
            if ctx.user.uid != 0 && ctx.user.uid != st.uid {
                ctx.err(if g {
                    format!("{p}: changing permissions of '{shown}': Operation not permitted\n")
                } else {
                    format!("{p}: {shown}: Operation not permitted\n")
                });
                status = 1;
                continue;
            }
            let _ = ctx.fs.set_meta(&abs, true, Some(new), None, None);
            if verbose {
                ctx.out(format!(
                    "mode of '{shown}' changed from {:04o} ({}) to {:04o} ({})\n",
                    st.mode,
                    &util::mode_string(&st)[1..],
                    new,
                    &util::mode_string(&crate::userland::fs::Stat {
                        mode: new,
                        ..st.clone()
                    })[1..]
                ));
            }
        }
    }
    status
}

/// `chown [-Rh] OWNER[:GROUP] FILE...` and `chgrp [-Rh] GROUP FILE...`
pub fn chown(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let is_chgrp = p == "chgrp";
    let spec = Spec {
        flags: "RhfvcHLP",
        with_arg: "",
        longs: &[
            ("recursive", 'R'),
            ("no-dereference", 'h'),
            ("verbose", 'v'),
            ("silent", 'f'),
            ("quiet", 'f'),
            ("changes", 'c'),
            ("dereference", '\u{1}'),
        ],
        permute: true,
    };
    let o = match spec.parse(&argv[1..]) {
        Ok(o) => o,
        Err(e) => return util::opt_error(ctx, &p, &e, 1),
    };
    let g = gnu(ctx);
    if o.operands.len() < 2 {
        if g {
            let what = if o.operands.is_empty() {
                "missing operand".to_string()
            } else {
                format!("missing operand after '{}'", o.operands[0])
            };
            ctx.err(format!(
                "{p}: {what}\nTry '{p} --help' for more information.\n"
            ));
        } else {
            ctx.err(format!("{}\n", util::BANNER));
        }
        return 1;
    }
    let spec_s = o.operands[0].clone();
    let (u, gr): (Option<&str>, Option<&str>) = if is_chgrp {
        (None, Some(spec_s.as_str()))
    } else {
        match spec_s
            .split_once(':')
            .or_else(|| if g { None } else { spec_s.split_once('.') })
        {
            Some((u, gr)) => (
                if u.is_empty() { None } else { Some(u) },
                Some(gr)
                    .filter(|s| !s.is_empty())
                    .or(if u.is_empty() { None } else { Some("") }),
            ),
            None => (Some(spec_s.as_str()), None),
        }
    };
    let uid = match u {
        Some(u) => match util::parse_uid(ctx, u) {
            Some(id) => Some(id),
            None => {
                ctx.err(if g {
                    format!("{p}: invalid user: '{spec_s}'\n")
                } else {
                    format!("{p}: unknown user {u}\n")
                });
                return 1;
            }
        },
        None => None,
    };
    // `user:` means the user's login group.
    let gid = match gr {
        Some("") => u
            .and_then(|u| util::user_row(ctx, u))
            .and_then(|r| r.field(3).parse().ok()),
        Some(gname) => match util::parse_gid(ctx, gname) {
            Some(id) => Some(id),
            None => {
                ctx.err(if g {
                    if is_chgrp {
                        format!("{p}: invalid group: '{gname}'\n")
                    } else {
                        format!("{p}: invalid group: '{spec_s}'\n")
                    }
                } else {
                    format!("{p}: unknown group {gname}\n")
                });
                return 1;
            }
        },
        None => None,
    };
    let follow = !o.has('h');
    let mut status = 0;
    for f in &o.operands[1..] {
        let top = ctx.path(f);
        for abs in visit(ctx, &top, o.has('R')) {
            if ctx.step().is_err() {
                return 1;
            }
            let shown = if abs == top {
                f.clone()
            } else {
                format!(
                    "{}{}",
                    f.trim_end_matches('/'),
                    &abs[top.len().min(abs.len())..]
                )
            };
            let fol = follow && abs == top;
            let st = match ctx.fs.stat(&abs, fol) {
                Ok(s) => s,
                Err(e) => {
                    ctx.err(if g {
                        format!("{p}: cannot access '{shown}': {e}\n")
                    } else {
                        format!("{p}: {shown}: {e}\n")
                    });
                    status = 1;
                    continue;
                }
            };
            if ctx.user.uid != 0 {
                let ok = st.uid == ctx.user.uid
                    && uid.is_none_or(|x| x == st.uid)
                    && gid.is_none_or(|x| ctx.user.groups.contains(&x) || x == ctx.user.gid);
                if !ok {
                    if !o.has('f') {
                        let what = if is_chgrp { "group" } else { "ownership" };
                        ctx.err(if g {
                            format!("{p}: changing {what} of '{shown}': Operation not permitted\n")
                        } else {
                            format!("{p}: {shown}: Operation not permitted\n")
                        });
                    }
                    status = 1;
                    continue;
                }
            }
            let _ = ctx.fs.set_meta(&abs, fol, None, Some((uid, gid)), None);
            if o.has('v') {
                ctx.out(format!("ownership of '{shown}' retained as {spec_s}\n"));
            }
        }
    }
    status
}

/// Parses `touch -d`/`date -d` dates: `@SECS`, `YYYY-MM-DD[ T]HH:MM[:SS]`,
/// `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<u64> {
    if let Some(n) = s.strip_prefix('@') {
        return n.parse().ok();
    }
    let s = s.trim().trim_end_matches('Z').trim_end_matches(" UTC");
    for f in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(d) = chrono::NaiveDateTime::parse_from_str(s, f) {
            return u64::try_from(d.and_utc().timestamp()).ok();
        }
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|d| u64::try_from(d.and_utc().timestamp()).ok())
}

/// `touch -t [[CC]YY]MMDDhhmm[.ss]`.
fn parse_touch_t(s: &str, now: u64) -> Option<u64> {
    let (main, secs) = match s.split_once('.') {
        Some((m, s)) => (m, s.parse::<u32>().ok()?),
        None => (s, 0),
    };
    if !main.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let year_now = util::datetime(now).format("%Y").to_string();
    let full = match main.len() {
        8 => format!("{year_now}{main}"),
        10 => {
            let yy: u32 = main[..2].parse().ok()?;
            format!("{}{main}", if yy < 69 { 20 } else { 19 })
        }
        12 => main.to_string(),
        _ => return None,
    };
    let d =
        chrono::NaiveDateTime::parse_from_str(&format!("{full}{secs:02}"), "%Y%m%d%H%M%S").ok()?;
    u64::try_from(d.and_utc().timestamp()).ok()
}

/// `touch [-c] [-d DATE] [-t STAMP] [-r REF] FILE...`
pub fn touch(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let spec = Spec {
        flags: "cahm",
        with_arg: "dtr",
        longs: &[
            ("no-create", 'c'),
            ("date", 'd'),
            ("reference", 'r'),
            ("no-dereference", 'h'),
        ],
        permute: true,
    };
    let o = match spec.parse(&argv[1..]) {
        Ok(o) => o,
        Err(e) => return util::opt_error(ctx, &p, &e, 1),
    };
    let g = gnu(ctx);
    let mut when = ctx.fs.clock;
    if let Some(d) = o.val('d') {
        match parse_date(d) {
            Some(t) => when = t,
            None => {
                ctx.err(if g {
                    format!("{p}: invalid date format '{d}'\n")
                } else {
                    format!("{p}: invalid date '{d}'\n")
                });
                return 1;
            }
        }
    }
    if let Some(t) = o.val('t') {
        match parse_touch_t(t, ctx.world.clock) {
            Some(t) => when = t,
            None => {
                ctx.err(if g {
                    format!("{p}: invalid date format '{t}'\n")
                } else {
                    format!("{p}: invalid date '{t}'\n")
                });
                return 1;
            }
        }
    }
    if let Some(r) = o.val('r') {
        let abs = ctx.path(r);
        match ctx.fs.stat(&abs, true) {
            Ok(s) => when = s.mtime,
            Err(e) => {
                ctx.err(if g {
                    format!("{p}: failed to get attributes of '{r}': {e}\n")
                } else {
                    format!("{p}: {r}: {e}\n")
                });
                return 1;
            }
        }
    }
    if o.operands.is_empty() {
        return missing(ctx, &p, "file ");
    }
    let mut status = 0;
    for f in &o.operands {
        let abs = ctx.path(f);
        let r = match ctx.fs.stat(&abs, true) {
            Ok(st) => {
                if ctx.user.uid != 0
                    && st.uid != ctx.user.uid
                    && util::may_write(ctx, &abs).is_err()
                {
                    Err(Errno::Access)
                } else {
                    ctx.fs.set_meta(&abs, true, None, None, Some(when))
                }
            }
            Err(Errno::NoEnt) if o.has('c') => Ok(()),
            Err(Errno::NoEnt) => may_create(ctx, &abs).and_then(|_| {
                let c = util::cred(ctx);
                ctx.fs.write(&abs, Content::bytes(Vec::new()), 0o644, c)?;
                ctx.fs.set_meta(&abs, true, None, None, Some(when))
            }),
            Err(e) => Err(e),
        };
        if let Err(e) = r {
            ctx.err(if g {
                format!("{p}: cannot touch '{f}': {e}\n")
            } else {
                format!("{p}: {f}: {e}\n")
            });
            status = 1;
        }
    }
    status
}

/// `install [-d] [-D] [-m MODE] [-o USER] [-g GROUP] SRC... DST`
pub fn install(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let spec = Spec {
        flags: "dDcsvpC",
        with_arg: "mogt",
        longs: &[
            ("directory", 'd'),
            ("mode", 'm'),
            ("owner", 'o'),
            ("group", 'g'),
            ("verbose", 'v'),
            ("target-directory", 't'),
            ("strip", 's'),
        ],
        permute: true,
    };
    let o = match spec.parse(&argv[1..]) {
        Ok(o) => o,
        Err(e) => return util::opt_error(ctx, &p, &e, 1),
    };
    let g = gnu(ctx);
    let mode = match o.val('m') {
        Some(m) => match util::parse_mode(m, 0o755, false) {
            Some(m) => m,
            None => {
                ctx.err(format!("{p}: invalid mode '{m}'\n"));
                return 1;
            }
        },
        None => 0o755,
    };
    // `-o`/`-g`: names through the image's files, each tool's error when
    // unknown (a non-root caller's chown is refused per file below).
    let id = |ctx: &Ctx, flag: char, what: &str| -> Result<Option<u32>, i32> {
        let Some(v) = o.val(flag) else {
            return Ok(None);
        };
        let found = if flag == 'o' {
            util::parse_uid(ctx, v)
        } else {
            util::parse_gid(ctx, v)
        };
        found.map(Some).ok_or_else(|| {
            ctx.err(if g {
                format!("{p}: invalid {what} '{v}'\n")
            } else {
                format!("{p}: unknown {what} {v}\n")
            });
            1
        })
    };
    let uid = match id(ctx, 'o', "user") {
        Ok(u) => u,
        Err(s) => return s,
    };
    let gid = match id(ctx, 'g', "group") {
        Ok(x) => x,
        Err(s) => return s,
    };
    let c = util::cred(ctx);
    let owner = (uid.or(Some(c.uid)), gid.or(Some(c.gid)));
    let cant = if g { "cannot" } else { "can't" };
    if o.has('d') {
        if o.operands.is_empty() {
            return missing(ctx, &p, "file ");
        }
        let mut status = 0;
        for d in &o.operands {
            let abs = ctx.path(d);
            let r = mkdirs(ctx, &abs)
                .and_then(|_| ctx.fs.set_meta(&abs, true, Some(mode), Some(owner), None));
            if let Err(e) = r {
                ctx.err(format!("{p}: {cant} create directory '{d}': {e}\n"));
                status = 1;
            }
        }
        return status;
    }
    let mut ops = o.operands.clone();
    let target = match o.val('t') {
        Some(t) => t.to_string(),
        None => {
            if ops.len() < 2 {
                return missing(ctx, &p, "file ");
            }
            ops.pop().unwrap_or_default()
        }
    };
    let tabs = ctx.path(&target);
    if o.has('D') {
        let parent = if ops.len() > 1 || o.val('t').is_some() {
            tabs.clone()
        } else {
            join(&tabs, "..")
        };
        if let Err(e) = mkdirs(ctx, &parent) {
            ctx.err(format!("{p}: {cant} create directory '{parent}': {e}\n"));
            return 1;
        }
    }
    let tdir = ctx.fs.is_dir(&tabs);
    let mut status = 0;
    for s in &ops {
        let sabs = ctx.path(s);
        let dabs = if tdir {
            join(&tabs, base(s))
        } else {
            tabs.clone()
        };
        let content = match ctx.fs.content(&sabs) {
            Ok(c) => c,
            Err(e) => {
                ctx.err(if g {
                    format!("{p}: cannot stat '{s}': {e}\n")
                } else {
                    format!("{p}: can't stat '{s}': {e}\n")
                });
                status = 1;
                continue;
            }
        };
        let r = (|| {
            if ctx.fs.stat(&dabs, false).is_ok() {
                may_create(ctx, &dabs)?;
                ctx.fs.remove(&dabs, false)?;
            }
            may_create(ctx, &dabs)?;
            ctx.fs.write(&dabs, content, mode, c)?;
            ctx.fs.set_meta(&dabs, true, Some(mode), Some(owner), None)
        })();
        if let Err(e) = r {
            let shown = if tdir {
                format!("{}/{}", target.trim_end_matches('/'), base(s))
            } else {
                target.clone()
            };
            ctx.err(if g {
                format!("{p}: cannot create regular file '{shown}': {e}\n")
            } else {
                format!("{p}: can't create '{shown}': {e}\n")
            });
            status = 1;
        }
    }
    status
}

/// `mkdir -p` with permission checks.
fn mkdirs(ctx: &mut Ctx, abs: &str) -> Result<(), Errno> {
    let mut cur = String::from("/");
    for part in abs.split('/').filter(|s| !s.is_empty()) {
        cur = join(&cur, part);
        match ctx.fs.stat(&cur, true) {
            Ok(st) if st.kind == FileType::Dir => continue,
            Ok(_) => return Err(Errno::NotDir),
            Err(Errno::NoEnt) => {}
            Err(e) => return Err(e),
        }
        may_create(ctx, &cur)?;
        let c = util::cred(ctx);
        ctx.fs.mkdir(&cur, 0o755, c, false)?;
    }
    Ok(())
}

/// Whether a kind is a directory (for callers outside this file).
pub fn is_dir_kind(k: &Kind) -> bool {
    matches!(k, Kind::Dir)
}

/// The destination of `cp`/`mv`: `-t DIR`, else the last operand; with
/// fewer than two operands, each tool's usage error (its exit status).
fn target_operand(
    ctx: &Ctx,
    p: &str,
    t: Option<&str>,
    ops: &mut Vec<String>,
) -> Result<String, i32> {
    if let Some(t) = t {
        return Ok(t.to_string());
    }
    if ops.is_empty() {
        return Err(missing(ctx, p, "file "));
    }
    if ops.len() == 1 {
        if gnu(ctx) {
            ctx.err(format!(
                "{p}: missing destination file operand after '{}'\nTry '{p} --help' for more information.\n",
                ops[0]
            ));
        } else {
            ctx.err(format!("{}\n", util::BANNER));
        }
        return Err(1);
    }
    Ok(ops.pop().unwrap_or_default())
}
