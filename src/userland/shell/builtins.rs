//! The shell's builtins (special ones, whose errors end a non-interactive
//! shell, and regular ones), and the six that are also programs of their
//! own: `echo`, `printf`, `test`, `[`, `true`, `false` (busybox applets on
//! Alpine, GNU coreutils on Debian).

use super::Dialect;
use super::expand::parse_num;
use super::interp::{Ctl, R, Shell, quote};
use crate::userland::exec;
use crate::userland::fs::FileType;
use crate::userland::proc::Ctx;

const SPECIAL: &[&str] = &[
    ":", ".", "break", "continue", "eval", "exec", "exit", "export", "readonly", "return", "set",
    "shift", "trap", "unset", "times",
];

const REGULAR: &[&str] = &[
    "true", "false", "echo", "printf", "test", "[", "cd", "pwd", "read", "local", "command",
    "type", "umask", "wait", "getopts", "hash", "ulimit", "alias", "unalias",
];

pub fn is_special(d: Dialect, name: &str) -> bool {
    SPECIAL.contains(&name) || (name == "source" && d != Dialect::Dash)
}

pub fn is_builtin(_d: Dialect, name: &str) -> bool {
    REGULAR.contains(&name)
}

/// How `echo` behaves.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum EchoStyle {
    /// dash: escapes always, only `-n`.
    Dash,
    /// busybox ash, bash, GNU and busybox `/bin/echo`: `-n -e -E`.
    Flags,
}

fn fatal(sh: &Shell, st: i32) -> R {
    if sh.interactive {
        Ok(st)
    } else {
        Err(Ctl::Exit(st))
    }
}

fn is_name(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(f) if f.is_ascii_alphabetic() || f == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
}

pub fn run_special(sh: &mut Shell, ctx: &mut Ctx, argv: &[String]) -> R {
    let args = &argv[1..];
    match argv[0].as_str() {
        ":" => Ok(0),
        "." | "source" => dot(sh, ctx, argv),
        "break" | "continue" => {
            let n = match args.first() {
                Some(a) => match a.parse::<u32>() {
                    Ok(n) if n > 0 => n,
                    _ => {
                        let m = match sh.dialect {
                            Dialect::Dash => format!("{}: Illegal number: {a}", argv[0]),
                            Dialect::Ash => format!("{}: Illegal number: {a}", argv[0]),
                            Dialect::Bash => format!("{}: {a}: loop count out of range", argv[0]),
                        };
                        sh.error(ctx, &m);
                        return fatal(sh, if sh.dialect == Dialect::Bash { 1 } else { 2 });
                    }
                },
                None => 1,
            };
            if sh.loops == 0 {
                if sh.dialect == Dialect::Bash {
                    sh.error(
                        ctx,
                        &format!(
                            "{}: only meaningful in a `for', `while', or `until' loop",
                            argv[0]
                        ),
                    );
                }
                return Ok(0);
            }
            let n = n.min(sh.loops);
            Err(if argv[0] == "break" {
                Ctl::Break(n)
            } else {
                Ctl::Continue(n)
            })
        }
        "eval" => {
            let src = args.join(" ");
            if src.trim().is_empty() {
                return Ok(0);
            }
            let p = match sh.parse(ctx, &src) {
                Ok(p) => p,
                Err(st) => return fatal(sh, st),
            };
            sh.run_program(ctx, &p)
        }
        "exec" => {
            if args.is_empty() {
                return Ok(0);
            }
            let st = sh.dispatch(ctx, args, &[])?;
            Err(Ctl::Exit(st))
        }
        "exit" => {
            let st = match args.first() {
                None => sh.status,
                Some(a) => match parse_num(a) {
                    Some(n) if !a.starts_with('-') || sh.dialect == Dialect::Bash => n as i32,
                    _ => {
                        let m = match sh.dialect {
                            Dialect::Bash => format!("exit: {a}: numeric argument required"),
                            _ => format!("exit: Illegal number: {a}"),
                        };
                        sh.error(ctx, &m);
                        return Err(Ctl::Exit(2));
                    }
                },
            };
            Err(Ctl::Exit(st & 255))
        }
        "export" | "readonly" => {
            let ro = argv[0] == "readonly";
            let names: Vec<&String> = args.iter().filter(|a| *a != "-p").collect();
            if names.is_empty() {
                let mut list: Vec<(String, String)> = if ro {
                    sh.readonly
                        .iter()
                        .map(|k| (k.clone(), sh.get(ctx, k).unwrap_or_default()))
                        .collect()
                } else {
                    ctx.env
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect()
                };
                list.sort();
                for (k, v) in list {
                    match sh.dialect {
                        Dialect::Bash => {
                            let flag = if ro { "-r" } else { "-x" };
                            ctx.out(format!(
                                "declare {flag} {k}=\"{}\"\n",
                                v.replace('"', "\\\"")
                            ));
                        }
                        _ => ctx.out(format!("{} {k}={}\n", argv[0], single(&v))),
                    }
                }
                return Ok(0);
            }
            let mut st = 0;
            for a in names {
                let (k, v) = match a.split_once('=') {
                    Some((k, v)) => (k, Some(v)),
                    None => (a.as_str(), None),
                };
                if !is_name(k) {
                    let m = match sh.dialect {
                        Dialect::Bash => format!("{}: `{a}': not a valid identifier", argv[0]),
                        _ => format!("{}: {k}: bad variable name", argv[0]),
                    };
                    sh.error(ctx, &m);
                    if sh.dialect == Dialect::Bash {
                        st = 1;
                        continue;
                    }
                    return fatal(sh, 2);
                }
                if let Some(v) = v
                    && let Err(m) = sh.set(ctx, k, v)
                {
                    sh.error(ctx, &m);
                    return fatal(sh, 2);
                }
                if ro {
                    if sh.get(ctx, k).is_none() && v.is_none() {
                        let _ = sh.set(ctx, k, "");
                        sh.vars.remove(k);
                    }
                    sh.readonly.insert(k.to_string());
                } else {
                    sh.export(ctx, k);
                }
            }
            Ok(st)
        }
        "return" => {
            let st = match args.first() {
                None => sh.status,
                Some(a) => match parse_num(a) {
                    Some(n) => n as i32 & 255,
                    None => {
                        sh.error(ctx, &format!("return: Illegal number: {a}"));
                        return fatal(sh, 2);
                    }
                },
            };
            Err(Ctl::Return(st))
        }
        "set" => set(sh, ctx, args),
        "shift" => {
            let n = match args.first() {
                None => 1,
                Some(a) => match a.parse::<usize>() {
                    Ok(n) => n,
                    Err(_) => {
                        sh.error(ctx, &format!("shift: Illegal number: {a}"));
                        return fatal(sh, 2);
                    }
                },
            };
            if n > sh.params.len() {
                if sh.dialect == Dialect::Bash {
                    return Ok(1);
                }
                sh.error(ctx, "shift: can't shift that many");
                return fatal(sh, 2);
            }
            sh.params.drain(..n);
            Ok(0)
        }
        "trap" => {
            if args.is_empty() {
                for (sig, cmd) in &sh.traps {
                    ctx.out(format!("trap -- {} {sig}\n", single(cmd)));
                }
                return Ok(0);
            }
            let (action, sigs) = if args.len() == 1 {
                ("-", args)
            } else {
                (args[0].as_str(), &args[1..])
            };
            for s in sigs {
                let name = match s.trim_start_matches("SIG") {
                    "0" | "EXIT" => "EXIT".to_string(),
                    "1" | "HUP" => "HUP".into(),
                    "2" | "INT" => "INT".into(),
                    "3" | "QUIT" => "QUIT".into(),
                    "15" | "TERM" => "TERM".into(),
                    other => other.to_string(),
                };
                if action == "-" {
                    sh.traps.remove(&name);
                } else {
                    sh.traps.insert(name, action.to_string());
                }
            }
            Ok(0)
        }
        "unset" => {
            let mut funcs = false;
            for a in args {
                match a.as_str() {
                    "-f" => funcs = true,
                    "-v" => funcs = false,
                    n if funcs => {
                        sh.funcs.remove(n);
                    }
                    n => {
                        if let Err(m) = sh.unset(ctx, n) {
                            sh.error(ctx, &format!("unset: {m}"));
                            return fatal(sh, 2);
                        }
                    }
                }
            }
            Ok(0)
        }
        "times" => {
            ctx.out("0m0.000000s 0m0.000000s\n0m0.000000s 0m0.000000s\n");
            Ok(0)
        }
        _ => Ok(0),
    }
}

