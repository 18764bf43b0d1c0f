//! The lab host's CPU and the emulators its kernel knows. The host is a
//! stock Linux engine on linux/amd64: it runs amd64 (every micro-
//! architecture level up to v3) and 386 programs natively and nothing else,
//! so an arm64 container fails with `exec format error`, as on a real
//! server. `docker run --privileged --rm tonistiigi/binfmt --install all`
//! registers QEMU user-mode emulators with `binfmt_misc`; from then on the
//! registered architectures run, the default builder lists them, and
//! `--uninstall` takes them away again. The registrations are kernel
//! state, kept in `<home>/binfmt.json` (the kernel's; a reboot of a real
//! host would forget them, the lab's host is never rebooted).
//!
//! A privileged container sees them as the files of
//! `/proc/sys/fs/binfmt_misc` ([`BINFMT_MISC`]): [`expose`] writes them into
//! its file system before it runs and [`absorb`] reads back what its
//! process left there (the `binfmt` program registers by creating a file,
//! and unregisters by writing `-1`, as the kernel's interface does).

use crate::catalog::Platform;
use crate::userland::fs::{Cred, Fs};
use std::collections::BTreeSet;
use std::path::Path;

/// Where a privileged container finds the kernel's registrations.
pub const BINFMT_MISC: &str = "/proc/sys/fs/binfmt_misc";

/// An emulator binfmt can register: the architecture and QEMU's binary.
/// The order is tonistiigi/binfmt's table (its qemu-v7.0.0 build, which
/// predates loongarch64).
pub const EMULATORS: &[(&str, &str)] = &[
    ("amd64", "qemu-x86_64"),
    ("arm64", "qemu-aarch64"),
    ("arm", "qemu-arm"),
    ("s390x", "qemu-s390x"),
    ("ppc64le", "qemu-ppc64le"),
    ("riscv64", "qemu-riscv64"),
    ("386", "qemu-i386"),
    ("mips64le", "qemu-mips64el"),
    ("mips64", "qemu-mips64"),
];

/// Whether the host's CPU runs `arch` without an emulator.
pub fn native(arch: &str) -> bool {
    matches!(arch, "amd64" | "386")
}

/// The QEMU binary that emulates `arch`.
pub fn emulator_of(arch: &str) -> Option<&'static str> {
    EMULATORS.iter().find(|(a, _)| *a == arch).map(|(_, b)| *b)
}

fn file(home: &Path) -> std::path::PathBuf {
    home.join("binfmt.json")
}

