//! `start ID`: a fresh sandbox (image store and workspace) for the exercise,
//! its files written, its setup lines run, the IDs it remembers recorded.

use crate::app::{Io, Session};
use crate::exercise::{self, Exercise, state};
use std::path::Path;

pub fn run(s: &mut Session, id: &str, io: &mut Io) -> anyhow::Result<i32> {
    let Some(ex) = exercise::find(id) else {
        return super::exercises::unknown(id, io);
    };
    prepare(&s.home, &ex)?;
    let ws = exercise::workspace_dir(&s.home, id);
    if s.interactive {
        s.cwd = ws.clone();
        s.confine = Some(ws.clone());
    }
    super::exercises::show(&ex, io)?;
    writeln!(
        io.out,
        "\nimagelab: workspace {} — `check` grades, `hint` helps.",
        ws.display()
    )?;
    Ok(0)
}

/// Makes the exercise's sandbox fresh under `home` and makes it active.
pub fn prepare(home: &Path, ex: &Exercise) -> anyhow::Result<()> {
    let sandbox = exercise::sandbox_dir(home, &ex.id);
    if sandbox.exists() {
        std::fs::remove_dir_all(&sandbox)?;
    }
    let ws = exercise::workspace_dir(home, &ex.id);
    std::fs::create_dir_all(&ws)?;
    write_files(&ws, &ex.files)?;
    let mut st = state::load(home);
    st.active = Some(ex.id.clone());
    let e = st.exercises.entry(ex.id.clone()).or_default();
    e.hints_revealed = 0;
    e.remembered.clear();
    state::save(home, &st)?;
    // Setup lines run quietly in the sandbox.
    let mut setup = Session::new(home.to_path_buf(), ws.clone());
    setup.confine = Some(ws);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut sink = Io {
        out: &mut out,
        err: &mut err,
        tty: false,
    };
    for line in &ex.setup {
        let code = setup.run_line(line, &mut sink);
        if code != 0 {
            anyhow::bail!(
                "setup line {line:?} of exercise {} failed: {}",
                ex.id,
                String::from_utf8_lossy(&err).trim()
            );
        }
    }
    let engine = setup.engine()?;
    let idx = engine.index()?;
    let mut remembered = std::collections::BTreeMap::new();
    for (k, name) in &ex.remember {
        let id = idx
            .resolve(name)
            .map_err(|e| anyhow::anyhow!("exercise {}: remember {k}: {e}", ex.id))?;
        remembered.insert(k.clone(), id.to_string());
    }
    let mut st = state::load(home);
    st.exercises.entry(ex.id.clone()).or_default().remembered = remembered;
    state::save(home, &st)?;
    Ok(())
}

/// Writes exercise files into a workspace, refusing paths that leave it.
pub fn write_files(
    ws: &Path,
    files: &std::collections::BTreeMap<String, String>,
) -> anyhow::Result<()> {
    for (name, content) in files {
        let rel = crate::layer::clean_path(name);
        if rel.is_empty() || name.split('/').any(|c| c == "..") {
            anyhow::bail!("exercise file {name:?} would be written outside the workspace");
        }
        let p = ws.join(&rel);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d)?;
        }
        std::fs::write(&p, content)?;
    }
    Ok(())
}
