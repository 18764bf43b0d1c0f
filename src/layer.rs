//! Layers as file-system changesets: the `Entry` model every producer of layer
//! content uses (base-image recipes, the builder, later the userland), and the
//! deterministic tar writer that turns a changeset into real layer bytes.
//!
//! Determinism rules (what makes two fresh homes agree on every digest):
//! entries are written sorted by path, parents before children; mtimes, uids,
//! gids and modes come from the entry, never from the host; user and group
//! names are left empty; ustar headers (GNU long-name extension when needed).

use crate::digest::{Digest, HashingWriter};
use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::Arc;

/// Fixed mtime for files that have no meaningful time of their own
/// (2024-01-01T00:00:00Z). Builder-created entries use the image's clock.
pub const DEFAULT_MTIME: u64 = 1_704_067_200;

/// Where a regular file's bytes come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Content {
    /// Bytes held in memory.
    Bytes(Arc<[u8]>),
    /// `len` deterministic pseudo-random bytes from `seed` (base-image bulk such
    /// as shared libraries and interpreters: regenerated identically on demand).
    Filler { seed: u64, len: u64 },
    /// A file of the host (a build-context file), read when the bytes are
    /// needed instead of being held in memory. Two values are equal when
    /// they name the same file as seen at the same moment.
    File(Arc<HostFile>),
}

/// A regular file on the host as it was seen (`stamp`) when its content was
/// hashed. Reading it checks that it still looks the same, before and after
/// the bytes are read, so a layer never holds other bytes than the ones the
/// build step's cache key was computed from (short of a change that keeps
/// size, inode and both times, which no stat-based check can see).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostFile {
    pub path: PathBuf,
    pub stamp: FileStamp,
    /// The sha256 of the bytes, as hashed when the file was seen: lets the
    /// store find the same bytes in a layer it already holds.
    pub sha256: [u8; 32],
}

/// What `stat` says about a file's identity and last change.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FileStamp {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime: i64,
    pub mtime_nsec: i64,
    pub ctime: i64,
    pub ctime_nsec: i64,
}

impl FileStamp {
    pub fn of(m: &fs::Metadata) -> FileStamp {
        FileStamp {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime: m.mtime(),
            mtime_nsec: m.mtime_nsec(),
            ctime: m.ctime(),
            ctime_nsec: m.ctime_nsec(),
        }
    }
}

impl HostFile {
    /// Opens the file, checking that it is still the one that was seen.
    pub fn open(&self) -> io::Result<fs::File> {
        let f = fs::File::open(&self.path)?;
        self.check(&f)?;
        Ok(f)
    }

    /// Fails unless `f` still looks as it did when it was seen.
    pub fn check(&self, f: &fs::File) -> io::Result<()> {
        if FileStamp::of(&f.metadata()?) == self.stamp {
            Ok(())
        } else {
            Err(self.changed())
        }
    }

    fn changed(&self) -> io::Error {
        io::Error::other(format!(
            "{}: file changed while the build was reading it",
            self.path.display()
        ))
    }
}

impl Content {
    pub fn bytes(b: impl Into<Vec<u8>>) -> Content {
        Content::Bytes(Arc::from(b.into().into_boxed_slice()))
    }