fn single(v: &str) -> String {
    format!("'{}'", v.replace('\'', "'\\''"))
}

fn dot(sh: &mut Shell, ctx: &mut Ctx, argv: &[String]) -> R {
    let Some(file) = argv.get(1) else {
        return Ok(0);
    };
    let path = if file.contains('/') {
        Some(ctx.path(file))
    } else {
        let p = sh.get(ctx, "PATH").unwrap_or_default();
        let mut found = p
            .split(':')
            .map(|d| ctx.path(&format!("{}/{file}", if d.is_empty() { "." } else { d })))
            .find(|c| ctx.fs.is_file(c));
        if found.is_none() && sh.dialect == Dialect::Bash && ctx.fs.is_file(&ctx.path(file)) {
            found = Some(ctx.path(file));
        }
        found
    };
    let src = path.and_then(|p| ctx.fs.read_string(&p).ok());
    let Some(src) = src else {
        let m = match sh.dialect {
            Dialect::Dash => format!("{}: cannot open {file}: No such file", argv[0]),
            Dialect::Ash => format!(
                "{}: can't open '{file}': No such file or directory",
                argv[0]
            ),
            Dialect::Bash => format!("{file}: No such file or directory"),
        };
        sh.error(ctx, &m);
        return if sh.dialect == Dialect::Bash {
            Ok(1)
        } else {
            fatal(sh, 2)
        };
    };
    let saved = if argv.len() > 2 {
        Some(std::mem::replace(&mut sh.params, argv[2..].to_vec()))
    } else {
        None
    };
    let line = sh.lineno;
    let r = match sh.parse(ctx, &src) {
        Ok(p) => match sh.run_program(ctx, &p) {
            Err(Ctl::Return(st)) => Ok(st),
            r => r,
        },
        Err(st) => fatal(sh, st),
    };
    sh.lineno = line;
    if let Some(p) = saved {
        sh.params = p;
    }
    r
}

fn set(sh: &mut Shell, ctx: &mut Ctx, args: &[String]) -> R {
    if args.is_empty() {
        let mut all: Vec<(String, String)> = ctx
            .env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .chain(sh.vars.iter().map(|(k, v)| (k.clone(), v.clone())))
            .collect();
        all.sort();
        for (k, v) in all {
            ctx.out(format!("{k}={}\n", single(&v)));
        }
        return Ok(0);
    }
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "--" {
            sh.params = args[i + 1..].to_vec();
            return Ok(0);
        }
        let (on, flags) = match a.chars().next() {
            Some('-') if a.len() > 1 => (true, &a[1..]),
            Some('+') if a.len() > 1 => (false, &a[1..]),
            Some('-') => {
                sh.params = args[i + 1..].to_vec();
                return Ok(0);
            }
            _ => {
                sh.params = args[i..].to_vec();
                return Ok(0);
            }
        };
        for c in flags.chars() {
            if c == 'o' {
                i += 1;
                let Some(name) = args.get(i) else {
                    for (n, v) in [
                        ("errexit", sh.opts.errexit),
                        ("noglob", sh.opts.noglob),
                        ("nounset", sh.opts.nounset),
                        ("xtrace", sh.opts.xtrace),
                    ] {
                        ctx.out(format!("{n:<16}{}\n", if v { "on" } else { "off" }));
                    }
                    return Ok(0);
                };
                if !set_long(sh, name, on) {
                    let sign = if on { '-' } else { '+' };
                    let m = match sh.dialect {
                        Dialect::Dash => format!("set: Illegal option {sign}o {name}"),
                        Dialect::Ash => format!("set: illegal option {sign}o {name}"),
                        Dialect::Bash => format!("set: {name}: invalid option name"),
                    };
                    sh.error(ctx, &m);
                    return if sh.dialect == Dialect::Bash {
                        Ok(2)
                    } else {
                        fatal(sh, 2)
                    };
                }
            } else if !set_flag(sh, c, on) {
                let sign = if on { '-' } else { '+' };
                let m = match sh.dialect {
                    Dialect::Dash => format!("set: Illegal option {sign}{c}"),
                    Dialect::Ash => format!("set: illegal option {sign}{c}"),
                    Dialect::Bash => format!("set: {sign}{c}: invalid option"),
                };
                sh.error(ctx, &m);
                return if sh.dialect == Dialect::Bash {
                    Ok(2)
                } else {
                    fatal(sh, 2)
                };
            }
        }
        i += 1;
    }
    Ok(0)
}

