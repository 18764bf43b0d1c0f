//! The programs about the process and the system rather than files:
//! `pwd env printenv which sleep uname date hostname nproc id whoami
//! groups xargs busybox`, and the path and checksum helpers `readlink
//! realpath mktemp stat du sha256sum md5sum update-ca-certificates`.

use super::util::{self, Spec, gnu, prog};
use crate::layer::Content;
use crate::userland::exec::{self, ExecError};
use crate::userland::fs::{Errno, FileType, join};
use crate::userland::proc::Ctx;
use sha2::Digest;

/// The kernel release `uname -r` reports: Docker Desktop's LinuxKit
/// kernel (4.37), kept constant so transcripts are stable.
pub const KERNEL_RELEASE: &str = "6.10.14-linuxkit";
/// `uname -v` for that kernel.
pub const KERNEL_VERSION: &str = "#1 SMP PREEMPT_DYNAMIC Fri Nov 29 17:22:03 UTC 2024";
/// What `nproc` says (Docker Desktop's default VM size).
pub const NPROC: u32 = 8;

/// `pwd [-LP]`
pub fn pwd(ctx: &mut Ctx, argv: &[String]) -> i32 {
    if argv.iter().skip(1).any(|a| a == "-P") {
        let r = ctx.fs.resolve(&ctx.cwd, true).unwrap_or_default();
        ctx.out(format!("/{r}\n"));
    } else {
        ctx.out(format!("{}\n", ctx.cwd));
    }
    0
}

/// `env [-i] [-u NAME] [NAME=VALUE]... [COMMAND [ARG]...]`
pub fn env(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let g = gnu(ctx);
    let mut env = ctx.env.clone();
    let mut i = 1;
    let mut null = false;
    while i < argv.len() {
        let a = &argv[i];
        match a.as_str() {
            "-i" | "-" | "--ignore-environment" => env = Default::default(),
            "-0" | "--null" => null = true,
            "-u" | "--unset" => {
                i += 1;
                match argv.get(i) {
                    Some(n) => env.remove(n),
                    None => return util::opt_error(ctx, &p, &util::OptError::Missing('u'), 125),
                }
            }
            "--" => {
                i += 1;
                break;
            }
            s if s.starts_with("-u") && s.len() > 2 => env.remove(&s[2..]),
            s if s.starts_with('-') && s.len() > 1 => {
                let c = s.chars().nth(1).unwrap_or('-');
                return util::opt_error(ctx, &p, &util::OptError::Unknown(c), 125);
            }
            _ => break,
        }
        i += 1;
    }
    while i < argv.len() && argv[i].contains('=') && !argv[i].starts_with('=') {
        let (k, v) = argv[i].split_once('=').unwrap_or(("", ""));
        env.set(k, v);
        i += 1;
    }
    if i >= argv.len() {
        let mut s = String::new();
        for (k, v) in env.iter() {
            s.push_str(&format!("{k}={v}{}", if null { '\0' } else { '\n' }));
        }
        ctx.out(s);
        return 0;
    }
    let args = argv[i..].to_vec();
    let stdin = std::mem::take(&mut ctx.stdin);
    let mut child = ctx.child();
    child.env = env;
    child.stdin = stdin;
    match exec::exec_name(&mut child, &args) {
        Ok(s) => s,
        Err(e) => {
            let (what, status) = match &e {
                ExecError::NotFound(_) | ExecError::NoEnt(_) => ("No such file or directory", 127),
                ExecError::Access(_) => ("Permission denied", 126),
                ExecError::Format(_) => ("Exec format error", 126),
                ExecError::Unsimulated(_) => ("imagelab does not simulate this program", 126),
            };
            ctx.err(if g {
                format!("{p}: '{}': {what}\n", args[0])
            } else {
                format!("{p}: can't execute '{}': {what}\n", args[0])
            });
            status
        }
    }
}

/// `printenv [NAME]...`
pub fn printenv(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let names: Vec<&String> = argv[1..].iter().filter(|a| !a.starts_with('-')).collect();
    if names.is_empty() {
        let mut s = String::new();
        for (k, v) in ctx.env.iter() {
            s.push_str(&format!("{k}={v}\n"));
        }
        ctx.out(s);
        return 0;
    }
    let mut status = 0;
    for n in names {
        match ctx.env.get(n) {
            Some(v) => ctx.out(format!("{v}\n")),
            None => status = 1,
        }
    }
    status
}

/// `which [-a] NAME...`
pub fn which(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let all = argv[1..].iter().any(|a| a == "-a");
    let names: Vec<&String> = argv[1..].iter().filter(|a| !a.starts_with('-')).collect();
    if names.is_empty() {
        if !gnu(ctx) {
            ctx.err(format!("{}\n", util::BANNER));
        }
        return 1;
    }
    let path = ctx
        .env
        .get("PATH")
        .unwrap_or(exec::DEFAULT_PATH)
        .to_string();
    let mut status = 0;
    for n in names {
        let mut found = false;
        let cands: Vec<String> = if n.contains('/') {
            vec![n.to_string()]
        } else {
            path.split(':')
                .map(|d| format!("{}/{n}", if d.is_empty() { "." } else { d }))
                .collect()
        };
        for c in cands {
            let abs = ctx.path(&c);
            if let Ok(st) = ctx.fs.stat(&abs, true)
                && st.kind == FileType::File
                && st.mode & 0o111 != 0
            {
                ctx.out(format!("{c}\n"));
                found = true;
                if !all {
                    break;
                }
            }
        }
        if !found {
            status = 1;
        }
    }
    status
}

