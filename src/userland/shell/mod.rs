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
