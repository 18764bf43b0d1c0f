//! Exercises: the YAML format instructors write (`exercises/*.yaml`, built
//! into the binary), loading with errors that name the file, line and field,
//! and the learner's state in the home (the active exercise, its sandbox,
//! revealed hints, best scores).

pub mod state;

pub use state::{active, sandbox_dir, workspace_dir};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One exercise.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Exercise {
    pub id: String,
    pub title: String,
    /// DCA objective ids (`2.1` … `2.17`).
    pub objectives: Vec<String>,
    #[serde(default = "default_level")]
    pub level: String,
    #[serde(default)]
    pub minutes: u32,
    /// Markdown shown by `exercises show` and `start`.
    pub prompt: String,
    /// Files placed in the fresh workspace (path → content).
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    /// REPL lines run after the workspace is made (e.g. `docker pull alpine`).
    #[serde(default)]
    pub setup: Vec<String>,
    /// Image IDs to remember after setup, by name (`$name` in checks).
    #[serde(default)]
    pub remember: BTreeMap<String, String>,
    pub checks: Vec<Check>,
    #[serde(default)]
    pub hints: Vec<String>,
    pub solution: Solution,
}

fn default_level() -> String {
    "beginner".into()
}

/// A reference solution: files written, then lines run.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Solution {
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    #[serde(default)]
    pub lines: Vec<String>,
}

/// A graded check: a condition, its points and feedback.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    pub id: String,
    #[serde(default = "one")]
    pub points: u32,
    /// What the check asks, in the learner's words.
    pub title: String,
    /// The outcome that must hold.
    pub expect: Cond,
    /// Feedback when it passes.
    #[serde(default)]
    pub pass: Option<String>,
    /// Feedback when it fails.
    #[serde(default)]
    pub fail: Option<String>,
}

fn one() -> u32 {
    1
}

/// The outcome conditions. An image is named by a reference, an ID, or
/// `$name` (an ID remembered at setup).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "snake_case", try_from = "CondDoc")]
pub enum Cond {
    ImageExists(String),
    ImageAbsent(String),
    /// Both names resolve to the same image ID.
    SameImage(Vec<String>),
    /// A config field (`ExposedPorts`, `Cmd`, `User`, `Env`, `Labels`,
    /// `WorkingDir`, `Entrypoint`, `Volumes`, `Healthcheck`, `StopSignal`).
    Config(ConfigCond),
    /// A file in the image's root file system.
    File(FileCond),
    /// A file in the workspace whose content must equal what a template gives
    /// when rendered on the image's inspect object (an answer the learner
    /// produced with `--format`).
    Answer(AnswerCond),
    LayersAtMost {
        image: String,
        count: usize,
    },
    /// A registry holds the reference (a tag or a digest), asked through
    /// the same routing `docker pull` uses; with `image`, the pushed
    /// manifest's config is that local image.
    RegistryHas(RegistryCond),
    /// The registry container reached at this host (`localhost:5000`)
    /// runs with htpasswd authentication over a file it can read, and
    /// refuses anonymous requests.
    RegistryRequiresAuth(String),
    All(Vec<Cond>),
    Any(Vec<Cond>),
    Not(Box<Cond>),
}

/// How a condition is written: a map with exactly one of these keys (YAML
/// maps rather than tags, so authors write `image_exists: app:1.0`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CondDoc {
    image_exists: Option<String>,
    image_absent: Option<String>,
    same_image: Option<Vec<String>>,
    config: Option<ConfigCond>,
    file: Option<FileCond>,
    answer: Option<AnswerCond>,
    layers_at_most: Option<LayersCond>,
    registry_has: Option<RegistryCond>,
    registry_requires_auth: Option<String>,
    all: Option<Vec<Cond>>,
    any: Option<Vec<Cond>>,
    not: Option<Box<Cond>>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LayersCond {
    pub image: String,
    pub count: usize,
}

