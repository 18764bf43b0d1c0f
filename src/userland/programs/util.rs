//! What the programs share: a small `getopt` with each dialect's error
//! wording, the user and group databases of the image, the busybox / GNU
//! choice, permission checks for creating and removing names, and mode
//! and date formatting.

use crate::userland::fs::{Cred, Errno, FileType, FsResult, Stat};
use crate::userland::os::Family;
use crate::userland::proc::Ctx;

/// Whether the image's tools are GNU (Debian, Ubuntu) rather than busybox.
pub fn gnu(ctx: &Ctx) -> bool {
    matches!(ctx.os.family, Family::Debian | Family::Ubuntu)
}

/// The program's name as invoked (`/bin/ls` → `ls`).
pub fn prog(argv: &[String]) -> String {
    argv.first()
        .map(|a| a.rsplit('/').next().unwrap_or(a).to_string())
        .unwrap_or_default()
}

/// The umask processes run with (Docker's default).
pub const UMASK: u32 = 0o022;

/// Parsed options: each flag in order with its argument, and the operands.
#[derive(Debug, Default)]
pub struct Opts {
    pub flags: Vec<(char, Option<String>)>,
    pub operands: Vec<String>,
}

impl Opts {
    pub fn has(&self, c: char) -> bool {
        self.flags.iter().any(|(f, _)| *f == c)
    }
    pub fn count(&self, c: char) -> usize {
        self.flags.iter().filter(|(f, _)| *f == c).count()
    }
    /// The last argument given to `c`.
    pub fn val(&self, c: char) -> Option<&str> {
        self.flags
            .iter()
            .rev()
            .find(|(f, _)| *f == c)
            .and_then(|(_, v)| v.as_deref())
    }
    pub fn vals(&self, c: char) -> Vec<&str> {
        self.flags
            .iter()
            .filter(|(f, _)| *f == c)
            .filter_map(|(_, v)| v.as_deref())
            .collect()
    }
}

/// Why options could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptError {
    Unknown(char),
    UnknownLong(String),
    Missing(char),
    MissingLong(String),
}

/// An option table: short flags, which of them take an argument, and long
/// names mapped to a (possibly private) char.
pub struct Spec<'a> {
    pub flags: &'a str,
    pub with_arg: &'a str,
    pub longs: &'a [(&'a str, char)],
    /// Options may follow operands (GNU); busybox stops at the first too
    /// for some tools, but most of its applets permute as well.
    pub permute: bool,
}

impl Spec<'_> {
    /// Parses `args` (without argv[0]).
    pub fn parse(&self, args: &[String]) -> Result<Opts, OptError> {
        let mut o = Opts::default();
        let mut i = 0;
        while i < args.len() {
            let a = &args[i];
            i += 1;
            if a == "--" {
                o.operands.extend(args[i..].iter().cloned());
                break;
            }
            if let Some(long) = a.strip_prefix("--") {
                let (name, inline) = match long.split_once('=') {
                    Some((n, v)) => (n, Some(v.to_string())),
                    None => (long, None),
                };
                let hits: Vec<&(&str, char)> = self
                    .longs
                    .iter()
                    .filter(|(l, _)| *l == name || l.starts_with(name))
                    .collect();
                let hit = hits
                    .iter()
                    .find(|(l, _)| *l == name)
                    .or(if hits.len() == 1 { hits.first() } else { None });
                let Some((lname, c)) = hit else {
                    return Err(OptError::UnknownLong(a.clone()));
                };
                if self.with_arg.contains(*c) {
                    let v = match inline {
                        Some(v) => v,
                        None => match args.get(i) {
                            Some(v) => {
                                i += 1;
                                v.clone()
                            }
                            None => return Err(OptError::MissingLong(lname.to_string())),
                        },
                    };
                    o.flags.push((*c, Some(v)));
                } else {
                    o.flags.push((*c, None));
                }
                continue;
            }
            if a.len() > 1 && a.starts_with('-') {
                let chars: Vec<char> = a[1..].chars().collect();
                let mut j = 0;
                while j < chars.len() {
                    let c = chars[j];
                    j += 1;
                    if self.with_arg.contains(c) {
                        let rest: String = chars[j..].iter().collect();
                        let v = if !rest.is_empty() {
                            rest
                        } else {
                            match args.get(i) {
                                Some(v) => {
                                    i += 1;
                                    v.clone()
                                }
                                None => return Err(OptError::Missing(c)),
                            }
                        };
                        o.flags.push((c, Some(v)));
                        break;
                    } else if self.flags.contains(c) {
                        o.flags.push((c, None));
                    } else {
                        return Err(OptError::Unknown(c));
                    }
                }
                continue;
            }
            o.operands.push(a.clone());
            if !self.permute {
                o.operands.extend(args[i..].iter().cloned());
                break;
            }
        }
        Ok(o)
    }
}

