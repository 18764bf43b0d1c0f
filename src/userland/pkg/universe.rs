//! The OS package universes: for each distribution release, the packages its
//! repositories served (versions, dependencies, sizes, descriptions, files),
//! read once from `fixtures/packages/os/*.yaml` (embedded).
//!
//! A file gives the release's repository metadata (what `apk update` and
//! `apt-get update` fetch and keep) and a `packages` block in a compact
//! text form: a header line per package,
//! `name version | repo | origin | download size | installed size | description`,
//! followed by indented lines: `D:` depends, `p:` provides, `R:` recommends,
//! `S:` suggests, `i:` install-if, `M:` Multi-Arch, `A:` architecture (`all`),
//! `P:` priority, `s:` section, `U:` url, `L:` license, `x:` effects of the
//! package's maintainer scripts and triggers, and file lines in the catalog's
//! line language (`f /usr/bin/curl 755 254K`). `texts` gives real file
//! contents (`pkg /path` → text). A release may be `based` on another: its
//! packages replace the base's of the same name.

use crate::catalog::parse_size;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::OnceLock;

/// Which package manager a universe is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Apk,
    Deb,
}

/// One package as its repository index describes it.
#[derive(Clone, Debug, Default)]
pub struct Pkg {
    pub name: String,
    pub version: String,
    /// apk: `main`/`community`; deb: `bookworm/main`, `jammy-updates/main`.
    pub repo: String,
    /// Source package (apk origin, dpkg Source); empty = the name.
    pub origin: String,
    /// Download size in bytes.
    pub size: u64,
    /// Installed size in bytes.
    pub installed: u64,
    pub description: String,
    /// apk: space-separated tokens; deb: the Depends field.
    pub depends: String,
    pub provides: String,
    pub recommends: String,
    pub suggests: String,
    pub install_if: String,
    pub multi_arch: String,
    /// `all` for architecture-independent Debian packages.
    pub arch: String,
    pub priority: String,
    pub section: String,
    pub url: String,
    pub license: String,
    /// Effects of install scripts and triggers (`user:nginx`, `trigger:ca`).
    pub effects: Vec<String>,
    /// File lines (catalog line language).
    pub files: String,
}

impl Pkg {
    /// The source package name.
    pub fn source(&self) -> &str {
        if self.origin.is_empty() {
            &self.name
        } else {
            &self.origin
        }
    }
}

/// One repository index (`apk update` / `apt-get update`).
#[derive(Clone, Debug, Deserialize)]
pub struct Index {
    /// apk: repository name (`main`); deb: the `Get:` text
    /// (`http://deb.debian.org/debian bookworm InRelease`).
    pub name: String,
    /// apk: the `v3.20.3-…` description line.
    #[serde(default)]
    pub describe: String,
    /// Bytes fetched.
    pub size: String,
    /// deb: the file kept under `/var/lib/apt/lists/`.
    #[serde(default)]
    pub file: String,
    /// deb: its size on disk (default: `size`).
    #[serde(default)]
    pub stored: Option<String>,
}

