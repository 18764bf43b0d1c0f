//! The lab's network, as the daemon sees it when it pushes and pulls: which
//! registry answers at a host name, and with whose credentials.
//!
//! * `docker.io` is the simulated Docker Hub: an in-process registry under
//!   `<home>/hub/` with the Hub's rules (the catalog's official images are
//!   served by the engine; pushes need a login and one's own namespace).
//! * `localhost:PORT` and `127.0.0.1:PORT` reach a running `registry:2`
//!   container publishing that port; its storage lives with the volume
//!   mounted at `/var/lib/registry` (so `-v` keeps it across containers),
//!   else with the container. Stopped or absent: connection refused.
//! * Names listed in `<home>/registries.json` (`{"remotes": {"HOST":
//!   "https://URL"}}`) go to that real registry over HTTP; this is how a
//!   classroom shares one.
//! * Anything else does not resolve: there is no other network.
//!
//! Credentials are docker's `config.json` (`auths` → base64 `user:pass`)
//! under the home. Nothing here prints.

use crate::container::Containers;
use crate::registry::Registry;
use crate::registry::htpasswd::Htpasswd;
use crate::registry::local::{Auth, LocalRegistry, Policy};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The key docker's config uses for Docker Hub.
pub const HUB_AUTH_KEY: &str = "https://index.docker.io/v1/";

/// The host name docker dials for Docker Hub.
pub const HUB_HOST: &str = "registry-1.docker.io";

/// A registry reached by name.
pub struct Route {
    /// As the reference spells it (`docker.io`, `localhost:5000`).
    pub host: String,
    pub registry: Box<dyn Registry>,
    /// The remote's URL, when it is a real registry.
    pub remote: Option<String>,
}

/// Why a name reaches no registry: docker's words for it.
#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    #[error("{0}")]
    Unreachable(String),
    #[error("{path}: {message}")]
    BadSettings { path: PathBuf, message: String },
    #[error(transparent)]
    Container(#[from] crate::container::ContainerError),
}

/// docker's `config.json`: only the parts imagelab uses are typed; the rest
/// is kept as it was.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct DockerConfig {
    #[serde(default)]
    pub auths: BTreeMap<String, AuthEntry>,
    #[serde(flatten)]
    pub rest: serde_json::Map<String, serde_json::Value>,
}

#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct AuthEntry {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub auth: String,
}

/// The path of the home's docker config.
pub fn config_path(home: &Path) -> PathBuf {
    home.join("docker").join("config.json")
}

/// The key a registry's credentials are stored under.
pub fn auth_key(host: &str) -> String {
    if host == "docker.io" {
        HUB_AUTH_KEY.to_string()
    } else {
        host.to_string()
    }
}

