//! `ls` in both dialects. Output is never a terminal in a build, so the
//! short form is one name a line. The long form follows busybox 1.36's
//! fixed columns (`%-10s %4lu %-8.8s %-8.8s %9llu DATE NAME`,
//! coreutils/ls.c) or GNU 9.1's columns padded to the widest field.

use super::util::{self, Spec, gnu, prog};
use crate::userland::fs::{FileType, Stat, join};
use crate::userland::proc::Ctx;

struct Item {
    name: String,
    abs: String,
    st: Stat,
    /// For symlinks: the target text.
    link: Option<String>,
}

struct LsOpts {
    long: bool,
    all: bool,
    almost: bool,
    rec: bool,
    human: bool,
    dir: bool,
    numeric: bool,
    time: bool,
    reverse: bool,
    size_sort: bool,
    classify: bool,
    inode_no_group: bool,
    no_owner: bool,
}

fn item(ctx: &Ctx, name: &str, abs: &str, deref: bool) -> Result<Item, crate::userland::fs::Errno> {
    let mut st = ctx.fs.stat(abs, false)?;
    let mut link = None;
    if st.kind == FileType::Symlink {
        if deref {
            if let Ok(s) = ctx.fs.stat(abs, true) {
                st = s;
            }
        } else {
            link = ctx.fs.read_link(abs).ok();
        }
    }
    Ok(Item {
        name: name.to_string(),
        abs: abs.to_string(),
        st,
        link,
    })
}

fn nlink(ctx: &Ctx, it: &Item) -> u64 {
    if it.st.kind != FileType::Dir {
        return 1;
    }
    let subdirs = ctx
        .fs
        .read_dir(&it.abs)
        .unwrap_or_default()
        .iter()
        .filter(
            |n| matches!(ctx.fs.stat(&join(&it.abs, n), false), Ok(s) if s.kind == FileType::Dir),
        )
        .count() as u64;
    2 + subdirs
}

fn sort(items: &mut [Item], o: &LsOpts) {
    items.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    if o.time {
        items.sort_by_key(|b| std::cmp::Reverse(b.st.mtime));
    } else if o.size_sort {
        items.sort_by_key(|b| std::cmp::Reverse(b.st.size));
    }
    if o.reverse {
        items.reverse();
    }
}

fn suffix(o: &LsOpts, it: &Item) -> &'static str {
    if !o.classify {
        return "";
    }
    match it.st.kind {
        FileType::Dir => "/",
        FileType::Symlink => "@",
        FileType::File if it.st.mode & 0o111 != 0 => "*",
        FileType::File => "",
    }
}

fn print(ctx: &Ctx, items: &[Item], o: &LsOpts, gnu: bool) {
    if !o.long {
        let mut s = String::new();
        for it in items {
            s.push_str(&it.name);
            s.push_str(suffix(o, it));
            s.push('\n');
        }
        ctx.out(s);
        return;
    }
    let now = ctx.world.clock;
    let rows: Vec<[String; 6]> = items
        .iter()
        .map(|it| {
            let owner = if o.numeric {
                it.st.uid.to_string()
            } else {
                util::user_name(ctx, it.st.uid).unwrap_or_else(|| it.st.uid.to_string())
            };
            let group = if o.numeric {
                it.st.gid.to_string()
            } else {
                util::group_name(ctx, it.st.gid).unwrap_or_else(|| it.st.gid.to_string())
            };
            let size = if it.st.kind == FileType::Dir {
                4096
            } else {
                it.st.size
            };
            let size = if o.human && gnu {
                util::human(size)
            } else if o.human {
                util::human_bb(size)
            } else {
                size.to_string()
            };
            let mut name = format!("{}{}", it.name, suffix(o, it));
            if let Some(t) = &it.link {
                name = format!("{} -> {t}", it.name);
            }
            [
                util::mode_string(&it.st),
                nlink(ctx, it).to_string(),
                owner,
                group,
                size,
                format!("{} {name}", util::ls_date(it.st.mtime, now)),
            ]
        })
        .collect();
    let mut s = String::new();
    if gnu {
        let w = |i: usize| rows.iter().map(|r| r[i].len()).max().unwrap_or(0);
        let (wl, wo, wg, ws) = (w(1), w(2), w(3), w(4));
        for r in &rows {
            s.push_str(&format!("{} {:>wl$} ", r[0], r[1]));
            if !o.no_owner {
                s.push_str(&format!("{:<wo$} ", r[2]));
            }
            if !o.inode_no_group {
                s.push_str(&format!("{:<wg$} ", r[3]));
            }
            s.push_str(&format!("{:>ws$} {}\n", r[4], r[5]));
        }
    } else {
        for r in &rows {
            s.push_str(&format!("{:<10} {:>4} ", r[0], r[1]));
            if o.numeric {
                s.push_str(&format!("{:<8} {:<8} ", r[2], r[3]));
            } else {
                let cut = |x: &str| x.chars().take(8).collect::<String>();
                s.push_str(&format!("{:<8} {:<8} ", cut(&r[2]), cut(&r[3])));
            }
            if o.human {
                s.push_str(&format!("{:>7} {}\n", r[4], r[5]));
            } else {
                s.push_str(&format!("{:>9} {}\n", r[4], r[5]));
            }
        }
    }
    ctx.out(s);
}

