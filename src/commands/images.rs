//! `docker images` / `docker image ls`: the classic table, `-q`, `-a`,
//! `--digests`, `--no-trunc`, `--filter`, `--format`, and `--tree` (Docker
//! 29's view: one entry per image, its platforms below it). The store keeps
//! one platform per image, so an entry's platforms are its own plus the
//! other platforms pulled under the same tag (the images a containerd store
//! would keep in one index).

use crate::app::{Io, Session};
use crate::cli::ImagesArgs;
use crate::digest::Digest;
use crate::format;
use crate::reference::Reference;
use crate::store::{ImageSummary, Index};

/// One row of the listing.
struct Row<'a> {
    id: Digest,
    repository: String,
    tag: String,
    digest: String,
    summary: &'a ImageSummary,
}

pub fn run(s: &mut Session, a: ImagesArgs, io: &mut Io) -> anyhow::Result<i32> {
    if a.args.len() > 1 {
        return super::requires(
            io,
            "docker images",
            "at most 1 argument.",
            "docker images [OPTIONS] [REPOSITORY[:TAG]]",
        );
    }
    let engine = s.engine()?;
    let idx = engine.index()?;
    let filters = match Filters::parse(&a.filters, &idx) {
        Ok(f) => f,
        Err(msg) => {
            writeln!(io.err, "Error response from daemon: {msg}")?;
            return Ok(1);
        }
    };
    let mut rows = rows(&idx, a.all, a.args.first().map(String::as_str), &filters);
    // Newest first, as the daemon returns them.
    rows.sort_by(|x, y| {
        y.summary
            .created
            .cmp(&x.summary.created)
            .then(x.id.cmp(&y.id))
    });
    if a.tree {
        return tree(s, &a, io, &idx, &rows);
    }
    let now = crate::home::now();
    if a.quiet {
        // docker/cli renders `{{.ID}}` once per row: an image with several
        // tags prints its ID once per tag (podman prints each ID once).
        let mut text = String::new();
        for r in &rows {
            if a.no_trunc {
                text.push_str(&r.id.to_string());
            } else {
                text.push_str(&r.id.short());
            }
            text.push('\n');
        }
        io.out.write_all(text.as_bytes())?;
        return Ok(0);
    }
    let fmt = match &a.format {
        Some(f) if !f.is_empty() => f.clone(),
        _ if a.digests => {
            "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
                .into()
        }
        _ => "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}".into(),
    };
    let Some(t) = super::template(io, &fmt)? else {
        return Ok(1);
    };
    // Only the placeholders the template uses are computed (sizes, times
    // and names cost more than the rest of a listing).
    let data: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let mut o = serde_json::Map::new();
            let mut put = |k: &str, v: &dyn Fn() -> String| {
                if t.uses(k) {
                    o.insert(k.to_string(), serde_json::Value::String(v()));
                }
            };
            let created = || {
                chrono::DateTime::parse_from_rfc3339(&r.summary.created)
                    .map(|t| t.with_timezone(&chrono::Utc))
                    .unwrap_or_default()
            };
            put("Containers", &|| "N/A".into());
            put("CreatedAt", &|| {
                created().format("%Y-%m-%d %H:%M:%S +0000 UTC").to_string()
            });
            put("CreatedSince", &|| format::created_since(created(), now));
            put("Digest", &|| r.digest.clone());
            put("ID", &|| {
                if a.no_trunc {
                    r.id.to_string()
                } else {
                    r.id.short()
                }
            });
            put("Repository", &|| r.repository.clone());
            put("SharedSize", &|| "N/A".into());
            put("Size", &|| {
                format::human_size_with_precision(r.summary.size, 3)
            });
            put("Tag", &|| r.tag.clone());
            put("UniqueSize", &|| "N/A".into());
            put("VirtualSize", &|| {
                format::human_size_with_precision(r.summary.size, 3)
            });
            serde_json::Value::Object(o)
        })
        .collect();
    let headers = [
        ("Repository", "REPOSITORY"),
        ("Tag", "TAG"),
        ("Digest", "DIGEST"),
        ("ID", "IMAGE ID"),
        ("CreatedSince", "CREATED"),
        ("CreatedAt", "CREATED AT"),
        ("Size", "SIZE"),
        ("Containers", "CONTAINERS"),
        ("SharedSize", "SHARED SIZE"),
        ("UniqueSize", "UNIQUE SIZE"),
        ("VirtualSize", "SIZE"),
    ];
    super::print_rows(io, &t, &headers, &data)
}

