//! Local archives for Dockerfile `ADD`: recognising a tar archive (plain,
//! gzip, bzip2, xz or zstd) by its content, and reading it into the layer
//! `Entry` model as paths relative to the extraction root. Pure: no I/O apart
//! from reading the given bytes. Written by hand only around the crates that do
//! the real work (`tar`, `flate2`, `bzip2`, `lzma-rust2`, `ruzstd`): what is
//! ours is docker's rules and the refusal of hostile archives.
//!
//! Rules (moby `go-archive`/`pkg/archive` `Unpack` and BuildKit's
//! `solver/llbsolver/file/unpack*.go`):
//!
//! * An archive is recognised by magic bytes (bzip2 `BZh`, gzip `1f 8b 08`,
//!   xz `fd 37 7a 58 5a 00`, zstd `28 b5 2f fd` or a skippable frame), and
//!   only if the decompressed stream then yields a first tar header — as
//!   `IsArchivePath` does. Anything else (an empty tar included) is copied as
//!   a plain file by the caller.
//! * Names lose their leading `/` and are cleaned; a name whose `..` climbs
//!   above the root is an error (BuildKit: `archive path … is outside
//!   extraction root`; moby: `… is outside of …`); the root itself (`./`) is
//!   skipped. Names are read as UTF-8 (lossily), as `layer::read_tar` does.
//! * Missing parent directories are created with mode 0755, owned by root
//!   (moby's `ImpliedDirectoryMode`), with the caller's mtime.
//! * A later entry replaces an earlier one at the same path, except that a
//!   directory over a directory only updates its metadata; replacing a
//!   directory drops what was under it.
//! * Modes keep the permission and setuid/setgid/sticky bits; uid, gid and
//!   mtime come from the header (PAX records win).
//! * Character and block devices and FIFOs are skipped (a layer `Kind` has no
//!   such variant), as are PAX global headers.
//!
//! Hostile archives are refused with an error naming the entry:
//!
//! * a relative symlink target that climbs out of the extraction root (the
//!   `ADD` destination), resolved lexically from the link's own directory at
//!   every step (moby's `invalid symlink` check). Absolute targets are kept
//!   verbatim: they resolve inside the container's root, as in docker;
//! * a hard link whose target climbs out, names the root, is a directory, or
//!   is not an earlier entry of the archive;
//! * a path that goes through a symlink written earlier in the same archive
//!   (BuildKit would follow a link that stays inside; imagelab refuses every
//!   such path, which also stops the classic symlink-then-file escape), or
//!   through an earlier non-directory;
//! * names starting with `.wh.`, which a layer would read as whiteouts;
//! * decompression bombs: more entries than `Limits::max_entries` (implied
//!   directories count), more file bytes than `Limits::max_total` (checked
//!   from the header before any content is read), a tar stream longer than
//!   that plus 2 KiB per entry, or a compressed input that expands more than
//!   `Limits::max_ratio` times (past `Limits::ratio_floor`). Docker itself has
//!   no such limits;
//! * corrupt or truncated input (an error, never a panic).
//!
//! Hard links come back as `Kind::Hardlink(target)` with the target relative
//! to the same root as the paths (a caller that moves the entries under a
//! destination must move the targets too). A link whose target is later
//! replaced becomes a copy of the old content, as the inode it shared would be.

use crate::layer::{self, Content, Entry, Kind};
use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{self, Read};
use std::rc::Rc;

/// How an archive's tar stream is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Bzip2,
    Xz,
    Zstd,
}

impl Compression {
    /// The compression named by the magic bytes at the start of `bytes`
    /// (moby's `compression.Detect`), `None` when there are none.
    pub fn sniff(bytes: &[u8]) -> Compression {
        const SKIPPABLE_MASK: u32 = 0xFFFF_FFF0;
        const SKIPPABLE_START: u32 = 0x184D_2A50;
        if bytes.starts_with(b"BZh") {
            Compression::Bzip2
        } else if bytes.starts_with(&[0x1f, 0x8b, 0x08]) {
            Compression::Gzip
        } else if bytes.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
            Compression::Xz
        } else if bytes.starts_with(&[0x28, 0xb5, 0x2f, 0xfd])
            || (bytes.len() >= 8 && le32(bytes) & SKIPPABLE_MASK == SKIPPABLE_START)
        {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "uncompressed",
            Compression::Gzip => "gzip",
            Compression::Bzip2 => "bzip2",
            Compression::Xz => "xz",
            Compression::Zstd => "zstd",
        }
    }
}

fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// Bounds on what one archive may unpack to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Total bytes of regular-file content.
    pub max_total: u64,
    /// Entries, counting the parent directories that have to be implied.
    pub max_entries: usize,
    /// How many times its own size a compressed input may expand to ...
    pub max_ratio: u64,
    /// ... once more than this many bytes have been decompressed (so small
    /// archives of zeros stay fine).
    pub ratio_floor: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_total: 1 << 30,
            max_entries: 100_000,
            max_ratio: 200,
            ratio_floor: 4 << 20,
        }
    }
}

impl Limits {
    /// The most decompressed tar bytes allowed: the file content plus room
    /// for headers and long names.
    fn stream_cap(&self) -> u64 {
        self.max_total
            .saturating_add((self.max_entries as u64).saturating_mul(2048))
    }
}

