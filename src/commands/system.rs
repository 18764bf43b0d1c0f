//! `docker system df [-v] [--format]` and `docker system prune [-a]
//! [--volumes] [--filter] [-f]`. `df` counts what the daemon's disk-usage
//! call reports: the top-level images (ACTIVE: used by a container) against
//! the bytes of every layer in the store, containers by their writable
//! layers, volumes by their files, build cache by the layers only the cache
//! holds — and prices RECLAIMABLE as docker/cli's formatter does (images:
//! the total minus the unique size of active images). `prune` runs the
//! prunes in docker's order — stopped containers, volumes (`--volumes`,
//! anonymous ones only), images (dangling, or all unused with `-a`), build
//! cache — printing each section and one `Total reclaimed space`.

use super::prune::{PruneFilters, confirm, images_in_use, prune_images};
use crate::app::{Io, Session};
use crate::cli::{SystemDfArgs, SystemPruneArgs};
use crate::digest::Digest;
use crate::format::{human_size, human_size_with_precision};
use crate::layer::Kind;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// One top-level image as the disk-usage call lists it.
struct DuImage {
    id: Digest,
    refs: Vec<(String, String)>,
    created: String,
    size: u64,
    shared: u64,
    containers: usize,
}

struct DuContainer {
    c: crate::container::Container,
    size_rw: u64,
}

struct DuVolume {
    name: String,
    links: usize,
    size: u64,
}

struct Usage {
    images: Vec<DuImage>,
    layers_size: u64,
    containers: Vec<DuContainer>,
    volumes: Vec<DuVolume>,
    /// (record ID, size, shared with an image)
    cache: Vec<(String, u64, bool)>,
}

fn dir_size(p: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(p) else {
        return 0;
    };
    rd.flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            Ok(t) if t.is_file() => e.metadata().map(|m| m.len()).unwrap_or(0),
            _ => 0,
        })
        .sum()
}

fn usage(s: &Session) -> anyhow::Result<Usage> {
    let engine = s.engine()?;
    let idx = engine.index()?;
    let containers = super::container::store(s).list()?;
    let mut users: HashMap<&str, usize> = HashMap::new();
    for c in &containers {
        *users.entry(c.image_id.as_str()).or_default() += 1;
    }
    let (tags, digests) = idx.refs_by_image();
    let parents: HashSet<&Digest> = idx
        .images
        .values()
        .filter_map(|i| i.parent.as_ref())
        .collect();
    let bases: HashSet<&Digest> = idx.bases.values().collect();
    let mut sizes: HashMap<Digest, u64> = HashMap::new();
    let mut size_of = |d: &Digest| -> u64 {
        *sizes
            .entry(d.clone())
            .or_insert_with(|| engine.store.layer_size(d).unwrap_or(0))
    };
    let mut all_layers: HashSet<&Digest> = HashSet::new();
    for i in idx.images.values() {
        all_layers.extend(i.layers.iter());
    }
    let layers_size = all_layers.iter().map(|d| size_of(d)).sum();
    let top: Vec<(&Digest, &crate::store::ImageSummary)> = idx
        .images
        .iter()
        .filter(|(id, _)| {
            // Listed as `docker images` lists: no build's base, no intermediate.
            let refs = tags.contains_key(id) || digests.contains_key(id);
            refs || !(parents.contains(id) || bases.contains(id))
        })
        .collect();
    // A layer is shared when more than one listed image has it.
    let mut layer_users: HashMap<&Digest, usize> = HashMap::new();
    for (_, i) in &top {
        let uniq: HashSet<&Digest> = i.layers.iter().collect();
        for l in uniq {
            *layer_users.entry(l).or_default() += 1;
        }
    }
    let mut images = Vec::new();
    for (id, i) in &top {
        let uniq: HashSet<&Digest> = i.layers.iter().collect();
        let shared = uniq
            .iter()
            .filter(|l| layer_users[*l] > 1)
            .map(|l| size_of(l))
            .sum();
        let mut refs: Vec<(String, String)> = tags
            .get(id)
            .into_iter()
            .flatten()
            .filter_map(|t| crate::reference::Reference::parse(t).ok())
            .map(|r| {
                (
                    r.repository().familiar_string(),
                    r.tag().unwrap_or("latest").to_string(),
                )
            })
            .collect();
        if refs.is_empty() {
            refs.push(("<none>".into(), "<none>".into()));
        }
        images.push(DuImage {
            id: (*id).clone(),
            refs,
            created: i.created.clone(),
            size: i.size,
            shared,
            containers: users.get(id.to_string().as_str()).copied().unwrap_or(0),
        });
    }
    images.sort_by(|a, b| b.created.cmp(&a.created).then(a.id.cmp(&b.id)));
    let st = super::container::store(s);
    let mut du_containers = Vec::new();
    for c in containers.iter().rev() {
        let size_rw = st
            .rw(&c.id)
            .unwrap_or_default()
            .iter()
            .map(|e| match &e.kind {
                Kind::File(content) => content.len(),
                _ => 0,
            })
            .sum();
        du_containers.push(DuContainer {
            c: c.clone(),
            size_rw,
        });
    }
    let vols_dir = s.engine_home().join("volumes");
    let volumes = crate::container::volumes::Volumes::open(&s.engine_home())
        .list()?
        .into_iter()
        .map(|name| DuVolume {
            links: containers
                .iter()
                .filter(|c| c.host.mounts.iter().any(|m| m.name == name))
                .count(),
            size: dir_size(&vols_dir.join(&name)),
            name,
        })
        .collect();
    let used: HashSet<&Digest> = idx.images.values().flat_map(|i| i.layers.iter()).collect();
    let mut seen = HashSet::new();
    let mut cache = Vec::new();
    for (key, layer) in engine.store.build_cache_records() {
        if key.starts_with("legacy:") || !seen.insert(layer.clone()) {
            continue;
        }
        let size = size_of(&layer);
        cache.push((super::builder::record_id(&key), size, used.contains(&layer)));
    }
    Ok(Usage {
        images,
        layers_size,
        containers: du_containers,
        volumes,
        cache,
    })
}

