//! The local content-addressed image store (docker's classic image store).
//!
//! It owns bytes and names, nothing else: config blobs under
//! `blobs/sha256/<hex>` (an image's ID is the digest of its config bytes),
//! layers kept uncompressed under `layers/<diff_id hex>.tar` (or in parts:
//! `.skel` plus ranges of a base layer's tar, see `put_layer`) with a small
//! JSON beside each (size and an entry index, or the recipe the layer is
//! regenerated from), and one `index.json` holding references and per-image
//! summaries so listing never opens a blob. It knows nothing about
//! Dockerfiles, the base-image catalog, HTTP or exercises.
//!
//! Safety: every file is written atomically (temp + rename; fsynced, except
//! layer bytes, see `put_layer`); the index is re-read and rewritten under an
//! exclusive lock; blobs and layer tars are verified against their digest
//! whenever they are read; an image is unlinked from the index before its
//! files are removed, so a crash leaves at most unreferenced garbage, never a
//! reference to missing bytes.

mod index;

pub use index::{ImageSummary, Index};

use crate::digest::{Digest, HashingWriter};
use crate::home::{self, Lock};
use crate::layer::{self, Entry, IndexEntry, LayerInfo};
use crate::reference::Reference;
use std::collections::BTreeMap;
use std::fs;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// What can go wrong in the store. Display texts are imagelab's own (the
/// commands wrap them in docker's words where docker has them).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("blob {digest} is corrupted: its content hashes to {actual} (file {path})")]
    Corrupt {
        digest: Digest,
        actual: Digest,
        path: PathBuf,
    },
    #[error("blob {0} is missing from the store")]
    Missing(Digest),
    #[error("the store index {path} is damaged: {message}")]
    BadIndex { path: PathBuf, message: String },
    #[error("layer {0} has no bytes in this store (it is kept as a recipe)")]
    RecipeOnly(Digest),
    #[error("layer {diff_id}: {source}")]
    BadLayer {
        diff_id: Digest,
        source: layer::LayerTarError,
    },
    #[error("more than {limit} bytes")]
    TooLarge { limit: u64 },
}

/// Bytes streamed into the store's tmp folder, with the sha256 and length
/// they had as they were written (see `Store::stage`).
#[derive(Debug)]
pub struct Staged {
    path: tempfile::TempPath,
    pub digest: Digest,
    pub len: u64,
}

impl Staged {
    /// Reopens the staged bytes for reading.
    pub fn open(&self) -> io::Result<fs::File> {
        fs::File::open(&self.path)
    }
}

/// A staged layer tar that `Store::check_layer_tar` verified: its digest is
/// its diff_id and its entries stay inside the root. Only it can be adopted.
#[derive(Debug)]
pub struct CheckedLayer {
    staged: Staged,
    diff_id: Digest,
    entries: Vec<IndexEntry>,
    size: u64,
}

impl CheckedLayer {
    pub fn diff_id(&self) -> &Digest {
        &self.diff_id
    }
    /// docker's size of the layer (file bytes plus symlink lengths).
    pub fn size(&self) -> u64 {
        self.size
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Metadata kept beside each layer.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct LayerMeta {
    pub diff_id: Digest,
    /// docker's layer size: file bytes plus symlink lengths (see
    /// `layer::content_size`); what `docker images` and `history` add up.
    pub size: u64,
    /// The uncompressed tar's length.
    pub tar_size: u64,
    /// When set, the layer's bytes are not stored: they are regenerated from
    /// this recipe (a base-image layer) by whoever understands it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipe: Option<serde_json::Value>,
    /// The layer's entries without content, in tar order.
    pub entries: Vec<IndexEntry>,
    /// For a whole tar written from host files: where each file's bytes sit
    /// in it, by their sha256, so a later layer can take them from here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contents: Vec<StoredContent>,
    /// Set when the tar is not stored whole (see `put_layer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<Split>,
}

/// Bytes of one file inside a stored layer tar.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct StoredContent {
    pub sha256: Digest,
    pub at: u64,
    pub len: u64,
}

/// A layer tar kept as parts: runs of its own bytes (the `.skel` file, read
/// in order) and ranges of a base layer's whole tar.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Split {
    pub base: Digest,
    /// The length of the `.skel` file (the sum of the own runs).
    pub skel_size: u64,
    pub parts: Vec<Part>,
}

/// `[len]`: the next `len` bytes of the `.skel` file; `[len, at]`: `len`
/// bytes of the base tar from offset `at`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Part(pub u64, #[serde(default)] pub Option<u64>);

/// The store's record of layers in registries.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Distribution {
    /// diff_id → the compressed blobs it is known as.
    #[serde(default)]
    pub layers: BTreeMap<Digest, Vec<DistRecord>>,
    /// diff_id → the blob this store's own compression makes of it (gzip is
    /// deterministic here), wherever it was pushed: a later push to any
    /// registry can ask for that blob before compressing again.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub gzip: BTreeMap<Digest, Compressed>,
}

/// A layer's compressed blob, as a push made it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Compressed {
    pub digest: Digest,
    pub size: u64,
}

/// One compressed form of a layer and where it was seen.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DistRecord {
    /// The compressed blob's digest.
    pub digest: Digest,
    pub size: u64,
    /// `docker.io`, `localhost:5000`.
    pub registry: String,
    /// `library/nginx`.
    pub repository: String,
}

impl Distribution {
    /// The diff_id a compressed blob is known to decompress to.
    pub fn diff_id_of(&self, blob: &Digest) -> Option<&Digest> {
        self.layers
            .iter()
            .find(|(_, rs)| rs.iter().any(|r| &r.digest == blob))
            .map(|(d, _)| d)
    }
}

