//! The engine: image operations with docker's semantics on top of the store —
//! pulling catalog base images, loading an image's config, the merged root
//! file system of an image, tagging and removal (the `rmi` conflict rules).
//! Commands and the grader both go through here; it prints nothing.

use crate::catalog::{self, BaseImage, Platform};
use crate::digest::Digest;
use crate::layer::{Entry, Kind};
use crate::reference::{Reference, ReferenceError};
use crate::store::{ImageSummary, Index, ResolveError, Store, StoreError};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Typed engine errors; their Display is docker's text where docker has one.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    #[error(
        "pull access denied for {0}, repository does not exist or may require 'docker login': denied: requested access to the resource is denied"
    )]
    PullDenied(String),
    #[error("'scratch' is a reserved name")]
    ReservedScratch,
    #[error("manifest for {0} not found: manifest unknown: manifest unknown")]
    ManifestUnknown(String),
    #[error(
        "conflict: unable to delete {0} (must be forced) - image is referenced in multiple repositories"
    )]
    MultipleRepositories(String),
    #[error("conflict: unable to delete {0} (cannot be forced) - image has dependent child images")]
    HasChildren(String),
    #[error("image config of {id} is not valid JSON: {message}")]
    BadConfig { id: Digest, message: String },
    #[error("layer recipe {0} names a base image the catalog does not have")]
    BadRecipe(Digest),
}

pub type Result<T> = std::result::Result<T, EngineError>;

/// The platform the simulated engine runs on.
pub fn host_platform() -> Platform {
    Platform {
        os: "linux".into(),
        architecture: "amd64".into(),
        variant: None,
    }
}

/// An image loaded from the store: its ID, the config bytes exactly as
/// stored, and the parsed config.
#[derive(Clone, Debug)]
pub struct Image {
    pub id: Digest,
    pub config_bytes: Vec<u8>,
    pub config: serde_json::Value,
}

/// The engine of one home.
pub struct Engine {
    pub home: PathBuf,
    pub store: Store,
    /// Catalog layers generated in this process, per `repo:tag@platform`:
    /// a base image's changesets are produced once, not once per layer.
    recipes: std::cell::RefCell<std::collections::HashMap<String, std::rc::Rc<Vec<Vec<Entry>>>>>,
}

/// What `pull` did.
#[derive(Debug)]
pub struct Pulled {
    pub reference: Reference,
    pub id: Digest,
    /// diff_ids, each with whether it was already present.
    pub layers: Vec<(Digest, bool)>,
    /// The manifest digest the reference now also resolves by.
    pub digest: Digest,
    pub up_to_date: bool,
}

impl Engine {
    pub fn open(home: &Path) -> Result<Engine> {
        Ok(Engine {
            home: home.to_path_buf(),
            store: Store::open(home)?,
            recipes: Default::default(),
        })
    }

    pub fn index(&self) -> Result<Index> {
        Ok(self.store.index()?)
    }

    /// Loads and verifies an image's config.
    pub fn image(&self, id: &Digest) -> Result<Image> {
        let bytes = self.store.get_blob(id)?;
        let config = serde_json::from_slice(&bytes).map_err(|e| EngineError::BadConfig {
            id: id.clone(),
            message: e.to_string(),
        })?;
        Ok(Image {
            id: id.clone(),
            config_bytes: bytes,
            config,
        })
    }

    /// Resolves a user's name for an image and loads it.
    pub fn lookup(&self, name: &str) -> Result<Image> {
        let id = self.index()?.resolve(name)?;
        self.image(&id)
    }

    /// Finds the catalog entry for a reference (tag defaulting to latest).
    pub fn catalog_entry(r: &Reference) -> Option<(&'static BaseImage, String)> {
        let tag = r.tag().unwrap_or("latest").to_string();
        catalog::catalog().find(&r.name(), &tag).map(|b| (b, tag))
    }