fn with_pct(part: u64, total: u64) -> String {
    match (part * 100).checked_div(total) {
        Some(pct) => format!("{} ({pct}%)", human_size(part)),
        None => human_size(part),
    }
}

pub fn df(s: &mut Session, a: SystemDfArgs, io: &mut Io) -> anyhow::Result<i32> {
    if !a.args.is_empty() {
        return super::no_args(io, "docker system df", "docker system df [OPTIONS]");
    }
    let u = usage(s)?;
    if a.verbose {
        return verbose(&u, io);
    }
    let active_images = u.images.iter().filter(|i| i.containers > 0);
    let used: u64 = active_images
        .clone()
        .map(|i| i.size - i.shared.min(i.size))
        .sum();
    let reclaim_images = u.layers_size.saturating_sub(used);
    let running = |c: &DuContainer| c.c.running();
    let rw_total: u64 = u.containers.iter().map(|c| c.size_rw).sum();
    let rw_idle: u64 = u
        .containers
        .iter()
        .filter(|c| !running(c))
        .map(|c| c.size_rw)
        .sum();
    let vol_total: u64 = u.volumes.iter().map(|v| v.size).sum();
    let vol_idle: u64 = u
        .volumes
        .iter()
        .filter(|v| v.links == 0)
        .map(|v| v.size)
        .sum();
    let cache_size: u64 = u.cache.iter().filter(|c| !c.2).map(|c| c.1).sum();
    let rows = vec![
        json!({"Type": "Images", "TotalCount": u.images.len().to_string(),
            "Active": active_images.count().to_string(), "Size": human_size(u.layers_size),
            "Reclaimable": with_pct(reclaim_images, u.layers_size)}),
        json!({"Type": "Containers", "TotalCount": u.containers.len().to_string(),
            "Active": u.containers.iter().filter(|c| running(c)).count().to_string(),
            "Size": human_size(rw_total), "Reclaimable": with_pct(rw_idle, rw_total)}),
        json!({"Type": "Local Volumes", "TotalCount": u.volumes.len().to_string(),
            "Active": u.volumes.iter().filter(|v| v.links > 0).count().to_string(),
            "Size": human_size(vol_total), "Reclaimable": with_pct(vol_idle, vol_total)}),
        json!({"Type": "Build Cache", "TotalCount": u.cache.len().to_string(),
            "Active": "0", "Size": human_size(cache_size), "Reclaimable": human_size(cache_size)}),
    ];
    let fmt = match &a.format {
        Some(f) if !f.is_empty() && f != "table" => f.clone(),
        _ => "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}".into(),
    };
    let Some(t) = super::template(io, &fmt)? else {
        return Ok(1);
    };
    super::print_rows(
        io,
        &t,
        &[
            ("Type", "TYPE"),
            ("TotalCount", "TOTAL"),
            ("Active", "ACTIVE"),
            ("Size", "SIZE"),
            ("Reclaimable", "RECLAIMABLE"),
        ],
        &rows,
    )
}