/// A one-letter option; false when unknown.
pub fn set_flag(sh: &mut Shell, c: char, on: bool) -> bool {
    let o = &mut sh.opts;
    match c {
        'e' => o.errexit = on,
        'u' => o.nounset = on,
        'x' => o.xtrace = on,
        'f' => o.noglob = on,
        'a' => o.allexport = on,
        'n' => o.noexec = on,
        'v' => o.verbose = on,
        'h' | 'm' | 'b' | 'C' | 'B' | 'H' | 'P' | 'T' | 'E' => {}
        _ => return false,
    }
    true
}

/// A `-o name` option; false when this shell has no such option.
pub fn set_long(sh: &mut Shell, name: &str, on: bool) -> bool {
    let o = &mut sh.opts;
    match name {
        "errexit" => o.errexit = on,
        "nounset" => o.nounset = on,
        "xtrace" => o.xtrace = on,
        "noglob" => o.noglob = on,
        "allexport" => o.allexport = on,
        "noexec" => o.noexec = on,
        "verbose" => o.verbose = on,
        "pipefail" if sh.dialect != Dialect::Dash => o.pipefail = on,
        "monitor" | "noclobber" | "ignoreeof" | "notify" | "vi" | "emacs" | "nolog" => {}
        "posix" | "hashall" | "braceexpand" | "histexpand" | "history"
            if sh.dialect == Dialect::Bash => {}
        _ => return false,
    }
    true
}

pub fn run(sh: &mut Shell, ctx: &mut Ctx, argv: &[String]) -> R {
    let args = &argv[1..];
    let d = sh.dialect;
    match argv[0].as_str() {
        "true" => Ok(0),
        "false" => Ok(1),
        "echo" => Ok(echo(
            ctx,
            argv,
            if d == Dialect::Dash {
                EchoStyle::Dash
            } else {
                EchoStyle::Flags
            },
        )),
        "printf" => {
            let p = sh.prefix();
            Ok(printf(
                ctx,
                argv,
                &format!("{p}printf: "),
                d == Dialect::Bash,
            ))
        }
        "test" | "[" => {
            let mut a: Vec<String> = args.to_vec();
            if argv[0] == "[" {
                if a.last().map(String::as_str) != Some("]") {
                    let m = if d == Dialect::Bash {
                        "[: missing `]'"
                    } else {
                        "[: missing ]"
                    };
                    sh.error(ctx, m);
                    return Ok(2);
                }
                a.pop();
            }
            match test_eval(sh, ctx, &a) {
                Ok(b) => Ok(if b { 0 } else { 1 }),
                Err(m) => {
                    sh.error(ctx, &format!("{}: {m}", argv[0]));
                    Ok(2)
                }
            }
        }
        "cd" => cd(sh, ctx, args),
        "pwd" => {
            ctx.out(format!("{}\n", ctx.cwd));
            Ok(0)
        }
        "read" => read(sh, ctx, args),
        "local" => {
            if sh.funcs_running == 0 {
                let m = match d {
                    Dialect::Bash => "local: can only be used in a function",
                    _ => "local: not in a function",
                };
                sh.error(ctx, m);
                return Ok(if d == Dialect::Bash { 1 } else { 2 });
            }
            for a in args {
                let (k, v) = match a.split_once('=') {
                    Some((k, v)) => (k, Some(v)),
                    None => (a.as_str(), None),
                };
                if !is_name(k) {
                    sh.error(ctx, &format!("local: {k}: bad variable name"));
                    return Ok(2);
                }
                let old = sh.get(ctx, k);
                let exported = ctx.env.get(k).is_some();
                if let Some(frame) = sh.locals.last_mut()
                    && !frame.iter().any(|(n, _, _)| n == k)
                {
                    frame.push((k.to_string(), old.clone(), exported));
                }
                // dash and ash: a local without a value keeps the outer
                // value (or stays unset); bash makes it empty.
                let v = match (v, &old) {
                    (Some(v), _) => v.to_string(),
                    (None, _) if d == Dialect::Bash => String::new(),
                    (None, Some(o)) => o.clone(),
                    (None, None) => continue,
                };
                if let Err(m) = sh.set(ctx, k, &v) {
                    sh.error(ctx, &format!("local: {m}"));
                    return Ok(1);
                }
            }
            Ok(0)
        }
        "command" => {
            let mut i = 0;
            let mut mode = None;
            while let Some(a) = args.get(i) {
                match a.as_str() {
                    "-v" => mode = Some('v'),
                    "-V" => mode = Some('V'),
                    "-p" => {}
                    "--" => {
                        i += 1;
                        break;
                    }
                    _ => break,
                }
                i += 1;
            }
            let rest = &args[i..];
            if rest.is_empty() {
                return Ok(0);
            }
            match mode {
                Some(m) => {
                    let mut st = 0;
                    for n in rest {
                        if !describe(sh, ctx, n, m == 'V') {
                            st = if m == 'V' && d != Dialect::Bash {
                                127
                            } else {
                                1
                            };
                        }
                    }
                    Ok(st)
                }
                None => {
                    let name = rest[0].as_str();
                    if is_special(d, name) {
                        return run_special(sh, ctx, rest);
                    }
                    if is_builtin(d, name) {
                        return run(sh, ctx, rest);
                    }
                    sh.dispatch_external(ctx, rest)
                }
            }
        }
        "type" => {
            let mut st = 0;
            for n in args {
                if !describe(sh, ctx, n, true) {
                    st = if d == Dialect::Bash { 1 } else { 127 };
                }
            }
            Ok(st)
        }
        "umask" => {
            let sym = args.first().map(String::as_str) == Some("-S");
            let rest: Vec<&String> = args.iter().filter(|a| *a != "-S").collect();
            match rest.first() {
                None => {
                    if sym {
                        let p = |shift: u32| {
                            let m = !(sh.umask >> shift) & 7;
                            let mut s = String::new();
                            for (b, c) in [(4, 'r'), (2, 'w'), (1, 'x')] {
                                if m & b != 0 {
                                    s.push(c);
                                }
                            }
                            s
                        };
                        ctx.out(format!("u={},g={},o={}\n", p(6), p(3), p(0)));
                    } else {
                        ctx.out(format!("{:04o}\n", sh.umask));
                    }
                    Ok(0)
                }
                Some(v) => match u32::from_str_radix(v, 8) {
                    Ok(m) if m <= 0o777 => {
                        sh.umask = m;
                        Ok(0)
                    }
                    _ => {
                        sh.error(ctx, &format!("umask: Illegal number: {v}"));
                        Ok(2)
                    }
                },
            }
        }
        "wait" | "hash" | "alias" | "unalias" => Ok(0),
        "ulimit" => {
            ctx.out("unlimited\n");
            Ok(0)
        }
        "getopts" => getopts(sh, ctx, args),
        _ => Ok(127),
    }
}

