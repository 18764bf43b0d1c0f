//! The build context: the files of the folder given to `docker build`, with
//! `.dockerignore` applied, confined to the folder (paths never climb out;
//! symlinks are kept as links, never followed out of it).
//!
//! Loading walks the folder with `lstat` and hashes each regular file's
//! bytes once; the bytes themselves are not kept (`Content::File` reads them
//! again if a layer is written, checking the file is unchanged). A file whose
//! stat stamp matches the context checksum cache (`Checksums`, kept per
//! context folder in the store) is not read at all, so a rebuild with nothing
//! changed reads no file contents.

use crate::builder::ignore::{IgnoreError, MatchInfo, Matcher};
use crate::digest::Digest;
use crate::layer::{Content, FileStamp, HostFile, clean_path};
use sha2::{Digest as _, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The hash of a context file's bytes (sha256), the content part of COPY's
/// cache key. Never shown to users.
pub type ContentHash = [u8; 32];

/// One file of the context.
#[derive(Clone, Debug)]
pub enum CtxKind {
    /// A regular file: its bytes (read from the folder when needed) and
    /// their hash.
    File(Content, ContentHash),
    Dir,
    Symlink(String),
}

#[derive(Clone, Debug)]
pub struct CtxEntry {
    pub kind: CtxKind,
    pub mode: u32,
}

/// Why the context could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    #[error(transparent)]
    Io(#[from] io::Error),
    /// The `.dockerignore` is unreadable or one of its patterns is invalid;
    /// its text is docker's.
    #[error(transparent)]
    Ignore(#[from] IgnoreError),
}

/// The context as read from disk: relative path → entry.
#[derive(Debug, Default)]
pub struct Context {
    pub root: PathBuf,
    pub entries: BTreeMap<String, CtxEntry>,
    /// Bytes of the context's files (docker's `transferring context`).
    pub transferred: u64,
    pub ignore_file_size: u64,
    /// The checksum cache as it should be after this load, when it differs
    /// from the one the load was given (see `Checksums`).
    pub checksums: Option<Checksums>,
}

impl Context {
    /// Reads `root` recursively, skipping what `.dockerignore` excludes, as
    /// BuildKit's context transfer does. Its patterns apply to the Dockerfile
    /// and `.dockerignore` too: BuildKit reads those separately, so excluding
    /// them only keeps them out of `COPY`. Files are hashed, never trusted
    /// from a cache.
    pub fn load(root: &Path, ignore_text: Option<&str>) -> Result<Context, ContextError> {
        Context::load_with(root, ignore_text, &Checksums::default())
    }

    /// `load`, taking the content hash of every file whose stamp `known`
    /// records (`known` is ignored unless it was made for this folder). When
    /// the cache should change, `checksums` holds its new state.
    pub fn load_with(
        root: &Path,
        ignore_text: Option<&str>,
        known: &Checksums,
    ) -> Result<Context, ContextError> {
        Context::load_at(root, ignore_text, known, SystemTime::now())
    }

    /// `load_with` as if it started at `now` (which sets the racy window).
    pub(crate) fn load_at(
        root: &Path,
        ignore_text: Option<&str>,
        known: &Checksums,
        now: SystemTime,
    ) -> Result<Context, ContextError> {
        let matcher = Matcher::new(ignore_text.unwrap_or(""))?;
        let mut ctx = Context {
            root: root.to_path_buf(),
            ignore_file_size: ignore_text.map(|t| t.len() as u64).unwrap_or(0),
            ..Default::default()
        };
        let folder = Checksums::folder_of(root);
        let empty = HashMap::new();
        let mut walk = Walk {
            matcher: &matcher,
            known: match &folder {
                Some(f) if *f == known.folder => &known.files,
                _ => &empty,
            },
            // Only stamps older than this are recorded (the racy window).
            trust_before: now
                .checked_sub(RACY_WINDOW)
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_nanos() as i128)
                .unwrap_or(0),
            seen: HashMap::new(),
            hits: 0,
            buf: Vec::new(),
        };
        walk.dir(root, "", &MatchInfo::default(), false, &mut ctx)?;
        if let Some(folder) = folder
            && (walk.hits != walk.known.len() || walk.seen.len() != walk.hits)
        {
            ctx.checksums = Some(Checksums {
                folder,
                files: walk.seen,
            });
        }
        Ok(ctx)
    }

    /// The entries matching a COPY source pattern (after cleaning it into
    /// the context): exact path, or a glob with `*`, `?`, `[...]`.
    pub fn matches(&self, pattern: &str) -> Vec<String> {
        let p = clean_path(pattern);
        if p.is_empty() {
            return vec![String::new()];
        }
        if !p.contains(['*', '?', '[']) {
            return if self.entries.contains_key(&p) {
                vec![p]
            } else {
                vec![]
            };
        }
        self.entries
            .keys()
            .filter(|k| {
                k.split('/').count() == p.split('/').count()
                    && crate::builder::ignore::glob_match(&p, k)
            })
            .cloned()
            .collect()
    }

    /// The entries under `dir` (relative to it), for copying a directory's contents.
    pub fn under<'a>(
        &'a self,
        dir: &'a str,
    ) -> Box<dyn Iterator<Item = (&'a str, &'a CtxEntry)> + 'a> {
        if dir.is_empty() {
            return Box::new(self.entries.iter().map(|(k, v)| (k.as_str(), v)));
        }
        // Keys below `dir/` are contiguous in the sorted map.
        let prefix = format!("{dir}/");
        Box::new(
            self.entries
                .range(prefix.clone()..)
                .map_while(move |(k, v)| k.strip_prefix(prefix.as_str()).map(|r| (r, v))),
        )
    }

    /// A checksum over the named paths and everything under them: the cache
    /// key component of COPY sources. It covers every name, mode, kind,
    /// symlink target and file content hash, each field length-prefixed.
    pub fn checksum(&self, paths: &[String]) -> Digest {
        fn field(h: &mut Sha256, b: &[u8]) {
            h.update((b.len() as u64).to_le_bytes());
            h.update(b);
        }
        let mut h = Sha256::new();
        h.update(b"imagelab context checksum 2\0");
        for p in paths {
            for (k, v) in self.under(p).chain(self.entries.get(p).map(|e| ("", e))) {
                field(&mut h, p.as_bytes());
                field(&mut h, k.as_bytes());
                h.update(v.mode.to_le_bytes());
                match &v.kind {
                    CtxKind::File(_, hash) => {
                        h.update(b"f");
                        h.update(hash);
                    }
                    CtxKind::Dir => h.update(b"d"),
                    CtxKind::Symlink(t) => {
                        h.update(b"l");
                        field(&mut h, t.as_bytes());
                    }
                }
            }
        }
        Digest::parse(&format!("sha256:{}", hex::encode(h.finalize()))).expect("hex digest")
    }
}

