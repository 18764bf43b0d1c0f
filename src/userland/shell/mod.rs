//! `/bin/sh`: busybox `ash` on Alpine and busybox images, `dash` on Debian
//! and Ubuntu, and `bash` where an image has it.
//!
//! PLACEHOLDER: this first cut only splits `sh -c` words and runs one
//! command; the interpreter proper replaces it.

use super::exec::{self, ExecError, Program};
use super::proc::Ctx;

/// The shells by name.
pub fn lookup(name: &str) -> Option<Program> {
    match name {
        "sh" | "ash" | "dash" | "bash" => Some(main),
        _ => None,
    }
}

/// `sh [-c CMD]`.
pub fn main(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let Some(i) = argv.iter().position(|a| a == "-c") else {
        return 0;
    };
    let Some(script) = argv.get(i + 1) else {
        ctx.err(format!("{}: -c requires an argument\n", argv[0]));
        return 2;
    };
    let words = match shell_words::split(script) {
        Ok(w) => w,
        Err(_) => return 2,
    };
    if words.is_empty() {
        return 0;
    }
    let mut child = ctx.child();
    match exec::exec_name(&mut child, &words) {
        Ok(s) => s,
        Err(e) => {
            let prefix = if ctx.os.busybox_shell() {
                format!("{}: ", argv[0])
            } else {
                format!("{}: 1: ", argv[0])
            };
            match &e {
                ExecError::NotFound(n) => ctx.err(format!("{prefix}{n}: not found\n")),
                ExecError::NoEnt(p) => ctx.err(format!("{prefix}{p}: not found\n")),
                ExecError::Access(p) => ctx.err(format!("{prefix}{p}: Permission denied\n")),
                ExecError::Format(p) | ExecError::Unsimulated(p) => {
                    ctx.err(format!("{prefix}{p}: cannot execute binary file\n"))
                }
            }
            e.status()
        }
    }
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
#[derive(Debug, Default)]
pub struct Session {
    pub last_status: i32,
}

impl Session {
    pub fn new(_ctx: &Ctx) -> Session {
        Session::default()
    }

    /// The prompt a learner sees (`/ # ` as root on busybox, `# ` on dash,
    /// `$ ` for other users).
    pub fn prompt(&self, ctx: &Ctx) -> String {
        match (ctx.os.busybox_shell(), ctx.user.uid == 0) {
            (true, true) => format!("{} # ", ctx.cwd),
            (true, false) => format!("{} $ ", ctx.cwd),
            (false, true) => "# ".into(),
            (false, false) => "$ ".into(),
        }
    }

    /// Runs one line.
    pub fn line(&mut self, ctx: &mut Ctx, line: &str) -> Flow {
        if line.trim() == "exit" {
            return Flow::Exit(self.last_status);
        }
        let argv = vec!["sh".to_string(), "-c".to_string(), line.to_string()];
        self.last_status = main(ctx, &argv);
        Flow::Continue(self.last_status)
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
