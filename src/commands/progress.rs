//! `progress`: best score per exercise and per objective.

use crate::app::{Io, Session};
use crate::exercise::{self, state};
use std::collections::BTreeMap;

pub fn run(s: &mut Session, io: &mut Io) -> anyhow::Result<i32> {
    let st = state::load(&s.home);
    let mut per_objective: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    writeln!(io.out, "{:<18} {:>6}  {:>6}", "EXERCISE", "BEST", "CHECKS")?;
    for ex in exercise::builtin() {
        let e = st.exercises.get(&ex.id);
        let total: u32 = ex.checks.iter().map(|c| c.points).sum();
        let best = e.and_then(|e| e.best_score);
        writeln!(
            io.out,
            "{:<18} {:>6}  {:>6}",
            ex.id,
            best.map(|b| format!("{b}/{total}"))
                .unwrap_or_else(|| "-".into()),
            e.map(|e| e.checks_run).unwrap_or(0)
        )?;
        for o in &ex.objectives {
            let p = per_objective.entry(o.clone()).or_default();
            p.0 += best.unwrap_or(0);
            p.1 += total;
        }
    }
    writeln!(io.out, "\n{:<10} {:>8}", "OBJECTIVE", "SCORE")?;
    let mut objs: Vec<_> = per_objective.into_iter().collect();
    objs.sort_by_key(|(o, _)| o.trim_start_matches("2.").parse::<u32>().unwrap_or(0));
    for (o, (got, total)) in objs {
        writeln!(io.out, "{o:<10} {:>8}", format!("{got}/{total}"))?;
    }
    Ok(0)
}
