//! The `imagelab` binary: parse, run, exit with the line's status.

/// mimalloc rather than glibc's allocator: listing a large store is mostly
/// small allocations made and freed once per process.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    // A closed pipe (`imagelab docker images | head -1`) is not an error.
    #[cfg(unix)]
    unsafe {
        libc_sigpipe_default();
    }
    std::process::exit(imagelab::app::run(std::env::args_os().collect()));
}

#[cfg(unix)]
unsafe fn libc_sigpipe_default() {
    unsafe extern "C" {
        fn signal(sig: i32, handler: usize) -> usize;
    }
    const SIGPIPE: i32 = 13;
    const SIG_DFL: usize = 0;
    unsafe {
        signal(SIGPIPE, SIG_DFL);
    }
}