/// `sleep N[smhd]...` returns at once (the simulated clock does not move).
pub fn sleep(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    if argv.len() < 2 {
        if gnu(ctx) {
            ctx.err(format!(
                "{p}: missing operand\nTry '{p} --help' for more information.\n"
            ));
        } else {
            ctx.err(format!("{}\n", util::BANNER));
        }
        return 1;
    }
    for a in &argv[1..] {
        let t = a.trim_end_matches(['s', 'm', 'h', 'd']);
        if t.parse::<f64>().is_err() && a != "infinity" {
            ctx.err(if gnu(ctx) {
                format!(
                    "{p}: invalid time interval '{a}'\nTry '{p} --help' for more information.\n"
                )
            } else {
                format!("{p}: invalid number '{a}'\n")
            });
            return 1;
        }
    }
    0
}

fn hostname_of(ctx: &Ctx) -> String {
    ctx.env
        .get("HOSTNAME")
        .map(String::from)
        .or_else(|| {
            ctx.fs
                .read_string("/etc/hostname")
                .ok()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        })
        .unwrap_or_else(|| "buildkitsandbox".into())
}

/// `hostname [-s]`
pub fn hostname(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let h = hostname_of(ctx);
    if argv.len() > 1 && !argv[1].starts_with('-') {
        let p = prog(argv);
        ctx.err(if gnu(ctx) {
            format!("{p}: you must be root to change the host name\n")
        } else {
            format!("{p}: sethostname: Operation not permitted\n")
        });
        return 1;
    }
    ctx.out(format!("{h}\n"));
    0
}

/// `uname [-asnrvmpio]`
pub fn uname(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let spec = Spec {
        flags: "asnrvmpio",
        with_arg: "",
        longs: &[
            ("all", 'a'),
            ("kernel-name", 's'),
            ("nodename", 'n'),
            ("kernel-release", 'r'),
            ("kernel-version", 'v'),
            ("machine", 'm'),
            ("processor", 'p'),
            ("hardware-platform", 'i'),
            ("operating-system", 'o'),
        ],
        permute: true,
    };
    let o = match spec.parse(&argv[1..]) {
        Ok(o) => o,
        Err(e) => return util::opt_error(ctx, &p, &e, 1),
    };
    let g = gnu(ctx);
    let m = ctx.world.platform.uname_machine().to_string();
    let osname = if g { "GNU/Linux" } else { "Linux" };
    let all = o.has('a');
    let mut parts = Vec::new();
    let want = |c: char| all || o.has(c);
    if want('s') || o.flags.is_empty() {
        parts.push("Linux".to_string());
    }
    if want('n') {
        parts.push(hostname_of(ctx));
    }
    if want('r') {
        parts.push(KERNEL_RELEASE.into());
    }
    if want('v') {
        parts.push(KERNEL_VERSION.into());
    }
    if want('m') {
        parts.push(m.clone());
    }
    // GNU omits unknown -p/-i from -a; busybox prints "unknown".
    if (all && !g) || o.has('p') {
        parts.push("unknown".into());
    }
    if (all && !g) || o.has('i') {
        parts.push("unknown".into());
    }
    if want('o') {
        parts.push(osname.into());
    }
    ctx.out(format!("{}\n", parts.join(" ")));
    0
}

/// `date [-u] [-d DATE] [-I] [-R] [+FORMAT]`
pub fn date(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let mut when = ctx.world.clock;
    let mut fmt = "%a %b %e %H:%M:%S UTC %Y".to_string();
    let mut i = 1;
    while i < argv.len() {
        let a = &argv[i];
        match a.as_str() {
            "-u" | "--utc" | "--universal" => {}
            "-R" | "--rfc-2822" | "--rfc-email" => fmt = "%a, %d %b %Y %H:%M:%S +0000".into(),
            "-I" | "--iso-8601" => fmt = "%Y-%m-%d".into(),
            s if s.starts_with("-I") || s.starts_with("--iso-8601=") => {
                let what = s.trim_start_matches("--iso-8601=").trim_start_matches("-I");
                fmt = match what {
                    "seconds" => "%Y-%m-%dT%H:%M:%S+00:00",
                    "minutes" => "%Y-%m-%dT%H:%M+00:00",
                    "hours" => "%Y-%m-%dT%H+00:00",
                    _ => "%Y-%m-%d",
                }
                .into();
            }
            "-d" | "--date" => {
                i += 1;
                let Some(d) = argv.get(i) else {
                    return util::opt_error(ctx, &p, &util::OptError::Missing('d'), 1);
                };
                match super::fileops::parse_date(d) {
                    Some(t) => when = t,
                    None if d == "now" => {}
                    None => {
                        ctx.err(format!(
                            "{p}: invalid date '{d}'
"
                        ));
                        return 1;
                    }
                }
            }
            s if s.starts_with('+') => fmt = s[1..].to_string(),
            s if s.starts_with('-') => {
                let c = s.chars().nth(1).unwrap_or('-');
                return util::opt_error(ctx, &p, &util::OptError::Unknown(c), 1);
            }
            _ => {
                ctx.err(format!("{p}: cannot set date: Operation not permitted\n"));
                return 1;
            }
        }
        i += 1;
    }
    ctx.out(format!("{}\n", format_time(when, &fmt)));
    0
}

/// strftime with the specifiers chrono knows; `%N` and `%s` handled here.
pub fn format_time(secs: u64, fmt: &str) -> String {
    let fmt = fmt
        .replace("%N", "000000000")
        .replace("%Z", "UTC")
        .replace("%s", &secs.to_string());
    use std::fmt::Write;
    let d = util::datetime(secs);
    let mut s = String::new();
    if write!(s, "{}", d.format(&fmt)).is_err() {
        return fmt;
    }
    s
}

