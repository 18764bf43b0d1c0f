//! The file system a simulated process sees: the merged root fs of an image
//! (a map of path → [`Entry`]) plus the changes made since it was opened.
//! Paths given to it are absolute or relative to nothing (the caller joins
//! the working directory first); symlinks are followed inside the root only,
//! as the kernel does in a container (`/..` is `/`, an absolute link target
//! starts again at the root). [`Fs::diff`] turns the changes into a layer
//! changeset, with whiteouts for what was removed.
//!
//! Permission checks follow the classic Unix rules for the few cases the
//! lessons need (a non-root `USER` cannot write into root's directories);
//! root passes every check.

use crate::layer::{Content, Entry, Kind, clean_path};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// How many symlinks one lookup may follow (Linux's `MAXSYMLINKS`).
const MAX_HOPS: usize = 40;

/// A failed file-system call, as `errno` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Errno {
    NoEnt,
    NotDir,
    IsDir,
    Exist,
    NotEmpty,
    Loop,
    Access,
    Perm,
    /// The file would pass the userland's size limit.
    FBig,
    Inval,
    XDev,
}

impl Errno {
    /// The C library's `strerror` text (glibc and musl agree on these).
    pub fn text(self) -> &'static str {
        match self {
            Errno::NoEnt => "No such file or directory",
            Errno::NotDir => "Not a directory",
            Errno::IsDir => "Is a directory",
            Errno::Exist => "File exists",
            Errno::NotEmpty => "Directory not empty",
            Errno::Loop => "Symbolic link loop",
            Errno::Access => "Permission denied",
            Errno::Perm => "Operation not permitted",
            Errno::FBig => "File too large",
            Errno::Inval => "Invalid argument",
            Errno::XDev => "Invalid cross-device link",
        }
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

impl std::error::Error for Errno {}

pub type FsResult<T> = Result<T, Errno>;

/// What `stat` reports about a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stat {
    /// The resolved path (entry form: no leading `/`; empty for the root).
    pub path: String,
    pub kind: FileType,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub mtime: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileType {
    File,
    Dir,
    Symlink,
}

/// Who is asking, for permission checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cred {
    pub uid: u32,
    pub gid: u32,
}

impl Cred {
    pub const ROOT: Cred = Cred { uid: 0, gid: 0 };
}

/// The largest file the userland holds in memory (a `RUN` line that makes a
/// bigger one fails with "File too large").
pub const MAX_FILE: u64 = 512 * 1024 * 1024;

/// An image's file system opened for a process: the lower entries as they
/// were, the current entries, and which paths were touched.
#[derive(Clone, Debug)]
pub struct Fs {
    entries: BTreeMap<String, Entry>,
    /// Paths changed since [`Fs::new`] (created, written, removed, or their
    /// metadata changed). Removal of a tree touches every path in it.
    touched: BTreeSet<String>,
    /// The entries as they were, for paths that have been touched and did
    /// exist (to tell a real change from a rewrite with the same bytes).
    before: BTreeMap<String, Option<Entry>>,
    /// The mtime given to what is created or changed.
    pub clock: u64,
}

impl Fs {
    /// Opens a merged root fs (`path → entry`, entry-form paths).
    pub fn new(entries: BTreeMap<String, Entry>, clock: u64) -> Fs {
        Fs {
            entries,
            touched: BTreeSet::new(),
            before: BTreeMap::new(),
            clock,
        }
    }

    /// The current entries.
    pub fn entries(&self) -> &BTreeMap<String, Entry> {
        &self.entries
    }

    /// Consumes the view, returning the current entries.
    pub fn into_entries(self) -> BTreeMap<String, Entry> {
        self.entries
    }

    fn touch(&mut self, path: &str) {
        if !self.touched.contains(path) {
            self.before
                .insert(path.to_string(), self.entries.get(path).cloned());
            self.touched.insert(path.to_string());
        }
    }

