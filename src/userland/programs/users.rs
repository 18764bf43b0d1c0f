//! Account tools that write `/etc/passwd`, `/etc/group`, `/etc/shadow`
//! (and `/etc/gshadow` on Debian): busybox 1.36 `adduser addgroup deluser
//! delgroup` (loginutils/adduser.c: system ids from 100, others from 1000,
//! `Linux User,,,`, homes `drwxr-sr-x`), shadow 4.13 `useradd groupadd
//! usermod userdel` (system ids from 999 down, others from 1000), and
//! Debian's `adduser`/`addgroup` 3.134 front end.

use super::util::{self, Row, Spec, gnu, prog};
use crate::layer::Content;
use crate::userland::fs::{Cred, FileType};
use crate::userland::proc::Ctx;

fn rows(ctx: &Ctx, path: &str) -> Vec<Row> {
    util::db(ctx, path)
}

fn append_line(ctx: &mut Ctx, path: &str, line: &str, create: Option<(u32, u32, u32)>) {
    let exists = ctx.fs.exists(path);
    if !exists && create.is_none() {
        return;
    }
    let mut b = ctx.fs.read(path).unwrap_or_default();
    if !b.is_empty() && !b.ends_with(b"\n") {
        b.push(b'\n');
    }
    b.extend_from_slice(line.as_bytes());
    b.push(b'\n');
    let (mode, uid, gid) = create.unwrap_or((0o644, 0, 0));
    let _ = ctx
        .fs
        .write(path, Content::bytes(b), mode, Cred { uid, gid });
}

/// Rewrites the lines of a database file with `f` (None drops the line).
fn rewrite(ctx: &mut Ctx, path: &str, mut f: impl FnMut(&str) -> Option<String>) {
    let Ok(text) = ctx.fs.read_string(path) else {
        return;
    };
    let mut out = String::new();
    for l in text.lines() {
        if let Some(n) = f(l) {
            out.push_str(&n);
            out.push('\n');
        }
    }
    let _ = ctx
        .fs
        .write(path, Content::bytes(out.into_bytes()), 0o644, Cred::ROOT);
}

fn add_member(ctx: &mut Ctx, path: &str, group: &str, user: &str) {
    rewrite(ctx, path, |l| {
        let mut f: Vec<String> = l.split(':').map(String::from).collect();
        if f.first().map(String::as_str) == Some(group) && f.len() >= 4 {
            let last = f.len() - 1;
            if !f[last].split(',').any(|m| m == user) {
                if f[last].is_empty() {
                    f[last] = user.to_string();
                } else {
                    f[last] = format!("{},{user}", f[last]);
                }
            }
        }
        Some(f.join(":"))
    });
}

fn days(ctx: &Ctx) -> u64 {
    ctx.world.clock / 86400
}

fn uid_used(ctx: &Ctx, id: u32) -> bool {
    rows(ctx, "/etc/passwd").iter().any(|r| r.id() == Some(id))
}

fn gid_used(ctx: &Ctx, id: u32) -> bool {
    rows(ctx, "/etc/group").iter().any(|r| r.id() == Some(id))
}

