//! `docker builder prune`: removes build cache records, as BuildKit's
//! prune does — without `-a` only the dangling ones (layers no image uses),
//! with `-a` all of them — and frees the layers nothing else holds. The
//! classic builder's cache is its intermediate images, which this leaves
//! alone, as docker does.

use crate::app::{Io, Session};
use crate::cli::BuilderPruneArgs;
use crate::digest::Digest;
use std::collections::HashSet;
use std::io::BufRead;

pub fn prune(s: &mut Session, a: BuilderPruneArgs, io: &mut Io) -> anyhow::Result<i32> {
    if !a.args.is_empty() {
        return super::no_args(io, "docker builder prune", "docker builder prune");
    }
    if !a.force {
        let what = if a.all {
            "all build cache"
        } else {
            "all dangling build cache"
        };
        write!(
            io.out,
            "WARNING! This will remove {what}. Are you sure you want to continue? [y/N] "
        )?;
        io.out.flush()?;
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y") {
            return Ok(0);
        }
    }
    let engine = s.engine()?;
    let (gone, reclaimed) = prune_cache(&engine, a.all)?;
    if !gone.is_empty() {
        writeln!(io.out, "Deleted build cache objects:")?;
        for id in &gone {
            writeln!(io.out, "{id}")?;
        }
        writeln!(io.out)?;
    }
    writeln!(
        io.out,
        "Total reclaimed space: {}",
        crate::format::human_size(reclaimed)
    )?;
    Ok(0)
}

/// Removes build cache records (all, or the dangling ones) and frees the
/// layers nothing else holds: the record IDs gone and the bytes freed.
/// `docker builder prune` and `docker system prune` share it.
pub fn prune_cache(
    engine: &crate::engine::Engine,
    all: bool,
) -> anyhow::Result<(Vec<String>, u64)> {
    let idx = engine.index()?;
    let used: HashSet<&Digest> = idx.images.values().flat_map(|i| i.layers.iter()).collect();
    let gone = engine.store.prune_build_cache(&|key, layer| {
        !key.starts_with("legacy:") && (all || !used.contains(layer))
    })?;
    let left: HashSet<Digest> = engine.store.build_cache_records().into_values().collect();
    let mut freed: Vec<Digest> = Vec::new();
    let mut reclaimed = 0;
    for (_, layer) in &gone {
        if !used.contains(layer) && !left.contains(layer) && !freed.contains(layer) {
            reclaimed += engine.store.layer_meta(layer).map(|m| m.size).unwrap_or(0);
            freed.push(layer.clone());
        }
    }
    engine.store.collect_garbage(&idx, &[], &freed);
    Ok((gone.iter().map(|(k, _)| record_id(k)).collect(), reclaimed))
}

/// A BuildKit-style record ID (25 characters of base 36) for a cache key.
pub fn record_id(key: &str) -> String {
    let d = Digest::of(key.as_bytes());
    let mut n = u128::from_str_radix(&d.hex()[..32], 16).expect("hex");
    let mut out = String::new();
    for _ in 0..25 {
        let c = (n % 36) as u32;
        out.push(char::from_digit(c, 36).expect("base 36"));
        n /= 36;
    }
    out
}
