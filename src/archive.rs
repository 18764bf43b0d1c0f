//! Image archives: `docker save` and `docker load`.
//!
//! `save` writes what Docker 25+ writes: docker's `manifest.json` (Config,
//! RepoTags, Layers) and `repositories`, and in the same tar an OCI image
//! layout (`oci-layout`, `index.json`, `blobs/sha256/<hex>`: configs, OCI
//! manifests, uncompressed layers named by their diff_id), with
//! `manifest.json` pointing into `blobs/`. Members are written sorted, owned
//! by root with mtime 0, so the same images give the same archive bytes;
//! layers stream from the store (verified as they are read, regenerated for
//! catalog layers) and nothing is held in memory but the small JSON files.
//!
//! `load` reads archives written by docker (the old `<id>/layer.tar` form
//! and the OCI-blob form), podman and skopeo (`docker-archive`), and bare
//! OCI layouts, plain or compressed. Every member is streamed once into the
//! store's tmp folder while it is hashed; hostile members are refused by
//! name (absolute paths, `..` climbing out, symlinks or hard links leading
//! out of the archive root, paths through symlinks), sizes and member counts
//! are bounded (`Limits`), JSON is read only up to a bound. Then every blob
//! is checked against its name, every layer against its config's diff_id
//! and as a tar (`Store::check_layer_tar`), and only when all images of the
//! archive are good are layers adopted, configs stored and tags set: a
//! refused archive leaves the store as it was. Errors are docker's texts
//! where moby's `image/tarexport` has one, imagelab's own otherwise.

use crate::builder::archive::Compression;
use crate::catalog::Platform;
use crate::digest::Digest;
use crate::engine::{Engine, EngineError};
use crate::reference::{Reference, ReferenceError};
use crate::store::{CheckedLayer, Staged, StoreError};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{self, BufRead, Read, Write};

/// Where docker's daemon unpacks an archive; only shown in its messages.
const IMPORT_DIR: &str = "/var/lib/docker/tmp/docker-import-2960581245";

/// Why a save or a load failed.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("reference does not exist")]
    NoReference,
    #[error("No such image: {0}")]
    NoSuchImage(String),
    #[error("empty export - not implemented")]
    EmptyExport,
    #[error("open {IMPORT_DIR}/{0}: no such file or directory")]
    MissingMember(String),
    #[error("invalid manifest, manifest cannot be null (but can be [])")]
    NullManifest,
    #[error("invalid manifest, layers length mismatch: expected {expected}, got {actual}")]
    LayerCount { expected: usize, actual: usize },
    #[error("invalid diffID for layer {index}: expected \"{expected}\", got \"{actual}\"")]
    DiffId {
        index: usize,
        expected: Digest,
        actual: Digest,
    },
    #[error("invalid tag \"{0}\"")]
    InvalidTag(String),
    #[error("invalid image JSON, no RootFS key")]
    NoRootFs,
    #[error("cannot load {0} image on linux")]
    WrongOs(String),
    #[error("archive member {member:?}: {problem}")]
    Member { member: String, problem: String },
    #[error("archive member {member:?}: malformed JSON: {message}")]
    BadJson { member: String, message: String },
    #[error(
        "archive member {member:?}: content hashes to {actual}, not the {expected} its name says"
    )]
    BlobDigest {
        member: String,
        expected: Digest,
        actual: Digest,
    },
    #[error("archive is corrupt or truncated: {0}")]
    Corrupt(String),
    #[error("archive has more than {0} members (decompression bomb?)")]
    TooManyMembers(usize),
    #[error("archive unpacks to more than {0} bytes (decompression bomb?)")]
    TooLarge(u64),
    #[error("no image in the archive's index.json is for linux/amd64")]
    NoImage,
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Io(#[from] io::Error),
}

pub type Result<T> = std::result::Result<T, ArchiveError>;

/// Bounds on what one `load` may unpack.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Total bytes of all members (and of decompressed layers).
    pub max_total: u64,
    /// Members of the archive.
    pub max_members: usize,
    /// The largest JSON member read (manifest.json, index.json, configs).
    pub max_json: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_total: 64 << 30,
            max_members: 100_000,
            max_json: 16 << 20,
        }
    }
}

// ---------------------------------------------------------------- save

/// One image to save and the tags it is saved under.
#[derive(Clone, Debug)]
pub struct SaveImage {
    pub id: Digest,
    pub tags: Vec<Reference>,
}