impl Shell {
    /// `command NAME`: a program, skipping functions.
    pub fn dispatch_external(&mut self, ctx: &mut Ctx, argv: &[String]) -> R {
        let f = self.funcs.remove(&argv[0]);
        let r = self.dispatch(ctx, argv, &[]);
        if let Some(f) = f {
            self.funcs.insert(argv[0].clone(), f);
        }
        r
    }
}

/// `type NAME` (`verbose`) or `command -v NAME`; false when not found.
fn describe(sh: &Shell, ctx: &Ctx, n: &str, verbose: bool) -> bool {
    let d = sh.dialect;
    let kw = [
        "if", "then", "else", "elif", "fi", "case", "esac", "for", "while", "until", "do", "done",
        "{", "}", "!", "in",
    ];
    let what = if kw.contains(&n) {
        Some(format!("{n} is a shell keyword"))
    } else if sh.funcs.contains_key(n) {
        Some(format!("{n} is a shell function"))
    } else if is_special(d, n) {
        Some(if d == Dialect::Bash {
            format!("{n} is a shell builtin")
        } else {
            format!("{n} is a special shell builtin")
        })
    } else if is_builtin(d, n) {
        Some(format!("{n} is a shell builtin"))
    } else {
        None
    };
    if let Some(w) = what {
        if verbose {
            ctx.out(format!("{w}\n"));
        } else {
            ctx.out(format!("{n}\n"));
        }
        return true;
    }
    match exec::find(ctx, n) {
        Ok(p) if ctx.fs.is_file(&p) => {
            if verbose {
                ctx.out(format!("{n} is {p}\n"));
            } else {
                ctx.out(format!("{p}\n"));
            }
            true
        }
        _ => {
            if verbose {
                match d {
                    Dialect::Bash => sh.error(ctx, &format!("type: {n}: not found")),
                    _ => ctx.out(format!("{n}: not found\n")),
                }
            }
            false
        }
    }
}

fn cd(sh: &mut Shell, ctx: &mut Ctx, args: &[String]) -> R {
    let args: Vec<&String> = args.iter().filter(|a| *a != "-L" && *a != "-P").collect();
    let mut print = false;
    let target = match args.first().map(|s| s.as_str()) {
        None => match sh.get(ctx, "HOME") {
            Some(h) if !h.is_empty() => h,
            _ => {
                if sh.dialect == Dialect::Bash {
                    sh.error(ctx, "cd: HOME not set");
                    return Ok(1);
                }
                return Ok(0);
            }
        },
        Some("-") => {
            print = true;
            sh.get(ctx, "OLDPWD").unwrap_or_default()
        }
        Some(t) => t.to_string(),
    };
    let abs = ctx.path(&target);
    let err = match ctx.fs.stat(&abs, true) {
        Ok(st) if st.kind == FileType::Dir => ctx.fs.may(&st.path, ctx.user.cred(), 1).err(),
        Ok(_) => Some(crate::userland::fs::Errno::NotDir),
        Err(e) => Some(e),
    };
    if let Some(e) = err {
        match sh.dialect {
            Dialect::Dash => sh.error(ctx, &format!("cd: can't cd to {target}")),
            Dialect::Ash => sh.error(ctx, &format!("cd: can't cd to {target}: {}", e.text())),
            Dialect::Bash => sh.error(ctx, &format!("cd: {target}: {}", e.text())),
        }
        return Ok(if sh.dialect == Dialect::Bash { 1 } else { 2 });
    }
    let old = ctx.cwd.clone();
    ctx.cwd = abs.clone();
    let _ = sh.set(ctx, "OLDPWD", &old);
    let _ = sh.set(ctx, "PWD", &abs);
    if print {
        ctx.out(format!("{abs}\n"));
    }
    Ok(0)
}