impl Index {
    pub fn size_bytes(&self) -> u64 {
        parse_size(&self.size).unwrap_or(0)
    }
    pub fn stored_bytes(&self) -> u64 {
        self.stored
            .as_deref()
            .and_then(|s| parse_size(s).ok())
            .unwrap_or_else(|| self.size_bytes())
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Doc {
    kind: Kind,
    release: String,
    #[serde(default)]
    based: Option<String>,
    #[serde(default)]
    indexes: Vec<Index>,
    /// apk: `OK: N distinct packages available`.
    #[serde(default)]
    available: u64,
    /// deb: suite → archive URL (`bookworm-security` →
    /// `http://deb.debian.org/debian-security`).
    #[serde(default)]
    archives: HashMap<String, String>,
    /// deb: the Maintainer of every package.
    #[serde(default)]
    maintainer: String,
    /// Suites of inherited packages renamed for this release
    /// (`bookworm` → `jammy`).
    #[serde(default)]
    suites: HashMap<String, String>,
    #[serde(default)]
    packages: String,
    #[serde(default)]
    texts: HashMap<String, String>,
}

/// A release's universe.
#[derive(Debug, Default)]
pub struct Universe {
    pub kind: Option<Kind>,
    pub release: String,
    pub indexes: Vec<Index>,
    pub available: u64,
    pub archives: HashMap<String, String>,
    pub maintainer: String,
    pub pkgs: Vec<Pkg>,
    by_name: HashMap<String, usize>,
    /// Provided name (without version) → packages providing it.
    provided: HashMap<String, Vec<usize>>,
    /// (package, path) → text.
    pub texts: HashMap<(String, String), String>,
}

impl Universe {
    pub fn get(&self, name: &str) -> Option<&Pkg> {
        self.by_name.get(name).map(|&i| &self.pkgs[i])
    }

    /// Packages that provide `name` (not counting one named so).
    pub fn providers(&self, name: &str) -> Vec<&Pkg> {
        self.provided
            .get(name)
            .map(|v| v.iter().map(|&i| &self.pkgs[i]).collect())
            .unwrap_or_default()
    }

    /// The text of a package's file, if the fixture gives one.
    pub fn text(&self, pkg: &str, path: &str) -> Option<&str> {
        self.texts
            .get(&(pkg.to_string(), path.to_string()))
            .map(String::as_str)
    }

    fn index(&mut self) {
        self.by_name.clear();
        self.provided.clear();
        for (i, p) in self.pkgs.iter().enumerate() {
            self.by_name.insert(p.name.clone(), i);
            let toks: Vec<String> = if self.kind == Some(Kind::Deb) {
                p.provides
                    .split(',')
                    .map(|t| t.split('(').next().unwrap_or("").trim().to_string())
                    .collect()
            } else {
                p.provides
                    .split_whitespace()
                    .map(|t| t.split('=').next().unwrap_or("").to_string())
                    .collect()
            };
            for t in toks.into_iter().filter(|t| !t.is_empty()) {
                self.provided.entry(t).or_default().push(i);
            }
        }
    }
}

macro_rules! universe {
    ($name:literal) => {
        (
            $name,
            include_str!(concat!("../../../fixtures/packages/os/", $name, ".yaml")),
        )
    };
}

const FILES: &[(&str, &str)] = &[
    universe!("alpine-3.20"),
    universe!("alpine-3.19"),
    universe!("alpine-3.18"),
    universe!("debian-bookworm"),
    universe!("ubuntu-jammy"),
];

/// The universe of a release (`alpine-3.20`, `debian-bookworm`,
/// `ubuntu-jammy`), parsed on first use.
pub fn universe(name: &str) -> Option<&'static Universe> {
    static ALL: OnceLock<HashMap<String, Universe>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut all: HashMap<String, Universe> = HashMap::new();
        for (name, text) in FILES {
            // The embedded fixtures are checked by the tests; a broken one
            // leaves its release without packages rather than panicking.
            if let Ok(u) = parse(text, &all) {
                all.insert(name.to_string(), u);
            }
        }
        all
    })
    .get(name)
}

/// Why a universe file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum UniverseError {
    #[error("yaml: {0}")]
    Yaml(String),
    #[error("unknown base {0}")]
    Base(String),
    #[error("line {0}: {1}")]
    Line(usize, String),
}

