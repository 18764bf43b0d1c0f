//! `/bin/sh`: busybox `ash` on Alpine and busybox images, `dash` on Debian
//! and Ubuntu, and `bash` when invoked by that name. Scripts are parsed
//! once with `brush-parser` ([`syntax`]) and run by the interpreter
//! ([`interp`]) with POSIX expansions ([`expand`], [`pattern`]) and the
//! builtins ([`builtins`]); each dialect's wording of errors, `echo` and
//! options is kept. Pipelines run stage by stage, each stage's output
//! buffered into the next one's input; `&` jobs run synchronously.

mod builtins;
mod expand;
mod interp;
mod pattern;
mod syntax;
#[cfg(test)]
mod tests;

use super::exec::Program;
use super::proc::Ctx;
use interp::{Ctl, Shell};

/// Which shell is running: its wording and extensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// busybox 1.36 `ash` (Alpine).
    Ash,
    /// dash 0.5.12 (Debian bookworm, Ubuntu).
    Dash,
    /// GNU bash 5.2.
    Bash,
}

impl Dialect {
    /// The dialect `argv[0]` names on this image.
    pub fn of(ctx: &Ctx, argv0: &str) -> Dialect {
        match argv0.rsplit('/').next().unwrap_or(argv0) {
            "bash" => Dialect::Bash,
            "dash" => Dialect::Dash,
            "ash" => Dialect::Ash,
            _ if ctx.os.busybox_shell() => Dialect::Ash,
            _ => Dialect::Dash,
        }
    }
}

/// The shells by name, and the builtins that are also programs.
pub fn lookup(name: &str) -> Option<Program> {
    match name {
        "sh" | "ash" | "dash" | "bash" => Some(main),
        "echo" => Some(builtins::echo_program),
        "printf" => Some(builtins::printf_program),
        "test" | "[" => Some(builtins::test_program),
        "true" => Some(|_: &mut Ctx, _: &[String]| 0),
        "false" => Some(|_: &mut Ctx, _: &[String]| 1),
        _ => None,
    }
}

/// Ends a run: the status a shell exits with after `r`.
fn finish(sh: &mut Shell, ctx: &mut Ctx, r: Result<i32, Ctl>) -> i32 {
    let st = match r {
        Ok(st) | Err(Ctl::Exit(st)) | Err(Ctl::Return(st)) => st,
        Err(Ctl::Break(_)) | Err(Ctl::Continue(_)) => sh.status,
        Err(Ctl::Limit) => return 1,
    };
    sh.status = st;
    sh.exit_trap(ctx);
    sh.flush_open_files(ctx);
    st
}

/// `sh [-eux] [-o opt] [-c CMD [arg0 [args...]] | script [args...]]`, or a
/// script read from stdin.
pub fn main(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let zero = argv.first().cloned().unwrap_or_else(|| "sh".into());
    let dialect = Dialect::of(ctx, &zero);
    let mut sh = Shell::new(dialect, &zero);
    let mut command = false;
    let mut i = 1;
    while let Some(a) = argv.get(i) {
        if a == "--" || a == "-" {
            i += 1;
            break;
        }
        let (on, flags) = match a.chars().next() {
            Some('-') if a.len() > 1 && !a.starts_with("--") => (true, &a[1..]),
            Some('+') if a.len() > 1 => (false, &a[1..]),
            _ => break,
        };
        i += 1;
        for c in flags.chars() {
            match c {
                'c' => command = true,
                's' | 'i' | 'l' => {}
                'o' => {
                    let Some(name) = argv.get(i) else {
                        continue;
                    };
                    i += 1;
                    if !builtins::set_long(&mut sh, name, on) {
                        let m = match dialect {
                            Dialect::Dash => format!("{zero}: 0: Illegal option -o {name}\n"),
                            Dialect::Ash => format!("{zero}: illegal option -o {name}\n"),
                            Dialect::Bash => format!("{zero}: {name}: invalid option name\n"),
                        };
                        ctx.err(m);
                        return 2;
                    }
                }
                c => {
                    if !builtins::set_flag(&mut sh, c, on) {
                        let m = match dialect {
                            Dialect::Dash => format!("{zero}: 0: Illegal option -{c}\n"),
                            Dialect::Ash => format!("{zero}: illegal option -{c}\n"),
                            Dialect::Bash => format!("{zero}: -{c}: invalid option\n"),
                        };
                        ctx.err(m);
                        return 2;
                    }
                }
            }
        }
    }
    if ctx.env.get("PWD").is_none() {
        let cwd = ctx.cwd.clone();
        ctx.env.set("PWD", &cwd);
    }
    let rest = &argv[i.min(argv.len())..];
    let src = if command {
        let Some(src) = rest.first() else {
            let m = match dialect {
                Dialect::Dash => format!("{zero}: 0: -c requires an argument\n"),
                Dialect::Ash => format!("{zero}: -c requires an argument\n"),
                Dialect::Bash => format!("{zero}: -c: option requires an argument\n"),
            };
            ctx.err(m);
            return 2;
        };
        sh.cmd_string = true;
        if let Some(z) = rest.get(1) {
            sh.zero = z.clone();
            sh.params = rest[2..].to_vec();
        }
        src.clone()
    } else if let Some(file) = rest.first() {
        let path = ctx.path(file);
        let text = ctx
            .fs
            .stat(&path, true)
            .and_then(|s| ctx.fs.may(&s.path, ctx.user.cred(), 4))
            .and_then(|_| ctx.fs.read_string(&path));
        match text {
            Ok(t) => {
                sh.zero = file.clone();
                sh.from_file = true;
                sh.params = rest[1..].to_vec();
                t
            }
            Err(e) => {
                let (m, st) = match dialect {
                    Dialect::Dash => (format!("{zero}: 0: cannot open {file}: No such file\n"), 2),
                    Dialect::Ash => (format!("{zero}: can't open '{file}': {}\n", e.text()), 2),
                    Dialect::Bash => (format!("{zero}: {file}: {}\n", e.text()), 127),
                };
                ctx.err(m);
                return st;
            }
        }
    } else {
        let data = std::mem::take(&mut ctx.stdin);
        String::from_utf8_lossy(&data).into_owned()
    };
    let r = sh.run_source(ctx, &src);
    finish(&mut sh, ctx, r)
}

