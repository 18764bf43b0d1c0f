//! `find PATH... [EXPR]`: `-name -iname -path -wholename -type -maxdepth
//! -mindepth -perm -user -group -size -newer -empty -exec {} ; and + -delete
//! -print -print0 -prune -o -a ! ( )`. Directory entries are visited in
//! name order.

use super::util::{self, gnu, prog};
use crate::userland::exec;
use crate::userland::fs::{FileType, Stat, join};
use crate::userland::proc::Ctx;

#[derive(Clone, Debug)]
enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Name(String, bool),
    Path(String),
    Type(char),
    Perm(u32, char),
    User(u32),
    Group(u32),
    Size(i8, u64),
    Newer(u64),
    Empty,
    Exec(Vec<String>, bool),
    Delete,
    Print(bool),
    Prune,
    True,
}

/// Shell glob matching (`*`, `?`, `[...]`) as fnmatch does without flags.
pub fn glob(pat: &str, s: &str, icase: bool) -> bool {
    let p: Vec<char> = if icase {
        pat.to_lowercase().chars().collect()
    } else {
        pat.chars().collect()
    };
    let t: Vec<char> = if icase {
        s.to_lowercase().chars().collect()
    } else {
        s.chars().collect()
    };
    fn go(p: &[char], t: &[char]) -> bool {
        let (mut pi, mut ti) = (0, 0);
        let (mut star, mut mark) = (None, 0);
        while ti < t.len() {
            if pi < p.len() {
                match p[pi] {
                    '*' => {
                        star = Some(pi);
                        mark = ti;
                        pi += 1;
                        continue;
                    }
                    '?' => {
                        pi += 1;
                        ti += 1;
                        continue;
                    }
                    '[' => {
                        if let Some((ok, len)) = class(&p[pi..], t[ti])
                            && ok
                        {
                            pi += len;
                            ti += 1;
                            continue;
                        }
                    }
                    '\\' if pi + 1 < p.len() && p[pi + 1] == t[ti] => {
                        pi += 2;
                        ti += 1;
                        continue;
                    }
                    c if c == t[ti] => {
                        pi += 1;
                        ti += 1;
                        continue;
                    }
                    _ => {}
                }
            }
            match star {
                Some(s) => {
                    pi = s + 1;
                    mark += 1;
                    ti = mark;
                }
                None => return false,
            }
        }
        while pi < p.len() && p[pi] == '*' {
            pi += 1;
        }
        pi == p.len()
    }
    fn class(p: &[char], c: char) -> Option<(bool, usize)> {
        let mut i = 1;
        let neg = matches!(p.get(1), Some('!') | Some('^'));
        if neg {
            i += 1;
        }
        let mut ok = false;
        let mut first = true;
        while i < p.len() {
            if p[i] == ']' && !first {
                return Some((ok != neg, i + 1));
            }
            first = false;
            if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
                if p[i] <= c && c <= p[i + 2] {
                    ok = true;
                }
                i += 3;
            } else {
                if p[i] == c {
                    ok = true;
                }
                i += 1;
            }
        }
        None
    }
    go(&p, &t)
}

struct P<'a> {
    args: &'a [String],
    i: usize,
    has_action: bool,
    maxdepth: Option<usize>,
    mindepth: usize,
}