/// Resolves `docker save` arguments as moby's `parseNames`: an ID (full or
/// short) saves the image untagged, `name:tag` that tag, a bare name every
/// tag of the repository. Images named twice are saved once, tags merged.
pub fn resolve_names(engine: &Engine, names: &[String]) -> Result<Vec<SaveImage>> {
    let idx = engine.index()?;
    let mut out: Vec<SaveImage> = Vec::new();
    let mut add = |id: Digest, tag: Option<Reference>| {
        let i = match out.iter().position(|s| s.id == id) {
            Some(i) => i,
            None => {
                out.push(SaveImage {
                    id,
                    tags: Vec::new(),
                });
                out.len() - 1
            }
        };
        if let Some(t) = tag
            && !out[i].tags.contains(&t)
        {
            out[i].tags.push(t);
        }
    };
    for name in names {
        if let Some(hex) = name.strip_prefix("sha256:")
            && let Ok(d) = Digest::from_hex(hex)
        {
            if !idx.images.contains_key(&d) {
                return Err(ArchiveError::NoSuchImage(name.clone()));
            }
            add(d, None);
            continue;
        }
        let r = match Reference::parse(name) {
            Ok(r) => r,
            Err(e) => {
                if crate::reference::looks_like_id_prefix(name) {
                    let id = idx
                        .resolve(name)
                        .map_err(|_| ArchiveError::NoSuchImage(name.clone()))?;
                    add(id, None);
                    continue;
                }
                return Err(e.into());
            }
        };
        if r.digest().is_some() {
            let id = idx.resolve(name).map_err(|_| ArchiveError::NoReference)?;
            add(id, None);
        } else if r.tag().is_none() {
            let prefix = format!("{}:", r.name());
            let tagged: Vec<(String, Digest)> = idx
                .tags
                .iter()
                .filter(|(k, _)| k.starts_with(&prefix))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if tagged.is_empty() {
                let id = idx
                    .resolve(name)
                    .map_err(|_| ArchiveError::NoSuchImage(name.clone()))?;
                add(id, None);
            }
            for (k, id) in tagged {
                add(id, Some(Reference::parse(&k)?));
            }
        } else {
            let id = idx
                .tags
                .get(&r.to_string())
                .cloned()
                .ok_or(ArchiveError::NoReference)?;
            add(id, Some(r));
        }
    }
    Ok(out)
}

/// What a blob member of a saved archive holds.
enum Blob {
    Bytes(Vec<u8>),
    Layer { diff_id: Digest, size: u64 },
}