/// Prints an option error as the dialect does and gives the status.
pub fn opt_error(ctx: &Ctx, prog: &str, e: &OptError, status: i32) -> i32 {
    if gnu(ctx) {
        let line = match e {
            OptError::Unknown(c) => format!("{prog}: invalid option -- '{c}'"),
            OptError::UnknownLong(l) => format!("{prog}: unrecognized option '{l}'"),
            OptError::Missing(c) => format!("{prog}: option requires an argument -- '{c}'"),
            OptError::MissingLong(l) => format!("{prog}: option '--{l}' requires an argument"),
        };
        ctx.err(format!(
            "{line}\nTry '{prog} --help' for more information.\n"
        ));
        status
    } else {
        // busybox 1.36 (libbb/getopt32.c via musl getopt), then its usage.
        let line = match e {
            OptError::Unknown(c) => format!("{prog}: unrecognized option: {c}"),
            OptError::UnknownLong(l) => {
                format!("{prog}: unrecognized option: {}", l.trim_start_matches('-'))
            }
            OptError::Missing(c) => format!("{prog}: option requires an argument: {c}"),
            OptError::MissingLong(l) => format!("{prog}: option requires an argument: {l}"),
        };
        ctx.err(format!("{line}\n{BANNER}\n"));
        1
    }
}

/// busybox's banner line (Alpine 3.20's busybox 1.36.1-r29).
pub const BANNER: &str = "BusyBox v1.36.1 (2024-06-10 07:11:47 UTC) multi-call binary.";

/// A `name:x:id:...` database line.
#[derive(Clone, Debug)]
pub struct Row {
    pub fields: Vec<String>,
}

impl Row {
    pub fn name(&self) -> &str {
        &self.fields[0]
    }
    pub fn id(&self) -> Option<u32> {
        self.fields.get(2).and_then(|f| f.parse().ok())
    }
    pub fn field(&self, i: usize) -> &str {
        self.fields.get(i).map(String::as_str).unwrap_or("")
    }
}

/// Reads `/etc/passwd` or `/etc/group` as rows.
pub fn db(ctx: &Ctx, path: &str) -> Vec<Row> {
    ctx.fs
        .read_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| Row {
            fields: l.split(':').map(String::from).collect(),
        })
        .filter(|r| r.fields.len() >= 3)
        .collect()
}

pub fn user_name(ctx: &Ctx, uid: u32) -> Option<String> {
    db(ctx, "/etc/passwd")
        .into_iter()
        .find(|r| r.id() == Some(uid))
        .map(|r| r.name().to_string())
}

pub fn group_name(ctx: &Ctx, gid: u32) -> Option<String> {
    db(ctx, "/etc/group")
        .into_iter()
        .find(|r| r.id() == Some(gid))
        .map(|r| r.name().to_string())
}

pub fn user_row(ctx: &Ctx, name: &str) -> Option<Row> {
    db(ctx, "/etc/passwd")
        .into_iter()
        .find(|r| r.name() == name)
}

pub fn group_row(ctx: &Ctx, name: &str) -> Option<Row> {
    db(ctx, "/etc/group").into_iter().find(|r| r.name() == name)
}

/// A user given by name or number.
pub fn parse_uid(ctx: &Ctx, s: &str) -> Option<u32> {
    user_row(ctx, s)
        .and_then(|r| r.id())
        .or_else(|| s.parse().ok())
}

/// A group given by name or number.
pub fn parse_gid(ctx: &Ctx, s: &str) -> Option<u32> {
    group_row(ctx, s)
        .and_then(|r| r.id())
        .or_else(|| s.parse().ok())
}