/// A file whose last change (mtime or ctime) is not at least this much older
/// than the start of the load is hashed but not recorded: a write in the
/// same timestamp tick as the stat (up to 2 s on coarse file systems) would
/// otherwise go unseen next time.
const RACY_WINDOW: Duration = Duration::from_secs(2);

/// The context checksum cache of one context folder: for each file (path
/// relative to the folder) the stat stamp it had and the hash of its bytes.
/// A file is trusted only when its stamp (device, inode, size, mtime and
/// ctime to the nanosecond) is unchanged, and only stamps that were older
/// than the racy window when hashed are recorded.
///
/// Stored as bytes owned by the builder (`encode`/`decode`): a header naming
/// the format and the canonical folder, the records, and a sha256 over all
/// of it. Anything that does not decode exactly, or names another folder,
/// is an empty cache: a damaged file only costs re-reading the context.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Checksums {
    /// The canonical path of the context folder.
    folder: String,
    files: HashMap<String, (FileStamp, ContentHash)>,
}

const MAGIC: &[u8] = b"imagelab context checksums 1\n";

impl Checksums {
    /// The canonical form of a context folder (what a cache is made for).
    pub fn folder_of(root: &Path) -> Option<String> {
        fs::canonicalize(root)
            .ok()
            .and_then(|p| p.to_str().map(String::from))
    }

    /// The name the store keeps this folder's cache under.
    pub fn key(folder: &str) -> Digest {
        Digest::of(folder.as_bytes())
    }

