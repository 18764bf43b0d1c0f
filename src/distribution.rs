//! Push and pull: the engine's images to and from any [`Registry`], as the
//! daemon does it. A push compresses each layer (gzip, mtime 0, so the same
//! layer always gives the same blob) unless the registry already has it —
//! known from the store's distribution records (docker's "v2 metadata"),
//! checked with a `HEAD`, or mounted from another repository of the same
//! registry — then pushes the config and a schema 2 manifest. A pull reads
//! the manifest (choosing a platform from an index), skips layers the store
//! has, streams the rest through gunzip into the store (verified against the
//! config's diff_ids) and tags the image. Nothing here prints.

use crate::digest::{Digest, HashingWriter};
use crate::engine::{Engine, EngineError, Pulled};
use crate::reference::Reference;
use crate::registry::{Manifest, RefSpec, Registry, RegistryError, VerifyingReader, media};
use crate::store::{DistRecord, StoreError};
use std::io::{self, Read, Write};

#[derive(Debug, thiserror::Error)]
pub enum DistError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("no matching manifest for {0} in the manifest list entries")]
    NoMatchingManifest(String),
    #[error("{0}")]
    BadImage(String),
}

pub type Result<T> = std::result::Result<T, DistError>;

/// What happened to one layer in a push.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LayerPush {
    Pushed,
    Exists,
    /// Mounted from another repository of the registry.
    Mounted(String),
}

/// What `push` did.
#[derive(Debug)]
pub struct Pushed {
    /// diff_id and outcome, bottom layer first.
    pub layers: Vec<(Digest, LayerPush)>,
    pub digest: Digest,
    /// The manifest's length.
    pub size: usize,
}

/// Serialises JSON as distribution's schema 2 manifests are: indented by
/// three spaces.
pub fn manifest_json(v: &serde_json::Value) -> Vec<u8> {
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"   ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    serde::Serialize::serialize(v, &mut ser).expect("json serializes");
    out
}

/// Streams a layer's uncompressed tar into `w` (regenerated for catalog
/// layers, read and verified for stored ones).
pub fn write_layer_tar(engine: &Engine, diff_id: &Digest, w: &mut dyn Write) -> Result<()> {
    let meta = engine.store.layer_meta(diff_id)?;
    if meta.recipe.is_some() {
        let entries = engine.layer_entries(diff_id)?;
        crate::layer::write_tar(&entries, w)?;
        return Ok(());
    }
    let r = engine.store.open_layer(diff_id)?;
    let mut r = VerifyingReader::new(io::BufReader::with_capacity(1 << 20, r), diff_id.clone());
    io::copy(&mut r, w)?;
    Ok(())
}

/// Compresses a layer into a temporary file: its digest, size and the file.
fn compress_layer(
    engine: &Engine,
    diff_id: &Digest,
) -> Result<(Digest, u64, tempfile::NamedTempFile)> {
    let dir = engine.store.root().join("tmp");
    let file = tempfile::NamedTempFile::new_in(&dir)?;
    let hw = HashingWriter::new(io::BufWriter::with_capacity(1 << 20, file.as_file()));
    let mut gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(hw, flate2::Compression::fast());
    write_layer_tar(engine, diff_id, &mut gz)?;
    let hw = gz.finish()?;
    let (digest, size, buf) = hw.finish();
    buf.into_inner().map_err(|e| e.into_error())?;
    Ok((digest, size, file))
}

/// Which manifest format a push writes: docker's schema 2 (`docker push`)
/// or OCI (BuildKit's image exporter, `buildx build --push`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Docker,
    Oci,
}

/// An image's blobs uploaded and its manifest written, not yet put.
pub struct Uploaded {
    pub layers: Vec<(Digest, LayerPush)>,
    pub media_type: &'static str,
    pub manifest: Vec<u8>,
    records: Vec<(Digest, DistRecord)>,
}