/// `--tree`: docker/cli refuses the flags the tree cannot show, in this
/// order, then lists one entry per image with its platform rows.
fn tree(
    s: &mut Session,
    a: &ImagesArgs,
    io: &mut Io,
    idx: &Index,
    rows: &[Row],
) -> anyhow::Result<i32> {
    let refused = [
        (a.quiet, "--quiet"),
        (a.no_trunc, "--no-trunc"),
        (a.digests, "--show-digest"),
        (a.format.is_some(), "--format"),
    ];
    if let Some((_, flag)) = refused.iter().find(|(on, _)| *on) {
        writeln!(io.err, "{flag} is not yet supported with --tree")?;
        return Ok(1);
    }
    let used: std::collections::HashSet<String> = super::container::store(s)
        .list()?
        .into_iter()
        .map(|c| c.image_id)
        .collect();
    // Rows come newest first; one entry per image, in that order.
    let mut order: Vec<&Digest> = Vec::new();
    let mut names: std::collections::HashMap<&Digest, Vec<String>> = Default::default();
    for r in rows {
        if !order.contains(&&r.id) {
            order.push(&r.id);
        }
        let n = names.entry(&r.id).or_default();
        if r.tag != "<none>" {
            n.push(format!("{}:{}", r.repository, r.tag));
        }
    }
    // Other platforms pulled under an entry's tags hang below it and are
    // not entries of their own while they have no tag.
    let mut folded: std::collections::HashSet<&Digest> = Default::default();
    let mut platforms: std::collections::HashMap<&Digest, Vec<&Digest>> = Default::default();
    for id in &order {
        let mut ids = vec![*id];
        for t in idx.tags_of(id) {
            for (key, other) in &idx.bases {
                if key.rsplit_once('@').is_some_and(|(r, _)| r == t)
                    && !ids.contains(&other)
                    && idx.images.contains_key(other)
                    && idx.tags_of(other).is_empty()
                {
                    ids.push(other);
                    folded.insert(other);
                }
            }
        }
        ids.sort_by(|x, y| idx.images[*x].platform.cmp(&idx.images[*y].platform));
        platforms.insert(id, ids);
    }
    let size = |id: &Digest| format::human_size_with_precision(idx.images[id].size, 3);
    let mut images = Vec::new();
    for id in order {
        if folded.contains(id) && names[id].is_empty() {
            continue;
        }
        let children: Vec<format::tree::TreePlatform> = platforms[id]
            .iter()
            .map(|p| format::tree::TreePlatform {
                platform: idx.images[*p].platform.clone(),
                details: format::tree::TreeDetails {
                    id: p.to_string(),
                    disk_usage: size(p),
                    content_size: size(p),
                    in_use: used.contains(&p.to_string()),
                },
            })
            .collect();
        let total: u64 = platforms[id].iter().map(|p| idx.images[*p].size).sum();
        images.push(format::tree::TreeImage {
            names: names[id].clone(),
            details: format::tree::TreeDetails {
                id: id.to_string(),
                disk_usage: format::human_size_with_precision(total, 3),
                content_size: format::human_size_with_precision(total, 3),
                in_use: children.iter().any(|c| c.details.in_use),
            },
            children,
        });
    }
    if io.tty {
        writeln!(io.out, "{}", format::tree::LEGEND)?;
    }
    write!(io.out, "{}", format::tree::render(&images, 80))?;
    Ok(0)
}

fn rows<'a>(idx: &'a Index, all: bool, repo_arg: Option<&str>, filters: &Filters) -> Vec<Row<'a>> {
    let mut rows = Vec::new();
    let (tags_by, digests_by) = idx.refs_by_image();
    let parents: std::collections::HashSet<&Digest> = idx
        .images
        .values()
        .filter_map(|s| s.parent.as_ref())
        .collect();
    let bases: std::collections::HashSet<&Digest> = idx.bases.values().collect();
    for (id, summary) in &idx.images {
        let tags: Vec<String> = tags_by
            .get(id)
            .map(|v| v.iter().map(|s| s.to_string()).collect())
            .unwrap_or_default();
        let digests: Vec<String> = digests_by
            .get(id)
            .map(|v| v.iter().map(|s| s.to_string()).collect())
            .unwrap_or_default();
        // Base images materialized by a build's FROM are not listed (BuildKit
        // keeps them out of `docker images`), nor are intermediate images
        // without -a.
        let is_untagged_base = tags.is_empty() && digests.is_empty() && bases.contains(id);
        let has_children = parents.contains(id);
        if tags.is_empty() && digests.is_empty() && (is_untagged_base || (has_children && !all)) {
            continue;
        }
        if !filters.keep(summary, &tags, &digests, has_children) {
            continue;
        }
        let mut out: Vec<Row> = Vec::new();
        for t in &tags {
            // Index keys are canonical (`docker.io/library/nginx:alpine`):
            // split them without a full parse.
            let Some((name, tag)) = crate::reference::split_canonical_tag(t) else {
                continue;
            };
            let digest = digests
                .iter()
                .find_map(|d| {
                    d.split_once('@')
                        .filter(|(n, _)| *n == name)
                        .map(|(_, d)| d.to_string())
                })
                .unwrap_or_else(|| "<none>".into());
            out.push(Row {
                id: id.clone(),
                repository: crate::reference::familiar_of_name(name).to_string(),
                tag: tag.to_string(),
                digest,
                summary,
            });
        }
        {
            // A repository known only by digest (pulled by digest, or its
            // tag moved on) shows with tag <none>, as docker lists it.
            let tagged: Vec<&str> = tags
                .iter()
                .filter_map(|t| crate::reference::split_canonical_tag(t).map(|(n, _)| n))
                .collect();
            for d in &digests {
                if d.split_once('@').is_some_and(|(n, _)| tagged.contains(&n)) {
                    continue;
                }
                if let Ok(r) = Reference::parse(d) {
                    out.push(Row {
                        id: id.clone(),
                        repository: r.familiar_name(),
                        tag: "<none>".into(),
                        digest: r.digest().map(|x| x.to_string()).unwrap_or_default(),
                        summary,
                    });
                }
            }
        }
        if out.is_empty() {
            out.push(Row {
                id: id.clone(),
                repository: "<none>".into(),
                tag: "<none>".into(),
                digest: "<none>".into(),
                summary,
            });
        }
        if let Some(arg) = repo_arg {
            out.retain(|r| matches_repo_arg(arg, &r.repository, &r.tag));
        }
        out.retain(|r| filters.keep_reference(&r.repository, &r.tag));
        rows.extend(out);
    }
    rows
}