fn group_list(ctx: &Ctx, name: Option<&str>, gid: u32) -> Vec<u32> {
    let mut v = vec![gid];
    if let Some(n) = name {
        for r in util::db(ctx, "/etc/group") {
            if r.field(3).split(',').any(|m| m == n)
                && let Some(id) = r.id()
                && !v.contains(&id)
            {
                v.push(id);
            }
        }
    }
    v
}

/// `id [-u|-g|-G] [-n] [-r] [USER]`
pub fn id(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let spec = Spec {
        flags: "ugGnr",
        with_arg: "",
        longs: &[
            ("user", 'u'),
            ("group", 'g'),
            ("groups", 'G'),
            ("name", 'n'),
            ("real", 'r'),
        ],
        permute: true,
    };
    let o = match spec.parse(&argv[1..]) {
        Ok(o) => o,
        Err(e) => return util::opt_error(ctx, &p, &e, 1),
    };
    let g = gnu(ctx);
    let (uid, gid, groups) = match o.operands.first() {
        Some(u) => {
            let row = util::user_row(ctx, u).or_else(|| {
                u.parse::<u32>().ok().and_then(|n| {
                    util::db(ctx, "/etc/passwd")
                        .into_iter()
                        .find(|r| r.id() == Some(n))
                })
            });
            let Some(row) = row else {
                ctx.err(if g {
                    format!("{p}: '{u}': no such user\n")
                } else {
                    format!("{p}: unknown user {u}\n")
                });
                return 1;
            };
            let uid = row.id().unwrap_or(0);
            let gid: u32 = row.field(3).parse().unwrap_or(0);
            (uid, gid, group_list(ctx, Some(row.name()), gid))
        }
        None => {
            // runc gives the process the supplementary groups its user
            // has in /etc/group.
            let name = ctx
                .user
                .name
                .clone()
                .or_else(|| util::user_name(ctx, ctx.user.uid));
            let mut gs = group_list(ctx, name.as_deref(), ctx.user.gid);
            for x in &ctx.user.groups {
                if !gs.contains(x) {
                    gs.push(*x);
                }
            }
            (ctx.user.uid, ctx.user.gid, gs)
        }
    };
    let uname = util::user_name(ctx, uid);
    let gname = |id: u32| util::group_name(ctx, id);
    let name_or = |n: Option<String>, id: u32| n.unwrap_or_else(|| id.to_string());
    if o.has('u') {
        if o.has('n') {
            match &uname {
                Some(n) => ctx.out(format!("{n}\n")),
                None => {
                    ctx.err(if g {
                        format!("{p}: cannot find name for user ID {uid}\n")
                    } else {
                        format!("{p}: unknown ID {uid}\n")
                    });
                    ctx.out(format!("{uid}\n"));
                    return 1;
                }
            }
        } else {
            ctx.out(format!("{uid}\n"));
        }
        return 0;
    }
    if o.has('g') {
        ctx.out(if o.has('n') {
            format!("{}\n", name_or(gname(gid), gid))
        } else {
            format!("{gid}\n")
        });
        return 0;
    }
    if o.has('G') {
        let v: Vec<String> = groups
            .iter()
            .map(|x| {
                if o.has('n') {
                    name_or(gname(*x), *x)
                } else {
                    x.to_string()
                }
            })
            .collect();
        ctx.out(format!("{}\n", v.join(" ")));
        return 0;
    }
    let fmt_id = |id: u32, n: Option<String>| match n {
        Some(n) => format!("{id}({n})"),
        None => id.to_string(),
    };
    let gs: Vec<String> = groups.iter().map(|x| fmt_id(*x, gname(*x))).collect();
    ctx.out(format!(
        "uid={} gid={} groups={}\n",
        fmt_id(uid, uname),
        fmt_id(gid, gname(gid)),
        gs.join(",")
    ));
    0
}

/// `whoami`
pub fn whoami(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let uid = ctx.user.uid;
    match util::user_name(ctx, uid) {
        Some(n) => {
            ctx.out(format!("{n}\n"));
            0
        }
        None => {
            ctx.err(if gnu(ctx) {
                format!("{p}: cannot find name for user ID {uid}\n")
            } else {
                format!("{p}: unknown uid {uid}\n")
            });
            1
        }
    }
}

/// `groups [USER]`
pub fn groups(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let list = match argv.get(1) {
        Some(u) => match util::user_row(ctx, u) {
            Some(r) => {
                let gid = r.field(3).parse().unwrap_or(0);
                group_list(ctx, Some(u), gid)
            }
            None => {
                ctx.err(if gnu(ctx) {
                    format!("{p}: '{u}': no such user\n")
                } else {
                    format!("id: unknown user {u}\n")
                });
                return 1;
            }
        },
        None => {
            let mut gs = vec![ctx.user.gid];
            for x in &ctx.user.groups {
                if !gs.contains(x) {
                    gs.push(*x);
                }
            }
            gs
        }
    };
    let names: Vec<String> = list
        .iter()
        .map(|x| util::group_name(ctx, *x).unwrap_or_else(|| x.to_string()))
        .collect();
    match argv.get(1) {
        Some(u) if gnu(ctx) => ctx.out(format!("{u} : {}\n", names.join(" "))),
        _ => ctx.out(format!("{}\n", names.join(" "))),
    }
    0
}

/// `nproc`
pub fn nproc(ctx: &mut Ctx, _argv: &[String]) -> i32 {
    ctx.out(format!("{NPROC}\n"));
    0
}

