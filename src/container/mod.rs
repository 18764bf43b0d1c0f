//! Containers: the records `docker run` creates and the verbs `ps`, `logs`,
//! `stop`, `start`, `rm`, `exec`, `inspect` and `top` read and change.
//!
//! A container is a JSON record in `<home>/containers/index.json` (all
//! records in one small file, so `docker ps` reads one file), its output in
//! `<home>/containers/<id>/logs.json` and its writable layer (the
//! [`Fs::diff`] of everything its processes changed) in
//! `<home>/containers/<id>/rw.tar`. [`runtime`] opens a container's file
//! system and starts its process over the simulated userland; [`services`]
//! recognises the long-running servers (nginx, `python -m http.server`, the
//! registry) and answers HTTP requests for them. Nothing here prints: errors
//! are typed and their Display is docker's text.
//!
//! [`Fs::diff`]: crate::userland::fs::Fs::diff

pub mod binds;
pub mod runtime;
pub mod services;
pub mod volumes;

use crate::digest::Digest;
use crate::layer::Entry;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Typed container errors; Display is the daemon's text (the commands add
/// `Error response from daemon: ` or `docker: ` as docker does).
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    #[error("No such container: {0}")]
    NoSuch(String),
    #[error(
        "Conflict. The container name \"/{name}\" is already in use by container \"{id}\". You have to remove (or rename) that container to be able to reuse that name."
    )]
    NameInUse { name: String, id: String },
    #[error("Invalid container name ({0}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")]
    BadName(String),
    #[error(
        "cannot remove container \"/{0}\": container is running: stop the container before removing or force remove"
    )]
    RemoveRunning(String),
    #[error("container {0} is not running")]
    NotRunning(String),
    #[error(
        "create {0}: \"{0}\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path"
    )]
    BadVolume(String),
    #[error("invalid mount config for type \"bind\": bind source path does not exist: {0}")]
    BindSourceMissing(String),
    #[error("get {0}: no such volume")]
    NoSuchVolume(String),
    #[error("cannot read or write the container store: {0}")]
    Io(#[from] std::io::Error),
    #[error("container store is damaged: {0}")]
    Json(#[from] serde_json::Error),
}

pub type Result<T> = std::result::Result<T, ContainerError>;

/// A container's lifecycle state, as `State.Status` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Created,
    Running,
    Exited,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Exited => "exited",
        }
    }
}

/// `State` of `docker inspect`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct State {
    pub status: Status,
    pub exit_code: i32,
    /// Unix seconds; 0 = never.
    pub started_at: i64,
    pub finished_at: i64,
    pub pid: u32,
    /// The daemon's error when the process could not start.
    #[serde(default)]
    pub error: String,
}

/// One published port (`-p [IP:]HOST:CONTAINER[/proto]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortBinding {
    /// Empty = all interfaces (shown as `0.0.0.0` and `[::]`).
    pub host_ip: String,
    pub host_port: u16,
    pub container_port: u16,
    pub proto: String,
}

impl PortBinding {
    /// `80/tcp`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.container_port, self.proto)
    }
}

/// What a mount is (`Type` of `docker inspect`'s `Mounts`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MountKind {
    /// A named volume under `<home>/volumes/`.
    #[default]
    Volume,
    /// A host folder or file ([`binds`]).
    Bind,
}

/// A named volume or a bind mount of the container.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mount {
    /// The volume's name (empty for a bind mount).
    pub name: String,
    pub destination: String,
    #[serde(default)]
    pub kind: MountKind,
    /// A bind mount's host path (absolute, checked by `docker run`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
    #[serde(default)]
    pub read_only: bool,
}

impl Mount {
    /// A named volume at `destination`.
    pub fn volume(name: &str, destination: &str) -> Mount {
        Mount {
            name: name.to_string(),
            destination: destination.to_string(),
            kind: MountKind::Volume,
            source: String::new(),
            read_only: false,
        }
    }

    /// A bind mount of the host path `source` at `destination`.
    pub fn bind(source: &str, destination: &str, read_only: bool) -> Mount {
        Mount {
            name: String::new(),
            destination: destination.to_string(),
            kind: MountKind::Bind,
            source: source.to_string(),
            read_only,
        }
    }

    pub fn is_bind(&self) -> bool {
        self.kind == MountKind::Bind
    }
}

/// What the container was created with (`Config` of `docker inspect`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Config {
    pub hostname: String,
    pub user: String,
    pub env: Vec<String>,
    pub cmd: Vec<String>,
    pub entrypoint: Vec<String>,
    pub working_dir: String,
    pub tty: bool,
    pub open_stdin: bool,
    pub exposed_ports: Vec<String>,
}

