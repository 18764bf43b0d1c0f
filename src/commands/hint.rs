//! `hint`: reveals the active exercise's hints one tier at a time.

use crate::app::{Io, Session};
use crate::exercise::{self, state};

pub fn run(s: &mut Session, io: &mut Io) -> anyhow::Result<i32> {
    let Some(id) = exercise::active(&s.home) else {
        writeln!(io.err, "error: no exercise is active")?;
        writeln!(io.err, "hint: `start ID` begins one")?;
        return Ok(1);
    };
    let ex = exercise::find(&id)
        .ok_or_else(|| anyhow::anyhow!("the active exercise {id:?} no longer exists"))?;
    let mut st = state::load(&s.home);
    let e = st.exercises.entry(id).or_default();
    if ex.hints.is_empty() {
        writeln!(io.out, "imagelab: this exercise has no hints")?;
        return Ok(0);
    }
    let n = (e.hints_revealed + 1).min(ex.hints.len());
    e.hints_revealed = n;
    state::save(&s.home, &st)?;
    for (i, h) in ex.hints.iter().take(n).enumerate() {
        writeln!(io.out, "hint {}/{}: {h}", i + 1, ex.hints.len())?;
    }
    Ok(0)
}