/// Canonicalises a path: every link followed; `missing_ok` lets the last
/// component be missing (`realpath` without `-e`, `readlink -f`).
fn canon(ctx: &Ctx, abs: &str, missing_ok: bool) -> Result<String, Errno> {
    let r = ctx.fs.resolve(abs, true)?;
    if !r.is_empty() && ctx.fs.entry(&r).is_none() && !missing_ok {
        return Err(Errno::NoEnt);
    }
    Ok(format!("/{r}"))
}

/// `readlink [-f|-e|-m] [-n] FILE`
pub fn readlink(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let spec = Spec {
        flags: "femnqsvz",
        with_arg: "",
        longs: &[
            ("canonicalize", 'f'),
            ("canonicalize-existing", 'e'),
            ("no-newline", 'n'),
        ],
        permute: true,
    };
    let o = match spec.parse(&argv[1..]) {
        Ok(o) => o,
        Err(e) => return util::opt_error(ctx, &p, &e, 1),
    };
    let mut status = 0;
    let nl = if o.has('n') { "" } else { "\n" };
    for f in &o.operands {
        let abs = ctx.path(f);
        let r = if o.has('f') || o.has('m') {
            canon(ctx, &abs, true)
        } else if o.has('e') {
            canon(ctx, &abs, false)
        } else {
            ctx.fs.read_link(&abs)
        };
        match r {
            Ok(t) => ctx.out(format!("{t}{nl}")),
            Err(e) => {
                if o.has('v') {
                    ctx.err(format!("{p}: {f}: {e}\n"));
                }
                status = 1;
            }
        }
    }
    status
}

/// `realpath [-e|-m] FILE...`
pub fn realpath(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let spec = Spec {
        flags: "emsqLP",
        with_arg: "",
        longs: &[
            ("canonicalize-existing", 'e'),
            ("canonicalize-missing", 'm'),
            ("quiet", 'q'),
        ],
        permute: true,
    };
    let o = match spec.parse(&argv[1..]) {
        Ok(o) => o,
        Err(e) => return util::opt_error(ctx, &p, &e, 1),
    };
    let mut status = 0;
    for f in &o.operands {
        let abs = ctx.path(f);
        let r = if o.has('m') {
            Ok(canon(ctx, &abs, true).unwrap_or(abs.clone()))
        } else {
            canon(ctx, &abs, !o.has('e') && gnu(ctx))
        };
        match r {
            Ok(t) => ctx.out(format!("{t}\n")),
            Err(e) => {
                if !o.has('q') {
                    ctx.err(format!("{p}: {f}: {e}\n"));
                }
                status = 1;
            }
        }
    }
    status
}

/// `mktemp [-d] [-p DIR] [-t] [TEMPLATE]`: names come from a counter
/// over the clock, so runs are deterministic.
pub fn mktemp(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let spec = Spec {
        flags: "dqtuD",
        with_arg: "p",
        longs: &[
            ("directory", 'd'),
            ("quiet", 'q'),
            ("dry-run", 'u'),
            ("tmpdir", 'p'),
        ],
        permute: true,
    };
    let o = match spec.parse(&argv[1..]) {
        Ok(o) => o,
        Err(e) => return util::opt_error(ctx, &p, &e, 1),
    };
    let g = gnu(ctx);
    let template = o.operands.first().cloned().unwrap_or_else(|| {
        if g {
            "tmp.XXXXXXXXXX".into()
        } else {
            "tmp.XXXXXX".into()
        }
    });
    let xs = template.len() - template.trim_end_matches('X').len();
    if xs < 3 {
        ctx.err(if g {
            format!("{p}: too few X's in template '{template}'\n")
        } else {
            format!("{p}: Invalid argument\n")
        });
        return 1;
    }
    let dir = if o.operands.is_empty() || o.has('t') || o.val('p').is_some() {
        o.val('p')
            .map(String::from)
            .or_else(|| ctx.env.get("TMPDIR").map(String::from))
            .unwrap_or_else(|| "/tmp".into())
    } else {
        String::new()
    };
    let stem = &template[..template.len() - xs];
    let alphabet = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    for n in 0u64..1000 {
        let mut h = sha2::Sha256::new();
        h.update(ctx.world.clock.to_le_bytes());
        h.update(template.as_bytes());
        h.update(n.to_le_bytes());
        let d = h.finalize();
        let suffix: String = (0..xs)
            .map(|i| alphabet[d[i % 32] as usize % alphabet.len()] as char)
            .collect();
        let name = if dir.is_empty() {
            format!("{stem}{suffix}")
        } else {
            format!("{}/{stem}{suffix}", dir.trim_end_matches('/'))
        };
        let abs = ctx.path(&name);
        if ctx.fs.stat(&abs, false).is_ok() {
            continue;
        }
        if !o.has('u') {
            let c = util::cred(ctx);
            let r = util::may_create(ctx, &abs).and_then(|_| {
                if o.has('d') {
                    ctx.fs.mkdir(&abs, 0o700, c, false)
                } else {
                    ctx.fs.write(&abs, Content::bytes(Vec::new()), 0o600, c)
                }
            });
            if let Err(e) = r {
                if !o.has('q') {
                    ctx.err(if g {
                        format!(
                            "{p}: failed to create {} via template '{name}': {e}\n",
                            if o.has('d') { "directory" } else { "file" }
                        )
                    } else {
                        format!("{p}: {e}\n")
                    });
                }
                return 1;
            }
        }
        ctx.out(format!("{name}\n"));
        return 0;
    }
    1
}

fn file_type_name(kind: FileType, size: u64) -> &'static str {
    match kind {
        FileType::Dir => "directory",
        FileType::Symlink => "symbolic link",
        FileType::File if size == 0 => "regular empty file",
        FileType::File => "regular file",
    }
}

