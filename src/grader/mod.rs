//! The grader: evaluates an exercise's checks against outcomes — the image
//! store, image configs and file systems, workspace answers — through the
//! same engine the commands use. It never reads what a command printed.

use crate::engine::{Engine, Image};
use crate::exercise::{Check, Cond, Exercise};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The result of one check.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub id: String,
    pub title: String,
    pub points: u32,
    pub earned: u32,
    pub passed: bool,
    /// The author's feedback for this outcome.
    pub feedback: Option<String>,
    /// What was actually found, when the check failed.
    pub found: Option<String>,
}

/// A graded attempt.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub exercise: String,
    pub title: String,
    pub score: u32,
    pub total: u32,
    pub objectives: Vec<String>,
    pub checks: Vec<CheckResult>,
}

impl Report {
    pub fn full_marks(&self) -> bool {
        self.score == self.total
    }
}

/// What a check's evaluation looks at.
pub struct Facts<'a> {
    pub engine: &'a Engine,
    pub workspace: &'a Path,
    pub remembered: &'a BTreeMap<String, String>,
}

/// Grades `ex` against the state behind `facts`.
pub fn grade(ex: &Exercise, facts: &Facts) -> Report {
    let checks: Vec<CheckResult> = ex.checks.iter().map(|c| run_check(c, facts)).collect();
    Report {
        exercise: ex.id.clone(),
        title: ex.title.clone(),
        score: checks.iter().map(|c| c.earned).sum(),
        total: checks.iter().map(|c| c.points).sum(),
        objectives: ex.objectives.clone(),
        checks,
    }
}

fn run_check(c: &Check, f: &Facts) -> CheckResult {
    let (passed, found) = match eval(&c.expect, f) {
        Ok(()) => (true, None),
        Err(why) => (false, Some(why)),
    };
    CheckResult {
        id: c.id.clone(),
        title: c.title.clone(),
        points: c.points,
        earned: if passed { c.points } else { 0 },
        passed,
        feedback: if passed {
            c.pass.clone()
        } else {
            c.fail.clone()
        },
        found,
    }
}

impl Facts<'_> {
    fn name<'n>(&'n self, n: &'n str) -> &'n str {
        match n.strip_prefix('$') {
            Some(k) => self.remembered.get(k).map(String::as_str).unwrap_or(n),
            None => n,
        }
    }

    fn image(&self, n: &str) -> Result<Image, String> {
        self.engine
            .lookup(self.name(n))
            .map_err(|_| format!("there is no image {n}"))
    }
}

/// Evaluates one condition on its own (for tests and tools): Ok when it
/// holds, else the nearest fact found.
pub fn check_cond(c: &Cond, f: &Facts) -> Result<(), String> {
    eval(c, f)
}

