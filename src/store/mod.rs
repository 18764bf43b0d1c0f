//! The local content-addressed image store (docker's classic image store).
//!
//! It owns bytes and names, nothing else: config blobs under
//! `blobs/sha256/<hex>` (an image's ID is the digest of its config bytes),
//! layers kept uncompressed under `layers/<diff_id hex>.tar` with a small JSON
//! beside each (size and an entry index, or the recipe the layer is
//! regenerated from), and one `index.json` holding references and per-image
//! summaries so listing never opens a blob. It knows nothing about
//! Dockerfiles, the base-image catalog, HTTP or exercises.
//!
//! Safety: every file is written atomically (temp + rename; fsynced, except
//! layer tars, see `put_layer`); the index is re-read and rewritten under an
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
use std::io::{self, BufReader, BufWriter, Read};
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
}

/// How many context folders keep a checksum cache in one store.
const CONTEXT_CACHES: usize = 16;

/// `LayerMeta` without the entry index.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct LayerHead {
    pub size: u64,
    pub tar_size: u64,
    #[serde(default)]
    pub recipe: Option<serde::de::IgnoredAny>,
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
        let mut idx = self.read_index()?;
        let out = f(&mut idx)?;
        let path = self.index_path();
        let bytes = serde_json::to_vec(&idx).expect("index serializes");
        home::write_atomic(&path, &bytes).map_err(io_err(&path))?;
        Ok(out)
    }

    fn index_path(&self) -> PathBuf {
        self.root.join("index.json")
    }

    fn read_index(&self) -> Result<Index> {
        let path = self.index_path();
        match fs::read(&path) {
            Ok(b) => serde_json::from_slice(&b).map_err(|e| StoreError::BadIndex {
                path: path.clone(),
                message: e.to_string(),
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Index::default()),
            Err(e) => Err(StoreError::Io { path, source: e }),
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

    /// Records a build step's layer under its cache key.
    pub fn build_cache_put(&self, key: &str, layer: &Digest) -> Result<()> {
        let _l = Lock::exclusive(&self.root).map_err(io_err(&self.root))?;
        let mut cache = self.read_build_cache();
        cache.insert(key.to_string(), layer.clone());
        let path = self.build_cache_path();
        let bytes = serde_json::to_vec(&cache).expect("cache serializes");
        home::write_atomic(&path, &bytes).map_err(io_err(&path))
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

    fn layer_meta_path(&self, d: &Digest) -> PathBuf {
        self.root.join("layers").join(format!("{}.json", d.hex()))
    }

    pub fn has_layer(&self, d: &Digest) -> bool {
        self.layer_meta_path(d).exists()
    }

    /// Writes a changeset as a layer tar (one pass: tar writing, sha256 and
    /// size counting through a single tee) and records its metadata.
    ///
    /// The tar goes through a temporary file and a rename, but is not
    /// fsynced (docker's classic store does not sync layer data either):
    /// waiting for hundreds of MB to reach the disk would dominate a build.
    /// Layer tars are verified against their diff_id whenever read; one left
    /// short by a crash (its length is not the recorded `tar_size`) is no
    /// build cache hit, and is replaced the next time the layer is written.
    /// The small metadata file is written durably.
    pub fn put_layer(&self, entries: &[Entry]) -> Result<LayerInfo> {
        let tmp_dir = self.root.join("tmp");
        let tmp = tempfile::NamedTempFile::new_in(&tmp_dir).map_err(io_err(&tmp_dir))?;
        let (info, w) = layer::write_tar(entries, BufWriter::with_capacity(1 << 20, tmp.as_file()))
            .map_err(io_err(tmp.path()))?;
        w.into_inner().map_err(|e| StoreError::Io {
            path: tmp.path().to_path_buf(),
            source: e.into_error(),
        })?;
        let target = self.layer_tar_path(&info.diff_id);
        if tar_len(&target) != Some(info.size) {
            tmp.persist(&target).map_err(|e| StoreError::Io {
                path: target.clone(),
                source: e.error,
            })?;
        }
        self.write_layer_meta(&LayerMeta {
            diff_id: info.diff_id.clone(),
            size: layer::content_size(entries),
            tar_size: info.size,
            recipe: None,
            entries: entries.iter().map(IndexEntry::of).collect(),
        })?;
        Ok(info)
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

    /// Whether a layer's bytes are whole: regenerated from a recipe, or a
    /// stored tar of the recorded length (what a crash can leave is shorter).
    pub fn layer_intact(&self, d: &Digest, head: &LayerHead) -> bool {
        head.recipe.is_some() || tar_len(&self.layer_tar_path(d)) == Some(head.tar_size)
    }

    /// Reads a stored layer tar back into entries, verifying its digest.
    pub fn read_layer(&self, d: &Digest) -> Result<Vec<Entry>> {
        let p = self.layer_tar_path(d);
        let f = match fs::File::open(&p) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(if self.has_layer(d) {
                    StoreError::RecipeOnly(d.clone())
                } else {
                    StoreError::Missing(d.clone())
                });
            }
            Err(e) => return Err(StoreError::Io { path: p, source: e }),
        };
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
        let p = self.layer_tar_path(d);
        fs::File::open(&p).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                StoreError::RecipeOnly(d.clone())
            } else {
                StoreError::Io {
                    path: p.clone(),
                    source: e,
                }
            }
        })
    }

    /// Removes the files of images and layers that the index no longer
    /// references. Called after the index has been updated.
    pub fn collect_garbage(&self, idx: &Index, images: &[Digest], layers: &[Digest]) {
        for id in images {
            if !idx.images.contains_key(id) {
                self.remove_blob(id);
            }
        }
        let live: std::collections::HashSet<&Digest> =
            idx.images.values().flat_map(|s| s.layers.iter()).collect();
        for l in layers {
            if !live.contains(l) {
                let _ = fs::remove_file(self.layer_tar_path(l));
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

    #[test]
    fn a_short_layer_tar_is_no_cache_hit_and_is_rewritten() {
        let home = tempfile::tempdir().unwrap();
        let store = Store::open(home.path()).unwrap();
        let info = store.put_layer(&layer()).unwrap();
        store.build_cache_put("k", &info.diff_id).unwrap();
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

        store.put_layer(&layer()).unwrap();
        assert!(store.build_cache_get("k").is_some());
        assert_eq!(store.read_layer(&info.diff_id).unwrap(), layer());
    }
}
