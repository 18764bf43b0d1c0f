//! Buildx builder instances: the `default` builder (the docker driver,
//! always there, never stored) and the `docker-container` builders made by
//! `docker buildx create`, kept in `<home>/buildx.json` with the current
//! one. A docker-container builder is `inactive` until its first build
//! boots it (BuildKit's container). Typed errors; prints nothing.

use std::path::{Path, PathBuf};

/// The BuildKit version both drivers report (Docker 28's).
pub const BUILDKIT_VERSION: &str = "v0.22.0";

/// The drivers a builder may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Driver {
    #[serde(rename = "docker")]
    Docker,
    #[serde(rename = "docker-container")]
    DockerContainer,
}

impl Driver {
    pub fn as_str(self) -> &'static str {
        match self {
            Driver::Docker => "docker",
            Driver::DockerContainer => "docker-container",
        }
    }
}

/// One builder instance (one node each).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Instance {
    pub name: String,
    pub driver: Driver,
    /// Whether its BuildKit has booted (a docker-container builder boots
    /// at its first build or `inspect --bootstrap`).
    #[serde(default)]
    pub booted: bool,
    /// The lab-clock time of its last build (`Last Activity`).
    #[serde(default)]
    pub last_activity: Option<i64>,
}

impl Instance {
    /// The default builder: the docker driver, always running.
    pub fn default_builder() -> Instance {
        Instance {
            name: "default".into(),
            driver: Driver::Docker,
            booted: true,
            last_activity: None,
        }
    }

    /// Its node's name (`mybuilder0`; `default` for the docker driver).
    pub fn node_name(&self) -> String {
        match self.driver {
            Driver::Docker => self.name.clone(),
            Driver::DockerContainer => format!("{}0", self.name),
        }
    }

    /// Its node's endpoint.
    pub fn endpoint(&self) -> &str {
        match self.driver {
            Driver::Docker => "default",
            Driver::DockerContainer => "unix:///var/run/docker.sock",
        }
    }