/// Ok when the condition holds; otherwise the nearest fact found.
fn eval(c: &Cond, f: &Facts) -> Result<(), String> {
    match c {
        Cond::ImageExists(n) => f.image(n).map(|_| ()),
        Cond::RegistryHas(rc) => registry_has(rc, f),
        Cond::RegistryRequiresAuth(host) => registry_requires_auth(host, f),
        Cond::ImageAbsent(n) => match f.image(n) {
            Ok(img) => Err(format!("{n} still exists (image {})", img.id.short())),
            Err(_) => Ok(()),
        },
        Cond::SameImage(names) => {
            let mut ids = Vec::new();
            for n in names {
                ids.push((n, f.image(n)?.id));
            }
            match ids.windows(2).find(|w| w[0].1 != w[1].1) {
                None => Ok(()),
                Some(w) => Err(format!(
                    "{} is {} but {} is {}",
                    w[0].0,
                    w[0].1.short(),
                    w[1].0,
                    w[1].1.short()
                )),
            }
        }
        Cond::Config(cc) => {
            let img = f.image(&cc.image)?;
            let v = &img.config["config"][&cc.field];
            if let Some(want) = &cc.equals
                && v != want
            {
                return Err(format!("{} has {} = {}", cc.image, cc.field, show(v)));
            }
            if let Some(want) = &cc.contains {
                let ok = match (v, want) {
                    (serde_json::Value::Array(a), w) => a.contains(w),
                    (serde_json::Value::Object(o), serde_json::Value::String(k)) => {
                        o.contains_key(k)
                    }
                    (serde_json::Value::String(s), serde_json::Value::String(w)) => {
                        s.contains(w.as_str())
                    }
                    _ => false,
                };
                if !ok {
                    return Err(format!("{} has {} = {}", cc.image, cc.field, show(v)));
                }
            }
            Ok(())
        }
        Cond::File(fc) => {
            let img = f.image(&fc.image)?;
            let fs = f
                .engine
                .rootfs(&crate::engine::diff_ids_of(&img.config))
                .map_err(|e| format!("cannot read the file system of {}: {e}", fc.image))?;
            let content = fs.read(&fc.path);
            match (fc.exists, &content) {
                (true, None) if !fs.is_dir(&fc.path) => {
                    return Err(format!("{} has no file {}", fc.image, fc.path));
                }
                (false, Some(_)) => return Err(format!("{} has a file {}", fc.image, fc.path)),
                _ => {}
            }
            if let Some(want) = &fc.contains {
                let text =
                    String::from_utf8_lossy(content.as_deref().unwrap_or_default()).to_string();
                if !text.contains(want.as_str()) {
                    return Err(format!(
                        "{} in {} does not contain {want:?}",
                        fc.path, fc.image
                    ));
                }
            }
            if let Some(ws) = &fc.same_as_workspace {
                let want = std::fs::read(f.workspace.join(ws))
                    .map_err(|_| format!("the workspace has no file {ws}"))?;
                if content.as_deref() != Some(&want[..]) {
                    return Err(format!(
                        "{} in {} differs from {ws} in the workspace",
                        fc.path, fc.image
                    ));
                }
            }
            Ok(())
        }
        Cond::Answer(a) => {
            let img = f.image(&a.image)?;
            let idx = f.engine.index().map_err(|e| e.to_string())?;
            let obj = crate::commands::inspect::inspect_json(f.engine, &idx, &img)
                .map_err(|e| e.to_string())?;
            let t = crate::format::Template::parse(&a.template)
                .map_err(|e| format!("the exercise's template is invalid: {e}"))?;
            let want = t.execute(&obj).map_err(|e| e.to_string())?;
            let got = std::fs::read_to_string(f.workspace.join(&a.path))
                .map_err(|_| format!("the workspace has no file {}", a.path))?;
            if got.trim_end_matches('\n') == want.trim_end_matches('\n') {
                Ok(())
            } else {
                Err(format!("{} holds {:?}", a.path, got.trim_end()))
            }
        }
        Cond::LayersAtMost { image, count } => {
            let img = f.image(image)?;
            let n = crate::engine::diff_ids_of(&img.config).len();
            if n <= *count {
                Ok(())
            } else {
                Err(format!("{image} has {n} layers"))
            }
        }
        Cond::All(cs) => cs.iter().try_for_each(|c| eval(c, f)),
        Cond::Any(cs) => {
            let mut why = Vec::new();
            for c in cs {
                match eval(c, f) {
                    Ok(()) => return Ok(()),
                    Err(e) => why.push(e),
                }
            }
            Err(why.join("; "))
        }
        Cond::Not(c) => match eval(c, f) {
            Ok(()) => Err("the opposite holds".into()),
            Err(_) => Ok(()),
        },
    }
}

fn show(v: &serde_json::Value) -> String {
    if v.is_null() {
        "nothing".into()
    } else {
        v.to_string()
    }
}

/// Whether the registry container at `host` enforces htpasswd auth.
fn registry_requires_auth(host: &str, f: &Facts) -> Result<(), String> {
    let port = host
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse::<u16>().ok());
    let c = port
        .and_then(|p| {
            crate::network::registry_container(&f.engine.home, p)
                .ok()
                .flatten()
        })
        .ok_or_else(|| format!("no registry container is running on {host}"))?;
    let Some(auth) = crate::network::container_auth(&f.engine.home, &c) else {
        return Err(format!(
            "the registry container {} runs without authentication (no REGISTRY_AUTH=htpasswd)",
            c.name
        ));
    };
    match &auth.file {
        Some(file) if file.users().next().is_some() => Ok(()),
        Some(_) => Err(format!("{} in {} has no users", auth.path, c.name)),
        None => Err(format!(
            "{} in {} is missing or not an htpasswd file",
            if auth.path.is_empty() {
                "REGISTRY_AUTH_HTPASSWD_PATH"
            } else {
                &auth.path
            },
            c.name
        )),
    }
}

/// Whether a registry holds a reference (and, if asked, which image).
fn registry_has(rc: &crate::exercise::RegistryCond, f: &Facts) -> Result<(), String> {
    use crate::registry::RefSpec;
    let name = f.name(&rc.reference);
    let r = crate::reference::Reference::parse(name)
        .map_err(|e| format!("{name} is not a reference: {e}"))?;
    let route = crate::network::route(&f.engine.home, r.domain())
        .map_err(|e| format!("no registry answers for {}: {e}", r.domain()))?;
    let spec = match (r.digest(), r.tag()) {
        (Some(d), _) => RefSpec::Digest(d.clone()),
        (None, t) => RefSpec::Tag(t.unwrap_or("latest").to_string()),
    };
    let platform = crate::engine::host_platform();
    let (_, m) =
        crate::distribution::resolve_manifest(route.registry.as_ref(), r.path(), &spec, &platform)
            .map_err(|e| format!("{} has no {name}: {e}", r.domain()))?;
    let Some(want) = &rc.image else {
        return Ok(());
    };
    let img = f.image(want)?;
    let v: serde_json::Value = serde_json::from_slice(&m.bytes).unwrap_or_default();
    let config = v["config"]["digest"].as_str().unwrap_or_default();
    if config == img.id.to_string() {
        Ok(())
    } else {
        Err(format!(
            "{name} in the registry is image {}, not {want} ({})",
            config
                .trim_start_matches("sha256:")
                .get(..12)
                .unwrap_or(config),
            img.id.short()
        ))
    }
}