    /// Resolves `path` following symlinks in every component; the last one
    /// too when `follow_last`. Fails with `NoEnt`/`NotDir` when a directory
    /// on the way is missing or not a directory; the last component need not
    /// exist.
    pub fn resolve(&self, path: &str, follow_last: bool) -> FsResult<String> {
        let mut parts: Vec<String> = Vec::new();
        let mut todo: Vec<String> = path
            .split('/')
            .filter(|s| !s.is_empty() && *s != ".")
            .rev()
            .map(String::from)
            .collect();
        let mut hops = 0;
        while let Some(c) = todo.pop() {
            if c == ".." {
                parts.pop();
                continue;
            }
            // Every component before this one must be a directory.
            let dir = parts.join("/");
            if !dir.is_empty() {
                match self.entries.get(&dir) {
                    Some(e) if matches!(e.kind, Kind::Dir) => {}
                    Some(_) => return Err(Errno::NotDir),
                    None => return Err(Errno::NoEnt),
                }
            }
            parts.push(c);
            let last = todo.is_empty();
            if last && !follow_last {
                break;
            }
            let cur = parts.join("/");
            if let Some(Entry {
                kind: Kind::Symlink(t),
                ..
            }) = self.entries.get(&cur)
            {
                hops += 1;
                if hops > MAX_HOPS {
                    return Err(Errno::Loop);
                }
                parts.pop();
                if t.starts_with('/') {
                    parts.clear();
                }
                for seg in t.split('/').filter(|s| !s.is_empty() && *s != ".").rev() {
                    todo.push(seg.to_string());
                }
            }
        }
        Ok(parts.join("/"))
    }

    /// The entry at a resolved path (the root has none).
    pub fn entry(&self, resolved: &str) -> Option<&Entry> {
        self.entries.get(resolved)
    }

    /// `stat` (`follow`) or `lstat`.
    pub fn stat(&self, path: &str, follow: bool) -> FsResult<Stat> {
        let p = self.resolve(path, follow)?;
        if p.is_empty() {
            return Ok(Stat {
                path: p,
                kind: FileType::Dir,
                mode: 0o755,
                uid: 0,
                gid: 0,
                size: 0,
                mtime: crate::layer::DEFAULT_MTIME,
            });
        }
        let e = self.entries.get(&p).ok_or(Errno::NoEnt)?;
        let (kind, size) = match &e.kind {
            Kind::File(c) => (FileType::File, c.len()),
            Kind::Dir => (FileType::Dir, 0),
            Kind::Symlink(t) => (FileType::Symlink, t.len() as u64),
            Kind::Hardlink(_) => (FileType::File, 0),
            Kind::Whiteout | Kind::Opaque => return Err(Errno::NoEnt),
        };
        Ok(Stat {
            path: p,
            kind,
            mode: e.mode,
            uid: e.uid,
            gid: e.gid,
            size,
            mtime: e.mtime,
        })
    }

    pub fn exists(&self, path: &str) -> bool {
        self.stat(path, true).is_ok()
    }

    pub fn is_dir(&self, path: &str) -> bool {
        matches!(self.stat(path, true), Ok(s) if s.kind == FileType::Dir)
    }

    pub fn is_file(&self, path: &str) -> bool {
        matches!(self.stat(path, true), Ok(s) if s.kind == FileType::File)
    }

    /// A symlink's target (`readlink`).
    pub fn read_link(&self, path: &str) -> FsResult<String> {
        let p = self.resolve(path, false)?;
        match self.entries.get(&p).map(|e| &e.kind) {
            Some(Kind::Symlink(t)) => Ok(t.clone()),
            Some(_) => Err(Errno::Inval),
            None => Err(Errno::NoEnt),
        }
    }

    /// A regular file's content (following symlinks), without reading it.
    pub fn content(&self, path: &str) -> FsResult<Content> {
        let p = self.resolve(path, true)?;
        match self.entries.get(&p).map(|e| &e.kind) {
            Some(Kind::File(c)) => Ok(c.clone()),
            Some(Kind::Dir) => Err(Errno::IsDir),
            Some(Kind::Hardlink(t)) => {
                let t = t.clone();
                match self.entries.get(&t).map(|e| &e.kind) {
                    Some(Kind::File(c)) => Ok(c.clone()),
                    _ => Err(Errno::NoEnt),
                }
            }
            None if p.is_empty() => Err(Errno::IsDir),
            _ => Err(Errno::NoEnt),
        }
    }

    /// A regular file's bytes (following symlinks).
    pub fn read(&self, path: &str) -> FsResult<Vec<u8>> {
        let c = self.content(path)?;
        if c.len() > MAX_FILE {
            return Err(Errno::FBig);
        }
        c.to_vec().map_err(|_| Errno::NoEnt)
    }

    /// A text file, lossily decoded.
    pub fn read_string(&self, path: &str) -> FsResult<String> {
        Ok(String::from_utf8_lossy(&self.read(path)?).into_owned())
    }