fn read(sh: &mut Shell, ctx: &mut Ctx, args: &[String]) -> R {
    let mut raw = false;
    let mut names = Vec::new();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-r" => raw = true,
            "-p" => {
                i += 1;
                if let Some(p) = args.get(i) {
                    ctx.err(p);
                }
            }
            "-s" => {}
            a => names.push(a.to_string()),
        }
        i += 1;
    }
    if names.is_empty() {
        names.push("REPLY".into());
    }
    // One logical line from stdin.
    let mut line = String::new();
    let mut eof = true;
    let data = std::mem::take(&mut ctx.stdin);
    let mut pos = 0;
    let text = String::from_utf8_lossy(&data).into_owned();
    let bytes: Vec<char> = text.chars().collect();
    let mut consumed_bytes = 0;
    while pos < bytes.len() {
        let c = bytes[pos];
        pos += 1;
        consumed_bytes += c.len_utf8();
        if c == '\\' && !raw {
            if pos < bytes.len() {
                let n = bytes[pos];
                pos += 1;
                consumed_bytes += n.len_utf8();
                if n != '\n' {
                    line.push('\u{0}');
                    line.push(n);
                }
            }
            continue;
        }
        if c == '\n' {
            eof = false;
            break;
        }
        line.push(c);
    }
    ctx.stdin = data[consumed_bytes.min(data.len())..].to_vec();
    let ifs = sh.get(ctx, "IFS").unwrap_or_default();
    let is_ifs = |c: char| ifs.contains(c);
    let is_ws = |c: char| ifs.contains(c) && (c == ' ' || c == '\t' || c == '\n');
    // Split, honouring escaped characters (marked with NUL).
    let chars: Vec<char> = line.chars().collect();
    let mut fields: Vec<String> = Vec::new();
    let mut k = 0;
    while k < chars.len() && is_ws(chars[k]) {
        k += 1;
    }
    let mut cur = String::new();
    while k < chars.len() {
        if fields.len() + 1 == names.len() {
            // The last name takes the rest, trailing IFS white space removed.
            let mut rest: Vec<char> = chars[k..].to_vec();
            while rest.last().is_some_and(|c| is_ws(*c)) && !rest.ends_with(&['\u{0}', ' ']) {
                rest.pop();
            }
            cur.extend(rest.into_iter().filter(|c| *c != '\u{0}'));
            break;
        }
        let c = chars[k];
        if c == '\u{0}' {
            if let Some(n) = chars.get(k + 1) {
                cur.push(*n);
            }
            k += 2;
            continue;
        }
        if is_ifs(c) {
            fields.push(std::mem::take(&mut cur));
            k += 1;
            while k < chars.len() && is_ws(chars[k]) {
                k += 1;
            }
            continue;
        }
        cur.push(c);
        k += 1;
    }
    if !cur.is_empty() || fields.len() < names.len() {
        fields.push(cur);
    }
    for (idx, n) in names.iter().enumerate() {
        let v = fields.get(idx).cloned().unwrap_or_default();
        if let Err(m) = sh.set(ctx, n, &v) {
            sh.error(ctx, &format!("read: {m}"));
            return Ok(2);
        }
    }
    Ok(if eof { 1 } else { 0 })
}

fn getopts(sh: &mut Shell, ctx: &mut Ctx, args: &[String]) -> R {
    let (Some(spec), Some(var)) = (args.first(), args.get(1)) else {
        sh.error(ctx, "getopts: usage: getopts optstring var [arg]");
        return Ok(2);
    };
    let list: Vec<String> = if args.len() > 2 {
        args[2..].to_vec()
    } else {
        sh.params.clone()
    };
    let silent = spec.starts_with(':');
    let spec = spec.trim_start_matches(':');
    let mut ind: usize = sh
        .get(ctx, "OPTIND")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1);
    let done = |sh: &mut Shell, ctx: &mut Ctx, ind: usize| {
        let _ = sh.set(ctx, var, "?");
        let _ = sh.set(ctx, "OPTIND", &ind.to_string());
        sh.getopts_pos = 0;
        Ok(1)
    };
    let Some(arg) = list.get(ind - 1) else {
        return done(sh, ctx, ind);
    };
    if sh.getopts_pos == 0 {
        if arg == "--" {
            return done(sh, ctx, ind + 1);
        }
        if !arg.starts_with('-') || arg == "-" {
            return done(sh, ctx, ind);
        }
        sh.getopts_pos = 1;
    }
    let chars: Vec<char> = arg.chars().collect();
    let c = chars[sh.getopts_pos.min(chars.len() - 1)];
    sh.getopts_pos += 1;
    let last = sh.getopts_pos >= chars.len();
    let known = spec.find(c);
    let takes = known.is_some_and(|i| spec[i + c.len_utf8()..].starts_with(':'));
    let mut st = 0;
    if known.is_none() || c == ':' {
        if silent {
            let _ = sh.set(ctx, "OPTARG", &c.to_string());
        } else {
            ctx.err(format!("Illegal option -{c}\n"));
            let _ = sh.unset(ctx, "OPTARG");
        }
        let _ = sh.set(ctx, var, "?");
    } else if takes {
        let optarg = if !last {
            let s: String = chars[sh.getopts_pos..].iter().collect();
            sh.getopts_pos = chars.len();
            Some(s)
        } else {
            ind += 1;
            list.get(ind - 1).cloned().inspect(|_| {})
        };
        match optarg {
            Some(o) => {
                let _ = sh.set(ctx, "OPTARG", &o);
                let _ = sh.set(ctx, var, &c.to_string());
            }
            None => {
                if silent {
                    let _ = sh.set(ctx, var, ":");
                    let _ = sh.set(ctx, "OPTARG", &c.to_string());
                } else {
                    ctx.err(format!("No arg for -{c} option\n"));
                    let _ = sh.set(ctx, var, "?");
                }
                st = 0;
            }
        }
        sh.getopts_pos = 0;
        ind += 1;
        let _ = sh.set(ctx, "OPTIND", &ind.to_string());
        return Ok(st);
    } else {
        let _ = sh.set(ctx, var, &c.to_string());
    }
    if sh.getopts_pos >= chars.len() {
        sh.getopts_pos = 0;
        ind += 1;
    }
    let _ = sh.set(ctx, "OPTIND", &ind.to_string());
    Ok(st)
}

// ----- echo, printf, test ---------------------------------------------

