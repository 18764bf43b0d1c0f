//! `check [--json]`: grades the active exercise and records the best score.

use crate::app::{Io, Session};
use crate::exercise::{self, state};
use crate::grader::{self, Facts, Report};

pub fn run(s: &mut Session, json: bool, io: &mut Io) -> anyhow::Result<i32> {
    let Some(id) = exercise::active(&s.home) else {
        writeln!(io.err, "error: no exercise is active")?;
        writeln!(
            io.err,
            "hint: `exercises` lists them, `start ID` begins one"
        )?;
        return Ok(1);
    };
    let ex = exercise::find(&id)
        .ok_or_else(|| anyhow::anyhow!("the active exercise {id:?} no longer exists"))?;
    let mut st = state::load(&s.home);
    let remembered = st
        .exercises
        .get(&id)
        .map(|e| e.remembered.clone())
        .unwrap_or_default();
    let engine = s.engine()?;
    let ws = exercise::workspace_dir(&s.home, &id);
    let report = grader::grade(
        &ex,
        &Facts {
            engine: &engine,
            workspace: &ws,
            remembered: &remembered,
        },
    );
    let e = st.exercises.entry(id).or_default();
    e.checks_run += 1;
    e.total = report.total;
    e.best_score = Some(e.best_score.unwrap_or(0).max(report.score));
    state::save(&s.home, &st)?;
    if json {
        writeln!(io.out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        render(&report, io)?;
    }
    Ok(if report.full_marks() { 0 } else { 1 })
}

/// The readable report (imagelab's own words, never docker's).
pub fn render(r: &Report, io: &mut Io) -> std::io::Result<()> {
    writeln!(
        io.out,
        "imagelab check: {} — {}/{} points",
        r.exercise, r.score, r.total
    )?;
    for c in &r.checks {
        let mark = if c.passed { "PASS" } else { "FAIL" };
        writeln!(io.out, "  {mark} [{}/{}] {}", c.earned, c.points, c.title)?;
        if let Some(found) = &c.found {
            writeln!(io.out, "       found: {found}")?;
        }
        if let Some(fb) = &c.feedback {
            writeln!(io.out, "       {fb}")?;
        }
    }
    if r.full_marks() {
        writeln!(
            io.out,
            "All checks pass. Objectives practised: {}",
            r.objectives.join(", ")
        )?;
    }
    Ok(())
}