    /// The names in a directory (following symlinks), sorted.
    pub fn read_dir(&self, path: &str) -> FsResult<Vec<String>> {
        let p = self.resolve(path, true)?;
        if !p.is_empty() {
            match self.entries.get(&p).map(|e| &e.kind) {
                Some(Kind::Dir) => {}
                Some(_) => return Err(Errno::NotDir),
                None => return Err(Errno::NoEnt),
            }
        }
        let prefix = if p.is_empty() {
            String::new()
        } else {
            format!("{p}/")
        };
        let mut out = Vec::new();
        for (k, _) in self.entries.range(prefix.clone()..) {
            let Some(rest) = k.strip_prefix(&prefix) else {
                break;
            };
            if !rest.is_empty() && !rest.contains('/') {
                out.push(rest.to_string());
            }
        }
        Ok(out)
    }

    /// Every path under `dir` (resolved, entry form), depth first in sorted
    /// order, not following symlinks below it.
    pub fn walk(&self, dir: &str) -> FsResult<Vec<String>> {
        let p = self.resolve(dir, true)?;
        let prefix = if p.is_empty() {
            String::new()
        } else {
            format!("{p}/")
        };
        Ok(self
            .entries
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, _)| k.clone())
            .collect())
    }

    /// Checks that `cred` may create or remove names in the directory that
    /// holds `resolved` (write and search permission on it).
    pub fn may_write_in(&self, resolved: &str, cred: Cred) -> FsResult<()> {
        let parent = resolved.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        self.may(parent, cred, 0o2)
    }

    /// Checks `cred` against `resolved`'s mode for `want` (4 read, 2 write,
    /// 1 execute).
    pub fn may(&self, resolved: &str, cred: Cred, want: u32) -> FsResult<()> {
        if cred.uid == 0 {
            return Ok(());
        }
        let (mode, uid, gid) = if resolved.is_empty() {
            (0o755, 0, 0)
        } else {
            match self.entries.get(resolved) {
                Some(e) => (e.mode, e.uid, e.gid),
                None => return Err(Errno::NoEnt),
            }
        };
        let bits = if uid == cred.uid {
            mode >> 6
        } else if gid == cred.gid {
            mode >> 3
        } else {
            mode
        } & 7;
        if bits & want == want {
            Ok(())
        } else {
            Err(Errno::Access)
        }
    }

    /// Inserts or replaces the entry at an entry-form path, recording the
    /// change. The parent must exist (callers create it).
    pub fn put(&mut self, entry: Entry) -> FsResult<()> {
        if entry.size() > MAX_FILE {
            return Err(Errno::FBig);
        }
        let path = entry.path.clone();
        if path.is_empty() {
            return Err(Errno::Exist);
        }
        if let Some((parent, _)) = path.rsplit_once('/') {
            match self.entries.get(parent) {
                Some(e) if matches!(e.kind, Kind::Dir) => {}
                Some(_) => return Err(Errno::NotDir),
                None => return Err(Errno::NoEnt),
            }
        }
        if let Some(old) = self.entries.get(&path)
            && matches!(old.kind, Kind::Dir)
            && !matches!(entry.kind, Kind::Dir)
        {
            self.remove_tree(&path);
        }
        self.touch(&path);
        self.entries.insert(path, entry);
        Ok(())
    }

    /// Writes a regular file at `path` (following symlinks to the file),
    /// keeping mode and owner when it exists, else `mode` and `owner`.
    pub fn write(&mut self, path: &str, content: Content, mode: u32, owner: Cred) -> FsResult<()> {
        let p = self.resolve(path, true)?;
        if p.is_empty() {
            return Err(Errno::IsDir);
        }
        let clock = self.clock;
        let entry = match self.entries.get(&p) {
            Some(e) if matches!(e.kind, Kind::Dir) => return Err(Errno::IsDir),
            Some(e) => Entry {
                kind: Kind::File(content),
                mtime: clock,
                ..e.clone()
            },
            None => Entry::file(&p, content, mode)
                .owned(owner.uid, owner.gid)
                .at(clock),
        };
        self.put(entry)
    }

    /// Appends to a regular file (creating it).
    pub fn append(&mut self, path: &str, data: &[u8], mode: u32, owner: Cred) -> FsResult<()> {
        let mut bytes = match self.read(path) {
            Ok(b) => b,
            Err(Errno::NoEnt) => Vec::new(),
            Err(e) => return Err(e),
        };
        if bytes.len() as u64 + data.len() as u64 > MAX_FILE {
            return Err(Errno::FBig);
        }
        bytes.extend_from_slice(data);
        self.write(path, Content::bytes(bytes), mode, owner)
    }

    /// `mkdir` (`parents`: `mkdir -p`, no error if it exists as a directory).
    pub fn mkdir(&mut self, path: &str, mode: u32, owner: Cred, parents: bool) -> FsResult<()> {
        if parents {
            let mut cur = String::new();
            for part in path.split('/').filter(|s| !s.is_empty() && *s != ".") {
                let next = if cur.is_empty() {
                    part.to_string()
                } else {
                    format!("{cur}/{part}")
                };
                let r = self.resolve(&next, true)?;
                match self.entries.get(&r) {
                    Some(e) if matches!(e.kind, Kind::Dir) => {}
                    Some(_) => return Err(Errno::NotDir),
                    None if r.is_empty() => {}
                    None => self.put(
                        Entry::dir(&r, mode)
                            .owned(owner.uid, owner.gid)
                            .at(self.clock),
                    )?,
                }
                cur = r;
            }
            return Ok(());
        }
        let p = self.resolve(path, false)?;
        if p.is_empty() || self.entries.contains_key(&p) {
            return Err(Errno::Exist);
        }
        self.put(
            Entry::dir(&p, mode)
                .owned(owner.uid, owner.gid)
                .at(self.clock),
        )
    }

    /// `symlink(target, path)`.
    pub fn symlink(&mut self, target: &str, path: &str, owner: Cred) -> FsResult<()> {
        let p = self.resolve(path, false)?;
        if p.is_empty() || self.entries.contains_key(&p) {
            return Err(Errno::Exist);
        }
        let mut e = Entry::symlink(&p, target)
            .owned(owner.uid, owner.gid)
            .at(self.clock);
        e.path = p;
        self.put(e)
    }

    /// Removes one name (`unlink`, or `rmdir` of an empty directory when
    /// `dir`), not following a final symlink.
    pub fn remove(&mut self, path: &str, dir: bool) -> FsResult<()> {
        let p = self.resolve(path, false)?;
        if p.is_empty() {
            return Err(if dir { Errno::Perm } else { Errno::IsDir });
        }
        match self.entries.get(&p).map(|e| &e.kind) {
            None => Err(Errno::NoEnt),
            Some(Kind::Dir) if !dir => Err(Errno::IsDir),
            Some(Kind::Dir) => {
                if !self.read_dir(&p)?.is_empty() {
                    return Err(Errno::NotEmpty);
                }
                self.remove_tree(&p);
                Ok(())
            }
            Some(_) if dir => Err(Errno::NotDir),
            Some(_) => {
                self.remove_tree(&p);
                Ok(())
            }
        }
    }

    /// Removes a path and everything under it (`rm -rf` of one operand),
    /// not following a final symlink.
    pub fn remove_all(&mut self, path: &str) -> FsResult<()> {
        let p = self.resolve(path, false)?;
        if p.is_empty() {
            // `rm -rf /` empties the root but keeps it.
            for k in self.read_dir("")? {
                self.remove_tree(&k);
            }
            return Ok(());
        }
        if !self.entries.contains_key(&p) {
            return Err(Errno::NoEnt);
        }
        self.remove_tree(&p);
        Ok(())
    }

    fn remove_tree(&mut self, p: &str) {
        let prefix = format!("{p}/");
        let doomed: Vec<String> = std::iter::once(p.to_string())
            .filter(|k| self.entries.contains_key(k))
            .chain(
                self.entries
                    .range(prefix.clone()..)
                    .take_while(|(k, _)| k.starts_with(&prefix))
                    .map(|(k, _)| k.clone()),
            )
            .collect();
        for k in doomed {
            self.touch(&k);
            self.entries.remove(&k);
        }
    }

    /// Renames `from` to `to` (both resolved by the caller's rules: the
    /// final components are not followed). A directory moves with its tree.
    pub fn rename(&mut self, from: &str, to: &str) -> FsResult<()> {
        let f = self.resolve(from, false)?;
        let t = self.resolve(to, false)?;
        if f.is_empty() || t.is_empty() {
            return Err(Errno::Inval);
        }
        if f == t {
            return Ok(());
        }
        if t.starts_with(&format!("{f}/")) {
            return Err(Errno::Inval);
        }
        let moved: Vec<(String, Entry)> = std::iter::once(f.clone())
            .chain(self.walk_raw(&f))
            .filter_map(|k| self.entries.get(&k).map(|e| (k, e.clone())))
            .collect();
        if moved.is_empty() {
            return Err(Errno::NoEnt);
        }
        if let Some(old) = self.entries.get(&t) {
            let src_dir = matches!(moved[0].1.kind, Kind::Dir);
            match (&old.kind, src_dir) {
                (Kind::Dir, false) => return Err(Errno::IsDir),
                (Kind::Dir, true) if !self.read_dir(&t)?.is_empty() => {
                    return Err(Errno::NotEmpty);
                }
                (k, true) if !matches!(k, Kind::Dir) => return Err(Errno::NotDir),
                _ => {}
            }
            self.remove_tree(&t);
        }
        self.remove_tree(&f);
        for (k, mut e) in moved {
            let np = format!("{t}{}", &k[f.len()..]);
            e.path = np.clone();
            self.touch(&np);
            self.entries.insert(np, e);
        }
        Ok(())
    }

    fn walk_raw(&self, p: &str) -> Vec<String> {
        let prefix = format!("{p}/");
        self.entries
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Changes metadata of the entry at `path` (following symlinks when
    /// `follow`): `mode` (permission bits), owner, mtime.
    pub fn set_meta(
        &mut self,
        path: &str,
        follow: bool,
        mode: Option<u32>,
        owner: Option<(Option<u32>, Option<u32>)>,
        mtime: Option<u64>,
    ) -> FsResult<()> {
        let p = self.resolve(path, follow)?;
        if p.is_empty() {
            return Ok(());
        }
        let mut e = self.entries.get(&p).cloned().ok_or(Errno::NoEnt)?;
        if let Some(m) = mode {
            e.mode = m & 0o7777;
        }
        if let Some((u, g)) = owner {
            if let Some(u) = u {
                e.uid = u;
            }
            if let Some(g) = g {
                e.gid = g;
            }
        }
        if let Some(t) = mtime {
            e.mtime = t;
        }
        if self.entries.get(&p) != Some(&e) {
            self.touch(&p);
            self.entries.insert(p, e);
        }
        Ok(())
    }

    /// The changes as a layer changeset: every changed or created entry
    /// with its ancestors (as overlayfs copies them up), and a whiteout for
    /// the top of each removed tree. Paths written back unchanged are left
    /// out. Sorted in tar order.
    pub fn diff(&self) -> Vec<Entry> {
        let mut out: BTreeMap<String, Entry> = BTreeMap::new();
        for p in &self.touched {
            let before = self.before.get(p).cloned().flatten();
            match (self.entries.get(p), before) {
                (Some(now), Some(was)) if *now == was => {}
                (Some(now), was) => {
                    // A directory that replaced a removed one hides nothing
                    // by itself: removed children get their own whiteouts.
                    let _ = was;
                    out.insert(p.clone(), now.clone());
                }
                (None, Some(_)) => {
                    // Whiteout only the top of a removed tree.
                    let parent_gone = p.rsplit_once('/').is_some_and(|(parent, _)| {
                        !self.entries.contains_key(parent)
                            && matches!(self.before.get(parent), Some(Some(_)))
                    });
                    if !parent_gone {
                        out.insert(p.clone(), Entry::new(p, Kind::Whiteout, 0o644));
                    }
                }
                (None, None) => {}
            }
        }
        // Ancestors of every change, as they are now.
        let paths: Vec<String> = out.keys().cloned().collect();
        for p in paths {
            let mut cur = p.as_str();
            while let Some((parent, _)) = cur.rsplit_once('/') {
                if out.contains_key(parent) {
                    break;
                }
                if let Some(e) = self.entries.get(parent) {
                    out.insert(parent.to_string(), e.clone());
                }
                cur = parent;
            }
        }
        crate::layer::normalize(out.into_values().collect())
    }

    /// Whether anything changed.
    pub fn changed(&self) -> bool {
        self.touched
            .iter()
            .any(|p| self.entries.get(p) != self.before.get(p).and_then(|e| e.as_ref()))
    }
}

/// Joins a working directory and a path the way a process sees it, giving
/// an absolute, cleaned path (`..` cannot climb above `/`).
pub fn join(cwd: &str, path: &str) -> String {
    if path.starts_with('/') {
        format!("/{}", clean_path(path))
    } else {
        format!("/{}", clean_path(&format!("{cwd}/{path}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fs() -> Fs {
        let mut m = BTreeMap::new();
        for e in [
            Entry::dir("etc", 0o755),
            Entry::file(
                "etc/passwd",
                Content::bytes("root:x:0:0::/root:/bin/sh\n"),
                0o644,
            ),
            Entry::dir("bin", 0o755),
            Entry::file("bin/busybox", Content::bytes("x"), 0o755),
            Entry::symlink("bin/sh", "/bin/busybox"),
            Entry::dir("var", 0o755),
            Entry::dir("var/cache", 0o755),
            Entry::file("var/cache/a", Content::bytes("aaaa"), 0o644),
            Entry::file("var/cache/b", Content::bytes("bbbb"), 0o644),
            Entry::symlink("loop", "loop"),
        ] {
            m.insert(e.path.clone(), e);
        }
        Fs::new(m, 42)
    }

    #[test]
    fn resolves_links_inside_the_root() {
        let f = fs();
        assert_eq!(f.resolve("/bin/sh", true).unwrap(), "bin/busybox");
        assert_eq!(f.resolve("/bin/sh", false).unwrap(), "bin/sh");
        assert_eq!(f.resolve("/../../etc/passwd", true).unwrap(), "etc/passwd");
        assert_eq!(f.resolve("/loop", true), Err(Errno::Loop));
        assert_eq!(f.resolve("/etc/passwd/x", true), Err(Errno::NotDir));
        assert_eq!(f.resolve("/nope/x", true), Err(Errno::NoEnt));
    }

    #[test]
    fn a_removed_tree_is_one_whiteout_and_rewrites_are_no_change() {
        let mut f = fs();
        f.remove_all("/var/cache").unwrap();
        f.write(
            "/etc/passwd",
            Content::bytes("root:x:0:0::/root:/bin/sh\n"),
            0o644,
            Cred::ROOT,
        )
        .unwrap();
        let mut e = f.entries()["etc/passwd"].clone();
        e.mtime = crate::layer::DEFAULT_MTIME;
        f.put(e).unwrap();
        let d = f.diff();
        let paths: Vec<(&str, bool)> = d
            .iter()
            .map(|e| (e.path.as_str(), matches!(e.kind, Kind::Whiteout)))
            .collect();
        assert_eq!(paths, vec![("var", false), ("var/cache", true)]);
    }

    #[test]
    fn new_files_bring_their_parents() {
        let mut f = fs();
        f.mkdir("/usr/local/bin", 0o755, Cred::ROOT, true).unwrap();
        f.write("/usr/local/bin/app", Content::bytes("x"), 0o755, Cred::ROOT)
            .unwrap();
        let paths: Vec<String> = f.diff().into_iter().map(|e| e.path).collect();
        assert_eq!(
            paths,
            ["usr", "usr/local", "usr/local/bin", "usr/local/bin/app"]
        );
        assert!(f.changed());
    }

    #[test]
    fn a_recreated_directory_whiteouts_its_old_children() {
        let mut f = fs();
        f.remove_all("/var/cache").unwrap();
        f.mkdir("/var/cache", 0o755, Cred::ROOT, false).unwrap();
        let d: Vec<(String, bool)> = f
            .diff()
            .into_iter()
            .map(|e| (e.path, matches!(e.kind, Kind::Whiteout)))
            .collect();
        assert_eq!(
            d,
            [
                ("var".to_string(), false),
                ("var/cache".to_string(), false),
                ("var/cache/a".to_string(), true),
                ("var/cache/b".to_string(), true)
            ]
        );
    }

    #[test]
    fn non_root_cannot_write_into_roots_directories() {
        let f = fs();
        let user = Cred {
            uid: 1000,
            gid: 1000,
        };
        assert_eq!(f.may_write_in("etc/x", user), Err(Errno::Access));
        assert!(f.may_write_in("etc/x", Cred::ROOT).is_ok());
    }

    #[test]
    fn rename_moves_a_tree() {
        let mut f = fs();
        f.rename("/var/cache", "/var/old").unwrap();
        assert_eq!(f.read_dir("/var/old").unwrap(), ["a", "b"]);
        assert!(!f.exists("/var/cache"));
    }
}