    pub fn status(&self) -> &'static str {
        if self.booted { "running" } else { "inactive" }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BuildxError {
    #[error(
        "existing instance for \"{0}\" but no append mode, specify the node name to make changes for existing instances"
    )]
    Exists(String),
    #[error("no builder \"{0}\" found")]
    NotFound(String),
    #[error("run `docker buildx create --name {0}` to create a builder instance")]
    UseUnknown(String),
    #[error(
        "invalid name {0:?}, name needs to start with a letter and may not contain symbols, except ._-"
    )]
    InvalidName(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The stored builders and which one is current.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Builders {
    /// The current builder's name (`None`: `default`).
    #[serde(default)]
    pub current: Option<String>,
    #[serde(default)]
    pub instances: Vec<Instance>,
}

fn file(home: &Path) -> PathBuf {
    home.join("buildx.json")
}

impl Builders {
    /// Reads `<home>/buildx.json` (none yet: only `default`).
    pub fn load(home: &Path) -> Result<Builders, BuildxError> {
        let path = file(home);
        match std::fs::read(&path) {
            Ok(b) => serde_json::from_slice(&b).map_err(|e| BuildxError::Io {
                path,
                source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Builders::default()),
            Err(e) => Err(BuildxError::Io { path, source: e }),
        }
    }

    pub fn save(&self, home: &Path) -> Result<(), BuildxError> {
        let path = file(home);
        let bytes = serde_json::to_vec_pretty(self).expect("builders serialize");
        std::fs::create_dir_all(home)
            .and_then(|_| crate::home::write_atomic(&path, &bytes))
            .map_err(|e| BuildxError::Io { path, source: e })
    }

    /// The current builder's name.
    pub fn current_name(&self) -> &str {
        self.current.as_deref().unwrap_or("default")
    }

    /// A builder by name (`default` included).
    pub fn get(&self, name: &str) -> Option<Instance> {
        if name == "default" {
            return Some(Instance::default_builder());
        }
        self.instances.iter().find(|i| i.name == name).cloned()
    }

    /// The current builder.
    pub fn current(&self) -> Instance {
        self.get(self.current_name())
            .unwrap_or_else(Instance::default_builder)
    }

    /// All builders as `buildx ls` lists them: the stored ones by name,
    /// then `default`.
    pub fn all(&self) -> Vec<Instance> {
        let mut v = self.instances.clone();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v.push(Instance::default_builder());
        v
    }

    /// `buildx create`: a new docker-container builder (named, or a
    /// generated `adjective_surname`), made current with `use_it`.
    pub fn create(&mut self, name: Option<&str>, use_it: bool) -> Result<String, BuildxError> {
        let name = match name {
            Some(n) => {
                if !valid_name(n) {
                    return Err(BuildxError::InvalidName(n.to_string()));
                }
                if self.get(n).is_some() {
                    return Err(BuildxError::Exists(n.to_string()));
                }
                n.to_string()
            }
            None => self.generated_name(),
        };
        self.instances.push(Instance {
            name: name.clone(),
            driver: Driver::DockerContainer,
            booted: false,
            last_activity: None,
        });
        if use_it {
            self.current = Some(name.clone());
        }
        Ok(name)
    }

    /// `buildx use NAME`.
    pub fn use_builder(&mut self, name: &str) -> Result<(), BuildxError> {
        if self.get(name).is_none() {
            return Err(BuildxError::UseUnknown(name.to_string()));
        }
        self.current = (name != "default").then(|| name.to_string());
        Ok(())
    }

    /// `buildx rm NAME`: the current builder becomes `default` if it was it.
    pub fn remove(&mut self, name: &str) -> Result<(), BuildxError> {
        let before = self.instances.len();
        self.instances.retain(|i| i.name != name);
        if self.instances.len() == before {
            return Err(BuildxError::NotFound(name.to_string()));
        }
        if self.current.as_deref() == Some(name) {
            self.current = None;
        }
        Ok(())
    }

    /// Marks a builder booted and active now; `true` when it just booted.
    pub fn activate(&mut self, name: &str, now: i64) -> bool {
        match self.instances.iter_mut().find(|i| i.name == name) {
            Some(i) => {
                let booted = !i.booted;
                i.booted = true;
                i.last_activity = Some(now);
                booted
            }
            None => false,
        }
    }

    fn generated_name(&self) -> String {
        const ADJ: &[&str] = &[
            "eager", "elated", "festive", "gallant", "jolly", "keen", "lucid", "nifty",
        ];
        const SUR: &[&str] = &[
            "tesla", "turing", "hopper", "lovelace", "curie", "noether", "ritchie", "torvalds",
        ];
        let n = self.instances.len();
        for k in n..n + ADJ.len() * SUR.len() {
            let name = format!(
                "{}_{}",
                ADJ[k % ADJ.len()],
                SUR[(k / ADJ.len()) % SUR.len()]
            );
            if self.get(&name).is_none() {
                return name;
            }
        }
        format!("builder{n}")
    }
}

/// A builder name as buildx accepts it: a letter first, then letters,
/// digits, `.`, `_` or `-`.
fn valid_name(n: &str) -> bool {
    let mut c = n.chars();
    c.next().is_some_and(|f| f.is_ascii_alphabetic())
        && c.all(|x| x.is_ascii_alphanumeric() || matches!(x, '.' | '_' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_use_and_remove() {
        let mut b = Builders::default();
        assert_eq!(b.current_name(), "default");
        let n = b.create(Some("multi"), true).unwrap();
        assert_eq!(n, "multi");
        assert_eq!(b.current().driver, Driver::DockerContainer);
        assert!(matches!(
            b.create(Some("multi"), false),
            Err(BuildxError::Exists(_))
        ));
        let g = b.create(None, false).unwrap();
        assert!(g.contains('_'), "{g}");
        b.use_builder("default").unwrap();
        assert_eq!(b.current_name(), "default");
        assert!(b.use_builder("nope").is_err());
        b.use_builder("multi").unwrap();
        b.remove("multi").unwrap();
        assert_eq!(b.current_name(), "default");
        assert!(b.activate(&g, 5));
        assert!(!b.activate(&g, 6));
    }
}
