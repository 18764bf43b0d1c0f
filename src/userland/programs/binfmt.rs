//! `binfmt`, tonistiigi/binfmt's installer: registers QEMU user-mode
//! emulators with the kernel's `binfmt_misc` (`--install all`,
//! `--install arm64,riscv64`), removes them (`--uninstall qemu-aarch64`,
//! `--uninstall 'qemu-*'`), and prints the kernel's status as JSON. It
//! reaches the kernel through `/proc/sys/fs/binfmt_misc`, which only a
//! privileged container has (see [`crate::emulation`]); elsewhere it
//! cannot mount it and says so, exiting 0 as the real program does. Its
//! messages go to stderr through Go's `log` without timestamps.

use super::super::proc::Ctx;
use crate::emulation::{BINFMT_MISC, EMULATORS};
use crate::userland::fs::Cred;
use std::collections::BTreeSet;

const VERSION: &str = "binfmt/a161c41 qemu/v7.0.0 go/1.18.5";

fn usage(argv0: &str) -> String {
    format!(
        "Usage of {argv0}:\n  -install string\n    \tarchitectures to install\n  -mount string\n    \tbinfmt_misc mount point (default \"{BINFMT_MISC}\")\n  -uninstall string\n    \tarchitectures to uninstall\n  -version\n    \tdisplay version\n"
    )
}

/// containerd's `platforms.Parse` reduced to what binfmt takes from it:
/// the normalized architecture, or `None` for what is no platform.
fn parse_arch(v: &str) -> Option<String> {
    let parts: Vec<&str> = v.split('/').collect();
    let arch = match parts.as_slice() {
        [a] => *a,
        ["linux", a] | ["linux", a, _] | [a, _] => *a,
        _ => return None,
    };
    let norm = match arch.to_lowercase().as_str() {
        "aarch64" | "arm64" => "arm64",
        "x86_64" | "x86-64" | "amd64" => "amd64",
        "i386" | "i486" | "i586" | "i686" | "386" => "386",
        "armhf" | "armel" | "arm" => "arm",
        "ppc64le" => "ppc64le",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        "mips64le" => "mips64le",
        "mips64" => "mips64",
        "loong64" | "loongarch64" => "loong64",
        "linux" => return None,
        _ => return None,
    };
    Some(norm.to_string())
}

/// A shell glob over one path component (`*`, `?`).
fn glob(pat: &str, name: &str) -> bool {
    fn go(p: &[u8], n: &[u8]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some((b'*', rest)) => (0..=n.len()).any(|i| go(rest, &n[i..])),
            Some((b'?', rest)) => !n.is_empty() && go(rest, &n[1..]),
            Some((c, rest)) => n.first() == Some(c) && go(rest, &n[1..]),
        }
    }
    go(pat.as_bytes(), name.as_bytes())
}

