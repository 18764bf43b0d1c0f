//! The build context: the files of the folder given to `docker build`, read
//! once, with `.dockerignore` applied, confined to the folder (paths never
//! climb out; symlinks are kept as links, never followed out of it).

use crate::builder::ignore::Matcher;
use crate::digest::Digest;
use crate::layer::{Content, clean_path};
use sha2::{Digest as _, Sha256};
use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// One file of the context.
#[derive(Clone, Debug)]
pub enum CtxKind {
    File(Content),
    Dir,
    Symlink(String),
}

#[derive(Clone, Debug)]
pub struct CtxEntry {
    pub kind: CtxKind,
    pub mode: u32,
}

/// The context as read from disk: relative path → entry.
#[derive(Debug, Default)]
pub struct Context {
    pub root: PathBuf,
    pub entries: BTreeMap<String, CtxEntry>,
    /// Bytes of the context that were read (docker's `transferring context`).
    pub transferred: u64,
    pub ignore_file_size: u64,
}

impl Context {
    /// Reads `root` recursively, skipping what `.dockerignore` excludes (the
    /// Dockerfile and `.dockerignore` themselves are always sent, as docker does).
    pub fn load(root: &Path, ignore_text: Option<&str>) -> io::Result<Context> {
        let matcher = Matcher::new(ignore_text.unwrap_or(""));
        let mut ctx = Context {
            root: root.to_path_buf(),
            ignore_file_size: ignore_text.map(|t| t.len() as u64).unwrap_or(0),
            ..Default::default()
        };
        walk(root, "", &matcher, &mut ctx)?;
        Ok(ctx)
    }

    /// The entries matching a COPY source pattern (after cleaning it into
    /// the context): exact path, or a glob with `*`, `?`, `[...]`.
    pub fn matches(&self, pattern: &str) -> Vec<String> {
        let p = clean_path(pattern);
        if p.is_empty() {
            return vec![String::new()];
        }
        if !p.contains(['*', '?', '[']) {
            return if self.entries.contains_key(&p) {
                vec![p]
            } else {
                vec![]
            };
        }
        self.entries
            .keys()
            .filter(|k| {
                k.split('/').count() == p.split('/').count()
                    && crate::builder::ignore::glob_match(&p, k)
            })
            .cloned()
            .collect()
    }

    /// The entries under `dir` (relative to it), for copying a directory's contents.
    pub fn under<'a>(&'a self, dir: &'a str) -> impl Iterator<Item = (&'a str, &'a CtxEntry)> + 'a {
        self.entries.iter().filter_map(move |(k, v)| {
            if dir.is_empty() {
                Some((k.as_str(), v))
            } else {
                k.strip_prefix(dir)
                    .and_then(|r| r.strip_prefix('/'))
                    .map(|r| (r, v))
            }
        })
    }

    /// A checksum over the named paths and everything under them: the cache
    /// key component of COPY sources.
    pub fn checksum(&self, paths: &[String]) -> Digest {
        let mut h = Sha256::new();
        for p in paths {
            for (k, v) in self.under(p).chain(self.entries.get(p).map(|e| ("", e))) {
                h.update(p.as_bytes());
                h.update(b"/");
                h.update(k.as_bytes());
                h.update(v.mode.to_le_bytes());
                match &v.kind {
                    CtxKind::File(c) => h.update(c.to_vec()),
                    CtxKind::Dir => h.update(b"dir"),
                    CtxKind::Symlink(t) => h.update(t.as_bytes()),
                }
            }
        }
        Digest::parse(&format!("sha256:{}", hex::encode(h.finalize()))).expect("hex digest")
    }
}

fn walk(dir: &Path, rel: &str, m: &Matcher, ctx: &mut Context) -> io::Result<()> {
    let mut names: Vec<_> = fs::read_dir(dir)?.collect::<io::Result<Vec<_>>>()?;
    names.sort_by_key(|e| e.file_name());
    for e in names {
        let name = e.file_name().to_string_lossy().to_string();
        let path = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        let meta = fs::symlink_metadata(e.path())?;
        let excluded = m.excludes(&path);
        if meta.is_dir() {
            // A directory is walked even when excluded, because an exception
            // (`!dir/keep`) may re-include something below it.
            let before = ctx.entries.len();
            if !excluded || m.has_exceptions() {
                walk(&e.path(), &path, m, ctx)?;
            }
            // An excluded directory still exists as the parent of anything
            // an exception re-included below it.
            if !excluded || ctx.entries.len() > before {
                let mode = meta.permissions().mode() & 0o7777;
                ctx.entries.insert(
                    path.clone(),
                    CtxEntry {
                        kind: CtxKind::Dir,
                        mode,
                    },
                );
            }
            continue;
        }
        if excluded {
            continue;
        }
        let mode = meta.permissions().mode() & 0o7777;
        let kind = if meta.file_type().is_symlink() {
            CtxKind::Symlink(fs::read_link(e.path())?.to_string_lossy().to_string())
        } else if meta.is_file() {
            let bytes = fs::read(e.path())?;
            ctx.transferred += bytes.len() as u64;
            CtxKind::File(Content::bytes(bytes))
        } else {
            continue; // sockets, fifos and devices are not sent
        };
        ctx.entries.insert(path, CtxEntry { kind, mode });
    }
    Ok(())
}
