//! The base-image catalog: the images a learner can `docker pull` or name in
//! `FROM` without a network, described in `fixtures/images/*.yaml` (embedded in
//! the binary) and synthesized here into real config JSON and layer
//! changesets, deterministically: the same description always gives the same
//! entries, so two fresh homes agree on every layer digest and image ID.
//!
//! A description gives the repository, tags, `real_size_bytes` (what the real
//! image weighs, for the size check), the config (merged over the `base`
//! image's config the way a Dockerfile build does), and the history steps,
//! each either metadata-only or carrying a layer. A layer is written in a small
//! vocabulary (see [`LayerDoc`]): a line language for directories, filler files
//! and links, literal text files, "bulk" groups of realistically named filler
//! files of a given total size, busybox applet links, and apk / dpkg package
//! databases whose packages can own files. `{arch}`, `{debarch}`, `{triplet}`
//! and `{ldso}` expand per platform, and a line prefixed with `[amd64]` or
//! `[arm64]` only exists on that architecture. Shared pieces live in
//! `_fragments.yaml` and are pulled into a layer with `include:`.

use crate::layer::{self, Content, Entry, Kind};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, OnceLock};

/// The repository name `FROM scratch` resolves to; it has no layers and
/// cannot be pulled ("'scratch' is a reserved name").
pub const SCRATCH: &str = "docker.io/library/scratch";

/// One embedded description: its file name and text.
macro_rules! fixture {
    ($name:literal) => {
        ($name, include_str!(concat!("../fixtures/images/", $name)))
    };
}

/// The embedded descriptions, bases before the images built on them.
const FILES: &[(&str, &str)] = &[
    fixture!("scratch.yaml"),
    fixture!("hello-world.yaml"),
    fixture!("busybox.yaml"),
    fixture!("alpine-3.20.yaml"),
    fixture!("alpine-3.19.yaml"),
    fixture!("alpine-3.18.yaml"),
    fixture!("nginx-alpine.yaml"),
    fixture!("registry-2.yaml"),
    fixture!("tonistiigi-binfmt.yaml"),
    fixture!("node-20-alpine.yaml"),
    fixture!("golang-1.22-alpine.yaml"),
    fixture!("python-3.12-alpine.yaml"),
    fixture!("debian-bookworm-slim.yaml"),
    fixture!("debian-bookworm.yaml"),
    fixture!("python-3.12-slim.yaml"),
    fixture!("httpd-2.yaml"),
    fixture!("golang-1.22.yaml"),
    fixture!("ubuntu-22.04.yaml"),
    fixture!("ubuntu-24.04.yaml"),
    fixture!("eclipse-temurin-21-jre.yaml"),
    fixture!("eclipse-temurin-21-jdk.yaml"),
    fixture!("maven-3.9-eclipse-temurin-21.yaml"),
];

const FRAGMENTS: &str = include_str!("../fixtures/images/_fragments.yaml");

/// The parsed catalog, built once from the embedded descriptions.
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| match Catalog::parse(FILES, FRAGMENTS) {
        Ok(c) => c,
        Err(e) => panic!("embedded image catalog is broken: {e}"),
    })
}

/// Why the embedded descriptions could not be turned into a catalog.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("{file}: {source}")]
    Yaml {
        file: String,
        source: serde_yaml::Error,
    },
    #[error("{0}")]
    Invalid(String),
}

/// All base images.
pub struct Catalog {
    images: Vec<BaseImage>,
}

/// One base image (a repository with one or more tags for the same content).
#[derive(Clone, Debug)]
pub struct BaseImage {
    /// Full form: `docker.io/library/alpine`.
    pub repository: String,
    pub tags: Vec<String>,
    pub description: String,
    /// Size of the real image on linux/amd64 (sum of uncompressed layers).
    pub real_size_bytes: u64,
    /// `scratch`: resolvable by `FROM`, refused by `docker pull`.
    pub reserved: bool,
    /// The image this one is built `FROM` (`alpine:3.20`), if any.
    pub base: Option<String>,
    platforms: Vec<Platform>,
    config: ConfigDoc,
    created: String,
    steps: Vec<Step>,
}

