//! `grade --exercise ID --script FILE [--json]`: runs a learner's transcript
//! in a fresh sandbox and grades it; exit 0 only on full marks.

use crate::app::{Io, Session};
use crate::exercise::{self, Exercise, Solution, state};
use crate::grader::{self, Facts, Report};
use std::path::Path;

pub fn run(
    s: &mut Session,
    id: &str,
    script: &Path,
    json: bool,
    io: &mut Io,
) -> anyhow::Result<i32> {
    let Some(ex) = exercise::find(id) else {
        return super::exercises::unknown(id, io);
    };
    let path = s.path(&script.to_string_lossy());
    let text = std::fs::read_to_string(&path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let attempt = Solution {
        files: Default::default(),
        lines: text.lines().map(String::from).collect(),
    };
    let report = grade_attempt(&ex, &attempt)?;
    if json {
        writeln!(io.out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        super::check::render(&report, io)?;
    }
    Ok(if report.full_marks() { 0 } else { 1 })
}

/// Grades an attempt (files, then lines) in a fresh temporary home.
pub fn grade_attempt(ex: &Exercise, attempt: &Solution) -> anyhow::Result<Report> {
    let tmp = tempfile::tempdir()?;
    let home = tmp.path();
    super::start::prepare(home, ex)?;
    let ws = exercise::workspace_dir(home, &ex.id);
    super::start::write_files(&ws, &attempt.files)?;
    let mut session = Session::new(home.to_path_buf(), ws.clone());
    session.confine = Some(ws.clone());
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut io = Io {
        out: &mut out,
        err: &mut err,
        tty: false,
    };
    for line in &attempt.lines {
        session.run_line(line, &mut io);
    }
    let st = state::load(home);
    let remembered = st
        .exercises
        .get(&ex.id)
        .map(|e| e.remembered.clone())
        .unwrap_or_default();
    let engine = session.engine()?;
    Ok(grader::grade(
        ex,
        &Facts {
            engine: &engine,
            workspace: &ws,
            remembered: &remembered,
        },
    ))
}