impl P<'_> {
    fn next(&mut self) -> Option<String> {
        let a = self.args.get(self.i).cloned();
        self.i += 1;
        a
    }
    fn or(&mut self, ctx: &Ctx) -> Result<Expr, String> {
        let mut l = self.and(ctx)?;
        while matches!(
            self.args.get(self.i).map(String::as_str),
            Some("-o") | Some("-or")
        ) {
            self.i += 1;
            let r = self.and(ctx)?;
            l = Expr::Or(Box::new(l), Box::new(r));
        }
        Ok(l)
    }
    fn and(&mut self, ctx: &Ctx) -> Result<Expr, String> {
        let mut l = self.unary(ctx)?;
        loop {
            match self.args.get(self.i).map(String::as_str) {
                None | Some("-o") | Some("-or") | Some(")") => return Ok(l),
                Some("-a") | Some("-and") => self.i += 1,
                _ => {}
            }
            let r = self.unary(ctx)?;
            l = Expr::And(Box::new(l), Box::new(r));
        }
    }
    fn unary(&mut self, ctx: &Ctx) -> Result<Expr, String> {
        match self.args.get(self.i).map(String::as_str) {
            Some("!") | Some("-not") => {
                self.i += 1;
                Ok(Expr::Not(Box::new(self.unary(ctx)?)))
            }
            Some("(") => {
                self.i += 1;
                let e = self.or(ctx)?;
                if self.next().as_deref() != Some(")") {
                    return Err("invalid expression; I was expecting to find a ')' somewhere but did not see one.".into());
                }
                Ok(e)
            }
            _ => self.primary(ctx),
        }
    }
    fn arg(&mut self, name: &str) -> Result<String, String> {
        self.next()
            .ok_or_else(|| format!("missing argument to `{name}'"))
    }
    fn primary(&mut self, ctx: &Ctx) -> Result<Expr, String> {
        let Some(a) = self.next() else {
            return Err("invalid expression".into());
        };
        Ok(match a.as_str() {
            "-name" => Expr::Name(self.arg(&a)?, false),
            "-iname" => Expr::Name(self.arg(&a)?, true),
            "-path" | "-wholename" => Expr::Path(self.arg(&a)?),
            "-type" => {
                let t = self.arg(&a)?;
                match t.as_str() {
                    "f" | "d" | "l" | "b" | "c" | "p" | "s" => {
                        Expr::Type(t.chars().next().unwrap_or('f'))
                    }
                    _ => return Err(format!("Unknown argument to -type: {t}")),
                }
            }
            "-maxdepth" | "-mindepth" => {
                let v = self.arg(&a)?;
                let n: usize = v.parse().map_err(|_| {
                    format!("Expected a positive decimal integer argument to {a}, but got `{v}'")
                })?;
                if a == "-maxdepth" {
                    self.maxdepth = Some(n);
                } else {
                    self.mindepth = n;
                }
                Expr::True
            }
            "-perm" => {
                let v = self.arg(&a)?;
                let (kind, m) = match v.chars().next() {
                    Some('-') => ('-', &v[1..]),
                    Some('/') => ('/', &v[1..]),
                    _ => ('=', v.as_str()),
                };
                let mode =
                    util::parse_mode(m, 0, false).ok_or_else(|| format!("invalid mode `{v}'"))?;
                Expr::Perm(mode, kind)
            }
            "-user" => {
                let v = self.arg(&a)?;
                Expr::User(
                    util::parse_uid(ctx, &v)
                        .ok_or_else(|| format!("'{v}' is not the name of a known user"))?,
                )
            }
            "-group" => {
                let v = self.arg(&a)?;
                Expr::Group(
                    util::parse_gid(ctx, &v)
                        .ok_or_else(|| format!("'{v}' is not the name of an existing group"))?,
                )
            }
            "-size" => {
                let v = self.arg(&a)?;
                let (sign, rest) = match v.chars().next() {
                    Some('+') => (1, &v[1..]),
                    Some('-') => (-1, &v[1..]),
                    _ => (0, v.as_str()),
                };
                let (num, unit) = match rest.chars().last() {
                    Some(c) if c.is_ascii_alphabetic() => (&rest[..rest.len() - 1], c),
                    _ => (rest, 'b'),
                };
                let n: u64 = num
                    .parse()
                    .map_err(|_| format!("invalid -size type `{v}'"))?;
                let mult = match unit {
                    'c' => 1,
                    'w' => 2,
                    'b' => 512,
                    'k' => 1024,
                    'M' => 1024 * 1024,
                    'G' => 1024 * 1024 * 1024,
                    _ => return Err(format!("invalid -size type `{v}'")),
                };
                Expr::Size(sign, n * mult)
            }
            "-newer" => {
                let v = self.arg(&a)?;
                let st = ctx
                    .fs
                    .stat(&ctx.path(&v), true)
                    .map_err(|e| format!("'{v}': {e}"))?;
                Expr::Newer(st.mtime)
            }
            "-empty" => Expr::Empty,
            "-exec" | "-execdir" | "-ok" => {
                let mut cmd = Vec::new();
                loop {
                    let Some(x) = self.next() else {
                        return Err(format!("missing argument to `{a}'"));
                    };
                    if x == ";" {
                        break;
                    }
                    if x == "+" && cmd.last().is_some_and(|l| l == "{}") {
                        self.has_action = true;
                        return Ok(Expr::Exec(cmd, true));
                    }
                    cmd.push(x);
                }
                self.has_action = true;
                Expr::Exec(cmd, false)
            }
            "-delete" => {
                self.has_action = true;
                Expr::Delete
            }
            "-print" => {
                self.has_action = true;
                Expr::Print(false)
            }
            "-print0" => {
                self.has_action = true;
                Expr::Print(true)
            }
            "-prune" => Expr::Prune,
            "-true" => Expr::True,
            "-false" => Expr::Not(Box::new(Expr::True)),
            "-xdev" | "-mount" | "-depth" | "-follow" | "-noleaf" | "-ignore_readdir_race" => {
                Expr::True
            }
            _ => return Err(format!("unknown predicate `{a}'")),
        })
    }
}

