//! `docker image prune [-a] [-f] [--filter]`: removes unused images by
//! moby's rules (`daemon/images/image_prune.go`). Without `-a` only the
//! dangling heads go (no tag, no child); with `-a` every image no container
//! uses. An untagged image with children (a build's intermediate) is never
//! a candidate itself; it goes when the image above it goes. Each removal is
//! an ordinary non-forced `rmi`, so anything in a conflict (a container, a
//! child) is silently kept, as docker keeps it. The filters (`until=`,
//! `label=`, `label!=`) and the printed report are shared with `docker
//! system prune`.

use crate::app::{Io, Session};
use crate::cli::ImagePruneArgs;
use crate::digest::Digest;
use crate::engine::{Engine, Removed};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap, HashSet};

/// The filters a prune takes: `until`, `label`, `label!` (moby accepts
/// these and `dangling`, which the CLI sets from `-a`).
#[derive(Debug, Default, Clone)]
pub struct PruneFilters {
    pub until: Option<DateTime<Utc>>,
    /// `dangling=false` asks for what `-a` does.
    pub dangling: Option<bool>,
    pub labels: Vec<(String, Option<String>)>,
    pub not_labels: Vec<(String, Option<String>)>,
}

impl PruneFilters {
    /// Parses `--filter` values; the error is the daemon's text.
    pub fn parse(raw: &[String], now: DateTime<Utc>) -> Result<PruneFilters, String> {
        let mut f = PruneFilters::default();
        let mut untils = 0;
        for r in raw {
            let Some((k, v)) = r.split_once('=') else {
                return Err(format!("bad format of filter (expected name=value): {r}"));
            };
            let kv = |v: &str| match v.split_once('=') {
                Some((a, b)) => (a.to_string(), Some(b.to_string())),
                None => (v.to_string(), None),
            };
            match k {
                "until" => {
                    untils += 1;
                    if untils > 1 {
                        return Err("more than one until filter specified".into());
                    }
                    f.until = Some(parse_until(v, now).ok_or_else(|| {
                        format!(
                            "invalid value for 'until' filter: failed to parse value as time or duration: {v:?}"
                        )
                    })?);
                }
                "dangling" => {
                    f.dangling = Some(match v.to_ascii_lowercase().as_str() {
                        "1" | "true" => true,
                        "0" | "false" => false,
                        _ => return Err(format!("invalid filter 'dangling={v}'")),
                    })
                }
                "label" => f.labels.push(kv(v)),
                "label!" => f.not_labels.push(kv(v)),
                _ => return Err(format!("invalid filter '{k}'")),
            }
        }
        Ok(f)
    }

    /// Whether an image created at `created` with `labels` is a candidate.
    pub fn keep(&self, created: &str, labels: &BTreeMap<String, String>) -> bool {
        if let Some(until) = self.until {
            match DateTime::parse_from_rfc3339(created) {
                Ok(c) if c.with_timezone(&Utc) <= until => {}
                _ => return false,
            }
        }
        let has = |(k, v): &(String, Option<String>)| match (labels.get(k), v) {
            (None, _) => false,
            (Some(have), Some(want)) => have == want,
            (Some(_), None) => true,
        };
        if !self.labels.iter().all(has) {
            return false;
        }
        !self.not_labels.iter().any(has)
    }
}

/// moby's `timestamp.GetTimestamp`: a Go duration before `now` (`24h`,
/// `1h30m`), RFC 3339 (with or without zone), a date, or Unix seconds.
pub fn parse_until(v: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if let Some(ns) = crate::dockerfile::go_duration_nanos(v) {
        return Some(now - chrono::Duration::nanoseconds(ns));
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Some(t.with_timezone(&Utc));
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(v, f) {
            return Some(t.and_utc());
        }
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    }
    if let Some((secs, frac)) = v.split_once('.').or(Some((v, "")))
        && !secs.is_empty()
        && secs.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
    {
        let s: i64 = secs.parse().ok()?;
        let nanos: u32 = format!("{frac:0<9}")[..9].parse().ok()?;
        return DateTime::from_timestamp(s, nanos);
    }
    None
}

