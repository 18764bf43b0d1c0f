//! Bind mounts (`-v /host/path:/path[:ro]`, `--mount type=bind,...`): a
//! host folder (or file) is read into the container's file system over the
//! mount path when the container's file system is opened, and what the
//! container's processes changed there is written back to the host when
//! they are done (unless the mount is read-only), so a file a container
//! writes under a bind mount appears on the host, as with docker (files a
//! container deletes there are left on the host: a read cut short by the
//! bounds must never delete a learner's file). The
//! source was confined to the workspace by `docker run`; here nothing is
//! written through a symlink, nor outside the source, and reads are
//! bounded.

use super::{Mount, Result};
use crate::layer::{Content, Entry, Kind};
use crate::userland::fs::{Cred, Fs};
use std::path::{Path, PathBuf};

/// How many bytes of host files one bind mount may bring in.
const MAX_BYTES: u64 = 256 << 20;
/// How many host entries one bind mount may bring in.
const MAX_ENTRIES: usize = 20_000;

/// Puts each bind mount's host files over its path in `fs`.
pub fn mount(fs: &mut Fs, mounts: &[Mount]) -> Result<()> {
    for m in mounts.iter().filter(|m| m.is_bind()) {
        let dest = crate::layer::clean_path(&m.destination);
        let src = Path::new(&m.source);
        let meta = match std::fs::metadata(src) {
            Ok(meta) => meta,
            // Removed since the container was created: an empty folder,
            // as the daemon recreates it.
            Err(_) => {
                let _ = fs.mkdir(&m.destination, 0o755, Cred::ROOT, true);
                continue;
            }
        };
        if meta.is_file() {
            let bytes = std::fs::read(src)?;
            let _ = fs.remove_all(&m.destination);
            if let Some(parent) = Path::new(&m.destination).parent() {
                let _ = fs.mkdir(&parent.to_string_lossy(), 0o755, Cred::ROOT, true);
            }
            let _ = fs.put(Entry::file(&dest, Content::bytes(bytes), mode_of(&meta)));
            continue;
        }
        if fs.exists(&m.destination) && !fs.is_dir(&m.destination) {
            let _ = fs.remove_all(&m.destination);
        }
        if !fs.is_dir(&m.destination) {
            let _ = fs.mkdir(&m.destination, 0o755, Cred::ROOT, true);
        }
        for k in fs.read_dir(&m.destination).unwrap_or_default() {
            let _ = fs.remove_all(&format!("{}/{k}", m.destination));
        }
        let mut budget = (MAX_BYTES, MAX_ENTRIES);
        for e in read_tree(src, &dest, &mut budget)? {
            let _ = fs.put(e);
        }
    }
    Ok(())
}

fn mode_of(meta: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o7777
}

/// The host folder `dir` as entries under `dest`, sorted, without
/// following symlinks.
fn read_tree(dir: &Path, dest: &str, budget: &mut (u64, usize)) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(dir)?.flatten().collect();
    names.sort_by_key(|e| e.file_name());
    for e in names {
        let name = e.file_name().to_string_lossy().into_owned();
        let path = format!("{dest}/{name}");
        let meta = std::fs::symlink_metadata(e.path())?;
        if budget.1 == 0 {
            break;
        }
        budget.1 -= 1;
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(e.path())?;
            out.push(Entry::symlink(&path, &target.to_string_lossy()));
        } else if meta.is_dir() {
            out.push(Entry::dir(&path, mode_of(&meta)));
            out.extend(read_tree(&e.path(), &path, budget)?);
        } else if meta.is_file() && meta.len() <= budget.0 {
            budget.0 -= meta.len();
            let bytes = std::fs::read(e.path())?;
            out.push(Entry::file(&path, Content::bytes(bytes), mode_of(&meta)));
        }
    }
    Ok(out)
}

/// Writes what the container changed under each read-write bind mount
/// back to the host.
pub fn unmount(fs: &Fs, mounts: &[Mount]) -> Result<()> {
    for m in mounts.iter().filter(|m| m.is_bind() && !m.read_only) {
        let dest = crate::layer::clean_path(&m.destination);
        let src = PathBuf::from(&m.source);
        if src.is_file() {
            if let Some(Kind::File(c)) = fs.entries().get(&dest).map(|e| &e.kind) {
                let bytes = c.to_vec()?;
                if std::fs::read(&src).ok().as_deref() != Some(&bytes[..]) {
                    std::fs::write(&src, bytes)?;
                }
            }
            continue;
        }
        if !src.is_dir() {
            continue;
        }
        let prefix = format!("{dest}/");
        let inside: Vec<(&String, &Entry)> = fs
            .entries()
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .collect();
        for (k, e) in inside {
            let rel = &k[prefix.len()..];
            let host = src.join(rel);
            if !safe_parent(&src, rel) {
                continue;
            }
            match &e.kind {
                Kind::Dir if !host.is_dir() => std::fs::create_dir_all(&host)?,
                Kind::File(c) => {
                    let bytes = c.to_vec()?;
                    let same = std::fs::symlink_metadata(&host).is_ok_and(|m| m.is_file())
                        && std::fs::read(&host).ok().as_deref() == Some(&bytes[..]);
                    if !same {
                        if std::fs::symlink_metadata(&host).is_ok_and(|m| m.is_dir()) {
                            std::fs::remove_dir_all(&host)?;
                        }
                        std::fs::write(&host, bytes)?;
                    }
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Whether every folder between `root` and `rel` is a real folder (no
/// symlink could carry a write elsewhere).
fn safe_parent(root: &Path, rel: &str) -> bool {
    let mut p = root.to_path_buf();
    let parts: Vec<&str> = rel.split('/').collect();
    for part in &parts[..parts.len().saturating_sub(1)] {
        p.push(part);
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => return false,
            _ => {}
        }
    }
    true
}