/// When a new layer may take less than this share of its file bytes from a
/// base layer, it is stored whole instead (and becomes a base itself).
const MIN_REUSE: f64 = 0.5;

/// How many context folders keep a checksum cache in one store.
const CONTEXT_CACHES: usize = 16;

/// `LayerMeta` without the entry index.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct LayerHead {
    pub size: u64,
    pub tar_size: u64,
    #[serde(default)]
    pub recipe: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    pub split: Option<SplitHead>,
}

/// `Split` without its parts.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct SplitHead {
    pub base: Digest,
    pub skel_size: u64,
}

/// The part of `LayerMeta` a new layer reads from its base.
#[derive(serde::Deserialize)]
struct BaseMeta {
    #[serde(default)]
    recipe: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    split: Option<SplitHead>,
    #[serde(default)]
    contents: Vec<StoredContent>,
}

/// A range of a new layer's tar that is taken from the base tar.
struct Reuse {
    start: u64,
    len: u64,
    at: u64,
}

/// Writes a layer's own bytes to the `.skel` file and notes the parts, as
/// the tar streams through: bytes inside a `Reuse` range are not written.
struct SkelWriter<W> {
    out: W,
    reuse: Vec<Reuse>,
    next: usize,
    pos: u64,
    parts: Vec<Part>,
    own: u64,
}

impl<W: Write> Write for SkelWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        while !rest.is_empty() {
            match self.reuse.get(self.next) {
                Some(r) if self.pos >= r.start => {
                    let end = r.start + r.len;
                    let n = rest.len().min((end - self.pos) as usize);
                    if self.pos == r.start {
                        self.parts.push(Part(r.len, Some(r.at)));
                    }
                    self.pos += n as u64;
                    if self.pos == end {
                        self.next += 1;
                    }
                    rest = &rest[n..];
                }
                r => {
                    let limit = r.map(|r| r.start - self.pos).unwrap_or(u64::MAX);
                    let n = rest.len().min(limit.min(usize::MAX as u64) as usize);
                    self.out.write_all(&rest[..n])?;
                    match self.parts.last_mut() {
                        Some(Part(len, None)) => *len += n as u64,
                        _ => self.parts.push(Part(n as u64, None)),
                    }
                    self.own += n as u64;
                    self.pos += n as u64;
                    rest = &rest[n..];
                }
            }
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Reads a split layer's tar back from its parts.
struct PartsReader {
    skel: BufReader<fs::File>,
    base: fs::File,
    parts: std::vec::IntoIter<Part>,
    /// The part being read and how much of it is left.
    cur: Option<(Part, u64)>,
}

impl Read for PartsReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        use std::os::unix::fs::FileExt;
        loop {
            let (part, left) = match self.cur {
                Some((p, left)) if left > 0 => (p, left),
                _ => match self.parts.next() {
                    Some(p) => {
                        self.cur = Some((p, p.0));
                        continue;
                    }
                    None => return Ok(0),
                },
            };
            let want = out.len().min(left.min(usize::MAX as u64) as usize);
            let n = match part.1 {
                None => self.skel.read(&mut out[..want])?,
                Some(at) => self.base.read_at(&mut out[..want], at + (part.0 - left))?,
            };
            if n == 0 && want > 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            self.cur = Some((part, left - n as u64));
            return Ok(n);
        }
    }
}

fn tar_len(p: &Path) -> Option<u64> {
    fs::metadata(p).ok().map(|m| m.len())
}

/// The store of one home.
pub struct Store {
    root: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the store under `home`.
    pub fn open(home: &Path) -> Result<Store> {
        let root = home.join("store");
        for d in ["blobs/sha256", "layers", "tmp"] {
            let p = root.join(d);
            fs::create_dir_all(&p).map_err(io_err(&p))?;
        }
        Ok(Store { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Reads the index under a shared lock.
    pub fn index(&self) -> Result<Index> {
        let _l = Lock::shared(&self.root).map_err(io_err(&self.root))?;
        self.read_index()
    }

    /// Runs `f` on the index under the exclusive lock and writes the result
    /// back atomically if `f` succeeds. `f`'s error leaves the index as it was.
    pub fn update<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut Index) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let _l = Lock::exclusive(&self.root).map_err(io_err(&self.root))?;
        let raw = self.read_index_bytes()?;
        let mut idx = self.parse_index(raw.as_deref())?;
        let out = f(&mut idx)?;
        let path = self.index_path();
        let bytes = serde_json::to_vec(&idx).expect("index serializes");
        // An update that changed nothing (re-recording a known image) costs
        // no write.
        if raw.as_deref() != Some(&bytes[..]) {
            home::write_atomic(&path, &bytes).map_err(io_err(&path))?;
        }
        Ok(out)
    }

    fn index_path(&self) -> PathBuf {
        self.root.join("index.json")
    }

    fn read_index(&self) -> Result<Index> {
        let raw = self.read_index_bytes()?;
        self.parse_index(raw.as_deref())
    }

    /// The index file's bytes; None when there is none yet.
    fn read_index_bytes(&self) -> Result<Option<Vec<u8>>> {
        let path = self.index_path();
        match fs::read(&path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::Io { path, source: e }),
        }
    }

    fn parse_index(&self, raw: Option<&[u8]>) -> Result<Index> {
        match raw {
            Some(b) => serde_json::from_slice(b).map_err(|e| StoreError::BadIndex {
                path: self.index_path(),
                message: e.to_string(),
            }),
            None => Ok(Index::default()),
        }
    }

    fn build_cache_path(&self) -> PathBuf {
        self.root.join("buildcache.json")
    }