/// Backslash escapes as `echo -e`/`%b` read them (`\0NNN` octal) or as a
/// `printf` format does (`\NNN`). Returns the text and whether `\c` ended
/// it.
pub fn backslash_escapes(s: &str, format: bool) -> (String, bool) {
    let cs: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i];
        if c != '\\' || i + 1 >= cs.len() {
            out.push(c);
            i += 1;
            continue;
        }
        let n = cs[i + 1];
        i += 2;
        match n {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'a' => out.push('\u{7}'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'v' => out.push('\u{b}'),
            'e' => out.push('\u{1b}'),
            '\\' => out.push('\\'),
            'c' if !format => return (out, true),
            '"' if format => out.push('"'),
            '\'' if format => out.push('\''),
            'x' => {
                let mut v = 0u32;
                let mut k = 0;
                while k < 2 && i < cs.len() && cs[i].is_ascii_hexdigit() {
                    v = v * 16 + cs[i].to_digit(16).unwrap_or(0);
                    i += 1;
                    k += 1;
                }
                if k == 0 {
                    out.push_str("\\x");
                } else {
                    out.push(char::from_u32(v).unwrap_or('?'));
                }
            }
            '0'..='7' if format || n == '0' => {
                let mut v = if format {
                    n.to_digit(8).unwrap_or(0)
                } else {
                    0
                };
                let mut k = if format { 1 } else { 0 };
                while k < 3 && i < cs.len() && ('0'..='7').contains(&cs[i]) {
                    v = v * 8 + cs[i].to_digit(8).unwrap_or(0);
                    i += 1;
                    k += 1;
                }
                out.push(char::from_u32(v & 0xff).unwrap_or('?'));
            }
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    (out, false)
}

/// `echo` in either style; returns 0.
pub fn echo(ctx: &mut Ctx, argv: &[String], style: EchoStyle) -> i32 {
    let mut i = 1;
    let mut newline = true;
    let mut escapes = style == EchoStyle::Dash;
    while let Some(a) = argv.get(i) {
        let flags = match a.strip_prefix('-') {
            Some(f) if !f.is_empty() => f,
            _ => break,
        };
        let ok = match style {
            EchoStyle::Dash => flags.chars().all(|c| c == 'n'),
            EchoStyle::Flags => flags.chars().all(|c| "neE".contains(c)),
        };
        if !ok {
            break;
        }
        for c in flags.chars() {
            match c {
                'n' => newline = false,
                'e' => escapes = true,
                'E' => escapes = false,
                _ => {}
            }
        }
        i += 1;
        if style == EchoStyle::Dash {
            break;
        }
    }
    let mut s = argv[i.min(argv.len())..].join(" ");
    if escapes {
        let (t, stop) = backslash_escapes(&s, false);
        s = t;
        if stop {
            newline = false;
        }
    }
    if newline {
        s.push('\n');
    }
    ctx.out(s);
    0
}

/// `printf FORMAT [ARG...]`; `errp` prefixes error messages.
pub fn printf(ctx: &mut Ctx, argv: &[String], errp: &str, bash: bool) -> i32 {
    let bad = if bash {
        "invalid number"
    } else {
        "expected numeric value"
    };
    let Some(fmt) = argv.get(1) else {
        ctx.err(format!("{errp}usage: printf format [arg ...]\n"));
        return 2;
    };
    let args = &argv[2..];
    let mut ai = 0;
    let mut st = 0;
    let mut out = String::new();
    let fc: Vec<char> = fmt.chars().collect();
    let mut guard = 0;
    loop {
        guard += 1;
        let mut i = 0;
        let mut used = false;
        while i < fc.len() {
            let c = fc[i];
            if c == '\\' {
                let mut j = i + 1;
                while j < fc.len() && j < i + 4 && fc[j].is_ascii_digit() {
                    j += 1;
                }
                let end = if j == i + 1 { (i + 2).min(fc.len()) } else { j };
                let end = if fc.get(i + 1) == Some(&'x') {
                    let mut k = i + 2;
                    while k < fc.len() && k < i + 4 && fc[k].is_ascii_hexdigit() {
                        k += 1;
                    }
                    k
                } else {
                    end
                };
                let seg: String = fc[i..end].iter().collect();
                out.push_str(&backslash_escapes(&seg, true).0);
                i = end;
                continue;
            }
            if c != '%' {
                out.push(c);
                i += 1;
                continue;
            }
            if fc.get(i + 1) == Some(&'%') {
                out.push('%');
                i += 2;
                continue;
            }
            // %[flags][width][.prec]conv
            let mut j = i + 1;
            let mut flags = String::new();
            while j < fc.len() && "-+ #0".contains(fc[j]) {
                flags.push(fc[j]);
                j += 1;
            }
            let mut width = String::new();
            if fc.get(j) == Some(&'*') {
                width = args.get(ai).cloned().unwrap_or_default();
                ai += 1;
                j += 1;
            } else {
                while j < fc.len() && fc[j].is_ascii_digit() {
                    width.push(fc[j]);
                    j += 1;
                }
            }
            let mut prec: Option<String> = None;
            if fc.get(j) == Some(&'.') {
                j += 1;
                let mut p = String::new();
                if fc.get(j) == Some(&'*') {
                    p = args.get(ai).cloned().unwrap_or_default();
                    ai += 1;
                    j += 1;
                } else {
                    while j < fc.len() && fc[j].is_ascii_digit() {
                        p.push(fc[j]);
                        j += 1;
                    }
                }
                prec = Some(p);
            }
            while j < fc.len() && "lhqjzt".contains(fc[j]) {
                j += 1;
            }
            let Some(&conv) = fc.get(j) else {
                ctx.err(format!(
                    "{errp}%{}: invalid directive\n",
                    &fmt[fmt.len().min(i + 1)..]
                ));
                ctx.out(out);
                return 1;
            };
            i = j + 1;
            let arg = args.get(ai).cloned();
            if !"diouxXcsbeEfgG".contains(conv) {
                ctx.out(&out);
                ctx.err(format!("{errp}%{conv}: invalid directive\n"));
                return 1;
            }
            ai += 1;
            used = true;
            let a = arg.unwrap_or_default();
            let w: usize = width.trim_start_matches('-').parse().unwrap_or(0);
            let left = flags.contains('-') || width.starts_with('-');
            let p: Option<usize> = prec.as_ref().map(|p| p.parse().unwrap_or(0));
            let body = match conv {
                's' => match p {
                    Some(p) => a.chars().take(p).collect(),
                    None => a,
                },
                'b' => {
                    let (t, stop) = backslash_escapes(&a, false);
                    if stop {
                        out.push_str(&pad(&t, w, left, false));
                        ctx.out(out);
                        return st;
                    }
                    t
                }
                'c' => a.chars().next().map(String::from).unwrap_or_default(),
                'd' | 'i' | 'o' | 'u' | 'x' | 'X' => {
                    let n = match num_arg(&a) {
                        Some(n) => n,
                        None => {
                            ctx.err(format!("{errp}{a}: {bad}\n"));
                            st = 1;
                            0
                        }
                    };
                    let mut s = match conv {
                        'o' => format!("{:o}", n),
                        'x' => format!("{:x}", n),
                        'X' => format!("{:X}", n),
                        'u' => format!("{}", n as u64),
                        _ => format!("{}", n.unsigned_abs()),
                    };
                    if let Some(p) = p {
                        while s.len() < p {
                            s.insert(0, '0');
                        }
                    }
                    if flags.contains('#') && n != 0 {
                        match conv {
                            'o' => s.insert(0, '0'),
                            'x' => s.insert_str(0, "0x"),
                            'X' => s.insert_str(0, "0X"),
                            _ => {}
                        }
                    }
                    let sign = if matches!(conv, 'd' | 'i') {
                        if n < 0 {
                            "-"
                        } else if flags.contains('+') {
                            "+"
                        } else if flags.contains(' ') {
                            " "
                        } else {
                            ""
                        }
                    } else {
                        ""
                    };
                    if flags.contains('0') && !left && p.is_none() {
                        while s.len() + sign.len() < w {
                            s.insert(0, '0');
                        }
                    }
                    format!("{sign}{s}")
                }
                _ => {
                    let f: f64 = if a.is_empty() {
                        0.0
                    } else {
                        match a.parse() {
                            Ok(f) => f,
                            Err(_) => {
                                ctx.err(format!("{errp}{a}: {bad}\n"));
                                st = 1;
                                0.0
                            }
                        }
                    };
                    let p = p.unwrap_or(6);
                    match conv {
                        'e' | 'E' => {
                            let s = format!("{f:.p$e}");
                            // Rust writes 1e2; C writes 1e+02.
                            let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
                            let en: i32 = e.parse().unwrap_or(0);
                            let t =
                                format!("{m}e{}{:02}", if en < 0 { '-' } else { '+' }, en.abs());
                            if conv == 'E' { t.to_uppercase() } else { t }
                        }
                        'g' | 'G' => {
                            let s = format!("{f}");
                            if conv == 'G' { s.to_uppercase() } else { s }
                        }
                        _ => format!("{f:.p$}"),
                    }
                }
            };
            let zero = flags.contains('0') && !left && matches!(conv, 'e' | 'E' | 'f' | 'g' | 'G');
            out.push_str(&pad(&body, w, left, zero));
        }
        if ai >= args.len() || !used || guard > 100_000 {
            break;
        }
    }
    ctx.out(out);
    st
}

fn pad(s: &str, w: usize, left: bool, zero: bool) -> String {
    let n = s.chars().count();
    if n >= w {
        return s.to_string();
    }
    let fill: String = std::iter::repeat_n(if zero { '0' } else { ' ' }, w - n).collect();
    if left {
        format!("{s}{fill}")
    } else {
        format!("{fill}{s}")
    }
}

fn num_arg(a: &str) -> Option<i64> {
    if a.is_empty() {
        return Some(0);
    }
    if let Some(c) = a.strip_prefix('\'').or_else(|| a.strip_prefix('"')) {
        return Some(c.chars().next().map(|c| c as i64).unwrap_or(0));
    }
    parse_num(a.trim())
}

/// `test` expression evaluation; `Err` carries the message after `test: `.
pub fn test_eval(sh: &Shell, ctx: &Ctx, a: &[String]) -> Result<bool, String> {
    let d = sh.dialect;
    let mut p = TestParser {
        a,
        i: 0,
        sh,
        ctx,
        d,
    };
    if a.is_empty() {
        return Ok(false);
    }
    let v = p.or()?;
    if p.i < a.len() {
        return Err(match d {
            Dialect::Bash => "too many arguments".to_string(),
            _ => format!("{}: unexpected operator", a[p.i]),
        });
    }
    Ok(v)
}

struct TestParser<'a> {
    a: &'a [String],
    i: usize,
    sh: &'a Shell,
    ctx: &'a Ctx<'a>,
    d: Dialect,
}