/// What one prune of images removed: docker's report lines in order and the
/// bytes of the layers it released.
#[derive(Debug, Default)]
pub struct ImagesPruned {
    pub events: Vec<Removed>,
    pub reclaimed: u64,
}

impl ImagesPruned {
    /// The CLI's report: `Deleted Images:` and one `untagged:` / `deleted:`
    /// line each, or nothing.
    pub fn report(&self) -> String {
        if self.events.is_empty() {
            return String::new();
        }
        let mut out = String::from("Deleted Images:\n");
        for e in &self.events {
            match e {
                Removed::Untagged(r) => out.push_str(&format!("untagged: {r}\n")),
                Removed::Deleted(d) => out.push_str(&format!("deleted: {d}\n")),
            }
        }
        out
    }
}

/// The daemon's half of an image prune.
pub fn prune_images(
    engine: &Engine,
    in_use: &HashSet<String>,
    all: bool,
    filters: &PruneFilters,
) -> anyhow::Result<ImagesPruned> {
    let idx = engine.index()?;
    // Chain ID → (diff ID, size), priced before the layers go.
    let mut chains: HashMap<Digest, (Digest, u64)> = HashMap::new();
    for s in idx.images.values() {
        for (c, d) in crate::engine::chain_ids(&s.layers)
            .into_iter()
            .zip(&s.layers)
        {
            chains
                .entry(c)
                .or_insert_with(|| (d.clone(), engine.store.layer_size(d).unwrap_or(0)));
        }
    }
    let (tags, digests) = idx.refs_by_image();
    let has_children: HashSet<&Digest> = idx
        .images
        .values()
        .filter_map(|s| s.parent.as_ref())
        .collect();
    // A base image a build's FROM materialized is BuildKit's, not an image.
    let bases: HashSet<&Digest> = idx.bases.values().collect();
    let mut candidates = Vec::new();
    for (id, s) in &idx.images {
        let refs = tags.get(id).map_or(0, |v| v.len()) + digests.get(id).map_or(0, |v| v.len());
        if refs == 0 && bases.contains(id) {
            continue;
        }
        let child = has_children.contains(id);
        if !all && child {
            continue; // not a head
        }
        if refs == 0 && child {
            continue; // an intermediate image
        }
        if !filters.keep(&s.created, &s.labels) {
            continue;
        }
        candidates.push(id.clone());
    }
    let mut out = ImagesPruned::default();
    for id in candidates {
        let idx = engine.index()?;
        if !idx.images.contains_key(&id) {
            continue; // went with an image pruned before it
        }
        // A container's image conflicts with a non-forced delete.
        if in_use.contains(&id.to_string()) {
            continue;
        }
        let tag_refs = idx.tags_of(&id);
        let digest_refs = idx.digests_of(&id);
        let names: Vec<String> = if tag_refs.is_empty() && digest_refs.is_empty() {
            vec![id.hex().to_string()]
        } else if all || tag_refs.is_empty() {
            tag_refs.into_iter().chain(digest_refs).collect()
        } else {
            continue; // tagged: not dangling
        };
        for name in names {
            if let Ok(events) = engine.remove(&name, false, true) {
                out.events.extend(events);
            }
        }
    }
    let mut priced = HashSet::new();
    for e in &out.events {
        if let Removed::Deleted(d) = e
            && let Some((diff, size)) = chains.get(d)
            && priced.insert(diff.clone())
        {
            out.reclaimed += size;
        }
    }
    Ok(out)
}

/// The image IDs any container (running or not) was created from.
pub fn images_in_use(s: &Session) -> anyhow::Result<HashSet<String>> {
    Ok(super::container::store(s)
        .list()?
        .into_iter()
        .map(|c| c.image_id)
        .collect())
}

