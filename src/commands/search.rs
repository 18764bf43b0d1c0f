//! `docker search TERM` over the simulated Docker Hub: the official images
//! and community repositories listed in `fixtures/hub.yaml`, plus the public
//! repositories learners pushed to the Hub in this home. Matching, ordering,
//! `--filter stars=N|is-official=BOOL|is-automated=BOOL`, `--limit`,
//! `--no-trunc` and `--format` as docker CLI 28 prints them.

use crate::app::{Io, Session};
use crate::cli::SearchArgs;
use crate::registry::Registry;
use serde_json::json;

#[derive(serde::Deserialize)]
struct HubListing {
    official: Vec<Listed>,
    community: Vec<Listed>,
}

#[derive(serde::Deserialize)]
struct Listed {
    name: String,
    stars: u64,
    description: String,
}

/// One search result.
struct Hit {
    name: String,
    description: String,
    stars: u64,
    official: bool,
}

fn listing() -> HubListing {
    serde_yaml::from_str(include_str!("../../fixtures/hub.yaml")).expect("fixtures/hub.yaml parses")
}

/// Go's `Ellipsis(s, 45)`: longer text is cut to 44 characters and `…`.
fn ellipsis(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

pub fn run(s: &mut Session, a: SearchArgs, io: &mut Io) -> anyhow::Result<i32> {
    if a.args.len() != 1 {
        return super::requires(
            io,
            "docker search",
            "exactly 1 argument.",
            "docker search [OPTIONS] TERM",
        );
    }
    let term = a.args[0].to_lowercase();
    let limit = a.limit.unwrap_or(25);
    if !(1..=100).contains(&limit) {
        writeln!(
            io.err,
            "Error response from daemon: limit {limit} is outside the range of [1, 100]"
        )?;
        return Ok(1);
    }
    let mut min_stars = 0u64;
    let mut official: Option<bool> = None;
    let mut automated: Option<bool> = None;
    for f in &a.filter {
        let Some((k, v)) = f.split_once('=') else {
            writeln!(io.err, "bad format of filter (expected name=value)")?;
            return Ok(1);
        };
        let bad = |io: &mut Io| -> anyhow::Result<i32> {
            writeln!(
                io.err,
                "Error response from daemon: invalid filter '{k}={v}'"
            )?;
            Ok(1)
        };
        match k {
            "stars" => match v.parse() {
                Ok(n) => min_stars = n,
                Err(_) => return bad(io),
            },
            "is-official" | "is-automated" => {
                let b = match v {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => return bad(io),
                };
                if k == "is-official" {
                    official = Some(b);
                } else {
                    automated = Some(b);
                }
            }
            _ => {
                writeln!(io.err, "Error response from daemon: invalid filter '{k}'")?;
                return Ok(1);
            }
        }
    }
    let l = listing();
    let mut hits: Vec<Hit> = l
        .official
        .into_iter()
        .map(|x| (x, true))
        .chain(l.community.into_iter().map(|x| (x, false)))
        .map(|(x, official)| Hit {
            name: x.name,
            description: x.description,
            stars: x.stars,
            official,
        })
        .collect();
    // Public repositories pushed to this home's Hub.
    let hub = crate::network::hub(&s.engine_home());
    let private = hub.private_repos();
    for repo in hub.catalog().unwrap_or_default() {
        if private.contains(&repo) || hits.iter().any(|h| h.name == repo) {
            continue;
        }
        hits.push(Hit {
            name: repo,
            description: String::new(),
            stars: 0,
            official: false,
        });
    }
    hits.retain(|h| {
        (h.name.contains(&term) || h.description.to_lowercase().contains(&term))
            && h.stars >= min_stars
            && official.is_none_or(|o| o == h.official)
            && automated != Some(true)
    });
    // The Hub ranks the exact name first, then official images, then stars.
    hits.sort_by(|x, y| {
        (y.name == term)
            .cmp(&(x.name == term))
            .then(y.official.cmp(&x.official))
            .then(y.stars.cmp(&x.stars))
            .then(x.name.cmp(&y.name))
    });
    hits.truncate(limit as usize);
    let format = a.format.clone().unwrap_or_else(|| {
        "table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}".into()
    });
    let Some(t) = super::template(io, &format)? else {
        return Ok(1);
    };
    let json_out = format.contains("json");
    let rows: Vec<serde_json::Value> = hits
        .iter()
        .map(|h| {
            let desc = h.description.replace(['\n', '\r'], " ");
            let desc = if a.no_trunc {
                desc
            } else {
                ellipsis(&desc, 45)
            };
            let flag = |b: bool| match (b, json_out) {
                (true, true) => "true",
                (true, false) => "[OK]",
                (false, true) => "false",
                (false, false) => "",
            };
            json!({
                "Name": h.name,
                "Description": desc,
                "StarCount": h.stars.to_string(),
                "IsOfficial": flag(h.official),
                "IsAutomated": flag(false),
            })
        })
        .collect();
    super::print_rows(
        io,
        &t,
        &[
            ("Name", "NAME"),
            ("Description", "DESCRIPTION"),
            ("StarCount", "STARS"),
            ("IsOfficial", "OFFICIAL"),
            ("IsAutomated", "AUTOMATED"),
        ],
        &rows,
    )
}