fn parse(text: &str, done: &HashMap<String, Universe>) -> Result<Universe, UniverseError> {
    let doc: Doc = serde_yaml::from_str(text).map_err(|e| UniverseError::Yaml(e.to_string()))?;
    let mut u = Universe::default();
    if let Some(b) = &doc.based {
        let base = done.get(b).ok_or_else(|| UniverseError::Base(b.clone()))?;
        u.pkgs = base.pkgs.clone();
        u.texts = base.texts.clone();
        u.indexes = base.indexes.clone();
        u.archives = base.archives.clone();
        u.available = base.available;
        u.maintainer = base.maintainer.clone();
    }
    if !doc.maintainer.is_empty() {
        u.maintainer = doc.maintainer;
    }
    u.kind = Some(doc.kind);
    u.release = doc.release;
    if !doc.indexes.is_empty() {
        u.indexes = doc.indexes;
    }
    if doc.available != 0 {
        u.available = doc.available;
    }
    u.archives.extend(doc.archives);
    let mut cur: Option<Pkg> = None;
    let mut fresh: Vec<Pkg> = Vec::new();
    for (n, raw) in doc.packages.lines().enumerate() {
        let line = raw.trim_end();
        let t = line.trim_start();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if !line.starts_with(' ') {
            fresh.extend(cur.take());
            cur = Some(header(t).ok_or_else(|| UniverseError::Line(n + 1, t.to_string()))?);
            continue;
        }
        let p = cur
            .as_mut()
            .ok_or_else(|| UniverseError::Line(n + 1, t.to_string()))?;
        let field = |k: &str| t.strip_prefix(k).map(|v| v.trim().to_string());
        if let Some(v) = field("D:") {
            p.depends = v;
        } else if let Some(v) = field("p:") {
            p.provides = v;
        } else if let Some(v) = field("R:") {
            p.recommends = v;
        } else if let Some(v) = field("S:") {
            p.suggests = v;
        } else if let Some(v) = field("i:") {
            p.install_if = v;
        } else if let Some(v) = field("M:") {
            p.multi_arch = v;
        } else if let Some(v) = field("A:") {
            p.arch = v;
        } else if let Some(v) = field("P:") {
            p.priority = v;
        } else if let Some(v) = field("s:") {
            p.section = v;
        } else if let Some(v) = field("U:") {
            p.url = v;
        } else if let Some(v) = field("L:") {
            p.license = v;
        } else if let Some(v) = field("x:") {
            p.effects.extend(v.split_whitespace().map(String::from));
        } else {
            p.files.push_str(t);
            p.files.push('\n');
        }
    }
    fresh.extend(cur.take());
    for p in fresh {
        // A replaced package brings its own texts (or none).
        u.texts.retain(|(pkg, _), _| pkg != &p.name);
        match u.pkgs.iter_mut().find(|x| x.name == p.name) {
            Some(old) => *old = p,
            None => u.pkgs.push(p),
        }
    }
    for p in &mut u.pkgs {
        let (suite, rest) = p.repo.split_once('/').unwrap_or((p.repo.as_str(), ""));
        if let Some(new) = doc.suites.get(suite) {
            p.repo = if rest.is_empty() {
                new.clone()
            } else {
                format!("{new}/{rest}")
            };
        }
    }
    for (k, v) in doc.texts {
        if let Some((pkg, path)) = k.split_once(' ') {
            u.texts.insert((pkg.to_string(), path.to_string()), v);
        }
    }
    u.index();
    Ok(u)
}

/// `name version | repo | origin | size | installed | description`.
fn header(t: &str) -> Option<Pkg> {
    let cols: Vec<&str> = t.splitn(6, " | ").map(str::trim).collect();
    if cols.len() != 6 {
        return None;
    }
    let (name, version) = cols[0].split_once(' ')?;
    Some(Pkg {
        name: name.to_string(),
        version: version.trim().to_string(),
        repo: cols[1].to_string(),
        origin: if cols[2] == "-" {
            String::new()
        } else {
            cols[2].to_string()
        },
        size: parse_size(cols[3]).ok()?,
        installed: parse_size(cols[4]).ok()?,
        description: cols[5].to_string(),
        ..Pkg::default()
    })
}

/// Parses every embedded universe, returning the errors (for the tests:
/// [`universe`] itself skips a broken file rather than panicking).
#[cfg(test)]
pub(crate) fn check_all() -> Vec<String> {
    let mut done: HashMap<String, Universe> = HashMap::new();
    let mut errors = Vec::new();
    for (name, text) in FILES {
        match parse(text, &done) {
            Ok(u) => {
                done.insert(name.to_string(), u);
            }
            Err(e) => errors.push(format!("{name}: {e}")),
        }
    }
    errors
}
