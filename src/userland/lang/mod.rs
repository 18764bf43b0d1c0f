//! Language toolchains and runtimes (`pip`, `python`, `npm`, `node`, `go`,
//! `mvn`, `java`, `gcc`, `make`) and the programs they build.

use super::exec::Program;
use super::proc::Ctx;

/// The programs of this module by name.
pub fn lookup(_name: &str) -> Option<Program> {
    None
}

/// Runs a program built inside the userland, as its ELF note describes.
pub fn run_built(_ctx: &mut Ctx, _note: &str, _argv: &[String]) -> i32 {
    0
}