/// Reads a settings file of the home: a missing one is the default, a
/// damaged one an error naming the file.
fn read_json_or_default<T: serde::de::DeserializeOwned + Default>(
    p: PathBuf,
) -> Result<T, RouteError> {
    let bad = |path: PathBuf, message: String| RouteError::BadSettings { path, message };
    match std::fs::read(&p) {
        Ok(b) => serde_json::from_slice(&b).map_err(|e| bad(p, e.to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(T::default()),
        Err(e) => Err(bad(p, e.to_string())),
    }
}

/// Reads the docker config; a missing one is empty, a damaged one an error
/// naming the file.
pub fn read_config(home: &Path) -> Result<DockerConfig, RouteError> {
    read_json_or_default(config_path(home))
}

/// Writes the docker config (atomically, tab-indented as docker writes it).
pub fn write_config(home: &Path, cfg: &DockerConfig) -> std::io::Result<()> {
    let p = config_path(home);
    if let Some(dir) = p.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    serde::Serialize::serialize(cfg, &mut ser).map_err(std::io::Error::other)?;
    crate::home::write_atomic(&p, &out)
}

/// The stored `(user, password)` for a registry host.
pub fn credentials(home: &Path, host: &str) -> Option<(String, String)> {
    use base64::Engine as _;
    let cfg = read_config(home).ok()?;
    let e = cfg.auths.get(&auth_key(host))?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(e.auth.as_bytes())
        .ok()?;
    let s = String::from_utf8(raw).ok()?;
    let (u, p) = s.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

/// Stores credentials for a host.
pub fn store_credentials(
    home: &Path,
    host: &str,
    user: &str,
    password: &str,
) -> Result<(), RouteError> {
    use base64::Engine as _;
    let mut cfg = read_config(home)?;
    cfg.auths.insert(
        auth_key(host),
        AuthEntry {
            auth: base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")),
        },
    );
    write_config(home, &cfg).map_err(|e| RouteError::BadSettings {
        path: config_path(home),
        message: e.to_string(),
    })
}

/// Removes a host's credentials; whether there were any.
pub fn remove_credentials(home: &Path, host: &str) -> Result<bool, RouteError> {
    let mut cfg = read_config(home)?;
    let had = cfg.auths.remove(&auth_key(host)).is_some();
    if had {
        write_config(home, &cfg).map_err(|e| RouteError::BadSettings {
            path: config_path(home),
            message: e.to_string(),
        })?;
    }
    Ok(had)
}

/// The simulated Docker Hub's accounts: user → sha256 of the password.
fn accounts_path(home: &Path) -> PathBuf {
    home.join("hub").join("accounts.json")
}

/// What a Hub login attempt found.
#[derive(Debug, PartialEq, Eq)]
pub enum HubLogin {
    /// A new Docker ID (the lab signs learners up on first login).
    Created,
    Ok,
    WrongPassword,
}

/// Checks (or, for a new name, records) a Hub account.
pub fn hub_login(home: &Path, user: &str, password: &str) -> std::io::Result<HubLogin> {
    let p = accounts_path(home);
    let mut accounts: BTreeMap<String, String> = std::fs::read(&p)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let hash =
        crate::digest::Digest::of(format!("imagelab-hub:{user}:{password}").as_bytes()).to_string();
    match accounts.get(user) {
        Some(h) if *h == hash => Ok(HubLogin::Ok),
        Some(_) => Ok(HubLogin::WrongPassword),
        None => {
            accounts.insert(user.to_string(), hash);
            if let Some(dir) = p.parent() {
                std::fs::create_dir_all(dir)?;
            }
            crate::home::write_atomic(&p, &serde_json::to_vec(&accounts)?)?;
            Ok(HubLogin::Created)
        }
    }
}

/// The Hub's storage.
pub fn hub_root(home: &Path) -> PathBuf {
    home.join("hub")
}

/// The Hub as the logged-in user (if any) sees it.
pub fn hub(home: &Path) -> LocalRegistry {
    let user = credentials(home, "docker.io").map(|(u, _)| u);
    LocalRegistry::new(
        &hub_root(home),
        Policy {
            auth: Auth::Hub,
            user,
            delete_enabled: true,
        },
    )
}

/// The lab machine's own name and address: registries published on it are
/// reached by these names too, but as remote hosts (TLS expected unless
/// listed in `insecure-registries`).
pub const LAB_HOSTNAME: &str = "labhost";
pub const LAB_IP: &str = "10.0.2.15";

/// The daemon's configuration as docker reads `/etc/docker/daemon.json`
/// (only the keys imagelab acts on are typed; unknown keys are kept).
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct DaemonConfig {
    #[serde(default, rename = "insecure-registries")]
    pub insecure_registries: Vec<String>,
    #[serde(default, rename = "registry-mirrors")]
    pub registry_mirrors: Vec<String>,
    #[serde(flatten)]
    pub rest: serde_json::Map<String, serde_json::Value>,
}

/// Where the learner edits the daemon's config (`/etc/docker/daemon.json`).
pub fn daemon_json(home: &Path) -> PathBuf {
    home.join("etc/docker/daemon.json")
}

/// The config the daemon read at its last (re)start.
fn daemon_applied(home: &Path) -> PathBuf {
    home.join("daemon.applied.json")
}

/// The configuration in force.
pub fn daemon_config(home: &Path) -> DaemonConfig {
    std::fs::read(daemon_applied(home))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// Reads `/etc/docker/daemon.json` as dockerd does at start and puts it in
/// force; a file that does not parse is an error naming it (and nothing
/// changes).
pub fn apply_daemon_config(home: &Path) -> Result<(), RouteError> {
    let p = daemon_json(home);
    let bytes = match std::fs::read(&p) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => b"{}".to_vec(),
        Err(e) => {
            return Err(RouteError::BadSettings {
                path: p,
                message: e.to_string(),
            });
        }
    };
    let bad = |message: String| RouteError::BadSettings {
        path: PathBuf::from("/etc/docker/daemon.json"),
        message,
    };
    let cfg: DaemonConfig = serde_json::from_slice(&bytes).map_err(|e| {
        bad(format!(
            "unable to configure the Docker daemon with file /etc/docker/daemon.json: {e}"
        ))
    })?;
    for r in &cfg.insecure_registries {
        if r.contains("://") {
            return Err(bad(format!(
                "insecure registry {r} should not contain '://'"
            )));
        }
    }
    crate::home::write_atomic(&daemon_applied(home), &bytes).map_err(|e| RouteError::BadSettings {
        path: daemon_applied(home),
        message: e.to_string(),
    })
}

fn daemon_down(home: &Path) -> PathBuf {
    home.join("daemon.down")
}

/// Whether the simulated daemon is up (it is, unless stopped or failed).
pub fn daemon_running(home: &Path) -> bool {
    !daemon_down(home).exists()
}

pub fn set_daemon_running(home: &Path, up: bool) -> std::io::Result<()> {
    if up {
        match std::fs::remove_file(daemon_down(home)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    } else {
        std::fs::create_dir_all(home)?;
        crate::home::write_atomic(&daemon_down(home), b"")
    }
}

/// Whether `host` names the lab machine by its name or address.
fn is_lab_host(host: &str) -> bool {
    let h = host_port(host).0;
    h == LAB_HOSTNAME || h == LAB_IP
}

/// `<home>/registries.json`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Host as references spell it → base URL of the real registry.
    #[serde(default)]
    pub remotes: BTreeMap<String, String>,
}

pub fn settings_path(home: &Path) -> PathBuf {
    home.join("registries.json")
}

/// Reads the routing settings (missing: none).
pub fn settings(home: &Path) -> Result<Settings, RouteError> {
    read_json_or_default(settings_path(home))
}

/// A registry host split into its name and port (443 when none is given).
fn host_port(host: &str) -> (&str, u16) {
    match host.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().unwrap_or(443)),
        None => (host, 443),
    }
}

/// Whether a host name means this machine.
pub fn is_loopback(host: &str) -> bool {
    matches!(
        host_port(host).0,
        "localhost" | "127.0.0.1" | "[::1]" | "0.0.0.0"
    )
}

/// docker's words for a refused connection to `host`.
pub fn refused(host: &str) -> String {
    let (h, port) = host_port(host);
    let ip = if h == "localhost" { "[::1]" } else { h };
    format!("Get \"http://{host}/v2/\": dial tcp {ip}:{port}: connect: connection refused")
}

/// docker's words for a name that does not resolve.
pub fn no_such_host(host: &str) -> String {
    let h = host_port(host).0;
    format!("Get \"https://{host}/v2/\": dial tcp: lookup {h} on 127.0.0.53:53: no such host")
}

/// The storage folder of a registry container: the volume at
/// `/var/lib/registry` when there is one, else the container's own.
pub fn container_registry_root(home: &Path, c: &crate::container::Container) -> PathBuf {
    let data_dir = c
        .config
        .env
        .iter()
        .find_map(|e| e.strip_prefix("REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY="))
        .unwrap_or("/var/lib/registry")
        .trim_end_matches('/')
        .to_string();
    match c
        .host
        .mounts
        .iter()
        .find(|m| m.destination.trim_end_matches('/') == data_dir)
    {
        Some(m) if m.is_bind() => PathBuf::from(&m.source),
        Some(m) => home.join("volumes").join(&m.name).join("registry"),
        None => home.join("containers").join(&c.id).join("registry"),
    }
}

/// The policy a registry container runs with, from its environment.
pub fn container_policy(c: &crate::container::Container, user: Option<String>) -> Policy {
    let env = |k: &str| {
        c.config
            .env
            .iter()
            .find_map(|e| e.strip_prefix(k).and_then(|r| r.strip_prefix('=')))
            .map(str::to_string)
    };
    let auth = match env("REGISTRY_AUTH").as_deref() {
        Some("htpasswd") => Auth::Htpasswd,
        _ => Auth::Open,
    };
    Policy {
        auth,
        user,
        delete_enabled: env("REGISTRY_STORAGE_DELETE_ENABLED").as_deref() == Some("true"),
    }
}

/// The running registry container publishing `port`, if any.
pub fn registry_container(
    home: &Path,
    port: u16,
) -> Result<Option<crate::container::Container>, RouteError> {
    let list = Containers::open(home).list()?;
    Ok(list.into_iter().find(|c| {
        c.running()
            && matches!(
                c.service,
                Some(crate::container::services::Service::Registry)
            )
            && c.host
                .ports
                .iter()
                .any(|b| b.host_port == port && b.proto == "tcp" && b.container_port == 5000)
    }))
}

/// Opens the registry a reference's domain names.
pub fn route(home: &Path, host: &str) -> Result<Route, RouteError> {
    let settings = settings(home)?;
    if let Some(url) = settings.remotes.get(host) {
        return Ok(Route {
            host: host.to_string(),
            registry: remote(url, credentials(home, host))?,
            remote: Some(url.clone()),
        });
    }
    if host == "docker.io" {
        return Ok(Route {
            host: host.to_string(),
            registry: Box::new(hub(home)),
            remote: None,
        });
    }
    let port = host_port(host).1;
    if is_loopback(host) {
        let Some(c) = registry_container(home, port)? else {
            return Err(RouteError::Unreachable(refused(host)));
        };
        return Ok(container_route(home, host, &c));
    }
    if is_lab_host(host) {
        let insecure = daemon_config(home)
            .insecure_registries
            .iter()
            .any(|r| r == host || cidr_holds(r, host));
        let Some(c) = registry_container(home, port)? else {
            let scheme = if insecure { "http" } else { "https" };
            return Err(RouteError::Unreachable(format!(
                "Get \"{scheme}://{host}/v2/\": dial tcp {LAB_IP}:{port}: connect: connection refused"
            )));
        };
        if !insecure {
            return Err(RouteError::Unreachable(format!(
                "Get \"https://{host}/v2/\": http: server gave HTTP response to HTTPS client"
            )));
        }
        return Ok(container_route(home, host, &c));
    }
    Err(RouteError::Unreachable(no_such_host(host)))
}

/// The htpasswd authentication a registry container runs with
/// (`REGISTRY_AUTH=htpasswd`, `REGISTRY_AUTH_HTPASSWD_REALM`,
/// `REGISTRY_AUTH_HTPASSWD_PATH`).
#[derive(Clone, Debug)]
pub struct ContainerAuth {
    pub realm: String,
    pub path: String,
    /// The file as the container sees it now (bind mounts and volumes
    /// included); `None` when it is missing or does not parse, and then
    /// nobody gets in.
    pub file: Option<Htpasswd>,
}

impl ContainerAuth {
    /// Whether `user:password` gets in.
    pub fn accepts(&self, user: &str, password: &str) -> bool {
        self.file
            .as_ref()
            .is_some_and(|f| f.accepts(user, password))
    }
}

/// A variable of a container's environment.
pub fn container_env(c: &crate::container::Container, k: &str) -> Option<String> {
    c.config
        .env
        .iter()
        .rev()
        .find_map(|e| e.strip_prefix(k).and_then(|r| r.strip_prefix('=')))
        .map(str::to_string)
}

/// The registry container's htpasswd settings, with the file read from
/// its file system; `None` when it runs without authentication.
pub fn container_auth(home: &Path, c: &crate::container::Container) -> Option<ContainerAuth> {
    if container_env(c, "REGISTRY_AUTH").as_deref() != Some("htpasswd") {
        return None;
    }
    let realm = container_env(c, "REGISTRY_AUTH_HTPASSWD_REALM").unwrap_or_default();
    let path = container_env(c, "REGISTRY_AUTH_HTPASSWD_PATH").unwrap_or_default();
    let file = crate::engine::Engine::open(home)
        .ok()
        .and_then(|engine| {
            let store = Containers::open(home);
            crate::container::runtime::open_fs(&engine, &store, c).ok()
        })
        .and_then(|fs| fs.read_string(&path).ok())
        .and_then(|text| Htpasswd::parse(&text).ok());
    Some(ContainerAuth { realm, path, file })
}

/// Whether a registry reached at `host` takes `user:password` (docker
/// login's check): a registry container with htpasswd checks its file;
/// one without authentication takes anything.
pub fn login_check(
    home: &Path,
    host: &str,
    user: &str,
    password: &str,
) -> Result<bool, RouteError> {
    let port = host_port(host).1;
    let Some(c) = registry_container(home, port)? else {
        return Ok(true);
    };
    Ok(container_auth(home, &c).is_none_or(|a| a.accepts(user, password)))
}

/// The registry container `c`, reached as `host` with that host's login
/// (a login its htpasswd file refuses counts as none).
fn container_route(home: &Path, host: &str, c: &crate::container::Container) -> Route {
    let creds = credentials(home, host);
    let user = match container_auth(home, c) {
        Some(a) => creds.filter(|(u, p)| a.accepts(u, p)).map(|(u, _)| u),
        None => creds.map(|(u, _)| u),
    };
    Route {
        host: host.to_string(),
        registry: Box::new(LocalRegistry::new(
            &container_registry_root(home, c),
            container_policy(c, user),
        )),
        remote: None,
    }
}

/// Whether an `insecure-registries` entry in CIDR form (`10.0.2.0/24`)
/// holds the host's address.
fn cidr_holds(entry: &str, host: &str) -> bool {
    let Some((net, bits)) = entry.split_once('/') else {
        return false;
    };
    let h = host_port(host).0;
    let ip = if h == LAB_HOSTNAME { LAB_IP } else { h };
    let (Ok(net), Ok(ip), Ok(bits)) = (
        net.parse::<std::net::Ipv4Addr>(),
        ip.parse::<std::net::Ipv4Addr>(),
        bits.parse::<u32>(),
    ) else {
        return false;
    };
    if bits > 32 {
        return false;
    }
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    (u32::from(net) & mask) == (u32::from(ip) & mask)
}

/// The HTTP client for a real registry (see `registry::client`).
fn remote(url: &str, creds: Option<(String, String)>) -> Result<Box<dyn Registry>, RouteError> {
    crate::registry::client::RemoteRegistry::new(url, creds)
        .map(|r| Box::new(r) as Box<dyn Registry>)
        .map_err(|e| RouteError::BadSettings {
            path: PathBuf::from("registries.json"),
            message: format!("remote {url}: {e}"),
        })
}
