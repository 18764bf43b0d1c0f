//! The build context: the files of the folder given to `docker build`, read
//! once, with `.dockerignore` applied, confined to the folder (paths never
//! climb out; symlinks are kept as links, never followed out of it).

use crate::builder::ignore::{IgnoreError, MatchInfo, Matcher};
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

/// Why the context could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    #[error(transparent)]
    Io(#[from] io::Error),
    /// The `.dockerignore` is unreadable or one of its patterns is invalid;
    /// its text is docker's.
    #[error(transparent)]
    Ignore(#[from] IgnoreError),
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
    /// Reads `root` recursively, skipping what `.dockerignore` excludes, as
    /// BuildKit's context transfer does. Its patterns apply to the Dockerfile
    /// and `.dockerignore` too: BuildKit reads those separately, so excluding
    /// them only keeps them out of `COPY`.
    pub fn load(root: &Path, ignore_text: Option<&str>) -> Result<Context, ContextError> {
        let matcher = Matcher::new(ignore_text.unwrap_or(""))?;
        let mut ctx = Context {
            root: root.to_path_buf(),
            ignore_file_size: ignore_text.map(|t| t.len() as u64).unwrap_or(0),
            ..Default::default()
        };
        walk(root, "", &matcher, &MatchInfo::default(), false, &mut ctx)?;
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

/// fsutil's filtered walk: each entry is matched with its directory's
/// results; an excluded directory is entered only when an exception could
/// re-include something below it (an unreadable one is then skipped), and
/// is sent only as the parent of what was re-included.
fn walk(
    dir: &Path,
    rel: &str,
    m: &Matcher,
    parent: &MatchInfo,
    excluded: bool,
    ctx: &mut Context,
) -> Result<(), ContextError> {
    let read = fs::read_dir(dir).and_then(|d| d.collect::<io::Result<Vec<_>>>());
    let mut names = match read {
        Err(e) if excluded && e.kind() == io::ErrorKind::PermissionDenied => return Ok(()),
        r => r?,
    };
    names.sort_by_key(|e| e.file_name());
    for e in names {
        let name = e.file_name().to_string_lossy().to_string();
        let path = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        let (excluded, info) = m.excludes_in(&path, parent)?;
        let meta = fs::symlink_metadata(e.path())?;
        if meta.is_dir() {
            let before = ctx.entries.len();
            if !excluded || m.walks_excluded_dir(&path) {
                walk(&e.path(), &path, m, &info, excluded, ctx)?;
            }
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