/// Why an archive was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArchiveError {
    #[error("not a tar archive (plain, gzip, bzip2, xz or zstd)")]
    NotAnArchive,
    #[error("archive entry {entry:?}: path escapes the destination")]
    PathEscapes { entry: String },
    #[error("archive entry {entry:?}: symlink target {target:?} escapes the destination")]
    SymlinkEscapes { entry: String, target: String },
    #[error("archive entry {entry:?}: hard link target {target:?} escapes the destination")]
    HardlinkEscapes { entry: String, target: String },
    #[error(
        "archive entry {entry:?}: hard link target {target:?} is not an earlier file in the archive"
    )]
    HardlinkMissing { entry: String, target: String },
    #[error("archive entry {entry:?}: hard link target {target:?} is a directory")]
    HardlinkToDirectory { entry: String, target: String },
    #[error(
        "archive entry {entry:?}: path goes through {link:?}, a symlink written earlier in the archive"
    )]
    ThroughSymlink { entry: String, link: String },
    #[error("archive entry {entry:?}: {parent:?} is not a directory")]
    NotADirectory { entry: String, parent: String },
    #[error(
        "archive entry {entry:?}: names starting with \".wh.\" are reserved for layer whiteouts"
    )]
    WhiteoutName { entry: String },
    #[error("archive entry {entry:?}: unsupported entry type {kind}")]
    Unsupported { entry: String, kind: String },
    #[error("archive entry {entry:?}: {reason}")]
    Invalid { entry: String, reason: String },
    #[error("archive has more than {limit} entries (decompression bomb?)")]
    TooManyEntries { limit: usize },
    #[error(
        "archive entry {entry:?}: unpacked files exceed the limit of {} (decompression bomb?)",
        size(*.limit)
    )]
    TooLarge { entry: String, limit: u64 },
    #[error("archive unpacks to more than {} (decompression bomb?)", size(*.limit))]
    StreamTooLarge { limit: u64 },
    #[error(
        "archive expands to more than {ratio} times its compressed size of {} (decompression bomb?)",
        size(*.compressed)
    )]
    RatioExceeded { ratio: u64, compressed: u64 },
    #[error("archive is corrupt or truncated: {0}")]
    Corrupt(String),
    #[error("archive entry {entry:?}: corrupt or truncated: {message}")]
    CorruptEntry { entry: String, message: String },
}

/// `1 GiB`, `4 MiB`, `100 bytes`.
fn size(n: u64) -> String {
    for (unit, name) in [(1u64 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")] {
        if n >= unit && n.is_multiple_of(unit) {
            return format!("{} {name}", n / unit);
        }
    }
    format!("{n} bytes")
}

/// Most decompressed bytes `detect` reads to find the first header.
const DETECT_BUDGET: u64 = 1 << 20;
/// xz decoder memory limit in KiB (`xz -9` needs 65 MiB).
const XZ_MEM_LIMIT_KB: u32 = 256 * 1024;
/// Longest path accepted (Linux `PATH_MAX`).
const MAX_PATH: usize = 4096;

/// `Some(compression)` when `bytes` (decompressed) start with a tar header,
/// as docker's `IsArchivePath` decides whether `ADD` extracts a file.
pub fn detect(bytes: &[u8]) -> Option<Compression> {
    let c = Compression::sniff(bytes);
    let reader = decoder(c, bytes).ok()?.take(DETECT_BUDGET);
    let mut ar = tar::Archive::new(reader);
    let mut entries = ar.entries().ok()?;
    match entries.next() {
        Some(Ok(_)) => Some(c),
        _ => None,
    }
}

fn decoder<'a>(c: Compression, bytes: &'a [u8]) -> io::Result<Box<dyn Read + 'a>> {
    Ok(match c {
        Compression::None => Box::new(bytes),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(bytes)),
        Compression::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(bytes)),
        Compression::Xz => Box::new(lzma_rust2::XzReader::new_mem_limit(
            bytes,
            true,
            XZ_MEM_LIMIT_KB,
        )),
        Compression::Zstd => Box::new(ZstdFrames {
            rest: bytes,
            frame: None,
        }),
    })
}

/// All frames of a zstd stream, skippable frames skipped (ruzstd's decoder
/// reads one frame).
struct ZstdFrames<'a> {
    rest: &'a [u8],
    frame: Option<ruzstd::decoding::StreamingDecoder<&'a [u8], ruzstd::decoding::FrameDecoder>>,
}

impl Read for ZstdFrames<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if let Some(frame) = &mut self.frame {
                let n = frame.read(buf)?;
                if n > 0 {
                    return Ok(n);
                }
                let frame = self.frame.take().expect("frame present");
                let dec = &frame.decoder;
                if let (Some(want), Some(got)) =
                    (dec.get_checksum_from_data(), dec.get_calculated_checksum())
                    && want != got
                {
                    return Err(io::Error::other("zstd frame checksum mismatch"));
                }
                self.rest = frame.into_inner();
                continue;
            }
            if self.rest.is_empty() {
                return Ok(0);
            }
            if self.rest.len() >= 8 && le32(self.rest) & 0xFFFF_FFF0 == 0x184D_2A50 {
                let len = le32(&self.rest[4..]) as usize;
                if self.rest.len() - 8 < len {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "truncated zstd skippable frame",
                    ));
                }
                self.rest = &self.rest[8 + len..];
                continue;
            }
            let frame = ruzstd::decoding::StreamingDecoder::new(self.rest)
                .map_err(|e| io::Error::other(format!("zstd: {e}")))?;
            self.frame = Some(frame);
        }
    }
}

/// Which limit a `Guard` tripped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Trip {
    Stream,
    Ratio,
}

/// Counts decompressed bytes and fails the read once a limit is passed,
/// recording which one (the tar crate wraps the error text).
struct Guard<R> {
    inner: R,
    read: u64,
    stream_cap: u64,
    ratio_cap: Option<u64>,
    tripped: Rc<Cell<Option<Trip>>>,
}

impl<R: Read> Read for Guard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        let trip = if self.ratio_cap.is_some_and(|cap| self.read > cap) {
            Some(Trip::Ratio)
        } else if self.read > self.stream_cap {
            Some(Trip::Stream)
        } else {
            None
        };
        if let Some(t) = trip {
            self.tripped.set(Some(t));
            return Err(io::Error::other("archive limit exceeded"));
        }
        Ok(n)
    }
}