/// `HostConfig` of `docker inspect`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct HostConfig {
    pub ports: Vec<PortBinding>,
    pub auto_remove: bool,
    pub restart: String,
    pub network: String,
    pub mounts: Vec<Mount>,
    /// `--privileged`: the kernel's interfaces (here `binfmt_misc`) are
    /// writable from inside.
    #[serde(default)]
    pub privileged: bool,
}

/// One container.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Container {
    /// 64 hex digits.
    pub id: String,
    /// Without the leading `/`.
    pub name: String,
    /// The image as the learner named it (`docker ps`'s IMAGE column).
    pub image: String,
    pub image_id: String,
    /// Unix seconds.
    pub created: i64,
    /// The process: argv[0] and the rest.
    pub path: String,
    pub args: Vec<String>,
    pub config: Config,
    pub host: HostConfig,
    pub state: State,
    /// `linux/amd64`.
    pub platform: String,
    /// The server the main process is, when it is one.
    #[serde(default)]
    pub service: Option<services::Service>,
    #[serde(default)]
    pub restart_count: u32,
}

impl Container {
    pub fn short_id(&self) -> &str {
        &self.id[..12.min(self.id.len())]
    }

    pub fn running(&self) -> bool {
        self.state.status == Status::Running
    }

    /// The command line `docker ps` shows (before quoting and truncation).
    pub fn command(&self) -> String {
        let mut v = vec![self.path.clone()];
        v.extend(self.args.iter().cloned());
        v.join(" ")
    }
}

/// One chunk of a container's output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogChunk {
    pub stderr: bool,
    pub text: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Index {
    /// How many containers this home has ever created (IDs and names are
    /// derived from it, so they are deterministic).
    next: u64,
    containers: Vec<Container>,
}

/// The containers of one home.
pub struct Containers {
    dir: PathBuf,
}

impl Containers {
    /// The store under `<home>/containers` (created when first written).
    pub fn open(home: &Path) -> Containers {
        Containers {
            dir: home.join("containers"),
        }
    }

    /// The home the store lives in.
    pub fn home(&self) -> &Path {
        self.dir.parent().unwrap_or(&self.dir)
    }

    fn load(&self) -> Result<Index> {
        match std::fs::read(self.dir.join("index.json")) {
            Ok(b) => Ok(serde_json::from_slice(&b)?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Index::default()),
            Err(e) => Err(e.into()),
        }
    }

    fn store(&self, idx: &Index) -> Result<()> {
        let bytes = serde_json::to_vec(idx)?;
        crate::home::write_atomic(&self.dir.join("index.json"), &bytes)?;
        Ok(())
    }

    /// Every container, oldest first.
    pub fn list(&self) -> Result<Vec<Container>> {
        Ok(self.load()?.containers)
    }

    /// Finds a container as the daemon does: full ID, then name (with or
    /// without `/`), then a unique ID prefix.
    pub fn find(&self, key: &str) -> Result<Container> {
        find_in(&self.list()?, key)
            .cloned()
            .ok_or_else(|| ContainerError::NoSuch(key.to_string()))
    }

    /// Reserves a new ID and name for a container of `image_id`; `name` is
    /// the learner's `--name`, else a generated one.
    pub fn allocate(&self, image_id: &str, name: Option<&str>) -> Result<(String, String)> {
        let mut idx = self.load()?;
        let n = idx.next;
        let id = Digest::of(format!("imagelab container {n} {image_id}").as_bytes()).hex();
        let name = match name {
            Some(nm) => {
                let nm = nm.strip_prefix('/').unwrap_or(nm);
                if !valid_name(nm) {
                    return Err(ContainerError::BadName(nm.to_string()));
                }
                if let Some(c) = idx.containers.iter().find(|c| c.name == nm) {
                    return Err(ContainerError::NameInUse {
                        name: nm.to_string(),
                        id: c.id.clone(),
                    });
                }
                nm.to_string()
            }
            None => generate_name(&id, |cand| idx.containers.iter().any(|c| c.name == cand)),
        };
        idx.next += 1;
        self.store(&idx)?;
        Ok((id, name))
    }

    /// Inserts or replaces a record.
    pub fn save(&self, c: &Container) -> Result<()> {
        let mut idx = self.load()?;
        match idx.containers.iter_mut().find(|x| x.id == c.id) {
            Some(x) => *x = c.clone(),
            None => idx.containers.push(c.clone()),
        }
        self.store(&idx)
    }