    fn read_build_cache(&self) -> BTreeMap<String, Digest> {
        fs::read(self.build_cache_path())
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// The layer a build step produced before, by the step's cache key, and
    /// its size (`LayerMeta::size`). A damaged cache file is an empty cache,
    /// and a layer whose bytes are not whole is no hit (either only costs a
    /// rebuild).
    pub fn build_cache_get(&self, key: &str) -> Option<(Digest, u64)> {
        let d = self.read_build_cache().get(key).cloned()?;
        let head = self.layer_head(&d).ok()?;
        self.layer_intact(&d, &head).then_some((d, head.size))
    }

    /// Every build cache record: step cache key → layer (or, for the
    /// classic builder's `legacy:` keys, image ID).
    pub fn build_cache_records(&self) -> BTreeMap<String, Digest> {
        self.read_build_cache()
    }

    /// Removes the build cache records `drop` selects and returns them;
    /// layers no image and no remaining record uses are deleted.
    pub fn prune_build_cache(
        &self,
        drop: &dyn Fn(&str, &Digest) -> bool,
    ) -> Result<Vec<(String, Digest)>> {
        let _l = Lock::exclusive(&self.root).map_err(io_err(&self.root))?;
        let cache = self.read_build_cache();
        let (gone, kept): (BTreeMap<_, _>, BTreeMap<_, _>) =
            cache.into_iter().partition(|(k, v)| drop(k, v));
        if gone.is_empty() {
            return Ok(Vec::new());
        }
        let path = self.build_cache_path();
        let bytes = serde_json::to_vec(&kept).expect("cache serializes");
        home::write_atomic(&path, &bytes).map_err(io_err(&path))?;
        Ok(gone.into_iter().collect())
    }

    /// The layer recorded under `key`, whatever state its bytes are in.
    pub fn build_cache_layer(&self, key: &str) -> Option<Digest> {
        self.read_build_cache().get(key).cloned()
    }

    /// Records build steps' layers under their cache keys (one write).
    pub fn build_cache_put(&self, pairs: &[(String, Digest)]) -> Result<()> {
        let _l = Lock::exclusive(&self.root).map_err(io_err(&self.root))?;
        let mut cache = self.read_build_cache();
        cache.extend(pairs.iter().cloned());
        let path = self.build_cache_path();
        let bytes = serde_json::to_vec(&cache).expect("cache serializes");
        home::write_atomic(&path, &bytes).map_err(io_err(&path))
    }

    fn distribution_path(&self) -> PathBuf {
        self.root.join("distribution.json")
    }

    /// What the store knows of layers' compressed forms in registries
    /// (docker's "v2 metadata"): a damaged file only costs recompressing.
    pub fn distribution(&self) -> Distribution {
        fs::read(self.distribution_path())
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// Records that `diff_id` was pushed or pulled as `blob`, and what
    /// this store's compression made of layers it pushed (one write).
    pub fn record_distribution(
        &self,
        records: &[(Digest, DistRecord)],
        gzip: &[(Digest, Compressed)],
    ) -> Result<()> {
        if records.is_empty() && gzip.is_empty() {
            return Ok(());
        }
        let _l = Lock::exclusive(&self.root).map_err(io_err(&self.root))?;
        let mut d = self.distribution();
        let mut changed = false;
        for (diff_id, r) in records {
            let list = d.layers.entry(diff_id.clone()).or_default();
            if !list.contains(r) {
                list.push(r.clone());
                changed = true;
            }
        }
        for (diff_id, c) in gzip {
            if d.gzip.get(diff_id) != Some(c) {
                d.gzip.insert(diff_id.clone(), c.clone());
                changed = true;
            }
        }
        if !changed {
            return Ok(());
        }
        let path = self.distribution_path();
        let bytes = serde_json::to_vec(&d).expect("distribution serializes");
        home::write_atomic(&path, &bytes).map_err(io_err(&path))
    }

    /// Stores an uncompressed layer tar exactly as given (a pulled layer:
    /// its bytes are its diff_id), through the same checks as a loaded one
    /// (`check_layer_tar`, `adopt_layer_tar`). When `expected` is given the
    /// bytes must hash to it; otherwise nothing is stored. Returns the
    /// diff_id and whether the layer was already there.
    pub fn put_layer_tar(
        &self,
        r: &mut dyn Read,
        expected: Option<&Digest>,
    ) -> Result<(Digest, bool)> {
        let staged = self.stage(r, u64::MAX)?;
        let d = expected.cloned().unwrap_or_else(|| staged.digest.clone());
        if staged.digest == d
            && let Ok(head) = self.layer_head(&d)
            && self.layer_intact(&d, &head)
        {
            return Ok((d, true));
        }
        let checked = self.check_layer_tar(staged, &d)?;
        let had = self.adopt_layer_tar(checked)?;
        Ok((d, had))
    }

    /// Streams `r` into a file of the store's tmp folder, hashing and
    /// counting as it goes (one pass). More than `limit` bytes is an error
    /// (`TooLarge`); the file is removed when the result is dropped.
    pub fn stage(&self, r: &mut dyn Read, limit: u64) -> Result<Staged> {
        let tmp_dir = self.root.join("tmp");
        let tmp = tempfile::NamedTempFile::new_in(&tmp_dir).map_err(io_err(&tmp_dir))?;
        let mut w = HashingWriter::new(tmp.as_file());
        let mut limited = r.take(limit.saturating_add(1));
        // Read into one big buffer, filled before each write: the bytes are
        // copied once on their way to the file, in few system calls, even
        // from a source that hands out small reads.
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let mut filled = 0;
            while filled < buf.len() {
                match limited.read(&mut buf[filled..]) {
                    Ok(0) => break,
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(io_err(tmp.path())(e)),
                }
            }
            if filled == 0 {
                break;
            }
            w.write_all(&buf[..filled]).map_err(io_err(tmp.path()))?;
        }
        let (digest, len, _) = w.finish();
        if len > limit {
            return Err(StoreError::TooLarge { limit });
        }
        Ok(Staged {
            path: tmp.into_temp_path(),
            digest,
            len,
        })
    }

    /// Validates staged bytes as the layer `diff_id`: they must hash to it
    /// and read as a tar whose entries stay inside the root
    /// (`layer::index_tar`). Nothing is stored yet: `adopt_layer_tar` does,
    /// so a caller can check every layer of an archive before any is kept.
    pub fn check_layer_tar(&self, staged: Staged, diff_id: &Digest) -> Result<CheckedLayer> {
        if &staged.digest != diff_id {
            return Err(StoreError::Corrupt {
                digest: diff_id.clone(),
                actual: staged.digest,
                path: staged.path.to_path_buf(),
            });
        }
        let f = fs::File::open(&staged.path).map_err(io_err(&staged.path))?;
        let (entries, size) =
            layer::index_tar(BufReader::new(f)).map_err(|source| StoreError::BadLayer {
                diff_id: diff_id.clone(),
                source,
            })?;
        Ok(CheckedLayer {
            staged,
            diff_id: diff_id.clone(),
            entries,
            size,
        })
    }

    /// Moves a checked layer into the store (a rename: its bytes are not
    /// copied) and records its metadata. The one way foreign layer bytes
    /// (pulled or loaded) enter the store. Returns whether the layer was
    /// already there (then the staged bytes are dropped).
    pub fn adopt_layer_tar(&self, c: CheckedLayer) -> Result<bool> {
        let d = c.diff_id;
        if let Ok(head) = self.layer_head(&d)
            && self.layer_intact(&d, &head)
        {
            return Ok(true);
        }
        let target = self.layer_tar_path(&d);
        c.staged.path.persist(&target).map_err(|e| StoreError::Io {
            path: target.clone(),
            source: e.error,
        })?;
        let _ = fs::remove_file(self.layer_skel_path(&d));
        self.write_layer_meta(&LayerMeta {
            diff_id: d.clone(),
            size: c.size,
            tar_size: c.staged.len,
            recipe: None,
            entries: c.entries,
            contents: Vec::new(),
            split: None,
        })?;
        Ok(false)
    }

    fn context_cache_path(&self, key: &Digest) -> PathBuf {
        self.root.join("ctxcache").join(key.hex())
    }

    /// The build context checksum cache stored under `key` (one per context
    /// folder): bytes the builder owns and validates. None when missing or
    /// unreadable.
    pub fn context_cache(&self, key: &Digest) -> Option<Vec<u8>> {
        fs::read(self.context_cache_path(key)).ok()
    }

    /// Replaces the context checksum cache under `key` (atomically), keeping
    /// only the `CONTEXT_CACHES` most recently written ones.
    pub fn put_context_cache(&self, key: &Digest, bytes: &[u8]) -> Result<()> {
        let path = self.context_cache_path(key);
        home::write_atomic(&path, bytes).map_err(io_err(&path))?;
        let dir = self.root.join("ctxcache");
        let Ok(list) = fs::read_dir(&dir) else {
            return Ok(());
        };
        let mut caches: Vec<(std::time::SystemTime, PathBuf)> = list
            .filter_map(|e| e.ok())
            .filter(|e| Digest::from_hex(&e.file_name().to_string_lossy()).is_ok())
            .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
            .collect();
        if caches.len() > CONTEXT_CACHES {
            caches.sort();
            for (_, p) in &caches[..caches.len() - CONTEXT_CACHES] {
                let _ = fs::remove_file(p);
            }
        }
        Ok(())
    }

    fn blob_path(&self, d: &Digest) -> PathBuf {
        self.root.join("blobs/sha256").join(d.hex())
    }

    /// Stores `bytes` as a blob and returns its digest. Idempotent.
    pub fn put_blob(&self, bytes: &[u8]) -> Result<Digest> {
        let d = Digest::of(bytes);
        let p = self.blob_path(&d);
        if !p.exists() {
            home::write_atomic(&p, bytes).map_err(io_err(&p))?;
        }
        Ok(d)
    }

    /// Reads a blob, verifying its digest.
    pub fn get_blob(&self, d: &Digest) -> Result<Vec<u8>> {
        let p = self.blob_path(d);
        let bytes = match fs::read(&p) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(StoreError::Missing(d.clone()));
            }
            Err(e) => return Err(StoreError::Io { path: p, source: e }),
        };
        let actual = Digest::of(&bytes);
        if &actual != d {
            return Err(StoreError::Corrupt {
                digest: d.clone(),
                actual,
                path: p,
            });
        }
        Ok(bytes)
    }

    pub fn has_blob(&self, d: &Digest) -> bool {
        self.blob_path(d).exists()
    }

    fn remove_blob(&self, d: &Digest) {
        let _ = fs::remove_file(self.blob_path(d));
    }

    fn layer_tar_path(&self, d: &Digest) -> PathBuf {
        self.root.join("layers").join(format!("{}.tar", d.hex()))
    }

    fn layer_skel_path(&self, d: &Digest) -> PathBuf {
        self.root.join("layers").join(format!("{}.skel", d.hex()))
    }

    fn layer_meta_path(&self, d: &Digest) -> PathBuf {
        self.root.join("layers").join(format!("{}.json", d.hex()))
    }

    pub fn has_layer(&self, d: &Digest) -> bool {
        self.layer_meta_path(d).exists()
    }

    /// Writes a changeset as a layer tar (one pass: tar writing, sha256 and
    /// size counting through a single tee) and records its metadata.
    /// Returns the layer and the base it was split against, if any.
    ///
    /// With a `base` (a layer an earlier build of the same step produced),
    /// file bytes that the base's whole tar already holds (same sha256,
    /// known for host files) are not written again: the layer is stored as
    /// parts, its own bytes in `<diff_id>.skel` and ranges of the base tar,
    /// reassembled and verified when read. That only happens when at least
    /// half of the file bytes come from the base; otherwise the tar is
    /// stored whole (a base for later layers). A split layer's base is kept
    /// as long as the split layer is (`collect_garbage`).
    ///
    /// Bytes go through a temporary file and a rename, but are not fsynced
    /// (docker's classic store does not sync layer data either): waiting for
    /// hundreds of MB to reach the disk would dominate a build. Layer bytes
    /// are verified against their diff_id whenever read; a layer left short
    /// by a crash (a file whose length is not the recorded one) is no build
    /// cache hit, and is replaced the next time it is written. The small
    /// metadata file is written durably.
    pub fn put_layer(
        &self,
        entries: &[Entry],
        base: Option<&Digest>,
    ) -> Result<(LayerInfo, Option<Digest>)> {
        let plan = base.and_then(|b| self.reuse_plan(b, entries));
        let tmp_dir = self.root.join("tmp");
        let tmp = tempfile::NamedTempFile::new_in(&tmp_dir).map_err(io_err(&tmp_dir))?;
        let out = BufWriter::with_capacity(1 << 20, tmp.as_file());
        let (info, split) = match plan {
            None => {
                let (info, w) = layer::write_tar(entries, out).map_err(io_err(tmp.path()))?;
                w.into_inner()
                    .map_err(|e| io_err(tmp.path())(e.into_error()))?;
                (info, None)
            }
            Some((base, reuse)) => {
                let w = SkelWriter {
                    out,
                    reuse,
                    next: 0,
                    pos: 0,
                    parts: Vec::new(),
                    own: 0,
                };
                let (info, w) = layer::write_tar(entries, w).map_err(io_err(tmp.path()))?;
                if w.next != w.reuse.len() {
                    return Err(StoreError::Io {
                        path: tmp.path().to_path_buf(),
                        source: io::Error::other("layer parts do not match the tar layout"),
                    });
                }
                w.out
                    .into_inner()
                    .map_err(|e| io_err(tmp.path())(e.into_error()))?;
                let split = Split {
                    base,
                    skel_size: w.own,
                    parts: w.parts,
                };
                (info, Some(split))
            }
        };
        let d = &info.diff_id;
        if let Ok(head) = self.layer_head(d)
            && self.layer_intact(d, &head)
        {
            // Already stored (whole or in parts): keep what is there.
            return Ok((info, head.split.map(|s| s.base)));
        }
        let (target, other) = match split {
            None => (self.layer_tar_path(d), self.layer_skel_path(d)),
            Some(_) => (self.layer_skel_path(d), self.layer_tar_path(d)),
        };
        tmp.persist(&target).map_err(|e| StoreError::Io {
            path: target.clone(),
            source: e.error,
        })?;
        let _ = fs::remove_file(other);
        let offsets = layer::data_offsets(entries);
        let contents = match split {
            Some(_) => Vec::new(),
            None => entries
                .iter()
                .zip(offsets)
                .filter_map(|(e, at)| match &e.kind {
                    layer::Kind::File(layer::Content::File(hf)) if hf.stamp.size > 0 => {
                        Some(StoredContent {
                            sha256: Digest::from_sha256(hf.sha256),
                            at,
                            len: hf.stamp.size,
                        })
                    }
                    _ => None,
                })
                .collect(),
        };
        let base = split.as_ref().map(|s| s.base.clone());
        self.write_layer_meta(&LayerMeta {
            diff_id: d.clone(),
            size: layer::content_size(entries),
            tar_size: info.size,
            recipe: None,
            entries: entries.iter().map(IndexEntry::of).collect(),
            contents,
            split,
        })?;
        Ok((info, base))
    }

    /// Which ranges of a new layer's tar can come from `base` (or from the
    /// base of `base`, when that is split): None when too few.
    fn reuse_plan(&self, base: &Digest, entries: &[Entry]) -> Option<(Digest, Vec<Reuse>)> {
        let meta = self.base_meta(base)?;
        let (base, meta) = match meta.split {
            Some(s) => {
                let m = self.base_meta(&s.base)?;
                (s.base, m)
            }
            None => (base.clone(), meta),
        };
        if meta.recipe.is_some() || meta.split.is_some() || meta.contents.is_empty() {
            return None;
        }
        let head = self.layer_head(&base).ok()?;
        if !self.layer_intact(&base, &head) {
            return None;
        }
        let held: std::collections::HashMap<[u8; 32], &StoredContent> = meta
            .contents
            .iter()
            .map(|c| (c.sha256.bytes(), c))
            .collect();
        let mut reuse = Vec::new();
        for (e, start) in entries.iter().zip(layer::data_offsets(entries)) {
            if let layer::Kind::File(layer::Content::File(hf)) = &e.kind
                && let Some(c) = held.get(&hf.sha256)
                && c.len == hf.stamp.size
                && c.len > 0
            {
                reuse.push(Reuse {
                    start,
                    len: c.len,
                    at: c.at,
                });
            }
        }
        let reused: u64 = reuse.iter().map(|r| r.len).sum();
        let total = layer::content_size(entries);
        (reused > 0 && reused as f64 >= total as f64 * MIN_REUSE).then_some((base, reuse))
    }

    fn base_meta(&self, d: &Digest) -> Option<BaseMeta> {
        let bytes = fs::read(self.layer_meta_path(d)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Records a layer whose bytes are regenerated from `recipe` on demand.
    /// `entries` must be the layer's changeset: its digest and size are
    /// computed here by streaming the tar through sha256 without storing it.
    /// Returns whether the layer was already present.
    pub fn put_recipe_layer(
        &self,
        entries: &[Entry],
        recipe: serde_json::Value,
    ) -> Result<(LayerInfo, bool)> {
        let (info, _) = layer::write_tar(entries, io::sink()).map_err(io_err(&self.root))?;
        let existed = self.has_layer(&info.diff_id);
        if !existed {
            self.write_layer_meta(&LayerMeta {
                diff_id: info.diff_id.clone(),
                size: layer::content_size(entries),
                tar_size: info.size,
                recipe: Some(recipe),
                entries: entries.iter().map(IndexEntry::of).collect(),
                contents: Vec::new(),
                split: None,
            })?;
        }
        Ok((info, existed))
    }

    fn write_layer_meta(&self, meta: &LayerMeta) -> Result<()> {
        let p = self.layer_meta_path(&meta.diff_id);
        let bytes = serde_json::to_vec(meta).expect("layer meta serializes");
        home::write_atomic(&p, &bytes).map_err(io_err(&p))
    }

    pub fn layer_meta(&self, d: &Digest) -> Result<LayerMeta> {
        let p = self.layer_meta_path(d);
        let bytes = match fs::read(&p) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(StoreError::Missing(d.clone()));
            }
            Err(e) => return Err(StoreError::Io { path: p, source: e }),
        };
        serde_json::from_slice(&bytes).map_err(|e| StoreError::BadIndex {
            path: p,
            message: e.to_string(),
        })
    }

    /// A layer's metadata without its entry index (fast: the index of a big
    /// layer is most of the file).
    pub fn layer_head(&self, d: &Digest) -> Result<LayerHead> {
        let p = self.layer_meta_path(d);
        let bytes = match fs::read(&p) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(StoreError::Missing(d.clone()));
            }
            Err(e) => return Err(StoreError::Io { path: p, source: e }),
        };
        serde_json::from_slice(&bytes).map_err(|e| StoreError::BadIndex {
            path: p,
            message: e.to_string(),
        })
    }

    /// docker's size of a layer (`LayerMeta::size`).
    pub fn layer_size(&self, d: &Digest) -> Result<u64> {
        Ok(self.layer_head(d)?.size)
    }

    /// Whether a layer's bytes are whole: regenerated from a recipe, a
    /// stored tar of the recorded length (what a crash can leave is
    /// shorter), or parts whose own bytes and base are whole.
    pub fn layer_intact(&self, d: &Digest, head: &LayerHead) -> bool {
        if head.recipe.is_some() {
            return true;
        }
        match &head.split {
            None => tar_len(&self.layer_tar_path(d)) == Some(head.tar_size),
            Some(s) => {
                tar_len(&self.layer_skel_path(d)) == Some(s.skel_size)
                    && self.layer_head(&s.base).is_ok_and(|b| {
                        b.split.is_none()
                            && tar_len(&self.layer_tar_path(&s.base)) == Some(b.tar_size)
                    })
            }
        }
    }

    /// The bytes of a stored layer's tar, whole or reassembled from parts
    /// (unverified), and the file that holds them (or its own parts).
    fn layer_reader(&self, d: &Digest) -> Result<(Box<dyn Read>, PathBuf)> {
        let open = |p: PathBuf| {
            fs::File::open(&p).map_err(|e| {
                if e.kind() == io::ErrorKind::NotFound {
                    if self.has_layer(d) {
                        StoreError::RecipeOnly(d.clone())
                    } else {
                        StoreError::Missing(d.clone())
                    }
                } else {
                    StoreError::Io { path: p, source: e }
                }
            })
        };
        let split = match self.layer_head(d) {
            Ok(h) => h.split,
            Err(StoreError::Missing(_)) => None,
            Err(e) => return Err(e),
        };
        let Some(s) = split else {
            let p = self.layer_tar_path(d);
            return Ok((Box::new(open(p.clone())?), p));
        };
        let meta = self.layer_meta(d)?;
        let parts = meta.split.map(|s| s.parts).unwrap_or_default();
        let base_path = self.layer_tar_path(&s.base);
        let base = fs::File::open(&base_path).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                StoreError::Missing(s.base.clone())
            } else {
                StoreError::Io {
                    path: base_path.clone(),
                    source: e,
                }
            }
        })?;
        let skel = self.layer_skel_path(d);
        let reader = PartsReader {
            skel: BufReader::new(open(skel.clone())?),
            base,
            parts: parts.into_iter(),
            cur: None,
        };
        Ok((Box::new(reader), skel))
    }

    /// Reads a stored layer tar back into entries, verifying its digest.
    pub fn read_layer(&self, d: &Digest) -> Result<Vec<Entry>> {
        let (f, p) = self.layer_reader(d)?;
        let mut hw = HashingWriter::new(Vec::new());
        io::copy(&mut BufReader::new(f), &mut hw).map_err(io_err(&p))?;
        let (actual, _, bytes) = hw.finish();
        if &actual != d {
            return Err(StoreError::Corrupt {
                digest: d.clone(),
                actual,
                path: p,
            });
        }
        layer::read_tar(&bytes[..]).map_err(io_err(&p))
    }

    /// Opens a stored layer tar for streaming (unverified; callers that
    /// re-hash while copying verify as they go).
    pub fn open_layer(&self, d: &Digest) -> Result<impl Read> {
        Ok(self.layer_reader(d)?.0)
    }

    /// Removes the files of images and layers that the index no longer
    /// references. Called after the index has been updated.
    pub fn collect_garbage(&self, idx: &Index, images: &[Digest], layers: &[Digest]) {
        for id in images {
            if !idx.images.contains_key(id) {
                self.remove_blob(id);
            }
        }
        // The build cache keeps its layers after the images go, as
        // BuildKit's does (`docker builder prune` releases them).
        let cache = self.read_build_cache();
        let live: std::collections::HashSet<&Digest> = idx
            .images
            .values()
            .flat_map(|s| s.layers.iter())
            .chain(cache.values())
            .collect();
        let mut dead: Vec<Digest> = layers
            .iter()
            .filter(|l| !live.contains(l))
            .cloned()
            .collect();
        if dead.is_empty() {
            return;
        }
        // A layer stored in parts keeps its base while it lives, and takes
        // it along when it goes (unless something else still needs it).
        let bases_of = |ls: &mut dyn Iterator<Item = &Digest>| -> Vec<Digest> {
            ls.filter_map(|d| self.layer_head(d).ok()?.split.map(|s| s.base))
                .collect()
        };
        let kept: std::collections::HashSet<Digest> =
            bases_of(&mut live.iter().copied()).into_iter().collect();
        for b in bases_of(&mut dead.iter()) {
            if !live.contains(&b) && !dead.contains(&b) {
                dead.push(b);
            }
        }
        for l in &dead {
            if !kept.contains(l) {
                let _ = fs::remove_file(self.layer_tar_path(l));
                let _ = fs::remove_file(self.layer_skel_path(l));
                let _ = fs::remove_file(self.layer_meta_path(l));
            }
        }
    }
}