/// Reads the tar archive in `bytes` (compressed or not) into entries relative
/// to the extraction root, sorted parents first (`layer::normalize` order).
/// Directories the archive implies get mode 0755, uid/gid 0 and
/// `implied_mtime`.
pub fn extract(
    bytes: &[u8],
    limits: &Limits,
    implied_mtime: u64,
) -> Result<Vec<Entry>, ArchiveError> {
    let c = detect(bytes).ok_or(ArchiveError::NotAnArchive)?;
    let tripped = Rc::new(Cell::new(None));
    let compressed = bytes.len() as u64;
    let guard = Guard {
        inner: decoder(c, bytes).map_err(|e| ArchiveError::Corrupt(e.to_string()))?,
        read: 0,
        stream_cap: limits.stream_cap(),
        ratio_cap: (c != Compression::None).then(|| {
            compressed
                .saturating_mul(limits.max_ratio)
                .max(limits.ratio_floor)
        }),
        tripped: tripped.clone(),
    };
    let fail = |entry: Option<&str>, e: io::Error| -> ArchiveError {
        match tripped.get() {
            Some(Trip::Ratio) => ArchiveError::RatioExceeded {
                ratio: limits.max_ratio,
                compressed,
            },
            Some(Trip::Stream) => ArchiveError::StreamTooLarge {
                limit: limits.stream_cap(),
            },
            None => match entry {
                Some(entry) => ArchiveError::CorruptEntry {
                    entry: entry.to_string(),
                    message: e.to_string(),
                },
                None => ArchiveError::Corrupt(e.to_string()),
            },
        }
    };

    let mut tree = Tree::new(limits, implied_mtime);
    let mut ar = tar::Archive::new(guard);
    let entries = ar.entries().map_err(|e| fail(None, e))?;
    let mut seen = 0usize;
    for ent in entries {
        let mut ent = ent.map_err(|e| fail(None, e))?;
        seen += 1;
        if seen > limits.max_entries {
            return Err(ArchiveError::TooManyEntries {
                limit: limits.max_entries,
            });
        }
        let raw = String::from_utf8_lossy(&ent.path_bytes()).into_owned();
        let et = ent.header().entry_type();
        if et.is_pax_global_extensions() {
            continue;
        }
        let path =
            clean_name(&raw).ok_or_else(|| ArchiveError::PathEscapes { entry: raw.clone() })?;
        if path.is_empty() {
            continue;
        }
        check_name(&raw, &path)?;
        let corrupt = |e: io::Error| fail(Some(&raw), e);
        // A blank numeric field reads as 0, as Go's archive/tar does.
        let h = ent.header();
        let old = h.as_old();
        let num = |field: &[u8], v: io::Result<u64>| -> Result<u64, ArchiveError> {
            if field.iter().all(|b| *b == 0 || *b == b' ') {
                Ok(0)
            } else {
                v.map_err(corrupt)
            }
        };
        let mode = num(&old.mode, h.mode().map(u64::from))? as u32 & 0o7777;
        let uid = id(&raw, num(&old.uid, h.uid())?)?;
        let gid = id(&raw, num(&old.gid, h.gid())?)?;
        let mut mtime = num(&old.mtime, h.mtime())?;
        let v7_dir = old.linkflag[0] == 0 && raw.ends_with('/');
        if let Some(exts) = ent.pax_extensions().map_err(corrupt)? {
            for ext in exts {
                let ext = ext.map_err(corrupt)?;
                if ext.key() == Ok("mtime")
                    && let Ok(v) = ext.value()
                {
                    // Seconds with an optional fraction; before 1970 is 0.
                    let whole = v.split('.').next().unwrap_or("");
                    mtime = whole.parse::<u64>().unwrap_or(0);
                }
            }
        }
        let link = ent
            .link_name_bytes()
            .map(|l| String::from_utf8_lossy(&l).into_owned())
            .unwrap_or_default();

        // An old-style regular file ('\0') whose name ends in `/` is a
        // directory (pre-POSIX tars; Go's archive/tar reads it so).
        let kind = if v7_dir || et.is_dir() {
            Kind::Dir
        } else if et.is_file() || et.is_contiguous() || et.is_gnu_sparse() {
            let size = ent.size();
            tree.charge(&raw, size)?;
            let mut data = Vec::new();
            ent.read_to_end(&mut data).map_err(corrupt)?;
            if data.len() as u64 != size {
                return Err(ArchiveError::CorruptEntry {
                    entry: raw,
                    message: format!("{} of {size} bytes present", data.len()),
                });
            }
            Kind::File(Content::bytes(data))
        } else if et.is_symlink() {
            check_symlink(&raw, &path, &link)?;
            Kind::Symlink(link.clone())
        } else if et.is_hard_link() {
            let t = clean_name(&link).filter(|t| !t.is_empty()).ok_or_else(|| {
                ArchiveError::HardlinkEscapes {
                    entry: raw.clone(),
                    target: link.clone(),
                }
            })?;
            Kind::Hardlink(t)
        } else if et.is_character_special() || et.is_block_special() || et.is_fifo() {
            continue;
        } else {
            return Err(ArchiveError::Unsupported {
                entry: raw,
                kind: format!("'{}'", et.as_byte().escape_ascii()),
            });
        };
        tree.put(
            &raw,
            &link,
            Entry {
                path,
                kind,
                mode,
                uid,
                gid,
                mtime,
            },
        )?;
    }
    Ok(layer::normalize(tree.entries.into_values().collect()))
}

fn id(entry: &str, n: u64) -> Result<u32, ArchiveError> {
    u32::try_from(n).map_err(|_| ArchiveError::Invalid {
        entry: entry.to_string(),
        reason: format!("owner id {n} is out of range"),
    })
}

/// `path.Clean(strings.TrimLeft(name, "/"))`, or `None` when a `..` climbs
/// above the root. The root itself is `""`.
fn clean_name(name: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for c in name.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    let joined = parts.join("/");
    debug_assert_eq!(joined, layer::clean_path(&joined));
    Some(joined)
}