fn table(io: &mut Io, fmt: &str, headers: &[(&str, &str)], rows: &[Value]) -> anyhow::Result<()> {
    let t = crate::format::Template::parse(fmt)?;
    super::print_rows(io, &t, headers, rows)?;
    Ok(())
}

/// `system df -v`: a section per kind, as docker/cli prints them.
fn verbose(u: &Usage, io: &mut Io) -> anyhow::Result<i32> {
    let now = crate::home::now();
    writeln!(io.out, "Images space usage:\n")?;
    let mut rows = Vec::new();
    for i in &u.images {
        let created = chrono::DateTime::parse_from_rfc3339(&i.created)
            .map(|t| t.with_timezone(&chrono::Utc))
            .unwrap_or_default();
        for (repo, tag) in &i.refs {
            rows.push(json!({
                "Repository": repo, "Tag": tag, "ID": i.id.short(),
                "CreatedSince": crate::format::created_since(created, now),
                "Size": human_size_with_precision(i.size, 3),
                "SharedSize": human_size_with_precision(i.shared, 3),
                "UniqueSize": human_size_with_precision(i.size.saturating_sub(i.shared), 3),
                "Containers": i.containers.to_string(),
            }));
        }
    }
    table(
        io,
        "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}",
        &[
            ("Repository", "REPOSITORY"),
            ("Tag", "TAG"),
            ("ID", "IMAGE ID"),
            ("CreatedSince", "CREATED"),
            ("Size", "SIZE"),
            ("SharedSize", "SHARED SIZE"),
            ("UniqueSize", "UNIQUE SIZE"),
            ("Containers", "CONTAINERS"),
        ],
        &rows,
    )?;
    writeln!(io.out, "\nContainers space usage:\n")?;
    let cnow = crate::container::runtime::now();
    let rows: Vec<Value> = u
        .containers
        .iter()
        .map(|d| {
            let c = &d.c;
            let mut cmd = c.command();
            if cmd.chars().count() > 20 {
                cmd = cmd.chars().take(19).collect::<String>() + "…";
            }
            let created = chrono::DateTime::from_timestamp(c.created, 0).unwrap_or_default();
            json!({
                "ID": c.short_id(), "Image": c.image, "Command": format!("{cmd:?}"),
                "LocalVolumes": c.host.mounts.len().to_string(),
                "Size": human_size_with_precision(d.size_rw, 3),
                "RunningFor": crate::format::created_since(
                    created, chrono::DateTime::from_timestamp(cnow, 0).unwrap_or_default()),
                "Status": super::ps::status_text(c, cnow),
                "Names": c.name,
            })
        })
        .collect();
    table(
        io,
        "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}",
        &[
            ("ID", "CONTAINER ID"),
            ("Image", "IMAGE"),
            ("Command", "COMMAND"),
            ("LocalVolumes", "LOCAL VOLUMES"),
            ("Size", "SIZE"),
            ("RunningFor", "CREATED"),
            ("Status", "STATUS"),
            ("Names", "NAMES"),
        ],
        &rows,
    )?;
    writeln!(io.out, "\nLocal Volumes space usage:\n")?;
    let rows: Vec<Value> = u
        .volumes
        .iter()
        .map(|v| {
            json!({"Name": v.name, "Links": v.links.to_string(),
                "Size": human_size_with_precision(v.size, 3)})
        })
        .collect();
    table(
        io,
        "table {{.Name}}\t{{.Links}}\t{{.Size}}",
        &[
            ("Name", "VOLUME NAME"),
            ("Links", "LINKS"),
            ("Size", "SIZE"),
        ],
        &rows,
    )?;
    let cache_size: u64 = u.cache.iter().filter(|c| !c.2).map(|c| c.1).sum();
    writeln!(io.out, "\nBuild cache usage: {}\n", human_size(cache_size))?;
    let rows: Vec<Value> = u
        .cache
        .iter()
        .map(|(id, size, shared)| {
            json!({"ID": id, "CacheType": "regular",
                "Size": human_size_with_precision(*size, 3),
                "CreatedSince": "", "LastUsedSince": "", "UsageCount": "1",
                "Shared": shared.to_string()})
        })
        .collect();
    table(
        io,
        "table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}",
        &[
            ("ID", "CACHE ID"),
            ("CacheType", "CACHE TYPE"),
            ("Size", "SIZE"),
            ("CreatedSince", "CREATED"),
            ("LastUsedSince", "LAST USED"),
            ("UsageCount", "USAGE"),
            ("Shared", "SHARED"),
        ],
        &rows,
    )?;
    Ok(0)
}

