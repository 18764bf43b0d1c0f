//! `docker history` / `docker image history`: one row per history entry,
//! newest first. The IMAGE column walks the parent chain as moby does: the
//! n-th row names the n-th image up the chain (the intermediate images of a
//! classic build), `<missing>` past its end.

use crate::app::{Io, Session};
use crate::cli::HistoryArgs;
use crate::format;
use serde_json::json;

pub fn run(s: &mut Session, a: HistoryArgs, io: &mut Io) -> anyhow::Result<i32> {
    if a.args.len() != 1 {
        return super::requires(
            io,
            "docker history",
            "exactly 1 argument.",
            "docker history [OPTIONS] IMAGE",
        );
    }
    let engine = s.engine()?;
    let img = match engine.lookup(&a.args[0]) {
        Ok(i) => i,
        Err(crate::engine::EngineError::Resolve(e)) => {
            writeln!(io.err, "Error response from daemon: {e}")?;
            return Ok(1);
        }
        Err(e) => return Err(e.into()),
    };
    let human = a.human != "false";
    let diff_ids = crate::engine::diff_ids_of(&img.config);
    let mut sizes = Vec::new();
    for d in &diff_ids {
        sizes.push(engine.store.layer_size(d)?);
    }
    let history = img.config["history"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let now = crate::home::now();
    let mut layer_i = 0;
    let mut rows = Vec::new();
    for h in &history {
        let empty = h["empty_layer"].as_bool().unwrap_or(false);
        let size = if empty {
            0
        } else {
            let s = sizes.get(layer_i).copied().unwrap_or(0);
            layer_i += 1;
            s
        };
        rows.push((h.clone(), size));
    }
    rows.reverse();
    let idx = engine.index()?;
    let mut chain = vec![img.id.clone()];
    while let Some(p) = idx
        .images
        .get(chain.last().expect("non-empty"))
        .and_then(|s| s.parent.clone())
        .filter(|p| !chain.contains(p))
    {
        chain.push(p);
    }
    let mut data = Vec::new();
    for (i, (h, size)) in rows.iter().enumerate() {
        let id = match chain.get(i) {
            Some(id) if a.no_trunc => id.to_string(),
            Some(id) => id.short(),
            None => "<missing>".to_string(),
        };
        let created = chrono::DateTime::parse_from_rfc3339(h["created"].as_str().unwrap_or(""))
            .map(|t| t.with_timezone(&chrono::Utc))
            .unwrap_or_default();
        let created_by = h["created_by"].as_str().unwrap_or("").replace('\t', " ");
        let created_by = if a.no_trunc {
            created_by
        } else {
            ellipsis(&created_by, 45)
        };
        data.push(json!({
            "ID": id,
            "CreatedSince": if human { format::created_since(created, now) } else { created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true) },
            "CreatedAt": created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "CreatedBy": created_by,
            "Size": if human { format::human_size_with_precision(*size, 3) } else { size.to_string() },
            "Comment": h["comment"].as_str().unwrap_or(""),
        }));
    }
    if a.quiet {
        for d in &data {
            writeln!(io.out, "{}", d["ID"].as_str().unwrap_or(""))?;
        }
        return Ok(0);
    }
    let fmt = match &a.format {
        Some(f) if !f.is_empty() => f.clone(),
        _ if human => {
            "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}".into()
        }
        _ => "table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}".into(),
    };
    let Some(t) = super::template(io, &fmt)? else {
        return Ok(1);
    };
    let headers = [
        ("ID", "IMAGE"),
        ("CreatedSince", "CREATED"),
        ("CreatedAt", "CREATED AT"),
        ("CreatedBy", "CREATED BY"),
        ("Size", "SIZE"),
        ("Comment", "COMMENT"),
    ];
    super::print_rows(io, &t, &headers, &data)
}

/// docker's `stringutils.Ellipsis`: at most `max` display characters, the
/// last being `…` when cut.
pub fn ellipsis(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}