impl TryFrom<CondDoc> for Cond {
    type Error = String;
    fn try_from(d: CondDoc) -> Result<Cond, String> {
        let mut found: Vec<Cond> = Vec::new();
        if let Some(v) = d.image_exists {
            found.push(Cond::ImageExists(v));
        }
        if let Some(v) = d.image_absent {
            found.push(Cond::ImageAbsent(v));
        }
        if let Some(v) = d.same_image {
            found.push(Cond::SameImage(v));
        }
        if let Some(v) = d.config {
            found.push(Cond::Config(v));
        }
        if let Some(v) = d.file {
            found.push(Cond::File(v));
        }
        if let Some(v) = d.answer {
            found.push(Cond::Answer(v));
        }
        if let Some(v) = d.layers_at_most {
            found.push(Cond::LayersAtMost {
                image: v.image,
                count: v.count,
            });
        }
        if let Some(v) = d.registry_has {
            found.push(Cond::RegistryHas(v));
        }
        if let Some(v) = d.registry_requires_auth {
            found.push(Cond::RegistryRequiresAuth(v));
        }
        if let Some(v) = d.all {
            found.push(Cond::All(v));
        }
        if let Some(v) = d.any {
            found.push(Cond::Any(v));
        }
        if let Some(v) = d.not {
            found.push(Cond::Not(v));
        }
        match found.len() {
            1 => Ok(found.pop().expect("one")),
            0 => Err("a condition needs one of image_exists, image_absent, same_image, config, file, answer, layers_at_most, registry_has, registry_requires_auth, all, any, not".into()),
            _ => Err("a condition has exactly one key; combine several with all/any".into()),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryCond {
    /// `localhost:5000/app:1.0`, `student1/app` (Docker Hub).
    pub reference: String,
    /// A local image the pushed manifest's config must be.
    #[serde(default)]
    pub image: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigCond {
    pub image: String,
    pub field: String,
    #[serde(default)]
    pub equals: Option<serde_json::Value>,
    /// For lists and maps: the element or key that must be present; for
    /// strings: a substring.
    #[serde(default)]
    pub contains: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FileCond {
    pub image: String,
    pub path: String,
    #[serde(default = "yes")]
    pub exists: bool,
    /// Text the file must contain.
    #[serde(default)]
    pub contains: Option<String>,
    /// A workspace file whose bytes the image's file must equal.
    #[serde(default)]
    pub same_as_workspace: Option<String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerCond {
    pub path: String,
    pub image: String,
    pub template: String,
}

/// An error in an exercise file, naming the file, line and field.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct ExerciseError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Parses one exercise file and checks what the schema cannot.
pub fn parse(file: &str, text: &str) -> Result<Exercise, ExerciseError> {
    let ex: Exercise = serde_yaml::from_str(text).map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((0, 0));
        ExerciseError {
            file: file.to_string(),
            line,
            column,
            message: e.to_string(),
        }
    })?;
    let err = |field: &str, message: String| {
        let line = text
            .lines()
            .position(|l| l.trim_start().starts_with(&format!("{field}:")))
            .map(|i| i + 1)
            .unwrap_or(1);
        ExerciseError {
            file: file.to_string(),
            line,
            column: 1,
            message,
        }
    };
    if ex.checks.is_empty() {
        return Err(err(
            "checks",
            "checks: an exercise needs at least one check".into(),
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    for c in &ex.checks {
        if !seen.insert(c.id.clone()) {
            return Err(err(
                "checks",
                format!("checks: duplicate check id {:?}", c.id),
            ));
        }
    }
    for o in &ex.objectives {
        let ok = o
            .strip_prefix("2.")
            .and_then(|n| n.parse::<u32>().ok())
            .is_some_and(|n| (1..=17).contains(&n));
        if !ok {
            return Err(err(
                "objectives",
                format!("objectives: {o:?} is not one of 2.1 … 2.17"),
            ));
        }
    }
    if ex.solution.lines.is_empty() {
        return Err(err(
            "solution",
            "solution: the reference solution has no lines".into(),
        ));
    }
    Ok(ex)
}

/// The exercises shipped in `exercises/`, built into the binary.
pub fn builtin() -> Vec<Exercise> {
    const FILES: &[(&str, &str)] = &[
        (
            "exercises/nginx-static.yaml",
            include_str!("../../exercises/nginx-static.yaml"),
        ),
        (
            "exercises/tag-and-remove.yaml",
            include_str!("../../exercises/tag-and-remove.yaml"),
        ),
        (
            "exercises/inspect-format.yaml",
            include_str!("../../exercises/inspect-format.yaml"),
        ),
        (
            "exercises/push-local-registry.yaml",
            include_str!("../../exercises/push-local-registry.yaml"),
        ),
        (
            "exercises/registry-basic-auth.yaml",
            include_str!("../../exercises/registry-basic-auth.yaml"),
        ),
    ];
    FILES
        .iter()
        .map(|(f, t)| parse(f, t).unwrap_or_else(|e| panic!("built-in exercise is invalid: {e}")))
        .collect()
}

pub fn find(id: &str) -> Option<Exercise> {
    builtin().into_iter().find(|e| e.id == id)
}