/// docker/cli's confirmation text for `system prune`.
fn warning(a: &SystemPruneArgs, filters: &[String]) -> String {
    let mut w = vec![
        "all stopped containers",
        "all networks not used by at least one container",
    ];
    if a.volumes {
        w.push("all anonymous volumes not used by at least one container");
    }
    w.push(if a.all {
        "all images without at least one container associated to them"
    } else {
        "all dangling images"
    });
    w.push(if a.all {
        "all build cache"
    } else {
        "unused build cache"
    });
    let mut out = String::from("WARNING! This will remove:");
    for x in w {
        out.push_str(&format!("\n  - {x}"));
    }
    out.push('\n');
    let mut shown: Vec<&String> = filters
        .iter()
        .filter(|f| f.starts_with("label=") || f.starts_with("label!=") || f.starts_with("until="))
        .collect();
    shown.sort();
    if !shown.is_empty() {
        out.push_str("\n  Items to be pruned will be filtered with:");
        for f in shown {
            out.push_str(&format!("\n  - {f}"));
        }
        out.push('\n');
    }
    out.push_str("\nAre you sure you want to continue?");
    out
}

/// An anonymous volume's name: 64 hex digits.
fn anonymous(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit())
}

pub fn prune(s: &mut Session, a: SystemPruneArgs, io: &mut Io) -> anyhow::Result<i32> {
    if !a.args.is_empty() {
        return super::no_args(io, "docker system prune", "docker system prune [OPTIONS]");
    }
    if a.volumes && a.filters.iter().any(|f| f.starts_with("until=")) {
        writeln!(
            io.err,
            "ERROR: The \"until\" filter is not supported with \"--volumes\""
        )?;
        return Ok(1);
    }
    let filters = match PruneFilters::parse(&a.filters, crate::home::now()) {
        Ok(f) => f,
        Err(e) => {
            writeln!(io.err, "Error response from daemon: {e}")?;
            return Ok(1);
        }
    };
    if !a.force && !confirm(s, io, &warning(&a, &a.filters))? {
        return Ok(0);
    }
    let mut reclaimed = 0u64;
    let removed = super::container::prune_stopped(s)?;
    if !removed.is_empty() {
        writeln!(io.out, "Deleted Containers:")?;
        for id in &removed {
            writeln!(io.out, "{id}")?;
        }
        writeln!(io.out)?;
    }
    if a.volumes {
        let vols = crate::container::volumes::Volumes::open(&s.engine_home());
        let containers = super::container::store(s).list()?;
        let dir = s.engine_home().join("volumes");
        let mut gone = Vec::new();
        for name in vols.list()? {
            let used = containers
                .iter()
                .any(|c| c.host.mounts.iter().any(|m| m.name == name));
            if anonymous(&name) && !used {
                reclaimed += dir_size(&dir.join(&name));
                vols.remove(&name)?;
                gone.push(name);
            }
        }
        if !gone.is_empty() {
            writeln!(io.out, "Deleted Volumes:")?;
            for n in &gone {
                writeln!(io.out, "{n}")?;
            }
            writeln!(io.out)?;
        }
    }
    let in_use = images_in_use(s)?;
    let engine = s.engine()?;
    let all = a.all || filters.dangling == Some(false);
    let pruned = prune_images(&engine, &in_use, all, &filters)?;
    reclaimed += pruned.reclaimed;
    let report = pruned.report();
    if !report.is_empty() {
        writeln!(io.out, "{report}")?;
    }
    let (gone, freed) = super::builder::prune_cache(&engine, a.all)?;
    reclaimed += freed;
    if !gone.is_empty() {
        writeln!(io.out, "Deleted build cache objects:")?;
        for id in &gone {
            writeln!(io.out, "{id}")?;
        }
        writeln!(io.out)?;
    }
    writeln!(io.out, "Total reclaimed space: {}", human_size(reclaimed))?;
    Ok(0)
}