    /// Ensures a catalog base image's layers and config are in the store and
    /// returns its ID, without tagging it (what BuildKit's `FROM` does).
    pub fn materialize(
        &self,
        base: &BaseImage,
        tag: &str,
        platform: &Platform,
    ) -> Result<(Digest, Vec<(Digest, bool)>)> {
        let key = format!("{}:{tag}@{platform}", base.repository);
        if let Some(id) = self.index()?.bases.get(&key).cloned()
            && let Ok(img) = self.image(&id)
        {
            let layers = diff_ids_of(&img.config)
                .into_iter()
                .map(|d| (d, true))
                .collect();
            return Ok((id, layers));
        }
        let mut config = base.config(platform);
        let mut diff_ids = Vec::new();
        let mut layers = Vec::new();
        for (i, entries) in base.layers(platform).iter().enumerate() {
            let recipe = serde_json::json!({
                "repository": base.repository,
                "tag": tag,
                "platform": platform.to_string(),
                "layer": i,
            });
            let info = self.store.put_recipe_layer(entries, recipe)?;
            layers.push((info.0.diff_id.clone(), info.1));
            diff_ids.push(serde_json::Value::String(info.0.diff_id.to_string()));
        }
        config["rootfs"] = serde_json::json!({"type": "layers", "diff_ids": diff_ids});
        let bytes = serde_json::to_vec(&config).expect("config serializes");
        let id = self.store.put_blob(&bytes)?;
        let summary = summary_of(&config, &self.layer_sizes(&layers)?, None, platform);
        self.store.update(|idx| -> Result<()> {
            idx.images.entry(id.clone()).or_insert(summary);
            idx.bases.insert(key, id.clone());
            Ok(())
        })?;
        Ok((id, layers))
    }

    fn layer_sizes(&self, layers: &[(Digest, bool)]) -> Result<Vec<(Digest, u64)>> {
        layers
            .iter()
            .map(|(d, _)| Ok((d.clone(), self.store.layer_size(d)?)))
            .collect()
    }

    /// `docker pull NAME`: from the catalog (the simulated Docker Hub).
    pub fn pull(&self, name: &str, platform: &Platform) -> Result<Pulled> {
        let r = Reference::parse(name)?.with_default_tag();
        if r.name() == "docker.io/library/scratch" {
            return Err(EngineError::ReservedScratch);
        }
        let Some((base, tag)) = Self::catalog_entry(&r) else {
            let repo_known = catalog::catalog()
                .images()
                .iter()
                .any(|b| b.repository == r.name());
            return Err(if repo_known {
                EngineError::ManifestUnknown(r.familiar_string())
            } else {
                EngineError::PullDenied(r.familiar_name())
            });
        };
        let before = self.index()?;
        let (id, layers) = self.materialize(base, &tag, platform)?;
        // The manifest digest: the digest of a manifest naming the config and
        // the layers, stable for the same content.
        let digest = manifest_digest(&id, &layers);
        let key = r.to_string();
        let dkey = r.repository().with_digest(digest.clone()).to_string();
        // A pull by digest records the digest reference only, never a tag.
        let by_digest = r.digest().is_some() && r.tag().is_none();
        let up_to_date = if by_digest {
            before.digests.get(&dkey) == Some(&id)
        } else {
            before.tags.get(&key) == Some(&id)
        };
        let now = crate::home::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
        self.store.update(|idx| -> Result<()> {
            if !by_digest {
                idx.tags.insert(key.clone(), id.clone());
            }
            idx.digests.insert(dkey.clone(), id.clone());
            if let Some(s) = idx.images.get_mut(&id)
                && !up_to_date
            {
                s.last_tag_time = Some(now.clone());
            }
            Ok(())
        })?;
        Ok(Pulled {
            reference: r,
            id,
            layers,
            digest,
            up_to_date,
        })
    }

    /// Adds `target` as a tag of `id`.
    pub fn tag(&self, id: &Digest, target: &Reference) -> Result<()> {
        let key = target.clone().with_default_tag().to_string();
        if self.index()?.tags.get(&key) == Some(id) {
            return Ok(());
        }
        let now = crate::home::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
        self.store.update(|idx| -> Result<()> {
            idx.tags.insert(key, id.clone());
            if let Some(s) = idx.images.get_mut(id) {
                s.last_tag_time = Some(now);
            }
            Ok(())
        })
    }

    /// The entries of one layer with their content (recipe layers are
    /// regenerated from the catalog).
    pub fn layer_entries(&self, diff_id: &Digest) -> Result<Vec<Entry>> {
        let meta = self.store.layer_meta(diff_id)?;
        if let Some(recipe) = &meta.recipe {
            let get = |k: &str| {
                recipe
                    .get(k)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            let base = catalog::catalog()
                .find(&get("repository"), &get("tag"))
                .ok_or_else(|| EngineError::BadRecipe(diff_id.clone()))?;
            let platform = Platform::parse(&get("platform"))
                .ok_or_else(|| EngineError::BadRecipe(diff_id.clone()))?;
            let i = recipe.get("layer").and_then(|v| v.as_u64()).unwrap_or(0) as usize;
            let key = format!("{}:{}@{platform}", get("repository"), get("tag"));
            let layers = self
                .recipes
                .borrow_mut()
                .entry(key)
                .or_insert_with(|| std::rc::Rc::new(base.layers(&platform)))
                .clone();
            return layers
                .get(i)
                .cloned()
                .ok_or_else(|| EngineError::BadRecipe(diff_id.clone()));
        }
        Ok(self.store.read_layer(diff_id)?)
    }

    /// The merged root file system of an image's layers (whiteouts applied).
    pub fn rootfs(&self, diff_ids: &[Digest]) -> Result<RootFs> {
        let mut fs = RootFs::default();
        for d in diff_ids {
            fs.apply(self.layer_entries(d)?);
        }
        Ok(fs)
    }
}

/// The diff_ids listed in a config's `rootfs`.
pub fn diff_ids_of(config: &serde_json::Value) -> Vec<Digest> {
    config["rootfs"]["diff_ids"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().and_then(|s| Digest::parse(s).ok()))
                .collect()
        })
        .unwrap_or_default()
}

