//! `exercises [list|show ID|validate [DIR]]`.

use crate::app::{Io, Session};
use crate::cli::ExercisesCmd;
use crate::exercise::{self, Exercise, state};

pub fn run(s: &mut Session, cmd: Option<ExercisesCmd>, io: &mut Io) -> anyhow::Result<i32> {
    match cmd.unwrap_or(ExercisesCmd::List) {
        ExercisesCmd::List => list(s, io),
        ExercisesCmd::Show { id } => match exercise::find(&id) {
            Some(ex) => {
                show(&ex, io)?;
                Ok(0)
            }
            None => unknown(&id, io),
        },
        ExercisesCmd::Validate { dir } => validate(s, dir, io),
    }
}

pub fn unknown(id: &str, io: &mut Io) -> anyhow::Result<i32> {
    writeln!(io.err, "error: no exercise {id:?}")?;
    writeln!(io.err, "hint: `exercises` lists them")?;
    Ok(1)
}

fn list(s: &Session, io: &mut Io) -> anyhow::Result<i32> {
    let st = state::load(&s.home);
    writeln!(
        io.out,
        "{:<18} {:<13} {:<12} {:<8} TITLE",
        "ID", "OBJECTIVES", "LEVEL", "STATUS"
    )?;
    for ex in exercise::builtin() {
        let status = match st.exercises.get(&ex.id) {
            Some(e) if e.best_score.is_some_and(|b| b == e.total && e.total > 0) => {
                "done".to_string()
            }
            Some(e) if e.best_score.is_some() => {
                format!("{}/{}", e.best_score.unwrap_or(0), e.total)
            }
            _ if st.active.as_deref() == Some(&ex.id) => "started".into(),
            _ => "-".into(),
        };
        writeln!(
            io.out,
            "{:<18} {:<13} {:<12} {:<8} {}",
            ex.id,
            ex.objectives.join(","),
            ex.level,
            status,
            ex.title
        )?;
    }
    Ok(0)
}

pub fn show(ex: &Exercise, io: &mut Io) -> std::io::Result<()> {
    writeln!(io.out, "# {} ({})\n", ex.title, ex.id)?;
    writeln!(
        io.out,
        "Objectives: {}   Level: {}   About {} minutes\n",
        ex.objectives.join(", "),
        ex.level,
        ex.minutes
    )?;
    write!(io.out, "{}", ex.prompt)?;
    if !ex.prompt.ends_with('\n') {
        writeln!(io.out)?;
    }
    let total: u32 = ex.checks.iter().map(|c| c.points).sum();
    writeln!(io.out, "\nGraded on ({total} points):")?;
    for c in &ex.checks {
        writeln!(io.out, "  [{}] {}", c.points, c.title)?;
    }
    Ok(())
}

/// Proves each exercise: it parses, its reference solution scores full marks
/// in a fresh sandbox, and a blank attempt does not.
fn validate(s: &Session, dir: Option<std::path::PathBuf>, io: &mut Io) -> anyhow::Result<i32> {
    let exercises: Vec<Exercise> = match dir {
        None => exercise::builtin(),
        Some(d) => {
            let d = s.path(&d.to_string_lossy());
            let mut out = Vec::new();
            let mut entries: Vec<_> = std::fs::read_dir(&d)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", d.display()))?
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
                .collect();
            entries.sort();
            for p in entries {
                let text = std::fs::read_to_string(&p)?;
                match exercise::parse(&p.display().to_string(), &text) {
                    Ok(ex) => out.push(ex),
                    Err(e) => {
                        writeln!(io.err, "error: {e}")?;
                        return Ok(1);
                    }
                }
            }
            out
        }
    };
    let mut code = 0;
    for ex in &exercises {
        let solved = super::grade::grade_attempt(
            ex,
            &crate::exercise::Solution {
                files: ex.solution.files.clone(),
                lines: ex.solution.lines.clone(),
            },
        )?;
        let blank = super::grade::grade_attempt(ex, &Default::default())?;
        let ok = solved.full_marks() && !blank.full_marks();
        writeln!(
            io.out,
            "{} {}: solution {}/{}, blank attempt {}/{}",
            if ok { "ok  " } else { "FAIL" },
            ex.id,
            solved.score,
            solved.total,
            blank.score,
            blank.total
        )?;
        if !ok {
            code = 1;
        }
    }
    Ok(code)
}
