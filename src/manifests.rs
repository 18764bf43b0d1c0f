//! Local manifest lists, as `docker manifest create/annotate/push` keep
//! them (docker's `~/.docker/manifests`: here `<home>/docker/manifests/`,
//! one JSON file per list, named with `/` and `:` made `_`). An entry is
//! an image manifest read from its registry with the platform its config
//! declares; `push` puts each entry into the list's repository (blobs
//! mounted from the source repository) and then the list under its tag.
//! Typed errors; prints nothing.

use crate::digest::Digest;
use crate::distribution::{DistError, manifest_json};
use crate::reference::Reference;
use crate::registry::{RefSpec, Registry, media};
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("refusing to amend an existing manifest list with no --amend flag")]
    Exists,
    #[error("{0} is a manifest list")]
    IsList(String),
    #[error("No such manifest: {0}")]
    NoSuchList(String),
    #[error("manifest for image {image} does not exist in {list}")]
    NotInList { image: String, list: String },
    #[error("no such manifest: {0}")]
    NoSuchManifest(String),
    #[error("cannot use source images from a different registry than the target image: {0} != {1}")]
    OtherRegistry(String, String),
    #[error("{0}")]
    Route(String),
    #[error(transparent)]
    Dist(#[from] DistError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

type Result<T> = std::result::Result<T, ManifestError>;

/// One image of a local list.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    /// The image as named at `create` (`localhost:5000/app:amd64`).
    pub image: String,
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
    pub os: String,
    pub architecture: String,
    #[serde(default)]
    pub variant: Option<String>,
}

/// A local manifest list.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct List {
    pub name: String,
    pub entries: Vec<Entry>,
}

fn dir(home: &Path) -> PathBuf {
    home.join("docker").join("manifests")
}

fn file(home: &Path, list: &Reference) -> PathBuf {
    let safe: String = list
        .to_string()
        .chars()
        .map(|c| if c == '/' || c == ':' { '_' } else { c })
        .collect();
    dir(home).join(format!("{safe}.json"))
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ManifestError + '_ {
    move |e| ManifestError::Io {
        path: path.to_path_buf(),
        source: e,
    }
}

fn load(home: &Path, list: &Reference) -> Result<Option<List>> {
    let path = file(home, list);
    match std::fs::read(&path) {
        Ok(b) => serde_json::from_slice(&b)
            .map(Some)
            .map_err(|e| ManifestError::Io {
                path,
                source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ManifestError::Io { path, source: e }),
    }
}

fn save(home: &Path, list: &Reference, l: &List) -> Result<()> {
    let path = file(home, list);
    std::fs::create_dir_all(dir(home)).map_err(io_err(&path))?;
    let bytes = serde_json::to_vec_pretty(l).expect("list serializes");
    crate::home::write_atomic(&path, &bytes).map_err(io_err(&path))
}

fn route(home: &Path, r: &Reference) -> Result<crate::network::Route> {
    crate::network::route(home, r.domain()).map_err(|e| ManifestError::Route(e.to_string()))
}

fn refspec(r: &Reference) -> RefSpec {
    match (r.digest(), r.tag()) {
        (Some(d), _) => RefSpec::Digest(d.clone()),
        (None, t) => RefSpec::Tag(t.unwrap_or("latest").to_string()),
    }
}

/// Reads an image manifest and its config's platform from its registry.
fn entry_of(home: &Path, r: &Reference) -> Result<Entry> {
    let route = route(home, r)?;
    let reg = route.registry.as_ref();
    let m = reg.get_manifest(r.path(), &refspec(r)).map_err(|e| {
        if e.spec_code().is_some() {
            ManifestError::NoSuchManifest(r.to_string())
        } else {
            ManifestError::Dist(e.into())
        }
    })?;
    if media::is_index(&m.media_type) {
        return Err(ManifestError::IsList(r.to_string()));
    }
    let v: serde_json::Value = serde_json::from_slice(&m.bytes)
        .map_err(|e| DistError::BadImage(format!("manifest {}: {e}", m.digest)))?;
    let config = v["config"]["digest"]
        .as_str()
        .and_then(|d| Digest::parse(d).ok())
        .ok_or_else(|| DistError::BadImage(format!("manifest {} has no config", m.digest)))?;
    let mut bytes = Vec::new();
    reg.get_blob(r.path(), &config)
        .map_err(DistError::from)?
        .read_to_end(&mut bytes)
        .map_err(DistError::from)?;
    let c: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| DistError::BadImage(format!("image config {config}: {e}")))?;
    Ok(Entry {
        image: r.to_string(),
        media_type: m.media_type.clone(),
        size: m.bytes.len() as u64,
        digest: m.digest,
        os: c["os"].as_str().unwrap_or("linux").to_string(),
        architecture: c["architecture"].as_str().unwrap_or("amd64").to_string(),
        variant: c["variant"].as_str().map(str::to_string),
    })
}