    pub fn folder(&self) -> &str {
        &self.folder
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.files.len() * 128);
        out.extend_from_slice(MAGIC);
        put_bytes(&mut out, self.folder.as_bytes());
        out.extend_from_slice(&(self.files.len() as u64).to_le_bytes());
        let mut paths: Vec<&String> = self.files.keys().collect();
        paths.sort();
        for p in paths {
            let (s, hash) = &self.files[p];
            put_bytes(&mut out, p.as_bytes());
            for n in [s.dev, s.ino, s.size] {
                out.extend_from_slice(&n.to_le_bytes());
            }
            for n in [s.mtime, s.mtime_nsec, s.ctime, s.ctime_nsec] {
                out.extend_from_slice(&n.to_le_bytes());
            }
            out.extend_from_slice(hash);
        }
        let sum = Sha256::digest(&out);
        out.extend_from_slice(&sum);
        out
    }

    /// Decodes a cache made for `folder`; anything else is an empty cache.
    pub fn decode(bytes: &[u8], folder: &str) -> Checksums {
        Checksums::try_decode(bytes)
            .filter(|c| c.folder == folder)
            .unwrap_or_default()
    }

    fn try_decode(bytes: &[u8]) -> Option<Checksums> {
        let body_len = bytes.len().checked_sub(32)?;
        let (body, sum) = bytes.split_at(body_len);
        if Sha256::digest(body).as_slice() != sum {
            return None;
        }
        let mut r = Reader(body.strip_prefix(MAGIC)?);
        let folder = String::from_utf8(r.bytes()?.to_vec()).ok()?;
        let n = r.u64()?;
        // Each record takes at least 96 bytes: bound the allocation.
        if n > (r.0.len() / 96) as u64 {
            return None;
        }
        let mut files = HashMap::with_capacity(n as usize);
        for _ in 0..n {
            let path = String::from_utf8(r.bytes()?.to_vec()).ok()?;
            let stamp = FileStamp {
                dev: r.u64()?,
                ino: r.u64()?,
                size: r.u64()?,
                mtime: r.u64()? as i64,
                mtime_nsec: r.u64()? as i64,
                ctime: r.u64()? as i64,
                ctime_nsec: r.u64()? as i64,
            };
            let hash: ContentHash = r.take(32)?.try_into().ok()?;
            files.insert(path, (stamp, hash));
        }
        r.0.is_empty().then_some(Checksums { folder, files })
    }
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u64).to_le_bytes());
    out.extend_from_slice(b);
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.u64()?).ok()?;
        self.take(n)
    }
}

/// The state of one load's walk.
struct Walk<'a> {
    matcher: &'a Matcher,
    known: &'a HashMap<String, (FileStamp, ContentHash)>,
    /// Nanoseconds since the epoch; see `RACY_WINDOW`.
    trust_before: i128,
    /// What the cache should hold after this load.
    seen: HashMap<String, (FileStamp, ContentHash)>,
    /// How many files `known` vouched for.
    hits: usize,
    /// The read buffer, reused for every file.
    buf: Vec<u8>,
}