    pub fn len(&self) -> u64 {
        match self {
            Content::Bytes(b) => b.len() as u64,
            Content::Filler { len, .. } => *len,
            Content::File(f) => f.stamp.size,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Streams the content into `w`.
    pub fn write_to(&self, w: &mut dyn Write) -> io::Result<()> {
        match self {
            Content::Bytes(b) => w.write_all(b),
            Content::Filler { seed, len } => {
                let mut start = 0;
                while start < *len {
                    let n = FILLER_WINDOW.min(len - start);
                    write_filler(window_seed(*seed, start / FILLER_WINDOW), n, w)?;
                    start += n;
                }
                Ok(())
            }
            Content::File(_) => {
                io::copy(&mut ContentReader::new(self), w)?;
                Ok(())
            }
        }
    }

    /// The whole content in memory (only for small files). Fails only for a
    /// host file that cannot be read or has changed since it was seen.
    pub fn to_vec(&self) -> io::Result<Vec<u8>> {
        let mut v = Vec::with_capacity(self.len() as usize);
        self.write_to(&mut v)?;
        Ok(v)
    }
}

/// A stable 64-bit seed from a string (FNV-1a), for `Content::Filler`.
pub fn seed_of(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn write_filler(seed: u64, len: u64, w: &mut dyn Write) -> io::Result<()> {
    // splitmix64: fast, deterministic, platform independent. Half of every
    // 8-byte word is kept low-entropy so the bytes compress roughly like
    // real binaries do (about 2:1) once gzip is applied at push time.
    let mut state = seed;
    let mut buf = vec![0u8; 64 * 1024];
    let mut left = len;
    while left > 0 {
        let n = left.min(buf.len() as u64) as usize;
        for chunk in buf[..n].chunks_mut(8) {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            let word = z & 0x0000_0000_ffff_ffff;
            let bytes = word.to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        w.write_all(&buf[..n])?;
        left -= n as u64;
    }
    Ok(())
}

/// What an entry is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    File(Content),
    Dir,
    Symlink(String),
    /// A hard link to another path in the same layer (no leading slash).
    Hardlink(String),
    /// An AUFS/OCI whiteout: `path` was deleted by this layer.
    Whiteout,
    /// An opaque directory marker: `path`'s lower contents are hidden.
    Opaque,
}

/// One change in a layer. `path` is relative to the root: no leading `/`, no
/// trailing `/`, no `.` or `..` components.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub kind: Kind,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub mtime: u64,
}

impl Entry {
    pub fn file(path: &str, content: Content, mode: u32) -> Entry {
        Entry::new(path, Kind::File(content), mode)
    }
    pub fn dir(path: &str, mode: u32) -> Entry {
        Entry::new(path, Kind::Dir, mode)
    }
    pub fn symlink(path: &str, target: &str) -> Entry {
        Entry::new(path, Kind::Symlink(target.to_string()), 0o777)
    }
    pub fn new(path: &str, kind: Kind, mode: u32) -> Entry {
        Entry {
            path: clean_path(path),
            kind,
            mode,
            uid: 0,
            gid: 0,
            mtime: DEFAULT_MTIME,
        }
    }
    pub fn owned(mut self, uid: u32, gid: u32) -> Entry {
        self.uid = uid;
        self.gid = gid;
        self
    }
    pub fn at(mut self, mtime: u64) -> Entry {
        self.mtime = mtime;
        self
    }
    /// Size of the file's content (0 for everything else).
    pub fn size(&self) -> u64 {
        match &self.kind {
            Kind::File(c) => c.len(),
            _ => 0,
        }
    }
}

/// Normalises a path to the entry form: relative, `/`-separated, without
/// empty, `.` components; `..` is dropped at the root (it can never climb out).
pub fn clean_path(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    parts.join("/")
}

/// Sorts a changeset into tar order and removes duplicate paths (last wins).
/// Missing parent directories are NOT invented: producers add them. An
/// entry for the root (empty path) is dropped.
pub fn normalize(entries: Vec<Entry>) -> Vec<Entry> {
    let mut map: BTreeMap<String, Entry> = BTreeMap::new();
    // The root itself is never an entry.
    for e in entries.into_iter().filter(|e| !e.path.is_empty()) {
        map.insert(tar_sort_key(&e), e);
    }
    map.into_values().collect()
}

// Sort so that a directory comes right before its contents: compare path
// components, not raw strings ("a/b" before "a.b" when "a" is a directory).
fn tar_sort_key(e: &Entry) -> String {
    e.path.replace('/', "\u{0}")
}

/// Size and digest of a written layer tar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerInfo {
    pub diff_id: Digest,
    pub size: u64,
}

/// Writes `entries` (already normalized) as a tar stream to `w`, hashing as it
/// goes. Returns the diff_id and byte count.
pub fn write_tar<W: Write>(entries: &[Entry], w: W) -> io::Result<(LayerInfo, W)> {
    let hw = HashingWriter::new(w);
    let mut builder = tar::Builder::new(hw);
    builder.follow_symlinks(false);
    for e in entries {
        append_entry(&mut builder, e)?;
    }
    let hw = builder.into_inner()?;
    let (diff_id, size, w) = hw.finish();
    Ok((LayerInfo { diff_id, size }, w))
}

/// The size docker reports for a layer (the graph driver's diff size): the
/// bytes of regular files plus the length of symlink targets; directories,
/// hard links and whiteouts count nothing.
pub fn content_size(entries: &[Entry]) -> u64 {
    entries
        .iter()
        .map(|e| match &e.kind {
            Kind::File(c) => c.len(),
            Kind::Symlink(t) => t.len() as u64,
            _ => 0,
        })
        .sum()
}

/// The exact size `write_tar` will produce, without producing it.
pub fn tar_size(entries: &[Entry]) -> u64 {
    entries
        .iter()
        .map(|e| headers_len(e) + round512(e.size()))
        .sum::<u64>()
        + 1024
}

/// Where each entry's data starts in the tar `write_tar` produces (just
/// after its header or headers), in entry order.
pub fn data_offsets(entries: &[Entry]) -> Vec<u64> {
    let mut at = 0;
    entries
        .iter()
        .map(|e| {
            at += headers_len(e);
            let start = at;
            at += round512(e.size());
            start
        })
        .collect()
}

/// The bytes `write_tar` writes for an entry before its data.
fn headers_len(e: &Entry) -> u64 {
    let mut n = 512;
    let name = tar_name(e);
    if name.len() > 100 {
        // GNU long name: one header plus the padded name
        n += 512 + round512(name.len() as u64 + 1);
    }
    if let Kind::Symlink(t) | Kind::Hardlink(t) = &e.kind
        && t.len() > 100
    {
        n += 512 + round512(t.len() as u64 + 1);
    }
    n
}

fn round512(n: u64) -> u64 {
    n.div_ceil(512) * 512
}

fn tar_name(e: &Entry) -> String {
    match e.kind {
        Kind::Dir | Kind::Opaque => {
            if matches!(e.kind, Kind::Opaque) {
                format!("{}/.wh..wh..opq", e.path)
            } else {
                format!("{}/", e.path)
            }
        }
        Kind::Whiteout => match e.path.rsplit_once('/') {
            Some((dir, base)) => format!("{dir}/.wh.{base}"),
            None => format!(".wh.{}", e.path),
        },
        _ => e.path.clone(),
    }
}

fn append_entry<W: Write>(b: &mut tar::Builder<W>, e: &Entry) -> io::Result<()> {
    let mut h = tar::Header::new_gnu();
    h.set_mtime(e.mtime);
    h.set_uid(e.uid as u64);
    h.set_gid(e.gid as u64);
    h.set_mode(e.mode & 0o7777);
    let name = tar_name(e);
    match &e.kind {
        Kind::File(c) => {
            h.set_entry_type(tar::EntryType::Regular);
            h.set_size(c.len());
            let reader = ContentReader::new(c);
            b.append_data(&mut h, &name, reader)
        }
        Kind::Dir => {
            h.set_entry_type(tar::EntryType::Directory);
            h.set_size(0);
            b.append_data(&mut h, &name, io::empty())
        }
        Kind::Symlink(t) => {
            h.set_entry_type(tar::EntryType::Symlink);
            append_link_literal(b, h, &name, t)
        }
        Kind::Hardlink(t) => {
            h.set_entry_type(tar::EntryType::Link);
            append_link_literal(b, h, &name, t)
        }
        Kind::Whiteout | Kind::Opaque => {
            h.set_entry_type(tar::EntryType::Regular);
            h.set_mode(0);
            h.set_size(0);
            b.append_data(&mut h, &name, io::empty())
        }
    }
}

/// Appends a link entry keeping its target byte for byte (the tar crate's
/// `append_link` normalises targets such as `./.`; docker keeps them as
/// written). Long targets use the GNU `././@LongLink` extension.
fn append_link_literal<W: Write>(
    b: &mut tar::Builder<W>,
    mut h: tar::Header,
    name: &str,
    target: &str,
) -> io::Result<()> {
    h.set_size(0);
    if target.len() > 100 {
        let mut ext = tar::Header::new_gnu();
        ext.set_entry_type(tar::EntryType::GNULongLink);
        ext.set_mode(0o644);
        ext.set_mtime(0);
        let data = format!("{target}\0");
        ext.set_size(data.len() as u64);
        b.append_data(&mut ext, "././@LongLink", data.as_bytes())?;
        h.set_link_name_literal(&target.as_bytes()[..100])?;
    } else {
        h.set_link_name_literal(target)?;
    }
    b.append_data(&mut h, name, io::empty())
}

/// Streams a `Content` as a reader without holding filler or host-file
/// content in memory.
struct ContentReader<'a> {
    content: &'a Content,
    pos: u64,
    buf: Vec<u8>,
    buf_start: u64,
    /// The open host file (`Content::File`), opened on the first read.
    file: Option<fs::File>,
}