/// A stable manifest digest for an image pulled from the simulated hub.
pub fn manifest_digest(config: &Digest, layers: &[(Digest, bool)]) -> Digest {
    let mut s = format!("manifest\n{config}\n");
    for (l, _) in layers {
        s.push_str(&l.to_string());
        s.push('\n');
    }
    Digest::of(s.as_bytes())
}

/// Builds the index summary of an image from its config.
pub fn summary_of(
    config: &serde_json::Value,
    layers: &[(Digest, u64)],
    parent: Option<Digest>,
    platform: &Platform,
) -> ImageSummary {
    let labels = config["config"]["Labels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    ImageSummary {
        created: config["created"].as_str().unwrap_or_default().to_string(),
        size: layers.iter().map(|(_, s)| s).sum(),
        layers: layers.iter().map(|(d, _)| d.clone()).collect(),
        parent,
        platform: platform.to_string(),
        last_tag_time: None,
        labels,
    }
}

/// A merged view of layers: path → entry.
#[derive(Clone, Debug, Default)]
pub struct RootFs {
    pub entries: BTreeMap<String, Entry>,
}

impl RootFs {
    /// Applies one layer's changeset on top.
    pub fn apply(&mut self, layer: Vec<Entry>) {
        for e in layer {
            match e.kind {
                Kind::Whiteout => self.remove_tree(&e.path),
                Kind::Opaque => {
                    let prefix = format!("{}/", e.path);
                    self.entries.retain(|p, _| !p.starts_with(&prefix));
                }
                _ => {
                    if !matches!(e.kind, Kind::Dir)
                        && let Some(old) = self.entries.get(&e.path)
                        && matches!(old.kind, Kind::Dir)
                    {
                        self.remove_tree(&e.path);
                    }
                    self.entries.insert(e.path.clone(), e);
                }
            }
        }
    }

    fn remove_tree(&mut self, path: &str) {
        let prefix = format!("{path}/");
        self.entries
            .retain(|p, _| p != path && !p.starts_with(&prefix));
    }

    pub fn get(&self, path: &str) -> Option<&Entry> {
        self.entries.get(&crate::layer::clean_path(path))
    }