/// Writes `images` as one archive to `w` and returns its length. The
/// layers stream from the store; `w` sees every byte once.
pub fn save(engine: &Engine, images: &[SaveImage], w: &mut dyn Write) -> Result<u64> {
    let mut blobs: BTreeMap<String, Blob> = BTreeMap::new();
    let mut manifest = Vec::new();
    let mut descriptors = Vec::new();
    let mut repositories: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for img in images {
        let image = engine.image(&img.id)?;
        let diff_ids = crate::engine::diff_ids_of(&image.config);
        if diff_ids.is_empty() {
            return Err(ArchiveError::EmptyExport);
        }
        let mut layers = Vec::new();
        let mut oci_layers = Vec::new();
        for d in &diff_ids {
            let size = engine.store.layer_head(d)?.tar_size;
            layers.push(format!("blobs/sha256/{}", d.hex()));
            oci_layers.push(serde_json::json!({
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": d.to_string(),
                "size": size,
            }));
            blobs.insert(
                d.hex(),
                Blob::Layer {
                    diff_id: d.clone(),
                    size,
                },
            );
        }
        let mut platform = serde_json::json!({
            "architecture": image.config["architecture"].as_str().unwrap_or("amd64"),
            "os": image.config["os"].as_str().unwrap_or("linux"),
        });
        if let Some(v) = image.config["variant"].as_str() {
            platform["variant"] = v.into();
        }
        let m = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": img.id.to_string(),
                "size": image.config_bytes.len(),
                "platform": platform,
            },
            "layers": oci_layers,
        }))
        .expect("json serializes");
        let md = Digest::of(&m);
        let desc = |annotations: Option<serde_json::Value>| {
            let mut v = serde_json::json!({
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": md.to_string(),
                "size": m.len(),
            });
            if let Some(a) = annotations {
                v["annotations"] = a;
            }
            v["platform"] = platform.clone();
            v
        };
        if img.tags.is_empty() {
            descriptors.push(desc(None));
        }
        let mut repo_tags = Vec::new();
        for t in &img.tags {
            let tag = t.tag().unwrap_or("latest").to_string();
            repositories
                .entry(t.familiar_name())
                .or_default()
                .insert(tag.clone(), diff_ids.last().expect("non-empty").hex());
            repo_tags.push(t.familiar_string());
            descriptors.push(desc(Some(serde_json::json!({
                "io.containerd.image.name": t.to_string(),
                "org.opencontainers.image.ref.name": tag,
            }))));
        }
        manifest.push(serde_json::json!({
            "Config": format!("blobs/sha256/{}", img.id.hex()),
            "RepoTags": if repo_tags.is_empty() { serde_json::Value::Null } else { repo_tags.into() },
            "Layers": layers,
        }));
        blobs.insert(img.id.hex(), Blob::Bytes(image.config_bytes));
        blobs.insert(md.hex(), Blob::Bytes(m));
    }
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": descriptors,
    }))
    .expect("json serializes");
    let mut manifest = serde_json::to_vec(&manifest).expect("json serializes");
    manifest.push(b'\n');

    let mut tw = TarWriter { w, written: 0 };
    tw.dir("blobs/")?;
    tw.dir("blobs/sha256/")?;
    for (hex, blob) in &blobs {
        let name = format!("blobs/sha256/{hex}");
        match blob {
            Blob::Bytes(b) => tw.file(&name, b)?,
            Blob::Layer { diff_id, size } => tw.layer(engine, &name, diff_id, *size)?,
        }
    }
    tw.file("index.json", &index)?;
    tw.file("manifest.json", &manifest)?;
    tw.file("oci-layout", br#"{"imageLayoutVersion": "1.0.0"}"#)?;
    if !repositories.is_empty() {
        let mut r = serde_json::to_vec(&repositories).expect("json serializes");
        r.push(b'\n');
        tw.file("repositories", &r)?;
    }
    tw.finish()
}

/// The outer tar, written header by header so layer bytes can stream into
/// it from the store (the `tar` crate makes the headers).
struct TarWriter<'a> {
    w: &'a mut dyn Write,
    written: u64,
}

impl TarWriter<'_> {
    fn header(&mut self, name: &str, size: u64, dir: bool) -> io::Result<()> {
        let mut h = tar::Header::new_ustar();
        h.set_path(name)?;
        h.set_size(size);
        h.set_mode(if dir { 0o755 } else { 0o644 });
        h.set_entry_type(if dir {
            tar::EntryType::Directory
        } else {
            tar::EntryType::Regular
        });
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h.set_cksum();
        self.put(h.as_bytes())
    }

    fn put(&mut self, b: &[u8]) -> io::Result<()> {
        self.w.write_all(b)?;
        self.written += b.len() as u64;
        Ok(())
    }

    fn pad(&mut self, size: u64) -> io::Result<()> {
        let rem = (size % 512) as usize;
        if rem != 0 {
            self.put(&[0u8; 512][..512 - rem])?;
        }
        Ok(())
    }

    fn dir(&mut self, name: &str) -> io::Result<()> {
        self.header(name, 0, true)
    }

    fn file(&mut self, name: &str, bytes: &[u8]) -> io::Result<()> {
        self.header(name, bytes.len() as u64, false)?;
        self.put(bytes)?;
        self.pad(bytes.len() as u64)
    }

    fn layer(&mut self, engine: &Engine, name: &str, diff_id: &Digest, size: u64) -> Result<()> {
        self.header(name, size, false)?;
        let mut counted = Counting {
            w: &mut *self.w,
            n: 0,
        };
        crate::distribution::write_layer_tar(engine, diff_id, &mut counted).map_err(|e| {
            ArchiveError::Corrupt(format!("layer {diff_id} could not be read: {e}"))
        })?;
        let n = counted.n;
        if n != size {
            return Err(ArchiveError::Corrupt(format!(
                "layer {diff_id} is {n} bytes, its record says {size}"
            )));
        }
        self.written += n;
        self.pad(size)?;
        Ok(())
    }

    fn finish(mut self) -> Result<u64> {
        self.put(&[0u8; 1024])?;
        self.w.flush()?;
        Ok(self.written)
    }
}

struct Counting<'a> {
    w: &'a mut dyn Write,
    n: u64,
}