impl<'a> ContentReader<'a> {
    fn new(content: &'a Content) -> Self {
        ContentReader {
            content,
            pos: 0,
            buf: Vec::new(),
            buf_start: 0,
            file: None,
        }
    }
}

impl Read for ContentReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        match self.content {
            Content::Bytes(b) => {
                let start = self.pos as usize;
                let n = out.len().min(b.len() - start);
                out[..n].copy_from_slice(&b[start..start + n]);
                self.pos += n as u64;
                Ok(n)
            }
            Content::Filler { seed, len } => {
                if self.pos >= *len {
                    return Ok(0);
                }
                if self.pos >= self.buf_start + self.buf.len() as u64 {
                    // Filler is generated in whole 64 KiB windows; regenerate
                    // the stream up to the window (seeded per window for O(1)).
                    let window = self.pos / FILLER_WINDOW;
                    let start = window * FILLER_WINDOW;
                    let n = FILLER_WINDOW.min(len - start);
                    self.buf.clear();
                    write_filler(window_seed(*seed, window), n, &mut self.buf)?;
                    self.buf_start = start;
                }
                let off = (self.pos - self.buf_start) as usize;
                let n = out.len().min(self.buf.len() - off);
                out[..n].copy_from_slice(&self.buf[off..off + n]);
                self.pos += n as u64;
                Ok(n)
            }
            Content::File(hf) => {
                let len = hf.stamp.size;
                if self.file.is_none() {
                    self.file = Some(hf.open()?);
                }
                let f = self.file.as_mut().expect("opened");
                if self.pos >= len {
                    // At the end: the file must still be the one that was
                    // seen (a write while it was being read shows here).
                    hf.check(f)?;
                    return Ok(0);
                }
                let want = out.len().min((len - self.pos) as usize);
                let n = f.read(&mut out[..want])?;
                if n == 0 && want > 0 {
                    return Err(hf.changed());
                }
                self.pos += n as u64;
                Ok(n)
            }
        }
    }
}