struct Walk<'a> {
    shown: String,
    abs: String,
    depth: usize,
    st: Stat,
    name: &'a str,
}

struct Run {
    out: String,
    status: i32,
    prune: bool,
    batch: Vec<(Vec<String>, Vec<String>)>,
    deleted: Vec<String>,
}

fn eval(ctx: &mut Ctx, e: &Expr, w: &Walk, r: &mut Run) -> bool {
    match e {
        Expr::And(a, b) => eval(ctx, a, w, r) && eval(ctx, b, w, r),
        Expr::Or(a, b) => eval(ctx, a, w, r) || eval(ctx, b, w, r),
        Expr::Not(a) => !eval(ctx, a, w, r),
        Expr::True => true,
        Expr::Name(p, ic) => glob(p, w.name, *ic),
        Expr::Path(p) => glob(p, &w.shown, false),
        Expr::Type(t) => match t {
            'f' => w.st.kind == FileType::File,
            'd' => w.st.kind == FileType::Dir,
            'l' => w.st.kind == FileType::Symlink,
            _ => false,
        },
        Expr::Perm(m, k) => match k {
            '-' => w.st.mode & m == *m,
            '/' => *m == 0 || w.st.mode & m != 0,
            _ => w.st.mode & 0o7777 == *m,
        },
        Expr::User(u) => w.st.uid == *u,
        Expr::Group(g) => w.st.gid == *g,
        Expr::Size(sign, n) => {
            let size = if w.st.kind == FileType::Dir {
                4096
            } else {
                w.st.size
            };
            // Rounded up to the unit, as find compares.
            let unit = if *n % (1024 * 1024 * 1024) == 0 && *n > 0 {
                1024 * 1024 * 1024
            } else if *n % (1024 * 1024) == 0 && *n > 0 {
                1024 * 1024
            } else if *n % 1024 == 0 && *n > 0 {
                1024
            } else if *n % 512 == 0 && *n > 0 {
                512
            } else {
                1
            };
            let have = size.div_ceil(unit);
            let want = n / unit;
            match sign {
                1 => have > want,
                -1 => have < want,
                _ => have == want,
            }
        }
        Expr::Newer(t) => w.st.mtime > *t,
        Expr::Empty => match w.st.kind {
            FileType::Dir => ctx
                .fs
                .read_dir(&w.abs)
                .map(|v| v.is_empty())
                .unwrap_or(false),
            FileType::File => w.st.size == 0,
            FileType::Symlink => false,
        },
        Expr::Print(z) => {
            r.out.push_str(&w.shown);
            r.out.push(if *z { '\0' } else { '\n' });
            true
        }
        Expr::Prune => {
            r.prune = true;
            true
        }
        Expr::Delete => {
            r.deleted.push(w.abs.clone());
            let res = util::may_create(ctx, &w.abs).and_then(|_| {
                if w.st.kind == FileType::Dir {
                    ctx.fs.remove(&w.abs, true)
                } else {
                    ctx.fs.remove(&w.abs, false)
                }
            });
            if let Err(e) = res {
                flush(ctx, r);
                ctx.err(if gnu(ctx) {
                    format!("find: cannot delete '{}': {e}\n", w.shown)
                } else {
                    format!("find: {}: {e}\n", w.shown)
                });
                r.status = 1;
                return false;
            }
            true
        }
        Expr::Exec(cmd, plus) => {
            if *plus {
                match r.batch.iter_mut().find(|(c, _)| c == cmd) {
                    Some((_, v)) => v.push(w.shown.clone()),
                    None => r.batch.push((cmd.clone(), vec![w.shown.clone()])),
                }
                return true;
            }
            let args: Vec<String> = cmd.iter().map(|a| a.replace("{}", &w.shown)).collect();
            flush(ctx, r);
            run_cmd(ctx, &args, r) == 0
        }
    }
}