impl Write for Counting<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.w.write(buf)?;
        self.n += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}

// ---------------------------------------------------------------- export

/// The entries docker's init layer adds under every container (mount
/// points for the files and file systems the runtime provides): what
/// `docker export` shows beside the image's and the container's files.
pub fn init_layer() -> Vec<crate::layer::Entry> {
    use crate::layer::{Content, Entry};
    let file = |p: &str| Entry::file(p, Content::bytes(Vec::new()), 0o755);
    vec![
        file(".dockerenv"),
        Entry::dir("dev", 0o755),
        file("dev/console"),
        Entry::dir("dev/pts", 0o755),
        Entry::dir("dev/shm", 0o755),
        Entry::dir("etc", 0o755),
        file("etc/hostname"),
        file("etc/hosts"),
        Entry::symlink("etc/mtab", "/proc/mounts"),
        file("etc/resolv.conf"),
        Entry::dir("proc", 0o755),
        Entry::dir("sys", 0o755),
    ]
}

/// A container's file system as `docker export` writes it: the image's
/// layers, the init layer, then the container's writable layer, merged
/// (whiteouts applied) and in tar order.
pub fn export_entries(
    engine: &Engine,
    diff_ids: &[Digest],
    rw: Vec<crate::layer::Entry>,
) -> Result<Vec<crate::layer::Entry>> {
    let mut root = engine.rootfs(diff_ids)?;
    let init: Vec<_> = init_layer()
        .into_iter()
        .filter(|e| {
            // The init layer keeps an image's own directories as they are.
            !matches!(e.kind, crate::layer::Kind::Dir) || !root.entries.contains_key(&e.path)
        })
        .collect();
    root.apply(init);
    root.apply(rw);
    Ok(crate::layer::normalize(
        root.entries.into_values().collect(),
    ))
}

// ---------------------------------------------------------------- load

/// What `load` did, for the command to print as docker does.
#[derive(Debug, Default)]
pub struct Loaded {
    pub images: Vec<LoadedImage>,
    /// Layers newly stored: diff_id and archive member size, in order.
    pub layers: Vec<(Digest, u64)>,
}

#[derive(Debug)]
pub struct LoadedImage {
    pub id: Digest,
    /// Familiar `name:tag` and the image that tag named before, if another.
    pub tags: Vec<(String, Option<Digest>)>,
}

/// The unpacked archive: staged files by cleaned path, links, directories.
struct Members {
    files: HashMap<String, Staged>,
    /// Symlinks and hard links: path → the path they resolve to (inside the
    /// root, lexically).
    links: HashMap<String, String>,
    dirs: BTreeSet<String>,
    /// Bytes staged so far.
    total: u64,
}

fn parent(p: &str) -> &str {
    p.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
}

impl Members {
    /// Resolves `name` inside the archive root as moby's `safePath`
    /// (`FollowSymlinkInScope`): links at any component are followed, and
    /// never lead out of the root.
    fn resolve(&self, name: &str) -> Option<String> {
        let mut path = crate::layer::confined_path(name)?;
        for _ in 0..40 {
            let comps: Vec<&str> = path.split('/').collect();
            let mut hop = None;
            for i in 1..=comps.len() {
                let prefix = comps[..i].join("/");
                if let Some(t) = self.links.get(&prefix) {
                    let rest = comps[i..].join("/");
                    hop = Some(if rest.is_empty() {
                        t.clone()
                    } else {
                        format!("{t}/{rest}")
                    });
                    break;
                }
            }
            match hop {
                Some(p) => path = crate::layer::confined_path(&p)?,
                None => return Some(path),
            }
        }
        None
    }

    fn take(&mut self, name: &str) -> Result<(String, Staged)> {
        let p = self
            .resolve(name)
            .ok_or_else(|| ArchiveError::MissingMember(name.to_string()))?;
        let s = self
            .files
            .remove(&p)
            .ok_or_else(|| ArchiveError::MissingMember(name.to_string()))?;
        Ok((p, s))
    }

    fn read_json(&mut self, name: &str, limits: &Limits) -> Result<(Vec<u8>, Digest)> {
        let (p, s) = self.take(name)?;
        if s.len > limits.max_json {
            return Err(ArchiveError::Member {
                member: p,
                problem: format!("{} bytes is too large for a JSON file", s.len),
            });
        }
        let mut b = Vec::new();
        s.open()?.read_to_end(&mut b)?;
        let d = s.digest.clone();
        // Put it back: another image may share the config.
        self.files.insert(p, s);
        Ok((b, d))
    }
}