/// The registered emulators (QEMU binary names, `qemu-aarch64`).
pub fn registered(home: &Path) -> BTreeSet<String> {
    std::fs::read(file(home))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// Replaces the registrations.
pub fn save(home: &Path, set: &BTreeSet<String>) -> std::io::Result<()> {
    std::fs::create_dir_all(home)?;
    crate::home::write_atomic(
        &file(home),
        &serde_json::to_vec(set).expect("a set of strings serializes"),
    )
}

/// Whether a program built for `p` runs on the host (natively or through a
/// registered emulator).
pub fn can_run(home: &Path, p: &Platform) -> bool {
    native(&p.architecture)
        || emulator_of(&p.architecture).is_some_and(|b| registered(home).contains(b))
}

/// The platforms the host runs, in BuildKit's order (`archutil`): the
/// native ones, then each emulated one.
pub fn supported(home: &Path) -> Vec<String> {
    supported_with(&registered(home))
}

/// [`supported`] with these emulators registered.
pub fn supported_with(reg: &BTreeSet<String>) -> Vec<String> {
    let emulated = |arch: &str| emulator_of(arch).is_some_and(|b| reg.contains(b));
    let mut out: Vec<String> = ["linux/amd64", "linux/amd64/v2", "linux/amd64/v3"]
        .map(String::from)
        .to_vec();
    for (arch, shown) in [
        ("arm64", &["linux/arm64"][..]),
        ("riscv64", &["linux/riscv64"]),
        ("ppc64le", &["linux/ppc64le"]),
        ("s390x", &["linux/s390x"]),
        ("386", &["linux/386"]),
        ("mips64le", &["linux/mips64le"]),
        ("mips64", &["linux/mips64"]),
        ("loong64", &["linux/loong64"]),
        ("arm", &["linux/arm/v7", "linux/arm/v6"]),
    ] {
        if native(arch) || emulated(arch) {
            out.extend(shown.iter().map(|s| s.to_string()));
        }
    }
    out
}

/// buildx's table form of a platform list: grouped by `os/arch` (`linux/amd64
/// (+3)`), the popular ones first, four groups at most, then `(N more)`.
pub fn trunc_platforms(pfs: &[String]) -> String {
    const MAJOR: &[&str] = &[
        "linux/amd64",
        "linux/arm64",
        "linux/arm",
        "linux/ppc64le",
        "linux/s390x",
        "linux/riscv64",
        "linux/mips64",
    ];
    const MAX: usize = 4;
    let group = |p: &str| -> String {
        p.trim_end_matches('*')
            .split('/')
            .take(2)
            .collect::<Vec<_>>()
            .join("/")
    };
    let mut res: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for m in MAJOR {
        for p in pfs {
            if res.len() >= MAX {
                break;
            }
            if group(p) == *m {
                res.entry(m.to_string()).or_default().push(p.clone());
            }
        }
    }
    if res.len() < MAX {
        let mut left: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for p in pfs {
            let g = group(p);
            if !res.contains_key(&g) {
                left.entry(g).or_default().push(p.clone());
            }
        }
        res.extend(left);
    }
    let show = |g: &str, list: &[String]| -> String {
        if list.len() == 1 {
            list[0].clone()
        } else {
            let star = if list.iter().any(|p| p.ends_with('*')) {
                "*"
            } else {
                ""
            };
            format!("{g}{star} (+{})", list.len())
        }
    };
    let mut out = Vec::new();
    let mut count = 0;
    for m in MAJOR {
        if let Some(list) = res.get(*m) {
            out.push(show(m, list));
            count += list.len();
        }
    }
    for (g, list) in &res {
        if out.len() >= MAX {
            break;
        }
        if MAJOR.contains(&g.as_str()) {
            continue;
        }
        out.push(show(g, list));
        count += list.len();
    }
    if pfs.len() > count {
        out.push(format!("({} more)", pfs.len() - count));
    }
    out.join(", ")
}

/// What a container's `/proc/sys/fs/binfmt_misc` held before its process ran,
/// so [`absorb`] can leave its file system as it found it.
pub struct Exposed {
    created: Vec<String>,
}

/// The kernel's entry for a registered emulator, as `cat` shows it.
fn entry_text(binary: &str) -> String {
    format!("enabled\ninterpreter /usr/bin/{binary}\nflags: CF\noffset 0\n")
}

/// Writes the registrations into a privileged container's file system.
pub fn expose(home: &Path, fs: &mut Fs) -> Exposed {
    let mut created = Vec::new();
    let mut dir = String::new();
    for part in BINFMT_MISC.trim_start_matches('/').split('/') {
        dir.push('/');
        dir.push_str(part);
        if !fs.is_dir(&dir) {
            let _ = fs.mkdir(&dir, 0o755, Cred::ROOT, false);
            created.push(dir.clone());
        }
    }
    let put = |fs: &mut Fs, name: &str, text: String| {
        let _ = fs.write(
            &format!("{BINFMT_MISC}/{name}"),
            crate::layer::Content::bytes(text.into_bytes()),
            0o644,
            Cred::ROOT,
        );
    };
    put(fs, "status", "enabled\n".into());
    put(fs, "register", String::new());
    for b in registered(home) {
        put(fs, &b, entry_text(&b));
    }
    Exposed { created }
}

/// Reads back what the process left in `/proc/sys/fs/binfmt_misc` (an entry
/// whose text starts with `enabled` is registered), saves it as the
/// kernel's state, and removes the folder from the container's files.
pub fn absorb(home: &Path, fs: &mut Fs, exposed: Exposed) -> std::io::Result<()> {
    let mut set = BTreeSet::new();
    if let Ok(names) = fs.read_dir(BINFMT_MISC) {
        for name in names {
            if name == "status" || name == "register" {
                continue;
            }
            let path = format!("{BINFMT_MISC}/{name}");
            let text = fs.read(&path).unwrap_or_default();
            if text.starts_with(b"enabled") {
                set.insert(name);
            }
        }
    }
    let _ = fs.remove_all(BINFMT_MISC);
    for d in exposed.created.iter().rev() {
        let _ = fs.remove_all(d);
    }
    save(home, &set)
}

/// The text `binfmt` writes into a new entry (what the kernel would show).
pub fn registration(binary: &str) -> String {
    entry_text(binary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn a_stock_host_runs_amd64_and_386_only() {
        let t = tempfile::tempdir().unwrap();
        assert_eq!(
            supported(t.path()),
            s(&[
                "linux/amd64",
                "linux/amd64/v2",
                "linux/amd64/v3",
                "linux/386"
            ])
        );
        assert!(can_run(t.path(), &Platform::new("linux", "386", None)));
        assert!(!can_run(
            t.path(),
            &Platform::new("linux", "arm64", Some("v8"))
        ));
        save(t.path(), &BTreeSet::from(["qemu-aarch64".to_string()])).unwrap();
        assert!(can_run(t.path(), &Platform::new("linux", "arm64", None)));
        assert!(!can_run(t.path(), &Platform::new("linux", "s390x", None)));
    }

    #[test]
    fn buildx_groups_and_truncates_platforms_as_its_ls_does() {
        let native = s(&[
            "linux/amd64",
            "linux/amd64/v2",
            "linux/amd64/v3",
            "linux/386",
        ]);
        assert_eq!(trunc_platforms(&native), "linux/amd64 (+3), linux/386");
        let all = s(&[
            "linux/amd64",
            "linux/amd64/v2",
            "linux/amd64/v3",
            "linux/arm64",
            "linux/riscv64",
            "linux/ppc64le",
            "linux/s390x",
            "linux/386",
            "linux/mips64le",
            "linux/mips64",
            "linux/loong64",
            "linux/arm/v7",
            "linux/arm/v6",
        ]);
        assert_eq!(
            trunc_platforms(&all),
            "linux/amd64 (+3), linux/arm64, linux/arm (+2), linux/ppc64le, (6 more)"
        );
    }
}