fn check_name(raw: &str, path: &str) -> Result<(), ArchiveError> {
    let invalid = |reason: &str| ArchiveError::Invalid {
        entry: raw.to_string(),
        reason: reason.to_string(),
    };
    if path.contains('\0') {
        return Err(invalid("name contains a NUL byte"));
    }
    if path.len() > MAX_PATH {
        return Err(invalid("name is longer than 4096 bytes"));
    }
    if path.split('/').any(|c| c.starts_with(".wh.")) {
        return Err(ArchiveError::WhiteoutName {
            entry: raw.to_string(),
        });
    }
    Ok(())
}

/// A relative target may not climb above the extraction root from the link's
/// own directory, at any step (lexically, as moby's check). Absolute targets
/// resolve inside the container's root and are kept.
fn check_symlink(raw: &str, path: &str, target: &str) -> Result<(), ArchiveError> {
    let invalid = |reason: &str| ArchiveError::Invalid {
        entry: raw.to_string(),
        reason: reason.to_string(),
    };
    if target.is_empty() {
        return Err(invalid("symlink has an empty target"));
    }
    if target.contains('\0') {
        return Err(invalid("symlink target contains a NUL byte"));
    }
    if target.len() > MAX_PATH {
        return Err(invalid("symlink target is longer than 4096 bytes"));
    }
    if target.starts_with('/') {
        return Ok(());
    }
    let mut depth = path.matches('/').count();
    for c in target.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| ArchiveError::SymlinkEscapes {
                        entry: raw.to_string(),
                        target: target.to_string(),
                    })?;
            }
            _ => depth += 1,
        }
    }
    Ok(())
}

/// The file system the archive builds, entry by entry.
struct Tree<'l> {
    limits: &'l Limits,
    implied_mtime: u64,
    entries: BTreeMap<String, Entry>,
    /// Hard-link target → the links to it.
    links: HashMap<String, BTreeSet<String>>,
    /// Regular-file bytes so far.
    total: u64,
}

impl<'l> Tree<'l> {
    fn new(limits: &'l Limits, implied_mtime: u64) -> Self {
        Tree {
            limits,
            implied_mtime,
            entries: BTreeMap::new(),
            links: HashMap::new(),
            total: 0,
        }
    }

    fn charge(&mut self, raw: &str, size: u64) -> Result<(), ArchiveError> {
        self.total = self.total.saturating_add(size);
        if self.total > self.limits.max_total {
            return Err(ArchiveError::TooLarge {
                entry: raw.to_string(),
                limit: self.limits.max_total,
            });
        }
        Ok(())
    }

    fn too_many(&self) -> Result<(), ArchiveError> {
        if self.entries.len() >= self.limits.max_entries {
            return Err(ArchiveError::TooManyEntries {
                limit: self.limits.max_entries,
            });
        }
        Ok(())
    }

    /// The path a hard link to `t` (already cleaned) points at: an existing
    /// non-directory entry; a link to a link points at the first one's target.
    fn resolve_link(&self, raw: &str, literal: &str, t: &str) -> Result<String, ArchiveError> {
        match self.entries.get(t).map(|e| &e.kind) {
            None => Err(ArchiveError::HardlinkMissing {
                entry: raw.to_string(),
                target: literal.to_string(),
            }),
            Some(Kind::Dir) => Err(ArchiveError::HardlinkToDirectory {
                entry: raw.to_string(),
                target: literal.to_string(),
            }),
            Some(Kind::Hardlink(first)) => Ok(first.clone()),
            Some(_) => Ok(t.to_string()),
        }
    }

    /// Adds `e`; a `Kind::Hardlink` carries the cleaned target as written,
    /// resolved here once the path it replaces is gone (as `link(2)` after
    /// moby's `RemoveAll`).
    fn put(&mut self, raw: &str, literal_link: &str, mut e: Entry) -> Result<(), ArchiveError> {
        // Parents: directories, or implied now; never a symlink or a file.
        let mut end = 0;
        while let Some(i) = e.path[end..].find('/') {
            let parent = &e.path[..end + i];
            end += i + 1;
            match self.entries.get(parent).map(|p| &p.kind) {
                Some(Kind::Dir) => {}
                Some(Kind::Symlink(_)) => {
                    return Err(ArchiveError::ThroughSymlink {
                        entry: raw.to_string(),
                        link: parent.to_string(),
                    });
                }
                Some(_) => {
                    return Err(ArchiveError::NotADirectory {
                        entry: raw.to_string(),
                        parent: parent.to_string(),
                    });
                }
                None => {
                    self.too_many()?;
                    let dir = Entry::dir(parent, 0o755).at(self.implied_mtime);
                    self.entries.insert(parent.to_string(), dir);
                }
            }
        }
        match self.entries.get_mut(&e.path) {
            Some(old) if old.kind == Kind::Dir && e.kind == Kind::Dir => {
                *old = e;
                return Ok(());
            }
            Some(_) => self.remove(&e.path.clone()),
            None => self.too_many()?,
        }
        if let Kind::Hardlink(t) = &mut e.kind {
            *t = self.resolve_link(raw, literal_link, t)?;
            self.links
                .entry(t.clone())
                .or_default()
                .insert(e.path.clone());
        }
        self.entries.insert(e.path.clone(), e);
        Ok(())
    }