/// The digest a member's name promises: `blobs/sha256/<hex>` or a
/// `<hex>.json` config of the old format.
fn named_digest(name: &str) -> Option<Digest> {
    let p = crate::layer::confined_path(name)?;
    if let Some(hex) = p.strip_prefix("blobs/sha256/") {
        return Digest::from_hex(hex).ok();
    }
    p.strip_suffix(".json")
        .and_then(|h| Digest::from_hex(h).ok())
}

/// Counts bytes read; fails past the budget (decompression bombs).
struct Budget<R> {
    inner: R,
    left: u64,
    limit: u64,
}

impl<R: Read> Read for Budget<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            return Err(io::Error::other(format!(
                "archive unpacks to more than {} bytes (decompression bomb?)",
                self.limit
            )));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// A plain, gzip, bzip2, xz or zstd tar stream, decompressed and bounded
/// to `limit` bytes (more is an error naming the bomb): what `docker
/// import` reads.
pub fn decompressed<'a>(r: Box<dyn Read + 'a>, limit: u64) -> Result<Box<dyn Read + 'a>> {
    let mut br = io::BufReader::with_capacity(1 << 20, r);
    let c = Compression::sniff(br.fill_buf()?);
    Ok(Box::new(Budget {
        inner: decoder(c, Box::new(br))?,
        left: limit,
        limit,
    }))
}

/// A decompressing reader for `c`.
fn decoder<'a>(c: Compression, r: Box<dyn BufRead + 'a>) -> Result<Box<dyn Read + 'a>> {
    Ok(match c {
        Compression::None => Box::new(r),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(r)),
        Compression::Bzip2 => Box::new(bzip2::bufread::MultiBzDecoder::new(r)),
        Compression::Xz => Box::new(lzma_rust2::XzReader::new_mem_limit(r, true, 256 * 1024)),
        Compression::Zstd => Box::new(
            ruzstd::decoding::StreamingDecoder::new(r)
                .map_err(|e| ArchiveError::Corrupt(format!("zstd: {e}")))?,
        ),
    })
}

/// Unpacks the outer tar into staged members, refusing hostile ones.
fn unpack(engine: &Engine, input: &mut dyn Read, limits: &Limits) -> Result<Members> {
    let mut br = io::BufReader::with_capacity(1 << 20, input);
    let c = Compression::sniff(br.fill_buf()?);
    let stream = Budget {
        inner: decoder(c, Box::new(br))?,
        left: limits.max_total,
        limit: limits.max_total,
    };
    let mut ar = tar::Archive::new(stream);
    let mut m = Members {
        files: HashMap::new(),
        links: HashMap::new(),
        dirs: BTreeSet::new(),
        total: 0,
    };
    let corrupt = |e: io::Error| {
        let s = e.to_string();
        if s.contains("decompression bomb") {
            ArchiveError::TooLarge(limits.max_total)
        } else {
            ArchiveError::Corrupt(s)
        }
    };
    let mut count = 0usize;
    for ent in ar.entries().map_err(corrupt)? {
        let mut ent = ent.map_err(corrupt)?;
        count += 1;
        if count > limits.max_members {
            return Err(ArchiveError::TooManyMembers(limits.max_members));
        }
        let raw = String::from_utf8_lossy(&ent.path_bytes()).to_string();
        let bad = |problem: String| ArchiveError::Member {
            member: raw.clone(),
            problem,
        };
        if raw.starts_with('/') {
            return Err(bad("absolute path".into()));
        }
        let path = crate::layer::confined_path(&raw)
            .ok_or_else(|| bad("path climbs out of the archive root".into()))?;
        // A path may not pass through a link or a file written earlier.
        let comps: Vec<&str> = path.split('/').collect();
        for i in 1..comps.len() {
            let prefix = comps[..i].join("/");
            if m.links.contains_key(&prefix) {
                return Err(bad(format!("path goes through the link {prefix:?}")));
            }
            if m.files.contains_key(&prefix) {
                return Err(bad(format!("{prefix:?} is not a directory")));
            }
        }
        let et = ent.header().entry_type();
        let link = ent
            .link_name_bytes()
            .map(|l| String::from_utf8_lossy(&l).to_string());
        m.links.remove(&path);
        m.files.remove(&path);
        if path.is_empty() {
            continue;
        }
        if et.is_dir() {
            m.dirs.insert(path);
        } else if et.is_symlink() {
            let target = link.unwrap_or_default();
            let joined = if target.starts_with('/') {
                target.clone()
            } else {
                format!("{}/{target}", parent(&path))
            };
            let to = crate::layer::confined_path(&joined).ok_or_else(|| {
                bad(format!(
                    "symlink to {target:?} leads out of the archive root"
                ))
            })?;
            m.links.insert(path, to);
        } else if et.is_hard_link() {
            let target = link.unwrap_or_default();
            let to = crate::layer::confined_path(&target).ok_or_else(|| {
                bad(format!(
                    "hard link to {target:?} leads out of the archive root"
                ))
            })?;
            if !m.files.contains_key(&to) {
                return Err(bad(format!(
                    "hard link to {target:?}, which is not an earlier file of the archive"
                )));
            }
            m.links.insert(path, to);
        } else if et.is_file() || et == tar::EntryType::Continuous {
            let left = limits.max_total.saturating_sub(m.total);
            let staged = match engine.store.stage(&mut ent, left) {
                Ok(s) => s,
                Err(StoreError::TooLarge { .. }) => {
                    return Err(ArchiveError::TooLarge(limits.max_total));
                }
                Err(StoreError::Io { source, .. }) => {
                    let s = source.to_string();
                    if s.contains("decompression bomb") {
                        return Err(ArchiveError::TooLarge(limits.max_total));
                    }
                    return Err(bad(format!("truncated or unreadable: {s}")));
                }
                Err(e) => return Err(e.into()),
            };
            m.total += staged.len;
            m.files.insert(path, staged);
        }
        // Devices, FIFOs and PAX global headers carry nothing an image needs.
    }
    Ok(m)
}