impl TestParser<'_> {
    fn peek(&self) -> Option<&str> {
        self.a.get(self.i).map(String::as_str)
    }
    fn or(&mut self) -> Result<bool, String> {
        let mut v = self.and()?;
        while self.peek() == Some("-o") {
            self.i += 1;
            let r = self.and()?;
            v = v || r;
        }
        Ok(v)
    }
    fn and(&mut self) -> Result<bool, String> {
        let mut v = self.not()?;
        while self.peek() == Some("-a") {
            self.i += 1;
            let r = self.not()?;
            v = v && r;
        }
        Ok(v)
    }
    fn not(&mut self) -> Result<bool, String> {
        let rest = self.a.len() - self.i;
        if self.peek() == Some("!") && rest > 1 {
            self.i += 1;
            return Ok(!self.not()?);
        }
        self.primary()
    }
    fn primary(&mut self) -> Result<bool, String> {
        let rest = self.a.len() - self.i;
        let Some(t) = self.peek().map(String::from) else {
            return Err(match self.d {
                Dialect::Bash => "argument expected".into(),
                _ => "argument expected".into(),
            });
        };
        if t == "(" && rest >= 3 {
            self.i += 1;
            let v = self.or()?;
            if self.peek() != Some(")") {
                return Err("closing paren expected".into());
            }
            self.i += 1;
            return Ok(v);
        }
        if rest >= 3 && is_binop(&self.a[self.i + 1]) {
            let l = t;
            let op = self.a[self.i + 1].clone();
            let r = self.a[self.i + 2].clone();
            self.i += 3;
            return self.binary(&l, &op, &r);
        }
        if t.starts_with('-') && t.len() == 2 && rest >= 2 && is_unop(&t) {
            let arg = self.a[self.i + 1].clone();
            self.i += 2;
            return Ok(self.unary(&t, &arg));
        }
        self.i += 1;
        Ok(!t.is_empty())
    }
    fn int(&self, s: &str) -> Result<i64, String> {
        let t = s.trim();
        match t.parse::<i64>() {
            Ok(n) => Ok(n),
            Err(_) => Err(match self.d {
                Dialect::Dash => format!("Illegal number: {s}"),
                Dialect::Ash => format!("{s}: bad number"),
                Dialect::Bash => format!("{s}: integer expression expected"),
            }),
        }
    }
    fn binary(&self, l: &str, op: &str, r: &str) -> Result<bool, String> {
        Ok(match op {
            "=" | "==" => l == r,
            "!=" => l != r,
            "<" => l < r,
            ">" => l > r,
            "-eq" => self.int(l)? == self.int(r)?,
            "-ne" => self.int(l)? != self.int(r)?,
            "-lt" => self.int(l)? < self.int(r)?,
            "-le" => self.int(l)? <= self.int(r)?,
            "-gt" => self.int(l)? > self.int(r)?,
            "-ge" => self.int(l)? >= self.int(r)?,
            "-nt" | "-ot" | "-ef" => {
                let a = self.ctx.fs.stat(&self.ctx.path(l), true);
                let b = self.ctx.fs.stat(&self.ctx.path(r), true);
                match op {
                    "-nt" => match (a, b) {
                        (Ok(a), Ok(b)) => a.mtime > b.mtime,
                        (Ok(_), Err(_)) => true,
                        _ => false,
                    },
                    "-ot" => match (a, b) {
                        (Ok(a), Ok(b)) => a.mtime < b.mtime,
                        (Err(_), Ok(_)) => true,
                        _ => false,
                    },
                    _ => matches!((a, b), (Ok(a), Ok(b)) if a.path == b.path),
                }
            }
            _ => false,
        })
    }
    fn unary(&self, op: &str, arg: &str) -> bool {
        let ctx = self.ctx;
        let path = ctx.path(arg);
        let st = || ctx.fs.stat(&path, true);
        let cred = ctx.user.cred();
        match op {
            "-n" => !arg.is_empty(),
            "-z" => arg.is_empty(),
            "-e" => !arg.is_empty() && st().is_ok(),
            "-f" => matches!(st(), Ok(s) if s.kind == FileType::File),
            "-d" => matches!(st(), Ok(s) if s.kind == FileType::Dir),
            "-h" | "-L" => {
                matches!(ctx.fs.stat(&path, false), Ok(s) if s.kind == FileType::Symlink)
            }
            "-s" => matches!(st(), Ok(s) if s.size > 0),
            "-r" => matches!(st(), Ok(s) if ctx.fs.may(&s.path, cred, 4).is_ok()),
            "-w" => matches!(st(), Ok(s) if ctx.fs.may(&s.path, cred, 2).is_ok()),
            "-x" => {
                matches!(st(), Ok(s) if (if cred.uid == 0 { s.mode & 0o111 != 0 || s.kind == FileType::Dir } else { ctx.fs.may(&s.path, cred, 1).is_ok() }))
            }
            "-u" => matches!(st(), Ok(s) if s.mode & 0o4000 != 0),
            "-g" => matches!(st(), Ok(s) if s.mode & 0o2000 != 0),
            "-k" => matches!(st(), Ok(s) if s.mode & 0o1000 != 0),
            "-O" => matches!(st(), Ok(s) if s.uid == cred.uid),
            "-G" => matches!(st(), Ok(s) if s.gid == cred.gid),
            "-b" | "-c" | "-p" | "-S" | "-t" => false,
            "-v" => self.sh.is_set(ctx, arg),
            "-o" => false,
            _ => false,
        }
    }
}