/// Creates a home directory owned by the user, copying `/etc/skel`.
fn make_home(ctx: &mut Ctx, home: &str, uid: u32, gid: u32, mode: u32) {
    let owner = Cred { uid, gid };
    let _ = ctx.fs.mkdir(
        &super::sys::path_join("/", home)
            .rsplit_once('/')
            .map(|x| x.0.to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or("/".into()),
        0o755,
        Cred::ROOT,
        true,
    );
    if ctx.fs.stat(home, false).is_err() {
        let _ = ctx.fs.mkdir(home, mode, owner, false);
        let skel: Vec<String> = ctx.fs.walk("/etc/skel").unwrap_or_default();
        for k in skel {
            let rel = &k["etc/skel".len()..];
            let dst = format!("{home}{rel}");
            if let Some(e) = ctx.fs.entry(&k).cloned() {
                let r = ctx.fs.resolve(&dst, false).unwrap_or_default();
                let _ = ctx.fs.put(crate::layer::Entry {
                    path: r,
                    uid,
                    gid,
                    mtime: ctx.fs.clock,
                    ..e
                });
            }
        }
    }
    let _ = ctx
        .fs
        .set_meta(home, true, Some(mode), Some((Some(uid), Some(gid))), None);
}

/// `adduser`, `addgroup`, `deluser`, `delgroup`: busybox's on Alpine and
/// busybox images, Debian's front end elsewhere.
pub fn busybox_or_debian(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    match (gnu(ctx), p.as_str()) {
        (false, "adduser") => bb_adduser(ctx, argv),
        (false, "addgroup") => bb_addgroup(ctx, argv),
        (false, _) => bb_deluser(ctx, argv),
        (true, "adduser") | (true, "addgroup") => deb_adduser(ctx, argv),
        (true, _) => deb_deluser(ctx, argv),
    }
}

fn not_root(ctx: &Ctx, p: &str) -> bool {
    if ctx.user.uid != 0 {
        ctx.err(format!("{p}: permission denied (are you root?)\n"));
        return true;
    }
    false
}

/// busybox `addgroup [-g GID] [-S] GROUP` or `addgroup USER GROUP`.
fn bb_addgroup(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let spec = Spec {
        flags: "S",
        with_arg: "g",
        longs: &[("gid", 'g'), ("system", 'S')],
        permute: true,
    };
    let o = match spec.parse(&argv[1..]) {
        Ok(o) => o,
        Err(e) => return util::opt_error(ctx, &p, &e, 1),
    };
    if o.operands.is_empty() || o.operands.len() > 2 {
        ctx.err(format!("{}\n", util::BANNER));
        return 1;
    }
    if not_root(ctx, &p) {
        return 1;
    }
    if o.operands.len() == 2 && o.flags.is_empty() {
        let (user, group) = (&o.operands[0], &o.operands[1]);
        if util::user_row(ctx, user).is_none() {
            ctx.err(format!("{p}: unknown user {user}\n"));
            return 1;
        }
        let Some(g) = util::group_row(ctx, group) else {
            ctx.err(format!("{p}: unknown group {group}\n"));
            return 1;
        };
        if g.field(3).split(',').any(|m| m == user) {
            return 0;
        }
        add_member(ctx, "/etc/group", group, user);
        add_member(ctx, "/etc/gshadow", group, user);
        return 0;
    }
    let name = o.operands[0].clone();
    if util::group_row(ctx, &name).is_some() {
        ctx.err(format!("{p}: group '{name}' in use\n"));
        return 1;
    }
    let gid = match o.val('g') {
        Some(g) => match g.parse::<u32>() {
            Ok(n) if n <= 60000 => {
                if gid_used(ctx, n) {
                    ctx.err(format!("{p}: gid '{n}' in use\n"));
                    return 1;
                }
                n
            }
            _ => {
                ctx.err(format!("{p}: invalid number '{g}'\n"));
                return 1;
            }
        },
        None => {
            let (mut id, max) = if o.has('S') {
                (100, 999)
            } else {
                (1000, 60000)
            };
            while gid_used(ctx, id) {
                if id == max {
                    ctx.err(format!("{p}: no gids left\n"));
                    return 1;
                }
                id += 1;
            }
            id
        }
    };
    append_line(ctx, "/etc/group", &format!("{name}:x:{gid}:"), None);
    append_line(ctx, "/etc/gshadow", &format!("{name}:!::"), None);
    0
}

/// busybox `adduser [-h DIR] [-g GECOS] [-s SHELL] [-G GRP] [-DSH] [-u UID]
/// [-k SKEL] USER [GROUP]`.
fn bb_adduser(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let spec = Spec {
        flags: "DSH",
        with_arg: "hgsGuk",
        longs: &[
            ("home", 'h'),
            ("gecos", 'g'),
            ("shell", 's'),
            ("ingroup", 'G'),
            ("disabled-password", 'D'),
            ("empty-password", 'D'),
            ("system", 'S'),
            ("no-create-home", 'H'),
            ("uid", 'u'),
            ("skel", 'k'),
        ],
        permute: true,
    };
    let o = match spec.parse(&argv[1..]) {
        Ok(o) => o,
        Err(e) => return util::opt_error(ctx, &p, &e, 1),
    };
    if not_root(ctx, &p) {
        return 1;
    }
    if o.operands.is_empty() || o.operands.len() > 2 {
        ctx.err(format!("{}\n", util::BANNER));
        return 1;
    }
    let name = o.operands[0].clone();
    if o.flags.is_empty() && o.operands.len() == 2 {
        let args = vec!["addgroup".to_string(), name, o.operands[1].clone()];
        return bb_addgroup(ctx, &args);
    }
    let system = o.has('S');
    let mut usegroup = o.val('G').map(String::from);
    let root_shell = util::user_row(ctx, "root")
        .map(|r| r.field(6).to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or("/bin/sh".into());
    let mut shell = o.val('s').map(String::from).unwrap_or(root_shell);
    if system {
        if usegroup.is_none() {
            usegroup = Some("nogroup".into());
        }
        if o.val('s').is_none() {
            shell = "/bin/false".into();
        }
    }
    let gid: Option<u32> = match &usegroup {
        Some(g) => match util::parse_gid(ctx, g) {
            Some(id) => Some(id),
            None => {
                ctx.err(format!("{p}: unknown group {g}\n"));
                return 1;
            }
        },
        None => None,
    };
    if util::user_row(ctx, &name).is_some() {
        ctx.err(format!("{p}: user '{name}' in use\n"));
        return 1;
    }
    let uid = match o.val('u') {
        Some(u) => match u.parse::<u32>() {
            Ok(n) if n <= 60000 => n,
            _ => {
                ctx.err(format!("{p}: invalid number '{u}'\n"));
                return 1;
            }
        },
        None => {
            if system {
                100
            } else {
                1000
            }
        }
    };
    let max = if system && o.val('u').is_none() {
        999
    } else {
        60000
    };
    let mut uid = uid;
    while uid_used(ctx, uid) || (gid.is_none() && gid_used(ctx, uid)) {
        if o.val('u').is_some() {
            ctx.err(format!("{p}: uid '{uid}' in use\n"));
            return 1;
        }
        if uid == max {
            ctx.err(format!("{p}: no uids left\n"));
            return 1;
        }
        uid += 1;
    }
    let gid = match gid {
        Some(g) => g,
        None => {
            if util::group_row(ctx, &name).is_some() {
                ctx.err(format!("{p}: group '{name}' in use\n"));
                return 1;
            }
            uid
        }
    };
    let home = o
        .val('h')
        .map(String::from)
        .unwrap_or_else(|| format!("/home/{name}"));
    let gecos = o.val('g').unwrap_or("Linux User,,,");
    append_line(
        ctx,
        "/etc/passwd",
        &format!("{name}:x:{uid}:{gid}:{gecos}:{home}:{shell}"),
        None,
    );
    let d = days(ctx);
    append_line(
        ctx,
        "/etc/shadow",
        &format!("{name}:!:{d}:0:99999:7:::"),
        None,
    );
    match &usegroup {
        Some(g) => {
            let args = vec!["addgroup".to_string(), name.clone(), g.clone()];
            bb_addgroup(ctx, &args);
        }
        None => {
            let args = vec![
                "addgroup".to_string(),
                "-g".into(),
                gid.to_string(),
                name.clone(),
            ];
            bb_addgroup(ctx, &args);
        }
    }
    if !o.has('H') {
        make_home(ctx, &home, uid, gid, 0o2755);
    }
    // -S implies -D (busybox's "SD" complement).
    if !o.has('D') && !system {
        // passwd reads the new password from a terminal the build does
        // not have: it gives up and adduser fails with it.
        ctx.out(format!("Changing password for {name}\nNew password: \n"));
        ctx.err(format!("passwd: password for {name} is unchanged\n"));
        return 1;
    }
    0
}

/// busybox `deluser USER [GROUP]` / `delgroup [USER] GROUP`.
fn bb_deluser(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let ops: Vec<String> = argv[1..]
        .iter()
        .filter(|a| !a.starts_with('-'))
        .cloned()
        .collect();
    let remove_home = argv[1..].iter().any(|a| a == "--remove-home");
    if ops.is_empty() || ops.len() > 2 {
        ctx.err(format!("{}\n", util::BANNER));
        return 1;
    }
    if not_root(ctx, &p) {
        return 1;
    }
    if ops.len() == 2 {
        let (user, group) = (ops[0].clone(), ops[1].clone());
        if util::group_row(ctx, &group).is_none() {
            ctx.err(format!("{p}: unknown group {group}\n"));
            return 1;
        }
        for path in ["/etc/group", "/etc/gshadow"] {
            rewrite(ctx, path, |l| {
                let mut f: Vec<String> = l.split(':').map(String::from).collect();
                if f.first() == Some(&group) && f.len() >= 4 {
                    let last = f.len() - 1;
                    f[last] = f[last]
                        .split(',')
                        .filter(|m| *m != user && !m.is_empty())
                        .collect::<Vec<_>>()
                        .join(",");
                }
                Some(f.join(":"))
            });
        }
        return 0;
    }
    let name = ops[0].clone();
    if p == "delgroup" {
        if util::group_row(ctx, &name).is_none() {
            ctx.err(format!("{p}: unknown group {name}\n"));
            return 1;
        }
        for path in ["/etc/group", "/etc/gshadow"] {
            rewrite(ctx, path, |l| {
                (l.split(':').next() != Some(&name)).then(|| l.to_string())
            });
        }
        return 0;
    }
    let Some(row) = util::user_row(ctx, &name) else {
        ctx.err(format!("{p}: unknown user {name}\n"));
        return 1;
    };
    for path in ["/etc/passwd", "/etc/shadow"] {
        rewrite(ctx, path, |l| {
            (l.split(':').next() != Some(&name)).then(|| l.to_string())
        });
    }
    // Its own group goes too when nobody else uses it.
    if util::group_row(ctx, &name).is_some_and(|g| g.field(3).is_empty()) {
        for path in ["/etc/group", "/etc/gshadow"] {
            rewrite(ctx, path, |l| {
                (l.split(':').next() != Some(&name)).then(|| l.to_string())
            });
        }
    }
    for path in ["/etc/group", "/etc/gshadow"] {
        rewrite(ctx, path, |l| {
            let mut f: Vec<String> = l.split(':').map(String::from).collect();
            if f.len() >= 4 {
                let last = f.len() - 1;
                f[last] = f[last]
                    .split(',')
                    .filter(|m| *m != name && !m.is_empty())
                    .collect::<Vec<_>>()
                    .join(",");
            }
            Some(f.join(":"))
        });
    }
    if remove_home {
        let home = row.field(5).to_string();
        let _ = ctx.fs.remove_all(&home);
    }
    0
}

/// The Debian `gshadow` file: written alongside `group` (created like the
/// real image has it when the fixture lacks it).
const GSHADOW: (u32, u32, u32) = (0o640, 0, 42);

/// shadow's `usermod`/`userdel` preamble: exactly one LOGIN operand, the
/// shadow files writable, the user existing. Err is the exit status.
fn existing_login(ctx: &Ctx, p: &str, ops: &[String]) -> Result<(String, util::Row), i32> {
    if ops.len() != 1 {
        ctx.err(format!("Usage: {p} [options] LOGIN\n"));
        return Err(2);
    }
    if shadow_fail(ctx, p) {
        return Err(1);
    }
    let name = ops[0].clone();
    match util::user_row(ctx, &name) {
        Some(row) => Ok((name, row)),
        None => {
            ctx.err(format!("{p}: user '{name}' does not exist\n"));
            Err(6)
        }
    }
}

fn shadow_fail(ctx: &Ctx, p: &str) -> bool {
    if ctx.user.uid != 0 {
        ctx.err(format!(
            "{p}: Permission denied.\n{p}: cannot lock /etc/passwd; try again later.\n"
        ));
        return true;
    }
    false
}

/// Allocates an id the way shadow does: for system accounts the highest
/// free id at or below 999 (and at least 100); otherwise one above the
/// highest id in use from 1000, or the lowest free one.
fn alloc(ctx: &Ctx, system: bool, passwd: bool) -> Option<u32> {
    let path = if passwd { "/etc/passwd" } else { "/etc/group" };
    let used: Vec<u32> = rows(ctx, path).iter().filter_map(|r| r.id()).collect();
    let free = |id: &u32| !used.contains(id);
    if system {
        return (100..=999).rev().find(free);
    }
    let start = used
        .iter()
        .filter(|id| (1000..=60000).contains(*id))
        .max()
        .map(|m| m + 1)
        .unwrap_or(1000);
    (start..=60000)
        .find(free)
        .or_else(|| (1000..=60000).find(free))
}

fn uid_used_fn(ctx: &Ctx, id: u32) -> bool {
    uid_used(ctx, id)
}
fn gid_used_fn(ctx: &Ctx, id: u32) -> bool {
    gid_used(ctx, id)
}

fn new_group_deb(ctx: &mut Ctx, name: &str, gid: u32) {
    append_line(ctx, "/etc/group", &format!("{name}:x:{gid}:"), None);
    append_line(ctx, "/etc/gshadow", &format!("{name}:!::"), Some(GSHADOW));
}

/// shadow's `groupadd [-r] [-g GID] [-f] [-o] GROUP`.
pub fn groupadd(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let spec = Spec {
        flags: "rfo",
        with_arg: "gKp",
        longs: &[
            ("system", 'r'),
            ("gid", 'g'),
            ("force", 'f'),
            ("non-unique", 'o'),
        ],
        permute: true,
    };
    let o = match spec.parse(&argv[1..]) {
        Ok(o) => o,
        Err(e) => return util::opt_error(ctx, &p, &e, 2),
    };
    if o.operands.len() != 1 {
        ctx.err(format!("Usage: {p} [options] GROUP\n"));
        return 2;
    }
    if shadow_fail(ctx, &p) {
        return 10;
    }
    let name = o.operands[0].clone();
    if util::group_row(ctx, &name).is_some() {
        if o.has('f') {
            return 0;
        }
        ctx.err(format!("{p}: group '{name}' already exists\n"));
        return 9;
    }
    let gid = match o.val('g') {
        Some(g) => match g.parse::<u32>() {
            Ok(n) => {
                if gid_used(ctx, n) && !o.has('o') {
                    if o.has('f') {
                        alloc(ctx, o.has('r'), false).unwrap_or(n)
                    } else {
                        ctx.err(format!("{p}: GID '{n}' already exists\n"));
                        return 4;
                    }
                } else {
                    n
                }
            }
            Err(_) => {
                ctx.err(format!("{p}: invalid group ID '{g}'\n"));
                return 3;
            }
        },
        None => match alloc(ctx, o.has('r'), false) {
            Some(g) => g,
            None => {
                ctx.err(format!(
                    "{p}: Can't get unique GID (no more available GIDs)\n"
                ));
                return 4;
            }
        },
    };
    new_group_deb(ctx, &name, gid);
    0
}

/// shadow's `useradd [-r] [-u UID] [-g GROUP] [-G GROUPS] [-m|-M] [-d HOME]
/// [-s SHELL] [-c COMMENT] [-N|-U] USER`.
pub fn useradd(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let spec = Spec {
        flags: "rmMNUloD",
        with_arg: "ugGdscekKbp",
        longs: &[
            ("system", 'r'),
            ("uid", 'u'),
            ("gid", 'g'),
            ("groups", 'G'),
            ("create-home", 'm'),
            ("no-create-home", 'M'),
            ("home-dir", 'd'),
            ("shell", 's'),
            ("comment", 'c'),
            ("no-user-group", 'N'),
            ("user-group", 'U'),
            ("no-log-init", 'l'),
            ("non-unique", 'o'),
            ("password", 'p'),
        ],
        permute: true,
    };
    let o = match spec.parse(&argv[1..]) {
        Ok(o) => o,
        Err(e) => return util::opt_error(ctx, &p, &e, 2),
    };
    if o.operands.len() != 1 {
        ctx.err(format!(
            "Usage: {p} [options] LOGIN\n       {p} -D\n       {p} -D [options]\n"
        ));
        return 2;
    }
    if shadow_fail(ctx, &p) {
        return 1;
    }
    let name = o.operands[0].clone();
    let system = o.has('r');
    if util::user_row(ctx, &name).is_some() {
        ctx.err(format!("{p}: user '{name}' already exists\n"));
        return 9;
    }
    let gid_given = match o.val('g') {
        Some(g) => match util::parse_gid(ctx, g)
            .filter(|id| gid_used(ctx, *id) || g.parse::<u32>().is_err())
        {
            Some(id) => Some(id),
            None => {
                ctx.err(format!("{p}: group '{g}' does not exist\n"));
                return 6;
            }
        },
        None => None,
    };
    let mut extra = Vec::new();
    for g in o
        .val('G')
        .map(|s| s.split(',').map(String::from).collect::<Vec<_>>())
        .unwrap_or_default()
    {
        if util::group_row(ctx, &g).is_none() && !g.parse::<u32>().is_ok_and(|n| gid_used(ctx, n)) {
            ctx.err(format!("{p}: group '{g}' does not exist\n"));
            return 6;
        }
        extra.push(g);
    }
    let user_group = gid_given.is_none() && !o.has('N');
    if user_group && util::group_row(ctx, &name).is_some() {
        ctx.err(format!(
            "{p}: group {name} exists - if you want to add this user to that group, use -g.\n"
        ));
        return 9;
    }
    let uid = match o.val('u') {
        Some(u) => match u.parse::<u32>() {
            Ok(n) => {
                if uid_used(ctx, n) && !o.has('o') {
                    ctx.err(format!("{p}: UID {n} is not unique\n"));
                    return 4;
                }
                n
            }
            Err(_) => {
                ctx.err(format!("{p}: invalid user ID '{u}'\n"));
                return 3;
            }
        },
        None => match alloc(ctx, system, true) {
            Some(u) => u,
            None => {
                ctx.err(format!(
                    "{p}: Can't get unique UID (no more available UIDs)\n"
                ));
                return 4;
            }
        },
    };
    let gid = match gid_given {
        Some(g) => g,
        None if o.has('N') => 100,
        None => {
            // The user's group takes the uid as gid when it is free.
            let g = if !gid_used(ctx, uid) {
                uid
            } else {
                alloc(ctx, system, false).unwrap_or(uid)
            };
            new_group_deb(ctx, &name, g);
            g
        }
    };
    let home = o
        .val('d')
        .map(String::from)
        .unwrap_or_else(|| format!("/home/{name}"));
    let shell = o.val('s').unwrap_or("/bin/sh");
    let comment = o.val('c').unwrap_or("");
    append_line(
        ctx,
        "/etc/passwd",
        &format!("{name}:x:{uid}:{gid}:{comment}:{home}:{shell}"),
        None,
    );
    let d = days(ctx);
    let line = if system {
        format!("{name}:!:{d}::::::")
    } else {
        format!("{name}:!:{d}:0:99999:7:::")
    };
    append_line(ctx, "/etc/shadow", &line, Some((0o640, 0, 42)));
    for g in &extra {
        let gname = util::group_row(ctx, g)
            .map(|r| r.name().to_string())
            .unwrap_or_else(|| g.clone());
        add_member(ctx, "/etc/group", &gname, &name);
        add_member(ctx, "/etc/gshadow", &gname, &name);
    }
    if o.has('m') && !o.has('M') {
        if ctx.fs.exists(&home) {
            ctx.err(format!("{p}: warning: the home directory {home} already exists.\n{p}: Not copying any file from skel directory into it.\n"));
            let _ = ctx
                .fs
                .set_meta(&home, true, None, Some((Some(uid), Some(gid))), None);
        } else {
            make_home(ctx, &home, uid, gid, 0o755);
        }
    }
    0
}

/// shadow's `usermod [-aG GROUPS] [-s SHELL] [-d HOME] [-u UID] [-g GROUP] USER`.
pub fn usermod(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let spec = Spec {
        flags: "amLUo",
        with_arg: "Gsdugcl",
        longs: &[
            ("append", 'a'),
            ("groups", 'G'),
            ("shell", 's'),
            ("home", 'd'),
            ("uid", 'u'),
            ("gid", 'g'),
            ("comment", 'c'),
            ("move-home", 'm'),
            ("login", 'l'),
        ],
        permute: true,
    };
    let o = match spec.parse(&argv[1..]) {
        Ok(o) => o,
        Err(e) => return util::opt_error(ctx, &p, &e, 2),
    };
    let (name, row) = match existing_login(ctx, &p, &o.operands) {
        Ok(x) => x,
        Err(status) => return status,
    };
    let mut f = row.fields.clone();
    while f.len() < 7 {
        f.push(String::new());
    }
    if let Some(u) = o.val('u') {
        match u.parse::<u32>() {
            Ok(n) if !uid_used(ctx, n) || row.id() == Some(n) || o.has('o') => f[2] = n.to_string(),
            Ok(n) => {
                ctx.err(format!("{p}: UID '{n}' already exists\n"));
                return 4;
            }
            Err(_) => {
                ctx.err(format!("{p}: invalid user ID '{u}'\n"));
                return 3;
            }
        }
    }
    if let Some(g) = o.val('g') {
        match util::parse_gid(ctx, g) {
            Some(id) => f[3] = id.to_string(),
            None => {
                ctx.err(format!("{p}: group '{g}' does not exist\n"));
                return 6;
            }
        }
    }
    if let Some(s) = o.val('s') {
        f[6] = s.to_string();
    }
    if let Some(d) = o.val('d') {
        f[5] = d.to_string();
    }
    if let Some(c) = o.val('c') {
        f[4] = c.to_string();
    }
    if let Some(gs) = o.val('G') {
        let gs: Vec<String> = gs
            .split(',')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        for g in &gs {
            if util::group_row(ctx, g).is_none() {
                ctx.err(format!("{p}: group '{g}' does not exist\n"));
                return 6;
            }
        }
        if !o.has('a') {
            for path in ["/etc/group", "/etc/gshadow"] {
                rewrite(ctx, path, |l| {
                    let mut fl: Vec<String> = l.split(':').map(String::from).collect();
                    if fl.len() >= 4 && !gs.contains(&fl[0]) {
                        let last = fl.len() - 1;
                        fl[last] = fl[last]
                            .split(',')
                            .filter(|m| *m != name && !m.is_empty())
                            .collect::<Vec<_>>()
                            .join(",");
                    }
                    Some(fl.join(":"))
                });
            }
        }
        for g in &gs {
            add_member(ctx, "/etc/group", g, &name);
            add_member(ctx, "/etc/gshadow", g, &name);
        }
    }
    let new = f.join(":");
    rewrite(ctx, "/etc/passwd", |l| {
        Some(if l.split(':').next() == Some(&name) {
            new.clone()
        } else {
            l.to_string()
        })
    });
    0
}

/// shadow's `userdel [-r] USER`.
pub fn userdel(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let spec = Spec {
        flags: "rf",
        with_arg: "",
        longs: &[("remove", 'r'), ("force", 'f')],
        permute: true,
    };
    let o = match spec.parse(&argv[1..]) {
        Ok(o) => o,
        Err(e) => return util::opt_error(ctx, &p, &e, 2),
    };
    let (name, row) = match existing_login(ctx, &p, &o.operands) {
        Ok(x) => x,
        Err(status) => return status,
    };
    for path in ["/etc/passwd", "/etc/shadow"] {
        rewrite(ctx, path, |l| {
            (l.split(':').next() != Some(&name)).then(|| l.to_string())
        });
    }
    let own = util::group_row(ctx, &name).is_some_and(|g| {
        g.field(3).is_empty() && g.id().map(|x| x.to_string()) == Some(row.field(3).to_string())
    });
    for path in ["/etc/group", "/etc/gshadow"] {
        rewrite(ctx, path, |l| {
            let mut f: Vec<String> = l.split(':').map(String::from).collect();
            if own && f.first() == Some(&name) {
                return None;
            }
            if f.len() >= 4 {
                let last = f.len() - 1;
                f[last] = f[last]
                    .split(',')
                    .filter(|m| *m != name && !m.is_empty())
                    .collect::<Vec<_>>()
                    .join(",");
            }
            Some(f.join(":"))
        });
    }
    if o.has('r') {
        let home = row.field(5).to_string();
        if ctx
            .fs
            .stat(&home, false)
            .is_ok_and(|s| s.kind == FileType::Dir)
        {
            let _ = ctx.fs.remove_all(&home);
        } else {
            ctx.err(format!("{p}: {name} home directory ({home}) not found\n"));
        }
    }
    0
}

/// Debian's `adduser`/`addgroup` (3.134): `--system --group
/// --disabled-password --disabled-login --no-create-home --home --shell
/// --uid --gid --ingroup --gecos --comment`.
fn deb_adduser(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let spec = Spec {
        flags: "qD",
        with_arg: "",
        longs: &[
            ("system", 'S'),
            ("group", 'G'),
            ("disabled-password", 'D'),
            ("disabled-login", 'L'),
            ("no-create-home", 'H'),
            ("home", 'h'),
            ("shell", 's'),
            ("uid", 'u'),
            ("gid", 'g'),
            ("ingroup", 'i'),
            ("gecos", 'c'),
            ("comment", 'c'),
            ("quiet", 'q'),
            ("force-badname", 'f'),
            ("allow-bad-names", 'f'),
        ],
        permute: true,
    };
    let spec = Spec {
        with_arg: "hsugic",
        ..spec
    };
    let o = match spec.parse(&argv[1..]) {
        Ok(o) => o,
        Err(e) => {
            let w = match e {
                util::OptError::UnknownLong(l) => l,
                util::OptError::Unknown(c) => format!("-{c}"),
                util::OptError::Missing(c) => format!("-{c}"),
                util::OptError::MissingLong(l) => format!("--{l}"),
            };
            ctx.err(format!(
                "Unknown option: {}\nadduser [--uid id] [--firstuid id] [--lastuid id]\n",
                w.trim_start_matches('-')
            ));
            return 1;
        }
    };
    if ctx.user.uid != 0 {
        ctx.err("fatal: Only root may add a user or group to the system.\n");
        return 1;
    }
    let group_mode = p == "addgroup" || (o.has('G') && !o.has('S'));
    if o.operands.is_empty() {
        ctx.err("fatal: Only one or two names allowed.\n");
        return 1;
    }
    let quiet = o.has('q');
    let system = o.has('S');
    let name = o.operands[0].clone();
    if o.operands.len() == 2 && !group_mode {
        let (user, group) = (name, o.operands[1].clone());
        if util::user_row(ctx, &user).is_none() {
            ctx.err(format!("fatal: The user `{user}' does not exist.\n"));
            return 1;
        }
        if util::group_row(ctx, &group).is_none() {
            ctx.err(format!("fatal: The group `{group}' does not exist.\n"));
            return 1;
        }
        if !quiet {
            ctx.out(format!("Adding user `{user}' to group `{group}' ...\n"));
        }
        add_member(ctx, "/etc/group", &group, &user);
        add_member(ctx, "/etc/gshadow", &group, &user);
        if !quiet {
            ctx.out("Done.\n");
        }
        return 0;
    }
    let first_free = |ctx: &Ctx, system: bool, used: fn(&Ctx, u32) -> bool| -> Option<u32> {
        if system {
            (100..=999).find(|id| !used(ctx, *id))
        } else {
            (1000..=59999).find(|id| !used(ctx, *id))
        }
    };
    if group_mode {
        if util::group_row(ctx, &name).is_some() {
            if system {
                return 0;
            }
            ctx.err(format!("fatal: The group `{name}' already exists.\n"));
            return 1;
        }
        let gid = match o.val('g').and_then(|g| g.parse::<u32>().ok()) {
            Some(g) if gid_used(ctx, g) => {
                ctx.err(format!("fatal: The GID `{g}' is already in use.\n"));
                return 1;
            }
            Some(g) => g,
            None => first_free(ctx, system, gid_used_fn).unwrap_or(0),
        };
        if !quiet && !system {
            ctx.out(format!("Adding group `{name}' (GID {gid}) ...\nDone.\n"));
        }
        new_group_deb(ctx, &name, gid);
        return 0;
    }
    if let Some(r) = util::user_row(ctx, &name) {
        if system && r.id().is_some_and(|id| id < 1000) {
            ctx.err(format!(
                "The system user `{name}' already exists. Exiting.\n"
            ));
            return 0;
        }
        ctx.err(format!("fatal: The user `{name}' already exists.\n"));
        return 1;
    }
    let uid = match o.val('u').map(|u| u.parse::<u32>()) {
        Some(Ok(u)) if uid_used(ctx, u) => {
            ctx.err(format!("fatal: The UID {u} is already in use.\n"));
            return 1;
        }
        Some(Ok(u)) => u,
        Some(Err(_)) => {
            ctx.err("fatal: uid must be numeric\n");
            return 1;
        }
        None => first_free(ctx, system, uid_used_fn).unwrap_or(0),
    };
    let mut lines = Vec::new();
    let gid = if let Some(g) = o.val('i').or(o.val('g')) {
        match util::parse_gid(ctx, g) {
            Some(id) if gid_used(ctx, id) => id,
            _ => {
                ctx.err(format!("fatal: The group `{g}' does not exist.\n"));
                return 1;
            }
        }
    } else if !system || o.has('G') {
        if util::group_row(ctx, &name).is_some() {
            ctx.err(format!("fatal: The group `{name}' already exists.\nfatal: The user `{name}' already exists.\n"));
            return 1;
        }
        let g = if !system && !gid_used(ctx, uid) {
            uid
        } else {
            first_free(ctx, system, gid_used_fn).unwrap_or(0)
        };
        lines.push(format!("Adding new group `{name}' ({g}) ...\n"));
        new_group_deb(ctx, &name, g);
        g
    } else {
        65534
    };
    let gname = util::group_name(ctx, gid).unwrap_or_else(|| gid.to_string());
    let home = o.val('h').map(String::from).unwrap_or_else(|| {
        if system {
            "/nonexistent".into()
        } else {
            format!("/home/{name}")
        }
    });
    let shell = o.val('s').unwrap_or(if system {
        "/usr/sbin/nologin"
    } else {
        "/bin/bash"
    });
    let gecos = o
        .val('c')
        .map(String::from)
        .unwrap_or_else(|| if system { String::new() } else { ",,,".into() });
    append_line(
        ctx,
        "/etc/passwd",
        &format!("{name}:x:{uid}:{gid}:{gecos}:{home}:{shell}"),
        None,
    );
    let d = days(ctx);
    let pw = if system || o.has('D') || o.has('L') {
        "*"
    } else {
        "!"
    };
    let sh_line = format!("{name}:{pw}:{d}:0:99999:7:::");
    append_line(ctx, "/etc/shadow", &sh_line, Some((0o640, 0, 42)));
    if !system {
        lines.insert(0, format!("Adding user `{name}' ...\n"));
        lines.push(format!(
            "Adding new user `{name}' ({uid}) with group `{gname} ({gid})' ...\n"
        ));
    }
    let create_home = !o.has('H') && home != "/nonexistent";
    if create_home {
        if ctx.fs.exists(&home) {
            if !system {
                lines.push(format!(
                    "The home directory `{home}' already exists.  Not touching this directory.\n"
                ));
            }
        } else {
            if !system {
                lines.push(format!(
                    "Creating home directory `{home}' ...\nCopying files from `/etc/skel' ...\n"
                ));
            }
            make_home(ctx, &home, uid, gid, 0o755);
        }
    }
    if !quiet {
        ctx.out(lines.concat());
    }
    if !system && !o.has('D') && !o.has('L') {
        // passwd and chfn need a terminal the build does not have.
        ctx.out("New password: Retype new password: No password has been supplied.\nNew password: Retype new password: No password has been supplied.\nNew password: Retype new password: No password has been supplied.\npasswd: Authentication token manipulation error\npasswd: password unchanged\n");
        ctx.err("Use of uninitialized value $answer in chop at /usr/sbin/adduser line 1363.\nUse of uninitialized value $answer in pattern match (m//) at /usr/sbin/adduser line 1364.\n");
        return 1;
    }
    0
}

/// Debian's `deluser`/`delgroup`.
fn deb_deluser(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let ops: Vec<String> = argv[1..]
        .iter()
        .filter(|a| !a.starts_with('-'))
        .cloned()
        .collect();
    if ctx.user.uid != 0 {
        ctx.err("fatal: Only root may remove a user or group from the system.\n");
        return 1;
    }
    let Some(name) = ops.first().cloned() else {
        ctx.err("fatal: Only one or two names allowed.\n");
        return 1;
    };
    if p == "delgroup" {
        if util::group_row(ctx, &name).is_none() {
            ctx.err(format!("fatal: The group `{name}' does not exist.\n"));
            return 2;
        }
        ctx.out(format!("Removing group `{name}' ...\nDone.\n"));
        for path in ["/etc/group", "/etc/gshadow"] {
            rewrite(ctx, path, |l| {
                (l.split(':').next() != Some(&name)).then(|| l.to_string())
            });
        }
        return 0;
    }
    if util::user_row(ctx, &name).is_none() {
        ctx.err(format!("fatal: The user `{name}' does not exist.\n"));
        return 2;
    }
    ctx.out(format!("Removing user `{name}' ...\nDone.\n"));
    let args = vec!["userdel".to_string(), name];
    let quiet = ctx.buffer().0;
    let saved = std::mem::replace(&mut ctx.stderr, quiet);
    let s = userdel(ctx, &args);
    ctx.stderr = saved;
    s
}