/// `docker manifest create LIST IMAGE...` (`--amend`: add to or replace
/// entries of an existing list).
pub fn create(home: &Path, list: &Reference, images: &[Reference], amend: bool) -> Result<()> {
    let existing = load(home, list)?;
    if existing.is_some() && !amend {
        return Err(ManifestError::Exists);
    }
    let mut l = existing.unwrap_or_else(|| List {
        name: list.to_string(),
        entries: Vec::new(),
    });
    for r in images {
        let e = entry_of(home, r)?;
        l.entries.retain(|x| x.image != e.image);
        l.entries.push(e);
    }
    save(home, list, &l)
}

/// `docker manifest annotate LIST IMAGE --os --arch --variant`.
pub fn annotate(
    home: &Path,
    list: &Reference,
    image: &Reference,
    os: Option<&str>,
    arch: Option<&str>,
    variant: Option<&str>,
) -> Result<()> {
    let mut l = load(home, list)?.ok_or_else(|| ManifestError::NoSuchList(list.to_string()))?;
    let name = image.to_string();
    let e = l
        .entries
        .iter_mut()
        .find(|e| e.image == name)
        .ok_or_else(|| ManifestError::NotInList {
            image: name.clone(),
            list: list.to_string(),
        })?;
    if let Some(o) = os {
        e.os = o.to_string();
    }
    if let Some(a) = arch {
        e.architecture = a.to_string();
    }
    if let Some(v) = variant {
        e.variant = Some(v.to_string());
    }
    save(home, list, &l)
}

/// `docker manifest rm LIST`.
pub fn remove(home: &Path, list: &Reference) -> Result<()> {
    let path = file(home, list);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(ManifestError::NoSuchList(list.to_string()))
        }
        Err(e) => Err(ManifestError::Io { path, source: e }),
    }
}

/// What `push` did: the entries it had to copy into the list's repository
/// (`name@digest`), and the list's digest.
#[derive(Debug)]
pub struct PushedList {
    pub copied: Vec<String>,
    pub digest: Digest,
}

/// `docker manifest push LIST` (`purge`: the local list is removed after).
pub fn push(home: &Path, list: &Reference, purge: bool) -> Result<PushedList> {
    let l = load(home, list)?.ok_or_else(|| ManifestError::NoSuchList(list.to_string()))?;
    let route = route(home, list)?;
    let reg = route.registry.as_ref();
    let repo = list.path();
    let mut copied = Vec::new();
    let mut entries = Vec::new();
    for e in &l.entries {
        let src = Reference::parse(&e.image).map_err(|x| ManifestError::Route(x.to_string()))?;
        if src.domain() != list.domain() {
            return Err(ManifestError::OtherRegistry(
                src.domain().to_string(),
                list.domain().to_string(),
            ));
        }
        if src.path() != repo {
            copy_manifest(reg, src.path(), repo, &e.digest)?;
            copied.push(format!("{}@{}", list.repository(), e.digest));
        }
        let mut p = serde_json::json!({
            "architecture": e.architecture,
            "os": e.os,
        });
        if let Some(v) = &e.variant {
            p["variant"] = serde_json::Value::String(v.clone());
        }
        entries.push(serde_json::json!({
            "mediaType": e.media_type,
            "size": e.size,
            "digest": e.digest.to_string(),
            "platform": p,
        }));
    }
    let list_type = if l.entries.first().map(|e| e.media_type.as_str()) == Some(media::OCI_MANIFEST)
    {
        media::OCI_INDEX
    } else {
        media::DOCKER_LIST
    };
    let bytes = manifest_json(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": list_type,
        "manifests": entries,
    }));
    let digest = reg
        .put_manifest(repo, &refspec(list), list_type, &bytes)
        .map_err(DistError::from)?;
    if purge {
        remove(home, list)?;
    }
    Ok(PushedList { copied, digest })
}

/// Copies a manifest (and the blobs it names) from one repository of a
/// registry to another: blobs mounted, else streamed.
fn copy_manifest(reg: &dyn Registry, from: &str, to: &str, digest: &Digest) -> Result<()> {
    let m = reg
        .get_manifest(from, &RefSpec::Digest(digest.clone()))
        .map_err(DistError::from)?;
    let v: serde_json::Value = serde_json::from_slice(&m.bytes)
        .map_err(|e| DistError::BadImage(format!("manifest {digest}: {e}")))?;
    let blobs = std::iter::once(&v["config"]).chain(v["layers"].as_array().into_iter().flatten());
    for b in blobs {
        let Some(d) = b["digest"].as_str().and_then(|d| Digest::parse(d).ok()) else {
            continue;
        };
        if reg.stat_blob(to, &d).map_err(DistError::from)?.is_some() {
            continue;
        }
        if !reg.mount_blob(to, from, &d).map_err(DistError::from)? {
            let mut body = reg.get_blob(from, &d).map_err(DistError::from)?;
            reg.put_blob(to, Some(&d), &mut body)
                .map_err(DistError::from)?;
        }
    }
    reg.put_manifest(
        to,
        &RefSpec::Digest(digest.clone()),
        &m.media_type,
        &m.bytes,
    )
    .map_err(DistError::from)?;
    Ok(())
}