const FILLER_WINDOW: u64 = 1024 * 1024;

// Filler is generated in independent 1 MiB windows so any window can be
// produced without the ones before it.
fn window_seed(seed: u64, window: u64) -> u64 {
    seed.wrapping_add(window.wrapping_mul(0x9e37_79b9))
}

/// One entry as read back from a layer tar: the index kept beside each layer
/// so that file-system views never need the layer bytes.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IndexEntry {
    pub path: String,
    /// `f` file, `d` dir, `l` symlink, `h` hardlink, `w` whiteout, `o` opaque
    pub t: char,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

impl IndexEntry {
    pub fn of(e: &Entry) -> IndexEntry {
        let (t, link) = match &e.kind {
            Kind::File(_) => ('f', None),
            Kind::Dir => ('d', None),
            Kind::Symlink(l) => ('l', Some(l.clone())),
            Kind::Hardlink(l) => ('h', Some(l.clone())),
            Kind::Whiteout => ('w', None),
            Kind::Opaque => ('o', None),
        };
        IndexEntry {
            path: e.path.clone(),
            t,
            mode: e.mode,
            uid: e.uid,
            gid: e.gid,
            size: e.size(),
            link,
        }
    }
}

/// Reads a layer tar back into entries with their bytes (for small layers and
/// for verification), mapping whiteout names back to `Kind::Whiteout`.
pub fn read_tar<R: Read>(r: R) -> io::Result<Vec<Entry>> {
    let mut ar = tar::Archive::new(r);
    let mut out = Vec::new();
    for ent in ar.entries()? {
        let mut ent = ent?;
        let raw = String::from_utf8_lossy(&ent.path_bytes()).to_string();
        let path = clean_path(&raw);
        let h = ent.header();
        // An empty numeric field reads as 0, as Go's archive/tar reads it.
        let mode = h.mode().unwrap_or(0);
        let uid = h.uid().unwrap_or(0) as u32;
        let gid = h.gid().unwrap_or(0) as u32;
        let mtime = h.mtime().unwrap_or(0);
        let et = h.entry_type();
        let link = ent
            .link_name_bytes()
            .map(|l| String::from_utf8_lossy(&l).to_string());
        let base = path.rsplit('/').next().unwrap_or("");
        let (path, kind) = if base == ".wh..wh..opq" {
            (parent_of(&path).to_string(), Kind::Opaque)
        } else if let Some(name) = base.strip_prefix(".wh.") {
            let p = match parent_of(&path) {
                "" => name.to_string(),
                d => format!("{d}/{name}"),
            };
            (p, Kind::Whiteout)
        } else if et.is_dir() {
            (path, Kind::Dir)
        } else if et.is_symlink() {
            (path, Kind::Symlink(link.unwrap_or_default()))
        } else if et.is_hard_link() {
            (path, Kind::Hardlink(clean_path(&link.unwrap_or_default())))
        } else {
            let mut v = Vec::new();
            ent.read_to_end(&mut v)?;
            (path, Kind::File(Content::bytes(v)))
        };
        out.push(Entry {
            path,
            kind,
            mode,
            uid,
            gid,
            mtime,
        });
    }
    Ok(out)
}

