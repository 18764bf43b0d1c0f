//! `docker build --output`: instead of an image, the target stage's file
//! system goes to a folder (`type=local,dest=DIR`, or just `DIR`) or a tar
//! archive (`type=tar,dest=FILE`, or `-` for standard output), as buildx's
//! local and tar exporters do. Paths come from the merged root file system
//! (already clean and relative); a file is never written through a symbolic
//! link the export itself created, so nothing lands outside the folder.

use crate::engine::RootFs;
use crate::layer::{Entry, Kind};
use std::collections::BTreeSet;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Where an export goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// `type=image` / `type=docker`: the usual image in the store.
    Image,
    Local(PathBuf),
    /// `None`: standard output.
    Tar(Option<PathBuf>),
}

/// Parses one `--output` value the way buildx does: a bare path means
/// `type=local,dest=PATH`, a bare `-` means a tar on standard output.
/// Relative `dest`s are resolved by `base`.
pub fn parse(spec: &str, base: &dyn Fn(&str) -> PathBuf) -> Result<Output, String> {
    if !spec.contains('=') {
        return Ok(match spec {
            "-" => Output::Tar(None),
            p => Output::Local(base(p)),
        });
    }
    let mut kind = None;
    let mut dest = None;
    for field in spec.split(',') {
        let (k, v) = field
            .split_once('=')
            .ok_or_else(|| format!("invalid value {field}"))?;
        match k.trim().to_lowercase().as_str() {
            "type" => kind = Some(v.trim().to_string()),
            "dest" => dest = Some(v.trim().to_string()),
            _ => {}
        }
    }
    match kind.as_deref() {
        Some("local") => match dest.as_deref() {
            Some(d) if !d.is_empty() && d != "-" => Ok(Output::Local(base(d))),
            _ => Err("dest is required for local output".into()),
        },
        Some("tar") => match dest.as_deref() {
            None | Some("-") => Ok(Output::Tar(None)),
            Some(d) => Ok(Output::Tar(Some(base(d)))),
        },
        Some("image") | Some("docker") => Ok(Output::Image),
        Some(t) => Err(format!(
            "output type {t:?} is not available in imagelab (use local, tar, image or docker)"
        )),
        None => Err("type is required for output".into()),
    }
}

/// The entries an export writes, sorted (parents first).
fn entries(fs: &RootFs) -> Vec<&Entry> {
    fs.entries.values().filter(|e| !e.path.is_empty()).collect()
}

/// Writes the file system into `dest` (created if missing). Returns the
/// bytes of file content written.
pub fn write_local(fs: &RootFs, dest: &Path) -> io::Result<u64> {
    std::fs::create_dir_all(dest)?;
    let mut links: BTreeSet<&str> = BTreeSet::new();
    let mut bytes = 0;
    for e in entries(fs) {
        // Never write through a link this export made.
        let through_link = e
            .path
            .match_indices('/')
            .any(|(i, _)| links.contains(&e.path[..i]));
        if through_link {
            continue;
        }
        let path = dest.join(&e.path);
        match &e.kind {
            Kind::Dir => {
                std::fs::create_dir_all(&path)?;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(e.mode & 0o7777))?;
            }
            Kind::File(c) => {
                remove_existing(&path)?;
                let mut f = std::fs::File::create(&path)?;
                c.write_to(&mut f)?;
                bytes += c.len();
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(e.mode & 0o7777))?;
            }
            Kind::Symlink(t) => {
                remove_existing(&path)?;
                std::os::unix::fs::symlink(t, &path)?;
                links.insert(&e.path);
            }
            Kind::Hardlink(t) => {
                remove_existing(&path)?;
                if let Some(Entry {
                    kind: Kind::File(c),
                    ..
                }) = fs.entries.get(t)
                {
                    let mut f = std::fs::File::create(&path)?;
                    c.write_to(&mut f)?;
                    bytes += c.len();
                    std::fs::set_permissions(
                        &path,
                        std::fs::Permissions::from_mode(e.mode & 0o7777),
                    )?;
                }
            }
            Kind::Whiteout | Kind::Opaque => {}
        }
    }
    Ok(bytes)
}

fn remove_existing(path: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(_) => Ok(()),
    }
}

/// The file system as a tar archive.
pub fn tar_bytes(fs: &RootFs) -> io::Result<Vec<u8>> {
    let list: Vec<Entry> = entries(fs).into_iter().cloned().collect();
    let (_, bytes) = crate::layer::write_tar(&list, Vec::new())?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_as_buildx_does() {
        let base = |p: &str| PathBuf::from("/w").join(p);
        assert_eq!(parse("out", &base), Ok(Output::Local("/w/out".into())));
        assert_eq!(parse("-", &base), Ok(Output::Tar(None)));
        assert_eq!(
            parse("type=local,dest=bin", &base),
            Ok(Output::Local("/w/bin".into()))
        );
        assert_eq!(
            parse("type=tar,dest=fs.tar", &base),
            Ok(Output::Tar(Some("/w/fs.tar".into())))
        );
        assert_eq!(parse("type=docker", &base), Ok(Output::Image));
        assert_eq!(
            parse("type=local", &base),
            Err("dest is required for local output".into())
        );
        assert!(parse("type=registry", &base).is_err());
        assert!(parse("dest=x", &base).is_err());
    }
}
