//! The fixture package universes the language installers resolve from:
//! PyPI (`fixtures/packages/pypi.yaml`), the npm registry (`npm.yaml`),
//! the Go module proxy (`go.yaml`) and Maven Central (`maven.yaml`),
//! parsed once and kept for the life of the process.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// A PyPI project.
#[derive(Clone, Debug, Deserialize)]
pub struct PyPkg {
    /// The name as its METADATA spells it.
    pub name: String,
    /// Import names (`top_level.txt`).
    #[serde(default)]
    pub top: Vec<String>,
    /// Console scripts.
    #[serde(default)]
    pub bin: Vec<String>,
    /// Wheel size.
    pub whl: String,
    /// Installed size.
    pub size: String,
    /// Platform wheels (cp312 tags).
    #[serde(default)]
    pub binary: bool,
    #[serde(default)]
    pub deps: Vec<String>,
    pub versions: Vec<String>,
}

/// An npm package.
#[derive(Clone, Debug, Deserialize)]
pub struct NpmPkg {
    pub versions: Vec<String>,
    #[serde(default)]
    pub license: String,
    pub size: String,
    #[serde(default)]
    pub deps: BTreeMap<String, String>,
}

/// A Go module.
#[derive(Clone, Debug, Deserialize)]
pub struct GoMod {
    pub versions: Vec<String>,
    pub size: String,
    /// Importing it links `net`.
    #[serde(default)]
    pub net: bool,
    /// What it adds to a binary.
    #[serde(default)]
    pub binsize: Option<String>,
}

/// A Maven artifact.
#[derive(Clone, Debug, Deserialize)]
pub struct MvnArtifact {
    pub versions: Vec<String>,
    pub size: String,
    #[serde(default)]
    pub deps: Vec<String>,
    #[serde(default)]
    pub packaging: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
}

/// All four universes.
pub struct Universe {
    /// By normalized project name (lowercase, `_`/`.` → `-`).
    pub pypi: BTreeMap<String, PyPkg>,
    pub npm: BTreeMap<String, NpmPkg>,
    pub go: BTreeMap<String, GoMod>,
    /// By `groupId:artifactId`.
    pub maven: BTreeMap<String, MvnArtifact>,
}

/// The universes, parsed on first use. The fixtures are part of the
/// binary, so a parse failure is a build defect caught by the tests; it
/// yields empty universes rather than a panic.
pub fn universe() -> &'static Universe {
    static U: OnceLock<Universe> = OnceLock::new();
    U.get_or_init(|| Universe {
        pypi: serde_yaml::from_str(include_str!("../../../fixtures/packages/pypi.yaml"))
            .unwrap_or_default(),
        npm: serde_yaml::from_str(include_str!("../../../fixtures/packages/npm.yaml"))
            .unwrap_or_default(),
        go: serde_yaml::from_str(include_str!("../../../fixtures/packages/go.yaml"))
            .unwrap_or_default(),
        maven: serde_yaml::from_str(include_str!("../../../fixtures/packages/maven.yaml"))
            .unwrap_or_default(),
    })
}

/// PEP 503 normalization: lowercase, runs of `-_.` become `-`.
pub fn normalize_py(name: &str) -> String {
    let mut out = String::new();
    let mut sep = false;
    for c in name.chars() {
        if c == '-' || c == '_' || c == '.' {
            sep = true;
            continue;
        }
        if sep && !out.is_empty() {
            out.push('-');
        }
        sep = false;
        out.push(c.to_ascii_lowercase());
    }
    out
}