/// Why a layer tar was refused by [`index_tar`].
#[derive(Debug, thiserror::Error)]
pub enum LayerTarError {
    #[error("layer entry {entry:?}: path climbs out of the layer root")]
    PathEscapes { entry: String },
    #[error("layer entry {entry:?}: hard link target {target:?} climbs out of the layer root")]
    HardlinkEscapes { entry: String, target: String },
    #[error("not a layer tar: {0}")]
    Corrupt(#[from] io::Error),
}

/// `p` as an entry path, or None when a `..` climbs above the root (a
/// leading `/` only means the root, as in docker's layer applier).
pub fn confined_path(p: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(parts.join("/"))
}

/// Reads a layer tar's headers (data is skipped by seeking) into the entry
/// index kept beside a stored layer, refusing entries that would land
/// outside the root when applied: a path or a hard-link target whose `..`
/// climbs above it (moby's `is outside of` and `invalid hardlink` checks).
/// Symlink targets are file-system content and kept verbatim: the
/// userland resolves them inside the image's root. Returns the index and
/// the layer's content size (as `content_size`).
pub fn index_tar<R: Read + io::Seek>(r: R) -> Result<(Vec<IndexEntry>, u64), LayerTarError> {
    let mut ar = tar::Archive::new(r);
    let mut out = Vec::new();
    let mut size = 0u64;
    for ent in ar.entries_with_seek()? {
        let ent = ent?;
        let raw = String::from_utf8_lossy(&ent.path_bytes()).to_string();
        let path = confined_path(&raw).ok_or(LayerTarError::PathEscapes { entry: raw.clone() })?;
        let h = ent.header();
        let et = h.entry_type();
        let link = ent
            .link_name_bytes()
            .map(|l| String::from_utf8_lossy(&l).to_string());
        let base = path.rsplit('/').next().unwrap_or("");
        let (path, t, link, len) = if base == ".wh..wh..opq" {
            (parent_of(&path).to_string(), 'o', None, 0)
        } else if let Some(name) = base.strip_prefix(".wh.") {
            let p = match parent_of(&path) {
                "" => name.to_string(),
                d => format!("{d}/{name}"),
            };
            (p, 'w', None, 0)
        } else if et.is_dir() {
            (path, 'd', None, 0)
        } else if et.is_symlink() {
            let l = link.unwrap_or_default();
            size += l.len() as u64;
            (path, 'l', Some(l), 0)
        } else if et.is_hard_link() {
            let target = link.unwrap_or_default();
            let l = confined_path(&target).ok_or(LayerTarError::HardlinkEscapes {
                entry: raw.clone(),
                target: target.clone(),
            })?;
            (path, 'h', Some(l), 0)
        } else {
            let n = ent.size();
            size += n;
            (path, 'f', None, n)
        };
        if path.is_empty() && t == 'd' {
            continue;
        }
        out.push(IndexEntry {
            path,
            t,
            mode: h.mode().unwrap_or(0),
            uid: h.uid().unwrap_or(0) as u32,
            gid: h.gid().unwrap_or(0) as u32,
            size: len,
            link,
        });
    }
    Ok((out, size))
}

fn parent_of(p: &str) -> &str {
    p.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Entry> {
        normalize(vec![
            Entry::file("app/index.html", Content::bytes("hi\n"), 0o644),
            Entry::dir("app", 0o755),
            Entry::symlink("app/link", "index.html"),
            Entry::file(
                "big",
                Content::Filler {
                    seed: 7,
                    len: 3 * 1024 * 1024 + 5,
                },
                0o755,
            ),
            Entry::new("etc/gone", Kind::Whiteout, 0),
            Entry::file(
                &format!("deep/{}", "x".repeat(120)),
                Content::bytes("y"),
                0o600,
            ),
        ])
    }

    #[test]
    fn tar_size_predicts_written_size() {
        let e = sample();
        let (info, bytes) = write_tar(&e, Vec::new()).unwrap();
        assert_eq!(info.size, bytes.len() as u64);
        assert_eq!(tar_size(&e), info.size);
        for (e, at) in e.iter().zip(data_offsets(&e)) {
            if let Kind::File(c) = &e.kind {
                let at = at as usize;
                let data = c.to_vec().unwrap();
                assert_eq!(&bytes[at..at + data.len()], &data[..], "{}", e.path);
            }
        }
    }

    #[test]
    fn same_entries_give_same_diff_id() {
        let (a, _) = write_tar(&sample(), Vec::new()).unwrap();
        let (b, _) = write_tar(&sample(), Vec::new()).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn round_trip_keeps_paths_kinds_and_owners() {
        let e = sample();
        let (_, bytes) = write_tar(&e, Vec::new()).unwrap();
        let back = read_tar(&bytes[..]).unwrap();
        let idx = |v: &[Entry]| v.iter().map(IndexEntry::of).collect::<Vec<_>>();
        assert_eq!(idx(&back), idx(&e));
        for (b, a) in back.iter().zip(&e) {
            if let (Kind::File(x), Kind::File(y)) = (&b.kind, &a.kind) {
                assert_eq!(x.to_vec().unwrap(), y.to_vec().unwrap(), "{}", a.path);
            }
        }
    }

    #[test]
    fn a_host_file_writes_the_same_layer_as_its_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let bytes: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        fs::write(&path, &bytes).unwrap();
        let stamp = FileStamp::of(&fs::metadata(&path).unwrap());
        let sha256 = Digest::of(&bytes).bytes();
        let host = Content::File(Arc::new(HostFile {
            path,
            stamp,
            sha256,
        }));
        assert_eq!(host.len(), bytes.len() as u64);
        let layer = |c: Content| write_tar(&[Entry::file("f", c, 0o644)], Vec::new()).unwrap();
        let (a, ta) = layer(host);
        let (b, tb) = layer(Content::bytes(bytes));
        assert_eq!(a, b);
        assert_eq!(ta, tb);
    }

    #[test]
    fn directories_sort_before_siblings_with_punctuation() {
        let e = normalize(vec![
            Entry::dir("a.b", 0o755),
            Entry::file("a/x", Content::bytes(""), 0o644),
            Entry::dir("a", 0o755),
        ]);
        let paths: Vec<_> = e.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["a", "a/x", "a.b"]);
    }