/// A platform an image is available for.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    pub fn new(os: &str, architecture: &str, variant: Option<&str>) -> Platform {
        Platform {
            os: os.to_string(),
            architecture: architecture.to_string(),
            variant: variant.map(str::to_string),
        }
    }
    pub fn amd64() -> Platform {
        Platform::new("linux", "amd64", None)
    }
    pub fn arm64() -> Platform {
        Platform::new("linux", "arm64", Some("v8"))
    }
    /// Parses `linux/amd64`, `linux/arm64/v8`, `linux/arm64` (variant v8 implied).
    pub fn parse(s: &str) -> Option<Platform> {
        let mut it = s.split('/');
        let os = it.next()?;
        let arch = it.next()?;
        let variant = it.next();
        if it.next().is_some() || os.is_empty() || arch.is_empty() {
            return None;
        }
        let variant = match (arch, variant) {
            ("arm64", None) => Some("v8"),
            (_, v) => v,
        };
        Some(Platform::new(os, arch, variant))
    }
    /// `uname -m` / apk arch: x86_64, aarch64.
    pub fn uname_machine(&self) -> &str {
        match self.architecture.as_str() {
            "amd64" => "x86_64",
            "arm64" => "aarch64",
            "arm" => "armv7l",
            "386" => "i686",
            other => other,
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

impl Catalog {
    /// The image `repository:tag` (repository in full form), if described.
    pub fn find(&self, repository: &str, tag: &str) -> Option<&BaseImage> {
        self.images
            .iter()
            .find(|i| i.repository == repository && i.tags.iter().any(|t| t == tag))
    }

    pub fn images(&self) -> &[BaseImage] {
        &self.images
    }

    /// The reserved empty image `FROM scratch` starts from.
    pub fn scratch(&self) -> &BaseImage {
        self.find(SCRATCH, "latest")
            .expect("scratch is always described")
    }

    fn parse(files: &[(&str, &str)], fragments: &str) -> Result<Catalog, CatalogError> {
        let frags: FragmentsDoc =
            serde_yaml::from_str(fragments).map_err(|source| CatalogError::Yaml {
                file: "_fragments.yaml".into(),
                source,
            })?;
        let mut docs = Vec::new();
        for (name, text) in files {
            let doc: ImageDoc =
                serde_yaml::from_str(text).map_err(|source| CatalogError::Yaml {
                    file: name.to_string(),
                    source,
                })?;
            docs.push((name.to_string(), doc));
        }
        let mut images: Vec<BaseImage> = Vec::new();
        // Resolve in file order; a base must be described before its children.
        for (file, doc) in docs {
            let repository = full_repository(&doc.repository);
            let base_img = match &doc.base {
                Some(b) => {
                    let (r, t) = split_ref(b);
                    let found = images
                        .iter()
                        .find(|i| i.repository == r && i.tags.iter().any(|x| x == &t))
                        .ok_or_else(|| {
                            CatalogError::Invalid(format!(
                                "{file}: base {b} is not described (earlier)"
                            ))
                        })?;
                    Some(found.clone())
                }
                None => None,
            };
            let platforms = match &doc.platforms {
                Some(ps) => ps
                    .iter()
                    .map(|p| {
                        Platform::parse(p).ok_or_else(|| {
                            CatalogError::Invalid(format!("{file}: bad platform {p}"))
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                None => match &base_img {
                    Some(b) => b.platforms.clone(),
                    None => vec![Platform::amd64(), Platform::arm64()],
                },
            };
            let mut steps = base_img
                .as_ref()
                .map(|b| b.steps.clone())
                .unwrap_or_default();
            let first_tag = doc.tags.first().cloned().unwrap_or_default();
            for (i, s) in doc.history.into_iter().enumerate() {
                let layer = match s.layer {
                    Some(l) => Some(Arc::new(l.resolve(&frags.fragments, &file)?)),
                    None => None,
                };
                let salt = layer
                    .as_ref()
                    .and_then(|l| l.id.clone())
                    .unwrap_or_else(|| format!("{repository}:{first_tag}#{i}"));
                steps.push(Step {
                    created: s.created.unwrap_or_else(|| doc.created.clone()),
                    created_by: s.created_by,
                    comment: s.comment,
                    author: s.author,
                    layer,
                    salt,
                });
            }
            let config = match &base_img {
                Some(b) => b.config.merged(&doc.config),
                None => doc.config.clone(),
            };
            images.push(BaseImage {
                repository,
                tags: doc.tags,
                description: doc.description,
                real_size_bytes: doc.real_size_bytes,
                reserved: doc.reserved,
                base: doc.base,
                platforms,
                config,
                created: doc.created,
                steps,
            });
        }
        Ok(Catalog { images })
    }
}

/// `alpine` → `docker.io/library/alpine`; `foo/bar` → `docker.io/foo/bar`.
fn full_repository(r: &str) -> String {
    let first = r.split('/').next().unwrap_or("");
    if r.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost") {
        r.to_string()
    } else if r.contains('/') {
        format!("docker.io/{r}")
    } else {
        format!("docker.io/library/{r}")
    }
}

fn split_ref(r: &str) -> (String, String) {
    match r.rsplit_once(':') {
        Some((n, t)) if !t.contains('/') => (full_repository(n), t.to_string()),
        _ => (full_repository(r), "latest".to_string()),
    }
}

impl BaseImage {
    pub fn platforms(&self) -> Vec<Platform> {
        self.platforms.clone()
    }

    /// `repository:first-tag` in short form (`alpine:3.20`).
    pub fn name(&self) -> String {
        let short = self
            .repository
            .strip_prefix("docker.io/library/")
            .or_else(|| self.repository.strip_prefix("docker.io/"))
            .unwrap_or(&self.repository);
        format!(
            "{short}:{}",
            self.tags.first().map(String::as_str).unwrap_or("latest")
        )
    }

    /// The image config JSON (image spec v1.2 field set, docker's order), with
    /// `rootfs.diff_ids` empty: the store fills them after writing the layers.
    pub fn config(&self, platform: &Platform) -> Value {
        let history: Vec<Value> = self
            .steps
            .iter()
            .map(|s| {
                let mut h = Map::new();
                h.insert("created".into(), json!(s.created));
                if let Some(a) = &s.author {
                    h.insert("author".into(), json!(a));
                }
                h.insert("created_by".into(), json!(s.created_by.get(platform)));
                if let Some(c) = &s.comment {
                    h.insert("comment".into(), json!(c));
                }
                if s.layer.is_none() {
                    h.insert("empty_layer".into(), json!(true));
                }
                Value::Object(h)
            })
            .collect();
        let mut m = Map::new();
        m.insert("architecture".into(), json!(platform.architecture));
        m.insert("config".into(), self.config.to_json());
        m.insert("created".into(), json!(self.created));
        m.insert("history".into(), Value::Array(history));
        m.insert("os".into(), json!(platform.os));
        m.insert("rootfs".into(), json!({"type": "layers", "diff_ids": []}));
        if let Some(v) = &platform.variant {
            m.insert("variant".into(), json!(v));
        }
        Value::Object(m)
    }

    /// The layer changesets, bottom first, each normalized and containing its
    /// parent directories.
    pub fn layers(&self, platform: &Platform) -> Vec<Vec<Entry>> {
        let vars = Vars::of(platform);
        let mut state = DbState::default();
        let mut out = Vec::new();
        for s in &self.steps {
            if let Some(l) = &s.layer {
                let mtime = parse_time(&s.created).unwrap_or(layer::DEFAULT_MTIME);
                out.push(l.build(&s.salt, mtime, &vars, &mut state));
            }
        }
        out
    }

    /// Number of history entries that carry a layer.
    pub fn layer_count(&self) -> usize {
        self.steps.iter().filter(|s| s.layer.is_some()).count()
    }
}

// ---------------------------------------------------------------------------
// Description documents

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImageDoc {
    repository: String,
    tags: Vec<String>,
    description: String,
    real_size_bytes: u64,
    #[serde(default)]
    reserved: bool,
    #[serde(default)]
    base: Option<String>,
    #[serde(default)]
    platforms: Option<Vec<String>>,
    created: String,
    #[serde(default)]
    config: ConfigDoc,
    #[serde(default)]
    history: Vec<StepDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StepDoc {
    #[serde(default)]
    created: Option<String>,
    created_by: PerArch<String>,
    #[serde(default)]
    comment: Option<String>,
    #[serde(default)]
    author: Option<String>,
    #[serde(default)]
    layer: Option<LayerDoc>,
}

#[derive(Clone, Debug)]
struct Step {
    created: String,
    created_by: PerArch<String>,
    comment: Option<String>,
    author: Option<String>,
    layer: Option<Arc<LayerDoc>>,
    salt: String,
}

/// A value that is either the same on every platform or given per architecture.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
enum PerArch<T> {
    Split { amd64: T, arm64: T },
    One(T),
}

impl<T> PerArch<T> {
    fn get(&self, p: &Platform) -> &T {
        match self {
            PerArch::One(v) => v,
            PerArch::Split { amd64, arm64 } => {
                if p.architecture == "arm64" {
                    arm64
                } else {
                    amd64
                }
            }
        }
    }
}

/// The runtime config, spec field names. Maps are sorted as docker (Go) does.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(non_snake_case)]
struct ConfigDoc {
    #[serde(default)]
    User: Option<String>,
    #[serde(default)]
    ExposedPorts: Option<BTreeSet<String>>,
    #[serde(default)]
    Env: Vec<String>,
    #[serde(default)]
    Entrypoint: Option<Vec<String>>,
    #[serde(default)]
    Cmd: Option<Vec<String>>,
    #[serde(default)]
    Volumes: Option<BTreeSet<String>>,
    #[serde(default)]
    WorkingDir: Option<String>,
    #[serde(default)]
    Labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    StopSignal: Option<String>,
    #[serde(default)]
    ArgsEscaped: Option<bool>,
}

impl ConfigDoc {
    /// `self` (the base's config) with a child's instructions applied.
    fn merged(&self, child: &ConfigDoc) -> ConfigDoc {
        let mut c = self.clone();
        for e in &child.Env {
            let key = e.split_once('=').map(|(k, _)| k).unwrap_or(e);
            match c
                .Env
                .iter_mut()
                .find(|x| x.split_once('=').map(|(k, _)| k).unwrap_or(x) == key)
            {
                Some(x) => *x = e.clone(),
                None => c.Env.push(e.clone()),
            }
        }
        if child.User.is_some() {
            c.User = child.User.clone();
        }
        if let Some(p) = &child.ExposedPorts {
            c.ExposedPorts
                .get_or_insert_with(BTreeSet::new)
                .extend(p.iter().cloned());
        }
        if let Some(v) = &child.Volumes {
            c.Volumes
                .get_or_insert_with(BTreeSet::new)
                .extend(v.iter().cloned());
        }
        if let Some(l) = &child.Labels {
            c.Labels.get_or_insert_with(BTreeMap::new).extend(l.clone());
        }
        if child.Entrypoint.is_some() {
            c.Entrypoint = child.Entrypoint.clone();
            // ENTRYPOINT resets an inherited CMD
            c.Cmd = None;
        }
        if child.Cmd.is_some() {
            c.Cmd = child.Cmd.clone();
        }
        if child.WorkingDir.is_some() {
            c.WorkingDir = child.WorkingDir.clone();
        }
        if child.StopSignal.is_some() {
            c.StopSignal = child.StopSignal.clone();
        }
        if child.ArgsEscaped.is_some() {
            c.ArgsEscaped = child.ArgsEscaped;
        }
        c
    }

    fn to_json(&self) -> Value {
        let mut m = Map::new();
        if let Some(u) = &self.User {
            m.insert("User".into(), json!(u));
        }
        if let Some(p) = &self.ExposedPorts {
            let ports: Map<String, Value> = p.iter().map(|k| (k.clone(), json!({}))).collect();
            m.insert("ExposedPorts".into(), Value::Object(ports));
        }
        if !self.Env.is_empty() {
            m.insert("Env".into(), json!(self.Env));
        }
        if let Some(e) = &self.Entrypoint {
            m.insert("Entrypoint".into(), json!(e));
        }
        if let Some(c) = &self.Cmd {
            m.insert("Cmd".into(), json!(c));
        }
        if let Some(v) = &self.Volumes {
            let vols: Map<String, Value> = v.iter().map(|k| (k.clone(), json!({}))).collect();
            m.insert("Volumes".into(), Value::Object(vols));
        }
        if let Some(w) = &self.WorkingDir {
            m.insert("WorkingDir".into(), json!(w));
        }
        if let Some(l) = &self.Labels {
            m.insert("Labels".into(), json!(l));
        }
        if let Some(s) = &self.StopSignal {
            m.insert("StopSignal".into(), json!(s));
        }
        if let Some(a) = self.ArgsEscaped {
            m.insert("ArgsEscaped".into(), json!(a));
        }
        Value::Object(m)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FragmentsDoc {
    fragments: HashMap<String, LayerDoc>,
}

/// One layer's content.
///
/// `entries` is a line language, one entry per line (`#` starts a comment;
/// modes are octal; `OWNER` is `uid:gid`; sizes take `K`/`M` (binary) or
/// `kB`/`MB` (decimal) suffixes):
/// ```text
/// d PATH [MODE] [OWNER]            directory
/// f PATH MODE SIZE [OWNER]         file of SIZE filler bytes
/// e PATH [MODE] [OWNER]            empty file
/// l PATH TARGET                    symlink
/// h PATH TARGET                    hard link (TARGET relative to the root)
/// w PATH                           whiteout (deleted in this layer)
/// [amd64] ...  /  [arm64] ...      only on that architecture
/// ```
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LayerDoc {
    /// Seed salt for filler bytes; defaults to `repository:tag#step`.
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    include: Vec<String>,
    #[serde(default)]
    entries: String,
    /// Literal files: path → text, or `{content, mode, owner}`.
    #[serde(default)]
    text: BTreeMap<String, TextDoc>,
    /// Text appended to a file a lower layer wrote with `text` (keeps its
    /// mode and owner): `/etc/passwd: "nginx:x:101:..."`.
    #[serde(default)]
    append: BTreeMap<String, String>,
    #[serde(default)]
    bulk: Vec<BulkDoc>,
    #[serde(default)]
    applets: Option<AppletsDoc>,
    #[serde(default)]
    apk: Option<ApkDoc>,
    #[serde(default)]
    dpkg: Option<DpkgDoc>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
enum TextDoc {
    Plain(String),
    Full {
        content: String,
        #[serde(default)]
        mode: Option<String>,
        #[serde(default)]
        owner: Option<String>,
    },
}

/// `size` bytes of filler spread over the named files under `dir`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BulkDoc {
    dir: String,
    size: PerArch<SizeDoc>,
    /// Whitespace-separated relative file names (may contain `/`).
    names: String,
    #[serde(default)]
    mode: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
enum SizeDoc {
    Int(u64),
    Text(String),
}

impl SizeDoc {
    fn bytes(&self) -> Result<u64, String> {
        match self {
            SizeDoc::Int(n) => Ok(*n),
            SizeDoc::Text(s) => parse_size(s),
        }
    }
}

/// Busybox applet links: directory → whitespace-separated applet names.
#[derive(Clone, Debug, Deserialize)]
struct AppletsDoc {
    /// `/bin/busybox` (symlinks) or `bin/busybox` with `hardlink: true`.
    target: String,
    #[serde(default)]
    hardlink: bool,
    dirs: BTreeMap<String, String>,
}

/// `lib/apk/db/installed`: the packages this layer adds (to those of the
/// layers below, when `extends` is set) in installation order.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApkDoc {
    #[serde(default)]
    extends: bool,
    #[serde(default)]
    remove: Vec<String>,
    packages: Vec<ApkPkg>,
}

/// One apk record, keyed by apk's own field letters.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ApkPkg {
    #[serde(rename = "P")]
    pub(crate) name: String,
    #[serde(rename = "V")]
    pub(crate) version: String,
    #[serde(rename = "T")]
    pub(crate) description: String,
    #[serde(rename = "U")]
    pub(crate) url: String,
    #[serde(rename = "L")]
    pub(crate) license: String,
    #[serde(rename = "o", default)]
    pub(crate) origin: Option<String>,
    #[serde(rename = "I")]
    pub(crate) installed_size: u64,
    #[serde(rename = "S", default)]
    pub(crate) size: Option<u64>,
    #[serde(rename = "m", default)]
    pub(crate) maintainer: Option<String>,
    #[serde(rename = "t", default)]
    pub(crate) build_time: Option<u64>,
    #[serde(rename = "c", default)]
    pub(crate) commit: Option<String>,
    #[serde(rename = "D", default)]
    pub(crate) depends: Option<String>,
    #[serde(rename = "p", default)]
    pub(crate) provides: Option<String>,
    #[serde(rename = "r", default)]
    pub(crate) replaces: Option<String>,
    #[serde(rename = "i", default)]
    pub(crate) install_if: Option<String>,
    /// Files the package owns (entry line language); listed as F:/R: lines.
    #[serde(default)]
    pub(crate) files: String,
}

/// `var/lib/dpkg/status` (+ `info/*.list`): paragraphs in dpkg's field names.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DpkgDoc {
    #[serde(default)]
    extends: bool,
    /// Default Maintainer for paragraphs that give none.
    #[serde(default)]
    maintainer: Option<String>,
    #[serde(default)]
    packages: Vec<Map<String, Value>>,
    /// Compact paragraphs, one per line, ` | `-separated columns:
    /// `Package | Version | Source | Priority | Section | Installed-Size |
    /// Multi-Arch | Essential | Description | Depends`; `-` leaves a field out.
    #[serde(default)]
    table: String,
}

const DPKG_TABLE: &[&str] = &[
    "Package",
    "Version",
    "Source",
    "Priority",
    "Section",
    "Installed-Size",
    "Multi-Arch",
    "Essential",
    "Description",
    "Depends",
];

impl DpkgDoc {
    /// All paragraphs: the table's rows, then `packages`.
    fn paragraphs(&self) -> Result<Vec<Map<String, Value>>, String> {
        let mut out = Vec::new();
        for line in self.table.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let cols: Vec<&str> = line
                .splitn(DPKG_TABLE.len(), " | ")
                .map(str::trim)
                .collect();
            if cols.len() < 2 || cols.len() > DPKG_TABLE.len() {
                return Err(format!("bad dpkg table row: {line}"));
            }
            let mut m = Map::new();
            for (k, v) in DPKG_TABLE.iter().zip(cols) {
                if v != "-" && !v.is_empty() {
                    m.insert(k.to_string(), Value::String(v.to_string()));
                }
            }
            out.push(m);
        }
        out.extend(self.packages.iter().cloned());
        Ok(out)
    }
}

impl LayerDoc {
    /// Pulls included fragments in (recursively).
    fn resolve(
        mut self,
        frags: &HashMap<String, LayerDoc>,
        file: &str,
    ) -> Result<LayerDoc, CatalogError> {
        let includes = std::mem::take(&mut self.include);
        let mut out = LayerDoc {
            id: self.id.take(),
            ..LayerDoc::default()
        };
        for name in includes {
            let f = frags
                .get(&name)
                .ok_or_else(|| CatalogError::Invalid(format!("{file}: unknown fragment {name}")))?
                .clone()
                .resolve(frags, file)?;
            out.absorb(f);
        }
        out.absorb(self);
        out.check()
            .map_err(|e| CatalogError::Invalid(format!("{file}: {e}")))?;
        Ok(out)
    }

    fn absorb(&mut self, o: LayerDoc) {
        if !o.entries.is_empty() {
            self.entries.push('\n');
            self.entries.push_str(&o.entries);
        }
        self.text.extend(o.text);
        self.append.extend(o.append);
        self.bulk.extend(o.bulk);
        if o.applets.is_some() {
            self.applets = o.applets;
        }
        // package lists from fragments and the layer itself add up
        match (&mut self.apk, o.apk) {
            (Some(a), Some(b)) => {
                a.extends |= b.extends;
                a.remove.extend(b.remove);
                a.packages.extend(b.packages);
            }
            (a, b) => {
                if b.is_some() {
                    *a = b;
                }
            }
        }
        match (&mut self.dpkg, o.dpkg) {
            (Some(a), Some(b)) => {
                a.extends |= b.extends;
                if b.maintainer.is_some() {
                    a.maintainer = b.maintainer;
                }
                a.packages.extend(b.packages);
                a.table.push('\n');
                a.table.push_str(&b.table);
            }
            (a, b) => {
                if b.is_some() {
                    *a = b;
                }
            }
        }
    }

    /// Validates everything that could otherwise fail while building.
    fn check(&self) -> Result<(), String> {
        for v in [Vars::of(&Platform::amd64()), Vars::of(&Platform::arm64())] {
            parse_lines(&self.entries, &v)?;
            for b in &self.bulk {
                b.size.get(&v.platform).bytes()?;
            }
            if let Some(a) = &self.apk {
                for p in &a.packages {
                    parse_lines(&p.files, &v)?;
                }
            }
            if let Some(d) = &self.dpkg {
                for p in &d.paragraphs()? {
                    if !p.contains_key("Package") || !p.contains_key("Version") {
                        return Err(format!("dpkg paragraph without Package/Version: {p:?}"));
                    }
                    if let Some(Value::String(f)) = p.get("files") {
                        parse_lines(f, &v)?;
                    }
                }
            }
        }
        for t in self.text.values() {
            if let TextDoc::Full { mode, owner, .. } = t {
                if let Some(m) = mode {
                    parse_mode(m)?;
                }
                if let Some(o) = owner {
                    parse_owner(o)?;
                }
            }
        }
        Ok(())
    }

    fn build(&self, salt: &str, mtime: u64, vars: &Vars, state: &mut DbState) -> Vec<Entry> {
        let seed =
            |path: &str| layer::seed_of(&format!("{salt}|{}|{path}", vars.platform.architecture));
        let mut entries: Vec<Entry> = Vec::new();
        // package-owned files first: the layer's own lines and texts win
        self.build_databases(&seed, vars, state, &mut entries);
        let lines = parse_lines(&self.entries, vars).expect("checked at parse time");
        entries.extend(lines.into_iter().map(|l| l.entry(&seed)));
        for (path, t) in &self.text {
            let path = vars.expand(path);
            let (content, mode, owner) = match t {
                TextDoc::Plain(c) => (c, "644", None),
                TextDoc::Full {
                    content,
                    mode,
                    owner,
                } => (content, mode.as_deref().unwrap_or("644"), owner.as_deref()),
            };
            let mut e = Entry::file(
                &path,
                Content::bytes(vars.expand(content)),
                parse_mode(mode).expect("checked"),
            );
            if let Some(o) = owner {
                let (u, g) = parse_owner(o).expect("checked");
                e = e.owned(u, g);
            }
            state
                .texts
                .insert(e.path.clone(), (vars.expand(content), e.mode, e.uid, e.gid));
            entries.push(e);
        }
        for (path, more) in &self.append {
            let path = layer::clean_path(&vars.expand(path));
            let (mut content, mode, uid, gid) =
                state
                    .texts
                    .get(&path)
                    .cloned()
                    .unwrap_or((String::new(), 0o644, 0, 0));
            content.push_str(&vars.expand(more));
            let e = Entry::file(&path, Content::bytes(content.clone()), mode).owned(uid, gid);
            state.texts.insert(path, (content, mode, uid, gid));
            entries.push(e);
        }
        for b in &self.bulk {
            let dir = vars.expand(&b.dir);
            let total = b.size.get(&vars.platform).bytes().expect("checked");
            let names: Vec<String> = b.names.split_whitespace().map(|n| vars.expand(n)).collect();
            let mode = parse_mode(b.mode.as_deref().unwrap_or("644")).expect("checked");
            for (name, len) in names.iter().zip(spread(total, &names)) {
                let path = format!("{dir}/{name}");
                let s = seed(&path);
                entries.push(Entry::file(&path, Content::Filler { seed: s, len }, mode));
            }
        }
        if let Some(a) = &self.applets {
            for (dir, names) in &a.dirs {
                for n in names.split_whitespace() {
                    let path = format!("{dir}/{n}");
                    let kind = if a.hardlink {
                        Kind::Hardlink(layer::clean_path(&a.target))
                    } else {
                        Kind::Symlink(a.target.clone())
                    };
                    let mode = if a.hardlink { 0o755 } else { 0o777 };
                    if layer::clean_path(&path) != layer::clean_path(&a.target) {
                        entries.push(Entry::new(&path, kind, mode));
                    }
                }
            }
        }
        for e in &mut entries {
            e.mtime = mtime;
        }
        with_parents(entries, mtime)
    }

    /// Package files and the apk / dpkg databases (over those of lower layers).
    fn build_databases(
        &self,
        seed: &dyn Fn(&str) -> u64,
        vars: &Vars,
        state: &mut DbState,
        entries: &mut Vec<Entry>,
    ) {
        if let Some(a) = &self.apk {
            if !a.extends {
                state.apk.clear();
            }
            state.apk.retain(|p| !a.remove.contains(&p.name));
            for p in &a.packages {
                let files = parse_lines(&p.files, vars).expect("checked");
                entries.extend(files.iter().map(|l| l.entry(seed)));
                state.apk.retain(|x| x.name != p.name);
                state.apk.push(ApkInstalled {
                    name: p.name.clone(),
                    record: apk_record(p, &files, vars),
                });
            }
            let mut db = String::new();
            for p in &state.apk {
                db.push_str(&p.record);
                db.push('\n');
            }
            entries.push(Entry::file(
                "lib/apk/db/installed",
                Content::bytes(db),
                0o644,
            ));
        }
        if let Some(d) = &self.dpkg {
            if !d.extends {
                state.dpkg.clear();
            }
            for p in &d.paragraphs().expect("checked") {
                let files = match p.get("files") {
                    Some(Value::String(f)) => parse_lines(f, vars).expect("checked"),
                    _ => Vec::new(),
                };
                entries.extend(files.iter().map(|l| l.entry(seed)));
                let name = value_str(&p["Package"]);
                let (para, list_name) = dpkg_paragraph(p, d.maintainer.as_deref(), vars);
                let mut list = String::from("/.\n");
                for f in &files {
                    list.push('/');
                    list.push_str(&f.path);
                    list.push('\n');
                }
                entries.push(Entry::file(
                    &format!("var/lib/dpkg/info/{list_name}.list"),
                    Content::bytes(list),
                    0o644,
                ));
                state.dpkg.retain(|x| x.0 != name);
                state.dpkg.push((name, para));
            }
            let mut sorted: Vec<&(String, String)> = state.dpkg.iter().collect();
            sorted.sort_by(|a, b| a.0.cmp(&b.0));
            let status: String = sorted.iter().map(|(_, p)| format!("{p}\n")).collect();
            entries.push(Entry::file(
                "var/lib/dpkg/status",
                Content::bytes(status),
                0o644,
            ));
        }
    }
}

/// Package databases accumulated over the layers built so far.
#[derive(Default)]
struct DbState {
    /// Text files written so far: path → (content, mode, uid, gid).
    texts: HashMap<String, (String, u32, u32, u32)>,
    apk: Vec<ApkInstalled>,
    dpkg: Vec<(String, String)>,
}

struct ApkInstalled {
    name: String,
    record: String,
}

pub(crate) fn apk_record(p: &ApkPkg, files: &[Line], vars: &Vars) -> String {
    let mut r = String::new();
    let mut put = |k: &str, v: &str| {
        r.push_str(k);
        r.push(':');
        r.push_str(v);
        r.push('\n');
    };
    let arch = vars.platform.uname_machine().to_string();
    put(
        "C",
        &pseudo_checksum(&format!("{}-{}-{arch}.apk", p.name, p.version)),
    );
    put("P", &p.name);
    put("V", &p.version);
    put("A", &arch);
    put("S", &p.size.unwrap_or(p.installed_size * 2 / 5).to_string());
    put("I", &p.installed_size.to_string());
    put("T", &p.description);
    put("U", &p.url);
    put("L", &p.license);
    put("o", p.origin.as_deref().unwrap_or(&p.name));
    put(
        "m",
        p.maintainer
            .as_deref()
            .unwrap_or("Natanael Copa <ncopa@alpinelinux.org>"),
    );
    if let Some(t) = p.build_time {
        put("t", &t.to_string());
    }
    if let Some(c) = &p.commit {
        put("c", c);
    }
    if let Some(d) = &p.depends {
        put("D", &vars.expand(d));
    }
    if let Some(pr) = &p.provides {
        put("p", &vars.expand(pr));
    }
    if let Some(x) = &p.replaces {
        put("r", x);
    }
    if let Some(x) = &p.install_if {
        put("i", x);
    }
    // F: directory, then R: each file in it (apk's installed-file list)
    let mut current: Option<String> = None;
    for f in files {
        if matches!(f.kind, LineKind::Dir | LineKind::Whiteout) {
            continue;
        }
        let (dir, base) = f.path.rsplit_once('/').unwrap_or(("", &f.path));
        if current.as_deref() != Some(dir) {
            put("F", dir);
            current = Some(dir.to_string());
        }
        put("R", base);
        if f.mode != 0o644 && matches!(f.kind, LineKind::File(_) | LineKind::Empty) {
            put("a", &format!("{}:{}:{:o}", f.uid, f.gid, f.mode));
        }
        put("Z", &pseudo_checksum(&format!("{}|{}", p.version, f.path)));
    }
    r
}

const DPKG_ORDER: &[&str] = &[
    "Package",
    "Essential",
    "Status",
    "Priority",
    "Section",
    "Installed-Size",
    "Maintainer",
    "Architecture",
    "Multi-Arch",
    "Source",
    "Version",
    "Replaces",
    "Provides",
    "Depends",
    "Pre-Depends",
    "Recommends",
    "Suggests",
    "Breaks",
    "Conflicts",
    "Conffiles",
    "Description",
    "Homepage",
    "Important",
    "Protected",
];

fn value_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => if *b { "yes" } else { "no" }.to_string(),
        other => other.to_string(),
    }
}

/// The status paragraph (no trailing blank line) and the `info/` list name.
pub(crate) fn dpkg_paragraph(
    p: &Map<String, Value>,
    maintainer: Option<&str>,
    vars: &Vars,
) -> (String, String) {
    let mut fields: Map<String, Value> = Map::new();
    for k in DPKG_ORDER {
        match (*k, p.get(*k)) {
            (_, Some(v)) => {
                fields.insert(k.to_string(), Value::String(vars.expand(&value_str(v))));
            }
            ("Status", None) => {
                fields.insert(k.to_string(), json!("install ok installed"));
            }
            ("Architecture", None) => {
                fields.insert(k.to_string(), json!(vars.debarch));
            }
            ("Maintainer", None) => {
                if let Some(m) = maintainer {
                    fields.insert(k.to_string(), json!(m));
                }
            }
            _ => {}
        }
    }
    for (k, v) in p {
        if k != "files" && !fields.contains_key(k) {
            fields.insert(k.clone(), Value::String(value_str(v)));
        }
    }
    let mut s = String::new();
    for (k, v) in &fields {
        s.push_str(k);
        s.push_str(": ");
        s.push_str(v.as_str().unwrap_or_default());
        s.push('\n');
    }
    let name = value_str(&p["Package"]);
    let same = fields.get("Multi-Arch").and_then(Value::as_str) == Some("same");
    let list = if same {
        format!("{name}:{}", vars.debarch)
    } else {
        name
    };
    (s, list)
}

/// Adds every missing ancestor directory (0755 root) and normalizes.
fn with_parents(entries: Vec<Entry>, mtime: u64) -> Vec<Entry> {
    let have: BTreeSet<String> = entries.iter().map(|e| e.path.clone()).collect();
    let mut extra: BTreeSet<String> = BTreeSet::new();
    for e in &entries {
        let mut p = e.path.as_str();
        while let Some((dir, _)) = p.rsplit_once('/') {
            if !have.contains(dir) {
                extra.insert(dir.to_string());
            }
            p = dir;
        }
    }
    let mut all = entries;
    all.extend(extra.into_iter().map(|d| Entry::dir(&d, 0o755).at(mtime)));
    layer::normalize(all)
}

// ---------------------------------------------------------------------------
// The entry line language

#[derive(Clone, Debug)]
pub(crate) enum LineKind {
    Dir,
    File(u64),
    Empty,
    Symlink(String),
    Hardlink(String),
    Whiteout,
}

#[derive(Clone, Debug)]
pub(crate) struct Line {
    pub(crate) path: String,
    pub(crate) kind: LineKind,
    pub(crate) mode: u32,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
}

impl Line {
    pub(crate) fn entry(&self, seed: &dyn Fn(&str) -> u64) -> Entry {
        let kind = match &self.kind {
            LineKind::Dir => Kind::Dir,
            LineKind::File(len) => Kind::File(Content::Filler {
                seed: seed(&self.path),
                len: *len,
            }),
            LineKind::Empty => Kind::File(Content::bytes(Vec::new())),
            LineKind::Symlink(t) => Kind::Symlink(t.clone()),
            LineKind::Hardlink(t) => Kind::Hardlink(layer::clean_path(t)),
            LineKind::Whiteout => Kind::Whiteout,
        };
        Entry::new(&self.path, kind, self.mode).owned(self.uid, self.gid)
    }
}

pub(crate) fn parse_lines(text: &str, vars: &Vars) -> Result<Vec<Line>, String> {
    let mut out = Vec::new();
    for raw in text.lines() {
        let line = raw.split(" #").next().unwrap_or("").trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = if let Some(rest) = line.strip_prefix('[') {
            let (arch, rest) = rest
                .split_once(']')
                .ok_or_else(|| format!("bad line: {raw}"))?;
            if arch != vars.platform.architecture {
                continue;
            }
            rest.trim()
        } else {
            line
        };
        let line = vars.expand(line);
        let w: Vec<&str> = line.split_whitespace().collect();
        let bad = || format!("bad entry line: {raw}");
        if w.len() < 2 {
            return Err(bad());
        }
        let path = layer::clean_path(w[1]);
        if path.is_empty() {
            return Err(bad());
        }
        let owner = |i: usize| -> Result<(u32, u32), String> {
            match w.get(i) {
                Some(o) => parse_owner(o),
                None => Ok((0, 0)),
            }
        };
        let (kind, mode, (uid, gid)) = match w[0] {
            "d" => {
                let mode = w
                    .get(2)
                    .map(|m| parse_mode(m))
                    .transpose()?
                    .unwrap_or(0o755);
                (LineKind::Dir, mode, owner(3)?)
            }
            "f" => {
                let mode = parse_mode(w.get(2).ok_or_else(bad)?)?;
                let size = parse_size(w.get(3).ok_or_else(bad)?)?;
                (LineKind::File(size), mode, owner(4)?)
            }
            "e" => {
                let mode = w
                    .get(2)
                    .map(|m| parse_mode(m))
                    .transpose()?
                    .unwrap_or(0o644);
                (LineKind::Empty, mode, owner(3)?)
            }
            "l" => (
                LineKind::Symlink(w.get(2).ok_or_else(bad)?.to_string()),
                0o777,
                (0, 0),
            ),
            "h" => (
                LineKind::Hardlink(w.get(2).ok_or_else(bad)?.to_string()),
                0o755,
                (0, 0),
            ),
            "w" => (LineKind::Whiteout, 0, (0, 0)),
            _ => return Err(bad()),
        };
        out.push(Line {
            path,
            kind,
            mode,
            uid,
            gid,
        });
    }
    Ok(out)
}

fn parse_mode(s: &str) -> Result<u32, String> {
    u32::from_str_radix(s, 8).map_err(|_| format!("bad mode {s}"))
}

fn parse_owner(s: &str) -> Result<(u32, u32), String> {
    let (u, g) = s.split_once(':').ok_or_else(|| format!("bad owner {s}"))?;
    let n = |x: &str| x.parse::<u32>().map_err(|_| format!("bad owner {s}"));
    Ok((n(u)?, n(g)?))
}

pub(crate) fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim().replace('_', "");
    let (num, mult) = [
        ("kB", 1e3),
        ("MB", 1e6),
        ("GB", 1e9),
        ("K", 1024.0),
        ("M", 1048576.0),
        ("G", 1073741824.0),
    ]
    .iter()
    .find_map(|(suf, m)| s.strip_suffix(suf).map(|n| (n.to_string(), *m)))
    .unwrap_or((s.clone(), 1.0));
    let v: f64 = num.trim().parse().map_err(|_| format!("bad size {s}"))?;
    if v < 0.0 {
        return Err(format!("bad size {s}"));
    }
    Ok((v * mult).round() as u64)
}

/// Splits `total` over `names` with stable, uneven weights.
fn spread(total: u64, names: &[String]) -> Vec<u64> {
    if names.is_empty() {
        return Vec::new();
    }
    let weights: Vec<u64> = names
        .iter()
        .map(|n| 200 + layer::seed_of(n) % 1800)
        .collect();
    let sum: u64 = weights.iter().sum();
    let mut sizes: Vec<u64> = weights
        .iter()
        .map(|w| ((total as u128 * *w as u128) / sum as u128) as u64)
        .collect();
    let given: u64 = sizes.iter().sum();
    if let Some(last) = sizes.last_mut() {
        *last += total - given;
    }
    sizes
}

/// Per-platform placeholder values.
pub(crate) struct Vars {
    platform: Platform,
    arch: &'static str,
    debarch: &'static str,
    triplet: &'static str,
    ldso: &'static str,
}

impl Vars {
    pub(crate) fn of(p: &Platform) -> Vars {
        let arm = p.architecture == "arm64";
        Vars {
            platform: p.clone(),
            arch: if arm { "aarch64" } else { "x86_64" },
            debarch: if arm { "arm64" } else { "amd64" },
            triplet: if arm {
                "aarch64-linux-gnu"
            } else {
                "x86_64-linux-gnu"
            },
            ldso: if arm {
                "ld-linux-aarch64.so.1"
            } else {
                "ld-linux-x86-64.so.2"
            },
        }
    }

    pub(crate) fn expand(&self, s: &str) -> String {
        if !s.contains('{') {
            return s.to_string();
        }
        s.replace("{arch}", self.arch)
            .replace("{debarch}", self.debarch)
            .replace("{triplet}", self.triplet)
            .replace("{ldso}", self.ldso)
    }
}

/// apk's `Q1` + base64(sha1)-shaped checksum, derived from `s` (a stand-in:
/// the synthesized files are not the real package files).
pub(crate) fn pseudo_checksum(s: &str) -> String {
    let d = crate::digest::Digest::of(s.as_bytes()).to_string();
    let hexpart = d.trim_start_matches("sha256:");
    let bytes = hex::decode(&hexpart[..40]).unwrap_or_default();
    format!("Q1{}", base64(&bytes))
}

fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = ((b[0] as u32) << 16) | ((b[1] as u32) << 8) | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Seconds since the epoch of an RFC 3339 UTC time (`2024-09-06T22:20:07.97Z`).
fn parse_time(s: &str) -> Option<u64> {
    let (date, time) = s.split_once('T')?;
    let mut d = date.split('-').map(|x| x.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let time = time.trim_end_matches('Z');
    let time = time.split(['+']).next()?;
    let mut t = time.split(':');
    let hh: i64 = t.next()?.parse().ok()?;
    let mm: i64 = t.next()?.parse().ok()?;
    let ss: i64 = t.next()?.split('.').next()?.parse().ok()?;
    // days from civil (Howard Hinnant)
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + hh * 3600 + mm * 60 + ss).ok()
}

#[cfg(test)]
mod tests;