/// Checks that the process may create or remove the name `abs` (write
/// permission on the directory holding it). Returns the resolved path.
pub fn may_create(ctx: &Ctx, abs: &str) -> FsResult<String> {
    let r = ctx.fs.resolve(abs, false)?;
    let parent = r.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
    if !parent.is_empty() && ctx.fs.entry(parent).is_none() {
        return Err(Errno::NoEnt);
    }
    ctx.fs.may_write_in(&r, ctx.user.cred())?;
    Ok(r)
}

/// Checks write permission on an existing file (following links).
pub fn may_write(ctx: &Ctx, abs: &str) -> FsResult<()> {
    let r = ctx.fs.resolve(abs, true)?;
    if ctx.fs.entry(&r).is_none() && !r.is_empty() {
        return Err(Errno::NoEnt);
    }
    ctx.fs.may(&r, ctx.user.cred(), 2)
}

/// Checks read permission (following links).
pub fn may_read(ctx: &Ctx, abs: &str) -> FsResult<()> {
    let r = ctx.fs.resolve(abs, true)?;
    if ctx.fs.entry(&r).is_none() && !r.is_empty() {
        return Err(Errno::NoEnt);
    }
    ctx.fs.may(&r, ctx.user.cred(), 4)
}

/// Reads a file operand (`-` is stdin) with the permission check.
pub fn read_input(ctx: &Ctx, name: &str) -> FsResult<Vec<u8>> {
    if name == "-" {
        return Ok(ctx.stdin.clone());
    }
    let p = ctx.path(name);
    may_read(ctx, &p)?;
    ctx.fs.read(&p)
}

/// The creds the process creates files with.
pub fn cred(ctx: &Ctx) -> Cred {
    ctx.user.cred()
}

/// `-rwxr-xr-x` (`ls -l`, `stat -A`).
pub fn mode_string(st: &Stat) -> String {
    let t = match st.kind {
        FileType::Dir => 'd',
        FileType::Symlink => 'l',
        FileType::File => '-',
    };
    let m = st.mode;
    let mut s = String::with_capacity(10);
    s.push(t);
    let bit = |b: u32, c: char| if m & b != 0 { c } else { '-' };
    s.push(bit(0o400, 'r'));
    s.push(bit(0o200, 'w'));
    s.push(match (m & 0o100 != 0, m & 0o4000 != 0) {
        (true, true) => 's',
        (false, true) => 'S',
        (true, false) => 'x',
        _ => '-',
    });
    s.push(bit(0o040, 'r'));
    s.push(bit(0o020, 'w'));
    s.push(match (m & 0o010 != 0, m & 0o2000 != 0) {
        (true, true) => 's',
        (false, true) => 'S',
        (true, false) => 'x',
        _ => '-',
    });
    s.push(bit(0o004, 'r'));
    s.push(bit(0o002, 'w'));
    s.push(match (m & 0o001 != 0, m & 0o1000 != 0) {
        (true, true) => 't',
        (false, true) => 'T',
        (true, false) => 'x',
        _ => '-',
    });
    s
}

/// A UTC date-time from epoch seconds.
pub fn datetime(secs: u64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(secs.min(i64::MAX as u64 / 2) as i64, 0).unwrap_or_default()
}

/// `ls -l`'s date column: `Nov  1 12:00`, or `Nov  1  2025` when older
/// than six months or more than 15 minutes in the future.
pub fn ls_date(mtime: u64, now: u64) -> String {
    let d = datetime(mtime);
    let age = now as i64 - mtime as i64;
    if age < 3600 * 24 * 365 / 2 && age > -15 * 60 {
        d.format("%b %e %H:%M").to_string()
    } else {
        d.format("%b %e  %Y").to_string()
    }
}

/// Human-readable sizes as `ls -h`/`du -h` print them (`1.5K`, `12M`).
pub fn human(n: u64) -> String {
    if n < 1024 {
        return n.to_string();
    }
    let units = ['K', 'M', 'G', 'T', 'P'];
    let mut v = n as f64;
    let mut u = 0;
    v /= 1024.0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    if v < 10.0 {
        // GNU rounds up to one decimal.
        let r = (v * 10.0).ceil() / 10.0;
        if r < 10.0 {
            return format!("{r:.1}{}", units[u]);
        }
        return format!("{}{}", r as u64, units[u]);
    }
    format!("{}{}", v.ceil() as u64, units[u])
}