    /// Follows symlinks in every component of `path` (bounded), returning the
    /// resolved path inside the root.
    pub fn resolve(&self, path: &str) -> String {
        let mut parts: Vec<String> = Vec::new();
        let mut todo: Vec<String> = crate::layer::clean_path(path)
            .split('/')
            .filter(|s| !s.is_empty())
            .rev()
            .map(String::from)
            .collect();
        let mut hops = 0;
        while let Some(c) = todo.pop() {
            if c == ".." {
                parts.pop();
                continue;
            }
            parts.push(c);
            let cur = parts.join("/");
            if let Some(Entry {
                kind: Kind::Symlink(t),
                ..
            }) = self.entries.get(&cur)
            {
                hops += 1;
                if hops > 40 {
                    break;
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
        parts.join("/")
    }

    /// A regular file's bytes, following symlinks (None also for a build
    /// context file that can no longer be read as it was).
    pub fn read(&self, path: &str) -> Option<Vec<u8>> {
        match self.entries.get(&self.resolve(path)) {
            Some(Entry {
                kind: Kind::File(c),
                ..
            }) => c.to_vec().ok(),
            _ => None,
        }
    }

    pub fn is_dir(&self, path: &str) -> bool {
        let p = self.resolve(path);
        p.is_empty()
            || matches!(
                self.entries.get(&p),
                Some(Entry {
                    kind: Kind::Dir,
                    ..
                })
            )
    }
}

/// One line of `docker rmi`'s report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removed {
    /// `Untagged: nginx:alpine` (familiar form).
    Untagged(String),
    /// `Deleted: sha256:…` (the image ID, then released layer chain IDs).
    Deleted(Digest),
}

impl Engine {
    /// `docker rmi NAME`: docker's image_delete rules for the classic store.
    /// By reference: untag it, and delete the image once nothing else refers
    /// to it. By ID: delete, unless several tags refer to it (then it must be
    /// forced).
    pub fn remove(&self, name: &str, force: bool, prune: bool) -> Result<Vec<Removed>> {
        let by_id = crate::reference::looks_like_id_prefix(name) && {
            let idx = self.index()?;
            let hex = name.strip_prefix("sha256:").unwrap_or(name);
            idx.images.keys().any(|id| id.hex().starts_with(hex))
        };
        let (events, images, layers) = self.store.update(|idx| -> Result<_> {
            let id = idx.resolve(name)?;
            let mut events = Vec::new();
            let tags = idx.tags_of(&id);
            let digests = idx.digests_of(&id);
            if !by_id {
                let r = Reference::parse(name)?;
                let key = match r.digest() {
                    Some(d) => r.repository().with_digest(d.clone()).to_string(),
                    None => r.clone().with_default_tag().to_string(),
                };
                if idx.tags.remove(&key).is_some() || idx.digests.remove(&key).is_some() {
                    events.push(Removed::Untagged(familiar(&key)));
                }
                let left_tags = idx.tags_of(&id);
                if !left_tags.is_empty() {
                    return Ok((events, vec![], vec![]));
                }
                // The last tag is gone: digest references of the same image go too.
                for d in idx.digests_of(&id) {
                    idx.digests.remove(&d);
                    events.push(Removed::Untagged(familiar(&d)));
                }
            } else {
                let refs = tags.len() + digests.len();
                if refs > 0 && !force && !single_reference(&tags, &digests) {
                    return Err(EngineError::MultipleRepositories(id.short()));
                }
                for t in tags.iter().chain(digests.iter()) {
                    idx.tags.remove(t);
                    idx.digests.remove(t);
                    events.push(Removed::Untagged(familiar(t)));
                }
            }
            if !idx.children_of(&id).is_empty() {
                if by_id {
                    return Err(EngineError::HasChildren(id.short()));
                }
                return Ok((events, vec![], vec![]));
            }
            // The image goes, then each untagged parent left without children
            // (the intermediate images of a classic build), as moby prunes.
            let mut deleted = Vec::new();
            let mut released = Vec::new();
            let mut next = Some(id);
            while let Some(id) = next.take() {
                let summary = idx.images.remove(&id).expect("image exists");
                idx.bases.retain(|_, v| *v != id);
                events.push(Removed::Deleted(id.clone()));
                // Layers no other image uses are released; report their chain IDs top-down.
                let live: std::collections::HashSet<Digest> = idx
                    .images
                    .values()
                    .flat_map(|s| s.layers.iter().cloned())
                    .collect();
                let chain = chain_ids(&summary.layers);
                for (i, l) in summary.layers.iter().enumerate().rev() {
                    if !live.contains(l) && !released.contains(l) {
                        released.push(l.clone());
                        events.push(Removed::Deleted(chain[i].clone()));
                    }
                }
                deleted.push(id);
                next = summary.parent.filter(|p| {
                    prune
                        && idx.images.contains_key(p)
                        && idx.tags_of(p).is_empty()
                        && idx.digests_of(p).is_empty()
                        && idx.children_of(p).is_empty()
                });
            }
            Ok((events, deleted, released))
        })?;
        if !images.is_empty() {
            let idx = self.index()?;
            self.store.collect_garbage(&idx, &images, &layers);
        }
        Ok(events)
    }
}

/// moby's `isSingleReference`: at most one tag, and every digest reference
/// in that tag's repository (or, without a tag, all in one repository).
/// Only then does `rmi ID` untag without `-f`.
fn single_reference(tags: &[String], digests: &[String]) -> bool {
    if tags.len() + digests.len() <= 1 {
        return true;
    }
    if tags.len() > 1 {
        return false;
    }
    let name = |r: &String| Reference::parse(r).map(|r| r.name()).ok();
    let repos: std::collections::BTreeSet<Option<String>> = digests.iter().map(name).collect();
    let single = tags.first().or(digests.first()).map(name);
    repos.len() == 1 && single.is_some_and(|n| repos.contains(&n))
}

fn familiar(full: &str) -> String {
    Reference::parse(full)
        .map(|r| r.familiar_string())
        .unwrap_or_else(|_| full.to_string())
}

/// Layer chain IDs: ChainID(L0) = DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)).
pub fn chain_ids(diff_ids: &[Digest]) -> Vec<Digest> {
    let mut out: Vec<Digest> = Vec::new();
    for d in diff_ids {
        let next = match out.last() {
            None => d.clone(),
            Some(prev) => Digest::of(format!("{prev} {d}").as_bytes()),
        };
        out.push(next);
    }
    out
}