    /// Removes `path` (and what is under it), turning hard links to a removed
    /// file into a copy of it.
    fn remove(&mut self, path: &str) {
        let prefix = format!("{path}/");
        let under: Vec<String> = self
            .entries
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, _)| k.clone())
            .collect();
        for p in under.iter().map(String::as_str).chain([path]) {
            self.remove_one(p);
        }
    }

    fn remove_one(&mut self, path: &str) {
        let Some(old) = self.entries.remove(path) else {
            return;
        };
        if let Kind::Hardlink(t) = &old.kind
            && let Some(set) = self.links.get_mut(t)
        {
            set.remove(path);
            if set.is_empty() {
                self.links.remove(t);
            }
        }
        let Some(linked) = self.links.remove(path) else {
            return;
        };
        let mut linked = linked.into_iter();
        let Some(heir) = linked.next() else {
            return;
        };
        if let Some(h) = self.entries.get_mut(&heir) {
            h.kind = old.kind;
        }
        let rest: BTreeSet<String> = linked.collect();
        for l in &rest {
            if let Some(e) = self.entries.get_mut(l) {
                e.kind = Kind::Hardlink(heir.clone());
            }
        }
        if !rest.is_empty() {
            self.links.insert(heir, rest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const T: u64 = 1_700_000_000;

    /// One tar member: name, type, link target and data, written with raw
    /// header bytes so hostile names get through unchanged.
    struct M {
        name: Vec<u8>,
        kind: tar::EntryType,
        link: Vec<u8>,
        data: Vec<u8>,
        mode: u32,
        uid: u64,
        gid: u64,
    }

    fn m(name: &str, kind: tar::EntryType) -> M {
        M {
            name: name.as_bytes().to_vec(),
            kind,
            link: Vec::new(),
            data: Vec::new(),
            mode: 0o644,
            uid: 0,
            gid: 0,
        }
    }
    fn file(name: &str, data: &str) -> M {
        M {
            data: data.as_bytes().to_vec(),
            ..m(name, tar::EntryType::Regular)
        }
    }
    fn dir(name: &str) -> M {
        M {
            mode: 0o755,
            ..m(name, tar::EntryType::Directory)
        }
    }
    fn symlink(name: &str, target: &str) -> M {
        M {
            link: target.as_bytes().to_vec(),
            mode: 0o777,
            ..m(name, tar::EntryType::Symlink)
        }
    }
    fn hardlink(name: &str, target: &str) -> M {
        M {
            link: target.as_bytes().to_vec(),
            ..m(name, tar::EntryType::Link)
        }
    }

    fn header(x: &M) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        {
            let g = h.as_gnu_mut().unwrap();
            g.name[..x.name.len()].copy_from_slice(&x.name);
            g.linkname[..x.link.len()].copy_from_slice(&x.link);
        }
        h.set_entry_type(x.kind);
        h.set_mode(x.mode);
        h.set_uid(x.uid);
        h.set_gid(x.gid);
        h.set_mtime(T);
        h.set_size(x.data.len() as u64);
        h.set_cksum();
        h
    }

    fn tar_of(ms: &[M]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for x in ms {
            b.append(&header(x), &x.data[..]).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn gz(b: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(b).unwrap();
        e.finish().unwrap()
    }
    fn bz(b: &[u8]) -> Vec<u8> {
        let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        e.write_all(b).unwrap();
        e.finish().unwrap()
    }
    fn xz(b: &[u8]) -> Vec<u8> {
        let mut e =
            lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::with_preset(1)).unwrap();
        e.write_all(b).unwrap();
        e.finish().unwrap()
    }
    fn zst(b: &[u8]) -> Vec<u8> {
        ruzstd::encoding::compress_to_vec(b, ruzstd::encoding::CompressionLevel::Fastest)
    }

    fn all_formats(t: &[u8]) -> Vec<(Compression, Vec<u8>)> {
        vec![
            (Compression::None, t.to_vec()),
            (Compression::Gzip, gz(t)),
            (Compression::Bzip2, bz(t)),
            (Compression::Xz, xz(t)),
            (Compression::Zstd, zst(t)),
        ]
    }

    fn ok(ms: &[M]) -> Vec<Entry> {
        extract(&tar_of(ms), &Limits::default(), 42).unwrap()
    }
    fn err(ms: &[M]) -> String {
        extract(&tar_of(ms), &Limits::default(), 42)
            .unwrap_err()
            .to_string()
    }
    fn get<'a>(es: &'a [Entry], p: &str) -> &'a Entry {
        es.iter()
            .find(|e| e.path == p)
            .unwrap_or_else(|| panic!("no {p}"))
    }
    fn paths(es: &[Entry]) -> Vec<&str> {
        es.iter().map(|e| e.path.as_str()).collect()
    }

    fn sample() -> Vec<u8> {
        tar_of(&[
            dir("app/"),
            M {
                mode: 0o4755,
                uid: 1000,
                gid: 50,
                ..file("app/run", "#!/bin/sh\n")
            },
            symlink("app/current", "run"),
            file("./etc/motd", "hello\n"),
        ])
    }

    #[test]
    fn every_format_is_detected_and_extracted_alike() {
        let plain = extract(&sample(), &Limits::default(), 42).unwrap();
        for (c, bytes) in all_formats(&sample()) {
            assert_eq!(Compression::sniff(&bytes), c);
            assert_eq!(detect(&bytes), Some(c), "{c:?}");
            assert_eq!(extract(&bytes, &Limits::default(), 42).unwrap(), plain);
        }
        assert_eq!(
            paths(&plain),
            ["app", "app/current", "app/run", "etc", "etc/motd"]
        );
        let run = get(&plain, "app/run");
        assert_eq!(
            (run.mode, run.uid, run.gid, run.mtime),
            (0o4755, 1000, 50, T)
        );
        assert_eq!(run.kind, Kind::File(Content::bytes("#!/bin/sh\n")));
        assert_eq!(get(&plain, "app/current").kind, Kind::Symlink("run".into()));
        assert_eq!(get(&plain, "app").mtime, T);
    }

    #[test]
    fn concatenated_streams_and_zstd_skippable_frames_are_read() {
        let t = sample();
        let (a, b) = t.split_at(700);
        let mut two_gz = gz(a);
        two_gz.extend(gz(b));
        let mut two_bz = bz(a);
        two_bz.extend(bz(b));
        let mut two_xz = xz(a);
        two_xz.extend(xz(b));
        let mut skip = vec![0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3];
        skip.extend(zst(a));
        skip.extend(zst(b));
        let want = extract(&t, &Limits::default(), 0).unwrap();
        for bytes in [two_gz, two_bz, two_xz, skip] {
            assert_eq!(extract(&bytes, &Limits::default(), 0).unwrap(), want);
        }
    }

    #[test]
    fn non_archives_are_not_detected() {
        assert_eq!(detect(b""), None);
        assert_eq!(detect(b"just some text\n"), None);
        assert_eq!(detect(&gz(b"a gzip of plain text, not a tar\n")), None);
        assert_eq!(detect(&zst(&[7u8; 3000])), None);
        assert_eq!(
            detect(&tar_of(&[])),
            None,
            "an empty tar is copied as a file"
        );
        assert_eq!(detect(&[0x1f, 0x8b, 0x08, 0, 0]), None);
        assert_eq!(
            extract(b"plain", &Limits::default(), 0),
            Err(ArchiveError::NotAnArchive)
        );
    }

    #[test]
    fn implied_parents_are_root_owned_0755_at_the_given_time() {
        let es = ok(&[M {
            uid: 7,
            ..file("a/b/c.txt", "x")
        }]);
        assert_eq!(paths(&es), ["a", "a/b", "a/b/c.txt"]);
        for p in ["a", "a/b"] {
            let d = get(&es, p);
            assert_eq!(
                (d.kind.clone(), d.mode, d.uid, d.gid, d.mtime),
                (Kind::Dir, 0o755, 0, 0, 42)
            );
        }
        // A later header for an implied directory sets its metadata.
        let es = ok(&[
            file("a/x", ""),
            M {
                mode: 0o700,
                uid: 3,
                ..dir("a/")
            },
        ]);
        let a = get(&es, "a");
        assert_eq!((a.mode, a.uid, a.mtime), (0o700, 3, T));
        assert_eq!(paths(&es), ["a", "a/x"]);
    }

    #[test]
    fn old_style_directories_are_directories() {
        // Type flag NUL (the tar crate writes '0'): a directory when the name
        // ends in a slash.
        let mut b = tar::Builder::new(Vec::new());
        for x in [
            M {
                mode: 0o750,
                ..dir("v7/")
            },
            file("v7/f", ""),
        ] {
            let mut h = header(&x);
            h.as_old_mut().linkflag[0] = 0;
            h.set_cksum();
            b.append(&h, &x.data[..]).unwrap();
        }
        let es = extract(&b.into_inner().unwrap(), &Limits::default(), 0).unwrap();
        assert_eq!(get(&es, "v7").kind, Kind::Dir);
        assert_eq!(get(&es, "v7").mode, 0o750);
        assert_eq!(get(&es, "v7/f").kind, Kind::File(Content::bytes("")));
    }

    #[test]
    fn leading_slashes_and_dots_are_stripped_and_the_root_skipped() {
        let es = ok(&[
            dir("./"),
            dir("/"),
            file("/etc/passwd", "x"),
            file("a/../b", "y"),
        ]);
        assert_eq!(paths(&es), ["b", "etc", "etc/passwd"]);
    }

    #[test]
    fn gnu_and_pax_long_names_work() {
        let long = format!("{}/{}", "d".repeat(120), "f".repeat(130));
        let target = format!("/{}", "t".repeat(150));
        // GNU: the tar crate writes ././@LongLink members itself.
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o600);
        h.set_size(2);
        b.append_data(&mut h, &long, &b"hi"[..]).unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        b.append_link(&mut h, "link", &target).unwrap();
        let es = extract(&b.into_inner().unwrap(), &Limits::default(), 0).unwrap();
        assert_eq!(get(&es, &long).kind, Kind::File(Content::bytes("hi")));
        assert_eq!(get(&es, "link").kind, Kind::Symlink(target.clone()));

        // PAX: a local extended header names the next member.
        let rec = |k: &str, v: &str| {
            let body = format!(" {k}={v}\n");
            let mut n = body.len() + 1;
            while format!("{n}{body}").len() != n {
                n += 1;
            }
            format!("{n}{body}")
        };
        let pax = format!("{}{}", rec("path", &long), rec("mtime", "1234.5"));
        let mut b = tar::Builder::new(Vec::new());
        let mut x = tar::Header::new_ustar();
        x.set_entry_type(tar::EntryType::XHeader);
        x.set_size(pax.len() as u64);
        x.set_cksum();
        b.append(&x, pax.as_bytes()).unwrap();
        let mut h = tar::Header::new_ustar();
        h.set_path("short").unwrap();
        h.set_mode(0o644);
        h.set_size(1);
        h.set_cksum();
        b.append(&h, &b"z"[..]).unwrap();
        let es = extract(&b.into_inner().unwrap(), &Limits::default(), 0).unwrap();
        assert_eq!(get(&es, &long).mtime, 1234);
        assert!(es.iter().all(|e| e.path != "short"));
    }

    #[test]
    fn hard_links_point_at_earlier_files() {
        let es = ok(&[
            file("bin/busybox", "bb"),
            hardlink("bin/sh", "bin/busybox"),
            hardlink("bin/ls", "/bin/sh"),
        ]);
        assert_eq!(
            get(&es, "bin/sh").kind,
            Kind::Hardlink("bin/busybox".into())
        );
        // A link to a link points at the file; a leading slash is stripped.
        assert_eq!(
            get(&es, "bin/ls").kind,
            Kind::Hardlink("bin/busybox".into())
        );
    }

    #[test]
    fn a_replaced_hard_link_target_leaves_its_links_a_copy() {
        let es = ok(&[
            file("a", "old"),
            hardlink("b", "a"),
            hardlink("c", "a"),
            file("a", "new"),
        ]);
        assert_eq!(get(&es, "a").kind, Kind::File(Content::bytes("new")));
        assert_eq!(get(&es, "b").kind, Kind::File(Content::bytes("old")));
        assert_eq!(get(&es, "c").kind, Kind::Hardlink("b".into()));
        // Relinking a name to its own alias keeps the shared content.
        let es = ok(&[file("a", "x"), hardlink("b", "a"), hardlink("a", "b")]);
        assert_eq!(get(&es, "b").kind, Kind::File(Content::bytes("x")));
        assert_eq!(get(&es, "a").kind, Kind::Hardlink("b".into()));
    }

    #[test]
    fn replacing_a_directory_drops_its_contents() {
        let es = ok(&[
            file("d/x", "1"),
            hardlink("y", "d/x"),
            file("d", "now a file"),
        ]);
        assert_eq!(paths(&es), ["d", "y"]);
        assert_eq!(get(&es, "y").kind, Kind::File(Content::bytes("1")));
        let es = ok(&[file("d", "f"), dir("d"), file("d/z", "")]);
        assert_eq!(paths(&es), ["d", "d/z"]);
        // A symlink replaced by a directory is a directory.
        let es = ok(&[symlink("l", "x"), dir("l"), file("l/f", "")]);
        assert_eq!(get(&es, "l").kind, Kind::Dir);
    }

    #[test]
    fn devices_fifos_and_global_headers_are_skipped() {
        let es = ok(&[
            m("dev/null", tar::EntryType::Char),
            m("dev/sda", tar::EntryType::Block),
            m("run/fifo", tar::EntryType::Fifo),
            m("pax_global_header", tar::EntryType::XGlobalHeader),
            file("ok", ""),
        ]);
        assert_eq!(paths(&es), ["ok"]);
        assert_eq!(
            err(&[m("vol", tar::EntryType::new(b'V'))]),
            "archive entry \"vol\": unsupported entry type 'V'"
        );
    }

    #[test]
    fn escaping_names_are_refused_naming_the_entry() {
        assert_eq!(
            err(&[file("../../etc/passwd", "root::0:0")]),
            "archive entry \"../../etc/passwd\": path escapes the destination"
        );
        for name in ["..", "a/../../x", "/../etc/passwd", "./../x"] {
            assert_eq!(
                extract(&tar_of(&[file(name, "")]), &Limits::default(), 0),
                Err(ArchiveError::PathEscapes { entry: name.into() })
            );
        }
    }

    #[test]
    fn escaping_symlinks_are_refused_and_absolute_ones_kept() {
        assert_eq!(
            err(&[symlink("a/l", "../../etc")]),
            "archive entry \"a/l\": symlink target \"../../etc\" escapes the destination"
        );
        assert!(matches!(
            extract(&tar_of(&[symlink("l", "x/../../y")]), &Limits::default(), 0),
            Err(ArchiveError::SymlinkEscapes { .. })
        ));
        let es = ok(&[
            symlink("a/up", "../b"),
            symlink("abs", "/etc/passwd"),
            symlink("dot", "."),
        ]);
        assert_eq!(get(&es, "abs").kind, Kind::Symlink("/etc/passwd".into()));
        assert_eq!(get(&es, "a/up").kind, Kind::Symlink("../b".into()));
        assert!(err(&[symlink("e", "")]).contains("empty target"));
    }

    #[test]
    fn paths_through_an_earlier_symlink_are_refused() {
        assert_eq!(
            err(&[symlink("l", "/etc"), file("l/passwd", "x")]),
            "archive entry \"l/passwd\": path goes through \"l\", a symlink written earlier in the archive"
        );
        // Even a link that stays inside: the changeset cannot write through it.
        assert!(matches!(
            extract(
                &tar_of(&[dir("d"), symlink("l", "d"), dir("l/sub")]),
                &Limits::default(),
                0
            ),
            Err(ArchiveError::ThroughSymlink { .. })
        ));
        assert_eq!(
            err(&[file("f", ""), file("f/x", "")]),
            "archive entry \"f/x\": \"f\" is not a directory"
        );
    }

    #[test]
    fn hostile_hard_links_are_refused() {
        assert_eq!(
            err(&[hardlink("h", "../../etc/shadow")]),
            "archive entry \"h\": hard link target \"../../etc/shadow\" escapes the destination"
        );
        assert_eq!(
            err(&[hardlink("h", "etc/shadow")]),
            "archive entry \"h\": hard link target \"etc/shadow\" is not an earlier file in the archive"
        );
        assert_eq!(
            err(&[dir("d"), hardlink("h", "d")]),
            "archive entry \"h\": hard link target \"d\" is a directory"
        );
        assert!(matches!(
            extract(&tar_of(&[hardlink("h", "./")]), &Limits::default(), 0),
            Err(ArchiveError::HardlinkEscapes { .. })
        ));
        assert!(matches!(
            extract(
                &tar_of(&[file("h", ""), hardlink("h", "h")]),
                &Limits::default(),
                0
            ),
            Err(ArchiveError::HardlinkMissing { .. })
        ));
        // A link to a later entry is missing too.
        assert!(matches!(
            extract(
                &tar_of(&[hardlink("h", "f"), file("f", "")]),
                &Limits::default(),
                0
            ),
            Err(ArchiveError::HardlinkMissing { .. })
        ));
    }

    #[test]
    fn whiteout_names_are_refused() {
        assert_eq!(
            err(&[file("etc/.wh.passwd", "")]),
            "archive entry \"etc/.wh.passwd\": names starting with \".wh.\" are reserved for layer whiteouts"
        );
        assert!(err(&[dir(".wh..wh..opq/")]).contains("whiteouts"));
    }

    #[test]
    fn bombs_are_refused() {
        let zeros = tar_of(&[file("z", &"\0".repeat(1 << 20))]);
        let small = Limits {
            max_ratio: 50,
            ratio_floor: 0,
            ..Limits::default()
        };
        let g = gz(&zeros);
        assert_eq!(
            extract(&g, &small, 0),
            Err(ArchiveError::RatioExceeded {
                ratio: 50,
                compressed: g.len() as u64
            })
        );
        assert!(
            extract(&g, &small, 0)
                .unwrap_err()
                .to_string()
                .starts_with("archive expands to more than 50 times its compressed size of ")
        );
        // The same archive is fine below the floor of the default limits.
        assert!(extract(&g, &Limits::default(), 0).is_ok());
        // The total of file bytes.
        let total = Limits {
            max_total: 1000,
            ..Limits::default()
        };
        let t = tar_of(&[file("a", &"x".repeat(600)), file("b", &"y".repeat(600))]);
        assert_eq!(
            extract(&t, &total, 0).unwrap_err().to_string(),
            "archive entry \"b\": unpacked files exceed the limit of 1000 bytes (decompression bomb?)"
        );
        // The number of entries, implied directories included.
        let few = Limits {
            max_entries: 3,
            ..Limits::default()
        };
        let t = tar_of(&[file("a", ""), file("b", ""), file("c", ""), file("d", "")]);
        assert_eq!(
            extract(&t, &few, 0).unwrap_err().to_string(),
            "archive has more than 3 entries (decompression bomb?)"
        );
        let t = tar_of(&[file("a/b/c/d", "")]);
        assert_eq!(
            extract(&t, &few, 0),
            Err(ArchiveError::TooManyEntries { limit: 3 })
        );
        // The decompressed stream itself.
        let tiny = Limits {
            max_total: 1000,
            max_entries: 1,
            ..Limits::default()
        };
        let t = tar_of(&[m("d", tar::EntryType::Directory)]);
        let mut big = t[..512].to_vec();
        let mut h = tar::Header::from_byte_slice(&big).clone();
        h.set_size(1 << 20);
        h.set_cksum();
        big.copy_from_slice(h.as_bytes());
        big.extend(vec![0u8; (1 << 20) + 1024]);
        assert_eq!(
            extract(&gz(&big), &tiny, 0),
            Err(ArchiveError::StreamTooLarge { limit: 1000 + 2048 })
        );
    }

    #[test]
    fn sparse_files_are_charged_their_real_size_before_reading() {
        // A GNU sparse member of 2 MiB of holes and no stored data.
        let mut h = header(&m("holes", tar::EntryType::GNUSparse));
        {
            let g = h.as_gnu_mut().unwrap();
            let octal = |f: &mut [u8], v: &str| f[..v.len()].copy_from_slice(v.as_bytes());
            octal(&mut g.realsize, &format!("{:o}", 2 << 20));
            octal(&mut g.sparse[0].offset, &format!("{:o}", 2 << 20));
            octal(&mut g.sparse[0].numbytes, "0");
        }
        h.set_cksum();
        let mut b = tar::Builder::new(Vec::new());
        b.append(&h, io::empty()).unwrap();
        let t = b.into_inner().unwrap();
        let es = extract(&t, &Limits::default(), 0).unwrap();
        assert_eq!(es[0].size(), 2 << 20);
        let one_mib = Limits {
            max_total: 1 << 20,
            ..Limits::default()
        };
        assert_eq!(
            extract(&t, &one_mib, 0),
            Err(ArchiveError::TooLarge {
                entry: "holes".into(),
                limit: 1 << 20
            })
        );
    }

    #[test]
    fn truncated_and_corrupt_archives_are_errors() {
        let t = tar_of(&[file("a", &"x".repeat(2000)), file("b", "y")]);
        let cut = &t[..512 + 1000];
        assert_eq!(
            extract(cut, &Limits::default(), 0).unwrap_err().to_string(),
            "archive entry \"a\": corrupt or truncated: 1000 of 2000 bytes present"
        );
        let g = gz(&t);
        let e = extract(&g[..g.len() / 2], &Limits::default(), 0).unwrap_err();
        assert!(
            matches!(
                e,
                ArchiveError::Corrupt(_) | ArchiveError::CorruptEntry { .. }
            ),
            "{e}"
        );
        let mut bad = t.clone();
        bad[512 + 2048 + 10] ^= 0xff; // second header
        assert!(
            extract(&bad, &Limits::default(), 0)
                .unwrap_err()
                .to_string()
                .starts_with("archive is corrupt or truncated: ")
        );
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn valid() -> Vec<u8> {
            tar_of(&[
                dir("d/"),
                file("d/f", "some content here"),
                symlink("d/l", "f"),
                hardlink("h", "d/f"),
                file(&"n".repeat(99), "long"),
            ])
        }

        fn run(bytes: &[u8]) {
            let limits = Limits {
                max_total: 1 << 20,
                max_entries: 1000,
                ..Limits::default()
            };
            let _ = detect(bytes);
            if let Ok(es) = extract(bytes, &limits, 0) {
                for e in &es {
                    assert_eq!(e.path, layer::clean_path(&e.path));
                    assert!(!e.path.is_empty());
                }
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]

            #[test]
            fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048), magic in 0usize..5) {
                let prefixes: [&[u8]; 5] = [b"", b"BZh9", &[0x1f, 0x8b, 0x08], &[0xfd, b'7', b'z', b'X', b'Z', 0], &[0x28, 0xb5, 0x2f, 0xfd]];
                let mut b = prefixes[magic].to_vec();
                b.extend(bytes);
                run(&b);
            }

            #[test]
            fn mutated_archives_never_panic(
                format in 0usize..5,
                flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
                cut in any::<prop::sample::Index>(),
                truncate in any::<bool>(),
            ) {
                let (_, mut b) = all_formats(&valid()).swap_remove(format);
                for (i, v) in flips {
                    let i = i.index(b.len());
                    b[i] ^= v;
                }
                if truncate {
                    b.truncate(cut.index(b.len()));
                }
                run(&b);
            }
        }
    }
}