    /// Deletes a record with its logs and writable layer.
    pub fn remove(&self, id: &str) -> Result<()> {
        let mut idx = self.load()?;
        idx.containers.retain(|c| c.id != id);
        self.store(&idx)?;
        let d = self.dir.join(id);
        if d.exists() {
            std::fs::remove_dir_all(d)?;
        }
        Ok(())
    }

    /// The container's output so far.
    pub fn logs(&self, id: &str) -> Result<Vec<LogChunk>> {
        match std::fs::read(self.dir.join(id).join("logs.json")) {
            Ok(b) => Ok(serde_json::from_slice(&b)?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(e.into()),
        }
    }

    /// Appends output to the container's log.
    pub fn append_logs(&self, id: &str, chunks: &[LogChunk]) -> Result<()> {
        if chunks.is_empty() {
            return Ok(());
        }
        let mut all = self.logs(id)?;
        all.extend(chunks.iter().cloned());
        crate::home::write_atomic(
            &self.dir.join(id).join("logs.json"),
            &serde_json::to_vec(&all)?,
        )?;
        Ok(())
    }

    /// The writable layer: every change the container's processes made.
    pub fn rw(&self, id: &str) -> Result<Vec<Entry>> {
        match std::fs::File::open(self.dir.join(id).join("rw.tar")) {
            Ok(f) => Ok(crate::layer::read_tar(std::io::BufReader::new(f))?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(e.into()),
        }
    }

    /// Replaces the writable layer.
    pub fn save_rw(&self, id: &str, entries: &[Entry]) -> Result<()> {
        let (_, bytes) = crate::layer::write_tar(entries, Vec::new())?;
        crate::home::write_atomic(&self.dir.join(id).join("rw.tar"), &bytes)?;
        Ok(())
    }

    /// Image IDs used by any container (`docker rmi` refuses to delete them).
    pub fn image_users(&self) -> Result<Vec<(String, String)>> {
        Ok(self
            .list()?
            .into_iter()
            .map(|c| (c.image_id, c.id))
            .collect())
    }
}

/// The daemon's lookup rules over a list.
pub fn find_in<'a>(list: &'a [Container], key: &str) -> Option<&'a Container> {
    if key.is_empty() {
        return None;
    }
    if let Some(c) = list.iter().find(|c| c.id == key) {
        return Some(c);
    }
    let name = key.strip_prefix('/').unwrap_or(key);
    if let Some(c) = list.iter().find(|c| c.name == name) {
        return Some(c);
    }
    let mut by_prefix = list.iter().filter(|c| c.id.starts_with(key));
    match (by_prefix.next(), by_prefix.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

/// moby's `validContainerNamePattern`: `^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$`.
pub fn valid_name(n: &str) -> bool {
    let mut chars = n.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    first.is_ascii_alphanumeric()
        && n.len() >= 2
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// imagelab's own word lists (docker's style: `adjective_surname`).
const ADJECTIVES: &[&str] = &[
    "brave", "calm", "clever", "cool", "eager", "festive", "gentle", "happy", "jolly", "keen",
    "kind", "lucid", "merry", "nifty", "patient", "quirky", "relaxed", "serene", "sharp", "stoic",
    "tender", "upbeat", "vibrant", "wizardly", "youthful", "zealous", "bold", "cheerful",
    "dazzling", "elated", "focused", "gracious",
];

const SURNAMES: &[&str] = &[
    "archimedes",
    "babbage",
    "curie",
    "darwin",
    "euclid",
    "faraday",
    "galileo",
    "hopper",
    "hypatia",
    "kepler",
    "lovelace",
    "mendel",
    "newton",
    "noether",
    "pascal",
    "ramanujan",
    "shannon",
    "tesla",
    "turing",
    "volta",
    "wozniak",
    "yalow",
    "zuse",
    "bohr",
    "dijkstra",
    "einstein",
    "fermi",
    "gauss",
    "hawking",
    "johnson",
    "knuth",
    "lamport",
];

/// A name picked from the ID (deterministic), skipping names in use.
fn generate_name(id: &str, taken: impl Fn(&str) -> bool) -> String {
    let seed = u64::from_str_radix(&id[..12.min(id.len())], 16).unwrap_or(0);
    for i in 0..(ADJECTIVES.len() * SURNAMES.len()) as u64 {
        let k = seed.wrapping_add(i.wrapping_mul(7919));
        let a = ADJECTIVES[(k % ADJECTIVES.len() as u64) as usize];
        let s = SURNAMES[((k / ADJECTIVES.len() as u64) % SURNAMES.len() as u64) as usize];
        let name = format!("{a}_{s}");
        if !taken(&name) {
            return name;
        }
    }
    format!("container_{}", &id[..12.min(id.len())])
}

#[cfg(test)]
mod tests;