/// `stat [-L] [-c FORMAT] FILE...`
pub fn stat(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let spec = Spec {
        flags: "Lt",
        with_arg: "c",
        longs: &[("format", 'c'), ("dereference", 'L'), ("printf", 'c')],
        permute: true,
    };
    let o = match spec.parse(&argv[1..]) {
        Ok(o) => o,
        Err(e) => return util::opt_error(ctx, &p, &e, 1),
    };
    let g = gnu(ctx);
    if o.operands.is_empty() {
        if g {
            ctx.err(format!(
                "{p}: missing operand\nTry '{p} --help' for more information.\n"
            ));
        } else {
            ctx.err(format!("{}\n", util::BANNER));
        }
        return 1;
    }
    let mut status = 0;
    for f in &o.operands {
        let abs = ctx.path(f);
        let st = match ctx.fs.stat(&abs, o.has('L')) {
            Ok(s) => s,
            Err(e) => {
                ctx.err(if g {
                    format!("{p}: cannot stat '{f}': {e}\n")
                } else {
                    format!("{p}: can't stat '{f}': {e}\n")
                });
                status = 1;
                continue;
            }
        };
        let uname = util::user_name(ctx, st.uid).unwrap_or_else(|| "UNKNOWN".into());
        let gname = util::group_name(ctx, st.gid).unwrap_or_else(|| "UNKNOWN".into());
        let size = if st.kind == FileType::Dir {
            4096
        } else {
            st.size
        };
        let mtime = format!(
            "{}.000000000 +0000",
            util::datetime(st.mtime).format("%Y-%m-%d %H:%M:%S")
        );
        let link_shown = if st.kind == FileType::Symlink {
            format!("'{f}' -> '{}'", ctx.fs.read_link(&abs).unwrap_or_default())
        } else {
            format!("'{f}'")
        };
        let Some(fmt) = o.val('c') else {
            let blocks = util::blocks_1k(&st) * 2;
            let name = if st.kind == FileType::Symlink {
                format!("{f} -> {}", ctx.fs.read_link(&abs).unwrap_or_default())
            } else {
                f.clone()
            };
            ctx.out(format!(
                "  File: {name}\n  Size: {size:<10}\tBlocks: {blocks:<10} IO Block: 4096   {}\nDevice: 0,83\tInode: {:<11} Links: 1\nAccess: ({:04o}/{})  Uid: ({:>5}/{:>8})   Gid: ({:>5}/{:>8})\nAccess: {mtime}\nModify: {mtime}\nChange: {mtime}\n{}",
                file_type_name(st.kind, size),
                inode(&st.path),
                st.mode,
                util::mode_string(&st),
                st.uid,
                uname,
                st.gid,
                gname,
                if g { " Birth: -\n" } else { "" }
            ));
            continue;
        };
        let mut s = String::new();
        let mut chars = fmt.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some('n') => s.push('\n'),
                    Some('t') => s.push('\t'),
                    Some(x) => {
                        s.push('\\');
                        s.push(x)
                    }
                    None => s.push('\\'),
                }
                continue;
            }
            if c != '%' {
                s.push(c);
                continue;
            }
            match chars.next() {
                Some('n') => s.push_str(f),
                Some('N') => s.push_str(&link_shown),
                Some('s') => s.push_str(&size.to_string()),
                Some('a') => s.push_str(&format!("{:o}", st.mode)),
                Some('A') => s.push_str(&util::mode_string(&st)),
                Some('u') => s.push_str(&st.uid.to_string()),
                Some('U') => s.push_str(&uname),
                Some('g') => s.push_str(&st.gid.to_string()),
                Some('G') => s.push_str(&gname),
                Some('F') => s.push_str(file_type_name(st.kind, size)),
                Some('Y') | Some('Z') | Some('X') => s.push_str(&st.mtime.to_string()),
                Some('y') | Some('z') | Some('x') => s.push_str(&mtime),
                Some('h') => s.push('1'),
                Some('i') => s.push_str(&inode(&st.path).to_string()),
                Some('b') => s.push_str(&(util::blocks_1k(&st) * 2).to_string()),
                Some('B') => s.push_str("512"),
                Some('f') => s.push_str(&format!(
                    "{:x}",
                    st.mode
                        | match st.kind {
                            FileType::Dir => 0o040000,
                            FileType::Symlink => 0o120000,
                            FileType::File => 0o100000,
                        }
                )),
                Some('%') => s.push('%'),
                Some(x) => {
                    s.push('?');
                    let _ = x;
                }
                None => s.push('%'),
            }
        }
        s.push('\n');
        ctx.out(s);
    }
    status
}

/// A stable inode number for a path.
fn inode(path: &str) -> u64 {
    crate::layer::seed_of(path) % 10_000_000 + 100
}