/// One image of the archive, in a common form for both formats.
struct Item {
    config: String,
    tags: Vec<String>,
    layers: Vec<String>,
}

#[derive(serde::Deserialize)]
struct ManifestItem {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags", default)]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers", default)]
    layers: Vec<String>,
}

fn bad_json(member: &str, e: serde_json::Error) -> ArchiveError {
    ArchiveError::BadJson {
        member: member.to_string(),
        message: e.to_string(),
    }
}

/// The images an OCI layout's `index.json` names (nested indexes followed
/// for linux/amd64), as items.
fn oci_items(m: &mut Members, limits: &Limits) -> Result<Vec<Item>> {
    let (b, _) = m.read_json("index.json", limits)?;
    let index: serde_json::Value =
        serde_json::from_slice(&b).map_err(|e| bad_json("index.json", e))?;
    let mut items = Vec::new();
    let mut todo: Vec<(serde_json::Value, u8)> = index["manifests"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|d| (d, 0))
        .collect();
    todo.reverse();
    while let Some((d, depth)) = todo.pop() {
        let mt = d["mediaType"].as_str().unwrap_or_default();
        let digest = d["digest"]
            .as_str()
            .and_then(|s| Digest::parse(s).ok())
            .ok_or_else(|| ArchiveError::BadJson {
                member: "index.json".into(),
                message: "a descriptor has no valid digest".into(),
            })?;
        let name = format!("blobs/sha256/{}", digest.hex());
        let (bytes, got) = m.read_json(&name, limits)?;
        if got != digest {
            return Err(ArchiveError::BlobDigest {
                member: name,
                expected: digest,
                actual: got,
            });
        }
        let v: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| bad_json(&name, e))?;
        if mt.contains("index") || mt.contains("manifest.list") || v["manifests"].is_array() {
            if depth < 4 {
                for e in v["manifests"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .rev()
                {
                    let p = &e["platform"];
                    if p.is_null() || (p["os"] == "linux" && p["architecture"] == "amd64") {
                        todo.push((e, depth + 1));
                    }
                }
            }
            continue;
        }
        let blob_path = |x: &serde_json::Value| -> Result<String> {
            x["digest"]
                .as_str()
                .and_then(|s| Digest::parse(s).ok())
                .map(|d| format!("blobs/sha256/{}", d.hex()))
                .ok_or_else(|| ArchiveError::BadJson {
                    member: name.clone(),
                    message: "a descriptor has no valid digest".into(),
                })
        };
        let config = blob_path(&v["config"])?;
        let layers = v["layers"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(blob_path)
            .collect::<Result<Vec<_>>>()?;
        let tags = d["annotations"]["io.containerd.image.name"]
            .as_str()
            .map(|n| vec![n.to_string()])
            .unwrap_or_default();
        items.push(Item {
            config,
            tags,
            layers,
        });
    }
    if items.is_empty() {
        return Err(ArchiveError::NoImage);
    }
    Ok(items)
}

/// An image checked and ready to be stored.
struct Prepared {
    id: Digest,
    config_bytes: Vec<u8>,
    config: serde_json::Value,
    diff_ids: Vec<Digest>,
    tags: Vec<Reference>,
}

/// `docker load`: reads an archive from `input` into the engine's store.
pub fn load(engine: &Engine, input: &mut dyn Read, limits: &Limits) -> Result<Loaded> {
    let mut m = unpack(engine, input, limits)?;
    let items = if m
        .resolve("manifest.json")
        .is_some_and(|p| m.files.contains_key(&p))
    {
        let (b, _) = m.read_json("manifest.json", limits)?;
        let v: serde_json::Value =
            serde_json::from_slice(&b).map_err(|e| bad_json("manifest.json", e))?;
        if v.is_null() {
            return Err(ArchiveError::NullManifest);
        }
        let list: Vec<ManifestItem> =
            serde_json::from_value(v).map_err(|e| bad_json("manifest.json", e))?;
        list.into_iter()
            .map(|i| Item {
                config: i.config,
                tags: i.repo_tags.unwrap_or_default(),
                layers: i.layers,
            })
            .collect()
    } else if m
        .resolve("index.json")
        .is_some_and(|p| m.files.contains_key(&p))
    {
        oci_items(&mut m, limits)?
    } else {
        return Err(ArchiveError::MissingMember("manifest.json".into()));
    };

    // Check everything before anything is stored.
    let mut prepared: Vec<Prepared> = Vec::new();
    let mut checked: Vec<(CheckedLayer, u64)> = Vec::new();
    let mut seen: BTreeSet<Digest> = BTreeSet::new();
    for item in &items {
        let (config_bytes, cd) = m.read_json(&item.config, limits)?;
        if let Some(want) = named_digest(&item.config)
            && want != cd
        {
            return Err(ArchiveError::BlobDigest {
                member: item.config.clone(),
                expected: want,
                actual: cd,
            });
        }
        let config: serde_json::Value =
            serde_json::from_slice(&config_bytes).map_err(|e| bad_json(&item.config, e))?;
        if !config.is_object() || config.get("rootfs").is_none_or(|r| r.is_null()) {
            return Err(ArchiveError::NoRootFs);
        }
        let os = config["os"].as_str().unwrap_or("linux");
        if os != "linux" {
            return Err(ArchiveError::WrongOs(os.to_string()));
        }
        let diff_ids = config["rootfs"]["diff_ids"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|v| {
                v.as_str()
                    .and_then(|s| Digest::parse(s).ok())
                    .ok_or_else(|| ArchiveError::BadJson {
                        member: item.config.clone(),
                        message: format!("invalid diff_id {v}"),
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        if item.layers.len() != diff_ids.len() {
            return Err(ArchiveError::LayerCount {
                expected: item.layers.len(),
                actual: diff_ids.len(),
            });
        }
        let mut tags = Vec::new();
        for t in &item.tags {
            let r = Reference::parse(t)?;
            if r.tag().is_none() || r.digest().is_some() {
                return Err(ArchiveError::InvalidTag(t.clone()));
            }
            tags.push(r);
        }
        for (i, (name, diff_id)) in item.layers.iter().zip(&diff_ids).enumerate() {
            if seen.contains(diff_id) {
                continue;
            }
            if let Ok(head) = engine.store.layer_head(diff_id)
                && engine.store.layer_intact(diff_id, &head)
            {
                seen.insert(diff_id.clone());
                continue;
            }
            let (member, staged) = m.take(name)?;
            if let Some(want) = named_digest(name)
                && want != staged.digest
            {
                return Err(ArchiveError::BlobDigest {
                    member,
                    expected: want,
                    actual: staged.digest,
                });
            }
            let member_size = staged.len;
            let mut head = [0u8; 8];
            let n = staged.open()?.read(&mut head)?;
            let c = Compression::sniff(&head[..n]);
            let staged = if c == Compression::None {
                staged
            } else {
                let f = io::BufReader::with_capacity(1 << 20, staged.open()?);
                let mut r = decoder(c, Box::new(f))?;
                let left = limits.max_total;
                match engine.store.stage(&mut r, left) {
                    Ok(s) => s,
                    Err(StoreError::TooLarge { .. }) => {
                        return Err(ArchiveError::TooLarge(limits.max_total));
                    }
                    Err(StoreError::Io { source, .. }) => {
                        return Err(ArchiveError::Member {
                            member,
                            problem: format!("{} layer does not decompress: {source}", c.name()),
                        });
                    }
                    Err(e) => return Err(e.into()),
                }
            };
            if &staged.digest != diff_id {
                return Err(ArchiveError::DiffId {
                    index: i,
                    expected: diff_id.clone(),
                    actual: staged.digest,
                });
            }
            let c = engine
                .store
                .check_layer_tar(staged, diff_id)
                .map_err(|e| match e {
                    StoreError::BadLayer { source, .. } => ArchiveError::Member {
                        member: member.clone(),
                        problem: source.to_string(),
                    },
                    e => e.into(),
                })?;
            seen.insert(diff_id.clone());
            checked.push((c, member_size));
        }
        prepared.push(Prepared {
            id: Digest::of(&config_bytes),
            config_bytes,
            config,
            diff_ids,
            tags,
        });
    }

    // All good: store layers, configs, then names in one index update.
    let mut loaded = Loaded::default();
    for (c, size) in checked {
        let d = c.diff_id().clone();
        if !engine.store.adopt_layer_tar(c)? {
            loaded.layers.push((d, size));
        }
    }
    let mut summaries = Vec::new();
    for p in &prepared {
        engine.store.put_blob(&p.config_bytes)?;
        let sizes = p
            .diff_ids
            .iter()
            .map(|d| Ok((d.clone(), engine.store.layer_size(d)?)))
            .collect::<std::result::Result<Vec<_>, StoreError>>()?;
        let platform = Platform {
            os: p.config["os"].as_str().unwrap_or("linux").to_string(),
            architecture: p.config["architecture"]
                .as_str()
                .unwrap_or("amd64")
                .to_string(),
            variant: p.config["variant"].as_str().map(str::to_string),
        };
        summaries.push(crate::engine::summary_of(
            &p.config, &sizes, None, &platform,
        ));
    }
    let now = crate::home::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
    engine
        .store
        .update(|idx| -> std::result::Result<(), StoreError> {
            for (p, summary) in prepared.iter().zip(summaries) {
                idx.images.entry(p.id.clone()).or_insert(summary);
                let mut tags = Vec::new();
                for r in &p.tags {
                    let key = r.to_string();
                    let before = idx.tags.insert(key, p.id.clone());
                    if before.as_ref() != Some(&p.id)
                        && let Some(s) = idx.images.get_mut(&p.id)
                    {
                        s.last_tag_time = Some(now.clone());
                    }
                    tags.push((r.familiar_string(), before.filter(|b| b != &p.id)));
                }
                loaded.images.push(LoadedImage {
                    id: p.id.clone(),
                    tags,
                });
            }
            Ok(())
        })?;
    Ok(loaded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(links: &[(&str, &str)]) -> Members {
        Members {
            files: HashMap::new(),
            links: links
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            dirs: BTreeSet::new(),
            total: 0,
        }
    }

    #[test]
    fn names_resolve_through_links_but_never_out_of_the_root() {
        let m = members(&[
            ("cur", "blobs/sha256"),
            ("loop", "loop2"),
            ("loop2", "loop"),
        ]);
        assert_eq!(m.resolve("cur/abc").as_deref(), Some("blobs/sha256/abc"));
        assert_eq!(
            m.resolve("./a/../manifest.json").as_deref(),
            Some("manifest.json")
        );
        assert_eq!(m.resolve("../manifest.json"), None);
        assert_eq!(m.resolve("loop/x"), None);
    }

    #[test]
    fn blob_names_promise_their_digest() {
        let d = Digest::of(b"x");
        assert_eq!(
            named_digest(&format!("blobs/sha256/{}", d.hex())),
            Some(d.clone())
        );
        assert_eq!(named_digest(&format!("{}.json", d.hex())), Some(d));
        assert_eq!(named_digest("abc/layer.tar"), None);
        assert_eq!(named_digest("manifest.json"), None);
    }
}
