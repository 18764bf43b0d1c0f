//! Named volumes (`-v NAME:/path`, `docker volume create|ls|rm`): each is
//! a tar of its files under `<home>/volumes/<name>/data.tar`, mounted over
//! the container's path when its file system is opened and written back
//! (and left out of the writable layer) when its processes are done. A new
//! volume starts with the image's files at the mount path, as docker copies
//! them.

use super::{ContainerError, Mount, Result};
use crate::layer::{Entry, Kind};
use crate::userland::fs::{Cred, Fs};
use std::path::{Path, PathBuf};

/// The volumes of one home.
pub struct Volumes {
    dir: PathBuf,
}

impl Volumes {
    pub fn open(home: &Path) -> Volumes {
        Volumes {
            dir: home.join("volumes"),
        }
    }

    /// Names, sorted.
    pub fn list(&self) -> Result<Vec<String>> {
        let mut v = Vec::new();
        match std::fs::read_dir(&self.dir) {
            Ok(rd) => {
                for e in rd.flatten() {
                    if e.path().is_dir() {
                        v.push(e.file_name().to_string_lossy().into_owned());
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
        v.sort();
        Ok(v)
    }

    pub fn exists(&self, name: &str) -> bool {
        valid(name) && self.dir.join(name).is_dir()
    }

    /// Creates a volume (nothing happens when it exists).
    pub fn create(&self, name: &str) -> Result<()> {
        if !valid(name) {
            return Err(ContainerError::BadVolume(name.to_string()));
        }
        std::fs::create_dir_all(self.dir.join(name))?;
        Ok(())
    }

    pub fn remove(&self, name: &str) -> Result<()> {
        if !self.exists(name) {
            return Err(ContainerError::NoSuchVolume(name.to_string()));
        }
        std::fs::remove_dir_all(self.dir.join(name))?;
        Ok(())
    }

    /// The volume's files (paths relative to its root), `None` when it has
    /// never been written.
    fn read(&self, name: &str) -> Result<Option<Vec<Entry>>> {
        match std::fs::File::open(self.dir.join(name).join("data.tar")) {
            Ok(f) => Ok(Some(crate::layer::read_tar(std::io::BufReader::new(f))?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn write(&self, name: &str, entries: &[Entry]) -> Result<()> {
        let (_, bytes) = crate::layer::write_tar(entries, Vec::new())?;
        crate::home::write_atomic(&self.dir.join(name).join("data.tar"), &bytes)?;
        Ok(())
    }

    /// Mounts each volume over its path in `fs` (creating the volume).
    pub fn mount(&self, fs: &mut Fs, mounts: &[Mount]) -> Result<()> {
        for m in mounts.iter().filter(|m| !m.is_bind()) {
            self.create(&m.name)?;
            let dest = crate::layer::clean_path(&m.destination);
            if !fs.is_dir(&m.destination) {
                let _ = fs.mkdir(&m.destination, 0o755, Cred::ROOT, true);
            }
            let Some(entries) = self.read(&m.name)? else {
                continue;
            };
            for k in fs.read_dir(&m.destination).unwrap_or_default() {
                let _ = fs.remove_all(&format!("{}/{k}", m.destination));
            }
            for mut e in entries {
                if matches!(e.kind, Kind::Whiteout | Kind::Opaque) {
                    continue;
                }
                e.path = format!("{dest}/{}", e.path);
                let _ = fs.put(e);
            }
        }
        Ok(())
    }

    /// Writes each volume's files back from `fs`.
    pub fn unmount(&self, fs: &Fs, mounts: &[Mount]) -> Result<()> {
        for m in mounts.iter().filter(|m| !m.is_bind()) {
            let dest = crate::layer::clean_path(&m.destination);
            let prefix = format!("{dest}/");
            let entries: Vec<Entry> = fs
                .entries()
                .range(prefix.clone()..)
                .take_while(|(k, _)| k.starts_with(&prefix))
                .map(|(k, e)| {
                    let mut e = e.clone();
                    e.path = k[prefix.len()..].to_string();
                    e
                })
                .collect();
            self.write(&m.name, &entries)?;
        }
        Ok(())
    }
}

/// Whether a layer path lies under one of the mounts (left out of the
/// writable layer).
pub fn under_mount(path: &str, mounts: &[Mount]) -> bool {
    mounts.iter().any(|m| {
        let d = crate::layer::clean_path(&m.destination);
        path == d || path.starts_with(&format!("{d}/"))
    })
}

/// docker's volume name rule: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`.
pub fn valid(name: &str) -> bool {
    super::valid_name(name)
}