    #[test]
    fn clean_path_never_climbs_above_root() {
        assert_eq!(clean_path("/../../etc/passwd"), "etc/passwd");
        assert_eq!(clean_path("./a//b/./c/"), "a/b/c");
    }

    mod props {
        use super::super::*;
        use proptest::prelude::*;

        fn entry() -> impl Strategy<Value = Entry> {
            let path =
                proptest::collection::vec("[a-z0-9._-]{1,12}", 1..4).prop_map(|v| v.join("/"));
            let kind = prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..600)
                    .prop_map(|b| Kind::File(Content::bytes(b))),
                (any::<u64>(), 0u64..70_000)
                    .prop_map(|(seed, len)| Kind::File(Content::Filler { seed, len })),
                Just(Kind::Dir),
                "[a-z/.]{1,150}".prop_map(Kind::Symlink),
                Just(Kind::Whiteout),
            ];
            (
                path,
                kind,
                0u32..0o7777,
                0u32..70_000,
                0u32..70_000,
                0u64..4_000_000_000,
            )
                .prop_map(|(p, kind, mode, uid, gid, mtime)| Entry {
                    path: clean_path(&p),
                    kind,
                    mode,
                    uid,
                    gid,
                    mtime,
                })
                .prop_filter("whiteouts need a name that is not itself a whiteout", |e| {
                    !e.path.contains(".wh.")
                })
        }

        proptest! {
            #[test]
            fn read_tar_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
                let _ = read_tar(&bytes[..]);
            }

            #[test]
            fn written_layers_read_back_and_sizes_are_predicted(entries in proptest::collection::vec(entry(), 0..12)) {
                let entries = normalize(entries);
                let (info, bytes) = write_tar(&entries, Vec::new()).unwrap();
                prop_assert_eq!(info.size, bytes.len() as u64);
                prop_assert_eq!(tar_size(&entries), info.size);
                for (e, at) in entries.iter().zip(data_offsets(&entries)) {
                    if let Kind::File(c) = &e.kind {
                        let at = at as usize;
                        prop_assert_eq!(&bytes[at..at + c.len() as usize], &c.to_vec().unwrap()[..]);
                    }
                }
                let back = read_tar(&bytes[..]).unwrap();
                let idx = |v: &[Entry]| v.iter().map(|e| {
                    let mut i = IndexEntry::of(e);
                    if matches!(e.kind, Kind::Whiteout) { i.mode = 0; }
                    i
                }).collect::<Vec<_>>();
                prop_assert_eq!(idx(&back), idx(&entries));
            }
        }
    }
}