/// Uploads image `id`'s layers and config to `repo` of `reg` (named
/// `host`) and writes its manifest (not put: the caller puts it by tag or
/// by digest, then calls [`Uploaded::commit`]).
pub fn upload(
    engine: &Engine,
    reg: &dyn Registry,
    host: &str,
    repo: &str,
    id: &Digest,
    format: Format,
) -> Result<Uploaded> {
    let image = engine.image(id)?;
    let diff_ids = crate::engine::diff_ids_of(&image.config);
    let known = engine.store.distribution();
    let mut layers = Vec::new();
    let mut descriptors = Vec::new();
    let mut records = Vec::new();
    // What the registry already has (or can mount) is settled first, in
    // order; the rest is compressed in parallel (one worker per core, as
    // pigz-like pushers do) while finished layers upload in order.
    let mut settled: Vec<Option<(Digest, u64, LayerPush)>> = Vec::new();
    for d in &diff_ids {
        let mut done = None;
        let candidates: Vec<&DistRecord> = known
            .layers
            .get(d)
            .map(|rs| rs.iter().filter(|r| r.registry == host).collect())
            .unwrap_or_default();
        // The same repository first, then a mount from another one.
        for r in candidates.iter().filter(|r| r.repository == repo) {
            if let Some(size) = reg.stat_blob(repo, &r.digest)? {
                done = Some((r.digest.clone(), size, LayerPush::Exists));
                break;
            }
        }
        if done.is_none() {
            for r in candidates.iter().filter(|r| r.repository != repo) {
                if reg.mount_blob(repo, &r.repository, &r.digest)? {
                    done = Some((
                        r.digest.clone(),
                        r.size,
                        LayerPush::Mounted(r.repository.clone()),
                    ));
                    break;
                }
            }
        }
        settled.push(done);
    }
    let pending: Vec<usize> = (0..diff_ids.len())
        .filter(|i| settled[*i].is_none())
        .collect();
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(pending.len())
        .max(1);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut outcome: Vec<(Digest, u64, LayerPush)> = Vec::new();
    std::thread::scope(|sc| -> Result<()> {
        let (tx, rx) = std::sync::mpsc::channel();
        for _ in 0..workers {
            let tx = tx.clone();
            let (next, pending, diff_ids) = (&next, &pending, &diff_ids);
            let home = engine.home.clone();
            sc.spawn(move || {
                // The engine keeps per-thread caches: each worker opens its own.
                let own = Engine::open(&home).map_err(DistError::from);
                loop {
                    let k = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(&i) = pending.get(k) else { break };
                    let r = match &own {
                        Ok(e) => compress_layer(e, &diff_ids[i]),
                        Err(e) => Err(DistError::Io(io::Error::other(e.to_string()))),
                    };
                    if tx.send((i, r)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut ready: std::collections::HashMap<usize, _> = std::collections::HashMap::new();
        for (i, done) in settled.into_iter().enumerate() {
            let item = match done {
                Some(x) => x,
                None => {
                    let compressed = loop {
                        if let Some(c) = ready.remove(&i) {
                            break c;
                        }
                        match rx.recv() {
                            Ok((j, c)) => {
                                ready.insert(j, c);
                            }
                            Err(_) => {
                                return Err(DistError::Io(io::Error::other(
                                    "a compression worker stopped",
                                )));
                            }
                        }
                    };
                    // Stop the workers early on an error: they see no next layer.
                    let (blob, size, file) = match compressed {
                        Ok(c) => c,
                        Err(e) => {
                            next.store(usize::MAX / 2, std::sync::atomic::Ordering::SeqCst);
                            return Err(e);
                        }
                    };
                    if reg.stat_blob(repo, &blob)?.is_some() {
                        (blob, size, LayerPush::Exists)
                    } else {
                        reg.put_blob_file(repo, &blob, file)?;
                        (blob, size, LayerPush::Pushed)
                    }
                }
            };
            outcome.push(item);
        }
        Ok(())
    })?;
    for (d, (blob, size, state)) in diff_ids.iter().zip(outcome) {
        records.push((
            d.clone(),
            DistRecord {
                digest: blob.clone(),
                size,
                registry: host.to_string(),
                repository: repo.to_string(),
            },
        ));
        descriptors.push(match format {
            Format::Docker => serde_json::json!({
                "mediaType": media::DOCKER_LAYER,
                "size": size,
                "digest": blob.to_string(),
            }),
            Format::Oci => serde_json::json!({
                "mediaType": media::OCI_LAYER,
                "digest": blob.to_string(),
                "size": size,
            }),
        });
        layers.push((d.clone(), state));
    }
    if reg.stat_blob(repo, id)?.is_none() {
        reg.put_blob(repo, Some(id), &mut &image.config_bytes[..])?;
    }
    let (media_type, manifest) = match format {
        Format::Docker => (
            media::DOCKER_MANIFEST,
            manifest_json(&serde_json::json!({
                "schemaVersion": 2,
                "mediaType": media::DOCKER_MANIFEST,
                "config": {
                    "mediaType": media::DOCKER_CONFIG,
                    "size": image.config_bytes.len(),
                    "digest": id.to_string(),
                },
                "layers": descriptors,
            })),
        ),
        Format::Oci => (
            media::OCI_MANIFEST,
            oci_json(&serde_json::json!({
                "schemaVersion": 2,
                "mediaType": media::OCI_MANIFEST,
                "config": {
                    "mediaType": media::OCI_CONFIG,
                    "digest": id.to_string(),
                    "size": image.config_bytes.len(),
                },
                "layers": descriptors,
            })),
        ),
    };
    Ok(Uploaded {
        layers,
        media_type,
        manifest,
        records,
    })
}

impl Uploaded {
    /// Records where the layers now are (for later pushes' mounts and
    /// `Layer already exists`).
    pub fn commit(&self, engine: &Engine) -> Result<()> {
        engine.store.record_distribution(&self.records)?;
        Ok(())
    }
}

/// Serialises JSON as BuildKit writes OCI manifests and indexes
/// (`json.MarshalIndent` with two spaces).
pub fn oci_json(v: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec_pretty(v).expect("json serializes")
}

/// Pushes image `id` to `repo:tag` of `reg` (named `host`).
pub fn push(
    engine: &Engine,
    reg: &dyn Registry,
    host: &str,
    repo: &str,
    tag: &str,
    id: &Digest,
) -> Result<Pushed> {
    let up = upload(engine, reg, host, repo, id, Format::Docker)?;
    let digest = reg.put_manifest(
        repo,
        &RefSpec::Tag(tag.to_string()),
        up.media_type,
        &up.manifest,
    )?;
    up.commit(engine)?;
    let dref = format!("{host}/{repo}@{digest}");
    engine
        .store
        .update(|idx| -> std::result::Result<(), StoreError> {
            idx.digests.insert(dref.clone(), id.clone());
            Ok(())
        })?;
    Ok(Pushed {
        layers: up.layers,
        digest,
        size: up.manifest.len(),
    })
}

/// One image of a multi-platform push, as pushed by digest.
#[derive(Clone, Debug)]
pub struct PlatformManifest {
    pub platform: crate::catalog::Platform,
    pub media_type: String,
    pub digest: Digest,
    pub size: usize,
    /// The image's config digest (its ID in the store).
    pub config: Digest,
}

/// What `push_index` did.
#[derive(Debug)]
pub struct PushedIndex {
    pub manifests: Vec<PlatformManifest>,
    pub digest: Digest,
    pub size: usize,
}

/// `buildx build --push` for several platforms: each image pushed as an OCI
/// manifest by digest, then an OCI image index listing them (with their
/// platforms) put under `tag`.
pub fn push_index(
    engine: &Engine,
    reg: &dyn Registry,
    host: &str,
    repo: &str,
    tag: &str,
    images: &[(crate::catalog::Platform, Digest)],
) -> Result<PushedIndex> {
    let mut manifests = Vec::new();
    for (platform, id) in images {
        let up = upload(engine, reg, host, repo, id, Format::Oci)?;
        let digest = Digest::of(&up.manifest);
        reg.put_manifest(
            repo,
            &RefSpec::Digest(digest.clone()),
            up.media_type,
            &up.manifest,
        )?;
        up.commit(engine)?;
        manifests.push(PlatformManifest {
            platform: platform.clone(),
            media_type: up.media_type.to_string(),
            digest,
            size: up.manifest.len(),
            config: id.clone(),
        });
    }
    let entries: Vec<serde_json::Value> = manifests
        .iter()
        .map(|m| {
            let mut p = serde_json::json!({
                "architecture": m.platform.architecture,
                "os": m.platform.os,
            });
            if let Some(v) = index_variant(&m.platform) {
                p["variant"] = serde_json::Value::String(v.to_string());
            }
            serde_json::json!({
                "mediaType": m.media_type,
                "digest": m.digest.to_string(),
                "size": m.size,
                "platform": p,
            })
        })
        .collect();
    let bytes = oci_json(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_INDEX,
        "manifests": entries,
    }));
    let digest = reg.put_manifest(
        repo,
        &RefSpec::Tag(tag.to_string()),
        media::OCI_INDEX,
        &bytes,
    )?;
    Ok(PushedIndex {
        manifests,
        digest,
        size: bytes.len(),
    })
}

/// The variant an index entry carries: containerd normalises `arm64/v8`
/// to plain `arm64`, as BuildKit writes it.
fn index_variant(p: &crate::catalog::Platform) -> Option<&str> {
    match (p.architecture.as_str(), p.variant.as_deref()) {
        ("arm64", Some("v8")) => None,
        (_, v) => v,
    }
}

/// Whether an index entry's platform is `want` (an entry for `arm64` with
/// no variant is `arm64/v8`).
pub fn platform_matches(entry: &serde_json::Value, want: &crate::catalog::Platform) -> bool {
    let norm = |arch: &str, v: Option<&str>| -> Option<String> {
        match (arch, v) {
            ("arm64", None) => Some("v8".into()),
            (_, v) => v.map(str::to_string),
        }
    };
    let arch = entry["architecture"].as_str().unwrap_or_default();
    entry["os"].as_str() == Some(want.os.as_str())
        && arch == want.architecture
        && (want.variant.is_none()
            || norm(arch, entry["variant"].as_str())
                == norm(&want.architecture, want.variant.as_deref()))
}

/// Reads a manifest for `platform`, following an index.
pub fn resolve_manifest(
    reg: &dyn Registry,
    repo: &str,
    reference: &RefSpec,
    platform: &crate::catalog::Platform,
) -> Result<(Manifest, Manifest)> {
    let top = reg.get_manifest(repo, reference)?;
    if !media::is_index(&top.media_type) {
        return Ok((top.clone(), top));
    }
    let v: serde_json::Value = serde_json::from_slice(&top.bytes)
        .map_err(|e| DistError::BadImage(format!("manifest list: {e}")))?;
    let chosen = v["manifests"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| platform_matches(&m["platform"], platform));
    let Some(d) = chosen
        .and_then(|m| m["digest"].as_str())
        .and_then(|d| Digest::parse(d).ok())
    else {
        return Err(DistError::NoMatchingManifest(platform.to_string()));
    };
    let m = reg.get_manifest(repo, &RefSpec::Digest(d))?;
    Ok((top, m))
}

/// Pulls `r` (its domain routed to `reg`) for `platform`.
pub fn pull(
    engine: &Engine,
    reg: &dyn Registry,
    r: &Reference,
    platform: &crate::catalog::Platform,
) -> Result<Pulled> {
    let host = r.domain().to_string();
    let repo = r.path().to_string();
    let reference = match (r.digest(), r.tag()) {
        (Some(d), _) => RefSpec::Digest(d.clone()),
        (None, Some(t)) => RefSpec::Tag(t.to_string()),
        (None, None) => RefSpec::Tag("latest".into()),
    };
    let (top, m) = resolve_manifest(reg, &repo, &reference, platform)?;
    let v: serde_json::Value = serde_json::from_slice(&m.bytes)
        .map_err(|e| DistError::BadImage(format!("manifest {}: {e}", m.digest)))?;
    let config_digest = v["config"]["digest"]
        .as_str()
        .and_then(|d| Digest::parse(d).ok())
        .ok_or_else(|| DistError::BadImage(format!("manifest {} has no config", m.digest)))?;
    let mut config_bytes = Vec::new();
    reg.get_blob(&repo, &config_digest)?
        .read_to_end(&mut config_bytes)?;
    let config: serde_json::Value = serde_json::from_slice(&config_bytes)
        .map_err(|e| DistError::BadImage(format!("image config {config_digest}: {e}")))?;
    let diff_ids = crate::engine::diff_ids_of(&config);
    let blobs: Vec<(Digest, String, u64)> = v["layers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| {
            Some((
                Digest::parse(l["digest"].as_str()?).ok()?,
                l["mediaType"].as_str().unwrap_or_default().to_string(),
                l["size"].as_u64().unwrap_or(0),
            ))
        })
        .collect();
    if blobs.len() != diff_ids.len() {
        return Err(DistError::BadImage(format!(
            "manifest {} lists {} layers, its config {}",
            m.digest,
            blobs.len(),
            diff_ids.len()
        )));
    }
    let before = engine.index()?;
    let mut layers = Vec::new();
    let mut records = Vec::new();
    let mut sizes = Vec::new();
    for ((blob, mt, size), diff_id) in blobs.iter().zip(&diff_ids) {
        let had = engine.store.has_layer(diff_id);
        if !had {
            let body = reg.get_blob(&repo, blob)?;
            let body = io::BufReader::with_capacity(1 << 20, body);
            let mut r: Box<dyn Read> = if mt.ends_with("tar") {
                Box::new(body)
            } else if mt.ends_with("zstd") {
                Box::new(
                    ruzstd::decoding::StreamingDecoder::new(body)
                        .map_err(|e| DistError::BadImage(format!("layer {blob}: {e}")))?,
                )
            } else {
                Box::new(flate2::read::GzDecoder::new(body))
            };
            engine.store.put_layer_tar(&mut r, Some(diff_id))?;
        }
        records.push((
            diff_id.clone(),
            DistRecord {
                digest: blob.clone(),
                size: *size,
                registry: host.clone(),
                repository: repo.clone(),
            },
        ));
        sizes.push((diff_id.clone(), engine.store.layer_size(diff_id)?));
        layers.push((blob.clone(), had));
    }
    let id = engine.store.put_blob(&config_bytes)?;
    if id != config_digest {
        return Err(DistError::BadImage(format!(
            "image config {config_digest} hashes to {id}"
        )));
    }
    engine.store.record_distribution(&records)?;
    let img_platform = crate::catalog::Platform {
        os: config["os"].as_str().unwrap_or("linux").to_string(),
        architecture: config["architecture"]
            .as_str()
            .unwrap_or("amd64")
            .to_string(),
        variant: config["variant"].as_str().map(str::to_string),
    };
    let summary = crate::engine::summary_of(&config, &sizes, None, &img_platform);
    let tagged = r.tag().is_some() || r.digest().is_none();
    let r = if tagged {
        r.clone().with_default_tag()
    } else {
        r.clone()
    };
    let key = r.to_string();
    let dkey = r.repository().with_digest(top.digest.clone()).to_string();
    let up_to_date = if tagged {
        before.tags.get(&key) == Some(&id)
    } else {
        before.digests.get(&dkey) == Some(&id)
    };
    let now = crate::home::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
    engine
        .store
        .update(|idx| -> std::result::Result<(), StoreError> {
            idx.images.entry(id.clone()).or_insert(summary);
            if tagged {
                idx.tags.insert(key.clone(), id.clone());
            }
            idx.digests.insert(dkey.clone(), id.clone());
            if !up_to_date && let Some(s) = idx.images.get_mut(&id) {
                s.last_tag_time = Some(now.clone());
            }
            Ok(())
        })?;
    Ok(Pulled {
        reference: r,
        id,
        layers,
        digest: top.digest,
        up_to_date,
    })
}