/// `du [-s] [-h] [-k] [-a] [-c] [-d N] [FILE]...`
pub fn du(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let spec = Spec {
        flags: "shkacmbxL",
        with_arg: "d",
        longs: &[
            ("summarize", 's'),
            ("human-readable", 'h'),
            ("all", 'a'),
            ("total", 'c'),
            ("max-depth", 'd'),
        ],
        permute: true,
    };
    let o = match spec.parse(&argv[1..]) {
        Ok(o) => o,
        Err(e) => return util::opt_error(ctx, &p, &e, 1),
    };
    let g = gnu(ctx);
    let ops = if o.operands.is_empty() {
        vec![".".to_string()]
    } else {
        o.operands.clone()
    };
    let max_depth: Option<usize> = if o.has('s') {
        Some(0)
    } else {
        o.val('d').and_then(|d| d.parse().ok())
    };
    let show = |k: u64| -> String {
        if o.has('h') {
            if k == 0 {
                "0".into()
            } else if g {
                util::human(k * 1024)
            } else {
                util::human_bb(k * 1024)
            }
        } else if o.has('m') {
            k.div_ceil(1024).to_string()
        } else {
            k.to_string()
        }
    };
    let mut status = 0;
    let mut grand = 0;
    let mut out = String::new();
    for f in &ops {
        let abs = ctx.path(f);
        let st = match ctx.fs.stat(&abs, true) {
            Ok(s) => s,
            Err(e) => {
                ctx.err(if g {
                    format!("{p}: cannot access '{f}': {e}\n")
                } else {
                    format!("{p}: {f}: {e}\n")
                });
                status = 1;
                continue;
            }
        };
        if st.kind != FileType::Dir {
            let k = util::blocks_1k(&st);
            grand += k;
            out.push_str(&format!("{}\t{f}\n", show(k)));
            continue;
        }
        // Post-order totals of every directory under f.
        let root = st.path.clone();
        let all = ctx.fs.walk(&abs).unwrap_or_default();
        let mut totals: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
        totals.insert(root.clone(), 4);
        let mut files = Vec::new();
        for k in &all {
            let Some(e) = ctx.fs.entry(k) else { continue };
            let sz = match &e.kind {
                crate::layer::Kind::Dir => 4,
                crate::layer::Kind::File(c) => c.len().div_ceil(4096) * 4,
                _ => 0,
            };
            if matches!(e.kind, crate::layer::Kind::Dir) {
                totals.entry(k.clone()).or_insert(0);
                *totals.get_mut(k).unwrap_or(&mut 0) += 0;
            } else {
                files.push((k.clone(), sz));
            }
            // Add to every ancestor up to root.
            let mut cur = k.as_str();
            let mut first = true;
            loop {
                if first && matches!(e.kind, crate::layer::Kind::Dir) {
                    *totals.entry(cur.to_string()).or_insert(0) += sz;
                }
                first = false;
                if cur == root {
                    break;
                }
                match cur.rsplit_once('/') {
                    Some((parent, _)) if parent.len() >= root.len() => {
                        cur = parent;
                        *totals.entry(cur.to_string()).or_insert(0) += sz;
                    }
                    _ => {
                        if root.is_empty() && cur != root {
                            cur = "";
                            *totals.entry(String::new()).or_insert(0) += sz;
                        }
                        break;
                    }
                }
            }
        }
        let depth_of = |k: &str| -> usize {
            if k == root {
                0
            } else {
                let rel = if root.is_empty() {
                    k
                } else {
                    &k[root.len() + 1..]
                };
                rel.split('/').count()
            }
        };
        let shown = |k: &str| -> String {
            if k == root {
                f.clone()
            } else {
                let rel = if root.is_empty() {
                    k
                } else {
                    &k[root.len() + 1..]
                };
                format!("{}/{rel}", f.trim_end_matches('/'))
            }
        };
        // Children before parents, in walk order.
        let mut rows: Vec<(String, u64)> = Vec::new();
        let mut stack: Vec<String> = Vec::new();
        let mut entries_in_order: Vec<String> = all.clone();
        entries_in_order.insert(0, root.clone());
        for k in &entries_in_order {
            while let Some(top) = stack.last() {
                if k.starts_with(&format!("{top}/")) || (top.is_empty() && k != top) {
                    break;
                }
                let t = stack.pop().unwrap_or_default();
                rows.push((t.clone(), totals.get(&t).copied().unwrap_or(0)));
            }
            let is_dir = k == &root
                || matches!(
                    ctx.fs.entry(k).map(|e| &e.kind),
                    Some(crate::layer::Kind::Dir)
                );
            if is_dir {
                stack.push(k.clone());
            } else if o.has('a') {
                let sz = files.iter().find(|(p, _)| p == k).map(|x| x.1).unwrap_or(0);
                rows.push((k.clone(), sz));
            }
        }
        while let Some(t) = stack.pop() {
            rows.push((t.clone(), totals.get(&t).copied().unwrap_or(0)));
        }
        for (k, sz) in rows {
            if max_depth.is_some_and(|m| depth_of(&k) > m) {
                continue;
            }
            if k == root {
                grand += sz;
            }
            out.push_str(&format!("{}\t{}\n", show(sz), shown(&k)));
        }
    }
    if o.has('c') {
        out.push_str(&format!("{}\ttotal\n", show(grand)));
    }
    ctx.out(out);
    status
}

/// MD5 (RFC 1321), for `md5sum`.
pub fn md5(data: &[u8]) -> [u8; 16] {
    const S: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5,
        9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10,
        15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    let k: Vec<u32> = (0..64)
        .map(|i| ((i as f64 + 1.0).sin().abs() * 4294967296.0) as u32)
        .collect();
    let (mut a0, mut b0, mut c0, mut d0) =
        (0x67452301u32, 0xefcdab89u32, 0x98badcfeu32, 0x10325476u32);
    let mut msg = data.to_vec();
    let bitlen = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bitlen.to_le_bytes());
    for chunk in msg.chunks(64) {
        let m: Vec<u32> = chunk
            .chunks(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
        let (mut a, mut b, mut c, mut d) = (a0, b0, c0, d0);
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let f2 = f.wrapping_add(a).wrapping_add(k[i]).wrapping_add(m[g]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(f2.rotate_left(S[i]));
        }
        a0 = a0.wrapping_add(a);
        b0 = b0.wrapping_add(b);
        c0 = c0.wrapping_add(c);
        d0 = d0.wrapping_add(d);
    }
    let mut out = [0u8; 16];
    out[..4].copy_from_slice(&a0.to_le_bytes());
    out[4..8].copy_from_slice(&b0.to_le_bytes());
    out[8..12].copy_from_slice(&c0.to_le_bytes());
    out[12..].copy_from_slice(&d0.to_le_bytes());
    out
}