/// How a line of an interactive shell ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// The line ran; `$?` is this status.
    Continue(i32),
    /// The shell exited (`exit`, end of input) with this status.
    Exit(i32),
}

/// A shell kept between lines: an interactive `sh` in a container
/// (`docker run -it IMAGE sh`, `docker exec -it NAME sh`). Variables,
/// functions, options and the working directory persist from line to line;
/// the caller keeps `ctx.cwd` and `ctx.env` in step with it.
#[derive(Debug)]
pub struct Session {
    pub last_status: i32,
    shell: Shell,
}

impl Session {
    pub fn new(ctx: &Ctx) -> Session {
        let zero = if ctx.argv0.is_empty() {
            "sh".to_string()
        } else {
            ctx.argv0.rsplit('/').next().unwrap_or("sh").to_string()
        };
        let mut shell = Shell::new(Dialect::of(ctx, &zero), &zero);
        shell.interactive = true;
        Session {
            last_status: 0,
            shell,
        }
    }

    /// The prompt a learner sees (`/ # ` as root on busybox, `# ` on dash,
    /// `$ ` for other users).
    pub fn prompt(&self, ctx: &Ctx) -> String {
        match (self.shell.dialect, ctx.user.uid == 0) {
            (Dialect::Ash, true) => format!("{} # ", ctx.cwd),
            (Dialect::Ash, false) => format!("{} $ ", ctx.cwd),
            (Dialect::Bash, true) => format!("root@imagelab:{}# ", ctx.cwd),
            (Dialect::Bash, false) => format!("imagelab:{}$ ", ctx.cwd),
            (Dialect::Dash, true) => "# ".into(),
            (Dialect::Dash, false) => "$ ".into(),
        }
    }

    /// Runs one line.
    pub fn line(&mut self, ctx: &mut Ctx, line: &str) -> Flow {
        let r = self.shell.run_source(ctx, line);
        self.shell.lineno += 1;
        self.shell.flush_open_files(ctx);
        match r {
            Ok(st) => {
                self.shell.status = st;
                self.last_status = st;
                Flow::Continue(st)
            }
            Err(Ctl::Exit(st)) => {
                self.shell.status = st;
                self.shell.exit_trap(ctx);
                self.last_status = st;
                Flow::Exit(st)
            }
            Err(Ctl::Limit) => {
                self.last_status = 1;
                Flow::Exit(1)
            }
            Err(_) => {
                self.last_status = self.shell.status;
                Flow::Continue(self.shell.status)
            }
        }
    }
}

/// Runs `script` as `sh -c script` would, with `args` as `$0 $1 ...`.
pub fn run_script(ctx: &mut Ctx, script: &str, args: &[String]) -> i32 {
    let mut argv = vec![
        args.first().cloned().unwrap_or_else(|| "sh".into()),
        "-c".to_string(),
        script.to_string(),
    ];
    argv.extend(args.iter().skip(1).cloned());
    main(ctx, &argv)
}
