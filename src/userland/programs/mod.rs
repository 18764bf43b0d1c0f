//! The busybox applets and GNU coreutils programs a Dockerfile uses, one
//! file each; busybox or GNU wording chosen by the image's [`Os`].
//!
//! [`Os`]: super::os::Os

use super::exec::Program;
use super::proc::Ctx;

/// The programs of this module by name.
pub fn lookup(name: &str) -> Option<Program> {
    Some(match name {
        "true" => |_: &mut Ctx, _: &[String]| 0,
        "false" => |_: &mut Ctx, _: &[String]| 1,
        "echo" => echo,
        _ => return None,
    })
}

fn echo(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let (newline, words) = match argv.get(1).map(String::as_str) {
        Some("-n") => (false, &argv[2..]),
        _ => (true, &argv[1.min(argv.len())..]),
    };
    let mut s = words.join(" ");
    if newline {
        s.push('\n');
    }
    ctx.out(s);
    0
}
