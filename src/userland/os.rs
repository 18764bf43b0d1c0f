//! Which distribution an image is, read from its `/etc/os-release` the way
//! programs that care do. It decides the shell's dialect (busybox `ash` on
//! Alpine and busybox images, `dash` on Debian and Ubuntu) and the package
//! manager a learner meets.

use super::fs::Fs;

/// The families the userland tells apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    Alpine,
    Debian,
    Ubuntu,
    /// busybox images and anything with `/bin/busybox` but no os-release.
    Busybox,
    /// `scratch`, distroless and the unknown.
    Other,
}

/// An image's distribution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Os {
    pub family: Family,
    /// `ID` (`alpine`, `debian`, `ubuntu`), empty when unknown.
    pub id: String,
    /// `VERSION_ID` (`3.20.3`, `12`, `22.04`).
    pub version_id: String,
    /// `VERSION_CODENAME` (`bookworm`, `jammy`).
    pub codename: String,
}

impl Os {
    /// Reads `/etc/os-release` (or `/usr/lib/os-release`).
    pub fn detect(fs: &Fs) -> Os {
        let text = fs
            .read_string("/etc/os-release")
            .or_else(|_| fs.read_string("/usr/lib/os-release"))
            .unwrap_or_default();
        let mut id = String::new();
        let mut version_id = String::new();
        let mut codename = String::new();
        for line in text.lines() {
            let Some((k, v)) = line.split_once('=') else {
                continue;
            };
            let v = v.trim().trim_matches('"').to_string();
            match k.trim() {
                "ID" => id = v,
                "VERSION_ID" => version_id = v,
                "VERSION_CODENAME" => codename = v,
                _ => {}
            }
        }
        let family = match id.as_str() {
            "alpine" => Family::Alpine,
            "debian" => Family::Debian,
            "ubuntu" => Family::Ubuntu,
            _ if fs.exists("/bin/busybox") => Family::Busybox,
            _ => Family::Other,
        };
        Os {
            family,
            id,
            version_id,
            codename,
        }
    }

    /// Whether `/bin/sh` is busybox `ash` (else `dash`).
    pub fn busybox_shell(&self) -> bool {
        matches!(self.family, Family::Alpine | Family::Busybox)
    }

    /// The Alpine branch (`3.20` for `3.20.3`), if Alpine.
    pub fn alpine_branch(&self) -> Option<String> {
        (self.family == Family::Alpine).then(|| {
            let mut it = self.version_id.split('.');
            format!("{}.{}", it.next().unwrap_or(""), it.next().unwrap_or(""))
        })
    }
}