fn digest_of(p: &str, data: &[u8]) -> String {
    if p.starts_with("md5") {
        hex::encode(md5(data))
    } else {
        hex::encode(sha2::Sha256::digest(data))
    }
}

/// `sha256sum`/`md5sum [-c] [FILE]...`
pub fn checksum(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let spec = Spec {
        flags: "cbtswz",
        with_arg: "",
        longs: &[
            ("check", 'c'),
            ("status", 's'),
            ("quiet", '\u{1}'),
            ("warn", 'w'),
            ("strict", '\u{2}'),
            ("binary", 'b'),
            ("text", 't'),
        ],
        permute: true,
    };
    let o = match spec.parse(&argv[1..]) {
        Ok(o) => o,
        Err(e) => return util::opt_error(ctx, &p, &e, 1),
    };
    let g = gnu(ctx);
    let names: Vec<String> = if o.operands.is_empty() {
        vec!["-".into()]
    } else {
        o.operands.clone()
    };
    let mut status = 0;
    if !o.has('c') {
        let mut out = String::new();
        for n in &names {
            match util::read_input(ctx, n) {
                Ok(b) => out.push_str(&format!("{}  {n}\n", digest_of(&p, &b))),
                Err(e) => {
                    super::text::open_error(ctx, &p, n, e);
                    status = 1;
                }
            }
        }
        ctx.out(out);
        return status;
    }
    let quiet = o.has('\u{1}');
    let silent = o.has('s');
    let mut bad = 0;
    let mut missing = 0;
    let mut formatted = 0;
    for list in &names {
        let text = match util::read_input(ctx, list) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) => {
                super::text::open_error(ctx, &p, list, e);
                status = 1;
                continue;
            }
        };
        let mut lines_ok = 0;
        for line in text.lines() {
            let Some((sum, name)) = line.split_once(' ') else {
                formatted += 1;
                continue;
            };
            let name = name
                .strip_prefix(' ')
                .or_else(|| name.strip_prefix('*'))
                .unwrap_or(name);
            if !sum.chars().all(|c| c.is_ascii_hexdigit())
                || sum.len() != if p.starts_with("md5") { 32 } else { 64 }
            {
                formatted += 1;
                continue;
            }
            lines_ok += 1;
            match util::read_input(ctx, name) {
                Ok(b) => {
                    if digest_of(&p, &b).eq_ignore_ascii_case(sum) {
                        if !quiet && !silent {
                            ctx.out(format!("{name}: OK\n"));
                        }
                    } else {
                        bad += 1;
                        if !silent {
                            ctx.out(format!("{name}: FAILED\n"));
                        }
                    }
                }
                Err(e) => {
                    missing += 1;
                    if !silent {
                        if g {
                            ctx.err(format!("{p}: {name}: {e}\n"));
                            ctx.out(format!("{name}: FAILED open or read\n"));
                        } else {
                            ctx.err(format!("{p}: can't open '{name}': {e}\n"));
                            ctx.out(format!("{name}: FAILED\n"));
                        }
                    }
                }
            }
        }
        if lines_ok == 0 {
            let shown = if list == "-" {
                "standard input"
            } else {
                list.as_str()
            };
            ctx.err(if g {
                format!("{p}: {shown}: no properly formatted checksum lines found\n")
            } else {
                format!("{p}: {shown}: no checksum lines found\n")
            });
            status = 1;
        }
    }
    if !silent {
        let pl = |n: usize, one: &str, many: &str| {
            if n == 1 {
                one.to_string()
            } else {
                many.to_string()
            }
        };
        if g {
            if formatted > 0 && bad + missing + formatted > 0 && formatted < usize::MAX {
                // Only warned about when some lines were good.
            }
            if missing > 0 {
                ctx.err(format!(
                    "{p}: WARNING: {missing} listed {} could not be read\n",
                    pl(missing, "file", "files")
                ));
            }
            if bad > 0 {
                ctx.err(format!(
                    "{p}: WARNING: {bad} computed {} did NOT match\n",
                    pl(bad, "checksum", "checksums")
                ));
            }
        } else if bad + missing > 0 {
            ctx.err(format!(
                "{p}: WARNING: {} of {} computed checksums did NOT match\n",
                bad + missing,
                (bad + missing)
            ));
        }
    }
    if bad + missing > 0 { 1 } else { status }
}

/// Splits `xargs` input into arguments (blanks and newlines; quotes and
/// backslashes as POSIX xargs reads them).
fn xargs_words(s: &str) -> Result<Vec<String>, char> {
    let mut v = Vec::new();
    let mut cur = String::new();
    let mut have = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                have = true;
                loop {
                    match chars.next() {
                        Some(x) if x == c => break,
                        Some('\n') | None => return Err(c),
                        Some(x) => cur.push(x),
                    }
                }
            }
            '\\' => {
                have = true;
                if let Some(x) = chars.next() {
                    cur.push(x);
                }
            }
            c if c.is_whitespace() => {
                if have {
                    v.push(std::mem::take(&mut cur));
                    have = false;
                }
            }
            c => {
                have = true;
                cur.push(c);
            }
        }
    }
    if have {
        v.push(cur);
    }
    Ok(v)
}