/// The entries of a directory as `ls` shows them (with `.` and `..` for
/// `-a`).
fn dir_items(ctx: &Ctx, abs: &str, o: &LsOpts) -> Vec<Item> {
    let mut v = Vec::new();
    if o.all && !o.almost {
        for n in [".", ".."] {
            if let Ok(it) = item(ctx, n, &join(abs, n), true) {
                v.push(Item {
                    name: n.to_string(),
                    ..it
                });
            }
        }
    }
    for n in ctx.fs.read_dir(abs).unwrap_or_default() {
        if n.starts_with('.') && !o.all && !o.almost {
            continue;
        }
        if let Ok(it) = item(ctx, &n, &join(abs, &n), false) {
            v.push(it);
        }
    }
    sort(&mut v, o);
    v
}

/// `ls [-1aAlRhdntrSFgo] [FILE]...`
pub fn ls(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let g = gnu(ctx);
    let spec = Spec {
        flags: "1aAlRhdntrSFgoiCxsLHpe",
        with_arg: "",
        longs: &[
            ("all", 'a'),
            ("almost-all", 'A'),
            ("recursive", 'R'),
            ("human-readable", 'h'),
            ("directory", 'd'),
            ("numeric-uid-gid", 'n'),
            ("reverse", 'r'),
            ("classify", 'F'),
            ("dereference", 'L'),
            ("color", '\u{1}'),
            ("full-time", '\u{2}'),
        ],
        permute: true,
    };
    let o = match spec.parse(&argv[1..]) {
        Ok(o) => o,
        Err(e) => return util::opt_error(ctx, &p, &e, 2),
    };
    let lo = LsOpts {
        long: o.has('l') || o.has('n') || o.has('g') || o.has('o'),
        all: o.has('a'),
        almost: o.has('A') && !o.has('a'),
        rec: o.has('R'),
        human: o.has('h'),
        dir: o.has('d'),
        numeric: o.has('n'),
        time: o.has('t'),
        reverse: o.has('r'),
        size_sort: o.has('S'),
        classify: o.has('F'),
        inode_no_group: o.has('o'),
        no_owner: o.has('g'),
    };
    let lo = LsOpts {
        all: lo.all || lo.almost,
        ..lo
    };
    let ops = if o.operands.is_empty() {
        vec![".".to_string()]
    } else {
        o.operands.clone()
    };
    let mut status = 0;
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    for f in &ops {
        let abs = ctx.path(f);
        match item(ctx, f, &abs, false) {
            Ok(mut it) => {
                let follow = !lo.dir && (!lo.long || f.ends_with('/') || o.has('L') || o.has('H'));
                if it.st.kind == FileType::Symlink
                    && (follow || !lo.long)
                    && let Ok(s) = ctx.fs.stat(&abs, true)
                    && (follow || s.kind != FileType::Dir)
                {
                    it.st = s;
                    it.link = None;
                }
                if it.st.kind == FileType::Dir && !lo.dir {
                    if ctx.fs.may(&it.st.path, util::cred(ctx), 4).is_err() {
                        ctx.err(if g {
                            format!("{p}: cannot open directory '{f}': Permission denied\n")
                        } else {
                            format!("{p}: can't open '{f}': Permission denied\n")
                        });
                        status = 2;
                        continue;
                    }
                    dirs.push(it);
                } else {
                    files.push(it);
                }
            }
            Err(e) => {
                ctx.err(if g {
                    format!("{p}: cannot access '{f}': {e}\n")
                } else {
                    format!("{p}: {f}: {e}\n")
                });
                status = if g { 2 } else { 1 };
            }
        }
    }
    sort(&mut files, &lo);
    sort(&mut dirs, &lo);
    print(ctx, &files, &lo, g);
    let many = ops.len() > 1 || lo.rec;
    let mut first = files.is_empty();
    let mut queue: Vec<(String, String)> = dirs
        .iter()
        .map(|d| (d.name.clone(), d.abs.clone()))
        .collect();
    queue.reverse();
    while let Some((name, abs)) = queue.pop() {
        if ctx.step().is_err() {
            return 1;
        }
        if many {
            if !first {
                ctx.out("\n");
            }
            ctx.out(format!("{name}:\n"));
        }
        first = false;
        let items = dir_items(ctx, &abs, &lo);
        if lo.long {
            let total: u64 = items.iter().map(|i| util::blocks_1k(&i.st)).sum();
            let t = if lo.human && g {
                util::human(total * 1024)
            } else {
                total.to_string()
            };
            ctx.out(format!("total {t}\n"));
        }
        print(ctx, &items, &lo, g);
        if lo.rec {
            let mut subs: Vec<(String, String)> = items
                .iter()
                .filter(|i| i.st.kind == FileType::Dir && i.name != "." && i.name != "..")
                .map(|i| {
                    let n = if name.ends_with('/') {
                        format!("{name}{}", i.name)
                    } else {
                        format!("{name}/{}", i.name)
                    };
                    (n, i.abs.clone())
                })
                .collect();
            subs.reverse();
            queue.extend(subs);
        }
    }
    status
}