fn is_binop(s: &str) -> bool {
    matches!(
        s,
        "=" | "=="
            | "!="
            | "<"
            | ">"
            | "-eq"
            | "-ne"
            | "-lt"
            | "-le"
            | "-gt"
            | "-ge"
            | "-nt"
            | "-ot"
            | "-ef"
    )
}

fn is_unop(s: &str) -> bool {
    matches!(
        s,
        "-n" | "-z"
            | "-e"
            | "-f"
            | "-d"
            | "-h"
            | "-L"
            | "-s"
            | "-r"
            | "-w"
            | "-x"
            | "-u"
            | "-g"
            | "-k"
            | "-O"
            | "-G"
            | "-b"
            | "-c"
            | "-p"
            | "-S"
            | "-t"
            | "-v"
            | "-o"
    )
}

// ----- the standalone programs ----------------------------------------

/// `/bin/echo`: busybox's applet or GNU coreutils' (neither interprets
/// escapes without `-e`).
pub fn echo_program(ctx: &mut Ctx, argv: &[String]) -> i32 {
    echo(ctx, argv, EchoStyle::Flags)
}

pub fn printf_program(ctx: &mut Ctx, argv: &[String]) -> i32 {
    printf(ctx, argv, "printf: ", false)
}

pub fn test_program(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let name = argv[0].rsplit('/').next().unwrap_or("test").to_string();
    let d = if ctx.os.busybox_shell() {
        Dialect::Ash
    } else {
        Dialect::Bash
    };
    let mut a = argv[1..].to_vec();
    if name == "[" {
        if a.last().map(String::as_str) != Some("]") {
            let m = if d == Dialect::Bash {
                "[: missing ']'\n"
            } else {
                "[: missing ]\n"
            };
            ctx.err(m);
            return 2;
        }
        a.pop();
    }
    let sh = Shell::new(d, &name);
    match test_eval(&sh, ctx, &a) {
        Ok(b) => {
            if b {
                0
            } else {
                1
            }
        }
        Err(m) => {
            ctx.err(format!("{name}: {m}\n"));
            2
        }
    }
}

#[allow(dead_code)]
fn _quote(s: &str) -> String {
    quote(s)
}