/// `binfmt [--install LIST] [--uninstall LIST] [--version] [--mount DIR]`
pub fn binfmt(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let argv0 = argv.first().cloned().unwrap_or_else(|| "binfmt".into());
    let (mut install, mut uninstall, mut version) = (String::new(), String::new(), false);
    let mut mount = BINFMT_MISC.to_string();
    let mut i = 1;
    while i < argv.len() {
        let a = &argv[i];
        if a == "--" || !a.starts_with('-') || a == "-" {
            break;
        }
        let flag = a.trim_start_matches('-');
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (flag, None),
        };
        let value = |i: &mut usize| -> Option<String> {
            if let Some(v) = inline.clone() {
                return Some(v);
            }
            *i += 1;
            argv.get(*i).cloned()
        };
        match name {
            "install" | "uninstall" | "mount" => {
                let Some(v) = value(&mut i) else {
                    ctx.err(format!(
                        "flag needs an argument: -{name}\n{}",
                        usage(&argv0)
                    ));
                    return 2;
                };
                match name {
                    "install" => install = v,
                    "uninstall" => uninstall = v,
                    _ => mount = v,
                }
            }
            "version" => version = inline.as_deref() != Some("false"),
            "h" | "help" => {
                ctx.err(usage(&argv0));
                return 0;
            }
            _ => {
                ctx.err(format!(
                    "flag provided but not defined: -{name}\n{}",
                    usage(&argv0)
                ));
                return 2;
            }
        }
        i += 1;
    }
    if version {
        ctx.err(format!("{VERSION}\n"));
        return 0;
    }
    let mount = ctx.path(&mount);
    if !ctx.fs.is_file(&format!("{mount}/status")) {
        // Only a privileged container may mount binfmt_misc.
        ctx.err(format!(
            "error: cannot mount binfmt_misc filesystem at {mount}: operation not permitted\n"
        ));
        return 0;
    }
    let entries = |ctx: &Ctx| -> Vec<String> {
        ctx.fs
            .read_dir(&mount)
            .unwrap_or_default()
            .into_iter()
            .filter(|n| n != "register" && n != "status")
            .collect()
    };
    // --uninstall: names, architectures or globs over the entries.
    let mut to_remove = Vec::new();
    for v in uninstall.split(',').filter(|v| !v.is_empty()) {
        let mut v = v.to_string();
        if let Some(arch) = parse_arch(&v)
            && let Some(b) = crate::emulation::emulator_of(&arch)
        {
            v = b.trim_start_matches("qemu-").to_string();
        }
        let hits: Vec<String> = entries(ctx).into_iter().filter(|n| glob(&v, n)).collect();
        if hits.is_empty() {
            to_remove.push(v);
        } else {
            to_remove.extend(hits);
        }
    }
    for name in to_remove {
        let hit = entries(ctx)
            .into_iter()
            .find(|n| *n == name || n.ends_with(&format!("-{name}")));
        match hit {
            Some(n) => {
                let _ = ctx.fs.remove(&format!("{mount}/{n}"), false);
                ctx.err(format!("uninstalling: {name} OK\n"));
            }
            None => ctx.err(format!("uninstalling: {name} not found\n")),
        }
    }
    // --install: architectures, or all the emulators this image carries for
    // architectures the kernel does not run yet.
    let registered: BTreeSet<String> = entries(ctx).into_iter().collect();
    let archs: Vec<String> = if install == "all" {
        let supported = crate::emulation::supported_with(&registered);
        EMULATORS
            .iter()
            .filter(|(a, _)| !supported.iter().any(|p| p.split('/').nth(1) == Some(*a)))
            .filter(|(_, b)| ctx.fs.is_file(&format!("/usr/bin/{b}")))
            .map(|(a, _)| a.to_string())
            .collect()
    } else {
        install
            .split(',')
            .filter(|v| !v.is_empty())
            .map(|v| parse_arch(v).unwrap_or_else(|| v.to_string()))
            .collect()
    };
    for arch in archs {
        let Some(binary) = crate::emulation::emulator_of(&arch) else {
            ctx.err(format!(
                "installing: {arch} unsupported architecture: {arch}\n"
            ));
            continue;
        };
        let path = format!("{mount}/{binary}");
        if ctx.fs.exists(&path) {
            ctx.err(format!("installing: {arch} {binary} already registered\n"));
            continue;
        }
        let text = crate::emulation::registration(binary);
        match ctx.fs.write(
            &path,
            crate::layer::Content::bytes(text.into_bytes()),
            0o644,
            Cred::ROOT,
        ) {
            Ok(()) => ctx.err(format!("installing: {arch} OK\n")),
            Err(e) => ctx.err(format!(
                "installing: {arch} cannot register \"/usr/bin/{binary}\" to {mount}/register: {}\n",
                e.text()
            )),
        }
    }
    // The status, as the kernel now has it.
    let enabled: Vec<String> = entries(ctx)
        .into_iter()
        .filter(|n| {
            ctx.fs
                .read(&format!("{mount}/{n}"))
                .is_ok_and(|t| t.starts_with(b"enabled"))
        })
        .collect();
    let set: BTreeSet<String> = enabled.iter().cloned().collect();
    #[derive(serde::Serialize)]
    struct Status {
        supported: Vec<String>,
        emulators: Option<Vec<String>>,
    }
    let status = Status {
        supported: crate::emulation::supported_with(&set),
        emulators: (!enabled.is_empty()).then_some(enabled),
    };
    let text = serde_json::to_string_pretty(&status).expect("serializes");
    ctx.out(format!("{text}\n"));
    0
}