/// Resolution of a user-supplied image name.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("No such image: {0}")]
    NotFound(String),
    #[error(transparent)]
    Reference(#[from] crate::reference::ReferenceError),
}

impl Index {
    /// Resolves what a user typed to an image ID the way docker's daemon does:
    /// a full ID, then a tag or digest reference (`latest` by default), then
    /// a unique short ID prefix (optionally `sha256:`).
    pub fn resolve(&self, s: &str) -> std::result::Result<Digest, ResolveError> {
        if let Some(id) = s
            .strip_prefix("sha256:")
            .filter(|h| h.len() == 64)
            .and_then(|h| Digest::from_hex(h).ok())
            && self.images.contains_key(&id)
        {
            return Ok(id);
        }
        let by_name = match Reference::parse(s) {
            Ok(r) => match r.digest() {
                Some(d) => {
                    let key = r.repository().with_digest(d.clone()).to_string();
                    self.digests
                        .get(&key)
                        .cloned()
                        .or_else(|| self.images.contains_key(d).then(|| d.clone()))
                }
                None => self
                    .tags
                    .get(&r.clone().with_default_tag().to_string())
                    .cloned(),
            },
            Err(e) if !crate::reference::looks_like_id_prefix(s) => return Err(e.into()),
            Err(_) => None,
        };
        if let Some(id) = by_name {
            return Ok(id);
        }
        if crate::reference::looks_like_id_prefix(s) {
            let hex = s.strip_prefix("sha256:").unwrap_or(s);
            let mut found = self.images.keys().filter(|id| id.hex().starts_with(hex));
            if let (Some(id), None) = (found.next(), found.next()) {
                return Ok(id.clone());
            }
        }
        let shown = match Reference::parse(s) {
            Ok(r) if r.digest().is_none() => r.with_default_tag().familiar_string(),
            _ => s.to_string(),
        };
        Err(ResolveError::NotFound(shown))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::Content;

    fn layer() -> Vec<Entry> {
        layer::normalize(vec![
            Entry::dir("app", 0o755),
            Entry::file("app/a", Content::bytes(vec![7u8; 5000]), 0o644),
        ])
    }

    /// Entries of host files under `dir` (as the builder makes them).
    fn host_layer(dir: &Path, names: &[&str]) -> Vec<Entry> {
        use crate::layer::{FileStamp, HostFile};
        let mut entries = vec![Entry::dir("ctx", 0o755)];
        for n in names {
            let path = dir.join(n);
            let bytes = fs::read(&path).unwrap();
            let hf = HostFile {
                stamp: FileStamp::of(&fs::metadata(&path).unwrap()),
                sha256: Digest::of(&bytes).bytes(),
                path,
            };
            let name = format!(
                "ctx/{}{n}",
                "long-".repeat(if n.len() % 2 == 0 { 30 } else { 0 })
            );
            entries.push(Entry::file(
                &name,
                Content::File(std::sync::Arc::new(hf)),
                0o644,
            ));
        }
        layer::normalize(entries)
    }

    fn bytes_of(entries: &[Entry]) -> Vec<(String, Vec<u8>)> {
        entries
            .iter()
            .filter_map(|e| match &e.kind {
                layer::Kind::File(c) => Some((e.path.clone(), c.to_vec().unwrap())),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_layer_mostly_like_its_base_is_stored_in_parts_and_reads_back_whole() {
        let home = tempfile::tempdir().unwrap();
        let ctx = tempfile::tempdir().unwrap();
        let store = Store::open(home.path()).unwrap();
        let names = ["a", "bb", "c", "dd", "e"];
        for (i, n) in names.iter().enumerate() {
            fs::write(ctx.path().join(n), vec![i as u8 + 1; 3000 + i * 700]).unwrap();
        }
        let first = host_layer(ctx.path(), &names);
        let (x, split) = store.put_layer(&first, None).unwrap();
        assert!(split.is_none());

        fs::write(ctx.path().join("c"), vec![9u8; 4444]).unwrap();
        let second = host_layer(ctx.path(), &names);
        let (z, split) = store.put_layer(&second, Some(&x.diff_id)).unwrap();
        assert_eq!(split.as_ref(), Some(&x.diff_id));
        assert_eq!(z, layer::write_tar(&second, io::sink()).unwrap().0);
        let skel = fs::metadata(store.layer_skel_path(&z.diff_id))
            .unwrap()
            .len();
        assert!(skel < z.size / 2, "{skel} of {}", z.size);
        assert!(!store.layer_tar_path(&z.diff_id).exists());

        // Read back: verified against the diff_id, and byte for byte.
        let back = store.read_layer(&z.diff_id).unwrap();
        assert_eq!(bytes_of(&back), bytes_of(&second));
        let mut streamed = Vec::new();
        store
            .open_layer(&z.diff_id)
            .unwrap()
            .read_to_end(&mut streamed)
            .unwrap();
        assert_eq!(Digest::of(&streamed), z.diff_id);
        let head = store.layer_head(&z.diff_id).unwrap();
        assert!(store.layer_intact(&z.diff_id, &head));

        // A split layer is never a base: its own base is used instead.
        fs::write(ctx.path().join("a"), vec![7u8; 3000]).unwrap();
        let third = host_layer(ctx.path(), &names);
        let (_, split) = store.put_layer(&third, Some(&z.diff_id)).unwrap();
        assert_eq!(split.as_ref(), Some(&x.diff_id));

        // Too little in common: stored whole.
        for n in &names[1..] {
            fs::write(ctx.path().join(n), b"all new").unwrap();
        }
        let fourth = host_layer(ctx.path(), &names);
        let (w, split) = store.put_layer(&fourth, Some(&x.diff_id)).unwrap();
        assert!(split.is_none());
        assert!(store.layer_tar_path(&w.diff_id).exists());

        // A damaged base makes the split layer unusable, never wrong.
        let base_tar = store.layer_tar_path(&x.diff_id);
        let mut bytes = fs::read(&base_tar).unwrap();
        let at = bytes.len() / 2;
        bytes[at] ^= 0xff;
        fs::write(&base_tar, &bytes).unwrap();
        assert!(matches!(
            store.read_layer(&z.diff_id),
            Err(StoreError::Corrupt { .. })
        ));
        fs::File::options()
            .write(true)
            .open(&base_tar)
            .unwrap()
            .set_len(100)
            .unwrap();
        let head = store.layer_head(&z.diff_id).unwrap();
        assert!(!store.layer_intact(&z.diff_id, &head));
    }

    #[test]
    fn garbage_collection_keeps_the_base_of_a_live_split_layer() {
        let home = tempfile::tempdir().unwrap();
        let ctx = tempfile::tempdir().unwrap();
        let store = Store::open(home.path()).unwrap();
        let names = ["a", "b"];
        for n in names {
            fs::write(ctx.path().join(n), vec![1u8; 5000]).unwrap();
        }
        let (x, _) = store
            .put_layer(&host_layer(ctx.path(), &names), None)
            .unwrap();
        fs::write(ctx.path().join("b"), vec![2u8; 10]).unwrap();
        let (z, split) = store
            .put_layer(&host_layer(ctx.path(), &names), Some(&x.diff_id))
            .unwrap();
        assert!(split.is_some());
        let summary = |l: &Digest| ImageSummary {
            created: String::new(),
            size: 0,
            layers: vec![l.clone()],
            parent: None,
            platform: String::new(),
            last_tag_time: None,
            labels: Default::default(),
        };
        let mut idx = Index::default();
        let img = Digest::of(b"image z");
        idx.images.insert(img.clone(), summary(&z.diff_id));
        // The image of X is gone; Z's image still uses X's bytes.
        store.collect_garbage(&idx, &[], std::slice::from_ref(&x.diff_id));
        assert!(store.read_layer(&z.diff_id).is_ok());
        // Once Z goes, X goes with it.
        idx.images.clear();
        store.collect_garbage(&idx, &[img], std::slice::from_ref(&z.diff_id));
        assert!(!store.has_layer(&z.diff_id));
        assert!(!store.layer_skel_path(&z.diff_id).exists());
        assert!(!store.has_layer(&x.diff_id));
        assert!(!store.layer_tar_path(&x.diff_id).exists());
    }

    #[test]
    fn a_short_layer_tar_is_no_cache_hit_and_is_rewritten() {
        let home = tempfile::tempdir().unwrap();
        let store = Store::open(home.path()).unwrap();
        let (info, _) = store.put_layer(&layer(), None).unwrap();
        store
            .build_cache_put(&[("k".into(), info.diff_id.clone())])
            .unwrap();
        let (d, size) = store.build_cache_get("k").expect("a hit");
        assert_eq!((d, size), (info.diff_id.clone(), 5000));

        // What a crash can leave of a tar that was never synced.
        let tar = store.layer_tar_path(&info.diff_id);
        fs::File::options()
            .write(true)
            .open(&tar)
            .unwrap()
            .set_len(512)
            .unwrap();
        assert!(store.build_cache_get("k").is_none());
        assert!(matches!(
            store.read_layer(&info.diff_id),
            Err(StoreError::Corrupt { .. })
        ));

        store.put_layer(&layer(), None).unwrap();
        assert!(store.build_cache_get("k").is_some());
        assert_eq!(store.read_layer(&info.diff_id).unwrap(), layer());
    }
}
