//! The learner's progress in the home: `lab.json` (active exercise, hints
//! revealed, remembered IDs, best scores), and where each exercise's sandbox
//! (its own image store and workspace) lives.

use crate::home;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct LabState {
    #[serde(default)]
    pub active: Option<String>,
    #[serde(default)]
    pub exercises: BTreeMap<String, ExerciseState>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct ExerciseState {
    #[serde(default)]
    pub hints_revealed: usize,
    #[serde(default)]
    pub remembered: BTreeMap<String, String>,
    #[serde(default)]
    pub best_score: Option<u32>,
    #[serde(default)]
    pub total: u32,
    #[serde(default)]
    pub checks_run: u32,
}

fn path(home: &Path) -> PathBuf {
    home.join("lab.json")
}

pub fn load(home: &Path) -> LabState {
    std::fs::read(path(home))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

pub fn save(home_dir: &Path, s: &LabState) -> std::io::Result<()> {
    let _l = home::Lock::exclusive(home_dir)?;
    home::write_atomic(
        &path(home_dir),
        &serde_json::to_vec_pretty(s).expect("state serializes"),
    )
}

/// The active exercise, if any.
pub fn active(home: &Path) -> Option<String> {
    load(home).active
}

/// The sandbox of an exercise: its own engine home (store) and workspace.
pub fn sandbox_dir(home: &Path, id: &str) -> PathBuf {
    home.join("exercises").join(id)
}

pub fn workspace_dir(home: &Path, id: &str) -> PathBuf {
    sandbox_dir(home, id).join("workspace")
}