/// `docker images REPOSITORY[:TAG]`: exact repository (familiar or full),
/// optional tag.
fn matches_repo_arg(arg: &str, repo: &str, tag: &str) -> bool {
    let Ok(r) = Reference::parse(arg) else {
        return false;
    };
    let Ok(row) = Reference::parse(repo) else {
        return false;
    };
    r.name() == row.name() && r.tag().is_none_or(|t| t == tag)
}

/// The `--filter` conditions: keys AND together, repeated keys OR.
#[derive(Default)]
struct Filters {
    dangling: Option<bool>,
    labels: Vec<(String, Option<String>)>,
    before: Option<String>,
    since: Option<String>,
    references: Vec<String>,
}

impl Filters {
    fn parse(raw: &[String], idx: &Index) -> Result<Filters, String> {
        let mut f = Filters::default();
        for r in raw {
            let Some((k, v)) = r.split_once('=') else {
                return Err("bad format of filter (expected name=value)".to_string());
            };
            match k {
                "dangling" => match v {
                    "true" | "1" => f.dangling = Some(true),
                    "false" | "0" => f.dangling = Some(false),
                    _ => return Err(format!("Invalid filter 'dangling={v}'")),
                },
                "label" => f.labels.push(match v.split_once('=') {
                    Some((a, b)) => (a.to_string(), Some(b.to_string())),
                    None => (v.to_string(), None),
                }),
                "before" | "since" => {
                    let id = idx.resolve(v).map_err(|_| format!("No such image: {v}"))?;
                    let created = idx.images[&id].created.clone();
                    if k == "before" {
                        f.before = Some(created)
                    } else {
                        f.since = Some(created)
                    }
                }
                "reference" => f.references.push(v.to_string()),
                _ => return Err(format!("invalid filter '{k}'")),
            }
        }
        Ok(f)
    }

    /// moby's per-image conditions. `dangling=true` takes only heads (no
    /// child image) without a tag; `dangling=false` drops images with no
    /// reference at all, so one known only by digest stays in both.
    fn keep(
        &self,
        s: &ImageSummary,
        tags: &[String],
        digests: &[String],
        has_children: bool,
    ) -> bool {
        match self.dangling {
            Some(true) if !tags.is_empty() || has_children => return false,
            Some(false) if tags.is_empty() && digests.is_empty() => return false,
            _ => {}
        }
        for (k, v) in &self.labels {
            match (s.labels.get(k), v) {
                (None, _) => return false,
                (Some(have), Some(want)) if have != want => return false,
                _ => {}
            }
        }
        if let Some(b) = &self.before
            && s.created >= *b
        {
            return false;
        }
        if let Some(b) = &self.since
            && s.created <= *b
        {
            return false;
        }
        true
    }

    /// distribution's `FamiliarMatch`: the pattern against `repo:tag`, else
    /// against `repo`, both familiar. An image with no reference is never
    /// selected by a `reference` filter.
    fn keep_reference(&self, repo: &str, tag: &str) -> bool {
        if self.references.is_empty() {
            return true;
        }
        if repo == "<none>" {
            return false;
        }
        let full = format!("{repo}:{tag}");
        self.references.iter().any(|p| {
            crate::builder::ignore::glob_match(p, &full)
                || crate::builder::ignore::glob_match(p, repo)
        })
    }
}