/// `xargs [-0] [-r] [-n N] [-I R] [-t] [COMMAND [ARG]...]`
pub fn xargs(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let spec = Spec {
        flags: "0rtpx",
        with_arg: "nIdLsPa",
        longs: &[
            ("null", '0'),
            ("no-run-if-empty", 'r'),
            ("max-args", 'n'),
            ("replace", 'I'),
            ("verbose", 't'),
            ("delimiter", 'd'),
        ],
        permute: false,
    };
    let o = match spec.parse(&argv[1..]) {
        Ok(o) => o,
        Err(e) => return util::opt_error(ctx, &p, &e, 1),
    };
    let g = gnu(ctx);
    let input = String::from_utf8_lossy(&ctx.stdin).into_owned();
    let items: Vec<String> = if o.has('0') {
        input
            .split('\0')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    } else if let Some(d) = o.val('d') {
        let d = if d == "\\n" {
            '\n'
        } else {
            d.chars().next().unwrap_or('\n')
        };
        input
            .split(d)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    } else if o.val('I').is_some() {
        input
            .lines()
            .map(|l| l.trim_start().to_string())
            .filter(|l| !l.is_empty())
            .collect()
    } else {
        match xargs_words(&input) {
            Ok(v) => v,
            Err(q) => {
                let which = if q == '\'' { "single" } else { "double" };
                ctx.err(if g {
                    format!("{p}: unmatched {which} quote; by default quotes are special to xargs unless you use the -0 option\n")
                } else {
                    format!("{p}: unmatched {which} quote\n")
                });
                return 1;
            }
        }
    };
    let cmd: Vec<String> = if o.operands.is_empty() {
        vec!["echo".into()]
    } else {
        o.operands.clone()
    };
    let no_run_empty = o.has('r');
    if items.is_empty() && (no_run_empty || o.val('I').is_some()) {
        return 0;
    }
    let batches: Vec<Vec<String>> = if let Some(r) = o.val('I') {
        items
            .iter()
            .map(|it| cmd.iter().map(|a| a.replace(r, it)).collect())
            .collect()
    } else {
        let n: usize = o
            .val('n')
            .or(o.val('L'))
            .and_then(|n| n.parse().ok())
            .filter(|n| *n > 0)
            .unwrap_or(usize::MAX);
        if items.is_empty() {
            vec![cmd.clone()]
        } else {
            items
                .chunks(n.min(items.len().max(1)))
                .map(|ch| {
                    let mut v = cmd.clone();
                    v.extend(ch.iter().cloned());
                    v
                })
                .collect()
        }
    };
    let mut status = 0;
    for b in batches {
        if ctx.step().is_err() {
            return 1;
        }
        if o.has('t') {
            ctx.err(format!("{}\n", b.join(" ")));
        }
        let mut child = ctx.child();
        match exec::exec_name(&mut child, &b) {
            Ok(0) => {}
            Ok(255) => {
                ctx.err(format!("{p}: {}: exited with status 255; aborting\n", b[0]));
                return 124;
            }
            Ok(s) if s > 128 => return 125,
            Ok(_) => status = 123,
            Err(e) => {
                let (what, st) = match e {
                    ExecError::NotFound(_) | ExecError::NoEnt(_) => {
                        ("No such file or directory", 127)
                    }
                    _ => ("Permission denied", 126),
                };
                ctx.err(format!("{p}: {}: {what}\n", b[0]));
                return st;
            }
        }
    }
    status
}

/// `busybox [APPLET [ARG]...]`
pub fn busybox(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let Some(applet) = argv.get(1) else {
        ctx.out(format!(
            "{}\nBusyBox is copyrighted by many authors between 1998-2015.\nLicensed under GPLv2. See source distribution for detailed\ncopyright notices.\n\nUsage: busybox [function [arguments]...]\n   or: busybox --list[-full]\n   or: busybox --show SCRIPT\n   or: busybox --install [-s] [DIR]\n   or: function [arguments]...\n\n\tBusyBox is a multi-call binary that combines many common Unix\n\tutilities into a single executable.  Most people will create a\n\tlink to busybox for each function they wish to use and BusyBox\n\twill act like whatever it was invoked as.\n",
            util::BANNER
        ));
        return 0;
    };
    let args = argv[1..].to_vec();
    if applet == "--help" {
        return busybox(ctx, &argv[..1]);
    }
    let f = match applet.as_str() {
        "busybox" => None,
        a => exec::lookup(a),
    };
    match f {
        Some(f) => f(ctx, &args),
        None => {
            ctx.err(format!("{applet}: applet not found\n"));
            127
        }
    }
}

/// `update-ca-certificates`: appends the local certificates to the bundle.
pub fn update_ca_certificates(ctx: &mut Ctx, _argv: &[String]) -> i32 {
    let local = "/usr/local/share/ca-certificates";
    let mut added = Vec::new();
    for k in ctx.fs.walk(local).unwrap_or_default() {
        if k.ends_with(".crt")
            && let Ok(b) = ctx.fs.read(&format!("/{k}"))
        {
            added.push(b);
        }
    }
    let bundle = "/etc/ssl/certs/ca-certificates.crt";
    if !added.is_empty() {
        let mut b = ctx.fs.read(bundle).unwrap_or_default();
        for a in &added {
            b.extend_from_slice(a);
            if !b.ends_with(b"\n") {
                b.push(b'\n');
            }
        }
        let _ = ctx.fs.mkdir("/etc/ssl/certs", 0o755, util::cred(ctx), true);
        let c = util::cred(ctx);
        let _ = ctx.fs.write(bundle, Content::bytes(b), 0o644, c);
    }
    if gnu(ctx) {
        ctx.out(format!(
            "Updating certificates in /etc/ssl/certs...\n{} added, 0 removed; done.\nRunning hooks in /etc/ca-certificates/update.d...\ndone.\n",
            added.len()
        ));
    }
    0
}

/// Joins for callers that build paths.
pub fn path_join(a: &str, b: &str) -> String {
    join(a, b)
}