/// busybox's human-readable sizes (libbb make_human_readable_str): one
/// decimal from 1K up (`4.9K`, `16.0K`).
pub fn human_bb(n: u64) -> String {
    if n < 1024 {
        return n.to_string();
    }
    let units = ['K', 'M', 'G', 'T', 'P'];
    let mut v = n as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1}{}", units[u])
}

/// 1K blocks a file of `size` bytes takes (4K allocation).
pub fn blocks_1k(st: &Stat) -> u64 {
    match st.kind {
        FileType::Dir => 4,
        FileType::Symlink => 0,
        FileType::File => st.size.div_ceil(4096) * 4,
    }
}

/// Parses an octal mode or a symbolic one (`u+x,go-w`, `755`, `a=rX`)
/// applied to `old`; `dir` for `X`.
pub fn parse_mode(spec: &str, old: u32, dir: bool) -> Option<u32> {
    if !spec.is_empty() && spec.chars().all(|c| c.is_digit(8)) {
        return u32::from_str_radix(spec, 8).ok().filter(|m| *m <= 0o7777);
    }
    let mut mode = old & 0o7777;
    for clause in spec.split(',') {
        let mut chars = clause.chars().peekable();
        let mut who = 0u32;
        while let Some(&c) = chars.peek() {
            match c {
                'u' => who |= 0o4700,
                'g' => who |= 0o2070,
                'o' => who |= 0o1007,
                'a' => who |= 0o7777,
                _ => break,
            }
            chars.next();
        }
        let umasked = who == 0;
        if who == 0 {
            who = 0o7777;
        }
        let mut any = false;
        while let Some(op) = chars.next() {
            if !matches!(op, '+' | '-' | '=') {
                return None;
            }
            any = true;
            let mut bits = 0u32;
            while let Some(&c) = chars.peek() {
                match c {
                    'r' => bits |= 0o444,
                    'w' => bits |= 0o222,
                    'x' => bits |= 0o111,
                    'X' => {
                        if dir || mode & 0o111 != 0 {
                            bits |= 0o111
                        }
                    }
                    's' => bits |= 0o6000,
                    't' => bits |= 0o1000,
                    'u' => {
                        let u = (mode >> 6) & 7;
                        bits |= u | (u << 3) | (u << 6)
                    }
                    'g' => {
                        let g = (mode >> 3) & 7;
                        bits |= g | (g << 3) | (g << 6)
                    }
                    'o' => {
                        let o = mode & 7;
                        bits |= o | (o << 3) | (o << 6)
                    }
                    '+' | '-' | '=' => break,
                    _ => return None,
                }
                chars.next();
            }
            let mut eff = bits & who;
            if umasked {
                eff &= !UMASK;
            }
            match op {
                '+' => mode |= eff,
                '-' => mode &= !eff,
                _ => mode = (mode & !who) | eff,
            }
        }
        if !any {
            return None;
        }
    }
    Some(mode)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbolic_modes() {
        assert_eq!(parse_mode("755", 0, false), Some(0o755));
        assert_eq!(parse_mode("u+x", 0o644, false), Some(0o744));
        assert_eq!(parse_mode("+x", 0o644, false), Some(0o755));
        assert_eq!(parse_mode("go-w", 0o666, false), Some(0o644));
        assert_eq!(parse_mode("a=rX", 0o700, true), Some(0o555));
        assert_eq!(parse_mode("u=rwx,g=rx,o=", 0, false), Some(0o750));
        assert_eq!(parse_mode("bogus", 0, false), None);
        assert_eq!(parse_mode("9", 0, false), None);
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human(1000), "1000");
        assert_eq!(human(1536), "1.5K");
        assert_eq!(human(219342), "215K");
        assert_eq!(human(10 * 1024 * 1024), "10M");
    }

    #[test]
    fn getopt_bundles_and_long_options() {
        let spec = Spec {
            flags: "laR",
            with_arg: "n",
            longs: &[("recursive", 'R'), ("lines", 'n')],
            permute: true,
        };
        let args: Vec<String> = ["-la", "x", "--rec", "-n5", "--lines=3", "--", "-z"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let o = spec.parse(&args).unwrap();
        assert!(o.has('l') && o.has('a') && o.has('R'));
        assert_eq!(o.vals('n'), ["5", "3"]);
        assert_eq!(o.operands, ["x", "-z"]);
        assert_eq!(
            spec.parse(&["-q".to_string()]).unwrap_err(),
            OptError::Unknown('q')
        );
    }
}