fn flush(ctx: &Ctx, r: &mut Run) {
    ctx.out(std::mem::take(&mut r.out));
}

fn run_cmd(ctx: &mut Ctx, args: &[String], r: &mut Run) -> i32 {
    let mut child = ctx.child();
    match exec::exec_name(&mut child, args) {
        Ok(s) => s,
        Err(_) => {
            let n = args.first().cloned().unwrap_or_default();
            ctx.err(if gnu(ctx) {
                format!("find: '{n}': No such file or directory\n")
            } else {
                format!("find: {n}: No such file or directory\n")
            });
            r.status = 1;
            127
        }
    }
}

/// `find [PATH]... [EXPRESSION]`
pub fn find(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let g = gnu(ctx);
    let mut i = 1;
    let mut starts = Vec::new();
    while i < argv.len() {
        let a = &argv[i];
        if (a.starts_with('-') && a.len() > 1) || a == "!" || a == "(" {
            break;
        }
        starts.push(a.clone());
        i += 1;
    }
    if starts.is_empty() {
        starts.push(".".into());
    }
    let mut parser = P {
        args: &argv[i..],
        i: 0,
        has_action: false,
        maxdepth: None,
        mindepth: 0,
    };
    let expr = if argv.len() > i {
        match parser.or(ctx) {
            Ok(e) if parser.i >= parser.args.len() => e,
            Ok(_) => {
                let x = parser.args.get(parser.i).cloned().unwrap_or_default();
                ctx.err(if g {
                    format!("{p}: paths must precede expression: `{x}'\n")
                } else {
                    format!("{p}: unrecognized: {x}\n")
                });
                return 1;
            }
            Err(e) => {
                if g {
                    ctx.err(format!("{p}: {e}\n"));
                } else {
                    let first = e
                        .split('`')
                        .nth(1)
                        .map(|s| s.trim_end_matches('\''))
                        .unwrap_or(&e);
                    ctx.err(format!("{p}: unrecognized: {first}\n"));
                }
                return 1;
            }
        }
    } else {
        Expr::True
    };
    let expr = if parser.has_action {
        expr
    } else {
        Expr::And(Box::new(expr), Box::new(Expr::Print(false)))
    };
    let delete_mode = format!("{expr:?}").contains("Delete");
    let (maxd, mind) = (parser.maxdepth, parser.mindepth);
    let mut r = Run {
        out: String::new(),
        status: 0,
        prune: false,
        batch: Vec::new(),
        deleted: Vec::new(),
    };
    for s in &starts {
        let abs = ctx.path(s);
        let st = match ctx.fs.stat(&abs, false) {
            Ok(st) => st,
            Err(e) => {
                flush(ctx, &mut r);
                ctx.err(if g {
                    format!("{p}: '{s}': {e}\n")
                } else {
                    format!("{p}: {s}: {e}\n")
                });
                r.status = 1;
                continue;
            }
        };
        // The start may be a symlink to a directory: follow it (-H).
        let st = if st.kind == FileType::Symlink {
            ctx.fs.stat(&abs, true).unwrap_or(st)
        } else {
            st
        };
        // Depth-first stack of (shown, abs, depth, entered).
        let mut stack = vec![(s.clone(), abs.clone(), 0usize, false, Some(st))];
        while let Some((shown, a, depth, entered, st)) = stack.pop() {
            if ctx.step().is_err() {
                return 1;
            }
            let Some(st) = st.or_else(|| ctx.fs.stat(&a, false).ok()) else {
                continue;
            };
            let name = shown.rsplit('/').next().unwrap_or(&shown).to_string();
            let name = if depth == 0 {
                shown
                    .trim_end_matches('/')
                    .rsplit('/')
                    .next()
                    .unwrap_or(&shown)
                    .to_string()
            } else {
                name
            };
            let is_dir = st.kind == FileType::Dir;
            let w = Walk {
                shown: shown.clone(),
                abs: a.clone(),
                depth,
                st: st.clone(),
                name: &name,
            };
            let within = maxd.is_none_or(|m| depth <= m) && depth >= mind;
            if delete_mode {
                // Children first (-delete implies -depth).
                if is_dir && !entered && maxd.is_none_or(|m| depth < m) {
                    stack.push((shown.clone(), a.clone(), depth, true, Some(st.clone())));
                    let mut kids = ctx.fs.read_dir(&a).unwrap_or_default();
                    kids.reverse();
                    for k in kids {
                        let sh = if shown.ends_with('/') {
                            format!("{shown}{k}")
                        } else {
                            format!("{shown}/{k}")
                        };
                        stack.push((sh, join(&a, &k), depth + 1, false, None));
                    }
                    continue;
                }
                if within {
                    r.prune = false;
                    eval(ctx, &expr, &w, &mut r);
                }
                continue;
            }
            r.prune = false;
            if within {
                eval(ctx, &expr, &w, &mut r);
            }
            let _ = w.depth;
            if is_dir && !r.prune && maxd.is_none_or(|m| depth < m) {
                if ctx.fs.may(&st.path, util::cred(ctx), 4).is_err() {
                    flush(ctx, &mut r);
                    ctx.err(if g {
                        format!("{p}: '{shown}': Permission denied\n")
                    } else {
                        format!("{p}: {shown}: Permission denied\n")
                    });
                    r.status = 1;
                    continue;
                }
                let mut kids = ctx.fs.read_dir(&a).unwrap_or_default();
                kids.reverse();
                for k in kids {
                    let sh = if shown.ends_with('/') {
                        format!("{shown}{k}")
                    } else {
                        format!("{shown}/{k}")
                    };
                    stack.push((sh, join(&a, &k), depth + 1, false, None));
                }
            }
        }
    }
    flush(ctx, &mut r);
    for (cmd, files) in std::mem::take(&mut r.batch) {
        let mut args = Vec::new();
        for c in &cmd {
            if c == "{}" {
                args.extend(files.iter().cloned());
            } else {
                args.push(c.clone());
            }
        }
        if run_cmd(ctx, &args, &mut r) != 0 {
            r.status = 1;
        }
    }
    r.status
}