impl Walk<'_> {
    /// fsutil's filtered walk: each entry is matched with its directory's
    /// results; an excluded directory is entered only when an exception could
    /// re-include something below it (an unreadable one is then skipped), and
    /// is sent only as the parent of what was re-included.
    fn dir(
        &mut self,
        dir: &Path,
        rel: &str,
        parent: &MatchInfo,
        excluded: bool,
        ctx: &mut Context,
    ) -> Result<(), ContextError> {
        let read = fs::read_dir(dir).and_then(|d| d.collect::<io::Result<Vec<_>>>());
        let mut names = match read {
            Err(e) if excluded && e.kind() == io::ErrorKind::PermissionDenied => return Ok(()),
            r => r?,
        };
        names.sort_by_key(|e| e.file_name());
        for e in names {
            let name = e.file_name().to_string_lossy().to_string();
            let path = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            // lstat relative to the open directory (no symlink followed).
            let meta = e.metadata()?;
            let (excluded, info) = self.matcher.excludes_in(&path, parent)?;
            if meta.is_dir() {
                let before = ctx.entries.len();
                if !excluded || self.matcher.walks_excluded_dir(&path) {
                    self.dir(&e.path(), &path, &info, excluded, ctx)?;
                }
                if !excluded || ctx.entries.len() > before {
                    let mode = meta.permissions().mode() & 0o7777;
                    ctx.entries.insert(
                        path.clone(),
                        CtxEntry {
                            kind: CtxKind::Dir,
                            mode,
                        },
                    );
                }
                continue;
            }
            if excluded {
                continue;
            }
            let mode = meta.permissions().mode() & 0o7777;
            let kind = if meta.file_type().is_symlink() {
                CtxKind::Symlink(fs::read_link(e.path())?.to_string_lossy().to_string())
            } else if meta.is_file() {
                let (content, hash) = self.file(e.path(), &path, &meta)?;
                ctx.transferred += content.len();
                CtxKind::File(content, hash)
            } else {
                continue; // sockets, fifos and devices are not sent
            };
            ctx.entries.insert(path, CtxEntry { kind, mode });
        }
        Ok(())
    }

    /// A regular file's content (left on disk) and hash: from the cache
    /// when its stamp is the recorded one, else by reading it once.
    fn file(
        &mut self,
        abs: PathBuf,
        rel: &str,
        meta: &fs::Metadata,
    ) -> io::Result<(Content, ContentHash)> {
        let meta_stamp = FileStamp::of(meta);
        if let Some((s, hash)) = self.known.get(rel)
            && *s == meta_stamp
        {
            self.hits += 1;
            self.seen.insert(rel.to_string(), (meta_stamp, *hash));
            let hf = HostFile {
                path: abs,
                stamp: meta_stamp,
                sha256: *hash,
            };
            return Ok((Content::File(Arc::new(hf)), *hash));
        }
        let mut f = fs::File::open(&abs)?;
        // The stamp of what is read (the open file), not of the name; and
        // the same file the walk saw (not a symlink swapped in since).
        let stamp = FileStamp::of(&f.metadata()?);
        if (stamp.dev, stamp.ino) != (meta_stamp.dev, meta_stamp.ino) {
            return Err(io::Error::other(format!(
                "{}: file changed while the build was reading it",
                abs.display()
            )));
        }
        let mut h = Sha256::new();
        self.buf.resize(256 * 1024, 0);
        loop {
            let n = match f.read(&mut self.buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            h.update(&self.buf[..n]);
        }
        let hash: ContentHash = h.finalize().into();
        let hf = HostFile {
            path: abs,
            stamp,
            sha256: hash,
        };
        // The bytes just hashed are the ones the stamp describes, unless the
        // file changed meanwhile.
        hf.check(&f)?;
        let changed = (stamp.mtime as i128 * 1_000_000_000 + stamp.mtime_nsec as i128)
            .max(stamp.ctime as i128 * 1_000_000_000 + stamp.ctime_nsec as i128);
        if changed < self.trust_before {
            self.seen.insert(rel.to_string(), (stamp, hash));
        }
        Ok((Content::File(Arc::new(hf)), hash))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Checksums {
        let mut files = HashMap::new();
        let stamp = FileStamp {
            dev: 1,
            ino: 2,
            size: 3,
            mtime: 4,
            mtime_nsec: 5,
            ctime: 6,
            ctime_nsec: 7,
        };
        files.insert("a/b".to_string(), (stamp, [9u8; 32]));
        files.insert("c".to_string(), (FileStamp::default(), [1u8; 32]));
        Checksums {
            folder: "/ctx".into(),
            files,
        }
    }

    fn file_hash(ctx: &Context, path: &str) -> ContentHash {
        match &ctx.entries[path].kind {
            CtxKind::File(_, h) => *h,
            k => panic!("{path} is {k:?}"),
        }
    }

    fn later() -> SystemTime {
        SystemTime::now() + Duration::from_secs(60)
    }

    #[test]
    fn unchanged_files_come_from_the_cache_and_changed_ones_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir(root.join("d")).unwrap();
        fs::write(root.join("d/a"), "aaaa").unwrap();
        fs::write(root.join("b"), "bbbb").unwrap();
        std::os::unix::fs::symlink("d/a", root.join("l")).unwrap();
        let first = Context::load_at(root, None, &Checksums::default(), later()).unwrap();
        let cache = first.checksums.clone().expect("a new cache");
        assert_eq!(cache.len(), 2);
        let all = vec![String::new()];

        // Nothing changed: every file is vouched for, the cache stays as is.
        let again = Context::load_at(root, None, &cache, later()).unwrap();
        assert!(again.checksums.is_none());
        assert_eq!(again.checksum(&all), first.checksum(&all));
        assert_eq!(again.transferred, 8);

        // Same size, same mtime, new bytes: the ctime gives it away (once
        // the coarse timestamp clock has ticked: that is the racy window).
        std::thread::sleep(Duration::from_millis(30));
        let mtime = fs::metadata(root.join("b")).unwrap().modified().unwrap();
        fs::write(root.join("b"), "BBBB").unwrap();
        fs::File::options()
            .write(true)
            .open(root.join("b"))
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        let changed = Context::load_at(root, None, &cache, later()).unwrap();
        assert_ne!(file_hash(&changed, "b"), file_hash(&first, "b"));
        assert_eq!(file_hash(&changed, "d/a"), file_hash(&first, "d/a"));
        assert_ne!(changed.checksum(&all), first.checksum(&all));
        assert!(changed.checksums.is_some());

        // A mode change changes the checksum, not the content hash.
        fs::set_permissions(root.join("d/a"), fs::Permissions::from_mode(0o600)).unwrap();
        let chmod = Context::load_at(root, None, &cache, later()).unwrap();
        assert_eq!(file_hash(&chmod, "d/a"), file_hash(&first, "d/a"));
        assert_ne!(chmod.checksum(&["d".into()]), first.checksum(&["d".into()]));
    }

    #[test]
    fn files_changed_within_the_racy_window_are_not_recorded() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("new"), "fresh").unwrap();
        let ctx = Context::load(dir.path(), None).unwrap();
        assert!(ctx.checksums.is_none(), "{:?}", ctx.checksums);
        assert!(matches!(ctx.entries["new"].kind, CtxKind::File(..)));
    }

    #[test]
    fn a_cache_for_another_folder_is_not_used() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        fs::write(a.path().join("f"), "one").unwrap();
        fs::write(b.path().join("f"), "two").unwrap();
        let ca = Context::load_at(a.path(), None, &Checksums::default(), later()).unwrap();
        let cache_a = ca.checksums.clone().unwrap();
        let cb = Context::load_at(b.path(), None, &cache_a, later()).unwrap();
        assert_ne!(file_hash(&cb, "f"), file_hash(&ca, "f"));
        assert_eq!(
            cb.checksums.unwrap().folder(),
            Checksums::folder_of(b.path()).unwrap()
        );
    }

    #[test]
    fn a_file_changed_after_loading_is_not_read_into_a_layer() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("f"), "before").unwrap();
        let ctx = Context::load(dir.path(), None).unwrap();
        let CtxKind::File(content, _) = &ctx.entries["f"].kind else {
            panic!("not a file");
        };
        assert_eq!(content.to_vec().unwrap(), b"before");
        fs::write(dir.path().join("f"), "after, and longer").unwrap();
        let err = content.to_vec().unwrap_err();
        assert!(err.to_string().contains("file changed"), "{err}");
    }

    #[test]
    fn checksums_round_trip_for_their_folder_only() {
        let c = sample();
        let bytes = c.encode();
        assert_eq!(Checksums::decode(&bytes, "/ctx"), c);
        assert!(Checksums::decode(&bytes, "/other").is_empty());
    }

    #[test]
    fn damaged_checksums_are_an_empty_cache() {
        let bytes = sample().encode();
        for i in [0, MAGIC.len() + 3, bytes.len() / 2, bytes.len() - 1] {
            let mut b = bytes.clone();
            b[i] ^= 1;
            assert!(Checksums::decode(&b, "/ctx").is_empty(), "flipped byte {i}");
        }
        for n in [0, 10, bytes.len() - 1] {
            assert!(Checksums::decode(&bytes[..n], "/ctx").is_empty());
        }
        assert!(Checksums::decode(b"", "/ctx").is_empty());
    }
}
