//! The lab's home directory: where state lives (`--home`, else
//! `$IMAGELAB_HOME`, else `$XDG_DATA_HOME/imagelab`), the lock that makes two
//! processes on one home safe, atomic file writes, and the lab clock.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Resolves the home directory from the flag, the environment, or the
/// platform data directory.
pub fn resolve(flag: Option<&Path>) -> PathBuf {
    if let Some(p) = flag {
        return p.to_path_buf();
    }
    if let Some(p) = std::env::var_os("IMAGELAB_HOME").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from(".local/share"))
        .join("imagelab")
}

/// An exclusive advisory lock on `<dir>/lock`, held while the value lives.
/// Every mutation of the store happens under it; readers take it shared.
pub struct Lock {
    _file: File,
}

impl Lock {
    pub fn exclusive(dir: &Path) -> io::Result<Lock> {
        let file = Self::open(dir)?;
        file.lock()?;
        Ok(Lock { _file: file })
    }

    pub fn shared(dir: &Path) -> io::Result<Lock> {
        let file = Self::open(dir)?;
        file.lock_shared()?;
        Ok(Lock { _file: file })
    }

    fn open(dir: &Path) -> io::Result<File> {
        fs::create_dir_all(dir)?;
        OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .read(true)
            .open(dir.join("lock"))
    }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same
/// directory, fsynced, then renamed over the target. A crash leaves either the
/// old file or the new one, never a torn one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// The lab clock: `IMAGELAB_NOW` (RFC 3339) when set, so tests and
/// transcripts are reproducible; otherwise the wall clock.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    if let Ok(s) = std::env::var("IMAGELAB_NOW")
        && let Ok(t) = chrono::DateTime::parse_from_rfc3339(&s)
    {
        return t.with_timezone(&chrono::Utc);
    }
    chrono::Utc::now()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_content_whole() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        // no temp files left behind
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    fn flag_wins_over_environment() {
        assert_eq!(resolve(Some(Path::new("/x"))), PathBuf::from("/x"));
    }
}