/// Asks docker's question; true when the answer is `y`.
pub fn confirm(s: &mut Session, io: &mut Io, warning: &str) -> anyhow::Result<bool> {
    write!(io.out, "{warning} [y/N] ")?;
    io.out.flush()?;
    let answer = s.read_stdin().unwrap_or_default();
    let yes = String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .eq_ignore_ascii_case("y");
    if !yes {
        writeln!(io.out)?;
    }
    Ok(yes)
}

pub fn run(s: &mut Session, a: ImagePruneArgs, io: &mut Io) -> anyhow::Result<i32> {
    if !a.args.is_empty() {
        return super::no_args(io, "docker image prune", "docker image prune [OPTIONS]");
    }
    let filters = match PruneFilters::parse(&a.filters, crate::home::now()) {
        Ok(f) => f,
        Err(e) => {
            writeln!(io.err, "Error response from daemon: {e}")?;
            return Ok(1);
        }
    };
    if !a.force {
        let warning = if a.all {
            "WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue?"
        } else {
            "WARNING! This will remove all dangling images.\nAre you sure you want to continue?"
        };
        if !confirm(s, io, warning)? {
            return Ok(0);
        }
    }
    let in_use = images_in_use(s)?;
    let engine = s.engine()?;
    let all = a.all || filters.dangling == Some(false);
    let pruned = prune_images(&engine, &in_use, all, &filters)?;
    let report = pruned.report();
    if !report.is_empty() {
        writeln!(io.out, "{report}")?;
    }
    writeln!(
        io.out,
        "Total reclaimed space: {}",
        crate::format::human_size(pruned.reclaimed)
    )?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn until_takes_durations_timestamps_dates_and_unix_seconds() {
        let t = |v| parse_until(v, now()).map(|t| t.to_rfc3339());
        assert_eq!(t("24h").unwrap(), "2026-10-31T12:00:00+00:00");
        assert_eq!(t("1h30m").unwrap(), "2026-11-01T10:30:00+00:00");
        assert_eq!(t("2024-01-02").unwrap(), "2024-01-02T00:00:00+00:00");
        assert_eq!(
            t("2024-01-02T03:04:05Z").unwrap(),
            "2024-01-02T03:04:05+00:00"
        );
        assert_eq!(t("1700000000").unwrap(), "2023-11-14T22:13:20+00:00");
        assert_eq!(t("1700000000.5").unwrap(), "2023-11-14T22:13:20.500+00:00");
        assert_eq!(t("yesterday"), None);
        assert_eq!(t(""), None);
    }

    #[test]
    fn filters_parse_as_the_daemon_validates_them() {
        let p = |v: &[&str]| {
            PruneFilters::parse(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>(), now())
        };
        assert_eq!(p(&["dangling=true"]).unwrap().dangling, Some(true));
        assert_eq!(
            p(&["dangling=no"]).unwrap_err(),
            "invalid filter 'dangling=no'"
        );
        assert_eq!(p(&["foo=bar"]).unwrap_err(), "invalid filter 'foo'");
        assert_eq!(
            p(&["until=1h", "until=2h"]).unwrap_err(),
            "more than one until filter specified"
        );
        assert!(
            p(&["until=soon"])
                .unwrap_err()
                .starts_with("invalid value for 'until'")
        );
        let f = p(&["label=keep", "label!=tier=db"]).unwrap();
        let mut l = BTreeMap::new();
        assert!(!f.keep("2024-01-01T00:00:00Z", &l));
        l.insert("keep".to_string(), "x".to_string());
        assert!(f.keep("2024-01-01T00:00:00Z", &l));
        l.insert("tier".to_string(), "db".to_string());
        assert!(!f.keep("2024-01-01T00:00:00Z", &l));
        let f = p(&["until=2024-06-01"]).unwrap();
        assert!(f.keep("2024-01-01T00:00:00Z", &BTreeMap::new()));
        assert!(!f.keep("2024-07-01T00:00:00Z", &BTreeMap::new()));
    }
}
